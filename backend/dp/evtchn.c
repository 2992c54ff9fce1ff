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
	dp_storm_release(&q->evt, w->tsc);
	w->nheld--;
	hv_evtchn_unmask(w->evh, (uint32_t)q->tx_evtchn);
	if (q->rx_evtchn != q->tx_evtchn)
		hv_evtchn_unmask(w->evh, (uint32_t)q->rx_evtchn);
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
 * Read up to DP_EVT_BURST delivered ports, count them, unmask them
 * unless their queue storms: a guest that notifies again as soon as it
 * is unmasked kept this loop going for good (one ran 59,216 times), and
 * every other queue of the worker waited. What is left stays readable
 * on the handle's fd for the next pass.
 */
unsigned
dp_evt_drain(struct dp_worker *w)
{
	unsigned n = 0;
	int p;

	while (n < DP_EVT_BURST && (p = hv_evtchn_pending(w->evh)) >= 0) {
		struct dp_queue *q = (unsigned)p < DP_MAX_EVTCHN ? w->by_evtchn[p]
								: NULL;

		n++;
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
		hv_evtchn_unmask(w->evh, (uint32_t)p);
	}
	return n;
}
