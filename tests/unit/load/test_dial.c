/* SPDX-License-Identifier: MIT */
/* Unit tests of the dial step: a port taken at bind() or at connect(), several target ports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include "portex/base/outcome.h"
#include "portex/load/dial.h"
#include "portex/load/load.h"

static struct px_load loopback_load(uint16_t port)
{
    struct px_load load;
    px_load_defaults(&load);
    struct sockaddr_in *in = (struct sockaddr_in *)&load.target;
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    load.target_len = sizeof(*in);
    return load;
}

static uint16_t local_port(int fd)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    return ntohs(a.sin_port);
}

/* With IP_BIND_ADDRESS_NO_PORT the port waits for connect(); bind-first takes one now. */
static void px_dial_socket__bind_first_takes_a_port_now(void **state)
{
    (void)state;
    struct px_load load = loopback_load(9);
    struct sockaddr_in *src = (struct sockaddr_in *)&load.sources[0];
    src->sin_family = AF_INET;
    src->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    load.nsources = 1;
    unsigned next = 0;
    int fd = px_dial_socket(&load, &next, 0);
    assert_true(fd >= 0);
    assert_int_equal(local_port(fd), 0);
    close(fd);
    load.bind_first = 1;
    fd = px_dial_socket(&load, &next, 0);
    assert_true(fd >= 0);
    assert_int_not_equal(local_port(fd), 0);
    assert_int_equal(next, 2);
    close(fd);
    load.nsources = 0; /* no --source: the wildcard address, still a port now */
    fd = px_dial_socket(&load, &next, 0);
    assert_true(fd >= 0);
    assert_int_not_equal(local_port(fd), 0);
    close(fd);
}

/* Two listeners on consecutive loopback ports, *a on the first. 0 when found. */
static int two_listeners(int fds[2], uint16_t *first)
{
    for (uint16_t p = 21001; p < 21999; p += 2) { /* below the ephemeral range */
        for (int k = 0; k < 2; k++) {
            struct sockaddr_in a = {.sin_family = AF_INET,
                                    .sin_port = htons((uint16_t)(p + k)),
                                    .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
            fds[k] = socket(AF_INET, SOCK_STREAM, 0);
            /* A busy host keeps TIME_WAIT on many ports here: they need not stop a listener. */
            int one = 1;
            setsockopt(fds[k], SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
            if (bind(fds[k], (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fds[k], 8) < 0) {
                close(fds[k]);
                if (k == 1)
                    close(fds[0]);
                break;
            }
            if (k == 1) {
                *first = p;
                return 0;
            }
        }
    }
    return -1;
}

static uint16_t peer_port(int fd)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    assert_int_equal(getpeername(fd, (struct sockaddr *)&a, &len), 0);
    return ntohs(a.sin_port);
}

/* --target-ports 2: connections alternate between the target's port and the next. */
static void px_dial_connect__spreads_over_target_ports(void **state)
{
    (void)state;
    int lfd[2];
    uint16_t first = 0;
    assert_int_equal(two_listeners(lfd, &first), 0);
    struct px_load load = loopback_load(first);
    load.target_ports = 2;
    unsigned src = 0, dst = 0;
    for (int i = 0; i < 4; i++) {
        int fd = px_dial_socket(&load, &src, 0);
        int rc = px_dial_connect(fd, &load, &dst);
        assert_true(rc == 0 || errno == EINPROGRESS);
        usleep(20000);
        assert_int_equal(peer_port(fd), first + i % 2);
        close(fd);
    }
    close(lfd[0]);
    close(lfd[1]);
}

static void px_dial_out_of_ports__eaddrinuse_only_when_binding_first(void **state)
{
    (void)state;
    struct px_load load = loopback_load(9);
    assert_true(px_dial_out_of_ports(&load, px_cause_from_errno(EADDRNOTAVAIL)));
    assert_false(px_dial_out_of_ports(&load, px_cause_from_errno(EADDRINUSE)));
    load.bind_first = 1;
    assert_true(px_dial_out_of_ports(&load, px_cause_from_errno(EADDRINUSE)));
    assert_false(px_dial_out_of_ports(&load, px_cause_from_errno(ECONNREFUSED)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(px_dial_socket__bind_first_takes_a_port_now),
        cmocka_unit_test(px_dial_connect__spreads_over_target_ports),
        cmocka_unit_test(px_dial_out_of_ports__eaddrinuse_only_when_binding_first),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
