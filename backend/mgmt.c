/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The control socket netbackctl(8) talks to, and what it serves: reading
 * commands (status, networks, ports, vifs, fdb, stats) answered as text
 * or JSON, changes made while running (net-add, net-del, port-add,
 * port-del, vif-set), pcapng capture of a switch port, and the same
 * counters on DPDK's telemetry socket.
 *
 * One request per connection: netbackctl sends its arguments, each
 * ending in NUL, and an empty one to end them; the answer is a status
 * byte ('0' done, '1' refused, '2' bad request) then text until the
 * socket closes. Capture answers '0' and then a pcapng stream, until
 * netbackctl shuts its side (its count or time reached, or interrupted):
 * an Interface Statistics Block (received, dropped) ends it.
 *
 * Everything here runs on the control thread and never blocks on a
 * client: answers wait in a buffer per connection and leave as the
 * socket takes them. Telemetry requests come from DPDK's telemetry
 * thread and are answered by the control thread, which owns the
 * objects, while the telemetry thread waits.
 */
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

#include "nb.h"
#include "pcapng.h"
#include "sw.h"
#include "xsval.h"

#define NB_MGMT_CONNS 16u
/* A request: arguments, or a whole configuration for reload. */
#define NB_MGMT_REQ_MAX (1u << 20)
/* What a capture may have waiting for a slow reader before it drops. */
#define NB_CAP_OUT_MAX (8u << 20)
#define NB_CAP_RING 4096u
#define NB_CAP_MBUFS 4096u
#define NB_CAP_SNAPLEN 65535u

struct cap_hdr {
	uint64_t tsc;
	uint32_t orig_len;
	uint32_t out;
};

struct conn {
	int fd; /* -1: free */
	char *in; /* the request as it comes, growing to NB_MGMT_REQ_MAX */
	size_t inlen, incap;
	bool answered;
	char *out;
	size_t outlen, outoff, outcap;
	/* a capture: session index, what it watches */
	int cap;
	char cap_name[64];
	int cap_port;
	uint64_t cap_recv, cap_end_ms;
	bool cap_stopping;
};

struct tel_req {
	const char *cmd, *params;
	struct rte_tel_data *data;
	int ret;
	bool done;
};

struct nb_mgmt {
	int lfd;
	char path[108];
	bool unlink_path;
	struct conn c[NB_MGMT_CONNS];
	bool cap_used[NB_MAX_CAPTURES];
	/* telemetry: one request at a time, answered by control */
	int tel_fd;
	pthread_mutex_t tel_lock;
	pthread_cond_t tel_cond;
	struct tel_req *tel;
	/* TSC to wall clock, for capture timestamps */
	uint64_t tsc0, ns0;
};

/* ---------------------------------------------------------------- output */

/*
 * An answer: JSON, or indented "key: value" text. Objects and arrays
 * nest to NB_OUT_DEPTH.
 */
#define NB_OUT_DEPTH 12
struct out {
	char *b;
	size_t len, cap;
	bool json, oom;
	int depth;
	bool first[NB_OUT_DEPTH]; /* nothing written in it yet */
	bool arr[NB_OUT_DEPTH];   /* an array */
	bool dash[NB_OUT_DEPTH];  /* text: an object in an array, unstarted */
};

static void __attribute__((format(printf, 2, 3)))
o_printf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->oom)
		return;
	for (;;) {
		size_t room = o->cap - o->len;

		va_start(ap, fmt);
		n = vsnprintf(o->b ? o->b + o->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			o->oom = true;
			return;
		}
		if ((size_t)n < room) {
			o->len += (size_t)n;
			return;
		}
		size_t cap = o->cap ? o->cap * 2 : 4096;
		while (cap < o->len + (size_t)n + 1)
			cap *= 2;
		char *b = realloc(o->b, cap);
		if (!b) {
			o->oom = true;
			return;
		}
		o->b = b;
		o->cap = cap;
	}
}

static void
o_jstr(struct out *o, const char *s)
{
	o_printf(o, "\"");
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			o_printf(o, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			o_printf(o, "\\u%04x", ch);
		else
			o_printf(o, "%c", ch);
	}
	o_printf(o, "\"");
}

static void
o_indent(struct out *o)
{
	for (int i = 1; i < o->depth; i++)
		o_printf(o, "  ");
}

/* Start an item: the comma or the indentation, and the key. */
static void
o_key(struct out *o, const char *key)
{
	int d = o->depth;

	if (o->json) {
		if (!o->first[d])
			o_printf(o, ", ");
		o->first[d] = false;
		if (key && !o->arr[d]) {
			o_jstr(o, key);
			o_printf(o, ": ");
		}
		return;
	}
	o->first[d] = false;
	if (d == 0)
		return;
	if (o->arr[d]) {
		o_indent(o);
		o_printf(o, "-");
		return;
	}
	if (o->dash[d]) {
		/* first field of an object in an array: on the dash line */
		o->dash[d] = false;
		for (int i = 1; i < d - 1; i++)
			o_printf(o, "  ");
		o_printf(o, "- ");
	} else {
		o_indent(o);
	}
	o_printf(o, "%s:", key ? key : "");
}

static void
o_open(struct out *o, const char *key, bool arr)
{
	bool in_arr = o->depth > 0 && o->arr[o->depth];

	if (o->depth + 1 >= NB_OUT_DEPTH) {
		o->oom = true;
		return;
	}
	if (o->json) {
		if (o->depth > 0)
			o_key(o, key);
		o_printf(o, arr ? "[" : "{");
	} else if (o->depth > 0) {
		if (in_arr && !arr) {
			/* its first field goes on a "- " line */
			o->first[o->depth] = false;
		} else {
			o_key(o, key);
			o_printf(o, "\n");
		}
	}
	o->depth++;
	o->first[o->depth] = true;
	o->arr[o->depth] = arr;
	o->dash[o->depth] = !o->json && in_arr && !arr;
}

static void o_obj(struct out *o, const char *key) { o_open(o, key, false); }
static void o_arr(struct out *o, const char *key) { o_open(o, key, true); }

static void
o_close(struct out *o)
{
	if (o->depth == 0)
		return;
	if (o->json)
		o_printf(o, o->arr[o->depth] ? "]" : "}");
	else if (o->dash[o->depth] && o->depth > 1) {
		/* an empty object in an array */
		o_indent(o);
		o_printf(o, "- {}\n");
	}
	o->depth--;
	if (o->json && o->depth == 0)
		o_printf(o, "\n");
}

static void
o_str(struct out *o, const char *key, const char *v)
{
	o_key(o, key);
	if (o->json)
		o_jstr(o, v);
	else
		o_printf(o, *v ? " %s\n" : "\n", v);
}

static void
o_u64(struct out *o, const char *key, uint64_t v)
{
	o_key(o, key);
	o_printf(o, o->json ? "%" PRIu64 : " %" PRIu64 "\n", v);
}

static void
o_int(struct out *o, const char *key, int64_t v)
{
	o_key(o, key);
	o_printf(o, o->json ? "%" PRId64 : " %" PRId64 "\n", v);
}

static void
o_bool(struct out *o, const char *key, bool v)
{
	o_key(o, key);
	o_printf(o, o->json ? "%s" : " %s\n", v ? "true" : "false");
}

/* ------------------------------------------------------------- objects */

static struct nb_vif *
vif_find(struct nb_daemon *d, const char *name)
{
	struct nb_vif *v;

	LIST_FOREACH(v, &d->vifs, link)
		if (strcmp(v->name, name) == 0)
			return v;
	return NULL;
}

