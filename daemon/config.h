#ifndef FEEDWATCH_CONFIG_H
#define FEEDWATCH_CONFIG_H

#include <sys/queue.h>

#include <stddef.h>
#include <time.h>

/*
 * The configuration: an INI file (inih) with [daemon], [feed "name"],
 * [feeds], [watchlist "name"] and [hook "name"] sections. Relative paths
 * in it (database, file feeds, OPML files, hook programs) are relative
 * to its directory. The feeds of the OPML files that [feeds] names come
 * after those of the [feed] sections.
 */

struct match_set;

/*
 * How a feed is fetched: [daemon] sets the defaults, a [feed] section
 * may override each; 0 or NULL in a feed's copy means "the daemon's".
 */
struct config_fetch {
	int timeout;	     /* seconds for a whole transfer */
	int connect_timeout; /* seconds */
	int low_speed_limit; /* bytes per second ... */
	int low_speed_time;  /* ... for this many seconds, then give up */
	size_t max_body;     /* bytes, after decompression */
	char *ca_file;	     /* PEM bundle to verify TLS with */
	char *proxy;	     /* "" = none, NULL = libcurl's environment */
};

struct config_feed {
	char *name;
	char *url;
	int interval; /* seconds, 0 = the daemon's */
	int adaptive; /* -1 = the daemon's, 0 = no, 1 = yes */
	struct config_fetch fetch;
	char **tags;	/* NULL-terminated */
	char *encoding; /* overrides what the feed declares, NULL = none */
	int line;	/* of its section, or of the opml key it came from */
	char *opml;	/* its OPML file (a config_opml's path), NULL = none */
	int opml_line;	/* of its outline in that file */
	TAILQ_ENTRY(config_feed) entry;
};

/* An OPML file of feeds, named by an opml key of [feeds]. */
struct config_opml {
	char *path; /* absolute */
	int line;   /* of the opml key */
	TAILQ_ENTRY(config_opml) entry;
};

struct config_watchlist {
	char *name;
	char *query;
	char *language; /* Snowball stemmer, NULL = none */
	int is_accents_kept;
	char **feeds; /* names and "tag:T"; NULL-terminated, empty = all */
	char **hooks; /* NULL-terminated */
	int line;     /* of the section header */
	int query_line;
	int feeds_line;
	int hooks_line;
	TAILQ_ENTRY(config_watchlist) entry;
};

#define CONFIG_MAX_CONCURRENCY 64 /* a hook's concurrency, at most */

struct config_hook {
	char *name;
	char *command;
	char **argv;	 /* split from command, argv[0] resolved */
	int timeout;	 /* seconds */
	int retries;	 /* attempts before an alert is failed */
	int retry_min;	 /* seconds before a first retry */
	int retry_max;	 /* seconds between retries, at most */
	int concurrency; /* runs at once */
	int rate_count;	 /* runs per rate_period, 0 = no limit */
	int rate_period; /* seconds */
	int is_digest;	 /* mode = digest: one run per period */
	int every;	 /* seconds between digests, 0 = at times */
	int *at;	 /* digest times, minutes after local midnight */
	int nat;	 /* sorted, no repeats */
	int line;
	TAILQ_ENTRY(config_hook) entry;
};

struct config {
	char *path;
	char *dir; /* directory of path, for relative paths */
	char *database;
	int interval;	     /* seconds between polls of a feed */
	int min_interval;    /* seconds: no feed is polled more often */
	int max_interval;    /* seconds: backoff and adaptive polling cap */
	int is_adaptive;     /* poll busy feeds more often, quiet ones less */
	int unhealthy_after; /* seconds of failure before a health alert */
	char **health_hooks; /* NULL-terminated, may be empty */
	int health_hooks_line;
	int max_fetches;  /* concurrent transfers */
	int max_hooks;	  /* hook processes at once */
	int max_per_host; /* concurrent transfers to one host */
	struct config_fetch fetch;
	size_t max_entries; /* entries read from one document */
	int max_depth;	    /* element nesting in a document */
	int dedup_distance; /* bits between near-duplicate stories */
	int dedup_window;   /* seconds a story can be joined for */
	int retention;	    /* seconds a story's text is kept, 0 = for ever */
	char **tracking_params; /* more query parameters URLs drop */
	char *user_agent;
	char *metrics; /* ADDRESS:PORT serving /metrics, NULL = off */
	TAILQ_HEAD(, config_feed) feeds;
	TAILQ_HEAD(, config_opml) opml; /* in the order of the keys */
	TAILQ_HEAD(, config_watchlist) watchlists;
	struct match_set *matcher; /* every watchlist's query; the arg of
				      each is its struct config_watchlist */
	TAILQ_HEAD(, config_hook) hooks;
};

/*
 * Load and check a configuration file. Return it (free with
 * config_free), or NULL with *cause holding every error found, one per
 * line as "FILE:LINE: message" (caller frees).
 */
struct config *config_load(const char *path, char **cause);
/* For config_load_flags: an OPML file that does not exist has no feeds. */
#define CONFIG_OPML_MAY_BE_MISSING 0x1
/* config_load with flags, for the command line tool that creates it. */
struct config *config_load_flags(const char *path, int flags, char **cause);
void config_free(struct config *);
/* Fill *out with the feed's fetch settings, its own or the daemon's;
 * strings stay owned by the configuration. */
void config_feed_fetch(const struct config *, const struct config_feed *,
    struct config_fetch *out);
/* Return the feed's interval in seconds: its own, else [daemon]'s. */
int config_feed_interval(const struct config *, const struct config_feed *);
/* Return 1 when the feed's interval adapts to how often it publishes
 * (never for a feed with an interval of its own). */
int config_feed_adaptive(const struct config *, const struct config_feed *);
struct config_feed *config_feed_find(const struct config *, const char *);
struct config_hook *config_hook_find(const struct config *, const char *);
/* Return 1 when the watchlist applies to the feed (by name or tag). */
int config_watchlist_wants(
    const struct config_watchlist *, const struct config_feed *);
/*
 * Split a command line into a NULL-terminated argv with shell-like
 * quoting ('single', "double", backslash), no expansion. Return it
 * (free with config_argv_free), or NULL with *cause.
 */
char **config_split_argv(const char *cmd, char **cause);
void config_argv_free(char **);
/*
 * Return when a digest hook's digest after since is due: every seconds
 * later, or at the first of its at times (local time) after since.
 */
time_t config_digest_due(const struct config_hook *, time_t since);
/*
 * Return the comma- or space-separated words of s (NULL: none) as a
 * NULL-terminated list; free with config_list_free. Cannot fail.
 */
char **config_list(const char *s);
void config_list_free(char **);
/* Parse a duration ("90", "15m", "2h", "1d", "1h30m") into seconds. */
int config_duration(const char *s, int *out);

#endif
