#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "config.h"
#include "feed.h"
#include "log.h"
#include "match.h"
#include "parse.h"
#include "pipeline.h"
#include "scheduler.h"
#include "store.h"
#include "text.h"
#include "xmalloc.h"

/*
 * The pipeline: a story's path from a fetched body to the outbox.
 * Everything one fetch writes is one transaction, so a crash leaves
 * either all of it or none, and an alert exists exactly when its story
 * does.
 */

/* A story's identity within its feed: guid, else link, else title. */
static char *
pipeline_key(const struct entry *e)
{
	char *key;

	if (e->id != NULL)
		xasprintf(&key, "id:%s", e->id);
	else if (e->link != NULL)
		xasprintf(&key, "link:%s", e->link);
	else if (e->title != NULL)
		xasprintf(&key, "title:%s", e->title);
	else
		return NULL;
	return key;
}

/* The plain text of the body: summary and content, once each. */
static char *
pipeline_body_text(const struct entry *e)
{
	char *summary, *content, *both;

	summary = text_from_html(e->summary != NULL ? e->summary : "");
	content = text_from_html(e->content != NULL ? e->content : "");
	if (*content == '\0') {
		free(content);
		return summary;
	}
	if (*summary == '\0' || strstr(content, summary) != NULL) {
		free(summary);
		return content;
	}
	xasprintf(&both, "%s %s", summary, content);
	free(summary);
	free(content);
	return both;
}

static char *
pipeline_matched_json(const struct match_result *r)
{
	json_t *a = json_array();
	char *s;

	for (size_t i = 0; i < r->nmatched; i++)
		json_array_append_new(a, json_string(r->matched[i]));
	if ((s = json_dumps(a, JSON_COMPACT)) == NULL)
		fatalx("json_dumps failed");
	json_decref(a);
	return s;
}

/* What a match callback needs to record a story's matches. */
struct pipeline_hit {
	struct store *st;
	const struct config_feed *feed;
	int64_t story_id;
	const char *title;
	struct pipeline_stats *stats;
	char **cause;
	int rc;
};

/* A watchlist matched: record it and queue an alert for each hook. */
static void
pipeline_match_cb(void *arg, const struct match_result *r, void *cbarg)
{
	const struct config_watchlist *w = arg;
	struct pipeline_hit *h = cbarg;
	char *json;

	if (h->rc == -1 || !config_watchlist_wants(w, h->feed))
		return;
	log_info("feed %s: \"%s\" matches watchlist %s", h->feed->name,
	    h->title, w->name);
	json = pipeline_matched_json(r);
	h->rc = store_match_add(
	    h->st, h->story_id, w->name, json, r->snippet, h->cause);
	free(json);
	if (h->rc == -1)
		return;
	h->stats->matches++;
	for (size_t i = 0; w->hooks[i] != NULL && h->rc == 0; i++) {
		h->rc = store_alert_add(h->st, h->story_id, w->name,
		    w->hooks[i], time(NULL), h->cause);
		if (h->rc == 0)
			h->stats->alerts++;
	}
}

/* Match a new story against every watchlist, in one pass. */
static int
pipeline_match(struct store *st, const struct config *cfg,
    const struct config_feed *feed, int64_t story_id, const struct entry *e,
    const char *title, const char *text, struct pipeline_stats *stats,
    char **cause)
{
	struct pipeline_hit h = { st, feed, story_id, title, stats, cause, 0 };
	struct match_story ms;

	if (cfg->matcher == NULL)
		return 0;
	ms.title = title;
	ms.text = text;
	ms.feed = feed->name;
	ms.url = e->link;
	ms.tags = (const char *const *)feed->tags;
	match_set_run(cfg->matcher, &ms, pipeline_match_cb, &h);
	return h.rc;
}

static int
pipeline_entry(struct store *st, const struct config *cfg,
    const struct config_feed *feed, int64_t feed_id, const struct entry *e,
    struct pipeline_stats *stats, char **cause)
{
	struct store_story s;
	char *key, *title, *text;
	int64_t story_id;
	int is_new, rc;

