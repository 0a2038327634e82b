/* SPDX-License-Identifier: MIT */
/*
 * getopt_long into configs. A command is a few tables of options (long name,
 * short letter, the setter that parses the value into a field, its bounds);
 * one loop runs them all, with one tail for a missing value, an unknown option
 * and --help. Every refusal names the value and says what was expected. The
 * tables live with their commands; this file has the loop and the setters
 * every kind of command uses.
 */
#include "portex/cmd/cli.h"

#include <getopt.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "portex/base/parse.h"
#include "portex/base/url.h"
#include "portex/cmd/command.h"

/* Options without a short letter get getopt keys from here up, by place in the spec. */
#define KEY_LONG 256

int px_cli_usage_error(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return PX_CLI_USAGE;
}

const char *px_cli_opt_name(const struct px_cli_opt *opt, char *buf, size_t len)
{
    if (opt->letter)
        snprintf(buf, len, "-%c", opt->letter);
    else
        snprintf(buf, len, "--%s", opt->name);
    return buf;
}

/* ---- setters: one per kind of value ------------------------------------- */

int px_cli_bad_value(const struct px_cli_opt *opt, const char *arg, const char *expect, char *err,
                     size_t errlen)
{
    char name[40];
    return px_cli_usage_error(err, errlen, "invalid %s '%s': %s",
                              px_cli_opt_name(opt, name, sizeof(name)), arg, expect);
}

static int parse_count(const struct px_cli_opt *opt, const char *arg, uint64_t *v, char *err,
                       size_t errlen)
{
    if (px_parse_u64(arg, opt->lo, opt->hi, v) == 0)
        return PX_CLI_OK;
    if (opt->expect)
        return px_cli_bad_value(opt, arg, opt->expect, err, errlen);
    char name[40];
    return px_cli_usage_error(err, errlen,
                              "invalid %s '%s': expected a whole number from %llu to %llu",
                              px_cli_opt_name(opt, name, sizeof(name)), arg,
                              (unsigned long long)opt->lo, (unsigned long long)opt->hi);
}

int px_cli_set_unsigned(const struct px_cli_opt *opt, void *obj, const char *arg, char *err,
                        size_t errlen)
{
    uint64_t v;
    if (parse_count(opt, arg, &v, err, errlen) < 0)
        return PX_CLI_USAGE;
    *PX_CLI_FIELD(obj, opt, unsigned) = (unsigned)v;
    return PX_CLI_OK;
}

int px_cli_set_u64(const struct px_cli_opt *opt, void *obj, const char *arg, char *err,
                   size_t errlen)
{
    return parse_count(opt, arg, PX_CLI_FIELD(obj, opt, uint64_t), err, errlen);
}

int px_cli_set_size(const struct px_cli_opt *opt, void *obj, const char *arg, char *err,
                    size_t errlen)
{
    uint64_t v;
    if (parse_count(opt, arg, &v, err, errlen) < 0)
        return PX_CLI_USAGE;
    *PX_CLI_FIELD(obj, opt, size_t) = (size_t)v;
    return PX_CLI_OK;
}

int px_cli_set_int(const struct px_cli_opt *opt, void *obj, const char *arg, char *err,
                   size_t errlen)
{
    uint64_t v;
    if (parse_count(opt, arg, &v, err, errlen) < 0)
        return PX_CLI_USAGE;
    *PX_CLI_FIELD(obj, opt, int) = (int)v;
    return PX_CLI_OK;
}

int px_cli_set_duration(const struct px_cli_opt *opt, void *obj, const char *arg, char *err,
                        size_t errlen)
{
    uint64_t ms;
    if (px_parse_duration_ms(arg, &ms) == 0 && ms >= opt->lo) {
        *PX_CLI_FIELD(obj, opt, uint64_t) = ms;
        return PX_CLI_OK;
    }
    char expect[96];
    snprintf(expect, sizeof(expect),
             "expected a duration from %llu ms to 277777h, such as 500ms, 10s or 2m",
             (unsigned long long)opt->lo);
    return px_cli_bad_value(opt, arg, expect, err, errlen);
}

int px_cli_set_rate(const struct px_cli_opt *opt, void *obj, const char *arg, char *err,
                    size_t errlen)
{
    if (px_parse_rate(arg, PX_CLI_FIELD(obj, opt, double)) == 0)
        return PX_CLI_OK;
    return px_cli_bad_value(opt, arg,
                            "expected requests per second from 0.001 to 100M, e.g. 2000 or 1.5k",
                            err, errlen);
}

