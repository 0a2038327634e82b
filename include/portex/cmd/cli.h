/* SPDX-License-Identifier: MIT */
/*
 * Command-line parsing: one getopt_long loop over a command's tables of
 * options, the setters that parse a value into a field, and the checks that
 * several commands share. Each command's tables and usage text live with the
 * command (src/cmd/<command>.c); the load's options in cmd/loadopts.c.
 */
#ifndef PORTEX_CLI_H
#define PORTEX_CLI_H

#include <stddef.h>
#include <stdint.h>

struct px_outputs;
struct px_url;

enum px_cli_status {
    PX_CLI_OK = 0,     /* parsed; go on */
    PX_CLI_HELP = 1,   /* --help was asked and printed */
    PX_CLI_USAGE = -1, /* bad input: the reason is in err, exit 2 */
};

struct px_cli_opt;
/* Parses arg into the field at obj + opt->off: PX_CLI_OK, or PX_CLI_USAGE with err. */
typedef int px_cli_set_cb(const struct px_cli_opt *opt, void *obj, const char *arg, char *err,
                          size_t errlen);

/* One option: its names, how its value is parsed, and where it goes. */
struct px_cli_opt {
    const char *name;   /* long name, without "--"; NULL ends a table */
    int letter;         /* short option letter; 0: long only */
    int flag;           /* takes no value */
    px_cli_set_cb *set; /* parses the value into obj + off */
    size_t off;         /* the field written, inside the group's struct */
    uint64_t lo, hi;    /* bounds: counts [lo, hi], durations at least lo ms */
    const char *expect; /* what a bad value should look like, when not the bounds */
};

/* The field an option writes, inside obj (the option's group's struct). */
#define PX_CLI_FIELD(obj, opt, type) ((type *)((char *)(obj) + (opt)->off))

/* A table of options whose fields live in one struct, at off inside the command's config. */
struct px_cli_group {
    const struct px_cli_opt *opts; /* ends with a row whose name is NULL */
    size_t off;
};

/* A command's options and its --help text. */
struct px_cli_spec {
    const char *name;  /* "run", for messages */
    const char *usage; /* printed on stdout for -h, --help */
    const struct px_cli_group *groups;
    size_t ngroups;
};

#define PX_CLI_MAX_OPTS 64 /* options of one command, --help included */

/* What one parse found: the options given and where the operands start. */
struct px_cli_args {
    const struct px_cli_spec *spec;
    unsigned char given[PX_CLI_MAX_OPTS]; /* by place in the spec, groups in order */
    int operand;                          /* argv index of the first operand */
};

/*
 * Runs getopt_long over argv (argv[0] is the command) with spec's options,
 * each value through its setter into cfg. PX_CLI_OK with args filled,
 * PX_CLI_HELP (usage printed on stdout), or PX_CLI_USAGE with err.
 */
int px_cli_parse(const struct px_cli_spec *spec, int argc, char **argv, void *cfg,
                 struct px_cli_args *args, char *err, size_t errlen);
/* 1 when the option with this long name was given. */
int px_cli_given(const struct px_cli_args *args, const char *name);

/* Formats err; returns PX_CLI_USAGE. */
__attribute__((format(printf, 3, 4))) int px_cli_usage_error(char *err, size_t errlen,
                                                             const char *fmt, ...);
/* "invalid -c 'x': expect"; returns PX_CLI_USAGE. */
int px_cli_bad_value(const struct px_cli_opt *opt, const char *arg, const char *expect, char *err,
                     size_t errlen);
/* "-c" or "--timeout": the option as a person writes it, for messages. */
const char *px_cli_opt_name(const struct px_cli_opt *opt, char *buf, size_t len);

/* The setters of values that need no more than bounds; an unsigned count within [lo, hi]. */
int px_cli_set_unsigned(const struct px_cli_opt *opt, void *obj, const char *arg, char *err,
                        size_t errlen);
/* A uint64_t count within [lo, hi]. */
int px_cli_set_u64(const struct px_cli_opt *opt, void *obj, const char *arg, char *err,
                   size_t errlen);
/* A size_t count within [lo, hi]. */
int px_cli_set_size(const struct px_cli_opt *opt, void *obj, const char *arg, char *err,
                    size_t errlen);
/* An int count within [lo, hi]. */
int px_cli_set_int(const struct px_cli_opt *opt, void *obj, const char *arg, char *err,
                   size_t errlen);
/* A duration (500ms, 10s, 2m) into uint64_t milliseconds, at least lo. */
int px_cli_set_duration(const struct px_cli_opt *opt, void *obj, const char *arg, char *err,
                        size_t errlen);
/* A rate (2000, 1.5k) into double requests per second. */
int px_cli_set_rate(const struct px_cli_opt *opt, void *obj, const char *arg, char *err,
                    size_t errlen);
/* A flag: sets the int to 1. */
int px_cli_set_flag(const struct px_cli_opt *opt, void *obj, const char *arg, char *err,
                    size_t errlen);
/* -4 or -6 (the option's letter): the int gets AF_INET or AF_INET6; both given is refused. */
int px_cli_set_family(const struct px_cli_opt *opt, void *obj, const char *arg, char *err,
                      size_t errlen);
/* A path or any string kept as given (points into argv). */
int px_cli_set_path(const struct px_cli_opt *opt, void *obj, const char *arg, char *err,
                    size_t errlen);

/* unix:PATH (PATH 1 to outlen - 1 bytes) into out; PX_CLI_OK or a usage error naming opt. */
int px_cli_unix_path(const struct px_cli_opt *opt, const char *arg, char *out, size_t outlen,
                     char *err, size_t errlen);
/* A URL operand: kept in text (textlen bytes) and parsed into out. PX_CLI_OK or PX_CLI_USAGE. */
int px_cli_url(const char *url, char *text, size_t textlen, struct px_url *out, char *err,
               size_t errlen);
/*
 * No two of --json, --csv, --svg, --hlog may be the same file or both '-':
 * the second would overwrite or interleave with the first. /dev/null may repeat.
 */
int px_cli_one_stdout(const struct px_outputs *out, char *err, size_t errlen);
/* For commands that take options only: a usage error on the first operand. */
int px_cli_no_operands(const struct px_cli_args *args, int argc, char **argv, char *err,
                       size_t errlen);

/* -q, --json, --csv, --svg into a struct px_outputs (run, compare, ramp, lab). */
extern const struct px_cli_opt px_cli_output_opts[];
/* --hlog into a struct px_outputs (run, compare). */
extern const struct px_cli_opt px_cli_hlog_opts[];

#endif
