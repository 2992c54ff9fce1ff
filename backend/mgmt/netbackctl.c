/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * netbackctl: one request to a running netbackd over its control socket
 * (see mgmt/server.c for the protocol), its answer printed; `capture` writes
 * the pcapng stream netbackd sends to a file.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "pcapng.h"

#define DEFAULT_SOCKET "/run/netbackd/netbackd.sock"

enum { EXIT_REFUSED = 1, EXIT_USAGE = 2, EXIT_UNREACHABLE = 3 };

static void
usage(FILE *f)
{
	fprintf(f,
"usage: netbackctl [-s SOCKET] [--json] COMMAND [ARGUMENT...]\n"
"  -s, --socket SOCKET   netbackd's control socket (default\n"
"                        $NETBACKD_SOCKET or " DEFAULT_SOCKET ")\n"
"      --json            answer as JSON (commands that read)\n"
"  -h, --help\n"
"commands:\n"
"  status                          version, uptime, workers, totals\n"
"  networks                        networks, their ports and vifs\n"
"  ports                           DPDK ports, link, counters\n"
"  vifs                            vifs, state, queues, features\n"
"  fdb NETWORK                     a network's forwarding table\n"
"  fdb-add NETWORK MAC VIF|PORT [vlan=N]   a static entry\n"
"  fdb-del NETWORK MAC [vlan=N]    fdb-flush NETWORK (learnt entries)\n"
"  stats [VIF|PORT]                every counter, queue by queue\n"
"  net-add NAME [pif=DEVARGS] [aging=S] [mtu=N]\n"
"  net-del NAME\n"
"  port-add NETWORK DEVARGS [uplink] [vlan=TAG|.TAG:T1|:T1:T2]\n"
"  port-del PORT\n"
"  vif-set VIF [rate=BYTES,USEC|off] [vlan=TAG|.TAG:T1:T2|none]\n"
"              [bridge=NAME[.TAG][:T1...]] [antispoof=on|off]\n"
"  capture VIF|PORT -w FILE.pcapng [-c COUNT] [-t SECONDS]\n"
"  reload [FILE]                   networks and ports of the configuration\n"
"                                  (default: the file netbackd started with)\n");
}

static int
connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "netbackctl: socket path too long: %s\n", path);
		return -1;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "netbackctl: cannot reach netbackd at %s: %s\n",
			path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int
send_all(int fd, const void *p, size_t n)
{
	const char *b = p;

	while (n) {
		ssize_t w = send(fd, b, n, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The arguments, each ending in NUL, then an empty one. */
static int
send_request(int fd, bool json, int argc, char **argv)
{
	static char buf[1 << 20];
	size_t off = 0;

	off += (size_t)snprintf(buf, sizeof(buf), "%s", json ? "json" : "text") + 1;
	for (int i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]) + 1;

		if (n == 1) {
			fprintf(stderr, "netbackctl: empty argument\n");
			return -2;
		}
		if (off + n + 1 > sizeof(buf)) {
			fprintf(stderr, "netbackctl: request too long\n");
			return -2;
		}
		memcpy(buf + off, argv[i], n);
		off += n;
	}
	buf[off++] = '\0';
	return send_all(fd, buf, off);
}

/* Read the status byte: its exit code, or -1. */
static int
read_status(int fd)
{
	char st;
	ssize_t n;

	do
		n = read(fd, &st, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1) {
		fprintf(stderr, "netbackctl: netbackd closed the connection "
				"without answering\n");
		return -1;
	}
	if (st < '0' || st > '2') {
		fprintf(stderr, "netbackctl: not a netbackd answer\n");
		return -1;
	}
	return st - '0';
}

static int
plain(int fd, bool json, int argc, char **argv)
{
	char buf[65536];
	ssize_t n;
	int st;

	int sr = send_request(fd, json, argc, argv);
	if (sr < 0)
		return sr == -2 ? EXIT_USAGE : EXIT_UNREACHABLE;
	st = read_status(fd);
	if (st < 0)
		return EXIT_UNREACHABLE;
	FILE *out = st ? stderr : stdout;
	if (st)
		fprintf(stderr, "netbackctl: ");
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "netbackctl: %s\n", strerror(errno));
			return EXIT_UNREACHABLE;
		}
		fwrite(buf, 1, (size_t)n, out);
	}
	if (st)
		fprintf(stderr, "\n");
	return st;
}

