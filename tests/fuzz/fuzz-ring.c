/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Fuzz ring/: the input is a guest's view of a TX and an RX ring page
 * (request slots and producer indices), then a few "rewrites" the guest
 * makes between polls. The backend half must never read outside the
 * pages, never loop forever, answer every request it consumed, and flag
 * violations with -EPROTO.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ring.h"

static union {
	netif_tx_sring_t s;
	char page[RING_PAGE_SIZE];
} txp __attribute__((aligned(4096)));
static union {
	netif_rx_sring_t s;
	char page[RING_PAGE_SIZE];
} rxp __attribute__((aligned(4096)));
static struct ring_tx_burst burst;

static void
check_pkt(const struct ring_tx_burst *b, const struct ring_tx_pkt *p)
{
	uint32_t sum = 0;

	if (p->nslots > RING_TX_FATAL_SLOTS ||
	    p->slot + p->nslots > b->nslots)
		abort();
	if (p->drop != RING_TX_OK || p->mcast_op != RING_MCAST_NONE)
		return;
	for (unsigned i = 0; i < p->nslots; i++) {
		const struct ring_tx_slot *s = &b->slots[p->slot + i];

		if ((uint32_t)s->offset + s->size > RING_PAGE_SIZE)
			abort();
		sum += s->size;
	}
	if (sum != p->len || p->len < RING_ETH_HLEN)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ring_txq tx;
	struct ring_rxq rx;
	size_t half = sizeof(txp.page);

	memset(&txp, 0, sizeof(txp));
	memset(&rxp, 0, sizeof(rxp));
	memcpy(txp.page, data, size < half ? size : half);
	if (size > half)
		memcpy(rxp.page, data + half,
		       size - half < half ? size - half : half);
	/* The backend attaches where the responses stand. */
	ring_tx_attach(&tx, txp.page);
	ring_rx_attach(&rx, rxp.page);

	for (int round = 0; round < 4; round++) {
		RING_IDX before = tx.r.req_cons;
		int n = ring_tx_poll(&tx, &burst);

		if (n < 0) {
			if (n != -EPROTO || tx.error == RING_ERR_NONE)
				abort();
			break;
		}
		for (int i = 0; i < n; i++) {
			check_pkt(&burst, &burst.pkts[i]);
			ring_tx_respond_pkt(&tx, &burst.pkts[i],
					    burst.pkts[i].drop ? NETIF_RSP_ERROR
							       : NETIF_RSP_OKAY);
		}
		ring_tx_push(&tx);
		/* Every consumed request got exactly one response. */
		if (tx.r.rsp_prod_pvt != tx.r.req_cons)
			abort();
		if (n == 0 && tx.r.req_cons != before)
			abort();
		ring_tx_final_check(&tx);
		/* The guest moves its producer again. */
		if (size > 2 * half + (size_t)round * 4 + 4) {
			uint32_t v;

			memcpy(&v, data + 2 * half + round * 4, 4);
			txp.s.req_prod = tx.r.req_cons + (v % 300);
		}
	}

	int avail = ring_rx_avail(&rx);
	if (avail >= 0) {
		struct ring_rx_buf bufs[RING_RX_SIZE];
		unsigned n = (unsigned)avail;

		if (n > RING_RX_SIZE)
			abort();
		ring_rx_take(&rx, bufs, n);
		for (unsigned i = 0; i < n; i++)
			ring_rx_respond(&rx, bufs[i].id, 0, 0, 60);
		ring_rx_push(&rx);
		ring_rx_want(&rx, 1);
	} else if (rx.error != RING_ERR_RX_PROD_OVERFLOW) {
		abort();
	}
	return 0;
}
