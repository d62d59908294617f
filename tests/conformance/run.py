#!/usr/bin/env python3
"""Conformance test: run `feedwatch parse` over feedparser's test corpus.

Usage: run.py FEEDWATCH_BINARY DATA_DIR [--report FILE] [--min-rate PCT]
              [-j N] [--verbose]

Every file under DATA_DIR/tests/ carries a header comment with a
`Description:` and an `Expect:` line (a Python expression over feedparser's
result), and optional `Header:` lines (the HTTP response headers the suite
served it with). For each file we run the binary, turn its JSON into objects
that behave like feedparser's result for the fields our schema covers, and
eval() the expectation. Anything the schema does not cover raises
NotApplicable and makes the file "n/a". See README.md next to this file for
the rules. Standard library only.
"""

import argparse
import ast
import builtins
import calendar
import concurrent.futures
import email.utils
import json
import os
import posixpath
import re
import subprocess
import sys
import tempfile
import time
import urllib.parse

TIMEOUT = 10  # seconds per file
DOC_URL = "http://127.0.0.1:8097/"  # the suite's HTTP server
SANITIZER_MARKERS = ("AddressSanitizer", "runtime error:", "LeakSanitizer",
                     "ThreadSanitizer", "MemorySanitizer")
# Schemes feedparser accepts for a Content-Location base; others fall back
# to the document URL (feedparser's make_safe_absolute_uri does the same).
SAFE_SCHEMES = {"http", "https", "ftp", "ftps", "file"}
# HTTP headers `feedwatch parse` has no option for: an expectation that
# depends on them cannot be checked, so files that send them are n/a.
UNCONVEYABLE_HEADERS = {"content-language"}

# The suite's own regular expressions (tests/helpers.py).
DESC_RE = re.compile(r"Description:\s*(.*?)\s*Expect:\s*(.*)\s*-->")
HEADER_RE = re.compile(r"^Header:\s+([^:]+):(.*)$", re.MULTILINE)


class NotApplicable(Exception):
    """The expectation reads something outside the parse schema."""


MISSING = object()  # a field the feed does not have: feedparser's KeyError


# ---------------------------------------------------------------- test files

def decode_test_file(data):
    """Text of a test file, decoded the way the suite does (BOM sniffing)."""
    for prefix, codec, skip in (
            (b"\x00\x00\xfe\xff", "utf-32be", 0),
            (b"\xff\xfe\x00\x00", "utf-32le", 0),
            (b"\x00\x00\x00\x3c", "utf-32be", 0),
            (b"\x3c\x00\x00\x00", "utf-32le", 0),
            (b"\x00\x3c\x00\x3f", "utf-16be", 0),
            (b"\x3c\x00\x3f\x00", "utf-16le", 0),
            (b"\xfe\xff", "utf-16be", 2),
            (b"\xff\xfe", "utf-16le", 2),
            (b"\xef\xbb\xbf", "utf-8", 3)):
        if data.startswith(prefix):
            return data[skip:].decode(codec, errors="ignore")
    return data.decode("utf-8", errors="ignore")


def read_test(path):
    """(description, expect, headers) from a test file's header comment."""
    with open(path, "rb") as f:
        text = decode_test_file(f.read())
    if path.endswith(".json"):
        try:
            text = json.loads(text).get("__TEST__", text)
        except (ValueError, AttributeError):
            pass  # malformed JSON on purpose: use the raw text
    m = DESC_RE.search(text)
    if m is None:
        return None
    headers = {k.strip().lower(): v.strip() for k, v in HEADER_RE.findall(text)}
    return m.group(1).strip(), m.group(2).strip(), headers


def invocation(rel, headers):
    """(--base URL or None, --content-type VALUE or None) for a file.

    Like the suite: files whose path contains "http" are fetched from its
    server (document URL, Content-Location, text/xml by default); the others
    are parsed from their text, with no base URL and no content type."""
    if "http" not in rel:
        return None, None
    url = DOC_URL + posixpath.normpath("tests/" + rel)
    base = url
    if "content-location" in headers:
        loc = urllib.parse.urljoin(url, headers["content-location"])
        if urllib.parse.urlsplit(loc).scheme.lower() in SAFE_SCHEMES:
            base = loc
    return base, headers.get("content-type", "text/xml")


