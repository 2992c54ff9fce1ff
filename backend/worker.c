/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The data path: each worker lcore runs its vif queues to completion.
 *
 *   guest TX ring --ring_tx_poll--> grant copy (one call per burst) into
 *   mbufs --> responses + one notify --> switch --> destination:
 *     a queue of this worker: its RX backlog
 *     a queue of another worker: that worker's xfer ring
 *   RX backlog + posted RX buffers --> grant copy (one call per burst)
 *   --> responses + one notify --> mbufs freed in bulk.
 *
 * Adaptive polling: a worker spins while there is work, then arms every
 * ring (RING_FINAL_CHECK / req_event) and sleeps on its event-channel fd
 * and its wake eventfd, so an idle netbackd burns no CPU.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_jhash.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "nb.h"

/* Idle loop iterations before a worker arms its rings and sleeps. */
/* How long an idle worker keeps polling before it sleeps. */
#define NB_IDLE_SPIN_US 25u
#define NB_MAX_QUEUES_W 4096u
/* mbufs one TX burst may need: 32 packets of 64 KiB in 2 KiB buffers. */
#define NB_TX_MBUFS (RING_TX_BURST_PKTS * 33u)

static const char *const qstat_names[] = {
#define NB_X_NAME(e, s) s,
	NB_QSTATS(NB_X_NAME)
#undef NB_X_NAME
};

const char *
nb_qstat_name(unsigned i)
{
	static char buf[RING_TX_DROP_COUNT][40];

	if (i < NB_Q_TX_DROP_FIRST)
		return qstat_names[i];
	if (i < NB_Q_COUNT) {
		unsigned r = i - NB_Q_TX_DROP_FIRST;

		if (!buf[r][0])
			snprintf(buf[r], sizeof(buf[r]), "tx_drop_%s",
				 ring_tx_drop_name(r));
		return buf[r];
	}
	return "?";
}

/* The destination queue of an mbuf crossing to another worker. */
static inline struct nb_queue **
mbuf_dest(struct rte_mbuf *m)
{
	return (struct nb_queue **)rte_mbuf_to_priv(m);
}

static void
queue_fatal(struct nb_worker *w, struct nb_queue *q, const char *why)
{
	uint64_t one = 1;

	if (atomic_exchange(&q->fatal, true))
		return;
	snprintf(q->fatal_msg, sizeof(q->fatal_msg), "queue %u: %s", q->id,
		 why);
	if (write(w->d->ctl_wakefd, &one, sizeof(one)) < 0) {
		/* eventfd full means control is already due to wake */
	}
}

static void
notify(struct nb_worker *w, int port)
{
	hv_evtchn_notify(w->evh, (uint32_t)port);
	w->notifies++;
}

/* ---- guest TX: ring -> mbufs -> switch ---- */

