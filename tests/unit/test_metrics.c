#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* cmocka.h needs the standard headers above. */
#include <cmocka.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "metrics.h"
#include "prom.h"
#include "xmalloc.h"

/*
 * Metrics: the server on a test event_base, scraped by libcurl from a
 * thread while the loop runs; each page is read by a strict parser of
 * the Prometheus text format and its numbers checked against what was
 * recorded.
 */

struct fixture {
	struct event_base *base;
	struct metrics *m;
	int port;
};

/* One request to the server and what came back. */
struct scrape {
	struct event_base *base;
	const char *host; /* "127.0.0.1", "[::1]" */
	int port;
	const char *method;
	const char *path;
	long code;
	char *body;
	size_t len;
	char type[128];
	char allow[64];
	CURLcode rc;
	atomic_int is_done;
};

static size_t
scrape_write_cb(char *data, size_t size, size_t n, void *arg)
{
	struct scrape *s = arg;

	s->body = xreallocarray(s->body, s->len + size * n + 1, 1);
	memcpy(s->body + s->len, data, size * n);
	s->len += size * n;
	s->body[s->len] = '\0';
	return size * n;
}

static void *
scrape_thread(void *arg)
{
	struct scrape *s = arg;
	struct curl_header *h;
	char url[128], *type;
	CURL *c;

	snprintf(url, sizeof url, "http://%s:%d%s", s->host, s->port, s->path);
	c = curl_easy_init();
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, scrape_write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
	if (strcmp(s->method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	else if (strcmp(s->method, "POST") == 0)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "x=1");
	else if (strcmp(s->method, "GET") != 0)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, s->method);
	s->rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &s->code);
	if (curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &type) == CURLE_OK &&
	    type != NULL)
		snprintf(s->type, sizeof s->type, "%s", type);
	if (curl_easy_header(c, "Allow", 0, CURLH_HEADER, -1, &h) == CURLHE_OK)
		snprintf(s->allow, sizeof s->allow, "%s", h->value);
	curl_easy_cleanup(c);
	atomic_store(&s->is_done, 1);
	return NULL;
}

/* The loop runs until the thread has its answer. */
static void
scrape_poll_cb(evutil_socket_t fd, short what, void *arg)
{
	struct scrape *s = arg;

	(void)fd;
	(void)what;
	if (atomic_load(&s->is_done))
		event_base_loopbreak(s->base);
}

/* Request method path from the server on host, running the loop. */
static void
scrape_host(struct scrape *s, struct event_base *base, const char *host,
    int port, const char *method, const char *path)
{
	struct timeval tv = { 0, 5000 };
	struct event *poll;
	pthread_t t;

	memset(s, 0, sizeof *s);
	s->base = base;
	s->host = host;
	s->port = port;
	s->method = method;
	s->path = path;
	assert_non_null(
	    poll = event_new(base, -1, EV_PERSIST, scrape_poll_cb, s));
	assert_int_equal(event_add(poll, &tv), 0);
	assert_int_equal(pthread_create(&t, NULL, scrape_thread, s), 0);
	while (!atomic_load(&s->is_done))
		assert_int_not_equal(event_base_dispatch(base), -1);
	assert_int_equal(pthread_join(t, NULL), 0);
	event_free(poll);
	if (s->rc != CURLE_OK)
		fail_msg("%s %s: %s", method, path, curl_easy_strerror(s->rc));
}

static void
scrape(
    struct scrape *s, struct fixture *fx, const char *method, const char *path)
{
	scrape_host(s, fx->base, "127.0.0.1", fx->port, method, path);
}

static void
scrape_clear(struct scrape *s)
{
	free(s->body);
	s->body = NULL;
}

/* Run the loop for a while, for its timers. */
static void
run_for(struct event_base *base, long usec)
{
	struct timeval tv = { usec / 1000000, usec % 1000000 };

	assert_int_equal(event_base_loopexit(base, &tv), 0);
	assert_int_not_equal(event_base_dispatch(base), -1);
}