# ------------------------------------------- feedparser-like result objects

class DateStr(str):
    """Our RFC 3339 UTC date; equal to any date string of the same instant
    (feedparser keeps the feed's raw text, we keep the normalised form)."""

    def __eq__(self, other):
        if str.__eq__(self, other):
            return True
        if not isinstance(other, str):
            return False
        mine = parse_date(self)
        return mine is not None and mine == parse_date(other)

    def __ne__(self, other):
        return not self.__eq__(other)

    __hash__ = str.__hash__


class VersionStr(str):
    """Our `format` seen as feedparser's `version` string."""
    ALIASES = {"rss091": {"rss091", "rss091n", "rss091u"},
               "jsonfeed": {"jsonfeed", "json", "json1", "json10", "json11"}}

    def __eq__(self, other):
        return isinstance(other, str) and \
            other in self.ALIASES.get(str(self), {str(self)})

    def __ne__(self, other):
        return not self.__eq__(other)

    __hash__ = str.__hash__


ISO_RE = re.compile(r"^(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d)(?:\.\d+)?)?)?"
                    r"\s*(Z|[+-]\d\d:?\d\d)?$", re.IGNORECASE)


def parse_date(s):
    """Epoch seconds of an RFC 3339 / RFC 822 date string, or None."""
    m = ISO_RE.match(s.strip())
    if m:
        y, mo, d, h, mi, sec, tz = m.groups()
        t = calendar.timegm((int(y), int(mo), int(d), int(h or 0), int(mi or 0),
                             int(sec or 0), 0, 0, 0))
        if tz and tz.upper() != "Z":
            off = int(tz[1:3]) * 3600 + int(tz[-2:]) * 60
            t -= off if tz[0] == "+" else -off
        return t
    tup = email.utils.parsedate_tz(s)
    return email.utils.mktime_tz(tup) if tup else None


def date_fields(value, *names):
    """name, and name_parsed (a UTC struct_time, equal to the 9-tuples the
    suite writes; None if our string is not RFC 3339), for each alias."""
    if value is None:
        return dict.fromkeys(names + tuple(n + "_parsed" for n in names), MISSING)
    t = parse_date(value) if ISO_RE.match(value) else None
    parsed = None if t is None else time.gmtime(t)
    out = {n: DateStr(value) for n in names}
    out.update({n + "_parsed": parsed for n in names})
    return out


def short(v, n=100):
    """repr() of a value, truncated for one-line messages."""
    if isinstance(v, time.struct_time):
        v = tuple(v)
    r = "<missing>" if v is MISSING else repr(v)
    return r if len(r) <= n else r[:n - 3] + "..."


class FPDict:
    """A read-only FeedParserDict look-alike over a fixed set of keys.

    Known keys with value MISSING raise KeyError like feedparser does for a
    field the feed lacks; unknown keys raise NotApplicable. Every lookup is
    logged so a failure can show what we produced."""

    def __init__(self, where, fields, log):
        self._where, self._fields, self._log = where, fields, log

    def _lookup(self, key):
        if key not in self._fields:
            raise NotApplicable("%s[%r]" % (self._where, key))
        value = self._fields[key]
        if isinstance(value, list):
            self._log.append("len(%s[%r])=%d" % (self._where, key, len(value)))
        elif not isinstance(value, FPDict):
            self._log.append("%s[%r]=%s" % (self._where, key, short(value)))
        return value

    def __getitem__(self, key):
        value = self._lookup(key)
        if value is MISSING:
            raise KeyError(key)
        return value

    def __getattr__(self, key):  # feedparser allows feed.title
        if key.startswith("_"):
            raise AttributeError(key)
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None

    def __contains__(self, key):
        return self._lookup(key) is not MISSING

    has_key = __contains__

    def get(self, key, default=None):
        value = self._lookup(key)
        return default if value is MISSING else value

    def _whole(self, *args):  # comparing/iterating a whole dict: not covered
        raise NotApplicable("whole %s" % self._where)

    __eq__ = __ne__ = __iter__ = __len__ = keys = values = items = _whole
    __hash__ = object.__hash__

    def __repr__(self):
        return "FPDict(%s)" % self._where


