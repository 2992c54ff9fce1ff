/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static int log_level = LOG_INFO;
static FILE *log_file;
static bool log_syslog;
static bool log_journal; /* stderr is journald's stream: "<N>" prefixes */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const struct {
	const char *name;
	int prio;
} levels[] = {
	{ "err", LOG_ERR },     { "error", LOG_ERR },  { "warn", LOG_WARNING },
	{ "warning", LOG_WARNING }, { "notice", LOG_NOTICE },
	{ "info", LOG_INFO },   { "debug", LOG_DEBUG },
};

int
nb_log_level_parse(const char *s)
{
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (strcasecmp(s, levels[i].name) == 0)
			return levels[i].prio;
	return -EINVAL;
}

/*
 * systemd sets JOURNAL_STREAM=DEV:INODE when it connects stdout/stderr
 * to journald. It is inherited by children whose stderr may go
 * elsewhere, so it counts only when it names our stderr.
 */
static bool
stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	int n = 0;

	if (!e || sscanf(e, "%llu:%llu%n", &dev, &ino, &n) != 2 || e[n])
		return false;
	if (fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}

void
nb_log_init(int level, const char *file, bool use_syslog)
{
	log_level = level;
	if (file) {
		log_file = fopen(file, "a");
		if (log_file)
			setvbuf(log_file, NULL, _IOLBF, 0);
	}
	log_journal = !log_file && stderr_is_journal();
	log_syslog = use_syslog;
	if (use_syslog)
		openlog("netbackd", LOG_PID, LOG_DAEMON);
}

bool
nb_log_enabled(int prio)
{
	return prio <= log_level;
}

uint64_t
nb_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
log_msg(int prio, const char *msg)
{
	static const char *const tags[] = {
		"emerg", "alert", "crit", "err", "warn", "notice", "info",
		"debug",
	};
	struct timespec ts;
	struct tm tm;

	if (log_syslog)
		syslog(prio, "%s", msg);
	pthread_mutex_lock(&log_lock);
	if (log_journal) {
		fprintf(stderr, "<%d>%s\n", prio & 7, msg);
	} else {
		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		fprintf(log_file ? log_file : stderr,
			"%02d:%02d:%02d.%03ld netbackd %s: %s\n", tm.tm_hour,
			tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
			tags[prio & 7], msg);
	}
	pthread_mutex_unlock(&log_lock);
}

void
nb_log(int prio, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!nb_log_enabled(prio))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_msg(prio, msg);
}

bool
nb_ratelimit_take(struct nb_ratelimit *rl, uint64_t now_ms,
		  unsigned *suppressed)
{
	bool ok;

	while (__atomic_test_and_set(&rl->lock, __ATOMIC_ACQUIRE))
		;
	if (rl->interval_ms == 0) {
		rl->tokens = rl->burst; /* no limit */
	} else if (rl->tokens < rl->burst && now_ms > rl->refill_ms) {
		uint64_t add = (now_ms - rl->refill_ms) * rl->burst /
			       rl->interval_ms;

		if (add >= rl->burst - rl->tokens) {
			rl->tokens = rl->burst;
			rl->refill_ms = now_ms;
		} else if (add) {
			rl->tokens += (unsigned)add;
			/* keep the part of a token already earned */
			rl->refill_ms += add * rl->interval_ms / rl->burst;
		}
	} else if (rl->tokens >= rl->burst) {
		rl->refill_ms = now_ms;
	}
	ok = rl->tokens > 0;
	if (ok) {
		rl->tokens--;
		if (suppressed)
			*suppressed = rl->suppressed;
		rl->suppressed = 0;
	} else {
		rl->suppressed++;
	}
	__atomic_clear(&rl->lock, __ATOMIC_RELEASE);
	return ok;
}

void
nb_log_rl(struct nb_ratelimit *rl, const char *who, int prio,
	  const char *fmt, ...)
{
	char msg[1024];
	unsigned n = 0;
	va_list ap;
	int off;

	if (!nb_log_enabled(prio) || !nb_ratelimit_take(rl, nb_now_ms(), &n))
		return;
	if (n)
		nb_log(LOG_WARNING, "%s: %u messages suppressed", who, n);
	off = snprintf(msg, sizeof(msg), "%s: ", who);
	if (off < 0 || (size_t)off >= sizeof(msg))
		off = 0;
	va_start(ap, fmt);
	vsnprintf(msg + off, sizeof(msg) - (size_t)off, fmt, ap);
	va_end(ap);
	log_msg(prio, msg);
}

/* Lines written to nb_log_stream(): held until their newline. Static:
 * DPDK drops its stream at rte_eal_cleanup() without closing it, and a
 * cookie of ours on the heap would then be reported as leaked. */
struct log_stream {
	const char *prefix;
	int (*level)(const char *line);
	char line[1024];
	size_t len;
};
static struct log_stream log_streams[4];
static unsigned log_nstreams;

static void
stream_line(struct log_stream *ls)
{
	int prio;

	ls->line[ls->len] = '\0';
	prio = ls->level(ls->line);
	ls->len = 0;
	if (prio < 0 || prio > LOG_DEBUG)
		prio = LOG_INFO;
	nb_log(prio, "%s: %s", ls->prefix, ls->line);
}

/* The FILE's lock serialises calls: one writer of ls at a time. */
static ssize_t
stream_write(void *cookie, const char *buf, size_t size)
{
	struct log_stream *ls = cookie;

	for (size_t i = 0; i < size; i++) {
		if (buf[i] == '\n')
			stream_line(ls);
		else if (ls->len < sizeof(ls->line) - 1)
			ls->line[ls->len++] = buf[i];
		/* beyond: cut, the rest of the line is dropped */
	}
	return (ssize_t)size;
}

static int
stream_close(void *cookie)
{
	struct log_stream *ls = cookie;

	if (ls->len)
		stream_line(ls);
	return 0;
}

FILE *
nb_log_stream(const char *prefix, int (*level)(const char *line))
{
	struct log_stream *ls;
	FILE *f;

	if (log_nstreams == sizeof(log_streams) / sizeof(log_streams[0])) {
		errno = ENOSPC;
		return NULL;
	}
	ls = &log_streams[log_nstreams];
	ls->prefix = prefix;
	ls->level = level;
	f = fopencookie(ls, "w", (cookie_io_functions_t){
		.write = stream_write, .close = stream_close });
	if (!f)
		return NULL;
	log_nstreams++;
	setvbuf(f, NULL, _IOLBF, 0);
	return f;
}

int
nb_notify_ready(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	static const char ready[] = "READY=1";
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len;
	int fd, r = 0;

	if (!path || !path[0])
		return 0;
	if ((path[0] != '/' && path[0] != '@') ||
	    strlen(path) >= sizeof(sa.sun_path))
		return -EINVAL;
	memcpy(sa.sun_path, path, strlen(path));
	if (path[0] == '@') /* abstract namespace */
		sa.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
			  strlen(path));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (sendto(fd, ready, sizeof(ready) - 1, MSG_NOSIGNAL,
		   (struct sockaddr *)&sa, len) < 0)
		r = -errno;
	close(fd);
	return r;
}
