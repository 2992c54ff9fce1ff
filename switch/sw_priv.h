/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * switch/ internals shared by sw.c (configuration, flood lists), fdb.c
 * (the MAC table, control side), fwd.c (the data path) and parse.c.
 */
#ifndef NETBACKD_SW_PRIV_H
#define NETBACKD_SW_PRIV_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "sw.h"

/* Memory orders, spelled short: the data path uses little else. */
#define MO_RLX memory_order_relaxed
#define MO_ACQ memory_order_acquire
#define MO_REL memory_order_release

/*
 * Table key: the MAC as a 48-bit big-endian number in bits 0-47, the
 * VLAN in bits 48-59, and bit 63 set on every live key so that a key is
 * never one of the markers: EMPTY ends a probe, TOMB (removed) and BUSY
 * (being filled) are stepped over by lookups.
 */
#define K_MAC_BITS 48
#define K_VLAN_BITS 12
#define K_LIVE (1ull << 63)
#define K_TOMB (1ull << 62)
#define K_BUSY (1ull << 61)
#define K_EMPTY 0ull
_Static_assert(K_MAC_BITS + K_VLAN_BITS <= 61,
	       "key packing: MAC and VLAN must stay below the marker bits");
_Static_assert((1u << K_VLAN_BITS) > SW_VLAN_MAX, "VLAN fits its field");

/*
 * Entry value: the port, STATIC, DYING (being removed: lookups miss it,
 * moves fail) and a generation bumped each time the slot is filled, so
 * that a compare-and-swap prepared against an earlier occupant of the
 * slot fails.
 */
#define V_PORT 0xffffu
#define V_STATIC (1u << 16)
#define V_DYING (1u << 17)
#define V_GEN_SHIFT 18
#define V_GEN_ONE (1u << V_GEN_SHIFT)

/* Slots a key may sit away from its bucket: 4 cache lines of entries. */
#define FDB_PROBE 16u
#define FDB_MIN_SLOTS 64u
#define FDB_MAX_SLOTS (1u << 24)
#define DEFAULT_AGING_MS 300000ull
/* Stamps count 1.024 s units: now_ms >> STAMP_SHIFT. */
#define STAMP_SHIFT 10

struct entry {
	_Atomic uint64_t key;
	_Atomic uint32_t val;
	_Atomic uint32_t stamp; /* last seen, for aging */
};
_Static_assert(sizeof(struct entry) == 16, "four entries per cache line");

/*
 * A port's identity as workers see it, in one word so that one load
 * gives a consistent view: state, VLAN mode, network, access or native
 * VLAN.
 */
#define PW_FREE 0u
#define PW_LIVE 1u
#define PW_DEAD 2u /* deleted, id held until sw_reclaim() */
#define PW_STATE 3ull
#define PW_TRUNK (1ull << 2)
#define PW_ALL (1ull << 3)
#define PW_NET_SHIFT 16
#define PW_VID_SHIFT 32

static inline unsigned
pw_state(uint64_t w)
{
	return (unsigned)(w & PW_STATE);
}

static inline unsigned
pw_net(uint64_t w)
{
	return (unsigned)(w >> PW_NET_SHIFT) & 0xffffu;
}

/* Access VLAN, or a trunk's native VLAN (SW_VLAN_NONE: none). */
static inline uint16_t
pw_vid(uint64_t w)
{
	return (uint16_t)(w >> PW_VID_SHIFT);
}

struct port {
	/* Read by every worker sending to the port. */
	_Atomic uint64_t word;
	_Atomic bool antispoof;
	_Atomic bool ra_guard;
	_Atomic bool mc_on;
	_Atomic unsigned mc_hi; /* mc[] slots in use are below this */
	_Atomic unsigned learned;
	unsigned learn_limit;
	bool uplink;
	uint8_t mac[6];
	unsigned nip4, nip6;
	uint8_t ip4[SW_MAX_IPS][4];
	uint8_t ip6[SW_MAX_IPS][16];
	uint8_t lla[16]; /* fe80::/64 with the MAC's EUI-64 */
	uint64_t vmap[SW_VLAN_WORDS]; /* trunk VLANs, native included */
	_Atomic uint64_t mc[SW_MAX_MCAST]; /* groups (MAC keys), 0: free */
	/*
	 * Counters: written by the one worker receiving on the port (no
	 * read-modify-write instruction needed), but TX by any worker
	 * (atomic add), and read by the control thread.
	 */
	_Alignas(64) _Atomic uint64_t c[SW_C_COUNT];
};

