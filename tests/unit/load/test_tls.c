/* SPDX-License-Identifier: MIT */
/* Unit tests of the TLS transport over a non-blocking socketpair (no network). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "portex/base/outcome.h"
#include "portex/load/tls.h"

struct pair {
    struct px_tls *cli_tls, *srv_tls;
    struct px_tls_worker *cli_w, *srv_w;
    struct px_conn cli, srv;
};

static void socket_pair(int fds[2])
{
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    fcntl(fds[1], F_SETFL, O_NONBLOCK);
}

/* Attaches both ends to a fresh socketpair. */
static void pair_connect(struct pair *p)
{
    int fds[2];
    socket_pair(fds);
    p->cli = (struct px_conn){.fd = fds[0]};
    p->srv = (struct px_conn){.fd = fds[1]};
    assert_int_equal(px_transport_tls.attach(&p->cli, p->cli_w), 0);
    assert_int_equal(px_transport_tls.attach(&p->srv, p->srv_w), 0);
}

static void pair_close(struct pair *p, int graceful)
{
    px_transport_tls.detach(&p->cli, graceful);
    px_transport_tls.detach(&p->srv, graceful);
    close(p->cli.fd);
    close(p->srv.fd);
}

/* Steps both handshakes until neither makes progress; returns the client's last result. */
static enum px_io pair_handshake(struct pair *p, enum px_io *srv_out)
{
    enum px_io c = PX_IO_WANT_WRITE, s = PX_IO_WANT_READ;
    for (int i = 0; i < 20; i++) {
        if (c != PX_IO_DONE && c != PX_IO_ERROR)
            c = px_transport_tls.handshake(&p->cli);
        if (s != PX_IO_DONE && s != PX_IO_ERROR)
            s = px_transport_tls.handshake(&p->srv);
        if ((c == PX_IO_DONE || c == PX_IO_ERROR) && (s == PX_IO_DONE || s == PX_IO_ERROR))
            break;
    }
    if (srv_out)
        *srv_out = s;
    return c;
}

/* Client sends a request, server answers; the client reads it (and any tickets). */
static void pair_exchange(struct pair *p)
{
    char buf[256];
    size_t n = 0;
    assert_int_equal(px_transport_tls.write(&p->cli, "GET / HTTP/1.1\r\n\r\n", 18, &n), PX_IO_DONE);
    assert_int_equal(n, 18);
    assert_int_equal(px_transport_tls.read(&p->srv, buf, sizeof(buf), &n), PX_IO_DONE);
    assert_int_equal(n, 18);
    assert_int_equal(px_transport_tls.write(&p->srv, "HTTP/1.1 200 OK\r\n", 17, &n), PX_IO_DONE);
    assert_int_equal(px_transport_tls.read(&p->cli, buf, sizeof(buf), &n), PX_IO_DONE);
    assert_int_equal(n, 17);
    assert_memory_equal(buf, "HTTP/1.1 200 OK\r\n", 17);
}

static void pair_setup(struct pair *p, const struct px_tls_client_opts *co)
{
    char err[256] = "";
    struct px_tls_server_opts so = {0};
    memset(p, 0, sizeof(*p));
    p->srv_tls = px_tls_server_new(&so, err, sizeof(err));
    assert_non_null(p->srv_tls);
    p->cli_tls = px_tls_client_new(co, err, sizeof(err));
    assert_non_null(p->cli_tls);
    p->cli_w = px_tls_worker_new(p->cli_tls);
    p->srv_w = px_tls_worker_new(p->srv_tls);
}

static void pair_free(struct pair *p)
{
    px_tls_worker_free(p->cli_w);
    px_tls_worker_free(p->srv_w);
    px_tls_free(p->cli_tls);
    px_tls_free(p->srv_tls);
}

static void handshake__completes_both_ways(void **state)
{
    (void)state;
    struct px_tls_client_opts co = {.host = "127.0.0.1", .insecure = 1};
    struct pair p;
    pair_setup(&p, &co);
    pair_connect(&p);
    enum px_io s;
    assert_int_equal(pair_handshake(&p, &s), PX_IO_DONE);
    assert_int_equal(s, PX_IO_DONE);
    pair_exchange(&p);
    assert_int_equal(p.cli.resumed, 0);
    assert_string_equal(px_tls_worker_version(p.cli_w), "TLSv1.3");
    /* close_notify reaches the server as a clean EOF. */
    px_transport_tls.detach(&p.cli, 1);
    char buf[16];
    size_t n;
    assert_int_equal(px_transport_tls.read(&p.srv, buf, sizeof(buf), &n), PX_IO_EOF);
    px_transport_tls.detach(&p.srv, 1);
    close(p.cli.fd);
    close(p.srv.fd);
    uint64_t full, resumed;
    px_tls_worker_counts(p.cli_w, &full, &resumed);
    assert_int_equal(full, 1);
    assert_int_equal(resumed, 0);
    pair_free(&p);
}

