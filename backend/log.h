/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Logging for the daemon: to stderr (or a file) and optionally syslog,
 * with levels. Control-plane messages use nb_log(); anything a guest can
 * trigger goes through a struct nb_ratelimit so a hostile guest cannot
 * flood the log. The data path never logs per packet.
 */
#ifndef NETBACKD_LOG_H
#define NETBACKD_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <syslog.h>

void nb_log_init(int level, const char *file, bool use_syslog);
int nb_log_level_parse(const char *s); /* LOG_* or -EINVAL */
void nb_log(int prio, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define nb_err(...) nb_log(LOG_ERR, __VA_ARGS__)
#define nb_warn(...) nb_log(LOG_WARNING, __VA_ARGS__)
#define nb_info(...) nb_log(LOG_INFO, __VA_ARGS__)
#define nb_debug(...) nb_log(LOG_DEBUG, __VA_ARGS__)

/* At most `burst` messages per `interval_ms`; the rest are counted. */
struct nb_ratelimit {
	uint64_t start_ms;
	unsigned burst, interval_ms;
	unsigned printed, suppressed;
};
#define NB_RATELIMIT_INIT { 0, 10, 5000, 0, 0 }

bool nb_ratelimit_ok(struct nb_ratelimit *rl);
uint64_t nb_now_ms(void);

#endif
