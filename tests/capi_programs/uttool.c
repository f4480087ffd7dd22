/* uttool: one utmpx call per run, for the acceptance tests of libutmpbox
 * (tests/capi_programs.rs). Built with gcc against glibc's <utmpx.h> and
 * run with LD_PRELOAD=libutmpbox.so, so every call below is the library's.
 *
 *   uttool login LINE USER HOST PID   pututxline of a USER_PROCESS
 *   uttool logout LINE PID            pututxline of a DEAD_PROCESS
 *   uttool updwtmpx PATH LINE USER HOST
 *                                     updwtmpx of a USER_PROCESS to PATH
 *   uttool list                       every entry getutxent returns,
 *                                     then whether errno says an error
 *
 * Prints "CALL: ok" or "CALL: ERRNONAME" (strerrorname_np) and exits 0
 * when the call succeeded, 1 when it failed, 100 on a usage error: the
 * tests assert the exact errno a program sees. updwtmpx returns nothing,
 * so its failure is errno set by the call (cleared before it). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>
#include <utmpx.h>

static void fill(struct utmpx *ut, short type, const char *line,
                 const char *user, const char *host, pid_t pid)
{
	size_t len = strlen(line);
	struct timeval now;

	memset(ut, 0, sizeof *ut);
	ut->ut_type = type;
	ut->ut_pid = pid;
	strncpy(ut->ut_line, line, sizeof ut->ut_line);
	/* The id is the line's last four bytes, as login(1) makes it. */
	strncpy(ut->ut_id, line + (len > 4 ? len - 4 : 0), sizeof ut->ut_id);
	strncpy(ut->ut_user, user, sizeof ut->ut_user);
	strncpy(ut->ut_host, host, sizeof ut->ut_host);
	gettimeofday(&now, NULL);
	ut->ut_tv.tv_sec = now.tv_sec;
	ut->ut_tv.tv_usec = now.tv_usec;
}

static const char *errname(int e)
{
	const char *name = strerrorname_np(e);
	return name ? name : "unknown-errno";
}

static int put(struct utmpx *ut)
{
	errno = 0;
	setutxent();
	struct utmpx *done = pututxline(ut);
	int saved = errno;
	endutxent();
	if (done == NULL) {
		printf("pututxline: %s\n", errname(saved));
		return 1;
	}
	printf("pututxline: ok\n");
	return 0;
}

int main(int argc, char **argv)
{
	struct utmpx ut;

	if (argc == 6 && strcmp(argv[1], "login") == 0) {
		fill(&ut, USER_PROCESS, argv[2], argv[3], argv[4], atoi(argv[5]));
		return put(&ut);
	}
	if (argc == 4 && strcmp(argv[1], "logout") == 0) {
		fill(&ut, DEAD_PROCESS, argv[2], "", "", atoi(argv[3]));
		return put(&ut);
	}
	if (argc == 6 && strcmp(argv[1], "updwtmpx") == 0) {
		fill(&ut, USER_PROCESS, argv[3], argv[4], argv[5], getpid());
		errno = 0;
		updwtmpx(argv[2], &ut);
		int saved = errno;
		printf("updwtmpx: %s\n", saved ? errname(saved) : "ok");
		return saved ? 1 : 0;
	}
	if (argc == 2 && strcmp(argv[1], "list") == 0) {
		struct utmpx *u;
		errno = 0;
		setutxent();
		while ((u = getutxent()) != NULL)
			printf("%d %.*s %.*s %.*s\n", u->ut_type,
			       (int)sizeof u->ut_line, u->ut_line,
			       (int)sizeof u->ut_user, u->ut_user,
			       (int)sizeof u->ut_host, u->ut_host);
		/* The end of the table is no error: glibc leaves errno
		 * alone there (or says ESRCH, "no record"). */
		int saved = errno;
		endutxent();
		if (saved != 0 && saved != ESRCH) {
			printf("getutxent: %s\n", errname(saved));
			return 1;
		}
		printf("getutxent: end\n");
		return 0;
	}
	fprintf(stderr, "usage: uttool login|logout|updwtmpx|list ...\n");
	return 100;
}
