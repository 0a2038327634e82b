/* SPDX-License-Identifier: MIT */
/* What every command shares: its exit codes and the outputs a person asked for. */
#ifndef PORTEX_CMD_COMMAND_H
#define PORTEX_CMD_COMMAND_H

/* The exit status of every command. */
enum px_exit {
    PX_EXIT_OK = 0,            /* done */
    PX_EXIT_FAILED = 1,        /* a runtime failure: cannot reach, cannot write, cannot start */
    PX_EXIT_USAGE = 2,         /* bad input: the reason was printed on one line */
    PX_EXIT_INTERRUPTED = 130, /* stopped by SIGINT or SIGTERM (128 + SIGINT, as a shell) */
};

/* The machine outputs and the live line of one command. */
struct px_outputs {
    const char *json; /* --json FILE, "-" = stdout; NULL: none */
    const char *csv;  /* --csv FILE */
    const char *svg;  /* --svg FILE */
    const char *hlog; /* --hlog FILE (run and compare) */
    int quiet;        /* -q: no live line or progress on stderr */
};

#endif
