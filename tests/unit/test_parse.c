#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* cmocka.h needs the standard headers above. */
#include <cmocka.h>

#include <libxml/parser.h>

#include "date.h"
#include "feed.h"
#include "parse.h"
#include "text.h"

/*
 * The parser on documents the conformance corpus does not cover:
 * encodings, broken XML, hostile documents, limits and streaming.
 */

static struct feed_doc *
parse_ok(const char *xml, const char *content_type)
{
	struct parse_opts opts = { "http://example.org/feed/", content_type,
		NULL, 0, 0, 0, 0 };
	struct feed_doc *d;
	char *cause = NULL;

	d = parse_buffer(xml, strlen(xml), &opts, NULL, NULL, &cause);
	if (d == NULL)
		fail_msg("not parsed: %s", cause);
	return d;
}

static int
has_error(const struct feed_doc *d, const char *needle)
{
	for (size_t i = 0; i < d->nerrors; i++) {
		if (strstr(d->errors[i], needle) != NULL)
			return 1;
	}
	return 0;
}

static void
assert_date(time_t t, const char *want)
{
	char buf[32];

	date_format(t, buf, sizeof buf);
	assert_string_equal(buf, want);
}

static void
test_parse_rss20(void **state)
{
	struct feed_doc *d;
	struct entry *e;

	(void)state;
	d = parse_ok(
	    "<?xml version=\"1.0\"?>\n"
	    "<rss version=\"2.0\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\""
	    " xmlns:content=\"http://purl.org/rss/1.0/modules/content/\">"
	    "<channel><title>Wire</title><link>/home</link>"
	    "<description>All the news</description><language>en</language>"
	    "<lastBuildDate>Sun, 09 Jul 2023 14:02:00 +0200</lastBuildDate>"
	    "<item><title>One &amp; two</title><link>story/1?a=1&amp;b=2</link>"
	    "<guid isPermaLink=\"false\">id-1</guid>"
	    "<description>&lt;p&gt;Summary&lt;/p&gt;</description>"
	    "<content:encoded><![CDATA[<p>Body <a href=\"/x\">x</a></p>]]>"
	    "</content:encoded><dc:creator>Ann</dc:creator>"
	    "<category>World</category><category>Europe</category>"
	    "<dc:subject>World</dc:subject>"
	    "<enclosure url=\"/a.mp3\" type=\"audio/mpeg\" length=\"123\"/>"
	    "<pubDate>Sun, 09 Jul 2023 14:02:00 GMT</pubDate></item>"
	    "<item><guid>http://example.org/perma/2</guid>"
	    "<dc:date>2023-07-09T16:00:00+02:00</dc:date></item>"
	    "</channel></rss>",
	    NULL);
	assert_int_equal(d->format, FEED_FORMAT_RSS20);
	assert_false(d->is_bozo);
	assert_string_equal(d->title, "Wire");
	assert_string_equal(d->link, "http://example.org/home");
	assert_string_equal(d->description, "All the news");
	assert_string_equal(d->language, "en");
	assert_date(d->updated, "2023-07-09T12:02:00Z");
	assert_int_equal(d->nentries, 2);
	e = d->entries[0];
	assert_string_equal(e->title, "One & two");
	assert_string_equal(e->link, "http://example.org/feed/story/1?a=1&b=2");
	assert_string_equal(e->id, "id-1");
	assert_string_equal(e->summary, "<p>Summary</p>");
	assert_string_equal(
	    e->content, "<p>Body <a href=\"http://example.org/x\">x</a></p>");
	assert_string_equal(e->author, "Ann");
	assert_int_equal(e->ncategories, 2);
	assert_string_equal(e->categories[0], "World");
	assert_string_equal(e->categories[1], "Europe");
	assert_int_equal(e->nenclosures, 1);
	assert_string_equal(e->enclosures[0].url, "http://example.org/a.mp3");
	assert_string_equal(e->enclosures[0].type, "audio/mpeg");
	assert_int_equal(e->enclosures[0].length, 123);
	assert_date(e->published, "2023-07-09T14:02:00Z");
	/*
	 * A permalink guid is the link too; dc:date is the date, and the
	 * updated date while nothing better says when it changed.
	 */
	e = d->entries[1];
	assert_string_equal(e->link, "http://example.org/perma/2");
	assert_date(e->published, "2023-07-09T14:00:00Z");
	assert_date(e->updated, "2023-07-09T14:00:00Z");
	feed_doc_free(d);
}

/*
 * An RSS item's <summary>, which RSS does not define: its text is kept,
 * as the summary when the item has no description, else as the content
 * when it has none, as feedparser reads it.
 */
static void
test_parse_rss_summary(void **state)
{
	struct feed_doc *d;

	(void)state;
	d = parse_ok("<rss version=\"2.0\"><channel>"
		     "<item><description>Short</description>"
		     "<summary>&lt;p&gt;Longer text&lt;/p&gt;</summary></item>"
		     "<item><summary>Only a summary</summary></item>"
		     "<item><description>D</description><summary>S</summary>"
		     "<body>Body</body></item>"
		     "</channel></rss>",
	    NULL);
	assert_int_equal(d->nentries, 3);
	assert_string_equal(d->entries[0]->summary, "Short");
	assert_string_equal(d->entries[0]->content, "<p>Longer text</p>");
	assert_string_equal(d->entries[1]->summary, "Only a summary");
	assert_null(d->entries[1]->content);
	assert_string_equal(d->entries[2]->summary, "D");
	assert_string_equal(d->entries[2]->content, "Body");
	feed_doc_free(d);
}

