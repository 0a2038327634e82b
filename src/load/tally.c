/* SPDX-License-Identifier: MIT */
/* How a request's end is counted: by status or by cause. */
#include "portex/load/tally.h"

#include <errno.h>
#include <stddef.h>

#include "portex/base/atomic.h"
#include "portex/base/clock.h"
#include "portex/base/outcome.h"
#include "portex/load/hist.h"
#include "portex/load/result.h"

void px_tally_failure(struct px_totals *ctr, uint64_t *first_eaddr_us, int cause, int out_of_ports)
{
    PX_BUMP(ctr->cause[cause], 1);
    PX_BUMP(ctr->failed, 1);
    /* Once the first is recorded, a plain load keeps the many that follow
     * off the shared cache line's compare-and-swap. */
    if (out_of_ports && __atomic_load_n(first_eaddr_us, __ATOMIC_RELAXED) == 0) {
        uint64_t none = 0;
        __atomic_compare_exchange_n(first_eaddr_us, &none, px_clock_us(), 0, __ATOMIC_RELAXED,
                                    __ATOMIC_RELAXED);
    }
}

void px_tally_response(struct px_totals *ctr, struct px_latency *lat, uint64_t *first_eaddr_us,
                       uint64_t t_start_us, int status)
{
    px_hist_record(&lat->total, px_clock_us() - t_start_us);
    if (status >= 100 && status <= 599)
        PX_BUMP(ctr->status[status / 100], 1);
    if (status >= 200 && status <= 399) {
        PX_BUMP(ctr->ok, 1);
        return;
    }
    int cause = status >= 400 && status <= 499   ? PX_CAUSE_HTTP_4XX
                : status >= 500 && status <= 599 ? PX_CAUSE_HTTP_5XX
                : status == 101                  ? PX_CAUSE_SWITCHED
                                                 : PX_CAUSE_BAD_STATUS;
    px_tally_failure(ctr, first_eaddr_us, cause, 0);
}

int px_tally_backoff(int cause)
{
    static const int errs[] = {EADDRNOTAVAIL, EMFILE,     ENFILE,       ENOBUFS,
                               ENOMEM,        EADDRINUSE, ECONNREFUSED, ENETUNREACH,
                               EHOSTUNREACH,  ENETDOWN,   EACCES,       EPERM};
    if (cause == PX_CAUSE_NO_H2)
        return 1; /* the server will not agree on h2 the next time either */
    for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++)
        if (cause == px_cause_from_errno(errs[i]))
            return 1;
    return 0;
}
