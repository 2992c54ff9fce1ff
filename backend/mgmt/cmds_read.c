/* SPDX-License-Identifier: GPL-2.0-only */
/* The reading commands: status, networks, ports, vifs, fdb, stats. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <rte_telemetry.h>
#include <rte_version.h>

#include "mgmt_priv.h"
#include "pcapng.h"
#include "sw.h"
#include "xsval.h"

/* ------------------------------------------------------------- objects */

/* The switch port a name stands for, -1 if none. */
int
name_port(struct nb_daemon *d, const char *name)
{
	struct ctl_vif *v = ctl_vif_by_name(d, name);
	struct dp_eth *p;

	if (v)
		return v->dp.sw_port;
	p = ctl_eth_find(d, name);
	return p ? p->sw_port : -1;
}

const char *const pstat_names[] = {
#define NB_X_NAME(e, s) s,
	DP_ESTATS(NB_X_NAME)
#undef NB_X_NAME
};

static void
sw_counters_out(struct out *o, struct nb_daemon *d, int port, int net)
{
	o_obj(o, "switch");
	for (unsigned c = 0; c < SW_C_COUNT; c++)
		o_u64(o, sw_counter_name(c),
		      port >= 0 ? sw_port_counter(d->dp.sw, port, c)
				: sw_net_counter(d->dp.sw, net, c));
	o_close(o);
}

static void
pif_out(struct out *o, struct nb_daemon *d, const struct dp_eth *p, bool full)
{
	uint64_t c[DP_E_COUNT];

	dp_eth_counters(p, c);
	o_obj(o, NULL);
	o_str(o, "name", p->name);
	o_str(o, "devargs", p->devargs);
	o_str(o, "network", sw_net_name(d->dp.sw, p->net) ?: "");
	o_str(o, "role", p->uplink ? "uplink" : "port");
	o_str(o, "vlans", p->vlan[0] ? p->vlan : "all");
	o_u64(o, "dpdk_port", p->port_id);
	o_int(o, "switch_port", p->sw_port);
	o_u64(o, "rx_queues", p->nrxq);
	o_u64(o, "tx_queues", p->ntxq);
	o_bool(o, "rss", p->rss);
	o_bool(o, "tx_queues_shared", p->txq_shared);
	o_u64(o, "mtu", p->mtu);
	o_str(o, "link", dp_link_name(atomic_load(&p->link)));
	o_u64(o, "link_speed_mbps", p->link_speed);
	o_u64(o, "link_changes", p->link_changes);
	o_bool(o, "rx_interrupts", p->intr);
	o_bool(o, "tso", p->tso);
	o_bool(o, "lro", p->lro);
	o_bool(o, "whole_frames", p->ring.map != NULL);
	o_obj(o, "counters");
	for (unsigned j = 0; j < DP_E_COUNT; j++)
		o_u64(o, pstat_names[j], c[j]);
	o_u64(o, "switch_drops", ctl_sw_port_drops(d, p->sw_port));
	o_close(o);
	if (full) {
		sw_counters_out(o, d, p->sw_port, -1);
		/* The PMD's own counters, as dpdk-proc-info shows them. */
		int n = rte_eth_xstats_get(p->port_id, NULL, 0);
		if (n > 0 && n < 4096) {
			struct rte_eth_xstat *xs = calloc((size_t)n, sizeof(*xs));
			struct rte_eth_xstat_name *xn =
			    calloc((size_t)n, sizeof(*xn));

			if (xs && xn &&
			    rte_eth_xstats_get(p->port_id, xs, (unsigned)n) ==
				n &&
			    rte_eth_xstats_get_names(p->port_id, xn,
						     (unsigned)n) == n) {
				o_obj(o, "dpdk_xstats");
				for (int i = 0; i < n; i++)
					if (xs[i].id < (uint64_t)n)
						o_u64(o, xn[xs[i].id].name,
						      xs[i].value);
				o_close(o);
			}
			free(xs);
			free(xn);
		}
	}
	o_close(o);
}

static const char *
xenbus_state_name(int s)
{
	static const char *const n[] = {
		"Unknown",   "Initialising", "InitWait", "Initialised",
		"Connected", "Closing",	     "Closed",	 "Reconfiguring",
		"Reconfigured",
	};

	return s >= 0 && s < (int)(sizeof(n) / sizeof(n[0])) ? n[s] : "none";
}

static void
mac_str(const uint8_t m[6], char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2],
		 m[3], m[4], m[5]);
}

static void
qstats_out(struct out *o, const char *key, const uint64_t *s)
{
	o_obj(o, key);
	for (unsigned k = 0; k < DP_Q_COUNT; k++)
		o_u64(o, dp_qstat_name(k), s[k]);
	o_close(o);
}

