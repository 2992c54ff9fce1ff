/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dp: the data path. Workers (DPDK worker lcores) run guest queues and
 * DPDK port queues to completion: a guest's TX ring, grant copies into
 * mbufs, the switch, and the destination's RX backlog or a DPDK port,
 * all a burst at a time.
 *
 * The data path knows nothing of xenstore, configuration files or the
 * control socket. The control plane (ctl/) fills struct dp, dp_vif,
 * dp_queue and dp_eth, then hands them over with the calls below; the
 * management plane (mgmt/) reaches workers only through the capture taps
 * (dp_tap_*). Every call here is made by the control thread unless it
 * says "worker".
 *
 * Handing over. A queue or a port's RX queue goes to a worker through
 * the worker's command ring; the call returns once the worker took it
 * (or refused it). An object other workers may still reach (a vif as a
 * switch destination) is freed by control only after an RCU grace
 * period (dp->rcu), in which every worker passed its quiescent point or
 * was asleep.
 *
 * Errors are negative errno values.
 */
#ifndef NETBACKD_DP_H
#define NETBACKD_DP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <rte_spinlock.h>

#include "ctrl.h"
#include "hv.h"
#include "log.h"
#include "ring.h"
#include "sw.h"

/*
 * The unit of work: packets taken from one ring, one port or one
 * transfer ring at a time. The ring and switch burst limits are tied
 * to it so that a burst never has to be cut between them.
 */
#define DP_BURST 32u
_Static_assert(DP_BURST == RING_TX_BURST_PKTS,
	       "a guest TX burst is a data-path burst");
_Static_assert(DP_BURST <= SW_MAX_BURST,
	       "the switch takes a data-path burst in one call");
/* Workers at most (dp_eth keeps counters per worker). */
#define DP_MAX_WORKERS 16u
/* Queues of one vif at most. */
#define DP_MAX_QUEUES 16u
/* A DPDK port's devargs, with the NUL. */
#define DP_DEVARGS_MAX 256u
/* Packets waiting for RX buffers, per queue (kernel netback: ~ring size). */
#define DP_RX_BACKLOG 512u
/*
 * The RX backlog is bounded in packets, in bytes (rx-queue-bytes, as
 * kernel netback since XSA-392) and in mbufs, the shared pool's unit:
 * a 64 KiB packet holds 33 of them, so 512 packets could hold more than
 * the whole pool and starve every other guest's TX. A queue's mbuf
 * quota (rx-queue-mbufs = auto) is its worker's share of the pool split
 * between the worker's queues, at most DP_RX_QUEUE_MBUFS and at least
 * DP_RX_MIN_MBUFS (one 64 KiB packet fits): the backlogs of all workers
 * together hold at most 1/DP_RX_POOL_SHARE of the pool however many
 * guests stop taking RX, and the rest stays for TX, flooding and
 * segmentation. A quota, not a reserve or pools of their own: it costs
 * a compare per packet on the owner, and needs no pool per guest sized
 * for its worst case. rx-queue-mbufs = N gives every queue N instead:
 * the operator then sizes the pool for it.
 */
#define DP_RX_POOL_SHARE 2u
#define DP_RX_MIN_MBUFS 64u
#define DP_RX_QUEUE_MBUFS DP_RX_BACKLOG
/* Grant-copy segments a worker gathers before one hv_copy(). */
#define DP_COPY_BATCH 2048u
/* Local event-channel ports a worker can look up directly. */
#define DP_MAX_EVTCHN (1u << 17)
#define DP_MAX_SW_PORTS 4096u
/* DPDK ports, all networks together */
#define DP_MAX_ETHS 64u
/* Segments one GSO packet may become (64 KiB at the smallest MSS). */
#define DP_GSO_MAX_SEGS 128u
/* Destinations a flooded frame reaches at most (ports of a network). */
#define DP_MAX_FLOOD 256u
/* xdp-headroom we honour at most (netfront asks for 256). */
#define DP_MAX_XDP_HEADROOM 2048u
/* Longest nap of a worker polling ports without RX interrupts, idle. */
#define DP_NAP_MAX_MS 16u
/*
 * Event storms (XSA-332): a worker takes at most DP_EVT_BURST event
 * ports from its handle a pass (the rest stay readable for the next).
 * A queue that brought DP_EVT_STORM_MIN events or more in a window of
 * DP_EVT_WINDOW_MS, over DP_EVT_STORM_RATIO times the requests it
 * consumed (+1), is a guest ringing for nothing: its ports stay masked
 * for a hold of 1 ms, doubled while it goes on, DP_EVT_HOLD_MAX_MS at
 * most, while the worker polls its rings. An honest netfront notifies
 * once per batch of new requests (req_event), far below the ratio.
 */
