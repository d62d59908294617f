#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "charset.h"
#include "date.h"
#include "feed.h"
#include "html.h"
#include "log.h"
#include "parse.h"
#include "repair.h"
#include "text.h"
#include "url.h"
#include "xmalloc.h"

/*
 * Parsing. A document is read in pieces from a source (memory or a file)
 * and goes through three stages:
 *
 *	bytes --charset--> UTF-8 --repair--> well-formed XML --libxml2-->
 *
 * The encoding is chosen first: charset_sniff names candidates and the
 * first one that decodes the whole document wins. libxml2's push parser
 * builds the tree through its SAX2 handlers; parse_end_cb reads each
 * item or entry as it closes into a struct entry and frees its subtree,
 * so only the root, the channel and one entry are ever held. JSON Feed
 * is read whole with jansson.
 */

#define PARSE_PIECE 65536   /* bytes read at a time */
#define PARSE_MAX_ERRORS 20 /* libxml2 errors kept per document */

enum parse_family {
	FAMILY_OTHER,
	FAMILY_RSS,
	FAMILY_ATOM,
	FAMILY_CONTENT,
	FAMILY_DC,
	FAMILY_DCTERMS,
	FAMILY_MEDIA,
	FAMILY_XHTML,
	FAMILY_SY,
	FAMILY_CDF, /* CDF's own; its documents read RSS's elements too */
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
	FIELD_CATEGORY,
	FIELD_ENCLOSURE,
	FIELD_GUID_LINK,   /* an RSS guid that is a permalink */
	FIELD_RSS_SUMMARY, /* an RSS item's <summary>: see parse_entry */
	FIELD_TAGS,	   /* comma-separated categories */
	FIELD_TTL,	   /* minutes a reader may cache the feed */
	FIELD_UPDATE_PERIOD,
	FIELD_UPDATE_FREQUENCY,
	FIELD_COUNT
};

/* An element's meaning; prio 0 beats 1 whatever their order. */
struct parse_rule {
	enum parse_family family;
	const char *name;
	enum parse_field field;
	int prio;
};

static const struct parse_rule parse_entry_rules[] = {
	{ FAMILY_RSS, "title", FIELD_TITLE, 0 },
	{ FAMILY_RSS, "link", FIELD_LINK, 0 },
	{ FAMILY_RSS, "guid", FIELD_ID, 0 },
	{ FAMILY_RSS, "guid", FIELD_GUID_LINK, 2 },
	{ FAMILY_RSS, "description", FIELD_SUMMARY, 0 },
	{ FAMILY_RSS, "pubDate", FIELD_PUBLISHED, 0 },
	{ FAMILY_RSS, "author", FIELD_AUTHOR, 0 },
	{ FAMILY_RSS, "category", FIELD_CATEGORY, 0 },
	{ FAMILY_RSS, "enclosure", FIELD_ENCLOSURE, 0 },
	{ FAMILY_RSS, "fullitem", FIELD_CONTENT, 1 },
	{ FAMILY_RSS, "body", FIELD_CONTENT, 1 },
	{ FAMILY_RSS, "tags", FIELD_TAGS, 0 },
	{ FAMILY_RSS, "summary", FIELD_RSS_SUMMARY, 0 },
	{ FAMILY_ATOM, "title", FIELD_TITLE, 0 },
	{ FAMILY_ATOM, "link", FIELD_LINK, 1 },
	{ FAMILY_ATOM, "link", FIELD_ENCLOSURE, 0 },
	{ FAMILY_ATOM, "id", FIELD_ID, 0 },
	{ FAMILY_ATOM, "summary", FIELD_SUMMARY, 0 },
	{ FAMILY_ATOM, "content", FIELD_CONTENT, 0 },
	{ FAMILY_ATOM, "published", FIELD_PUBLISHED, 0 },
	{ FAMILY_ATOM, "issued", FIELD_PUBLISHED, 0 },
	{ FAMILY_ATOM, "created", FIELD_PUBLISHED, 1 },
	{ FAMILY_ATOM, "updated", FIELD_UPDATED, 0 },
	{ FAMILY_ATOM, "modified", FIELD_UPDATED, 0 },
	{ FAMILY_ATOM, "author", FIELD_AUTHOR, 0 },
	{ FAMILY_ATOM, "category", FIELD_CATEGORY, 0 },
	{ FAMILY_CONTENT, "encoded", FIELD_CONTENT, 0 },
	{ FAMILY_XHTML, "body", FIELD_CONTENT, 0 },
	{ FAMILY_DC, "title", FIELD_TITLE, 1 },
	{ FAMILY_DC, "date", FIELD_PUBLISHED, 0 },
	{ FAMILY_DC, "date", FIELD_UPDATED, 2 },
	{ FAMILY_DC, "creator", FIELD_AUTHOR, 1 },
	{ FAMILY_DC, "author", FIELD_AUTHOR, 1 },
	{ FAMILY_DC, "subject", FIELD_CATEGORY, 0 },
	{ FAMILY_DC, "description", FIELD_SUMMARY, 1 },
	{ FAMILY_DC, "identifier", FIELD_ID, 1 },
	{ FAMILY_DCTERMS, "issued", FIELD_PUBLISHED, 1 },
	{ FAMILY_DCTERMS, "created", FIELD_PUBLISHED, 1 },
	{ FAMILY_DCTERMS, "modified", FIELD_UPDATED, 1 },
	{ FAMILY_MEDIA, "title", FIELD_TITLE, 2 },
	{ FAMILY_MEDIA, "description", FIELD_SUMMARY, 2 },
	{ FAMILY_CDF, "abstract", FIELD_SUMMARY, 1 },
};

static const struct parse_rule parse_feed_rules[] = {
	{ FAMILY_RSS, "title", FIELD_TITLE, 0 },
	{ FAMILY_RSS, "link", FIELD_LINK, 0 },
	{ FAMILY_RSS, "description", FIELD_DESCRIPTION, 0 },
	{ FAMILY_RSS, "language", FIELD_LANGUAGE, 0 },
	{ FAMILY_RSS, "lastBuildDate", FIELD_UPDATED, 0 },
	{ FAMILY_RSS, "pubDate", FIELD_UPDATED, 1 },
	{ FAMILY_ATOM, "title", FIELD_TITLE, 0 },
	{ FAMILY_ATOM, "link", FIELD_LINK, 1 },
	{ FAMILY_ATOM, "subtitle", FIELD_DESCRIPTION, 0 },
	{ FAMILY_ATOM, "tagline", FIELD_DESCRIPTION, 0 },
	{ FAMILY_ATOM, "updated", FIELD_UPDATED, 0 },
	{ FAMILY_ATOM, "modified", FIELD_UPDATED, 0 },
	{ FAMILY_DC, "title", FIELD_TITLE, 1 },
	{ FAMILY_DC, "description", FIELD_DESCRIPTION, 1 },
	{ FAMILY_DC, "language", FIELD_LANGUAGE, 0 },
	{ FAMILY_DC, "date", FIELD_UPDATED, 0 },
	{ FAMILY_DCTERMS, "modified", FIELD_UPDATED, 0 },
	{ FAMILY_RSS, "ttl", FIELD_TTL, 0 },
	{ FAMILY_SY, "updatePeriod", FIELD_UPDATE_PERIOD, 0 },
	{ FAMILY_SY, "updateFrequency", FIELD_UPDATE_FREQUENCY, 0 },
	{ FAMILY_CDF, "abstract", FIELD_DESCRIPTION, 1 },
};

