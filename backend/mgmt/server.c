/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The control socket netbackctl(8) talks to.
 *
 * One request per connection: netbackctl sends its arguments, each
 * ending in NUL, and an empty one to end them; the answer is a status
 * byte ('0' done, '1' refused, '2' bad request) then text until the
 * socket closes. Capture answers '0' and then a pcapng stream, until
 * netbackctl shuts its side (its count or time reached, or interrupted):
 * an Interface Statistics Block (received, dropped) ends it.
 *
 * Everything here runs on the control thread and never blocks on a
 * client: answers wait in a buffer per connection and leave as the
 * socket takes them.
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

/* ------------------------------------------------------------ sockets */

bool
out_room(struct conn *c, size_t n)
{
	if (c->outoff && c->outoff == c->outlen)
		c->outoff = c->outlen = 0;
	if (c->outlen + n <= c->outcap)
		return true;
	size_t cap = c->outcap ? c->outcap : 65536;
	while (cap < c->outlen + n)
		cap *= 2;
	char *b = realloc(c->out, cap);
	if (!b)
		return false;
	c->out = b;
	c->outcap = cap;
	return true;
}

static void
conn_close(struct nb_daemon *d, struct conn *c)
{
	if (c->cap >= 0)
		dp_tap_close(&d->dp, (unsigned)c->cap);
	close(c->fd);
	free(c->out);
	free(c->in);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->cap = -1;
}

static const struct {
	const char *name;
	int (*fn)(struct req *r);
	bool writes;
} cmds[] = {
	{ "status", cmd_status, false },
	{ "networks", cmd_networks, false },
	{ "ports", cmd_ports, false },
	{ "vifs", cmd_vifs, false },
	{ "fdb", cmd_fdb, false },
	{ "stats", cmd_stats, false },
	{ "net-add", cmd_net_add, true },
	{ "net-del", cmd_net_del, true },
	{ "port-add", cmd_port_add, true },
	{ "port-del", cmd_port_del, true },
	{ "vif-set", cmd_vif_set, true },
	{ "fdb-add", cmd_fdb_add, true },
	{ "fdb-del", cmd_fdb_del, true },
	{ "fdb-flush", cmd_fdb_flush, true },
	{ "reload", cmd_reload, true },
};

/* A whole request is in: run it, queue the answer. */
static void
serve(struct nb_daemon *d, struct conn *c)
{
	static struct req r;
	size_t off = 0;
	int rc = -2;

	memset(&r, 0, sizeof(r));
	r.d = d;
	r.c = c;
	while (off < c->inlen && c->in[off] && r.argc < 32) {
		r.argv[r.argc++] = c->in + off;
		off += strlen(c->in + off) + 1;
	}
	/* argv[0]: "json" or "text", then the command */
	if (r.argc < 2 || (strcmp(r.argv[0], "json") != 0 &&
			   strcmp(r.argv[0], "text") != 0)) {
		snprintf(r.err, sizeof(r.err), "bad request");
		rc = 2;
	} else {
		r.o.json = strcmp(r.argv[0], "json") == 0;
		for (int i = 0; i < r.argc - 1; i++)
			r.argv[i] = r.argv[i + 1];
		r.argc--;
		if (strcmp(r.argv[0], "capture") == 0)
			rc = cap_start(d, &r);
		for (unsigned i = 0; rc == -2 && i < sizeof(cmds) / sizeof(cmds[0]);
		     i++) {
			if (strcmp(r.argv[0], cmds[i].name) != 0)
				continue;
			rc = cmds[i].fn(&r);
			if (cmds[i].writes)
				nb_info("netbackctl %s %s: %s", r.argv[0],
					r.argc > 1 ? r.argv[1] : "",
					rc == 0 ? "done" : r.err);
		}
		if (rc == -2) {
			snprintf(r.err, sizeof(r.err), "unknown command '%s'",
				 r.argv[0]);
			rc = 2;
		}
	}
	c->answered = true;
	if (rc >= 0) {
		char st = (char)('0' + rc);

		if (r.o.oom) {
			st = '1';
			snprintf(r.err, sizeof(r.err), "out of memory");
		}
		cap_write(c, &st, 1);
		if (st != '0')
			cap_write(c, r.err, strlen(r.err));
		else if (r.o.len)
			cap_write(c, r.o.b, r.o.len);
		else if (r.o.json)
			cap_write(c, "{\"ok\": true}\n", 13);
	}
	free(r.o.b);
}