#define DP_EVT_BURST 64u
#define DP_EVT_WINDOW_MS 10u
#define DP_EVT_STORM_MIN 16u
#define DP_EVT_STORM_RATIO 4u
#define DP_EVT_HOLD_MAX_MS 64u

/*
 * A notifier that rings for nothing (XSA-332 class), in the caller's
 * time unit: events are counted against the work they brought, per
 * window; min events or more, over ratio times the work (+1), are a
 * storm, held off for hold_first, doubled while it goes on, hold_max
 * at most. A window that ended calm forgives earlier holds; until then
 * (on probation after a hold) ratio events for nothing are enough.
 * Pure: the caller masks and unmasks. Workers count in TSC cycles and
 * DP_EVT_*, the control thread its control rings in ms.
 */
struct dp_storm_rule {
	uint64_t window;
	uint32_t min, ratio;
	uint64_t hold_first, hold_max;
};

struct dp_storm {
	uint64_t window, until; /* this window's start; the hold's end */
	uint32_t events, work;  /* in this window */
	uint64_t hold;          /* the last hold, 0: none since a calm one */
	bool held;
};

/* One more event at now, which brought work (or the caller adds to
 * s->work as work is done): true when it makes a storm, then held until
 * s->until. */
bool dp_storm_event(struct dp_storm *s, const struct dp_storm_rule *r,
		    uint64_t now, uint32_t work);
/* The hold is over (the caller unmasks): a fresh window from now. */
void dp_storm_release(struct dp_storm *s, uint64_t now);
/* Capture sessions at once. */
#define DP_MAX_TAPS 4u

/* Per-queue counters: one X-macro gives the enum and the names. */
#define DP_QSTATS(X)                                                        \
	X(TX_PACKETS, "tx_packets")                                         \
	X(TX_BYTES, "tx_bytes")                                             \
	X(TX_ERRORS, "tx_errors")                                           \
	X(TX_DROP_COPY, "tx_drop_copy_failed")                              \
	X(TX_DROP_NOMBUF, "tx_drop_no_mbuf")                                \
	X(RX_PACKETS, "rx_packets")                                         \
	X(RX_BYTES, "rx_bytes")                                             \
	X(RX_DROP_BACKLOG, "rx_drop_backlog_full")                          \
	X(RX_DROP_COPY, "rx_drop_copy_failed")                              \
	X(RX_DROP_TOO_BIG, "rx_drop_too_big")                               \
	X(NOTIFY_TX, "notify_tx")                                           \
	X(NOTIFY_RX, "notify_rx")                                           \
	X(EVENTS, "events")                                                 \
	X(MCAST_OPS, "mcast_ops")                                           \
	X(TX_THROTTLED, "tx_throttled")                                     \
	X(RX_DROP_EXPIRED, "rx_drop_expired")                               \
	X(RX_DROP_STALLED, "rx_drop_stalled")                               \
	X(RX_STALLS, "rx_stalls")                                           \
	X(EVTCHN_THROTTLED, "evtchn_throttled")

enum dp_qstat {
#define DP_X_ENUM(e, s) DP_Q_##e,
	DP_QSTATS(DP_X_ENUM)
#undef DP_X_ENUM
	DP_Q_TX_DROP_FIRST,
	/* then one per ring TX drop reason */
	DP_Q_COUNT = DP_Q_TX_DROP_FIRST + RING_TX_DROP_COUNT,
};
const char *dp_qstat_name(unsigned i);

struct dp_worker;
struct dp_vif;

