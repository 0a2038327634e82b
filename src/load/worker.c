/* SPDX-License-Identifier: MIT */
/* A worker thread: its event loop, the pace of its slots, its stop and drain. */
#include "portex/load/worker.h"

#include <event2/event.h>

#include "portex/base/atomic.h"
#include "portex/base/clock.h"
#include "portex/kernel/kernel.h"
#include "portex/load/hist.h"

static struct timeval us_to_tv(uint64_t us)
{
    struct timeval tv = {.tv_sec = (time_t)(us / 1000000u),
                         .tv_usec = (suseconds_t)(us % 1000000u)};
    return tv;
}

static int open_model(const struct px_worker *w)
{
    return w->sh->sched.rate_per_s > 0;
}

static void worker_check_finished(struct px_worker *w)
{
    if (w->slots.stopping && w->slots.busy == 0)
        event_base_loopbreak(w->base);
}

/* Start nothing more; close idle connections; in-flight requests go on. */
static void worker_quiesce(struct px_worker *w)
{
    evtimer_del(w->tick);
    px_slots_quiesce(&w->slots);
    worker_check_finished(w);
}

/* Duration over or stop asked: quiesce, and give in-flight requests a grace. */
static void worker_begin_stop(struct px_worker *w)
{
    if (evtimer_pending(w->grace, NULL))
        return;
    worker_quiesce(w);
    struct timeval tv = us_to_tv(px_schedule_grace_us(w->sh->slot.load));
    evtimer_add(w->grace, &tv);
}

/* Closed model: the slot's next request, if the -n share allows one. */
static void closed_next(struct px_worker *w, struct px_slot *s, enum px_slot_next next)
{
    if (w->slots.stopping || open_model(w))
        return;
    if (w->quota == 0) {
        /* Nothing left to start; requests in flight still end normally. */
        w->slots.stopping = 1;
        return;
    }
    if (next == PX_SLOT_NEXT_NOW) {
        w->quota--;
        px_slot_start(s, px_clock_us());
        return;
    }
    px_slot_pause(s, next);
}

/* A slot is idle again (its request ended, or its pause): the closed model
 * goes on, and the loop ends once a stopping worker has nothing in flight. */
static void slot_done_cb(void *arg, struct px_slot *s, enum px_slot_next next)
{
    struct px_worker *w = arg;
    closed_next(w, s, next);
    if (px_slot_idle(s))
        worker_check_finished(w);
}

/* Open model: start every request whose time has come, then sleep till the next. */
static void tick_open(struct px_worker *w)
{
    uint64_t now = px_clock_us();
    for (;;) {
        uint64_t at = 0;
        switch (px_schedule_next(&w->sh->sched, w->id, w->scheduled, w->quota, now, &at)) {
        case PX_SCHEDULE_QUIESCE:
            worker_quiesce(w);
            return;
        case PX_SCHEDULE_STOP:
            worker_begin_stop(w);
            return;
        case PX_SCHEDULE_WAIT: {
            struct timeval tv = us_to_tv(at - now);
            evtimer_add(w->tick, &tv);
            return;
        }
        case PX_SCHEDULE_START:
            break;
        }
        w->scheduled++;
        w->quota--;
        struct px_slot *s = px_slots_take(&w->slots);
        if (s == NULL) {
            /* The in-flight cap is reached: count it, never delay the start. */
            PX_BUMP(w->ctr.missed_starts, 1);
            continue;
        }
        px_slot_start(s, at);
    }
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct px_worker *w = arg;
    if (open_model(w))
        tick_open(w);
    else
        worker_begin_stop(w); /* closed model: the duration is over */
}

/* The drain after a stop is over: what is still in flight is cancelled. */
static void grace_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct px_worker *w = arg;
    px_slots_cancel(&w->slots);
    event_base_loopbreak(w->base);
}

static void stop_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    worker_begin_stop(arg);
}

