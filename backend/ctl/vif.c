/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A vif's connection: read what the frontend published, map its rings,
 * hand each queue to a worker (which binds the event channels), and undo
 * all of it in reverse. Control thread only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_malloc.h>

#include "ctl.h"

static int
fe_flag(struct nb_daemon *d, struct ctl_vif *v, const char *key, bool *out)
{
	unsigned val;
	int r = ctl_xs_read_uint(d, 1, &val, "%s/%s", v->fe, key);

	if (r == -ENOENT) {
		*out = false;
		return 0;
	}
	if (r < 0)
		return r;
	*out = val == 1;
	return 0;
}

static int
read_features(struct nb_daemon *d, struct ctl_vif *v, char *err, size_t el)
{
	struct dp_fe_features *f = &v->dp.feat;
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
		{ "request-rx-copy", offsetof(struct dp_fe_features, rx_copy) },
		{ "feature-sg", offsetof(struct dp_fe_features, sg) },
		{ "feature-gso-tcpv4",
		  offsetof(struct dp_fe_features, gso_tcpv4) },
		{ "feature-gso-tcpv6",
		  offsetof(struct dp_fe_features, gso_tcpv6) },
		{ "feature-no-csum-offload",
		  offsetof(struct dp_fe_features, no_csum) },
		{ "feature-ipv6-csum-offload",
		  offsetof(struct dp_fe_features, ipv6_csum) },
		{ "feature-rx-notify",
		  offsetof(struct dp_fe_features, rx_notify) },
	};

	memset(f, 0, sizeof(*f));
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (fe_flag(d, v, keys[i].key,
			    (bool *)((char *)f + keys[i].off)) < 0) {
			snprintf(err, el, "frontend key %s is not 0 or 1",
				 keys[i].key);
			return -EINVAL;
		}
	}
	if (!f->rx_copy) {
		snprintf(err, el,
			 "frontend does not request rx-copy (request-rx-copy); "
			 "rx-flip is not supported");
		return -EOPNOTSUPP;
	}
	return 0;
}

/* Read queue q's ring refs and ports from dir (fe or fe/queue-N). */
static int
read_queue_keys(struct nb_daemon *d, struct ctl_vif *v, struct dp_queue *q,
		const char *dir, uint32_t refs[2], char *err, size_t el)
{
	unsigned tx, rx, p1, p2;

	if (ctl_xs_read_uint(d, UINT32_MAX, &tx, "%s/tx-ring-ref", dir) < 0 ||
	    ctl_xs_read_uint(d, UINT32_MAX, &rx, "%s/rx-ring-ref", dir) < 0) {
		snprintf(err, el, "%s: missing or bad tx-ring-ref/rx-ring-ref",
			 dir);
		return -EINVAL;
	}
	refs[0] = tx;
	refs[1] = rx;
	if (ctl_xs_read_uint(d, UINT32_MAX, &p1, "%s/event-channel-tx", dir) ==
	    0) {
		if (ctl_xs_read_uint(d, UINT32_MAX, &p2, "%s/event-channel-rx",
				    dir) < 0) {
			snprintf(err, el,
				 "%s: event-channel-tx without a valid "
				 "event-channel-rx", dir);
			return -EINVAL;
		}
		q->split = true;
		q->tx_remote_evtchn = p1;
		q->rx_remote_evtchn = p2;
	} else if (ctl_xs_read_uint(d, UINT32_MAX, &p1, "%s/event-channel",
				   dir) == 0) {
		q->split = false;
		q->tx_remote_evtchn = q->rx_remote_evtchn = p1;
	} else {
		snprintf(err, el, "%s: missing or bad event-channel", dir);
		return -EINVAL;
	}
	(void)v;
	return 0;
}

static void
queue_teardown(struct nb_daemon *d, struct dp_queue *q)
{
	dp_worker_del_queue(q);
	if (q->tx_page) {
		hv_unmap(d->dp.hv, q->tx_page, 1);
		q->tx_page = NULL;
	}
	if (q->rx_page) {
		hv_unmap(d->dp.hv, q->rx_page, 1);
		q->rx_page = NULL;
	}
}

void
ctl_vif_stats(const struct ctl_vif *v, uint64_t out[DP_Q_COUNT])
{
	for (unsigned k = 0; k < DP_Q_COUNT; k++) {
		out[k] = v->stats_done[k];
		for (unsigned i = 0; i < v->dp.nqueues; i++)
			out[k] += dp_queue_stat(&v->dp.queues[i], k);
	}
}

