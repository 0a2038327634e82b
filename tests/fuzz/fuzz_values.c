/* SPDX-License-Identifier: MIT */
/* libFuzzer target: every command-line value parser on one NUL-terminated string. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portex/base/parse.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t read_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The first 16 bytes, when there are that many, are px_parse_u64's bounds. */
    uint64_t min = 0, max = UINT64_MAX;
    if (size >= 17) {
        min = read_u64(data);
        max = read_u64(data + 8);
    }
    char *s = malloc(size + 1);
    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';

    uint64_t ms = 0;
    if (px_parse_duration_ms(s, &ms) == 0)
        CHECK(ms >= 1 && ms <= 1000000000000ull);

    double rate = 0;
    if (px_parse_rate(s, &rate) == 0)
        CHECK(rate > 0 && rate <= 1e8);

    uint64_t v = 0;
    const char *num = size >= 17 ? s + 16 : s;
    if (px_parse_u64(num, min, max, &v) == 0)
        CHECK(v >= min && v <= max);
    if (px_parse_u64(s, 0, UINT64_MAX, &v) == 0)
        CHECK(s[0] >= '0' && s[0] <= '9');

    uint16_t lo = 0, hi = 0;
    if (px_parse_port_range(s, &lo, &hi) == 0)
        CHECK(lo >= 1 && lo <= hi);

    if (px_parse_header(s) == 0)
        CHECK(strchr(s, ':') != NULL && strpbrk(s, "\r\n") == NULL && s[0] != ':');
    free(s);
    return 0;
}