def opt(v):
    """JSON null/absent -> MISSING."""
    return MISSING if v is None else v


def detail(where, value, log):
    """A *_detail dict: only 'value' is covered."""
    return MISSING if value is MISSING else FPDict(where, {"value": value}, log)


def split_author(author):
    """'Name (email)' -> (name, email); a bare email -> (MISSING, email)."""
    if author is MISSING:
        return MISSING, MISSING
    m = re.match(r"^(.*?)\s*\(([^()\s]+@[^()\s]+)\)$", author)
    if m:
        return opt(m.group(1) or None), m.group(2)
    if re.match(r"^[^()\s]+@[^()\s]+$", author):
        return MISSING, author
    return author, MISSING


def build_entry(i, e, log):
    w = "entries[%d]" % i
    summary = opt(e.get("summary"))
    content = opt(e.get("content"))
    if summary is MISSING:
        summary = content  # feedparser falls back to the content
    name, mail = split_author(opt(e.get("author")))
    cats = [c for c in (e.get("categories") or []) if c is not None]
    encs = e.get("enclosures") or []
    f = {
        "id": opt(e.get("id")), "guid": opt(e.get("id")),
        "title": opt(e.get("title")),
        "title_detail": detail(w + "['title_detail']", opt(e.get("title")), log),
        "link": opt(e.get("link")),
        "summary": summary, "description": summary,
        "summary_detail": detail(w + "['summary_detail']", summary, log),
        "description_detail": detail(w + "['summary_detail']", summary, log),
        "content": MISSING if content is MISSING else
        [FPDict(w + "['content'][0]", {"value": content}, log)],
        "author": opt(e.get("author")),
        "author_detail": MISSING if name is MISSING and mail is MISSING else
        FPDict(w + "['author_detail']", {"name": name, "email": mail}, log),
        **date_fields(e.get("published"), "published", "issued"),
        **date_fields(e.get("updated"), "updated", "modified", "date"),
        "tags": [FPDict("%s['tags'][%d]" % (w, j), {"term": c}, log)
                 for j, c in enumerate(cats)],
        "category": cats[0] if cats else MISSING,
        "enclosures": [],
    }
    for j, enc in enumerate(encs):
        url = opt(enc.get("url"))
        length = enc.get("length")
        f["enclosures"].append(FPDict("%s['enclosures'][%d]" % (w, j), {
            "href": url, "url": url, "type": opt(enc.get("type")),
            "length": MISSING if length is None else str(length)}, log))
    return FPDict(w, f, log)


def build_feed(doc, log):
    desc = opt(doc.get("description"))
    f = {"title": opt(doc.get("title")),
         "title_detail": detail("feed['title_detail']", opt(doc.get("title")), log),
         "link": opt(doc.get("link")),
         "language": opt(doc.get("language")),
         **date_fields(doc.get("updated"), "updated", "modified", "date")}
    for k in ("description", "subtitle", "tagline"):
        f[k] = desc
        f[k + "_detail"] = detail("feed['%s_detail']" % k, desc, log)
    return FPDict("feed", f, log)


# ------------------------------------------------ static applicability check
#
# Which feedparser keys the parse schema covers, as a tree: a dict maps
# keys to sub-schemas, ListOf(x) is a list of x, LEAF a string/tuple value.
# An expectation that reads any other key is n/a even if evaluation would
# stop earlier (e.g. at a missing field), so a missing `content` does not
# turn `content[0]['type']` into a failure.

LEAF = "leaf"


class ListOf:
    def __init__(self, item):
        self.item = item


DETAIL = {"value": LEAF}
DATES = dict.fromkeys(("updated", "modified", "date", "updated_parsed",
                       "modified_parsed", "date_parsed"), LEAF)
FEED_SCHEMA = dict(DATES, title=LEAF, title_detail=DETAIL, link=LEAF,
                   language=LEAF, description=LEAF, description_detail=DETAIL,
                   subtitle=LEAF, subtitle_detail=DETAIL, tagline=LEAF,
                   tagline_detail=DETAIL)
