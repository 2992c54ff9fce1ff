/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Statistics in the log: totals, per port and per vif (at exit with
 * --stats, every N seconds, and on SIGHUP with the per-queue counters
 * and the switch's tables).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_mempool.h>

#include "mgmt_priv.h"
#include "sw.h"

struct table_dump {
	struct nb_daemon *d;
	const char *net;
	unsigned n;
};

#define NB_TABLE_LOG_MAX 64u

static int
log_entry(void *arg, const uint8_t mac[6], uint16_t vlan, int port,
	  bool is_static, uint64_t age_ms)
{
	struct table_dump *t = arg;

	if (t->n++ == NB_TABLE_LOG_MAX)
		return 1;
	nb_info("network %s: %02x:%02x:%02x:%02x:%02x:%02x vlan %u -> %s "
		"(%s%lu s)", t->net, mac[0], mac[1], mac[2], mac[3], mac[4],
		mac[5], vlan, ctl_sw_port_name(t->d, port) ?: "?",
		is_static ? "static, " : "age ", age_ms / 1000);
	return 0;
}

/* The switch's MAC tables (the first NB_TABLE_LOG_MAX of each). */
void
mgmt_log_tables(struct nb_daemon *d)
{
	for (unsigned i = 0; i < d->conf.nnets; i++) {
		int net = sw_net_find(d->dp.sw, d->conf.nets[i].name);
		struct table_dump t = { .d = d, .net = d->conf.nets[i].name };

		if (net < 0)
			continue;
		sw_table_walk(d->dp.sw, net, dp_fast_ms(), log_entry, &t);
		nb_info("network %s: %u MAC entr%s%s", t.net,
			t.n > NB_TABLE_LOG_MAX ? NB_TABLE_LOG_MAX : t.n,
			t.n == 1 ? "y" : "ies",
			t.n > NB_TABLE_LOG_MAX ? " shown, more not" : "");
	}
}

/* Every non-zero counter of every queue: what SIGHUP shows. */
void
mgmt_log_queue_stats(struct nb_daemon *d)
{
	struct ctl_vif *v;

	LIST_FOREACH(v, &d->vifs, link) {
		for (unsigned i = 0; i < v->dp.nqueues; i++) {
			char line[1024];
			int off = 0;

			for (unsigned k = 0; k < DP_Q_COUNT; k++) {
				uint64_t c = dp_queue_stat(&v->dp.queues[i], k);

				if (c && off < (int)sizeof(line) - 64)
					off += snprintf(line + off,
							sizeof(line) - (size_t)off,
							" %s=%lu", dp_qstat_name(k),
							c);
			}
			nb_info("%s queue %u (worker %u):%s", v->dp.name, i,
				dp_queue_worker_id(&v->dp.queues[i]),
				off ? line : " idle");
		}
	}
}

/*
 * ", refused by the switch N (reason=n ...)" for what the switch would
 * not take from switch port `port` (anti-spoofing, VLANs, RA guard...),
 * or "" when nothing: frames the guest sent that netbackd was told not
 * to pass, not frames netbackd lost.
 */
static void
refusals(const struct nb_daemon *d, int port, char *buf, size_t len)
{
	uint64_t total = ctl_sw_port_drops(d, port);
	int off;

	buf[0] = '\0';
	if (!total)
		return;
	off = snprintf(buf, len, ", refused by the switch %" PRIu64 " (",
		       total);
	for (unsigned c = 0; c < SW_C_COUNT && off > 0 && (size_t)off < len;
	     c++) {
		uint64_t n = sw_counter_is_drop(c)
				     ? sw_port_counter(d->dp.sw, port, c)
				     : 0;

		if (n)
			off += snprintf(buf + off, len - (size_t)off,
					"%s%s=%" PRIu64,
					buf[off - 1] == '(' ? "" : " ",
					sw_counter_name(c), n);
	}
	if (off > 0 && (size_t)off < len)
		snprintf(buf + off, len - (size_t)off, ")");
}

void
mgmt_log_stats(struct nb_daemon *d)
{
	struct ctl_vif *v;

	LIST_FOREACH(v, &d->vifs, link) {
		uint64_t s[DP_Q_COUNT];
		uint64_t drops;
		char refused[512];

		ctl_vif_stats(v, s);
		/* What netbackd failed to carry, either way. */
		drops = s[DP_Q_TX_ERRORS] + s[DP_Q_RX_DROP_BACKLOG] +
			s[DP_Q_RX_DROP_COPY] + s[DP_Q_RX_DROP_TOO_BIG] +
			s[DP_Q_RX_DROP_EXPIRED] + s[DP_Q_RX_DROP_STALLED];
		/* Apart: what the switch refused from it, by reason. */
		refusals(d, v->dp.sw_port, refused, sizeof(refused));
		nb_info("%s: %s tx %lu pkts %lu bytes, rx %lu pkts %lu bytes, "
			"drops/errors %lu%s", v->dp.name,
			v->dp.connected ? "up" : "down", s[DP_Q_TX_PACKETS],
			s[DP_Q_TX_BYTES], s[DP_Q_RX_PACKETS], s[DP_Q_RX_BYTES],
			drops, refused);
	}
	for (unsigned k = 0; k < d->neth; k++) {
		const struct dp_eth *p = d->eth[k];
		uint64_t c[DP_E_COUNT], drops = ctl_sw_port_drops(d, p->sw_port);
		char refused[512];

		dp_eth_counters(p, c);
		/* The switch's reasons too: a port's drops are most often
		 * frames that cannot be switched (its own, hairpins). */
		refusals(d, p->sw_port, refused, sizeof(refused));
		nb_info("port %s (%s): rx %lu pkts %lu bytes, tx %lu pkts "
			"%lu bytes, tx full %lu, switch drops %lu, link %s "
			"(%lu changes, %lu dropped while down)%s", p->name,
			p->uplink ? "uplink" : "port", c[DP_E_RX_PACKETS],
			c[DP_E_RX_BYTES], c[DP_E_TX_PACKETS], c[DP_E_TX_BYTES],
			c[DP_E_TX_DROP_FULL], drops, dp_link_name(p->link),
			p->link_changes, c[DP_E_TX_DROP_LINK], refused);
	}
	struct dp_worker_totals w;

	dp_workers_total(&d->dp, &w);
	nb_info("totals: %u vifs, %lu grant-copy calls, %lu segments, "
		"%lu static-grant copies, %lu notifications, %lu worker "
		"wake-ups, %lu pages mapped, %lu ports bound, %lu busy cycles, "
		"%lu worker system calls (%lu evtchn), %lu grant-copy "
		"hypercalls, %lu guest-to-guest copies, %lu cut packets "
		"completed",
		d->nvifs, w.copy_calls, w.copy_segs, w.copy_static, w.notifies,
		w.wakeups, d->dp.hv->maps,
		d->dp.hv->ports, w.busy_cycles, w.sys_calls, w.evtchn_calls,
		w.copy_hypercalls, w.copy_direct, w.cut_settled);
}
