/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Networks and their ports, as control keeps them: the configuration's
 * networks become switch networks, DPDK ports and vifs become switch
 * ports (a vif when it connects, with its bridge, mac and ip keys), and
 * all of it changes at run time (netbackctl, reload) under the same
 * rules as the file. Workers see the result through struct dp's
 * switch-port tables, published before and unpublished a grace period
 * before anything they could reach goes.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "ctl.h"
#include "xsval.h"
#include "sw.h"

/* An uplink carries every VLAN tagged and the untagged network as is. */
static const struct sw_vlan_conf uplink_vlans = {
	.trunk = true, .all = true, .vid = 0,
};

/* Forget p: out of d->eth, closed, freed. */
static void
port_free(struct nb_daemon *d, struct dp_eth *p)
{
	for (unsigned i = 0; i < d->neth; i++) {
		if (d->eth[i] != p)
			continue;
		memmove(&d->eth[i], &d->eth[i + 1],
			(d->neth - i - 1) * sizeof(d->eth[0]));
		d->eth[--d->neth] = NULL;
		break;
	}
	ctl_eth_close(d, p);
	free(p);
}


const char *
ctl_sw_port_name(struct nb_daemon *d, int port)
{
	struct dp_vif *v;
	struct dp_eth *p;

	if (port < 0 || port >= (int)DP_MAX_SW_PORTS)
		return NULL;
	v = atomic_load(&d->dp.vifs[port]);
	if (v)
		return v->name;
	p = atomic_load(&d->dp.eths[port]);
	return p ? p->name : NULL;
}

uint64_t
ctl_sw_port_drops(const struct nb_daemon *d, int port)
{
	uint64_t n = 0;

	if (port < 0)
		return 0;
	for (unsigned c = 0; c < SW_C_COUNT; c++)
		if (sw_counter_is_drop(c))
			n += sw_port_counter(d->dp.sw, port, c);
	return n;
}