static void
vif_out(struct out *o, struct nb_daemon *d, struct ctl_vif *v, bool full)
{
	char mac[24];
	uint64_t s[DP_Q_COUNT];

	ctl_vif_stats(v, s);
	mac_str(v->mac, mac, sizeof(mac));
	o_obj(o, NULL);
	o_str(o, "name", v->dp.name);
	o_u64(o, "domid", v->dp.domid);
	o_u64(o, "devid", v->devid);
	o_str(o, "state", v->dp.connected ? "connected" : "not connected");
	o_str(o, "xenbus_state", xenbus_state_name(v->be_state));
	o_str(o, "backend", v->be);
	o_str(o, "frontend", v->fe);
	o_str(o, "network", v->net >= 0 ? sw_net_name(d->dp.sw, v->net) ?: ""
					 : "");
	o_str(o, "bridge", v->bridge);
	o_bool(o, "trunk", v->trunk);
	o_int(o, "switch_port", v->dp.sw_port);
	o_str(o, "mac", mac);
	o_str(o, "ip", v->ip);
	o_bool(o, "antispoof", !v->antispoof_off);
	uint64_t rb = atomic_load(&v->dp.rate_bytes), ru = atomic_load(&v->dp.rate_usec);
	if (rb) {
		o_obj(o, "rate");
		o_u64(o, "bytes", rb);
		o_u64(o, "usec", ru);
		o_close(o);
	} else {
		o_str(o, "rate", "off");
	}
	o_obj(o, "features");
	o_bool(o, "sg", v->dp.feat.sg);
	o_bool(o, "gso_tcpv4", v->dp.feat.gso_tcpv4);
	o_bool(o, "gso_tcpv6", v->dp.feat.gso_tcpv6);
	o_bool(o, "csum", !v->dp.feat.no_csum);
	o_bool(o, "ipv6_csum", v->dp.feat.ipv6_csum);
	o_bool(o, "rx_notify", v->dp.feat.rx_notify);
	o_bool(o, "ctrl_ring", v->ctrl != NULL);
	o_bool(o, "static_grants", dp_vif_has_grefs(&v->dp));
	o_bool(o, "multicast_filter", v->mcast_filter);
	o_u64(o, "xdp_headroom", atomic_load(&v->dp.xdp_headroom));
	o_close(o);
	o_arr(o, "queues");
	for (unsigned i = 0; i < v->dp.nqueues; i++) {
		const struct dp_queue *q = &v->dp.queues[i];

		o_obj(o, NULL);
		o_u64(o, "id", q->id);
		o_int(o, "worker", dp_queue_worker_id(q));
		o_bool(o, "split_event_channels", q->split);
		o_u64(o, "tx_event_channel", q->tx_remote_evtchn);
		o_u64(o, "rx_event_channel", q->rx_remote_evtchn);
		o_u64(o, "rx_backlog", q->bl_count);
		o_bool(o, "stalled", q->stalled);
		o_bool(o, "throttled", q->throttled);
		if (full) {
			uint64_t qs[DP_Q_COUNT];

			for (unsigned k = 0; k < DP_Q_COUNT; k++)
				qs[k] = dp_queue_stat(q, k);
			qstats_out(o, "counters", qs);
		}
		o_close(o);
	}
	o_close(o);
	if (full) {
		qstats_out(o, "counters", s);
		sw_counters_out(o, d, v->dp.sw_port, -1);
	} else {
		o_obj(o, "counters");
		o_u64(o, "tx_packets", s[DP_Q_TX_PACKETS]);
		o_u64(o, "tx_bytes", s[DP_Q_TX_BYTES]);
		o_u64(o, "rx_packets", s[DP_Q_RX_PACKETS]);
		o_u64(o, "rx_bytes", s[DP_Q_RX_BYTES]);
		o_u64(o, "tx_errors", s[DP_Q_TX_ERRORS]);
		o_u64(o, "switch_drops", ctl_sw_port_drops(d, v->dp.sw_port));
		o_close(o);
	}
	o_close(o);
}

static int
count_entry(void *arg, const uint8_t mac[6], uint16_t vlan, int port,
	    bool is_static, uint64_t age_ms)
{
	(void)mac, (void)vlan, (void)port, (void)is_static, (void)age_ms;
	(*(unsigned *)arg)++;
	return 0;
}

/* ------------------------------------------------------------ commands */


/* Refuse: '1' and the reason. */
int __attribute__((format(printf, 2, 3)))
refuse(struct req *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	return 1;
}

int
usage_err(struct req *r, const char *use)
{
	snprintf(r->err, sizeof(r->err), "usage: %s", use);
	return 2;
}

