#ifndef FEEDWATCH_METRICS_H
#define FEEDWATCH_METRICS_H

#include <stddef.h>

/*
 * Metrics: counters, gauges and histograms of what the daemon does,
 * served by libevent's evhttp on the one configured address: /metrics
 * in Prometheus text format and /healthz. Every recording function
 * accepts a NULL struct metrics (metrics off) and then does nothing.
 */

#define METRICS_MAX_LAG 10.0	/* seconds of loop lag /healthz accepts */
#define METRICS_MAX_SERIES 1024 /* label values kept per watchlist/hook */

struct event_base;
struct metrics;

/*
 * What only the daemon knows, asked for at each scrape. The callback
 * finds every value at -1 and leaves a value it cannot tell at -1: it
 * is then left out of the page.
 */
struct metrics_gauges {
	int feeds_ok;
	int feeds_failing;
	int feeds_gone;
	int feeds_disabled;
	int alerts_pending;
	int alerts_delivered;
	int alerts_failed;
};

typedef void (*metrics_gauges_cb)(struct metrics_gauges *, void *);

/*
 * Check that addr is ADDRESS:PORT: an IPv4 address or an IPv6 one in
 * brackets ([::1]:9464), no host name, and a port from 0 to 65535.
 * Return 0, or -1 with *cause (caller frees).
 */
int metrics_listen_check(const char *addr, char **cause);
/*
 * Serve /metrics and /healthz on addr (ADDRESS:PORT, port 0 picks a
 * free one) from base, and start the loop-lag timer. Return the
 * metrics (free with metrics_free), or NULL with *cause naming the
 * address and why it cannot be bound.
 */
struct metrics *metrics_new(
    struct event_base *, const char *addr, char **cause);
/* Close the listener and connections and free; accepts NULL. */
void metrics_free(struct metrics *);
/* Return the port bound. Cannot fail. */
int metrics_port(const struct metrics *);
/* Return "ADDRESS:PORT" as bound, owned by the metrics. Cannot fail. */
const char *metrics_address(const struct metrics *);
/* Set the callback that fills the gauges at each scrape (NULL: none). */
void metrics_set_gauges_cb(struct metrics *, metrics_gauges_cb, void *);
/* Set the loop lag in seconds above which /healthz answers 503. */
void metrics_set_max_lag(struct metrics *, double seconds);

/* A fetch ended: its HTTP status (0 = no HTTP answer), body bytes. */
void metrics_fetch(struct metrics *, int http_status, size_t bytes);
/* A fetched document could not be read as a feed. */
void metrics_parse_error(struct metrics *);
/* Items a fetch added: new stories, and copies that joined known ones. */
void metrics_stories(struct metrics *, int new_count, int dup_count);
/* A watchlist matched a story. */
void metrics_match(struct metrics *, const char *watchlist);
/* A hook ran for seconds; ok is 1 when it delivered. */
void metrics_hook_run(
    struct metrics *, const char *hook, double seconds, int ok);

#endif
