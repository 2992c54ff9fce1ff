/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * netbackd against the simulated hypervisor: a real netbackd process,
 * xenstored-sim, and simulated netfronts in this process.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <linux/ethtool.h>
#include <linux/if_ether.h>
#include <linux/sockios.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <sched.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xenstore.h>
/* netif.h's reference Toeplitz, to check the backend's against. */
#define XEN_NETIF_DEFINE_TOEPLITZ
#include <xen/io/netif.h>
#include <xen/io/xenbus.h>

#include "simenv.h"
#include "simfront.h"
#include "simhv.h"
#include "tests.h"

struct guest {
	uint16_t domid;
	struct simtool_vif tv;
	struct simfront *f;
};

static void
mac_of(uint16_t domid, uint8_t mac[6])
{
	const uint8_t m[6] = { 0x00, 0x16, 0x3e, 0x00, (uint8_t)(domid >> 8),
			       (uint8_t)domid };

	memcpy(mac, m, 6);
}

static const char *guest_ip; /* the next guest_up's `ip` key, if any */

/* Create a domain with one vif and, unless conf says no, connect it. */
static void
guest_up(struct simenv *e, struct guest *g, uint16_t domid,
	 const struct simfront_conf *conf, bool connect)
{
	struct simfront_conf c;
	int r;

	memset(g, 0, sizeof(*g));
	g->domid = domid;
	g->tv.extra_be[0] = guest_ip;
	guest_ip = NULL;
	CHECK_EQ(simtool_domain_create(e->xs, e->hv, domid,
				       simfront_pages(SIMFRONT_MAX_QUEUES)), 0);
	g->tv.domid = domid;
	mac_of(domid, g->tv.mac);
	r = simtool_vif_add(e->xs, &g->tv);
	if (r < 0)
		FAIL("vif%u.0: backend did not reach InitWait: %d", domid, r);
	if (conf)
		c = *conf;
	else
		simfront_conf_default(&c, e->hv, domid, 0);
	c.hv = e->hv;
	c.domid = domid;
	g->f = simfront_new(&c, e->xs);
	CHECK(g->f != NULL);
	if (connect) {
		r = simfront_connect(g->f, 10000);
		if (r < 0)
			FAIL("vif%u.0: connect: %s", domid, strerror(-r));
	}
}

static void
guest_down(struct simenv *e, struct guest *g)
{
	int leaked = simfront_close(g->f, 5000);

	CHECK_EQ(leaked, 0);
	simfront_free(g->f);
	simtool_vif_remove(e->xs, &g->tv, 5000);
	simtool_domain_destroy(e->xs, e->hv, g->domid, 0);
}

static void
make_frame(uint8_t *b, size_t len, const struct guest *from,
	   const struct guest *to, uint32_t seq)
{
	memcpy(b, to->tv.mac, 6);
	memcpy(b + 6, from->tv.mac, 6);
	b[12] = 0x88;
	b[13] = 0xb5;
	for (size_t i = 14; i < len; i++)
		b[i] = (uint8_t)(seq * 7 + i);
}

/*
 * Send n frames of the given sizes from `from` to `to` and check each
 * arrives byte-exact and in order.
 */
static void
exchange(struct guest *from, struct guest *to, const size_t *sizes,
	 unsigned n)
{
	static uint8_t tx[65536], rx[65536], want[65536];
	unsigned sent = 0, got = 0;
	time_t deadline = time(NULL) + 20;

	while (got < n) {
		if (time(NULL) > deadline)
			FAIL("only %u of %u frames arrived (sent %u)", got, n,
			     sent);
		while (sent < n && sent - got < 64) {
			make_frame(tx, sizes[sent], from, to, sent);
			if (simfront_send(from->f, 0, tx, sizes[sent], NULL) < 0)
				break;
			sent++;
		}
		simfront_flush(from->f, 0);
		simfront_poll(from->f, 0);
		int len;
		struct simfront_rxinfo info;
		while ((len = simfront_recv(to->f, 0, rx, sizeof(rx), &info)) !=
		       -EAGAIN) {
			if (len < 0)
				FAIL("receive error %d (status %d)", len,
				     info.status);
			make_frame(want, sizes[got], from, to, got);
			if ((size_t)len != sizes[got])
				FAIL("frame %u: %d bytes, want %zu", got, len,
				     sizes[got]);
			if (memcmp(rx, want, (size_t)len) != 0)
				FAIL("frame %u: contents differ", got);
			got++;
		}
		simfront_poll(to->f, 1);
	}
}

static void
start(struct simenv *e)
{
	simenv_init(e);
	simenv_start_netbackd(e, NULL);
}

TEST(state_walk_and_keys)
{
	struct simenv e;
	struct guest g;
	char path[128];
	char *s;

	start(&e);
	guest_up(&e, &g, 1, NULL, false);
	/* InitWait came within simtool's 10 s; now the keys. */
	static const char *const keys[][2] = {
		{ "feature-rx-copy", "1" },
		{ "feature-rx-flip", "0" },
		{ "feature-sg", "1" },
		{ "feature-split-event-channels", "1" },
		{ "multi-queue-max-queues", "1" },
		{ "feature-gso-tcpv4", "1" },
		{ "feature-gso-tcpv6", "1" },
		{ "feature-ipv6-csum-offload", "1" },
		{ "feature-multicast-control", "1" },
		{ "feature-dynamic-multicast-control", "1" },
		{ "feature-ctrl-ring", "1" },
		{ "feature-xdp-headroom", "1" },
		{ "vifname", "vif1.0" },
		{ "state", "2" },
	};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		snprintf(path, sizeof(path),
			 "/local/domain/0/backend/vif/1/0/%s", keys[i][0]);
		s = simenv_read(&e, path);
		if (!s || strcmp(s, keys[i][1]) != 0)
			FAIL("%s = '%s', want '%s'", path, s ? s : "(none)",
			     keys[i][1]);
		free(s);
	}
	CHECK_EQ(simfront_connect(g.f, 10000), 0);
	CHECK(simfront_split(g.f));
	CHECK(simenv_wait_value(&e, "/local/domain/0/backend/vif/1/0/state",
				"4", 5000));
	CHECK(simenv_log_contains(&e, "vif1.0: connected"));

	CHECK_EQ(simfront_close(g.f, 5000), 0);
	CHECK(simenv_wait_value(&e, "/local/domain/0/backend/vif/1/0/state",
				"6", 5000));
	simfront_free(g.f);
	simtool_vif_remove(e.xs, &g.tv, 5000);
	for (int i = 0; i < 200 && !simenv_log_contains(&e, "vif1.0: removed");
	     i++)
		usleep(10000);
	CHECK(simenv_log_contains(&e, "vif1.0: removed"));
	simtool_domain_destroy(e.xs, e.hv, 1, 0);
	CHECK_EQ(simenv_stop_netbackd(&e), 0);
	simenv_fini(&e);
}

TEST(frames_byte_exact_both_ways)
{
	struct simenv e;
	struct guest a, b;
	size_t sizes[600];

	start(&e);
	guest_up(&e, &a, 1, NULL, true);
	guest_up(&e, &b, 2, NULL, true);
	for (unsigned i = 0; i < 600; i++)
		sizes[i] = 60 + (i * 37) % 1455; /* 60 .. 1514 */
	sizes[10] = 4096;  /* exactly one page */
	sizes[20] = 4097;  /* two slots */
	sizes[30] = 9014;  /* jumbo: three slots, SG both ways */
	sizes[40] = 14;    /* header only */
	/* The first frame from each side floods (unknown MAC) and teaches
	 * the switch; the rest go straight. */
	exchange(&a, &b, sizes, 600);
	exchange(&b, &a, sizes, 600);
	exchange(&a, &b, sizes, 100);

	struct simfront_stats st;
	simfront_stats(a.f, 0, &st);
	CHECK_EQ(st.tx_error + st.tx_dropped, 0);
	/* The switch learnt both, as SIGHUP shows. */
	kill(e.netbackd, SIGHUP);
	for (int i = 0; i < 200 && !simenv_log_contains(
				       &e, "network xenbr0: 2 MAC entries");
	     i++)
		usleep(10000);
	CHECK(simenv_log_contains(&e, "network xenbr0: 00:16:3e:00:00:01 "
				      "vlan 0 -> vif1.0 (age "));
	CHECK(simenv_log_contains(&e, "network xenbr0: 00:16:3e:00:00:02 "
				      "vlan 0 -> vif2.0 (age "));
	CHECK(simenv_log_contains(&e, "network xenbr0: 2 MAC entries"));
	guest_down(&e, &a);
	guest_down(&e, &b);
	CHECK_EQ(simenv_stop_netbackd(&e), 0);
	simenv_fini(&e);
}

TEST(batching_one_copy_per_burst)
{
	struct simenv e;
	struct guest a, b;
	size_t sizes[2048];
	struct simhv_stats before, after;

	start(&e);
	guest_up(&e, &a, 1, NULL, true);
	guest_up(&e, &b, 2, NULL, true);
	for (unsigned i = 0; i < 2048; i++)
		sizes[i] = 60;
	exchange(&a, &b, sizes, 64); /* learn */
	simhv_get_stats(e.hv, &before);
	exchange(&a, &b, sizes, 2048);
	simhv_get_stats(e.hv, &after);
	uint64_t calls = after.copy_calls - before.copy_calls;
	uint64_t segs = after.copy_segs - before.copy_segs;
	/* 2048 TX and 2048 RX copies; bursts of up to 32 on each side,
	 * the guest sending 64 at a time: far fewer calls than packets. */
	CHECK_EQ(segs, 4096);
	if (calls > 4096 / 8)
		FAIL("%lu grant-copy calls for 4096 copies", calls);
	/* While a's next burst is read, b's buffers are filled with the
	 * last, in the same call (each exchange of 64 frames has two
	 * bursts on each side; how often they meet in one pass depends on
	 * timing: a third of the calls here, a tenth under ASan). */
	uint64_t both = after.copy_both - before.copy_both;
	if (both == 0)
		FAIL("%lu of %lu grant-copy calls read a's packets and "
		     "filled b's buffers at once", both, calls);
	guest_down(&e, &a);
	guest_down(&e, &b);
	simenv_fini(&e);
}

TEST(teardown_leaves_nothing)
{
	struct simenv e;
	struct guest a, b;
	size_t sizes[16] = { 60, 60, 60, 60, 60, 60, 60, 60,
			     60, 60, 60, 60, 60, 60, 60, 60 };

	start(&e);
	guest_up(&e, &a, 1, NULL, true);
	guest_up(&e, &b, 2, NULL, true);
	exchange(&a, &b, sizes, 16);
	CHECK(simhv_domain_mapped(e.hv, 1) > 0);
	CHECK(simhv_domain_ports(e.hv, 0) > 0);

	/* Guest shutdown: its vif gives everything back. */
	guest_down(&e, &a);
	CHECK_EQ(simhv_domain_mapped(e.hv, 1), 0);

	/* netbackd shutdown with b still connected: nothing stays mapped
	 * or bound, and netbackd says so with its exit code. */
	CHECK(simhv_domain_mapped(e.hv, 2) > 0);
	CHECK_EQ(simenv_stop_netbackd(&e), 0);
	CHECK_EQ(simhv_domain_mapped(e.hv, 2), 0);
	CHECK_EQ(simhv_domain_ports(e.hv, 0), 0);
	CHECK(simenv_log_contains(&e, "stopped: 0 pages mapped, 0 ports bound"));
	/* The vif's state stays Connected for a netbackd to come back. */
	char *s = simenv_read(&e, "/local/domain/0/backend/vif/2/0/state");
	CHECK_STREQ(s, "4");
	free(s);
	simfront_free(b.f);
	simenv_fini(&e);
}

TEST(refuses_frontend_without_rx_copy)
{
	struct simenv e;
	struct guest g;
	struct simfront_conf c;

	start(&e);
	simfront_conf_default(&c, NULL, 1, 0);
	c.no_rx_copy = true;
	guest_up(&e, &g, 1, &c, false);
	CHECK_EQ(simfront_connect(g.f, 10000), -ECONNREFUSED);
	char *err = simenv_read(&e, "/local/domain/0/backend/vif/1/0/error");
	CHECK(err && strstr(err, "request-rx-copy"));
	free(err);
	CHECK_EQ(simhv_domain_mapped(e.hv, 1), 0);
	simenv_fini(&e);
}

TEST(refuses_bad_queue_count)
{
	struct simenv e;
	struct guest g;

	start(&e);
	guest_up(&e, &g, 1, NULL, false);
	/* A frontend asking for more queues than offered. */
	CHECK(xs_write(e.xs, XBT_NULL,
		       "/local/domain/1/device/vif/0/request-rx-copy", "1", 1));
	CHECK(xs_write(e.xs, XBT_NULL,
		       "/local/domain/1/device/vif/0/multi-queue-num-queues",
		       "9", 1));
	CHECK(xs_write(e.xs, XBT_NULL, "/local/domain/1/device/vif/0/state",
		       "4", 1));
	CHECK(simenv_wait_value(&e, "/local/domain/0/backend/vif/1/0/state",
				"5", 5000));
	char *err = simenv_read(&e, "/local/domain/0/backend/vif/1/0/error");
	CHECK(err && strstr(err, "multi-queue-num-queues"));
	free(err);
	simenv_fini(&e);
}

TEST(hostile_producer_disconnects_only_its_vif)
{
	struct simenv e;
	struct guest a, b, evil;
	size_t sizes[64];

	start(&e);
	guest_up(&e, &a, 1, NULL, true);
	guest_up(&e, &b, 2, NULL, true);
	guest_up(&e, &evil, 3, NULL, true);
	for (unsigned i = 0; i < 64; i++)
		sizes[i] = 100;
	exchange(&a, &b, sizes, 64);

	/* Producer index far beyond what a 256-entry ring can hold. */
	simfront_raw_tx_prod(evil.f, 0, 5000);
	CHECK(simenv_wait_value(&e, "/local/domain/0/backend/vif/3/0/state",
				"5", 5000));
	char *err = simenv_read(&e, "/local/domain/0/backend/vif/3/0/error");
	CHECK(err && strstr(err, "producer beyond ring size"));
	free(err);
	CHECK_EQ(simhv_domain_mapped(e.hv, 3), 0);
	/* The others carry on. */
	exchange(&b, &a, sizes, 64);
	exchange(&a, &b, sizes, 64);
	guest_down(&e, &a);
	guest_down(&e, &b);
	simenv_fini(&e);
}

TEST(malformed_packets_get_error_responses)
{
	struct simenv e;
	struct guest a, b;
	size_t sizes[8] = { 60, 60, 60, 60, 60, 60, 60, 60 };
	netif_tx_request_t req = { 0 };

	start(&e);
	guest_up(&e, &a, 1, NULL, true);
	guest_up(&e, &b, 2, NULL, true);
	exchange(&a, &b, sizes, 8);
	/* A runt and a bad grant: answered with errors, vif stays up. */
	req.gref = simfront_tx_gref(a.f, 0, 200);
	req.id = 200;
	req.size = 10;
	simfront_raw_tx(a.f, 0, &req);
	req.gref = 9999;
	req.id = 201;
	req.size = 100;
	simfront_raw_tx(a.f, 0, &req);
	simfront_flush(a.f, 0);
	struct simfront_stats st;
	for (int i = 0; i < 200; i++) {
		simfront_poll(a.f, 10);
		simfront_stats(a.f, 0, &st);
		if (st.tx_error >= 2)
			break;
	}
	CHECK_EQ(st.tx_error, 2);
	char *s = simenv_read(&e, "/local/domain/0/backend/vif/1/0/state");
	CHECK_STREQ(s, "4");
	free(s);
	exchange(&a, &b, sizes, 8);
	simenv_fini(&e);
}

TEST(guest_reconnects)
{
	struct simenv e;
	struct guest a, b;
	size_t sizes[32];

	for (unsigned i = 0; i < 32; i++)
		sizes[i] = 200;
	start(&e);
	guest_up(&e, &a, 1, NULL, true);
	guest_up(&e, &b, 2, NULL, true);
	exchange(&a, &b, sizes, 32);
	/* The guest's driver is reloaded: Closed, then Initialising. */
	CHECK_EQ(simfront_close(a.f, 5000), 0);
	simfront_free(a.f);
	CHECK(xs_write(e.xs, XBT_NULL, "/local/domain/1/device/vif/0/state",
		       "1", 1));
	CHECK(simenv_wait_value(&e, "/local/domain/0/backend/vif/1/0/state",
				"2", 5000));
	struct simfront_conf c;
	simfront_conf_default(&c, e.hv, 1, 0);
	a.f = simfront_new(&c, e.xs);
	CHECK(a.f != NULL);
	CHECK_EQ(simfront_connect(a.f, 10000), 0);
	exchange(&a, &b, sizes, 32);
	exchange(&b, &a, sizes, 32);
	simenv_fini(&e);
}

/* A restarted netbackd logs both guests' vifs connected within 5 s. */
static void
restarted_takes_up_both(struct simenv *e)
{
	for (int i = 0; i < 500 && !(simenv_log_contains(e, "vif1.0: connected") &&
				     simenv_log_contains(e, "vif2.0: connected"));
	     i++)
		usleep(10000);
	CHECK(simenv_log_contains(e, "vif1.0: connected"));
	CHECK(simenv_log_contains(e, "vif2.0: connected"));
}

TEST(restart_reattaches_live_rings)
{
	struct simenv e;
	struct guest a, b;
	size_t sizes[32];

	for (unsigned i = 0; i < 32; i++)
		sizes[i] = 300;
	start(&e);
	guest_up(&e, &a, 1, NULL, true);
	guest_up(&e, &b, 2, NULL, true);
	exchange(&a, &b, sizes, 32);
	CHECK_EQ(simenv_stop_netbackd(&e), 0);
	/* The guests do nothing; a new netbackd picks their rings up. */
	simenv_start_netbackd(&e, NULL);
	restarted_takes_up_both(&e);
	exchange(&a, &b, sizes, 32);
	exchange(&b, &a, sizes, 32);
	simenv_fini(&e);
}

