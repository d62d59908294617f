#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <dirent.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
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
#include <sqlite3.h>

#include "date.h"
#include "testutil.h"

/*
 * feedwatchd --once against feeds served by evhttp from the test's own
 * event_base, with a hook script that records each alert it is given.
 */

#define TEST_WATCHDOG 60 /* seconds before a hung daemon is killed */
#define TEST_MAX_ALERTS 16
#define TEST_PHRASE "track two diplomacy"
#define TEST_QUERY_TERM "\"" TEST_PHRASE "\""

/* What the fixture server answers, by path. */
struct route {
	const char *path;
	int status;
	const char *type; /* Content-Type */
	const char *body;
};

enum route_id { ROUTE_RSS, ROUTE_ATOM, ROUTE_404, ROUTE_NOTXML, ROUTE_COUNT };

static const struct route routes[ROUTE_COUNT] = {
	[ROUTE_RSS] = { "/rss.xml", 200, "application/rss+xml; charset=utf-8",
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<rss version=\"2.0\">\n"
	    "<channel>\n"
	    "<title>Fixture wire</title>\n"
	    "<link>https://wire.example.org/</link>\n"
	    "<description>Three items, one that must match</description>\n"
	    "<item>\n"
	    "<title>Envoys meet quietly in Geneva</title>\n"
	    "<link>https://wire.example.org/2023/07/09/geneva-envoys</link>\n"
	    "<guid isPermaLink=\"false\">wire-1001</guid>\n"
	    "<pubDate>Sun, 09 Jul 2023 10:02:00 -0400</pubDate>\n"
	    "<description>Former officials held what insiders call "
	    "\xe2\x80\x9cTrack-Two diplomacy\xe2\x80\x9d with scholars close "
	    "to the Kremlin.</description>\n"
	    "</item>\n"
	    "<item>\n"
	    "<title>A new doctrine for the region</title>\n"
	    "<link>https://wire.example.org/2023/07/09/doctrine</link>\n"
	    "<guid isPermaLink=\"false\">wire-1002</guid>\n"
	    "<pubDate>Sun, 09 Jul 2023 08:00:00 -0400</pubDate>\n"
	    "<description>Analysts describe a track twofold diplomacy built "
	    "on trade and defence.</description>\n"
	    "</item>\n"
	    "<item>\n"
	    "<title>Heat wave grips the coast</title>\n"
	    "<link>https://wire.example.org/2023/07/08/heat</link>\n"
	    "<guid isPermaLink=\"false\">wire-1003</guid>\n"
	    "<pubDate>Sat, 08 Jul 2023 18:40:00 +0000</pubDate>\n"
	    "<description>Cooling centres open in six cities.</description>\n"
	    "</item>\n"
	    "</channel>\n"
	    "</rss>\n" },
	[ROUTE_ATOM] = { "/atom.xml", 200, "application/atom+xml",
	    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	    "<feed xmlns=\"http://www.w3.org/2005/Atom\">\n"
	    "<title>Fixture desk</title>\n"
	    "<link rel=\"alternate\" href=\"/\"/>\n"
	    "<id>tag:desk.example.org,2023:feed</id>\n"
	    "<updated>2023-07-09T18:00:00+02:00</updated>\n"
	    "<entry>\n"
	    "<title>Summit delegates compare notes</title>\n"
	    "<link rel=\"alternate\" href=\"/desk/2023/07/09/summit\"/>\n"
	    "<id>tag:desk.example.org,2023:summit</id>\n"
	    "<published>2023-07-09T17:30:00+02:00</published>\n"
	    "<updated>2023-07-09T17:45:00+02:00</updated>\n"
	    "<summary type=\"html\">&lt;p&gt;Delegates discussed "
	    "&lt;em&gt;track two diplomacy&lt;/em&gt; at the "
	    "summit.&lt;/p&gt;</summary>\n"
	    "</entry>\n"
	    "<entry>\n"
	    "<title>Harbour reopens after repairs</title>\n"
	    "<link rel=\"alternate\" href=\"/desk/2023/07/09/harbour\"/>\n"
	    "<id>tag:desk.example.org,2023:harbour</id>\n"
	    "<published>2023-07-09T12:00:00Z</published>\n"
	    "<summary>Ferries run again from Monday.</summary>\n"
	    "</entry>\n"
	    "</feed>\n" },
	[ROUTE_404] = { "/404", 404, "text/html", "<p>No such feed.</p>\n" },
	[ROUTE_NOTXML] = { "/notxml", 200, "text/plain",
	    "this is not xml at all\n" },
};

/* An alert the fixture feeds must produce, exactly once. */
struct expect_alert {
	const char *feed;
	enum route_id route; /* the feed's URL */
	const char *title;
	const char *url; /* "/..." is on the fixture server */
	const char *published;
	const char *hit; /* the snippet must hold «hit» */
};

static const struct expect_alert expect_alerts[] = {
	{ "rss", ROUTE_RSS, "Envoys meet quietly in Geneva",
	    "https://wire.example.org/2023/07/09/geneva-envoys",
	    "2023-07-09T14:02:00Z", "Track-Two diplomacy" },
	{ "atom", ROUTE_ATOM, "Summit delegates compare notes",
	    "/desk/2023/07/09/summit", "2023-07-09T15:30:00Z",
	    "track two diplomacy" },
};

#define NEXPECT (sizeof expect_alerts / sizeof expect_alerts[0])

/* One bad feed: its name, URL and what its stderr line must say. */
struct bad_feed {
	const char *name;
	const char *path; /* on the fixture server, or NULL */
	const char *url;  /* when path is NULL */
	const char *says;
};

static const struct bad_feed bad_feeds[] = {
	{ "missing", "/404", NULL, "404" },
	{ "garbage", "/notxml", NULL, "not a feed" },
	{ "closed", NULL, "http://127.0.0.1:1/feed.xml", "127.0.0.1:1" },
};

struct fixture {
	char dir[PATH_MAX];
	char conf[PATH_MAX];
	struct event_base *base;
	struct evhttp *http;
	int port;
	int hits[ROUTE_COUNT]; /* requests served, by route */
	int runs;	       /* daemon runs, for stderr.N */
	long maxrss;	       /* KiB, of the last daemon run */
};

/* A run of the daemon, watched from the fixture's loop. */
struct run {
	struct fixture *fx;
	struct testutil_proc proc;
	int is_once; /* --once; else sig once until says so */
	int is_termed;
	/* Without --once: called every 50 ms instead; it signals. */
	void (*step)(struct run *);
	void *arg;
	int (*until)(const struct fixture *);
	int sig;
};

static int count_deliveries(const struct fixture *);

/* The alerts the hook recorded in $DIR/out. */
struct recorded {
	char *ids[TEST_MAX_ALERTS];
	size_t n;
};

static const char *daemon_path;
/* More environment for the next daemon run, NULL-terminated. */
static const char *extra_env[4];

static void
server_cb(struct evhttp_request *req, void *arg)
{
	struct fixture *fx = arg;
	const char *path;
	const struct route *r;
	struct evbuffer *buf;

	path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	for (size_t i = 0; path != NULL && i < ROUTE_COUNT; i++) {
		r = &routes[i];
		if (strcmp(path, r->path) != 0)
			continue;
		fx->hits[i]++;
		buf = evbuffer_new();
		assert_non_null(buf);
		evbuffer_add(buf, r->body, strlen(r->body));
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Content-Type", r->type);
		evhttp_send_reply(
		    req, r->status, r->status == 200 ? "OK" : "Not Found", buf);
		evbuffer_free(buf);
		return;
	}
	evhttp_send_error(req, HTTP_NOTFOUND, NULL);
}

/* Serve routes on 127.0.0.1, at a port of the system's choice. */
static void
server_start(struct fixture *fx)
{
	assert_non_null(fx->base = event_base_new());
	fx->http = testutil_http_start(fx->base, server_cb, fx, &fx->port);
}

static void
path_in(const struct fixture *fx, char *buf, size_t len, const char *name)
{
	testutil_path(buf, len, fx->dir, name);
}

/*
 * Write the hook script name into the fixture's directory, executable:
 * "#!/bin/sh", d set to the directory, then body.
 */
static void
write_script(const struct fixture *fx, const char *name, const char *body)
{
	char path[PATH_MAX], *text;

	assert_true(
	    asprintf(&text, "#!/bin/sh\nd='%s'\n%s", fx->dir, body) > 0);
	path_in(fx, path, sizeof path, name);
	testutil_write_file(path, text, 0755);
	free(text);
}

/*
 * The hook: records stdin and FEEDWATCH_* to $DIR/out/<alert id>.*, and
 * a line per delivery in $DIR/deliveries; with $DIR/fail it exits with
 * the status written in that file (1 when empty) before it has read or
 * written anything.
 */
static void
write_hook(const struct fixture *fx)
{
	write_script(fx, "hook.sh",
	    "if [ -e \"$d/fail\" ]; then c=$(cat \"$d/fail\"); exit ${c:-1}; fi\n"
	    "cat >\"$d/out/$FEEDWATCH_ALERT_ID.json\" || exit 2\n"
	    "env | grep '^FEEDWATCH_' | sort "
	    ">\"$d/out/$FEEDWATCH_ALERT_ID.env\" || exit 2\n"
	    "echo \"$FEEDWATCH_ALERT_ID\" >>\"$d/deliveries\" || exit 2\n"
	    "exit 0\n");
}

