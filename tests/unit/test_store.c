#include <sys/resource.h>
#include <sys/stat.h>

#include <setjmp.h>
#include <signal.h>
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

#include <sqlite3.h>

#include "dedup.h"
#include "store.h"
#include "testutil.h"
#include "xmalloc.h"

/* The story log: migrations, stories, the outbox, on a real SQLite file. */

struct fixture {
	char dir[64];
	char path[128];
	char fts[136]; /* the full-text index beside it */
};

static int
setup(void **state)
{
	struct fixture *fx = xcalloc(1, sizeof *fx);

	testutil_tmpdir(fx->dir, sizeof fx->dir, "store");
	snprintf(fx->path, sizeof fx->path, "%s/feedwatch.db", fx->dir);
	snprintf(fx->fts, sizeof fx->fts, "%s.fts", fx->path);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;
	char p[160];

	const char *files[] = { fx->path, fx->fts };

	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		unlink(files[i]);
		snprintf(p, sizeof p, "%s-wal", files[i]);
		unlink(p);
		snprintf(p, sizeof p, "%s-shm", files[i]);
		unlink(p);
	}
	rmdir(fx->dir);
	free(fx);
	return 0;
}

static struct store *
open_ok(const char *path)
{
	struct store *st;
	char *cause = NULL;

	if ((st = store_open(path, &cause)) == NULL)
		fail_msg("store_open: %s", cause);
	return st;
}

/* Run SQL straight on the file, as another program would. */
static void
exec_sql(const char *path, const char *sql)
{
	testutil_db_exec(path, sql);
}

static int64_t
count_sql(const char *path, const char *sql)
{
	return testutil_db_count(path, sql);
}

static char *
read_text(const char *path)
{
	char *text;

	assert_non_null(text = testutil_read_file(path));
	return text;
}

static int64_t
add_story(struct store *st, int64_t feed_id, const char *key, int *is_new)
{
	struct store_story s;
	int64_t id = -1;
	char *cause = NULL;

	memset(&s, 0, sizeof s);
	s.key = key;
	s.guid = key;
	s.title = "A title";
	s.url = "https://example.org/a";
	s.summary = "Some text about track two diplomacy.";
	s.published = 1688911320;

	if (store_story_add(st, feed_id, &s, &id, is_new, &cause) == -1)
		fail_msg("store_story_add: %s", cause);
	return id;
}

/* How many alerts store_alerts_due returns. */
static int
count_due(struct store *st, time_t now, int64_t after)
{
	struct store_alert *a;
	char *cause = NULL;
	int n;

	a = store_alerts_due(st, now, after, 10, &n, &cause);
	assert_null(cause);
	store_alerts_free(a, n);
	return n;
}

static void
count_cb(const struct store_row *r, void *arg)
{
	(void)r;
	(*(int *)arg)++;
}

/* How many stories a full-text search finds. */
static int
search(struct store *st, const char *query)
{
	struct store_filter f;
	char *cause = NULL;
	int n = 0;

	memset(&f, 0, sizeof f);
	f.search = query;
	if (store_stories(st, &f, count_cb, &n, &cause) == -1)
		fail_msg("store_stories: %s", cause);
	return n;
}

