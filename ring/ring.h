/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ring: the backend half of the netif ring protocol (xen/io/netif.h).
 *
 * Pure: no I/O, no logging, no allocation. The rings live in pages shared
 * with a guest that may be hostile, so every request is copied out of the
 * shared page exactly once (RING_COPY_REQUEST) and checked on the copy;
 * the shared producer index is read once per poll and checked against
 * the ring size before anything is consumed.
 *
 * Errors: functions return a count or 0 on success and a negative errno:
 *   -EPROTO  the frontend broke the protocol in a way that cannot be
 *            answered per packet (producer beyond the ring, a slot chain
 *            longer than any packet, an extra-info chain that runs off the
 *            produced requests, an unknown extra type); the caller must
 *            disconnect the vif. ring_*_error() names the reason.
 * A merely malformed packet is not an error of the call: it comes back
 * with status NETIF_RSP_ERROR and a drop reason, to be answered and
 * dropped.
 */
#ifndef NETBACKD_RING_H
#define NETBACKD_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Barriers are ours (C11 fences), not the pre-3.2.8 mb() names. */
#ifndef __XEN_INTERFACE_VERSION__
#define __XEN_INTERFACE_VERSION__ 0x00040e00
#endif
#include <xen/xen.h>
#include <xen/grant_table.h>

#ifndef xen_mb
#define xen_mb()  __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define xen_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define xen_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
#endif
#include <xen/io/netif.h>

#define RING_PAGE_SIZE 4096u
/*
 * XDP headroom (Linux's netif.h, newer than Xen 4.17's): the frontend's
 * xdp-headroom key, bounded; an RX packet's data starts that far into
 * each buffer and an extra of this type tells the frontend so. Its
 * union member is { uint16_t headroom; uint16_t pad[2]; }.
 */
#define RING_EXTRA_TYPE_XDP 5
#define RING_MAX_XDP_HEADROOM 0x7fffu
/* Entries in a one-page ring: both netif rings have 256 (checked in ring.c). */
#define RING_TX_SIZE 256u
#define RING_RX_SIZE 256u

/*
 * Data slots per TX packet: a packet using up to RING_TX_MAX_SLOTS is
 * served; up to RING_TX_FATAL_SLOTS it is dropped with an error (as
 * kernel netback's max_skb_slots / fatal_skb_slots); beyond, the vif is
 * disconnected.
 */
#define RING_TX_MAX_SLOTS XEN_NETIF_NR_SLOTS_MIN
#define RING_TX_FATAL_SLOTS 20u
#define RING_ETH_HLEN 14u

/* Why a TX packet was dropped, answered with NETIF_RSP_ERROR. */
#define RING_TX_DROPS(X)                                                    \
	X(RING_TX_OK, "ok")                                                 \
	X(RING_TX_DROP_TOO_MANY_SLOTS, "too-many-slots")                    \
	X(RING_TX_DROP_SLOT_TOO_BIG, "slot-bigger-than-packet")             \
	X(RING_TX_DROP_RUNT, "shorter-than-ethernet-header")                \
	X(RING_TX_DROP_BAD_GSO, "bad-gso")

enum ring_tx_drop {
#define RING_X_ENUM(e, s) e,
	RING_TX_DROPS(RING_X_ENUM)
#undef RING_X_ENUM
	RING_TX_DROP_COUNT
};
const char *ring_tx_drop_name(enum ring_tx_drop d);

/* One data slot of a TX packet, as copied from the ring. */
struct ring_tx_slot {
	grant_ref_t gref;
	uint16_t offset;
	uint16_t size; /* bytes of packet data in this slot */
};

enum ring_mcast_op {
	RING_MCAST_NONE = 0,
	RING_MCAST_ADD,
	RING_MCAST_DEL,
};

/*
 * A TX packet: `nslots` data slots starting at burst->slots[slot].
 * Every request it used (data and extra) needs a response, in ring order:
 * data slots take `status` (the first with its id; ring_tx_respond_pkt
 * does this), extras take NETIF_RSP_NULL.
 */
struct ring_tx_pkt {
	uint32_t len;     /* total bytes, the first request's size */
	uint16_t slot;    /* index of the first data slot in the burst */
	uint16_t nslots;  /* data slots (0 for a multicast control request) */
	uint16_t nextras; /* extra-info slots after the first request */
	uint16_t flags;   /* NETTXF_csum_blank | NETTXF_data_validated */
	uint16_t gso_size;
	uint8_t gso_type; /* XEN_NETIF_GSO_TYPE_* */
	uint8_t mcast_op; /* enum ring_mcast_op: control request, no data */
	uint8_t mcast_addr[6];
	uint8_t drop;     /* enum ring_tx_drop; RING_TX_OK when good */
	uint16_t ids[RING_TX_FATAL_SLOTS]; /* request ids of the data slots */
};

#define RING_TX_BURST_PKTS 32u
/* Slot array big enough for a full burst of maximal (dropped) packets. */
#define RING_TX_BURST_SLOTS (RING_TX_BURST_PKTS * RING_TX_FATAL_SLOTS)

