/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The MAC table, control side: removal, flushes, aging, static entries,
 * lookups and walks. Workers learn concurrently (fwd.c); every change
 * here is a CAS on the entry's value first, so that whoever wins a race
 * also does the bookkeeping (per-port and per-network learned counts)
 * exactly once.
 */
#include <errno.h>

#include "sw_priv.h"

/*
 * Remove e, whose value was read as v: mark the value DYING (a move or
 * another removal racing with us makes the CAS fail), then retire the
 * key. False if the entry changed meanwhile.
 */
bool
fdb_kill(struct sw *sw, struct net *n, struct entry *e, uint32_t v)
{
	unsigned port = v & V_PORT;

	if (v & V_DYING)
		return false;
	if (!atomic_compare_exchange_strong_explicit(&e->val, &v, v | V_DYING,
						     MO_ACQ, MO_RLX))
		return false;
	atomic_store_explicit(&e->key, K_TOMB, MO_REL);
	if (!(v & V_STATIC)) {
		if (port < sw->max_ports)
			count_dec(&sw->ports[port].learned);
		count_dec(&n->learned);
	}
	return true;
}

/* Entries of port (all ports if < 0), statics too if asked. */
void
fdb_flush(struct sw *sw, struct net *n, int port, bool statics)
{
	for (uint32_t i = 0; i <= sw->mask; i++) {
		struct entry *e = &n->table[i];

		/* A worker may move the entry under us: look again. */
		for (int tries = 0; tries < 8; tries++) {
			uint64_t k = atomic_load_explicit(&e->key, MO_ACQ);
			uint32_t v;

			if (!(k & K_LIVE))
				break;
			v = atomic_load_explicit(&e->val, MO_ACQ);
			if ((v & V_DYING) ||
			    (port >= 0 && (v & V_PORT) != (unsigned)port) ||
			    ((v & V_STATIC) && !statics))
				break;
			if (fdb_kill(sw, n, e, v))
				break;
		}
	}
}

/*
 * A removed slot followed by an empty one ends every probe through it:
 * empty it too, so that misses (unknown unicast) stop early again. Walk
 * backwards so that runs of them go at once, twice for the wrap.
 */
static void
fdb_clean(struct sw *sw, struct net *n)
{
	for (int pass = 0; pass < 2; pass++) {
		for (uint32_t i = sw->mask + 1; i-- > 0;) {
			struct entry *e = &n->table[i];
			struct entry *next = &n->table[(i + 1) & sw->mask];
			uint64_t k = K_TOMB;

			if (atomic_load_explicit(&e->key, MO_RLX) != K_TOMB ||
			    atomic_load_explicit(&next->key, MO_ACQ) !=
				K_EMPTY)
				continue;
			atomic_compare_exchange_strong_explicit(
			    &e->key, &k, K_EMPTY, MO_REL, MO_RLX);
		}
	}
}

unsigned
fdb_age(struct sw *sw, struct net *n, uint64_t now_ms)
{
	uint32_t now = (uint32_t)(now_ms >> STAMP_SHIFT);
	unsigned aged = 0;

	for (uint32_t i = 0; i <= sw->mask; i++) {
		struct entry *e = &n->table[i];
		uint64_t k = atomic_load_explicit(&e->key, MO_ACQ);
		uint32_t v;
		int32_t d;

		if (!(k & K_LIVE))
			continue;
		v = atomic_load_explicit(&e->val, MO_ACQ);
		if (v & (V_STATIC | V_DYING))
			continue;
		/* Signed: a worker's clock may be a little ahead of ours. */
		d = (int32_t)(now - atomic_load_explicit(&e->stamp, MO_RLX));
		if (d <= 0 || ((uint64_t)d << STAMP_SHIFT) <= n->aging_ms)
			continue;
		if (fdb_kill(sw, n, e, v))
			aged++;
	}
	fdb_clean(sw, n);
	return aged;
}

unsigned
sw_age(struct sw *sw, uint64_t now_ms)
{
	unsigned aged = 0;

	for (unsigned i = 0; i < sw->max_nets; i++)
		if (sw->nets[i].used)
			aged += fdb_age(sw, &sw->nets[i], now_ms);
	return aged;
}

