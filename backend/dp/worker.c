/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The data path: each worker lcore runs its vif queues to completion.
 *
 *   guest TX ring --ring_tx_poll--> grant copy (one call per burst) into
 *   mbufs --> responses + one notify --> switch --> destination:
 *     a queue of this worker: its RX backlog
 *     a queue of another worker: that worker's xfer ring
 *   RX backlog + posted RX buffers --> grant copy (one call per burst)
 *   --> responses + one notify --> mbufs freed in bulk.
 *
 * Adaptive polling: a worker spins while there is work, then arms every
 * ring (RING_FINAL_CHECK / req_event) and sleeps, so an idle netbackd
 * burns no CPU: in a blocking read of its event channels when they are
 * all it waits for (other threads wake it through one of them, a
 * loopback channel), in epoll_wait when ports' RX interrupts or a
 * deadline also may wake it.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_jhash.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "dp_priv.h"

/* How long an idle worker keeps polling before it sleeps. */
#define DP_IDLE_SPIN_US 25u
/* The longest a notification waits for passes that keep finding work
 * (dp_notify_flush). */
#define DP_NOTIFY_HOLD_US 20u

static const char *const qstat_names[] = {
#define DP_X_NAME(e, s) s,
	DP_QSTATS(DP_X_NAME)
#undef DP_X_NAME
};

const char *
dp_qstat_name(unsigned i)
{
	static char buf[RING_TX_DROP_COUNT][40];

	if (i < DP_Q_TX_DROP_FIRST)
		return qstat_names[i];
	if (i < DP_Q_COUNT) {
		unsigned r = i - DP_Q_TX_DROP_FIRST;

		if (!buf[r][0])
			snprintf(buf[r], sizeof(buf[r]), "tx_drop_%s",
				 ring_tx_drop_name(r));
		return buf[r];
	}
	return "?";
}

void
dp_queue_fatal(struct dp_worker *w, struct dp_queue *q, const char *why)
{
	uint64_t one = 1;

	if (atomic_exchange(&q->fatal, true))
		return;
	snprintf(q->fatal_msg, sizeof(q->fatal_msg), "queue %u: %s", q->id,
		 why);
	if (write(w->dp->ctl_wakefd, &one, sizeof(one)) < 0) {
		/* eventfd full means control is already due to wake */
	}
}

void
dp_notify(struct dp_worker *w, struct dp_queue *q, unsigned which)
{
	if (!q->ntfy) {
		if (!w->nntfy)
			w->ntfy_tsc = w->tsc;
		w->ntfy[w->nntfy++] = q;
	}
	q->ntfy |= (uint8_t)which;
}

/*
 * What the pass owes the frontends, sent: a notification a port (one
 * for both rings where the frontend shares a channel), however many
 * bursts of the pass answered it. A frontend that asked to hear of
 * responses hears of them before the worker sleeps, spins or starts
 * another pass after DP_NOTIFY_HOLD_US.
 */
void
dp_notify_flush(struct dp_worker *w)
{
	for (unsigned i = 0; i < w->nntfy; i++) {
		struct dp_queue *q = w->ntfy[i];

		if (q->ntfy & DP_NOTIFY_TX) {
			hv_evtchn_notify(w->evh, (uint32_t)q->tx_evtchn);
			q->stats[DP_Q_NOTIFY_TX]++;
			w->notifies++;
		}
		if ((q->ntfy & DP_NOTIFY_RX) &&
		    (!(q->ntfy & DP_NOTIFY_TX) || q->rx_evtchn != q->tx_evtchn)) {
			hv_evtchn_notify(w->evh, (uint32_t)q->rx_evtchn);
			w->notifies++;
		}
		if (q->ntfy & DP_NOTIFY_RX)
			q->stats[DP_Q_NOTIFY_RX]++;
		q->ntfy = 0;
	}
	w->nntfy = 0;
}


/* ---- commands from the control thread ---- */

