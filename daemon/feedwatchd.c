#include <sys/file.h>
#include <sys/queue.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <jansson.h>
#include <libxml/parser.h>
#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "alert.h"
#include "config.h"
#include "date.h"
#include "fetch.h"
#include "log.h"
#include "metrics.h"
#include "pipeline.h"
#include "scheduler.h"
#include "store.h"
#include "url.h"
#include "version.h"
#include "xmalloc.h"

/*
 * feedwatchd: load the configuration, open the story log, and run the
 * loop that polls feeds and delivers alerts; --once polls every feed a
 * single time, tries every pending alert once, and exits. SIGHUP
 * reloads the configuration; feeds that stay keep their state.
 */

#define DEFAULT_CONFIG "/etc/feedwatch/feedwatch.conf"
#define PRUNE_BATCH 500	   /* stories pruned in one transaction */
#define PRUNE_EVERY 3600   /* seconds between pruning rounds */
#define HOST_SLOWDOWN 600  /* seconds a 429 without Retry-After slows a host */
#define STOP_FETCH_GRACE 5 /* seconds running fetches get at shutdown */

struct daemon;

struct daemon_feed {
	struct daemon *d;	/* back-pointer, not owned */
	struct config_feed *cf; /* owned by the configuration; NULL once
				   a reload removed the feed */
	struct store_feed state;
	struct scheduler_job *job;
	time_t next_poll; /* UTC seconds */
	int is_busy;	  /* a fetch is running */
	TAILQ_ENTRY(daemon_feed) entry;
};

/* A host that answered 429: no feed of it is polled before until. */
struct daemon_host {
	char *name;
	time_t until;
	LIST_ENTRY(daemon_host) entry;
};

struct daemon {
	struct event_base *base;
	const char *path; /* of the configuration */
	struct config *cfg;
	struct store *store;
	struct fetch *fetch;
	struct alert *alert;
	struct metrics *metrics; /* NULL = metrics off */
	int lock_fd;		 /* holds the database's lock file */
	TAILQ_HEAD(, daemon_feed) feeds;
	TAILQ_HEAD(, daemon_feed) removed; /* fetching, then freed */
	LIST_HEAD(, daemon_host) hosts;
	size_t nfeeds;
	size_t polled;	    /* with --once: feeds finished */
	char *reload_error; /* the last reload's first error, or NULL */
	int once;
	int new_stories;
	int alerts;
	struct event *sig_int;
	struct event *sig_term;
	struct event *stop;	/* while stopping: is all done? */
	time_t stop_fetches_at; /* running fetches are abandoned then */
	int is_stopping;
	struct event *sig_hup;
	struct event *prune;
	struct event *watchdog; /* WATCHDOG=1 at half WATCHDOG_USEC */
	struct timeval watchdog_every;
	time_t status_at; /* when STATUS= was last sent */
};

static void daemon_poll_cb(void *);
static void daemon_feed_free(struct daemon_feed *);

static void
usage(void)
{
	fprintf(stderr, "usage: feedwatchd [-v] [--once] [-c FILE]\n");
	exit(2);
}

static void
daemon_notify(const char *state)
{
#ifdef HAVE_LIBSYSTEMD
	sd_notify(0, state);
#else
	(void)state;
#endif
}

/*
 * Keep systemd's STATUS= line current: feeds, failing ones, pending
 * alerts and the next poll. At most once a second.
 */
static void
daemon_status(struct daemon *d)
{
	struct daemon_feed *df;
	time_t now = time(NULL), next = 0;
	char status[512], *cause;
	size_t failing = 0;
	int pending;

	if (now == d->status_at)
		return;
	d->status_at = now;
	TAILQ_FOREACH(df, &d->feeds, entry) {
		if (df->state.failures > 0 || df->state.gone_at != 0)
			failing++;
		if (df->state.gone_at == 0 &&
		    (next == 0 || df->next_poll < next))
			next = df->next_poll;
	}
	if ((pending = store_alert_count(
		 d->store, STORE_ALERT_PENDING, &cause)) == -1) {
		free(cause);
		pending = 0;
	}
	snprintf(status, sizeof status,
	    "STATUS=%s%s%zu feeds, %zu failing, %d "
	    "alerts pending, next poll in %llds",
	    d->reload_error != NULL ? "reload refused, running on the previous "
				      "configuration: " :
				      "",
	    d->reload_error != NULL ? d->reload_error : "", d->nfeeds, failing,
	    pending, (long long)(next > now ? next - now : 0));
	daemon_notify(status);
}

static void
daemon_watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	(void)fd;
	(void)what;
	daemon_notify("WATCHDOG=1");
	evtimer_add(d->watchdog, &d->watchdog_every);
}

