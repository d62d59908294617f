#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* cmocka.h needs the four headers above it. */
#include <cmocka.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>

#include "testutil.h"

/*
 * The chat and webhook hooks of scripts/hooks, and apprise through
 * Apprise's json:// scheme, against a receiver served by evhttp from the
 * test's own event_base: what each sends for a hostile title, and how its
 * exit status follows the receiver's answer.
 */

#define TEST_WATCHDOG 20 /* seconds before a hung hook is killed */
#define TEST_MAX_REQUESTS 4
#define TEST_PWNED "/tmp/pwned-feedwatch"

#define TEST_ALERT_ID "9f2c4e0a7d1b4c3e8a6f5d2b1c0e9f8a"
#define TEST_WATCHLIST "track-two"
/* He said "hi" $(touch ...) `touch ...`, a newline, 🚀 Переговоры */
#define TEST_TITLE                                                              \
	"He said \"hi\" $(touch " TEST_PWNED ") `touch " TEST_PWNED "`\n"       \
	"\xf0\x9f\x9a\x80 \xd0\x9f\xd0\xb5\xd1\x80\xd0\xb5\xd0\xb3\xd0\xbe\xd0" \
	"\xb2\xd0\xbe\xd1\x80\xd1\x8b"
#define TEST_URL "https://news.example.org/2024/05/talks?id=7&lang=ru"
/* … it's «track two» <b>talks</b> & more in Geneva … */
#define TEST_SNIPPET                                                          \
	"\xe2\x80\xa6 it's \xc2\xabtrack two\xc2\xbb <b>talks</b> & more in " \
	"Geneva \xe2\x80\xa6"
/* The same with Discord's markdown escapes. */
#define TEST_SNIPPET_MD                                                            \
	"\xe2\x80\xa6 it's \xc2\xabtrack two\xc2\xbb \\<b\\>talks\\</b\\> & more " \
	"in Geneva \xe2\x80\xa6"

#define TEST_ROOM "!room:example.org"
#define TEST_ROOM_PATH "/_matrix/client/v3/rooms/%21room%3Aexample.org"
#define TEST_TOPIC "feedwatch_test"
#define TEST_CHAT "-1001234567890"
#define TEST_SLACK_PATH "/services/T000/B000/s3cr3t-slack"
#define TEST_DISCORD_PATH "/api/webhooks/42/s3cr3t-discord"
#define TEST_WEBHOOK_PATH "/in/s3cr3t-webhook"
#define TEST_APPRISE_PATH "/notify/s3cr3t-apprise"
#define TEST_MATRIX_TOKEN "s3cr3t-matrix"
#define TEST_NTFY_TOKEN "tk_s3cr3t-ntfy"
#define TEST_TELEGRAM_TOKEN "42:s3cr3t-telegram"
#define TEST_WEBHOOK_SECRET "s3cr3t-webhook-key"

/* Known answers, from Python's hmac module, for the webhook signature. */
#define TEST_KAT_BODY                                                       \
	"{\"alert_id\":\"00000000000000000000000000000001\",\"watchlist\":" \
	"\"kat\",\"story\":{\"id\":1,\"title\":\"Known answer\",\"url\":"   \
	"\"https://example.org/kat\"}}"
#define TEST_KAT_SHORT_KEY "feedwatch-test-secret"
#define TEST_KAT_SHORT \
	"eb75a20ed94471453d132e1b6386edb32d1e786edc7870aaecf5b3ebbc263813"
#define TEST_KAT_LONG_KEY_LEN 100 /* bytes, all 'k': hashed first */
#define TEST_KAT_LONG \
	"5232eb83825b55dc7700751f0d3c9cd8c2670c6c7c1be4c9abed48df670c7ba2"

/* One request as the receiver saw it. */
struct request {
	char *method;
	char *uri;
	char *content_type;
	char *authorization;
	char *signature;
	char *alert_id;
	char *event;
	char *body;
	size_t body_len;
};

struct fixture {
	char dir[PATH_MAX];
	char url[64];	     /* the receiver, http://127.0.0.1:PORT */
	char closed_url[64]; /* a port where nothing listens */
	struct event_base *base;
	struct evhttp *http;
	int closed_fd;
	int status;    /* the receiver's answer */
	int is_silent; /* let requests wait, unanswered */
	struct request reqs[TEST_MAX_REQUESTS];
	size_t nreqs;
	struct evhttp_request *held[TEST_MAX_REQUESTS]; /* unanswered */
	size_t nheld;
	char *out; /* what the last run printed */
	const char *path_prefix;
	const char *extra_env; /* NAME=value, or NULL */
};

/* How a hook is run against the receiver; see expand(). */
struct hook_case {
	const char *name;
	const char *args[8];
};

static const struct hook_case hook_cases[] = {
	{ "slack", { "--url-file", "{dir}/slack-url", NULL } },
	{ "discord", { "--url-file", "{dir}/discord-url", NULL } },
	{ "matrix",
	    { "--homeserver", "{url}", "--room", TEST_ROOM, "--token-file",
		"{dir}/matrix-token", NULL } },
	{ "ntfy",
	    { "--server", "{url}", "--topic", TEST_TOPIC, "--token-file",
		"{dir}/ntfy-token", NULL } },
	{ "telegram",
	    { "--api", "{url}", "--chat", TEST_CHAT, "--token-file",
		"{dir}/telegram-token", NULL } },
	{ "webhook",
	    { "--url-file", "{dir}/webhook-url", "--secret-file",
		"{dir}/webhook-secret", NULL } },
	{ "apprise", { "--url-file", "{dir}/apprise-urls", NULL } },
};

#define NCASES (sizeof hook_cases / sizeof hook_cases[0])

static const char *hooks_dir;

static void
request_clear(struct request *rq)
{
	free(rq->method);
	free(rq->uri);
	free(rq->content_type);
	free(rq->authorization);
	free(rq->signature);
	free(rq->alert_id);
	free(rq->event);
	free(rq->body);
	memset(rq, 0, sizeof *rq);
}

static void
requests_clear(struct fixture *fx)
{
	for (size_t i = 0; i < fx->nreqs; i++)
		request_clear(&fx->reqs[i]);
	fx->nreqs = 0;
}

/*
 * Answer the requests held unanswered: that frees them, whether their
 * client hung up (libevent then lets go of them) or not.
 */
static void
requests_release(struct fixture *fx)
{
	for (size_t i = 0; i < fx->nheld; i++)
		evhttp_send_reply(fx->held[i], 503, "Late", NULL);
	fx->nheld = 0;
}

static char *
header_dup(struct evhttp_request *req, const char *name)
{
	const char *v;

	v = evhttp_find_header(evhttp_request_get_input_headers(req), name);
	return v != NULL ? strdup(v) : NULL;
}

static const char *
method_name(enum evhttp_cmd_type cmd)
{
	switch (cmd) {
	case EVHTTP_REQ_POST:
		return "POST";
	case EVHTTP_REQ_PUT:
		return "PUT";
	case EVHTTP_REQ_GET:
		return "GET";
	default:
		return "OTHER";
	}
}

/* Record the request, then answer fx->status (or nothing, if silent). */
static void
server_cb(struct evhttp_request *req, void *arg)
{
	struct fixture *fx = arg;
	struct request *rq;
	struct evbuffer *in, *buf;
	const char *text;

	assert_true(fx->nreqs < TEST_MAX_REQUESTS);
	rq = &fx->reqs[fx->nreqs++];
	rq->method = strdup(method_name(evhttp_request_get_command(req)));
	rq->uri = strdup(evhttp_request_get_uri(req));
	rq->content_type = header_dup(req, "Content-Type");
	rq->authorization = header_dup(req, "Authorization");
	rq->signature = header_dup(req, "X-Feedwatch-Signature");
	rq->alert_id = header_dup(req, "X-Feedwatch-Alert-Id");
	rq->event = header_dup(req, "X-Feedwatch-Event");
	in = evhttp_request_get_input_buffer(req);
	rq->body_len = evbuffer_get_length(in);
	assert_non_null(rq->body = malloc(rq->body_len + 1));
	evbuffer_copyout(in, rq->body, rq->body_len);
	rq->body[rq->body_len] = '\0';
	if (fx->is_silent) {
		/* Answered by requests_release() once the hook is gone. */
		fx->held[fx->nheld++] = req;
		return;
	}
	text = fx->status == 200 ? "{\"ok\":true}" : "{\"error\":\"test\"}";
	assert_non_null(buf = evbuffer_new());
	evbuffer_add(buf, text, strlen(text));
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/json");
	evhttp_send_reply(req, fx->status, "Test", buf);
	evbuffer_free(buf);
}