static const struct {
	const char *href;
	enum parse_family family;
} parse_namespaces[] = {
	{ "http://purl.org/rss/1.0/", FAMILY_RSS },
	{ "http://my.netscape.com/rdf/simple/0.9/", FAMILY_RSS },
	{ "http://backend.userland.com/rss2", FAMILY_RSS },
	{ "http://backend.userland.com/rss", FAMILY_RSS },
	{ "http://www.w3.org/2005/Atom", FAMILY_ATOM },
	{ "http://purl.org/atom/ns#", FAMILY_ATOM },
	{ "http://purl.org/rss/1.0/modules/content/", FAMILY_CONTENT },
	{ "http://purl.org/dc/elements/1.1/", FAMILY_DC },
	{ "http://purl.org/dc/terms/", FAMILY_DCTERMS },
	{ "http://search.yahoo.com/mrss/", FAMILY_MEDIA },
	{ "http://search.yahoo.com/mrss", FAMILY_MEDIA },
	{ "http://www.w3.org/1999/xhtml", FAMILY_XHTML },
	{ "http://purl.org/rss/1.0/modules/syndication/", FAMILY_SY },
	/* Atom's names before 1.0, as feedparser knows them. */
	{ "http://example.com/necho", FAMILY_ATOM },
	{ "http://purl.org/echo/", FAMILY_ATOM },
	{ "http://purl.org/pie/", FAMILY_ATOM },
	{ "http://example.com/newformat#", FAMILY_ATOM },
};

#define NS_ATOM03 "http://purl.org/atom/ns#"
#define NS_RSS090 "http://my.netscape.com/rdf/simple/0.9/"

/* A struct entry being filled, with the priority of each field's source. */
struct parse_build {
	struct entry *e;
	int prio[FIELD_COUNT];
	char *rss_summary; /* an RSS item's <summary>, HTML */
};

struct parse {
	const struct parse_opts *opts;
	parse_entry_cb cb;
	void *arg;
	struct feed_doc *doc;
	xmlParserCtxtPtr ctxt;
	char *cause; /* not a feed: why */
	int is_stopped;
	int depth;		  /* of the element being read; root = 1 */
	enum parse_family family; /* of elements without a namespace */
	int container_depth;	  /* the channel's (RSS) or the root's (Atom) */
	xmlNodePtr container;
	size_t nentries;
	int nxml_errors;
	char *root_ns; /* namespace of the root element */
	int feed_prio[FIELD_COUNT];
};

static void parse_repair_report(struct parse *, const struct repair *);
static void parse_schedule(
    struct feed_doc *, enum parse_field, const xmlNode *);

static xmlSAXHandler parse_sax;
static startElementNsSAX2Func parse_sax2_start;
static endElementNsSAX2Func parse_sax2_end;

static enum parse_family
parse_family_of(const struct parse *p, const xmlNode *n)
{
	const char *href;

	if (n->ns == NULL || n->ns->href == NULL)
		return p->family;
	href = (const char *)n->ns->href;
	/* Whatever the root's namespace, its elements are the format's. */
	if (p->root_ns != NULL && strcmp(href, p->root_ns) == 0)
		return p->family;
	for (size_t i = 0;
	     i < sizeof parse_namespaces / sizeof parse_namespaces[0]; i++) {
		if (strcmp(href, parse_namespaces[i].href) == 0)
			return parse_namespaces[i].family;
	}
	return FAMILY_OTHER;
}

/*
 * The next rule for element k from *from on. CDF's element names are
 * read in any case, and its documents read RSS's elements as well.
 */
static const struct parse_rule *
parse_rule_find(const struct parse *p, const struct parse_rule *rules, size_t n,
    const xmlNode *k, size_t *from)
{
	enum parse_family family = parse_family_of(p, k);
	const char *name = (const char *)k->name;
	int is_cdf = family == FAMILY_CDF;

	for (size_t i = *from; i < n; i++) {
		if ((rules[i].family == family ||
			(is_cdf && rules[i].family == FAMILY_RSS)) &&
		    (is_cdf ? strcasecmp(rules[i].name, name) :
			      strcmp(rules[i].name, name)) == 0) {
			*from = i + 1;
			return &rules[i];
		}
	}
	return NULL;
}

static char *
parse_attr(const xmlNode *n, const char *name)
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
	char *s;

	if (v == NULL)
		return NULL;
	s = xstrdup((const char *)v);
	xmlFree(v);
	return s;
}

/* Trim white space at both ends, in place; NULL when nothing is left. */
static char *
parse_trim(char *s)
{
	size_t len, lead;

	if (s == NULL)
		return NULL;
	lead = strspn(s, " \t\r\n");
	len = strlen(s + lead);
	while (len > 0 && strchr(" \t\r\n", s[lead + len - 1]) != NULL)
		len--;
	if (len == 0) {
		free(s);
		return NULL;
	}
	memmove(s, s + lead, len);
	s[len] = '\0';
	return s;
}

/* The text of an element, trimmed; NULL when empty. Caller frees. */
static char *
parse_text(const xmlNode *n)
{
	xmlChar *c = xmlNodeGetContent(n);
	char *s;

	if (c == NULL)
		return NULL;
	s = xstrdup((const char *)c);
	xmlFree(c);
	return parse_trim(s);
}

/*
 * Append the nodes from n on as HTML: a text as it is (it may hold
 * escaped markup, which is markup here too), an element as its tags,
 * its attributes quoted, around its children.
 */
static void
parse_raw_add(xmlBufferPtr buf, const xmlNode *n)
{
	xmlChar *v, *q;

	for (const xmlNode *k = n; k != NULL; k = k->next) {
		if (k->type == XML_TEXT_NODE ||
		    k->type == XML_CDATA_SECTION_NODE) {
			xmlBufferCat(buf, k->content);
			continue;
		}
		if (k->type != XML_ELEMENT_NODE)
			continue;
		xmlBufferCCat(buf, "<");
		xmlBufferCat(buf, k->name);
		for (const xmlAttr *a = k->properties; a != NULL; a = a->next) {
			v = xmlNodeListGetString(k->doc, a->children, 1);
			q = xmlEncodeSpecialChars(
			    k->doc, v != NULL ? v : (const xmlChar *)"");
			xmlBufferCCat(buf, " ");
			xmlBufferCat(buf, a->name);
			xmlBufferCCat(buf, "=\"");
			xmlBufferCat(buf, q);
			xmlBufferCCat(buf, "\"");
			xmlFree(q);
			xmlFree(v);
		}
		xmlBufferCCat(buf, ">");
		parse_raw_add(buf, k->children);
		xmlBufferCCat(buf, "</");
		xmlBufferCat(buf, k->name);
		xmlBufferCCat(buf, ">");
	}
}

/*
 * The HTML of a field that holds raw elements where escaped ones
 * belong (<description><p>a</p><p>b</p></description>), as feedparser
 * reads it: its text was "ab", two words glued into one.
 */
static char *
parse_raw_html(const xmlNode *n)
{
	xmlBufferPtr buf = xmlBufferCreate();
	char *s;

	parse_raw_add(buf, n->children);
	s = xstrdup((const char *)xmlBufferContent(buf));
	xmlBufferFree(buf);
	return parse_trim(s);
}

#define NS_XHTML "http://www.w3.org/1999/xhtml"

/*
 * Hide (hide set) or restore the XHTML namespace declarations below n,
 * so that markup comes out as plain HTML; others, such as SVG's, stay.
 * The declarations are kept in n's subtree's _private while hidden.
 */
static void
parse_xhtml_ns(xmlNode *n, int hide)
{
	for (xmlNode *k = n; k != NULL; k = k->next) {
		if (k->type != XML_ELEMENT_NODE)
			continue;
		if (hide && k->nsDef != NULL && k->nsDef->next == NULL &&
		    k->nsDef->prefix == NULL && k->nsDef->href != NULL &&
		    strcmp((const char *)k->nsDef->href, NS_XHTML) == 0) {
			k->_private = k->nsDef;
			k->nsDef = NULL;
		} else if (!hide && k->_private != NULL) {
			k->nsDef = k->_private;
			k->_private = NULL;
		}
		parse_xhtml_ns(k->children, hide);
	}
}