static int
add_queue(struct dp_worker *w, struct dp_queue *q)
{
	uint16_t dom = q->vif->domid;
	int r;

	if (w->nq == DP_MAX_QUEUES_W)
		return -ENOSPC;
	q->tx_evtchn = q->rx_evtchn = -1;
	r = hv_evtchn_bind(w->evh, dom, q->tx_remote_evtchn);
	if (r < 0)
		return r;
	q->tx_evtchn = q->rx_evtchn = r;
	if (q->split) {
		r = hv_evtchn_bind(w->evh, dom, q->rx_remote_evtchn);
		if (r < 0)
			goto unbind;
		q->rx_evtchn = r;
	}
	if ((unsigned)q->tx_evtchn >= DP_MAX_EVTCHN ||
	    (unsigned)q->rx_evtchn >= DP_MAX_EVTCHN) {
		r = -ERANGE;
		goto unbind;
	}
	memset(&q->evt, 0, sizeof(q->evt));
	w->queues[w->nq++] = q;
	w->by_evtchn[q->tx_evtchn] = q;
	w->by_evtchn[q->rx_evtchn] = q;
	/* One more queue: every queue's share of the budget shrinks. */
	dp_rx_quotas(w);
	/* The loop looks at every ring at once: the frontend may have
	 * queued work before we were bound to hear about it. */
	return 0;
unbind:
	if (q->rx_evtchn >= 0 && q->rx_evtchn != q->tx_evtchn)
		hv_evtchn_unbind(w->evh, (uint32_t)q->rx_evtchn);
	if (q->tx_evtchn >= 0)
		hv_evtchn_unbind(w->evh, (uint32_t)q->tx_evtchn);
	q->tx_evtchn = q->rx_evtchn = -1;
	return r;
}

static void
del_queue(struct dp_worker *w, struct dp_queue *q)
{
	/* Nothing owed to it may outlive it in the list. */
	dp_notify_flush(w);
	for (unsigned i = 0; i < w->nq; i++) {
		if (w->queues[i] == q) {
			w->queues[i] = w->queues[--w->nq];
			break;
		}
	}
	if (q->evt.held) {
		q->evt.held = false;
		w->nheld--;
	}
	if (w->by_evtchn[q->tx_evtchn] == q)
		w->by_evtchn[q->tx_evtchn] = NULL;
	if (w->by_evtchn[q->rx_evtchn] == q)
		w->by_evtchn[q->rx_evtchn] = NULL;
	if (q->rx_evtchn >= 0 && q->rx_evtchn != q->tx_evtchn)
		hv_evtchn_unbind(w->evh, (uint32_t)q->rx_evtchn);
	if (q->tx_evtchn >= 0)
		hv_evtchn_unbind(w->evh, (uint32_t)q->tx_evtchn);
	q->tx_evtchn = q->rx_evtchn = -1;
	dp_backlog_flush(q);
	dp_rx_quotas(w);
}

static void
drain_xfer(struct dp_worker *w)
{
	struct rte_mbuf *mb[DP_BURST];
	unsigned n;

	while ((n = rte_ring_sc_dequeue_burst(w->xfer, (void **)mb, DP_BURST,
					      NULL)) > 0) {
		uint64_t now = dp_tsc_ms(w->tsc); /* once per burst */

		for (unsigned i = 0, j; i < n; i = j) {
			struct dp_queue *q = *dp_mbuf_dest(mb[i]);
			uint32_t segs = 0;

			/* A run of frames for one queue (the usual burst)
			 * is taken and put at once: one store to the line
			 * its senders read, not one a frame. */
			for (j = i; j < n && *dp_mbuf_dest(mb[j]) == q; j++)
				segs += mb[j]->nb_segs;
			/* No longer in flight, whatever becomes of them. */
			dp_xfer_got(q, segs);
			/* The queue may have left us since: RCU keeps it
			 * allocated, its worker field says who owns it. */
			if (q->worker == w && !atomic_load(&q->fatal))
				dp_backlog_put(q, &mb[i], j - i, now);
			else
				rte_pktmbuf_free_bulk(&mb[i], j - i);
		}
	}
}