/* Internet checksum, computed here independently of netbackd. */
static uint16_t
inet_sum(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)(p[len - 1] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* IPv4/UDP frame whose checksum field holds only the pseudo-header sum,
 * as a guest with checksum offload sends it (NETTXF_csum_blank). */
static size_t
udp_partial(uint8_t *f, const struct guest *from, const struct guest *to)
{
	size_t plen = 64, ulen = 8 + plen, len = 14 + 20 + ulen;
	uint8_t *ip = f + 14, *udp = ip + 20;

	memset(f, 0, len);
	memcpy(f, to->tv.mac, 6);
	memcpy(f + 6, from->tv.mac, 6);
	f[12] = 0x08;
	ip[0] = 0x45;
	ip[2] = (uint8_t)((20 + ulen) >> 8);
	ip[3] = (uint8_t)(20 + ulen);
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
	uint16_t hs = (uint16_t)~inet_sum(ip, 20, 0);
	ip[10] = (uint8_t)(hs >> 8);
	ip[11] = (uint8_t)hs;
	udp[0] = 0x30;
	udp[2] = 0x30;
	udp[4] = (uint8_t)(ulen >> 8);
	udp[5] = (uint8_t)ulen;
	for (size_t i = 0; i < plen; i++)
		udp[8 + i] = (uint8_t)(i * 3);
	uint8_t pseudo[12];
	memcpy(pseudo, ip + 12, 8);
	pseudo[8] = 0;
	pseudo[9] = 17;
	pseudo[10] = (uint8_t)(ulen >> 8);
	pseudo[11] = (uint8_t)ulen;
	uint16_t ps = inet_sum(pseudo, 12, 0);
	udp[6] = (uint8_t)(ps >> 8);
	udp[7] = (uint8_t)ps;
	return len;
}

static int
recv_one(struct guest *g, uint8_t *buf, struct simfront_rxinfo *info)
{
	for (int i = 0; i < 500; i++) {
		int n = simfront_recv(g->f, 0, buf, 65536, info);

		if (n != -EAGAIN)
			return n;
		simfront_poll(g->f, 10);
	}
	return -ETIMEDOUT;
}

/* Throw away whatever the guest has received. */
static void
drain(struct guest *g)
{
	static uint8_t r[65536];

	for (int i = 0; i < 20; i++) {
		simfront_poll(g->f, 5);
		while (simfront_recv(g->f, 0, r, sizeof(r), NULL) != -EAGAIN)
			;
	}
}

/* Is the TCP/UDP checksum of an Ethernet/IPv4 (20-byte header) frame
 * right, pseudo-header included? */
static bool
l4_sum_ok(const uint8_t *f, size_t len, uint8_t proto)
{
	const uint8_t *ip = f + 14;
	size_t l4len = len - 34;
	uint8_t pseudo[12];

	memcpy(pseudo, ip + 12, 8);
	pseudo[8] = 0;
	pseudo[9] = proto;
	pseudo[10] = (uint8_t)(l4len >> 8);
	pseudo[11] = (uint8_t)l4len;
	return inet_sum(ip + 20, l4len, inet_sum(pseudo, 12, 0)) == 0xffff;
}

TEST(blank_checksums_passed_or_completed)
{
	struct simenv e;
	struct guest a, b, c;
	struct simfront_conf nocsum;
	static uint8_t f[2048], r[65536];
	struct simfront_txopt opt = { .flags = NETTXF_csum_blank };
	struct simfront_rxinfo info;
	size_t sizes[4] = { 60, 60, 60, 60 };

	start(&e);
	guest_up(&e, &a, 1, NULL, true);
	guest_up(&e, &b, 2, NULL, true);
	simfront_conf_default(&nocsum, NULL, 3, 0);
	nocsum.no_csum = true;
	guest_up(&e, &c, 3, &nocsum, true);
	exchange(&b, &a, sizes, 4); /* teach the switch b and c */
	exchange(&c, &a, sizes, 4);
	/* Their first frames were flooded to each other too: drop them. */
	drain(&b);
	drain(&c);

	/* To b, which takes blank checksums: bytes as sent, flags say so. */
	size_t len = udp_partial(f, &a, &b);
	CHECK_EQ(simfront_send(a.f, 0, f, len, &opt), 0);
	simfront_flush(a.f, 0);
	CHECK_EQ(recv_one(&b, r, &info), (int)len);
	CHECK(memcmp(r, f, len) == 0);
	CHECK(info.flags & NETRXF_csum_blank);
	CHECK(info.flags & NETRXF_data_validated);

	/* To c (feature-no-csum-offload): completed, a valid UDP sum. */
	len = udp_partial(f, &a, &c);
	CHECK_EQ(simfront_send(a.f, 0, f, len, &opt), 0);
	simfront_flush(a.f, 0);
	CHECK_EQ(recv_one(&c, r, &info), (int)len);
	CHECK(!(info.flags & NETRXF_csum_blank));
	CHECK(l4_sum_ok(r, len, 17));
	CHECK(memcmp(r + 42, f + 42, len - 42) == 0);
	simenv_fini(&e);
}

/* A TCP/IPv4 frame of `plen` payload bytes with only the pseudo-header
 * sum in its checksum, as a guest's TSO sends it. */
static size_t
tcp_partial(uint8_t *f, const struct guest *from, const struct guest *to,
	    size_t plen)
{
	size_t tlen = 20 + plen, len = 14 + 20 + tlen;
	uint8_t *ip = f + 14, *tcp = ip + 20;

	memset(f, 0, 54);
	memcpy(f, to->tv.mac, 6);
	memcpy(f + 6, from->tv.mac, 6);
	f[12] = 0x08;
	ip[0] = 0x45;
	ip[2] = (uint8_t)((20 + tlen) >> 8);
	ip[3] = (uint8_t)(20 + tlen);
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
	uint16_t hs = (uint16_t)~inet_sum(ip, 20, 0);
	ip[10] = (uint8_t)(hs >> 8);
	ip[11] = (uint8_t)hs;
	tcp[1] = 80;
	tcp[3] = 99;
	tcp[7] = 1;     /* seq 1 */
	tcp[12] = 0x50; /* 20-byte header */
	tcp[13] = 0x18; /* PSH ACK */
	tcp[14] = 0xff;
	for (size_t i = 0; i < plen; i++)
		tcp[20 + i] = (uint8_t)(i * 7 + 1);
	uint8_t pseudo[12];
	memcpy(pseudo, ip + 12, 8);
	pseudo[8] = 0;
	pseudo[9] = 6;
	pseudo[10] = (uint8_t)(tlen >> 8);
	pseudo[11] = (uint8_t)tlen;
	uint16_t ps = inet_sum(pseudo, 12, 0);
	tcp[16] = (uint8_t)(ps >> 8);
	tcp[17] = (uint8_t)ps;
	return len;
}

TEST(gso_passed_or_segmented)
{
	struct simenv e;
	struct guest a, b, c;
	struct simfront_conf nogso;
	static uint8_t f[65536], r[65536], payload[65536];
	struct simfront_txopt opt = { .flags = NETTXF_csum_blank,
				      .gso_size = 1448,
				      .gso_type = XEN_NETIF_GSO_TYPE_TCPV4 };
	struct simfront_rxinfo info;
	size_t sizes[4] = { 60, 60, 60, 60 }, plen = 20000;

	start(&e);
	guest_up(&e, &a, 1, NULL, true);
	guest_up(&e, &b, 2, NULL, true);
	simfront_conf_default(&nogso, NULL, 3, 0);
	nogso.gso_tcpv4 = nogso.gso_tcpv6 = false;
	guest_up(&e, &c, 3, &nogso, true);
	exchange(&b, &a, sizes, 4);
	exchange(&c, &a, sizes, 4);
	drain(&b);
	drain(&c);

	/* b takes GSO: one large packet with a GSO extra. */
	size_t len = tcp_partial(f, &a, &b, plen);
	CHECK_EQ(simfront_send(a.f, 0, f, len, &opt), 0);
	simfront_flush(a.f, 0);
	CHECK_EQ(recv_one(&b, r, &info), (int)len);
	CHECK(memcmp(r, f, len) == 0);
	CHECK_EQ(info.gso_size, 1448);
	CHECK_EQ(info.gso_type, XEN_NETIF_GSO_TYPE_TCPV4);
	CHECK(info.flags & NETRXF_csum_blank);

	/* c does not: wire-size segments with complete checksums whose
	 * payloads add up to the original. */
	len = tcp_partial(f, &a, &c, plen);
	CHECK_EQ(simfront_send(a.f, 0, f, len, &opt), 0);
	simfront_flush(a.f, 0);
	size_t got = 0;
	unsigned nseg = 0;
	while (got < plen) {
		int n = recv_one(&c, r, &info);

		if (n < 0)
			FAIL("segment %u: %d after %zu bytes", nseg, n, got);
		CHECK(n <= 1514);
		CHECK_EQ(info.gso_size, 0);
		uint8_t *tcp = r + 34;
		size_t tl = (size_t)n - 34;
		CHECK_EQ(inet_sum(r + 14, 20, 0), 0xffff);
		CHECK(l4_sum_ok(r, (size_t)n, 6));
		uint32_t seq = (uint32_t)(tcp[4] << 24 | tcp[5] << 16 |
					  tcp[6] << 8 | tcp[7]);
		CHECK_EQ(seq, 1 + got);
		memcpy(payload + got, tcp + 20, tl - 20);
		got += tl - 20;
		nseg++;
	}
	CHECK_EQ(got, plen);
	CHECK_EQ(nseg, (plen + 1447) / 1448);
	CHECK(memcmp(payload, f + 54, plen) == 0);
	simenv_fini(&e);
}

TEST(multi_queue_split_channels_and_steering)
{
	struct simenv e;
	struct simfront_conf c;
	struct guest a, b;
	static uint8_t f[2048], r[65536];
	const char *const args[] = { "--workers", "2", NULL };
	struct simfront_stats st;

	simenv_init(&e);
	simenv_start_netbackd(&e, args);
	simfront_conf_default(&c, NULL, 1, 0);
	c.queues = 2;
	guest_up(&e, &a, 1, &c, true);
	simfront_conf_default(&c, NULL, 2, 0);
	c.queues = 2;
	guest_up(&e, &b, 2, &c, true);
	CHECK_EQ(simfront_queues(a.f), 2);
	CHECK(simfront_split(a.f));
	char *s = simenv_read(&e, "/local/domain/1/device/vif/0/multi-queue-num-queues");
	CHECK_STREQ(s, "2");
	free(s);
	s = simenv_read(&e, "/local/domain/1/device/vif/0/queue-1/event-channel-rx");
	CHECK(s != NULL);
	free(s);
	/* 64 UDP flows from a, sent round-robin on its two queues. */
	unsigned got = 0;
	for (unsigned i = 0; i < 64; i++) {
		size_t len = udp_partial(f, &a, &b);

		f[34] = (uint8_t)i; /* source port */
		CHECK_EQ(simfront_send(a.f, i % 2, f, len, NULL), 0);
	}
	simfront_flush(a.f, 0);
	simfront_flush(a.f, 1);
	for (int t = 0; t < 500 && got < 64; t++) {
		simfront_poll(b.f, 5);
		for (unsigned q = 0; q < 2; q++)
			while (simfront_recv(b.f, q, r, sizeof(r), NULL) > 0)
				got++;
	}
	CHECK_EQ(got, 64);
	/* Both of b's queues received: the flow hash spread them. */
	simfront_stats(b.f, 0, &st);
	uint64_t q0 = st.rx_packets;
	simfront_stats(b.f, 1, &st);
	CHECK(q0 > 0 && st.rx_packets > 0);
	/* Per-queue counters at run time (SIGHUP), on both workers. */
	kill(e.netbackd, SIGHUP);
	for (int t = 0; t < 200 && !simenv_log_contains(&e, "vif1.0 queue 1"); t++)
		usleep(10000);
	CHECK(simenv_log_contains(&e, "vif1.0 queue 1 (worker 1): tx_packets="));
	CHECK(simenv_log_contains(&e, "vif1.0 queue 0 (worker 0): tx_packets="));
	CHECK(simenv_log_contains(&e, "vif2.0 queue 1 (worker"));
	simenv_fini(&e);
}

TEST(ip_key_anti_spoofing)
{
	struct simenv e;
	struct guest a, b, bad;
	static uint8_t f[2048], r[65536];
	struct simfront_rxinfo info;

	start(&e);
	guest_ip = "ip=10.0.0.1 2001:db8::1";
	guest_up(&e, &a, 1, NULL, true);
	guest_up(&e, &b, 2, NULL, true);
	/* From its own address: delivered. */
	size_t len = udp_partial(f, &a, &b);
	memcpy(f + 26, "\x0a\x00\x00\x01", 4);
	CHECK_EQ(simfront_send(a.f, 0, f, len, NULL), 0);
	simfront_flush(a.f, 0);
	CHECK_EQ(recv_one(&b, r, &info), (int)len);
	/* From another: dropped by the switch, and counted. */
	memcpy(f + 26, "\x0a\x00\x00\x09", 4);
	CHECK_EQ(simfront_send(a.f, 0, f, len, NULL), 0);
	simfront_flush(a.f, 0);
	CHECK_EQ(recv_one(&b, r, &info), -ETIMEDOUT);
	/* The statistics line tells it from a loss: refused, and why. */
	kill(e.netbackd, SIGHUP);
	for (int t = 0; t < 200 && !simenv_log_contains(&e, "vif1.0: up"); t++)
		usleep(10000);
	CHECK(simenv_log_contains(&e, "vif1.0: up tx 2 pkts"));
	CHECK(simenv_log_contains(&e, "drops/errors 0, refused by the switch "
				      "1 (drop_spoofed_ip4=1)"));
	/* A garbage `ip` key refuses the vif, saying why. */
	guest_ip = "ip=10.0.0.999";
	guest_up(&e, &bad, 3, NULL, false);
	CHECK_EQ(simfront_connect(bad.f, 10000), -ECONNREFUSED);
	char *err = simenv_read(&e, "/local/domain/0/backend/vif/3/0/error");
	CHECK(err && strstr(err, "10.0.0.999"));
	free(err);
	simenv_fini(&e);
}

/* ---- VLANs: access ports, trunks, tags added and removed ---- */

/* A frame from `from` to dst (tagged with vid unless 0). */
static size_t
vlan_frame(uint8_t *b, const uint8_t dst[6], const struct guest *from,
	   uint16_t vid, uint8_t mark)
{
	size_t o = 12;

	memcpy(b, dst, 6);
	memcpy(b + 6, from->tv.mac, 6);
	if (vid) {
		b[12] = 0x81;
		b[13] = 0x00;
		b[14] = (uint8_t)(vid >> 8);
		b[15] = (uint8_t)vid;
		o = 16;
	}
	b[o] = 0x88;
	b[o + 1] = 0xb5;
	memset(b + o + 2, mark, 60);
	return o + 62;
}

/* The next frame g receives: its length (or -ETIMEDOUT) and bytes. */
static int
recv_frame(struct guest *g, uint8_t *buf)
{
	struct simfront_rxinfo info;

	for (int i = 0; i < 60; i++) {
		int n = simfront_recv(g->f, 0, buf, 65536, &info);

		if (n != -EAGAIN)
			return n;
		simfront_poll(g->f, 5);
	}
	return -ETIMEDOUT;
}

static void
send_frame(struct guest *g, const uint8_t *f, size_t len)
{
	CHECK_EQ(simfront_send(g->f, 0, f, len, NULL), 0);
	simfront_flush(g->f, 0);
}

static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

TEST(vlan_access_and_trunk_ports)
{
	struct simenv e;
	struct guest a, t, c;
	static uint8_t f[256], r[65536];

	start(&e);
	/* a: access VLAN 10; t: trunk of 10 and 20; c: access VLAN 20. */
	guest_ip = "bridge=xenbr0.10";
	guest_up(&e, &a, 1, NULL, true);
	guest_ip = "bridge=xenbr0:10:20";
	guest_up(&e, &t, 2, NULL, true);
	guest_ip = "bridge=xenbr0.20";
	guest_up(&e, &c, 3, NULL, true);

	/* Untagged broadcast from a reaches t tagged 10, not c. */
	size_t len = vlan_frame(f, bcast, &a, 0, 1);
	send_frame(&a, f, len);
	int n = recv_frame(&t, r);
	CHECK_EQ(n, (int)len + 4);
	CHECK(r[12] == 0x81 && r[13] == 0x00 && r[15] == 10 && r[16] == 0x88);
	CHECK_EQ(r[20], 1);
	CHECK_EQ(recv_frame(&c, r), -ETIMEDOUT);

	/* t sends tagged 20 to c (learnt now): c gets it untagged. */
	len = vlan_frame(f, bcast, &c, 0, 2);
	send_frame(&c, f, len);
	CHECK_EQ(recv_frame(&t, r), (int)len + 4);
	CHECK_EQ(r[15], 20);
	len = vlan_frame(f, c.tv.mac, &t, 20, 3);
	send_frame(&t, f, len);
	n = recv_frame(&c, r);
	CHECK_EQ(n, (int)len - 4);
	CHECK(r[12] == 0x88 && r[13] == 0xb5 && r[14] == 3);
	CHECK_EQ(recv_frame(&a, r), -ETIMEDOUT);

	/* Tagged 10 from t reaches a untagged; VLAN 30 is not t's. */
	len = vlan_frame(f, a.tv.mac, &t, 10, 4);
	send_frame(&t, f, len);
	CHECK_EQ(recv_frame(&a, r), (int)len - 4);
	len = vlan_frame(f, bcast, &t, 30, 5);
	send_frame(&t, f, len);
	CHECK_EQ(recv_frame(&a, r), -ETIMEDOUT);
	CHECK_EQ(recv_frame(&c, r), -ETIMEDOUT);
	/* An access port does not take tagged frames. */
	len = vlan_frame(f, bcast, &a, 20, 6);
	send_frame(&a, f, len);
	CHECK_EQ(recv_frame(&c, r), -ETIMEDOUT);
	CHECK_EQ(recv_frame(&t, r), -ETIMEDOUT);
	simenv_fini(&e);
}

TEST(bad_bridge_key_refused_with_reason)
{
	struct simenv e;
	struct guest g;

	start(&e);
	guest_ip = "bridge=xenbr0.5000";
	guest_up(&e, &g, 1, NULL, false);
	CHECK_EQ(simfront_connect(g.f, 10000), -ECONNREFUSED);
	char *err = simenv_read(&e, "/local/domain/0/backend/vif/1/0/error");
	CHECK(err && strstr(err, "xenbr0.5000"));
	free(err);
	guest_ip = "bridge=nosuchnet";
	guest_up(&e, &g, 2, NULL, false);
	CHECK_EQ(simfront_connect(g.f, 10000), -ECONNREFUSED);
	err = simenv_read(&e, "/local/domain/0/backend/vif/2/0/error");
	CHECK(err && strstr(err, "nosuchnet"));
	free(err);
	simenv_fini(&e);
}

/* ---- multicast control ---- */

/* Queue a multicast control request (an extra, no data) on queue 0. */
static void
mcast_op(struct guest *g, bool add, const uint8_t mac[6], uint16_t id)
{
	struct netif_tx_request req = {
		.gref = simfront_tx_gref(g->f, 0, id), .offset = 0,
		.flags = NETTXF_extra_info, .id = id, .size = 0,
	};
	struct netif_extra_info x = { 0 };

	x.type = add ? XEN_NETIF_EXTRA_TYPE_MCAST_ADD
		     : XEN_NETIF_EXTRA_TYPE_MCAST_DEL;
	memcpy(x.u.mcast.addr, mac, 6);
	simfront_raw_tx(g->f, 0, &req);
	simfront_raw_tx_extra(g->f, 0, &x);
	simfront_flush(g->f, 0);
	for (int i = 0; i < 20; i++)
		simfront_poll(g->f, 5);
}

TEST(multicast_filter_follows_the_guest)
{
	struct simenv e;
	struct guest a, b, c;
	static uint8_t f[256], r[65536];
	static const uint8_t grp[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x07 };
	char path[96];

	start(&e);
	guest_up(&e, &a, 1, NULL, true);
	guest_up(&e, &b, 2, NULL, true);
	guest_up(&e, &c, 3, NULL, true);
	char *s = simenv_read(&e, "/local/domain/0/backend/vif/2/0/"
				  "feature-multicast-control");
	CHECK(s && strcmp(s, "1") == 0);
	free(s);
	/* b asks for filtering at run time (dynamic multicast control). */
	snprintf(path, sizeof(path),
		 "/local/domain/2/device/vif/0/request-multicast-control");
	CHECK(xs_write(e.xs, XBT_NULL, path, "1", 1));
	for (int i = 0; i < 200 && !simenv_log_contains(
				       &e, "vif2.0: multicast filtering on");
	     i++)
		usleep(10000);
	CHECK(simenv_log_contains(&e, "vif2.0: multicast filtering on"));

	size_t len = vlan_frame(f, grp, &a, 0, 1);
	send_frame(&a, f, len);
	CHECK_EQ(recv_frame(&c, r), (int)len); /* not filtering */
	CHECK_EQ(recv_frame(&b, r), -ETIMEDOUT);
	len = vlan_frame(f, bcast, &a, 0, 2);
	send_frame(&a, f, len);
	CHECK_EQ(recv_frame(&b, r), (int)len); /* broadcast passes */
	CHECK_EQ(recv_frame(&c, r), (int)len);

	/* Subscribed: the group's frames arrive; unsubscribed: no more. */
	mcast_op(&b, true, grp, 200);
	len = vlan_frame(f, grp, &a, 0, 3);
	send_frame(&a, f, len);
	CHECK_EQ(recv_frame(&b, r), (int)len);
	CHECK_EQ(r[14], 3);
	mcast_op(&b, false, grp, 201);
	send_frame(&a, f, len);
	CHECK_EQ(recv_frame(&b, r), -ETIMEDOUT);
	/* Both requests were answered OKAY. */
	struct simfront_stats st;
	simfront_stats(b.f, 0, &st);
	CHECK_EQ(st.tx_error, 0);
	/* A non-multicast group is refused with an error response. */
	mcast_op(&b, true, a.tv.mac, 202);
	simfront_stats(b.f, 0, &st);
	CHECK_EQ(st.tx_error, 1);
	/* Filtering off again: everything multicast arrives. */
	CHECK(xs_write(e.xs, XBT_NULL, path, "0", 1));
	for (int i = 0; i < 200 && !simenv_log_contains(
				       &e, "vif2.0: multicast filtering off");
	     i++)
		usleep(10000);
	send_frame(&a, f, len);
	CHECK_EQ(recv_frame(&b, r), (int)len);
	simenv_fini(&e);
}

/*
 * A guest's MCAST_ADD travelling with a frame when the pool has no mbuf
 * left: the frame is dropped, the subscription is not. The pool runs
 * dry into the backlogs of three guests that never take their frames.
 */
TEST(multicast_op_applied_when_mbufs_run_out)
{
	struct simenv e;
	struct guest a, b, sink[3];
	struct simfront_stats st;
	static uint8_t f[256], r[65536];
	static const uint8_t grp[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x09 };
	char conf[300], path[96];
	FILE *fp;
	size_t len;

	simenv_init(&e);
	snprintf(conf, sizeof(conf), "%s/netbackd.conf", e.dir);
	fp = fopen(conf, "w");
	CHECK(fp != NULL);
	/* The smallest pool; backlogs kept for as long as the test runs,
	 * each allowed 512 mbufs (rx-queue-mbufs = auto would keep them to
	 * half the pool together, and the pool would never run dry). */
	fprintf(fp, "[netbackd]\nmbufs = 1024\nrx-drain-timeout = 600000\n"
		    "rx-stall-timeout = 600000\nrx-queue-mbufs = 512\n"
		    "[network xenbr0]\n");
	fclose(fp);
	const char *args[] = { "-c", conf, NULL };
	simenv_start_netbackd(&e, args);
	guest_up(&e, &a, 1, NULL, true);
	guest_up(&e, &b, 2, NULL, true);
	snprintf(path, sizeof(path),
		 "/local/domain/2/device/vif/0/request-multicast-control");
	CHECK(xs_write(e.xs, XBT_NULL, path, "1", 1));
	for (int i = 0; i < 200 && !simenv_log_contains(
				       &e, "vif2.0: multicast filtering on");
	     i++)
		usleep(10000);
	CHECK(simenv_log_contains(&e, "vif2.0: multicast filtering on"));
	for (unsigned k = 0; k < 3; k++) {
		guest_up(&e, &sink[k], (uint16_t)(3 + k), NULL, true);
		/* Learnt, so that a's frames go to it alone. */
		len = vlan_frame(f, a.tv.mac, &sink[k], 0, 1);
		send_frame(&sink[k], f, len);
		CHECK_EQ(recv_frame(&a, r), (int)len);
	}
	/* 3 x 512 backlog places for 1024 mbufs: a's frames fill them
	 * until a burst of a's is DROPPED (a burst's mbufs are taken all
	 * or none), then single frames take what is left. */
	uint64_t burst_drops = 0; /* drops when a burst first failed */
	for (unsigned i = 0, t = 0;; i++) {
		uint64_t done;

		simfront_stats(a.f, 0, &st);
		if (burst_drops && st.tx_dropped > burst_drops)
			break; /* not even one mbuf */
		if (!burst_drops)
			burst_drops = st.tx_dropped;
		if (i > 6000 || t > 2000)
			FAIL("the pool did not run dry (%u frames sent)", i);
		done = st.tx_ok + st.tx_dropped + st.tx_error;
		len = vlan_frame(f, sink[i % 3].tv.mac, &a, 0, 2);
		while (simfront_send(a.f, 0, f, len, NULL) == -ENOSPC &&
		       t++ < 2000) {
			simfront_flush(a.f, 0);
			simfront_poll(a.f, 5);
		}
		if (burst_drops) {
			/* One at a time: wait for its answer. */
			simfront_flush(a.f, 0);
			for (; t < 2000; t++) {
				simfront_poll(a.f, 5);
				simfront_stats(a.f, 0, &st);
				if (st.tx_ok + st.tx_dropped + st.tx_error >
				    done)
					break;
			}
		} else if (i % 32 == 31) {
			simfront_flush(a.f, 0);
			simfront_poll(a.f, 1);
		}
	}
	/* One push: a frame and the subscription in the same burst. */
	len = vlan_frame(f, a.tv.mac, &b, 0, 3);
	CHECK_EQ(simfront_send(b.f, 0, f, len, NULL), 0);
	mcast_op(&b, true, grp, 200);
	simfront_stats(b.f, 0, &st);
	CHECK_EQ(st.tx_error, 0);
	CHECK_EQ(st.tx_dropped, 1); /* the frame, not the subscription */
	/* Buffers back, b has the group's frames. */
	for (unsigned k = 0; k < 3; k++)
		guest_down(&e, &sink[k]);
	len = vlan_frame(f, grp, &a, 0, 4);
	send_frame(&a, f, len);
	int n;
	/* The sinks' first frames were flooded to b too (a unknown yet). */
	while ((n = recv_frame(&b, r)) > 0 && r[14] == 1)
		;
	CHECK_EQ(n, (int)len);
	CHECK_EQ(r[14], 4);
	simenv_fini(&e);
}

/* ---- the rate key ---- */

/* Send n 1000-byte frames a -> b; how many b got within wait_ms (all
 * n arrived ends the wait early; n = 0 just counts for wait_ms). */
static unsigned
burst_count(struct guest *a, struct guest *b, unsigned n, int wait_ms)
{
	static uint8_t f[1000], r[65536];
	unsigned sent = 0, got = 0;

	make_frame(f, sizeof(f), a, b, 0);
	while (sent < n) {
		int k = simfront_send(a->f, 0, f, sizeof(f), NULL);

		if (k == -ENOSPC) {
			simfront_flush(a->f, 0);
			simfront_poll(a->f, 1);
			while (simfront_recv(b->f, 0, r, sizeof(r), NULL) >= 0)
				got++;
			continue;
		}
		CHECK_EQ(k, 0);
		sent++;
	}
	simfront_flush(a->f, 0);
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		int n2;

		while ((n2 = simfront_recv(b->f, 0, r, sizeof(r), NULL)) !=
		       -EAGAIN)
			if (n2 > 0)
				got++;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 +
			(t.tv_nsec - t0.tv_nsec) / 1000000 >= wait_ms ||
		    (n && got == n))
			break;
		simfront_poll(b->f, 2);
		simfront_poll(a->f, 0);
	}
	return got;
}

TEST(rate_limit_by_credit_and_at_run_time)
{
	struct simenv e;
	struct guest a, b;

	start(&e);
	/* 20000 bytes per second: 20 of our frames per second. */
	guest_ip = "rate=20000,1000000";
	guest_up(&e, &a, 1, NULL, true);
	guest_up(&e, &b, 2, NULL, true);
	CHECK(simenv_log_contains(&e, "vif1.0: rate 20000 bytes per 1000000"));
	/* Whatever the machine's speed, no more than the credit of the
	 * periods begun can arrive: one period in 300 ms. */
	unsigned got = burst_count(&a, &b, 200, 300);
	CHECK(got >= 1);
	CHECK(got <= 20);
	/* The rest trickles in as credit comes: at most 2 periods more. */
	unsigned more = burst_count(&a, &b, 0, 1500);
	CHECK(more >= 1);
	CHECK(more <= 2 * 20);
	/* Lifted at run time through the watch: the rest flows at once. */
	CHECK(xs_write(e.xs, XBT_NULL, "/local/domain/0/backend/vif/1/0/rate",
		       "", 0));
	for (int i = 0; i < 200 && !simenv_log_contains(
				       &e, "vif1.0: no rate limit");
	     i++)
		usleep(10000);
	CHECK(simenv_log_contains(&e, "vif1.0: no rate limit"));
	for (int i = 0; i < 30 && got + more < 200; i++)
		more += burst_count(&a, &b, 0, 100);
	CHECK_EQ(got + more, 200u);
	/* A bad value is refused with a warning, traffic unlimited. */
	CHECK(xs_write(e.xs, XBT_NULL, "/local/domain/0/backend/vif/1/0/rate",
		       "fast", 4));
	for (int i = 0; i < 200 && !simenv_log_contains(&e, "bad rate 'fast'");
	     i++)
		usleep(10000);
	CHECK(simenv_log_contains(&e, "bad rate 'fast'"));
	CHECK_EQ(burst_count(&a, &b, 300, 5000), 300u);
	simenv_fini(&e);
}

