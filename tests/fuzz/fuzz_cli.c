/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the argv parsers of every command, argv split from the input. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "portex/load/load.h"
#include "portex/cmd/cli.h"
#include "portex/cmd/compare.h"
#include "portex/cmd/doctor.h"
#include "portex/cmd/lab.h"
#include "portex/cmd/merge.h"
#include "portex/cmd/ramp.h"
#include "portex/cmd/run.h"
#include "portex/cmd/serve.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* More than any option list needs (64 -H are allowed: a few past that). */
#define MAX_ARGS 80

/* Configs are large (URLs, source arrays): static, as main.c keeps them. */
static struct px_run_config run_cfg;
static struct px_compare_config compare_cfg;
static struct px_serve_config serve_cfg;
static struct px_lab_config lab_cfg;
static struct px_doctor_config doctor_cfg;
static struct px_ramp_config ramp_cfg;
static struct px_merge_config merge_cfg;

static int parse_run(int argc, char **argv, char *err, size_t errlen)
{
    int rc = px_run_parse(argc, argv, &run_cfg, err, errlen);
    if (rc == PX_CLI_OK)
        CHECK(run_cfg.load.nsources <= PX_MAX_SOURCES && run_cfg.load.nheaders <= PX_MAX_HEADERS &&
              run_cfg.load.connections >= 1 && run_cfg.load.threads >= 1);
    px_load_release(&run_cfg.load);
    return rc;
}

static int parse_compare(int argc, char **argv, char *err, size_t errlen)
{
    int rc = px_compare_parse(argc, argv, &compare_cfg, err, errlen);
    if (rc == PX_CLI_OK)
        CHECK(compare_cfg.nmodes >= 1 && compare_cfg.nmodes <= PX_MAX_MODES &&
              compare_cfg.base.nsources <= PX_MAX_SOURCES);
    px_load_release(&compare_cfg.base);
    return rc;
}

static int parse_serve(int argc, char **argv, char *err, size_t errlen)
{
    int rc = px_serve_parse(argc, argv, &serve_cfg, err, errlen);
    if (rc == PX_CLI_OK)
        CHECK(serve_cfg.server.threads >= 1 && (serve_cfg.server.addr.ss_family == AF_INET ||
                                                serve_cfg.server.addr.ss_family == AF_INET6));
    return rc;
}

static int parse_lab(int argc, char **argv, char *err, size_t errlen)
{
    int rc = px_lab_parse(argc, argv, &lab_cfg, err, errlen);
    if (rc == PX_CLI_OK)
        CHECK(lab_cfg.nmodes >= 1 && lab_cfg.nmodes <= PX_MAX_MODES);
    return rc;
}

static int parse_doctor(int argc, char **argv, char *err, size_t errlen)
{
    int rc = px_doctor_parse(argc, argv, &doctor_cfg, err, errlen);
    if (rc == PX_CLI_OK && doctor_cfg.has_target)
        CHECK(doctor_cfg.url.host[0] != '\0');
    return rc;
}

static int parse_ramp(int argc, char **argv, char *err, size_t errlen)
{
    int rc = px_ramp_parse(argc, argv, &ramp_cfg, err, errlen);
    if (rc == PX_CLI_OK)
        CHECK(ramp_cfg.from_per_s > 0 && ramp_cfg.step_per_s > 0 &&
              ramp_cfg.to_per_s >= ramp_cfg.from_per_s && ramp_cfg.base.rate_per_s == 0 &&
              ramp_cfg.base.requests == 0 && ramp_cfg.base.duration_ms == ramp_cfg.step_ms);
    px_load_release(&ramp_cfg.base);
    return rc;
}

static int parse_merge(int argc, char **argv, char *err, size_t errlen)
{
    int rc = px_merge_parse(argc, argv, &merge_cfg, err, errlen);
    if (rc == PX_CLI_OK)
        CHECK(merge_cfg.nfiles >= 1 && merge_cfg.files[0] != NULL);
    return rc;
}

/* One row per command: a new command is one more row. */
static const struct {
    const char *name;
    int (*parse)(int argc, char **argv, char *err, size_t errlen);
} commands[] = {
    {.name = "run", .parse = parse_run},       {.name = "compare", .parse = parse_compare},
    {.name = "serve", .parse = parse_serve},   {.name = "lab", .parse = parse_lab},
    {.name = "doctor", .parse = parse_doctor}, {.name = "ramp", .parse = parse_ramp},
    {.name = "merge", .parse = parse_merge},
};

/* Under $TMPDIR: scripts/fuzz.sh points it at its own scratch directory, which it
 * removes even when a crash skips remove_scratch(). */
static char scratch[4096];

static void remove_scratch(void)
{
    char path[sizeof(scratch) + 8];
    if (scratch[0] == '\0')
        return;
    snprintf(path, sizeof(path), "%s/body", scratch);
    unlink(path);
    rmdir(scratch);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* --help text is not what is tested. */
    if (freopen("/dev/null", "w", stdout) == NULL)
        abort();
    /*
     * --body @FILE reads a file: work in an empty directory holding one small
     * file, "body", so relative names find it or nothing (absolute names are
     * refused in LLVMFuzzerTestOneInput: @/dev/zero would never end).
     */
    const char *tmp = getenv("TMPDIR");
    snprintf(scratch, sizeof(scratch), "%s/portex-fuzz-cli-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(scratch) == NULL || chdir(scratch) < 0)
        abort();
    FILE *f = fopen("body", "w");
    if (f == NULL)
        abort();
    fputs("{\"k\": 1}\n", f);
    fclose(f);
    atexit(remove_scratch);
    return 0;
}

/* Paths that leave the scratch directory: absolute, or through "..". */
static int outside_path(const char *arg)
{
    return strstr(arg, "@/") != NULL || strstr(arg, "@.") != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t ncmd = sizeof(commands) / sizeof(commands[0]);
    size_t which = data[0] % ncmd;
    data++;
    size--;

    /* argv[0] is the command; the rest split on NUL or newline, each its own block. */
    char *argv[MAX_ARGS + 1];
    int argc = 0;
    argv[argc++] = strdup(commands[which].name);
    size_t start = 0;
    for (size_t i = 0; size > 0 && i <= size && argc < MAX_ARGS; i++) {
        if (i < size && data[i] != '\0' && data[i] != '\n')
            continue;
        size_t n = i - start;
        char *a = malloc(n + 1);
        if (a == NULL)
            abort();
        memcpy(a, data + start, n);
        a[n] = '\0';
        argv[argc++] = a;
        start = i + 1;
    }
    argv[argc] = NULL;
    /* getopt permutes argv: keep the blocks to free them. */
    char *blocks[MAX_ARGS + 1];
    memcpy(blocks, argv, sizeof(argv));

    int skip = 0;
    for (int i = 0; i < argc; i++)
        skip |= outside_path(argv[i]);
    if (!skip) {
        char err[512];
        err[0] = '\0';
        int rc = commands[which].parse(argc, argv, err, sizeof(err));
        CHECK(rc == PX_CLI_OK || rc == PX_CLI_HELP || rc == PX_CLI_USAGE);
        if (rc == PX_CLI_USAGE)
            CHECK(err[0] != '\0' && strlen(err) < sizeof(err));
    }
    for (int i = 0; i < argc; i++)
        free(blocks[i]);
    return 0;
}