/* Serve on 127.0.0.1, at a port of the system's choice. */
static void
server_start(struct fixture *fx)
{
	int port;

	assert_non_null(fx->base = event_base_new());
	fx->http = testutil_http_start(fx->base, server_cb, fx, &port);
	snprintf(fx->url, sizeof fx->url, "http://127.0.0.1:%d", port);
}

/*
 * A socket bound to a port but not listening: a connection to it is
 * refused, and no other test can take the port meanwhile.
 */
static void
closed_port_start(struct fixture *fx)
{
	snprintf(fx->closed_url, sizeof fx->closed_url, "http://127.0.0.1:%d",
	    testutil_closed_port(&fx->closed_fd));
}

static void
path_in(const struct fixture *fx, char *buf, size_t len, const char *name)
{
	testutil_path(buf, len, fx->dir, name);
}

static void
write_file(
    const struct fixture *fx, const char *name, const char *text, mode_t mode)
{
	char path[PATH_MAX];

	path_in(fx, path, sizeof path, name);
	testutil_write_file(path, text, mode);
}

/* Apprise's json:// URL of path at base (http://...); caller frees. */
static char *
apprise_url(const char *base, const char *path)
{
	char *s;

	assert_int_equal(strncmp(base, "http://", 7), 0);
	assert_true(asprintf(&s, "json://%s%s", base + 7, path) > 0);
	return s;
}

/* The secrets the hook cases read, for a receiver at base. */
static void
write_secrets(const struct fixture *fx, const char *base)
{
	char text[256], *url;

	snprintf(text, sizeof text, "%s" TEST_SLACK_PATH "\n", base);
	write_file(fx, "slack-url", text, 0600);
	snprintf(text, sizeof text, "%s" TEST_DISCORD_PATH "\n", base);
	write_file(fx, "discord-url", text, 0600);
	snprintf(text, sizeof text, "%s" TEST_WEBHOOK_PATH "\n", base);
	write_file(fx, "webhook-url", text, 0600);
	write_file(fx, "matrix-token", TEST_MATRIX_TOKEN "\n", 0600);
	write_file(fx, "ntfy-token", TEST_NTFY_TOKEN "\n", 0600);
	write_file(fx, "telegram-token", TEST_TELEGRAM_TOKEN "\n", 0600);
	write_file(fx, "webhook-secret", TEST_WEBHOOK_SECRET "\n", 0600);
	url = apprise_url(base, TEST_APPRISE_PATH);
	snprintf(text, sizeof text, "# Apprise service URLs\n%s\n", url);
	write_file(fx, "apprise-urls", text, 0600);
	free(url);
}

static int
hooks_setup(void **state)
{
	struct fixture *fx;

	assert_non_null(fx = calloc(1, sizeof *fx));
	testutil_tmpdir(fx->dir, sizeof fx->dir, "hooks");
	fx->status = 200;
	server_start(fx);
	closed_port_start(fx);
	write_secrets(fx, fx->url);
	if (unlink(TEST_PWNED) == -1 && errno != ENOENT)
		fail_msg("cannot remove %s: %s", TEST_PWNED, strerror(errno));
	*state = fx;
	return 0;
}

static int
hooks_teardown(void **state)
{
	struct fixture *fx = *state;

	if (fx == NULL)
		return 0;
	requests_clear(fx);
	testutil_http_free(fx->http, fx->base);
	requests_release(fx);
	if (fx->closed_fd > 0)
		close(fx->closed_fd);
	testutil_rmtree(fx->dir);
	free(fx->out);
	free(fx);
	return 0;
}

/* A process run while the fixture's loop serves HTTP. */
struct run {
	struct fixture *fx;
	pid_t pid;
	int status;
	int is_done;
	int is_timed_out;
	int in_fd;
	struct event *in_ev;
	const char *input;
	size_t input_len;
	size_t input_off;
};

static void
run_stdin_close(struct run *r)
{
	if (r->in_ev != NULL)
		event_free(r->in_ev);
	if (r->in_fd != -1)
		close(r->in_fd);
	r->in_ev = NULL;
	r->in_fd = -1;
}

/* Feed the input as the daemon does, through a non-blocking pipe. */
static void
run_stdin_cb(evutil_socket_t fd, short what, void *arg)
{
	struct run *r = arg;
	ssize_t n;

	(void)what;
	n = write(fd, r->input + r->input_off, r->input_len - r->input_off);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0)
		r->input_off += (size_t)n;
	if (n == -1 || r->input_off == r->input_len)
		run_stdin_close(r);
}

static void
run_sigchld_cb(evutil_socket_t sig, short what, void *arg)
{
	struct run *r = arg;

	(void)sig;
	(void)what;
	if (!r->is_done && waitpid(r->pid, &r->status, WNOHANG) == r->pid)
		r->is_done = 1;
}

static void
run_watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	struct run *r = arg;

	(void)fd;
	(void)what;
	r->is_timed_out = 1;
	killpg(r->pid, SIGKILL);
	waitpid(r->pid, &r->status, 0);
	r->is_done = 1;
}

/* Find name on PATH, into buf; return 0, or -1 when it is not there. */
static int
find_in_path(const char *name, char *buf, size_t len)
{
	const char *p, *end;
	size_t n;

	for (p = getenv("PATH"); p != NULL && *p != '\0'; p = end) {
		n = strcspn(p, ":");
		end = p[n] == ':' ? p + n + 1 : p + n;
		snprintf(buf, len, "%.*s/%s", (int)n, p, name);
		if (access(buf, X_OK) == 0)
			return 0;
	}
	return -1;
}

/* posix_spawn as alert.c does: own process group, default signals. */
static void
run_spawn(struct run *r, char **argv, char **env, int in_r, const char *out)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t sigs;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in_r, 0);
	posix_spawn_file_actions_addopen(
	    &fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr,
	    POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF |
		POSIX_SPAWN_SETSIGMASK);
	posix_spawnattr_setpgroup(&attr, 0);
	sigemptyset(&sigs);
	posix_spawnattr_setsigmask(&attr, &sigs);
	sigaddset(&sigs, SIGPIPE);
	sigaddset(&sigs, SIGCHLD);
	posix_spawnattr_setsigdefault(&attr, &sigs);
	if (posix_spawn(&r->pid, argv[0], &fa, &attr, argv, env) != 0)
		fail_msg("cannot run %s", argv[0]);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
}

/*
 * Run argv with env and input on its stdin, its output to fx->out,
 * serving HTTP from the fixture's loop until it exits. Return its wait
 * status. A hang fails the test.
 */