/* ---- a guest that stops taking packets ---- */

TEST(rx_drain_and_stall_then_recovery)
{
	struct simenv e;
	struct guest a, b;
	struct simfront_conf c;
	static uint8_t f[200], r[65536];
	char conf[300];

	simenv_init(&e);
	snprintf(conf, sizeof(conf), "%s/netbackd.conf", e.dir);
	FILE *fp = fopen(conf, "w");
	CHECK(fp != NULL);
	fprintf(fp, "[netbackd]\nrx-drain-timeout = 300\n"
		    "rx-stall-timeout = 1500\n[network xenbr0]\n");
	fclose(fp);
	const char *args[] = { "-c", conf, NULL };
	simenv_start_netbackd(&e, args);
	guest_up(&e, &a, 1, NULL, true);
	simfront_conf_default(&c, e.hv, 2, 0);
	c.rx_fill = 4; /* b posts 4 buffers and then no more */
	guest_up(&e, &b, 2, &c, true);

	/* b's 4 buffers fill; what follows waits, expires after 300 ms,
	 * and with traffic still coming b's queue stalls after 1.5 s
	 * without buffers: dropped, counted, logged. */
	for (int i = 0; i < 400 && !simenv_log_contains(
				       &e, "vif2.0: queue 0: no RX buffers");
	     i++) {
		make_frame(f, sizeof(f), &a, &b, (uint32_t)i);
		CHECK_EQ(simfront_send(a.f, 0, f, sizeof(f), NULL), 0);
		simfront_flush(a.f, 0);
		simfront_poll(a.f, 0);
		usleep(20000);
	}
	CHECK(simenv_log_contains(&e, "vif2.0: queue 0: no RX buffers"));
	kill(e.netbackd, SIGHUP);
	for (int i = 0; i < 200 && !simenv_log_contains(&e, "rx_stalls=1");
	     i++)
		usleep(10000);
	CHECK(simenv_log_contains(&e, "rx_drop_expired="));
	CHECK(simenv_log_contains(&e, "rx_stalls=1"));
	/* Stalled: new packets are dropped at once. */
	CHECK_EQ(simfront_send(a.f, 0, f, sizeof(f), NULL), 0);
	simfront_flush(a.f, 0);
	usleep(100000);
	/* b takes its 4 and posts buffers again: the queue recovers and
	 * the next packet arrives. */
	int got = 0;
	while (simfront_recv(b.f, 0, r, sizeof(r), NULL) > 0)
		got++;
	CHECK_EQ(got, 4);
	for (int i = 0; i < 200 && !simenv_log_contains(
				       &e, "vif2.0: queue 0: RX buffers back");
	     i++) {
		simfront_recv(b.f, 0, r, sizeof(r), NULL);
		usleep(10000);
	}
	CHECK(simenv_log_contains(&e, "vif2.0: queue 0: RX buffers back"));
	make_frame(f, sizeof(f), &a, &b, 1);
	CHECK_EQ(simfront_send(a.f, 0, f, sizeof(f), NULL), 0);
	simfront_flush(a.f, 0);
	CHECK_EQ(recv_one(&b, r, NULL), (int)sizeof(f));
	kill(e.netbackd, SIGHUP);
	for (int i = 0; i < 200 && !simenv_log_contains(&e, "rx_drop_stalled=");
	     i++)
		usleep(10000);
	CHECK(simenv_log_contains(&e, "rx_drop_stalled="));
	simenv_fini(&e);
}

/* ---- the control ring: Toeplitz hashing, static grants ---- */

static const uint8_t rss_key[40] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67,
	0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb,
	0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30,
	0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

static int
ctrl(struct guest *g, uint16_t type, uint32_t d0, uint32_t d1, uint32_t d2,
     uint32_t *out)
{
	return simfront_ctrl(g->f, type, d0, d1, d2, out, 5000);
}

/* Set the mapping table to n copies of queue qi. */
static int
set_mapping(struct guest *g, unsigned n, uint32_t qi)
{
	uint32_t *m = simfront_ctrl_scratch(g->f, 1);

	for (unsigned i = 0; i < n; i++)
		m[i] = qi;
	return ctrl(g, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING,
		    simfront_ctrl_scratch_gref(g->f, 1), n, 0, NULL);
}

/* Send n UDP frames a -> b (on a's queue 0); count what each of b's two
 * queues got, checking every HASH extra against netif.h's Toeplitz. */
static void
hashed_burst(struct guest *a, struct guest *b, unsigned n, bool want_hash,
	     unsigned got[2])
{
	static uint8_t f[2048], r[65536];
	struct simfront_rxinfo info;
	size_t len = 0;

	got[0] = got[1] = 0;
	for (unsigned i = 0; i < n; i++) {
		len = udp_partial(f, a, b);
		f[34] = (uint8_t)i;
		CHECK_EQ(simfront_send(a->f, 0, f, len, NULL), 0);
	}
	simfront_flush(a->f, 0);
	uint32_t want = xen_netif_toeplitz_hash(rss_key, sizeof(rss_key),
						f + 26, 8);
	for (int t = 0; t < 500 && got[0] + got[1] < n; t++) {
		simfront_poll(b->f, 5);
		for (unsigned q = 0; q < 2; q++) {
			while (simfront_recv(b->f, q, r, sizeof(r), &info) ==
			       (int)len) {
				got[q]++;
				CHECK_EQ(info.hash_valid, want_hash);
				if (!want_hash)
					continue;
				CHECK_EQ(info.hash, want);
				CHECK_EQ(info.hash_type,
					 _XEN_NETIF_CTRL_HASH_TYPE_IPV4);
				CHECK_EQ(info.hash_alg,
					 XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ);
			}
		}
	}
	CHECK_EQ(got[0] + got[1], n);
}

TEST(ctrl_ring_toeplitz_hash_and_mapping)
{
	struct simenv e;
	struct simfront_conf c;
	struct guest a, b;
	const char *const args[] = { "--workers", "2", NULL };
	unsigned got[2];
	uint32_t data;

	simenv_init(&e);
	simenv_start_netbackd(&e, args);
	guest_up(&e, &a, 1, NULL, true);
	simfront_conf_default(&c, NULL, 2, 0);
	c.queues = 2;
	c.ctrl_ring = true;
	guest_up(&e, &b, 2, &c, true);
	CHECK(simfront_has_ctrl(b.f));
	CHECK(simenv_log_contains(&e, "vif2.0: connected, 2 queue(s)"));
	CHECK(simenv_log_contains(&e, "ctrl-ring=1"));

	CHECK_EQ(ctrl(&b, XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS, 0, 0, 0, &data),
		 XEN_NETIF_CTRL_STATUS_SUCCESS);
	CHECK_EQ(data, 0xfu);
	memcpy(simfront_ctrl_scratch(b.f, 0), rss_key, sizeof(rss_key));
	CHECK_EQ(ctrl(&b, XEN_NETIF_CTRL_TYPE_SET_HASH_KEY,
		      simfront_ctrl_scratch_gref(b.f, 0), 40, 0, NULL),
		 XEN_NETIF_CTRL_STATUS_SUCCESS);
	CHECK_EQ(ctrl(&b, XEN_NETIF_CTRL_TYPE_SET_HASH_KEY,
		      simfront_ctrl_scratch_gref(b.f, 0), 41, 0, NULL),
		 XEN_NETIF_CTRL_STATUS_BUFFER_OVERFLOW);
	CHECK_EQ(ctrl(&b, XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS,
		      XEN_NETIF_CTRL_HASH_TYPE_IPV4, 0, 0, NULL),
		 XEN_NETIF_CTRL_STATUS_SUCCESS);
	CHECK_EQ(ctrl(&b, XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM,
		      XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ, 0, 0, NULL),
		 XEN_NETIF_CTRL_STATUS_SUCCESS);
	CHECK_EQ(ctrl(&b, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE, 4, 0, 0,
		      NULL), XEN_NETIF_CTRL_STATUS_SUCCESS);
	/* The mapping picks the queue: all to 1, then all to 0. */
	CHECK_EQ(set_mapping(&b, 4, 1), XEN_NETIF_CTRL_STATUS_SUCCESS);
	hashed_burst(&a, &b, 16, true, got);
	CHECK_EQ(got[1], 16u);
	CHECK_EQ(set_mapping(&b, 4, 0), XEN_NETIF_CTRL_STATUS_SUCCESS);
	hashed_burst(&a, &b, 16, true, got);
	CHECK_EQ(got[0], 16u);
	/* A queue b does not have: refused, the table stays. */
	CHECK_EQ(set_mapping(&b, 4, 2), XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);
	hashed_burst(&a, &b, 8, true, got);
	CHECK_EQ(got[0], 8u);
	/* Algorithm NONE: no HASH extra, our own steering again. */
	CHECK_EQ(ctrl(&b, XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM,
		      XEN_NETIF_CTRL_HASH_ALGORITHM_NONE, 0, 0, NULL),
		 XEN_NETIF_CTRL_STATUS_SUCCESS);
	hashed_burst(&a, &b, 8, false, got);
	CHECK_EQ(ctrl(&b, 99, 0, 0, 0, NULL),
		 XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED);
	guest_down(&e, &b);
	guest_down(&e, &a);
	CHECK_EQ(simenv_stop_netbackd(&e), 0); /* nothing left mapped */
	simenv_fini(&e);
}

/* Hand n buffer grants (TX or RX of queue 0) to the backend. */
static int
gref_table(struct guest *g, uint16_t type, bool tx, unsigned n, uint32_t *out)
{
	struct xen_netif_gref *t = simfront_ctrl_scratch(g->f, 0);

	for (unsigned i = 0; i < n; i++) {
		t[i].ref = tx ? simfront_tx_gref(g->f, 0, i)
			      : simfront_rx_gref(g->f, 0, i);
		t[i].flags = tx ? XEN_NETIF_CTRLF_GREF_readonly : 0;
		t[i].status = 0xffff;
	}
	return ctrl(g, type, 0, simfront_ctrl_scratch_gref(g->f, 0), n, out);
}

/* What the newest SIGHUP totals say. */
struct totals {
	unsigned long calls, statics, maps, ports;
};

static void
read_totals(struct simenv *e, struct totals *t)
{
	char line[512];
	FILE *fp;
	unsigned n = 0;

	/* Ask, and wait for a totals line newer than those seen. */
	fp = fopen(e->log, "r");
	CHECK(fp != NULL);
	while (fgets(line, sizeof(line), fp))
		n += strstr(line, "totals: ") != NULL;
	fclose(fp);
	kill(e->netbackd, SIGHUP);
	for (int i = 0; i < 300; i++) {
		unsigned m = 0;

		usleep(10000);
		fp = fopen(e->log, "r");
		CHECK(fp != NULL);
		while (fgets(line, sizeof(line), fp)) {
			const char *p = strstr(line, "totals: ");

			if (!p || ++m <= n)
				continue;
			p = strstr(p, "vifs, ");
			CHECK(p && sscanf(p, "vifs, %lu grant-copy calls",
					  &t->calls) == 1);
			p = strstr(p, "segments, ");
			CHECK(p && sscanf(p, "segments, %lu static",
					  &t->statics) == 1);
			p = strstr(p, "wake-ups, ");
			CHECK(p && sscanf(p, "wake-ups, %lu pages mapped, %lu "
					  "ports bound", &t->maps,
					  &t->ports) == 2);
			fclose(fp);
			return;
		}
		fclose(fp);
	}
	FAIL("no new totals line after SIGHUP");
}

static void
copy_totals(struct simenv *e, uint64_t *calls, uint64_t *statics)
{
	struct totals t;

	read_totals(e, &t);
	*calls = t.calls;
	*statics = t.statics;
}

TEST(static_grants_replace_grant_copies)
{
	struct simenv e;
	struct simfront_conf c;
	struct guest a, b;
	uint64_t calls0, st0, calls1, st1;
	uint32_t data;

	start(&e);
	simfront_conf_default(&c, NULL, 1, 0);
	c.ctrl_ring = true;
	guest_up(&e, &a, 1, &c, true);
	simfront_conf_default(&c, NULL, 2, 0);
	c.ctrl_ring = true;
	guest_up(&e, &b, 2, &c, true);
	CHECK_EQ(ctrl(&a, XEN_NETIF_CTRL_TYPE_GET_GREF_MAPPING_SIZE, 0, 0, 0,
		      &data), XEN_NETIF_CTRL_STATUS_SUCCESS);
	CHECK(data >= 256);
	/* a's TX buffers and b's RX buffers, all of them. */
	CHECK_EQ(gref_table(&a, XEN_NETIF_CTRL_TYPE_ADD_GREF_MAPPING, true,
			    256, NULL), XEN_NETIF_CTRL_STATUS_SUCCESS);
	CHECK_EQ(gref_table(&b, XEN_NETIF_CTRL_TYPE_ADD_GREF_MAPPING, false,
			    256, NULL), XEN_NETIF_CTRL_STATUS_SUCCESS);
	/* Twice the same: refused, nothing changes. */
	CHECK_EQ(gref_table(&b, XEN_NETIF_CTRL_TYPE_ADD_GREF_MAPPING, false,
			    1, NULL), XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);
	copy_totals(&e, &calls0, &st0);
	static const size_t sizes[] = { 60, 1514, 9000, 64000, 300, 4096 };
	size_t many[120];
	for (unsigned i = 0; i < 120; i++)
		many[i] = sizes[i % 6];
	exchange(&a, &b, many, 120);
	copy_totals(&e, &calls1, &st1);
	/* Every byte went through the static grants: no grant copy. */
	CHECK(st1 > st0);
	CHECK_EQ(calls1, calls0);
	/* Removed again: each entry says so, the count comes back. */
	CHECK_EQ(gref_table(&b, XEN_NETIF_CTRL_TYPE_DEL_GREF_MAPPING, false,
			    256, &data), XEN_NETIF_CTRL_STATUS_SUCCESS);
	CHECK_EQ(data, 256u);
	struct xen_netif_gref *t = simfront_ctrl_scratch(b.f, 0);
	CHECK_EQ(t[0].status, XEN_NETIF_CTRL_STATUS_SUCCESS);
	CHECK_EQ(t[255].status, XEN_NETIF_CTRL_STATUS_SUCCESS);
	exchange(&a, &b, many, 12);
	copy_totals(&e, &calls0, &st0);
	CHECK(calls0 > calls1);
	/* a closes with its TX grants still mapped: netbackd lets go. */
	guest_down(&e, &a);
	guest_down(&e, &b);
	CHECK_EQ(simenv_stop_netbackd(&e), 0);
	simenv_fini(&e);
}

TEST(ctrl_ring_hostile_producer_disconnects_only_its_vif)
{
	struct simenv e;
	struct simfront_conf c;
	struct guest a, b, h;
	static const size_t sizes[] = { 100, 1500 };

	start(&e);
	guest_up(&e, &a, 1, NULL, true);
	guest_up(&e, &b, 2, NULL, true);
	simfront_conf_default(&c, NULL, 3, 0);
	c.ctrl_ring = true;
	guest_up(&e, &h, 3, &c, true);
	simfront_raw_ctrl_prod(h.f, 1000);
	CHECK(simenv_wait_value(&e, "/local/domain/0/backend/vif/3/0/state",
				"5", 5000));
	char *err = simenv_read(&e, "/local/domain/0/backend/vif/3/0/error");
	CHECK(err && strstr(err, "control ring"));
	free(err);
	exchange(&a, &b, sizes, 2);
	simenv_fini(&e);
}

/*
 * A control ring netbackd cannot connect: that vif is refused, its
 * grants and ports given back, and the reason says which key was bad.
 */
static void
ctrl_refused(struct simenv *e, uint16_t domid, const struct simfront_conf *c,
	     const char *why)
{
	struct simhv_stats st0, st1;
	struct guest h;
	char path[96], *err;

	simhv_get_stats(e->hv, &st0);
	guest_up(e, &h, domid, c, false);
	CHECK_EQ(simfront_connect(h.f, 10000), -ECONNREFUSED);
	snprintf(path, sizeof(path), "/local/domain/0/backend/vif/%u/0/error",
		 domid);
	err = simenv_read(e, path);
	if (!err || !strstr(err, why))
		FAIL("vif%u.0: error '%s', want '%s'", domid,
		     err ? err : "(none)", why);
	free(err);
	CHECK_EQ(simhv_domain_mapped(e->hv, domid), 0);
	guest_down(e, &h);
	simhv_get_stats(e->hv, &st1);
	CHECK_EQ(st1.ports_bound, st0.ports_bound);
	CHECK_EQ(st1.maps, st0.maps);
}

TEST(ctrl_ring_bogus_keys_refuse_only_that_vif)
{
	struct simenv e;
	struct simfront_conf c;
	struct guest a, b;
	static const size_t sizes[] = { 100, 1500, 9000 };

	start(&e);
	guest_up(&e, &a, 1, NULL, true);
	guest_up(&e, &b, 2, NULL, true);
	exchange(&a, &b, sizes, 3);
	simfront_conf_default(&c, NULL, 3, 0);
	c.ctrl_ring = true;
	c.ctrl_ref_forged = 0xfffffff0u; /* no such grant */
	ctrl_refused(&e, 3, &c, "cannot map ctrl ring ref");
	exchange(&a, &b, sizes, 3);
	simfront_conf_default(&c, NULL, 4, 0);
	c.ctrl_ring = true;
	c.ctrl_port_forged = 0xfff0u; /* no such port */
	ctrl_refused(&e, 4, &c, "cannot bind ctrl event channel");
	exchange(&a, &b, sizes, 3);
	/*
	 * The control ring's port is the data queue's: whichever is bound
	 * second fails. The control ring is connected before any queue
	 * goes to a worker (which reads the static grants it sets up), so
	 * it is the queue's.
	 */
	simfront_conf_default(&c, NULL, 5, 0);
	c.ctrl_ring = true;
	c.ctrl_port_shared = true;
	ctrl_refused(&e, 5, &c, "queue 0: cannot bind event channel");
	exchange(&a, &b, sizes, 3);
	guest_down(&e, &b);
	guest_down(&e, &a);
	CHECK_EQ(simenv_stop_netbackd(&e), 0); /* nothing left mapped */
	simenv_fini(&e);
}

TEST(ctrl_ring_bad_producer_at_connect_refused)
{
	struct simenv e;
	struct simfront_conf c;
	struct guest a, b;
	static const size_t sizes[] = { 100, 1500 };

	start(&e);
	guest_up(&e, &a, 1, NULL, true);
	guest_up(&e, &b, 2, NULL, true);
	/* The producer is beyond the ring before netbackd maps it: seen,
	 * and acted on, at connect, without waiting for another event. */
	simfront_conf_default(&c, NULL, 3, 0);
	c.ctrl_ring = true;
	c.ctrl_prod_early = 1000;
	ctrl_refused(&e, 3, &c, "control ring request producer beyond");
	CHECK(simenv_log_contains(&e, "vif3.0: protocol violation"));
	exchange(&a, &b, sizes, 2);
	guest_down(&e, &b);
	guest_down(&e, &a);
	CHECK_EQ(simenv_stop_netbackd(&e), 0);
	simenv_fini(&e);
}

/* ---- xdp-headroom ---- */

TEST(xdp_headroom_at_connect_and_reconfigured)
{
	struct simenv e;
	struct simfront_conf c;
	struct guest a, b;
	static uint8_t f[8000], r[65536];
	struct simfront_rxinfo info;
	static const size_t sizes[] = { 60, 1514, 3900, 9000 };

	start(&e);
	guest_up(&e, &a, 1, NULL, true);
	simfront_conf_default(&c, NULL, 2, 0);
	c.xdp_headroom = 256;
	guest_up(&e, &b, 2, &c, true);
	CHECK(simenv_log_contains(&e, "xdp-headroom=256"));
	exchange(&a, &b, sizes, 4);
	make_frame(f, 3900, &a, &b, 0);
	CHECK_EQ(simfront_send(a.f, 0, f, 3900, NULL), 0);
	simfront_flush(a.f, 0);
	CHECK_EQ(recv_one(&b, r, &info), 3900);
	CHECK_EQ(info.xdp_headroom, 256);
	CHECK_EQ(info.slots, 3); /* 2 data slots and the XDP extra */
	CHECK(memcmp(r, f, 3900) == 0);
	/* XDP detached: Reconfiguring -> Reconfigured -> Connected. */
	CHECK_EQ(simfront_xdp(b.f, 0, 5000), 0);
	CHECK(simenv_log_contains(&e, "vif2.0: reconfigured, xdp-headroom 0"));
	CHECK_EQ(simfront_send(a.f, 0, f, 3900, NULL), 0);
	simfront_flush(a.f, 0);
	CHECK_EQ(recv_one(&b, r, &info), 3900);
	CHECK_EQ(info.xdp_headroom, 0);
	CHECK_EQ(info.slots, 1);
	/* Attached again with another headroom; too much is bounded. */
	CHECK_EQ(simfront_xdp(b.f, 128, 5000), 0);
	exchange(&a, &b, sizes, 4);
	CHECK_EQ(simfront_xdp(b.f, 0x7fff, 5000), 0);
	CHECK(simenv_log_contains(&e, "xdp-headroom 32767 bounded to 2048"));
	exchange(&a, &b, sizes, 4);
	guest_down(&e, &b);
	guest_down(&e, &a);
	CHECK_EQ(simenv_stop_netbackd(&e), 0);
	simenv_fini(&e);
}

/* ---- a frontend without feature-rx-notify ---- */

TEST(no_rx_notify_frontend_is_polled)
{
	struct simenv e;
	struct simfront_conf c;
	struct guest a, b;

	start(&e);
	guest_up(&e, &a, 1, NULL, true);
	simfront_conf_default(&c, NULL, 2, 0);
	c.rx_notify = false; /* it posts buffers without telling us */
	c.rx_fill = 8;
	guest_up(&e, &b, 2, &c, true);
	CHECK(simenv_log_contains(&e, "vif2.0: connected") &&
	      simenv_log_contains(&e, "rx-notify=0"));
	/* 80 frames at once into 8 buffers: the rest waits in netbackd,
	 * and b's refills are announced to nobody. Then no other traffic:
	 * a worker waiting for an event would sleep its full second per
	 * refill (9 s); netbackd polls such a queue every millisecond. */
	static uint8_t f[200], r[65536];
	for (unsigned i = 0; i < 80; i++) {
		make_frame(f, sizeof(f), &a, &b, i);
		CHECK_EQ(simfront_send(a.f, 0, f, sizeof(f), NULL), 0);
	}
	simfront_flush(a.f, 0);
	unsigned got = 0;
	for (int t = 0; t < 600 && got < 80; t++) {
		int n;

		while ((n = simfront_recv(b.f, 0, r, sizeof(r), NULL)) > 0) {
			make_frame(f, sizeof(f), &a, &b, got);
			CHECK_EQ(n, (int)sizeof(f));
			CHECK(memcmp(r, f, sizeof(f)) == 0);
			got++;
		}
		usleep(5000);
	}
	CHECK_EQ(got, 80u);
	simenv_fini(&e);
}

/* ---- soak ---- */

