#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "charset.h"
#include "dedup.h"
#include "log.h"
#include "store.h"
#include "xmalloc.h"

/*
 * The story log: schema and migrations, then every SQL statement the
 * program runs, each prepared once and bound, never printed into.
 */

/*
 * Migrations: migrations[i] takes a database from user_version i to
 * i + 1. Append only; never edit a step that has shipped.
 */
static const char *store_migrations[] = {
	/* 0 -> 1: feeds, stories, matches, the outbox. */
	"CREATE TABLE feeds ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  url TEXT NOT NULL,"
	"  etag TEXT,"
	"  last_modified TEXT,"
	"  last_attempt INTEGER,"
	"  last_success INTEGER,"
	"  http_status INTEGER,"
	"  failures INTEGER NOT NULL DEFAULT 0,"
	"  last_error TEXT,"
	"  next_poll INTEGER NOT NULL DEFAULT 0,"
	"  items_seen INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE stories ("
	"  id INTEGER PRIMARY KEY,"
	"  feed_id INTEGER NOT NULL REFERENCES feeds(id),"
	"  key TEXT NOT NULL,"
	"  guid TEXT,"
	"  title TEXT,"
	"  url TEXT,"
	"  summary TEXT,"
	"  published INTEGER,"
	"  first_seen INTEGER NOT NULL,"
	"  UNIQUE (feed_id, key));"
	"CREATE TABLE matches ("
	"  story_id INTEGER NOT NULL REFERENCES stories(id),"
	"  watchlist TEXT NOT NULL,"
	"  matched TEXT NOT NULL,"
	"  snippet TEXT,"
	"  PRIMARY KEY (story_id, watchlist));"
	"CREATE TABLE alerts ("
	"  id INTEGER PRIMARY KEY,"
	"  alert_id TEXT NOT NULL UNIQUE,"
	"  story_id INTEGER NOT NULL REFERENCES stories(id),"
	"  watchlist TEXT NOT NULL,"
	"  hook TEXT NOT NULL,"
	"  state TEXT NOT NULL DEFAULT 'pending'"
	"    CHECK (state IN ('pending', 'delivered', 'failed')),"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  next_attempt INTEGER NOT NULL DEFAULT 0,"
	"  last_error TEXT,"
	"  created INTEGER NOT NULL,"
	"  delivered INTEGER,"
	"  UNIQUE (story_id, watchlist, hook));"
	"CREATE INDEX alerts_due ON alerts (state, next_attempt);",

	/* 1 -> 2: full-text search over the story log. */
	"CREATE VIRTUAL TABLE stories_fts USING fts5("
	"  title, summary, content='stories', content_rowid='id');"
	"INSERT INTO stories_fts (stories_fts) VALUES ('rebuild');"
	"CREATE TRIGGER stories_fts_ai AFTER INSERT ON stories BEGIN"
	"  INSERT INTO stories_fts (rowid, title, summary)"
	"  VALUES (new.id, new.title, new.summary); END;"
	"CREATE TRIGGER stories_fts_ad AFTER DELETE ON stories BEGIN"
	"  INSERT INTO stories_fts (stories_fts, rowid, title, summary)"
	"  VALUES ('delete', old.id, old.title, old.summary); END;"
	"CREATE TRIGGER stories_fts_au AFTER UPDATE ON stories BEGIN"
	"  INSERT INTO stories_fts (stories_fts, rowid, title, summary)"
	"  VALUES ('delete', old.id, old.title, old.summary);"
	"  INSERT INTO stories_fts (rowid, title, summary)"
	"  VALUES (new.id, new.title, new.summary); END;",

	/*
	 * 2 -> 3: stories across feeds. A story joins the cluster of the
	 * first story with its canonical URL or a near fingerprint;
	 * cluster is NULL for a cluster's first story. A watchlist fires
	 * once per cluster.
	 */
	"ALTER TABLE stories ADD COLUMN cluster INTEGER;"
	"ALTER TABLE stories ADD COLUMN joined TEXT;"
	"ALTER TABLE stories ADD COLUMN canonical_url TEXT;"
	"ALTER TABLE stories ADD COLUMN simhash INTEGER;"
	"ALTER TABLE stories ADD COLUMN fp0 INTEGER;"
	"ALTER TABLE stories ADD COLUMN fp1 INTEGER;"
	"ALTER TABLE stories ADD COLUMN fp2 INTEGER;"
	"ALTER TABLE stories ADD COLUMN fp3 INTEGER;"
	"ALTER TABLE stories ADD COLUMN content_hash INTEGER;"
	"CREATE INDEX stories_cluster ON stories (cluster);"
	"CREATE INDEX stories_canonical ON stories (canonical_url);"
	"CREATE INDEX stories_fp0 ON stories (fp0);"
	"CREATE INDEX stories_fp1 ON stories (fp1);"
	"CREATE INDEX stories_fp2 ON stories (fp2);"
	"CREATE INDEX stories_fp3 ON stories (fp3);"
	"CREATE INDEX stories_first_seen ON stories (first_seen);"
	"CREATE TABLE cluster_watchlists ("
	"  cluster INTEGER NOT NULL,"
	"  watchlist TEXT NOT NULL,"
	"  PRIMARY KEY (cluster, watchlist));"
	"INSERT OR IGNORE INTO cluster_watchlists"
	"  SELECT story_id, watchlist FROM matches;",

	/* 3 -> 4: retention; a pruned story keeps only its identity. */
	"ALTER TABLE stories ADD COLUMN pruned INTEGER NOT NULL DEFAULT 0;"
	"CREATE INDEX stories_prune ON stories (pruned, first_seen);",

	/* 4 -> 5: a hook's "try later" (exit 75) counts once an hour. */
	"ALTER TABLE alerts ADD COLUMN counted_at INTEGER NOT NULL DEFAULT 0;",

	/* 5 -> 6: hooks run side by side, each looking for its own alerts. */
	"CREATE INDEX alerts_hook ON alerts (hook, state, next_attempt);",

	/*
	 * 6 -> 7: digests. A digest hook's period starts where its last
	 * digest ended; the alerts of the digest being sent carry its
	 * period's end, so that it is retried as a whole.
	 */
	"CREATE TABLE digests ("
	"  hook TEXT PRIMARY KEY,"
	"  period_start INTEGER NOT NULL,"
	"  period_end INTEGER NOT NULL DEFAULT 0);"
	"ALTER TABLE alerts ADD COLUMN digest INTEGER;",

	/*
	 * 7 -> 8: the hook processes running, each known by its pid and
	 * start time, and the daemon's: a daemon that was killed leaves
	 * them to its successor to end.
	 */
	"CREATE TABLE hook_runs ("
	"  pid INTEGER PRIMARY KEY,"
	"  started INTEGER NOT NULL,"
	"  daemon INTEGER NOT NULL,"
	"  daemon_started INTEGER NOT NULL);",

	/* 8 -> 9: moved and gone feeds, failing since, adaptive interval. */
	"ALTER TABLE feeds ADD COLUMN moved_url TEXT;"
	"ALTER TABLE feeds ADD COLUMN moved_from TEXT;"
	"ALTER TABLE feeds ADD COLUMN gone_at INTEGER;"
	"ALTER TABLE feeds ADD COLUMN failing_since INTEGER;"
	"ALTER TABLE feeds ADD COLUMN poll_interval INTEGER;"
	"ALTER TABLE feeds ADD COLUMN health TEXT;",

	/*
	 * 9 -> 10: feed-health alerts, which have no story: story_id may
	 * be NULL, and payload holds the alert's JSON (SQLite cannot drop
	 * a NOT NULL: the table is rebuilt).
	 */
	"CREATE TABLE alerts_v10 ("
	"  id INTEGER PRIMARY KEY,"
	"  alert_id TEXT NOT NULL UNIQUE,"
	"  story_id INTEGER REFERENCES stories(id),"
	"  watchlist TEXT NOT NULL,"
	"  hook TEXT NOT NULL,"
	"  state TEXT NOT NULL DEFAULT 'pending'"
	"    CHECK (state IN ('pending', 'delivered', 'failed')),"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  next_attempt INTEGER NOT NULL DEFAULT 0,"
	"  last_error TEXT,"
	"  created INTEGER NOT NULL,"
	"  delivered INTEGER,"
	"  counted_at INTEGER NOT NULL DEFAULT 0,"
	"  digest INTEGER,"
	"  payload TEXT,"
	"  UNIQUE (story_id, watchlist, hook));"
	"INSERT INTO alerts_v10 (id, alert_id, story_id, watchlist, hook,"
	"  state, attempts, next_attempt, last_error, created, delivered,"
	"  counted_at, digest)"
	"  SELECT id, alert_id, story_id, watchlist, hook, state, attempts,"
	"  next_attempt, last_error, created, delivered, counted_at, digest"
	"  FROM alerts;"
	"DROP TABLE alerts;"
	"ALTER TABLE alerts_v10 RENAME TO alerts;"
	"CREATE INDEX alerts_due ON alerts (state, next_attempt);"
	"CREATE INDEX alerts_hook ON alerts (hook, state, next_attempt);",

	/*
	 * 10 -> 11: a near-duplicate look-up reads only its block's index:
	 * what it needs (when first seen, the fingerprint, the cluster)
	 * is in the index, in the dedup window's order, so that neither
	 * the story rows nor the stories before the window are read.
	 */
	"DROP INDEX stories_fp0;"
	"DROP INDEX stories_fp1;"
	"DROP INDEX stories_fp2;"
	"DROP INDEX stories_fp3;"
	"CREATE INDEX stories_near0"
	" ON stories (fp0, first_seen, simhash, cluster);"
	"CREATE INDEX stories_near1"
	" ON stories (fp1, first_seen, simhash, cluster);"
	"CREATE INDEX stories_near2"
	" ON stories (fp2, first_seen, simhash, cluster);"
	"CREATE INDEX stories_near3"
	" ON stories (fp3, first_seen, simhash, cluster);",

	/*
	 * 11 -> 12: full-text search moves to a file of its own, which a
	 * thread of its own writes (store_fts_*). The log keeps the text
	 * that an edit, a prune or a delete replaced until the index has
	 * followed it; AUTOINCREMENT, since the index counts them by seq.
	 */
	"DROP TRIGGER stories_fts_ai;"
	"DROP TRIGGER stories_fts_ad;"
	"DROP TRIGGER stories_fts_au;"
	"DROP TABLE stories_fts;"
	"CREATE TABLE fts_changes ("
	"  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  story_id INTEGER NOT NULL,"
	"  title TEXT,"
	"  summary TEXT);"
	"CREATE TRIGGER stories_text_au AFTER UPDATE OF title, summary"
	"  ON stories WHEN old.title IS NOT new.title"
	"  OR old.summary IS NOT new.summary BEGIN"
	"  INSERT INTO fts_changes (story_id, title, summary)"
	"  VALUES (old.id, old.title, old.summary); END;"
	"CREATE TRIGGER stories_text_ad AFTER DELETE ON stories BEGIN"
	"  INSERT INTO fts_changes (story_id, title, summary)"
	"  VALUES (old.id, old.title, old.summary); END;",

	/*
	 * 12 -> 13: near-duplicates are looked up in memory, in an index
	 * of the dedup window's fingerprints (dedup_index) read at the
	 * first look-up: the four block indexes, each written at random
	 * by every new story, go. The window is read from one index in
	 * first-seen order, which a new story extends at its end; the
	 * blocks are no longer stored.
	 */
	"DROP INDEX stories_near0;"
	"DROP INDEX stories_near1;"
	"DROP INDEX stories_near2;"
	"DROP INDEX stories_near3;"
	"DROP INDEX stories_first_seen;"
	"CREATE INDEX stories_window ON stories (first_seen, simhash, cluster);",

	/*
	 * 13 -> 14: a canonical URL is indexed by its 64-bit hash
	 * (dedup_url_key), a third of the text's index: more of it stays
	 * in the page cache. Look-ups compare the URL itself too.
	 */
	"ALTER TABLE stories ADD COLUMN url_key INTEGER;"
	"UPDATE stories SET url_key = feedwatch_url_key(canonical_url)"
	"  WHERE canonical_url IS NOT NULL;"
	"DROP INDEX stories_canonical;"
	"CREATE INDEX stories_url ON stories (url_key);",
};

#define STORE_NMIGRATIONS (sizeof store_migrations / sizeof store_migrations[0])

_Static_assert(STORE_NMIGRATIONS == STORE_SCHEMA_VERSION,
    "one migration per schema version");

