#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* cmocka.h needs the standard headers above. */
#include <cmocka.h>

#include "discover.h"

/* Discovery: which <link>s of a page are feeds, made absolute. */

#define BASE "https://news.example.org/world/index.html"

struct discover_case {
	const char *html;
	const char *want[4]; /* "URL TYPE TITLE", title "-" when none */
};

static const struct discover_case cases[] = {
	{ "<!DOCTYPE html><html><head><title>News</title>"
	  "<link rel=\"stylesheet\" href=\"/s.css\">"
	  "<link rel=\"alternate\" type=\"application/rss+xml\" "
	  "title=\"  World \n RSS \" href=\"rss.xml\">"
	  "<link rel=\"alternate\" type=\"application/atom+xml\" "
	  "href=\"//feeds.example.org/world.atom\">"
	  "<link rel=\"alternate\" type=\"text/html\" hreflang=\"fr\" "
	  "href=\"/fr/\">"
	  "</head><body><p>x</p></body></html>",
	    { "https://news.example.org/world/rss.xml application/rss+xml "
	      "World RSS",
		"https://feeds.example.org/world.atom application/atom+xml -" } },
	/* Any case, more rel tokens, parameters after the type. */
	{ "<HEAD><LINK REL=\"Feed ALTERNATE\" "
	  "TYPE=\"Application/RSS+XML; charset=utf-8\" HREF=\"/a\"></HEAD>",
	    { "https://news.example.org/a application/rss+xml -" } },
	/* WordPress: its REST API is "alternate" JSON beside the feeds. */
	{ "<head><link rel=\"alternate\" type=\"application/json\" "
	  "href=\"/wp-json/wp/v2/pages/2\">"
	  "<link rel=\"alternate\" type=\"application/rss+xml\" "
	  "title=\"Feed\" href=\"/feed/\">"
	  "<link rel=\"alternate\" type=\"application/rss+xml\" "
	  "title=\"Comments Feed\" href=\"/comments/feed/\"></head>",
	    { "https://news.example.org/feed/ application/rss+xml Feed",
		"https://news.example.org/comments/feed/ application/rss+xml "
		"Comments Feed" } },
	/* Plain JSON alone counts: a JSON Feed announced loosely. */
	{ "<head><link rel=\"alternate\" type=\"application/json\" "
	  "href=\"feed.json\"></head>",
	    { "https://news.example.org/world/feed.json application/json -" } },
	{ "<head><link rel=\"alternate\" type=\"application/json\" "
	  "href=\"feed.json\"><link rel=alternate "
	  "type=application/feed+json href=feed2.json></head>",
	    { "https://news.example.org/world/feed2.json "
	      "application/feed+json -" } },
	/* <base href>; the same feed twice; a link in the body. */
	{ "<head><base href=\"https://cdn.example.net/x/\">"
	  "<link rel=alternate type=application/atom+xml href=a.atom>"
	  "<link rel=alternate type=application/atom+xml "
	  "href=https://cdn.example.net/x/a.atom></head>"
	  "<body><div><link rel=alternate type=application/rss+xml "
	  "href=b.rss></div></body>",
	    { "https://cdn.example.net/x/a.atom application/atom+xml -",
		"https://cdn.example.net/x/b.rss application/rss+xml -" } },
	/* Links a fetch must not follow from a web page. */
	{ "<link rel=alternate type=application/rss+xml "
	  "href=\"javascript:alert(1)\">"
	  "<link rel=alternate type=application/rss+xml "
	  "href=\"file:///etc/passwd\">"
	  "<link rel=alternate type=application/rss+xml>"
	  "<link rel=alternate href=/no-type>",
	    { NULL } },
	{ "<html><body><p>No feeds here.</p></body></html>", { NULL } },
	{ "", { NULL } },
	{ "\x00\x01 not html at all", { NULL } },
};

static void
test_discover_links(void **state)
{
	struct discover_link *links;
	char got[512];
	size_t n, j;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		n = discover_links(
		    cases[i].html, strlen(cases[i].html), BASE, &links);
		for (j = 0; j < n && cases[i].want[j] != NULL; j++) {
			snprintf(got, sizeof got, "%s %s %s", links[j].url,
			    links[j].type,
			    links[j].title != NULL ? links[j].title : "-");
			if (strcmp(got, cases[i].want[j]) != 0)
				fail_msg("case %zu, link %zu: got \"%s\", want "
					 "\"%s\"",
				    i, j, got, cases[i].want[j]);
		}
		if (j != n || cases[i].want[j] != NULL)
			fail_msg("case %zu: %zu links", i, n);
		discover_free(links, n);
	}
}

/* A page of many links gives DISCOVER_MAX_LINKS, no more. */
static void
test_discover_bounded(void **state)
{
	struct discover_link *links;
	char *html, *p;
	size_t n, cap = 200 * 80;

	(void)state;
	html = p = malloc(cap);
	assert_non_null(html);
	for (int i = 0; i < 200; i++)
		p += snprintf(p, cap - (size_t)(p - html),
		    "<link rel=alternate type=application/rss+xml href=/f%d>",
		    i);
	n = discover_links(html, strlen(html), BASE, &links);
	assert_int_equal(n, DISCOVER_MAX_LINKS);
	assert_string_equal(links[0].url, "https://news.example.org/f0");
	discover_free(links, n);
	free(html);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_discover_links),
		cmocka_unit_test(test_discover_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