static void
test_store_fresh_database(void **state)
{
	struct fixture *fx = *state;
	struct store *st = open_ok(fx->path);

	assert_int_equal(store_schema_version(st), STORE_SCHEMA_VERSION);
	store_close(st);
	assert_int_equal(
	    count_sql(fx->path, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
	assert_int_equal(
	    count_sql(fx->path,
		"SELECT count(*) FROM "
		"sqlite_master WHERE name IN ('feeds', 'stories', 'matches', "
		"'alerts', 'fts_changes')"),
	    5);
	assert_int_equal(count_sql(fx->fts,
			     "SELECT count(*) FROM sqlite_master "
			     "WHERE name IN ('stories_fts', 'fts_state')"),
	    2);
	/* WAL mode is a property of the file: it must persist. */
	st = open_ok(fx->path);
	store_close(st);
	assert_int_equal(count_sql(fx->path,
			     "SELECT journal_mode = 'wal' "
			     "FROM pragma_journal_mode"),
	    1);
}

static void
test_store_migrates_version_1(void **state)
{
	struct fixture *fx = *state;
	struct store *st;
	char *sql;

	sql = read_text(FEEDWATCH_TEST_DATA "/schema-v1.sql");
	exec_sql(fx->path, sql);
	free(sql);
	assert_int_equal(count_sql(fx->path, "PRAGMA user_version"), 1);
	st = open_ok(fx->path);
	assert_int_equal(store_schema_version(st), STORE_SCHEMA_VERSION);
	store_close(st);
	/* The old story is kept, and is now found by full-text search. */
	assert_int_equal(
	    count_sql(fx->path, "SELECT count(*) FROM stories"), 1);
	assert_int_equal(
	    count_sql(fx->fts,
		"SELECT rowid FROM stories_fts "
		"WHERE stories_fts MATCH '\"track two diplomacy\"'"),
	    7);
	assert_int_equal(count_sql(fx->path,
			     "SELECT count(*) FROM alerts "
			     "WHERE state = 'delivered'"),
	    1);
}

/*
 * A log of version 10 keeps its near-duplicates: the look-up reads the
 * window's stories into memory, and the dedup window still holds.
 */
static void
test_store_migrates_version_10(void **state)
{
	struct fixture *fx = *state;
	struct store *st;
	char *sql, *cause = NULL;
	int64_t cluster;
	int distance;

	sql = read_text(FEEDWATCH_TEST_DATA "/schema-v10.sql");
	exec_sql(fx->path, sql);
	free(sql);
	st = open_ok(fx->path);
	assert_int_equal(store_schema_version(st), STORE_SCHEMA_VERSION);
	/* 1 bit from story 1, 2 from its copy: story 1's cluster. */
	assert_int_equal(
	    store_cluster_find(st, NULL, 0x0123456789abcdefULL ^ 0x100, 3, 0,
		&cluster, &distance, &cause),
	    0);
	assert_int_equal(cluster, 1);
	assert_int_equal(distance, 1);
	/* Both were first seen before the window. */
	assert_int_equal(
	    store_cluster_find(st, NULL, 0x0123456789abcdefULL ^ 0x100, 3,
		1735690200, &cluster, &distance, &cause),
	    0);
	assert_int_equal(cluster, 0);
	/* A copy's URL finds the cluster, whenever first seen. */
	assert_int_equal(store_cluster_find(st, "https://daily.example/7", 1, 3,
			     1735690200, &cluster, &distance, &cause),
	    0);
	assert_int_equal(cluster, 1);
	assert_int_equal(distance, -1);
	assert_int_equal(store_cluster_find(st, "https://daily.example/8", 1, 3,
			     1735690200, &cluster, &distance, &cause),
	    0);
	assert_int_equal(cluster, 0);
	/* Its full-text index moved to a file of its own: one cluster. */
	assert_int_equal(search(st, "\"river dam\""), 1);
	assert_int_equal(search(st, "exclusive"), 1);
	store_close(st);
	/* Version 13: no block index; the window's index instead. */
	assert_int_equal(count_sql(fx->path,
			     "SELECT count(*) FROM sqlite_master WHERE name "
			     "IN ('stories_near0', 'stories_near1', "
			     "'stories_near2', 'stories_near3', "
			     "'stories_first_seen')"),
	    0);
	assert_int_equal(count_sql(fx->path,
			     "SELECT count(*) FROM sqlite_master "
			     "WHERE name = 'stories_window'"),
	    1);
	/* Version 14: canonical URLs by their hash. */
	assert_int_equal(count_sql(fx->path,
			     "SELECT count(*) FROM sqlite_master WHERE name "
			     "IN ('stories_canonical', 'stories_url')"),
	    1);
	assert_int_equal(
	    count_sql(
		fx->path, "SELECT count(*) FROM stories WHERE url_key IS NULL"),
	    0);
	assert_int_equal(count_sql(fx->path,
			     "SELECT count(*) FROM sqlite_master "
			     "WHERE name LIKE 'stories_fp_'"),
	    0);
	assert_int_equal(
	    count_sql(fx->path, "SELECT count(*) FROM stories"), 2);
}

/*
 * No statement reads a whole table of the log where an index would do:
 * the sources of an alert's cluster were once found by a scan of every
 * story, 17 ms an alert in a log of 42,000. Asked of a fresh log and of
 * one migrated from version 10.
 */
static void
test_store_plans_use_indexes(void **state)
{
	struct fixture *fx = *state;
	struct store *st;
	char *sql, *cause = NULL;

	st = open_ok(fx->path);
	if (store_plan_check(st, &cause) == -1)
		fail_msg("fresh log: %s", cause);
	store_close(st);
	unlink(fx->path);
	unlink(fx->fts);
	sql = read_text(FEEDWATCH_TEST_DATA "/schema-v10.sql");
	exec_sql(fx->path, sql);
	free(sql);
	st = open_ok(fx->path);
	if (store_plan_check(st, &cause) == -1)
		fail_msg("log of version 10: %s", cause);
	store_close(st);
}

static void
test_store_refuses_newer_schema(void **state)
{
	struct fixture *fx = *state;
	char *cause = NULL;

	exec_sql(fx->path, "CREATE TABLE t (x); PRAGMA user_version = 99;");
	assert_null(store_open(fx->path, &cause));
	assert_non_null(strstr(cause, "schema version 99 is newer"));
	free(cause);
	/* Nothing was touched. */
	assert_int_equal(count_sql(fx->path, "PRAGMA user_version"), 99);
}

static void
test_store_refuses_non_database(void **state)
{
	struct fixture *fx = *state;
	char *cause = NULL;
	FILE *f = fopen(fx->path, "w");

	fputs("this is not an SQLite database, not even close to one.....\n"
	      "padding padding padding padding padding padding padding pad\n",
	    f);
	fclose(f);
	assert_null(store_open(fx->path, &cause));
	assert_non_null(strstr(cause, "not a database"));
	free(cause);
}

static void
test_store_story_once_per_key(void **state)
{
	struct fixture *fx = *state;
	struct store *st = open_ok(fx->path);
	struct store_feed a, b;
	char *cause;
	int64_t id1, id2, id3;
	int is_new;

	assert_int_equal(store_feed_get(st, "a", "http://a/", &a, &cause), 0);
	assert_int_equal(store_feed_get(st, "b", "http://b/", &b, &cause), 0);
	assert_true(a.id != b.id);
	id1 = add_story(st, a.id, "id:1", &is_new);
	assert_int_equal(is_new, 1);
	id2 = add_story(st, a.id, "id:1", &is_new);
	assert_int_equal(is_new, 0);
	assert_int_equal(id1, id2);
	/* The same key in another feed is that feed's own story. */
	id3 = add_story(st, b.id, "id:1", &is_new);
	assert_int_equal(is_new, 1);
	assert_true(id3 != id1);
	store_feed_clear(&a);
	store_feed_clear(&b);
	store_close(st);
}

static void
test_store_rollback_writes_nothing(void **state)
{
	struct fixture *fx = *state;
	struct store *st = open_ok(fx->path);
	struct store_feed f;
	char *cause;
	int is_new;

	assert_int_equal(store_feed_get(st, "a", "http://a/", &f, &cause), 0);
	assert_int_equal(store_begin(st, &cause), 0);
	add_story(st, f.id, "id:1", &is_new);
	store_rollback(st);
	store_close(st);
	assert_int_equal(
	    count_sql(fx->path, "SELECT count(*) FROM stories"), 0);
	store_feed_clear(&f);
}

static void
test_store_feed_state(void **state)
{
	struct fixture *fx = *state;
	struct store *st = open_ok(fx->path);
	struct store_feed f;
	struct store_fetch ok = { .when = 1000,
		.http_status = 200,
		.etag = "\"v1\"",
		.last_modified = "Mon, 01 Jan 2024",
		.next_poll = 1900,
		.items = 5 };
	struct store_fetch bad = { .when = 2000,
		.http_status = 503,
		.error = "HTTP status 503",
		.next_poll = 2600,
		.items = -1 };
	struct store_fetch not_modified = {
		.when = 3000, .http_status = 304, .next_poll = 3900, .items = -1
	};
	char *cause;

	assert_int_equal(store_feed_get(st, "a", "http://a/", &f, &cause), 0);
	assert_int_equal(store_feed_fetched(st, f.id, &ok, &cause), 0);
	assert_int_equal(store_feed_fetched(st, f.id, &bad, &cause), 0);
	store_feed_clear(&f);
	/* A failure keeps the validators of the last success. */
	assert_int_equal(store_feed_get(st, "a", "http://a/", &f, &cause), 0);
	assert_string_equal(f.etag, "\"v1\"");
	assert_string_equal(f.last_modified, "Mon, 01 Jan 2024");
	assert_int_equal(f.failures, 1);
	assert_int_equal(f.next_poll, 2600);
	assert_int_equal(f.failing_since, 2000);
	store_feed_clear(&f);
	/* A 304 without validators keeps them, and the item count too. */
	assert_int_equal(store_feed_get(st, "a", "http://a/", &f, &cause), 0);
	assert_int_equal(
	    store_feed_fetched(st, f.id, &not_modified, &cause), 0);
	store_feed_clear(&f);
	assert_int_equal(store_feed_get(st, "a", "http://a/", &f, &cause), 0);
	assert_string_equal(f.etag, "\"v1\"");
	assert_int_equal(f.failures, 0);
	store_feed_clear(&f);
	store_close(st);
	/* The 304 was a successful poll; the document had 5 items. */
	assert_int_equal(
	    count_sql(fx->path, "SELECT last_success FROM feeds"), 3000);
	assert_int_equal(
	    count_sql(fx->path, "SELECT items_seen FROM feeds"), 5);
}

/*
 * A permanent move and a 410 hold while the configured url stays; a new
 * url in the configuration starts the feed afresh.
 */
static void
test_store_feed_moved_gone(void **state)
{
	struct fixture *fx = *state;
	struct store *st = open_ok(fx->path);
	struct store_feed f;
	struct store_fetch moved = { .when = 1000,
		.http_status = 200,
		.next_poll = 1900,
		.items = 3,
		.moved_url = "https://new.example/feed",
		.poll_interval = 1200 };
	struct store_fetch gone = { .when = 2000,
		.http_status = 410,
		.error = "HTTP status 410 (gone)",
		.next_poll = 2900,
		.items = -1,
		.is_gone = 1 };
	char *cause;

	assert_int_equal(store_feed_get(st, "a", "http://a/", &f, &cause), 0);
	assert_null(f.moved_url);
	assert_int_equal(store_feed_fetched(st, f.id, &moved, &cause), 0);
	store_feed_clear(&f);
	assert_int_equal(store_feed_get(st, "a", "http://a/", &f, &cause), 0);
	assert_string_equal(f.moved_url, "https://new.example/feed");
	assert_int_equal(f.poll_interval, 1200);
	assert_int_equal(f.gone_at, 0);
	assert_int_equal(store_feed_fetched(st, f.id, &gone, &cause), 0);
	store_feed_clear(&f);
	assert_int_equal(store_feed_get(st, "a", "http://a/", &f, &cause), 0);
	assert_int_equal(f.gone_at, 2000);
	assert_string_equal(f.moved_url, "https://new.example/feed");
	store_feed_clear(&f);
	/* The user edits the url: neither the move nor the 410 holds. */
	assert_int_equal(store_feed_get(st, "a", "http://b/", &f, &cause), 0);
	assert_null(f.moved_url);
	assert_int_equal(f.gone_at, 0);
	store_feed_clear(&f);
	store_close(st);
}

static void
test_store_outbox(void **state)
{
	struct fixture *fx = *state;
	struct store *st = open_ok(fx->path);
	struct store_alert *a;
	struct store_feed f;
	char *cause = NULL;
	int64_t sid;
	int is_new, n;
	time_t now = time(NULL);

	assert_int_equal(store_feed_get(st, "a", "http://a/", &f, &cause), 0);
	sid = add_story(st, f.id, "id:1", &is_new);
	assert_int_equal(
	    store_match_add(st, sid, "w", "[\"x\"]", "«x»", &cause), 0);
	assert_int_equal(store_alert_add(st, sid, "w", "h", now, &cause), 0);
	/* Queuing the same alert twice keeps one. */
	assert_int_equal(store_alert_add(st, sid, "w", "h", now, &cause), 0);
	a = store_alerts_due(st, now, 0, 10, &n, &cause);
	assert_int_equal(n, 1);
	assert_int_equal(strlen(a->alert_id), 32);
	assert_string_equal(a->watchlist, "w");
	assert_string_equal(a->feed_name, "a");
	assert_string_equal(a->title, "A title");
	assert_string_equal(a->matched, "[\"x\"]");
	assert_string_equal(a->snippet, "«x»");
	assert_int_equal(a->published, 1688911320);

	/* A failed attempt waits for its backoff, then is due again. */
	assert_int_equal(store_alert_attempt_failed(st, a->id, "exit status 1",
			     now + 60, 2, 1, &cause),
	    0);
	assert_int_equal(count_due(st, now, 0), 0);
	assert_int_equal(count_due(st, now + 60, 0), 1);
	/* With now 0 (--once) every pending alert is due... */
	assert_int_equal(count_due(st, 0, 0), 1);
	/* ... but only once per run: none after the one just tried. */
	assert_int_equal(count_due(st, 0, a->id), 0);
	/* The last allowed attempt fails it for good, with its reason. */
	assert_int_equal(store_alert_attempt_failed(st, a->id, "exit status 2",
			     now + 120, 2, 1, &cause),
	    0);
	assert_int_equal(store_alert_count(st, STORE_ALERT_FAILED, &cause), 1);
	assert_int_equal(store_alert_count(st, STORE_ALERT_PENDING, &cause), 0);
	store_alerts_free(a, 1);
	store_feed_clear(&f);
	store_close(st);
	assert_int_equal(count_sql(fx->path, "SELECT attempts FROM alerts"), 2);
	assert_int_equal(count_sql(fx->path,
			     "SELECT count(*) FROM alerts "
			     "WHERE last_error = 'exit status 2'"),
	    1);
}

static void
test_store_delivered(void **state)
{
	struct fixture *fx = *state;
	struct store *st = open_ok(fx->path);
	struct store_alert *a;
	struct store_feed f;
	char *cause = NULL;
	int64_t sid;
	int is_new, n;

	assert_int_equal(store_feed_get(st, "a", "http://a/", &f, &cause), 0);
	sid = add_story(st, f.id, "id:1", &is_new);
	assert_int_equal(store_alert_add(st, sid, "w", "h", 1, &cause), 0);
	a = store_alerts_due(st, 0, 0, 10, &n, &cause);
	assert_int_equal(n, 1);
	/* No match row: the alert still comes out, without a snippet. */
	assert_null(a->snippet);
	assert_int_equal(store_alert_delivered(st, a->id, 5, &cause), 0);
	store_alerts_free(a, n);
	assert_int_equal(count_due(st, 0, 0), 0);
	assert_int_equal(
	    store_alert_count(st, STORE_ALERT_DELIVERED, &cause), 1);
	store_feed_clear(&f);
	store_close(st);
}

/* Of stories equally near a fingerprint, the oldest cluster is joined. */
static void
test_store_cluster_find_nearest(void **state)
{
	static const uint64_t fp[] = { 0xf0f0f0f0f0f0f0f0ULL,
		0xf0f0f0f0f0f0f0f3ULL, 0xf0f0f0f0f0f0f0f5ULL };
	struct fixture *fx = *state;
	struct store *st = open_ok(fx->path);
	struct store_story s;
	struct store_feed f;
	char *cause = NULL, key[16];
	int64_t id[3], cluster;
	int is_new, distance;

	assert_int_equal(store_feed_get(st, "a", "http://a/", &f, &cause), 0);
	for (int i = 0; i < 3; i++) {
		memset(&s, 0, sizeof s);
		snprintf(key, sizeof key, "id:%d", i);
		s.key = key;
		s.title = "A title";
		s.published = -1;
		s.simhash = fp[i];
		assert_int_equal(
		    store_story_add(st, f.id, &s, &id[i], &is_new, &cause), 0);
	}
	/* 1 bit from stories 2 and 3, 3 from story 1: story 2. */
	assert_int_equal(store_cluster_find(st, NULL, fp[0] ^ 0x7ULL, 3, 0,
			     &cluster, &distance, &cause),
	    0);
	assert_int_equal(distance, 1);
	assert_int_equal(cluster, id[1]);
	/* 4 bits from all: none. */
	assert_int_equal(store_cluster_find(st, NULL, fp[0] ^ 0xf00ULL, 3, 0,
			     &cluster, &distance, &cause),
	    0);
	assert_int_equal(cluster, 0);
	store_feed_clear(&f);
	store_close(st);
}

/*
 * Add a story with a fingerprint, first seen at seen, its key for a
 * canonical URL; return its id.
 */
static int64_t
add_near(struct store *st, int64_t feed_id, const char *key, uint64_t fp,
    time_t seen)
{
	struct store_story s;
	char *cause = NULL;
	int64_t id = 0;
	int is_new;

	memset(&s, 0, sizeof s);
	s.key = key;
	s.canonical_url = key;
	s.title = "A title";
	s.published = -1;
	s.first_seen = seen;
	s.simhash = fp;
	if (store_story_add(st, feed_id, &s, &id, &is_new, &cause) == -1)
		fail_msg("store_story_add: %s", cause);
	return id;
}

/* The cluster store_cluster_find finds within 3 bits of fp since since. */
static int64_t
near_cluster(struct store *st, uint64_t fp, time_t since)
{
	char *cause = NULL;
	int64_t cluster;
	int distance;

	if (store_cluster_find(
		st, NULL, fp, 3, since, &cluster, &distance, &cause) == -1)
		fail_msg("store_cluster_find: %s", cause);
	return cluster;
}

/* The cluster of the story with this canonical URL, 0 = none. */
static int64_t
url_cluster(struct store *st, const char *url)
{
	char *cause = NULL;
	int64_t cluster;
	int distance, found;

	if (store_cluster_find(st, url, 0, 3, 0, &cluster, &distance, &cause) ==
	    -1)
		fail_msg("store_cluster_find: %s", cause);
	if (store_story_seen(st, 1, url, 0, &found, &cause) == -1)
		fail_msg("store_story_seen: %s", cause);
	assert_int_equal(found, cluster != 0);
	return cluster;
}

/*
 * The window's fingerprints in memory follow the log: stories added
 * after the first look-up, a wider window, a rollback, and what
 * another connection commits.
 */
static void
test_store_near_follows_log(void **state)
{
	struct fixture *fx = *state;
	struct store *st = open_ok(fx->path), *other;
	struct store_feed f;
	char *cause = NULL;
	int64_t old, id;

	assert_int_equal(store_feed_get(st, "a", "http://a/", &f, &cause), 0);
	old = add_near(st, f.id, "id:old", 0x1111ULL, 1000);
	assert_int_equal(near_cluster(st, 0x1111ULL, 2000), 0);
	id = add_near(st, f.id, "id:new", 0x2222ULL, 3000);
	assert_int_equal(near_cluster(st, 0x2223ULL, 2000), id);
	/* A wider window reads the log again. */
	assert_int_equal(near_cluster(st, 0x1113ULL, 500), old);
	assert_int_equal(near_cluster(st, 0x1113ULL, 2000), 0);
	/* A story rolled back is not found. */
	assert_int_equal(store_begin(st, &cause), 0);
	id = add_near(st, f.id, "id:gone", 0x3333ULL, 3000);
	assert_int_equal(near_cluster(st, 0x3333ULL, 2000), id);
	assert_int_equal(url_cluster(st, "id:gone"), id);
	store_rollback(st);
	assert_int_equal(near_cluster(st, 0x3333ULL, 2000), 0);
	assert_int_equal(url_cluster(st, "id:gone"), 0);
	/* Another connection's story is, by URL too. */
	assert_int_equal(url_cluster(st, "id:other"), 0);
	other = open_ok(fx->path);
	id = add_near(other, f.id, "id:other", 0x4444ULL, 3000);
	store_close(other);
	assert_int_equal(near_cluster(st, 0x4445ULL, 2000), id);
	assert_int_equal(url_cluster(st, "id:other"), id);
	assert_int_equal(url_cluster(st, "id:old"), old);
	store_feed_clear(&f);
	store_close(st);
}

/*
 * Two canonical URLs whose keys collide (one story is given the other
 * URL's key by hand, as a 64-bit collision would): a look-up compares
 * the URLs, and finds neither story for the other's URL.
 */
static void
test_store_url_key_collision(void **state)
{
	struct fixture *fx = *state;
	struct store *st = open_ok(fx->path);
	struct store_feed f;
	char *cause = NULL, sql[160];
	int64_t a, b;
	int n;

	assert_int_equal(store_feed_get(st, "a", "http://a/", &f, &cause), 0);
	a = add_near(st, f.id, "https://a.example/1", 0x1111ULL, 3000);
	n = snprintf(sql, sizeof sql,
	    "UPDATE stories SET url_key = %lld WHERE id = %lld",
	    (long long)dedup_url_key("https://b.example/2"), (long long)a);
	assert_true(n > 0 && (size_t)n < sizeof sql);
	exec_sql(fx->path, sql);
	assert_int_equal(url_cluster(st, "https://b.example/2"), 0);
	b = add_near(st, f.id, "https://b.example/2", 0x2222ULL, 3000);
	assert_int_equal(url_cluster(st, "https://b.example/2"), b);
	store_feed_clear(&f);
	store_close(st);
}

/*
 * A story stored without a url_key, as a daemon older than schema 14
 * stores it when a newer command migrated the log under it, gets its
 * key at the next open, and is found by its URL again.
 */
static void
test_store_url_key_filled_at_open(void **state)
{
	struct fixture *fx = *state;
	struct store *st = open_ok(fx->path);
	struct store_feed f;
	char *cause = NULL;
	int64_t a;

	assert_int_equal(store_feed_get(st, "a", "http://a/", &f, &cause), 0);
	a = add_near(st, f.id, "https://a.example/1", 0x1111ULL, 3000);
	store_feed_clear(&f);
	store_close(st);
	exec_sql(fx->path, "UPDATE stories SET url_key = NULL");
	st = open_ok(fx->path);
	assert_int_equal(url_cluster(st, "https://a.example/1"), a);
	store_close(st);
	assert_int_equal(
	    count_sql(
		fx->path, "SELECT count(*) FROM stories WHERE url_key IS NULL"),
	    0);
}

/*
 * A commit that fails for want of disk (here the file size limit) is
 * rolled back by SQLite itself: the stories of the transaction are gone
 * from the window's index too, and a later story that takes one's id
 * is not joined by copies of the story that was lost.
 */
static void
test_store_near_failed_commit(void **state)
{
	struct fixture *fx = *state;
	struct store *st = open_ok(fx->path);
	struct store_feed f;
	struct rlimit rl, limited;
	struct stat sb;
	char wal[160], *cause = NULL;
	int64_t lost, id;

	assert_int_equal(store_feed_get(st, "a", "http://a/", &f, &cause), 0);
	add_near(st, f.id, "id:first", 0x1111ULL, 3000);
	assert_int_equal(near_cluster(st, 0x1111ULL, 2000), 1);
	/* The full-text index has caught up: it writes nothing meanwhile. */
	assert_int_equal(search(st, "title"), 1);
	snprintf(wal, sizeof wal, "%s-wal", fx->path);
	assert_int_equal(stat(wal, &sb), 0);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &rl), 0);
	limited = rl;
	limited.rlim_cur = (rlim_t)sb.st_size;
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &limited), 0);
	assert_int_equal(store_begin(st, &cause), 0);
	lost = add_near(st, f.id, "id:lost", 0x5555ULL, 3000);
	assert_int_equal(near_cluster(st, 0x5555ULL, 2000), lost);
	assert_int_equal(store_commit(st, &cause), -1);
	free(cause);
	cause = NULL;
	store_rollback(st);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &rl), 0);
	signal(SIGXFSZ, SIG_DFL);
	/* Another story, which SQLite gives the lost one's id. */
	id = add_near(st, f.id, "id:other", 0xaaaa0000ULL, 3000);
	assert_int_equal(id, lost);
	assert_int_equal(near_cluster(st, 0x5555ULL, 2000), 0);
	assert_int_equal(near_cluster(st, 0xaaaa0000ULL, 2000), id);
	store_feed_clear(&f);
	store_close(st);
}

