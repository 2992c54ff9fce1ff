/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The xenbus side of every vif: watches, the backend state machine and
 * the keys netbackd publishes. Control thread only.
 *
 * The walk (backend state, driven by the frontend's state, hotplug-status
 * and the toolstack's directory), shortest path first:
 *
 *   toolstack writes be/ (state 1) --> write features, vifname; InitWait(2)
 *   fe Initialised(3)/Connected(4) and hotplug-status=connected
 *                                  --> map, bind, attach; Connected(4)
 *   fe Closing(5)                  --> disconnect; Closing(5)
 *   fe Closed(6)                   --> disconnect; Closed(6)
 *   fe Initialising(1) after Closed (guest reboot, module reload)
 *                                  --> InitWait(2) again
 *   fe directory gone / domain dead --> disconnect; Closed(6)
 *   be/ removed by the toolstack   --> disconnect; forget the vif
 *
 * A vif found already Connected at start-up (netbackd restarted) is
 * re-attached to its live rings without the guest noticing.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xenstore.h>
#include <xen/io/xenbus.h>

#include "ctl.h"
#include "xsval.h"

/*
 * A failed read means the key is missing (ENOENT; EACCES: not ours to
 * read, the same to us), or that the connection to xenstore is gone:
 * then nothing read from now on can be trusted, in particular not a
 * missing key, which would look like a removed device. d->xs_lost stops
 * every state change; the control loop ends netbackd, leaving the
 * vifs' xenstore state as it is for the next netbackd to re-attach.
 */
static char *
xs_get(struct nb_daemon *d, const char *path, unsigned *len)
{
	char *s = xs_read(d->xs, XBT_NULL, path, len);

	if (!s && errno != ENOENT && errno != EACCES && !d->xs_lost) {
		nb_err("xenstore: reading %s: %s", path, strerror(errno));
		d->xs_lost = true;
	}
	return s;
}

char *
ctl_xs_read(struct nb_daemon *d, const char *fmt, ...)
{
	char path[256];
	unsigned len;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	return xs_get(d, path, &len);
}

int
ctl_xs_read_uint(struct nb_daemon *d, unsigned max, unsigned *out,
		const char *fmt, ...)
{
	char path[256];
	unsigned len;
	va_list ap;
	char *s;
	int r;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	s = xs_get(d, path, &len);
	if (!s)
		return -ENOENT;
	r = nb_xsval_uint(s, max, out);
	free(s);
	return r < 0 ? -EINVAL : 0;
}

/* Write a key of the vif's backend directory. */
static int
be_write(struct nb_daemon *d, struct ctl_vif *v, const char *key,
	 const char *fmt, ...)
{
	char path[192], val[256];
	va_list ap;
	int n;

	snprintf(path, sizeof(path), "%s/%s", v->be, key);
	va_start(ap, fmt);
	n = vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(val))
		return -EINVAL;
	return xs_write(d->xs, XBT_NULL, path, val, (unsigned)n) ? 0 : -errno;
}

static void
set_state(struct nb_daemon *d, struct ctl_vif *v, int state)
{
	if (v->be_state == state)
		return;
	if (be_write(d, v, "state", "%d", state) < 0)
		nb_warn("%s: cannot write state %d", v->dp.name, state);
	nb_vif_debug(&v->dp, "backend state %d -> %d", v->be_state, state);
	v->be_state = state;
}

static void
vif_fail(struct nb_daemon *d, struct ctl_vif *v, const char *msg)
{
	nb_vif_err(&v->dp, "%s", msg);
	be_write(d, v, "error", "%s", msg);
	ctl_vif_disconnect(d, v);
	set_state(d, v, XenbusStateClosing);
}

struct ctl_vif *
ctl_vif_by_name(struct nb_daemon *d, const char *name)
{
	struct ctl_vif *v;

	LIST_FOREACH(v, &d->vifs, link)
		if (strcmp(v->dp.name, name) == 0)
			return v;
	return NULL;
}

static struct ctl_vif *
vif_by_id(struct nb_daemon *d, unsigned domid, unsigned devid)
{
	struct ctl_vif *v;

	LIST_FOREACH(v, &d->vifs, link)
		if (v->dp.domid == domid && v->devid == devid)
			return v;
	return NULL;
}

/*
 * The toolstack's `rate` key, "BYTES,USEC" as kernel netback reads it:
 * BYTES per USEC period per queue; absent or empty: no limit. Re-read
 * on every change of the backend directory, applied at once.
 */