/* The markup inside an element, as text; Atom's xhtml div is dropped. */
static char *
parse_markup(xmlNode *n, int strip_div)
{
	xmlBufferPtr buf = xmlBufferCreate();
	xmlNode *only = NULL;
	int elements = 0;
	char *s;

	for (xmlNode *k = n->children; k != NULL; k = k->next) {
		if (k->type == XML_ELEMENT_NODE) {
			elements++;
			only = k;
		}
	}
	if (strip_div && elements == 1 &&
	    strcmp((const char *)only->name, "div") == 0)
		n = only;
	parse_xhtml_ns(n->children, 1);
	for (xmlNode *k = n->children; k != NULL; k = k->next)
		xmlNodeDump(buf, n->doc, k, 0, 0);
	parse_xhtml_ns(n->children, 0);
	s = xstrdup((const char *)xmlBufferContent(buf));
	xmlBufferFree(buf);
	return parse_trim(s);
}

static int
parse_base64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/* Decode base64 text (white space ignored); NULL when it is not. */
static char *
parse_base64(const char *s)
{
	char *out = xmalloc(strlen(s) / 4 * 3 + 4);
	size_t o = 0;
	unsigned int acc = 0;
	int bits = 0, v;

	for (; *s != '\0' && *s != '='; s++) {
		if (strchr(" \t\r\n", *s) != NULL)
			continue;
		if ((v = parse_base64_value((unsigned char)*s)) == -1) {
			free(out);
			return NULL;
		}
		acc = (acc << 6) | (unsigned int)v;
		if ((bits += 6) >= 8) {
			bits -= 8;
			out[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	out[o] = '\0';
	if (!charset_is_utf8(out, o) || memchr(out, '\0', o) != NULL) {
		free(out);
		return NULL;
	}
	return out;
}

static int
parse_has_elements(const xmlNode *n)
{
	for (const xmlNode *k = n->children; k != NULL; k = k->next) {
		if (k->type == XML_ELEMENT_NODE)
			return 1;
	}
	return 0;
}

static int
parse_type_is(const char *type, const char *a, const char *b)
{
	return strcasecmp(type, a) == 0 ||
	    (b != NULL && strcasecmp(type, b) == 0);
}

/*
 * An Atom text construct by its type (and Atom 0.3's mode): text and
 * HTML as their text, XHTML and XML as markup, other types base64.
 * *is_html is set when the value is HTML. is_atom10 says the document
 * is Atom 1.0.
 */
static char *
parse_atom_text(xmlNode *n, int is_atom10, int *is_html)
{
	char *type = parse_attr(n, "type"), *mode = parse_attr(n, "mode");
	char *s, *raw;
	size_t tlen = type != NULL ? strlen(type) : 0;
	int is_wrapped;

	*is_html = type != NULL &&
	    (parse_type_is(type, "html", "text/html") ||
		parse_type_is(type, "xhtml", "application/xhtml+xml"));
	/*
	 * Atom 1.0 wraps XHTML in a div that is not content. Atom 1.0 feeds
	 * that still call it application/xhtml+xml, as Atom 0.3 did, wrap it
	 * the same way.
	 */
	is_wrapped = type != NULL &&
	    (parse_type_is(type, "xhtml", NULL) ||
		(is_atom10 &&
		    parse_type_is(type, "application/xhtml+xml", NULL)));
	if (mode != NULL && strcmp(mode, "base64") == 0) {
		raw = parse_text(n);
		s = raw != NULL ? parse_base64(raw) : NULL;
		free(raw);
	} else if (mode != NULL && strcmp(mode, "xml") == 0) {
		s = parse_markup(n, is_wrapped);
		*is_html = 1;
	} else if (type == NULL && parse_has_elements(n)) {
		/* Markup with no type: keep it as the feed wrote it. */
		s = parse_markup(n, 0);
		*is_html = 1;
	} else if (type != NULL && parse_type_is(type, "html", "text/html") &&
	    parse_has_elements(n))
		/* type="html" with its markup raw, not escaped. */
		s = parse_raw_html(n);
	else if (type == NULL || *type == '\0' ||
	    parse_type_is(type, "text", "html") ||
	    strncasecmp(type, "text/", 5) == 0)
		s = parse_text(n);
	else if (parse_type_is(type, "xhtml", NULL))
		s = parse_markup(n, 1);
	else if (tlen > 4 &&
	    (strcasecmp(type + tlen - 4, "/xml") == 0 ||
		strcasecmp(type + tlen - 4, "+xml") == 0)) {
		s = parse_markup(n, is_wrapped);
		*is_html = 1;
	} else {
		raw = parse_text(n);
		s = raw != NULL ? parse_base64(raw) : NULL;
		free(raw);
	}
	free(type);
	free(mode);
	return s;
}

/* The base URI in force at an element: xml:base, else the document's. */
static char *
parse_base(struct parse *p, const xmlNode *n)
{
	xmlChar *b = xmlNodeGetBase(n->doc, n);
	char *s;

	/*
	 * No xml:base: the document's URL, unless it is a local file and
	 * the feed names its site, or there is none.
	 */
	if (b == NULL ||
	    (strncmp((const char *)b, "file:", 5) == 0 &&
		p->doc->link != NULL)) {
		xmlFree(b);
		if (p->opts->base != NULL &&
		    (strncmp(p->opts->base, "file:", 5) != 0 ||
			p->doc->link == NULL))
			return xstrdup(p->opts->base);
		return p->doc->link != NULL ? xstrdup(p->doc->link) : NULL;
	}
	s = url_resolve(p->opts->base, (const char *)b);
	if (s == NULL)
		s = xstrdup((const char *)b);
	xmlFree(b);
	return s;
}

static char *
parse_absolute(struct parse *p, const xmlNode *n, char *raw)
{
	char *base, *url;

	if (raw == NULL)
		return NULL;
	base = parse_base(p, n);
	url = url_resolve(base, raw);
	free(base);
	if (url == NULL)
		return raw;
	free(raw);
	return url;
}

/*
 * Does a text no type describes look like HTML, as feedparser guesses:
 * does it hold an end tag ("</b>") or a reference ("&amp;", "&#8217;")?
 * "a<b" and "AT&T" do not: they are text.
 */
static int
parse_looks_like_html(const char *s)
{
	const char *p, *q;

	for (p = strchr(s, '&'); p != NULL; p = strchr(p + 1, '&')) {
		q = p + 1 + (p[1] == '#');
		if (!isalnum((unsigned char)*q))
			continue;
		while (isalnum((unsigned char)*q))
			q++;
		if (*q == ';')
			return 1;
	}
	for (p = strstr(s, "</"); p != NULL; p = strstr(p + 2, "</")) {
		q = p + 2;
		if (!isalpha((unsigned char)*q))
			continue;
		while (isalnum((unsigned char)*q))
			q++;
		if (*q == '>')
			return 1;
	}
	return 0;
}

/*
 * Rich text: HTML is sanitized (html.h), its relative links made
 * absolute. Atom says by its type whether a text is HTML; elsewhere
 * is_html says (an RSS description is, a title is not).
 */
static char *
parse_rich(struct parse *p, xmlNode *n, enum parse_family family, int *is_html)
{
	char *s, *base, *safe;

	if (family == FAMILY_ATOM)
		s = parse_atom_text(
		    n, p->doc->format == FEED_FORMAT_ATOM10, is_html);
	else if (family == FAMILY_XHTML ||
	    strcmp((const char *)n->name, "body") == 0)
		s = parse_markup(n, 0);
	else if (*is_html && parse_has_elements(n))
		s = parse_raw_html(n);
	else
		s = parse_text(n);
	if (s == NULL || !*is_html || p->opts->is_text_only)
		return s;
	/* Without markup there is no link to resolve. */
	base = strchr(s, '<') != NULL ? parse_base(p, n) : NULL;
	safe = html_sanitize(s, base);
	free(base);
	free(s);
	return safe;
}

/* An Atom link's rel: "alternate" when it has none. */
static int
parse_link_rel(const xmlNode *n, const char *rel)
{
	char *r = parse_attr(n, "rel");
	int is =
	    r == NULL ? strcmp(rel, "alternate") == 0 : strcasecmp(r, rel) == 0;

	free(r);
	return is;
}

static char *
parse_link(struct parse *p, const xmlNode *n, enum parse_family family)
{
	if (family != FAMILY_ATOM)
		return parse_absolute(p, n, parse_text(n));
	if (!parse_link_rel(n, "alternate"))
		return NULL;
	return parse_absolute(p, n, parse_trim(parse_attr(n, "href")));
}

/* Length of the e-mail address at s (local@domain), 0 when none is. */
static size_t
parse_email_len(const char *s)
{
	size_t n = strcspn(s, " \t\r\n()<>,;\"");
	const char *at = memchr(s, '@', n);

	if (at == NULL || at == s || at == s + n - 1 ||
	    memchr(at + 1, '@', s + n - at - 1) != NULL)
		return 0;
	return n;
}

/*
 * An RSS or Dublin Core author in the form Atom's give: "Name (email)".
 * Feeds write "email (Name)" (as RSS 2.0 asks), "Name <email>" or
 * "<email>"; anything else stays as written. Takes s over.
 */
static char *
parse_author_canon(char *s)
{
	const char *email = s, *name = NULL;
	size_t elen, nlen = 0, len = strlen(s);
	char *out;

	if (len > 2 && s[0] == '<' && s[len - 1] == '>' &&
	    parse_email_len(s + 1) == len - 2) {
		memmove(s, s + 1, len - 2);
		s[len - 2] = '\0';
		return s;
	}
	if ((elen = parse_email_len(s)) > 0) {
		/* "email (Name)" */
		name = s + elen + strspn(s + elen, " \t");
		if (*name != '(' || s[len - 1] != ')')
			return s;
		name++;
		nlen = s + len - 1 - name;
		if (memchr(name, '(', nlen) != NULL ||
		    memchr(name, ')', nlen) != NULL)
			return s;
	} else if (len > 2 && s[len - 1] == '>' &&
	    (email = strrchr(s, '<')) != NULL && email > s) {
		/* "Name <email>" */
		email++;
		if ((elen = parse_email_len(email)) !=
		    (size_t)(s + len - 1 - email))
			return s;
		name = s;
		nlen = email - 1 - s;
	} else
		return s;
	while (nlen > 0 && strchr(" \t", name[nlen - 1]) != NULL)
		nlen--;
	while (nlen > 0 && strchr(" \t", *name) != NULL) {
		name++;
		nlen--;
	}
	if (nlen == 0)
		xasprintf(&out, "%.*s", (int)elen, email);
	else
		xasprintf(
		    &out, "%.*s (%.*s)", (int)nlen, name, (int)elen, email);
	free(s);
	return out;
}

/* An author: Atom's "Name (email)", else the text in that form. */
static char *
parse_author(const xmlNode *n, enum parse_family family)
{
	char *name = NULL, *email = NULL, *s;

	if (family != FAMILY_ATOM) {
		s = parse_text(n);
		return s != NULL ? parse_author_canon(s) : NULL;
	}
	for (xmlNode *k = n->children; k != NULL; k = k->next) {
		if (k->type != XML_ELEMENT_NODE)
			continue;
		if (strcmp((const char *)k->name, "name") == 0 && name == NULL)
			name = parse_text(k);
		else if (strcmp((const char *)k->name, "email") == 0 &&
		    email == NULL)
			email = parse_text(k);
	}
	if (name != NULL && email != NULL) {
		xasprintf(&s, "%s (%s)", name, email);
		free(name);
		free(email);
		return s;
	}
	return name != NULL ? name : email;
}

static time_t
parse_date(struct parse *p, const xmlNode *n)
{
	char *s = parse_text(n);
	time_t t = -1;

	if (s != NULL && date_parse(s, &t) == -1) {
		feed_doc_error(p->doc, "line %ld: unparseable date \"%.80s\"",
		    xmlGetLineNo(n), s);
		t = -1;
	}
	free(s);
	return t;
}

static long long
parse_length(const char *s)
{
	char *end;
	long long v;

	if (s == NULL)
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 0)
		return -1;
	return v;
}

static void
parse_enclosure(struct parse *p, struct entry *e, const xmlNode *n,
    enum parse_family family)
{
	char *url, *length;

	if (family == FAMILY_ATOM) {
		if (!parse_link_rel(n, "enclosure"))
			return;
		url = parse_trim(parse_attr(n, "href"));
	} else
		url = parse_trim(parse_attr(n, "url"));
	if ((url = parse_absolute(p, n, url)) == NULL)
		return;
	length = parse_attr(n, "length");
	feed_entry_add_enclosure(
	    e, url, parse_trim(parse_attr(n, "type")), parse_length(length));
	free(length);
}

static void
parse_category(struct entry *e, const xmlNode *n, enum parse_family family)
{
	char *term;

	if (family == FAMILY_ATOM) {
		term = parse_trim(parse_attr(n, "term"));
		if (term == NULL)
			term = parse_trim(parse_attr(n, "label"));
	} else
		term = parse_text(n);
	if (term != NULL)
		feed_entry_add_category(e, term);
}

/* A <tags> element: categories separated by commas. */
static void
parse_tags(struct entry *e, const xmlNode *n)
{
	char *all = parse_text(n), *s, *next, *term;

	for (s = all; s != NULL; s = next) {
		if ((next = strchr(s, ',')) != NULL)
			*next++ = '\0';
		if ((term = parse_trim(xstrdup(s))) != NULL)
			feed_entry_add_category(e, term);
	}
	free(all);
}

/*
 * Store value in *field when the source outranks the one before, and
 * return 1; else free it and return 0.
 */
static int
parse_set(char **field, int *prio, int rank, char *value)
{
	char *fixed;

	if (value == NULL)
		return 0;
	/* UTF-8 once read as WINDOWS-1251/1252: repaired where sure. */
	if ((fixed = text_repair_mojibake(value)) != NULL) {
		free(value);
		value = fixed;
	}
	/* windows-1252 read as ISO-8859-1: its quotes and dashes back. */
	if ((fixed = text_map_c1(value)) != NULL) {
		free(value);
		value = fixed;
	}
	/* Of two sources of one rank, the later wins, as in feedparser. */
	if (*field != NULL && *prio < rank) {
		free(value);
		return 0;
	}
	free(*field);
	*field = value;
	*prio = rank;
	return 1;
}

static void
parse_set_date(time_t *field, int *prio, int rank, time_t t)
{
	if (t == -1 || (*field != -1 && *prio < rank))
		return;
	*field = t;
	*prio = rank;
}

/* An RSS guid is the link too, unless isPermaLink says it is not. */
static char *
parse_guid_link(struct parse *p, const xmlNode *n)
{
	char *perma = parse_attr(n, "isPermaLink"), *s;
	int is_perma = perma == NULL || strcasecmp(perma, "false") != 0;

	free(perma);
	if (!is_perma || (s = parse_text(n)) == NULL)
		return NULL;
	if (strncasecmp(s, "http://", 7) != 0 &&
	    strncasecmp(s, "https://", 8) != 0) {
		free(s);
		return NULL;
	}
	return parse_absolute(p, n, s);
}

static void
parse_entry_field(struct parse *p, struct parse_build *b, xmlNode *k,
    const struct parse_rule *r)
{
	struct entry *e = b->e;
	int *prio = &b->prio[r->field];
	int is_html;
	char *s;

	switch (r->field) {
	case FIELD_ID:
		parse_set(&e->id, prio, r->prio, parse_text(k));
		break;
	case FIELD_TITLE:
		is_html = 0;
		s = parse_rich(p, k, r->family, &is_html);
		/* Outside Atom, a title says what it is only by looking. */
		if (r->family != FAMILY_ATOM && s != NULL)
			is_html = parse_looks_like_html(s);
		if (parse_set(&e->title, prio, r->prio, s))
			e->is_title_plain = !is_html;
		break;
	case FIELD_LINK:
		parse_set(&e->link, prio, r->prio, parse_link(p, k, r->family));
		break;
	case FIELD_GUID_LINK:
		parse_set(&e->link, &b->prio[FIELD_LINK], r->prio,
		    parse_guid_link(p, k));
		break;
	case FIELD_SUMMARY:
		/* CDF's abstract is text; RSS's description is HTML. */
		is_html = r->family != FAMILY_CDF;
		s = parse_rich(p, k, r->family, &is_html);
		if (parse_set(&e->summary, prio, r->prio, s))
			e->is_summary_plain = !is_html;
		break;
	case FIELD_CONTENT:
		is_html = 1;
		s = parse_rich(p, k, r->family, &is_html);
		if (parse_set(&e->content, prio, r->prio, s))
			e->is_content_plain = !is_html;
		break;
	case FIELD_RSS_SUMMARY:
		/* Not Atom's: HTML, whatever it holds. */
		is_html = 1;
		parse_set(&b->rss_summary, prio, r->prio,
		    parse_rich(p, k, r->family, &is_html));
		break;
	case FIELD_AUTHOR:
		parse_set(
		    &e->author, prio, r->prio, parse_author(k, r->family));
		break;
	case FIELD_PUBLISHED:
		parse_set_date(&e->published, prio, r->prio, parse_date(p, k));
		break;
	case FIELD_UPDATED:
		parse_set_date(&e->updated, prio, r->prio, parse_date(p, k));
		break;
	case FIELD_CATEGORY:
		parse_category(e, k, r->family);
		break;
	case FIELD_ENCLOSURE:
		parse_enclosure(p, e, k, r->family);
		break;
	case FIELD_TAGS:
		parse_tags(e, k);
		break;
	default:
		break;
	}
}

/* The value of attribute name of n, in any case; NULL when none. */
static char *
parse_attr_anycase(const xmlNode *n, const char *name)
{
	xmlChar *v;
	char *s;

	for (const xmlAttr *a = n->properties; a != NULL; a = a->next) {
		if (a->ns != NULL ||
		    strcasecmp((const char *)a->name, name) != 0)
			continue;
		if ((v = xmlNodeListGetString(n->doc, a->children, 1)) == NULL)
			return NULL;
		s = xstrdup((const char *)v);
		xmlFree(v);
		return parse_trim(s);
	}
	return NULL;
}

/*
 * A CDF channel's or item's link and date are attributes: HREF, and
 * LASTMOD (ISO 8601). Read before the elements, which may override them.
 */
static void
parse_cdf_attrs(struct parse *p, const xmlNode *n, char **link, time_t *t)
{
	char *lastmod = parse_attr_anycase(n, "lastmod");

	*link = parse_absolute(p, n, parse_attr_anycase(n, "href"));
	if (lastmod != NULL && date_parse(lastmod, t) == -1) {
		feed_doc_error(p->doc, "line %ld: unparseable date \"%.80s\"",
		    xmlGetLineNo(n), lastmod);
		*t = -1;
	}
	free(lastmod);
}

/* Read a closed item or entry and hand it on. */
static void
parse_entry(struct parse *p, xmlNode *node)
{
	const struct parse_rule *r;
	struct parse_build b;
	size_t from;
	size_t max =
	    p->opts->max_entries ? p->opts->max_entries : PARSE_MAX_ENTRIES;

	if (p->nentries++ >= max) {
		if (p->nentries == max + 1)
			feed_doc_error(p->doc,
			    "more than %zu entries; the rest "
			    "are ignored",
			    max);
		return;
	}
	memset(&b, 0, sizeof b);
	b.e = feed_entry_new();
	if (p->family == FAMILY_CDF)
		parse_cdf_attrs(p, node, &b.e->link, &b.e->updated);
	for (xmlNode *k = node->children; k != NULL; k = k->next) {
		if (k->type != XML_ELEMENT_NODE)
			continue;
		from = 0;
		while (
		    (r = parse_rule_find(p, parse_entry_rules,
			 sizeof parse_entry_rules / sizeof parse_entry_rules[0],
			 k, &from)) != NULL)
			parse_entry_field(p, &b, k, r);
	}
	/*
	 * RSS has no <summary>, but some feeds put one in an item: it is
	 * the summary when the item has no description, else (as feedparser
	 * reads it) the content when it has none. Its text is the story's.
	 */
	if (b.rss_summary != NULL && b.e->summary == NULL) {
		b.e->summary = b.rss_summary;
		b.e->is_summary_plain = 0;
	} else if (b.rss_summary != NULL && b.e->content == NULL) {
		b.e->content = b.rss_summary;
		b.e->is_content_plain = 0;
	} else
		free(b.rss_summary);
	if (p->cb == NULL)
		feed_doc_add_entry(p->doc, b.e);
	else if (p->cb(b.e, p->arg) == -1) {
		p->is_stopped = 1;
		xmlStopParser(p->ctxt);
	}
}

static void
parse_feed_field(struct parse *p, xmlNode *k)
{
	struct feed_doc *d = p->doc;
	const struct parse_rule *r;
	size_t from = 0;
	int *prio, is_html;

	while ((r = parse_rule_find(p, parse_feed_rules,
		    sizeof parse_feed_rules / sizeof parse_feed_rules[0], k,
		    &from)) != NULL) {
		prio = &p->feed_prio[r->field];
		switch (r->field) {
		case FIELD_TITLE:
			is_html = 0;
			parse_set(&d->title, prio, r->prio,
			    parse_rich(p, k, r->family, &is_html));
			break;
		case FIELD_LINK:
			parse_set(&d->link, prio, r->prio,
			    parse_link(p, k, r->family));
			break;
		case FIELD_DESCRIPTION:
			is_html = r->family != FAMILY_CDF;
			parse_set(&d->description, prio, r->prio,
			    parse_rich(p, k, r->family, &is_html));
			break;
		case FIELD_LANGUAGE:
			parse_set(&d->language, prio, r->prio, parse_text(k));
			break;
		case FIELD_UPDATED:
			parse_set_date(
			    &d->updated, prio, r->prio, parse_date(p, k));
			break;
		case FIELD_TTL:
		case FIELD_UPDATE_PERIOD:
		case FIELD_UPDATE_FREQUENCY:
			parse_schedule(d, r->field, k);
			break;
		default:
			break;
		}
	}
}

/*
 * How often the feed says it changes: RSS's <ttl> (minutes) and the
 * syndication module's updatePeriod / updateFrequency. Nonsense is
 * ignored; nothing beyond a week is believed.
 */
static void
parse_schedule(struct feed_doc *d, enum parse_field field, const xmlNode *k)
{
	static const struct {
		const char *name;
		int seconds;
	} periods[] = {
		{ "hourly", 3600 },
		{ "daily", 86400 },
		{ "weekly", 7 * 86400 },
		{ "monthly", 30 * 86400 },
		{ "yearly", 365 * 86400 },
	};
	char *v, *end;
	long n;

	if ((v = parse_text(k)) == NULL)
		return;
	if (field == FIELD_UPDATE_PERIOD) {
		for (size_t i = 0; i < sizeof periods / sizeof periods[0];
		     i++) {
			if (strcasecmp(v, periods[i].name) == 0)
				d->update_period = periods[i].seconds;
		}
		free(v);
		return;
	}
	n = strtol(v, &end, 10);
	if (end != v && *end == '\0' && n > 0 && n <= 7 * 24 * 60) {
		if (field == FIELD_TTL)
			d->ttl = (int)n * 60;
		else
			d->update_frequency = (int)n;
	}
	free(v);
}

/* The root element names the format, and where entries stand. */
static void
parse_root(struct parse *p, const char *name, const char *uri)
{
	xmlChar *version;

	if (uri != NULL)
		p->root_ns = xstrdup(uri);
	if (strcmp(name, "rss") == 0) {
		p->family = FAMILY_RSS;
		p->doc->format = FEED_FORMAT_RSS20;
		version = xmlGetProp(p->ctxt->node, (const xmlChar *)"version");
		if (version != NULL &&
		    strncmp((char *)version, "0.9", 3) == 0 &&
		    version[3] >= '1' && version[3] <= '4')
			p->doc->format =
			    FEED_FORMAT_RSS091 + (version[3] - '1');
		xmlFree(version);
		p->container_depth = 2;
	} else if (strcmp(name, "RDF") == 0) {
		p->family = FAMILY_RSS;
		p->doc->format = FEED_FORMAT_RSS10;
		p->container_depth = 2;
		for (xmlNs *ns = p->ctxt->node->nsDef; ns != NULL;
		     ns = ns->next) {
			if (ns->prefix == NULL && ns->href != NULL &&
			    strcmp((const char *)ns->href, NS_RSS090) == 0)
				p->doc->format = FEED_FORMAT_RSS090;
		}
	} else if (strcmp(name, "feed") == 0) {
		p->family = FAMILY_ATOM;
		p->doc->format = uri != NULL && strcmp(uri, NS_ATOM03) == 0 ?
		    FEED_FORMAT_ATOM03 :
		    FEED_FORMAT_ATOM10;
		p->container_depth = 1;
		p->container = p->ctxt->node;
	} else if (uri == NULL && strcasecmp(name, "channel") == 0) {
		p->family = FAMILY_CDF;
		p->doc->format = FEED_FORMAT_CDF;
		p->container_depth = 1;
		p->container = p->ctxt->node;
		parse_cdf_attrs(
		    p, p->container, &p->doc->link, &p->doc->updated);
	} else {
		xasprintf(&p->cause, "not a feed: the document is <%s>", name);
		p->is_stopped = 1;
		xmlStopParser(p->ctxt);
	}
}

static void
parse_start_cb(void *ctx, const xmlChar *name, const xmlChar *prefix,
    const xmlChar *uri, int nns, const xmlChar **ns, int nattrs, int ndefaulted,
    const xmlChar **attrs)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct parse *p = ctxt->_private;
	int max = p->opts->max_depth ? p->opts->max_depth : PARSE_MAX_DEPTH;

	parse_sax2_start(
	    ctx, name, prefix, uri, nns, ns, nattrs, ndefaulted, attrs);
	if (p->is_stopped)
		return;
	if (++p->depth > max) {
		feed_doc_error(p->doc,
		    "elements nested deeper than %d; the "
		    "rest of the document is ignored",
		    max);
		p->doc->is_bozo = 1;
		p->is_stopped = 1;
		xmlStopParser(ctxt);
		return;
	}
	if (p->depth == 1) {
		parse_root(p, (const char *)name, (const char *)uri);
		return;
	}
	if (p->depth == 2 && p->family == FAMILY_RSS &&
	    strcmp((const char *)name, "channel") == 0) {
		p->container = ctxt->node;
		if (uri != NULL && strcmp((const char *)uri, NS_RSS090) == 0)
			p->doc->format = FEED_FORMAT_RSS090;
	}
}

/*
 * Is the element an item or entry? At any depth: when broken markup
 * leaves an item open, the next one nests inside it, and is read all the
 * same.
 */
static int
parse_is_entry(const struct parse *p, const xmlNode *n)
{
	const char *name = (const char *)n->name;

	if (n->type != XML_ELEMENT_NODE || n->parent == NULL ||
	    n->parent->type != XML_ELEMENT_NODE ||
	    parse_family_of(p, n) != p->family)
		return 0;
	if (p->family == FAMILY_CDF)
		return strcasecmp(name, "item") == 0;
	return strcmp(name, "item") == 0 || strcmp(name, "entry") == 0;
}

static void
parse_end_cb(
    void *ctx, const xmlChar *name, const xmlChar *prefix, const xmlChar *uri)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct parse *p = ctxt->_private;
	xmlNode *node = ctxt->node;
	int depth = p->depth--;

	parse_sax2_end(ctx, name, prefix, uri);
	if (p->is_stopped || node == NULL || depth == 1)
		return;
	if (parse_is_entry(p, node))
		parse_entry(p, node);
	else if (node->parent == p->container && node != p->container)
		parse_feed_field(p, node);
	else if (depth != 2 || node == p->container)
		return;
	/*
	 * Read and done with: free it, so the tree stays small. The text
	 * before it is now the parent's last child: nodemem 0 makes libxml2
	 * append to it with xmlTextConcat rather than through its cached
	 * length, which belonged to another node.
	 */
	for (xmlNode *a = p->container; a != NULL; a = a->parent) {
		/* Broken markup can put the channel inside what goes. */
		if (a == node) {
			p->container = NULL;
			break;
		}
	}
	xmlUnlinkNode(node);
	xmlFreeNode(node);
	ctxt->nodemem = 0;
	ctxt->nodelen = 0;
}

