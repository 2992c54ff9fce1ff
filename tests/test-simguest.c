/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The simguest program against a real netbackd: traffic modes, the
 * verification of every frame, and its exit codes.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xenstore.h>

#include "simenv.h"
#include "simfront.h"
#include "simhv.h"
#include "tests.h"

/* Start simguest with its stdout and stderr in <dir>/<name>. */
static pid_t
guest(struct simenv *e, const char *name, const char *const *args)
{
	const char *prog = getenv("SIMGUEST");
	const char *argv[48];
	int n = 0;
	pid_t pid;

	if (!prog)
		FAIL("SIMGUEST is not set (run through meson)");
	argv[n++] = prog;
	argv[n++] = "--hv";
	argv[n++] = e->dir;
	for (int i = 0; args[i] && n < 46; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	pid = fork();
	if (pid == 0) {
		char out[256];
		int fd;

		snprintf(out, sizeof(out), "%s/%s", e->dir, name);
		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(prog, (char *const *)argv);
		_exit(127);
	}
	CHECK(pid > 0);
	return pid;
}

/* Its exit code, waiting up to ms (killed and -1 after that). */
static int
reap(pid_t pid, int ms)
{
	int st;

	for (int t = 0; t < ms; t += 10) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

/* The guest's output, malloc'd. */
static char *
output(struct simenv *e, const char *name)
{
	char path[256], *buf = calloc(1, 65536);
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", e->dir, name);
	f = fopen(path, "r");
	if (f) {
		size_t n = fread(buf, 1, 65535, f);

		buf[n] = '\0';
		fclose(f);
	}
	return buf;
}

/* The number after "key": in the JSON line, or -1. */
static long
field(const char *out, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\": ", key);
	p = strstr(out, pat);
	return p ? strtol(p + strlen(pat), NULL, 10) : -1;
}

static void
expect(struct simenv *e, const char *name, int rc, int want)
{
	if (rc != want) {
		char *o = output(e, name);

		simenv_dump_log(e);
		FAIL("%s exited %d, want %d:\n%s", name, rc, want, o);
	}
}

TEST(echo_and_verified_send)
{
	struct simenv e;
	static const char *const echo[] = {
		"--domid", "1", "--mac", "00:16:3e:00:00:01", "--echo",
		"--timeout", "60", NULL,
	};
	static const char *const send[] = {
		"--domid", "2", "--mac", "00:16:3e:00:00:02", "--dst",
		"00:16:3e:00:00:01", "--send", "3000", "--recv", "3000",
		"--window", "128", "--size", "5000", "--timeout", "30", NULL,
	};
	pid_t pe, ps;
	char *o;

	simenv_init(&e);
	simenv_start_netbackd(&e, NULL);
	pe = guest(&e, "echo", echo);
	CHECK(simenv_wait_value(&e, "/local/domain/1/device/vif/0/state", "4",
				10000));
	ps = guest(&e, "send", send);
	expect(&e, "send", reap(ps, 60000), 0);
	o = output(&e, "send");
	CHECK_EQ(field(o, "sent"), 3000);
	CHECK_EQ(field(o, "received"), 3000);
	CHECK_EQ(field(o, "bad"), 0);
	CHECK_EQ(field(o, "tx_ok"), 6000); /* responses: two slots each */
	CHECK_EQ(field(o, "leaked_grants"), 0);
	CHECK(strstr(o, "\"broken\": null") != NULL);
	free(o);
	kill(pe, SIGTERM);
	expect(&e, "echo", reap(pe, 20000), 0);
	o = output(&e, "echo");
	CHECK(field(o, "echoed") >= 3000);
	CHECK_EQ(field(o, "bad"), 0);
	free(o);
	/* Both vifs went away cleanly. */
	CHECK_EQ(simhv_domain_mapped(e.hv, 1), 0);
	CHECK(!simhv_domain_exists(e.hv, 2));
	CHECK_EQ(simenv_stop_netbackd(&e), 0);
	simenv_fini(&e);
}

/*
 * The demo's traffic (netbackd-demo): two echo guests, two senders each
 * to one of them. Until the switch learns the echo guests' MACs, a
 * sender's frames are flooded to both; an echo guest that sent back a
 * frame meant for the other would send it from the other's MAC, which
 * anti-spoofing refuses, and the demo showed those refusals as
 * "drops/errors 256" on healthy vifs. Echo guests answer only what is
 * addressed to them: no refusal, no drop, on either side.
 */
TEST(demo_traffic_leaves_no_drops)
{
	struct simenv e;
	static const char *const echo1[] = {
		"--domid", "1", "--mac", "00:16:3e:00:00:01", "--echo",
		"--timeout", "60", NULL,
	};
	static const char *const echo2[] = {
		"--domid", "2", "--mac", "00:16:3e:00:00:02", "--echo",
		"--timeout", "60", NULL,
	};
	static const char *const send3[] = {
		"--domid", "3", "--mac", "00:16:3e:00:00:03", "--dst",
		"00:16:3e:00:00:01", "--send", "5000", "--recv", "5000",
		"--window", "256", "--size", "512", "--timeout", "30", NULL,
	};
	static const char *const send4[] = {
		"--domid", "4", "--mac", "00:16:3e:00:00:04", "--dst",
		"00:16:3e:00:00:02", "--send", "5000", "--recv", "5000",
		"--window", "256", "--size", "512", "--timeout", "30", NULL,
	};
	pid_t p1, p2, p3, p4;
	char *o;

	simenv_init(&e);
	simenv_start_netbackd(&e, NULL);
	p1 = guest(&e, "echo1", echo1);
	p2 = guest(&e, "echo2", echo2);
	CHECK(simenv_wait_value(&e, "/local/domain/1/device/vif/0/state", "4",
				10000));
	CHECK(simenv_wait_value(&e, "/local/domain/2/device/vif/0/state", "4",
				10000));
	p3 = guest(&e, "send3", send3);
	p4 = guest(&e, "send4", send4);
	expect(&e, "send3", reap(p3, 60000), 0);
	expect(&e, "send4", reap(p4, 60000), 0);
	/* The statistics of the echo guests' vifs, still up. */
	kill(e.netbackd, SIGHUP);
	for (int t = 0; t < 300 && !simenv_log_contains(&e, "vif2.0: up"); t++)
		usleep(10000);
	CHECK(simenv_log_contains(&e, "vif1.0: up tx 5000 pkts"));
	CHECK(simenv_log_contains(&e, "vif2.0: up tx 5000 pkts"));
	for (int v = 1; v <= 2; v++) {
		char want[32], line[1024];
		FILE *lf = fopen(e.log, "r");
		unsigned seen = 0;

		CHECK(lf != NULL);
		snprintf(want, sizeof(want), "vif%d.0: up tx", v);
		while (fgets(line, sizeof(line), lf))
			if (strstr(line, want)) {
				seen++;
				if (!strstr(line, "drops/errors 0\n"))
					FAIL("vif%d.0: %s", v, line);
			}
		fclose(lf);
		CHECK(seen > 0);
	}
	kill(p1, SIGTERM);
	kill(p2, SIGTERM);
	expect(&e, "echo1", reap(p1, 20000), 0);
	expect(&e, "echo2", reap(p2, 20000), 0);
	/* The case was there: flooding brought each echo guest frames
	 * for the other. */
	o = output(&e, "echo1");
	long n1 = field(o, "not_for_us");
	CHECK_EQ(field(o, "echoed"), 5000);
	free(o);
	o = output(&e, "echo2");
	long n2 = field(o, "not_for_us");
	CHECK_EQ(field(o, "echoed"), 5000);
	free(o);
	CHECK(n1 + n2 > 0);
	CHECK_EQ(simenv_stop_netbackd(&e), 0);
	simenv_fini(&e);
}

TEST(multi_queue_and_feature_toggles)
{
	struct simenv e;
	static const char *const echo[] = {
		"--domid", "1", "--mac", "00:16:3e:00:00:01", "--echo",
		"--queues", "2", "--no-gso", "--csum-offload-off",
		"--timeout", "60", NULL,
	};
	static const char *const send[] = {
		"--domid", "2", "--mac", "00:16:3e:00:00:02", "--dst",
		"00:16:3e:00:00:01", "--send", "2000", "--recv", "2000",
		"--window", "64", "--size", "1514", "--queues", "2",
		"--no-split", "--no-sg", "--timeout", "30", NULL,
	};
	const char *const args[] = { "--workers", "2", NULL };
	pid_t pe, ps;
	char *o, *s;

	simenv_init(&e);
	simenv_start_netbackd(&e, args);
	pe = guest(&e, "echo", echo);
	CHECK(simenv_wait_value(&e, "/local/domain/1/device/vif/0/state", "4",
				10000));
	s = simenv_read(&e, "/local/domain/1/device/vif/0/feature-gso-tcpv4");
	CHECK(s == NULL);
	free(s);
	s = simenv_read(&e,
			"/local/domain/1/device/vif/0/feature-no-csum-offload");
	CHECK_STREQ(s, "1");
	free(s);
	s = simenv_read(&e,
			"/local/domain/1/device/vif/0/multi-queue-num-queues");
	CHECK_STREQ(s, "2");
	free(s);
	ps = guest(&e, "send", send);
	expect(&e, "send", reap(ps, 40000), 0);
	o = output(&e, "send");
	CHECK_EQ(field(o, "queues"), 2);
	CHECK_EQ(field(o, "received"), 2000);
	CHECK_EQ(field(o, "bad"), 0);
	CHECK(strstr(o, "split event channels") == NULL);
	free(o);
	kill(pe, SIGTERM);
	expect(&e, "echo", reap(pe, 20000), 0);
	o = output(&e, "echo");
	CHECK_EQ(field(o, "queues"), 2);
	CHECK(field(o, "echoed") >= 2000);
	CHECK_EQ(field(o, "bad"), 0);
	CHECK_EQ(field(o, "rx_unasked"), 0);
	free(o);
	simenv_fini(&e);
}

TEST(corrupted_frame_fails_the_receiver)
{
	struct simenv e;
	static const char *const recv[] = {
		"--domid", "1", "--mac", "00:16:3e:00:00:01", "--recv", "1",
		"--timeout", "3", NULL,
	};
	struct simtool_vif tv = { .domid = 2,
				  .mac = { 0x00, 0x16, 0x3e, 0, 0, 2 } };
	struct simfront_conf c;
	struct simfront *f;
	uint8_t fr[100] = { 0x00, 0x16, 0x3e, 0, 0, 1, 0x00, 0x16, 0x3e, 0,
			    0, 2, 0x88, 0xb5 };
	pid_t pr;
	char *o;

	simenv_init(&e);
	simenv_start_netbackd(&e, NULL);
	pr = guest(&e, "recv", recv);
	CHECK(simenv_wait_value(&e, "/local/domain/1/device/vif/0/state", "4",
				10000));
	/* A test frame (right length field) with a wrong checksum. */
	CHECK_EQ(simtool_domain_create(e.xs, e.hv, 2, simfront_pages(1)), 0);
	CHECK_EQ(simtool_vif_add(e.xs, &tv), 0);
	simfront_conf_default(&c, e.hv, 2, 0);
	f = simfront_new(&c, e.xs);
	CHECK(f != NULL);
	CHECK_EQ(simfront_connect(f, 10000), 0);
	fr[18] = sizeof(fr);
	CHECK_EQ(simfront_send(f, 0, fr, sizeof(fr), NULL), 0);
	simfront_flush(f, 0);
	expect(&e, "recv", reap(pr, 20000), 1);
	o = output(&e, "recv");
	CHECK_EQ(field(o, "bad"), 1);
	CHECK_EQ(field(o, "received"), 0);
	free(o);
	simfront_free(f);
	simenv_fini(&e);
}

TEST(no_backend_and_bad_arguments)
{
	struct simenv e;
	static const char *const lonely[] = {
		"--domid", "1", "--mac", "00:16:3e:00:00:01", "--idle",
		"--timeout", "1", NULL,
	};
	static const char *const bad[][10] = {
		{ "--domid", "1", "--idle", NULL }, /* no MAC */
		{ "--domid", "0", "--mac", "00:16:3e:00:00:01", "--idle",
		  NULL },
		{ "--domid", "1", "--mac", "00:16:3e:00:00:01", NULL },
		{ "--domid", "1", "--mac", "00:16:3e:00:00:01", "--send",
		  "5", NULL }, /* no --dst */
		{ "--domid", "1", "--mac", "00:16:3e:00:00:01", "--recv",
		  "1", "--size", "10" },
	};
	char *o;

	simenv_init(&e);
	/* No netbackd: a clear error once InitWait does not come. */
	expect(&e, "lonely", reap(guest(&e, "lonely", lonely), 20000), 1);
	o = output(&e, "lonely");
	CHECK(strstr(o, "the backend did not reach InitWait") != NULL);
	free(o);
	/* It cleaned up after itself. */
	CHECK(!simhv_domain_exists(e.hv, 1));
	CHECK(simenv_read(&e, "/local/domain/1") == NULL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect(&e, "bad", reap(guest(&e, "bad", bad[i]), 5000), 2);
	simenv_fini(&e);
}

TESTS_MAIN()