/*
 * Search follows the log: a story is found once committed, by its new
 * words once edited, and no more once pruned; a bad query says why.
 */
static void
test_store_search_follows_edits(void **state)
{
	struct fixture *fx = *state;
	struct store *st = open_ok(fx->path);
	struct store_filter f;
	struct store_story s;
	struct store_feed fd;
	char *cause = NULL;
	int64_t id;
	int is_new, n = 0;

	assert_int_equal(store_feed_get(st, "a", "http://a/", &fd, &cause), 0);
	assert_int_equal(store_begin(st, &cause), 0);
	id = add_story(st, fd.id, "id:1", &is_new);
	add_story(st, fd.id, "id:2", &is_new);
	assert_int_equal(store_commit(st, &cause), 0);
	assert_int_equal(search(st, "\"track two diplomacy\""), 2);
	memset(&s, 0, sizeof s);
	s.title = "A title";
	s.summary = "Backchannel talks resumed.";
	assert_int_equal(store_story_update(st, id, &s, &cause), 0);
	/* Edited twice, in one transaction. */
	assert_int_equal(store_begin(st, &cause), 0);
	s.summary = "Backchannel talks resumed in Geneva.";
	assert_int_equal(store_story_update(st, id, &s, &cause), 0);
	s.summary = "Backchannel talks resumed in Vienna.";
	assert_int_equal(store_story_update(st, id, &s, &cause), 0);
	assert_int_equal(store_commit(st, &cause), 0);
	assert_int_equal(search(st, "\"track two diplomacy\""), 1);
	assert_int_equal(search(st, "backchannel vienna"), 1);
	assert_int_equal(search(st, "geneva"), 0);
	assert_int_equal(store_prune(st, time(NULL) + 10, 10, &cause), 2);
	assert_int_equal(search(st, "\"track two diplomacy\""), 0);
	assert_int_equal(search(st, "backchannel"), 0);
	memset(&f, 0, sizeof f);
	f.search = "\"unterminated";
	assert_int_equal(store_stories(st, &f, count_cb, &n, &cause), -1);
	assert_non_null(cause);
	free(cause);
	store_feed_clear(&fd);
	store_close(st);
	/* The index has followed every change: the log forgot them. */
	assert_int_equal(
	    count_sql(fx->path, "SELECT count(*) FROM fts_changes"), 0);
}

