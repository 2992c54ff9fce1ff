/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * simfront: a simulated netfront that behaves on the wire like Linux 6.1
 * xen-netfront, the guest of netbackd's tests and benchmarks.
 *
 * It is a second, independent implementation of the netif protocol: it
 * uses xen/io/netif.h and xen/io/ring.h directly and nothing from ring/
 * or backend/, so a mistake on one side is not mirrored on the other.
 *
 * What it does as netfront does:
 *  - handshake: waits for the backend's InitWait, needs feature-rx-copy,
 *    takes min(queues, multi-queue-max-queues) queues (one if the key is
 *    absent), split event channels if feature-split-event-channels,
 *    writes multi-queue-num-queues whenever the backend offers
 *    multi-queue-max-queues, the ring refs and ports flat for one queue
 *    or under queue-N/ for several, and its feature keys, in one
 *    transaction; posts its RX buffers, kicks each port once and goes
 *    straight to Connected (never Initialised), then waits for the
 *    backend's Connected;
 *  - TX: the first slot runs from the frame's offset to the end of its
 *    page and carries the whole length in `size`, the rest follow one
 *    page each, chained with NETTXF_more_data; a GSO extra comes right
 *    after the first slot; one push (and one notification if asked for)
 *    per flush;
 *  - RX: buffer i sits at ring position i (mod 256) and answers there;
 *    responses are taken up to a snapshot of rsp_prod, a packet whose
 *    slots are not all published is an error (the backend must publish
 *    whole packets), extras are parsed and checked, then the ring is
 *    refilled and the backend notified if its req_event asks for it;
 *  - the same sanity checks on the backend as 6.1 (after XSA-391): a
 *    response producer beyond the ring, a TX response for an id not in
 *    flight or an RX producer going backwards marks the device broken
 *    (simfront_broken() says why); it then sends and delivers nothing;
 *  - close: Closing, wait for the backend's Closing/Closed, Closed, wait
 *    for Closed, then end every grant and free every port.
 *
 * Optional features, all off by default (Linux 6.1 netfront has none of
 * the first two; the others it does as here):
 *  - control ring (conf.ctrl_ring, if the backend offers
 *    feature-ctrl-ring): a xen_netif_ctrl ring page and two scratch pages
 *    for request tables, writable to the backend, and a port of its own;
 *    ctrl-ring-ref and event-channel-ctrl go in the connect transaction.
 *    simfront_ctrl() sends one request and waits for its answer;
 *  - multicast control (conf.mcast_control, if the backend offers
 *    feature-multicast-control): request-multicast-control=1 at connect;
 *    simfront_mcast() sends MCAST_ADD/DEL extras on a dummy TX request;
 *  - XDP headroom (conf.xdp_headroom, if the backend offers
 *    feature-xdp-headroom): xdp-headroom at connect (0 when not asked, as
 *    netfront); simfront_xdp() changes it with netfront's Reconfiguring /
 *    Reconfigured round trip;
 *  - RX extras: GSO, hash and XDP extras in any order, each at most once,
 *    reported in simfront_rxinfo.
 *
 * Memory: per queue a TX and an RX ring page and one buffer page per
 * ring slot for each direction, then three pages for the control ring
 * (reserved even when unused, so the layout does not depend on what the
 * backend offers): simfront_pages(), from conf.first_page of the
 * domain's memory; all granted once at connect, TX read-only, RX
 * writable, and ended at close. TX buffers are reused, not re-granted,
 * which is cheaper than netfront's grant per packet and the same on the
 * wire.
 *
 * Not thread-safe: one thread drives one simfront (several simfronts
 * may share an xs_handle in that thread).
 *
 * Errors: negative errno. Nothing here logs.
 */
#ifndef NETBACKD_SIMFRONT_H
#define NETBACKD_SIMFRONT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* simfront users play the toolstack too. */
#include "simtool.h"

struct simhv;
struct xs_handle;
struct simfront;
struct netif_tx_request;
struct netif_rx_request;
struct netif_extra_info;
struct xen_netif_ctrl_request;

#define SIMFRONT_MAX_QUEUES 8
#define SIMFRONT_RING_SIZE 256u /* slots of a one-page netif ring */