enum store_stmt {
	STMT_BEGIN,
	STMT_COMMIT,
	STMT_ROLLBACK,
	STMT_FEED_INSERT,
	STMT_FEED_GET,
	STMT_FEED_FETCHED,
	STMT_STORY_INSERT,
	STMT_STORY_FIND,
	STMT_MATCH_INSERT,
	STMT_ALERT_INSERT,
	STMT_ALERTS_DUE,
	STMT_HOOK_ALERTS_DUE,
	STMT_HOOK_ALERT_IDS,
	STMT_ALERT_GET,
	STMT_ALERT_HOOKS,
	STMT_HOOK_DELIVERIES,
	STMT_DIGEST_INSERT,
	STMT_DIGEST_GET,
	STMT_DIGEST_ALERTS_JOIN,
	STMT_DIGEST_OPEN,
	STMT_DIGEST_ALERTS,
	STMT_DIGEST_DELIVERED,
	STMT_DIGEST_FAILED,
	STMT_DIGEST_CLOSE,
	STMT_RUN_ADD,
	STMT_RUN_REMOVE,
	STMT_RUNS,
	STMT_ALERT_DELIVERED,
	STMT_ALERT_FAILED,
	STMT_ALERT_COUNT,
	STMT_STORY_KNOWN,
	STMT_STORY_SEEN_URL,
	STMT_STORY_SEEN_HASH,
	STMT_CLUSTER_BY_URL,
	STMT_NEAR_LOAD,
	STMT_URLS_LOAD,
	STMT_LAST_ID,
	STMT_DATA_VERSION,
	STMT_STORY_UPDATE,
	STMT_CLUSTER_CLAIM,
	STMT_SOURCES,
	STMT_STORIES,
	STMT_CLUSTER,
	STMT_CLUSTER_WATCHLISTS,
	STMT_PRUNE_PICK,
	STMT_PRUNE_ALERTS,
	STMT_PRUNE_MATCHES,
	STMT_PRUNE_STORY,
	STMT_ALERT_LIST,
	STMT_ALERT_RETRY,
	STMT_HEALTH_INSERT,
	STMT_FEED_HEALTH,
	STMT_FEEDS,
	STMT_STORY_COUNT,
	STMT_FTS_FORGET,
	STMT_COUNT
};

/* An alert with what its hook is told; store_alert_read reads it. */
/* A feed-health alert has no story: its payload says what to show. */
#define STORE_ALERT_SELECT                                                  \
	"SELECT a.id, a.alert_id, a.watchlist, a.hook, a.attempts, s.id,"   \
	" coalesce(s.title, json_extract(a.payload, '$.story.title')),"     \
	" coalesce(s.url, json_extract(a.payload, '$.story.url')),"         \
	" coalesce(s.summary, json_extract(a.payload, '$.story.summary'))," \
	" s.published,"                                                     \
	" coalesce(f.name, json_extract(a.payload, '$.feed.name')),"        \
	" coalesce(f.url, json_extract(a.payload, '$.feed.url')),"          \
	" m.matched, coalesce(m.snippet, json_extract(a.payload,"           \
	" '$.error')), a.counted_at, a.payload"                             \
	" FROM alerts a LEFT JOIN stories s ON s.id = a.story_id"           \
	" LEFT JOIN feeds f ON f.id = s.feed_id"                            \
	" LEFT JOIN matches m ON m.story_id = a.story_id"                   \
	"  AND m.watchlist = a.watchlist"

/*
 * The stories a filter selects; search is the full-text condition, over
 * the index's file attached as fts, or "".
 */
#define STORE_STORIES_SQL(search)                                            \
	"SELECT h.id, h.title, h.url, h.summary, h.published, h.first_seen," \
	" f.name, f.url, h.joined FROM stories h"                            \
	" JOIN feeds f ON f.id = h.feed_id WHERE h.id IN ("                  \
	"  SELECT coalesce(s.cluster, s.id) FROM stories s"                  \
	"  JOIN feeds sf ON sf.id = s.feed_id"                               \
	"  WHERE (?1 IS NULL OR s.first_seen >= ?1)"                         \
	"  AND (?2 IS NULL OR sf.name = ?2)"                                 \
	"  AND (?3 IS NULL OR EXISTS (SELECT 1 FROM cluster_watchlists cw"   \
	"   WHERE cw.cluster = coalesce(s.cluster, s.id)"                    \
	"   AND cw.watchlist = ?3))" search ")"                              \
	" ORDER BY h.first_seen DESC, h.id DESC LIMIT ?5"
#define STORE_STORIES_SEARCH                              \
	" AND s.id IN (SELECT rowid FROM fts.stories_fts" \
	"  WHERE stories_fts MATCH ?4)"

/*
 * The stories of story ?1's cluster: its root (whose cluster is NULL:
 * a story's cluster is set once, when it is added, to a root) and the
 * stories whose cluster is the root. Asked as "cluster = root OR id =
 * root", two index look-ups; "coalesce(cluster, id) = root" alone is
 * a scan of the whole log, which every alert with sources paid.
 */
#define STORE_CLUSTER_WITH \
	"WITH c(root) AS (SELECT coalesce(cluster, id) FROM stories WHERE id = ?1) "
#define STORE_CLUSTER_FROM "c, stories s JOIN feeds f ON f.id = s.feed_id"
#define STORE_CLUSTER_OF                        \
	"(s.cluster = c.root OR s.id = c.root)" \
	" AND coalesce(s.cluster, s.id) = c.root"

static const char *store_sql[STMT_COUNT] = {
	[STMT_BEGIN] = "BEGIN IMMEDIATE",
	[STMT_COMMIT] = "COMMIT",
	[STMT_ROLLBACK] = "ROLLBACK",
	[STMT_FEED_INSERT] =
	    "INSERT INTO feeds (name, url) VALUES (?1, ?2)"
	    " ON CONFLICT (name) DO UPDATE SET url = excluded.url,"
	    /* A move or a 410 holds until the configured URL changes. */
	    " moved_url = CASE WHEN moved_from = excluded.url"
	    "  THEN moved_url END,"
	    " moved_from = CASE WHEN moved_from = excluded.url"
	    "  THEN moved_from END,"
	    " gone_at = CASE WHEN url = excluded.url THEN gone_at END,"
	    " health = CASE WHEN url = excluded.url THEN health END",
	[STMT_FEED_GET] = "SELECT id, etag, last_modified, next_poll, failures,"
			  " moved_url, gone_at, failing_since, poll_interval,"
			  " health FROM feeds WHERE name = ?1",
	[STMT_FEED_FETCHED] =
	    "UPDATE feeds SET last_attempt = ?2,"
	    " last_success = CASE WHEN ?4 IS NULL THEN ?2 ELSE last_success END,"
	    " http_status = ?3, last_error = ?4,"
	    " failures = CASE WHEN ?4 IS NULL THEN 0 ELSE failures + 1 END,"
	    /* A 304 need not repeat the validators: keep the old ones. */
	    " etag = CASE WHEN ?4 IS NULL THEN coalesce(?5, etag) ELSE etag END,"
	    " last_modified = CASE WHEN ?4 IS NULL"
	    "  THEN coalesce(?6, last_modified) ELSE last_modified END,"
	    " items_seen = CASE WHEN ?8 >= 0 THEN ?8 ELSE items_seen END,"
	    " failing_since = CASE WHEN ?4 IS NULL THEN NULL"
	    "  ELSE coalesce(failing_since, ?2) END,"
	    " moved_from = CASE WHEN ?9 IS NULL THEN moved_from ELSE url END,"
	    " moved_url = coalesce(?9, moved_url),"
	    " gone_at = CASE WHEN ?10 THEN ?2 ELSE gone_at END,"
	    " poll_interval = ?11,"
	    " next_poll = ?7 WHERE id = ?1",
	[STMT_STORY_INSERT] =
	    "INSERT INTO stories (feed_id, key, guid, title, url, summary,"
	    " published, first_seen, canonical_url, simhash, content_hash,"
	    " cluster, joined, url_key) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,"
	    " ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
	    " ON CONFLICT (feed_id, key) DO NOTHING",
	[STMT_STORY_FIND] =
	    "SELECT id FROM stories WHERE feed_id = ?1 AND key = ?2",
	[STMT_MATCH_INSERT] =
	    "INSERT OR IGNORE INTO matches (story_id, watchlist, matched,"
	    " snippet) VALUES (?1, ?2, ?3, ?4)",
	[STMT_ALERT_INSERT] =
	    "INSERT OR IGNORE INTO alerts (alert_id, story_id, watchlist,"
	    " hook, created) VALUES (lower(hex(randomblob(16))), ?1, ?2, ?3, ?4)",
	[STMT_HEALTH_INSERT] =
	    "INSERT INTO alerts (alert_id, watchlist, hook, created, payload)"
	    " VALUES (lower(hex(randomblob(16))), 'feed-health', ?1, ?2, ?3)",
	[STMT_FEED_HEALTH] = "UPDATE feeds SET health = ?2 WHERE id = ?1",
	[STMT_ALERTS_DUE] = STORE_ALERT_SELECT
	" WHERE a.state = 'pending' AND (?1 = 0 OR a.next_attempt <= ?1)"
	" AND a.id > ?3 ORDER BY a.id LIMIT ?2",
	[STMT_HOOK_ALERTS_DUE] =
	    STORE_ALERT_SELECT " WHERE a.hook = ?4 AND a.state = 'pending'"
			       " AND (?1 = 0 OR a.next_attempt <= ?1)"
			       " AND a.id > ?3 ORDER BY a.id LIMIT ?2",
	[STMT_DIGEST_INSERT] = "INSERT OR IGNORE INTO digests (hook,"
			       " period_start) VALUES (?1, ?2)",
	[STMT_DIGEST_GET] =
	    "SELECT d.period_start, d.period_end, count(a.id),"
	    " min(a.next_attempt) FROM digests d LEFT JOIN alerts a"
	    " ON a.hook = d.hook AND a.state = 'pending'"
	    "  AND a.digest = d.period_end"
	    " WHERE d.hook = ?1 GROUP BY d.hook",
	[STMT_DIGEST_ALERTS_JOIN] =
	    "UPDATE alerts SET digest = ?2 WHERE id IN (SELECT id FROM alerts"
	    " WHERE hook = ?1 AND state = 'pending'"
	    " AND (digest IS NULL OR digest != ?2) ORDER BY id LIMIT ?3)",
	[STMT_DIGEST_OPEN] =
	    "UPDATE digests SET period_end = ?2 WHERE hook = ?1",
	[STMT_DIGEST_ALERTS] = STORE_ALERT_SELECT
	" WHERE a.hook = ?1 AND a.state = 'pending' AND a.digest = ?2"
	" ORDER BY a.id",
	[STMT_DIGEST_DELIVERED] =
	    "UPDATE alerts SET state = 'delivered', delivered = ?3,"
	    " attempts = attempts + 1, last_error = NULL"
	    " WHERE hook = ?1 AND state = 'pending' AND digest = ?2",
	[STMT_DIGEST_FAILED] =
	    "UPDATE alerts SET attempts = attempts + ?6, last_error = ?3,"
	    " next_attempt = ?4, counted_at = CASE WHEN ?6 THEN ?7"
	    " ELSE counted_at END, state = CASE WHEN ?6 AND attempts + 1 >= ?5"
	    " THEN 'failed' ELSE 'pending' END"
	    " WHERE hook = ?1 AND state = 'pending' AND digest = ?2",
	[STMT_DIGEST_CLOSE] = "UPDATE digests SET period_start = ?2,"
			      " period_end = 0 WHERE hook = ?1",
	[STMT_RUN_ADD] = "INSERT OR REPLACE INTO hook_runs (pid, started,"
			 " daemon, daemon_started) VALUES (?1, ?2, ?3, ?4)",
	[STMT_RUN_REMOVE] = "DELETE FROM hook_runs WHERE pid = ?1",
	[STMT_RUNS] =
	    "SELECT pid, started, daemon, daemon_started FROM hook_runs",
	[STMT_HOOK_ALERT_IDS] =
	    "SELECT id FROM alerts WHERE hook = ?4 AND state = 'pending'"
	    " AND (?1 = 0 OR next_attempt <= ?1) AND id > ?3"
	    " ORDER BY id LIMIT ?2",
	[STMT_ALERT_GET] = STORE_ALERT_SELECT " WHERE a.id = ?1",
	[STMT_ALERT_HOOKS] =
	    "SELECT DISTINCT hook FROM alerts WHERE state = 'pending'",
	[STMT_HOOK_DELIVERIES] =
	    "SELECT delivered FROM (SELECT delivered FROM alerts"
	    " WHERE hook = ?1 AND state = 'delivered' AND delivered >= ?2"
	    " ORDER BY delivered DESC LIMIT ?3) ORDER BY delivered",
	[STMT_ALERT_DELIVERED] =
	    "UPDATE alerts SET state = 'delivered', delivered = ?2,"
	    " attempts = attempts + 1, last_error = NULL WHERE id = ?1",
	[STMT_ALERT_FAILED] =
	    "UPDATE alerts SET attempts = attempts + ?5, last_error = ?2,"
	    " next_attempt = ?3, counted_at = CASE WHEN ?5 THEN ?6"
	    " ELSE counted_at END, state = CASE WHEN ?5 AND attempts + 1 >= ?4"
	    " THEN 'failed' ELSE 'pending' END WHERE id = ?1",
	[STMT_ALERT_LIST] =
	    "SELECT a.id, a.alert_id, a.watchlist, a.hook, a.state,"
	    " a.attempts, a.last_error, a.created, a.next_attempt, s.id,"
	    " coalesce(s.title, json_extract(a.payload, '$.story.title'))"
	    " FROM alerts a LEFT JOIN stories s ON s.id = a.story_id"
	    " WHERE ?1 IS NULL OR a.state = ?1 ORDER BY a.id DESC LIMIT ?2",
	[STMT_FEEDS] = "SELECT f.name, f.url, f.last_attempt, f.last_success,"
		       " f.http_status, f.failures, f.last_error, f.next_poll,"
		       " f.items_seen, (SELECT count(*) FROM stories s"
		       "  WHERE s.feed_id = f.id), f.moved_url, f.gone_at,"
		       " f.failing_since, f.poll_interval"
		       " FROM feeds f ORDER BY f.name",
	[STMT_ALERT_RETRY] =
	    "UPDATE alerts SET state = 'pending', attempts = 0,"
	    " next_attempt = 0, counted_at = 0, digest = NULL"
	    " WHERE state = 'failed' AND (?1 = 0 OR id = ?1)",
	[STMT_ALERT_COUNT] = "SELECT count(*) FROM alerts WHERE state = ?1",
	[STMT_STORY_KNOWN] =
	    "SELECT id, coalesce(cluster, id), content_hash FROM stories"
	    " WHERE feed_id = ?1 AND key = ?2",
	[STMT_STORY_SEEN_URL] =
	    "SELECT 1 FROM stories INDEXED BY stories_url WHERE url_key = ?3"
	    " AND canonical_url = ?2 AND feed_id = ?1 AND content_hash = ?4"
	    " LIMIT 1",
	[STMT_STORY_SEEN_HASH] =
	    "SELECT 1 FROM stories WHERE feed_id = ?1 AND content_hash = ?2"
	    " LIMIT 1",
	[STMT_CLUSTER_BY_URL] =
	    "SELECT coalesce(cluster, id) FROM stories INDEXED BY stories_url"
	    " WHERE url_key = ?2 AND canonical_url = ?1 ORDER BY id LIMIT 1",
	/* The dedup window, for its index in memory (stories_window). */
	[STMT_NEAR_LOAD] =
	    "SELECT coalesce(cluster, id), simhash, first_seen FROM stories"
	    " WHERE first_seen >= ?1 AND simhash IS NOT NULL"
	    " ORDER BY first_seen",
	/* Every canonical URL's key, for st->urls; the end of the log. */
	[STMT_URLS_LOAD] = "SELECT url_key FROM stories INDEXED BY stories_url"
			   " WHERE url_key IS NOT NULL",
	[STMT_LAST_ID] = "SELECT coalesce(max(id), 0) FROM stories",
	/* Changes when another connection commits to the log. */
	[STMT_DATA_VERSION] = "PRAGMA data_version",
	[STMT_STORY_UPDATE] =
	    "UPDATE stories SET title = ?2, summary = ?3, content_hash = ?4"
	    " WHERE id = ?1",
	[STMT_CLUSTER_CLAIM] =
	    "INSERT OR IGNORE INTO cluster_watchlists (cluster, watchlist)"
	    " VALUES (?1, ?2)",
	[STMT_SOURCES] = STORE_CLUSTER_WITH
	"SELECT f.name, s.url, s.joined FROM " STORE_CLUSTER_FROM
	" WHERE " STORE_CLUSTER_OF " AND s.id != ?1 ORDER BY s.id",
	[STMT_STORIES] = STORE_STORIES_SQL(""),
	[STMT_CLUSTER] = STORE_CLUSTER_WITH
	"SELECT s.id, s.title, s.url, s.summary, s.published, s.first_seen,"
	" f.name, f.url, s.joined FROM " STORE_CLUSTER_FROM
	" WHERE " STORE_CLUSTER_OF " ORDER BY s.cluster IS NOT NULL, s.id",
	[STMT_PRUNE_PICK] =
	    "SELECT id FROM stories WHERE pruned = 0 AND first_seen < ?1"
	    " AND id NOT IN (SELECT story_id FROM alerts"
	    "  WHERE state = 'pending' AND story_id IS NOT NULL)"
	    " ORDER BY first_seen LIMIT ?2",
	[STMT_PRUNE_ALERTS] =
	    "DELETE FROM alerts WHERE story_id = ?1 AND state != 'pending'",
	[STMT_PRUNE_MATCHES] = "DELETE FROM matches WHERE story_id = ?1",
	[STMT_PRUNE_STORY] =
	    "UPDATE stories SET title = NULL, summary = NULL, url = NULL,"
	    " guid = NULL, pruned = 1 WHERE id = ?1",
	[STMT_CLUSTER_WATCHLISTS] =
	    "SELECT watchlist FROM cluster_watchlists WHERE cluster ="
	    " (SELECT coalesce(cluster, id) FROM stories WHERE id = ?1)"
	    " ORDER BY watchlist",
	[STMT_STORY_COUNT] = "SELECT count(*) FROM stories"
			     " WHERE cluster IS NULL AND first_seen >= ?1",
	[STMT_FTS_FORGET] = "DELETE FROM fts_changes WHERE seq <= ?1",
};

