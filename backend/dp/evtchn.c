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

/*
 * One more event from q: true when its guest rings far more than it
 * sends (DP_EVT_*). A window that ended calm forgives earlier holds;
 * until then (on probation after a hold) a few events for nothing are
 * enough, or a storm would have DP_EVT_STORM_MIN events after each.
 */
static bool
evt_storm(struct dp_worker *w, struct dp_queue *q)
{
	uint64_t tsc_ms = rte_get_tsc_hz() / 1000;
	uint32_t min = q->evt_hold_ms ? DP_EVT_STORM_RATIO : DP_EVT_STORM_MIN;

	if (w->tsc - q->evt_window >= DP_EVT_WINDOW_MS * tsc_ms) {
		if (q->evt_count < DP_EVT_STORM_MIN)
			q->evt_hold_ms = 0;
		q->evt_window = w->tsc;
		q->evt_count = q->evt_work = 0;
	}
	q->evt_count++;
	return q->evt_count >= min &&
	       q->evt_count > DP_EVT_STORM_RATIO * (q->evt_work + 1);
}

/* Leave q's ports masked for a while: its rings are polled meanwhile. */
static void
evt_hold(struct dp_worker *w, struct dp_queue *q)
{
	uint64_t tsc_ms = rte_get_tsc_hz() / 1000;

	q->evt_hold_ms = q->evt_hold_ms
			     ? RTE_MIN(q->evt_hold_ms * 2, DP_EVT_HOLD_MAX_MS)
			     : 1;
	q->evt_hold_until = w->tsc + q->evt_hold_ms * tsc_ms;
	q->evt_held = true;
	q->stats[DP_Q_EVTCHN_THROTTLED]++;
	w->nheld++;
}

/*
 * Unmask the ports of q (both: the one not delivered while held is
 * unmasked already, and unmasking it again is harmless), and start a
 * fresh window, so that a storm that goes on is held again, longer.
 */
static void
evt_release(struct dp_worker *w, struct dp_queue *q)
{
	q->evt_held = false;
	w->nheld--;
	q->evt_window = w->tsc;
	q->evt_count = q->evt_work = 0;
	hv_evtchn_unmask(w->evh, (uint32_t)q->tx_evtchn);
	if (q->rx_evtchn != q->tx_evtchn)
		hv_evtchn_unmask(w->evh, (uint32_t)q->rx_evtchn);
}

void
dp_evt_release_due(struct dp_worker *w)
{
	for (unsigned i = 0; i < w->nq && w->nheld; i++) {
		struct dp_queue *q = w->queues[i];

		if (q->evt_held && w->tsc >= q->evt_hold_until)
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
			if (q->evt_held)
				continue; /* unmasked at the hold's end */
			if (evt_storm(w, q)) {
				evt_hold(w, q);
				continue;
			}
		}
		hv_evtchn_unmask(w->evh, (uint32_t)p);
	}
	return n;
}