struct simfront_conf {
	struct simhv *hv;     /* an open hypervisor, or NULL and hv_dir */
	const char *hv_dir;   /* opened and closed by simfront if hv is NULL */
	uint16_t domid, devid;
	uint16_t backend_domid;
	unsigned queues;      /* asked for; capped by multi-queue-max-queues */
	bool no_split;        /* one event channel even if split is offered */
	/* What the frontend announces (Linux 6.1: all but no_csum). */
	bool sg, gso_tcpv4, gso_tcpv6, ipv6_csum, no_csum, rx_notify;
	bool no_rx_copy;      /* omit request-rx-copy (a frontend to refuse) */
	unsigned rx_fill;     /* RX buffers kept posted per queue (<= 256) */
	uint32_t first_page;  /* where this vif's pages start in the domain */
	/* Optional features (see above), each used only if offered. */
	bool ctrl_ring;       /* a control ring */
	bool mcast_control;   /* request-multicast-control=1 */
	unsigned xdp_headroom; /* <= 0x7FFF; 0: XDP off */
	/* Hostile (with ctrl_ring): what the connect publishes instead of
	 * the truth. 0: the real ctrl-ring-ref / event-channel-ctrl. */
	uint32_t ctrl_ref_forged, ctrl_port_forged;
	bool ctrl_port_shared; /* event-channel-ctrl = queue 0's TX port */
	/* != 0: the control ring's request producer before the connect,
	 * as a frontend that queued requests (or garbage) early. */
	uint32_t ctrl_prod_early;
};

/* Linux 6.1 netfront's announcements, one queue, a full RX ring. */
void simfront_conf_default(struct simfront_conf *c, struct simhv *hv,
			   uint16_t domid, uint16_t devid);

/* Memory pages a vif with n queues uses from conf.first_page (the
 * control ring's included, used or not). */
uint32_t simfront_pages(unsigned queues);

/*
 * A frontend for an existing domain, not yet connected. xs stays the
 * caller's. NULL with errno: EINVAL bad conf, ENOMEM the domain does not
 * have the pages, or simhv's errno.
 */
struct simfront *simfront_new(const struct simfront_conf *c,
			      struct xs_handle *xs);
/* Ends grants and frees ports still held (no xenstore traffic). */
void simfront_free(struct simfront *f);

/*
 * The xenbus handshake (see above), within timeout_ms overall.
 * -ETIMEDOUT, -ENODEV if the backend lacks feature-rx-copy (nothing is
 * written, as netfront), -ECONNREFUSED if the backend went Closing or
 * Closed (its `error` key then says why), -ENOSPC out of grants or ports,
 * -EALREADY if connected.
 */
int simfront_connect(struct simfront *f, int timeout_ms);
/*
 * Close as netfront does (see above), each wait bounded by timeout_ms,
 * then end every grant and free the ports. Returns the number of grants
 * the backend still had mapped (0 when all is well): a backend leak.
 */
int simfront_close(struct simfront *f, int timeout_ms);

unsigned simfront_queues(const struct simfront *f);
bool simfront_split(const struct simfront *f);
/* The event-channel fd: readable when an event is pending. */
int simfront_fd(const struct simfront *f);
/* Why the device is broken (a backend protocol violation), or NULL. */
const char *simfront_broken(const struct simfront *f);

struct simfront_txopt {
	uint16_t flags;    /* NETTXF_csum_blank | NETTXF_data_validated */
	uint16_t gso_size; /* non-zero: a GSO extra with gso_type */
	uint8_t gso_type;  /* XEN_NETIF_GSO_TYPE_TCPV4 / _TCPV6 */
	uint16_t offset;   /* where the frame starts in its first page */
};

/*
 * Queue one frame on queue q (not yet visible to the backend).
 * -EINVAL bad queue, empty or over 65535 bytes or offset >= 4096;
 * -EMSGSIZE it needs several slots and the backend has no feature-sg;
 * -EOPNOTSUPP a GSO type the backend did not offer; -ENODEV broken;
 * -ENOSPC ring or buffers full even after reaping (flush, poll, retry).
 */
int simfront_send(struct simfront *f, unsigned q, const void *frame,
		  size_t len, const struct simfront_txopt *opt);