/* Poll RX queue qid of p (the worker, or control before launch). */
static int
ethq_add(struct dp_worker *w, struct dp_eth *e, uint16_t qid)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct dp_eth_rxq *rq;

	if (w->nrxq == DP_MAX_ETHS)
		return -ENOSPC;
	rq = &w->rxq[w->nrxq];
	rq->eth = e;
	rq->qid = qid;
	rq->intr_fd = -1;
	rq->edge = rq->noarm = false;
	/* A tap's queue fd is readable while packets wait, level-triggered,
	 * and needs no acknowledgement. virtio-user's is the eventfd vhost
	 * signals (vhost-net, or a vhost-user switch such as OVS-DPDK):
	 * edge-triggered, so that it costs no read() a wake-up. */
	if (e->intr && strncmp(e->name, "net_tap", 7) == 0)
		rq->intr_fd = rte_eth_dev_rx_intr_ctl_q_get_fd(e->port_id, qid);
	if (e->intr && strncmp(e->name, "net_virtio_user", 15) == 0) {
		rq->intr_fd = rte_eth_dev_rx_intr_ctl_q_get_fd(e->port_id, qid);
		rq->edge = true;
		ev.events = EPOLLIN | EPOLLET;
	}
	/* A packet socket is readable while frames wait in its RX ring:
	 * level-triggered, nothing to arm or acknowledge (net_af_packet
	 * has no RX interrupt of its own). */
	if (e->rx_fd >= 0 && qid == 0) {
		rq->intr_fd = e->rx_fd;
		rq->noarm = true;
	}
	if (rq->intr_fd >= 0) {
		ev.data.fd = rq->intr_fd;
		if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, rq->intr_fd, &ev) < 0)
			rq->intr_fd = -1;
	}
	w->nrxq++;
	if (rq->intr_fd < 0)
		w->poll_ports = true;
	return 0;
}

/* Stop polling e; the others keep their order. */
static void
eth_del(struct dp_worker *w, struct dp_eth *e)
{
	unsigned k = 0;

	w->poll_ports = false;
	for (unsigned i = 0; i < w->nrxq; i++) {
		struct dp_eth_rxq *rq = &w->rxq[i];

		if (rq->eth == e) {
			if (rq->intr_fd >= 0)
				epoll_ctl(w->epfd, EPOLL_CTL_DEL, rq->intr_fd,
					  NULL);
			continue;
		}
		if (rq->intr_fd < 0)
			w->poll_ports = true;
		w->rxq[k++] = *rq;
	}
	w->nrxq = k;
}

static bool
handle_cmds(struct dp_worker *w)
{
	struct dp_cmd *c;
	bool stop = false;

	while (rte_ring_sc_dequeue(w->cmds, (void **)&c) == 0) {
		int r = 0;

		switch (c->op) {
		case DP_CMD_ADD_QUEUE:
			r = add_queue(w, c->q);
			break;
		case DP_CMD_DEL_QUEUE:
			/* Mbufs other workers queued for c->q before the
			 * caller's grace period are in xfer: settle them
			 * while c->q is still ours. */
			drain_xfer(w);
			del_queue(w, c->q);
			break;
		case DP_CMD_ADD_ETHQ:
			r = ethq_add(w, c->eth, c->qid);
			break;
		case DP_CMD_DEL_ETH:
			eth_del(w, c->eth);
			break;
		case DP_CMD_STOP:
			stop = true;
			break;
		}
		atomic_store(&c->done, r < 0 ? r : 1);
	}
	return stop;
}

/*
 * Arm every ring before sleeping; true if work arrived meanwhile.
 * *timeout_ms shrinks to the next deadline: a throttled queue's credit,
 * a backlog packet's drain or stall time, or 1 ms when a queue waits for
 * RX buffers from a frontend that will not notify us when it posts them
 * (no feature-rx-notify).
 */
static bool
arm_and_check(struct dp_worker *w, int *timeout_ms)
{
	const struct dp *c = w->dp;
	uint64_t now = dp_fast_ms(), tsc = rte_get_tsc_cycles();
	uint64_t tsc_ms = rte_get_tsc_hz() / 1000 + 1;
	bool more = false;

	for (unsigned i = 0; i < w->nq; i++) {
		struct dp_queue *q = w->queues[i];

		if (atomic_load(&q->fatal))
			continue;
		if (q->throttled) {
			/* Out of credit: come back when more is due, not
			 * when the guest rings. */
			uint64_t ms = q->credit_at > tsc
					  ? (q->credit_at - tsc) / tsc_ms + 1
					  : 0;

			if (ms == 0)
				more = true;
			else if (ms < (uint64_t)*timeout_ms)
				*timeout_ms = (int)ms;
		} else if (ring_tx_final_check(&q->tx)) {
			more = true;
		}
		if (q->evt.held) {
			/* Its ports stay masked: poll it when the hold
			 * ends (every pass meanwhile, while busy). */
			uint64_t ms = q->evt.until > tsc
					  ? (q->evt.until - tsc) / tsc_ms + 1
					  : 0;

			if (ms == 0)
				more = true;
			else if (ms < (uint64_t)*timeout_ms)
				*timeout_ms = (int)ms;
		}
		if (q->stalled && (*timeout_ms < 0 || *timeout_ms > 100)) {
			/* Stalled: look for buffers now and then. */
			*timeout_ms = 100;
		}
		if (q->bl_count) {
			struct rte_mbuf *m = q->backlog[q->bl_head];
			uint16_t hr = atomic_load_explicit(
			    &q->vif->xdp_headroom, memory_order_relaxed);
			uint64_t due = RTE_MIN(
			    q->bl_ms[q->bl_head] + c->rx_drain_ms,
			    q->rx_progress_ms + c->rx_stall_ms);

			if (ring_rx_want(&q->rx, ring_rx_slots(m->pkt_len, hr,
							       false)))
				more = true;
			if (!q->vif->feat.rx_notify)
				*timeout_ms = 1;
			/* Wake up in time to expire what waits. */
			if (due <= now)
				more = true;
			else if (due - now < (uint64_t)*timeout_ms)
				*timeout_ms = (int)(due - now) + 1;
		}
	}
	return more;
}

