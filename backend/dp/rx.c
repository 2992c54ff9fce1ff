/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Guest RX: frames for a guest wait in its queue's RX backlog until the
 * frontend posts buffers, then are copied into them.
 *
 *   dp_deliver_vif()  frames from the switch: segmented if the guest
 *                     cannot take GSO, a queue picked by flow, then
 *                     this worker's backlog or the owner's xfer ring
 *   dp_rx_plan()      one queue's backlog, a burst at a time: posted
 *                     buffers taken, a copy segment per piece, added
 *                     to the pass's batch (w->segs, dp_priv.h)
 *   (worker.c)        one hv_copy() for the batch
 *   dp_rx_finish()    responses for every planned burst (extras for
 *                     GSO, hash, XDP headroom), a push a queue, at
 *                     most one notification owed
 *   dp_rx_queue()     the three at once, for one queue (cut packets)
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_jhash.h>
#include <rte_mbuf.h>

#include "dp_priv.h"

/* Extra-info slots a packet takes on RX, sent in this (type) order. */
enum { RX_X_GSO, RX_X_HASH, RX_X_XDP, RX_X_MAX };

static inline unsigned
rx_extras(const struct rte_mbuf *m, uint16_t headroom, bool hash, bool *gso)
{
	*gso = dp_is_gso(m);
	return (*gso ? 1u : 0u) + (hash ? 1u : 0u) + (headroom ? 1u : 0u);
}

/* Tell the workers that queue to q through xfer what its backlog holds. */
static inline void
bl_publish(struct dp_queue *q)
{
	atomic_store_explicit(&q->bl_mbufs_pub, q->bl_mbufs,
			      memory_order_relaxed);
}

/* m leaves the backlog: its mbufs and bytes no longer count. */
static inline void
bl_uncharge(struct dp_queue *q, const struct rte_mbuf *m)
{
	q->bl_mbufs -= m->nb_segs;
	q->bl_bytes -= m->pkt_len;
}

static void
backlog_drop_head(struct dp_queue *q, unsigned n, enum dp_qstat why)
{
	for (unsigned i = 0; i < n; i++) {
		bl_uncharge(q, q->backlog[q->bl_head]);
		rte_pktmbuf_free(q->backlog[q->bl_head]);
		q->bl_head = (q->bl_head + 1) % DP_RX_BACKLOG;
	}
	q->bl_count -= n;
	q->stats[why] += n;
	bl_publish(q);
}

void
dp_backlog_flush(struct dp_queue *q)
{
	for (; q->bl_count; q->bl_count--) {
		bl_uncharge(q, q->backlog[q->bl_head]);
		rte_pktmbuf_free(q->backlog[q->bl_head]);
		q->bl_head = (q->bl_head + 1) % DP_RX_BACKLOG;
	}
	bl_publish(q);
}

/* Cut packets are put in a backlog only during their TX burst, which
 * puts at most RING_TX_BURST_PKTS packets in any one backlog: they are
 * among its last that many. Where that window starts. */
static inline unsigned
bl_cut_window(const struct dp_queue *q)
{
	return q->bl_count > RING_TX_BURST_PKTS
		   ? q->bl_count - RING_TX_BURST_PKTS
		   : 0;
}

bool
dp_backlog_has_cut(struct dp_worker *w, const struct dp_queue *q)
{
	for (unsigned i = bl_cut_window(q); i < q->bl_count; i++)
		if (dp_cut_of(w, q->backlog[(q->bl_head + i) % DP_RX_BACKLOG]))
			return true;
	return false;
}

