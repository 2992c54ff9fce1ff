/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Capture taps: workers copy what a watched switch port sends and
 * receives into the tap's ring; management drains it (mgmt/capture.c).
 * A copy is made whole (header included) before it is enqueued: once in
 * the ring it belongs to the reader.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "dp_priv.h"

#define DP_TAP_RING 4096u
#define DP_TAP_MBUFS 4096u

int
dp_taps_init(struct dp *dp)
{
	char name[RTE_RING_NAMESIZE];

	/* Made at start: the pool is fixed once running. */
	dp->tap_pool = rte_pktmbuf_pool_create("nb_tap", DP_TAP_MBUFS, 128, 0,
					       RTE_MBUF_DEFAULT_BUF_SIZE,
					       rte_socket_id());
	if (!dp->tap_pool)
		return -ENOMEM;
	for (unsigned i = 0; i < DP_MAX_TAPS; i++) {
		snprintf(name, sizeof(name), "nb_tap%u", i);
		dp->taps[i].ring = rte_ring_create(name, DP_TAP_RING,
						   SOCKET_ID_ANY,
						   RING_F_SC_DEQ);
		if (!dp->taps[i].ring) {
			dp_taps_fini(dp);
			return -ENOMEM;
		}
	}
	return 0;
}

void
dp_taps_fini(struct dp *dp)
{
	for (unsigned i = 0; i < DP_MAX_TAPS; i++) {
		if (dp->taps[i].used)
			dp_tap_close(dp, i);
		rte_ring_free(dp->taps[i].ring);
		dp->taps[i].ring = NULL;
	}
	rte_mempool_free(dp->tap_pool);
	dp->tap_pool = NULL;
}

int
dp_tap_open(struct dp *dp, uint32_t snaplen)
{
	if (!dp->tap_pool)
		return -ENOMEM;
	for (unsigned i = 0; i < DP_MAX_TAPS; i++) {
		struct dp_tap *t = &dp->taps[i];

		if (t->used)
			continue;
		t->used = true;
		t->snaplen = snaplen;
		atomic_store(&t->dropped, 0);
		return (int)i;
	}
	return -EBUSY;
}

void
dp_tap_watch(struct dp *dp, unsigned t, int sw_port, bool on)
{
	uint8_t bit = (uint8_t)(1u << t);

	if (sw_port < 0 || sw_port >= (int)DP_MAX_SW_PORTS)
		return;
	if (on)
		atomic_fetch_or(&dp->tap_mask[sw_port], bit);
	else
		atomic_fetch_and(&dp->tap_mask[sw_port], (uint8_t)~bit);
}

void
dp_tap_forget(struct dp *dp, int sw_port)
{
	if (sw_port >= 0 && sw_port < (int)DP_MAX_SW_PORTS)
		atomic_store(&dp->tap_mask[sw_port], 0);
}

unsigned
dp_tap_dequeue(struct dp *dp, unsigned t, struct rte_mbuf **m,
	       struct dp_tap_hdr *h, unsigned n)
{
	n = rte_ring_sc_dequeue_burst(dp->taps[t].ring, (void **)m, n, NULL);
	for (unsigned i = 0; i < n; i++) {
		memcpy(&h[i], rte_pktmbuf_mtod(m[i], void *), sizeof(h[i]));
		rte_pktmbuf_adj(m[i], sizeof(h[i]));
	}
	return n;
}

uint64_t
dp_tap_dropped(const struct dp *dp, unsigned t)
{
	return atomic_load(&dp->taps[t].dropped);
}

void
dp_tap_stop(struct dp *dp, unsigned t)
{
	uint8_t bit = (uint8_t)(1u << t);

	for (unsigned p = 0; p < DP_MAX_SW_PORTS; p++)
		if (atomic_load_explicit(&dp->tap_mask[p],
					 memory_order_relaxed) & bit)
			atomic_fetch_and(&dp->tap_mask[p], (uint8_t)~bit);
	/* Workers that saw the bit have enqueued by now, or will not. */
	if (dp->rcu)
		rte_rcu_qsbr_synchronize(dp->rcu, RTE_QSBR_THRID_INVALID);
}

void
dp_tap_close(struct dp *dp, unsigned t)
{
	struct rte_mbuf *m;

	dp_tap_stop(dp, t);
	while (rte_ring_sc_dequeue(dp->taps[t].ring, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	dp->taps[t].used = false;
}

/* Worker: one copy per tap and frame, header first, then enqueued. */
void
dp_tap_capture(struct dp *dp, unsigned port, struct rte_mbuf **pkts,
	       unsigned n, bool out)
{
	unsigned mask = atomic_load_explicit(&dp->tap_mask[port],
					     memory_order_relaxed);
	uint64_t tsc = rte_get_tsc_cycles();

	for (unsigned t = 0; t < DP_MAX_TAPS; t++) {
		struct dp_tap *tap = &dp->taps[t];

		if (!(mask & (1u << t)))
			continue;
		for (unsigned i = 0; i < n; i++) {
			struct rte_mbuf *c = rte_pktmbuf_copy(
			    pkts[i], dp->tap_pool, 0, tap->snaplen);
			struct dp_tap_hdr *h;

			if (!c) {
				atomic_fetch_add(&tap->dropped, 1);
				continue;
			}
			h = (struct dp_tap_hdr *)rte_pktmbuf_prepend(c,
								     sizeof(*h));
			if (!h) {
				rte_pktmbuf_free(c);
				atomic_fetch_add(&tap->dropped, 1);
				continue;
			}
			h->tsc = tsc;
			h->orig_len = pkts[i]->pkt_len;
			h->out = out;
			if (rte_ring_mp_enqueue(tap->ring, c) != 0) {
				rte_pktmbuf_free(c);
				atomic_fetch_add(&tap->dropped, 1);
			}
		}
	}
}
