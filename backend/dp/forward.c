/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Forwarding a burst: switch/ finds a destination for every frame first
 * and sorts the burst by destination (sw_forward_group), then each
 * destination gets its frames in one call, with their 802.1Q tag added,
 * rewritten or removed as the destination port's VLAN configuration
 * says. A burst that goes whole to one port unchanged (the common case)
 * is handed on as it came.
 */
#include <errno.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_spinlock.h>

#include "dp_priv.h"

uint64_t dp_tsc_ms_mul;

void
dp_fast_ms_init(void)
{
	uint64_t per_ms = rte_get_tsc_hz() / 1000;

	dp_tsc_ms_mul = per_ms ? (uint64_t)(((unsigned __int128)1 << 64) /
					   per_ms)
			       : 0;
}

int
dp_vif_mcast(struct dp *dp, struct dp_vif *v, bool add, const uint8_t mac[6])
{
	int r, port = __atomic_load_n(&v->sw_port, __ATOMIC_RELAXED);

	if (port < 0)
		return -ENOENT;
	/* Queues of one vif may sit on different workers: one writer of
	 * the port's group list at a time. */
	rte_spinlock_lock(&v->mcast_lock);
	r = add ? sw_port_mcast_add(dp->sw, port, mac)
		: sw_port_mcast_del(dp->sw, port, mac);
	rte_spinlock_unlock(&v->mcast_lock);
	return r;
}

/*
 * Make m leave with the 802.1Q tag `tag` (0: untagged); `tagged` says
 * whether it carries one now. The priority bits of a tag that stays are
 * kept. m must not be shared. False when there is no headroom.
 */
static bool
retag(struct rte_mbuf *m, bool tagged, uint16_t tag)
{
	uint8_t *p;

	if (tagged && tag) {
		p = rte_pktmbuf_mtod(m, uint8_t *);
		p[14] = (uint8_t)((p[14] & 0xf0) | (tag >> 8));
		p[15] = (uint8_t)tag;
		return true;
	}
	if (tagged) {
		p = rte_pktmbuf_mtod(m, uint8_t *);
		memmove(p + 4, p, 12);
		rte_pktmbuf_adj(m, 4);
		return true;
	}
	if (!tag)
		return true;
	p = (uint8_t *)rte_pktmbuf_prepend(m, 4);
	if (!p)
		return false;
	memmove(p, p + 4, 12);
	p[12] = 0x81;
	p[13] = 0x00;
	p[14] = (uint8_t)(tag >> 8);
	p[15] = (uint8_t)tag;
	return true;
}

/* Does a frame carrying (tagged, vid) need changing to leave with tag? */
static inline bool
needs_retag(bool tagged, uint16_t vid, uint16_t tag)
{
	return tagged ? tag != vid : tag != 0;
}

/* sum: the burst's, when it is a whole received burst, or NULL. */
static void
deliver(struct dp_worker *w, uint16_t port, struct rte_mbuf **pkts,
	unsigned n, const struct dp_burst_sum *sum)
{
	struct dp *dp = w->dp;
	struct dp_vif *v = atomic_load_explicit(&dp->vifs[port],
						memory_order_acquire);

	if (v) {
		n = dp_tap_maybe(w, port, pkts, n, true);
		if (n)
			dp_deliver_vif(w, v, pkts, n);
		return;
	}
	struct dp_eth *e = atomic_load_explicit(&dp->eths[port],
						memory_order_acquire);
	if (e) {
		/* A port takes whole packets: cut ones are completed. */
		unsigned k = dp_cut_settle_maybe(w, pkts, n);

		if (k != n)
			sum = NULL; /* no longer the burst it was */
		n = dp_tap_maybe(w, port, pkts, k, true);
		if (n)
			dp_deliver_eth(w, e, pkts, n, sum);
		return;
	}
	rte_pktmbuf_free_bulk(pkts, n);
}

/* The frame's own VID when tagged (sw_result.vlan is the network's). */
static inline uint16_t
frame_vid(const struct rte_mbuf *m)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);

	return (uint16_t)((p[14] & 0x0f) << 8 | p[15]);
}

static struct rte_mbuf *
copy_frame(struct dp_worker *w, struct rte_mbuf *m)
{
	/* A deep copy: the copy may be retagged or segmented alone. */
	return rte_pktmbuf_copy(m, w->pool, 0, UINT32_MAX);
}

/*
 * A flooded frame: destinations that take it as it is share it (they
 * only read it; a DPDK port may complete a checksum, the same for all);
 * those that need another tag, and every destination of a GSO packet
 * (segmenting changes it), get their own copy.
 */
static void
flood(struct dp_worker *w, int in, struct rte_mbuf *m,
      const struct sw_result *r)
{
	struct sw_egress eg[DP_MAX_FLOOD];
	unsigned ne = sw_flood(w->dp->sw, in, r, eg, DP_MAX_FLOOD);
	bool tagged = r->flags & SW_F_TAGGED;
	uint16_t vid = tagged ? frame_vid(m) : 0;
	bool gso = dp_is_gso(m);
	unsigned same = 0, last_same = 0;

	/* Copies and shares need the whole packet. */
	if (!dp_cut_settle_maybe(w, &m, 1))
		return;
	if (ne > DP_MAX_FLOOD)
		ne = DP_MAX_FLOOD;
	for (unsigned j = 0; j < ne; j++) {
		if (!gso && !needs_retag(tagged, vid, eg[j].tag)) {
			same++;
			last_same = j;
		}
	}
	for (unsigned j = 0; j < ne; j++) {
		if (!gso && !needs_retag(tagged, vid, eg[j].tag))
			continue;
		/* The original goes to the last destination when nobody
		 * takes it unchanged. */
		bool own = same == 0 && j == ne - 1;
		struct rte_mbuf *c = own ? m : copy_frame(w, m);

		if (!c)
			continue;
		if (!retag(c, tagged, eg[j].tag)) {
			rte_pktmbuf_free(c);
			continue;
		}
		deliver(w, eg[j].port, &c, 1, NULL);
	}
	if (same == 0) {
		if (ne == 0)
			rte_pktmbuf_free(m);
		return;
	}
	/* A reference per destination on every segment: freeing a chain
	 * frees each segment whose own count falls to zero, so a count on
	 * the first alone let the first destination done free the rest
	 * under the others. */
	rte_pktmbuf_refcnt_update(m, (int16_t)(same - 1));
	for (unsigned j = 0; j < ne; j++) {
		/* Each destination gets its own pointer: a queue on another
		 * worker swaps it for a private copy (to_queue), which must
		 * not become what the next destination is given. */
		struct rte_mbuf *one = m;

		if (gso || needs_retag(tagged, vid, eg[j].tag))
			continue;
		deliver(w, eg[j].port, &one, 1, NULL);
		if (j == last_same)
			break;
	}
}