static void run_resumption(int version)
{
    struct px_tls_client_opts co = {
        .host = "localhost", .insecure = 1, .version = version, .resume = PX_TLS_RESUME_TICKET};
    struct pair p;
    pair_setup(&p, &co);
    for (int i = 0; i < 3; i++) {
        pair_connect(&p);
        assert_int_equal(pair_handshake(&p, NULL), PX_IO_DONE);
        pair_exchange(&p);
        assert_int_equal(p.cli.resumed, i > 0);
        pair_close(&p, i != 1); /* an abort (rst) keeps the session usable too */
    }
    uint64_t full, resumed;
    px_tls_worker_counts(p.cli_w, &full, &resumed);
    assert_int_equal(full, 1);
    assert_int_equal(resumed, 2);
    pair_free(&p);
}

static void handshake__ticket_resumes_tls13(void **state)
{
    (void)state;
    run_resumption(13);
}

static void handshake__ticket_resumes_tls12(void **state)
{
    (void)state;
    run_resumption(12);
}

static void handshake__resume_off_is_always_full(void **state)
{
    (void)state;
    struct px_tls_client_opts co = {.host = "localhost", .insecure = 1};
    struct pair p;
    pair_setup(&p, &co);
    for (int i = 0; i < 2; i++) {
        pair_connect(&p);
        assert_int_equal(pair_handshake(&p, NULL), PX_IO_DONE);
        pair_exchange(&p);
        assert_int_equal(p.cli.resumed, 0);
        pair_close(&p, 1);
    }
    pair_free(&p);
}

static void handshake__self_signed_is_tls_verify(void **state)
{
    (void)state;
    struct px_tls_client_opts co = {.host = "127.0.0.1"};
    struct pair p;
    pair_setup(&p, &co);
    pair_connect(&p);
    assert_int_equal(pair_handshake(&p, NULL), PX_IO_ERROR);
    assert_int_equal(p.cli.cause, PX_CAUSE_TLS_VERIFY);
    assert_non_null(strstr(px_tls_worker_reason(p.cli_w, PX_CAUSE_TLS_VERIFY), "self-signed"));
    assert_null(px_tls_worker_reason(p.cli_w, PX_CAUSE_TLS_HANDSHAKE));
    pair_close(&p, 0);
    pair_free(&p);
}

static void handshake__cacert_of_written_cert_verifies(void **state)
{
    (void)state;
    char path[] = "/tmp/portex-test-cert-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char err[256] = "";
    struct px_tls_server_opts so = {.write_cert = path};
    struct px_tls *srv = px_tls_server_new(&so, err, sizeof(err));
    assert_non_null(srv);
    struct px_tls_client_opts good = {.host = "127.0.0.1", .cacert = path};
    struct px_tls_client_opts wrong_name = {.host = "example.com", .cacert = path};
    struct px_tls *cli_tls[2] = {px_tls_client_new(&good, err, sizeof(err)),
                                 px_tls_client_new(&wrong_name, err, sizeof(err))};
    for (int i = 0; i < 2; i++) {
        struct pair p = {.cli_tls = cli_tls[i], .srv_tls = srv};
        assert_non_null(p.cli_tls);
        p.cli_w = px_tls_worker_new(p.cli_tls);
        p.srv_w = px_tls_worker_new(srv);
        pair_connect(&p);
        enum px_io r = pair_handshake(&p, NULL);
        assert_int_equal(r, i == 0 ? PX_IO_DONE : PX_IO_ERROR);
        if (i == 1)
            assert_int_equal(p.cli.cause, PX_CAUSE_TLS_VERIFY);
        pair_close(&p, 1);
        px_tls_worker_free(p.cli_w);
        px_tls_worker_free(p.srv_w);
        px_tls_free(cli_tls[i]);
    }
    px_tls_free(srv);
    unlink(path);
}

