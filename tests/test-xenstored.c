/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xenstored-sim: its store alone (store.h), then the daemon (path from
 * env XENSTORED_SIM) in a fresh directory per test, through the real
 * libxenstore, through raw xs_wire messages, and through Debian's
 * xenstore-* tools.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xen/io/xs_wire.h>
#include <xenstore.h>

#include "store.h"
#include "tests.h"

/* ---- the store alone ---- */

struct fired {
	char path[64][128];
	bool exact[64];
	int n;
};

static void
record_fire(void *arg, const char *path, bool exact)
{
	struct fired *f = arg;

	if (f->n < 64) {
		snprintf(f->path[f->n], sizeof(f->path[0]), "%s", path);
		f->exact[f->n++] = exact;
	}
}

static bool
fired(const struct fired *f, const char *path, bool exact)
{
	for (int i = 0; i < f->n; i++)
		if (strcmp(f->path[i], path) == 0 && f->exact[i] == exact)
			return true;
	return false;
}

TEST(store_changes_fire_as_xenstored)
{
	struct fired f = { .n = 0 };
	struct store *s = store_new(record_fire, &f);
	const char *v;
	unsigned len;

	CHECK(s != NULL);
	CHECK_EQ(store_write(s, NULL, "/a/b/c", "x", 1), 0);
	CHECK_EQ(f.n, 1);
	CHECK(fired(&f, "/a/b/c", false));
	CHECK_EQ(store_read(s, NULL, "/a/b", &v, &len), 0);
	CHECK_EQ(len, 0);
	CHECK_EQ(store_mkdir(s, NULL, "/a/b"), 0);	/* exists: no change */
	CHECK_EQ(f.n, 1);
	CHECK_EQ(store_write(s, NULL, "/a/d", "", 0), 0);
	/* rm: the node named, not exact; each node below, exact. */
	f.n = 0;
	CHECK_EQ(store_rm(s, NULL, "/a"), 0);
	CHECK_EQ(f.n, 4);
	CHECK(fired(&f, "/a", false));
	CHECK(fired(&f, "/a/b", true));
	CHECK(fired(&f, "/a/b/c", true));
	CHECK(fired(&f, "/a/d", true));
	f.n = 0;
	CHECK_EQ(store_rm(s, NULL, "/a"), 0);		/* parent "/" exists */
	CHECK_EQ(store_rm(s, NULL, "/a/b"), -ENOENT);
	CHECK_EQ(store_rm(s, NULL, "/"), -EINVAL);
	CHECK_EQ(f.n, 0);
	CHECK_EQ(store_write(s, NULL, "/p", "", 0), 0);
	CHECK_EQ(store_set_perms(s, NULL, "/p", "b3\0r0", 6), 0);
	CHECK(fired(&f, "/p", false));
	CHECK_EQ(store_set_perms(s, NULL, "/p", "x3", 3), -EINVAL);
	CHECK_EQ(store_set_perms(s, NULL, "/p", "b3", 2), -EINVAL);
	CHECK_EQ(store_set_perms(s, NULL, "/p", "r70000", 7), -EINVAL);
	CHECK_EQ(store_set_perms(s, NULL, "/q", "r1", 3), -ENOENT);
	store_free(s);
}

TEST(store_paths_are_checked)
{
	struct store *s = store_new(NULL, NULL);
	char longp[XENSTORE_ABS_PATH_MAX + 8];

	CHECK_EQ(store_path_check("/"), 0);
	CHECK_EQ(store_path_check("/a-b_c@d/0"), 0);
	CHECK_EQ(store_path_check("a"), -EINVAL);
	CHECK_EQ(store_path_check(""), -EINVAL);
	CHECK_EQ(store_path_check("/a/"), -EINVAL);
	CHECK_EQ(store_path_check("/a//b"), -EINVAL);
	CHECK_EQ(store_path_check("/a b"), -EINVAL);
	CHECK_EQ(store_path_check("/a.b"), -EINVAL);
	memset(longp, 'x', sizeof(longp));
	longp[0] = '/';
	longp[XENSTORE_ABS_PATH_MAX] = '\0';
	CHECK_EQ(store_path_check(longp), 0);
	longp[XENSTORE_ABS_PATH_MAX] = 'x';
	longp[XENSTORE_ABS_PATH_MAX + 1] = '\0';
	CHECK_EQ(store_path_check(longp), -EINVAL);
	CHECK_EQ(store_write(s, NULL, "/a/", "x", 1), -EINVAL);
	CHECK_EQ(store_mkdir(s, NULL, "rel"), -EINVAL);
	store_free(s);
}

TEST(store_directory_by_parts)
{
	struct store *s = store_new(NULL, NULL);
	char buf[64];
	unsigned len;
	bool complete;
	uint64_t g1, g2;

	CHECK_EQ(store_write(s, NULL, "/d/one", "", 0), 0);
	CHECK_EQ(store_write(s, NULL, "/d/two", "", 0), 0);
	CHECK_EQ(store_write(s, NULL, "/d/three", "", 0), 0);
	CHECK_EQ(store_directory(s, NULL, "/d", 0, buf, sizeof(buf), &len,
	    &complete, &g1), 0);
	CHECK(complete);
	CHECK_EQ(len, 14);
	CHECK(memcmp(buf, "one\0two\0three\0", 14) == 0);
	/* Whole names only, while they fit. */
	CHECK_EQ(store_directory(s, NULL, "/d", 0, buf, 9, &len, &complete,
	    NULL), 0);
	CHECK(!complete);
	CHECK_EQ(len, 8);
	CHECK_EQ(store_directory(s, NULL, "/d", 8, buf, 9, &len, &complete,
	    NULL), 0);
	CHECK(complete);
	CHECK_EQ(len, 6);
	CHECK(memcmp(buf, "three\0", 6) == 0);
	/* An offset inside a name starts there; past the end, nothing. */
	CHECK_EQ(store_directory(s, NULL, "/d", 10, buf, 9, &len, &complete,
	    NULL), 0);
	CHECK(complete && len == 4 && memcmp(buf, "ree\0", 4) == 0);
	CHECK_EQ(store_directory(s, NULL, "/d", 100, buf, 9, &len, &complete,
	    NULL), 0);
	CHECK(complete && len == 0);
	/* The generation moves with the list of children... */
	CHECK_EQ(store_write(s, NULL, "/d/four", "", 0), 0);
	CHECK_EQ(store_directory(s, NULL, "/d", 0, buf, sizeof(buf), &len,
	    &complete, &g2), 0);
	CHECK(g2 != g1);
	/* ... not with a child's value. */
	CHECK_EQ(store_write(s, NULL, "/d/one", "v", 1), 0);
	CHECK_EQ(store_directory(s, NULL, "/d", 0, buf, sizeof(buf), &len,
	    &complete, &g1), 0);
	CHECK_EQ(g1, g2);
	CHECK_EQ(store_directory(s, NULL, "/nope", 0, buf, sizeof(buf), &len,
	    &complete, NULL), -ENOENT);
	store_free(s);
}

/* A transaction doing op, while another writer does other. */
static int
race(void (*op)(struct store *, struct store_txn *),
    void (*other)(struct store *))
{
	struct store *s = store_new(NULL, NULL);
	struct store_txn *t;
	int r;

	CHECK(s != NULL);
	CHECK_EQ(store_write(s, NULL, "/d/a", "0", 1), 0);
	CHECK_EQ(store_write(s, NULL, "/d/b", "0", 1), 0);
	CHECK_EQ(store_write(s, NULL, "/e/x", "0", 1), 0);
	CHECK((t = store_txn_start(s)) != NULL);
	op(s, t);
	other(s);
	r = store_txn_end(s, t, true);
	store_free(s);
	return r;
}

static void
read_a(struct store *s, struct store_txn *t)
{
	const char *v;
	unsigned len;

	CHECK_EQ(store_read(s, t, "/d/a", &v, &len), 0);
}

static void
read_missing(struct store *s, struct store_txn *t)
{
	const char *v;
	unsigned len;

	CHECK_EQ(store_read(s, t, "/d/new", &v, &len), -ENOENT);
}

static void
list_d(struct store *s, struct store_txn *t)
{
	char buf[64];
	unsigned len;
	bool complete;

	CHECK_EQ(store_directory(s, t, "/d", 0, buf, sizeof(buf), &len,
	    &complete, NULL), 0);
}