/* Write feedwatch.conf: the two good feeds, with the bad ones if asked. */
static void
write_config(struct fixture *fx, int with_bad_feeds)
{
	const struct bad_feed *b;
	char *text, *feeds, *t;
	int n;

	assert_non_null(feeds = strdup(""));
	for (size_t i = 0; i < sizeof bad_feeds / sizeof bad_feeds[0]; i++) {
		b = &bad_feeds[i];
		if (!with_bad_feeds)
			break;
		if (b->path != NULL)
			n = asprintf(&t,
			    "%s[feed \"%s\"]\nurl = "
			    "http://127.0.0.1:%d%s\n\n",
			    feeds, b->name, fx->port, b->path);
		else
			n = asprintf(&t, "%s[feed \"%s\"]\nurl = %s\n\n", feeds,
			    b->name, b->url);
		assert_true(n > 0);
		free(feeds);
		feeds = t;
	}
	n = asprintf(&text,
	    "[daemon]\n"
	    "database = feedwatch.db\n"
	    "\n"
	    "[feed \"rss\"]\n"
	    "url = http://127.0.0.1:%d/rss.xml\n"
	    "\n"
	    "[feed \"atom\"]\n"
	    "url = http://127.0.0.1:%d/atom.xml\n"
	    "\n"
	    "%s"
	    "[watchlist \"track-two\"]\n"
	    "query = " TEST_QUERY_TERM "\n"
	    "hooks = record\n"
	    "\n"
	    "[hook \"record\"]\n"
	    "command = ./hook.sh\n"
	    "timeout = 10s\n"
	    "retries = 2\n",
	    fx->port, fx->port, feeds);
	assert_true(n > 0);
	testutil_write_file(fx->conf, text, 0644);
	free(text);
	free(feeds);
}

static int
daemon_setup(void **state)
{
	struct fixture *fx;
	char path[PATH_MAX];

	assert_non_null(fx = calloc(1, sizeof *fx));
	testutil_tmpdir(fx->dir, sizeof fx->dir, "test");
	path_in(fx, fx->conf, sizeof fx->conf, "feedwatch.conf");
	path_in(fx, path, sizeof path, "out");
	assert_int_equal(mkdir(path, 0755), 0);
	server_start(fx);
	write_hook(fx);
	write_config(fx, 0);
	*state = fx;
	return 0;
}

static int
daemon_teardown(void **state)
{
	struct fixture *fx = *state;

	if (fx == NULL)
		return 0;
	testutil_http_free(fx->http, fx->base);
	testutil_rmtree(fx->dir);
	free(fx);
	return 0;
}

/*
 * The daemon's environment: ours without proxies (the feeds are on
 * loopback) or the journal's log format, in a zone far from UTC so
 * that dates must be converted. Caller frees.
 */
static char **
daemon_envp(void)
{
	static const char *drop[] = { "JOURNAL_STREAM", NULL };
	const char *add[sizeof extra_env / sizeof extra_env[0] + 1] = {
		"TZ=IST-5:30"
	};

	/* extra_env replaces what it names. */
	for (size_t i = 0; extra_env[i] != NULL; i++)
		add[i + 1] = extra_env[i];
	return testutil_envp(drop, add);
}

/* Both feeds were fetched and both alerts delivered. */
static int
daemon_all_delivered(const struct fixture *fx)
{
	return fx->hits[ROUTE_RSS] > 0 && fx->hits[ROUTE_ATOM] > 0 &&
	    count_deliveries(fx) >= (int)NEXPECT;
}

/* Without --once: when r->until says so, send the daemon r->sig. */
static void
daemon_term_cb(struct testutil_proc *p)
{
	struct run *r = p->arg;

	if (r->step != NULL) {
		r->step(r);
		return;
	}
	if (r->is_termed || !r->until(r->fx))
		return;
	r->is_termed = 1;
	kill(p->pid, r->sig);
}

static int run_daemon_mode(struct fixture *, const char *, int, char **);
static int run_daemon_steps(struct fixture *, const char *, int,
    void (*)(struct run *), void *, char **);
static int run_daemon_until(struct fixture *, const char *, int,
    int (*)(const struct fixture *), int, char **);
static int run_daemon_full(struct fixture *, const char *, int,
    int (*)(const struct fixture *), int, void (*)(struct run *), void *,
    char **);

/* Run feedwatchd --once; see run_daemon_until. */
static int
run_daemon(struct fixture *fx, const char *conf, char **stderr_text)
{
	return run_daemon_until(fx, conf, 1, NULL, 0, stderr_text);
}

/*
 * Run feedwatchd [--once]; in the foreground, stop it with SIGTERM, as
 * systemd would, once both alerts were delivered.
 */
static int
run_daemon_mode(
    struct fixture *fx, const char *conf, int once, char **stderr_text)
{
	return run_daemon_until(
	    fx, conf, once, daemon_all_delivered, SIGTERM, stderr_text);
}

/* Run feedwatchd [--once]; in the foreground, send sig once until says so. */
static int
run_daemon_until(struct fixture *fx, const char *conf, int once,
    int (*until)(const struct fixture *), int sig, char **stderr_text)
{
	return run_daemon_full(
	    fx, conf, once, until, sig, NULL, NULL, stderr_text);
}

/* Run feedwatchd in the foreground, calling step(r) every 50 ms. */
static int
run_daemon_steps(struct fixture *fx, const char *conf, int once,
    void (*step)(struct run *), void *arg, char **stderr_text)
{
	return run_daemon_full(fx, conf, once, NULL, 0, step, arg, stderr_text);
}

/*
 * Run feedwatchd [--once] -c conf with stderr to $DIR/stderr.N, serving
 * HTTP from the fixture's loop until it exits. Without --once, step(r)
 * is called every 50 ms when given (r->arg is arg); else the daemon is
 * sent sig once until says so. Return its wait status and set
 * *stderr_text (caller frees). A hang fails the test.
 */
static int
run_daemon_full(struct fixture *fx, const char *conf, int once,
    int (*until)(const struct fixture *), int sig, void (*step)(struct run *),
    void *arg, char **stderr_text)
{
	struct run r;
	char errpath[PATH_MAX], name[32], **env;
	char *argv[] = { (char *)daemon_path, "--once", "-c", (char *)conf,
		NULL };
	char *argv_fg[] = { (char *)daemon_path, "-c", (char *)conf, NULL };

	memset(&r, 0, sizeof r);
	r.fx = fx;
	r.is_once = once;
	r.step = step;
	r.arg = arg;
	r.until = until;
	r.sig = sig;
	snprintf(name, sizeof name, "stderr.%d", ++fx->runs);
	path_in(fx, errpath, sizeof errpath, name);
	env = daemon_envp();
	r.proc.argv = once ? argv : argv_fg;
	r.proc.env = env;
	r.proc.err = errpath;
	r.proc.watchdog = TEST_WATCHDOG;
	r.proc.tick = once ? 0 : 50;
	r.proc.tick_cb = daemon_term_cb;
	r.proc.arg = &r;
	testutil_proc_run(&r.proc, fx->base);
	free(env);
	fx->maxrss = r.proc.ru.ru_maxrss;
	*stderr_text = testutil_read_file(errpath);
	assert_non_null(*stderr_text);
	if (r.proc.is_timed_out)
		fail_msg("feedwatchd hung for %ds; killed. stderr:\n%s",
		    TEST_WATCHDOG, *stderr_text);
	return r.proc.status;
}

/* Run the daemon on the fixture's config; it must exit 0. */
static void
run_daemon_ok(struct fixture *fx)
{
	char *err;
	int status;

	status = run_daemon(fx, fx->conf, &err);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg(
		    "feedwatchd: wait status %#x; stderr:\n%s", status, err);
	free(err);
}

static int
recorded_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* List the alert ids with a .json file in $DIR/out, sorted. */
static void
recorded_list(const struct fixture *fx, struct recorded *rec)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;
	size_t len;

	memset(rec, 0, sizeof *rec);
	path_in(fx, path, sizeof path, "out");
	assert_non_null(d = opendir(path));
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len < 5 || strcmp(de->d_name + len - 5, ".json") != 0)
			continue;
		assert_true(rec->n < TEST_MAX_ALERTS);
		assert_non_null(
		    rec->ids[rec->n] = strndup(de->d_name, len - 5));
		rec->n++;
	}
	closedir(d);
	qsort(rec->ids, rec->n, sizeof rec->ids[0], recorded_cmp);
}

static void
recorded_clear(struct recorded *rec)
{
	for (size_t i = 0; i < rec->n; i++)
		free(rec->ids[i]);
	memset(rec, 0, sizeof *rec);
}