/*
 * Before sleeping, let the ports with RX interrupts wake us; false if a
 * packet slipped in meanwhile.
 */
static bool
ports_arm(struct dp_worker *w)
{
	for (unsigned i = 0; i < w->nrxq; i++) {
		struct dp_eth_rxq *rq = &w->rxq[i];

		if (rq->intr_fd < 0 || rq->noarm)
			continue;
		rte_eth_dev_rx_intr_enable(rq->eth->port_id, rq->qid);
		w->intr_calls++;
		if (rq->edge) {
			w->port_polls++;
			if (dp_eth_poll(w, rq) > 0)
				return false;
		} else if (rte_eth_rx_queue_count(rq->eth->port_id,
						  rq->qid) > 0) {
			return false;
		}
	}
	return true;
}

/* After a sleep: interrupts off, and every port polled at once (its
 * interrupt may be what woke us). */
static void
ports_disarm(struct dp_worker *w)
{
	for (unsigned i = 0; i < w->nrxq; i++)
		if (w->rxq[i].intr_fd >= 0) {
			w->rxq[i].skip = w->rxq[i].wait = 0;
			if (w->rxq[i].noarm)
				continue;
			rte_eth_dev_rx_intr_disable(w->rxq[i].eth->port_id,
						    w->rxq[i].qid);
			w->intr_calls++;
		}
}

/*
 * The pass's copy batch: one copy call for every segment planned, then
 * the RX bursts answered, then the TX burst (whose packets, forwarded
 * now, reach this worker's guests in the next batch).
 */
static void
batch_flush(struct dp_worker *w)
{
	if (w->nsegs)
		dp_copy(w, w->nsegs);
	w->nsegs = 0;
	dp_rx_finish(w);
	if (w->txp.q)
		dp_tx_finish(w);
}

static inline unsigned
next_q(const struct dp_worker *w, unsigned i)
{
	return i + 1 == w->nq ? 0 : i + 1;
}

/*
 * One pass over everything the worker owns: frames from other workers,
 * the first queue with TX requests and every queue's RX in one copy
 * call, the other queues' TX (a call each), the ports' RX queues (those
 * with interrupts less often while they stay empty: dp_eth_rxq.skip).
 * The work done.
 */