/*
 * The page cache: the two indexes a new story touches at random (its
 * key, its canonical URL's hash; about 70 bytes a story) stay in
 * memory up to about 100,000 stories; SQLite's default of 2 MB holds
 * 25,000. 8 MB, not more: the dedup window's index in memory takes
 * about 34 bytes a story of the window besides.
 */
#define STORE_CACHE_KIB "-8192" /* negative: KiB */
/* the full-text thread's cache of the log's pages (negative: KiB) */
#define STORE_FTS_LOG_CACHE_KIB "-256"
/*
 * Checkpoint the WAL every 30,000 pages (120 MB) rather than every
 * 1,000: an index page written by many transactions in between is
 * copied to the database, and synced, once. The full-text index's
 * thread does it, on a connection of its own, so that the writer (the
 * daemon's loop) neither copies the pages nor waits for the disk to
 * sync them; the writer finishes each such checkpoint with the few
 * pages its commits added meanwhile, which lets the WAL start over
 * (store_wal_hook). That part costs about as much whatever the size,
 * so it comes three times less often than at 10,000 pages. The WAL's
 * file keeps the size it grew to. Past STORE_CHECKPOINT_LIMIT times as many,
 * when the thread falls behind, the writer checkpoints itself, as SQLite would.
 */
#define STORE_CHECKPOINT_PAGES 30000
#define STORE_CHECKPOINT_LIMIT 3 /* times STORE_CHECKPOINT_PAGES */

/*
 * Full-text search lives in a file of its own beside the log (its path
 * and STORE_FTS_SUFFIX), written by a thread of its own, so that
 * indexing a story's words, the dearest part of storing it, runs on
 * another core beside the next transaction. The index is contentless:
 * it keeps each story's terms, not its text. fts_state says what it
 * holds: the log's stories up to an id, and the log's fts_changes (the
 * text that edits and prunes replaced) up to a seq. A batch indexes
 * what the log holds beyond those, in one transaction that reads one
 * snapshot of the log, attached read-only so as to take no lock that
 * the log's writer needs. A crash anywhere loses nothing: the next
 * batch, or the next start, takes up what the index lacks.
 */
#define STORE_FTS_SUFFIX ".fts"
#define STORE_FTS_BATCH 10000 /* stories per transaction of the index */
/*
 * The index's segments are merged in rounds of STORE_FTS_MERGE_PAGES
 * pages at most (a round with nothing to merge costs little): one after
 * each batch, and one more for each STORE_FTS_MERGE_STORIES stories it
 * indexed. That is about twice the merging FTS5's own automerge would
 * do for the pages a batch writes, so that the merges keep up.
 */
#define STORE_FTS_MERGE_PAGES "2000"
#define STORE_FTS_MERGE_STORIES 2000
/*
 * A commit has the index follow the log once this many stories and
 * edits have gathered: a batch of 1,000 costs about half as much a
 * story as one of 100 (fewer, bigger segments to write and merge). A
 * search, and store_close, have it catch up first.
 */
#define STORE_FTS_GATHER 1000
/* Longest a batch waits for the writer to finish a checkpoint, ms. */
#define STORE_FTS_FINISH_MS 200

enum store_fts_stmt {
	FTS_BEGIN,
	FTS_COMMIT,
	FTS_ROLLBACK,
	FTS_STATE,
	FTS_NEXT,
	FTS_SEQ,
	FTS_UNINDEX,
	FTS_REINDEX,
	FTS_INDEX,
	FTS_SET,
	FTS_MERGE_BEGIN,
	FTS_MERGE,
	FTS_COUNT
};

/* The index's schema; it starts empty, and catches up with the log. */
/* The last change the log forgot (store_fts_forget), 0 for none. */
#define STORE_FTS_FORGOTTEN                                    \
	"coalesce((SELECT min(seq) - 1 FROM log.fts_changes)," \
	" (SELECT seq FROM log.sqlite_sequence"                \
	"  WHERE name = 'fts_changes'), 0)"

static const char *store_fts_schema =
    "CREATE VIRTUAL TABLE IF NOT EXISTS stories_fts USING fts5("
    "  title, summary, content='');"
    "CREATE TABLE IF NOT EXISTS fts_state ("
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  story INTEGER NOT NULL,"
    "  change INTEGER NOT NULL);"
    "INSERT OR IGNORE INTO fts_state VALUES (1, 0, 0);"
    /*
     * Segments are merged in a transaction of their own (FTS_MERGE),
     * which does not read the log: a merge can take seconds, and a
     * snapshot of the log held that long would keep its WAL from
     * starting over. 16 segments of a level, not 4: words are copied
     * less often.
     */
    "INSERT INTO stories_fts (stories_fts, rank) VALUES ('automerge', 0);"
    "INSERT INTO stories_fts (stories_fts, rank) VALUES ('usermerge', 16);"
    "INSERT INTO stories_fts (stories_fts, rank) VALUES ('crisismerge', 64);"
    /* An index ahead of the log is another log's (a restored backup). */
    "INSERT INTO stories_fts (stories_fts) SELECT 'delete-all'"
    "  FROM fts_state WHERE story > (SELECT coalesce(max(id), 0)"
    "  FROM log.stories);"
    "UPDATE fts_state SET story = 0, change = 0 WHERE story >"
    "  (SELECT coalesce(max(id), 0) FROM log.stories);"
    /*
     * An index behind what the log has forgotten of its changes (an
     * older copy restored, a power loss that kept the log's sync and
     * not the index's) missed edits and prunes it cannot learn now:
     * made again. The log forgets a prefix of its changes: up to the
     * first one it holds, or all it ever had.
     */
    "INSERT INTO stories_fts (stories_fts) SELECT 'delete-all'"
    "  FROM fts_state WHERE change < " STORE_FTS_FORGOTTEN ";"
    "UPDATE fts_state SET story = 0, change = 0 WHERE change < " STORE_FTS_FORGOTTEN
    ";";

static const char *store_fts_sql[FTS_COUNT] = {
	[FTS_BEGIN] = "BEGIN IMMEDIATE",
	[FTS_COMMIT] = "COMMIT",
	[FTS_ROLLBACK] = "ROLLBACK",
	[FTS_STATE] = "SELECT story, change FROM fts_state",
	/* The batch after story ?1: its last story, and how many. */
	[FTS_NEXT] = "SELECT coalesce(max(id), ?1), count(*) FROM (SELECT id"
		     " FROM log.stories WHERE id > ?1 ORDER BY id LIMIT ?2)",
	[FTS_SEQ] = "SELECT coalesce(max(seq), ?1) FROM log.fts_changes",
	/*
	 * A story indexed before (up to ?2) whose text changed after
	 * change ?1: its terms go, by the text its first such change
	 * replaced, which is what was indexed; then its text is indexed
	 * as it is now.
	 */
	[FTS_UNINDEX] =
	    "INSERT INTO stories_fts (stories_fts, rowid, title, summary)"
	    " SELECT 'delete', c.story_id, c.title, c.summary"
	    " FROM log.fts_changes c WHERE c.seq > ?1 AND c.seq <= ?3"
	    " AND c.story_id <= ?2 AND NOT EXISTS (SELECT 1"
	    "  FROM log.fts_changes d WHERE d.story_id = c.story_id"
	    "  AND d.seq > ?1 AND d.seq < c.seq)",
	[FTS_REINDEX] = "INSERT INTO stories_fts (rowid, title, summary)"
			" SELECT id, title, summary FROM log.stories"
			" WHERE id IN (SELECT story_id FROM log.fts_changes"
			"  WHERE seq > ?1 AND seq <= ?3 AND story_id <= ?2)",
	[FTS_INDEX] = "INSERT INTO stories_fts (rowid, title, summary)"
		      " SELECT id, title, summary FROM log.stories"
		      " WHERE id > ?1 AND id <= ?2",
	[FTS_SET] = "UPDATE fts_state SET story = ?1, change = ?2",
	/* Deferred: it takes no snapshot of the log. */
	[FTS_MERGE_BEGIN] = "BEGIN",
	[FTS_MERGE] = "INSERT INTO stories_fts (stories_fts, rank)"
		      " VALUES ('merge', " STORE_FTS_MERGE_PAGES ")",
};

/* The index and the thread that writes it. */
struct store_fts {
	sqlite3 *db; /* the index's file, the log attached as log */
	sqlite3_stmt *stmt[FTS_COUNT];
	pthread_t thread;
	int has_thread;
	pthread_mutex_t lock; /* guards what follows */
	pthread_cond_t cond;
	uint64_t asked;	      /* batches asked for */
	uint64_t done;	      /* batches indexed, or failed */
	int64_t change;	      /* the log's changes indexed, by seq */
	int is_stopping;      /* store_close: end when nothing is asked */
	char *error;	      /* why the last batch failed, NULL = it did not */
	int checkpoint_asked; /* the log's writer wants a checkpoint */
	uint64_t checkpoints; /* checkpoints of the log done */
	uint64_t finished;    /* of those, the ones the writer finished */
	sqlite3 *checkpoint_db; /* the log, to checkpoint it */
};

