/* SPDX-License-Identifier: MIT */
/*
 * portex entry point: the table of commands and the one lifecycle every
 * command goes through, from argv to the exit code (enum px_exit). Each
 * command's options, flow and reports are in its own file (cmd/<command>.c).
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "portex/base/stop.h"
#include "portex/cmd/cli.h"
#include "portex/cmd/command.h"
#include "portex/cmd/compare.h"
#include "portex/cmd/doctor.h"
#include "portex/cmd/lab.h"
#include "portex/cmd/merge.h"
#include "portex/cmd/ramp.h"
#include "portex/cmd/run.h"
#include "portex/cmd/serve.h"
#include "portex/cmd/watch.h"
#include "portex/report/hlog.h"
#include "portex/report/outfile.h"

/* Every command, in the order of portex --help. A new command is a row here and its own file. */
static const struct px_command *const commands[] = {
    &px_run_command,    &px_serve_command, &px_compare_command, &px_lab_command,
    &px_doctor_command, &px_merge_command, &px_ramp_command,    &px_watch_command,
};

/* portex --help: the commands come from the table. */
static void usage(FILE *f)
{
    fputs("usage: portex COMMAND [options]\n"
          "\n"
          "A short-connection HTTP load generator that shows ephemeral port exhaustion.\n"
          "\n",
          f);
    for (size_t i = 0; i < PX_NELEMS(commands); i++) {
        char synopsis[64];
        snprintf(synopsis, sizeof(synopsis), "%s%s%s", commands[i]->name,
                 commands[i]->operands[0] ? " " : "", commands[i]->operands);
        fprintf(f, "  %-14s %s\n", synopsis, commands[i]->summary);
    }
    fputs("\nportex COMMAND --help for the options of each command.\n", f);
}

/* "run, serve, ... or ramp" for the message on an unknown command. */
static void unknown_command(const char *name)
{
    fprintf(stderr, "portex: unknown command '%s': expected ", name);
    for (size_t i = 0; i < PX_NELEMS(commands); i++)
        fprintf(stderr, "%s%s",
                i == 0                        ? ""
                : i + 1 < PX_NELEMS(commands) ? ", "
                                              : " or ",
                commands[i]->name);
    fputs(" (see portex --help)\n", stderr);
}

/* ---- outputs ------------------------------------------------------------ */

/* The machine outputs of one command (--json, --csv, --svg, --hlog), opened before its work. */
struct opened {
    struct px_outfile json, csv, svg;
    struct px_hlog *hlog;
};

/* Nothing will be written: closes them, removing the files this command created. */
static void discard_outputs(struct opened *o)
{
    px_outfile_discard(&o->json);
    px_outfile_discard(&o->csv);
    px_outfile_discard(&o->svg);
    px_hlog_discard(o->hlog);
    o->hlog = NULL;
}

/* Opens every output asked for, so that a bad path fails before any load. 0, or -1 printed. */
static int open_outputs(const char *cmd, const struct px_outputs *want, struct opened *o)
{
    char err[512];
    memset(o, 0, sizeof(*o));
    if (want == NULL)
        return 0;
    if (px_outfile_open(&o->json, want->json, err, sizeof(err)) < 0 ||
        px_outfile_open(&o->csv, want->csv, err, sizeof(err)) < 0 ||
        px_outfile_open(&o->svg, want->svg, err, sizeof(err)) < 0 ||
        (want->hlog && (o->hlog = px_hlog_open(want->hlog, err, sizeof(err))) == NULL)) {
        fprintf(stderr, "portex %s: %s\n", cmd, err);
        discard_outputs(o);
        return -1;
    }
    return 0;
}

/* Closes one output after its last write. 0, or -1 with the reason printed. */
static int close_output(const char *cmd, struct px_outfile *o)
{
    char err[512];
    if (px_outfile_close(o, err, sizeof(err)) < 0) {
        fprintf(stderr, "portex %s: %s\n", cmd, err);
        return -1;
    }
    return 0;
}

/* Where the text for a person goes: stderr when a machine output takes stdout. */
static FILE *text_stream(const struct px_outputs *want)
{
    if (want == NULL)
        return stdout;
    const char *outs[] = {want->json, want->csv, want->svg, want->hlog};
    for (size_t i = 0; i < PX_NELEMS(outs); i++)
        if (outs[i] && strcmp(outs[i], "-") == 0)
            return stderr;
    return stdout;
}