/* The value of KEY in "KEY=value" lines; NULL when absent. Caller frees. */
static char *
env_value(const char *text, const char *key)
{
	size_t klen = strlen(key);
	const char *line;

	for (line = text; line != NULL && *line != '\0';) {
		if (strncmp(line, key, klen) == 0 && line[klen] == '=')
			return strndup(
			    line + klen + 1, strcspn(line + klen + 1, "\n"));
		if ((line = strchr(line, '\n')) != NULL)
			line++;
	}
	return NULL;
}

static void
assert_env(const char *text, const char *key, const char *want)
{
	char *v = env_value(text, key);

	if (v == NULL)
		fail_msg("%s is not in the hook's environment:\n%s", key, text);
	assert_string_equal(v, want);
	free(v);
}

static void
assert_is_hex32(const char *s)
{
	assert_int_equal(strlen(s), 32);
	assert_int_equal(strspn(s, "0123456789abcdef"), 32);
}

/* Check one recorded alert (JSON and environment) against what is due. */
static void
check_alert(const struct fixture *fx, const char *id, int *seen)
{
	char path[PATH_MAX], name[64], url[256], feed_url[256], hit[128];
	const struct expect_alert *x = NULL;
	json_t *o, *story, *feed, *matched;
	json_error_t jerr;
	char *env;
	const char *title, *snippet;
	size_t i;

	assert_is_hex32(id);
	snprintf(name, sizeof name, "out/%s.json", id);
	path_in(fx, path, sizeof path, name);
	if ((o = json_load_file(path, 0, &jerr)) == NULL)
		fail_msg("%s: line %d: %s", path, jerr.line, jerr.text);
	assert_string_equal(
	    json_string_value(json_object_get(o, "alert_id")), id);
	assert_string_equal(
	    json_string_value(json_object_get(o, "watchlist")), "track-two");
	assert_true(json_is_object(story = json_object_get(o, "story")));
	assert_true(json_is_integer(json_object_get(story, "id")));
	assert_non_null(
	    title = json_string_value(json_object_get(story, "title")));
	for (i = 0; i < NEXPECT; i++) {
		if (strcmp(title, expect_alerts[i].title) == 0)
			x = &expect_alerts[i];
	}
	if (x == NULL)
		fail_msg("unexpected alert for \"%s\"", title);
	assert_int_equal(seen[x - expect_alerts]++, 0);
	if (x->url[0] == '/')
		snprintf(
		    url, sizeof url, "http://127.0.0.1:%d%s", fx->port, x->url);
	else
		snprintf(url, sizeof url, "%s", x->url);
	snprintf(feed_url, sizeof feed_url, "http://127.0.0.1:%d%s", fx->port,
	    routes[x->route].path);
	snprintf(hit, sizeof hit, "\xc2\xab%s\xc2\xbb", x->hit);
	assert_string_equal(
	    json_string_value(json_object_get(story, "url")), url);
	assert_string_equal(
	    json_string_value(json_object_get(story, "published")),
	    x->published);
	assert_true(json_is_object(feed = json_object_get(story, "feed")));
	assert_string_equal(
	    json_string_value(json_object_get(feed, "name")), x->feed);
	assert_string_equal(
	    json_string_value(json_object_get(feed, "url")), feed_url);
	matched = json_object_get(o, "matched");
	assert_true(json_is_array(matched));
	assert_int_equal(json_array_size(matched), 1);
	assert_string_equal(
	    json_string_value(json_array_get(matched, 0)), TEST_PHRASE);
	assert_non_null(
	    snippet = json_string_value(json_object_get(o, "snippet")));
	if (strstr(snippet, hit) == NULL)
		fail_msg("snippet \"%s\" does not mark \"%s\"", snippet, hit);

	snprintf(name, sizeof name, "out/%s.env", id);
	path_in(fx, path, sizeof path, name);
	assert_non_null(env = testutil_read_file(path));
	assert_env(env, "FEEDWATCH_ALERT_ID", id);
	assert_env(env, "FEEDWATCH_WATCHLIST", "track-two");
	assert_env(env, "FEEDWATCH_TITLE", x->title);
	assert_env(env, "FEEDWATCH_URL", url);
	assert_env(env, "FEEDWATCH_FEED", x->feed);
	assert_env(env, "FEEDWATCH_PUBLISHED", x->published);
	assert_env(env, "FEEDWATCH_MATCHED", TEST_PHRASE);
	assert_env(env, "FEEDWATCH_SNIPPET", snippet);
	free(env);
	json_decref(o);
}

/* Exactly the expected alerts were recorded, each as it should be. */
static void
check_alerts(const struct fixture *fx)
{
	struct recorded rec;
	int seen[NEXPECT] = { 0 };

	recorded_list(fx, &rec);
	assert_int_equal(rec.n, NEXPECT);
	for (size_t i = 0; i < rec.n; i++)
		check_alert(fx, rec.ids[i], seen);
	recorded_clear(&rec);
}

static int
count_recorded(const struct fixture *fx)
{
	struct recorded rec;
	int n;

	recorded_list(fx, &rec);
	n = (int)rec.n;
	recorded_clear(&rec);
	return n;
}

/* Lines in $DIR/deliveries: successful hook runs so far. */
static int
count_deliveries(const struct fixture *fx)
{
	char path[PATH_MAX], *text;
	int n = 0;

	path_in(fx, path, sizeof path, "deliveries");
	if ((text = testutil_read_file(path)) == NULL)
		return 0;
	for (const char *s = text; *s != '\0'; s++)
		n += *s == '\n';
	free(text);
	return n;
}

/* Run a "SELECT count(*) ..." on the daemon's database. */
static int
db_count(const struct fixture *fx, const char *sql)
{
	char path[PATH_MAX];

	path_in(fx, path, sizeof path, "feedwatch.db");
	return (int)testutil_db_count(path, sql);
}

static void
set_fail(const struct fixture *fx, int on)
{
	char path[PATH_MAX];

	path_in(fx, path, sizeof path, "fail");
	if (on)
		testutil_write_file(path, "", 0644);
	else
		assert_int_equal(unlink(path), 0);
}

/*
 * Running in the foreground, the daemon polls, delivers, and on SIGTERM
 * stops cleanly: exit 0, the database closed with everything in it.
 */
static void
test_daemon_sigterm_stops_cleanly(void **state)
{
	struct fixture *fx = *state;
	char *err;
	int status;

	status = run_daemon_mode(fx, fx->conf, 0, &err);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg(
		    "feedwatchd: wait status %#x; stderr:\n%s", status, err);
	assert_non_null(strstr(err, "Terminated: stopping"));
	free(err);
	check_alerts(fx);
	assert_int_equal(count_deliveries(fx), NEXPECT);
	assert_int_equal(db_count(fx, "SELECT count(*) FROM stories"), 5);
	assert_int_equal(db_count(fx,
			     "SELECT count(*) FROM alerts"
			     " WHERE state = 'delivered'"),
	    NEXPECT);
}

/* What a second feedwatchd, started beside the first, did. */
struct second {
	int status; /* exit status, -1 before it ran */
	char *out;
	int first; /* the first one's pid */
};

/* Once the first daemon delivered: run a second --once, then stop it. */
static void
second_daemon_step(struct run *r)
{
	struct second *sd = r->arg;
	char cmd[PATH_MAX * 3], path[PATH_MAX];
	int n, status;

	if (r->is_termed || !daemon_all_delivered(r->fx))
		return;
	path_in(r->fx, path, sizeof path, "second.out");
	n = snprintf(cmd, sizeof cmd, "'%s' --once -c '%s' >'%s' 2>&1",
	    daemon_path, r->fx->conf, path);
	assert_true(n > 0 && (size_t)n < sizeof cmd);
	status = system(cmd);
	sd->status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	sd->out = testutil_read_file(path);
	sd->first = (int)r->proc.pid;
	r->is_termed = 1;
	kill(r->proc.pid, SIGTERM);
}

/*
 * One daemon a database: two would each deliver the same alert (a
 * feedwatchd --once run by hand or by cron beside the service). Tried:
 * a second daemon started while the first runs stops at once, naming
 * the first one's pid, and delivers nothing; the first is undisturbed.
 */
static void
test_daemon_one_daemon_a_database(void **state)
{
	struct fixture *fx = *state;
	struct second sd = { -1, NULL, 0 };
	char *err, want[64];
	int status;

	status =
	    run_daemon_steps(fx, fx->conf, 0, second_daemon_step, &sd, &err);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg(
		    "feedwatchd: wait status %#x; stderr:\n%s", status, err);
	free(err);
	assert_non_null(sd.out);
	snprintf(want, sizeof want, "in use by another feedwatchd (pid %d)",
	    sd.first);
	if (sd.status == 0 || strstr(sd.out, want) == NULL)
		fail_msg("second feedwatchd: exit %d, output:\n%s", sd.status,
		    sd.out);
	free(sd.out);
	assert_int_equal(count_deliveries(fx), NEXPECT);
	/* Stopped, the first lets the database go. */
	run_daemon_ok(fx);
	assert_int_equal(count_deliveries(fx), NEXPECT);
}