static void
write_deep(struct store *s, struct store_txn *t)
{
	CHECK_EQ(store_write(s, t, "/d/n/m", "1", 1), 0);
}

static void
rm_d(struct store *s, struct store_txn *t)
{
	CHECK_EQ(store_rm(s, t, "/d"), 0);
}

static void
perms_a(struct store *s, struct store_txn *t)
{
	CHECK_EQ(store_set_perms(s, t, "/d/a", "r1", 3), 0);
}

static void
w_a(struct store *s)
{
	CHECK_EQ(store_write(s, NULL, "/d/a", "1", 1), 0);
}

static void
w_b(struct store *s)
{
	CHECK_EQ(store_write(s, NULL, "/d/b", "1", 1), 0);
}

static void
w_new(struct store *s)
{
	CHECK_EQ(store_write(s, NULL, "/d/new", "1", 1), 0);
}

static void
w_elsewhere(struct store *s)
{
	CHECK_EQ(store_write(s, NULL, "/e/y", "1", 1), 0);
}

static void
perms_b(struct store *s)
{
	CHECK_EQ(store_set_perms(s, NULL, "/d/b", "r1", 3), 0);
}

static void
rm_a(struct store *s)
{
	CHECK_EQ(store_rm(s, NULL, "/d/a"), 0);
}

static void
mk_n(struct store *s)
{
	CHECK_EQ(store_mkdir(s, NULL, "/d/n"), 0);
}

TEST(store_transactions_conflict_precisely)
{
	/* What the transaction read or wrote, changed: EAGAIN. */
	CHECK_EQ(race(read_a, w_a), -EAGAIN);
	CHECK_EQ(race(read_a, rm_a), -EAGAIN);
	CHECK_EQ(race(read_missing, w_new), -EAGAIN);
	CHECK_EQ(race(list_d, w_new), -EAGAIN);
	CHECK_EQ(race(write_deep, mk_n), -EAGAIN);
	CHECK_EQ(race(write_deep, w_new), -EAGAIN);	/* /d's children */
	CHECK_EQ(race(rm_d, w_b), -EAGAIN);		/* below the rm */
	CHECK_EQ(race(perms_a, w_a), -EAGAIN);
	/* Anything else: no conflict. */
	CHECK_EQ(race(read_a, w_b), 0);
	CHECK_EQ(race(read_a, perms_b), 0);
	CHECK_EQ(race(read_a, w_new), 0);
	CHECK_EQ(race(list_d, w_a), 0);		/* a value, not the list */
	CHECK_EQ(race(write_deep, w_a), 0);
	CHECK_EQ(race(rm_d, w_elsewhere), 0);
	CHECK_EQ(race(read_missing, w_elsewhere), 0);
}

TEST(store_transaction_sees_its_copy_and_fires_at_commit)
{
	struct fired f = { .n = 0 };
	struct store *s = store_new(record_fire, &f);
	struct store_txn *t;
	const char *v;
	unsigned len;

	CHECK_EQ(store_write(s, NULL, "/x/old", "1", 1), 0);
	f.n = 0;
	CHECK((t = store_txn_start(s)) != NULL);
	CHECK_EQ(store_write(s, t, "/x/new/deep", "2", 1), 0);
	CHECK_EQ(store_rm(s, t, "/x/old"), 0);
	CHECK_EQ(store_set_perms(s, t, "/x", "n0\0r4", 6), 0);
	CHECK_EQ(store_mkdir(s, t, "/y"), 0);
	CHECK_EQ(f.n, 0);
	CHECK_EQ(store_read(s, t, "/x/new/deep", &v, &len), 0);
	CHECK_EQ(store_read(s, t, "/x/old", &v, &len), -ENOENT);
	CHECK_EQ(store_read(s, NULL, "/x/old", &v, &len), 0);
	CHECK_EQ(store_read(s, NULL, "/x/new", &v, &len), -ENOENT);
	CHECK_EQ(store_txn_end(s, t, true), 0);
	CHECK_EQ(f.n, 4);
	CHECK(fired(&f, "/x/new/deep", false));
	CHECK(fired(&f, "/x/old", false));
	CHECK(fired(&f, "/x", false));
	CHECK(fired(&f, "/y", false));
	CHECK_EQ(store_read(s, NULL, "/x/new/deep", &v, &len), 0);
	CHECK_STREQ(v, "2");
	CHECK_EQ(store_read(s, NULL, "/x/old", &v, &len), -ENOENT);
	CHECK_EQ(store_get_perms(s, NULL, "/x/new", &v, &len), 0);
	CHECK(len == 3 && memcmp(v, "n0", 3) == 0); /* created before */
	CHECK_EQ(store_get_perms(s, NULL, "/x", &v, &len), 0);
	CHECK(len == 6 && memcmp(v, "n0\0r4", 6) == 0);
	/* Aborted: nothing. */
	f.n = 0;
	CHECK((t = store_txn_start(s)) != NULL);
	CHECK_EQ(store_write(s, t, "/z", "1", 1), 0);
	CHECK_EQ(store_txn_end(s, t, false), 0);
	CHECK_EQ(f.n, 0);
	CHECK_EQ(store_read(s, NULL, "/z", &v, &len), -ENOENT);
	store_free(s);
}

/* ---- the daemon ---- */

struct srv {
	char dir[64];
	char sock[96];
	char pidfile[96];
	char log[96];
	pid_t pid;
};

static struct srv *cleanup_srv;

static void
srv_cleanup(void)
{
	struct srv *s = cleanup_srv;

	if (s == NULL)
		return;
	if (s->pid > 0) {
		kill(s->pid, SIGKILL);
		waitpid(s->pid, NULL, 0);
	}
	unlink(s->sock);
	unlink(s->pidfile);
	unlink(s->log);
	rmdir(s->dir);
}

static bool
can_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

/* Start the server on s->sock; the caller has set up s->dir. */
static pid_t
srv_spawn(struct srv *s)
{
	const char *exe = getenv("XENSTORED_SIM");
	pid_t pid;

	if (exe == NULL)
		FAIL("XENSTORED_SIM is not set");
	if ((pid = fork()) < 0)
		FAIL("fork: %s", strerror(errno));
	if (pid == 0) {
		int fd = open(s->log, O_WRONLY | O_CREAT | O_APPEND, 0644);

		/* Never outlive the test, even if it dies of a signal. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (fd >= 0)
			dup2(fd, 2);
		execl(exe, exe, "--socket", s->sock, "--pid-file", s->pidfile,
		    (char *)NULL);
		_exit(127);
	}
	return pid;
}

static void
srv_start(struct srv *s)
{
	snprintf(s->dir, sizeof(s->dir), "/tmp/test-xenstored.XXXXXX");
	if (mkdtemp(s->dir) == NULL)
		FAIL("mkdtemp: %s", strerror(errno));
	snprintf(s->sock, sizeof(s->sock), "%s/sock", s->dir);
	snprintf(s->pidfile, sizeof(s->pidfile), "%s/pid", s->dir);
	snprintf(s->log, sizeof(s->log), "%s/log", s->dir);
	cleanup_srv = s;
	atexit(srv_cleanup);
	/* A hang fails this test alone (by SIGALRM), not the whole file. */
	alarm(60);
	s->pid = srv_spawn(s);
	for (int i = 0; i < 500 && !can_connect(s->sock); i++)
		usleep(10000);
	if (!can_connect(s->sock))
		FAIL("xenstored-sim did not come up on %s", s->sock);
	setenv("XENSTORED_PATH", s->sock, 1);
}

/* SIGTERM the server: its exit status, or -1 if it did not exit. */
static int
srv_stop(struct srv *s)
{
	int st;

	kill(s->pid, SIGTERM);
	for (int i = 0; i < 500; i++) {
		if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
			s->pid = 0;
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		}
		usleep(10000);
	}
	return -1;
}

/* End of a test: the server stops cleanly, the directory goes. */
static void
srv_end(struct srv *s)
{
	CHECK_EQ(srv_stop(s), 0);
	srv_cleanup();
	cleanup_srv = NULL;
}

static bool
srv_log_contains(const struct srv *s, const char *text)
{
	char buf[8192];
	FILE *f = fopen(s->log, "r");
	size_t n;

	if (f == NULL)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, text) != NULL;
}

