/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The switch glue: networks from the configuration, vifs and PIFs as
 * switch ports, and the worker side of forwarding a burst: switch/ finds
 * a destination for every frame first and sorts the burst by destination
 * (sw_forward_group), then each destination gets its frames in one call,
 * with their 802.1Q tag added, rewritten or removed as the destination
 * port's VLAN configuration says. A burst that goes whole to one port
 * unchanged (the common case) is handed on as it came.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "nb.h"
#include "xsval.h"
#include "sw.h"


/* A PIF carries every VLAN tagged and the untagged network as is. */
static const struct sw_vlan_conf uplink_vlans = {
	.trunk = true, .all = true, .vid = 0,
};

/* Forget p: out of d->pifs, closed, freed. */
static void
port_free(struct nb_daemon *d, struct nb_pif *p)
{
	for (unsigned i = 0; i < d->npifs; i++) {
		if (d->pifs[i] != p)
			continue;
		memmove(&d->pifs[i], &d->pifs[i + 1],
			(d->npifs - i - 1) * sizeof(d->pifs[0]));
		d->pifs[--d->npifs] = NULL;
		break;
	}
	nb_pif_close(d, p);
	free(p);
}

uint64_t nb_tsc_ms_mul;

void
nb_fast_ms_init(void)
{
	uint64_t per_ms = rte_get_tsc_hz() / 1000;

	nb_tsc_ms_mul = per_ms ? (uint64_t)(((unsigned __int128)1 << 64) /
					   per_ms)
			       : 0;
}

const char *
nb_sw_port_name(struct nb_daemon *d, int port)
{
	struct nb_vif *v;
	struct nb_pif *p;

	if (port < 0 || port >= (int)NB_MAX_SW_PORTS)
		return NULL;
	v = atomic_load(&d->ports[port]);
	if (v)
		return v->name;
	p = atomic_load(&d->pifs_by_port[port]);
	return p ? p->name : NULL;
}

uint64_t
nb_sw_port_drops(const struct nb_daemon *d, int port)
{
	uint64_t n = 0;

	if (port < 0)
		return 0;
	for (unsigned c = 0; c < SW_C_COUNT; c++)
		if (sw_counter_is_drop(c))
			n += sw_port_counter(d->sw, port, c);
	return n;
}

void
nb_pif_counters(const struct nb_pif *p, uint64_t c[NB_P_COUNT])
{
	memset(c, 0, sizeof(uint64_t) * NB_P_COUNT);
	for (unsigned i = 0; i < NB_MAX_WORKERS; i++)
		for (unsigned j = 0; j < NB_P_COUNT; j++)
			c[j] += p->stats[i][j];
}

const char *
nb_link_name(int link)
{
	return link == NB_LINK_UP ? "up" : link == NB_LINK_DOWN ? "down"
								 : "unknown";
}

struct nb_pif *
nb_pif_find(struct nb_daemon *d, const char *name)
{
	for (unsigned i = 0; i < d->npifs; i++)
		if (strcmp(d->pifs[i]->name, name) == 0)
			return d->pifs[i];
	return NULL;
}

/*
 * Open a DPDK port and make it a port of switch network `net`; once the
 * workers run (live), its RX queues go to them. On failure nothing of it
 * is left.
 */