static void
parse_error_cb(void *ctx, xmlErrorPtr err)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct parse *p = ctxt->_private;
	char *msg;
	size_t len;

	if (err == NULL || err->level < XML_ERR_ERROR || p->is_stopped)
		return;
	p->doc->is_bozo = 1;
	if (p->nxml_errors++ >= PARSE_MAX_ERRORS)
		return;
	msg = xstrdup(err->message != NULL ? err->message : "XML error");
	len = strlen(msg);
	while (len > 0 && strchr("\n ", msg[len - 1]) != NULL)
		msg[--len] = '\0';
	feed_doc_error(p->doc, "line %d: %s", err->line, msg);
	free(msg);
}

static void
parse_sax_init(void)
{
	if (parse_sax2_start != NULL)
		return;
	xmlSAXVersion(&parse_sax, 2);
	parse_sax2_start = parse_sax.startElementNs;
	parse_sax2_end = parse_sax.endElementNs;
	parse_sax.startElementNs = parse_start_cb;
	parse_sax.endElementNs = parse_end_cb;
	parse_sax.serror = parse_error_cb;
	parse_sax.warning = NULL;
	parse_sax.error = NULL;
	parse_sax.fatalError = NULL;
}

/*
 * Where a document's bytes come from: memory, or a file read in
 * pieces. Both can start again, since choosing an encoding reads the
 * document once before parsing it.
 */
