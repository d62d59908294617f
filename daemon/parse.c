#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>
#include <libxml/xmlreader.h>

#include "date.h"
#include "feed.h"
#include "parse.h"
#include "text.h"
#include "url.h"
#include "xmalloc.h"

/*
 * Parsing: xmlTextReader walks the document; each item or entry is
 * expanded into a small tree, read through parse_rules and skipped, so
 * no more than one entry's tree is held at a time.
 */

#define PARSE_XML_OPTIONS                                          \
	(XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_COMPACT | \
	    XML_PARSE_NOWARNING)
#define PARSE_MAX_ERRORS 20

enum parse_family {
	FAMILY_OTHER,
	FAMILY_RSS,  /* no namespace, RSS 1.0 or RSS 0.90 */
	FAMILY_ATOM, /* Atom 1.0 or 0.3 */
	FAMILY_CONTENT,
	FAMILY_DC,
};

enum parse_field {
	FIELD_ID,
	FIELD_TITLE,
	FIELD_LINK,
	FIELD_SUMMARY,
	FIELD_CONTENT,
	FIELD_AUTHOR,
	FIELD_PUBLISHED,
	FIELD_UPDATED,
	FIELD_DESCRIPTION,
	FIELD_LANGUAGE,
};

struct parse_rule {
	enum parse_family family;
	const char *name;
	enum parse_field field;
};

/* What an item or entry's children mean. */
static const struct parse_rule parse_entry_rules[] = {
	{ FAMILY_RSS, "title", FIELD_TITLE },
	{ FAMILY_RSS, "link", FIELD_LINK },
	{ FAMILY_RSS, "guid", FIELD_ID },
	{ FAMILY_RSS, "description", FIELD_SUMMARY },
	{ FAMILY_RSS, "pubDate", FIELD_PUBLISHED },
	{ FAMILY_RSS, "author", FIELD_AUTHOR },
	{ FAMILY_ATOM, "title", FIELD_TITLE },
	{ FAMILY_ATOM, "link", FIELD_LINK },
	{ FAMILY_ATOM, "id", FIELD_ID },
	{ FAMILY_ATOM, "summary", FIELD_SUMMARY },
	{ FAMILY_ATOM, "content", FIELD_CONTENT },
	{ FAMILY_ATOM, "published", FIELD_PUBLISHED },
	{ FAMILY_ATOM, "issued", FIELD_PUBLISHED },
	{ FAMILY_ATOM, "updated", FIELD_UPDATED },
	{ FAMILY_ATOM, "modified", FIELD_UPDATED },
	{ FAMILY_ATOM, "author", FIELD_AUTHOR },
	{ FAMILY_CONTENT, "encoded", FIELD_CONTENT },
	{ FAMILY_DC, "date", FIELD_PUBLISHED },
	{ FAMILY_DC, "creator", FIELD_AUTHOR },
};

/* What the children of a channel or feed mean. */
static const struct parse_rule parse_feed_rules[] = {
	{ FAMILY_RSS, "title", FIELD_TITLE },
	{ FAMILY_RSS, "link", FIELD_LINK },
	{ FAMILY_RSS, "description", FIELD_DESCRIPTION },
	{ FAMILY_RSS, "language", FIELD_LANGUAGE },
	{ FAMILY_RSS, "lastBuildDate", FIELD_UPDATED },
	{ FAMILY_RSS, "pubDate", FIELD_UPDATED },
	{ FAMILY_ATOM, "title", FIELD_TITLE },
	{ FAMILY_ATOM, "link", FIELD_LINK },
	{ FAMILY_ATOM, "subtitle", FIELD_DESCRIPTION },
	{ FAMILY_ATOM, "tagline", FIELD_DESCRIPTION },
	{ FAMILY_ATOM, "updated", FIELD_UPDATED },
	{ FAMILY_ATOM, "modified", FIELD_UPDATED },
	{ FAMILY_DC, "language", FIELD_LANGUAGE },
	{ FAMILY_DC, "date", FIELD_UPDATED },
};

