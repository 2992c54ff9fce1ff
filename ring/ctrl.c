/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <string.h>

#include "ctrl.h"

_Static_assert(__CONST_RING_SIZE(xen_netif_ctrl, RING_PAGE_SIZE) ==
	       CTRL_RING_SIZE, "ctrl ring size");
_Static_assert(sizeof(struct xen_netif_gref) == 8, "gref entry size");
_Static_assert(CTRL_HASH_MAPPING_MAX <= CTRL_MAPPING_PAGE_MAX,
	       "a whole mapping table fits the scratch page");

#define ST_OK XEN_NETIF_CTRL_STATUS_SUCCESS
#define ST_NOTSUP XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED
#define ST_INVAL XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER
#define ST_OVERFLOW XEN_NETIF_CTRL_STATUS_BUFFER_OVERFLOW

void
ctrl_hash_init(struct ctrl_hash *h)
{
	memset(h, 0, sizeof(*h));
	h->algorithm = XEN_NETIF_CTRL_HASH_ALGORITHM_NONE;
}

/* ---- Toeplitz ---- */

uint32_t
ctrl_toeplitz(const uint8_t *key, const uint8_t *data, unsigned len)
{
	/*
	 * A 64-bit window over the key: its top 32 bits are the key bits
	 * aligned with the current data bit; a whole key byte is shifted
	 * in below them after each data byte. Key bytes past the end are 0.
	 */
	uint64_t win = 0;
	uint32_t hash = 0;
	unsigned k;

	for (k = 0; k < 8; k++)
		win = (win << 8) | (k < CTRL_HASH_KEY_MAX ? key[k] : 0);
	for (unsigned i = 0; i < len; i++, k++) {
		for (int bit = 7; bit >= 0; bit--) {
			if (data[i] & (1u << bit))
				hash ^= (uint32_t)(win >> 32);
			win <<= 1;
		}
		win |= k < CTRL_HASH_KEY_MAX ? key[k] : 0;
	}
	return hash;
}

/* ---- frame parsing ---- */

#define ETH_P_IPV4 0x0800
#define ETH_P_IPV6 0x86dd
#define ETH_P_8021Q 0x8100
#define IPPROTO_TCP_ 6

static inline uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

bool
ctrl_hash_frame(const struct ctrl_hash *h, const uint8_t *frame,
		unsigned len, uint32_t *hash, uint8_t *type)
{
	uint8_t buf[36]; /* largest input: two IPv6 addresses and ports */
	unsigned l3 = 14, n = 0, t;
	const uint8_t *ip;
	uint16_t proto;

	if (h->algorithm != XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ ||
	    !(h->flags & CTRL_HASH_FLAGS_SUPPORTED) || len < 14)
		return false;
	proto = be16(frame + 12);
	if (proto == ETH_P_8021Q) {
		if (len < 18)
			return false;
		proto = be16(frame + 16);
		l3 = 18;
	}
	ip = frame + l3;

	if (proto == ETH_P_IPV4) {
		unsigned ihl;

		if (len - l3 < 20 || (ip[0] >> 4) != 4)
			return false;
		ihl = (ip[0] & 0xf) * 4u;
		if (ihl < 20 || len - l3 < ihl)
			return false;
		memcpy(buf, ip + 12, 8);
		n = 8;
		t = _XEN_NETIF_CTRL_HASH_TYPE_IPV4;
		/* Ports only from an unfragmented TCP header that is there. */
		if ((h->flags & XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP) &&
		    ip[9] == IPPROTO_TCP_ && (be16(ip + 6) & 0x3fff) == 0 &&
		    len - l3 - ihl >= 4) {
			memcpy(buf + 8, ip + ihl, 4);
			n = 12;
			t = _XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP;
		}
	} else if (proto == ETH_P_IPV6) {
		if (len - l3 < 40 || (ip[0] >> 4) != 6)
			return false;
		memcpy(buf, ip + 8, 32);
		n = 32;
		t = _XEN_NETIF_CTRL_HASH_TYPE_IPV6;
		if ((h->flags & XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP) &&
		    ip[6] == IPPROTO_TCP_ && len - l3 - 40 >= 4) {
			memcpy(buf + 32, ip + 40, 4);
			n = 36;
			t = _XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP;
		}
	} else {
		return false;
	}

	if (!(h->flags & (1u << t)))
		return false;
	*hash = ctrl_toeplitz(h->key, buf, n);
	*type = (uint8_t)t;
	return true;
}

