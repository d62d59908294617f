#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <libxml/parser.h>
#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "alert.h"
#include "config.h"
#include "fetch.h"
#include "log.h"
#include "pipeline.h"
#include "scheduler.h"
#include "store.h"
#include "version.h"
#include "xmalloc.h"

/*
 * feedwatchd: load the configuration, open the story log, and run the
 * loop that polls feeds and delivers alerts; --once polls every feed a
 * single time, tries every pending alert once, and exits.
 */

#define DEFAULT_CONFIG "/etc/feedwatch/feedwatch.conf"
#define CONNECT_TIMEOUT 20 /* seconds */
#define PRUNE_BATCH 500	   /* stories pruned in one transaction */
#define PRUNE_EVERY 3600   /* seconds between pruning rounds */

struct daemon;

struct daemon_feed {
	struct daemon *d;	/* back-pointer, not owned */
	struct config_feed *cf; /* owned by the configuration */
	struct store_feed state;
	struct scheduler_job *job;
	time_t next_poll; /* UTC seconds */
	int is_busy;	  /* a fetch is running */
};

struct daemon {
	struct event_base *base;
	struct config *cfg;
	struct store *store;
	struct fetch *fetch;
	struct alert *alert;
	struct daemon_feed *feeds;
	size_t nfeeds;
	size_t polled; /* with --once: feeds finished */
	int once;
	int new_stories;
	int alerts;
	struct event *sig_int;
	struct event *sig_term;
	struct event *sig_hup;
	struct event *prune;
	struct event *watchdog; /* WATCHDOG=1 at half WATCHDOG_USEC */
	struct timeval watchdog_every;
	time_t status_at; /* when STATUS= was last sent */
};

static void daemon_poll_cb(void *);

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
	time_t now = time(NULL), next = 0;
	char status[256], *cause;
	size_t failing = 0;
	int pending;

	if (now == d->status_at)
		return;
	d->status_at = now;
	for (size_t i = 0; i < d->nfeeds; i++) {
		if (d->feeds[i].state.failures > 0)
			failing++;
		if (next == 0 || d->feeds[i].next_poll < next)
			next = d->feeds[i].next_poll;
	}
	if ((pending = store_alert_count(
		 d->store, STORE_ALERT_PENDING, &cause)) == -1) {
		free(cause);
		pending = 0;
	}
	snprintf(status, sizeof status,
	    "STATUS=%zu feeds, %zu failing, %d "
	    "alerts pending, next poll in %llds",
	    d->nfeeds, failing, pending,
	    (long long)(next > now ? next - now : 0));
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

static void
daemon_fetched_cb(const struct fetch_result *r, void *arg)
{
	struct daemon_feed *df = arg;
	struct daemon *d = df->d;
	struct pipeline_stats stats;
	struct pipeline_body body;
	struct store_fetch sf;
	char *cause;

	df->is_busy = 0;
	memset(&sf, 0, sizeof sf);
	sf.when = time(NULL);
	sf.http_status = r->http_status;
	sf.error = r->error;
	sf.etag = r->etag;
	sf.last_modified = r->last_modified;
	if (r->error != NULL)
		log_warnx(
		    "feed %s: %s: %s", df->cf->name, df->cf->url, r->error);
	body.data = r->body;
	body.len = r->len;
	body.url = r->effective_url;
	body.content_type = r->content_type;
	if (pipeline_feed(d->store, d->cfg, df->cf, df->state.id,
		df->state.failures, r->body != NULL ? &body : NULL, &sf, &stats,
		&cause) == -1) {
		/* Nothing was written: poll again soon, lose nothing. */
		log_warnx("feed %s: story log: %s", df->cf->name, cause);
		free(cause);
		sf.next_poll = sf.when + scheduler_delay(60, 0, 60);
	} else {
		df->state.failures = stats.failures;
		d->new_stories += stats.new_stories;
		d->alerts += stats.alerts;
		if (r->not_modified)
			log_info("feed %s: not modified", df->cf->name);
		else if (r->body != NULL && stats.failures == 0)
			log_info("feed %s: %d entries, %d new, %d alerts",
			    df->cf->name, stats.entries, stats.new_stories,
			    stats.alerts);
	}
	if (d->once) {
		d->polled++;
		alert_kick(d->alert);
		return;
	}
	scheduler_job_in(df->job, (int)(sf.next_poll - sf.when));
	df->next_poll = sf.next_poll;
	if (stats.alerts > 0)
		alert_kick(d->alert);
	daemon_status(d);
}

