#ifndef FEEDWATCH_STORE_H
#define FEEDWATCH_STORE_H

#include <stdint.h>
#include <time.h>

/*
 * The story log in SQLite: feeds and their fetch state, stories,
 * matches and the alert outbox. The only module that speaks SQL.
 * Every function that can fail returns -1 (or NULL) and sets *cause
 * (caller frees) with SQLite's own words.
 */

#define STORE_SCHEMA_VERSION 14

struct store;
struct entry;

/* A feed's row: what the scheduler and fetcher need to resume. */
struct store_feed {
	int64_t id;
	char *etag; /* NULL = none */
	char *last_modified;
	time_t next_poll;     /* UTC seconds, 0 = now */
	int failures;	      /* consecutive */
	char *moved_url;      /* where a permanent redirect sent it, or NULL */
	time_t gone_at;	      /* when it answered 410 Gone, 0 = never */
	time_t failing_since; /* first of the current failures, 0 = none */
	int poll_interval;    /* seconds adaptive polling chose, 0 = none */
	char *health;	      /* the incident last alerted, or NULL */
};

/* The outcome of one fetch, for the feed's row. */
struct store_fetch {
	time_t when;
	int http_status;   /* 0 = no HTTP answer */
	const char *error; /* NULL on success */
	const char *etag;
	const char *last_modified;
	time_t next_poll;
	int items; /* entries in the document, -1 = not read (304) */
	const char *moved_url; /* new home after permanent redirects */
	int is_gone;	       /* it answered 410 Gone */
	int poll_interval;     /* seconds adaptive polling chose, 0 = none */
	int retry_after;       /* seconds the server asked (not stored) */
};

/* A feed's state as `feedwatch feeds` shows it, lent to a callback. */
struct store_feed_row {
	const char *name;
	const char *url;
	time_t last_attempt; /* 0 = never */
	time_t last_success; /* 0 = never */
	int http_status;     /* 0 = none */
	int failures;	     /* consecutive */
	const char *last_error;
	time_t next_poll;
	int items;
	int stories;
	const char *moved_url; /* NULL = not moved */
	time_t gone_at;	       /* 0 = not gone */
	time_t failing_since;  /* 0 = not failing */
	int poll_interval;     /* 0 = the configured interval */
};

/* A story as the log keeps it: plain text, absolute link. */
struct store_story {
	const char *key; /* identity within its feed */
	const char *guid;
	const char *title;
	const char *url;
	const char *summary;
	time_t published;	   /* -1 = unknown */
	time_t first_seen;	   /* UTC seconds, 0 = now */
	const char *canonical_url; /* NULL = none */
	uint64_t simhash;	   /* of title and text */
	uint64_t content_hash;	   /* of title and text exactly, for edits */
	int64_t cluster;	   /* the story it joins, 0 = a new story */
	const char *joined;	   /* why it joins ("same URL", "distance 2") */
};

/* A story already known by its key in its feed. */
struct store_known {
	int64_t id;
	int64_t cluster; /* the cluster's first story */
	uint64_t content_hash;
};

/* A further source of an alert's story. */
struct store_source {
	char *feed;
	char *url;
	char *joined;
};

/* An alert due for delivery, with what the hook is told. */
struct store_alert {
	int64_t id;
	char *alert_id;
	char *watchlist;
	char *hook;
	int attempts;
	int64_t story_id;
	char *title;
	char *url;
	char *summary;
	time_t published; /* -1 = unknown */
	char *feed_name;
	char *feed_url;
	char *matched; /* JSON array of the terms */
	char *snippet;
	time_t counted_at; /* when a failed attempt last counted */
	char *payload;	   /* a feed-health alert's JSON; NULL for a story's */
	struct store_source *sources; /* the cluster's other stories */
	int nsources;
};

/* A digest hook's period, and the digest being sent if there is one. */
struct store_digest {
	time_t period_start; /* where the last digest sent ended */
	time_t period_end;   /* of the digest being sent, 0 = none */
	int pending;	     /* its alerts still pending */
	time_t next_attempt; /* the earliest of theirs */
};