/* Make the hook exit with code (as text), or 1 when code is "". */
static void
set_fail_code(const struct fixture *fx, const char *code)
{
	char path[PATH_MAX];

	path_in(fx, path, sizeof path, "fail");
	testutil_write_file(path, code, 0644);
}

/* Run the feedwatch tool beside feedwatchd; return its exit status. */
static int
run_tool(
    const struct fixture *fx, const char *cmdname, const char *args, char **out)
{
	char cmd[PATH_MAX * 3], path[PATH_MAX], *end;
	int n, status;

	n = snprintf(path, sizeof path, "%s", daemon_path);
	assert_true(n > 0 && (size_t)n < sizeof path);
	assert_non_null(end = strrchr(path, 'd'));
	*end = '\0';
	n = snprintf(cmd, sizeof cmd, "'%s' %s -c '%s' %s >'%s/tool.out' 2>&1",
	    path, cmdname, fx->conf, args, fx->dir);
	assert_true(n > 0 && (size_t)n < sizeof cmd);
	status = system(cmd);
	path_in(fx, path, sizeof path, "tool.out");
	*out = testutil_read_file(path);
	assert_non_null(*out);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/*
 * A hook that exits 75 (EX_TEMPFAIL) asks to be tried later: that counts
 * toward its retries at most once an hour, so it is never failed by it.
 */
static void
test_daemon_tempfail_counts_once_an_hour(void **state)
{
	struct fixture *fx = *state;

	set_fail_code(fx, "75");
	for (int i = 0; i < 3; i++)
		run_daemon_ok(fx);
	assert_int_equal(count_recorded(fx), 0);
	assert_int_equal(
	    db_count(fx,
		"SELECT count(*) FROM alerts WHERE state = 'pending'"
		" AND attempts = 1 AND last_error = 'exit status 75'"),
	    NEXPECT);
	set_fail(fx, 0);
	run_daemon_ok(fx);
	check_alerts(fx);
}

/*
 * A hook that keeps failing ends failed with its reason, visible in
 * `feedwatch alerts`; `feedwatch alerts retry --failed` puts it back and
 * the next run delivers it.
 */
static void
test_daemon_failed_alerts_retried_by_hand(void **state)
{
	struct fixture *fx = *state;
	char *out;

	set_fail_code(fx, "");
	run_daemon_ok(fx);
	run_daemon_ok(fx);
	assert_int_equal(
	    db_count(fx, "SELECT count(*) FROM alerts WHERE state = 'failed'"),
	    NEXPECT);
	assert_int_equal(run_tool(fx, "alerts", "--failed", &out), 0);
	assert_non_null(
	    strstr(out, "failed    2 attempts  track-two -> record"));
	assert_non_null(strstr(out, "last error: exit status 1"));
	free(out);
	assert_int_equal(run_tool(fx, "alerts", "--failed --json", &out), 0);
	assert_non_null(strstr(out, "\"state\":\"failed\""));
	free(out);
	/* A failed alert is not tried again by itself. */
	set_fail(fx, 0);
	run_daemon_ok(fx);
	assert_int_equal(count_recorded(fx), 0);
	assert_int_equal(run_tool(fx, "alerts", "retry --failed", &out), 0);
	assert_non_null(strstr(out, "2 alerts back to pending"));
	free(out);
	run_daemon_ok(fx);
	check_alerts(fx);
	assert_int_equal(count_deliveries(fx), NEXPECT);
}

#ifdef HAVE_LIBSYSTEMD
/* What the daemon told "systemd": one datagram a line. */
struct notify {
	char text[8192];
	size_t len;
};

static void
notify_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct notify *nt = arg;
	char buf[512];
	ssize_t n;

	(void)what;
	while ((n = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT)) > 0) {
		if (nt->len + (size_t)n + 2 > sizeof nt->text)
			continue;
		memcpy(nt->text + nt->len, buf, (size_t)n);
		nt->len += (size_t)n;
		nt->text[nt->len++] = '\n';
		nt->text[nt->len] = '\0';
	}
}
#endif

/*
 * Under systemd (Type=notify, WatchdogSec=): READY=1 once running,
 * STATUS= kept current, WATCHDOG=1 keep-alives from the loop, and
 * STOPPING=1 on SIGTERM, in that order.
 */
static void
test_daemon_notify_protocol(void **state)
{
#ifdef HAVE_LIBSYSTEMD
	struct fixture *fx = *state;
	struct sockaddr_un sun;
	struct notify nt;
	struct event *ev;
	char env[sizeof sun.sun_path + 32], *err;
	const char *ready, *status, *stopping;
	int fd, st;

	memset(&nt, 0, sizeof nt);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	path_in(fx, sun.sun_path, sizeof sun.sun_path, "notify");
	assert_true((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof sun), 0);
	assert_non_null(ev = event_new(fx->base, fd, EV_READ | EV_PERSIST,
			    notify_read_cb, &nt));
	assert_int_equal(event_add(ev, NULL), 0);
	snprintf(env, sizeof env, "NOTIFY_SOCKET=%s", sun.sun_path);
	extra_env[0] = env;
	extra_env[1] = "WATCHDOG_USEC=200000";
	extra_env[2] = NULL;
	st = run_daemon_mode(fx, fx->conf, 0, &err);
	extra_env[0] = NULL;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("feedwatchd: wait status %#x; stderr:\n%s", st, err);
	free(err);
	notify_read_cb(fd, EV_READ, &nt);
	event_free(ev);
	close(fd);
	ready = strstr(nt.text, "READY=1\n");
	status = strstr(nt.text, "STATUS=2 feeds, 0 failing, ");
	stopping = strstr(nt.text, "STOPPING=1\n");
	if (ready == NULL || status == NULL || stopping == NULL ||
	    strstr(nt.text, "WATCHDOG=1\n") == NULL || ready > stopping)
		fail_msg("notifications:\n%s", nt.text);
	check_alerts(fx);
#else
	(void)state;
	skip();
#endif
}

#ifdef HAVE_LIBSYSTEMD
/* Where a reload test is, and what it has seen. */
struct reload {
	struct notify nt;
	size_t mark; /* nt.len when the last signal was sent */
	int stage;
	int rss_hits;  /* at the refused reload; at the end, once removed */
	int atom_hits; /* once the removal was done */
};

/*
 * The configuration of a reload test: rss and, when asked, atom, each
 * polled every second; when broken, line 4 has an unknown key.
 */
static void
write_reload_config(const struct fixture *fx, int rss, int atom, int broken)
{
	char *text, feeds[2][128];
	int n;

	feeds[0][0] = feeds[1][0] = '\0';
	if (rss)
		snprintf(feeds[0], sizeof feeds[0],
		    "[feed \"rss\"]\nurl = http://127.0.0.1:%d%s\n"
		    "interval = 1s\n\n",
		    fx->port, routes[ROUTE_RSS].path);
	if (atom)
		snprintf(feeds[1], sizeof feeds[1],
		    "[feed \"atom\"]\nurl = http://127.0.0.1:%d%s\n"
		    "interval = 1s\n",
		    fx->port, routes[ROUTE_ATOM].path);
	n = asprintf(&text,
	    "[daemon]\n"
	    "database = feedwatch.db\n"
	    "min_interval = 1s\n"
	    "%s"
	    "\n"
	    "%s%s",
	    broken ? "colour = blue\n" : "", feeds[0], feeds[1]);
	assert_true(n > 0);
	testutil_write_file(fx->conf, text, 0644);
	free(text);
}

/* Did the daemon say RELOADING=1, then READY=1, in text? */
static int
reload_done(const char *text)
{
	const char *reloading = strstr(text, "RELOADING=1\n");

	return reloading != NULL && strstr(reloading, "READY=1\n") != NULL;
}

/*
 * The reload test, step by step: add a feed, refuse a broken
 * configuration, remove a feed, stop. Each stage waits for what the
 * last signal should have brought about, then signals again.
 */
static void
reload_step_cb(struct run *r)
{
	struct reload *rl = r->arg;
	struct fixture *fx = r->fx;
	const char *since = rl->nt.text + rl->mark;
	int sig = SIGHUP;

	switch (rl->stage) {
	case 0: /* Started and polling: add atom. */
		if (strstr(since, "READY=1\n") == NULL ||
		    fx->hits[ROUTE_RSS] == 0)
			return;
		write_reload_config(fx, 1, 1, 0);
		break;
	case 1: /* The new feed is polled at once: break the file. */
		if (!reload_done(since) || fx->hits[ROUTE_ATOM] == 0)
			return;
		write_reload_config(fx, 1, 1, 1);
		rl->rss_hits = fx->hits[ROUTE_RSS];
		break;
	case 2: /* Refused, said so, and still polling: remove rss. */
		if (!reload_done(since) ||
		    strstr(since, "STATUS=reload refused") == NULL ||
		    fx->hits[ROUTE_RSS] <= rl->rss_hits)
			return;
		write_reload_config(fx, 0, 1, 0);
		break;
	case 3: /* Reloaded; the refusal is no longer reported. */
		if (!reload_done(since) ||
		    strstr(since, "STATUS=1 feeds, 0 failing") == NULL)
			return;
		rl->atom_hits = fx->hits[ROUTE_ATOM];
		rl->stage++;
		return;
	case 4: /* A fetch that ran during the reload is counted by now. */
		if (fx->hits[ROUTE_ATOM] < rl->atom_hits + 1)
			return;
		rl->rss_hits = fx->hits[ROUTE_RSS];
		rl->stage++;
		return;
	case 5: /* atom is polled twice more, rss no more: stop. */
		if (fx->hits[ROUTE_ATOM] < rl->atom_hits + 3)
			return;
		sig = SIGTERM;
		r->is_termed = 1;
		break;
	default:
		return;
	}
	rl->mark = rl->nt.len;
	rl->stage++;
	kill(r->proc.pid, sig);
}
#endif

