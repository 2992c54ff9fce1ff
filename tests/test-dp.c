/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The data path (backend/dp) alone, under DPDK's EAL but without a
 * hypervisor: delivery to a guest queue by two threads that play two
 * workers handing one queue frames at once, as the switch does when
 * guests on both send to one vif; the static-grant table's lookups
 * whatever a guest adds and deletes; what a GSO packet's MSS lets
 * through to a DPDK port (net_null).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "dp_priv.h"
#include "tests.h"

#define ROUNDS 100000u

/* One pool per thread: a thread preempted inside a shared pool's ring
 * would hold the other spinning (two CPUs, busy). */
static struct rte_mempool *pool[2];
static struct dp_worker owner, other;
static struct dp_vif vif;
static struct dp_queue queue;
static struct dp dp;

static void
eal_up_vdev(const char *vdev)
{
	/* No hugepages, devices or shared files: a test among others;
	 * one lcore, on a CPU we may use. */
	char *argv[] = { "test-worker", "--no-huge", "-m", "64", "--no-pci",
			 "--no-shconf", "--no-telemetry", "--lcores", NULL,
			 "--log-level", "lib.*:error", (char *)vdev, NULL };
	char lcores[32];
	cpu_set_t set;
	int cpu = 0;

	CHECK_EQ(sched_getaffinity(0, sizeof(set), &set), 0);
	while (!CPU_ISSET(cpu, &set))
		cpu++;
	snprintf(lcores, sizeof(lcores), "0@%d", cpu);
	argv[8] = lcores;
	CHECK(rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])) -
				   (vdev ? 1 : 2),
			   argv) >= 0);
	/* the private area holds the destination queue (dp_mbuf_dest) */
	for (unsigned i = 0; i < 2; i++) {
		char name[16];

		snprintf(name, sizeof(name), "t_mbufs%u", i);
		pool[i] = rte_pktmbuf_pool_create_by_ops(name, 8191, 0,
							 RTE_CACHE_LINE_SIZE,
							 256, SOCKET_ID_ANY,
							 "ring_sp_sc");
		CHECK(pool[i] != NULL);
	}
}

static void
eal_up(void)
{
	eal_up_vdev(NULL);
}

/* A connected vif of one queue, which `owner` runs. */
static void
vif_up(void)
{
	owner.id = 0;
	owner.xfer = rte_ring_create("t_xfer0", 4096, SOCKET_ID_ANY,
				     RING_F_SC_DEQ);
	other.id = 1;
	other.xfer = rte_ring_create("t_xfer1", 4096, SOCKET_ID_ANY,
				     RING_F_SC_DEQ);
	CHECK(owner.xfer != NULL && other.xfer != NULL);
	owner.dp = other.dp = &dp;
	/* Bounds out of the way but the packet count's, unless a test
	 * sets them: as a worker with a vast pool would. */
	dp.rx_queue_bytes = 1u << 30;
	dp.rx_queue_mbufs = 1u << 30;
	atomic_store(&queue.rx_quota, 1u << 30);
	queue.vif = &vif;
	queue.worker = &owner;
	vif.queues = &queue;
	vif.nqueues = 1;
	vif.connected = true;
	vif.sw_port = -1;
}

/* Hand the queue rounds bursts as worker w, from w's pool. */
static int
deliver_n(struct dp_worker *w, unsigned rounds)
{
	struct rte_mbuf *m[DP_BURST];

	for (unsigned i = 0; i < rounds; i++) {
		if (rte_pktmbuf_alloc_bulk(pool[w->id], m, DP_BURST) != 0)
			return -ENOMEM;
		for (unsigned k = 0; k < DP_BURST; k++)
			rte_pktmbuf_append(m[k], 60);
		dp_deliver_vif(w, &vif, m, DP_BURST);
	}
	return 0;
}

static void *
deliver(void *arg)
{
	return deliver_n(arg, ROUNDS) < 0 ? (void *)1 : NULL;
}

/* Frames the queue holds, or dropped and counted. */
static uint64_t
accounted(void)
{
	return queue.bl_count + rte_ring_count(owner.xfer) +
	       dp_queue_stat(&queue, DP_Q_RX_DROP_BACKLOG);
}

/*
 * dp.h's rule, which lets the owner count without atomics: a queue's
 * plain counters are written by its worker only. Another worker's
 * drops (the owner's xfer ring full) are counted all the same.
 */