static unsigned
tx_queue(struct nb_worker *w, struct nb_queue *q)
{
	struct ring_tx_burst *b = &w->txb;
	struct nb_daemon *d = w->d;
	struct rte_mbuf *mbufs[NB_TX_MBUFS];
	struct rte_mbuf *heads[RING_TX_BURST_PKTS];
	unsigned seg_end[RING_TX_BURST_PKTS];
	unsigned nm = 0, nsegs = 0, mi = 0, nout = 0;
	uint16_t room = (uint16_t)(rte_pktmbuf_data_room_size(d->pool) -
				   RTE_PKTMBUF_HEADROOM);
	uint64_t rate = atomic_load_explicit(&q->vif->rate_bytes,
					     memory_order_relaxed);
	uint64_t left = 0, *budget = NULL;

	/* Not on a switch port yet (just connected, or moving to another
	 * VLAN): requests wait in the ring rather than being read and
	 * dropped for want of a port. */
	if (unlikely(__atomic_load_n(&q->vif->sw_port, __ATOMIC_ACQUIRE) < 0))
		return 0;
	if (unlikely(rate)) {
		/* Kernel netback's credit scheme: `rate` bytes more every
		 * period, up to a burst of max(rate, 128 KiB), so that a
		 * 64 KiB packet always passes in the end. */
		uint64_t now = rte_get_tsc_cycles();

		if (now >= q->credit_at) {
			uint64_t usec = atomic_load_explicit(
			    &q->vif->rate_usec, memory_order_relaxed);

			q->credit = RTE_MIN(q->credit + rate,
					    RTE_MAX(rate, 131072u));
			q->credit_at = now + usec * rte_get_tsc_hz() / 1000000;
		}
		left = q->credit;
		budget = &left;
	}
	int n = ring_tx_poll_budget(&q->tx, b, budget);

	if (unlikely(n < 0)) {
		queue_fatal(w, q, ring_error_name(q->tx.error));
		return 0;
	}
	if (budget) {
		q->credit = left;
		if (b->throttled && !q->throttled)
			q->stats[NB_Q_TX_THROTTLED]++;
		q->throttled = b->throttled;
	} else {
		q->throttled = false;
	}
	if (n == 0)
		return 0;

	for (int i = 0; i < n; i++) {
		struct ring_tx_pkt *p = &b->pkts[i];

		if (p->drop == RING_TX_OK && p->mcast_op == RING_MCAST_NONE)
			nm += (p->len + room - 1) / room;
	}
	if (nm && unlikely(rte_pktmbuf_alloc_bulk(d->pool, mbufs, nm) < 0)) {
		for (int i = 0; i < n; i++) {
			ring_tx_respond_pkt(&q->tx, &b->pkts[i],
					    NETIF_RSP_DROPPED);
			q->stats[NB_Q_TX_DROP_NOMBUF]++;
		}
		goto push;
	}

	/* One copy segment per (slot, mbuf) piece; nothing crosses a page. */
	bool statics = nb_vif_has_grefs(q->vif);
	for (int i = 0; i < n; i++) {
		struct ring_tx_pkt *p = &b->pkts[i];

		heads[i] = NULL;
		seg_end[i] = nsegs;
		if (p->drop != RING_TX_OK || p->mcast_op != RING_MCAST_NONE)
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
				const uint8_t *pg = statics ? nb_vif_gref_addr(
				    q->vif, sl->gref, false) : NULL;
				if (pg) {
					/* A static grant: no grant op. */
					memcpy(rte_pktmbuf_mtod_offset(
						   m, void *, m->data_len),
					       pg + off, chunk);
					w->copy_static++;
					m->data_len += chunk;
					off += chunk;
					left -= chunk;
					continue;
				}
				xengnttab_grant_copy_segment_t *g =
				    &w->segs[nsegs++];
				g->source.foreign.ref = sl->gref;
				g->source.foreign.offset = off;
				g->source.foreign.domid = q->vif->domid;
				g->dest.virt = rte_pktmbuf_mtod_offset(
				    m, void *, m->data_len);
				g->len = chunk;
				g->flags = GNTCOPY_source_gref;
				m->data_len += chunk;
				off += chunk;
				left -= chunk;
			}
		}
		if (p->gso_size) {
			/* ring/ let through only TCPv4/TCPv6 with an MSS. */
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

	if (nsegs) {
		w->copy_calls++;
		w->copy_segs += nsegs;
		hv_copy(d->hv, nsegs, w->segs);
	}

	for (int i = 0, s = 0; i < n; i++) {
		struct ring_tx_pkt *p = &b->pkts[i];
		int16_t st = NETIF_RSP_OKAY;

		if (p->drop != RING_TX_OK) {
			st = NETIF_RSP_ERROR;
			q->stats[NB_Q_TX_ERRORS]++;
			q->stats[NB_Q_TX_DROP_FIRST + p->drop]++;
		} else if (p->mcast_op != RING_MCAST_NONE) {
			/* The group list may change whether or not the
			 * frontend asked for filtering (netif.h). */
			int r = nb_fwd_mcast(q->vif, d,
					     p->mcast_op == RING_MCAST_ADD,
					     p->mcast_addr);

			q->stats[NB_Q_MCAST_OPS]++;
			if (r < 0 && !(r == -ENOENT &&
				       p->mcast_op == RING_MCAST_DEL)) {
				st = NETIF_RSP_ERROR;
				q->stats[NB_Q_TX_ERRORS]++;
			}
		}
		for (; s < (int)seg_end[i]; s++)
			if (unlikely(w->segs[s].status != GNTST_okay))
				st = NETIF_RSP_ERROR;
		if (heads[i] && st != NETIF_RSP_OKAY) {
			q->stats[NB_Q_TX_DROP_COPY]++;
			q->stats[NB_Q_TX_ERRORS]++;
			rte_pktmbuf_free(heads[i]);
			heads[i] = NULL;
		}
		ring_tx_respond_pkt(&q->tx, p, st);
		if (heads[i]) {
			q->stats[NB_Q_TX_PACKETS]++;
			q->stats[NB_Q_TX_BYTES] += p->len;
			heads[nout++] = heads[i];
		}
	}
push:
	if (ring_tx_push(&q->tx)) {
		notify(w, q->tx_port);
		q->stats[NB_Q_NOTIFY_TX]++;
	}
	if (nout)
		nb_fwd_from_vif(w, q->vif, heads, nout);
	return (unsigned)n;
}

/* ---- guest RX: backlog -> grant copy into posted buffers ---- */

/* Extra-info slots a packet takes on RX, sent in this (type) order. */
enum { RX_X_GSO, RX_X_HASH, RX_X_XDP, RX_X_MAX };

static inline unsigned
rx_extras(const struct rte_mbuf *m, uint16_t headroom, bool hash, bool *gso)
{
	*gso = nb_is_gso(m);
	return (*gso ? 1u : 0u) + (hash ? 1u : 0u) + (headroom ? 1u : 0u);
}

static void
backlog_drop_head(struct nb_queue *q, unsigned n, enum nb_qstat why)
{
	for (unsigned i = 0; i < n; i++) {
		rte_pktmbuf_free(q->backlog[q->bl_head]);
		q->bl_head = (q->bl_head + 1) % NB_RX_BACKLOG;
	}
	q->bl_count -= n;
	q->stats[why] += n;
}

/*
 * A queue whose guest posts no buffers: drop what waited longer than
 * rx-drain-timeout; with no progress for rx-stall-timeout the queue is
 * stalled (kernel netback turns the carrier off): all is dropped until
 * the guest posts room for a packet again.
 */
static void
rx_no_progress(struct nb_worker *w, struct nb_queue *q, uint64_t now)
{
	const struct nb_conf *c = &w->d->conf;
	unsigned n = 0;

	while (n < q->bl_count &&
	       now - q->bl_ms[(q->bl_head + n) % NB_RX_BACKLOG] >
		   c->rx_drain_ms)
		n++;
	if (n)
		backlog_drop_head(q, n, NB_Q_RX_DROP_EXPIRED);
	if (q->bl_count && now - q->rx_progress_ms > c->rx_stall_ms) {
		q->stalled = true;
		q->stats[NB_Q_RX_STALLS]++;
		backlog_drop_head(q, q->bl_count, NB_Q_RX_DROP_STALLED);
		nb_vif_warn(q->vif, "queue %u: no RX buffers for %u ms: "
			    "stalled, dropping its packets", q->id,
			    c->rx_stall_ms);
	}
}