static void
test_parse_atom10(void **state)
{
	struct feed_doc *d;
	struct entry *e;

	(void)state;
	d = parse_ok(
	    "<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"fr\""
	    " xml:base=\"http://example.com/base/\">"
	    "<title type=\"html\">A &amp;lt;b&amp;gt; feed</title>"
	    "<link rel=\"self\" href=\"/self\"/><link href=\"home\"/>"
	    "<updated>2023-07-09T10:00:00Z</updated>"
	    "<entry xml:base=\"sub/\"><title>E</title>"
	    "<link rel=\"alternate\" href=\"e1\"/>"
	    "<link rel=\"enclosure\" href=\"m.mp4\" type=\"video/mp4\"/>"
	    "<id>urn:e1</id><author><name>Bo</name><email>b@x</email></author>"
	    "<category term=\"t1\"/><updated>2023-07-09T11:00:00-01:00</updated>"
	    "<content type=\"xhtml\"><div xmlns=\"http://www.w3.org/1999/xhtml\">"
	    "<p>Hi <a href=\"rel\">there</a></p></div></content>"
	    "<summary type=\"text\">Plain &lt;b&gt;</summary></entry></feed>",
	    NULL);
	assert_int_equal(d->format, FEED_FORMAT_ATOM10);
	assert_false(d->is_bozo);
	assert_string_equal(d->title, "A &lt;b&gt; feed");
	assert_string_equal(d->link, "http://example.com/base/home");
	assert_string_equal(d->language, "fr");
	e = d->entries[0];
	assert_string_equal(e->link, "http://example.com/base/sub/e1");
	assert_string_equal(
	    e->enclosures[0].url, "http://example.com/base/sub/m.mp4");
	assert_int_equal(e->enclosures[0].length, -1);
	assert_string_equal(e->author, "Bo (b@x)");
	assert_string_equal(e->categories[0], "t1");
	assert_date(e->updated, "2023-07-09T12:00:00Z");
	assert_int_equal(e->published, -1);
	assert_string_equal(e->content,
	    "<p>Hi <a href=\"http://example.com/base/sub/rel\">there</a></p>");
	assert_string_equal(e->summary, "Plain <b>");
	feed_doc_free(d);
}

static void
test_parse_xhtml_div(void **state)
{
	static const struct {
		const char *ns;
		const char *type;
		const char *want;
	} cases[] = {
		{ "http://www.w3.org/2005/Atom", "xhtml", "<b>x</b>" },
		/* Atom 1.0 with Atom 0.3's name for XHTML: wrapped alike. */
		{ "http://www.w3.org/2005/Atom",
		    "application/xhtml+xml\" mode=\"xml", "<b>x</b>" },
		{ "http://www.w3.org/2005/Atom", "application/xhtml+xml",
		    "<b>x</b>" },
		/* In Atom 0.3 the div is content. */
		{ "http://purl.org/atom/ns#",
		    "application/xhtml+xml\" mode=\"xml",
		    "<div><b>x</b></div>" },
	};
	struct feed_doc *d;
	char doc[512];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(doc, sizeof doc,
		    "<feed xmlns=\"%s\"><entry><title type=\"%s\">"
		    "<div xmlns=\"http://www.w3.org/1999/xhtml\"><b>x</b></div>"
		    "</title></entry></feed>",
		    cases[i].ns, cases[i].type);
		d = parse_ok(doc, NULL);
		if (d->nentries != 1 || d->entries[0]->title == NULL ||
		    strcmp(d->entries[0]->title, cases[i].want) != 0)
			fail_msg("case %zu: %s", i,
			    d->nentries == 1 && d->entries[0]->title != NULL ?
				d->entries[0]->title :
				"(null)");
		feed_doc_free(d);
	}
}

static void
test_parse_formats(void **state)
{
	static const struct {
		const char *doc;
		enum feed_format format;
	} cases[] = {
		{ "<rss version=\"0.91\"><channel><item><title>x</title></item>"
		  "</channel></rss>",
		    FEED_FORMAT_RSS091 },
		{ "<rss version=\"0.92\"><channel/></rss>",
		    FEED_FORMAT_RSS092 },
		{ "<rss version=\"0.94\"><channel/></rss>",
		    FEED_FORMAT_RSS094 },
		{ "<rss><channel/></rss>", FEED_FORMAT_RSS20 },
		{ "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-"
		  "ns#\" xmlns=\"http://purl.org/rss/1.0/\"><channel/><item>"
		  "<title>x</title></item></rdf:RDF>",
		    FEED_FORMAT_RSS10 },
		{ "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-"
		  "ns#\" xmlns=\"http://my.netscape.com/rdf/simple/0.9/\">"
		  "<channel/><item><title>x</title></item></rdf:RDF>",
		    FEED_FORMAT_RSS090 },
		{ "<feed xmlns=\"http://purl.org/atom/ns#\" version=\"0.3\"/>",
		    FEED_FORMAT_ATOM03 },
		{ "{\"version\": \"https://jsonfeed.org/version/1.1\", \"items\": "
		  "[]}",
		    FEED_FORMAT_JSONFEED },
		{ "<CHANNEL HREF=\"http://e/\"><ITEM HREF=\"http://e/1\"/>"
		  "</CHANNEL>",
		    FEED_FORMAT_CDF },
	};
	struct feed_doc *d;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		d = parse_ok(cases[i].doc, NULL);
		if (d->format != cases[i].format)
			fail_msg("case %zu: format %s", i,
			    feed_format_name(d->format));
		feed_doc_free(d);
	}
}

static void
test_parse_rdf_items(void **state)
{
	struct feed_doc *d;

	(void)state;
	d = parse_ok(
	    "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-"
	    "syntax-ns#\" xmlns=\"http://purl.org/rss/1.0/\" "
	    "xmlns:dc=\"http://purl.org/dc/elements/1.1/\">"
	    "<channel rdf:about=\"x\"><title>R</title></channel>"
	    "<image><title>not the feed's title</title></image>"
	    "<item rdf:about=\"http://e/1\"><title>One</title>"
	    "<link>http://e/1</link><dc:date>2003-12-31T10:14:55Z</dc:date>"
	    "</item><item><title>Two</title></item></rdf:RDF>",
	    NULL);
	assert_string_equal(d->title, "R");
	assert_int_equal(d->nentries, 2);
	assert_string_equal(d->entries[0]->title, "One");
	assert_date(d->entries[0]->published, "2003-12-31T10:14:55Z");
	assert_string_equal(d->entries[1]->title, "Two");
	feed_doc_free(d);
}