int
cmd_status(struct req *r)
{
	struct nb_daemon *d = r->d;
	struct out *o = &r->o;
	struct ctl_vif *v;
	unsigned up = 0;

	LIST_FOREACH(v, &d->vifs, link)
		up += v->dp.connected;
	o_obj(o, NULL);
	o_str(o, "version", NB_VERSION);
	o_u64(o, "pid", (uint64_t)getpid());
	o_u64(o, "uptime_s", (nb_now_ms() - d->start_ms) / 1000);
	o_str(o, "hypervisor", d->dp.hv->ops->name);
	o_u64(o, "domid", d->self);
	o_str(o, "backend_root", d->be_root);
	o_str(o, "config", d->conf_path);
	o_str(o, "poll", d->conf.poll_always ? "always" : "adaptive");
	o_u64(o, "vifs", d->nvifs);
	o_u64(o, "vifs_connected", up);
	o_u64(o, "networks", d->conf.nnets);
	o_u64(o, "dpdk_ports", d->neth);
	o_u64(o, "mbufs", d->dp.pool->size);
	o_u64(o, "mbufs_in_use", rte_mempool_in_use_count(d->dp.pool));
	o_u64(o, "pages_mapped", d->dp.hv->maps);
	o_u64(o, "event_channels", d->dp.hv->ports);
	o_u64(o, "tsc_hz", rte_get_tsc_hz());
	o_arr(o, "workers");
	for (unsigned i = 0; i < d->dp.nworkers; i++) {
		struct dp_worker_totals t, *w = &t;

		dp_worker_totals(&d->dp, i, &t);
		o_obj(o, NULL);
		o_u64(o, "id", w->id);
		o_u64(o, "lcore", w->lcore);
		o_u64(o, "vif_queues", w->vif_queues);
		o_u64(o, "port_queues", w->port_queues);
		o_bool(o, "asleep", w->asleep);
		o_u64(o, "wakeups", w->wakeups);
		o_u64(o, "grant_copy_calls", w->copy_calls);
		o_u64(o, "grant_copy_segments", w->copy_segs);
		o_u64(o, "static_grant_copies", w->copy_static);
		o_u64(o, "guest_to_guest_copies", w->copy_direct);
		o_u64(o, "cut_packets_completed", w->cut_settled);
		o_u64(o, "notifications", w->notifies);
		o_u64(o, "busy_cycles", w->busy_cycles);
		o_u64(o, "grant_copy_hypercalls", w->copy_hypercalls);
		o_u64(o, "evtchn_calls", w->evtchn_calls);
		o_u64(o, "epoll_waits", w->epoll_waits);
		o_u64(o, "system_calls", w->sys_calls);
		o_u64(o, "rx_interrupt_arms", w->intr_arms);
		o_u64(o, "port_polls", w->port_polls);
		o_close(o);
	}
	o_close(o);
	o_close(o);
	return 0;
}

int
cmd_networks(struct req *r)
{
	struct nb_daemon *d = r->d;
	struct out *o = &r->o;

	o_obj(o, NULL);
	o_arr(o, "networks");
	for (unsigned i = 0; i < d->conf.nnets; i++) {
		const struct nb_net_conf *nc = &d->conf.nets[i];
		int net = sw_net_find(d->dp.sw, nc->name);
		unsigned entries = 0;
		struct ctl_vif *v;

		if (net < 0)
			continue;
		sw_table_walk(d->dp.sw, net, dp_fast_ms(), count_entry, &entries);
		o_obj(o, NULL);
		o_str(o, "name", nc->name);
		o_u64(o, "aging_s", nc->aging_s);
		o_u64(o, "mtu", nc->mtu);
		o_u64(o, "learn_limit", nc->learn_limit);
		o_u64(o, "vif_learn_limit", nc->vif_learn_limit);
		const char *up = "";
		for (unsigned k = 0; k < d->neth; k++)
			if (d->eth[k]->net == net && d->eth[k]->uplink)
				up = d->eth[k]->name;
		o_str(o, "uplink", up);
		o_arr(o, "ports");
		for (unsigned k = 0; k < d->neth; k++)
			if (d->eth[k]->net == net)
				o_str(o, NULL, d->eth[k]->name);
		o_close(o);
		o_arr(o, "vifs");
		LIST_FOREACH(v, &d->vifs, link)
			if (v->net == net)
				o_str(o, NULL, v->dp.name);
		o_close(o);
		o_u64(o, "mac_entries", entries);
		o_obj(o, "counters");
		o_u64(o, "rx", sw_net_counter(d->dp.sw, net, SW_C_RX));
		o_u64(o, "tx", sw_net_counter(d->dp.sw, net, SW_C_TX));
		o_u64(o, "flooded", sw_net_counter(d->dp.sw, net, SW_C_FLOODED));
		o_u64(o, "learned", sw_net_counter(d->dp.sw, net, SW_C_LEARNED));
		uint64_t drops = 0;
		for (unsigned c = 0; c < SW_C_COUNT; c++)
			if (sw_counter_is_drop(c))
				drops += sw_net_counter(d->dp.sw, net, c);
		o_u64(o, "drops", drops);
		o_close(o);
		o_close(o);
	}
	o_close(o);
	o_close(o);
	return 0;
}

