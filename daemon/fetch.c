#include <sys/queue.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "fetch.h"
#include "log.h"
#include "version.h"
#include "xmalloc.h"

/*
 * Fetching: one struct transfer per feed, driven by the libevent loop
 * in the shape of curl's multi-event.c. libcurl tells us which sockets
 * to watch (fetch_socket_cb) and when to wake it (fetch_timer_cb); the
 * loop calls curl_multi_socket_action and fetch_drain collects what
 * finished.
 */

#define FETCH_MAX_REDIRS 10
#define FETCH_LOW_SPEED_LIMIT 64 /* bytes per second ... */
#define FETCH_LOW_SPEED_TIME 30	 /* ... for this many seconds */
#define FETCH_MAX_HEADER 1024	 /* bytes of an ETag we keep */

struct fetch_sock {
	struct event *ev;
	LIST_ENTRY(fetch_sock) entry;
};

struct transfer {
	CURL *easy;
	struct fetch *fetch; /* back-pointer, not owned */
	fetch_done_cb cb;
	void *arg;
	struct curl_slist *headers;
	char *body;
	size_t len;
	size_t cap;
	int is_too_big;
	char *etag;
	char *last_modified;
	char errbuf[CURL_ERROR_SIZE];
	TAILQ_ENTRY(transfer) entry;
};

struct fetch {
	struct event_base *base;
	CURLM *multi;
	struct event *timer;
	struct fetch_opts opts;
	char *user_agent;
	int running;
	TAILQ_HEAD(, transfer) transfers;
	LIST_HEAD(, fetch_sock) socks;
};

static int fetch_socket_cb(CURL *, curl_socket_t, int, void *, void *);
static int fetch_timer_cb(CURLM *, long, void *);
static void fetch_event_cb(evutil_socket_t, short, void *);
static void fetch_timeout_cb(evutil_socket_t, short, void *);
static void fetch_drain(struct fetch *);

struct fetch *
fetch_new(struct event_base *base, const struct fetch_opts *opts)
{
	struct fetch *f;

	f = xcalloc(1, sizeof *f);
	f->base = base;
	f->opts = *opts;
	if (opts->user_agent != NULL)
		f->user_agent = xstrdup(opts->user_agent);
	else
		f->user_agent = xstrdup("feedwatch/" FEEDWATCH_VERSION);
	f->opts.user_agent = f->user_agent;
	TAILQ_INIT(&f->transfers);
	LIST_INIT(&f->socks);
	if ((f->multi = curl_multi_init()) == NULL ||
	    (f->timer = evtimer_new(base, fetch_timeout_cb, f)) == NULL) {
		fetch_free(f);
		return NULL;
	}
	curl_multi_setopt(f->multi, CURLMOPT_SOCKETFUNCTION, fetch_socket_cb);
	curl_multi_setopt(f->multi, CURLMOPT_SOCKETDATA, f);
	curl_multi_setopt(f->multi, CURLMOPT_TIMERFUNCTION, fetch_timer_cb);
	curl_multi_setopt(f->multi, CURLMOPT_TIMERDATA, f);
	curl_multi_setopt(
	    f->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)opts->max_fetches);
	return f;
}

static void
fetch_transfer_free(struct transfer *t)
{
	curl_easy_cleanup(t->easy);
	curl_slist_free_all(t->headers);
	free(t->body);
	free(t->etag);
	free(t->last_modified);
	free(t);
}

void
fetch_free(struct fetch *f)
{
	struct transfer *t;
	struct fetch_sock *s;

	if (f == NULL)
		return;
	while ((t = TAILQ_FIRST(&f->transfers)) != NULL) {
		TAILQ_REMOVE(&f->transfers, t, entry);
		curl_multi_remove_handle(f->multi, t->easy);
		fetch_transfer_free(t);
	}
	if (f->multi != NULL)
		curl_multi_cleanup(f->multi);
	while ((s = LIST_FIRST(&f->socks)) != NULL) {
		LIST_REMOVE(s, entry);
		event_free(s->ev);
		free(s);
	}
	if (f->timer != NULL)
		event_free(f->timer);
	free(f->user_agent);
	free(f);
}

int
fetch_running(const struct fetch *f)
{
	return f->running;
}