static unsigned
worker_pass(struct dp_worker *w)
{
	struct dp *d = w->dp;
	unsigned work = 0;

	/* Events are not read here: the rings' indices say what to do,
	 * and every queue is looked at each pass. They are read once a
	 * wake-up, as the sleep ends (worker_sleep). */
	if (unlikely(w->nheld))
		dp_evt_release_due(w);
	drain_xfer(w);
	/* A burst each, from a different first queue every pass: no queue
	 * waits for another by more than one burst of each. */
	unsigned nq = w->nq, first = nq ? w->rr++ % nq : 0, i = first, k;

	/* TX up to the first queue with requests: its burst joins the
	 * batch, with the RX bursts below. */
	for (k = 0; k < nq; k++, i = next_q(w, i)) {
		struct dp_queue *q = w->queues[i];

		if (atomic_load_explicit(&q->fatal, memory_order_relaxed))
			continue;
		unsigned n = dp_tx_plan(w, q);

		q->evt.work += n;
		work += n;
		if (n) {
			k++;
			i = next_q(w, i);
			break;
		}
	}
	unsigned tx_k = k, tx_i = i, j = first;

	for (k = 0; k < nq; k++, j = next_q(w, j)) {
		struct dp_queue *q = w->queues[j];

		if (atomic_load_explicit(&q->fatal, memory_order_relaxed))
			continue;
		int n = dp_rx_plan(w, q);

		if (n < 0) {
			/* The batch is full: copied and answered, then an
			 * empty one always takes a burst. */
			batch_flush(w);
			n = dp_rx_plan(w, q);
		}
		if (n > 0) {
			q->evt.work += (unsigned)n;
			work += (unsigned)n;
		}
	}
	batch_flush(w);
	/* The other queues' TX, each burst a copy call of its own. */
	for (k = tx_k, i = tx_i; k < nq; k++, i = next_q(w, i)) {
		struct dp_queue *q = w->queues[i];

		if (atomic_load_explicit(&q->fatal, memory_order_relaxed))
			continue;
		unsigned n = dp_tx_plan(w, q);

		q->evt.work += n;
		work += n;
		if (n)
			batch_flush(w);
	}
	for (unsigned i = 0; i < w->nrxq; i++) {
		struct dp_eth_rxq *rq = &w->rxq[i];
		unsigned n;

		if (rq->intr_fd < 0 || d->poll_always) {
			work += dp_eth_poll(w, rq);
			w->port_polls++;
			continue;
		}
		if (rq->wait) {
			rq->wait--;
			continue;
		}
		n = dp_eth_poll(w, rq);
		w->port_polls++;
		rq->skip = n ? 0
			     : (uint8_t)RTE_MIN(rq->skip * 2u + 1,
						DP_PORT_SKIP_MAX);
		rq->wait = rq->skip;
		work += n;
	}
	return work;
}

/*
 * Arm everything and sleep, timeout ms at most (-1: no deadline); then
 * read the event channels that rang (they stay masked while the worker
 * is awake: dp_evt_unmask before the next sleep). With nothing but
 * event channels to wait for (no port, no deadline) the sleep is the
 * read: one system call where epoll_wait needs the read after it.
 * False when work came in while arming (no sleep).
 */
static bool
worker_sleep(struct dp_worker *w, int timeout)
{
	struct dp *d = w->dp;
	struct epoll_event ev[8];
	int ne;

	/* Others check `asleep` after queueing to us (dp_worker_kick). */
	atomic_store(&w->asleep, true);
	if (!rte_ring_empty(w->xfer) || !rte_ring_empty(w->cmds) ||
	    !ports_arm(w)) {
		/* Awake after all: the ports armed so far stay quiet. */
		ports_disarm(w);
		atomic_store(&w->asleep, false);
		return false;
	}
	rte_rcu_qsbr_thread_offline(d->rcu, w->id);
	if (timeout < 0 && w->nrxq == 0) {
		uint32_t ports[DP_EVT_BURST];
		int n = hv_evtchn_wait(w->evh, ports, DP_EVT_BURST);

		rte_rcu_qsbr_thread_online(d->rcu, w->id);
		atomic_store(&w->asleep, false);
		w->wakeups++;
		w->tsc = rte_rdtsc(); /* the storm windows' clock */
		if (n > 0)
			dp_evt_take(w, ports, (unsigned)n);
		return true;
	}
	ne = epoll_wait(w->epfd, ev, 8, timeout);
	w->epoll_waits++;
	if (ne == 0 && w->poll_ports && timeout == (int)w->nap_ms)
		w->nap_ms = RTE_MIN(w->nap_ms * 2, DP_NAP_MAX_MS);
	else if (ne > 0)
		w->nap_ms = 1;
	rte_rcu_qsbr_thread_online(d->rcu, w->id);
	ports_disarm(w);
	atomic_store(&w->asleep, false);
	w->wakeups++;
	w->tsc = rte_rdtsc();
	for (int i = 0; i < ne; i++)
		if (ev[i].data.fd == hv_evtchn_fd(w->evh))
			dp_evt_drain(w);
	return true;
}

void
dp_worker_kick(struct dp_worker *from, struct dp_worker *w)
{
	struct dp *d = w->dp;

	/* The queueing's stores before the load of `asleep`, as the
	 * sleeper stores `asleep` before it looks at its rings: one of
	 * the two sees the other (no wake-up is lost). */
	atomic_thread_fence(memory_order_seq_cst);
	if (!atomic_load(&w->asleep))
		return;
	rte_spinlock_lock(&d->kick_lock);
	hv_evtchn_notify(d->kick_evh, w->kick_port);
	rte_spinlock_unlock(&d->kick_lock);
	if (from)
		from->kicks++;
}