struct parse_src {
	const char *buf;
	size_t len;
	size_t off;
	int fd;
	char *piece;
};

/* Return the next piece (*n bytes, 0 at the end), or NULL on error. */
static const char *
parse_src_read(struct parse_src *src, size_t *n)
{
	ssize_t r;

	if (src->fd == -1) {
		*n = src->len - src->off < PARSE_PIECE ? src->len - src->off :
							 PARSE_PIECE;
		src->off += *n;
		return src->buf + src->off - *n;
	}
	if (src->piece == NULL)
		src->piece = xmalloc(PARSE_PIECE);
	while ((r = read(src->fd, src->piece, PARSE_PIECE)) == -1 &&
	    errno == EINTR)
		;
	if (r == -1)
		return NULL;
	*n = (size_t)r;
	src->off += *n;
	return src->piece;
}

static int
parse_src_rewind(struct parse_src *src)
{
	src->off = 0;
	if (src->fd != -1 && lseek(src->fd, 0, SEEK_SET) == -1)
		return -1;
	return 0;
}

/* Does the whole document decode in this encoding (within the limit)? */
static int
parse_decodes(
    struct parse_src *src, const char *encoding, size_t skip, size_t max)
{
	struct charset_conv *conv;
	const char *piece;
	size_t n;
	int rc = 0;