/* libcurl's socket callback: watch what it asks, stop when it says so. */
static int
fetch_socket_cb(
    CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct fetch *f = userp;
	struct fetch_sock *s = socketp;
	short kind;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (s != NULL) {
			LIST_REMOVE(s, entry);
			event_free(s->ev);
			free(s);
			curl_multi_assign(f->multi, fd, NULL);
		}
		return 0;
	}
	kind = EV_PERSIST | ((what & CURL_POLL_IN) ? EV_READ : 0) |
	    ((what & CURL_POLL_OUT) ? EV_WRITE : 0);
	if (s == NULL) {
		s = xcalloc(1, sizeof *s);
		if ((s->ev = event_new(f->base, fd, kind, fetch_event_cb, f)) ==
		    NULL)
			fatalx("event_new failed");
		LIST_INSERT_HEAD(&f->socks, s, entry);
		curl_multi_assign(f->multi, fd, s);
	} else {
		event_del(s->ev);
		event_assign(s->ev, f->base, fd, kind, fetch_event_cb, f);
	}
	event_add(s->ev, NULL);
	return 0;
}

/* libcurl's timer callback: re-arm or stop our one timer. */
static int
fetch_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct fetch *f = userp;
	struct timeval tv;

	(void)multi;
	if (timeout_ms < 0) {
		evtimer_del(f->timer);
		return 0;
	}
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	evtimer_add(f->timer, &tv);
	return 0;
}

static void
fetch_action(struct fetch *f, curl_socket_t fd, int flags)
{
	CURLMcode rc;

	rc = curl_multi_socket_action(f->multi, fd, flags, &f->running);
	if (rc != CURLM_OK)
		log_warnx(
		    "curl_multi_socket_action: %s", curl_multi_strerror(rc));
	fetch_drain(f);
}

static void
fetch_event_cb(evutil_socket_t fd, short kind, void *arg)
{
	int flags = ((kind & EV_READ) ? CURL_CSELECT_IN : 0) |
	    ((kind & EV_WRITE) ? CURL_CSELECT_OUT : 0);

	fetch_action(arg, fd, flags);
}

static void
fetch_timeout_cb(evutil_socket_t fd, short kind, void *arg)
{
	(void)fd;
	(void)kind;
	fetch_action(arg, CURL_SOCKET_TIMEOUT, 0);
}

/* Append body bytes, refusing more than max_body (after decoding). */
static size_t
fetch_write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct transfer *t = arg;
	size_t n = size * nmemb;

	if (n > t->fetch->opts.max_body - t->len) {
		t->is_too_big = 1;
		return 0;
	}
	if (t->len + n + 1 > t->cap) {
		t->cap = t->len + n + 1 < 65536 ? 65536 : (t->len + n + 1) * 2;
		if (t->cap > t->fetch->opts.max_body + 1)
			t->cap = t->fetch->opts.max_body + 1;
		t->body = xreallocarray(t->body, t->cap, 1);
	}
	memcpy(t->body + t->len, data, n);
	t->len += n;
	t->body[t->len] = '\0';
	return n;
}

/* Keep a header's value when name matches, trimmed of CRLF. */
static void
fetch_header_keep(char **field, const char *line, size_t len, const char *name)
{
	size_t nlen = strlen(name);

	if (len <= nlen || strncasecmp(line, name, nlen) != 0)
		return;
	line += nlen;
	len -= nlen;
	while (len > 0 && (*line == ' ' || *line == '\t')) {
		line++;
		len--;
	}
	while (len > 0 &&
	    (line[len - 1] == '\r' || line[len - 1] == '\n' ||
		line[len - 1] == ' '))
		len--;
	if (len == 0 || len > FETCH_MAX_HEADER)
		return;
	free(*field);
	*field = xstrndup(line, len);
}

static size_t
fetch_header_cb(char *line, size_t size, size_t nmemb, void *arg)
{
	struct transfer *t = arg;
	size_t n = size * nmemb;

	/* A new response (after a redirect) replaces what we kept. */
	if (n > 5 && strncmp(line, "HTTP/", 5) == 0) {
		free(t->etag);
		free(t->last_modified);
		t->etag = t->last_modified = NULL;
	}
	fetch_header_keep(&t->etag, line, n, "ETag:");
	fetch_header_keep(&t->last_modified, line, n, "Last-Modified:");
	return n;
}

