#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ini.h>

#include "charset.h"
#include "config.h"
#include "dedup.h"
#include "log.h"
#include "match.h"
#include "metrics.h"
#include "opml.h"
#include "parse.h"
#include "url.h"
#include "xmalloc.h"

/*
 * Configuration: inih reads the file through config_parse_reader, which
 * counts lines and opens sections, so that every error names its line;
 * config_parse_handler dispatches each key through config_keys.
 */

#define CONFIG_DEFAULT_DATABASE "/var/lib/feedwatch/feedwatch.db"
#define CONFIG_DEFAULT_INTERVAL (15 * 60)
#define CONFIG_DEFAULT_MAX_FETCHES 32
#define CONFIG_DEFAULT_FETCH_TIMEOUT 60
#define CONFIG_DEFAULT_MAX_BODY (16 * 1024 * 1024)
#define CONFIG_DEFAULT_HOOK_TIMEOUT 60
#define CONFIG_DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin" /* as hooks get */
#define CONFIG_DEFAULT_HOOK_RETRIES 10
#define CONFIG_DEFAULT_HOOK_RETRY_MIN 30
#define CONFIG_DEFAULT_HOOK_RETRY_MAX 3600
#define CONFIG_DEFAULT_MAX_HOOKS 4
#define CONFIG_MAX_HOOKS 256  /* max_hooks, at most */
#define CONFIG_MAX_RATE 10000 /* runs in a hook's rate period */
#define CONFIG_MAX_INTERVAL (7 * 24 * 3600)
#define CONFIG_DEFAULT_MIN_INTERVAL 60
#define CONFIG_DEFAULT_MAX_INTERVAL (6 * 3600)
#define CONFIG_DEFAULT_UNHEALTHY_AFTER (24 * 3600)
#define CONFIG_DEFAULT_MAX_PER_HOST 4
#define CONFIG_DEFAULT_CONNECT_TIMEOUT 20
#define CONFIG_DEFAULT_LOW_SPEED_LIMIT 64 /* bytes per second ... */
#define CONFIG_DEFAULT_LOW_SPEED_TIME 30  /* ... for this many seconds */
#define CONFIG_DEFAULT_DEDUP_WINDOW (7 * 24 * 3600)
#define CONFIG_DEFAULT_RETENTION (90 * 24 * 3600)

enum config_section {
	SECTION_NONE,
	SECTION_DAEMON,
	SECTION_FEED,
	SECTION_WATCHLIST,
	SECTION_HOOK,
	SECTION_FEEDS,
	SECTION_BAD, /* an error was reported; ignore its keys */
};

struct config_parse {
	struct config *cfg;
	int flags; /* CONFIG_OPML_MAY_BE_MISSING */
	FILE *f;
	char *buf; /* getline's buffer */
	size_t bufsize;
	int line;
	int indented; /* the current line starts with white space */
	enum config_section kind;
	void *obj;	   /* the current section's struct */
	char *last_key;	   /* for continuation lines */
	int syntax_errors; /* lines that are not "key = value" */
	int interval_line; /* of [daemon]'s interval, min_ and max_interval */
	char *errors;
	size_t errlen;
};

struct config_key {
	enum config_section section;
	const char *name;
	int (*set)(struct config_parse *, const char *, char **);
};

static char *config_parse_reader(char *, int, void *);
static int config_parse_handler(
    void *, const char *, const char *, const char *);
static void config_error(struct config_parse *, int, const char *, ...)
    __attribute__((__format__(__printf__, 3, 4)));

static int config_set_database(struct config_parse *, const char *, char **);
static int config_set_interval(struct config_parse *, const char *, char **);
static int config_set_max_fetches(struct config_parse *, const char *, char **);
static int config_set_metrics(struct config_parse *, const char *, char **);
static int config_set_max_hooks(struct config_parse *, const char *, char **);
static int config_set_fetch_timeout(
    struct config_parse *, const char *, char **);
static int config_set_max_body(struct config_parse *, const char *, char **);
static int config_set_connect_timeout(
    struct config_parse *, const char *, char **);
static int config_set_low_speed_limit(
    struct config_parse *, const char *, char **);
static int config_set_low_speed_time(
    struct config_parse *, const char *, char **);
static int config_set_ca_file(struct config_parse *, const char *, char **);
static int config_set_proxy(struct config_parse *, const char *, char **);
static int config_set_max_per_host(
    struct config_parse *, const char *, char **);
static int config_set_min_interval(
    struct config_parse *, const char *, char **);
static int config_set_max_interval(
    struct config_parse *, const char *, char **);
static int config_set_adaptive(struct config_parse *, const char *, char **);
static int config_set_unhealthy_after(
    struct config_parse *, const char *, char **);
static int config_set_health_hooks(
    struct config_parse *, const char *, char **);
static int config_set_user_agent(struct config_parse *, const char *, char **);
static int config_set_max_entries(struct config_parse *, const char *, char **);
static int config_set_max_depth(struct config_parse *, const char *, char **);
static int config_set_dedup_distance(
    struct config_parse *, const char *, char **);
static int config_set_dedup_window(
    struct config_parse *, const char *, char **);
static int config_set_tracking_params(
    struct config_parse *, const char *, char **);
static int config_set_retention(struct config_parse *, const char *, char **);
static int config_set_feed_encoding(
    struct config_parse *, const char *, char **);
static int config_set_feed_url(struct config_parse *, const char *, char **);
static int config_set_feed_interval(
    struct config_parse *, const char *, char **);
static int config_set_feed_tags(struct config_parse *, const char *, char **);
static int config_set_opml(struct config_parse *, const char *, char **);
static int config_set_wl_query(struct config_parse *, const char *, char **);
static int config_set_wl_language(struct config_parse *, const char *, char **);
static int config_set_wl_accents(struct config_parse *, const char *, char **);
static int config_set_wl_feeds(struct config_parse *, const char *, char **);
static int config_set_wl_hooks(struct config_parse *, const char *, char **);
static int config_set_hook_command(
    struct config_parse *, const char *, char **);
static int config_set_hook_timeout(
    struct config_parse *, const char *, char **);
static int config_set_hook_retries(
    struct config_parse *, const char *, char **);
static int config_set_hook_retry_min(
    struct config_parse *, const char *, char **);
static int config_set_hook_retry_max(
    struct config_parse *, const char *, char **);
static int config_set_hook_concurrency(
    struct config_parse *, const char *, char **);
static int config_set_hook_rate(struct config_parse *, const char *, char **);
static int config_set_hook_mode(struct config_parse *, const char *, char **);
static int config_set_hook_every(struct config_parse *, const char *, char **);
static int config_set_hook_at(struct config_parse *, const char *, char **);

