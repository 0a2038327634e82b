/* SPDX-License-Identifier: MIT */
/* PX_SKIP: a cmocka test that cannot run here says so; under PORTEX_NO_SKIP=1 it fails. */
#ifndef PORTEX_TEST_PXSKIP_H
#define PORTEX_TEST_PXSKIP_H

#include <stdlib.h>
#include <string.h>

/* Include after <cmocka.h>. CI (root) sets PORTEX_NO_SKIP=1: every test must run there,
 * so a skip is a failure with its reason; elsewhere it is cmocka's skip(), printed as
 * "SKIP: test (why)" so that scripts/test.sh lists it after ctest. */
static inline int px_test_no_skip(void)
{
    const char *v = getenv("PORTEX_NO_SKIP");
    return v != NULL && strcmp(v, "1") == 0;
}

#define PX_SKIP(why)                                                                               \
    do {                                                                                           \
        print_message("SKIP: %s (%s)\n", __func__, (why));                                         \
        if (px_test_no_skip())                                                                     \
            fail_msg("PORTEX_NO_SKIP=1: %s must run, it skipped (%s)", __func__, (why));           \
        skip();                                                                                    \
    } while (0)

#endif
