/* SPDX-License-Identifier: MIT */
/* Every JSON document portex writes: a jansson tree, laid out by one printer. */
#ifndef PORTEX_JSON_H
#define PORTEX_JSON_H

#include <stdio.h>

struct json_t;

/*
 * Writes a tree as a document ending with a newline, printed to f as it is
 * walked (a long run's series is never held as one string). Containers are
 * indented by two spaces; arrays without objects (bucket pairs) and flat
 * objects inside arrays (series rows) stay on one line. Reals are written in
 * the shortest form that reads back as the same double.
 */
void px_json_print_tree(FILE *f, const struct json_t *root);
/* Writes a small flat tree on one line ({"a": 1, "b": 2}) and a newline: a
 * final line that a script reads with one parse. */
void px_json_print_line(FILE *f, const struct json_t *root);
/* A real rounded to 10 significant digits (integers below 1e15 kept whole),
 * null when not finite: for derived figures (rates, predictions) whose
 * further digits are noise. */
struct json_t *px_json_real10(double v);

#endif
