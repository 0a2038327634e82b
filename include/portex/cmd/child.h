/* SPDX-License-Identifier: MIT */
/*
 * The lab's child processes: each forked with a pipe each way, speaking in
 * status bytes ('E' and a message when it fails), and the parent's waits on
 * those pipes, which take SIGINT and SIGTERM from a signalfd in the same poll
 * set and pass a stop on to the children that run a load.
 */
#ifndef PORTEX_CMD_CHILD_H
#define PORTEX_CMD_CHILD_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

#define PX_CHILD_FORWARD_MAX 8 /* children told of a stop */

/* A child process and its two pipes. */
struct px_child {
    pid_t pid;   /* -1: none */
    int down[2]; /* parent to child: the child reads [0], the parent writes [1]; -1 closed */
    int up[2];   /* child to parent: the child writes [1], the parent reads [0] */
};

#define PX_CHILD_TICK_MS 50 /* how often a wait calls its tick */

/* The parent's waits: SIGINT and SIGTERM (blocked since main()) through a signalfd. */
struct px_child_waits {
    sigset_t stop_set;
    int stop_fd;                         /* signalfd of stop_set, -1 when none */
    int stopped;                         /* a SIGINT or SIGTERM came */
    pid_t forward[PX_CHILD_FORWARD_MAX]; /* sent SIGINT on a stop; 0: none */
    /* called about every PX_CHILD_TICK_MS while a wait lasts (the lab samples its
     * namespaces); NULL: none */
    void (*tick)(void *arg);
    void *tick_arg;
};

/*
 * Forks c with a pipe each way (close-on-exec). Returns 0 in the child, which
 * keeps c->down[0] and c->up[1]; in the parent the pid, which keeps the other
 * ends, or -1 with errno set.
 */
pid_t px_child_spawn(struct px_child *c);
/* Sends sig (0: none) to c, waits for it to exit, and closes the parent's pipe ends. */
void px_child_end(struct px_child *c, int sig);

/* In a child: one status byte to the parent; exits 3 when the parent is gone. */
void px_child_send(int fd, char c);
#define PX_CHILD_MSG_MAX 480 /* a child's failure message, with its 'E' and NUL */

/* In a child: 'E' and "what: strerror(err)" to the parent, then exit 3. */
__attribute__((noreturn)) void px_child_fail(int fd, const char *what, int err);
/* In a child: 'E' and text (cut to fit) to the parent, then exit 3. */
__attribute__((noreturn)) void px_child_fail_text(int fd, const char *text);
/* One byte from fd, or -1 at its end. */
int px_child_read_byte(int fd);
/* Writes n bytes. 0, or -1 when the pipe broke. */
int px_child_write_all(int fd, const void *p, size_t n);
/* Reads n bytes. 0, or -1 when the pipe ended first. */
int px_child_read_all(int fd, void *p, size_t n);

/* Opens the parent's waits: the signalfd of SIGINT and SIGTERM. 0, or -1 with errno. */
int px_child_waits_open(struct px_child_waits *w);
/* Closes the signalfd. */
void px_child_waits_close(struct px_child_waits *w);
/* Takes a stop signal pending now, without waiting. 1 when stopped, now or before. */
int px_child_stopped(struct px_child_waits *w);
/*
 * Reads n bytes from a child's pipe; a stop signal meanwhile sets w->stopped
 * and is sent on to w->forward as SIGINT, and the read goes on (the children
 * report what ran). 0, or -1 when the pipe ended first.
 */
int px_child_read(struct px_child_waits *w, int fd, void *p, size_t n);
/*
 * Reads a child's status byte: 0 when it is want; else -1 with "who: the
 * child's message" or "who ended early" in err.
 */
int px_child_expect(struct px_child_waits *w, int fd, char want, char *err, size_t errlen,
                    const char *who);

#endif
