/* SPDX-License-Identifier: MIT */
/* Unit tests of the sock_diag request and reply parsing, and an exact live count. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include "portex/kernel/netlink.h"

static void px_diag_build_request__time_wait_dump(void **state)
{
    (void)state;
    char buf[128];
    size_t n = px_diag_build_request(buf, sizeof(buf), AF_INET6, 7);
    const struct nlmsghdr *h = (const struct nlmsghdr *)buf;
    const struct inet_diag_req_v2 *r = NLMSG_DATA(h);
    assert_int_equal(n, sizeof(*h) + sizeof(*r));
    assert_int_equal(h->nlmsg_type, SOCK_DIAG_BY_FAMILY);
    assert_int_equal(h->nlmsg_flags, NLM_F_REQUEST | NLM_F_DUMP);
    assert_int_equal(h->nlmsg_seq, 7);
    assert_int_equal(r->sdiag_family, AF_INET6);
    assert_int_equal(r->sdiag_protocol, IPPROTO_TCP);
    assert_int_equal(r->idiag_states, 1u << 6);
    assert_int_equal(px_diag_build_request(buf, 8, AF_INET, 1), 0);
}

/* Appends one SOCK_DIAG_BY_FAMILY record to buf at *off. */
static void add_record(char *buf, size_t *off, const char *dst, uint16_t dport, uint8_t st)
{
    struct nlmsghdr *h = (struct nlmsghdr *)(buf + *off);
    memset(h, 0, NLMSG_SPACE(sizeof(struct inet_diag_msg)));
    h->nlmsg_len = NLMSG_LENGTH(sizeof(struct inet_diag_msg));
    h->nlmsg_type = SOCK_DIAG_BY_FAMILY;
    struct inet_diag_msg *m = NLMSG_DATA(h);
    m->idiag_family = AF_INET;
    m->idiag_state = st;
    m->id.idiag_dport = htons(dport);
    inet_pton(AF_INET, dst, &m->id.idiag_dst[0]);
    *off += NLMSG_SPACE(sizeof(struct inet_diag_msg));
}

static void px_diag_parse__counts_toward_target(void **state)
{
    (void)state;
    _Alignas(struct nlmsghdr) char buf[4096];
    size_t off = 0;
    add_record(buf, &off, "127.0.0.1", 8080, 6);
    add_record(buf, &off, "127.0.0.1", 8080, 6);
    add_record(buf, &off, "127.0.0.1", 8081, 6);
    add_record(buf, &off, "127.0.0.2", 8080, 6);
    struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons(8080)};
    inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
    struct px_tw_count c = {0};
    assert_int_equal(px_diag_parse(buf, off, (struct sockaddr *)&dst, &c), 0);
    assert_int_equal(c.all, 4);
    assert_int_equal(c.toward, 2);
    struct nlmsghdr *done = (struct nlmsghdr *)(buf + off);
    done->nlmsg_len = NLMSG_LENGTH(4);
    done->nlmsg_type = NLMSG_DONE;
    off += NLMSG_SPACE(4);
    memset(&c, 0, sizeof(c));
    assert_int_equal(px_diag_parse(buf, off, (struct sockaddr *)&dst, &c), 1);
    assert_int_equal(c.toward, 2);
}

static void px_diag_parse__error_sets_errno(void **state)
{
    (void)state;
    _Alignas(struct nlmsghdr) char buf[256];
    memset(buf, 0, sizeof(buf));
    struct nlmsghdr *h = (struct nlmsghdr *)buf;
    h->nlmsg_len = NLMSG_LENGTH(sizeof(struct nlmsgerr));
    h->nlmsg_type = NLMSG_ERROR;
    ((struct nlmsgerr *)NLMSG_DATA(h))->error = -EPERM;
    struct px_tw_count c = {0};
    assert_int_equal(px_diag_parse(buf, h->nlmsg_len, NULL, &c), -1);
    assert_int_equal(errno, EPERM);
}

/* Live: N connections that the client closes first leave exactly N TIME_WAIT. */
static void px_diag_count_tw__exact_live_count(void **state)
{
    (void)state;
    enum { N = 37 };
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(lfd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    assert_int_equal(listen(lfd, 128), 0);
    socklen_t alen = sizeof(addr);
    getsockname(lfd, (struct sockaddr *)&addr, &alen);
    int fd = px_diag_open();
    assert_true(fd >= 0);
    struct px_tw_count before;
    assert_int_equal(px_diag_count_tw(fd, (struct sockaddr *)&addr, &before), 0);
    assert_int_equal(before.toward, 0);
    int srv[N];
    for (int i = 0; i < N; i++) {
        int c = socket(AF_INET, SOCK_STREAM, 0);
        assert_int_equal(connect(c, (struct sockaddr *)&addr, sizeof(addr)), 0);
        srv[i] = accept(lfd, NULL, NULL);
        close(c); /* the client sends the first FIN */
    }
    for (int i = 0; i < N; i++)
        close(srv[i]);
    usleep(100000);
    struct px_tw_count after;
    assert_int_equal(px_diag_count_tw(fd, (struct sockaddr *)&addr, &after), 0);
    assert_int_equal(after.toward, N);
    assert_true(after.all >= N);
    close(fd);
    close(lfd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(px_diag_build_request__time_wait_dump),
        cmocka_unit_test(px_diag_parse__counts_toward_target),
        cmocka_unit_test(px_diag_parse__error_sets_errno),
        cmocka_unit_test(px_diag_count_tw__exact_live_count),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