static struct xs_handle *
xs_connect(void)
{
	struct xs_handle *xs = xs_open(0);

	if (xs == NULL)
		FAIL("xs_open: %s", strerror(errno));
	return xs;
}

static char *
rd(struct xs_handle *xs, xs_transaction_t t, const char *path)
{
	unsigned len;

	return xs_read(xs, t, path, &len);
}

static void
check_value(struct xs_handle *xs, const char *path, const char *want)
{
	char *v = rd(xs, XBT_NULL, path);

	if (want == NULL) {
		if (v != NULL)
			FAIL("%s: '%s', want none", path, v);
		CHECK_EQ(errno, ENOENT);
		return;
	}
	if (v == NULL || strcmp(v, want) != 0)
		FAIL("%s: '%s', want '%s'", path, v ? v : "(none)", want);
	free(v);
}

/*
 * Events read while waiting for another token, kept for later: each
 * handle's events arrive in order, a test looks for one token at a time.
 */
static struct stashed {
	struct xs_handle *xs;
	char *token, *path;
} stash[512];
static int nstash;

static char *
unstash(struct xs_handle *xs, const char *token)
{
	for (int i = 0; i < nstash; i++) {
		if (stash[i].xs == xs && strcmp(stash[i].token, token) == 0) {
			char *p = stash[i].path;

			free(stash[i].token);
			memmove(&stash[i], &stash[i + 1],
			    (size_t)(nstash - i - 1) * sizeof(stash[0]));
			nstash--;
			return p;
		}
	}
	return NULL;
}

/* Next event for token within ms: its path (malloc'd), or NULL. */
static char *
next_event(struct xs_handle *xs, const char *token, int ms)
{
	struct pollfd pfd = { .fd = xs_fileno(xs), .events = POLLIN };
	struct timespec t0, t1;
	char *p;

	if ((p = unstash(xs, token)) != NULL)
		return p;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		char **v = xs_check_watch(xs);

		if (v != NULL) {
			p = strdup(v[XS_WATCH_PATH]);
			if (strcmp(v[XS_WATCH_TOKEN], token) == 0) {
				free(v);
				return p;
			}
			if (nstash == (int)(sizeof(stash) / sizeof(stash[0])))
				FAIL("too many events stashed");
			stash[nstash].xs = xs;
			stash[nstash].token = strdup(v[XS_WATCH_TOKEN]);
			stash[nstash++].path = p;
			free(v);
			continue;
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if ((t1.tv_sec - t0.tv_sec) * 1000 +
		    (t1.tv_nsec - t0.tv_nsec) / 1000000 >= ms)
			return NULL;
		poll(&pfd, 1, 10);
	}
}

static void
expect_event(struct xs_handle *xs, const char *token, const char *path)
{
	char *p = next_event(xs, token, 3000);

	if (p == NULL || strcmp(p, path) != 0)
		FAIL("watch %s: event '%s', want '%s'", token,
		    p ? p : "(none)", path);
	free(p);
}

static void
expect_no_event(struct xs_handle *xs, const char *token)
{
	char *p = next_event(xs, token, 200);

	if (p != NULL)
		FAIL("watch %s: unexpected event '%s'", token, p);
}

/* ---- raw xs_wire clients ---- */

static int
raw_connect(const struct srv *s)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	struct timeval tv = { .tv_sec = 5 };

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", s->sock);
	CHECK(fd >= 0);
	CHECK(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	/* A server that stops reading fails the test, never hangs it. */
	CHECK(setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == 0);
	return fd;
}

static void
write_all(int fd, const void *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			FAIL("write: %s", strerror(errno));
		p = (const char *)p + n;
		len -= (size_t)n;
	}
}

static void
raw_send(int fd, uint32_t type, uint32_t req, uint32_t tx, const void *p,
    size_t len)
{
	struct xsd_sockmsg h = { .type = type, .req_id = req, .tx_id = tx,
	    .len = (uint32_t)len };

	write_all(fd, &h, sizeof(h));
	write_all(fd, p, len);
}

/* Read exactly len bytes within ms: 1, 0 at EOF first, FAIL on timeout. */
static int
read_full(int fd, void *p, size_t len, int ms)
{
	size_t got = 0;

	while (got < len) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, ms) != 1)
			FAIL("no message within %d ms", ms);
		n = read(fd, (char *)p + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ECONNRESET && got == 0)
			return 0;
		if (n < 0)
			FAIL("read: %s", strerror(errno));
		if (n == 0) {
			if (got == 0)
				return 0;
			FAIL("EOF inside a message");
		}
		got += (size_t)n;
	}
	return 1;
}

/* Next message: 1, or 0 at EOF. buf has XENSTORE_PAYLOAD_MAX + 1 bytes. */
static int
raw_recv(int fd, struct xsd_sockmsg *h, char *buf)
{
	if (!read_full(fd, h, sizeof(*h), 3000))
		return 0;
	if (h->len > XENSTORE_PAYLOAD_MAX)
		FAIL("reply of %u bytes", h->len);
	read_full(fd, buf, h->len, 3000);
	buf[h->len] = '\0';
	return 1;
}

/* Send one request and return the reply's type; payload into buf. */
static uint32_t
raw_call(int fd, uint32_t type, uint32_t tx, const void *p, size_t len,
    char *buf, uint32_t *rlen)
{
	static uint32_t req = 100;
	struct xsd_sockmsg h;

	raw_send(fd, type, ++req, tx, p, len);
	do {
		if (!raw_recv(fd, &h, buf))
			FAIL("EOF instead of a reply");
	} while (h.type == XS_WATCH_EVENT);
	CHECK_EQ(h.req_id, req);
	CHECK_EQ(h.tx_id, tx);
	if (rlen != NULL)
		*rlen = h.len;
	return h.type;
}

static void
raw_expect_error(int fd, uint32_t type, uint32_t tx, const void *p,
    size_t len, const char *err)
{
	char buf[XENSTORE_PAYLOAD_MAX + 1];

	if (raw_call(fd, type, tx, p, len, buf, NULL) != XS_ERROR)
		FAIL("request %u: '%s', want error %s", type, buf, err);
	CHECK_STREQ(buf, err);
}

/* ---- through libxenstore ---- */

TEST(initial_tree)
{
	struct srv s;
	struct xs_handle *xs;
	unsigned n;
	char **d;

	srv_start(&s);
	xs = xs_connect();
	d = xs_directory(xs, XBT_NULL, "/", &n);
	CHECK(d != NULL && n == 2);
	CHECK_STREQ(d[0], "local");
	CHECK_STREQ(d[1], "tool");
	free(d);
	d = xs_directory(xs, XBT_NULL, "/local/domain", &n);
	CHECK(d != NULL && n == 1);
	CHECK_STREQ(d[0], "0");
	free(d);
	check_value(xs, "/local/domain/0/name", "Domain-0");
	check_value(xs, "/local/domain/0/domid", "0");
	check_value(xs, "/tool", "");
	xs_close(xs);
	srv_end(&s);
}

TEST(read_write_mkdir_rm_directory)
{
	struct srv s;
	struct xs_handle *xs;
	unsigned n, len;
	char **d, *v;

	srv_start(&s);
	xs = xs_connect();
	/* WRITE creates the missing parents, empty. */
	CHECK(xs_write(xs, XBT_NULL, "/a/b/c", "value", 5));
	check_value(xs, "/a/b/c", "value");
	check_value(xs, "/a/b", "");
	CHECK(xs_write(xs, XBT_NULL, "/a/b/c", "v2", 2));
	check_value(xs, "/a/b/c", "v2");
	/* Values are bytes: NULs and emptiness survive. */
	CHECK(xs_write(xs, XBT_NULL, "/a/bin", "x\0y", 3));
	v = xs_read(xs, XBT_NULL, "/a/bin", &len);
	CHECK(v != NULL && len == 3 && memcmp(v, "x\0y", 3) == 0);
	free(v);
	CHECK(xs_write(xs, XBT_NULL, "/a/bin", "", 0));
	v = xs_read(xs, XBT_NULL, "/a/bin", &len);
	CHECK(v != NULL && len == 0);
	free(v);
	/* MKDIR: parents too; an existing node keeps its value. */
	CHECK(xs_mkdir(xs, XBT_NULL, "/a/d/e"));
	check_value(xs, "/a/d/e", "");
	CHECK(xs_mkdir(xs, XBT_NULL, "/a/b/c"));
	check_value(xs, "/a/b/c", "v2");
	/* DIRECTORY in creation order. */
	d = xs_directory(xs, XBT_NULL, "/a", &n);
	CHECK(d != NULL && n == 3);
	CHECK_STREQ(d[0], "b");
	CHECK_STREQ(d[1], "bin");
	CHECK_STREQ(d[2], "d");
	free(d);
	d = xs_directory(xs, XBT_NULL, "/a/b/c", &n);
	CHECK(d != NULL && n == 0);
	free(d);
	CHECK(xs_directory(xs, XBT_NULL, "/nope", &n) == NULL);
	CHECK_EQ(errno, ENOENT);
	/* RM is recursive. */
	CHECK(xs_rm(xs, XBT_NULL, "/a/b"));
	check_value(xs, "/a/b/c", NULL);
	check_value(xs, "/a/b", NULL);
	d = xs_directory(xs, XBT_NULL, "/a", &n);
	CHECK(d != NULL && n == 2);
	free(d);
	/* A missing node with an existing parent: fine; without: ENOENT. */
	CHECK(xs_rm(xs, XBT_NULL, "/a/nothing"));
	CHECK(!xs_rm(xs, XBT_NULL, "/nope/nothing"));
	CHECK_EQ(errno, ENOENT);
	CHECK(!xs_rm(xs, XBT_NULL, "/"));
	CHECK_EQ(errno, EINVAL);
	xs_close(xs);
	srv_end(&s);
}