static const struct config_key config_keys[] = {
	{ SECTION_DAEMON, "adaptive", config_set_adaptive },
	{ SECTION_DAEMON, "ca_file", config_set_ca_file },
	{ SECTION_DAEMON, "connect_timeout", config_set_connect_timeout },
	{ SECTION_DAEMON, "database", config_set_database },
	{ SECTION_DAEMON, "dedup_distance", config_set_dedup_distance },
	{ SECTION_DAEMON, "dedup_window", config_set_dedup_window },
	{ SECTION_DAEMON, "health_hooks", config_set_health_hooks },
	{ SECTION_DAEMON, "interval", config_set_interval },
	{ SECTION_DAEMON, "low_speed_limit", config_set_low_speed_limit },
	{ SECTION_DAEMON, "low_speed_time", config_set_low_speed_time },
	{ SECTION_DAEMON, "max_body", config_set_max_body },
	{ SECTION_DAEMON, "max_depth", config_set_max_depth },
	{ SECTION_DAEMON, "max_entries", config_set_max_entries },
	{ SECTION_DAEMON, "max_fetches", config_set_max_fetches },
	{ SECTION_DAEMON, "max_hooks", config_set_max_hooks },
	{ SECTION_DAEMON, "max_interval", config_set_max_interval },
	{ SECTION_DAEMON, "max_per_host", config_set_max_per_host },
	{ SECTION_DAEMON, "metrics", config_set_metrics },
	{ SECTION_DAEMON, "min_interval", config_set_min_interval },
	{ SECTION_DAEMON, "proxy", config_set_proxy },
	{ SECTION_DAEMON, "retention", config_set_retention },
	{ SECTION_DAEMON, "timeout", config_set_fetch_timeout },
	{ SECTION_DAEMON, "tracking_params", config_set_tracking_params },
	{ SECTION_DAEMON, "unhealthy_after", config_set_unhealthy_after },
	{ SECTION_DAEMON, "user_agent", config_set_user_agent },
	{ SECTION_FEED, "adaptive", config_set_adaptive },
	{ SECTION_FEED, "ca_file", config_set_ca_file },
	{ SECTION_FEED, "connect_timeout", config_set_connect_timeout },
	{ SECTION_FEED, "encoding", config_set_feed_encoding },
	{ SECTION_FEED, "interval", config_set_feed_interval },
	{ SECTION_FEED, "low_speed_limit", config_set_low_speed_limit },
	{ SECTION_FEED, "low_speed_time", config_set_low_speed_time },
	{ SECTION_FEED, "max_body", config_set_max_body },
	{ SECTION_FEED, "proxy", config_set_proxy },
	{ SECTION_FEED, "tags", config_set_feed_tags },
	{ SECTION_FEED, "timeout", config_set_fetch_timeout },
	{ SECTION_FEED, "url", config_set_feed_url },
	{ SECTION_FEEDS, "opml", config_set_opml },
	{ SECTION_WATCHLIST, "accents", config_set_wl_accents },
	{ SECTION_WATCHLIST, "feeds", config_set_wl_feeds },
	{ SECTION_WATCHLIST, "hooks", config_set_wl_hooks },
	{ SECTION_WATCHLIST, "language", config_set_wl_language },
	{ SECTION_WATCHLIST, "query", config_set_wl_query },
	{ SECTION_HOOK, "at", config_set_hook_at },
	{ SECTION_HOOK, "command", config_set_hook_command },
	{ SECTION_HOOK, "concurrency", config_set_hook_concurrency },
	{ SECTION_HOOK, "every", config_set_hook_every },
	{ SECTION_HOOK, "mode", config_set_hook_mode },
	{ SECTION_HOOK, "rate", config_set_hook_rate },
	{ SECTION_HOOK, "retries", config_set_hook_retries },
	{ SECTION_HOOK, "retry_max", config_set_hook_retry_max },
	{ SECTION_HOOK, "retry_min", config_set_hook_retry_min },
	{ SECTION_HOOK, "timeout", config_set_hook_timeout },
};

static const char *config_section_names[] = {
	[SECTION_DAEMON] = "daemon",
	[SECTION_FEED] = "feed",
	[SECTION_WATCHLIST] = "watchlist",
	[SECTION_HOOK] = "hook",
	[SECTION_FEEDS] = "feeds",
};

/* Append "FILE:LINE: message" to the error list. */
static void
config_error(struct config_parse *p, int line, const char *fmt, ...)
{
	va_list ap;
	char *msg, *all;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		fatal("vasprintf");
	va_end(ap);
	xasprintf(&all, "%s%s%s:%d: %s", p->errors ? p->errors : "",
	    p->errors ? "\n" : "", p->cfg->path, line, msg);
	free(msg);
	free(p->errors);
	p->errors = all;
}

char **
config_list(const char *s)
{
	char **v = xcalloc(1, sizeof *v);

	if (s == NULL)
		return v;
	size_t n = 0, len;

	for (;;) {
		s += strspn(s, ", \t");
		if (*s == '\0')
			break;
		len = strcspn(s, ", \t");
		v = xreallocarray(v, n + 2, sizeof *v);
		v[n++] = xstrndup(s, len);
		v[n] = NULL;
		s += len;
	}
	return v;
}

void
config_list_free(char **v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* Make a relative path absolute against the configuration's directory. */
static char *
config_path(const struct config *cfg, const char *path)
{
	char *abs;

	if (path[0] == '/')
		return xstrdup(path);
	xasprintf(&abs, "%s/%s", cfg->dir, path);
	return abs;
}

int
config_duration(const char *s, int *out)
{
	long long total = 0, n;
	char *end;

	if (*s == '\0')
		return -1;
	while (*s != '\0') {
		if (!isdigit((unsigned char)*s))
			return -1;
		errno = 0;
		n = strtoll(s, &end, 10);
		if (errno != 0 || n > INT_MAX)
			return -1;
		switch (*end) {
		case 'd':
			n *= 24 * 3600;
			end++;
			break;
		case 'h':
			n *= 3600;
			end++;
			break;
		case 'm':
			n *= 60;
			end++;
			break;
		case 's':
			end++;
			break;
		case '\0':
			break;
		default:
			return -1;
		}
		total += n;
		if (total > INT_MAX)
			return -1;
		s = end;
	}
	*out = (int)total;
	return 0;
}

/* Parse a whole number in [min, max]. */
static int
config_number(
    const char *s, long long min, long long max, long long *out, char **cause)
{
	char *end;
	long long n;

	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || n < min || n > max) {
		xasprintf(cause, "\"%s\" is not a number from %lld to %lld", s,
		    min, max);
		return -1;
	}
	*out = n;
	return 0;
}

static int
config_interval(const char *s, int *out, char **cause)
{
	if (config_duration(s, out) == -1 || *out < 1 ||
	    *out > CONFIG_MAX_INTERVAL) {
		xasprintf(cause,
		    "\"%s\" is not a duration from 1s to 7d "
		    "(e.g. 90s, 15m, 2h)",
		    s);
		return -1;
	}
	return 0;
}

static int
config_set_database(struct config_parse *p, const char *v, char **cause)
{
	(void)cause;
	free(p->cfg->database);
	p->cfg->database = config_path(p->cfg, v);
	return 0;
}

static int
config_set_interval(struct config_parse *p, const char *v, char **cause)
{
	p->interval_line = p->line;
	return config_interval(v, &p->cfg->interval, cause);
}

