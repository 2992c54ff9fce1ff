/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * netbackd's private header: the daemon's objects and how the threads
 * share them.
 *
 * Threads: the control thread (main lcore) owns xenstore, the vif state
 * machines and configuration; each worker (a DPDK worker lcore) owns a set
 * of vif queues and PIF queues and runs them to completion. The control
 * thread hands a queue to a worker, or takes it back, through the worker's
 * command ring and waits for the worker's answer; objects that other
 * workers may still reach (a vif as a switch destination) are freed only
 * after an RCU grace period (rte_rcu_qsbr), in which every worker has
 * passed its quiescent point or was asleep.
 */
#ifndef NETBACKD_NB_H
#define NETBACKD_NB_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <poll.h>
#include <sys/queue.h>

#include <rte_cycles.h>
#include <rte_gso.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <rte_spinlock.h>

#include "conf.h"
#include "ctrl.h"
#include "hv.h"
#include "log.h"
#include "ring.h"

struct xs_handle;
struct sw;

#define NB_BURST 32u
/* Packets waiting for RX buffers, per queue (kernel netback: ~ring size). */
#define NB_RX_BACKLOG 512u
/* Grant-copy segments a worker gathers before one hv_copy(). */
#define NB_COPY_BATCH 2048u
/* Local event-channel ports a worker can look up directly. */
#define NB_MAX_PORTS (1u << 17)
#define NB_MAX_SW_PORTS 4096u
/* DPDK ports, all networks together */
#define NB_MAX_PIFS 64u
/* Segments one GSO packet may become (64 KiB at the smallest MSS). */
#define NB_GSO_MAX_SEGS 128u
/* Destinations a flooded frame reaches at most (ports of a network). */
#define NB_MAX_FLOOD 256u
/* xdp-headroom we honour at most (netfront asks for 256). */
#define NB_MAX_XDP_HEADROOM 2048u
/* Longest nap of a worker polling ports without RX interrupts, idle. */
#define NB_NAP_MAX_MS 16u

/* Per-queue counters: one X-macro gives the enum and the names. */
#define NB_QSTATS(X)                                                        \
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
	X(RX_STALLS, "rx_stalls")

enum nb_qstat {
#define NB_X_ENUM(e, s) NB_Q_##e,
	NB_QSTATS(NB_X_ENUM)
#undef NB_X_ENUM
	NB_Q_TX_DROP_FIRST,
	/* then one per ring TX drop reason */
	NB_Q_COUNT = NB_Q_TX_DROP_FIRST + RING_TX_DROP_COUNT,
};
const char *nb_qstat_name(unsigned i);

struct nb_worker;
struct nb_vif;

struct nb_queue {
	struct nb_vif *vif;
	unsigned id;
	struct nb_worker *worker;
	void *tx_page, *rx_page; /* mapped ring pages */
	struct ring_txq tx;
	struct ring_rxq rx;
	/* Frontend's ports, and ours once the worker bound them; equal
	 * when the frontend shares one channel. */
	uint32_t tx_rport, rx_rport;
	bool split;
	int tx_port, rx_port;
	bool tx_notify_pending, rx_notify_pending;
	/* Set by the worker on a protocol violation; control disconnects. */
	atomic_bool fatal;
	char fatal_msg[96];
	/* Packets waiting for RX buffers, a ring of mbufs, and when each
	 * came (ms): older than rx-drain-timeout, they are dropped. */
	unsigned bl_head, bl_count;
	struct rte_mbuf *backlog[NB_RX_BACKLOG];
	uint64_t bl_ms[NB_RX_BACKLOG];
	/* Last time the guest took a packet (or the backlog started). No
	 * room for rx-stall-timeout: stalled (carrier off), everything
	 * for the queue is dropped until buffers come back. */
	uint64_t rx_progress_ms;
	bool stalled;
	/* TX rate limit: bytes the guest may still send, and when the
	 * next credit comes (TSC). */
	uint64_t credit, credit_at;
	bool throttled;
	uint64_t stats[NB_Q_COUNT];
};

