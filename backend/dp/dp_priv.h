/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The data path's own header: the worker, and the calls its files make
 * to each other. Every function here runs on a worker.
 *
 * One frame from a guest's TX ring to a DPDK port, top to bottom:
 *   worker.c  worker_main(): a pass over every owned queue and port
 *   tx.c      dp_tx_queue(): requests -> credit -> grant copies into
 *             mbufs (one hv_copy per burst) -> responses, one notify
 *   forward.c dp_fwd_from_vif(): the switch picks destinations for the
 *             whole burst, each destination gets its frames at once
 *   eth.c     dp_deliver_eth(): offloads if a frame needs one, then
 *             rte_eth_tx_burst() on the worker's TX queue (its own, or
 *             shared under a lock where the port has too few)
 * and the other way: eth.c dp_eth_poll() -> forward.c -> rx.c
 * dp_deliver_vif() (RX backlog here, or the owner's transfer ring) ->
 * rx.c dp_rx_queue() (grant copies into the guest's posted buffers).
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

struct dp_worker {
	unsigned id;
	unsigned lcore;
	struct dp *dp;
	struct hv_evtchn *evh; /* event channels of this worker's queues */
	int epfd, wakefd;
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
	xengnttab_grant_copy_segment_t segs[DP_COPY_BATCH];
	struct rte_gso_ctx gso; /* software segmentation */
	/* Totals for status and benchmarks (dp_worker_totals). */
	uint64_t copy_calls, copy_segs, notifies, wakeups;
	uint64_t copy_static; /* pieces copied through static grants */
	/* What the copies cost on Xen in hypercalls (gntdev issues one per
	 * DP_GNTDEV_BATCH segments), and the other system call a worker
	 * makes there: reading its wake-up eventfd. With the evtchn
	 * handle's calls, the copies and one epoll_wait per wake-up, every
	 * system call of the data path. Arming and disarming the ports' RX
	 * interrupts (intr_calls) is a memory write with tap and
	 * virtio-user, a system call with some PMDs: counted apart. */
	uint64_t copy_hypercalls, wakefd_reads, intr_calls;
	uint64_t port_polls; /* rte_eth_rx_burst calls (with tap, reads) */
	uint64_t busy_cycles; /* TSC cycles of loop passes that did work */
	uint64_t tsc;         /* read at the start of this pass */
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

/* Copy w->segs[0..n): one hv_copy() call, counted. */
static inline void
dp_copy(struct dp_worker *w, uint32_t n)
{
	w->copy_calls++;
	w->copy_segs += n;
	w->copy_hypercalls += (n + DP_GNTDEV_BATCH - 1) / DP_GNTDEV_BATCH;
	hv_copy(w->dp->hv, n, w->segs);
}

/* worker.c */
/* Mark q broken (the guest violated the protocol); control disconnects
 * its vif. Only the first reason is kept. */
void dp_queue_fatal(struct dp_worker *w, struct dp_queue *q, const char *why);
void dp_notify(struct dp_worker *w, int evtchn);
/* The destination queue of an mbuf crossing to another worker. */
static inline struct dp_queue **
dp_mbuf_dest(struct rte_mbuf *m)
{
	return (struct dp_queue **)rte_mbuf_to_priv(m);
}

/* evtchn.c: read up to DP_EVT_BURST delivered ports, count them and
 * unmask them unless their queue storms (then held masked); the count.
 * dp_evt_release_due() unmasks the queues whose hold is over. */
unsigned dp_evt_drain(struct dp_worker *w);
void dp_evt_release_due(struct dp_worker *w);

/* tx.c: guest TX, ring -> mbufs -> switch. Requests handled. */
unsigned dp_tx_queue(struct dp_worker *w, struct dp_queue *q);

/* rx.c: guest RX, backlog -> grant copies into posted buffers. Packets
 * handed to the guest. */
unsigned dp_rx_queue(struct dp_worker *w, struct dp_queue *q);
/* Put n mbufs into q's RX backlog (q is ours); what does not fit (in
 * packets, mbufs or bytes) is dropped and counted. */
void dp_backlog_put(struct dp_queue *q, struct rte_mbuf **pkts, unsigned n,
		    uint64_t now_ms);
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
static inline void
dp_tap_maybe(struct dp *dp, unsigned port, struct rte_mbuf **pkts,
	     unsigned n, bool out)
{
	if (__builtin_expect(atomic_load_explicit(&dp->tap_mask[port],
						  memory_order_relaxed) != 0,
			     0))
		dp_tap_capture(dp, port, pkts, n, out);
}

#endif
