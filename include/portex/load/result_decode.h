/* SPDX-License-Identifier: MIT */
/*
 * The mergeable result format read back (portex merge, the lab's pipe): a
 * document into a new run with its own load; every key checked, a bad one
 * named in a one-line message.
 */
#ifndef PORTEX_RESULT_DECODE_H
#define PORTEX_RESULT_DECODE_H

#include <stddef.h>

struct json_t;
struct px_run;

/*
 * Reads a document holding config, environment, series and result back into
 * a new run (free it with px_run_free) with its own load. NULL with a
 * one-line message naming the key.
 */
struct px_run *px_result_decode(const struct json_t *doc, char *err, size_t errlen);
/* Parses text (a whole document) with px_result_decode. NULL with the reason. */
struct px_run *px_result_decode_text(const char *text, size_t len, char *err, size_t errlen);
/* Reads a file ("-" = stdin) with px_result_decode; err names the file. NULL on error. */
struct px_run *px_result_decode_file(const char *path, char *err, size_t errlen);

#endif