/*
 * SIGHUP reloads the configuration under systemd's eyes (RELOADING=1,
 * then READY=1): an added feed is polled at once; a broken file is
 * refused, with FILE:LINE in the log and "reload refused" in STATUS=,
 * and polling goes on; a removed feed is no longer polled; SIGTERM
 * still stops the daemon cleanly.
 */
static void
test_daemon_sighup_reload(void **state)
{
#ifdef HAVE_LIBSYSTEMD
	struct fixture *fx = *state;
	struct sockaddr_un sun;
	struct reload rl;
	struct event *ev;
	char env[sizeof sun.sun_path + 32], want[PATH_MAX + 16], *err;
	int fd, st;

	memset(&rl, 0, sizeof rl);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	path_in(fx, sun.sun_path, sizeof sun.sun_path, "notify");
	assert_true((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof sun), 0);
	assert_non_null(ev = event_new(fx->base, fd, EV_READ | EV_PERSIST,
			    notify_read_cb, &rl.nt));
	assert_int_equal(event_add(ev, NULL), 0);
	snprintf(env, sizeof env, "NOTIFY_SOCKET=%s", sun.sun_path);
	extra_env[0] = env;
	extra_env[1] = NULL;
	write_reload_config(fx, 1, 0, 0);
	st = run_daemon_steps(fx, fx->conf, 0, reload_step_cb, &rl, &err);
	extra_env[0] = NULL;
	notify_read_cb(fd, EV_READ, &rl.nt);
	event_free(ev);
	close(fd);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || rl.stage != 6 ||
	    strstr(rl.nt.text + rl.mark, "STOPPING=1\n") == NULL)
		fail_msg("feedwatchd: wait status %#x at stage %d; "
			 "notifications:\n%s\nstderr:\n%s",
		    st, rl.stage, rl.nt.text, err);
	snprintf(want, sizeof want, "%s:4: ", fx->conf);
	if (strstr(err, want) == NULL ||
	    testutil_count_lines(
		err, "reload: 2 feeds, 1 added, 0 removed", "") != 1 ||
	    testutil_count_lines(
		err, "reload refused", "previous configuration") != 1 ||
	    testutil_count_lines(
		err, "reload: 1 feeds, 0 added, 1 removed", "") != 1)
		fail_msg(
		    "no \"%s\", or reloads not logged, in:\n%s", want, err);
	free(err);
	/* No request for the removed feed since it went. */
	assert_int_equal(fx->hits[ROUTE_RSS], rl.rss_hits);
#else
	(void)state;
	skip();
#endif
}

/* A first run delivers one alert per matching story, and logs them. */
static void
test_daemon_first_run_alerts(void **state)
{
	struct fixture *fx = *state;

	run_daemon_ok(fx);
	assert_int_equal(fx->hits[ROUTE_RSS], 1);
	assert_int_equal(fx->hits[ROUTE_ATOM], 1);
	check_alerts(fx);
	assert_int_equal(count_deliveries(fx), NEXPECT);
	assert_int_equal(db_count(fx, "SELECT count(*) FROM stories"), 5);
	assert_int_equal(db_count(fx,
			     "SELECT count(*) FROM alerts"
			     " WHERE state = 'delivered'"),
	    NEXPECT);
}

/* A second run fetches again but finds nothing new to tell. */
static void
test_daemon_second_run_quiet(void **state)
{
	struct fixture *fx = *state;

	run_daemon_ok(fx);
	assert_int_equal(count_recorded(fx), NEXPECT);
	run_daemon_ok(fx);
	assert_int_equal(fx->hits[ROUTE_RSS], 2);
	assert_int_equal(fx->hits[ROUTE_ATOM], 2);
	assert_int_equal(count_recorded(fx), NEXPECT);
	assert_int_equal(count_deliveries(fx), NEXPECT);
	assert_int_equal(db_count(fx, "SELECT count(*) FROM stories"), 5);
	check_alerts(fx);
}

/* A failing hook keeps the alerts pending; the next run delivers them. */
static void
test_daemon_failing_hook_retried(void **state)
{
	struct fixture *fx = *state;
	char *err;
	int status;

	set_fail(fx, 1);
	status = run_daemon(fx, fx->conf, &err);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg(
		    "feedwatchd: wait status %#x; stderr:\n%s", status, err);
	if (testutil_count_lines(err, "exit status 1", "") != (int)NEXPECT)
		fail_msg(
		    "want %zu \"exit status 1\" lines in:\n%s", NEXPECT, err);
	free(err);
	assert_int_equal(count_recorded(fx), 0);
	assert_int_equal(count_deliveries(fx), 0);
	assert_int_equal(db_count(fx,
			     "SELECT count(*) FROM alerts"
			     " WHERE state = 'pending'"
			     " AND attempts = 1"),
	    NEXPECT);

	set_fail(fx, 0);
	run_daemon_ok(fx);
	check_alerts(fx);
	assert_int_equal(count_deliveries(fx), NEXPECT);

	run_daemon_ok(fx);
	assert_int_equal(fx->hits[ROUTE_RSS], 3);
	assert_int_equal(fx->hits[ROUTE_ATOM], 3);
	assert_int_equal(count_recorded(fx), NEXPECT);
	assert_int_equal(count_deliveries(fx), NEXPECT);
}

/* Feeds that fail each get a line; the good ones still alert. */
static void
test_daemon_bad_feeds_logged(void **state)
{
	struct fixture *fx = *state;
	const struct bad_feed *b;
	char *err, prefix[64];
	int status;

	write_config(fx, 1);
	status = run_daemon(fx, fx->conf, &err);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg(
		    "feedwatchd: wait status %#x; stderr:\n%s", status, err);
	for (size_t i = 0; i < sizeof bad_feeds / sizeof bad_feeds[0]; i++) {
		b = &bad_feeds[i];
		snprintf(prefix, sizeof prefix, "feed %s:", b->name);
		if (testutil_count_lines(err, prefix, b->says) != 1)
			fail_msg("want one \"%s ... %s\" line in:\n%s", prefix,
			    b->says, err);
	}
	free(err);
	assert_int_equal(fx->hits[ROUTE_404], 1);
	assert_int_equal(fx->hits[ROUTE_NOTXML], 1);
	check_alerts(fx);
	assert_int_equal(count_deliveries(fx), NEXPECT);
	assert_int_equal(db_count(fx, "SELECT count(*) FROM stories"), 5);
}

/* A configuration error stops the daemon and names file and line. */
static void
test_daemon_bad_config_refused(void **state)
{
	struct fixture *fx = *state;
	char *err, want[PATH_MAX + 16];
	int status;

	testutil_write_file(fx->conf,
	    "[daemon]\n"
	    "database = feedwatch.db\n"
	    "colour = blue\n",
	    0644);
	status = run_daemon(fx, fx->conf, &err);
	if (!WIFEXITED(status) || WEXITSTATUS(status) == 0)
		fail_msg(
		    "feedwatchd: wait status %#x; stderr:\n%s", status, err);
	snprintf(want, sizeof want, "%s:3: ", fx->conf);
	if (strstr(err, want) == NULL)
		fail_msg("no \"%s\" in:\n%s", want, err);
	free(err);
	assert_int_equal(fx->hits[ROUTE_RSS] + fx->hits[ROUTE_ATOM], 0);
	assert_int_equal(count_recorded(fx), 0);
}

/*
 * Feeds and hooks for the outbox tests: a local feed of n stories that
 * all match, and hooks that note when each run starts and ends.
 */

/* A word only story i has: "x" and i*100+k in letters. */
static void
story_word(char *buf, size_t len, int i, int k)
{
	int v = i * 100 + k;
	size_t n = 0;

	buf[n++] = 'x';
	do {
		buf[n++] = (char)('a' + v % 26);
		v /= 26;
	} while (v > 0 && n < len - 1);
	buf[n] = '\0';
}

/*
 * Write $DIR/items.xml, an RSS feed of n stories from first on, each
 * with words of its own (so that none is a near-duplicate of another)
 * and pad more bytes of text.
 */
