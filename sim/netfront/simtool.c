/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * simtool: what libxl does to a vif (see simtool.h), and xenstore waits.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <xenstore.h>
#include <xen/io/xenbus.h>

#include "simhv.h"
#include "simtool.h"

#define DEFAULT_SCRIPT "/etc/xen/scripts/vif-netbackd"
/* libxl gives a backend 10 s to reach InitWait. */
#define INITWAIT_MS 10000
/* A waiter re-reads its key at least this often, events or not. */
#define REREAD_MS 100

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleep until a watch event or ms; take every queued event. */
static void
wait_event(struct xs_handle *xs, bool watching, int ms)
{
	struct pollfd p = { .fd = watching ? xs_fileno(xs) : -1,
			    .events = POLLIN };
	char **ev;

	if (p.fd < 0) {
		/* No watch: poll the key every 5 ms. */
		struct timespec ts = { 0, 5000000L };

		nanosleep(&ts, NULL);
		return;
	}
	if (poll(&p, 1, ms) <= 0)
		return;
	/* Events of other waiters on this handle go too: every waiter
	 * re-reads its key, so none misses a change for long. */
	while ((ev = xs_check_watch(xs)) != NULL)
		free(ev);
}

/*
 * Wait until check(value) >= 0 (value NULL: no key) or timeout_ms pass.
 * Returns check's result or -ETIMEDOUT.
 */
static int
wait_key(struct xs_handle *xs, const char *path, int timeout_ms,
	 int (*check)(const char *value, const void *arg), const void *arg)
{
	static unsigned serial;
	int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	char token[48];
	bool watching;
	int r;

	snprintf(token, sizeof(token), "simtool-%d-%u", (int)getpid(),
		 __atomic_fetch_add(&serial, 1, __ATOMIC_RELAXED));
	watching = xs_watch(xs, path, token);
	for (;;) {
		unsigned len;
		char *v = xs_read(xs, XBT_NULL, path, &len);
		int64_t left;

		r = check(v, arg);
		free(v);
		if (r >= 0)
			break;
		left = deadline - now_ms();
		if (left <= 0) {
			r = -ETIMEDOUT;
			break;
		}
		wait_event(xs, watching, left < REREAD_MS ? (int)left
							  : REREAD_MS);
	}
	if (watching)
		xs_unwatch(xs, path, token);
	return r;
}

static int
check_value(const char *v, const void *arg)
{
	return v && strcmp(v, arg) == 0 ? 0 : -1;
}

static int
check_state(const char *v, const void *arg)
{
	unsigned mask = *(const unsigned *)arg;
	char *end;
	long st = v ? strtol(v, &end, 10) : 0;

	if (v && (end == v || *end != '\0'))
		st = XenbusStateUnknown;
	return st >= 0 && st < 32 && (mask & (1u << st)) ? (int)st : -1;
}

int
simtool_read_int(struct xs_handle *xs, const char *fmt, ...)
{
	char path[256], *s, *end;
	unsigned len;
	va_list ap;
	long v;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	s = xs_read(xs, XBT_NULL, path, &len);
	if (!s)
		return -1;
	v = strtol(s, &end, 10);
	if (end == s || *end != '\0' || v < 0 || v > 0x7fffffff)
		v = -1;
	free(s);
	return (int)v;
}