static int
run_proc(struct fixture *fx, char **argv, char **env, const char *input)
{
	struct timeval tv = { TEST_WATCHDOG, 0 };
	struct event *sigchld, *watchdog;
	struct run r;
	char out[PATH_MAX];
	int in[2];

	memset(&r, 0, sizeof r);
	r.fx = fx;
	r.input = input;
	r.input_len = strlen(input);
	path_in(fx, out, sizeof out, "output");
	/* Catch SIGCHLD before there is a child to send it. */
	sigchld = evsignal_new(fx->base, SIGCHLD, run_sigchld_cb, &r);
	watchdog = evtimer_new(fx->base, run_watchdog_cb, &r);
	assert_non_null(sigchld);
	assert_non_null(watchdog);
	assert_int_equal(evsignal_add(sigchld, NULL), 0);
	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	run_spawn(&r, argv, env, in[0], out);
	close(in[0]);
	r.in_fd = in[1];
	assert_int_equal(fcntl(r.in_fd, F_SETFL, O_NONBLOCK), 0);
	r.in_ev = event_new(
	    fx->base, r.in_fd, EV_WRITE | EV_PERSIST, run_stdin_cb, &r);
	assert_non_null(r.in_ev);
	assert_int_equal(event_add(r.in_ev, NULL), 0);
	assert_int_equal(evtimer_add(watchdog, &tv), 0);
	while (!r.is_done)
		assert_int_not_equal(
		    event_base_loop(fx->base, EVLOOP_ONCE), -1);
	run_stdin_close(&r);
	event_free(watchdog);
	event_free(sigchld);
	free(fx->out);
	assert_non_null(fx->out = testutil_read_file(out));
	if (r.is_timed_out)
		fail_msg("%s hung for %ds; killed. Output:\n%s", argv[0],
		    TEST_WATCHDOG, fx->out);
	return r.status;
}

/*
 * The hook's environment, as alert.c makes it: PATH (with fx's prefix),
 * HOME and the alert's FEEDWATCH_* variables. Caller frees.
 */
static char **
hook_envp(const struct fixture *fx)
{
	char **env;
	const char *path = getenv("PATH"), *home = getenv("HOME");
	size_t n = 0;

	assert_non_null(env = calloc(16, sizeof *env));
	assert_true(
	    asprintf(&env[n++], "PATH=%s%s%s",
		fx->path_prefix ? fx->path_prefix : "",
		fx->path_prefix ? ":" : "", path ? path : "/usr/bin:/bin") > 0);
	if (home != NULL)
		assert_true(asprintf(&env[n++], "HOME=%s", home) > 0);
	if (fx->extra_env != NULL)
		assert_non_null(env[n++] = strdup(fx->extra_env));
	assert_non_null(env[n++] = strdup("FEEDWATCH_ALERT_ID=" TEST_ALERT_ID));
	assert_non_null(
	    env[n++] = strdup("FEEDWATCH_WATCHLIST=" TEST_WATCHLIST));
	assert_non_null(env[n++] = strdup("FEEDWATCH_TITLE=" TEST_TITLE));
	assert_non_null(env[n++] = strdup("FEEDWATCH_URL=" TEST_URL));
	assert_non_null(env[n++] = strdup("FEEDWATCH_FEED=wire"));
	assert_non_null(
	    env[n++] = strdup("FEEDWATCH_PUBLISHED=2024-05-01T10:00:00Z"));
	assert_non_null(env[n++] = strdup("FEEDWATCH_MATCHED=track two"));
	assert_non_null(env[n++] = strdup("FEEDWATCH_SNIPPET=" TEST_SNIPPET));
	return env;
}

static void
strv_free(char **v)
{
	for (size_t i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* An argument of a hook case: {url} and {dir} name the fixture's. */
static char *
expand(const struct fixture *fx, const char *arg, const char *url)
{
	char *s;

	if (strncmp(arg, "{url}", 5) == 0)
		assert_true(asprintf(&s, "%s%s", url, arg + 5) > 0);
	else if (strncmp(arg, "{dir}", 5) == 0)
		assert_true(asprintf(&s, "%s%s", fx->dir, arg + 5) > 0);
	else
		assert_non_null(s = strdup(arg));
	return s;
}

/*
 * Run hook name with args then more (both NULL-terminated, either may be
 * NULL) and input; {url} is url. Return its exit status. A hook killed
 * by a signal, or one that ran feed text, fails the test.
 */
static int
run_hook_at(struct fixture *fx, const char *name, const char *const *args,
    const char *const *more, const char *input, const char *url)
{
	char **argv, **env;
	size_t n = 0;
	int status;

	requests_clear(fx);
	assert_non_null(argv = calloc(24, sizeof *argv));
	assert_true(asprintf(&argv[n++], "%s/%s", hooks_dir, name) > 0);
	for (size_t i = 0; args != NULL && args[i] != NULL; i++)
		argv[n++] = expand(fx, args[i], url);
	for (size_t i = 0; more != NULL && more[i] != NULL; i++)
		argv[n++] = expand(fx, more[i], url);
	assert_true(n < 24);
	env = hook_envp(fx);
	status = run_proc(fx, argv, env, input);
	requests_release(fx);
	strv_free(env);
	strv_free(argv);
	if (!WIFEXITED(status))
		fail_msg(
		    "%s: wait status %#x; output:\n%s", name, status, fx->out);
	if (access(TEST_PWNED, F_OK) == 0)
		fail_msg("%s ran a command from the title", name);
	return WEXITSTATUS(status);
}

static int
run_hook(struct fixture *fx, const char *name, const char *const *args,
    const char *input)
{
	return run_hook_at(fx, name, args, NULL, input, fx->url);
}

/* Run a hook case; it must exit with want. */
static void
run_case_want(struct fixture *fx, const struct hook_case *hc,
    const char *const *more, const char *input, const char *url, int want)
{
	int rc = run_hook_at(fx, hc->name, hc->args, more, input, url);

	if (rc != want)
		fail_msg("%s: exit %d, want %d; output:\n%s", hc->name, rc,
		    want, fx->out);
}

/* The alert JSON the daemon would give; caller frees. */
static char *
alert_text(
    const char *id, const char *title, const char *url, const char *snippet)
{
	json_t *o;
	char *s;

	o = json_pack("{s:s, s:s, s:{s:i, s:s, s:s, s:s, s:{s:s, s:s}, s:s, "
		      "s:[{s:s, s:s}, {s:s, s:s}]}, s:[s], s:s}",
	    "alert_id", id, "watchlist", TEST_WATCHLIST, "story", "id", 1234,
	    "title", title, "url", url, "published", "2024-05-01T10:00:00Z",
	    "feed", "name", "wire", "url", "https://news.example.org/feed",
	    "summary", "plain text", "sources", "feed", "nbc-world", "url",
	    "https://nbc.example/a", "feed", "bbc", "url",
	    "https://bbc.example/b", "matched", "track two", "snippet",
	    snippet);
	assert_non_null(o);
	assert_non_null(s = json_dumps(o, JSON_COMPACT));
	json_decref(o);
	return s;
}

static char *
hostile_alert(void)
{
	return alert_text(TEST_ALERT_ID, TEST_TITLE, TEST_URL, TEST_SNIPPET);
}

/* A digest of two plain alerts; caller frees. */
static char *
digest_text(void)
{
	json_t *o;
	char *a, *b, *s;

	a = alert_text("00000000000000000000000000000001", "First story",
	    "https://example.org/1", "one");
	b = alert_text("00000000000000000000000000000002", "Second story",
	    "https://example.org/2", "two");
	o = json_pack("{s:s, s:[o, o]}", "watchlist", TEST_WATCHLIST, "alerts",
	    json_loads(a, 0, NULL), json_loads(b, 0, NULL));
	assert_non_null(o);
	assert_non_null(s = json_dumps(o, JSON_COMPACT));
	json_decref(o);
	free(a);
	free(b);
	return s;
}

/* The one request the last run made, which must be method uri. */
static const struct request *
one_request(const struct fixture *fx, const char *method, const char *uri)
{
	const struct request *rq = &fx->reqs[0];

	if (fx->nreqs != 1)
		fail_msg(
		    "%zu requests, want 1; output:\n%s", fx->nreqs, fx->out);
	assert_string_equal(rq->method, method);
	assert_string_equal(rq->uri, uri);
	assert_non_null(rq->content_type);
	assert_string_equal(rq->content_type, "application/json");
	return rq;
}

static json_t *
request_json(const struct request *rq)
{
	json_error_t jerr;
	json_t *o;

	o = json_loadb(rq->body, rq->body_len, 0, &jerr);
	if (o == NULL)
		fail_msg("body: %s:\n%s", jerr.text, rq->body);
	return o;
}

/*
 * The one request must be method to uri with "Authorization: auth";
 * return its JSON body (json_decref it).
 */
static json_t *
authorized_json(const struct fixture *fx, const char *method, const char *uri,
    const char *auth)
{
	const struct request *rq = one_request(fx, method, uri);

	assert_non_null(rq->authorization);
	assert_string_equal(rq->authorization, auth);
	return request_json(rq);
}

/* json_unpack that fails the test, naming what was missing. */
static void
unpack(json_t *o, const char *fmt, ...)
{
	json_error_t jerr;
	va_list ap;
	char *s;
	int rc;

	va_start(ap, fmt);
	rc = json_vunpack_ex(o, &jerr, 0, fmt, ap);
	va_end(ap);
	if (rc == -1) {
		s = json_dumps(o, JSON_INDENT(1));
		fail_msg("%s: %s in:\n%s", fmt, jerr.text, s);
	}
}

static void
assert_contains(const char *s, const char *part)
{
	if (strstr(s, part) == NULL)
		fail_msg("\"%s\" is not in \"%s\"", part, s);
}

/* Does any string in o contain part? */
static int
json_mentions(json_t *o, const char *part)
{
	const char *k;
	json_t *v;
	size_t i;

	if (json_is_string(o))
		return strstr(json_string_value(o), part) != NULL;
	if (json_is_array(o)) {
		json_array_foreach(o, i, v)
		{
			if (json_mentions(v, part))
				return 1;
		}
	}
	if (json_is_object(o)) {
		json_object_foreach(o, k, v)
		{
			if (json_mentions(v, part))
				return 1;
		}
	}
	return 0;
}

/* s with each character of which escaped as HTML does; caller frees. */
static char *
escape(const char *s, const char *which)
{
	static const char *entity[256] = { ['&'] = "&amp;",
		['<'] = "&lt;",
		['>'] = "&gt;",
		['"'] = "&quot;",
		['\''] = "&#39;",
		['\n'] = "<br>" };
	char *out;
	size_t len;
	FILE *f;

	assert_non_null(f = open_memstream(&out, &len));
	for (; *s != '\0'; s++) {
		if (strchr(which, *s) != NULL && entity[(unsigned char)*s])
			fputs(entity[(unsigned char)*s], f);
		else
			fputc(*s, f);
	}
	assert_int_equal(fclose(f), 0);
	return out;
}

/* The length of UTF-8 s in UTF-16 units, as Discord counts. */
static size_t
utf16_len(const char *s)
{
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p & 0xc0) != 0x80)
			n += *p >= 0xf0 ? 2 : 1;
	}
	return n;
}