TEST(invalid_paths)
{
	struct srv s;
	struct xs_handle *xs;
	static char longp[XENSTORE_ABS_PATH_MAX + 2];

	srv_start(&s);
	xs = xs_connect();
	CHECK(!xs_write(xs, XBT_NULL, "/a/", "x", 1));
	CHECK_EQ(errno, EINVAL);
	CHECK(!xs_write(xs, XBT_NULL, "/a//b", "x", 1));
	CHECK_EQ(errno, EINVAL);
	CHECK(!xs_write(xs, XBT_NULL, "/a b", "x", 1));
	CHECK_EQ(errno, EINVAL);
	CHECK(rd(xs, XBT_NULL, "@releaseDomain") == NULL);
	CHECK_EQ(errno, EINVAL);
	memset(longp, 'x', XENSTORE_ABS_PATH_MAX + 1);
	longp[0] = '/';
	CHECK(!xs_write(xs, XBT_NULL, longp, "x", 1));
	CHECK_EQ(errno, EINVAL);
	longp[XENSTORE_ABS_PATH_MAX] = '\0';
	CHECK(xs_write(xs, XBT_NULL, longp, "x", 1));
	check_value(xs, longp, "x");
	xs_close(xs);
	srv_end(&s);
}

TEST(relative_paths_are_dom0s)
{
	struct srv s;
	struct xs_handle *xs;

	srv_start(&s);
	xs = xs_connect();
	check_value(xs, "domid", "0");
	CHECK(xs_write(xs, XBT_NULL, "rel/x", "1", 1));
	check_value(xs, "/local/domain/0/rel/x", "1");
	/* A relative watch names relative paths in its events. */
	CHECK(xs_watch(xs, "rel", "r"));
	expect_event(xs, "r", "rel");
	CHECK(xs_write(xs, XBT_NULL, "/local/domain/0/rel/y", "2", 1));
	expect_event(xs, "r", "rel/y");
	CHECK(xs_unwatch(xs, "rel", "r"));
	xs_close(xs);
	srv_end(&s);
}

TEST(long_directory_in_parts)
{
	struct srv s;
	struct xs_handle *xs;
	char path[128], buf[XENSTORE_PAYLOAD_MAX + 1];
	unsigned n;
	uint32_t len;
	char **d;
	int fd;

	srv_start(&s);
	xs = xs_connect();
	/* 300 names of 43 bytes: about 13 KiB, four parts' worth. */
	for (int i = 0; i < 300; i++) {
		snprintf(path, sizeof(path), "/big/child-%03d-%s", i,
		    "abcdefghijklmnopqrstuvwxyz012345");
		CHECK(xs_write(xs, XBT_NULL, path, "", 0));
	}
	/* libxenstore gets E2BIG for DIRECTORY, then reads the parts. */
	d = xs_directory(xs, XBT_NULL, "/big", &n);
	CHECK(d != NULL);
	CHECK_EQ(n, 300);
	for (int i = 0; i < 300; i++) {
		snprintf(path, sizeof(path), "child-%03d-%s", i,
		    "abcdefghijklmnopqrstuvwxyz012345");
		CHECK_STREQ(d[i], path);
	}
	free(d);

	fd = raw_connect(&s);
	raw_expect_error(fd, XS_DIRECTORY, 0, "/big", 5, "E2BIG");
	CHECK_EQ(raw_call(fd, XS_DIRECTORY_PART, 0, "/big\0" "0", 7, buf,
	    &len), XS_DIRECTORY_PART);
	/* <gen>|, then whole names, no end mark: more to come. */
	size_t glen = strlen(buf) + 1;
	CHECK(glen > 1 && strspn(buf, "0123456789") == glen - 1);
	CHECK(len > 4000 && len <= XENSTORE_PAYLOAD_MAX);
	CHECK(buf[len - 1] == '\0' && buf[len - 2] != '\0');
	CHECK_EQ((len - glen) % 43, 0);
	CHECK(memcmp(buf + glen, "child-000-", 10) == 0);
	/* Past the end: just the end mark. */
	CHECK_EQ(raw_call(fd, XS_DIRECTORY_PART, 0, "/big\0" "99999", 11, buf,
	    &len), XS_DIRECTORY_PART);
	CHECK_EQ(len, glen + 1);
	raw_expect_error(fd, XS_DIRECTORY_PART, 0, "/big", 5, "EINVAL");
	raw_expect_error(fd, XS_DIRECTORY_PART, 0, "/big\0x", 7, "EINVAL");
	raw_expect_error(fd, XS_DIRECTORY_PART, 0, "/big\0" "0\0" "0", 9,
	    "EINVAL");
	raw_expect_error(fd, XS_DIRECTORY_PART, 0, "/nope\0" "0", 8,
	    "ENOENT");
	close(fd);
	xs_close(xs);
	srv_end(&s);
}

TEST(permissions)
{
	struct srv s;
	struct xs_handle *xs;
	unsigned n;
	struct xs_permissions set[2] = {
		{ .id = 5, .perms = XS_PERM_NONE },
		{ .id = 7, .perms = XS_PERM_READ | XS_PERM_WRITE },
	};
	struct xs_permissions *got;
	char buf[XENSTORE_PAYLOAD_MAX + 1];
	uint32_t len;
	int fd;

	srv_start(&s);
	xs = xs_connect();
	got = xs_get_permissions(xs, XBT_NULL, "/", &n);
	CHECK(got != NULL && n == 1);
	CHECK_EQ(got[0].id, 0);
	CHECK_EQ(got[0].perms, XS_PERM_NONE);
	free(got);
	CHECK(xs_write(xs, XBT_NULL, "/p", "", 0));
	CHECK(xs_set_permissions(xs, XBT_NULL, "/p", set, 2));
	got = xs_get_permissions(xs, XBT_NULL, "/p", &n);
	CHECK(got != NULL && n == 2);
	CHECK_EQ(got[0].id, 5);
	CHECK_EQ(got[0].perms, XS_PERM_NONE);
	CHECK_EQ(got[1].id, 7);
	CHECK_EQ(got[1].perms, XS_PERM_READ | XS_PERM_WRITE);
	free(got);
	/* New nodes, parents created on the way included, inherit. */
	CHECK(xs_write(xs, XBT_NULL, "/p/q/r", "x", 1));
	got = xs_get_permissions(xs, XBT_NULL, "/p/q", &n);
	CHECK(got != NULL && n == 2 && got[0].id == 5 && got[1].id == 7);
	free(got);
	got = xs_get_permissions(xs, XBT_NULL, "/p/q/r", &n);
	CHECK(got != NULL && n == 2 && got[0].id == 5 && got[1].id == 7);
	free(got);
	/* Not enforced: every socket client is dom0. Domain 5 owns /p
	 * yet we still read and write it. */
	CHECK(xs_write(xs, XBT_NULL, "/p/q/r", "y", 1));
	check_value(xs, "/p/q/r", "y");
	CHECK(!xs_set_permissions(xs, XBT_NULL, "/nope", set, 2));
	CHECK_EQ(errno, ENOENT);
	CHECK(xs_get_permissions(xs, XBT_NULL, "/nope", &n) == NULL);
	CHECK_EQ(errno, ENOENT);

	/* On the wire: "<letter><domid>\0" each. */
	fd = raw_connect(&s);
	CHECK_EQ(raw_call(fd, XS_GET_PERMS, 0, "/p", 3, buf, &len),
	    XS_GET_PERMS);
	CHECK(len == 6 && memcmp(buf, "n5\0b7\0", 6) == 0);
	CHECK_EQ(raw_call(fd, XS_SET_PERMS, 0, "/p\0w3\0r0", 9, buf, &len),
	    XS_SET_PERMS);
	CHECK_STREQ(buf, "OK");
	CHECK_EQ(raw_call(fd, XS_GET_PERMS, 0, "/p", 3, buf, &len),
	    XS_GET_PERMS);
	CHECK(len == 6 && memcmp(buf, "w3\0r0\0", 6) == 0);
	raw_expect_error(fd, XS_SET_PERMS, 0, "/p\0z3", 6, "EINVAL");
	raw_expect_error(fd, XS_SET_PERMS, 0, "/p\0r", 5, "EINVAL");
	raw_expect_error(fd, XS_SET_PERMS, 0, "/p\0r1x", 7, "EINVAL");
	raw_expect_error(fd, XS_SET_PERMS, 0, "/p\0r1", 5, "EINVAL");
	raw_expect_error(fd, XS_SET_PERMS, 0, "/p", 3, "EINVAL");
	close(fd);
	xs_close(xs);
	srv_end(&s);
}

