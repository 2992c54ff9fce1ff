/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Configuration: the switch, its networks and ports, the flood lists
 * workers read, and what waits for a grace period before it is freed.
 * One thread at a time runs these (the caller serializes them); workers
 * run fwd.c concurrently and see a port only through its word and the
 * flood lists, both replaced whole.
 */
#include <errno.h>
#include <stdlib.h>

#include "sw_priv.h"

bool (*sw_alloc_fail)(void);

static const char *const counter_names[] = {
#define SW_X_NAME(e, s) s,
	SW_COUNTERS(SW_X_NAME)
#undef SW_X_NAME
};
_Static_assert(sizeof(counter_names) / sizeof(counter_names[0]) ==
		   SW_C_COUNT,
	       "one name per counter");

const char *
sw_counter_name(enum sw_counter c)
{
	return (unsigned)c < SW_C_COUNT ? counter_names[c] : "?";
}

bool
sw_counter_is_drop(enum sw_counter c)
{
	return c >= SW_C_DROP_RUNT && c <= SW_C_DROP_PORT_DOWN;
}

struct net *
net_get(const struct sw *sw, int net)
{
	if (!sw || net < 0 || (unsigned)net >= sw->max_nets ||
	    !sw->nets[net].used)
		return NULL;
	return &sw->nets[net];
}

struct port *
port_live(const struct sw *sw, int port)
{
	if (!sw || port < 0 || (unsigned)port >= sw->max_ports ||
	    pw_state(atomic_load_explicit(&sw->ports[port].word, MO_ACQ)) !=
		PW_LIVE)
		return NULL;
	return &sw->ports[port];
}

/* A live or deleted (not yet reclaimed) port. */
static struct port *
port_held(const struct sw *sw, int port)
{
	if (!sw || port < 0 || (unsigned)port >= sw->max_ports ||
	    pw_state(atomic_load_explicit(&sw->ports[port].word, MO_ACQ)) ==
		PW_FREE)
		return NULL;
	return &sw->ports[port];
}

struct sw *
sw_create(const struct sw_config *cfg)
{
	struct sw *sw;
	uint64_t want;
	uint32_t slots = FDB_MIN_SLOTS;
	unsigned order = 6;

	if (!cfg || cfg->max_ports == 0 || cfg->max_ports > SW_MAX_PORTS ||
	    cfg->max_nets == 0 || cfg->max_nets > 0xffffu ||
	    cfg->table_size == 0 || cfg->table_size > FDB_MAX_SLOTS / 2) {
		errno = EINVAL;
		return NULL;
	}
	/* Half full at most: probes stay short. */
	want = 2ull * cfg->table_size;
	while (slots < want) {
		slots <<= 1;
		order++;
	}
	sw = sw_calloc(1, sizeof(*sw));
	if (!sw)
		goto fail;
	sw->max_ports = cfg->max_ports;
	sw->max_nets = cfg->max_nets;
	sw->table_size = cfg->table_size;
	sw->mask = slots - 1;
	sw->shift = 64 - order;
	sw->seed = cfg->hash_seed;
	sw->nets = sw_aligned_alloc(64, cfg->max_nets * sizeof(*sw->nets));
	sw->ports = sw_aligned_alloc(64, cfg->max_ports * sizeof(*sw->ports));
	if (!sw->nets || !sw->ports)
		goto fail_free;
	memset(sw->nets, 0, cfg->max_nets * sizeof(*sw->nets));
	memset(sw->ports, 0, cfg->max_ports * sizeof(*sw->ports));
	return sw;

fail_free:
	free(sw->nets);
	free(sw->ports);
	free(sw);
fail:
	errno = ENOMEM;
	return NULL;
}

static void
plans_free(struct plan *p)
{
	while (p) {
		struct plan *next = p->next;

		free(p);
		p = next;
	}
}

void
sw_destroy(struct sw *sw)
{
	if (!sw)
		return;
	for (unsigned i = 0; i < sw->max_nets; i++) {
		free(sw->nets[i].table);
		plans_free(atomic_load(&sw->nets[i].plan));
	}
	plans_free(sw->retired);
	free(sw->nets);
	free(sw->ports);
	free(sw);
}