static void handshake__plain_http_peer_is_tls_handshake(void **state)
{
    (void)state;
    char err[256] = "";
    struct px_tls_client_opts co = {.host = "127.0.0.1", .insecure = 1};
    struct px_tls *t = px_tls_client_new(&co, err, sizeof(err));
    struct px_tls_worker *w = px_tls_worker_new(t);
    int fds[2];
    socket_pair(fds);
    struct px_conn c = {.fd = fds[0]};
    assert_int_equal(px_transport_tls.attach(&c, w), 0);
    assert_int_equal(px_transport_tls.handshake(&c), PX_IO_WANT_READ);
    /* What a plain HTTP server answers to a ClientHello. */
    const char bad[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
    assert_int_equal(write(fds[1], bad, sizeof(bad) - 1), (ssize_t)(sizeof(bad) - 1));
    close(fds[1]);
    assert_int_equal(px_transport_tls.handshake(&c), PX_IO_ERROR);
    assert_int_equal(c.cause, PX_CAUSE_TLS_HANDSHAKE);
    assert_non_null(px_tls_worker_reason(w, PX_CAUSE_TLS_HANDSHAKE));
    px_transport_tls.detach(&c, 0);
    close(fds[0]);
    px_tls_worker_free(w);
    px_tls_free(t);
}

static void handshake__peer_closing_is_tls_eof(void **state)
{
    (void)state;
    char err[256] = "";
    struct px_tls_client_opts co = {.host = "127.0.0.1", .insecure = 1};
    struct px_tls *t = px_tls_client_new(&co, err, sizeof(err));
    struct px_tls_worker *w = px_tls_worker_new(t);
    int fds[2];
    socket_pair(fds);
    struct px_conn c = {.fd = fds[0]};
    assert_int_equal(px_transport_tls.attach(&c, w), 0);
    assert_int_equal(px_transport_tls.handshake(&c), PX_IO_WANT_READ);
    shutdown(fds[1], SHUT_WR);
    assert_int_equal(px_transport_tls.handshake(&c), PX_IO_ERROR);
    assert_int_equal(c.cause, PX_CAUSE_TLS_EOF);
    px_transport_tls.detach(&c, 0);
    close(fds[0]);
    close(fds[1]);
    px_tls_worker_free(w);
    px_tls_free(t);
}

static void px_tls_client_new__unreadable_cacert(void **state)
{
    (void)state;
    char err[256] = "";
    struct px_tls_client_opts co = {.host = "h", .cacert = "/nonexistent/ca.pem"};
    assert_null(px_tls_client_new(&co, err, sizeof(err)));
    assert_non_null(strstr(err, "/nonexistent/ca.pem"));
    assert_null(strchr(err, '\n'));
}

static void px_tls_server_new__key_not_matching_cert(void **state)
{
    (void)state;
    char cert[] = "/tmp/portex-test-c-XXXXXX", key[] = "/tmp/portex-test-k-XXXXXX";
    close(mkstemp(cert));
    close(mkstemp(key));
    char cmd[512];
    snprintf(cmd, sizeof(cmd),
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=a "
             "-keyout /dev/null -out %s -days 1 2>/dev/null && "
             "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out %s 2>/dev/null",
             cert, key);
    if (system(cmd) != 0) {
        unlink(cert);
        unlink(key);
        skip();
    }
    char err[256] = "";
    struct px_tls_server_opts so = {.cert_file = cert, .key_file = key};
    assert_null(px_tls_server_new(&so, err, sizeof(err)));
    assert_non_null(strstr(err, "does not match"));
    struct px_tls_server_opts missing = {.cert_file = "/nonexistent.pem", .key_file = key};
    assert_null(px_tls_server_new(&missing, err, sizeof(err)));
    assert_non_null(strstr(err, "cannot read --cert '/nonexistent.pem'"));
    unlink(cert);
    unlink(key);
}

static void px_tls_parse_version__12_13_only(void **state)
{
    (void)state;
    int v = 0;
    assert_int_equal(px_tls_parse_version("1.2", &v), 0);
    assert_int_equal(v, 12);
    assert_int_equal(px_tls_parse_version("1.3", &v), 0);
    assert_int_equal(v, 13);
    assert_int_equal(px_tls_parse_version("1.1", &v), -1);
    assert_int_equal(px_tls_parse_version("13", &v), -1);
    assert_int_equal(px_tls_parse_version("", &v), -1);
}

static void px_tls_parse_resume__off_ticket(void **state)
{
    (void)state;
    int r = -1;
    assert_int_equal(px_tls_parse_resume("off", &r), 0);
    assert_int_equal(r, 0);
    assert_int_equal(px_tls_parse_resume("ticket", &r), 0);
    assert_int_equal(r, 1);
    assert_int_equal(px_tls_parse_resume("id", &r), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(handshake__completes_both_ways),
        cmocka_unit_test(handshake__ticket_resumes_tls13),
        cmocka_unit_test(handshake__ticket_resumes_tls12),
        cmocka_unit_test(handshake__resume_off_is_always_full),
        cmocka_unit_test(handshake__self_signed_is_tls_verify),
        cmocka_unit_test(handshake__cacert_of_written_cert_verifies),
        cmocka_unit_test(handshake__plain_http_peer_is_tls_handshake),
        cmocka_unit_test(handshake__peer_closing_is_tls_eof),
        cmocka_unit_test(px_tls_client_new__unreadable_cacert),
        cmocka_unit_test(px_tls_server_new__key_not_matching_cert),
        cmocka_unit_test(px_tls_parse_version__12_13_only),
        cmocka_unit_test(px_tls_parse_resume__off_ticket),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
