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

/* url_resolve() and url_host(): tables of links as feeds write them. */

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
	{ NULL, "https://example.com/a/./b/../c", "https://example.com/a/c" },
	{ NULL, "HTTPS://Example.COM/Path", "https://example.com/Path" },
	{ NULL, "http://example.com:80/", "http://example.com/" },
	{ NULL, "https://example.com:8443/", "https://example.com:8443/" },
	{ NULL, "https://example.com", "https://example.com/" },
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
	};

	return cmocka_run_group_tests(tests, url_setup, url_teardown);
}
