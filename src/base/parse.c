/* SPDX-License-Identifier: MIT */
/* Strict parsers for command-line values: the whole string must be consumed. */
#include "portex/base/parse.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int parse_positive_double(const char *s, char **end, double *out)
{
    if (s == NULL || *s == '\0' || isspace((unsigned char)*s) || *s == '-' || *s == '+')
        return -1;
    errno = 0;
    double v = strtod(s, end);
    if (errno != 0 || *end == s || !isfinite(v) || v <= 0)
        return -1;
    *out = v;
    return 0;
}

int px_parse_duration_ms(const char *s, uint64_t *out_ms)
{
    char *end;
    double v;
    if (parse_positive_double(s, &end, &v) < 0)
        return -1;
    double scale;
    if (strcmp(end, "ms") == 0)
        scale = 1;
    else if (strcmp(end, "s") == 0 || *end == '\0')
        scale = 1000;
    else if (strcmp(end, "m") == 0)
        scale = 60000;
    else if (strcmp(end, "h") == 0)
        scale = 3600000;
    else
        return -1;
    double ms = v * scale;
    if (ms < 1 || ms > 1e12)
        return -1;
    *out_ms = (uint64_t)llround(ms);
    return 0;
}

int px_parse_rate(const char *s, double *out_per_s)
{
    char *end;
    double v;
    if (parse_positive_double(s, &end, &v) < 0)
        return -1;
    if (strcmp(end, "k") == 0)
        v *= 1e3;
    else if (strcmp(end, "M") == 0)
        v *= 1e6;
    else if (*end != '\0')
        return -1;
    if (v > 1e8)
        return -1;
    *out_per_s = v;
    return 0;
}

int px_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    if (s == NULL || !isdigit((unsigned char)*s))
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int px_parse_port_range(const char *s, uint16_t *lo, uint16_t *hi)
{
    const char *dash = s ? strchr(s, '-') : NULL;
    if (dash == NULL || dash == s || dash - s > 5)
        return -1;
    char first[6];
    memcpy(first, s, (size_t)(dash - s));
    first[dash - s] = '\0';
    uint64_t a, b;
    if (px_parse_u64(first, 1, 65535, &a) < 0 || px_parse_u64(dash + 1, 1, 65535, &b) < 0 || a > b)
        return -1;
    *lo = (uint16_t)a;
    *hi = (uint16_t)b;
    return 0;
}

/* RFC 9110 token characters. */
static int is_tchar(int c)
{
    return isalnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

int px_parse_header(const char *s)
{
    const char *p = s;
    while (*p && is_tchar((unsigned char)*p))
        p++;
    if (p == s || *p != ':')
        return -1;
    if (strpbrk(s, "\r\n") != NULL)
        return -1;
    return 0;
}

int px_parse_tls_version(const char *s, int *out)
{
    if (strcmp(s, "1.2") == 0)
        *out = 12;
    else if (strcmp(s, "1.3") == 0)
        *out = 13;
    else
        return -1;
    return 0;
}

int px_parse_tls_resume(const char *s, int *out)
{
    if (strcmp(s, "off") == 0)
        *out = 0;
    else if (strcmp(s, "ticket") == 0)
        *out = 1;
    else
        return -1;
    return 0;
}