static void
test_parse_dc_date_updated(void **state)
{
	struct feed_doc *d;

	(void)state;
	/* dcterms:modified says when it changed better than dc:date. */
	d = parse_ok(
	    "<rss xmlns:dc=\"http://purl.org/dc/elements/1.1/\""
	    " xmlns:dcterms=\"http://purl.org/dc/terms/\"><channel>"
	    "<item><dcterms:modified>2004-01-01T00:00:00Z"
	    "</dcterms:modified><dc:date>2003-12-31T10:14:55Z</dc:date>"
	    "</item><item><dc:date>2003-12-31T10:14:55Z</dc:date>"
	    "<dcterms:modified>2004-01-01T00:00:00Z</dcterms:modified>"
	    "</item></channel></rss>",
	    NULL);
	for (size_t i = 0; i < 2; i++) {
		assert_date(d->entries[i]->published, "2003-12-31T10:14:55Z");
		assert_date(d->entries[i]->updated, "2004-01-01T00:00:00Z");
	}
	feed_doc_free(d);
}

static void
test_parse_author_forms(void **state)
{
	static const struct {
		const char *author;
		const char *want;
	} cases[] = {
		{ "me@example.com (Example editor)",
		    "Example editor (me@example.com)" },
		{ "Example editor &lt;me@example.com&gt;",
		    "Example editor (me@example.com)" },
		{ "Example editor (me@example.com)",
		    "Example editor (me@example.com)" },
		{ "&lt;me@example.com&gt;", "me@example.com" },
		{ "me@example.com", "me@example.com" },
		{ "Example editor", "Example editor" },
		/* Other shapes stay as written. */
		{ "me@example.com (Ed) and you@example.com (Al)",
		    "me@example.com (Ed) and you@example.com (Al)" },
		{ "Ed &lt;not an address&gt;", "Ed <not an address>" },
		{ "a@b@c (Ed)", "a@b@c (Ed)" },
	};
	struct feed_doc *d;
	char doc[512];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(doc, sizeof doc,
		    "<rss xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><channel>"
		    "<item><author>%s</author></item><item><dc:creator>%s"
		    "</dc:creator></item></channel></rss>",
		    cases[i].author, cases[i].author);
		d = parse_ok(doc, NULL);
		for (size_t k = 0; k < 2; k++) {
			if (d->entries[k]->author == NULL ||
			    strcmp(d->entries[k]->author, cases[i].want) != 0)
				fail_msg("case %zu/%zu: %s", i, k,
				    d->entries[k]->author ?
					d->entries[k]->author :
					"(null)");
		}
		feed_doc_free(d);
	}
}

static void
test_parse_cdf(void **state)
{
	struct feed_doc *d;
	struct entry *e;

	(void)state;
	d = parse_ok(
	    "<?xml version=\"1.0\"?>\n"
	    "<CHANNEL HREF=\"/\" LASTMOD=\"2004-04-06T23:05:43-05:00\">"
	    "<TITLE>Example feed</TITLE><ABSTRACT>About 1 &lt; 2</ABSTRACT>"
	    "<LOGO HREF=\"/logo.gif\" STYLE=\"IMAGE\"/>"
	    "<ITEM HREF=\"one.html\" LASTMOD=\"2004-04-07T10:00:00Z\">"
	    "<TITLE>One</TITLE><ABSTRACT>First</ABSTRACT></ITEM>"
	    "<channel href=\"sub/\"><title>Sub</title>"
	    "<item href=\"http://example.com/two\"><title>Two</title></item>"
	    "</channel></CHANNEL>",
	    NULL);
	assert_int_equal(d->format, FEED_FORMAT_CDF);
	assert_false(d->is_bozo);
	assert_string_equal(d->title, "Example feed");
	assert_string_equal(d->link, "http://example.org/");
	assert_string_equal(d->description, "About 1 < 2");
	assert_date(d->updated, "2004-04-07T04:05:43Z");
	/* Items of sub-channels are the feed's too, in order. */
	assert_int_equal(d->nentries, 2);
	e = d->entries[0];
	assert_string_equal(e->title, "One");
	assert_string_equal(e->link, "http://example.org/feed/one.html");
	assert_string_equal(e->summary, "First");
	assert_date(e->updated, "2004-04-07T10:00:00Z");
	e = d->entries[1];
	assert_string_equal(e->title, "Two");
	assert_string_equal(e->link, "http://example.com/two");
	assert_int_equal(e->updated, -1);
	feed_doc_free(d);
}

static void
test_parse_sanitizes_html(void **state)
{
	static const struct {
		const char *description; /* an RSS item's, as XML text */
		const char *want;
	} cases[] = {
		/* Scripts go, with their content. */
		{ "<![CDATA[<p>a<script>alert(1)</script>b</p>]]>",
		    "<p>ab</p>" },
		/* Event handler attributes go. */
		{ "&lt;a href=\"/x\" onclick=\"steal()\" "
		  "onmouseover=\"x\"&gt;t&lt;/a&gt;",
		    "<a href=\"http://example.org/x\">t</a>" },
		/* javascript: links go, however they are spelled. */
		{ "<![CDATA[<a href=\"javascript:alert(1)\">t</a> "
		  "<a href=\" JaVa&#x09;Script:alert(1)\">u</a>]]>",
		    "<a>t</a> <a>u</a>" },
		/* iframes, objects and embeds go; their fallback stays. */
		{ "<![CDATA[<iframe src=\"http://evil/\">x</iframe>"
		  "<object data=\"y\"><embed src=\"z\">no plugin</object>]]>",
		    "xno plugin" },
		/* Entities stay as written; quotes and brackets are escaped. */
		{ "<![CDATA[AT&T &amp; &eacute;&#150; <img alt='\"1 < 2\"' "
		  "src=a.png>]]>",
		    "AT&amp;T &amp; &eacute;&#x2013; <img alt=\"&quot;1 &lt; 2"
		    "&quot;\" src=\"http://example.org/feed/a.png\" />" },
	};
	struct feed_doc *d;
	char doc[1024];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(doc, sizeof doc,
		    "<rss><channel><item><description>%s</description></item>"
		    "</channel></rss>",
		    cases[i].description);
		d = parse_ok(doc, NULL);
		if (d->entries[0]->summary == NULL ||
		    strcmp(d->entries[0]->summary, cases[i].want) != 0)
			fail_msg("case %zu: %s", i,
			    d->entries[0]->summary ? d->entries[0]->summary :
						     "(null)");
		feed_doc_free(d);
	}
}

/*
 * With is_text_only, HTML is left as the feed wrote it, for text_from_html:
 * an RSS description, Atom content and a JSON Feed's content_html. Its
 * text is what the sanitized HTML's text was.
 */