/* With --once: stop when every feed was polled and the outbox is idle. */
static void
daemon_check_done(struct daemon *d)
{
	if (!d->once || d->polled < d->nfeeds || alert_busy(d->alert))
		return;
	event_base_loopexit(d->base, NULL);
}

static void
daemon_alert_idle_cb(void *arg)
{
	daemon_check_done(arg);
}

/* The host a 429 slowed, made when first needed. */
static struct daemon_host *
daemon_host_get(struct daemon *d, const char *name, int create)
{
	struct daemon_host *h;

	LIST_FOREACH(h, &d->hosts, entry) {
		if (strcmp(h->name, name) == 0)
			return h;
	}
	if (!create)
		return NULL;
	h = xcalloc(1, sizeof *h);
	h->name = xstrdup(name);
	LIST_INSERT_HEAD(&d->hosts, h, entry);
	return h;
}

/* Where the feed is fetched: its new home after a permanent move. */
static const char *
daemon_feed_url(const struct daemon_feed *df)
{
	return df->state.moved_url != NULL ? df->state.moved_url : df->cf->url;
}

/*
 * A feed of a slowed host taken out of fetch's queue: polled a minute
 * at most after the host's wait, as daemon_poll_cb would have it.
 */
static void
daemon_unqueued(void *arg, void *ctx)
{
	struct daemon_feed *df = arg;
	struct daemon *d = df->d;
	time_t now = time(NULL), until = *(time_t *)ctx;

	df->is_busy = 0;
	if (df->cf == NULL) {
		/* A reload removed the feed while it waited. */
		TAILQ_REMOVE(&d->removed, df, entry);
		daemon_feed_free(df);
		return;
	}
	df->next_poll = until + (time_t)arc4random_uniform(60);
	scheduler_job_in(df->job, (int)(df->next_poll - now));
}

/*
 * A 429 slows every feed of that host until the time it asked: those
 * waiting in fetch's queue too, which would be sent after it.
 */
static void
daemon_slow_host(struct daemon *d, struct daemon_feed *df, time_t until)
{
	struct daemon_host *h;
	char *host;
	int n;

	if ((host = url_host(daemon_feed_url(df))) == NULL)
		return;
	h = daemon_host_get(d, host, 1);
	if (until > h->until) {
		h->until = until;
		log_warnx("host %s: too many requests; no feed of it is "
			  "polled for %llds",
		    host, (long long)(until - time(NULL)));
	}
	n = fetch_unqueue(d->fetch, host, daemon_unqueued, &h->until);
	if (n > 0)
		log_info("host %s: %d queued polls put off", host, n);
	free(host);
}

/* Keep the validators of a successful fetch for the next request, as
 * the story log does; a 304 need not repeat them. */
static void
daemon_feed_validators(struct daemon_feed *df, const struct fetch_result *r)
{
	if (r->etag != NULL) {
		free(df->state.etag);
		df->state.etag = xstrdup(r->etag);
	}
	if (r->last_modified != NULL) {
		free(df->state.last_modified);
		df->state.last_modified = xstrdup(r->last_modified);
	}
}

/* Log what a fetch changed about where the feed lives. */
static void
daemon_feed_moved(struct daemon_feed *df, const struct store_fetch *sf)
{
	if (sf->moved_url != NULL) {
		log_warnx("feed %s: moved permanently to %s; polling it "
			  "there from now on (set url = %s in the "
			  "configuration)",
		    df->cf->name, sf->moved_url, sf->moved_url);
		free(df->state.moved_url);
		df->state.moved_url = xstrdup(sf->moved_url);
	}
	if (sf->is_gone) {
		log_warnx("feed %s: %s is gone (HTTP 410); it is not polled "
			  "again until its url changes",
		    df->cf->name, daemon_feed_url(df));
		df->state.gone_at = sf->when;
	}
}