/* A hook process, and the daemon that runs it. */
struct store_run {
	int64_t pid;	 /* its process group too */
	int64_t started; /* its start, clock ticks after boot (/proc) */
	int64_t daemon;
	int64_t daemon_started;
};

/* Alert states in the outbox. */
#define STORE_ALERT_PENDING "pending"
#define STORE_ALERT_DELIVERED "delivered"
#define STORE_ALERT_FAILED "failed"

/*
 * Open (creating if needed) the database at path in WAL mode and
 * migrate it to STORE_SCHEMA_VERSION, and its full-text index in
 * path.fts, which a thread of the store's own brings up to date with
 * the log every 1,000 stories or edits, and before a search. Return
 * it, or NULL with *cause.
 */
struct store *store_open(const char *path, char **cause);
/* Let the full-text index catch up, then close both; accepts NULL. */
void store_close(struct store *);
/*
 * How the log's WAL was checkpointed since store_open: by the full-text
 * index's thread, finished by the writer (the pages its commits added
 * meanwhile), by the writer alone (the thread had fallen behind or a
 * reader held the pages), the writer's seconds in them, and the pages
 * the WAL held after the last commit.
 */
struct store_checkpoints {
	uint64_t by_thread;
	uint64_t finished;
	uint64_t alone;
	double seconds;
	int wal_pages;
};

void store_checkpoint_stats(struct store *, struct store_checkpoints *);
/*
 * Checkpoint past pages pages of WAL (0: the default, 30,000) rather
 * than the default: for tests, which cannot write 120 MB at each turn.
 */
void store_set_checkpoint(struct store *, int pages);
/* Return the schema version of the open database (PRAGMA user_version). */
int store_schema_version(struct store *);
int store_plan_check(struct store *, char **cause);

int store_begin(struct store *, char **cause);
/*
 * Commit; once 1,000 stories or edits have gathered, have the full-text
 * index follow them, waiting while it is still on its batch before.
 * Return 0 or -1.
 */
int store_commit(struct store *, char **cause);
/*
 * Roll back the open transaction, if any: call it after any failure
 * in one, SQLite having maybe rolled it back already. Cannot fail.
 */
void store_rollback(struct store *);

/*
 * Fill *f with the feed's row, creating it when name is new and updating
 * its url. Free with store_feed_clear. Return 0 or -1.
 */
int store_feed_get(struct store *, const char *name, const char *url,
    struct store_feed *f, char **cause);
void store_feed_clear(struct store_feed *);
/* Call cb for every feed the log knows, by name. Return 0 or -1. */
int store_feeds(struct store *,
    void (*cb)(const struct store_feed_row *, void *), void *arg, char **cause);
/* Record the outcome of a fetch of feed id. Return 0 or -1. */
int store_feed_fetched(
    struct store *, int64_t id, const struct store_fetch *, char **cause);

/*
 * Look up the story with this key in feed id: *found is 1 and *k filled
 * when there is one. Return 0 or -1.
 */
int store_story_known(struct store *, int64_t feed_id, const char *key,
    struct store_known *k, int *found, char **cause);
/*
 * Does feed id hold a story with this content hash, and with this
 * canonical URL unless url is NULL? A feed that re-issues its guids is
 * told by it: the same link and words under a new guid. Under the same
 * link, other words are another story (a live blog's next update, an
 * edit under a new guid), which joins the first one's cluster.
 */
int store_story_seen(struct store *, int64_t feed_id, const char *url,
    uint64_t content_hash, int *found, char **cause);
/*
 * Find the cluster a new story joins: the first story with the same
 * canonical URL, else one seen since since whose fingerprint is within
 * max_distance. Set *cluster (0 = none) and *distance (-1 for the URL).
 */
int store_cluster_find(struct store *, const char *url, uint64_t simhash,
    int max_distance, time_t since, int64_t *cluster, int *distance,
    char **cause);
/* Replace a known story's title, text and content hash (an edit). */
int store_story_update(
    struct store *, int64_t id, const struct store_story *, char **cause);
