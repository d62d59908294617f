#ifndef FEEDWATCH_DISCOVER_H
#define FEEDWATCH_DISCOVER_H

#include <stddef.h>

/*
 * Feed discovery: the feeds an HTML page announces in its head, as
 * <link rel="alternate" type="application/rss+xml" href="...">, read
 * with libxml2's HTML parser (no network).
 */

#define DISCOVER_MAX_LINKS 64

struct discover_link {
	char *url;   /* absolute */
	char *type;  /* lower case, without parameters */
	char *title; /* white space squeezed, NULL = none */
};

/*
 * Find the feeds a page links to, in the page's order and each URL once;
 * base is the page's URL, which a <base href> in the page overrides.
 * RSS, Atom and JSON Feed types count, and plain application/json only
 * when the page announces none of those (WordPress announces its REST
 * API so). Set *links to an array the caller frees with discover_free
 * and return its length, 0 to DISCOVER_MAX_LINKS. Cannot fail.
 */
size_t discover_links(const char *html, size_t len, const char *base,
    struct discover_link **links);
void discover_free(struct discover_link *, size_t);

#endif