/* A feed-health alert's JSON: what happened, and a story to show. */
static char *
daemon_health_json(const struct daemon_feed *df, const char *state,
    const struct store_fetch *sf)
{
	const char *url = df->cf->url, *error = sf->error;
	char when[32], since[32], *title, *summary, *s;
	json_t *o;

	date_format(sf->when, when, sizeof when);
	date_format(
	    df->state.failing_since != 0 ? df->state.failing_since : sf->when,
	    since, sizeof since);
	if (strcmp(state, "failing") == 0) {
		xasprintf(&title, "Feed %s has failed for %lld h", df->cf->name,
		    (long long)(sf->when - df->state.failing_since) / 3600);
		xasprintf(&summary,
		    "%s has failed %d times in a row since %s; the last "
		    "error: %s. feedwatch goes on polling it, less often.",
		    url, df->state.failures, since, error ? error : "none");
	} else if (strcmp(state, "gone") == 0) {
		xasprintf(&title, "Feed %s is gone (HTTP 410)", df->cf->name);
		xasprintf(&summary,
		    "%s answered 410 Gone at %s, and is no longer polled. "
		    "Change its url in the configuration, or remove it.",
		    df->state.moved_url ? df->state.moved_url : url, when);
	} else if (strcmp(state, "moved") == 0) {
		xasprintf(&title, "Feed %s moved permanently", df->cf->name);
		xasprintf(&summary,
		    "%s redirects permanently to %s, where feedwatch polls it "
		    "from now on. Set url = %s in the configuration.",
		    url, sf->moved_url, sf->moved_url);
	} else {
		xasprintf(&title, "Feed %s recovered", df->cf->name);
		xasprintf(&summary,
		    "%s had failed since %s; it was polled successfully at %s.",
		    url, since, when);
	}
	o = json_pack("{s:s, s:s, s:{s:s, s:s}, s:s?, s:o, s:s, s:s?, "
		      "s:{s:I, s:s, s:s, s:s, s:{s:s, s:s}, s:s, s:[]}, "
		      "s:[], s:s}",
	    "kind", "feed-health", "state", state, "feed", "name", df->cf->name,
	    "url", url, "error", error, "http_status",
	    sf->http_status != 0 ? json_integer(sf->http_status) : json_null(),
	    "since", strcmp(state, "moved") == 0 ? when : since, "moved_to",
	    sf->moved_url, "story", "id", (json_int_t)0, "title", title, "url",
	    df->state.moved_url ? df->state.moved_url : url, "published", when,
	    "feed", "name", df->cf->name, "url", url, "summary", summary,
	    "sources", "matched", "snippet", summary);
	/* Text that is not UTF-8 (a URL the server sent, say) fails. */
	s = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	free(title);
	free(summary);
	return s;
}

/*
 * Raise a feed-health alert when the feed's health changed: failing for
 * longer than unhealthy_after, gone, moved, or recovered from failing.
 * Once per incident: the incident alerted is kept in the feed's row.
 */
static void
daemon_feed_health(
    struct daemon *d, struct daemon_feed *df, const struct store_fetch *sf)
{
	const char *health = df->state.health, *state = NULL, *next = health;
	char *json, *cause;
	int rc;

	if (sf->is_gone) {
		if (health == NULL || strcmp(health, "gone") != 0)
			state = next = "gone";
	} else if (sf->moved_url != NULL)
		state = "moved";
	else if (df->state.failures > 0 && df->state.failing_since != 0 &&
	    sf->when - df->state.failing_since >= d->cfg->unhealthy_after &&
	    health == NULL)
		state = next = "failing";
	else if (df->state.failures == 0 && health != NULL &&
	    strcmp(health, "failing") == 0) {
		state = "recovered";
		next = NULL;
	}
	if (state == NULL)
		return;
	log_warnx("feed %s: health: %s%s%s", df->cf->name, state,
	    sf->error != NULL ? ": " : "", sf->error != NULL ? sf->error : "");
	json = d->cfg->health_hooks[0] != NULL ?
	    daemon_health_json(df, state, sf) :
	    NULL;
	if (json == NULL && d->cfg->health_hooks[0] != NULL)
		log_warnx("feed %s: health: the alert cannot be written as "
			  "JSON (text that is not UTF-8): not sent",
		    df->cf->name);
	rc = store_begin(d->store, &cause);
	for (size_t i = 0;
	     rc == 0 && json != NULL && d->cfg->health_hooks[i] != NULL; i++)
		rc = store_health_alert_add(
		    d->store, d->cfg->health_hooks[i], json, sf->when, &cause);
	if (rc == 0 && next != health)
		rc = store_feed_health(d->store, df->state.id, next, &cause);
	if (rc == 0)
		rc = store_commit(d->store, &cause);
	free(json);
	if (rc == -1) {
		/* Tried again at the next poll: nothing is lost. */
		store_rollback(d->store);
		log_warnx("feed %s: health: %s", df->cf->name, cause);
		free(cause);
		return;
	}
	if (next != health) {
		free(df->state.health);
		df->state.health = next != NULL ? xstrdup(next) : NULL;
	}
	if (d->cfg->health_hooks[0] != NULL)
		alert_kick(d->alert);
}

