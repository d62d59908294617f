#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* cmocka.h needs the four headers above it. */
#include <cmocka.h>

#include <curl/curl.h>

#include "url.h"

/*
 * url_resolve(), url_host(), url_resolve_html() and url_canonical():
 * tables of links and HTML as feeds write them.
 */

struct url_case {
	const char *base;
	const char *ref;
	const char *want; /* NULL: no absolute URL results */
};

struct url_host_case {
	const char *in;
	const char *want;
};

#define URL_BASE "http://a/b/c/d;p?q"

/* RFC 3986 section 5.4.1, normal examples. */
static const struct url_case url_rfc3986_cases[] = {
	{ URL_BASE, "g", "http://a/b/c/g" },
	{ URL_BASE, "./g", "http://a/b/c/g" },
	{ URL_BASE, "g/", "http://a/b/c/g/" },
	{ URL_BASE, "/g", "http://a/g" },
	{ URL_BASE, "//g", "http://g/" },
	{ URL_BASE, "?y", "http://a/b/c/d;p?y" },
	{ URL_BASE, "g?y", "http://a/b/c/g?y" },
	{ URL_BASE, "#s", "http://a/b/c/d;p?q#s" },
	{ URL_BASE, "g#s", "http://a/b/c/g#s" },
	{ URL_BASE, "g?y#s", "http://a/b/c/g?y#s" },
	{ URL_BASE, ";x", "http://a/b/c/;x" },
	{ URL_BASE, "g;x", "http://a/b/c/g;x" },
	{ URL_BASE, "g;x?y#s", "http://a/b/c/g;x?y#s" },
	{ URL_BASE, ".", "http://a/b/c/" },
	{ URL_BASE, "./", "http://a/b/c/" },
	{ URL_BASE, "..", "http://a/b/" },
	{ URL_BASE, "../", "http://a/b/" },
	{ URL_BASE, "../g", "http://a/b/g" },
	{ URL_BASE, "../..", "http://a/" },
	{ URL_BASE, "../../", "http://a/" },
	{ URL_BASE, "../../g", "http://a/g" },
	{ URL_BASE, "../../../g", "http://a/g" },
	{ URL_BASE, "/./g", "http://a/g" },
	{ URL_BASE, "/../g", "http://a/g" },
};

static const struct url_case url_feed_cases[] = {
	{ "https://example.com/feed.xml", "/posts/1",
	    "https://example.com/posts/1" },
	{ "https://example.com/blog/feed.xml", "posts/1.html",
	    "https://example.com/blog/posts/1.html" },
	{ "https://example.com/feed", "//cdn.example.net/x.png",
	    "https://cdn.example.net/x.png" },
	{ "https://example.com/feed", "https://other.org/p?a=1&b=%20#f",
	    "https://other.org/p?a=1&b=%20#f" },
	{ "https://example.com/feed", "  \n\thttps://other.org/p \r\n",
	    "https://other.org/p" },
	{ "  https://example.com/blog/feed  ", "\n  post.html\n",
	    "https://example.com/blog/post.html" },
	{ "https://example.com/feed", "https://other.org/a\r\n/b",
	    "https://other.org/a/b" },
	{ NULL, "https://example.com/a/./b/../c",
	    "https://example.com/a/./b/../c" },
	{ NULL, "HTTPS://Example.COM/Path", "HTTPS://Example.COM/Path" },
	{ NULL, "http://example.com:80/", "http://example.com:80/" },
	{ NULL, "https://example.com:8443/", "https://example.com:8443/" },
	{ NULL, "https://example.com", "https://example.com" },
	{ NULL, "https://example.com/a b", "https://example.com/a%20b" },
	{ "https://example.com/", "a b?x=1", "https://example.com/a%20b?x=1" },
	{ NULL, "https://example.com/caf\xc3\xa9",
	    "https://example.com/caf%c3%a9" },
	{ "https://example.com/a#old", "#new", "https://example.com/a#new" },
	{ "https://example.com/a", "#a b%20c",
	    "https://example.com/a#a%20b%20c" },
	{ "https://example.com/a#old", "#", "https://example.com/a" },
	{ "https://example.com/feed", "gopher://example.org/1/",
	    "gopher://example.org/1/" },
	{ "https://example.com/feed", "ftp://example.org/f.txt",
	    "ftp://example.org/f.txt" },
	{ NULL, "http://[::1]:8080/x", "http://[::1]:8080/x" },
	{ NULL, "http://user@EXAMPLE.com/x", "http://user@example.com/x" },
	{ "not a url", "https://example.com/x", "https://example.com/x" },
};

static const struct url_case url_file_cases[] = {
	{ NULL, "file:///tmp/feed.xml", "file:///tmp/feed.xml" },
	{ "file:///home/u/feeds/feed.xml", "item.html",
	    "file:///home/u/feeds/item.html" },
	{ "file:///home/u/feeds/feed.xml", "../x/item.html",
	    "file:///home/u/x/item.html" },
	{ "file:///home/u/feeds/feed.xml", "/etc/motd", "file:///etc/motd" },
	{ "file:///home/u/feed.xml", "#top", "file:///home/u/feed.xml#top" },
	{ NULL, "file://localhost/tmp/x", "file:///tmp/x" },
	{ NULL, "file://elsewhere/tmp/x", NULL },
};

static const struct url_case url_refused_cases[] = {
	{ NULL, NULL, NULL },
	{ "https://example.com/", NULL, NULL },
	{ "https://example.com/", "", NULL },
	{ "https://example.com/", " \t\n", NULL },
	{ NULL, "/posts/1", NULL },
	{ NULL, "posts/1", NULL },
	{ NULL, "//example.com/x", NULL },
	{ NULL, "#frag", NULL },
	{ NULL, "example.com/feed", NULL },
	{ "", "posts/1", NULL },
	{ "not a url", "posts/1", NULL },
	{ "/relative/base", "posts/1", NULL },
	{ "not a url", "#frag", NULL },
	/* curl's URL API wants "scheme://": RFC 3986's "g:h" is refused. */
	{ URL_BASE, "g:h", NULL },
	{ "https://example.com/", "mailto:someone@example.com", NULL },
	{ "https://example.com/", "javascript:alert(1)", NULL },
	{ "https://example.com/", "magnet:?xt=urn:btih:0123", NULL },
	{ "https://example.com/", "https://", NULL },
	{ "https://example.com/", "http://exa mple.com/", NULL },
	{ "https://example.com/", "http://example.com:99999/", NULL },
};

static const struct url_host_case url_host_cases[] = {
	{ "https://example.com/feed", "example.com" },
	{ "HTTPS://WWW.Example.COM:8443/Feed?x#y", "www.example.com" },
	{ "http://user:pw@Host.example/x", "host.example" },
	{ "  https://example.com/  ", "example.com" },
	{ "http://[::1]:8080/x", "[::1]" },
	{ "http://[FE80::1]/x", "[fe80::1]" },
	{ "http://127.0.0.1/", "127.0.0.1" },
	{ "gopher://example.org/1/", "example.org" },
	{ "file:///tmp/feed.xml", NULL },
	{ "/relative/path", NULL },
	{ "example.com", NULL },
	{ "", NULL },
	{ "mailto:someone@example.com", NULL },
	{ NULL, NULL },
};

