#!/usr/bin/env python3
"""Integration test of `feedwatch parse`'s output: valid JSON, every value.

Each entry is written straight to stdout, not through jansson, so this
test feeds it the characters JSON must escape (quotes, backslashes, and
the controls XML 1.0 lets through: tab, newline, carriage return),
non-ASCII text (Cyrillic, an emoji, U+2028), enclosures with and
without a length, categories, dates and missing fields, and checks what
Python's json module reads back, value by value.

usage: test_parse_json.py FEEDWATCH
"""

import json
import os
import subprocess
import sys
import tempfile

FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>T "q" \\ chan</title>
<link>https://example.com/</link><description>d</description>
<item><title>Say "hi" \\ back&#9;tab&#13;end</title>
<link>https://example.com/a?x="1"</link>
<guid isPermaLink="false">id\\1</guid>
<description>line one
line two &#x2028; канал 🚀</description>
<category>a"b</category><category>c\\d</category>
<enclosure url="https://example.com/e.mp3" type="audio/mpeg" length="1234"/>
<enclosure url="https://example.com/f.mp3"/>
<pubDate>Sun, 09 Jul 2023 14:02:00 +0000</pubDate>
</item>
<item><title>second</title></item>
</channel></rss>
"""


# Not well-formed (an unclosed <br> in the channel's description): what
# follows still keeps its "&", "<" and ">", which libxml2's recovery
# dropped when they were written as named references.
BROKEN = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>t</title>
<description>News<br></description>
<item><title>Tom &amp; Jerry &quot;live&quot;</title>
<link>http://ex.com/a?x=1&amp;y=2</link>
<description>&lt;p&gt;Hi &amp; bye&lt;/p&gt; Two & three</description>
</item></channel></rss>
"""


def parse(fw, name, data):
    """`feedwatch parse` of data (bytes) written to a file name: its JSON."""
    with tempfile.TemporaryDirectory(prefix="feedwatch-parse.") as tmp:
        path = os.path.join(tmp, name)
        with open(path, "wb") as f:
            f.write(data)
        out = subprocess.run([fw, "parse", path], capture_output=True,
                             check=True).stdout
    return json.loads(out.decode("utf-8"))


def check(what, got, want):
    if got != want:
        print("test_parse_json: %s: got %r, want %r" % (what, got, want))
        return 1
    return 0


def main():
    fw = sys.argv[1]
    doc = parse(fw, "feed.xml", FEED.encode("utf-8"))
    e = doc["entries"]
    bad = check("entries", len(e), 2)
    bad += check("channel title", doc["title"], 'T "q" \\ chan')
    bad += check("title", e[0]["title"], 'Say "hi" \\ back\ttab\rend')
    bad += check("link", e[0]["link"], 'https://example.com/a?x="1"')
    bad += check("id", e[0]["id"], "id\\1")
    bad += check("summary", e[0]["summary"],
                 "line one\nline two \u2028 канал 🚀")
    bad += check("categories", e[0]["categories"], ['a"b', "c\\d"])
    bad += check("enclosures", e[0]["enclosures"], [
        {"url": "https://example.com/e.mp3", "type": "audio/mpeg",
         "length": 1234},
        {"url": "https://example.com/f.mp3", "type": None, "length": None}])
    bad += check("published", e[0]["published"], "2023-07-09T14:02:00Z")
    bad += check("updated", e[0]["updated"], None)
    bad += check("second entry", {k: e[1][k] for k in
                                  ("title", "link", "summary", "author",
                                   "published", "categories")},
                 {"title": "second", "link": None, "summary": None,
                  "author": None, "published": None, "categories": []})
    broken = parse(fw, "broken.xml", BROKEN.encode("utf-8"))
    bad += check("broken: bozo", broken["bozo"], True)
    b = broken["entries"][0] if broken["entries"] else {}
    bad += check("broken: title", b.get("title"), 'Tom & Jerry "live"')
    bad += check("broken: link", b.get("link"), "http://ex.com/a?x=1&y=2")
    bad += check("broken: summary", b.get("summary"),
                 "<p>Hi &amp; bye</p> Two &amp; three")
    # A JSON Feed with a UTF-8 BOM and a key given twice is still one:
    # the last value counts.
    jf = parse(fw, "feed.json",
               b'\xef\xbb\xbf{"version": "https://jsonfeed.org/'
               b'version/1.1", "title": "old", "title": "new",'
               b' "items": [{"id": "1", "content_text": "x"}]}')
    bad += check("json feed with a BOM", (jf["format"], jf["title"],
                                          len(jf["entries"])),
                 ("jsonfeed", "new", 1))
    # Raw HTML in 100 descriptions, its <br> and <img> never closed:
    # each held what followed, 60 items nested past max_depth, and the
    # parse stopped with no entry. XHTML that closes them stays right.
    items = "".join(
        '<item><title>T%d</title><link>http://ex.com/%d</link><description>'
        'Line<br>next <img src="x.png"> and <BR/> <hr > end</description>'
        '</item>' % (i, i) for i in range(100))
    voids = parse(fw, "voids.xml", (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t'
        '</title>%s</channel></rss>' % items).encode("utf-8"))
    bad += check("unclosed <br>: entries in order",
                 [x["title"] for x in voids["entries"]],
                 ["T%d" % i for i in range(100)])
    xhtml = parse(fw, "xhtml.atom", (
        '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom">'
        '<title>t</title><entry><id>1</id><title>a</title>'
        '<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">'
        'x<br></br>y<img src="a.png"></img>z</div></content></entry>'
        '</feed>').encode("utf-8"))
    bad += check("xhtml <br></br>", (xhtml["bozo"],
                                     xhtml["entries"][0]["content"]),
                 (False, 'x<br />y<img src="a.png" />z'))
    # A NUL (and a vertical tab) in a title ended the parse, and every
    # entry after it was lost: now removed, and said so.
    nul = parse(fw, "nul.xml",
                b'<?xml version="1.0"?><rss version="2.0"><channel>'
                b'<title>t</title><item><title>Two \x00 nul \x0b vt</title>'
                b'</item><item><title>Four</title></item></channel></rss>')
    bad += check("control characters", (
        [x["title"] for x in nul["entries"]], nul["bozo"], nul["errors"]),
        (["Two  nul  vt", "Four"], True, ["2 control characters removed"]))
    bad += check("keys", list(e[0].keys()),
                 ["id", "title", "link", "summary", "content", "author",
                  "published", "updated", "categories", "enclosures"])
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