	if (parse_src_rewind(src) == -1 ||
	    (conv = charset_conv_new(encoding)) == NULL)
		return 0;
	do {
		if ((piece = parse_src_read(src, &n)) == NULL) {
			rc = -1;
			break;
		}
		if (src->off - n < skip) {
			piece += skip;
			n -= skip;
		}
		/* A document cut at max may end inside a character. */
		rc =
		    charset_conv_push(conv, piece, n, n == 0, NULL, NULL, NULL);
	} while (rc == 0 && n > 0 && src->off <= max);
	charset_conv_free(conv);
	return rc == 0;
}

/*
 * The fallbacks' turn: the document is in no encoding it declares, nor
 * UTF-8. Put a single-byte Cyrillic encoding in *out when its letters
 * say which one and it decodes the document; return 0, or -1 when not.
 */
static int
parse_guess_cyrillic(struct parse_src *src, const struct charset_guess *g,
    size_t max, struct charset_candidate *out)
{
	const char *piece, *name;
	size_t n;

	if (parse_src_rewind(src) == -1 ||
	    (piece = parse_src_read(src, &n)) == NULL || n < g->bom_len)
		return -1;
	name = charset_guess_cyrillic(piece + g->bom_len, n - g->bom_len);
	if (name == NULL || !parse_decodes(src, name, g->bom_len, max))
		return -1;
	snprintf(out->name, sizeof out->name, "%s", name);
	out->source = CHARSET_FALLBACK;
	return 0;
}