/*
 * Stories the index never saw (a crash before it followed, a deleted
 * index file) are indexed when the log is next opened.
 */
static void
test_store_search_catches_up(void **state)
{
	struct fixture *fx = *state;
	struct store *st = open_ok(fx->path);
	struct store_feed fd;
	char *cause = NULL, p[160];
	int is_new;

	assert_int_equal(store_feed_get(st, "a", "http://a/", &fd, &cause), 0);
	add_story(st, fd.id, "id:1", &is_new);
	store_feed_clear(&fd);
	store_close(st);
	exec_sql(fx->path,
	    "INSERT INTO stories (feed_id, key, title, summary, first_seen)"
	    " VALUES (1, 'id:2', 'Dam talks', 'Track two diplomacy again.',"
	    " 1000)");
	st = open_ok(fx->path);
	assert_int_equal(search(st, "\"track two diplomacy\""), 2);
	store_close(st);
	unlink(fx->fts);
	snprintf(p, sizeof p, "%s-wal", fx->fts);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", fx->fts);
	unlink(p);
	st = open_ok(fx->path);
	assert_int_equal(search(st, "\"track two diplomacy\""), 2);
	assert_int_equal(search(st, "dam"), 1);
	store_close(st);
}

/* Store stories first..first + n - 1 of 1.5 KB each, in one transaction. */
static void
add_batch(struct store *st, int64_t feed_id, int first, int n)
{
	struct store_story s;
	char *cause = NULL, key[32], text[1600];
	int64_t id;
	int is_new;

	assert_int_equal(store_begin(st, &cause), 0);
	for (int j = first; j < first + n; j++) {
		memset(&s, 0, sizeof s);
		snprintf(key, sizeof key, "id:%d", j);
		for (size_t k = 0; k + 1 < sizeof text; k++)
			text[k] = "abcdefgh "[(k * 7 + (size_t)j) % 9];
		text[sizeof text - 1] = '\0';
		s.key = key;
		s.title = key;
		s.summary = text;
		s.published = -1;
		assert_int_equal(
		    store_story_add(st, feed_id, &s, &id, &is_new, &cause), 0);
	}
	assert_int_equal(store_commit(st, &cause), 0);
}