/*
 * Record that a watchlist fired for a cluster. *is_first is 1 when it
 * had not before: only then does the match alert. Return 0 or -1.
 */
int store_cluster_claim(struct store *, int64_t cluster, const char *watchlist,
    int *is_first, char **cause);
/*
 * Add a story to feed id unless its key is known. Set *story_id, and
 * *is_new to 1 when it was added. Return 0 or -1.
 */
int store_story_add(struct store *, int64_t feed_id, const struct store_story *,
    int64_t *story_id, int *is_new, char **cause);
/* Record that a watchlist matched a story. Return 0 or -1. */
int store_match_add(struct store *, int64_t story_id, const char *watchlist,
    const char *matched_json, const char *snippet, char **cause);
/*
 * Queue a feed-health alert for hook: payload is its JSON object (kind,
 * feed, state, error, ...; see alert.c). Return 0 or -1.
 */
int store_health_alert_add(struct store *, const char *hook,
    const char *payload, time_t now, char **cause);
/* Record the feed-health incident last alerted (NULL: none). */
int store_feed_health(
    struct store *, int64_t feed_id, const char *health, char **cause);
/* Queue an alert for a hook in the outbox. Return 0 or -1. */
int store_alert_add(struct store *, int64_t story_id, const char *watchlist,
    const char *hook, time_t now, char **cause);

/*
 * Return pending alerts with an id above after_id that are due at now
 * (every one when now is 0), oldest first, at most max; *n is how many.
 * Free with store_alerts_free. Return NULL with *n = 0 when there are
 * none, or on error with *cause set.
 */
struct store_alert *store_alerts_due(struct store *, time_t now,
    int64_t after_id, int max, int *n, char **cause);
/* Like store_alerts_due, for the alerts of one hook. */
struct store_alert *store_hook_alerts_due(struct store *, const char *hook,
    time_t now, int64_t after_id, int max, int *n, char **cause);
/*
 * Fill ids with those of the alerts store_hook_alerts_due would return,
 * without reading them. Return how many, or -1.
 */
int store_hook_alert_ids(struct store *, const char *hook, time_t now,
    int64_t after_id, int64_t *ids, int max, char **cause);
/* Return the alert id (free with store_alerts_free, n 1), or NULL. */
struct store_alert *store_alert_get(struct store *, int64_t id, char **cause);
void store_alerts_free(struct store_alert *, int n);
/* Call cb with each hook that has pending alerts. Return 0 or -1. */
int store_alert_hooks(
    struct store *, void (*cb)(const char *, void *), void *arg, char **cause);
/*
 * Fill when (oldest first) with the times of the hook's last deliveries
 * at or after since, at most max. Return how many, or -1.
 */
int store_hook_deliveries(struct store *, const char *hook, time_t since,
    time_t *when, int max, char **cause);
/* Mark an alert delivered. Return 0 or -1. */
int store_alert_delivered(struct store *, int64_t id, time_t now, char **cause);
/*
 * Record a failed attempt with its reason: the alert stays pending until
 * next_attempt, or becomes failed once it has had max_attempts. When
 * counts is 0 (a hook asked for a later try), the attempt is not
 * counted toward max_attempts.
 */
int store_alert_attempt_failed(struct store *, int64_t id, const char *error,
    time_t next_attempt, int max_attempts, int counts, char **cause);
/*
 * Digests. A digest hook's period starts where its last digest ended
 * (or at now, the first time store_digest_get sees the hook). The
 * digest being sent is known by its period's end: its alerts carry it,
 * so that a failed digest is retried as a whole, across restarts too.
 */

/* Fill *d with the hook's digest state. Return 0 or -1. */
int store_digest_get(struct store *, const char *hook, time_t now,
    struct store_digest *d, char **cause);
/*
 * Open the digest ending at period_end with up to max of the hook's
 * pending alerts not in it yet, oldest first; *n is how many. With none,
 * nothing changes. Return 0 or -1.
 */
int store_digest_open(struct store *, const char *hook, time_t period_end,
    int max, int *n, char **cause);