/* Do got and want agree, NULL meaning "no URL"? Else say so. */
static int
url_check(const char *what, const char *got, const char *want)
{
	if (want == NULL && got == NULL)
		return 1;
	if (want != NULL && got != NULL && strcmp(got, want) == 0)
		return 1;
	print_error("%s: got %s, want %s\n", what, got ? got : "NULL",
	    want ? want : "NULL");
	return 0;
}

static void
url_run_cases(const struct url_case *cases, size_t n)
{
	const struct url_case *c;
	char what[512], *got;
	size_t i;
	int failed = 0;

	for (i = 0; i < n; i++) {
		c = &cases[i];
		got = url_resolve(c->base, c->ref);
		snprintf(what, sizeof what, "\"%s\" + \"%s\"",
		    c->base ? c->base : "(null)", c->ref ? c->ref : "(null)");
		if (!url_check(what, got, c->want))
			failed++;
		free(got);
	}
	assert_int_equal(failed, 0);
}

static void
test_url_rfc3986(void **state)
{
	(void)state;
	url_run_cases(url_rfc3986_cases,
	    sizeof url_rfc3986_cases / sizeof url_rfc3986_cases[0]);
}

static void
test_url_feed_links(void **state)
{
	(void)state;
	url_run_cases(
	    url_feed_cases, sizeof url_feed_cases / sizeof url_feed_cases[0]);
}

static void
test_url_file(void **state)
{
	(void)state;
	url_run_cases(
	    url_file_cases, sizeof url_file_cases / sizeof url_file_cases[0]);
}

static void
test_url_refused(void **state)
{
	(void)state;
	url_run_cases(url_refused_cases,
	    sizeof url_refused_cases / sizeof url_refused_cases[0]);
}

static void
test_url_host(void **state)
{
	const struct url_host_case *c;
	char *got;
	size_t i;
	int failed = 0;

	(void)state;
	for (i = 0; i < sizeof url_host_cases / sizeof url_host_cases[0]; i++) {
		c = &url_host_cases[i];
		got = url_host(c->in);
		if (!url_check(c->in ? c->in : "(null)", got, c->want))
			failed++;
		free(got);
	}
	assert_int_equal(failed, 0);
}

static void
test_url_resolve_is_idempotent(void **state)
{
	char *once, *twice;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof url_feed_cases / sizeof url_feed_cases[0]; i++) {
		once =
		    url_resolve(url_feed_cases[i].base, url_feed_cases[i].ref);
		assert_non_null(once);
		twice = url_resolve(NULL, once);
		assert_non_null(twice);
		assert_string_equal(once, twice);
		free(once);
		free(twice);
	}
}

/* url_resolve_html(): the output, or NULL when nothing changes. */
struct url_html_case {
	const char *base;
	const char *in;
	const char *want; /* NULL: nothing changes */
};

#define URL_HTML_DOC "http://127.0.0.1:8097/tests/wellformed/base/"
#define URL_HTML_BASE "http://example.com/d/p.html"

/*
 * Modelled on feedparser's test suite (the file named above each case):
 * its expected strings, where only the resolving is ours to do.
 */
static const struct url_html_case url_html_corpus_cases[] = {
	/* base/http_entry_summary_base_content_location.xml */
	{ "http://example.com/",
	    "<div><a href=\"/relative/uri\">click here</a></div>",
	    "<div><a href=\"http://example.com/relative/uri\">click here</a></div>" },
	/* base/http_entry_summary_base_docuri.xml */
	{ URL_HTML_DOC "http_entry_summary_base_docuri.xml",
	    "<div><a href=\"/relative/uri\">click here</a></div>",
	    "<div><a href=\"http://127.0.0.1:8097/relative/uri\">click here</a></div>" },
	/* base/http_feed_title_base_docuri.xml */
	{ URL_HTML_DOC "http_feed_title_base_docuri.xml",
	    "<div><a href=\"/relative/uri\">click here</a></div>",
	    "<div><a href=\"http://127.0.0.1:8097/relative/uri\">click here</a></div>" },
	/* base/http_item_content_encoded_base_docuri.xml */
	{ URL_HTML_DOC "http_item_content_encoded_base_docuri.xml",
	    "<a href=\"/relative/uri\">click here</a>",
	    "<a href=\"http://127.0.0.1:8097/relative/uri\">click here</a>" },
	/* base/http_item_description_base_content_location.xml */
	{ "http://example.com/", "<a href=\"/relative/uri\">click here</a>",
	    "<a href=\"http://example.com/relative/uri\">click here</a>" },
	/* atom/relative_uri.xml, base/entry_content_xml_base.xml */
	{ "http://example.com/test/",
	    "<div>Example <a href=\"test.html\">test</a></div>",
	    "<div>Example <a href=\"http://example.com/test/test.html\">test</a></div>" },
	/* atom10/relative_uri.xml: xmlns holds a URI, but is no link */
	{ "http://example.com/test/",
	    "<div xmlns=\"http://www.w3.org/1999/xhtml\">Example <a href=\"test.html\">test</a></div>",
	    "<div xmlns=\"http://www.w3.org/1999/xhtml\">Example <a href=\"http://example.com/test/test.html\">test</a></div>" },
	/* base/entry_content_xml_base_inherit_4.xml */
	{ "http://example.com/parent/",
	    "Example <a href=\"test.html\">test</a>",
	    "Example <a href=\"http://example.com/parent/test.html\">test</a>" },
	/* base/http_relative_xml_base.xml */
	{ "http://example.com/feed/entry/title/",
	    "Example <a href=\"test.html\">test</a>",
	    "Example <a href=\"http://example.com/feed/entry/title/test.html\">test</a>" },
	/* base/http_relative_xml_base_2.xml */
	{ "http://example.com/entry/", "Example <a href=\"test.html\">test</a>",
	    "Example <a href=\"http://example.com/entry/test.html\">test</a>" },
	/* atom10/ampersand_in_attr.xml, absolute and made relative */
	{ "http://example.com/",
	    "Example <a href=\"http://example.com/?a=1&amp;b=2\">test</a>",
	    NULL },
	{ "http://example.com/", "Example <a href=\"?a=1&amp;b=2\">test</a>",
	    "Example <a href=\"http://example.com/?a=1&amp;b=2\">test</a>" },
	/* atom10/tag_in_attr.xml: "<br />" inside a value is no tag */
	{ "http://example.com/",
	    "<img src=\"http://example.com/cat-dog.jpg\" alt=\"cat<br />dog\">",
	    NULL },
	{ "http://example.com/",
	    "<img alt=\"cat<br />dog\" src=\"cat-dog.jpg\" />",
	    "<img alt=\"cat<br />dog\" src=\"http://example.com/cat-dog.jpg\" />" },
	/* atom10/missing_quote_in_attr.xml: feedparser's output, exactly */
	{ "http://example.com/", "<a href=http://example.com/\">example</a>",
	    NULL },
	{ "http://example.com/", "<a href=/\">example</a>",
	    "<a href=\"http://example.com/&quot;\">example</a>" },
	/* rss/item_description_not_a_doctype.xml: "<!'" is text */
	{ URL_HTML_BASE, "<!' <a href=\"foo\">",
	    "<!' <a href=\"http://example.com/d/foo\">" },
	/* sanitize/blogger_dollar_sign_in_attribute.xml */
	{ "http://site.invalid/",
	    "\n            <img border=\"0\" i$=\"true\" src=\"img.jpg\" />\n        ",
	    "\n            <img border=\"0\" i$=\"true\" src=\"http://site.invalid/img.jpg\" />\n        " },
	/* base/unsafe_base.xml: no URL comes of a javascript: base */
	{ "javascript:alert('unsafe')",
	    "Example <a href=\"test.html\">test</a>", NULL },
	/* sanitize/feed_title_unacceptable_uri.xml: the sanitizer's job */
	{ "http://example.com/", "<a href=\"javascript:alert(1)\">safe</a>",
	    NULL },
	/* base/feed_link_xml_base_iri.xml: href="" is the base */
	{ "http://example.com/feed", "<a href=\"\">self</a>",
	    "<a href=\"http://example.com/feed\">self</a>" },
	/* sanitize/feed_info_script_cdata.xml */
	{ "http://example.com/",
	    "safe<script type=\"text/javascript\">location.href='http:/'+'/example.com/';</script> description",
	    NULL },
	/* sanitize/entry_content_crazy.xml, cut, with links added */
	{ "http://example.com/",
	    "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\" \"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd\">\n"
	    "<body    notRealAttribute=\"value\"onload=\"executeMe();\"foo=\"bar\"\n\n>\n"
	    "<!-- <script> -->\n<!-- \n\t<script> \n-->\n</script>\n"
	    "<script\n\n\n>\nfunction executeMe()\n{\n/* <script> \n"
	    "<a href=\"in-script\">\n< /script>\n*/\n}\n  </script\n\n\n>\n"
	    "<div notRealAttribute=\"value\n\"onmouseover=\"\nexecuteMe();\n\"foo=\"bar\"href=\"x\">\n"
	    "<a class=\"c\"href=\"after-script\">I will execute here</a>\n</div>\n",
	    "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\" \"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd\">\n"
	    "<body    notRealAttribute=\"value\"onload=\"executeMe();\"foo=\"bar\"\n\n>\n"
	    "<!-- <script> -->\n<!-- \n\t<script> \n-->\n</script>\n"
	    "<script\n\n\n>\nfunction executeMe()\n{\n/* <script> \n"
	    "<a href=\"in-script\">\n< /script>\n*/\n}\n  </script\n\n\n>\n"
	    "<div notRealAttribute=\"value\n\"onmouseover=\"\nexecuteMe();\n\"foo=\"bar\"href=\"x\">\n"
	    "<a class=\"c\"href=\"http://example.com/after-script\">I will execute here</a>\n</div>\n" },
};