struct dp_eth *
ctl_eth_find(struct nb_daemon *d, const char *name)
{
	for (unsigned i = 0; i < d->neth; i++)
		if (strcmp(d->eth[i]->name, name) == 0)
			return d->eth[i];
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
	struct dp_eth *p;
	int r;

	if (d->neth == DP_MAX_ETHS) {
		nb_err("network %s: more than %u DPDK ports in all", netname,
		       DP_MAX_ETHS);
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
	d->eth[d->neth++] = p;
	r = ctl_eth_open(d, p);
	if (r < 0)
		goto fail;
	/* Only the pif is the switch's uplink; a further port is a trusted
	 * one all the same (no anti-spoofing: hosts live behind it). */
	sw_port_conf_init(&pc, net, uplink);
	pc.antispoof = false;
	pc.vlan_conf = vc ? vc : &uplink_vlans;
	r = sw_port_add(d->dp.sw, &pc);
	if (r < 0) {
		nb_err("network %s: cannot add %s to the switch: %s", netname,
		       p->name, strerror(-r));
		goto fail;
	}
	p->sw_port = r;
	if (live) {
		r = dp_workers_add_eth(&d->dp, p);
		if (r < 0) {
			nb_err("network %s: %s: no worker takes its queues: %s",
			       netname, p->name, strerror(-r));
			sw_port_del(d->dp.sw, p->sw_port);
			rte_rcu_qsbr_synchronize(d->dp.rcu,
						 RTE_QSBR_THRID_INVALID);
			sw_reclaim(d->dp.sw);
			goto fail;
		}
	}
	atomic_store(&d->dp.eths[p->sw_port], p);
	nb_info("network %s: %s %s", netname, uplink ? "uplink" : "port",
		p->name);
	return 0;
fail:
	port_free(d, p);
	return r;
}

/* Take p out of the switch and the workers' hands, then close it. */
static void
port_close(struct nb_daemon *d, struct dp_eth *p)
{
	atomic_store(&d->dp.eths[p->sw_port], NULL);
	atomic_store(&d->dp.tap_mask[p->sw_port], 0);
	sw_port_del(d->dp.sw, p->sw_port);
	dp_workers_del_eth(&d->dp, p);
	/* No worker sends to it any more once each has passed a
	 * quiescent point (or slept). */
	rte_rcu_qsbr_synchronize(d->dp.rcu, RTE_QSBR_THRID_INVALID);
	sw_reclaim(d->dp.sw);
	nb_info("network %s: %s %s removed", sw_net_name(d->dp.sw, p->net),
		p->uplink ? "uplink" : "port", p->name);
	port_free(d, p);
}

int
ctl_net_init(struct nb_daemon *d)
{
	struct sw_config cfg = {
		.max_ports = DP_MAX_SW_PORTS,
		.max_nets = NB_MAX_NETS,
		.table_size = NB_MAC_TABLE,
	};
	/* A guest must not be able to aim its sources at one bucket. */
	if (getrandom(&cfg.hash_seed, sizeof(cfg.hash_seed), 0) !=
	    sizeof(cfg.hash_seed))
		cfg.hash_seed = rte_get_tsc_cycles();
	d->dp.sw = sw_create(&cfg);
	if (!d->dp.sw)
		return -errno;
	for (unsigned i = 0; i < d->conf.nnets; i++) {
		const struct nb_net_conf *nc = &d->conf.nets[i];
		int net = sw_net_add(d->dp.sw, nc->name, nc->aging_s * 1000ull);

		if (net < 0) {
			nb_err("network %s: %s", nc->name, strerror(-net));
			return net;
		}
		sw_net_set_learn_limit(d->dp.sw, net, nc->learn_limit);
		/* Internal only when nothing but guests is on it: a host
		 * port (net_tap, virtio-user) without an uplink still
		 * reaches beyond the guests. */
		if (!nc->pif[0] && nc->nports == 0)
			nb_info("network %s: internal", nc->name);
		else if (!nc->pif[0])
			nb_info("network %s: no uplink, %u port%s", nc->name,
				nc->nports, nc->nports == 1 ? "" : "s");
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
ctl_net_fini(struct nb_daemon *d)
{
	/* Last opened, first closed: a port may lean on one opened
	 * before it (a virtio-user port on netbackd's own vhost-user
	 * server, whose end must still answer while it stops). */
	for (unsigned i = d->neth; i-- > 0;) {
		ctl_eth_close(d, d->eth[i]);
		free(d->eth[i]);
		d->eth[i] = NULL;
	}
	d->neth = 0;
	sw_destroy(d->dp.sw);
	d->dp.sw = NULL;
}

int
ctl_port_add(struct nb_daemon *d, const char *net, const char *devargs,
		bool uplink, const char *vlan, char *err, size_t errlen)
{
	struct nb_net_conf *nc = nb_conf_net(&d->conf, net);
	char dev[NB_DEVARGS_MAX], spec[SW_NAME_MAX + 64], name[SW_NAME_MAX];
	struct sw_vlan_conf vc;
	int r, n = sw_net_find(d->dp.sw, net);

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
ctl_port_del(struct nb_daemon *d, const char *name, char *err,
		size_t errlen)
{
	struct dp_eth *p = ctl_eth_find(d, name);

	if (!p) {
		snprintf(err, errlen, "no DPDK port '%s'", name);
		return -ENOENT;
	}
	nb_conf_del_port(&d->conf, p->name);
	port_close(d, p);
	return 0;
}

int
ctl_net_add(struct nb_daemon *d, const char *name, const char *pif,
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
	net = sw_net_add(d->dp.sw, name, nc->aging_s * 1000ull);
	if (net < 0) {
		snprintf(err, errlen, "network '%s': %s", name,
			 strerror(-net));
		nb_conf_del_net(&d->conf, name);
		return net;
	}
	sw_net_set_learn_limit(d->dp.sw, net, nc->learn_limit);
	if (pif && pif[0]) {
		r = ctl_port_add(d, name, pif, true, NULL, err, errlen);
		if (r < 0) {
			sw_net_del(d->dp.sw, net);
			nb_conf_del_net(&d->conf, name);
			return r;
		}
	}
	nb_info("network %s: added (%s)", name, pif && pif[0] ? pif
							      : "internal");
	return 0;
}

int
ctl_net_del(struct nb_daemon *d, const char *name, char *err,
	       size_t errlen)
{
	int net = sw_net_find(d->dp.sw, name), r;
	struct ctl_vif *v;
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
						nv ? "," : "", v->dp.name);
		nv++;
	}
	if (nv)
		return -EBUSY;
	for (unsigned i = d->neth; i-- > 0;)
		if (d->eth[i]->net == net)
			port_close(d, d->eth[i]);
	r = sw_net_del(d->dp.sw, net);
	if (r < 0) {
		snprintf(err, errlen, "network '%s': %s", name, strerror(-r));
		return r;
	}
	nb_conf_del_net(&d->conf, name);
	nb_info("network %s: removed", name);
	return 0;
}

int
ctl_vif_attach(struct nb_daemon *d, struct ctl_vif *v, char *err,
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
	net = sw_net_find(d->dp.sw, name);
	if (net < 0) {
		snprintf(err, errlen, "no network \"%s\"", name);
		return -ENOENT;
	}
	sw_port_conf_init(&pc, net, false);
	pc.antispoof = !v->antispoof_off;
	/* RA guard (Router Advertisements and Redirects dropped) where
	 * the toolstack gave the guest its addresses: such a guest is a
	 * host, not the network's router. */
	pc.ra_guard = !v->antispoof_off && v->ip[0] != '\0';
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
	r = sw_port_add(d->dp.sw, &pc);
	if (r < 0) {
		snprintf(err, errlen, "switch port: %s", strerror(-r));
		return r;
	}
	v->dp.sw_port = r;
	v->net = net;
	v->trunk = vc.trunk;
	ctl_vif_mcast_filter(d, v);
	atomic_store_explicit(&d->dp.vifs[r], &v->dp, memory_order_release);
	return 0;
}

void
ctl_vif_detach(struct nb_daemon *d, struct ctl_vif *v)
{
	if (v->dp.sw_port < 0)
		return;
	/* Workers holding the old pointer finish within the grace period
	 * the caller waits for before ctl_reclaim(). */
	atomic_store(&d->dp.vifs[v->dp.sw_port], NULL);
	atomic_store(&d->dp.tap_mask[v->dp.sw_port], 0);
	sw_port_del(d->dp.sw, v->dp.sw_port);
	v->dp.sw_port = -1;
	v->net = -1;
}

int
ctl_vif_rebridge(struct nb_daemon *d, struct ctl_vif *v, const char *bridge,
		    char *err, size_t errlen)
{
	char name[SW_NAME_MAX], old[sizeof(v->bridge)];
	struct sw_vlan_conf vc;
	int r;

	if (strlen(bridge) >= sizeof(v->bridge) ||
	    sw_parse_bridge(bridge, name, &vc) < 0) {
		snprintf(err, errlen, "%s: bad bridge '%s' (NAME[.TAG][:T1...])",
			 v->dp.name, bridge);
		return -EINVAL;
	}
	if (sw_net_find(d->dp.sw, name) < 0) {
		snprintf(err, errlen, "%s: no network '%s'", v->dp.name, name);
		return -ENOENT;
	}
	snprintf(old, sizeof(old), "%s", v->bridge);
	snprintf(v->bridge, sizeof(v->bridge), "%s", bridge);
	if (v->dp.sw_port >= 0) {
		/* A new switch port: frames in between are dropped. */
		ctl_vif_detach(d, v);
		rte_rcu_qsbr_synchronize(d->dp.rcu, RTE_QSBR_THRID_INVALID);
		ctl_reclaim(d);
		r = ctl_vif_attach(d, v, err, errlen);
		if (r < 0) {
			char e2[128];

			snprintf(v->bridge, sizeof(v->bridge), "%s", old);
			if (ctl_vif_attach(d, v, e2, sizeof(e2)) < 0)
				nb_vif_warn(&v->dp, "off the switch: %s", e2);
			return r;
		}
	}
	ctl_xenbus_set_bridge(d, v, bridge);
	nb_vif_info(&v->dp, "bridge %s", bridge);
	return 0;
}

int
ctl_vif_antispoof(struct nb_daemon *d, struct ctl_vif *v, bool on)
{
	int r;

	v->antispoof_off = !on;
	nb_vif_info(&v->dp, "anti-spoofing %s", on ? "on" : "off");
	if (v->dp.sw_port < 0)
		return 0;
	r = sw_port_set_antispoof(d->dp.sw, v->dp.sw_port, on);
	if (r == 0)
		r = sw_port_set_ra_guard(d->dp.sw, v->dp.sw_port,
					 on && v->ip[0] != '\0');
	return r;
}

void
ctl_reclaim(struct nb_daemon *d)
{
	sw_reclaim(d->dp.sw);
}

void
ctl_vif_mcast_filter(struct nb_daemon *d, struct ctl_vif *v)
{
	if (v->dp.sw_port >= 0)
		sw_port_mcast_filter(d->dp.sw, v->dp.sw_port, v->mcast_filter);
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

/* How a report that did not fit ends (len must be longer). */
#define NB_REPORT_CUT " [...]"

/*
 * Append to the report. What does not fit is cut where the buffer
 * ends, and the mark then takes the last places: a reader sees that
 * there was more, and the text before it is what was said, whole.
 */
static void __attribute__((format(printf, 3, 4)))
say(char *msg, size_t len, const char *fmt, ...)
{
	const size_t mark = sizeof(NB_REPORT_CUT) - 1;
	size_t n = strlen(msg);
	va_list ap;
	int w;

	if (n + 1 < len) {
		va_start(ap, fmt);
		w = vsnprintf(msg + n, len - n, fmt, ap);
		va_end(ap);
		if (w >= 0 && (size_t)w < len - n)
			return;
	}
	/* Full now, or before (then the mark is there and stays). */
	memcpy(msg + len - 1 - mark, NB_REPORT_CUT, mark + 1);
}

int
ctl_reload(struct nb_daemon *d, const char *path, const char *text,
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
		int net = sw_net_find(d->dp.sw, name);
		struct ctl_vif *v;

		if (nb_conf_net(nc, name))
			continue;
		LIST_FOREACH(v, &d->vifs, link)
			if (v->net == net && net >= 0) {
				snprintf(msg, len, "network '%s' is gone from %s "
					 "but still serves %s (nothing "
					 "changed)", name, path, v->dp.name);
				free(nc);
				return -EBUSY;
			}
	}
	/* Ports gone or changed, then networks gone. */
	for (unsigned i = d->neth; i-- > 0;) {
		struct dp_eth *p = d->eth[i];
		const struct nb_net_conf *n =
		    nb_conf_net(nc, sw_net_name(d->dp.sw, p->net));
		bool pif;

		if (n && !p->vlan[0] && net_has_dev(n, p->devargs, &pif) &&
		    pif == p->uplink)
			continue;
		say(msg, len, "port %s removed; ", p->name);
		ctl_port_del(d, p->name, err, sizeof(err));
	}
	for (unsigned i = d->conf.nnets; i-- > 0;) {
		char name[NB_NAME_MAX];

		snprintf(name, sizeof(name), "%s", d->conf.nets[i].name);
		if (nb_conf_net(nc, name))
			continue;
		if (ctl_net_del(d, name, err, sizeof(err)) < 0) {
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
			if (ctl_net_add(d, n->name, NULL, n->aging_s, n->mtu,
					   err, sizeof(err)) < 0) {
				say(msg, len, "%s; ", err);
				r = -EINVAL;
				continue;
			}
			say(msg, len, "network %s added; ", n->name);
			cur = nb_conf_net(&d->conf, n->name);
		}
		net = sw_net_find(d->dp.sw, n->name);
		if (cur->aging_s != n->aging_s) {
			cur->aging_s = n->aging_s;
			sw_net_set_aging(d->dp.sw, net, n->aging_s * 1000ull);
			say(msg, len, "network %s: aging %u s; ", n->name,
			    n->aging_s);
		}
		if (cur->learn_limit != n->learn_limit) {
			cur->learn_limit = n->learn_limit;
			sw_net_set_learn_limit(d->dp.sw, net, n->learn_limit);
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
			struct dp_eth *p;

			if (!dev[0])
				continue;
			nb_devargs_name(dev, devname, sizeof(devname));
			p = ctl_eth_find(d, devname);
			if (p && strcmp(p->devargs, dev) == 0)
				continue;
			if (ctl_port_add(d, n->name, dev, k == 0, NULL, err,
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
	    nc->rx_queue_mbufs != d->conf.rx_queue_mbufs ||
	    nc->rx_queue_bytes != d->conf.rx_queue_bytes ||
	    strcmp(nc->user, d->conf.user) || nc->sandbox != d->conf.sandbox)
		say(msg, len, "[netbackd] changes (workers, eal, mbufs, poll, "
			      "rx-queue-mbufs, rx-queue-bytes, user, sandbox) "
			      "wait for a restart; ");
	size_t n = strlen(msg);

	if (n == 0)
		snprintf(msg, len, "nothing to change");
	else if (n >= 2 && strcmp(msg + n - 2, "; ") == 0)
		msg[n - 2] = '\0'; /* the last "; ", unless the report was cut */
	free(nc);
	return r;
}