static int
config_set_max_fetches(struct config_parse *p, const char *v, char **cause)
{
	long long n;

	if (config_number(v, 1, 1024, &n, cause) == -1)
		return -1;
	p->cfg->max_fetches = (int)n;
	return 0;
}

/* Where /metrics is served: ADDRESS:PORT, checked as metrics.c binds it. */
static int
config_set_metrics(struct config_parse *p, const char *v, char **cause)
{
	if (metrics_listen_check(v, cause) == -1)
		return -1;
	free(p->cfg->metrics);
	p->cfg->metrics = xstrdup(v);
	return 0;
}

/* The fetch settings a key sets: the daemon's, or the current feed's. */
static struct config_fetch *
config_fetch_of(struct config_parse *p)
{
	if (p->kind == SECTION_FEED)
		return &((struct config_feed *)p->obj)->fetch;
	return &p->cfg->fetch;
}

static int
config_set_max_hooks(struct config_parse *p, const char *v, char **cause)
{
	long long n;

	if (config_number(v, 1, CONFIG_MAX_HOOKS, &n, cause) == -1)
		return -1;
	p->cfg->max_hooks = (int)n;
	return 0;
}

static int
config_set_fetch_timeout(struct config_parse *p, const char *v, char **cause)
{
	return config_interval(v, &config_fetch_of(p)->timeout, cause);
}

static int
config_set_connect_timeout(struct config_parse *p, const char *v, char **cause)
{
	return config_interval(v, &config_fetch_of(p)->connect_timeout, cause);
}

static int
config_set_low_speed_limit(struct config_parse *p, const char *v, char **cause)
{
	long long n;

	if (config_number(v, 1, 1024 * 1024 * 1024, &n, cause) == -1)
		return -1;
	config_fetch_of(p)->low_speed_limit = (int)n;
	return 0;
}

static int
config_set_low_speed_time(struct config_parse *p, const char *v, char **cause)
{
	return config_interval(v, &config_fetch_of(p)->low_speed_time, cause);
}

static int
config_set_ca_file(struct config_parse *p, const char *v, char **cause)
{
	struct config_fetch *cf = config_fetch_of(p);
	char *path;

	path = config_path(p->cfg, v);
	if (access(path, R_OK) == -1) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	free(cf->ca_file);
	cf->ca_file = path;
	return 0;
}

/* A proxy URL, or "none" for a direct connection whatever the
 * environment says. */
static int
config_set_proxy(struct config_parse *p, const char *v, char **cause)
{
	struct config_fetch *cf = config_fetch_of(p);

	if (strcmp(v, "none") != 0 && strstr(v, "://") == NULL) {
		xasprintf(cause,
		    "\"%s\" is not a proxy URL (e.g. "
		    "http://proxy:3128, socks5h://127.0.0.1:9050) or \"none\"",
		    v);
		return -1;
	}
	free(cf->proxy);
	cf->proxy = xstrdup(strcmp(v, "none") == 0 ? "" : v);
	return 0;
}

static int
config_set_max_per_host(struct config_parse *p, const char *v, char **cause)
{
	long long n;

	if (config_number(v, 1, 1024, &n, cause) == -1)
		return -1;
	p->cfg->max_per_host = (int)n;
	return 0;
}

static int
config_set_min_interval(struct config_parse *p, const char *v, char **cause)
{
	p->interval_line = p->line;
	return config_interval(v, &p->cfg->min_interval, cause);
}

static int
config_set_max_interval(struct config_parse *p, const char *v, char **cause)
{
	p->interval_line = p->line;
	return config_interval(v, &p->cfg->max_interval, cause);
}

static int
config_set_adaptive(struct config_parse *p, const char *v, char **cause)
{
	int yes;

	if (strcmp(v, "yes") == 0)
		yes = 1;
	else if (strcmp(v, "no") == 0)
		yes = 0;
	else {
		xasprintf(cause, "\"%s\" is not yes or no", v);
		return -1;
	}
	if (p->kind == SECTION_FEED)
		((struct config_feed *)p->obj)->adaptive = yes;
	else
		p->cfg->is_adaptive = yes;
	return 0;
}

static int
config_set_unhealthy_after(struct config_parse *p, const char *v, char **cause)
{
	return config_interval(v, &p->cfg->unhealthy_after, cause);
}

static int
config_set_health_hooks(struct config_parse *p, const char *v, char **cause)
{
	(void)cause;
	config_list_free(p->cfg->health_hooks);
	p->cfg->health_hooks = config_list(v);
	p->cfg->health_hooks_line = p->line;
	return 0;
}

static int
config_set_max_body(struct config_parse *p, const char *v, char **cause)
{
	long long n, unit = 1;
	char *num;
	size_t len = strlen(v);

	if (len > 0 && strchr("kKmM", v[len - 1]) != NULL) {
		unit = tolower((unsigned char)v[len - 1]) == 'k' ? 1024 :
								   1024 * 1024;
		len--;
	}
	num = xstrndup(v, len);
	if (config_number(num, 1, 1024LL * 1024 * 1024 / unit, &n, cause) ==
	    -1) {
		free(*cause);
		xasprintf(cause, "\"%s\" is not a size from 1 to 1024M", v);
		free(num);
		return -1;
	}
	free(num);
	config_fetch_of(p)->max_body = (size_t)(n * unit);
	return 0;
}

static int
config_set_user_agent(struct config_parse *p, const char *v, char **cause)
{
	(void)cause;
	free(p->cfg->user_agent);
	p->cfg->user_agent = xstrdup(v);
	return 0;
}

static int
config_set_max_entries(struct config_parse *p, const char *v, char **cause)
{
	long long n;

	if (config_number(v, 1, 1000000, &n, cause) == -1)
		return -1;
	p->cfg->max_entries = (size_t)n;
	return 0;
}

static int
config_set_max_depth(struct config_parse *p, const char *v, char **cause)
{
	long long n;

	if (config_number(v, 8, 256, &n, cause) == -1)
		return -1;
	p->cfg->max_depth = (int)n;
	return 0;
}

static int
config_set_dedup_distance(struct config_parse *p, const char *v, char **cause)
{
	long long n;

	if (config_number(v, 0, 16, &n, cause) == -1)
		return -1;
	p->cfg->dedup_distance = (int)n;
	return 0;
}

static int
config_set_dedup_window(struct config_parse *p, const char *v, char **cause)
{
	if (config_duration(v, &p->cfg->dedup_window) == -1 ||
	    p->cfg->dedup_window < 1) {
		xasprintf(cause, "\"%s\" is not a duration (e.g. 7d, 36h)", v);
		return -1;
	}
	return 0;
}

static int
config_set_retention(struct config_parse *p, const char *v, char **cause)
{
	if (config_duration(v, &p->cfg->retention) == -1) {
		xasprintf(cause,
		    "\"%s\" is not a duration (e.g. 90d; 0 keeps "
		    "stories for ever)",
		    v);
		return -1;
	}
	return 0;
}

static int
config_set_tracking_params(struct config_parse *p, const char *v, char **cause)
{
	(void)cause;
	config_list_free(p->cfg->tracking_params);
	p->cfg->tracking_params = config_list(v);
	return 0;
}