void
ctl_vif_disconnect(struct nb_daemon *d, struct ctl_vif *v)
{
	if (!v->dp.queues)
		return;
	/* Unreachable first, then wait for workers that may have it. */
	ctl_vif_detach(d, v);
	v->dp.connected = false;
	if (d->dp.rcu)
		rte_rcu_qsbr_synchronize(d->dp.rcu, RTE_QSBR_THRID_INVALID);
	/* No worker can hold the port id any more: it may be reused. */
	ctl_reclaim(d);
	for (unsigned i = 0; i < v->dp.nqueues; i++) {
		queue_teardown(d, &v->dp.queues[i]);
		for (unsigned k = 0; k < DP_Q_COUNT; k++)
			v->stats_done[k] += dp_queue_stat(&v->dp.queues[i], k);
	}
	/* No worker reads the static grants or the hash any more. */
	ctl_ctrl_disconnect(d, v);
	rte_free(v->dp.queues);
	v->dp.queues = NULL;
	v->dp.nqueues = 0;
	nb_vif_info(&v->dp, "disconnected");
}

int
ctl_vif_connect(struct nb_daemon *d, struct ctl_vif *v, char *err, size_t el)
{
	unsigned nq = 1, maxq = d->conf.max_queues;
	int r;

	r = read_features(d, v, err, el);
	if (r < 0)
		return r;
	r = ctl_xs_read_uint(d, UINT32_MAX, &nq, "%s/multi-queue-num-queues",
			    v->fe);
	if (r == -ENOENT) {
		nq = 1;
	} else if (r < 0 || nq == 0 || nq > maxq) {
		snprintf(err, el,
			 "multi-queue-num-queues must be 1..%u", maxq);
		return -EINVAL;
	}

	v->dp.queues = rte_zmalloc("nb_queue", nq * sizeof(*v->dp.queues),
				RTE_CACHE_LINE_SIZE);
	if (!v->dp.queues) {
		snprintf(err, el, "out of memory for %u queues", nq);
		return -ENOMEM;
	}
	v->dp.nqueues = nq;
	/*
	 * The control ring first: it sets up the static grants workers
	 * read on every pass, and a frontend's bad keys or first requests
	 * refuse the vif before any worker has one of its queues.
	 */
	r = ctl_ctrl_connect(d, v, err, el);
	if (r < 0)
		goto fail;
	for (unsigned i = 0; i < nq; i++) {
		struct dp_queue *q = &v->dp.queues[i];
		char dir[160];
		uint32_t refs[2];

		q->vif = &v->dp;
		q->id = i;
		q->tx_evtchn = q->rx_evtchn = -1;
		if (nq == 1)
			snprintf(dir, sizeof(dir), "%s", v->fe);
		else
			snprintf(dir, sizeof(dir), "%s/queue-%u", v->fe, i);
		r = read_queue_keys(d, v, q, dir, refs, err, el);
		if (r < 0)
			goto fail;
		q->tx_page = hv_map(d->dp.hv, v->dp.domid, 1, &refs[0], true);
		if (!q->tx_page) {
			r = -errno;
			snprintf(err, el, "queue %u: cannot map tx ring ref %u: %s",
				 i, refs[0], strerror(errno));
			goto fail;
		}
		q->rx_page = hv_map(d->dp.hv, v->dp.domid, 1, &refs[1], true);
		if (!q->rx_page) {
			r = -errno;
			snprintf(err, el, "queue %u: cannot map rx ring ref %u: %s",
				 i, refs[1], strerror(errno));
			goto fail;
		}
		ring_tx_attach(&q->tx, q->tx_page);
		ring_rx_attach(&q->rx, q->rx_page);
		/* Spread queues: queue i of consecutive vifs on different
		 * workers. */
		r = dp_worker_add_queue(&d->dp, d->next_worker + i, q);
		if (r < 0) {
			q->worker = NULL;
			snprintf(err, el, "queue %u: cannot bind event channel "
				 "%u/%u: %s", i, q->tx_remote_evtchn, q->rx_remote_evtchn,
				 strerror(-r));
			goto fail;
		}
	}
	d->next_worker++;
	v->dp.connected = true;
	r = ctl_vif_attach(d, v, err, el);
	if (r < 0)
		goto fail;
	/* Fixed from here on: the queue's state with its RX backlog, and
	 * its two mapped ring pages (mbufs come from the shared pool). */
	nb_vif_info(&v->dp, "connected, %u queue(s)%s, sg=%d gso=%d/%d csum=%d "
		"rx-notify=%d ctrl-ring=%d xdp-headroom=%u, %zu bytes per "
		"queue + 2 ring pages", nq,
		v->dp.queues[0].split ? " split event channels" : "",
		v->dp.feat.sg, v->dp.feat.gso_tcpv4, v->dp.feat.gso_tcpv6,
		!v->dp.feat.no_csum, v->dp.feat.rx_notify, v->ctrl != NULL,
		(unsigned)atomic_load(&v->dp.xdp_headroom),
		sizeof(struct dp_queue));
	return 0;
fail:
	ctl_vif_disconnect(d, v);
	return r;
}