/* Return the pending alerts of the digest, as store_alerts_due does. */
struct store_alert *store_digest_alerts(
    struct store *, const char *hook, time_t period_end, int *n, char **cause);
/*
 * Mark the digest's pending alerts delivered and start the next period
 * at period_end, in one transaction. Return 0 or -1.
 */
int store_digest_delivered(struct store *, const char *hook, time_t period_end,
    time_t now, char **cause);
/* store_alert_attempt_failed for each pending alert of the digest. */
int store_digest_failed(struct store *, const char *hook, time_t period_end,
    const char *error, time_t next_attempt, int max_attempts, int counts,
    char **cause);
/* End the period at period_end without sending (nothing left to send). */
int store_digest_close(
    struct store *, const char *hook, time_t period_end, char **cause);

/*
 * Hook processes running: recorded when they start and forgotten when
 * they end, so that the processes a killed daemon left can be ended by
 * the next one. Each returns 0 or -1; store_runs returns every one
 * recorded (caller frees, *n says how many), or NULL.
 */
int store_run_add(struct store *, const struct store_run *, char **cause);
int store_run_remove(struct store *, int64_t pid, char **cause);
struct store_run *store_runs(struct store *, int *n, char **cause);

/* Which stories `feedwatch stories` lists; NULL and 0 mean any. */
struct store_filter {
	time_t since; /* first seen at or after */
	const char *feed;
	const char *watchlist;
	const char *search; /* FTS5 query over titles and text; waits for
			       the index to catch up with the log */
	int limit;
};

/* A story of the log, lent to a callback. */
struct store_row {
	int64_t id;
	const char *title;
	const char *url;
	const char *summary;
	time_t published; /* -1 = unknown */
	time_t first_seen;
	const char *feed_name;
	const char *feed_url;
	const char *joined; /* why it joined its cluster; NULL: first */
};

typedef void (*store_row_cb)(const struct store_row *, void *);

/*
 * Call cb for each story (cluster) the filter selects, newest first:
 * the cluster's first story stands for it. Return how many, or -1 with
 * *cause (a bad FTS5 query says so in SQLite's words).
 */
int store_stories(struct store *, const struct store_filter *, store_row_cb cb,
    void *arg, char **cause);
/*
 * Call cb for the story id's cluster, its first story first, each with
 * why it joined. Return how many, 0 when id is unknown, or -1.
 */
int store_cluster(
    struct store *, int64_t id, store_row_cb cb, void *arg, char **cause);
/* Call back with each watchlist that fired for the story id's cluster. */
int store_cluster_watchlists(struct store *, int64_t id,
    void (*cb)(const char *, void *), void *arg, char **cause);

/*
 * Prune up to max stories first seen before before: their text, matches
 * and finished alerts go, their identity (key, canonical URL, hashes,
 * cluster, the watchlists it fired) stays, so that a pruned story that
 * comes back alerts no one. Stories with a pending alert are kept.
 * Return how many were pruned (max means there may be more), or -1.
 */
int store_prune(struct store *, time_t before, int max, char **cause);

/* An alert as `feedwatch alerts` lists it, lent to a callback. */
struct store_alert_row {
	int64_t id;
	const char *alert_id;
	const char *watchlist;
	const char *hook;
	const char *state;
	int attempts;
	const char *last_error;
	time_t created;
	time_t next_attempt;
	int64_t story_id;
	const char *title;
};

/* Call cb for each alert in state (NULL = any), newest first. */
int store_alert_list(struct store *, const char *state, int limit,
    void (*cb)(const struct store_alert_row *, void *), void *arg,
    char **cause);
/*
 * Put a failed alert (id), or every failed alert (id 0), back to
 * pending with its attempts reset. Return how many, or -1.
 */
int store_alert_retry(struct store *, int64_t id, char **cause);

/* Count alerts in a state. Return the count, or -1. */
int store_alert_count(struct store *, const char *state, char **cause);
/*
 * Count the stories (clusters, as store_stories lists them) first seen
 * at or after since; 0 counts them all. Return the count, or -1.
 */
int64_t store_story_count(struct store *, time_t since, char **cause);

#endif