TEST(watches_fire_for_sub_paths)
{
	struct srv s;
	struct xs_handle *xs, *other;
	struct xs_permissions p = { .id = 0, .perms = XS_PERM_READ };

	srv_start(&s);
	xs = xs_connect();
	other = xs_connect();
	CHECK(xs_watch(xs, "/w", "tok"));
	expect_event(xs, "tok", "/w");	/* the initial event */
	/* A child written later, by another client, and its own child. */
	CHECK(xs_write(other, XBT_NULL, "/w/x", "1", 1));
	expect_event(xs, "tok", "/w/x");
	CHECK(xs_write(other, XBT_NULL, "/w/x/y/z", "1", 1));
	expect_event(xs, "tok", "/w/x/y/z");
	/* Not a sub-path: "/wx", "/", "/other". */
	CHECK(xs_write(other, XBT_NULL, "/wx", "1", 1));
	CHECK(xs_write(other, XBT_NULL, "/other", "1", 1));
	expect_no_event(xs, "tok");
	/* The node itself, mkdir, permissions. */
	CHECK(xs_write(other, XBT_NULL, "/w", "2", 1));
	expect_event(xs, "tok", "/w");
	CHECK(xs_mkdir(other, XBT_NULL, "/w/m"));
	expect_event(xs, "tok", "/w/m");
	CHECK(xs_mkdir(other, XBT_NULL, "/w/m"));	/* exists: no change */
	CHECK(xs_set_permissions(other, XBT_NULL, "/w/x", &p, 1));
	expect_event(xs, "tok", "/w/x");
	expect_no_event(xs, "tok");
	/* A watch on a node not there yet fires when it comes. */
	CHECK(xs_watch(xs, "/later/node", "later"));
	expect_event(xs, "later", "/later/node");
	CHECK(xs_write(other, XBT_NULL, "/later/node/k", "1", 1));
	expect_event(xs, "later", "/later/node/k");
	/* "/" sees everything. */
	CHECK(xs_watch(xs, "/", "root"));
	expect_event(xs, "root", "/");
	CHECK(xs_write(other, XBT_NULL, "/anything", "1", 1));
	expect_event(xs, "root", "/anything");
	/* Same path, two tokens: two watches; the same pair twice: EEXIST. */
	CHECK(xs_watch(xs, "/w", "tok2"));
	expect_event(xs, "tok2", "/w");
	CHECK(!xs_watch(xs, "/w", "tok2"));
	CHECK_EQ(errno, EEXIST);
	CHECK(xs_write(other, XBT_NULL, "/w/k", "1", 1));
	expect_event(xs, "tok", "/w/k");
	expect_event(xs, "tok2", "/w/k");
	xs_close(other);
	xs_close(xs);
	srv_end(&s);
}

TEST(watch_events_for_rm)
{
	struct srv s;
	struct xs_handle *xs;
	bool above = false, at = false, below = false, deep = false;
	char **v;

	srv_start(&s);
	xs = xs_connect();
	CHECK(xs_write(xs, XBT_NULL, "/r/x/y/z", "1", 1));
	CHECK(xs_watch(xs, "/r", "above"));
	CHECK(xs_watch(xs, "/r/x", "at"));
	CHECK(xs_watch(xs, "/r/x/y", "below"));
	CHECK(xs_watch(xs, "/r/x/y/z/none", "deep"));
	expect_event(xs, "above", "/r");
	expect_event(xs, "at", "/r/x");
	expect_event(xs, "below", "/r/x/y");
	expect_event(xs, "deep", "/r/x/y/z/none");
	CHECK(xs_rm(xs, XBT_NULL, "/r/x"));
	/*
	 * As xenstored: a watch on the removed node or above sees its
	 * path; a watch on a node below sees that node's own path.
	 */
	for (int i = 0; i < 300 && !(above && at && below); i++) {
		if ((v = xs_check_watch(xs)) == NULL) {
			usleep(10000);
			continue;
		}
		if (!strcmp(v[XS_WATCH_TOKEN], "above"))
			above = !strcmp(v[XS_WATCH_PATH], "/r/x");
		else if (!strcmp(v[XS_WATCH_TOKEN], "at"))
			at = !strcmp(v[XS_WATCH_PATH], "/r/x");
		else if (!strcmp(v[XS_WATCH_TOKEN], "below"))
			below = below || !strcmp(v[XS_WATCH_PATH], "/r/x/y");
		else if (!strcmp(v[XS_WATCH_TOKEN], "deep"))
			deep = true;
		free(v);
	}
	CHECK(above && at && below);
	CHECK(!deep);
	expect_no_event(xs, "deep");
	/* A missing node with an existing parent: no change, no event. */
	CHECK(xs_rm(xs, XBT_NULL, "/r/x"));
	expect_no_event(xs, "above");
	xs_close(xs);
	srv_end(&s);
}

TEST(unwatch_and_reset_watches)
{
	struct srv s;
	struct xs_handle *xs;
	char buf[XENSTORE_PAYLOAD_MAX + 1], id[16];
	struct xsd_sockmsg h;
	uint32_t len, tx;
	struct pollfd pfd;
	int fd;

	srv_start(&s);
	xs = xs_connect();
	CHECK(xs_watch(xs, "/u", "a"));
	CHECK(xs_watch(xs, "/u", "b"));
	expect_event(xs, "a", "/u");
	expect_event(xs, "b", "/u");
	CHECK(xs_unwatch(xs, "/u", "a"));
	CHECK(xs_write(xs, XBT_NULL, "/u/1", "1", 1));
	expect_event(xs, "b", "/u/1");
	expect_no_event(xs, "a");
	CHECK(!xs_unwatch(xs, "/u", "a"));
	CHECK_EQ(errno, ENOENT);
	CHECK(!xs_unwatch(xs, "/u", "nope"));
	CHECK_EQ(errno, ENOENT);

	/* RESET_WATCHES drops the watches and transactions of the caller. */
	fd = raw_connect(&s);
	CHECK_EQ(raw_call(fd, XS_WATCH, 0, "/u\0t", 5, buf, NULL), XS_WATCH);
	CHECK_STREQ(buf, "OK");
	CHECK(raw_recv(fd, &h, buf));	/* the initial event */
	CHECK_EQ(h.type, XS_WATCH_EVENT);
	CHECK_EQ(h.req_id, 0);
	CHECK(h.len == 5 && memcmp(buf, "/u\0t\0", 5) == 0);
	CHECK_EQ(raw_call(fd, XS_TRANSACTION_START, 0, "", 1, id, &len),
	    XS_TRANSACTION_START);
	tx = (uint32_t)strtoul(id, NULL, 10);
	CHECK(tx != 0);
	CHECK_EQ(raw_call(fd, XS_RESET_WATCHES, 0, "", 1, buf, NULL),
	    XS_RESET_WATCHES);
	CHECK_STREQ(buf, "OK");
	CHECK(xs_write(xs, XBT_NULL, "/u/2", "1", 1));
	expect_event(xs, "b", "/u/2");	/* the other client's still fires */
	pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
	CHECK_EQ(poll(&pfd, 1, 200), 0);
	raw_expect_error(fd, XS_READ, tx, "/u", 3, "ENOENT");
	close(fd);
	xs_close(xs);
	srv_end(&s);
}

