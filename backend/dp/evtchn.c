/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A worker's event channels: reading what was delivered, a burst at a
 * time, and holding masked the ports of a queue whose guest rings far
 * more than it sends (XSA-332 class), so that its storm costs its own
 * latency and no one else's (dp.h, DP_EVT_*).
 */
#include <rte_common.h>
#include <rte_cycles.h>

#include "dp_priv.h"

bool
dp_storm_event(struct dp_storm *s, const struct dp_storm_rule *r,
	       uint64_t now, uint32_t work)
{
	if (now - s->window >= r->window) {
		if (s->events < r->min)
			s->hold = 0;
		s->window = now;
		s->events = s->work = 0;
	}
	s->events++;
	s->work += work;
	if (s->events < (s->hold ? r->ratio : r->min) ||
	    s->events <= r->ratio * (s->work + 1))
		return false;
	s->hold = s->hold ? RTE_MIN(s->hold * 2, r->hold_max) : r->hold_first;
	s->until = now + s->hold;
	s->held = true;
	return true;
}

void
dp_storm_release(struct dp_storm *s, uint64_t now)
{
	s->held = false;
	s->window = now;
	s->events = s->work = 0;
}

/*
 * q's hold is over: unmask both its ports (the one not delivered while
 * held is unmasked already, and unmasking it again is harmless).
 */
static void
evt_release(struct dp_worker *w, struct dp_queue *q)
{
	uint32_t ports[2] = { (uint32_t)q->tx_evtchn, (uint32_t)q->rx_evtchn };

	dp_storm_release(&q->evt, w->tsc);
	w->nheld--;
	hv_evtchn_unmask(w->evh, ports, q->rx_evtchn != q->tx_evtchn ? 2 : 1);
}

void
dp_evt_release_due(struct dp_worker *w)
{
	for (unsigned i = 0; i < w->nq && w->nheld; i++) {
		struct dp_queue *q = w->queues[i];

		if (q->evt.held && w->tsc >= q->evt.until)
			evt_release(w, q);
	}
}

/*
 * Count the delivered ports and keep for dp_evt_unmask() those whose
 * queue does not storm: a guest that notifies again as soon as it is
 * unmasked kept a one-port-at-a-time loop going for good (one ran
 * 59,216 times), and every other queue of the worker waited. Ports of
 * no queue (the worker's wake-up channel) are kept too.
 */
void
dp_evt_take(struct dp_worker *w, const uint32_t *ports, unsigned n)
{
	uint32_t *unmask = w->unmask;
	unsigned nu = w->nunmask;

	for (unsigned i = 0; i < n; i++) {
		uint32_t p = ports[i];
		struct dp_queue *q = p < DP_MAX_EVTCHN ? w->by_evtchn[p] : NULL;

		if (q) {
			q->stats[DP_Q_EVENTS]++;
			if (q->evt.held)
				continue; /* unmasked at the hold's end */
			if (dp_storm_event(&q->evt, &w->evt_rule, w->tsc, 0)) {
				/* Left masked: its rings are polled
				 * meanwhile. */
				q->stats[DP_Q_EVTCHN_THROTTLED]++;
				w->nheld++;
				continue;
			}
		}
		if (nu == DP_EVT_BURST) {
			/* Not reached: one read a sleep, each after an
			 * unmask. */
			hv_evtchn_unmask(w->evh, unmask, nu);
			nu = 0;
		}
		unmask[nu++] = p;
	}
	w->nunmask = nu;
}

/*
 * Unmask in one call what the last wake-up read, before the worker
 * looks at its rings a last time and sleeps: while it is awake its
 * rings are polled anyway, and a port left masked costs no interrupt
 * when its guest notifies again.
 */
void
dp_evt_unmask(struct dp_worker *w)
{
	hv_evtchn_unmask(w->evh, w->unmask, w->nunmask);
	w->nunmask = 0;
}

/*
 * Read up to DP_EVT_BURST delivered ports in one call (the handle's fd
 * polled readable) and take them. What is left stays readable on the
 * fd for the next sleep.
 */
unsigned
dp_evt_drain(struct dp_worker *w)
{
	uint32_t ports[DP_EVT_BURST];
	int n = hv_evtchn_pending(w->evh, ports, DP_EVT_BURST);

	if (n <= 0)
		return 0;
	dp_evt_take(w, ports, (unsigned)n);
	return (unsigned)n;
}