void
dp_backlog_settle(struct dp_worker *w, struct dp_queue *q)
{
	struct rte_mbuf *b[RING_TX_BURST_PKTS], *kept[RING_TX_BURST_PKTS];
	uint64_t ms[RING_TX_BURST_PKTS];
	unsigned from = bl_cut_window(q), n = q->bl_count - from, k = 0;

	for (unsigned i = 0; i < n; i++) {
		unsigned at = (q->bl_head + from + i) % DP_RX_BACKLOG;

		b[i] = kept[i] = q->backlog[at];
		ms[i] = q->bl_ms[at];
		bl_uncharge(q, b[i]);
	}
	/* dp_cut_settle completes them in place, keeps the order and drops
	 * the failed: each one's arrival time follows it by pointer. */
	unsigned nk = dp_cut_settle(w, kept, n);

	for (unsigned i = 0; i < n && k < nk; i++) {
		if (b[i] != kept[k])
			continue;
		unsigned at = (q->bl_head + from + k) % DP_RX_BACKLOG;

		q->backlog[at] = kept[k];
		q->bl_ms[at] = ms[i];
		q->bl_mbufs += kept[k]->nb_segs;
		q->bl_bytes += kept[k]->pkt_len;
		k++;
	}
	q->bl_count = from + nk;
	bl_publish(q);
}

void
dp_rx_quotas(struct dp_worker *w)
{
	const struct dp *d = w->dp;
	unsigned share = w->nq ? w->rx_budget / w->nq : w->rx_budget;

	share = RTE_MIN(RTE_MAX(share, DP_RX_MIN_MBUFS), DP_RX_QUEUE_MBUFS);
	if (d->rx_queue_mbufs)
		share = d->rx_queue_mbufs; /* the operator's, as it is */
	for (unsigned i = 0; i < w->nq; i++)
		atomic_store_explicit(&w->queues[i]->rx_quota, share,
				      memory_order_relaxed);
}

/*
 * A queue whose guest posts no buffers: drop what waited longer than
 * rx-drain-timeout; with no progress for rx-stall-timeout the queue is
 * stalled (kernel netback turns the carrier off): all is dropped until
 * the guest posts room for a packet again.
 */
static void
rx_no_progress(struct dp_worker *w, struct dp_queue *q, uint64_t now)
{
	const struct dp *c = w->dp;
	unsigned n = 0;

	while (n < q->bl_count &&
	       now - q->bl_ms[(q->bl_head + n) % DP_RX_BACKLOG] >
		   c->rx_drain_ms)
		n++;
	if (n)
		backlog_drop_head(q, n, DP_Q_RX_DROP_EXPIRED);
	if (q->bl_count && now - q->rx_progress_ms > c->rx_stall_ms) {
		q->stalled = true;
		q->stats[DP_Q_RX_STALLS]++;
		backlog_drop_head(q, q->bl_count, DP_Q_RX_DROP_STALLED);
		nb_vif_warn(q->vif, "queue %u: no RX buffers for %u ms: "
			    "stalled, dropping its packets", q->id,
			    c->rx_stall_ms);
	}
}

/* Copy [moff, moff + len) of segment s into buffer slot at poff. */
static void
rx_piece(struct dp_worker *w, struct dp_queue *q, struct dp_rx_plan *pl,
	 bool statics, unsigned slot, unsigned poff, struct rte_mbuf *s,
	 uint16_t moff, uint16_t len)
{
	uint8_t *pg = statics ? dp_vif_gref_addr(q->vif, pl->bufs[slot].gref,
						 true)
			      : NULL;

	if (pg) {
		/* A static grant: no grant op. */
		memcpy(pg + poff, rte_pktmbuf_mtod_offset(s, void *, moff),
		       len);
		w->copy_static++;
		return;
	}
	xengnttab_grant_copy_segment_t *g = &w->segs[pl->nsegs++];
	g->source.virt = rte_pktmbuf_mtod_offset(s, void *, moff);
	g->dest.foreign.ref = pl->bufs[slot].gref;
	g->dest.foreign.offset = (uint16_t)poff;
	g->dest.foreign.domid = q->vif->domid;
	g->len = len;
	g->flags = GNTCOPY_dest_gref;
}

/* Where the next byte of a packet goes in the guest's buffers. */
struct rx_fill {
	struct dp_worker *w;
	struct dp_queue *q;
	struct dp_rx_plan *pl;
	bool statics;
	unsigned slot, poff, nx;
	uint16_t src_domid; /* a cut packet's sender */
};

