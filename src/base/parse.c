/* SPDX-License-Identifier: MIT */
/* Strict parsers for command-line values: the whole string must be consumed. */
#include "portex/base/parse.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
    /* Below 0.001/s a start time (index x 1e6 / R microseconds) can overflow. */
    if (v < 1e-3 || v > 1e8)
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

int px_parse_shard(const char *s, unsigned *k, unsigned *n)
{
    const char *slash = s ? strchr(s, '/') : NULL;
    char kbuf[16];
    uint64_t kv, nv;
    if (slash == NULL || slash == s || (size_t)(slash - s) >= sizeof(kbuf))
        return -1;
    memcpy(kbuf, s, (size_t)(slash - s));
    kbuf[slash - s] = '\0';
    if (px_parse_u64(slash + 1, 1, 65536, &nv) < 0 || px_parse_u64(kbuf, 0, nv - 1, &kv) < 0)
        return -1;
    *k = (unsigned)kv;
    *n = (unsigned)nv;
    return 0;
}

/* Digits of a fixed width. */
static int fixed(const char *s, int width, int *out)
{
    int v = 0;
    for (int i = 0; i < width; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* ".25" into ns; *s advanced past it. */
static int64_t fraction_ns(const char **s)
{
    int64_t ns = 0, scale = 100000000;
    if (**s != '.')
        return 0;
    for ((*s)++; isdigit((unsigned char)**s); (*s)++) {
        ns += (**s - '0') * scale;
        scale /= 10;
    }
    return ns;
}

/* Days in month mo (1-12) of year y, Gregorian. */
static int month_days(int y, int mo)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return days[mo - 1] + (mo == 2 && leap);
}

static int parse_rfc3339(const char *s, int64_t *out_ns)
{
    int y, mo, d, h, mi, sec;
    if (strlen(s) < 20 || fixed(s, 4, &y) < 0 || s[4] != '-' || fixed(s + 5, 2, &mo) < 0 ||
        s[7] != '-' || fixed(s + 8, 2, &d) < 0 || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        fixed(s + 11, 2, &h) < 0 || s[13] != ':' || fixed(s + 14, 2, &mi) < 0 || s[16] != ':' ||
        fixed(s + 17, 2, &sec) < 0)
        return -1;
    /* timegm() would roll 30 February into March without a word. */
    if (mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo) || h > 23 || mi > 59 || sec > 60)
        return -1;
    const char *p = s + 19;
    int64_t frac = fraction_ns(&p);
    int offset_s = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (fixed(p + 1, 2, &oh) < 0 || p[3] != ':' || fixed(p + 4, 2, &om) < 0 || oh > 23 ||
            om > 59)
            return -1;
        offset_s = (*p == '-' ? -1 : 1) * (oh * 3600 + om * 60);
        p += 6;
    } else {
        return -1;
    }
    if (*p != '\0')
        return -1;
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = sec};
    time_t t = timegm(&tm);
    *out_ns = ((int64_t)t - offset_s) * 1000000000 + frac;
    return 0;
}

int px_parse_wallclock(const char *s, int64_t *out_ns)
{
    if (s == NULL || *s == '\0')
        return -1;
    if (strchr(s, 'T') || strchr(s, 't') || strchr(s, '-'))
        return parse_rfc3339(s, out_ns);
    const char *p = s;
    int64_t secs = 0;
    for (; isdigit((unsigned char)*p); p++) {
        if (secs > (INT64_MAX / 1000000000 - 10) / 10)
            return -1;
        secs = secs * 10 + (*p - '0');
    }
    if (p == s)
        return -1;
    int64_t frac = fraction_ns(&p);
    if (*p != '\0')
        return -1;
    *out_ns = secs * 1000000000 + frac;
    return 0;
}
