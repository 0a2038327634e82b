/* SPDX-License-Identifier: MIT */
/* A streaming JSON writer: keys and values in order, commas and escapes handled. */
#ifndef PORTEX_JSON_H
#define PORTEX_JSON_H

#include <stdint.h>
#include <stdio.h>

#define PX_JSON_DEPTH 16

struct px_json {
    FILE *f;
    int depth;
    int count[PX_JSON_DEPTH]; /* members written at each level */
    int compact;              /* one line, no spaces */
};

void px_json_init(struct px_json *j, FILE *f, int compact);
/* key is NULL inside arrays and for the root. */
void px_json_obj_begin(struct px_json *j, const char *key);
void px_json_obj_end(struct px_json *j);
void px_json_arr_begin(struct px_json *j, const char *key);
void px_json_arr_end(struct px_json *j);
void px_json_str(struct px_json *j, const char *key, const char *v);
void px_json_u64(struct px_json *j, const char *key, uint64_t v);
void px_json_i64(struct px_json *j, const char *key, int64_t v);
/* NaN and infinities are written as null. */
void px_json_f64(struct px_json *j, const char *key, double v);
void px_json_bool(struct px_json *j, const char *key, int v);
void px_json_null(struct px_json *j, const char *key);
struct json_t;
/* Writes a jansson tree as the value of key, indented, with arrays of
 * scalars and flat objects inside arrays on one line; doubles are written
 * in the shortest form that reads back exactly. */
void px_json_tree(struct px_json *j, const char *key, const struct json_t *v);
/* A whole document from a jansson tree, readable, ending with a newline. */
void px_json_print_tree(FILE *f, const struct json_t *root);
/* A real rounded to 10 significant digits (integers below 1e15 kept whole),
 * null when not finite: for derived figures (rates, predictions) whose
 * further digits are noise. */
struct json_t *px_json_real10(double v);
/* Ends the document with a newline. */
void px_json_finish(struct px_json *j);

#endif