/* The next buffer when this one is full; the extras take the buffers
 * right after the first: data skips them. How much fits now. */
static inline uint16_t
rx_room(struct rx_fill *f, uint16_t want)
{
	if (f->poff == RING_PAGE_SIZE) {
		f->pl->slot_len[f->slot] = (uint16_t)f->poff;
		f->slot += f->slot == f->pl->taken ? 1 + f->nx : 1;
		f->poff = f->pl->hr;
	}
	return (uint16_t)RTE_MIN((unsigned)want, RING_PAGE_SIZE - f->poff);
}

/* A piece of a cut packet's rest, from its sender's page straight into
 * the guest's: grant to grant. */
static void
rx_piece_g2g(void *arg, uint32_t gref, uint16_t off, uint16_t len)
{
	struct rx_fill *f = arg;
	struct dp_rx_plan *pl = f->pl;

	while (len) {
		uint16_t chunk = rx_room(f, len);
		uint8_t *pg = f->statics
				  ? dp_vif_gref_addr(f->q->vif,
						     pl->bufs[f->slot].gref, true)
				  : NULL;
		xengnttab_grant_copy_segment_t *g = &f->w->segs[pl->nsegs++];

		g->source.foreign.ref = gref;
		g->source.foreign.offset = off;
		g->source.foreign.domid = f->src_domid;
		g->len = chunk;
		if (pg) {
			g->dest.virt = pg + f->poff;
			g->flags = GNTCOPY_source_gref;
		} else {
			g->dest.foreign.ref = pl->bufs[f->slot].gref;
			g->dest.foreign.offset = (uint16_t)f->poff;
			g->dest.foreign.domid = f->q->vif->domid;
			g->flags = GNTCOPY_source_gref | GNTCOPY_dest_gref;
		}
		off += chunk;
		len -= chunk;
		f->poff += chunk;
	}
}

/*
 * Walk m's chain, filling one guest page after another from the
 * headroom on, from buffer `taken` on; a cut packet's rest comes after
 * its head, from its sender's pages.
 */
static void
rx_plan_pkt(struct dp_worker *w, struct dp_queue *q, struct dp_rx_plan *pl,
	    bool statics, struct rte_mbuf *m, unsigned nx,
	    const struct dp_cut *c)
{
	struct rx_fill f = { .w = w, .q = q, .pl = pl, .statics = statics,
			     .slot = pl->taken, .poff = pl->hr, .nx = nx };

	for (struct rte_mbuf *s = m; s; s = s->next) {
		uint16_t moff = 0;

		while (moff < s->data_len) {
			uint16_t chunk = rx_room(&f, s->data_len - moff);

			rx_piece(w, q, pl, statics, f.slot, f.poff, s, moff,
				 chunk);
			moff += chunk;
			f.poff += chunk;
		}
	}
	if (c) {
		f.src_domid = w->cut_q->vif->domid;
		dp_cut_pieces(w, c, rx_piece_g2g, &f);
	}
	pl->slot_len[f.slot] = (uint16_t)f.poff;
}