/* The switch port a name stands for, -1 if none. */
static int
name_port(struct nb_daemon *d, const char *name)
{
	struct nb_vif *v = vif_find(d, name);
	struct nb_pif *p;

	if (v)
		return v->sw_port;
	p = nb_pif_find(d, name);
	return p ? p->sw_port : -1;
}

static const char *const pstat_names[] = {
#define NB_X_NAME(e, s) s,
	NB_PSTATS(NB_X_NAME)
#undef NB_X_NAME
};

static void
sw_counters_out(struct out *o, struct nb_daemon *d, int port, int net)
{
	o_obj(o, "switch");
	for (unsigned c = 0; c < SW_C_COUNT; c++)
		o_u64(o, sw_counter_name(c),
		      port >= 0 ? sw_port_counter(d->sw, port, c)
				: sw_net_counter(d->sw, net, c));
	o_close(o);
}

static void
pif_out(struct out *o, struct nb_daemon *d, const struct nb_pif *p, bool full)
{
	uint64_t c[NB_P_COUNT];

	nb_pif_counters(p, c);
	o_obj(o, NULL);
	o_str(o, "name", p->name);
	o_str(o, "devargs", p->devargs);
	o_str(o, "network", sw_net_name(d->sw, p->net) ?: "");
	o_str(o, "role", p->uplink ? "uplink" : "port");
	o_str(o, "vlans", p->vlan[0] ? p->vlan : "all");
	o_u64(o, "dpdk_port", p->port_id);
	o_int(o, "switch_port", p->sw_port);
	o_u64(o, "rx_queues", p->nrxq);
	o_u64(o, "tx_queues", p->ntxq);
	o_u64(o, "mtu", p->mtu);
	o_str(o, "link", nb_link_name(atomic_load(&p->link)));
	o_u64(o, "link_speed_mbps", p->link_speed);
	o_u64(o, "link_changes", p->link_changes);
	o_bool(o, "rx_interrupts", p->intr);
	o_bool(o, "tso", p->tso);
	o_bool(o, "lro", p->lro);
	o_obj(o, "counters");
	for (unsigned j = 0; j < NB_P_COUNT; j++)
		o_u64(o, pstat_names[j], c[j]);
	o_u64(o, "switch_drops", nb_sw_port_drops(d, p->sw_port));
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
	for (unsigned k = 0; k < NB_Q_COUNT; k++)
		o_u64(o, nb_qstat_name(k), s[k]);
	o_close(o);
}