bool
simtool_wait(struct xs_handle *xs, int timeout_ms, const char *value,
	     const char *fmt, ...)
{
	char path[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	return wait_key(xs, path, timeout_ms, check_value, value) >= 0;
}

int
simtool_wait_state(struct xs_handle *xs, int timeout_ms, unsigned mask,
		   const char *fmt, ...)
{
	char path[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	return wait_key(xs, path, timeout_ms, check_state, &mask);
}

static int
put(struct xs_handle *xs, xs_transaction_t t, const char *dir,
    const char *key, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	return xs_write(xs, t, path, val, (unsigned)strlen(val)) ? 0 : -errno;
}

static int
putu(struct xs_handle *xs, xs_transaction_t t, const char *dir,
     const char *key, unsigned val)
{
	char v[16];

	snprintf(v, sizeof(v), "%u", val);
	return put(xs, t, dir, key, v);
}

/* Owner (full access) and one reader, as libxl sets its directories. */
static int
perms(struct xs_handle *xs, xs_transaction_t t, const char *path,
      unsigned owner, unsigned reader)
{
	struct xs_permissions p[2] = {
		{ .id = owner, .perms = XS_PERM_NONE },
		{ .id = reader, .perms = XS_PERM_READ },
	};

	return xs_set_permissions(xs, t, path, p, owner == reader ? 1 : 2)
		   ? 0 : -errno;
}

static int
end_or_retry(struct xs_handle *xs, xs_transaction_t t, int r)
{
	if (r < 0) {
		xs_transaction_end(xs, t, true);
		return r;
	}
	if (xs_transaction_end(xs, t, false))
		return 0;
	return errno == EAGAIN ? 1 : -errno;
}

int
simtool_domain_create(struct xs_handle *xs, struct simhv *hv, uint16_t domid,
		      uint32_t pages)
{
	char dir[64], dev[80], name[32];
	int r;

	if (simhv_domain_exists(hv, domid))
		return -EEXIST;
	r = simhv_domain_create(hv, domid, pages);
	if (r < 0)
		return r;
	snprintf(dir, sizeof(dir), "/local/domain/%u", domid);
	snprintf(dev, sizeof(dev), "%s/device", dir);
	snprintf(name, sizeof(name), "guest%u", domid);
	do {
		xs_transaction_t t = xs_transaction_start(xs);

		if (t == XBT_NULL) {
			r = -errno;
			break;
		}
		r = xs_mkdir(xs, t, dir) ? 0 : -errno;
		/* The domain's directory: dom0's, read-only to the guest;
		 * its device directory is the guest's own. */
		if (r == 0)
			r = perms(xs, t, dir, 0, domid);
		if (r == 0)
			r = put(xs, t, dir, "name", name);
		if (r == 0)
			r = putu(xs, t, dir, "domid", domid);
		if (r == 0)
			r = xs_mkdir(xs, t, dev) ? 0 : -errno;
		if (r == 0)
			r = perms(xs, t, dev, domid, domid);
		r = end_or_retry(xs, t, r);
	} while (r == 1);
	if (r == 0 && !xs_introduce_domain(xs, domid, 0, 0))
		r = -errno;
	if (r < 0) {
		xs_rm(xs, XBT_NULL, dir);
		simhv_domain_destroy(hv, domid);
	}
	return r;
}

int
simtool_domain_destroy(struct xs_handle *xs, struct simhv *hv, uint16_t domid,
		       uint16_t backend_domid)
{
	char dir[96];
	int r;

	xs_release_domain(xs, domid);
	r = simhv_domain_destroy(hv, domid);
	snprintf(dir, sizeof(dir), "/local/domain/%u", domid);
	xs_rm(xs, XBT_NULL, dir);
	snprintf(dir, sizeof(dir), "/local/domain/%u/backend/vif/%u",
		 backend_domid, domid);
	xs_rm(xs, XBT_NULL, dir);
	return r;
}

static void
vif_paths(const struct simtool_vif *v, char *be, size_t belen, char *fe,
	  size_t felen)
{
	snprintf(be, belen, "/local/domain/%u/backend/vif/%u/%u",
		 v->backend_domid, v->domid, v->devid);
	snprintf(fe, felen, "/local/domain/%u/device/vif/%u", v->domid,
		 v->devid);
}

static int
write_frontend(struct xs_handle *xs, xs_transaction_t t,
	       const struct simtool_vif *v, const char *fe, const char *be,
	       const char *mac)
{
	int r = 0;

	if (r == 0)
		r = put(xs, t, fe, "backend", be);
	if (r == 0)
		r = putu(xs, t, fe, "backend-id", v->backend_domid);
	if (r == 0)
		r = putu(xs, t, fe, "handle", v->devid);
	if (r == 0)
		r = put(xs, t, fe, "mac", mac);
	if (r == 0)
		r = putu(xs, t, fe, "mtu", v->mtu ? v->mtu : 1500);
	if (r == 0)
		r = put(xs, t, fe, "state", "1");
	if (r == 0)
		r = put(xs, t, fe, "trusted", v->untrusted ? "0" : "1");
	if (r == 0)
		r = perms(xs, t, fe, v->domid, v->backend_domid);
	return r;
}

static int
write_backend(struct xs_handle *xs, xs_transaction_t t,
	      const struct simtool_vif *v, const char *be, const char *fe,
	      const char *mac)
{
	const struct {
		const char *key, *val;
	} opt[] = {
		{ "bridge", v->bridge },
		{ "ip", v->ip },
		{ "rate", v->rate },
		{ "vifname", v->vifname },
	};
	int r = 0;

	for (size_t i = 0; r == 0 && i < sizeof(opt) / sizeof(opt[0]); i++)
		if (opt[i].val)
			r = put(xs, t, be, opt[i].key, opt[i].val);
	if (r == 0 && v->mtu)
		r = putu(xs, t, be, "mtu", v->mtu);
	if (r == 0)
		r = put(xs, t, be, "frontend", fe);
	if (r == 0)
		r = putu(xs, t, be, "frontend-id", v->domid);
	if (r == 0)
		r = putu(xs, t, be, "handle", v->devid);
	if (r == 0)
		r = put(xs, t, be, "hotplug-status", "");
	if (r == 0)
		r = put(xs, t, be, "mac", mac);
	if (r == 0)
		r = put(xs, t, be, "online", "1");
	if (r == 0)
		r = put(xs, t, be, "script",
			v->script ? v->script : DEFAULT_SCRIPT);
	if (r == 0)
		r = put(xs, t, be, "type", "vif");
	for (int i = 0; r == 0 && i < 8 && v->extra_be[i]; i++) {
		const char *eq = strchr(v->extra_be[i], '=');
		char key[64];

		if (!eq || eq == v->extra_be[i] ||
		    eq - v->extra_be[i] >= (long)sizeof(key))
			return -EINVAL;
		memcpy(key, v->extra_be[i], (size_t)(eq - v->extra_be[i]));
		key[eq - v->extra_be[i]] = '\0';
		r = put(xs, t, be, key, eq + 1);
	}
	if (r == 0)
		r = put(xs, t, be, "state", "1");
	if (r == 0)
		r = perms(xs, t, be, v->backend_domid, v->domid);
	return r;
}

int
simtool_vif_add(struct xs_handle *xs, const struct simtool_vif *v)
{
	char be[96], fe[96], mac[24];
	int r;

	vif_paths(v, be, sizeof(be), fe, sizeof(fe));
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", v->mac[0],
		 v->mac[1], v->mac[2], v->mac[3], v->mac[4], v->mac[5]);
	do {
		xs_transaction_t t = xs_transaction_start(xs);

		if (t == XBT_NULL)
			return -errno;
		r = write_frontend(xs, t, v, fe, be, mac);
		if (r == 0)
			r = write_backend(xs, t, v, be, fe, mac);
		r = end_or_retry(xs, t, r);
	} while (r == 1);
	if (r < 0)
		return r;
	r = simtool_wait_state(xs, v->initwait_ms > 0 ? v->initwait_ms
						      : INITWAIT_MS,
			       1u << XenbusStateInitWait, "%s/state", be);
	if (r < 0)
		return r;
	if (v->driver_domain)
		return 0; /* libxl runs no script for another domain's backend */
	/* The hotplug script's part: the vif is plugged. */
	return put(xs, XBT_NULL, be, "hotplug-status", "connected");
}

int
simtool_vif_remove(struct xs_handle *xs, const struct simtool_vif *v,
		   int timeout_ms)
{
	char be[96], fe[96];
	int r = 0, w;

	vif_paths(v, be, sizeof(be), fe, sizeof(fe));
	/* libxl asks a live backend to close and waits for Closed; one
	 * that is Closed already (the guest closed first) is just removed. */
	do {
		xs_transaction_t t = xs_transaction_start(xs);
		bool closed;

		if (t == XBT_NULL)
			return -errno;
		closed = simtool_read_int(xs, "%s/state", be) ==
			 XenbusStateClosed;
		w = put(xs, t, be, "online", "0");
		if (w == 0 && !closed)
			w = put(xs, t, be, "state", "5");
		w = end_or_retry(xs, t, w);
	} while (w == 1);
	if (w == 0 && simtool_wait_state(xs, timeout_ms,
					 1u << XenbusStateClosed, "%s/state",
					 be) < 0)
		r = -ETIMEDOUT;
	/* A missing state key reads as Unknown (0): the directory went. */
	if (v->driver_domain && r == 0 &&
	    simtool_wait_state(xs, timeout_ms, 1u << XenbusStateUnknown,
			       "%s/state", be) < 0)
		r = -ETIMEDOUT;
	do {
		xs_transaction_t t = xs_transaction_start(xs);

		if (t == XBT_NULL)
			return -errno;
		w = xs_rm(xs, t, fe) || errno == ENOENT ? 0 : -errno;
		if (w == 0 && !v->driver_domain)
			w = xs_rm(xs, t, be) || errno == ENOENT ? 0 : -errno;
		w = end_or_retry(xs, t, w);
	} while (w == 1);
	return r < 0 ? r : w;
}
