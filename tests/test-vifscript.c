/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * backend/scripts/vif-netbackd, the hotplug script libxl runs for vifs
 * served by netbackd, against xenstored-sim: the xenstore-* tools it
 * calls reach the simulated store through XENSTORED_PATH, which
 * simenv_init() sets for this process and its children. The real-Xen
 * lab runs the same script under libxl; this covers its edge cases in a
 * second.
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

TESTS_MAIN()