static void
write_items_feed(const struct fixture *fx, int first, int n, size_t pad)
{
	char path[PATH_MAX], word[16];
	FILE *f;

	path_in(fx, path, sizeof path, "items.xml");
	assert_non_null(f = fopen(path, "we"));
	fprintf(f,
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<rss version=\"2.0\"><channel><title>Items</title>\n"
	    "<link>https://items.example.org/</link>\n");
	for (int i = first; i < first + n; i++) {
		fprintf(f,
		    "<item><title>Story %d</title>\n"
		    "<link>https://items.example.org/%d</link>\n"
		    "<guid>item-%d</guid><description>",
		    i, i, i);
		for (int k = 0; k < 12; k++) {
			story_word(word, sizeof word, i, k);
			fprintf(f, "%s ", word);
		}
		fprintf(f, "talks on " TEST_PHRASE ".");
		/* More of its own words, so that it stays unlike the others. */
		for (size_t k = 0, len = 0; len < pad; k++) {
			story_word(word, sizeof word, i, (int)(k % 12));
			len += (size_t)fprintf(f, " %s", word);
		}
		fprintf(f, "</description></item>\n");
	}
	fprintf(f, "</channel></rss>\n");
	assert_int_equal(fclose(f), 0);
}

/*
 * Write feedwatch.conf: the feed items.xml, a watchlist that sends its
 * alerts to hooks, the [daemon] keys daemon and the hook sections.
 */
static void
write_items_config(struct fixture *fx, const char *daemon, const char *hooks,
    const char *sections)
{
	char *text;

	assert_true(asprintf(&text,
			"[daemon]\n"
			"database = feedwatch.db\n"
			"%s\n"
			"[feed \"items\"]\n"
			"url = items.xml\n"
			"\n"
			"[watchlist \"track-two\"]\n"
			"query = " TEST_QUERY_TERM "\n"
			"hooks = %s\n"
			"\n"
			"%s",
			daemon, hooks, sections) > 0);
	testutil_write_file(fx->conf, text, 0644);
	free(text);
}

/*
 * timed.sh NAME SECONDS: notes "S <ns> <alert id> NAME" in $DIR/times,
 * sleeps, notes "E ...", and records the delivery as hook.sh does.
 */
static void
write_timed_hook(const struct fixture *fx)
{
	write_script(fx, "timed.sh",
	    "echo \"S $(date +%s%N) $FEEDWATCH_ALERT_ID $1\" >>\"$d/times\"\n"
	    "cat >/dev/null\n"
	    "sleep \"$2\"\n"
	    "echo \"E $(date +%s%N) $FEEDWATCH_ALERT_ID $1\" >>\"$d/times\"\n"
	    "echo \"$FEEDWATCH_ALERT_ID\" >>\"$d/deliveries\"\n");
}

/* One line of $DIR/times. */
struct mark {
	char kind; /* 'S' or 'E' */
	long long ns;
	char id[40];
	char hook[32];
};

static int
mark_cmp(const void *a, const void *b)
{
	const struct mark *x = a, *y = b;

	if (x->ns != y->ns)
		return x->ns < y->ns ? -1 : 1;
	return x->kind == 'E' ? -1 : (y->kind == 'E'); /* ends first */
}

/* Read $DIR/times into marks, in time order; return how many. */
static size_t
read_marks(const struct fixture *fx, struct mark *marks, size_t max)
{
	char path[PATH_MAX], *text, *line;
	size_t n = 0;

	path_in(fx, path, sizeof path, "times");
	if ((text = testutil_read_file(path)) == NULL)
		return 0;
	for (line = strtok(text, "\n"); line != NULL;
	     line = strtok(NULL, "\n")) {
		assert_true(n < max);
		if (sscanf(line, "%c %lld %39s %31s", &marks[n].kind,
			&marks[n].ns, marks[n].id, marks[n].hook) != 4)
			fail_msg("bad line in times: %s", line);
		n++;
	}
	free(text);
	qsort(marks, n, sizeof *marks, mark_cmp);
	return n;
}

/* The most runs of hook (NULL: of any) that were running at once. */
static int
max_overlap(const struct mark *marks, size_t n, const char *hook)
{
	int running = 0, most = 0;

	for (size_t i = 0; i < n; i++) {
		if (hook != NULL && strcmp(marks[i].hook, hook) != 0)
			continue;
		running += marks[i].kind == 'S' ? 1 : -1;
		if (running > most)
			most = running;
	}
	return most;
}

/* How many alerts the outbox holds in state. */
static int
db_state_count(const struct fixture *fx, const char *state)
{
	char sql[128];

	snprintf(sql, sizeof sql,
	    "SELECT count(*) FROM alerts WHERE state = '%s'", state);
	return db_count(fx, sql);
}

/*
 * With the default concurrency of 1, a hook's alerts never overlap and
 * start in the order they were queued, so a chat room reads them so.
 */
static void
test_daemon_concurrency_one_in_order(void **state)
{
	struct fixture *fx = *state;
	struct mark marks[16];
	size_t n, starts = 0;
	char sql[128];

	write_timed_hook(fx);
	write_items_feed(fx, 0, 3, 0);
	write_items_config(
	    fx, "", "chat", "[hook \"chat\"]\ncommand = ./timed.sh chat 0.3\n");
	run_daemon_ok(fx);
	n = read_marks(fx, marks, 16);
	assert_int_equal(n, 6);
	assert_int_equal(max_overlap(marks, n, NULL), 1);
	for (size_t i = 0; i < n; i++) {
		if (marks[i].kind != 'S')
			continue;
		snprintf(sql, sizeof sql,
		    "SELECT id FROM alerts WHERE alert_id = '%s'", marks[i].id);
		assert_int_equal(db_count(fx, sql), (int)++starts);
	}
	assert_int_equal(db_state_count(fx, "delivered"), 3);
}

/* With concurrency = 2, two alerts of one hook are delivered at once. */
static void
test_daemon_concurrency_two_overlap(void **state)
{
	struct fixture *fx = *state;
	struct mark marks[16];
	size_t n;

	write_timed_hook(fx);
	write_items_feed(fx, 0, 2, 0);
	write_items_config(fx, "", "chat",
	    "[hook \"chat\"]\ncommand = ./timed.sh chat 1\n"
	    "concurrency = 2\n");
	run_daemon_ok(fx);
	n = read_marks(fx, marks, 16);
	assert_int_equal(n, 4);
	assert_int_equal(max_overlap(marks, n, NULL), 2);
	assert_int_equal(db_state_count(fx, "delivered"), 2);
}

/* A hook run has started: $DIR/times has its "S" line. */
static int
daemon_hook_started(const struct fixture *fx)
{
	struct mark marks[16];

	return read_marks(fx, marks, 16) > 0;
}

/*
 * SIGTERM while a hook runs: it is let finish and its alert is recorded
 * delivered; no further hook starts, and the alerts left stay pending
 * for the next start, which delivers them.
 */
static void
test_daemon_sigterm_lets_hooks_finish(void **state)
{
	struct fixture *fx = *state;
	struct mark marks[16];
	char *err;
	int status;

	write_timed_hook(fx);
	write_items_feed(fx, 0, 3, 0);
	write_items_config(
	    fx, "", "chat", "[hook \"chat\"]\ncommand = ./timed.sh chat 1\n");
	status = run_daemon_until(
	    fx, fx->conf, 0, daemon_hook_started, SIGTERM, &err);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg(
		    "feedwatchd: wait status %#x; stderr:\n%s", status, err);
	assert_non_null(strstr(err, "Terminated: stopping"));
	free(err);
	assert_int_equal(read_marks(fx, marks, 16), 2);
	assert_int_equal(marks[0].kind, 'S');
	assert_int_equal(marks[1].kind, 'E');
	assert_int_equal(db_state_count(fx, "delivered"), 1);
	assert_int_equal(db_state_count(fx, "pending"), 2);
	/* The next start delivers the two left, and nothing twice. */
	run_daemon_ok(fx);
	assert_int_equal(read_marks(fx, marks, 16), 6);
	assert_int_equal(db_state_count(fx, "delivered"), 3);
	assert_int_equal(count_deliveries(fx), 3);
}

/* max_hooks bounds the hook processes of all hooks together. */
static void
test_daemon_max_hooks(void **state)
{
	struct fixture *fx = *state;
	struct mark marks[32];
	size_t n;

	write_timed_hook(fx);
	write_items_feed(fx, 0, 3, 0);
	write_items_config(fx, "max_hooks = 2\n", "one, two",
	    "[hook \"one\"]\ncommand = ./timed.sh one 0.5\n"
	    "concurrency = 3\n"
	    "[hook \"two\"]\ncommand = ./timed.sh two 0.5\n"
	    "concurrency = 3\n");
	run_daemon_ok(fx);
	n = read_marks(fx, marks, 32);
	assert_int_equal(n, 12);
	assert_int_equal(max_overlap(marks, n, NULL), 2);
	assert_int_equal(db_state_count(fx, "delivered"), 6);
}

/*
 * rate = 2/h: of 5 alerts, 2 are delivered and 3 wait in the outbox,
 * untried and not failed; the next run, within the hour, sends none.
 */