static unsigned
open_fds(pid_t pid)
{
	char path[64];
	unsigned n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	DIR *d = opendir(path);
	CHECK(d != NULL);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/*
 * 1000 connect/disconnect cycles of a third guest while two others keep
 * exchanging frames: every 10th cycle the whole vif and domain go and
 * come back (xl network-detach/attach), the others are the frontend
 * closing and reconnecting (driver reload). Afterwards netbackd holds
 * exactly what it held before: pages mapped, ports bound, fds. Under
 * build-san, LeakSanitizer checks its memory at exit too.
 */
TEST(soak_1000_connect_disconnect_cycles)
{
	struct simenv e;
	struct guest a, b, c;
	struct totals t0, t1;
	static const size_t sizes[] = { 60, 1514, 300, 9000 };

	start(&e);
	guest_up(&e, &a, 1, NULL, true);
	guest_up(&e, &b, 2, NULL, true);
	exchange(&a, &b, sizes, 4);
	read_totals(&e, &t0);
	unsigned fds0 = open_fds(e.netbackd);

	guest_up(&e, &c, 3, NULL, true);
	for (unsigned i = 1; i <= 1000; i++) {
		if (i % 10 == 0) {
			guest_down(&e, &c);
			guest_up(&e, &c, 3, NULL, true);
		} else {
			CHECK_EQ(simfront_close(c.f, 5000), 0);
			simfront_free(c.f);
			CHECK(xs_write(e.xs, XBT_NULL,
				       "/local/domain/3/device/vif/0/state",
				       "1", 1));
			CHECK(simenv_wait_value(
			    &e, "/local/domain/0/backend/vif/3/0/state", "2",
			    5000));
			struct simfront_conf fc;
			simfront_conf_default(&fc, e.hv, 3, 0);
			c.f = simfront_new(&fc, e.xs);
			CHECK(c.f != NULL);
			CHECK_EQ(simfront_connect(c.f, 10000), 0);
		}
		if (i % 50 == 0) {
			exchange(&a, &b, sizes, 4);
			exchange(&c, &a, sizes, 4);
		}
	}
	guest_down(&e, &c);
	exchange(&b, &a, sizes, 4);
	/* The vif's directory is gone: give netbackd a moment to forget. */
	for (int i = 0; i < 50; i++) {
		read_totals(&e, &t1);
		if (t1.maps == t0.maps && t1.ports == t0.ports)
			break;
		usleep(20000);
	}
	CHECK_EQ(t1.maps, t0.maps);
	CHECK_EQ(t1.ports, t0.ports);
	CHECK_EQ(open_fds(e.netbackd), fds0);
	guest_down(&e, &a);
	guest_down(&e, &b);
	CHECK_EQ(simenv_stop_netbackd(&e), 0);
	simenv_fini(&e);
}

/* ---- xenstore going away, watches for vanished paths ---- */

TEST(vanishing_paths_and_lost_xenstore)
{
	struct simenv e;
	struct guest a, b;
	static const size_t sizes[] = { 60, 1514 };
	char path[96];

	start(&e);
	guest_up(&e, &a, 1, NULL, true);
	guest_up(&e, &b, 2, NULL, true);
	/* Backend directories that appear and vanish before netbackd
	 * reads them, and frontend states of domains that do not exist:
	 * watches fire for paths that are gone. */
	for (unsigned i = 0; i < 200; i++) {
		snprintf(path, sizeof(path),
			 "/local/domain/0/backend/vif/%u/0/state", 10 + i % 7);
		CHECK(xs_write(e.xs, XBT_NULL, path, "1", 1));
		snprintf(path, sizeof(path), "/local/domain/0/backend/vif/%u",
			 10 + i % 7);
		CHECK(xs_rm(e.xs, XBT_NULL, path));
	}
	exchange(&a, &b, sizes, 2);
	/* xenstored dies: netbackd says so, gives everything back and
	 * exits with an error (a supervisor restarts it; a new netbackd
	 * re-attaches, as restart_reattaches_live_rings shows). */
	kill(e.xenstored, SIGKILL);
	waitpid(e.xenstored, NULL, 0);
	e.xenstored = 0;
	int st = -1;
	for (int i = 0; i < 500; i++) {
		if (waitpid(e.netbackd, &st, WNOHANG) == e.netbackd)
			break;
		usleep(10000);
	}
	CHECK(WIFEXITED(st));
	CHECK_EQ(WEXITSTATUS(st), 1);
	e.netbackd = 0;
	CHECK(simenv_log_contains(&e, "xenstore connection lost"));
	CHECK(simenv_log_contains(&e, "stopped: 0 pages mapped, 0 ports bound"));
	/* Failed reads were not taken for removed devices. */
	CHECK(!simenv_log_contains(&e, "vif1.0: removed"));
	CHECK(!simenv_log_contains(&e, "vif2.0: removed"));
	simenv_fini(&e);
}

/*
 * A driver domain without `xl devd`: dom0's libxl runs no hotplug
 * script for a backend in another domain and, on removal, waits for the
 * backend domain to remove the backend directory. With hotplug =
 * netbackd, netbackd writes hotplug-status itself (or no vif would ever
 * connect) and removes the directory once the vif is closed and offline.
 */
static void
dd_guest_up(struct simenv *e, struct guest *g, uint16_t domid)
{
	struct simfront_conf c;
	int r;

	memset(g, 0, sizeof(*g));
	g->domid = domid;
	g->tv.domid = domid;
	g->tv.driver_domain = true;
	mac_of(domid, g->tv.mac);
	CHECK_EQ(simtool_domain_create(e->xs, e->hv, domid,
				       simfront_pages(SIMFRONT_MAX_QUEUES)), 0);
	r = simtool_vif_add(e->xs, &g->tv);
	if (r < 0)
		FAIL("vif%u.0: backend did not reach InitWait: %d", domid, r);
	simfront_conf_default(&c, e->hv, domid, 0);
	g->f = simfront_new(&c, e->xs);
	CHECK(g->f != NULL);
	r = simfront_connect(g->f, 10000);
	if (r < 0)
		FAIL("vif%u.0: connect without a hotplug script: %s", domid,
		     strerror(-r));
}

TEST(hotplug_by_netbackd_in_a_driver_domain)
{
	struct simenv e;
	struct guest a, b;
	char conf[200];
	size_t sizes[4] = { 60, 60, 60, 60 };
	FILE *f;
	char *s;

	simenv_init(&e);
	snprintf(conf, sizeof(conf), "%s/dd.conf", e.dir);
	f = fopen(conf, "w");
	CHECK(f != NULL);
	fputs("[netbackd]\nhotplug = netbackd\n", f);
	fclose(f);
	const char *const args[] = { "--config", conf, NULL };
	simenv_start_netbackd(&e, args);
	dd_guest_up(&e, &a, 1);
	dd_guest_up(&e, &b, 2);
	s = simenv_read(&e, "/local/domain/0/backend/vif/1/0/hotplug-status");
	CHECK_STREQ(s, "connected");
	free(s);
	exchange(&a, &b, sizes, 4);
	exchange(&b, &a, sizes, 4);

	/* The guest closes, the toolstack takes the vif offline and waits
	 * for netbackd to remove the backend directory. */
	CHECK_EQ(simfront_close(a.f, 5000), 0);
	simfront_free(a.f);
	CHECK_EQ(simtool_vif_remove(e.xs, &a.tv, 5000), 0);
	s = simenv_read(&e, "/local/domain/0/backend/vif/1/0");
	CHECK(s == NULL);
	free(s);
	CHECK(simenv_log_contains(&e, "vif1.0: closed and offline"));
	CHECK_EQ(simhv_domain_mapped(e.hv, 1), 0);
	simtool_domain_destroy(e.xs, e.hv, 1, 0);
	/* The other guest's vif is untouched. */
	s = simenv_read(&e, "/local/domain/0/backend/vif/2/0/state");
	CHECK_STREQ(s, "4");
	free(s);
	CHECK_EQ(simenv_stop_netbackd(&e), 0);
	simfront_free(b.f);
	simenv_fini(&e);
}

/*
 * netbackd killed with SIGKILL while a guest's frames wait in its TX ring
 * and started again: the simulated hypervisor releases what the dead
 * process held (as Xen does when its gntdev and evtchn files close), the
 * new netbackd re-attaches to the live rings, and the guests carry on
 * without reconnecting. Every TX request gets its response; frames the
 * dead process had taken but not delivered are lost.
 */
TEST(sigkill_restart_guests_carry_on)
{
	struct simenv e;
	struct guest a, b;
	size_t sizes[32];
	static uint8_t tx[2048], rx[65536];
	struct simfront_stats st;

	for (unsigned i = 0; i < 32; i++)
		sizes[i] = 400;
	start(&e);
	guest_up(&e, &a, 1, NULL, true);
	guest_up(&e, &b, 2, NULL, true);
	exchange(&a, &b, sizes, 32);
	uint32_t mapped1 = simhv_domain_mapped(e.hv, 1);
	uint32_t mapped2 = simhv_domain_mapped(e.hv, 2);
	uint32_t ports0 = simhv_domain_ports(e.hv, 0);
	CHECK(mapped1 > 0 && ports0 > 0);
	/* Traffic in flight: 100 frames a -> b posted while netbackd runs
	 * (some are served, some may die in its RX backlog), then, once it
	 * is stopped, 50 each way (those wait in the rings for sure), then
	 * the kill. */
	int wst;
	for (unsigned i = 0; i < 200; i++) {
		struct guest *from = i < 150 ? &a : &b, *to = i < 150 ? &b : &a;

		if (i == 100) {
			simfront_flush(a.f, 0);
			CHECK_EQ(kill(e.netbackd, SIGSTOP), 0);
			CHECK_EQ(waitpid(e.netbackd, &wst, WUNTRACED),
				 e.netbackd);
			CHECK(WIFSTOPPED(wst));
		}
		make_frame(tx, 400, from, to, 1000 + i);
		if (simfront_send(from->f, 0, tx, 400, NULL) < 0)
			FAIL("frame %u did not fit in the TX ring", i);
		if (i % 16 == 15)
			simfront_flush(from->f, 0);
	}
	simfront_flush(a.f, 0);
	simfront_flush(b.f, 0);
	CHECK_EQ(kill(e.netbackd, SIGKILL), 0);
	CHECK_EQ(waitpid(e.netbackd, NULL, 0), e.netbackd);
	e.netbackd = 0;
	/* The dead process's maps and ports are still counted... */
	CHECK_EQ(simhv_domain_mapped(e.hv, 1), mapped1);
	/* ...until a new netbackd opens the hypervisor. */
	simenv_start_netbackd(&e, NULL);
	restarted_takes_up_both(&e);
	/* What waited in the rings goes out; each takes what arrives. */
	unsigned late = 0;
	for (int quiet = 0; quiet < 30;) {
		int len;

		simfront_poll(a.f, 10);
		simfront_poll(b.f, 0);
		quiet++;
		for (struct simfront *f = b.f; f; f = f == b.f ? a.f : NULL)
			while ((len = simfront_recv(f, 0, rx, sizeof(rx),
						    NULL)) != -EAGAIN) {
				CHECK_EQ(len, 400);
				late++;
				quiet = 0;
			}
	}
	struct simfront_stats stb;
	simfront_stats(b.f, 0, &stb);
	CHECK_EQ(stb.tx_ok + stb.tx_dropped + stb.tx_error, stb.tx_packets);
	simfront_stats(a.f, 0, &st);
	fprintf(stderr, "after the kill: %u of the 200 frames in flight "
		"arrived; a: %lu TX requests, %lu answered\n", late,
		(unsigned long)st.tx_packets,
		(unsigned long)(st.tx_ok + st.tx_dropped + st.tx_error));
	/* Every TX request was answered, by one netbackd or the other. */
	CHECK_EQ(st.tx_ok + st.tx_dropped + st.tx_error, st.tx_packets);
	/* At least those the vif taken up second had waiting: the first
	 * one's may find no receiver on the new switch yet, and are then
	 * dropped, as any switch drops frames for a port not yet there. */
	CHECK(late >= 50);
	exchange(&a, &b, sizes, 32);
	exchange(&b, &a, sizes, 32);
	/* One netbackd's worth of mappings and ports, not two. */
	CHECK_EQ(simhv_domain_mapped(e.hv, 1), mapped1);
	CHECK_EQ(simhv_domain_mapped(e.hv, 2), mapped2);
	CHECK_EQ(simhv_domain_ports(e.hv, 0), ports0);
	simenv_fini(&e);
}

/* ---- DPDK ports: a guest and the wire through vdevs, no NIC ---- */

static char veth_gone[64];

static void
veth_del(void)
{
	if (veth_gone[0] && system(veth_gone) != 0)
		fprintf(stderr, "could not remove the veth pair\n");
}

/*
 * A veth pair PREFIX<pid>a / PREFIX<pid>b, up, without IPv6 (no
 * router solicitations on the wire), removed at exit: netbackd takes
 * the a end, the test the b end. Needs root (CI runs as root).
 */
static void
veth_up(const char *prefix, char wa[16], char wb[16])
{
	char cmd[512];

	if (geteuid() != 0)
		FAIL("needs root for the veth pair (CI runs as root)");
	snprintf(wa, 16, "%s%ua", prefix, (unsigned)getpid() % 100000);
	snprintf(wb, 16, "%s%ub", prefix, (unsigned)getpid() % 100000);
	snprintf(veth_gone, sizeof(veth_gone), "ip link del %s 2>/dev/null", wa);
	atexit(veth_del); /* a failed check exits */
	snprintf(cmd, sizeof(cmd),
		 "ip link add %s type veth peer name %s && "
		 "sysctl -qw net.ipv6.conf.%s.disable_ipv6=1 "
		 "net.ipv6.conf.%s.disable_ipv6=1 && "
		 "ip link set %s up && ip link set %s up", wa, wb, wa, wb, wa,
		 wb);
	CHECK_EQ(system(cmd), 0);
}

/* A raw socket bound to interface ifname, every protocol; *sl its
 * address (for sending). */
static int
wire_socket(const char *ifname, struct sockaddr_ll *sl)
{
	int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));

	CHECK(fd >= 0);
	*sl = (struct sockaddr_ll){ .sll_family = AF_PACKET,
				    .sll_protocol = htons(ETH_P_ALL),
				    .sll_ifindex = (int)if_nametoindex(ifname) };
	CHECK(sl->sll_ifindex > 0);
	CHECK_EQ(bind(fd, (struct sockaddr *)sl, sizeof(*sl)), 0);
	return fd;
}

/* Send frame f on a raw socket bound to ifindex. */
static void
raw_send(int fd, int ifindex, const uint8_t *f, size_t len)
{
	struct sockaddr_ll sa = { .sll_family = AF_PACKET,
				  .sll_ifindex = ifindex, .sll_halen = 6 };

	memcpy(sa.sll_addr, f, 6);
	CHECK_EQ(sendto(fd, f, len, 0, (struct sockaddr *)&sa, sizeof(sa)),
		 (ssize_t)len);
}

/* The next frame of our EtherType a guest receives within ~3 s (the
 * host's own chatter on a tap, IPv6 and the like, skipped). */
static int
guest_recv_ours(struct simfront *f, uint8_t *buf, size_t cap)
{
	for (int t = 0; t < 300; t++) {
		int n;

		simfront_poll(f, 10);
		while ((n = simfront_recv(f, 0, buf, cap, NULL)) != -EAGAIN)
			if (n >= 14 && buf[12] == 0x88 && buf[13] == 0xb5)
				return n;
	}
	return -EAGAIN;
}

/* Frames of our EtherType taken from the raw socket within ms. */
static int
raw_recv(int fd, uint8_t *buf, size_t cap, int ms)
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		if (poll(&pfd, 1, ms) != 1)
			return -1;
		ssize_t n = recv(fd, buf, cap, 0);

		if (n >= 14 && buf[12] == 0x88 && buf[13] == 0xb5)
			return (int)n;
	}
}

/*
 * A network whose uplink is net_af_packet on one end of a veth pair
 * (the test plays the wire on the other end) and whose second port is
 * net_pcap writing a file: frames from the wire reach a guest byte for
 * byte, the guest's frames reach the wire once the switch learned the
 * host there, and a broadcast floods to the guests, the wire and the
 * capture port. A third port, net_tap, has its link taken down and up.
 * Needs root (CAP_NET_ADMIN for the veth pair and the tap).
 */
TEST(dpdk_vdev_ports_carry_guest_traffic)
{
	struct simenv e;
	struct guest a, b;
	char conf[300], out[300], empty[300], cmd[512], wa[16], wb[16], wt[16];
	static uint8_t f[2048], r[65536];
	const uint8_t host[6] = { 0x02, 0, 0, 0, 0, 0x99 };

	veth_up("nbt", wa, wb);
	snprintf(wt, sizeof(wt), "nbt%ut", (unsigned)getpid() % 100000);
	simenv_init(&e);
	snprintf(conf, sizeof(conf), "%s/netbackd.conf", e.dir);
	snprintf(out, sizeof(out), "%s/flood.pcap", e.dir);
	snprintf(empty, sizeof(empty), "%s/empty.pcap", e.dir);
	/* A pcap file with no packets: the capture port's (empty) input. */
	FILE *fp = fopen(empty, "w");
	const uint32_t hdr[6] = { 0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1 };
	CHECK(fp && fwrite(hdr, sizeof(hdr), 1, fp) == 1);
	fclose(fp);
	fp = fopen(conf, "w");
	CHECK(fp != NULL);
	fprintf(fp, "[network xenbr0]\npif = net_af_packet0,iface=%s\n"
		    "port = net_pcap1,rx_pcap=%s,tx_pcap=%s\n"
		    "port = net_tap0,iface=%s\n", wa, empty, out, wt);
	fclose(fp);
	const char *args[] = { "-c", conf, NULL };
	simenv_start_netbackd(&e, args);
	guest_up(&e, &a, 1, NULL, true);
	guest_up(&e, &b, 2, NULL, true);

	struct sockaddr_ll sl;
	int fd = wire_socket(wb, &sl);

	/* The guest speaks first: a broadcast, flooded everywhere. */
	memset(f, 0xff, 6);
	memcpy(f + 6, a.tv.mac, 6);
	f[12] = 0x88;
	f[13] = 0xb5;
	for (unsigned i = 14; i < 300; i++)
		f[i] = (uint8_t)(i * 7);
	CHECK_EQ(simfront_send(a.f, 0, f, 300, NULL), 0);
	simfront_flush(a.f, 0);
	int n = raw_recv(fd, r, sizeof(r), 3000);
	CHECK_EQ(n, 300);
	CHECK(memcmp(r, f, 300) == 0);
	CHECK_EQ(guest_recv_ours(b.f, r, sizeof(r)), 300);

	/* The wire to the guest: 64 frames of 60..1514 bytes, in order. */
	for (unsigned i = 0; i < 64; i++) {
		size_t len = 60 + (i * 97) % 1455;

		memcpy(f, a.tv.mac, 6);
		memcpy(f + 6, host, 6);
		for (size_t k = 14; k < len; k++)
			f[k] = (uint8_t)(k + i);
		f[12] = 0x88;
		f[13] = 0xb5;
		f[14] = (uint8_t)i;
		raw_send(fd, sl.sll_ifindex, f, len);
		int len_a = guest_recv_ours(a.f, r, sizeof(r));
		if (len_a != (int)len || memcmp(r, f, len) != 0)
			FAIL("frame %u from the wire: %d bytes, want %zu", i,
			     len_a, len);
	}
	/* And back: the host was learned on the uplink, so unicast to it
	 * goes to the wire only. */
	memcpy(f, host, 6);
	memcpy(f + 6, a.tv.mac, 6);
	f[14] = 0xab;
	CHECK_EQ(simfront_send(a.f, 0, f, 1000, NULL), 0);
	simfront_flush(a.f, 0);
	n = raw_recv(fd, r, sizeof(r), 3000);
	CHECK_EQ(n, 1000);
	CHECK(memcmp(r, f, 1000) == 0);
	close(fd);
	kill(e.netbackd, SIGHUP);
	for (int t = 0; t < 200 && !simenv_log_contains(&e, "port net_pcap1 (port)"); t++)
		usleep(10000);
	/* Counted per port: the 64 from the wire (what goes to it also
	 * carries the tap's own IPv6 chatter, flooded). */
	CHECK(simenv_log_contains(&e, "port net_af_packet0 (uplink): rx 64 pkts"));
	/* A port whose link goes down (net_tap follows its kernel
	 * interface; af_packet and pcap report up always): followed within
	 * a second or two; what floods to it meanwhile is dropped and
	 * counted, not queued, and it comes back. */
	CHECK(simenv_log_contains(&e, "port net_tap0: link up"));
	snprintf(cmd, sizeof(cmd), "ip link set %s down", wt);
	CHECK_EQ(system(cmd), 0);
	for (int t = 0; t < 300 && !simenv_log_contains(
				       &e, "port net_tap0: link down");
	     t++)
		usleep(10000);
	CHECK(simenv_log_contains(&e, "port net_tap0: link down"));
	memset(f, 0xff, 6);
	memcpy(f + 6, a.tv.mac, 6);
	for (int i = 0; i < 5; i++)
		CHECK_EQ(simfront_send(a.f, 0, f, 200, NULL), 0);
	simfront_flush(a.f, 0);
	usleep(300000);
	snprintf(cmd, sizeof(cmd), "ip link set %s up", wt);
	CHECK_EQ(system(cmd), 0);
	for (int t = 0; t < 50 && !simenv_log_contains(
				      &e, "link up (2 changes, 5 dropped while down)");
	     t++) {
		kill(e.netbackd, SIGHUP);
		usleep(100000);
	}
	CHECK(simenv_log_contains(&e, "link up (2 changes, 5 dropped while down)"));
	CHECK_EQ(simenv_stop_netbackd(&e), 0);

	/* The capture port's file: the broadcast and nothing unicast. */
	fp = fopen(out, "r");
	CHECK(fp != NULL);
	uint32_t gh[6], ph[4];
	unsigned ours = 0, bcast = 0, later = 0;
	CHECK_EQ(fread(gh, sizeof(gh), 1, fp), 1);
	while (fread(ph, sizeof(ph), 1, fp) == 1) {
		CHECK(ph[2] <= sizeof(r));
		CHECK_EQ(fread(r, ph[2], 1, fp), 1);
		if (r[12] != 0x88 || r[13] != 0xb5)
			continue; /* the tap's chatter, flooded */
		ours++;
		if (ph[2] == 300 && r[0] == 0xff)
			bcast++;
		if (ph[2] == 200 && r[0] == 0xff)
			later++;
	}
	fclose(fp);
	/* The first broadcast, the five sent while the tap was down, and
	 * none of the unicast. */
	CHECK_EQ(bcast, 1);
	CHECK_EQ(later, 5);
	CHECK_EQ(ours, 6);
	simenv_fini(&e);
	veth_del();
	veth_gone[0] = '\0';
}

/*
 * net_af_packet has one queue pair unless qpairs= says more: with two
 * workers, both send on its one TX queue (shared under its lock), and
 * the log names qpairs=2 as the way to give each its own. Guests a and
 * b, on workers 0 and 1, send to the wire at once; every frame must
 * come out byte for byte, in order per sender. Needs root (the veth
 * pair).
 */
TEST(af_packet_uplink_one_queue_two_workers)
{
	struct simenv e;
	struct guest a, b;
	char conf[300], wa[16], wb[16];
	static uint8_t f[2048], r[65536];
	const uint8_t host[6] = { 0x02, 0, 0, 0, 0, 0x98 };
	unsigned got[2] = { 0, 0 }, sent = 0;
	const unsigned n = 256;

	veth_up("nbq", wa, wb);
	simenv_init(&e);
	snprintf(conf, sizeof(conf), "%s/netbackd.conf", e.dir);
	FILE *fp = fopen(conf, "w");
	CHECK(fp != NULL);
	fprintf(fp, "[netbackd]\nworkers = 2\n"
		    "[network xenbr0]\npif = net_af_packet0,iface=%s\n", wa);
	fclose(fp);
	const char *args[] = { "-c", conf, NULL };
	simenv_start_netbackd(&e, args);
	CHECK(simenv_log_contains(&e, "pif net_af_packet0: 1 TX queue for 2 "
				      "workers, shared under a lock (qpairs=2"));
	CHECK(simenv_log_contains(&e, "1 rx / 1 tx queues (shared)"));
	guest_up(&e, &a, 1, NULL, true);
	guest_up(&e, &b, 2, NULL, true);

	struct sockaddr_ll sl;
	int fd = wire_socket(wb, &sl);
	int rcvbuf = 4 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));

	/* Frame i of guest g: to the host, g's source, a payload of its
	 * own. */
