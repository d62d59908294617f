#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* cmocka.h needs the standard headers above. */
#include <cmocka.h>

#include <libxml/parser.h>
#include <sqlite3.h>

#include "config.h"
#include "feed.h"
#include "pipeline.h"
#include "store.h"
#include "testutil.h"
#include "xmalloc.h"

/*
 * A story's path through the pipeline into a real SQLite story log:
 * one story carried by many feeds is one cluster and one alert; feeds
 * that re-issue guids, and edited items, alert only when they should.
 */

#define NFEEDS 20

struct fixture {
	char dir[64];
	struct config *cfg;
	struct store *st;
};

/* The story every feed carries, and the boilerplate feeds add to it. */
static const char *story_text =
    "A group of former top US national security officials have held "
    "secret talks with Russians believed to be close to the Kremlin, as "
    "well as the country's top diplomat, to lay the groundwork for "
    "possible negotiations to end the war in Ukraine. Russian Foreign "
    "Minister Sergei Lavrov spoke for several hours with members of the "
    "group in New York in April, four former and two current officials "
    "said. The discussions are known in diplomatic jargon as track two "
    "diplomacy, a form of informal interaction involving private "
    "individuals who are not currently in government. They occur because "
    "formal, high-level diplomatic contacts between the U.S. and Russian "
    "governments on Ukraine have been few and far between.";

static const char *titles[] = {
	"Former US officials held secret talks with Russians on ending war",
	"Exclusive: Former US officials held secret talks with Russians on "
	"ending war",
	"Former U.S. officials held secret talks with Russians on ending war",
	"FORMER US OFFICIALS HELD SECRET TALKS WITH RUSSIANS ON ENDING WAR",
	"Former US officials held secret talks with Russians on ending war - "
	"ForumDaily",
};

static const char *tails[] = {
	"",
	" Read more at NBC News.",
	" Subscribe to our newsletter.",
	" Copyright 2023 The Wire. All rights reserved.",
};

/* Feed i's link to the story: tracking, AMP, www and scheme variants. */
static const char *links[] = {
	"https://www.nbcnews.com/politics/secret-talks-russia-n1300",
	"https://www.nbcnews.com/politics/secret-talks-russia-n1300?utm_"
	"source=rss&utm_medium=feed",
	"http://nbcnews.com/politics/secret-talks-russia-n1300",
	"https://www.nbcnews.com/politics/secret-talks-russia-n1300/amp/",
	"https://amp.nbcnews.com/politics/secret-talks-russia-n1300",
	"https://www.nbcnews.com/politics/secret-talks-russia-n1300?fbclid=X1",
	"https://www.nbcnews.com/politics/secret-talks-russia-n1300#comments",
	"https://aggregator.example/world/2023/07/09/former-officials-talks",
	"https://wire.example.org/story/88231?ref=rss",
	"https://news.example.net/a/9921",
};

static int
setup(void **state)
{
	struct fixture *fx = xcalloc(1, sizeof *fx);
	char path[128], *cause = NULL;
	FILE *f;

	testutil_tmpdir(fx->dir, sizeof fx->dir, "pipeline");
	snprintf(path, sizeof path, "%s/feedwatch.conf", fx->dir);
	f = fopen(path, "w");
	fprintf(f, "[daemon]\ndatabase = feedwatch.db\n");
	for (int i = 0; i < NFEEDS; i++)
		fprintf(f, "[feed \"f%02d\"]\nurl = http://127.0.0.1/f%02d\n",
		    i, i);
	fprintf(f,
	    "[hook \"h\"]\ncommand = true\n"
	    "[watchlist \"track-two\"]\nquery = \"track two diplomacy\"\n"
	    "hooks = h\n"
	    "[watchlist \"live\"]\nquery = \"live updates\"\nhooks = h\n"
	    "[watchlist \"ceasefire\"]\nquery = ceasefire\nhooks = h\n");
	fclose(f);
	if ((fx->cfg = config_load(path, &cause)) == NULL)
		fail_msg("%s", cause);
	if ((fx->st = store_open(fx->cfg->database, &cause)) == NULL)
		fail_msg("%s", cause);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	store_close(fx->st);
	config_free(fx->cfg);
	if (testutil_rmtree(fx->dir) != 0)
		return -1;
	free(fx);
	return 0;
}

