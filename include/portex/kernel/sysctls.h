/* SPDX-License-Identifier: MIT */
/*
 * The recorded environment: struct px_env, a snapshot of one namespace's
 * sysctls and limits, and the one table of those sysctls (each one's name,
 * what it means, who uses it, the px_env field it fills). px_env_read
 * (kernel.h) reads them through the table; the result format and doctor list
 * them from it. Data only: no I/O here.
 */
#ifndef PORTEX_SYSCTLS_H
#define PORTEX_SYSCTLS_H

#include <stddef.h>
#include <stdint.h>

/* Sysctls of KERNEL-FACTS.md (the table below names them) and the limits, as read
 * at one moment. -1 where absent. */
struct px_env {
    char kernel[72]; /* uname release, up to 65 bytes */
    int kernel_major, kernel_minor;
    unsigned port_lo, port_hi;
    char reserved_ports[256];
    int64_t tw_reuse;
    int64_t tw_reuse_delay_ms; /* -1: kernel older than 6.14 */
    int64_t timestamps;
    int64_t fin_timeout;
    int64_t max_tw_buckets;
    int64_t somaxconn;
    int64_t file_max;
    uint64_t nofile_soft, nofile_hard;
    long cpus;
};

/* Who uses a sysctl: bits of px_sysctl.users. */
#define PX_SYSCTL_ENV     0x1u /* recorded in a result's environment ("sysctl" object) */
#define PX_SYSCTL_DOCTOR  0x2u /* shown and judged by doctor */
#define PX_SYSCTL_CEILING 0x4u /* an input of the predicted ceiling (kernel/ceiling.h) */
#define PX_SYSCTL_WATCH   0x8u /* in watch's JSON "namespace", keyed label[_unit] */

/* The longest text value kept (ip_local_reserved_ports), with its NUL. */
#define PX_SYSCTL_TEXT_MAX 256

/* How a value is kept in struct px_env. */
enum px_sysctl_kind {
    PX_SYSCTL_INT,   /* int64_t; -1 when the kernel lacks it */
    PX_SYSCTL_TEXT,  /* char array, as the kernel writes it */
    PX_SYSCTL_RANGE, /* two unsigned; text "LO HI" */
};

/* The rows of px_sysctls, in the order every listing uses. */
enum px_sysctl_id {
    PX_SYSCTL_PORT_RANGE,
    PX_SYSCTL_RESERVED_PORTS,
    PX_SYSCTL_TW_REUSE,
    PX_SYSCTL_TW_REUSE_DELAY,
    PX_SYSCTL_TIMESTAMPS,
    PX_SYSCTL_FIN_TIMEOUT,
    PX_SYSCTL_MAX_TW_BUCKETS,
    PX_SYSCTL_SOMAXCONN,
    PX_SYSCTL_FILE_MAX,
    PX_SYSCTL_COUNT
};

struct px_sysctl {
    const char *name;    /* "net.ipv4.tcp_tw_reuse": the key everywhere it is recorded */
    const char *label;   /* the short name doctor shows: "tcp_tw_reuse" */
    const char *meaning; /* what the value means for ports and TIME_WAIT, in words */
    /* When the words depend on the value (tcp_tw_reuse 0, 1, 2), else NULL. */
    const char *(*meaning_of)(int64_t v);
    const char *unit;   /* of an integer value: "ms", "s", or "" */
    const char *absent; /* what a missing integer sysctl means, or NULL to show -1 */
    unsigned users;     /* PX_SYSCTL_* bits */
    enum px_sysctl_kind kind;
    size_t field;    /* offsetof(struct px_env, ...) of the value (RANGE: the low end) */
    size_t field_hi; /* RANGE: offsetof the high end */
    size_t size;     /* TEXT and RANGE: the longest text, with its NUL */
    /* TEXT and RANGE: the value taken when the kernel lacks the sysctl. */
    const char *fallback;
};

/* The table, indexed by enum px_sysctl_id. */
extern const struct px_sysctl px_sysctls[PX_SYSCTL_COUNT];

/* An integer sysctl's value in env (-1: the kernel lacks it). */
int64_t px_sysctls_get_int(const struct px_env *env, const struct px_sysctl *s);
/* Sets an integer sysctl's field in env. */
void px_sysctls_set_int(struct px_env *env, const struct px_sysctl *s, int64_t v);
/* A text or range sysctl as recorded: the text, or "LO HI". */
void px_sysctls_get_text(const struct px_env *env, const struct px_sysctl *s, char *out,
                         size_t outlen);
/* Sets a text or range sysctl from its text (a range's ends split by blanks).
 * 0, or -1 when a range is not "LO HI" (env unchanged). */
int px_sysctls_set_text(struct px_env *env, const struct px_sysctl *s, const char *text);
/* The words for value v of s: meaning_of(v) when the row has one, else meaning. */
const char *px_sysctls_meaning(const struct px_sysctl *s, int64_t v);

#endif
