/* SPDX-License-Identifier: GPL-2.0-only */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests.h"

static struct test *tests_head;
static struct test **tests_tail = &tests_head;

void
tests_register(struct test *t)
{
	*tests_tail = t;
	tests_tail = &t->next;
}

static int
selected(const char *name, int argc, char **argv)
{
	if (argc <= 1)
		return 1;
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return 1;
	return 0;
}

int
tests_main(int argc, char **argv)
{
	int passed = 0, failed = 0;

	for (struct test *t = tests_head; t; t = t->next) {
		if (!selected(t->name, argc, argv))
			continue;
		fflush(stdout);
		fflush(stderr);
		pid_t pid = fork();
		if (pid < 0) {
			perror("fork");
			return 2;
		}
		if (pid == 0) {
			t->fn();
			fflush(NULL);
			_exit(0);
		}
		int st;
		while (waitpid(pid, &st, 0) < 0)
			;
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
			printf("ok   %s\n", t->name);
			passed++;
		} else {
			if (WIFSIGNALED(st))
				printf("FAIL %s (signal %d)\n", t->name,
				       WTERMSIG(st));
			else
				printf("FAIL %s (exit %d)\n", t->name,
				       WEXITSTATUS(st));
			failed++;
		}
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