static int
port_open(struct nb_daemon *d, int net, const char *devargs, unsigned mtu,
	  bool uplink, const char *netname, bool live,
	  const struct sw_vlan_conf *vc, const char *vlan)
{
	struct sw_port_conf pc;
	struct nb_pif *p;
	int r;

	if (d->npifs == NB_MAX_PIFS) {
		nb_err("network %s: more than %u DPDK ports in all", netname,
		       NB_MAX_PIFS);
		return -ENOSPC;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	snprintf(p->devargs, sizeof(p->devargs), "%s", devargs);
	p->net = net;
	p->uplink = uplink;
	p->mtu = (uint16_t)mtu;
	p->sw_port = -1;
	snprintf(p->vlan, sizeof(p->vlan), "%s", vlan ? vlan : "");
	d->pifs[d->npifs++] = p;
	r = nb_pif_open(d, p);
	if (r < 0)
		goto fail;
	/* Only the pif is the switch's uplink; a further port is a trusted
	 * one all the same (no anti-spoofing: hosts live behind it). */
	sw_port_conf_init(&pc, net, uplink);
	pc.antispoof = false;
	pc.vlan_conf = vc ? vc : &uplink_vlans;
	r = sw_port_add(d->sw, &pc);
	if (r < 0) {
		nb_err("network %s: cannot add %s to the switch: %s", netname,
		       p->name, strerror(-r));
		goto fail;
	}
	p->sw_port = r;
	if (live) {
		r = nb_workers_add_pif(d, p);
		if (r < 0) {
			nb_err("network %s: %s: no worker takes its queues: %s",
			       netname, p->name, strerror(-r));
			sw_port_del(d->sw, p->sw_port);
			rte_rcu_qsbr_synchronize(d->rcu,
						 RTE_QSBR_THRID_INVALID);
			sw_reclaim(d->sw);
			goto fail;
		}
	}
	atomic_store(&d->pifs_by_port[p->sw_port], p);
	nb_info("network %s: %s %s", netname, uplink ? "uplink" : "port",
		p->name);
	return 0;
fail:
	port_free(d, p);
	return r;
}

/* Take p out of the switch and the workers' hands, then close it. */
static void
port_close(struct nb_daemon *d, struct nb_pif *p)
{
	atomic_store(&d->pifs_by_port[p->sw_port], NULL);
	atomic_store(&d->cap_mask[p->sw_port], 0);
	sw_port_del(d->sw, p->sw_port);
	nb_workers_del_pif(d, p);
	/* No worker sends to it any more once each has passed a
	 * quiescent point (or slept). */
	rte_rcu_qsbr_synchronize(d->rcu, RTE_QSBR_THRID_INVALID);
	sw_reclaim(d->sw);
	nb_info("network %s: %s %s removed", sw_net_name(d->sw, p->net),
		p->uplink ? "uplink" : "port", p->name);
	port_free(d, p);
}

int
nb_fwd_init(struct nb_daemon *d)
{
	struct sw_config cfg = {
		.max_ports = NB_MAX_SW_PORTS,
		.max_nets = NB_MAX_NETS,
		.table_size = NB_MAC_TABLE,
	};
	/* A guest must not be able to aim its sources at one bucket. */
	if (getrandom(&cfg.hash_seed, sizeof(cfg.hash_seed), 0) !=
	    sizeof(cfg.hash_seed))
		cfg.hash_seed = rte_get_tsc_cycles();
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
		sw_net_set_learn_limit(d->sw, net, nc->learn_limit);
		if (!nc->pif[0])
			nb_info("network %s: internal", nc->name);
		for (unsigned k = 0; k <= nc->nports; k++) {
			const char *dev = k == 0 ? nc->pif : nc->ports[k - 1];
			int r;

			if (!dev[0])
				continue;
			r = port_open(d, net, dev, nc->mtu, k == 0, nc->name,
				      false, NULL, NULL);
			if (r < 0)
				return r;
		}
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

int
nb_fwd_port_add(struct nb_daemon *d, const char *net, const char *devargs,
		bool uplink, const char *vlan, char *err, size_t errlen)
{
	struct nb_net_conf *nc = nb_conf_net(&d->conf, net);
	char dev[NB_DEVARGS_MAX], spec[SW_NAME_MAX + 64], name[SW_NAME_MAX];
	struct sw_vlan_conf vc;
	int r, n = sw_net_find(d->sw, net);

	if (!nc || n < 0) {
		snprintf(err, errlen, "no network '%s'", net);
		return -ENOENT;
	}
	/* VLANs as a vif's bridge key gives them: TAG, .TAG, :T1:T2 */
	if (vlan) {
		if (uplink) {
			snprintf(err, errlen, "network '%s': the uplink "
				 "carries every VLAN (no vlan=)", net);
			return -EINVAL;
		}
		snprintf(spec, sizeof(spec), "%s%s%s", net,
			 vlan[0] == '.' || vlan[0] == ':' ? "" : ".", vlan);
		if (strlen(vlan) > 48 || sw_parse_bridge(spec, name, &vc) < 0) {
			snprintf(err, errlen, "network '%s': bad vlan '%s' "
				 "(TAG, .TAG[:T1...] or :T1[:T2...])", net, vlan);
			return -EINVAL;
		}
	}
	/* The file's rules: syntax, one uplink, a device in one network. */
	r = nb_conf_add_port(&d->conf, net, devargs, uplink, "port-add", err,
			     errlen);
	if (r < 0)
		return r;
	r = port_open(d, n, devargs, nc->mtu, uplink, net, true,
		      vlan ? &vc : NULL, vlan);
	if (r < 0) {
		nb_devargs_name(devargs, dev, sizeof(dev));
		nb_conf_del_port(&d->conf, dev);
		snprintf(err, errlen,
			 "network '%s': cannot open DPDK port '%s': %s%s", net,
			 devargs, strerror(-r),
			 d->conf.sandbox || d->conf.user[0]
			     ? " (once running, netbackd opens no file and "
			       "no socket but packet sockets, and as `user` "
			       "not those either: name the port in the "
			       "configuration, or set sandbox = off and run "
			       "as root)"
			     : "");
		return r;
	}
	return 0;
}

int
nb_fwd_port_del(struct nb_daemon *d, const char *name, char *err,
		size_t errlen)
{
	struct nb_pif *p = nb_pif_find(d, name);

	if (!p) {
		snprintf(err, errlen, "no DPDK port '%s'", name);
		return -ENOENT;
	}
	nb_conf_del_port(&d->conf, p->name);
	port_close(d, p);
	return 0;
}

int
nb_fwd_net_add(struct nb_daemon *d, const char *name, const char *pif,
	       unsigned aging_s, unsigned mtu, char *err, size_t errlen)
{
	struct nb_net_conf *nc;
	int net, r;

	r = nb_conf_add_net(&d->conf, name, NULL, "net-add", 0, err, errlen);
	if (r < 0)
		return r;
	nc = &d->conf.nets[d->conf.nnets - 1];
	if (aging_s)
		nc->aging_s = aging_s;
	if (mtu)
		nc->mtu = mtu;
	net = sw_net_add(d->sw, name, nc->aging_s * 1000ull);
	if (net < 0) {
		snprintf(err, errlen, "network '%s': %s", name,
			 strerror(-net));
		nb_conf_del_net(&d->conf, name);
		return net;
	}
	sw_net_set_learn_limit(d->sw, net, nc->learn_limit);
	if (pif && pif[0]) {
		r = nb_fwd_port_add(d, name, pif, true, NULL, err, errlen);
		if (r < 0) {
			sw_net_del(d->sw, net);
			nb_conf_del_net(&d->conf, name);
			return r;
		}
	}
	nb_info("network %s: added (%s)", name, pif && pif[0] ? pif
							      : "internal");
	return 0;
}

int
nb_fwd_net_del(struct nb_daemon *d, const char *name, char *err,
	       size_t errlen)
{
	int net = sw_net_find(d->sw, name), r;
	struct nb_vif *v;
	unsigned nv = 0;
	size_t off;

	if (net < 0) {
		snprintf(err, errlen, "no network '%s'", name);
		return -ENOENT;
	}
	/* Guests stay where they are: the toolstack moves or removes
	 * them first, as with a Linux bridge that still has ports. */
	off = (size_t)snprintf(err, errlen, "network '%s' still serves", name);
	LIST_FOREACH(v, &d->vifs, link) {
		if (v->net != net)
			continue;
		if (off < errlen)
			off += (size_t)snprintf(err + off, errlen - off, "%s %s",
						nv ? "," : "", v->name);
		nv++;
	}
	if (nv)
		return -EBUSY;
	for (unsigned i = d->npifs; i-- > 0;)
		if (d->pifs[i]->net == net)
			port_close(d, d->pifs[i]);
	r = sw_net_del(d->sw, net);
	if (r < 0) {
		snprintf(err, errlen, "network '%s': %s", name, strerror(-r));
		return r;
	}
	nb_conf_del_net(&d->conf, name);
	nb_info("network %s: removed", name);
	return 0;
}

int
nb_fwd_vif_attach(struct nb_daemon *d, struct nb_vif *v, char *err,
		  size_t errlen)
{
	char name[SW_NAME_MAX];
	struct sw_vlan_conf vc;
	struct sw_port_conf pc;
	int net, r;

	if (v->bridge[0]) {
		/* xl's bridge=NAME[.TAG][:TRUNK...], as vif-openvswitch. */
		if (sw_parse_bridge(v->bridge, name, &vc) < 0) {
			snprintf(err, errlen, "bad bridge key \"%s\"",
				 v->bridge);
			return -EINVAL;
		}
	} else {
		/* No bridge key: the first network, as xl's default. */
		memset(&vc, 0, sizeof(vc));
		snprintf(name, sizeof(name), "%s", d->conf.nets[0].name);
	}
	net = sw_net_find(d->sw, name);
	if (net < 0) {
		snprintf(err, errlen, "no network \"%s\"", name);
		return -ENOENT;
	}
	sw_port_conf_init(&pc, net, false);
	pc.antispoof = !v->antispoof_off;
	const struct nb_net_conf *nc = nb_conf_net(&d->conf, name);
	if (nc)
		pc.learn_limit = nc->vif_learn_limit;
	pc.vlan_conf = &vc;
	memcpy(pc.mac, v->mac, 6);
	r = nb_xsval_ips(v->ip, &pc);
	if (r < 0) {
		snprintf(err, errlen, "bad ip key \"%s\"", v->ip);
		return r;
	}
	r = sw_port_add(d->sw, &pc);
	if (r < 0) {
		snprintf(err, errlen, "switch port: %s", strerror(-r));
		return r;
	}
	v->sw_port = r;
	v->net = net;
	v->trunk = vc.trunk;
	nb_fwd_mcast_filter(d, v);
	atomic_store_explicit(&d->ports[r], v, memory_order_release);
	return 0;
}

void
nb_fwd_vif_detach(struct nb_daemon *d, struct nb_vif *v)
{
	if (v->sw_port < 0)
		return;
	/* Workers holding the old pointer finish within the grace period
	 * the caller waits for before nb_fwd_reclaim(). */
	atomic_store(&d->ports[v->sw_port], NULL);
	atomic_store(&d->cap_mask[v->sw_port], 0);
	sw_port_del(d->sw, v->sw_port);
	v->sw_port = -1;
	v->net = -1;
}

int
nb_fwd_vif_rebridge(struct nb_daemon *d, struct nb_vif *v, const char *bridge,
		    char *err, size_t errlen)
{
	char name[SW_NAME_MAX], old[sizeof(v->bridge)];
	struct sw_vlan_conf vc;
	int r;

	if (strlen(bridge) >= sizeof(v->bridge) ||
	    sw_parse_bridge(bridge, name, &vc) < 0) {
		snprintf(err, errlen, "%s: bad bridge '%s' (NAME[.TAG][:T1...])",
			 v->name, bridge);
		return -EINVAL;
	}
	if (sw_net_find(d->sw, name) < 0) {
		snprintf(err, errlen, "%s: no network '%s'", v->name, name);
		return -ENOENT;
	}
	snprintf(old, sizeof(old), "%s", v->bridge);
	snprintf(v->bridge, sizeof(v->bridge), "%s", bridge);
	if (v->sw_port >= 0) {
		/* A new switch port: frames in between are dropped. */
		nb_fwd_vif_detach(d, v);
		rte_rcu_qsbr_synchronize(d->rcu, RTE_QSBR_THRID_INVALID);
		nb_fwd_reclaim(d);
		r = nb_fwd_vif_attach(d, v, err, errlen);
		if (r < 0) {
			char e2[128];

			snprintf(v->bridge, sizeof(v->bridge), "%s", old);
			if (nb_fwd_vif_attach(d, v, e2, sizeof(e2)) < 0)
				nb_vif_warn(v, "off the switch: %s", e2);
			return r;
		}
	}
	nb_xenbus_set_bridge(d, v, bridge);
	nb_vif_info(v, "bridge %s", bridge);
	return 0;
}

int
nb_fwd_vif_antispoof(struct nb_daemon *d, struct nb_vif *v, bool on)
{
	v->antispoof_off = !on;
	nb_vif_info(v, "anti-spoofing %s", on ? "on" : "off");
	if (v->sw_port < 0)
		return 0;
	return sw_port_set_antispoof(d->sw, v->sw_port, on);
}

void
nb_fwd_reclaim(struct nb_daemon *d)
{
	sw_reclaim(d->sw);
}

void
nb_fwd_mcast_filter(struct nb_daemon *d, struct nb_vif *v)
{
	if (v->sw_port >= 0)
		sw_port_mcast_filter(d->sw, v->sw_port, v->mcast_filter);
}

int
nb_fwd_mcast(struct nb_vif *v, struct nb_daemon *d, bool add,
	     const uint8_t mac[6])
{
	int r, port = v->sw_port;

	if (port < 0)
		return -ENOENT;
	/* Queues of one vif may sit on different workers: one writer of
	 * the port's group list at a time. */
	rte_spinlock_lock(&v->mcast_lock);
	r = add ? sw_port_mcast_add(d->sw, port, mac)
		: sw_port_mcast_del(d->sw, port, mac);
	rte_spinlock_unlock(&v->mcast_lock);
	return r;
}

/*
 * Make m leave with the 802.1Q tag `tag` (0: untagged); `tagged` says
 * whether it carries one now. The priority bits of a tag that stays are
 * kept. m must not be shared. False when there is no headroom.
 */
static bool
retag(struct rte_mbuf *m, bool tagged, uint16_t tag)
{
	uint8_t *p;

	if (tagged && tag) {
		p = rte_pktmbuf_mtod(m, uint8_t *);
		p[14] = (uint8_t)((p[14] & 0xf0) | (tag >> 8));
		p[15] = (uint8_t)tag;
		return true;
	}
	if (tagged) {
		p = rte_pktmbuf_mtod(m, uint8_t *);
		memmove(p + 4, p, 12);
		rte_pktmbuf_adj(m, 4);
		return true;
	}
	if (!tag)
		return true;
	p = (uint8_t *)rte_pktmbuf_prepend(m, 4);
	if (!p)
		return false;
	memmove(p, p + 4, 12);
	p[12] = 0x81;
	p[13] = 0x00;
	p[14] = (uint8_t)(tag >> 8);
	p[15] = (uint8_t)tag;
	return true;
}

/* Does a frame carrying (tagged, vid) need changing to leave with tag? */
static inline bool
needs_retag(bool tagged, uint16_t vid, uint16_t tag)
{
	return tagged ? tag != vid : tag != 0;
}

/* sum: the burst's, when it is a whole received burst, or NULL. */
static void
deliver(struct nb_worker *w, uint16_t port, struct rte_mbuf **pkts,
	unsigned n, const struct nb_burst_sum *sum)
{
	struct nb_daemon *d = w->d;
	struct nb_vif *v = atomic_load_explicit(&d->ports[port],
						memory_order_acquire);

	if (v) {
		nb_capture_maybe(w, port, pkts, n, true);
		nb_deliver_vif(w, v, pkts, n);
		return;
	}
	struct nb_pif *p = atomic_load_explicit(&d->pifs_by_port[port],
						memory_order_acquire);
	if (p) {
		nb_capture_maybe(w, port, pkts, n, true);
		nb_deliver_pif(w, p, pkts, n, sum);
		return;
	}
	rte_pktmbuf_free_bulk(pkts, n);
}

/* The frame's own VID when tagged (sw_result.vlan is the network's). */
static inline uint16_t
frame_vid(const struct rte_mbuf *m)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);

	return (uint16_t)((p[14] & 0x0f) << 8 | p[15]);
}

