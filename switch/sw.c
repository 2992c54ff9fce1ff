/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "sw.h"

/*
 * Table key: MAC in bits 0-47, VLAN in 48-59, bit 63 marks a live key.
 * EMPTY ends a probe; TOMB (a removed entry) and BUSY (being filled) are
 * skipped by lookups.
 */
#define K_LIVE (1ull << 63)
#define K_EMPTY 0ull
#define K_TOMB (1ull << 62)
#define K_BUSY (1ull << 61)
#define V_STATIC 0x10000u
#define PROBE_MAX 32u
#define DEFAULT_AGING_MS 300000ull

_Static_assert(48 + 12 < 61, "key packing: MAC and VLAN below the flags");

struct entry {
	_Atomic uint64_t key;
	_Atomic uint32_t val;   /* port | V_STATIC */
	_Atomic uint32_t stamp; /* now_ms >> 10 at last sight */
};

struct net {
	bool used;
	char name[SW_NAME_MAX];
	uint64_t aging_ms;
	int uplink;
	unsigned nports;
	/* Members, double-buffered: workers read members[cur]. */
	_Atomic unsigned cur;
	unsigned count[2];
	uint16_t *members[2];
	struct entry *table;
};

struct port {
	_Atomic bool up;
	bool used;
	int net;
	bool uplink, antispoof;
	unsigned nip4, nip6;
	uint8_t ip4[SW_MAX_IPS][4];
	uint8_t ip6[SW_MAX_IPS + 1][16]; /* + the EUI-64 link-local */
	uint8_t mac[6];
	uint16_t vlan;
	unsigned learn_limit;
	_Atomic unsigned learned;
	uint64_t c[SW_C_COUNT];
};

struct sw {
	unsigned max_ports, max_nets, mask;
	struct net *nets;
	struct port *ports;
};

static const char *const counter_names[] = {
#define SW_X_NAME(e, s) s,
	SW_COUNTERS(SW_X_NAME)
#undef SW_X_NAME
};

const char *
sw_counter_name(enum sw_counter c)
{
	return (unsigned)c < SW_C_COUNT ? counter_names[c] : "?";
}

static inline uint64_t
mac_key(const uint8_t m[6], uint16_t vlan)
{
	return (uint64_t)m[0] << 40 | (uint64_t)m[1] << 32 |
	       (uint64_t)m[2] << 24 | (uint64_t)m[3] << 16 |
	       (uint64_t)m[4] << 8 | m[5] | (uint64_t)(vlan & 0xfff) << 48 |
	       K_LIVE;
}

static inline uint32_t
hash(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	return (uint32_t)k;
}

struct sw *
sw_create(const struct sw_config *cfg)
{
	struct sw *sw;
	unsigned size = 64;

	if (!cfg || cfg->max_ports == 0 || cfg->max_ports >= SW_PORT_NONE - 3 ||
	    cfg->max_nets == 0 || cfg->table_size > (1u << 24)) {
		errno = EINVAL;
		return NULL;
	}
	while (size < cfg->table_size)
		size <<= 1;
	sw = calloc(1, sizeof(*sw));
	if (!sw)
		return NULL;
	sw->max_ports = cfg->max_ports;
	sw->max_nets = cfg->max_nets;
	sw->mask = size - 1;
	sw->nets = calloc(cfg->max_nets, sizeof(*sw->nets));
	sw->ports = calloc(cfg->max_ports, sizeof(*sw->ports));
	if (!sw->nets || !sw->ports) {
		sw_destroy(sw);
		errno = ENOMEM;
		return NULL;
	}
	return sw;
}

static void
net_free(struct net *n)
{
	free(n->table);
	free(n->members[0]);
	free(n->members[1]);
	memset(n, 0, sizeof(*n));
}

void
sw_destroy(struct sw *sw)
{
	if (!sw)
		return;
	for (unsigned i = 0; sw->nets && i < sw->max_nets; i++)
		net_free(&sw->nets[i]);
	free(sw->nets);
	free(sw->ports);
	free(sw);
}

int
sw_net_find(const struct sw *sw, const char *name)
{
	for (unsigned i = 0; i < sw->max_nets; i++)
		if (sw->nets[i].used && strcmp(sw->nets[i].name, name) == 0)
			return (int)i;
	return -ENOENT;
}

