/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The data path (backend/dp) alone, under DPDK's EAL but without a
 * hypervisor: delivery to a guest queue by two threads that play two
 * workers handing one queue frames at once, as the switch does when
 * guests on both send to one vif.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include <rte_eal.h>
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

static void
eal_up(void)
{
	/* No hugepages, devices or shared files: a test among others;
	 * one lcore, on a CPU we may use. */
	char *argv[] = { "test-worker", "--no-huge", "-m", "64", "--no-pci",
			 "--no-shconf", "--no-telemetry", "--lcores", NULL,
			 "--log-level", "lib.*:error", NULL };
	char lcores[32];
	cpu_set_t set;
	int cpu = 0;

	CHECK_EQ(sched_getaffinity(0, sizeof(set), &set), 0);
	while (!CPU_ISSET(cpu, &set))
		cpu++;
	snprintf(lcores, sizeof(lcores), "0@%d", cpu);
	argv[8] = lcores;
	CHECK(rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])) - 1,
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
	owner.wakefd = other.wakefd = -1;
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

TESTS_MAIN()