/* Say why the document is read in c, the i-th candidate, if it must. */
static void
parse_report_encoding(struct parse *p, const struct charset_guess *g, int i,
    const struct charset_candidate *c, int is_guessed)
{
	const char *why = is_guessed ? ", as its letters suggest" : "";

	if (i > 0 && g->v[0].source != CHARSET_DEFAULT) {
		feed_doc_error(p->doc,
		    "the document is not in its declared encoding %s; read "
		    "as %s%s",
		    g->v[0].name, c->name, why);
		p->doc->is_bozo = 1;
	} else if (c->source == CHARSET_FALLBACK) {
		/* XML without a declaration is UTF-8 or UTF-16. */
		feed_doc_error(p->doc,
		    "the document is not UTF-8 and declares no encoding; "
		    "read as %s%s",
		    c->name, why);
		p->doc->is_bozo = 1;
	}
}

/*
 * Put the first candidate encoding that decodes the document in *out;
 * return 0, or -1 when none does.
 */
static int
parse_pick_encoding(struct parse *p, struct parse_src *src,
    const struct charset_guess *g, size_t max, struct charset_candidate *out)
{
	const struct charset_candidate *c;
	int has_guessed = 0;

	for (int i = 0; i < g->n; i++) {
		c = &g->v[i];
		if (c->source == CHARSET_FALLBACK && !has_guessed) {
			has_guessed = 1;
			if (parse_guess_cyrillic(src, g, max, out) == 0) {
				parse_report_encoding(p, g, i, out, 1);
				return 0;
			}
		}
		if (!parse_decodes(src, c->name, g->bom_len, max))
			continue;
		/*
		 * Servers that add charset=ISO-8859-1 by default are common;
		 * a document that is valid UTF-8 all through is UTF-8.
		 */
		if (c->source == CHARSET_HTTP &&
		    (strcmp(c->name, "ISO-8859-1") == 0 ||
			strcmp(c->name, "WINDOWS-1252") == 0) &&
		    parse_decodes(src, "UTF-8", g->bom_len, max)) {
			feed_doc_error(p->doc,
			    "served as %s but is UTF-8; read "
			    "as UTF-8",
			    c->name);
			snprintf(out->name, sizeof out->name, "UTF-8");
			out->source = CHARSET_DETECTED;
			return 0;
		}
		*out = *c;
		parse_report_encoding(p, g, i, out, 0);
		return 0;
	}
	return -1;
}

/* Feed the document through charset, repair and libxml2. */
static int
parse_xml_run(struct parse *p, struct parse_src *src, const char *encoding,
    size_t skip, size_t max)
{
	struct charset_conv *conv;
	struct repair *rep;
	const char *piece;
	char *utf8 = NULL, *xml = NULL;
	size_t n, ulen, ucap = 0, xlen, xcap = 0;
	int last, is_utf8 = strcmp(encoding, "UTF-8") == 0;

	if (parse_src_rewind(src) == -1 ||
	    (conv = charset_conv_new(encoding)) == NULL)
		return -1;
	rep = repair_new();
	do {
		if ((piece = parse_src_read(src, &n)) == NULL)
			break;
		if (src->off - n < skip) {
			piece += skip;
			n -= skip;
		}
		last = n == 0 || src->off > max;
		ulen = xlen = 0;
		if (is_utf8) {
			/* Checked already: UTF-8 goes on as it is. */
			repair_push(rep, piece, n, last, &xml, &xlen, &xcap);
		} else {
			/* Checked too; a cut at max may split a character. */
			(void)charset_conv_push(
			    conv, piece, n, n == 0, &utf8, &ulen, &ucap);
			repair_push(rep, utf8, ulen, last, &xml, &xlen, &xcap);
		}
		xmlParseChunk(p->ctxt, xml, (int)xlen, last);
	} while (!last && !p->is_stopped);
	if (src->off > max) {
		feed_doc_error(p->doc,
		    "document larger than %zu bytes; the "
		    "rest is ignored",
		    max);
		p->doc->is_bozo = 1;
	}
	parse_repair_report(p, rep);
	repair_free(rep);
	charset_conv_free(conv);
	free(utf8);
	free(xml);
	return 0;
}

static void
parse_repair_report(struct parse *p, const struct repair *rep)
{
	char *msg;
	int is_bozo;

	if ((msg = repair_report(rep, &is_bozo)) != NULL) {
		feed_doc_error(p->doc, "%s", msg);
		free(msg);
	}
	if (is_bozo)
		p->doc->is_bozo = 1;
}

/* Say what a document that holds no element starts with. */
static void
parse_not_xml(struct parse *p, const char *head, size_t len)
{
	char start[41];
	size_t i, n = 0;

	for (i = 0; i < len && n < sizeof start - 1; i++) {
		unsigned char c = (unsigned char)head[i];

		if (c == '\n' || c == '\r' || c == '\t')
			c = ' ';
		if (c >= 0x20 && c < 0x7f)
			start[n++] = (char)c;
	}
	start[n] = '\0';
	xasprintf(&p->cause,
	    "not a feed: no XML element in it (it starts "
	    "\"%s\")",
	    start);
}

static int
parse_xml(struct parse *p, struct parse_src *src, const char *head,
    size_t headlen, size_t max)
{
	struct charset_candidate c;
	struct charset_guess g;
	xmlChar *lang;

	charset_sniff(
	    head, headlen, p->opts->content_type, p->opts->encoding, &g);
	if (g.warning != NULL)
		feed_doc_error(p->doc, "%s", g.warning);
	if (!g.is_xml_type) {
		feed_doc_error(p->doc,
		    "served as %s, which is not an XML "
		    "type",
		    p->opts->content_type);
		p->doc->is_bozo = 1;
	}
	if (parse_pick_encoding(p, src, &g, max, &c) == -1) {
		charset_guess_clear(&g);
		xasprintf(&p->cause,
		    "cannot read the document: no encoding "
		    "decodes it");
		return -1;
	}
	parse_sax_init();
	p->ctxt =
	    xmlCreatePushParserCtxt(&parse_sax, NULL, NULL, 0, p->opts->base);
	if (p->ctxt == NULL)
		fatalx("xmlCreatePushParserCtxt failed");
	p->ctxt->_private = p;
	xmlCtxtUseOptions(p->ctxt,
	    XML_PARSE_RECOVER | XML_PARSE_NONET | XML_PARSE_NOCDATA |
		XML_PARSE_COMPACT | XML_PARSE_IGNORE_ENC | XML_PARSE_NOERROR |
		XML_PARSE_NOWARNING);
	parse_xml_run(p, src, c.name, g.bom_len, max);
	charset_guess_clear(&g);
	/* A document cut short: read what its open entries hold. */
	for (xmlNode *n = p->ctxt->node; n != NULL && !p->is_stopped;
	     n = n->parent) {
		if (parse_is_entry(p, n))
			parse_entry(p, n);
	}
	if (p->doc->format == FEED_FORMAT_UNKNOWN && p->cause == NULL)
		parse_not_xml(p, head + g.bom_len, headlen - g.bom_len);
	if (p->doc->language == NULL && p->container != NULL &&
	    (lang = xmlNodeGetLang(p->container)) != NULL) {
		p->doc->language = xstrdup((const char *)lang);
		xmlFree(lang);
	}
	xmlFreeDoc(p->ctxt->myDoc);
	xmlFreeParserCtxt(p->ctxt);
	p->ctxt = NULL;
	free(p->root_ns);
	return p->cause != NULL ? -1 : 0;
}