/* Features the frontend asked for (frontend keys). */
struct nb_fe_features {
	bool rx_copy, sg, gso_tcpv4, gso_tcpv6, no_csum, ipv6_csum;
	bool rx_notify;
};

/* The frontend's RX hash configuration as workers read it (ctrl.c). */
struct nb_hash_pub {
	_Atomic uint32_t seq;   /* odd while being written */
	_Atomic uint32_t h_alg; /* h.algorithm, read without the count */
	struct ctrl_hash h;
};

/* Pre-mapped grants (ADD_GREF_MAPPING), open addressing on gref + 1. */
#define NB_GREF_SLOTS 4096u
struct nb_gref_table {
	_Atomic unsigned n; /* entries in use (written by control only) */
	struct {
		_Atomic uint32_t gref; /* 0 free, ~0 deleted, else gref + 1 */
		_Atomic bool ro;
		void *_Atomic addr;
	} e[NB_GREF_SLOTS];
};

struct nb_ctrl;

/* The xenbus states we drive, see xenbus.c for the walk. */
struct nb_vif {
	LIST_ENTRY(nb_vif) link;
	uint16_t domid, devid;
	char name[32];         /* vif<domid>.<devid> */
	char be[128], fe[128]; /* xenstore directories */
	int be_state;          /* what we last wrote */
	bool fe_watched, mc_watched;
	uint64_t remove_at_ms; /* hotplug = netbackd: closed and offline,
				* the backend directory goes then (0: no) */
	char rate[64];         /* the rate key as last read */
	uint8_t mac[6];
	char bridge[64];
	char ip[512]; /* the toolstack's `ip` key: addresses, space-separated */
	int sw_port;           /* -1 when not on a network */
	int net;               /* network index, -1 none */
	bool trunk;            /* bridge=NAME:T1:T2...: tagged frames */
	bool antispoof_off;    /* netbackctl vif-set antispoof=off */
	/* request-multicast-control: only subscribed groups reach it. */
	bool mcast_filter;
	rte_spinlock_t mcast_lock; /* one writer of its groups at a time */
	unsigned nqueues;
	struct nb_queue *queues; /* allocated at connect */
	struct nb_fe_features feat;
	struct nb_ratelimit rl;
	bool connected;
	/* The toolstack's rate key: bytes per usec period, 0: no limit. */
	_Atomic uint64_t rate_bytes, rate_usec;
	/* The control ring, if the frontend has one; its products. */
	struct nb_ctrl *ctrl;
	struct nb_hash_pub hash_pub;
	/* NULL: no static grants; set and freed by control while no
	 * worker has the vif's queues, read by workers. */
	struct nb_gref_table *_Atomic grefs;
	/* xdp-headroom: every RX data slot starts there (bounded). */
	_Atomic uint16_t xdp_headroom;
	/* Counters of queues gone by (earlier connections). */
	uint64_t stats_done[NB_Q_COUNT];
};

/* A DPDK port as a network's uplink (PIF). */
#define NB_PSTATS(X)                                                        \
	X(RX_PACKETS, "rx_packets")                                         \
	X(RX_BYTES, "rx_bytes")                                             \
	X(TX_PACKETS, "tx_packets")                                         \
	X(TX_BYTES, "tx_bytes")                                             \
	X(TX_DROP_FULL, "tx_drop_full")                                     \
	X(TX_DROP_LINK, "tx_drop_link_down")

enum nb_pstat {
#define NB_X_ENUM(e, s) NB_P_##e,
	NB_PSTATS(NB_X_ENUM)
#undef NB_X_ENUM
	NB_P_COUNT
};

struct nb_pif {
	char name[64];    /* the device name: devargs up to the first ',' */
	char devargs[NB_DEVARGS_MAX];
	uint16_t port_id;
	uint16_t mtu;
	int net;          /* network index */
	bool uplink;      /* the network's pif (else one more port) */
	char vlan[64];    /* its VLANs when not all (netbackctl port-add) */
	int sw_port;
	uint16_t nrxq, ntxq;
	bool intr;        /* RX interrupts: workers may sleep */
	bool tso, lro;    /* the port segments / coalesces TCP itself */
	bool ip_csum;     /* and fills IPv4 header checksums */
	bool started;
	/* Link as last polled by the control thread: NB_LINK_UNKNOWN until
	 * the port first reports up (a PMD that never does is never taken
	 * for down), then UP or DOWN; workers drop what goes to a DOWN
	 * port (counted). */
	_Atomic int link;
	uint32_t link_speed; /* Mbit/s, when up */
	uint64_t link_changes;
	/* Per worker: counters are written by one worker each. */
	uint64_t stats[NB_MAX_WORKERS][NB_P_COUNT];
};

