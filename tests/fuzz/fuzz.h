/* SPDX-License-Identifier: MIT */
/* What every libFuzzer target here shares: the invariant check and the chunking generator. */
#ifndef PORTEX_TESTS_FUZZ_H
#define PORTEX_TESTS_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* An invariant that must hold for every input: abort, so libFuzzer keeps the input. */
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s: invariant failed: %s (line %d)\n", __FILE__, #cond, __LINE__);    \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* xorshift32: chunk sizes and flags from a seed taken from the input itself. */
static inline uint32_t next_rand(uint32_t *state)
{
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

#endif
