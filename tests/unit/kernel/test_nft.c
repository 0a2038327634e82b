/* SPDX-License-Identifier: MIT */
/* Unit tests of the lab's nftables rulesets (the text; loading needs a namespace: test_netns). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "fakeproc.h"
#include "portex/kernel/nft.h"

static void px_nft_snat_rules__one_address_masquerades(void **state)
{
    (void)state;
    struct px_nft_snat s = {
        .oifname = "portex-m1", .port_lo = 40000, .port_hi = 40099, .naddrs = 1};
    char out[512];
    assert_true(px_nft_snat_rules(&s, out, sizeof(out)) > 0);
    assert_non_null(strstr(out, "type nat hook postrouting priority srcnat;"));
    assert_non_null(
        strstr(out, "oifname \"portex-m1\" meta l4proto tcp masquerade to :40000-40099\n"));
}

/* nft spells iptables' random-fully as fully-random; the flag follows the range. */
static void px_nft_snat_rules__flags_after_the_range(void **state)
{
    (void)state;
    struct px_nft_snat s = {.oifname = "portex-m1",
                            .port_lo = 40000,
                            .port_hi = 40099,
                            .naddrs = 1,
                            .flags = "fully-random"};
    char out[512];
    assert_true(px_nft_snat_rules(&s, out, sizeof(out)) > 0);
    assert_non_null(strstr(out, "masquerade to :40000-40099 fully-random\n"));
}

/* Two addresses alternate per new flow (numgen): `snat to A-B` would hash to one of them. */
static void px_nft_snat_rules__two_addresses_by_numgen(void **state)
{
    (void)state;
    struct px_nft_snat s = {.oifname = "portex-m1",
                            .port_lo = 40000,
                            .port_hi = 40099,
                            .addrs = {"198.18.2.253", "198.18.2.254"},
                            .naddrs = 2};
    char out[512];
    assert_true(px_nft_snat_rules(&s, out, sizeof(out)) > 0);
    assert_non_null(strstr(
        out, "snat to numgen inc mod 2 map { 0 : 198.18.2.253, 1 : 198.18.2.254 } :40000-40099"));
    assert_null(strstr(out, "masquerade"));
    assert_int_equal(px_nft_snat_rules(&s, out, 40), -1);
}

static void px_nft_legacy_nat__reads_table_names(void **state)
{
    (void)state;
    char *dir = fakeproc_new();
    assert_int_equal(px_nft_legacy_nat(dir), 0); /* no file: no legacy tables */
    fakeproc_write(dir, "net/ip_tables_names", "filter\n");
    assert_int_equal(px_nft_legacy_nat(dir), 0);
    fakeproc_write(dir, "net/ip_tables_names", "filter\nnat\n");
    assert_int_equal(px_nft_legacy_nat(dir), 1);
    fakeproc_remove(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(px_nft_snat_rules__one_address_masquerades),
        cmocka_unit_test(px_nft_snat_rules__flags_after_the_range),
        cmocka_unit_test(px_nft_snat_rules__two_addresses_by_numgen),
        cmocka_unit_test(px_nft_legacy_nat__reads_table_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
