/* SPDX-License-Identifier: MIT */
/*
 * The printer of every JSON document portex writes. jansson writes the bytes
 * of keys, strings, integers and of any one-line part that holds no real (its
 * escaping, its number text); this file only lays out containers and writes
 * reals.
 */
#include "portex/report/json.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* jansson's dump of a scalar or a one-line part: no spaces, any value as root. */
#define PX_JSON_DUMP (JSON_COMPACT | JSON_ENCODE_ANY)

/*
 * Everything the printer writes passes through one buffer: jansson's dump
 * hands over every token ("[", ",", a number) on its own, and a FILE call per
 * token made a long run's series (20,000 rows) a third slower to write.
 */
struct px_json_out {
    FILE *f;
    size_t len;
    char buf[16384];
};

static void flush_out(struct px_json_out *o)
{
    fwrite(o->buf, 1, o->len, o->f);
    o->len = 0;
}

/* A json_dump_callback_t; errors stay in the FILE for the caller's ferror. */
static int put_bytes(const char *s, size_t n, void *arg)
{
    struct px_json_out *o = arg;
    if (n > sizeof(o->buf) - o->len)
        flush_out(o);
    if (n > sizeof(o->buf)) {
        fwrite(s, 1, n, o->f);
        return 0;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    return 0;
}

static void put_str(struct px_json_out *o, const char *s)
{
    put_bytes(s, strlen(s), o);
}

/* jansson writes the bytes of v (a scalar, or a one-line part without reals). */
static void put_dump(struct px_json_out *o, const json_t *v)
{
    json_dump_callback(v, put_bytes, o, PX_JSON_DUMP);
}

/* Where a value goes: on one line (-1), or the depth of its indentation. */
#define PX_JSON_ONE_LINE (-1)

/*
 * Reals are the one value jansson 2.14 cannot write as portex does: it prints
 * "%.17g" (0.1 as 0.10000000000000001; JSON_REAL_PRECISION fixes the digits,
 * not the shortest), adds ".0" to integral reals and writes 1e+20 as "1e20".
 * Merged results must recompute exactly what one host wrote and the result
 * format is compared byte for byte (tests/golden): the shortest of 15, 16 or
 * 17 digits that reads back as the same double, integral reals below 1e15
 * without a decimal point. json_real refuses NaN and infinities, so a tree
 * never holds one.
 */
static void put_real(struct px_json_out *o, double v)
{
    char buf[40];
    if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(buf, sizeof(buf), "%.0f", v);
    } else {
        for (int prec = 15; prec <= 17; prec++) {
            snprintf(buf, sizeof(buf), "%.*g", prec, v);
            if (strtod(buf, NULL) == v)
                break;
        }
    }
    put_str(o, buf);
}

/* A key, escaped by jansson as any string (keys were checked as UTF-8 when set). */
static void put_key(struct px_json_out *o, const char *key, int depth)
{
    json_t *s = json_string_nocheck(key);
    put_dump(o, s);
    json_decref(s);
    put_str(o, depth == PX_JSON_ONE_LINE ? ":" : ": ");
}

/* Before a member: the comma, then unless on one line a new line and indentation. */
static void put_lead(struct px_json_out *o, size_t i, int depth)
{
    if (i > 0)
        put_bytes(",", 1, o);
    if (depth == PX_JSON_ONE_LINE)
        return;
    put_bytes("\n", 1, o);
    for (int d = 0; d < depth; d++)
        put_bytes("  ", 2, o);
}

/* After the members of an indented container that had any: its own indentation. */
static void put_close(struct px_json_out *o, size_t n, int depth, char c)
{
    if (n > 0 && depth != PX_JSON_ONE_LINE)
        put_lead(o, 0, depth);
    put_bytes(&c, 1, o);
}

/* Whether a value of type is anywhere inside v. */
static int has_type(const json_t *v, json_type type)
{
    size_t i;
    const char *k;
    json_t *m;
    if (json_is_array(v)) {
        json_array_foreach(v, i, m)
        {
            if (json_typeof(m) == type || has_type(m, type))
                return 1;
        }
    } else if (json_is_object(v)) {
        json_object_foreach((json_t *)v, k, m)
        {
            if (json_typeof(m) == type || has_type(m, type))
                return 1;
        }
    }
    return 0;
}

/* One line for arrays without objects (bucket pairs) and for flat objects
 * inside arrays (series rows); everything else is indented. */
static int one_line(const json_t *v, int in_array)
{
    if (json_is_array(v))
        return !has_type(v, JSON_OBJECT);
    if (json_is_object(v))
        return in_array && !has_type(v, JSON_OBJECT);
    return 1;
}

static int inner(int depth)
{
    return depth == PX_JSON_ONE_LINE ? depth : depth + 1;
}

static void put_value(struct px_json_out *o, const json_t *v, int depth, int in_array);

static void put_object(struct px_json_out *o, const json_t *v, int depth)
{
    size_t n = 0;
    const char *k;
    json_t *m;
    put_bytes("{", 1, o);
    json_object_foreach((json_t *)v, k, m)
    {
        put_lead(o, n++, inner(depth));
        put_key(o, k, depth);
        put_value(o, m, inner(depth), 0);
    }
    put_close(o, n, depth, '}');
}

static void put_array(struct px_json_out *o, const json_t *v, int depth)
{
    size_t i;
    json_t *m;
    put_bytes("[", 1, o);
    json_array_foreach(v, i, m)
    {
        put_lead(o, i, inner(depth));
        put_value(o, m, inner(depth), 1);
    }
    put_close(o, json_array_size(v), depth, ']');
}

static void put_value(struct px_json_out *o, const json_t *v, int depth, int in_array)
{
    if (depth != PX_JSON_ONE_LINE && one_line(v, in_array))
        depth = PX_JSON_ONE_LINE;
    if (json_is_real(v))
        put_real(o, json_real_value(v));
    else if (depth == PX_JSON_ONE_LINE && !has_type(v, JSON_REAL))
        put_dump(o, v);
    else if (json_is_object(v))
        put_object(o, v, depth);
    else
        put_array(o, v, depth);
}

void px_json_print_tree(FILE *f, const json_t *root)
{
    struct px_json_out o = {.f = f, .len = 0};
    put_value(&o, root, 0, 0);
    put_bytes("\n", 1, &o);
    flush_out(&o);
    fflush(f);
}

/* What portex's reports have always printed for these figures ("%.10g"),
 * read back: the value a reader of an earlier document got. */
json_t *px_json_real10(double v)
{
    if (!isfinite(v))
        return json_null();
    if (v == floor(v) && fabs(v) < 1e15)
        return json_real(v);
    char buf[32];
    snprintf(buf, sizeof(buf), "%.10g", v);
    return json_real(strtod(buf, NULL));
}

void px_json_print_line(FILE *f, const json_t *root)
{
    json_dumpf(root, f, JSON_REAL_PRECISION(17));
    fputc('\n', f);
}