TEST(special_watches_introduce_release)
{
	struct srv s;
	struct xs_handle *xs;
	char *p;

	srv_start(&s);
	xs = xs_connect();
	CHECK(xs_watch(xs, "@introduceDomain", "intro"));
	CHECK(xs_watch(xs, "@releaseDomain", "rel"));
	expect_event(xs, "intro", "@introduceDomain");
	expect_event(xs, "rel", "@releaseDomain");
	/* Ordinary writes do not fire them, nor does "/". */
	CHECK(xs_write(xs, XBT_NULL, "/local/domain/3/x", "1", 1));
	expect_no_event(xs, "intro");
	CHECK(xs_is_domain_introduced(xs, 0));
	CHECK(!xs_is_domain_introduced(xs, 3));
	CHECK(xs_introduce_domain(xs, 3, 1234, 5));
	expect_event(xs, "intro", "@introduceDomain");
	expect_no_event(xs, "rel");
	CHECK(xs_is_domain_introduced(xs, 3));
	CHECK(xs_release_domain(xs, 3));
	expect_event(xs, "rel", "@releaseDomain");
	expect_no_event(xs, "intro");
	CHECK(!xs_is_domain_introduced(xs, 3));
	CHECK(!xs_release_domain(xs, 3));	/* not introduced */
	CHECK_EQ(errno, ENOENT);
	CHECK(!xs_introduce_domain(xs, 0, 1, 1));
	CHECK_EQ(errno, EINVAL);
	p = xs_get_domain_path(xs, 3);
	CHECK_STREQ(p, "/local/domain/3");
	free(p);
	p = xs_get_domain_path(xs, 0);
	CHECK_STREQ(p, "/local/domain/0");
	free(p);
	xs_close(xs);
	srv_end(&s);
}

TEST(transaction_commit_and_abort)
{
	struct srv s;
	struct xs_handle *xs, *other;
	xs_transaction_t t;
	unsigned n;
	char *v, **d;

	srv_start(&s);
	xs = xs_connect();
	other = xs_connect();
	CHECK(xs_write(xs, XBT_NULL, "/t/a", "0", 1));
	CHECK(xs_watch(other, "/t", "tw"));
	expect_event(other, "tw", "/t");

	/* Commit: visible and firing only at the end. */
	t = xs_transaction_start(xs);
	CHECK(t != XBT_NULL);
	CHECK(xs_write(xs, t, "/t/b", "1", 1));
	CHECK(xs_mkdir(xs, t, "/t/c"));
	CHECK(xs_rm(xs, t, "/t/a"));
	check_value(other, "/t/b", NULL);
	check_value(other, "/t/a", "0");
	v = rd(xs, t, "/t/b");
	CHECK_STREQ(v, "1");
	free(v);
	CHECK(rd(xs, t, "/t/a") == NULL);
	d = xs_directory(xs, t, "/t", &n);
	CHECK(d != NULL && n == 2);
	free(d);
	expect_no_event(other, "tw");
	CHECK(xs_transaction_end(xs, t, false));
	expect_event(other, "tw", "/t/b");
	expect_event(other, "tw", "/t/c");
	expect_event(other, "tw", "/t/a");
	check_value(other, "/t/b", "1");
	check_value(other, "/t/a", NULL);

	/* Abort: nothing happens. */
	t = xs_transaction_start(xs);
	CHECK(xs_write(xs, t, "/t/d", "x", 1));
	CHECK(xs_transaction_end(xs, t, true));
	check_value(other, "/t/d", NULL);
	expect_no_event(other, "tw");

	/* A transaction that only reads commits too. */
	t = xs_transaction_start(xs);
	free(rd(xs, t, "/t/b"));
	CHECK(xs_transaction_end(xs, t, false));
	/* Two transactions of one client at once. */
	t = xs_transaction_start(xs);
	xs_transaction_t u = xs_transaction_start(xs);
	CHECK(t != XBT_NULL && u != XBT_NULL && t != u);
	CHECK(xs_write(xs, t, "/t/e", "t", 1));
	CHECK(xs_write(xs, u, "/t/f", "u", 1));
	CHECK(rd(xs, u, "/t/e") == NULL);
	CHECK(xs_transaction_end(xs, t, false));
	/* u read nothing t wrote, but wrote into /t whose list changed. */
	CHECK(!xs_transaction_end(xs, u, false));
	CHECK_EQ(errno, EAGAIN);
	check_value(other, "/t/e", "t");
	check_value(other, "/t/f", NULL);
	xs_close(other);
	xs_close(xs);
	srv_end(&s);
}

TEST(transaction_conflicts_eagain)
{
	struct srv s;
	struct xs_handle *xs, *other;
	xs_transaction_t t;
	int tries;

	srv_start(&s);
	xs = xs_connect();
	other = xs_connect();
	CHECK(xs_write(xs, XBT_NULL, "/c/a", "0", 1));
	CHECK(xs_write(xs, XBT_NULL, "/c/b", "0", 1));

	/* Another writer changes a node the transaction read. */
	t = xs_transaction_start(xs);
	free(rd(xs, t, "/c/a"));
	CHECK(xs_write(xs, t, "/c/b", "t", 1));
	CHECK(xs_write(other, XBT_NULL, "/c/a", "other", 5));
	CHECK(!xs_transaction_end(xs, t, false));
	CHECK_EQ(errno, EAGAIN);
	check_value(other, "/c/b", "0");	/* nothing applied */

	/* ... a node it wrote. */
	t = xs_transaction_start(xs);
	CHECK(xs_write(xs, t, "/c/b", "t", 1));
	CHECK(xs_write(other, XBT_NULL, "/c/b", "other", 5));
	CHECK(!xs_transaction_end(xs, t, false));
	CHECK_EQ(errno, EAGAIN);
	check_value(other, "/c/b", "other");

	/* ... creates a node it found missing. */
	t = xs_transaction_start(xs);
	CHECK(rd(xs, t, "/c/new") == NULL);
	CHECK(xs_write(other, XBT_NULL, "/c/new", "1", 1));
	CHECK(!xs_transaction_end(xs, t, false));
	CHECK_EQ(errno, EAGAIN);

	/* ... removes one it read. */
	t = xs_transaction_start(xs);
	free(rd(xs, t, "/c/new"));
	CHECK(xs_rm(other, XBT_NULL, "/c/new"));
	CHECK(!xs_transaction_end(xs, t, false));
	CHECK_EQ(errno, EAGAIN);

	/* A write elsewhere is no conflict. */
	t = xs_transaction_start(xs);
	free(rd(xs, t, "/c/a"));
	CHECK(xs_write(xs, t, "/c/b", "t", 1));
	CHECK(xs_write(other, XBT_NULL, "/elsewhere", "1", 1));
	CHECK(xs_write(other, XBT_NULL, "/c", "parent", 6));
	CHECK(xs_transaction_end(xs, t, false));
	check_value(other, "/c/b", "t");

	/* The usual loop: retry on EAGAIN until it commits. */
	tries = 0;
	do {
		t = xs_transaction_start(xs);
		char *v = rd(xs, t, "/c/a");
		CHECK(xs_write(xs, t, "/c/copy", v, (unsigned)strlen(v)));
		free(v);
		if (tries++ == 0)
			CHECK(xs_write(other, XBT_NULL, "/c/a", "late", 4));
	} while (!xs_transaction_end(xs, t, false) && errno == EAGAIN &&
	    tries < 5);
	CHECK_EQ(tries, 2);
	check_value(other, "/c/copy", "late");
	xs_close(other);
	xs_close(xs);
	srv_end(&s);
}