/* One queue pair of a vif: its TX and RX rings and their channels. */
struct dp_queue {
	struct dp_vif *vif;
	unsigned id;
	struct dp_worker *worker;
	void *tx_page, *rx_page; /* mapped ring pages */
	struct ring_txq tx;
	struct ring_rxq rx;
	/* The frontend's event channels, and ours once the worker bound
	 * them; equal when the frontend shares one channel. */
	uint32_t tx_remote_evtchn, rx_remote_evtchn;
	bool split;
	int tx_evtchn, rx_evtchn;
	/* Set by the worker on a protocol violation; control disconnects. */
	atomic_bool fatal;
	char fatal_msg[96];
	/* Packets waiting for RX buffers, a ring of mbufs, and when each
	 * came (ms): older than rx-drain-timeout, they are dropped. */
	unsigned bl_head, bl_count;
	struct rte_mbuf *backlog[DP_RX_BACKLOG];
	uint64_t bl_ms[DP_RX_BACKLOG];
	/* What the backlog holds, against its bounds (see DP_RX_BACKLOG):
	 * mbufs (segments) and bytes (pkt_len). The owner's. */
	unsigned bl_mbufs;
	uint64_t bl_bytes;
	/* Written by the owner alone (plain stores: relaxed, no
	 * read-modify-write), read by the workers that queue frames to
	 * it through its xfer ring: the mbuf quota (set when the owner's
	 * queues change), bl_mbufs as of its last burst, and the mbufs
	 * of xfer frames it took so far (xfer_sent below less this is
	 * what is in flight to the queue). */
	_Atomic uint32_t rx_quota, bl_mbufs_pub, xfer_got;
	/* Last time the guest took a packet (or the backlog started). No
	 * room for rx-stall-timeout: stalled (carrier off), everything
	 * for the queue is dropped until buffers come back. */
	uint64_t rx_progress_ms;
	bool stalled;
	/* TX rate limit: bytes the guest may still send, and when the
	 * next credit comes (TSC). */
	uint64_t credit, credit_at;
	bool throttled;
	/* TX bursts left to send whole, not cut (DP_TX_CUT_PAUSE). */
	uint8_t cut_pause;
	/* A cut packet of its guest named a bad grant in its rest: its
	 * packets are copied whole from then on (tx.c, cut_finish). */
	bool cut_never;
	/* Notifications owed to its frontend, sent once the worker's pass
	 * is over (DP_NOTIFY_TX | DP_NOTIFY_RX; worker only, dp_notify). */
	uint8_t ntfy;
	/* Its guest's events against the requests they brought (worker
	 * only, TSC, DP_EVT_*). */
	struct dp_storm evt;
	/* Written by the owning worker only: plain adds on its fast path. */
	uint64_t stats[DP_Q_COUNT];
	/* RX_DROP_BACKLOG counted by the other workers, which hand this
	 * queue frames (xfer ring full, no mbuf for a copy): shared, so
	 * added atomically, and on a line of its own so that their adds
	 * leave the owner's counters in its cache. */
	_Atomic uint64_t rx_drop_xfer __rte_cache_aligned;
	/* mbufs other workers put in the owner's xfer ring for this
	 * queue, ever (wraps; only differences count). */
	_Atomic uint32_t xfer_sent;
};

/* One of q's counters, whoever counted it (readers: control thread). */
static inline uint64_t
dp_queue_stat(const struct dp_queue *q, unsigned k)
{
	uint64_t c = q->stats[k];

	if (k == DP_Q_RX_DROP_BACKLOG)
		c += atomic_load_explicit(&q->rx_drop_xfer,
					  memory_order_relaxed);
	return c;
}

/* Features the frontend asked for (frontend keys). */
struct dp_fe_features {
	bool rx_copy, sg, gso_tcpv4, gso_tcpv6, no_csum, ipv6_csum;
	bool rx_notify;
};

/* The frontend's RX hash configuration as workers read it. */
struct dp_hash_pub {
	_Atomic uint32_t seq;   /* odd while being written */
	_Atomic uint32_t h_alg; /* h.algorithm, read without the count */
	struct ctrl_hash h;
};

/*
 * Pre-mapped grants (ADD_GREF_MAPPING), open addressing on gref + 1 with
 * linear probing. The guest picks the grefs and how often it adds and
 * deletes them, and every lookup runs on a worker that serves other
 * vifs too, so a lookup's cost must not be the guest's to choose:
 *  - an entry lives within DP_GREF_PROBE_MAX slots of its home slot
 *    (dp_gref_place refuses a gref it cannot put there), so a lookup
 *    looks at no more slots than that, found or not;
 *  - the home slot is a hash keyed by a seed the guest does not know,
 *    so it cannot choose grefs that pile up on one slot;
 *  - deleted entries leave tombstones (probe chains go on through
 *    them); once too many, control copies the live entries into a
 *    fresh table (dp_gref_worn, dp_gref_copy) and publishes it by RCU.
 */
