/* threads: 8 reader threads and one writer thread on libutmpbox's
 * process-wide utmp state (tests/capi_programs.rs, run under LD_PRELOAD).
 *
 *   threads SECONDS
 *
 * The writer stamps a generation G in ut_host ("gen=G") and walks the
 * lines pts/9900 .. pts/9905 in order, G odd a login (USER_PROCESS, user
 * "thr"), G even a logout (DEAD_PROCESS, user ""), every record with its
 * own pid (alive, so utmpd keeps the sessions). Any state the table goes
 * through is therefore: the first lines at G, the rest at G-1 (none yet
 * when G is 1). A snapshot is "consistent" when it is such a state; a
 * record is "whole" when its type, user and id agree with its line and
 * generation (a torn copy would not).
 *
 * Each reader loops, with no lock around it: setutent; every entry
 * through getutent_r (even rounds) or getutxent (odd rounds); getutid_r
 * and getutline_r for one of the lines; endutent. libutmpbox gives each
 * thread its own snapshot and position (glibc shares one file position
 * between threads, so there this would not hold), so every snapshot
 * must be consistent, every record whole, and every lookup must return
 * the line or id it asked for.
 *
 * getutxent and pututxline return the one static buffer POSIX gives
 * them: those calls and the copy out of it take `buffer_lock`, the lock
 * any threaded caller of the non-_r functions needs.
 *
 * Prints counts and the first failures; exits 0 when all checks held,
 * 1 otherwise, 100 on a usage error. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <utmp.h>
#include <utmpx.h>

#define READERS 8
#define LINES 6

static atomic_int stop;
static atomic_long generations, snapshots, consistent, records, lookups,
	failures, write_errors;
static pthread_mutex_t buffer_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t report_lock = PTHREAD_MUTEX_INITIALIZER;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
	va_list ap;
	if (atomic_fetch_add(&failures, 1) >= 10)
		return;
	pthread_mutex_lock(&report_lock);
	va_start(ap, fmt);
	printf("FAIL: ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	fflush(stdout);
	pthread_mutex_unlock(&report_lock);
}

static void line_name(int i, char *line, char *id)
{
	snprintf(line, 32, "pts/990%d", i);
	memcpy(id, "990", 3);
	id[3] = (char)('0' + i);
	id[4] = '\0';
}

/* The line index of one of our entries, -1 for anything else. */
static int our_line(const char *line)
{
	if (strncmp(line, "pts/990", 7) != 0 || line[7] < '0' ||
	    line[7] >= '0' + LINES || line[8] != '\0')
		return -1;
	return line[7] - '0';
}

/* The generation of a whole record of ours, or -1 (and a failure). */
static long whole(const struct utmp *u, int i)
{
	char line[32], id[5];
	long gen;
	line_name(i, line, id);
	if (strncmp(u->ut_host, "gen=", 4) != 0 ||
	    (gen = strtol(u->ut_host + 4, NULL, 10)) <= 0) {
		fail("%s: host %.40s is no generation", line, u->ut_host);
		return -1;
	}
	int login = gen % 2 == 1;
	if (u->ut_type != (login ? USER_PROCESS : DEAD_PROCESS) ||
	    strncmp(u->ut_user, login ? "thr" : "", sizeof u->ut_user) != 0 ||
	    strncmp(u->ut_id, id, sizeof u->ut_id) != 0 ||
	    strncmp(u->ut_line, line, sizeof u->ut_line) != 0) {
		fail("%s: torn record: type %d user %.8s id %.4s host %.20s",
		     line, u->ut_type, u->ut_user, u->ut_id, u->ut_host);
		return -1;
	}
	return gen;
}

static void fill(struct utmpx *ut, int i, long gen)
{
	char id[5];
	struct timeval now;
	int login = gen % 2 == 1;

	memset(ut, 0, sizeof *ut);
	line_name(i, ut->ut_line, id);
	memcpy(ut->ut_id, id, sizeof ut->ut_id);
	ut->ut_type = login ? USER_PROCESS : DEAD_PROCESS;
	ut->ut_pid = getpid();
	if (login)
		strcpy(ut->ut_user, "thr");
	snprintf(ut->ut_host, sizeof ut->ut_host, "gen=%ld", gen);
	gettimeofday(&now, NULL);
	ut->ut_tv.tv_sec = now.tv_sec;
	ut->ut_tv.tv_usec = now.tv_usec;
}