static void
vif_read_rate(struct nb_daemon *d, struct ctl_vif *v)
{
	char *s = ctl_xs_read(d, "%s/rate", v->be);
	uint64_t bytes = 0, usec = 0;

	if (strcmp(s ? s : "", v->rate) == 0) {
		free(s);
		return;
	}
	snprintf(v->rate, sizeof(v->rate), "%s", s ? s : "");
	if (nb_xsval_rate(s ? s : "", &bytes, &usec) < 0) {
		nb_warn("%s: bad rate '%s' (want BYTES,USEC, both > 0): "
			"traffic unlimited", v->dp.name, s);
		bytes = usec = 0;
	}
	free(s);
	atomic_store(&v->dp.rate_usec, usec);
	atomic_store(&v->dp.rate_bytes, bytes);
	if (bytes)
		nb_info("%s: rate %" PRIu64 " bytes per %" PRIu64
			" us per queue", v->dp.name, bytes, usec);
	else
		nb_info("%s: no rate limit", v->dp.name);
}

int
ctl_xenbus_set_rate(struct nb_daemon *d, struct ctl_vif *v, const char *val)
{
	uint64_t bytes, usec;
	int r;

	if (val[0] && nb_xsval_rate(val, &bytes, &usec) < 0)
		return -EINVAL;
	/* Published where the toolstack keeps it; the watch then sees
	 * nothing new. */
	r = be_write(d, v, "rate", "%s", val);
	if (r < 0)
		return r;
	vif_read_rate(d, v);
	return 0;
}

int
ctl_xenbus_set_bridge(struct nb_daemon *d, struct ctl_vif *v, const char *val)
{
	return be_write(d, v, "bridge", "%s", val);
}

/* request-multicast-control: 1 filters multicast to the subscribed. */
static void
vif_read_mcast(struct nb_daemon *d, struct ctl_vif *v)
{
	unsigned on = 0;

	if (ctl_xs_read_uint(d, 1, &on, "%s/request-multicast-control",
			    v->fe) == -EINVAL)
		nb_vif_warn(&v->dp, "request-multicast-control is not 0 or 1");
	if (v->mcast_filter == (on == 1))
		return;
	v->mcast_filter = on == 1;
	nb_vif_info(&v->dp, "multicast filtering %s",
		    v->mcast_filter ? "on" : "off");
	if (v->dp.sw_port >= 0)
		ctl_vif_mcast_filter(d, v);
}

/* The frontend's xdp-headroom, bounded so a buffer still holds data. */
static void
vif_read_xdp(struct nb_daemon *d, struct ctl_vif *v)
{
	unsigned hr = 0;
	int r = ctl_xs_read_uint(d, 65535, &hr, "%s/xdp-headroom", v->fe);

	if (r == -EINVAL)
		nb_vif_warn(&v->dp, "bad xdp-headroom: none used");
	if (r < 0)
		hr = 0;
	if (hr > DP_MAX_XDP_HEADROOM) {
		nb_vif_warn(&v->dp, "xdp-headroom %u bounded to %u", hr,
			    DP_MAX_XDP_HEADROOM);
		hr = DP_MAX_XDP_HEADROOM;
	}
	atomic_store(&v->dp.xdp_headroom, (uint16_t)hr);
}

