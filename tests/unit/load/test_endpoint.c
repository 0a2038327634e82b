/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the /metrics endpoint. Like test_server.c, this file includes
 * endpoint.c to reach its statics: the serving thread is not started, the
 * test drives the endpoint's event base itself between a client's steps, so
 * every check is on a known state (no sleeps against a thread).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../../src/load/endpoint.c"

#include <fcntl.h>
#include <poll.h>

/* What Prometheus 2.42 sends. */
#define PROMETHEUS_ACCEPT                                                                          \
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"       \
    "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"

/* An endpoint on 127.0.0.1:0 with its evhttp set up, not started: the test owns its base. */
static struct px_endpoint *endpoint_up(void)
{
    char err[256] = "";
    struct sockaddr_storage ss;
    socklen_t len;
    assert_int_equal(px_addr_parse("127.0.0.1:0", &ss, &len, err, sizeof(err)), 0);
    struct px_endpoint *ep = px_endpoint_open(&ss, len, err, sizeof(err));
    assert_non_null(ep);
    assert_int_equal(serve_setup(ep), 0);
    return ep;
}

/* Runs the endpoint's loop for about ms milliseconds. */
static void pump(struct px_endpoint *ep, int ms)
{
    for (int i = 0; i < ms; i++) {
        event_base_loop(ep->base, EVLOOP_NONBLOCK);
        usleep(1000);
    }
}

/* A non-blocking client connection to the endpoint. */
static int client(struct px_endpoint *ep)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&ep->addr, sizeof(struct sockaddr_in)), 0);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    return fd;
}

static void send_text(int fd, const char *s)
{
    assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

/* Reads what the endpoint answers on fd within about 2 s: stops at the end of a
 * response (its Content-Length) or of the connection. The bytes, NUL-ended;
 * -1 when the connection ended (or was reset) with nothing read. */
static ssize_t answer(struct px_endpoint *ep, int fd, char *buf, size_t cap)
{
    size_t n = 0;
    for (int i = 0; i < 2000; i++) {
        event_base_loop(ep->base, EVLOOP_NONBLOCK);
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r == 0 || (r < 0 && errno == ECONNRESET)) {
            buf[n] = '\0';
            return n ? (ssize_t)n : -1;
        }
        if (r > 0)
            n += (size_t)r;
        buf[n] = '\0';
        const char *body = strstr(buf, "\r\n\r\n");
        const char *cl = strcasestr(buf, "Content-Length: ");
        if (body && cl && n >= (size_t)(body + 4 - buf) + strtoul(cl + 16, NULL, 10))
            break;
        usleep(1000);
    }
    buf[n] = '\0';
    return (ssize_t)n;
}

/* 1 when the taken eventfd is readable now. */
static int taken(const struct px_endpoint *ep)
{
    struct pollfd p = {.fd = px_endpoint_taken_fd(ep), .events = POLLIN};
    return poll(&p, 1, 0) == 1;
}

static void wants_openmetrics__as_prometheus_and_curl_ask(void **state)
{
    (void)state;
    assert_int_equal(px_endpoint_wants_openmetrics(PROMETHEUS_ACCEPT), 1);
    assert_int_equal(px_endpoint_wants_openmetrics("application/openmetrics-text"), 1);
    assert_int_equal(
        px_endpoint_wants_openmetrics("text/plain, Application/OpenMetrics-Text; q=0.5"), 1);
    assert_int_equal(px_endpoint_wants_openmetrics(NULL), 0);
    assert_int_equal(px_endpoint_wants_openmetrics("*/*"), 0);
    assert_int_equal(px_endpoint_wants_openmetrics("text/plain;version=0.0.4"), 0);
    assert_int_equal(px_endpoint_wants_openmetrics("application/openmetrics-text;q=0"), 0);
    assert_int_equal(px_endpoint_wants_openmetrics("application/openmetrics-textual"), 0);
}

static void open__a_busy_port_says_why(void **state)
{
    (void)state;
    struct px_endpoint *first = endpoint_up();
    char err[256] = "", want[128];
    int port = ntohs(((struct sockaddr_in *)&first->addr)->sin_port);

    struct px_endpoint *second =
        px_endpoint_open(&first->addr, sizeof(struct sockaddr_in), err, sizeof(err));

    assert_null(second);
    snprintf(want, sizeof(want), "cannot listen on 127.0.0.1:%d: Address already in use", port);
    assert_string_equal(err, want);
    px_endpoint_free(first);
}