static unsigned
rx_queue(struct nb_worker *w, struct nb_queue *q)
{
	struct nb_daemon *d = w->d;
	struct ring_rx_buf bufs[RING_RX_SIZE];
	struct rte_mbuf *done[NB_BURST];
	uint16_t slot_len[RING_RX_SIZE];
	unsigned pkt_slots[NB_BURST], pkt_seg_end[NB_BURST];
	uint32_t pkt_hash[NB_BURST];
	uint8_t pkt_htype[NB_BURST];
	bool pkt_hashed[NB_BURST];
	bool statics = nb_vif_has_grefs(q->vif);
	unsigned npk = 0, taken = 0, nsegs = 0;
	bool sg = q->vif->feat.sg;
	uint16_t hr = atomic_load_explicit(&q->vif->xdp_headroom,
					   memory_order_relaxed);
	int avail;

	if (q->bl_count == 0 && likely(!q->stalled))
		return 0;
	avail = ring_rx_avail(&q->rx);
	if (unlikely(avail < 0)) {
		queue_fatal(w, q, ring_error_name(q->rx.error));
		return 0;
	}
	if (unlikely(q->stalled)) {
		/* Buffers posted again: carrier on (as kernel netback). */
		if (avail == 0)
			return 0;
		q->stalled = false;
		q->rx_progress_ms = nb_tsc_ms(w->tsc);
		nb_vif_info(q->vif, "queue %u: RX buffers back, no longer "
			    "stalled", q->id);
		if (q->bl_count == 0)
			return 0;
	}

	while (npk < q->bl_count && npk < NB_BURST) {
		struct rte_mbuf *m =
		    q->backlog[(q->bl_head + npk) % NB_RX_BACKLOG];
		/* nb_deliver_vif left GSO only for guests that take it. */
		bool gso;
		/* The frontend's own hash, if it configured one, goes with
		 * the packet (a HASH extra). */
		pkt_hashed[npk] = nb_vif_rx_hash(
		    q->vif, rte_pktmbuf_mtod(m, const uint8_t *), m->data_len,
		    &pkt_hash[npk], &pkt_htype[npk], NULL);
		unsigned nx = rx_extras(m, hr, pkt_hashed[npk], &gso);
		unsigned nd = ring_rx_slots(m->pkt_len, hr, false);
		unsigned need = nd + nx;

		if (nd > 1 && !sg) {
			/* Larger than a page and the guest has no SG. */
			q->stats[NB_Q_RX_DROP_TOO_BIG]++;
			pkt_slots[npk] = 0;
			pkt_seg_end[npk] = nsegs;
			done[npk++] = m;
			continue;
		}
		if (taken + need > (unsigned)avail)
			break;
		ring_rx_take(&q->rx, &bufs[taken], need);
		/* A guest that takes no blank checksums gets them done. */
		if (q->vif->feat.no_csum &&
		    (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) ==
			RTE_MBUF_F_RX_L4_CKSUM_NONE)
			nb_csum_complete(m);

		/* Walk the mbuf chain, filling one guest page after another
		 * from the headroom on. The extras take the buffers right
		 * after the first: data skips them. */
		unsigned slot = taken, poff = hr;
		for (struct rte_mbuf *s = m; s; s = s->next) {
			uint16_t moff = 0;

			while (moff < s->data_len) {
				uint16_t chunk = s->data_len - moff;

				if (poff == RING_PAGE_SIZE) {
					slot_len[slot] = (uint16_t)poff;
					slot += slot == taken ? 1 + nx : 1;
					poff = hr;
				}
				if (chunk > RING_PAGE_SIZE - poff)
					chunk = (uint16_t)(RING_PAGE_SIZE - poff);
				uint8_t *pg = statics ? nb_vif_gref_addr(
				    q->vif, bufs[slot].gref, true) : NULL;
				if (pg) {
					/* A static grant: no grant op. */
					memcpy(pg + poff,
					       rte_pktmbuf_mtod_offset(
						   s, void *, moff), chunk);
					w->copy_static++;
					moff += chunk;
					poff += chunk;
					continue;
				}
				xengnttab_grant_copy_segment_t *g =
				    &w->segs[nsegs++];
				g->source.virt =
				    rte_pktmbuf_mtod_offset(s, void *, moff);
				g->dest.foreign.ref = bufs[slot].gref;
				g->dest.foreign.offset = (uint16_t)poff;
				g->dest.foreign.domid = q->vif->domid;
				g->len = chunk;
				g->flags = GNTCOPY_dest_gref;
				moff += chunk;
				poff += chunk;
			}
		}
		slot_len[slot] = (uint16_t)poff;
		pkt_slots[npk] = need;
		pkt_seg_end[npk] = nsegs;
		taken += need;
		done[npk++] = m;
	}
	if (npk == 0) {
		rx_no_progress(w, q, nb_tsc_ms(w->tsc));
		return 0;
	}

	if (nsegs) {
		w->copy_calls++;
		w->copy_segs += nsegs;
		hv_copy(d->hv, nsegs, w->segs);
	}

	for (unsigned i = 0, s = 0, slot = 0; i < npk; i++) {
		struct rte_mbuf *m = done[i];
		bool ok = true, gso;
		uint16_t flags = 0;

		if (pkt_slots[i] == 0)
			continue;
		for (; s < pkt_seg_end[i]; s++)
			if (unlikely(w->segs[s].status != GNTST_okay))
				ok = false;
		uint64_t l4 = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
		if (l4 == RTE_MBUF_F_RX_L4_CKSUM_NONE)
			flags = NETRXF_csum_blank | NETRXF_data_validated;
		else if (l4 == RTE_MBUF_F_RX_L4_CKSUM_GOOD)
			flags = NETRXF_data_validated;
		unsigned nx = rx_extras(m, hr, pkt_hashed[i], &gso);
		unsigned data_slots = pkt_slots[i] - nx;
		netif_extra_info_t x[RX_X_MAX];
		unsigned xi = 0;

		if (gso) {
			memset(&x[xi], 0, sizeof(x[xi]));
			x[xi].type = XEN_NETIF_EXTRA_TYPE_GSO;
			x[xi].u.gso.size = m->tso_segsz;
			x[xi].u.gso.type =
			    (m->packet_type & RTE_PTYPE_L3_MASK) ==
				    RTE_PTYPE_L3_IPV6 ? XEN_NETIF_GSO_TYPE_TCPV6
						      : XEN_NETIF_GSO_TYPE_TCPV4;
			xi++;
		}
		if (pkt_hashed[i]) {
			memset(&x[xi], 0, sizeof(x[xi]));
			x[xi].type = XEN_NETIF_EXTRA_TYPE_HASH;
			x[xi].u.hash.type = pkt_htype[i];
			x[xi].u.hash.algorithm =
			    XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ;
			/* Little-endian, as netfronts read it. */
			for (unsigned b = 0; b < 4; b++)
				x[xi].u.hash.value[b] =
				    (uint8_t)(pkt_hash[i] >> (8 * b));
			xi++;
		}
		if (hr) {
			/* Linux netif.h: XEN_NETIF_EXTRA_TYPE_XDP,
			 * u.xdp.headroom; not in Xen 4.17's header. */
			memset(&x[xi], 0, sizeof(x[xi]));
			x[xi].type = RING_EXTRA_TYPE_XDP;
			memcpy(&x[xi].u, &hr, sizeof(hr));
			xi++;
		}
		for (unsigned k = 0; k < pkt_slots[i]; k++, slot++) {
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
			/* As kernel netback: offset 0, the size counts
			 * from the page start, headroom included. */
			ring_rx_respond(&q->rx, bufs[slot].id, 0, f,
					ok ? (int16_t)slot_len[slot]
					   : NETIF_RSP_ERROR);
		}
		if (ok) {
			q->stats[NB_Q_RX_PACKETS]++;
			q->stats[NB_Q_RX_BYTES] += m->pkt_len;
		} else {
			q->stats[NB_Q_RX_DROP_COPY]++;
		}
	}
	q->bl_head = (q->bl_head + npk) % NB_RX_BACKLOG;
	q->bl_count -= npk;
	q->rx_progress_ms = nb_tsc_ms(w->tsc);
	rte_pktmbuf_free_bulk(done, npk);
	if (taken && ring_rx_push(&q->rx)) {
		notify(w, q->rx_port);
		q->stats[NB_Q_NOTIFY_RX]++;
	}
	return npk;
}

