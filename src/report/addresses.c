/* SPDX-License-Identifier: MIT */
/* The addresses a target's name resolved to and what a probe found at each, in words. */
#include "portex/report/addresses.h"

#include <stdio.h>
#include <string.h>

void px_addrs_text(char *out, size_t outlen, const struct px_url_addr *a, size_t n)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && len < outlen; i++) {
        char where[PX_URL_UNIX_MAX + 16];
        px_sockaddr_str((const struct sockaddr *)&a[i].ss, where, sizeof(where));
        int lone = n == 1 && a[i].probe == PX_ADDR_NOT_TRIED;
        len += (size_t)snprintf(out + len, outlen - len, "%s%s%s%s", i ? ", " : "", where,
                                lone ? "" : " ", lone ? "" : px_addr_probe_name(a[i].probe));
    }
}

/* True when the URL names its one address itself (an IP literal or a Unix socket). */
static int url_is_address(const struct px_url *url, size_t n)
{
    struct sockaddr_storage ss;
    return n == 1 && (url->unix_path[0] || px_ip_parse(url->host, &ss) == 0);
}

void px_addrs_target_words(char *out, size_t outlen, const struct px_url *url, int family,
                           const struct sockaddr_storage *target, const struct px_url_addr *a,
                           size_t n)
{
    out[0] = '\0';
    if (n == 0 || url_is_address(url, n))
        return;
    char where[PX_URL_UNIX_MAX + 16], list[1024];
    px_sockaddr_str((const struct sockaddr *)target, where, sizeof(where));
    px_addrs_text(list, sizeof(list), a, n);
    const char *fam = family == AF_INET ? " IPv4" : family == AF_INET6 ? " IPv6" : "";
    const char *pin = family == AF_INET ? " (-4)" : family == AF_INET6 ? " (-6)" : "";
    int answered = 0;
    for (size_t i = 0; i < n; i++)
        answered |= a[i].probe == PX_ADDR_ANSWERED;
    if (n == 1)
        snprintf(out, outlen, "%s, the one%s address of %s%s", where, fam, url->host, pin);
    else if (answered)
        snprintf(out, outlen, "%s, the first of the %zu%s addresses of %s%s to answer a probe (%s)",
                 where, n, fam, url->host, pin, list);
    else
        snprintf(out, outlen,
                 "%s, the first of the %zu%s addresses of %s%s; none answered a probe (%s)", where,
                 n, fam, url->host, pin, list);
}