/* How values are read and written back. */
static const struct url_html_case url_html_quoting_cases[] = {
	{ URL_HTML_BASE, "<a href='x.html'>",
	    "<a href='http://example.com/d/x.html'>" },
	{ URL_HTML_BASE, "<a href=x.html>",
	    "<a href=\"http://example.com/d/x.html\">" },
	{ URL_HTML_BASE, "<img src=a/b/>",
	    "<img src=\"http://example.com/d/a/b/\">" },
	{ URL_HTML_BASE, "<a href = \"x\" >",
	    "<a href = \"http://example.com/d/x\" >" },
	{ URL_HTML_BASE, "<a\nhref\n=\n'x'\n>y</a>",
	    "<a\nhref\n=\n'http://example.com/d/x'\n>y</a>" },
	{ URL_HTML_BASE, "<a href=\"p?a=1&amp;b=2&#38;c=&#x33;&#x34\">",
	    "<a href=\"http://example.com/d/p?a=1&amp;b=2&amp;c=34\">" },
	{ URL_HTML_BASE, "<a href=\"p?a=1&b=2&c\">",
	    "<a href=\"http://example.com/d/p?a=1&amp;b=2&amp;c\">" },
	{ URL_HTML_BASE, "<a href=\"a&quot;b\">",
	    "<a href=\"http://example.com/d/a&quot;b\">" },
	{ URL_HTML_BASE, "<a href='it&#39;s'>",
	    "<a href='http://example.com/d/it&#39;s'>" },
	{ URL_HTML_BASE, "<a href='it&apos;s'>",
	    "<a href='http://example.com/d/it&#39;s'>" },
	{ URL_HTML_BASE, "<a href=\"it's\">",
	    "<a href=\"http://example.com/d/it's\">" },
	{ URL_HTML_BASE, "<a href='say \"x\"'>",
	    "<a href='http://example.com/d/say%20&quot;x&quot;'>" },
	{ URL_HTML_BASE, "<a href=\"a>b\">x</a>",
	    "<a href=\"http://example.com/d/a&gt;b\">x</a>" },
	{ URL_HTML_BASE, "<a href=\"a&lt;b\">x</a>",
	    "<a href=\"http://example.com/d/a&lt;b\">x</a>" },
	{ URL_HTML_BASE, "<a href=\"caf&#xE9;.html\">",
	    "<a href=\"http://example.com/d/caf%c3%a9.html\">" },
	{ URL_HTML_BASE, "<a href=\"caf\xc3\xa9.html\">",
	    "<a href=\"http://example.com/d/caf%c3%a9.html\">" },
	{ URL_HTML_BASE, "<a href=\" \n x.html\n\t\">",
	    "<a href=\"http://example.com/d/x.html\">" },
	{ URL_HTML_BASE, "<a href=\"a b.html\">",
	    "<a href=\"http://example.com/d/a%20b.html\">" },
	/* A named reference we cannot read: the value is left alone. */
	{ URL_HTML_BASE, "<a href=\"x&copy;y\">", NULL },
	{ URL_HTML_BASE, "<a href=\"x&copy;y\"><img src=\"i.png\">",
	    "<a href=\"x&copy;y\"><img src=\"http://example.com/d/i.png\">" },
};

