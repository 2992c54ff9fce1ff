/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xenstored-sim through the real libxenstore, and Debian's xenstore-*
 * tools against it.
 */
#include <errno.h>
#include <stdbool.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xenstore.h>

#include "simenv.h"
#include "tests.h"

static char *
rd(struct xs_handle *xs, const char *path)
{
	unsigned len;

	return xs_read(xs, XBT_NULL, path, &len);
}

/* Next watch event within ms: its path (malloc'd) or NULL. */
static char *
next_event(struct xs_handle *xs, const char *token, int ms)
{
	struct pollfd pfd = { xs_fileno(xs), POLLIN, 0 };

	for (int t = 0; t < ms; t += 10) {
		char **v = xs_check_watch(xs);

		if (v) {
			char *p = NULL;

			if (strcmp(v[XS_WATCH_TOKEN], token) == 0)
				p = strdup(v[XS_WATCH_PATH]);
			free(v);
			if (p)
				return p;
			continue;
		}
		poll(&pfd, 1, 10);
	}
	return NULL;
}

static void
expect_event(struct xs_handle *xs, const char *token, const char *path)
{
	char *p = next_event(xs, token, 2000);

	if (!p || strcmp(p, path) != 0)
		FAIL("watch %s: event '%s', want '%s'", token, p ? p : "(none)",
		     path);
	free(p);
}

TEST(read_write_mkdir_rm_directory)
{
	struct simenv e;
	unsigned n;

	simenv_init(&e);
	CHECK(xs_write(e.xs, XBT_NULL, "/a/b/c", "value", 5));
	char *s = rd(e.xs, "/a/b/c");
	CHECK_STREQ(s, "value");
	free(s);
	CHECK(xs_mkdir(e.xs, XBT_NULL, "/a/d"));
	char **d = xs_directory(e.xs, XBT_NULL, "/a", &n);
	CHECK(d && n == 2);
	CHECK_STREQ(d[0], "b");
	CHECK_STREQ(d[1], "d");
	free(d);
	CHECK(xs_rm(e.xs, XBT_NULL, "/a/b"));
	CHECK(rd(e.xs, "/a/b/c") == NULL);
	CHECK_EQ(errno, ENOENT);
	/* rm of a missing child of an existing node is fine */
	CHECK(xs_rm(e.xs, XBT_NULL, "/a/nothing"));
	CHECK(!xs_rm(e.xs, XBT_NULL, "/nope/nothing"));
	s = rd(e.xs, "/local/domain/0/name");
	CHECK_STREQ(s, "Domain-0");
	free(s);
	/* relative paths are dom0's */
	s = rd(e.xs, "domid");
	CHECK_STREQ(s, "0");
	free(s);
	simenv_fini(&e);
}

TEST(permissions)
{
	struct simenv e;
	unsigned n;
	struct xs_permissions set[2] = { { 5, XS_PERM_NONE }, { 0, XS_PERM_READ } };

	simenv_init(&e);
	CHECK(xs_write(e.xs, XBT_NULL, "/p", "", 0));
	CHECK(xs_set_permissions(e.xs, XBT_NULL, "/p", set, 2));
	struct xs_permissions *got = xs_get_permissions(e.xs, XBT_NULL, "/p", &n);
	CHECK(got && n == 2);
	CHECK_EQ(got[0].id, 5);
	CHECK_EQ(got[0].perms, XS_PERM_NONE);
	CHECK_EQ(got[1].perms, XS_PERM_READ);
	free(got);
	/* children inherit */
	CHECK(xs_write(e.xs, XBT_NULL, "/p/child", "x", 1));
	got = xs_get_permissions(e.xs, XBT_NULL, "/p/child", &n);
	CHECK(got && n == 2 && got[0].id == 5);
	free(got);
	simenv_fini(&e);
}