static void
daemon_fetched_cb(const struct fetch_result *r, void *arg)
{
	struct daemon_feed *df = arg;
	struct daemon *d = df->d;
	struct pipeline_stats stats;
	struct pipeline_body body;
	struct store_fetch sf;
	char *cause;
	int delay;

	df->is_busy = 0;
	metrics_fetch(d->metrics, r->http_status, r->len);
	if (df->cf == NULL) {
		/* A reload removed the feed while it was fetched. */
		TAILQ_REMOVE(&d->removed, df, entry);
		daemon_feed_free(df);
		return;
	}
	memset(&sf, 0, sizeof sf);
	sf.when = time(NULL);
	sf.http_status = r->http_status;
	sf.error = r->error;
	sf.etag = r->etag;
	sf.last_modified = r->last_modified;
	sf.retry_after = r->retry_after;
	/* Gone at its address, not at one a temporary redirect named. */
	sf.is_gone = r->http_status == 410 && r->is_permanent;
	if (r->moved_url != NULL &&
	    strcmp(r->moved_url, daemon_feed_url(df)) != 0)
		sf.moved_url = r->moved_url;
	if (r->error != NULL)
		log_warnx("feed %s: %s: %s", df->cf->name, daemon_feed_url(df),
		    r->error);
	body.data = r->body;
	body.len = r->len;
	body.url = r->effective_url;
	body.content_type = r->content_type;
	if (pipeline_feed(d->store, d->cfg, df->cf, &df->state,
		r->body != NULL ? &body : NULL, &sf, &stats, d->metrics,
		&cause) == -1) {
		/*
		 * Nothing was written: poll again soon, lose nothing; but
		 * a failed fetch backs off, and a server's Retry-After and
		 * a 429's slowing of its host hold, as they would have.
		 */
		log_warnx("feed %s: story log: %s", df->cf->name, cause);
		free(cause);
		delay = scheduler_delay(60, 0, 60);
		if (r->error != NULL)
			delay = scheduler_delay(
			    config_feed_interval(d->cfg, df->cf),
			    df->state.failures + 1, d->cfg->max_interval);
		if (r->retry_after > delay)
			delay = r->retry_after;
		sf.next_poll = sf.when + delay;
	} else {
		daemon_feed_moved(df, &sf);
		metrics_stories(d->metrics,
		    stats.new_stories - stats.duplicates, stats.duplicates);
		/* No fetch error, yet the fetch failed: not a feed. */
		if (r->error == NULL && r->body != NULL && stats.failures > 0)
			metrics_parse_error(d->metrics);
		df->state.failures = stats.failures;
		df->state.poll_interval = sf.poll_interval;
		if (stats.failures == 0) {
			df->state.failing_since = 0;
			daemon_feed_validators(df, r);
		} else if (df->state.failing_since == 0)
			df->state.failing_since = sf.when;
		sf.error = stats.error[0] != '\0' ? stats.error : NULL;
		daemon_feed_health(d, df, &sf);
		d->new_stories += stats.new_stories;
		d->alerts += stats.alerts;
		if (stats.empty > 0)
			log_warnx("feed %s: %d entries without a guid, link, "
				  "title or text: skipped",
			    df->cf->name, stats.empty);
		if (stats.reissued > 0)
			log_debug("feed %s: %d known items under a new guid "
				  "(the same link and words)",
			    df->cf->name, stats.reissued);
		if (r->not_modified)
			log_info("feed %s: not modified", df->cf->name);
		else if (r->body != NULL && stats.failures == 0)
			log_info("feed %s: %d entries, %d new, %d alerts",
			    df->cf->name, stats.entries, stats.new_stories,
			    stats.alerts);
	}
	if (r->http_status == 429 && !d->once)
		daemon_slow_host(d, df,
		    sf.when +
			(r->retry_after > 0 ? r->retry_after : HOST_SLOWDOWN));
	if (d->once) {
		d->polled++;
		alert_kick(d->alert);
		return;
	}
	df->next_poll = sf.next_poll;
	if (d->is_stopping)
		return; /* its next poll is stored for the next start */
	if (df->state.gone_at == 0)
		scheduler_job_in(df->job, (int)(sf.next_poll - sf.when));
	if (stats.alerts > 0)
		alert_kick(d->alert);
	daemon_status(d);
}

static void
daemon_poll_cb(void *arg)
{
	struct daemon_feed *df = arg;
	struct daemon *d = df->d;
	struct daemon_host *h;
	struct config_fetch cf;
	struct fetch_req req;
	time_t now = time(NULL);
	char *host;

	if (df->is_busy || d->is_stopping)
		return;
	if (df->state.gone_at != 0) {
		if (d->once) {
			log_info("feed %s: gone (HTTP 410), not polled",
			    df->cf->name);
			d->polled++;
			daemon_check_done(d);
		}
		return;
	}
	if (!d->once && (host = url_host(daemon_feed_url(df))) != NULL) {
		h = daemon_host_get(d, host, 0);
		free(host);
		if (h != NULL && h->until > now) {
			/* Spread the host's feeds over a minute after it. */
			df->next_poll =
			    h->until + (time_t)arc4random_uniform(60);
			scheduler_job_in(df->job, (int)(df->next_poll - now));
			return;
		}
	}
	config_feed_fetch(d->cfg, df->cf, &cf);
	memset(&req, 0, sizeof req);
	req.url = daemon_feed_url(df);
	req.etag = df->state.etag;
	req.last_modified = df->state.last_modified;
	req.timeout = cf.timeout;
	req.connect_timeout = cf.connect_timeout;
	req.low_speed_limit = cf.low_speed_limit;
	req.low_speed_time = cf.low_speed_time;
	req.max_body = cf.max_body;
	req.ca_file = cf.ca_file;
	req.proxy = cf.proxy;
	log_debug("feed %s: polling %s", df->cf->name, req.url);
	df->is_busy = 1;
	fetch_start(d->fetch, &req, daemon_fetched_cb, df);
}