/* Which attributes of which elements, in any case. */
static const struct url_html_case url_html_attribute_cases[] = {
	{ URL_HTML_BASE, "<A HREF=\"x\">y</A>",
	    "<A HREF=\"http://example.com/d/x\">y</A>" },
	{ URL_HTML_BASE, "<Img Src='x.png' ALT=\"\">",
	    "<Img Src='http://example.com/d/x.png' ALT=\"\">" },
	{ URL_HTML_BASE,
	    "<img src=\"a.png\" longdesc=\"d.html\" usemap=\"#m\" alt=\"a.png\">",
	    "<img src=\"http://example.com/d/a.png\" longdesc=\"http://example.com/d/d.html\" usemap=\"http://example.com/d/p.html#m\" alt=\"a.png\">" },
	{ URL_HTML_BASE, "<a title=\"t\"href=\"x\"class=c>",
	    "<a title=\"t\"href=\"http://example.com/d/x\"class=c>" },
	{ URL_HTML_BASE, "<a href=\"x\" href=\"y\">",
	    "<a href=\"http://example.com/d/x\" href=\"http://example.com/d/y\">" },
	{ URL_HTML_BASE, "<a/href=\"x\">",
	    "<a/href=\"http://example.com/d/x\">" },
	{ URL_HTML_BASE, "<a href=\"x\"/>",
	    "<a href=\"http://example.com/d/x\"/>" },
	{ URL_HTML_BASE,
	    "<video poster=\"p.jpg\" src=\"v.mp4\"><source src=\"v.webm\"></video>",
	    "<video poster=\"http://example.com/d/p.jpg\" src=\"http://example.com/d/v.mp4\"><source src=\"http://example.com/d/v.webm\"></video>" },
	{ URL_HTML_BASE, "<span href=\"x\">", NULL },
	{ URL_HTML_BASE, "<a src=\"x\" data-href=\"y\" hreflang=\"en\">",
	    NULL },
	{ URL_HTML_BASE, "<img lowsrc=\"x\" dynsrc=\"y\" srcset=\"z 2x\">",
	    NULL },
	{ URL_HTML_BASE, "<div background=\"x\" cite=\"y\">", NULL },
	{ URL_HTML_BASE, "<svg><a xlink:href=\"x\"></a></svg>", NULL },
	{ URL_HTML_BASE, "<abbr href=\"x\"><aa href=\"y\"><imgs src=\"z\">",
	    NULL },
	{ URL_HTML_BASE, "<a name=\"top\"><a href><a href >", NULL },
	{ URL_HTML_BASE, "</a href=\"x\">", NULL },
};

/* What is not markup, or not ours to change. */
static const struct url_html_case url_html_untouched_cases[] = {
	{ URL_HTML_BASE, "", NULL },
	{ URL_HTML_BASE, "plain text &amp; more", NULL },
	{ URL_HTML_BASE, "1 < 2 and 3 > 2 <", NULL },
	{ URL_HTML_BASE, "<!-- <a href=\"x\"> -->", NULL },
	{ URL_HTML_BASE, "<!--><a href=\"x\">",
	    "<!--><a href=\"http://example.com/d/x\">" },
	{ URL_HTML_BASE, "<!-- a --><a href=\"x\"><!-- <img src=\"y\"> -->",
	    "<!-- a --><a href=\"http://example.com/d/x\"><!-- <img src=\"y\"> -->" },
	{ URL_HTML_BASE, "<![CDATA[<a href=\"x\">]]>", NULL },
	{ URL_HTML_BASE, "<!DOCTYPE html><a href=\"x\">",
	    "<!DOCTYPE html><a href=\"http://example.com/d/x\">" },
	{ URL_HTML_BASE, "<?xml version=\"1.0\"?><?pi <a href=\"x\">", NULL },
	{ URL_HTML_BASE, "<script>document.write('<a href=\"x\">')</script>",
	    NULL },
	{ URL_HTML_BASE,
	    "<SCRIPT>x = '<a href=\"x\">';</SCRIPTS></SCRIPT ><a href=\"y\">",
	    "<SCRIPT>x = '<a href=\"x\">';</SCRIPTS></SCRIPT ><a href=\"http://example.com/d/y\">" },
	{ URL_HTML_BASE, "<script src=\"s.js\"></script>",
	    "<script src=\"http://example.com/d/s.js\"></script>" },
	{ URL_HTML_BASE, "<script src=\"s.js\"/><a href=\"x\">",
	    "<script src=\"http://example.com/d/s.js\"/><a href=\"http://example.com/d/x\">" },
	{ URL_HTML_BASE, "<style>a { background: url(x.png) }</style>", NULL },
	{ URL_HTML_BASE, "<style><a href=\"x\"></style><a href=\"y\">",
	    "<style><a href=\"x\"></style><a href=\"http://example.com/d/y\">" },
	{ URL_HTML_BASE, "<textarea><a href=\"x\"></textarea>", NULL },
	{ URL_HTML_BASE, "<title><img src=\"x\"></title>", NULL },
	{ URL_HTML_BASE, "<a href=\"https://other.org/x\">", NULL },
	{ URL_HTML_BASE, "<a href=\"HTTP://Other.ORG/a b\">", NULL },
	{ URL_HTML_BASE, "<a href=\"  http://other.org/\">", NULL },
	{ URL_HTML_BASE, "<a href=\"mailto:me@example.com\">", NULL },
	{ URL_HTML_BASE, "<a href=\"javascript:alert('x')\">", NULL },
	{ URL_HTML_BASE, "<a href=\"JavaScript:void(0)\">", NULL },
	{ URL_HTML_BASE, "<img src=\"data:image/png;base64,iVBORw0KGgo=\">",
	    NULL },
	{ URL_HTML_BASE, "<a href=\"tel:+15550100\"><a href=\"urn:isbn:0\">",
	    NULL },
	/* Obfuscated javascript: comes out of curl as no URL at all. */
	{ URL_HTML_BASE, "<a href=\"java&#x09;script:alert(1)\">", NULL },
	{ URL_HTML_BASE, "<a href=\"java\nscript:alert(1)\">", NULL },
};

/* Unfinished or broken markup: what ends inside it stays as it is. */
static const struct url_html_case url_html_malformed_cases[] = {
	{ URL_HTML_BASE, "<a href=", NULL },
	{ URL_HTML_BASE, "<a href=  ", NULL },
	{ URL_HTML_BASE, "<a href=\"x", NULL },
	{ URL_HTML_BASE, "<a href='x\">y</a>", NULL },
	{ URL_HTML_BASE, "<a href=\"x\"", NULL },
	{ URL_HTML_BASE, "<a href=\"x\" ", NULL },
	{ URL_HTML_BASE, "<a href=x", NULL },
	{ URL_HTML_BASE, "<a", NULL },
	{ URL_HTML_BASE, "<", NULL },
	{ URL_HTML_BASE, "<a href=\"x\">ok</a><img src=\"y",
	    "<a href=\"http://example.com/d/x\">ok</a><img src=\"y" },
	{ URL_HTML_BASE, "<a href=\"x\"><!-- <img src=\"y\">",
	    "<a href=\"http://example.com/d/x\"><!-- <img src=\"y\">" },
	{ URL_HTML_BASE, "<script><a href=\"x\">", NULL },
	{ URL_HTML_BASE, "<![CDATA[ <a href=\"x\">", NULL },
	{ URL_HTML_BASE, "<!DOCTYPE <a href=\"x\">", NULL },
	{ URL_HTML_BASE, "<3 <a href=\"x\">",
	    "<3 <a href=\"http://example.com/d/x\">" },
	{ URL_HTML_BASE, "<<a href=\"x\">",
	    "<<a href=\"http://example.com/d/x\">" },
	{ URL_HTML_BASE, "< a href=\"x\">", NULL },
	{ URL_HTML_BASE, "<a href=>",
	    "<a href=\"http://example.com/d/p.html\">" },
	{ URL_HTML_BASE, "<a =href=\"x\">", NULL },
	{ URL_HTML_BASE, "<a href=\"x\" <img src=\"y\">",
	    "<a href=\"http://example.com/d/x\" <img src=\"y\">" },
};