static void
test_parse_text_only_keeps_html(void **state)
{
	static const char *const docs[] = {
		"<rss><channel><item><description><![CDATA[<p>a<script>x()"
		"</script> <a href=\"/r\">don&#146;t</a></p>]]></description>"
		"</item></channel></rss>",
		"<feed xmlns=\"http://www.w3.org/2005/Atom\"><entry>"
		"<content type=\"html\">&lt;p&gt;a&lt;script&gt;x()&lt;/script"
		"&gt; &lt;a href=\"/r\"&gt;don&amp;#146;t&lt;/a&gt;&lt;/p&gt;"
		"</content></entry></feed>",
		"{\"version\": \"https://jsonfeed.org/version/1.1\", "
		"\"items\": [{\"id\": \"1\", \"content_html\": \"<p>a<script>"
		"x()</script> <a href=\\\"/r\\\">don&#146;t</a></p>\"}]}",
	};
	struct parse_opts opts = { "http://example.org/feed/", NULL, NULL, 0, 0,
		0, 0 };
	struct feed_doc *d;
	const char *html;
	char *cause = NULL, *text;

	(void)state;
	for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
		for (int text_only = 0; text_only <= 1; text_only++) {
			opts.is_text_only = text_only;
			d = parse_buffer(docs[i], strlen(docs[i]), &opts, NULL,
			    NULL, &cause);
			if (d == NULL || d->nentries != 1)
				fail_msg("doc %zu: not parsed: %s", i,
				    cause != NULL ? cause : "no entry");
			html = d->entries[0]->summary != NULL ?
			    d->entries[0]->summary :
			    d->entries[0]->content;
			assert_non_null(html);
			if (text_only)
				assert_non_null(strstr(html, "<script>"));
			else
				assert_null(strstr(html, "script"));
			text = text_from_html(html);
			if (strcmp(text, "a don\u2019t") != 0)
				fail_msg("doc %zu, text only %d: text \"%s\"",
				    i, text_only, text);
			free(text);
			feed_doc_free(d);
		}
	}
}

/* HTML nested deep is written out only so deep, and balanced. */
static void
test_parse_sanitizes_deep_html(void **state)
{
	char doc[8192] = "<feed xmlns=\"http://www.w3.org/2005/Atom\"><entry>"
			 "<content type=\"html\">";
	const char *s;
	struct feed_doc *d;
	int open = 0, close = 0;

	(void)state;
	for (int i = 0; i < 200; i++)
		strcat(doc, "&lt;b&gt;");
	strcat(doc, "deep</content></entry></feed>");
	d = parse_ok(doc, NULL);
	assert_non_null(d->entries[0]->content);
	assert_non_null(strstr(d->entries[0]->content, "deep"));
	for (s = d->entries[0]->content; (s = strstr(s, "<b>")) != NULL; s++)
		open++;
	for (s = d->entries[0]->content; (s = strstr(s, "</b>")) != NULL; s++)
		close++;
	assert_true(open > 0 && open < 64);
	assert_int_equal(open, close);
	feed_doc_free(d);
}

static void
test_parse_jsonfeed(void **state)
{
	struct feed_doc *d;
	struct entry *e;

	(void)state;
	d = parse_ok(
	    "{\"version\": \"https://jsonfeed.org/version/1.1\","
	    " \"title\": \"J\", \"home_page_url\": \"https://j.example/\","
	    " \"language\": \"en-GB\", \"items\": [{\"id\": 7, \"url\": \"/p/7\","
	    " \"title\": \"Seven\", \"content_html\": \"<p onclick=x>x</p>"
	    "<script>y</script>\","
	    " \"summary\": \"S\", \"date_published\": \"2023-07-09T14:02:00+01:00\","
	    " \"authors\": [{\"name\": \"Cy\"}], \"tags\": [\"a\", \"b\"],"
	    " \"attachments\": [{\"url\": \"https://j.example/f.mp3\","
	    " \"mime_type\": \"audio/mpeg\", \"size_in_bytes\": 99}]},"
	    " {\"id\": \"8\", \"content_text\": \"plain\"}]}",
	    NULL);
	assert_int_equal(d->format, FEED_FORMAT_JSONFEED);
	assert_string_equal(d->title, "J");
	assert_string_equal(d->link, "https://j.example/");
	assert_string_equal(d->language, "en-GB");
	assert_int_equal(d->nentries, 2);
	e = d->entries[0];
	assert_string_equal(e->id, "7");
	assert_string_equal(e->link, "http://example.org/p/7");
	assert_string_equal(e->content, "<p>x</p>");
	assert_string_equal(e->summary, "S");
	assert_string_equal(e->author, "Cy");
	assert_date(e->published, "2023-07-09T13:02:00Z");
	assert_int_equal(e->ncategories, 2);
	assert_int_equal(e->enclosures[0].length, 99);
	assert_string_equal(d->entries[1]->content, "plain");
	feed_doc_free(d);
}

/* "Новости" in WINDOWS-1251 and in KOI8-R. */
#define CP1251_NEWS "\xcd\xee\xe2\xee\xf1\xf2\xe8"
#define KOI8_NEWS "\xee\xcf\xd7\xcf\xd3\xd4\xc9"

