/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * mgmt: management. The control socket netbackctl(8) talks to, its
 * commands, pcapng capture streams and DPDK telemetry. Runs on the
 * control thread; it changes things only through ctl/ and reaches the
 * workers only through the data path's capture taps.
 */
#ifndef NETBACKD_MGMT_H
#define NETBACKD_MGMT_H

#include <poll.h>

#include "daemon.h"

/* The control socket (conf.control_socket; "off": none) and telemetry:
 * 0 or -errno. */
int mgmt_open(struct nb_daemon *d);
/* Safe to call twice, and after a failed mgmt_open(). */
void mgmt_close(struct nb_daemon *d);
/* Descriptors to poll (at most max), and what came of polling them. */
unsigned mgmt_pollfds(struct nb_daemon *d, struct pollfd *pfd,
		      unsigned max);
void mgmt_handle(struct nb_daemon *d, const struct pollfd *pfd, unsigned n);
/* Poll timeout the control socket needs (ms), -1: none. */
int mgmt_timeout(const struct nb_daemon *d);

/* log_stats.c: statistics as log lines (totals, ports, vifs), the
 * per-queue counters, the switch's forwarding tables. */
void mgmt_log_stats(struct nb_daemon *d);
void mgmt_log_queue_stats(struct nb_daemon *d);
void mgmt_log_tables(struct nb_daemon *d);

#endif