static void
conn_read(struct nb_daemon *d, struct conn *c)
{
	ssize_t n;

	if (c->answered) {
		char buf[256];

		/* A capture's reader shuts its side to stop it. */
		n = read(c->fd, buf, sizeof(buf));
		if (n == 0)
			cap_stop(d, c);
		else if (n < 0 && errno != EAGAIN)
			conn_close(d, c);
		return;
	}
	if (c->inlen == c->incap && c->incap < NB_MGMT_REQ_MAX) {
		size_t cap = c->incap ? c->incap * 4 : 4096;
		char *b = realloc(c->in, cap < NB_MGMT_REQ_MAX ? cap
							: NB_MGMT_REQ_MAX);

		if (!b) {
			conn_close(d, c);
			return;
		}
		c->in = b;
		c->incap = cap < NB_MGMT_REQ_MAX ? cap : NB_MGMT_REQ_MAX;
	}
	n = read(c->fd, c->in + c->inlen, c->incap - c->inlen);
	if (n <= 0) {
		if (n == 0 || errno != EAGAIN)
			conn_close(d, c);
		return;
	}
	c->inlen += (size_t)n;
	/* ends with an empty argument: "\0\0", or "\0" alone at first */
	if (c->inlen >= 2 && c->in[c->inlen - 1] == '\0' &&
	    c->in[c->inlen - 2] == '\0') {
		serve(d, c);
	} else if (c->inlen == NB_MGMT_REQ_MAX) {
		const char e[] = "2request too long";

		cap_write(c, e, sizeof(e) - 1);
		c->answered = true;
	}
}

static void
conn_write(struct nb_daemon *d, struct conn *c)
{
	while (c->outoff < c->outlen) {
		ssize_t n = send(c->fd, c->out + c->outoff,
				 c->outlen - c->outoff,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0) {
			if (errno != EAGAIN)
				conn_close(d, c);
			return;
		}
		c->outoff += (size_t)n;
	}
	/* All out: a plain answer ends here, a capture when stopped. */
	if (c->answered && (c->cap < 0 || c->cap_stopping))
		conn_close(d, c);
}

/* -------------------------------------------------------------- set-up */

static const char *
default_path(struct nb_daemon *d, char *buf, size_t len)
{
	if (d->conf.ctl_path[0])
		return d->conf.ctl_path;
	if (d->conf.sim_dir[0])
		snprintf(buf, len, "%s/netbackd.sock", d->conf.sim_dir);
	else
		snprintf(buf, len, "/run/netbackd/netbackd.sock");
	return buf;
}

int
mgmt_open(struct nb_daemon *d)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct mgmt *m;
	char buf[sizeof(d->conf.sim_dir) + 16];
	const char *path = default_path(d, buf, sizeof(buf));
	gid_t gid = (gid_t)-1;
	int fd;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	d->mgmt = m;
	m->lfd = m->tel_fd = -1;
	for (unsigned i = 0; i < NB_MGMT_CONNS; i++) {
		m->c[i].fd = -1;
		m->c[i].cap = -1;
	}
	m->tsc0 = rte_get_tsc_cycles();
	m->ns0 = wall_ns();
	pthread_mutex_init(&m->tel_lock, NULL);
	pthread_cond_init(&m->tel_cond, NULL);
	m->tel_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (m->tel_fd < 0)
		return -errno;
	/* Capture buffers, made now: the pool is fixed once running. */
	if (dp_taps_init(&d->dp) < 0)
		nb_warn("no buffers for capture: netbackctl capture is off");
	nb_tel_daemon = d;
	tel_register();

	if (strcmp(path, "off") == 0) {
		nb_info("control socket off");
		return 0;
	}
	if (strlen(path) >= sizeof(sa.sun_path)) {
		nb_err("control socket %s: path too long", path);
		return -ENAMETOOLONG;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	snprintf(m->path, sizeof(m->path), "%s", path);
	if (d->conf.ctl_group[0]) {
		struct group *g = getgrnam(d->conf.ctl_group);

		if (!g) {
			nb_err("control-group %s: no such group",
			       d->conf.ctl_group);
			return -ENOENT;
		}
		gid = g->gr_gid;
	}
	/* Its directory (and those above): /run/netbackd when systemd did
	 * not make it. */
	char dir[sizeof(sa.sun_path)];
	snprintf(dir, sizeof(dir), "%s", path);
	for (char *p = dir + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
			nb_err("control socket %s: cannot make %s: %s", path,
			       dir, strerror(errno));
			*p = '/';
			return -errno;
		}
		*p = '/';
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* A socket left by a netbackd that died is taken over; one that
	 * answers belongs to a netbackd still running. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		nb_err("control socket %s: another netbackd is listening "
		       "there", path);
		close(fd);
		return -EADDRINUSE;
	}
	close(fd);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	mode_t old = umask(0177);
	int r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0 || listen(fd, 16) < 0) {
		r = -errno;
		nb_err("control socket %s: %s", path, strerror(errno));
		close(fd);
		return r;
	}
	/* root, and the control group if one is named */
	if (gid != (gid_t)-1 &&
	    (chown(path, (uid_t)-1, gid) < 0 || chmod(path, 0660) < 0)) {
		r = -errno;
		nb_err("control socket %s: cannot give it to group %s: %s",
		       path, d->conf.ctl_group, strerror(errno));
		close(fd);
		unlink(path);
		return r;
	}
	m->lfd = fd;
	m->unlink_path = true;
	nb_info("control socket %s (mode %s)", path,
		gid != (gid_t)-1 ? "0660" : "0600");
	return 0;
}