/*
 * The WAL is checkpointed by the full-text index's thread, and the
 * writer finishes each checkpoint: 4,000 stories of 1.5 KB in
 * transactions of 20, with a checkpoint every 50 pages, leave every
 * story in the log and the log sound, and the thread did checkpoints
 * the writer finished. While the thread reads the log to index it, a
 * checkpoint cannot take in what the reader may still need, and the
 * WAL cannot start over; once the thread is idle, it does.
 */
static void
test_store_checkpoints_in_thread(void **state)
{
	enum { STORIES = 4000, BATCH = 20, PAGES = 50 };
	struct fixture *fx = *state;
	struct store *st = open_ok(fx->path);
	struct store_checkpoints ck;
	struct store_feed f;
	char *cause = NULL, key[32];
	int is_new, late;

	store_set_checkpoint(st, PAGES);
	assert_int_equal(store_feed_get(st, "a", "http://a/", &f, &cause), 0);
	for (int i = 0; i < STORIES; i += BATCH)
		add_batch(st, f.id, i, BATCH);
	store_checkpoint_stats(st, &ck);
	print_message("checkpoints: %llu by the thread, %llu finished by the "
		      "writer, %llu by it alone\n",
	    (unsigned long long)ck.by_thread, (unsigned long long)ck.finished,
	    (unsigned long long)ck.alone);
	assert_true(ck.by_thread >= 3);
	assert_true(ck.finished >= 1);
	/* A search has the index catch up; then nothing reads the log. */
	assert_int_equal(search(st, "zzz"), 0);
	late = 0;
	do {
		assert_int_equal(store_begin(st, &cause), 0);
		snprintf(key, sizeof key, "late:%d", late++);
		add_story(st, f.id, key, &is_new);
		assert_int_equal(store_commit(st, &cause), 0);
		store_checkpoint_stats(st, &ck);
		usleep(10000);
	} while (ck.wal_pages >= PAGES && late < 100);
	print_message(
	    "WAL: %d pages after %d more commits\n", ck.wal_pages, late);
	assert_true(ck.wal_pages < PAGES);
	store_feed_clear(&f);
	store_close(st);
	assert_int_equal(count_sql(fx->path, "SELECT count(*) FROM stories"),
	    STORIES + late);
	assert_int_equal(count_sql(fx->path,
			     "SELECT count(*) FROM pragma_integrity_check"
			     " WHERE integrity_check = 'ok'"),
	    1);
}

