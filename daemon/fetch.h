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
	int max_fetches;     /* concurrent transfers */
	int timeout;	     /* seconds for a whole transfer */
	int connect_timeout; /* seconds */
	size_t max_body;     /* bytes */
};

/* A feed fetch request; strings are borrowed until the callback. */
struct fetch_req {
	const char *url;
	const char *etag; /* NULL = unconditional */
	const char *last_modified;
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
};

typedef void (*fetch_done_cb)(const struct fetch_result *, void *);

/* Return a fetcher on base (caller frees with fetch_free), or NULL. */
struct fetch *fetch_new(struct event_base *base, const struct fetch_opts *);
/* Abandon running transfers (no callbacks) and free; accepts NULL. */
void fetch_free(struct fetch *);
/*
 * Start a transfer; cb runs exactly once, from the loop, when it ends.
 * Return 0, or -1 (cb will not run) when libcurl refuses it.
 */
int fetch_start(
    struct fetch *, const struct fetch_req *, fetch_done_cb cb, void *arg);
/* Number of transfers running. */
int fetch_running(const struct fetch *);

#endif