/* Scrape /metrics and parse it. */
static void
scrape_metrics(struct fixture *fx, struct prom *p)
{
	struct scrape s;

	scrape(&s, fx, "GET", "/metrics");
	assert_int_equal(s.code, 200);
	assert_string_equal(s.type, "text/plain; version=0.0.4; charset=utf-8");
	prom_parse(p, s.body);
	scrape_clear(&s);
}

static int
setup(void **state)
{
	struct fixture *fx = xcalloc(1, sizeof *fx);
	char *cause;

	if ((fx->base = event_base_new()) == NULL)
		return -1;
	if ((fx->m = metrics_new(fx->base, "127.0.0.1:0", &cause)) == NULL) {
		fprintf(stderr, "metrics_new: %s\n", cause);
		free(cause);
		return -1;
	}
	fx->port = metrics_port(fx->m);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	metrics_free(fx->m);
	event_base_free(fx->base);
	free(fx);
	return 0;
}

/* What was recorded is what /metrics says, in valid exposition. */
static void
test_metrics_counts_recorded(void **state)
{
	struct fixture *fx = *state;
	struct prom p;

	metrics_fetch(fx->m, 200, 1000);
	metrics_fetch(fx->m, 200, 2000);
	metrics_fetch(fx->m, 304, 0);
	metrics_fetch(fx->m, 404, 50);
	metrics_fetch(fx->m, 0, 0);
	metrics_parse_error(fx->m);
	metrics_parse_error(fx->m);
	metrics_stories(fx->m, 5, 2);
	metrics_stories(fx->m, 1, 0);
	metrics_match(fx->m, "track-two");
	metrics_match(fx->m, "track-two");
	metrics_match(fx->m, "ports");
	metrics_hook_run(fx->m, "mail", 0.05, 1);
	metrics_hook_run(fx->m, "mail", 0.3, 1);
	metrics_hook_run(fx->m, "mail", 400, 0);
	metrics_hook_run(fx->m, "chat", 1.0, 0);
	scrape_metrics(fx, &p);
	assert_sample(&p, 2, "feedwatch_fetches_total", "status", "200");
	assert_sample(&p, 1, "feedwatch_fetches_total", "status", "304");
	assert_sample(&p, 1, "feedwatch_fetches_total", "status", "404");
	assert_sample(&p, 1, "feedwatch_fetches_total", "status", "none");
	assert_sample(&p, 3050, "feedwatch_fetched_bytes_total");
	assert_sample(&p, 2, "feedwatch_parse_errors_total");
	assert_sample(&p, 6, "feedwatch_stories_total", "kind", "new");
	assert_sample(&p, 2, "feedwatch_stories_total", "kind", "duplicate");
	assert_sample(
	    &p, 2, "feedwatch_matches_total", "watchlist", "track-two");
	assert_sample(&p, 1, "feedwatch_matches_total", "watchlist", "ports");
	assert_sample(
	    &p, 2, "feedwatch_hook_runs_total", "hook", "mail", "result", "ok");
	assert_sample(&p, 1, "feedwatch_hook_runs_total", "hook", "mail",
	    "result", "failed");
	assert_sample(
	    &p, 0, "feedwatch_hook_runs_total", "hook", "chat", "result", "ok");
	assert_sample(&p, 1, "feedwatch_hook_run_seconds_bucket", "hook",
	    "mail", "le", "0.1");
	assert_sample(&p, 2, "feedwatch_hook_run_seconds_bucket", "hook",
	    "mail", "le", "0.5");
	assert_sample(&p, 2, "feedwatch_hook_run_seconds_bucket", "hook",
	    "mail", "le", "300");
	assert_sample(&p, 3, "feedwatch_hook_run_seconds_bucket", "hook",
	    "mail", "le", "+Inf");
	assert_sample(
	    &p, 3, "feedwatch_hook_run_seconds_count", "hook", "mail");
	assert_sample(
	    &p, 400.35, "feedwatch_hook_run_seconds_sum", "hook", "mail");
	assert_sample(&p, 0, "feedwatch_hook_run_seconds_bucket", "hook",
	    "chat", "le", "0.5");
	assert_sample(&p, 1, "feedwatch_hook_run_seconds_bucket", "hook",
	    "chat", "le", "1");
	assert_sample(&p, 1, "feedwatch_build_info", "version", "0.1.0");
	/* No gauges callback: the daemon's gauges are left out. */
	assert_int_equal(prom_family_find(&p, "feedwatch_feeds"), -1);
	assert_int_equal(prom_family_find(&p, "feedwatch_alerts"), -1);
	prom_free(&p);
}