int
sw_net_find(const struct sw *sw, const char *name)
{
	if (!sw || !name)
		return -ENOENT;
	for (unsigned i = 0; i < sw->max_nets; i++)
		if (sw->nets[i].used && strcmp(sw->nets[i].name, name) == 0)
			return (int)i;
	return -ENOENT;
}

const char *
sw_net_name(const struct sw *sw, int net)
{
	const struct net *n = net_get(sw, net);

	return n ? n->name : NULL;
}

int
sw_net_add(struct sw *sw, const char *name, uint64_t aging_ms)
{
	size_t len = name ? strlen(name) : 0;
	size_t bytes = ((size_t)sw->mask + 1) * sizeof(struct entry);

	if (len == 0 || len >= SW_NAME_MAX)
		return -EINVAL;
	if (sw_net_find(sw, name) >= 0)
		return -EEXIST;
	for (unsigned i = 0; i < sw->max_nets; i++) {
		struct net *n = &sw->nets[i];

		if (n->used)
			continue;
		memset(n, 0, sizeof(*n));
		/* Cache-line aligned: a bucket's probe starts in one line. */
		n->table = sw_aligned_alloc(64, bytes);
		if (!n->table)
			return -ENOMEM;
		memset(n->table, 0, bytes);
		memcpy(n->name, name, len + 1);
		n->aging_ms = aging_ms ? aging_ms : DEFAULT_AGING_MS;
		atomic_store(&n->learn_limit, sw->table_size);
		n->uplink = -1;
		n->used = true;
		return (int)i;
	}
	return -ENOSPC;
}

static void
plan_retire(struct sw *sw, struct plan *p)
{
	if (!p)
		return;
	p->next = sw->retired;
	sw->retired = p;
}

int
sw_net_del(struct sw *sw, int net)
{
	struct net *n = net_get(sw, net);

	if (!n)
		return -ENOENT;
	if (n->nports)
		return -EBUSY;
	/* No port left, none dead: no worker can be looking at it. */
	plan_retire(sw, atomic_exchange(&n->plan, NULL));
	free(n->table);
	memset(n, 0, sizeof(*n));
	return 0;
}

int
sw_net_set_aging(struct sw *sw, int net, uint64_t aging_ms)
{
	struct net *n = net_get(sw, net);

	if (!n)
		return -ENOENT;
	n->aging_ms = aging_ms ? aging_ms : DEFAULT_AGING_MS;
	return 0;
}

int
sw_net_set_learn_limit(struct sw *sw, int net, unsigned limit)
{
	struct net *n = net_get(sw, net);

	if (!n)
		return -ENOENT;
	if (limit > sw->table_size)
		return -EINVAL;
	atomic_store(&n->learn_limit, limit ? limit : sw->table_size);
	return 0;
}

int
sw_net_flush(struct sw *sw, int net)
{
	struct net *n = net_get(sw, net);

	if (!n)
		return -ENOENT;
	fdb_flush(sw, n, -1, false);
	return 0;
}

/*
 * Flood lists. Build the members of each VLAN some port names (access
 * VLAN, native VLAN, trunk bits); VLANs nobody names are carried by the
 * trunks of every VLAN only (PLAN_DEFAULT), or by nobody (VLAN 0,
 * PLAN_EMPTY). Consecutive VLANs with the same members share a list.
 */
struct plan_build {
	unsigned nent, cap, nlists, lcap;
	struct plan_ent *ent;
	uint32_t *off; /* start of each list; off[nlists] is the end */
};

static int
pb_grow(struct plan_build *b, unsigned more)
{
	if (b->nent + more > b->cap) {
		unsigned cap = b->cap ? b->cap : 64;
		struct plan_ent *ent;

		while (cap < b->nent + more)
			cap *= 2;
		ent = sw_realloc(b->ent, cap * sizeof(*ent));
		if (!ent)
			return -ENOMEM;
		b->ent = ent;
		b->cap = cap;
	}
	if (b->nlists + 2 > b->lcap) {
		unsigned lcap = b->lcap ? b->lcap * 2 : 16;
		uint32_t *off = sw_realloc(b->off, lcap * sizeof(*off));

		if (!off)
			return -ENOMEM;
		b->off = off;
		b->lcap = lcap;
	}
	return 0;
}

