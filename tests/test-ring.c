/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ring/ alone: a test plays the frontend on a ring page in local memory
 * (written with the public ring macros, not with ring/'s code) and checks
 * what the backend half parses and answers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ring.h"
#include "tests.h"

struct fe {
	union {
		netif_tx_sring_t s;
		char page[RING_PAGE_SIZE];
	} txp __attribute__((aligned(4096)));
	union {
		netif_rx_sring_t s;
		char page[RING_PAGE_SIZE];
	} rxp __attribute__((aligned(4096)));
	netif_tx_front_ring_t tx;
	netif_rx_front_ring_t rx;
	struct ring_txq btx;
	struct ring_rxq brx;
	struct ring_tx_burst b;
};

static struct fe *
fe_new(void)
{
	struct fe *f = aligned_alloc(4096, sizeof(*f));

	memset(f, 0, sizeof(*f));
	SHARED_RING_INIT(&f->txp.s);
	FRONT_RING_INIT(&f->tx, &f->txp.s, RING_PAGE_SIZE);
	SHARED_RING_INIT(&f->rxp.s);
	FRONT_RING_INIT(&f->rx, &f->rxp.s, RING_PAGE_SIZE);
	ring_tx_attach(&f->btx, f->txp.page);
	ring_rx_attach(&f->brx, f->rxp.page);
	return f;
}

static void
put_tx(struct fe *f, uint16_t id, uint32_t gref, uint16_t off, uint16_t flags,
       uint16_t size)
{
	netif_tx_request_t *r = RING_GET_REQUEST(&f->tx, f->tx.req_prod_pvt);

	r->id = id;
	r->gref = gref;
	r->offset = off;
	r->flags = flags;
	r->size = size;
	f->tx.req_prod_pvt++;
}

static void
put_extra(struct fe *f, uint8_t type, uint8_t flags, uint16_t gso_size,
	  uint8_t gso_type)
{
	netif_extra_info_t *x =
	    (netif_extra_info_t *)RING_GET_REQUEST(&f->tx, f->tx.req_prod_pvt);

	memset(x, 0, sizeof(netif_tx_request_t));
	x->type = type;
	x->flags = flags;
	x->u.gso.size = gso_size;
	x->u.gso.type = gso_type;
	f->tx.req_prod_pvt++;
}

static void
push(struct fe *f)
{
	RING_PUSH_REQUESTS(&f->tx);
}

TEST(tx_single_slot)
{
	struct fe *f = fe_new();

	put_tx(f, 7, 100, 64, NETTXF_csum_blank, 60);
	push(f);
	CHECK_EQ(ring_tx_poll(&f->btx, &f->b), 1);
	struct ring_tx_pkt *p = &f->b.pkts[0];
	CHECK_EQ(p->len, 60);
	CHECK_EQ(p->nslots, 1);
	CHECK_EQ(p->drop, RING_TX_OK);
	CHECK_EQ(p->flags, NETTXF_csum_blank);
	CHECK_EQ(f->b.slots[p->slot].gref, 100);
	CHECK_EQ(f->b.slots[p->slot].offset, 64);
	CHECK_EQ(f->b.slots[p->slot].size, 60);

	ring_tx_respond_pkt(&f->btx, p, NETIF_RSP_OKAY);
	CHECK(ring_tx_push(&f->btx)); /* rsp_event starts at 1 */
	CHECK_EQ(f->tx.sring->rsp_prod, 1);
	netif_tx_response_t *rsp = RING_GET_RESPONSE(&f->tx, 0);
	CHECK_EQ(rsp->id, 7);
	CHECK_EQ(rsp->status, NETIF_RSP_OKAY);
	/* nothing more */
	CHECK_EQ(ring_tx_poll(&f->btx, &f->b), 0);
}

TEST(tx_multi_slot_and_gso)
{
	struct fe *f = fe_new();

	/* 5000 bytes: first slot 3000 (size says 5000), then 2000. */
	put_tx(f, 1, 10, 0, NETTXF_more_data | NETTXF_extra_info, 5000);
	put_extra(f, XEN_NETIF_EXTRA_TYPE_GSO, 0, 1448,
		  XEN_NETIF_GSO_TYPE_TCPV4);
	put_tx(f, 2, 11, 100, 0, 2000);
	push(f);
	CHECK_EQ(ring_tx_poll(&f->btx, &f->b), 1);
	struct ring_tx_pkt *p = &f->b.pkts[0];
	CHECK_EQ(p->drop, RING_TX_OK);
	CHECK_EQ(p->len, 5000);
	CHECK_EQ(p->nslots, 2);
	CHECK_EQ(p->nextras, 1);
	CHECK_EQ(p->gso_size, 1448);
	CHECK_EQ(p->gso_type, XEN_NETIF_GSO_TYPE_TCPV4);
	CHECK_EQ(f->b.slots[p->slot].size, 3000);
	CHECK_EQ(f->b.slots[p->slot + 1].size, 2000);
	CHECK_EQ(f->b.slots[p->slot + 1].offset, 100);

	ring_tx_respond_pkt(&f->btx, p, NETIF_RSP_OKAY);
	ring_tx_push(&f->btx);
	CHECK_EQ(f->tx.sring->rsp_prod, 3);
	CHECK_EQ(RING_GET_RESPONSE(&f->tx, 0)->id, 1);
	CHECK_EQ(RING_GET_RESPONSE(&f->tx, 1)->status, NETIF_RSP_NULL);
	CHECK_EQ(RING_GET_RESPONSE(&f->tx, 2)->id, 2);
}

TEST(tx_drops_answered_with_error)
{
	struct fe *f = fe_new();

	/* runt */
	put_tx(f, 1, 10, 0, 0, 10);
	/* slot bigger than the packet */
	put_tx(f, 2, 10, 0, NETTXF_more_data, 100);
	put_tx(f, 3, 10, 0, 0, 200);
	/* GSO with a zero MSS */
	put_tx(f, 4, 10, 0, NETTXF_extra_info, 100);
	put_extra(f, XEN_NETIF_EXTRA_TYPE_GSO, 0, 0, XEN_NETIF_GSO_TYPE_TCPV4);
	/* 19 slots: more than served, fewer than fatal */
	for (int i = 0; i < 19; i++)
		put_tx(f, (uint16_t)(10 + i), 10, 0,
		       i < 18 ? NETTXF_more_data : 0, i == 0 ? 19 * 60 : 60);
	push(f);
	CHECK_EQ(ring_tx_poll(&f->btx, &f->b), 4);
	CHECK_EQ(f->b.pkts[0].drop, RING_TX_DROP_RUNT);
	CHECK_EQ(f->b.pkts[1].drop, RING_TX_DROP_SLOT_TOO_BIG);
	CHECK_EQ(f->b.pkts[2].drop, RING_TX_DROP_BAD_GSO);
	CHECK_EQ(f->b.pkts[3].drop, RING_TX_DROP_TOO_MANY_SLOTS);
	CHECK_EQ(f->b.pkts[3].nslots, 19);
	for (int i = 0; i < 4; i++)
		ring_tx_respond_pkt(&f->btx, &f->b.pkts[i], NETIF_RSP_ERROR);
	ring_tx_push(&f->btx);
	/* every request answered: 1 + 2 + 2 + 19 */
	CHECK_EQ(f->tx.sring->rsp_prod, 24);
}

TEST(tx_fatal_producer_overflow)
{
	struct fe *f = fe_new();

	f->txp.s.req_prod = RING_TX_SIZE + 5;
	CHECK_EQ(ring_tx_poll(&f->btx, &f->b), -EPROTO);
	CHECK_EQ(f->btx.error, RING_ERR_PROD_OVERFLOW);
}

TEST(tx_fatal_endless_chain)
{
	struct fe *f = fe_new();

	for (int i = 0; i < 25; i++)
		put_tx(f, (uint16_t)i, 1, 0, NETTXF_more_data, 100);
	push(f);
	CHECK_EQ(ring_tx_poll(&f->btx, &f->b), -EPROTO);
	CHECK_EQ(f->btx.error, RING_ERR_SLOT_CHAIN);
}

TEST(tx_fatal_chain_cut_at_producer)
{
	struct fe *f = fe_new();

	put_tx(f, 1, 1, 0, NETTXF_more_data, 100);
	push(f);
	CHECK_EQ(ring_tx_poll(&f->btx, &f->b), -EPROTO);
	CHECK_EQ(f->btx.error, RING_ERR_SLOT_CHAIN);
}

TEST(tx_fatal_cross_page)
{
	struct fe *f = fe_new();

	put_tx(f, 1, 1, 4000, 0, 200);
	push(f);
	CHECK_EQ(ring_tx_poll(&f->btx, &f->b), -EPROTO);
	CHECK_EQ(f->btx.error, RING_ERR_CROSS_PAGE);

	f = fe_new();
	put_tx(f, 1, 1, 0, NETTXF_more_data, 300);
	put_tx(f, 2, 1, 4090, 0, 100);
	push(f);
	CHECK_EQ(ring_tx_poll(&f->btx, &f->b), -EPROTO);
	CHECK_EQ(f->btx.error, RING_ERR_CROSS_PAGE);
}

TEST(tx_fatal_extras)
{
	struct fe *f = fe_new();

	put_tx(f, 1, 1, 0, NETTXF_extra_info, 100);
	put_extra(f, 9, 0, 0, 0);
	push(f);
	CHECK_EQ(ring_tx_poll(&f->btx, &f->b), -EPROTO);
	CHECK_EQ(f->btx.error, RING_ERR_EXTRA_TYPE);

	f = fe_new();
	put_tx(f, 1, 1, 0, NETTXF_extra_info, 100);
	put_extra(f, XEN_NETIF_EXTRA_TYPE_GSO, XEN_NETIF_EXTRA_FLAG_MORE, 1448,
		  XEN_NETIF_GSO_TYPE_TCPV4);
	push(f);
	CHECK_EQ(ring_tx_poll(&f->btx, &f->b), -EPROTO);
	CHECK_EQ(f->btx.error, RING_ERR_EXTRA_MISSING);
}

TEST(tx_mcast_request_has_no_data)
{
	struct fe *f = fe_new();
	netif_extra_info_t *x;

	put_tx(f, 5, 0, 0, NETTXF_extra_info, 0);
	x = (netif_extra_info_t *)RING_GET_REQUEST(&f->tx, f->tx.req_prod_pvt);
	memset(x, 0, sizeof(netif_tx_request_t));
	x->type = XEN_NETIF_EXTRA_TYPE_MCAST_ADD;
	memcpy(x->u.mcast.addr, "\x01\x00\x5e\x00\x00\x01", 6);
	f->tx.req_prod_pvt++;
	push(f);
	CHECK_EQ(ring_tx_poll(&f->btx, &f->b), 1);
	CHECK_EQ(f->b.pkts[0].mcast_op, RING_MCAST_ADD);
	CHECK_EQ(f->b.pkts[0].nslots, 0);
	CHECK(memcmp(f->b.pkts[0].mcast_addr, "\x01\x00\x5e\x00\x00\x01", 6) ==
	      0);
	ring_tx_respond_pkt(&f->btx, &f->b.pkts[0], NETIF_RSP_OKAY);
	ring_tx_push(&f->btx);
	CHECK_EQ(f->tx.sring->rsp_prod, 2);
	CHECK_EQ(RING_GET_RESPONSE(&f->tx, 0)->id, 5);
}

TEST(tx_request_copied_once)
{
	struct fe *f = fe_new();

	put_tx(f, 1, 10, 0, 0, 60);
	push(f);
	CHECK_EQ(ring_tx_poll(&f->btx, &f->b), 1);
	/* The guest rewrites the request after we read it: no effect. */
	RING_GET_REQUEST(&f->tx, 0)->size = 9000;
	RING_GET_REQUEST(&f->tx, 0)->offset = 4000;
	CHECK_EQ(f->b.pkts[0].len, 60);
	CHECK_EQ(f->b.slots[0].offset, 0);
}

TEST(tx_burst_limit_and_final_check)
{
	struct fe *f = fe_new();

	for (int i = 0; i < 40; i++)
		put_tx(f, (uint16_t)i, 1, 0, 0, 60);
	push(f);
	CHECK_EQ(ring_tx_poll(&f->btx, &f->b), RING_TX_BURST_PKTS);
	CHECK_EQ(ring_tx_pending(&f->btx), 40 - RING_TX_BURST_PKTS);
	CHECK(ring_tx_final_check(&f->btx));
	CHECK_EQ(ring_tx_poll(&f->btx, &f->b), 40 - RING_TX_BURST_PKTS);
	/* Now empty: final check arms req_event for the next request. */
	CHECK(!ring_tx_final_check(&f->btx));
	CHECK_EQ(f->txp.s.req_event, 41);
	int notify;
	put_tx(f, 99, 1, 0, 0, 60);
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&f->tx, notify);
	CHECK(notify);
}

