#include <sys/types.h>
#include <sys/queue.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "alert.h"
#include "config.h"
#include "date.h"
#include "log.h"
#include "metrics.h"
#include "store.h"
#include "xmalloc.h"

/*
 * The dispatcher: pending alerts are taken from the outbox oldest first
 * and handed to their hooks, up to max_hooks processes at once, each
 * hook at most its concurrency at once and its rate per period; a
 * digest hook gets all its pending alerts in one run once per period.
 * A run writes the JSON into the hook's stdin through a non-blocking
 * pipe, collects its output (bounded), kills its process group at the
 * hook's timeout and is reaped through SIGCHLD; then the outcome is
 * recorded and the outbox looked at again.
 */

#define ALERT_OUTPUT_MAX (64 * 1024) /* bytes of hook output logged */
#define ALERT_RECHECK 15	     /* seconds between outbox looks */
#define ALERT_TEMPFAIL_EVERY 3600    /* seconds: exit 75 counts once */
#define ALERT_DIGEST_MAX 500	     /* alerts in one digest; more follow */

/* A configured hook's state: its runs, and when it last started some. */
struct alert_hook {
	char *name;
	const struct config_hook *conf; /* of the current configuration */
	int running;			/* its runs */
	int64_t cursor;			/* with once: last alert tried */
	time_t *starts; /* ring of the latest run starts, for rate */
	int nstarts;
	int next_start;	  /* where the next start goes */
	int rate_count;	  /* what starts was made for */
	int rate_period;  /* seconds */
	int is_more;	  /* its last digest was full: send the next now */
	int is_once_done; /* with once: its digests were tried */
	TAILQ_ENTRY(alert_hook) entry;
};

/*
 * A hook process and the alert, or the digest of alerts, it delivers.
 * It keeps copies of what it needs of its hook's configuration, which
 * may be replaced meanwhile.
 */
struct alert_run {
	struct alert *alert;   /* back-pointer, not owned */
	struct alert_hook *ah; /* not owned; lives while running > 0 */
	struct store_alert *a; /* owned, na elements */
	int na;
	int is_digest;
	time_t period_start; /* of a digest */
	time_t period_end;   /* of a digest: its key in the outbox */
	char what[64];	     /* "alert ID" or "digest of N alerts" */
	char *hook;	     /* the hook's name */
	char **argv;
	int timeout; /* seconds */
	int retries;
	int retry_min; /* seconds */
	int retry_max; /* seconds */
	pid_t pid;
	int in_fd;
	int out_fd;
	struct event *in_ev;
	struct event *out_ev;
	struct event *timeout_ev;
	char *json;
	size_t json_len;
	size_t json_off;
	char *out;
	size_t out_len;
	size_t out_dropped; /* bytes past ALERT_OUTPUT_MAX */
	int is_timed_out;
	struct timespec started; /* CLOCK_MONOTONIC */
	int is_recorded;	 /* in the story log's hook_runs */
	TAILQ_ENTRY(alert_run) entry;
};

struct alert {
	struct event_base *base;
	struct store *store;
	const struct config *cfg;
	int once;
	alert_idle_cb idle_cb;
	void *arg;
	struct event *sigchld_ev;
	struct event *kick_ev;
	TAILQ_HEAD(, alert_run) runs;
	int nruns;
	TAILQ_HEAD(, alert_hook) hooks;
	int is_swept;	 /* alerts of hooks no longer configured were failed */
	int is_draining; /* with once: no more alerts come; send digests */
	int is_stopping; /* no run is started any more */
	long long started; /* ours, clock ticks after boot; -1 = unknown */
	struct metrics *metrics;
	int is_idle;
};

static void alert_kick_cb(evutil_socket_t, short, void *);
static void alert_sigchld_cb(evutil_socket_t, short, void *);
static void alert_finish(struct alert_run *, int status);
static void alert_hooks_sync(struct alert *);
static void alert_end_stale(struct alert *);

/*
 * When process pid started, in clock ticks after boot (/proc/PID/stat,
 * field 22): with its pid, what tells it from a later process that got
 * the same pid. Return -1 when there is no such process, or no /proc.
 */
static long long
alert_proc_started(pid_t pid)
{
	char path[64], buf[1024], *p;
	long long started;
	size_t n;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command, in parentheses, may hold anything: skip past it. */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 1,
		" %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s "
		"%*s %*s %*s %*s %*s %lld",
		&started) != 1)
		return -1;
	return started;
}

struct alert *
alert_new(struct event_base *base, struct store *st, const struct config *cfg,
    int once, alert_idle_cb idle_cb, void *arg)
{
	struct alert *al;

	al = xcalloc(1, sizeof *al);
	al->base = base;
	al->store = st;
	al->cfg = cfg;
	al->once = once;
	al->idle_cb = idle_cb;
	al->arg = arg;
	TAILQ_INIT(&al->runs);
	TAILQ_INIT(&al->hooks);
	al->sigchld_ev = evsignal_new(base, SIGCHLD, alert_sigchld_cb, al);
	al->kick_ev = evtimer_new(base, alert_kick_cb, al);
	if (al->sigchld_ev == NULL || al->kick_ev == NULL ||
	    evsignal_add(al->sigchld_ev, NULL) == -1)
		fatalx("alert: cannot set up events");
	al->started = alert_proc_started(getpid());
	alert_end_stale(al);
	alert_hooks_sync(al);
	return al;
}