static void
backlog_put(struct nb_queue *q, struct rte_mbuf **pkts, unsigned n,
	    uint64_t now)
{
	unsigned i = 0;

	if (unlikely(q->stalled)) {
		q->stats[NB_Q_RX_DROP_STALLED] += n;
		rte_pktmbuf_free_bulk(pkts, n);
		return;
	}
	if (q->bl_count == 0)
		q->rx_progress_ms = now;
	for (; i < n && q->bl_count < NB_RX_BACKLOG; i++) {
		unsigned at = (q->bl_head + q->bl_count) % NB_RX_BACKLOG;

		q->backlog[at] = pkts[i];
		q->bl_ms[at] = now;
		q->bl_count++;
	}
	if (i < n) {
		q->stats[NB_Q_RX_DROP_BACKLOG] += n - i;
		rte_pktmbuf_free_bulk(&pkts[i], n - i);
	}
}

static void
wake(struct nb_worker *w)
{
	uint64_t one = 1;

	if (atomic_load(&w->asleep) && write(w->wakefd, &one, sizeof(one)) < 0) {
		/* counter full: the worker is waking anyway */
	}
}

/* Queue n (<= NB_BURST) mbufs for guest queue q, here or on its worker. */
static void
to_queue(struct nb_worker *w, struct nb_queue *q, struct rte_mbuf **pkts,
	 unsigned n)
{
	if (q->worker == w) {
		backlog_put(q, pkts, n, nb_tsc_ms(w->tsc));
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		/* A flooded frame is shared: the destination rides in the
		 * mbuf, so another worker gets its own copy. */
		if (rte_mbuf_refcnt_read(pkts[i]) > 1) {
			struct rte_mbuf *c = rte_pktmbuf_copy(pkts[i], w->pool,
							      0, UINT32_MAX);

			rte_pktmbuf_free(pkts[i]);
			pkts[i] = c;
			if (!c) {
				q->stats[NB_Q_RX_DROP_BACKLOG]++;
				pkts[i] = pkts[--n];
				i--;
				continue;
			}
		}
		*mbuf_dest(pkts[i]) = q;
	}
	unsigned sent = rte_ring_mp_enqueue_burst(q->worker->xfer,
						  (void **)pkts, n, NULL);
	if (sent < n) {
		q->stats[NB_Q_RX_DROP_BACKLOG] += n - sent;
		rte_pktmbuf_free_bulk(&pkts[sent], n - sent);
	}
	if (sent)
		wake(q->worker);
}

/*
 * A flow hash for RX queue selection: the port's RSS hash when it gave
 * one, else addresses and TCP/UDP ports.
 */