static void
test_daemon_rate(void **state)
{
	struct fixture *fx = *state;

	write_items_feed(fx, 0, 5, 0);
	write_items_config(fx, "", "record",
	    "[hook \"record\"]\ncommand = ./hook.sh\nrate = 2/h\n");
	run_daemon_ok(fx);
	assert_int_equal(count_deliveries(fx), 2);
	assert_int_equal(db_state_count(fx, "delivered"), 2);
	assert_int_equal(db_count(fx,
			     "SELECT count(*) FROM alerts WHERE state = "
			     "'pending' AND attempts = 0"),
	    3);
	assert_int_equal(db_state_count(fx, "failed"), 0);
	run_daemon_ok(fx);
	assert_int_equal(count_deliveries(fx), 2);
	assert_int_equal(db_state_count(fx, "pending"), 3);
}

/*
 * digest.sh: saves each run's stdin and FEEDWATCH_* as
 * $DIR/digest.N.json and .env (N counts runs), then fails when
 * $DIR/fail exists.
 */
static void
write_digest_hook(const struct fixture *fx)
{
	write_script(fx, "digest.sh",
	    "n=$(($(cat \"$d/digest.count\" 2>/dev/null || echo 0) + 1))\n"
	    "cat >\"$d/digest.$n.json\"\n"
	    "env | grep '^FEEDWATCH_' | sort >\"$d/digest.$n.env\"\n"
	    "echo $n >\"$d/digest.count\"\n"
	    "if [ -e \"$d/fail\" ]; then exit 1; fi\n");
}

/* How many times digest.sh ran. */
static int
count_digests(const struct fixture *fx)
{
	char path[PATH_MAX], *text;
	int n;

	path_in(fx, path, sizeof path, "digest.count");
	if ((text = testutil_read_file(path)) == NULL)
		return 0;
	n = atoi(text);
	free(text);
	return n;
}

/*
 * Check what the n-th run of digest.sh got: a digest of count alerts
 * of the watchlist track-two, with their ids in outbox order; the
 * ids, as one string, go to ids (at least 33 * count bytes).
 */
static void
check_digest(const struct fixture *fx, int n, int count, char *ids)
{
	char path[PATH_MAX], name[32], want[16], *env;
	json_t *o, *alerts, *a;
	json_error_t jerr;
	const char *id, *prev = "";
	size_t i;

	snprintf(name, sizeof name, "digest.%d.json", n);
	path_in(fx, path, sizeof path, name);
	if ((o = json_load_file(path, 0, &jerr)) == NULL)
		fail_msg("%s: %s", path, jerr.text);
	assert_string_equal(
	    json_string_value(json_object_get(o, "kind")), "digest");
	assert_string_equal(
	    json_string_value(json_object_get(o, "hook")), "digest");
	assert_string_equal(
	    json_string_value(json_object_get(o, "watchlist")), "track-two");
	assert_int_equal(
	    json_integer_value(json_object_get(o, "count")), count);
	assert_non_null(json_string_value(json_object_get(o, "period_start")));
	assert_non_null(json_string_value(json_object_get(o, "period_end")));
	alerts = json_object_get(o, "alerts");
	assert_int_equal(json_array_size(alerts), (size_t)count);
	ids[0] = '\0';
	json_array_foreach(alerts, i, a)
	{
		assert_non_null(
		    id = json_string_value(json_object_get(a, "alert_id")));
		assert_is_hex32(id);
		assert_true(strcmp(prev, id) != 0);
		assert_string_equal(
		    json_string_value(json_object_get(a, "watchlist")),
		    "track-two");
		assert_true(json_is_object(json_object_get(a, "story")));
		strcat(ids, id);
		strcat(ids, " ");
		prev = id;
	}
	json_decref(o);
	snprintf(name, sizeof name, "digest.%d.env", n);
	path_in(fx, path, sizeof path, name);
	assert_non_null(env = testutil_read_file(path));
	snprintf(want, sizeof want, "%d", count);
	assert_env(env, "FEEDWATCH_COUNT", want);
	assert_env(env, "FEEDWATCH_HOOK", "digest");
	assert_env(env, "FEEDWATCH_WATCHLIST", "track-two");
	assert_null(env_value(env, "FEEDWATCH_ALERT_ID"));
	free(env);
}

static void
write_digest_config(struct fixture *fx)
{
	write_digest_hook(fx);
	write_items_config(fx, "", "digest",
	    "[hook \"digest\"]\ncommand = ./digest.sh\nmode = digest\n"
	    "every = 1h\nretries = 3\n");
}

/*
 * mode = digest: three alerts make one run of the hook, with all three;
 * under --once the digest is sent at the end of the run.
 */
static void
test_daemon_digest(void **state)
{
	struct fixture *fx = *state;
	char ids[3 * 33 + 1];

	write_items_feed(fx, 0, 3, 0);
	write_digest_config(fx);
	run_daemon_ok(fx);
	assert_int_equal(count_digests(fx), 1);
	check_digest(fx, 1, 3, ids);
	assert_int_equal(db_state_count(fx, "delivered"), 3);
	assert_int_equal(
	    db_count(fx, "SELECT count(DISTINCT delivered) FROM alerts"), 1);
	/* Nothing new: no digest. */
	run_daemon_ok(fx);
	assert_int_equal(count_digests(fx), 1);
}

static int
daemon_one_digest(const struct fixture *fx)
{
	return count_digests(fx) >= 1 && db_state_count(fx, "delivered") == 3;
}

/*
 * In the foreground a digest waits for the end of its period (every =
 * 2s from the daemon's start here), then holds what came meanwhile.
 */
static void
test_daemon_digest_every(void **state)
{
	struct fixture *fx = *state;
	char ids[3 * 33 + 1], path[PATH_MAX], *err;
	time_t start, end;
	json_t *o;
	int status;

	write_items_feed(fx, 0, 3, 0);
	write_digest_hook(fx);
	write_items_config(fx, "", "digest",
	    "[hook \"digest\"]\ncommand = ./digest.sh\nmode = digest\n"
	    "every = 2s\n");
	status =
	    run_daemon_until(fx, fx->conf, 0, daemon_one_digest, SIGTERM, &err);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg(
		    "feedwatchd: wait status %#x; stderr:\n%s", status, err);
	free(err);
	assert_int_equal(count_digests(fx), 1);
	check_digest(fx, 1, 3, ids);
	path_in(fx, path, sizeof path, "digest.1.json");
	assert_non_null(o = json_load_file(path, 0, NULL));
	assert_int_equal(
	    date_parse(
		json_string_value(json_object_get(o, "period_start")), &start),
	    0);
	assert_int_equal(
	    date_parse(
		json_string_value(json_object_get(o, "period_end")), &end),
	    0);
	json_decref(o);
	if (end - start < 2 || end - start > 4)
		fail_msg("period of %llds, want 2", (long long)(end - start));
	assert_int_equal(db_state_count(fx, "delivered"), 3);
}

/*
 * A failed digest is retried as a whole: the same three alerts, though
 * two more came meanwhile; those make the next digest.
 */
static void
test_daemon_digest_retried_whole(void **state)
{
	struct fixture *fx = *state;
	char first[3 * 33 + 1], again[3 * 33 + 1], more[2 * 33 + 1];

	write_items_feed(fx, 0, 3, 0);
	write_digest_config(fx);
	set_fail(fx, 1);
	run_daemon_ok(fx);
	assert_int_equal(count_digests(fx), 1);
	check_digest(fx, 1, 3, first);
	assert_int_equal(db_count(fx,
			     "SELECT count(*) FROM alerts WHERE state = "
			     "'pending' AND attempts = 1"),
	    3);
	set_fail(fx, 0);
	write_items_feed(fx, 0, 5, 0);
	run_daemon_ok(fx);
	assert_int_equal(count_digests(fx), 3);
	check_digest(fx, 2, 3, again);
	assert_string_equal(again, first);
	check_digest(fx, 3, 2, more);
	assert_int_equal(db_state_count(fx, "delivered"), 5);
	assert_int_equal(db_count(fx,
			     "SELECT count(DISTINCT delivered) FROM alerts"
			     " WHERE attempts = 2"),
	    1);
	assert_int_equal(
	    db_count(fx, "SELECT count(*) FROM alerts WHERE attempts = 2"), 3);
}

/*
 * slow.sh: records its alert id in $DIR/ids; the first time, it then
 * writes its pid to $DIR/slow.pid and sleeps a minute (it is still
 * running when the daemon is killed), later it exits 0 at once.
 */
static void
write_slow_hook(const struct fixture *fx)
{
	write_script(fx, "slow.sh",
	    "cat >/dev/null\n"
	    "echo \"$FEEDWATCH_ALERT_ID\" >>\"$d/ids\"\n"
	    "if [ ! -e \"$d/slow.pid\" ]; then\n"
	    "\techo $$ >\"$d/slow.pid.new\"\n"
	    "\tmv \"$d/slow.pid.new\" \"$d/slow.pid\"\n"
	    "\tsleep 60\n"
	    "fi\n");
}

static int
daemon_slow_running(const struct fixture *fx)
{
	char path[PATH_MAX];

	path_in(fx, path, sizeof path, "slow.pid");
	return access(path, F_OK) == 0 &&
	    db_count(fx, "SELECT count(*) FROM hook_runs") == 1;
}

