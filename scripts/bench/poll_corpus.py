#!/usr/bin/env python3
"""Write the feeds that scripts/bench/poll serves, from a seed.

    poll_corpus.py generate DIR N SEED   write DIR/fNNNNN.xml, N of them
    poll_corpus.py grow DIR N SEED PCT   prepend new items to PCT% of them

Feeds are RSS 2.0, Atom 1.0 and RSS 1.0 (RDF), mixed; 20-100 items
each, 10-150 KB; HTML with entities in the descriptions, English,
French, German and Russian text; about one item in ten is a wire story
that other feeds carry too (the same title and text, the same link or
one with tracking parameters). The same N and SEED give the same bytes.
`grow` rewrites a fixed PCT% of the feeds with 1-5 new items on top
(some of them wire stories shared by several of those feeds), dropping
as many of the oldest, as a feed keeps a window; the other files are
not touched. Prints one summary line.
"""

import html
import os
import random
import sys
import time

KB = 1000
BASE_TIME = 1714521600      # 2024-05-01T00:00:00Z: the newest item
SENTENCE_POOL = 40000       # sentences items are made of
WIRE_SHARE = 0.10           # items that are wire stories

STOPWORDS = ("the of and to in a is that for on with as was by at from "
             "it be has have are an its but not after were said will this "
             "who more than over about new two year last into their they "
             "up out also had could would when which been while").split()
NEWS = ("government minister election president court police officials "
        "parliament economy market markets shares prices inflation budget "
        "ceasefire talks summit climate energy health hospital storm flood "
        "wildfire strike union workers company companies report data "
        "investors bonds oil gas trade tariffs sanctions border migrants "
        "army troops missile attack protest protesters vote voters party "
        "coalition opposition reform tax taxes court judge ruling appeal "
        "research scientists study vaccine school teachers students city "
        "council mayor housing rents transport railway airport airline "
        "football league season coach match final championship").split()
PHRASES = ["central bank", "interest rates", "prime minister",
           "supreme court", "climate summit", "peace talks",
           "track two diplomacy", "united nations", "european union",
           "stock market", "energy prices", "public health",
           "election results", "trade deal", "state media"]
FR = ("le la les des une gouvernement ministre r\u00e9forme \u00e9conomie "
      "pr\u00e9sident d\u00e9put\u00e9s \u00e9lection s\u00e9curit\u00e9 "
      "gr\u00e8ve n\u00e9gociations fran\u00e7ais soci\u00e9t\u00e9 "
      "\u00e9t\u00e9 h\u00f4pital mus\u00e9e").split()
DE = ("der die das und Regierung Bundestag Stra\u00dfe Gr\u00fcnen "
      "Wirtschaft Z\u00fcrich M\u00fcnchen Gespr\u00e4che B\u00fcrger "
      "Ma\u00dfnahmen \u00f6ffentlich K\u00f6ln Arbeitspl\u00e4tze").split()
RU = ("\u043f\u0440\u0430\u0432\u0438\u0442\u0435\u043b\u044c\u0441\u0442"
      "\u0432\u043e \u0432\u044b\u0431\u043e\u0440\u044b "
      "\u044d\u043a\u043e\u043d\u043e\u043c\u0438\u043a\u0430 "
      "\u043f\u0435\u0440\u0435\u0433\u043e\u0432\u043e\u0440\u044b "
      "\u041c\u043e\u0441\u043a\u0432\u0430 \u041a\u0438\u0435\u0432 "
      "\u043c\u0438\u043d\u0438\u0441\u0442\u0440 \u0437\u0430\u044f\u0432"
      "\u0438\u043b \u0431\u0430\u043d\u043a \u0441\u0442\u0430\u0432\u043a"
      "\u0430 \u0441\u0443\u0434 \u0433\u043e\u0440\u043e\u0434 \u0438 \u0432 "
      "\u043d\u0430 \u0447\u0442\u043e \u043d\u0435").split()