static void
test_parse_encodings(void **state)
{
	static const struct {
		const char *doc;
		const char *content_type;
		const char *title;
		int is_bozo;
	} cases[] = {
		/* The declaration names the encoding. */
		{ "<?xml version=\"1.0\" encoding=\"windows-1251\"?><rss><channel>"
		  "<title>" CP1251_NEWS "</title></channel></rss>",
		    NULL, "Новости", 0 },
		{ "<?xml version='1.0' encoding='koi8-r'?><rss><channel>"
		  "<title>" KOI8_NEWS "</title></channel></rss>",
		    NULL, "Новости", 0 },
		/* The HTTP charset overrides the declaration. */
		{ "<?xml version=\"1.0\" encoding=\"utf-8\"?><rss><channel>"
		  "<title>" KOI8_NEWS "</title></channel></rss>",
		    "application/rss+xml; charset=KOI8-R", "Новости", 0 },
		/* A declaration that lies: the bytes are not UTF-8. */
		{ "<?xml version=\"1.0\" encoding=\"utf-8\"?><rss><channel>"
		  "<title>caf\xe9</title></channel></rss>",
		    NULL, "café", 1 },
		/*
		 * No declaration and no UTF-8: not well-formed, read as
		 * WINDOWS-1252.
		 */
		{ "<rss><channel><title>\x93quoted\x94</title></channel></rss>",
		    NULL, "“quoted”", 1 },
		/* UTF-8 with a BOM. */
		{ "\xef\xbb\xbf<rss><channel><title>caf\xc3\xa9</title></channel>"
		  "</rss>",
		    NULL, "café", 0 },
		/* Served as text/plain: still read, but flagged. */
		{ "<rss><channel><title>t</title></channel></rss>",
		    "text/plain", "t", 1 },
	};
	struct feed_doc *d;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		d = parse_ok(cases[i].doc, cases[i].content_type);
		if (d->title == NULL || strcmp(d->title, cases[i].title) != 0 ||
		    d->is_bozo != cases[i].is_bozo)
			fail_msg("case %zu: title \"%s\", bozo %d", i,
			    d->title ? d->title : "(null)", d->is_bozo);
		feed_doc_free(d);
	}
}

/* A Russian headline, as RU_HEADLINE's bytes in KOI8-R and WINDOWS-1251. */
#define RU_HEADLINE "Как пережить новогоднюю ночь"
#define KOI8_HEADLINE                                                                \
	"\xeb\xc1\xcb \xd0\xc5\xd2\xc5\xd6\xc9\xd4\xd8 \xce\xcf\xd7\xcf\xc7\xcf\xc4" \
	"\xce\xc0\xc0 \xce\xcf\xde\xd8"
#define CP1251_HEADLINE                                                              \
	"\xca\xe0\xea \xef\xe5\xf0\xe5\xe6\xe8\xf2\xfc \xed\xee\xe2\xee\xe3\xee\xe4" \
	"\xed\xfe\xfe \xed\xee\xf7\xfc"

static void
test_parse_guess_cyrillic(void **state)
{
	static const struct {
		const char *doc;
		const char *title;
		const char *error; /* a part of it */
	} cases[] = {
		{ "<rss><channel><title>" KOI8_HEADLINE
		  "</title></channel></rss>",
		    RU_HEADLINE,
		    "not UTF-8 and declares no encoding; read as KOI8-R, as its "
		    "letters suggest" },
		{ "<rss><channel><title>" CP1251_HEADLINE
		  "</title></channel></rss>",
		    RU_HEADLINE,
		    "read as WINDOWS-1251, as its letters suggest" },
		/* A declaration that lies is no better than none. */
		{ "<?xml version=\"1.0\" encoding=\"utf-8\"?><rss><channel>"
		  "<title>" KOI8_HEADLINE "</title></channel></rss>",
		    RU_HEADLINE,
		    "not in its declared encoding UTF-8; read as KOI8-R, as "
		    "its letters suggest" },
		/* Latin text: WINDOWS-1252 as before. */
		{ "<rss><channel><title>Caf\xe9 cr\xe8me \xe0 la f\xeate"
		  "</title></channel></rss>",
		    "Café crème à la fête", "read as WINDOWS-1252" },
	};
	struct feed_doc *d;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		d = parse_ok(cases[i].doc, NULL);
		if (d->title == NULL || strcmp(d->title, cases[i].title) != 0 ||
		    !d->is_bozo || !has_error(d, cases[i].error))
			fail_msg("case %zu: title \"%s\", bozo %d, error %s", i,
			    d->title ? d->title : "(null)", d->is_bozo,
			    d->nerrors > 0 ? d->errors[0] : "(none)");
		feed_doc_free(d);
	}
	/* What decodes as declared, or as UTF-8, is never guessed at. */
	d = parse_ok("<?xml version=\"1.0\" encoding=\"iso-8859-1\"?><rss>"
		     "<channel><title>" KOI8_HEADLINE
		     "</title></channel></rss>",
	    NULL);
	assert_false(d->is_bozo);
	assert_int_equal(d->nerrors, 0);
	feed_doc_free(d);
	d = parse_ok("<rss><channel><title>" RU_HEADLINE "</title></channel>"
		     "</rss>",
	    NULL);
	assert_string_equal(d->title, RU_HEADLINE);
	assert_false(d->is_bozo);
	feed_doc_free(d);
}

/*
 * A feed that declares ISO-8859-1 but is written in windows-1252 (the
 * quotes, dashes and euro sign of bytes 0x80 to 0x9f) reads as
 * windows-1252, as browsers and feedparser read it, without a complaint:
 * its text used to hold C1 controls where its punctuation was. A byte
 * windows-1252 leaves undefined (0x81) stays what ISO-8859-1 says.
 */
static void
test_parse_cp1252_as_latin1(void **state)
{
	struct feed_doc *d;

	(void)state;
	d = parse_ok("<?xml version=\"1.0\" encoding=\"iso-8859-1\"?><rss>"
		     "<channel><title>Caf\xe9 \x93news\x94</title><item>"
		     "<title>\x93Track two\x94 \x96 Lavrov\x92s \x80"
		     "5 "
		     "\x81</title><description>&lt;p&gt;It\x92s "
		     "\x84here\x93&lt;/p&gt;</description></item></channel>"
		     "</rss>",
	    NULL);
	assert_false(d->is_bozo);
	assert_int_equal(d->nerrors, 0);
	assert_string_equal(
	    d->title, "Caf\xc3\xa9 \xe2\x80\x9cnews\xe2\x80\x9d");
	assert_int_equal(d->nentries, 1);
	assert_string_equal(d->entries[0]->title,
	    "\xe2\x80\x9cTrack two\xe2\x80\x9d \xe2\x80\x93 Lavrov\xe2\x80\x99s "
	    "\xe2\x82\xac"
	    "5 \xc2\x81");
	assert_non_null(strstr(d->entries[0]->summary,
	    "It\xe2\x80\x99s \xe2\x80\x9ehere\xe2\x80\x9c"));
	feed_doc_free(d);

	/* The same controls in UTF-8 are the same mistake, made once more. */
	d = parse_ok("<rss><channel><title>\xc2\x93Track two\xc2\x94 and "
		     "caf\xc3\xa9</title></channel></rss>",
	    NULL);
	assert_string_equal(
	    d->title, "\xe2\x80\x9cTrack two\xe2\x80\x9d and caf\xc3\xa9");
	feed_doc_free(d);
}