TEST(watches_on_sub_paths)
{
	struct simenv e;

	simenv_init(&e);
	CHECK(xs_watch(e.xs, "/w", "tok"));
	expect_event(e.xs, "tok", "/w"); /* the initial event */
	CHECK(xs_write(e.xs, XBT_NULL, "/w/x/y", "1", 1));
	expect_event(e.xs, "tok", "/w/x/y");
	CHECK(xs_write(e.xs, XBT_NULL, "/other", "1", 1));
	CHECK(xs_write(e.xs, XBT_NULL, "/w", "2", 1));
	expect_event(e.xs, "tok", "/w"); /* /other fired nothing */
	/* a watch below a removed node fires too */
	CHECK(xs_watch(e.xs, "/w/x/y", "deep"));
	expect_event(e.xs, "deep", "/w/x/y");
	CHECK(xs_rm(e.xs, XBT_NULL, "/w/x"));
	/* Two events, in either order: deep for its own path, tok for the
	 * removed node. */
	bool seen_deep = false, seen_tok = false;
	for (int i = 0; i < 200 && !(seen_deep && seen_tok); i++) {
		char **v = xs_check_watch(e.xs);

		if (!v) {
			usleep(10000);
			continue;
		}
		if (!strcmp(v[XS_WATCH_TOKEN], "deep") &&
		    !strcmp(v[XS_WATCH_PATH], "/w/x/y"))
			seen_deep = true;
		if (!strcmp(v[XS_WATCH_TOKEN], "tok") &&
		    !strcmp(v[XS_WATCH_PATH], "/w/x"))
			seen_tok = true;
		free(v);
	}
	CHECK(seen_deep && seen_tok);
	CHECK(xs_unwatch(e.xs, "/w", "tok"));
	CHECK(xs_write(e.xs, XBT_NULL, "/w/z", "1", 1));
	char *p = next_event(e.xs, "tok", 300);
	if (p)
		FAIL("event %s after unwatch", p);
	/* special watches */
	CHECK(xs_watch(e.xs, "@releaseDomain", "rel"));
	expect_event(e.xs, "rel", "@releaseDomain");
	CHECK(xs_introduce_domain(e.xs, 3, 0, 0));
	CHECK(xs_is_domain_introduced(e.xs, 3));
	xs_release_domain(e.xs, 3);
	expect_event(e.xs, "rel", "@releaseDomain");
	char *dp = xs_get_domain_path(e.xs, 3);
	CHECK_STREQ(dp, "/local/domain/3");
	free(dp);
	simenv_fini(&e);
}

TEST(transactions)
{
	struct simenv e;
	xs_transaction_t t;

	simenv_init(&e);
	CHECK(xs_write(e.xs, XBT_NULL, "/t/a", "0", 1));
	CHECK(xs_watch(e.xs, "/t", "tw"));
	expect_event(e.xs, "tw", "/t");

	/* commit: visible only after the end, events at commit */
	t = xs_transaction_start(e.xs);
	CHECK(t != XBT_NULL);
	CHECK(xs_write(e.xs, t, "/t/b", "1", 1));
	char *s = rd(e.xs, "/t/b");
	CHECK(s == NULL);
	unsigned len;
	s = xs_read(e.xs, t, "/t/b", &len);
	CHECK_STREQ(s, "1");
	free(s);
	CHECK(next_event(e.xs, "tw", 200) == NULL);
	CHECK(xs_transaction_end(e.xs, t, false));
	expect_event(e.xs, "tw", "/t/b");
	s = rd(e.xs, "/t/b");
	CHECK_STREQ(s, "1");
	free(s);

	/* conflict: someone else changes what the transaction read */
	t = xs_transaction_start(e.xs);
	s = xs_read(e.xs, t, "/t/a", &len);
	free(s);
	CHECK(xs_write(e.xs, t, "/t/c", "x", 1));
	CHECK(xs_write(e.xs, XBT_NULL, "/t/a", "changed", 7));
	CHECK(!xs_transaction_end(e.xs, t, false));
	CHECK_EQ(errno, EAGAIN);
	CHECK(rd(e.xs, "/t/c") == NULL);

	/* abort */
	t = xs_transaction_start(e.xs);
	CHECK(xs_write(e.xs, t, "/t/d", "x", 1));
	CHECK(xs_transaction_end(e.xs, t, true));
	CHECK(rd(e.xs, "/t/d") == NULL);
	simenv_fini(&e);
}

static char *
run(const char *cmd)
{
	static char out[4096];
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
	struct simenv e;

	simenv_init(&e);
	/* XENSTORED_PATH is set by simenv_init for children too. */
	run("xenstore-write /tools/x hello /tools/y world");
	CHECK_STREQ(run("xenstore-read /tools/x"), "hello\n");
	char *ls = run("xenstore-ls /tools");
	CHECK(strstr(ls, "x = \"hello\""));
	CHECK(strstr(ls, "y = \"world\""));
	CHECK_STREQ(run("xenstore-list /tools"), "x\ny\n");
	run("xenstore-rm /tools/x");
	CHECK_STREQ(run("xenstore-list /tools"), "y\n");
	run("xenstore-chmod /tools/y n0 r7");
	CHECK(strstr(run("xenstore-ls -p /tools"), "(n0,r7)"));
	simenv_fini(&e);
}

TEST(malformed_message_drops_only_that_client)
{
	struct simenv e;

	simenv_init(&e);
	/* A client announcing an oversized payload. */
	char cmd[512];
	snprintf(cmd, sizeof(cmd),
		 "python3 -c \"import socket,struct;s=socket.socket(socket.AF_UNIX);"
		 "s.connect('%s');s.send(struct.pack('<IIII',2,1,0,999999));"
		 "print(len(s.recv(16)))\"",
		 e.sock);
	CHECK_STREQ(run(cmd), "0\n");
	CHECK(xs_write(e.xs, XBT_NULL, "/still", "ok", 2));
	char *s = rd(e.xs, "/still");
	CHECK_STREQ(s, "ok");
	free(s);
	simenv_fini(&e);
}

TESTS_MAIN()