static bool
mac_unicast(const uint8_t *m)
{
	static const uint8_t zero[6];

	return !(m[0] & 1) && memcmp(m, zero, 6) != 0;
}

int
sw_static_add(struct sw *sw, int net, const uint8_t mac[6], uint16_t vlan,
	      int port)
{
	struct net *n = net_get(sw, net);
	struct port *p = port_live(sw, port);
	uint64_t k, w;
	uint32_t home;

	if (!n || !p || !mac || !mac_unicast(mac) || vlan > SW_VLAN_MAX)
		return -EINVAL;
	w = atomic_load_explicit(&p->word, MO_ACQ);
	if (pw_net(w) != (unsigned)net || !port_carries(p, w, vlan))
		return -EINVAL;
	k = mac_key(mac, vlan);
	home = fdb_home(sw, k);
	/* Workers may learn or move the MAC meanwhile: try again. */
	for (int tries = 0; tries < 8; tries++) {
		struct entry *e, *fr;
		uint64_t fk = K_EMPTY;
		uint32_t v = 0, nv;

		e = fdb_probe(sw, n, k, home, &v, &fr, &fk);
		if (e) {
			if (v & V_DYING)
				continue;
			nv = (v & ~(V_PORT | V_STATIC)) | (unsigned)port |
			     V_STATIC;
			if (!atomic_compare_exchange_strong_explicit(
				&e->val, &v, nv, MO_REL, MO_RLX))
				continue;
			if (!(v & V_STATIC)) {
				/* It was learned: no longer counts. */
				if ((v & V_PORT) < sw->max_ports)
					count_dec(
					    &sw->ports[v & V_PORT].learned);
				count_dec(&n->learned);
			}
			return 0;
		}
		if (fr && fdb_fill(fr, fk, k, (unsigned)port | V_STATIC, 0))
			return 0;
	}
	return -ENOSPC;
}

int
sw_static_del(struct sw *sw, int net, const uint8_t mac[6], uint16_t vlan)
{
	struct net *n = net_get(sw, net);
	struct entry *e;
	uint64_t k;
	uint32_t v;

	if (!n || !mac || vlan > SW_VLAN_MAX)
		return -ENOENT;
	k = mac_key(mac, vlan);
	e = fdb_find(sw, n, k, fdb_home(sw, k), &v);
	if (!e || !(v & V_STATIC))
		return -ENOENT;
	/* Only configuration changes a static entry: no race to lose. */
	return fdb_kill(sw, n, e, v) ? 0 : -ENOENT;
}

int
sw_lookup(const struct sw *sw, int net, const uint8_t mac[6], uint16_t vlan)
{
	const struct net *n = net_get(sw, net);
	uint64_t k;
	uint32_t v;

	if (!n || !mac)
		return -EINVAL;
	if (vlan > SW_VLAN_MAX)
		return -ENOENT;
	k = mac_key(mac, vlan);
	if (!fdb_find(sw, n, k, fdb_home(sw, k), &v))
		return -ENOENT;
	return (int)(v & V_PORT);
}

int
sw_table_walk(const struct sw *sw, int net, uint64_t now_ms, sw_entry_fn fn,
	      void *arg)
{
	const struct net *n = net_get(sw, net);
	uint32_t now = (uint32_t)(now_ms >> STAMP_SHIFT);

	if (!n || !fn)
		return -EINVAL;
	for (uint32_t i = 0; i <= sw->mask; i++) {
		const struct entry *e = &n->table[i];
		uint64_t k = atomic_load_explicit(&e->key, MO_ACQ);
		uint8_t mac[6];
		uint64_t age = 0;
		uint32_t v;
		int32_t d;
		int r;

		if (!(k & K_LIVE))
			continue;
		v = atomic_load_explicit(&e->val, MO_ACQ);
		if (v & V_DYING)
			continue;
		if (!(v & V_STATIC)) {
			d = (int32_t)(now -
				      atomic_load_explicit(&e->stamp, MO_RLX));
			age = d > 0 ? (uint64_t)d << STAMP_SHIFT : 0;
		}
		key_mac(k, mac);
		r = fn(arg, mac, key_vlan(k), (int)(v & V_PORT),
		       (v & V_STATIC) != 0, age);
		if (r)
			return r;
	}
	return 0;
}