static int
config_set_feed_encoding(struct config_parse *p, const char *v, char **cause)
{
	struct config_feed *f = p->obj;

	if (!charset_is_known(v)) {
		xasprintf(cause, "unknown encoding \"%s\"", v);
		return -1;
	}
	free(f->encoding);
	f->encoding = xstrdup(v);
	return 0;
}

static int
config_set_feed_url(struct config_parse *p, const char *v, char **cause)
{
	struct config_feed *f = p->obj;
	char *path;

	(void)cause;
	free(f->url);
	if (strstr(v, "://") != NULL) {
		f->url = xstrdup(v);
		return 0;
	}
	/* A path: a local file read through libcurl's file:// scheme. */
	path = config_path(p->cfg, v);
	f->url = url_from_path(path);
	free(path);
	return 0;
}

static int
config_set_feed_interval(struct config_parse *p, const char *v, char **cause)
{
	struct config_feed *f = p->obj;

	return config_interval(v, &f->interval, cause);
}

static int
config_set_feed_tags(struct config_parse *p, const char *v, char **cause)
{
	struct config_feed *f = p->obj;

	(void)cause;
	config_list_free(f->tags);
	f->tags = config_list(v);
	return 0;
}

/* Each opml key names one more file; they are read once the file is. */
static int
config_set_opml(struct config_parse *p, const char *v, char **cause)
{
	struct config_opml *o;
	char *path = config_path(p->cfg, v);

	TAILQ_FOREACH(o, &p->cfg->opml, entry) {
		if (strcmp(o->path, path) == 0) {
			xasprintf(cause, "%s is named at line %d already", path,
			    o->line);
			free(path);
			return -1;
		}
	}
	o = xcalloc(1, sizeof *o);
	o->path = path;
	o->line = p->line;
	TAILQ_INSERT_TAIL(&p->cfg->opml, o, entry);
	return 0;
}

static int
config_set_wl_language(struct config_parse *p, const char *v, char **cause)
{
	struct config_watchlist *w = p->obj;

	if (!match_language_is_known(v)) {
		xasprintf(cause,
		    "no stemmer for \"%s\" (libstemmer knows "
		    "english, russian, french, german, ...)",
		    v);
		return -1;
	}
	free(w->language);
	w->language = xstrdup(v);
	return 0;
}

static int
config_set_wl_accents(struct config_parse *p, const char *v, char **cause)
{
	struct config_watchlist *w = p->obj;

	if (strcmp(v, "fold") != 0 && strcmp(v, "keep") != 0) {
		xasprintf(cause, "\"%s\" is not fold or keep", v);
		return -1;
	}
	w->is_accents_kept = strcmp(v, "keep") == 0;
	return 0;
}

static int
config_set_wl_query(struct config_parse *p, const char *v, char **cause)
{
	struct config_watchlist *w = p->obj;

	(void)cause;
	free(w->query);
	w->query = xstrdup(v);
	w->query_line = p->line;
	return 0;
}

static int
config_set_wl_feeds(struct config_parse *p, const char *v, char **cause)
{
	struct config_watchlist *w = p->obj;

	(void)cause;
	config_list_free(w->feeds);
	w->feeds = config_list(v);
	w->feeds_line = p->line;
	return 0;
}

static int
config_set_wl_hooks(struct config_parse *p, const char *v, char **cause)
{
	struct config_watchlist *w = p->obj;

	(void)cause;
	config_list_free(w->hooks);
	w->hooks = config_list(v);
	w->hooks_line = p->line;
	return 0;
}

/* Can path be run: a regular file we may execute? */
static int
config_hook_program(const char *path, char **cause)
{
	struct stat sb;

	if (stat(path, &sb) == -1 || access(path, X_OK) == -1) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(sb.st_mode)) {
		xasprintf(cause, "%s: not a regular file", path);
		return -1;
	}
	return 0;
}

/*
 * A program named without a '/' is looked up in PATH when it is run
 * (the daemon's, or the default it gives hooks): it must be there now.
 */
static int
config_hook_in_path(const char *name, char **cause)
{
	const char *path = getenv("PATH"), *dir;
	char *file, *why;
	size_t len;
	int rc = -1;

	if (path == NULL)
		path = CONFIG_DEFAULT_PATH;
	for (dir = path; rc == -1 && dir != NULL;) {
		len = strcspn(dir, ":");
		/* An empty element is the current directory, as for execvp. */
		xasprintf(&file, "%.*s/%s", len > 0 ? (int)len : 1,
		    len > 0 ? dir : ".", name);
		why = NULL;
		rc = config_hook_program(file, &why);
		free(why);
		free(file);
		dir = dir[len] == ':' ? dir + len + 1 : NULL;
	}
	if (rc == -1)
		xasprintf(cause, "%s: not found in PATH (%s)", name, path);
	return rc;
}

static int
config_set_hook_command(struct config_parse *p, const char *v, char **cause)
{
	struct config_hook *h = p->obj;
	char *argv0;

	config_argv_free(h->argv);
	free(h->command);
	h->command = xstrdup(v);
	if ((h->argv = config_split_argv(v, cause)) == NULL)
		return -1;
	if (h->argv[0] == NULL) {
		xasprintf(cause, "empty command");
		return -1;
	}
	if (strchr(h->argv[0], '/') == NULL)
		return config_hook_in_path(h->argv[0], cause);
	argv0 = config_path(p->cfg, h->argv[0]);
	free(h->argv[0]);
	h->argv[0] = argv0;
	return config_hook_program(argv0, cause);
}

static int
config_set_hook_timeout(struct config_parse *p, const char *v, char **cause)
{
	struct config_hook *h = p->obj;

	return config_interval(v, &h->timeout, cause);
}

static int
config_set_hook_retry_min(struct config_parse *p, const char *v, char **cause)
{
	struct config_hook *h = p->obj;

	return config_interval(v, &h->retry_min, cause);
}

static int
config_set_hook_retry_max(struct config_parse *p, const char *v, char **cause)
{
	struct config_hook *h = p->obj;

	return config_interval(v, &h->retry_max, cause);
}

static int
config_set_hook_concurrency(struct config_parse *p, const char *v, char **cause)
{
	struct config_hook *h = p->obj;
	long long n;

	if (config_number(v, 1, CONFIG_MAX_CONCURRENCY, &n, cause) == -1)
		return -1;
	h->concurrency = (int)n;
	return 0;
}

