#ifndef FEEDWATCH_PIPELINE_H
#define FEEDWATCH_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

/*
 * One fetched body to the story log: parse, find what is new, match it
 * against the watchlists, and write stories, matches, alerts and the
 * feed's state in ONE transaction.
 */

struct config;
struct config_feed;
struct entry;
struct metrics;
struct store;
struct store_feed;
struct store_fetch;

#define PIPELINE_MAX_DATES 256 /* entry dates kept to learn a feed's pace */

/* A fetched document. */
struct pipeline_body {
	const char *data;
	size_t len;
	const char *url;	  /* where it came from, for relative links */
	const char *content_type; /* NULL = not known */
};

struct pipeline_stats {
	int entries; /* in the document */
	int new_stories;
	int duplicates; /* new stories that joined another's cluster */
	int reissued;	/* known items under a new guid */
	int edited;	/* known items whose text changed */
	int empty;	/* no guid, link, title or text: skipped */
	int matches;
	int alerts;	 /* queued in the outbox */
	int failures;	 /* consecutive failed fetches, this one included */
	char error[256]; /* why this one failed, "" when it did not */
};

/*
 * Process a fetch of feed (its row as state): when body is not NULL,
 * parse it and store what is new; in any case record the outcome in
 * *fetch (its error is set when the body is not a feed) and set
 * fetch->next_poll and fetch->poll_interval. Return 0, or -1 with
 * *cause when the store failed and nothing was written.
 */
int pipeline_feed(struct store *, const struct config *,
    const struct config_feed *, const struct store_feed *state,
    const struct pipeline_body *body, struct store_fetch *fetch,
    struct pipeline_stats *, struct metrics *, char **cause);

/*
 * The plain text an entry is matched on beside its title: its summary
 * and content, once each (a summary that opens the content is not read
 * twice). `feedwatch match` reads entries through it, as the daemon
 * does. Return a new string the caller frees. Cannot fail.
 */
char *pipeline_entry_text(const struct entry *);

/*
 * An entry's title as plain text: read as HTML only when the feed said
 * it was HTML. Return a new string the caller frees. Cannot fail.
 */
char *pipeline_entry_title(const struct entry *);

#endif
