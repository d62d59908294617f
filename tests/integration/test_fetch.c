#include <sys/types.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* cmocka.h needs the four headers above it. */
#include <cmocka.h>
#include <zlib.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <sqlite3.h>

#include "testtls.h"
#include "testutil.h"
#include "version.h"

/*
 * feedwatchd against an evhttp server in the test's own event_base that
 * answers the way feed servers do: validators and 304, gzip, redirects
 * temporary, permanent and looping, 410, 429 and 503 with Retry-After,
 * a trickle, an endless body, a gzip bomb, a closed port, slow answers;
 * the same routes over HTTPS with a throw-away authority's certificate,
 * a port at which connecting hangs, and forward proxies.
 */

#define TEST_WATCHDOG 60    /* seconds before a hung daemon is killed */
#define TRICKLE_EVERY 500   /* ms between the bytes of a trickle */
#define ENDLESS_CHUNK 16384 /* bytes per chunk of an endless body */
#define DELAY 300	    /* ms a delayed answer waits */
#define BOMB_SIZE (20 * 1024 * 1024) /* bytes of zeros in the bomb */
#define COND_ETAG "\"v1\""
#define COND_DATE "Sat, 08 Jul 2023 18:40:00 GMT"
#define RETRY_SECONDS 7200    /* the 429's Retry-After */
#define RETRY_DATE (3 * 3600) /* the 503's Retry-After, as a date */
#define NPROXIES 2
#define FAR_HOST "feed.invalid" /* never resolves: only a proxy reaches it */

enum route_kind {
	KIND_FEED,     /* 200 and the feed */
	KIND_COND,     /* the feed with validators, 304 when they match */
	KIND_GZIP,     /* the feed, Content-Encoding: gzip */
	KIND_REDIRECT, /* status, Location: target */
	KIND_STATUS,   /* status, with a Retry-After when asked */
	KIND_TRICKLE,  /* 200, then a byte every TRICKLE_EVERY ms */
	KIND_ENDLESS,  /* 200, then chunks for as long as anyone reads */
	KIND_BOMB,     /* BOMB_SIZE zeros, Content-Encoding: gzip */
	KIND_DELAYED,  /* the feed, DELAY ms after the request */
	KIND_FLAKY,    /* 500 while fx->is_down, else the feed */
	KIND_PAGE,     /* 200 and an HTML page that is no feed */
};

/* What the fixture server answers, by path. */
struct route {
	const char *path;
	enum route_kind kind;
	int status;
	int target; /* KIND_REDIRECT: the route redirected to */
	/* KIND_STATUS, KIND_REDIRECT: seconds; < 0: a date that far ahead */
	int retry_after;
};

enum route_id {
	R_GOOD,
	R_ADAPTIVE,
	R_COND,
	R_GZIP,
	R_CHAIN1,
	R_CHAIN2,
	R_CHAIN,
	R_LOOP_A,
	R_LOOP_B,
	R_OLD301,
	R_NEW301,
	R_OLD308,
	R_NEW308,
	R_GONE,
	R_BUSY,
	R_UNAVAIL,
	R_TRICKLE,
	R_ENDLESS,
	R_BOMB,
	R_DELAYED1,
	R_DELAYED2,
	R_DELAYED3,
	R_DELAYED4,
	R_DELAYED5,
	R_DELAYED6,
	R_FLAKY,
	R_SECURE1,
	R_SECURE2,
	R_SECURE3,
	R_TMP_GONE,
	R_OLD301_PAGE,
	R_PAGE,
	R_301_RETRY,
	R_DOWN,
	R_COUNT
};

static const struct route routes[R_COUNT] = {
	[R_GOOD] = { "/good.xml", KIND_FEED, 200, 0, 0 },
	[R_ADAPTIVE] = { "/adaptive.xml", KIND_FEED, 200, 0, 0 },
	[R_COND] = { "/cond.xml", KIND_COND, 200, 0, 0 },
	[R_GZIP] = { "/gzip.xml", KIND_GZIP, 200, 0, 0 },
	[R_CHAIN1] = { "/chain/1", KIND_REDIRECT, 302, R_CHAIN2, 0 },
	[R_CHAIN2] = { "/chain/2", KIND_REDIRECT, 302, R_CHAIN, 0 },
	[R_CHAIN] = { "/chain.xml", KIND_FEED, 200, 0, 0 },
	[R_LOOP_A] = { "/loop/a", KIND_REDIRECT, 302, R_LOOP_B, 0 },
	[R_LOOP_B] = { "/loop/b", KIND_REDIRECT, 302, R_LOOP_A, 0 },
	[R_OLD301] = { "/old301.xml", KIND_REDIRECT, 301, R_NEW301, 0 },
	[R_NEW301] = { "/new301.xml", KIND_FEED, 200, 0, 0 },
	[R_OLD308] = { "/old308.xml", KIND_REDIRECT, 308, R_NEW308, 0 },
	[R_NEW308] = { "/new308.xml", KIND_FEED, 200, 0, 0 },
	[R_GONE] = { "/gone.xml", KIND_STATUS, 410, 0, 0 },
	[R_BUSY] = { "/busy.xml", KIND_STATUS, 429, 0, RETRY_SECONDS },
	[R_UNAVAIL] = { "/unavailable.xml", KIND_STATUS, 503, 0, -RETRY_DATE },
	[R_TRICKLE] = { "/trickle.xml", KIND_TRICKLE, 200, 0, 0 },
	[R_ENDLESS] = { "/endless.xml", KIND_ENDLESS, 200, 0, 0 },
	[R_BOMB] = { "/bomb.xml", KIND_BOMB, 200, 0, 0 },
	[R_DELAYED1] = { "/delayed/1", KIND_DELAYED, 200, 0, 0 },
	[R_DELAYED2] = { "/delayed/2", KIND_DELAYED, 200, 0, 0 },
	[R_DELAYED3] = { "/delayed/3", KIND_DELAYED, 200, 0, 0 },
	[R_DELAYED4] = { "/delayed/4", KIND_DELAYED, 200, 0, 0 },
	[R_DELAYED5] = { "/delayed/5", KIND_DELAYED, 200, 0, 0 },
	[R_DELAYED6] = { "/delayed/6", KIND_DELAYED, 200, 0, 0 },
	[R_FLAKY] = { "/flaky.xml", KIND_FLAKY, 200, 0, 0 },
	[R_SECURE1] = { "/secure/1.xml", KIND_FEED, 200, 0, 0 },
	[R_SECURE2] = { "/secure/2.xml", KIND_FEED, 200, 0, 0 },
	[R_SECURE3] = { "/secure/3.xml", KIND_FEED, 200, 0, 0 },
	[R_TMP_GONE] = { "/tmp-gone.xml", KIND_REDIRECT, 302, R_GONE, 0 },
	[R_OLD301_PAGE] = { "/old301-page.xml", KIND_REDIRECT, 301, R_PAGE, 0 },
	[R_PAGE] = { "/", KIND_PAGE, 200, 0, 0 },
	[R_301_RETRY] = { "/301-retry.xml", KIND_REDIRECT, 301, R_DOWN,
	    RETRY_SECONDS },
	[R_DOWN] = { "/down.xml", KIND_STATUS, 503, 0, 0 },
};

/*
 * A forward proxy on loopback. It answers a request for an absolute
 * URI (what a client sends to a proxy) with the feed of that URI's
 * path, without going anywhere, and turns a plain path away.
 */
struct proxy {
	struct fixture *fx;
	struct evhttp *http;
	int port;
	int hits;      /* requests it answered */
	char uri[256]; /* the URI of the last of them */
};

/* A feed of the one configuration that holds every case. */
struct feed_case {
	const char *name;
	int route;	   /* -1: the closed port */
	const char *extra; /* more lines for its section */
};

static const struct feed_case cases[] = {
	{ "good", R_GOOD, "" },
	{ "adaptive", R_ADAPTIVE, "adaptive = yes\n" },
	{ "cond", R_COND, "" },
	{ "gzip", R_GZIP, "" },
	{ "chain", R_CHAIN1, "" },
	{ "loop", R_LOOP_A, "" },
	{ "moved301", R_OLD301, "" },
	{ "moved308", R_OLD308, "" },
	{ "expired", R_GONE, "" },
	{ "busy", R_BUSY, "" },
	{ "unavailable", R_UNAVAIL, "" },
	{ "trickle", R_TRICKLE,
	    "low_speed_limit = 1000\nlow_speed_time = 2s\ntimeout = 15s\n" },
	{ "timeout", R_TRICKLE, "timeout = 1s\n" },
	{ "endless", R_ENDLESS, "max_body = 64k\n" },
	{ "toolarge", R_GOOD, "max_body = 100\n" },
	{ "bomb", R_BOMB, "max_body = 1M\n" },
	{ "closed", -1, "connect_timeout = 2s\n" },
};

#define NCASES (sizeof cases / sizeof cases[0])

/* An answer the server gives from a timer. */
struct slow {
	struct fixture *fx;
	struct evhttp_request *req;
	struct event *ev;
	int route;
	LIST_ENTRY(slow) entry;
};

struct fixture {
	char dir[PATH_MAX];
	char conf[PATH_MAX];
	struct event_base *base;
	struct evhttp *http;
	int port;
	int closed_fd; /* bound and never listening: connecting is refused */
	int closed_port;
	int hits[R_COUNT];  /* requests, by route */
	int conditional;    /* requests for /cond.xml with If-None-Match */
	int not_modified;   /* 304s answered */
	char inm[128];	    /* If-None-Match of the last /cond.xml */
	char ims[128];	    /* If-Modified-Since of the last /cond.xml */
	char encoding[128]; /* Accept-Encoding of the last /gzip.xml */
	char agent[256];    /* User-Agent of the last request */
	int in_flight;	    /* delayed answers not given yet */
	int peak;	    /* most in_flight at once */
	int after_busy;	    /* requests after R_BUSY's first */
	LIST_HEAD(, slow) slows;
	int runs;    /* daemon runs, for stderr.N */
	int is_down; /* /flaky.xml answers 500 */

