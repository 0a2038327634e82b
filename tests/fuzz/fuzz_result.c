/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the result reader (portex merge's input) and its write-read round trip. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "portex/load/load.h"
#include "portex/load/result.h"
#include "portex/load/series.h"
#include "portex/report/json.h"
#include "portex/report/run_report.h"
#include "portex/load/result_decode.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *write_doc(const struct px_run *run, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    CHECK(f != NULL);
    json_t *doc = px_report_json_doc(run, "run");
    px_json_print_tree(f, doc);
    json_decref(doc);
    fclose(f);
    return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    err[0] = '\0';
    struct px_run *run = px_result_decode_text((const char *)data, size, err, sizeof(err));
    if (run == NULL) {
        /* Refused: one line saying why. */
        CHECK(err[0] != '\0' && strchr(err, '\n') == NULL);
        return 0;
    }
    /* Accepted: what it reads back from its own writing is itself again. */
    size_t len1, len2;
    char *one = write_doc(run, &len1);
    struct px_run *run2 = px_result_decode_text(one, len1, err, sizeof(err));
    CHECK(run2 != NULL);
    char *two = write_doc(run2, &len2);
    CHECK(len1 == len2 && memcmp(one, two, len1) == 0);
    free(one);
    free(two);
    px_run_free(run);
    px_run_free(run2);
    return 0;
}