/*
 * Rate: a hook with rate N/P may start a run when fewer than N started
 * in the last P seconds. The ring holds the latest N starts; a new one
 * begins with the hook's deliveries of the last period, so that a
 * restart (or the next --once run) does not start the count afresh.
 */
static void
alert_hook_rate_init(struct alert *al, struct alert_hook *ah)
{
	const struct config_hook *h = ah->conf;
	time_t now = time(NULL);
	char *cause;
	int n;

	free(ah->starts);
	ah->starts = NULL;
	ah->nstarts = ah->next_start = 0;
	ah->rate_count = h->rate_count;
	ah->rate_period = h->rate_period;
	if (h->rate_count == 0)
		return;
	ah->starts = xcalloc((size_t)h->rate_count, sizeof *ah->starts);
	n = store_hook_deliveries(al->store, ah->name, now - h->rate_period,
	    ah->starts, h->rate_count, &cause);
	if (n == -1) {
		log_warnx("hook %s: %s", ah->name, cause);
		free(cause);
		n = 0;
	}
	ah->nstarts = n;
	ah->next_start = n % h->rate_count;
}

/* Return 0 when the hook may start a run at now, else when it may. */
static time_t
alert_hook_rate_wait(const struct alert_hook *ah, time_t now)
{
	time_t oldest;

	if (ah->rate_count == 0 || ah->nstarts < ah->rate_count)
		return 0;
	oldest = ah->starts[ah->next_start];
	return oldest + ah->rate_period <= now ? 0 : oldest + ah->rate_period;
}

static void
alert_hook_rate_count(struct alert_hook *ah, time_t now)
{
	if (ah->rate_count == 0)
		return;
	ah->starts[ah->next_start] = now;
	ah->next_start = (ah->next_start + 1) % ah->rate_count;
	if (ah->nstarts < ah->rate_count)
		ah->nstarts++;
}

/* A digest hook's first period starts when the daemon first has it. */
static void
alert_hook_digest_init(struct alert *al, struct alert_hook *ah)
{
	struct store_digest d;
	char *cause;

	if (store_digest_get(al->store, ah->name, time(NULL), &d, &cause) ==
	    -1) {
		log_warnx("hook %s: digest: %s", ah->name, cause);
		free(cause);
	}
}

static struct alert_hook *
alert_hook_find(struct alert *al, const char *name)
{
	struct alert_hook *ah;

	TAILQ_FOREACH(ah, &al->hooks, entry) {
		if (strcmp(ah->name, name) == 0)
			return ah;
	}
	return NULL;
}

static void
alert_hook_free(struct alert *al, struct alert_hook *ah)
{
	TAILQ_REMOVE(&al->hooks, ah, entry);
	free(ah->name);
	free(ah->starts);
	free(ah);
}

/*
 * Bring the hooks' states in line with the configuration: one for each
 * configured hook, and those that are not kept only while they run.
 */
static void
alert_hooks_sync(struct alert *al)
{
	struct alert_hook *ah, *next;
	struct config_hook *h;

	TAILQ_FOREACH(ah, &al->hooks, entry)
		ah->conf = NULL;
	TAILQ_FOREACH(h, &al->cfg->hooks, entry) {
		if ((ah = alert_hook_find(al, h->name)) == NULL) {
			ah = xcalloc(1, sizeof *ah);
			ah->name = xstrdup(h->name);
			ah->rate_count = -1; /* not counted yet */
			TAILQ_INSERT_TAIL(&al->hooks, ah, entry);
		}
		ah->conf = h;
		if (ah->rate_count != h->rate_count ||
		    ah->rate_period != h->rate_period)
			alert_hook_rate_init(al, ah);
		if (h->is_digest)
			alert_hook_digest_init(al, ah);
	}
	for (ah = TAILQ_FIRST(&al->hooks); ah != NULL; ah = next) {
		next = TAILQ_NEXT(ah, entry);
		if (ah->conf == NULL && ah->running == 0)
			alert_hook_free(al, ah);
	}
	al->is_swept = 0;
}

static void
alert_run_close(struct alert_run *r)
{
	if (r->in_ev != NULL)
		event_free(r->in_ev);
	if (r->out_ev != NULL)
		event_free(r->out_ev);
	if (r->timeout_ev != NULL)
		event_free(r->timeout_ev);
	if (r->in_fd != -1)
		close(r->in_fd);
	if (r->out_fd != -1)
		close(r->out_fd);
	r->in_ev = r->out_ev = r->timeout_ev = NULL;
	r->in_fd = r->out_fd = -1;
}

/*
 * A daemon that was killed (SIGKILL, a crash) could not end its hooks,
 * and a hook that hangs would run for ever. Each run is recorded with
 * its pid and start time, and the daemon's; a new dispatcher kills the
 * process group of each recorded run whose daemon is gone and whose
 * process is still the one that was started. Its alert is pending: it
 * is delivered again.
 */
static void
alert_end_stale(struct alert *al)
{
	struct store_run *v;
	char *cause = NULL;
	int n;

	v = store_runs(al->store, &n, &cause);
	for (int i = 0; i < n; i++) {
		if (alert_proc_started((pid_t)v[i].daemon) ==
		    v[i].daemon_started)
			continue; /* its daemon still runs */
		if (alert_proc_started((pid_t)v[i].pid) == v[i].started) {
			log_warnx("hook process %lld was left running by a "
				  "daemon that was killed: killing its "
				  "process group",
			    (long long)v[i].pid);
			killpg((pid_t)v[i].pid, SIGKILL);
		}
		if (store_run_remove(al->store, v[i].pid, &cause) == -1)
			break;
	}
	if (cause != NULL) {
		log_warnx("hook processes: %s", cause);
		free(cause);
	}
	free(v);
}

