/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * backend/base/log.c: the rate limiter guest-triggered messages go through,
 * journald's level prefixes and systemd's readiness notification.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "tests.h"

TEST(ratelimit_burst_then_refill)
{
	struct nb_ratelimit rl = NB_RATELIMIT_INIT; /* 10 per 5000 ms */
	unsigned sup = 99, ok = 0;
	uint64_t t = 1000000;

	for (int i = 0; i < 25; i++)
		ok += nb_ratelimit_take(&rl, t, &sup);
	CHECK_EQ(ok, 10);
	/* one token per 500 ms comes back: not before */
	CHECK(!nb_ratelimit_take(&rl, t + 499, &sup));
	CHECK(nb_ratelimit_take(&rl, t + 500, &sup));
	CHECK_EQ(sup, 16); /* 15 refused in the burst, 1 at +499 */
	CHECK(!nb_ratelimit_take(&rl, t + 500, &sup));
	/* a long silence gives the whole burst back, not more */
	ok = 0;
	for (int i = 0; i < 25; i++)
		ok += nb_ratelimit_take(&rl, t + 3600000, &sup);
	CHECK_EQ(ok, 10);
}

TEST(ratelimit_keeps_partial_tokens)
{
	struct nb_ratelimit rl = NB_RATELIMIT_INIT;
	uint64_t t = 5000;
	unsigned ok = 0;

	while (nb_ratelimit_take(&rl, t, NULL))
		;
	/* 14 polls 300 ms apart: 4200 ms earn 8 tokens (one per 500 ms);
	 * a bucket that forgot the 100 ms left over at each refill would
	 * give 7. */
	for (int i = 1; i <= 14; i++)
		ok += nb_ratelimit_take(&rl, t + 300u * (unsigned)i, NULL);
	CHECK_EQ(ok, 8);
}

TEST(ratelimit_steady_rate)
{
	struct nb_ratelimit rl = NB_RATELIMIT_INIT;
	unsigned ok = 0;

	/* a guest triggering a message every millisecond for 60 s */
	for (uint64_t t = 1; t <= 60000; t++)
		ok += nb_ratelimit_take(&rl, t, NULL);
	CHECK_EQ(ok, 10 + 60000 / 500 - 1);
}

struct hammer {
	struct nb_ratelimit *rl;
	pthread_barrier_t *go;
	unsigned ok;
};

static void *
hammer(void *arg)
{
	struct hammer *h = arg;

	pthread_barrier_wait(h->go); /* all at once */
	for (int i = 0; i < 200000; i++)
		h->ok += nb_ratelimit_take(h->rl, 777, NULL);
	return NULL;
}

