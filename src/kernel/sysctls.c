/* SPDX-License-Identifier: MIT */
/* The one table of recorded sysctls, and access to the struct px_env fields it names. */
#include "portex/kernel/sysctls.h"

#include <stdio.h>
#include <string.h>

#define ENV_FIELD(f) offsetof(struct px_env, f)
/* The offset of a field that must be of type T (int64_t, unsigned): another type does
 * not compile, since the table's readers copy exactly a T. */
#define TYPED_FIELD(f, T)                                                                          \
    (offsetof(struct px_env, f) + 0 * sizeof(_Generic(((struct px_env *)0)->f, T : 1)))
#define INT_FIELD(f) TYPED_FIELD(f, int64_t)

_Static_assert(sizeof(((struct px_env *)0)->reserved_ports) <= PX_SYSCTL_TEXT_MAX,
               "PX_SYSCTL_TEXT_MAX holds every text field");

static const char *tw_reuse_meaning(int64_t v)
{
    switch (v) {
    case 0:
        return "connect() never takes a TIME_WAIT port";
    case 1:
        return "connect() may take a TIME_WAIT port if it had timestamps";
    case 2:
        return "as 1, but for loopback connections only";
    default:
        return "unknown";
    }
}

static const char *timestamps_meaning(int64_t v)
{
    return v == 0 ? "off: no reuse of TIME_WAIT ports is possible"
                  : "on (needed by both ends for tcp_tw_reuse)";
}

/* Every setting here is per network namespace (KERNEL-FACTS.md, Namespaces), except
 * fs.file-max. Doctor's lines read "label value[ unit]: meaning". */
const struct px_sysctl px_sysctls[PX_SYSCTL_COUNT] = {
    [PX_SYSCTL_PORT_RANGE] =
        {
            .name = "net.ipv4.ip_local_port_range",
            .label = "ip_local_port_range",
            .meaning = "the ports connect() picks from, both ends included",
            .users = PX_SYSCTL_ENV | PX_SYSCTL_DOCTOR | PX_SYSCTL_CEILING,
            .kind = PX_SYSCTL_RANGE,
            .field = TYPED_FIELD(port_lo, unsigned),
            .field_hi = TYPED_FIELD(port_hi, unsigned),
            .size = 32,
            .fallback = "32768 60999", /* the built-in default since 4.2 */
        },
    [PX_SYSCTL_RESERVED_PORTS] =
        {
            .name = "net.ipv4.ip_local_reserved_ports",
            .label = "ip_local_reserved_ports",
            .meaning = "ports of the range that connect() skips",
            .users = PX_SYSCTL_ENV | PX_SYSCTL_DOCTOR | PX_SYSCTL_CEILING,
            .kind = PX_SYSCTL_TEXT,
            .field = ENV_FIELD(reserved_ports),
            .size = sizeof(((struct px_env *)0)->reserved_ports),
            .fallback = "",
        },
    [PX_SYSCTL_TW_REUSE] =
        {
            .name = "net.ipv4.tcp_tw_reuse",
            .label = "tcp_tw_reuse",
            .meaning = "whether connect() may take a TIME_WAIT port: 0 never, 1 yes, 2 loopback "
                       "only",
            .meaning_of = tw_reuse_meaning,
            .unit = "",
            .users = PX_SYSCTL_ENV | PX_SYSCTL_DOCTOR | PX_SYSCTL_CEILING | PX_SYSCTL_WATCH,
            .kind = PX_SYSCTL_INT,
            .field = INT_FIELD(tw_reuse),
        },
    [PX_SYSCTL_TW_REUSE_DELAY] =
        {
            .name = "net.ipv4.tcp_tw_reuse_delay",
            .label = "tcp_tw_reuse_delay",
            .meaning = "how long a TIME_WAIT port waits before reuse",
            .unit = "ms",
            .absent = "absent (kernel before 6.14): reuse after about 1 s",
            .users = PX_SYSCTL_ENV | PX_SYSCTL_DOCTOR | PX_SYSCTL_CEILING | PX_SYSCTL_WATCH,
            .kind = PX_SYSCTL_INT,
            .field = INT_FIELD(tw_reuse_delay_ms),
        },
    [PX_SYSCTL_TIMESTAMPS] =
        {
            .name = "net.ipv4.tcp_timestamps",
            .label = "tcp_timestamps",
            .meaning = "TCP timestamps on this end; tcp_tw_reuse needs them at both ends",
            .meaning_of = timestamps_meaning,
            .unit = "",
            .users = PX_SYSCTL_ENV | PX_SYSCTL_DOCTOR | PX_SYSCTL_WATCH,
            .kind = PX_SYSCTL_INT,
            .field = INT_FIELD(timestamps),
        },
    [PX_SYSCTL_FIN_TIMEOUT] =
        {
            .name = "net.ipv4.tcp_fin_timeout",
            .label = "tcp_fin_timeout",
            .meaning = "FIN_WAIT_2 of orphans, not TIME_WAIT",
            .unit = "s",
            .users = PX_SYSCTL_ENV | PX_SYSCTL_DOCTOR,
            .kind = PX_SYSCTL_INT,
            .field = INT_FIELD(fin_timeout),
        },
    [PX_SYSCTL_MAX_TW_BUCKETS] =
        {
            .name = "net.ipv4.tcp_max_tw_buckets",
            .label = "tcp_max_tw_buckets",
            .meaning = "TIME_WAIT sockets kept at most; past it new ones are dropped at once "
                       "(TCPTimeWaitOverflow): their ports free early, without TIME_WAIT's "
                       "protection, and exhaustion hides",
            .unit = "",
            .users = PX_SYSCTL_ENV | PX_SYSCTL_DOCTOR | PX_SYSCTL_WATCH,
            .kind = PX_SYSCTL_INT,
            .field = INT_FIELD(max_tw_buckets),
        },
    [PX_SYSCTL_SOMAXCONN] =
        {
            .name = "net.core.somaxconn",
            .label = "somaxconn",
            .meaning = "accept backlog cap",
            .unit = "",
            .users = PX_SYSCTL_ENV | PX_SYSCTL_DOCTOR,
            .kind = PX_SYSCTL_INT,
            .field = INT_FIELD(somaxconn),
        },
    [PX_SYSCTL_FILE_MAX] =
        {
            .name = "fs.file-max",
            .label = "fs.file-max",
            .meaning = "open files at most, system-wide",
            .unit = "",
            .users = PX_SYSCTL_ENV | PX_SYSCTL_DOCTOR,
            .kind = PX_SYSCTL_INT,
            .field = INT_FIELD(file_max),
        },
};

