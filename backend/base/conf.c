/* SPDX-License-Identifier: GPL-2.0-only */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

void
nb_conf_defaults(struct nb_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->workers = 1;
	c->max_queues = 0; /* 0: as many as workers */
	c->mbufs = 16384;
	/* Kernel netback's rx_drain_timeout_msecs, rx_stall_timeout_msecs. */
	c->rx_drain_ms = 10000;
	c->rx_stall_ms = 60000;
	/* Kernel netback's XENVIF_RX_QUEUE_BYTES (half a ring of pages),
	 * and as many mbufs as the backlog has packets. */
	c->rx_queue_bytes = 524288;
	c->rx_queue_mbufs = 0; /* auto: a share of the pool */
	c->sandbox = true;
	c->hotplug_self = false;
	c->domid = -1;
}

int
nb_parse_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*out = (unsigned)v;
	return 0;
}

static int
fail(char *err, size_t errlen, const char *name, unsigned line,
     const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (line)
		n = snprintf(err, errlen, "%s:%u: ", name, line);
	else
		n = snprintf(err, errlen, "%s: ", name);
	if (n < 0 || (size_t)n >= errlen)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int
nb_devargs_check(const char *d)
{
	const char *p = d;

	/* driver name: letters, digits, '_' (net_tap0, 0000:00:03.0 too) */
	if (!*p)
		return -EINVAL;
	while (*p && *p != ',') {
		if (!isalnum((unsigned char)*p) && !strchr("_:.-", *p))
			return -EINVAL;
		p++;
	}
	/* KEY=VALUE, or a KEY alone: a flag, as DPDK's kvargs take it
	 * (net_tap's persist). */
	while (*p == ',') {
		const char *kv = ++p, *eq = NULL;

		while (*p && *p != ',') {
			if (*p == '=' && !eq)
				eq = p;
			if (isspace((unsigned char)*p))
				return -EINVAL;
			p++;
		}
		if (eq == kv || p == kv)
			return -EINVAL;
	}
	return *p ? -EINVAL : 0;
}

static bool
valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= NB_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_-", *s))
			return false;
	return true;
}

void
nb_devargs_name(const char *devargs, char *buf, size_t len)
{
	size_t n = strcspn(devargs, ",");

	if (len == 0)
		return;
	if (n >= len)
		n = len - 1;
	memcpy(buf, devargs, n);
	buf[n] = '\0';
}

/*
 * Add a DPDK port (the pif, or one more port) to network `net`: its
 * devargs must parse and its device must not be in use by any network.
 */
static int
add_dev(struct nb_conf *c, struct nb_net_conf *net, const char *val,
	bool pif, const char *src, unsigned line, char *err, size_t errlen)
{
	char want[NB_DEVARGS_MAX], have[NB_DEVARGS_MAX];

	if (strlen(val) >= NB_DEVARGS_MAX || nb_devargs_check(val) < 0)
		return fail(err, errlen, src, line,
			    "network '%s': bad devargs '%s'", net->name, val);
	if (pif && net->pif[0])
		return fail(err, errlen, src, line,
			    "network '%s': a second pif (one uplink per "
			    "network; more ports with port =)", net->name);
	if (!pif && net->nports == NB_MAX_NET_PORTS)
		return fail(err, errlen, src, line,
			    "network '%s': more than %d ports", net->name,
			    NB_MAX_NET_PORTS);
	nb_devargs_name(val, want, sizeof(want));
	for (unsigned i = 0; i < c->nnets; i++) {
		const struct nb_net_conf *o = &c->nets[i];

		for (unsigned k = 0; k <= o->nports; k++) {
			const char *d = k == 0 ? o->pif : o->ports[k - 1];

			if (!d[0])
				continue;
			nb_devargs_name(d, have, sizeof(have));
			if (strcmp(have, want) == 0)
				return fail(err, errlen, src, line,
					    "device '%s' is already a port of "
					    "network '%s'", want, o->name);
		}
	}
	if (pif)
		snprintf(net->pif, sizeof(net->pif), "%s", val);
	else
		snprintf(net->ports[net->nports++], NB_DEVARGS_MAX, "%s", val);
	return 0;
}