/* rate = N/UNIT: N runs per s, m, h or d, or per a duration (5/10m). */
static int
config_set_hook_rate(struct config_parse *p, const char *v, char **cause)
{
	struct config_hook *h = p->obj;
	const char *per = strchr(v, '/');
	char *num, *period, *why = NULL;
	long long n = 0;
	int rc = -1;

	if (per == NULL) {
		xasprintf(cause, "\"%s\" is not N/UNIT (e.g. 30/h, 100/d)", v);
		return -1;
	}
	num = xstrndup(v, (size_t)(per - v));
	per++;
	xasprintf(
	    &period, "%s%s", isdigit((unsigned char)*per) ? "" : "1", per);
	if (config_number(num, 1, CONFIG_MAX_RATE, &n, &why) == 0 &&
	    config_interval(period, &h->rate_period, &why) == 0)
		rc = 0;
	if (rc == -1)
		xasprintf(cause,
		    "\"%s\" is not N/UNIT with N from 1 to %d and a unit "
		    "of s, m, h, d or a duration up to 7d (e.g. 30/h, 5/10m)",
		    v, CONFIG_MAX_RATE);
	else
		h->rate_count = (int)n;
	free(why);
	free(num);
	free(period);
	return rc;
}

static int
config_set_hook_mode(struct config_parse *p, const char *v, char **cause)
{
	struct config_hook *h = p->obj;

	if (strcmp(v, "each") != 0 && strcmp(v, "digest") != 0) {
		xasprintf(cause, "\"%s\" is not each or digest", v);
		return -1;
	}
	h->is_digest = strcmp(v, "digest") == 0;
	return 0;
}

static int
config_set_hook_every(struct config_parse *p, const char *v, char **cause)
{
	struct config_hook *h = p->obj;

	return config_interval(v, &h->every, cause);
}