#define DP_GREF_SLOTS 4096u
#define DP_GREF_SLOT_BITS 12
/* Linear probing at the table's load (2048 live entries and up to 256
 * tombstones in 4096 slots) puts random grefs at most ~64 slots from
 * home: twice that refuses no honest set in practice. */
#define DP_GREF_PROBE_MAX 128u
#define DP_GREF_FREE 0u          /* never used: probe chains end here */
#define DP_GREF_GONE 0xffffffffu /* deleted: probe chains go on */
_Static_assert(DP_GREF_SLOTS == 1u << DP_GREF_SLOT_BITS, "slot bits");
/* Room for every grant a guest may hand at half load: short chains. */
_Static_assert(2 * CTRL_GREF_MAX <= DP_GREF_SLOTS, "gref table load");
struct dp_gref_table {
	_Atomic unsigned n; /* entries in use (written by control only) */
	unsigned gone;      /* tombstones (control only) */
	uint32_t seed;      /* fixed before the table is published */
	struct {
		_Atomic uint32_t gref; /* 0 free, ~0 deleted, else gref + 1 */
		_Atomic bool ro;
		void *_Atomic addr;
	} e[DP_GREF_SLOTS];
};
static inline unsigned
dp_gref_slot(const struct dp_gref_table *t, uint32_t gref)
{
	/* Multiplicative hashing: the product's top bits mix all of the
	 * (seeded) gref's bits, the low ones only its low bits. */
	return ((gref ^ t->seed) * 2654435761u) >> (32 - DP_GREF_SLOT_BITS);
}

/*
 * Changes to a table, by the control thread only (workers read it
 * meanwhile). dp_gref_init: an empty table (zeroed memory) hashing with
 * seed. dp_gref_place: the slot where gref goes, -EINVAL for a gref that
 * cannot be stored, -EEXIST if it is there, -ENOSPC if no slot near
 * enough its home is free. dp_gref_fill then publishes it there
 * (address first, gref last). dp_gref_unpublish: the address gref was
 * mapped at, now out of the table (unmap it only after a grace period),
 * or NULL if absent. A slot it leaves must not be filled again before
 * that grace period: a worker may still be reading it.
 */
void dp_gref_init(struct dp_gref_table *t, uint32_t seed);
int dp_gref_place(const struct dp_gref_table *t, uint32_t gref);
void dp_gref_fill(struct dp_gref_table *t, unsigned slot, uint32_t gref,
		  bool ro, void *addr);
void *dp_gref_unpublish(struct dp_gref_table *t, uint32_t gref);
/* True when tombstones are so many that t should be copied afresh. */
bool dp_gref_worn(const struct dp_gref_table *t);
/* The live entries of src into dst, empty and not yet published (0), or
 * -ENOSPC if dst's seed places one too far from its home. */
int dp_gref_copy(struct dp_gref_table *dst, const struct dp_gref_table *src);
/* For tests: the slots a worker's lookup of gref looks at. */
unsigned dp_gref_probes(const struct dp_gref_table *t, uint32_t gref);

/*
 * What the data path knows of a vif. Control embeds it in its own vif
 * (ctl/ctl.h) and owns every field; workers read the fields marked so,
 * and write only the multicast groups of its switch port.
 */
struct dp_vif {
	char name[32]; /* vif<domid>.<devid> */
	uint16_t domid;
	/* Switch port, -1 when not on a network: read by workers, who let
	 * TX wait in the ring meanwhile. */
	int sw_port;
	rte_spinlock_t mcast_lock; /* one writer of its groups at a time */
	bool connected;
	unsigned nqueues;
	struct dp_queue *queues; /* allocated at connect */
	struct dp_fe_features feat;
	struct nb_ratelimit rl;  /* its guest-triggered log lines */
	/* The toolstack's rate key: bytes per usec period, 0: no limit. */
	_Atomic uint64_t rate_bytes, rate_usec;
	/* The control ring's products: the RX hash, and static grants
	 * (NULL: none). Control publishes a table before any worker can
	 * see it, and frees one only after unpublishing it and waiting a
	 * grace period. */
	struct dp_hash_pub hash_pub;
	struct dp_gref_table *_Atomic grefs;
	/* xdp-headroom: every RX data slot starts there (bounded). */
	_Atomic uint16_t xdp_headroom;
};

