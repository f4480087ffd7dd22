/* Drives libutmpbox through <utmpx.h>, one action per run, and prints
 * what the library returned, so tests/capi.rs can assert it. Built twice:
 * gcc against glibc (run under LD_PRELOAD=libutmpbox.so) and musl-gcc
 * -static against dist/include and libutmpbox.a.
 *
 *   utmpx_demo login LINE USER HOST PID   pututxline USER_PROCESS
 *   utmpx_demo logout LINE PID            pututxline DEAD_PROCESS + updwtmpx
 *   utmpx_demo fail LINE USER HOST        updwtmpx("/var/log/btmp", ...)
 *   utmpx_demo wtmp LINE USER             updwtmpx("/var/log/wtmp", ...) only
 *   utmpx_demo append PATH LINE USER      updwtmpx(PATH, ...): a plain file
 *   utmpx_demo list                       setutxent/getutxent to the end
 *   utmpx_demo list-file PATH             utmpxname(PATH), then list
 *   utmpx_demo id ID | line LINE          getutxid / getutxline
 *   utmpx_demo null                       every function with NULL pointers
 *   utmpx_demo garbage                    every function given a struct of 0xff
 *   utmpx_demo far PATH                   updwtmpx(PATH) a record in 2242
 *   utmpx_demo size                       sizeof(struct utmpx)
 *
 * UTMPX_DEMO_TIME, when set, is the records' ut_tv.tv_sec (else now).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <utmp.h>
#include <utmpx.h>

static const char *kind(int t)
{
	static const char *names[] = {"EMPTY", "RUN_LVL", "BOOT_TIME", "NEW_TIME", "OLD_TIME",
		"INIT_PROCESS", "LOGIN_PROCESS", "USER_PROCESS", "DEAD_PROCESS"};
	return t >= 0 && t <= 8 ? names[t] : "?";
}

static void show(const struct utmpx *u)
{
	printf("%s pid=%d line=%.32s id=%.4s user=%.32s host=%.256s tv=%lld\n", kind(u->ut_type),
		(int)u->ut_pid, u->ut_line, u->ut_id, u->ut_user, u->ut_host,
		(long long)u->ut_tv.tv_sec);
}

/* A record with the id taken from the line's last four bytes, as login does. */
static struct utmpx record(int type, const char *line, const char *user, const char *host,
	int pid)
{
	struct utmpx u;
	struct timeval tv;
	size_t n = strlen(line);
	memset(&u, 0, sizeof u);
	u.ut_type = type;
	u.ut_pid = pid;
	strncpy(u.ut_line, line, sizeof u.ut_line);
	strncpy(u.ut_id, n > 4 ? line + n - 4 : line, sizeof u.ut_id);
	strncpy(u.ut_user, user, sizeof u.ut_user);
	strncpy(u.ut_host, host, sizeof u.ut_host);
	gettimeofday(&tv, NULL);
	if (getenv("UTMPX_DEMO_TIME")) {
		tv.tv_sec = atol(getenv("UTMPX_DEMO_TIME"));
		tv.tv_usec = 0;
	}
	u.ut_tv.tv_sec = tv.tv_sec;
	u.ut_tv.tv_usec = tv.tv_usec;
	return u;
}

static int fail(const char *what)
{
	printf("%s: errno=%d %s\n", what, errno, strerror(errno));
	return 1;
}

static int list(void)
{
	struct utmpx *u;
	int n = 0;
	setutxent();
	while ((u = getutxent()) != NULL) {
		show(u);
		n++;
	}
	printf("entries=%d\n", n);
	endutxent();
	return 0;
}

/* Check a NULL-pointer call: its return and errno EINVAL. */
#define EXPECT(call, bad)                                                             \
	do {                                                                          \
		errno = 0;                                                            \
		int ok_ = ((call) bad);                                               \
		printf("%s: %s errno=%s\n", #call, ok_ ? "ok" : "WRONG RETURN",       \
			errno == EINVAL ? "EINVAL" : strerror(errno));                \
	} while (0)
