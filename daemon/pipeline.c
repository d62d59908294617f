#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "charset.h"
#include "config.h"
#include "dedup.h"
#include "feed.h"
#include "log.h"
#include "match.h"
#include "metrics.h"
#include "parse.h"
#include "pipeline.h"
#include "scheduler.h"
#include "store.h"
#include "text.h"
#include "url.h"
#include "xmalloc.h"

/*
 * The pipeline: a story's path from a fetched body to the outbox.
 * Everything one fetch writes is one transaction, so a crash leaves
 * either all of it or none, and an alert exists exactly when its story
 * does.
 */

/*
 * A story's identity within its feed: guid, else link, else title, else
 * its date and words (hash, pipeline_content_hash's of the text alone):
 * an RSS item may be a description and nothing else. NULL when it has
 * none of them.
 */
static char *
pipeline_key(const struct entry *e, const char *text, uint64_t hash)
{
	char *key;

	if (e->id != NULL)
		xasprintf(&key, "id:%s", e->id);
	else if (e->link != NULL)
		xasprintf(&key, "link:%s", e->link);
	else if (e->title != NULL)
		xasprintf(&key, "title:%s", e->title);
	else if (*text != '\0')
		xasprintf(&key, "text:%lld:%016llx",
		    (long long)(e->published != -1 ? e->published : e->updated),
		    (unsigned long long)hash);
	else
		return NULL;
	return key;
}

/* Does text hold the opening words of summary (up to 80 bytes)? */
static int
pipeline_opens(const char *text, const char *summary)
{
	size_t n = strlen(summary);
	char *head;
	int found;

	if (n > 80)
		n = 80;
	while (n > 0 && ((unsigned char)summary[n] & 0xc0) == 0x80)
		n--;
	head = xstrndup(summary, n);
	found = strstr(text, head) != NULL;
	free(head);
	return found;
}

/* The plain text of a field of an entry: s, or s's HTML read. */
static char *
pipeline_plain(const char *s, int is_plain)
{
	if (s == NULL)
		return xstrdup("");
	return is_plain ? text_squeeze(s) : text_from_html(s);
}

char *
pipeline_entry_title(const struct entry *e)
{
	return pipeline_plain(e->title, e->is_title_plain);
}

char *
pipeline_entry_text(const struct entry *e)
{
	char *summary, *content, *both;

	summary = pipeline_plain(e->summary, e->is_summary_plain);
	content = pipeline_plain(e->content, e->is_content_plain);
	if (*content == '\0') {
		free(content);
		return summary;
	}
	/* A summary is often the content's opening, cut short. */
	if (*summary == '\0' || pipeline_opens(content, summary)) {
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
	const char *const *matched;
	char *s;
	size_t n;

	matched = match_result_matched(r, &n);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(matched[i]));
	if ((s = json_dumps(a, JSON_COMPACT)) == NULL)
		fatalx("json_dumps failed");
	json_decref(a);
	return s;
}

/* What the parser's callback needs to store each entry. */
struct pipeline_run {
	struct store *st;
	const struct config *cfg;
	const struct config_feed *feed;
	int64_t feed_id;
	struct pipeline_stats *stats;
	char *cause;			  /* the store failed: why */
	time_t dates[PIPELINE_MAX_DATES]; /* entries', for the schedule */
	size_t ndates;
	int feed_min;		 /* seconds the feed asks between polls */
	struct metrics *metrics; /* NULL = none */
};

/* A story being matched: where its matches are recorded. */
struct pipeline_hit {
	struct pipeline_run *run;
	int64_t story_id;
	int64_t cluster; /* its cluster's first story */
	const char *title;
	int rc;
};

/*
 * A watchlist matched. Record it; the first story of a cluster to match
 * a watchlist queues its alerts, the later ones only add sources.
 */
static void
pipeline_match_cb(void *arg, const struct match_result *r, void *cbarg)
{
	const struct config_watchlist *w = arg;
	struct pipeline_hit *h = cbarg;
	struct pipeline_run *run = h->run;
	char *json;
	int is_first;

	if (h->rc == -1 || !config_watchlist_wants(w, run->feed))
		return;
	json = pipeline_matched_json(r);
	h->rc = store_match_add(run->st, h->story_id, w->name, json,
	    match_result_snippet(r), &run->cause);
	free(json);
	if (h->rc == 0)
		h->rc = store_cluster_claim(
		    run->st, h->cluster, w->name, &is_first, &run->cause);
	if (h->rc == -1)
		return;
	run->stats->matches++;
	metrics_match(run->metrics, w->name);
	if (!is_first) {
		log_info("feed %s: \"%s\" matches watchlist %s, already "
			 "alerted for story %lld",
		    run->feed->name, h->title, w->name, (long long)h->cluster);
		return;
	}
	log_info("feed %s: \"%s\" matches watchlist %s", run->feed->name,
	    h->title, w->name);
	for (size_t i = 0; w->hooks[i] != NULL && h->rc == 0; i++) {
		h->rc = store_alert_add(run->st, h->story_id, w->name,
		    w->hooks[i], time(NULL), &run->cause);
		if (h->rc == 0)
			run->stats->alerts++;
	}
}