#define AF_LEN(i) (60 + ((i) * 89) % 1455)
#define AF_FRAME(buf, g, i)                                               \
	do {                                                              \
		memcpy(buf, host, 6);                                     \
		memcpy(buf + 6, (g)->tv.mac, 6);                          \
		buf[12] = 0x88;                                           \
		buf[13] = 0xb5;                                           \
		for (size_t k = 14; k < AF_LEN(i); k++)                   \
			buf[k] = (uint8_t)(k * 3 + (i) + (g)->domid);     \
	} while (0)
	time_t deadline = time(NULL) + 20;
	while (got[0] < n || got[1] < n) {
		if (time(NULL) > deadline)
			FAIL("the wire got %u from a and %u from b of %u each "
			     "(sent %u each)", got[0], got[1], n, sent);
		for (; sent < n && sent < got[0] + 32 && sent < got[1] + 32;
		     sent++) {
			AF_FRAME(f, &a, sent);
			CHECK_EQ(simfront_send(a.f, 0, f, AF_LEN(sent), NULL),
				 0);
			AF_FRAME(f, &b, sent);
			CHECK_EQ(simfront_send(b.f, 0, f, AF_LEN(sent), NULL),
				 0);
		}
		simfront_flush(a.f, 0);
		simfront_flush(b.f, 0);
		simfront_poll(a.f, 0);
		simfront_poll(b.f, 0);
		int len = raw_recv(fd, r, sizeof(r), 10);
		if (len < 0)
			continue;
		unsigned who = memcmp(r + 6, a.tv.mac, 6) == 0 ? 0 : 1;

		CHECK(who == 0 || memcmp(r + 6, b.tv.mac, 6) == 0);
		AF_FRAME(f, who ? &b : &a, got[who]);
		if (len != (int)AF_LEN(got[who]) ||
		    memcmp(r, f, (size_t)len) != 0)
			FAIL("frame %u from %c: %d bytes, not as sent",
			     got[who], who ? 'b' : 'a', len);
		got[who]++;
	}
#undef AF_FRAME
#undef AF_LEN
	close(fd);
	CHECK_EQ(simenv_stop_netbackd(&e), 0);
	simenv_fini(&e);
	veth_del();
	veth_gone[0] = '\0';
}

static uint64_t ctl_u64(struct simenv *e, const char *expr);

/* One legacy ethtool command with a value on ifname: an ETHTOOL_G*
 * reads it into *data, an ETHTOOL_S* sets it from *data. 0, or -1 on
 * error. */
static int
ethtool_value(const char *ifname, uint32_t cmd, uint32_t *data)
{
	struct ethtool_value ev = { .cmd = cmd, .data = *data };
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM, 0), r;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&ev;
	r = s >= 0 && ioctl(s, SIOCETHTOOL, &ifr) == 0 ? 0 : -1;
	if (s >= 0)
		close(s);
	*data = ev.data;
	return r;
}

/* An interface's GRO (set < 0), or set to `set` (0 when done); -1 on
 * error. */
static int
gro(const char *ifname, int set)
{
	uint32_t v = set < 0 ? 0 : (uint32_t)set;

	if (ethtool_value(ifname, set < 0 ? ETHTOOL_GGRO : ETHTOOL_SGRO,
			  &v) < 0)
		return -1;
	return set < 0 ? (int)v : 0;
}

/* netbackd started with a configuration file, written to conf (300
 * bytes), whose network xenbr0 has net_af_packet on ifname as uplink. */
static void
start_af_packet(struct simenv *e, const char *ifname, char *conf)
{
	const char *args[] = { "-c", conf, NULL };

	snprintf(conf, 300, "%s/netbackd.conf", e->dir);
	FILE *fp = fopen(conf, "w");
	CHECK(fp != NULL);
	fprintf(fp, "[network xenbr0]\npif = net_af_packet0,iface=%s\n",
		ifname);
	fclose(fp);
	simenv_start_netbackd(e, args);
}

/*
 * The host keeps its NIC: netbackd's net_af_packet uplink shares an
 * interface the kernel also uses. What the host sends on it, and what
 * comes for the interface's own MAC, are the host's traffic: they must
 * not reach the guests (before, a broadcast the host sent was flooded
 * to them, and so was unicast for the host, its MAC unknown to the
 * switch). Frames for the guests still arrive. The interface's GRO,
 * which hands a packet socket merged frames, stays on, its
 * gro_max_size untouched (netbackd's own ring takes them whole:
 * af_packet_merged_frames_reach_guests_whole). Its worker sleeps on the
 * packet socket.
 * Needs root (the veth pair).
 */
TEST(af_packet_uplink_leaves_the_hosts_own_frames)
{
	struct simenv e;
	struct guest a, b;
	char conf[300], wa[16], wb[16];
	static uint8_t f[2048], r[65536];
	uint8_t hostmac[6];
	const uint8_t peer[6] = { 0x02, 0, 0, 0, 0, 0x97 };
	struct ifreq ifr = { 0 };

	veth_up("nbh", wa, wb);
	CHECK_EQ(gro(wa, 1), 0);
	CHECK_EQ(gro(wa, -1), 1);
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", wa);
	CHECK(s >= 0 && ioctl(s, SIOCGIFHWADDR, &ifr) == 0);
	close(s);
	memcpy(hostmac, ifr.ifr_hwaddr.sa_data, 6);
	simenv_init(&e);
	start_af_packet(&e, wa, conf);
	CHECK(simenv_log_contains(&e, "receives on a ring of its own"));
	CHECK(simenv_log_contains(&e, "the host's own frames stay in the "
				      "kernel"));
	/* GRO stays on, as large as it was. */
	CHECK_EQ(gro(wa, -1), 1);
	char cmd[200];
	snprintf(cmd, sizeof(cmd), "ip -d link show %s | grep -q "
		 "'gro_max_size 65536 '", wa);
	CHECK_EQ(system(cmd), 0);
	guest_up(&e, &a, 1, NULL, true);
	guest_up(&e, &b, 2, NULL, true);

	struct sockaddr_ll sh, sl;
	int hfd = wire_socket(wa, &sh); /* the host's stack, sending */
	int fd = wire_socket(wb, &sl);  /* the wire */

	/* 1: a broadcast the host sends; 2: the wire to the host's MAC;
	 * 3: the wire to guest a. */
	memset(f, 0xff, 6);
	memcpy(f + 6, hostmac, 6);
	f[12] = 0x88;
	f[13] = 0xb5;
	for (unsigned i = 15; i < 200; i++)
		f[i] = (uint8_t)i;
	f[14] = 1;
	raw_send(hfd, sh.sll_ifindex, f, 200);
	memcpy(f, hostmac, 6);
	memcpy(f + 6, peer, 6);
	f[14] = 2;
	raw_send(fd, sl.sll_ifindex, f, 200);
	memcpy(f, a.tv.mac, 6);
	f[14] = 3;
	raw_send(fd, sl.sll_ifindex, f, 200);
	int n = guest_recv_ours(a.f, r, sizeof(r));
	if (n != 200 || r[14] != 3)
		FAIL("guest a's first frame: %d bytes, number %d; want the "
		     "wire's to it (3), not the host's own (1, 2)", n,
		     n > 14 ? r[14] : -1);
	/* The worker sleeps on the packet socket instead of napping: an
	 * idle second costs a handful of wake-ups (napping: 60 and more,
	 * one every 16 ms), and a frame from the wire still wakes it at
	 * once. */
	static const char *wakes = "d['workers'][0]['wakeups']";
	uint64_t w0 = ctl_u64(&e, wakes);
	sleep(1);
	uint64_t w1 = ctl_u64(&e, wakes);
	printf("# %lu wake-ups in an idle second\n",
	       (unsigned long)(w1 - w0));
	CHECK(w1 - w0 < 20);
	/* b may see the wire's frame to a (flooded: a has not spoken
	 * yet), never the host's own. */
	while ((n = guest_recv_ours(b.f, r, sizeof(r))) != -EAGAIN)
		if (n != 200 || r[14] != 3)
			FAIL("guest b got %d bytes, number %d: the host's own",
			     n, n > 14 ? r[14] : -1);
	/* Woken by the wire (the time printed, not asserted). */
	struct timespec t0, t1;
	memcpy(f, a.tv.mac, 6);
	f[14] = 4;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	raw_send(fd, sl.sll_ifindex, f, 200);
	n = guest_recv_ours(a.f, r, sizeof(r));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 +
		  (t1.tv_nsec - t0.tv_nsec) / 1000000;
	printf("# a frame from the wire to a sleeping worker: %ld ms\n", ms);
	CHECK(n == 200 && r[14] == 4);
	close(hfd);
	close(fd);
	CHECK_EQ(simenv_stop_netbackd(&e), 0);
	CHECK_EQ(gro(wa, -1), 1);
	simenv_fini(&e);
	veth_del();
	veth_gone[0] = '\0';
}

/* ------------------------------------------------- netbackctl, telemetry */

static char ctl_out[1 << 18];

/*
 * Run `netbackctl -s SOCK ARGS` (a shell command line, output in
 * ctl_out) and return its exit status.
 */
static int __attribute__((format(printf, 2, 3)))
ctl(struct simenv *e, const char *fmt, ...)
{
	char args[1024], cmd[1536];
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "%s -s %s/netbackd.sock %s 2>&1",
		 getenv("NETBACKCTL"), e->dir, args);
	FILE *p = popen(cmd, "r");
	CHECK(p != NULL);
	n = fread(ctl_out, 1, sizeof(ctl_out) - 1, p);
	ctl_out[n] = '\0';
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* `netbackctl --json ARGS` parses, and the Python expression on it
 * (the answer is `d`) holds. */
static bool
ctl_json(struct simenv *e, const char *args, const char *expr)
{
	char cmd[2048];

	/* (the expression through the environment: no shell quoting) */
	setenv("NB_EXPR", expr, 1);
	snprintf(cmd, sizeof(cmd),
		 "%s -s %s/netbackd.sock --json %s | python3 -c 'import json,"
		 "os,sys; d = json.load(sys.stdin); "
		 "sys.exit(0 if eval(os.environ[\"NB_EXPR\"]) else 1)'",
		 getenv("NETBACKCTL"), e->dir, args);
	int st = system(cmd);
	if (st != 0)
		fprintf(stderr, "json check failed: %s: %s\n", args, expr);
	return st == 0;
}

/*
 * Start `netbackctl capture WHAT -w PATH -c COUNT` and return once
 * netbackd says it has begun; the caller pclose()s (0: it ended well).
 */
static FILE *
capture_start(struct simenv *e, const char *what, const char *path,
	      unsigned count)
{
	char cmd[1024], started[96];
	FILE *cp;

	snprintf(cmd, sizeof(cmd), "%s -s %s/netbackd.sock capture %s -w %s "
		 "-c %u 2>/dev/null", getenv("NETBACKCTL"), e->dir, what, path,
		 count);
	snprintf(started, sizeof(started), "capture of %s started", what);
	cp = popen(cmd, "r");
	CHECK(cp != NULL);
	for (int i = 0; i < 500 && !simenv_log_contains(e, started); i++)
		usleep(10000);
	CHECK(simenv_log_contains(e, started));
	return cp;
}

/* Frames a -> b: how many of n arrived. */
static unsigned
a_to_b(struct guest *a, struct guest *b, unsigned n, uint8_t mark)
{
	static uint8_t f[256], r[65536];
	unsigned got = 0;

	for (unsigned i = 0; i < n; i++) {
		size_t len = vlan_frame(f, b->tv.mac, a, 0, mark);

		send_frame(a, f, len);
		int k = recv_frame(b, r);
		if (k == (int)len && r[20] == mark)
			got++;
	}
	return got;
}

static void
telemetry_query(const char *sock, const char *cmd, char *out, size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	CHECK(fd >= 0);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		FAIL("telemetry socket %s: %s", sock, strerror(errno));
	ssize_t n = recv(fd, out, len - 1, 0); /* the greeting */
	CHECK(n > 0);
	CHECK_EQ(send(fd, cmd, strlen(cmd), 0), (ssize_t)strlen(cmd));
	n = recv(fd, out, len - 1, 0);
	CHECK(n > 0);
	out[n] = '\0';
	close(fd);
}

TEST(netbackctl_every_command)
{
	struct simenv e;
	struct guest a, b;
	char prefix[64], eal[96], path[256], buf[8192], cmd[1024];

	/* Sandbox on (the default): what runs here runs under seccomp. */
	snprintf(prefix, sizeof(prefix), "nbctl%u", (unsigned)getpid());
	snprintf(eal, sizeof(eal), "--file-prefix=%s", prefix);
	const char *args[] = { "--eal", eal, NULL };
	simenv_init(&e);
	simenv_start_netbackd(&e, args);
	guest_up(&e, &a, 1, NULL, true);
	guest_up(&e, &b, 2, NULL, true);
	CHECK_EQ(a_to_b(&a, &b, 4, 1), 4u);
	/* b answers once, so the switch knows both */
	CHECK_EQ(a_to_b(&b, &a, 1, 2), 1u);

	/* Reading, as text and as JSON. */
	CHECK_EQ(ctl(&e, "status"), 0);
	CHECK(strstr(ctl_out, "vifs_connected: 2"));
	CHECK(ctl_json(&e, "status", "d['vifs_connected'] == 2 and "
				     "d['workers'][0]['grant_copy_calls'] > 0"));
	CHECK_EQ(ctl(&e, "networks"), 0);
	CHECK(strstr(ctl_out, "name: xenbr0") && strstr(ctl_out, "vif1.0"));
	CHECK(ctl_json(&e, "networks", "d['networks'][0]['name'] == 'xenbr0' "
				       "and sorted(d['networks'][0]['vifs']) "
				       "== ['vif1.0', 'vif2.0']"));
	CHECK_EQ(ctl(&e, "vifs"), 0);
	CHECK(strstr(ctl_out, "mac: 00:16:3e:00:00:01"));
	CHECK(ctl_json(&e, "vifs",
		       "[v['counters']['tx_packets'] for v in d['vifs'] if "
		       "v['name'] == 'vif1.0'] == [4] and all(v['state'] == "
		       "'connected' and v['features']['sg'] and "
		       "len(v['queues']) == 1 for v in d['vifs'])"));
	CHECK_EQ(ctl(&e, "fdb xenbr0"), 0);
	CHECK(strstr(ctl_out, "00:16:3e:00:00:01") &&
	      strstr(ctl_out, "vif1.0") && strstr(ctl_out, "2 entries"));
	CHECK(ctl_json(&e, "fdb xenbr0",
		       "sorted((x['mac'], x['port']) for x in d['entries']) == "
		       "[('00:16:3e:00:00:01', 'vif1.0'), "
		       "('00:16:3e:00:00:02', 'vif2.0')]"));
	/* Static entries: a host behind vif2.0, never learnt. */
	CHECK_EQ(ctl(&e, "fdb-add xenbr0 02:00:00:00:00:55 vif2.0"), 0);
	CHECK(ctl_json(&e, "fdb xenbr0",
		       "{'mac': '02:00:00:00:00:55', 'vlan': 0, 'port': "
		       "'vif2.0', 'static': True, 'age_ms': 0} in d['entries']"));
	{
		uint8_t sf[256], sr[65536];
		static const struct guest host55 = {
			.tv.mac = { 2, 0, 0, 0, 0, 0x55 } };
		size_t sl = vlan_frame(sf, host55.tv.mac, &a, 0, 7);

		send_frame(&a, sf, sl);
		CHECK_EQ(recv_frame(&b, sr), (int)sl);
	}
	CHECK_EQ(ctl(&e, "fdb-add xenbr0 01:00:5e:00:00:01 vif2.0"), 1);
	CHECK(strstr(ctl_out, "bad unicast MAC"));
	CHECK_EQ(ctl(&e, "fdb-add xenbr0 02:00:00:00:00:56 vif9.0"), 1);
	CHECK_EQ(ctl(&e, "fdb-add xenbr0 02:00:00:00:00:56 vif2.0 vlan=9999"), 1);
	CHECK_EQ(ctl(&e, "fdb-add nowhere 02:00:00:00:00:56 vif2.0"), 1);
	CHECK_EQ(ctl(&e, "fdb-del xenbr0 02:00:00:00:00:55"), 0);
	CHECK_EQ(ctl(&e, "fdb-del xenbr0 02:00:00:00:00:55"), 1);
	CHECK(strstr(ctl_out, "no static entry"));
	CHECK_EQ(ctl(&e, "fdb-flush xenbr0"), 0);
	CHECK(ctl_json(&e, "fdb xenbr0", "d['count'] == 0"));
	CHECK_EQ(a_to_b(&b, &a, 1, 2), 1u); /* learnt again */
	CHECK_EQ(a_to_b(&a, &b, 1, 2), 1u);
	CHECK_EQ(ctl(&e, "stats vif1.0"), 0);
	CHECK(strstr(ctl_out, "tx_packets: 6"));
	CHECK(ctl_json(&e, "stats vif1.0",
		       "d['counters']['tx_packets'] == 6 and "
		       "d['queues'][0]['counters']['tx_packets'] == 6 and "
		       "d['switch']['learned'] == 2"));
	CHECK(ctl_json(&e, "stats", "len(d['vifs']) == 2 and d['ports'] == []"));
	CHECK_EQ(ctl(&e, "ports"), 0);

	/* Networks and ports while running. */
	CHECK_EQ(ctl(&e, "net-add lan aging=60"), 0);
	CHECK_EQ(ctl(&e, "net-add lan"), 1);
	CHECK(strstr(ctl_out, "duplicate network 'lan'"));
	CHECK_EQ(ctl(&e, "net-add 'bad name'"), 1);
	CHECK_EQ(ctl(&e, "net-add x aging=0"), 1);
	CHECK_EQ(ctl(&e, "net-add x colour=red"), 2);
	CHECK_EQ(ctl(&e, "port-add lan net_null7,no-rx=1 uplink"), 0);
	CHECK_EQ(ctl(&e, "port-add lan net_null8,no-rx=1 uplink"), 1);
	CHECK(strstr(ctl_out, "second pif"));
	CHECK_EQ(ctl(&e, "port-add xenbr0 net_null7,no-rx=1"), 1);
	CHECK(strstr(ctl_out, "already a port of network 'lan'"));
	CHECK_EQ(ctl(&e, "port-add xenbr0 'net_null9,,x'"), 1);
	CHECK(strstr(ctl_out, "bad devargs"));
	CHECK_EQ(ctl(&e, "port-add nowhere net_null9"), 1);
	CHECK(strstr(ctl_out, "no network 'nowhere'"));
	/* A port on xenbr0 gets what is flooded there. */
	CHECK_EQ(ctl(&e, "port-add xenbr0 net_null9,no-rx=1"), 0);
	CHECK(ctl_json(&e, "ports", "sorted((p['name'], p['network'], "
				    "p['role']) for p in d['ports']) == "
				    "[('net_null7', 'lan', 'uplink'), "
				    "('net_null9', 'xenbr0', 'port')]"));
	uint8_t f[256];
	size_t len = vlan_frame(f, bcast, &a, 0, 3);
	send_frame(&a, f, len);
	CHECK(recv_frame(&b, (uint8_t[65536]){ 0 }) == (int)len);
	CHECK(ctl_json(&e, "stats net_null9",
		       "d['counters']['tx_packets'] == 1 and "
		       "'tx_good_packets' in d['dpdk_xstats']"));
	CHECK_EQ(ctl(&e, "port-del net_null9"), 0);
	CHECK_EQ(ctl(&e, "port-del net_null9"), 1);
	CHECK(strstr(ctl_out, "no DPDK port 'net_null9'"));
	/* unplugged: the same device may come back */
	CHECK_EQ(ctl(&e, "port-add xenbr0 net_null9,no-rx=1"), 0);
	CHECK_EQ(ctl(&e, "port-del net_null9"), 0);
	CHECK_EQ(ctl(&e, "net-del xenbr0"), 1);
	CHECK(strstr(ctl_out, "still serves") && strstr(ctl_out, "vif1.0"));
	CHECK_EQ(ctl(&e, "net-del lan"), 0);
	CHECK(ctl_json(&e, "networks", "[n['name'] for n in d['networks']] == "
				       "['xenbr0']"));
	CHECK(ctl_json(&e, "ports", "d['ports'] == []"));
	CHECK_EQ(a_to_b(&a, &b, 2, 4), 2u); /* nothing disturbed */

	/* A vif's VLAN, rate and anti-spoofing. */
	CHECK_EQ(ctl(&e, "vif-set vif1.0 vlan=10"), 0);
	char *k = simenv_read(&e, "/local/domain/0/backend/vif/1/0/bridge");
	CHECK(k && strcmp(k, "xenbr0.10") == 0);
	free(k);
	CHECK_EQ(a_to_b(&a, &b, 2, 5), 0u);
	CHECK_EQ(ctl(&e, "vif-set vif2.0 bridge=xenbr0.10"), 0);
	CHECK_EQ(a_to_b(&a, &b, 2, 6), 2u);
	CHECK_EQ(ctl(&e, "vif-set vif1.0 vlan=none"), 0);
	CHECK_EQ(ctl(&e, "vif-set vif2.0 vlan=none"), 0);
	CHECK_EQ(a_to_b(&a, &b, 2, 7), 2u);
	CHECK_EQ(ctl(&e, "vif-set vif1.0 bridge=nowhere"), 1);
	CHECK(strstr(ctl_out, "no network 'nowhere'"));
	CHECK_EQ(ctl(&e, "vif-set vif1.0 vlan=5000"), 1);
	CHECK_EQ(ctl(&e, "vif-set vif1.0 rate=1250000,50000"), 0);
	k = simenv_read(&e, "/local/domain/0/backend/vif/1/0/rate");
	CHECK(k && strcmp(k, "1250000,50000") == 0);
	free(k);
	CHECK(ctl_json(&e, "vifs", "[v['rate'] for v in d['vifs'] if "
				   "v['name'] == 'vif1.0'] == [{'bytes': "
				   "1250000, 'usec': 50000}]"));
	CHECK_EQ(ctl(&e, "vif-set vif1.0 rate=off"), 0);
	CHECK(ctl_json(&e, "vifs", "[v['rate'] for v in d['vifs'] if "
				   "v['name'] == 'vif1.0'] == ['off']"));
	CHECK_EQ(ctl(&e, "vif-set vif1.0 rate=-1,100"), 1);
	CHECK(strstr(ctl_out, "bad rate"));
	/* a frame from another MAC: dropped, unless anti-spoofing is off */
	static const struct guest spoof = { .tv.mac = { 0, 0x16, 0x3e, 0, 9, 9 } };
	len = vlan_frame(f, b.tv.mac, &spoof, 0, 8);
	send_frame(&a, f, len);
	CHECK_EQ(recv_frame(&b, (uint8_t[65536]){ 0 }), -ETIMEDOUT);
	CHECK_EQ(ctl(&e, "vif-set vif1.0 antispoof=off"), 0);
	send_frame(&a, f, len);
	CHECK_EQ(recv_frame(&b, (uint8_t[65536]){ 0 }), (int)len);
	CHECK(ctl_json(&e, "vifs", "[v['antispoof'] for v in d['vifs'] if "
				   "v['name'] == 'vif1.0'] == [False]"));
	CHECK_EQ(ctl(&e, "vif-set vif1.0 antispoof=on"), 0);
	send_frame(&a, f, len);
	CHECK_EQ(recv_frame(&b, (uint8_t[65536]){ 0 }), -ETIMEDOUT);
	CHECK_EQ(ctl(&e, "vif-set vif1.0 antispoof=maybe"), 1);
	CHECK_EQ(ctl(&e, "vif-set vif1.0 colour=red"), 2);
	CHECK_EQ(ctl(&e, "vif-set vif9.0 rate=off"), 1);
	CHECK(strstr(ctl_out, "no vif 'vif9.0'"));

	/* Bad requests, and no daemon. */
	CHECK_EQ(ctl(&e, "frobnicate"), 2);
	CHECK(strstr(ctl_out, "unknown command 'frobnicate'"));
	CHECK_EQ(ctl(&e, "fdb"), 2);
	CHECK_EQ(ctl(&e, "fdb nowhere"), 1);
	CHECK_EQ(ctl(&e, "stats nothing"), 1);
	CHECK_EQ(ctl(&e, "capture vif1.0"), 2);
	CHECK_EQ(ctl(&e, "capture nothing -w /dev/null"), 1);
	snprintf(cmd, sizeof(cmd), "%s -s %s/none.sock status 2>/dev/null",
		 getenv("NETBACKCTL"), e.dir);
	int st = system(cmd);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 3);

	/* Capture: 20 of 50 frames b receives, read back by libpcap and
	 * by tshark. */
	snprintf(path, sizeof(path), "%s/cap.pcapng", e.dir);
	FILE *cp = capture_start(&e, "vif2.0", path, 20);
	CHECK_EQ(a_to_b(&a, &b, 50, 9), 50u);
	st = pclose(cp);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *pc = pcap_open_offline(path, err);
	if (!pc)
		FAIL("libpcap cannot read %s: %s", path, err);
	CHECK_EQ(pcap_datalink(pc), DLT_EN10MB);
	struct pcap_pkthdr *h;
	const u_char *pkt;
	unsigned npk = 0;
	while (pcap_next_ex(pc, &h, &pkt) == 1) {
		CHECK_EQ(h->caplen, 74u);
		CHECK(memcmp(pkt, b.tv.mac, 6) == 0);
		CHECK(memcmp(pkt + 6, a.tv.mac, 6) == 0 && pkt[20] == 9);
		npk++;
	}
	pcap_close(pc);
	CHECK_EQ(npk, 20u);
	snprintf(cmd, sizeof(cmd),
		 "tshark -r %s -T fields -e frame.interface_name "
		 "-e frame.packet_flags_direction 2>/dev/null | sort | uniq -c",
		 path);
	FILE *ts = popen(cmd, "r");
	CHECK(ts != NULL);
	size_t tn = fread(buf, 1, sizeof(buf) - 1, ts);
	buf[tn] = '\0';
	pclose(ts);
	/* all 20 on vif2.0, outbound (sent to the guest) */
	if (!strstr(buf, "20 vif2.0\t0x00000002"))
		FAIL("tshark read: '%s'", buf);

	/* DPDK telemetry: the same counters. */
	snprintf(path, sizeof(path), "/var/run/dpdk/%s/dpdk_telemetry.v2",
		 prefix);
	telemetry_query(path, "/netbackd/vifs", buf, sizeof(buf));
	CHECK(strstr(buf, "\"vif1.0\"") && strstr(buf, "\"vif2.0\""));
	telemetry_query(path, "/netbackd/vif,vif1.0", buf, sizeof(buf));
	CHECK(strstr(buf, "\"tx_packets\":"));
	CHECK(strstr(buf, "\"state\":\"connected\""));
	telemetry_query(path, "/netbackd/network,xenbr0", buf, sizeof(buf));
	CHECK(strstr(buf, "\"learned\":"));
	/* and through DPDK's own client */
	snprintf(cmd, sizeof(cmd), "echo /netbackd/vif,vif2.0 | "
		 "dpdk-telemetry.py -f %s 2>&1", prefix);
	FILE *tp = popen(cmd, "r");
	CHECK(tp != NULL);
	tn = fread(buf, 1, sizeof(buf) - 1, tp);
	buf[tn] = '\0';
	CHECK_EQ(pclose(tp), 0);
	if (!strstr(buf, "\"rx_packets\": ") || !strstr(buf, "\"/netbackd/vif\""))
		FAIL("dpdk-telemetry.py said: %s", buf);
	CHECK_EQ(simenv_stop_netbackd(&e), 0);
	simenv_fini(&e);
}