static int
config_minutes_cmp(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* Parse "H:MM" or "HH:MM" into minutes after midnight. */
static int
config_time_of_day(const char *t, int *minutes)
{
	size_t d = strspn(t, "0123456789");
	int hh, mm;

	if (d < 1 || d > 2 || t[d] != ':' ||
	    strspn(t + d + 1, "0123456789") != 2 || t[d + 3] != '\0')
		return -1;
	hh = atoi(t);
	mm = atoi(t + d + 1);
	if (hh > 23 || mm > 59)
		return -1;
	*minutes = hh * 60 + mm;
	return 0;
}

/* at = HH:MM, ...: local times of day, kept sorted, without repeats. */
static int
config_set_hook_at(struct config_parse *p, const char *v, char **cause)
{
	struct config_hook *h = p->obj;
	char **times = config_list(v);
	int n, i;

	free(h->at);
	for (n = 0; times[n] != NULL; n++)
		continue;
	h->at = xcalloc(n > 0 ? (size_t)n : 1, sizeof *h->at);
	h->nat = 0;
	for (i = 0; i < n; i++) {
		if (config_time_of_day(times[i], &h->at[h->nat++]) == -1) {
			xasprintf(cause,
			    "\"%s\" is not a time of day from 00:00 to "
			    "23:59",
			    times[i]);
			config_list_free(times);
			return -1;
		}
	}
	config_list_free(times);
	if (h->nat == 0) {
		xasprintf(cause, "no time given (e.g. at = 08:00, 17:00)");
		return -1;
	}
	qsort(h->at, (size_t)h->nat, sizeof *h->at, config_minutes_cmp);
	for (i = n = 1; i < h->nat; i++) {
		if (h->at[i] != h->at[n - 1])
			h->at[n++] = h->at[i];
	}
	h->nat = n;
	return 0;
}

static int
config_set_hook_retries(struct config_parse *p, const char *v, char **cause)
{
	struct config_hook *h = p->obj;
	long long n;

	if (config_number(v, 1, 1000, &n, cause) == -1)
		return -1;
	h->retries = (int)n;
	return 0;
}

/* Create the struct of a named section; NULL when the name is taken. */
static void *
config_section_new(
    struct config *cfg, enum config_section kind, const char *name, int line)
{
	struct config_feed *f;
	struct config_watchlist *w;
	struct config_hook *h;

	switch (kind) {
	case SECTION_FEED:
		TAILQ_FOREACH(f, &cfg->feeds, entry) {
			if (strcmp(f->name, name) == 0)
				return NULL;
		}
		f = xcalloc(1, sizeof *f);
		f->name = xstrdup(name);
		f->line = line;
		f->tags = xcalloc(1, sizeof *f->tags);
		f->adaptive = -1;
		TAILQ_INSERT_TAIL(&cfg->feeds, f, entry);
		return f;
	case SECTION_WATCHLIST:
		TAILQ_FOREACH(w, &cfg->watchlists, entry) {
			if (strcmp(w->name, name) == 0)
				return NULL;
		}
		w = xcalloc(1, sizeof *w);
		w->name = xstrdup(name);
		w->line = line;
		w->feeds = xcalloc(1, sizeof *w->feeds);
		w->hooks = xcalloc(1, sizeof *w->hooks);
		TAILQ_INSERT_TAIL(&cfg->watchlists, w, entry);
		return w;
	case SECTION_HOOK:
		TAILQ_FOREACH(h, &cfg->hooks, entry) {
			if (strcmp(h->name, name) == 0)
				return NULL;
		}
		h = xcalloc(1, sizeof *h);
		h->name = xstrdup(name);
		h->line = line;
		h->timeout = CONFIG_DEFAULT_HOOK_TIMEOUT;
		h->retries = CONFIG_DEFAULT_HOOK_RETRIES;
		h->retry_min = CONFIG_DEFAULT_HOOK_RETRY_MIN;
		h->retry_max = CONFIG_DEFAULT_HOOK_RETRY_MAX;
		h->concurrency = 1;
		TAILQ_INSERT_TAIL(&cfg->hooks, h, entry);
		return h;
	default:
		return NULL;
	}
}

/* Open the section named by a header's text: daemon or kind "name". */
static void
config_section_open(struct config_parse *p, const char *text)
{
	char kind[16], name[256];
	size_t i;
	int n;

	p->kind = SECTION_BAD;
	p->obj = NULL;
	free(p->last_key);
	p->last_key = NULL;
	if (strcmp(text, "daemon") == 0) {
		p->kind = SECTION_DAEMON;
		return;
	}
	if (strcmp(text, "feeds") == 0) {
		p->kind = SECTION_FEEDS;
		return;
	}
	kind[0] = '\0';
	sscanf(text, "%15[a-z]", kind);
	for (i = SECTION_FEED; i <= SECTION_HOOK; i++) {
		if (strcmp(kind, config_section_names[i]) == 0)
			break;
	}
	if (i > SECTION_HOOK) {
		config_error(p, p->line, "unknown section [%s]", text);
		return;
	}
	if (sscanf(text, "%15s \"%255[^\"]\"%n", kind, name, &n) != 2 ||
	    text[n] != '\0') {
		config_error(p, p->line, "section [%s]: expected [%s \"NAME\"]",
		    text, kind);
		return;
	}
	if ((p->obj = config_section_new(p->cfg, i, name, p->line)) == NULL) {
		config_error(
		    p, p->line, "%s \"%s\" is defined twice", kind, name);
		return;
	}
	p->kind = i;
}

/* Look at a raw line before inih does: count it, open sections. */
static void
config_parse_line(struct config_parse *p, const char *line)
{
	const char *s = line + strspn(line, " \t");
	const char *end;
	char *text;

	p->indented = s != line;
	if (strchr(";#\r\n", *s) != NULL || (p->indented && p->last_key))
		return;
	if (*s != '[') {
		if (strpbrk(s, "=:") == NULL) {
			config_error(p, p->line,
			    "expected \"key = value\", "
			    "a [section] or a comment");
			p->syntax_errors++;
		}
		return;
	}
	if ((end = strchr(s, ']')) == NULL) {
		config_error(p, p->line, "section header without ']'");
		p->kind = SECTION_BAD;
		return;
	}
	text = xstrndup(s + 1, (size_t)(end - s - 1));
	config_section_open(p, text);
	free(text);
}

/*
 * Names, queries and URLs go into alerts' JSON, which is UTF-8: a line
 * that is not (a file saved as Latin-1, say) is an error, comments
 * aside.
 */
static void
config_parse_utf8(struct config_parse *p, const char *line, size_t len)
{
	size_t bad = charset_utf8_valid(line, len);

	if (bad == len || line[strspn(line, " \t")] == '#' ||
	    line[strspn(line, " \t")] == ';')
		return;
	config_error(p, p->line,
	    "column %zu: not UTF-8 (byte 0x%02x); save the file as UTF-8",
	    bad + 1, (unsigned char)line[bad]);
}

/* inih's reader: one line per call, like fgets, counting lines. */
static char *
config_parse_reader(char *str, int num, void *arg)
{
	struct config_parse *p = arg;
	ssize_t len;

	if ((len = getline(&p->buf, &p->bufsize, p->f)) == -1)
		return NULL;
	p->line++;
	if (len >= num - 1) {
		config_error(p, p->line,
		    "line longer than %d characters "
		    "(continue a long value on indented lines)",
		    num - 3);
		p->buf[num - 2] = '\n';
		p->buf[num - 1] = '\0';
		len = num - 1;
	}
	if (strlen(p->buf) != (size_t)len)
		config_error(p, p->line, "NUL byte in line");
	else
		config_parse_utf8(p, p->buf, (size_t)len);
	config_parse_line(p, p->buf);
	memcpy(str, p->buf, (size_t)len + 1);
	return str;
}

/* A continuation line of a query: append to the value. */
static int
config_parse_continue(
    struct config_parse *p, const char *name, const char *value)
{
	struct config_watchlist *w = p->obj;
	char *q;

	if (p->kind != SECTION_WATCHLIST || strcmp(name, "query") != 0) {
		config_error(p, p->line,
		    "only query may continue on an "
		    "indented line");
		return 1;
	}
	xasprintf(&q, "%s %s", w->query, value);
	free(w->query);
	w->query = q;
	return 1;
}

static int
config_parse_handler(
    void *arg, const char *section, const char *name, const char *value)
{
	struct config_parse *p = arg;
	char *cause = NULL;
	size_t i;

	(void)section;
	if (p->kind == SECTION_BAD)
		return 1;
	if (p->kind == SECTION_NONE) {
		config_error(p, p->line, "%s: key outside any section", name);
		return 1;
	}
	if (p->indented && p->last_key != NULL &&
	    strcmp(p->last_key, name) == 0)
		return config_parse_continue(p, name, value);
	for (i = 0; i < sizeof config_keys / sizeof config_keys[0]; i++) {
		if (config_keys[i].section == p->kind &&
		    strcmp(config_keys[i].name, name) == 0)
			break;
	}
	if (i == sizeof config_keys / sizeof config_keys[0]) {
		config_error(p, p->line, "unknown key \"%s\" in [%s]", name,
		    config_section_names[p->kind]);
		return 1;
	}
	free(p->last_key);
	p->last_key = xstrdup(name);
	if (config_keys[i].set(p, value, &cause) == -1) {
		config_error(p, p->line, "%s: %s", name, cause);
		free(cause);
	}
	return 1;
}

/* The names a watchlist refers to must exist. */
static void
config_check_refs(struct config_parse *p, struct config_watchlist *w)
{
	struct config_feed *f;
	const char *sel;

	for (size_t i = 0; w->hooks[i] != NULL; i++) {
		if (config_hook_find(p->cfg, w->hooks[i]) == NULL)
			config_error(p, w->hooks_line,
			    "watchlist \"%s\": no "
			    "[hook \"%s\"]",
			    w->name, w->hooks[i]);
	}
	for (size_t i = 0; (sel = w->feeds[i]) != NULL; i++) {
		if (strncmp(sel, "tag:", 4) == 0)
			continue;
		TAILQ_FOREACH(f, &p->cfg->feeds, entry) {
			if (strcmp(f->name, sel) == 0)
				break;
		}
		if (f == NULL)
			config_error(p, w->feeds_line,
			    "watchlist \"%s\": no "
			    "[feed \"%s\"] (use tag:NAME for a tag)",
			    w->name, sel);
	}
}

/* Compile a watchlist's query into the configuration's set. */
static void
config_check_query(struct config_parse *p, struct config_watchlist *w)
{
	struct match_query *q;
	char *cause;

	q = match_query_new(w->query, w->language,
	    w->is_accents_kept ? MATCH_KEEP_ACCENTS : 0, &cause);
	if (q == NULL) {
		config_error(p, w->query_line, "watchlist \"%s\": query: %s",
		    w->name, cause);
		free(cause);
		return;
	}
	if (p->cfg->matcher == NULL)
		p->cfg->matcher = match_set_new();
	match_set_add(p->cfg->matcher, q, w);
}

/* A feed's URL from OPML: a path is relative to the OPML file. */
static char *
config_opml_url(const struct config_opml *c, const char *url)
{
	const char *slash = strrchr(c->path, '/');
	char *out, *path;

	if (strstr(url, "://") != NULL)
		return xstrdup(url);
	if (url[0] == '/' || slash == NULL)
		return url_from_path(url);
	xasprintf(&path, "%.*s/%s", (int)(slash - c->path), c->path, url);
	out = url_from_path(path);
	free(path);
	return out;
}

/* One feed of an OPML file, unless its name is taken. */
static void
config_opml_feed(
    struct config_parse *p, struct config_opml *c, const struct opml_feed *of)
{
	struct config_feed *f;
	size_t n;

	if ((f = config_feed_find(p->cfg, of->name)) != NULL) {
		if (f->opml == NULL)
			config_error(p, c->line,
			    "opml: %s:%d: feed \"%s\" is also [feed \"%s\"] "
			    "at line %d",
			    c->path, of->line, of->name, f->name, f->line);
		else
			config_error(p, c->line,
			    "opml: %s:%d: feed \"%s\" is also in %s:%d (opml "
			    "at line %d)",
			    c->path, of->line, of->name, f->opml, f->opml_line,
			    f->line);
		return;
	}
	f = xcalloc(1, sizeof *f);
	f->name = xstrdup(of->name);
	f->url = config_opml_url(c, of->url);
	for (n = 0; of->tags[n] != NULL; n++)
		continue;
	f->tags = xcalloc(n + 1, sizeof *f->tags);
	for (size_t i = 0; i < n; i++)
		f->tags[i] = xstrdup(of->tags[i]);
	f->line = c->line;
	f->opml = c->path;
	f->opml_line = of->line;
	f->adaptive = -1;
	TAILQ_INSERT_TAIL(&p->cfg->feeds, f, entry);
}

/* Append the feeds of each OPML file, after the [feed] sections. */
static void
config_load_opml(struct config_parse *p)
{
	struct config_opml *c;
	struct opml *o;
	char *cause;

	TAILQ_FOREACH(c, &p->cfg->opml, entry) {
		if ((p->flags & CONFIG_OPML_MAY_BE_MISSING) &&
		    access(c->path, F_OK) == -1 && errno == ENOENT)
			continue;
		if ((o = opml_load(c->path, &cause)) == NULL) {
			config_error(p, c->line, "opml: %s", cause);
			free(cause);
			continue;
		}
		for (size_t i = 0; i < o->nfeeds; i++)
			config_opml_feed(p, c, &o->feeds[i]);
		opml_free(o);
	}
}

/*
 * A digest needs its period, every or at; the keys of one mode are
 * errors in the other.
 */
static void
config_check_mode(struct config_parse *p, struct config_hook *h)
{
	if (h->is_digest && h->every == 0 && h->nat == 0)
		config_error(p, h->line,
		    "hook \"%s\": mode = digest needs every (e.g. 1h) or at "
		    "(e.g. 08:00, 17:00)",
		    h->name);
	else if (h->every != 0 && h->nat != 0)
		config_error(p, h->line,
		    "hook \"%s\": give every or at, not both", h->name);
	else if (!h->is_digest && (h->every != 0 || h->nat != 0))
		config_error(p, h->line,
		    "hook \"%s\": every and at need mode = digest", h->name);
	else if (h->is_digest && (h->concurrency != 1 || h->rate_count != 0))
		config_error(p, h->line,
		    "hook \"%s\": concurrency and rate are for mode = each; "
		    "a digest runs once per period",
		    h->name);
}

/* Checks that need the whole file: required keys, compiled queries. */
static void
config_check(struct config_parse *p)
{
	struct config_feed *f;
	struct config_watchlist *w;
	struct config_hook *h;

	/* Watchlists may name OPML feeds: a broken list would mislead. */
	config_load_opml(p);
	if (p->errors != NULL)
		return;

	if (p->cfg->min_interval > p->cfg->max_interval)
		config_error(
		    p, p->interval_line, "min_interval is above max_interval");
	else if (p->cfg->interval < p->cfg->min_interval ||
	    p->cfg->interval > p->cfg->max_interval)
		config_error(p, p->interval_line,
		    "interval %ds is outside min_interval..max_interval "
		    "(%ds..%ds)",
		    p->cfg->interval, p->cfg->min_interval,
		    p->cfg->max_interval);
	TAILQ_FOREACH(f, &p->cfg->feeds, entry) {
		if (f->url == NULL)
			config_error(
			    p, f->line, "feed \"%s\" has no url", f->name);
		if (f->interval != 0 &&
		    (f->interval < p->cfg->min_interval ||
			f->interval > p->cfg->max_interval))
			config_error(p, f->line,
			    "feed \"%s\": interval %ds is outside "
			    "min_interval..max_interval (%ds..%ds)",
			    f->name, f->interval, p->cfg->min_interval,
			    p->cfg->max_interval);
	}
	for (size_t i = 0; p->cfg->health_hooks[i] != NULL; i++) {
		if (config_hook_find(p->cfg, p->cfg->health_hooks[i]) == NULL)
			config_error(p, p->cfg->health_hooks_line,
			    "health_hooks: no [hook \"%s\"]",
			    p->cfg->health_hooks[i]);
	}
	TAILQ_FOREACH(h, &p->cfg->hooks, entry) {
		if (h->command == NULL)
			config_error(
			    p, h->line, "hook \"%s\" has no command", h->name);
		config_check_mode(p, h);
	}
	TAILQ_FOREACH(w, &p->cfg->watchlists, entry) {
		config_check_refs(p, w);
		if (w->query == NULL) {
			config_error(p, w->line,
			    "watchlist \"%s\" has no "
			    "query",
			    w->name);
			continue;
		}
		config_check_query(p, w);
	}
}

static struct config *
config_new(const char *path)
{
	struct config *cfg;
	char *abs, *slash;

	cfg = xcalloc(1, sizeof *cfg);
	cfg->path = xstrdup(path);
	/* Relative paths in the file are relative to its real directory. */
	if ((abs = realpath(path, NULL)) == NULL)
		abs = xstrdup(path);
	if ((slash = strrchr(abs, '/')) == NULL)
		cfg->dir = xstrdup(".");
	else if (slash == abs)
		cfg->dir = xstrdup("/");
	else
		cfg->dir = xstrndup(abs, (size_t)(slash - abs));
	free(abs);
	cfg->database = xstrdup(CONFIG_DEFAULT_DATABASE);
	cfg->interval = CONFIG_DEFAULT_INTERVAL;
	cfg->max_fetches = CONFIG_DEFAULT_MAX_FETCHES;
	cfg->max_hooks = CONFIG_DEFAULT_MAX_HOOKS;
	cfg->min_interval = CONFIG_DEFAULT_MIN_INTERVAL;
	cfg->max_interval = CONFIG_DEFAULT_MAX_INTERVAL;
	cfg->unhealthy_after = CONFIG_DEFAULT_UNHEALTHY_AFTER;
	cfg->health_hooks = config_list("");
	cfg->max_per_host = CONFIG_DEFAULT_MAX_PER_HOST;
	cfg->fetch.timeout = CONFIG_DEFAULT_FETCH_TIMEOUT;
	cfg->fetch.connect_timeout = CONFIG_DEFAULT_CONNECT_TIMEOUT;
	cfg->fetch.low_speed_limit = CONFIG_DEFAULT_LOW_SPEED_LIMIT;
	cfg->fetch.low_speed_time = CONFIG_DEFAULT_LOW_SPEED_TIME;
	cfg->fetch.max_body = CONFIG_DEFAULT_MAX_BODY;
	cfg->max_entries = PARSE_MAX_ENTRIES;
	cfg->max_depth = PARSE_MAX_DEPTH;
	cfg->dedup_distance = DEDUP_MAX_DISTANCE;
	cfg->dedup_window = CONFIG_DEFAULT_DEDUP_WINDOW;
	cfg->retention = CONFIG_DEFAULT_RETENTION;
	TAILQ_INIT(&cfg->feeds);
	TAILQ_INIT(&cfg->opml);
	TAILQ_INIT(&cfg->watchlists);
	TAILQ_INIT(&cfg->hooks);
	return cfg;
}

struct config *
config_load(const char *path, char **cause)
{
	return config_load_flags(path, 0, cause);
}

struct config *
config_load_flags(const char *path, int flags, char **cause)
{
	struct config_parse p;
	int rc;

	memset(&p, 0, sizeof p);
	p.flags = flags;
	p.cfg = config_new(path);
	if ((p.f = fopen(path, "re")) == NULL) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		config_free(p.cfg);
		return NULL;
	}
	rc =
	    ini_parse_stream(config_parse_reader, &p, config_parse_handler, &p);
	fclose(p.f);
	free(p.buf);
	free(p.last_key);
	/* inih's own syntax errors: a line that is not "key = value". */
	if (rc > 0 && p.syntax_errors == 0)
		config_error(&p, rc,
		    "expected \"key = value\", a section or "
		    "a comment");
	else if (rc < 0)
		config_error(&p, 0, "inih failed (%d)", rc);
	if (p.errors == NULL)
		config_check(&p);
	if (p.errors != NULL) {
		*cause = p.errors;
		config_free(p.cfg);
		return NULL;
	}
	return p.cfg;
}