/* Metrics off: every recording function takes NULL. */
static void
test_metrics_null_is_off(void **state)
{
	(void)state;
	metrics_fetch(NULL, 200, 10);
	metrics_parse_error(NULL);
	metrics_stories(NULL, 1, 1);
	metrics_match(NULL, "w");
	metrics_hook_run(NULL, "h", 1, 1);
	metrics_free(NULL);
}

struct gauges_arg {
	int calls;
};

static void
gauges_cb(struct metrics_gauges *g, void *arg)
{
	struct gauges_arg *ga = arg;

	ga->calls++;
	assert_int_equal(g->feeds_ok, -1);
	g->feeds_ok = 3;
	g->feeds_failing = 1;
	g->alerts_pending = 2;
	g->alerts_failed = 0;
}

/* The daemon's gauges are asked for at each scrape; -1 is left out. */
static void
test_metrics_gauges_at_scrape(void **state)
{
	struct fixture *fx = *state;
	struct gauges_arg ga = { 0 };
	struct prom p;
	double v;

	metrics_set_gauges_cb(fx->m, gauges_cb, &ga);
	scrape_metrics(fx, &p);
	assert_int_equal(ga.calls, 1);
	assert_sample(&p, 3, "feedwatch_feeds", "state", "ok");
	assert_sample(&p, 1, "feedwatch_feeds", "state", "failing");
	assert_false(
	    prom_find(&p, &v, "feedwatch_feeds", "state", "gone", NULL));
	assert_sample(&p, 2, "feedwatch_alerts", "state", "pending");
	assert_sample(&p, 0, "feedwatch_alerts", "state", "failed");
	assert_false(
	    prom_find(&p, &v, "feedwatch_alerts", "state", "delivered", NULL));
	prom_free(&p);
	scrape_metrics(fx, &p);
	assert_int_equal(ga.calls, 2);
	prom_free(&p);
}

/* Label values are escaped; bytes that are not UTF-8 become U+FFFD. */
static void
test_metrics_labels_escaped(void **state)
{
	struct fixture *fx = *state;
	const char *odd = "a \"quoted\" \\ back\nslash";
	struct prom p;

	metrics_match(fx->m, odd);
	metrics_match(fx->m, "caf\xc3\xa9");
	metrics_match(fx->m, "bad\xff");
	metrics_hook_run(fx->m, odd, 2, 1);
	scrape_metrics(fx, &p);
	assert_sample(&p, 1, "feedwatch_matches_total", "watchlist", odd);
	assert_sample(
	    &p, 1, "feedwatch_matches_total", "watchlist", "caf\xc3\xa9");
	assert_sample(
	    &p, 1, "feedwatch_matches_total", "watchlist", "bad\xef\xbf\xbd");
	assert_sample(&p, 1, "feedwatch_hook_run_seconds_count", "hook", odd);
	prom_free(&p);
}