/* Store batches of 20 stories from *n on until the WAL holds pages. */
static void
fill_wal(struct store *st, int64_t feed_id, int *n, int pages,
    struct store_checkpoints *ck)
{
	do {
		add_batch(st, feed_id, *n, 20);
		*n += 20;
		store_checkpoint_stats(st, ck);
	} while (ck->wal_pages < pages);
}

/*
 * A checkpoint the thread finished while the writer was idle needs no
 * finishing, even when another connection's write is what starts the
 * WAL over: when the WAL fills again, the writer asks the thread again
 * rather than checkpoint it itself.
 */
static void
test_store_checkpoint_after_idle(void **state)
{
	enum { PAGES = 50, TRIES = 500 };
	struct fixture *fx = *state;
	struct store *st = open_ok(fx->path);
	struct store_checkpoints ck;
	struct store_feed f;
	uint64_t finished, alone;
	char *cause = NULL;
	sqlite3 *other;
	int n = 0, i, log = PAGES, done;

	store_set_checkpoint(st, PAGES);
	assert_int_equal(store_feed_get(st, "a", "http://a/", &f, &cause), 0);
	/* Past PAGES, the thread is asked; the writer then idles. */
	fill_wal(st, f.id, &n, PAGES, &ck);
	for (i = 0; i < TRIES && ck.by_thread == 0; i++) {
		usleep(10000);
		store_checkpoint_stats(st, &ck);
	}
	assert_true(ck.by_thread >= 1);
	/* Another program's write starts the WAL over. */
	assert_int_equal(sqlite3_open(fx->path, &other), SQLITE_OK);
	for (i = 0; i < TRIES && log >= PAGES; i++) {
		assert_int_equal(
		    sqlite3_exec(other,
			"UPDATE feeds SET name = name WHERE id = 1", NULL, NULL,
			NULL),
		    SQLITE_OK);
		assert_int_equal(sqlite3_wal_checkpoint_v2(other, NULL,
				     SQLITE_CHECKPOINT_PASSIVE, &log, &done),
		    SQLITE_OK);
		if (log >= PAGES)
			usleep(10000);
	}
	sqlite3_close(other);
	assert_true(log < PAGES);
	add_batch(st, f.id, n++, 1);
	store_checkpoint_stats(st, &ck);
	assert_true(ck.wal_pages < PAGES);
	finished = ck.finished;
	alone = ck.alone;
	/* When the WAL fills again, the thread is asked again. */
	fill_wal(st, f.id, &n, PAGES, &ck);
	assert_int_equal(ck.finished, finished);
	assert_int_equal(ck.alone, alone);
	store_feed_clear(&f);
	store_close(st);
	assert_int_equal(
	    count_sql(fx->path, "SELECT count(*) FROM stories"), n);
}

/*
 * The full-text index merges its segments in a transaction of its own,
 * after each batch, since it does not merge them as it writes: 40
 * batches of 5 stories, each asked for by a search, leave far fewer
 * than 40 segments, and every story is found.
 */
static void
test_store_fts_merges(void **state)
{
	enum { BATCHES = 40, PER = 5 };
	struct fixture *fx = *state;
	struct store *st = open_ok(fx->path);
	struct store_feed f;
	char *cause = NULL;
	int segments;

	assert_int_equal(store_feed_get(st, "a", "http://a/", &f, &cause), 0);
	for (int i = 0; i < BATCHES; i++) {
		add_batch(st, f.id, i * PER, PER);
		/* A search has the index catch up: one batch each. */
		assert_int_equal(search(st, "title:id"), (i + 1) * PER);
	}
	store_feed_clear(&f);
	store_close(st);
	segments = count_sql(
	    fx->fts, "SELECT count(DISTINCT segid) FROM stories_fts_idx");
	print_message("%d batches: %d segments\n", BATCHES, segments);
	/* Merged at 16 a level: 8 + 2 left; 40 unmerged. */
	assert_true(segments > 0 && segments <= 16);
	assert_int_equal(count_sql(fx->fts,
			     "SELECT count(*) FROM stories_fts WHERE"
			     " stories_fts MATCH 'title:id'"),
	    BATCHES * PER);
}

/*
 * The full-text index is made from the log alone: one that is not a
 * database (its first page overwritten) is made again, not a reason
 * for the daemon not to start. Tried: the store opens, a search finds
 * every story, and the log is untouched.
 */
static void
test_store_corrupt_fts_rebuilt(void **state)
{
	struct fixture *fx = *state;
	struct store *st = open_ok(fx->path);
	struct store_feed f;
	char *cause = NULL, junk[4096];
	FILE *fp;

	assert_int_equal(store_feed_get(st, "a", "http://a/", &f, &cause), 0);
	add_batch(st, f.id, 0, 50);
	assert_int_equal(search(st, "title:id"), 50);
	store_feed_clear(&f);
	store_close(st);
	memset(junk, 'x', sizeof junk);
	assert_non_null(fp = fopen(fx->fts, "r+"));
	assert_int_equal(fwrite(junk, 1, sizeof junk, fp), sizeof junk);
	assert_int_equal(fclose(fp), 0);

	st = open_ok(fx->path);
	assert_int_equal(search(st, "title:id"), 50);
	store_close(st);
	assert_int_equal(
	    count_sql(fx->path, "SELECT count(*) FROM stories"), 50);
}

/* Copy the file from to to. */
static void
copy_file(const char *from, const char *to)
{
	char buf[65536];
	FILE *in, *out;
	size_t n;

	assert_non_null(in = fopen(from, "rb"));
	assert_non_null(out = fopen(to, "wb"));
	while ((n = fread(buf, 1, sizeof buf, in)) > 0)
		assert_int_equal(fwrite(buf, 1, n, out), n);
	assert_int_equal(fclose(in), 0);
	assert_int_equal(fclose(out), 0);
}

/*
 * An index older than what the log has forgotten of its changes (a
 * copy restored from before a prune) would keep the pruned stories'
 * words: it is made again. Tried: 10 stories indexed, the index copied,
 * the 10 pruned and one more story added (the log forgets the prune's
 * changes once the index took them), the copy put back: a search finds
 * the one story, not the 10.
 */