#define EXPECT_VOID(call)                                                             \
	do {                                                                          \
		errno = 0;                                                            \
		call;                                                                 \
		printf("%s: errno=%s\n", #call, errno == EINVAL ? "EINVAL" : strerror(errno)); \
	} while (0)

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";
	if (!strcmp(cmd, "size")) {
		printf("%zu\n", sizeof(struct utmpx));
		return 0;
	}
	if (!strcmp(cmd, "login") && argc == 6) {
		struct utmpx u = record(USER_PROCESS, argv[2], argv[3], argv[4], atoi(argv[5]));
		struct utmpx *put = pututxline(&u);
		if (!put)
			return fail("pututxline");
		show(put);
		updwtmpx("/var/log/wtmp", &u);
		return 0;
	}
	if (!strcmp(cmd, "logout") && argc == 4) {
		struct utmpx u = record(DEAD_PROCESS, argv[2], "", "", atoi(argv[3]));
		struct utmpx *put = pututxline(&u);
		if (!put)
			return fail("pututxline");
		show(put);
		updwtmpx("/var/log/wtmpx", &u);
		return 0;
	}
	if (!strcmp(cmd, "fail") && argc == 5) {
		struct utmpx u = record(LOGIN_PROCESS, argv[2], argv[3], argv[4], 0);
		errno = 0;
		updwtmpx("/var/log/btmp", &u);
		printf("updwtmpx btmp: errno=%d\n", errno);
		return errno != 0;
	}
	if (!strcmp(cmd, "wtmp") && argc == 4) {
		struct utmpx u = record(USER_PROCESS, argv[2], argv[3], "", 4242);
		errno = 0;
		updwtmpx("/var/log/wtmp", &u);
		printf("updwtmpx wtmp: errno=%d\n", errno);
		return errno != 0;
	}
	if (!strcmp(cmd, "append") && argc == 5) {
		struct utmpx u = record(USER_PROCESS, argv[3], argv[4], "", 4243);
		errno = 0;
		updwtmpx(argv[2], &u);
		printf("updwtmpx file: errno=%d\n", errno);
		return errno != 0;
	}
	if (!strcmp(cmd, "list"))
		return list();
	if (!strcmp(cmd, "list-file") && argc == 3) {
		if (utmpxname(argv[2]) != 0)
			return fail("utmpxname");
		return list();
	}
	if (!strcmp(cmd, "id") && argc == 3) {
		struct utmpx t, *u;
		memset(&t, 0, sizeof t);
		t.ut_type = USER_PROCESS;
		strncpy(t.ut_id, argv[2], sizeof t.ut_id);
		setutxent();
		if (!(u = getutxid(&t)))
			return fail("getutxid");
		show(u);
		return 0;
	}
	if (!strcmp(cmd, "line") && argc == 3) {
		struct utmpx t, *u;
		memset(&t, 0, sizeof t);
		strncpy(t.ut_line, argv[2], sizeof t.ut_line);
		setutxent();
		if (!(u = getutxline(&t)))
			return fail("getutxline");
		show(u);
		return 0;
	}
	if (!strcmp(cmd, "garbage")) {
		struct utmpx g;
		struct utmp out;
		memset(&g, 0xff, sizeof g);
		struct utmpx *r;
		errno = 0;
		r = getutxid(&g);
		printf("getutxid: %s errno=%d\n", r ? "found" : "NULL", errno);
		errno = 0;
		r = getutxline(&g);
		printf("getutxline: %s errno=%d\n", r ? "found" : "NULL", errno);
		errno = 0;
		r = pututxline(&g);
		printf("pututxline: %s errno=%d\n", r ? "stored" : "NULL", errno);
		errno = 0;
		updwtmpx("/var/log/wtmp", &g);
		printf("updwtmpx wtmp: errno=%d\n", errno);
		errno = 0;
		updwtmpx("/var/log/btmp", &g);
		printf("updwtmpx btmp: errno=%d\n", errno);
		getutmp(&g, &out);
		printf("getutmp: %s\n", memcmp(&g, &out, sizeof g) ? "differs" : "same");
		return 0;
	}
	if (!strcmp(cmd, "far") && argc == 3) {
		struct utmpx u = record(USER_PROCESS, "pts/5", "far", "", 4244);
		long long far = (long long)1 << 33; /* glibc's 32-bit field takes 0 */
		u.ut_tv.tv_sec = far;
		errno = 0;
		updwtmpx(argv[2], &u);
		printf("updwtmpx far: errno=%d\n", errno);
		return errno != 0;
	}
	if (!strcmp(cmd, "null")) {
		struct utmpx u;
		struct utmp old;
		memset(&u, 0, sizeof u);
		memset(&old, 0, sizeof old);
		EXPECT(getutxid(NULL), == NULL);
		EXPECT(getutxline(NULL), == NULL);
		EXPECT(pututxline(NULL), == NULL);
		EXPECT(utmpxname(NULL), == -1);
		EXPECT_VOID(updwtmpx(NULL, &u));
		EXPECT_VOID(updwtmpx("/var/log/wtmp", NULL));
		EXPECT_VOID(getutmp(NULL, &old));
		EXPECT_VOID(getutmpx(&old, NULL));
		return 0;
	}
	fprintf(stderr, "usage: utmpx_demo login|logout|fail|wtmp|append|list|list-file|id|line|null|size ...\n");
	return 100;
}
