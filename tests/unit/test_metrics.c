#include <math.h>
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
#include "xmalloc.h"

/*
 * Metrics: the server on a test event_base, scraped by libcurl from a
 * thread while the loop runs; each page is read by a strict parser of
 * the Prometheus text format and its numbers checked against what was
 * recorded.
 */

#define TEST_MAX_LABELS 8

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

/*
 * A strict reader of the Prometheus text format (0.0.4): every line
 * a comment (# HELP, # TYPE) or a sample; every family's HELP and TYPE
 * before its samples, once, and its samples together; counters named
 * _total; histograms' buckets cumulative up to +Inf, which is _count.
 */
struct prom_sample {
	char *name;
	char *keys[TEST_MAX_LABELS];
	char *values[TEST_MAX_LABELS]; /* unescaped */
	int nlabels;
	double value;
	int family;
};

struct prom_family {
	char *name;
	char *type;
	int has_help;
	int has_samples;
};

struct prom {
	struct prom_sample *samples;
	size_t n;
	struct prom_family families[64];
	int nfamilies;
	int current; /* the family whose samples may follow */
};

static int
prom_is_name(const char *s, size_t len, int colons)
{
	if (len == 0)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!(c == '_' || (c >= 'a' && c <= 'z') ||
			(c >= 'A' && c <= 'Z') ||
			(i > 0 && c >= '0' && c <= '9') ||
			(colons && c == ':')))
			return 0;
	}
	return 1;
}

static int
prom_family_find(const struct prom *p, const char *name)
{
	for (int i = 0; i < p->nfamilies; i++) {
		if (strcmp(p->families[i].name, name) == 0)
			return i;
	}
	return -1;
}

/* "# HELP name text" or "# TYPE name type". */
static void
prom_comment(struct prom *p, const char *line)
{
	static const char *types[] = { "counter", "gauge", "histogram",
		"summary", "untyped" };
	const char *name = line + 7, *end;
	struct prom_family *f;
	char *n;
	int i, is_help = strncmp(line, "# HELP ", 7) == 0;

	if (!is_help && strncmp(line, "# TYPE ", 7) != 0)
		fail_msg("not HELP or TYPE: %s", line);
	end = name + strcspn(name, " ");
	if (*end != ' ' || !prom_is_name(name, (size_t)(end - name), 1))
		fail_msg("bad metric name: %s", line);
	n = xstrndup(name, (size_t)(end - name));
	if ((i = prom_family_find(p, n)) == -1) {
		assert_true(p->nfamilies < 64);
		i = p->nfamilies++;
		p->families[i].name = n;
	} else
		free(n);
	f = &p->families[i];
	if (f->has_samples)
		fail_msg("%s after the family's samples", line);
	if (is_help) {
		if (f->has_help++)
			fail_msg("second HELP: %s", line);
	} else {
		if (f->type != NULL)
			fail_msg("second TYPE: %s", line);
		for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
			if (strcmp(end + 1, types[t]) == 0)
				f->type = xstrdup(types[t]);
		}
		if (f->type == NULL)
			fail_msg("unknown type: %s", line);
	}
	p->current = i;
}

/* Read label values in quotes with \\, \" and \n; return past them. */
static const char *
prom_label_value(const char *s, char **out, const char *line)
{
	char *v = xmalloc(strlen(s) + 1);
	size_t o = 0;

	if (*s++ != '"')
		fail_msg("label value without quotes: %s", line);
	for (; *s != '"'; s++) {
		if (*s == '\0' || *s == '\n')
			fail_msg("unterminated label value: %s", line);
		if (*s != '\\') {
			v[o++] = *s;
			continue;
		}
		s++;
		if (*s == 'n')
			v[o++] = '\n';
		else if (*s == '\\' || *s == '"')
			v[o++] = *s;
		else
			fail_msg("bad escape in label value: %s", line);
	}
	v[o] = '\0';
	*out = v;
	return s + 1;
}

static const char *
prom_labels(struct prom_sample *x, const char *s, const char *line)
{
	const char *eq;

	while (*s != '}') {
		eq = strchr(s, '=');
		if (eq == NULL || !prom_is_name(s, (size_t)(eq - s), 0))
			fail_msg("bad label name: %s", line);
		assert_true(x->nlabels < TEST_MAX_LABELS);
		x->keys[x->nlabels] = xstrndup(s, (size_t)(eq - s));
		for (int i = 0; i < x->nlabels; i++) {
			if (strcmp(x->keys[i], x->keys[x->nlabels]) == 0)
				fail_msg("label twice: %s", line);
		}
		s = prom_label_value(eq + 1, &x->values[x->nlabels++], line);
		if (*s == ',')
			s++;
		else if (*s != '}')
			fail_msg("expected , or }: %s", line);
	}
	return s + 1;
}