/* Close the list being built at off[nlists]; its index, or that of the
 * previous list if both hold the same. */
static unsigned
pb_close(struct plan_build *b, unsigned prev)
{
	uint32_t start = b->off[b->nlists], len = b->nent - start;

	if (prev != PLAN_EMPTY && prev != PLAN_DEFAULT &&
	    b->off[prev + 1] - b->off[prev] == len &&
	    memcmp(&b->ent[b->off[prev]], &b->ent[start],
		   len * sizeof(*b->ent)) == 0) {
		b->nent = start;
		return prev;
	}
	b->off[++b->nlists] = b->nent;
	return b->nlists - 1;
}

static int
plan_rebuild(struct sw *sw, int net)
{
	struct net *n = &sw->nets[net];
	struct plan_build b = { 0 };
	uint64_t named[SW_VLAN_WORDS] = { 0 };
	uint16_t *mem = NULL, list[SW_VLAN_MAX + 1];
	unsigned nmem = 0, prev = PLAN_EMPTY;
	struct plan *p;
	int r = -ENOMEM;

	mem = sw_malloc(sw->max_ports * sizeof(*mem));
	if (!mem)
		goto out;
	for (unsigned i = 0; i < sw->max_ports; i++) {
		struct port *pt = &sw->ports[i];
		uint64_t w = atomic_load(&pt->word);

		if (pw_state(w) != PW_LIVE || pw_net(w) != (unsigned)net)
			continue;
		mem[nmem++] = (uint16_t)i;
		if (pw_vid(w) <= SW_VLAN_MAX)
			named[pw_vid(w) >> 6] |= 1ull << (pw_vid(w) & 63);
		if ((w & PW_TRUNK) && !(w & PW_ALL))
			for (unsigned k = 0; k < SW_VLAN_WORDS; k++)
				named[k] |= pt->vmap[k];
	}
	/* List 0: the trunks of every VLAN. List 1: empty. */
	_Static_assert(PLAN_DEFAULT == 0 && PLAN_EMPTY == 1, "list order");
	if (pb_grow(&b, nmem) < 0)
		goto out;
	b.off[0] = 0;
	for (unsigned i = 0; i < nmem; i++)
		if (atomic_load(&sw->ports[mem[i]].word) & PW_ALL)
			b.ent[b.nent++] = (struct plan_ent){ mem[i], 0 };
	b.off[1] = b.nent;
	b.off[2] = b.nent;
	b.nlists = 2;
	memset(list, 0, sizeof(list));
	list[0] = PLAN_EMPTY;
	/* Only the VLANs some port names, in order. */
	for (unsigned k = 0; k < SW_VLAN_WORDS; k++) {
		for (uint64_t bits = named[k]; bits; bits &= bits - 1) {
			unsigned v = k * 64 + (unsigned)__builtin_ctzll(bits);

			if (v > SW_VLAN_MAX)
				break;
			if (pb_grow(&b, nmem) < 0)
				goto out;
			for (unsigned i = 0; i < nmem; i++) {
				struct port *pt = &sw->ports[mem[i]];
				uint64_t w = atomic_load(&pt->word);

				if (!port_carries(pt, w, (uint16_t)v))
					continue;
				b.ent[b.nent++] = (struct plan_ent){
					mem[i], port_untagged(w, (uint16_t)v)
				};
			}
			prev = list[v] = (uint16_t)pb_close(&b, prev);
		}
	}
	p = sw_malloc(sizeof(*p) + (b.nlists + 1) * sizeof(uint32_t) +
		   (b.nent ? b.nent : 1) * sizeof(struct plan_ent));
	if (!p)
		goto out;
	p->next = NULL;
	p->nlists = b.nlists;
	p->off = (uint32_t *)(p + 1);
	p->ent = (struct plan_ent *)(p->off + b.nlists + 1);
	memcpy(p->off, b.off, (b.nlists + 1) * sizeof(uint32_t));
	if (b.nent)
		memcpy(p->ent, b.ent, b.nent * sizeof(struct plan_ent));
	memcpy(p->list, list, sizeof(list));
	/* Workers may be reading the old lists: they wait for reclaim. */
	plan_retire(sw, atomic_exchange_explicit(&n->plan, p,
						 memory_order_acq_rel));
	n->plan_stale = false;
	r = 0;
out:
	free(b.ent);
	free(b.off);
	free(mem);
	return r;
}