	struct testtls_server *https; /* the routes over TLS, when started */
	int https_port;
	struct testtls_server *elsewhere; /* the same, certified for another */
	int elsewhere_port;		  /* host than 127.0.0.1 */
	int hung_fds[2]; /* connecting to hung_port hangs; -1 = none */
	int hung_port;

	struct proxy proxies[NPROXIES]; /* when started */
	char http_proxy[64];		/* "http_proxy=...", when set */
	const char *env[2]; /* for the daemon's environment; NULL-ended */
};

/* A run of the daemon, watched from the fixture's loop. */
struct run {
	struct fixture *fx;
	struct testutil_proc proc;
	int is_termed;
	int (*until)(struct run *); /* without --once: SIGTERM when true */
};

static const char *daemon_path;
static const char *tool_path;
static const char zeros[65536];
static unsigned char *bomb; /* gzip of BOMB_SIZE zeros, made once */
static size_t bomb_len;

/* Compress times copies of data into one gzip member; caller frees. */
static unsigned char *
gzip_bytes(const void *data, size_t len, int times, size_t *outlen)
{
	unsigned char *out = NULL;
	size_t cap = 0;
	z_stream z;
	int rc, last;

	memset(&z, 0, sizeof z);
	assert_int_equal(
	    deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY),
	    Z_OK);
	for (int i = 0; i <= times; i++) {
		last = i == times;
		z.next_in = (Bytef *)data;
		z.avail_in = last ? 0 : (uInt)len;
		do {
			if (cap - z.total_out < 65536) {
				cap = cap * 2 + 65536;
				assert_non_null(out = realloc(out, cap));
			}
			z.next_out = out + z.total_out;
			z.avail_out = (uInt)(cap - z.total_out);
			rc = deflate(&z, last ? Z_FINISH : Z_NO_FLUSH);
			assert_true(rc == Z_OK || rc == Z_STREAM_END ||
			    rc == Z_BUF_ERROR);
		} while (z.avail_out == 0 || (last && rc != Z_STREAM_END));
		assert_int_equal(z.avail_in, 0);
	}
	*outlen = z.total_out;
	assert_int_equal(deflateEnd(&z), Z_OK);
	return out;
}

/* The feed a route serves: two items of its own. Caller frees. */
static char *
feed_body(const char *path)
{
	char *s;

	assert_true(asprintf(&s,
			"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			"<rss version=\"2.0\"><channel>\n"
			"<title>Fixture %s</title>\n"
			"<link>https://news.example.org/</link>\n"
			"<description>Two items</description>\n"
			"<item><title>Harbour %s reopens</title>"
			"<link>https://news.example.org%s/harbour</link>"
			"<guid isPermaLink=\"false\">%s#harbour</guid>"
			"<pubDate>Sun, 09 Jul 2023 10:00:00 +0000</pubDate>"
			"<description>Ferries run again.</description></item>\n"
			"<item><title>Budget %s passes</title>"
			"<link>https://news.example.org%s/budget</link>"
			"<guid isPermaLink=\"false\">%s#budget</guid>"
			"<pubDate>Sun, 09 Jul 2023 12:00:00 +0000</pubDate>"
			"<description>A narrow vote.</description></item>\n"
			"</channel></rss>\n",
			path, path, path, path, path, path, path) > 0);
	return s;
}

static void
reply(struct evhttp_request *req, int status, const char *reason,
    const void *body, size_t len)
{
	struct evbuffer *buf;

	assert_non_null(buf = evbuffer_new());
	if (body != NULL)
		evbuffer_add(buf, body, len);
	evhttp_send_reply(req, status, reason, buf);
	evbuffer_free(buf);
}

/* 200 and the feed of path. */
static void
reply_feed(struct evhttp_request *req, const char *path)
{
	char *body = feed_body(path);

	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/rss+xml; charset=utf-8");
	reply(req, 200, "OK", body, strlen(body));
	free(body);
}

static void
copy_header(struct evhttp_request *req, const char *name, char *buf, size_t len)
{
	const char *v;

	v = evhttp_find_header(evhttp_request_get_input_headers(req), name);
	snprintf(buf, len, "%s", v != NULL ? v : "");
}

/* Validators: 304 when the client has them, else the feed with them. */
static void
serve_cond(struct fixture *fx, struct evhttp_request *req)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);

	copy_header(req, "If-None-Match", fx->inm, sizeof fx->inm);
	copy_header(req, "If-Modified-Since", fx->ims, sizeof fx->ims);
	if (fx->inm[0] != '\0')
		fx->conditional++;
	if (strcmp(fx->inm, COND_ETAG) == 0 ||
	    (fx->inm[0] == '\0' && strcmp(fx->ims, COND_DATE) == 0)) {
		/* No validators repeated: the client must keep its own. */
		fx->not_modified++;
		reply(req, 304, "Not Modified", NULL, 0);
		return;
	}
	evhttp_add_header(out, "ETag", COND_ETAG);
	evhttp_add_header(out, "Last-Modified", COND_DATE);
	reply_feed(req, routes[R_COND].path);
}

static void
serve_gzip(struct fixture *fx, struct evhttp_request *req, int route)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	unsigned char *gz;
	char *body;
	size_t len;

	evhttp_add_header(out, "Content-Type", "application/rss+xml");
	evhttp_add_header(out, "Content-Encoding", "gzip");
	if (routes[route].kind == KIND_BOMB) {
		reply(req, 200, "OK", bomb, bomb_len);
		return;
	}
	copy_header(req, "Accept-Encoding", fx->encoding, sizeof fx->encoding);
	body = feed_body(routes[route].path);
	gz = gzip_bytes(body, strlen(body), 1, &len);
	reply(req, 200, "OK", gz, len);
	free(gz);
	free(body);
}

/* The route's Retry-After, if it has one. */
static void
add_retry_after(struct evhttp_request *req, int route)
{
	const struct route *r = &routes[route];
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	char value[64];
	time_t t;
	struct tm tm;

	if (r->retry_after > 0) {
		snprintf(value, sizeof value, "%d", r->retry_after);
		evhttp_add_header(out, "Retry-After", value);
	} else if (r->retry_after < 0) {
		t = time(NULL) - r->retry_after;
		assert_non_null(gmtime_r(&t, &tm));
		assert_true(strftime(value, sizeof value,
				"%a, %d %b %Y %H:%M:%S GMT", &tm) > 0);
		evhttp_add_header(out, "Retry-After", value);
	}
}

static void
serve_redirect(struct fixture *fx, struct evhttp_request *req, int route)
{
	const struct route *r = &routes[route];
	char url[256];

	snprintf(url, sizeof url, "http://127.0.0.1:%d%s", fx->port,
	    routes[r->target].path);
	evhttp_add_header(
	    evhttp_request_get_output_headers(req), "Location", url);
	add_retry_after(req, route);
	reply(req, r->status,
	    r->status == 301	 ? "Moved Permanently" :
		r->status == 308 ? "Permanent Redirect" :
				   "Found",
	    NULL, 0);
}

static void
serve_status(struct evhttp_request *req, int route)
{
	const struct route *r = &routes[route];
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);

	add_retry_after(req, route);
	evhttp_add_header(out, "Content-Type", "text/plain");
	reply(req, r->status,
	    r->status == 410	 ? "Gone" :
		r->status == 429 ? "Too Many Requests" :
				   "Service Unavailable",
	    "no\n", 3);
}

/*
 * Forget a timed answer. A request whose client went away belongs to
 * us (evhttp detached it): ending it frees it. One still on its
 * connection is freed with the connection.
 */
static void
slow_free(struct slow *s)
{
	LIST_REMOVE(s, entry);
	if (routes[s->route].kind == KIND_DELAYED)
		s->fx->in_flight--;
	if (evhttp_request_get_connection(s->req) == NULL)
		evhttp_send_reply_end(s->req);
	event_free(s->ev);
	free(s);
}

static void
slow_chunk(struct evhttp_request *req, const void *data, size_t len)
{
	struct evbuffer *buf;

	assert_non_null(buf = evbuffer_new());
	evbuffer_add(buf, data, len);
	evhttp_send_reply_chunk(req, buf);
	evbuffer_free(buf);
}

static void
slow_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	static char filler[ENDLESS_CHUNK];
	struct slow *s = arg;
	struct evhttp_connection *conn;
	struct evbuffer *out;
	struct timeval tv = { 0, 1000 };

	(void)fd;
	(void)what;
	if ((conn = evhttp_request_get_connection(s->req)) == NULL) {
		slow_free(s);
		return;
	}
	switch (routes[s->route].kind) {
	case KIND_TRICKLE:
		slow_chunk(s->req, "<", 1);
		tv.tv_usec = TRICKLE_EVERY * 1000;
		break;
	case KIND_ENDLESS:
		/* As fast as the client reads, no faster. */
		out = bufferevent_get_output(
		    evhttp_connection_get_bufferevent(conn));
		if (evbuffer_get_length(out) < 4 * ENDLESS_CHUNK) {
			memset(filler, ' ', sizeof filler);
			slow_chunk(s->req, filler, sizeof filler);
		}
		break;
	default:
		reply_feed(s->req, routes[s->route].path);
		slow_free(s);
		return;
	}
	evtimer_add(s->ev, &tv);
}

/* Answer from a timer: start the body now, or the whole answer later. */
static void
serve_slow(struct fixture *fx, struct evhttp_request *req, int route)
{
	struct timeval tv = { 0, 0 };
	struct slow *s;

	assert_non_null(s = calloc(1, sizeof *s));
	s->fx = fx;
	s->req = req;
	s->route = route;
	assert_non_null(s->ev = evtimer_new(fx->base, slow_tick_cb, s));
	LIST_INSERT_HEAD(&fx->slows, s, entry);
	if (routes[route].kind == KIND_DELAYED) {
		if (++fx->in_flight > fx->peak)
			fx->peak = fx->in_flight;
		tv.tv_usec = DELAY * 1000;
	} else {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Content-Type", "application/rss+xml");
		evhttp_send_reply_start(req, 200, "OK");
		slow_chunk(req, "<rss>", 5);
	}
	evtimer_add(s->ev, &tv);
}

