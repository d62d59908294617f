-- A feedwatch story log at schema version 10, as feedwatch wrote it before
-- the near-duplicate index was made covering and full-text search moved
-- to its own file: two feeds, and a story with a copy in its cluster
-- (fingerprints 1 bit apart). The migration tests open it with the
-- current store and check that nothing is lost.
CREATE TABLE feeds (  id INTEGER PRIMARY KEY,  name TEXT NOT NULL UNIQUE,  url TEXT NOT NULL,  etag TEXT,  last_modified TEXT,  last_attempt INTEGER,  last_success INTEGER,  http_status INTEGER,  failures INTEGER NOT NULL DEFAULT 0,  last_error TEXT,  next_poll INTEGER NOT NULL DEFAULT 0,  items_seen INTEGER NOT NULL DEFAULT 0, moved_url TEXT, moved_from TEXT, gone_at INTEGER, failing_since INTEGER, poll_interval INTEGER, health TEXT);
CREATE TABLE stories (  id INTEGER PRIMARY KEY,  feed_id INTEGER NOT NULL REFERENCES feeds(id),  key TEXT NOT NULL,  guid TEXT,  title TEXT,  url TEXT,  summary TEXT,  published INTEGER,  first_seen INTEGER NOT NULL, cluster INTEGER, joined TEXT, canonical_url TEXT, simhash INTEGER, fp0 INTEGER, fp1 INTEGER, fp2 INTEGER, fp3 INTEGER, content_hash INTEGER, pruned INTEGER NOT NULL DEFAULT 0,  UNIQUE (feed_id, key));
CREATE TABLE matches (  story_id INTEGER NOT NULL REFERENCES stories(id),  watchlist TEXT NOT NULL,  matched TEXT NOT NULL,  snippet TEXT,  PRIMARY KEY (story_id, watchlist));
CREATE TABLE alerts (  id INTEGER PRIMARY KEY,  alert_id TEXT NOT NULL UNIQUE,  story_id INTEGER REFERENCES stories(id),  watchlist TEXT NOT NULL,  hook TEXT NOT NULL,  state TEXT NOT NULL DEFAULT 'pending'    CHECK (state IN ('pending', 'delivered', 'failed')),  attempts INTEGER NOT NULL DEFAULT 0,  next_attempt INTEGER NOT NULL DEFAULT 0,  last_error TEXT,  created INTEGER NOT NULL,  delivered INTEGER,  counted_at INTEGER NOT NULL DEFAULT 0,  digest INTEGER,  payload TEXT,  UNIQUE (story_id, watchlist, hook));
CREATE INDEX alerts_due ON alerts (state, next_attempt);
CREATE INDEX alerts_hook ON alerts (hook, state, next_attempt);
CREATE TABLE digests (  hook TEXT PRIMARY KEY,  period_start INTEGER NOT NULL,  period_end INTEGER NOT NULL DEFAULT 0);
CREATE TABLE hook_runs (  pid INTEGER PRIMARY KEY,  started INTEGER NOT NULL,  daemon INTEGER NOT NULL,  daemon_started INTEGER NOT NULL);
CREATE VIRTUAL TABLE stories_fts USING fts5(  title, summary, content='stories', content_rowid='id');
CREATE TRIGGER stories_fts_ai AFTER INSERT ON stories BEGIN  INSERT INTO stories_fts (rowid, title, summary)  VALUES (new.id, new.title, new.summary); END;
CREATE TRIGGER stories_fts_ad AFTER DELETE ON stories BEGIN  INSERT INTO stories_fts (stories_fts, rowid, title, summary)  VALUES ('delete', old.id, old.title, old.summary); END;
CREATE TRIGGER stories_fts_au AFTER UPDATE ON stories BEGIN  INSERT INTO stories_fts (stories_fts, rowid, title, summary)  VALUES ('delete', old.id, old.title, old.summary);  INSERT INTO stories_fts (rowid, title, summary)  VALUES (new.id, new.title, new.summary); END;
CREATE INDEX stories_cluster ON stories (cluster);
CREATE INDEX stories_canonical ON stories (canonical_url);
CREATE INDEX stories_fp0 ON stories (fp0);
CREATE INDEX stories_fp1 ON stories (fp1);
CREATE INDEX stories_fp2 ON stories (fp2);
CREATE INDEX stories_fp3 ON stories (fp3);
CREATE INDEX stories_first_seen ON stories (first_seen);
CREATE TABLE cluster_watchlists (  cluster INTEGER NOT NULL,  watchlist TEXT NOT NULL,  PRIMARY KEY (cluster, watchlist));
CREATE INDEX stories_prune ON stories (pruned, first_seen);

INSERT INTO feeds VALUES(1,'wire','https://wire.example/feed',NULL,NULL,NULL,NULL,NULL,0,NULL,0,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO feeds VALUES(2,'daily','https://daily.example/feed',NULL,NULL,NULL,NULL,NULL,0,NULL,0,0,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO stories VALUES(1,1,'id:wire-1','wire-1','Talks on the river dam resume','https://wire.example/dam-talks','Negotiators from both countries met again on Tuesday to discuss the river dam.',1735689600,1735690101,NULL,NULL,'https://wire.example/dam-talks',81985529216486895,52719,35243,17767,291,42,0);
INSERT INTO stories VALUES(2,2,'id:daily-7','daily-7','Exclusive: Talks on the river dam resume','https://daily.example/7','Negotiators from both countries met again on Tuesday to discuss the river dam. Read more.',1735690000,1735690102,1,'distance 1','https://daily.example/7',81985529216486894,52718,35243,17767,291,43,0);
PRAGMA user_version = 10;
