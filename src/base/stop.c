/* SPDX-License-Identifier: MIT */
/* The stop signals (SIGINT, SIGTERM): blocked from the start, taken by explicit waits. */
#include "portex/base/stop.h"

#include <errno.h>
#include <pthread.h>
#include <sys/signalfd.h>

void px_stop_set(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
}

void px_stop_block(sigset_t *stop_set, sigset_t *old)
{
    px_stop_set(stop_set);
    pthread_sigmask(SIG_BLOCK, stop_set, old);
}

int px_stop_pending(const sigset_t *stop_set)
{
    const struct timespec zero = {0, 0};
    int sig = sigtimedwait(stop_set, NULL, &zero);
    return sig == SIGINT || sig == SIGTERM;
}

int px_stop_wait(const sigset_t *stop_set, const struct timespec *timeout)
{
    int sig;
    do
        sig = timeout ? sigtimedwait(stop_set, NULL, timeout) : sigwaitinfo(stop_set, NULL);
    while (sig < 0 && errno == EINTR);
    return sig == SIGINT || sig == SIGTERM;
}

int px_stop_fd(const sigset_t *stop_set)
{
    return signalfd(-1, stop_set, SFD_CLOEXEC | SFD_NONBLOCK);
}