TEST(other_worker_leaves_owners_counters_alone)
{
	uint64_t before[DP_Q_COUNT];

	eal_up();
	vif_up();
	/* fill the xfer ring (4095), then 64 bursts find it full */
	CHECK_EQ(deliver_n(&other, 4096 / DP_BURST + 64), 0);
	CHECK_EQ(rte_ring_count(owner.xfer), 4095);
	memcpy(before, queue.stats, sizeof(before));
	CHECK_EQ(deliver_n(&other, 16), 0);
	CHECK_EQ(memcmp(before, queue.stats, sizeof(before)), 0);
	CHECK_EQ(accounted(), (4096 / DP_BURST + 64 + 16) * DP_BURST);
	rte_eal_cleanup();
}

/*
 * The owner's backlog and its xfer ring (nobody drains it) fill up;
 * from then on both workers drop what they hand the queue, and each
 * drop must be counted: none lost to the other's count.
 */
TEST(drops_by_two_workers_all_counted)
{
	pthread_t t[2];
	void *ret[2];

	eal_up();
	vif_up();
	CHECK_EQ(pthread_create(&t[0], NULL, deliver, &owner), 0);
	CHECK_EQ(pthread_create(&t[1], NULL, deliver, &other), 0);
	for (unsigned i = 0; i < 2; i++) {
		CHECK_EQ(pthread_join(t[i], &ret[i]), 0);
		CHECK(ret[i] == NULL);
	}
	CHECK_EQ(queue.bl_count, DP_RX_BACKLOG);
	CHECK_EQ(accounted(), 2ull * ROUNDS * DP_BURST);
	rte_eal_cleanup();
}

/* ---- GSO packets to a port ---- */

/* A GSO TCP/IPv4 packet of plen payload bytes (one mbuf) with mss. */
static struct rte_mbuf *
gso_packet(struct rte_mempool *mp, unsigned plen, uint16_t mss)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	uint8_t *f;

	CHECK(m != NULL);
	f = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(54 + plen));
	CHECK(f != NULL);
	memset(f, 0, 54 + plen);
	f[0] = 0x02;
	f[12] = 0x08;                     /* IPv4 */
	f[14] = 0x45;
	f[16] = (uint8_t)((40 + plen) >> 8);
	f[17] = (uint8_t)(40 + plen);
	f[23] = 6;                        /* TCP */
	f[46] = 0x50;                     /* 20-byte TCP header */
	m->ol_flags |= RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_RX_L4_CKSUM_NONE;
	m->tso_segsz = mss;
	m->packet_type = RTE_PTYPE_L3_IPV4;
	return m;
}

/*
 * A port whose TSO cuts what the guest asked (net_null standing in for
 * a NIC with TSO): an MSS below what NICs take is not handed over but
 * dropped and counted; a sane one is, and a packet no longer than its
 * MSS goes as a plain frame.
 */
TEST(gso_to_tso_port_mss_checked)
{
	static const struct rte_eth_conf conf;
	struct dp_eth *e = calloc(1, sizeof(*e));
	struct rte_mempool *mp;
	uint64_t c[DP_E_COUNT];
	uint16_t port;

	eal_up_vdev("--vdev=net_null0");
	mp = rte_pktmbuf_pool_create("t_big", 255, 0, 0,
				     RTE_PKTMBUF_HEADROOM + 2048,
				     SOCKET_ID_ANY);
	CHECK(mp != NULL);
	owner.id = 0;
	CHECK(e != NULL);
	CHECK_EQ(rte_eth_dev_get_port_by_name("net_null0", &port), 0);
	CHECK_EQ(rte_eth_dev_configure(port, 1, 1, &conf), 0);
	CHECK_EQ(rte_eth_rx_queue_setup(port, 0, 64, SOCKET_ID_ANY, NULL,
					pool[0]), 0);
	CHECK_EQ(rte_eth_tx_queue_setup(port, 0, 64, SOCKET_ID_ANY, NULL),
		 0);
	CHECK_EQ(rte_eth_dev_start(port), 0);
	e->port_id = port;
	e->ntxq = 1;
	e->mtu = 1500;
	e->tso = true;
	atomic_store(&e->link, DP_LINK_UP);
	struct rte_mbuf *m[3] = {
		gso_packet(mp, 160, 8),   /* 20 segments of 8 bytes */
		gso_packet(mp, 160, 100), /* 2 segments */
		gso_packet(mp, 160, 200), /* one: a plain frame */
	};
	dp_deliver_eth(&owner, e, m, 3, NULL);
	dp_eth_counters(e, c);
	printf("tx_packets %lu, tx_drop_bad_gso %lu\n",
	       (unsigned long)c[DP_E_TX_PACKETS],
	       (unsigned long)c[DP_E_TX_DROP_GSO]);
	CHECK_EQ(c[DP_E_TX_PACKETS], 2);
	CHECK_EQ(c[DP_E_TX_DROP_GSO], 1);
	CHECK_EQ(c[DP_E_TX_BYTES], 2 * (54 + 160));
	rte_eth_dev_stop(port);
	free(e);
	rte_eal_cleanup();
}

