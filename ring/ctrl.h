/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ctrl: the backend half of the netif control ring (feature-ctrl-ring,
 * xen/io/netif.h) and the receive-side hashing it configures.
 *
 * Pure: no I/O, no logging, no allocation. Grant pages are reached only
 * through struct ctrl_ops. Requests are copied out of the shared page
 * once and answered from the copy; everything read from a grant is
 * checked before any state changes, so a refused request leaves the
 * hash state as it was.
 */
#ifndef NETBACKD_CTRL_H
#define NETBACKD_CTRL_H

#include <stdbool.h>
#include <stdint.h>

/* Xen interface version and barriers as ring/ uses them. */
#include "ring.h"
#include <xen/io/netif.h>

#define CTRL_HASH_KEY_MAX 40u      /* bytes of Toeplitz key kept; shorter keys are zero-padded */
#define CTRL_HASH_MAPPING_MAX 128u /* entries of the mapping table */
/* Static grants per vif (GET_GREF_MAPPING_SIZE): both rings of 4 queues. */
#define CTRL_GREF_MAX 2048u

/* Hash types we can compute (GET_HASH_FLAGS). */
#define CTRL_HASH_FLAGS_SUPPORTED                                           \
	(XEN_NETIF_CTRL_HASH_TYPE_IPV4 | XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP | \
	 XEN_NETIF_CTRL_HASH_TYPE_IPV6 | XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP)

/* Entries of a struct xen_netif_gref table that fit one page. */
#define CTRL_GREF_TABLE_MAX (RING_PAGE_SIZE / sizeof(struct xen_netif_gref))
/* Mapping entries that fit one page (one SET_HASH_MAPPING). */
#define CTRL_MAPPING_PAGE_MAX (RING_PAGE_SIZE / sizeof(uint32_t))

/* Entries in the one-page control ring (16-byte requests). */
#define CTRL_RING_SIZE 128u

struct ctrl_hash {
	uint32_t algorithm; /* XEN_NETIF_CTRL_HASH_ALGORITHM_NONE or _TOEPLITZ */
	uint32_t flags;     /* XEN_NETIF_CTRL_HASH_TYPE_* bits enabled */
	uint8_t key[CTRL_HASH_KEY_MAX];
	uint32_t size;      /* mapping entries in use; 0 = no mapping set */
	uint32_t mapping[CTRL_HASH_MAPPING_MAX];
};

/* Algorithm NONE, flags 0, key zero, size 0. */
void ctrl_hash_init(struct ctrl_hash *h);

/* What the handler needs from the backend: all return 0 or a negative errno. */
struct ctrl_ops {
	/* Copy len bytes at offset off of the frontend's granted page gref into buf. */
	int (*read)(void *arg, uint32_t gref, uint32_t off, void *buf,
		    uint32_t len);
	/* Copy len bytes from buf to the frontend's granted page gref at off. */
	int (*write)(void *arg, uint32_t gref, uint32_t off, const void *buf,
		     uint32_t len);
	/*
	 * Pre-mapped grants (GET/ADD/DEL_GREF_MAPPING); if gref_add is NULL
	 * these requests get NOT_SUPPORTED.
	 * gref_add: -EEXIST already mapped, -ENOSPC full, other: failed.
	 * gref_del: -ENOENT not mapped, -EBUSY in use.
	 */
	int (*gref_add)(void *arg, uint32_t gref, bool readonly);
	int (*gref_del)(void *arg, uint32_t gref);
	void *arg;
};

/*
 * Handle one request (already copied out of shared memory). nqueues:
 * the vif's connected queues (mapping entries must be < nqueues).
 * Always fills rsp->id, rsp->type, rsp->status, rsp->data.
 *
 * ADD/DEL_GREF_MAPPING and GET_GREF_MAPPING_SIZE take the layout of
 * netif.h: data[0] = queue index (must be < nqueues), data[1] = gref
 * of the xen_netif_gref table, data[2] = entries.
 */
void ctrl_handle(struct ctrl_hash *h, unsigned nqueues,
		 const struct ctrl_ops *ops,
		 const struct xen_netif_ctrl_request *req,
		 struct xen_netif_ctrl_response *rsp);

/* Toeplitz per netif.h's definition (key is CTRL_HASH_KEY_MAX bytes, zero-padded). */
uint32_t ctrl_toeplitz(const uint8_t *key, const uint8_t *data, unsigned len);

/*
 * Hash a frame as the frontend configured: Ethernet (+ one 802.1Q tag),
 * IPv4 / IPv6 (no extension headers), TCP. The most specific enabled
 * type wins (IPV4_TCP > IPV4, IPV6_TCP > IPV6); IPv4 fragments and
 * truncated TCP headers hash without ports. Returns false when the
 * algorithm is NONE or no enabled type matches (nothing is written).
 * *type is the _XEN_NETIF_CTRL_HASH_TYPE_* bit number (0..3). Never
 * reads beyond len.
 */
bool ctrl_hash_frame(const struct ctrl_hash *h, const uint8_t *frame,
		     unsigned len, uint32_t *hash, uint8_t *type);

/*
 * The RX queue for a hash: mapping[hash % size] when size > 0, else
 * hash % nqueues. A mapping entry no longer < nqueues (queues went away
 * after it was set) is reduced modulo nqueues; nqueues 0 gives 0.
 */
unsigned ctrl_hash_queue(const struct ctrl_hash *h, uint32_t hash,
			 unsigned nqueues);

/* The backend side of the shared control ring (one page). */
struct ctrl_ring {
	xen_netif_ctrl_back_ring_t back;
};

/* Does not touch the page contents (the frontend SHARED_RING_INIT'ed it). */
void ctrl_ring_init(struct ctrl_ring *r, void *shared_page);
/*
 * Take up to max requests, each copied out of shared memory once.
 * Returns the count, or -EPROTO when the frontend's producer is more
 * than a ring size ahead of our consumer (the caller disconnects).
 */
int ctrl_ring_take(struct ctrl_ring *r, struct xen_netif_ctrl_request *out,
		   unsigned max);
/* Queue a response; -ENOSPC if no response slot is free. */
int ctrl_ring_respond(struct ctrl_ring *r,
		      const struct xen_netif_ctrl_response *rsp);
/* Publish responses; true when the frontend must be notified. */
bool ctrl_ring_push(struct ctrl_ring *r);
/* After processing: true when more requests arrived (sets req_event). */
bool ctrl_ring_more(struct ctrl_ring *r);

#endif