/* Closed model: the -d timer, and every slot's first request. */
static void closed_begin(struct px_worker *w)
{
    const struct px_schedule *sched = &w->sh->sched;
    if (sched->end_us != 0) {
        struct timeval tv = us_to_tv(sched->end_us - sched->t0_us);
        evtimer_add(w->tick, &tv);
    }
    for (unsigned i = 0; i < w->slots.n && w->quota > 0 && !w->slots.stopping; i++) {
        w->quota--;
        px_slot_start(&w->slots.slot[i], px_clock_us());
    }
    if (w->slots.busy == 0)
        worker_quiesce(w);
}

static void *worker_main(void *arg)
{
    struct px_worker *w = arg;
    struct px_worker_shared *sh = w->sh;
    if (open_model(w))
        tick_open(w);
    else
        closed_begin(w);
    if (!w->slots.stopping || w->slots.busy > 0)
        event_base_dispatch(w->base);
    px_slots_close(&w->slots);
    uint64_t end_us = px_clock_us();
    pthread_mutex_lock(&sh->lock);
    sh->finished++;
    if (end_us > sh->finished_us)
        sh->finished_us = end_us;
    pthread_mutex_unlock(&sh->lock);
    return NULL;
}

/* An epoll loop for one worker; NULL when there is none. */
static struct event_base *new_base(int open)
{
    struct event_config *ec = event_config_new();
    if (ec == NULL)
        return NULL;
    /* Timers set the open model's timetable: ask for timerfd precision there.
     * The closed model only has timeouts, and a timerfd would cost a syscall
     * whenever the nearest one moves. */
    if (open)
        event_config_set_flag(ec, EVENT_BASE_FLAG_PRECISE_TIMER);
    /* Edge-triggered registrations and peer-close (EPOLLRDHUP) need epoll. */
    event_config_require_features(ec, EV_FEATURE_ET | EV_FEATURE_EARLY_CLOSE);
    struct event_base *base = event_base_new_with_config(ec);
    event_config_free(ec);
    return base;
}

int px_worker_loop_fds(int open)
{
    unsigned before = px_fd_count(PX_PROC, UINT32_MAX);
    struct event_base *base = new_base(open);
    if (base == NULL)
        return -1;
    unsigned after = px_fd_count(PX_PROC, UINT32_MAX);
    event_base_free(base);
    return after > before ? (int)(after - before) : 0;
}

int px_worker_init(struct px_worker *w, struct px_worker_shared *sh, unsigned id, unsigned nslots,
                   uint64_t quota)
{
    w->sh = sh;
    w->id = id;
    w->quota = quota;
    px_hist_init(&w->lat.connect);
    px_hist_init(&w->lat.ttfb);
    px_hist_init(&w->lat.total);
    px_hist_init(&w->lat.tls);
    px_hist_init(&w->lat.connect_call);
    if (sh->slot.transport->worker_new(&w->transport_worker, sh->transport_ctx) < 0)
        return -1;
    w->base = new_base(open_model(w));
    if (w->base == NULL)
        return -1;
    w->tick = evtimer_new(w->base, tick_cb, w);
    w->grace = evtimer_new(w->base, grace_cb, w);
    w->stop_ev = event_new(w->base, -1, 0, stop_cb, w);
    if (!w->tick || !w->grace || !w->stop_ev)
        return -1;
    struct px_slot_owner owner = {
        .shared = &sh->slot,
        .base = w->base,
        .transport_worker = w->transport_worker,
        .ctr = &w->ctr,
        .lat = &w->lat,
        .done = slot_done_cb,
        .arg = w,
    };
    return px_slots_init(&w->slots, &owner, nslots);
}

int px_worker_start(struct px_worker *w)
{
    return pthread_create(&w->thread, NULL, worker_main, w);
}

void px_worker_stop(struct px_worker *w)
{
    event_active(w->stop_ev, EV_READ, 0);
}

void px_worker_join(struct px_worker *w)
{
    pthread_join(w->thread, NULL);
}

void px_worker_release(struct px_worker *w)
{
    if (w->sh == NULL)
        return;
    px_slots_release(&w->slots);
    if (w->tick)
        event_free(w->tick);
    if (w->grace)
        event_free(w->grace);
    if (w->stop_ev)
        event_free(w->stop_ev);
    if (w->base)
        event_base_free(w->base);
    w->sh->slot.transport->worker_free(w->transport_worker);
}