static void
server_cb(struct evhttp_request *req, void *arg)
{
	struct fixture *fx = arg;
	const char *path;
	int i;

	copy_header(req, "User-Agent", fx->agent, sizeof fx->agent);
	path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	for (i = 0; path != NULL && i < R_COUNT; i++) {
		if (strcmp(path, routes[i].path) == 0)
			break;
	}
	if (path == NULL || i == R_COUNT) {
		evhttp_send_error(req, HTTP_NOTFOUND, NULL);
		return;
	}
	if (i != R_BUSY && fx->hits[R_BUSY] > 0)
		fx->after_busy++;
	fx->hits[i]++;
	switch (routes[i].kind) {
	case KIND_FEED:
		reply_feed(req, routes[i].path);
		break;
	case KIND_COND:
		serve_cond(fx, req);
		break;
	case KIND_GZIP:
	case KIND_BOMB:
		serve_gzip(fx, req, i);
		break;
	case KIND_REDIRECT:
		serve_redirect(fx, req, i);
		break;
	case KIND_PAGE:
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Content-Type", "text/html");
		reply(req, 200, "OK", "<html><body>Home</body></html>\n", 31);
		break;
	case KIND_STATUS:
		serve_status(req, i);
		break;
	case KIND_TRICKLE:
	case KIND_ENDLESS:
	case KIND_DELAYED:
		serve_slow(fx, req, i);
		break;
	case KIND_FLAKY:
		if (fx->is_down)
			reply(req, 500, "Internal Server Error", "down\n", 5);
		else
			reply_feed(req, routes[i].path);
		break;
	}
}

static void
proxy_cb(struct evhttp_request *req, void *arg)
{
	struct proxy *px = arg;
	const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
	const char *path = evhttp_uri_get_path(u);

	if (evhttp_uri_get_scheme(u) == NULL ||
	    evhttp_uri_get_host(u) == NULL || path == NULL) {
		evhttp_send_error(req, HTTP_BADREQUEST, "not a proxy request");
		return;
	}
	px->hits++;
	snprintf(px->uri, sizeof px->uri, "%s", evhttp_request_get_uri(req));
	/* A delayed route is delayed here too, and counted in flight. */
	for (int i = R_DELAYED1; i <= R_DELAYED6; i++) {
		if (strcmp(path, routes[i].path) == 0) {
			serve_slow(px->fx, req, i);
			return;
		}
	}
	reply_feed(req, path);
}

/* Serve routes on 127.0.0.1, at a port of the system's choice; hold a
 * port that refuses connections. */
static void
server_start(struct fixture *fx)
{
	LIST_INIT(&fx->slows);
	assert_non_null(fx->base = event_base_new());
	fx->http = testutil_http_start(fx->base, server_cb, fx, &fx->port);
	fx->closed_port = testutil_closed_port(&fx->closed_fd);
}

static void
path_in(const struct fixture *fx, char *buf, size_t len, const char *name)
{
	testutil_path(buf, len, fx->dir, name);
}

/* Append printf output to *text. */
static void __attribute__((format(printf, 2, 3)))
append(char **text, const char *fmt, ...)
{
	va_list ap;
	char *more, *t;

	va_start(ap, fmt);
	assert_true(vasprintf(&more, fmt, ap) >= 0);
	va_end(ap);
	assert_true(
	    asprintf(&t, "%s%s", *text != NULL ? *text : "", more) >= 0);
	free(more);
	free(*text);
	*text = t;
}

/* A [daemon] section with proxy = proxy (NULL: no proxy line, the
 * environment's), and more lines. */
static char *
config_head_proxy(const char *proxy, const char *more)
{
	char *text = NULL;

	append(&text, "[daemon]\ndatabase = feedwatch.db\n");
	if (proxy != NULL)
		append(&text, "proxy = %s\n", proxy);
	append(&text, "connect_timeout = 5s\ntimeout = 20s\n%s\n", more);
	return text;
}

/* The [daemon] section every configuration starts with: whatever the
 * environment says, no proxy. */
static char *
config_head(const char *more)
{
	return config_head_proxy("none", more);
}

/* A feed section for scheme://127.0.0.1:port/path. */
static void
append_feed_at(char **text, const char *name, const char *scheme, int port,
    const char *path)
{
	append(text, "[feed \"%s\"]\nurl = %s://127.0.0.1:%d%s\n", name, scheme,
	    port, path);
}

static void
append_feed(char **text, const struct fixture *fx, const char *name, int route)
{
	if (route < 0)
		append_feed_at(
		    text, name, "http", fx->closed_port, "/feed.xml");
	else
		append_feed_at(
		    text, name, "http", fx->port, routes[route].path);
}

/* A feed section for http://FAR_HOST/path, which only a proxy can
 * fetch. */
static void
append_far_feed(char **text, const char *name, const char *path)
{
	append(
	    text, "[feed \"%s\"]\nurl = http://" FAR_HOST "%s\n", name, path);
}

/* A feed section for the route over HTTPS. */
static void
append_https_feed(
    char **text, const struct fixture *fx, const char *name, int route)
{
	append_feed_at(text, name, "https", fx->https_port, routes[route].path);
}

/* Write the configuration with every case in it. */
static void
write_config_cases(struct fixture *fx)
{
	char *text = config_head("");

	for (size_t i = 0; i < NCASES; i++) {
		append_feed(&text, fx, cases[i].name, cases[i].route);
		append(&text, "%s\n", cases[i].extra);
	}
	testutil_write_file(fx->conf, text, 0644);
	free(text);
}

static int
fetch_setup(void **state)
{
	struct fixture *fx;

	assert_non_null(fx = calloc(1, sizeof *fx));
	testutil_tmpdir(fx->dir, sizeof fx->dir, "fetch");
	path_in(fx, fx->conf, sizeof fx->conf, "feedwatch.conf");
	fx->hung_fds[0] = fx->hung_fds[1] = -1;
	server_start(fx);
	if (bomb == NULL)
		bomb = gzip_bytes(zeros, sizeof zeros,
		    BOMB_SIZE / (int)sizeof zeros, &bomb_len);
	*state = fx;
	return 0;
}

static int
fetch_teardown(void **state)
{
	struct fixture *fx = *state;

	if (fx == NULL)
		return 0;
	while (!LIST_EMPTY(&fx->slows))
		slow_free(LIST_FIRST(&fx->slows));
	testtls_server_free(fx->https);
	testtls_server_free(fx->elsewhere);
	for (int i = 0; i < NPROXIES; i++)
		testutil_http_free(fx->proxies[i].http, NULL);
	testutil_http_free(fx->http, fx->base);
	close(fx->closed_fd);
	for (int i = 0; i < 2; i++) {
		if (fx->hung_fds[i] != -1)
			close(fx->hung_fds[i]);
	}
	testutil_rmtree(fx->dir);
	free(fx);
	return 0;
}

/*
 * The daemon's environment: ours without proxies (the feeds are on
 * loopback), the journal's log format or systemd's sockets, with the
 * fixture's env added. Caller frees.
 */
static char **
daemon_envp(const struct fixture *fx)
{
	static const char *drop[] = { "JOURNAL_STREAM", "NOTIFY_SOCKET",
		"WATCHDOG_USEC", "WATCHDOG_PID", NULL };

	return testutil_envp(drop, fx->env);
}

/* Milliseconds since the run started. */
static long
run_elapsed(const struct run *r)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(now.tv_sec - r->proc.start.tv_sec) * 1000 +
	    (now.tv_nsec - r->proc.start.tv_nsec) / 1000000;
}

/* Without --once: stop the daemon as systemd would, once it is time. */
static void
run_term_cb(struct testutil_proc *p)
{
	struct run *r = p->arg;

	if (r->is_termed || !r->until(r))
		return;
	r->is_termed = 1;
	kill(p->pid, SIGTERM);
}

/*
 * Run feedwatchd -c conf, with --once when until is NULL, stderr to
 * $DIR/stderr.N, serving HTTP from the fixture's loop until it exits.
 * Fill *r (wait status, resources used), set *err (caller frees). A
 * hang fails the test; the caller judges the wait status.
 */
static void
run_daemon_status(struct fixture *fx, const char *conf,
    int (*until)(struct run *), struct run *r, char **err)
{
	char errpath[PATH_MAX], name[32], **env;
	char *argv[] = { (char *)daemon_path, "--once", "-c", (char *)conf,
		NULL };

	memset(r, 0, sizeof *r);
	r->fx = fx;
	r->until = until;
	if (until != NULL)
		argv[1] = "-v";
	snprintf(name, sizeof name, "stderr.%d", ++fx->runs);
	path_in(fx, errpath, sizeof errpath, name);
	env = daemon_envp(fx);
	r->proc.argv = argv;
	r->proc.env = env;
	r->proc.err = errpath;
	r->proc.watchdog = TEST_WATCHDOG;
	r->proc.tick = until != NULL ? 50 : 0;
	r->proc.tick_cb = run_term_cb;
	r->proc.arg = r;
	testutil_proc_run(&r->proc, fx->base);
	free(env);
	assert_non_null(*err = testutil_read_file(errpath));
	if (r->proc.is_timed_out)
		fail_msg("feedwatchd hung for %ds; killed. stderr:\n%s",
		    TEST_WATCHDOG, *err);
}

/* run_daemon_status, and the daemon must exit 0. */
static void
run_daemon(struct fixture *fx, const char *conf, int (*until)(struct run *),
    struct run *r, char **err)
{
	run_daemon_status(fx, conf, until, r, err);
	if (!WIFEXITED(r->proc.status) || WEXITSTATUS(r->proc.status) != 0)
		fail_msg("feedwatchd: wait status %#x; stderr:\n%s",
		    r->proc.status, *err);
}

/*
 * Run `feedwatch CMD -c conf [OPT]`; return its exit status, *out its
 * output and errors.
 */