static void
test_store_stale_fts_rebuilt(void **state)
{
	struct fixture *fx = *state;
	struct store *st = open_ok(fx->path);
	struct store_feed f;
	char *cause = NULL, copy[160];

	snprintf(copy, sizeof copy, "%s.copy", fx->fts);
	assert_int_equal(store_feed_get(st, "a", "http://a/", &f, &cause), 0);
	add_batch(st, f.id, 0, 10);
	assert_int_equal(search(st, "title:id"), 10);
	store_close(st);
	copy_file(fx->fts, copy);

	st = open_ok(fx->path);
	assert_int_equal(store_prune(st, time(NULL) + 3600, 500, &cause), 10);
	assert_int_equal(search(st, "title:id"), 0);
	add_batch(st, f.id, 10, 1);
	assert_int_equal(search(st, "title:id"), 1);
	store_close(st);
	assert_true(
	    count_sql(fx->path, "SELECT count(*) FROM fts_changes") < 10);
	copy_file(copy, fx->fts);
	unlink(copy);

	st = open_ok(fx->path);
	assert_int_equal(search(st, "title:id"), 1);
	store_feed_clear(&f);
	store_close(st);
}

/* Seconds on the monotonic clock. */
static double
seconds_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/*
 * The writer never waits for the full-text index. With the index's file
 * locked by another connection, its thread waits for the lock (up to
 * its busy timeout, 5 s) at each batch; the log still takes 3,000
 * stories, three requests to the index, in far less time than one such
 * wait. Unlocked, the index catches up, and a search finds them all.
 */