int64_t px_sysctls_get_int(const struct px_env *env, const struct px_sysctl *s)
{
    int64_t v;
    memcpy(&v, (const char *)env + s->field, sizeof(v));
    return v;
}

void px_sysctls_set_int(struct px_env *env, const struct px_sysctl *s, int64_t v)
{
    memcpy((char *)env + s->field, &v, sizeof(v));
}

void px_sysctls_get_text(const struct px_env *env, const struct px_sysctl *s, char *out,
                         size_t outlen)
{
    const char *base = (const char *)env;
    if (s->kind == PX_SYSCTL_RANGE) {
        unsigned lo, hi;
        memcpy(&lo, base + s->field, sizeof(lo));
        memcpy(&hi, base + s->field_hi, sizeof(hi));
        snprintf(out, outlen, "%u %u", lo, hi);
    } else {
        snprintf(out, outlen, "%s", base + s->field);
    }
}

int px_sysctls_set_text(struct px_env *env, const struct px_sysctl *s, const char *text)
{
    char *base = (char *)env;
    if (s->kind == PX_SYSCTL_RANGE) {
        /* The kernel writes the ends split by a tab, the result format by a space. */
        unsigned lo, hi;
        if (sscanf(text, "%u %u", &lo, &hi) != 2)
            return -1;
        memcpy(base + s->field, &lo, sizeof(lo));
        memcpy(base + s->field_hi, &hi, sizeof(hi));
    } else {
        snprintf(base + s->field, s->size, "%s", text);
    }
    return 0;
}

const char *px_sysctls_meaning(const struct px_sysctl *s, int64_t v)
{
    return s->meaning_of ? s->meaning_of(v) : s->meaning;
}
