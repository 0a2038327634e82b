/* SPDX-License-Identifier: MIT */
/* Unit tests of the mode lists' labels in live metrics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "portex/cmd/mode.h"

static void px_mode_label__a_repeated_mode_gets_its_place(void **state)
{
    (void)state;
    const struct px_mode *short_mode = &px_compare_modes[3], *keep = &px_compare_modes[0];
    const struct px_mode *modes[4] = {short_mode, keep, short_mode, short_mode};
    char label[4][64];

    for (size_t i = 0; i < 4; i++)
        px_mode_label(modes, i, label[i], sizeof(label[i]));

    assert_string_equal(label[0], "short");
    assert_string_equal(label[1], "keepalive");
    assert_string_equal(label[2], "short#2");
    assert_string_equal(label[3], "short#3");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(px_mode_label__a_repeated_mode_gets_its_place),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
