/* SPDX-License-Identifier: MIT */
/*
 * What every command shares: its exit codes, the outputs a person asked for,
 * and its row in main.c's table (struct px_command), which main() runs through
 * one lifecycle.
 */
#ifndef PORTEX_CMD_COMMAND_H
#define PORTEX_CMD_COMMAND_H

#include <stddef.h>
#include <stdio.h>

struct px_hlog;

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
    unsigned scrapers; /* --metrics: fds its scrapers may hold (set at prepare); 0 without */
};

/* Where one report goes. */
enum px_output {
    PX_OUTPUT_TEXT, /* for a person: stdout, or stderr when a machine output takes stdout */
    PX_OUTPUT_JSON, /* --json */
    PX_OUTPUT_CSV,  /* --csv */
    PX_OUTPUT_SVG,  /* --svg */
};

/* One report of a command: where it goes and what writes it from the command's state. */
struct px_report {
    enum px_output output;
    void (*write)(FILE *f, const void *state);
};

/*
 * One command, a row of main.c's table. main() runs every command the same
 * way: parse (--help: exit 0; bad input: exit 2), prepare, open the outputs
 * (before the work, so that a bad path costs nothing), run, the reports in
 * the order given (each machine output only when asked for), what comes after
 * them, free. The exit
 * code is run's status, except that a failed output makes it 1.
 */
struct px_command {
    const char *name;     /* portex NAME */
    const char *operands; /* after the name in portex --help: "URL", "[URL]", "FILE...", "" */
    const char *summary;  /* the line in portex --help */
    int waits_for_stop;   /* takes SIGINT/SIGTERM in its own waits (base/stop.h); 0: they end it */
    size_t state_size;    /* the command's state (config, results): zeroed before parse */
    /* argv (argv[0] is the name) into the state: a PX_CLI_ status, err on PX_CLI_USAGE. */
    int (*parse)(void *state, int argc, char **argv, char *err, size_t errlen);
    /* The outputs asked for; NULL when the command has none. */
    const struct px_outputs *(*outputs)(const void *state);
    /* Optional, before the outputs open: PX_EXIT_OK, or the exit code with the message printed. */
    enum px_exit (*prepare)(void *state);
    /*
     * The work; hlog is the opened --hlog or NULL. 0 when there is something to
     * report: *status is the exit code (PX_EXIT_INTERRUPTED: a signal cut it
     * short and what ran is reported). -1 when nothing ran: the reason in err,
     * *status the exit code.
     */
    int (*run)(void *state, struct px_hlog *hlog, enum px_exit *status, char *err, size_t errlen);
    const struct px_report *reports; /* in the order written */
    size_t nreports;
    /* Optional, after the reports when run returned 0: what outlasts them (the
     * --metrics linger, which serves the final values until scraped). */
    void (*after_reports)(void *state);
    /* Frees what parse and run allocated, not the state itself; called after every parse
     * (NULL: nothing to free). */
    void (*free)(void *state);
};

/* The number of rows of a table (an array, not a pointer). */
#define PX_NELEMS(a) (sizeof(a) / sizeof((a)[0]))

#endif