/* Each hook prints its usage on --help and refuses bad usage with 2. */
static void
test_hooks_usage(void **state)
{
	struct fixture *fx = *state;
	const char *help[] = { "--help", NULL }, *bad[] = { "--bogus", NULL };
	char want[64];
	char *alert = hostile_alert();

	for (size_t i = 0; i < NCASES; i++) {
		const char *name = hook_cases[i].name;

		snprintf(want, sizeof want, "usage: %s", name);
		assert_int_equal(run_hook(fx, name, help, ""), 0);
		assert_contains(fx->out, want);
		assert_int_equal(run_hook(fx, name, bad, alert), 2);
		/* No secret, no destination: nothing is sent. */
		assert_int_equal(run_hook(fx, name, NULL, alert), 2);
		assert_int_equal(fx->nreqs, 0);
		/* Input that is not an alert. */
		assert_int_equal(
		    run_hook(fx, name, hook_cases[i].args, "not json"), 2);
		assert_int_equal(fx->nreqs, 0);
	}
	free(alert);
}

/* slack: the title, escaped for mrkdwn, links to the story. */
static void
test_hooks_slack(void **state)
{
	struct fixture *fx = *state;
	const struct request *rq;
	const char *text, *link, *snippet, *context;
	char *alert = hostile_alert(), *title, *url, *want;
	json_t *o;

	run_case_want(fx, &hook_cases[0], NULL, alert, fx->url, 0);
	rq = one_request(fx, "POST", TEST_SLACK_PATH);
	o = request_json(rq);
	unpack(o, "{s:s, s:[{s:{s:s}}, {s:{s:s}}, {s:[{s:s}]}]}", "text", &text,
	    "blocks", "text", "text", &link, "text", "text", &snippet,
	    "elements", "text", &context);
	title = escape(TEST_TITLE, "&<>");
	url = escape(TEST_URL, "&<>");
	assert_true(asprintf(&want, "<%s|%s>", url, title) > 0);
	assert_string_equal(link, want);
	free(want);
	assert_true(asprintf(&want, "[" TEST_WATCHLIST "] %s", title) > 0);
	assert_string_equal(text, want);
	free(want);
	want = escape(TEST_SNIPPET, "&<>");
	assert_string_equal(snippet, want);
	assert_contains(context, "watchlist *" TEST_WATCHLIST "*");
	assert_contains(context, "+2 other sources");
	free(want);
	free(title);
	free(url);
	json_decref(o);
	free(alert);
}

/* discord: an embed with the title and link as they are; no pings. */
static void
test_hooks_discord(void **state)
{
	struct fixture *fx = *state;
	const struct request *rq;
	const char *content, *title, *url, *description, *footer;
	json_t *o, *parse, *fields;
	char *alert = hostile_alert();

	run_case_want(fx, &hook_cases[1], NULL, alert, fx->url, 0);
	rq = one_request(fx, "POST", TEST_DISCORD_PATH);
	o = request_json(rq);
	unpack(o, "{s:s, s:{s:o}, s:[{s:s, s:s, s:s, s:o, s:{s:s}}]}",
	    "content", &content, "allowed_mentions", "parse", &parse, "embeds",
	    "title", &title, "url", &url, "description", &description, "fields",
	    &fields, "footer", "text", &footer);
	assert_string_equal(title, TEST_TITLE);
	assert_string_equal(url, TEST_URL);
	assert_string_equal(description, TEST_SNIPPET_MD);
	assert_true(json_is_array(parse) && json_array_size(parse) == 0);
	assert_contains(content, TEST_WATCHLIST);
	assert_true(json_mentions(fields, TEST_WATCHLIST));
	assert_true(json_mentions(fields, "wire"));
	assert_contains(footer, TEST_ALERT_ID);
	json_decref(o);
	free(alert);
}

/* discord: texts are cut to Discord's limits, in UTF-16 units. */
static void
test_hooks_discord_limits(void **state)
{
	struct fixture *fx = *state;
	const char *content, *title, *description;
	char *long_title, *long_snippet, *alert;
	json_t *o;
	size_t n = 0;

	/* "a🚀" is 3 UTF-16 units. */
	assert_non_null(long_title = malloc(3000 * 5 + 1));
	for (int i = 0; i < 3000; i++, n += 5)
		memcpy(long_title + n, "a\xf0\x9f\x9a\x80", 5);
	long_title[n] = '\0';
	assert_non_null(long_snippet = malloc(6000 + 1));
	memset(long_snippet, 'x', 6000);
	long_snippet[6000] = '\0';
	alert = alert_text(TEST_ALERT_ID, long_title, TEST_URL, long_snippet);
	run_case_want(fx, &hook_cases[1], NULL, alert, fx->url, 0);
	o = request_json(one_request(fx, "POST", TEST_DISCORD_PATH));
	unpack(o, "{s:s, s:[{s:s, s:s}]}", "content", &content, "embeds",
	    "title", &title, "description", &description);
	assert_true(utf16_len(content) <= 2000);
	assert_true(utf16_len(title) <= 256 && utf16_len(title) >= 250);
	assert_true(utf16_len(description) <= 4096);
	assert_true(utf16_len(description) >= 4090);
	assert_int_equal(strncmp(title, long_title, 100), 0);
	json_decref(o);
	free(alert);
	free(long_title);
	free(long_snippet);
}

