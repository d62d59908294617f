#include <sys/queue.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "fetch.h"
#include "log.h"
#include "url.h"
#include "version.h"
#include "xmalloc.h"

/*
 * Fetching: one struct transfer per feed, driven by the libevent loop
 * in the shape of curl's multi-event.c. libcurl tells us which sockets
 * to watch (fetch_socket_cb) and when to wake it (fetch_timer_cb); the
 * loop calls curl_multi_socket_action and fetch_drain collects what
 * finished.
 *
 * Transfers beyond max_fetches, or beyond max_per_host to one host,
 * wait in our own queue rather than in libcurl's, so that a transfer's
 * timeouts start when it really starts.
 */

#define FETCH_MAX_REDIRS 10
#define FETCH_MAX_HEADER 1024		      /* bytes of an ETag we keep */
#define FETCH_MAX_RETRY_AFTER (7 * 24 * 3600) /* seconds we believe */

/* Transfers running to one host. */
struct fetch_host {
	char *name;
	int running;
	LIST_ENTRY(fetch_host) entry;
};

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
	struct fetch_req req; /* kept until it starts; strings owned */
	char *url;
	char *host;		 /* "" for file:// */
	struct fetch_host *slot; /* while running, not owned */
	size_t max_body;
	char *body;
	size_t len;
	size_t cap;
	int is_too_big;
	int is_moved;	     /* every redirect so far was permanent */
	int redirects;	     /* responses that were redirects */
	int has_retry_after; /* the latest response has a Retry-After */
	char *etag;
	char *last_modified;
	char *errbuf; /* CURL_ERROR_SIZE bytes, once it starts */
	TAILQ_ENTRY(transfer) entry;
};

struct fetch {
	struct event_base *base;
	CURLM *multi;
	struct event *timer;
	struct fetch_opts opts;
	char *user_agent;
	int running;			  /* libcurl's count */
	int active;			  /* transfers handed to libcurl */
	int queued;			  /* transfers waiting their turn */
	TAILQ_HEAD(, transfer) transfers; /* handed to libcurl */
	TAILQ_HEAD(, transfer) waiting;
	TAILQ_HEAD(, transfer) refused; /* told from the loop, not inline */
	struct event *refused_ev;
	int is_pumping;
	LIST_HEAD(, fetch_host) hosts;
	LIST_HEAD(, fetch_sock) socks;
};

static int fetch_socket_cb(CURL *, curl_socket_t, int, void *, void *);
static int fetch_timer_cb(CURLM *, long, void *);
static void fetch_event_cb(evutil_socket_t, short, void *);
static void fetch_timeout_cb(evutil_socket_t, short, void *);
static void fetch_refused_cb(evutil_socket_t, short, void *);
static void fetch_pump(struct fetch *);
static void fetch_drain(struct fetch *);

void
fetch_set_opts(struct fetch *f, const struct fetch_opts *opts)
{
	free(f->user_agent);
	f->opts = *opts;
	if (opts->user_agent != NULL)
		f->user_agent = xstrdup(opts->user_agent);
	else
		f->user_agent = xstrdup("feedwatch/" FEEDWATCH_VERSION);
	f->opts.user_agent = f->user_agent;
	if (f->opts.max_fetches < 1)
		f->opts.max_fetches = 1;
	if (f->opts.max_per_host < 1)
		f->opts.max_per_host = f->opts.max_fetches;
	if (f->multi != NULL) {
		/*
		 * max_per_host is kept by the queue (fetch_pump), by the
		 * feed's host: libcurl's own limit would count a proxy's,
		 * and hold transfers whose timeouts already run.
		 */
		curl_multi_setopt(f->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
		    (long)f->opts.max_fetches);
		fetch_pump(f);
	}
}