/* Read the toolstack's keys and publish ours; then InitWait. */
static void
vif_setup(struct nb_daemon *d, struct ctl_vif *v)
{
	char *s;
	unsigned maxq = d->conf.max_queues;

	s = ctl_xs_read(d, "%s/frontend", v->be);
	if (s && strlen(s) < sizeof(v->fe))
		snprintf(v->fe, sizeof(v->fe), "%s", s);
	else
		snprintf(v->fe, sizeof(v->fe), "/local/domain/%u/device/vif/%u",
			 v->dp.domid, v->devid);
	free(s);
	s = ctl_xs_read(d, "%s/mac", v->be);
	if (!s || nb_xsval_mac(s, v->mac) < 0)
		nb_warn("%s: missing or bad mac '%s'", v->dp.name, s ? s : "");
	free(s);
	s = ctl_xs_read(d, "%s/bridge", v->be);
	snprintf(v->bridge, sizeof(v->bridge), "%s", s ? s : "");
	free(s);
	s = ctl_xs_read(d, "%s/ip", v->be);
	snprintf(v->ip, sizeof(v->ip), "%s", s ? s : "");
	free(s);

	be_write(d, v, "vifname", "%s", v->dp.name);
	be_write(d, v, "feature-rx-copy", "1");
	be_write(d, v, "feature-rx-flip", "0");
	be_write(d, v, "feature-sg", "1");
	be_write(d, v, "feature-split-event-channels", "1");
	/* Blank checksums (IPv4 and IPv6) pass between guests as they are
	 * and are completed for uplinks and guests that do not take them. */
	be_write(d, v, "feature-ipv6-csum-offload", "1");
	/* Large TCP packets both ways; segmented in software for uplinks
	 * and guests that do not take them. */
	be_write(d, v, "feature-gso-tcpv4", "1");
	be_write(d, v, "feature-gso-tcpv6", "1");
	be_write(d, v, "multi-queue-max-queues", "%u", maxq);
	/* MCAST_ADD/DEL on TX; request-multicast-control is watched. */
	be_write(d, v, "feature-multicast-control", "1");
	be_write(d, v, "feature-dynamic-multicast-control", "1");
	/* Toeplitz hashing and static grants through a control ring. */
	be_write(d, v, "feature-ctrl-ring", "1");
	/* xdp-headroom, read at connect and on Reconfiguring. */
	be_write(d, v, "feature-xdp-headroom", "1");
	vif_read_rate(d, v);

	if (!v->fe_watched) {
		char path[160], token[32];

		snprintf(path, sizeof(path), "%s/state", v->fe);
		snprintf(token, sizeof(token), "fe:%u:%u", v->dp.domid, v->devid);
		v->fe_watched = xs_watch(d->xs, path, token);
		snprintf(path, sizeof(path), "%s/request-multicast-control",
			 v->fe);
		snprintf(token, sizeof(token), "mc:%u:%u", v->dp.domid, v->devid);
		v->mc_watched = xs_watch(d->xs, path, token);
	}
}

static void
vif_destroy(struct nb_daemon *d, struct ctl_vif *v)
{
	ctl_vif_disconnect(d, v);
	if (v->fe_watched) {
		char path[160], token[32];

		snprintf(path, sizeof(path), "%s/state", v->fe);
		snprintf(token, sizeof(token), "fe:%u:%u", v->dp.domid, v->devid);
		xs_unwatch(d->xs, path, token);
	}
	if (v->mc_watched) {
		char path[160], token[32];

		snprintf(path, sizeof(path), "%s/request-multicast-control",
			 v->fe);
		snprintf(token, sizeof(token), "mc:%u:%u", v->dp.domid, v->devid);
		xs_unwatch(d->xs, path, token);
	}
	LIST_REMOVE(v, link);
	d->nvifs--;
	nb_info("%s: removed", v->dp.name);
	free(v);
}

/*
 * hotplug = netbackd: how long a closed, offline vif's backend directory
 * stays for the toolstack to read state = Closed before it goes.
 */
#define NB_HOTPLUG_REMOVE_MS 1000

static int
read_state(struct nb_daemon *d, const char *dir)
{
	unsigned st;

	if (ctl_xs_read_uint(d, XenbusStateReconfigured, &st, "%s/state",
			    dir) < 0)
		return -1;
	return (int)st;
}

static bool
frontend_alive(struct nb_daemon *d, struct ctl_vif *v)
{
	int r = hv_domain_alive(d->dp.hv, v->dp.domid);

	if (r >= 0)
		return r == 1;
	/*
	 * No domctl (driver domain): the domain's directory says it. libxl
	 * lets only dom0 and the domain itself read it, so EACCES means it
	 * is there; the frontend directory we just read says it lives.
	 */
	char *s = ctl_xs_read(d, "/local/domain/%u", v->dp.domid);
	bool alive = s != NULL || errno == EACCES;
	free(s);
	return alive;
}

static void
vif_connect(struct nb_daemon *d, struct ctl_vif *v)
{
	char err[256];

	be_write(d, v, "error", "%s", "");
	vif_read_xdp(d, v);
	v->mcast_filter = false;
	vif_read_mcast(d, v);
	if (ctl_vif_connect(d, v, err, sizeof(err)) < 0) {
		vif_fail(d, v, err);
		return;
	}
	set_state(d, v, XenbusStateConnected);
}