/* A feed of the configuration, with its stored state; NULL on error. */
static struct daemon_feed *
daemon_feed_new(struct daemon *d, struct config_feed *cf, char **cause)
{
	struct daemon_feed *df;

	df = xcalloc(1, sizeof *df);
	df->d = d;
	df->cf = cf;
	if (store_feed_get(d->store, cf->name, cf->url, &df->state, cause) ==
	    -1) {
		free(df);
		return NULL;
	}
	df->job = scheduler_job_new(d->base, daemon_poll_cb, df);
	return df;
}

static void
daemon_feed_free(struct daemon_feed *df)
{
	scheduler_job_free(df->job);
	store_feed_clear(&df->state);
	free(df);
}

/* Schedule a feed's first poll from its stored next poll time. */
static void
daemon_feed_schedule(struct daemon_feed *df)
{
	time_t now = time(NULL);

	df->next_poll = df->state.next_poll;
	if (df->state.gone_at != 0 && !df->d->once) {
		log_warnx("feed %s: gone (HTTP 410) since %lld; not polled "
			  "until its url changes",
		    df->cf->name, (long long)df->state.gone_at);
		return;
	}
	scheduler_job_in(
	    df->job, df->d->once ? 0 : (int)(df->state.next_poll - now));
}

/* Read each feed's stored state and schedule its first poll. */
static void
daemon_feeds_start(struct daemon *d)
{
	struct config_feed *cf;
	struct daemon_feed *df;
	char *cause;

	TAILQ_FOREACH(cf, &d->cfg->feeds, entry) {
		if ((df = daemon_feed_new(d, cf, &cause)) == NULL)
			fatalx("feed %s: %s", cf->name, cause);
		TAILQ_INSERT_TAIL(&d->feeds, df, entry);
		d->nfeeds++;
		daemon_feed_schedule(df);
	}
}

/*
 * Retention: prune old stories a batch at a time, each batch its own
 * short transaction, coming back to the loop between batches.
 */
static void
daemon_prune_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	struct timeval tv = { PRUNE_EVERY, 0 };
	char *cause;
	int n;

	(void)fd;
	(void)what;
	n = store_prune(
	    d->store, time(NULL) - d->cfg->retention, PRUNE_BATCH, &cause);
	if (n == -1) {
		log_warnx("retention: %s", cause);
		free(cause);
	} else if (n > 0)
		log_info("retention: pruned %d stories", n);
	if (n == PRUNE_BATCH)
		tv.tv_sec = 0;
	evtimer_add(d->prune, &tv);
}

/* When systemd watches us (WATCHDOG_USEC), keep it told from the loop. */
static void
daemon_watchdog_start(struct daemon *d)
{
#ifdef HAVE_LIBSYSTEMD
	uint64_t usec;

	if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
		return;
	d->watchdog_every.tv_sec = (time_t)(usec / 2 / 1000000);
	d->watchdog_every.tv_usec = (suseconds_t)(usec / 2 % 1000000);
	daemon_notify("WATCHDOG=1");
	evtimer_add(d->watchdog, &d->watchdog_every);
#else
	(void)d;
#endif
}

static void daemon_reload(struct daemon *);

/* While stopping: exit once fetches and hooks are done with. */
static void
daemon_stop_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	struct timeval tv = { 0, 100000 };
	int fetches = fetch_running(d->fetch), hooks = alert_running(d->alert);

	(void)fd;
	(void)what;
	if (fetches > 0 && time(NULL) >= d->stop_fetches_at) {
		log_warnx("stopping: %d fetches abandoned; their feeds are "
			  "polled again at the next start",
		    fetches);
		fetches = 0;
	}
	if (fetches == 0 && hooks == 0) {
		event_base_loopexit(d->base, NULL);
		return;
	}
	evtimer_add(d->stop, &tv);
}

/*
 * SIGTERM, SIGINT: poll no more and start no hook; let running fetches
 * end for STOP_FETCH_GRACE seconds (what they bring is stored) and
 * running hooks until they end or their timeout kills them; then exit.
 * Alerts not delivered stay pending for the next start. A second
 * signal exits at once.
 */
