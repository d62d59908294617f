#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <utf8proc.h>

#include "metrics.h"
#include "version.h"
#include "xmalloc.h"

/*
 * Metrics: numbers kept in memory as the daemon records them, and the
 * gauges only it knows asked for at each scrape; one evhttp server
 * renders them as Prometheus text. A 1 s timer measures the loop's lag.
 */

#define METRICS_LAG_EVERY 1	 /* seconds between lag probes */
#define METRICS_HTTP_TIMEOUT 10	 /* seconds a request may take */
#define METRICS_MAX_HEADERS 8192 /* bytes of a request's headers */
#define METRICS_MAX_BODY 1024	 /* bytes of a request's body */
#define METRICS_BACKLOG 16	 /* connections waiting for accept */
#define METRICS_NSTATUS 1000	 /* HTTP statuses counted: 0 to 999 */
#define METRICS_NBUCKETS 12	 /* finite buckets of a histogram, at most */
#define METRICS_NSLOTS (2 * METRICS_MAX_SERIES) /* a power of two */

#define METRICS_TYPE_TEXT "text/plain; charset=utf-8"
#define METRICS_TYPE_PROM "text/plain; version=0.0.4; charset=utf-8"

/* Upper bounds of the histograms' buckets, in seconds. */
static const double metrics_hook_bounds[] = { 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
	60, 120, 300 };
static const double metrics_lag_bounds[] = { 0.001, 0.005, 0.01, 0.05, 0.1, 0.5,
	1, 5, 10, 30 };

#define METRICS_NBOUNDS(a) (sizeof(a) / sizeof((a)[0]))

_Static_assert(METRICS_NBOUNDS(metrics_hook_bounds) <= METRICS_NBUCKETS &&
	METRICS_NBOUNDS(metrics_lag_bounds) <= METRICS_NBUCKETS,
    "METRICS_NBUCKETS holds every histogram");
_Static_assert((METRICS_NSLOTS & (METRICS_NSLOTS - 1)) == 0,
    "METRICS_NSLOTS is a power of two");

struct metrics_hist {
	uint64_t counts[METRICS_NBUCKETS]; /* per bucket, not cumulative */
	uint64_t count;
	double sum; /* seconds */
};

/* The numbers of one label value: a watchlist, or a hook. */
struct metrics_series {
	char *label; /* escaped for the exposition */
	uint64_t ok; /* matches; hook runs that delivered */
	uint64_t failed;
	struct metrics_hist hist;
};

/*
 * A family's label values, found by hash. Once METRICS_MAX_SERIES are
 * kept, further values are counted together under the empty label.
 */
struct metrics_family {
	struct metrics_series **slots; /* METRICS_NSLOTS, open addressing */
	struct metrics_series **list;  /* in order of arrival */
	size_t n;
	struct metrics_series *other; /* past the bound; NULL until then */
};

struct metrics {
	struct event_base *base;
	struct evhttp *http;
	char *address; /* "ADDRESS:PORT" as bound */
	int port;
	metrics_gauges_cb gauges_cb;
	void *gauges_arg;
	double max_lag;			   /* seconds */
	struct event *lag_ev;		   /* fires every METRICS_LAG_EVERY */
	double lag_due;			   /* CLOCK_MONOTONIC seconds */
	double lag_last;		   /* seconds */
	struct metrics_hist lag;	   /* seconds */
	time_t started;			   /* UTC seconds */
	uint64_t fetches[METRICS_NSTATUS]; /* by HTTP status, 0 = none */
	uint64_t fetched_bytes;
	uint64_t parse_errors;
	uint64_t stories_new;
	uint64_t stories_dup;
	struct metrics_family watchlists;
	struct metrics_family hooks;
};

/* A page the server answers; render writes it, returns its HTTP status. */
struct metrics_page {
	const char *path;
	const char *type;
	int (*render)(struct metrics *, struct evbuffer *);
};

