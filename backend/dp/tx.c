/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Guest TX: the frontend's requests become mbufs and go to the switch.
 *
 *   dp_tx_plan()   requests of one queue, a burst at a time:
 *     tx_credit()    the rate limit: how many bytes may go now
 *     ring_tx_poll_budget()  copy and check the requests (ring/)
 *     tx_build()     mbufs, and a grant-copy segment per piece of a slot
 *                    (of a long packet, only its head: cut, dp_priv.h),
 *                    added to the pass's batch
 *   (worker.c)       one hv_copy() for the batch: this burst and the
 *                    RX bursts planned with it
 *   dp_tx_finish()
 *     tx_check()     the copies' statuses, multicast operations done
 *     dp_fwd_from_vif()  the switch, and every destination's delivery
 *     cut_finish()   guests on this worker that took cut packets
 *                    receive now (grant to grant), the rest completed
 *     tx_answer()    a response per request, ring_tx_push() + at most
 *                    one notify
 */
#include <errno.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

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

uint64_t dp_cut_flag;

int
dp_cut_init(void)
{
	static const struct rte_mbuf_dynflag desc = { .name = "netbackd_cut" };
	int bit;

	if (dp_cut_flag)
		return 0;
	bit = rte_mbuf_dynflag_register(&desc);
	if (bit < 0)
		return -rte_errno;
	dp_cut_flag = UINT64_C(1) << bit;
	return 0;
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

/* A one-byte read of each piece of a cut packet's rest, from its
 * sender's pages: are its grants good? A grant-to-grant copy that failed
 * says nothing of whose grant was bad. */
struct probe_ctx {
	struct dp_worker *w; /* its csegs take the reads */
	unsigned nsegs;
	uint16_t domid;
};

static void
probe_piece(void *arg, uint32_t gref, uint16_t off, uint16_t len)
{
	struct probe_ctx *x = arg;
	xengnttab_grant_copy_segment_t *g = &x->w->csegs[x->nsegs++];

	RTE_SET_USED(len);
	g->source.foreign.ref = gref;
	g->source.foreign.offset = off;
	g->source.foreign.domid = x->domid;
	g->dest.virt = x->w->probe;
	g->len = 1;
	g->flags = GNTCOPY_source_gref;
}

/* Cut the packet (its head alone into the mbuf)? Only when a guest on
 * this worker may take it, and the sender's grants are not static. */
static inline bool
tx_cut(const struct dp_worker *w, const struct dp_queue *q, bool statics,
       const struct ring_tx_pkt *p)
{
	return p->len > DP_TX_CUT_MIN && !statics && w->nq > 1 &&
	       q->cut_pause == 0 && !q->cut_never && dp_cut_flag;
}

/* mbufs for p: a chain for all of it, one for a cut packet's head. */
static inline unsigned
tx_mbufs(const struct ring_tx_pkt *p, bool cut, uint16_t room)
{
	return cut ? 1u : (p->len + room - 1) / room;
}

/*
 * mbufs for the burst's data packets (heads[i], NULL for the others)
 * and their copy segments: seg_end[i] is one past packet i's last. One
 * segment per (slot, mbuf) piece; nothing crosses a page. A long packet
 * may be cut (w->cut). The number of segments, or -ENOMEM when the pool
 * could not give the mbufs.
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
	unsigned nm = 0, mi = 0, nsegs = w->nsegs;

	for (int i = 0; i < n; i++)
		if (tx_is_data(&b->pkts[i]))
			nm += tx_mbufs(&b->pkts[i],
				       tx_cut(w, q, statics, &b->pkts[i]),
				       room);
	if (nm && unlikely(rte_pktmbuf_alloc_bulk(w->pool, mbufs, nm) < 0))
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		struct ring_tx_pkt *p = &b->pkts[i];

		heads[i] = NULL;
		seg_end[i] = nsegs;
		if (!tx_is_data(p))
			continue;
		bool cut = tx_cut(w, q, statics, p);
		struct rte_mbuf *head = mbufs[mi++], *m = head;
		unsigned count = tx_mbufs(p, cut, room);
		uint32_t want = cut ? DP_TX_HEAD : p->len;

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

			while (left && want) {
				uint16_t chunk = room - m->data_len;

				if (chunk == 0) {
					m = m->next;
					continue;
				}
				chunk = (uint16_t)RTE_MIN(
				    (uint32_t)RTE_MIN(chunk, left), want);
				tx_piece(w, q, m, sl, off, chunk, statics,
					 &nsegs);
				off += chunk;
				left -= chunk;
				want -= chunk;
			}
			if (cut && !want) {
				struct dp_cut *c = &w->cut[w->ncut++];

				/* Where the rest starts: this slot's page at
				 * off, or the next slot if this one is done. */
				c->m = head;
				c->pkt = (uint16_t)i;
				c->slot = (uint16_t)(p->slot + s + (left ? 0 : 1));
				c->off = left ? off
					      : b->slots[p->slot + s + 1].offset;
				c->rest = p->len - DP_TX_HEAD;
				c->failed = c->nomem = c->direct = c->rx_failed = false;
				((uint32_t *)rte_mbuf_to_priv(head))[2] =
				    w->ncut;
				head->ol_flags |= dp_cut_flag;
				break;
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

/*
 * The rest of cut packet c, piece by piece as its sender's slots hold
 * it: fn(arg, gref, offset, len) for each, in order.
 */
void
dp_cut_pieces(const struct dp_worker *w, const struct dp_cut *c,
	      void (*fn)(void *arg, uint32_t gref, uint16_t off, uint16_t len),
	      void *arg)
{
	const struct ring_tx_burst *b = &w->txb;
	const struct ring_tx_pkt *p = &b->pkts[c->pkt];
	uint32_t left = c->rest;

	for (unsigned s = c->slot; left && s < (unsigned)p->slot + p->nslots;
	     s++) {
		const struct ring_tx_slot *sl = &b->slots[s];
		uint16_t off = s == c->slot ? c->off : sl->offset;
		uint16_t len = (uint16_t)(sl->offset + sl->size - off);

		if (len > left)
			len = (uint16_t)left;
		if (len)
			fn(arg, sl->gref, off, len);
		left -= len;
	}
}

/* Completing cut packets: where the next piece goes. */
struct settle_ctx {
	struct dp_worker *w;
	struct rte_mbuf *m; /* the mbuf being filled */
	struct rte_mbuf **spare;
	unsigned nspare, nsegs;
	uint16_t domid;
};

static void
settle_piece(void *arg, uint32_t gref, uint16_t off, uint16_t len)
{
	struct settle_ctx *x = arg;

	while (len) {
		uint16_t room = rte_pktmbuf_tailroom(x->m);

		if (room == 0) {
			struct rte_mbuf *n = x->spare[--x->nspare];

			x->m->next = n;
			x->m = n;
			continue;
		}
		uint16_t chunk = RTE_MIN(room, len);
		xengnttab_grant_copy_segment_t *g = &x->w->csegs[x->nsegs++];

		g->source.foreign.ref = gref;
		g->source.foreign.offset = off;
		g->source.foreign.domid = x->domid;
		g->dest.virt = rte_pktmbuf_mtod_offset(x->m, void *,
						       x->m->data_len);
		g->len = chunk;
		g->flags = GNTCOPY_source_gref;
		x->m->data_len += chunk;
		off += chunk;
		len -= chunk;
	}
}

unsigned
dp_cut_settle(struct dp_worker *w, struct rte_mbuf **pkts, unsigned n)
{
	struct dp_cut *cs[RING_TX_BURST_PKTS];
	unsigned seg_end[RING_TX_BURST_PKTS];
	struct settle_ctx x = { .w = w, .domid = w->cut_q->vif->domid };
	uint16_t room = (uint16_t)(rte_pktmbuf_data_room_size(w->pool) -
				   RTE_PKTMBUF_HEADROOM);
	unsigned nc = 0, k = 0;

	for (unsigned i = 0; i < n; i++) {
		struct dp_cut *c = dp_cut_of(w, pkts[i]);
		struct rte_mbuf *spare[64];

		if (!c)
			continue;
		/* Its own mark goes whatever happens: it is cut no more. */
		pkts[i]->ol_flags &= ~dp_cut_flag;
		uint32_t tail = rte_pktmbuf_tailroom(pkts[i]);
		unsigned need = c->rest > tail
				    ? (c->rest - tail + room - 1) / room
				    : 0;

		if (need > RTE_DIM(spare) ||
		    (need && rte_pktmbuf_alloc_bulk(w->pool, spare, need) < 0)) {
			/* No mbufs: dropped as a TX burst without them is. */
			c->failed = c->nomem = true;
			w->cut_q->stats[DP_Q_TX_DROP_NOMBUF]++;
			rte_pktmbuf_free(pkts[i]);
			pkts[i] = NULL;
			continue;
		}
		x.m = pkts[i];
		x.spare = spare;
		x.nspare = need;
		dp_cut_pieces(w, c, settle_piece, &x);
		pkts[i]->nb_segs = (uint16_t)(pkts[i]->nb_segs + need);
		/* What a chain stays made of: nothing left spare. */
		RTE_ASSERT(x.nspare == 0);
		cs[nc] = c;
		seg_end[nc++] = x.nsegs;
		w->cut_settled++;
	}
	if (x.nsegs)
		dp_copy_segs(w, w->csegs, x.nsegs);
	for (unsigned j = 0, s = 0; j < nc; j++) {
		for (; s < seg_end[j]; s++)
			if (unlikely(w->csegs[s].status != GNTST_okay))
				cs[j]->failed = true;
		if (cs[j]->failed) {
			w->cut_q->stats[DP_Q_TX_DROP_COPY]++;
			for (unsigned i = 0; i < n; i++)
				if (pkts[i] == cs[j]->m) {
					rte_pktmbuf_free(pkts[i]);
					pkts[i] = NULL;
				}
		}
	}
	for (unsigned i = 0; i < n; i++)
		if (pkts[i])
			pkts[k++] = pkts[i];
	return k;
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
 * The copies' statuses, per request (st), and multicast operations
 * done; the packets whose copy worked move to the front of heads.
 * nomem: the pool had no mbufs for this burst, so data packets are
 * answered DROPPED (multicast operations take none and are done all the
 * same). The packets to forward.
 */
static unsigned
tx_check(struct dp_worker *w, struct dp_queue *q, int n,
	 struct rte_mbuf **heads, const unsigned *seg_end, bool nomem,
	 int16_t *st)
{
	struct ring_tx_burst *b = &w->txb;
	unsigned nout = 0;

	for (int i = 0, s = (int)w->txp.seg0; i < n; i++) {
		struct ring_tx_pkt *p = &b->pkts[i];

		st[i] = NETIF_RSP_OKAY;
		if (p->drop != RING_TX_OK) {
			st[i] = NETIF_RSP_ERROR;
			q->stats[DP_Q_TX_ERRORS]++;
			q->stats[DP_Q_TX_DROP_FIRST + p->drop]++;
		} else if (p->mcast_op != RING_MCAST_NONE) {
			st[i] = tx_mcast(w, q, p);
		} else if (nomem) {
			st[i] = NETIF_RSP_DROPPED;
			q->stats[DP_Q_TX_DROP_NOMBUF]++;
		}
		if (!nomem) {
			for (; s < (int)seg_end[i]; s++)
				if (unlikely(w->segs[s].status != GNTST_okay))
					st[i] = NETIF_RSP_ERROR;
		}
		if (!nomem && heads[i] && st[i] != NETIF_RSP_OKAY) {
			struct dp_cut *c = dp_cut_of(w, heads[i]);

			if (c)
				c->failed = true; /* not to be touched */
			q->stats[DP_Q_TX_DROP_COPY]++;
			q->stats[DP_Q_TX_ERRORS]++;
			rte_pktmbuf_free(heads[i]);
			heads[i] = NULL;
		}
		if (!nomem && heads[i])
			heads[nout++] = heads[i];
	}
	return nout;
}

static void
cut_probe(struct dp_worker *w, struct dp_cut *c)
{
	struct probe_ctx x = { .w = w, .domid = w->cut_q->vif->domid };

	dp_cut_pieces(w, c, probe_piece, &x);
	if (!x.nsegs)
		return;
	dp_copy_segs(w, w->csegs, x.nsegs);
	for (unsigned s = 0; s < x.nsegs; s++)
		if (w->csegs[s].status != GNTST_okay)
			c->failed = true;
	if (c->failed)
		w->cut_q->stats[DP_Q_TX_DROP_COPY]++;
}

/*
 * The end of a burst that cut packets: the guests of this worker that
 * took some receive now, while the sender's pages are still its to
 * read; what they could not take yet is completed in its backlog.
 */
static void
cut_finish(struct dp_worker *w, struct dp_queue *q)
{
	unsigned direct = 0;

	for (unsigned d = 0; d < w->ncut_dest; d++) {
		struct dp_queue *dq = w->cut_dest[d];

		/* A burst at a time, until the cut packets are in or the
		 * guest's buffers run out. */
		while (dp_rx_queue(w, dq) && dp_backlog_has_cut(w, dq))
			;
		if (dp_backlog_has_cut(w, dq))
			dp_backlog_settle(w, dq);
	}
	for (unsigned i = 0; i < w->ncut; i++) {
		struct dp_cut *c = &w->cut[i];

		if (c->rx_failed && !c->failed) {
			cut_probe(w, c);
			/* Its sender's grant: no more cutting for it. */
			if (c->failed)
				q->cut_never = true;
		}
		direct += c->direct;
	}
	/* Nothing went guest to guest: the destinations are elsewhere, and
	 * cutting only added a copy call. Send whole for a while. */
	if (!direct)
		q->cut_pause = DP_TX_CUT_PAUSE;
	w->copy_direct += direct;
}

/* One response per request, in order, and the counts. */
static void
tx_answer(struct dp_worker *w, struct dp_queue *q, int n, int16_t *st)
{
	struct ring_tx_burst *b = &w->txb;

	for (unsigned i = 0; i < w->ncut; i++) {
		const struct dp_cut *c = &w->cut[i];

		if (!c->failed || st[c->pkt] != NETIF_RSP_OKAY)
			continue;
		if (c->nomem) {
			st[c->pkt] = NETIF_RSP_DROPPED;
		} else {
			st[c->pkt] = NETIF_RSP_ERROR;
			q->stats[DP_Q_TX_ERRORS]++;
		}
	}
	for (int i = 0; i < n; i++) {
		struct ring_tx_pkt *p = &b->pkts[i];

		ring_tx_respond_pkt(&q->tx, p, st[i]);
		if (st[i] == NETIF_RSP_OKAY && tx_is_data(p)) {
			q->stats[DP_Q_TX_PACKETS]++;
			q->stats[DP_Q_TX_BYTES] += p->len;
		}
	}
}

unsigned
dp_tx_plan(struct dp_worker *w, struct dp_queue *q)
{
	struct ring_tx_burst *b = &w->txb;
	struct dp_tx_plan *t = &w->txp;
	uint64_t left = 0, *budget;
	int n;

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
	if (q->cut_pause)
		q->cut_pause--;

	w->ncut = w->ncut_dest = 0;
	w->cut_q = q;
	t->q = q;
	t->n = n;
	t->seg0 = w->nsegs;
	t->nsegs = tx_build(w, q, n, t->heads, t->seg_end);
	if (t->nsegs == -ENOMEM)
		w->ncut = 0;
	else
		w->nsegs = (unsigned)t->nsegs;
	return (unsigned)n;
}

void
dp_tx_finish(struct dp_worker *w)
{
	struct dp_tx_plan *t = &w->txp;
	struct dp_queue *q = t->q;
	int16_t st[RING_TX_BURST_PKTS];
	unsigned nout;

	nout = tx_check(w, q, t->n, t->heads, t->seg_end,
			t->nsegs == -ENOMEM, st);
	if (nout)
		dp_fwd_from_vif(w, q->vif, t->heads, nout);
	if (w->ncut)
		cut_finish(w, q);
	tx_answer(w, q, t->n, st);
	w->ncut = 0;
	t->q = NULL;
	if (ring_tx_push(&q->tx))
		dp_notify(w, q, DP_NOTIFY_TX);
}