static int
worker_main(void *arg)
{
	struct dp_worker *w = arg;
	struct dp *d = w->dp;
	unsigned idle = 0;
	uint64_t spin_from = 0,
		 spin_tsc = rte_get_tsc_hz() / 1000000 * DP_IDLE_SPIN_US,
		 ntfy_tsc = rte_get_tsc_hz() / 1000000 * DP_NOTIFY_HOLD_US;
	uint64_t prev = rte_rdtsc();
	bool was_busy = false;

	rte_rcu_qsbr_thread_register(d->rcu, w->id);
	rte_rcu_qsbr_thread_online(d->rcu, w->id);
	for (;;) {
		/* One TSC read a pass: the switch's clock (w->tsc) and the
		 * busy cycles, counted up to here when the last pass moved
		 * packets (sleeps and idle polls are not). */
		uint64_t t0 = rte_rdtsc();

		if (was_busy)
			w->busy_cycles += t0 - prev;
		prev = w->tsc = t0;
		was_busy = false;
		if (handle_cmds(w))
			break;
		unsigned work = worker_pass(w);

		rte_rcu_qsbr_quiescent(d->rcu, w->id);
		/* Notifications wait for a pass without work, or at most
		 * DP_NOTIFY_HOLD_US while passes keep finding some: the
		 * bursts of consecutive passes share them. */
		if (w->nntfy && (!work || w->tsc - w->ntfy_tsc >= ntfy_tsc))
			dp_notify_flush(w);
		if (work) {
			was_busy = true;
			w->nap_ms = 1;
			idle = 0;
			continue;
		}
		/* Spin a little before sleeping (the next burst often comes
		 * right away): DP_IDLE_SPIN_US of the TSC, not a count of
		 * passes, which last far longer where the CPU is slow (a PV
		 * dom0 under emulation spun whole milliseconds). */
		if (idle++ == 0)
			spin_from = w->tsc;
		if (d->poll_always || w->tsc - spin_from < spin_tsc)
			continue;
		/* A port without RX interrupts (net_af_packet, net_pcap...)
		 * is looked at after a nap: 1 ms while traffic is recent,
		 * doubling to DP_NAP_MAX_MS while all stays quiet, so an
		 * idle driver domain does not wake 1,000 times a second.
		 * Otherwise only a deadline of a queue bounds the sleep.
		 * The event channels read at the last wake-up
		 * (worker_sleep) are unmasked now, in one write, before
		 * the rings' last look: what rings after it wakes us. */
		int timeout = w->poll_ports ? (int)w->nap_ms : -1;

		dp_evt_unmask(w);
		if (arm_and_check(w, &timeout)) {
			idle = 0;
			continue;
		}
		worker_sleep(w, timeout);
		idle = 0;
	}
	rte_rcu_qsbr_thread_offline(d->rcu, w->id);
	rte_rcu_qsbr_thread_unregister(d->rcu, w->id);
	return 0;
}

static int
send_cmd_eth(struct dp_worker *w, enum dp_cmd_op op, struct dp_queue *q,
	     struct dp_eth *e, uint16_t qid)
{
	struct dp_cmd c = { .op = op, .q = q, .eth = e, .qid = qid };

	atomic_store(&c.done, 0);
	while (rte_ring_mp_enqueue(w->cmds, &c) != 0)
		usleep(100);
	dp_worker_kick(NULL, w);
	while (atomic_load(&c.done) == 0)
		usleep(50);
	int r = atomic_load(&c.done);
	return r < 0 ? r : 0;
}

static int
send_cmd(struct dp_worker *w, enum dp_cmd_op op, struct dp_queue *q)
{
	return send_cmd_eth(w, op, q, NULL, 0);
}

int
dp_workers_add_eth(struct dp *dp, struct dp_eth *e)
{
	for (uint16_t q = 0; q < e->nrxq; q++) {
		struct dp_worker *w = &dp->workers[q % dp->nworkers];
		int r = w->launched
				? send_cmd_eth(w, DP_CMD_ADD_ETHQ, NULL, e, q)
				: ethq_add(w, e, q);

		if (r < 0) {
			dp_workers_del_eth(dp, e);
			return r;
		}
	}
	return 0;
}

