#ifndef FEEDWATCH_CONFIG_H
#define FEEDWATCH_CONFIG_H

#include <sys/queue.h>

#include <stddef.h>
#include <time.h>

/*
 * The configuration: an INI file (inih) with [daemon], [feed "name"],
 * [watchlist "name"] and [hook "name"] sections. Relative paths in it
 * (database, file feeds, hook programs) are relative to its directory.
 */

struct match_set;

struct config_feed {
	char *name;
	char *url;
	int interval;	/* seconds, 0 = the daemon's */
	char **tags;	/* NULL-terminated */
	char *encoding; /* overrides what the feed declares, NULL = none */
	int line;
	TAILQ_ENTRY(config_feed) entry;
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
	int interval;	    /* seconds between polls of a feed */
	int max_fetches;    /* concurrent transfers */
	int max_hooks;	    /* hook processes at once */
	int fetch_timeout;  /* seconds for a whole transfer */
	size_t max_body;    /* bytes */
	size_t max_entries; /* entries read from one document */
	int max_depth;
	int dedup_distance; /* bits between near-duplicate stories */
	int dedup_window;   /* seconds a story can be joined for */
	int retention;	    /* seconds a story's text is kept, 0 = for ever */
	char **tracking_params;
	/* more query parameters URLs drop */ /* element nesting in a
						 document */
	char *user_agent;
	TAILQ_HEAD(, config_feed) feeds;
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
void config_free(struct config *);
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
/* Parse a duration ("90", "15m", "2h", "1d", "1h30m") into seconds. */
int config_duration(const char *s, int *out);

#endif