SYL_EN = ("ba be bi bo ca co da de di do fa fe ga ge ha he ka ke la le li "
          "lo ma me mi mo na ne no pa pe pi po ra re ri ro sa se si so ta "
          "te ti to va ve vi wa we ya yo za ze str tr pl gr cl br").split()
SYL_RU = ("\u0431\u0430 \u0432\u043e \u0433\u0430 \u0434\u0435 \u0436\u0438 "
          "\u0437\u0430 \u043a\u043e \u043b\u0438 \u043c\u0430 \u043d\u0435 "
          "\u043f\u043e \u0440\u0430 \u0441\u0442 \u0442\u0443 \u0444\u0438 "
          "\u0445\u0430 \u0446\u0435 \u0447\u0443 \u0448\u0430 \u044e").split()
AUTHORS = ["Jane Doe", "\u0418\u0432\u0430\u043d \u041f\u0435\u0442\u0440"
           "\u043e\u0432", "Fran\u00e7ois L\u00e9ger", "J\u00fcrgen M\u00fcller",
           "Mar\u00eda Jos\u00e9 N\u00fa\u00f1ez", "Newsdesk"]
SECTIONS = ["world", "business", "politics", "science", "culture", "sport"]
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
DAYS = "Mon Tue Wed Thu Fri Sat Sun".split()
FORMATS = ["rss"] * 5 + ["atom"] * 3 + ["rdf"] * 2


class Words:
    """Sentences from a vocabulary of real and made-up words, so that two
    unrelated items share few words, as in real news."""

    def __init__(self, rng):
        made = set()
        while len(made) < 8000:
            w = "".join(rng.choice(SYL_EN) for _ in range(rng.randint(2, 4)))
            made.add(w.capitalize() if rng.random() < 0.15 else w)
        made_ru = set()
        while len(made_ru) < 1500:
            made_ru.add("".join(rng.choice(SYL_RU)
                                for _ in range(rng.randint(2, 4))))
        self.en = sorted(made)
        self.ru = sorted(made_ru)
        self.rng = rng

    def sentence(self):
        rng = self.rng
        lang = rng.random()
        n = rng.randint(8, 24)
        if lang < 0.08:
            toks = [rng.choice(FR) if rng.random() < 0.6 else
                    rng.choice(self.en) for _ in range(n)]
        elif lang < 0.14:
            toks = [rng.choice(DE) if rng.random() < 0.6 else
                    rng.choice(self.en) for _ in range(n)]
        elif lang < 0.22:
            toks = [rng.choice(RU) if rng.random() < 0.5 else
                    rng.choice(self.ru) for _ in range(n)]
        else:
            toks = []
            for _ in range(n):
                r = rng.random()
                toks.append(rng.choice(STOPWORDS) if r < 0.45 else
                            rng.choice(NEWS) if r < 0.6 else
                            rng.choice(self.en))
            if rng.random() < 0.03:
                toks[rng.randrange(n)] = rng.choice(PHRASES)
            if rng.random() < 0.3:
                toks[rng.randrange(n)] = str(rng.randint(2, 2030))
        if rng.random() < 0.4:
            toks[rng.randrange(1, n - 1)] += ","
        if rng.random() < 0.06:
            toks.insert(rng.randrange(2, n - 2), "\u2014")
        s = " ".join(toks)
        s = s[0].upper() + s[1:] + rng.choice("......?!")
        r = rng.random()
        if r < 0.08:
            s = "\u201c%s\u201d" % s
        elif r < 0.1:
            s = "\u00ab%s\u00bb" % s
        elif r < 0.14:
            s = s.replace(" and ", " & ", 1)
        return s


