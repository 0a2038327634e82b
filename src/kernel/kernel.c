/* SPDX-License-Identifier: MIT */
/* Sysctls, /proc/net counters and limits, read under a given proc root. */
#include "portex/kernel/kernel.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "portex/kernel/sysctls.h"

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))

static void sysctl_path(const char *proc, const char *name, char *out, size_t outlen)
{
    int n = snprintf(out, outlen, "%s/sys/", proc);
    for (const char *p = name; *p && (size_t)n + 1 < outlen; p++)
        out[n++] = *p == '.' ? '/' : *p;
    out[n] = '\0';
}

int px_sysctl_str(const char *proc, const char *name, char *out, size_t outlen)
{
    char path[256];
    sysctl_path(proc, name, path, sizeof(path));
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    if (fgets(out, (int)outlen, f) == NULL)
        out[0] = '\0';
    fclose(f);
    out[strcspn(out, "\n")] = '\0';
    return 0;
}

int px_sysctl_int(const char *proc, const char *name, int64_t *out)
{
    char buf[64];
    if (px_sysctl_str(proc, name, buf, sizeof(buf)) < 0)
        return -1;
    char *end;
    long long v = strtoll(buf, &end, 10);
    if (end == buf)
        return -1;
    *out = v;
    return 0;
}

int px_sysctl_write_int(const char *proc, const char *name, int64_t v)
{
    char path[256];
    sysctl_path(proc, name, path, sizeof(path));
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    int ok = fprintf(f, "%" PRId64 "\n", v) > 0;
    if (fclose(f) != 0 || !ok)
        return -1;
    return 0;
}

int px_port_range(const char *proc, unsigned *lo, unsigned *hi)
{
    char buf[64];
    if (px_sysctl_str(proc, "net.ipv4.ip_local_port_range", buf, sizeof(buf)) < 0)
        return -1;
    return sscanf(buf, "%u %u", lo, hi) == 2 ? 0 : -1;
}

unsigned px_reserved_in_range(const char *list, unsigned lo, unsigned hi)
{
    unsigned count = 0;
    const char *p = list;
    while (*p) {
        char *end;
        unsigned long a = strtoul(p, &end, 10);
        if (end == p)
            break;
        unsigned long b = a;
        p = end;
        if (*p == '-') {
            b = strtoul(p + 1, &end, 10);
            p = end;
        }
        unsigned long from = a > lo ? a : lo, to = b < hi ? b : hi;
        if (from <= to)
            count += (unsigned)(to - from + 1);
        while (*p == ',' || *p == ' ')
            p++;
    }
    return count;
}

unsigned px_usable_ports(unsigned ns_lo, unsigned ns_hi, unsigned sk_lo, unsigned sk_hi,
                         const char *reserved, unsigned *eff_lo, unsigned *eff_hi)
{
    unsigned lo = ns_lo, hi = ns_hi;
    /* inet_sk_get_local_port_range(): a per-socket bound counts only inside
     * the namespace range. */
    if (sk_lo != 0 || sk_hi != 0) {
        if (ns_lo <= sk_lo && sk_lo <= ns_hi)
            lo = sk_lo;
        if (ns_lo <= sk_hi && sk_hi <= ns_hi)
            hi = sk_hi;
    }
    if (eff_lo)
        *eff_lo = lo;
    if (eff_hi)
        *eff_hi = hi;
    if (hi < lo)
        return 0;
    unsigned total = hi - lo + 1;
    unsigned res = reserved ? px_reserved_in_range(reserved, lo, hi) : 0;
    return res < total ? total - res : 0;
}

/* A counter kept from a names-then-values pair of lines, by its name there. */
struct counter_field {
    const char *name;
    size_t offset; /* of the uint64_t in the output struct */
};