/*
 * A network's flood lists, rebuilt by configuration and replaced as a
 * whole: list[vlan] indexes off[], whose entries [off[l], off[l+1]) of
 * ent[] are the ports carrying the VLAN. VLANs of the same members share
 * a list; the tag is a flag because a port sends a VLAN either untagged
 * or tagged with that very VLAN.
 */
struct plan_ent {
	uint16_t port;
	uint16_t untagged;
};

/* 0: the VLANs nobody names, most of them, are set with one memset. */
#define PLAN_DEFAULT 0u /* only the trunks of every VLAN carry it */
#define PLAN_EMPTY 1u   /* nobody carries the VLAN */

struct plan {
	struct plan *next; /* retired list */
	unsigned nlists;
	uint32_t *off;
	struct plan_ent *ent;
	uint16_t list[SW_VLAN_MAX + 1];
};

struct net {
	/* Read by workers. */
	struct entry *table;
	_Atomic(struct plan *) plan;
	_Atomic unsigned learn_limit;
	/* Written by workers when they learn. */
	_Alignas(64) _Atomic unsigned learned;
	/* Control only. */
	_Alignas(64) bool used;
	char name[SW_NAME_MAX];
	uint64_t aging_ms;
	int uplink;
	unsigned nports; /* live and dead */
	/*
	 * The published flood lists may name deleted ports: a rebuild
	 * failed. Their ids stay held until one succeeds and a grace
	 * period has passed, so that no list leads to a port reusing one.
	 */
	bool plan_stale;
	uint64_t gone[SW_C_COUNT]; /* counters of reclaimed ports */
};

struct sw {
	unsigned max_ports, max_nets, table_size;
	uint32_t mask;   /* slots - 1 */
	unsigned shift;  /* 64 - log2(slots) */
	uint64_t seed;
	struct net *nets;
	struct port *ports;
	struct plan *retired;
};

/* The MAC at m as a key in vlan. */
static inline uint64_t
mac_key(const uint8_t *m, uint16_t vlan)
{
	return (uint64_t)m[0] << 40 | (uint64_t)m[1] << 32 |
	       (uint64_t)m[2] << 24 | (uint64_t)m[3] << 16 |
	       (uint64_t)m[4] << 8 | (uint64_t)m[5] |
	       (uint64_t)(vlan & 0xfffu) << K_MAC_BITS | K_LIVE;
}

/*
 * 8 bytes of frame data at m as a big-endian number, in one load: at
 * the frame's start, the destination MAC in bits 16-63; 6 bytes on, the
 * source MAC in bits 16-63 and the ethertype in bits 0-15.
 */