struct fetch *
fetch_new(struct event_base *base, const struct fetch_opts *opts)
{
	struct fetch *f;

	f = xcalloc(1, sizeof *f);
	f->base = base;
	TAILQ_INIT(&f->transfers);
	TAILQ_INIT(&f->waiting);
	TAILQ_INIT(&f->refused);
	LIST_INIT(&f->hosts);
	LIST_INIT(&f->socks);
	if ((f->multi = curl_multi_init()) == NULL ||
	    (f->timer = evtimer_new(base, fetch_timeout_cb, f)) == NULL ||
	    (f->refused_ev = evtimer_new(base, fetch_refused_cb, f)) == NULL) {
		fetch_free(f);
		return NULL;
	}
	curl_multi_setopt(f->multi, CURLMOPT_SOCKETFUNCTION, fetch_socket_cb);
	curl_multi_setopt(f->multi, CURLMOPT_SOCKETDATA, f);
	curl_multi_setopt(f->multi, CURLMOPT_TIMERFUNCTION, fetch_timer_cb);
	curl_multi_setopt(f->multi, CURLMOPT_TIMERDATA, f);
	curl_multi_setopt(f->multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
	fetch_set_opts(f, opts);
	return f;
}

static void
fetch_transfer_free(struct transfer *t)
{
	if (t->easy != NULL)
		curl_easy_cleanup(t->easy);
	curl_slist_free_all(t->headers);
	free((char *)t->req.etag);
	free((char *)t->req.last_modified);
	free((char *)t->req.ca_file);
	free((char *)t->req.proxy);
	free(t->url);
	free(t->host);
	free(t->body);
	free(t->etag);
	free(t->last_modified);
	free(t->errbuf);
	free(t);
}

void
fetch_free(struct fetch *f)
{
	struct transfer *t;
	struct fetch_sock *s;
	struct fetch_host *h;

	if (f == NULL)
		return;
	while ((t = TAILQ_FIRST(&f->transfers)) != NULL) {
		TAILQ_REMOVE(&f->transfers, t, entry);
		curl_multi_remove_handle(f->multi, t->easy);
		fetch_transfer_free(t);
	}
	while ((t = TAILQ_FIRST(&f->waiting)) != NULL) {
		TAILQ_REMOVE(&f->waiting, t, entry);
		fetch_transfer_free(t);
	}
	while ((t = TAILQ_FIRST(&f->refused)) != NULL) {
		TAILQ_REMOVE(&f->refused, t, entry);
		fetch_transfer_free(t);
	}
	if (f->refused_ev != NULL)
		event_free(f->refused_ev);
	while ((h = LIST_FIRST(&f->hosts)) != NULL) {
		LIST_REMOVE(h, entry);
		free(h->name);
		free(h);
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
	return f->active + f->queued;
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

	if (n > t->max_body - t->len) {
		t->is_too_big = 1;
		return 0;
	}
	if (t->len + n + 1 > t->cap) {
		t->cap = t->len + n + 1 < 65536 ? 65536 : (t->len + n + 1) * 2;
		if (t->cap > t->max_body + 1)
			t->cap = t->max_body + 1;
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

	/*
	 * A new response (after a redirect) replaces what we kept; a
	 * redirect that is not permanent means the feed did not move.
	 */
	if (n > 5 && strncmp(line, "HTTP/", 5) == 0) {
		const char *sp = memchr(line, ' ', n);
		int code = sp != NULL ? atoi(sp + 1) : 0;

		free(t->etag);
		free(t->last_modified);
		t->etag = t->last_modified = NULL;
		t->has_retry_after = 0;
		if (code >= 300 && code < 400 && code != 304) {
			t->redirects++;
			if (code != 301 && code != 308)
				t->is_moved = 0;
		}
	}
	/* libcurl keeps a redirect's Retry-After for the answer after. */
	if (n > 12 && strncasecmp(line, "Retry-After:", 12) == 0)
		t->has_retry_after = 1;
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
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	/* Wait to share a connection only where HTTP/2 may multiplex. */
	if (strncasecmp(r->url, "https:", 6) == 0)
		curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, f->opts.user_agent);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, (long)r->timeout);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, (long)r->connect_timeout);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, (long)r->low_speed_limit);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, (long)r->low_speed_time);
	curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)t->max_body);
	if (r->ca_file != NULL)
		curl_easy_setopt(e, CURLOPT_CAINFO, r->ca_file);
	if (r->proxy != NULL)
		curl_easy_setopt(e, CURLOPT_PROXY, r->proxy);
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