/*
 * Raw elements in an RSS description (or an Atom text of type "html"),
 * where escaped ones belong: read
 * as HTML, as feedparser reads them, links resolved. Read as text, as
 * they were, "<p>track two</p><p>diplomacy</p>" was "track twodiplomacy"
 * and a phrase across the two paragraphs could not match. Escaped
 * markup beside raw elements is markup too; a plain description is
 * unchanged.
 */
static void
test_parse_raw_html_description(void **state)
{
	struct feed_doc *d;

	(void)state;
	d = parse_ok(
	    "<rss version=\"2.0\"><channel><title>t</title><item>"
	    "<description><p>Talks on track two</p><p class=\"a&amp;b\">"
	    "diplomacy in <a href=\"/x\">Geneva</a></p></description>"
	    "</item><item><description>&lt;b&gt;Bold&lt;/b&gt;<br/>"
	    "next</description></item><item><description>Plain "
	    "&amp; simple</description></item></channel></rss>",
	    NULL);
	assert_false(d->is_bozo);
	assert_int_equal(d->nentries, 3);
	assert_string_equal(d->entries[0]->summary,
	    "<p>Talks on track two</p><p class=\"a&amp;b\">diplomacy in "
	    "<a href=\"http://example.org/x\">Geneva</a></p>");
	assert_string_equal(d->entries[1]->summary, "<b>Bold</b><br />next");
	assert_string_equal(d->entries[2]->summary, "Plain &amp; simple");
	feed_doc_free(d);

	/* An Atom summary of type "html" whose markup is raw: the same. */
	d = parse_ok("<feed xmlns=\"http://www.w3.org/2005/Atom\"><entry>"
		     "<id>urn:r</id><summary type=\"html\"><p>track two</p>"
		     "<p>diplomacy</p></summary></entry></feed>",
	    NULL);
	assert_int_equal(d->nentries, 1);
	assert_string_equal(
	    d->entries[0]->summary, "<p>track two</p><p>diplomacy</p>");
	feed_doc_free(d);
}

static void
test_parse_utf16(void **state)
{
	/* "<rss><channel><title>Ж</title></channel></rss>" in UTF-16LE. */
	static const char *ascii = "<rss><channel><title>#</title></channel>"
				   "</rss>";
	char doc[256];
	size_t n = 0;
	struct parse_opts opts = { NULL, NULL, NULL, 0, 0, 0, 0 };
	struct feed_doc *d;
	char *cause;

	(void)state;
	doc[n++] = '\xff';
	doc[n++] = '\xfe';
	for (const char *s = ascii; *s != '\0'; s++) {
		if (*s == '#') {
			doc[n++] = '\x16';
			doc[n++] = '\x04';
		} else {
			doc[n++] = *s;
			doc[n++] = '\0';
		}
	}
	d = parse_buffer(doc, n, &opts, NULL, NULL, &cause);
	assert_non_null(d);
	assert_string_equal(d->title, "Ж");
	assert_false(d->is_bozo);
	feed_doc_free(d);
}

static void
test_parse_override_encoding(void **state)
{
	static const char *doc =
	    "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
	    "<rss><channel><title>" CP1251_NEWS "</title></channel></rss>";
	struct parse_opts opts = { NULL, "text/xml; charset=utf-8",
		"windows-1251", 0, 0, 0, 0 };
	struct feed_doc *d;
	char *cause;

	(void)state;
	d = parse_buffer(doc, strlen(doc), &opts, NULL, NULL, &cause);
	assert_non_null(d);
	assert_string_equal(d->title, "Новости");
	feed_doc_free(d);
}

static void
test_parse_illformed_recovers(void **state)
{
	static const struct {
		const char *doc;
		const char *title; /* of the first entry */
		size_t nentries;
		const char *error;
	} cases[] = {
		/* HTML entities XML does not define, without a DTD. */
		{ "<rss><channel><item><title>caf&eacute;&nbsp;cr&egrave;me"
		  "</title></item></channel></rss>",
		    "café\xc2\xa0"
		    "crème",
		    1, "HTML entities without a DTD" },
		/* An unescaped ampersand. */
		{ "<rss><channel><item><title>AT&T & co</title></item></channel>"
		  "</rss>",
		    "AT&T & co", 1, "unescaped &" },
		/* An entity nobody defines stays as text. */
		{ "<rss><channel><item><title>a &bogus; b</title></item>"
		  "</channel></rss>",
		    "a &bogus; b", 1, "undefined entity" },
		/* An unclosed tag inside an item: the next item still counts.
		 */
		{ "<rss><channel><item><title>One</title><description><b>bold"
		  "</description></item><item><title>Two</title></item>"
		  "</channel></rss>",
		    "Two", 2, "line 1" },
		/* Garbage after the root. */
		{ "<rss><channel><item><title>One</title></item></channel></rss>"
		  "<rss>again</rss> trailing",
		    "One", 1, "Extra content" },
		/* A document cut short inside its second item. */
		{ "<rss><channel><item><title>One</title></item><item><title>"
		  "Two</title><description>cut",
		    "One", 2, "line 1" },
	};
	struct feed_doc *d;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		d = parse_ok(cases[i].doc, NULL);
		if (!d->is_bozo || d->nentries != cases[i].nentries ||
		    d->entries[0]->title == NULL ||
		    strcmp(d->entries[0]->title, cases[i].title) != 0 ||
		    !has_error(d, cases[i].error))
			fail_msg(
			    "case %zu: bozo %d, %zu entries, title \"%s\", "
			    "first error \"%s\"",
			    i, d->is_bozo, d->nentries,
			    d->nentries > 0 && d->entries[0]->title ?
				d->entries[0]->title :
				"(null)",
			    d->nerrors > 0 ? d->errors[0] : "(none)");
		feed_doc_free(d);
	}
}

