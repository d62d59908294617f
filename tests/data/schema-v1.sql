-- A feedwatch story log at schema version 1, as the first release wrote
-- it, with one story, one match and one delivered alert. The migration
-- test opens it with the current store and checks nothing is lost.
CREATE TABLE feeds (  id INTEGER PRIMARY KEY,  name TEXT NOT NULL UNIQUE,  url TEXT NOT NULL,  etag TEXT,  last_modified TEXT,  last_attempt INTEGER,  last_success INTEGER,  http_status INTEGER,  failures INTEGER NOT NULL DEFAULT 0,  last_error TEXT,  next_poll INTEGER NOT NULL DEFAULT 0,  items_seen INTEGER NOT NULL DEFAULT 0);
CREATE TABLE stories (  id INTEGER PRIMARY KEY,  feed_id INTEGER NOT NULL REFERENCES feeds(id),  key TEXT NOT NULL,  guid TEXT,  title TEXT,  url TEXT,  summary TEXT,  published INTEGER,  first_seen INTEGER NOT NULL,  UNIQUE (feed_id, key));
CREATE TABLE matches (  story_id INTEGER NOT NULL REFERENCES stories(id),  watchlist TEXT NOT NULL,  matched TEXT NOT NULL,  snippet TEXT,  PRIMARY KEY (story_id, watchlist));
CREATE TABLE alerts (  id INTEGER PRIMARY KEY,  alert_id TEXT NOT NULL UNIQUE,  story_id INTEGER NOT NULL REFERENCES stories(id),  watchlist TEXT NOT NULL,  hook TEXT NOT NULL,  state TEXT NOT NULL DEFAULT 'pending'    CHECK (state IN ('pending', 'delivered', 'failed')),  attempts INTEGER NOT NULL DEFAULT 0,  next_attempt INTEGER NOT NULL DEFAULT 0,  last_error TEXT,  created INTEGER NOT NULL,  delivered INTEGER,  UNIQUE (story_id, watchlist, hook));
CREATE INDEX alerts_due ON alerts (state, next_attempt);

INSERT INTO feeds (id, name, url) VALUES (1, 'forumdaily', 'https://www.forumdaily.com/feed/');
INSERT INTO stories (id, feed_id, key, guid, title, url, summary, published, first_seen)
VALUES (7, 1, 'id:https://www.forumdaily.com/?p=1183421', 'https://www.forumdaily.com/?p=1183421',
 'The Americans are in secret negotiations with the Russians',
 'https://www.forumdaily.com/en/amerikancy/',
 'The discussions are known in diplomatic jargon as “track two diplomacy”.',
 1688911320, 1688911400);
INSERT INTO matches (story_id, watchlist, matched, snippet)
VALUES (7, 'track-two', '["\"track two diplomacy\""]', 'as “«track two diplomacy»”.');
INSERT INTO alerts (alert_id, story_id, watchlist, hook, state, attempts, created, delivered)
VALUES ('0123456789abcdef0123456789abcdef', 7, 'track-two', 'print', 'delivered', 1, 1688911400, 1688911401);
PRAGMA user_version = 1;