/* Take buffers for as much of the backlog as they hold (a burst at most). */
static void
rx_plan(struct dp_worker *w, struct dp_queue *q, struct dp_rx_plan *pl,
	unsigned avail)
{
	bool statics = dp_vif_has_grefs(q->vif);
	bool sg = q->vif->feat.sg;

	while (pl->npk < q->bl_count && pl->npk < DP_BURST) {
		unsigned i = pl->npk;
		struct rte_mbuf *m =
		    q->backlog[(q->bl_head + i) % DP_RX_BACKLOG];
		/* dp_deliver_vif left GSO only for guests that take it. */
		bool gso;
		/* The frontend's own hash, if it configured one, goes with
		 * the packet (a HASH extra). */
		pl->hashed[i] = dp_vif_rx_hash(
		    q->vif, rte_pktmbuf_mtod(m, const uint8_t *), m->data_len,
		    &pl->hash[i], &pl->htype[i], NULL);
		unsigned nx = rx_extras(m, pl->hr, pl->hashed[i], &gso);
		unsigned nd = ring_rx_slots(m->pkt_len, pl->hr, false);
		unsigned need = nd + nx;

		if (nd > 1 && !sg) {
			/* Larger than a page and the guest has no SG. */
			q->stats[DP_Q_RX_DROP_TOO_BIG]++;
			pl->slots[i] = 0;
			pl->seg_end[i] = pl->nsegs;
			pl->pkt[pl->npk++] = m;
			continue;
		}
		/* Its copy segments at most: a piece ends where an mbuf, a
		 * guest page or (a cut packet) a sender's slot does. What
		 * the pass's batch has no room for waits for the next. */
		unsigned most = m->nb_segs + nd +
				(m->ol_flags & dp_cut_flag ? RING_TX_FATAL_SLOTS
							   : 0);

		if (unlikely(pl->nsegs + most > DP_COPY_BATCH)) {
			if (pl->seg0 || pl->npk) {
				pl->full = true;
				break;
			}
			/* Not even an empty batch holds it. */
			q->stats[DP_Q_RX_DROP_TOO_BIG]++;
			pl->slots[i] = 0;
			pl->seg_end[i] = pl->nsegs;
			pl->pkt[pl->npk++] = m;
			continue;
		}
		if (pl->taken + need > avail)
			break;
		/* A guest that takes no blank checksums gets them done. */
		bool csum = q->vif->feat.no_csum &&
			    (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) ==
				RTE_MBUF_F_RX_L4_CKSUM_NONE;
		const struct dp_cut *c = dp_cut_of(w, m);

		if (unlikely(c && csum)) {
			/* dp_deliver_vif completes these first; a guest
			 * that changed its features since gets none. */
			q->stats[DP_Q_RX_DROP_COPY]++;
			pl->slots[i] = 0;
			pl->seg_end[i] = pl->nsegs;
			pl->pkt[pl->npk++] = m;
			continue;
		}
		ring_rx_take(&q->rx, &pl->bufs[pl->taken], need);
		if (csum)
			dp_csum_complete(m);
		rx_plan_pkt(w, q, pl, statics, m, nx, c);
		pl->slots[i] = need;
		pl->seg_end[i] = pl->nsegs;
		pl->taken += need;
		pl->pkt[pl->npk++] = m;
	}
}

/* Packet i's extras, in type order: GSO, hash, XDP headroom. */
static unsigned
rx_fill_extras(const struct dp_rx_plan *pl, unsigned i, netif_extra_info_t *x)
{
	struct rte_mbuf *m = pl->pkt[i];
	unsigned xi = 0;

	if (dp_is_gso(m)) {
		memset(&x[xi], 0, sizeof(x[xi]));
		x[xi].type = XEN_NETIF_EXTRA_TYPE_GSO;
		x[xi].u.gso.size = m->tso_segsz;
		x[xi].u.gso.type = (m->packet_type & RTE_PTYPE_L3_MASK) ==
					   RTE_PTYPE_L3_IPV6
				       ? XEN_NETIF_GSO_TYPE_TCPV6
				       : XEN_NETIF_GSO_TYPE_TCPV4;
		xi++;
	}
	if (pl->hashed[i]) {
		memset(&x[xi], 0, sizeof(x[xi]));
		x[xi].type = XEN_NETIF_EXTRA_TYPE_HASH;
		x[xi].u.hash.type = pl->htype[i];
		x[xi].u.hash.algorithm = XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ;
		/* Little-endian, as netfronts read it. */
		for (unsigned b = 0; b < 4; b++)
			x[xi].u.hash.value[b] = (uint8_t)(pl->hash[i] >> (8 * b));
		xi++;
	}
	if (pl->hr) {
		/* Linux netif.h: XEN_NETIF_EXTRA_TYPE_XDP, u.xdp.headroom;
		 * not in Xen 4.17's header. */
		memset(&x[xi], 0, sizeof(x[xi]));
		x[xi].type = RING_EXTRA_TYPE_XDP;
		memcpy(&x[xi].u, &pl->hr, sizeof(pl->hr));
		xi++;
	}
	return xi;
}

