#!/usr/bin/env python3
"""Integration test of the `feedwatch` tool's arguments and exit codes.

A story log is filled by a real `feedwatchd --once` from the demo's
forumdaily feed (a local file), and a loopback HTTP server (Python's
http.server, started here) serves the same feed behind a 301. Tried, as
a user would get them wrong:

- `check-config FILE` without -c: a usage error (exit 2), not a check
  of the default file;
- `match --feed NAME` with a name the configuration does not have: exit
  2, where it matched as no feed; `match --query` with --watchlist or
  --feed: a usage error;
- `match URL`, URL being a configured feed's that redirects: taken as
  that feed (a watchlist of another feed is not tried), as the manual
  says;
- `stories --limit` with garbage, a negative or too large number, and
  `--since` with garbage: exit 2 naming the option;
- a pruned story: listed as "(pruned)", and still found by
  `--watchlist`, as the plain listing shows its watchlists;
- `stories show` without an id: a usage error that creates no story log;
- `match` of an RSS title "Why a&lt;b means ceasefire": the title is
  plain text, so "ceasefire" matches (read as HTML, it was lost);
- `parse` of a directory: exit 1 with the reason (and, under ASan, no
  leak);
- a feed `url` that is a path with a space, '#', '?' and non-ASCII in
  it: read whole (it was cut into a URL libcurl refused).

usage: test_cli.py FEEDWATCH FEEDWATCHD SOURCE_DIR
"""

import http.server
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading

FAILED = []


def check(what, ok, detail=""):
    if not ok:
        FAILED.append(what)
        print("test_cli: FAIL: %s %s" % (what, detail))


def run(argv, cwd):
    p = subprocess.run(argv, cwd=cwd, capture_output=True, text=True,
                       timeout=60)
    return p.returncode, p.stdout + p.stderr


class Handler(http.server.BaseHTTPRequestHandler):
    feed = b""

    def do_GET(self):
        if self.path == "/sub":
            self.send_response(301)
            self.send_header("Location", "/sub/")
            self.end_headers()
        elif self.path == "/sub/":
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(self.feed)))
            self.end_headers()
            self.wfile.write(self.feed)
        else:
            self.send_error(404)

    def log_message(self, *args):
        pass