class Corpus:
    def __init__(self, n, seed):
        self.n = n
        self.seed = seed
        rng = random.Random("%s-pool" % seed)
        w = Words(rng)
        self.pool = [w.sentence() for _ in range(SENTENCE_POOL)]
        self.wire = [self.story(random.Random("%s-wire-%d" % (seed, i)), i)
                     for i in range(max(50, n // 2))]
        # Stories that break later: the new items of `grow` carry them.
        self.new_wire = [self.story(random.Random("%s-new-wire-%d"
                                                  % (seed, i)), i)
                         for i in range(max(5, n // 50))]
        self.width = max(5, len(str(n - 1)))

    def name(self, i):
        return "f%0*d" % (self.width, i)

    def story(self, rng, k):
        """A wire story: title, paragraphs, link, time offset."""
        title = rng.choice(self.pool)[:rng.randint(40, 100)].rstrip(" ,")
        paras = [" ".join(rng.choice(self.pool)
                          for _ in range(rng.randint(1, 4)))
                 for _ in range(rng.randint(2, 5))]
        link = "https://wire.example.net/%s/2024/%d-%s" % (
            rng.choice(SECTIONS), k, "-".join(title.lower().split()[:5]))
        return title, paras, link, rng.randint(0, 72 * 3600)

    def paragraphs(self, rng, budget):
        """HTML paragraphs of about budget bytes."""
        out, size = [], 0
        while size < budget:
            s = html.escape(" ".join(rng.choice(self.pool)
                                     for _ in range(rng.randint(1, 4))),
                            quote=False)
            r = rng.random()
            if r < 0.3:
                s += (' <a href="/%s/%d">%s</a>&nbsp;&mdash; &copy;'
                      % (rng.choice(SECTIONS), rng.randint(1, 10**6),
                         html.escape(rng.choice(NEWS))))
            elif r < 0.45:
                s = "<strong>%s</strong> %s" % (html.escape(
                    rng.choice(NEWS).capitalize()), s)
            elif r < 0.5:
                s += ('<br/><img src="https://img.example.net/%d.jpg" '
                      'alt="" width="640" height="360"/>'
                      % rng.randint(1, 10**7))
            elif r < 0.55:
                s = "<em>%s</em>" % s
            out.append("<p>%s</p>" % s)
            size += len(out[-1]) + 1
        return out

    def items(self, i, rng, count, budget, tag, wire, share):
        """count items of feed i, newest first; share of them stories
        from wire, which other feeds carry too."""
        out = []
        t = BASE_TIME - rng.randint(0, 3600)
        host = "www.%s.example.org" % self.name(i)
        for k in range(count):
            t -= rng.randint(300, 4 * 3600)
            num = "%s%d" % (tag, k)
            if rng.random() < share:
                title, paras, link, dt = rng.choice(wire)
                if rng.random() < 0.5:
                    link += "?utm_source=%s&utm_medium=rss" % self.name(i)
                else:
                    link = "https://%s/wire/%s" % (host, num)
                if rng.random() < 0.2:
                    title = "Update: " + title
                paras = ["<p>%s</p>" % html.escape(p, quote=False)
                         for p in paras]
                when = BASE_TIME - dt
            else:
                title = rng.choice(self.pool)[:rng.randint(40, 110)]
                title = title.rstrip(" ,")
                paras = self.paragraphs(rng, budget)
                link = "https://%s/%s/%s" % (host, rng.choice(SECTIONS), num)
                when = t
            out.append({
                "title": title, "link": link, "time": when,
                "guid": "https://%s/?p=%s" % (host, num),
                "html": "\n".join(paras), "author": rng.choice(AUTHORS),
                "cats": [rng.choice(NEWS) for _ in range(rng.randint(1, 3))],
                "content": rng.random() < 0.25,
            })
        return out

    def plan(self, i):
        """Format, number of items and size in bytes of feed i."""
        rng = random.Random("%s-feed-%d" % (self.seed, i))
        fmt = rng.choice(FORMATS)
        size = int(10 * KB * 15 ** rng.random())     # 10-150 KB, log-uniform
        count = max(20, min(rng.randint(20, 100), size // 700))
        return fmt, count, size

    def render(self, i, fmt, count, budget, grow):
        rng = random.Random("%s-items-%d" % (self.seed, i))
        items = self.items(i, rng, count, budget, "", self.wire, WIRE_SHARE)
        if grow:
            g = random.Random("%s-grow-%d" % (self.seed, i))
            new = self.items(i, g, grow, budget, "n", self.new_wire, 0.3)
            for it in new:
                it["time"] = BASE_TIME + g.randint(60, 3600)
            items = new + items[:len(items) - grow]
        return WRITERS[fmt](self, i, items)

    def feed(self, i, grow=0):
        """The text of feed i, within about 10% of its planned size."""
        fmt, count, size = self.plan(i)
        budget = max(60, size // count - 600)
        for _ in range(4):
            text = self.render(i, fmt, count, budget, 0)
            ratio = size / len(text.encode())
            if 0.92 < ratio < 1.08 or budget == 60:
                break
            budget = max(60, int(budget * ratio + (ratio - 1) * 600))
        return self.render(i, fmt, count, budget, grow) if grow else text


def esc(s):
    return html.escape(s, quote=False)


def rfc822(t):
    g = time.gmtime(t)
    return "%s, %02d %s %04d %02d:%02d:%02d +0000" % (
        DAYS[g.tm_wday], g.tm_mday, MONTHS[g.tm_mon - 1], g.tm_year,
        g.tm_hour, g.tm_min, g.tm_sec)


def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def write_rss(c, i, items):
    name = c.name(i)
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n'
           '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" '
           'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
           'xmlns:atom="http://www.w3.org/2005/Atom">\n<channel>\n'
           '<title>%s News \u2014 \u041d\u043e\u0432\u043e\u0441\u0442\u0438'
           '</title>\n<link>https://www.%s.example.org/</link>\n'
           '<atom:link rel="self" type="application/rss+xml" '
           'href="https://www.%s.example.org/feed.xml"/>\n'
           '<description>Headlines &amp; more from %s</description>\n'
           '<language>en</language>\n<lastBuildDate>%s</lastBuildDate>\n'
           % (name, name, name, name, rfc822(items[0]["time"]))]
    for it in items:
        out.append(
            "<item>\n<title>%s</title>\n<link>%s</link>\n"
            '<guid isPermaLink="false">%s</guid>\n<pubDate>%s</pubDate>\n'
            "<dc:creator>%s</dc:creator>\n%s\n"
            "<description>%s</description>\n" % (
                esc(it["title"]), esc(it["link"]), esc(it["guid"]),
                rfc822(it["time"]), esc(it["author"]),
                "".join("<category>%s</category>" % esc(x)
                        for x in it["cats"]),
                esc(it["html"])))
        if it["content"]:
            out.append("<content:encoded><![CDATA[%s]]></content:encoded>\n"
                       % it["html"])
        out.append("</item>\n")
    out.append("</channel>\n</rss>\n")
    return "".join(out)


def write_atom(c, i, items):
    name = c.name(i)
    out = ['<?xml version="1.0" encoding="utf-8"?>\n'
           '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">\n'
           '<title>%s \u2014 Nachrichten &amp; news</title>\n'
           '<link rel="self" href="https://www.%s.example.org/atom.xml"/>\n'
           '<link rel="alternate" href="https://www.%s.example.org/"/>\n'
           "<id>tag:www.%s.example.org,2024:feed</id>\n"
           "<updated>%s</updated>\n"
           % (name, name, name, name, rfc3339(items[0]["time"]))]
    for it in items:
        out.append(
            '<entry>\n<title type="html">%s</title>\n'
            '<link rel="alternate" type="text/html" href="%s"/>\n'
            "<id>%s</id>\n<published>%s</published>\n"
            "<updated>%s</updated>\n"
            "<author><name>%s</name></author>\n%s\n"
            '<summary type="html">%s</summary>\n' % (
                esc(esc(it["title"])), html.escape(it["link"]),
                esc(it["guid"]), rfc3339(it["time"]),
                rfc3339(it["time"] + 600), esc(it["author"]),
                "".join('<category term="%s"/>' % html.escape(x)
                        for x in it["cats"]),
                esc(it["html"])))
        if it["content"]:
            out.append('<content type="html">%s</content>\n'
                       % esc(it["html"]))
        out.append("</entry>\n")
    out.append("</feed>\n")
    return "".join(out)


def write_rdf(c, i, items):
    name = c.name(i)
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n'
           '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
           'xmlns="http://purl.org/rss/1.0/" '
           'xmlns:dc="http://purl.org/dc/elements/1.1/" '
           'xmlns:content="http://purl.org/rss/1.0/modules/content/">\n'
           '<channel rdf:about="https://www.%s.example.org/index.rdf">\n'
           "<title>%s \u2014 actualit\u00e9s</title>\n"
           "<link>https://www.%s.example.org/</link>\n"
           "<description>Les nouvelles de %s</description>\n"
           "<dc:date>%s</dc:date>\n<items>\n<rdf:Seq>\n"
           % (name, name, name, name, rfc3339(items[0]["time"]))]
    out += ['<rdf:li rdf:resource="%s"/>\n' % html.escape(it["link"])
            for it in items]
    out.append("</rdf:Seq>\n</items>\n</channel>\n")
    for it in items:
        out.append(
            '<item rdf:about="%s">\n<title>%s</title>\n<link>%s</link>\n'
            "<dc:date>%s</dc:date>\n<dc:creator>%s</dc:creator>\n%s\n"
            "<description>%s</description>\n" % (
                html.escape(it["link"]), esc(it["title"]), esc(it["link"]),
                rfc3339(it["time"]), esc(it["author"]),
                "".join("<dc:subject>%s</dc:subject>" % esc(x)
                        for x in it["cats"]),
                esc(it["html"])))
        if it["content"]:
            out.append("<content:encoded><![CDATA[%s]]></content:encoded>\n"
                       % it["html"])
        out.append("</item>\n")
    out.append("</rdf:RDF>\n")
    return "".join(out)


WRITERS = {"rss": write_rss, "atom": write_atom, "rdf": write_rdf}


def write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(tmp, 0o644)
    os.rename(tmp, path)


def main():
    if len(sys.argv) < 5 or sys.argv[1] not in ("generate", "grow") or \
            (sys.argv[1] == "grow") != (len(sys.argv) == 6):
        sys.stderr.write(__doc__)
        sys.exit(2)
    cmd, out, n, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
        sys.argv[4]
    c = Corpus(n, seed)
    size, counts, sizes = 0, {"rss": 0, "atom": 0, "rdf": 0}, []
    if cmd == "generate":
        os.makedirs(out, exist_ok=True)
        for i in range(n):
            text = c.feed(i)
            write(os.path.join(out, c.name(i) + ".xml"), text)
            sizes.append(len(text.encode()))
            counts[c.plan(i)[0]] += 1
        size = sum(sizes)
        print("%d feeds (%d RSS 2.0, %d Atom 1.0, %d RSS 1.0), %.1f MB, "
              "%.1f KB a feed (%.1f-%.1f KB)" % (
                  n, counts["rss"], counts["atom"], counts["rdf"],
                  size / 1e6, size / 1e3 / n, min(sizes) / 1e3,
                  max(sizes) / 1e3))
        return
    pct = float(sys.argv[5])
    rng = random.Random("%s-grow" % seed)
    chosen = sorted(rng.sample(range(n), max(1, round(n * pct / 100))))
    added = 0
    for i in chosen:
        k = random.Random("%s-grow-count-%d" % (seed, i)).randint(1, 5)
        write(os.path.join(out, c.name(i) + ".xml"), c.feed(i, grow=k))
        added += k
    print("%d feeds rewritten with %d new items" % (len(chosen), added))


if __name__ == "__main__":
    main()