/* A response for every buffer taken, in order; counted. */
static void
rx_respond(struct dp_worker *w, struct dp_queue *q, const struct dp_rx_plan *pl)
{
	for (unsigned i = 0, s = pl->seg0, slot = 0; i < pl->npk; i++) {
		struct rte_mbuf *m = pl->pkt[i];
		netif_extra_info_t x[RX_X_MAX];
		uint16_t flags = 0;
		bool ok = true;

		if (pl->slots[i] == 0)
			continue;
		for (; s < pl->seg_end[i]; s++)
			if (unlikely(w->segs[s].status != GNTST_okay))
				ok = false;
		uint64_t l4 = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
		if (l4 == RTE_MBUF_F_RX_L4_CKSUM_NONE)
			flags = NETRXF_csum_blank | NETRXF_data_validated;
		else if (l4 == RTE_MBUF_F_RX_L4_CKSUM_GOOD)
			flags = NETRXF_data_validated;
		unsigned nx = rx_fill_extras(pl, i, x);
		unsigned data_slots = pl->slots[i] - nx;

		for (unsigned k = 0; k < pl->slots[i]; k++, slot++) {
			if (k >= 1 && k <= nx) {
				if (k < nx)
					x[k - 1].flags |= XEN_NETIF_EXTRA_FLAG_MORE;
				ring_rx_respond_extra(&q->rx, &x[k - 1]);
				continue;
			}
			unsigned dn = k > nx ? k - nx : k;
			uint16_t f = k == 0 ? flags : 0;

			if (dn + 1 < data_slots)
				f |= NETRXF_more_data;
			if (nx && k == 0)
				f |= NETRXF_extra_info;
			/* As kernel netback: offset 0, the size counts from
			 * the page start, headroom included. */
			ring_rx_respond(&q->rx, pl->bufs[slot].id, 0, f,
					ok ? (int16_t)pl->slot_len[slot]
					   : NETIF_RSP_ERROR);
		}
		if (ok) {
			q->stats[DP_Q_RX_PACKETS]++;
			q->stats[DP_Q_RX_BYTES] += m->pkt_len;
		} else {
			q->stats[DP_Q_RX_DROP_COPY]++;
		}
		struct dp_cut *c = dp_cut_of(w, m);

		if (c) {
			c->direct = ok;
			c->rx_failed = !ok;
		}
	}
}

int
dp_rx_plan(struct dp_worker *w, struct dp_queue *q)
{
	struct dp_rx_plan *pl;
	int avail;

	if (q->bl_count == 0 && likely(!q->stalled))
		return 0;
	if (w->nrxp == DP_RX_PLANS)
		return -1;
	avail = ring_rx_avail(&q->rx);
	if (unlikely(avail < 0)) {
		dp_queue_fatal(w, q, ring_error_name(q->rx.error));
		return 0;
	}
	if (unlikely(q->stalled)) {
		/* Buffers posted again: carrier on (as kernel netback). */
		if (avail == 0)
			return 0;
		q->stalled = false;
		q->rx_progress_ms = dp_tsc_ms(w->tsc);
		nb_vif_info(q->vif, "queue %u: RX buffers back, no longer "
			    "stalled", q->id);
		if (q->bl_count == 0)
			return 0;
	}

	pl = &w->rxp[w->nrxp];
	pl->q = q;
	pl->npk = pl->taken = 0;
	pl->seg0 = pl->nsegs = w->nsegs;
	pl->full = false;
	pl->hr = atomic_load_explicit(&q->vif->xdp_headroom,
				      memory_order_relaxed);
	rx_plan(w, q, pl, (unsigned)avail);
	if (pl->npk == 0) {
		if (pl->full)
			return -1;
		rx_no_progress(w, q, dp_tsc_ms(w->tsc));
		return 0;
	}
	w->nsegs = pl->nsegs;
	w->nrxp++;
	return (int)pl->npk;
}