void
sw_port_conf_init(struct sw_port_conf *c, int net, bool uplink)
{
	memset(c, 0, sizeof(*c));
	c->net = net;
	c->uplink = uplink;
	c->antispoof = !uplink;
}

static bool
mac_unicast(const uint8_t *m)
{
	static const uint8_t zero[6];

	return !(m[0] & 1) && memcmp(m, zero, 6) != 0;
}

/* fe80::/64 with the interface id from the MAC (RFC 4291 appendix A). */
static void
eui64_lla(uint8_t ll[16], const uint8_t mac[6])
{
	memset(ll, 0, 16);
	ll[0] = 0xfe;
	ll[1] = 0x80;
	ll[8] = mac[0] ^ 0x02;
	ll[9] = mac[1];
	ll[10] = mac[2];
	ll[11] = 0xff;
	ll[12] = 0xfe;
	ll[13] = mac[3];
	ll[14] = mac[4];
	ll[15] = mac[5];
}

static int
vlan_word(const struct sw_port_conf *c, uint64_t *w, uint64_t vmap[])
{
	const struct sw_vlan_conf *vc = c->vlan_conf;

	memset(vmap, 0, SW_VLAN_WORDS * sizeof(uint64_t));
	if (!vc || !vc->trunk) {
		uint16_t vid = vc ? vc->vid : c->vlan;

		if (vid > SW_VLAN_MAX)
			return -EINVAL;
		*w = (uint64_t)vid << PW_VID_SHIFT;
		return 0;
	}
	if (vc->vid > SW_VLAN_MAX && vc->vid != SW_VLAN_NONE)
		return -EINVAL;
	*w = PW_TRUNK | (uint64_t)vc->vid << PW_VID_SHIFT;
	if (vc->all) {
		*w |= PW_ALL;
		return 0;
	}
	memcpy(vmap, vc->map, SW_VLAN_WORDS * sizeof(uint64_t));
	/* 0 is the untagged network, carried as native only; 4095 is
	 * reserved. */
	vmap[0] &= ~1ull;
	vmap[SW_VLAN_WORDS - 1] &= ~(1ull << 63);
	if (vc->vid >= 1 && vc->vid <= SW_VLAN_MAX)
		vmap[vc->vid >> 6] |= 1ull << (vc->vid & 63);
	return 0;
}

