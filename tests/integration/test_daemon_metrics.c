#include <sys/types.h>
#include <sys/wait.h>

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

/* cmocka.h needs the standard headers above. */
#include <cmocka.h>

#include <curl/curl.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "prom.h"
#include "testutil.h"

/*
 * feedwatchd in the foreground with metrics = 127.0.0.1:0, polling
 * feeds served by evhttp from the test's own event_base: once the run
 * is done, /metrics is scraped, read strictly, and its numbers checked
 * against what the run did; then SIGTERM.
 */

#define TEST_WATCHDOG 60 /* seconds before a hung daemon is killed */
#define TEST_NFEEDS 5	 /* configured */
#define TEST_SERVING "metrics: serving http://127.0.0.1:"

/* What the fixture server answers, by path. */
struct route {
	const char *path;
	int status;
	const char *body;
};

static const struct route routes[] = {
	{ "/rss.xml", 200,
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<rss version=\"2.0\"><channel><title>Fixture wire</title>\n"
	    "<link>https://wire.example.org/</link>\n"
	    "<item><title>Envoys meet quietly in Geneva</title>\n"
	    "<link>https://wire.example.org/2023/07/09/geneva-envoys</link>\n"
	    "<guid isPermaLink=\"false\">wire-1001</guid>\n"
	    "<description>Former officials held what insiders call track two "
	    "diplomacy with scholars close to the Kremlin.</description>"
	    "</item>\n"
	    "<item><title>A new doctrine for the region</title>\n"
	    "<link>https://wire.example.org/2023/07/09/doctrine</link>\n"
	    "<guid isPermaLink=\"false\">wire-1002</guid>\n"
	    "<description>Analysts describe a track twofold diplomacy built "
	    "on trade and defence.</description></item>\n"
	    "<item><title>Heat wave grips the coast</title>\n"
	    "<link>https://wire.example.org/2023/07/08/heat</link>\n"
	    "<guid isPermaLink=\"false\">wire-1003</guid>\n"
	    "<description>Cooling centres open in six cities.</description>"
	    "</item>\n"
	    "</channel></rss>\n" },
	{ "/atom.xml", 200,
	    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	    "<feed xmlns=\"http://www.w3.org/2005/Atom\">\n"
	    "<title>Fixture desk</title><id>tag:desk.example.org,2023:feed</id>\n"
	    "<updated>2023-07-09T18:00:00+02:00</updated>\n"
	    "<entry><title>Summit delegates compare notes</title>\n"
	    "<link rel=\"alternate\" href=\"https://desk.example.org/summit\"/>\n"
	    "<id>tag:desk.example.org,2023:summit</id>\n"
	    "<updated>2023-07-09T17:45:00+02:00</updated>\n"
	    "<summary>Delegates discussed track two diplomacy at the "
	    "summit.</summary></entry>\n"
	    "<entry><title>Harbour reopens after repairs</title>\n"
	    "<link rel=\"alternate\" href=\"https://desk.example.org/harbour\"/>\n"
	    "<id>tag:desk.example.org,2023:harbour</id>\n"
	    "<updated>2023-07-09T12:00:00Z</updated>\n"
	    "<summary>Ferries run again from Monday.</summary></entry>\n"
	    "</feed>\n" },
	{ "/404", 404, "<p>No such feed.</p>\n" },
	{ "/notxml", 200, "this is not xml at all\n" },
};

#define NROUTES (sizeof routes / sizeof routes[0])

struct fixture {
	char dir[64];
	char conf[PATH_MAX];
	char errpath[PATH_MAX];
	struct event_base *base;
	struct evhttp *http;
	int port;
	int hits[NROUTES];
	struct testutil_proc daemon;
	int metrics_port; /* 0 until the daemon logs it */
	char *page;	  /* /metrics once the run settled */
	long healthz;	  /* /healthz's status then */
	int scrapes;
};

static const char *daemon_path;

static void
server_cb(struct evhttp_request *req, void *arg)
{
	struct fixture *fx = arg;
	const char *path;
	struct evbuffer *buf;

	path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	for (size_t i = 0; path != NULL && i < NROUTES; i++) {
		if (strcmp(path, routes[i].path) != 0)
			continue;
		fx->hits[i]++;
		assert_non_null(buf = evbuffer_new());
		evbuffer_add(buf, routes[i].body, strlen(routes[i].body));
		evhttp_send_reply(req, routes[i].status, "Whatever", buf);
		evbuffer_free(buf);
		return;
	}
	evhttp_send_error(req, HTTP_NOTFOUND, NULL);
}