int px_cli_set_flag(const struct px_cli_opt *opt, void *obj, const char *arg, char *err,
                    size_t errlen)
{
    (void)arg;
    (void)err;
    (void)errlen;
    *PX_CLI_FIELD(obj, opt, int) = 1;
    return PX_CLI_OK;
}

int px_cli_set_family(const struct px_cli_opt *opt, void *obj, const char *arg, char *err,
                      size_t errlen)
{
    (void)arg;
    int *family = PX_CLI_FIELD(obj, opt, int);
    int want = opt->letter == '6' ? AF_INET6 : AF_INET;
    if (*family != AF_UNSPEC && *family != want)
        return px_cli_usage_error(err, errlen, "-4 and -6 exclude each other: give one of them");
    *family = want;
    return PX_CLI_OK;
}

int px_cli_set_path(const struct px_cli_opt *opt, void *obj, const char *arg, char *err,
                    size_t errlen)
{
    (void)err;
    (void)errlen;
    *PX_CLI_FIELD(obj, opt, const char *) = arg;
    return PX_CLI_OK;
}

int px_cli_unix_path(const struct px_cli_opt *opt, const char *arg, char *out, size_t outlen,
                     char *err, size_t errlen)
{
    if (strncmp(arg, "unix:", 5) != 0 || arg[5] == '\0' || strlen(arg + 5) >= outlen)
        return px_cli_bad_value(opt, arg, "expected unix:PATH, PATH 1-107 bytes", err, errlen);
    strcpy(out, arg + 5);
    return PX_CLI_OK;
}

/* ---- the outputs: tables that several commands share -------------------- */

#define OUT(field) offsetof(struct px_outputs, field)

const struct px_cli_opt px_cli_output_opts[] = {
    {.name = "quiet", .letter = 'q', .flag = 1, .set = px_cli_set_flag, .off = OUT(quiet)},
    {.name = "json", .set = px_cli_set_path, .off = OUT(json)},
    {.name = "csv", .set = px_cli_set_path, .off = OUT(csv)},
    {.name = "svg", .set = px_cli_set_path, .off = OUT(svg)},
    {.name = NULL},
};

/* One HdrHistogram log line per tick. */
const struct px_cli_opt px_cli_hlog_opts[] = {
    {.name = "hlog", .set = px_cli_set_path, .off = OUT(hlog)},
    {.name = NULL},
};

/* ---- the one getopt loop ------------------------------------------------ */

/* The option at place `index` of spec (groups in order), and its group's offset. */
static const struct px_cli_opt *opt_at(const struct px_cli_spec *spec, int index, size_t *off)
{
    int k = 0;
    for (size_t g = 0; g < spec->ngroups; g++)
        for (const struct px_cli_opt *d = spec->groups[g].opts; d->name; d++, k++)
            if (k == index) {
                *off = spec->groups[g].off;
                return d;
            }
    return NULL;
}

/* The place in spec of the option getopt returned as key; -1 when none. */
static int opt_index(const struct px_cli_spec *spec, int key)
{
    if (key >= KEY_LONG)
        return key - KEY_LONG;
    int k = 0;
    for (size_t g = 0; g < spec->ngroups; g++)
        for (const struct px_cli_opt *d = spec->groups[g].opts; d->name; d++, k++)
            if (d->letter == key)
                return k;
    return -1;
}

/* getopt_long's tables from a command's groups. */
static void build_getopt(const struct px_cli_spec *spec, struct option *longs, char *shorts,
                         size_t shorts_len)
{
    int n = 0;
    size_t k = 0;
    shorts[k++] = ':'; /* report a missing value as ':' */
    for (size_t g = 0; g < spec->ngroups; g++) {
        for (const struct px_cli_opt *d = spec->groups[g].opts; d->name; d++) {
            if (n + 2 >= PX_CLI_MAX_OPTS)
                break;
            int has_arg = d->flag ? no_argument : required_argument;
            longs[n] =
                (struct option){d->name, has_arg, NULL, d->letter ? d->letter : KEY_LONG + n};
            n++;
            if (d->letter && k + 3 < shorts_len) {
                shorts[k++] = (char)d->letter;
                if (!d->flag)
                    shorts[k++] = ':';
            }
        }
    }
    longs[n++] = (struct option){"help", no_argument, NULL, 'h'};
    longs[n] = (struct option){NULL, 0, NULL, 0};
    if (k + 2 < shorts_len)
        shorts[k++] = 'h';
    shorts[k] = '\0';
}

