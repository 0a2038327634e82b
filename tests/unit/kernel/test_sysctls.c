/* SPDX-License-Identifier: MIT */
/* Unit tests of the sysctl table: every row complete, its field reached, its words. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "fakeproc.h"
#include "portex/kernel/kernel.h"
#include "portex/kernel/sysctls.h"

static void px_sysctls__every_row_complete(void **state)
{
    (void)state;
    for (size_t i = 0; i < PX_SYSCTL_COUNT; i++) {
        const struct px_sysctl *s = &px_sysctls[i];
        assert_non_null(s->name);
        assert_non_null(s->label);
        assert_non_null(s->meaning);
        assert_non_null(strstr(s->name, s->label));
        assert_true(s->users & PX_SYSCTL_ENV);
        if (s->kind == PX_SYSCTL_INT) {
            assert_non_null(s->unit);
        } else {
            assert_non_null(s->fallback);
            assert_in_range(s->size, 2, PX_SYSCTL_TEXT_MAX);
        }
    }
    assert_string_equal(px_sysctls[PX_SYSCTL_TW_REUSE].name, "net.ipv4.tcp_tw_reuse");
    assert_string_equal(px_sysctls[PX_SYSCTL_FILE_MAX].name, "fs.file-max");
    assert_true(px_sysctls[PX_SYSCTL_TW_REUSE_DELAY].users & PX_SYSCTL_CEILING);
    assert_false(px_sysctls[PX_SYSCTL_SOMAXCONN].users & PX_SYSCTL_CEILING);
}

/* Each integer row reaches its own field of struct px_env and no other. */
static void px_sysctls_set_int__fills_its_field(void **state)
{
    (void)state;
    struct px_env env;
    memset(&env, 0, sizeof(env));
    for (size_t i = 0; i < PX_SYSCTL_COUNT; i++)
        if (px_sysctls[i].kind == PX_SYSCTL_INT)
            px_sysctls_set_int(&env, &px_sysctls[i], (int64_t)(100 + i));
    assert_int_equal(env.tw_reuse, 100 + PX_SYSCTL_TW_REUSE);
    assert_int_equal(env.tw_reuse_delay_ms, 100 + PX_SYSCTL_TW_REUSE_DELAY);
    assert_int_equal(env.timestamps, 100 + PX_SYSCTL_TIMESTAMPS);
    assert_int_equal(env.fin_timeout, 100 + PX_SYSCTL_FIN_TIMEOUT);
    assert_int_equal(env.max_tw_buckets, 100 + PX_SYSCTL_MAX_TW_BUCKETS);
    assert_int_equal(env.somaxconn, 100 + PX_SYSCTL_SOMAXCONN);
    assert_int_equal(env.file_max, 100 + PX_SYSCTL_FILE_MAX);
    assert_int_equal(env.port_lo, 0);
    assert_string_equal(env.reserved_ports, "");
    assert_int_equal(px_sysctls_get_int(&env, &px_sysctls[PX_SYSCTL_SOMAXCONN]),
                     100 + PX_SYSCTL_SOMAXCONN);
}

static void px_sysctls_set_text__range_and_list(void **state)
{
    (void)state;
    struct px_env env;
    memset(&env, 0, sizeof(env));
    const struct px_sysctl *range = &px_sysctls[PX_SYSCTL_PORT_RANGE];
    const struct px_sysctl *reserved = &px_sysctls[PX_SYSCTL_RESERVED_PORTS];
    char text[PX_SYSCTL_TEXT_MAX];
    /* As the kernel writes it (a tab), recorded with a space. */
    assert_int_equal(px_sysctls_set_text(&env, range, "1000\t1999\n"), 0);
    assert_int_equal(env.port_lo, 1000);
    assert_int_equal(env.port_hi, 1999);
    px_sysctls_get_text(&env, range, text, sizeof(text));
    assert_string_equal(text, "1000 1999");
    assert_int_equal(px_sysctls_set_text(&env, range, "1000"), -1);
    assert_int_equal(env.port_hi, 1999);
    assert_int_equal(px_sysctls_set_text(&env, reserved, "40000-40010,50000"), 0);
    assert_string_equal(env.reserved_ports, "40000-40010,50000");
    px_sysctls_get_text(&env, reserved, text, sizeof(text));
    assert_string_equal(text, "40000-40010,50000");
}

static void px_sysctls_meaning__per_value_words(void **state)
{
    (void)state;
    const struct px_sysctl *reuse = &px_sysctls[PX_SYSCTL_TW_REUSE];
    assert_non_null(strstr(px_sysctls_meaning(reuse, 0), "never"));
    assert_non_null(strstr(px_sysctls_meaning(reuse, 2), "loopback"));
    assert_string_equal(px_sysctls_meaning(reuse, 7), "unknown");
    assert_non_null(strstr(px_sysctls_meaning(&px_sysctls[PX_SYSCTL_TIMESTAMPS], 0), "off"));
    const struct px_sysctl *fin = &px_sysctls[PX_SYSCTL_FIN_TIMEOUT];
    assert_string_equal(px_sysctls_meaning(fin, 30), fin->meaning);
}

/* A tree without the range, or with garbage in it, gives the built-in default. */
static void px_env_read__fallback_range(void **state)
{
    (void)state;
    char *dir = fakeproc_new();
    fakeproc_write(dir, "sys/net/ipv4/tcp_tw_reuse", "0\n");
    struct px_env env;
    px_env_read(dir, &env);
    assert_int_equal(env.port_lo, 32768);
    assert_int_equal(env.port_hi, 60999);
    assert_string_equal(env.reserved_ports, "");
    assert_int_equal(env.tw_reuse, 0);
    assert_int_equal(env.somaxconn, -1);
    fakeproc_write(dir, "sys/net/ipv4/ip_local_port_range", "garbage\n");
    px_env_read(dir, &env);
    assert_int_equal(env.port_lo, 32768);
    fakeproc_remove(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(px_sysctls__every_row_complete),
        cmocka_unit_test(px_sysctls_set_int__fills_its_field),
        cmocka_unit_test(px_sysctls_set_text__range_and_list),
        cmocka_unit_test(px_sysctls_meaning__per_value_words),
        cmocka_unit_test(px_env_read__fallback_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