const char *
sw_net_name(const struct sw *sw, int net)
{
	if (net < 0 || (unsigned)net >= sw->max_nets || !sw->nets[net].used)
		return NULL;
	return sw->nets[net].name;
}

int
sw_net_add(struct sw *sw, const char *name, uint64_t aging_ms)
{
	size_t len = name ? strlen(name) : 0;

	if (len == 0 || len >= SW_NAME_MAX)
		return -EINVAL;
	if (sw_net_find(sw, name) >= 0)
		return -EEXIST;
	for (unsigned i = 0; i < sw->max_nets; i++) {
		struct net *n = &sw->nets[i];

		if (n->used)
			continue;
		n->table = calloc(sw->mask + 1, sizeof(*n->table));
		n->members[0] = calloc(sw->max_ports, sizeof(uint16_t));
		n->members[1] = calloc(sw->max_ports, sizeof(uint16_t));
		if (!n->table || !n->members[0] || !n->members[1]) {
			net_free(n);
			return -ENOMEM;
		}
		memcpy(n->name, name, len + 1);
		n->aging_ms = aging_ms ? aging_ms : DEFAULT_AGING_MS;
		n->uplink = -1;
		n->used = true;
		return (int)i;
	}
	return -ENOSPC;
}

int
sw_net_del(struct sw *sw, int net)
{
	if (net < 0 || (unsigned)net >= sw->max_nets || !sw->nets[net].used)
		return -ENOENT;
	if (sw->nets[net].nports)
		return -EBUSY;
	net_free(&sw->nets[net]);
	return 0;
}

/* Rebuild the member list into the idle buffer, then publish it. */
static void
members_rebuild(struct sw *sw, int net)
{
	struct net *n = &sw->nets[net];
	unsigned next = atomic_load(&n->cur) ^ 1u, k = 0;

	for (unsigned p = 0; p < sw->max_ports; p++)
		if (sw->ports[p].used && sw->ports[p].net == net &&
		    atomic_load(&sw->ports[p].up))
			n->members[next][k++] = (uint16_t)p;
	n->count[next] = k;
	atomic_store_explicit(&n->cur, next, memory_order_release);
}

static struct port *
port_get(const struct sw *sw, int port)
{
	if (port < 0 || (unsigned)port >= sw->max_ports ||
	    !sw->ports[port].used)
		return NULL;
	return &sw->ports[port];
}

int
sw_port_add(struct sw *sw, const struct sw_port_conf *c)
{
	struct net *n;

	if (!c || c->net < 0 || (unsigned)c->net >= sw->max_nets ||
	    !sw->nets[c->net].used || c->vlan > 4094)
		return -EINVAL;
	n = &sw->nets[c->net];
	if (c->uplink && n->uplink >= 0)
		return -EEXIST;
	for (unsigned i = 0; i < sw->max_ports; i++) {
		struct port *p = &sw->ports[i];

		if (p->used)
			continue;
		memset(p, 0, sizeof(*p));
		p->used = true;
		p->net = c->net;
		p->uplink = c->uplink;
		p->antispoof = c->antispoof && !c->uplink;
		memcpy(p->mac, c->mac, 6);
		if (c->nip4 > SW_MAX_IPS || c->nip6 > SW_MAX_IPS) {
			p->used = false;
			return -EINVAL;
		}
		p->nip4 = c->nip4;
		memcpy(p->ip4, c->ip4, sizeof(p->ip4));
		p->nip6 = c->nip6;
		memcpy(p->ip6, c->ip6, sizeof(c->ip6));
		if (c->nip4 || c->nip6) {
			/* fe80::<mac with U/L flipped, ff:fe in the middle> */
			uint8_t *ll = p->ip6[p->nip6++];

			memset(ll, 0, 16);
			ll[0] = 0xfe;
			ll[1] = 0x80;
			ll[8] = c->mac[0] ^ 2;
			ll[9] = c->mac[1];
			ll[10] = c->mac[2];
			ll[11] = 0xff;
			ll[12] = 0xfe;
			ll[13] = c->mac[3];
			ll[14] = c->mac[4];
			ll[15] = c->mac[5];
		}
		p->vlan = c->vlan;
		p->learn_limit = c->learn_limit;
		atomic_store(&p->up, true);
		if (c->uplink)
			n->uplink = (int)i;
		n->nports++;
		members_rebuild(sw, c->net);
		return (int)i;
	}
	return -ENOSPC;
}

