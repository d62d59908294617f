#ifndef FEEDWATCH_TEST_TESTUTIL_H
#define FEEDWATCH_TEST_TESTUTIL_H

#include <sys/types.h>
#include <sys/resource.h>

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <event2/event.h>
#include <event2/http.h>

/*
 * What the cmocka tests share: files in a scratch directory, counts
 * from a SQLite file, a child's environment, an evhttp server on
 * loopback, loopback ports that refuse or hang connections, and a child
 * process run from the test's event loop. Each function fails the
 * running test, with a message, when it cannot do its work, unless it
 * says otherwise.
 */

/* Write "dir/name" to buf, of len bytes; it must fit. */
void testutil_path(char *buf, size_t len, const char *dir, const char *name);
/* Make a fresh directory /tmp/feedwatch-NAME.XXXXXX and write its path
 * to dir, of len bytes. */
void testutil_tmpdir(char *dir, size_t len, const char *name);
/*
 * Remove dir and all that is in it, without following links. Return 0,
 * or -1 when something could not be removed; it does not fail the test.
 */
int testutil_rmtree(const char *dir);
/* Write text to path, created or truncated, and give it mode. */
void testutil_write_file(const char *path, const char *text, mode_t mode);
/* Return the whole file as a string (free it), or NULL when it cannot
 * be opened. */
char *testutil_read_file(const char *path);

/* Return how many lines of text hold both a and b ("" is in each). */
int testutil_count_lines(const char *text, const char *a, const char *b);

/*
 * Return the first column of the first row of sql (a "SELECT count(*)
 * ..."), run on the existing SQLite file at path.
 */
int64_t testutil_db_count(const char *path, const char *sql);
/* Run sql on the SQLite file at path, created if need be, as another
 * program would. */
void testutil_db_exec(const char *path, const char *sql);

/*
 * Return the environment for a child whose servers are on loopback:
 * ours without the *_proxy variables and those named in drop, then the
 * "NAME=value" strings of add, each in place of any of that name (drop
 * and add are NULL-terminated, or NULL). Free the array, not its
 * strings: they are environ's and add's.
 */
char **testutil_envp(const char *const *drop, const char *const *add);

/*
 * Serve cb(request, arg) on 127.0.0.1 at a port of the system's choice,
 * from base (as libevent's regress_http.c does), and write the port to
 * *port. Return the server, for testutil_http_free.
 */
struct evhttp *testutil_http_start(struct event_base *base,
    void (*cb)(struct evhttp_request *, void *), void *arg, int *port);
/* Free the server, then the base it was served from; either may be
 * NULL. */
void testutil_http_free(struct evhttp *http, struct event_base *base);
/*
 * Return a loopback port that refuses connections: bound, never
 * listening, so that no other program takes it. Its socket goes to
 * *fd; close it when done.
 */
int testutil_closed_port(int *fd);
/*
 * Return a loopback port at which connecting hangs: a socket listening
 * with a backlog of 0 whose one place is taken by a connection never
 * accepted, so that Linux drops every later SYN and a client waits for
 * its connect timeout. Its two sockets go to fds; close both when done.
 * Fails the test when a connection is still accepted.
 */
int testutil_hung_port(int fds[2]);

struct testutil_proc;

/* Called every tick while a child runs; it may signal p->pid. */
typedef void (*testutil_tick_cb)(struct testutil_proc *p);

/*
 * A child process run while the test's event loop goes on serving it
 * (evhttp, a notify socket). The caller fills the first part and zeroes
 * the rest; testutil_proc_run fills the rest.
 */
struct testutil_proc {
	char *const *argv; /* NULL-terminated; argv[0] is the program */
	char *const *env;
	const char *out; /* file for stdout; NULL: the test's */
	const char *err; /* file for stderr; NULL: the test's */
	int watchdog;	 /* seconds before it is killed */
	int tick;	 /* ms between tick_cb calls; 0 = none */
	testutil_tick_cb tick_cb;
	void *arg; /* the caller's, for tick_cb */

	struct event_base *base; /* the loop it runs in */
	pid_t pid;
	int status;	       /* wait status */
	struct rusage ru;      /* what it used */
	struct timespec start; /* CLOCK_MONOTONIC, at its spawn */
	int is_done;
	int is_timed_out; /* killed by the watchdog */
};

/*
 * Spawn p->argv with p->env and stdin from /dev/null, then dispatch base
 * until the child exits, calling p->tick_cb meanwhile; after p->watchdog
 * seconds it is killed with SIGKILL and p->is_timed_out set. The caller
 * judges the wait status in p->status.
 */
void testutil_proc_run(struct testutil_proc *p, struct event_base *base);

#endif