/* The count of running transfers to a host, made when first needed. */
static struct fetch_host *
fetch_host_get(struct fetch *f, const char *name)
{
	struct fetch_host *h;

	LIST_FOREACH(h, &f->hosts, entry) {
		if (strcmp(h->name, name) == 0)
			return h;
	}
	h = xcalloc(1, sizeof *h);
	h->name = xstrdup(name);
	LIST_INSERT_HEAD(&f->hosts, h, entry);
	return h;
}

/* A transfer to this host ended; forget hosts with none running. */
static void
fetch_host_put(struct fetch_host *h)
{
	if (--h->running > 0)
		return;
	LIST_REMOVE(h, entry);
	free(h->name);
	free(h);
}

/* Tell the owners of transfers libcurl refused, from the loop. */
static void
fetch_refused_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fetch *f = arg;
	struct fetch_result r;
	struct transfer *t;

	(void)fd;
	(void)what;
	while ((t = TAILQ_FIRST(&f->refused)) != NULL) {
		TAILQ_REMOVE(&f->refused, t, entry);
		memset(&r, 0, sizeof r);
		r.error = t->errbuf;
		t->cb(&r, t->arg);
		fetch_transfer_free(t);
	}
}

/* Hand a transfer to libcurl; a refusal is told from the loop. */
static void
fetch_begin(struct fetch *f, struct transfer *t)
{
	struct timeval now = { 0, 0 };
	CURLMcode rc;

	/*
	 * The easy handle is made now, not when the transfer was queued:
	 * ten thousand queued feeds cost their requests, not libcurl's
	 * handles (and this buffer).
	 */
	t->errbuf = xcalloc(1, CURL_ERROR_SIZE);
	if ((t->easy = curl_easy_init()) == NULL) {
		snprintf(t->errbuf, CURL_ERROR_SIZE,
		    "libcurl: curl_easy_init failed");
		log_warnx("%s: %s", t->url, t->errbuf);
		TAILQ_INSERT_TAIL(&f->refused, t, entry);
		evtimer_add(f->refused_ev, &now);
		return;
	}
	fetch_setopts(f, t, &t->req);
	t->slot = fetch_host_get(f, t->host);
	t->slot->running++;
	f->active++;
	if ((rc = curl_multi_add_handle(f->multi, t->easy)) == CURLM_OK) {
		TAILQ_INSERT_TAIL(&f->transfers, t, entry);
		return;
	}
	f->active--;
	fetch_host_put(t->slot);
	t->slot = NULL;
	snprintf(
	    t->errbuf, CURL_ERROR_SIZE, "libcurl: %s", curl_multi_strerror(rc));
	log_warnx("%s: %s", t->url, t->errbuf);
	TAILQ_INSERT_TAIL(&f->refused, t, entry);
	evtimer_add(f->refused_ev, &now);
}

/* Start queued transfers while there is room, overall and per host. */
static void
fetch_pump(struct fetch *f)
{
	struct transfer *t, *next;
	struct fetch_host *h;
	int is_full;

	if (f->is_pumping)
		return;
	f->is_pumping = 1;
	for (t = TAILQ_FIRST(&f->waiting);
	     t != NULL && f->active < f->opts.max_fetches; t = next) {
		next = TAILQ_NEXT(t, entry);
		is_full = 0;
		LIST_FOREACH(h, &f->hosts, entry) {
			if (strcmp(h->name, t->host) == 0) {
				is_full = h->running >= f->opts.max_per_host;
				break;
			}
		}
		if (is_full)
			continue;
		TAILQ_REMOVE(&f->waiting, t, entry);
		f->queued--;
		fetch_begin(f, t);
	}
	f->is_pumping = 0;
}