/* Run vif-netbackd ACTION type_if=tap for INTERFACE dev of vif1.0. */
static int
emu_script(struct simenv *e, const char *action, const char *dev)
{
	char sock[200], path[1024], cmd[256];
	const char *ctl = getenv("NETBACKCTL");
	int st;

	snprintf(sock, sizeof(sock), "%s/netbackd.sock", e->dir);
	snprintf(path, sizeof(path), "%.*s:%s", (int)(strrchr(ctl, '/') - ctl),
		 ctl, getenv("PATH"));
	snprintf(cmd, sizeof(cmd), "%s type_if=tap", action);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		setenv("XENBUS_PATH", "/local/domain/0/backend/vif/1/0", 1);
		setenv("INTERFACE", dev, 1);
		setenv("NETBACKD_SOCKET", sock, 1);
		setenv("PATH", path, 1);
		execl("/bin/sh", "sh", getenv("VIF_NETBACKD"), action,
		      "type_if=tap", (char *)NULL);
		_exit(127);
	}
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

TEST(hvm_emu_tap_joins_and_leaves)
{
	struct simenv e;
	struct guest a;
	char peer[16], cmd[512];
	static uint8_t f[256], r[65536];
	const uint8_t host[6] = { 0x02, 0, 0, 0, 0, 0x77 };

	if (geteuid() != 0)
		FAIL("needs root for the veth pair (CI runs as root)");
	/* The device model's tap, played by one end of a veth pair. */
	snprintf(peer, sizeof(peer), "nbe%up", (unsigned)getpid() % 100000);
	snprintf(veth_gone, sizeof(veth_gone), "ip link del %s 2>/dev/null",
		 peer);
	atexit(veth_del);
	snprintf(cmd, sizeof(cmd),
		 "ip link add vif1.0-emu type veth peer name %s && "
		 "sysctl -qw net.ipv6.conf.vif1/0-emu.disable_ipv6=1 "
		 "net.ipv6.conf.%s.disable_ipv6=1 && ip link set %s up",
		 peer, peer, peer);
	CHECK_EQ(system(cmd), 0);
	simenv_init(&e);
	simenv_start_netbackd(&e, NULL); /* sandbox on */
	guest_up(&e, &a, 1, NULL, true);
	int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	CHECK(fd >= 0);
	int ifi = (int)if_nametoindex(peer);
	struct sockaddr_ll sl = { .sll_family = AF_PACKET,
				  .sll_protocol = htons(ETH_P_ALL),
				  .sll_ifindex = ifi };
	CHECK(ifi > 0);
	CHECK_EQ(bind(fd, (struct sockaddr *)&sl, sizeof(sl)), 0);

	/* libxl's call for the tap: it joins the vif's network. */
	CHECK_EQ(emu_script(&e, "add", "vif1.0-emu"), 0);
	CHECK(ctl_json(&e, "ports", "[(p['name'], p['network'], p['vlans']) "
				    "for p in d['ports']] == "
				    "[('net_af_packet_vif1.0-emu', 'xenbr0', "
				    "'all')]"));
	/* The guest's broadcast reaches the emulated NIC's wire... */
	size_t len = vlan_frame(f, bcast, &a, 0, 1);
	send_frame(&a, f, len);
	CHECK_EQ(raw_recv(fd, r, sizeof(r), 3000), (int)len);
	CHECK(memcmp(r, f, len) == 0);
	/* ...and what the emulated NIC sends reaches the guest. */
	memcpy(f, a.tv.mac, 6);
	memcpy(f + 6, host, 6);
	raw_send(fd, ifi, f, len);
	CHECK_EQ(guest_recv_ours(a.f, r, sizeof(r)), (int)len);
	CHECK(memcmp(r + 6, host, 6) == 0);
	/* Gone with the device model. */
	CHECK_EQ(emu_script(&e, "remove", "vif1.0-emu"), 0);
	CHECK(ctl_json(&e, "ports", "d['ports'] == []"));
	CHECK_EQ(emu_script(&e, "remove", "vif1.0-emu"), 0); /* again: fine */

	/* On the vif's VLAN: bridge=xenbr0.10 makes it an access port. */
	CHECK_EQ(ctl(&e, "vif-set vif1.0 vlan=10"), 0);
	CHECK_EQ(emu_script(&e, "add", "vif1.0-emu"), 0);
	CHECK(ctl_json(&e, "ports", "[p['vlans'] for p in d['ports']] == "
				    "['.10']"));
	len = vlan_frame(f, bcast, &a, 0, 2);
	send_frame(&a, f, len);
	CHECK_EQ(raw_recv(fd, r, sizeof(r), 3000), (int)len); /* untagged */
	CHECK_EQ(r[20], 2);
	CHECK_EQ(emu_script(&e, "remove", "vif1.0-emu"), 0);
	/* A name that is no interface name is refused. */
	CHECK_EQ(emu_script(&e, "add", "vif1.0;reboot"), 1);
	CHECK_EQ(ctl(&e, "port-add xenbr0 net_null3,no-rx=1 vlan=5000"), 1);
	CHECK(strstr(ctl_out, "bad vlan"));
	CHECK_EQ(ctl(&e, "port-add xenbr0 net_null3,no-rx=1 uplink vlan=5"), 1);
	close(fd);
	simenv_fini(&e);
	veth_del();
	veth_gone[0] = '\0';
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	CHECK(f != NULL);
	CHECK_EQ(fputs(text, f) >= 0, 1);
	CHECK_EQ(fclose(f), 0);
}

/* A fresh test bed and netbackd -c DIR/netbackd.conf holding text. */
static void
start_with_conf(struct simenv *e, char *conf, size_t len, const char *text)
{
	simenv_init(e);
	snprintf(conf, len, "%s/netbackd.conf", e->dir);
	write_file(conf, text);
	const char *args[] = { "-c", conf, NULL };
	simenv_start_netbackd(e, args);
}

TEST(reload_applies_the_file)
{
	struct simenv e;
	struct guest a;
	char conf[256];

	start_with_conf(&e, conf, sizeof(conf),
			"[network xenbr0]\n"
			"[network lan]\nport = net_null4,no-rx=1\n");
	guest_up(&e, &a, 1, NULL, true);
	CHECK_EQ(ctl(&e, "reload"), 0);
	CHECK(strstr(ctl_out, "nothing to change"));

	write_file(conf, "[netbackd]\nworkers = 2\n"
			 "[network xenbr0]\nport = net_null6,no-rx=1\n"
			 "[network dmz]\npif = net_null5,no-rx=1\naging = 60\n");
	CHECK_EQ(ctl(&e, "reload"), 0);
	CHECK(strstr(ctl_out, "port net_null4 removed") &&
	      strstr(ctl_out, "network lan removed") &&
	      strstr(ctl_out, "network dmz added") &&
	      strstr(ctl_out, "uplink net_null5 added to dmz") &&
	      strstr(ctl_out, "port net_null6 added to xenbr0") &&
	      strstr(ctl_out, "wait for a restart"));
	CHECK(ctl_json(&e, "networks",
		       "[(n['name'], n['aging_s'], n['uplink'], n['ports']) for "
		       "n in d['networks']] == [('xenbr0', 300, '', "
		       "['net_null6']), ('dmz', 60, 'net_null5', "
		       "['net_null5'])]"));

	/* xenbr0 gone while vif1.0 is on it: refused, nothing changed. */
	write_file(conf, "[network dmz]\npif = net_null5,no-rx=1\n");
	CHECK_EQ(ctl(&e, "reload"), 1);
	CHECK(strstr(ctl_out, "network 'xenbr0' is gone") &&
	      strstr(ctl_out, "still serves vif1.0"));
	/* A file with an error: refused, naming the line. */
	write_file(conf, "[network dmz]\npif = net_null5,no-rx=1\nmtu = 7\n");
	CHECK_EQ(ctl(&e, "reload"), 1);
	CHECK(strstr(ctl_out, "netbackd.conf:3: mtu must be"));
	CHECK(ctl_json(&e, "ports", "sorted(p['name'] for p in d['ports']) == "
				    "['net_null5', 'net_null6']"));
	/* Another file, named. */
	char other[300];
	snprintf(other, sizeof(other), "%s/other.conf", e.dir);
	write_file(other, "[network xenbr0]\n");
	CHECK_EQ(ctl(&e, "reload %s", other), 0);
	CHECK(ctl_json(&e, "ports", "d['ports'] == []"));
	CHECK_EQ(ctl(&e, "reload %s/none.conf", e.dir), 2);
	CHECK_EQ(simenv_stop_netbackd(&e), 0);
	simenv_fini(&e);
}

/*
 * A reload report longer than netbackctl's answer holds (mgmt.c's 1024
 * bytes): every character that fits is kept, in order, and the cut is
 * marked at the end.
 */
TEST(reload_report_cut_keeps_what_fits)
{
	static char text[8192], want[8192];
	static const char mark[] = " [...]";
	struct simenv e;
	char conf[256];
	size_t tl = 0, wl = 0;

	start_with_conf(&e, conf, sizeof(conf), "[network xenbr0]\n");
	tl += (size_t)snprintf(text, sizeof(text), "[network xenbr0]\n");
	for (unsigned i = 0; i < 48; i++) {
		tl += (size_t)snprintf(text + tl, sizeof(text) - tl,
				       "[network a-long-network-name-%02u]\n", i);
		wl += (size_t)snprintf(want + wl, sizeof(want) - wl,
				       "network a-long-network-name-%02u added; ",
				       i);
	}
	CHECK(wl > 1024);
	write_file(conf, text);
	CHECK_EQ(ctl(&e, "reload"), 0);
	size_t n = strlen(ctl_out);
	if (n && ctl_out[n - 1] == '\n')
		ctl_out[--n] = '\0';
	fprintf(stderr, "report (%zu bytes): %s\n", n, ctl_out);
	CHECK(n > strlen(mark) &&
	      strcmp(ctl_out + n - strlen(mark), mark) == 0);
	n -= strlen(mark);
	/* What precedes the mark is the report's start, byte for byte,
	 * and fills the buffer: nothing that fit was given up. */
	CHECK_EQ(strncmp(ctl_out, want, n), 0);
	CHECK_EQ(n + strlen(mark), 1023);
	CHECK_EQ(simenv_stop_netbackd(&e), 0);
	simenv_fini(&e);
}

/*
 * The user's lcores through --eal, in each spelling EAL takes: netbackd
 * adds none of its own (EAL refuses a second), and the workers are the
 * lcores given but the main one.
 */
TEST(eal_lcores_given_in_any_spelling)
{
	/* --lcores: three lcores on one CPU; -l: two CPUs, one lcore each */
	const char *forms[] = { "--lcores=(0-2)@%d", "--lcores (0-2)@%d",
				"-l%d,%d", "-l %d,%d" };
	cpu_set_t set;
	int c[2], k = 0;

	CHECK_EQ(sched_getaffinity(0, sizeof(set), &set), 0);
	for (int j = 0; j < CPU_SETSIZE && k < 2; j++)
		if (CPU_ISSET(j, &set))
			c[k++] = j;
	for (unsigned i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		bool l = forms[i][1] == 'l';
		struct simenv e;
		char eal[64];

		if (l && k < 2)
			continue; /* one CPU: -l cannot give a worker */
		snprintf(eal, sizeof(eal), forms[i], c[0], c[1]);
		const char *args[] = { "--eal", eal, NULL };

		fprintf(stderr, "--eal '%s'\n", eal);
		simenv_init(&e);
		simenv_start_netbackd(&e, args);
		CHECK(simenv_log_contains(&e, l ? "1 worker(s)"
						: "2 worker(s)"));
		CHECK_EQ(simenv_stop_netbackd(&e), 0);
		simenv_fini(&e);
	}
}

/* `user` names someone who does not exist: --check-config says so (and
 * a start refuses before opening anything), where it used to pass and
 * the start to fail only once every port was open. */
TEST(check_config_refuses_unknown_user)
{
	char dir[] = "/tmp/nbuser-XXXXXX", conf[64], cmd[512], out[1024];
	const char *nbd = getenv("NETBACKD");
	FILE *p;
	size_t n;
	int st;

	CHECK(nbd != NULL && mkdtemp(dir) != NULL);
	snprintf(conf, sizeof(conf), "%s/netbackd.conf", dir);
	write_file(conf, "[netbackd]\nuser = nb-no-such-user\n"
			 "[network xenbr0]\n");
	snprintf(cmd, sizeof(cmd), "%s --check-config -c %s 2>&1", nbd, conf);
	p = popen(cmd, "r");
	CHECK(p != NULL);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	st = pclose(p);
	fprintf(stderr, "%s", out);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 2);
	CHECK(strstr(out, "user 'nb-no-such-user' does not exist") != NULL);
	/* One that does: fine. */
	write_file(conf, "[netbackd]\nuser = nobody\n[network xenbr0]\n");
	p = popen(cmd, "r");
	CHECK(p != NULL);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	st = pclose(p);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(strstr(out, "configuration ok") != NULL);
	unlink(conf);
	rmdir(dir);
}

/*
 * A port that cannot be opened at start: netbackd says so and exits 1,
 * having stopped and closed the ports it had opened. A memif server
 * shows it: its socket file goes when the port is closed, and EAL's
 * cleanup cannot close a port left started.
 */
TEST(port_failing_at_start_releases_the_others)
{
	const char *nbd = getenv("NETBACKD");
	char memif[300], sock[200];
	struct simenv e;
	pid_t pid;
	int st = -1;

	CHECK(nbd != NULL);
	simenv_init(&e);
	snprintf(sock, sizeof(sock), "%s/memif.sock", e.dir);
	snprintf(memif, sizeof(memif), "xenbr0=net_memif0,role=server,"
		 "socket=%s,socket-abstract=no", sock);
	pid = fork();
	if (pid == 0) {
		/* standard error, not --log-file: EAL's cleanup writes there */
		int fd = open(e.log, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd < 0 || dup2(fd, 2) < 0)
			_exit(126);
		execl(nbd, nbd, "--sim", e.dir, "--domid", "0",
		      "--control-socket", "off", "-n", memif, "-n",
		      "lan=net_bogus0", (char *)NULL);
		_exit(127);
	}
	CHECK(pid > 0);
	for (int i = 0; i < 3000; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			break;
		st = -1;
		usleep(10000);
	}
	if (st == -1) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	simenv_dump_log(&e);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 1);
	CHECK(simenv_log_contains(&e, "uplink net_memif0"));
	CHECK(simenv_log_contains(&e, "cannot probe 'net_bogus0'"));
	CHECK(!simenv_log_contains(&e, "Cannot close started device"));
	CHECK(access(sock, F_OK) < 0 && errno == ENOENT);
	CHECK(simenv_log_contains(&e, "cannot set up the networks"));
	simenv_fini(&e);
}

/* A network is internal when only guests are on it: one with a host
 * port but no uplink reaches beyond them and is not called so. */
TEST(network_with_ports_but_no_uplink_not_called_internal)
{
	struct simenv e;
	char conf[300];

	simenv_init(&e);
	snprintf(conf, sizeof(conf), "%s/netbackd.conf", e.dir);
	write_file(conf, "[network lan]\nport = net_null4,no-rx=1\n"
			 "[network inner]\n");
	const char *args[] = { "-c", conf, NULL };
	simenv_start_netbackd(&e, args);
	CHECK(simenv_log_contains(&e, "network lan: no uplink, 1 port"));
	CHECK(!simenv_log_contains(&e, "network lan: internal"));
	CHECK(simenv_log_contains(&e, "network inner: internal"));
	simenv_fini(&e);
}

/* Does `ip -o addr show dev ifname` list addr? */
static bool
has_addr(const char *ifname, const char *addr)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "ip -o addr show dev %s 2>/dev/null | "
		 "grep -q ' %s/'", ifname, addr);
	return system(cmd) == 0;
}

/*
 * The host port's address across a restart of netbackd. A plain net_tap
 * goes with the process, and the address with it: only udev/ifupdown
 * (allow-hotplug) or systemd-networkd put it back on the new tap. With
 * net_tap's persist flag the tap stays, address, MAC and all, and the
 * next netbackd takes it up again. Needs root (taps).
 */
TEST(tap_host_port_persist_keeps_address_across_restart)
{
	struct simenv e;
	char conf[300], cmd[256], tap[16];
	const char *args[] = { "-c", conf, NULL };

	if (geteuid() != 0)
		FAIL("needs root for the tap (CI runs as root)");
	snprintf(tap, sizeof(tap), "nbp%u", (unsigned)getpid() % 100000);
	snprintf(veth_gone, sizeof(veth_gone), "ip link del %s 2>/dev/null",
		 tap);
	atexit(veth_del);
	simenv_init(&e);
	snprintf(conf, sizeof(conf), "%s/netbackd.conf", e.dir);

	/* Without persist: the address goes with the tap. */
	snprintf(cmd, sizeof(cmd), "[network xenbr0]\nport = net_tap0,iface=%s,"
		 "mac=02:00:c0:00:02:0a\n", tap);
	write_file(conf, cmd);
	simenv_start_netbackd(&e, args);
	snprintf(cmd, sizeof(cmd), "ip addr add 198.51.100.10/24 dev %s", tap);
	CHECK_EQ(system(cmd), 0);
	CHECK(has_addr(tap, "198.51.100.10"));
	CHECK_EQ(simenv_stop_netbackd(&e), 0);
	CHECK(if_nametoindex(tap) == 0);

	/* With it: the tap stays, and so do its address and MAC. */
	snprintf(cmd, sizeof(cmd), "[network xenbr0]\nport = net_tap0,iface=%s,"
		 "mac=02:00:c0:00:02:0a,persist\n", tap);
	write_file(conf, cmd);
	simenv_start_netbackd(&e, args);
	snprintf(cmd, sizeof(cmd), "ip addr add 198.51.100.10/24 dev %s", tap);
	CHECK_EQ(system(cmd), 0);
	CHECK_EQ(simenv_stop_netbackd(&e), 0);
	CHECK(if_nametoindex(tap) != 0);
	CHECK(has_addr(tap, "198.51.100.10"));
	simenv_start_netbackd(&e, args);
	for (int t = 0; t < 300 && !simenv_log_contains(
				       &e, "port net_tap0: link up");
	     t++)
		usleep(10000);
	CHECK(simenv_log_contains(&e, "port net_tap0: link up"));
	CHECK(has_addr(tap, "198.51.100.10"));
	snprintf(cmd, sizeof(cmd), "grep -qx 02:00:c0:00:02:0a "
		 "/sys/class/net/%s/address", tap);
	CHECK_EQ(system(cmd), 0);
	CHECK_EQ(simenv_stop_netbackd(&e), 0);
	simenv_fini(&e);
	veth_del();
	veth_gone[0] = '\0';
}

TEST(mac_entries_age_out)
{
	struct simenv e;
	struct guest a, b;
	char conf[256];

	start_with_conf(&e, conf, sizeof(conf), "[network xenbr0]\naging = 1\n");
	guest_up(&e, &a, 1, NULL, true);
	guest_up(&e, &b, 2, NULL, true);
	CHECK_EQ(a_to_b(&a, &b, 1, 1), 1u);
	CHECK_EQ(a_to_b(&b, &a, 1, 2), 1u);
	CHECK_EQ(ctl(&e, "fdb-add xenbr0 02:00:00:00:00:55 vif2.0"), 0);
	CHECK(ctl_json(&e, "fdb xenbr0", "d['count'] == 3"));
	/* Silent for longer than aging (1 s, to a grain of 1.024 s) and
	 * the control thread's once-a-second pass: only the static one
	 * stays. */
	bool aged = false;
	for (int i = 0; i < 50 && !aged; i++) {
		usleep(100000);
		aged = ctl(&e, "--json fdb xenbr0") == 0 &&
		       strstr(ctl_out, "\"count\": 1}");
	}
	if (!aged)
		FAIL("entries did not age out: %s", ctl_out);
	CHECK(ctl_json(&e, "fdb xenbr0", "[x['mac'] for x in d['entries']] == "
					 "['02:00:00:00:00:55']"));
	/* Traffic teaches them again. */
	CHECK_EQ(a_to_b(&a, &b, 1, 3), 1u);
	CHECK(ctl_json(&e, "fdb xenbr0", "d['count'] == 2"));
	simenv_fini(&e);
}