int
cmd_ports(struct req *r)
{
	struct out *o = &r->o;

	o_obj(o, NULL);
	o_arr(o, "ports");
	for (unsigned k = 0; k < r->d->neth; k++)
		pif_out(o, r->d, r->d->eth[k], false);
	o_close(o);
	o_close(o);
	return 0;
}

int
cmd_vifs(struct req *r)
{
	struct out *o = &r->o;
	struct ctl_vif *v;

	o_obj(o, NULL);
	o_arr(o, "vifs");
	LIST_FOREACH(v, &r->d->vifs, link)
		vif_out(o, r->d, v, false);
	o_close(o);
	o_close(o);
	return 0;
}

struct fdb_walk {
	struct req *r;
	unsigned n;
};

static int
fdb_entry(void *arg, const uint8_t mac[6], uint16_t vlan, int port,
	  bool is_static, uint64_t age_ms)
{
	struct fdb_walk *fw = arg;
	struct out *o = &fw->r->o;
	const char *who = ctl_sw_port_name(fw->r->d, port);
	char m[24];

	mac_str(mac, m, sizeof(m));
	fw->n++;
	if (!o->json) {
		if (is_static)
			o_printf(o, "%-17s %4u  %-24s static\n", m, vlan,
				 who ? who : "?");
		else
			o_printf(o, "%-17s %4u  %-24s %" PRIu64 ".%" PRIu64 "\n",
				 m, vlan, who ? who : "?", age_ms / 1000,
				 age_ms % 1000 / 100);
		return 0;
	}
	o_obj(o, NULL);
	o_str(o, "mac", m);
	o_u64(o, "vlan", vlan);
	o_str(o, "port", who ? who : "");
	o_bool(o, "static", is_static);
	o_u64(o, "age_ms", age_ms);
	o_close(o);
	return 0;
}

int
cmd_fdb(struct req *r)
{
	struct out *o = &r->o;
	struct fdb_walk fw = { .r = r };
	int net;

	if (r->argc != 2)
		return usage_err(r, "fdb NETWORK");
	net = sw_net_find(r->d->dp.sw, r->argv[1]);
	if (net < 0)
		return refuse(r, "no network '%s'", r->argv[1]);
	if (o->json) {
		o_obj(o, NULL);
		o_str(o, "network", r->argv[1]);
		o_arr(o, "entries");
	} else {
		o_printf(o, "%-17s %4s  %-24s %s\n", "MAC", "VLAN", "PORT",
			 "AGE (s)");
	}
	sw_table_walk(r->d->dp.sw, net, dp_fast_ms(), fdb_entry, &fw);
	if (o->json) {
		o_close(o);
		o_u64(o, "count", fw.n);
		o_close(o);
	} else {
		o_printf(o, "%u entr%s\n", fw.n, fw.n == 1 ? "y" : "ies");
	}
	return 0;
}

int
cmd_stats(struct req *r)
{
	struct nb_daemon *d = r->d;
	struct out *o = &r->o;
	struct ctl_vif *v;

	if (r->argc > 2)
		return usage_err(r, "stats [VIF|PORT]");
	if (r->argc == 2) {
		struct dp_eth *p;

		if ((v = ctl_vif_by_name(d, r->argv[1]))) {
			vif_out(o, d, v, true);
			return 0;
		}
		if ((p = ctl_eth_find(d, r->argv[1]))) {
			pif_out(o, d, p, true);
			return 0;
		}
		return refuse(r, "no vif or DPDK port '%s'", r->argv[1]);
	}
	o_obj(o, NULL);
	o_arr(o, "vifs");
	LIST_FOREACH(v, &d->vifs, link)
		vif_out(o, d, v, true);
	o_close(o);
	o_arr(o, "ports");
	for (unsigned k = 0; k < d->neth; k++)
		pif_out(o, d, d->eth[k], true);
	o_close(o);
	o_close(o);
	return 0;
}

/* NETWORK MAC [vlan=N]: the network's index, mac, vlan; or refuses. */