static void
flush_port(struct sw *sw, struct net *n, int port)
{
	for (unsigned i = 0; i <= sw->mask; i++) {
		struct entry *e = &n->table[i];
		uint64_t k = atomic_load(&e->key);

		if ((k & K_LIVE) && (atomic_load(&e->val) & 0xffff) == (unsigned)port)
			atomic_compare_exchange_strong(&e->key, &k, K_TOMB);
	}
}

int
sw_port_del(struct sw *sw, int port)
{
	struct port *p = port_get(sw, port);
	struct net *n;

	if (!p)
		return -ENOENT;
	n = &sw->nets[p->net];
	atomic_store(&p->up, false);
	members_rebuild(sw, p->net);
	flush_port(sw, n, port);
	if (n->uplink == port)
		n->uplink = -1;
	n->nports--;
	p->used = false;
	return 0;
}

/* Find the entry for k, or NULL. */
static struct entry *
find(const struct sw *sw, const struct net *n, uint64_t k)
{
	uint32_t h = hash(k);

	for (unsigned i = 0; i < PROBE_MAX; i++) {
		struct entry *e = &n->table[(h + i) & sw->mask];
		uint64_t ek = atomic_load_explicit(&e->key,
						   memory_order_acquire);

		if (ek == k)
			return e;
		if (ek == K_EMPTY)
			return NULL;
	}
	return NULL;
}

/* Claim a slot for k and fill it; NULL when the probe window is full. */
static struct entry *
insert(struct sw *sw, struct net *n, uint64_t k, uint32_t val,
       uint32_t stamp)
{
	uint32_t h = hash(k);

	for (unsigned i = 0; i < PROBE_MAX; i++) {
		struct entry *e = &n->table[(h + i) & sw->mask];
		uint64_t ek = atomic_load(&e->key);

		if (ek == k)
			return e; /* someone else learned it meanwhile */
		if ((ek == K_EMPTY || ek == K_TOMB) &&
		    atomic_compare_exchange_strong(&e->key, &ek, K_BUSY)) {
			atomic_store(&e->val, val);
			atomic_store(&e->stamp, stamp);
			atomic_store_explicit(&e->key, k, memory_order_release);
			return e;
		}
	}
	return NULL;
}

int
sw_static_add(struct sw *sw, int net, const uint8_t mac[6], uint16_t vlan,
	      int port)
{
	struct port *p = port_get(sw, port);
	uint64_t k = mac_key(mac, vlan);
	struct entry *e;

	if (!p || p->net != net || vlan > 4094 || (mac[0] & 1))
		return -EINVAL;
	e = find(sw, &sw->nets[net], k);
	if (!e)
		e = insert(sw, &sw->nets[net], k, 0, 0);
	if (!e)
		return -ENOSPC;
	atomic_store(&e->val, (uint32_t)port | V_STATIC);
	return 0;
}

static void
learn(struct sw *sw, struct net *n, int in, struct port *p, uint64_t k,
      uint32_t stamp)
{
	struct entry *e = find(sw, n, k);

	if (e) {
		uint32_t v = atomic_load_explicit(&e->val,
						  memory_order_relaxed);

		if (v & V_STATIC)
			return;
		if ((v & 0xffff) != (uint32_t)in) {
			/* The MAC moved here: follow it. */
			atomic_store(&e->val, (uint32_t)in);
			p->c[SW_C_MOVED]++;
		}
		/* Refresh rarely: the stamp has a 1 s grain. */
		if (atomic_load_explicit(&e->stamp, memory_order_relaxed) !=
		    stamp)
			atomic_store_explicit(&e->stamp, stamp,
					      memory_order_relaxed);
		return;
	}
	if (p->learn_limit &&
	    atomic_load_explicit(&p->learned, memory_order_relaxed) >=
		p->learn_limit) {
		p->c[SW_C_LEARN_LIMIT]++;
		return;
	}
	if (!insert(sw, n, k, (uint32_t)in, stamp)) {
		p->c[SW_C_TABLE_FULL]++;
		return;
	}
	atomic_fetch_add_explicit(&p->learned, 1, memory_order_relaxed);
	p->c[SW_C_LEARNED]++;
}

static inline bool
mac_eq(const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, 6) == 0;
}