static void
test_parse_doctype_entities(void **state)
{
	struct feed_doc *d;

	(void)state;
	/* A simple internal entity is honoured; the DOCTYPE goes. */
	d = parse_ok(
	    "<!DOCTYPE rss [<!ENTITY id \"tag:example.com,\">]>"
	    "<rss version=\"2.0\"><channel><item><guid isPermaLink='false'>"
	    "&id;2006:/blog/</guid></item></channel></rss>",
	    NULL);
	assert_false(d->is_bozo);
	assert_string_equal(d->entries[0]->id, "tag:example.com,2006:/blog/");
	feed_doc_free(d);
	/* Netscape's RSS 0.91 DTD declares the HTML entities. */
	d = parse_ok(
	    "<!DOCTYPE rss PUBLIC \"-//Netscape Communications//DTD "
	    "RSS 0.91//EN\" \"http://my.netscape.com/publish/formats/"
	    "rss-0.91.dtd\"><rss version=\"0.91\"><channel><title>a&eacute;"
	    "</title></channel></rss>",
	    NULL);
	assert_false(d->is_bozo);
	assert_string_equal(d->title, "aé");
	feed_doc_free(d);
}

static void
test_parse_billion_laughs(void **state)
{
	static const char *doc =
	    "<?xml version=\"1.0\"?>"
	    "<!DOCTYPE lolz [<!ENTITY lol \"lol\">"
	    "<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">"
	    "<!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">"
	    "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">"
	    "<!ENTITY lol9 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">]>"
	    "<rss><channel><item><title>&lol9;</title></item></channel></rss>";
	struct feed_doc *d;
	clock_t t0 = clock();

	(void)state;
	d = parse_ok(doc, NULL);
	/* Nested entities are never expanded: the reference stays text. */
	assert_string_equal(d->entries[0]->title, "&lol9;");
	assert_true(d->is_bozo);
	assert_true((clock() - t0) / CLOCKS_PER_SEC < 2);
	feed_doc_free(d);
}

static void
test_parse_external_entity_not_loaded(void **state)
{
	struct feed_doc *d;

	(void)state;
	d = parse_ok(
	    "<!DOCTYPE rss [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">"
	    "]><rss><channel><title>&xxe;</title></channel></rss>",
	    NULL);
	assert_string_equal(d->title, "&xxe;");
	assert_null(strstr(d->title, "root:"));
	feed_doc_free(d);
}

static void
test_parse_limits(void **state)
{
	struct parse_opts opts = { NULL, NULL, NULL, 0, 3, 0, 0 };
	struct feed_doc *d;
	char doc[4096] = "<rss><channel>", *cause;

	(void)state;
	for (int i = 0; i < 10; i++)
		strcat(doc, "<item><title>x</title></item>");
	strcat(doc, "</channel></rss>");
	d = parse_buffer(doc, strlen(doc), &opts, NULL, NULL, &cause);
	assert_int_equal(d->nentries, 3);
	assert_true(has_error(d, "more than 3 entries"));
	feed_doc_free(d);

	opts.max_entries = 0;
	opts.max_depth = 10;
	strcpy(doc, "<rss><channel><item><title>ok</title></item><item>");
	for (int i = 0; i < 20; i++)
		strcat(doc, "<a>");
	strcat(doc, "</item></channel></rss>");
	d = parse_buffer(doc, strlen(doc), &opts, NULL, NULL, &cause);
	assert_true(d->is_bozo);
	assert_true(has_error(d, "nested deeper than 10"));
	assert_int_equal(d->nentries, 1);
	feed_doc_free(d);

	opts.max_depth = 0;
	opts.max_size = 100;
	strcpy(doc, "<rss><channel><item><title>first</title></item>");
	for (int i = 0; i < 20; i++)
		strcat(doc, "<item><title>more</title></item>");
	strcat(doc, "</channel></rss>");
	d = parse_buffer(doc, strlen(doc), &opts, NULL, NULL, &cause);
	assert_true(has_error(d, "larger than 100 bytes"));
	assert_true(d->nentries >= 1);
	assert_string_equal(d->entries[0]->title, "first");
	feed_doc_free(d);
}

static void
test_parse_not_a_feed(void **state)
{
	static const struct {
		const char *doc;
		const char *cause;
	} cases[] = {
		{ "<!DOCTYPE html><html><head><title>x</title></head></html>",
		    "not a feed: the document is <html>" },
		{ "this is not xml at all",
		    "not a feed: no XML element in it (it starts \"this is not" },
		{ "", "not a feed: no XML element in it" },
		{ "{\"hello\": 1}",
		    "not a feed: JSON without a JSON Feed version" },
		{ "{\"version\": ", "not a feed: JSON error" },
	};
	struct parse_opts opts = { NULL, NULL, NULL, 0, 0, 0, 0 };
	char *cause;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		cause = NULL;
		assert_null(parse_buffer(cases[i].doc, strlen(cases[i].doc),
		    &opts, NULL, NULL, &cause));
		if (cause == NULL ||
		    strncmp(cause, cases[i].cause, strlen(cases[i].cause)) != 0)
			fail_msg("case %zu: %s", i, cause ? cause : "(none)");
		free(cause);
	}
}

struct collect {
	int n;
	int stop_at;
};

static int
collect_cb(struct entry *e, void *arg)
{
	struct collect *c = arg;

	feed_entry_free(e);
	return ++c->n == c->stop_at ? -1 : 0;
}

static void
test_parse_streams_entries(void **state)
{
	struct parse_opts opts = { NULL, NULL, NULL, 0, 0, 0, 0 };
	struct collect c = { 0, 0 };
	struct feed_doc *d;
	char doc[8192] = "<feed xmlns=\"http://www.w3.org/2005/Atom\">", *cause;

	(void)state;
	for (int i = 0; i < 50; i++)
		strcat(doc, "<entry><title>x</title></entry>");
	strcat(doc, "<title>late title</title></feed>");
	d = parse_buffer(doc, strlen(doc), &opts, collect_cb, &c, &cause);
	assert_int_equal(c.n, 50);
	/* Entries went to the callback, not into the document. */
	assert_int_equal(d->nentries, 0);
	assert_string_equal(d->title, "late title");
	feed_doc_free(d);

	c.n = 0;
	c.stop_at = 5;
	d = parse_buffer(doc, strlen(doc), &opts, collect_cb, &c, &cause);
	assert_int_equal(c.n, 5);
	feed_doc_free(d);
}