struct store {
	sqlite3 *db;
	sqlite3_stmt *stmt[STMT_COUNT];
	char *fts_path;
	struct store_fts *fts;
	int64_t forgotten; /* fts_changes dropped up to this seq */
	int fts_pending;   /* stories and edits the index was not asked for */
	int checkpoint_pages; /* STORE_CHECKPOINT_PAGES, or as a test sets */
	uint64_t checkpoints; /* the index thread's, as the writer last saw */
	int is_checkpoint_asked;       /* and it asked for one since */
	uint64_t checkpoints_finished; /* by the writer, after the thread */
	uint64_t checkpoints_alone;    /* by the writer, without it */
	double checkpoint_seconds;     /* the writer's */
	int wal_pages;		       /* after the last commit */
	/*
	 * The stories first seen since near_since, by their fingerprints;
	 * NULL until a look-up reads them, and again after a rollback or a
	 * commit of another connection (data_version).
	 */
	struct dedup_index *near;
	time_t near_since;
	/*
	 * The keys of the canonical URLs the log holds, so that a URL
	 * never seen, as most are, is told without reading stories_url:
	 * read in full at the first URL look-up, NULL again after a
	 * commit of another connection or when full. A rollback leaves
	 * keys that are gone: they only cost a look-up.
	 */
	struct dedup_filter *urls;
	int64_t data_version;
	int is_fresh; /* data_version read in this transaction */
};

static int store_migrate(struct store *, char **);
static int store_prepare(struct store *, char **);
static int store_error(struct store *, char **, const char *);
static int store_step_done(
    struct store *, sqlite3_stmt *, char **, const char *);
static void store_bind_text(sqlite3_stmt *, int, const char *);
static char *store_column_strdup(sqlite3_stmt *, int);
static int store_alert_sources(struct store *, struct store_alert *, char **);
static void store_done(sqlite3_stmt *);
static int store_step_row(
    struct store *, sqlite3_stmt *, int *, char **, const char *);
static struct store_fts *store_fts_open(const char *, const char *, char **);
static void store_fts_close(struct store_fts *);
static int store_fts_ask(struct store_fts *, int, char **);
static void store_fts_forget(struct store *);
static int store_fresh(struct store *, char **);
static int store_near(struct store *, time_t, char **);
static int store_url_maybe(struct store *, int64_t, int *, char **);
static void store_url_key_cb(sqlite3_context *, int, sqlite3_value **);
static int store_key_urls(struct store *);
static void store_near_add(struct store *, uint64_t, int64_t, time_t);
static int store_wal_hook(void *, sqlite3 *, const char *, int);

struct store *
store_open(const char *path, char **cause)
{
	struct store *st;

	*cause = NULL;
	st = xcalloc(1, sizeof *st);
	st->checkpoint_pages = STORE_CHECKPOINT_PAGES;
	if (sqlite3_open_v2(path, &st->db,
		SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
		NULL) != SQLITE_OK) {
		xasprintf(cause, "%s: %s", path,
		    st->db == NULL ? "out of memory" : sqlite3_errmsg(st->db));
		store_close(st);
		return NULL;
	}
	sqlite3_busy_timeout(st->db, 5000);
	sqlite3_wal_hook(st->db, store_wal_hook, st);
	if (sqlite3_exec(st->db,
		"PRAGMA journal_mode = WAL;"
		"PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;"
		"PRAGMA cache_size = " STORE_CACHE_KIB ";",
		NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_create_function(st->db, "feedwatch_url_key", 1,
		SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, store_url_key_cb,
		NULL, NULL) != SQLITE_OK ||
	    store_migrate(st, cause) == -1 || store_key_urls(st) == -1 ||
	    store_prepare(st, cause) == -1) {
		if (*cause == NULL)
			store_error(st, cause, path);
		store_close(st);
		return NULL;
	}
	xasprintf(&st->fts_path, "%s%s", path, STORE_FTS_SUFFIX);
	if ((st->fts = store_fts_open(path, st->fts_path, cause)) == NULL) {
		store_close(st);
		return NULL;
	}
	return st;
}

/*
 * The thread's last checkpoint needs no more from the writer: the
 * thread may read the log again. With fts->lock held.
 */
static void
store_fts_finished(struct store_fts *fts)
{
	fts->finished = fts->checkpoints;
	pthread_cond_broadcast(&fts->cond);
}

/*
 * After each commit of the log, with the WAL's size in pages (SQLite's
 * WAL hook, in place of its automatic checkpoint). Past
 * STORE_CHECKPOINT_PAGES, ask the index's thread to checkpoint; once it
 * has, copy the pages added meanwhile, so that the checkpoint is
 * complete and the next transaction starts the WAL over. Past
 * STORE_CHECKPOINT_LIMIT times that, or before the thread runs,
 * checkpoint here.
 * A checkpoint that cannot finish (a reader, another checkpoint) is
 * tried again at the next commit. Always returns SQLITE_OK: the commit
 * is done either way.
 */
static int
store_wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct store *st = arg;
	struct store_fts *fts = st->fts;
	struct timespec t0, t1;
	int is_here = 0, finishes = 0;

	st->wal_pages = pages;
	if (pages < st->checkpoint_pages) {
		/*
		 * The WAL started over: a checkpoint the thread finished
		 * meanwhile, the writer idle, needs no finishing.
		 */
		if (st->is_checkpoint_asked && fts != NULL) {
			pthread_mutex_lock(&fts->lock);
			if (!fts->checkpoint_asked) {
				st->checkpoints = fts->checkpoints;
				st->is_checkpoint_asked = 0;
				store_fts_finished(fts);
			}
			pthread_mutex_unlock(&fts->lock);
		}
		return SQLITE_OK;
	}
	if (fts == NULL ||
	    pages >= STORE_CHECKPOINT_LIMIT * st->checkpoint_pages) {
		is_here = 1;
		st->checkpoints_alone++;
	} else {
		pthread_mutex_lock(&fts->lock);
		if (fts->checkpoints != st->checkpoints) {
			st->checkpoints = fts->checkpoints;
			st->is_checkpoint_asked = 0;
			is_here = 1;
			finishes = 1;
			st->checkpoints_finished++;
		} else if (!fts->checkpoint_asked) {
			fts->checkpoint_asked = 1;
			st->is_checkpoint_asked = 1;
			pthread_cond_broadcast(&fts->cond);
		}
		pthread_mutex_unlock(&fts->lock);
	}
	if (is_here) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		sqlite3_wal_checkpoint_v2(
		    db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		st->checkpoint_seconds += (double)(t1.tv_sec - t0.tv_sec) +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	}
	if (finishes) {
		pthread_mutex_lock(&fts->lock);
		store_fts_finished(fts);
		pthread_mutex_unlock(&fts->lock);
	}
	return SQLITE_OK;
}

void
store_set_checkpoint(struct store *st, int pages)
{
	st->checkpoint_pages = pages > 0 ? pages : STORE_CHECKPOINT_PAGES;
}

void
store_checkpoint_stats(struct store *st, struct store_checkpoints *c)
{
	pthread_mutex_lock(&st->fts->lock);
	c->by_thread = st->fts->checkpoints;
	pthread_mutex_unlock(&st->fts->lock);
	c->finished = st->checkpoints_finished;
	c->alone = st->checkpoints_alone;
	c->seconds = st->checkpoint_seconds;
	c->wal_pages = st->wal_pages;
}

void
store_close(struct store *st)
{
	char *cause = NULL;

	if (st == NULL)
		return;
	/* The index catches up, and the log forgets what it followed. */
	if (st->fts != NULL && store_fts_ask(st->fts, 1, &cause) == 0)
		store_fts_forget(st);
	free(cause);
	store_fts_close(st->fts);
	for (int i = 0; i < STMT_COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	sqlite3_close(st->db);
	dedup_index_free(st->near);
	dedup_filter_free(st->urls);
	free(st->fts_path);
	free(st);
}

/*
 * Does any statement's plan read a whole table of the log (stories,
 * alerts, matches, feeds) when it should use an index? A scan of the story
 * log costs in proportion to its size, on every call: the tests ask
 * this of every statement, so that a rewrite cannot bring one back
 * unnoticed. Statements that list a table on purpose (`feedwatch
 * stories`, `alerts`, `feeds`, the hooks left running) are let through.
 */
int
store_plan_check(struct store *st, char **cause)
{
	static const enum store_stmt listing[] = { STMT_STORIES, STMT_RUNS,
		STMT_ALERT_LIST, STMT_FEEDS };
	sqlite3_stmt *q;
	const char *detail;
	char *sql;
	int rc = 0;

	*cause = NULL;
	for (int i = 0; i < STMT_COUNT && rc == 0; i++) {
		for (size_t j = 0; j < sizeof listing / sizeof *listing; j++) {
			if (listing[j] == (enum store_stmt)i)
				goto next;
		}
		xasprintf(&sql, "EXPLAIN QUERY PLAN %s", store_sql[i]);
		if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) !=
		    SQLITE_OK) {
			store_error(st, cause, "EXPLAIN QUERY PLAN");
			free(sql);
			return -1;
		}
		free(sql);
		while (rc == 0 && sqlite3_step(q) == SQLITE_ROW) {
			detail = (const char *)sqlite3_column_text(q, 3);
			/* "SCAN (subquery-1)" reads a few rows already found.
			 */
			if (detail != NULL &&
			    strncmp(detail, "SCAN ", 5) == 0 &&
			    detail[5] != '(') {
				xasprintf(
				    cause, "%s: %s", detail, store_sql[i]);
				rc = -1;
			}
		}
		sqlite3_finalize(q);
	next:;
	}
	return rc;
}

int
store_schema_version(struct store *st)
{
	sqlite3_stmt *s;
	int v = -1;

	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) !=
	    SQLITE_OK)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return v;
}

/*
 * Give a url_key to the stories that have a canonical URL but none: a
 * daemon older than schema 14, still running when a newer command
 * migrated the log, stores them so, and without a key a story is never
 * found by its URL. Asked first, so that opening the log to read it
 * writes nothing; both through stories_url, where a NULL key sorts.
 */
static int
store_key_urls(struct store *st)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(st->db,
		"SELECT 1 FROM stories WHERE url_key IS NULL"
		" AND canonical_url IS NOT NULL LIMIT 1",
		-1, &s, NULL) != SQLITE_OK)
		return -1;
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return -1;
	return sqlite3_exec(st->db,
		   "UPDATE stories SET url_key = feedwatch_url_key(canonical_url)"
		   " WHERE url_key IS NULL AND canonical_url IS NOT NULL",
		   NULL, NULL, NULL) == SQLITE_OK ?
	    0 :
	    -1;
}

/* SQL's feedwatch_url_key(url): dedup_url_key, for migrations. */
static void
store_url_key_cb(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const unsigned char *url;

	(void)argc;
	if ((url = sqlite3_value_text(argv[0])) == NULL)
		sqlite3_result_null(ctx);
	else
		sqlite3_result_int64(ctx, dedup_url_key((const char *)url));
}

/* Bring the schema to STORE_SCHEMA_VERSION, one transaction per step. */
static int
store_migrate(struct store *st, char **cause)
{
	char *sql;
	int v;

	if ((v = store_schema_version(st)) == -1)
		return store_error(st, cause, "reading user_version");
	if (v > STORE_SCHEMA_VERSION) {
		xasprintf(cause,
		    "database schema version %d is newer than "
		    "this feedwatch supports (%d)",
		    v, STORE_SCHEMA_VERSION);
		return -1;
	}
	for (; v < STORE_SCHEMA_VERSION; v++) {
		xasprintf(&sql,
		    "BEGIN IMMEDIATE; %s PRAGMA user_version = %d;"
		    " COMMIT;",
		    store_migrations[v], v + 1);
		if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
			free(sql);
			xasprintf(cause, "migrating schema %d to %d: %s", v,
			    v + 1, sqlite3_errmsg(st->db));
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
		free(sql);
	}
	return 0;
}

static int
store_prepare(struct store *st, char **cause)
{
	for (int i = 0; i < STMT_COUNT; i++) {
		if (sqlite3_prepare_v3(st->db, store_sql[i], -1,
			SQLITE_PREPARE_PERSISTENT, &st->stmt[i],
			NULL) != SQLITE_OK)
			return store_error(st, cause, "preparing statements");
	}
	return 0;
}

/* Set *cause from SQLite's last error and return -1. */
static int
store_error(struct store *st, char **cause, const char *what)
{
	xasprintf(cause, "%s: %s", what, sqlite3_errmsg(st->db));
	return -1;
}

/* Step a statement that returns no rows, then reset it. */
static int
store_step_done(
    struct store *st, sqlite3_stmt *s, char **cause, const char *what)
{
	int rc;

	rc = sqlite3_step(s);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_DONE)
		return store_error(st, cause, what);
	return 0;
}

static void
store_bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v == NULL)
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