int
fetch_unqueue(struct fetch *f, const char *host,
    void (*each)(void *arg, void *ctx), void *ctx)
{
	struct transfer *t, *next;
	int n = 0;

	for (t = TAILQ_FIRST(&f->waiting); t != NULL; t = next) {
		next = TAILQ_NEXT(t, entry);
		if (strcmp(t->host, host) != 0)
			continue;
		TAILQ_REMOVE(&f->waiting, t, entry);
		f->queued--;
		each(t->arg, ctx);
		fetch_transfer_free(t);
		n++;
	}
	return n;
}

void
fetch_start(
    struct fetch *f, const struct fetch_req *r, fetch_done_cb cb, void *arg)
{
	struct transfer *t;

	t = xcalloc(1, sizeof *t);
	t->fetch = f;
	t->cb = cb;
	t->arg = arg;
	t->max_body = r->max_body;
	t->is_moved = 1;
	t->url = xstrdup(r->url);
	if ((t->host = url_host(r->url)) == NULL)
		t->host = xstrdup("");
	t->req = *r;
	t->req.url = t->url;
	t->req.etag = r->etag != NULL ? xstrdup(r->etag) : NULL;
	t->req.last_modified =
	    r->last_modified != NULL ? xstrdup(r->last_modified) : NULL;
	t->req.ca_file = r->ca_file != NULL ? xstrdup(r->ca_file) : NULL;
	t->req.proxy = r->proxy != NULL ? xstrdup(r->proxy) : NULL;
	TAILQ_INSERT_TAIL(&f->waiting, t, entry);
	f->queued++;
	fetch_pump(f);
}

/* Turn a finished transfer into what the caller is told. */
static void
fetch_result(struct transfer *t, CURLcode code, struct fetch_result *r,
    char *status, size_t statuslen)
{
	long http = 0;
	char *ct = NULL, *url = NULL;

	curl_off_t retry_after = 0;

	memset(r, 0, sizeof *r);
	curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &http);
	curl_easy_getinfo(t->easy, CURLINFO_CONTENT_TYPE, &ct);
	curl_easy_getinfo(t->easy, CURLINFO_EFFECTIVE_URL, &url);
	curl_easy_getinfo(t->easy, CURLINFO_RETRY_AFTER, &retry_after);
	r->http_status = (int)http;
	r->content_type = ct;
	r->effective_url = url;
	r->etag = t->etag;
	r->last_modified = t->last_modified;
	r->is_permanent = t->redirects == 0 || t->is_moved;
	if ((http == 429 || http == 503) && t->has_retry_after &&
	    retry_after > 0)
		r->retry_after = retry_after > FETCH_MAX_RETRY_AFTER ?
		    FETCH_MAX_RETRY_AFTER :
		    (int)retry_after;
	if (t->redirects > 0 && t->is_moved && code == CURLE_OK &&
	    ((http >= 200 && http < 300) || http == 304) && url != NULL &&
	    strcmp(url, t->url) != 0)
		r->moved_url = url;
	if (t->is_too_big || code == CURLE_FILESIZE_EXCEEDED) {
		snprintf(status, statuslen,
		    "body larger than max_body "
		    "(%zu bytes)",
		    t->max_body);
		r->error = status;
	} else if (code != CURLE_OK) {
		r->error =
		    t->errbuf[0] != '\0' ? t->errbuf : curl_easy_strerror(code);
	} else if (http == 304) {
		r->not_modified = 1;
	} else if (http >= 300 || (http != 0 && http < 200) || http == 204) {
		if (http >= 300 && http < 400)
			snprintf(status, statuslen,
			    "HTTP status %ld: more than %d redirects or "
			    "no Location",
			    http, FETCH_MAX_REDIRS);
		else
			snprintf(status, statuslen, "HTTP status %ld%s", http,
			    http == 410	    ? " (gone)" :
				http == 429 ? " (too many requests)" :
				http == 404 ? " (not found)" :
				http == 503 ? " (unavailable)" :
					      "");
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
		f->active--;
		fetch_host_put(t->slot);
		t->cb(&r, t->arg);
		fetch_transfer_free(t);
	}
	fetch_pump(f);
}