/* The TcpExt counters kept, by their name in /proc/net/netstat. */
static const struct counter_field tcpext_fields[] = {
    {.name = "TW", .offset = offsetof(struct px_tcpext, tw)},
    {.name = "TWRecycled", .offset = offsetof(struct px_tcpext, tw_recycled)},
    {.name = "TWKilled", .offset = offsetof(struct px_tcpext, tw_killed)},
    {.name = "TCPTimeWaitOverflow", .offset = offsetof(struct px_tcpext, tw_overflow)},
    {.name = "TCPAbortOnData", .offset = offsetof(struct px_tcpext, abort_on_data)},
    {.name = "TCPSynRetrans", .offset = offsetof(struct px_tcpext, syn_retrans)},
    {.name = "PAWSTimewait", .offset = offsetof(struct px_tcpext, paws_timewait)},
    {.name = "ListenDrops", .offset = offsetof(struct px_tcpext, listen_drops)},
};

/* The Tcp counters kept, by their name in /proc/net/snmp. */
static const struct counter_field tcp_fields[] = {
    {.name = "ActiveOpens", .offset = offsetof(struct px_tcp_snmp, active_opens)},
    {.name = "PassiveOpens", .offset = offsetof(struct px_tcp_snmp, passive_opens)},
    {.name = "OutRsts", .offset = offsetof(struct px_tcp_snmp, out_rsts)},
};

/* The pair of lines after their "Prefix:": names, then values, in the same order. */
static void pairs_parse(char *names, char *values, const struct counter_field *fields,
                        size_t nfields, void *out)
{
    char *ns = NULL, *vs = NULL;
    char *n = strtok_r(strchr(names, ':') + 1, " \n", &ns);
    char *v = strtok_r(strchr(values, ':') + 1, " \n", &vs);
    while (n != NULL && v != NULL) {
        for (size_t i = 0; i < nfields; i++)
            if (strcmp(n, fields[i].name) == 0) {
                uint64_t x = strtoull(v, NULL, 10);
                memcpy((char *)out + fields[i].offset, &x, sizeof(x));
            }
        n = strtok_r(NULL, " \n", &ns);
        v = strtok_r(NULL, " \n", &vs);
    }
}

/* The counters of the line pair that starts with prefix ("TcpExt:") in path. 0 or -1. */
static int pairs_read(const char *path, const char *prefix, const struct counter_field *fields,
                      size_t nfields, void *out, size_t outlen)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    memset(out, 0, outlen);
    /* On the stack: the stats thread and doctor read at the same time. A TcpExt
     * line is about 2.2 KB on 6.x kernels. */
    char names[8192], values[8192];
    size_t plen = strlen(prefix);
    int found = -1;
    while (fgets(names, sizeof(names), f) != NULL) {
        if (fgets(values, sizeof(values), f) == NULL)
            break;
        if (strncmp(names, prefix, plen) != 0 || strncmp(values, prefix, plen) != 0)
            continue;
        pairs_parse(names, values, fields, nfields, out);
        found = 0;
        break;
    }
    fclose(f);
    return found;
}

int px_tcpext_read(const char *proc, struct px_tcpext *out)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/net/netstat", proc);
    return pairs_read(path, "TcpExt:", tcpext_fields, NELEMS(tcpext_fields), out, sizeof(*out));
}

int px_tcp_snmp_read(const char *proc, struct px_tcp_snmp *out)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/net/snmp", proc);
    return pairs_read(path, "Tcp:", tcp_fields, NELEMS(tcp_fields), out, sizeof(*out));
}

/* The column of name in the header line of /proc/net/stat/nf_conntrack, or -1. */
static int ct_column(char *header, const char *name)
{
    char *save = NULL;
    int i = 0;
    for (char *t = strtok_r(header, " \n", &save); t; t = strtok_r(NULL, " \n", &save), i++)
        if (strcmp(t, name) == 0)
            return i;
    return -1;
}

/* Field col (hex) of one per-CPU row. */
static uint64_t ct_field(const char *row, int col)
{
    char buf[512];
    snprintf(buf, sizeof(buf), "%s", row);
    char *save = NULL, *t = strtok_r(buf, " \n", &save);
    for (int i = 0; t && i < col; i++)
        t = strtok_r(NULL, " \n", &save);
    return t ? strtoull(t, NULL, 16) : 0;
}