static int
run_tool(const struct fixture *fx, const char *cmd, const char *opt, char **out)
{
	posix_spawn_file_actions_t fa;
	char path[PATH_MAX], **env;
	char *argv[] = { (char *)tool_path, (char *)cmd, "-c", (char *)fx->conf,
		(char *)opt, NULL };
	pid_t pid;
	int status;

	path_in(fx, path, sizeof path, "tool.out");
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(
	    &fa, 1, path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	env = daemon_envp(fx);
	assert_int_equal(posix_spawn(&pid, tool_path, &fa, NULL, argv, env), 0);
	free(env);
	posix_spawn_file_actions_destroy(&fa);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_non_null(*out = testutil_read_file(path));
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* A feed's row in the story log, NULLs as 0 or "". */
struct row {
	int http_status;
	int failures;
	char last_error[512];
	long long last_attempt;
	long long next_poll;
	long long gone_at;
	char moved_url[256];
	char etag[128];
	char last_modified[128];
	int poll_interval;
	int stories;
};

static void
column_copy(sqlite3_stmt *s, int i, char *buf, size_t len)
{
	const unsigned char *v = sqlite3_column_text(s, i);

	snprintf(buf, len, "%s", v != NULL ? (const char *)v : "");
}

static void
row_get(const struct fixture *fx, const char *name, struct row *r)
{
	static const char sql[] =
	    "SELECT coalesce(http_status, 0), failures, last_error,"
	    " coalesce(last_attempt, 0), next_poll, coalesce(gone_at, 0),"
	    " moved_url, etag, last_modified, coalesce(poll_interval, 0),"
	    " (SELECT count(*) FROM stories s WHERE s.feed_id = f.id)"
	    " FROM feeds f WHERE name = ?1";
	char path[PATH_MAX];
	sqlite3_stmt *s;
	sqlite3 *db;

	memset(r, 0, sizeof *r);
	path_in(fx, path, sizeof path, "feedwatch.db");
	assert_int_equal(
	    sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_ROW)
		fail_msg("feed %s has no row", name);
	r->http_status = sqlite3_column_int(s, 0);
	r->failures = sqlite3_column_int(s, 1);
	column_copy(s, 2, r->last_error, sizeof r->last_error);
	r->last_attempt = sqlite3_column_int64(s, 3);
	r->next_poll = sqlite3_column_int64(s, 4);
	r->gone_at = sqlite3_column_int64(s, 5);
	column_copy(s, 6, r->moved_url, sizeof r->moved_url);
	column_copy(s, 7, r->etag, sizeof r->etag);
	column_copy(s, 8, r->last_modified, sizeof r->last_modified);
	r->poll_interval = sqlite3_column_int(s, 9);
	r->stories = sqlite3_column_int(s, 10);
	sqlite3_finalize(s);
	sqlite3_close(db);
}

/* Run a "SELECT count(*) ..." on the daemon's database. */
static int
db_count(const struct fixture *fx, const char *sql)
{
	char path[PATH_MAX];

	path_in(fx, path, sizeof path, "feedwatch.db");
	return (int)testutil_db_count(path, sql);
}

/* What a feed's row must say after a run. */
struct expect_row {
	const char *name;
	int http_status; /* 0 = none */
	int failures;
	const char *error; /* in last_error; NULL = no error */
	int stories;
};

static void
check_row(const struct fixture *fx, const struct expect_row *x, struct row *r)
{
	row_get(fx, x->name, r);
	if (r->http_status != x->http_status || r->failures != x->failures ||
	    r->stories != x->stories ||
	    (x->error == NULL) != (r->last_error[0] == '\0') ||
	    (x->error != NULL && strstr(r->last_error, x->error) == NULL))
		fail_msg("feed %s: http_status %d, failures %d, stories %d, "
			 "last_error \"%s\"; want %d, %d, %d, \"%s\"",
		    x->name, r->http_status, r->failures, r->stories,
		    r->last_error, x->http_status, x->failures, x->stories,
		    x->error != NULL ? x->error : "");
}

/* check_row for each of n rows. */
static void
check_rows(const struct fixture *fx, const struct expect_row *x, size_t n)
{
	struct row r;

	for (size_t i = 0; i < n; i++)
		check_row(fx, &x[i], &r);
}

/* next_poll is delay seconds after the poll, give or take slack. */
static void
check_next_poll(
    const char *name, const struct row *r, long long delay, long long slack)
{
	long long want = r->last_attempt + delay;

	if (r->next_poll < want - slack || r->next_poll > want + slack)
		fail_msg("feed %s: next_poll %+llds after the poll, want "
			 "%llds +-%llds",
		    name, r->next_poll - r->last_attempt, delay, slack);
}

/* Feeds that worked, after the first run of every case. */
static const struct expect_row first_ok[] = {
	{ "good", 200, 0, NULL, 2 },
	{ "cond", 200, 0, NULL, 2 },
	{ "gzip", 200, 0, NULL, 2 },
	{ "chain", 200, 0, NULL, 2 },
	{ "moved301", 200, 0, NULL, 2 },
	{ "moved308", 200, 0, NULL, 2 },
};

/* Feeds that failed, after the first run and after the second. */
static const struct expect_row first_failed[] = {
	{ "loop", 302, 1, "redirects", 0 },
	{ "expired", 410, 1, "HTTP status 410 (gone)", 0 },
	{ "busy", 429, 1, "HTTP status 429", 0 },
	{ "unavailable", 503, 1, "HTTP status 503", 0 },
	{ "trickle", 200, 1, "too slow", 0 },
	{ "timeout", 200, 1, "timed out", 0 },
	{ "endless", 200, 1, "max_body", 0 },
	{ "toolarge", 200, 1, "body larger than max_body (100 bytes)", 0 },
	{ "bomb", 200, 1, "max_body", 0 },
	{ "closed", 0, 1, "Failed to connect", 0 },
};

static const struct expect_row adaptive = { "adaptive", 200, 0, NULL, 2 };

/* The first run: each case's row, the good feeds' stories, the log. */
static void
check_first_run(struct fixture *fx, const char *err, long elapsed)
{
	char want[256];
	struct row r;
	size_t i;

	for (i = 0; i < sizeof first_ok / sizeof first_ok[0]; i++) {
		check_row(fx, &first_ok[i], &r);
		/* The interval, 15 minutes, up to 10% early. */
		check_next_poll(first_ok[i].name, &r, 855, 45);
		assert_int_equal(r.poll_interval, 0);
	}
	/*
	 * Adaptive: a quarter of the way from 15 minutes toward the two
	 * hours between its entries, 2475 s, up to 10% early.
	 */
	check_row(fx, &adaptive, &r);
	assert_int_equal(r.poll_interval, 2475);
	check_next_poll("adaptive", &r, 2352, 124);
	for (i = 0; i < sizeof first_failed / sizeof first_failed[0]; i++)
		check_row(fx, &first_failed[i], &r);

	/* Validators kept; gzip asked for and undone. */
	row_get(fx, "cond", &r);
	assert_string_equal(r.etag, COND_ETAG);
	assert_string_equal(r.last_modified, COND_DATE);
	assert_non_null(strstr(fx->encoding, "gzip"));

	/* Temporary redirects: fetched, not moved. */
	row_get(fx, "chain", &r);
	assert_string_equal(r.moved_url, "");
	assert_int_equal(fx->hits[R_CHAIN1], 1);
	assert_int_equal(fx->hits[R_CHAIN2], 1);
	assert_int_equal(fx->hits[R_CHAIN], 1);
	/* A loop: the first request and 10 redirects followed. */
	assert_int_equal(fx->hits[R_LOOP_A] + fx->hits[R_LOOP_B], 11);

	/* Permanent redirects: moved, and said so once. */
	snprintf(want, sizeof want, "http://127.0.0.1:%d%s", fx->port,
	    routes[R_NEW301].path);
	row_get(fx, "moved301", &r);
	assert_string_equal(r.moved_url, want);
	if (testutil_count_lines(
		err, "feed moved301: moved permanently to ", want) != 1)
		fail_msg(
		    "want one \"moved permanently to %s\" in:\n%s", want, err);
	snprintf(want, sizeof want, "http://127.0.0.1:%d%s", fx->port,
	    routes[R_NEW308].path);
	row_get(fx, "moved308", &r);
	assert_string_equal(r.moved_url, want);
	if (testutil_count_lines(
		err, "feed moved308: moved permanently to ", want) != 1)
		fail_msg(
		    "want one \"moved permanently to %s\" in:\n%s", want, err);

	/* 410: gone from the time of the poll. */
	row_get(fx, "expired", &r);
	assert_true(r.gone_at != 0);
	assert_int_equal(r.gone_at, r.last_attempt);

	/* Retry-After, in seconds and as a date, over the backoff. */
	row_get(fx, "busy", &r);
	check_next_poll("busy", &r, RETRY_SECONDS, 3);
	row_get(fx, "unavailable", &r);
	check_next_poll("unavailable", &r, RETRY_DATE, 3);
	/* Other failures back off: twice the interval, up to 10% early. */
	row_get(fx, "trickle", &r);
	check_next_poll("trickle", &r, 1710, 90);

	snprintf(want, sizeof want, "port %d", fx->closed_port);
	row_get(fx, "closed", &r);
	if (strstr(r.last_error, want) == NULL)
		fail_msg("closed: \"%s\" does not name %s", r.last_error, want);
	/* The trickle is cut after low_speed_time, not timeout. */
	if (elapsed > 8000)
		fail_msg("the run took %ld ms:\n%s", elapsed, err);
}

/* The second run: 304, moves followed, the gone feed left alone. */
static void
check_second_run(struct fixture *fx, const char *err)
{
	static const struct expect_row cond = { "cond", 304, 0, NULL, 2 };
	struct expect_row x;
	struct row r;

	check_row(fx, &cond, &r);
	assert_string_equal(r.etag, COND_ETAG);
	assert_string_equal(r.last_modified, COND_DATE);
	assert_string_equal(fx->inm, COND_ETAG);
	assert_string_equal(fx->ims, COND_DATE);
	assert_int_equal(fx->hits[R_COND], 2);
	assert_int_equal(fx->not_modified, 1);
	if (testutil_count_lines(err, "feed cond: not modified", "") != 1)
		fail_msg("want \"feed cond: not modified\" in:\n%s", err);

	for (size_t i = 0; i < sizeof first_ok / sizeof first_ok[0]; i++) {
		if (strcmp(first_ok[i].name, "cond") != 0)
			check_row(fx, &first_ok[i], &r);
	}
	/* Another quarter of the way: 2475 + (7200 - 2475) / 4. */
	check_row(fx, &adaptive, &r);
	assert_int_equal(r.poll_interval, 3656);
	check_next_poll("adaptive", &r, 3474, 183);
	for (size_t i = 0; i < sizeof first_failed / sizeof first_failed[0];
	     i++) {
		x = first_failed[i];
		if (strcmp(x.name, "expired") != 0)
			x.failures++;
		check_row(fx, &x, &r);
	}

	/* Moved feeds are asked at their new address only. */
	assert_int_equal(fx->hits[R_OLD301], 1);
	assert_int_equal(fx->hits[R_NEW301], 2);
	assert_int_equal(fx->hits[R_OLD308], 1);
	assert_int_equal(fx->hits[R_NEW308], 2);
	if (strstr(err, "moved permanently") != NULL)
		fail_msg("a move was logged again:\n%s", err);
	/* Temporary ones are followed again from the start. */
	assert_int_equal(fx->hits[R_CHAIN1], 2);
	assert_int_equal(fx->hits[R_CHAIN], 2);
	/* A gone feed is not asked again. */
	assert_int_equal(fx->hits[R_GONE], 1);
	if (testutil_count_lines(
		err, "feed expired: gone (HTTP 410)", "not polled") != 1)
		fail_msg("want \"feed expired: gone\" in:\n%s", err);
}

/*
 * One configuration with every case and a good feed, polled by one
 * `feedwatchd --once`, then by a second one.
 */
static void
test_fetch_every_case_once(void **state)
{
	struct fixture *fx = *state;
	struct run r;
	char *err, *out;

	write_config_cases(fx);
	run_daemon(fx, fx->conf, NULL, &r, &err);
	check_first_run(fx, err, run_elapsed(&r));
	free(err);

	run_daemon(fx, fx->conf, NULL, &r, &err);
	check_second_run(fx, err);
	free(err);

	assert_int_equal(run_tool(fx, "feeds", NULL, &out), 0);
	if (testutil_count_lines(out, "expired ", " gone ") != 1 ||
	    testutil_count_lines(out, "moved permanently to ", "/new301.xml") !=
		1 ||
	    testutil_count_lines(out, "adaptive interval 60m", "") != 1)
		fail_msg("feedwatch feeds:\n%s", out);
	free(out);
}

/* Write a configuration of feeds expired and moved301 at these routes. */
static void
write_config_two(struct fixture *fx, int expired, int moved)
{
	char *text = config_head("");

	append_feed(&text, fx, "expired", expired);
	append(&text, "\n");
	append_feed(&text, fx, "moved301", moved);
	testutil_write_file(fx->conf, text, 0644);
	free(text);
}

/*
 * A gone feed and a moved one stay so until their url is changed: then
 * the first is polled again, and the second at its new url only.
 */
static void
test_fetch_url_change_resets(void **state)
{
	struct fixture *fx = *state;
	static const struct expect_row back = { "expired", 200, 0, NULL, 2 };
	static const struct expect_row moved = { "moved301", 200, 0, NULL, 2 };
	struct run r;
	struct row row;
	char *err;

	write_config_two(fx, R_GONE, R_OLD301);
	run_daemon(fx, fx->conf, NULL, &r, &err);
	free(err);
	row_get(fx, "expired", &row);
	assert_true(row.gone_at != 0);
	row_get(fx, "moved301", &row);
	assert_true(row.moved_url[0] != '\0');

	/* As the log advised: url = the new address. */
	write_config_two(fx, R_CHAIN, R_NEW301);
	run_daemon(fx, fx->conf, NULL, &r, &err);
	free(err);
	check_row(fx, &back, &row);
	assert_int_equal(row.gone_at, 0);
	check_row(fx, &moved, &row);
	assert_string_equal(row.moved_url, "");
	assert_int_equal(fx->hits[R_GONE], 1);
	assert_int_equal(fx->hits[R_CHAIN], 1);
	assert_int_equal(fx->hits[R_OLD301], 1);
	assert_int_equal(fx->hits[R_NEW301], 2);
}

/*
 * Where a redirect leads tells what an answer means. Tried: a 302 to a
 * 410 (the feed's own address is not gone: a failure, polled again);
 * a 301 to a site's home page, which is no feed (not where the feed
 * moved: its address is kept); a 301 whose Retry-After is followed by
 * a 503 without one (the 503 is backed off as a failure, not held for
 * the redirect's hour).
 */
static void
test_fetch_redirect_meanings(void **state)
{
	struct fixture *fx = *state;
	struct run r;
	struct row row;
	char *err, *text = config_head("");

	append_feed(&text, fx, "expired", R_TMP_GONE);
	append_feed(&text, fx, "moved301", R_OLD301_PAGE);
	append_feed(&text, fx, "down", R_301_RETRY);
	testutil_write_file(fx->conf, text, 0644);
	free(text);
	run_daemon(fx, fx->conf, NULL, &r, &err);
	if (testutil_count_lines(err, "moved permanently", "") != 0 ||
	    testutil_count_lines(err, "is gone", "") != 0)
		fail_msg("a move or a gone feed in:\n%s", err);
	free(err);

	row_get(fx, "expired", &row);
	assert_int_equal(row.http_status, 410);
	assert_int_equal(row.failures, 1);
	assert_int_equal(row.gone_at, 0);
	row_get(fx, "moved301", &row);
	assert_int_equal(row.failures, 1);
	assert_non_null(strstr(row.last_error, "not a feed"));
	assert_string_equal(row.moved_url, "");
	row_get(fx, "down", &row);
	assert_int_equal(row.http_status, 503);
	assert_int_equal(row.failures, 1);
	/* Backed off from 15 min: 30 min and its jitter, not 2 h. */
	assert_true(row.next_poll - row.last_attempt < RETRY_SECONDS / 2);

	/* Polled again, the first is still not gone. */
	write_config_two(fx, R_TMP_GONE, R_OLD301_PAGE);
	run_daemon(fx, fx->conf, NULL, &r, &err);
	free(err);
	assert_int_equal(fx->hits[R_TMP_GONE], 2);
	assert_int_equal(fx->hits[R_OLD301_PAGE], 2);
}

/* How many lines of text hold both a and b. */
static int
count_alerts(const char *text, const char *feed, const char *state)
{
	char a[128], b[128];

	snprintf(a, sizeof a, "\"feed\":{\"name\":\"%s\"", feed);
	snprintf(b, sizeof b, "\"state\":\"%s\"", state);
	return testutil_count_lines(text, a, b);
}

/*
 * Feed-health alerts go to health_hooks once per incident: a feed gone,
 * one moved, one failing for longer than unhealthy_after, and the same
 * one when it recovers; polls in between raise nothing more.
 */
static void
test_fetch_health_alerts(void **state)
{
	struct fixture *fx = *state;
	char path[PATH_MAX], *text, *err, *got;
	struct run r;

	path_in(fx, path, sizeof path, "health.jsonl");
	text = config_head("health_hooks = rec\nunhealthy_after = 1s\n");
	append_feed(&text, fx, "expired", R_GONE);
	append(&text, "\n");
	append_feed(&text, fx, "moved301", R_OLD301);
	append(&text, "\n");
	append_feed(&text, fx, "flaky", R_FLAKY);
	append(&text,
	    "\n[hook \"rec\"]\n"
	    "command = /bin/sh -c \"cat >>'%s'; echo >>'%s'\"\n",
	    path, path);
	testutil_write_file(fx->conf, text, 0644);
	free(text);

	fx->is_down = 1;
	run_daemon(fx, fx->conf, NULL, &r, &err);
	free(err);
	/* Past unhealthy_after: the flaky feed has failed for over 1 s. */
	usleep(1200 * 1000);
	run_daemon(fx, fx->conf, NULL, &r, &err);
	free(err);
	run_daemon(fx, fx->conf, NULL, &r, &err);
	free(err);
	assert_int_equal(db_count(fx,
			     "SELECT count(*) FROM feeds WHERE name = 'flaky'"
			     " AND health = 'failing'"),
	    1);
	fx->is_down = 0;
	run_daemon(fx, fx->conf, NULL, &r, &err);
	assert_non_null(strstr(err, "feed flaky: health: recovered"));
	free(err);
	run_daemon(fx, fx->conf, NULL, &r, &err);
	free(err);

	assert_non_null(got = testutil_read_file(path));
	assert_int_equal(
	    testutil_count_lines(got, "\"kind\":\"feed-health\"", ""), 4);
	assert_int_equal(count_alerts(got, "expired", "gone"), 1);
	assert_int_equal(count_alerts(got, "moved301", "moved"), 1);
	assert_int_equal(count_alerts(got, "flaky", "failing"), 1);
	assert_int_equal(count_alerts(got, "flaky", "recovered"), 1);
	/* What a hook that knows only stories shows is there too. */
	assert_int_equal(testutil_count_lines(got,
			     "\"title\":\"Feed expired is gone (HTTP 410)\"",
			     "\"watchlist\":\"feed-health\""),
	    1);
	assert_int_equal(
	    testutil_count_lines(
		got, "\"moved_to\":\"http://127.0.0.1:", "/new301.xml\""),
	    1);
	free(got);
	assert_int_equal(db_count(fx,
			     "SELECT count(*) FROM alerts WHERE watchlist ="
			     " 'feed-health' AND state = 'delivered'"),
	    4);
	assert_int_equal(db_count(fx,
			     "SELECT count(*) FROM feeds WHERE health IS NOT"
			     " NULL AND name != 'expired'"),
	    0);
}

/* Peak resident size of a --once run on conf, in KiB. */
static long
run_maxrss(struct fixture *fx, const char *conf)
{
	struct run r;
	char *err;

	run_daemon(fx, conf, NULL, &r, &err);
	free(err);
	return r.proc.ru.ru_maxrss;
}

/*
 * A gzip bomb (BOMB_SIZE zeros in about 20 KiB) is cut at max_body as
 * it is inflated: the daemon's peak memory grows by far less than the
 * bomb, against a run with the good feed alone.
 */
static void
test_fetch_gzip_bomb_bounded(void **state)
{
	struct fixture *fx = *state;
	static const struct expect_row x = { "bomb", 200, 1,
		"body larger than max_body (1048576 bytes)", 0 };
	struct row r;
	char *text;
	long alone, with_bomb;

	assert_true(bomb_len < BOMB_SIZE / 500);
	text = config_head("");
	append_feed(&text, fx, "good", R_GOOD);
	testutil_write_file(fx->conf, text, 0644);
	alone = run_maxrss(fx, fx->conf);
	append(&text, "\n");
	append_feed(&text, fx, "bomb", R_BOMB);
	append(&text, "max_body = 1M\n");
	testutil_write_file(fx->conf, text, 0644);
	free(text);
	with_bomb = run_maxrss(fx, fx->conf);
	check_row(fx, &x, &r);
	assert_int_equal(fx->hits[R_BOMB], 1);
	if (with_bomb - alone > BOMB_SIZE / 1024 / 2)
		fail_msg("peak memory %ld KiB with the bomb, %ld KiB without",
		    with_bomb, alone);
}

/*
 * max_per_host = 2: six feeds on one host, each answered DELAY ms
 * late; the server never has more than two of them at once.
 */
static void
test_fetch_max_per_host(void **state)
{
	struct fixture *fx = *state;
	struct expect_row x = { NULL, 200, 0, NULL, 2 };
	struct run r;
	struct row row;
	char *text, *err, name[16];

	text = config_head("max_per_host = 2\n");
	for (int i = R_DELAYED1; i <= R_DELAYED6; i++) {
		snprintf(name, sizeof name, "d%d", i - R_DELAYED1 + 1);
		append_feed(&text, fx, name, i);
	}
	testutil_write_file(fx->conf, text, 0644);
	free(text);
	run_daemon(fx, fx->conf, NULL, &r, &err);
	free(err);
	for (int i = R_DELAYED1; i <= R_DELAYED6; i++) {
		assert_int_equal(fx->hits[i], 1);
		snprintf(name, sizeof name, "d%d", i - R_DELAYED1 + 1);
		x.name = name;
		check_row(fx, &x, &row);
	}
	assert_int_equal(fx->in_flight, 0);
	/* The limit is reached, and never passed. */
	assert_int_equal(fx->peak, 2);
}

static int
until_cond_revalidated(struct run *r)
{
	return r->fx->hits[R_COND] >= 3;
}

/*
 * The running daemon sends the validators it was given: every poll
 * after the first is conditional, and answered 304.
 */
static void
test_fetch_daemon_revalidates(void **state)
{
	struct fixture *fx = *state;
	struct run r;
	char *text, *err;

	text = config_head("min_interval = 1s\n");
	append_feed(&text, fx, "cond", R_COND);
	append(&text, "interval = 1s\n");
	testutil_write_file(fx->conf, text, 0644);
	free(text);
	run_daemon(fx, fx->conf, until_cond_revalidated, &r, &err);
	if (fx->conditional < fx->hits[R_COND] - 1 || fx->not_modified < 1)
		fail_msg("%d requests, %d with If-None-Match, %d answered 304;"
			 " stderr:\n%s",
		    fx->hits[R_COND], fx->conditional, fx->not_modified, err);
	free(err);
	assert_string_equal(fx->inm, COND_ETAG);
}

static int
until_two_seconds(struct run *r)
{
	return run_elapsed(r) >= 2200;
}

/*
 * In the running daemon, a 429 holds back every feed of its host: a
 * neighbour polled every second is not polled again.
 */
static void
test_fetch_daemon_429_slows_host(void **state)
{
	struct fixture *fx = *state;
	struct run r;
	char *text, *err;

	text = config_head("min_interval = 1s\n");
	append_feed(&text, fx, "busy", R_BUSY);
	append(&text, "\n");
	append_feed(&text, fx, "good", R_GOOD);
	append(&text, "interval = 1s\n");
	testutil_write_file(fx->conf, text, 0644);
	free(text);
	run_daemon(fx, fx->conf, until_two_seconds, &r, &err);
	if (fx->hits[R_BUSY] != 1 || fx->hits[R_GOOD] != 1 ||
	    testutil_count_lines(
		err, "host 127.0.0.1: too many requests", "") != 1)
		fail_msg("busy asked %d times, good %d; stderr:\n%s",
		    fx->hits[R_BUSY], fx->hits[R_GOOD], err);
	free(err);
}

/*
 * Feeds of a host waiting in the queue when it answers 429 are held
 * back too: busy and five feeds whose answers take DELAY ms, one at a
 * time to the host (max_per_host = 1). Before, the queue sent them all
 * after the 429.
 */
static void
test_fetch_daemon_429_holds_queue(void **state)
{
	struct fixture *fx = *state;
	struct run r;
	char *text, *err, name[16];
	int sent = 0;

	text = config_head("max_per_host = 1\n");
	append_feed(&text, fx, "busy", R_BUSY);
	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof name, "slow%d", i + 1);
		append_feed(&text, fx, name, R_DELAYED1 + i);
	}
	testutil_write_file(fx->conf, text, 0644);
	free(text);
	run_daemon(fx, fx->conf, until_two_seconds, &r, &err);
	for (int i = 0; i < 5; i++)
		sent += fx->hits[R_DELAYED1 + i];
	if (fx->hits[R_BUSY] != 1 || fx->after_busy != 0 ||
	    (sent < 5 &&
		testutil_count_lines(
		    err, "host 127.0.0.1: ", "queued polls put off") != 1))
		fail_msg("busy asked %d times, %d requests after it, %d slow"
			 " ones in all; stderr:\n%s",
		    fx->hits[R_BUSY], fx->after_busy, sent, err);
	print_message("%d slow feeds asked before busy\n", sent);
	free(err);
}