def main():
    fw, fwd, src = sys.argv[1:4]
    feed = os.path.join(src, "conf", "demo", "feeds", "forumdaily.xml")
    with open(feed, "rb") as f:
        Handler.feed = f.read()
    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    tmp = tempfile.mkdtemp(prefix="feedwatch-cli.")
    try:
        conf = os.path.join(tmp, "feedwatch.conf")
        with open(conf, "w", encoding="utf-8") as f:
            f.write('[daemon]\ndatabase = fw.db\n'
                    '[feed "forumdaily"]\nurl = %s\n'
                    '[feed "redir"]\nurl = http://127.0.0.1:%d/sub\n'
                    '[watchlist "track-two"]\n'
                    'query = "track two diplomacy"\nfeeds = forumdaily\n'
                    'hooks = ok\n'
                    '[watchlist "only-redir"]\n'
                    'query = "track two diplomacy"\nfeeds = redir\n'
                    'hooks = ok\n'
                    '[hook "ok"]\ncommand = /bin/true\n' % (feed, port))
        rc, out = run([fwd, "--once", "-c", conf], tmp)
        check("feedwatchd --once", rc == 0, out)

        # A local feed in a directory whose name a URL cannot hold as
        # it is: read whole through file://.
        odd = os.path.join(tmp, "sub dir #1", "\u00fc")
        os.makedirs(odd)
        shutil.copy(feed, os.path.join(odd, "w ?.xml"))
        local = os.path.join(tmp, "local.conf")
        with open(local, "w", encoding="utf-8") as f:
            f.write('[daemon]\ndatabase = local.db\n'
                    '[feed "odd"]\nurl = sub dir #1/\u00fc/w ?.xml\n')
        rc, out = run([fwd, "--once", "-c", local], tmp)
        check("a local feed with a space, '#', '?' and non-ASCII",
              rc == 0 and "feed odd: 3 entries, 3 new" in out, out)

        rc, out = run([fw, "check-config", "-c", conf], tmp)
        check("check-config -c", rc == 0, out)
        rc, out = run([fw, "check-config", conf], tmp)
        check("check-config FILE is a usage error", rc == 2, out)

        rc, out = run([fw, "match", "-c", conf, "--feed", "forumdayly",
                       feed], tmp)
        check("match --feed unknown", rc == 2 and "no feed" in out, out)
        rc, out = run([fw, "match", "-c", conf, "--feed", "forumdaily",
                       feed], tmp)
        check("match --feed known", rc == 0 and "track-two" in out, out)
        rc, out = run([fw, "match", "--query", "diplomacy", "--watchlist",
                       "track-two", feed], tmp)
        check("match --query --watchlist", rc == 2, out)
        # A plain-text title with "<" in it: the words after it are
        # matched and shown (read as HTML, "<b means" was a tag).
        lt = os.path.join(tmp, "lt.xml")
        with open(lt, "w", encoding="utf-8") as f:
            f.write('<rss version="2.0"><channel><title>t</title><item>'
                    '<title>Why a&lt;b means ceasefire</title>'
                    '<link>http://x.test/1</link></item></channel></rss>')
        rc, out = run([fw, "match", "--json", "--query", "ceasefire", lt],
                      tmp)
        check("match a plain-text title holding '<'",
              rc == 0 and '"title":"Why a<b means ceasefire"' in out, out)
        url = "http://127.0.0.1:%d/sub" % port
        rc, out = run([fw, "match", "-c", conf, url], tmp)
        # As feed redir, not as no feed: track-two (feeds = forumdaily)
        # is not tried.
        check("match URL of a feed that redirects",
              rc == 0 and "only-redir" in out and "track-two" not in out,
              out)

        for bad in ("abc", "-5", "4294967297", "1x", ""):
            rc, out = run([fw, "stories", "-c", conf, "--limit", bad], tmp)
            check("stories --limit %r" % bad,
                  rc == 2 and "bad --limit" in out, out)
        rc, out = run([fw, "stories", "-c", conf, "--since", "garbage"],
                      tmp)
        check("stories --since garbage", rc == 2 and "bad --since" in out,
              out)
        rc, out = run([fw, "stories", "-c", conf, "--limit", "0",
                       "--json"], tmp)
        stories = [json.loads(line) for line in out.splitlines()]
        check("stories --json", rc == 0 and len(stories) >= 1, out)

        # Pruned as store_prune does it: identity kept, text gone.
        db = sqlite3.connect(os.path.join(tmp, "fw.db"))
        db.execute("UPDATE stories SET title = NULL, summary = NULL,"
                   " url = NULL, guid = NULL, pruned = 1")
        db.execute("DELETE FROM matches")
        db.commit()
        db.close()
        rc, out = run([fw, "stories", "-c", conf], tmp)
        check("pruned story listed", rc == 0 and "(pruned)" in out and
              "(null)" not in out, out)
        rc, out = run([fw, "stories", "-c", conf, "--watchlist",
                       "track-two"], tmp)
        check("pruned story by --watchlist",
              rc == 0 and "(pruned)" in out, out)

        other = os.path.join(tmp, "other.conf")
        with open(other, "w", encoding="utf-8") as f:
            f.write("[daemon]\ndatabase = other.db\n")
        rc, out = run([fw, "stories", "-c", other, "show"], tmp)
        check("stories show without id", rc == 2 and
              not os.path.exists(os.path.join(tmp, "other.db")), out)

        rc, out = run([fw, "parse", tmp], tmp)
        check("parse a directory", rc == 1 and "cannot read" in out and
              "LeakSanitizer" not in out, out)
    finally:
        server.shutdown()
        shutil.rmtree(tmp)
    if FAILED:
        print("test_cli: %d failed" % len(FAILED))
        return 1
    print("test_cli: all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