static struct config_feed *
feed_of(struct fixture *fx, int i)
{
	struct config_feed *f;
	int n = 0;

	TAILQ_FOREACH(f, &fx->cfg->feeds, entry) {
		if (n++ == i)
			return f;
	}
	fail_msg("no feed %d", i);
	return NULL;
}

/* Run one fetched document of feed i through the pipeline. */
static struct pipeline_stats
fetched(struct fixture *fx, int i, const char *doc)
{
	struct config_feed *f = feed_of(fx, i);
	struct store_feed sf;
	struct store_fetch fetch;
	struct pipeline_body body = { doc, strlen(doc), f->url, NULL };
	struct pipeline_stats stats;
	char *cause = NULL;

	assert_int_equal(
	    store_feed_get(fx->st, f->name, f->url, &sf, &cause), 0);
	memset(&fetch, 0, sizeof fetch);
	fetch.when = time(NULL);
	fetch.http_status = 200;
	if (pipeline_feed(fx->st, fx->cfg, f, &sf, &body, &fetch, &stats, NULL,
		&cause) == -1)
		fail_msg("pipeline: %s", cause);
	store_feed_clear(&sf);
	return stats;
}

static char *
rss_item(
    const char *guid, const char *title, const char *link, const char *text)
{
	char *doc;

	xasprintf(&doc,
	    "<rss version=\"2.0\"><channel><title>t</title>"
	    "<item><guid isPermaLink=\"false\">%s</guid><title>%s</title>"
	    "<link>%s</link><description>%s</description></item>"
	    "</channel></rss>",
	    guid, title, link, text);
	return doc;
}

static int
pending(struct fixture *fx)
{
	char *cause = NULL;
	int n = store_alert_count(fx->st, STORE_ALERT_PENDING, &cause);

	assert_true(n >= 0);
	return n;
}

static void
count_cb(const struct store_row *r, void *arg)
{
	(void)r;
	(*(int *)arg)++;
}

/*
 * The text an entry is matched on: summary and content as plain text,
 * the summary once when the content holds its opening words.
 */
static void
test_pipeline_entry_text(void **state)
{
	static const struct {
		const char *summary, *content, *want;
	} cases[] = {
		{ "Talks resume in Geneva.",
		    "<p>Talks resume in Geneva. Both sides met.</p>",
		    "Talks resume in Geneva. Both sides met." },
		{ "<b>Short</b> teaser", "<p>The whole story.</p>",
		    "Short teaser The whole story." },
		{ "Only a summary &amp; no more", NULL,
		    "Only a summary & no more" },
		{ NULL, "<div>Only <i>content</i></div>", "Only content" },
		{ NULL, NULL, "" },
	};
	struct entry e;
	char *text;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		memset(&e, 0, sizeof e);
		e.summary = (char *)cases[i].summary;
		e.content = (char *)cases[i].content;
		text = pipeline_entry_text(&e);
		if (strcmp(text, cases[i].want) != 0)
			fail_msg("case %zu: \"%s\", want \"%s\"", i, text,
			    cases[i].want);
		free(text);
	}
}

