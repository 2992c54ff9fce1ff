/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xenstore.h>

#include "simenv.h"
#include "simhv.h"
#include "tests.h"

static void
msleep(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static const char *
need_env(const char *name)
{
	const char *v = getenv(name);

	if (!v || !*v)
		FAIL("environment variable %s is not set (run through meson)",
		     name);
	return v;
}

static bool
socket_ready(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	bool ok;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

static struct simenv *current;

/* A failing test (FAIL exits) takes its processes with it. */
static void
kill_children(void)
{
	struct simenv *e = current;

	if (!e)
		return;
	if (e->netbackd > 0) {
		simenv_dump_log(e);
		kill(e->netbackd, SIGKILL);
		waitpid(e->netbackd, NULL, 0);
	}
	if (e->xenstored > 0) {
		kill(e->xenstored, SIGKILL);
		waitpid(e->xenstored, NULL, 0);
	}
	if (!getenv("NB_KEEP_TEST_DIR")) {
		char cmd[256];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", e->dir);
	}
}

void
simenv_init(struct simenv *e)
{
	const char *xsd = need_env("XENSTORED_SIM");

	memset(e, 0, sizeof(*e));
	snprintf(e->dir, sizeof(e->dir), "/dev/shm/nbtest-XXXXXX");
	if (!mkdtemp(e->dir))
		FAIL("mkdtemp: %s", strerror(errno));
	snprintf(e->sock, sizeof(e->sock), "%s/xenstored.sock", e->dir);
	snprintf(e->log, sizeof(e->log), "%s/netbackd.log", e->dir);

	e->xenstored = fork();
	if (e->xenstored == 0) {
		char log[200];

		snprintf(log, sizeof(log), "%s/xenstored.log", e->dir);
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(xsd, xsd, "--socket", e->sock, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 500 && !socket_ready(e->sock); i++)
		msleep(10);
	if (!socket_ready(e->sock))
		FAIL("xenstored-sim did not come up on %s", e->sock);
	setenv("XENSTORED_PATH", e->sock, 1);
	e->xs = xs_open(0);
	if (!e->xs)
		FAIL("xs_open: %s", strerror(errno));
	e->hv = simhv_open(e->dir, true);
	if (!e->hv)
		FAIL("simhv_open(%s): %s", e->dir, strerror(errno));
	current = e;
	atexit(kill_children);
}

void
simenv_start_netbackd(struct simenv *e, const char *const *args)
{
	const char *nbd = need_env("NETBACKD");
	const char *argv[64];
	int n = 0;

	argv[n++] = nbd;
	argv[n++] = "--sim";
	argv[n++] = e->dir;
	argv[n++] = "--domid";
	argv[n++] = "0";
	argv[n++] = "--log-file";
	argv[n++] = e->log;
	argv[n++] = "--log-level";
	argv[n++] = "debug";
	for (int i = 0; args && args[i] && n < 62; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	unlink(e->log); /* a fresh log: we wait for its "serving" line */

	e->netbackd = fork();
	if (e->netbackd == 0) {
		char out[200];

		snprintf(out, sizeof(out), "%s/netbackd.out", e->dir);
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(nbd, (char *const *)argv);
		_exit(127);
	}
	for (int i = 0; i < 1000; i++) {
		int st;

		if (simenv_log_contains(e, "serving /local/domain/0/backend/vif"))
			return;
		if (waitpid(e->netbackd, &st, WNOHANG) == e->netbackd) {
			e->netbackd = 0;
			simenv_dump_log(e);
			FAIL("netbackd exited early (status %d)", st);
		}
		msleep(10);
	}
	simenv_dump_log(e);
	FAIL("netbackd did not start serving within 10 s");
}

int
simenv_stop_netbackd(struct simenv *e)
{
	int st = 0;

	if (e->netbackd <= 0)
		return 0;
	kill(e->netbackd, SIGTERM);
	for (int i = 0; i < 1000; i++) {
		if (waitpid(e->netbackd, &st, WNOHANG) == e->netbackd) {
			e->netbackd = 0;
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		}
		msleep(10);
	}
	kill(e->netbackd, SIGKILL);
	waitpid(e->netbackd, &st, 0);
	e->netbackd = 0;
	return -1;
}

static void
rm_rf(const char *dir)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

void
simenv_fini(struct simenv *e)
{
	simenv_stop_netbackd(e);
	if (e->xs)
		xs_close(e->xs);
	if (e->hv)
		simhv_close(e->hv);
	if (e->xenstored > 0) {
		kill(e->xenstored, SIGTERM);
		waitpid(e->xenstored, NULL, 0);
	}
	if (!getenv("NB_KEEP_TEST_DIR"))
		rm_rf(e->dir);
	memset(e, 0, sizeof(*e));
	current = NULL;
}

char *
simenv_read(struct simenv *e, const char *path)
{
	unsigned len;

	return xs_read(e->xs, XBT_NULL, path, &len);
}

bool
simenv_wait_value(struct simenv *e, const char *path, const char *value,
		  int ms)
{
	for (int t = 0; t <= ms; t += 10) {
		char *v = simenv_read(e, path);
		bool ok = v && strcmp(v, value) == 0;

		free(v);
		if (ok)
			return true;
		msleep(10);
	}
	return false;
}

bool
simenv_log_contains(struct simenv *e, const char *text)
{
	FILE *f = fopen(e->log, "r");
	char line[2048];
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, text) != NULL;
	fclose(f);
	return found;
}

void
simenv_dump_log(struct simenv *e)
{
	char path[200], line[2048];

	for (int k = 0; k < 2; k++) {
		snprintf(path, sizeof(path), "%s/%s", e->dir,
			 k ? "netbackd.out" : "netbackd.log");
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		fprintf(stderr, "---- %s\n", path);
		while (fgets(line, sizeof(line), f))
			fputs(line, stderr);
		fclose(f);
	}
}
