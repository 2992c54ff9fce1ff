/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The commands that change something while running: net-add, net-del,
 * port-add, port-del, vif-set, fdb-add, fdb-del, fdb-flush, reload. Each
 * is held to the configuration file's rules through ctl/; a refused
 * change disturbs nothing.
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

static int
fdb_args(struct req *r, int *net, uint8_t mac[6], uint16_t *vlan, int last)
{
	unsigned v = 0;

	*net = sw_net_find(r->d->dp.sw, r->argv[1]);
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
int
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
	rc = sw_static_add(r->d->dp.sw, net, mac, vlan, port);
	if (rc < 0)
		return refuse(r, "network '%s': cannot add %s on %s: %s",
			      r->argv[1], r->argv[2], r->argv[3],
			      rc == -EINVAL ? "the port is not on this network "
					      "or does not carry the VLAN"
					    : strerror(-rc));
	return 0;
}

int
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
	if (sw_static_del(r->d->dp.sw, net, mac, vlan) < 0)
		return refuse(r, "network '%s': no static entry for %s vlan %u",
			      r->argv[1], r->argv[2], vlan);
	return 0;
}

/* Forget what a network learnt (static entries stay). */
int
cmd_fdb_flush(struct req *r)
{
	int net;

	if (r->argc != 2)
		return usage_err(r, "fdb-flush NETWORK");
	net = sw_net_find(r->d->dp.sw, r->argv[1]);
	if (net < 0)
		return refuse(r, "no network '%s'", r->argv[1]);
	sw_net_flush(r->d->dp.sw, net);
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

int
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
	if (ctl_net_add(r->d, r->argv[1], kv(r, 2, "pif"), aging, mtu,
			   r->err, sizeof(r->err)) < 0)
		return 1;
	return 0;
}

int
cmd_net_del(struct req *r)
{
	if (r->argc != 2)
		return usage_err(r, "net-del NAME");
	return ctl_net_del(r->d, r->argv[1], r->err, sizeof(r->err)) < 0;
}

int
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
	return ctl_port_add(r->d, r->argv[1], r->argv[2], uplink, vlan,
			       r->err, sizeof(r->err)) < 0;
}

int
cmd_port_del(struct req *r)
{
	if (r->argc != 2)
		return usage_err(r, "port-del PORT");
	return ctl_port_del(r->d, r->argv[1], r->err, sizeof(r->err)) < 0;
}

int
cmd_vif_set(struct req *r)
{
	static const char *const keys[] = { "rate", "vlan", "bridge",
					    "antispoof", NULL };
	const char *use = "vif-set VIF rate=BYTES,USEC|off vlan=[.TAG][:T...] "
			  "bridge=NAME[.TAG][:T...] antispoof=on|off";
	struct nb_daemon *d = r->d;
	struct ctl_vif *v;
	const char *s;
	int rc;

	if (r->argc < 3)
		return usage_err(r, use);
	if ((rc = kv_check(r, 2, keys, use)))
		return rc;
	v = ctl_vif_by_name(d, r->argv[1]);
	if (!v)
		return refuse(r, "no vif '%s'", r->argv[1]);
	/* Check everything before changing anything. */
	s = kv(r, 2, "rate");
	uint64_t b, u;
	if (s && strcmp(s, "off") != 0 && nb_xsval_rate(s, &b, &u) < 0)
		return refuse(r, "%s: bad rate '%s' (BYTES,USEC, both > 0, or "
				 "off)", v->dp.name, s);
	const char *as = kv(r, 2, "antispoof");
	if (as && strcmp(as, "on") != 0 && strcmp(as, "off") != 0)
		return refuse(r, "%s: antispoof must be on or off, not '%s'",
			      v->dp.name, as);
	if (as && strcmp(as, "on") == 0 && !(v->mac[0] | v->mac[1] | v->mac[2] |
					    v->mac[3] | v->mac[4] | v->mac[5]))
		return refuse(r, "%s: anti-spoofing needs the vif's mac key",
			      v->dp.name);
	const char *vl = kv(r, 2, "vlan"), *br = kv(r, 2, "bridge");
	char bridge[sizeof(v->bridge) + 8];
	if (vl && br)
		return refuse(r, "%s: vlan= or bridge=, not both", v->dp.name);
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
	if (br && ctl_vif_rebridge(d, v, br, r->err, sizeof(r->err)) < 0)
		return 1;
	if (as && ctl_vif_antispoof(d, v, strcmp(as, "on") == 0) < 0)
		return refuse(r, "%s: cannot set anti-spoofing", v->dp.name);
	if (s) {
		int e = ctl_xenbus_set_rate(d, v, strcmp(s, "off") ? s : "");

		if (e < 0)
			return refuse(r, "%s: cannot write rate: %s", v->dp.name,
				      strerror(-e));
	}
	return 0;
}

int
cmd_reload(struct req *r)
{
	struct out *o = &r->o;
	char msg[1024];

	/* netbackctl sends the file's name and text */
	if (r->argc != 3)
		return usage_err(r, "reload [FILE]");
	if (ctl_reload(r->d, r->argv[1], r->argv[2], msg, sizeof(msg)) < 0)
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