static char *
store_column_strdup(sqlite3_stmt *s, int i)
{
	const unsigned char *v;

	if ((v = sqlite3_column_text(s, i)) == NULL)
		return NULL;
	return xstrdup((const char *)v);
}

/*
 * Column i as valid UTF-8, as the JSON of an alert needs it: a byte
 * that starts no valid sequence, which only a program other than
 * feedwatch can have written, becomes '?'.
 */
static char *
store_column_utf8(sqlite3_stmt *s, int i)
{
	char *v;

	if ((v = store_column_strdup(s, i)) != NULL)
		charset_utf8_copy(v, strlen(v) + 1, v);
	return v;
}

int
store_begin(struct store *st, char **cause)
{
	st->is_fresh = 0;
	return store_step_done(st, st->stmt[STMT_BEGIN], cause, "begin");
}

int
store_commit(struct store *st, char **cause)
{
	if (store_step_done(st, st->stmt[STMT_COMMIT], cause, "commit") == -1)
		return -1;
	store_fts_forget(st);
	if (st->fts_pending < STORE_FTS_GATHER)
		return 0;
	st->fts_pending = 0;
	return store_fts_ask(st->fts, 0, NULL);
}

void
store_rollback(struct store *st)
{
	/*
	 * The index may hold stories that are gone now: read it again.
	 * So too when SQLite rolled back already, as it does itself when
	 * a write or a commit fails for want of disk or with an I/O error.
	 */
	dedup_index_free(st->near);
	st->near = NULL;
	if (sqlite3_get_autocommit(st->db))
		return;
	sqlite3_step(st->stmt[STMT_ROLLBACK]);
	sqlite3_reset(st->stmt[STMT_ROLLBACK]);
}

int
store_feed_get(struct store *st, const char *name, const char *url,
    struct store_feed *f, char **cause)
{
	sqlite3_stmt *s = st->stmt[STMT_FEED_INSERT];
	int rc;

	memset(f, 0, sizeof *f);
	store_bind_text(s, 1, name);
	store_bind_text(s, 2, url);
	if (store_step_done(st, s, cause, "adding feed") == -1)
		return -1;
	s = st->stmt[STMT_FEED_GET];
	store_bind_text(s, 1, name);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		f->id = sqlite3_column_int64(s, 0);
		f->etag = store_column_strdup(s, 1);
		f->last_modified = store_column_strdup(s, 2);
		f->next_poll = (time_t)sqlite3_column_int64(s, 3);
		f->failures = sqlite3_column_int(s, 4);
		f->moved_url = store_column_strdup(s, 5);
		f->gone_at = (time_t)sqlite3_column_int64(s, 6);
		f->failing_since = (time_t)sqlite3_column_int64(s, 7);
		f->poll_interval = sqlite3_column_int(s, 8);
		f->health = store_column_strdup(s, 9);
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_ROW)
		return store_error(st, cause, "reading feed");
	return 0;
}

void
store_feed_clear(struct store_feed *f)
{
	free(f->etag);
	free(f->last_modified);
	free(f->moved_url);
	free(f->health);
	memset(f, 0, sizeof *f);
}

int
store_feed_fetched(
    struct store *st, int64_t id, const struct store_fetch *r, char **cause)
{
	sqlite3_stmt *s = st->stmt[STMT_FEED_FETCHED];

	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)r->when);
	if (r->http_status != 0)
		sqlite3_bind_int(s, 3, r->http_status);
	store_bind_text(s, 4, r->error);
	store_bind_text(s, 5, r->etag);
	store_bind_text(s, 6, r->last_modified);
	sqlite3_bind_int64(s, 7, (sqlite3_int64)r->next_poll);
	sqlite3_bind_int(s, 8, r->items);
	store_bind_text(s, 9, r->moved_url);
	sqlite3_bind_int(s, 10, r->is_gone);
	if (r->poll_interval > 0)
		sqlite3_bind_int(s, 11, r->poll_interval);
	return store_step_done(st, s, cause, "recording fetch");
}

int
store_story_add(struct store *st, int64_t feed_id,
    const struct store_story *story, int64_t *story_id, int *is_new,
    char **cause)
{
	sqlite3_stmt *s = st->stmt[STMT_STORY_INSERT];
	time_t seen = story->first_seen != 0 ? story->first_seen : time(NULL);
	int rc;

	sqlite3_bind_int64(s, 1, feed_id);
	store_bind_text(s, 2, story->key);
	store_bind_text(s, 3, story->guid);
	store_bind_text(s, 4, story->title);
	store_bind_text(s, 5, story->url);
	store_bind_text(s, 6, story->summary);
	if (story->published != -1)
		sqlite3_bind_int64(s, 7, (sqlite3_int64)story->published);
	sqlite3_bind_int64(s, 8, (sqlite3_int64)seen);
	store_bind_text(s, 9, story->canonical_url);
	sqlite3_bind_int64(s, 10, (sqlite3_int64)story->simhash);
	sqlite3_bind_int64(s, 11, (sqlite3_int64)story->content_hash);
	if (story->cluster != 0)
		sqlite3_bind_int64(s, 12, story->cluster);
	store_bind_text(s, 13, story->joined);
	if (story->canonical_url != NULL)
		sqlite3_bind_int64(s, 14, dedup_url_key(story->canonical_url));
	if (store_step_done(st, s, cause, "adding story") == -1)
		return -1;
	*is_new = sqlite3_changes(st->db) == 1;
	if (*is_new) {
		*story_id = sqlite3_last_insert_rowid(st->db);
		store_near_add(st, story->simhash,
		    story->cluster != 0 ? story->cluster : *story_id, seen);
		if (st->urls != NULL && story->canonical_url != NULL &&
		    dedup_filter_add(
			st->urls, dedup_url_key(story->canonical_url)) == -1) {
			dedup_filter_free(st->urls);
			st->urls = NULL;
		}
		st->fts_pending++;
		return 0;
	}
	s = st->stmt[STMT_STORY_FIND];
	sqlite3_bind_int64(s, 1, feed_id);
	store_bind_text(s, 2, story->key);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		*story_id = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_ROW)
		return store_error(st, cause, "finding story");
	return 0;
}

int
store_match_add(struct store *st, int64_t story_id, const char *watchlist,
    const char *matched_json, const char *snippet, char **cause)
{
	sqlite3_stmt *s = st->stmt[STMT_MATCH_INSERT];

	sqlite3_bind_int64(s, 1, story_id);
	store_bind_text(s, 2, watchlist);
	store_bind_text(s, 3, matched_json);
	store_bind_text(s, 4, snippet);
	return store_step_done(st, s, cause, "adding match");
}

int
store_alert_add(struct store *st, int64_t story_id, const char *watchlist,
    const char *hook, time_t now, char **cause)
{
	sqlite3_stmt *s = st->stmt[STMT_ALERT_INSERT];

	sqlite3_bind_int64(s, 1, story_id);
	store_bind_text(s, 2, watchlist);
	store_bind_text(s, 3, hook);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)now);
	return store_step_done(st, s, cause, "adding alert");
}

int
store_health_alert_add(struct store *st, const char *hook, const char *payload,
    time_t now, char **cause)
{
	sqlite3_stmt *s = st->stmt[STMT_HEALTH_INSERT];

	store_bind_text(s, 1, hook);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)now);
	store_bind_text(s, 3, payload);
	return store_step_done(st, s, cause, "adding feed-health alert");
}

int
store_feed_health(
    struct store *st, int64_t feed_id, const char *health, char **cause)
{
	sqlite3_stmt *s = st->stmt[STMT_FEED_HEALTH];

	sqlite3_bind_int64(s, 1, feed_id);
	store_bind_text(s, 2, health);
	return store_step_done(st, s, cause, "recording feed health");
}

static void
store_alert_read(sqlite3_stmt *s, struct store_alert *a)
{
	memset(a, 0, sizeof *a);
	a->id = sqlite3_column_int64(s, 0);
	a->alert_id = store_column_utf8(s, 1);
	a->watchlist = store_column_utf8(s, 2);
	a->hook = store_column_strdup(s, 3);
	a->attempts = sqlite3_column_int(s, 4);
	a->story_id = sqlite3_column_int64(s, 5);
	a->title = store_column_utf8(s, 6);
	a->url = store_column_utf8(s, 7);
	a->summary = store_column_utf8(s, 8);
	if (sqlite3_column_type(s, 9) == SQLITE_NULL)
		a->published = -1;
	else
		a->published = (time_t)sqlite3_column_int64(s, 9);
	a->feed_name = store_column_utf8(s, 10);
	a->feed_url = store_column_utf8(s, 11);
	a->matched = store_column_utf8(s, 12);
	a->snippet = store_column_utf8(s, 13);
	a->counted_at = (time_t)sqlite3_column_int64(s, 14);
	a->payload = store_column_strdup(s, 15);
}

/* Read the alerts a bound statement selects, with their sources. */
static struct store_alert *
store_alerts_read(struct store *st, sqlite3_stmt *s, int *n, char **cause)
{
	struct store_alert *v = NULL;
	int rc;

	*n = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		v = xreallocarray(v, (size_t)*n + 1, sizeof *v);
		store_alert_read(s, &v[(*n)++]);
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_DONE) {
		store_alerts_free(v, *n);
		*n = 0;
		store_error(st, cause, "reading outbox");
		return NULL;
	}
	for (int i = 0; i < *n; i++) {
		if (store_alert_sources(st, &v[i], cause) == -1) {
			store_alerts_free(v, *n);
			*n = 0;
			return NULL;
		}
	}
	return v;
}

struct store_alert *
store_alerts_due(struct store *st, time_t now, int64_t after_id, int max,
    int *n, char **cause)
{
	sqlite3_stmt *s = st->stmt[STMT_ALERTS_DUE];

	sqlite3_bind_int64(s, 1, (sqlite3_int64)now);
	sqlite3_bind_int(s, 2, max);
	sqlite3_bind_int64(s, 3, after_id);
	return store_alerts_read(st, s, n, cause);
}

struct store_alert *
store_hook_alerts_due(struct store *st, const char *hook, time_t now,
    int64_t after_id, int max, int *n, char **cause)
{
	sqlite3_stmt *s = st->stmt[STMT_HOOK_ALERTS_DUE];

	sqlite3_bind_int64(s, 1, (sqlite3_int64)now);
	sqlite3_bind_int(s, 2, max);
	sqlite3_bind_int64(s, 3, after_id);
	store_bind_text(s, 4, hook);
	return store_alerts_read(st, s, n, cause);
}

int
store_hook_alert_ids(struct store *st, const char *hook, time_t now,
    int64_t after_id, int64_t *ids, int max, char **cause)
{
	sqlite3_stmt *s = st->stmt[STMT_HOOK_ALERT_IDS];
	int rc = SQLITE_DONE, n = 0;

	sqlite3_bind_int64(s, 1, (sqlite3_int64)now);
	sqlite3_bind_int(s, 2, max);
	sqlite3_bind_int64(s, 3, after_id);
	store_bind_text(s, 4, hook);
	while (n < max && (rc = sqlite3_step(s)) == SQLITE_ROW)
		ids[n++] = sqlite3_column_int64(s, 0);
	store_done(s);
	if (n < max && rc != SQLITE_DONE)
		return store_error(st, cause, "reading the outbox");
	return n;
}

struct store_alert *
store_alert_get(struct store *st, int64_t id, char **cause)
{
	sqlite3_stmt *s = st->stmt[STMT_ALERT_GET];
	struct store_alert *a;
	int n;

	*cause = NULL;
	sqlite3_bind_int64(s, 1, id);
	a = store_alerts_read(st, s, &n, cause);
	if (a == NULL && *cause == NULL)
		xasprintf(cause, "no alert %lld", (long long)id);
	return a;
}

int
store_alert_hooks(
    struct store *st, void (*cb)(const char *, void *), void *arg, char **cause)
{
	sqlite3_stmt *s = st->stmt[STMT_ALERT_HOOKS];
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		cb((const char *)sqlite3_column_text(s, 0), arg);
	store_done(s);
	if (rc != SQLITE_DONE)
		return store_error(st, cause, "reading the outbox");
	return 0;
}

int
store_hook_deliveries(struct store *st, const char *hook, time_t since,
    time_t *when, int max, char **cause)
{
	sqlite3_stmt *s = st->stmt[STMT_HOOK_DELIVERIES];
	int rc = SQLITE_DONE, n = 0;

	store_bind_text(s, 1, hook);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)since);
	sqlite3_bind_int(s, 3, max);
	while (n < max && (rc = sqlite3_step(s)) == SQLITE_ROW)
		when[n++] = (time_t)sqlite3_column_int64(s, 0);
	store_done(s);
	if (n < max && rc != SQLITE_DONE)
		return store_error(st, cause, "reading deliveries");
	return n;
}

int
store_digest_get(struct store *st, const char *hook, time_t now,
    struct store_digest *d, char **cause)
{
	sqlite3_stmt *s = st->stmt[STMT_DIGEST_GET];
	int found;