struct simfront_frame {
	const void *data;
	size_t len;
	const struct simfront_txopt *opt; /* may be NULL */
};
/*
 * Queue up to n frames and publish them with one push (and at most one
 * notification). Returns how many were queued, or the first frame's
 * negative errno if none was.
 */
int simfront_send_burst(struct simfront *f, unsigned q,
			const struct simfront_frame *fr, unsigned n);
/* Publish queued requests, notify the backend if it asked, reap. */
void simfront_flush(struct simfront *f, unsigned q);

struct simfront_rxinfo {
	uint16_t flags;    /* NETRXF_* of the first slot */
	uint16_t gso_size; /* from a GSO extra, 0 if none */
	uint8_t gso_type;
	unsigned slots;    /* ring slots the packet took, extras included */
	int16_t status;    /* negative NETIF_RSP_* if the backend failed it */
	/* From a hash extra (XEN_NETIF_EXTRA_TYPE_HASH): hash_type is the
	 * bit number _XEN_NETIF_CTRL_HASH_TYPE_* (above 3 is a bad packet),
	 * hash_alg XEN_NETIF_CTRL_HASH_ALGORITHM_*. */
	bool hash_valid;
	uint32_t hash;
	uint8_t hash_type, hash_alg;
	uint16_t xdp_headroom; /* from an XDP extra (type 5), 0 if none */
	uint16_t offset;   /* first slot's rsp offset */
};

/*
 * Take one received frame from queue q into buf (cap bytes). Extras
 * (GSO, hash, XDP) may be chained in any order; an unknown type, one
 * type twice or an XDP headroom above 0x7FFF is a bad packet. Returns its
 * length; -EINVAL for a queue not connected; -EAGAIN if none is there (the ring is then refilled and the
 * backend asked for an event on the next response); -EMSGSIZE if cap is
 * too small (the frame is dropped); -EIO for a bad packet (an error
 * status, a slot beyond its page, a bad extra, slots missing or too many:
 * counted in rx_errors and dropped, as netfront does). A broken device
 * returns -EAGAIN.
 */
int simfront_recv(struct simfront *f, unsigned q, void *buf, size_t cap,
		  struct simfront_rxinfo *info);

/*
 * Wait up to timeout_ms for an event (0: just look, < 0: no limit), take
 * every pending port and unmask it, and reap TX responses on every queue.
 * Returns 1 if an event came, 0 if not.
 */
int simfront_poll(struct simfront *f, int timeout_ms);

struct simfront_stats {
	uint64_t tx_packets, tx_bytes;            /* queued by send */
	uint64_t tx_ok, tx_error, tx_dropped;     /* responses by status */
	uint64_t rx_packets, rx_bytes, rx_errors;
	/* received frames carrying what we did not announce: more slots
	 * without feature-sg, a GSO extra without feature-gso-*, a blank
	 * checksum with feature-no-csum-offload (delivered all the same) */
	uint64_t rx_unasked;
	uint64_t notify_sent; /* notifications to the backend */
	uint64_t events;      /* event deliveries from the backend */
	uint64_t tx_mcast;    /* multicast requests queued (their
				 responses count in tx_ok / tx_error) */
};
/* Counters of queue q (< SIMFRONT_MAX_QUEUES; they outlive close). */
void simfront_stats(const struct simfront *f, unsigned q,
		    struct simfront_stats *st);

/* ---- Control ring (netif.h "Control ring") ---- */

/* Whether the connection has a control ring (asked for and offered). */
bool simfront_has_ctrl(const struct simfront *f);
/*
 * Scratch page i (< 2), writable to the backend, and its grant ref: where
 * the caller puts a hash key, a mapping table or a xen_netif_gref table
 * before the request that names it. NULL / 0 without a control ring.
 */
void *simfront_ctrl_scratch(struct simfront *f, unsigned i);
uint32_t simfront_ctrl_scratch_gref(const struct simfront *f, unsigned i);
/*
 * Send one request (ids count up from 0), notify the backend if its
 * req_event asks, and wait up to timeout_ms for the answer. Returns the
 * response's status (XEN_NETIF_CTRL_STATUS_*, >= 0) and its data in
 * *data_out if not NULL. Answers to requests given up on earlier are
 * skipped. -ENOTCONN no control ring, -ENODEV broken, -ENOSPC ring full
 * of unanswered requests, -ETIMEDOUT, -EPROTO a response with a wrong id
 * or type or a producer beyond the ring (the device is then broken).
 * The control port has its own event handle: simfront_fd() and
 * simfront_poll() see the data rings' events just the same.
 */
