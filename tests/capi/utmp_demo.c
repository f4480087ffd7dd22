/* Drives libutmpbox through the <utmp.h> names: login, logout, logwtmp,
 * pututline/updwtmp with _PATH_UTMP/_PATH_WTMP, the _r functions and
 * getutmp/getutmpx. Built as utmpx_demo.c is (glibc + LD_PRELOAD, musl
 * static); tests/capi.rs asserts what it prints.
 *
 *   utmp_demo login USER HOST [hold]
 *                                  login(): line from the tty on fd 0/1/2;
 *                                  with hold, then wait to be killed (the
 *                                  session's process must live)
 *   utmp_demo logout LINE          logout(LINE): prints its 1 or 0
 *   utmp_demo logwtmp LINE USER HOST
 *   utmp_demo iterate              getutent_r to the end, then getutid_r
 *                                  and getutline_r on the last user entry
 *   utmp_demo copy                 getutmp/getutmpx round trip
 *
 * UTMP_DEMO_TIME, when set, is login's ut_tv.tv_sec.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <utmp.h>
#include <utmpx.h>

static void show(const char *how, const struct utmp *u)
{
	printf("%s: type=%d line=%.32s id=%.4s user=%.32s host=%.256s\n", how, u->ut_type,
		u->ut_line, u->ut_id, u->ut_user, u->ut_host);
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";
	if (!strcmp(cmd, "login") && (argc == 4 || (argc == 5 && !strcmp(argv[4], "hold")))) {
		struct utmp u;
		memset(&u, 0, sizeof u);
		strncpy(u.ut_user, argv[2], sizeof u.ut_user);
		strncpy(u.ut_host, argv[3], sizeof u.ut_host);
		if (getenv("UTMP_DEMO_TIME"))
			u.ut_tv.tv_sec = atol(getenv("UTMP_DEMO_TIME"));
		errno = 0;
		login(&u);
		printf("login: errno=%d\n", errno);
		fflush(stdout);
		if (argc == 5)
			for (;;)
				pause();
		return errno != 0;
	}
	if (!strcmp(cmd, "logout") && argc == 3) {
		errno = 0;
		int done = logout(argv[2]);
		printf("logout: %d errno=%d\n", done, errno);
		return 0;
	}
	if (!strcmp(cmd, "logwtmp") && argc == 5) {
		errno = 0;
		logwtmp(argv[2], argv[3], argv[4]);
		printf("logwtmp: errno=%d\n", errno);
		return errno != 0;
	}
	if (!strcmp(cmd, "iterate")) {
		struct utmp buf, last, *res;
		int n = 0, have = 0;
		if (utmpname(_PATH_UTMP) != 0)
			return 1;
		setutent();
		while (getutent_r(&buf, &res) == 0) {
			if (res != &buf)
				printf("getutent_r: result is not the buffer\n");
			show("getutent_r", res);
			if (res->ut_type == USER_PROCESS) {
				last = buf;
				have = 1;
			}
			n++;
		}
		printf("entries=%d end: result=%s\n", n, res ? "set" : "NULL");
		if (have) {
			struct utmp tmpl;
			memset(&tmpl, 0, sizeof tmpl);
			tmpl.ut_type = USER_PROCESS;
			memcpy(tmpl.ut_id, last.ut_id, sizeof tmpl.ut_id);
			/* login() leaves ut_id empty: utmpd's rule then matches the line. */
			memcpy(tmpl.ut_line, last.ut_line, sizeof tmpl.ut_line);
			setutent();
			if (getutid_r(&tmpl, &buf, &res) == 0)
				show("getutid_r", res);
			else
				printf("getutid_r: errno=%d\n", errno);
			memset(&tmpl, 0, sizeof tmpl);
			memcpy(tmpl.ut_line, last.ut_line, sizeof tmpl.ut_line);
			setutent();
			if (getutline_r(&tmpl, &buf, &res) == 0)
				show("getutline_r", res);
			else
				printf("getutline_r: errno=%d\n", errno);
			strcpy(tmpl.ut_line, "no/such/line");
			setutent();
			errno = 0;
			int r = getutline_r(&tmpl, &buf, &res);
			printf("getutline_r missing: %d result=%s errno=%s\n", r, res ? "set" : "NULL",
				errno == ESRCH ? "ESRCH" : strerror(errno));
		}
		endutent();
		return 0;
	}
	if (!strcmp(cmd, "copy")) {
		struct utmpx x, back;
		struct utmp u;
		memset(&x, 0, sizeof x);
		memset(&back, 0, sizeof back);
		x.ut_type = USER_PROCESS;
		strcpy(x.ut_user, "copy");
		strcpy(x.ut_line, "pts/42");
		x.ut_tv.tv_sec = 1000000000;
		getutmp(&x, &u);
		getutmpx(&u, &back);
		printf("copy: %s user=%s line=%s\n", memcmp(&x, &back, sizeof x) ? "differs" : "same",
			back.ut_user, back.ut_line);
		return 0;
	}
	fprintf(stderr, "usage: utmp_demo login|logout|logwtmp|iterate|copy ...\n");
	return 100;
}