/* A DPDK port (any ethdev) as a port of a network. */
#define DP_ESTATS(X)                                                        \
	X(RX_PACKETS, "rx_packets")                                         \
	X(RX_BYTES, "rx_bytes")                                             \
	X(RX_LRO, "rx_coalesced")                                           \
	X(RX_PARTIAL, "rx_csum_unfinished")                                 \
	X(RX_CUT, "rx_drop_cut")                                            \
	X(RX_DROP_NOMBUF, "rx_drop_no_mbuf")                                \
	X(TX_PACKETS, "tx_packets")                                         \
	X(TX_GSO_WHOLE, "tx_gso_whole")                                     \
	X(TX_BYTES, "tx_bytes")                                             \
	X(TX_DROP_FULL, "tx_drop_full")                                     \
	X(TX_DROP_LINK, "tx_drop_link_down")                                \
	X(TX_DROP_GSO, "tx_drop_bad_gso")                                   \
	X(TX_DROP_PREPARE, "tx_drop_prepare")

enum dp_estat {
#define DP_X_ENUM(e, s) DP_E_##e,
	DP_ESTATS(DP_X_ENUM)
#undef DP_X_ENUM
	DP_E_COUNT
};

enum { DP_LINK_UNKNOWN = 0, DP_LINK_UP, DP_LINK_DOWN };

struct dp_eth {
	char name[64];    /* the device name: devargs up to the first ',' */
	char devargs[DP_DEVARGS_MAX];
	uint16_t port_id; /* DPDK's */
	uint16_t mtu;
	int net;          /* switch network */
	bool uplink;      /* the network's uplink (PIF), else one more port */
	char vlan[64];    /* its VLANs when not all (netbackctl port-add) */
	int sw_port;
	uint16_t nrxq, ntxq;
	/*
	 * Fewer TX queues than workers (a port that offers fewer, such as
	 * virtio-user's default of one queue pair): worker w sends on
	 * queue w % ntxq, holding txq_lock[w % ntxq] (dp/eth.c). With a
	 * queue each, no lock is taken.
	 */
	bool txq_shared;
	rte_spinlock_t txq_lock[DP_MAX_WORKERS];
	bool rss;         /* RX spread over nrxq queues by the port's RSS */
	bool intr;        /* RX interrupts: workers may sleep */
	bool tso, lro;    /* the port segments / coalesces TCP itself */
	bool ip_csum;     /* and fills IPv4 header checksums */
	bool started;
	/* Link as last polled by the control thread: DP_LINK_UNKNOWN until
	 * the port first reports up (a PMD that never does is never taken
	 * for down), then UP or DOWN; workers drop what goes to a DOWN
	 * port (counted). */
	_Atomic int link;
	uint32_t link_speed; /* Mbit/s, when up; 0 unknown */
	uint64_t link_changes;
	/* net_af_packet: the kernel interface it shares (ctl/afpacket.c),
	 * and which of its merging offloads were turned off, to be turned
	 * on again at close (a bit each). */
	char kif[16];  /* its name, or "#ifindex" where out of reach */
	int kif_index;
	uint8_t kif_off;
	uint32_t kif_gro; /* its gro_max_size before netbackd lowered it */
	/* Its frames may carry the kernel's unfinished checksums (a packet
	 * socket's: dp_eth_rx_partial()). */
	bool csum_partial;
	/*
	 * net_af_packet whose devargs size none of its ring (netbackd's
	 * default there): receives on a packet socket and RX ring of
	 * netbackd's own (ctl/afpacket.c), whose slots take any frame the
	 * kernel or the NIC merged (GRO, LRO, hardware GRO, a netfront's
	 * GSO packets) whole, so the interface keeps all of its merging.
	 * dp_eth_poll reads it: each frame copied once, into a chain of
	 * the main pool, its slot handed back at once (whoever holds
	 * frames, a guest that posts no buffers among them, holds no
	 * slot), a TCP one longer than the MTU passed on as a coalesced
	 * packet (a GSO packet to the guests). The PMD's own sockets
	 * receive nothing then; it only sends. map NULL otherwise.
	 */
	bool whole;
	struct dp_ring {
		uint8_t *map;
		size_t len;
		uint32_t frame_size, block_size, per_block, nframes;
		uint32_t head; /* the next slot to read (its worker's) */
	} ring;
	/* net_af_packet with netbackd's own ring, or with one queue pair:
	 * the socket readable while frames wait in the RX ring, which the
	 * worker sleeps on; else -1. */
	int rx_fd;
	/*
	 * net_af_packet sharing a kernel interface: a second packet socket
	 * of its own, with virtio-net headers, through which GSO packets
	 * go to the kernel whole (dp/eth.c, ctl/afpacket.c); vnet false
	 * (and vnet_fd -1) where it could not be had.
	 */
	bool vnet;
	int vnet_fd;
	/* Control's: rx_drop_cut when last looked at, and when it last
	 * warned of them. */
	uint64_t cut_seen, cut_warned_ms;
	/* Per worker: counters are written by one worker each. */
	uint64_t stats[DP_MAX_WORKERS][DP_E_COUNT];
};

