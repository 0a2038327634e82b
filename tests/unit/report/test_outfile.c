/* SPDX-License-Identifier: MIT */
/* Unit tests of output files: early open, truncation at begin, checked writes, discard. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "portex/report/outfile.h"

/* A fresh path in a fresh directory; the directory is removed by cleanup_dir. */
static char dir[64], path[96];

static int make_dir(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/px-outfile-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(path, sizeof(path), "%s/out.json", dir);
    return 0;
}

static int cleanup_dir(void **state)
{
    (void)state;
    unlink(path);
    return rmdir(dir);
}

static long file_size(const char *p)
{
    FILE *f = fopen(p, "r");
    if (f == NULL)
        return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    return n;
}

static void px_outfile_open__missing_directory_fails_with_path_and_reason(void **state)
{
    (void)state;
    struct px_outfile o;
    char err[256];
    assert_int_equal(px_outfile_open(&o, "/nonexistent/dir/x.json", err, sizeof(err)), -1);
    assert_string_equal(err, "cannot write '/nonexistent/dir/x.json': No such file or directory");
    assert_null(o.f);
}

static void px_outfile_open__null_and_dash(void **state)
{
    (void)state;
    struct px_outfile o;
    char err[256];
    assert_int_equal(px_outfile_open(&o, NULL, err, sizeof(err)), 0);
    assert_null(o.f);
    assert_int_equal(px_outfile_close(&o, err, sizeof(err)), 0);
    assert_int_equal(px_outfile_open(&o, "-", err, sizeof(err)), 0);
    assert_ptr_equal(o.f, stdout);
}

static void px_outfile_begin__truncates_only_when_writing(void **state)
{
    (void)state;
    FILE *f = fopen(path, "w");
    fputs("an earlier report, longer than the new one\n", f);
    fclose(f);
    struct px_outfile o;
    char err[256];
    assert_int_equal(px_outfile_open(&o, path, err, sizeof(err)), 0);
    assert_false(o.created);
    assert_int_equal(file_size(path), 43);
    fputs("new\n", px_outfile_begin(&o));
    assert_int_equal(px_outfile_close(&o, err, sizeof(err)), 0);
    assert_int_equal(file_size(path), 4);
}

static void px_outfile_discard__removes_only_a_created_file(void **state)
{
    (void)state;
    struct px_outfile o;
    char err[256];
    unlink(path);
    assert_int_equal(px_outfile_open(&o, path, err, sizeof(err)), 0);
    assert_true(o.created);
    px_outfile_discard(&o);
    assert_int_equal(access(path, F_OK), -1);

    FILE *f = fopen(path, "w");
    fputs("keep\n", f);
    fclose(f);
    assert_int_equal(px_outfile_open(&o, path, err, sizeof(err)), 0);
    px_outfile_discard(&o);
    assert_int_equal(file_size(path), 5);
}

static void px_outfile_close__dev_full_small_and_large(void **state)
{
    (void)state;
    /* Small: the error shows at the final flush. Large: a write fails mid-report
     * and the last flush may find an empty buffer. */
    size_t sizes[] = {10, 100000};
    for (size_t i = 0; i < 2; i++) {
        struct px_outfile o;
        char err[256];
        assert_int_equal(px_outfile_open(&o, "/dev/full", err, sizeof(err)), 0);
        FILE *f = px_outfile_begin(&o);
        for (size_t k = 0; k < sizes[i]; k++)
            fputc('x', f);
        assert_int_equal(px_outfile_close(&o, err, sizeof(err)), -1);
        assert_string_equal(err, "cannot write '/dev/full': No space left on device");
        assert_null(o.f);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(px_outfile_open__missing_directory_fails_with_path_and_reason),
        cmocka_unit_test(px_outfile_open__null_and_dash),
        cmocka_unit_test(px_outfile_begin__truncates_only_when_writing),
        cmocka_unit_test(px_outfile_discard__removes_only_a_created_file),
        cmocka_unit_test(px_outfile_close__dev_full_small_and_large),
    };
    return cmocka_run_group_tests(tests, make_dir, cleanup_dir);
}