/* Where the reload test is. */
struct reload {
	int stage;
	long at; /* ms into the run when the stage began */
};

static struct reload reload;

/*
 * While d1 waits for its answer and d2 for its turn (libcurl holds it
 * until it knows the connection cannot be shared), change d1's url,
 * remove d2 and add d3; once both were answered, let the daemon take
 * the answers in, then stop it.
 */
static int
until_reloaded_during_fetch(struct run *r)
{
	struct fixture *fx = r->fx;
	char *text;

	switch (reload.stage) {
	case 0:
		if (fx->in_flight < 1)
			return 0;
		text = config_head("");
		append_feed(&text, fx, "d1", R_GOOD);
		append(&text, "\n");
		append_feed(&text, fx, "d3", R_CHAIN);
		testutil_write_file(fx->conf, text, 0644);
		free(text);
		kill(r->proc.pid, SIGHUP);
		break;
	case 1:
		if (fx->in_flight > 0 || fx->hits[R_DELAYED2] == 0 ||
		    fx->hits[R_GOOD] == 0 || fx->hits[R_CHAIN] == 0)
			return 0;
		break;
	default:
		return run_elapsed(r) - reload.at >= DELAY;
	}
	reload.stage++;
	reload.at = run_elapsed(r);
	return 0;
}

