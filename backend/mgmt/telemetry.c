/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The same objects on DPDK's telemetry socket (/netbackd/...). Requests
 * come from DPDK's telemetry thread and are answered by the control
 * thread, which owns the objects, while the telemetry thread waits.
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

#include "mgmt_priv.h"
#include "pcapng.h"
#include "sw.h"
#include "xsval.h"

/* ----------------------------------------------------------- telemetry */

/* Telemetry has no argument for its callbacks: the daemon is here. */
struct nb_daemon *_Atomic nb_tel_daemon;

/* Runs on DPDK's telemetry thread: hand the request to control. */
static int
tel_cb(const char *cmd, const char *params, struct rte_tel_data *data)
{
	struct nb_daemon *d = atomic_load(&nb_tel_daemon);
	struct mgmt *m = d ? d->mgmt : NULL;
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
	for (unsigned k = 0; k < DP_Q_COUNT; k++)
		rte_tel_data_add_dict_u64(t, dp_qstat_name(k), s[k]);
}

/* Control thread: fill the request's data. */
static int
tel_answer(struct nb_daemon *d, const char *cmd, const char *params,
	   struct rte_tel_data *t)
{
	struct ctl_vif *v;
	struct dp_eth *p;

	if (strcmp(cmd, "/netbackd/vifs") == 0) {
		rte_tel_data_start_array(t, RTE_TEL_STRING_VAL);
		LIST_FOREACH(v, &d->vifs, link)
			rte_tel_data_add_array_string(t, v->dp.name);
		return 0;
	}
	if (strcmp(cmd, "/netbackd/ports") == 0) {
		rte_tel_data_start_array(t, RTE_TEL_STRING_VAL);
		for (unsigned k = 0; k < d->neth; k++)
			rte_tel_data_add_array_string(t, d->eth[k]->name);
		return 0;
	}
	if (strcmp(cmd, "/netbackd/networks") == 0) {
		rte_tel_data_start_array(t, RTE_TEL_STRING_VAL);
		for (unsigned k = 0; k < d->conf.nnets; k++)
			rte_tel_data_add_array_string(t, d->conf.nets[k].name);
		return 0;
	}
	if (strcmp(cmd, "/netbackd/status") == 0) {
		struct dp_worker_totals w;

		dp_workers_total(&d->dp, &w);
		rte_tel_data_start_dict(t);
		rte_tel_data_add_dict_string(t, "version", NB_VERSION);
		rte_tel_data_add_dict_u64(t, "uptime_s",
					  (nb_now_ms() - d->start_ms) / 1000);
		rte_tel_data_add_dict_u64(t, "vifs", d->nvifs);
		rte_tel_data_add_dict_u64(t, "networks", d->conf.nnets);
		rte_tel_data_add_dict_u64(t, "dpdk_ports", d->neth);
		rte_tel_data_add_dict_u64(t, "workers", d->dp.nworkers);
		rte_tel_data_add_dict_u64(t, "grant_copy_calls", w.copy_calls);
		rte_tel_data_add_dict_u64(t, "grant_copy_segments",
					  w.copy_segs);
		rte_tel_data_add_dict_u64(t, "notifications", w.notifies);
		rte_tel_data_add_dict_u64(t, "worker_wakeups", w.wakeups);
		rte_tel_data_add_dict_u64(t, "worker_system_calls",
					  w.sys_calls);
		return 0;
	}
	if (!params || !*params)
		return -EINVAL;
	if (strcmp(cmd, "/netbackd/vif") == 0) {
		uint64_t s[DP_Q_COUNT];

		if (!(v = ctl_vif_by_name(d, params)))
			return -ENOENT;
		ctl_vif_stats(v, s);
		rte_tel_data_start_dict(t);
		rte_tel_data_add_dict_string(t, "state", v->dp.connected
							      ? "connected"
							      : "not connected");
		rte_tel_data_add_dict_u64(t, "queues", v->dp.nqueues);
		tel_qstats(t, s);
		for (unsigned c = 0; v->dp.sw_port >= 0 && c < SW_C_COUNT; c++) {
			char name[64];

			snprintf(name, sizeof(name), "switch_%s",
				 sw_counter_name(c));
			rte_tel_data_add_dict_u64(
			    t, name, sw_port_counter(d->dp.sw, v->dp.sw_port, c));
		}
		return 0;
	}
	if (strcmp(cmd, "/netbackd/port") == 0) {
		uint64_t c[DP_E_COUNT];

		if (!(p = ctl_eth_find(d, params)))
			return -ENOENT;
		dp_eth_counters(p, c);
		rte_tel_data_start_dict(t);
		rte_tel_data_add_dict_string(t, "network",
					     sw_net_name(d->dp.sw, p->net) ?: "");
		rte_tel_data_add_dict_string(t, "link",
					     dp_link_name(atomic_load(&p->link)));
		rte_tel_data_add_dict_u64(t, "dpdk_port", p->port_id);
		for (unsigned j = 0; j < DP_E_COUNT; j++)
			rte_tel_data_add_dict_u64(t, pstat_names[j], c[j]);
		return 0;
	}
	if (strcmp(cmd, "/netbackd/network") == 0) {
		int net = sw_net_find(d->dp.sw, params);

		if (net < 0)
			return -ENOENT;
		rte_tel_data_start_dict(t);
		for (unsigned c = 0; c < SW_C_COUNT; c++)
			rte_tel_data_add_dict_u64(t, sw_counter_name(c),
						  sw_net_counter(d->dp.sw, net, c));
		return 0;
	}
	return -EINVAL;
}

void
tel_serve(struct nb_daemon *d)
{
	struct mgmt *m = d->mgmt;
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

void
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
