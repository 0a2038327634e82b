/* SPDX-License-Identifier: MIT */
/*
 * Single-writer counters: a worker thread is the only writer of its counters,
 * the stats thread reads them while the run goes on. Relaxed loads and stores
 * are enough (no lock prefix on the hot path) and keep ThreadSanitizer quiet.
 */
#ifndef PORTEX_ATOMIC_H
#define PORTEX_ATOMIC_H

#define PX_LOAD(x)     __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define PX_STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
/* Only for a variable that this thread alone writes. */
#define PX_BUMP(x, n) PX_STORE(x, PX_LOAD(x) + (n))

#endif
