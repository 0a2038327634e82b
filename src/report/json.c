/* SPDX-License-Identifier: MIT */
/* Streaming JSON writer. */
#include "portex/report/json.h"

#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>

void px_json_init(struct px_json *j, FILE *f, int compact)
{
    j->f = f;
    j->depth = 0;
    j->count[0] = 0;
    j->compact = compact;
}

static void put_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':
            fputs("\\\"", f);
            break;
        case '\\':
            fputs("\\\\", f);
            break;
        case '\n':
            fputs("\\n", f);
            break;
        case '\r':
            fputs("\\r", f);
            break;
        case '\t':
            fputs("\\t", f);
            break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

/* Separator, indentation and key before a value. */
static void lead(struct px_json *j, const char *key)
{
    if (j->depth > 0) {
        if (j->count[j->depth]++ > 0)
            fputc(',', j->f);
        if (!j->compact) {
            fputc('\n', j->f);
            for (int i = 0; i < j->depth; i++)
                fputs("  ", j->f);
        }
    }
    if (key != NULL) {
        put_string(j->f, key);
        fputs(j->compact ? ":" : ": ", j->f);
    }
}

static void open_level(struct px_json *j, const char *key, char c)
{
    lead(j, key);
    fputc(c, j->f);
    if (j->depth + 1 < PX_JSON_DEPTH)
        j->depth++;
    j->count[j->depth] = 0;
}

static void close_level(struct px_json *j, char c)
{
    int had = j->count[j->depth] > 0;
    if (j->depth > 0)
        j->depth--;
    if (had && !j->compact) {
        fputc('\n', j->f);
        for (int i = 0; i < j->depth; i++)
            fputs("  ", j->f);
    }
    fputc(c, j->f);
}

void px_json_obj_begin(struct px_json *j, const char *key)
{
    open_level(j, key, '{');
}

void px_json_obj_end(struct px_json *j)
{
    close_level(j, '}');
}

void px_json_arr_begin(struct px_json *j, const char *key)
{
    open_level(j, key, '[');
}

void px_json_arr_end(struct px_json *j)
{
    close_level(j, ']');
}

void px_json_str(struct px_json *j, const char *key, const char *v)
{
    lead(j, key);
    if (v == NULL)
        fputs("null", j->f);
    else
        put_string(j->f, v);
}

void px_json_u64(struct px_json *j, const char *key, uint64_t v)
{
    lead(j, key);
    fprintf(j->f, "%" PRIu64, v);
}

void px_json_i64(struct px_json *j, const char *key, int64_t v)
{
    lead(j, key);
    fprintf(j->f, "%" PRId64, v);
}

void px_json_f64(struct px_json *j, const char *key, double v)
{
    lead(j, key);
    if (isfinite(v) && v == floor(v) && fabs(v) < 1e15)
        fprintf(j->f, "%.0f", v);
    else if (isfinite(v))
        fprintf(j->f, "%.10g", v);
    else
        fputs("null", j->f);
}

void px_json_bool(struct px_json *j, const char *key, int v)
{
    lead(j, key);
    fputs(v ? "true" : "false", j->f);
}

void px_json_null(struct px_json *j, const char *key)
{
    lead(j, key);
    fputs("null", j->f);
}

void px_json_finish(struct px_json *j)
{
    fputc('\n', j->f);
    fflush(j->f);
}

/* Shortest text that reads back as the same double: merged results must
 * recompute exactly what one host wrote. */
static void put_real(FILE *f, double v)
{
    if (!isfinite(v)) {
        fputs("null", f);
        return;
    }
    if (v == floor(v) && fabs(v) < 1e15) {
        fprintf(f, "%.0f", v);
        return;
    }
    char buf[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof(buf), "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    fputs(buf, f);
}

/* Bucket lists are thousands of integers: digits by hand, one fwrite each. */
static void put_integer(FILE *f, json_int_t v)
{
    char buf[24];
    char *p = buf + sizeof(buf);
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    fwrite(p, 1, (size_t)(buf + sizeof(buf) - p), f);
}

static int has_object(const json_t *v)
{
    size_t i;
    const char *k;
    json_t *m;
    if (json_is_array(v)) {
        json_array_foreach(v, i, m) if (json_is_object(m) || has_object(m)) return 1;
    } else if (json_is_object(v)) {
        json_object_foreach((json_t *)v, k, m) if (json_is_object(m) || has_object(m)) return 1;
    }
    return 0;
}

/* One line for arrays of scalars or small arrays (bucket pairs) and for flat
 * objects inside arrays (series rows); everything else is indented. */
static int one_line(const json_t *v, int in_array)
{
    if (json_is_array(v))
        return !has_object(v);
    if (json_is_object(v))
        return in_array && !has_object(v);
    return 1;
}

static void put_compact(FILE *f, const json_t *v)
{
    size_t i;
    const char *k;
    json_t *m;
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        fputc('{', f);
        i = 0;
        json_object_foreach((json_t *)v, k, m)
        {
            if (i++)
                fputc(',', f);
            put_string(f, k);
            fputc(':', f);
            put_compact(f, m);
        }
        fputc('}', f);
        break;
    case JSON_ARRAY:
        fputc('[', f);
        json_array_foreach(v, i, m)
        {
            if (i)
                fputc(',', f);
            put_compact(f, m);
        }
        fputc(']', f);
        break;
    case JSON_STRING:
        put_string(f, json_string_value(v));
        break;
    case JSON_INTEGER:
        put_integer(f, json_integer_value(v));
        break;
    case JSON_REAL:
        put_real(f, json_real_value(v));
        break;
    case JSON_TRUE:
        fputs("true", f);
        break;
    case JSON_FALSE:
        fputs("false", f);
        break;
    default:
        fputs("null", f);
    }
}

static void put_tree(struct px_json *j, const char *key, const json_t *v, int in_array)
{
    size_t i;
    const char *k;
    json_t *m;
    if (one_line(v, in_array)) {
        lead(j, key);
        put_compact(j->f, v);
    } else if (json_is_object(v)) {
        open_level(j, key, '{');
        json_object_foreach((json_t *)v, k, m) put_tree(j, k, m, 0);
        close_level(j, '}');
    } else {
        open_level(j, key, '[');
        json_array_foreach(v, i, m) put_tree(j, NULL, m, 1);
        close_level(j, ']');
    }
}

void px_json_tree(struct px_json *j, const char *key, const json_t *v)
{
    put_tree(j, key, v, 0);
}

void px_json_print_tree(FILE *f, const json_t *root)
{
    struct px_json j;
    px_json_init(&j, f, 0);
    px_json_tree(&j, NULL, root);
    px_json_finish(&j);
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
