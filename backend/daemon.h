/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The daemon as one object: its configuration, the data path's shared
 * state, and what the control thread keeps beside it.
 *
 * Threads. The control thread (the main lcore) owns xenstore, the vif
 * state machines, the networks and DPDK ports, the configuration and
 * the control socket. Each worker (a DPDK worker lcore) owns a set of
 * vif queues and DPDK port queues and runs them to completion (dp/).
 * The planes depend one way: dp/ <- ctl/ <- mgmt/ <- main.c; dp/ sees
 * only struct dp, never this header.
 */
#ifndef NETBACKD_DAEMON_H
#define NETBACKD_DAEMON_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include "conf.h"
#include "dp.h"

struct xs_handle;
struct ctl_vif;
struct mgmt;

struct nb_daemon {
	struct nb_conf conf;
	char conf_path[256]; /* the file it came from, "" for none */
	uint64_t start_ms;
	struct dp dp;
	struct mgmt *mgmt; /* the control socket (mgmt/), opaque here */
	struct xs_handle *xs;
	uint16_t self;
	char be_root[64]; /* /local/domain/<self>/backend/vif */
	/* DPDK ports of every network, in the order they were added. */
	unsigned neth;
	struct dp_eth *eth[DP_MAX_ETHS];
	LIST_HEAD(, ctl_vif) vifs;
	unsigned nvifs;
	atomic_bool stop;
	struct hv_evtchn *ctl_evh; /* control rings' event channels */
	bool xs_lost; /* the xenstore connection failed: stop, change nothing */
	unsigned next_worker;
};

#endif