static void
test_pipeline_syndicated_story_alerts_once(void **state)
{
	struct fixture *fx = *state;
	struct pipeline_stats stats;
	char guid[32], text[2048], *doc, *cause = NULL;
	int n = 0, dups = 0;

	for (int i = 0; i < NFEEDS; i++) {
		snprintf(guid, sizeof guid, "feed%d-story-%d", i, 1000 + i * 7);
		snprintf(text, sizeof text, "%s%s", story_text,
		    tails[i % (sizeof tails / sizeof tails[0])]);
		doc = rss_item(guid,
		    titles[i % (sizeof titles / sizeof titles[0])],
		    links[i % (sizeof links / sizeof links[0])], text);
		stats = fetched(fx, i, doc);
		free(doc);
		assert_int_equal(stats.new_stories, 1);
		dups += stats.duplicates;
	}
	/* One story, twenty sources: one alert, nineteen joined it. */
	assert_int_equal(dups, NFEEDS - 1);
	assert_int_equal(pending(fx), 1);
	assert_int_equal(
	    store_cluster(fx->st, 1, count_cb, &n, &cause), NFEEDS);
	assert_int_equal(n, NFEEDS);
}

static void
test_pipeline_headline_template_not_merged(void **state)
{
	struct fixture *fx = *state;
	char *doc;

	doc = rss_item("a", "Live updates: the war in Ukraine",
	    "https://a.example/live-1",
	    "Ukrainian forces reported shelling near Bakhmut overnight, and "
	    "officials in Kyiv said air defences shot down twelve drones over "
	    "the capital. The foreign ministry summoned an envoy after a "
	    "missile fell near the border with Poland on Tuesday morning.");
	assert_int_equal(fetched(fx, 0, doc).duplicates, 0);
	free(doc);
	doc = rss_item("b", "Live updates: the war in Ukraine",
	    "https://b.example/live-2",
	    "Grain exports through the Black Sea resumed after a pause of two "
	    "weeks as the first ship left Odesa carrying corn for Egypt. "
	    "Insurers raised premiums for vessels bound for Ukrainian ports, "
	    "traders in Geneva said, citing the risk of mines in the corridor.");
	assert_int_equal(fetched(fx, 1, doc).duplicates, 0);
	free(doc);
	/* Two stories, each its own alert. */
	assert_int_equal(pending(fx), 2);
}

static void
test_pipeline_reissued_guids_are_not_new(void **state)
{
	struct fixture *fx = *state;
	struct pipeline_stats stats;
	char *doc;

	doc = rss_item("guid-1", "Ceasefire talks resume",
	    "https://wire.example.org/ceasefire", "Ceasefire talks resumed.");
	stats = fetched(fx, 0, doc);
	free(doc);
	assert_int_equal(stats.new_stories, 1);
	assert_int_equal(pending(fx), 1);
	/* The same item, its guid changed by the feed's software. */
	doc = rss_item("guid-1-v2", "Ceasefire talks resume",
	    "https://wire.example.org/ceasefire?utm_source=rss",
	    "Ceasefire talks resumed.");
	stats = fetched(fx, 0, doc);
	free(doc);
	assert_int_equal(stats.new_stories, 0);
	assert_int_equal(stats.reissued, 1);
	/* Without a link, the same words tell it. */
	doc = rss_item("x-1", "Ceasefire holds", "", "The ceasefire held.");
	assert_int_equal(fetched(fx, 1, doc).new_stories, 1);
	free(doc);
	doc = rss_item("x-2", "Ceasefire holds", "", "The ceasefire held.");
	stats = fetched(fx, 1, doc);
	free(doc);
	assert_int_equal(stats.new_stories, 0);
	assert_int_equal(stats.reissued, 1);
	assert_int_equal(pending(fx), 2);
}

/*
 * Under a link the feed used before, other words are another story of
 * that link's cluster, not a re-issued guid: a live blog's next update
 * (its fragment is not part of the canonical URL), or an edit the
 * feed's software gave a new guid. Tried: the update that newly
 * matches alerts once, and the same document again alerts nothing.
 */