/* from: the port the burst came in on, or NULL for a vif. */
static void
fwd_burst(struct dp_worker *w, int in, struct dp_eth *from,
	  struct rte_mbuf **pkts, unsigned n)
{
	struct sw_frame f[DP_BURST];
	struct sw_result res[DP_BURST];
	struct rte_mbuf *batch[DP_BURST];
	struct dp_burst_sum sum = { 0, 0 };
	struct sw_group g;
	struct sw *sw = w->dp->sw;

	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];

		f[i].data = rte_pktmbuf_mtod(m, const uint8_t *);
		f[i].len = m->data_len;
		sum.bytes += m->pkt_len;
		sum.ol |= m->ol_flags;
	}
	if (from) {
		from->stats[w->id][DP_E_RX_PACKETS] += n;
		from->stats[w->id][DP_E_RX_BYTES] += sum.bytes;
		if (unlikely(sum.ol & RTE_MBUF_F_RX_LRO)) {
			sum.ol = 0;
			for (unsigned i = 0; i < n; i++) {
				from->stats[w->id][DP_E_RX_LRO] +=
				    !!(pkts[i]->ol_flags & RTE_MBUF_F_RX_LRO);
				dp_eth_rx_lro(pkts[i]);
				sum.ol |= pkts[i]->ol_flags;
			}
		}
		if (unlikely(from->csum_partial)) {
			unsigned k = 0;

			for (unsigned i = 0; i < n; i++) {
				int r = dp_eth_rx_partial(pkts[i]);

				if (unlikely(r < 0)) {
					from->stats[w->id][DP_E_RX_CUT]++;
					sum.bytes -= pkts[i]->pkt_len;
					rte_pktmbuf_free(pkts[i]);
					continue;
				}
				if (r > 0) {
					from->stats[w->id][DP_E_RX_PARTIAL]++;
					sum.ol |= pkts[i]->ol_flags;
				}
				pkts[k] = pkts[i];
				f[k++] = f[i];
			}
			n = k;
			if (!n)
				return;
		}
	}
	if (unlikely(dp_tap_on(w->dp, (unsigned)in))) {
		unsigned k = dp_cut_settle_maybe(w, pkts, n);

		if (k != n) {
			/* Frames whose copy failed left: the rest again. */
			sum.bytes = 0;
			for (unsigned i = 0; i < k; i++) {
				f[i].data = rte_pktmbuf_mtod(pkts[i],
							     const uint8_t *);
				f[i].len = pkts[i]->data_len;
				sum.bytes += pkts[i]->pkt_len;
			}
			n = k;
			if (!n)
				return;
		}
		dp_tap_capture(w->dp, (unsigned)in, pkts, n, false);
	}
	n = sw_forward_group(sw, in, f, n, dp_tsc_ms(w->tsc), res, &g);

	/* The common burst: all of it to one port, as it is. */
	if (g.ndest == 1 && g.dest[0].n == n && !(g.flags & SW_F_RETAG)) {
		deliver(w, g.dest[0].port, pkts, n, &sum);
		return;
	}
	for (unsigned i = 0; i < g.ndrop; i++)
		rte_pktmbuf_free(pkts[g.drop[i]]);
	/* Each destination gets its frames at once, in order. */
	for (unsigned d = 0; d < g.ndest; d++) {
		unsigned k = 0;

		for (unsigned j = 0; j < g.dest[d].n; j++) {
			unsigned i = g.idx[g.dest[d].first + j];
			struct rte_mbuf *m = pkts[i];

			if ((res[i].flags & SW_F_RETAG) &&
			    !retag(m, res[i].flags & SW_F_TAGGED,
				   res[i].tag)) {
				rte_pktmbuf_free(m);
				continue;
			}
			batch[k++] = m;
		}
		if (k)
			deliver(w, g.dest[d].port, batch, k, NULL);
	}
	for (unsigned i = 0; i < g.nflood; i++) {
		unsigned fi = g.flood[i];

		flood(w, in, pkts[fi], &res[fi]);
	}
}

void
dp_fwd_from_vif(struct dp_worker *w, struct dp_vif *v, struct rte_mbuf **pkts,
		unsigned n)
{
	/* Read once: control may move the vif to another port meanwhile. */
	int port = __atomic_load_n(&v->sw_port, __ATOMIC_RELAXED);

	if (port < 0) {
		rte_pktmbuf_free_bulk(pkts, n);
		return;
	}
	fwd_burst(w, port, NULL, pkts, n);
}

void
dp_fwd_from_eth(struct dp_worker *w, struct dp_eth *e, struct rte_mbuf **pkts,
		unsigned n)
{
	fwd_burst(w, e->sw_port, e, pkts, n);
}