uint32_t
nb_flow_hash(const struct rte_mbuf *m)
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
nb_deliver_vif(struct nb_worker *w, struct nb_vif *v, struct rte_mbuf **pkts,
	       unsigned n)
{
	if (unlikely(!v->connected || v->nqueues == 0)) {
		rte_pktmbuf_free_bulk(pkts, n);
		return;
	}
	/* Guests that cannot take a GSO packet of this type get it
	 * segmented here, in order. */
	for (unsigned i = 0; i < n; i++) {
		if (!nb_is_gso(pkts[i]))
			continue;
		bool v6 = (pkts[i]->packet_type & RTE_PTYPE_L3_MASK) ==
			  RTE_PTYPE_L3_IPV6;
		if (v->feat.sg && (v6 ? v->feat.gso_tcpv6 : v->feat.gso_tcpv4))
			continue;
		struct rte_mbuf *segs[NB_GSO_MAX_SEGS];

		if (i)
			nb_deliver_vif(w, v, pkts, i);
		unsigned k = nb_gso_split(w, pkts[i], segs, NB_GSO_MAX_SEGS);
		for (unsigned j = 0; j < k; j += NB_BURST)
			nb_deliver_vif(w, v, &segs[j], RTE_MIN(NB_BURST, k - j));
		if (i + 1 < n)
			nb_deliver_vif(w, v, &pkts[i + 1], n - i - 1);
		return;
	}
	if (v->nqueues == 1) {
		to_queue(w, &v->queues[0], pkts, n);
		return;
	}
	/* Several queues: a flow hash picks one, so a flow stays in order. */
	struct rte_mbuf *b[NB_MAX_QUEUES][NB_BURST];
	unsigned c[NB_MAX_QUEUES] = { 0 };

	for (unsigned i = 0; i < n; i++) {
		unsigned qi;
		uint32_t h;
		uint8_t t;

		/* The frontend's Toeplitz mapping when it set one. */
		if (!nb_vif_rx_hash(v, rte_pktmbuf_mtod(pkts[i], const uint8_t *),
				    pkts[i]->data_len, &h, &t, &qi))
			qi = nb_flow_hash(pkts[i]) % v->nqueues;
		b[qi][c[qi]++] = pkts[i];
	}
	for (unsigned qi = 0; qi < v->nqueues; qi++)
		if (c[qi])
			to_queue(w, &v->queues[qi], b[qi], c[qi]);
}

/* ---- commands from the control thread ---- */

static int
add_queue(struct nb_worker *w, struct nb_queue *q)
{
	uint16_t dom = q->vif->domid;
	int r;

	if (w->nq == NB_MAX_QUEUES_W)
		return -ENOSPC;
	q->tx_port = q->rx_port = -1;
	r = hv_evtchn_bind(w->evh, dom, q->tx_rport);
	if (r < 0)
		return r;
	q->tx_port = q->rx_port = r;
	if (q->split) {
		r = hv_evtchn_bind(w->evh, dom, q->rx_rport);
		if (r < 0)
			goto unbind;
		q->rx_port = r;
	}
	if ((unsigned)q->tx_port >= NB_MAX_PORTS ||
	    (unsigned)q->rx_port >= NB_MAX_PORTS) {
		r = -ERANGE;
		goto unbind;
	}
	w->queues[w->nq++] = q;
	w->by_port[q->tx_port] = q;
	w->by_port[q->rx_port] = q;
	/* The loop looks at every ring at once: the frontend may have
	 * queued work before we were bound to hear about it. */
	return 0;
unbind:
	if (q->rx_port >= 0 && q->rx_port != q->tx_port)
		hv_evtchn_unbind(w->evh, (uint32_t)q->rx_port);
	if (q->tx_port >= 0)
		hv_evtchn_unbind(w->evh, (uint32_t)q->tx_port);
	q->tx_port = q->rx_port = -1;
	return r;
}

static void
del_queue(struct nb_worker *w, struct nb_queue *q)
{
	for (unsigned i = 0; i < w->nq; i++) {
		if (w->queues[i] == q) {
			w->queues[i] = w->queues[--w->nq];
			break;
		}
	}
	if (w->by_port[q->tx_port] == q)
		w->by_port[q->tx_port] = NULL;
	if (w->by_port[q->rx_port] == q)
		w->by_port[q->rx_port] = NULL;
	if (q->rx_port >= 0 && q->rx_port != q->tx_port)
		hv_evtchn_unbind(w->evh, (uint32_t)q->rx_port);
	if (q->tx_port >= 0)
		hv_evtchn_unbind(w->evh, (uint32_t)q->tx_port);
	q->tx_port = q->rx_port = -1;
	if (q->bl_count) {
		for (unsigned i = 0; i < q->bl_count; i++)
			rte_pktmbuf_free(
			    q->backlog[(q->bl_head + i) % NB_RX_BACKLOG]);
		q->bl_count = 0;
	}
}

static void
drain_xfer(struct nb_worker *w)
{
	struct rte_mbuf *mb[NB_BURST];
	unsigned n;

	while ((n = rte_ring_sc_dequeue_burst(w->xfer, (void **)mb, NB_BURST,
					      NULL)) > 0) {
		uint64_t now = nb_tsc_ms(w->tsc); /* once per burst */

		for (unsigned i = 0; i < n; i++) {
			struct nb_queue *q = *mbuf_dest(mb[i]);

			/* The queue may have left us since: RCU keeps it
			 * allocated, its worker field says who owns it. */
			if (q->worker == w && !atomic_load(&q->fatal))
				backlog_put(q, &mb[i], 1, now);
			else
				rte_pktmbuf_free(mb[i]);
		}
	}
}

/* Poll RX queue qid of p (the worker, or control before launch). */
static int
pifq_add(struct nb_worker *w, struct nb_pif *p, uint16_t qid)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct nb_pif_rxq *pq;

	if (w->npq == NB_MAX_PIFS)
		return -ENOSPC;
	pq = &w->pq[w->npq];
	pq->pif = p;
	pq->qid = qid;
	pq->intr_fd = -1;
	/* A tap's queue fd is readable while packets wait, level-triggered,
	 * and needs no acknowledgement. */
	if (p->intr && strncmp(p->name, "net_tap", 7) == 0)
		pq->intr_fd = rte_eth_dev_rx_intr_ctl_q_get_fd(p->port_id, qid);
	if (pq->intr_fd >= 0) {
		ev.data.fd = pq->intr_fd;
		if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, pq->intr_fd, &ev) < 0)
			pq->intr_fd = -1;
	}
	w->npq++;
	if (pq->intr_fd < 0)
		w->poll_ports = true;
	return 0;
}

