/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <string.h>

#include "ring.h"

_Static_assert(__CONST_RING_SIZE(netif_tx, RING_PAGE_SIZE) == RING_TX_SIZE,
	       "TX ring size");
_Static_assert(__CONST_RING_SIZE(netif_rx, RING_PAGE_SIZE) == RING_RX_SIZE,
	       "RX ring size");

static const char *const tx_drop_names[] = {
#define RING_X_NAME(e, s) [e] = s,
	RING_TX_DROPS(RING_X_NAME)
#undef RING_X_NAME
};

static const char *const error_names[] = {
#define RING_X_NAME(e, s) [e] = s,
	RING_ERRORS(RING_X_NAME)
#undef RING_X_NAME
};

const char *
ring_tx_drop_name(enum ring_tx_drop d)
{
	return (unsigned)d < RING_TX_DROP_COUNT ? tx_drop_names[d] : "?";
}

const char *
ring_error_name(enum ring_error e)
{
	return (unsigned)e < RING_ERR_COUNT ? error_names[e] : "?";
}

/* The guest may change the index at any time: read it exactly once. */
static inline RING_IDX
read_idx(const volatile RING_IDX *p)
{
	RING_IDX v = __atomic_load_n(p, __ATOMIC_ACQUIRE);
	return v;
}

void
ring_tx_attach(struct ring_txq *q, void *page)
{
	memset(q, 0, sizeof(*q));
	BACK_RING_INIT(&q->r, (netif_tx_sring_t *)page, RING_PAGE_SIZE);
	/* Resume where a live ring stands (re-attach after a restart). */
	q->r.req_cons = q->r.rsp_prod_pvt = q->r.sring->rsp_prod;
}

static int
tx_fail(struct ring_txq *q, enum ring_error e)
{
	q->error = e;
	return -EPROTO;
}

/*
 * Parse the packet starting at *cons, with `prod` the producer index read
 * once by the caller. Requests are copied out before any check. On
 * success *cons is past the packet.
 */
static int
tx_parse_one(struct ring_txq *q, struct ring_tx_burst *b, RING_IDX *cons,
	     RING_IDX prod, struct ring_tx_pkt *p)
{
	netif_tx_request_t first, req;
	netif_extra_info_t extra;
	RING_IDX idx = *cons;
	uint32_t rest = 0;

	RING_COPY_REQUEST(&q->r, idx, &first);
	idx++;

	memset(p, 0, offsetof(struct ring_tx_pkt, ids));
	p->ids[0] = first.id;
	p->len = first.size;
	p->flags = first.flags & (NETTXF_csum_blank | NETTXF_data_validated);
	p->slot = b->nslots;

	if (first.flags & NETTXF_extra_info) {
		do {
			if (idx == prod)
				return tx_fail(q, RING_ERR_EXTRA_MISSING);
			/* An extra occupies a request slot; copy it whole. */
			RING_COPY_REQUEST(&q->r, idx, &req);
			memcpy(&extra, &req, sizeof(extra));
			idx++;
			p->nextras++;
			switch (extra.type) {
			case XEN_NETIF_EXTRA_TYPE_GSO:
				p->gso_size = extra.u.gso.size;
				p->gso_type = extra.u.gso.type;
				if ((p->gso_type != XEN_NETIF_GSO_TYPE_TCPV4 &&
				     p->gso_type != XEN_NETIF_GSO_TYPE_TCPV6) ||
				    p->gso_size == 0)
					p->drop = RING_TX_DROP_BAD_GSO;
				break;
			case XEN_NETIF_EXTRA_TYPE_MCAST_ADD:
			case XEN_NETIF_EXTRA_TYPE_MCAST_DEL:
				p->mcast_op = extra.type ==
				    XEN_NETIF_EXTRA_TYPE_MCAST_ADD ?
				    RING_MCAST_ADD : RING_MCAST_DEL;
				memcpy(p->mcast_addr, extra.u.mcast.addr, 6);
				break;
			case XEN_NETIF_EXTRA_TYPE_HASH:
			case RING_EXTRA_TYPE_XDP:
				/* Hints we do not need on TX. */
				break;
			default:
				return tx_fail(q, RING_ERR_EXTRA_TYPE);
			}
		} while (extra.flags & XEN_NETIF_EXTRA_FLAG_MORE);
	}

	if (p->mcast_op != RING_MCAST_NONE) {
		/*
		 * A multicast control request carries no packet: its data
		 * slots (if any) are not part of it, as in kernel netback.
		 */
		p->len = 0;
		*cons = idx;
		return 0;
	}

	/* Data slots: the first request, then its more_data chain. */
	b->slots[b->nslots] = (struct ring_tx_slot){
		.gref = first.gref, .offset = first.offset, .size = 0 };
	p->nslots = 1;
	req = first;
	while (req.flags & NETTXF_more_data) {
		if (idx == prod || p->nslots >= RING_TX_FATAL_SLOTS)
			return tx_fail(q, RING_ERR_SLOT_CHAIN);
		RING_COPY_REQUEST(&q->r, idx, &req);
		idx++;
		if ((uint32_t)req.offset + req.size > RING_PAGE_SIZE)
			return tx_fail(q, RING_ERR_CROSS_PAGE);
		if (req.size > p->len - rest && !p->drop)
			p->drop = RING_TX_DROP_SLOT_TOO_BIG;
		rest += req.size;
		p->ids[p->nslots] = req.id;
		b->slots[b->nslots + p->nslots] = (struct ring_tx_slot){
			.gref = req.gref, .offset = req.offset,
			.size = req.size };
		p->nslots++;
	}

	if (!p->drop) {
		/* The first slot holds what the others do not. */
		uint32_t head = p->len - rest;

		if ((uint32_t)first.offset + head > RING_PAGE_SIZE)
			return tx_fail(q, RING_ERR_CROSS_PAGE);
		b->slots[b->nslots].size = (uint16_t)head;
		if (p->nslots > RING_TX_MAX_SLOTS)
			p->drop = RING_TX_DROP_TOO_MANY_SLOTS;
		else if (p->len < RING_ETH_HLEN)
			p->drop = RING_TX_DROP_RUNT;
	}
	b->nslots += p->nslots;
	*cons = idx;
	return 0;
}