static struct rte_mbuf *
copy_frame(struct nb_worker *w, struct rte_mbuf *m)
{
	/* A deep copy: the copy may be retagged or segmented alone. */
	return rte_pktmbuf_copy(m, w->pool, 0, UINT32_MAX);
}

/*
 * A flooded frame: destinations that take it as it is share it (they
 * only read it; a PIF may complete a checksum, the same for all);
 * those that need another tag, and every destination of a GSO packet
 * (segmenting changes it), get their own copy.
 */
static void
flood(struct nb_worker *w, int in, struct rte_mbuf *m,
      const struct sw_result *r)
{
	struct sw_egress eg[NB_MAX_FLOOD];
	unsigned ne = sw_flood(w->d->sw, in, r, eg, NB_MAX_FLOOD);
	bool tagged = r->flags & SW_F_TAGGED;
	uint16_t vid = tagged ? frame_vid(m) : 0;
	bool gso = nb_is_gso(m);
	unsigned same = 0, last_same = 0;

	if (ne > NB_MAX_FLOOD)
		ne = NB_MAX_FLOOD;
	for (unsigned j = 0; j < ne; j++) {
		if (!gso && !needs_retag(tagged, vid, eg[j].tag)) {
			same++;
			last_same = j;
		}
	}
	for (unsigned j = 0; j < ne; j++) {
		if (!gso && !needs_retag(tagged, vid, eg[j].tag))
			continue;
		/* The original goes to the last destination when nobody
		 * takes it unchanged. */
		bool own = same == 0 && j == ne - 1;
		struct rte_mbuf *c = own ? m : copy_frame(w, m);

		if (!c)
			continue;
		if (!retag(c, tagged, eg[j].tag)) {
			rte_pktmbuf_free(c);
			continue;
		}
		deliver(w, eg[j].port, &c, 1, NULL);
	}
	if (same == 0) {
		if (ne == 0)
			rte_pktmbuf_free(m);
		return;
	}
	rte_mbuf_refcnt_update(m, (int16_t)(same - 1));
	for (unsigned j = 0; j < ne; j++) {
		if (gso || needs_retag(tagged, vid, eg[j].tag))
			continue;
		deliver(w, eg[j].port, &m, 1, NULL);
		if (j == last_same)
			break;
	}
}