int px_conntrack_read(const char *proc, struct px_conntrack *out)
{
    char path[256], line[512], hdr[512];
    snprintf(path, sizeof(path), "%s/net/stat/nf_conntrack", proc);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    memset(out, 0, sizeof(*out));
    int col[3] = {-1, -1, -1};
    static const char *const names[3] = {"entries", "insert_failed", "drop"};
    if (fgets(line, sizeof(line), f) != NULL)
        for (int k = 0; k < 3; k++) {
            memcpy(hdr, line, sizeof(hdr));
            col[k] = ct_column(hdr, names[k]);
        }
    int rows = 0;
    /* One row per possible CPU; entries is the namespace's count on every row. */
    while (col[0] >= 0 && col[1] >= 0 && col[2] >= 0 && fgets(line, sizeof(line), f) != NULL) {
        out->entries = ct_field(line, col[0]);
        out->insert_failed += ct_field(line, col[1]);
        out->drop += ct_field(line, col[2]);
        rows++;
    }
    fclose(f);
    return rows > 0 ? 0 : -1;
}

int64_t px_sockstat_tw(const char *proc)
{
    char path[256], line[256];
    snprintf(path, sizeof(path), "%s/net/sockstat", proc);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    int64_t tw = -1;
    while (fgets(line, sizeof(line), f) != NULL) {
        char *p = strstr(line, " tw ");
        if (strncmp(line, "TCP:", 4) == 0 && p != NULL) {
            tw = strtoll(p + 4, NULL, 10);
            break;
        }
    }
    fclose(f);
    return tw;
}

unsigned px_fd_count(const char *proc, uint64_t limit)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/self/fd", proc);
    DIR *d = opendir(path);
    unsigned n = 0;
    if (d == NULL) {
        /* fs.nr_open's default (1048576) bounds fd numbers unless raised. */
        for (uint64_t fd = 0; fd < limit && fd < (1u << 20); fd++)
            n += fcntl((int)fd, F_GETFD) != -1;
        return n;
    }
    char self[16];
    snprintf(self, sizeof(self), "%d", dirfd(d));
    const struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.' && strcmp(e->d_name, self) != 0;
    closedir(d);
    return n;
}

void px_kernel_release(char *out, size_t outlen, int *major, int *minor)
{
    struct utsname u;
    if (uname(&u) != 0)
        snprintf(u.release, sizeof(u.release), "unknown");
    snprintf(out, outlen, "%s", u.release);
    *major = *minor = 0;
    sscanf(u.release, "%d.%d", major, minor);
}

int px_is_loopback(const void *sockaddr)
{
    const struct sockaddr *sa = sockaddr;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = sockaddr;
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = sockaddr;
        if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
            return 1;
        return IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && in6->sin6_addr.s6_addr[12] == 127;
    }
    return 0;
}

/* One row of the sysctl table into env; one the kernel lacks as the row says. */
static void env_read_sysctl(const char *proc, const struct px_sysctl *s, struct px_env *env)
{
    if (s->kind == PX_SYSCTL_INT) {
        int64_t v;
        px_sysctls_set_int(env, s, px_sysctl_int(proc, s->name, &v) == 0 ? v : -1);
        return;
    }
    char text[PX_SYSCTL_TEXT_MAX];
    if (px_sysctl_str(proc, s->name, text, sizeof(text)) < 0 ||
        px_sysctls_set_text(env, s, text) < 0)
        px_sysctls_set_text(env, s, s->fallback);
}

void px_env_read(const char *proc, struct px_env *env)
{
    memset(env, 0, sizeof(*env));
    px_kernel_release(env->kernel, sizeof(env->kernel), &env->kernel_major, &env->kernel_minor);
    for (size_t i = 0; i < PX_SYSCTL_COUNT; i++)
        env_read_sysctl(proc, &px_sysctls[i], env);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        env->nofile_soft = rl.rlim_cur;
        env->nofile_hard = rl.rlim_max;
    }
    env->cpus = sysconf(_SC_NPROCESSORS_ONLN);
}