/* Stop polling p; the others keep their order. */
static void
pif_del(struct nb_worker *w, struct nb_pif *p)
{
	unsigned k = 0;

	w->poll_ports = false;
	for (unsigned i = 0; i < w->npq; i++) {
		struct nb_pif_rxq *pq = &w->pq[i];

		if (pq->pif == p) {
			if (pq->intr_fd >= 0)
				epoll_ctl(w->epfd, EPOLL_CTL_DEL, pq->intr_fd,
					  NULL);
			continue;
		}
		if (pq->intr_fd < 0)
			w->poll_ports = true;
		w->pq[k++] = *pq;
	}
	w->npq = k;
}

static bool
handle_cmds(struct nb_worker *w)
{
	struct nb_cmd *c;
	bool stop = false;

	while (rte_ring_sc_dequeue(w->cmds, (void **)&c) == 0) {
		int r = 0;

		switch (c->op) {
		case NB_CMD_ADD_QUEUE:
			r = add_queue(w, c->q);
			break;
		case NB_CMD_DEL_QUEUE:
			/* Mbufs other workers queued for c->q before the
			 * caller's grace period are in xfer: settle them
			 * while c->q is still ours. */
			drain_xfer(w);
			del_queue(w, c->q);
			break;
		case NB_CMD_ADD_PIFQ:
			r = pifq_add(w, c->pif, c->qid);
			break;
		case NB_CMD_DEL_PIF:
			pif_del(w, c->pif);
			break;
		case NB_CMD_STOP:
			stop = true;
			break;
		}
		atomic_store(&c->done, r < 0 ? r : 1);
	}
	return stop;
}

/*
 * Arm every ring before sleeping; true if work arrived meanwhile.
 * *timeout_ms shrinks to the next deadline: a throttled queue's credit,
 * a backlog packet's drain or stall time, or 1 ms when a queue waits for
 * RX buffers from a frontend that will not notify us when it posts them
 * (no feature-rx-notify).
 */
static bool
arm_and_check(struct nb_worker *w, int *timeout_ms)
{
	const struct nb_conf *c = &w->d->conf;
	uint64_t now = nb_fast_ms(), tsc = rte_get_tsc_cycles();
	uint64_t tsc_ms = rte_get_tsc_hz() / 1000 + 1;
	bool more = false;

	for (unsigned i = 0; i < w->nq; i++) {
		struct nb_queue *q = w->queues[i];

		if (atomic_load(&q->fatal))
			continue;
		if (q->throttled) {
			/* Out of credit: come back when more is due, not
			 * when the guest rings. */
			uint64_t ms = q->credit_at > tsc
					  ? (q->credit_at - tsc) / tsc_ms + 1
					  : 0;

			if (ms == 0)
				more = true;
			else if (ms < (uint64_t)*timeout_ms)
				*timeout_ms = (int)ms;
		} else if (ring_tx_final_check(&q->tx)) {
			more = true;
		}
		if (q->stalled) {
			/* Stalled: look for buffers now and then. */
			*timeout_ms = RTE_MIN(*timeout_ms, 100);
		}
		if (q->bl_count) {
			struct rte_mbuf *m = q->backlog[q->bl_head];
			uint16_t hr = atomic_load_explicit(
			    &q->vif->xdp_headroom, memory_order_relaxed);
			uint64_t due = RTE_MIN(
			    q->bl_ms[q->bl_head] + c->rx_drain_ms,
			    q->rx_progress_ms + c->rx_stall_ms);

			if (ring_rx_want(&q->rx, ring_rx_slots(m->pkt_len, hr,
							       false)))
				more = true;
			if (!q->vif->feat.rx_notify)
				*timeout_ms = 1;
			/* Wake up in time to expire what waits. */
			if (due <= now)
				more = true;
			else if (due - now < (uint64_t)*timeout_ms)
				*timeout_ms = (int)(due - now) + 1;
		}
	}
	return more;
}

/*
 * Before sleeping, let the ports with RX interrupts wake us; false if a
 * packet slipped in meanwhile.
 */
static bool
ports_arm(struct nb_worker *w)
{
	for (unsigned i = 0; i < w->npq; i++) {
		struct nb_pif_rxq *pq = &w->pq[i];

		if (pq->intr_fd < 0)
			continue;
		rte_eth_dev_rx_intr_enable(pq->pif->port_id, pq->qid);
		if (rte_eth_rx_queue_count(pq->pif->port_id, pq->qid) > 0)
			return false;
	}
	return true;
}

static void
ports_disarm(struct nb_worker *w)
{
	for (unsigned i = 0; i < w->npq; i++)
		if (w->pq[i].intr_fd >= 0)
			rte_eth_dev_rx_intr_disable(w->pq[i].pif->port_id,
						    w->pq[i].qid);
}

/* Read every delivered port, count it, unmask it. */
static unsigned
drain_events(struct nb_worker *w)
{
	unsigned n = 0;
	int p;

	while ((p = hv_evtchn_pending(w->evh)) >= 0) {
		struct nb_queue *q = (unsigned)p < NB_MAX_PORTS ? w->by_port[p]
								: NULL;

		if (q)
			q->stats[NB_Q_EVENTS]++;
		hv_evtchn_unmask(w->evh, (uint32_t)p);
		n++;
	}
	return n;
}