void
dp_rx_finish(struct dp_worker *w)
{
	for (unsigned p = 0; p < w->nrxp; p++) {
		struct dp_rx_plan *pl = &w->rxp[p];
		struct dp_queue *q = pl->q;

		rx_respond(w, q, pl);
		for (unsigned i = 0; i < pl->npk; i++)
			bl_uncharge(q, pl->pkt[i]);
		bl_publish(q);
		q->bl_head = (q->bl_head + pl->npk) % DP_RX_BACKLOG;
		q->bl_count -= pl->npk;
		q->rx_progress_ms = dp_tsc_ms(w->tsc);
		rte_pktmbuf_free_bulk(pl->pkt, pl->npk);
		if (pl->taken && ring_rx_push(&q->rx))
			dp_notify(w, q, DP_NOTIFY_RX);
	}
	w->nrxp = 0;
}

unsigned
dp_rx_queue(struct dp_worker *w, struct dp_queue *q)
{
	/* The pass's batch was copied and answered before. */
	RTE_ASSERT(w->nsegs == 0 && w->nrxp == 0);
	int n = dp_rx_plan(w, q);

	if (n <= 0)
		return 0;
	if (w->nsegs)
		dp_copy(w, w->nsegs);
	w->nsegs = 0;
	dp_rx_finish(w);
	return (unsigned)n;
}

void
dp_backlog_put(struct dp_queue *q, struct rte_mbuf **pkts, unsigned n,
	    uint64_t now)
{
	unsigned i = 0;

	if (unlikely(q->stalled)) {
		q->stats[DP_Q_RX_DROP_STALLED] += n;
		rte_pktmbuf_free_bulk(pkts, n);
		return;
	}
	if (q->bl_count == 0)
		q->rx_progress_ms = now;
	/* The owner reads only its own counters: frames in flight to q
	 * were held to the quota by their senders (to_queue) and meet
	 * it again here when they arrive. */
	uint32_t quota = atomic_load_explicit(&q->rx_quota,
					      memory_order_relaxed);
	uint64_t max_bytes = q->worker->dp->rx_queue_bytes;
	unsigned k = 0;

	for (; i < n && q->bl_count < DP_RX_BACKLOG; i++) {
		struct rte_mbuf *m = pkts[i];
		unsigned at = (q->bl_head + q->bl_count) % DP_RX_BACKLOG;

		/* An empty backlog takes any one packet: a bound below a
		 * packet's size must not make a queue deaf. */
		if (q->bl_count &&
		    (q->bl_mbufs + m->nb_segs > quota ||
		     q->bl_bytes + m->pkt_len > max_bytes)) {
			/* Dropped, and the packets after it still get
			 * their chance: a smaller one may fit. */
			pkts[k++] = m;
			continue;
		}
		q->backlog[at] = m;
		q->bl_ms[at] = now;
		q->bl_count++;
		q->bl_mbufs += m->nb_segs;
		q->bl_bytes += m->pkt_len;
	}
	/* What the packet bound left, after what the others refused. */
	for (; i < n; i++)
		pkts[k++] = pkts[i];
	bl_publish(q);
	if (k) {
		q->stats[DP_Q_RX_DROP_BACKLOG] += k;
		rte_pktmbuf_free_bulk(pkts, k);
	}
}

/* q takes cut packets among pkts: it receives at the burst's end. */
static void
cut_dest(struct dp_worker *w, struct dp_queue *q, struct rte_mbuf **pkts,
	 unsigned n)
{
	unsigned i = 0;

	while (i < n && !dp_cut_of(w, pkts[i]))
		i++;
	if (i == n)
		return;
	for (unsigned d = 0; d < w->ncut_dest; d++)
		if (w->cut_dest[d] == q)
			return;
	/* As many as there are cut packets: never full. */
	w->cut_dest[w->ncut_dest++] = q;
}