static bool
ip4_ok(const struct port *p, const uint8_t *a)
{
	for (unsigned i = 0; i < p->nip4; i++)
		if (memcmp(p->ip4[i], a, 4) == 0)
			return true;
	return false;
}

static bool
ip6_ok(const struct port *p, const uint8_t *a)
{
	static const uint8_t any[16];

	if (memcmp(a, any, 16) == 0)
		return true; /* duplicate address detection */
	for (unsigned i = 0; i < p->nip6; i++)
		if (memcmp(p->ip6[i], a, 16) == 0)
			return true;
	return false;
}

/*
 * The source addresses of an IPv4, ARP or IPv6 frame against the port's
 * addresses. d points at the ethertype; len counts from there. Frames
 * too short to hold their addresses are let through to the switch's own
 * checks (nothing to spoof with).
 */
static bool
ip_ok(const struct port *p, const uint8_t *d, uint32_t len)
{
	static const uint8_t zero[4];
	uint16_t type = (uint16_t)(d[0] << 8 | d[1]);
	const uint8_t *l3 = d + 2;

	len -= 2;
	if (type == 0x0800 && len >= 20) {
		if (ip4_ok(p, l3 + 12))
			return true;
		/* DHCP discover/request from 0.0.0.0 to port 67 */
		uint32_t ihl = (uint32_t)(l3[0] & 0xf) * 4;
		return memcmp(l3 + 12, zero, 4) == 0 && l3[9] == 17 &&
		       len >= ihl + 4 && l3[ihl + 2] == 0 && l3[ihl + 3] == 67;
	}
	if (type == 0x0806 && len >= 28) {
		/* sender MAC and IP; 0.0.0.0 is a probe */
		if (!mac_eq(l3 + 8, p->mac))
			return false;
		return ip4_ok(p, l3 + 14) || memcmp(l3 + 14, zero, 4) == 0;
	}
	if (type == 0x86dd && len >= 40)
		return ip6_ok(p, l3 + 8);
	return true;
}

unsigned
sw_forward(struct sw *sw, int in, const struct sw_frame *f, unsigned n,
	   uint64_t now_ms, struct sw_result *out)
{
	struct port *p = port_get(sw, in);
	uint32_t stamp = (uint32_t)(now_ms >> 10);

	if (n > SW_MAX_BURST)
		n = SW_MAX_BURST;
	if (!p || !atomic_load_explicit(&p->up, memory_order_relaxed)) {
		for (unsigned i = 0; i < n; i++)
			out[i] = (struct sw_result){ SW_DROP, 0,
						     SW_C_DROP_NO_PORT };
		return n;
	}
	struct net *net = &sw->nets[p->net];

	p->c[SW_C_RX] += n;
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *d = f[i].data;
		struct sw_result *r = &out[i];
		uint16_t vlan = p->vlan;

		r->vlan = vlan;
		r->reason = 0;
		if (f[i].len < 14) {
			r->port = SW_DROP;
			r->reason = SW_C_DROP_RUNT;
			continue;
		}
		if (d[12] == 0x81 && d[13] == 0x00) {
			/* Outer tag only (QinQ is not looked into). An
			 * access port takes priority tags (VID 0) only. */
			if (f[i].len < 18 ||
			    (((d[14] << 8) | d[15]) & 0xfff) != 0) {
				r->port = SW_DROP;
				r->reason = f[i].len < 18 ? SW_C_DROP_RUNT
							  : SW_C_DROP_VLAN;
				continue;
			}
		}
		const uint8_t *dst = d, *src = d + 6;
		if ((src[0] & 1) ||
		    (p->antispoof && !mac_eq(src, p->mac))) {
			r->port = SW_DROP;
			r->reason = SW_C_DROP_SPOOF_MAC;
			continue;
		}
		if (p->antispoof && (p->nip4 || p->nip6)) {
			uint32_t et = (d[12] == 0x81 && d[13] == 0) ? 16 : 12;

			if (f[i].len >= et + 2 &&
			    !ip_ok(p, d + et, f[i].len - et)) {
				r->port = SW_DROP;
				r->reason = SW_C_DROP_SPOOF_IP;
				continue;
			}
		}
		learn(sw, net, in, p, mac_key(src, vlan), stamp);
		if (dst[0] & 1) {
			r->port = SW_FLOOD;
			continue;
		}
		struct entry *e = find(sw, net, mac_key(dst, vlan));
		if (!e) {
			r->port = SW_FLOOD;
			continue;
		}
		uint32_t to = atomic_load_explicit(&e->val,
						   memory_order_relaxed) &
			      0xffff;
		if (to == (uint32_t)in) {
			r->port = SW_DROP;
			r->reason = SW_C_DROP_HAIRPIN;
		} else {
			r->port = (uint16_t)to;
		}
	}
	for (unsigned i = 0; i < n; i++) {
		if (out[i].port == SW_DROP)
			p->c[out[i].reason]++;
		else if (out[i].port == SW_FLOOD)
			p->c[SW_C_FLOODED]++;
	}
	return n;
}