static double
prom_number(const char *s, const char *line)
{
	char *end;
	double v;

	if (strcmp(s, "+Inf") == 0)
		return INFINITY;
	if (strcmp(s, "-Inf") == 0)
		return -INFINITY;
	if (strcmp(s, "NaN") == 0)
		return NAN;
	v = strtod(s, &end);
	if (end == s || *end != '\0')
		fail_msg("bad value \"%s\": %s", s, line);
	return v;
}

/* The family a sample belongs to: a histogram's _bucket, _sum, _count. */
static int
prom_sample_family(const struct prom *p, const char *name)
{
	static const char *suffixes[] = { "_bucket", "_sum", "_count" };
	size_t len = strlen(name), slen;
	const struct prom_family *f;
	int i;

	if ((i = prom_family_find(p, name)) != -1)
		return i;
	for (size_t j = 0; j < sizeof suffixes / sizeof suffixes[0]; j++) {
		slen = strlen(suffixes[j]);
		if (len <= slen || strcmp(name + len - slen, suffixes[j]) != 0)
			continue;
		for (i = 0; i < p->nfamilies; i++) {
			f = &p->families[i];
			if (strlen(f->name) == len - slen &&
			    strncmp(f->name, name, len - slen) == 0 &&
			    f->type != NULL &&
			    strcmp(f->type, "histogram") == 0)
				return i;
		}
	}
	return -1;
}

static void
prom_sample(struct prom *p, const char *line)
{
	struct prom_sample *x;
	struct prom_family *f;
	const char *s = line;
	size_t len = strcspn(line, "{ ");

	if (!prom_is_name(line, len, 1))
		fail_msg("bad sample name: %s", line);
	p->samples = xreallocarray(p->samples, p->n + 1, sizeof *p->samples);
	x = &p->samples[p->n++];
	memset(x, 0, sizeof *x);
	x->name = xstrndup(line, len);
	s += len;
	if (*s == '{')
		s = prom_labels(x, s + 1, line);
	if (*s++ != ' ')
		fail_msg("no value: %s", line);
	if (strchr(s, ' ') != NULL)
		fail_msg("a timestamp or junk after the value: %s", line);
	x->value = prom_number(s, line);
	if ((x->family = prom_sample_family(p, x->name)) == -1)
		fail_msg("sample before its HELP and TYPE: %s", line);
	f = &p->families[x->family];
	if (!f->has_help || f->type == NULL)
		fail_msg("family without HELP or TYPE: %s", line);
	if (x->family != p->current)
		fail_msg("the family's samples are not together: %s", line);
	if (strcmp(f->type, "counter") == 0 &&
	    (strlen(f->name) < 6 ||
		strcmp(f->name + strlen(f->name) - 6, "_total") != 0))
		fail_msg("a counter not named _total: %s", line);
	f->has_samples = 1;
}

/* The labels of x but le, in one string, for grouping and look-ups. */
static char *
prom_key(const struct prom_sample *x)
{
	char *k = xstrdup(""), *t;

	for (int i = 0; i < x->nlabels; i++) {
		if (strcmp(x->keys[i], "le") == 0)
			continue;
		xasprintf(&t, "%s%s=\"%s\",", k, x->keys[i], x->values[i]);
		free(k);
		k = t;
	}
	return k;
}

static const char *
prom_label(const struct prom_sample *x, const char *key)
{
	for (int i = 0; i < x->nlabels; i++) {
		if (strcmp(x->keys[i], key) == 0)
			return x->values[i];
	}
	return NULL;
}