int
ring_tx_poll_budget(struct ring_txq *q, struct ring_tx_burst *b,
		    uint64_t *budget)
{
	RING_IDX prod = read_idx(&q->r.sring->req_prod);
	RING_IDX cons = q->r.req_cons;

	b->npkts = 0;
	b->nslots = 0;
	b->throttled = false;
	if (RING_REQUEST_PROD_OVERFLOW(&q->r, prod))
		return tx_fail(q, RING_ERR_PROD_OVERFLOW);

	while (cons != prod && b->npkts < RING_TX_BURST_PKTS) {
		struct ring_tx_pkt *p = &b->pkts[b->npkts];
		RING_IDX at = cons;
		unsigned nslots = b->nslots;
		int r = tx_parse_one(q, b, &cons, prod, p);

		if (r < 0)
			return r;
		if (budget && p->drop == RING_TX_OK &&
		    p->mcast_op == RING_MCAST_NONE) {
			if (p->len > *budget) {
				/* Left in the ring, parsed afresh later:
				 * nothing of this read is kept. */
				cons = at;
				b->nslots = nslots;
				b->throttled = true;
				break;
			}
			*budget -= p->len;
		}
		b->npkts++;
	}
	q->r.req_cons = cons;
	return (int)b->npkts;
}

int
ring_tx_poll(struct ring_txq *q, struct ring_tx_burst *b)
{
	return ring_tx_poll_budget(q, b, NULL);
}

static inline void
tx_put(struct ring_txq *q, uint16_t id, int16_t status)
{
	netif_tx_response_t *rsp = RING_GET_RESPONSE(&q->r, q->r.rsp_prod_pvt);

	rsp->id = id;
	rsp->status = status;
	q->r.rsp_prod_pvt++;
}

void
ring_tx_respond_pkt(struct ring_txq *q, const struct ring_tx_pkt *p,
		    int16_t status)
{
	tx_put(q, p->ids[0], status);
	for (unsigned i = 0; i < p->nextras; i++)
		tx_put(q, 0, NETIF_RSP_NULL);
	for (unsigned i = 1; i < p->nslots; i++)
		tx_put(q, p->ids[i], status);
}

bool
ring_tx_push(struct ring_txq *q)
{
	int notify;

	RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&q->r, notify);
	return notify;
}

bool
ring_tx_final_check(struct ring_txq *q)
{
	int more;

	RING_FINAL_CHECK_FOR_REQUESTS(&q->r, more);
	return more;
}

unsigned
ring_tx_pending(const struct ring_txq *q)
{
	RING_IDX prod = read_idx(&q->r.sring->req_prod);
	RING_IDX n = prod - q->r.req_cons;

	return n > RING_TX_SIZE ? RING_TX_SIZE : n;
}

void
ring_rx_attach(struct ring_rxq *q, void *page)
{
	memset(q, 0, sizeof(*q));
	BACK_RING_INIT(&q->r, (netif_rx_sring_t *)page, RING_PAGE_SIZE);
	q->r.req_cons = q->r.rsp_prod_pvt = q->r.sring->rsp_prod;
}

int
ring_rx_avail(struct ring_rxq *q)
{
	RING_IDX prod = read_idx(&q->r.sring->req_prod);

	if (RING_REQUEST_PROD_OVERFLOW(&q->r, prod)) {
		q->error = RING_ERR_RX_PROD_OVERFLOW;
		return -EPROTO;
	}
	return (int)(prod - q->r.req_cons);
}

void
ring_rx_take(struct ring_rxq *q, struct ring_rx_buf *out, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		netif_rx_request_t req;

		RING_COPY_REQUEST(&q->r, q->r.req_cons + i, &req);
		out[i].id = req.id;
		out[i].gref = req.gref;
	}
	q->r.req_cons += n;
}

void
ring_rx_respond(struct ring_rxq *q, uint16_t id, uint16_t offset,
		uint16_t flags, int16_t status)
{
	netif_rx_response_t *rsp = RING_GET_RESPONSE(&q->r, q->r.rsp_prod_pvt);

	rsp->id = id;
	rsp->offset = offset;
	rsp->flags = flags;
	rsp->status = status;
	q->r.rsp_prod_pvt++;
}

void
ring_rx_respond_extra(struct ring_rxq *q, const struct netif_extra_info *x)
{
	void *slot = RING_GET_RESPONSE(&q->r, q->r.rsp_prod_pvt);

	memcpy(slot, x, sizeof(*x));
	q->r.rsp_prod_pvt++;
}

bool
ring_rx_push(struct ring_rxq *q)
{
	int notify;

	RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&q->r, notify);
	return notify;
}

bool
ring_rx_want(struct ring_rxq *q, unsigned needed)
{
	RING_IDX prod;

	do {
		prod = read_idx(&q->r.sring->req_prod);
		if (prod - q->r.req_cons >= needed)
			return true;
		q->r.sring->req_event = prod + 1;
		xen_mb();
	} while (read_idx(&q->r.sring->req_prod) != prod);
	return false;
}

unsigned
ring_rx_slots(uint32_t len, uint16_t headroom, bool gso)
{
	uint32_t room = RING_PAGE_SIZE - headroom;
	unsigned n = len == 0 ? 1 : (len + room - 1) / room;

	return n + (gso ? 1 : 0);
}