unsigned
sw_flood_ports(const struct sw *sw, int in, uint16_t vlan, uint16_t *ports,
	       unsigned max)
{
	const struct port *p = port_get(sw, in);
	unsigned k = 0;

	if (!p)
		return 0;
	const struct net *n = &sw->nets[p->net];
	unsigned cur = atomic_load_explicit(&n->cur, memory_order_acquire);

	for (unsigned i = 0; i < n->count[cur] && k < max; i++) {
		uint16_t m = n->members[cur][i];

		if (m != (uint16_t)in && sw->ports[m].vlan == vlan)
			ports[k++] = m;
	}
	return k;
}

int
sw_lookup(const struct sw *sw, int net, const uint8_t mac[6], uint16_t vlan)
{
	const struct entry *e;

	if (net < 0 || (unsigned)net >= sw->max_nets || !sw->nets[net].used)
		return -EINVAL;
	e = find(sw, &sw->nets[net], mac_key(mac, vlan));
	return e ? (int)(atomic_load(&e->val) & 0xffff) : -ENOENT;
}

void
sw_age(struct sw *sw, uint64_t now_ms)
{
	uint32_t now = (uint32_t)(now_ms >> 10);

	for (unsigned ni = 0; ni < sw->max_nets; ni++) {
		struct net *n = &sw->nets[ni];
		uint32_t max_age = (uint32_t)(n->aging_ms >> 10);

		if (!n->used)
			continue;
		for (unsigned i = 0; i <= sw->mask; i++) {
			struct entry *e = &n->table[i];
			uint64_t k = atomic_load(&e->key);
			uint32_t v;

			if (!(k & K_LIVE))
				continue;
			v = atomic_load(&e->val);
			if ((v & V_STATIC) ||
			    now - atomic_load(&e->stamp) <= max_age)
				continue;
			if (atomic_compare_exchange_strong(&e->key, &k, K_TOMB)) {
				struct port *p = port_get(sw, (int)(v & 0xffff));

				if (p && atomic_load(&p->learned))
					atomic_fetch_sub(&p->learned, 1);
			}
		}
	}
}

uint64_t
sw_port_counter(const struct sw *sw, int port, enum sw_counter c)
{
	const struct port *p = port_get(sw, port);

	return p && (unsigned)c < SW_C_COUNT ? p->c[c] : 0;
}

int
sw_port_net(const struct sw *sw, int port)
{
	const struct port *p = port_get(sw, port);

	return p ? p->net : -ENOENT;
}

int
sw_table_walk(const struct sw *sw, int net, uint64_t now_ms, sw_entry_fn fn,
	      void *arg)
{
	if (net < 0 || (unsigned)net >= sw->max_nets || !sw->nets[net].used)
		return -EINVAL;
	const struct net *n = &sw->nets[net];

	for (unsigned i = 0; i <= sw->mask; i++) {
		const struct entry *e = &n->table[i];
		uint64_t k = atomic_load(&e->key);
		uint8_t mac[6];
		uint32_t v;
		int r;

		if (!(k & K_LIVE))
			continue;
		for (int b = 0; b < 6; b++)
			mac[b] = (uint8_t)(k >> (40 - 8 * b));
		v = atomic_load(&e->val);
		r = fn(arg, mac, (uint16_t)((k >> 48) & 0xfff),
		       (int)(v & 0xffff), (v & V_STATIC) != 0,
		       (v & V_STATIC) ? 0
				      : now_ms - ((uint64_t)atomic_load(&e->stamp)
						  << 10));
		if (r)
			return r;
	}
	return 0;
}
