#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include "discover.h"
#include "text.h"
#include "url.h"
#include "xmalloc.h"

/*
 * Discovery: parse the page with libxml2's HTML parser (which recovers
 * from anything), walk it without recursion, and keep each <link> whose
 * rel has "alternate" and whose type is a feed's.
 */

/* The types a feed is announced with, sorted for bsearch. */
static const char *discover_types[] = {
	"application/atom+xml",
	"application/feed+json",
	"application/json",
	"application/rss+xml",
};

#define DISCOVER_JSON "application/json"

struct discover {
	struct discover_link *v;
	size_t n;
	char *base; /* <base href>, resolved, or the page's URL */
};

static int
discover_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static char *
discover_attr(xmlNodePtr n, const char *name)
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
	char *s;

	if (v == NULL)
		return NULL;
	s = xstrdup((const char *)v);
	xmlFree(v);
	return s;
}

/* Whether a rel attribute holds the token "alternate", in any case. */
static int
discover_is_alternate(const char *rel)
{
	const char *sep = " \t\n\f\r";
	size_t len;

	for (; *rel != '\0'; rel += len) {
		rel += strspn(rel, sep);
		len = strcspn(rel, sep);
		if (len == 9 && strncasecmp(rel, "alternate", 9) == 0)
			return 1;
	}
	return 0;
}

/* A feed's type, lower case without parameters; NULL when it is none. */
static char *
discover_type(const char *type)
{
	const char *key;
	char *t;
	size_t len;

	type += strspn(type, " \t");
	len = strcspn(type, "; \t");
	t = xstrndup(type, len);
	for (char *s = t; *s != '\0'; s++)
		*s = (char)tolower((unsigned char)*s);
	key = t;
	if (bsearch(&key, discover_types,
		sizeof discover_types / sizeof discover_types[0],
		sizeof discover_types[0], discover_cmp) == NULL) {
		free(t);
		return NULL;
	}
	return t;
}

/* A link the CLI may follow: http(s), or the page's own scheme (file). */
static int
discover_is_followed(const char *url, const char *base)
{
	size_t len = strcspn(url, ":");

	if (url[len] != ':')
		return 0;
	if ((len == 4 && strncasecmp(url, "http", 4) == 0) ||
	    (len == 5 && strncasecmp(url, "https", 5) == 0))
		return 1;
	return base != NULL && strncasecmp(url, base, len + 1) == 0;
}

static int
discover_has(const struct discover *d, const char *url)
{
	for (size_t i = 0; i < d->n; i++) {
		if (strcmp(d->v[i].url, url) == 0)
			return 1;
	}
	return 0;
}

static char *
discover_title(xmlNodePtr n)
{
	char *v, *title;

	if ((v = discover_attr(n, "title")) == NULL)
		return NULL;
	title = text_squeeze(v);
	free(v);
	if (*title == '\0') {
		free(title);
		return NULL;
	}
	return title;
}

/* A <link>: kept when it announces a feed we have not seen. */
static void
discover_add(struct discover *d, xmlNodePtr n)
{
	struct discover_link *l;
	char *rel, *t, *href, *type = NULL, *url = NULL;

	if (d->n >= DISCOVER_MAX_LINKS)
		return;
	rel = discover_attr(n, "rel");
	t = discover_attr(n, "type");
	href = discover_attr(n, "href");
	if (rel != NULL && t != NULL && href != NULL &&
	    discover_is_alternate(rel) && (type = discover_type(t)) != NULL)
		url = url_resolve(d->base, href);
	free(rel);
	free(t);
	free(href);
	if (url == NULL || !discover_is_followed(url, d->base) ||
	    discover_has(d, url)) {
		free(type);
		free(url);
		return;
	}
	d->v = xreallocarray(d->v, d->n + 1, sizeof *d->v);
	l = &d->v[d->n++];
	l->url = url;
	l->type = type;
	l->title = discover_title(n);
}

/* The document's <base href>, when it has one, resolved against base. */
static void
discover_base(struct discover *d, xmlNodePtr n)
{
	char *href, *url;

	if ((href = discover_attr(n, "href")) == NULL)
		return;
	if ((url = url_resolve(d->base, href)) != NULL) {
		free(d->base);
		d->base = url;
	}
	free(href);
}

/* Every element in document order, without recursion. */
static void
discover_walk(struct discover *d, xmlNodePtr root)
{
	xmlNodePtr n = root;
	int has_base = 0;

	while (n != NULL) {
		if (n->type == XML_ELEMENT_NODE) {
			if (!has_base &&
			    strcmp((const char *)n->name, "base") == 0) {
				discover_base(d, n);
				has_base = 1;
			} else if (strcmp((const char *)n->name, "link") == 0)
				discover_add(d, n);
		}
		if (n->type == XML_ELEMENT_NODE && n->children != NULL) {
			n = n->children;
			continue;
		}
		while (n != NULL && n != root && n->next == NULL)
			n = n->parent;
		if (n == NULL || n == root)
			break;
		n = n->next;
	}
}

/* Drop plain JSON links when the page announces a real feed type. */
static void
discover_drop_json(struct discover *d)
{
	size_t i, j;

	for (i = 0; i < d->n; i++) {
		if (strcmp(d->v[i].type, DISCOVER_JSON) != 0)
			break;
	}
	if (i == d->n)
		return;
	for (i = j = 0; i < d->n; i++) {
		if (strcmp(d->v[i].type, DISCOVER_JSON) == 0) {
			free(d->v[i].url);
			free(d->v[i].type);
			free(d->v[i].title);
		} else
			d->v[j++] = d->v[i];
	}
	d->n = j;
}

size_t
discover_links(const char *html, size_t len, const char *base,
    struct discover_link **links)
{
	struct discover d;
	htmlDocPtr doc;

	memset(&d, 0, sizeof d);
	*links = NULL;
	if (len == 0 || len > INT_MAX)
		return 0;
	d.base = base != NULL ? xstrdup(base) : NULL;
	doc = htmlReadMemory(html, (int)len, base, NULL,
	    HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
		HTML_PARSE_NONET);
	if (doc != NULL && xmlDocGetRootElement(doc) != NULL)
		discover_walk(&d, xmlDocGetRootElement(doc));
	xmlFreeDoc(doc);
	free(d.base);
	discover_drop_json(&d);
	*links = d.v;
	return d.n;
}

void
discover_free(struct discover_link *links, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(links[i].url);
		free(links[i].type);
		free(links[i].title);
	}
	free(links);
}