/* Capture: workers copy what a switch port sends and receives into a
 * tap's ring (see dp_tap_*). */
struct dp_tap {
	bool used;
	struct rte_ring *ring;    /* mbuf copies, workers -> control */
	_Atomic uint64_t dropped; /* ring full or no buffer */
	uint32_t snaplen;
};

/* The data path's shared state. */
struct dp {
	struct hv *hv;
	struct sw *sw;
	struct rte_mempool *pool;
	struct rte_mempool *indirect_pool; /* GSO segments' payload refs */
	struct rte_rcu_qsbr *rcu;
	unsigned nworkers;
	struct dp_worker *workers;
	/* Settings (configuration, fixed before the workers start). */
	bool poll_always;
	unsigned rx_drain_ms, rx_stall_ms;
	/* A queue's RX backlog bounds: rx-queue-mbufs (0: auto, a share
	 * of the pool), rx-queue-bytes. */
	unsigned rx_queue_mbufs;
	uint32_t rx_queue_bytes;
	/* Workers poke control here when a queue turns fatal. */
	int ctl_wakefd;
	/* Where workers' wake-ups are sent from (dp_worker.kick_port), by
	 * any thread, one at a time. */
	struct hv_evtchn *kick_evh;
	rte_spinlock_t kick_lock;
	/* Switch port -> vif or DPDK port, read by workers under RCU. */
	struct dp_vif *_Atomic vifs[DP_MAX_SW_PORTS];
	struct dp_eth *_Atomic eths[DP_MAX_SW_PORTS];
	/* tap_mask[port]: which taps want the port; one byte read per
	 * burst is all capture costs when none runs. */
	_Atomic uint8_t tap_mask[DP_MAX_SW_PORTS];
	struct dp_tap taps[DP_MAX_TAPS];
	struct rte_mempool *tap_pool;
};

/*
 * Milliseconds from the TSC: a multiply, no system call (the data path
 * stamps the switch's entries once per burst). Its own epoch: compare
 * only with itself (switch stamps and ages). dp_fast_ms_init() once the
 * EAL knows the TSC's rate.
 */
extern uint64_t dp_tsc_ms_mul;
void dp_fast_ms_init(void);
static inline uint64_t
dp_tsc_ms(uint64_t tsc)
{
	return (uint64_t)(((unsigned __int128)tsc * dp_tsc_ms_mul) >> 64);
}

static inline uint64_t
dp_fast_ms(void)
{
	return dp_tsc_ms(rte_get_tsc_cycles());
}

/* worker.c: the workers, one per DPDK worker lcore. */
/* Start a worker on every DPDK worker lcore, polling the RX queues of
 * the ports there are (more come with dp_workers_add_eth()). */
int dp_workers_start(struct dp *dp, struct dp_eth *const *eths,
		     unsigned neth);
void dp_workers_stop(struct dp *dp);
/* A worker's totals, for status and benchmarks. */
struct dp_worker_totals {
	unsigned id, lcore;
	unsigned vif_queues, port_queues; /* owned now */
	bool asleep;
	uint64_t copy_calls, copy_segs, copy_static, notifies, wakeups;
	/* Packets copied guest to guest by grant-to-grant copies, and
	 * packets cut for it that had to be completed in mbufs instead. */
	uint64_t copy_direct, cut_settled;
	uint64_t busy_cycles;
	/* Costs on Xen: the hypercalls the copies take, the evtchn
	 * device's calls (reads, sleeps in a read, unmask writes,
	 * notifies), the sleeps in epoll_wait instead, and every system
	 * call of the worker (these, the copies, wake-ups of others). */
	uint64_t copy_hypercalls, evtchn_calls, epoll_waits, sys_calls;
	uint64_t intr_arms; /* RX interrupts armed and disarmed (PMD calls) */
	uint64_t port_polls; /* RX bursts asked of ports (tap: a read each) */
};
void dp_worker_totals(const struct dp *dp, unsigned i,
		      struct dp_worker_totals *t);