static void
test_parse_dates_normalised(void **state)
{
	static const struct {
		const char *date;
		const char *utc; /* NULL = unparseable */
	} cases[] = {
		{ "Sun, 09 Jul 2023 14:02:00 +0000", "2023-07-09T14:02:00Z" },
		{ "9 Jul 2023 10:02 EDT", "2023-07-09T14:02:00Z" },
		{ "Sun, 09 Jul 23 14:02:00 GMT", "2023-07-09T14:02:00Z" },
		{ "2023-07-09T16:02:00+02:00", "2023-07-09T14:02:00Z" },
		{ "2023-07-09", "2023-07-09T00:00:00Z" },
		{ "sometime soon", NULL },
	};
	char doc[512], *cause;
	struct parse_opts opts = { NULL, NULL, NULL, 0, 0, 0, 0 };
	struct feed_doc *d;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(doc, sizeof doc,
		    "<rss><channel><item><pubDate>%s"
		    "</pubDate></item></channel></rss>",
		    cases[i].date);
		d = parse_buffer(doc, strlen(doc), &opts, NULL, NULL, &cause);
		if (cases[i].utc == NULL) {
			assert_int_equal(d->entries[0]->published, -1);
			assert_true(has_error(d, "unparseable date"));
			assert_false(d->is_bozo);
		} else
			assert_date(d->entries[0]->published, cases[i].utc);
		feed_doc_free(d);
	}
}

static void
test_parse_pieces_agree(void **state)
{
	/*
	 * A document larger than one read: entities, CDATA and comments cut
	 * across piece boundaries must come out the same.
	 */
	size_t cap = 300000, n = 0;
	char *doc = malloc(cap), *cause;
	struct parse_opts opts = { NULL, NULL, NULL, 0, 0, 0, 0 };
	struct feed_doc *d;
	int i = 0;

	(void)state;
	n += (size_t)sprintf(doc + n, "<rss><channel>");
	while (n < cap - 400)
		n += (size_t)sprintf(doc + n,
		    "<item><title>t&eacute;%d &amp; "
		    "<![CDATA[<b>]]></title><!-- c%d --><description>&#150;x"
		    "</description></item>",
		    i, i),
		    i++;
	n += (size_t)sprintf(doc + n, "</channel></rss>");
	d = parse_buffer(doc, n, &opts, NULL, NULL, &cause);
	assert_non_null(d);
	assert_int_equal(d->nentries, (size_t)i);
	for (int k = 0; k < i; k++) {
		char want[64];

		snprintf(want, sizeof want, "té%d & <b>", k);
		assert_string_equal(d->entries[k]->title, want);
		assert_string_equal(d->entries[k]->summary, "–x");
	}
	feed_doc_free(d);
	free(doc);
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	rewind(f);
	buf = malloc(*len + 1);
	assert_int_equal(fread(buf, 1, *len, f), *len);
	fclose(f);
	return buf;
}

static void
test_parse_seed_mojibake(void **state)
{
	struct parse_opts opts = { NULL, NULL, NULL, 0, 0, 0, 0 };
	struct feed_doc *d;
	char *buf, *cause;
	size_t len;

	(void)state;
	buf = slurp(FEEDWATCH_TEST_DATA "/parse/seed-mojibake.xml", &len);
	d = parse_buffer(buf, len, &opts, NULL, NULL, &cause);
	assert_non_null(d);
	assert_false(d->is_bozo);
	/* Clean mojibake is repaired, in English and in Russian... */
	assert_string_equal(d->entries[0]->title,
	    "Americans don’t comment on “track two diplomacy”");
	assert_string_equal(
	    d->entries[1]->title, "Подпишитесь на наш канал в Telegram");
	/* ... correct text in other languages and scripts is not touched... */
	assert_non_null(strstr(d->entries[1]->summary,
	    "Bu məqalə Google "
	    "Translate servisi vasitəsi ilə avtomatik olaraq rus dilindən"));
	assert_non_null(strstr(d->entries[1]->summary,
	    "Переклад цього "
	    "матеріалу українською мовою"));
	assert_non_null(strstr(d->entries[0]->summary,
	    "“track two "
	    "diplomacy”—a form"));
	assert_non_null(strstr(d->entries[0]->summary,
	    "Track XNUMX "
	    "negotiations"));
	/*
	 * ... and the article's own mojibake, cut by spaces the translation
	 * put inside its bytes, cannot be decoded cleanly: it stays.
	 */
	assert_non_null(strstr(d->entries[0]->summary,
	    "our РєР ° РЅР ° Р »РІ "
	    "Telegram"));
	feed_doc_free(d);
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_rss20),
		cmocka_unit_test(test_parse_rss_summary),
		cmocka_unit_test(test_parse_atom10),
		cmocka_unit_test(test_parse_xhtml_div),
		cmocka_unit_test(test_parse_formats),
		cmocka_unit_test(test_parse_rdf_items),
		cmocka_unit_test(test_parse_dc_date_updated),
		cmocka_unit_test(test_parse_author_forms),
		cmocka_unit_test(test_parse_cdf),
		cmocka_unit_test(test_parse_sanitizes_html),
		cmocka_unit_test(test_parse_sanitizes_deep_html),
		cmocka_unit_test(test_parse_text_only_keeps_html),
		cmocka_unit_test(test_parse_jsonfeed),
		cmocka_unit_test(test_parse_encodings),
		cmocka_unit_test(test_parse_guess_cyrillic),
		cmocka_unit_test(test_parse_cp1252_as_latin1),
		cmocka_unit_test(test_parse_raw_html_description),
		cmocka_unit_test(test_parse_utf16),
		cmocka_unit_test(test_parse_override_encoding),
		cmocka_unit_test(test_parse_illformed_recovers),
		cmocka_unit_test(test_parse_doctype_entities),
		cmocka_unit_test(test_parse_billion_laughs),
		cmocka_unit_test(test_parse_external_entity_not_loaded),
		cmocka_unit_test(test_parse_limits),
		cmocka_unit_test(test_parse_not_a_feed),
		cmocka_unit_test(test_parse_streams_entries),
		cmocka_unit_test(test_parse_dates_normalised),
		cmocka_unit_test(test_parse_pieces_agree),
		cmocka_unit_test(test_parse_seed_mojibake),
	};
	int rc;

	xmlInitParser();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	xmlCleanupParser();
	return rc;
}