static int metrics_render_healthz(struct metrics *, struct evbuffer *);
static int metrics_render_metrics(struct metrics *, struct evbuffer *);
static void metrics_http_cb(struct evhttp_request *, void *);
static void metrics_lag_cb(evutil_socket_t, short, void *);

static const struct metrics_page metrics_pages[] = {
	{ "/healthz", METRICS_TYPE_TEXT, metrics_render_healthz },
	{ "/metrics", METRICS_TYPE_PROM, metrics_render_metrics },
};

/*
 * Split addr into its address, port and family, checking each.
 * Return 0, or -1 with *cause. The caller frees *host.
 */
static int
metrics_listen_split(
    const char *addr, char **host, const char **port, int *family, char **cause)
{
	const char *end;

	*host = NULL;
	if (addr[0] == '[') {
		if ((end = strchr(addr, ']')) == NULL ||
		    (end[1] != ':' && end[1] != '\0')) {
			xasprintf(cause, "\"%s\": expected [IPv6]:PORT", addr);
			return -1;
		}
		*host = xstrndup(addr + 1, (size_t)(end - addr - 1));
		*family = AF_INET6;
		*port = end[1] == ':' ? end + 2 : end + 1;
	} else {
		if ((end = strrchr(addr, ':')) == NULL) {
			xasprintf(cause,
			    "\"%s\": no port (ADDRESS:PORT, e.g. "
			    "127.0.0.1:9464)",
			    addr);
			return -1;
		}
		if (memchr(addr, ':', (size_t)(end - addr)) != NULL) {
			xasprintf(cause,
			    "\"%s\": write an IPv6 address in brackets, "
			    "e.g. [::1]:9464",
			    addr);
			return -1;
		}
		*host = xstrndup(addr, (size_t)(end - addr));
		*family = AF_INET;
		*port = end + 1;
	}
	return 0;
}

/* Check the port's text: 0 to 65535, digits only. */
static int
metrics_port_check(const char *addr, const char *port, char **cause)
{
	size_t len = strlen(port);

	if (len == 0) {
		xasprintf(cause,
		    "\"%s\": no port (ADDRESS:PORT, e.g. 127.0.0.1:9464)",
		    addr);
		return -1;
	}
	if (len > 5 || strspn(port, "0123456789") != len ||
	    strtol(port, NULL, 10) > 65535) {
		xasprintf(cause, "\"%s\": \"%s\" is not a port from 0 to 65535",
		    addr, port);
		return -1;
	}
	return 0;
}

/*
 * Resolve addr, numerically only, into an address to bind. Return it
 * (free with freeaddrinfo), or NULL with *cause.
 */
