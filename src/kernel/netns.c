/* SPDX-License-Identifier: MIT */
/* Other network namespaces, measured from outside through a pid that lives in each. */
#include "portex/kernel/netns.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "portex/kernel/netlink.h"

int px_netns_socket(pid_t pid, int family, int type, int protocol)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
    int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    int there = open(path, O_RDONLY | O_CLOEXEC);
    int fd = -1, err = 0;
    if (self < 0 || there < 0) {
        err = errno;
        goto out;
    }
    if (setns(there, CLONE_NEWNET) < 0) {
        err = errno;
        goto out;
    }
    fd = socket(family, type | SOCK_CLOEXEC, protocol);
    err = errno;
    /* Only this thread moved; staying in the other namespace would send every
     * later socket of this thread there: nothing sane is left to do. */
    if (setns(self, CLONE_NEWNET) < 0)
        abort();
out:
    if (self >= 0)
        close(self);
    if (there >= 0)
        close(there);
    errno = err;
    return fd;
}

static void proc_of(pid_t pid, char *out, size_t outlen)
{
    snprintf(out, outlen, "/proc/%d", (int)pid);
}

int px_netns_watch_start(struct px_netns_watch *w, const pid_t *pids, size_t n)
{
    memset(w, 0, sizeof(*w));
    w->fig.time_wait_peak = 0;
    for (size_t i = 0; i < n && i < PX_NETNS_WATCH_MAX; i++) {
        char proc[32];
        proc_of(pids[i], proc, sizeof(proc));
        w->pid[i] = pids[i];
        w->diag_fd[i] = px_netns_socket(pids[i], AF_NETLINK, SOCK_DGRAM, NETLINK_SOCK_DIAG);
        w->n = i + 1;
        if (w->diag_fd[i] < 0) {
            int err = errno;
            px_netns_watch_close(w);
            errno = err;
            return -1;
        }
        px_tcpext_read(proc, &w->ext0[i]);
        px_tcp_snmp_read(proc, &w->tcp0[i]);
        if (px_conntrack_read(proc, &w->ct0[i]) == 0)
            w->fig.have_conntrack = 1;
    }
    return 0;
}

static void count_tw_cb(const struct px_diag_sock *sk, void *arg)
{
    if (sk->state == TCP_TIME_WAIT)
        (*(int64_t *)arg)++;
}

void px_netns_watch_sample(struct px_netns_watch *w)
{
    int64_t tw = 0;
    int counted = 1;
    uint64_t entries = 0;
    for (size_t i = 0; i < w->n; i++) {
        char proc[32];
        proc_of(w->pid[i], proc, sizeof(proc));
        struct px_conntrack ct;
        if (w->fig.have_conntrack && px_conntrack_read(proc, &ct) == 0)
            entries += ct.entries;
        if (w->diag_fd[i] < 0 || px_diag_dump(w->diag_fd[i], AF_INET, PX_DIAG_STATE(TCP_TIME_WAIT),
                                              count_tw_cb, &tw) < 0)
            counted = 0; /* one namespace unreadable: no peak from this sample */
    }
    if (counted && tw > w->fig.time_wait_peak)
        w->fig.time_wait_peak = tw;
    w->fig.ct.entries = entries; /* the last sample is the end's */
    if (entries > w->fig.ct_peak)
        w->fig.ct_peak = entries;
}

/* after - before, field by field, for structs made of uint64_t counters only. */
static void counters_delta(void *out, const void *after, const void *before, size_t size)
{
    for (size_t k = 0; k + sizeof(uint64_t) <= size; k += sizeof(uint64_t)) {
        uint64_t a, b, d;
        memcpy(&a, (const char *)after + k, sizeof(a));
        memcpy(&b, (const char *)before + k, sizeof(b));
        memcpy(&d, (const char *)out + k, sizeof(d));
        d += a >= b ? a - b : 0;
        memcpy((char *)out + k, &d, sizeof(d));
    }
}

void px_netns_watch_end(struct px_netns_watch *w)
{
    px_netns_watch_sample(w);
    for (size_t i = 0; i < w->n; i++) {
        char proc[32];
        proc_of(w->pid[i], proc, sizeof(proc));
        struct px_tcpext ext;
        struct px_tcp_snmp tcp;
        struct px_conntrack ct;
        if (px_tcpext_read(proc, &ext) == 0)
            counters_delta(&w->fig.ext, &ext, &w->ext0[i], sizeof(ext));
        if (px_tcp_snmp_read(proc, &tcp) == 0)
            counters_delta(&w->fig.tcp, &tcp, &w->tcp0[i], sizeof(tcp));
        if (w->fig.have_conntrack && px_conntrack_read(proc, &ct) == 0) {
            w->fig.ct.insert_failed += ct.insert_failed - w->ct0[i].insert_failed;
            w->fig.ct.drop += ct.drop - w->ct0[i].drop;
        }
    }
    px_netns_watch_close(w);
}

void px_netns_watch_close(struct px_netns_watch *w)
{
    for (size_t i = 0; i < w->n; i++)
        if (w->diag_fd[i] >= 0) {
            close(w->diag_fd[i]);
            w->diag_fd[i] = -1;
        }
}

uint64_t px_netns_closed_first(const struct px_netns_figures *f)
{
    return f->ext.tw + f->ext.tw_killed + f->ext.tw_overflow;
}