void
config_free(struct config *cfg)
{
	struct config_feed *f;
	struct config_opml *o;
	struct config_watchlist *w;
	struct config_hook *h;

	if (cfg == NULL)
		return;
	while ((f = TAILQ_FIRST(&cfg->feeds)) != NULL) {
		TAILQ_REMOVE(&cfg->feeds, f, entry);
		free(f->name);
		free(f->url);
		free(f->encoding);
		free(f->fetch.ca_file);
		free(f->fetch.proxy);
		config_list_free(f->tags);
		free(f);
	}
	while ((o = TAILQ_FIRST(&cfg->opml)) != NULL) {
		TAILQ_REMOVE(&cfg->opml, o, entry);
		free(o->path);
		free(o);
	}
	while ((w = TAILQ_FIRST(&cfg->watchlists)) != NULL) {
		TAILQ_REMOVE(&cfg->watchlists, w, entry);
		free(w->name);
		free(w->query);
		free(w->language);
		config_list_free(w->feeds);
		config_list_free(w->hooks);
		free(w);
	}
	while ((h = TAILQ_FIRST(&cfg->hooks)) != NULL) {
		TAILQ_REMOVE(&cfg->hooks, h, entry);
		free(h->name);
		free(h->command);
		config_argv_free(h->argv);
		free(h->at);
		free(h);
	}
	match_set_free(cfg->matcher);
	config_list_free(cfg->tracking_params);
	config_list_free(cfg->health_hooks);
	free(cfg->fetch.ca_file);
	free(cfg->fetch.proxy);
	free(cfg->path);
	free(cfg->dir);
	free(cfg->database);
	free(cfg->user_agent);
	free(cfg->metrics);
	free(cfg);
}