/* Bring one vif's backend state in line with what xenstore says. */
static void
vif_step(struct nb_daemon *d, struct ctl_vif *v)
{
	int be = read_state(d, v->be);
	char *hp;
	bool hotplug;
	unsigned online = 1;

	if (d->xs_lost)
		return; /* nothing read can be trusted */
	if (be < 0) {
		/* The toolstack removed the backend directory. */
		vif_destroy(d, v);
		return;
	}
	if (v->be_state < 0) {
		/* First sight: a new vif, or one left by an earlier run. */
		vif_setup(d, v);
		v->be_state = be;
		if (be == XenbusStateInitialising || be == XenbusStateUnknown)
			set_state(d, v, XenbusStateInitWait);
		else if (be == XenbusStateConnected)
			v->be_state = XenbusStateInitWait; /* re-attach */
	} else if (be == XenbusStateInitialising &&
		   v->be_state != XenbusStateInitialising) {
		/* The toolstack reset the device (xl network-attach). */
		ctl_vif_disconnect(d, v);
		v->be_state = be;
		vif_setup(d, v);
		set_state(d, v, XenbusStateInitWait);
	}

	vif_read_rate(d, v);

	int fe = read_state(d, v->fe);
	if (d->xs_lost)
		return;
	if (fe >= 0 && !frontend_alive(d, v))
		fe = -1;
	hp = ctl_xs_read(d, "%s/hotplug-status", v->be);
	hotplug = hp && strcmp(hp, "connected") == 0;
	free(hp);
	if (d->conf.hotplug_self && ctl_xs_read_uint(d, 1, &online, "%s/online",
						    v->be) < 0)
		online = 1; /* no key: as libxl's default */
	if (d->conf.hotplug_self && !hotplug && online &&
	    v->be_state == XenbusStateInitWait) {
		/* No script runs here: the vif is plugged once offered. */
		if (be_write(d, v, "hotplug-status", "connected") == 0)
			hotplug = true;
		else
			nb_warn("%s: cannot write hotplug-status", v->dp.name);
	}

	switch (fe) {
	case XenbusStateInitialising:
		if (v->be_state == XenbusStateClosed ||
		    v->be_state == XenbusStateClosing ||
		    v->be_state == XenbusStateConnected) {
			ctl_vif_disconnect(d, v);
			vif_setup(d, v);
			set_state(d, v, XenbusStateInitWait);
		}
		break;
	case XenbusStateInitialised:
	case XenbusStateConnected:
		if (v->be_state == XenbusStateClosed) {
			/* Frontend skipped Initialising; offer again. */
			set_state(d, v, XenbusStateInitWait);
		}
		if (v->be_state == XenbusStateInitWait && hotplug)
			vif_connect(d, v);
		/* Back from Reconfiguring (XDP attach): the rings stay. */
		if (v->be_state == XenbusStateReconfigured && v->dp.connected)
			set_state(d, v, XenbusStateConnected);
		break;
	case XenbusStateReconfiguring:
		/* netfront attached or detached XDP: new headroom. */
		if (v->dp.connected && v->be_state == XenbusStateConnected) {
			vif_read_xdp(d, v);
			nb_vif_info(&v->dp, "reconfigured, xdp-headroom %u",
				    (unsigned)atomic_load(&v->dp.xdp_headroom));
			set_state(d, v, XenbusStateReconfigured);
		}
		break;
	case XenbusStateClosing:
		ctl_vif_disconnect(d, v);
		set_state(d, v, XenbusStateClosing);
		break;
	case XenbusStateClosed:
		ctl_vif_disconnect(d, v);
		set_state(d, v, XenbusStateClosed);
		break;
	case XenbusStateInitWait:
	case XenbusStateReconfigured:
		break;
	default:
		/* Unknown or gone: the guest went away. */
		if (v->dp.queues)
			nb_vif_info(&v->dp, "frontend gone");
		ctl_vif_disconnect(d, v);
		if (v->be_state != XenbusStateInitWait)
			set_state(d, v, XenbusStateClosed);
		break;
	}

	/*
	 * The toolstack took the device offline and it is closed: with no
	 * hotplug runner (xl devd) in this domain, removing the backend
	 * directory is ours, and the toolstack in dom0 waits for it. Not at
	 * once: libxl first reads state = Closed, and fails the removal if
	 * the key is gone before it did (xl devd has its script's run time
	 * in between). ctl_xenbus_tick() removes it.
	 */
	if (d->conf.hotplug_self && !online &&
	    v->be_state == XenbusStateClosed) {
		if (!v->remove_at_ms)
			v->remove_at_ms = nb_now_ms() + NB_HOTPLUG_REMOVE_MS;
	} else {
		v->remove_at_ms = 0;
	}
}

