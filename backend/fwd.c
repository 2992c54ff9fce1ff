/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The switch glue: networks from the configuration, vifs and PIFs as
 * switch ports, and the worker side of forwarding a burst: switch/ finds
 * a destination for every frame first; then each destination gets its
 * frames in one call.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "nb.h"
#include "sw.h"

#define NB_MAC_TABLE 8192u

static uint64_t tsc_per_ms;

int
nb_fwd_init(struct nb_daemon *d)
{
	struct sw_config cfg = {
		.max_ports = NB_MAX_SW_PORTS,
		.max_nets = NB_MAX_NETS,
		.table_size = NB_MAC_TABLE,
	};

	tsc_per_ms = rte_get_tsc_hz() / 1000;
	if (tsc_per_ms == 0)
		tsc_per_ms = 1;
	d->sw = sw_create(&cfg);
	if (!d->sw)
		return -errno;
	for (unsigned i = 0; i < d->conf.nnets; i++) {
		const struct nb_net_conf *nc = &d->conf.nets[i];
		int net = sw_net_add(d->sw, nc->name, nc->aging_s * 1000ull);

		if (net < 0) {
			nb_err("network %s: %s", nc->name, strerror(-net));
			return net;
		}
		if (!nc->pif[0]) {
			nb_info("network %s: internal", nc->name);
			continue;
		}
		struct nb_pif *p = calloc(1, sizeof(*p));
		if (!p)
			return -ENOMEM;
		snprintf(p->devargs, sizeof(p->devargs), "%s", nc->pif);
		p->net = net;
		p->mtu = (uint16_t)nc->mtu;
		p->sw_port = -1;
		d->pifs[d->npifs++] = p;
		int r = nb_pif_open(d, p);
		if (r < 0)
			return r;
		struct sw_port_conf pc = { .net = net, .uplink = true };
		r = sw_port_add(d->sw, &pc);
		if (r < 0)
			return r;
		p->sw_port = r;
		atomic_store(&d->pifs_by_port[r], p);
		nb_info("network %s: uplink %s", nc->name, p->name);
	}
	return 0;
}

void
nb_fwd_fini(struct nb_daemon *d)
{
	for (unsigned i = 0; i < d->npifs; i++) {
		nb_pif_close(d, d->pifs[i]);
		free(d->pifs[i]);
		d->pifs[i] = NULL;
	}
	d->npifs = 0;
	sw_destroy(d->sw);
	d->sw = NULL;
}

/*
 * The vif's `bridge` key: NAME[.TAG][:TRUNK...] as xl's vif-openvswitch
 * reads it. Trunks are not served yet and are refused.
 */
static int
parse_bridge(const char *s, char *name, size_t nlen, unsigned *vlan)
{
	const char *dot = strchr(s, '.'), *colon = strchr(s, ':');
	size_t len = dot ? (size_t)(dot - s) : colon ? (size_t)(colon - s)
						      : strlen(s);

	*vlan = 0;
	if (len == 0 || len >= nlen)
		return -EINVAL;
	memcpy(name, s, len);
	name[len] = '\0';
	if (colon)
		return -EOPNOTSUPP;
	if (dot && (nb_parse_uint(dot + 1, 1, 4094, vlan) < 0))
		return -EINVAL;
	return 0;
}

/* The `ip` key: IPv4 and IPv6 addresses separated by spaces or commas. */
static int
parse_ips(const char *s, struct sw_port_conf *pc)
{
	char buf[sizeof(((struct nb_vif *)0)->ip)], *save, *tok;

	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, " ,", &save); tok;
	     tok = strtok_r(NULL, " ,", &save)) {
		if (strchr(tok, ':')) {
			if (pc->nip6 == SW_MAX_IPS ||
			    inet_pton(AF_INET6, tok, pc->ip6[pc->nip6]) != 1)
				return -EINVAL;
			pc->nip6++;
		} else {
			if (pc->nip4 == SW_MAX_IPS ||
			    inet_pton(AF_INET, tok, pc->ip4[pc->nip4]) != 1)
				return -EINVAL;
			pc->nip4++;
		}
	}
	return 0;
}