/* matrix: PUT with the token, txnId = alert_id, HTML escaped. */
static void
test_hooks_matrix(void **state)
{
	struct fixture *fx = *state;
	const char *msgtype, *format, *body, *html;
	json_t *o, *mentions;
	char *alert = hostile_alert(), *title, *url, *want;

	run_case_want(fx, &hook_cases[2], NULL, alert, fx->url, 0);
	o = authorized_json(fx, "PUT",
	    TEST_ROOM_PATH "/send/m.room.message/" TEST_ALERT_ID,
	    "Bearer " TEST_MATRIX_TOKEN);
	unpack(o, "{s:s, s:s, s:s, s:s, s:o}", "msgtype", &msgtype, "format",
	    &format, "body", &body, "formatted_body", &html, "m.mentions",
	    &mentions);
	assert_string_equal(msgtype, "m.text");
	assert_string_equal(format, "org.matrix.custom.html");
	assert_true(
	    json_is_object(mentions) && json_object_size(mentions) == 0);
	assert_int_equal(strncmp(body, TEST_TITLE "\n" TEST_URL "\n",
			     strlen(TEST_TITLE) + 1 + strlen(TEST_URL) + 1),
	    0);
	assert_contains(body, TEST_SNIPPET);
	title = escape(TEST_TITLE, "&<>\"'\n");
	url = escape(TEST_URL, "&<>\"'");
	assert_true(asprintf(&want, "<a href=\"%s\">%s</a>", url, title) > 0);
	assert_contains(html, want);
	free(want);
	want = escape(TEST_SNIPPET, "&<>\"'\n");
	assert_contains(html, want);
	free(want);
	free(title);
	free(url);
	json_decref(o);
	free(alert);
}

/* matrix: a retry PUTs to the same path; a digest's path is its own. */
static void
test_hooks_matrix_txn_stable(void **state)
{
	struct fixture *fx = *state;
	char *alert = hostile_alert(), *digest = digest_text(), *first;

	fx->status = 500;
	run_case_want(fx, &hook_cases[2], NULL, alert, fx->url, 75);
	assert_non_null(first = strdup(fx->reqs[0].uri));
	fx->status = 200;
	run_case_want(fx, &hook_cases[2], NULL, alert, fx->url, 0);
	one_request(fx, "PUT", first);
	assert_string_equal(
	    first, TEST_ROOM_PATH "/send/m.room.message/" TEST_ALERT_ID);
	free(first);

	run_case_want(fx, &hook_cases[2], NULL, digest, fx->url, 0);
	assert_int_equal(fx->nreqs, 1);
	assert_non_null(first = strdup(fx->reqs[0].uri));
	assert_contains(first, "/send/m.room.message/digest-");
	run_case_want(fx, &hook_cases[2], NULL, digest, fx->url, 0);
	one_request(fx, "PUT", first);
	free(first);
	free(digest);
	free(alert);
}

/* ntfy: the JSON publishing API, the title as it is, a click URL. */
static void
test_hooks_ntfy(void **state)
{
	struct fixture *fx = *state;
	const char *topic, *title, *message, *click;
	json_t *o, *tags;
	char *alert = hostile_alert();

	run_case_want(fx, &hook_cases[3], NULL, alert, fx->url, 0);
	o = authorized_json(fx, "POST", "/", "Bearer " TEST_NTFY_TOKEN);
	unpack(o, "{s:s, s:s, s:s, s:s, s:o}", "topic", &topic, "title", &title,
	    "message", &message, "click", &click, "tags", &tags);
	assert_string_equal(topic, TEST_TOPIC);
	assert_string_equal(title, TEST_TITLE);
	assert_string_equal(click, TEST_URL);
	assert_contains(message, TEST_SNIPPET);
	assert_contains(message, "+2 other sources");
	assert_true(json_mentions(tags, TEST_WATCHLIST));
	json_decref(o);
	free(alert);
}

/* telegram: sendMessage with HTML escaped text; token from systemd. */
static void
test_hooks_telegram(void **state)
{
	struct fixture *fx = *state;
	const struct request *rq;
	const char *chat, *text, *mode;
	const char *args[] = { "--api", "{url}/", "--chat", TEST_CHAT, NULL };
	char *alert = hostile_alert(), *title, *url, *want, creds[PATH_MAX];
	int preview;
	json_t *o;

	assert_true(asprintf(&want, "CREDENTIALS_DIRECTORY=%s", fx->dir) > 0);
	write_file(fx, "telegram-bot-token", TEST_TELEGRAM_TOKEN "\n", 0600);
	fx->extra_env = want;
	assert_int_equal(run_hook(fx, "telegram", args, alert), 0);
	fx->extra_env = NULL;
	free(want);
	rq = one_request(fx, "POST", "/bot" TEST_TELEGRAM_TOKEN "/sendMessage");
	o = request_json(rq);
	unpack(o, "{s:s, s:s, s:s, s:b}", "chat_id", &chat, "text", &text,
	    "parse_mode", &mode, "disable_web_page_preview", &preview);
	assert_string_equal(chat, TEST_CHAT);
	assert_string_equal(mode, "HTML");
	assert_false(preview);
	title = escape(TEST_TITLE, "&<>\"'");
	url = escape(TEST_URL, "&<>\"'");
	assert_true(asprintf(&want, "<a href=\"%s\">%s</a>", url, title) > 0);
	assert_contains(text, want);
	free(want);
	/* Telegram knows no &apos;. */
	want = escape(TEST_SNIPPET, "&<>\"'");
	assert_contains(text, want);
	assert_contains(text, "it&#39;s");
	free(want);
	free(title);
	free(url);
	json_decref(o);
	free(alert);
	path_in(fx, creds, sizeof creds, "telegram-bot-token");
	assert_int_equal(unlink(creds), 0);
}

/* The HMAC-SHA256 of input keyed by key, by `openssl dgst`; or NULL. */
static char *
openssl_hmac(struct fixture *fx, const char *key, const char *input)
{
	char openssl[PATH_MAX], *eq, *hex;
	char *argv[] = { openssl, "dgst", "-sha256", "-hmac", (char *)key,
		NULL };
	char *env[] = { NULL, NULL };
	int status;

	if (find_in_path("openssl", openssl, sizeof openssl) == -1)
		return NULL;
	assert_true(asprintf(&env[0], "PATH=%s", getenv("PATH")) > 0);
	status = run_proc(fx, argv, env, input);
	free(env[0]);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
	    (eq = strstr(fx->out, "= ")) == NULL)
		return NULL;
	assert_non_null(hex = strndup(eq + 2, strcspn(eq + 2, "\n")));
	return hex;
}

/*
 * webhook: the alert exactly as given, its id, and a signature that is
 * the HMAC-SHA256 of the body: known answers for a short and a long
 * (hashed) key, and openssl's answer for the hostile alert.
 */
static void
test_hooks_webhook(void **state)
{
	struct fixture *fx = *state;
	const struct request *rq;
	const char *args[] = { "--url", "{url}" TEST_WEBHOOK_PATH,
		"--secret-file", "{dir}/kat-key", NULL };
	char *alert = hostile_alert(), *hex, key[TEST_KAT_LONG_KEY_LEN + 1];

	run_case_want(fx, &hook_cases[5], NULL, alert, fx->url, 0);
	rq = one_request(fx, "POST", TEST_WEBHOOK_PATH);
	assert_string_equal(rq->body, alert);
	assert_int_equal(rq->body_len, strlen(alert));
	assert_non_null(rq->alert_id);
	assert_string_equal(rq->alert_id, TEST_ALERT_ID);
	assert_non_null(rq->event);
	assert_string_equal(rq->event, "alert");
	assert_non_null(rq->signature);
	if ((hex = openssl_hmac(fx, TEST_WEBHOOK_SECRET, alert)) != NULL) {
		assert_string_equal(rq->signature + strlen("sha256="), hex);
		free(hex);
	} else
		print_message("openssl is missing: signature checked by "
			      "known answers only\n");
	assert_int_equal(strncmp(rq->signature, "sha256=", 7), 0);

	write_file(fx, "kat-key", TEST_KAT_SHORT_KEY "\n", 0600);
	assert_int_equal(run_hook(fx, "webhook", args, TEST_KAT_BODY), 0);
	rq = one_request(fx, "POST", TEST_WEBHOOK_PATH);
	assert_string_equal(rq->body, TEST_KAT_BODY);
	assert_string_equal(rq->signature, "sha256=" TEST_KAT_SHORT);

	memset(key, 'k', TEST_KAT_LONG_KEY_LEN);
	key[TEST_KAT_LONG_KEY_LEN] = '\0';
	write_file(fx, "kat-key", key, 0600);
	assert_int_equal(run_hook(fx, "webhook", args, TEST_KAT_BODY), 0);
	rq = one_request(fx, "POST", TEST_WEBHOOK_PATH);
	assert_string_equal(rq->signature, "sha256=" TEST_KAT_LONG);
	free(alert);
}