/* The same summed over every worker (id, lcore and the queue counts
 * then mean nothing). */
void dp_workers_total(const struct dp *dp, struct dp_worker_totals *sum);
/* Hand a connected queue to worker `worker` (an index, taken modulo
 * the count) / take it back; each waits for the worker. Before taking
 * it back, control has made it unreachable (its vif off the switch) and
 * waited a grace period. */
int dp_worker_add_queue(struct dp *dp, unsigned worker, struct dp_queue *q);
void dp_worker_del_queue(struct dp_queue *q);
/* The id of the worker that owns q, -1 if none. */
int dp_queue_worker_id(const struct dp_queue *q);
/* A port's RX queues to the workers (queue q to worker q), or back. */
int dp_workers_add_eth(struct dp *dp, struct dp_eth *e);
void dp_workers_del_eth(struct dp *dp, struct dp_eth *e);

/* eth.c */
/* A DPDK port's counters summed over the workers. */
void dp_eth_counters(const struct dp_eth *e, uint64_t c[DP_E_COUNT]);
/* "up", "down" or "unknown" (DP_LINK_*). */
const char *dp_link_name(int link);

/* forward.c */
/* A guest's MCAST_ADD / MCAST_DEL (worker, or control). */
int dp_vif_mcast(struct dp *dp, struct dp_vif *v, bool add,
		 const uint8_t mac[6]);

/* ctrl_read.c: the control ring's products as workers read them. */
/*
 * The frontend's hash of a frame and, if queue is not NULL, the RX
 * queue its mapping picks. False when the frontend configured no
 * hashing or the frame matches no type it enabled.
 */
bool dp_vif_rx_hash(const struct dp_vif *v, const uint8_t *frame,
		    unsigned len, uint32_t *hash, uint8_t *type,
		    unsigned *queue);
/* Where a pre-mapped grant of v is mapped (writable if write), or NULL. */
void *dp_vif_gref_addr(const struct dp_vif *v, uint32_t gref, bool write);
static inline bool
dp_vif_has_grefs(const struct dp_vif *v)
{
	const struct dp_gref_table *t =
	    atomic_load_explicit(&v->grefs, memory_order_acquire);

	return t && atomic_load_explicit(&t->n, memory_order_relaxed);
}

/*
 * tap.c: capture taps. A tap is a ring of frame copies that workers fill
 * for the switch ports it watches, and its owner (management) drains.
 */
struct dp_tap_hdr {
	uint64_t tsc;      /* when the worker saw the burst */
	uint32_t orig_len; /* the frame's length before snaplen */
	uint32_t out;      /* 1: the port sent it, 0: it received it */
};
/* The taps' buffers and rings: 0, or -ENOMEM (capture is then refused). */
int dp_taps_init(struct dp *dp);
void dp_taps_fini(struct dp *dp);
/* A free tap for up to snaplen bytes a frame: its index, or -EBUSY, or
 * -ENOMEM when dp_taps_init() failed. */
int dp_tap_open(struct dp *dp, uint32_t snaplen);
/* Workers copy what sw_port sends and receives into tap t, or stop. */
void dp_tap_watch(struct dp *dp, unsigned t, int sw_port, bool on);
/* The port leaves the switch: no tap watches it any more. */
void dp_tap_forget(struct dp *dp, int sw_port);
/* Up to n copies out of tap t, each with its header; the caller frees
 * the mbufs. */
unsigned dp_tap_dequeue(struct dp *dp, unsigned t, struct rte_mbuf **m,
			struct dp_tap_hdr *h, unsigned n);
/* Copies lost so far (ring full, no buffer). */
uint64_t dp_tap_dropped(const struct dp *dp, unsigned t);
/* Watch nothing and wait until no worker can add to t: what
 * dp_tap_dequeue() finds then is all there will be. */
void dp_tap_stop(struct dp *dp, unsigned t);
/* dp_tap_stop(), free what is left, and give the tap back. */
void dp_tap_close(struct dp *dp, unsigned t);

#endif
