#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* cmocka.h needs the standard headers above. */
#include <cmocka.h>

#include <event2/event.h>
#include <event2/http.h>
#include <sqlite3.h>

#include "testutil.h"

/* The helpers the cmocka tests share (see testutil.h). */

extern char **environ;

static int testutil_rmtree_cb(
    const char *, const struct stat *, int, struct FTW *);
static int testutil_env_named(const char *, const char *const *);
static int testutil_socket_port(int);
static void testutil_loopback_addr(struct sockaddr_in *, int);
static int testutil_loopback_socket(int);
static int testutil_connect_within(int, int, int);
static void testutil_proc_sigchld_cb(evutil_socket_t, short, void *);
static void testutil_proc_watchdog_cb(evutil_socket_t, short, void *);
static void testutil_proc_tick_cb(evutil_socket_t, short, void *);
static void testutil_proc_spawn(struct testutil_proc *);

void
testutil_path(char *buf, size_t len, const char *dir, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", dir, name);

	assert_true(n > 0 && (size_t)n < len);
}

void
testutil_tmpdir(char *dir, size_t len, const char *name)
{
	int n = snprintf(dir, len, "/tmp/feedwatch-%s.XXXXXX", name);

	assert_true(n > 0 && (size_t)n < len);
	if (mkdtemp(dir) == NULL)
		fail_msg("mkdtemp %s: %s", dir, strerror(errno));
}

static int
testutil_rmtree_cb(
    const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

int
testutil_rmtree(const char *dir)
{
	if (nftw(dir, testutil_rmtree_cb, 16, FTW_DEPTH | FTW_PHYS) != 0)
		return -1;
	return 0;
}

void
testutil_write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f;

	if ((f = fopen(path, "we")) == NULL)
		fail_msg("%s: %s", path, strerror(errno));
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

char *
testutil_read_file(const char *path)
{
	FILE *f;
	char *s = NULL;
	size_t cap = 0, len = 0, n;

	if ((f = fopen(path, "re")) == NULL)
		return NULL;
	do {
		if (cap - len < 4096) {
			cap = cap * 2 + 4096;
			assert_non_null(s = realloc(s, cap + 1));
		}
		n = fread(s + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	assert_int_equal(ferror(f), 0);
	fclose(f);
	s[len] = '\0';
	return s;
}

int
testutil_count_lines(const char *text, const char *a, const char *b)
{
	const char *line = text, *end;
	char *copy;
	int n = 0;

	for (; *line != '\0'; line = *end == '\0' ? end : end + 1) {
		end = line + strcspn(line, "\n");
		assert_non_null(copy = strndup(line, (size_t)(end - line)));
		if (strstr(copy, a) != NULL && strstr(copy, b) != NULL)
			n++;
		free(copy);
	}
	return n;
}

int64_t
testutil_db_count(const char *path, const char *sql)
{
	sqlite3_stmt *s;
	sqlite3 *db;
	int64_t n;

	/* Without SQLITE_OPEN_CREATE: no file is no count. */
	assert_int_equal(access(path, F_OK), 0);
	assert_int_equal(
	    sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(s) != SQLITE_ROW)
		fail_msg("%s: no row", sql);
	n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
}

void
testutil_db_exec(const char *path, const char *sql)
{
	sqlite3 *db;
	char *err = NULL;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", path, err);
	sqlite3_close(db);
}

/* Does names (NULL-terminated, or NULL) name s's variable, as "NAME" or
 * "NAME=value"? */
static int
testutil_env_named(const char *s, const char *const *names)
{
	size_t len = strcspn(s, "=");

	for (size_t i = 0; names != NULL && names[i] != NULL; i++) {
		if (strncmp(s, names[i], len) == 0 &&
		    (names[i][len] == '\0' || names[i][len] == '='))
			return 1;
	}
	return 0;
}

char **
testutil_envp(const char *const *drop, const char *const *add)
{
	char **env;
	const char *eq;
	size_t n = 0, i, j;

	for (i = 0; environ[i] != NULL; i++)
		continue;
	for (j = 0; add != NULL && add[j] != NULL; j++)
		continue;
	assert_non_null(env = calloc(i + j + 1, sizeof *env));
	for (i = 0; environ[i] != NULL; i++) {
		if ((eq = strchr(environ[i], '=')) == NULL)
			continue;
		/* The servers are on loopback: no proxy, in any case. */
		if (eq - environ[i] >= 6 &&
		    strncasecmp(eq - 6, "_proxy", 6) == 0)
			continue;
		if (testutil_env_named(environ[i], drop) ||
		    testutil_env_named(environ[i], add))
			continue;
		env[n++] = environ[i];
	}
	for (j = 0; add != NULL && add[j] != NULL; j++)
		env[n++] = (char *)add[j];
	env[n] = NULL;
	return env;
}

/* The port a bound socket has. */
static int
testutil_socket_port(int fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof sin;

	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	assert_true(ntohs(sin.sin_port) > 0);
	return ntohs(sin.sin_port);
}

struct evhttp *
testutil_http_start(struct event_base *base,
    void (*cb)(struct evhttp_request *, void *), void *arg, int *port)
{
	struct evhttp_bound_socket *sock;
	struct evhttp *http;

	assert_non_null(http = evhttp_new(base));
	evhttp_set_gencb(http, cb, arg);
	sock = evhttp_bind_socket_with_handle(http, "127.0.0.1", 0);
	assert_non_null(sock);
	*port = testutil_socket_port(evhttp_bound_socket_get_fd(sock));
	return http;
}

void
testutil_http_free(struct evhttp *http, struct event_base *base)
{
	if (http != NULL)
		evhttp_free(http);
	if (base != NULL)
		event_base_free(base);
}

/* 127.0.0.1:port. */
static void
testutil_loopback_addr(struct sockaddr_in *sin, int port)
{
	memset(sin, 0, sizeof *sin);
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin->sin_port = htons((uint16_t)port);
}

/* A loopback socket bound at a port of the system's choice. */
static int
testutil_loopback_socket(int flags)
{
	struct sockaddr_in sin;
	int fd;

	testutil_loopback_addr(&sin, 0);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | flags, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	return fd;
}

int
testutil_closed_port(int *fd)
{
	*fd = testutil_loopback_socket(0);
	return testutil_socket_port(*fd);
}

/* Connect fd to port on loopback without waiting; 0 when the kernel
 * finished the handshake within ms milliseconds, else -1. */
static int
testutil_connect_within(int fd, int port, int ms)
{
	struct sockaddr_in sin;
	struct pollfd pfd = { fd, POLLOUT, 0 };
	int err = 0;
	socklen_t len = sizeof err;

	testutil_loopback_addr(&sin, port);
	if (connect(fd, (struct sockaddr *)&sin, sizeof sin) == 0)
		return 0;
	assert_int_equal(errno, EINPROGRESS);
	if (poll(&pfd, 1, ms) != 1)
		return -1;
	assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len), 0);
	return err == 0 ? 0 : -1;
}

int
testutil_hung_port(int fds[2])
{
	int port, probe;

	fds[0] = testutil_loopback_socket(0);
	assert_int_equal(listen(fds[0], 0), 0);
	port = testutil_socket_port(fds[0]);
	/* The one place in the accept queue. */
	fds[1] = testutil_loopback_socket(SOCK_NONBLOCK);
	if (testutil_connect_within(fds[1], port, 1000) == -1)
		fail_msg(
		    "port %d: the first connection was not accepted", port);
	/* From now on a SYN goes unanswered. */
	probe = testutil_loopback_socket(SOCK_NONBLOCK);
	if (testutil_connect_within(probe, port, 200) == 0)
		fail_msg(
		    "port %d: a connection beyond the backlog was made", port);
	close(probe);
	return port;
}

static void
testutil_proc_sigchld_cb(evutil_socket_t sig, short what, void *arg)
{
	struct testutil_proc *p = arg;

	(void)sig;
	(void)what;
	if (!p->is_done &&
	    wait4(p->pid, &p->status, WNOHANG, &p->ru) == p->pid) {
		p->is_done = 1;
		event_base_loopbreak(p->base);
	}
}

static void
testutil_proc_watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	struct testutil_proc *p = arg;

	(void)fd;
	(void)what;
	p->is_timed_out = 1;
	kill(p->pid, SIGKILL);
	wait4(p->pid, &p->status, 0, &p->ru);
	p->is_done = 1;
	event_base_loopbreak(p->base);
}