/* The title the apprise hook makes of a story's: one line. Caller frees. */
static char *
apprise_title(const char *story_title)
{
	char *s;

	assert_true(asprintf(&s, "[" TEST_WATCHLIST "] %s", story_title) > 0);
	for (char *p = s; *p != '\0'; p++) {
		if (*p == '\n')
			*p = ' ';
	}
	return s;
}

/* A feed-health alert as feedwatchd makes it; caller frees. */
static char *
health_text(const char *state, const char *title, const char *summary)
{
	json_t *o;
	char *s;

	o = json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s}, s:s, s:i, s:{s:i, "
		      "s:s, s:s, s:s, s:{s:s, s:s}, s:s, s:[]}, s:[], s:s}",
	    "alert_id", TEST_ALERT_ID, "watchlist", "feed-health", "kind",
	    "feed-health", "state", state, "feed", "name", "wire", "url",
	    "https://news.example.org/feed", "error", "HTTP status 503",
	    "http_status", 503, "story", "id", 0, "title", title, "url",
	    "https://news.example.org/feed", "published",
	    "2024-05-01T10:00:00Z", "feed", "name", "wire", "url",
	    "https://news.example.org/feed", "summary", summary, "sources",
	    "matched", "snippet", summary);
	assert_non_null(o);
	assert_non_null(s = json_dumps(o, JSON_COMPACT));
	json_decref(o);
	return s;
}

/* Run apprise with args and input, which must deliver one notification. */
static json_t *
apprise_notification(
    struct fixture *fx, const char *const *args, const char *input)
{
	int rc = run_hook(fx, "apprise", args, input);

	if (rc != 0)
		fail_msg("apprise: exit %d; output:\n%s", rc, fx->out);
	return request_json(one_request(fx, "POST", TEST_APPRISE_PATH));
}

/*
 * apprise, through Apprise's json:// scheme ({"version", "title",
 * "message", "type"}): the title on one line, the snippet, link, feed
 * and sources in the message, all as they were; feed text in the
 * message keeps its line breaks. A feed-health alert's type says how
 * the feed is.
 */
static void
test_hooks_apprise(void **state)
{
	struct fixture *fx = *state;
	const char *args[] = { "--url", NULL, NULL };
	const char *version, *title, *message, *type;
	char *alert = hostile_alert(), *url, *want;
	json_t *o;

	url = apprise_url(fx->url, TEST_APPRISE_PATH);
	args[1] = url;
	o = apprise_notification(fx, args, alert);
	unpack(o, "{s:s, s:s, s:s, s:s}", "version", &version, "title", &title,
	    "message", &message, "type", &type);
	assert_string_equal(version, "1.0");
	assert_string_equal(type, "info");
	want = apprise_title(TEST_TITLE);
	assert_string_equal(title, want);
	free(want);
	assert_contains(message,
	    TEST_SNIPPET "\n\n" TEST_URL "\n\nwatchlist " TEST_WATCHLIST
			 " \xc2\xb7 feed wire \xc2\xb7 2024-05-01T10:00:00Z");
	assert_contains(message,
	    "Also carried by:\n\xe2\x80\xa2 nbc-world: https://nbc.example/a\n"
	    "\xe2\x80\xa2 bbc: https://bbc.example/b");
	json_decref(o);
	free(alert);

	/* The hostile title as the snippet: in the message, line and all. */
	alert = alert_text(TEST_ALERT_ID, TEST_TITLE, TEST_URL, TEST_TITLE);
	o = apprise_notification(fx, args, alert);
	unpack(o, "{s:s}", "message", &message);
	assert_int_equal(
	    strncmp(message, TEST_TITLE "\n\n", strlen(TEST_TITLE "\n\n")), 0);
	json_decref(o);
	free(alert);

	alert = health_text("failing", "Feed wire has failed for 25 h",
	    "https://news.example.org/feed has failed 7 times in a row");
	o = apprise_notification(fx, args, alert);
	unpack(o, "{s:s, s:s, s:s}", "title", &title, "message", &message,
	    "type", &type);
	assert_string_equal(
	    title, "[feed-health] Feed wire has failed for 25 h");
	assert_contains(message, "has failed 7 times in a row");
	assert_string_equal(type, "warning");
	json_decref(o);
	free(alert);
	alert = health_text("recovered", "Feed wire recovered", "Polled.");
	o = apprise_notification(fx, args, alert);
	unpack(o, "{s:s}", "type", &type);
	assert_string_equal(type, "success");
	json_decref(o);
	free(alert);
	free(url);
}

/*
 * apprise: every URL of a file (comments, blank lines and blanks around
 * a URL skipped) and of a credential is notified; the default
 * credential serves when no URL is given. A URL Apprise cannot load, or
 * a line that is not a URL, stops the hook with 2 before anything is
 * sent, and the message does not show the URL.
 */
static void
test_hooks_apprise_urls(void **state)
{
	struct fixture *fx = *state;
	const char *two[] = { "--url-file", "{dir}/list", "--credential",
		"more", NULL };
	const char *bad[] = { "--url-file", "{dir}/bad", NULL };
	const char *include[] = { "--url-file", "{dir}/include", NULL };
	const char *unknown[] = { "--url", "tgram://s3cr3t-bot", NULL };
	const char *const *refused[] = { bad, include, unknown };
	char *alert = hostile_alert(), *a, *b, *text, *env;
	int seen_a = 0, seen_b = 0;

	a = apprise_url(fx->url, "/a");
	b = apprise_url(fx->url, "/b");
	assert_true(
	    asprintf(&text, "# the desk\n\n  %s \t\n; json://x/y\n", a) > 0);
	write_file(fx, "list", text, 0600);
	free(text);
	assert_true(asprintf(&text, "%s\r\n", b) > 0);
	write_file(fx, "more", text, 0600);
	free(text);
	assert_true(asprintf(&env, "CREDENTIALS_DIRECTORY=%s", fx->dir) > 0);
	fx->extra_env = env;
	assert_int_equal(run_hook(fx, "apprise", two, alert), 0);
	assert_int_equal(fx->nreqs, 2);
	for (size_t i = 0; i < fx->nreqs; i++) {
		seen_a += strcmp(fx->reqs[i].uri, "/a") == 0;
		seen_b += strcmp(fx->reqs[i].uri, "/b") == 0;
	}
	assert_true(seen_a == 1 && seen_b == 1);
	/* apprise-urls, from write_secrets(). */
	json_decref(apprise_notification(fx, NULL, alert));
	fx->extra_env = NULL;
	free(env);

	assert_true(asprintf(&text, "%s\ntgram://s3cr3t-bot\n", a) > 0);
	write_file(fx, "bad", text, 0600);
	free(text);
	assert_true(asprintf(&text, "include %s\n", a) > 0);
	write_file(fx, "include", text, 0600);
	free(text);
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		assert_int_equal(run_hook(fx, "apprise", refused[i], alert), 2);
		assert_int_equal(fx->nreqs, 0);
		if (strstr(fx->out, "s3cr3t") != NULL)
			fail_msg("a URL is in the output:\n%s", fx->out);
	}
	free(a);
	free(b);
	free(alert);
}

/*
 * Exit 0 on 200; 75 on 500, 429 and a refused connection; 1 on 404 and
 * 400: for every hook (Apprise words a 400 "Unsupported Parameters",
 * which the apprise hook took for a URL it could not load, exit 2). 75
 * on a timeout, for three of them.
 */