static int
worker_main(void *arg)
{
	struct nb_worker *w = arg;
	struct nb_daemon *d = w->d;
	unsigned idle = 0;
	uint64_t spin_from = 0,
		 spin_tsc = rte_get_tsc_hz() / 1000000 * NB_IDLE_SPIN_US;
	bool woke = true;

	rte_rcu_qsbr_thread_register(d->rcu, w->id);
	rte_rcu_qsbr_thread_online(d->rcu, w->id);

	uint64_t prev = rte_rdtsc();
	bool was_busy = false;

	for (;;) {
		unsigned work = 0;
		/* One TSC read a pass: the switch's clock (w->tsc) and the
		 * busy cycles, counted up to here when the last pass moved
		 * packets (sleeps and idle polls are not). */
		uint64_t t0 = rte_rdtsc();

		if (was_busy)
			w->busy_cycles += t0 - prev;
		prev = w->tsc = t0;
		was_busy = false;
		if (handle_cmds(w))
			break;
		/* Events are read only after a sleep: while busy the rings'
		 * indices say what to do and reading the event fd would be a
		 * system call per loop. */
		if (woke) {
			work += drain_events(w);
			woke = false;
		}
		drain_xfer(w);
		for (unsigned i = 0; i < w->nq; i++) {
			struct nb_queue *q = w->queues[i];

			if (atomic_load_explicit(&q->fatal,
						 memory_order_relaxed))
				continue;
			work += tx_queue(w, q);
		}
		for (unsigned i = 0; i < w->nq; i++) {
			struct nb_queue *q = w->queues[i];

			if (atomic_load_explicit(&q->fatal,
						 memory_order_relaxed))
				continue;
			work += rx_queue(w, q);
		}
		/* While spinning idle before a sleep, a port that will wake
		 * us anyway (RX interrupts: a tap, whose every poll is a
		 * read() system call) is looked at every 16th pass only:
		 * in a PV dom0 each system call goes through Xen. */
		for (unsigned i = 0; i < w->npq; i++)
			if (w->pq[i].intr_fd < 0 || (idle & 15) == 0 ||
			    d->conf.poll_always)
				work += nb_pif_poll(w, &w->pq[i]);
		rte_rcu_qsbr_quiescent(d->rcu, w->id);

		if (work) {
			was_busy = true;
			w->nap_ms = 1;
			idle = 0;
			continue;
		}
		/* Spin a little before sleeping (the next burst often comes
		 * right away): NB_IDLE_SPIN_US of the TSC, not a count of
		 * passes, which last far longer where the CPU is slow (a PV
		 * dom0 under emulation spun whole milliseconds). */
		if (idle++ == 0)
			spin_from = w->tsc;
		if (d->conf.poll_always || w->tsc - spin_from < spin_tsc)
			continue;
		/* Unmask what was delivered while we were busy, so the next
		 * notification wakes us. */
		drain_events(w);
		/* A port without RX interrupts (net_af_packet, net_pcap...)
		 * is looked at after a nap: 1 ms while traffic is recent,
		 * doubling to NB_NAP_MAX_MS while all stays quiet, so an
		 * idle driver domain does not wake 1,000 times a second. */
		int timeout = w->poll_ports ? (int)w->nap_ms : 1000;
		if (arm_and_check(w, &timeout)) {
			idle = 0;
			continue;
		}
		/* Sleep. Others check `asleep` after queueing to us. */
		atomic_store(&w->asleep, true);
		if (!rte_ring_empty(w->xfer) || !rte_ring_empty(w->cmds)) {
			atomic_store(&w->asleep, false);
			continue;
		}
		if (!ports_arm(w)) {
			atomic_store(&w->asleep, false);
			idle = 0;
			continue;
		}
		rte_rcu_qsbr_thread_offline(d->rcu, w->id);
		struct epoll_event ev[8];
		int ne = epoll_wait(w->epfd, ev, 8, timeout);
		if (ne == 0 && w->poll_ports && timeout == (int)w->nap_ms)
			w->nap_ms = RTE_MIN(w->nap_ms * 2, NB_NAP_MAX_MS);
		else if (ne > 0)
			w->nap_ms = 1;
		rte_rcu_qsbr_thread_online(d->rcu, w->id);
		ports_disarm(w);
		atomic_store(&w->asleep, false);
		w->wakeups++;
		woke = true;
		for (int i = 0; i < ne; i++) {
			if (ev[i].data.fd == w->wakefd) {
				uint64_t v;

				if (read(w->wakefd, &v, sizeof(v)) < 0) {
					/* spurious: nothing to clear */
				}
			}
		}
		idle = 0;
	}
	rte_rcu_qsbr_thread_offline(d->rcu, w->id);
	rte_rcu_qsbr_thread_unregister(d->rcu, w->id);
	return 0;
}

static int
send_cmd_pif(struct nb_worker *w, enum nb_cmd_op op, struct nb_queue *q,
	     struct nb_pif *p, uint16_t qid)
{
	struct nb_cmd c = { .op = op, .q = q, .pif = p, .qid = qid };
	uint64_t one = 1;

	atomic_store(&c.done, 0);
	while (rte_ring_mp_enqueue(w->cmds, &c) != 0)
		usleep(100);
	if (write(w->wakefd, &one, sizeof(one)) < 0) {
		/* full counter: it wakes anyway */
	}
	while (atomic_load(&c.done) == 0)
		usleep(50);
	int r = atomic_load(&c.done);
	return r < 0 ? r : 0;
}

static int
send_cmd(struct nb_worker *w, enum nb_cmd_op op, struct nb_queue *q)
{
	return send_cmd_pif(w, op, q, NULL, 0);
}