static void
daemon_stop(struct daemon *d, int sig)
{
	struct daemon_feed *df;
	struct timeval now = { 0, 0 };

	if (d->is_stopping) {
		log_info("%s again: stopping now", strsignal(sig));
		event_base_loopexit(d->base, NULL);
		return;
	}
	d->is_stopping = 1;
	log_info("%s: stopping; %d fetches and %d hooks running",
	    strsignal(sig), fetch_running(d->fetch), alert_running(d->alert));
	daemon_notify("STOPPING=1");
	TAILQ_FOREACH(df, &d->feeds, entry)
		scheduler_job_cancel(df->job);
	evtimer_del(d->prune);
	alert_stop(d->alert);
	d->stop_fetches_at = time(NULL) + STOP_FETCH_GRACE;
	evtimer_add(d->stop, &now);
}

static void
daemon_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	(void)what;
	if (sig == SIGHUP) {
		daemon_reload(d);
		return;
	}
	daemon_stop(d, (int)sig);
}

/* At each scrape: feeds by state, and the outbox by state. */
static void
daemon_gauges_cb(struct metrics_gauges *g, void *arg)
{
	static const char *states[] = { STORE_ALERT_PENDING,
		STORE_ALERT_DELIVERED, STORE_ALERT_FAILED };
	int *counts[] = { &g->alerts_pending, &g->alerts_delivered,
		&g->alerts_failed };
	struct daemon *d = arg;
	struct daemon_feed *df;
	char *cause;

	g->feeds_ok = g->feeds_failing = g->feeds_gone = 0;
	TAILQ_FOREACH(df, &d->feeds, entry) {
		if (df->state.gone_at != 0)
			g->feeds_gone++;
		else if (df->state.failures > 0)
			g->feeds_failing++;
		else
			g->feeds_ok++;
	}
	for (size_t i = 0; i < sizeof states / sizeof states[0]; i++) {
		if ((*counts[i] = store_alert_count(
			 d->store, states[i], &cause)) == -1) {
			log_warnx("metrics: %s", cause);
			free(cause);
			return;
		}
	}
}

/* Serve /metrics when the configuration asks; not with --once. */
static void
daemon_metrics_start(struct daemon *d)
{
	char *cause;

	if (d->once || d->cfg->metrics == NULL)
		return;
	if ((d->metrics = metrics_new(d->base, d->cfg->metrics, &cause)) ==
	    NULL)
		fatalx("metrics: %s", cause);
	metrics_set_gauges_cb(d->metrics, daemon_gauges_cb, d);
	alert_set_metrics(d->alert, d->metrics);
	log_info(
	    "metrics: serving http://%s/metrics", metrics_address(d->metrics));
}

/* Log each configuration error on a line of its own, the last one
 * with fn (log_warnx or fatalx). */
static void
daemon_config_errors(char *cause, void (*fn)(const char *, ...))
{
	char *line, *next;

	for (line = cause; (next = strchr(line, '\n')) != NULL; line = next) {
		*next++ = '\0';
		log_warnx("%s", line);
	}
	fn("%s", line);
}

static void
daemon_fetch_opts(const struct config *cfg, struct fetch_opts *fo)
{
	memset(fo, 0, sizeof *fo);
	fo->user_agent = cfg->user_agent;
	fo->max_fetches = cfg->max_fetches;
	fo->max_per_host = cfg->max_per_host;
}

/* The feed of that name among the daemon's, or NULL. */
static struct daemon_feed *
daemon_feed_find(struct daemon *d, const char *name)
{
	struct daemon_feed *df;

	TAILQ_FOREACH(df, &d->feeds, entry) {
		if (strcmp(df->cf->name, name) == 0)
			return df;
	}
	return NULL;
}

/*
 * Move the daemon's feeds onto the configuration cfg: a feed that stays
 * (same name, same url) keeps its state, timer and running fetch; a new
 * one, or one whose url changed, is read from the log and scheduled; a
 * removed one is dropped, once its running fetch ends. Return 0, or -1
 * with *cause when the log could not be read; nothing changed then.
 */