static const struct {
	const char *href;
	enum parse_family family;
} parse_namespaces[] = {
	{ "http://purl.org/rss/1.0/", FAMILY_RSS },
	{ "http://my.netscape.com/rdf/simple/0.9/", FAMILY_RSS },
	{ "http://backend.userland.com/rss2", FAMILY_RSS },
	{ "http://www.w3.org/2005/Atom", FAMILY_ATOM },
	{ "http://purl.org/atom/ns#", FAMILY_ATOM },
	{ "http://purl.org/rss/1.0/modules/content/", FAMILY_CONTENT },
	{ "http://purl.org/dc/elements/1.1/", FAMILY_DC },
};

struct parse_state {
	xmlTextReaderPtr reader;
	struct feed_doc *doc;
	const char *base;
	int container_depth; /* depth of the channel's children */
	int entry_depth;     /* depth of items or entries */
};

static enum parse_family
parse_family_of(const xmlChar *href)
{
	if (href == NULL)
		return FAMILY_RSS;
	for (size_t i = 0;
	     i < sizeof parse_namespaces / sizeof parse_namespaces[0]; i++) {
		if (strcmp((const char *)href, parse_namespaces[i].href) == 0)
			return parse_namespaces[i].family;
	}
	return FAMILY_OTHER;
}

static void
parse_error_cb(void *arg, xmlErrorPtr err)
{
	struct feed_doc *doc = arg;
	size_t len;
	char *msg;

	if (err == NULL || err->level < XML_ERR_ERROR)
		return;
	doc->is_bozo = 1;
	if (doc->nerrors >= PARSE_MAX_ERRORS)
		return;
	msg = xstrdup(err->message != NULL ? err->message : "XML error");
	len = strlen(msg);
	while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
		msg[--len] = '\0';
	feed_doc_error(doc, "line %d: %s", err->line, msg);
	free(msg);
}

/* The text of an element, trimmed; NULL when empty. Caller frees. */
static char *
parse_text(xmlNodePtr n)
{
	xmlChar *c = xmlNodeGetContent(n);
	char *s;

	if (c == NULL)
		return NULL;
	s = text_squeeze((const char *)c);
	xmlFree(c);
	if (*s == '\0') {
		free(s);
		return NULL;
	}
	return s;
}

/* Atom's type="xhtml": the markup inside the div, as HTML. */
static char *
parse_xhtml(xmlNodePtr n)
{
	xmlBufferPtr buf = xmlBufferCreate();
	char *s;

	for (xmlNodePtr k = n->children; k != NULL; k = k->next)
		xmlNodeDump(buf, n->doc, k, 0, 0);
	s = xstrdup((const char *)xmlBufferContent(buf));
	xmlBufferFree(buf);
	return s;
}

/* Text that may be HTML: Atom's type attribute says how to read it. */
static char *
parse_rich(xmlNodePtr n, enum parse_family family)
{
	xmlChar *type;
	char *s;

	if (family != FAMILY_ATOM)
		return parse_text(n);
	type = xmlGetProp(n, (const xmlChar *)"type");
	if (type != NULL && strcmp((const char *)type, "xhtml") == 0)
		s = parse_xhtml(n);
	else
		s = parse_text(n);
	xmlFree(type);
	return s;
}

/* A link: Atom's href (alternate only), RSS's text; made absolute. */
static char *
parse_link(struct parse_state *ps, xmlNodePtr n, enum parse_family family)
{
	xmlChar *href, *rel, *base;
	char *url, *raw;

	if (family == FAMILY_ATOM) {
		rel = xmlGetProp(n, (const xmlChar *)"rel");
		href = xmlGetProp(n, (const xmlChar *)"href");
		if (rel != NULL &&
		    strcmp((const char *)rel, "alternate") != 0) {
			xmlFree(href);
			href = NULL;
		}
		xmlFree(rel);
		if (href == NULL)
			return NULL;
		raw = xstrdup((const char *)href);
		xmlFree(href);
	} else if ((raw = parse_text(n)) == NULL)
		return NULL;
	base = xmlNodeGetBase(n->doc, n);
	url = url_resolve(base != NULL ? (const char *)base : ps->base, raw);
	xmlFree(base);
	if (url == NULL)
		return raw;
	free(raw);
	return url;
}