int
sw_port_add(struct sw *sw, const struct sw_port_conf *c)
{
	struct net *n = c ? net_get(sw, c->net) : NULL;
	uint64_t vmap[SW_VLAN_WORDS], w;
	struct port *p = NULL;
	unsigned id;
	int r;

	if (!n || c->nip4 > SW_MAX_IPS || c->nip6 > SW_MAX_IPS ||
	    (c->antispoof && !mac_unicast(c->mac)))
		return -EINVAL;
	r = vlan_word(c, &w, vmap);
	if (r < 0)
		return r;
	if (c->uplink && n->uplink >= 0)
		return -EEXIST;
	for (id = 0; id < sw->max_ports; id++) {
		if (pw_state(atomic_load(&sw->ports[id].word)) == PW_FREE) {
			p = &sw->ports[id];
			break;
		}
	}
	if (!p)
		return -ENOSPC;
	/* Nobody reads a free port: sw_reclaim() waited for them. */
	atomic_store(&p->antispoof, c->antispoof);
	atomic_store(&p->ra_guard, c->ra_guard);
	atomic_store(&p->mc_on, false);
	atomic_store(&p->mc_hi, 0);
	atomic_store(&p->learned, 0);
	for (unsigned i = 0; i < SW_MAX_MCAST; i++)
		atomic_store_explicit(&p->mc[i], 0, MO_RLX);
	for (unsigned i = 0; i < SW_C_COUNT; i++)
		atomic_store_explicit(&p->c[i], 0, MO_RLX);
	p->learn_limit = c->learn_limit;
	p->uplink = c->uplink;
	memcpy(p->mac, c->mac, 6);
	p->nip4 = c->nip4;
	p->nip6 = c->nip6;
	memcpy(p->ip4, c->ip4, sizeof(p->ip4));
	memcpy(p->ip6, c->ip6, sizeof(p->ip6));
	eui64_lla(p->lla, c->mac);
	memcpy(p->vmap, vmap, sizeof(vmap));
	w |= PW_LIVE | (uint64_t)c->net << PW_NET_SHIFT;
	/* Released: a worker that sees it live sees the rest. */
	atomic_store_explicit(&p->word, w, MO_REL);
	r = plan_rebuild(sw, c->net);
	if (r < 0) {
		atomic_store(&p->word, 0);
		return r;
	}
	if (c->uplink)
		n->uplink = (int)id;
	n->nports++;
	return (int)id;
}

int
sw_port_del(struct sw *sw, int port)
{
	struct port *p = port_live(sw, port);
	uint64_t w;
	struct net *n;

	if (!p)
		return -ENOENT;
	w = atomic_load(&p->word);
	n = &sw->nets[pw_net(w)];
	atomic_store_explicit(&p->word, (w & ~PW_STATE) | PW_DEAD, MO_REL);
	/*
	 * Out of the flood lists. Should that fail for memory, the old
	 * lists still name the port. sw_flood() skips a destination whose
	 * word is not live, but only while the id is not reused: it must
	 * not be handed out again while any list may lead to it, or a
	 * flood would reach a port of another network. sw_reclaim() holds
	 * it (plan_stale) and tries the rebuild again.
	 */
	if (plan_rebuild(sw, (int)pw_net(w)) < 0)
		n->plan_stale = true;
	fdb_flush(sw, n, port, true);
	if (n->uplink == port)
		n->uplink = -1;
	return 0;
}

unsigned
sw_reclaim(struct sw *sw)
{
	unsigned freed = 0;

	/* Retired before the caller's grace period: nobody reads them. */
	plans_free(sw->retired);
	sw->retired = NULL;
	for (unsigned i = 0; i < sw->max_ports; i++) {
		struct port *p = &sw->ports[i];
		uint64_t w = atomic_load(&p->word);
		struct net *n;

		if (pw_state(w) != PW_DEAD)
			continue;
		n = &sw->nets[pw_net(w)];
		/* Still named by the lists workers read: held. */
		if (n->plan_stale)
			continue;
		/* What workers that had the port learned after its flush. */
		fdb_flush(sw, n, (int)i, true);
		for (unsigned c = 0; c < SW_C_COUNT; c++)
			n->gone[c] += atomic_load(&p->c[c]);
		n->nports--;
		atomic_store(&p->word, 0);
		freed++;
	}
	/*
	 * Try the failed rebuilds again. Workers may read the lists just
	 * replaced until the next grace period: the ports they name are
	 * released by the next sw_reclaim().
	 */
	for (unsigned i = 0; i < sw->max_nets; i++)
		if (sw->nets[i].used && sw->nets[i].plan_stale)
			(void)plan_rebuild(sw, (int)i);
	return freed;
}

int
sw_port_flush(struct sw *sw, int port)
{
	struct port *p = port_live(sw, port);

	if (!p)
		return -ENOENT;
	fdb_flush(sw, &sw->nets[pw_net(atomic_load(&p->word))], port, false);
	return 0;
}