/*
 * A reload while fetches run: the answer for a url that changed, or for
 * a feed that was removed, is dropped when it comes; the feed at its
 * new url and the added one are polled at once.
 */
static void
test_fetch_reload_during_fetch(void **state)
{
	struct fixture *fx = *state;
	static const struct expect_row x[] = {
		{ "d1", 200, 0, NULL, 2 },
		{ "d3", 200, 0, NULL, 2 },
	};
	struct run r;
	struct row row;
	char *text, *err;

	text = config_head("");
	append_feed(&text, fx, "d1", R_DELAYED1);
	append(&text, "\n");
	append_feed(&text, fx, "d2", R_DELAYED2);
	testutil_write_file(fx->conf, text, 0644);
	free(text);
	memset(&reload, 0, sizeof reload);
	run_daemon(fx, fx->conf, until_reloaded_during_fetch, &r, &err);
	if (testutil_count_lines(
		err, "reload: 2 feeds, 1 added, 1 removed", "") != 1)
		fail_msg("reload not logged:\n%s", err);
	free(err);
	check_row(fx, &x[0], &row);
	check_row(fx, &x[1], &row);
	row_get(fx, "d2", &row);
	assert_int_equal(row.last_attempt, 0);
	assert_int_equal(
	    db_count(fx,
		"SELECT count(*) FROM stories WHERE guid LIKE '/delayed/%'"),
	    0);
}

/*
 * The routes over HTTPS too, with a certificate for 127.0.0.1 signed by
 * an authority made for the test, whose certificate is $DIR/ca.pem; a
 * second one, which signed nothing here, is $DIR/other-ca.pem.
 */
static int
tls_setup(void **state)
{
	struct testtls_ca *ca, *other;
	struct fixture *fx;
	char path[PATH_MAX];

	fetch_setup(state);
	fx = *state;
	ca = testtls_ca_new("feedwatch test CA");
	other = testtls_ca_new("feedwatch other CA");
	path_in(fx, path, sizeof path, "ca.pem");
	testtls_ca_write(ca, path);
	path_in(fx, path, sizeof path, "other-ca.pem");
	testtls_ca_write(other, path);
	fx->https =
	    testtls_server_start(fx->base, ca, server_cb, fx, &fx->https_port);
	fx->elsewhere = testtls_server_start_for(fx->base, ca,
	    "DNS:elsewhere.example", server_cb, fx, &fx->elsewhere_port);
	testtls_ca_free(other);
	testtls_ca_free(ca);
	return 0;
}

/* The daemon's log err has one line that starts with start and holds
 * what; else the test fails, showing the log. */
static void
expect_logged(const char *err, const char *start, const char *what)
{
	if (testutil_count_lines(err, start, what) != 1)
		fail_msg("want \"%s... %s\" in:\n%s", start, what, err);
}

/* What libcurl says when a server's certificate does not verify. */
#define CERT_ERROR "SSL certificate problem: unable to get local issuer"
/* And when it names another host. */
#define HOST_ERROR "SSL: no alternative certificate subject name matches"