int
nb_fwd_vif_attach(struct nb_daemon *d, struct nb_vif *v)
{
	char name[NB_NAME_MAX];
	unsigned vlan = 0;
	int net, r;

	if (v->bridge[0]) {
		r = parse_bridge(v->bridge, name, sizeof(name), &vlan);
		if (r < 0)
			return r;
		net = sw_net_find(d->sw, name);
	} else {
		/* No bridge key: the first network, as xl's default. */
		net = sw_net_find(d->sw, d->conf.nets[0].name);
	}
	if (net < 0)
		return -ENOENT;
	struct sw_port_conf pc = {
		.net = net,
		.antispoof = true,
		.vlan = (uint16_t)vlan,
	};
	memcpy(pc.mac, v->mac, 6);
	r = parse_ips(v->ip, &pc);
	if (r < 0)
		return r;
	r = sw_port_add(d->sw, &pc);
	if (r < 0)
		return r;
	v->sw_port = r;
	v->net = net;
	atomic_store_explicit(&d->ports[r], v, memory_order_release);
	return 0;
}

void
nb_fwd_vif_detach(struct nb_daemon *d, struct nb_vif *v)
{
	if (v->sw_port < 0)
		return;
	/* Workers holding the old pointer finish within the grace period
	 * the caller waits for; the id is not reused before. */
	atomic_store(&d->ports[v->sw_port], NULL);
	sw_port_del(d->sw, v->sw_port);
	v->sw_port = -1;
	v->net = -1;
}

static void
deliver(struct nb_worker *w, uint16_t port, struct rte_mbuf **pkts,
	unsigned n)
{
	struct nb_daemon *d = w->d;
	struct nb_vif *v = atomic_load_explicit(&d->ports[port],
						memory_order_acquire);

	if (v) {
		nb_deliver_vif(w, v, pkts, n);
		return;
	}
	struct nb_pif *p = atomic_load_explicit(&d->pifs_by_port[port],
						memory_order_acquire);
	if (p) {
		nb_deliver_pif(w, p, pkts, n);
		return;
	}
	rte_pktmbuf_free_bulk(pkts, n);
}

static void
fwd_burst(struct nb_worker *w, int in, struct rte_mbuf **pkts, unsigned n)
{
	struct sw_frame f[NB_BURST];
	struct sw_result res[NB_BURST];
	struct rte_mbuf *batch[NB_BURST];
	uint16_t flood[64];
	bool done[NB_BURST] = { false };
	uint64_t now = rte_get_tsc_cycles() / tsc_per_ms;

	for (unsigned i = 0; i < n; i++) {
		f[i].data = rte_pktmbuf_mtod(pkts[i], const uint8_t *);
		f[i].len = pkts[i]->data_len;
	}
	sw_forward(w->d->sw, in, f, n, now, res);

	/* Second pass: each destination gets its frames at once. */
	for (unsigned i = 0; i < n; i++) {
		unsigned k = 0;

		if (done[i])
			continue;
		if (res[i].port == SW_DROP) {
			rte_pktmbuf_free(pkts[i]);
			continue;
		}
		if (res[i].port == SW_FLOOD) {
			unsigned nf = sw_flood_ports(w->d->sw, in, res[i].vlan,
						     flood, 64);

			if (nf == 0) {
				rte_pktmbuf_free(pkts[i]);
				continue;
			}
			if (nb_is_gso(pkts[i])) {
				/* Segmenting changes a GSO packet: each
				 * destination gets its own (rare: a flood of
				 * a large TCP segment). */
				for (unsigned j = 0; j + 1 < nf; j++) {
					struct rte_mbuf *c = rte_pktmbuf_copy(
					    pkts[i], w->pool, 0, UINT32_MAX);

					if (c) {
						c->ol_flags = pkts[i]->ol_flags;
						c->tso_segsz = pkts[i]->tso_segsz;
						c->packet_type =
						    pkts[i]->packet_type;
						deliver(w, flood[j], &c, 1);
					}
				}
				deliver(w, flood[nf - 1], &pkts[i], 1);
				continue;
			}
			/* Destinations only read the frame (a PIF may
			 * complete a checksum, the same for all). */
			rte_mbuf_refcnt_update(pkts[i], (int16_t)(nf - 1));
			for (unsigned j = 0; j < nf; j++)
				deliver(w, flood[j], &pkts[i], 1);
			continue;
		}
		for (unsigned j = i; j < n; j++) {
			if (!done[j] && res[j].port == res[i].port) {
				batch[k++] = pkts[j];
				done[j] = true;
			}
		}
		deliver(w, res[i].port, batch, k);
	}
}

void
nb_fwd_from_vif(struct nb_worker *w, struct nb_vif *v, struct rte_mbuf **pkts,
		unsigned n)
{
	if (v->sw_port < 0) {
		rte_pktmbuf_free_bulk(pkts, n);
		return;
	}
	fwd_burst(w, v->sw_port, pkts, n);
}

void
nb_fwd_from_pif(struct nb_worker *w, struct nb_pif *p, struct rte_mbuf **pkts,
		unsigned n)
{
	fwd_burst(w, p->sw_port, pkts, n);
}