static void
test_pipeline_same_link_other_words(void **state)
{
	struct fixture *fx = *state;
	struct pipeline_stats stats;
	char *doc;

	doc = rss_item("live-1", "Live: talks in Geneva",
	    "https://wire.example.org/live#u1", "Delegations arrived.");
	stats = fetched(fx, 2, doc);
	free(doc);
	assert_int_equal(stats.new_stories, 1);
	assert_int_equal(stats.alerts, 0);
	doc = rss_item("live-2", "Live: talks in Geneva",
	    "https://wire.example.org/live#u2",
	    "A ceasefire was agreed at noon.");
	stats = fetched(fx, 2, doc);
	assert_int_equal(stats.new_stories, 1);
	assert_int_equal(stats.duplicates, 1); /* the same URL's cluster */
	assert_int_equal(stats.reissued, 0);
	assert_int_equal(stats.alerts, 1);
	stats = fetched(fx, 2, doc);
	free(doc);
	assert_int_equal(stats.new_stories, 0);
	assert_int_equal(stats.alerts, 0);
	assert_int_equal(pending(fx), 1);
}

/*
 * An RSS item may be a description alone (RSS 2.0 asks for a title or
 * a description): its date and words are its identity. Tried: it is
 * stored and alerts; fetched again, it is known; an item with nothing
 * at all is counted as skipped.
 */
static void
test_pipeline_description_only_item(void **state)
{
	struct fixture *fx = *state;
	struct pipeline_stats stats;
	const char *doc =
	    "<rss version=\"2.0\"><channel><title>t</title>"
	    "<item><description>Ceasefire announced in the north."
	    "</description><pubDate>Sun, 09 Jul 2023 14:02:00 GMT</pubDate>"
	    "</item><item></item></channel></rss>";

	stats = fetched(fx, 3, doc);
	assert_int_equal(stats.entries, 2);
	assert_int_equal(stats.new_stories, 1);
	assert_int_equal(stats.alerts, 1);
	assert_int_equal(stats.empty, 1);
	stats = fetched(fx, 3, doc);
	assert_int_equal(stats.new_stories, 0);
	assert_int_equal(stats.alerts, 0);
	assert_int_equal(pending(fx), 1);
}

static void
title_cb(const struct store_row *r, void *arg)
{
	snprintf(arg, 128, "%s", r->title);
}

/*
 * A title is plain text unless it looks like HTML: "a<b" in an RSS
 * title is three characters. Read as HTML, "<b means ceasefire" was a
 * tag and the word the watchlist wants was lost, with the rest of the
 * title. Tried: that title alerts and is stored whole; a title with a
 * reference ("&amp;amp;", escaped twice) is still read as HTML; an
 * Atom summary of type "text" is plain text too.
 */
static void
test_pipeline_plain_text_title(void **state)
{
	struct fixture *fx = *state;
	struct pipeline_stats stats;
	struct store_filter filter;
	char title[128] = "", *doc, *cause = NULL;

	doc = rss_item("p1", "Why a&lt;b means ceasefire", "http://x.test/p1",
	    "Nothing here.");
	stats = fetched(fx, 0, doc);
	free(doc);
	assert_int_equal(stats.alerts, 1);
	memset(&filter, 0, sizeof filter);
	filter.limit = 1;
	assert_int_equal(
	    store_stories(fx->st, &filter, title_cb, title, &cause), 1);
	assert_string_equal(title, "Why a<b means ceasefire");

	doc = rss_item(
	    "p2", "Tom &amp;amp; Jerry", "http://x.test/p2", "Nothing at all.");
	stats = fetched(fx, 1, doc);
	free(doc);
	assert_int_equal(stats.new_stories, 1);
	assert_int_equal(
	    store_stories(fx->st, &filter, title_cb, title, &cause), 1);
	assert_string_equal(title, "Tom & Jerry");

	stats = fetched(fx, 2,
	    "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>t</title>"
	    "<entry><id>urn:p3</id><title>Talks</title>"
	    "<link href=\"http://x.test/p3\"/><summary type=\"text\">"
	    "If x&lt;y then ceasefire</summary></entry></feed>");
	assert_int_equal(stats.alerts, 1);
}