static char *
parse_author(xmlNodePtr n, enum parse_family family)
{
	if (family == FAMILY_ATOM) {
		for (xmlNodePtr k = n->children; k != NULL; k = k->next) {
			if (k->type == XML_ELEMENT_NODE &&
			    strcmp((const char *)k->name, "name") == 0)
				return parse_text(k);
		}
	}
	return parse_text(n);
}

static time_t
parse_date(struct parse_state *ps, xmlNodePtr n)
{
	char *s = parse_text(n);
	time_t t;

	if (s == NULL)
		return -1;
	if (date_parse(s, &t) == -1) {
		feed_doc_error(ps->doc, "line %ld: unparseable date \"%s\"",
		    xmlGetLineNo(n), s);
		t = -1;
	}
	free(s);
	return t;
}

/* Set a string field once: the first element that gives it wins. */
static void
parse_set(char **field, char *value)
{
	if (*field == NULL)
		*field = value;
	else
		free(value);
}

static const struct parse_rule *
parse_rule_find(const struct parse_rule *rules, size_t n, xmlNodePtr k)
{
	enum parse_family family;

	family = parse_family_of(k->ns != NULL ? k->ns->href : NULL);
	for (size_t i = 0; i < n; i++) {
		if (rules[i].family == family &&
		    strcmp(rules[i].name, (const char *)k->name) == 0)
			return &rules[i];
	}
	return NULL;
}

static void
parse_entry_field(struct parse_state *ps, struct entry *e, xmlNodePtr k,
    const struct parse_rule *r)
{
	switch (r->field) {
	case FIELD_ID:
		parse_set(&e->id, parse_text(k));
		break;
	case FIELD_TITLE:
		parse_set(&e->title, parse_rich(k, r->family));
		break;
	case FIELD_LINK:
		parse_set(&e->link, parse_link(ps, k, r->family));
		break;
	case FIELD_SUMMARY:
		parse_set(&e->summary, parse_rich(k, r->family));
		break;
	case FIELD_CONTENT:
		parse_set(&e->content, parse_rich(k, r->family));
		break;
	case FIELD_AUTHOR:
		parse_set(&e->author, parse_author(k, r->family));
		break;
	case FIELD_PUBLISHED:
		if (e->published == -1)
			e->published = parse_date(ps, k);
		break;
	case FIELD_UPDATED:
		if (e->updated == -1)
			e->updated = parse_date(ps, k);
		break;
	default:
		break;
	}
}

static void
parse_entry(struct parse_state *ps, xmlNodePtr node)
{
	struct entry *e;
	const struct parse_rule *r;

	if (ps->doc->nentries >= PARSE_MAX_ENTRIES) {
		if (ps->doc->nentries == PARSE_MAX_ENTRIES)
			feed_doc_error(ps->doc,
			    "more than %d entries; the "
			    "rest are ignored",
			    PARSE_MAX_ENTRIES);
		return;
	}
	e = feed_doc_add_entry(ps->doc);
	for (xmlNodePtr k = node->children; k != NULL; k = k->next) {
		if (k->type != XML_ELEMENT_NODE)
			continue;
		r = parse_rule_find(parse_entry_rules,
		    sizeof parse_entry_rules / sizeof parse_entry_rules[0], k);
		if (r != NULL)
			parse_entry_field(ps, e, k, r);
	}
	if (e->published == -1)
		e->published = e->updated;
}

static void
parse_feed_field(struct parse_state *ps, xmlNodePtr k)
{
	struct feed_doc *d = ps->doc;
	const struct parse_rule *r;

	r = parse_rule_find(parse_feed_rules,
	    sizeof parse_feed_rules / sizeof parse_feed_rules[0], k);
	if (r == NULL)
		return;
	switch (r->field) {
	case FIELD_TITLE:
		parse_set(&d->title, parse_rich(k, r->family));
		break;
	case FIELD_LINK:
		parse_set(&d->link, parse_link(ps, k, r->family));
		break;
	case FIELD_DESCRIPTION:
		parse_set(&d->description, parse_rich(k, r->family));
		break;
	case FIELD_LANGUAGE:
		parse_set(&d->language, parse_text(k));
		break;
	case FIELD_UPDATED:
		if (d->updated == -1)
			d->updated = parse_date(ps, k);
		break;
	default:
		break;
	}
}