int
nb_conf_add_net(struct nb_conf *c, const char *name, const char *pif,
		const char *src, unsigned line, char *err, size_t errlen)
{
	if (!valid_name(name))
		return fail(err, errlen, src, line,
			    "bad network name '%s' (1-%d of [A-Za-z0-9_-])",
			    name, NB_NAME_MAX - 1);
	for (unsigned i = 0; i < c->nnets; i++)
		if (strcmp(c->nets[i].name, name) == 0)
			return fail(err, errlen, src, line,
				    c->nets[i].line
					? "duplicate network '%s' (first at "
					  "line %u)"
					: "duplicate network '%s'",
				    name, c->nets[i].line);
	if (c->nnets == NB_MAX_NETS)
		return fail(err, errlen, src, line, "more than %d networks",
			    NB_MAX_NETS);
	struct nb_net_conf *n = &c->nets[c->nnets];
	memset(n, 0, sizeof(*n));
	snprintf(n->name, sizeof(n->name), "%s", name);
	n->aging_s = 300;
	n->learn_limit = NB_MAC_TABLE;
	n->vif_learn_limit = NB_VIF_LEARN_LIMIT;
	n->mtu = 1500;
	n->line = line;
	if (pif && *pif) {
		int r = add_dev(c, n, pif, true, src, line, err, errlen);

		if (r < 0)
			return r;
	}
	c->nnets++;
	return 0;
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int
set_global(struct nb_conf *c, const char *key, const char *val,
	   const char *name, unsigned line, char *err, size_t errlen)
{
	unsigned v;

	if (strcmp(key, "eal") == 0) {
		if (strlen(val) >= sizeof(c->eal))
			return fail(err, errlen, name, line, "eal too long");
		snprintf(c->eal, sizeof(c->eal), "%s", val);
	} else if (strcmp(key, "workers") == 0) {
		if (nb_parse_uint(val, 1, NB_MAX_WORKERS, &v) < 0)
			return fail(err, errlen, name, line,
				    "workers must be 1..%d, not '%s'",
				    NB_MAX_WORKERS, val);
		c->workers = v;
	} else if (strcmp(key, "max-queues") == 0) {
		if (nb_parse_uint(val, 1, NB_MAX_QUEUES, &v) < 0)
			return fail(err, errlen, name, line,
				    "max-queues must be 1..%d, not '%s'",
				    NB_MAX_QUEUES, val);
		c->max_queues = v;
	} else if (strcmp(key, "poll") == 0) {
		if (strcmp(val, "adaptive") == 0)
			c->poll_always = false;
		else if (strcmp(val, "always") == 0)
			c->poll_always = true;
		else
			return fail(err, errlen, name, line,
				    "poll must be adaptive or always, not '%s'",
				    val);
	} else if (strcmp(key, "mbufs") == 0) {
		if (nb_parse_uint(val, 1024, 1u << 22, &v) < 0)
			return fail(err, errlen, name, line,
				    "mbufs must be 1024..4194304, not '%s'",
				    val);
		c->mbufs = v;
	} else if (strcmp(key, "rx-drain-timeout") == 0) {
		if (nb_parse_uint(val, 1, 3600000, &v) < 0)
			return fail(err, errlen, name, line,
				    "rx-drain-timeout must be 1..3600000 ms, "
				    "not '%s'", val);
		c->rx_drain_ms = v;
	} else if (strcmp(key, "rx-stall-timeout") == 0) {
		if (nb_parse_uint(val, 1, 3600000, &v) < 0)
			return fail(err, errlen, name, line,
				    "rx-stall-timeout must be 1..3600000 ms, "
				    "not '%s'", val);
		c->rx_stall_ms = v;
	} else if (strcmp(key, "rx-queue-mbufs") == 0) {
		if (strcmp(val, "auto") == 0)
			v = 0;
		else if (nb_parse_uint(val, 64, 1u << 20, &v) < 0)
			return fail(err, errlen, name, line,
				    "rx-queue-mbufs must be auto or "
				    "64..1048576, not '%s'", val);
		c->rx_queue_mbufs = v;
	} else if (strcmp(key, "rx-queue-bytes") == 0) {
		if (nb_parse_uint(val, 65536, 1u << 30, &v) < 0)
			return fail(err, errlen, name, line,
				    "rx-queue-bytes must be 65536..1073741824, "
				    "not '%s'", val);
		c->rx_queue_bytes = v;
	} else if (strcmp(key, "user") == 0) {
		if (!val[0] || strlen(val) >= sizeof(c->user))
			return fail(err, errlen, name, line,
				    "bad user '%s'", val);
		snprintf(c->user, sizeof(c->user), "%s", val);
	} else if (strcmp(key, "sandbox") == 0) {
		if (strcmp(val, "on") == 0)
			c->sandbox = true;
		else if (strcmp(val, "off") == 0)
			c->sandbox = false;
		else
			return fail(err, errlen, name, line,
				    "sandbox must be on or off, not '%s'",
				    val);
	} else if (strcmp(key, "hotplug") == 0) {
		if (strcmp(val, "script") == 0)
			c->hotplug_self = false;
		else if (strcmp(val, "netbackd") == 0)
			c->hotplug_self = true;
		else
			return fail(err, errlen, name, line,
				    "hotplug must be script or netbackd, "
				    "not '%s'", val);
	} else if (strcmp(key, "control-socket") == 0) {
		if (!val[0] || strlen(val) >= sizeof(c->ctl_path) ||
		    (val[0] != '/' && strcmp(val, "off") != 0))
			return fail(err, errlen, name, line,
				    "control-socket must be an absolute path "
				    "(at most %zu bytes) or off, not '%s'",
				    sizeof(c->ctl_path) - 1, val);
		snprintf(c->ctl_path, sizeof(c->ctl_path), "%s", val);
	} else if (strcmp(key, "control-group") == 0) {
		if (!val[0] || strlen(val) >= sizeof(c->ctl_group))
			return fail(err, errlen, name, line,
				    "bad control-group '%s'", val);
		snprintf(c->ctl_group, sizeof(c->ctl_group), "%s", val);
	} else if (strcmp(key, "domid") == 0) {
		if (nb_parse_uint(val, 0, 0x7fef, &v) < 0)
			return fail(err, errlen, name, line,
				    "bad domid '%s'", val);
		c->domid = (int)v;
	} else {
		return fail(err, errlen, name, line,
			    "unknown key '%s' in [netbackd]", key);
	}
	return 0;
}

int
nb_conf_parse(struct nb_conf *c, const char *name, const char *text,
	      char *err, size_t errlen)
{
	char line[1024];
	const char *p = text;
	unsigned lineno = 0;
	int section = 0; /* 0 none, 1 [netbackd], 2 [network] */
	struct nb_net_conf *net = NULL;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		lineno++;
		if (len >= sizeof(line))
			return fail(err, errlen, name, lineno, "line too long");
		memcpy(line, p, len);
		line[len] = '\0';
		p += len + (nl ? 1 : 0);

		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		char *s = trim(line);
		if (!*s)
			continue;
		if (*s == '[') {
			char *end = strchr(s, ']');
			if (!end || end[1])
				return fail(err, errlen, name, lineno,
					    "bad section header");
			*end = '\0';
			s = trim(s + 1);
			if (strcmp(s, "netbackd") == 0) {
				section = 1;
			} else if (strncmp(s, "network", 7) == 0 &&
				   isspace((unsigned char)s[7])) {
				int r = nb_conf_add_net(c, trim(s + 8), NULL,
							name, lineno, err,
							errlen);
				if (r < 0)
					return r;
				section = 2;
				net = &c->nets[c->nnets - 1];
			} else {
				return fail(err, errlen, name, lineno,
					    "unknown section [%s]", s);
			}
			continue;
		}
		char *eq = strchr(s, '=');
		if (!eq)
			return fail(err, errlen, name, lineno,
				    "expected key = value");
		*eq = '\0';
		char *key = trim(s), *val = trim(eq + 1);
		int r = 0;
		switch (section) {
		case 0:
			return fail(err, errlen, name, lineno,
				    "'%s' outside any section", key);
		case 1:
			r = set_global(c, key, val, name, lineno, err, errlen);
			break;
		case 2:
			if (strcmp(key, "pif") == 0 ||
			    strcmp(key, "port") == 0) {
				r = add_dev(c, net, val, key[1] == 'i', name,
					    lineno, err, errlen);
			} else if (strcmp(key, "aging") == 0) {
				unsigned v;

				if (nb_parse_uint(val, 1, 86400, &v) < 0)
					return fail(err, errlen, name, lineno,
						    "aging must be 1..86400 s, not '%s'",
						    val);
				net->aging_s = v;
			} else if (strcmp(key, "learn-limit") == 0) {
				unsigned v;

				if (nb_parse_uint(val, 1, NB_MAC_TABLE, &v) < 0)
					return fail(err, errlen, name, lineno,
						    "learn-limit must be 1..%u, not '%s'",
						    NB_MAC_TABLE, val);
				net->learn_limit = v;
			} else if (strcmp(key, "vif-learn-limit") == 0) {
				unsigned v;

				if (nb_parse_uint(val, 0, NB_MAC_TABLE, &v) < 0)
					return fail(err, errlen, name, lineno,
						    "vif-learn-limit must be 0..%u "
						    "(0: none), not '%s'",
						    NB_MAC_TABLE, val);
				net->vif_learn_limit = v;
			} else if (strcmp(key, "mtu") == 0) {
				unsigned v;

				if (nb_parse_uint(val, 68, 9600, &v) < 0)
					return fail(err, errlen, name, lineno,
						    "mtu must be 68..9600, not '%s'",
						    val);
				net->mtu = v;
			} else {
				return fail(err, errlen, name, lineno,
					    "unknown key '%s' in [network %s]",
					    key, net->name);
			}
			break;
		}
		if (r < 0)
			return r;
	}
	return 0;
}