TEST(transaction_errors)
{
	struct srv s;
	char buf[XENSTORE_PAYLOAD_MAX + 1], id[16];
	uint32_t tx;
	int fd, n;

	srv_start(&s);
	fd = raw_connect(&s);
	raw_expect_error(fd, XS_READ, 777, "/", 2, "ENOENT");
	raw_expect_error(fd, XS_TRANSACTION_END, 777, "T", 2, "ENOENT");
	raw_expect_error(fd, XS_TRANSACTION_END, 0, "T", 2, "ENOENT");
	CHECK_EQ(raw_call(fd, XS_TRANSACTION_START, 0, "", 1, id, NULL),
	    XS_TRANSACTION_START);
	tx = (uint32_t)strtoul(id, NULL, 10);
	/* No nesting; END takes T or F; the id is echoed. */
	raw_expect_error(fd, XS_TRANSACTION_START, tx, "", 1, "EBUSY");
	raw_expect_error(fd, XS_TRANSACTION_END, tx, "X", 2, "EINVAL");
	CHECK_EQ(raw_call(fd, XS_WRITE, tx, "/tx\0v", 5, buf, NULL), XS_WRITE);
	CHECK_EQ(raw_call(fd, XS_TRANSACTION_END, tx, "T", 2, buf, NULL),
	    XS_TRANSACTION_END);
	CHECK_STREQ(buf, "OK");
	raw_expect_error(fd, XS_TRANSACTION_END, tx, "T", 2, "ENOENT");
	/* Another client cannot use this client's transaction. */
	CHECK_EQ(raw_call(fd, XS_TRANSACTION_START, 0, "", 1, id, NULL),
	    XS_TRANSACTION_START);
	tx = (uint32_t)strtoul(id, NULL, 10);
	int fd2 = raw_connect(&s);
	raw_expect_error(fd2, XS_READ, tx, "/tx", 4, "ENOENT");
	close(fd2);
	/* A bounded number open per client. */
	for (n = 1; n < 1000; n++)
		if (raw_call(fd, XS_TRANSACTION_START, 0, "", 1, buf,
		    NULL) == XS_ERROR)
			break;
	CHECK_STREQ(buf, "ENOSPC");
	CHECK(n > 8 && n < 1000);
	close(fd);
	srv_end(&s);
}

TEST(many_clients_see_the_same_events)
{
	struct srv s;
	struct xs_handle *xs[40], *w;
	char token[16];

	srv_start(&s);
	for (int i = 0; i < 40; i++) {
		xs[i] = xs_connect();
		snprintf(token, sizeof(token), "c%d", i);
		CHECK(xs_watch(xs[i], "/m", token));
		expect_event(xs[i], token, "/m");
	}
	w = xs_connect();
	CHECK(xs_write(w, XBT_NULL, "/m/k", "1", 1));
	for (int i = 0; i < 40; i++) {
		snprintf(token, sizeof(token), "c%d", i);
		expect_event(xs[i], token, "/m/k");
	}
	/* Half go away; the rest still hear. */
	for (int i = 0; i < 40; i += 2)
		xs_close(xs[i]);
	CHECK(xs_write(w, XBT_NULL, "/m/k", "2", 1));
	for (int i = 1; i < 40; i += 2) {
		snprintf(token, sizeof(token), "c%d", i);
		expect_event(xs[i], token, "/m/k");
		xs_close(xs[i]);
	}
	xs_close(w);
	srv_end(&s);
}

TEST(slow_watcher_blocks_nobody_and_is_dropped)
{
	struct srv s;
	struct xs_handle *xs, *good;
	static char req[3100];
	char buf[XENSTORE_PAYLOAD_MAX + 1];
	struct xsd_sockmsg h;
	size_t bytes = 0;
	int fd, i;

	srv_start(&s);
	xs = xs_connect();
	good = xs_connect();
	CHECK(xs_watch(good, "/s", "good"));
	expect_event(good, "good", "/s");
	/* A watcher with a 3000-byte token that never reads. */
	fd = raw_connect(&s);
	memcpy(req, "/s", 3);
	memset(req + 3, 't', 3000);
	req[3003] = '\0';
	raw_send(fd, XS_WATCH, 1, 0, req, 3004);
	/*
	 * 7000 writes are 21 MB of events for it: the writer is never
	 * held up, the slow watcher is dropped at 16 MiB unread.
	 */
	for (i = 0; i < 7000; i++)
		CHECK(xs_write(xs, XBT_NULL, "/s/k", "v", 1));
	expect_event(good, "good", "/s/k");
	CHECK(srv_log_contains(&s, "unread, dropping it"));
	/* It gets what was in its socket already, then EOF. */
	CHECK(raw_recv(fd, &h, buf));
	CHECK_EQ(h.type, XS_WATCH);
	CHECK_STREQ(buf, "OK");
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		CHECK_EQ(poll(&pfd, 1, 3000), 1);
		if ((n = read(fd, buf, sizeof(buf))) <= 0)
			break;
		bytes += (size_t)n;
	}
	CHECK(bytes > 3000);
	close(fd);
	check_value(xs, "/s/k", "v");
	xs_close(good);
	xs_close(xs);
	srv_end(&s);
}

TEST(pipelined_requests_with_backpressure)
{
	struct srv s;
	struct xs_handle *xs;
	static char val[4000], reqs[5000 * 21];
	char buf[XENSTORE_PAYLOAD_MAX + 1];
	struct xsd_sockmsg h;
	int fd;

	srv_start(&s);
	xs = xs_connect();
	memset(val, 'v', sizeof(val));
	CHECK(xs_write(xs, XBT_NULL, "/big", val, sizeof(val)));
	/*
	 * 5000 READs sent in one go (105 KB: the socket takes them), and
	 * no reply read until all are sent: 20 MB of replies, more than
	 * the server would hold for us (OUT_MAX). It stops reading us
	 * while our replies wait, and serves others meanwhile.
	 */
	fd = raw_connect(&s);
	for (uint32_t i = 1; i <= 5000; i++) {
		char *r = reqs + (i - 1) * 21;
		struct xsd_sockmsg rh = { .type = XS_READ, .req_id = i,
		    .len = 5 };

		memcpy(r, &rh, sizeof(rh));
		memcpy(r + sizeof(rh), "/big", 5);
	}
	write_all(fd, reqs, sizeof(reqs));
	check_value(xs, "/local/domain/0/name", "Domain-0");
	for (uint32_t i = 1; i <= 5000; i++) {
		CHECK(raw_recv(fd, &h, buf));
		CHECK_EQ(h.type, XS_READ);
		CHECK_EQ(h.req_id, i);
		CHECK_EQ(h.len, sizeof(val));
		CHECK(memcmp(buf, val, sizeof(val)) == 0);
	}
	close(fd);
	xs_close(xs);
	srv_end(&s);
}

TEST(oversize_message_drops_only_that_client)
{
	struct srv s;
	struct xs_handle *xs;
	char buf[XENSTORE_PAYLOAD_MAX + 1];
	struct xsd_sockmsg h = { .type = XS_WRITE, .req_id = 42,
	    .len = XENSTORE_PAYLOAD_MAX + 1 };
	int fd;

	srv_start(&s);
	xs = xs_connect();
	/* libxenstore refuses to send one itself. */
	static char big[XENSTORE_PAYLOAD_MAX + 1];
	memset(big, 'x', sizeof(big));
	CHECK(!xs_write(xs, XBT_NULL, "/big", big, sizeof(big)));
	CHECK_EQ(errno, E2BIG);

	fd = raw_connect(&s);
	write_all(fd, &h, sizeof(h));
	CHECK(raw_recv(fd, &h, buf));
	CHECK_EQ(h.type, XS_ERROR);
	CHECK_EQ(h.req_id, 42);
	CHECK_STREQ(buf, "E2BIG");
	CHECK(!raw_recv(fd, &h, buf));	/* then EOF */
	close(fd);
	CHECK(srv_log_contains(&s, "bytes, more than 4096"));
	/* A client gone mid-message harms nobody either. */
	fd = raw_connect(&s);
	h = (struct xsd_sockmsg){ .type = XS_WRITE, .len = 100 };
	write_all(fd, &h, sizeof(h));
	write_all(fd, "/half", 5);
	close(fd);
	CHECK(xs_write(xs, XBT_NULL, "/still", "ok", 2));
	check_value(xs, "/still", "ok");
	xs_close(xs);
	srv_end(&s);
}