/*
 * A description of raw paragraphs (not escaped) alerts on a phrase
 * across them: its text was "track twodiplomacy".
 */
static void
test_pipeline_raw_html_description(void **state)
{
	struct fixture *fx = *state;
	struct pipeline_stats stats;

	stats = fetched(fx, 3,
	    "<rss version=\"2.0\"><channel><title>t</title><item>"
	    "<guid>urn:r1</guid><title>Geneva</title><description>"
	    "<p>Talks on track two</p><p>diplomacy resumed</p>"
	    "</description></item></channel></rss>");
	assert_int_equal(stats.new_stories, 1);
	assert_int_equal(stats.alerts, 1);
}

static void
test_pipeline_edit_alerts_once_when_it_newly_matches(void **state)
{
	struct fixture *fx = *state;
	struct pipeline_stats stats;
	char *doc;

	doc = rss_item("e-1", "Talks in New York", "https://e.example/1",
	    "Former officials met in New York.");
	stats = fetched(fx, 0, doc);
	free(doc);
	assert_int_equal(stats.alerts, 0);
	/* Edited: now it matches "track two diplomacy". */
	doc = rss_item("e-1", "Talks in New York", "https://e.example/1",
	    "Former officials met in New York for track two diplomacy.");
	stats = fetched(fx, 0, doc);
	free(doc);
	assert_int_equal(stats.new_stories, 0);
	assert_int_equal(stats.edited, 1);
	assert_int_equal(stats.alerts, 1);
	/* Edited again, matching the same: no second alert. */
	doc = rss_item("e-1", "Talks in New York", "https://e.example/1",
	    "Former officials met in New York for track two diplomacy, "
	    "sources said.");
	stats = fetched(fx, 0, doc);
	free(doc);
	assert_int_equal(stats.edited, 1);
	assert_int_equal(stats.alerts, 0);
	/* Fetched again unchanged: nothing at all. */
	doc = rss_item("e-1", "Talks in New York", "https://e.example/1",
	    "Former officials met in New York for track two diplomacy, "
	    "sources said.");
	stats = fetched(fx, 0, doc);
	free(doc);
	assert_int_equal(stats.edited, 0);
	assert_int_equal(pending(fx), 1);
}

static void
exec_sql(struct fixture *fx, const char *sql)
{
	testutil_db_exec(fx->cfg->database, sql);
}

static int
count_sql(struct fixture *fx, const char *sql)
{
	return (int)testutil_db_count(fx->cfg->database, sql);
}

static void
test_pipeline_pruned_story_does_not_alert_again(void **state)
{
	struct fixture *fx = *state;
	struct store_alert *a;
	struct pipeline_stats stats;
	char *doc, *cause = NULL;
	int n;

	doc = rss_item("p-1", "Track two diplomacy in Geneva",
	    "https://p.example/geneva", "Officials met in Geneva.");
	assert_int_equal(fetched(fx, 0, doc).alerts, 1);
	a = store_alerts_due(fx->st, 0, 0, 10, &n, &cause);
	assert_int_equal(n, 1);
	assert_int_equal(
	    store_alert_delivered(fx->st, a->id, time(NULL), &cause), 0);
	store_alerts_free(a, n);
	/* A hundred days on, retention (90 days) prunes its text. */
	exec_sql(fx, "UPDATE stories SET first_seen = first_seen - 8640000");
	assert_int_equal(
	    store_prune(fx->st, time(NULL) - 90 * 86400, 500, &cause), 1);
	assert_int_equal(
	    store_prune(fx->st, time(NULL) - 90 * 86400, 500, &cause), 0);
	assert_int_equal(
	    count_sql(fx,
		"SELECT count(*) FROM stories WHERE "
		"title IS NULL AND summary IS NULL AND pruned = 1"),
	    1);
	assert_int_equal(count_sql(fx, "SELECT count(*) FROM alerts"), 0);
	/* The same item again in its feed: known, nothing new. */
	stats = fetched(fx, 0, doc);
	assert_int_equal(stats.new_stories + stats.edited + stats.alerts, 0);
	free(doc);
	/* The same story in another feed: it joins, and alerts no one. */
	doc = rss_item("q-9", "Track two diplomacy in Geneva",
	    "https://p.example/geneva?utm_source=x",
	    "Officials met in Geneva.");
	stats = fetched(fx, 1, doc);
	free(doc);
	assert_int_equal(stats.new_stories, 1);
	assert_int_equal(stats.duplicates, 1);
	assert_int_equal(stats.alerts, 0);
	assert_int_equal(pending(fx), 0);
}

