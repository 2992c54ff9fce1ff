/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Guest TX: the frontend's requests become mbufs and go to the switch.
 *
 *   dp_tx_queue()  requests of one queue, a burst at a time:
 *     tx_credit()    the rate limit: how many bytes may go now
 *     ring_tx_poll_budget()  copy and check the requests (ring/)
 *     tx_build()     mbufs, and a grant-copy segment per piece of a slot
 *     hv_copy()      one call for the burst's segments
 *     tx_respond()   a response per request, multicast operations done
 *     ring_tx_push() + at most one notify, then dp_fwd_from_vif()
 */
#include <errno.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_mbuf.h>

#include "dp_priv.h"

/* mbufs one TX burst may need: 32 packets of 64 KiB in 2 KiB buffers. */
#define DP_TX_MBUFS (RING_TX_BURST_PKTS * 33u)

/*
 * Kernel netback's credit scheme: `rate` bytes more every period, up to
 * a burst of max(rate, 128 KiB), so that a 64 KiB packet always passes
 * in the end. NULL when the vif has no limit.
 */
static uint64_t *
tx_credit(struct dp_queue *q, uint64_t *left)
{
	uint64_t rate = atomic_load_explicit(&q->vif->rate_bytes,
					     memory_order_relaxed);

	if (likely(!rate))
		return NULL;
	uint64_t now = rte_get_tsc_cycles();

	if (now >= q->credit_at) {
		uint64_t usec = atomic_load_explicit(&q->vif->rate_usec,
						     memory_order_relaxed);

		q->credit = RTE_MIN(q->credit + rate, RTE_MAX(rate, 131072u));
		q->credit_at = now + usec * rte_get_tsc_hz() / 1000000;
	}
	*left = q->credit;
	return left;
}

static inline bool
tx_is_data(const struct ring_tx_pkt *p)
{
	return p->drop == RING_TX_OK && p->mcast_op == RING_MCAST_NONE;
}

/* Where piece (gref, off, len) of a slot goes: into m's data, by memcpy
 * from a static grant, or as one grant-copy segment. */
static void
tx_piece(struct dp_worker *w, struct dp_queue *q, struct rte_mbuf *m,
	 const struct ring_tx_slot *sl, uint16_t off, uint16_t len,
	 bool statics, unsigned *nsegs)
{
	void *dst = rte_pktmbuf_mtod_offset(m, void *, m->data_len);
	const uint8_t *pg =
	    statics ? dp_vif_gref_addr(q->vif, sl->gref, false) : NULL;

	m->data_len += len;
	if (pg) {
		/* A static grant: no grant op. */
		memcpy(dst, pg + off, len);
		w->copy_static++;
		return;
	}
	xengnttab_grant_copy_segment_t *g = &w->segs[(*nsegs)++];
	g->source.foreign.ref = sl->gref;
	g->source.foreign.offset = off;
	g->source.foreign.domid = q->vif->domid;
	g->dest.virt = dst;
	g->len = len;
	g->flags = GNTCOPY_source_gref;
}

/*
 * mbufs for the burst's data packets (heads[i], NULL for the others)
 * and their copy segments: seg_end[i] is one past packet i's last. One
 * segment per (slot, mbuf) piece; nothing crosses a page. The number of
 * segments, or -ENOMEM when the pool could not give the mbufs.
 */
static int
tx_build(struct dp_worker *w, struct dp_queue *q, int n,
	 struct rte_mbuf **heads, unsigned *seg_end)
{
	struct ring_tx_burst *b = &w->txb;
	struct rte_mbuf *mbufs[DP_TX_MBUFS];
	uint16_t room = (uint16_t)(rte_pktmbuf_data_room_size(w->pool) -
				   RTE_PKTMBUF_HEADROOM);
	bool statics = dp_vif_has_grefs(q->vif);
	unsigned nm = 0, mi = 0, nsegs = 0;

	for (int i = 0; i < n; i++)
		if (tx_is_data(&b->pkts[i]))
			nm += (b->pkts[i].len + room - 1) / room;
	if (nm && unlikely(rte_pktmbuf_alloc_bulk(w->pool, mbufs, nm) < 0))
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		struct ring_tx_pkt *p = &b->pkts[i];

		heads[i] = NULL;
		seg_end[i] = nsegs;
		if (!tx_is_data(p))
			continue;
		struct rte_mbuf *head = mbufs[mi++], *m = head;
		unsigned count = (p->len + room - 1) / room;