void
mgmt_close(struct nb_daemon *d)
{
	struct mgmt *m = d->mgmt;

	if (!m)
		return;
	nb_tel_daemon = NULL;
	for (unsigned i = 0; i < NB_MGMT_CONNS; i++)
		if (m->c[i].fd >= 0)
			conn_close(d, &m->c[i]);
	if (m->lfd >= 0) {
		close(m->lfd);
		/* (As `user` it may not: the next netbackd takes it over.) */
		if (m->unlink_path)
			unlink(m->path);
	}
	if (m->tel_fd >= 0)
		close(m->tel_fd);
	dp_taps_fini(&d->dp);
	free(m);
	d->mgmt = NULL;
}

unsigned
mgmt_pollfds(struct nb_daemon *d, struct pollfd *pfd, unsigned max)
{
	struct mgmt *m = d->mgmt;
	unsigned n = 0;

	if (!m || max < 2 + NB_MGMT_CONNS)
		return 0;
	pfd[n++] = (struct pollfd){ .fd = m->lfd, .events = POLLIN };
	pfd[n++] = (struct pollfd){ .fd = m->tel_fd, .events = POLLIN };
	for (unsigned i = 0; i < NB_MGMT_CONNS; i++) {
		struct conn *c = &m->c[i];
		short ev = 0;

		/* the request, or a capture's reader saying stop */
		if (!c->answered || (c->cap >= 0 && !c->cap_stopping))
			ev |= POLLIN;
		if (c->fd >= 0 && c->outoff < c->outlen)
			ev |= POLLOUT;
		pfd[n++] = (struct pollfd){ .fd = c->fd, .events = ev };
	}
	return n;
}

int
mgmt_timeout(const struct nb_daemon *d)
{
	const struct mgmt *m = d->mgmt;

	for (unsigned i = 0; m && i < NB_MGMT_CONNS; i++)
		if (m->c[i].fd >= 0 && m->c[i].cap >= 0)
			return 1; /* the ring holds ~10 ms at 0.4 Mpps */
	return -1;
}

void
mgmt_handle(struct nb_daemon *d, const struct pollfd *pfd, unsigned n)
{
	struct mgmt *m = d->mgmt;

	if (!m || n < 2 + NB_MGMT_CONNS)
		return;
	if (pfd[1].revents & POLLIN)
		tel_serve(d);
	for (unsigned i = 0; i < NB_MGMT_CONNS; i++) {
		struct conn *c = &m->c[i];
		short re = pfd[2 + i].revents;

		if (c->fd < 0 || pfd[2 + i].fd != c->fd)
			continue;
		if ((re & (POLLHUP | POLLERR)) && c->answered &&
		    (c->cap < 0 || c->cap_stopping)) {
			conn_close(d, c);
			continue;
		}
		if (re & (POLLIN | POLLHUP | POLLERR))
			conn_read(d, c);
		if (c->fd >= 0 && c->cap >= 0 && !c->cap_stopping) {
			if (!cap_follow(d, c)) {
				nb_info("capture of %s: it is gone",
					c->cap_name);
				cap_stop(d, c);
			} else {
				cap_drain(d, c);
			}
		}
		if (c->fd >= 0 && c->outoff < c->outlen)
			conn_write(d, c);
		else if (c->fd >= 0 && c->answered &&
			 (c->cap < 0 || c->cap_stopping))
			conn_close(d, c);
	}
	if (m->lfd >= 0 && (pfd[0].revents & POLLIN)) {
		int fd;

		while ((fd = accept4(m->lfd, NULL, NULL,
				     SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
			struct conn *c = NULL;

			for (unsigned i = 0; i < NB_MGMT_CONNS; i++)
				if (m->c[i].fd < 0) {
					c = &m->c[i];
					break;
				}
			if (!c) {
				const char e[] = "1netbackd: too many "
						 "netbackctl connections";

				if (send(fd, e, sizeof(e) - 1,
					 MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
					/* it will see the close */
				}
				close(fd);
				continue;
			}
			memset(c, 0, sizeof(*c));
			c->fd = fd;
			c->cap = -1;
			c->cap_port = -1;
		}
	}
}