static int unknown_option(char **argv, char *err, size_t errlen, const char *cmd)
{
    if (optopt != 0)
        return px_cli_usage_error(err, errlen, "unknown option '-%c' (see portex %s --help)",
                                  optopt, cmd);
    return px_cli_usage_error(err, errlen, "unknown option '%s' (see portex %s --help)",
                              argv[optind - 1], cmd);
}

/* Applies the option getopt returned as key, with arg, to cfg through its group. */
static int apply(struct px_cli_args *args, int key, const char *arg, void *cfg, char *err,
                 size_t errlen)
{
    size_t off = 0;
    int index = opt_index(args->spec, key);
    const struct px_cli_opt *d = index >= 0 ? opt_at(args->spec, index, &off) : NULL;
    if (d == NULL)
        return px_cli_usage_error(err, errlen, "internal: option %d has no setter", key);
    args->given[index] = 1;
    return d->set(d, (char *)cfg + off, arg, err, errlen);
}

int px_cli_parse(const struct px_cli_spec *spec, int argc, char **argv, void *cfg,
                 struct px_cli_args *args, char *err, size_t errlen)
{
    struct option longs[PX_CLI_MAX_OPTS];
    char shorts[2 * PX_CLI_MAX_OPTS + 4];
    memset(args, 0, sizeof(*args));
    args->spec = spec;
    build_getopt(spec, longs, shorts, sizeof(shorts));
    optind = 0;
    opterr = 0;
    for (;;) {
        int c = getopt_long(argc, argv, shorts, longs, NULL);
        if (c == -1) {
            args->operand = optind;
            return PX_CLI_OK;
        }
        if (c == 'h') {
            fputs(spec->usage, stdout);
            return PX_CLI_HELP;
        }
        if (c == ':')
            return px_cli_usage_error(err, errlen,
                                      "option '%s' needs a value (see portex %s --help)",
                                      argv[optind - 1], spec->name);
        if (c == '?')
            return unknown_option(argv, err, errlen, spec->name);
        int rc = apply(args, c, optarg, cfg, err, errlen);
        if (rc != PX_CLI_OK)
            return rc;
    }
}

int px_cli_given(const struct px_cli_args *args, const char *name)
{
    int k = 0;
    for (size_t g = 0; g < args->spec->ngroups; g++)
        for (const struct px_cli_opt *d = args->spec->groups[g].opts; d->name; d++, k++)
            if (strcmp(d->name, name) == 0 && k < PX_CLI_MAX_OPTS && args->given[k])
                return 1;
    return 0;
}

/* ---- checks that several commands share -------------------------------- */

int px_cli_url(const char *url, char *text, size_t textlen, struct px_url *out, char *err,
               size_t errlen)
{
    if (strlen(url) >= textlen)
        return px_cli_usage_error(err, errlen, "URL '%.60s...' is too long: %s", url,
                                  "at most 2300 characters");
    strcpy(text, url);
    return px_url_parse(url, out, err, errlen) < 0 ? PX_CLI_USAGE : PX_CLI_OK;
}

int px_cli_one_stdout(const struct px_outputs *out, char *err, size_t errlen)
{
    static const char *const names[4] = {"--json", "--csv", "--svg", "--hlog"};
    const char *outs[4] = {out->json, out->csv, out->svg, out->hlog};
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < i; j++) {
            if (outs[i] == NULL || outs[j] == NULL || strcmp(outs[i], outs[j]) != 0 ||
                strcmp(outs[i], "/dev/null") == 0)
                continue;
            if (strcmp(outs[i], "-") == 0)
                return px_cli_usage_error(err, errlen, "%s - and %s - both want stdout: %s",
                                          names[j], names[i], "give one of them a file");
            return px_cli_usage_error(err, errlen, "%s and %s are both '%s': %s", names[j],
                                      names[i], outs[i], "give each output its own file");
        }
    return PX_CLI_OK;
}

int px_cli_no_operands(const struct px_cli_args *args, int argc, char **argv, char *err,
                       size_t errlen)
{
    if (args->operand < argc)
        return px_cli_usage_error(err, errlen,
                                  "unexpected argument '%s' (portex %s takes options only)",
                                  argv[args->operand], args->spec->name);
    return PX_CLI_OK;
}
