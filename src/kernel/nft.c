/* SPDX-License-Identifier: MIT */
/* nftables through libnftables: the lab's NAT ruleset, loaded in the caller's namespace. */
#include "portex/kernel/nft.h"

#include <nftables/libnftables.h>
#include <stdio.h>
#include <string.h>

int px_nft_snat_rules(const struct px_nft_snat *s, char *out, size_t outlen)
{
    char what[256];
    if (s->naddrs >= 2)
        snprintf(what, sizeof(what), "snat to numgen inc mod 2 map { 0 : %s, 1 : %s } :%u-%u",
                 s->addrs[0], s->addrs[1], s->port_lo, s->port_hi);
    else
        snprintf(what, sizeof(what), "masquerade to :%u-%u", s->port_lo, s->port_hi);
    int n = snprintf(out, outlen,
                     "table ip portex {\n"
                     "  chain post {\n"
                     "    type nat hook postrouting priority srcnat; policy accept;\n"
                     "    oifname \"%s\" meta l4proto tcp %s%s%s\n"
                     "  }\n"
                     "}\n",
                     s->oifname, what, s->flags ? " " : "", s->flags ? s->flags : "");
    return n < 0 || (size_t)n >= outlen ? -1 : n;
}

/* A context of this namespace with its output and errors kept in buffers, not on our stdio. */
static struct nft_ctx *ctx_new(void)
{
    struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
    if (ctx == NULL)
        return NULL;
    nft_ctx_buffer_output(ctx);
    nft_ctx_buffer_error(ctx);
    return ctx;
}

int px_nft_load(const char *rules, char *err, size_t errlen)
{
    struct nft_ctx *ctx = ctx_new();
    if (ctx == NULL) {
        snprintf(err, errlen, "nftables: cannot make a libnftables context");
        return -1;
    }
    int rc = nft_run_cmd_from_buffer(ctx, rules);
    if (rc != 0) {
        /* nft puts its caret under a misleading line of a multi-line buffer
         * (1.0.6): the whole message is shown, with the ruleset it was about. */
        const char *msg = nft_ctx_get_error_buffer(ctx);
        snprintf(err, errlen,
                 "nftables refused the lab's ruleset: %s; on a modular kernel load "
                 "nft_chain_nat and nft_masq (modprobe)",
                 msg && *msg ? msg : "no message");
        size_t n = strlen(err);
        while (n > 0 && (err[n - 1] == '\n' || err[n - 1] == ' '))
            err[--n] = '\0';
    }
    nft_ctx_free(ctx);
    return rc ? -1 : 0;
}

int px_nft_has_nat(void)
{
    struct nft_ctx *ctx = ctx_new();
    if (ctx == NULL)
        return -1;
    int rc = nft_run_cmd_from_buffer(ctx, "list ruleset");
    int found = -1;
    if (rc == 0) {
        const char *out = nft_ctx_get_output_buffer(ctx);
        found = out != NULL && strstr(out, "type nat hook") != NULL;
    }
    nft_ctx_free(ctx);
    return found;
}

int px_nft_legacy_nat(const char *proc)
{
    char path[256], line[64];
    snprintf(path, sizeof(path), "%s/net/ip_tables_names", proc);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    int found = 0;
    while (!found && fgets(line, sizeof(line), f) != NULL)
        found = strcmp(line, "nat\n") == 0 || strcmp(line, "nat") == 0;
    fclose(f);
    return found;
}