enum { NB_LINK_UNKNOWN = 0, NB_LINK_UP, NB_LINK_DOWN };

/* A PIF RX queue a worker polls. */
struct nb_pif_rxq {
	struct nb_pif *pif;
	uint16_t qid;
	int intr_fd;
};

enum nb_cmd_op {
	NB_CMD_ADD_QUEUE = 1,
	NB_CMD_DEL_QUEUE,
	NB_CMD_ADD_PIFQ, /* poll RX queue qid of pif */
	NB_CMD_DEL_PIF,  /* stop polling every RX queue of pif */
	NB_CMD_STOP,
};

struct nb_cmd {
	enum nb_cmd_op op;
	struct nb_queue *q;
	struct nb_pif *pif;
	uint16_t qid;
	atomic_int done; /* worker sets 1 when handled */
};

struct nb_worker {
	unsigned id;
	unsigned lcore;
	struct nb_daemon *d;
	struct hv_evtchn *evh; /* ports of this worker's queues */
	int epfd, wakefd;
	struct rte_ring *cmds; /* struct nb_cmd *, control -> worker */
	struct rte_ring *xfer; /* mbufs for our queues from other workers */
	struct rte_mempool *pool;
	unsigned nq;
	struct nb_queue **queues; /* owned queues, at most NB_MAX_QUEUES_W */
	struct nb_queue **by_port; /* local evtchn port -> queue */
	atomic_bool asleep;
	bool launched;
	unsigned npq;
	struct nb_pif_rxq pq[NB_MAX_PIFS];
	bool poll_ports; /* a port without RX interrupts: nap, don't sleep */
	unsigned nap_ms; /* the next nap's length, 1..NB_NAP_MAX_MS */
	/* Scratch, fixed at start: nothing is allocated per packet. */
	struct ring_tx_burst txb;
	xengnttab_grant_copy_segment_t segs[NB_COPY_BATCH];
	struct rte_mbuf *mb[NB_BURST];
	struct rte_gso_ctx gso; /* software segmentation */
	/* Worker totals for benchmarks. */
	uint64_t copy_calls, copy_segs, notifies, wakeups;
	uint64_t copy_static; /* pieces copied through static grants */
	uint64_t busy_cycles; /* TSC cycles of loop passes that did work */
	uint64_t tsc;         /* read at the start of this pass */
};

/*
 * Capture (netbackctl capture): workers copy what a switch port sends
 * and receives into the session's ring; the control thread writes it
 * out as pcapng. cap_mask[port] says which sessions want the port: one
 * byte read per burst is all a capture costs when none runs.
 */
#define NB_MAX_CAPTURES 4u
struct nb_capture {
	struct rte_ring *ring; /* mbuf copies, workers -> control */
	_Atomic uint64_t dropped; /* ring full or no buffer */
	uint32_t snaplen;
};

struct nb_mgmt;

struct nb_daemon {
	struct nb_conf conf;
	char conf_path[256]; /* the file it came from, "" for none */
	uint64_t start_ms;
	struct nb_mgmt *mgmt; /* the control socket (mgmt.c) */
	_Atomic uint8_t cap_mask[NB_MAX_SW_PORTS];
	struct nb_capture cap[NB_MAX_CAPTURES];
	struct rte_mempool *cap_pool;
	struct hv *hv;
	struct xs_handle *xs;
	uint16_t self;
	char be_root[64]; /* /local/domain/<self>/backend/vif */
	unsigned nworkers;
	struct nb_worker *workers;
	struct rte_mempool *pool;
	struct rte_mempool *indirect_pool; /* GSO segments' payload refs */
	struct rte_rcu_qsbr *rcu;
	struct sw *sw;
	/* Switch port -> vif or pif, read by workers under RCU. */
	struct nb_vif *_Atomic ports[NB_MAX_SW_PORTS];
	struct nb_pif *_Atomic pifs_by_port[NB_MAX_SW_PORTS];
	unsigned npifs;
	struct nb_pif *pifs[NB_MAX_PIFS];
	LIST_HEAD(, nb_vif) vifs;
	unsigned nvifs;
	atomic_bool stop;
	int ctl_wakefd; /* workers poke control when a queue turns fatal */
	struct hv_evtchn *ctl_evh; /* control rings' event channels */
	bool xs_lost; /* the xenstore connection failed: stop, change nothing */
	unsigned next_worker;
};