/* from: the port the burst came in on, or NULL for a vif. */
static void
fwd_burst(struct nb_worker *w, int in, struct nb_pif *from,
	  struct rte_mbuf **pkts, unsigned n)
{
	struct sw_frame f[NB_BURST];
	struct sw_result res[NB_BURST];
	struct rte_mbuf *batch[NB_BURST];
	struct nb_burst_sum sum = { 0, 0 };
	struct sw_group g;
	struct sw *sw = w->d->sw;

	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];

		f[i].data = rte_pktmbuf_mtod(m, const uint8_t *);
		f[i].len = m->data_len;
		sum.bytes += m->pkt_len;
		sum.ol |= m->ol_flags;
	}
	if (from) {
		from->stats[w->id][NB_P_RX_PACKETS] += n;
		from->stats[w->id][NB_P_RX_BYTES] += sum.bytes;
		if (unlikely(sum.ol & RTE_MBUF_F_RX_LRO)) {
			sum.ol = 0;
			for (unsigned i = 0; i < n; i++) {
				nb_pif_rx_lro(pkts[i]);
				sum.ol |= pkts[i]->ol_flags;
			}
		}
	}
	nb_capture_maybe(w, (unsigned)in, pkts, n, false);
	n = sw_forward_group(sw, in, f, n, nb_tsc_ms(w->tsc), res, &g);

	/* The common burst: all of it to one port, as it is. */
	if (g.ndest == 1 && g.dest[0].n == n && !(g.flags & SW_F_RETAG)) {
		deliver(w, g.dest[0].port, pkts, n, &sum);
		return;
	}
	for (unsigned i = 0; i < g.ndrop; i++)
		rte_pktmbuf_free(pkts[g.drop[i]]);
	/* Each destination gets its frames at once, in order. */
	for (unsigned d = 0; d < g.ndest; d++) {
		unsigned k = 0;

		for (unsigned j = 0; j < g.dest[d].n; j++) {
			unsigned i = g.idx[g.dest[d].first + j];
			struct rte_mbuf *m = pkts[i];

			if ((res[i].flags & SW_F_RETAG) &&
			    !retag(m, res[i].flags & SW_F_TAGGED,
				   res[i].tag)) {
				rte_pktmbuf_free(m);
				continue;
			}
			batch[k++] = m;
		}
		if (k)
			deliver(w, g.dest[d].port, batch, k, NULL);
	}
	for (unsigned i = 0; i < g.nflood; i++) {
		unsigned fi = g.flood[i];

		flood(w, in, pkts[fi], &res[fi]);
	}
}