/* Queue n (<= DP_BURST) mbufs for guest queue q, here or on its worker.
 * pkts[] is rewritten (a shared frame becomes a private copy). */
static void
to_queue(struct dp_worker *w, struct dp_queue *q, struct rte_mbuf **pkts,
	 unsigned n)
{
	if (q->worker == w) {
		if (unlikely(w->ncut))
			cut_dest(w, q, pkts, n);
		dp_backlog_put(q, pkts, n, dp_tsc_ms(w->tsc));
		return;
	}
	/* Another worker's guest: the cut packets are completed here. */
	n = dp_cut_settle_maybe(w, pkts, n);
	/* What is queued to q and not yet taken by its owner counts
	 * against q's quota: it holds the pool's mbufs all the same. The
	 * counts are read without a lock, so workers queueing to q at
	 * once may pass it by a burst each; the owner checks again. */
	uint32_t got = atomic_load_explicit(&q->xfer_got,
					    memory_order_acquire);
	uint32_t held = atomic_load_explicit(&q->bl_mbufs_pub,
					     memory_order_relaxed) +
			(atomic_load_explicit(&q->xfer_sent,
					      memory_order_relaxed) -
			 got);
	uint32_t quota = atomic_load_explicit(&q->rx_quota,
					      memory_order_relaxed);
	uint32_t segs = 0;
	unsigned k = 0, drop = 0;

	/* Compacted in order, not swapped with the last: a drop must not
	 * reorder the frames that go on. */
	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];

		if (held + segs + m->nb_segs > quota && held + segs != 0) {
			rte_pktmbuf_free(m);
			drop++;
			continue;
		}
		/* A flooded frame is shared: the destination rides in the
		 * mbuf, so another worker gets its own copy. */
		if (rte_mbuf_refcnt_read(m) > 1) {
			struct rte_mbuf *c = rte_pktmbuf_copy(m, w->pool, 0,
							      UINT32_MAX);

			rte_pktmbuf_free(m);
			if (!c) {
				drop++;
				continue;
			}
			m = c;
		}
		*dp_mbuf_dest(m) = q;
		segs += m->nb_segs;
		pkts[k++] = m;
	}
	n = k;
	if (drop)
		atomic_fetch_add_explicit(&q->rx_drop_xfer, drop,
					  memory_order_relaxed);
	if (n == 0)
		return;
	/* Counted before the owner can take them: in flight never goes
	 * below zero. */
	atomic_fetch_add_explicit(&q->xfer_sent, segs, memory_order_relaxed);
	unsigned sent = rte_ring_mp_enqueue_burst(q->worker->xfer,
						  (void **)pkts, n, NULL);
	if (sent < n) {
		uint32_t back = 0;

		for (unsigned i = sent; i < n; i++)
			back += pkts[i]->nb_segs;
		atomic_fetch_sub_explicit(&q->xfer_sent, back,
					  memory_order_relaxed);
		atomic_fetch_add_explicit(&q->rx_drop_xfer, n - sent,
					  memory_order_relaxed);
		rte_pktmbuf_free_bulk(&pkts[sent], n - sent);
	}
	if (sent)
		dp_worker_kick(w, q->worker);
}

/*
 * A flow hash for RX queue selection: the port's RSS hash when it gave
 * one, else addresses and TCP/UDP ports.
 */