/* Past METRICS_MAX_SERIES watchlists, the rest count under "". */
static void
test_metrics_series_bounded(void **state)
{
	struct fixture *fx = *state;
	char name[32];
	struct prom p;
	double sum = 0;
	int n = 0;

	for (int i = 0; i < METRICS_MAX_SERIES + 5; i++) {
		snprintf(name, sizeof name, "w%d", i);
		metrics_match(fx->m, name);
	}
	metrics_match(fx->m, "w0");
	metrics_match(fx->m, "w1000000");
	scrape_metrics(fx, &p);
	for (size_t i = 0; i < p.n; i++) {
		if (strcmp(p.samples[i].name, "feedwatch_matches_total") != 0)
			continue;
		n++;
		sum += p.samples[i].value;
	}
	assert_int_equal(n, METRICS_MAX_SERIES + 1);
	assert_int_equal((int)sum, METRICS_MAX_SERIES + 7);
	assert_sample(&p, 2, "feedwatch_matches_total", "watchlist", "w0");
	assert_sample(&p, 6, "feedwatch_matches_total", "watchlist", "");
	prom_free(&p);
}

/* GET and HEAD only; other paths 404, other methods 405. */
static void
test_metrics_http(void **state)
{
	struct fixture *fx = *state;
	struct scrape s;

	scrape(&s, fx, "GET", "/healthz");
	assert_int_equal(s.code, 200);
	assert_string_equal(s.body, "ok\n");
	scrape_clear(&s);
	scrape(&s, fx, "HEAD", "/metrics");
	assert_int_equal(s.code, 200);
	assert_int_equal(s.len, 0);
	assert_string_equal(s.type, "text/plain; version=0.0.4; charset=utf-8");
	scrape_clear(&s);
	scrape(&s, fx, "GET", "/metrics?name=x");
	assert_int_equal(s.code, 200);
	scrape_clear(&s);
	scrape(&s, fx, "GET", "/nope");
	assert_int_equal(s.code, 404);
	scrape_clear(&s);
	scrape(&s, fx, "GET", "/metrics/");
	assert_int_equal(s.code, 404);
	scrape_clear(&s);
	scrape(&s, fx, "POST", "/metrics");
	assert_int_equal(s.code, 405);
	assert_string_equal(s.allow, "GET, HEAD");
	scrape_clear(&s);
	scrape(&s, fx, "DELETE", "/healthz");
	assert_int_equal(s.code, 405);
	scrape_clear(&s);
	scrape(&s, fx, "OPTIONS", "/metrics");
	assert_int_equal(s.code, 405);
	scrape_clear(&s);
}

static void
block_cb(evutil_socket_t fd, short what, void *arg)
{
	struct timespec ts = { 1, 600000000 };

	(void)fd;
	(void)what;
	(void)arg;
	nanosleep(&ts, NULL);
}

/*
 * A loop held up past the lag allowed makes /healthz 503 and shows in
 * the lag histogram; it is 200 again once the timer runs on time.
 */
static void
test_metrics_loop_lag(void **state)
{
	struct fixture *fx = *state;
	struct timeval now = { 0, 0 };
	struct scrape s;
	struct prom p;
	double v;

	metrics_set_max_lag(fx->m, 0.25);
	assert_int_equal(
	    event_base_once(fx->base, -1, EV_TIMEOUT, block_cb, NULL, &now), 0);
	run_for(fx->base, 1800000);
	scrape(&s, fx, "GET", "/healthz");
	assert_int_equal(s.code, 503);
	assert_non_null(strstr(s.body, "event loop"));
	scrape_clear(&s);
	scrape_metrics(fx, &p);
	assert_true(
	    prom_find(&p, &v, "feedwatch_event_loop_lag_seconds_count", NULL));
	assert_true(v >= 1);
	assert_true(
	    prom_find(&p, &v, "feedwatch_event_loop_lag_last_seconds", NULL));
	assert_true(v >= 0.25);
	assert_sample(
	    &p, 0, "feedwatch_event_loop_lag_seconds_bucket", "le", "0.1");
	prom_free(&p);
	run_for(fx->base, 1300000);
	scrape(&s, fx, "GET", "/healthz");
	assert_int_equal(s.code, 200);
	scrape_clear(&s);
}