void
nb_fwd_from_vif(struct nb_worker *w, struct nb_vif *v, struct rte_mbuf **pkts,
		unsigned n)
{
	/* Read once: control may move the vif to another port meanwhile. */
	int port = __atomic_load_n(&v->sw_port, __ATOMIC_RELAXED);

	if (port < 0) {
		rte_pktmbuf_free_bulk(pkts, n);
		return;
	}
	fwd_burst(w, port, NULL, pkts, n);
}

void
nb_fwd_from_pif(struct nb_worker *w, struct nb_pif *p, struct rte_mbuf **pkts,
		unsigned n)
{
	fwd_burst(w, p->sw_port, p, pkts, n);
}

/* ---- reload: the configuration file's networks and ports, again ---- */

static bool
net_has_dev(const struct nb_net_conf *n, const char *devargs, bool *pif)
{
	if (n->pif[0] && strcmp(n->pif, devargs) == 0) {
		*pif = true;
		return true;
	}
	for (unsigned k = 0; k < n->nports; k++)
		if (strcmp(n->ports[k], devargs) == 0) {
			*pif = false;
			return true;
		}
	return false;
}

/* Append to the report. */
static void __attribute__((format(printf, 3, 4)))
say(char *msg, size_t len, const char *fmt, ...)
{
	size_t n = strlen(msg);
	va_list ap;

	if (n + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(msg + n, len - n, fmt, ap);
	va_end(ap);
}

int
nb_fwd_reload(struct nb_daemon *d, const char *path, const char *text,
	      char *msg, size_t len)
{
	struct nb_conf *nc = malloc(sizeof(*nc));
	char err[512];
	int r = 0;

	msg[0] = '\0';
	if (!nc) {
		snprintf(msg, len, "out of memory");
		return -ENOMEM;
	}
	nb_conf_defaults(nc);
	if (nb_conf_parse(nc, path, text, err, sizeof(err)) < 0) {
		snprintf(msg, len, "%s (nothing changed)", err);
		free(nc);
		return -EINVAL;
	}
	if (nc->nnets == 0) /* as at start: libxl's default bridge */
		nb_conf_add_net(nc, "xenbr0", NULL, "default", 0, err,
				sizeof(err));
	/* Networks that go must have no vif left: check all first. */
	for (unsigned i = 0; i < d->conf.nnets; i++) {
		const char *name = d->conf.nets[i].name;
		int net = sw_net_find(d->sw, name);
		struct nb_vif *v;

		if (nb_conf_net(nc, name))
			continue;
		LIST_FOREACH(v, &d->vifs, link)
			if (v->net == net && net >= 0) {
				snprintf(msg, len, "network '%s' is gone from %s "
					 "but still serves %s (nothing "
					 "changed)", name, path, v->name);
				free(nc);
				return -EBUSY;
			}
	}
	/* Ports gone or changed, then networks gone. */
	for (unsigned i = d->npifs; i-- > 0;) {
		struct nb_pif *p = d->pifs[i];
		const struct nb_net_conf *n =
		    nb_conf_net(nc, sw_net_name(d->sw, p->net));
		bool pif;

		if (n && !p->vlan[0] && net_has_dev(n, p->devargs, &pif) &&
		    pif == p->uplink)
			continue;
		say(msg, len, "port %s removed; ", p->name);
		nb_fwd_port_del(d, p->name, err, sizeof(err));
	}
	for (unsigned i = d->conf.nnets; i-- > 0;) {
		char name[NB_NAME_MAX];

		snprintf(name, sizeof(name), "%s", d->conf.nets[i].name);
		if (nb_conf_net(nc, name))
			continue;
		if (nb_fwd_net_del(d, name, err, sizeof(err)) < 0) {
			say(msg, len, "%s; ", err);
			r = -EBUSY;
		} else {
			say(msg, len, "network %s removed; ", name);
		}
	}
	/* Networks new, and ports new on the others. */
	for (unsigned i = 0; i < nc->nnets; i++) {
		const struct nb_net_conf *n = &nc->nets[i];
		struct nb_net_conf *cur = nb_conf_net(&d->conf, n->name);
		int net;

		if (!cur) {
			if (nb_fwd_net_add(d, n->name, NULL, n->aging_s, n->mtu,
					   err, sizeof(err)) < 0) {
				say(msg, len, "%s; ", err);
				r = -EINVAL;
				continue;
			}
			say(msg, len, "network %s added; ", n->name);
			cur = nb_conf_net(&d->conf, n->name);
		}
		net = sw_net_find(d->sw, n->name);
		if (cur->aging_s != n->aging_s) {
			cur->aging_s = n->aging_s;
			sw_net_set_aging(d->sw, net, n->aging_s * 1000ull);
			say(msg, len, "network %s: aging %u s; ", n->name,
			    n->aging_s);
		}
		if (cur->learn_limit != n->learn_limit) {
			cur->learn_limit = n->learn_limit;
			sw_net_set_learn_limit(d->sw, net, n->learn_limit);
			say(msg, len, "network %s: learn-limit %u; ", n->name,
			    n->learn_limit);
		}
		if (cur->vif_learn_limit != n->vif_learn_limit) {
			cur->vif_learn_limit = n->vif_learn_limit;
			say(msg, len, "network %s: vif-learn-limit %u for vifs "
			    "that join from now on; ", n->name,
			    n->vif_learn_limit);
		}
		if (cur->mtu != n->mtu) {
			cur->mtu = n->mtu;
			say(msg, len, "network %s: mtu %u for ports added from "
			    "now on; ", n->name, n->mtu);
		}
		for (unsigned k = 0; k <= n->nports; k++) {
			const char *dev = k == 0 ? n->pif : n->ports[k - 1];
			char devname[NB_DEVARGS_MAX];
			struct nb_pif *p;

			if (!dev[0])
				continue;
			nb_devargs_name(dev, devname, sizeof(devname));
			p = nb_pif_find(d, devname);
			if (p && strcmp(p->devargs, dev) == 0)
				continue;
			if (nb_fwd_port_add(d, n->name, dev, k == 0, NULL, err,
					    sizeof(err)) < 0) {
				say(msg, len, "%s; ", err);
				r = -EINVAL;
			} else {
				say(msg, len, "%s %s added to %s; ",
				    k == 0 ? "uplink" : "port", devname,
				    n->name);
			}
		}
	}
	/* What only a restart changes. */
	if (nc->workers != d->conf.workers || strcmp(nc->eal, d->conf.eal) ||
	    nc->mbufs != d->conf.mbufs || nc->poll_always != d->conf.poll_always ||
	    strcmp(nc->user, d->conf.user) || nc->sandbox != d->conf.sandbox)
		say(msg, len, "[netbackd] changes (workers, eal, mbufs, poll, "
			      "user, sandbox) wait for a restart; ");
	if (!msg[0])
		snprintf(msg, len, "nothing to change");
	else
		msg[strlen(msg) - 2] = '\0'; /* the last "; " */
	free(nc);
	return r;
}
