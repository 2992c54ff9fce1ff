/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * simtool: what libxl does to a vif, as ../shared/LAB.md records it:
 * the backend directory (state 1, hotplug-status ""), the frontend
 * directory, 10 s for the backend to reach InitWait, then the hotplug
 * script's part (hotplug-status = connected).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xenstore.h>
#include <xen/io/xenbus.h>

#include "simfront.h"
#include "simhv.h"

static int
put(struct xs_handle *xs, xs_transaction_t t, const char *dir,
    const char *key, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	return xs_write(xs, t, path, val, (unsigned)strlen(val)) ? 0 : -errno;
}

static int
perms(struct xs_handle *xs, xs_transaction_t t, const char *path,
      unsigned owner, unsigned reader)
{
	struct xs_permissions p[2] = {
		{ .id = owner, .perms = XS_PERM_NONE },
		{ .id = reader, .perms = XS_PERM_READ },
	};

	return xs_set_permissions(xs, t, path, p, 2) ? 0 : -errno;
}

int
simtool_domain_create(struct xs_handle *xs, struct simhv *hv, uint16_t domid,
		      uint32_t pages)
{
	char dir[64], val[32];
	int r = simhv_domain_create(hv, domid, pages);

	if (r < 0)
		return r;
	snprintf(dir, sizeof(dir), "/local/domain/%u", domid);
	snprintf(val, sizeof(val), "guest%u", domid);
	if (put(xs, XBT_NULL, dir, "name", val) < 0)
		return -errno;
	snprintf(val, sizeof(val), "%u", domid);
	put(xs, XBT_NULL, dir, "domid", val);
	perms(xs, XBT_NULL, dir, domid, 0);
	if (!xs_introduce_domain(xs, domid, 0, 0))
		return -errno;
	return 0;
}

int
simtool_domain_destroy(struct xs_handle *xs, struct simhv *hv, uint16_t domid,
		       uint16_t backend_domid)
{
	char dir[96];

	xs_release_domain(xs, domid);
	simhv_domain_destroy(hv, domid);
	snprintf(dir, sizeof(dir), "/local/domain/%u", domid);
	xs_rm(xs, XBT_NULL, dir);
	snprintf(dir, sizeof(dir), "/local/domain/%u/backend/vif/%u",
		 backend_domid, domid);
	xs_rm(xs, XBT_NULL, dir);
	return 0;
}

int
simtool_vif_add(struct xs_handle *xs, const struct simtool_vif *v)
{
	char be[96], fe[96], val[64], mac[24];
	xs_transaction_t t;
	int r;

	snprintf(be, sizeof(be), "/local/domain/%u/backend/vif/%u/%u",
		 v->backend_domid, v->domid, v->devid);
	snprintf(fe, sizeof(fe), "/local/domain/%u/device/vif/%u", v->domid,
		 v->devid);
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", v->mac[0],
		 v->mac[1], v->mac[2], v->mac[3], v->mac[4], v->mac[5]);
	for (;;) {
		t = xs_transaction_start(xs);
		if (t == XBT_NULL)
			return -errno;
		r = 0;
		r |= put(xs, t, fe, "backend", be);
		snprintf(val, sizeof(val), "%u", v->backend_domid);
		r |= put(xs, t, fe, "backend-id", val);
		snprintf(val, sizeof(val), "%u", v->devid);
		r |= put(xs, t, fe, "handle", val);
		r |= put(xs, t, fe, "mac", mac);
		r |= put(xs, t, fe, "mtu", "1500");
		r |= put(xs, t, fe, "trusted", "1");
		r |= put(xs, t, fe, "state", "1");
		r |= perms(xs, t, fe, v->domid, v->backend_domid);

		if (v->bridge)
			r |= put(xs, t, be, "bridge", v->bridge);
		r |= put(xs, t, be, "frontend", fe);
		snprintf(val, sizeof(val), "%u", v->domid);
		r |= put(xs, t, be, "frontend-id", val);
		snprintf(val, sizeof(val), "%u", v->devid);
		r |= put(xs, t, be, "handle", val);
		r |= put(xs, t, be, "hotplug-status", "");
		r |= put(xs, t, be, "mac", mac);
		r |= put(xs, t, be, "online", "1");
		r |= put(xs, t, be, "script", "/etc/xen/scripts/vif-netbackd");
		r |= put(xs, t, be, "type", "vif");
		for (int i = 0; i < 8 && v->extra_be[i]; i++) {
			char key[64];
			const char *eq = strchr(v->extra_be[i], '=');

			if (!eq || eq - v->extra_be[i] >= (int)sizeof(key))
				continue;
			memcpy(key, v->extra_be[i], (size_t)(eq - v->extra_be[i]));
			key[eq - v->extra_be[i]] = '\0';
			r |= put(xs, t, be, key, eq + 1);
		}
		r |= put(xs, t, be, "state", "1");
		r |= perms(xs, t, be, v->backend_domid, v->domid);
		if (r) {
			xs_transaction_end(xs, t, true);
			return -EIO;
		}
		if (xs_transaction_end(xs, t, false))
			break;
		if (errno != EAGAIN)
			return -errno;
	}
	/* libxl gives the backend 10 s to reach InitWait. */
	if (!simtool_wait(xs, 10000, "2", "%s/state", be))
		return -ETIMEDOUT;
	/* The hotplug script's job, done. */
	return put(xs, XBT_NULL, be, "hotplug-status", "connected");
}

int
simtool_vif_remove(struct xs_handle *xs, const struct simtool_vif *v,
		   int timeout_ms)
{
	char be[96], fe[96];
	int r = 0;

	snprintf(be, sizeof(be), "/local/domain/%u/backend/vif/%u/%u",
		 v->backend_domid, v->domid, v->devid);
	snprintf(fe, sizeof(fe), "/local/domain/%u/device/vif/%u", v->domid,
		 v->devid);
	put(xs, XBT_NULL, be, "online", "0");
	/* libxl asks a live backend to close and waits for Closed; one
	 * that is Closed already (the guest closed first) is just removed. */
	if (simtool_read_int(xs, "%s/state", be) != XenbusStateClosed) {
		put(xs, XBT_NULL, be, "state", "5");
		if (!simtool_wait(xs, timeout_ms, "6", "%s/state", be))
			r = -ETIMEDOUT;
	}
	xs_rm(xs, XBT_NULL, be);
	xs_rm(xs, XBT_NULL, fe);
	return r;
}