static struct ctl_vif *
vif_new(struct nb_daemon *d, unsigned domid, unsigned devid)
{
	struct ctl_vif *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	v->dp.domid = (uint16_t)domid;
	v->devid = (uint16_t)devid;
	v->be_state = -1;
	v->dp.sw_port = -1;
	v->net = -1;
	v->dp.rl = (struct nb_ratelimit)NB_RATELIMIT_INIT;
	snprintf(v->dp.name, sizeof(v->dp.name), "vif%u.%u", domid, devid);
	snprintf(v->be, sizeof(v->be), "%s/%u/%u", d->be_root, domid, devid);
	rte_spinlock_init(&v->dp.mcast_lock);
	LIST_INSERT_HEAD(&d->vifs, v, link);
	d->nvifs++;
	nb_info("%s: new vif", v->dp.name);
	return v;
}

static void
vif_event(struct nb_daemon *d, unsigned domid, unsigned devid)
{
	struct ctl_vif *v = vif_by_id(d, domid, devid);

	if (!v) {
		char *s = ctl_xs_read(d, "%s/%u/%u/state", d->be_root, domid,
				     devid);
		if (!s)
			return; /* not (or no longer) a device directory */
		free(s);
		if (domid > 0x7fef || devid > 0xffff)
			return;
		v = vif_new(d, domid, devid);
		if (!v) {
			nb_err("vif%u.%u: out of memory", domid, devid);
			return;
		}
	}
	vif_step(d, v);
}