/* One base with a path, a query and a fragment, and references to it. */
#define URL_HTML_RICH "http://example.com/a/b/page.html?x=1&y=2#top"

static const struct url_html_case url_html_base_cases[] = {
	{ URL_HTML_RICH, "<a href=\"c.html\">",
	    "<a href=\"http://example.com/a/b/c.html\">" },
	{ URL_HTML_RICH, "<a href=\"./c/\">",
	    "<a href=\"http://example.com/a/b/c/\">" },
	{ URL_HTML_RICH, "<a href=\"../c\">",
	    "<a href=\"http://example.com/a/c\">" },
	{ URL_HTML_RICH, "<a href=\"../../../c\">",
	    "<a href=\"http://example.com/c\">" },
	{ URL_HTML_RICH, "<a href=\"/root\">",
	    "<a href=\"http://example.com/root\">" },
	{ URL_HTML_RICH, "<a href=\"?z=3\">",
	    "<a href=\"http://example.com/a/b/page.html?z=3\">" },
	{ URL_HTML_RICH, "<a href=\"#s\">",
	    "<a href=\"http://example.com/a/b/page.html?x=1&amp;y=2#s\">" },
	{ URL_HTML_RICH, "<a href=\"\">",
	    "<a href=\"http://example.com/a/b/page.html?x=1&amp;y=2\">" },
	{ URL_HTML_RICH, "<a href=\"//cdn.example.net/i.png\">",
	    "<a href=\"http://cdn.example.net/i.png\">" },
	{ "https://Example.COM:443/feed",
	    "<img src=\"//cdn.example.net/i.png\">",
	    "<img src=\"https://cdn.example.net/i.png\">" },
	{ "https://example.com/feed", "<img src=\"i.png\">",
	    "<img src=\"https://example.com/i.png\">" },
	{ "file:///home/u/feed.xml", "<img src=\"i.png\">",
	    "<img src=\"file:///home/u/i.png\">" },
	{ NULL, "<a href=\"x\">", NULL },
	{ "", "<a href=\"x\">", NULL },
	{ "/relative/base", "<a href=\"x\">", NULL },
	{ "not a url", "<a href=\"x\">", NULL },
};

/* The tags and attributes feedparser's RelativeURIResolver rewrites. */
static const char *const url_html_uris[][2] = {
	{ "a", "href" },
	{ "applet", "codebase" },
	{ "area", "href" },
	{ "audio", "src" },
	{ "blockquote", "cite" },
	{ "body", "background" },
	{ "del", "cite" },
	{ "form", "action" },
	{ "frame", "longdesc" },
	{ "frame", "src" },
	{ "iframe", "longdesc" },
	{ "iframe", "src" },
	{ "head", "profile" },
	{ "img", "longdesc" },
	{ "img", "src" },
	{ "img", "usemap" },
	{ "input", "src" },
	{ "input", "usemap" },
	{ "ins", "cite" },
	{ "link", "href" },
	{ "object", "classid" },
	{ "object", "codebase" },
	{ "object", "data" },
	{ "object", "usemap" },
	{ "q", "cite" },
	{ "script", "src" },
	{ "source", "src" },
	{ "video", "poster" },
	{ "video", "src" },
};

static void
url_html_run_cases(const struct url_html_case *cases, size_t n)
{
	const struct url_html_case *c;
	char *got;
	size_t i;
	int failed = 0;

	for (i = 0; i < n; i++) {
		c = &cases[i];
		got = url_resolve_html(c->in, c->base);
		if (!url_check(c->in, got, c->want))
			failed++;
		free(got);
	}
	assert_int_equal(failed, 0);
}

static void
test_url_html_corpus(void **state)
{
	(void)state;
	url_html_run_cases(url_html_corpus_cases,
	    sizeof url_html_corpus_cases / sizeof url_html_corpus_cases[0]);
}

static void
test_url_html_quoting(void **state)
{
	(void)state;
	url_html_run_cases(url_html_quoting_cases,
	    sizeof url_html_quoting_cases / sizeof url_html_quoting_cases[0]);
}

static void
test_url_html_attributes(void **state)
{
	(void)state;
	url_html_run_cases(url_html_attribute_cases,
	    sizeof url_html_attribute_cases /
		sizeof url_html_attribute_cases[0]);
}

static void
test_url_html_untouched(void **state)
{
	(void)state;
	url_html_run_cases(url_html_untouched_cases,
	    sizeof url_html_untouched_cases /
		sizeof url_html_untouched_cases[0]);
}

static void
test_url_html_malformed(void **state)
{
	(void)state;
	url_html_run_cases(url_html_malformed_cases,
	    sizeof url_html_malformed_cases /
		sizeof url_html_malformed_cases[0]);
}

static void
test_url_html_base(void **state)
{
	(void)state;
	url_html_run_cases(url_html_base_cases,
	    sizeof url_html_base_cases / sizeof url_html_base_cases[0]);
	assert_null(url_resolve_html(NULL, URL_HTML_BASE));
	assert_null(url_resolve_html(NULL, NULL));
}

/* Copy s to a buffer of size n, upper-cased. */
static char *
url_html_upper(char *buf, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i + 1 < n && s[i] != '\0'; i++)
		buf[i] = s[i] >= 'a' && s[i] <= 'z' ? s[i] - 'a' + 'A' : s[i];
	buf[i] = '\0';
	return buf;
}

/* Run in through url_resolve_html(): 1 if it gives want. */
static int
url_html_check_one(const char *in, const char *want)
{
	char *got;
	int ok;

	got = url_resolve_html(in, URL_HTML_BASE);
	ok = url_check(in, got, want);
	free(got);
	return ok;
}

/* Each URI attribute, lower and upper case; other tags keep theirs. */
static void
test_url_html_every_uri_attribute(void **state)
{
	const char *tag, *attr;
	char utag[16], uattr[16], in[128], want[128];
	size_t i;
	int failed = 0;

	(void)state;
	for (i = 0; i < sizeof url_html_uris / sizeof url_html_uris[0]; i++) {
		tag = url_html_uris[i][0];
		attr = url_html_uris[i][1];
		snprintf(in, sizeof in, "<p><%s class=x %s='r'>", tag, attr);
		snprintf(want, sizeof want,
		    "<p><%s class=x %s='http://example.com/d/r'>", tag, attr);
		failed += !url_html_check_one(in, want);

		url_html_upper(utag, sizeof utag, tag);
		url_html_upper(uattr, sizeof uattr, attr);
		snprintf(in, sizeof in, "<%s %s=\"r\" title=t/>", utag, uattr);
		snprintf(want, sizeof want,
		    "<%s %s=\"http://example.com/d/r\" title=t/>", utag, uattr);
		failed += !url_html_check_one(in, want);

		snprintf(in, sizeof in, "<span %s='r'><%sx %s='r'>", attr, tag,
		    attr);
		failed += !url_html_check_one(in, NULL);
	}
	assert_int_equal(failed, 0);
}