int simfront_ctrl(struct simfront *f, uint16_t type, uint32_t d0,
		  uint32_t d1, uint32_t d2, uint32_t *data_out,
		  int timeout_ms);

/* ---- Multicast control ---- */

/*
 * Queue on TX queue q a dummy request (flags NETTXF_extra_info, size 0,
 * offset 0, a buffer's grant) with an MCAST_ADD (add) or MCAST_DEL extra
 * for mac, then flush. The backend answers the request's id like any
 * other (counted in tx_ok / tx_error). -EINVAL bad queue, -ENODEV
 * broken, -EOPNOTSUPP no feature-multicast-control, -ENOSPC ring full.
 */
int simfront_mcast(struct simfront *f, unsigned q, bool add,
		   const uint8_t mac[6]);
/* Write request-multicast-control (1 or 0) now; -EOPNOTSUPP unless the
 * backend offered feature-dynamic-multicast-control. */
int simfront_set_mcast_control(struct simfront *f, bool on);

/* ---- XDP ---- */

/*
 * netfront's XDP attach / detach: write xdp-headroom, go Reconfiguring,
 * wait for the backend's Reconfigured, go Connected, wait for the
 * backend's Connected, all within timeout_ms. -ENOTCONN not connected,
 * -EOPNOTSUPP no feature-xdp-headroom, -EINVAL headroom above 0x7FFF,
 * -ECONNREFUSED the backend went Closing/Closed, -ETIMEDOUT.
 */
int simfront_xdp(struct simfront *f, unsigned headroom, int timeout_ms);

/*
 * ---- Hostile hooks: forge what a broken or malicious frontend would. ----
 * Nothing is checked; q must be a connected queue.
 */
/* Write a TX request / extra at the private producer (publish with
 * simfront_flush). A request's id < 256 counts as in flight, so its
 * response is accepted. */
void simfront_raw_tx(struct simfront *f, unsigned q,
		     const struct netif_tx_request *req);
void simfront_raw_tx_extra(struct simfront *f, unsigned q,
			   const struct netif_extra_info *x);
/* The shared TX ring's request slots of queue q (*n set to their
 * number), for a guest that rewrites requests after posting them. */
volatile struct netif_tx_request *simfront_raw_tx_ring(struct simfront *f,
							unsigned q,
							unsigned *n);
/* Requests queue q could post now: ring size minus those posted whose
 * responses the backend has not produced (whatever they hold). */
unsigned simfront_raw_tx_space(const struct simfront *f, unsigned q);
/* Write an RX request at the private producer and publish it. */
void simfront_raw_rx(struct simfront *f, unsigned q,
		     const struct netif_rx_request *req);
/* Set the shared TX (or RX) request producer to any value and notify. */
void simfront_raw_tx_prod(struct simfront *f, unsigned q, uint32_t prod);
void simfront_raw_rx_prod(struct simfront *f, unsigned q, uint32_t prod);
/* Notify the backend on queue q's TX (rx = false) or RX port. */
void simfront_raw_notify(struct simfront *f, unsigned q, bool rx);
/* Write a control request at the private producer, publish it and
 * notify (needs a control ring). */
void simfront_raw_ctrl(struct simfront *f,
		       const struct xen_netif_ctrl_request *req);
/* Set the shared control request producer to any value and notify. */
void simfront_raw_ctrl_prod(struct simfront *f, uint32_t prod);
/* Grant refs of TX / RX buffer page `id` of queue q (id mod 256). */
uint32_t simfront_tx_gref(const struct simfront *f, unsigned q, unsigned id);
/* The TX buffer page behind simfront_tx_gref(q, id), to forge data in. */
void *simfront_tx_page(struct simfront *f, unsigned q, unsigned id);
uint32_t simfront_rx_gref(const struct simfront *f, unsigned q, unsigned id);

#endif