ENTRY_SCHEMA = dict(
    DATES, id=LEAF, guid=LEAF, title=LEAF, title_detail=DETAIL, link=LEAF,
    summary=LEAF, description=LEAF, summary_detail=DETAIL,
    description_detail=DETAIL, content=ListOf({"value": LEAF}), author=LEAF,
    author_detail={"name": LEAF, "email": LEAF}, published=LEAF, issued=LEAF,
    published_parsed=LEAF, issued_parsed=LEAF, category=LEAF,
    tags=ListOf({"term": LEAF}),
    enclosures=ListOf(dict.fromkeys(("href", "url", "type", "length"), LEAF)))
TOP_SCHEMA = {"bozo": LEAF, "version": LEAF, "feed": FEED_SCHEMA,
              "entries": ListOf(ENTRY_SCHEMA)}
DICT_METHODS = ("get", "has_key")  # take a key as first argument


def static_check(expect):
    """Raise NotApplicable if the expression reads outside the schema."""
    tree = ast.parse(expect, mode="eval")
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    if "encoding" in names and not names & set(TOP_SCHEMA):
        raise NotApplicable("only the encoding name is checked")
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id not in TOP_SCHEMA and \
                node.id not in EVAL_GLOBALS and not hasattr(builtins, node.id) \
                and node.id != "encoding":
            raise NotApplicable("name %r" % node.id)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id == "locals":
            raise NotApplicable("locals() (HTTP-level results)")
        if isinstance(node, (ast.Subscript, ast.Attribute)):
            walk_chain(node)


def walk_chain(node):
    """Follow feed[...]/entries[i][...] chains (innermost first)."""
    steps = []
    while isinstance(node, (ast.Subscript, ast.Attribute, ast.Call)):
        if isinstance(node, ast.Subscript):
            sl = node.slice
            steps.append(sl.value if isinstance(sl, ast.Constant) else 0)
            node = node.value
        elif isinstance(node, ast.Attribute):
            steps.append(("attr", node.attr))
            node = node.value
        else:  # x.get('key') / x.has_key('key')
            f, a = node.func, node.args
            if not (isinstance(f, ast.Attribute) and f.attr in DICT_METHODS
                    and a and isinstance(a[0], ast.Constant)):
                return
            steps.append(a[0].value)
            node = f.value
    if not isinstance(node, ast.Name) or node.id not in ("feed", "entries"):
        return
    schema, where = TOP_SCHEMA[node.id], node.id
    for step in reversed(steps):
        if isinstance(step, tuple):  # attribute: a key on dicts, else a method
            if not isinstance(schema, dict) or step[1] in DICT_METHODS:
                return  # a method; x.get('key') is checked at its Call node
            step = step[1]
        if isinstance(schema, ListOf):
            if not isinstance(step, int):
                raise NotApplicable("%s[%r]" % (where, step))
            schema = schema.item
        elif isinstance(schema, dict):
            if step not in schema:
                raise NotApplicable("%s[%r]" % (where, step))
            schema = schema[step]
        else:
            return  # indexing into a string or a 9-tuple
        where += "[%r]" % (step,)


class AnyEncoding:
    """`encoding`: names are not in the contract, so any comparison holds;
    `not bozo and encoding == 'utf-16be'` still checks `not bozo`."""

    def __eq__(self, other):
        return True

    __ne__ = __eq__
    __hash__ = object.__hash__

    def __repr__(self):
        return "<any encoding>"


class Namespace(dict):
    """eval() locals: our result's top-level names. Other names that are
    not Python builtins (etag, modified, namespaces, ...) are outside the
    schema and raise NotApplicable."""

    def __init__(self, doc, log):
        super().__init__()
        self.log = log
        fmt = doc.get("format") or ""
        self.update(bozo=bool(doc.get("bozo")), version=VersionStr(fmt),
                    feed=build_feed(doc, log),
                    entries=[build_entry(i, e, log)
                             for i, e in enumerate(doc.get("entries") or [])],
                    encoding=AnyEncoding(), locals=self._not_applicable)

    @staticmethod
    def _not_applicable(*args):
        raise NotApplicable("locals() (HTTP-level results)")

    def __getitem__(self, key):
        value = dict.__getitem__(self, key)
        if key in ("bozo", "version"):
            self.log.append("%s=%s" % (key, short(value)))
        elif key == "entries":
            self.log.append("len(entries)=%d" % len(value))
        return value

    def __missing__(self, key):
        if key in EVAL_GLOBALS or hasattr(builtins, key):
            raise KeyError(key)  # let eval() find it in globals/builtins
        raise NotApplicable("name %r" % key)