	memset(d, 0, sizeof *d);
	store_bind_text(s, 1, hook);
	if (store_step_row(st, s, &found, cause, "reading a digest") == -1)
		return -1;
	if (found) {
		d->period_start = (time_t)sqlite3_column_int64(s, 0);
		d->period_end = (time_t)sqlite3_column_int64(s, 1);
		d->pending = sqlite3_column_int(s, 2);
		d->next_attempt = (time_t)sqlite3_column_int64(s, 3);
	}
	store_done(s);
	if (found)
		return 0;
	/* The hook's first period starts now. */
	s = st->stmt[STMT_DIGEST_INSERT];
	store_bind_text(s, 1, hook);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)now);
	d->period_start = now;
	return store_step_done(st, s, cause, "starting a digest period");
}

/* Run the steps of a digest change in one transaction. */
static int
store_digest_steps(struct store *st, sqlite3_stmt **steps, size_t n,
    const char *what, char **cause)
{
	if (store_begin(st, cause) == -1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (store_step_done(st, steps[i], cause, what) == -1) {
			for (size_t j = i + 1; j < n; j++)
				store_done(steps[j]);
			store_rollback(st);
			return -1;
		}
	}
	if (store_commit(st, cause) == -1) {
		store_rollback(st);
		return -1;
	}
	return 0;
}

int
store_digest_open(struct store *st, const char *hook, time_t period_end,
    int max, int *n, char **cause)
{
	sqlite3_stmt *steps[] = { st->stmt[STMT_DIGEST_ALERTS_JOIN],
		st->stmt[STMT_DIGEST_OPEN] };

	*n = 0;
	store_bind_text(steps[0], 1, hook);
	sqlite3_bind_int64(steps[0], 2, (sqlite3_int64)period_end);
	sqlite3_bind_int(steps[0], 3, max);
	store_bind_text(steps[1], 1, hook);
	sqlite3_bind_int64(steps[1], 2, (sqlite3_int64)period_end);
	if (store_begin(st, cause) == -1) {
		store_done(steps[0]);
		store_done(steps[1]);
		return -1;
	}
	if (store_step_done(st, steps[0], cause, "opening a digest") == -1) {
		store_done(steps[1]);
		store_rollback(st);
		return -1;
	}
	*n = sqlite3_changes(st->db);
	/* An empty period leaves nothing to send: no digest is opened. */
	if (*n == 0) {
		store_done(steps[1]);
		store_rollback(st);
		return 0;
	}
	if (store_step_done(st, steps[1], cause, "opening a digest") == -1 ||
	    store_commit(st, cause) == -1) {
		store_rollback(st);
		*n = 0;
		return -1;
	}
	return 0;
}

struct store_alert *
store_digest_alerts(
    struct store *st, const char *hook, time_t period_end, int *n, char **cause)
{
	sqlite3_stmt *s = st->stmt[STMT_DIGEST_ALERTS];

	store_bind_text(s, 1, hook);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)period_end);
	return store_alerts_read(st, s, n, cause);
}

int
store_digest_delivered(struct store *st, const char *hook, time_t period_end,
    time_t now, char **cause)
{
	sqlite3_stmt *steps[] = { st->stmt[STMT_DIGEST_DELIVERED],
		st->stmt[STMT_DIGEST_CLOSE] };

	store_bind_text(steps[0], 1, hook);
	sqlite3_bind_int64(steps[0], 2, (sqlite3_int64)period_end);
	sqlite3_bind_int64(steps[0], 3, (sqlite3_int64)now);
	store_bind_text(steps[1], 1, hook);
	sqlite3_bind_int64(steps[1], 2, (sqlite3_int64)period_end);
	return store_digest_steps(
	    st, steps, 2, "recording a digest's delivery", cause);
}

int
store_digest_failed(struct store *st, const char *hook, time_t period_end,
    const char *error, time_t next_attempt, int max_attempts, int counts,
    char **cause)
{
	sqlite3_stmt *s = st->stmt[STMT_DIGEST_FAILED];

	store_bind_text(s, 1, hook);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)period_end);
	store_bind_text(s, 3, error);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)next_attempt);
	sqlite3_bind_int(s, 5, max_attempts);
	sqlite3_bind_int(s, 6, counts ? 1 : 0);
	sqlite3_bind_int64(s, 7, (sqlite3_int64)time(NULL));
	return store_step_done(st, s, cause, "recording a failed digest");
}

int
store_digest_close(
    struct store *st, const char *hook, time_t period_end, char **cause)
{
	sqlite3_stmt *s = st->stmt[STMT_DIGEST_CLOSE];

	store_bind_text(s, 1, hook);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)period_end);
	return store_step_done(st, s, cause, "ending a digest period");
}

int
store_run_add(struct store *st, const struct store_run *r, char **cause)
{
	sqlite3_stmt *s = st->stmt[STMT_RUN_ADD];

	sqlite3_bind_int64(s, 1, r->pid);
	sqlite3_bind_int64(s, 2, r->started);
	sqlite3_bind_int64(s, 3, r->daemon);
	sqlite3_bind_int64(s, 4, r->daemon_started);
	return store_step_done(st, s, cause, "recording a hook process");
}

int
store_run_remove(struct store *st, int64_t pid, char **cause)
{
	sqlite3_stmt *s = st->stmt[STMT_RUN_REMOVE];

	sqlite3_bind_int64(s, 1, pid);
	return store_step_done(st, s, cause, "forgetting a hook process");
}

struct store_run *
store_runs(struct store *st, int *n, char **cause)
{
	sqlite3_stmt *s = st->stmt[STMT_RUNS];
	struct store_run *v = NULL;
	int rc;

	*n = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		v = xreallocarray(v, (size_t)*n + 1, sizeof *v);
		v[*n].pid = sqlite3_column_int64(s, 0);
		v[*n].started = sqlite3_column_int64(s, 1);
		v[*n].daemon = sqlite3_column_int64(s, 2);
		v[*n].daemon_started = sqlite3_column_int64(s, 3);
		(*n)++;
	}
	store_done(s);
	if (rc != SQLITE_DONE) {
		free(v);
		*n = 0;
		store_error(st, cause, "reading hook processes");
		return NULL;
	}
	return v;
}

void
store_alerts_free(struct store_alert *v, int n)
{
	for (int i = 0; i < n; i++) {
		free(v[i].alert_id);
		free(v[i].watchlist);
		free(v[i].hook);
		free(v[i].title);
		free(v[i].url);
		free(v[i].summary);
		free(v[i].feed_name);
		free(v[i].feed_url);
		free(v[i].matched);
		free(v[i].snippet);
		free(v[i].payload);
		for (int j = 0; j < v[i].nsources; j++) {
			free(v[i].sources[j].feed);
			free(v[i].sources[j].url);
			free(v[i].sources[j].joined);
		}
		free(v[i].sources);
	}
	free(v);
}

int
store_alert_delivered(struct store *st, int64_t id, time_t now, char **cause)
{
	sqlite3_stmt *s = st->stmt[STMT_ALERT_DELIVERED];

	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)now);
	return store_step_done(st, s, cause, "recording delivery");
}

int
store_alert_attempt_failed(struct store *st, int64_t id, const char *error,
    time_t next_attempt, int max_attempts, int counts, char **cause)
{
	sqlite3_stmt *s = st->stmt[STMT_ALERT_FAILED];

	sqlite3_bind_int64(s, 1, id);
	store_bind_text(s, 2, error);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)next_attempt);
	sqlite3_bind_int(s, 4, max_attempts);
	sqlite3_bind_int(s, 5, counts ? 1 : 0);
	sqlite3_bind_int64(s, 6, (sqlite3_int64)time(NULL));
	return store_step_done(st, s, cause, "recording failed delivery");
}

int
store_alert_count(struct store *st, const char *state, char **cause)
{
	sqlite3_stmt *s = st->stmt[STMT_ALERT_COUNT];
	int rc, count = 0;

	store_bind_text(s, 1, state);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		count = sqlite3_column_int(s, 0);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_ROW)
		return store_error(st, cause, "counting alerts");
	return count;
}

int64_t
store_story_count(struct store *st, time_t since, char **cause)
{
	sqlite3_stmt *s = st->stmt[STMT_STORY_COUNT];
	int64_t count = 0;
	int rc;

	sqlite3_bind_int64(s, 1, (sqlite3_int64)since);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		count = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_ROW)
		return store_error(st, cause, "counting stories");
	return count;
}

/* Step a statement expected to give at most one row; *found says. */
static int
store_step_row(struct store *st, sqlite3_stmt *s, int *found, char **cause,
    const char *what)
{
	int rc = sqlite3_step(s);

	*found = rc == SQLITE_ROW;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
		return store_error(st, cause, what);
	}
	return 0;
}

static void
store_done(sqlite3_stmt *s)
{
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

int
store_story_known(struct store *st, int64_t feed_id, const char *key,
    struct store_known *k, int *found, char **cause)
{
	sqlite3_stmt *s = st->stmt[STMT_STORY_KNOWN];

	sqlite3_bind_int64(s, 1, feed_id);
	store_bind_text(s, 2, key);
	if (store_step_row(st, s, found, cause, "finding story") == -1)
		return -1;
	if (*found) {
		k->id = sqlite3_column_int64(s, 0);
		k->cluster = sqlite3_column_int64(s, 1);
		k->content_hash = (uint64_t)sqlite3_column_int64(s, 2);
	}
	store_done(s);
	return 0;
}

int
store_story_seen(struct store *st, int64_t feed_id, const char *url,
    uint64_t content_hash, int *found, char **cause)
{
	sqlite3_stmt *s;
	int maybe;

	*found = 0;
	if (url != NULL) {
		if (store_url_maybe(st, dedup_url_key(url), &maybe, cause) ==
			-1 ||
		    !maybe)
			return maybe ? -1 : 0;
		s = st->stmt[STMT_STORY_SEEN_URL];
		store_bind_text(s, 2, url);
		sqlite3_bind_int64(s, 3, dedup_url_key(url));
		sqlite3_bind_int64(s, 4, (sqlite3_int64)content_hash);
	} else {
		s = st->stmt[STMT_STORY_SEEN_HASH];
		sqlite3_bind_int64(s, 2, (sqlite3_int64)content_hash);
	}
	sqlite3_bind_int64(s, 1, feed_id);
	if (store_step_row(st, s, found, cause, "finding story") == -1)
		return -1;
	store_done(s);
	return 0;
}

int
store_cluster_find(struct store *st, const char *url, uint64_t simhash,
    int max_distance, time_t since, int64_t *cluster, int *distance,
    char **cause)
{
	sqlite3_stmt *s;
	int found, maybe;

	*cluster = 0;
	*distance = -1;
	if (url != NULL &&
	    store_url_maybe(st, dedup_url_key(url), &maybe, cause) == -1)
		return -1;
	if (url != NULL && maybe) {
		s = st->stmt[STMT_CLUSTER_BY_URL];
		store_bind_text(s, 1, url);
		sqlite3_bind_int64(s, 2, dedup_url_key(url));
		if (store_step_row(st, s, &found, cause, "finding story") == -1)
			return -1;
		if (found)
			*cluster = sqlite3_column_int64(s, 0);
		store_done(s);
		if (found)
			return 0;
	}
	if (simhash == 0)
		return 0;
	if (store_near(st, since, cause) == -1)
		return -1;
	dedup_index_find(
	    st->near, simhash, max_distance, since, cluster, distance);
	return 0;
}

/*
 * Drop what st->near and st->urls hold when another connection has
 * committed to the log since they were read. Within a transaction none
 * can: data_version is read once. Return 0 or -1.
 */
static int
store_fresh(struct store *st, char **cause)
{
	sqlite3_stmt *s = st->stmt[STMT_DATA_VERSION];
	int64_t version = 0;
	int rc;

	if (st->is_fresh && !sqlite3_get_autocommit(st->db))
		return 0;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		version = sqlite3_column_int64(s, 0);
	store_done(s);
	if (rc != SQLITE_ROW)
		return store_error(st, cause, "reading data_version");
	if (version != st->data_version) {
		dedup_index_free(st->near);
		st->near = NULL;
		dedup_filter_free(st->urls);
		st->urls = NULL;
		st->data_version = version;
	}
	st->is_fresh = !sqlite3_get_autocommit(st->db);
	return 0;
}

/*
 * Have st->near hold every story first seen since since: read the
 * window from the log when the index is missing, or starts later;
 * otherwise let it forget what the window has passed.
 */
static int
store_near(struct store *st, time_t since, char **cause)
{
	sqlite3_stmt *s = st->stmt[STMT_NEAR_LOAD];
	int rc;

	if (store_fresh(st, cause) == -1)
		return -1;
	if (st->near != NULL && since >= st->near_since) {
		dedup_index_expire(st->near, since);
		st->near_since = since;
		return 0;
	}
	dedup_index_free(st->near);
	st->near = dedup_index_new();
	st->near_since = since;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)since);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		dedup_index_add(st->near, (uint64_t)sqlite3_column_int64(s, 1),
		    sqlite3_column_int64(s, 0),
		    (time_t)sqlite3_column_int64(s, 2));
	store_done(s);
	if (rc != SQLITE_DONE) {
		dedup_index_free(st->near);
		st->near = NULL;
		return store_error(st, cause, "reading the dedup window");
	}
	return 0;
}

/*
 * Set *maybe to 0 when the log surely holds no story with the
 * canonical URL of this key, reading st->urls first if need be: sized
 * for twice the stories the log has, it is read again when full.
 */