static void *writer(void *arg)
{
	struct utmpx ut;
	(void)arg;
	for (long gen = 1; !atomic_load(&stop); gen++) {
		for (int i = 0; i < LINES; i++) {
			fill(&ut, i, gen);
			pthread_mutex_lock(&buffer_lock);
			struct utmpx *done = pututxline(&ut);
			pthread_mutex_unlock(&buffer_lock);
			if (done == NULL) {
				atomic_fetch_add(&write_errors, 1);
				fail("pututxline gen %ld line %d: %s", gen, i,
				     strerrorname_np(errno));
				return NULL;
			}
		}
		atomic_store(&generations, gen);
	}
	return NULL;
}

/* A state the writer's order allows: the first lines at G, the rest at
 * G-1 (0: not written yet). */
static int is_state(const long *gen)
{
	int i = 1;
	while (i < LINES && gen[i] == gen[0])
		i++;
	while (i < LINES && gen[i] == gen[0] - 1)
		i++;
	return i == LINES;
}

static void *reader(void *arg)
{
	unsigned seed = (unsigned)(long)arg;
	struct utmp buf, *res;
	for (long round = 0; !atomic_load(&stop); round++) {
		long gen[LINES] = {0};
		int seen[LINES] = {0}, ok = 1;
		setutent();
		for (;;) {
			struct utmp copy;
			if (round % 2 == 0) {
				if (getutent_r(&buf, &res) != 0)
					break;
				copy = *res;
				if (res != &buf)
					fail("getutent_r: result is not the caller's buffer");
			} else {
				pthread_mutex_lock(&buffer_lock);
				struct utmpx *x = getutxent();
				if (x != NULL)
					getutmp(x, &copy);
				pthread_mutex_unlock(&buffer_lock);
				if (x == NULL)
					break;
			}
			atomic_fetch_add(&records, 1);
			int i = our_line(copy.ut_line);
			if (i < 0)
				continue;
			if (seen[i]++) {
				fail("%s twice in one snapshot", copy.ut_line);
				ok = 0;
			}
			long g = whole(&copy, i);
			if (g < 0)
				ok = 0;
			else
				gen[i] = g;
		}
		int i = rand_r(&seed) % LINES;
		struct utmp key;
		char id[5];
		memset(&key, 0, sizeof key);
		line_name(i, key.ut_line, id);
		memcpy(key.ut_id, id, sizeof key.ut_id);
		key.ut_type = USER_PROCESS;
		setutent();
		if (getutline_r(&key, &buf, &res) == 0) {
			if (strncmp(res->ut_line, key.ut_line, sizeof key.ut_line) != 0 ||
			    (res->ut_type != USER_PROCESS && res->ut_type != LOGIN_PROCESS))
				fail("getutline_r %s: found %.32s type %d", key.ut_line,
				     res->ut_line, res->ut_type);
			else if (whole(res, i) >= 0)
				atomic_fetch_add(&lookups, 1);
		}
		setutent();
		if (getutid_r(&key, &buf, &res) == 0) {
			if (strncmp(res->ut_id, key.ut_id, sizeof key.ut_id) != 0)
				fail("getutid_r %.4s: found %.4s", key.ut_id, res->ut_id);
			else if (whole(res, i) >= 0)
				atomic_fetch_add(&lookups, 1);
		}
		endutent();
		atomic_fetch_add(&snapshots, 1);
		if (ok && is_state(gen)) {
			atomic_fetch_add(&consistent, 1);
		} else {
			fail("snapshot is no state the table went through: "
			     "%ld %ld %ld %ld %ld %ld", gen[0], gen[1], gen[2],
			     gen[3], gen[4], gen[5]);
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t readers[READERS], w;
	if (argc != 2) {
		fprintf(stderr, "usage: threads SECONDS\n");
		return 100;
	}
	pthread_create(&w, NULL, writer, NULL);
	for (long i = 0; i < READERS; i++)
		pthread_create(&readers[i], NULL, reader, (void *)(i + 1));
	sleep((unsigned)atoi(argv[1]));
	atomic_store(&stop, 1);
	pthread_join(w, NULL);
	for (int i = 0; i < READERS; i++)
		pthread_join(readers[i], NULL);
	printf("generations %ld snapshots %ld consistent %ld records %ld "
	       "lookups %ld failures %ld write_errors %ld\n",
	       atomic_load(&generations), atomic_load(&snapshots),
	       atomic_load(&consistent), atomic_load(&records),
	       atomic_load(&lookups), atomic_load(&failures),
	       atomic_load(&write_errors));
	return atomic_load(&failures) == 0 ? 0 : 1;
}
