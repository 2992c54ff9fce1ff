/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Fuzz ring/ctrl.c: the input is a hostile frontend's control ring page
 * (requests and producer index) followed by the contents of two grant
 * pages its requests may name (keys, mappings, gref tables). The backend
 * half must answer every request it took with the request's id and
 * type, never read or write outside the pages, keep its hash state
 * within bounds whatever it was asked, and flag a bad producer with
 * -EPROTO.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl.h"

#define NPAGES 2
#define NQUEUES 4

static union {
	xen_netif_ctrl_sring_t s;
	char page[RING_PAGE_SIZE];
} cp __attribute__((aligned(4096)));
static uint8_t pages[NPAGES][RING_PAGE_SIZE];
static unsigned nmapped;
static uint32_t mapped[64];

static int
rd(void *arg, uint32_t gref, uint32_t off, void *buf, uint32_t len)
{
	(void)arg;
	if (gref >= NPAGES || off > RING_PAGE_SIZE ||
	    len > RING_PAGE_SIZE - off)
		return -EFAULT;
	memcpy(buf, pages[gref] + off, len);
	return 0;
}

static int
wr(void *arg, uint32_t gref, uint32_t off, const void *buf, uint32_t len)
{
	(void)arg;
	if (gref >= NPAGES || off > RING_PAGE_SIZE ||
	    len > RING_PAGE_SIZE - off)
		return -EFAULT;
	memcpy(pages[gref] + off, buf, len);
	return 0;
}

static int
gadd(void *arg, uint32_t gref, bool ro)
{
	(void)arg;
	(void)ro;
	for (unsigned i = 0; i < nmapped; i++)
		if (mapped[i] == gref)
			return -EEXIST;
	if (nmapped == 64)
		return -ENOSPC;
	if (gref & 0x80000000u)
		return -EFAULT; /* a grant the hypervisor refuses */
	mapped[nmapped++] = gref;
	return 0;
}

static int
gdel(void *arg, uint32_t gref)
{
	(void)arg;
	for (unsigned i = 0; i < nmapped; i++) {
		if (mapped[i] == gref) {
			mapped[i] = mapped[--nmapped];
			return 0;
		}
	}
	return -ENOENT;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct ctrl_ops ops = {
		.read = rd, .write = wr, .gref_add = gadd, .gref_del = gdel,
	};
	struct xen_netif_ctrl_request req[CTRL_RING_SIZE];
	struct ctrl_ring r;
	struct ctrl_hash h;
	size_t n = size < sizeof(cp.page) ? size : sizeof(cp.page);

	memset(&cp, 0, sizeof(cp));
	memset(pages, 0, sizeof(pages));
	memcpy(cp.page, data, n);
	for (unsigned i = 0; i < NPAGES && size > n; i++) {
		size_t k = size - n < RING_PAGE_SIZE ? size - n
						      : RING_PAGE_SIZE;

		memcpy(pages[i], data + n, k);
		n += k;
	}
	/* The frontend's response side starts where it says. */
	cp.s.rsp_prod = cp.s.req_event = 0;
	nmapped = 0;
	ctrl_hash_init(&h);
	ctrl_ring_init(&r, cp.page);
	for (int round = 0; round < 4; round++) {
		int k = ctrl_ring_take(&r, req, CTRL_RING_SIZE);

		if (k < 0) {
			if (k != -EPROTO)
				abort();
			break;
		}
		for (int i = 0; i < k; i++) {
			struct xen_netif_ctrl_response rsp;

			ctrl_handle(&h, NQUEUES, &ops, &req[i], &rsp);
			if (rsp.id != req[i].id || rsp.type != req[i].type ||
			    rsp.status > XEN_NETIF_CTRL_STATUS_BUFFER_OVERFLOW)
				abort();
			if (ctrl_ring_respond(&r, &rsp) < 0)
				abort(); /* take() promised a slot */
		}
		ctrl_ring_push(&r);
		if (h.size > CTRL_HASH_MAPPING_MAX)
			abort();
		for (unsigned i = 0; i < h.size; i++)
			if (h.mapping[i] >= NQUEUES)
				abort();
		/* The hash over the input as a frame, and its queue. */
		uint32_t hv;
		uint8_t type;
		if (ctrl_hash_frame(&h, data, (unsigned)(size < 256 ? size : 256),
				    &hv, &type)) {
			if (type > _XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP ||
			    ctrl_hash_queue(&h, hv, NQUEUES) >= NQUEUES)
				abort();
		}
		if (!ctrl_ring_more(&r))
			break;
	}
	return 0;
}
