/* SPDX-License-Identifier: MIT */
/* Unit tests of outcome classification and names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "portex/base/outcome.h"
#include "portex/load/result.h"

static void px_cause_from_errno__names_are_errno_names(void **state)
{
    (void)state;
    assert_string_equal(px_cause_name(px_cause_from_errno(EADDRNOTAVAIL)), "EADDRNOTAVAIL");
    assert_string_equal(px_cause_name(px_cause_from_errno(ECONNREFUSED)), "ECONNREFUSED");
    assert_string_equal(px_cause_name(px_cause_from_errno(ECONNRESET)), "ECONNRESET");
    assert_string_equal(px_cause_name(px_cause_from_errno(EPIPE)), "EPIPE");
    assert_string_equal(px_cause_name(px_cause_from_errno(EMFILE)), "EMFILE");
    assert_string_equal(px_cause_name(px_cause_from_errno(ENFILE)), "ENFILE");
}

static void px_cause_from_errno__out_of_range_is_other(void **state)
{
    (void)state;
    assert_int_equal(px_cause_from_errno(0), PX_CAUSE_ERRNO_OTHER);
    assert_int_equal(px_cause_from_errno(-4), PX_CAUSE_ERRNO_OTHER);
    assert_int_equal(px_cause_from_errno(100000), PX_CAUSE_ERRNO_OTHER);
    assert_string_equal(px_cause_name(PX_CAUSE_ERRNO_OTHER), "errno_other");
}

static void px_cause_name__fixed_causes(void **state)
{
    (void)state;
    assert_string_equal(px_cause_name(PX_CAUSE_CONNECT_TIMEOUT), "connect_timeout");
    assert_string_equal(px_cause_name(PX_CAUSE_REQUEST_TIMEOUT), "request_timeout");
    assert_string_equal(px_cause_name(PX_CAUSE_CLOSED), "closed_before_response");
    assert_string_equal(px_cause_name(PX_CAUSE_PARSE), "parse_error");
    assert_string_equal(px_cause_name(PX_CAUSE_HTTP_4XX), "http_4xx");
    assert_string_equal(px_cause_name(PX_CAUSE_SWITCHED), "switching_protocols");
    assert_string_equal(px_cause_label(PX_CAUSE_SWITCHED),
                        "101 Switching Protocols: the connection left HTTP");
    assert_non_null(strstr(px_cause_label(px_cause_from_errno(EADDRNOTAVAIL)), "port"));
    /* Every cause has a distinct name. */
    for (int a = 0; a < PX_CAUSE_ERRNO_BASE + 1; a++)
        for (int b = a + 1; b < PX_CAUSE_ERRNO_BASE + 1; b++)
            assert_string_not_equal(px_cause_name(a), px_cause_name(b));
}

static void px_totals_add__sums_and_in_flight(void **state)
{
    (void)state;
    struct px_totals a = {0}, b = {0}, sum = {0};
    a.started = 10;
    a.ok = 7;
    a.failed = 2;
    a.cause[px_cause_from_errno(EADDRNOTAVAIL)] = 2;
    b.started = 5;
    b.ok = 5;
    px_totals_add(&sum, &a);
    px_totals_add(&sum, &b);
    assert_int_equal(sum.started, 15);
    assert_int_equal(sum.ok, 12);
    assert_int_equal(px_totals_in_flight(&sum), 1);
    assert_int_equal(px_totals_errno(&sum, EADDRNOTAVAIL), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(px_cause_from_errno__names_are_errno_names),
        cmocka_unit_test(px_cause_from_errno__out_of_range_is_other),
        cmocka_unit_test(px_cause_name__fixed_causes),
        cmocka_unit_test(px_totals_add__sums_and_in_flight),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