/* A resolved fragment is absolute: a second pass changes nothing. */
static void
test_url_html_is_idempotent(void **state)
{
	const struct url_html_case *c;
	char *again;
	size_t i;

	(void)state;
	for (i = 0; i <
	     sizeof url_html_quoting_cases / sizeof url_html_quoting_cases[0];
	     i++) {
		c = &url_html_quoting_cases[i];
		if (c->want == NULL)
			continue;
		again = url_resolve_html(c->want, "http://elsewhere.org/");
		if (again != NULL)
			print_error("%s: changed to %s\n", c->want, again);
		assert_null(again);
	}
}

#define URL_HTML_MB (1024 * 1024)

/* Fill a new 1 MB fragment with pattern, a tag every gap bytes. */
static char *
url_html_fill(const char *pattern, const char *tag, size_t gap)
{
	size_t plen = strlen(pattern), tlen = tag != NULL ? strlen(tag) : 0;
	size_t len = 0, next = gap;
	char *s;

	s = malloc(URL_HTML_MB + 1);
	assert_non_null(s);
	while (len + plen + tlen <= URL_HTML_MB) {
		if (tag != NULL && len >= next) {
			memcpy(s + len, tag, tlen);
			len += tlen;
			next += gap;
		}
		memcpy(s + len, pattern, plen);
		len += plen;
	}
	s[len] = '\0';
	return s;
}

/*
 * Seconds the fastest of rounds calls of url_resolve_html() on s takes:
 * the best round is the one other work on the machine disturbed least.
 */
static double
url_html_time(const char *s, int rounds)
{
	struct timespec t0, t1;
	double secs, best = 0;
	int i;

	for (i = 0; i < rounds; i++) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		free(url_resolve_html(s, URL_HTML_BASE));
		clock_gettime(CLOCK_MONOTONIC, &t1);
		secs =
		    (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
		if (i == 0 || secs < best)
			best = secs;
	}
	return best;
}

/* Print and return the MB/s url_resolve_html() runs at on s. */
static double
url_html_speed(const char *what, const char *s, int rounds)
{
	double secs, mbps;

	secs = url_html_time(s, rounds);
	mbps = strlen(s) / secs / 1e6;
	print_message("url_resolve_html: %s: %.1f ms, %.0f MB/s\n", what,
	    secs * 1e3, mbps);
	return mbps;
}

/* 1 MB of text with a few links: all found, the rest as it was, fast. */
static void
test_url_html_large(void **state)
{
	const char *link = "<a href=\"post/1.html?a=1&amp;b=2\">";
	const char *want =
	    "<a href=\"http://example.com/d/post/1.html?a=1&amp;b=2\">";
	char *in, *out, *p;
	size_t n = 0;

	(void)state;
	in = url_html_fill("Lorem ipsum dolor sit amet, consectetur "
			   "adipiscing elit &amp; sed do eiusmod. ",
	    link, 64 * 1024);
	out = url_resolve_html(in, URL_HTML_BASE);
	assert_non_null(out);
	for (p = out; (p = strstr(p, want)) != NULL; p++)
		n++;
	assert_int_equal(n, 15);
	assert_int_equal(
	    strlen(out), strlen(in) + n * (strlen(want) - strlen(link)));
	free(out);
	free(in);
}

/*
 * Inputs that would make a careless scanner go over the rest of the
 * fragment again at each '<' (minutes for 1 MB): one pass takes seconds
 * at most, even under the sanitizers on a busy machine.
 */
static void
test_url_html_linear(void **state)
{
	static const char *const patterns[] = {
		"<",
		"<a ",
		"<a",
		"<!",
		"<!--",
		"<![",
		"</",
		"<?",
		"<a x='",
		"<a x=\"\" ",
		"<script>",
		"<b>x</b>",
		"<a name='x'>",
		"<img alt=\"a.png\">",
		"&amp;<p>",
		"<!-->",
		"</x><style>",
	};
	char *in;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof patterns / sizeof patterns[0]; i++) {
		in = url_html_fill(patterns[i], NULL, 0);
		assert_true(url_html_speed(patterns[i], in, 1) > 0.1);
		free(in);
	}
}

/* url_canonical(): the canonical form, or NULL for no http(s) URL. */
struct url_canon_case {
	const char *in;
	const char *want; /* NULL: not an absolute http(s) URL */
};

#define URL_CANON_STORY \
	"https://example.com/news/big-story?page=2&section=world"

/* One syndicated story, as feeds, newsletters and shares link it. */
static const char *const url_canon_story_variants[] = {
	URL_CANON_STORY,
	"http://example.com/news/big-story?page=2&section=world",
	"https://www.example.com/news/big-story?page=2&section=world",
	"HTTPS://WWW.EXAMPLE.COM/news/big-story?page=2&section=world",
	"https://example.com:443/news/big-story?page=2&section=world",
	"http://example.com:80/news/big-story?page=2&section=world",
	"https://example.com/news/big-story?page=2&section=world#comments",
	"https://example.com/news/big-story?section=world&page=2",
	"https://example.com/news/big-story?utm_source=rss&utm_medium=feed"
	"&page=2&utm_campaign=daily&section=world",
	"https://example.com/news/big-story?page=2&section=world"
	"&fbclid=IwAR0xYz_123",
	"https://example.com/news/big-story?gclid=EAIaIQ&page=2&mc_cid=4f2"
	"&mc_eid=9a1&section=world",
	"https://example.com/amp/news/big-story?page=2&section=world",
	"https://example.com/news/big-story/amp?page=2&section=world",
	"https://example.com/news/big-story/amp/?page=2&section=world",
	"https://amp.example.com/news/big-story?page=2&section=world",
	"https://example.com/news/big-story?amp&page=2&section=world",
	"https://example.com/news/big-story?page=2&outputType=amp"
	"&section=world",
	"https://example.com/news/big-story/?page=2&section=world",
	"http://www.example.com:80/amp/news/big-story/?section=world"
	"&utm_campaign=x&page=2&ref=twitter#top",
	"  https://example.com/news/big-story?page=2&&section=world&\n",
	"https://example.com/news/./x/../big-story?page=2&section=world",
	"https://example.com/news/big%2Dstory?page=%32&section=world",
	"https://example.com/news/big-story?UTM_Source=x&page=2&FBCLID=y"
	"&section=world&CMP=z",
};

/* Links to other stories: each keeps a canonical form of its own. */
static const char *const url_canon_distinct[] = {
	URL_CANON_STORY,
	"https://example.com/news/big-story",
	"https://example.com/news/big-story?page=3&section=world",
	"https://example.com/news/big-story?page=2&section=sport",
	"https://example.com/news/Big-Story?page=2&section=world",
	"https://example.com/news/other-story?page=2&section=world",
	"https://example.com/blog/big-story?page=2&section=world",
	"https://news.example.com/news/big-story?page=2&section=world",
	"https://example.org/news/big-story?page=2&section=world",
	"https://example.com:8443/news/big-story?page=2&section=world",
	"https://example.com/article?id=1",
	"https://example.com/article?id=2",
	"https://example.com/article?ID=1",
	"https://example.com/article?id=1&id=2",
	"https://example.com/article?id=2&id=1",
	"https://example.com/article?id",
	"https://example.com/article?id=",
	"https://amp.dev/news/big-story",
};