/*
 * A frame of `plen` bytes of L4 payload, IPv4 (v6 false) or IPv6, TCP
 * (6) or UDP (17), whose checksum field holds the pseudo-header's sum
 * as the kernel leaves it for the device (partial true), or the whole
 * checksum.
 */
static struct rte_mbuf *
l4_frame(bool v6, uint8_t proto, unsigned plen, bool partial)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool[0]);
	unsigned l3 = 14, ihl = v6 ? 40 : 20, hl = proto == 6 ? 20 : 8;
	unsigned l4 = l3 + ihl, tl = hl + plen, at = l4 + (proto == 6 ? 16 : 6);
	uint8_t *f;

	CHECK(m != NULL);
	f = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(l4 + tl));
	CHECK(f != NULL);
	memset(f, 0, l4 + tl);
	f[0] = 0x02;
	f[12] = v6 ? 0x86 : 0x08;
	f[13] = v6 ? 0xdd : 0x00;
	if (v6) {
		f[l3] = 0x60;
		f[l3 + 4] = (uint8_t)(tl >> 8);
		f[l3 + 5] = (uint8_t)tl;
		f[l3 + 6] = proto;
		f[l3 + 7] = 64;
		f[l3 + 8] = 0xfd;
		f[l3 + 23] = 1;
		f[l3 + 24] = 0xfd;
		f[l3 + 39] = 2;
	} else {
		f[l3] = 0x45;
		f[l3 + 2] = (uint8_t)((ihl + tl) >> 8);
		f[l3 + 3] = (uint8_t)(ihl + tl);
		f[l3 + 8] = 64;
		f[l3 + 9] = proto;
		memcpy(f + l3 + 12, "\xc0\x00\x02\x0a\xc6\x33\x64\x16", 8);
	}
	if (proto == 6)
		f[l4 + 12] = 0x50;
	else
		f[l4 + 5] = (uint8_t)tl;
	f[l4 + 1] = 80;
	for (unsigned i = 0; i < plen; i++)
		f[l4 + hl + i] = (uint8_t)(i * 13 + 5);
	/* The pseudo-header's sum, then the rest for a whole checksum. */
	uint32_t sum = proto + tl;
	const uint8_t *a = v6 ? f + l3 + 8 : f + l3 + 12;
	for (unsigned i = 0; i < (v6 ? 32u : 8u); i += 2)
		sum += (uint32_t)(a[i] << 8 | a[i + 1]);
	if (!partial)
		for (unsigned i = 0; i < tl; i += 2)
			sum += (uint32_t)(f[l4 + i] << 8 |
					  (i + 1 < tl ? f[l4 + i + 1] : 0));
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	if (!partial)
		sum = ~sum & 0xffff;
	f[at] = (uint8_t)(sum >> 8);
	f[at + 1] = (uint8_t)sum;
	return m;
}

/* Whether m's TCP/UDP checksum is right: the pseudo-header and the
 * whole segment, its checksum field included, sum to 0xffff. */