int
sw_port_set_antispoof(struct sw *sw, int port, bool on)
{
	struct port *p = port_live(sw, port);

	if (!p)
		return -ENOENT;
	if (on && !mac_unicast(p->mac))
		return -EINVAL;
	atomic_store_explicit(&p->antispoof, on, MO_RLX);
	return 0;
}

int
sw_port_set_ra_guard(struct sw *sw, int port, bool on)
{
	struct port *p = port_live(sw, port);

	if (!p)
		return -ENOENT;
	atomic_store_explicit(&p->ra_guard, on, MO_RLX);
	return 0;
}

int
sw_port_mcast_filter(struct sw *sw, int port, bool on)
{
	struct port *p = port_live(sw, port);

	if (!p)
		return -ENOENT;
	atomic_store_explicit(&p->mc_on, on, MO_RLX);
	return 0;
}

/*
 * Groups sit in fixed slots that workers scan below mc_hi: a slot is
 * written whole (one atomic word), so a worker sees a group either
 * there or not; no list is rebuilt, nothing allocated, whatever rate a
 * guest asks at.
 */
int
sw_port_mcast_add(struct sw *sw, int port, const uint8_t mac[6])
{
	struct port *p = port_live(sw, port);
	unsigned hi, slot = SW_MAX_MCAST;
	uint64_t g;

	if (!p)
		return -ENOENT;
	if (!mac || !(mac[0] & 1))
		return -EINVAL;
	g = mac_key(mac, 0);
	hi = atomic_load(&p->mc_hi);
	for (unsigned i = 0; i < hi; i++) {
		uint64_t cur = atomic_load_explicit(&p->mc[i], MO_RLX);

		if (cur == g)
			return 0;
		if (cur == 0 && slot == SW_MAX_MCAST)
			slot = i;
	}
	if (slot == SW_MAX_MCAST) {
		if (hi == SW_MAX_MCAST)
			return -ENOSPC;
		slot = hi;
	}
	atomic_store_explicit(&p->mc[slot], g, MO_REL);
	if (slot == hi)
		atomic_store_explicit(&p->mc_hi, hi + 1, MO_REL);
	return 0;
}

int
sw_port_mcast_del(struct sw *sw, int port, const uint8_t mac[6])
{
	struct port *p = port_live(sw, port);
	unsigned hi;
	uint64_t g;

	if (!p || !mac)
		return -ENOENT;
	g = mac_key(mac, 0);
	hi = atomic_load(&p->mc_hi);
	for (unsigned i = 0; i < hi; i++) {
		if (atomic_load_explicit(&p->mc[i], MO_RLX) != g)
			continue;
		atomic_store_explicit(&p->mc[i], 0, MO_REL);
		/* Shrink past free slots at the top. */
		while (hi && atomic_load_explicit(&p->mc[hi - 1], MO_RLX) == 0)
			hi--;
		atomic_store_explicit(&p->mc_hi, hi, MO_REL);
		return 0;
	}
	return -ENOENT;
}

uint64_t
sw_port_counter(const struct sw *sw, int port, enum sw_counter c)
{
	const struct port *p = port_held(sw, port);

	if (!p || (unsigned)c >= SW_C_COUNT)
		return 0;
	return atomic_load_explicit(&p->c[c], MO_RLX);
}

uint64_t
sw_net_counter(const struct sw *sw, int net, enum sw_counter c)
{
	const struct net *n = net_get(sw, net);
	uint64_t sum;

	if (!n || (unsigned)c >= SW_C_COUNT)
		return 0;
	sum = n->gone[c];
	for (unsigned i = 0; i < sw->max_ports; i++) {
		const struct port *p = &sw->ports[i];
		uint64_t w = atomic_load_explicit(&p->word, MO_ACQ);

		if (pw_state(w) != PW_FREE && pw_net(w) == (unsigned)net)
			sum += atomic_load_explicit(&p->c[c], MO_RLX);
	}
	return sum;
}

int
sw_port_net(const struct sw *sw, int port)
{
	const struct port *p = port_live(sw, port);

	return p ? (int)pw_net(atomic_load(&p->word)) : -ENOENT;
}