static struct addrinfo *
metrics_listen_resolve(const char *addr, char **cause)
{
	struct addrinfo hints, *ai = NULL;
	const char *port;
	char *host;
	int family;

	if (metrics_listen_split(addr, &host, &port, &family, cause) == -1)
		return NULL;
	if (metrics_port_check(addr, port, cause) == -1) {
		free(host);
		return NULL;
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	if (*host == '\0')
		xasprintf(cause,
		    "\"%s\": no address (0.0.0.0 or [::] addr on "
		    "every one)",
		    addr);
	else if (getaddrinfo(host, port, &hints, &ai) != 0 || ai == NULL)
		xasprintf(cause, "\"%s\": \"%s\" is not an %s address", addr,
		    host, family == AF_INET ? "IPv4" : "IPv6");
	free(host);
	return ai;
}

int
metrics_listen_check(const char *addr, char **cause)
{
	struct addrinfo *ai;

	if ((ai = metrics_listen_resolve(addr, cause)) == NULL)
		return -1;
	freeaddrinfo(ai);
	return 0;
}

/*
 * Bind a listening socket to ai, an IPv6 one to IPv6 only: the server
 * listens where it was told and nowhere else. Return it, or -1.
 */
static int
metrics_bind(const char *addr, const struct addrinfo *ai, char **cause)
{
	const char *what;
	int fd, one = 1;

	fd = socket(
	    ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		xasprintf(cause, "%s: socket: %s", addr, strerror(errno));
		return -1;
	}
	what = "setsockopt";
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == -1 ||
	    (ai->ai_family == AF_INET6 &&
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) ==
		    -1) ||
	    (what = "bind", bind(fd, ai->ai_addr, ai->ai_addrlen) == -1) ||
	    (what = "listen", listen(fd, METRICS_BACKLOG) == -1)) {
		xasprintf(cause, "%s: %s: %s", addr, what, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Learn the port bound and write the address as it is served. */
static void
metrics_name(struct metrics *m, const char *addr, int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	const char *colon;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
		m->port = ntohs(ss.ss_family == AF_INET6 ?
			((struct sockaddr_in6 *)&ss)->sin6_port :
			((struct sockaddr_in *)&ss)->sin_port);
	colon = strrchr(addr, ':');
	xasprintf(&m->address, "%.*s:%d", (int)(colon - addr), addr, m->port);
}

static double
metrics_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
metrics_lag_arm(struct metrics *m)
{
	struct timeval tv = { METRICS_LAG_EVERY, 0 };

	/* The timer counts from the loop's cached time: make it now. */
	event_base_update_cache_time(m->base);
	m->lag_due = metrics_now() + METRICS_LAG_EVERY;
	evtimer_add(m->lag_ev, &tv);
}

struct metrics *
metrics_new(struct event_base *base, const char *addr, char **cause)
{
	struct addrinfo *ai;
	struct metrics *m;
	int fd;

	if ((ai = metrics_listen_resolve(addr, cause)) == NULL)
		return NULL;
	fd = metrics_bind(addr, ai, cause);
	freeaddrinfo(ai);
	if (fd == -1)
		return NULL;
	m = xcalloc(1, sizeof *m);
	m->base = base;
	m->max_lag = METRICS_MAX_LAG;
	m->started = time(NULL);
	metrics_name(m, addr, fd);
	if ((m->lag_ev = evtimer_new(base, metrics_lag_cb, m)) == NULL ||
	    (m->http = evhttp_new(base)) == NULL ||
	    evhttp_accept_socket_with_handle(m->http, fd) == NULL) {
		close(fd);
		xasprintf(cause, "%s: cannot set up evhttp", addr);
		metrics_free(m);
		return NULL;
	}
	/* Every method reaches metrics_http_cb, which answers 405. */
	evhttp_set_allowed_methods(m->http,
	    EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
		EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |
		EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
	evhttp_set_timeout(m->http, METRICS_HTTP_TIMEOUT);
	evhttp_set_max_headers_size(m->http, METRICS_MAX_HEADERS);
	evhttp_set_max_body_size(m->http, METRICS_MAX_BODY);
	evhttp_set_gencb(m->http, metrics_http_cb, m);
	metrics_lag_arm(m);
	return m;
}

static void
metrics_family_clear(struct metrics_family *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->list[i]->label);
		free(f->list[i]);
	}
	if (f->other != NULL) {
		free(f->other->label);
		free(f->other);
	}
	free(f->slots);
	free(f->list);
}

void
metrics_free(struct metrics *m)
{
	if (m == NULL)
		return;
	if (m->lag_ev != NULL)
		event_free(m->lag_ev);
	if (m->http != NULL)
		evhttp_free(m->http);
	metrics_family_clear(&m->watchlists);
	metrics_family_clear(&m->hooks);
	free(m->address);
	free(m);
}

int
metrics_port(const struct metrics *m)
{
	return m->port;
}

const char *
metrics_address(const struct metrics *m)
{
	return m->address;
}

void
metrics_set_gauges_cb(struct metrics *m, metrics_gauges_cb cb, void *arg)
{
	m->gauges_cb = cb;
	m->gauges_arg = arg;
}

void
metrics_set_max_lag(struct metrics *m, double seconds)
{
	m->max_lag = seconds;
}

/*
 * A label value as the exposition writes it between quotes: backslash,
 * quote and newline escaped, bytes that are not UTF-8 made U+FFFD.
 */
static char *
metrics_escape(const char *s)
{
	size_t len = strlen(s), o = 0;
	char *e = xmalloc(len * 3 + 1);
	utf8proc_int32_t c;
	utf8proc_ssize_t n;

	while (len > 0) {
		n = utf8proc_iterate(
		    (const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len, &c);
		if (n <= 0) {
			memcpy(e + o, "\xef\xbf\xbd", 3);
			o += 3;
			n = 1;
		} else if (c == '\\' || c == '"' || c == '\n') {
			e[o++] = '\\';
			e[o++] = c == '\n' ? 'n' : (char)c;
		} else {
			memcpy(e + o, s, (size_t)n);
			o += (size_t)n;
		}
		s += n;
		len -= (size_t)n;
	}
	e[o] = '\0';
	return e;
}

static uint64_t
metrics_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

static struct metrics_series *
metrics_series_new(const char *label)
{
	struct metrics_series *s = xcalloc(1, sizeof *s);

	s->label = metrics_escape(label);
	return s;
}

/* Find label's series in f, adding it while there is room. */
static struct metrics_series *
metrics_family_get(struct metrics_family *f, const char *label)
{
	struct metrics_series *s;
	char *escaped = metrics_escape(label);
	size_t i;

	if (f->slots == NULL) {
		f->slots = xcalloc(METRICS_NSLOTS, sizeof *f->slots);
		f->list = xcalloc(METRICS_MAX_SERIES, sizeof *f->list);
	}
	i = metrics_hash(escaped) & (METRICS_NSLOTS - 1);
	for (; (s = f->slots[i]) != NULL; i = (i + 1) & (METRICS_NSLOTS - 1)) {
		if (strcmp(s->label, escaped) == 0)
			break;
	}
	if (s == NULL && f->n < METRICS_MAX_SERIES) {
		s = f->slots[i] = f->list[f->n++] = metrics_series_new(label);
	} else if (s == NULL) {
		if (f->other == NULL)
			f->other = metrics_series_new("");
		s = f->other;
	}
	free(escaped);
	return s;
}

static void
metrics_hist_add(
    struct metrics_hist *h, const double *bounds, size_t nbounds, double v)
{
	for (size_t i = 0; i < nbounds; i++) {
		if (v <= bounds[i]) {
			h->counts[i]++;
			break;
		}
	}
	h->count++;
	h->sum += v;
}

void
metrics_fetch(struct metrics *m, int http_status, size_t bytes)
{
	if (m == NULL)
		return;
	if (http_status < 0 || http_status >= METRICS_NSTATUS)
		http_status = 0;
	m->fetches[http_status]++;
	m->fetched_bytes += bytes;
}

void
metrics_parse_error(struct metrics *m)
{
	if (m != NULL)
		m->parse_errors++;
}

void
metrics_stories(struct metrics *m, int new_count, int dup_count)
{
	if (m == NULL)
		return;
	if (new_count > 0)
		m->stories_new += (uint64_t)new_count;
	if (dup_count > 0)
		m->stories_dup += (uint64_t)dup_count;
}

void
metrics_match(struct metrics *m, const char *watchlist)
{
	if (m != NULL)
		metrics_family_get(&m->watchlists, watchlist)->ok++;
}

void
metrics_hook_run(struct metrics *m, const char *hook, double seconds, int ok)
{
	struct metrics_series *s;

	if (m == NULL)
		return;
	s = metrics_family_get(&m->hooks, hook);
	if (ok)
		s->ok++;
	else
		s->failed++;
	if (seconds < 0)
		seconds = 0;
	metrics_hist_add(&s->hist, metrics_hook_bounds,
	    METRICS_NBOUNDS(metrics_hook_bounds), seconds);
}

/* The loop ran this timer late by how much it is past its due time. */
static void
metrics_lag_cb(evutil_socket_t fd, short what, void *arg)
{
	struct metrics *m = arg;
	double lag = metrics_now() - m->lag_due;

	(void)fd;
	(void)what;
	m->lag_last = lag > 0 ? lag : 0;
	metrics_hist_add(&m->lag, metrics_lag_bounds,
	    METRICS_NBOUNDS(metrics_lag_bounds), m->lag_last);
	metrics_lag_arm(m);
}

/* The lag now: the last one measured, or more if the timer is late. */
static double
metrics_lag_now(const struct metrics *m)
{
	double late = metrics_now() - m->lag_due;

	return late > m->lag_last ? late : m->lag_last;
}

static int
metrics_render_healthz(struct metrics *m, struct evbuffer *b)
{
	double lag = metrics_lag_now(m);

	if (lag < m->max_lag) {
		evbuffer_add_printf(b, "ok\n");
		return 200;
	}
	evbuffer_add_printf(b, "event loop %.1f s late\n", lag);
	return 503;
}

static void
metrics_head(
    struct evbuffer *b, const char *name, const char *type, const char *help)
{
	evbuffer_add_printf(
	    b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/*
 * A histogram's samples. labels is "" or the series' own labels with
 * a trailing comma ("hook=\"x\","), to which le is added.
 */
static void
metrics_hist_print(struct evbuffer *b, const char *name, const char *labels,
    const struct metrics_hist *h, const double *bounds, size_t nbounds)
{
	size_t len = strlen(labels);
	uint64_t cum = 0;

	for (size_t i = 0; i < nbounds; i++) {
		cum += h->counts[i];
		evbuffer_add_printf(b, "%s_bucket{%sle=\"%g\"} %" PRIu64 "\n",
		    name, labels, bounds[i], cum);
	}
	evbuffer_add_printf(b, "%s_bucket{%sle=\"+Inf\"} %" PRIu64 "\n", name,
	    labels, h->count);
	if (len == 0) {
		evbuffer_add_printf(b, "%s_sum %.6f\n%s_count %" PRIu64 "\n",
		    name, h->sum, name, h->count);
		return;
	}
	evbuffer_add_printf(b,
	    "%s_sum{%.*s} %.6f\n%s_count{%.*s} %" PRIu64 "\n", name,
	    (int)len - 1, labels, h->sum, name, (int)len - 1, labels, h->count);
}

/* The gauges the daemon fills, by family and label. */
static const struct {
	const char *family;
	const char *label;
	size_t off;
} metrics_gauge_table[] = {
	{ "feeds", "ok", offsetof(struct metrics_gauges, feeds_ok) },
	{ "feeds", "failing", offsetof(struct metrics_gauges, feeds_failing) },
	{ "feeds", "gone", offsetof(struct metrics_gauges, feeds_gone) },
	{ "feeds", "disabled",
	    offsetof(struct metrics_gauges, feeds_disabled) },
	{ "alerts", "pending",
	    offsetof(struct metrics_gauges, alerts_pending) },
	{ "alerts", "delivered",
	    offsetof(struct metrics_gauges, alerts_delivered) },
	{ "alerts", "failed", offsetof(struct metrics_gauges, alerts_failed) },
};

#define METRICS_NGAUGES \
	(sizeof metrics_gauge_table / sizeof metrics_gauge_table[0])

/* One gauge family of the table, from what the callback told. */
static void
metrics_print_gauges(struct evbuffer *b, const struct metrics_gauges *g,
    const char *family, const char *help)
{
	char name[64];
	int v, is_head = 0;

	snprintf(name, sizeof name, "feedwatch_%s", family);
	for (size_t i = 0; i < METRICS_NGAUGES; i++) {
		if (strcmp(metrics_gauge_table[i].family, family) != 0)
			continue;
		memcpy(
		    &v, (const char *)g + metrics_gauge_table[i].off, sizeof v);
		if (v < 0)
			continue;
		if (!is_head++)
			metrics_head(b, name, "gauge", help);
		evbuffer_add_printf(b, "%s{state=\"%s\"} %d\n", name,
		    metrics_gauge_table[i].label, v);
	}
}

static void
metrics_print_daemon(struct metrics *m, struct evbuffer *b)
{
	struct metrics_gauges g = { -1, -1, -1, -1, -1, -1, -1 };

	metrics_head(b, "feedwatch_build_info", "gauge",
	    "The version of feedwatchd, as a label.");
	evbuffer_add_printf(
	    b, "feedwatch_build_info{version=\"%s\"} 1\n", FEEDWATCH_VERSION);
	metrics_head(b, "feedwatch_start_time_seconds", "gauge",
	    "When feedwatchd started, in seconds since the epoch.");
	evbuffer_add_printf(
	    b, "feedwatch_start_time_seconds %lld\n", (long long)m->started);
	if (m->gauges_cb != NULL)
		m->gauges_cb(&g, m->gauges_arg);
	metrics_print_gauges(b, &g, "feeds", "Configured feeds, by state.");
	metrics_print_gauges(
	    b, &g, "alerts", "Alerts in the outbox, by state.");
}

static void
metrics_print_fetches(struct metrics *m, struct evbuffer *b)
{
	metrics_head(b, "feedwatch_fetches_total", "counter",
	    "Feed fetches, by HTTP status (none: no HTTP answer).");
	if (m->fetches[0] > 0)
		evbuffer_add_printf(b,
		    "feedwatch_fetches_total{status=\"none\"} %" PRIu64 "\n",
		    m->fetches[0]);
	for (int i = 1; i < METRICS_NSTATUS; i++) {
		if (m->fetches[i] > 0)
			evbuffer_add_printf(b,
			    "feedwatch_fetches_total{status=\"%d\"} %" PRIu64
			    "\n",
			    i, m->fetches[i]);
	}
	metrics_head(b, "feedwatch_fetched_bytes_total", "counter",
	    "Bytes of feed documents fetched.");
	evbuffer_add_printf(
	    b, "feedwatch_fetched_bytes_total %" PRIu64 "\n", m->fetched_bytes);
	metrics_head(b, "feedwatch_parse_errors_total", "counter",
	    "Fetched documents that could not be read as a feed.");
	evbuffer_add_printf(
	    b, "feedwatch_parse_errors_total %" PRIu64 "\n", m->parse_errors);
	metrics_head(b, "feedwatch_stories_total", "counter",
	    "Items added to the story log: new stories, and duplicates that "
	    "joined a known story.");
	evbuffer_add_printf(b,
	    "feedwatch_stories_total{kind=\"new\"} %" PRIu64 "\n"
	    "feedwatch_stories_total{kind=\"duplicate\"} %" PRIu64 "\n",
	    m->stories_new, m->stories_dup);
}

/* Each series of a family, then the overflow series, if any. */
static struct metrics_series *
metrics_family_at(const struct metrics_family *f, size_t i)
{
	return i < f->n ? f->list[i] : i == f->n ? f->other : NULL;
}

static void
metrics_print_matches(struct metrics *m, struct evbuffer *b)
{
	struct metrics_series *s;

	metrics_head(b, "feedwatch_matches_total", "counter",
	    "Stories a watchlist matched, by watchlist.");
	for (size_t i = 0; i <= m->watchlists.n; i++) {
		if ((s = metrics_family_at(&m->watchlists, i)) != NULL)
			evbuffer_add_printf(b,
			    "feedwatch_matches_total{watchlist=\"%s\"} %" PRIu64
			    "\n",
			    s->label, s->ok);
	}
}

static void
metrics_print_hooks(struct metrics *m, struct evbuffer *b)
{
	struct metrics_series *s;
	char *labels;

	metrics_head(b, "feedwatch_hook_runs_total", "counter",
	    "Hook runs, by hook and result (ok: delivered).");
	for (size_t i = 0; i <= m->hooks.n; i++) {
		if ((s = metrics_family_at(&m->hooks, i)) == NULL)
			continue;
		evbuffer_add_printf(b,
		    "feedwatch_hook_runs_total{hook=\"%s\",result=\"ok\"} "
		    "%" PRIu64 "\n"
		    "feedwatch_hook_runs_total{hook=\"%s\",result=\"failed\"} "
		    "%" PRIu64 "\n",
		    s->label, s->ok, s->label, s->failed);
	}
	metrics_head(b, "feedwatch_hook_run_seconds", "histogram",
	    "How long hook runs took, by hook.");
	for (size_t i = 0; i <= m->hooks.n; i++) {
		if ((s = metrics_family_at(&m->hooks, i)) == NULL)
			continue;
		xasprintf(&labels, "hook=\"%s\",", s->label);
		metrics_hist_print(b, "feedwatch_hook_run_seconds", labels,
		    &s->hist, metrics_hook_bounds,
		    METRICS_NBOUNDS(metrics_hook_bounds));
		free(labels);
	}
}

static void
metrics_print_loop(struct metrics *m, struct evbuffer *b)
{
	metrics_head(b, "feedwatch_event_loop_lag_seconds", "histogram",
	    "How late the event loop ran a timer due every second.");
	metrics_hist_print(b, "feedwatch_event_loop_lag_seconds", "", &m->lag,
	    metrics_lag_bounds, METRICS_NBOUNDS(metrics_lag_bounds));
	metrics_head(b, "feedwatch_event_loop_lag_last_seconds", "gauge",
	    "How late that timer ran last time, or is now if later.");
	evbuffer_add_printf(b, "feedwatch_event_loop_lag_last_seconds %.6f\n",
	    metrics_lag_now(m));
}

static int
metrics_render_metrics(struct metrics *m, struct evbuffer *b)
{
	metrics_print_daemon(m, b);
	metrics_print_fetches(m, b);
	metrics_print_matches(m, b);
	metrics_print_hooks(m, b);
	metrics_print_loop(m, b);
	return 200;
}

static const char *
metrics_reason(int code)
{
	switch (code) {
	case 200:
		return "OK";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	default:
		return "Service Unavailable";
	}
}

/* Answer GET and HEAD for the pages, 405 other methods, 404 the rest. */
static void
metrics_http_cb(struct evhttp_request *req, void *arg)
{
	struct metrics *m = arg;
	struct evkeyvalq *headers = evhttp_request_get_output_headers(req);
	const struct metrics_page *page = NULL;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	struct evbuffer *b;
	const char *path;
	int code;

	path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	for (size_t i = 0;
	     path != NULL && i < sizeof metrics_pages / sizeof metrics_pages[0];
	     i++) {
		if (strcmp(path, metrics_pages[i].path) == 0)
			page = &metrics_pages[i];
	}
	if ((b = evbuffer_new()) == NULL) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	if (page == NULL) {
		code = 404;
		evbuffer_add_printf(b, "not found\n");
	} else if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		code = 405;
		evhttp_add_header(headers, "Allow", "GET, HEAD");
		evbuffer_add_printf(b, "only GET and HEAD\n");
	} else
		code = page->render(m, b);
	evhttp_add_header(headers, "Content-Type",
	    code == 200 && page != NULL ? page->type : METRICS_TYPE_TEXT);
	evhttp_add_header(headers, "Cache-Control", "no-store");
	evhttp_send_reply(req, code, metrics_reason(code), b);
	evbuffer_free(b);
}
