#ifndef FEEDWATCH_FETCH_H
#define FEEDWATCH_FETCH_H

#include <stddef.h>

/*
 * Fetching: libcurl's multi interface driven by a libevent loop, one
 * transfer per feed, conditional GET, bounded bodies.
 */

struct event_base;
struct fetch;

struct fetch_opts {
	const char *user_agent;
	int max_fetches;  /* concurrent transfers; more wait their turn */
	int max_per_host; /* concurrent transfers to one host */
};

/* A feed fetch request; strings are borrowed until fetch_start returns. */
struct fetch_req {
	const char *url;
	const char *etag; /* NULL = unconditional */
	const char *last_modified;
	int timeout;	     /* seconds for the whole transfer */
	int connect_timeout; /* seconds */
	int low_speed_limit; /* bytes per second ... */
	int low_speed_time;  /* ... for this many seconds, then give up */
	size_t max_body;     /* bytes, after decompression */
	const char *ca_file; /* NULL = the system's */
	const char *proxy;   /* NULL = environment, "" = none */
};

/* What came back. Strings live until the callback returns. */
struct fetch_result {
	int http_status;   /* 0 = no HTTP answer (also for file://) */
	int not_modified;  /* 304 */
	const char *error; /* NULL on success */
	const char *body;
	size_t len;
	const char *content_type;
	const char *etag;
	const char *last_modified;
	const char *effective_url;
	/* Where the feed now lives: set when it was reached through
	 * permanent redirects (301, 308) only. */
	const char *moved_url;
	int is_permanent; /* reached without redirect, or by 301/308 only */
	int retry_after;  /* seconds a 429 or 503 asked for, 0 = none */
};

typedef void (*fetch_done_cb)(const struct fetch_result *, void *);

/* Return a fetcher on base (caller frees with fetch_free), or NULL. */
struct fetch *fetch_new(struct event_base *base, const struct fetch_opts *);
/* Abandon running transfers (no callbacks) and free; accepts NULL. */
void fetch_free(struct fetch *);
/*
 * Start a transfer, or queue it while max_fetches run or max_per_host
 * run to its host; cb runs exactly once, from the loop, when it ends
 * (with an error when libcurl refuses it), unless fetch_unqueue takes
 * it first. Cannot fail.
 */
void fetch_start(
    struct fetch *, const struct fetch_req *, fetch_done_cb cb, void *arg);
/*
 * Take the transfers to host that wait their turn out of the queue
 * (a 429 asked the host to wait): each(arg, ctx) for each of them,
 * whose callback will not run. Return how many. Cannot fail.
 */
int fetch_unqueue(struct fetch *, const char *host,
    void (*each)(void *arg, void *ctx), void *ctx);
/* Take new options for transfers started from now on. */
void fetch_set_opts(struct fetch *, const struct fetch_opts *);
/* Number of transfers running or queued. */
int fetch_running(const struct fetch *);

#endif