/* The hook appends a line to $DIR/deliveries per alert it is given. */
static void
write_setup(struct fixture *fx)
{
	char path[PATH_MAX + 32], *text;

	snprintf(path, sizeof path, "%s/hook.sh", fx->dir);
	assert_true(asprintf(&text,
			"#!/bin/sh\ncat >/dev/null\n"
			"echo \"$FEEDWATCH_ALERT_ID\" >>'%s/deliveries'\n",
			fx->dir) > 0);
	testutil_write_file(path, text, 0755);
	free(text);
	assert_true(
	    asprintf(&text,
		"[daemon]\n"
		"database = feedwatch.db\n"
		"metrics = 127.0.0.1:0\n\n"
		"[feed \"rss\"]\nurl = http://127.0.0.1:%d/rss.xml\n"
		"[feed \"atom\"]\nurl = http://127.0.0.1:%d/atom.xml\n"
		"[feed \"missing\"]\nurl = http://127.0.0.1:%d/404\n"
		"[feed \"garbage\"]\nurl = http://127.0.0.1:%d/notxml\n"
		"[feed \"closed\"]\nurl = http://127.0.0.1:1/feed.xml\n\n"
		"[watchlist \"track-two\"]\n"
		"query = \"track two diplomacy\"\nhooks = record\n\n"
		"[hook \"record\"]\ncommand = ./hook.sh\ntimeout = 10s\n",
		fx->port, fx->port, fx->port, fx->port) > 0);
	testutil_write_file(fx->conf, text, 0644);
	free(text);
}

static int
setup(void **state)
{
	struct fixture *fx;

	assert_non_null(fx = calloc(1, sizeof *fx));
	testutil_tmpdir(fx->dir, sizeof fx->dir, "metrics");
	snprintf(fx->conf, sizeof fx->conf, "%s/feedwatch.conf", fx->dir);
	snprintf(fx->errpath, sizeof fx->errpath, "%s/stderr", fx->dir);
	assert_non_null(fx->base = event_base_new());
	fx->http = testutil_http_start(fx->base, server_cb, fx, &fx->port);
	write_setup(fx);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	testutil_http_free(fx->http, fx->base);
	testutil_rmtree(fx->dir);
	free(fx->page);
	free(fx);
	return 0;
}

struct body {
	char *s;
	size_t len;
};

static size_t
body_cb(char *data, size_t size, size_t n, void *arg)
{
	struct body *b = arg;

	assert_non_null(b->s = realloc(b->s, b->len + size * n + 1));
	memcpy(b->s + b->len, data, size * n);
	b->len += size * n;
	b->s[b->len] = '\0';
	return size * n;
}

/* GET a page of the daemon's; return its status and, if asked, body. */
static long
fetch_page(struct fixture *fx, const char *path, char **out)
{
	struct body b = { NULL, 0 };
	char url[128];
	long code = 0;
	CURL *c;

	snprintf(
	    url, sizeof url, "http://127.0.0.1:%d%s", fx->metrics_port, path);
	assert_non_null(c = curl_easy_init());
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	if (out != NULL)
		*out = b.s;
	else
		free(b.s);
	return code;
}

/* The port the daemon logged, once it has. */
static void
find_port(struct fixture *fx)
{
	char *err = testutil_read_file(fx->errpath), *at;

	if (err != NULL && (at = strstr(err, TEST_SERVING)) != NULL)
		fx->metrics_port = atoi(at + strlen(TEST_SERVING));
	free(err);
}

/* Has the run done all it will: every feed fetched, every alert run? */
static int
page_is_settled(const char *page)
{
	struct prom p;
	double fetches = 0, runs = 0, v;

	prom_parse(&p, page);
	for (size_t i = 0; i < p.n; i++) {
		if (strcmp(p.samples[i].name, "feedwatch_fetches_total") == 0)
			fetches += p.samples[i].value;
	}
	if (prom_find(&p, &v, "feedwatch_hook_runs_total", "hook", "record",
		"result", "ok", NULL))
		runs = v;
	prom_free(&p);
	return fetches == TEST_NFEEDS && runs == 2;
}