/* Record a run's process, for alert_end_stale. */
static void
alert_run_record(struct alert_run *r)
{
	struct store_run sr;
	char *cause;

	sr.pid = r->pid;
	sr.started = alert_proc_started(r->pid);
	sr.daemon = getpid();
	sr.daemon_started = r->alert->started;
	if (sr.started == -1 || sr.daemon_started == -1)
		return;
	if (store_run_add(r->alert->store, &sr, &cause) == -1) {
		log_warnx("hook %s: %s", r->hook, cause);
		free(cause);
		return;
	}
	r->is_recorded = 1;
}

static void
alert_run_free(struct alert_run *r)
{
	alert_run_close(r);
	store_alerts_free(r->a, r->na);
	free(r->hook);
	config_argv_free(r->argv);
	free(r->json);
	free(r->out);
	free(r);
}

/* A run is over: forget it, and its hook's state if that is gone. */
static void
alert_run_done(struct alert_run *r)
{
	struct alert *al = r->alert;
	struct alert_hook *ah = r->ah;
	char *cause;

	if (r->is_recorded &&
	    store_run_remove(al->store, r->pid, &cause) == -1) {
		log_warnx("hook %s: %s", r->hook, cause);
		free(cause);
	}
	TAILQ_REMOVE(&al->runs, r, entry);
	al->nruns--;
	ah->running--;
	alert_run_free(r);
	if (ah->conf == NULL) {
		/*
		 * A reload removed its hook while it ran: what it failed
		 * to deliver is pending again, for the next sweep to fail.
		 */
		al->is_swept = 0;
		if (ah->running == 0)
			alert_hook_free(al, ah);
	}
}

void
alert_free(struct alert *al)
{
	struct alert_run *r;

	if (al == NULL)
		return;
	while ((r = TAILQ_FIRST(&al->runs)) != NULL) {
		/* The alert stays pending: the next start tries it again. */
		killpg(r->pid, SIGKILL);
		waitpid(r->pid, NULL, 0);
		alert_run_done(r);
	}
	while (!TAILQ_EMPTY(&al->hooks))
		alert_hook_free(al, TAILQ_FIRST(&al->hooks));
	event_free(al->sigchld_ev);
	event_free(al->kick_ev);
	free(al);
}

void
alert_set_metrics(struct alert *al, struct metrics *m)
{
	al->metrics = m;
}

void
alert_set_config(struct alert *al, const struct config *cfg)
{
	al->cfg = cfg;
	alert_hooks_sync(al);
	alert_kick(al);
}

void
alert_kick(struct alert *al)
{
	struct timeval tv = { 0, 0 };

	if (al->is_stopping)
		return;
	al->is_idle = 0;
	evtimer_add(al->kick_ev, &tv);
}

void
alert_stop(struct alert *al)
{
	al->is_stopping = 1;
	evtimer_del(al->kick_ev);
}

int
alert_running(const struct alert *al)
{
	return al->nruns;
}

int
alert_busy(struct alert *al)
{
	struct alert_hook *ah;

	if (al->once && !al->is_draining) {
		al->is_draining = 1;
		TAILQ_FOREACH(ah, &al->hooks, entry) {
			if (ah->conf != NULL && ah->conf->is_digest) {
				alert_kick(al);
				break;
			}
		}
	}
	return al->nruns > 0 || !al->is_idle;
}

/* The alert as a JSON object (ARCHITECTURE.md's schema). */
static json_t *
alert_json_object(const struct store_alert *a)
{
	json_t *story, *o;
	char when[32];

	/* A feed-health alert: its JSON was written when it was raised. */
	if (a->payload != NULL &&
	    (o = json_loads(a->payload, 0, NULL)) != NULL) {
		if (json_is_object(o)) {
			json_object_set_new(
			    o, "alert_id", json_string(a->alert_id));
			json_object_set_new(
			    o, "watchlist", json_string(a->watchlist));
			return o;
		}
		json_decref(o);
	}
	o = json_loads(a->matched != NULL ? a->matched : "[]", 0, NULL);
	if (o == NULL)
		o = json_array();
	story = json_pack("{s:I, s:s?, s:s?, s:n, s:{s:s?, s:s?}, s:s?, s:[]}",
	    "id", (json_int_t)a->story_id, "title", a->title, "url", a->url,
	    "published", "feed", "name", a->feed_name, "url", a->feed_url,
	    "summary", a->summary, "sources");
	if (story == NULL)
		fatalx("alert: json_pack failed");
	if (a->published != -1) {
		date_format(a->published, when, sizeof when);
		json_object_set_new(story, "published", json_string(when));
	}
	for (int i = 0; i < a->nsources; i++)
		json_array_append_new(json_object_get(story, "sources"),
		    json_pack("{s:s?, s:s?}", "feed", a->sources[i].feed, "url",
			a->sources[i].url));
	o = json_pack("{s:s, s:s, s:o, s:o, s:s?}", "alert_id", a->alert_id,
	    "watchlist", a->watchlist, "story", story, "matched", o, "snippet",
	    a->snippet);
	if (o == NULL)
		fatalx("alert: json_pack failed");
	return o;
}