void
dp_workers_del_eth(struct dp *dp, struct dp_eth *e)
{
	for (unsigned i = 0; i < dp->nworkers; i++) {
		struct dp_worker *w = &dp->workers[i];

		if (w->launched)
			send_cmd_eth(w, DP_CMD_DEL_ETH, NULL, e, 0);
		else
			eth_del(w, e);
	}
}

int
dp_worker_add_queue(struct dp *dp, unsigned worker, struct dp_queue *q)
{
	q->worker = &dp->workers[worker % dp->nworkers];
	return send_cmd(q->worker, DP_CMD_ADD_QUEUE, q);
}

void
dp_worker_del_queue(struct dp_queue *q)
{
	if (!q->worker)
		return;
	send_cmd(q->worker, DP_CMD_DEL_QUEUE, q);
	q->worker = NULL;
}

int
dp_queue_worker_id(const struct dp_queue *q)
{
	return q->worker ? (int)q->worker->id : -1;
}

void
dp_worker_totals(const struct dp *dp, unsigned i, struct dp_worker_totals *t)
{
	const struct dp_worker *w = &dp->workers[i];

	t->id = w->id;
	t->lcore = w->lcore;
	t->vif_queues = w->nq;
	t->port_queues = w->nrxq;
	t->asleep = atomic_load(&w->asleep);
	t->copy_calls = w->copy_calls;
	t->copy_segs = w->copy_segs;
	t->copy_static = w->copy_static;
	t->copy_direct = w->copy_direct;
	t->cut_settled = w->cut_settled;
	t->notifies = w->notifies;
	t->wakeups = w->wakeups;
	t->busy_cycles = w->busy_cycles;
	t->copy_hypercalls = w->copy_hypercalls;
	t->evtchn_calls = w->evh ? w->evh->calls : 0;
	t->epoll_waits = w->epoll_waits;
	t->sys_calls = w->epoll_waits + t->evtchn_calls + w->copy_calls +
		       w->kicks;
	t->intr_arms = w->intr_calls;
	t->port_polls = w->port_polls;
}

void
dp_workers_total(const struct dp *dp, struct dp_worker_totals *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (unsigned i = 0; i < dp->nworkers; i++) {
		struct dp_worker_totals t;

		dp_worker_totals(dp, i, &t);
		sum->copy_calls += t.copy_calls;
		sum->copy_segs += t.copy_segs;
		sum->copy_static += t.copy_static;
		sum->copy_direct += t.copy_direct;
		sum->cut_settled += t.cut_settled;
		sum->notifies += t.notifies;
		sum->wakeups += t.wakeups;
		sum->busy_cycles += t.busy_cycles;
		sum->copy_hypercalls += t.copy_hypercalls;
		sum->evtchn_calls += t.evtchn_calls;
		sum->epoll_waits += t.epoll_waits;
		sum->sys_calls += t.sys_calls;
		sum->intr_arms += t.intr_arms;
		sum->port_polls += t.port_polls;
	}
}

static void
worker_fini(struct dp_worker *w)
{
	if (w->epfd > 0)
		close(w->epfd);
	rte_ring_free(w->cmds);
	rte_ring_free(w->xfer);
	free(w->queues);
	free(w->ntfy);
	free(w->by_evtchn);
	free(w->rxp);
	hv_evtchn_close(w->evh);
	memset(w, 0, sizeof(*w));
}