/*
 * Every 100 ms: once the daemon serves metrics and the run has
 * settled, keep the page and stop the daemon as systemd would.
 */
static void
poll_cb(struct testutil_proc *p)
{
	struct fixture *fx = p->arg;
	char *page;

	if (fx->page != NULL)
		return;
	if (fx->metrics_port == 0 && (find_port(fx), fx->metrics_port == 0))
		return;
	fx->scrapes++;
	if (fetch_page(fx, "/metrics", &page) != 200 || page == NULL ||
	    !page_is_settled(page)) {
		free(page);
		return;
	}
	fx->page = page;
	fx->healthz = fetch_page(fx, "/healthz", NULL);
	kill(p->pid, SIGTERM);
}

/* Run the daemon in the foreground until poll_cb stops it. */
static void
run_daemon(struct fixture *fx)
{
	/* Our environment without the journal's log format (or proxies). */
	static const char *drop[] = { "JOURNAL_STREAM", NULL };
	char *argv[] = { (char *)daemon_path, "-c", fx->conf, NULL }, **env;
	struct testutil_proc *p = &fx->daemon;

	env = testutil_envp(drop, NULL);
	p->argv = argv;
	p->env = env;
	p->err = fx->errpath;
	p->watchdog = TEST_WATCHDOG;
	p->tick = 100;
	p->tick_cb = poll_cb;
	p->arg = fx;
	testutil_proc_run(p, fx->base);
	free(env);
}

/*
 * The scraped page is valid exposition and tells what the run did:
 * five fetches (three 200s, a 404, no answer), one document that is
 * not a feed, five new stories, two matches, two hook runs delivered.
 */
static void
test_daemon_metrics_agree_with_run(void **state)
{
	struct fixture *fx = *state;
	struct prom p;
	char *err;
	size_t bytes;

	run_daemon(fx);
	err = testutil_read_file(fx->errpath);
	if (fx->daemon.is_timed_out || fx->page == NULL)
		fail_msg(
		    "no settled /metrics (%d scrapes, port %d); stderr:\n%s",
		    fx->scrapes, fx->metrics_port, err);
	if (!WIFEXITED(fx->daemon.status) ||
	    WEXITSTATUS(fx->daemon.status) != 0)
		fail_msg("feedwatchd: wait status %#x; stderr:\n%s",
		    fx->daemon.status, err);
	free(err);
	assert_int_equal(fx->healthz, 200);
	prom_parse(&p, fx->page);
	assert_sample(&p, 3, "feedwatch_fetches_total", "status", "200");
	assert_sample(&p, 1, "feedwatch_fetches_total", "status", "404");
	assert_sample(&p, 1, "feedwatch_fetches_total", "status", "none");
	bytes = strlen(routes[0].body) + strlen(routes[1].body) +
	    strlen(routes[3].body);
	assert_sample(&p, bytes, "feedwatch_fetched_bytes_total");
	assert_sample(&p, 1, "feedwatch_parse_errors_total");
	assert_sample(&p, 5, "feedwatch_stories_total", "kind", "new");
	assert_sample(&p, 0, "feedwatch_stories_total", "kind", "duplicate");
	assert_sample(
	    &p, 2, "feedwatch_matches_total", "watchlist", "track-two");
	assert_sample(&p, 2, "feedwatch_hook_runs_total", "hook", "record",
	    "result", "ok");
	assert_sample(&p, 0, "feedwatch_hook_runs_total", "hook", "record",
	    "result", "failed");
	assert_sample(
	    &p, 2, "feedwatch_hook_run_seconds_count", "hook", "record");
	assert_sample(&p, 2, "feedwatch_feeds", "state", "ok");
	assert_sample(&p, 3, "feedwatch_feeds", "state", "failing");
	assert_sample(&p, 0, "feedwatch_alerts", "state", "pending");
	assert_sample(&p, 2, "feedwatch_alerts", "state", "delivered");
	assert_sample(&p, 0, "feedwatch_alerts", "state", "failed");
	assert_int_equal(fx->hits[0], 1);
	assert_int_equal(fx->hits[1], 1);
	prom_free(&p);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_daemon_metrics_agree_with_run, setup, teardown),
	};
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: %s FEEDWATCHD\n", argv[0]);
		return 2;
	}
	daemon_path = argv[1];
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