static char *
alert_json_dump(json_t *o)
{
	char *s;

	if ((s = json_dumps(o, JSON_COMPACT)) == NULL)
		fatalx("alert: json_dumps failed");
	json_decref(o);
	return s;
}

char *
alert_json(const struct store_alert *a)
{
	return alert_json_dump(alert_json_object(a));
}

/*
 * The watchlists of n alerts, each once: as a JSON array, and joined by
 * ", " into *joined (caller frees).
 */
static json_t *
alert_watchlists(const struct store_alert *a, int n, char **joined)
{
	json_t *names = json_array();
	char *t;
	int i, j;

	*joined = xstrdup("");
	for (i = 0; i < n; i++) {
		for (j = 0; j < i; j++) {
			if (strcmp(a[i].watchlist, a[j].watchlist) == 0)
				break;
		}
		if (j < i)
			continue;
		json_array_append_new(names, json_string(a[i].watchlist));
		xasprintf(
		    &t, "%s%s%s", *joined, i > 0 ? ", " : "", a[i].watchlist);
		free(*joined);
		*joined = t;
	}
	return names;
}

/*
 * A digest's JSON: {"kind": "digest", "hook", "watchlist" (the names
 * of its alerts' watchlists, joined by ", "), "watchlists", "count",
 * "period_start", "period_end", "alerts": [alert objects]}.
 */
static char *
alert_digest_json(const struct alert_run *r)
{
	json_t *o, *alerts = json_array(), *names;
	char start[32], end[32], *joined;

	for (int i = 0; i < r->na; i++)
		json_array_append_new(alerts, alert_json_object(&r->a[i]));
	names = alert_watchlists(r->a, r->na, &joined);
	date_format(r->period_start, start, sizeof start);
	date_format(r->period_end, end, sizeof end);
	o = json_pack("{s:s, s:s, s:s, s:o, s:i, s:s, s:s, s:o}", "kind",
	    "digest", "hook", r->hook, "watchlist", joined, "watchlists", names,
	    "count", r->na, "period_start", start, "period_end", end, "alerts",
	    alerts);
	free(joined);
	if (o == NULL)
		fatalx("alert: json_pack failed");
	return alert_json_dump(o);
}

/* The terms of a matched JSON array, joined by ", ". Caller frees. */
static char *
alert_matched_list(const char *matched)
{
	json_t *a = json_loads(matched != NULL ? matched : "[]", 0, NULL);
	json_t *v;
	size_t i;
	char *s = xstrdup(""), *t;

	json_array_foreach(a, i, v)
	{
		if (!json_is_string(v))
			continue;
		xasprintf(&t, "%s%s%s", s, *s != '\0' ? ", " : "",
		    json_string_value(v));
		free(s);
		s = t;
	}
	json_decref(a);
	return s;
}

/* FEEDWATCH_* of one alert, from env[n] on; return the new n. */
static size_t
alert_envp_alert(char **env, size_t n, const struct store_alert *a)
{
	char when[32], *matched;

	when[0] = '\0';
	if (a->published != -1)
		date_format(a->published, when, sizeof when);
	matched = alert_matched_list(a->matched);
	xasprintf(&env[n++], "FEEDWATCH_ALERT_ID=%s", a->alert_id);
	xasprintf(&env[n++], "FEEDWATCH_KIND=%s",
	    a->payload != NULL ? "feed-health" : "story");
	xasprintf(&env[n++], "FEEDWATCH_WATCHLIST=%s", a->watchlist);
	xasprintf(&env[n++], "FEEDWATCH_TITLE=%s", a->title ? a->title : "");
	xasprintf(&env[n++], "FEEDWATCH_URL=%s", a->url ? a->url : "");
	xasprintf(&env[n++], "FEEDWATCH_FEED=%s",
	    a->feed_name != NULL ? a->feed_name : "");
	xasprintf(&env[n++], "FEEDWATCH_PUBLISHED=%s", when);
	xasprintf(&env[n++], "FEEDWATCH_MATCHED=%s", matched);
	xasprintf(
	    &env[n++], "FEEDWATCH_SNIPPET=%s", a->snippet ? a->snippet : "");
	free(matched);
	return n;
}

/* FEEDWATCH_* of a digest, from env[n] on; return the new n. */
static size_t
alert_envp_digest(char **env, size_t n, const struct alert_run *r)
{
	char when[32], *joined;

	json_decref(alert_watchlists(r->a, r->na, &joined));
	xasprintf(&env[n++], "FEEDWATCH_WATCHLIST=%s", joined);
	xasprintf(&env[n++], "FEEDWATCH_COUNT=%d", r->na);
	date_format(r->period_start, when, sizeof when);
	xasprintf(&env[n++], "FEEDWATCH_PERIOD_START=%s", when);
	date_format(r->period_end, when, sizeof when);
	xasprintf(&env[n++], "FEEDWATCH_PERIOD_END=%s", when);
	free(joined);
	return n;
}

