/* SPDX-License-Identifier: MIT */
/*
 * Child processes with a pipe each way, and the parent's waits on their pipes.
 * A stop signal never interrupts anything here: SIGINT and SIGTERM are blocked
 * since main() and arrive as a readable signalfd in the parent's poll set; the
 * parent passes them on and keeps reading, so a running mode still reports.
 */
#include "portex/cmd/child.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "portex/base/stop.h"

pid_t px_child_spawn(struct px_child *c)
{
    int d[2], u[2];
    if (pipe2(d, O_CLOEXEC) < 0)
        return c->pid = -1;
    if (pipe2(u, O_CLOEXEC) < 0) {
        close(d[0]);
        close(d[1]);
        return c->pid = -1;
    }
    c->pid = fork();
    if (c->pid == 0) {
        close(d[1]);
        close(u[0]);
        c->down[0] = d[0];
        c->up[1] = u[1];
        return 0;
    }
    close(d[0]);
    close(u[1]);
    c->down[1] = d[1];
    c->up[0] = u[0];
    if (c->pid < 0) {
        close(d[1]);
        close(u[0]);
        c->down[1] = c->up[0] = -1;
    }
    return c->pid;
}

static void close_pair(int *fds)
{
    for (int e = 0; e < 2; e++)
        if (fds[e] >= 0) {
            close(fds[e]);
            fds[e] = -1;
        }
}

void px_child_end(struct px_child *c, int sig)
{
    if (c->pid > 0) {
        if (sig)
            kill(c->pid, sig);
        while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    close_pair(c->down);
    close_pair(c->up);
}

void px_child_send(int fd, char c)
{
    if (write(fd, &c, 1) != 1)
        _exit(3);
}

void px_child_fail(int fd, const char *what, int err)
{
    char msg[200];
    snprintf(msg, sizeof(msg), "%s: %s", what, strerror(err));
    px_child_fail_text(fd, msg);
}

void px_child_fail_text(int fd, const char *text)
{
    char msg[PX_CHILD_MSG_MAX];
    int n = snprintf(msg, sizeof(msg), "E%s", text);
    if (n >= (int)sizeof(msg))
        n = (int)sizeof(msg) - 1;
    if (write(fd, msg, (size_t)n + 1) < 0)
        _exit(3);
    _exit(3);
}

int px_child_read_byte(int fd)
{
    char c;
    ssize_t n;
    do
        n = read(fd, &c, 1);
    while (n < 0 && errno == EINTR);
    return n == 1 ? c : -1;
}

int px_child_write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

int px_child_read_all(int fd, void *p, size_t n)
{
    char *c = p;
    while (n > 0) {
        ssize_t r = read(fd, c, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        c += r;
        n -= (size_t)r;
    }
    return 0;
}

/* ---- the parent's waits --------------------------------------------------- */

int px_child_waits_open(struct px_child_waits *w)
{
    memset(w, 0, sizeof(*w));
    px_stop_set(&w->stop_set);
    w->stop_fd = px_stop_fd(&w->stop_set);
    return w->stop_fd < 0 ? -1 : 0;
}

void px_child_waits_close(struct px_child_waits *w)
{
    if (w->stop_fd >= 0)
        close(w->stop_fd);
    w->stop_fd = -1;
}

int px_child_stopped(struct px_child_waits *w)
{
    /* Every signal is passed on, as each may be the one a child missed. */
    while (px_stop_pending(&w->stop_set)) {
        w->stopped = 1;
        for (int i = 0; i < PX_CHILD_FORWARD_MAX; i++)
            if (w->forward[i] > 0)
                kill(w->forward[i], SIGINT);
    }
    return w->stopped;
}

/* Waits until fd has data or has ended, taking stop signals (and ticking) meanwhile. 0, or -1. */
static int wait_readable(struct px_child_waits *w, int fd)
{
    for (;;) {
        struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = w->stop_fd, .events = POLLIN}};
        int n = poll(p, w->stop_fd >= 0 ? 2 : 1, w->tick ? PX_CHILD_TICK_MS : -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0) {
            w->tick(w->tick_arg);
            continue;
        }
        if (p[1].revents & POLLIN)
            px_child_stopped(w);
        if (p[0].revents)
            return 0;
    }
}

int px_child_read(struct px_child_waits *w, int fd, void *p, size_t n)
{
    char *c = p;
    while (n > 0) {
        if (wait_readable(w, fd) < 0)
            return -1;
        ssize_t r = read(fd, c, n);
        if (r < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (r <= 0)
            return -1;
        c += r;
        n -= (size_t)r;
    }
    return 0;
}

int px_child_expect(struct px_child_waits *w, int fd, char want, char *err, size_t errlen,
                    const char *who)
{
    char buf[PX_CHILD_MSG_MAX], c = 0;
    if (px_child_read(w, fd, &c, 1) == 0 && c == want)
        return 0;
    if (c == 'E') {
        size_t n = 0;
        char ch;
        while (n + 1 < sizeof(buf) && px_child_read(w, fd, &ch, 1) == 0 && ch > 0)
            buf[n++] = ch;
        buf[n] = '\0';
        snprintf(err, errlen, "%s: %s", who, buf);
    } else {
        snprintf(err, errlen, "%s ended early", who);
    }
    return -1;
}