/* Match a story against every watchlist, in one pass. */
static int
pipeline_match(struct pipeline_run *run, int64_t story_id, int64_t cluster,
    const struct entry *e, const char *title, const char *text)
{
	struct pipeline_hit h = { run, story_id, cluster, title, 0 };
	struct match_story ms;

	if (run->cfg->matcher == NULL)
		return 0;
	ms.title = title;
	ms.text = text;
	ms.feed = run->feed->name;
	ms.url = e->link;
	ms.tags = (const char *const *)run->feed->tags;
	match_set_run(run->cfg->matcher, &ms, pipeline_match_cb, &h);
	return h.rc;
}

/* An exact hash of a story's words, to tell an edit. */
static uint64_t
pipeline_content_hash(const char *title, const char *text)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (const char *p = title; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	h = (h ^ '\n') * 0x100000001b3ULL;
	for (const char *p = text; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	return h;
}

/*
 * A known item whose text changed: the story is updated, and a
 * watchlist it matches now fires once, unless its cluster fired it.
 */
static int
pipeline_edited(struct pipeline_run *run, const struct store_known *k,
    const struct store_story *s, const struct entry *e)
{
	if (store_story_update(run->st, k->id, s, &run->cause) == -1)
		return -1;
	run->stats->edited++;
	return pipeline_match(run, k->id, k->cluster, e, s->title, s->summary);
}

/* A new item: which story is it (cluster), then store and match it. */
static int
pipeline_new(
    struct pipeline_run *run, struct store_story *s, const struct entry *e)
{
	const struct config *cfg = run->cfg;
	char joined[32];
	int64_t cluster, id;
	int found, distance, is_new;

	/* A feed that re-issued a guid: the same words (and link). */
	if (store_story_seen(run->st, run->feed_id, s->canonical_url,
		s->content_hash, &found, &run->cause) == -1)
		return -1;
	if (found) {
		run->stats->reissued++;
		return 0;
	}
	s->simhash = dedup_simhash(s->title, s->summary);
	if (store_cluster_find(run->st, s->canonical_url, s->simhash,
		cfg->dedup_distance, time(NULL) - cfg->dedup_window, &cluster,
		&distance, &run->cause) == -1)
		return -1;
	if (cluster != 0) {
		if (distance == -1)
			snprintf(joined, sizeof joined, "same URL");
		else
			snprintf(
			    joined, sizeof joined, "distance %d", distance);
		s->cluster = cluster;
		s->joined = joined;
	}
	if (store_story_add(
		run->st, run->feed_id, s, &id, &is_new, &run->cause) == -1)
		return -1;
	if (!is_new)
		return 0;
	run->stats->new_stories++;
	if (cluster != 0)
		run->stats->duplicates++;
	return pipeline_match(
	    run, id, cluster != 0 ? cluster : id, e, s->title, s->summary);
}

static int
pipeline_entry(struct pipeline_run *run, const struct entry *e)
{
	struct store_story s;
	struct store_known k;
	char *key, *title, *text, *canon = NULL;
	int found, rc;

	title = pipeline_entry_title(e);
	text = pipeline_entry_text(e);
	memset(&s, 0, sizeof s);
	s.content_hash = pipeline_content_hash(title, text);
	if ((key = pipeline_key(e, text, s.content_hash)) == NULL) {
		run->stats->empty++;
		free(title);
		free(text);
		return 0;
	}
	s.key = key;
	s.guid = e->id;
	s.title = title;
	s.url = e->link;
	s.summary = text;
	s.published = e->published != -1 ? e->published : e->updated;
	rc = store_story_known(
	    run->st, run->feed_id, key, &k, &found, &run->cause);
	if (rc == 0 && found && k.content_hash != s.content_hash)
		rc = pipeline_edited(run, &k, &s, e);
	else if (rc == 0 && !found) {
		if (e->link != NULL)
			canon = url_canonical(e->link,
			    (const char *const *)run->cfg->tracking_params);
		s.canonical_url = canon;
		rc = pipeline_new(run, &s, e);
	}
	free(canon);
	free(key);
	free(title);
	free(text);
	return rc;
}

static int
pipeline_entry_cb(struct entry *e, void *arg)
{
	struct pipeline_run *run = arg;
	int rc;

	run->stats->entries++;
	if (run->ndates < PIPELINE_MAX_DATES &&
	    (e->published != -1 || e->updated != -1))
		run->dates[run->ndates++] =
		    e->published != -1 ? e->published : e->updated;
	rc = pipeline_entry(run, e);
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
	struct config_fetch cf;
	struct feed_doc *doc;

	config_feed_fetch(run->cfg, feed, &cf);
	memset(&opts, 0, sizeof opts);
	opts.base = body->url;
	opts.content_type = body->content_type;
	opts.encoding = feed->encoding;
	opts.max_size = cf.max_body;
	opts.max_entries = run->cfg->max_entries;
	opts.max_depth = run->cfg->max_depth;
	opts.is_text_only = 1;
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
	run->feed_min = feed_doc_min_interval(doc);
	for (size_t i = 0; i < doc->nerrors && i < 3; i++)
		log_warnx("feed %s: %s", feed->name, doc->errors[i]);
	if (doc->nerrors > 3)
		log_warnx(
		    "feed %s: %zu more errors", feed->name, doc->nerrors - 3);
	feed_doc_free(doc);
	return 0;
}

/* When the feed is polled next, from its configuration and this poll. */
static void
pipeline_schedule(struct pipeline_run *run, const struct store_feed *state,
    struct store_fetch *fetch, int has_body)
{
	const struct config *cfg = run->cfg;
	struct scheduler_policy sp;

	memset(&sp, 0, sizeof sp);
	sp.interval = config_feed_interval(cfg, run->feed);
	sp.min_interval = cfg->min_interval;
	sp.max_interval = cfg->max_interval;
	sp.is_adaptive = config_feed_adaptive(cfg, run->feed);
	sp.prev_interval = state->poll_interval;
	sp.failures = run->stats->failures;
	sp.retry_after = fetch->retry_after;
	if (has_body && fetch->error == NULL) {
		sp.feed_min = run->feed_min;
		sp.gap = scheduler_gap(run->dates, run->ndates);
	} else if (sp.is_adaptive && state->poll_interval == 0)
		sp.prev_interval = sp.interval;
	fetch->next_poll =
	    fetch->when + scheduler_next(&sp, &fetch->poll_interval);
}

int
pipeline_feed(struct store *st, const struct config *cfg,
    const struct config_feed *feed, const struct store_feed *state,
    const struct pipeline_body *body, struct store_fetch *fetch,
    struct pipeline_stats *stats, struct metrics *metrics, char **cause)
{
	struct pipeline_run run;
	char *error = NULL, *valid = NULL;
	size_t len;
	int rc = 0;

	memset(&run, 0, sizeof run);
	run.st = st;
	run.cfg = cfg;
	run.feed = feed;
	run.feed_id = state->id;
	run.stats = stats;
	run.metrics = metrics;
	memset(stats, 0, sizeof *stats);
	if (store_begin(st, cause) == -1)
		return -1;
	if (body != NULL && pipeline_parse(&run, body, fetch, &error) == -1) {
		*cause = run.cause;
		rc = -1;
	}
	/*
	 * The error can quote the server or the document: the store, and
	 * the JSON of feed-health alerts and of `feedwatch feeds`, take
	 * it as UTF-8 only.
	 */
	if (fetch->error != NULL &&
	    !charset_is_utf8(fetch->error, len = strlen(fetch->error))) {
		valid = xmalloc(len + 1);
		charset_utf8_copy(valid, len + 1, fetch->error);
		fetch->error = valid;
	}
	/*
	 * A permanent redirect to something that is not a feed (a site's
	 * home page during a migration) is not where the feed moved.
	 */
	if (fetch->error != NULL)
		fetch->moved_url = NULL;
	stats->failures = fetch->error != NULL ? state->failures + 1 : 0;
	fetch->items =
	    body != NULL && fetch->error == NULL ? stats->entries : -1;
	pipeline_schedule(&run, state, fetch, body != NULL);
	if (rc == 0)
		rc = store_feed_fetched(st, state->id, fetch, cause);
	if (rc == 0)
		rc = store_commit(st, cause);
	if (rc == -1)
		store_rollback(st);
	if (fetch->error != NULL)
		charset_utf8_copy(
		    stats->error, sizeof stats->error, fetch->error);
	free(valid);
	free(error);
	fetch->error = NULL;
	return rc;
}