TEST(learn_limits_per_vif_and_network)
{
	struct simenv e;
	struct guest a, b;
	char conf[256];
	uint8_t f[256], r[65536];

	start_with_conf(&e, conf, sizeof(conf),
			"[network xenbr0]\nvif-learn-limit = 2\n"
			"learn-limit = 3\n");
	guest_up(&e, &a, 1, NULL, true);
	guest_up(&e, &b, 2, NULL, true);
	/* a routes for hosts behind it: anti-spoofing off, 4 sources. */
	CHECK_EQ(ctl(&e, "vif-set vif1.0 antispoof=off"), 0);
	for (unsigned i = 0; i < 4; i++) {
		struct guest h = { .tv.mac = { 2, 0, 0, 0, 1, (uint8_t)i } };
		size_t len = vlan_frame(f, b.tv.mac, &h, 0, (uint8_t)i);

		send_frame(&a, f, len);
		CHECK_EQ(recv_frame(&b, r), (int)len); /* forwarded all */
	}
	/* two learnt from vif1.0, two refused (counted) */
	CHECK(ctl_json(&e, "stats vif1.0",
		       "d['switch']['learned'] == 2 and "
		       "d['switch']['learn_limit_port'] == 2"));
	/* b's own MAC is the third of the network's three; a fourth
	 * source, from b's side, finds the network full. */
	CHECK_EQ(a_to_b(&b, &a, 1, 9), 1u);
	CHECK_EQ(ctl(&e, "vif-set vif2.0 antispoof=off"), 0);
	struct guest h2 = { .tv.mac = { 2, 0, 0, 0, 2, 1 } };
	size_t len = vlan_frame(f, bcast, &h2, 0, 10);
	send_frame(&b, f, len);
	CHECK_EQ(recv_frame(&a, r), (int)len);
	CHECK(ctl_json(&e, "networks",
		       "d['networks'][0]['mac_entries'] == 3 and "
		       "d['networks'][0]['learn_limit'] == 3 and "
		       "d['networks'][0]['vif_learn_limit'] == 2"));
	CHECK(ctl_json(&e, "stats vif2.0",
		       "d['switch']['learn_limit_net'] == 1"));
	simenv_fini(&e);
}

TEST(capture_keeps_gso_packets_whole)
{
	struct simenv e;
	struct guest a, b;
	static uint8_t f[65536], r[65536];
	struct simfront_txopt opt = { .flags = NETTXF_csum_blank,
				      .gso_size = 1448,
				      .gso_type = XEN_NETIF_GSO_TYPE_TCPV4 };
	struct simfront_rxinfo info;
	size_t sizes[2] = { 60, 60 };
	char path[256], err[PCAP_ERRBUF_SIZE];

	start(&e);
	guest_up(&e, &a, 1, NULL, true);
	guest_up(&e, &b, 2, NULL, true);
	exchange(&b, &a, sizes, 2);
	drain(&b);
	/* What b is given, one packet: a 20,000-byte GSO packet, which
	 * travels as a chain of mbufs and is copied so for the capture. */
	snprintf(path, sizeof(path), "%s/gso.pcapng", e.dir);
	FILE *cp = capture_start(&e, "vif2.0", path, 1);
	size_t len = tcp_partial(f, &a, &b, 20000);
	CHECK_EQ(simfront_send(a.f, 0, f, len, &opt), 0);
	simfront_flush(a.f, 0);
	CHECK_EQ(recv_one(&b, r, &info), (int)len);
	int st = pclose(cp);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	pcap_t *pc = pcap_open_offline(path, err);
	if (!pc)
		FAIL("libpcap cannot read %s: %s", path, err);
	struct pcap_pkthdr *h;
	const u_char *pkt;
	CHECK_EQ(pcap_next_ex(pc, &h, &pkt), 1);
	CHECK_EQ(h->caplen, (unsigned)len);
	CHECK_EQ(h->len, (unsigned)len);
	CHECK(memcmp(pkt, f, len) == 0);
	pcap_close(pc);
	simenv_fini(&e);
}

/*
 * Each captured frame's header (time, original length, direction) is
 * its own: a worker fills it before the copy reaches the control
 * thread. Frames of distinct lengths alternate in and out of vif2.0,
 * one at a time, so a header left over from a buffer's earlier use
 * would show as a wrong length, direction or a time going backwards.
 */
TEST(capture_headers_match_each_frame)
{
	enum { N = 64 };
	struct simenv e;
	struct guest a, b;
	static uint8_t f[4096], r[65536];
	struct simfront_rxinfo info;
	size_t sizes[2] = { 60, 60 };
	char path[256], cmd[1024], err[PCAP_ERRBUF_SIZE], line[256];

	start(&e);
	guest_up(&e, &a, 1, NULL, true);
	guest_up(&e, &b, 2, NULL, true);
	exchange(&b, &a, sizes, 2);
	exchange(&a, &b, sizes, 2);
	drain(&a);
	drain(&b);
	snprintf(path, sizeof(path), "%s/hdr.pcapng", e.dir);
	snprintf(cmd, sizeof(cmd), "%s -s %s/netbackd.sock capture vif2.0 "
		 "-w %s -c %u -t 30 2>/dev/null", getenv("NETBACKCTL"), e.dir,
		 path, N);
	FILE *cp = popen(cmd, "r");
	CHECK(cp != NULL);
	for (int i = 0; i < 500 && !simenv_log_contains(
				       &e, "capture of vif2.0 started");
	     i++)
		usleep(10000);
	CHECK(simenv_log_contains(&e, "capture of vif2.0 started"));
	for (unsigned i = 0; i < N; i++) {
		struct guest *from = i & 1 ? &b : &a, *to = i & 1 ? &a : &b;
		size_t len = 60 + 23 * i;

		make_frame(f, len, from, to, i);
		CHECK_EQ(simfront_send(from->f, 0, f, len, NULL), 0);
		simfront_flush(from->f, 0);
		CHECK_EQ(recv_one(to, r, &info), (int)len);
	}
	int st = pclose(cp);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	pcap_t *pc = pcap_open_offline(path, err);
	if (!pc)
		FAIL("libpcap cannot read %s: %s", path, err);
	struct pcap_pkthdr *h;
	const u_char *pkt;
	struct timeval last = { 0, 0 };
	unsigned n = 0;
	while (pcap_next_ex(pc, &h, &pkt) == 1) {
		size_t len = 60 + 23 * n;

		if (h->len != len || h->caplen != len)
			FAIL("packet %u: %u of %u bytes, want %zu", n,
			     h->caplen, h->len, len);
		make_frame(f, len, n & 1 ? &b : &a, n & 1 ? &a : &b, n);
		CHECK(memcmp(pkt, f, len) == 0);
		CHECK(timercmp(&h->ts, &last, >=));
		last = h->ts;
		n++;
	}
	pcap_close(pc);
	CHECK_EQ(n, (unsigned)N);
	/* Directions: to the guest (a's) outbound, from it inbound. */
	snprintf(cmd, sizeof(cmd), "tshark -r %s -T fields -e eth.src "
		 "-e frame.packet_flags_direction 2>/dev/null", path);
	FILE *ts = popen(cmd, "r");
	CHECK(ts != NULL);
	n = 0;
	while (fgets(line, sizeof(line), ts)) {
		const char *want = n & 1 ? "00:16:3e:00:00:02\t0x00000001"
					 : "00:16:3e:00:00:01\t0x00000002";

		if (strncmp(line, want, strlen(want)) != 0)
			FAIL("packet %u: tshark says '%s', want '%s'", n, line,
			     want);
		n++;
	}
	pclose(ts);
	CHECK_EQ(n, (unsigned)N);
	simenv_fini(&e);
}

/*
 * A guest picks its GSO packets' MSS (1..65535), and an uplink must not
 * be handed one it cannot cut well: a tiny MSS (which real NICs get
 * wrong, and which software segmentation turns into a flood of tiny
 * frames) or segments above the uplink's MTU are dropped and counted;
 * a sane MSS is segmented, and one longer than the packet sends it as a
 * plain frame. net_null has no TSO: rte_gso does the cutting.
 */
TEST(gso_tiny_mss_to_uplink_dropped_and_counted)
{
	static const struct {
		uint16_t mss;
		size_t plen;
	} c[] = {
		{ 8, 800 },      /* tiny: 100 frames of 62 bytes */
		{ 1448, 4000 },  /* fine: 3 frames */
		{ 9000, 20000 }, /* 9054-byte segments, MTU 1500 */
		{ 60000, 1000 }, /* one frame */
	};
	static uint8_t f[65536], r[65536];
	struct simenv e;
	struct guest a, b;
	struct simfront_rxinfo info;
	char conf[256];

	start_with_conf(&e, conf, sizeof(conf),
			"[network xenbr0]\npif = net_null3,no-rx=1\n");
	guest_up(&e, &a, 1, NULL, true);
	guest_up(&e, &b, 2, NULL, true);
	for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct simfront_txopt opt = {
			.flags = NETTXF_csum_blank, .gso_size = c[i].mss,
			.gso_type = XEN_NETIF_GSO_TYPE_TCPV4 };
		size_t len = tcp_partial(f, &a, &b, c[i].plen);

		/* To nobody known: flooded to b and the uplink. */
		memcpy(f, "\x02\x00\x00\x00\x00\x77", 6);
		CHECK_EQ(simfront_send(a.f, 0, f, len, &opt), 0);
		simfront_flush(a.f, 0);
		/* b has it: the uplink had its share in the same pass. */
		CHECK_EQ(recv_one(&b, r, &info), (int)len);
	}
	CHECK_EQ(ctl(&e, "stats net_null3"), 0);
	printf("%s", ctl_out);
	CHECK(ctl_json(&e, "stats net_null3",
		       "d['counters']['tx_packets'] == 3 + 1"));
	CHECK(ctl_json(&e, "stats net_null3",
		       "d['counters']['tx_drop_bad_gso'] == 2"));
	simenv_fini(&e);
}

/* A number from `netbackctl --json status`: the Python expression on
 * it (the answer is `d`). */
static uint64_t
ctl_u64(struct simenv *e, const char *expr)
{
	char cmd[2048], out[64];
	uint64_t v;

	setenv("NB_EXPR", expr, 1);
	snprintf(cmd, sizeof(cmd),
		 "%s -s %s/netbackd.sock --json status | python3 -c 'import "
		 "json,os,sys; d = json.load(sys.stdin); "
		 "print(int(eval(os.environ[\"NB_EXPR\"])))'",
		 getenv("NETBACKCTL"), e->dir);
	FILE *p = popen(cmd, "r");
	CHECK(p != NULL);
	CHECK(fgets(out, sizeof(out), p) != NULL);
	CHECK_EQ(pclose(p), 0);
	CHECK(sscanf(out, "%lu", &v) == 1);
	return v;
}

/*
 * A worker woken by many ports reads them in one call and unmasks them
 * in one: on Xen each call is a system call, in a PV dom0 a trap
 * through Xen. A guest with 8 queues rings all 16 of its ports, round
 * after round: the evtchn calls per wake-up (notifications aside) stay
 * at one read and one unmask, whatever the number of ports (one port at
 * a time, read after the wake-up and again before the next sleep, made
 * it 34).
 */
TEST(event_ports_read_and_unmasked_a_burst_at_once)
{
	struct simenv e;
	struct guest g;
	struct simfront_conf c;
	static const char *const args[] = { "--max-queues", "8", NULL };
	static const char *calls = "d['workers'][0]['evtchn_calls'] - "
				   "d['workers'][0]['notifications']";
	static const char *wakes = "d['workers'][0]['wakeups']";

	simenv_init(&e);
	simenv_start_netbackd(&e, args);
	simfront_conf_default(&c, e.hv, 1, 0);
	c.queues = 8;
	guest_up(&e, &g, 1, &c, true);
	CHECK(simfront_split(g.f));
	usleep(200000); /* connected and asleep */
	uint64_t c0 = ctl_u64(&e, calls), w0 = ctl_u64(&e, wakes);
	for (unsigned r = 0; r < 40; r++) {
		for (unsigned q = 0; q < 8; q++) {
			simfront_raw_notify(g.f, q, false);
			simfront_raw_notify(g.f, q, true);
		}
		usleep(10000);
	}
	uint64_t c1 = ctl_u64(&e, calls), w1 = ctl_u64(&e, wakes);
	printf("# %lu evtchn calls in %lu wake-ups\n", c1 - c0, w1 - w0);
	/* Each round woke the worker at least once (a status request
	 * wakes it too): the ports were all unmasked again. */
	CHECK(w1 - w0 >= 40);
	/* One read and one unmask a wake-up, before the next sleep (two
	 * more at most for the sleep the measurement began in). */
	if (c1 - c0 > 2 * (w1 - w0) + 2)
		FAIL("%lu evtchn calls in %lu wake-ups", c1 - c0, w1 - w0);
	CHECK_EQ(simenv_stop_netbackd(&e), 0);
	simenv_fini(&e);
}

/*
 * A worker with nothing but event channels to wait for (no DPDK port)
 * sleeps in the read of them: the read that returns the ports that rang
 * is the sleep, so a wake-up costs that read and one unmask, not
 * epoll_wait, a read and an unmask; and with no deadline it does not
 * wake at all while idle (it woke once a second). Control's commands
 * still reach it, through its loopback channel: a second guest is
 * added while it sleeps, and frames then go both ways.
 */
TEST(vif_only_worker_sleeps_in_its_event_channels)
{
	struct simenv e;
	struct guest a, b;
	size_t sizes[8];
	static const char *other = "d['workers'][0]['system_calls'] - "
				   "d['workers'][0]['notifications'] - "
				   "d['workers'][0]['grant_copy_calls']";
	static const char *wakes = "d['workers'][0]['wakeups']";
	static const char *epolls = "d['workers'][0]['epoll_waits']";

	start(&e);
	guest_up(&e, &a, 1, NULL, true);
	usleep(200000); /* connected and asleep */
	uint64_t s0 = ctl_u64(&e, other), w0 = ctl_u64(&e, wakes),
		 p0 = ctl_u64(&e, epolls);
	for (unsigned r = 0; r < 40; r++) {
		simfront_raw_notify(a.f, 0, false);
		usleep(10000);
	}
	uint64_t s1 = ctl_u64(&e, other), w1 = ctl_u64(&e, wakes),
		 p1 = ctl_u64(&e, epolls);
	printf("# %lu system calls besides copies and notifications, "
	       "%lu epoll_waits, in %lu wake-ups\n", (unsigned long)(s1 - s0),
	       (unsigned long)(p1 - p0), (unsigned long)(w1 - w0));
	CHECK(w1 - w0 >= 40);
	CHECK_EQ(p1 - p0, 0);
	if (s1 - s0 > 2 * (w1 - w0) + 2)
		FAIL("%lu system calls in %lu wake-ups: more than a read "
		     "and an unmask each", (unsigned long)(s1 - s0),
		     (unsigned long)(w1 - w0));
	/* Idle: no deadline, no wake-up but the status requests' own. */
	w0 = ctl_u64(&e, wakes);
	sleep(3);
	w1 = ctl_u64(&e, wakes);
	printf("# %lu wake-ups in 3 idle seconds\n", (unsigned long)(w1 - w0));
	CHECK(w1 - w0 <= 2);
	guest_up(&e, &b, 2, NULL, true);
	for (unsigned i = 0; i < 8; i++)
		sizes[i] = 60 + i * 181;
	exchange(&a, &b, sizes, 8);
	exchange(&b, &a, sizes, 8);
	guest_down(&e, &a);
	guest_down(&e, &b);
	CHECK_EQ(simenv_stop_netbackd(&e), 0);
	simenv_fini(&e);
}

/*
 * virtio-user, the exception path towards the host's stack or OVS-DPDK,
 * with fewer queue pairs than workers (its default is one) or several
 * without RSS (neither vhost-net nor a vhost-user backend offers it, and
 * virtio refuses to be asked): both must carry traffic. netbackd itself
 * plays the vhost-user end (net_vhost, the uplink of network lan), so
 * frames go guest -> xenbr0 -> virtio-user -> vhost -> lan -> guest.
 * Guests a and b are on workers 0 and 1 and send to d at once: with one
 * queue pair, both send on the one TX queue (shared under its lock);
 * every frame must reach d byte for byte, in order per sender.
 */
static void
virtio_user_carries(unsigned queues)
{
	struct simenv e;
	struct guest a, b, d;
	char conf[300], log[200];
	static uint8_t f[2048], r[65536];
	unsigned got[2] = { 0, 0 }, sent = 0;
	const unsigned n = 256;

	simenv_init(&e);
	snprintf(conf, sizeof(conf), "%s/netbackd.conf", e.dir);
	FILE *fp = fopen(conf, "w");
	CHECK(fp != NULL);
	/* The vhost-user server first: virtio-user connects when probed. */
	fprintf(fp, "[netbackd]\nworkers = 2\n"
		    "[network lan]\npif = net_vhost0,iface=%s/vu.sock,queues=%u\n"
		    "[network xenbr0]\n"
		    "pif = net_virtio_user0,path=%s/vu.sock,queues=%u\n",
		e.dir, queues, e.dir, queues);
	fclose(fp);
	const char *args[] = { "-c", conf, NULL };
	simenv_start_netbackd(&e, args);
	snprintf(log, sizeof(log), "pif net_virtio_user0: port %u, %u rx%s / "
		 "%u tx queues%s", 1u, queues, queues > 1 ? " (no rss)" : "",
		 queues, queues < 2 ? " (shared)" : "");
	if (!simenv_log_contains(&e, log))
		FAIL("no '%s' in the log", log);
	guest_ip = "bridge=xenbr0";
	guest_up(&e, &a, 1, NULL, true);
	guest_ip = "bridge=xenbr0";
	guest_up(&e, &b, 2, NULL, true);
	guest_ip = "bridge=lan";
	guest_up(&e, &d, 3, NULL, true);
	CHECK(ctl_json(&e, "vifs", "sorted((v['name'], v['queues'][0]"
		       "['worker']) for v in d['vifs']) == [('vif1.0', 0), "
		       "('vif2.0', 1), ('vif3.0', 0)]"));
	snprintf(log, sizeof(log), "[(p['rss'], p['tx_queues'], "
		 "p['tx_queues_shared']) for p in d['ports'] if p['name'] == "
		 "'net_virtio_user0'] == [(False, %u, %s)]", queues,
		 queues < 2 ? "True" : "False");
	CHECK(ctl_json(&e, "ports", log));
	/* virtio-user knows no speed (RTE_ETH_SPEED_NUM_UNKNOWN): said
	 * so, not as 4294967295 Mbit/s, and 0 in netbackctl ports. */
	for (int t = 0; t < 300 && !simenv_log_contains(
				       &e, "port net_virtio_user0: link up");
	     t++)
		usleep(10000);
	CHECK(simenv_log_contains(&e, "port net_virtio_user0: link up, "
				      "unknown speed"));
	CHECK(simenv_log_contains(&e, "port net_vhost0: link up, 10000 "
				      "Mbit/s"));
	CHECK(ctl_json(&e, "ports", "[p['link_speed_mbps'] for p in "
		       "d['ports'] if p['name'] == 'net_virtio_user0'] == [0]"));

	/* d speaks first, so xenbr0 learns it behind its uplink: a
	 * broadcast through vhost and virtio-user the other way. */
	memset(f, 0xff, 6);
	memcpy(f + 6, d.tv.mac, 6);
	f[12] = 0x88;
	f[13] = 0xb5;
	for (unsigned i = 14; i < 200; i++)
		f[i] = (uint8_t)(i * 3);
	CHECK_EQ(simfront_send(d.f, 0, f, 200, NULL), 0);
	simfront_flush(d.f, 0);
	CHECK_EQ(guest_recv_ours(a.f, r, sizeof(r)), 200);
	CHECK(memcmp(r, f, 200) == 0);
	CHECK_EQ(guest_recv_ours(b.f, r, sizeof(r)), 200);
	CHECK(memcmp(r, f, 200) == 0);

	/* a and b, on different workers, to d at once: 32 each, then
	 * wait for them. */
	time_t deadline = time(NULL) + 20;
	while (got[0] < n || got[1] < n) {
		if (time(NULL) > deadline)
			FAIL("d got %u from a and %u from b of %u each (sent "
			     "%u each)", got[0], got[1], n, sent);
		for (; sent < n && sent < got[0] + 32 && sent < got[1] + 32;
		     sent++) {
			size_t len = 60 + (sent * 89) % 1455;

			make_frame(f, len, &a, &d, sent);
			CHECK_EQ(simfront_send(a.f, 0, f, len, NULL), 0);
			make_frame(f, len, &b, &d, sent + n);
			CHECK_EQ(simfront_send(b.f, 0, f, len, NULL), 0);
		}
		simfront_flush(a.f, 0);
		simfront_flush(b.f, 0);
		simfront_poll(a.f, 0);
		simfront_poll(b.f, 0);
		simfront_poll(d.f, 10);
		int len;
		while ((len = simfront_recv(d.f, 0, r, sizeof(r), NULL)) !=
		       -EAGAIN) {
			CHECK(len >= 14);
			if (r[12] != 0x88 || r[13] != 0xb5)
				continue;
			unsigned who = memcmp(r + 6, a.tv.mac, 6) == 0 ? 0 : 1;
			unsigned seq = got[who] + who * n;

			CHECK(who == 0 || memcmp(r + 6, b.tv.mac, 6) == 0);
			make_frame(f, 60 + (got[who] * 89) % 1455,
				   who ? &b : &a, &d, seq);
			if (len != (int)(60 + (got[who] * 89) % 1455) ||
			    memcmp(r, f, (size_t)len) != 0)
				FAIL("frame %u from %c: %d bytes, not as sent",
				     got[who], who ? 'b' : 'a', len);
			got[who]++;
		}
	}
	CHECK_EQ(simenv_stop_netbackd(&e), 0);
	simenv_fini(&e);
}

TEST(virtio_user_one_queue_pair_two_workers)
{
	virtio_user_carries(1);
}

TEST(virtio_user_two_queue_pairs_without_rss)
{
	virtio_user_carries(2);
}

/*
 * netbackd (without the seccomp filter) with a virtio-user port whose
 * vhost-user end is its own net_vhost, on another network; back once
 * the virtio-user link is up.
 */
static void
virtio_user_to_own_vhost(struct simenv *e)
{
	char conf[300], text[400];

	simenv_init(e);
	snprintf(conf, sizeof(conf), "%s/netbackd.conf", e->dir);
	snprintf(text, sizeof(text), "[network lan]\n"
		 "pif = net_vhost0,iface=%s/vu.sock\n[network xenbr0]\n"
		 "pif = net_virtio_user0,path=%s/vu.sock\n", e->dir, e->dir);
	write_file(conf, text);
	const char *args[] = { "-c", conf, "--no-sandbox", NULL };
	simenv_start_netbackd(e, args);
	for (int t = 0; t < 300 && !simenv_log_contains(
				       e, "port net_virtio_user0: link up");
	     t++)
		usleep(10000);
	CHECK(simenv_log_contains(e, "port net_virtio_user0: link up"));
}

/*
 * The vhost-user end of a virtio-user port goes first (netbackctl
 * port-del of netbackd's own net_vhost; OVS restarting is the same for
 * the port): virtio-user's messages to it then hit a closed socket,
 * with no MSG_NOSIGNAL. netbackd must not die of SIGPIPE for it: it
 * stops as usual (outside the seccomp filter, which would refuse the
 * write before the signal could come).
 */
TEST(virtio_user_outlives_its_vhost_end)
{
	struct simenv e;

	virtio_user_to_own_vhost(&e);
	CHECK_EQ(ctl(&e, "port-del net_vhost0"), 0);
	CHECK_EQ(simenv_stop_netbackd(&e), 0);
	simenv_fini(&e);
}

/*
 * Ports close in the reverse of the order they opened: a virtio-user
 * port stops while the vhost-user end netbackd opened before it still
 * answers (GET_VRING_BASE), so stopping logs no DPDK error. Without the
 * seccomp filter, which would refuse virtio-user's sendmsg at stop.
 */
TEST(ports_close_last_opened_first)
{
	struct simenv e;

	virtio_user_to_own_vhost(&e);
	CHECK_EQ(simenv_stop_netbackd(&e), 0);
	if (simenv_log_contains(&e, "Failed to stop device") ||
	    simenv_log_contains(&e, "get_vring_base failed")) {
		simenv_dump_log(&e);
		FAIL("virtio-user could not stop: its vhost end went first");
	}
	CHECK(simenv_log_contains(&e, "stopped: 0 pages mapped"));
	simenv_fini(&e);
}

/*
 * A virtio-user port over vhost-net that says nothing of its queues is
 * probed with queues=N, a queue pair per worker (the kernel's tap takes
 * as many as asked); one that says, or one over vhost-user (whose other
 * end decides), is probed as written. Whether the probe then succeeds
 * depends on the machine (/dev/vhost-net, the sandbox): only the
 * devargs used are checked, in the log.
 */