/* One series of a histogram: buckets rise to +Inf, which is _count. */
static void
prom_check_series(
    const struct prom *p, const struct prom_family *f, const char *key)
{
	char bucket[128], sum[128], count[128], *k;
	double le = -INFINITY, last = 0, n = -1;
	int has_sum = 0, nbuckets = 0;
	const struct prom_sample *x;

	snprintf(bucket, sizeof bucket, "%s_bucket", f->name);
	snprintf(sum, sizeof sum, "%s_sum", f->name);
	snprintf(count, sizeof count, "%s_count", f->name);
	for (size_t i = 0; i < p->n; i++) {
		x = &p->samples[i];
		k = prom_key(x);
		if (strcmp(k, key) != 0 || &p->families[x->family] != f) {
			free(k);
			continue;
		}
		free(k);
		if (strcmp(x->name, bucket) == 0) {
			const char *v = prom_label(x, "le");
			double b;

			assert_non_null(v);
			b = prom_number(v, x->name);
			if (b <= le || x->value < last)
				fail_msg("%s{%s}: buckets not cumulative",
				    f->name, key);
			le = b;
			last = x->value;
			nbuckets++;
		} else if (strcmp(x->name, sum) == 0) {
			assert_null(prom_label(x, "le"));
			has_sum++;
		} else if (strcmp(x->name, count) == 0) {
			assert_null(prom_label(x, "le"));
			n = x->value;
		} else
			fail_msg("%s in histogram %s", x->name, f->name);
	}
	if (nbuckets < 2 || !isinf(le) || has_sum != 1 || n != last)
		fail_msg("%s{%s}: %d buckets, last le %g (%g) vs _count %g, "
			 "%d _sum",
		    f->name, key, nbuckets, le, last, n, has_sum);
}

static void
prom_check_histograms(const struct prom *p)
{
	const struct prom_sample *x;
	const struct prom_family *f;
	char *key;

	for (size_t i = 0; i < p->n; i++) {
		x = &p->samples[i];
		f = &p->families[x->family];
		if (strcmp(f->type, "histogram") != 0)
			continue;
		key = prom_key(x);
		prom_check_series(p, f, key);
		free(key);
	}
}

/* No two samples share a name and labels. */
static void
prom_check_unique(const struct prom *p)
{
	const struct prom_sample *x, *y;
	const char *lx, *ly;
	char *a, *b;
	int same;

	for (size_t i = 0; i < p->n; i++) {
		for (size_t j = i + 1; j < p->n; j++) {
			x = &p->samples[i];
			y = &p->samples[j];
			if (strcmp(x->name, y->name) != 0)
				continue;
			a = prom_key(x);
			b = prom_key(y);
			lx = prom_label(x, "le");
			ly = prom_label(y, "le");
			same = strcmp(a, b) == 0 &&
			    (lx == NULL ? ly == NULL :
					  ly != NULL && strcmp(lx, ly) == 0);
			free(b);
			if (same)
				fail_msg("%s{%s} twice", x->name, a);
			free(a);
		}
	}
}

static void
prom_parse(struct prom *p, const char *text)
{
	const char *line = text, *end;
	char *copy;

	memset(p, 0, sizeof *p);
	p->current = -1;
	assert_true(*text != '\0');
	for (; *line != '\0'; line = end + 1) {
		if ((end = strchr(line, '\n')) == NULL)
			fail_msg("the last line has no newline");
		copy = xstrndup(line, (size_t)(end - line));
		if (*copy == '\0')
			fail_msg("an empty line");
		if (*copy == '#')
			prom_comment(p, copy);
		else
			prom_sample(p, copy);
		free(copy);
	}
	prom_check_histograms(p);
	prom_check_unique(p);
}

static void
prom_free(struct prom *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->samples[i].name);
		for (int j = 0; j < p->samples[i].nlabels; j++) {
			free(p->samples[i].keys[j]);
			free(p->samples[i].values[j]);
		}
	}
	free(p->samples);
	for (int i = 0; i < p->nfamilies; i++) {
		free(p->families[i].name);
		free(p->families[i].type);
	}
}

/*
 * The sample name{labels}, labels given as key, value, ..., NULL and
 * all of its labels: found sets *v and returns 1, else returns 0.
 */
static int
prom_find(const struct prom *p, double *v, const char *name, ...)
{
	const struct prom_sample *x;
	const char *key, *want, *have;
	va_list ap;
	int n, ok;

	for (size_t i = 0; i < p->n; i++) {
		x = &p->samples[i];
		if (strcmp(x->name, name) != 0)
			continue;
		ok = 1;
		n = 0;
		va_start(ap, name);
		while ((key = va_arg(ap, const char *)) != NULL) {
			want = va_arg(ap, const char *);
			have = prom_label(x, key);
			n++;
			if (have == NULL || strcmp(have, want) != 0)
				ok = 0;
		}
		va_end(ap);
		if (ok && n == x->nlabels) {
			*v = x->value;
			return 1;
		}
	}
	return 0;
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

#define assert_sample(p, want, ...)                                    \
	do {                                                           \
		double v_;                                             \
		if (!prom_find(p, &v_, __VA_ARGS__, NULL))             \
			fail_msg("no sample %s", #__VA_ARGS__);        \
		if (v_ != (double)(want))                              \
			fail_msg("%s is %g, not %g", #__VA_ARGS__, v_, \
			    (double)(want));                           \
	} while (0)

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