static inline uint64_t
frame_be64(const uint8_t *m)
{
	uint64_t v;

	memcpy(&v, m, sizeof(v));
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

static inline void
key_mac(uint64_t k, uint8_t m[6])
{
	for (int i = 0; i < 6; i++)
		m[i] = (uint8_t)(k >> (40 - 8 * i));
}

static inline uint16_t
key_vlan(uint64_t k)
{
	return (uint16_t)((k >> K_MAC_BITS) & 0xfffu);
}

/* Multiplicative hashing: the high bits of the product mix all keys. */
static inline uint32_t
fdb_home(const struct sw *sw, uint64_t k)
{
	return (uint32_t)(((k ^ sw->seed) * 0x9e3779b97f4a7c15ull) >>
			  sw->shift);
}

/*
 * The live entry for k and its value, or NULL. The key is read again
 * after the value: if the slot was emptied or refilled meanwhile, or
 * is being removed, that is a miss.
 */
static inline struct entry *
fdb_find(const struct sw *sw, const struct net *n, uint64_t k, uint32_t home,
	 uint32_t *valp)
{
	uint32_t i = home;

	for (unsigned p = 0; p < FDB_PROBE; p++, i = (i + 1) & sw->mask) {
		struct entry *e = &n->table[i];
		uint64_t ek = atomic_load_explicit(&e->key, MO_ACQ);

		if (ek == k) {
			uint32_t v = atomic_load_explicit(&e->val, MO_ACQ);

			if ((v & V_DYING) ||
			    atomic_load_explicit(&e->key, MO_RLX) != k)
				return NULL;
			*valp = v;
			return e;
		}
		if (ek == K_EMPTY)
			return NULL;
	}
	return NULL;
}

/*
 * Walk k's probe window: the live entry for k (value in *valp, perhaps
 * DYING), or NULL and in *freep the first slot a new entry may take
 * (removed or empty), with the marker it holds in *freek; *freep is
 * NULL when the window is full, or when k's slot changed under us.
 */
static inline struct entry *
fdb_probe(const struct sw *sw, const struct net *n, uint64_t k,
	  uint32_t home, uint32_t *valp, struct entry **freep,
	  uint64_t *freek)
{
	uint32_t i = home;

	*freep = NULL;
	for (unsigned p = 0; p < FDB_PROBE; p++, i = (i + 1) & sw->mask) {
		struct entry *e = &n->table[i];
		uint64_t ek = atomic_load_explicit(&e->key, MO_ACQ);

		if (ek == k) {
			*valp = atomic_load_explicit(&e->val, MO_ACQ);
			if (atomic_load_explicit(&e->key, MO_RLX) != k) {
				*freep = NULL;
				return NULL;
			}
			return e;
		}
		if (ek == K_EMPTY) {
			if (!*freep) {
				*freep = e;
				*freek = K_EMPTY;
			}
			return NULL;
		}
		if (ek == K_TOMB && !*freep) {
			*freep = e;
			*freek = K_TOMB;
		}
	}
	return NULL;
}

/*
 * Take the free slot e (holding marker ek) for k: a CAS to BUSY so that
 * two learners do not both fill it, then the value and stamp, then the
 * key, released, which makes the entry visible. False when another
 * thread took the slot first.
 */
static inline bool
fdb_fill(struct entry *e, uint64_t ek, uint64_t k, uint32_t vflags,
	 uint32_t stamp)
{
	uint32_t gen;

	if (!atomic_compare_exchange_strong_explicit(&e->key, &ek, K_BUSY,
						     MO_ACQ, MO_RLX))
		return false;
	gen = (atomic_load_explicit(&e->val, MO_RLX) & ~(V_GEN_ONE - 1)) +
	      V_GEN_ONE;
	atomic_store_explicit(&e->val, gen | vflags, MO_RLX);
	atomic_store_explicit(&e->stamp, stamp, MO_RLX);
	atomic_store_explicit(&e->key, k, MO_REL);
	return true;
}

/* Decrement a count that races may have left at 0. */
static inline void
count_dec(_Atomic unsigned *c)
{
	unsigned v = atomic_load_explicit(c, MO_RLX);

	while (v && !atomic_compare_exchange_weak_explicit(c, &v, v - 1,
							   MO_RLX, MO_RLX))
		;
}

/* Does the port (word w) carry vlan, and does it send it untagged? */
static inline bool
port_carries(const struct port *p, uint64_t w, uint16_t vlan)
{
	if (!(w & PW_TRUNK))
		return pw_vid(w) == vlan;
	if (pw_vid(w) == vlan)
		return true;
	if (vlan == 0 || vlan > SW_VLAN_MAX)
		return false;
	return (w & PW_ALL) || ((p->vmap[vlan >> 6] >> (vlan & 63)) & 1);
}

static inline bool
port_untagged(uint64_t w, uint16_t vlan)
{
	return !(w & PW_TRUNK) || pw_vid(w) == vlan;
}

/* Counter increments by the port's own worker: no locked instruction. */
static inline void
ctr_add(_Atomic uint64_t *c, uint64_t v)
{
	atomic_store_explicit(c, atomic_load_explicit(c, MO_RLX) + v,
			      MO_RLX);
}

/*
 * Every allocation of switch/ goes through these, so that a test can
 * make any of them fail: when sw_alloc_fail is set and returns true,
 * the allocation fails as if memory had run out. NULL outside tests;
 * configuration only (the data path allocates nothing).
 */
extern bool (*sw_alloc_fail)(void);

static inline void *
sw_malloc(size_t n)
{
	return sw_alloc_fail && sw_alloc_fail() ? NULL : malloc(n);
}

static inline void *
sw_calloc(size_t k, size_t n)
{
	return sw_alloc_fail && sw_alloc_fail() ? NULL : calloc(k, n);
}

static inline void *
sw_realloc(void *p, size_t n)
{
	return sw_alloc_fail && sw_alloc_fail() ? NULL : realloc(p, n);
}

static inline void *
sw_aligned_alloc(size_t align, size_t n)
{
	return sw_alloc_fail && sw_alloc_fail() ? NULL
						: aligned_alloc(align, n);
}

/* fdb.c: the table, control side. */
bool fdb_kill(struct sw *sw, struct net *n, struct entry *e, uint32_t v);
void fdb_flush(struct sw *sw, struct net *n, int port, bool statics);
unsigned fdb_age(struct sw *sw, struct net *n, uint64_t now_ms);

/* sw.c */
struct net *net_get(const struct sw *sw, int net);
struct port *port_live(const struct sw *sw, int port);

#endif