TEST(ratelimit_shared_by_threads)
{
	struct nb_ratelimit rl = NB_RATELIMIT_INIT;
	struct hammer h[4];
	pthread_t th[4];
	unsigned ok = 0, sup = 0;
	pthread_barrier_t go;

	pthread_barrier_init(&go, NULL, 4);
	for (int i = 0; i < 4; i++) {
		h[i] = (struct hammer){ &rl, &go, 0 };
		CHECK_EQ(pthread_create(&th[i], NULL, hammer, &h[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		ok += h[i].ok;
	}
	CHECK_EQ(ok, 10);
	CHECK(nb_ratelimit_take(&rl, 777 + 500, &sup));
	CHECK_EQ(sup, 4 * 200000 - 10);
}

/* stderr into a file; JOURNAL_STREAM naming it (or not). */
static FILE *
capture_stderr(bool journal)
{
	char path[] = "/tmp/nb-test-log-XXXXXX", env[64];
	int fd = mkstemp(path);
	struct stat st;

	CHECK(fd >= 0);
	unlink(path);
	CHECK(dup2(fd, STDERR_FILENO) == STDERR_FILENO);
	CHECK(fstat(fd, &st) == 0);
	snprintf(env, sizeof(env), "%llu:%llu",
		 (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino + (journal ? 0 : 1));
	setenv("JOURNAL_STREAM", env, 1);
	return fdopen(fd, "r");
}

static char *
captured(FILE *f)
{
	static char buf[8192];
	size_t n;

	rewind(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	return buf;
}

struct fake_vif {
	char name[16];
	struct nb_ratelimit rl;
};

TEST(journald_gets_level_prefixes)
{
	FILE *f = capture_stderr(true);
	struct fake_vif v = { "vif7.1", NB_RATELIMIT_INIT };

	nb_log_init(LOG_INFO, NULL, false);
	nb_err("e %d", 1);
	nb_warn("w");
	nb_info("i");
	nb_debug("not shown");
	nb_vif_warn(&v, "bad key '%s'", "x");
	CHECK_STREQ(captured(f), "<3>e 1\n<4>w\n<6>i\n<4>vif7.1: bad key 'x'\n");
}

TEST(not_journald_gets_timestamps)
{
	FILE *f = capture_stderr(false); /* JOURNAL_STREAM of another file */
	const char *s;

	nb_log_init(LOG_INFO, NULL, false);
	nb_warn("w");
	s = captured(f);
	/* "HH:MM:SS.mmm netbackd warn: w\n" */
	CHECK_EQ(strlen(s), 30);
	CHECK(s[2] == ':' && s[5] == ':' && s[8] == '.');
	CHECK_STREQ(s + 12, " netbackd warn: w\n");
}

TEST(vif_messages_are_rate_limited)
{
	FILE *f = capture_stderr(true);
	struct fake_vif v = { "vif3.0", { 0, 3, 0, 3, 1000000000, 0 } };
	unsigned lines = 0;
	const char *s;

	nb_log_init(LOG_INFO, NULL, false);
	for (int i = 0; i < 100; i++)
		nb_vif_err(&v, "hostile %d", i);
	/* Below the log level: neither printed nor charged. */
	for (int i = 0; i < 100; i++)
		nb_vif_debug(&v, "debug %d", i);
	s = captured(f);
	for (const char *p = s; *p; p++)
		lines += *p == '\n';
	CHECK_EQ(lines, 3);
	CHECK(strstr(s, "<3>vif3.0: hostile 2\n"));
	CHECK(!strstr(s, "hostile 3"));
	/* Time passes (here: the bucket is found full again): the next
	 * message says how many went unprinted. */
	v.rl.tokens = v.rl.burst;
	nb_vif_err(&v, "later");
	s = captured(f);
	CHECK(strstr(s, "<4>vif3.0: 97 messages suppressed\n<3>vif3.0: later\n"));
}

static int stream_level = LOG_ERR;

static int
level_now(const char *line)
{
	(void)line;
	return stream_level;
}

TEST(stream_lines_keep_their_levels)
{
	FILE *f = capture_stderr(true);
	FILE *s;
	char big[3000];

	nb_log_init(LOG_INFO, NULL, false);
	s = nb_log_stream("dpdk", level_now);
	CHECK(s);
	fprintf(s, "EAL: one");
	fprintf(s, " line\n"); /* a line comes out whole, at its level */
	stream_level = LOG_DEBUG;
	fprintf(s, "below the log level\n");
	stream_level = LOG_WARNING;
	fprintf(s, "a\nb\n");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	fprintf(s, "%s\nafter\n", big); /* cut, not split into lines */
	stream_level = 42;                /* not a level: info */
	fprintf(s, "unterminated");
	fclose(s);
	const char *out = captured(f), *head =
		"<3>dpdk: EAL: one line\n<4>dpdk: a\n<4>dpdk: b\n<4>dpdk: xxx";
	CHECK(strncmp(out, head, strlen(head)) == 0);
	CHECK(strstr(out, "x\n<4>dpdk: after\n<6>dpdk: unterminated\n"));
	CHECK(!strstr(out, "below"));
}

TEST(notify_ready)
{
	char dir[] = "/tmp/nb-test-notify-XXXXXX", path[108], buf[64];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	ssize_t n;

	unsetenv("NOTIFY_SOCKET");
	CHECK_EQ(nb_notify_ready(), 0); /* not Type=notify: nothing */
	CHECK(fd >= 0 && mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/notify", dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	CHECK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	setenv("NOTIFY_SOCKET", path, 1);
	CHECK_EQ(nb_notify_ready(), 0);
	n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	CHECK_EQ(n, 7);
	buf[n] = '\0';
	CHECK_STREQ(buf, "READY=1");
	unlink(path);
	rmdir(dir);
	CHECK_EQ(nb_notify_ready(), -ENOENT); /* the socket is gone */
	setenv("NOTIFY_SOCKET", "relative", 1);
	CHECK_EQ(nb_notify_ready(), -EINVAL);
	close(fd);
}

TESTS_MAIN()