static void
test_hooks_exit_codes(void **state)
{
	struct fixture *fx = *state;
	static const struct {
		int status;
		int want;
	} answers[] = { { 200, 0 }, { 500, 75 }, { 429, 75 }, { 400, 1 },
		{ 404, 1 } };
	/* Long enough for the request to reach a silent receiver even on
	 * a loaded machine (Apprise is Python, and starts slowly). */
	const char *quick[] = { "--timeout", "3", NULL };
	char *alert = hostile_alert();

	for (size_t i = 0; i < NCASES; i++) {
		const struct hook_case *hc = &hook_cases[i];

		for (size_t j = 0; j < sizeof answers / sizeof answers[0];
		     j++) {
			fx->status = answers[j].status;
			run_case_want(
			    fx, hc, NULL, alert, fx->url, answers[j].want);
			assert_int_equal(fx->nreqs, 1);
		}
		/* Apprise's own words, passed on. */
		assert_contains(fx->out,
		    strcmp(hc->name, "apprise") == 0 ? "error=404" :
						       "HTTP 404");
		/*
		 * A second each: for a POST and a PUT, send() being common,
		 * and for Apprise.
		 */
		if (strcmp(hc->name, "slack") != 0 &&
		    strcmp(hc->name, "matrix") != 0 &&
		    strcmp(hc->name, "apprise") != 0)
			continue;
		fx->is_silent = 1;
		run_case_want(fx, hc, quick, alert, fx->url, 75);
		assert_int_equal(fx->nreqs, 1);
		assert_contains(fx->out, "imed out");
		fx->is_silent = 0;
	}
	fx->status = 200;
	write_secrets(fx, fx->closed_url);
	for (size_t i = 0; i < NCASES; i++) {
		run_case_want(
		    fx, &hook_cases[i], NULL, alert, fx->closed_url, 75);
		assert_int_equal(fx->nreqs, 0);
	}
	free(alert);
}

/* A digest is one message that names each of its stories. */
static void
test_hooks_digest(void **state)
{
	struct fixture *fx = *state;
	char *digest = digest_text();
	json_t *o;

	for (size_t i = 0; i < NCASES; i++) {
		run_case_want(fx, &hook_cases[i], NULL, digest, fx->url, 0);
		if (fx->nreqs != 1)
			fail_msg(
			    "%s: %zu requests", hook_cases[i].name, fx->nreqs);
		o = request_json(&fx->reqs[0]);
		if (!json_mentions(o, "First story") ||
		    !json_mentions(o, "Second story") ||
		    !json_mentions(o, "https://example.org/2"))
			fail_msg("%s: digest body:\n%s", hook_cases[i].name,
			    fx->reqs[0].body);
		json_decref(o);
		if (strcmp(hook_cases[i].name, "webhook") != 0)
			continue;
		assert_string_equal(fx->reqs[0].body, digest);
		assert_string_equal(fx->reqs[0].event, "digest");
		assert_null(fx->reqs[0].alert_id);
	}
	free(digest);
}

/* A digest of n alerts with long titles, links and feed names. */
static char *
big_digest_text(int n)
{
	json_t *o, *alerts = json_array(), *a;
	char id[33], *title, *url, *feed, *text;
	size_t len = 0;

	/* 300 of "é🚀": 900 UTF-16 units, 1800 bytes. */
	assert_non_null(title = malloc(300 * 6 + 1));
	for (int i = 0; i < 300; i++, len += 6)
		memcpy(title + len, "\xc3\xa9\xf0\x9f\x9a\x80", 6);
	title[len] = '\0';
	assert_non_null(url = malloc(20 + 400 + 1));
	memcpy(url, "https://example.org/", 20);
	memset(url + 20, 'u', 400);
	url[420] = '\0';
	assert_non_null(feed = malloc(101));
	memset(feed, 'f', 100);
	feed[100] = '\0';
	for (int i = 0; i < n; i++) {
		snprintf(id, sizeof id, "%032d", i);
		text = alert_text(id, title, url, "a snippet");
		assert_non_null(a = json_loads(text, 0, NULL));
		json_object_set_new(
		    json_object_get(json_object_get(a, "story"), "feed"),
		    "name", json_string(feed));
		json_array_append_new(alerts, a);
		free(text);
	}
	o = json_pack("{s:s, s:s, s:s, s:[s], s:i, s:s, s:s, s:o}", "kind",
	    "digest", "hook", "chat", "watchlist", TEST_WATCHLIST, "watchlists",
	    TEST_WATCHLIST, "count", n, "period_start", "2024-05-01T09:00:00Z",
	    "period_end", "2024-05-01T10:00:00Z", "alerts", alerts);
	assert_non_null(o);
	assert_non_null(text = json_dumps(o, JSON_COMPACT));
	json_decref(o);
	free(title);
	free(url);
	free(feed);
	return text;
}

/* Characters of HTML as shown: tags out, an entity is one. In UTF-16. */
static size_t
html_shown_len(const char *s)
{
	size_t n = 0;
	const char *end;

	while (*s != '\0') {
		if (*s == '<' && (end = strchr(s, '>')) != NULL) {
			s = end + 1;
			continue;
		}
		if (*s == '&' && (end = strchr(s, ';')) != NULL &&
		    end - s < 10) {
			n++;
			s = end + 1;
			continue;
		}
		if ((*(const unsigned char *)s & 0xc0) != 0x80)
			n += *(const unsigned char *)s >= 0xf0 ? 2 : 1;
		s++;
	}
	return n;
}

/* Discord: what its 6000-unit limit over a message's embeds counts. */
static size_t
discord_embeds_len(json_t *embeds)
{
	json_t *e, *f;
	size_t i, j, n = 0;
	const char *v;

	json_array_foreach(embeds, i, e)
	{
		if ((v = json_string_value(json_object_get(e, "title"))))
			n += utf16_len(v);
		if ((v = json_string_value(json_object_get(e, "description"))))
			n += utf16_len(v);
		if ((v = json_string_value(json_object_get(
			 json_object_get(e, "footer"), "text"))))
			n += utf16_len(v);
		json_array_foreach(json_object_get(e, "fields"), j, f)
		{
			n += utf16_len(
			    json_string_value(json_object_get(f, "name")));
			n += utf16_len(
			    json_string_value(json_object_get(f, "value")));
		}
	}
	return n;
}

/*
 * A digest of 100 alerts with long titles and links is still one
 * message each service takes: within its limits of size and count.
 */
/* No block text longer than the 3,000 UTF-16 units Slack takes. */
static void
slack_check_sections(json_t *blocks)
{
	const char *text;
	json_t *b;
	size_t i;

	json_array_foreach(blocks, i, b)
	{
		text = json_string_value(
		    json_object_get(json_object_get(b, "text"), "text"));
		if (text != NULL && utf16_len(text) > 3000)
			fail_msg("slack: block %zu: %zu", i, utf16_len(text));
	}
}

/*
 * A story whose link is 10,000 characters long (feeds have them) and
 * whose snippet is 3,000 ampersands: Slack refuses a section over 3,000
 * characters, ntfy a body over 8 KB, Discord an embed link over 2,048,
 * each time, so that every retry failed. Tried: the message stays
 * within each limit (Discord's embed keeps its title, unlinked).
 */