static const struct url_canon_case url_canon_host_cases[] = {
	{ "https://Example.COM/x", "https://example.com/x" },
	{ "https://www.example.com/x", "https://example.com/x" },
	{ "https://amp.example.com/x", "https://example.com/x" },
	{ "https://www.amp.example.com/x", "https://example.com/x" },
	{ "https://amp.dev/x", "https://amp.dev/x" },
	{ "https://www.localhost/x", "https://www.localhost/x" },
	{ "https://wwwexample.com/x", "https://wwwexample.com/x" },
	{ "https://news.example.co.uk/x", "https://news.example.co.uk/x" },
	{ "https://www.news.example.co.uk/x", "https://news.example.co.uk/x" },
	{ "http://127.0.0.1:8080/x", "https://127.0.0.1:8080/x" },
	{ "http://[::1]/x", "https://[::1]/x" },
	{ "http://user@Example.com/x", "https://user@example.com/x" },
};

static const struct url_canon_case url_canon_port_cases[] = {
	{ "http://example.com/", "https://example.com/" },
	{ "http://example.com", "https://example.com/" },
	{ "HTTP://example.com:80/", "https://example.com/" },
	{ "https://example.com:443/", "https://example.com/" },
	{ "http://example.com:0080/", "https://example.com/" },
	{ "https://example.com:8080/", "https://example.com:8080/" },
	{ "http://example.com:8080/", "https://example.com:8080/" },
	/* 443 is the canonical scheme's; 80 is not https's. */
	{ "http://example.com:443/", "https://example.com/" },
	{ "https://example.com:80/", "https://example.com:80/" },
};

static const struct url_canon_case url_canon_path_cases[] = {
	{ "https://example.com/a/", "https://example.com/a" },
	{ "https://example.com/a//", "https://example.com/a" },
	{ "https://example.com/", "https://example.com/" },
	{ "https://example.com/a//b", "https://example.com/a//b" },
	{ "https://example.com/News/A", "https://example.com/News/A" },
	{ "https://example.com/a/./b/../c", "https://example.com/a/c" },
	{ "https://example.com/a b", "https://example.com/a%20b" },
	{ "https://example.com/%7euser/%41", "https://example.com/~user/A" },
	{ "https://example.com/caf%c3%a9", "https://example.com/caf%C3%A9" },
	{ "https://example.com/caf\xc3\xa9", "https://example.com/caf%C3%A9" },
	{ "https://example.com/a%2fb%3F", "https://example.com/a%2Fb%3F" },
	{ "https://example.com/a/%2e%2E/b", "https://example.com/a/%2E%2E/b" },
	{ "https://example.com/100%25/x%zz%4",
	    "https://example.com/100%25/x%zz%4" },
};

/* AMP pages, and what only looks like one. */
static const struct url_canon_case url_canon_amp_cases[] = {
	{ "https://example.com/amp/news/x", "https://example.com/news/x" },
	{ "https://example.com/news/x/amp/", "https://example.com/news/x" },
	{ "https://example.com/news/x/amp", "https://example.com/news/x" },
	{ "https://example.com/news/amp/x", "https://example.com/news/x" },
	{ "https://example.com/amp", "https://example.com/" },
	{ "https://example.com/amp/", "https://example.com/" },
	{ "https://example.com/x?amp", "https://example.com/x" },
	{ "https://example.com/x?amp=1", "https://example.com/x" },
	{ "https://example.com/x?outputType=amp", "https://example.com/x" },
	{ "https://example.com/x?outputtype=AMP", "https://example.com/x" },
	{ "https://example.com/x?outputType=html",
	    "https://example.com/x?outputType=html" },
	{ "https://example.com/AMP/x", "https://example.com/AMP/x" },
	{ "https://example.com/ampere/x.amp",
	    "https://example.com/ampere/x.amp" },
	{ "https://example.com/x?ampm=pm", "https://example.com/x?ampm=pm" },
};

static const struct url_canon_case url_canon_query_cases[] = {
	{ "https://example.com/x?b=2&a=1&c=3",
	    "https://example.com/x?a=1&b=2&c=3" },
	{ "https://example.com/x?b=2&a=3&a=1&b=1",
	    "https://example.com/x?a=3&a=1&b=2&b=1" },
	{ "https://example.com/x?B=1&a=2", "https://example.com/x?B=1&a=2" },
	{ "https://example.com/x?ab=1&a=2&a",
	    "https://example.com/x?a=2&a&ab=1" },
	{ "https://example.com/x?a&a=", "https://example.com/x?a&a=" },
	{ "https://example.com/x?", "https://example.com/x" },
	{ "https://example.com/x?&&", "https://example.com/x" },
	{ "https://example.com/x?=1&b", "https://example.com/x?=1&b" },
	{ "https://example.com/x?q=a b&r=a+b",
	    "https://example.com/x?q=a+b&r=a+b" },
	{ "https://example.com/x?q=%7e%2f%c3%a9",
	    "https://example.com/x?q=~%2F%C3%A9" },
	{ "https://example.com/x?q=a%26b%3Dc&p=1",
	    "https://example.com/x?p=1&q=a%26b%3Dc" },
	{ "https://example.com/x?utm_source=a&utm_medium=b&utm_campaign=c"
	  "&utm_term=d&utm_content=e&utm_id=f&utm_whatever=g",
	    "https://example.com/x" },
	{ "https://example.com/x?fbclid=1&gclid=2&dclid=3&msclkid=4"
	  "&mc_cid=5&mc_eid=6&ref=7&ref_src=8&cmpid=9&_ga=10&igshid=11"
	  "&yclid=12&spm=13&s_cid=14&ncid=15&ocid=16&cmp=17&at_medium=18"
	  "&at_campaign=19&id=20",
	    "https://example.com/x?id=20" },
	{ "https://example.com/x?UTM_SOURCE=a&Fbclid=b&CMP=c&Ref=d&id=1",
	    "https://example.com/x?id=1" },
	{ "https://example.com/x?utm%5Fsource=a&%66bclid=b&id=1",
	    "https://example.com/x?id=1" },
	{ "https://example.com/x?utm=1&utmsource=2&reference=3&refs&cmp2=4",
	    "https://example.com/x?cmp2=4&reference=3&refs&utm=1&utmsource=2" },
	{ "https://example.com/x?ref", "https://example.com/x" },
	{ "https://example.com/x?id=1#frag", "https://example.com/x?id=1" },
	{ "https://example.com/x#", "https://example.com/x" },
};

static const struct url_canon_case url_canon_refused_cases[] = {
	{ NULL, NULL },
	{ "", NULL },
	{ " \t\n", NULL },
	{ "/news/x", NULL },
	{ "news/x", NULL },
	{ "//example.com/x", NULL },
	{ "example.com/x", NULL },
	{ "#frag", NULL },
	{ "https://", NULL },
	{ "http://exa mple.com/", NULL },
	{ "http://example.com:99999/", NULL },
	{ "ftp://example.com/x", NULL },
	{ "gopher://example.org/1/", NULL },
	{ "file:///tmp/x", NULL },
	{ "mailto:someone@example.com", NULL },
	{ "javascript:alert(1)", NULL },
	{ "feed://example.com/rss", NULL },
};