/*
 * Milliseconds from the TSC: a multiply, no system call (the data path
 * stamps the switch's entries once per burst). Its own epoch: compare
 * only with itself (switch stamps and ages). nb_fast_ms_init() once the
 * EAL knows the TSC's rate.
 */
extern uint64_t nb_tsc_ms_mul;
void nb_fast_ms_init(void);
static inline uint64_t
nb_tsc_ms(uint64_t tsc)
{
	return (uint64_t)(((unsigned __int128)tsc * nb_tsc_ms_mul) >> 64);
}

static inline uint64_t
nb_fast_ms(void)
{
	return nb_tsc_ms(rte_get_tsc_cycles());
}

/* worker.c */
int nb_workers_start(struct nb_daemon *d);
void nb_workers_stop(struct nb_daemon *d);
/* Hand a connected queue to its worker / take it back (waits). */
int nb_worker_add_queue(struct nb_worker *w, struct nb_queue *q);
void nb_worker_del_queue(struct nb_worker *w, struct nb_queue *q);
/* A port's RX queues to the workers (queue q to worker q), or back. */
int nb_workers_add_pif(struct nb_daemon *d, struct nb_pif *p);
void nb_workers_del_pif(struct nb_daemon *d, struct nb_pif *p);

/* vif.c */
/* Sum of a vif's counters over its queues and earlier connections. */
void nb_vif_stats(const struct nb_vif *v, uint64_t out[NB_Q_COUNT]);
int nb_vif_connect(struct nb_daemon *d, struct nb_vif *v, char *err,
		   size_t errlen);
void nb_vif_disconnect(struct nb_daemon *d, struct nb_vif *v);

/* ctrl.c: control rings (control thread) and what workers read */
int nb_ctrl_connect(struct nb_daemon *d, struct nb_vif *v, char *err,
		    size_t errlen);
void nb_ctrl_disconnect(struct nb_daemon *d, struct nb_vif *v);
/* Our event-channel port of the vif's control ring, -1 if none. */
int nb_ctrl_port(const struct nb_vif *v);
/* Answer what the frontend asked; -EPROTO: disconnect it. */
int nb_ctrl_serve(struct nb_daemon *d, struct nb_vif *v);
/*
 * Worker side: the frontend's hash of a frame and, if queue is not NULL,
 * the RX queue its mapping picks. False when the frontend configured no
 * hashing or the frame matches no type it enabled.
 */
bool nb_vif_rx_hash(const struct nb_vif *v, const uint8_t *frame,
		    unsigned len, uint32_t *hash, uint8_t *type,
		    unsigned *queue);
/* Where a pre-mapped grant of v is mapped (writable if write), or NULL. */
void *nb_vif_gref_addr(const struct nb_vif *v, uint32_t gref, bool write);
static inline bool
nb_vif_has_grefs(const struct nb_vif *v)
{
	const struct nb_gref_table *t =
	    atomic_load_explicit(&v->grefs, memory_order_acquire);

	return t && atomic_load_explicit(&t->n, memory_order_relaxed);
}

/* sandbox.c: least privilege once everything is open */
int nb_sandbox_user(const char *user, char *err, size_t errlen);
/* A seccomp filter on every thread; sim: the simulated hypervisor's
 * extra calls (opening domain memory files). */
int nb_sandbox_seccomp(bool sim, char *err, size_t errlen);