uint32_t
dp_flow_hash(const struct rte_mbuf *m)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = m->data_len, l3 = 14, a = 0, b = 0, c = 0;
	uint8_t proto = 0;
	uint16_t type;

	if (m->ol_flags & RTE_MBUF_F_RX_RSS_HASH)
		return m->hash.rss;
	if (len < 14)
		return 0;
	type = (uint16_t)(p[12] << 8 | p[13]);
	if (type == RTE_ETHER_TYPE_VLAN && len >= 18) {
		type = (uint16_t)(p[16] << 8 | p[17]);
		l3 = 18;
	}
	if (type == RTE_ETHER_TYPE_IPV4 && len >= l3 + 20) {
		memcpy(&a, p + l3 + 12, 4);
		memcpy(&b, p + l3 + 16, 4);
		proto = p[l3 + 9];
		l3 += (uint32_t)(p[l3] & 0xf) * 4;
	} else if (type == RTE_ETHER_TYPE_IPV6 && len >= l3 + 40) {
		const uint32_t *w32 = (const uint32_t *)(const void *)(p + l3 + 8);
		uint32_t x[8];

		memcpy(x, w32, sizeof(x));
		a = x[0] ^ x[1] ^ x[2] ^ x[3];
		b = x[4] ^ x[5] ^ x[6] ^ x[7];
		proto = p[l3 + 6];
		l3 += 40;
	} else {
		memcpy(&a, p, 4);
		memcpy(&b, p + 6, 4);
	}
	if ((proto == IPPROTO_TCP || proto == IPPROTO_UDP) && len >= l3 + 4)
		memcpy(&c, p + l3, 4);
	return rte_jhash_3words(a, b, c, 0x6e62);
}

void
dp_deliver_vif(struct dp_worker *w, struct dp_vif *v, struct rte_mbuf **pkts,
	       unsigned n)
{
	if (unlikely(!v->connected || v->nqueues == 0)) {
		rte_pktmbuf_free_bulk(pkts, n);
		return;
	}
	/* A guest that takes no blank checksums gets them done, which
	 * needs the whole packet. */
	if (unlikely(w->ncut) && v->feat.no_csum) {
		n = dp_cut_settle(w, pkts, n);
		if (!n)
			return;
	}
	/* Guests that cannot take a GSO packet of this type get it
	 * segmented here, in order. */
	for (unsigned i = 0; i < n; i++) {
		if (!dp_is_gso(pkts[i]))
			continue;
		bool v6 = (pkts[i]->packet_type & RTE_PTYPE_L3_MASK) ==
			  RTE_PTYPE_L3_IPV6;
		if (v->feat.sg && (v6 ? v->feat.gso_tcpv6 : v->feat.gso_tcpv4))
			continue;
		struct rte_mbuf *segs[DP_GSO_MAX_SEGS];

		if (i)
			dp_deliver_vif(w, v, pkts, i);
		if (!dp_cut_settle_maybe(w, &pkts[i], 1)) {
			if (i + 1 < n)
				dp_deliver_vif(w, v, &pkts[i + 1], n - i - 1);
			return;
		}
		unsigned k = dp_gso_split(w, pkts[i], segs, DP_GSO_MAX_SEGS);
		for (unsigned j = 0; j < k; j += DP_BURST)
			dp_deliver_vif(w, v, &segs[j], RTE_MIN(DP_BURST, k - j));
		if (i + 1 < n)
			dp_deliver_vif(w, v, &pkts[i + 1], n - i - 1);
		return;
	}
	if (v->nqueues == 1) {
		to_queue(w, &v->queues[0], pkts, n);
		return;
	}
	/* Several queues: a flow hash picks one, so a flow stays in order. */
	struct rte_mbuf *b[DP_MAX_QUEUES][DP_BURST];
	unsigned c[DP_MAX_QUEUES] = { 0 };

	for (unsigned i = 0; i < n; i++) {
		unsigned qi;
		uint32_t h;
		uint8_t t;

		/* The frontend's Toeplitz mapping when it set one. */
		if (!dp_vif_rx_hash(v, rte_pktmbuf_mtod(pkts[i], const uint8_t *),
				    pkts[i]->data_len, &h, &t, &qi))
			qi = dp_flow_hash(pkts[i]) % v->nqueues;
		b[qi][c[qi]++] = pkts[i];
	}
	for (unsigned qi = 0; qi < v->nqueues; qi++)
		if (c[qi])
			to_queue(w, &v->queues[qi], b[qi], c[qi]);
}