void
config_feed_fetch(const struct config *cfg, const struct config_feed *f,
    struct config_fetch *out)
{
	const struct config_fetch *d = &cfg->fetch, *o = &f->fetch;

	out->timeout = o->timeout != 0 ? o->timeout : d->timeout;
	out->connect_timeout =
	    o->connect_timeout != 0 ? o->connect_timeout : d->connect_timeout;
	out->low_speed_limit =
	    o->low_speed_limit != 0 ? o->low_speed_limit : d->low_speed_limit;
	out->low_speed_time =
	    o->low_speed_time != 0 ? o->low_speed_time : d->low_speed_time;
	out->max_body = o->max_body != 0 ? o->max_body : d->max_body;
	out->ca_file = o->ca_file != NULL ? o->ca_file : d->ca_file;
	out->proxy = o->proxy != NULL ? o->proxy : d->proxy;
}

int
config_feed_interval(const struct config *cfg, const struct config_feed *f)
{
	return f->interval != 0 ? f->interval : cfg->interval;
}

int
config_feed_adaptive(const struct config *cfg, const struct config_feed *f)
{
	if (f->interval != 0)
		return 0;
	return f->adaptive != -1 ? f->adaptive : cfg->is_adaptive;
}

struct config_feed *
config_feed_find(const struct config *cfg, const char *name)
{
	struct config_feed *f;

	TAILQ_FOREACH(f, &cfg->feeds, entry) {
		if (strcmp(f->name, name) == 0)
			return f;
	}
	return NULL;
}

struct config_hook *
config_hook_find(const struct config *cfg, const char *name)
{
	struct config_hook *h;

	TAILQ_FOREACH(h, &cfg->hooks, entry) {
		if (strcmp(h->name, name) == 0)
			return h;
	}
	return NULL;
}

int
config_watchlist_wants(
    const struct config_watchlist *w, const struct config_feed *f)
{
	const char *sel;

	if (w->feeds[0] == NULL)
		return 1;
	for (size_t i = 0; (sel = w->feeds[i]) != NULL; i++) {
		if (strncmp(sel, "tag:", 4) != 0) {
			if (strcmp(sel, f->name) == 0)
				return 1;
			continue;
		}
		for (size_t j = 0; f->tags[j] != NULL; j++) {
			if (strcmp(sel + 4, f->tags[j]) == 0)
				return 1;
		}
	}
	return 0;
}

time_t
config_digest_due(const struct config_hook *h, time_t since)
{
	struct tm day, tm;
	time_t t, best = 0;

	if (h->every != 0 || h->nat == 0)
		return since + h->every;
	localtime_r(&since, &day);
	/* Today's times, else tomorrow's; a day more for DST's sake. */
	for (int d = 0; d < 3 && best == 0; d++) {
		for (int i = 0; i < h->nat; i++) {
			tm = day;
			tm.tm_mday += d;
			tm.tm_hour = h->at[i] / 60;
			tm.tm_min = h->at[i] % 60;
			tm.tm_sec = 0;
			tm.tm_isdst = -1;
			if ((t = mktime(&tm)) > since &&
			    (best == 0 || t < best))
				best = t;
		}
	}
	return best != 0 ? best : since + 24 * 3600;
}

/* Append one argument to a NULL-terminated vector. */
static char **
config_argv_push(char **argv, size_t *n, const char *arg, size_t len)
{
	argv = xreallocarray(argv, *n + 2, sizeof *argv);
	argv[(*n)++] = xstrndup(arg, len);
	argv[*n] = NULL;
	return argv;
}

char **
config_split_argv(const char *cmd, char **cause)
{
	char **argv = xcalloc(1, sizeof *argv), *word, quote;
	size_t n = 0, len;
	int in_word;

	word = xmalloc(strlen(cmd) + 1);
	for (const char *s = cmd;;) {
		s += strspn(s, " \t\n");
		if (*s == '\0')
			break;
		len = 0;
		in_word = 1;
		quote = '\0';
		for (; *s != '\0' && in_word; s++) {
			if (quote == '\'' && *s != '\'')
				word[len++] = *s;
			else if (*s == '\\' && quote != '\'' && s[1] != '\0')
				word[len++] = *++s;
			else if (quote != '\0' && *s == quote)
				quote = '\0';
			else if (quote == '\0' && (*s == '\'' || *s == '"'))
				quote = *s;
			else if (quote == '\0' && strchr(" \t\n", *s) != NULL)
				in_word = 0;
			else
				word[len++] = *s;
		}
		if (quote != '\0') {
			xasprintf(cause, "unterminated %c quote", quote);
			free(word);
			config_argv_free(argv);
			return NULL;
		}
		argv = config_argv_push(argv, &n, word, len);
	}
	free(word);
	return argv;
}

void
config_argv_free(char **argv)
{
	config_list_free(argv);
}