/* A fresh environment: PATH, HOME, a few of ours, and FEEDWATCH_*. */
static char **
alert_envp(const struct alert_run *r)
{
	static const char *keep[] = { "HOME", "LANG", "LC_ALL", "TZ",
		"CREDENTIALS_DIRECTORY" };
	char **env = xcalloc(24, sizeof *env);
	const char *v;
	size_t n = 0;

	v = getenv("PATH");
	xasprintf(&env[n++], "PATH=%s",
	    v != NULL ? v : "/usr/local/bin:/usr/bin:/bin");
	for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
		if ((v = getenv(keep[i])) != NULL)
			xasprintf(&env[n++], "%s=%s", keep[i], v);
	}
	xasprintf(&env[n++], "FEEDWATCH_HOOK=%s", r->hook);
	if (r->is_digest)
		alert_envp_digest(env, n, r);
	else
		alert_envp_alert(env, n, r->a);
	return env;
}

static void
alert_envp_free(char **env)
{
	for (size_t i = 0; env[i] != NULL; i++)
		free(env[i]);
	free(env);
}

/* posix_spawn the hook: own process group, default signals, fds 0-2. */
static int
alert_spawn(struct alert_run *r, int in_r, int out_w)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t sigs;
	char **env;
	int rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in_r, 0);
	posix_spawn_file_actions_adddup2(&fa, out_w, 1);
	posix_spawn_file_actions_adddup2(&fa, out_w, 2);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr,
	    POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF |
		POSIX_SPAWN_SETSIGMASK);
	posix_spawnattr_setpgroup(&attr, 0);
	sigemptyset(&sigs);
	posix_spawnattr_setsigmask(&attr, &sigs);
	sigaddset(&sigs, SIGPIPE);
	sigaddset(&sigs, SIGCHLD);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	posix_spawnattr_setsigdefault(&attr, &sigs);
	env = alert_envp(r);
	if (strchr(r->argv[0], '/') != NULL)
		rc = posix_spawn(&r->pid, r->argv[0], &fa, &attr, r->argv, env);
	else
		rc =
		    posix_spawnp(&r->pid, r->argv[0], &fa, &attr, r->argv, env);
	alert_envp_free(env);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	errno = rc;
	return rc == 0 ? 0 : -1;
}

static void
alert_stdin_cb(evutil_socket_t fd, short what, void *arg)
{
	struct alert_run *r = arg;
	ssize_t n;

	(void)what;
	n = write(fd, r->json + r->json_off, r->json_len - r->json_off);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0)
		r->json_off += (size_t)n;
	/* Done, or the hook closed its stdin: either way we stop here. */
	if (n == -1 || r->json_off == r->json_len) {
		event_free(r->in_ev);
		r->in_ev = NULL;
		close(r->in_fd);
		r->in_fd = -1;
	}
}

/* Read what the hook printed; keep the first ALERT_OUTPUT_MAX bytes. */
static int
alert_read_output(struct alert_run *r)
{
	char buf[8192];
	ssize_t n;
	size_t keep;

	while ((n = read(r->out_fd, buf, sizeof buf)) > 0) {
		keep = (size_t)n;
		if (keep > ALERT_OUTPUT_MAX - r->out_len)
			keep = ALERT_OUTPUT_MAX - r->out_len;
		if (keep > 0) {
			r->out =
			    xreallocarray(r->out, r->out_len + keep + 1, 1);
			memcpy(r->out + r->out_len, buf, keep);
			r->out_len += keep;
			r->out[r->out_len] = '\0';
		}
		r->out_dropped += (size_t)n - keep;
	}
	return n == 0 ? 0 : (errno == EAGAIN || errno == EINTR ? 1 : -1);
}

static void
alert_output_cb(evutil_socket_t fd, short what, void *arg)
{
	struct alert_run *r = arg;

	(void)fd;
	(void)what;
	if (alert_read_output(r) != 1) {
		event_free(r->out_ev);
		r->out_ev = NULL;
		close(r->out_fd);
		r->out_fd = -1;
	}
}

static void
alert_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct alert_run *r = arg;

	(void)fd;
	(void)what;
	log_warnx("hook %s: %s: timed out after %ds, killing it", r->hook,
	    r->what, r->timeout);
	r->is_timed_out = 1;
	killpg(r->pid, SIGKILL);
}

static void
alert_sigchld_cb(evutil_socket_t fd, short what, void *arg)
{
	struct alert *al = arg;
	struct alert_run *r, *next;
	int status;

	(void)fd;
	(void)what;
	for (r = TAILQ_FIRST(&al->runs); r != NULL; r = next) {
		next = TAILQ_NEXT(r, entry);
		if (waitpid(r->pid, &status, WNOHANG) == r->pid)
			alert_finish(r, status);
	}
}

/* Set up the pipes and events of a run and start the hook. */
static int
alert_start(struct alert_run *r)
{
	struct timeval tv = { r->timeout, 0 };
	int in[2], out[2];

	if (pipe2(in, O_CLOEXEC) == -1)
		return -1;
	if (pipe2(out, O_CLOEXEC) == -1) {
		close(in[0]);
		close(in[1]);
		return -1;
	}
	r->in_fd = in[1];
	r->out_fd = out[0];
	if (alert_spawn(r, in[0], out[1]) == -1) {
		close(in[0]);
		close(out[1]);
		return -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &r->started);
	close(in[0]);
	close(out[1]);
	fcntl(r->in_fd, F_SETFL, O_NONBLOCK);
	fcntl(r->out_fd, F_SETFL, O_NONBLOCK);
	r->in_ev = event_new(
	    r->alert->base, r->in_fd, EV_WRITE | EV_PERSIST, alert_stdin_cb, r);
	r->out_ev = event_new(r->alert->base, r->out_fd, EV_READ | EV_PERSIST,
	    alert_output_cb, r);
	r->timeout_ev = evtimer_new(r->alert->base, alert_timeout_cb, r);
	if (r->in_ev == NULL || r->out_ev == NULL || r->timeout_ev == NULL)
		fatalx("alert: event_new failed");
	event_add(r->in_ev, NULL);
	event_add(r->out_ev, NULL);
	evtimer_add(r->timeout_ev, &tv);
	return 0;
}

