/* SPDX-License-Identifier: MIT */
/*
 * How long one sock_diag TIME_WAIT dump takes with many TIME_WAIT sockets.
 * Makes N sockets in TIME_WAIT toward two local listeners (the client closes
 * first), then times px_diag_count_tw. Run it in a fresh network namespace
 * (bench/sockdiag.sh does) so the host's port budget is not used.
 * Usage: bench_sockdiag [N]
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "portex/base/clock.h"
#include "portex/kernel/netlink.h"

static int listener(struct sockaddr_in *addr)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    addr->sin_family = AF_INET;
    addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr->sin_port = 0;
    socklen_t len = sizeof(*addr);
    if (bind(fd, (struct sockaddr *)addr, sizeof(*addr)) < 0 || listen(fd, 4096) < 0)
        return -1;
    getsockname(fd, (struct sockaddr *)addr, &len);
    return fd;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 30000;
    struct sockaddr_in a[2];
    int l[2] = {listener(&a[0]), listener(&a[1])};
    if (l[0] < 0 || l[1] < 0) {
        perror("listen");
        return 1;
    }
    long made = 0;
    for (long i = 0; i < n; i++) {
        int k = (int)(i % 2);
        int c = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(c, (struct sockaddr *)&a[k], sizeof(a[k])) < 0) {
            close(c);
            break;
        }
        int s = accept(l[k], NULL, NULL);
        close(c); /* client first: the client side holds TIME_WAIT */
        close(s);
        made++;
    }
    usleep(200000);
    int fd = px_diag_open();
    enum { RUNS = 21 };
    uint64_t us[RUNS];
    struct px_tw_count tw = {0};
    for (int r = 0; r < RUNS; r++) {
        uint64_t t0 = px_clock_us();
        if (px_diag_count_tw(fd, (struct sockaddr *)&a[0], &tw) < 0) {
            perror("sock_diag");
            return 1;
        }
        us[r] = px_clock_us() - t0;
    }
    qsort(us, RUNS, sizeof(us[0]), cmp_u64);
    printf("connections made %ld; TIME_WAIT in namespace %llu, toward listener 1 %llu; "
           "dump median %.2f ms, max %.2f ms (%d runs)\n",
           made, (unsigned long long)tw.all, (unsigned long long)tw.toward, us[RUNS / 2] / 1e3,
           us[RUNS - 1] / 1e3, RUNS);
    return 0;
}