/* How many lines of `feedwatch feeds --json` say feed is state, with
 * an error that begins with error ("" for any). */
static int
count_feed_json(
    const char *out, const char *feed, const char *state, const char *error)
{
	char a[128], b[256];

	snprintf(a, sizeof a, "{\"name\":\"%s\",", feed);
	snprintf(b, sizeof b, "\"state\":\"%s\",", state);
	if (testutil_count_lines(out, a, b) != 1)
		return 0;
	snprintf(b, sizeof b, "\"last_error\":\"%s", error);
	return testutil_count_lines(out, a, error[0] != '\0' ? b : "");
}

/*
 * TLS is verified: a feed whose server's authority is not trusted fails
 * with libcurl's words for it, no request gets through and no story is
 * stored; the same server is trusted through the feed's ca_file; a
 * plain-HTTP feed in the same cycle is fetched as usual.
 */
static void
test_fetch_tls_feed_ca_file(void **state)
{
	struct fixture *fx = *state;
	static const struct expect_row x[] = {
		{ "untrusted", 0, 1, CERT_ERROR, 0 },
		{ "trusted", 200, 0, NULL, 2 },
		{ "good", 200, 0, NULL, 2 },
	};
	char path[PATH_MAX], *text, *err, *out;
	struct run r;

	path_in(fx, path, sizeof path, "ca.pem");
	text = config_head("");
	append_https_feed(&text, fx, "untrusted", R_SECURE1);
	append(&text, "\n");
	append_https_feed(&text, fx, "trusted", R_SECURE2);
	append(&text, "ca_file = %s\n\n", path);
	append_feed(&text, fx, "good", R_GOOD);
	testutil_write_file(fx->conf, text, 0644);
	free(text);
	run_daemon(fx, fx->conf, NULL, &r, &err);
	check_rows(fx, x, sizeof x / sizeof x[0]);
	assert_int_equal(fx->hits[R_SECURE1], 0);
	assert_int_equal(fx->hits[R_SECURE2], 1);
	assert_int_equal(fx->hits[R_GOOD], 1);
	expect_logged(err, "feed untrusted: https://", CERT_ERROR);
	free(err);

	assert_int_equal(run_tool(fx, "feeds", "--json", &out), 0);
	if (count_feed_json(out, "untrusted", "failing", CERT_ERROR) != 1 ||
	    count_feed_json(out, "trusted", "ok", "") != 1)
		fail_msg("feedwatch feeds --json:\n%s", out);
	free(out);
}

/*
 * The server's name is verified too: a server whose certificate, signed
 * by a trusted authority, names another host than the feed's URL
 * (127.0.0.1) fails with libcurl's words for it, and no request gets
 * through; the rightly named server of the same authority is fetched.
 */
static void
test_fetch_tls_wrong_host(void **state)
{
	struct fixture *fx = *state;
	static const struct expect_row x[] = {
		{ "elsewhere", 0, 1, HOST_ERROR, 0 },
		{ "trusted", 200, 0, NULL, 2 },
	};
	char *text, *err;
	struct run r;

	text = config_head("ca_file = ca.pem\n");
	append_feed_at(&text, "elsewhere", "https", fx->elsewhere_port,
	    routes[R_SECURE1].path);
	append(&text, "\n");
	append_https_feed(&text, fx, "trusted", R_SECURE2);
	testutil_write_file(fx->conf, text, 0644);
	free(text);
	run_daemon(fx, fx->conf, NULL, &r, &err);
	check_rows(fx, x, sizeof x / sizeof x[0]);
	assert_int_equal(fx->hits[R_SECURE1], 0);
	assert_int_equal(fx->hits[R_SECURE2], 1);
	expect_logged(err, "feed elsewhere: https://", HOST_ERROR);
	free(err);
}

/*
 * [daemon] ca_file (relative: to the configuration's directory) serves
 * every feed; a feed's own ca_file is used instead of it, and one that
 * holds no certificate is that feed's error.
 */
static void
test_fetch_tls_daemon_ca_file(void **state)
{
	struct fixture *fx = *state;
	static const struct expect_row x[] = {
		{ "first", 200, 0, NULL, 2 },
		{ "second", 200, 0, NULL, 2 },
		{ "own", 0, 1, CERT_ERROR, 0 },
		{ "junk", 0, 1, "error setting certificate file: ", 0 },
	};
	char path[PATH_MAX], *text, *err;
	struct run r;

	path_in(fx, path, sizeof path, "junk.pem");
	testutil_write_file(path, "not a certificate\n", 0644);
	text = config_head("ca_file = ca.pem\n");
	append_https_feed(&text, fx, "first", R_SECURE1);
	append(&text, "\n");
	append_https_feed(&text, fx, "second", R_SECURE2);
	append(&text, "\n");
	append_https_feed(&text, fx, "own", R_SECURE3);
	append(&text, "ca_file = other-ca.pem\n\n");
	append_https_feed(&text, fx, "junk", R_SECURE3);
	append(&text, "ca_file = junk.pem\n");
	testutil_write_file(fx->conf, text, 0644);
	free(text);
	run_daemon(fx, fx->conf, NULL, &r, &err);
	free(err);
	check_rows(fx, x, sizeof x / sizeof x[0]);
	assert_int_equal(fx->hits[R_SECURE1], 1);
	assert_int_equal(fx->hits[R_SECURE2], 1);
	assert_int_equal(fx->hits[R_SECURE3], 0);
}

/*
 * A ca_file that does not exist is a configuration error, with its file
 * and line, from `feedwatch check-config` and from the daemon, which
 * does not start.
 */
static void
test_fetch_tls_missing_ca_file(void **state)
{
	struct fixture *fx = *state;
	char path[PATH_MAX], want[2 * PATH_MAX + 64], *text, *err, *out;
	struct run r;
	int line = 1;

	path_in(fx, path, sizeof path, "missing.pem");
	text = config_head("");
	append_https_feed(&text, fx, "secure", R_SECURE1);
	for (const char *c = text; *c != '\0'; c++)
		line += *c == '\n';
	append(&text, "ca_file = %s\n", path);
	testutil_write_file(fx->conf, text, 0644);
	free(text);
	snprintf(want, sizeof want,
	    "%s:%d: ca_file: %s: No such file or directory", fx->conf, line,
	    path);

	assert_int_equal(run_tool(fx, "check-config", NULL, &out), 1);
	if (testutil_count_lines(out, want, "") != 1)
		fail_msg("want \"%s\" from check-config:\n%s", want, out);
	free(out);

	run_daemon_status(fx, fx->conf, NULL, &r, &err);
	if (!WIFEXITED(r.proc.status) || WEXITSTATUS(r.proc.status) == 0 ||
	    testutil_count_lines(err, want, "") != 1)
		fail_msg("feedwatchd: wait status %#x, want an exit and \"%s\":"
			 "\n%s",
		    r.proc.status, want, err);
	free(err);
	assert_int_equal(fx->hits[R_SECURE1], 0);
}

/*
 * connect_timeout, from [daemon] and for one feed: at a port where
 * connecting hangs, each feed gives up after its own, with libcurl's
 * words for it, while a feed of the same cycle is fetched as usual.
 */
static void
test_fetch_connect_timeout(void **state)
{
	struct fixture *fx = *state;
	static const struct expect_row x[] = {
		{ "hung", 0, 1, "Timeout was reached", 0 },
		{ "hung2", 0, 1, "Timeout was reached", 0 },
		{ "good", 200, 0, NULL, 2 },
	};
	char want[64], *text = NULL, *err;
	struct run r;
	long elapsed;

	fx->hung_port = testutil_hung_port(fx->hung_fds);
	append(&text,
	    "[daemon]\ndatabase = feedwatch.db\nproxy = none\n"
	    "connect_timeout = 1s\ntimeout = 20s\n\n");
	append_feed_at(&text, "hung", "http", fx->hung_port, "/feed.xml");
	append(&text, "\n");
	append_feed_at(&text, "hung2", "http", fx->hung_port, "/feed.xml");
	append(&text, "connect_timeout = 2s\n\n");
	append_feed(&text, fx, "good", R_GOOD);
	testutil_write_file(fx->conf, text, 0644);
	free(text);
	run_daemon(fx, fx->conf, NULL, &r, &err);
	elapsed = run_elapsed(&r);
	check_rows(fx, x, sizeof x / sizeof x[0]);
	snprintf(want, sizeof want, "Failed to connect to 127.0.0.1 port %d",
	    fx->hung_port);
	if (testutil_count_lines(err, "feed hung: ", want) != 1 ||
	    testutil_count_lines(err, "feed hung2: ", want) != 1)
		fail_msg("want \"%s\" for both feeds in:\n%s", want, err);
	free(err);
	/* hung2 waited its own 2 s, not [daemon]'s 1 s, nor the 20 s. */
	if (elapsed < 2000 || elapsed > 5000)
		fail_msg("the run took %ld ms, want 2 to 5 s", elapsed);
}

/* What [daemon] user_agent is set to in test_fetch_user_agent. */
#define OWN_AGENT "NewsDesk/2.1 (+mailto:desk@example.org)"

/*
 * Each request names feedwatch and its version ("feedwatch/0.1.0"), as
 * feedwatch.conf(5) says, until [daemon] user_agent replaces it.
 */
static void
test_fetch_user_agent(void **state)
{
	struct fixture *fx = *state;
	static const struct expect_row x = { "good", 200, 0, NULL, 2 };
	const char *const heads[] = { "", "user_agent = " OWN_AGENT "\n" };
	const char *const want[] = { "feedwatch/" FEEDWATCH_VERSION,
		OWN_AGENT };
	char *text, *err;
	struct run r;
	struct row row;

	for (int i = 0; i < 2; i++) {
		text = config_head(heads[i]);
		append_feed(&text, fx, "good", R_GOOD);
		testutil_write_file(fx->conf, text, 0644);
		free(text);
		fx->agent[0] = '\0';
		run_daemon(fx, fx->conf, NULL, &r, &err);
		free(err);
		check_row(fx, &x, &row);
		assert_int_equal(fx->hits[R_GOOD], i + 1);
		assert_string_equal(fx->agent, want[i]);
	}
}