/* Log the hook's output, a line at a time. */
static void
alert_log_output(struct alert_run *r)
{
	char *line, *next;

	if (r->out_fd != -1)
		alert_read_output(r);
	for (line = r->out; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		log_info("hook %s: %s", r->hook, line);
	}
	if (r->out_dropped > 0)
		log_info("hook %s: (%zu more bytes of output not logged)",
		    r->hook, r->out_dropped);
}

/*
 * Seconds before the next try after attempts failed tries: doubling
 * from min to max, less up to a fifth so retries spread out.
 */
static int
alert_backoff(int attempts, int min, int max)
{
	long d = min;

	for (int i = 1; i < attempts && d < max; i++)
		d *= 2;
	if (d > max)
		d = max;
	return (int)(d - arc4random_uniform((uint32_t)d / 5 + 1));
}

/*
 * Record a failed attempt of a, run by r (NULL: it could not be): it
 * stays pending, or becomes failed after the hook's retries. A hook
 * that asked to be tried later (exit EX_TEMPFAIL) has that counted at
 * most once an hour.
 */
static void
alert_failed(struct alert *al, const struct store_alert *a,
    const struct alert_run *r, const char *why, int is_tempfail)
{
	char *cause;
	time_t now = time(NULL), next = now;
	int counts =
	    !is_tempfail || now - a->counted_at >= ALERT_TEMPFAIL_EVERY;
	int attempts = a->attempts + counts, retries = r ? r->retries : 1;

	if (r != NULL)
		next += alert_backoff(
		    attempts > 0 ? attempts : 1, r->retry_min, r->retry_max);
	log_warnx("alert %s (watchlist %s, hook %s): %s%s", a->alert_id,
	    a->watchlist, a->hook, why,
	    counts && attempts >= retries ?
		"; giving up, the alert is kept as failed" :
		"; will retry");
	if (store_alert_attempt_failed(
		al->store, a->id, why, next, retries, counts, &cause) == -1) {
		log_warnx("alert %s: %s", a->alert_id, cause);
		free(cause);
	}
}

/*
 * A failed digest: its alerts are retried together, as one, after the
 * backoff of the most tried of them; with once, not again in this run.
 */
static void
alert_digest_failed(
    struct alert *al, struct alert_run *r, const char *why, int is_tempfail)
{
	char *cause;
	time_t now = time(NULL), next;
	int counts, attempts = 0;

	for (int i = 0; i < r->na; i++) {
		if (r->a[i].attempts > attempts)
			attempts = r->a[i].attempts;
	}
	counts =
	    !is_tempfail || now - r->a[0].counted_at >= ALERT_TEMPFAIL_EVERY;
	attempts += counts;
	next = now +
	    alert_backoff(
		attempts > 0 ? attempts : 1, r->retry_min, r->retry_max);
	log_warnx("hook %s: %s: %s%s", r->hook, r->what, why,
	    counts && attempts >= r->retries ?
		"; giving up, its alerts are kept as failed" :
		"; will retry it whole");
	if (store_digest_failed(al->store, r->hook, r->period_end, why, next,
		r->retries, counts, &cause) == -1) {
		log_warnx("hook %s: %s", r->hook, cause);
		free(cause);
	}
	r->ah->is_once_done = 1;
}

/* Record that r delivered what it carried. */
static void
alert_delivered(struct alert *al, struct alert_run *r)
{
	char *cause;
	int rc;

	if (r->is_digest) {
		log_info("%s delivered by hook %s", r->what, r->hook);
		rc = store_digest_delivered(
		    al->store, r->hook, r->period_end, time(NULL), &cause);
		r->ah->is_more = r->na == ALERT_DIGEST_MAX;
	} else {
		log_info(
		    "alert %s delivered by hook %s", r->a->alert_id, r->hook);
		rc = store_alert_delivered(
		    al->store, r->a->id, time(NULL), &cause);
	}
	if (rc == -1) {
		log_warnx("hook %s: %s: %s", r->hook, r->what, cause);
		free(cause);
	}
}

/* A run failed (exit, signal, timeout, or it could not start): why. */
static void
alert_run_failed(struct alert_run *r, const char *why, int is_tempfail)
{
	if (r->is_digest)
		alert_digest_failed(r->alert, r, why, is_tempfail);
	else
		alert_failed(r->alert, r->a, r, why, is_tempfail);
}

