/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * backend/scripts/vif-netbackd, the hotplug script libxl runs for vifs
 * served by netbackd, against xenstored-sim: the xenstore-* tools it
 * calls reach the simulated store through XENSTORED_PATH, which
 * simenv_init() sets for this process and its children. The real-Xen
 * lab runs the same script under libxl; this covers its edge cases in a
 * second. Also backend/scripts/netbackd-host-vif's refusals: what it
 * does once it has written the vif needs xen-netfront, which only the
 * lab has (scenario netbackd-host-vif).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xenstore.h>

#include "simenv.h"
#include "tests.h"

#define BE	"/local/domain/0/backend/vif/7/0"
#define STATUS	BE "/hotplug-status"

/*
 * Run the script with action (may be NULL: no argument) and XENBUS_PATH
 * set to path (NULL: unset). Returns its exit status, -1 if it did not
 * exit normally.
 */
static int
run_script(const char *action, const char *path)
{
	const char *script = getenv("VIF_NETBACKD");
	pid_t pid;
	int st;

	if (!script || !*script)
		FAIL("VIF_NETBACKD is not set (run through meson)");
	pid = fork();
	if (pid < 0)
		FAIL("fork: %s", strerror(errno));
	if (pid == 0) {
		if (path)
			setenv("XENBUS_PATH", path, 1);
		else
			unsetenv("XENBUS_PATH");
		execl("/bin/sh", "sh", script, action, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) != pid)
		FAIL("waitpid: %s", strerror(errno));
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The backend directory as libxl leaves it before running the script. */
static void
make_backend(struct simenv *e)
{
	CHECK(xs_write(e->xs, XBT_NULL, BE "/state", "2", 1));
	CHECK(xs_write(e->xs, XBT_NULL, BE "/bridge", "xenbr0", 6));
	CHECK(xs_write(e->xs, XBT_NULL, STATUS, "", 0));
}

static bool
exists(struct simenv *e, const char *path)
{
	unsigned int len;
	char *v = xs_read(e->xs, XBT_NULL, path, &len);

	free(v);
	return v != NULL;
}

TEST(online_writes_connected)
{
	struct simenv e;

	simenv_init(&e);
	make_backend(&e);
	CHECK_EQ(run_script("online", BE), 0);
	CHECK_STREQ(simenv_read(&e, STATUS), "connected");
	/* The script touches nothing else. */
	CHECK_STREQ(simenv_read(&e, BE "/state"), "2");
	CHECK_STREQ(simenv_read(&e, BE "/bridge"), "xenbr0");
	simenv_fini(&e);
}

TEST(add_writes_connected)
{
	struct simenv e;

	simenv_init(&e);
	make_backend(&e);
	CHECK_EQ(run_script("add", BE), 0);
	CHECK_STREQ(simenv_read(&e, STATUS), "connected");
	simenv_fini(&e);
}

TEST(offline_and_remove_clear_it)
{
	struct simenv e;

	simenv_init(&e);
	make_backend(&e);
	CHECK_EQ(run_script("online", BE), 0);
	CHECK_EQ(run_script("offline", BE), 0);
	CHECK(!exists(&e, STATUS));
	CHECK(exists(&e, BE "/state"));
	CHECK_EQ(run_script("add", BE), 0);
	CHECK_STREQ(simenv_read(&e, STATUS), "connected");
	CHECK_EQ(run_script("remove", BE), 0);
	CHECK(!exists(&e, STATUS));
	/* Again, with nothing left to clear: still a success. */
	CHECK_EQ(run_script("remove", BE), 0);
	CHECK(xs_rm(e.xs, XBT_NULL, BE));
	CHECK_EQ(run_script("offline", BE), 0);
	CHECK(!exists(&e, BE));
	simenv_fini(&e);
}

TEST(online_of_a_removed_device_fails_and_writes_nothing)
{
	struct simenv e;

	simenv_init(&e);
	CHECK_EQ(run_script("online", BE), 1);
	CHECK(!exists(&e, BE));
	simenv_fini(&e);
}

TEST(bad_calls_fail)
{
	struct simenv e;

	simenv_init(&e);
	make_backend(&e);
	CHECK_EQ(run_script("online", NULL), 1);
	CHECK_EQ(run_script("online", ""), 1);
	CHECK_EQ(run_script("migrate", BE), 1);
	CHECK_EQ(run_script(NULL, BE), 1);
	CHECK_STREQ(simenv_read(&e, STATUS), "");
	simenv_fini(&e);
}

TEST(unreachable_xenstore_fails)
{
	struct simenv e;

	simenv_init(&e);
	make_backend(&e);
	/* Neither this socket nor /dev/xen/xenbus exists on a test host. */
	setenv("XENSTORED_PATH", "/nonexistent/xenstored.sock", 1);
	if (access("/dev/xen/xenbus", F_OK) == 0)
		return; /* a real dom0: the fallback device would answer */
	CHECK_EQ(run_script("online", BE), 1);
	setenv("XENSTORED_PATH", e.sock, 1);
	CHECK_STREQ(simenv_read(&e, STATUS), "");
	simenv_fini(&e);
}

/* ---- netbackd-host-vif ---- */

#define HBE	"/local/domain/0/backend/vif/0/0"
#define HFE	"/local/domain/0/device/vif/0"

/* Run netbackd-host-vif with up to 4 arguments (NULL ends them early);
 * its exit status, -1 if it did not exit normally. What it wrote on
 * standard error goes into err (NUL-terminated). */
static int
run_host_vif(char *err, size_t errlen, const char *a0, const char *a1,
	     const char *a2, const char *a3)
{
	const char *script = getenv("NETBACKD_HOST_VIF");
	int fd[2], st;
	size_t n = 0;
	ssize_t k;
	pid_t pid;

	if (!script || !*script)
		FAIL("NETBACKD_HOST_VIF is not set (run through meson)");
	if (pipe(fd) < 0)
		FAIL("pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		FAIL("fork: %s", strerror(errno));
	if (pid == 0) {
		close(fd[0]);
		dup2(fd[1], 2);
		execl("/bin/sh", "sh", script, a0, a1, a2, a3, (char *)NULL);
		_exit(127);
	}
	close(fd[1]);
	while (n + 1 < errlen && (k = read(fd[0], err + n, errlen - n - 1)) > 0)
		n += (size_t)k;
	err[n] = '\0';
	close(fd[0]);
	if (waitpid(pid, &st, 0) != pid)
		FAIL("waitpid: %s", strerror(errno));
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

TEST(host_vif_refuses_bad_calls_and_writes_nothing)
{
	struct simenv e;
	char err[1024];
	/* Arguments, and what the refusal must say: each is refused for
	 * its own reason, not for one they all share. */
	static const char *const bad[][5] = {
		{ "add", "xenbr0", "mac=zz:00:00:00:00:01", NULL, "must be a MAC" },
		{ "add", "xenbr0", "mac=02:00:00:00:01", NULL, "must be a MAC" },
		{ "add", "xenbr0", "mac=03:00:00:00:00:01", NULL, "multicast" },
		{ "add", "xenbr0", NULL, NULL, "must be a MAC" },
		{ "add", "bad/net", "mac=02:00:00:00:00:01", NULL,
		  "bad network name" },
		{ "add", "xenbr0", "mac=02:00:00:00:00:01", "devid=70000",
		  "over 65535" },
		{ "add", "xenbr0", "mac=02:00:00:00:00:01", "devid=-1",
		  "not a number" },
		{ "add", "xenbr0", "mac=02:00:00:00:00:01",
		  "name=a-name-over-15-chars", "over 15 characters" },
		{ "add", "xenbr0", "mac=02:00:00:00:00:01", "name=a/b",
		  "bad interface name" },
		{ "del", NULL, NULL, NULL, "no vif0.0" },
		{ "del", "devid=x", NULL, NULL, "not a number" },
	};

	simenv_init(&e);
	CHECK(xs_write(e.xs, XBT_NULL, "/local/domain/0/domid", "0", 1));
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = run_host_vif(err, sizeof(err), bad[i][0], bad[i][1],
				     bad[i][2], bad[i][3]);

		if (r != 1 || !strstr(err, bad[i][4]))
			FAIL("netbackd-host-vif %s %s %s %s: exit %d, "
			     "\"%s\" (wanted 1, \"%s\")", bad[i][0],
			     bad[i][1] ? bad[i][1] : "",
			     bad[i][2] ? bad[i][2] : "",
			     bad[i][3] ? bad[i][3] : "", r, err, bad[i][4]);
		CHECK(!exists(&e, HBE));
		CHECK(!exists(&e, HFE));
	}
	/* Usage errors: status 2. */
	CHECK_EQ(run_host_vif(err, sizeof(err), NULL, NULL, NULL, NULL), 2);
	CHECK_EQ(run_host_vif(err, sizeof(err), "add", NULL, NULL, NULL), 2);
	CHECK_EQ(run_host_vif(err, sizeof(err), "attach", "xenbr0", NULL,
			      NULL), 2);
	CHECK_EQ(run_host_vif(err, sizeof(err), "add", "xenbr0",
			      "mac=02:00:00:00:00:01", "colour=red"), 2);
	CHECK(strstr(err, "unknown argument 'colour=red'") != NULL);
	CHECK(!exists(&e, HBE));
	simenv_fini(&e);
}

TEST(host_vif_leaves_another_vif_alone)
{
	struct simenv e;
	char err[1024];

	simenv_init(&e);
	CHECK(xs_write(e.xs, XBT_NULL, "/local/domain/0/domid", "0", 1));
	CHECK(xs_write(e.xs, XBT_NULL, HBE "/mac", "02:00:00:00:00:07", 17));
	CHECK(xs_write(e.xs, XBT_NULL, HBE "/bridge", "xenbr0", 6));
	CHECK(xs_write(e.xs, XBT_NULL, HBE "/state", "4", 1));
	CHECK(xs_write(e.xs, XBT_NULL, HFE "/mac", "02:00:00:00:00:07", 17));
	/* Another MAC, or another network, on the same devid: refused,
	 * the vif there untouched. */
	CHECK_EQ(run_host_vif(err, sizeof(err), "add", "xenbr0",
			      "mac=02:00:00:00:00:01", NULL), 1);
	CHECK(strstr(err, "exists already") != NULL);
	CHECK_EQ(run_host_vif(err, sizeof(err), "add", "xenbr1",
			      "mac=02:00:00:00:00:07", NULL), 1);
	CHECK(strstr(err, "exists already") != NULL);
	CHECK_STREQ(simenv_read(&e, HBE "/mac"), "02:00:00:00:00:07");
	CHECK_STREQ(simenv_read(&e, HBE "/bridge"), "xenbr0");
	CHECK_STREQ(simenv_read(&e, HBE "/state"), "4");
	CHECK(!exists(&e, HBE "/online"));
	/* A devid with nothing there: del refuses. */
	CHECK_EQ(run_host_vif(err, sizeof(err), "del", "devid=3", NULL, NULL),
		 1);
	CHECK(strstr(err, "no vif0.3") != NULL);
	CHECK(exists(&e, HBE));
	simenv_fini(&e);
}

TEST(host_vif_unreachable_xenstore_fails)
{
	struct simenv e;
	char err[1024];

	simenv_init(&e);
	setenv("XENSTORED_PATH", "/nonexistent/xenstored.sock", 1);
	if (access("/dev/xen/xenbus", F_OK) == 0)
		return; /* a real dom0: the fallback device would answer */
	CHECK_EQ(run_host_vif(err, sizeof(err), "add", "xenbr0",
			      "mac=02:00:00:00:00:01", NULL), 1);
	CHECK(strstr(err, "cannot read this domain's id") != NULL);
	setenv("XENSTORED_PATH", e.sock, 1);
	CHECK(!exists(&e, HBE));
	simenv_fini(&e);
}

TESTS_MAIN()
