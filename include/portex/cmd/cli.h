/* SPDX-License-Identifier: MIT */
/* Command-line parsing into configs, with a one-line reason for every refusal. */
#ifndef PORTEX_CLI_H
#define PORTEX_CLI_H

#include <stddef.h>

struct px_run_config;
struct px_serve_config;
struct px_lab_config;
struct px_compare_config;
struct px_doctor_config;
struct px_merge_config;
struct px_ramp_config;

enum px_cli_status {
    PX_CLI_OK = 0,     /* parsed; go on */
    PX_CLI_HELP = 1,   /* --help was asked and printed */
    PX_CLI_USAGE = -1, /* bad input: the reason is in err, exit 2 */
};

/* `portex run` arguments (argv[0] is "run"). Does not resolve the host. */
int px_cli_parse_run(int argc, char **argv, struct px_run_config *cfg, char *err,
                     size_t errlen);
/* `portex serve` arguments. */
int px_cli_parse_serve(int argc, char **argv, struct px_serve_config *cfg, char *err,
                       size_t errlen);

/* `portex compare` arguments: the run options plus modes and sysctl permission. */
int px_cli_parse_compare(int argc, char **argv, struct px_compare_config *cfg, char *err,
                         size_t errlen);
/* `portex doctor` arguments. */
int px_cli_parse_doctor(int argc, char **argv, struct px_doctor_config *cfg, char *err,
                        size_t errlen);
/* `portex lab` arguments. */
int px_cli_parse_lab(int argc, char **argv, struct px_lab_config *cfg, char *err, size_t errlen);

/* `portex merge` arguments: the files to merge and the outputs. */
int px_cli_parse_merge(int argc, char **argv, struct px_merge_config *cfg, char *err,
                       size_t errlen);
/* `portex ramp` arguments: run's load options except -r, -d and -n, and the steps. */
int px_cli_parse_ramp(int argc, char **argv, struct px_ramp_config *cfg, char *err, size_t errlen);

#endif