	if ((key = pipeline_key(e)) == NULL)
		return 0;
	title = text_from_html(e->title != NULL ? e->title : "");
	text = pipeline_body_text(e);
	s.key = key;
	s.guid = e->id;
	s.title = title;
	s.url = e->link;
	s.summary = text;
	s.published = e->published != -1 ? e->published : e->updated;
	rc = store_story_add(st, feed_id, &s, &story_id, &is_new, cause);
	if (rc == 0 && is_new) {
		stats->new_stories++;
		rc = pipeline_match(
		    st, cfg, feed, story_id, e, title, text, stats, cause);
	}
	free(key);
	free(title);
	free(text);
	return rc;
}

/* What the parser's callback needs to store each entry. */
struct pipeline_run {
	struct store *st;
	const struct config *cfg;
	const struct config_feed *feed;
	int64_t feed_id;
	struct pipeline_stats *stats;
	char *cause; /* the store failed: why */
};

static int
pipeline_entry_cb(struct entry *e, void *arg)
{
	struct pipeline_run *run = arg;
	int rc;

	run->stats->entries++;
	rc = pipeline_entry(run->st, run->cfg, run->feed, run->feed_id, e,
	    run->stats, &run->cause);
	feed_entry_free(e);
	return rc;
}

/*
 * Parse the body, storing each entry as it is read. Return -1 when the
 * store failed; a body that is not a feed sets fetch->error (*error
 * holds the text) and is logged.
 */
static int
pipeline_parse(struct pipeline_run *run, const struct pipeline_body *body,
    struct store_fetch *fetch, char **error)
{
	const struct config_feed *feed = run->feed;
	struct parse_opts opts;
	struct feed_doc *doc;

	memset(&opts, 0, sizeof opts);
	opts.base = body->url;
	opts.content_type = body->content_type;
	opts.encoding = feed->encoding;
	opts.max_size = run->cfg->max_body;
	opts.max_entries = run->cfg->max_entries;
	opts.max_depth = run->cfg->max_depth;
	doc = parse_buffer(
	    body->data, body->len, &opts, pipeline_entry_cb, run, error);
	if (run->cause != NULL) {
		feed_doc_free(doc);
		return -1;
	}
	if (doc == NULL) {
		log_warnx("feed %s: %s", feed->name, *error);
		fetch->error = *error;
		return 0;
	}
	for (size_t i = 0; i < doc->nerrors && i < 3; i++)
		log_warnx("feed %s: %s", feed->name, doc->errors[i]);
	if (doc->nerrors > 3)
		log_warnx(
		    "feed %s: %zu more errors", feed->name, doc->nerrors - 3);
	feed_doc_free(doc);
	return 0;
}

int
pipeline_feed(struct store *st, const struct config *cfg,
    const struct config_feed *feed, int64_t feed_id, int failures,
    const struct pipeline_body *body, struct store_fetch *fetch,
    struct pipeline_stats *stats, char **cause)
{
	struct pipeline_run run = { st, cfg, feed, feed_id, stats, NULL };
	char *error = NULL;
	int rc = 0, interval;

	memset(stats, 0, sizeof *stats);
	if (store_begin(st, cause) == -1)
		return -1;
	if (body != NULL && pipeline_parse(&run, body, fetch, &error) == -1) {
		*cause = run.cause;
		rc = -1;
	}
	stats->failures = fetch->error != NULL ? failures + 1 : 0;
	interval = feed->interval != 0 ? feed->interval : cfg->interval;
	fetch->next_poll = fetch->when +
	    scheduler_delay(interval, stats->failures, SCHEDULER_MAX_BACKOFF);
	if (rc == 0)
		rc = store_feed_fetched(st, feed_id, fetch, cause);
	if (rc == 0)
		rc = store_commit(st, cause);
	if (rc == -1)
		store_rollback(st);
	free(error);
	fetch->error = NULL;
	return rc;
}
