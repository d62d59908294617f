#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* cmocka.h needs the four headers above it. */
#include <cmocka.h>

#include <curl/curl.h>

#include "url.h"

/*
 * url_resolve(), url_host(), url_resolve_html_attr() and
 * url_canonical(): tables of links as feeds write them.
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

/*
 * url_resolve() answers an absolute-path reference against a plain base
 * without a URL handle: whatever it answers must be what libcurl itself
 * answers, asked here directly with the flags url.c uses.
 */
static const char *const url_path_bases[] = {
	"https://example.com/dir/page.html",
	"http://news.example.org",
	"https://a-b.example.net/x?y#z",
	"http://example.com:8080/a/",
	"https://Example.COM/a",
	"HTTPS://example.com/a",
	"https://example.com/a b",
};

static const char *const url_path_refs[] = {
	"/",
	"/world/671795",
	"/a/b?c=d&e=f",
	"/a#frag",
	"/a?q#frag",
	"/a%20b",
	"/a%zz",
	"/a/./b",
	"/a/../b",
	"/.well-known/x",
	"/a?",
	"/a#",
	"/a?#",
	"/~user/",
	"/a;b=c",
	"/a:b@c",
	"/a!$'()*+,;=",
	"/a b",
	"/\xc3\xa9t\xc3\xa9",
	"/a|b",
	"/a\\b",
	"//other.example/a",
	"/a//b",
	"/a?b=/../c",
};

static char *
url_curl_resolve(const char *base, const char *ref)
{
	CURLU *h = curl_url();
	char *s, *out = NULL;

	assert_non_null(h);
	if (curl_url_set(h, CURLUPART_URL, base,
		CURLU_NON_SUPPORT_SCHEME | CURLU_URLENCODE) == CURLUE_OK &&
	    curl_url_set(h, CURLUPART_URL, ref,
		CURLU_NON_SUPPORT_SCHEME | CURLU_URLENCODE) == CURLUE_OK &&
	    curl_url_get(h, CURLUPART_URL, &s, CURLU_NO_DEFAULT_PORT) ==
		CURLUE_OK) {
		out = strdup(s);
		curl_free(s);
	}
	curl_url_cleanup(h);
	return out;
}

/* Lower-case the host of u, as url.c does after curl. */
static void
url_lower_host(char *u)
{
	char *q = strstr(u, "://");

	for (q = q != NULL ? q + 3 : u;
	     *q != '\0' && strchr(":/?#", *q) == NULL; q++) {
		if (*q >= 'A' && *q <= 'Z')
			*q = (char)(*q - 'A' + 'a');
	}
}

