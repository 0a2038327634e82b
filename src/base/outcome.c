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
    [PX_CAUSE_NO_H2] = "no_h2_alpn",
    [PX_CAUSE_GOAWAY] = "goaway",
    [PX_CAUSE_REFUSED] = "refused_stream",
    [PX_CAUSE_FLOW_STALL] = "flow_control_stall",
    [PX_CAUSE_H2_PROTOCOL] = "protocol_error",
    [PX_CAUSE_RST_STREAM + 0x0] = "rst_stream:NO_ERROR",
    [PX_CAUSE_RST_STREAM + 0x1] = "rst_stream:PROTOCOL_ERROR",
    [PX_CAUSE_RST_STREAM + 0x2] = "rst_stream:INTERNAL_ERROR",
    [PX_CAUSE_RST_STREAM + 0x3] = "rst_stream:FLOW_CONTROL_ERROR",
    [PX_CAUSE_RST_STREAM + 0x4] = "rst_stream:SETTINGS_TIMEOUT",
    [PX_CAUSE_RST_STREAM + 0x5] = "rst_stream:STREAM_CLOSED",
    [PX_CAUSE_RST_STREAM + 0x6] = "rst_stream:FRAME_SIZE_ERROR",
    [PX_CAUSE_RST_STREAM + 0x7] = "rst_stream:REFUSED_STREAM",
    [PX_CAUSE_RST_STREAM + 0x8] = "rst_stream:CANCEL",
    [PX_CAUSE_RST_STREAM + 0x9] = "rst_stream:COMPRESSION_ERROR",
    [PX_CAUSE_RST_STREAM + 0xa] = "rst_stream:CONNECT_ERROR",
    [PX_CAUSE_RST_STREAM + 0xb] = "rst_stream:ENHANCE_YOUR_CALM",
    [PX_CAUSE_RST_STREAM + 0xc] = "rst_stream:INADEQUATE_SECURITY",
    [PX_CAUSE_RST_STREAM + 0xd] = "rst_stream:HTTP_1_1_REQUIRED",
    [PX_CAUSE_RST_OTHER] = "rst_stream:unknown",
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
    [PX_CAUSE_NO_H2] = "HTTP/2: the server did not agree on h2 (ALPN)",
    [PX_CAUSE_GOAWAY] = "HTTP/2: connection ended by the server's GOAWAY, stream unanswered",
    [PX_CAUSE_REFUSED] = "HTTP/2: stream refused, not processed (not resent)",
    [PX_CAUSE_FLOW_STALL] = "HTTP/2: request body held by a send window of 0 past --timeout",
    [PX_CAUSE_H2_PROTOCOL] = "HTTP/2: the server broke the protocol",
    [PX_CAUSE_RST_STREAM + 0x0] = "HTTP/2: stream reset by the server (NO_ERROR)",
    [PX_CAUSE_RST_STREAM + 0x1] = "HTTP/2: stream reset by the server (PROTOCOL_ERROR)",
    [PX_CAUSE_RST_STREAM + 0x2] = "HTTP/2: stream reset by the server (INTERNAL_ERROR)",
    [PX_CAUSE_RST_STREAM + 0x3] = "HTTP/2: stream reset by the server (FLOW_CONTROL_ERROR)",
    [PX_CAUSE_RST_STREAM + 0x4] = "HTTP/2: stream reset by the server (SETTINGS_TIMEOUT)",
    [PX_CAUSE_RST_STREAM + 0x5] = "HTTP/2: stream reset by the server (STREAM_CLOSED)",
    [PX_CAUSE_RST_STREAM + 0x6] = "HTTP/2: stream reset by the server (FRAME_SIZE_ERROR)",
    [PX_CAUSE_RST_STREAM + 0x7] = "HTTP/2: stream reset by the server (REFUSED_STREAM)",
    [PX_CAUSE_RST_STREAM + 0x8] = "HTTP/2: stream reset by the server (CANCEL)",
    [PX_CAUSE_RST_STREAM + 0x9] = "HTTP/2: stream reset by the server (COMPRESSION_ERROR)",
    [PX_CAUSE_RST_STREAM + 0xa] = "HTTP/2: stream reset by the server (CONNECT_ERROR)",
    [PX_CAUSE_RST_STREAM + 0xb] = "HTTP/2: stream reset by the server (ENHANCE_YOUR_CALM)",
    [PX_CAUSE_RST_STREAM + 0xc] = "HTTP/2: stream reset by the server (INADEQUATE_SECURITY)",
    [PX_CAUSE_RST_STREAM + 0xd] = "HTTP/2: stream reset by the server (HTTP_1_1_REQUIRED)",
    [PX_CAUSE_RST_OTHER] = "HTTP/2: stream reset by the server (unknown error code)",
    [PX_CAUSE_ERRNO_OTHER] = "other system error",
};

int px_cause_from_errno(int err)
{
    if (err <= 0 || err > PX_ERRNO_MAX)
        return PX_CAUSE_ERRNO_OTHER;
    return PX_CAUSE_ERRNO_BASE + err;
}

int px_cause_from_rst(unsigned code)
{
    if (code == 0x7)
        return PX_CAUSE_REFUSED;
    return code <= 0xd ? PX_CAUSE_RST_STREAM + (int)code : PX_CAUSE_RST_OTHER;
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