/* ------------------------------------------------------------- capture */

static volatile sig_atomic_t stop_now;

static void
on_signal(int sig)
{
	(void)sig;
	stop_now = 1;
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* isb_ifrecv / isb_ifdrop of an Interface Statistics Block */
static void
isb_counts(const uint8_t *b, uint32_t len, uint64_t *recv, uint64_t *drop)
{
	uint32_t off = 20; /* type, length, ifid, timestamp */

	while (off + 4 <= len - 4) {
		uint16_t code, olen;

		memcpy(&code, b + off, 2);
		memcpy(&olen, b + off + 2, 2);
		if (code == 0 || off + 4 + olen > len - 4)
			break;
		if (olen == 8 && (code == 4 || code == 5))
			memcpy(code == 4 ? recv : drop, b + off + 4, 8);
		off += 4 + ((olen + 3u) & ~3u);
	}
}

static int
capture(int fd, const char *what, const char *file, unsigned long count,
	unsigned long secs)
{
	static uint8_t buf[1 << 20];
	size_t have = 0;
	unsigned long pkts = 0;
	uint64_t recv = 0, drop = 0, until = secs ? now_ms() + secs * 1000 : 0;
	bool stopped = false, isb = false;
	char *args[] = { "capture", (char *)what };
	FILE *out;
	int st;

	if (send_request(fd, false, 2, args) < 0)
		return EXIT_UNREACHABLE;
	st = read_status(fd);
	if (st < 0)
		return EXIT_UNREACHABLE;
	if (st != 0) {
		char e[1024];
		ssize_t n = read(fd, e, sizeof(e) - 1);

		e[n > 0 ? n : 0] = '\0';
		fprintf(stderr, "netbackctl: %s\n", e);
		return st;
	}
	out = strcmp(file, "-") == 0 ? stdout : fopen(file, "wb");
	if (!out) {
		fprintf(stderr, "netbackctl: %s: %s\n", file, strerror(errno));
		return EXIT_USAGE;
	}
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (out != stdout)
		fprintf(stderr, "netbackctl: capturing %s to %s\n", what, file);
	for (;;) {
		if (!stopped && (stop_now || (count && pkts >= count) ||
				 (until && now_ms() >= until))) {
			/* netbackd ends the stream with its statistics */
			shutdown(fd, SHUT_WR);
			stopped = true;
		}
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 100) == 0)
			continue;
		ssize_t n = read(fd, buf + have, sizeof(buf) - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
		/* whole blocks only */
		size_t off = 0;
		while (have - off >= 12) {
			uint32_t type, len;

			memcpy(&type, buf + off, 4);
			memcpy(&len, buf + off + 4, 4);
			if (len < 12 || len % 4 || len > sizeof(buf)) {
				fprintf(stderr, "netbackctl: bad block in the "
						"stream (length %u)\n", len);
				fclose(out);
				return EXIT_UNREACHABLE;
			}
			if (have - off < len)
				break;
			if (type == NB_PCAPNG_EPB) {
				if (!count || pkts < count) {
					fwrite(buf + off, 1, len, out);
					pkts++;
				}
			} else {
				if (type == NB_PCAPNG_ISB) {
					isb_counts(buf + off, len, &recv, &drop);
					isb = true;
				}
				fwrite(buf + off, 1, len, out);
			}
			off += len;
		}
		memmove(buf, buf + off, have - off);
		have -= off;
		if (out == stdout)
			fflush(out);
	}
	if (fclose(out) != 0 && out != stdout) {
		fprintf(stderr, "netbackctl: %s: %s\n", file, strerror(errno));
		return EXIT_REFUSED;
	}
	if (isb)
		fprintf(stderr, "netbackctl: %lu packets written, %llu seen, "
			"%llu dropped by netbackd\n", pkts,
			(unsigned long long)recv, (unsigned long long)drop);
	else
		fprintf(stderr, "netbackctl: %lu packets written; netbackd "
			"ended the capture (the port went away?)\n", pkts);
	return 0;
}