static int
store_url_maybe(struct store *st, int64_t key, int *maybe, char **cause)
{
	sqlite3_stmt *s = st->stmt[STMT_LAST_ID];
	int64_t last = 0;
	int rc;

	*maybe = 1;
	if (store_fresh(st, cause) == -1)
		return -1;
	if (st->urls == NULL) {
		if ((rc = sqlite3_step(s)) == SQLITE_ROW)
			last = sqlite3_column_int64(s, 0);
		store_done(s);
		if (rc != SQLITE_ROW)
			return store_error(st, cause, "reading the log's end");
		st->urls = dedup_filter_new(2 * (size_t)last + 65536);
		s = st->stmt[STMT_URLS_LOAD];
		while ((rc = sqlite3_step(s)) == SQLITE_ROW &&
		    dedup_filter_add(st->urls, sqlite3_column_int64(s, 0)) == 0)
			;
		store_done(s);
		if (rc != SQLITE_DONE) {
			dedup_filter_free(st->urls);
			st->urls = NULL;
			return rc == SQLITE_ROW ?
			    0 :
			    store_error(st, cause, "reading URLs");
		}
	}
	*maybe = dedup_filter_has(st->urls, key);
	return 0;
}

/* A new story joins the window's index, if it is read and in it. */
static void
store_near_add(struct store *st, uint64_t simhash, int64_t cluster, time_t seen)
{
	if (st->near != NULL && seen >= st->near_since)
		dedup_index_add(st->near, simhash, cluster, seen);
}

int
store_story_update(
    struct store *st, int64_t id, const struct store_story *story, char **cause)
{
	sqlite3_stmt *s = st->stmt[STMT_STORY_UPDATE];

	sqlite3_bind_int64(s, 1, id);
	store_bind_text(s, 2, story->title);
	store_bind_text(s, 3, story->summary);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)story->content_hash);
	st->fts_pending++;
	return store_step_done(st, s, cause, "updating story");
}

int
store_cluster_claim(struct store *st, int64_t cluster, const char *watchlist,
    int *is_first, char **cause)
{
	sqlite3_stmt *s = st->stmt[STMT_CLUSTER_CLAIM];

	sqlite3_bind_int64(s, 1, cluster);
	store_bind_text(s, 2, watchlist);
	if (store_step_done(st, s, cause, "recording a match") == -1)
		return -1;
	*is_first = sqlite3_changes(st->db) == 1;
	return 0;
}

/* Read the other sources of an alert's story into a. */
static int
store_alert_sources(struct store *st, struct store_alert *a, char **cause)
{
	sqlite3_stmt *s = st->stmt[STMT_SOURCES];
	struct store_source *src;
	int rc;

	sqlite3_bind_int64(s, 1, a->story_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		a->sources = xreallocarray(
		    a->sources, (size_t)a->nsources + 1, sizeof *a->sources);
		src = &a->sources[a->nsources++];
		src->feed = store_column_utf8(s, 0);
		src->url = store_column_utf8(s, 1);
		src->joined = store_column_utf8(s, 2);
	}
	store_done(s);
	if (rc != SQLITE_DONE)
		return store_error(st, cause, "reading sources");
	return 0;
}

/* Hand each row of a story query to cb. */
static int
store_rows(
    struct store *st, sqlite3_stmt *s, store_row_cb cb, void *arg, char **cause)
{
	struct store_row r;
	int rc, n = 0;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		r.id = sqlite3_column_int64(s, 0);
		r.title = (const char *)sqlite3_column_text(s, 1);
		r.url = (const char *)sqlite3_column_text(s, 2);
		r.summary = (const char *)sqlite3_column_text(s, 3);
		r.published = sqlite3_column_type(s, 4) == SQLITE_NULL ?
		    -1 :
		    (time_t)sqlite3_column_int64(s, 4);
		r.first_seen = (time_t)sqlite3_column_int64(s, 5);
		r.feed_name = (const char *)sqlite3_column_text(s, 6);
		r.feed_url = (const char *)sqlite3_column_text(s, 7);
		r.joined = (const char *)sqlite3_column_text(s, 8);
		cb(&r, arg);
		n++;
	}
	store_done(s);
	if (rc != SQLITE_DONE)
		return store_error(st, cause, "reading stories");
	return n;
}

static void
store_stories_bind(sqlite3_stmt *s, const struct store_filter *f)
{
	if (f->since != 0)
		sqlite3_bind_int64(s, 1, (sqlite3_int64)f->since);
	store_bind_text(s, 2, f->feed);
	store_bind_text(s, 3, f->watchlist);
	if (f->search != NULL)
		store_bind_text(s, 4, f->search);
	sqlite3_bind_int(s, 5, f->limit > 0 ? f->limit : -1);
}

/* Attach the index's file to the log's connection as fts. */
static int
store_fts_attach(struct store *st, char **cause)
{
	sqlite3_stmt *s;

	if (sqlite3_prepare_v2(st->db, "ATTACH ?1 AS fts", -1, &s, NULL) !=
	    SQLITE_OK)
		return store_error(st, cause, "full-text index");
	store_bind_text(s, 1, st->fts_path);
	if (sqlite3_step(s) != SQLITE_DONE) {
		sqlite3_finalize(s);
		return store_error(st, cause, "full-text index");
	}
	sqlite3_finalize(s);
	return 0;
}

/*
 * A search waits for the index to catch up with the log, and reads it
 * attached for the one statement: a transaction of the log's writer
 * would otherwise take the index's file too.
 */
static int
store_search(struct store *st, const struct store_filter *f, store_row_cb cb,
    void *arg, char **cause)
{
	sqlite3_stmt *s;
	int n;

	if (store_fts_ask(st->fts, 1, cause) == -1 ||
	    store_fts_attach(st, cause) == -1)
		return -1;
	if (sqlite3_prepare_v2(st->db, STORE_STORIES_SQL(STORE_STORIES_SEARCH),
		-1, &s, NULL) != SQLITE_OK) {
		n = store_error(st, cause, "preparing a search");
		s = NULL;
	} else {
		store_stories_bind(s, f);
		n = store_rows(st, s, cb, arg, cause);
	}
	sqlite3_finalize(s);
	sqlite3_exec(st->db, "DETACH fts", NULL, NULL, NULL);
	return n;
}

int
store_stories(struct store *st, const struct store_filter *f, store_row_cb cb,
    void *arg, char **cause)
{
	sqlite3_stmt *s = st->stmt[STMT_STORIES];

	if (f->search != NULL)
		return store_search(st, f, cb, arg, cause);
	store_stories_bind(s, f);
	return store_rows(st, s, cb, arg, cause);
}

int
store_cluster(
    struct store *st, int64_t id, store_row_cb cb, void *arg, char **cause)
{
	sqlite3_stmt *s = st->stmt[STMT_CLUSTER];

	sqlite3_bind_int64(s, 1, id);
	return store_rows(st, s, cb, arg, cause);
}

int
store_cluster_watchlists(struct store *st, int64_t id,
    void (*cb)(const char *, void *), void *arg, char **cause)
{
	sqlite3_stmt *s = st->stmt[STMT_CLUSTER_WATCHLISTS];
	int rc;

	sqlite3_bind_int64(s, 1, id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		cb((const char *)sqlite3_column_text(s, 0), arg);
	store_done(s);
	if (rc != SQLITE_DONE)
		return store_error(st, cause, "reading matches");
	return 0;
}

/* Prune one story: its text, matches and finished alerts. */
static int
store_prune_one(struct store *st, int64_t id, char **cause)
{
	static const enum store_stmt steps[] = { STMT_PRUNE_ALERTS,
		STMT_PRUNE_MATCHES, STMT_PRUNE_STORY };

	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		sqlite3_bind_int64(st->stmt[steps[i]], 1, id);
		if (store_step_done(st, st->stmt[steps[i]], cause, "pruning") ==
		    -1)
			return -1;
	}
	st->fts_pending++;
	return 0;
}

int
store_prune(struct store *st, time_t before, int max, char **cause)
{
	sqlite3_stmt *s = st->stmt[STMT_PRUNE_PICK];
	int64_t *ids = xcalloc((size_t)max, sizeof *ids);
	int n = 0, rc = SQLITE_DONE;

	/*
	 * Chosen in the transaction that prunes them: an alert another
	 * program puts back to pending (feedwatch alerts retry) in
	 * between would lose its story's text.
	 */
	if (store_begin(st, cause) == -1) {
		free(ids);
		return -1;
	}
	sqlite3_bind_int64(s, 1, (sqlite3_int64)before);
	sqlite3_bind_int(s, 2, max);
	while (n < max && (rc = sqlite3_step(s)) == SQLITE_ROW)
		ids[n++] = sqlite3_column_int64(s, 0);
	store_done(s);
	if (n < max && rc != SQLITE_DONE) {
		store_error(st, cause, "choosing stories to prune");
		store_rollback(st);
		free(ids);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		if (store_prune_one(st, ids[i], cause) == -1) {
			store_rollback(st);
			free(ids);
			return -1;
		}
	}
	free(ids);
	if (store_commit(st, cause) == -1) {
		store_rollback(st);
		return -1;
	}
	return n;
}

int
store_alert_list(struct store *st, const char *state, int limit,
    void (*cb)(const struct store_alert_row *, void *), void *arg, char **cause)
{
	sqlite3_stmt *s = st->stmt[STMT_ALERT_LIST];
	struct store_alert_row r;
	int rc, n = 0;

	store_bind_text(s, 1, state);
	sqlite3_bind_int(s, 2, limit > 0 ? limit : -1);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		r.id = sqlite3_column_int64(s, 0);
		r.alert_id = (const char *)sqlite3_column_text(s, 1);
		r.watchlist = (const char *)sqlite3_column_text(s, 2);
		r.hook = (const char *)sqlite3_column_text(s, 3);
		r.state = (const char *)sqlite3_column_text(s, 4);
		r.attempts = sqlite3_column_int(s, 5);
		r.last_error = (const char *)sqlite3_column_text(s, 6);
		r.created = (time_t)sqlite3_column_int64(s, 7);
		r.next_attempt = (time_t)sqlite3_column_int64(s, 8);
		r.story_id = sqlite3_column_int64(s, 9);
		r.title = (const char *)sqlite3_column_text(s, 10);
		cb(&r, arg);
		n++;
	}
	store_done(s);
	if (rc != SQLITE_DONE)
		return store_error(st, cause, "reading the outbox");
	return n;
}

int
store_alert_retry(struct store *st, int64_t id, char **cause)
{
	sqlite3_stmt *s = st->stmt[STMT_ALERT_RETRY];

	sqlite3_bind_int64(s, 1, id);
	if (store_step_done(st, s, cause, "retrying alerts") == -1)
		return -1;
	return sqlite3_changes(st->db);
}

int
store_feeds(struct store *st, void (*cb)(const struct store_feed_row *, void *),
    void *arg, char **cause)
{
	sqlite3_stmt *s = st->stmt[STMT_FEEDS];
	struct store_feed_row r;
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		r.name = (const char *)sqlite3_column_text(s, 0);
		r.url = (const char *)sqlite3_column_text(s, 1);
		r.last_attempt = (time_t)sqlite3_column_int64(s, 2);
		r.last_success = (time_t)sqlite3_column_int64(s, 3);
		r.http_status = sqlite3_column_int(s, 4);
		r.failures = sqlite3_column_int(s, 5);
		r.last_error = (const char *)sqlite3_column_text(s, 6);
		r.next_poll = (time_t)sqlite3_column_int64(s, 7);
		r.items = sqlite3_column_int(s, 8);
		r.stories = sqlite3_column_int(s, 9);
		r.moved_url = (const char *)sqlite3_column_text(s, 10);
		r.gone_at = (time_t)sqlite3_column_int64(s, 11);
		r.failing_since = (time_t)sqlite3_column_int64(s, 12);
		r.poll_interval = sqlite3_column_int(s, 13);
		cb(&r, arg);
	}
	store_done(s);
	if (rc != SQLITE_DONE)
		return store_error(st, cause, "reading feeds");
	return 0;
}

/* Bind args to ?1.., step, read nout integer columns; reset. */
static int
store_fts_run(struct store_fts *fts, enum store_fts_stmt i, const int64_t *args,
    int nargs, int64_t *out, int nout)
{
	sqlite3_stmt *s = fts->stmt[i];
	int rc;

	for (int k = 0; k < nargs; k++)
		sqlite3_bind_int64(s, k + 1, args[k]);
	rc = sqlite3_step(s);
	for (int k = 0; k < nout && rc == SQLITE_ROW; k++)
		out[k] = sqlite3_column_int64(s, k);
	store_done(s);
	return rc == SQLITE_DONE || (rc == SQLITE_ROW && nout > 0) ? 0 : -1;
}

/*
 * Index one batch: the changes the log holds beyond fts_state's, and up
 * to STORE_FTS_BATCH new stories. Set *change to the changes indexed
 * and *stories to the stories (STORE_FTS_BATCH: there may be more).
 * Return 0 or -1.
 */