struct nb_net_conf *
nb_conf_net(struct nb_conf *c, const char *name)
{
	for (unsigned i = 0; i < c->nnets; i++)
		if (strcmp(c->nets[i].name, name) == 0)
			return &c->nets[i];
	return NULL;
}

int
nb_conf_add_port(struct nb_conf *c, const char *net, const char *devargs,
		 bool pif, const char *src, char *err, size_t errlen)
{
	struct nb_net_conf *n = nb_conf_net(c, net);

	if (!n)
		return fail(err, errlen, src, 0, "no network '%s'", net);
	return add_dev(c, n, devargs, pif, src, 0, err, errlen);
}

int
nb_conf_del_port(struct nb_conf *c, const char *dev)
{
	char have[NB_DEVARGS_MAX];

	for (unsigned i = 0; i < c->nnets; i++) {
		struct nb_net_conf *n = &c->nets[i];

		nb_devargs_name(n->pif, have, sizeof(have));
		if (n->pif[0] && strcmp(have, dev) == 0) {
			n->pif[0] = '\0';
			return 0;
		}
		for (unsigned k = 0; k < n->nports; k++) {
			nb_devargs_name(n->ports[k], have, sizeof(have));
			if (strcmp(have, dev) != 0)
				continue;
			memmove(n->ports[k], n->ports[k + 1],
				(n->nports - k - 1) * sizeof(n->ports[0]));
			n->nports--;
			return 0;
		}
	}
	return -ENOENT;
}

int
nb_conf_del_net(struct nb_conf *c, const char *name)
{
	struct nb_net_conf *n = nb_conf_net(c, name);

	if (!n)
		return -ENOENT;
	memmove(n, n + 1, (size_t)(c->nets + c->nnets - n - 1) * sizeof(*n));
	c->nnets--;
	return 0;
}

int
nb_conf_load(struct nb_conf *c, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;
	int r;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	if (fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < 0 ||
	    n > (1 << 20) || fseek(f, 0, SEEK_SET) < 0) {
		fclose(f);
		snprintf(err, errlen, "%s: unreadable or larger than 1 MiB",
			 path);
		return -EINVAL;
	}
	buf = malloc((size_t)n + 1);
	if (!buf) {
		fclose(f);
		return -ENOMEM;
	}
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		fclose(f);
		snprintf(err, errlen, "%s: read error", path);
		return -EIO;
	}
	buf[n] = '\0';
	fclose(f);
	r = nb_conf_parse(c, path, buf, err, errlen);
	free(buf);
	return r;
}