struct ring_tx_burst {
	unsigned npkts;
	unsigned nslots;
	bool throttled; /* ring_tx_poll_budget stopped at the budget */
	struct ring_tx_pkt pkts[RING_TX_BURST_PKTS];
	struct ring_tx_slot slots[RING_TX_BURST_SLOTS];
};

/* Protocol violations that disconnect a vif. */
#define RING_ERRORS(X)                                                      \
	X(RING_ERR_NONE, "none")                                            \
	X(RING_ERR_PROD_OVERFLOW, "request producer beyond ring size")      \
	X(RING_ERR_SLOT_CHAIN, "slot chain longer than fatal limit")        \
	X(RING_ERR_EXTRA_MISSING, "extra info missing after MORE")          \
	X(RING_ERR_EXTRA_TYPE, "unknown extra info type")                   \
	X(RING_ERR_CROSS_PAGE, "slot offset+size beyond page")              \
	X(RING_ERR_RX_PROD_OVERFLOW, "rx request producer beyond ring size")

enum ring_error {
#define RING_X_ENUM(e, s) e,
	RING_ERRORS(RING_X_ENUM)
#undef RING_X_ENUM
	RING_ERR_COUNT
};
const char *ring_error_name(enum ring_error e);

/* Backend end of a guest's TX ring (guest to backend). */
struct ring_txq {
	netif_tx_back_ring_t r;
	enum ring_error error; /* set when a call returned -EPROTO */
};

/* Attach to a mapped TX ring page the frontend initialised. */
void ring_tx_attach(struct ring_txq *q, void *page);

/*
 * Copy up to RING_TX_BURST_PKTS whole packets out of the ring into b.
 * A packet whose chain is not yet fully produced is left for the next
 * call. Returns the number of packets (b->npkts) or -EPROTO.
 */
int ring_tx_poll(struct ring_txq *q, struct ring_tx_burst *b);
/*
 * The same, taking data packets only while their bytes fit in *budget
 * (which is reduced by what was taken): the first packet that does not
 * fit stays in the ring, unread as far as the caller is concerned, and
 * b->throttled is set. Dropped packets and multicast requests cost
 * nothing. A NULL budget is no limit.
 */
int ring_tx_poll_budget(struct ring_txq *q, struct ring_tx_burst *b,
			uint64_t *budget);

/*
 * Queue the responses for packet p (status for its data slots,
 * NETIF_RSP_NULL for its extras), in the order its requests came.
 */
void ring_tx_respond_pkt(struct ring_txq *q, const struct ring_tx_pkt *p,
			 int16_t status);

/* Publish queued responses; true if the frontend must be notified. */
bool ring_tx_push(struct ring_txq *q);

/*
 * Before sleeping: ask for a notification on the next request and say
 * whether requests arrived meanwhile (RING_FINAL_CHECK_FOR_REQUESTS).
 */
bool ring_tx_final_check(struct ring_txq *q);

/* Requests produced and not yet consumed (bounded by the ring size). */
unsigned ring_tx_pending(const struct ring_txq *q);

/* One RX buffer the frontend posted. */
struct ring_rx_buf {
	uint16_t id;
	grant_ref_t gref;
};

/* Backend end of a guest's RX ring (backend to guest). */
struct ring_rxq {
	netif_rx_back_ring_t r;
	enum ring_error error;
};

void ring_rx_attach(struct ring_rxq *q, void *page);

/*
 * Buffers posted and not yet taken; -EPROTO if the frontend's producer is
 * beyond what the ring can hold.
 */
int ring_rx_avail(struct ring_rxq *q);

/* Copy n buffers (n <= ring_rx_avail()) out of the ring into out. */
void ring_rx_take(struct ring_rxq *q, struct ring_rx_buf *out, unsigned n);

/*
 * Answer the oldest taken buffer: status is the byte count (>= 0) or a
 * NETIF_RSP_* error. Responses are written in the order buffers were
 * taken, so the i-th response answers the i-th buffer.
 */
void ring_rx_respond(struct ring_rxq *q, uint16_t id, uint16_t offset,
		     uint16_t flags, int16_t status);
/* Answer a taken buffer with an extra-info slot instead of data. */
void ring_rx_respond_extra(struct ring_rxq *q, const struct netif_extra_info *x);

bool ring_rx_push(struct ring_rxq *q);

/*
 * Ask the frontend to notify when at least `needed` more buffers are
 * posted (feature-rx-notify); true if they are already there.
 */
bool ring_rx_want(struct ring_rxq *q, unsigned needed);

/* ---- RX planning: how a packet is laid out in the guest's buffers ---- */

/*
 * Slots a packet of len bytes takes in the RX ring when each buffer holds
 * RING_PAGE_SIZE - headroom bytes, plus one for a GSO extra if gso.
 */
unsigned ring_rx_slots(uint32_t len, uint16_t headroom, bool gso);

#endif