/* The address in use: metrics_new says where and why. */
static void
test_metrics_port_in_use(void **state)
{
	struct fixture *fx = *state;
	char addr[64], want[128], *cause = NULL;

	snprintf(addr, sizeof addr, "127.0.0.1:%d", fx->port);
	assert_string_equal(metrics_address(fx->m), addr);
	assert_null(metrics_new(fx->base, addr, &cause));
	snprintf(want, sizeof want, "%s: bind: Address already in use", addr);
	assert_string_equal(cause, want);
	free(cause);
}

/* [IPv6]:PORT binds IPv6, where the host has it. */
static void
test_metrics_ipv6(void **state)
{
	struct fixture *fx = *state;
	struct metrics *m;
	struct scrape s;
	char want[64], *cause;

	if ((m = metrics_new(fx->base, "[::1]:0", &cause)) == NULL) {
		/* No IPv6 loopback here (a container without it). */
		fprintf(stderr, "skipped: %s\n", cause);
		free(cause);
		skip();
	}
	snprintf(want, sizeof want, "[::1]:%d", metrics_port(m));
	assert_string_equal(metrics_address(m), want);
	scrape_host(&s, fx->base, "[::1]", metrics_port(m), "GET", "/healthz");
	assert_int_equal(s.code, 200);
	scrape_clear(&s);
	metrics_free(m);
}

/* ADDRESS:PORT, checked as the configuration is. */
static void
test_metrics_listen_check(void **state)
{
	static const struct {
		const char *addr;
		const char *error; /* NULL: good */
	} cases[] = {
		{ "127.0.0.1:9464", NULL },
		{ "0.0.0.0:1", NULL },
		{ "[::1]:9464", NULL },
		{ "[::]:65535", NULL },
		{ "127.0.0.1:0", NULL },
		{ "127.0.0.1", "\"127.0.0.1\": no port" },
		{ "127.0.0.1:", "\"127.0.0.1:\": no port" },
		{ "[::1]", "\"[::1]\": no port" },
		{ "[::1]:", "\"[::1]:\": no port" },
		{ ":9464", "\":9464\": no address" },
		{ "localhost:9464",
		    "\"localhost:9464\": \"localhost\" is not an IPv4 address" },
		{ "::1:9464", "write an IPv6 address in brackets" },
		{ "[::1:9464", "expected [IPv6]:PORT" },
		{ "[::1]9464", "expected [IPv6]:PORT" },
		{ "[127.0.0.1]:80", "\"127.0.0.1\" is not an IPv6 address" },
		{ "127.0.0.1:65536",
		    "\"65536\" is not a port from 0 to 65535" },
		{ "127.0.0.1:-1", "\"-1\" is not a port" },
		{ "127.0.0.1:http", "\"http\" is not a port" },
		{ "127.0.0.1:9464 ", "\"9464 \" is not a port" },
		{ "300.0.0.1:80", "\"300.0.0.1\" is not an IPv4 address" },
	};
	char *cause;
	int rc;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		cause = NULL;
		rc = metrics_listen_check(cases[i].addr, &cause);
		if (cases[i].error == NULL && rc != 0)
			fail_msg("%s: %s", cases[i].addr, cause);
		if (cases[i].error == NULL)
			continue;
		if (rc != -1)
			fail_msg("%s: accepted", cases[i].addr);
		if (strstr(cause, cases[i].error) == NULL)
			fail_msg("%s: \"%s\" lacks \"%s\"", cases[i].addr,
			    cause, cases[i].error);
		free(cause);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_metrics_counts_recorded, setup, teardown),
		cmocka_unit_test(test_metrics_null_is_off),
		cmocka_unit_test_setup_teardown(
		    test_metrics_gauges_at_scrape, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_metrics_labels_escaped, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_metrics_series_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_metrics_http, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_metrics_loop_lag, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_metrics_port_in_use, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_metrics_ipv6, setup, teardown),
		cmocka_unit_test(test_metrics_listen_check),
	};
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