static bool
l4_ok(struct rte_mbuf *m, bool v6)
{
	const uint8_t *ip = rte_pktmbuf_mtod_offset(m, const uint8_t *, 14);
	const uint8_t *l4 = ip + (v6 ? 40 : 20);
	const uint8_t *a = v6 ? ip + 8 : ip + 12;
	unsigned tl = v6 ? (unsigned)(ip[4] << 8 | ip[5])
			 : (unsigned)(ip[2] << 8 | ip[3]) - 20;
	uint32_t sum = (v6 ? ip[6] : ip[9]) + tl;

	for (unsigned i = 0; i < (v6 ? 32u : 8u); i += 2)
		sum += (uint32_t)(a[i] << 8 | a[i + 1]);
	for (unsigned i = 0; i < tl; i += 2)
		sum += (uint32_t)(l4[i] << 8 | (i + 1 < tl ? l4[i + 1] : 0));
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

/*
 * A packet socket hands over what the kernel sends (or received from a
 * device that offloads checksums) with the TCP/UDP checksum unfinished:
 * such frames are found and flagged, and finished where they leave;
 * frames with whole checksums, and fragments, are left as they are; a
 * GSO packet the socket cut is found, to be dropped.
 * (Before: an af_packet uplink passed them on as they were, and a guest
 * in a driver domain could not open a TCP connection to dom0.)
 */
TEST(unfinished_checksums_found_and_finished)
{
	eal_up();
	for (unsigned k = 0; k < 8; k++) {
		bool v6 = k & 1, partial = k & 4;
		uint8_t proto = k & 2 ? 17 : 6;
		struct rte_mbuf *m = l4_frame(v6, proto, 31 + k, partial);

		CHECK_EQ(l4_ok(m, v6), !partial);
		if (dp_eth_rx_partial(m) != partial)
			FAIL("%s %s %s: taken for %s", v6 ? "IPv6" : "IPv4",
			     proto == 6 ? "TCP" : "UDP",
			     partial ? "unfinished" : "whole",
			     partial ? "whole" : "unfinished");
		if (partial) {
			CHECK_EQ(m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK,
				 RTE_MBUF_F_RX_L4_CKSUM_NONE);
			dp_csum_complete(m);
			CHECK(l4_ok(m, v6));
		}
		rte_pktmbuf_free(m);
	}
	/* A fragment's field is not to be touched. */
	struct rte_mbuf *m = l4_frame(false, 17, 40, true);
	uint8_t *ip = rte_pktmbuf_mtod_offset(m, uint8_t *, 14);
	ip[6] = 0x20; /* more fragments */
	CHECK_EQ(dp_eth_rx_partial(m), 0);
	rte_pktmbuf_free(m);
	/* A GSO packet the socket cut to one frame: its IP length runs
	 * past what came, IPv4 or IPv6: to be dropped. */
	for (unsigned v6 = 0; v6 < 2; v6++) {
		m = l4_frame(v6, 6, 40, true);
		ip = rte_pktmbuf_mtod_offset(m, uint8_t *, 14);
		ip[v6 ? 4 : 2] = 0xfc; /* 64 KiB and more */
		CHECK_EQ(dp_eth_rx_partial(m), -1);
		rte_pktmbuf_free(m);
	}
	rte_eal_cleanup();
}

/* ---- static grants (ADD/DEL_GREF_MAPPING) ---- */

/*
 * A worker looks a gref up for every slot of every packet of a vif with
 * static grants, beside the other vifs it runs: how long that takes must
 * not be the guest's to choose. A lookup looks at no more slots than
 * this, whatever was added and deleted before.
 */
#define GREF_PROBES_OK 128u

static int
gref_add(struct dp_gref_table *t, uint32_t gref)
{
	int s = dp_gref_place(t, gref);

	if (s >= 0)
		dp_gref_fill(t, (unsigned)s, gref, false,
			     (void *)(uintptr_t)((gref + 1) * 4096ull));
	return s < 0 ? s : 0;
}

static unsigned
gref_probes_max(const struct dp_gref_table *t, uint32_t from, uint32_t n)
{
	unsigned m = 0;

	for (uint32_t g = from; g < from + n; g++) {
		unsigned p = dp_gref_probes(t, g);

		m = p > m ? p : m;
	}
	return m;
}

/* Rounds of a full table added and deleted (every grant a guest may
 * hand, then taken back): the slots they used must not slow lookups. */
TEST(gref_lookups_bounded_after_add_del_rounds)
{
	struct dp_gref_table *t = calloc(1, sizeof(*t));
	unsigned miss, hit;

	CHECK(t != NULL);
	for (uint32_t r = 0; r < 8; r++) {
		for (uint32_t i = 0; i < CTRL_GREF_MAX; i++)
			CHECK_EQ(gref_add(t, r * 10000 + i), 0);
		for (uint32_t i = 0; i < CTRL_GREF_MAX; i++)
			CHECK(dp_gref_unpublish(t, r * 10000 + i) != NULL);
	}
	for (uint32_t i = 0; i < 16; i++)
		CHECK_EQ(gref_add(t, 900000 + i), 0);
	miss = gref_probes_max(t, 500000, 4096);
	hit = gref_probes_max(t, 900000, 16);
	printf("after 8 rounds: a lookup looks at up to %u slots (miss), "
	       "%u (hit)\n", miss, hit);
	CHECK(miss <= GREF_PROBES_OK);
	CHECK(hit <= GREF_PROBES_OK);
	free(t);
}

/* As control keeps it: copied afresh once worn by deletions, lookups
 * that miss stay short on average too, not only bounded. */
TEST(gref_table_copied_when_worn)
{
	struct dp_gref_table *t = calloc(1, sizeof(*t));
	unsigned copies = 0, sum = 0;

	CHECK(t != NULL);
	dp_gref_init(t, 0x9e3779b9u);
	for (uint32_t r = 0; r < 8; r++) {
		for (uint32_t i = 0; i < CTRL_GREF_MAX; i++)
			CHECK_EQ(gref_add(t, r * 10000 + i), 0);
		for (uint32_t i = 0; i < CTRL_GREF_MAX; i++) {
			CHECK(dp_gref_unpublish(t, r * 10000 + i) != NULL);
			if (i % 256 == 255 && dp_gref_worn(t)) {
				struct dp_gref_table *nt =
				    calloc(1, sizeof(*nt));

				CHECK(nt != NULL);
				dp_gref_init(nt, r * 7919 + i);
				CHECK_EQ(dp_gref_copy(nt, t), 0);
				CHECK_EQ(nt->n, t->n);
				free(t);
				t = nt;
				copies++;
			}
		}
	}
	/* Full again, the misses measured among live entries. */
	for (uint32_t i = 0; i < CTRL_GREF_MAX; i++)
		CHECK_EQ(gref_add(t, 700000 + i * 13), 0);
	for (uint32_t g = 500000; g < 500000 + 4096; g++)
		sum += dp_gref_probes(t, g);
	printf("%u copies; a lookup that misses looks at %.2f slots on "
	       "average\n", copies, sum / 4096.0);
	CHECK(copies > 0);
	CHECK(sum <= 4 * 4096);
	free(t);
}

/* Any set of grefs an honest frontend hands (here: random ones, up to
 * the limit, with tombstones up to the copy threshold) fits. */
TEST(gref_random_full_sets_fit)
{
	struct dp_gref_table *t = malloc(sizeof(*t));
	uint64_t x = 88172645463325252ull;
	unsigned worst = 0;

	CHECK(t != NULL);
	for (unsigned seed = 0; seed < 200; seed++) {
		uint32_t g[CTRL_GREF_MAX + DP_GREF_SLOTS / 16];

		memset(t, 0, sizeof(*t));
		dp_gref_init(t, seed * 2654435761u);
		for (unsigned i = 0; i < sizeof(g) / sizeof(g[0]); i++) {
			int r;

			do { /* (a gref drawn twice: another) */
				x ^= x << 13, x ^= x >> 7, x ^= x << 17;
				g[i] = (uint32_t)(x % 0x7fffffffu);
			} while ((r = gref_add(t, g[i])) == -EEXIST);
			CHECK_EQ(r, 0);
		}
		/* Tombstones as many as dp_gref_worn() lets stay. */
		for (unsigned i = 0; i < DP_GREF_SLOTS / 16; i++)
			CHECK(dp_gref_unpublish(t, g[i]) != NULL);
		CHECK(!dp_gref_worn(t));
		for (unsigned i = DP_GREF_SLOTS / 16;
		     i < sizeof(g) / sizeof(g[0]); i++) {
			unsigned p = dp_gref_probes(t, g[i]);

			worst = p > worst ? p : worst;
		}
	}
	printf("200 random full tables: an entry at most %u slots from "
	       "home\n", worst);
	CHECK(worst <= DP_GREF_PROBE_MAX);
	free(t);
}

/* Grefs chosen to share a slot: what the table takes of them is found
 * in as few probes, and what it cannot take is refused, not slow. */
TEST(gref_lookups_bounded_for_colliding_grefs)
{
	struct dp_gref_table *t = calloc(1, sizeof(*t));
	unsigned added = 0, m = 0;

	CHECK(t != NULL);
	/* dp_gref_slot() of today: the low 12 bits pick the slot. */
	for (uint32_t i = 1; i <= CTRL_GREF_MAX; i++)
		added += gref_add(t, i * DP_GREF_SLOTS) == 0;
	for (uint32_t i = 1; i <= CTRL_GREF_MAX + 64; i++) {
		unsigned p = dp_gref_probes(t, i * DP_GREF_SLOTS);

		m = p > m ? p : m;
	}
	printf("%u colliding grefs added; a lookup looks at up to %u "
	       "slots\n", added, m);
	CHECK(m <= GREF_PROBES_OK);
	free(t);
}

/* The owner takes what waits in its xfer ring, as drain_xfer() does. */
static unsigned
owner_drain(void)
{
	struct rte_mbuf *m;
	unsigned n = 0;

	while (rte_ring_sc_dequeue(owner.xfer, (void **)&m) == 0) {
		dp_xfer_got(*dp_mbuf_dest(m), m->nb_segs);
		dp_backlog_put(&queue, &m, 1, 0);
		n++;
	}
	return n;
}

/*
 * A queue's mbuf quota holds what waits in its backlog and what other
 * workers put in flight to it together: nobody draining the xfer ring
 * does not let them pile up more than the quota.
 */
TEST(frames_in_flight_count_against_the_quota)
{
	eal_up();
	vif_up();
	atomic_store(&queue.rx_quota, 64);
	CHECK_EQ(deliver_n(&other, 4), 0);
	CHECK_EQ(rte_ring_count(owner.xfer), 64);
	CHECK_EQ(accounted(), 4 * DP_BURST);
	/* Taken into the backlog: no longer in flight, still held. */
	CHECK_EQ(owner_drain(), 64);
	CHECK_EQ(queue.bl_count, 64);
	CHECK_EQ(queue.bl_mbufs, 64);
	CHECK_EQ(deliver_n(&other, 2), 0);
	CHECK_EQ(rte_ring_count(owner.xfer), 0);
	/* The owner's own frames meet the same quota. */
	CHECK_EQ(deliver_n(&owner, 2), 0);
	CHECK_EQ(queue.bl_count, 64);
	CHECK_EQ(accounted(), 8 * DP_BURST);
	rte_eal_cleanup();
}

/* Bytes bound a backlog too; an empty one takes any one packet. */
TEST(backlog_bounded_in_bytes)
{
	struct rte_mbuf *m[DP_BURST];

	eal_up();
	vif_up();
	dp.rx_queue_bytes = 100;
	CHECK_EQ(rte_pktmbuf_alloc_bulk(pool[0], m, DP_BURST), 0);
	CHECK(rte_pktmbuf_append(m[0], 120) != NULL);
	for (unsigned k = 1; k < DP_BURST; k++)
		rte_pktmbuf_append(m[k], 60);
	dp_deliver_vif(&owner, &vif, m, DP_BURST);
	/* The 120 bytes alone: the 60-byte frames find it full. */
	CHECK_EQ(queue.bl_count, 1);
	CHECK_EQ(queue.bl_bytes, 120);
	CHECK_EQ(accounted(), DP_BURST);
	rte_eal_cleanup();
}

/*
 * A flooded frame in a chain of mbufs, shared by two guests' backlogs
 * on one worker: each must hold a reference on every segment. Freeing a
 * chain frees each segment whose own count reaches zero, so with a
 * count on the first segment alone, the first guest served freed the
 * rest under the other (seen as a 9000-byte frame arriving with its
 * last 4904 bytes zero).
 */
TEST(flooded_chain_referenced_per_destination)
{
	struct sw_config cfg = { .max_ports = 8, .max_nets = 1,
				 .table_size = 64, .hash_seed = 1 };
	static struct dp_vif v[3];
	static struct dp_queue q[3];
	struct sw_port_conf pc;
	struct rte_mbuf *m, *seg;
	uint8_t *p;
	int net;

	eal_up();
	vif_up();
	dp.sw = sw_create(&cfg);
	CHECK(dp.sw != NULL);
	net = sw_net_add(dp.sw, "t", 0);
	CHECK(net >= 0);
	for (unsigned i = 0; i < 3; i++) {
		sw_port_conf_init(&pc, net, false);
		pc.mac[0] = 0x02;
		pc.mac[5] = (uint8_t)(i + 1);
		v[i].sw_port = sw_port_add(dp.sw, &pc);
		CHECK(v[i].sw_port >= 0);
		q[i].vif = &v[i];
		q[i].worker = &owner;
		atomic_store(&q[i].rx_quota, 1u << 30);
		v[i].queues = &q[i];
		v[i].nqueues = 1;
		v[i].connected = true;
		atomic_store(&dp.vifs[v[i].sw_port], &v[i]);
	}
	/* 3 segments, to a MAC nobody has: flooded to v[1] and v[2]. */
	m = rte_pktmbuf_alloc(pool[0]);
	CHECK(m != NULL);
	p = (uint8_t *)rte_pktmbuf_append(m, 100);
	CHECK(p != NULL);
	memset(p, 0xab, 100);
	memcpy(p, "\x02\x00\x00\x00\x00\x09", 6);
	memcpy(p + 6, "\x02\x00\x00\x00\x00\x01", 6);
	for (unsigned k = 0; k < 2; k++) {
		seg = rte_pktmbuf_alloc(pool[0]);
		CHECK(seg != NULL);
		CHECK(rte_pktmbuf_append(seg, 100) != NULL);
		CHECK_EQ(rte_pktmbuf_chain(m, seg), 0);
	}
	dp_fwd_from_vif(&owner, &v[0], &m, 1);
	CHECK_EQ(q[1].bl_count, 1);
	CHECK_EQ(q[2].bl_count, 1);
	CHECK(q[1].backlog[q[1].bl_head] == q[2].backlog[q[2].bl_head]);
	for (seg = m; seg; seg = seg->next)
		CHECK_EQ(rte_mbuf_refcnt_read(seg), 2);
	/* The first destination done: the other's frame is whole. */
	dp_backlog_flush(&q[1]);
	unsigned n = 0;
	for (seg = q[2].backlog[q[2].bl_head]; seg; seg = seg->next)
		n++;
	CHECK_EQ(n, 3);
	CHECK_EQ(rte_mbuf_refcnt_read(m->next), 1);
	dp_backlog_flush(&q[2]);
	sw_destroy(dp.sw);
	dp.sw = NULL;
	rte_eal_cleanup();
}

/* The storm rule workers and control rings share (dp_storm_event). */
TEST(storm_held_doubled_and_forgiven)
{
	const struct dp_storm_rule r = { .window = 10, .min = 16,
					 .ratio = 4, .hold_first = 1,
					 .hold_max = 4 };
	struct dp_storm s = { 0 };
	unsigned i;

	/* Events that bring work are no storm, however many. */
	for (i = 0; i < 100; i++)
		CHECK(!dp_storm_event(&s, &r, 0, 1));
	/* A fresh window: the 16th event for nothing is a storm. */
	for (i = 1; i < 16; i++)
		CHECK(!dp_storm_event(&s, &r, 10, 0));
	CHECK(dp_storm_event(&s, &r, 10, 0));
	CHECK(s.held);
	CHECK_EQ(s.until, 11);
	/* Released, on probation: more than 4 events for nothing, held
	 * twice as long, then up to hold_max. */
	dp_storm_release(&s, 11);
	for (i = 0; i < 4; i++)
		CHECK(!dp_storm_event(&s, &r, 11, 0));
	CHECK(dp_storm_event(&s, &r, 11, 0));
	CHECK_EQ(s.hold, 2);
	dp_storm_release(&s, 13);
	for (i = 0; i < 5; i++)
		dp_storm_event(&s, &r, 13, 0);
	dp_storm_release(&s, 17);
	for (i = 0; i < 5; i++)
		dp_storm_event(&s, &r, 17, 0);
	CHECK_EQ(s.hold, 4);
	/* A calm window forgives: next time it takes min events again. */
	dp_storm_release(&s, 21);
	CHECK(!dp_storm_event(&s, &r, 40, 0));
	for (i = 1; i < 15; i++)
		CHECK(!dp_storm_event(&s, &r, 40, 0));
	CHECK(dp_storm_event(&s, &r, 40, 0));
	CHECK_EQ(s.hold, 1);
}

TESTS_MAIN()
