/* SPDX-License-Identifier: MIT */
/* Streaming JSON writer. */
#include "portex/out/json.h"

#include <inttypes.h>
#include <math.h>

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