unsigned
ctrl_hash_queue(const struct ctrl_hash *h, uint32_t hash, unsigned nqueues)
{
	unsigned q;

	if (nqueues == 0)
		return 0;
	if (h->size == 0 || h->size > CTRL_HASH_MAPPING_MAX)
		return hash % nqueues;
	q = h->mapping[hash % h->size];
	/* Entries were checked against the queues of their time. */
	return q < nqueues ? q : q % nqueues;
}

/* ---- requests ---- */

static uint32_t
set_hash_key(struct ctrl_hash *h, const struct ctrl_ops *ops,
	     uint32_t gref, uint32_t len)
{
	uint8_t key[CTRL_HASH_KEY_MAX] = { 0 };

	if (len > CTRL_HASH_KEY_MAX)
		return ST_OVERFLOW;
	if (len && ops->read(ops->arg, gref, 0, key, len) < 0)
		return ST_INVAL;
	memcpy(h->key, key, sizeof(key));
	return ST_OK;
}

static uint32_t
set_hash_mapping(struct ctrl_hash *h, unsigned nqueues,
		 const struct ctrl_ops *ops, uint32_t gref, uint32_t len,
		 uint32_t off)
{
	/* off + len <= size <= CTRL_HASH_MAPPING_MAX bounds the scratch. */
	uint32_t map[CTRL_HASH_MAPPING_MAX];

	if (off + len < off || off + len > h->size ||
	    len > CTRL_MAPPING_PAGE_MAX)
		return ST_INVAL;
	if (len == 0)
		return ST_OK;
	if (ops->read(ops->arg, gref, 0, map, len * sizeof(map[0])) < 0)
		return ST_INVAL;
	for (uint32_t i = 0; i < len; i++)
		if (map[i] >= nqueues)
			return ST_INVAL;
	memcpy(&h->mapping[off], map, len * sizeof(map[0]));
	return ST_OK;
}

/* Copy a xen_netif_gref table of n entries (1..one page) out of gref. */
static int
read_gref_table(const struct ctrl_ops *ops, uint32_t gref, uint32_t n,
		struct xen_netif_gref *t)
{
	if (n == 0 || n > CTRL_GREF_TABLE_MAX)
		return -EINVAL;
	return ops->read(ops->arg, gref, 0, t, n * sizeof(*t));
}

static uint32_t
add_gref_mapping(const struct ctrl_ops *ops, uint32_t gref, uint32_t n)
{
	struct xen_netif_gref t[CTRL_GREF_TABLE_MAX];
	uint32_t i;

	if (read_gref_table(ops, gref, n, t) < 0)
		return ST_INVAL;
	for (i = 0; i < n; i++) {
		bool ro = t[i].flags & XEN_NETIF_CTRLF_GREF_readonly;

		if (ops->gref_add(ops->arg, t[i].ref, ro) < 0)
			break;
	}
	if (i == n)
		return ST_OK;
	/* All or nothing (netif.h): undo what this request added. */
	while (i-- > 0)
		(void)ops->gref_del(ops->arg, t[i].ref);
	return ST_INVAL;
}

static uint32_t
del_gref_mapping(const struct ctrl_ops *ops, uint32_t gref, uint32_t n,
		 uint32_t *removed)
{
	struct xen_netif_gref t[CTRL_GREF_TABLE_MAX];
	uint32_t st = ST_OK;

	*removed = 0;
	if (read_gref_table(ops, gref, n, t) < 0)
		return ST_INVAL;
	for (uint32_t i = 0; i < n; i++) {
		uint16_t s = ST_INVAL;

		if (ops->gref_del(ops->arg, t[i].ref) == 0) {
			s = ST_OK;
			(*removed)++;
		}
		/* Only the status field is ours to write. */
		if (ops->write(ops->arg, gref,
			       i * sizeof(t[i]) +
				   offsetof(struct xen_netif_gref, status),
			       &s, sizeof(s)) < 0)
			st = ST_INVAL;
	}
	/* Unmapped or not, a status we could not report fails the call. */
	return st;
}

void
ctrl_handle(struct ctrl_hash *h, unsigned nqueues, const struct ctrl_ops *ops,
	    const struct xen_netif_ctrl_request *req,
	    struct xen_netif_ctrl_response *rsp)
{
	uint32_t st = ST_NOTSUP, data = 0;