static void
test_store_writer_does_not_wait(void **state)
{
	enum { STORIES = 3000, BATCH = 100 };
	struct fixture *fx = *state;
	struct store *st = open_ok(fx->path);
	struct store_feed f;
	char *cause = NULL;
	sqlite3 *lock;
	double t0, took;

	assert_int_equal(store_feed_get(st, "a", "http://a/", &f, &cause), 0);
	assert_int_equal(sqlite3_open(fx->fts, &lock), SQLITE_OK);
	/* The index's thread may be writing as it starts: wait for it. */
	sqlite3_busy_timeout(lock, 5000);
	assert_int_equal(
	    sqlite3_exec(lock, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	t0 = seconds_now();
	for (int i = 0; i < STORIES; i += BATCH)
		add_batch(st, f.id, i, BATCH);
	took = seconds_now() - t0;
	print_message(
	    "%d stories with the index locked: %.2f s\n", STORIES, took);
	/* Waiting for the index would take 5 s at least, 10 s here. */
	assert_true(took < 4.0);
	assert_int_equal(
	    sqlite3_exec(lock, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(lock);
	assert_int_equal(search(st, "title:id"), STORIES);
	store_feed_clear(&f);
	store_close(st);
}

/*
 * An alert read for delivery is valid UTF-8, as its JSON must be, even
 * when another program wrote bytes that are not into the log: tried, a
 * title in Latin-1 and a feed name cut in the middle of a letter.
 */
static void
test_store_alert_is_utf8(void **state)
{
	struct fixture *fx = *state;
	struct store *st = open_ok(fx->path);
	struct store_alert *a;
	struct store_feed f;
	char *cause = NULL;
	int64_t id;
	int is_new, n;

	assert_int_equal(store_feed_get(st, "a", "http://a/", &f, &cause), 0);
	id = add_story(st, f.id, "id:1", &is_new);
	assert_int_equal(store_alert_add(st, id, "w", "h", 1, &cause), 0);
	store_feed_clear(&f);
	store_close(st);
	exec_sql(fx->path,
	    "UPDATE stories SET title = CAST(X'436166E9' AS TEXT);"
	    "UPDATE feeds SET name = CAST(X'61D1' AS TEXT)");
	st = open_ok(fx->path);
	a = store_hook_alerts_due(st, "h", 0, 0, 10, &n, &cause);
	assert_int_equal(n, 1);
	assert_string_equal(a[0].title, "Caf?");
	assert_string_equal(a[0].feed_name, "a?");
	store_alerts_free(a, n);
	store_close(st);
}

/* Stories are counted by cluster, and by when they were first seen. */
static void
test_store_story_count(void **state)
{
	struct fixture *fx = *state;
	struct store *st = open_ok(fx->path);
	struct store_story s;
	struct store_feed f;
	char *cause = NULL;
	int64_t first, id;
	int is_new;

	assert_int_equal(store_feed_get(st, "a", "http://a/", &f, &cause), 0);
	assert_int_equal(store_story_count(st, 0, &cause), 0);
	first = add_story(st, f.id, "id:1", &is_new);
	add_story(st, f.id, "id:2", &is_new);
	add_story(st, f.id, "id:3", &is_new);
	/* A copy that joins story 1 is no further story. */
	memset(&s, 0, sizeof s);
	s.key = "id:4";
	s.title = "A title";
	s.published = -1;
	s.cluster = first;
	s.joined = "same URL";
	assert_int_equal(
	    store_story_add(st, f.id, &s, &id, &is_new, &cause), 0);
	assert_int_equal(store_story_count(st, 0, &cause), 3);
	store_close(st);
	exec_sql(fx->path,
	    "UPDATE stories SET first_seen = 1000 WHERE key = 'id:2'");
	st = open_ok(fx->path);
	assert_int_equal(store_story_count(st, 0, &cause), 3);
	assert_int_equal(store_story_count(st, 1001, &cause), 2);
	assert_int_equal(store_story_count(st, time(NULL) + 10, &cause), 0);
	store_feed_clear(&f);
	store_close(st);
}

static void
test_store_hook_cb(const char *hook, void *arg)
{
	char *names = arg;

	strcat(names, hook);
	strcat(names, " ");
}

/* Each hook finds its own alerts, and its recent deliveries. */
static void
test_store_hook_alerts(void **state)
{
	struct fixture *fx = *state;
	struct store *st = open_ok(fx->path);
	struct store_alert *a;
	struct store_feed f;
	char *cause = NULL, names[64] = "";
	time_t when[4];
	int64_t s1, s2, ids[4];
	int is_new, n;

	assert_int_equal(store_feed_get(st, "a", "http://a/", &f, &cause), 0);
	s1 = add_story(st, f.id, "id:1", &is_new);
	s2 = add_story(st, f.id, "id:2", &is_new);
	assert_int_equal(store_alert_add(st, s1, "w", "h1", 1, &cause), 0);
	assert_int_equal(store_alert_add(st, s1, "w", "h2", 1, &cause), 0);
	assert_int_equal(store_alert_add(st, s2, "w", "h1", 1, &cause), 0);
	/* Their ids alone, and one of them whole. */
	assert_int_equal(
	    store_hook_alert_ids(st, "h1", 0, 0, ids, 4, &cause), 2);
	assert_int_equal(
	    store_hook_alert_ids(st, "h1", 0, ids[0], ids + 2, 2, &cause), 1);
	assert_int_equal(ids[2], ids[1]);
	a = store_alert_get(st, ids[1], &cause);
	assert_non_null(a);
	assert_int_equal(a->story_id, s2);
	assert_string_equal(a->hook, "h1");
	store_alerts_free(a, 1);
	assert_null(store_alert_get(st, 999, &cause));
	assert_string_equal(cause, "no alert 999");
	free(cause);
	cause = NULL;
	a = store_hook_alerts_due(st, "h1", 0, 0, 10, &n, &cause);
	assert_int_equal(n, 2);
	assert_string_equal(a[0].hook, "h1");
	assert_int_equal(a[0].story_id, s1);
	assert_int_equal(a[1].story_id, s2);
	assert_int_equal(store_alert_delivered(st, a[0].id, 100, &cause), 0);
	assert_int_equal(store_alert_delivered(st, a[1].id, 200, &cause), 0);
	store_alerts_free(a, n);
	a = store_hook_alerts_due(st, "h2", 0, 0, 10, &n, &cause);
	assert_int_equal(n, 1);
	store_alerts_free(a, n);
	/* Only h2 has pending alerts now. */
	assert_int_equal(
	    store_alert_hooks(st, test_store_hook_cb, names, &cause), 0);
	assert_string_equal(names, "h2 ");
	/* Deliveries since a time, oldest first, the latest max of them. */
	assert_int_equal(
	    store_hook_deliveries(st, "h1", 0, when, 4, &cause), 2);
	assert_int_equal(when[0], 100);
	assert_int_equal(when[1], 200);
	assert_int_equal(
	    store_hook_deliveries(st, "h1", 0, when, 1, &cause), 1);
	assert_int_equal(when[0], 200);
	assert_int_equal(
	    store_hook_deliveries(st, "h1", 150, when, 4, &cause), 1);
	assert_int_equal(
	    store_hook_deliveries(st, "h2", 0, when, 4, &cause), 0);
	store_feed_clear(&f);
	store_close(st);
}

/*
 * A digest holds the alerts pending when it opened and keeps them when
 * it fails; delivering it starts the next period at its end.
 */
static void
test_store_digest(void **state)
{
	struct fixture *fx = *state;
	struct store *st = open_ok(fx->path);
	struct store_digest d;
	struct store_alert *a;
	struct store_feed f;
	char *cause = NULL;
	int64_t s[4];
	int is_new, n;

	assert_int_equal(store_feed_get(st, "a", "http://a/", &f, &cause), 0);
	for (int i = 0; i < 4; i++) {
		char key[8];

		snprintf(key, sizeof key, "id:%d", i);
		s[i] = add_story(st, f.id, key, &is_new);
	}
	for (int i = 0; i < 3; i++)
		assert_int_equal(
		    store_alert_add(st, s[i], "w", "d", 1, &cause), 0);
	/* The first look starts the hook's first period. */
	assert_int_equal(store_digest_get(st, "d", 100, &d, &cause), 0);
	assert_int_equal(d.period_start, 100);
	assert_int_equal(d.period_end, 0);
	assert_int_equal(store_digest_get(st, "d", 150, &d, &cause), 0);
	assert_int_equal(d.period_start, 100);
	/* At most max alerts, the oldest. */
	assert_int_equal(store_digest_open(st, "d", 200, 2, &n, &cause), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_digest_get(st, "d", 250, &d, &cause), 0);
	assert_int_equal(d.period_end, 200);
	assert_int_equal(d.pending, 2);
	a = store_digest_alerts(st, "d", 200, &n, &cause);
	assert_int_equal(n, 2);
	assert_int_equal(a[0].story_id, s[0]);
	assert_int_equal(a[1].story_id, s[1]);
	store_alerts_free(a, n);
	/* A failure keeps the same alerts, due again together. */
	assert_int_equal(store_alert_add(st, s[3], "w", "d", 1, &cause), 0);
	assert_int_equal(store_digest_failed(
			     st, "d", 200, "exit status 1", 300, 3, 1, &cause),
	    0);
	assert_int_equal(store_digest_get(st, "d", 250, &d, &cause), 0);
	assert_int_equal(d.pending, 2);
	assert_int_equal(d.next_attempt, 300);
	assert_int_equal(store_digest_delivered(st, "d", 200, 310, &cause), 0);
	assert_int_equal(store_digest_get(st, "d", 320, &d, &cause), 0);
	assert_int_equal(d.period_start, 200);
	assert_int_equal(d.period_end, 0);
	assert_int_equal(
	    count_sql(fx->path,
		"SELECT count(*) FROM alerts WHERE state = "
		"'delivered' AND delivered = 310 AND attempts = 2"),
	    2);
	/* The next digest: the two left; given up on, its period ends. */
	assert_int_equal(store_digest_open(st, "d", 400, 10, &n, &cause), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_digest_failed(
			     st, "d", 400, "exit status 1", 500, 1, 1, &cause),
	    0);
	assert_int_equal(store_digest_get(st, "d", 450, &d, &cause), 0);
	assert_int_equal(d.period_end, 400);
	assert_int_equal(d.pending, 0);
	assert_int_equal(store_digest_close(st, "d", 400, &cause), 0);
	/* Nothing pending: no digest opens. */
	assert_int_equal(store_digest_open(st, "d", 600, 10, &n, &cause), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_digest_get(st, "d", 600, &d, &cause), 0);
	assert_int_equal(d.period_start, 400);
	assert_int_equal(d.period_end, 0);
	/* Failed alerts put back by hand join the next digest. */
	assert_int_equal(store_alert_retry(st, 0, &cause), 2);
	assert_int_equal(store_digest_open(st, "d", 700, 10, &n, &cause), 0);
	assert_int_equal(n, 2);
	store_feed_clear(&f);
	store_close(st);
}

/* The hook processes recorded, until each is forgotten. */
static void
test_store_hook_runs(void **state)
{
	struct fixture *fx = *state;
	struct store *st = open_ok(fx->path);
	struct store_run r = { 4242, 987654, 100, 1234 }, *v;
	char *cause = NULL;
	int n;

	assert_int_equal(store_run_add(st, &r, &cause), 0);
	r.pid = 4343;
	assert_int_equal(store_run_add(st, &r, &cause), 0);
	assert_int_equal(store_run_remove(st, 4343, &cause), 0);
	store_close(st);
	/* They outlive the daemon that recorded them. */
	st = open_ok(fx->path);
	v = store_runs(st, &n, &cause);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].pid, 4242);
	assert_int_equal(v[0].started, 987654);
	assert_int_equal(v[0].daemon, 100);
	assert_int_equal(v[0].daemon_started, 1234);
	free(v);
	assert_int_equal(store_run_remove(st, 4242, &cause), 0);
	assert_null(store_runs(st, &n, &cause));
	assert_int_equal(n, 0);
	assert_null(cause);
	store_close(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_store_fresh_database, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_migrates_version_1, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_migrates_version_10, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_plans_use_indexes, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_refuses_newer_schema, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_refuses_non_database, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_story_once_per_key, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_rollback_writes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_feed_state, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_feed_moved_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_outbox, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_delivered, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_cluster_find_nearest, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_near_follows_log, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_near_failed_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_url_key_collision, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_url_key_filled_at_open, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_search_follows_edits, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_search_catches_up, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_story_count, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_checkpoints_in_thread, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_checkpoint_after_idle, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_fts_merges, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_writer_does_not_wait, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_hook_alerts, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_alert_is_utf8, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_corrupt_fts_rebuilt, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_stale_fts_rebuilt, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_digest, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_store_hook_runs, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