static int
worker_init(struct dp *d, struct dp_worker *w, unsigned id,
	    unsigned lcore)
{
	char name[RTE_RING_NAMESIZE];
	struct epoll_event ev = { .events = EPOLLIN };
	int err;

	w->id = id;
	w->lcore = lcore;
	w->dp = d;
	w->pool = d->pool;
	w->rx_budget = d->pool->size / DP_RX_POOL_SHARE / d->nworkers;
	uint64_t tsc_ms = rte_get_tsc_hz() / 1000;
	w->evt_rule = (struct dp_storm_rule){
		.window = DP_EVT_WINDOW_MS * tsc_ms,
		.min = DP_EVT_STORM_MIN, .ratio = DP_EVT_STORM_RATIO,
		.hold_first = tsc_ms, .hold_max = DP_EVT_HOLD_MAX_MS * tsc_ms,
	};
	w->nap_ms = 1;
	w->epfd = -1;
	w->gso.direct_pool = d->pool;
	w->gso.indirect_pool = d->indirect_pool;
	w->gso.gso_types = RTE_ETH_TX_OFFLOAD_TCP_TSO;
	w->gso.flag = 0;
	w->queues = calloc(DP_MAX_QUEUES_W, sizeof(*w->queues));
	w->ntfy = calloc(DP_MAX_QUEUES_W, sizeof(*w->ntfy));
	w->by_evtchn = calloc(DP_MAX_EVTCHN, sizeof(*w->by_evtchn));
	w->rxp = calloc(DP_RX_PLANS, sizeof(*w->rxp));
	if (!w->queues || !w->ntfy || !w->by_evtchn || !w->rxp)
		goto nomem;
	w->evh = hv_evtchn_open(d->hv, true);
	if (!w->evh) {
		err = -errno;
		nb_err("worker %u: cannot open event channels: %s", id,
		       strerror(errno));
		goto fail;
	}
	int p = hv_evtchn_loop(w->evh, d->kick_evh, &w->kick_port);
	if (p < 0) {
		err = p;
		nb_err("worker %u: cannot make its wake-up event channel "
		       "(a loopback one): %s", id, strerror(-p));
		goto fail;
	}
	snprintf(name, sizeof(name), "nb_cmd%u", id);
	w->cmds = rte_ring_create(name, 64, SOCKET_ID_ANY, RING_F_SC_DEQ);
	snprintf(name, sizeof(name), "nb_xfer%u", id);
	w->xfer = rte_ring_create(name, 4096, SOCKET_ID_ANY, RING_F_SC_DEQ);
	if (!w->cmds || !w->xfer)
		goto nomem;
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (w->epfd < 0) {
		err = -errno;
		goto fail;
	}
	ev.data.fd = hv_evtchn_fd(w->evh);
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev) < 0) {
		err = -errno;
		goto fail;
	}
	return 0;
nomem:
	err = -ENOMEM;
fail:
	worker_fini(w);
	return err;
}

int
dp_workers_start(struct dp *dp, struct dp_eth *const *eths, unsigned neth)
{
	unsigned lcore, i = 0;
	int r;

	dp->workers = calloc(dp->nworkers, sizeof(*dp->workers));
	if (!dp->workers)
		return -ENOMEM;
	rte_spinlock_init(&dp->kick_lock);
	dp->kick_evh = hv_evtchn_open(dp->hv, false);
	if (!dp->kick_evh) {
		r = -errno;
		nb_err("cannot open event channels for wake-ups: %s",
		       strerror(errno));
		return r;
	}
	size_t sz = rte_rcu_qsbr_get_memsize(dp->nworkers);
	dp->rcu = rte_zmalloc("nb_rcu", sz, RTE_CACHE_LINE_SIZE);
	if (!dp->rcu || rte_rcu_qsbr_init(dp->rcu, dp->nworkers) < 0)
		return -ENOMEM;
	r = dp_cut_init();
	if (r < 0)
		nb_warn("guest-to-guest grant copies off: no mbuf flag for "
			"them (%s)", strerror(-r));
	RTE_LCORE_FOREACH_WORKER(lcore) {
		r = worker_init(dp, &dp->workers[i], i, lcore);
		if (r < 0)
			return r;
		i++;
	}
	for (unsigned k = 0; k < neth; k++) {
		r = dp_workers_add_eth(dp, eths[k]);
		if (r < 0)
			return r;
	}
	for (i = 0; i < dp->nworkers; i++) {
		r = rte_eal_remote_launch(worker_main, &dp->workers[i],
					  dp->workers[i].lcore);
		if (r < 0) {
			nb_err("cannot launch worker %u: %s", i, strerror(-r));
			return r;
		}
		dp->workers[i].launched = true;
	}
	nb_info("%u worker(s) started, %s polling", dp->nworkers,
		dp->poll_always ? "busy" : "adaptive");
	return 0;
}

void
dp_workers_stop(struct dp *d)
{
	if (!d->workers)
		return;
	for (unsigned i = 0; i < d->nworkers; i++)
		if (d->workers[i].launched)
			send_cmd(&d->workers[i], DP_CMD_STOP, NULL);
	rte_eal_mp_wait_lcore();
	for (unsigned i = 0; i < d->nworkers; i++)
		worker_fini(&d->workers[i]);
	free(d->workers);
	d->workers = NULL;
	hv_evtchn_close(d->kick_evh);
	d->kick_evh = NULL;
	rte_free(d->rcu);
	d->rcu = NULL;
}