static void
fetch_setopts(struct fetch *f, struct transfer *t, const struct fetch_req *r)
{
	CURL *e = t->easy;
	char *h;

	curl_easy_setopt(e, CURLOPT_URL, r->url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, t);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https,file");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(e, CURLOPT_MAXREDIRS, (long)FETCH_MAX_REDIRS);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_USERAGENT, f->opts.user_agent);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, (long)f->opts.timeout);
	curl_easy_setopt(
	    e, CURLOPT_CONNECTTIMEOUT, (long)f->opts.connect_timeout);
	curl_easy_setopt(
	    e, CURLOPT_LOW_SPEED_LIMIT, (long)FETCH_LOW_SPEED_LIMIT);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, (long)FETCH_LOW_SPEED_TIME);
	curl_easy_setopt(
	    e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)f->opts.max_body);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, fetch_write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, fetch_header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
	if (r->etag != NULL) {
		xasprintf(&h, "If-None-Match: %s", r->etag);
		t->headers = curl_slist_append(t->headers, h);
		free(h);
	}
	if (r->last_modified != NULL) {
		xasprintf(&h, "If-Modified-Since: %s", r->last_modified);
		t->headers = curl_slist_append(t->headers, h);
		free(h);
	}
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
}

int
fetch_start(
    struct fetch *f, const struct fetch_req *r, fetch_done_cb cb, void *arg)
{
	struct transfer *t;
	CURLMcode rc;

	t = xcalloc(1, sizeof *t);
	t->fetch = f;
	t->cb = cb;
	t->arg = arg;
	if ((t->easy = curl_easy_init()) == NULL) {
		free(t);
		log_warnx("%s: curl_easy_init failed", r->url);
		return -1;
	}
	fetch_setopts(f, t, r);
	if ((rc = curl_multi_add_handle(f->multi, t->easy)) != CURLM_OK) {
		log_warnx("%s: %s", r->url, curl_multi_strerror(rc));
		fetch_transfer_free(t);
		return -1;
	}
	TAILQ_INSERT_TAIL(&f->transfers, t, entry);
	return 0;
}

/* Turn a finished transfer into what the caller is told. */
static void
fetch_result(struct transfer *t, CURLcode code, struct fetch_result *r,
    char *status, size_t statuslen)
{
	long http = 0;
	char *ct = NULL, *url = NULL;

	memset(r, 0, sizeof *r);
	curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &http);
	curl_easy_getinfo(t->easy, CURLINFO_CONTENT_TYPE, &ct);
	curl_easy_getinfo(t->easy, CURLINFO_EFFECTIVE_URL, &url);
	r->http_status = (int)http;
	r->content_type = ct;
	r->effective_url = url;
	r->etag = t->etag;
	r->last_modified = t->last_modified;
	if (t->is_too_big || code == CURLE_FILESIZE_EXCEEDED) {
		snprintf(status, statuslen,
		    "body larger than max_body "
		    "(%zu bytes)",
		    t->fetch->opts.max_body);
		r->error = status;
	} else if (code != CURLE_OK) {
		r->error =
		    t->errbuf[0] != '\0' ? t->errbuf : curl_easy_strerror(code);
	} else if (http == 304) {
		r->not_modified = 1;
	} else if (http >= 400 || (http != 0 && http < 200) || http == 204) {
		snprintf(status, statuslen, "HTTP status %ld", http);
		r->error = status;
	} else {
		r->body = t->body != NULL ? t->body : "";
		r->len = t->len;
	}
}

/* Collect finished transfers and tell their owners. */
static void
fetch_drain(struct fetch *f)
{
	struct fetch_result r;
	struct transfer *t;
	CURLMsg *msg;
	char status[128];
	int left;

	while ((msg = curl_multi_info_read(f->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &t);
		fetch_result(t, msg->data.result, &r, status, sizeof status);
		curl_multi_remove_handle(f->multi, t->easy);
		TAILQ_REMOVE(&f->transfers, t, entry);
		t->cb(&r, t->arg);
		fetch_transfer_free(t);
	}
}
