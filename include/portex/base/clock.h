/* SPDX-License-Identifier: MIT */
/* Monotonic time in microseconds, the one clock every measurement uses. */
#ifndef PORTEX_CLOCK_H
#define PORTEX_CLOCK_H

#include <stdint.h>

/* Microseconds on CLOCK_MONOTONIC. */
uint64_t px_clock_us(void);

#endif