static void
vif_out(struct out *o, struct nb_daemon *d, struct nb_vif *v, bool full)
{
	char mac[24];
	uint64_t s[NB_Q_COUNT];

	nb_vif_stats(v, s);
	mac_str(v->mac, mac, sizeof(mac));
	o_obj(o, NULL);
	o_str(o, "name", v->name);
	o_u64(o, "domid", v->domid);
	o_u64(o, "devid", v->devid);
	o_str(o, "state", v->connected ? "connected" : "not connected");
	o_str(o, "xenbus_state", xenbus_state_name(v->be_state));
	o_str(o, "backend", v->be);
	o_str(o, "frontend", v->fe);
	o_str(o, "network", v->net >= 0 ? sw_net_name(d->sw, v->net) ?: ""
					 : "");
	o_str(o, "bridge", v->bridge);
	o_bool(o, "trunk", v->trunk);
	o_int(o, "switch_port", v->sw_port);
	o_str(o, "mac", mac);
	o_str(o, "ip", v->ip);
	o_bool(o, "antispoof", !v->antispoof_off);
	uint64_t rb = atomic_load(&v->rate_bytes), ru = atomic_load(&v->rate_usec);
	if (rb) {
		o_obj(o, "rate");
		o_u64(o, "bytes", rb);
		o_u64(o, "usec", ru);
		o_close(o);
	} else {
		o_str(o, "rate", "off");
	}
	o_obj(o, "features");
	o_bool(o, "sg", v->feat.sg);
	o_bool(o, "gso_tcpv4", v->feat.gso_tcpv4);
	o_bool(o, "gso_tcpv6", v->feat.gso_tcpv6);
	o_bool(o, "csum", !v->feat.no_csum);
	o_bool(o, "ipv6_csum", v->feat.ipv6_csum);
	o_bool(o, "rx_notify", v->feat.rx_notify);
	o_bool(o, "ctrl_ring", v->ctrl != NULL);
	o_bool(o, "static_grants", nb_vif_has_grefs(v));
	o_bool(o, "multicast_filter", v->mcast_filter);
	o_u64(o, "xdp_headroom", atomic_load(&v->xdp_headroom));
	o_close(o);
	o_arr(o, "queues");
	for (unsigned i = 0; i < v->nqueues; i++) {
		const struct nb_queue *q = &v->queues[i];

		o_obj(o, NULL);
		o_u64(o, "id", q->id);
		o_u64(o, "worker", q->worker ? q->worker->id : 0);
		o_bool(o, "split_event_channels", q->split);
		o_u64(o, "tx_event_channel", q->tx_rport);
		o_u64(o, "rx_event_channel", q->rx_rport);
		o_u64(o, "rx_backlog", q->bl_count);
		o_bool(o, "stalled", q->stalled);
		o_bool(o, "throttled", q->throttled);
		if (full)
			qstats_out(o, "counters", q->stats);
		o_close(o);
	}
	o_close(o);
	if (full) {
		qstats_out(o, "counters", s);
		sw_counters_out(o, d, v->sw_port, -1);
	} else {
		o_obj(o, "counters");
		o_u64(o, "tx_packets", s[NB_Q_TX_PACKETS]);
		o_u64(o, "tx_bytes", s[NB_Q_TX_BYTES]);
		o_u64(o, "rx_packets", s[NB_Q_RX_PACKETS]);
		o_u64(o, "rx_bytes", s[NB_Q_RX_BYTES]);
		o_u64(o, "tx_errors", s[NB_Q_TX_ERRORS]);
		o_u64(o, "switch_drops", nb_sw_port_drops(d, v->sw_port));
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

struct req {
	struct nb_daemon *d;
	struct conn *c;
	struct out o;
	int argc;
	char *argv[32];
	char err[512];
};

/* Refuse: '1' and the reason. */
static int __attribute__((format(printf, 2, 3)))
refuse(struct req *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	return 1;
}

static int
usage_err(struct req *r, const char *use)
{
	snprintf(r->err, sizeof(r->err), "usage: %s", use);
	return 2;
}

static int
cmd_status(struct req *r)
{
	struct nb_daemon *d = r->d;
	struct out *o = &r->o;
	struct nb_vif *v;
	unsigned up = 0;

	LIST_FOREACH(v, &d->vifs, link)
		up += v->connected;
	o_obj(o, NULL);
	o_str(o, "version", NB_VERSION);
	o_u64(o, "pid", (uint64_t)getpid());
	o_u64(o, "uptime_s", (nb_now_ms() - d->start_ms) / 1000);
	o_str(o, "hypervisor", d->hv->ops->name);
	o_u64(o, "domid", d->self);
	o_str(o, "backend_root", d->be_root);
	o_str(o, "config", d->conf_path);
	o_str(o, "poll", d->conf.poll_always ? "always" : "adaptive");
	o_u64(o, "vifs", d->nvifs);
	o_u64(o, "vifs_connected", up);
	o_u64(o, "networks", d->conf.nnets);
	o_u64(o, "dpdk_ports", d->npifs);
	o_u64(o, "mbufs", d->pool->size);
	o_u64(o, "mbufs_in_use", rte_mempool_in_use_count(d->pool));
	o_u64(o, "pages_mapped", d->hv->maps);
	o_u64(o, "event_channels", d->hv->ports);
	o_u64(o, "tsc_hz", rte_get_tsc_hz());
	o_arr(o, "workers");
	for (unsigned i = 0; i < d->nworkers; i++) {
		const struct nb_worker *w = &d->workers[i];

		o_obj(o, NULL);
		o_u64(o, "id", w->id);
		o_u64(o, "lcore", w->lcore);
		o_u64(o, "vif_queues", w->nq);
		o_u64(o, "port_queues", w->npq);
		o_bool(o, "asleep", atomic_load(&w->asleep));
		o_u64(o, "wakeups", w->wakeups);
		o_u64(o, "grant_copy_calls", w->copy_calls);
		o_u64(o, "grant_copy_segments", w->copy_segs);
		o_u64(o, "static_grant_copies", w->copy_static);
		o_u64(o, "notifications", w->notifies);
		o_u64(o, "busy_cycles", w->busy_cycles);
		o_close(o);
	}
	o_close(o);
	o_close(o);
	return 0;
}

static int
cmd_networks(struct req *r)
{
	struct nb_daemon *d = r->d;
	struct out *o = &r->o;

	o_obj(o, NULL);
	o_arr(o, "networks");
	for (unsigned i = 0; i < d->conf.nnets; i++) {
		const struct nb_net_conf *nc = &d->conf.nets[i];
		int net = sw_net_find(d->sw, nc->name);
		unsigned entries = 0;
		struct nb_vif *v;

		if (net < 0)
			continue;
		sw_table_walk(d->sw, net, nb_fast_ms(), count_entry, &entries);
		o_obj(o, NULL);
		o_str(o, "name", nc->name);
		o_u64(o, "aging_s", nc->aging_s);
		o_u64(o, "mtu", nc->mtu);
		o_u64(o, "learn_limit", nc->learn_limit);
		o_u64(o, "vif_learn_limit", nc->vif_learn_limit);
		const char *up = "";
		for (unsigned k = 0; k < d->npifs; k++)
			if (d->pifs[k]->net == net && d->pifs[k]->uplink)
				up = d->pifs[k]->name;
		o_str(o, "uplink", up);
		o_arr(o, "ports");
		for (unsigned k = 0; k < d->npifs; k++)
			if (d->pifs[k]->net == net)
				o_str(o, NULL, d->pifs[k]->name);
		o_close(o);
		o_arr(o, "vifs");
		LIST_FOREACH(v, &d->vifs, link)
			if (v->net == net)
				o_str(o, NULL, v->name);
		o_close(o);
		o_u64(o, "mac_entries", entries);
		o_obj(o, "counters");
		o_u64(o, "rx", sw_net_counter(d->sw, net, SW_C_RX));
		o_u64(o, "tx", sw_net_counter(d->sw, net, SW_C_TX));
		o_u64(o, "flooded", sw_net_counter(d->sw, net, SW_C_FLOODED));
		o_u64(o, "learned", sw_net_counter(d->sw, net, SW_C_LEARNED));
		uint64_t drops = 0;
		for (unsigned c = 0; c < SW_C_COUNT; c++)
			if (sw_counter_is_drop(c))
				drops += sw_net_counter(d->sw, net, c);
		o_u64(o, "drops", drops);
		o_close(o);
		o_close(o);
	}
	o_close(o);
	o_close(o);
	return 0;
}

static int
cmd_ports(struct req *r)
{
	struct out *o = &r->o;

	o_obj(o, NULL);
	o_arr(o, "ports");
	for (unsigned k = 0; k < r->d->npifs; k++)
		pif_out(o, r->d, r->d->pifs[k], false);
	o_close(o);
	o_close(o);
	return 0;
}

static int
cmd_vifs(struct req *r)
{
	struct out *o = &r->o;
	struct nb_vif *v;

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
	const char *who = nb_sw_port_name(fw->r->d, port);
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

static int
cmd_fdb(struct req *r)
{
	struct out *o = &r->o;
	struct fdb_walk fw = { .r = r };
	int net;

	if (r->argc != 2)
		return usage_err(r, "fdb NETWORK");
	net = sw_net_find(r->d->sw, r->argv[1]);
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
	sw_table_walk(r->d->sw, net, nb_fast_ms(), fdb_entry, &fw);
	if (o->json) {
		o_close(o);
		o_u64(o, "count", fw.n);
		o_close(o);
	} else {
		o_printf(o, "%u entr%s\n", fw.n, fw.n == 1 ? "y" : "ies");
	}
	return 0;
}

static int
cmd_stats(struct req *r)
{
	struct nb_daemon *d = r->d;
	struct out *o = &r->o;
	struct nb_vif *v;

	if (r->argc > 2)
		return usage_err(r, "stats [VIF|PORT]");
	if (r->argc == 2) {
		struct nb_pif *p;

		if ((v = vif_find(d, r->argv[1]))) {
			vif_out(o, d, v, true);
			return 0;
		}
		if ((p = nb_pif_find(d, r->argv[1]))) {
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
	for (unsigned k = 0; k < d->npifs; k++)
		pif_out(o, d, d->pifs[k], true);
	o_close(o);
	o_close(o);
	return 0;
}

/* NETWORK MAC [vlan=N]: the network's index, mac, vlan; or refuses. */
static int
fdb_args(struct req *r, int *net, uint8_t mac[6], uint16_t *vlan, int last)
{
	unsigned v = 0;

	*net = sw_net_find(r->d->sw, r->argv[1]);
	if (*net < 0)
		return refuse(r, "no network '%s'", r->argv[1]);
	if (nb_xsval_mac(r->argv[2], mac) < 0 || (mac[0] & 1))
		return refuse(r, "network '%s': bad unicast MAC '%s'",
			      r->argv[1], r->argv[2]);
	if (r->argc > last) {
		if (strncmp(r->argv[last], "vlan=", 5) != 0)
			return 2;
		if (nb_parse_uint(r->argv[last] + 5, 0, SW_VLAN_MAX, &v) < 0)
			return refuse(r, "network '%s': bad vlan '%s' "
					 "(0..%u)", r->argv[1],
				      r->argv[last] + 5, SW_VLAN_MAX);
	}
	*vlan = (uint16_t)v;
	return 0;
}

/* A static entry, as `bridge fdb add` / ovs-appctl fdb/add. */
static int
cmd_fdb_add(struct req *r)
{
	const char *use = "fdb-add NETWORK MAC VIF|PORT [vlan=N]";
	uint8_t mac[6];
	uint16_t vlan;
	int net, port, rc;

	if (r->argc < 4 || r->argc > 5)
		return usage_err(r, use);
	if ((rc = fdb_args(r, &net, mac, &vlan, 4)))
		return rc == 2 ? usage_err(r, use) : rc;
	port = name_port(r->d, r->argv[3]);
	if (port < 0)
		return refuse(r, "no vif on a network or DPDK port '%s'",
			      r->argv[3]);
	rc = sw_static_add(r->d->sw, net, mac, vlan, port);
	if (rc < 0)
		return refuse(r, "network '%s': cannot add %s on %s: %s",
			      r->argv[1], r->argv[2], r->argv[3],
			      rc == -EINVAL ? "the port is not on this network "
					      "or does not carry the VLAN"
					    : strerror(-rc));
	return 0;
}

static int
cmd_fdb_del(struct req *r)
{
	const char *use = "fdb-del NETWORK MAC [vlan=N]";
	uint8_t mac[6];
	uint16_t vlan;
	int net, rc;

	if (r->argc < 3 || r->argc > 4)
		return usage_err(r, use);
	if ((rc = fdb_args(r, &net, mac, &vlan, 3)))
		return rc == 2 ? usage_err(r, use) : rc;
	if (sw_static_del(r->d->sw, net, mac, vlan) < 0)
		return refuse(r, "network '%s': no static entry for %s vlan %u",
			      r->argv[1], r->argv[2], vlan);
	return 0;
}

/* Forget what a network learnt (static entries stay). */
static int
cmd_fdb_flush(struct req *r)
{
	int net;

	if (r->argc != 2)
		return usage_err(r, "fdb-flush NETWORK");
	net = sw_net_find(r->d->sw, r->argv[1]);
	if (net < 0)
		return refuse(r, "no network '%s'", r->argv[1]);
	sw_net_flush(r->d->sw, net);
	return 0;
}

/* KEY=VALUE arguments: the value of key, NULL if absent. */
static const char *
kv(struct req *r, int from, const char *key)
{
	size_t n = strlen(key);

	for (int i = from; i < r->argc; i++)
		if (strncmp(r->argv[i], key, n) == 0 && r->argv[i][n] == '=')
			return r->argv[i] + n + 1;
	return NULL;
}

/* Every KEY=VALUE argument from `from` has a key in keys (NULL-ended). */
static int
kv_check(struct req *r, int from, const char *const *keys, const char *use)
{
	for (int i = from; i < r->argc; i++) {
		const char *eq = strchr(r->argv[i], '=');
		bool ok = false;

		for (unsigned k = 0; eq && keys[k]; k++)
			ok |= strlen(keys[k]) == (size_t)(eq - r->argv[i]) &&
			      strncmp(r->argv[i], keys[k],
				      (size_t)(eq - r->argv[i])) == 0;
		if (!ok) {
			snprintf(r->err, sizeof(r->err),
				 "unknown setting '%s'; usage: %s", r->argv[i],
				 use);
			return 2;
		}
	}
	return 0;
}

static int
cmd_net_add(struct req *r)
{
	static const char *const keys[] = { "pif", "aging", "mtu", NULL };
	const char *use = "net-add NAME [pif=DEVARGS] [aging=S] [mtu=N]";
	const char *s;
	unsigned aging = 0, mtu = 0;
	int rc;

	if (r->argc < 2)
		return usage_err(r, use);
	if ((rc = kv_check(r, 2, keys, use)))
		return rc;
	if ((s = kv(r, 2, "aging")) && nb_parse_uint(s, 1, 86400, &aging) < 0)
		return refuse(r, "network '%s': aging must be 1..86400 s, "
				 "not '%s'", r->argv[1], s);
	if ((s = kv(r, 2, "mtu")) && nb_parse_uint(s, 68, 9600, &mtu) < 0)
		return refuse(r, "network '%s': mtu must be 68..9600, not '%s'",
			      r->argv[1], s);
	if (nb_fwd_net_add(r->d, r->argv[1], kv(r, 2, "pif"), aging, mtu,
			   r->err, sizeof(r->err)) < 0)
		return 1;
	return 0;
}

static int
cmd_net_del(struct req *r)
{
	if (r->argc != 2)
		return usage_err(r, "net-del NAME");
	return nb_fwd_net_del(r->d, r->argv[1], r->err, sizeof(r->err)) < 0;
}

static int
cmd_port_add(struct req *r)
{
	const char *use = "port-add NETWORK DEVARGS [uplink] [vlan=SPEC]";
	const char *vlan = NULL;
	bool uplink = false;

	if (r->argc < 3 || r->argc > 5)
		return usage_err(r, use);
	for (int i = 3; i < r->argc; i++) {
		if (strcmp(r->argv[i], "uplink") == 0)
			uplink = true;
		else if (strncmp(r->argv[i], "vlan=", 5) == 0)
			vlan = r->argv[i] + 5;
		else
			return usage_err(r, use);
	}
	return nb_fwd_port_add(r->d, r->argv[1], r->argv[2], uplink, vlan,
			       r->err, sizeof(r->err)) < 0;
}

static int
cmd_port_del(struct req *r)
{
	if (r->argc != 2)
		return usage_err(r, "port-del PORT");
	return nb_fwd_port_del(r->d, r->argv[1], r->err, sizeof(r->err)) < 0;
}

static int
cmd_vif_set(struct req *r)
{
	static const char *const keys[] = { "rate", "vlan", "bridge",
					    "antispoof", NULL };
	const char *use = "vif-set VIF rate=BYTES,USEC|off vlan=[.TAG][:T...] "
			  "bridge=NAME[.TAG][:T...] antispoof=on|off";
	struct nb_daemon *d = r->d;
	struct nb_vif *v;
	const char *s;
	int rc;

	if (r->argc < 3)
		return usage_err(r, use);
	if ((rc = kv_check(r, 2, keys, use)))
		return rc;
	v = vif_find(d, r->argv[1]);
	if (!v)
		return refuse(r, "no vif '%s'", r->argv[1]);
	/* Check everything before changing anything. */
	s = kv(r, 2, "rate");
	uint64_t b, u;
	if (s && strcmp(s, "off") != 0 && nb_xsval_rate(s, &b, &u) < 0)
		return refuse(r, "%s: bad rate '%s' (BYTES,USEC, both > 0, or "
				 "off)", v->name, s);
	const char *as = kv(r, 2, "antispoof");
	if (as && strcmp(as, "on") != 0 && strcmp(as, "off") != 0)
		return refuse(r, "%s: antispoof must be on or off, not '%s'",
			      v->name, as);
	if (as && strcmp(as, "on") == 0 && !(v->mac[0] | v->mac[1] | v->mac[2] |
					    v->mac[3] | v->mac[4] | v->mac[5]))
		return refuse(r, "%s: anti-spoofing needs the vif's mac key",
			      v->name);
	const char *vl = kv(r, 2, "vlan"), *br = kv(r, 2, "bridge");
	char bridge[sizeof(v->bridge) + 8];
	if (vl && br)
		return refuse(r, "%s: vlan= or bridge=, not both", v->name);
	if (vl) {
		/* the network stays, the VLAN part changes */
		char name[SW_NAME_MAX];
		struct sw_vlan_conf vc;

		if (!v->bridge[0] || sw_parse_bridge(v->bridge, name, &vc) < 0)
			snprintf(name, sizeof(name), "%s",
				 d->conf.nnets ? d->conf.nets[0].name : "");
		if (strcmp(vl, "none") == 0)
			vl = "";
		if (vl[0] && vl[0] != '.' && vl[0] != ':') {
			/* a plain number: an access port on that VLAN */
			snprintf(bridge, sizeof(bridge), "%s.%s", name, vl);
		} else {
			snprintf(bridge, sizeof(bridge), "%s%s", name, vl);
		}
		br = bridge;
	}
	if (br && nb_fwd_vif_rebridge(d, v, br, r->err, sizeof(r->err)) < 0)
		return 1;
	if (as && nb_fwd_vif_antispoof(d, v, strcmp(as, "on") == 0) < 0)
		return refuse(r, "%s: cannot set anti-spoofing", v->name);
	if (s) {
		int e = nb_xenbus_set_rate(d, v, strcmp(s, "off") ? s : "");

		if (e < 0)
			return refuse(r, "%s: cannot write rate: %s", v->name,
				      strerror(-e));
	}
	return 0;
}

static int
cmd_reload(struct req *r)
{
	struct out *o = &r->o;
	char msg[1024];

	/* netbackctl sends the file's name and text */
	if (r->argc != 3)
		return usage_err(r, "reload [FILE]");
	if (nb_fwd_reload(r->d, r->argv[1], r->argv[2], msg, sizeof(msg)) < 0)
		return refuse(r, "%s", msg);
	if (o->json) {
		o_obj(o, NULL);
		o_str(o, "done", msg);
		o_close(o);
	} else {
		o_printf(o, "%s\n", msg);
	}
	return 0;
}

/* ------------------------------------------------------------- capture */

static uint64_t
wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void
nb_capture(struct nb_worker *w, unsigned port, struct rte_mbuf **pkts,
	   unsigned n, bool out)
{
	struct nb_daemon *d = w->d;
	unsigned mask = atomic_load_explicit(&d->cap_mask[port],
					     memory_order_relaxed);
	uint64_t tsc = rte_get_tsc_cycles();

	for (unsigned s = 0; s < NB_MAX_CAPTURES; s++) {
		struct nb_capture *cap = &d->cap[s];

		if (!(mask & (1u << s)))
			continue;
		for (unsigned i = 0; i < n; i++) {
			struct rte_mbuf *c = rte_pktmbuf_copy(
			    pkts[i], d->cap_pool, 0, cap->snaplen);
			struct cap_hdr *h;

			if (!c) {
				atomic_fetch_add(&cap->dropped, 1);
				continue;
			}
			h = (struct cap_hdr *)rte_pktmbuf_prepend(c,
								  sizeof(*h));
			if (!h || rte_ring_mp_enqueue(cap->ring, c) != 0) {
				rte_pktmbuf_free(c);
				atomic_fetch_add(&cap->dropped, 1);
				continue;
			}
			h->tsc = tsc;
			h->orig_len = pkts[i]->pkt_len;
			h->out = out;
		}
	}
}

static bool out_room(struct conn *c, size_t n);

static void
cap_write(struct conn *c, const void *p, size_t n)
{
	if (!out_room(c, n))
		return;
	memcpy(c->out + c->outlen, p, n);
	c->outlen += n;
}

/* The first part of an answer, then the pcapng header blocks. */
static int
cap_start(struct nb_daemon *d, struct req *r)
{
	struct nb_mgmt *m = d->mgmt;
	struct conn *c = r->c;
	uint8_t blk[512];
	size_t n;
	int s = -1;

	if (r->argc != 2)
		return usage_err(r, "capture PORT (netbackctl writes the file)");
	if (!vif_find(d, r->argv[1]) && !nb_pif_find(d, r->argv[1]))
		return refuse(r, "no vif or DPDK port '%s'", r->argv[1]);
	if (!d->cap_pool)
		return refuse(r, "capture: no buffers (the pool could not be "
				 "made at start)");
	for (unsigned i = 0; i < NB_MAX_CAPTURES; i++)
		if (!m->cap_used[i]) {
			s = (int)i;
			break;
		}
	if (s < 0)
		return refuse(r, "capture: %u already running",
			      NB_MAX_CAPTURES);
	m->cap_used[s] = true;
	c->cap = s;
	c->cap_port = -1;
	c->cap_recv = 0;
	snprintf(c->cap_name, sizeof(c->cap_name), "%s", r->argv[1]);
	atomic_store(&d->cap[s].dropped, 0);
	d->cap[s].snaplen = NB_CAP_SNAPLEN;
	cap_write(c, "0", 1);
	n = nb_pcapng_shb(blk, sizeof(blk), "netbackd " NB_VERSION);
	cap_write(c, blk, n);
	n = nb_pcapng_idb(blk, sizeof(blk), NB_CAP_SNAPLEN, r->argv[1]);
	cap_write(c, blk, n);
	nb_info("capture of %s started", r->argv[1]);
	return -1; /* answered: the stream goes on */
}

/* Follow the captured name to its switch port (a vif reconnects on
 * another one); false when it is gone. */
static bool
cap_follow(struct nb_daemon *d, struct conn *c)
{
	bool exists = vif_find(d, c->cap_name) || nb_pif_find(d, c->cap_name);
	int port = exists ? name_port(d, c->cap_name) : -1;
	uint8_t bit = (uint8_t)(1u << c->cap);

	if (port == c->cap_port)
		return exists;
	if (c->cap_port >= 0)
		atomic_fetch_and(&d->cap_mask[c->cap_port], (uint8_t)~bit);
	c->cap_port = port;
	if (port >= 0)
		atomic_fetch_or(&d->cap_mask[port], bit);
	return exists;
}

/* Copies waiting in the ring become blocks for the reader. */
static void
cap_drain(struct nb_daemon *d, struct conn *c)
{
	struct nb_mgmt *m = d->mgmt;
	struct nb_capture *cap = &d->cap[c->cap];
	struct rte_mbuf *mb[64];
	/* the block, and a chained frame made contiguous apart */
	static uint8_t blk[NB_CAP_SNAPLEN + 256], lin[NB_CAP_SNAPLEN];
	unsigned n;
	uint64_t hz = rte_get_tsc_hz();

	while ((n = rte_ring_sc_dequeue_burst(cap->ring, (void **)mb, 64,
					       NULL)) > 0) {
		for (unsigned i = 0; i < n; i++) {
			struct cap_hdr h;
			const void *data;
			uint32_t len;
			size_t bl;

			memcpy(&h, rte_pktmbuf_mtod(mb[i], void *), sizeof(h));
			rte_pktmbuf_adj(mb[i], sizeof(h));
			len = mb[i]->pkt_len;
			uint64_t dt = h.tsc - m->tsc0;
			uint64_t ns = m->ns0 + dt / hz * 1000000000ull +
				      dt % hz * 1000000000ull / hz;
			/* contiguous data for the block */
			if (len > sizeof(lin))
				len = sizeof(lin);
			data = rte_pktmbuf_read(mb[i], 0, len, lin);
			bl = nb_pcapng_epb(blk, sizeof(blk), 0, ns, data, len,
					   h.orig_len, h.out);
			if (c->outlen - c->outoff > NB_CAP_OUT_MAX || !bl) {
				atomic_fetch_add(&cap->dropped, 1);
			} else {
				cap_write(c, blk, bl);
				c->cap_recv++;
			}
			rte_pktmbuf_free(mb[i]);
		}
	}
}

/* The reader has had enough: statistics, then close. */
static void
cap_stop(struct nb_daemon *d, struct conn *c)
{
	uint8_t blk[128];
	size_t n;

	if (c->cap < 0 || c->cap_stopping)
		return;
	if (c->cap_port >= 0)
		atomic_fetch_and(&d->cap_mask[c->cap_port],
				 (uint8_t)~(1u << c->cap));
	c->cap_port = -1;
	/* Workers that saw the bit have enqueued by now or will not. */
	rte_rcu_qsbr_synchronize(d->rcu, RTE_QSBR_THRID_INVALID);
	cap_drain(d, c);
	n = nb_pcapng_isb(blk, sizeof(blk), 0, wall_ns(), c->cap_recv,
			  atomic_load(&d->cap[c->cap].dropped));
	cap_write(c, blk, n);
	nb_info("capture of %s ended: %" PRIu64 " packets, %" PRIu64
		" dropped", c->cap_name, c->cap_recv,
		(uint64_t)atomic_load(&d->cap[c->cap].dropped));
	c->cap_stopping = true;
}

/* ------------------------------------------------------------ sockets */

static bool
out_room(struct conn *c, size_t n)
{
	if (c->outoff && c->outoff == c->outlen)
		c->outoff = c->outlen = 0;
	if (c->outlen + n <= c->outcap)
		return true;
	size_t cap = c->outcap ? c->outcap : 65536;
	while (cap < c->outlen + n)
		cap *= 2;
	char *b = realloc(c->out, cap);
	if (!b)
		return false;
	c->out = b;
	c->outcap = cap;
	return true;
}

static void
conn_close(struct nb_daemon *d, struct conn *c)
{
	if (c->cap >= 0) {
		if (!c->cap_stopping && c->cap_port >= 0) {
			atomic_fetch_and(&d->cap_mask[c->cap_port],
					 (uint8_t)~(1u << c->cap));
			rte_rcu_qsbr_synchronize(d->rcu,
						 RTE_QSBR_THRID_INVALID);
		}
		struct rte_mbuf *mb;
		while (rte_ring_sc_dequeue(d->cap[c->cap].ring,
					   (void **)&mb) == 0)
			rte_pktmbuf_free(mb);
		d->mgmt->cap_used[c->cap] = false;
	}
	close(c->fd);
	free(c->out);
	free(c->in);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->cap = -1;
}

static const struct {
	const char *name;
	int (*fn)(struct req *r);
	bool writes;
} cmds[] = {
	{ "status", cmd_status, false },
	{ "networks", cmd_networks, false },
	{ "ports", cmd_ports, false },
	{ "vifs", cmd_vifs, false },
	{ "fdb", cmd_fdb, false },
	{ "stats", cmd_stats, false },
	{ "net-add", cmd_net_add, true },
	{ "net-del", cmd_net_del, true },
	{ "port-add", cmd_port_add, true },
	{ "port-del", cmd_port_del, true },
	{ "vif-set", cmd_vif_set, true },
	{ "fdb-add", cmd_fdb_add, true },
	{ "fdb-del", cmd_fdb_del, true },
	{ "fdb-flush", cmd_fdb_flush, true },
	{ "reload", cmd_reload, true },
};

/* A whole request is in: run it, queue the answer. */
static void
serve(struct nb_daemon *d, struct conn *c)
{
	static struct req r;
	size_t off = 0;
	int rc = -2;

	memset(&r, 0, sizeof(r));
	r.d = d;
	r.c = c;
	while (off < c->inlen && c->in[off] && r.argc < 32) {
		r.argv[r.argc++] = c->in + off;
		off += strlen(c->in + off) + 1;
	}
	/* argv[0]: "json" or "text", then the command */
	if (r.argc < 2 || (strcmp(r.argv[0], "json") != 0 &&
			   strcmp(r.argv[0], "text") != 0)) {
		snprintf(r.err, sizeof(r.err), "bad request");
		rc = 2;
	} else {
		r.o.json = strcmp(r.argv[0], "json") == 0;
		for (int i = 0; i < r.argc - 1; i++)
			r.argv[i] = r.argv[i + 1];
		r.argc--;
		if (strcmp(r.argv[0], "capture") == 0)
			rc = cap_start(d, &r);
		for (unsigned i = 0; rc == -2 && i < sizeof(cmds) / sizeof(cmds[0]);
		     i++) {
			if (strcmp(r.argv[0], cmds[i].name) != 0)
				continue;
			rc = cmds[i].fn(&r);
			if (cmds[i].writes)
				nb_info("netbackctl %s %s: %s", r.argv[0],
					r.argc > 1 ? r.argv[1] : "",
					rc == 0 ? "done" : r.err);
		}
		if (rc == -2) {
			snprintf(r.err, sizeof(r.err), "unknown command '%s'",
				 r.argv[0]);
			rc = 2;
		}
	}
	c->answered = true;
	if (rc >= 0) {
		char st = (char)('0' + rc);

		if (r.o.oom) {
			st = '1';
			snprintf(r.err, sizeof(r.err), "out of memory");
		}
		cap_write(c, &st, 1);
		if (st != '0')
			cap_write(c, r.err, strlen(r.err));
		else if (r.o.len)
			cap_write(c, r.o.b, r.o.len);
		else if (r.o.json)
			cap_write(c, "{\"ok\": true}\n", 13);
	}
	free(r.o.b);
}

static void
conn_read(struct nb_daemon *d, struct conn *c)
{
	ssize_t n;

	if (c->answered) {
		char buf[256];

		/* A capture's reader shuts its side to stop it. */
		n = read(c->fd, buf, sizeof(buf));
		if (n == 0)
			cap_stop(d, c);
		else if (n < 0 && errno != EAGAIN)
			conn_close(d, c);
		return;
	}
	if (c->inlen == c->incap && c->incap < NB_MGMT_REQ_MAX) {
		size_t cap = c->incap ? c->incap * 4 : 4096;
		char *b = realloc(c->in, cap < NB_MGMT_REQ_MAX ? cap
							: NB_MGMT_REQ_MAX);

		if (!b) {
			conn_close(d, c);
			return;
		}
		c->in = b;
		c->incap = cap < NB_MGMT_REQ_MAX ? cap : NB_MGMT_REQ_MAX;
	}
	n = read(c->fd, c->in + c->inlen, c->incap - c->inlen);
	if (n <= 0) {
		if (n == 0 || errno != EAGAIN)
			conn_close(d, c);
		return;
	}
	c->inlen += (size_t)n;
	/* ends with an empty argument: "\0\0", or "\0" alone at first */
	if (c->inlen >= 2 && c->in[c->inlen - 1] == '\0' &&
	    c->in[c->inlen - 2] == '\0') {
		serve(d, c);
	} else if (c->inlen == NB_MGMT_REQ_MAX) {
		const char e[] = "2request too long";

		cap_write(c, e, sizeof(e) - 1);
		c->answered = true;
	}
}

static void
conn_write(struct nb_daemon *d, struct conn *c)
{
	while (c->outoff < c->outlen) {
		ssize_t n = send(c->fd, c->out + c->outoff,
				 c->outlen - c->outoff,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0) {
			if (errno != EAGAIN)
				conn_close(d, c);
			return;
		}
		c->outoff += (size_t)n;
	}
	/* All out: a plain answer ends here, a capture when stopped. */
	if (c->answered && (c->cap < 0 || c->cap_stopping))
		conn_close(d, c);
}

/* ----------------------------------------------------------- telemetry */

/* Telemetry has no argument for its callbacks: the daemon is here. */
static struct nb_daemon *_Atomic nb_tel_daemon;

/* Runs on DPDK's telemetry thread: hand the request to control. */
static int
tel_cb(const char *cmd, const char *params, struct rte_tel_data *data)
{
	struct nb_daemon *d = atomic_load(&nb_tel_daemon);
	struct nb_mgmt *m = d ? d->mgmt : NULL;
	struct tel_req req = { .cmd = cmd, .params = params, .data = data };
	uint64_t one = 1;
	struct timespec until;
	int r = 0;

	if (!m)
		return -EAGAIN;
	pthread_mutex_lock(&m->tel_lock);
	while (m->tel && r == 0)
		r = pthread_cond_wait(&m->tel_cond, &m->tel_lock);
	m->tel = &req;
	if (write(m->tel_fd, &one, sizeof(one)) < 0) {
		/* the counter is full: control is awake anyway */
	}
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 2;
	r = 0;
	while (!req.done && r == 0)
		r = pthread_cond_timedwait(&m->tel_cond, &m->tel_lock, &until);
	if (!req.done)
		req.ret = -ETIMEDOUT;
	m->tel = NULL;
	pthread_cond_broadcast(&m->tel_cond);
	pthread_mutex_unlock(&m->tel_lock);
	return req.ret;
}

static void
tel_qstats(struct rte_tel_data *t, const uint64_t *s)
{
	for (unsigned k = 0; k < NB_Q_COUNT; k++)
		rte_tel_data_add_dict_u64(t, nb_qstat_name(k), s[k]);
}

/* Control thread: fill the request's data. */
static int
tel_answer(struct nb_daemon *d, const char *cmd, const char *params,
	   struct rte_tel_data *t)
{
	struct nb_vif *v;
	struct nb_pif *p;

	if (strcmp(cmd, "/netbackd/vifs") == 0) {
		rte_tel_data_start_array(t, RTE_TEL_STRING_VAL);
		LIST_FOREACH(v, &d->vifs, link)
			rte_tel_data_add_array_string(t, v->name);
		return 0;
	}
	if (strcmp(cmd, "/netbackd/ports") == 0) {
		rte_tel_data_start_array(t, RTE_TEL_STRING_VAL);
		for (unsigned k = 0; k < d->npifs; k++)
			rte_tel_data_add_array_string(t, d->pifs[k]->name);
		return 0;
	}
	if (strcmp(cmd, "/netbackd/networks") == 0) {
		rte_tel_data_start_array(t, RTE_TEL_STRING_VAL);
		for (unsigned k = 0; k < d->conf.nnets; k++)
			rte_tel_data_add_array_string(t, d->conf.nets[k].name);
		return 0;
	}
	if (strcmp(cmd, "/netbackd/status") == 0) {
		uint64_t calls = 0, segs = 0, notifies = 0;

		for (unsigned i = 0; i < d->nworkers; i++) {
			calls += d->workers[i].copy_calls;
			segs += d->workers[i].copy_segs;
			notifies += d->workers[i].notifies;
		}
		rte_tel_data_start_dict(t);
		rte_tel_data_add_dict_string(t, "version", NB_VERSION);
		rte_tel_data_add_dict_u64(t, "uptime_s",
					  (nb_now_ms() - d->start_ms) / 1000);
		rte_tel_data_add_dict_u64(t, "vifs", d->nvifs);
		rte_tel_data_add_dict_u64(t, "networks", d->conf.nnets);
		rte_tel_data_add_dict_u64(t, "dpdk_ports", d->npifs);
		rte_tel_data_add_dict_u64(t, "workers", d->nworkers);
		rte_tel_data_add_dict_u64(t, "grant_copy_calls", calls);
		rte_tel_data_add_dict_u64(t, "grant_copy_segments", segs);
		rte_tel_data_add_dict_u64(t, "notifications", notifies);
		return 0;
	}
	if (!params || !*params)
		return -EINVAL;
	if (strcmp(cmd, "/netbackd/vif") == 0) {
		uint64_t s[NB_Q_COUNT];

		if (!(v = vif_find(d, params)))
			return -ENOENT;
		nb_vif_stats(v, s);
		rte_tel_data_start_dict(t);
		rte_tel_data_add_dict_string(t, "state", v->connected
							      ? "connected"
							      : "not connected");
		rte_tel_data_add_dict_u64(t, "queues", v->nqueues);
		tel_qstats(t, s);
		for (unsigned c = 0; v->sw_port >= 0 && c < SW_C_COUNT; c++) {
			char name[64];

			snprintf(name, sizeof(name), "switch_%s",
				 sw_counter_name(c));
			rte_tel_data_add_dict_u64(
			    t, name, sw_port_counter(d->sw, v->sw_port, c));
		}
		return 0;
	}
	if (strcmp(cmd, "/netbackd/port") == 0) {
		uint64_t c[NB_P_COUNT];

		if (!(p = nb_pif_find(d, params)))
			return -ENOENT;
		nb_pif_counters(p, c);
		rte_tel_data_start_dict(t);
		rte_tel_data_add_dict_string(t, "network",
					     sw_net_name(d->sw, p->net) ?: "");
		rte_tel_data_add_dict_string(t, "link",
					     nb_link_name(atomic_load(&p->link)));
		rte_tel_data_add_dict_u64(t, "dpdk_port", p->port_id);
		for (unsigned j = 0; j < NB_P_COUNT; j++)
			rte_tel_data_add_dict_u64(t, pstat_names[j], c[j]);
		return 0;
	}
	if (strcmp(cmd, "/netbackd/network") == 0) {
		int net = sw_net_find(d->sw, params);

		if (net < 0)
			return -ENOENT;
		rte_tel_data_start_dict(t);
		for (unsigned c = 0; c < SW_C_COUNT; c++)
			rte_tel_data_add_dict_u64(t, sw_counter_name(c),
						  sw_net_counter(d->sw, net, c));
		return 0;
	}
	return -EINVAL;
}

static void
tel_serve(struct nb_daemon *d)
{
	struct nb_mgmt *m = d->mgmt;
	uint64_t v;

	if (read(m->tel_fd, &v, sizeof(v)) < 0) {
		/* nothing pending */
	}
	pthread_mutex_lock(&m->tel_lock);
	if (m->tel && !m->tel->done) {
		m->tel->ret = tel_answer(d, m->tel->cmd, m->tel->params,
					 m->tel->data);
		m->tel->done = true;
		pthread_cond_broadcast(&m->tel_cond);
	}
	pthread_mutex_unlock(&m->tel_lock);
}

static void
tel_register(void)
{
	static const struct {
		const char *cmd, *help;
	} tc[] = {
		{ "/netbackd/status", "netbackd totals. No parameters" },
		{ "/netbackd/vifs", "Names of the vifs. No parameters" },
		{ "/netbackd/vif", "A vif's counters. Parameter: vif name" },
		{ "/netbackd/ports", "Names of the DPDK ports. No parameters" },
		{ "/netbackd/port",
		  "A DPDK port's counters. Parameter: port name" },
		{ "/netbackd/networks", "Names of the networks. No parameters" },
		{ "/netbackd/network",
		  "A network's switch counters. Parameter: network name" },
	};

	for (unsigned i = 0; i < sizeof(tc) / sizeof(tc[0]); i++)
		rte_telemetry_register_cmd(tc[i].cmd, tel_cb, tc[i].help);
}

/* -------------------------------------------------------------- set-up */

static const char *
default_path(struct nb_daemon *d, char *buf, size_t len)
{
	if (d->conf.ctl_path[0])
		return d->conf.ctl_path;
	if (d->conf.sim_dir[0])
		snprintf(buf, len, "%s/netbackd.sock", d->conf.sim_dir);
	else
		snprintf(buf, len, "/run/netbackd/netbackd.sock");
	return buf;
}

int
nb_mgmt_open(struct nb_daemon *d)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct nb_mgmt *m;
	char buf[sizeof(d->conf.sim_dir) + 16];
	const char *path = default_path(d, buf, sizeof(buf));
	gid_t gid = (gid_t)-1;
	int fd;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	d->mgmt = m;
	m->lfd = m->tel_fd = -1;
	for (unsigned i = 0; i < NB_MGMT_CONNS; i++) {
		m->c[i].fd = -1;
		m->c[i].cap = -1;
	}
	m->tsc0 = rte_get_tsc_cycles();
	m->ns0 = wall_ns();
	pthread_mutex_init(&m->tel_lock, NULL);
	pthread_cond_init(&m->tel_cond, NULL);
	m->tel_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (m->tel_fd < 0)
		return -errno;
	/* Capture buffers, made now: the pool is fixed once running. */
	d->cap_pool = rte_pktmbuf_pool_create("nb_capture", NB_CAP_MBUFS, 128,
					      0, RTE_MBUF_DEFAULT_BUF_SIZE,
					      rte_socket_id());
	for (unsigned i = 0; d->cap_pool && i < NB_MAX_CAPTURES; i++) {
		char name[RTE_RING_NAMESIZE];

		snprintf(name, sizeof(name), "nb_cap%u", i);
		d->cap[i].ring = rte_ring_create(name, NB_CAP_RING,
						 SOCKET_ID_ANY, RING_F_SC_DEQ);
		if (!d->cap[i].ring) {
			rte_mempool_free(d->cap_pool);
			d->cap_pool = NULL;
		}
	}
	if (!d->cap_pool)
		nb_warn("no buffers for capture: netbackctl capture is off");
	nb_tel_daemon = d;
	tel_register();

	if (strcmp(path, "off") == 0) {
		nb_info("control socket off");
		return 0;
	}
	if (strlen(path) >= sizeof(sa.sun_path)) {
		nb_err("control socket %s: path too long", path);
		return -ENAMETOOLONG;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	snprintf(m->path, sizeof(m->path), "%s", path);
	if (d->conf.ctl_group[0]) {
		struct group *g = getgrnam(d->conf.ctl_group);

		if (!g) {
			nb_err("control-group %s: no such group",
			       d->conf.ctl_group);
			return -ENOENT;
		}
		gid = g->gr_gid;
	}
	/* Its directory (and those above): /run/netbackd when systemd did
	 * not make it. */
	char dir[sizeof(sa.sun_path)];
	snprintf(dir, sizeof(dir), "%s", path);
	for (char *p = dir + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
			nb_err("control socket %s: cannot make %s: %s", path,
			       dir, strerror(errno));
			*p = '/';
			return -errno;
		}
		*p = '/';
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* A socket left by a netbackd that died is taken over; one that
	 * answers belongs to a netbackd still running. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		nb_err("control socket %s: another netbackd is listening "
		       "there", path);
		close(fd);
		return -EADDRINUSE;
	}
	close(fd);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	mode_t old = umask(0177);
	int r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0 || listen(fd, 16) < 0) {
		r = -errno;
		nb_err("control socket %s: %s", path, strerror(errno));
		close(fd);
		return r;
	}
	/* root, and the control group if one is named */
	if (gid != (gid_t)-1 &&
	    (chown(path, (uid_t)-1, gid) < 0 || chmod(path, 0660) < 0)) {
		r = -errno;
		nb_err("control socket %s: cannot give it to group %s: %s",
		       path, d->conf.ctl_group, strerror(errno));
		close(fd);
		unlink(path);
		return r;
	}
	m->lfd = fd;
	m->unlink_path = true;
	nb_info("control socket %s (mode %s)", path,
		gid != (gid_t)-1 ? "0660" : "0600");
	return 0;
}

void
nb_mgmt_close(struct nb_daemon *d)
{
	struct nb_mgmt *m = d->mgmt;

	if (!m)
		return;
	nb_tel_daemon = NULL;
	for (unsigned i = 0; i < NB_MGMT_CONNS; i++)
		if (m->c[i].fd >= 0)
			conn_close(d, &m->c[i]);
	if (m->lfd >= 0) {
		close(m->lfd);
		/* (As `user` it may not: the next netbackd takes it over.) */
		if (m->unlink_path)
			unlink(m->path);
	}
	if (m->tel_fd >= 0)
		close(m->tel_fd);
	for (unsigned i = 0; i < NB_MAX_CAPTURES; i++) {
		rte_ring_free(d->cap[i].ring);
		d->cap[i].ring = NULL;
	}
	rte_mempool_free(d->cap_pool);
	d->cap_pool = NULL;
	free(m);
	d->mgmt = NULL;
}

unsigned
nb_mgmt_pollfds(struct nb_daemon *d, struct pollfd *pfd, unsigned max)
{
	struct nb_mgmt *m = d->mgmt;
	unsigned n = 0;

	if (!m || max < 2 + NB_MGMT_CONNS)
		return 0;
	pfd[n++] = (struct pollfd){ .fd = m->lfd, .events = POLLIN };
	pfd[n++] = (struct pollfd){ .fd = m->tel_fd, .events = POLLIN };
	for (unsigned i = 0; i < NB_MGMT_CONNS; i++) {
		struct conn *c = &m->c[i];
		short ev = 0;

		/* the request, or a capture's reader saying stop */
		if (!c->answered || (c->cap >= 0 && !c->cap_stopping))
			ev |= POLLIN;
		if (c->fd >= 0 && c->outoff < c->outlen)
			ev |= POLLOUT;
		pfd[n++] = (struct pollfd){ .fd = c->fd, .events = ev };
	}
	return n;
}

int
nb_mgmt_timeout(const struct nb_daemon *d)
{
	const struct nb_mgmt *m = d->mgmt;

	for (unsigned i = 0; m && i < NB_MAX_CAPTURES; i++)
		if (m->cap_used[i])
			return 1; /* the ring holds ~10 ms at 0.4 Mpps */
	return -1;
}

void
nb_mgmt_handle(struct nb_daemon *d, const struct pollfd *pfd, unsigned n)
{
	struct nb_mgmt *m = d->mgmt;

	if (!m || n < 2 + NB_MGMT_CONNS)
		return;
	if (pfd[1].revents & POLLIN)
		tel_serve(d);
	for (unsigned i = 0; i < NB_MGMT_CONNS; i++) {
		struct conn *c = &m->c[i];
		short re = pfd[2 + i].revents;

		if (c->fd < 0 || pfd[2 + i].fd != c->fd)
			continue;
		if ((re & (POLLHUP | POLLERR)) && c->answered &&
		    (c->cap < 0 || c->cap_stopping)) {
			conn_close(d, c);
			continue;
		}
		if (re & (POLLIN | POLLHUP | POLLERR))
			conn_read(d, c);
		if (c->fd >= 0 && c->cap >= 0 && !c->cap_stopping) {
			if (!cap_follow(d, c)) {
				nb_info("capture of %s: it is gone",
					c->cap_name);
				cap_stop(d, c);
			} else {
				cap_drain(d, c);
			}
		}
		if (c->fd >= 0 && c->outoff < c->outlen)
			conn_write(d, c);
		else if (c->fd >= 0 && c->answered &&
			 (c->cap < 0 || c->cap_stopping))
			conn_close(d, c);
	}
	if (m->lfd >= 0 && (pfd[0].revents & POLLIN)) {
		int fd;

		while ((fd = accept4(m->lfd, NULL, NULL,
				     SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
			struct conn *c = NULL;

			for (unsigned i = 0; i < NB_MGMT_CONNS; i++)
				if (m->c[i].fd < 0) {
					c = &m->c[i];
					break;
				}
			if (!c) {
				const char e[] = "1netbackd: too many "
						 "netbackctl connections";

				if (send(fd, e, sizeof(e) - 1,
					 MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
					/* it will see the close */
				}
				close(fd);
				continue;
			}
			memset(c, 0, sizeof(*c));
			c->fd = fd;
			c->cap = -1;
			c->cap_port = -1;
		}
	}
}
