/* SPDX-License-Identifier: MIT */
/* Unit tests of the SVG charts: ticks at round values, and a panel on a y scale of its own
 * says so. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portex/load/load.h"
#include "portex/load/result.h"
#include "portex/report/svg.h"

static struct px_load load;
static struct px_run runs[2];

/* A run sampled every 0.95 s up to 3.8 s: ok/s at `rate`, TIME_WAIT at `tw`. */
static void make_run(struct px_run *run, double rate, int64_t tw)
{
    px_load_defaults(&load);
    memset(run, 0, sizeof(*run));
    run->load = &load;
    run->duration_s = 3.8;
    for (int i = 1; i <= 4; i++) {
        struct px_series_row r = {.t = 0.95 * i,
                                  .ok = (uint64_t)(rate * 0.95),
                                  .started = (uint64_t)(rate * 0.95),
                                  .time_wait = tw};
        assert_int_equal(px_series_push(&run->series, &r), 0);
    }
}

static char *chart(size_t n, const char *const *names)
{
    const struct px_run *rp[2] = {&runs[0], &runs[1]};
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    px_svg_write(f, "t", rp, names, n);
    fclose(f);
    return buf;
}

/* The text of the panel's bold label: what follows name up to "</text>". */
static char *label_of(const char *svg, const char *name)
{
    char key[128];
    snprintf(key, sizeof(key), "font-weight=\"bold\">%s", name);
    const char *p = strstr(svg, key);
    assert_non_null(p);
    p += strlen("font-weight=\"bold\">");
    size_t n = (size_t)(strstr(p, "</text>") - p);
    char *out = calloc(1, n + 1);
    assert_non_null(out);
    memcpy(out, p, n);
    return out;
}

static void px_svg_tick_step__one_two_five(void **state)
{
    (void)state;
    assert_true(px_svg_tick_step(3.8, 6) == 1.0);
    assert_true(px_svg_tick_step(5.02, 6) == 1.0);
    assert_true(px_svg_tick_step(3.0, 6) == 0.5);
    assert_true(px_svg_tick_step(60.0, 6) == 10.0);
    assert_true(px_svg_tick_step(12.0, 6) == 2.0);
    assert_true(px_svg_tick_step(2100, 4) == 1000.0);
    assert_true(px_svg_tick_step(0.0, 6) == 1.0);
}

/* 3.8 s of data: ticks at 0, 1, 2 and 3 s, never at a quarter of 3.8 s. */
static void px_svg_write__time_ticks_at_round_values(void **state)
{
    (void)state;
    make_run(&runs[0], 1000, 100);
    const char *names[1] = {"one"};
    char *s = chart(1, names);
    const char *want[] = {">0s</text>", ">1s</text>", ">2s</text>", ">3s</text>"};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        assert_non_null(strstr(s, want[i]));
    const char *odd[] = {">0.9s<", ">0.95s<", ">1.9s<", ">2.8s<", ">2.85s<", ">3.8s<", ">4s<"};
    for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++)
        assert_null(strstr(s, odd[i]));
    /* ok/s 1000 (x 1.05): the left axis in steps of 500 up to 1500. */
    assert_non_null(strstr(s, "text-anchor=\"end\">500</text>"));
    assert_non_null(strstr(s, "text-anchor=\"end\">1500</text>"));
    assert_null(strstr(s, "text-anchor=\"end\">1250</text>"));
    char *label = label_of(s, "one");
    assert_string_equal(label, "one");
    free(label);
    free(s);
    px_series_free(&runs[0].series);
}

/* Two panels: the one whose TIME_WAIT would be flat on the shared scale gets its own, and
 * its label says so; the other is on the shared scales and says nothing. */
static void px_svg_write__own_scale_named_in_the_label(void **state)
{
    (void)state;
    make_run(&runs[0], 1000, 1000);
    make_run(&runs[1], 1000, 20);
    const char *names[2] = {"noreuse", "keepalive"};
    char *s = chart(2, names);
    char *a = label_of(s, "noreuse"), *b = label_of(s, "keepalive");
    assert_string_equal(a, "noreuse");
    assert_string_equal(b, "keepalive (own TIME_WAIT scale, not shared with the other panels)");
    free(a);
    free(b);
    free(s);
    /* A rate a tenth of the other's: its own requests/s scale. */
    px_series_free(&runs[1].series);
    make_run(&runs[1], 50, 1000);
    s = chart(2, names);
    b = label_of(s, "keepalive");
    assert_string_equal(b, "keepalive (own requests/s scale, not shared with the other panels)");
    free(b);
    free(s);
    px_series_free(&runs[0].series);
    px_series_free(&runs[1].series);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(px_svg_tick_step__one_two_five),
        cmocka_unit_test(px_svg_write__time_ticks_at_round_values),
        cmocka_unit_test(px_svg_write__own_scale_named_in_the_label),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
