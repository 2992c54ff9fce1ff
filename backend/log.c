/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "log.h"

static int log_level = LOG_INFO;
static FILE *log_file;
static bool log_syslog;
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

void
nb_log_init(int level, const char *file, bool use_syslog)
{
	log_level = level;
	if (file) {
		log_file = fopen(file, "a");
		if (log_file)
			setvbuf(log_file, NULL, _IOLBF, 0);
	}
	log_syslog = use_syslog;
	if (use_syslog)
		openlog("netbackd", LOG_PID, LOG_DAEMON);
}

uint64_t
nb_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void
nb_log(int prio, const char *fmt, ...)
{
	static const char *const tags[] = {
		"emerg", "alert", "crit", "err", "warn", "notice", "info",
		"debug",
	};
	char msg[1024];
	va_list ap;

	if (prio > log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	if (log_syslog)
		syslog(prio, "%s", msg);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	localtime_r(&ts.tv_sec, &tm);
	pthread_mutex_lock(&log_lock);
	fprintf(log_file ? log_file : stderr,
		"%02d:%02d:%02d.%03ld netbackd %s: %s\n", tm.tm_hour, tm.tm_min,
		tm.tm_sec, ts.tv_nsec / 1000000, tags[prio & 7], msg);
	pthread_mutex_unlock(&log_lock);
}

bool
nb_ratelimit_ok(struct nb_ratelimit *rl)
{
	uint64_t now = nb_now_ms();

	if (now - rl->start_ms >= rl->interval_ms) {
		if (rl->suppressed)
			nb_log(LOG_WARNING, "%u messages suppressed",
			       rl->suppressed);
		rl->start_ms = now;
		rl->printed = 0;
		rl->suppressed = 0;
	}
	if (rl->printed < rl->burst) {
		rl->printed++;
		return true;
	}
	rl->suppressed++;
	return false;
}