EVAL_GLOBALS = {"time": time, "__builtins__": builtins}
NOT_A_FEED = {"format": "", "bozo": True, "errors": ["not a feed (exit 1)"],
              "entries": []}


# --------------------------------------------------------------- running

def run_binary(binary, path, base, ctype):
    """(status, doc, detail): status is 'ok', 'notfeed', 'badjson' or 'crash'."""
    cmd = [binary, "parse", path]
    if base is not None:
        cmd += ["--base", base]
    if ctype is not None:
        cmd += ["--content-type", ctype]
    try:
        p = subprocess.run(cmd, capture_output=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return "crash", None, "timeout after %ds" % TIMEOUT
    err = p.stderr.decode("utf-8", errors="replace")
    for marker in SANITIZER_MARKERS:
        if marker in err:
            line = next(l for l in err.splitlines() if marker in l)
            return "crash", None, "sanitizer: " + line.strip()[:200]
    if p.returncode < 0:
        return "crash", None, "killed by signal %d" % -p.returncode
    if p.returncode == 1:  # not a feed: feedparser gives bozo and nothing
        msg = err.strip().replace("feedwatch: %s: " % path, "")
        return "notfeed", dict(NOT_A_FEED, errors=[msg[:200]]), ""
    if p.returncode != 0:
        return "crash", None, "exit status %d: %s" % (p.returncode, err.strip()[:200])
    try:
        doc = json.loads(p.stdout.decode("utf-8", errors="replace"))
        if not isinstance(doc, dict):
            raise ValueError("not a JSON object")
    except ValueError as e:
        return "badjson", None, "invalid JSON on stdout: %s" % e
    return "ok", doc, ""


def check(binary, data_dir, rel, ctype_supported):
    """Run one file; returns a dict with 'result' in pass/fail/na/crash."""
    path = os.path.join(data_dir, "tests", rel)
    r = {"path": "tests/" + rel, "desc": "", "expect": "", "got": ""}
    test = read_test(path)
    if test is None:
        r.update(result="fail", got="no Description/Expect header in file")
        return r
    r["desc"], r["expect"], headers = test
    base, ctype = invocation(rel, headers)
    if not ctype_supported:
        ctype = None
    status, doc, info = run_binary(binary, path, base, ctype)
    if status in ("crash", "badjson"):
        r.update(result="crash" if status == "crash" else "fail", got=info)
        return r
    r["bozo_wellformed"] = rel.startswith("wellformed/") and bool(doc.get("bozo"))
    # Crash-checked only: the sanitizer's exact output is not in the
    # contract, nor are headers we cannot pass on the command line.
    if "wellformed/sanitize/" in rel:
        r.update(result="na", got="HTML sanitizer output is not in the contract")
        return r
    if UNCONVEYABLE_HEADERS & set(headers):
        r.update(result="na", got="needs HTTP header(s) %s"
                 % ", ".join(sorted(UNCONVEYABLE_HEADERS & set(headers))))
        return r
    log = []
    try:
        static_check(r["expect"])
        ok = bool(eval(r["expect"], EVAL_GLOBALS, Namespace(doc, log)))
        why = ""
    except NotApplicable as e:
        r.update(result="na", got="not in schema: %s" % e)
        return r
    except Exception as e:  # KeyError, IndexError, ...: feedparser would fail too
        ok, why = False, "%s: %s" % (type(e).__name__, e)
    if ok and rel.startswith("wellformed/") and doc.get("bozo"):
        ok, why = False, "well-formed file flagged bozo"
    seen = list(dict.fromkeys(log))  # dedupe, keep order
    if doc.get("errors") and not ok:
        seen.append("errors=%s" % short(doc.get("errors") or [], 160))
    r["result"] = "pass" if ok else "fail"
    r["got"] = "; ".join(([why] if why else []) + seen)
    return r


def probe_content_type(binary):
    """Does the binary accept --content-type? (It is being added.) It does
    not if it exits 2 (usage) with the option and not without it."""
    with tempfile.NamedTemporaryFile("w", suffix=".xml", delete=False) as f:
        f.write('<rss version="2.0"><channel><title>t</title></channel></rss>')
    cmd = [binary, "parse", f.name, "--base", DOC_URL]
    try:
        rc = [subprocess.run(c, capture_output=True, timeout=TIMEOUT).returncode
              for c in (cmd + ["--content-type", "text/xml"], cmd)]
        return not (rc[0] == 2 and rc[1] != 2)
    except subprocess.TimeoutExpired:
        return True  # let the real run report it
    finally:
        os.unlink(f.name)


def trunc(s, n):
    s = " ".join(str(s).split())
    return s if len(s) <= n else s[:n - 3] + "..."


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("binary")
    ap.add_argument("data_dir")
    ap.add_argument("--report", metavar="FILE", help="write failures as markdown")
    ap.add_argument("--min-rate", type=float, metavar="PCT",
                    help="exit 1 if the pass rate is below PCT")
    ap.add_argument("-j", type=int, default=os.cpu_count() or 1, metavar="N")
    ap.add_argument("--verbose", action="store_true", help="print every file")
    args = ap.parse_args()

    root = os.path.join(args.data_dir, "tests")
    if not os.path.isdir(root) or not os.access(args.binary, os.X_OK):
        print("run.py: need an executable binary and DATA_DIR/tests/",
              file=sys.stderr)
        sys.exit(2)
    files = sorted(os.path.relpath(os.path.join(d, f), root).replace(os.sep, "/")
                   for d, _, fs in os.walk(root) for f in fs
                   if f.endswith((".xml", ".json")))
    ctype_ok = probe_content_type(args.binary)
    if not ctype_ok:
        print("note: binary rejects --content-type; running without it")

    with concurrent.futures.ThreadPoolExecutor(max(1, args.j)) as pool:
        results = list(pool.map(
            lambda rel: check(args.binary, args.data_dir, rel, ctype_ok), files))

    count = {k: 0 for k in ("pass", "fail", "na", "crash")}
    lines = []
    for r in results:
        count[r["result"]] += 1
        if r["result"] in ("fail", "crash") or args.verbose:
            tag = {"pass": "PASS", "fail": "FAIL", "na": "N/A ", "crash": "CRASH"}
            print("%s %s: %s | expect: %s | got: %s" % (
                tag[r["result"]], r["path"], trunc(r["desc"], 60),
                trunc(r["expect"], 160), trunc(r["got"], 300)))
        if r["result"] in ("fail", "crash"):
            lines.append(r)
    applicable = count["pass"] + count["fail"] + count["crash"]
    rate = 100.0 * count["pass"] / applicable if applicable else 100.0
    summary = ("conformance: %d passed, %d failed, %d n/a, %d crashed of %d "
               "files; pass rate %.1f%% of applicable" % (
                   count["pass"], count["fail"], count["na"], count["crash"],
                   len(results), rate))

    if args.report:
        with open(args.report, "w", encoding="utf-8") as f:
            f.write("# feedparser conformance report\n\n%s\n" % summary)
            for kind, title in (("crash", "Crashes"), ("fail", "Failures")):
                rows = [r for r in lines if r["result"] == kind]
                f.write("\n## %s (%d)\n\n" % (title, len(rows)))
                for r in rows:
                    f.write("- `%s` — %s  \n  expect: `%s`  \n  got: `%s`\n" % (
                        r["path"], r["desc"].replace("`", "'"),
                        trunc(r["expect"], 400).replace("`", "'"),
                        trunc(r["got"], 600).replace("`", "'")))

    print(summary)
    quiet_bozo = sum(1 for r in results if r["result"] == "na"
                     and r.get("bozo_wellformed"))
    if quiet_bozo:
        print("note: %d n/a files under wellformed/ were flagged bozo "
              "(not counted)" % quiet_bozo)
    below = args.min_rate is not None and rate < args.min_rate
    if below:
        print("pass rate %.1f%% is below --min-rate %.1f%%" % (rate, args.min_rate))
    # Plain closing line for CI; a crash counts as a failure here.
    print("%d passed, %d failed" % (count["pass"], count["fail"] + count["crash"]))
    sys.exit(1 if count["crash"] or below else 0)


if __name__ == "__main__":
    main()
