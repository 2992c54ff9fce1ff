/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Hostile frontends against a real netbackd: each case is one misbehaving
 * guest beside two honest ones that must keep forwarding. A protocol
 * violation disconnects only the offender (state Closing, a reason in
 * `error`, its grants unmapped); a malformed packet is answered with an
 * error and dropped.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xenstore.h>
#include <xen/io/netif.h>

#include "simenv.h"
#include "simfront.h"
#include "simhv.h"
#include "tests.h"

struct bed {
	struct simenv e;
	struct simfront *good[2], *evil;
	struct simtool_vif tv[3];
};

static struct simfront *
up(struct bed *b, unsigned i, uint16_t domid)
{
	struct simfront_conf c;
	struct simfront *f;

	CHECK_EQ(simtool_domain_create(b->e.xs, b->e.hv, domid,
				       simfront_pages(1)), 0);
	b->tv[i].domid = domid;
	const uint8_t mac[6] = { 0x00, 0x16, 0x3e, 0, 0, (uint8_t)domid };
	memcpy(b->tv[i].mac, mac, 6);
	CHECK_EQ(simtool_vif_add(b->e.xs, &b->tv[i]), 0);
	simfront_conf_default(&c, b->e.hv, domid, 0);
	f = simfront_new(&c, b->e.xs);
	CHECK(f != NULL);
	CHECK_EQ(simfront_connect(f, 10000), 0);
	return f;
}

static void
bed_up(struct bed *b)
{
	memset(b, 0, sizeof(*b));
	simenv_init(&b->e);
	simenv_start_netbackd(&b->e, NULL);
	b->good[0] = up(b, 0, 1);
	b->good[1] = up(b, 1, 2);
	b->evil = up(b, 2, 3);
}

/* The honest pair exchanges n frames both ways; all must arrive. */
static void
honest_traffic(struct bed *b, unsigned n)
{
	static uint8_t f[128], r[65536];

	for (int dir = 0; dir < 2; dir++) {
		struct simfront *from = b->good[dir], *to = b->good[!dir];
		unsigned got = 0;

		for (unsigned i = 0; i < n; i++) {
			int r, t = 0;

			memcpy(f, b->tv[!dir].mac, 6);
			memcpy(f + 6, b->tv[dir].mac, 6);
			f[12] = 0x88;
			f[13] = 0xb5;
			f[14] = (uint8_t)i;
			/* A full ring drains as netbackd answers. */
			while ((r = simfront_send(from, 0, f, 100, NULL)) ==
				   -ENOSPC && t++ < 500) {
				simfront_flush(from, 0);
				simfront_poll(from, 5);
			}
			CHECK_EQ(r, 0);
		}
		simfront_flush(from, 0);
		for (int t = 0; t < 500 && got < n; t++) {
			simfront_poll(to, 5);
			simfront_poll(from, 0);
			int n;

			while ((n = simfront_recv(to, 0, r, sizeof(r), NULL)) !=
			       -EAGAIN)
				if (n == 100)
					got++;
		}
		if (got < n) {
			/* Have netbackd log its counters for the dump. */
			kill(b->e.netbackd, SIGHUP);
			usleep(300000);
			struct simfront_stats st;
			simfront_stats(from, 0, &st);
			FAIL("honest guests: %u of %u frames (sender: %lu sent, "
			     "%lu ok, %lu err, %lu dropped, %lu notifies)",
			     got, n, st.tx_packets, st.tx_ok, st.tx_error,
			     st.tx_dropped, st.notify_sent);
		}
	}
}

static void
expect_disconnected(struct bed *b, const char *reason)
{
	char *err;

	if (!simenv_wait_value(&b->e, "/local/domain/0/backend/vif/3/0/state",
			       "5", 5000))
		FAIL("the hostile vif was not disconnected");
	err = simenv_read(&b->e, "/local/domain/0/backend/vif/3/0/error");
	if (!err || !strstr(err, reason))
		FAIL("error '%s', want '%s'", err ? err : "(none)", reason);
	free(err);
	CHECK_EQ(simhv_domain_mapped(b->e.hv, 3), 0);
	CHECK(simenv_log_contains(&b->e, "vif3.0: protocol violation"));
}

static void
push_tx(struct bed *b, uint16_t id, uint32_t gref, uint16_t off,
	uint16_t flags, uint16_t size)
{
	netif_tx_request_t r = { .gref = gref, .offset = off, .flags = flags,
				 .id = id, .size = size };

	simfront_raw_tx(b->evil, 0, &r);
}

TEST(endless_slot_chain)
{
	struct bed b;

	bed_up(&b);
	honest_traffic(&b, 16);
	for (uint16_t i = 0; i < 40; i++)
		push_tx(&b, i, simfront_tx_gref(b.evil, 0, i), 0,
			NETTXF_more_data, 100);
	simfront_flush(b.evil, 0);
	expect_disconnected(&b, "slot chain");
	honest_traffic(&b, 16);
	simenv_fini(&b.e);
}

TEST(offset_plus_size_beyond_page)
{
	struct bed b;

	bed_up(&b);
	push_tx(&b, 1, simfront_tx_gref(b.evil, 0, 1), 4000, 0, 1000);
	simfront_flush(b.evil, 0);
	expect_disconnected(&b, "beyond page");
	honest_traffic(&b, 16);
	simenv_fini(&b.e);
}