static void
test_url_resolve_path_agrees_with_curl(void **state)
{
	char what[512], *got, *want;
	int failed = 0;

	(void)state;
	for (size_t i = 0; i < sizeof url_path_bases / sizeof *url_path_bases;
	     i++) {
		for (size_t j = 0;
		     j < sizeof url_path_refs / sizeof *url_path_refs; j++) {
			got = url_resolve(url_path_bases[i], url_path_refs[j]);
			want = url_curl_resolve(
			    url_path_bases[i], url_path_refs[j]);
			if (want != NULL)
				url_lower_host(want);
			snprintf(what, sizeof what, "\"%s\" + \"%s\"",
			    url_path_bases[i], url_path_refs[j]);
			if (!url_check(what, got, want))
				failed++;
			free(got);
			free(want);
		}
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

/* url_resolve_html_attr(): the value, or NULL when it stays as it is. */
struct url_attr_case {
	const char *base;
	const char *value; /* an a href's, its references decoded */
	const char *want;  /* NULL: it stays */
};

#define URL_HTML_BASE "http://example.com/d/p.html"
/* One base with a path, a query and a fragment, and references to it. */
#define URL_HTML_RICH "http://example.com/a/b/page.html?x=1&y=2#top"

static const struct url_attr_case url_attr_cases[] = {
	{ URL_HTML_RICH, "c.html", "http://example.com/a/b/c.html" },
	{ URL_HTML_RICH, "./c/", "http://example.com/a/b/c/" },
	{ URL_HTML_RICH, "../c", "http://example.com/a/c" },
	{ URL_HTML_RICH, "../../../c", "http://example.com/c" },
	{ URL_HTML_RICH, "/root", "http://example.com/root" },
	{ URL_HTML_RICH, "?z=3", "http://example.com/a/b/page.html?z=3" },
	{ URL_HTML_RICH, "#s", "http://example.com/a/b/page.html?x=1&y=2#s" },
	/* RFC 3986 5.2.2: "" is the base without its fragment. */
	{ URL_HTML_RICH, "", "http://example.com/a/b/page.html?x=1&y=2" },
	{ URL_HTML_RICH, " \n ", "http://example.com/a/b/page.html?x=1&y=2" },
	{ URL_HTML_RICH, "//cdn.example.net/i.png",
	    "http://cdn.example.net/i.png" },
	{ "https://Example.COM:443/feed", "//cdn.example.net/i.png",
	    "https://cdn.example.net/i.png" },
	{ "https://example.com/feed", "i.png", "https://example.com/i.png" },
	{ "file:///home/u/feed.xml", "i.png", "file:///home/u/i.png" },
	{ URL_HTML_BASE, " \n x.html\n\t", "http://example.com/d/x.html" },
	{ URL_HTML_BASE, "p?a=1&b=2", "http://example.com/d/p?a=1&b=2" },
	{ URL_HTML_BASE, "a b.html", "http://example.com/d/a%20b.html" },
	{ URL_HTML_BASE, "caf\xc3\xa9.html",
	    "http://example.com/d/caf%c3%a9.html" },
	/* With a scheme: as written, whichever. */
	{ URL_HTML_BASE, "https://other.org/x", NULL },
	{ URL_HTML_BASE, "HTTP://Other.ORG/a b", NULL },
	{ URL_HTML_BASE, "  http://other.org/", NULL },
	{ URL_HTML_BASE, "mailto:me@example.com", NULL },
	{ URL_HTML_BASE, "javascript:alert('x')", NULL },
	{ URL_HTML_BASE, "data:image/png;base64,iVBORw0KGgo=", NULL },
	/* No absolute URL comes of these bases. */
	{ NULL, "x", NULL },
	{ "", "x", NULL },
	{ "/relative/base", "x", NULL },
	{ "not a url", "x", NULL },
	{ "javascript:alert('unsafe')", "test.html", NULL },
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
test_url_resolve_html_attr(void **state)
{
	const struct url_attr_case *c;
	char *got;
	int failed = 0;

	(void)state;
	for (size_t i = 0; i < sizeof url_attr_cases / sizeof url_attr_cases[0];
	     i++) {
		c = &url_attr_cases[i];
		got = url_resolve_html_attr("a", "href", c->value, c->base);
		if (!url_check(c->value, got, c->want))
			failed++;
		free(got);
	}
	assert_int_equal(failed, 0);
}

/* Each URI attribute, in any case; other attributes and tags not. */
static void
test_url_resolve_html_attr_which(void **state)
{
	static const char *const upper[][2] = { { "A", "HREF" },
		{ "Img", "Src" } };
	const char *tag, *attr;
	char *got;
	int failed = 0;

	(void)state;
	for (size_t i = 0; i < sizeof url_html_uris / sizeof url_html_uris[0];
	     i++) {
		tag = url_html_uris[i][0];
		attr = url_html_uris[i][1];
		got = url_resolve_html_attr(tag, attr, "r", URL_HTML_BASE);
		failed += !url_check(attr, got, "http://example.com/d/r");
		free(got);
		got = url_resolve_html_attr("span", attr, "r", URL_HTML_BASE);
		failed += !url_check(attr, got, NULL);
		free(got);
		got = url_resolve_html_attr(tag, "title", "r", URL_HTML_BASE);
		failed += !url_check(tag, got, NULL);
		free(got);
	}
	for (size_t i = 0; i < sizeof upper / sizeof upper[0]; i++) {
		got = url_resolve_html_attr(
		    upper[i][0], upper[i][1], "r", URL_HTML_BASE);
		failed +=
		    !url_check(upper[i][0], got, "http://example.com/d/r");
		free(got);
	}
	assert_int_equal(failed, 0);
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

/*
 * A local feed's path as a file:// URL: what a URL cannot hold as it is
 * is percent-encoded, so that libcurl reads the path back whole (a
 * space, '#' or '?' cut it before).
 */
static void
test_url_from_path(void **state)
{
	static const struct {
		const char *path, *want;
	} cases[] = {
		{ "/srv/feeds/world.atom", "file:///srv/feeds/world.atom" },
		{ "/tmp/sub dir/w #1.atom",
		    "file:///tmp/sub%20dir/w%20%231.atom" },
		{ "/a/\xc3\xbc/100%.xml?x", "file:///a/%C3%BC/100%25.xml%3Fx" },
		{ "/a-b_c.d~e/f+g@h", "file:///a-b_c.d~e/f+g@h" },
	};
	char *got;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		got = url_from_path(cases[i].path);
		assert_string_equal(got, cases[i].want);
		free(got);
	}
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
		cmocka_unit_test(test_url_resolve_path_agrees_with_curl),
		cmocka_unit_test(test_url_resolve_is_idempotent),
		cmocka_unit_test(test_url_resolve_html_attr),
		cmocka_unit_test(test_url_resolve_html_attr_which),
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
		cmocka_unit_test(test_url_from_path),
	};

	return cmocka_run_group_tests(tests, url_setup, url_teardown);
}
