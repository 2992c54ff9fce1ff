/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What a vif's control ring configured, as workers read it: the RX hash
 * (published under a sequence count by ctl/ctrl_ring.c) and the static
 * grants (an open-addressing table, entries written address first and
 * gref last, unmapped only a grace period after they were unpublished).
 */
#include <errno.h>
#include <string.h>

#include <rte_common.h>

#include "dp_priv.h"

bool
dp_vif_rx_hash(const struct dp_vif *v, const uint8_t *frame, unsigned len,
	       uint32_t *hash, uint8_t *type, unsigned *queue)
{
	const struct dp_hash_pub *p = &v->hash_pub;
	struct ctrl_hash h;
	uint32_t s;
	bool ok;

	if (atomic_load_explicit(&p->h_alg, memory_order_relaxed) ==
	    XEN_NETIF_CTRL_HASH_ALGORITHM_NONE)
		return false;
	do {
		s = atomic_load_explicit(&p->seq, memory_order_acquire);
		/* Everything but the mapping, then one mapping entry. */
		memcpy(&h, &p->h, offsetof(struct ctrl_hash, mapping));
		ok = ctrl_hash_frame(&h, frame, len, hash, type);
		if (ok && queue) {
			h.size = RTE_MIN(h.size, CTRL_HASH_MAPPING_MAX);
			if (h.size)
				h.mapping[*hash % h.size] =
				    p->h.mapping[*hash % h.size];
			*queue = ctrl_hash_queue(&h, *hash, v->nqueues);
		}
		atomic_thread_fence(memory_order_acquire);
	} while ((s & 1) ||
		 atomic_load_explicit(&p->seq, memory_order_relaxed) != s);
	return ok;
}

/* The slot holding gref, or -1; *probes: the slots looked at. */
static int
gref_find(const struct dp_gref_table *t, uint32_t gref, unsigned *probes)
{
	unsigned i, s;

	for (i = 0, s = dp_gref_slot(t, gref); i < DP_GREF_PROBE_MAX;
	     i++, s = (s + 1) & (DP_GREF_SLOTS - 1)) {
		uint32_t g = atomic_load_explicit(&t->e[s].gref,
						  memory_order_acquire);

		if (g == DP_GREF_FREE)
			break;
		if (g == gref + 1) {
			*probes = i + 1;
			return (int)s;
		}
	}
	*probes = i + (i < DP_GREF_PROBE_MAX);
	return -1;
}

unsigned
dp_gref_probes(const struct dp_gref_table *t, uint32_t gref)
{
	unsigned probes;

	(void)gref_find(t, gref, &probes);
	return probes;
}

void *
dp_vif_gref_addr(const struct dp_vif *v, uint32_t gref, bool write)
{
	const struct dp_gref_table *t =
	    atomic_load_explicit(&v->grefs, memory_order_acquire);
	unsigned probes;
	int s;

	if (!t)
		return NULL; /* unpublished since the caller looked */
	s = gref_find(t, gref, &probes);
	if (s < 0)
		return NULL;
	if (write && atomic_load_explicit(&t->e[s].ro, memory_order_relaxed))
		return NULL; /* a grant copy then fails */
	return atomic_load_explicit(&t->e[s].addr, memory_order_relaxed);
}

void
dp_gref_init(struct dp_gref_table *t, uint32_t seed)
{
	t->seed = seed;
}

int
dp_gref_place(const struct dp_gref_table *t, uint32_t gref)
{
	int free_at = -1;

	/* Stored as gref + 1: 0 marks a free slot. */
	if (gref >= DP_GREF_GONE - 1)
		return -EINVAL;
	/* Every entry lives within DP_GREF_PROBE_MAX of its home: looking
	 * that far (or to a free slot) finds a duplicate. */
	for (unsigned i = 0, s = dp_gref_slot(t, gref); i < DP_GREF_PROBE_MAX;
	     i++, s = (s + 1) & (DP_GREF_SLOTS - 1)) {
		uint32_t g = atomic_load(&t->e[s].gref);

		if (g == gref + 1)
			return -EEXIST;
		if (g == DP_GREF_GONE && free_at < 0)
			free_at = (int)s;
		if (g == DP_GREF_FREE) {
			if (free_at < 0)
				free_at = (int)s;
			break;
		}
	}
	return free_at < 0 ? -ENOSPC : free_at;
}

void
dp_gref_fill(struct dp_gref_table *t, unsigned slot, uint32_t gref, bool ro,
	     void *addr)
{
	if (atomic_load(&t->e[slot].gref) == DP_GREF_GONE)
		t->gone--;
	atomic_store_explicit(&t->e[slot].addr, addr, memory_order_relaxed);
	atomic_store_explicit(&t->e[slot].ro, ro, memory_order_relaxed);
	atomic_store_explicit(&t->e[slot].gref, gref + 1,
			      memory_order_release);
	atomic_store_explicit(&t->n, t->n + 1, memory_order_relaxed);
}

void *
dp_gref_unpublish(struct dp_gref_table *t, uint32_t gref)
{
	unsigned probes;
	int s = gref_find(t, gref, &probes);

	if (s < 0)
		return NULL;
	/* A tombstone, not a free slot: entries placed past this one stay
	 * reachable (no moving them under a reader). */
	atomic_store_explicit(&t->e[s].gref, DP_GREF_GONE,
			      memory_order_release);
	t->gone++;
	atomic_store_explicit(&t->n, t->n - 1, memory_order_relaxed);
	return atomic_load(&t->e[s].addr);
}

bool
dp_gref_worn(const struct dp_gref_table *t)
{
	/* A full table of live entries is half the slots; a sixteenth
	 * more in tombstones keeps chains well within DP_GREF_PROBE_MAX,
	 * and a copy every 256 deletions is cheap beside their unmaps. */
	return t->gone > DP_GREF_SLOTS / 16;
}

int
dp_gref_copy(struct dp_gref_table *dst, const struct dp_gref_table *src)
{
	for (unsigned s = 0; s < DP_GREF_SLOTS; s++) {
		uint32_t g = atomic_load(&src->e[s].gref);
		int at;

		if (g == DP_GREF_FREE || g == DP_GREF_GONE)
			continue;
		at = dp_gref_place(dst, g - 1);
		if (at < 0)
			return -ENOSPC; /* -EEXIST cannot be: src had it once */
		dp_gref_fill(dst, (unsigned)at, g - 1,
			     atomic_load(&src->e[s].ro),
			     atomic_load(&src->e[s].addr));
	}
	return 0;
}
