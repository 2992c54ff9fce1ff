/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * simfront: a simulated netfront, behaving on the wire like Linux
 * xen-netfront, as the guest of netbackd's tests and benchmarks.
 *
 * It is a second, independent implementation of the netif protocol: it
 * uses xen/io/netif.h and xen/io/ring.h directly and nothing from ring/
 * or backend/, so a mistake on one side is not mirrored on the other.
 *
 * Memory: per queue, one TX and one RX ring page, and one page per ring
 * slot for TX and for RX buffers, granted once at connect (TX read-only,
 * RX writable) and ended at close. RX buffer i sits at ring position i,
 * as Linux netfront keeps it.
 *
 * simtool (below) plays the toolstack: what libxl does to a vif.
 *
 * Errors: negative errno.
 */
#ifndef NETBACKD_SIMFRONT_H
#define NETBACKD_SIMFRONT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct simhv;
struct xs_handle;
struct simfront;

#define SIMFRONT_MAX_QUEUES 8

struct simfront_conf {
	struct simhv *hv;
	uint16_t domid, devid;
	uint16_t backend_domid;
	unsigned queues;  /* asked for; capped by multi-queue-max-queues */
	bool no_split;    /* one event channel even if split is offered */
	/* What the frontend announces (Linux 6.1 defaults: all but
	 * no_csum). */
	bool sg, gso_tcpv4, gso_tcpv6, ipv6_csum, no_csum, rx_notify;
	bool no_rx_copy;  /* omit request-rx-copy (a frontend to refuse) */
	unsigned rx_fill; /* RX buffers kept posted per queue (<= 256) */
};

/* Linux 6.1 netfront's announcements, one queue. */
void simfront_conf_default(struct simfront_conf *c, struct simhv *hv,
			   uint16_t domid, uint16_t devid);

/* Memory pages a domain needs for n queues. */
uint32_t simfront_pages(unsigned queues);

struct simfront *simfront_new(const struct simfront_conf *c,
			      struct xs_handle *xs);
void simfront_free(struct simfront *f);

/*
 * The xenbus handshake: wait for backend InitWait, read its features,
 * grant and publish rings and event channels in one transaction, go
 * Connected and wait for the backend to be Connected.
 * -ETIMEDOUT, or -ECONNREFUSED if the backend went Closing/Closed (its
 * `error` key then says why).
 */
int simfront_connect(struct simfront *f, int timeout_ms);
/* Closing -> wait for the backend -> Closed; end every grant. Returns the
 * number of grants the backend still had mapped (0 when all is well). */
int simfront_close(struct simfront *f, int timeout_ms);

unsigned simfront_queues(const struct simfront *f);
bool simfront_split(const struct simfront *f);
int simfront_fd(const struct simfront *f);

struct simfront_txopt {
	uint16_t flags;    /* NETTXF_csum_blank | NETTXF_data_validated */
	uint16_t gso_size; /* non-zero: a GSO extra with gso_type */
	uint8_t gso_type;
};

/*
 * Queue one frame on queue q (not yet visible to the backend): one slot
 * per page, chained with NETTXF_more_data when feature-sg was agreed.
 * -ENOSPC when the ring or the TX buffers are full (flush, poll, retry),
 * -EMSGSIZE when it needs SG and SG is off.
 */
int simfront_send(struct simfront *f, unsigned q, const void *frame,
		  size_t len, const struct simfront_txopt *opt);
/* Publish queued requests and notify the backend if it asked. */
void simfront_flush(struct simfront *f, unsigned q);

struct simfront_rxinfo {
	uint16_t flags;    /* NETRXF_* of the first slot */
	uint16_t gso_size; /* from a GSO extra, 0 if none */
	uint8_t gso_type;
	unsigned slots;
	int16_t status;    /* negative NETIF_RSP_* if the backend failed it */
};

/*
 * Take one received frame from queue q into buf (cap bytes). Returns its
 * length, -EAGAIN if none is complete, -EMSGSIZE if cap is too small (the
 * frame is dropped), -EIO for a frame the backend answered with an error.
 * Buffers are posted again at once.
 */
int simfront_recv(struct simfront *f, unsigned q, void *buf, size_t cap,
		  struct simfront_rxinfo *info);

/*
 * Wait up to timeout_ms for an event (0: just look), reap TX responses
 * on every queue, unmask. Returns 1 if an event came, 0 if not.
 */
int simfront_poll(struct simfront *f, int timeout_ms);

struct simfront_stats {
	uint64_t tx_packets, tx_bytes, tx_ok, tx_error, tx_dropped;
	uint64_t rx_packets, rx_bytes, rx_errors;
	uint64_t notify_sent, events;
};
void simfront_stats(const struct simfront *f, unsigned q,
		    struct simfront_stats *st);

/* ---- hostile hooks: forge what a broken or malicious frontend would ---- */
struct netif_tx_request;
struct netif_extra_info;
/* Put a raw TX request / extra / RX request on the ring (not published). */
void simfront_raw_tx(struct simfront *f, unsigned q,
		     const struct netif_tx_request *req);
void simfront_raw_tx_extra(struct simfront *f, unsigned q,
			   const struct netif_extra_info *x);
/* Set the shared TX (or RX) request producer to any value and notify. */
void simfront_raw_tx_prod(struct simfront *f, unsigned q, uint32_t prod);
void simfront_raw_rx_prod(struct simfront *f, unsigned q, uint32_t prod);
/* Grant ref of TX buffer page `id` of queue q (for forged requests). */
uint32_t simfront_tx_gref(const struct simfront *f, unsigned q, unsigned id);

/* ---- simtool: the toolstack's part ---- */

/* Create the domain in the hypervisor and in xenstore (and introduce it). */
int simtool_domain_create(struct xs_handle *xs, struct simhv *hv,
			  uint16_t domid, uint32_t pages);
/* Release and destroy it, removing its xenstore directories. */
int simtool_domain_destroy(struct xs_handle *xs, struct simhv *hv,
			   uint16_t domid, uint16_t backend_domid);

struct simtool_vif {
	uint16_t backend_domid, domid, devid;
	uint8_t mac[6];
	const char *bridge; /* NULL: no key */
	const char *extra_be[8]; /* "key=value" extra backend keys */
};

/*
 * Write the backend and frontend directories as libxl does, wait up to
 * 10 s for the backend's InitWait, then play the hotplug script
 * (hotplug-status = connected). -ETIMEDOUT if the backend never came.
 */
int simtool_vif_add(struct xs_handle *xs, const struct simtool_vif *v);
/* As xl network-detach: online=0, state Closing, wait for Closed (or
 * timeout), remove both directories. */
int simtool_vif_remove(struct xs_handle *xs, const struct simtool_vif *v,
		       int timeout_ms);

/* Read a key as an int; -1 if missing. */
int simtool_read_int(struct xs_handle *xs, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Wait until a key reads as `value`. */
bool simtool_wait(struct xs_handle *xs, int timeout_ms, const char *value,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
