/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The data path's own header: the worker, and the calls its files make
 * to each other. Every function here runs on a worker.
 *
 * One frame from a guest's TX ring to a DPDK port, top to bottom:
 *   worker.c  worker_main(): a pass over every owned queue and port
 *   tx.c      dp_tx_plan(): requests -> credit -> mbufs and their grant
 *             copies (of a long packet only its head: struct dp_cut),
 *             added to the pass's batch
 *   worker.c  batch_flush(): one hv_copy for the batch (this TX burst
 *             and the RX bursts planned beside it)
 *   tx.c      dp_tx_finish(): forward -> guests here that took cut
 *             packets receive -> responses, a notification owed
 *   forward.c dp_fwd_from_vif(): the switch picks destinations for the
 *             whole burst, each destination gets its frames at once
 *   eth.c     dp_deliver_eth(): offloads if a frame needs one, then
 *             rte_eth_tx_burst() on the worker's TX queue (its own, or
 *             shared under a lock where the port has too few)
 * and the other way: eth.c dp_eth_poll() -> forward.c -> rx.c
 * dp_deliver_vif() (RX backlog here, or the owner's transfer ring) ->
 * rx.c dp_rx_plan() (the guest's posted buffers taken, grant copies
 * into them added to the next pass's batch) -> batch_flush() ->
 * dp_rx_finish() (responses).
 */
#ifndef NETBACKD_DP_PRIV_H
#define NETBACKD_DP_PRIV_H

#include <rte_gso.h>

#include "dp.h"

/* Guest queues a worker can own. */
#define DP_MAX_QUEUES_W 4096u

/* A DPDK port's RX queue a worker polls. */
struct dp_eth_rxq {
	struct dp_eth *eth;
	uint16_t qid;
	int intr_fd; /* readable when packets wait, or -1: polled */
	/* intr_fd is an eventfd the port signals once per interrupt
	 * (virtio-user: vhost's call fd), not a level: watched
	 * edge-triggered and never read, and the queue is polled once
	 * after arming (what came before raised no interrupt). */
	bool edge;
	/* intr_fd needs no arming (a packet socket's readiness). */
	bool noarm;
	/* A port with RX interrupts that keeps coming back empty is
	 * polled ever less often while the worker is awake (1, 3, 7, then
	 * every DP_PORT_SKIP_MAX + 1 passes): with net_tap each poll is a
	 * read(), in a PV dom0 a trap through Xen, and a worker busy with
	 * guest-to-guest traffic polled an idle tap at every pass. A poll
	 * that brings packets, or a sleep (its interrupt wakes us), starts
	 * over at every pass. */
	uint8_t skip, wait;
};
#define DP_PORT_SKIP_MAX 15u

enum dp_cmd_op {
	DP_CMD_ADD_QUEUE = 1,
	DP_CMD_DEL_QUEUE,
	DP_CMD_ADD_ETHQ, /* poll RX queue qid of eth */
	DP_CMD_DEL_ETH,  /* stop polling every RX queue of eth */
	DP_CMD_STOP,
};

struct dp_cmd {
	enum dp_cmd_op op;
	struct dp_queue *q;
	struct dp_eth *eth;
	uint16_t qid;
	atomic_int done; /* the worker sets 1 (or -errno) when handled */
};

/*
 * A cut packet: a guest's TX packet longer than DP_TX_CUT_MIN whose mbuf
 * holds only its first DP_TX_HEAD bytes, enough for the switch; the rest
 * stays in the sender's granted pages (w->txb.slots), and a guest on the
 * same worker receives it by grant copies from those pages straight into
 * its own: the data never crosses this process. The sender's response
 * waits until then, at the end of its TX burst (dp_tx_finish). Anywhere
 * else the packet goes (a port, a tap, a flood, another worker, a guest
 * that needs its checksum done or the packet segmented) it is completed
 * first (dp_cut_settle): the rest copied into mbufs, as every packet was
 * before. The mbuf says it is cut with the dynamic flag dp_cut_flag and
 * its index + 1 in w->cut in its private area (after the xfer
 * destination); no cut packet outlives its TX burst.
 *
 * The rest's grants are not read ahead: a bad one fails the grant-to-
 * grant copy, whose status cannot say whose grant it was; the receiver
 * gets an error response for the packet, a byte read from each of the
 * sender's pages then tells (cut_probe), and a sender found at fault
 * answers ERROR and is never cut again (dp_queue.cut_never). So a guest
 * that names bad grants costs another guest one errored packet at most,
 * where reading every page ahead cost every long packet a copy segment
 * a page (a third of a TCP stream's segments).
 */
#define DP_TX_HEAD 512u
#define DP_TX_CUT_MIN 2048u
/* TX bursts a queue sends whole after one whose cut packets all had to
 * be completed (their guests were elsewhere): they would only have
 * cost a second copy call. */
#define DP_TX_CUT_PAUSE 64u

struct dp_cut {
	struct rte_mbuf *m;
	uint16_t pkt;  /* the packet's index in w->txb.pkts */
	uint16_t slot; /* where its rest starts: the slot in w->txb.slots */
	uint16_t off;  /* and the offset in that slot's page */
	uint32_t rest; /* bytes of the rest */
	bool failed;   /* the copy from its sender failed: answered ERROR */
	bool nomem;    /* no mbufs to complete it: answered DROPPED */
	bool direct;   /* reached a guest by grant-to-grant copy */
	bool rx_failed; /* that copy failed (whose grant: probed after) */
};

extern uint64_t dp_cut_flag;
#define DP_MAX_CUT_DESTS RING_TX_BURST_PKTS

/*
 * A burst of a queue's RX backlog planned into the guest's posted
 * buffers (rx.c), its copy segments w->segs[seg0, nsegs): answered
 * after the pass's copy call.
 */
struct dp_rx_plan {
	struct dp_queue *q;
	struct ring_rx_buf bufs[RING_RX_SIZE];
	uint16_t slot_len[RING_RX_SIZE];
	struct rte_mbuf *pkt[DP_BURST];
	unsigned slots[DP_BURST];   /* buffers taken, 0: dropped (too big) */
	unsigned seg_end[DP_BURST]; /* one past its last copy segment */
	uint32_t hash[DP_BURST];
	uint8_t htype[DP_BURST];
	bool hashed[DP_BURST];
	unsigned npk, taken, seg0, nsegs;
	bool full;   /* stopped where the batch had no room */
	uint16_t hr; /* xdp-headroom */
};
/* RX bursts one copy call may carry. */
#define DP_RX_PLANS 8u

/* A TX burst read and planned (tx.c), answered after the copy call. */
struct dp_tx_plan {
	struct dp_queue *q; /* NULL: none */
	int n;              /* requests read */
	int nsegs;          /* its segments end here, or -ENOMEM */
	unsigned seg0;
	struct rte_mbuf *heads[RING_TX_BURST_PKTS];
	unsigned seg_end[RING_TX_BURST_PKTS];
};

struct dp_worker {
	unsigned id;
	unsigned lcore;
	struct dp *dp;
	struct hv_evtchn *evh; /* event channels of this worker's queues */
	/* Its wake-up: a channel from dp.kick_evh (kick_port there) to a
	 * port of evh, so that a worker with nothing but event channels
	 * to wait for sleeps in one blocking read of evh. */
	uint32_t kick_port;
	/* Ports the last wake-up read, unmasked before the next sleep. */
	uint32_t unmask[DP_EVT_BURST];
	unsigned nunmask;
	int epfd;
	struct rte_ring *cmds; /* struct dp_cmd *, control -> worker */
	struct rte_ring *xfer; /* mbufs for our queues from other workers */
	struct rte_mempool *pool;
	/* mbufs the RX backlogs of our queues may hold together (the
	 * pool / DP_RX_POOL_SHARE / workers), shared out in quotas. */
	unsigned rx_budget;
	unsigned nq;
	unsigned rr;    /* the queue served first this pass (round robin) */
	unsigned nheld; /* queues whose event channels are held masked */
	struct dp_storm_rule evt_rule; /* DP_EVT_* in TSC cycles */
	struct dp_queue **queues;   /* owned, at most DP_MAX_QUEUES_W */
	struct dp_queue **by_evtchn; /* local event channel -> queue */
	atomic_bool asleep;
	bool launched;
	unsigned nrxq;
	struct dp_eth_rxq rxq[DP_MAX_ETHS];
	bool poll_ports; /* a port without RX interrupts: nap, don't sleep */
	unsigned nap_ms; /* the next nap's length, 1..DP_NAP_MAX_MS */
	/* Scratch, fixed at start: nothing is allocated per packet. */
	struct ring_tx_burst txb;
	/*
	 * The pass's copy batch: one TX burst and up to DP_RX_PLANS RX
	 * bursts planned, their segments segs[0, nsegs), then one hv_copy
	 * for all (worker.c batch_flush) before any is answered. A pass
	 * that has a guest to read and one to fill makes one system call
	 * for both, not one each.
	 */
	xengnttab_grant_copy_segment_t segs[DP_COPY_BATCH];
	unsigned nsegs;
	struct dp_tx_plan txp;
	struct dp_rx_plan *rxp; /* DP_RX_PLANS of them */
	unsigned nrxp;
	struct rte_gso_ctx gso; /* software segmentation */
	/* The current TX burst's cut packets, the queues of this worker
	 * whose backlogs took some, and the segments that complete them. */
	struct dp_cut cut[RING_TX_BURST_PKTS];
	unsigned ncut, ncut_dest;
	struct dp_queue *cut_q; /* their sender's queue */
	uint8_t probe[RTE_CACHE_LINE_SIZE]; /* where probes write (tx.c) */
	struct dp_queue *cut_dest[DP_MAX_CUT_DESTS];
	xengnttab_grant_copy_segment_t csegs[DP_COPY_BATCH];
	/* Packets that went guest to guest by grant-to-grant copy, and cut
	 * packets that had to be completed here after all. */
	uint64_t copy_direct, cut_settled;
	/* Totals for status and benchmarks (dp_worker_totals). */
	uint64_t copy_calls, copy_segs, notifies, wakeups;
	uint64_t copy_static; /* pieces copied through static grants */
	/* What the copies cost on Xen in hypercalls (gntdev issues one per
	 * DP_GNTDEV_BATCH segments), and the other system calls a worker
	 * makes there: its sleeps in epoll_wait (those not in the evtchn
	 * handle's read) and its notifications waking other workers. With
	 * the evtchn handle's calls and the copies, every system call of
	 * the data path. Arming and disarming the ports' RX interrupts
	 * (intr_calls) is a memory write with tap and virtio-user, a system
	 * call with some PMDs: counted apart. */
	uint64_t copy_hypercalls, epoll_waits, kicks, intr_calls;
	uint64_t port_polls; /* port RX polls (with tap, reads) */
	uint64_t busy_cycles; /* TSC cycles of loop passes that did work */
	uint64_t tsc;         /* read at the start of this pass */
	/* Queues owed a notification (dp_notify), at most nq, and the pass
	 * the oldest was owed since (TSC). */
	struct dp_queue **ntfy;
	unsigned nntfy;
	uint64_t ntfy_tsc;
};

/*
 * What the receiving side learnt of a burst while it looked at each mbuf
 * once: the sum of pkt_len and the OR of ol_flags. A burst that goes out
 * whole need not be looked at again.
 */
struct dp_burst_sum {
	uint64_t bytes;
	uint64_t ol;
};

/* Linux gntdev splits a grant-copy ioctl into hypercalls of this many
 * segments (drivers/xen/gntdev.c, its copy batch). */
#define DP_GNTDEV_BATCH 16u

/* Copy segs[0..n): one hv_copy() call, counted. */
static inline void
dp_copy_segs(struct dp_worker *w, xengnttab_grant_copy_segment_t *segs,
	     uint32_t n)
{
	w->copy_calls++;
	w->copy_segs += n;
	w->copy_hypercalls += (n + DP_GNTDEV_BATCH - 1) / DP_GNTDEV_BATCH;
	hv_copy(w->dp->hv, n, segs);
}

/* Copy w->segs[0..n). */
static inline void
dp_copy(struct dp_worker *w, uint32_t n)
{
	dp_copy_segs(w, w->segs, n);
}

/* The cut packet m is, or NULL (tx.c). */
static inline struct dp_cut *
dp_cut_of(struct dp_worker *w, const struct rte_mbuf *m)
{
	if (__builtin_expect(!(m->ol_flags & dp_cut_flag), 1))
		return NULL;
	uint32_t i = ((const uint32_t *)rte_mbuf_to_priv(
	    (struct rte_mbuf *)(uintptr_t)m))[2];

	if (i == 0 || i > w->ncut || w->cut[i - 1].m != m)
		return NULL;
	return &w->cut[i - 1];
}

/* tx.c: complete the cut packets among pkts[0..n) (their rest copied
 * into mbufs, one copy call for all); those whose copy failed are freed
 * and the others kept in order. The count kept. */
unsigned dp_cut_settle(struct dp_worker *w, struct rte_mbuf **pkts,
		       unsigned n);
/* The cut packets of pkts[0..n), if any, completed. */
static inline unsigned
dp_cut_settle_maybe(struct dp_worker *w, struct rte_mbuf **pkts, unsigned n)
{
	return __builtin_expect(w->ncut != 0, 0) ? dp_cut_settle(w, pkts, n)
						 : n;
}
/* The rest of cut packet c piece by piece, as its sender's slots hold
 * it: fn(arg, gref, offset, len) for each, in order. */
void dp_cut_pieces(const struct dp_worker *w, const struct dp_cut *c,
		   void (*fn)(void *arg, uint32_t gref, uint16_t off,
			      uint16_t len),
		   void *arg);
/* Register dp_cut_flag (once; without it nothing is cut). */
int dp_cut_init(void);

/* worker.c */
/* Mark q broken (the guest violated the protocol); control disconnects
 * its vif. Only the first reason is kept. */
void dp_queue_fatal(struct dp_worker *w, struct dp_queue *q, const char *why);
/*
 * Queue q's frontend is owed a notification of new TX (DP_NOTIFY_TX) or
 * RX (DP_NOTIFY_RX) responses. Sent by dp_notify_flush() when the pass
 * is over: once a port, however many bursts of the pass answered it.
 */
enum { DP_NOTIFY_TX = 1, DP_NOTIFY_RX = 2 };
void dp_notify(struct dp_worker *w, struct dp_queue *q, unsigned which);
void dp_notify_flush(struct dp_worker *w);
/* The destination queue of an mbuf crossing to another worker. */
static inline struct dp_queue **
dp_mbuf_dest(struct rte_mbuf *m)
{
	return (struct dp_queue **)rte_mbuf_to_priv(m);
}

/* evtchn.c: count n delivered ports (at most DP_EVT_BURST) and keep
 * them to unmask unless their queue storms (then held masked);
 * dp_evt_unmask() unmasks the kept ones, before the next sleep.
 * dp_evt_drain() reads them first (the fd polled readable); the count.
 * dp_evt_release_due() unmasks the queues whose hold is over. */
void dp_evt_take(struct dp_worker *w, const uint32_t *ports, unsigned n);
void dp_evt_unmask(struct dp_worker *w);
unsigned dp_evt_drain(struct dp_worker *w);
/* worker.c: wake w if it sleeps, after queueing work for it (from: the
 * worker that queued, NULL from control). */
void dp_worker_kick(struct dp_worker *from, struct dp_worker *w);
void dp_evt_release_due(struct dp_worker *w);

/* tx.c: guest TX, ring -> mbufs -> switch. dp_tx_plan() reads a burst
 * of q's requests into w->txp, its copies added to the pass's batch
 * (w->segs from w->nsegs on); the requests read. After the batch's
 * copy call, dp_tx_finish() checks them, forwards the packets and
 * answers the requests. */
unsigned dp_tx_plan(struct dp_worker *w, struct dp_queue *q);
void dp_tx_finish(struct dp_worker *w);

/* rx.c: guest RX, backlog -> grant copies into posted buffers.
 * dp_rx_plan() takes buffers for a burst of q's backlog, its copies
 * added to the pass's batch: the packets planned, 0 if none, -1 if the
 * batch has no room (copy and answer it, then plan again).
 * dp_rx_finish() answers every planned burst after the batch's copy
 * call. dp_rx_queue() does the three for one queue at once, with no
 * batch pending: the packets handed to the guest. */
int dp_rx_plan(struct dp_worker *w, struct dp_queue *q);
void dp_rx_finish(struct dp_worker *w);
unsigned dp_rx_queue(struct dp_worker *w, struct dp_queue *q);
/* Put n mbufs into q's RX backlog (q is ours); what does not fit (in
 * packets, mbufs or bytes) is dropped and counted. */
void dp_backlog_put(struct dp_queue *q, struct rte_mbuf **pkts, unsigned n,
		    uint64_t now_ms);
/* Does q's backlog hold a cut packet? Complete those it holds (the
 * ones whose copy failed leave it). */
bool dp_backlog_has_cut(struct dp_worker *w, const struct dp_queue *q);
void dp_backlog_settle(struct dp_worker *w, struct dp_queue *q);
/* Free q's whole backlog (q leaves its worker). */
void dp_backlog_flush(struct dp_queue *q);
/* Share the worker's RX budget between its queues (they changed). */
void dp_rx_quotas(struct dp_worker *w);
/* Take an xfer frame's mbufs off what is in flight to q (owner). */
static inline void
dp_xfer_got(struct dp_queue *q, uint32_t segs)
{
	uint32_t v = atomic_load_explicit(&q->xfer_got, memory_order_relaxed);

	/* Release: a sender that sees this sees the mbufs left the ring. */
	atomic_store_explicit(&q->xfer_got, v + segs, memory_order_release);
}
/* Frames for guest vif v: segmented if it cannot take GSO, spread over
 * its queues by flow, queued here or on the owning worker. */
void dp_deliver_vif(struct dp_worker *w, struct dp_vif *v,
		    struct rte_mbuf **pkts, unsigned n);
uint32_t dp_flow_hash(const struct rte_mbuf *m);

/* forward.c: a burst that entered on a vif / on a DPDK port (counted
 * as the port's RX). */
void dp_fwd_from_vif(struct dp_worker *w, struct dp_vif *v,
		     struct rte_mbuf **pkts, unsigned n);
void dp_fwd_from_eth(struct dp_worker *w, struct dp_eth *e,
		     struct rte_mbuf **pkts, unsigned n);

/* eth.c: DPDK port I/O and offloads. */
/* Poll one RX queue and forward what came. */
unsigned dp_eth_poll(struct dp_worker *w, struct dp_eth_rxq *rq);
/* A frame the port coalesced (RTE_MBUF_F_RX_LRO) becomes a GSO packet. */
void dp_eth_rx_lro(struct rte_mbuf *m);
/*
 * A frame from a packet socket (dp_eth.csum_partial), which hands over
 * the kernel's packets as they are: 1 if its TCP/UDP checksum is
 * unfinished (CHECKSUM_PARTIAL: the field holds the pseudo-header's
 * sum), now flagged RTE_MBUF_F_RX_L4_CKSUM_NONE, to be finished (or
 * passed as csum_blank) where it leaves, as a guest's would be; -1 if
 * its IP length runs past what arrived (a GSO or GRO packet the socket
 * cut to one frame: to be dropped); 0 otherwise.
 */
int dp_eth_rx_partial(struct rte_mbuf *m);
/* Send a burst on the worker's TX queue of e (frees what it can't);
 * sum: the burst's, or NULL. */
void dp_deliver_eth(struct dp_worker *w, struct dp_eth *e,
		    struct rte_mbuf **pkts, unsigned n,
		    const struct dp_burst_sum *sum);
/* Complete a checksum the guest left blank (NETTXF_csum_blank). */
void dp_csum_complete(struct rte_mbuf *m);
/* A GSO packet (RTE_MBUF_F_TX_TCP_SEG)? */
static inline bool
dp_is_gso(const struct rte_mbuf *m)
{
	return (m->ol_flags & RTE_MBUF_F_TX_TCP_SEG) != 0;
}
/*
 * Segment a GSO packet in software into at most max frames with their
 * checksums complete; m is consumed. Returns the count (0: dropped).
 */
unsigned dp_gso_split(struct dp_worker *w, struct rte_mbuf *m,
		      struct rte_mbuf **out, unsigned max);

/* tap.c: copy pkts, which switch port `port` sends (out) or sent us,
 * into the taps watching it. */
void dp_tap_capture(struct dp *dp, unsigned port, struct rte_mbuf **pkts,
		    unsigned n, bool out);
static inline bool
dp_tap_on(struct dp *dp, unsigned port)
{
	return __builtin_expect(atomic_load_explicit(&dp->tap_mask[port],
						     memory_order_relaxed) != 0,
				0);
}
/* The taps copy whole frames: cut packets are completed first. The
 * count of pkts left (a cut packet whose copy failed is gone). */
static inline unsigned
dp_tap_maybe(struct dp_worker *w, unsigned port, struct rte_mbuf **pkts,
	     unsigned n, bool out)
{
	if (dp_tap_on(w->dp, port)) {
		n = dp_cut_settle_maybe(w, pkts, n);
		dp_tap_capture(w->dp, port, pkts, n, out);
	}
	return n;
}

#endif