		for (unsigned k = 1; k < count; k++) {
			m->next = mbufs[mi++];
			m = m->next;
		}
		head->nb_segs = (uint16_t)count;
		head->pkt_len = p->len;
		m = head;
		for (unsigned s = 0; s < p->nslots; s++) {
			const struct ring_tx_slot *sl = &b->slots[p->slot + s];
			uint16_t off = sl->offset, left = sl->size;

			while (left) {
				uint16_t chunk = room - m->data_len;

				if (chunk == 0) {
					m = m->next;
					continue;
				}
				if (chunk > left)
					chunk = left;
				tx_piece(w, q, m, sl, off, chunk, statics,
					 &nsegs);
				off += chunk;
				left -= chunk;
			}
		}
		/* ring/ let through only TCPv4/TCPv6 with an MSS (not 0);
		 * one at least as long as the packet cuts nothing: a plain
		 * frame, no destination sees GSO on it. The MSS's floor is
		 * the port's to enforce (dp/eth.c): guests take any. */
		if (p->gso_size && p->gso_size < p->len) {
			head->ol_flags |= RTE_MBUF_F_TX_TCP_SEG;
			head->tso_segsz = p->gso_size;
			head->packet_type = p->gso_type ==
			    XEN_NETIF_GSO_TYPE_TCPV6 ? RTE_PTYPE_L3_IPV6
						     : RTE_PTYPE_L3_IPV4;
		}
		if (p->flags & NETTXF_csum_blank)
			head->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_NONE;
		else if (p->flags & NETTXF_data_validated)
			head->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_GOOD;
		heads[i] = head;
		seg_end[i] = nsegs;
	}
	return (int)nsegs;
}

/* A multicast group the guest joins or leaves (netif.h: the list may
 * change whether or not it asked for filtering): the response status. */
static int16_t
tx_mcast(struct dp_worker *w, struct dp_queue *q, const struct ring_tx_pkt *p)
{
	int r = dp_vif_mcast(w->dp, q->vif, p->mcast_op == RING_MCAST_ADD,
			     p->mcast_addr);

	q->stats[DP_Q_MCAST_OPS]++;
	if (r < 0 && !(r == -ENOENT && p->mcast_op == RING_MCAST_DEL)) {
		q->stats[DP_Q_TX_ERRORS]++;
		return NETIF_RSP_ERROR;
	}
	return NETIF_RSP_OKAY;
}

/*
 * One response per request, in order; the packets whose copy worked
 * move to the front of heads. nomem: the pool had no mbufs for this
 * burst, so data packets are answered DROPPED (multicast operations
 * take none and are done all the same). The packets to forward.
 */
static unsigned
tx_respond(struct dp_worker *w, struct dp_queue *q, int n,
	   struct rte_mbuf **heads, const unsigned *seg_end, bool nomem)
{
	struct ring_tx_burst *b = &w->txb;
	unsigned nout = 0;

	for (int i = 0, s = 0; i < n; i++) {
		struct ring_tx_pkt *p = &b->pkts[i];
		int16_t st = NETIF_RSP_OKAY;

		if (p->drop != RING_TX_OK) {
			st = NETIF_RSP_ERROR;
			q->stats[DP_Q_TX_ERRORS]++;
			q->stats[DP_Q_TX_DROP_FIRST + p->drop]++;
		} else if (p->mcast_op != RING_MCAST_NONE) {
			st = tx_mcast(w, q, p);
		} else if (nomem) {
			st = NETIF_RSP_DROPPED;
			q->stats[DP_Q_TX_DROP_NOMBUF]++;
		}
		if (!nomem) {
			for (; s < (int)seg_end[i]; s++)
				if (unlikely(w->segs[s].status != GNTST_okay))
					st = NETIF_RSP_ERROR;
		}
		if (!nomem && heads[i] && st != NETIF_RSP_OKAY) {
			q->stats[DP_Q_TX_DROP_COPY]++;
			q->stats[DP_Q_TX_ERRORS]++;
			rte_pktmbuf_free(heads[i]);
			heads[i] = NULL;
		}
		ring_tx_respond_pkt(&q->tx, p, st);
		if (!nomem && heads[i]) {
			q->stats[DP_Q_TX_PACKETS]++;
			q->stats[DP_Q_TX_BYTES] += p->len;
			heads[nout++] = heads[i];
		}
	}
	return nout;
}

unsigned
dp_tx_queue(struct dp_worker *w, struct dp_queue *q)
{
	struct ring_tx_burst *b = &w->txb;
	struct rte_mbuf *heads[RING_TX_BURST_PKTS];
	unsigned seg_end[RING_TX_BURST_PKTS];
	uint64_t left = 0, *budget;
	unsigned nout;
	int n, nsegs;

	/* Not on a switch port yet (just connected, or moving to another
	 * VLAN): requests wait in the ring rather than being read and
	 * dropped for want of a port. */
	if (unlikely(__atomic_load_n(&q->vif->sw_port, __ATOMIC_ACQUIRE) < 0))
		return 0;
	budget = tx_credit(q, &left);
	n = ring_tx_poll_budget(&q->tx, b, budget);
	if (unlikely(n < 0)) {
		dp_queue_fatal(w, q, ring_error_name(q->tx.error));
		return 0;
	}
	if (budget) {
		q->credit = left;
		if (b->throttled && !q->throttled)
			q->stats[DP_Q_TX_THROTTLED]++;
		q->throttled = b->throttled;
	} else {
		q->throttled = false;
	}
	if (n == 0)
		return 0;

	nsegs = tx_build(w, q, n, heads, seg_end);
	if (nsegs > 0) {
		dp_copy(w, (uint32_t)nsegs);
	}
	nout = tx_respond(w, q, n, heads, seg_end, nsegs == -ENOMEM);
	if (ring_tx_push(&q->tx)) {
		dp_notify(w, q->tx_evtchn);
		q->stats[DP_Q_NOTIFY_TX]++;
	}
	if (nout)
		dp_fwd_from_vif(w, q->vif, heads, nout);
	return (unsigned)n;
}