static int
daemon_feeds_swap(struct daemon *d, struct config *cfg, char **cause)
{
	struct config_feed *cf;
	struct daemon_feed *df, *next, **list;
	size_t n = 0, i, added = 0, removed = 0;
	int *is_new;

	TAILQ_FOREACH(cf, &cfg->feeds, entry)
		n++;
	list = xcalloc(n + 1, sizeof *list);
	is_new = xcalloc(n + 1, sizeof *is_new);
	i = 0;
	TAILQ_FOREACH(cf, &cfg->feeds, entry) {
		df = daemon_feed_find(d, cf->name);
		if (df != NULL && strcmp(df->cf->url, cf->url) == 0)
			list[i] = df;
		else if ((list[i] = daemon_feed_new(d, cf, cause)) != NULL)
			is_new[i] = 1;
		else {
			while (i-- > 0) {
				if (is_new[i])
					daemon_feed_free(list[i]);
			}
			free(list);
			free(is_new);
			return -1;
		}
		i++;
	}
	i = 0;
	TAILQ_FOREACH(cf, &cfg->feeds, entry) {
		if (!is_new[i])
			TAILQ_REMOVE(&d->feeds, list[i], entry);
		else if (daemon_feed_find(d, cf->name) == NULL)
			added++;
		list[i++]->cf = cf;
	}
	/* What is left was removed, or replaced by a changed url. */
	for (df = TAILQ_FIRST(&d->feeds); df != NULL; df = next) {
		next = TAILQ_NEXT(df, entry);
		TAILQ_REMOVE(&d->feeds, df, entry);
		if (config_feed_find(cfg, df->cf->name) == NULL)
			removed++;
		df->cf = NULL;
		if (df->is_busy)
			TAILQ_INSERT_TAIL(&d->removed, df, entry);
		else
			daemon_feed_free(df);
	}
	for (i = 0; i < n; i++) {
		TAILQ_INSERT_TAIL(&d->feeds, list[i], entry);
		if (is_new[i])
			daemon_feed_schedule(list[i]);
	}
	d->nfeeds = n;
	free(list);
	free(is_new);
	log_info(
	    "reload: %zu feeds, %zu added, %zu removed", n, added, removed);
	return 0;
}

/*
 * SIGHUP: read the configuration again. A configuration with errors is
 * refused, each error logged, and the daemon goes on with the one it
 * has; STATUS= says so until a reload succeeds.
 */
static void
daemon_reload(struct daemon *d)
{
	struct config *cfg;
	struct fetch_opts fo;
	char *cause, *nl;

	log_info("SIGHUP: reloading %s", d->path);
	daemon_notify("RELOADING=1");
	if ((cfg = config_load(d->path, &cause)) == NULL ||
	    daemon_feeds_swap(d, cfg, &cause) == -1) {
		config_free(cfg);
		free(d->reload_error);
		d->reload_error = xstrdup(cause);
		if ((nl = strchr(d->reload_error, '\n')) != NULL)
			*nl = '\0';
		daemon_config_errors(cause, log_warnx);
		free(cause);
		log_warnx("reload refused: still running on the previous "
			  "configuration");
		d->status_at = 0;
		daemon_notify("READY=1");
		daemon_status(d);
		return;
	}
	if (strcmp(cfg->database, d->cfg->database) != 0)
		log_warnx("reload: database %s still in use; a new database "
			  "takes a restart",
		    d->cfg->database);
	daemon_fetch_opts(cfg, &fo);
	fetch_set_opts(d->fetch, &fo);
	if ((cfg->metrics == NULL) != (d->cfg->metrics == NULL) ||
	    (cfg->metrics != NULL &&
		strcmp(cfg->metrics, d->cfg->metrics) != 0))
		log_warnx("reload: a new metrics address takes a restart");
	/* Running hooks keep copies of what they need of the old one. */
	alert_set_config(d->alert, cfg);
	config_free(d->cfg);
	d->cfg = cfg;
	free(d->reload_error);
	d->reload_error = NULL;
	log_info("reload: done");
	d->status_at = 0;
	daemon_notify("READY=1");
	daemon_status(d);
	alert_kick(d->alert);
}

/*
 * One daemon a database: two would deliver the same alert, each
 * recording it as its own. Take an exclusive lock on DATABASE.lock,
 * which holds the pid of the daemon that has it, for as long as this
 * one runs (the kernel lets it go however the daemon ends; hooks do not
 * inherit it).
 */