TEST(virtio_user_over_vhost_net_gets_a_queue_pair_per_worker)
{
	struct simenv e;
	const char *const args[] = { "--workers", "2", NULL };

	simenv_init(&e);
	simenv_start_netbackd(&e, args);
	ctl(&e, "port-add xenbr0 net_virtio_user7,path=/dev/vhost-net,"
		"iface=nbq%u", (unsigned)getpid() % 100000);
	ctl(&e, "port-del net_virtio_user7");
	ctl(&e, "port-add xenbr0 net_virtio_user8,path=/dev/vhost-net,"
		"queues=1,iface=nbr%u", (unsigned)getpid() % 100000);
	ctl(&e, "port-del net_virtio_user8");
	ctl(&e, "port-add xenbr0 net_virtio_user9,path=%s/vu.sock", e.dir);
	ctl(&e, "port-del net_virtio_user9");
	CHECK(simenv_log_contains(&e, "pif net_virtio_user7: probed as "
				      "'net_virtio_user7,path=/dev/vhost-net,"
				      "iface=nbq"));
	CHECK(simenv_log_contains(&e, ",queues=2': a queue pair per worker"));
	CHECK(!simenv_log_contains(&e, "pif net_virtio_user8: probed as"));
	CHECK(!simenv_log_contains(&e, "pif net_virtio_user9: probed as"));
	CHECK_EQ(simenv_stop_netbackd(&e), 0);
	simenv_fini(&e);
}

/*
 * Long packets between two guests of one worker go by grant copies from
 * the sender's pages straight into the receiver's (only their first
 * DP_TX_HEAD bytes come into netbackd): byte-exact, in order, every one
 * counted as a guest-to-guest copy, none failing. A third guest that
 * needs its checksums done gets the same kind of packets completed in
 * netbackd first (counted as such), as intact.
 */
TEST(long_packets_go_guest_to_guest)
{
	struct simenv e;
	struct guest a, b, c;
	struct simfront_conf nocsum;
	size_t sizes[300];
	struct simhv_stats before, after;

	start(&e);
	guest_up(&e, &a, 1, NULL, true);
	guest_up(&e, &b, 2, NULL, true);
	for (unsigned i = 0; i < 300; i++)
		sizes[i] = 60;
	exchange(&a, &b, sizes, 4); /* learn */
	exchange(&b, &a, sizes, 4);
	for (unsigned i = 0; i < 300; i++)
		sizes[i] = 2049 + (i * 997) % 7000; /* 2049 .. 9048 */
	sizes[7] = 60; /* a short one between them keeps its place */
	simhv_get_stats(e.hv, &before);
	exchange(&a, &b, sizes, 300);
	simhv_get_stats(e.hv, &after);
	CHECK_EQ(after.copy_errors, before.copy_errors);
	CHECK(ctl_json(&e, "status",
		       "sum(w['guest_to_guest_copies'] for w in d['workers']) "
		       ">= 299 and sum(w['cut_packets_completed'] for w in "
		       "d['workers']) == 0"));
	struct simfront_stats st;
	simfront_stats(a.f, 0, &st);
	CHECK_EQ(st.tx_error + st.tx_dropped, 0);

	/* c takes no blank checksums: what goes to it is completed here. */
	simfront_conf_default(&nocsum, NULL, 3, 0);
	nocsum.no_csum = true;
	guest_up(&e, &c, 3, &nocsum, true);
	for (unsigned i = 0; i < 300; i++)
		sizes[i] = 60;
	exchange(&c, &a, sizes, 4);
	exchange(&a, &c, sizes, 4);
	for (unsigned i = 0; i < 64; i++)
		sizes[i] = 3000 + i * 50;
	exchange(&a, &c, sizes, 64);
	CHECK(ctl_json(&e, "status",
		       "sum(w['cut_packets_completed'] for w in d['workers']) "
		       ">= 1"));
	simfront_stats(a.f, 0, &st);
	CHECK_EQ(st.tx_error + st.tx_dropped, 0);
	CHECK_EQ(simenv_stop_netbackd(&e), 0);
	simenv_fini(&e);
}

/*
 * A pass copies one guest's TX burst and every queue's RX burst in one
 * call, which holds DP_RX_PLANS RX bursts and DP_COPY_BATCH segments:
 * nine guests, each filled with ten GSO packets of 60,000 bytes at once
 * (300 segments each), need more of both. A flood reaches all nine
 * whole and in order, and nothing is dropped.
 */
TEST(flood_of_long_packets_fills_many_guests_at_once)
{
	enum { NG = 10, ROUNDS = 4, PER = 10 };
	static struct guest g[NG];
	static uint8_t f[65536], r[65536];
	struct simfront_txopt opt = { .flags = NETTXF_csum_blank,
				      .gso_size = 1448,
				      .gso_type = XEN_NETIF_GSO_TYPE_TCPV4 };
	struct simfront_rxinfo info;
	struct simenv e;
	char conf[512];
	size_t sizes[4] = { 60, 60, 60, 60 }, len = 0;

	/* Ten such packets wait in each backlog: more bytes than the
	 * default bound lets through. */
	start_with_conf(&e, conf, sizeof(conf),
			"[netbackd]\nrx-queue-bytes = 1048576\n"
			"[network xenbr0]\n");
	for (unsigned i = 0; i < NG; i++)
		guest_up(&e, &g[i], (uint16_t)(1 + i), NULL, true);
	for (unsigned i = 1; i < NG; i++)
		exchange(&g[i], &g[0], sizes, 4); /* learn */
	for (unsigned i = 0; i < NG; i++)
		drain(&g[i]);
	for (unsigned round = 0; round < ROUNDS; round++) {
		for (unsigned k = 0; k < PER; k++) {
			len = tcp_partial(f, &g[0], &g[1], 60000);
			memcpy(f, "\x02\x00\x00\x99\x99\x99", 6); /* unknown */
			f[54] = (uint8_t)(round * PER + k);
			CHECK_EQ(simfront_send(g[0].f, 0, f, len, &opt), 0);
		}
		simfront_flush(g[0].f, 0);
		for (unsigned i = 1; i < NG; i++) {
			for (unsigned k = 0; k < PER; k++) {
				int n = recv_one(&g[i], r, &info);

				if (n != (int)len)
					FAIL("guest %u, packet %u: %d bytes, "
					     "want %zu", i, round * PER + k, n,
					     len);
				CHECK_EQ(info.gso_size, 1448);
				CHECK_EQ(r[54], (uint8_t)(round * PER + k));
				CHECK(memcmp(r + 6, f + 6, 48) == 0);
				CHECK(memcmp(r + 55, f + 55, len - 55) == 0);
			}
		}
	}
	for (unsigned i = 0; i < NG; i++) {
		struct simfront_stats st;

		simfront_stats(g[i].f, 0, &st);
		CHECK_EQ(st.tx_error + st.tx_dropped + st.rx_errors, 0);
	}
	CHECK(ctl_json(&e, "stats",
		       "all(v['counters']['rx_drop_backlog_full'] + "
		       "v['counters']['rx_drop_copy_failed'] + "
		       "v['counters']['rx_drop_too_big'] == 0 "
		       "for v in d['vifs'])"));
	CHECK_EQ(simenv_stop_netbackd(&e), 0);
	simenv_fini(&e);
}

/* The next IPv4 frame guest f receives within ~3 s (others skipped),
 * its length, or -EAGAIN. */
static int
recv_ipv4(struct simfront *f, uint8_t *r, size_t cap,
	  struct simfront_rxinfo *info)
{
	int n = -EAGAIN;

	for (int t = 0; t < 300 && n == -EAGAIN; t++) {
		simfront_poll(f, 10);
		while ((n = simfront_recv(f, 0, r, cap, info)) != -EAGAIN &&
		       (n < 14 || r[12] != 0x08))
			;
	}
	return n;
}

/*
 * What GRO merged (a TCP frame longer than the MTU, its checksum the
 * pseudo-header's, as the kernel leaves it) reaches a guest that takes
 * GSO whole, as a GSO packet cut at the MTU, and one that does not in
 * segments with their checksums done; one of 64,000 bytes of payload,
 * as large as GRO makes them (more than the PMD's largest slots took),
 * whole too. A frame tagged for VLAN 10, whose tag the kernel takes off
 * before a packet socket sees it, reaches the guest on VLAN 10. GRO
 * stays on meanwhile, its gro_max_size untouched; with the PMD's slots
 * (framesz=2048 in the devargs) GRO is turned off on the interface
 * instead, and on again after. Needs root (the veth pair).
 */
TEST(af_packet_merged_frames_reach_guests_whole)
{
	struct simenv e;
	struct guest a, c, out;
	struct simfront_conf nogso;
	struct simfront_rxinfo info;
	char conf[300], wa[16], wb[16], cmd[200];
	static uint8_t f[65600], r[65600], payload[16384];
	size_t plen = 8000, len;

	veth_up("nbw", wa, wb);
	snprintf(cmd, sizeof(cmd), "ip link set %s mtu 65000 && ip link set "
		 "%s mtu 65000", wa, wb);
	CHECK_EQ(system(cmd), 0);
	CHECK_EQ(gro(wa, 1), 0);
	simenv_init(&e);
	start_af_packet(&e, wa, conf);
	CHECK(simenv_log_contains(&e, "whole frames"));
	/* GRO stays on, as large as it was. */
	CHECK_EQ(gro(wa, -1), 1);
	snprintf(cmd, sizeof(cmd), "ip -d link show %s | grep -q "
		 "'gro_max_size 65536 '", wa);
	CHECK_EQ(system(cmd), 0);
	guest_up(&e, &a, 1, NULL, true);
	simfront_conf_default(&nogso, NULL, 3, 0);
	nogso.gso_tcpv4 = nogso.gso_tcpv6 = false;
	guest_up(&e, &c, 3, &nogso, true);
	memset(&out, 0, sizeof(out));
	memcpy(out.tv.mac, "\x02\x00\x00\x00\x00\x98", 6);
	/* The switch learns where a and c are: nothing is flooded. */
	size_t small[1] = { 60 };
	exchange(&a, &c, small, 1);
	exchange(&c, &a, small, 1);

	struct sockaddr_ll sl;
	int fd = wire_socket(wb, &sl);

	/* To a: one GSO packet, byte for byte. */
	len = tcp_partial(f, &out, &a, plen);
	raw_send(fd, sl.sll_ifindex, f, len);
	int n = recv_ipv4(a.f, r, sizeof(r), &info);
	CHECK_EQ(n, (int)len);
	CHECK(memcmp(r, f, len) == 0);
	CHECK_EQ(info.gso_size, 1460);
	CHECK(info.flags & NETRXF_csum_blank);

	/* As large as GRO makes them: whole too. */
	len = tcp_partial(f, &out, &a, 64000);
	for (size_t i = 54; i < len; i++)
		f[i] = (uint8_t)(i * 7);
	raw_send(fd, sl.sll_ifindex, f, len);
	n = recv_ipv4(a.f, r, sizeof(r), &info);
	CHECK_EQ(n, (int)len);
	CHECK(memcmp(r, f, len) == 0);
	CHECK_EQ(info.gso_size, 1460);

	/* To c, which takes no GSO: MTU-sized segments, checksums done,
	 * their payloads the original's. */
	len = tcp_partial(f, &out, &c, plen);
	raw_send(fd, sl.sll_ifindex, f, len);
	size_t got = 0;
	for (int t = 0; t < 300 && got < plen; t++) {
		simfront_poll(c.f, 10);
		while ((n = simfront_recv(c.f, 0, r, sizeof(r), &info)) !=
		       -EAGAIN) {
			if (n < 54 || r[12] != 0x08)
				continue;
			CHECK(n <= 1514);
			CHECK(l4_sum_ok(r, (size_t)n, 6));
			memcpy(payload + got, r + 54, (size_t)n - 54);
			got += (size_t)n - 54;
		}
	}
	CHECK_EQ(got, plen);
	CHECK(memcmp(payload, f + 54, plen) == 0);

	/* Tagged for VLAN 10 on the wire: to the guest on VLAN 10. */
	struct guest b;

	guest_ip = "bridge=xenbr0.10";
	guest_up(&e, &b, 2, NULL, true);
	memcpy(f, b.tv.mac, 6);
	memcpy(f + 6, out.tv.mac, 6);
	memcpy(f + 12, "\x81\x00\x00\x0a\x88\xb5", 6);
	for (unsigned i = 18; i < 200; i++)
		f[i] = (uint8_t)i;
	raw_send(fd, sl.sll_ifindex, f, 200);
	n = guest_recv_ours(b.f, r, sizeof(r));
	CHECK_EQ(n, 196);
	CHECK(memcmp(r + 14, f + 18, 182) == 0);
	CHECK(ctl_json(&e, "ports", "sum(p['counters']['rx_coalesced'] for "
				    "p in d['ports']) == 3 and "
				    "d['ports'][0]['counters']['rx_drop_cut'] "
				    "== 0 and d['ports'][0]['whole_frames']"));
	close(fd);
	CHECK_EQ(simenv_stop_netbackd(&e), 0);
	CHECK_EQ(gro(wa, -1), 1);
	snprintf(cmd, sizeof(cmd), "ip -d link show %s | grep -q "
		 "'gro_max_size 65536 '", wa);
	CHECK_EQ(system(cmd), 0);

	/* framesz=2048: GRO off while netbackd runs, on again after. */
	const char *args[] = { "-c", conf, NULL };
	FILE *fp = fopen(conf, "w");
	CHECK(fp != NULL);
	fprintf(fp, "[network xenbr0]\npif = net_af_packet0,iface=%s,"
		"framesz=2048\n", wa);
	fclose(fp);
	simenv_start_netbackd(&e, args);
	CHECK(simenv_log_contains(&e, "rx-gro turned off on"));
	CHECK_EQ(gro(wa, -1), 0);
	CHECK_EQ(simenv_stop_netbackd(&e), 0);
	CHECK_EQ(gro(wa, -1), 1);
	simenv_fini(&e);
	veth_del();
	veth_gone[0] = '\0';
}

/* tcp_partial over IPv6 (fd00::1 -> fd00::2). */
static size_t
tcp6_partial(uint8_t *f, const struct guest *from, const struct guest *to,
	     size_t plen)
{
	size_t tlen = 20 + plen, len = 14 + 40 + tlen;
	uint8_t *ip = f + 14, *tcp = ip + 40, pseudo[40];

	memset(f, 0, 14 + 40 + 20);
	memcpy(f, to->tv.mac, 6);
	memcpy(f + 6, from->tv.mac, 6);
	f[12] = 0x86;
	f[13] = 0xdd;
	ip[0] = 0x60;
	ip[4] = (uint8_t)(tlen >> 8);
	ip[5] = (uint8_t)tlen;
	ip[6] = 6;
	ip[7] = 64;
	ip[8] = ip[24] = 0xfd;
	ip[23] = 1;
	ip[39] = 2;
	tcp[1] = 80;
	tcp[3] = 99;
	tcp[7] = 1;
	tcp[12] = 0x50;
	tcp[13] = 0x18;
	tcp[14] = 0xff;
	for (size_t i = 0; i < plen; i++)
		tcp[20 + i] = (uint8_t)(i * 5 + 3);
	memcpy(pseudo, ip + 8, 32);
	memset(pseudo + 32, 0, 8);
	pseudo[34] = (uint8_t)(tlen >> 8);
	pseudo[35] = (uint8_t)tlen;
	pseudo[39] = 6;
	uint16_t ps = inet_sum(pseudo, 40, 0);
	tcp[16] = (uint8_t)(ps >> 8);
	tcp[17] = (uint8_t)ps;
	return len;
}

/* Is the TCP checksum of an Ethernet/IPv6 frame (no extension headers)
 * right? */
static bool
tcp6_sum_ok(const uint8_t *f, size_t len)
{
	const uint8_t *ip = f + 14;
	size_t l4len = len - 54;
	uint8_t pseudo[40];

	memcpy(pseudo, ip + 8, 32);
	memset(pseudo + 32, 0, 8);
	pseudo[34] = (uint8_t)(l4len >> 8);
	pseudo[35] = (uint8_t)l4len;
	pseudo[39] = 6;
	return inet_sum(ip + 40, l4len, inet_sum(pseudo, 40, 0)) == 0xffff;
}

/*
 * Segments of the guest's TCP packet that the wire (fd, with
 * PACKET_AUXDATA on) sees, until plen payload bytes came: each no
 * longer than the MTU, tagged vid (0: untagged), checksums right, in
 * sequence; their payloads into payload. The count.
 */
static unsigned
wire_segments(int fd, bool v6, uint8_t *payload, size_t plen, uint16_t vid)
{
	static uint8_t r[65536];
	size_t got = 0, hl = v6 ? 74 : 54;
	unsigned nseg = 0;
	int one = 1;

	CHECK_EQ(setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one,
			    sizeof(one)), 0);
	while (got < plen) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		union {
			struct cmsghdr h;
			char b[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
		} cb;
		struct iovec iov = { .iov_base = r, .iov_len = sizeof(r) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = &cb,
				     .msg_controllen = sizeof(cb) };
		uint16_t tag = 0;

		if (poll(&pfd, 1, 3000) != 1)
			FAIL("the wire got %zu of %zu bytes", got, plen);
		ssize_t n = recvmsg(fd, &mh, 0);

		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c;
		     c = CMSG_NXTHDR(&mh, c)) {
			struct tpacket_auxdata ad;

			if (c->cmsg_level != SOL_PACKET ||
			    c->cmsg_type != PACKET_AUXDATA)
				continue;
			memcpy(&ad, CMSG_DATA(c), sizeof(ad));
			if (ad.tp_status & TP_STATUS_VLAN_VALID)
				tag = ad.tp_vlan_tci & 0xfff;
		}
		if (n < (ssize_t)hl || r[12] != (v6 ? 0x86 : 0x08) ||
		    r[hl - 20 + 3] != 99)
			continue;
		CHECK_EQ(tag, vid);
		CHECK(n <= 1514);
		if (v6) {
			CHECK(tcp6_sum_ok(r, (size_t)n));
		} else {
			CHECK_EQ(inet_sum(r + 14, 20, 0), 0xffff);
			CHECK(l4_sum_ok(r, (size_t)n, 6));
		}
		const uint8_t *tcp = r + hl - 20;
		uint32_t seq = (uint32_t)(tcp[4] << 24 | tcp[5] << 16 |
					  tcp[6] << 8 | tcp[7]);
		CHECK_EQ(seq, 1 + got);
		CHECK(got + (size_t)n - hl <= plen);
		memcpy(payload + got, r + hl, (size_t)n - hl);
		got += (size_t)n - hl;
		nseg++;
	}
	return nseg;
}

/*
 * Guest g sends `to` one GSO packet of 30000 bytes of TCP (IPv6 or IPv4)
 * with MSS mss; the wire (fd) must see it cut at the MSS, tagged vid,
 * every byte there.
 */
static void
gso_out(struct guest *g, const struct guest *to, int fd, bool v6,
	uint16_t mss, uint16_t vid)
{
	static uint8_t f[65536], payload[65536];
	struct simfront_txopt opt = {
		.flags = NETTXF_csum_blank, .gso_size = mss,
		.gso_type = v6 ? XEN_NETIF_GSO_TYPE_TCPV6
			       : XEN_NETIF_GSO_TYPE_TCPV4 };
	size_t plen = 30000;
	size_t len = v6 ? tcp6_partial(f, g, to, plen)
			: tcp_partial(f, g, to, plen);

	CHECK_EQ(simfront_send(g->f, 0, f, len, &opt), 0);
	simfront_flush(g->f, 0);
	CHECK_EQ(wire_segments(fd, v6, payload, plen, vid),
		 (plen + mss - 1) / mss);
	CHECK(memcmp(payload, f + (v6 ? 74 : 54), plen) == 0);
}

/*
 * A guest's GSO packets leave a net_af_packet uplink whole, on the
 * port's own socket with virtio-net headers, and the kernel cuts them
 * (the NIC would, with TSO). Here the veth end netbackd uses has TSO,
 * GSO and checksum offload off, so the kernel cuts them in software
 * and the wire sees wire-size segments with their checksums done, in
 * order, whose payloads are the packet's: IPv4 and IPv6, and IPv4
 * tagged for VLAN 10, counted as tx_gso_whole, none dropped. Needs
 * root (the veth pair).
 */
TEST(af_packet_sends_gso_packets_whole)
{
	struct simenv e;
	struct guest a, out;
	char conf[300], wa[16], wb[16];
	struct simfront_stats st;

	veth_up("nbg", wa, wb);
	const uint32_t offs[] = { ETHTOOL_STXCSUM, ETHTOOL_STSO,
				  ETHTOOL_SGSO };
	for (unsigned i = 0; i < 3; i++) {
		uint32_t off = 0;

		CHECK_EQ(ethtool_value(wa, offs[i], &off), 0);
	}
	simenv_init(&e);
	start_af_packet(&e, wa, conf);
	CHECK(simenv_log_contains(&e, "GSO packets go to"));
	guest_up(&e, &a, 1, NULL, true);
	memset(&out, 0, sizeof(out));
	memcpy(out.tv.mac, "\x02\x00\x00\x00\x00\x97", 6);

	struct sockaddr_ll sl;
	int fd = wire_socket(wb, &sl);

	gso_out(&a, &out, fd, false, 1448, 0);
	gso_out(&a, &out, fd, true, 1428, 0);
	/* From a guest on VLAN 10: tagged on the wire (the receiving
	 * kernel takes the tag off into the frame's metadata). */
	struct guest b;

	guest_ip = "bridge=xenbr0.10";
	guest_up(&e, &b, 2, NULL, true);
	gso_out(&b, &out, fd, false, 1000, 10);

	CHECK(ctl_json(&e, "ports", "d['ports'][0]['counters']"
				    "['tx_gso_whole'] == 3 and "
				    "d['ports'][0]['counters']"
				    "['tx_drop_bad_gso'] == 0"));
	simfront_stats(a.f, 0, &st);
	CHECK_EQ(st.tx_error + st.tx_dropped, 0);
	close(fd);
	CHECK_EQ(simenv_stop_netbackd(&e), 0);
	simenv_fini(&e);
	veth_del();
	veth_gone[0] = '\0';
}

/* Whether guest f receives, within ~3 s, a frame of our EtherType whose
 * byte 14 is want (others, flooded, skipped). */
static bool
guest_gets_number(struct simfront *f, uint8_t want)
{
	static uint8_t r[2048];
	int n;

	while ((n = guest_recv_ours(f, r, sizeof(r))) != -EAGAIN)
		if (n > 14 && r[14] == want)
			return true;
	return false;
}

/*
 * Two networks whose uplinks share one interface: each port has its own
 * receive ring, and opening the second port leaves the first's alone
 * (it filters only the PMD's sockets): the wire reaches a guest on
 * each. Needs root (the veth pair).
 */
TEST(af_packet_two_networks_share_an_interface)
{
	struct simenv e;
	struct guest a, b;
	char conf[300], text[200], wa[16], wb[16];
	static uint8_t f[256];

	veth_up("nb2", wa, wb);
	snprintf(text, sizeof(text), "[network xenbr0]\npif = net_af_packet0,"
		 "iface=%s\n[network lan]\npif = net_af_packet1,iface=%s\n",
		 wa, wa);
	start_with_conf(&e, conf, sizeof(conf), text);
	guest_up(&e, &a, 1, NULL, true);
	guest_ip = "bridge=lan";
	guest_up(&e, &b, 2, NULL, true);

	struct sockaddr_ll sl;
	int fd = wire_socket(wb, &sl);

	memset(f, 0, sizeof(f));
	memcpy(f + 6, "\x02\x00\x00\x00\x00\x96", 6);
	f[12] = 0x88;
	f[13] = 0xb5;
	memcpy(f, a.tv.mac, 6);
	f[14] = 1;
	raw_send(fd, sl.sll_ifindex, f, sizeof(f));
	CHECK(guest_gets_number(a.f, 1));
	memcpy(f, b.tv.mac, 6);
	f[14] = 2;
	raw_send(fd, sl.sll_ifindex, f, sizeof(f));
	CHECK(guest_gets_number(b.f, 2));
	CHECK(ctl_json(&e, "ports", "all(p['whole_frames'] for p in "
				    "d['ports']) and len(d['ports']) == 2"));
	close(fd);
	CHECK_EQ(simenv_stop_netbackd(&e), 0);
	simenv_fini(&e);
	veth_del();
	veth_gone[0] = '\0';
}

TESTS_MAIN()