	switch (req->type) {
	case XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS:
		st = ST_OK;
		data = CTRL_HASH_FLAGS_SUPPORTED;
		break;
	case XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS:
		if (req->data[0] & ~(uint32_t)CTRL_HASH_FLAGS_SUPPORTED) {
			st = ST_INVAL;
		} else {
			h->flags = req->data[0];
			st = ST_OK;
		}
		break;
	case XEN_NETIF_CTRL_TYPE_SET_HASH_KEY:
		st = set_hash_key(h, ops, req->data[0], req->data[1]);
		break;
	case XEN_NETIF_CTRL_TYPE_GET_HASH_MAPPING_SIZE:
		st = ST_OK;
		data = CTRL_HASH_MAPPING_MAX;
		break;
	case XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE:
		if (req->data[0] > CTRL_HASH_MAPPING_MAX) {
			st = ST_INVAL;
		} else {
			/* A new table is zero filled (netif.h). */
			memset(h->mapping, 0, sizeof(h->mapping));
			h->size = req->data[0];
			st = ST_OK;
		}
		break;
	case XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING:
		st = set_hash_mapping(h, nqueues, ops, req->data[0],
				      req->data[1], req->data[2]);
		break;
	case XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM:
		if (req->data[0] == XEN_NETIF_CTRL_HASH_ALGORITHM_NONE ||
		    req->data[0] == XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ) {
			h->algorithm = req->data[0];
			st = ST_OK;
		} else {
			st = ST_INVAL;
		}
		break;
	case XEN_NETIF_CTRL_TYPE_GET_GREF_MAPPING_SIZE:
		if (!ops->gref_add) {
			st = ST_NOTSUP;
		} else if (req->data[0] >= nqueues) {
			st = ST_INVAL;
		} else {
			st = ST_OK;
			data = CTRL_GREF_MAX;
		}
		break;
	case XEN_NETIF_CTRL_TYPE_ADD_GREF_MAPPING:
		if (!ops->gref_add || !ops->gref_del)
			st = ST_NOTSUP;
		else if (req->data[0] >= nqueues)
			st = ST_INVAL;
		else
			st = add_gref_mapping(ops, req->data[1], req->data[2]);
		break;
	case XEN_NETIF_CTRL_TYPE_DEL_GREF_MAPPING:
		if (!ops->gref_add || !ops->gref_del || !ops->write)
			st = ST_NOTSUP;
		else if (req->data[0] >= nqueues)
			st = ST_INVAL;
		else
			st = del_gref_mapping(ops, req->data[1], req->data[2],
					      &data);
		break;
	default: /* INVALID and anything newer than us */
		st = ST_NOTSUP;
		break;
	}

	rsp->id = req->id;
	rsp->type = req->type;
	rsp->status = st;
	rsp->data = data;
}

/* ---- the shared ring ---- */

/* The guest may change the index at any time: read it exactly once. */
static inline RING_IDX
read_idx(const volatile RING_IDX *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

void
ctrl_ring_init(struct ctrl_ring *r, void *shared_page)
{
	memset(r, 0, sizeof(*r));
	BACK_RING_INIT(&r->back, (xen_netif_ctrl_sring_t *)shared_page,
		       RING_PAGE_SIZE);
}

int
ctrl_ring_take(struct ctrl_ring *r, struct xen_netif_ctrl_request *out,
	       unsigned max)
{
	RING_IDX prod = read_idx(&r->back.sring->req_prod);
	unsigned n = 0;

	/*
	 * Beyond a ring ahead of what we answered, or behind what we took.
	 * Passing this also means every request taken below has a response
	 * slot waiting for it.
	 */
	if (RING_REQUEST_PROD_OVERFLOW(&r->back, prod) ||
	    prod - r->back.req_cons > RING_SIZE(&r->back))
		return -EPROTO;
	while (r->back.req_cons != prod && n < max) {
		RING_COPY_REQUEST(&r->back, r->back.req_cons, &out[n]);
		r->back.req_cons++;
		n++;
	}
	return (int)n;
}

int
ctrl_ring_respond(struct ctrl_ring *r,
		  const struct xen_netif_ctrl_response *rsp)
{
	/* A response slot is free only once its request was taken. */
	if (r->back.rsp_prod_pvt == r->back.req_cons)
		return -ENOSPC;
	*RING_GET_RESPONSE(&r->back, r->back.rsp_prod_pvt) = *rsp;
	r->back.rsp_prod_pvt++;
	return 0;
}

bool
ctrl_ring_push(struct ctrl_ring *r)
{
	int notify;

	RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&r->back, notify);
	return notify;
}

bool
ctrl_ring_more(struct ctrl_ring *r)
{
	int more;

	RING_FINAL_CHECK_FOR_REQUESTS(&r->back, more);
	return more;
}