/* The configuration file netbackd started with (status's config). */
static int
ask_config(const char *path, char *file, size_t len)
{
	char *args[] = { "status" };
	char buf[8192];
	size_t have = 0;
	ssize_t n;
	int fd = connect_to(path), st;

	if (fd < 0)
		return EXIT_UNREACHABLE;
	if (send_request(fd, false, 1, args) < 0 || (st = read_status(fd)) < 0) {
		close(fd);
		return EXIT_UNREACHABLE;
	}
	while (have < sizeof(buf) - 1 &&
	       (n = read(fd, buf + have, sizeof(buf) - 1 - have)) > 0)
		have += (size_t)n;
	close(fd);
	buf[have] = '\0';
	char *c = strstr(buf, "\nconfig: ");
	if (st || !c || c[9] == '\n') {
		fprintf(stderr, "netbackctl: netbackd was started without a "
				"configuration file: name one (reload FILE)\n");
		return EXIT_USAGE;
	}
	c += 9;
	size_t l = strcspn(c, "\n");
	if (l >= len)
		return EXIT_USAGE;
	memcpy(file, c, l);
	file[l] = '\0';
	return 0;
}

static int
parse_count(const char *s, unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(s, &end, 10);
	return s[0] >= '0' && s[0] <= '9' && !*end && !errno && *v ? 0 : -1;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = getenv("NETBACKD_SOCKET");
	bool json = false;
	int opt, fd, r;

	if (!path || !*path)
		path = DEFAULT_SOCKET;
	/* options before the command only: its own may follow */
	while ((opt = getopt_long(argc, argv, "+s:h", lo, NULL)) != -1) {
		switch (opt) {
		case 's':
			path = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	argc -= optind;
	argv += optind;
	if (strcmp(argv[0], "reload") == 0) {
		static char text[1 << 20];
		char file[4096] = "";

		if (argc > 2) {
			fprintf(stderr, "netbackctl: reload [FILE]\n");
			return EXIT_USAGE;
		}
		if (argc == 2) {
			snprintf(file, sizeof(file), "%s", argv[1]);
		} else {
			/* the file netbackd started with */
			r = ask_config(path, file, sizeof(file));
			if (r)
				return r;
		}
		FILE *f = fopen(file, "r");
		size_t n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;

		if (!f || ferror(f) || !feof(f)) {
			fprintf(stderr, "netbackctl: %s: %s\n", file,
				f ? "unreadable or larger than 1 MiB"
				  : strerror(errno));
			if (f)
				fclose(f);
			return EXIT_USAGE;
		}
		fclose(f);
		text[n] = '\0';
		if (n == 0 || strlen(text) != n) {
			fprintf(stderr, "netbackctl: %s: empty, or not text\n",
				file);
			return EXIT_USAGE;
		}
		char *args[] = { "reload", file, text };
		fd = connect_to(path);
		if (fd < 0)
			return EXIT_UNREACHABLE;
		r = plain(fd, json, 3, args);
		close(fd);
		return r;
	}
	if (strcmp(argv[0], "capture") == 0) {
		const char *file = NULL;
		unsigned long count = 0, secs = 0;

		if (argc < 2 || argv[1][0] == '-') {
			fprintf(stderr, "netbackctl: capture VIF|PORT -w FILE "
					"[-c COUNT] [-t SECONDS]\n");
			return EXIT_USAGE;
		}
		optind = 1;
		while ((opt = getopt(argc - 1, argv + 1, "w:c:t:")) != -1) {
			if (opt == 'w')
				file = optarg;
			else if (opt == 'c' && parse_count(optarg, &count) == 0)
				;
			else if (opt == 't' && parse_count(optarg, &secs) == 0)
				;
			else {
				fprintf(stderr, "netbackctl: capture: bad "
						"option (-w FILE, -c COUNT > 0, "
						"-t SECONDS > 0)\n");
				return EXIT_USAGE;
			}
		}
		if (!file || optind != argc - 1) {
			fprintf(stderr, "netbackctl: capture needs -w FILE "
					"(- for stdout), and nothing else\n");
			return EXIT_USAGE;
		}
		fd = connect_to(path);
		if (fd < 0)
			return EXIT_UNREACHABLE;
		r = capture(fd, argv[1], file, count, secs);
	} else {
		fd = connect_to(path);
		if (fd < 0)
			return EXIT_UNREACHABLE;
		r = plain(fd, json, argc, argv);
	}
	close(fd);
	return r;
}
