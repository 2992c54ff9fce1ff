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

/* ---- packets split in odd ways: delivered whole, as kernel netback ---- */

/*
 * One packet from the evil guest to good[0] whose slots carry `sizes`
 * bytes each (the first slot's request says the whole length), its
 * bytes a test pattern spread over TX pages id0.. . Returns the length.
 */
static size_t
split_packet(struct bed *b, uint16_t id0, const uint16_t *sizes,
	     unsigned nslots, uint8_t *frame)
{
	size_t len = 0, at = 0;

	for (unsigned i = 0; i < nslots; i++)
		len += sizes[i];
	memcpy(frame, b->tv[0].mac, 6);
	memcpy(frame + 6, b->tv[2].mac, 6);
	frame[12] = 0x88;
	frame[13] = 0xb5;
	for (size_t i = 14; i < len; i++)
		frame[i] = (uint8_t)(i * 13 + 5);
	for (unsigned i = 0; i < nslots; i++) {
		uint16_t id = (uint16_t)(id0 + i);

		memcpy(simfront_tx_page(b->evil, 0, id), frame + at, sizes[i]);
		push_tx(b, id, simfront_tx_gref(b->evil, 0, id), 0,
			i + 1 < nslots ? NETTXF_more_data : 0,
			i == 0 ? (uint16_t)len : sizes[i]);
		at += sizes[i];
	}
	return len;
}

static int
recv_at(struct simfront *f, uint8_t *buf)
{
	for (int t = 0; t < 300; t++) {
		int n = simfront_recv(f, 0, buf, 65536, NULL);

		if (n != -EAGAIN)
			return n;
		simfront_poll(f, 5);
	}
	return -ETIMEDOUT;
}

TEST(headers_in_tiny_slots_and_max_slots_short)
{
	struct bed b;
	static uint8_t f[4096], r[65536];
	uint16_t sizes[18];
	size_t len;

	bed_up(&b);
	/* Teach the switch where good[0] is. */
	honest_traffic(&b, 4);
	/* XSA-423: the Ethernet header over 1- and 3-byte slots. */
	sizes[0] = 1;
	for (unsigned i = 1; i < 18; i++)
		sizes[i] = 3;
	len = split_packet(&b, 20, sizes, 18, f);
	simfront_flush(b.evil, 0);
	CHECK_EQ(recv_at(b.good[0], r), (int)len);
	CHECK(memcmp(r, f, len) == 0);
	/* XSA-432: all 18 slots, yet shorter than any header copy. */
	for (unsigned i = 0; i < 18; i++)
		sizes[i] = 1;
	/* 18 bytes in all */
	len = split_packet(&b, 60, sizes, 18, f);
	simfront_flush(b.evil, 0);
	CHECK_EQ(recv_at(b.good[0], r), (int)len);
	CHECK(memcmp(r, f, len) == 0);
	/* XSA-448: a zero-length slot in the middle makes no empty piece:
	 * the packet arrives whole (as kernel netback since the fix). */
	sizes[0] = 100;
	sizes[1] = 0;
	sizes[2] = 100;
	len = split_packet(&b, 100, sizes, 3, f);
	simfront_flush(b.evil, 0);
	CHECK_EQ(recv_at(b.good[0], r), (int)len);
	CHECK(memcmp(r, f, len) == 0);
	struct simfront_stats st;
	simfront_stats(b.evil, 0, &st);
	CHECK_EQ(st.tx_error, 0);
	char *s = simenv_read(&b.e, "/local/domain/0/backend/vif/3/0/state");
	CHECK_STREQ(s, "4");
	free(s);
	honest_traffic(&b, 16);
	simenv_fini(&b.e);
}

/* ---- grants that are not the guest's to use ---- */

TEST(foreign_and_revoked_grants_get_errors)
{
	struct bed b;
	struct simfront_stats st;

	bed_up(&b);
	/* A page the evil guest granted to domain 1, not to netbackd. */
	int foreign = simhv_grant_access(b.e.hv, 3, 1, 5, true);
	CHECK(foreign >= 0);
	push_tx(&b, 1, (uint32_t)foreign, 0, 0, 100);
	/* A grant it gave netbackd and then revoked. */
	int gone = simhv_grant_access(b.e.hv, 3, 0, 6, true);
	CHECK(gone >= 0);
	CHECK_EQ(simhv_grant_end(b.e.hv, 3, (uint32_t)gone), 0);
	push_tx(&b, 2, (uint32_t)gone, 0, 0, 100);
	/* A grant that never was. */
	push_tx(&b, 3, 4000, 0, 0, 100);
	simfront_flush(b.evil, 0);
	for (int t = 0; t < 300; t++) {
		simfront_poll(b.evil, 10);
		simfront_stats(b.evil, 0, &st);
		if (st.tx_error + st.tx_ok >= 3)
			break;
	}
	CHECK_EQ(st.tx_error, 3);
	char *s = simenv_read(&b.e, "/local/domain/0/backend/vif/3/0/state");
	CHECK_STREQ(s, "4");
	free(s);
	honest_traffic(&b, 16);
	simenv_fini(&b.e);
}