static void
daemon_poll_cb(void *arg)
{
	struct daemon_feed *df = arg;
	struct fetch_req req;

	if (df->is_busy)
		return;
	req.url = df->cf->url;
	req.etag = df->state.etag;
	req.last_modified = df->state.last_modified;
	log_debug("feed %s: polling %s", df->cf->name, df->cf->url);
	if (fetch_start(df->d->fetch, &req, daemon_fetched_cb, df) == -1) {
		/* libcurl refused the transfer; try again after a while. */
		if (df->d->once) {
			df->d->polled++;
			daemon_check_done(df->d);
		} else
			scheduler_job_in(df->job, 60);
		return;
	}
	df->is_busy = 1;
}

/* Read each feed's stored state and schedule its first poll. */
static void
daemon_feeds_start(struct daemon *d)
{
	struct config_feed *cf;
	struct daemon_feed *df;
	time_t now = time(NULL);
	char *cause;
	size_t n = 0;

	TAILQ_FOREACH(cf, &d->cfg->feeds, entry)
		n++;
	d->feeds = n > 0 ? xcalloc(n, sizeof *d->feeds) : NULL;
	TAILQ_FOREACH(cf, &d->cfg->feeds, entry) {
		df = &d->feeds[d->nfeeds++];
		df->d = d;
		df->cf = cf;
		if (store_feed_get(
			d->store, cf->name, cf->url, &df->state, &cause) == -1)
			fatalx("feed %s: %s", cf->name, cause);
		df->job = scheduler_job_new(d->base, daemon_poll_cb, df);
		scheduler_job_in(
		    df->job, d->once ? 0 : (int)(df->state.next_poll - now));
		df->next_poll = df->state.next_poll;
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

static void
daemon_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	(void)what;
	if (sig == SIGHUP) {
		log_info("SIGHUP ignored: restart feedwatchd to load a "
			 "changed configuration");
		return;
	}
	log_info("%s: stopping", strsignal((int)sig));
	daemon_notify("STOPPING=1");
	event_base_loopexit(d->base, NULL);
}

/* Log each configuration error on a line of its own, then exit. */
static void
daemon_config_fatal(char *cause)
{
	char *line, *next;

	for (line = cause; (next = strchr(line, '\n')) != NULL; line = next) {
		*next++ = '\0';
		log_warnx("%s", line);
	}
	fatalx("%s", line);
}

static void
daemon_setup(struct daemon *d, const char *path)
{
	struct fetch_opts fo;
	char *cause;

	if ((d->cfg = config_load(path, &cause)) == NULL)
		daemon_config_fatal(cause);
	if ((d->store = store_open(d->cfg->database, &cause)) == NULL)
		fatalx("%s", cause);
	if ((d->base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	memset(&fo, 0, sizeof fo);
	fo.user_agent = d->cfg->user_agent;
	fo.max_fetches = d->cfg->max_fetches;
	fo.timeout = d->cfg->fetch_timeout;
	fo.connect_timeout = CONNECT_TIMEOUT;
	fo.max_body = d->cfg->max_body;
	if ((d->fetch = fetch_new(d->base, &fo)) == NULL)
		fatalx("cannot set up libcurl");
	d->alert = alert_new(
	    d->base, d->store, d->cfg, d->once, daemon_alert_idle_cb, d);
	if ((d->prune = evtimer_new(d->base, daemon_prune_cb, d)) == NULL ||
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
	fetch_free(d->fetch);
	alert_free(d->alert);
	for (size_t i = 0; i < d->nfeeds; i++) {
		scheduler_job_free(d->feeds[i].job);
		store_feed_clear(&d->feeds[i].state);
	}
	free(d->feeds);
	event_free(d->sig_int);
	event_free(d->sig_term);
	event_free(d->sig_hup);
	event_free(d->prune);
	event_free(d->watchdog);
	event_base_free(d->base);
	store_close(d->store);
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