static void request_cb__format_from_accept(void **state)
{
    (void)state;
    struct px_endpoint *ep = endpoint_up();
    px_endpoint_publish(ep, "a 1\n# EOF\n", 10, "a 1\n", 4, 0);
    int om = client(ep), prom = client(ep);
    char buf[4096];

    send_text(om, "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: " PROMETHEUS_ACCEPT "\r\n\r\n");
    answer(ep, om, buf, sizeof(buf));
    assert_non_null(strstr(buf, "HTTP/1.1 200 OK\r\n"));
    assert_non_null(strstr(buf, "Content-Type: " PX_ENDPOINT_OPENMETRICS "\r\n"));
    assert_non_null(strstr(buf, "\r\n\r\na 1\n# EOF\n"));
    send_text(prom, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    answer(ep, prom, buf, sizeof(buf));
    assert_non_null(strstr(buf, "Content-Type: " PX_ENDPOINT_PROMETHEUS "\r\n"));
    assert_non_null(strstr(buf, "Content-Length: 4\r\n"));
    assert_non_null(strstr(buf, "\r\n\r\na 1\n"));

    struct px_endpoint_counts n;
    px_endpoint_counts(ep, &n);
    assert_int_equal(n.openmetrics, 1);
    assert_int_equal(n.prometheus, 1);
    close(om);
    close(prom);
    px_endpoint_free(ep);
}

static void request_cb__other_paths_and_methods_refused(void **state)
{
    (void)state;
    struct px_endpoint *ep = endpoint_up();
    int a = client(ep), b = client(ep);
    char buf[4096];

    send_text(a, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    answer(ep, a, buf, sizeof(buf));
    int not_found = strncmp(buf, "HTTP/1.1 404 ", 13) == 0;
    send_text(b, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
    answer(ep, b, buf, sizeof(buf));

    assert_true(not_found);
    /* evhttp 2.1.12 answers a method it was not allowed with 501 (its header says 405). */
    assert_true(strncmp(buf, "HTTP/1.1 501 ", 13) == 0);
    close(a);
    close(b);
    px_endpoint_free(ep);
}

/* Before any publish a scrape gets an empty exposition that still parses. */
static void request_cb__empty_before_the_first_publish(void **state)
{
    (void)state;
    struct px_endpoint *ep = endpoint_up();
    int fd = client(ep);
    char buf[4096];

    send_text(fd,
              "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: application/openmetrics-text\r\n\r\n");
    answer(ep, fd, buf, sizeof(buf));

    assert_non_null(strstr(buf, "Content-Length: 6\r\n\r\n# EOF\n"));
    close(fd);
    px_endpoint_free(ep);
}

/* Only a whole GET response of the final publish counts as taken: not one of
 * an earlier publish, and not a HEAD. */
static void complete_cb__final_taken_by_a_final_get_only(void **state)
{
    (void)state;
    struct px_endpoint *ep = endpoint_up();
    int fd = client(ep);
    char buf[4096];
    px_endpoint_publish(ep, "a 1\n# EOF\n", 10, "a 1\n", 4, 0);
    send_text(fd, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    answer(ep, fd, buf, sizeof(buf));
    int early = taken(ep);
    px_endpoint_publish(ep, "a 2\n# EOF\n", 10, "a 2\n", 4, 1);
    send_text(fd, "HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    answer(ep, fd, buf, sizeof(buf));
    pump(ep, 20);
    int by_head = taken(ep);

    send_text(fd, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    answer(ep, fd, buf, sizeof(buf));

    assert_false(early);
    assert_false(by_head);
    assert_non_null(strstr(buf, "\r\n\r\na 2\n"));
    assert_true(taken(ep));
    close(fd);
    px_endpoint_free(ep);
}

/* A slowloris keeps evhttp's timeout alive with every byte: the sweeper ends it. */
static void sweep_cb__shuts_a_connection_that_completes_no_request(void **state)
{
    (void)state;
    struct px_endpoint *ep = endpoint_up();
    int fd = client(ep);
    send_text(fd, "GET /metrics HTTP/1.1\r\nX-Slow: a");
    pump(ep, 20);
    assert_int_equal(ep->nconns, 1);
    ep->conns[0].since_us -= PX_ENDPOINT_REQUEST_S * 1000000ull + 1;

    sweep_cb(-1, 0, ep);
    char buf[4096];
    ssize_t n = answer(ep, fd, buf, sizeof(buf));

    struct px_endpoint_counts c;
    px_endpoint_counts(ep, &c);
    assert_int_equal(c.shut, 1);
    assert_int_equal(n, -1); /* the end of the connection, no response */
    close(fd);
    px_endpoint_free(ep);
}

/* Requests pipelined by a client that never reads: what is read ahead stays under the cap. */
static void bev_cb__pipelined_input_capped(void **state)
{
    (void)state;
    struct px_endpoint *ep = endpoint_up();
    static char big[1 << 20];
    px_endpoint_publish(ep, big, sizeof(big), big, sizeof(big), 0);
    int fd = client(ep);
    int small = 4096;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    const char *one = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
    for (int i = 0; i < 200; i++) {
        for (int k = 0; k < 100; k++)
            if (write(fd, one, strlen(one)) < 0)
                break;
        event_base_loop(ep->base, EVLOOP_NONBLOCK);
    }
    pump(ep, 50);

    assert_int_equal(ep->nconns, 1);
    assert_true(evbuffer_get_length(bufferevent_get_input(ep->conns[0].bev)) <=
                PX_ENDPOINT_READ_MAX);
    close(fd);
    px_endpoint_free(ep);
}

/* At PX_ENDPOINT_MAX_CONNS open connections accepting pauses; below, it resumes. */
static void limit_conns__pauses_at_max_and_resumes(void **state)
{
    (void)state;
    struct px_endpoint *ep = endpoint_up();
    int fds[PX_ENDPOINT_MAX_CONNS + 2];
    for (int i = 0; i < PX_ENDPOINT_MAX_CONNS + 2; i++)
        fds[i] = client(ep);
    pump(ep, 50);
    unsigned at_max = ep->nconns;
    struct px_endpoint_counts c;
    px_endpoint_counts(ep, &c);
    for (int i = 0; i < 4; i++)
        close(fds[i]);

    pump(ep, 50);
    sweep_cb(-1, 0, ep);
    pump(ep, 50);

    assert_int_equal(at_max, PX_ENDPOINT_MAX_CONNS);
    assert_int_equal(c.paused, 1);
    assert_int_equal(c.connections, PX_ENDPOINT_MAX_CONNS);
    assert_int_equal(ep->nconns, PX_ENDPOINT_MAX_CONNS - 2); /* the two that waited came in */
    for (int i = 4; i < PX_ENDPOINT_MAX_CONNS + 2; i++)
        close(fds[i]);
    px_endpoint_free(ep);
}

/* The thread starts and stops on its own (the face every command uses). */
static void start__serves_from_its_own_thread(void **state)
{
    (void)state;
    char err[256] = "";
    struct sockaddr_storage ss;
    socklen_t len;
    px_addr_parse("127.0.0.1:0", &ss, &len, err, sizeof(err));
    struct px_endpoint *ep = px_endpoint_open(&ss, len, err, sizeof(err));
    assert_non_null(ep);
    assert_int_equal(px_endpoint_start(ep, err, sizeof(err)), 0);
    px_endpoint_publish(ep, "x\n# EOF\n", 8, "x\n", 2, 1);
    struct sockaddr_storage bound;
    px_endpoint_address(ep, &bound);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&bound, sizeof(struct sockaddr_in)), 0);
    send_text(fd, "GET /metrics HTTP/1.0\r\n\r\n");
    char buf[1024];
    size_t n = 0;
    ssize_t r;
    while ((r = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0)
        n += (size_t)r;
    buf[n] = '\0';
    struct pollfd p = {.fd = px_endpoint_taken_fd(ep), .events = POLLIN};

    int ready = poll(&p, 1, 2000);

    assert_non_null(strstr(buf, "\r\n\r\nx\n"));
    assert_int_equal(ready, 1);
    close(fd);
    px_endpoint_free(ep);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(wants_openmetrics__as_prometheus_and_curl_ask),
        cmocka_unit_test(open__a_busy_port_says_why),
        cmocka_unit_test(request_cb__format_from_accept),
        cmocka_unit_test(request_cb__other_paths_and_methods_refused),
        cmocka_unit_test(request_cb__empty_before_the_first_publish),
        cmocka_unit_test(complete_cb__final_taken_by_a_final_get_only),
        cmocka_unit_test(sweep_cb__shuts_a_connection_that_completes_no_request),
        cmocka_unit_test(bev_cb__pipelined_input_capped),
        cmocka_unit_test(limit_conns__pauses_at_max_and_resumes),
        cmocka_unit_test(start__serves_from_its_own_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