/* ---- multicast control past its limit ---- */

TEST(multicast_add_flood_is_bounded)
{
	struct bed b;
	struct simfront_stats st;
	uint8_t grp[6] = { 0x01, 0x00, 0x5e, 0, 0, 0 };

	bed_up(&b);
	for (unsigned i = 0; i < 200; i++) {
		netif_extra_info_t x = { .type = XEN_NETIF_EXTRA_TYPE_MCAST_ADD };

		grp[4] = (uint8_t)(i >> 8);
		grp[5] = (uint8_t)i;
		memcpy(x.u.mcast.addr, grp, 6);
		push_tx(&b, (uint16_t)(i % 128), simfront_tx_gref(b.evil, 0, 0),
			0, NETTXF_extra_info, 0);
		simfront_raw_tx_extra(b.evil, 0, &x);
		if (i % 32 == 31) {
			simfront_flush(b.evil, 0);
			for (int t = 0; t < 20; t++)
				simfront_poll(b.evil, 2);
		}
	}
	simfront_flush(b.evil, 0);
	for (int t = 0; t < 300; t++) {
		simfront_poll(b.evil, 5);
		simfront_stats(b.evil, 0, &st);
		if (st.tx_ok + st.tx_error >= 200)
			break;
	}
	/* 64 groups kept, the rest refused one by one. */
	CHECK_EQ(st.tx_ok, 64);
	CHECK_EQ(st.tx_error, 136);
	char *s = simenv_read(&b.e, "/local/domain/0/backend/vif/3/0/state");
	CHECK_STREQ(s, "4");
	free(s);
	honest_traffic(&b, 16);
	simenv_fini(&b.e);
}

/* ---- xenbus abuse ---- */

TEST(state_flipping_and_garbage_keys)
{
	struct bed b;
	char big[2048];
	static const char *const st[] = { "1", "3", "4", "5", "6", "7", "4",
					  "2", "6", "1", "4", "99", "-3", "x" };

	bed_up(&b);
	/* The evil frontend flips its state at random, a thousand times. */
	for (int i = 0; i < 1000; i++) {
		const char *v = st[(i * 7) % (sizeof(st) / sizeof(st[0]))];

		CHECK(xs_write(b.e.xs, XBT_NULL,
			       "/local/domain/3/device/vif/0/state", v,
			       (unsigned)strlen(v)));
	}
	honest_traffic(&b, 16);
	/* Then garbage and huge values in its keys, and Connected. */
	memset(big, '9', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK(xs_write(b.e.xs, XBT_NULL, "/local/domain/3/device/vif/0/tx-ring-ref",
		       big, (unsigned)strlen(big)));
	CHECK(xs_write(b.e.xs, XBT_NULL,
		       "/local/domain/3/device/vif/0/multi-queue-num-queues",
		       "-1", 2));
	CHECK(xs_write(b.e.xs, XBT_NULL, "/local/domain/3/device/vif/0/feature-sg",
		       "yes", 3));
	CHECK(xs_write(b.e.xs, XBT_NULL, "/local/domain/3/device/vif/0/state",
		       "1", 1));
	CHECK(simenv_wait_value(&b.e, "/local/domain/0/backend/vif/3/0/state",
				"2", 5000));
	CHECK(xs_write(b.e.xs, XBT_NULL, "/local/domain/3/device/vif/0/state",
		       "4", 1));
	/* Refused with a reason; nothing of it stays mapped. */
	CHECK(simenv_wait_value(&b.e, "/local/domain/0/backend/vif/3/0/state",
				"5", 5000));
	char *err = simenv_read(&b.e, "/local/domain/0/backend/vif/3/0/error");
	CHECK(err && err[0]);
	free(err);
	CHECK_EQ(simhv_domain_mapped(b.e.hv, 3), 0);
	honest_traffic(&b, 16);
	CHECK_EQ(simenv_stop_netbackd(&b.e), 0);
	simenv_fini(&b.e);
}

/* ---- a frontend that never consumes its responses ---- */

TEST(responses_never_consumed)
{
	struct bed b;

	bed_up(&b);
	/* The evil guest moves its request producer a ring at a time,
	 * never reading a response: netbackd answers over answers it never
	 * read (the guest's own loss) and serves everyone else. */
	for (uint32_t k = 1; k <= 50; k++) {
		simfront_raw_tx_prod(b.evil, 0, k * 256);
		usleep(1000);
	}
	honest_traffic(&b, 64);
	simenv_fini(&b.e);
}

TESTS_MAIN()