static void
daemon_lock(struct daemon *d)
{
	char *path, pid[32];
	ssize_t n;

	xasprintf(&path, "%s.lock", d->cfg->database);
	if ((d->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) == -1)
		fatalx("%s: %s", path, strerror(errno));
	if (flock(d->lock_fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK)
			fatalx("%s: flock: %s", path, strerror(errno));
		n = pread(d->lock_fd, pid, sizeof pid - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		fatalx("%s is in use by another feedwatchd%s%s%s: stop it "
		       "first, or give this one a database of its own",
		    d->cfg->database, pid[0] != '\0' ? " (pid " : "", pid,
		    pid[0] != '\0' ? ")" : "");
	}
	n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	if (ftruncate(d->lock_fd, 0) == -1 ||
	    pwrite(d->lock_fd, pid, (size_t)n, 0) != n)
		log_warnx("%s: %s", path, strerror(errno));
	free(path);
}

static void
daemon_setup(struct daemon *d, const char *path)
{
	struct fetch_opts fo;
	char *cause;

	d->path = path;
	TAILQ_INIT(&d->feeds);
	TAILQ_INIT(&d->removed);
	LIST_INIT(&d->hosts);
	if ((d->cfg = config_load(path, &cause)) == NULL)
		daemon_config_errors(cause, fatalx);
	/* Before the log is opened: a second daemon touches nothing. */
	daemon_lock(d);
	if ((d->store = store_open(d->cfg->database, &cause)) == NULL)
		fatalx("%s", cause);
	if ((d->base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	daemon_fetch_opts(d->cfg, &fo);
	if ((d->fetch = fetch_new(d->base, &fo)) == NULL)
		fatalx("cannot set up libcurl");
	d->alert = alert_new(
	    d->base, d->store, d->cfg, d->once, daemon_alert_idle_cb, d);
	daemon_metrics_start(d);
	if ((d->prune = evtimer_new(d->base, daemon_prune_cb, d)) == NULL ||
	    (d->stop = evtimer_new(d->base, daemon_stop_cb, d)) == NULL ||
	    (d->watchdog = evtimer_new(d->base, daemon_watchdog_cb, d)) == NULL)
		fatalx("cannot set up the daemon's timers");
	d->sig_int = evsignal_new(d->base, SIGINT, daemon_signal_cb, d);
	d->sig_term = evsignal_new(d->base, SIGTERM, daemon_signal_cb, d);
	d->sig_hup = evsignal_new(d->base, SIGHUP, daemon_signal_cb, d);
	if (d->sig_int == NULL || d->sig_term == NULL || d->sig_hup == NULL ||
	    evsignal_add(d->sig_int, NULL) == -1 ||
	    evsignal_add(d->sig_term, NULL) == -1 ||
	    evsignal_add(d->sig_hup, NULL) == -1)
		fatalx("cannot set up signal events");
}

/* Undo daemon_setup in reverse: transfers, hooks, timers, the log. */
static void
daemon_teardown(struct daemon *d)
{
	struct daemon_feed *df;
	struct daemon_host *h;

	fetch_free(d->fetch);
	alert_free(d->alert);
	metrics_free(d->metrics);
	while ((df = TAILQ_FIRST(&d->feeds)) != NULL) {
		TAILQ_REMOVE(&d->feeds, df, entry);
		daemon_feed_free(df);
	}
	while ((df = TAILQ_FIRST(&d->removed)) != NULL) {
		TAILQ_REMOVE(&d->removed, df, entry);
		daemon_feed_free(df);
	}
	while ((h = LIST_FIRST(&d->hosts)) != NULL) {
		LIST_REMOVE(h, entry);
		free(h->name);
		free(h);
	}
	free(d->reload_error);
	event_free(d->sig_int);
	event_free(d->sig_term);
	event_free(d->stop);
	event_free(d->sig_hup);
	event_free(d->prune);
	event_free(d->watchdog);
	event_base_free(d->base);
	store_close(d->store);
	close(d->lock_fd);
	config_free(d->cfg);
}

static void
daemon_summary(struct daemon *d)
{
	char *cause = NULL;
	int pending, failed;

	pending = store_alert_count(d->store, STORE_ALERT_PENDING, &cause);
	if (pending != -1)
		failed =
		    store_alert_count(d->store, STORE_ALERT_FAILED, &cause);
	if (pending == -1 || failed == -1) {
		log_warnx("outbox: %s", cause);
		free(cause);
		return;
	}
	if (d->new_stories == 0)
		log_info("no new stories in %zu feeds", d->nfeeds);
	log_info("done: %zu feeds, %d new stories, %d new alerts; outbox: %d "
		 "pending, %d failed",
	    d->nfeeds, d->new_stories, d->alerts, pending, failed);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "once", no_argument, NULL, 'o' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct daemon d;
	const char *path = DEFAULT_CONFIG;
	int ch, verbose = 0;

	memset(&d, 0, sizeof d);
	while ((ch = getopt_long(argc, argv, "c:ovVh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'o':
			d.once = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'V':
			printf("feedwatchd %s\n", FEEDWATCH_VERSION);
			return 0;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	log_init("feedwatchd", verbose);
	signal(SIGPIPE, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		fatalx("curl_global_init failed");
	xmlInitParser();
	daemon_setup(&d, path);
	daemon_feeds_start(&d);
	alert_kick(d.alert);
	if (!d.once && d.cfg->retention > 0) {
		struct timeval tv = { 60, 0 };

		evtimer_add(d.prune, &tv);
	}
	log_info("started: %zu feeds%s", d.nfeeds, d.once ? ", once" : "");
	daemon_notify("READY=1");
	daemon_watchdog_start(&d);
	if (!d.once)
		daemon_status(&d);
	if (event_base_dispatch(d.base) == -1)
		log_warnx("event loop failed");
	if (d.once)
		daemon_summary(&d);
	daemon_teardown(&d);
	xmlCleanupParser();
	curl_global_cleanup();
	return 0;
}
