/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Fuzz the static-grant table (dp/ctrl_read.c) the way a guest's control
 * ring drives it: the input is a table seed and then a list of
 * operations, each a request's worth of adds or deletes of grefs the
 * input chooses (clustered or spread, to aim at one home slot), followed
 * by the commit control does after every request (a fresh copy once the
 * table is worn). Against a model of what was added and not deleted:
 * every add answers -EEXIST, -ENOSPC or a slot; every live gref is found
 * with its address and read-only flag; no lookup of any gref looks at
 * more than DP_GREF_PROBE_MAX slots; the entry count matches; and the
 * table is copied afresh before its tombstones pass what dp_gref_worn
 * allows.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dp_priv.h"

#define MODEL (1u << 16)

static struct dp_gref_table tables[2];
static struct dp_vif vif;
static uint8_t live[MODEL], ro[MODEL];
static unsigned nlive;

/* Where the model's gref k is mapped: any distinct non-NULL address. */
static void *
addr_of(uint32_t k)
{
	return (char *)0x10000 + (uintptr_t)k * 4096;
}

/* The gref a guest names for model index k: k itself, or k spread over
 * the gref space (high bits set) to collide in ways small numbers do
 * not. The mapping is one to one, so the model stays exact. */
static uint32_t
gref_of(uint32_t k)
{
	return (k & 0x8000)
		   ? ((k & 0x7fff) * 0x9e37u & 0x7fffffu) << 8 | 0x80000000u
		   : k;
}

static void
check_one(const struct dp_gref_table *t, uint32_t k)
{
	uint32_t g = gref_of(k);
	void *a = dp_vif_gref_addr(&vif, g, false);
	void *w = dp_vif_gref_addr(&vif, g, true);

	if (dp_gref_probes(t, g) > DP_GREF_PROBE_MAX)
		abort();
	if (live[k]) {
		if (a != addr_of(k) || w != (ro[k] ? NULL : addr_of(k)))
			abort();
	} else if (a || w) {
		abort();
	}
}

static void
check_all(const struct dp_gref_table *t)
{
	if (t->n != nlive)
		abort();
	for (uint32_t k = 0; k < MODEL; k++)
		if (live[k])
			check_one(t, k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned cur = 0;
	bool copy_failed = false;
	struct dp_gref_table *t;

	if (size < 4)
		return 0;
	memset(tables, 0, sizeof(tables));
	memset(live, 0, sizeof(live));
	nlive = 0;
	t = &tables[cur];
	dp_gref_init(t, (uint32_t)data[0] | (uint32_t)data[1] << 8 |
			    (uint32_t)data[2] << 16 |
			    (uint32_t)data[3] << 24);
	atomic_store(&vif.grefs, t);
	data += 4;
	size -= 4;
	/*
	 * An operation: a byte (bit 0: delete, else add; bit 1: read-only;
	 * bits 2-7: the count less one), then a 16-bit model index and a
	 * 16-bit stride: count grefs from the index by the stride, as one
	 * control request.
	 */
	while (size >= 5) {
		bool del = data[0] & 1, rdonly = data[0] & 2;
		unsigned count = (data[0] >> 2) + 1u;
		uint32_t k = (uint32_t)data[1] | (uint32_t)data[2] << 8;
		uint32_t stride = (uint32_t)data[3] | (uint32_t)data[4] << 8;

		data += 5;
		size -= 5;
		for (unsigned i = 0; i < count;
		     i++, k = (k + stride) & (MODEL - 1)) {
			uint32_t g = gref_of(k);

			if (del) {
				void *a = dp_gref_unpublish(t, g);

				if (a != (live[k] ? addr_of(k) : NULL))
					abort();
				if (live[k]) {
					live[k] = 0;
					nlive--;
				}
			} else if (nlive < CTRL_GREF_MAX) {
				/* Control refuses a guest more than
				 * CTRL_GREF_MAX live grants before it
				 * asks the table. */
				int s = dp_gref_place(t, g);

				if (s == -EEXIST) {
					if (!live[k])
						abort();
				} else if (s == -ENOSPC) {
					if (live[k])
						abort();
				} else if (s < 0 ||
					   s >= (int)DP_GREF_SLOTS || live[k]) {
					abort();
				} else {
					dp_gref_fill(t, (unsigned)s, g, rdonly,
						     addr_of(k));
					live[k] = 1;
					ro[k] = rdonly;
					nlive++;
				}
			}
			check_one(t, k);
		}
		/* The commit after the request: a fresh table once worn,
		 * hashing with a seed of its own. */
		if (dp_gref_worn(t)) {
			struct dp_gref_table *nt = &tables[!cur];

			memset(nt, 0, sizeof(*nt));
			dp_gref_init(nt, t->seed * 2654435761u + 1);
			if (dp_gref_copy(nt, t) == 0) {
				cur = !cur;
				t = nt;
				atomic_store(&vif.grefs, t);
				if (t->gone != 0)
					abort();
				check_all(t);
			} else {
				copy_failed = true;
			}
		}
		/* Tombstones stay few (lookups and adds stay short) unless
		 * a copy found no room, which only chosen collisions do. */
		if (t->gone > DP_GREF_SLOTS / 8 && !copy_failed)
			abort();
	}
	check_all(t);
	return 0;
}