/* Walk backend/vif/<domid>/<devid> and step every vif found. */
static void
scan(struct nb_daemon *d)
{
	unsigned ndom, ndev;
	char **doms = xs_directory(d->xs, XBT_NULL, d->be_root, &ndom);

	for (unsigned i = 0; doms && i < ndom; i++) {
		unsigned domid, devid;
		char path[160];

		if (nb_xsval_uint(doms[i], 0x7fef, &domid) < 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", d->be_root, doms[i]);
		char **devs = xs_directory(d->xs, XBT_NULL, path, &ndev);
		for (unsigned j = 0; devs && j < ndev; j++)
			if (nb_xsval_uint(devs[j], 0xffff, &devid) == 0)
				vif_event(d, domid, devid);
		free(devs);
	}
	free(doms);
	/* Vifs whose directory vanished while we were not looking. */
	struct ctl_vif *v, *next;
	for (v = LIST_FIRST(&d->vifs); v; v = next) {
		next = LIST_NEXT(v, link);
		vif_step(d, v);
	}
}

static void
handle_watch(struct nb_daemon *d, const char *path, const char *token)
{
	unsigned domid, devid;
	size_t rl = strlen(d->be_root);

	if (strcmp(token, "be") == 0) {
		if (strncmp(path, d->be_root, rl) != 0)
			return;
		if (path[rl] == '\0') {
			scan(d);
			return;
		}
		/* A vif's directory, or a whole domain's (e.g. removed). */
		if (nb_xsval_vifpath(path + rl, &domid, &devid) == 2)
			vif_event(d, domid, devid);
		else
			scan(d);
	} else if (strncmp(token, "fe:", 3) == 0) {
		if (sscanf(token, "fe:%u:%u", &domid, &devid) == 2) {
			struct ctl_vif *v = vif_by_id(d, domid, devid);

			if (v)
				vif_step(d, v);
		}
	} else if (strncmp(token, "mc:", 3) == 0) {
		if (sscanf(token, "mc:%u:%u", &domid, &devid) == 2) {
			struct ctl_vif *v = vif_by_id(d, domid, devid);

			if (v && v->dp.connected)
				vif_read_mcast(d, v);
		}
	} else if (strcmp(token, "rel") == 0) {
		struct ctl_vif *v, *next;

		for (v = LIST_FIRST(&d->vifs); v; v = next) {
			next = LIST_NEXT(v, link);
			if (!frontend_alive(d, v))
				vif_step(d, v);
		}
	}
}

bool
ctl_xenbus_alive(struct nb_daemon *d)
{
	unsigned len;
	char *s;

	if (d->xs_lost)
		return false;
	/* A cheap round trip: the domain's own directory. */
	s = xs_get(d, d->be_root, &len);
	free(s);
	return !d->xs_lost;
}

void
ctl_xenbus_handle_watches(struct nb_daemon *d)
{
	char **vec;

	while ((vec = xs_check_watch(d->xs)) != NULL) {
		handle_watch(d, vec[XS_WATCH_PATH], vec[XS_WATCH_TOKEN]);
		free(vec);
	}
}

void
ctl_xenbus_tick(struct nb_daemon *d)
{
	struct ctl_vif *v, *next;
	uint64_t now = nb_now_ms();

	for (v = LIST_FIRST(&d->vifs); v; v = next) {
		next = LIST_NEXT(v, link);
		/* Control rings whose requests wait for their budget. */
		if (ctl_ctrl_tick(d, v) < 0)
			vif_fail(d, v, "protocol violation, disconnected: "
				 "control ring request producer beyond the "
				 "ring");
		if (!v->remove_at_ms || now < v->remove_at_ms || d->xs_lost)
			continue;
		nb_info("%s: closed and offline: removing %s", v->dp.name, v->be);
		if (!xs_rm(d->xs, XBT_NULL, v->be) && errno != ENOENT)
			nb_warn("%s: cannot remove %s: %s", v->dp.name, v->be,
				strerror(errno));
		vif_destroy(d, v);
	}
}

void
ctl_xenbus_check_fatal(struct nb_daemon *d)
{
	struct ctl_vif *v;

	LIST_FOREACH(v, &d->vifs, link) {
		for (unsigned i = 0; i < v->dp.nqueues; i++) {
			struct dp_queue *q = &v->dp.queues[i];

			if (atomic_load(&q->fatal)) {
				char msg[160];

				snprintf(msg, sizeof(msg),
					 "protocol violation, disconnected: %s",
					 q->fatal_msg);
				vif_fail(d, v, msg);
				break;
			}
		}
	}
}

static void
ctrl_fail(struct nb_daemon *d, struct ctl_vif *v)
{
	vif_fail(d, v, "protocol violation, disconnected: control ring "
		 "request producer beyond the ring");
}

bool
ctl_xenbus_ctrl_event(struct nb_daemon *d, int port)
{
	struct ctl_vif *v;

	LIST_FOREACH(v, &d->vifs, link) {
		int n;

		if (ctl_ctrl_evtchn(v) != port)
			continue;
		n = ctl_ctrl_serve(d, v);
		if (n < 0) {
			ctrl_fail(d, v);
			return true;
		}
		return !ctl_ctrl_storm(v, (unsigned)n);
	}
	return true;
}

int
ctl_xenbus_ctrl_tick(struct nb_daemon *d)
{
	uint64_t now = nb_now_ms();
	struct ctl_vif *v;
	int next = -1;

	LIST_FOREACH(v, &d->vifs, link) {
		int t = ctl_ctrl_due(d, v, now);

		if (t == 0) {
			if (ctl_ctrl_serve(d, v) < 0)
				ctrl_fail(d, v);
			t = ctl_ctrl_due(d, v, now);
		}
		if (t >= 0 && (next < 0 || t < next))
			next = t;
	}
	return next;
}

int
ctl_xenbus_start(struct nb_daemon *d)
{
	d->xs = xs_open(0);
	if (!d->xs) {
		nb_err("cannot connect to xenstore: %s", strerror(errno));
		return -errno;
	}
	if (d->conf.domid >= 0) {
		d->self = (uint16_t)d->conf.domid;
	} else {
		unsigned id;

		/* Relative to our own domain's directory. */
		if (ctl_xs_read_uint(d, 0x7fef, &id, "domid") == 0)
			d->self = (uint16_t)id;
		else
			d->self = 0;
	}
	snprintf(d->be_root, sizeof(d->be_root), "/local/domain/%u/backend/vif",
		 d->self);
	if (!xs_watch(d->xs, d->be_root, "be") ||
	    !xs_watch(d->xs, "@releaseDomain", "rel")) {
		nb_err("cannot watch %s: %s", d->be_root, strerror(errno));
		return -errno;
	}
	/* The watch pipe is made on first use: now, before the sandbox. */
	if (xs_fileno(d->xs) < 0) {
		nb_err("xenstore: no watch descriptor: %s", strerror(errno));
		return -errno;
	}
	nb_info("serving %s", d->be_root);
	return 0;
}

void
ctl_xenbus_stop(struct nb_daemon *d)
{
	struct ctl_vif *v;

	/*
	 * Leave each vif's xenstore state as it is: a netbackd started
	 * again re-attaches to the live rings. What we held (mappings,
	 * ports, buffers) is given back now.
	 */
	while ((v = LIST_FIRST(&d->vifs)) != NULL) {
		ctl_vif_disconnect(d, v);
		LIST_REMOVE(v, link);
		d->nvifs--;
		free(v);
	}
	if (d->xs) {
		xs_close(d->xs);
		d->xs = NULL;
	}
}