static void
test_hooks_long_link(void **state)
{
	struct fixture *fx = *state;
	char *url = malloc(10001), *snippet = malloc(3001), *alert;
	const struct request *rq;
	json_t *o, *blocks;

	assert_non_null(url);
	assert_non_null(snippet);
	memcpy(url, "https://news.example.org/", 25);
	memset(url + 25, 'a', 10000 - 25);
	url[10000] = '\0';
	memset(snippet, '&', 3000);
	snippet[3000] = '\0';
	alert = alert_text(TEST_ALERT_ID, "Long link", url, snippet);
	for (size_t c = 0; c < NCASES; c++) {
		if (strcmp(hook_cases[c].name, "slack") != 0 &&
		    strcmp(hook_cases[c].name, "ntfy") != 0 &&
		    strcmp(hook_cases[c].name, "discord") != 0)
			continue;
		run_case_want(fx, &hook_cases[c], NULL, alert, fx->url, 0);
		assert_int_equal(fx->nreqs, 1);
		rq = &fx->reqs[0];
		if (strcmp(hook_cases[c].name, "discord") == 0) {
			/* Discord refuses an embed link over 2048. */
			o = request_json(rq);
			unpack(o, "{s:o}", "embeds", &blocks);
			assert_null(
			    json_object_get(json_array_get(blocks, 0), "url"));
			assert_string_equal(
			    json_string_value(json_object_get(
				json_array_get(blocks, 0), "title")),
			    "Long link");
			json_decref(o);
			continue;
		}
		if (strcmp(hook_cases[c].name, "ntfy") == 0) {
			if (rq->body_len > 8192)
				fail_msg("ntfy: %zu bytes", rq->body_len);
			continue;
		}
		o = request_json(rq);
		unpack(o, "{s:o}", "blocks", &blocks);
		slack_check_sections(blocks);
		json_decref(o);
	}
	free(alert);
	free(snippet);
	free(url);
}

static void
test_hooks_digest_limits(void **state)
{
	struct fixture *fx = *state;
	char *digest = big_digest_text(100);
	const struct request *rq;
	const char *text, *message;
	json_t *o, *blocks, *embeds;

	for (size_t c = 0; c < NCASES; c++) {
		run_case_want(fx, &hook_cases[c], NULL, digest, fx->url, 0);
		if (fx->nreqs != 1)
			fail_msg(
			    "%s: %zu requests", hook_cases[c].name, fx->nreqs);
		rq = &fx->reqs[0];
		o = request_json(rq);
		if (strcmp(hook_cases[c].name, "slack") == 0) {
			unpack(
			    o, "{s:s, s:o}", "text", &text, "blocks", &blocks);
			assert_true(json_array_size(blocks) <= 50);
			slack_check_sections(blocks);
		} else if (strcmp(hook_cases[c].name, "discord") == 0) {
			unpack(o, "{s:s, s:o}", "content", &text, "embeds",
			    &embeds);
			assert_true(utf16_len(text) <= 2000);
			assert_true(json_array_size(embeds) <= 10);
			if (discord_embeds_len(embeds) > 6000)
				fail_msg("discord: embeds of %zu",
				    discord_embeds_len(embeds));
		} else if (strcmp(hook_cases[c].name, "matrix") == 0) {
			if (rq->body_len > 60000)
				fail_msg("matrix: %zu bytes", rq->body_len);
		} else if (strcmp(hook_cases[c].name, "telegram") == 0) {
			unpack(o, "{s:s}", "text", &text);
			if (html_shown_len(text) > 4096)
				fail_msg("telegram: %zu units",
				    html_shown_len(text));
		} else if (strcmp(hook_cases[c].name, "ntfy") == 0) {
			unpack(o, "{s:s}", "message", &message);
			assert_true(strlen(message) <= 4096);
		} else if (strcmp(hook_cases[c].name, "apprise") == 0) {
			/* 50 listed; Apprise's overflow= does the rest. */
			unpack(o, "{s:s, s:s}", "title", &text, "message",
			    &message);
			assert_string_equal(
			    text, "[" TEST_WATCHLIST "] 100 new stories");
			assert_contains(message, "\xe2\x80\xa6 and 50 more");
		}
		json_decref(o);
	}
	free(digest);
}

/*
 * No secret and no feed text is ever in an argv: curl, jq and apprise
 * are wrapped to log theirs. Apprise takes a title only as an argument:
 * the title alone is in its argv, as one argument.
 */
static void
test_hooks_secrets_not_in_argv(void **state)
{
	struct fixture *fx = *state;
	static const char *tools[] = { "curl", "jq", "apprise" };
	char bin[PATH_MAX], log[PATH_MAX], name[32], real[PATH_MAX];
	char *text, *alert = hostile_alert(), *argvs, *title;

	path_in(fx, bin, sizeof bin, "bin");
	assert_int_equal(mkdir(bin, 0755), 0);
	for (size_t i = 0; i < sizeof tools / sizeof tools[0]; i++) {
		snprintf(name, sizeof name, "%s.log",
		    strcmp(tools[i], "apprise") == 0 ? "apprise" : "argv");
		path_in(fx, log, sizeof log, name);
		assert_int_equal(find_in_path(tools[i], real, sizeof real), 0);
		assert_true(asprintf(&text,
				"#!/bin/sh\nprintf '%%s\\n' \"$@\" >>'%s'\n"
				"exec '%s' \"$@\"\n",
				log, real) > 0);
		snprintf(name, sizeof name, "bin/%s", tools[i]);
		write_file(fx, name, text, 0755);
		free(text);
	}
	fx->path_prefix = bin;
	for (size_t i = 0; i < NCASES; i++)
		run_case_want(fx, &hook_cases[i], NULL, alert, fx->url, 0);
	fx->path_prefix = NULL;
	path_in(fx, log, sizeof log, "argv.log");
	assert_non_null(argvs = testutil_read_file(log));
	assert_contains(argvs, "--config");
	if (strstr(argvs, "s3cr3t") != NULL)
		fail_msg("a secret is in an argv:\n%s", argvs);
	if (strstr(argvs, "pwned") != NULL || strstr(argvs, "Geneva") != NULL)
		fail_msg("feed text is in an argv:\n%s", argvs);
	free(argvs);
	path_in(fx, log, sizeof log, "apprise.log");
	assert_non_null(argvs = testutil_read_file(log));
	if (strstr(argvs, "s3cr3t") != NULL)
		fail_msg("a secret is in apprise's argv:\n%s", argvs);
	if (strstr(argvs, "Geneva") != NULL)
		fail_msg("the body is in apprise's argv:\n%s", argvs);
	title = apprise_title(TEST_TITLE);
	assert_true(asprintf(&text, "\n--title=%s\n", title) > 0);
	assert_contains(argvs, text);
	free(text);
	free(title);
	free(argvs);
	free(alert);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_hooks_usage, hooks_setup, hooks_teardown),
		cmocka_unit_test_setup_teardown(
		    test_hooks_slack, hooks_setup, hooks_teardown),
		cmocka_unit_test_setup_teardown(
		    test_hooks_discord, hooks_setup, hooks_teardown),
		cmocka_unit_test_setup_teardown(
		    test_hooks_discord_limits, hooks_setup, hooks_teardown),
		cmocka_unit_test_setup_teardown(
		    test_hooks_matrix, hooks_setup, hooks_teardown),
		cmocka_unit_test_setup_teardown(
		    test_hooks_matrix_txn_stable, hooks_setup, hooks_teardown),
		cmocka_unit_test_setup_teardown(
		    test_hooks_ntfy, hooks_setup, hooks_teardown),
		cmocka_unit_test_setup_teardown(
		    test_hooks_telegram, hooks_setup, hooks_teardown),
		cmocka_unit_test_setup_teardown(
		    test_hooks_webhook, hooks_setup, hooks_teardown),
		cmocka_unit_test_setup_teardown(
		    test_hooks_apprise, hooks_setup, hooks_teardown),
		cmocka_unit_test_setup_teardown(
		    test_hooks_apprise_urls, hooks_setup, hooks_teardown),
		cmocka_unit_test_setup_teardown(
		    test_hooks_exit_codes, hooks_setup, hooks_teardown),
		cmocka_unit_test_setup_teardown(
		    test_hooks_digest, hooks_setup, hooks_teardown),
		cmocka_unit_test_setup_teardown(
		    test_hooks_digest_limits, hooks_setup, hooks_teardown),
		cmocka_unit_test_setup_teardown(
		    test_hooks_long_link, hooks_setup, hooks_teardown),
		cmocka_unit_test_setup_teardown(test_hooks_secrets_not_in_argv,
		    hooks_setup, hooks_teardown),
	};

	if (argc != 2) {
		fprintf(stderr, "usage: %s HOOKS_DIR\n", argv[0]);
		return 2;
	}
	hooks_dir = argv[1];
	/* A hook that exits before reading its stdin must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