/* Read the root element: which format, and where items stand. */
static int
parse_root(struct parse_state *ps, char **cause)
{
	const char *name =
	    (const char *)xmlTextReaderConstLocalName(ps->reader);
	const char *ns =
	    (const char *)xmlTextReaderConstNamespaceUri(ps->reader);
	xmlChar *version;

	if (strcmp(name, "rss") == 0) {
		version = xmlTextReaderGetAttribute(
		    ps->reader, (const xmlChar *)"version");
		ps->doc->format = FEED_FORMAT_RSS20;
		if (version != NULL &&
		    strncmp((char *)version, "0.9", 3) == 0 &&
		    version[3] >= '1' && version[3] <= '4')
			ps->doc->format =
			    FEED_FORMAT_RSS091 + (version[3] - '1');
		xmlFree(version);
		ps->container_depth = 2;
		ps->entry_depth = 2;
	} else if (strcmp(name, "RDF") == 0) {
		ps->doc->format = FEED_FORMAT_RSS10;
		ps->container_depth = 2;
		ps->entry_depth = 1;
	} else if (strcmp(name, "feed") == 0) {
		ps->doc->format =
		    ns != NULL && strcmp(ns, "http://purl.org/atom/ns#") == 0 ?
		    FEED_FORMAT_ATOM03 :
		    FEED_FORMAT_ATOM10;
		ps->container_depth = 1;
		ps->entry_depth = 1;
	} else {
		xasprintf(cause, "not a feed: the document is <%s>", name);
		return -1;
	}
	return 0;
}

/* Handle one element the reader stands on; return 1 if it was skipped. */
static int
parse_element(struct parse_state *ps)
{
	const char *name =
	    (const char *)xmlTextReaderConstLocalName(ps->reader);
	int depth = xmlTextReaderDepth(ps->reader);
	xmlNodePtr node;

	if (depth == ps->entry_depth &&
	    (strcmp(name, "item") == 0 || strcmp(name, "entry") == 0)) {
		if ((node = xmlTextReaderExpand(ps->reader)) != NULL)
			parse_entry(ps, node);
		return 1;
	}
	if (depth == ps->container_depth) {
		if ((node = xmlTextReaderExpand(ps->reader)) != NULL)
			parse_feed_field(ps, node);
		return 1;
	}
	return 0;
}

static int
parse_walk(struct parse_state *ps, char **cause)
{
	int rc, seen_root = 0;

	rc = xmlTextReaderRead(ps->reader);
	while (rc == 1) {
		if (xmlTextReaderNodeType(ps->reader) !=
		    XML_READER_TYPE_ELEMENT) {
			rc = xmlTextReaderRead(ps->reader);
			continue;
		}
		if (!seen_root) {
			seen_root = 1;
			if (parse_root(ps, cause) == -1)
				return -1;
			rc = xmlTextReaderRead(ps->reader);
		} else if (parse_element(ps))
			rc = xmlTextReaderNext(ps->reader);
		else
			rc = xmlTextReaderRead(ps->reader);
	}
	if (!seen_root) {
		xasprintf(cause, "not a feed: %s",
		    ps->doc->nerrors > 0 ? ps->doc->errors[0] :
					   "no XML element found");
		return -1;
	}
	if (rc == -1)
		ps->doc->is_bozo = 1;
	return 0;
}

struct feed_doc *
parse_feed(const char *body, size_t len, const char *base, char **cause)
{
	struct parse_state ps;

	if (len > INT_MAX) {
		xasprintf(cause, "document of %zu bytes is too large", len);
		return NULL;
	}
	memset(&ps, 0, sizeof ps);
	ps.doc = feed_doc_new();
	ps.base = base;
	ps.reader =
	    xmlReaderForMemory(body, (int)len, base, NULL, PARSE_XML_OPTIONS);
	if (ps.reader == NULL) {
		xasprintf(cause, "not a feed: libxml2 could not read it");
		feed_doc_free(ps.doc);
		return NULL;
	}
	xmlTextReaderSetStructuredErrorHandler(
	    ps.reader, parse_error_cb, ps.doc);
	if (parse_walk(&ps, cause) == -1) {
		xmlFreeTextReader(ps.reader);
		feed_doc_free(ps.doc);
		return NULL;
	}
	xmlFreeTextReader(ps.reader);
	return ps.doc;
}