int
nb_workers_add_pif(struct nb_daemon *d, struct nb_pif *p)
{
	for (uint16_t q = 0; q < p->nrxq; q++) {
		struct nb_worker *w = &d->workers[q % d->nworkers];
		int r = w->launched
				? send_cmd_pif(w, NB_CMD_ADD_PIFQ, NULL, p, q)
				: pifq_add(w, p, q);

		if (r < 0) {
			nb_workers_del_pif(d, p);
			return r;
		}
	}
	return 0;
}

void
nb_workers_del_pif(struct nb_daemon *d, struct nb_pif *p)
{
	for (unsigned i = 0; i < d->nworkers; i++) {
		struct nb_worker *w = &d->workers[i];

		if (w->launched)
			send_cmd_pif(w, NB_CMD_DEL_PIF, NULL, p, 0);
		else
			pif_del(w, p);
	}
}

int
nb_worker_add_queue(struct nb_worker *w, struct nb_queue *q)
{
	q->worker = w;
	return send_cmd(w, NB_CMD_ADD_QUEUE, q);
}

/*
 * Take q back from its worker. The caller has made q unreachable (vif
 * unpublished from the switch) and waited a grace period, so no worker
 * can queue new mbufs for it.
 */
void
nb_worker_del_queue(struct nb_worker *w, struct nb_queue *q)
{
	send_cmd(w, NB_CMD_DEL_QUEUE, q);
}

static void
worker_fini(struct nb_worker *w)
{
	if (w->epfd > 0)
		close(w->epfd);
	if (w->wakefd > 0)
		close(w->wakefd);
	rte_ring_free(w->cmds);
	rte_ring_free(w->xfer);
	free(w->queues);
	free(w->by_port);
	hv_evtchn_close(w->evh);
	memset(w, 0, sizeof(*w));
}

static int
worker_init(struct nb_daemon *d, struct nb_worker *w, unsigned id,
	    unsigned lcore)
{
	char name[RTE_RING_NAMESIZE];
	struct epoll_event ev = { .events = EPOLLIN };
	int err;

	w->id = id;
	w->lcore = lcore;
	w->d = d;
	w->pool = d->pool;
	w->nap_ms = 1;
	w->epfd = w->wakefd = -1;
	w->gso.direct_pool = d->pool;
	w->gso.indirect_pool = d->indirect_pool;
	w->gso.gso_types = RTE_ETH_TX_OFFLOAD_TCP_TSO;
	w->gso.flag = 0;
	w->queues = calloc(NB_MAX_QUEUES_W, sizeof(*w->queues));
	w->by_port = calloc(NB_MAX_PORTS, sizeof(*w->by_port));
	if (!w->queues || !w->by_port)
		goto nomem;
	w->evh = hv_evtchn_open(d->hv);
	if (!w->evh) {
		err = -errno;
		nb_err("worker %u: cannot open event channels: %s", id,
		       strerror(errno));
		goto fail;
	}
	snprintf(name, sizeof(name), "nb_cmd%u", id);
	w->cmds = rte_ring_create(name, 64, SOCKET_ID_ANY, RING_F_SC_DEQ);
	snprintf(name, sizeof(name), "nb_xfer%u", id);
	w->xfer = rte_ring_create(name, 4096, SOCKET_ID_ANY, RING_F_SC_DEQ);
	if (!w->cmds || !w->xfer)
		goto nomem;
	w->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (w->wakefd < 0 || w->epfd < 0) {
		err = -errno;
		goto fail;
	}
	ev.data.fd = w->wakefd;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->wakefd, &ev) < 0) {
		err = -errno;
		goto fail;
	}
	ev.data.fd = hv_evtchn_fd(w->evh);
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev) < 0) {
		err = -errno;
		goto fail;
	}
	return 0;
nomem:
	err = -ENOMEM;
fail:
	worker_fini(w);
	return err;
}

int
nb_workers_start(struct nb_daemon *d)
{
	unsigned lcore, i = 0;
	int r;

	d->workers = calloc(d->nworkers, sizeof(*d->workers));
	if (!d->workers)
		return -ENOMEM;
	size_t sz = rte_rcu_qsbr_get_memsize(d->nworkers);
	d->rcu = rte_zmalloc("nb_rcu", sz, RTE_CACHE_LINE_SIZE);
	if (!d->rcu || rte_rcu_qsbr_init(d->rcu, d->nworkers) < 0)
		return -ENOMEM;
	RTE_LCORE_FOREACH_WORKER(lcore) {
		r = worker_init(d, &d->workers[i], i, lcore);
		if (r < 0)
			return r;
		i++;
	}
	for (unsigned k = 0; k < d->npifs; k++) {
		r = nb_workers_add_pif(d, d->pifs[k]);
		if (r < 0)
			return r;
	}
	for (i = 0; i < d->nworkers; i++) {
		r = rte_eal_remote_launch(worker_main, &d->workers[i],
					  d->workers[i].lcore);
		if (r < 0) {
			nb_err("cannot launch worker %u: %s", i, strerror(-r));
			return r;
		}
		d->workers[i].launched = true;
	}
	nb_info("%u worker(s) started, %s polling", d->nworkers,
		d->conf.poll_always ? "busy" : "adaptive");
	return 0;
}

void
nb_workers_stop(struct nb_daemon *d)
{
	if (!d->workers)
		return;
	for (unsigned i = 0; i < d->nworkers; i++)
		if (d->workers[i].launched)
			send_cmd(&d->workers[i], NB_CMD_STOP, NULL);
	rte_eal_mp_wait_lcore();
	for (unsigned i = 0; i < d->nworkers; i++)
		worker_fini(&d->workers[i]);
	free(d->workers);
	d->workers = NULL;
	rte_free(d->rcu);
	d->rcu = NULL;
}
