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

#define STORE_SCHEMA_VERSION 2

struct store;
struct entry;

/* A feed's row: what the scheduler and fetcher need to resume. */
struct store_feed {
	int64_t id;
	char *etag; /* NULL = none */
	char *last_modified;
	time_t next_poll; /* UTC seconds, 0 = now */
	int failures;	  /* consecutive */
};

/* The outcome of one fetch, for the feed's row. */
struct store_fetch {
	time_t when;
	int http_status;   /* 0 = no HTTP answer */
	const char *error; /* NULL on success */
	const char *etag;
	const char *last_modified;
	time_t next_poll;
};

/* A story as the log keeps it: plain text, absolute link. */
struct store_story {
	const char *key; /* identity within its feed */
	const char *guid;
	const char *title;
	const char *url;
	const char *summary;
	time_t published; /* -1 = unknown */
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
};

/* Alert states in the outbox. */
#define STORE_ALERT_PENDING "pending"
#define STORE_ALERT_DELIVERED "delivered"
#define STORE_ALERT_FAILED "failed"

/*
 * Open (creating if needed) the database at path in WAL mode and
 * migrate it to STORE_SCHEMA_VERSION. Return it, or NULL with *cause.
 */
struct store *store_open(const char *path, char **cause);
/* Close the database; accepts NULL. */
void store_close(struct store *);
/* Return the schema version of the open database (PRAGMA user_version). */
int store_schema_version(struct store *);

int store_begin(struct store *, char **cause);
int store_commit(struct store *, char **cause);
/* Roll back the open transaction, if any. Cannot fail. */
void store_rollback(struct store *);

/*
 * Fill *f with the feed's row, creating it when name is new and updating
 * its url. Free with store_feed_clear. Return 0 or -1.
 */
int store_feed_get(struct store *, const char *name, const char *url,
    struct store_feed *f, char **cause);
void store_feed_clear(struct store_feed *);
/* Record the outcome of a fetch of feed id. Return 0 or -1. */
int store_feed_fetched(
    struct store *, int64_t id, const struct store_fetch *, char **cause);

/*
 * Add a story to feed id unless its key is known. Set *story_id, and
 * *is_new to 1 when it was added. Return 0 or -1.
 */
int store_story_add(struct store *, int64_t feed_id, const struct store_story *,
    int64_t *story_id, int *is_new, char **cause);
/* Record that a watchlist matched a story. Return 0 or -1. */
int store_match_add(struct store *, int64_t story_id, const char *watchlist,
    const char *matched_json, const char *snippet, char **cause);
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
void store_alerts_free(struct store_alert *, int n);
/* Mark an alert delivered. Return 0 or -1. */
int store_alert_delivered(struct store *, int64_t id, time_t now, char **cause);
/*
 * Record a failed attempt with its reason: the alert stays pending until
 * next_attempt, or becomes failed once it has had max_attempts.
 */
int store_alert_attempt_failed(struct store *, int64_t id, const char *error,
    time_t next_attempt, int max_attempts, char **cause);
/* Count alerts in a state. Return the count, or -1. */
int store_alert_count(struct store *, const char *state, char **cause);

#endif
