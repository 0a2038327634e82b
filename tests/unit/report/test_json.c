/* SPDX-License-Identifier: MIT */
/* Unit tests of the JSON printer: the layout rules, the text of reals, jansson's escaping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portex/report/json.h"

/* The printed text of a tree built by json_pack (its reference is taken). */
static char *print(json_t *v)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_non_null(v);
    px_json_print_tree(f, v);
    assert_int_equal(fclose(f), 0);
    json_decref(v);
    return buf;
}

static void expect_text(json_t *v, const char *want)
{
    char *got = print(v);
    assert_string_equal(got, want);
    free(got);
}

static void px_json_print_tree__indents_objects_two_spaces(void **state)
{
    (void)state;
    json_t *v = json_pack("{s:i,s:{s:s},s:{}}", "a", 1, "b", "c", "x", "e");

    expect_text(v, "{\n  \"a\": 1,\n  \"b\": {\n    \"c\": \"x\"\n  },\n  \"e\": {}\n}\n");
}

static void px_json_print_tree__arrays_without_objects_on_one_line(void **state)
{
    (void)state;
    json_t *v =
        json_pack("{s:[[ii],[ii]],s:[],s:[sb]}", "hist", 117, 2, 119, 1, "none", "mixed", "a", 0);

    expect_text(
        v, "{\n  \"hist\": [[117,2],[119,1]],\n  \"none\": [],\n  \"mixed\": [\"a\",false]\n}\n");
}

static void px_json_print_tree__flat_rows_in_arrays_on_one_line(void **state)
{
    (void)state;
    json_t *v = json_pack("{s:[{s:f,s:i,s:[[ii]]},{s:{s:n}}]}", "series", "t", 2.008, "ok", 300,
                          "hist", 1, 2, "deep", "k");

    /* A row holding an object is indented like any object. */
    expect_text(v, "{\n  \"series\": [\n    {\"t\":2.008,\"ok\":300,\"hist\":[[1,2]]},\n"
                   "    {\n      \"deep\": {\n        \"k\": null\n      }\n    }\n  ]\n}\n");
}

static void px_json_print_tree__reals_shortest_that_read_back(void **state)
{
    (void)state;
    json_t *v = json_pack("[ffffffff]", 1.0, 0.1, 44.79833333333333, 999.7724218036249, 1e20,
                          -0.000151, 1e15, 1e15 + 0.5);

    expect_text(v, "[1,0.1,44.79833333333333,999.7724218036249,1e+20,-0.000151,1e+15,"
                   "1000000000000000.5]\n");
}

static void px_json_print_tree__strings_escaped_by_jansson(void **state)
{
    (void)state;
    json_t *v = json_pack("{s:s}", "k\"ey", "a\"\\\n\t\x1b\b/\xc3\xa9");

    expect_text(v, "{\n  \"k\\\"ey\": \"a\\\"\\\\\\n\\t\\u001B\\b/\xc3\xa9\"\n}\n");
}

static void px_json_real10__rounds_fractions_keeps_integers(void **state)
{
    (void)state;
    json_t *v =
        json_pack("[oooo]", px_json_real10(999.7724218036249), px_json_real10(12345678901.0),
                  px_json_real10(1.0 / 3.0), px_json_real10(NAN));

    expect_text(v, "[999.7724218,12345678901,0.3333333333,null]\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(px_json_print_tree__indents_objects_two_spaces),
        cmocka_unit_test(px_json_print_tree__arrays_without_objects_on_one_line),
        cmocka_unit_test(px_json_print_tree__flat_rows_in_arrays_on_one_line),
        cmocka_unit_test(px_json_print_tree__reals_shortest_that_read_back),
        cmocka_unit_test(px_json_print_tree__strings_escaped_by_jansson),
        cmocka_unit_test(px_json_real10__rounds_fractions_keeps_integers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