static void
alert_finish(struct alert_run *r, int status)
{
	struct alert *al = r->alert;
	struct timespec now;
	char why[128];

	alert_log_output(r);
	clock_gettime(CLOCK_MONOTONIC, &now);
	metrics_hook_run(al->metrics, r->hook,
	    (double)(now.tv_sec - r->started.tv_sec) +
		(double)(now.tv_nsec - r->started.tv_nsec) / 1e9,
	    WIFEXITED(status) && WEXITSTATUS(status) == 0 && !r->is_timed_out);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && !r->is_timed_out)
		alert_delivered(al, r);
	else {
		if (r->is_timed_out)
			snprintf(
			    why, sizeof why, "timed out after %ds", r->timeout);
		else if (WIFEXITED(status))
			snprintf(why, sizeof why, "exit status %d",
			    WEXITSTATUS(status));
		else
			snprintf(why, sizeof why, "killed by signal %d",
			    WTERMSIG(status));
		alert_run_failed(r, why,
		    !r->is_timed_out && WIFEXITED(status) &&
			WEXITSTATUS(status) == EX_TEMPFAIL);
	}
	/* The rest of its process group goes with it. */
	killpg(r->pid, SIGKILL);
	alert_run_done(r);
	alert_kick(al);
}

/*
 * A run of ah's hook for the n alerts of a (owned from now on), with
 * what it needs of the hook's settings.
 */
static struct alert_run *
alert_run_new(
    struct alert *al, struct alert_hook *ah, struct store_alert *a, int n)
{
	const struct config_hook *h = ah->conf;
	struct alert_run *r;
	size_t i;

	r = xcalloc(1, sizeof *r);
	r->alert = al;
	r->ah = ah;
	r->a = a;
	r->na = n;
	r->hook = xstrdup(h->name);
	for (i = 0; h->argv[i] != NULL; i++)
		continue;
	r->argv = xcalloc(i + 1, sizeof *r->argv);
	for (i = 0; h->argv[i] != NULL; i++)
		r->argv[i] = xstrdup(h->argv[i]);
	r->timeout = h->timeout;
	r->retries = h->retries;
	r->retry_min = h->retry_min;
	r->retry_max = h->retry_max;
	r->in_fd = r->out_fd = -1;
	snprintf(r->what, sizeof r->what, "alert %s", a->alert_id);
	return r;
}

/*
 * Start r and count it as its hook's. Failing to start is a failed
 * attempt: return -1 then, with r freed.
 */
static int
alert_deliver(struct alert *al, struct alert_run *r)
{
	char why[256];

	if (r->json == NULL)
		r->json =
		    r->is_digest ? alert_digest_json(r) : alert_json(r->a);
	r->json_len = strlen(r->json);
	alert_hook_rate_count(r->ah, time(NULL));
	if (alert_start(r) == -1) {
		snprintf(why, sizeof why, "cannot run %s: %s", r->argv[0],
		    strerror(errno));
		alert_run_failed(r, why, 0);
		alert_run_free(r);
		return -1;
	}
	log_debug(
	    "hook %s: %s: started, pid %d", r->hook, r->what, (int)r->pid);
	alert_run_record(r);
	TAILQ_INSERT_TAIL(&al->runs, r, entry);
	al->nruns++;
	r->ah->running++;
	return 0;
}

static int
alert_is_running(const struct alert *al, int64_t id)
{
	const struct alert_run *r;

	TAILQ_FOREACH(r, &al->runs, entry) {
		for (int i = 0; i < r->na; i++) {
			if (r->a[i].id == id)
				return 1;
		}
	}
	return 0;
}

/*
 * The id of the next alert ah's hook may deliver now, or 0. A hook at
 * its concurrency has none; one at its rate says in *wake when it may
 * start again. With once, each alert is tried once.
 */
static int64_t
alert_hook_next(struct alert *al, struct alert_hook *ah, time_t *wake)
{
	int64_t ids[CONFIG_MAX_CONCURRENCY + 1], id = 0;
	time_t now = time(NULL), until;
	char *cause = NULL;
	int i, n;

	if (ah->conf == NULL || ah->conf->is_digest ||
	    ah->running >= ah->conf->concurrency)
		return 0;
	if ((until = alert_hook_rate_wait(ah, now)) != 0) {
		if (until < *wake)
			*wake = until;
		return 0;
	}
	/* Those it runs are still pending: look past them. */
	n = store_hook_alert_ids(al->store, ah->name, al->once ? 0 : now,
	    al->once ? ah->cursor : 0, ids, ah->running + 1, &cause);
	if (n == -1) {
		log_warnx("outbox: %s", cause);
		free(cause);
	}
	for (i = 0; i < n && id == 0; i++) {
		if (!alert_is_running(al, ids[i]))
			id = ids[i];
	}
	return id;
}

/* Collect the names of hooks with pending alerts. */
static void
alert_sweep_cb(const char *hook, void *arg)
{
	char ***names = arg;
	size_t n;

	for (n = 0; (*names)[n] != NULL; n++)
		continue;
	*names = xreallocarray(*names, n + 2, sizeof **names);
	(*names)[n] = xstrdup(hook);
	(*names)[n + 1] = NULL;
}

/* Alerts whose hook is no longer configured are kept as failed. */
static void
alert_sweep(struct alert *al)
{
	struct store_alert *v;
	char **names = xcalloc(1, sizeof *names), *cause = NULL;
	int64_t after;
	int n;

	if (store_alert_hooks(al->store, alert_sweep_cb, &names, &cause) ==
	    -1) {
		log_warnx("outbox: %s", cause);
		free(cause);
	}
	for (size_t i = 0; names[i] != NULL; i++) {
		if (config_hook_find(al->cfg, names[i]) != NULL)
			continue;
		after = 0;
		do {
			v = store_hook_alerts_due(
			    al->store, names[i], 0, after, 100, &n, &cause);
			for (int j = 0; j < n; j++) {
				after = v[j].id;
				if (!alert_is_running(al, v[j].id))
					alert_failed(al, &v[j], NULL,
					    "its hook is no longer configured",
					    0);
			}
			store_alerts_free(v, n);
		} while (n > 0);
		if (cause != NULL) {
			log_warnx("outbox: %s", cause);
			free(cause);
		}
	}
	config_argv_free(names);
	al->is_swept = 1;
}

