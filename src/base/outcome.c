/* SPDX-License-Identifier: MIT */
/* Names of the outcome buckets. */
#include "portex/base/outcome.h"

#include <errno.h>
#include <string.h>

static const char *const fixed_names[PX_CAUSE_ERRNO_BASE] = {
    [PX_CAUSE_HTTP_4XX] = "http_4xx",
    [PX_CAUSE_HTTP_5XX] = "http_5xx",
    [PX_CAUSE_BAD_STATUS] = "bad_status",
    [PX_CAUSE_SWITCHED] = "switching_protocols",
    [PX_CAUSE_CONNECT_TIMEOUT] = "connect_timeout",
    [PX_CAUSE_REQUEST_TIMEOUT] = "request_timeout",
    [PX_CAUSE_CLOSED] = "closed_before_response",
    [PX_CAUSE_PARSE] = "parse_error",
    [PX_CAUSE_CANCELLED] = "cancelled",
    [PX_CAUSE_TLS_HANDSHAKE] = "tls_handshake",
    [PX_CAUSE_TLS_VERIFY] = "tls_verify",
    [PX_CAUSE_TLS_EOF] = "tls_eof",
    [PX_CAUSE_ERRNO_OTHER] = "errno_other",
};

static const char *const fixed_labels[PX_CAUSE_ERRNO_BASE] = {
    [PX_CAUSE_HTTP_4XX] = "HTTP 4xx",
    [PX_CAUSE_HTTP_5XX] = "HTTP 5xx",
    [PX_CAUSE_BAD_STATUS] = "status outside 200-599",
    [PX_CAUSE_SWITCHED] = "101 Switching Protocols: the connection left HTTP",
    [PX_CAUSE_CONNECT_TIMEOUT] = "connect timeout",
    [PX_CAUSE_REQUEST_TIMEOUT] = "request timeout",
    [PX_CAUSE_CLOSED] = "closed before response",
    [PX_CAUSE_PARSE] = "response parse error",
    [PX_CAUSE_CANCELLED] = "cancelled at stop",
    [PX_CAUSE_TLS_HANDSHAKE] = "TLS handshake failed",
    [PX_CAUSE_TLS_VERIFY] =
        "TLS certificate not verified (--cacert FILE trusts it, --insecure skips the check)",
    [PX_CAUSE_TLS_EOF] = "TLS: unexpected EOF (no close_notify)",
    [PX_CAUSE_ERRNO_OTHER] = "other system error",
};

int px_cause_from_errno(int err)
{
    if (err <= 0 || err > PX_ERRNO_MAX)
        return PX_CAUSE_ERRNO_OTHER;
    return PX_CAUSE_ERRNO_BASE + err;
}

const char *px_cause_name(int cause)
{
    if (cause < 0 || cause >= PX_CAUSE_COUNT)
        return "unknown";
    if (cause < PX_CAUSE_ERRNO_BASE)
        return fixed_names[cause];
    const char *n = strerrorname_np(cause - PX_CAUSE_ERRNO_BASE);
    return n ? n : "errno_unknown";
}

const char *px_cause_label(int cause)
{
    if (cause < 0 || cause >= PX_CAUSE_COUNT)
        return "unknown";
    if (cause < PX_CAUSE_ERRNO_BASE)
        return fixed_labels[cause];
    switch (cause - PX_CAUSE_ERRNO_BASE) {
    case EADDRNOTAVAIL:
        return "no free local port (EADDRNOTAVAIL)";
    case ECONNREFUSED:
        return "connection refused";
    case ECONNRESET:
        return "connection reset by peer";
    case EPIPE:
        return "broken pipe";
    case EMFILE:
        return "too many open files (process)";
    case ENFILE:
        return "too many open files (system)";
    default:
        return strerrordesc_np(cause - PX_CAUSE_ERRNO_BASE);
    }
}