static int
url_canon_check(const char *in, const char *const *extra, const char *want)
{
	char *got;
	int ok;

	got = url_canonical(in, extra);
	ok = url_check(in ? in : "(null)", got, want);
	free(got);
	return ok;
}

static void
url_canon_run_cases(const struct url_canon_case *cases, size_t n)
{
	size_t i;
	int failed = 0;

	for (i = 0; i < n; i++)
		failed += !url_canon_check(cases[i].in, NULL, cases[i].want);
	assert_int_equal(failed, 0);
}

#define URL_CANON_RUN(cases) \
	url_canon_run_cases(cases, sizeof cases / sizeof cases[0])

/* Twenty-odd links to one story come to one string. */
static void
test_url_canonical_syndicated(void **state)
{
	size_t i;
	int failed = 0;

	(void)state;
	for (i = 0; i < sizeof url_canon_story_variants /
		 sizeof url_canon_story_variants[0];
	     i++) {
		failed += !url_canon_check(
		    url_canon_story_variants[i], NULL, URL_CANON_STORY);
	}
	assert_int_equal(failed, 0);
}

/* Different stories, ids or path case: no two canonical forms agree. */
static void
test_url_canonical_distinct(void **state)
{
	enum { N = sizeof url_canon_distinct / sizeof url_canon_distinct[0] };
	char *got[N];
	size_t i, j;
	int failed = 0;

	(void)state;
	for (i = 0; i < N; i++) {
		got[i] = url_canonical(url_canon_distinct[i], NULL);
		assert_non_null(got[i]);
	}
	for (i = 0; i < N; i++) {
		for (j = i + 1; j < N; j++) {
			if (strcmp(got[i], got[j]) != 0)
				continue;
			print_error("%s and %s: both %s\n",
			    url_canon_distinct[i], url_canon_distinct[j],
			    got[i]);
			failed++;
		}
	}
	for (i = 0; i < N; i++)
		free(got[i]);
	assert_int_equal(failed, 0);
}

static void
test_url_canonical_host(void **state)
{
	(void)state;
	URL_CANON_RUN(url_canon_host_cases);
}

static void
test_url_canonical_scheme_and_port(void **state)
{
	(void)state;
	URL_CANON_RUN(url_canon_port_cases);
}

static void
test_url_canonical_path(void **state)
{
	(void)state;
	URL_CANON_RUN(url_canon_path_cases);
}

static void
test_url_canonical_amp(void **state)
{
	(void)state;
	URL_CANON_RUN(url_canon_amp_cases);
}

static void
test_url_canonical_query(void **state)
{
	(void)state;
	URL_CANON_RUN(url_canon_query_cases);
}

static void
test_url_canonical_refused(void **state)
{
	char *in, *got;

	(void)state;
	URL_CANON_RUN(url_canon_refused_cases);

	/* 64 KiB of link is accepted, a byte more is not. */
	in = malloc(64 * 1024 + 2);
	assert_non_null(in);
	memcpy(in, "https://example.com/", 20);
	memset(in + 20, 'a', 64 * 1024 - 20);
	in[64 * 1024] = '\0';
	got = url_canonical(in, NULL);
	assert_non_null(got);
	assert_string_equal(got, in);
	free(got);
	in[64 * 1024] = 'a';
	in[64 * 1024 + 1] = '\0';
	assert_null(url_canonical(in, NULL));
	free(in);
}

/* The configured list drops more parameters, by name, case folded. */
static void
test_url_canonical_extra(void **state)
{
	static const char *const src[] = { "src", NULL };
	static const char *const two[] = { "SRC", "via", NULL };
	static const char *const none[] = { NULL };
	int failed = 0;

	(void)state;
	failed += !url_canon_check(
	    "https://example.com/x?src=rss", src, "https://example.com/x");
	failed += !url_canon_check("https://example.com/x?id=1&src=rss&Src",
	    src, "https://example.com/x?id=1");
	failed += !url_canon_check("https://example.com/x?srcset=1&src2=2", src,
	    "https://example.com/x?src2=2&srcset=1");
	failed += !url_canon_check(
	    "https://example.com/x?via=tw&src=rss&utm_source=a&id=1", two,
	    "https://example.com/x?id=1");
	failed += !url_canon_check("https://example.com/x?src=rss", none,
	    "https://example.com/x?src=rss");
	failed += !url_canon_check("https://example.com/x?src=rss", NULL,
	    "https://example.com/x?src=rss");
	failed += !url_canon_check("ftp://example.com/x?src=rss", src, NULL);
	assert_int_equal(failed, 0);
}

/* A canonical form is its own canonical form. */
static void
test_url_canonical_is_idempotent(void **state)
{
	static const struct {
		const struct url_canon_case *cases;
		size_t n;
	} tables[] = {
#define URL_CANON_TABLE(t) { t, sizeof t / sizeof t[0] }
		URL_CANON_TABLE(url_canon_host_cases),
		URL_CANON_TABLE(url_canon_port_cases),
		URL_CANON_TABLE(url_canon_path_cases),
		URL_CANON_TABLE(url_canon_amp_cases),
		URL_CANON_TABLE(url_canon_query_cases),
#undef URL_CANON_TABLE
	};
	size_t i, j;
	int failed = 0;

	(void)state;
	for (i = 0; i < sizeof tables / sizeof tables[0]; i++) {
		for (j = 0; j < tables[i].n; j++) {
			failed += !url_canon_check(tables[i].cases[j].want,
			    NULL, tables[i].cases[j].want);
		}
	}
	assert_int_equal(failed, 0);
}

static int
url_setup(void **state)
{
	(void)state;
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

static int
url_teardown(void **state)
{
	(void)state;
	curl_global_cleanup();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_rfc3986),
		cmocka_unit_test(test_url_feed_links),
		cmocka_unit_test(test_url_file),
		cmocka_unit_test(test_url_refused),
		cmocka_unit_test(test_url_host),
		cmocka_unit_test(test_url_resolve_is_idempotent),
		cmocka_unit_test(test_url_html_corpus),
		cmocka_unit_test(test_url_html_quoting),
		cmocka_unit_test(test_url_html_attributes),
		cmocka_unit_test(test_url_html_untouched),
		cmocka_unit_test(test_url_html_malformed),
		cmocka_unit_test(test_url_html_base),
		cmocka_unit_test(test_url_html_every_uri_attribute),
		cmocka_unit_test(test_url_html_is_idempotent),
		cmocka_unit_test(test_url_html_large),
		cmocka_unit_test(test_url_html_linear),
		cmocka_unit_test(test_url_canonical_syndicated),
		cmocka_unit_test(test_url_canonical_distinct),
		cmocka_unit_test(test_url_canonical_host),
		cmocka_unit_test(test_url_canonical_scheme_and_port),
		cmocka_unit_test(test_url_canonical_path),
		cmocka_unit_test(test_url_canonical_amp),
		cmocka_unit_test(test_url_canonical_query),
		cmocka_unit_test(test_url_canonical_refused),
		cmocka_unit_test(test_url_canonical_extra),
		cmocka_unit_test(test_url_canonical_is_idempotent),
	};

	return cmocka_run_group_tests(tests, url_setup, url_teardown);
}