/* xenbus.c: xenstore helpers (control thread only) */
char *nb_xs_read(struct nb_daemon *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Unsigned integer key: 0, -ENOENT (missing) or -EINVAL (garbage). */
int nb_xs_read_uint(struct nb_daemon *d, unsigned max, unsigned *out,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

int nb_xenbus_start(struct nb_daemon *d);
void nb_xenbus_handle_watches(struct nb_daemon *d);
void nb_xenbus_check_fatal(struct nb_daemon *d);
/* Timed work of the control thread (hotplug = netbackd removals). */
void nb_xenbus_tick(struct nb_daemon *d);
/* Is xenstore still answering? (A round trip; false once lost.) */
bool nb_xenbus_alive(struct nb_daemon *d);
/* An event on a control ring's port (control thread). */
void nb_xenbus_ctrl_event(struct nb_daemon *d, int port);
void nb_xenbus_stop(struct nb_daemon *d);
/*
 * netbackctl's changes, written to the vif's backend directory so that
 * xenstore shows them and a reconnect keeps them: `rate` (applied at
 * once; "" for no limit; -EINVAL if it does not parse) and `bridge`.
 */
int nb_xenbus_set_rate(struct nb_daemon *d, struct nb_vif *v, const char *val);
int nb_xenbus_set_bridge(struct nb_daemon *d, struct nb_vif *v,
			 const char *val);

/* port.c: DPDK ports */
int nb_pif_open(struct nb_daemon *d, struct nb_pif *p);
/* Control thread, about once a second: follow each port's link. */
void nb_pif_link_check(struct nb_daemon *d);
void nb_pif_close(struct nb_daemon *d, struct nb_pif *p);
/*
 * What the receiving side learnt of a burst while it looked at each mbuf
 * once: the sum of pkt_len and the OR of ol_flags. A burst that goes out
 * whole need not be looked at again.
 */
struct nb_burst_sum {
	uint64_t bytes;
	uint64_t ol;
};
/* Worker side: poll one RX queue, send a burst (frees what it can't). */
unsigned nb_pif_poll(struct nb_worker *w, struct nb_pif_rxq *pq);
/* A frame the port coalesced (RTE_MBUF_F_RX_LRO) becomes a GSO packet. */
void nb_pif_rx_lro(struct rte_mbuf *m);
/* sum: the burst's, or NULL. */
void nb_deliver_pif(struct nb_worker *w, struct nb_pif *p,
		    struct rte_mbuf **pkts, unsigned n,
		    const struct nb_burst_sum *sum);
/* Complete a checksum the guest left blank (NETTXF_csum_blank). */
void nb_csum_complete(struct rte_mbuf *m);
/* A GSO packet (RTE_MBUF_F_TX_TCP_SEG)? */
static inline bool
nb_is_gso(const struct rte_mbuf *m)
{
	return (m->ol_flags & RTE_MBUF_F_TX_TCP_SEG) != 0;
}
/*
 * Segment a GSO packet in software into at most max frames with their
 * checksums complete; m is consumed. Returns the count (0: dropped).
 */
unsigned nb_gso_split(struct nb_worker *w, struct rte_mbuf *m,
		      struct rte_mbuf **out, unsigned max);

/* mgmt.c: the control socket, netbackctl's commands, capture and
 * DPDK telemetry (control thread, but for nb_capture) */
int nb_mgmt_open(struct nb_daemon *d);
void nb_mgmt_close(struct nb_daemon *d);
/* Descriptors to poll (at most max), and what came of polling them. */
unsigned nb_mgmt_pollfds(struct nb_daemon *d, struct pollfd *pfd,
			 unsigned max);
void nb_mgmt_handle(struct nb_daemon *d, const struct pollfd *pfd,
		    unsigned n);
/* Poll timeout the control socket needs (ms), -1: none. */
int nb_mgmt_timeout(const struct nb_daemon *d);
/* Worker side: copy pkts, which port `port` sends (out) or sent us. */
void nb_capture(struct nb_worker *w, unsigned port, struct rte_mbuf **pkts,
		unsigned n, bool out);
static inline void
nb_capture_maybe(struct nb_worker *w, unsigned port, struct rte_mbuf **pkts,
		 unsigned n, bool out)
{
	if (__builtin_expect(atomic_load_explicit(&w->d->cap_mask[port],
						  memory_order_relaxed) != 0,
			     0))
		nb_capture(w, port, pkts, n, out);
}

/* switch glue (fwd.c) */
int nb_fwd_init(struct nb_daemon *d);
/*
 * At run time (control thread, workers running): a network, a DPDK
 * port of one. err says why not; nothing running is disturbed then.
 */
int nb_fwd_net_add(struct nb_daemon *d, const char *name, const char *pif,
		   unsigned aging_s, unsigned mtu, char *err, size_t errlen);
int nb_fwd_net_del(struct nb_daemon *d, const char *name, char *err,
		   size_t errlen);
/* vlan: NULL (every VLAN, as the uplink) or as a bridge key's tail:
 * TAG, .TAG[:T1...], :T1[:T2...] */
int nb_fwd_port_add(struct nb_daemon *d, const char *net, const char *devargs,
		    bool uplink, const char *vlan, char *err, size_t errlen);
int nb_fwd_port_del(struct nb_daemon *d, const char *name, char *err,
		    size_t errlen);
/* A vif to another network or VLANs (bridge syntax), or its
 * anti-spoofing on or off; applied at once if connected. */
int nb_fwd_vif_rebridge(struct nb_daemon *d, struct nb_vif *v,
			const char *bridge, char *err, size_t errlen);
int nb_fwd_vif_antispoof(struct nb_daemon *d, struct nb_vif *v, bool on);
/*
 * Apply a configuration's networks and ports (text, read by netbackctl
 * from path: netbackd opens no file once running): networks and
 * ports gone are removed (refused, changing nothing, while a network
 * that goes has vifs), new ones added, aging changed; msg says what was
 * done and what waits for a restart. 0, or < 0 if something failed.
 */
int nb_fwd_reload(struct nb_daemon *d, const char *path, const char *text,
		  char *msg, size_t len);
/* Who switch port `port` is: a vif's or a DPDK port's name, or NULL. */
const char *nb_sw_port_name(struct nb_daemon *d, int port);
/* What the switch dropped of what port sent (every drop counter). */
uint64_t nb_sw_port_drops(const struct nb_daemon *d, int port);
/* A DPDK port's counters summed over the workers. */
void nb_pif_counters(const struct nb_pif *p, uint64_t c[NB_P_COUNT]);
/* "up", "down" or "unknown" (NB_LINK_*). */
const char *nb_link_name(int link);
/* The DPDK port named name, or NULL. */
struct nb_pif *nb_pif_find(struct nb_daemon *d, const char *name);
void nb_fwd_fini(struct nb_daemon *d);
/* Join the vif's network (bridge, mac, ip keys); err says why not. */
int nb_fwd_vif_attach(struct nb_daemon *d, struct nb_vif *v, char *err,
		      size_t errlen);
void nb_fwd_vif_detach(struct nb_daemon *d, struct nb_vif *v);
/* After a grace period that followed detaches: port ids come back. */
void nb_fwd_reclaim(struct nb_daemon *d);
/* Apply v->mcast_filter to its switch port. */
void nb_fwd_mcast_filter(struct nb_daemon *d, struct nb_vif *v);
/* A guest's MCAST_ADD / MCAST_DEL (worker context). */
int nb_fwd_mcast(struct nb_vif *v, struct nb_daemon *d, bool add,
		 const uint8_t mac[6]);

/* Switch a burst of frames that entered on vif v (worker context). */
void nb_fwd_from_vif(struct nb_worker *w, struct nb_vif *v,
		     struct rte_mbuf **pkts, unsigned n);
/* ... that entered on port p; counts them as its RX. */
void nb_fwd_from_pif(struct nb_worker *w, struct nb_pif *p,
		     struct rte_mbuf **pkts, unsigned n);
/* Queue mbufs for delivery to a guest queue (worker context). */
void nb_deliver_vif(struct nb_worker *w, struct nb_vif *v,
		    struct rte_mbuf **pkts, unsigned n);
uint32_t nb_flow_hash(const struct rte_mbuf *m);

#endif