TEST(tx_response_hold_off)
{
	struct fe *f = fe_new();

	put_tx(f, 1, 1, 0, 0, 60);
	put_tx(f, 2, 1, 0, 0, 60);
	push(f);
	CHECK_EQ(ring_tx_poll(&f->btx, &f->b), 2);
	/* The frontend wants a notification only after 2 responses. */
	f->txp.s.rsp_event = 2;
	ring_tx_respond_pkt(&f->btx, &f->b.pkts[0], NETIF_RSP_OKAY);
	CHECK(!ring_tx_push(&f->btx));
	ring_tx_respond_pkt(&f->btx, &f->b.pkts[1], NETIF_RSP_OKAY);
	CHECK(ring_tx_push(&f->btx));
}

TEST(rx_take_and_respond)
{
	struct fe *f = fe_new();
	struct ring_rx_buf bufs[4];

	CHECK_EQ(ring_rx_avail(&f->brx), 0);
	CHECK(!ring_rx_want(&f->brx, 1));
	CHECK_EQ(f->rxp.s.req_event, 1);
	for (int i = 0; i < 3; i++) {
		netif_rx_request_t *r =
		    RING_GET_REQUEST(&f->rx, f->rx.req_prod_pvt++);
		r->id = (uint16_t)(40 + i);
		r->gref = (uint32_t)(500 + i);
	}
	int notify;
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&f->rx, notify);
	CHECK(notify);
	CHECK_EQ(ring_rx_avail(&f->brx), 3);
	CHECK(ring_rx_want(&f->brx, 2));
	ring_rx_take(&f->brx, bufs, 2);
	CHECK_EQ(bufs[0].id, 40);
	CHECK_EQ(bufs[1].gref, 501);
	CHECK_EQ(ring_rx_avail(&f->brx), 1);
	ring_rx_respond(&f->brx, bufs[0].id, 0,
			NETRXF_more_data | NETRXF_data_validated, 4096);
	ring_rx_respond(&f->brx, bufs[1].id, 0, 0, 100);
	CHECK(ring_rx_push(&f->brx));
	netif_rx_response_t *rsp = RING_GET_RESPONSE(&f->rx, 0);
	CHECK_EQ(rsp->id, 40);
	CHECK_EQ(rsp->status, 4096);
	CHECK_EQ(rsp->flags, NETRXF_more_data | NETRXF_data_validated);
	CHECK_EQ(RING_GET_RESPONSE(&f->rx, 1)->status, 100);
}

TEST(rx_fatal_producer_overflow)
{
	struct fe *f = fe_new();

	f->rxp.s.req_prod = 1000;
	CHECK_EQ(ring_rx_avail(&f->brx), -EPROTO);
	CHECK_EQ(f->brx.error, RING_ERR_RX_PROD_OVERFLOW);
}

TEST(rx_slots)
{
	CHECK_EQ(ring_rx_slots(60, 0, false), 1);
	CHECK_EQ(ring_rx_slots(4096, 0, false), 1);
	CHECK_EQ(ring_rx_slots(4097, 0, false), 2);
	CHECK_EQ(ring_rx_slots(65535, 0, true), 17);
}

TEST(names)
{
	CHECK_STREQ(ring_tx_drop_name(RING_TX_DROP_RUNT),
		    "shorter-than-ethernet-header");
	CHECK_STREQ(ring_error_name(RING_ERR_PROD_OVERFLOW),
		    "request producer beyond ring size");
	CHECK_STREQ(ring_error_name((enum ring_error)99), "?");
}

TESTS_MAIN()