/* Each feed's stored last error, by feed index, copied. */
static void
error_cb(const struct store_feed_row *r, void *arg)
{
	char **errors = arg;
	int i;

	if (sscanf(r->name, "f%d", &i) == 1 && i >= 0 && i < NFEEDS &&
	    r->last_error != NULL)
		errors[i] = xstrdup(r->last_error);
}

static int
is_utf8(const char *s)
{
	return xmlCheckUTF8((const unsigned char *)s);
}

/*
 * A failed fetch's error goes into the store, the log and the JSON of
 * feed-health alerts and `feedwatch feeds --json`: valid UTF-8 always.
 * Tried: a document that is no feed, whose error quotes 200 Cyrillic
 * letters of it (cut to the 255 bytes of stats.error, in the middle of
 * a letter); a transfer error quoting a host name in Latin-1.
 */
static void
test_pipeline_error_is_utf8(void **state)
{
	struct fixture *fx = *state;
	struct config_feed *f = feed_of(fx, 1);
	struct store_feed sf;
	struct store_fetch fetch;
	struct pipeline_stats stats;
	char doc[600], *errors[NFEEDS] = { NULL }, *cause = NULL;
	size_t n;

	n = (size_t)snprintf(doc, sizeof doc, "<a");
	for (int i = 0; i < 200; i++)
		n += (size_t)snprintf(doc + n, sizeof doc - n, "\xd1\x8f");
	snprintf(doc + n, sizeof doc - n, "/>");
	stats = fetched(fx, 0, doc);
	assert_int_equal(stats.failures, 1);
	assert_non_null(strstr(stats.error, "not a feed"));
	assert_true(strlen(stats.error) > 200);
	assert_true(is_utf8(stats.error));

	assert_int_equal(
	    store_feed_get(fx->st, f->name, f->url, &sf, &cause), 0);
	memset(&fetch, 0, sizeof fetch);
	fetch.when = time(NULL);
	fetch.error = "Could not resolve host: caf\xe9.example";
	assert_int_equal(pipeline_feed(fx->st, fx->cfg, f, &sf, NULL, &fetch,
			     &stats, NULL, &cause),
	    0);
	store_feed_clear(&sf);
	assert_string_equal(
	    stats.error, "Could not resolve host: caf?.example");

	assert_int_equal(store_feeds(fx->st, error_cb, errors, &cause), 0);
	assert_non_null(errors[0]);
	assert_true(is_utf8(errors[0]));
	assert_non_null(strstr(errors[0], "\xd1\x8f\xd1\x8f"));
	assert_string_equal(errors[1], "Could not resolve host: caf?.example");
	for (int i = 0; i < NFEEDS; i++)
		free(errors[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pipeline_entry_text),
		cmocka_unit_test_setup_teardown(
		    test_pipeline_error_is_utf8, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_pipeline_same_link_other_words, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_pipeline_description_only_item, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_pipeline_plain_text_title, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_pipeline_raw_html_description, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_pipeline_syndicated_story_alerts_once, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_pipeline_headline_template_not_merged, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_pipeline_reissued_guids_are_not_new, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_pipeline_edit_alerts_once_when_it_newly_matches, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_pipeline_pruned_story_does_not_alert_again, setup,
		    teardown),
	};
	int rc;

	xmlInitParser();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	xmlCleanupParser();
	return rc;
}