/* Writes one report; the text on stdout is an output checked like a file. 0, or -1 printed. */
static int write_report(const struct px_command *cmd, const struct px_report *r, const void *state,
                        const struct px_outputs *want, struct opened *o)
{
    struct px_outfile text, *out = NULL;
    if (r->output == PX_OUTPUT_TEXT) {
        FILE *stream = text_stream(want);
        char err[8];
        px_outfile_open(&text, stream == stdout ? "-" : NULL, err, sizeof(err));
        r->write(stream == stdout ? px_outfile_begin(&text) : stream, state);
        return close_output(cmd->name, &text);
    }
    if (r->output == PX_OUTPUT_JSON)
        out = &o->json;
    else if (r->output == PX_OUTPUT_CSV)
        out = &o->csv;
    else if (r->output == PX_OUTPUT_SVG)
        out = &o->svg;
    if (out == NULL || out->f == NULL)
        return 0;
    r->write(px_outfile_begin(out), state);
    return close_output(cmd->name, out);
}

/* ---- the lifecycle ------------------------------------------------------ */

/*
 * After a good parse: prepare, open the outputs, run, then the reports. The
 * exit code is run's status, except that a failed output makes it 1 (it
 * outranks an interrupt: what was asked for is missing).
 */
static enum px_exit prepare_run_report(const struct px_command *cmd, void *state)
{
    const struct px_outputs *want = cmd->outputs ? cmd->outputs(state) : NULL;
    enum px_exit status = cmd->prepare ? cmd->prepare(state) : PX_EXIT_OK;
    if (status != PX_EXIT_OK)
        return status;
    struct opened o;
    if (open_outputs(cmd->name, want, &o) < 0)
        return PX_EXIT_FAILED;
    char err[1024] = "";
    if (cmd->run(state, o.hlog, &status, err, sizeof(err)) < 0) {
        fprintf(stderr, "portex %s: %s\n", cmd->name, err);
        discard_outputs(&o); /* nothing ran: no file left behind */
        return status;
    }
    int failed = o.hlog && px_hlog_close(o.hlog) < 0;
    if (failed)
        fprintf(stderr, "portex %s: cannot write --hlog '%s'\n", cmd->name, want->hlog);
    for (size_t i = 0; i < cmd->nreports; i++)
        failed |= write_report(cmd, &cmd->reports[i], state, want, &o) < 0;
    if (cmd->after_reports)
        cmd->after_reports(state);
    return failed ? PX_EXIT_FAILED : status;
}

/* One command from its argv (argv[0] is its name) to its exit code. */
static enum px_exit command_main(const struct px_command *cmd, int argc, char **argv)
{
    void *state = calloc(1, cmd->state_size);
    if (state == NULL) {
        fprintf(stderr, "portex %s: out of memory\n", cmd->name);
        return PX_EXIT_FAILED;
    }
    char err[512];
    enum px_exit status = PX_EXIT_OK;
    int rc = cmd->parse(state, argc, argv, err, sizeof(err));
    if (rc == PX_CLI_OK) {
        status = prepare_run_report(cmd, state);
    } else if (rc != PX_CLI_HELP) {
        fprintf(stderr, "portex %s: %s\n", cmd->name, err);
        status = PX_EXIT_USAGE;
    }
    if (cmd->free)
        cmd->free(state);
    free(state);
    return status;
}

/*
 * Started with fd 0, 1 or 2 closed, the first file opened would take that
 * number, and the text report on "stdout" would land in --json's file. Hold
 * each with /dev/null opened read-only: writes to it still fail (EBADF).
 */
static void hold_std_fds(void)
{
    for (;;) {
        int fd = open("/dev/null", O_RDONLY);
        if (fd < 0)
            return;
        if (fd > 2) {
            close(fd);
            return;
        }
    }
}

int main(int argc, char **argv)
{
    /* The one signal model (base/stop.h): SIGINT and SIGTERM blocked before
     * anything else, so that every thread inherits it, and taken only where a
     * command waits for them and can still report and put back what it changed. */
    sigset_t stop_set, start_mask;
    px_stop_block(&stop_set, &start_mask);
    hold_std_fds();
    /* A closed peer must give EPIPE, not kill the process. */
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2) {
        usage(stderr);
        return PX_EXIT_USAGE;
    }
    const char *name = argv[1];
    for (size_t i = 0; i < PX_NELEMS(commands); i++) {
        if (strcmp(name, commands[i]->name) != 0)
            continue;
        /* A command with nothing to put back keeps the default: a stop ends it at once. */
        if (!commands[i]->waits_for_stop)
            pthread_sigmask(SIG_SETMASK, &start_mask, NULL);
        return command_main(commands[i], argc - 1, argv + 1);
    }
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
        usage(stdout);
        return PX_EXIT_OK;
    }
    if (strcmp(name, "--version") == 0) {
        printf("portex %s\n", PORTEX_VERSION);
        return PX_EXIT_OK;
    }
    unknown_command(name);
    return PX_EXIT_USAGE;
}