/* Start the fixture, and the proxies on loopback. */
static int
proxy_setup(void **state)
{
	struct fixture *fx;
	struct proxy *px;

	fetch_setup(state);
	fx = *state;
	for (int i = 0; i < NPROXIES; i++) {
		px = &fx->proxies[i];
		px->fx = fx;
		px->http =
		    testutil_http_start(fx->base, proxy_cb, px, &px->port);
	}
	return 0;
}

/* "http://127.0.0.1:PORT" of proxy i, in buf. */
static const char *
proxy_url(const struct fixture *fx, int i, char *buf, size_t len)
{
	int n = snprintf(buf, len, "http://127.0.0.1:%d", fx->proxies[i].port);

	assert_true(n > 0 && (size_t)n < len);
	return buf;
}

/* Give the daemon http_proxy = proxy i in its environment. */
static void
proxy_environment(struct fixture *fx, int i)
{
	int n = snprintf(fx->http_proxy, sizeof fx->http_proxy,
	    "http_proxy=http://127.0.0.1:%d", fx->proxies[i].port);

	assert_true(n > 0 && (size_t)n < sizeof fx->http_proxy);
	fx->env[0] = fx->http_proxy;
	fx->env[1] = NULL;
}

/*
 * Proxy i answered n requests, the last one for http://FAR_HOST/path
 * (path NULL when n is 0).
 */
static void
check_proxy(const struct fixture *fx, int i, int n, const char *path)
{
	const struct proxy *px = &fx->proxies[i];
	char want[256];

	snprintf(want, sizeof want, "http://" FAR_HOST "%s",
	    path != NULL ? path : "");
	if (px->hits != n || (n > 0 && strcmp(px->uri, want) != 0))
		fail_msg("proxy %d: %d requests, the last for \"%s\"; want %d"
			 " for \"%s\"",
		    i, px->hits, px->uri, n, want);
}

/* The far feed, fetched through a proxy. */
static const struct expect_row far_ok = { "far", 200, 0, NULL, 2 };

/*
 * Run the daemon once on one feed, "far" at http://FAR_HOST/far.xml,
 * with proxy in [daemon] (as config_head_proxy); check the feed's row
 * against x and return the daemon's stderr (caller frees).
 */
static char *
run_far_feed(struct fixture *fx, const char *proxy, const struct expect_row *x)
{
	char *text, *err;
	struct run r;
	struct row row;

	text = config_head_proxy(proxy, "");
	append_far_feed(&text, "far", "/far.xml");
	testutil_write_file(fx->conf, text, 0644);
	free(text);
	run_daemon(fx, fx->conf, NULL, &r, &err);
	check_row(fx, x, &row);
	return err;
}

/*
 * [daemon] proxy: a feed whose host does not resolve is fetched through
 * the proxy, which is asked for its whole URL.
 */
static void
test_fetch_proxy_daemon(void **state)
{
	struct fixture *fx = *state;
	char url[64];

	free(run_far_feed(fx, proxy_url(fx, 0, url, sizeof url), &far_ok));
	check_proxy(fx, 0, 1, "/far.xml");
	check_proxy(fx, 1, 0, NULL);
}

/*
 * max_per_host counts the feeds' hosts, not the proxy's: six feeds of
 * six hosts, max_per_host = 1, all through one proxy that answers each
 * after DELAY ms, are fetched at once. Counted by the proxy's host,
 * they went one at a time, and a feed's timeout ran while it waited.
 */
static void
test_fetch_proxy_per_host(void **state)
{
	struct fixture *fx = *state;
	char url[64], *text, *err, name[16], path[64];
	struct run r;
	struct row row;

	text = config_head_proxy(
	    proxy_url(fx, 0, url, sizeof url), "max_per_host = 1\n");
	for (int i = 0; i < 6; i++) {
		snprintf(name, sizeof name, "far%d", i + 1);
		snprintf(path, sizeof path, "http://h%d.%s%s", i + 1, FAR_HOST,
		    routes[R_DELAYED1 + i].path);
		append(&text, "[feed \"%s\"]\nurl = %s\n", name, path);
	}
	testutil_write_file(fx->conf, text, 0644);
	free(text);
	run_daemon(fx, fx->conf, NULL, &r, &err);
	free(err);
	assert_int_equal(fx->proxies[0].hits, 6);
	for (int i = 0; i < 6; i++) {
		snprintf(name, sizeof name, "far%d", i + 1);
		row_get(fx, name, &row);
		assert_int_equal(row.http_status, 200);
	}
	if (fx->peak < 2)
		fail_msg("at most %d request at once at the proxy", fx->peak);
}

/*
 * A feed's own proxy is used instead of [daemon]'s, and its own
 * "proxy = none" connects directly; the other feeds keep [daemon]'s.
 */
static void
test_fetch_proxy_feed_overrides(void **state)
{
	struct fixture *fx = *state;
	static const struct expect_row x[] = {
		{ "shared", 200, 0, NULL, 2 },
		{ "own", 200, 0, NULL, 2 },
		{ "direct", 200, 0, NULL, 2 },
	};
	char url[64], *text, *err;
	struct run r;

	text = config_head_proxy(proxy_url(fx, 0, url, sizeof url), "");
	append_far_feed(&text, "shared", "/shared.xml");
	append(&text, "\n");
	append_far_feed(&text, "own", "/own.xml");
	append(&text, "proxy = %s\n\n", proxy_url(fx, 1, url, sizeof url));
	append_feed(&text, fx, "direct", R_GOOD);
	append(&text, "proxy = none\n");
	testutil_write_file(fx->conf, text, 0644);
	free(text);
	run_daemon(fx, fx->conf, NULL, &r, &err);
	free(err);
	check_rows(fx, x, sizeof x / sizeof x[0]);
	check_proxy(fx, 0, 1, "/shared.xml");
	check_proxy(fx, 1, 1, "/own.xml");
	assert_int_equal(fx->hits[R_GOOD], 1);
}

/* With no proxy in the configuration, the environment's http_proxy is
 * used. */
static void
test_fetch_proxy_environment(void **state)
{
	struct fixture *fx = *state;

	proxy_environment(fx, 0);
	free(run_far_feed(fx, NULL, &far_ok));
	check_proxy(fx, 0, 1, "/far.xml");
}

/* What libcurl says when a feed's host does not resolve. */
#define RESOLVE_ERROR "Could not resolve host: " FAR_HOST

/*
 * proxy = none connects directly whatever http_proxy says: the proxy
 * is asked nothing, and the feed fails with libcurl's words for a host
 * that does not resolve, in its row and in the log.
 */
static void
test_fetch_proxy_none_ignores_environment(void **state)
{
	struct fixture *fx = *state;
	static const struct expect_row x = { "far", 0, 1, RESOLVE_ERROR, 0 };
	char *err;

	proxy_environment(fx, 0);
	err = run_far_feed(fx, "none", &x);
	check_proxy(fx, 0, 0, NULL);
	expect_logged(err, "feed far: ", RESOLVE_ERROR);
	free(err);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_fetch_every_case_once, fetch_setup, fetch_teardown),
		cmocka_unit_test_setup_teardown(
		    test_fetch_url_change_resets, fetch_setup, fetch_teardown),
		cmocka_unit_test_setup_teardown(
		    test_fetch_redirect_meanings, fetch_setup, fetch_teardown),
		cmocka_unit_test_setup_teardown(
		    test_fetch_gzip_bomb_bounded, fetch_setup, fetch_teardown),
		cmocka_unit_test_setup_teardown(
		    test_fetch_max_per_host, fetch_setup, fetch_teardown),
		cmocka_unit_test_setup_teardown(
		    test_fetch_daemon_revalidates, fetch_setup, fetch_teardown),
		cmocka_unit_test_setup_teardown(
		    test_fetch_daemon_429_slows_host, fetch_setup,
		    fetch_teardown),
		cmocka_unit_test_setup_teardown(
		    test_fetch_daemon_429_holds_queue, fetch_setup,
		    fetch_teardown),
		cmocka_unit_test_setup_teardown(test_fetch_reload_during_fetch,
		    fetch_setup, fetch_teardown),
		cmocka_unit_test_setup_teardown(
		    test_fetch_health_alerts, fetch_setup, fetch_teardown),
		cmocka_unit_test_setup_teardown(
		    test_fetch_tls_feed_ca_file, tls_setup, fetch_teardown),
		cmocka_unit_test_setup_teardown(
		    test_fetch_tls_daemon_ca_file, tls_setup, fetch_teardown),
		cmocka_unit_test_setup_teardown(
		    test_fetch_tls_wrong_host, tls_setup, fetch_teardown),
		cmocka_unit_test_setup_teardown(
		    test_fetch_tls_missing_ca_file, tls_setup, fetch_teardown),
		cmocka_unit_test_setup_teardown(
		    test_fetch_connect_timeout, fetch_setup, fetch_teardown),
		cmocka_unit_test_setup_teardown(
		    test_fetch_user_agent, fetch_setup, fetch_teardown),
		cmocka_unit_test_setup_teardown(
		    test_fetch_proxy_daemon, proxy_setup, fetch_teardown),
		cmocka_unit_test_setup_teardown(
		    test_fetch_proxy_per_host, proxy_setup, fetch_teardown),
		cmocka_unit_test_setup_teardown(test_fetch_proxy_feed_overrides,
		    proxy_setup, fetch_teardown),
		cmocka_unit_test_setup_teardown(
		    test_fetch_proxy_environment, proxy_setup, fetch_teardown),
		cmocka_unit_test_setup_teardown(
		    test_fetch_proxy_none_ignores_environment, proxy_setup,
		    fetch_teardown),
	};
	int rc;

	if (argc != 3) {
		fprintf(stderr, "usage: %s FEEDWATCHD FEEDWATCH\n", argv[0]);
		return 2;
	}
	daemon_path = argv[1];
	tool_path = argv[2];
	/* Clients hang up on the trickle and the endless body. */
	signal(SIGPIPE, SIG_IGN);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	free(bomb);
	return rc;
}