/*
 * Read ah's digest state into *d, ending the digest being sent if its
 * alerts were all given up on. Return when the next run is due: the
 * digest's retry, or the end of the period; with once, now.
 */
static time_t
alert_digest_when(struct alert *al, struct alert_hook *ah,
    struct store_digest *d, char **cause)
{
	time_t now = time(NULL);

	if (store_digest_get(al->store, ah->name, now, d, cause) == -1)
		return -1;
	if (d->period_end != 0 && d->pending == 0) {
		if (store_digest_close(
			al->store, ah->name, d->period_end, cause) == -1)
			return -1;
		d->period_start = d->period_end;
		d->period_end = 0;
	}
	if (al->once || (d->period_end == 0 && ah->is_more))
		return now;
	if (d->period_end != 0)
		return d->next_attempt;
	return config_digest_due(ah->conf, d->period_start);
}

/*
 * Start ah's digest if it is due: the one being sent, when its retry
 * is due, else a new one with the hook's pending alerts once its period
 * is over. With once, digests wait until no more alerts come, then
 * send what is pending. Return 1 when a run started, -1 when one could
 * not, else 0 with *wake set to when the digest is due.
 */
static int
alert_digest_next(struct alert *al, struct alert_hook *ah, time_t *wake)
{
	struct store_digest d;
	struct store_alert *a;
	struct alert_run *r;
	time_t now = time(NULL), due;
	char *cause = NULL;
	int n;

	if (ah->conf == NULL || !ah->conf->is_digest || ah->running > 0 ||
	    (al->once && (!al->is_draining || ah->is_once_done)))
		return 0;
	if ((due = alert_digest_when(al, ah, &d, &cause)) == -1)
		goto fail;
	if (due > now) {
		if (due < *wake)
			*wake = due;
		return 0;
	}
	if (d.period_end == 0) {
		if (store_digest_open(al->store, ah->name, now,
			ALERT_DIGEST_MAX, &n, &cause) == -1)
			goto fail;
		ah->is_more = 0;
		if (n == 0) {
			/* Nothing to send: the period passes empty. */
			if (al->once)
				ah->is_once_done = 1;
			else if (store_digest_close(
				     al->store, ah->name, now, &cause) == -1)
				goto fail;
			return 0;
		}
		d.period_end = now;
	}
	a = store_digest_alerts(al->store, ah->name, d.period_end, &n, &cause);
	if (cause != NULL)
		goto fail;
	if (n == 0)
		return 0;
	r = alert_run_new(al, ah, a, n);
	r->is_digest = 1;
	r->period_start = d.period_start;
	r->period_end = d.period_end;
	snprintf(r->what, sizeof r->what, "digest of %d alert%s", n,
	    n == 1 ? "" : "s");
	return alert_deliver(al, r) == 0 ? 1 : -1;

fail:
	log_warnx("hook %s: digest: %s", ah->name, cause);
	free(cause);
	return 0;
}

/*
 * Start what may start: while fewer than max_hooks run, a digest that
 * is due, else the oldest due alert of any hook that may run one. Set
 * *wake to when a hook held back by its rate or period may start. Return
 * -1 when a hook could not be started (look again soon), else 0.
 */
static int
alert_dispatch(struct alert *al, time_t *wake)
{
	struct alert_hook *ah, *best_ah;
	struct store_alert *a;
	int64_t id, best;
	char *cause;
	int rc;

	while (al->nruns < al->cfg->max_hooks) {
		rc = 0;
		TAILQ_FOREACH(ah, &al->hooks, entry) {
			if ((rc = alert_digest_next(al, ah, wake)) != 0)
				break;
		}
		if (rc == -1)
			return -1;
		if (rc == 1)
			continue;
		best = 0;
		best_ah = NULL;
		TAILQ_FOREACH(ah, &al->hooks, entry) {
			id = alert_hook_next(al, ah, wake);
			if (id != 0 && (best == 0 || id < best)) {
				best = id;
				best_ah = ah;
			}
		}
		if (best == 0)
			break;
		if (al->once)
			best_ah->cursor = best;
		if ((a = store_alert_get(al->store, best, &cause)) == NULL) {
			log_warnx("outbox: %s", cause);
			free(cause);
			return -1;
		}
		if (alert_deliver(al, alert_run_new(al, best_ah, a, 1)) == -1)
			return -1;
	}
	return 0;
}

static void
alert_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct alert *al = arg;
	struct timeval tv = { 0, 0 };
	time_t now = time(NULL), wake = now + ALERT_RECHECK;

	(void)fd;
	(void)what;
	if (al->is_stopping)
		return;
	if (!al->is_swept)
		alert_sweep(al);
	if (alert_dispatch(al, &wake) == -1) {
		alert_kick(al);
		return;
	}
	if (al->nruns > 0 && al->once)
		return; /* each run's end looks again */
	if (al->nruns == 0)
		al->is_idle = 1;
	if (al->once) {
		al->idle_cb(al->arg);
		return;
	}
	tv.tv_sec = wake > now ? wake - now : 1;
	evtimer_add(al->kick_ev, &tv);
}
