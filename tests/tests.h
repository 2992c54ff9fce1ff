/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A small test registry: each TEST() registers itself before main() runs,
 * and tests_main() runs them all (or the ones named on the command line),
 * each in its own child process so a crash fails one test, not the file.
 * The last line printed is "N passed, N failed" as CI expects.
 */
#ifndef NETBACKD_TESTS_H
#define NETBACKD_TESTS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct test {
	const char *name;
	void (*fn)(void);
	struct test *next;
};

void tests_register(struct test *t);
int tests_main(int argc, char **argv);

#define TEST(n)                                                         \
	static void test_##n(void);                                     \
	static struct test test_reg_##n = { #n, test_##n, NULL };       \
	__attribute__((constructor)) static void test_ctor_##n(void)    \
	{                                                               \
		tests_register(&test_reg_##n);                          \
	}                                                               \
	static void test_##n(void)

#define TESTS_MAIN()                                                    \
	int main(int argc, char **argv) { return tests_main(argc, argv); }

#define FAIL(...)                                                       \
	do {                                                            \
		fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);         \
		fprintf(stderr, __VA_ARGS__);                           \
		fputc('\n', stderr);                                    \
		exit(1);                                                \
	} while (0)

#define CHECK(cond)                                                     \
	do {                                                            \
		if (!(cond))                                            \
			FAIL("check failed: %s", #cond);                \
	} while (0)

#define CHECK_EQ(a, b)                                                  \
	do {                                                            \
		long long a_ = (long long)(a), b_ = (long long)(b);     \
		if (a_ != b_)                                           \
			FAIL("%s == %s: %lld != %lld", #a, #b, a_, b_); \
	} while (0)

#define CHECK_STREQ(a, b)                                               \
	do {                                                            \
		const char *a_ = (a), *b_ = (b);                        \
		if (!a_ || !b_ || strcmp(a_, b_) != 0)                  \
			FAIL("%s == %s: \"%s\" != \"%s\"", #a, #b,      \
			     a_ ? a_ : "(null)", b_ ? b_ : "(null)");   \
	} while (0)

#endif