static int
store_fts_batch(struct store_fts *fts, int64_t *change, int64_t *stories)
{
	int64_t state[2] = { 0, 0 }, next[2] = { 0, 0 }, seq = 0, args[3];

	if (store_fts_run(fts, FTS_BEGIN, NULL, 0, NULL, 0) == -1)
		return -1;
	args[1] = STORE_FTS_BATCH;
	if (store_fts_run(fts, FTS_STATE, NULL, 0, state, 2) == -1 ||
	    store_fts_run(fts, FTS_SEQ, &state[1], 1, &seq, 1) == -1 ||
	    store_fts_run(fts, FTS_NEXT, (int64_t[]) { state[0], args[1] }, 2,
		next, 2) == -1)
		goto fail;
	args[0] = state[1];
	args[1] = state[0];
	args[2] = seq;
	if (store_fts_run(fts, FTS_UNINDEX, args, 3, NULL, 0) == -1 ||
	    store_fts_run(fts, FTS_REINDEX, args, 3, NULL, 0) == -1 ||
	    store_fts_run(fts, FTS_INDEX, (int64_t[]) { state[0], next[0] }, 2,
		NULL, 0) == -1 ||
	    store_fts_run(
		fts, FTS_SET, (int64_t[]) { next[0], seq }, 2, NULL, 0) == -1 ||
	    store_fts_run(fts, FTS_COMMIT, NULL, 0, NULL, 0) == -1)
		goto fail;
	*change = seq;
	*stories = next[1];
	return 0;

fail:
	store_fts_run(fts, FTS_ROLLBACK, NULL, 0, NULL, 0);
	return -1;
}

/*
 * One round of merging the index's segments, in a transaction of its
 * own that reads nothing of the log. A round that fails is rolled
 * back: the index is whole either way, and the next rounds merge what
 * this one left.
 */
static void
store_fts_merge(struct store_fts *fts)
{
	if (store_fts_run(fts, FTS_MERGE_BEGIN, NULL, 0, NULL, 0) == -1)
		return;
	if (store_fts_run(fts, FTS_MERGE, NULL, 0, NULL, 0) == -1 ||
	    store_fts_run(fts, FTS_COMMIT, NULL, 0, NULL, 0) == -1)
		store_fts_run(fts, FTS_ROLLBACK, NULL, 0, NULL, 0);
}

/*
 * After a checkpoint, give the writer time to finish it (copy what it
 * committed meanwhile) before a batch reads the log: a reader's
 * snapshot would keep the checkpoint from completing, and the WAL from
 * starting over. A writer gone idle is not waited for long.
 * With fts->lock held.
 */
static void
store_fts_await_finish(struct store_fts *fts)
{
	struct timespec until;

	clock_gettime(CLOCK_MONOTONIC, &until); /* fts->cond's clock */
	until.tv_nsec += STORE_FTS_FINISH_MS * 1000000L;
	until.tv_sec += until.tv_nsec / 1000000000L;
	until.tv_nsec %= 1000000000L;
	while (fts->finished != fts->checkpoints && !fts->is_stopping &&
	    pthread_cond_timedwait(&fts->cond, &fts->lock, &until) == 0)
		;
}

/*
 * The index's thread: each time it is asked, index batches until the
 * log has no more; then say it is done, failed or not. Asked for a
 * checkpoint of the log, copy what its WAL holds into it, before the
 * next batch if there is more to index.
 */
static void *
store_fts_main(void *arg)
{
	struct store_fts *fts = arg;
	uint64_t asked;
	int64_t change = 0, stories = 0;
	char *error;
	int merges = 0;

	pthread_mutex_lock(&fts->lock);
	for (;;) {
		while (fts->done == fts->asked && !fts->checkpoint_asked &&
		    merges == 0 && !fts->is_stopping)
			pthread_cond_wait(&fts->cond, &fts->lock);
		if (fts->checkpoint_asked) {
			pthread_mutex_unlock(&fts->lock);
			/* Busy (another checkpoint runs): the next one. */
			sqlite3_wal_checkpoint_v2(fts->checkpoint_db, NULL,
			    SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
			pthread_mutex_lock(&fts->lock);
			fts->checkpoint_asked = 0;
			fts->checkpoints++;
			store_fts_await_finish(fts);
			continue;
		}
		/* A batch's merging before the next batch: it keeps up. */
		if (merges > 0 && !fts->is_stopping) {
			merges--;
			pthread_mutex_unlock(&fts->lock);
			store_fts_merge(fts);
			pthread_mutex_lock(&fts->lock);
			continue;
		}
		if (fts->done == fts->asked)
			break;
		asked = fts->asked;
		pthread_mutex_unlock(&fts->lock);
		error = NULL;
		if (store_fts_batch(fts, &change, &stories) == -1)
			error = xstrdup(sqlite3_errmsg(fts->db));
		pthread_mutex_lock(&fts->lock);
		if (error == NULL) {
			fts->change = change;
			merges = 1 + (int)(stories / STORE_FTS_MERGE_STORIES);
		}
		/* More to index: a checkpoint asked for meanwhile first. */
		if (error == NULL && stories == STORE_FTS_BATCH)
			continue;
		free(fts->error);
		fts->error = error;
		fts->done = asked;
		pthread_cond_broadcast(&fts->cond);
	}
	pthread_mutex_unlock(&fts->lock);
	return NULL;
}

/*
 * Ask the index to catch up with what the log has committed. Without
 * wait, return at once: the writer never waits for the index, which
 * takes up, in its next batches, whatever was committed meanwhile. With
 * wait, return when it has: 0, or -1 with *cause when it failed.
 */
static int
store_fts_ask(struct store_fts *fts, int wait, char **cause)
{
	uint64_t mine;
	int rc = 0;

	pthread_mutex_lock(&fts->lock);
	mine = ++fts->asked;
	pthread_cond_broadcast(&fts->cond);
	while (wait && fts->done < mine)
		pthread_cond_wait(&fts->cond, &fts->lock);
	if (wait && fts->error != NULL) {
		xasprintf(cause, "full-text index: %s", fts->error);
		rc = -1;
	}
	pthread_mutex_unlock(&fts->lock);
	return rc;
}

/*
 * Drop the changes the index has followed. Outside the transaction:
 * one that rolled back would have them back. A failure leaves them to
 * the next commit.
 */
static void
store_fts_forget(struct store *st)
{
	sqlite3_stmt *s = st->stmt[STMT_FTS_FORGET];
	int64_t change;

	pthread_mutex_lock(&st->fts->lock);
	change = st->fts->change;
	pthread_mutex_unlock(&st->fts->lock);
	if (change <= st->forgotten)
		return;
	sqlite3_bind_int64(s, 1, change);
	if (sqlite3_step(s) == SQLITE_DONE)
		st->forgotten = change;
	store_done(s);
}

/* A file: URI of path, with query (such as "?mode=ro") after it. */
static char *
store_uri(const char *path, const char *query)
{
	static const char hex[] = "0123456789ABCDEF";
	char *uri, *p;

	uri = xmalloc(5 + 3 * strlen(path) + strlen(query) + 1);
	p = uri + strlen(strcpy(uri, "file:"));
	for (const unsigned char *c = (const unsigned char *)path; *c != '\0';
	     c++) {
		if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		    (*c >= '0' && *c <= '9') || strchr("/-._~", *c) != NULL)
			*p++ = (char)*c;
		else {
			*p++ = '%';
			*p++ = hex[*c >> 4];
			*p++ = hex[*c & 0xf];
		}
	}
	strcpy(p, query);
	return uri;
}

/* Open the index's file, attach the log read-only, create the schema. */
static int
store_fts_schema_open(struct store_fts *fts, const char *log_path,
    const char *fts_path, char **cause)
{
	sqlite3_stmt *s;
	char *uri, *log_uri;
	int rc;

	uri = store_uri(fts_path, "");
	rc = sqlite3_open_v2(uri, &fts->db,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI, NULL);
	free(uri);
	if (rc != SQLITE_OK) {
		xasprintf(cause, "%s: %s", fts_path,
		    fts->db == NULL ? "out of memory" :
				      sqlite3_errmsg(fts->db));
		return -1;
	}
	sqlite3_busy_timeout(fts->db, 5000);
	log_uri = store_uri(log_path, "?mode=ro");
	rc = sqlite3_prepare_v2(fts->db, "ATTACH ?1 AS log", -1, &s, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(s, 1, log_uri, -1, SQLITE_STATIC);
		rc = sqlite3_step(s) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
		sqlite3_finalize(s);
	}
	free(log_uri);
	/*
	 * The log's pages are read once, the new stories' in id order, and
	 * any the cache held are stale at the next batch (the log's own
	 * connection wrote since): a small cache loses nothing and saves
	 * the daemon most of SQLite's 2 MB default.
	 */
	if (rc != SQLITE_OK ||
	    sqlite3_exec(fts->db,
		"PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
		"PRAGMA log.cache_size = " STORE_FTS_LOG_CACHE_KIB ";",
		NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(fts->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
		SQLITE_OK)
		goto fail;
	if (sqlite3_exec(fts->db, store_fts_schema, NULL, NULL, NULL) !=
		SQLITE_OK ||
	    sqlite3_exec(fts->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		sqlite3_exec(fts->db, "ROLLBACK", NULL, NULL, NULL);
		goto fail;
	}
	for (int i = 0; i < FTS_COUNT; i++) {
		if (sqlite3_prepare_v3(fts->db, store_fts_sql[i], -1,
			SQLITE_PREPARE_PERSISTENT, &fts->stmt[i],
			NULL) != SQLITE_OK)
			goto fail;
	}
	/* Reading the log once opens its WAL, which a checkpoint needs. */
	if (sqlite3_open_v2(log_path, &fts->checkpoint_db,
		SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
	    sqlite3_exec(fts->checkpoint_db, "PRAGMA journal_mode = WAL", NULL,
		NULL, NULL) != SQLITE_OK) {
		xasprintf(cause, "%s: %s", log_path,
		    fts->checkpoint_db == NULL ?
			"out of memory" :
			sqlite3_errmsg(fts->checkpoint_db));
		return -1;
	}
	return 0;

fail:
	xasprintf(cause, "%s: %s", fts_path, sqlite3_errmsg(fts->db));
	return -1;
}

static struct store_fts *
store_fts_new(void)
{
	struct store_fts *fts = xcalloc(1, sizeof *fts);
	pthread_condattr_t attr;

	pthread_mutex_init(&fts->lock, NULL);
	/* Its timed waits do not move with the wall clock. */
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&fts->cond, &attr);
	pthread_condattr_destroy(&attr);
	return fts;
}

/* Remove the index's file and its WAL's. Return 0 or -1 with *cause. */
static int
store_fts_remove(const char *fts_path, char **cause)
{
	static const char *const suffixes[] = { "", "-wal", "-shm" };
	char *path;

	for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
		xasprintf(&path, "%s%s", fts_path, suffixes[i]);
		if (unlink(path) == -1 && errno != ENOENT) {
			xasprintf(cause, "%s: %s", path, strerror(errno));
			free(path);
			return -1;
		}
		free(path);
	}
	return 0;
}

/*
 * Open the full-text index of the log at log_path, in fts_path, and
 * start its thread, which catches up with the log at once. An index
 * that is not a database, or is corrupt, is removed and made again
 * from the log. Return it, or NULL with *cause.
 */
static struct store_fts *
store_fts_open(const char *log_path, const char *fts_path, char **cause)
{
	struct store_fts *fts;
	sigset_t all, old;
	int error;

	fts = store_fts_new();
	if (store_fts_schema_open(fts, log_path, fts_path, cause) == -1) {
		error = fts->db != NULL ? sqlite3_errcode(fts->db) : SQLITE_OK;
		store_fts_close(fts);
		if (error != SQLITE_NOTADB && error != SQLITE_CORRUPT)
			return NULL;
		/* Made from the log alone: it is made again. */
		log_warnx(
		    "%s; the full-text index is rebuilt from the log", *cause);
		free(*cause);
		*cause = NULL;
		if (store_fts_remove(fts_path, cause) == -1)
			return NULL;
		fts = store_fts_new();
		if (store_fts_schema_open(fts, log_path, fts_path, cause) ==
		    -1) {
			store_fts_close(fts);
			return NULL;
		}
	}
	/* The thread takes no signal: the daemon's loop handles them. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	error = pthread_create(&fts->thread, NULL, store_fts_main, fts);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (error != 0) {
		xasprintf(
		    cause, "%s: pthread_create: %s", fts_path, strerror(error));
		store_fts_close(fts);
		return NULL;
	}
	fts->has_thread = 1;
	store_fts_ask(fts, 0, NULL);
	return fts;
}

/* Catch up with the log, end the thread and close; accepts NULL. */
static void
store_fts_close(struct store_fts *fts)
{
	char *cause = NULL;

	if (fts == NULL)
		return;
	if (fts->has_thread) {
		store_fts_ask(fts, 1, &cause);
		free(cause);
		pthread_mutex_lock(&fts->lock);
		fts->is_stopping = 1;
		pthread_cond_broadcast(&fts->cond);
		pthread_mutex_unlock(&fts->lock);
		pthread_join(fts->thread, NULL);
	}
	for (int i = 0; i < FTS_COUNT; i++)
		sqlite3_finalize(fts->stmt[i]);
	sqlite3_close(fts->db);
	sqlite3_close(fts->checkpoint_db);
	pthread_cond_destroy(&fts->cond);
	pthread_mutex_destroy(&fts->lock);
	free(fts->error);
	free(fts);
}