static char *
parse_json_str(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	char *s;

	if (json_is_string(v))
		s = xstrdup(json_string_value(v));
	else if (json_is_integer(v))
		xasprintf(&s, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else
		return NULL;
	return parse_trim(s);
}

static time_t
parse_json_date(struct parse *p, const json_t *o, const char *key)
{
	char *s = parse_json_str(o, key);
	time_t t = -1;

	if (s != NULL && date_parse(s, &t) == -1) {
		feed_doc_error(p->doc, "unparseable date \"%.80s\"", s);
		t = -1;
	}
	free(s);
	return t;
}

static char *
parse_json_url(struct parse *p, const json_t *o, const char *key)
{
	char *raw = parse_json_str(o, key), *url;

	if (raw == NULL || (url = url_resolve(p->opts->base, raw)) == NULL)
		return raw;
	free(raw);
	return url;
}

/* JSON Feed 1.1's authors[0].name, or 1.0's author.name. */
static char *
parse_json_author(const json_t *item)
{
	const json_t *a = json_object_get(item, "authors");

	if (json_is_array(a) && json_array_size(a) > 0)
		return parse_json_str(json_array_get(a, 0), "name");
	a = json_object_get(item, "author");
	return json_is_object(a) ? parse_json_str(a, "name") : NULL;
}

static void
parse_json_item(struct parse *p, const json_t *item)
{
	struct entry *e = feed_entry_new();
	const json_t *v, *size;
	char *url, *html;
	size_t i;

	/* JSON Feed's title and summary are plain text, content_text too. */
	e->id = parse_json_str(item, "id");
	e->title = parse_json_str(item, "title");
	e->is_title_plain = 1;
	if ((e->link = parse_json_url(p, item, "url")) == NULL)
		e->link = parse_json_url(p, item, "external_url");
	e->summary = parse_json_str(item, "summary");
	e->is_summary_plain = 1;
	if ((html = parse_json_str(item, "content_html")) != NULL) {
		if (p->opts->is_text_only)
			e->content = html;
		else {
			e->content = html_sanitize(html, p->opts->base);
			free(html);
		}
	}
	if (e->content == NULL) {
		e->content = parse_json_str(item, "content_text");
		e->is_content_plain = 1;
	}
	e->author = parse_json_author(item);
	e->published = parse_json_date(p, item, "date_published");
	e->updated = parse_json_date(p, item, "date_modified");
	json_array_foreach(json_object_get(item, "tags"), i, v)
	{
		if (json_is_string(v))
			feed_entry_add_category(
			    e, xstrdup(json_string_value(v)));
	}
	json_array_foreach(json_object_get(item, "attachments"), i, v)
	{
		if ((url = parse_json_url(p, v, "url")) == NULL)
			continue;
		size = json_object_get(v, "size_in_bytes");
		feed_entry_add_enclosure(e, url, parse_json_str(v, "mime_type"),
		    json_is_integer(size) ? json_integer_value(size) : -1);
	}
	if (p->cb == NULL)
		feed_doc_add_entry(p->doc, e);
	else if (p->cb(e, p->arg) == -1)
		p->is_stopped = 1;
}

/* Read all of a document (up to max bytes) into memory. */
static char *
parse_src_slurp(struct parse_src *src, size_t max, size_t *len)
{
	const char *piece;
	char *all = NULL;
	size_t n;

	*len = 0;
	if (parse_src_rewind(src) == -1)
		return NULL;
	while ((piece = parse_src_read(src, &n)) != NULL && n > 0) {
		if (*len + n > max)
			n = max - *len;
		all = xreallocarray(all, *len + n + 1, 1);
		memcpy(all + *len, piece, n);
		*len += n;
		if (*len == max)
			break;
	}
	if (piece == NULL) {
		free(all);
		return NULL;
	}
	return all != NULL ? all : xstrdup("");
}

static int
parse_json(struct parse *p, struct parse_src *src, size_t max)
{
	json_error_t err;
	json_t *root, *v;
	char *buf;
	size_t len, i, max_entries, skip;

	if ((buf = parse_src_slurp(src, max, &len)) == NULL) {
		xasprintf(
		    &p->cause, "cannot read the document: %s", strerror(errno));
		return -1;
	}
	/*
	 * A UTF-8 BOM, which parse_is_json looked past, is no JSON; a key
	 * given twice keeps its last value, as browsers' JSON.parse does.
	 */
	skip = len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
	root = json_loadb(buf + skip, len - skip, 0, &err);
	free(buf);
	if (root == NULL || !json_is_object(root) ||
	    !json_is_string(json_object_get(root, "version")) ||
	    strncmp(json_string_value(json_object_get(root, "version")),
		"https://jsonfeed.org/version/", 29) != 0) {
		xasprintf(&p->cause, "not a feed: %s%s",
		    root == NULL ? "JSON error: " :
				   "JSON without a JSON Feed version",
		    root == NULL ? err.text : "");
		json_decref(root);
		return -1;
	}
	p->doc->format = FEED_FORMAT_JSONFEED;
	p->doc->title = parse_json_str(root, "title");
	p->doc->link = parse_json_url(p, root, "home_page_url");
	p->doc->description = parse_json_str(root, "description");
	p->doc->language = parse_json_str(root, "language");
	max_entries =
	    p->opts->max_entries ? p->opts->max_entries : PARSE_MAX_ENTRIES;
	json_array_foreach(json_object_get(root, "items"), i, v)
	{
		if (i >= max_entries) {
			feed_doc_error(p->doc,
			    "more than %zu entries; the "
			    "rest are ignored",
			    max_entries);
			break;
		}
		if (json_is_object(v))
			parse_json_item(p, v);
		if (p->is_stopped)
			break;
	}
	json_decref(root);
	return 0;
}

/* Is the document JSON: its first character, past a BOM, a '{'? */
static int
parse_is_json(const char *head, size_t len)
{
	size_t i = 0;

	if (len >= 3 && memcmp(head, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < len && strchr(" \t\r\n", head[i]) != NULL && head[i] != '\0')
		i++;
	return i < len && head[i] == '{';
}

static struct feed_doc *
parse_src(struct parse_src *src, const struct parse_opts *opts,
    parse_entry_cb cb, void *arg, char **cause)
{
	struct parse p;
	char head[CHARSET_SNIFF_BYTES];
	const char *piece;
	size_t n, max = opts->max_size ? opts->max_size : PARSE_MAX_SIZE;
	int rc;

	memset(&p, 0, sizeof p);
	p.opts = opts;
	p.cb = cb;
	p.arg = arg;
	if ((piece = parse_src_read(src, &n)) == NULL) {
		xasprintf(
		    cause, "cannot read the document: %s", strerror(errno));
		free(src->piece);
		src->piece = NULL;
		return NULL;
	}
	if (n > sizeof head)
		n = sizeof head;
	memcpy(head, piece, n);
	p.doc = feed_doc_new();
	if (parse_is_json(head, n))
		rc = parse_json(&p, src, max);
	else
		rc = parse_xml(&p, src, head, n, max);
	free(src->piece);
	if (rc == -1) {
		feed_doc_free(p.doc);
		*cause = p.cause;
		return NULL;
	}
	return p.doc;
}

struct feed_doc *
parse_buffer(const char *buf, size_t len, const struct parse_opts *opts,
    parse_entry_cb cb, void *arg, char **cause)
{
	struct parse_src src = { buf, len, 0, -1, NULL };

	return parse_src(&src, opts, cb, arg, cause);
}

struct feed_doc *
parse_fd(int fd, const struct parse_opts *opts, parse_entry_cb cb, void *arg,
    char **cause)
{
	struct parse_src src = { NULL, 0, 0, fd, NULL };

	return parse_src(&src, opts, cb, arg, cause);
}