/* Is pid a process that has not exited? */
static int
process_runs(pid_t pid)
{
	char path[64], *text, *p;
	int runs;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if ((text = testutil_read_file(path)) == NULL)
		return 0;
	runs = (p = strrchr(text, ')')) != NULL && p[1] == ' ' && p[2] != 'Z';
	free(text);
	return runs;
}

/*
 * kill -9 of the daemon while a hook runs, between writing the outbox
 * and recording the delivery: the next start ends the hook it left and
 * delivers that alert once more, and it ends delivered.
 */
static void
test_daemon_killed_redelivers_once(void **state)
{
	struct fixture *fx = *state;
	char path[PATH_MAX], *text, *err, *nl;
	pid_t stale;
	int status;

	write_slow_hook(fx);
	write_items_feed(fx, 0, 1, 0);
	write_items_config(
	    fx, "", "slow", "[hook \"slow\"]\ncommand = ./slow.sh\n");
	status = run_daemon_until(
	    fx, fx->conf, 0, daemon_slow_running, SIGKILL, &err);
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
		fail_msg(
		    "feedwatchd: wait status %#x; stderr:\n%s", status, err);
	free(err);
	path_in(fx, path, sizeof path, "slow.pid");
	assert_non_null(text = testutil_read_file(path));
	stale = (pid_t)atoi(text);
	free(text);
	assert_true(stale > 0);
	/* The daemon is gone; its hook is not. */
	assert_true(process_runs(stale));
	assert_int_equal(db_state_count(fx, "pending"), 1);
	assert_int_equal(db_count(fx, "SELECT count(*) FROM hook_runs"), 1);

	status = run_daemon(fx, fx->conf, &err);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg(
		    "feedwatchd: wait status %#x; stderr:\n%s", status, err);
	if (strstr(err, "was left running by a daemon that was killed") == NULL)
		fail_msg("no line on the stale hook in:\n%s", err);
	free(err);
	for (int i = 0; i < 50 && process_runs(stale); i++)
		usleep(100000);
	assert_false(process_runs(stale));
	assert_int_equal(db_state_count(fx, "delivered"), 1);
	assert_int_equal(db_count(fx, "SELECT count(*) FROM hook_runs"), 0);
	run_daemon_ok(fx);

	/* The same alert id, exactly twice. */
	path_in(fx, path, sizeof path, "ids");
	assert_non_null(text = testutil_read_file(path));
	assert_int_equal(strlen(text), 2 * 33);
	assert_non_null(nl = strchr(text, '\n'));
	assert_int_equal(nl - text, 32);
	assert_int_equal(strncmp(text, nl + 1, 33), 0);
	free(text);
}

/*
 * Hooks that misbehave do not hold up the others: "mute" never reads
 * its 200 KB of JSON and hangs until its timeout kills it, "loud"
 * prints 10 MB. Meanwhile "record" delivers both alerts; loud's output
 * is logged up to 64 KiB, and the daemon's memory does not grow by it.
 */
static void
test_daemon_rude_hooks(void **state)
{
	struct fixture *fx = *state;
	char path[PATH_MAX], want[64], *err, *asan;
	const char *mute, *record;
	long quiet;
	int status;

	path_in(fx, path, sizeof path, "mute.sh");
	testutil_write_file(path, "#!/bin/sh\nexec sleep 30\n", 0755);
	path_in(fx, path, sizeof path, "loud.sh");
	testutil_write_file(path,
	    "#!/bin/sh\n"
	    "cat >/dev/null\n"
	    "head -c 10485760 /dev/zero | tr '\\0' x\n",
	    0755);
	write_items_feed(fx, 0, 2, 200 * 1024);
	/*
	 * Under ASan, memory freed stays in its quarantine, and the peak
	 * size would count every allocation ever made: not here.
	 */
	assert_true(asprintf(&asan, "ASAN_OPTIONS=%s%squarantine_size_mb=0",
			getenv("ASAN_OPTIONS") ? getenv("ASAN_OPTIONS") : "",
			getenv("ASAN_OPTIONS") ? ":" : "") > 0);
	extra_env[0] = asan;
	extra_env[1] = NULL;
	/* How much memory the daemon takes for these alerts, quietly. */
	write_items_config(
	    fx, "", "record", "[hook \"record\"]\ncommand = ./hook.sh\n");
	run_daemon_ok(fx);
	quiet = fx->maxrss;
	path_in(fx, path, sizeof path, "feedwatch.db");
	assert_int_equal(unlink(path), 0);
	path_in(fx, path, sizeof path, "deliveries");
	assert_int_equal(unlink(path), 0);

	write_items_config(fx, "", "mute, loud, record",
	    "[hook \"mute\"]\ncommand = ./mute.sh\ntimeout = 2s\n"
	    "[hook \"loud\"]\ncommand = ./loud.sh\n"
	    "[hook \"record\"]\ncommand = ./hook.sh\n");
	status = run_daemon(fx, fx->conf, &err);
	extra_env[0] = NULL;
	free(asan);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg(
		    "feedwatchd: wait status %#x; stderr:\n%s", status, err);
	assert_int_equal(count_deliveries(fx), 2);
	assert_int_equal(db_count(fx,
			     "SELECT count(*) FROM alerts WHERE hook != 'mute'"
			     " AND state = 'delivered'"),
	    4);
	assert_int_equal(db_count(fx,
			     "SELECT count(*) FROM alerts WHERE hook = 'mute'"
			     " AND state = 'pending'"
			     " AND last_error = 'timed out after 2s'"),
	    2);
	/* record was done before mute's first timeout. */
	mute = strstr(err, "hook mute: alert ");
	record = strstr(err, "delivered by hook record");
	assert_non_null(mute);
	assert_non_null(record);
	assert_true(record < mute);
	assert_non_null(strstr(record + 1, "delivered by hook record"));
	assert_true(strstr(record + 1, "delivered by hook record") < mute);
	snprintf(want, sizeof want, "(%d more bytes of output not logged)",
	    10485760 - 65536);
	if (testutil_count_lines(err, "hook loud: ", want) != 2)
		fail_msg("want two \"%s\" lines", want);
	free(err);
	if (fx->maxrss > quiet + 8 * 1024)
		fail_msg("feedwatchd took %ld KiB, %ld KiB when quiet",
		    fx->maxrss, quiet);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_daemon_first_run_alerts,
		    daemon_setup, daemon_teardown),
		cmocka_unit_test_setup_teardown(test_daemon_second_run_quiet,
		    daemon_setup, daemon_teardown),
		cmocka_unit_test_setup_teardown(
		    test_daemon_failing_hook_retried, daemon_setup,
		    daemon_teardown),
		cmocka_unit_test_setup_teardown(test_daemon_bad_feeds_logged,
		    daemon_setup, daemon_teardown),
		cmocka_unit_test_setup_teardown(
		    test_daemon_one_daemon_a_database, daemon_setup,
		    daemon_teardown),
		cmocka_unit_test_setup_teardown(test_daemon_bad_config_refused,
		    daemon_setup, daemon_teardown),
		cmocka_unit_test_setup_teardown(
		    test_daemon_sigterm_stops_cleanly, daemon_setup,
		    daemon_teardown),
		cmocka_unit_test_setup_teardown(
		    test_daemon_sigterm_lets_hooks_finish, daemon_setup,
		    daemon_teardown),
		cmocka_unit_test_setup_teardown(
		    test_daemon_tempfail_counts_once_an_hour, daemon_setup,
		    daemon_teardown),
		cmocka_unit_test_setup_teardown(
		    test_daemon_notify_protocol, daemon_setup, daemon_teardown),
		cmocka_unit_test_setup_teardown(
		    test_daemon_sighup_reload, daemon_setup, daemon_teardown),
		cmocka_unit_test_setup_teardown(
		    test_daemon_failed_alerts_retried_by_hand, daemon_setup,
		    daemon_teardown),
		cmocka_unit_test_setup_teardown(
		    test_daemon_concurrency_one_in_order, daemon_setup,
		    daemon_teardown),
		cmocka_unit_test_setup_teardown(
		    test_daemon_concurrency_two_overlap, daemon_setup,
		    daemon_teardown),
		cmocka_unit_test_setup_teardown(
		    test_daemon_max_hooks, daemon_setup, daemon_teardown),
		cmocka_unit_test_setup_teardown(
		    test_daemon_rate, daemon_setup, daemon_teardown),
		cmocka_unit_test_setup_teardown(
		    test_daemon_digest, daemon_setup, daemon_teardown),
		cmocka_unit_test_setup_teardown(
		    test_daemon_digest_retried_whole, daemon_setup,
		    daemon_teardown),
		cmocka_unit_test_setup_teardown(
		    test_daemon_digest_every, daemon_setup, daemon_teardown),
		cmocka_unit_test_setup_teardown(
		    test_daemon_killed_redelivers_once, daemon_setup,
		    daemon_teardown),
		cmocka_unit_test_setup_teardown(
		    test_daemon_rude_hooks, daemon_setup, daemon_teardown),
	};

	if (argc != 2) {
		fprintf(stderr, "usage: %s FEEDWATCHD\n", argv[0]);
		return 2;
	}
	daemon_path = argv[1];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