TEST(unknown_extra_type)
{
	struct bed b;
	netif_extra_info_t x = { .type = 77 };

	bed_up(&b);
	push_tx(&b, 1, simfront_tx_gref(b.evil, 0, 1), 0, NETTXF_extra_info,
		100);
	simfront_raw_tx_extra(b.evil, 0, &x);
	simfront_flush(b.evil, 0);
	expect_disconnected(&b, "unknown extra");
	honest_traffic(&b, 16);
	simenv_fini(&b.e);
}

TEST(extra_more_without_next)
{
	struct bed b;
	netif_extra_info_t x = { .type = XEN_NETIF_EXTRA_TYPE_GSO,
				 .flags = XEN_NETIF_EXTRA_FLAG_MORE };

	bed_up(&b);
	x.u.gso.size = 1448;
	x.u.gso.type = XEN_NETIF_GSO_TYPE_TCPV4;
	push_tx(&b, 1, simfront_tx_gref(b.evil, 0, 1), 0, NETTXF_extra_info,
		100);
	simfront_raw_tx_extra(b.evil, 0, &x);
	simfront_flush(b.evil, 0);
	expect_disconnected(&b, "extra info missing");
	honest_traffic(&b, 16);
	simenv_fini(&b.e);
}

TEST(rx_producer_overflow)
{
	struct bed b;

	bed_up(&b);
	simfront_raw_rx_prod(b.evil, 0, 100000);
	/* The RX ring is looked at when there is something to deliver. */
	static uint8_t f[100];
	memcpy(f, b.tv[2].mac, 6);
	memcpy(f + 6, b.tv[0].mac, 6);
	CHECK_EQ(simfront_send(b.good[0], 0, f, 99, NULL), 0);
	simfront_flush(b.good[0], 0);
	expect_disconnected(&b, "rx request producer");
	honest_traffic(&b, 16);
	simenv_fini(&b.e);
}

TEST(malformed_packets_only_dropped)
{
	struct bed b;
	struct simfront_stats st;
	netif_extra_info_t zero_mss = { .type = XEN_NETIF_EXTRA_TYPE_GSO };

	bed_up(&b);
	/* a ref beyond the table, one not granted, a zero MSS, too many
	 * slots (19: more than 18, fewer than fatal) */
	push_tx(&b, 1, 99999, 0, 0, 100);
	push_tx(&b, 2, 3000, 0, 0, 100); /* in range, not granted */
	zero_mss.u.gso.type = XEN_NETIF_GSO_TYPE_TCPV4;
	push_tx(&b, 3, simfront_tx_gref(b.evil, 0, 3), 0, NETTXF_extra_info,
		100);
	simfront_raw_tx_extra(b.evil, 0, &zero_mss);
	for (uint16_t i = 0; i < 19; i++)
		push_tx(&b, (uint16_t)(10 + i), simfront_tx_gref(b.evil, 0, 10 + i),
			0, i < 18 ? NETTXF_more_data : 0, i == 0 ? 19 * 60 : 60);
	simfront_flush(b.evil, 0);
	for (int t = 0; t < 300; t++) {
		simfront_poll(b.evil, 10);
		simfront_stats(b.evil, 0, &st);
		if (st.tx_error >= 4)
			break;
	}
	/* One error per packet's slots: 1 + 1 + 1 + 19. */
	CHECK_EQ(st.tx_error, 22);
	char *s = simenv_read(&b.e, "/local/domain/0/backend/vif/3/0/state");
	CHECK_STREQ(s, "4");
	free(s);
	honest_traffic(&b, 16);
	simenv_fini(&b.e);
}

TEST(guest_never_posts_rx_buffers)
{
	struct bed b;
	static uint8_t f[100];

	bed_up(&b);
	/* The evil guest stops taking frames: they queue in its backlog
	 * (bounded) and the rest are dropped; the others are unaffected. */
	/* The switch learns where the evil guest is, so the frames below
	 * go to it alone (not flooded to the honest guests too). */
	memcpy(f, b.tv[1].mac, 6);
	memcpy(f + 6, b.tv[2].mac, 6);
	CHECK_EQ(simfront_send(b.evil, 0, f, 99, NULL), 0);
	simfront_flush(b.evil, 0);
	usleep(100000);
	memcpy(f, b.tv[2].mac, 6);
	memcpy(f + 6, b.tv[0].mac, 6);
	f[12] = 0x88;
	for (int burst = 0; burst < 40; burst++) {
		for (int i = 0; i < 64; i++)
			if (simfront_send(b.good[0], 0, f, 99, NULL) < 0)
				break;
		simfront_flush(b.good[0], 0);
		simfront_poll(b.good[0], 1);
	}
	honest_traffic(&b, 64);
	char *s = simenv_read(&b.e, "/local/domain/0/backend/vif/3/0/state");
	CHECK_STREQ(s, "4");
	free(s);
	simenv_fini(&b.e);
}

TEST(event_storm)
{
	struct bed b;

	bed_up(&b);
	/* Notify with nothing queued, a hundred thousand times. */
	for (int i = 0; i < 100000; i++)
		simfront_raw_tx_prod(b.evil, 0, 0); /* unchanged: empty ring */
	honest_traffic(&b, 64);
	simenv_fini(&b.e);
}

TESTS_MAIN()
