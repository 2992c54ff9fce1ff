/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What a vif's control ring configured, as workers read it: the RX hash
 * (published under a sequence count by ctl/ctrl_ring.c) and the static
 * grants (an open-addressing table, entries written address first and
 * gref last, unmapped only a grace period after they were unpublished).
 */
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

void *
dp_vif_gref_addr(const struct dp_vif *v, uint32_t gref, bool write)
{
	const struct dp_gref_table *t =
	    atomic_load_explicit(&v->grefs, memory_order_acquire);

	if (!t)
		return NULL; /* unpublished since the caller looked */
	for (unsigned i = 0, s = dp_gref_slot(gref); i < DP_GREF_SLOTS;
	     i++, s = (s + 1) & (DP_GREF_SLOTS - 1)) {
		uint32_t g = atomic_load_explicit(&t->e[s].gref,
						  memory_order_acquire);

		if (g == DP_GREF_FREE)
			return NULL;
		if (g == gref + 1) {
			if (write && atomic_load_explicit(&t->e[s].ro,
							  memory_order_relaxed))
				return NULL; /* a grant copy then fails */
			return atomic_load_explicit(&t->e[s].addr,
						    memory_order_relaxed);
		}
	}
	return NULL;
}