static void
testutil_proc_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct testutil_proc *p = arg;

	(void)fd;
	(void)what;
	if (!p->is_done)
		p->tick_cb(p);
}

/* posix_spawn with stdin from /dev/null and the files asked for. */
static void
testutil_proc_spawn(struct testutil_proc *p)
{
	posix_spawn_file_actions_t fa;
	int flags = O_WRONLY | O_CREAT | O_TRUNC;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (p->out != NULL)
		posix_spawn_file_actions_addopen(&fa, 1, p->out, flags, 0644);
	if (p->err != NULL)
		posix_spawn_file_actions_addopen(&fa, 2, p->err, flags, 0644);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	clock_gettime(CLOCK_MONOTONIC, &p->start);
	if (posix_spawn(&p->pid, p->argv[0], &fa, NULL, p->argv, p->env) != 0)
		fail_msg("cannot run %s", p->argv[0]);
	posix_spawn_file_actions_destroy(&fa);
}

void
testutil_proc_run(struct testutil_proc *p, struct event_base *base)
{
	struct timeval tv = { p->watchdog, 0 };
	struct timeval tick = { p->tick / 1000, (p->tick % 1000) * 1000 };
	struct event *sigchld, *watchdog, *ticker = NULL;

	p->base = base;
	/* Catch SIGCHLD before there is a child to send it. */
	sigchld = evsignal_new(base, SIGCHLD, testutil_proc_sigchld_cb, p);
	watchdog = evtimer_new(base, testutil_proc_watchdog_cb, p);
	assert_non_null(sigchld);
	assert_non_null(watchdog);
	assert_int_equal(evsignal_add(sigchld, NULL), 0);
	testutil_proc_spawn(p);
	assert_int_equal(evtimer_add(watchdog, &tv), 0);
	if (p->tick > 0) {
		ticker =
		    event_new(base, -1, EV_PERSIST, testutil_proc_tick_cb, p);
		assert_non_null(ticker);
		assert_int_equal(event_add(ticker, &tick), 0);
	}
	while (!p->is_done)
		assert_int_not_equal(event_base_dispatch(base), -1);
	if (ticker != NULL)
		event_free(ticker);
	event_free(watchdog);
	event_free(sigchld);
}