TEST(malformed_requests_get_errors)
{
	struct srv s;
	char buf[XENSTORE_PAYLOAD_MAX + 1];
	int fd;

	srv_start(&s);
	fd = raw_connect(&s);
	raw_expect_error(fd, XS_READ, 0, "/local", 6, "EINVAL"); /* no NUL */
	raw_expect_error(fd, XS_READ, 0, "", 0, "EINVAL");
	raw_expect_error(fd, XS_READ, 0, "/a\0/b", 6, "EINVAL");
	raw_expect_error(fd, XS_WRITE, 0, "/nonul", 6, "EINVAL");
	raw_expect_error(fd, XS_WATCH, 0, "/w", 3, "EINVAL");
	raw_expect_error(fd, XS_WATCH, 0, "/w\0tok", 6, "EINVAL");
	raw_expect_error(fd, XS_INTRODUCE, 0, "x\0" "1\0" "1", 6, "EINVAL");
	raw_expect_error(fd, XS_INTRODUCE, 0, "3", 2, "EINVAL");
	raw_expect_error(fd, XS_GET_DOMAIN_PATH, 0, "99999999", 9, "EINVAL");
	raw_expect_error(fd, XS_WATCH_EVENT, 0, "", 0, "ENOSYS");
	raw_expect_error(fd, XS_CONTROL, 0, "check", 6, "ENOSYS");
	raw_expect_error(fd, 9999, 0, "", 0, "ENOSYS");
	/* The connection still works. */
	CHECK_EQ(raw_call(fd, XS_READ, 0, "/local/domain/0/name", 21, buf,
	    NULL), XS_READ);
	CHECK_STREQ(buf, "Domain-0");
	close(fd);
	srv_end(&s);
}

/* ---- Debian's tools ---- */

static char *
run(const char *cmd)
{
	static char out[8192];
	FILE *p = popen(cmd, "r");
	size_t n;

	CHECK(p != NULL);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	if (pclose(p) != 0)
		FAIL("'%s' failed: %s", cmd, out);
	return out;
}

TEST(debian_xenstore_tools)
{
	struct srv s;
	char *ls;

	srv_start(&s);
	/* XENSTORED_PATH is in the environment of the tools. */
	run("xenstore-write /tools/x hello /tools/y world");
	CHECK_STREQ(run("xenstore-read /tools/x"), "hello\n");
	CHECK_STREQ(run("xenstore-read /tools/x /tools/y"), "hello\nworld\n");
	ls = run("xenstore-ls /tools");
	CHECK_STREQ(ls, "x = \"hello\"\ny = \"world\"\n");
	ls = run("xenstore-ls");
	CHECK(strstr(ls, "local = \"\"\n domain = \"\"\n  0 = \"\"\n"
	    "   name = \"Domain-0\"\n") != NULL);
	CHECK(strstr(ls, "tools = \"\"\n x = \"hello\"\n") != NULL);
	CHECK_STREQ(run("xenstore-list /tools"), "x\ny\n");
	run("xenstore-exists /tools/x");
	run("xenstore-rm /tools/x");
	CHECK_STREQ(run("xenstore-list /tools"), "y\n");
	CHECK_EQ(system("xenstore-exists /tools/x 2>/dev/null"), 256);
	CHECK(system("xenstore-read /tools/x 2>/dev/null") != 0);
	run("xenstore-chmod /tools/y n0 r7");
	CHECK(strstr(run("xenstore-ls -p /tools"), "(n0,r7)") != NULL);
	run("xenstore-rm /tools");
	CHECK(system("xenstore-exists /tools 2>/dev/null") != 0);
	srv_end(&s);
}

TEST(debian_xenstore_watch)
{
	struct srv s;
	struct xs_handle *xs;
	char path[128], out[256] = "";
	FILE *f;
	size_t n;

	srv_start(&s);
	xs = xs_connect();
	snprintf(path, sizeof(path), "xenstore-watch -n 3 /tw > %s/watch 2>&1"
	    " &", s.dir);
	CHECK_EQ(system(path), 0);
	/* The initial event shows the watch is set. */
	snprintf(path, sizeof(path), "%s/watch", s.dir);
	for (int i = 0; i < 300; i++) {
		if ((f = fopen(path, "r")) != NULL) {
			n = fread(out, 1, sizeof(out) - 1, f);
			out[n] = '\0';
			fclose(f);
			if (n > 0)
				break;
		}
		usleep(10000);
	}
	CHECK_STREQ(out, "/tw\n");
	CHECK(xs_write(xs, XBT_NULL, "/tw/a", "1", 1));
	CHECK(xs_rm(xs, XBT_NULL, "/tw"));
	for (int i = 0; i < 300 && strlen(out) < 14; i++) {
		usleep(10000);
		if ((f = fopen(path, "r")) != NULL) {
			n = fread(out, 1, sizeof(out) - 1, f);
			out[n] = '\0';
			fclose(f);
		}
	}
	CHECK_STREQ(out, "/tw\n/tw/a\n/tw\n");
	unlink(path);
	xs_close(xs);
	srv_end(&s);
}

/* ---- the daemon's life ---- */

TEST(sigterm_stops_cleanly_and_stale_socket_is_replaced)
{
	struct srv s, s2;
	struct stat st;
	char pid[32] = "";
	FILE *f;
	int fd;

	srv_start(&s);
	CHECK(srv_log_contains(&s, "xenstored-sim: listening on "));
	CHECK((f = fopen(s.pidfile, "r")) != NULL);
	CHECK(fgets(pid, sizeof(pid), f) != NULL);
	fclose(f);
	CHECK_EQ(atoi(pid), s.pid);
	/* A second server on a live socket refuses and leaves it alone. */
	s2 = s;
	snprintf(s2.pidfile, sizeof(s2.pidfile), "%s/pid2", s.dir);
	pid_t p2 = srv_spawn(&s2);
	int st2;
	CHECK_EQ(waitpid(p2, &st2, 0), p2);
	CHECK(WIFEXITED(st2) && WEXITSTATUS(st2) == 1);
	CHECK(srv_log_contains(&s, "another server is listening there"));
	CHECK(can_connect(s.sock));
	/* SIGTERM with a client connected: exit 0, socket and pid gone. */
	fd = raw_connect(&s);
	CHECK_EQ(srv_stop(&s), 0);
	close(fd);
	CHECK(stat(s.sock, &st) < 0 && errno == ENOENT);
	CHECK(stat(s.pidfile, &st) < 0 && errno == ENOENT);

	/* A stale socket (nobody listening) is taken over. */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", s.sock);
	CHECK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	close(fd);
	CHECK(stat(s.sock, &st) == 0 && S_ISSOCK(st.st_mode));
	s.pid = srv_spawn(&s);
	for (int i = 0; i < 500 && !can_connect(s.sock); i++)
		usleep(10000);
	struct xs_handle *xs = xs_connect();
	check_value(xs, "/local/domain/0/name", "Domain-0");
	xs_close(xs);
	/* SIGINT too. */
	kill(s.pid, SIGINT);
	CHECK_EQ(waitpid(s.pid, &st2, 0), s.pid);
	s.pid = 0;
	CHECK(WIFEXITED(st2) && WEXITSTATUS(st2) == 0);
	CHECK(stat(s.sock, &st) < 0);
	/* Not a socket: refused, not removed. */
	CHECK((f = fopen(s.sock, "w")) != NULL);
	fclose(f);
	p2 = srv_spawn(&s);
	CHECK_EQ(waitpid(p2, &st2, 0), p2);
	CHECK(WIFEXITED(st2) && WEXITSTATUS(st2) == 1);
	CHECK(stat(s.sock, &st) == 0 && S_ISREG(st.st_mode));
	srv_cleanup();
	cleanup_srv = NULL;
}

TEST(bad_command_lines)
{
	const char *exe = getenv("XENSTORED_SIM");
	char cmd[512];

	CHECK(exe != NULL);
	snprintf(cmd, sizeof(cmd), "%s 2>/dev/null", exe);
	CHECK_EQ(system(cmd), 2 << 8);
	snprintf(cmd, sizeof(cmd), "%s --socket /tmp/x --bogus 2>/dev/null",
	    exe);
	CHECK_EQ(system(cmd), 2 << 8);
	snprintf(cmd, sizeof(cmd), "%s --help", exe);
	CHECK(strstr(run(cmd), "usage: xenstored-sim --socket PATH") != NULL);
}

TESTS_MAIN()
