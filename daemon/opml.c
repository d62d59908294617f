#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <libxml/SAX2.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlstring.h>

#include "log.h"
#include "opml.h"
#include "url.h"
#include "xmalloc.h"

/*
 * OPML: libxml2 reads the file into a tree, which is kept so that
 * opml_add can edit it; opml_walk collects the feeds from the nested
 * outlines, carrying the names of the folders down as tags.
 */

#define OPML_XML_OPTIONS                                            \
	(XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOERROR | \
	    XML_PARSE_NOWARNING | XML_PARSE_BIG_LINES)

/* What the parser's callbacks tell opml_read. */
struct opml_parse {
	char *entity; /* the first entity declared, refused */
	int entity_line;
	char *error; /* libxml2's first error, which says the most */
	int error_line;
};

/* A name taken in the file, and the next suffix to try after it. */
struct opml_name {
	const char *name; /* borrowed from the feed */
	int next;
};

struct opml_walk {
	struct opml *o;
	const char *name; /* of the file, for errors */
	/* The tags of the outlines around this one, outermost first. */
	char *folders[OPML_MAX_DEPTH];
	size_t nfolders;
	void *names; /* tsearch tree of struct opml_name */
	char **cause;
};

static void opml_entity_cb(
    void *, const xmlChar *, int, const xmlChar *, const xmlChar *, xmlChar *);
static int opml_walk(struct opml_walk *, xmlNodePtr, int);

static int
opml_is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The length of s cut to at most max bytes, not inside a character. */
static size_t
opml_cut(const char *s, size_t max)
{
	size_t len = strlen(s);

	if (len <= max)
		return len;
	len = max;
	while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
		len--;
	return len;
}

/*
 * Collapse runs of white space and control characters (and, for a tag,
 * commas) into one sep, trim, and cut to OPML_MAX_NAME bytes. Return a
 * new string, or NULL when nothing is left.
 */
static char *
opml_squeeze(const char *s, char sep, int is_tag)
{
	char *out = xmalloc(strlen(s) + 1);
	size_t len = 0;
	int is_gap = 0;
	unsigned char c;

	for (; (c = (unsigned char)*s) != '\0'; s++) {
		if (opml_is_space(c) || c < 0x20 || c == 0x7f ||
		    (is_tag && c == ',')) {
			is_gap = len > 0;
			continue;
		}
		if (is_gap)
			out[len++] = sep;
		is_gap = 0;
		out[len++] = (char)c;
	}
	out[len] = '\0';
	/* Cut, and leave no sep at the end: read again, it would go. */
	len = opml_cut(out, OPML_MAX_NAME);
	while (len > 0 && out[len - 1] == sep)
		len--;
	out[len] = '\0';
	if (*out == '\0') {
		free(out);
		return NULL;
	}
	return out;
}

/* An attribute's value by name, any case (xmlURL is seen), or NULL. */
static char *
opml_attr(xmlNodePtr n, const char *name)
{
	xmlChar *v;
	char *s;

	for (xmlAttrPtr a = n->properties; a != NULL; a = a->next) {
		if (strcasecmp((const char *)a->name, name) != 0)
			continue;
		v = xmlNodeListGetString(n->doc, a->children, 1);
		s = xstrdup(v != NULL ? (const char *)v : "");
		xmlFree(v);
		return s;
	}
	return NULL;
}

/* A folder's tag: its text, else its title; NULL when it has none. */
static char *
opml_folder_tag(xmlNodePtr n)
{
	static const char *attrs[] = { "text", "title" };
	char *v, *tag;

	for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++) {
		if ((v = opml_attr(n, attrs[i])) == NULL)
			continue;
		tag = opml_squeeze(v, '-', 1);
		free(v);
		if (tag != NULL)
			return tag;
	}
	return NULL;
}

/* A feed's xmlUrl, trimmed; NULL when there is none or it is empty. */
static char *
opml_url(xmlNodePtr n)
{
	char *v, *s, *out = NULL;
	size_t len;

	if ((v = opml_attr(n, "xmlUrl")) == NULL)
		return NULL;
	for (s = v; opml_is_space((unsigned char)*s); s++)
		continue;
	len = strlen(s);
	while (len > 0 && opml_is_space((unsigned char)s[len - 1]))
		len--;
	if (len > 0)
		out = xstrndup(s, len);
	free(v);
	return out;
}

static int
opml_is_element(xmlNodePtr n, const char *name)
{
	return n->type == XML_ELEMENT_NODE &&
	    strcmp((const char *)n->name, name) == 0;
}

static void
opml_tags_free(char **tags)
{
	for (size_t i = 0; tags != NULL && tags[i] != NULL; i++)
		free(tags[i]);
	free(tags);
}

/* Add a tag (taken over) to a NULL-terminated list unless it is there. */
static char **
opml_tags_add(char **tags, size_t *n, char *tag)
{
	for (size_t i = 0; i < *n; i++) {
		if (strcmp(tags[i], tag) == 0) {
			free(tag);
			return tags;
		}
	}
	if (*n >= OPML_MAX_TAGS) {
		free(tag);
		return tags;
	}
	tags = xreallocarray(tags, *n + 2, sizeof *tags);
	tags[(*n)++] = tag;
	tags[*n] = NULL;
	return tags;
}

/* "/News/World,tech": the parts between commas and slashes. */
static char **
opml_category_tags(char **tags, size_t *n, const char *category)
{
	char *copy = xstrdup(category), *part, *tag, *save;

	for (part = strtok_r(copy, ",/", &save); part != NULL;
	     part = strtok_r(NULL, ",/", &save)) {
		if ((tag = opml_squeeze(part, '-', 1)) != NULL)
			tags = opml_tags_add(tags, n, tag);
	}
	free(copy);
	return tags;
}

/* Append a feed to the list, growing it by doubling. */
static struct opml_feed *
opml_feed_push(struct opml *o)
{
	size_t n = o->nfeeds;

	if ((n & (n - 1)) == 0)
		o->feeds = xreallocarray(
		    o->feeds, n == 0 ? 1 : n * 2, sizeof *o->feeds);
	memset(&o->feeds[n], 0, sizeof o->feeds[n]);
	o->nfeeds++;
	return &o->feeds[n];
}

static int
opml_name_cmp(const void *a, const void *b)
{
	return strcmp(((const struct opml_name *)a)->name,
	    ((const struct opml_name *)b)->name);
}

/* Remember a name as taken; return the tree's node for it. */
static struct opml_name *
opml_name_take(struct opml_walk *w, const char *name)
{
	struct opml_name *nm = xcalloc(1, sizeof *nm), **found;

	nm->name = name;
	nm->next = 2;
	if ((found = tsearch(nm, &w->names, opml_name_cmp)) == NULL)
		fatal("tsearch");
	if (*found != nm)
		free(nm);
	return *found;
}

/*
 * The name the feed gets: name itself when it is free, else name-2,
 * name-3, ... Each base name remembers the suffix it got to, so that a
 * file with many feeds of one name costs no more than one with many
 * names.
 */
static char *
opml_name_unique(struct opml_walk *w, char *name)
{
	struct opml_name key = { name, 0 }, *base, **found;
	char *s;
	size_t len;

	if ((found = tfind(&key, &w->names, opml_name_cmp)) == NULL)
		return name;
	base = *found;
	for (;;) {
		len = opml_cut(name, OPML_MAX_NAME - 12);
		xasprintf(&s, "%.*s-%d", (int)len, name, base->next++);
		key.name = s;
		if (tfind(&key, &w->names, opml_name_cmp) == NULL)
			break;
		free(s);
	}
	free(name);
	return s;
}

/* The name of a feed's outline: title, else text, else its URL's host. */
static char *
opml_feed_name(xmlNodePtr n, const char *url)
{
	static const char *attrs[] = { "title", "text" };
	char *v, *name;

	for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++) {
		if ((v = opml_attr(n, attrs[i])) == NULL)
			continue;
		name = opml_squeeze(v, ' ', 0);
		free(v);
		if (name != NULL)
			return name;
	}
	if ((v = url_host(url)) == NULL)
		return opml_squeeze(url, ' ', 0);
	name = opml_squeeze(v, ' ', 0);
	free(v);
	return name != NULL ? name : opml_squeeze(url, ' ', 0);
}

/* An outline with an xmlUrl: one feed. */
static int
opml_walk_feed(struct opml_walk *w, xmlNodePtr n, char *url)
{
	struct opml_feed *f;
	char *category, *name;
	size_t ntags = 0;

	if (w->o->nfeeds >= OPML_MAX_FEEDS) {
		xasprintf(w->cause, "%s:%ld: more than %d feeds", w->name,
		    xmlGetLineNo(n), OPML_MAX_FEEDS);
		free(url);
		return -1;
	}
	name = opml_name_unique(w, opml_feed_name(n, url));
	f = opml_feed_push(w->o);
	f->name = name;
	f->url = url;
	f->line = (int)xmlGetLineNo(n);
	if ((f->html_url = opml_attr(n, "htmlUrl")) != NULL &&
	    *f->html_url == '\0') {
		free(f->html_url);
		f->html_url = NULL;
	}
	f->tags = xcalloc(1, sizeof *f->tags);
	for (size_t i = 0; i < w->nfolders; i++)
		f->tags =
		    opml_tags_add(f->tags, &ntags, xstrdup(w->folders[i]));
	if ((category = opml_attr(n, "category")) != NULL)
		f->tags = opml_category_tags(f->tags, &ntags, category);
	free(category);
	opml_name_take(w, f->name);
	return 0;
}

/* One outline and what it holds; depth counts the outlines around it. */
static int
opml_walk_outline(struct opml_walk *w, xmlNodePtr n, int depth)
{
	char *url, *tag = NULL;
	int rc;

	if (depth >= OPML_MAX_DEPTH) {
		xasprintf(w->cause, "%s:%ld: outlines nested more than %d deep",
		    w->name, xmlGetLineNo(n), OPML_MAX_DEPTH);
		return -1;
	}
	if ((url = opml_url(n)) != NULL) {
		if (opml_walk_feed(w, n, url) == -1)
			return -1;
	} else if ((tag = opml_folder_tag(n)) != NULL)
		w->folders[w->nfolders++] = tag;
	/* A feed's own outlines, if any, are in the feed's folders. */
	rc = opml_walk(w, n, depth + 1);
	if (tag != NULL) {
		w->nfolders--;
		free(tag);
	}
	return rc;
}

static int
opml_walk(struct opml_walk *w, xmlNodePtr parent, int depth)
{
	for (xmlNodePtr n = parent->children; n != NULL; n = n->next) {
		if (!opml_is_element(n, "outline"))
			continue;
		if (opml_walk_outline(w, n, depth) == -1)
			return -1;
	}
	return 0;
}

/* <body> of an <opml> document, or NULL. */
static xmlNodePtr
opml_body(xmlDocPtr doc)
{
	xmlNodePtr root = xmlDocGetRootElement(doc);

	if (root == NULL || !opml_is_element(root, "opml"))
		return NULL;
	for (xmlNodePtr n = root->children; n != NULL; n = n->next) {
		if (opml_is_element(n, "body"))
			return n;
	}
	return NULL;
}

/*
 * An entity declaration: refused, whatever it says. Without it no
 * entity but XML's five can be referred to, so nothing can expand
 * (billion laughs) or be read from outside (XXE).
 */
static void
opml_entity_cb(void *ctx, const xmlChar *name, int type,
    const xmlChar *public_id, const xmlChar *system_id, xmlChar *content)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct opml_parse *p = ctxt->_private;

	(void)type;
	(void)public_id;
	(void)system_id;
	(void)content;
	if (p->entity == NULL) {
		p->entity = xstrdup((const char *)name);
		p->entity_line = xmlSAX2GetLineNumber(ctxt);
	}
	xmlStopParser(ctxt);
}

/* Keep libxml2's first error; later ones tend to follow from it. */
static void
opml_error_cb(void *ctx, xmlErrorPtr err)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct opml_parse *p = ctxt->_private;
	size_t n;

	if (p->error != NULL || err->level < XML_ERR_ERROR ||
	    err->message == NULL)
		return;
	n = strlen(err->message);
	while (n > 0 && opml_is_space((unsigned char)err->message[n - 1]))
		n--;
	p->error = xstrndup(err->message, n);
	p->error_line = err->line;
}

/* Parse the bytes into a tree, or say why not. */
static xmlDocPtr
opml_parse(const char *buf, size_t len, const char *name, char **cause)
{
	struct opml_parse p;
	xmlParserCtxtPtr ctxt;
	xmlDocPtr doc;

	memset(&p, 0, sizeof p);
	if ((ctxt = xmlNewParserCtxt()) == NULL)
		fatalx("xmlNewParserCtxt failed");
	ctxt->sax->entityDecl = opml_entity_cb;
	ctxt->sax->serror = opml_error_cb;
	ctxt->_private = &p;
	doc = xmlCtxtReadMemory(
	    ctxt, buf, (int)len, NULL, NULL, OPML_XML_OPTIONS);
	if (p.entity != NULL) {
		xasprintf(cause,
		    "%s:%d: entity declarations are refused "
		    "(<!ENTITY %s ...>)",
		    name, p.entity_line, p.entity);
		xmlFreeDoc(doc);
		doc = NULL;
	} else if (doc == NULL && p.error != NULL)
		xasprintf(cause, "%s:%d: %s", name, p.error_line, p.error);
	else if (doc == NULL)
		xasprintf(cause, "%s: not XML", name);
	free(p.entity);
	free(p.error);
	xmlFreeParserCtxt(ctxt);
	return doc;
}

static void
opml_name_free_cb(void *nm)
{
	free(nm);
}

struct opml *
opml_read(const char *buf, size_t len, const char *name, char **cause)
{
	struct opml_walk w;
	struct opml *o;
	xmlDocPtr doc;
	xmlNodePtr body, root;

	if (len > OPML_MAX_SIZE) {
		xasprintf(
		    cause, "%s: larger than %d bytes", name, OPML_MAX_SIZE);
		return NULL;
	}
	if ((doc = opml_parse(buf, len, name, cause)) == NULL)
		return NULL;
	if ((body = opml_body(doc)) == NULL) {
		root = xmlDocGetRootElement(doc);
		if (root != NULL && opml_is_element(root, "opml"))
			xasprintf(cause, "%s: not OPML: no <body>", name);
		else
			xasprintf(cause, "%s: not OPML: the document is <%s>",
			    name, root != NULL ? (const char *)root->name : "");
		xmlFreeDoc(doc);
		return NULL;
	}
	o = xcalloc(1, sizeof *o);
	o->doc = doc;
	memset(&w, 0, sizeof w);
	w.o = o;
	w.name = name;
	w.cause = cause;
	if (opml_walk(&w, body, 0) == -1) {
		tdestroy(w.names, opml_name_free_cb);
		opml_free(o);
		return NULL;
	}
	tdestroy(w.names, opml_name_free_cb);
	return o;
}

struct opml *
opml_load(const char *path, char **cause)
{
	struct opml *o;
	struct stat sb;
	char *buf;
	size_t len = 0;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &sb) == -1) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	if (!S_ISREG(sb.st_mode)) {
		xasprintf(cause, "%s: not a regular file", path);
		close(fd);
		return NULL;
	}
	/* One byte more than allowed tells a file that is too large. */
	buf = xmalloc(OPML_MAX_SIZE + 2);
	while (len <= OPML_MAX_SIZE &&
	    (n = read(fd, buf + len, OPML_MAX_SIZE + 1 - len)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			xasprintf(cause, "%s: %s", path, strerror(errno));
			close(fd);
			free(buf);
			return NULL;
		}
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	o = opml_read(buf, len, path, cause);
	free(buf);
	return o;
}

struct opml *
opml_new(const char *title)
{
	struct opml *o = xcalloc(1, sizeof *o);
	xmlDocPtr doc;
	xmlNodePtr root, head;

	if ((doc = xmlNewDoc((const xmlChar *)"1.0")) == NULL ||
	    (root = xmlNewDocNode(doc, NULL, (const xmlChar *)"opml", NULL)) ==
		NULL)
		fatalx("libxml2 cannot make a document");
	xmlDocSetRootElement(doc, root);
	xmlNewProp(root, (const xmlChar *)"version", (const xmlChar *)"2.0");
	head = xmlNewChild(root, NULL, (const xmlChar *)"head", NULL);
	xmlNewTextChild(
	    head, NULL, (const xmlChar *)"title", (const xmlChar *)title);
	xmlNewChild(root, NULL, (const xmlChar *)"body", NULL);
	o->doc = doc;
	return o;
}

void
opml_free(struct opml *o)
{
	if (o == NULL)
		return;
	for (size_t i = 0; i < o->nfeeds; i++) {
		free(o->feeds[i].name);
		free(o->feeds[i].url);
		free(o->feeds[i].html_url);
		opml_tags_free(o->feeds[i].tags);
	}
	free(o->feeds);
	xmlFreeDoc(o->doc);
	free(o);
}

const struct opml_feed *
opml_find(const struct opml *o, const char *name)
{
	for (size_t i = 0; i < o->nfeeds; i++) {
		if (strcmp(o->feeds[i].name, name) == 0)
			return &o->feeds[i];
	}
	return NULL;
}

/* A string that XML can hold as it is: UTF-8, no control characters. */
static int
opml_is_clean(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return 0;
	}
	return xmlCheckUTF8((const xmlChar *)s);
}

/* The top-level folder whose tag is tag, made when there is none. */
static xmlNodePtr
opml_folder(xmlNodePtr body, const char *tag)
{
	xmlNodePtr n;
	char *url, *t;
	int is_it;

	for (n = body->children; n != NULL; n = n->next) {
		if (!opml_is_element(n, "outline"))
			continue;
		if ((url = opml_attr(n, "xmlUrl")) != NULL && *url != '\0') {
			free(url);
			continue;
		}
		free(url);
		t = opml_folder_tag(n);
		is_it = t != NULL && strcmp(t, tag) == 0;
		free(t);
		if (is_it)
			return n;
	}
	n = xmlNewChild(body, NULL, (const xmlChar *)"outline", NULL);
	xmlNewProp(n, (const xmlChar *)"text", (const xmlChar *)tag);
	xmlNewProp(n, (const xmlChar *)"title", (const xmlChar *)tag);
	return n;
}

/* The tags a feed is written with: squeezed, checked, without repeats. */
static char **
opml_add_tags(const char *const *tags, char **cause)
{
	char **out = xcalloc(1, sizeof *out), *tag;
	size_t n = 0;

	for (size_t i = 0; tags != NULL && tags[i] != NULL; i++) {
		if (!xmlCheckUTF8((const xmlChar *)tags[i])) {
			xasprintf(cause, "tag is not UTF-8");
			opml_tags_free(out);
			return NULL;
		}
		/* A slash would split the tag when it is read back. */
		if ((tag = opml_squeeze(tags[i], '-', 1)) == NULL)
			continue;
		for (char *s = tag; (s = strchr(s, '/')) != NULL; s++)
			*s = '-';
		out = opml_tags_add(out, &n, tag);
	}
	return out;
}

/* "a,b,c" of the tags after the first, or NULL. */
static char *
opml_add_category(char **tags)
{
	char *s = NULL, *t;

	for (size_t i = 1; tags[0] != NULL && tags[i] != NULL; i++) {
		xasprintf(&t, "%s%s%s", s != NULL ? s : "",
		    s != NULL ? "," : "", tags[i]);
		free(s);
		s = t;
	}
	return s;
}

int
opml_add(struct opml *o, const char *name, const char *url,
    const char *const *tags, const char *html_url, char **cause)
{
	struct opml_feed *f;
	xmlNodePtr body = opml_body(o->doc), parent, n;
	char **clean, *category;

	if (*name == '\0' || *url == '\0' || strlen(name) > OPML_MAX_NAME) {
		xasprintf(cause,
		    "a feed needs a name of 1 to %d bytes and a "
		    "URL",
		    OPML_MAX_NAME);
		return -1;
	}
	if (!opml_is_clean(name) || !opml_is_clean(url) ||
	    (html_url != NULL && !opml_is_clean(html_url))) {
		xasprintf(cause,
		    "feed \"%s\": not UTF-8, or holds control "
		    "characters",
		    name);
		return -1;
	}
	if (body == NULL)
		fatalx("opml_add: a document without <body>");
	if ((clean = opml_add_tags(tags, cause)) == NULL)
		return -1;
	parent = clean[0] != NULL ? opml_folder(body, clean[0]) : body;
	n = xmlNewChild(parent, NULL, (const xmlChar *)"outline", NULL);
	xmlNewProp(n, (const xmlChar *)"type", (const xmlChar *)"rss");
	xmlNewProp(n, (const xmlChar *)"text", (const xmlChar *)name);
	xmlNewProp(n, (const xmlChar *)"title", (const xmlChar *)name);
	xmlNewProp(n, (const xmlChar *)"xmlUrl", (const xmlChar *)url);
	if (html_url != NULL)
		xmlNewProp(
		    n, (const xmlChar *)"htmlUrl", (const xmlChar *)html_url);
	if ((category = opml_add_category(clean)) != NULL)
		xmlNewProp(
		    n, (const xmlChar *)"category", (const xmlChar *)category);
	free(category);
	f = opml_feed_push(o);
	f->name = xstrdup(name);
	f->url = xstrdup(url);
	f->html_url = html_url != NULL ? xstrdup(html_url) : NULL;
	f->tags = clean;
	return 0;
}

char *
opml_dump(const struct opml *o, size_t *len)
{
	xmlChar *mem = NULL;
	char *s;
	int size = 0;

	xmlDocDumpFormatMemoryEnc(o->doc, &mem, &size, "UTF-8", 1);
	if (mem == NULL || size < 0)
		fatalx("libxml2 cannot write the OPML document");
	s = xmalloc((size_t)size + 1);
	memcpy(s, mem, (size_t)size);
	s[size] = '\0';
	xmlFree(mem);
	if (len != NULL)
		*len = (size_t)size;
	return s;
}

static int
opml_write_all(int fd, const char *s, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, s, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The mode the file gets: that of the file it replaces, else 0666 - umask. */
static mode_t
opml_save_mode(const char *path)
{
	struct stat sb;
	mode_t mask;

	if (stat(path, &sb) == 0)
		return sb.st_mode & 07777;
	mask = umask(022);
	umask(mask);
	return 0666 & ~mask;
}

int
opml_save(const struct opml *o, const char *path, char **cause)
{
	const char *slash = strrchr(path, '/'), *what;
	char *dir, *tmp, *text;
	size_t len;
	int fd, dfd, saved = 0;

	if (slash == NULL)
		dir = xstrdup(".");
	else
		dir =
		    xstrndup(path, slash == path ? 1 : (size_t)(slash - path));
	xasprintf(&tmp, "%s/.%s.XXXXXX", dir, slash != NULL ? slash + 1 : path);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		xasprintf(cause, "%s: %s", tmp, strerror(errno));
		free(tmp);
		free(dir);
		return -1;
	}
	text = opml_dump(o, &len);
	if (fchmod(fd, opml_save_mode(path)) == -1)
		what = "fchmod";
	else if (opml_write_all(fd, text, len) == -1)
		what = "write";
	else if (fsync(fd) == -1)
		what = "fsync";
	else
		what = NULL;
	saved = errno;
	free(text);
	if (close(fd) == -1 && what == NULL) {
		what = "close";
		saved = errno;
	}
	if (what == NULL && rename(tmp, path) == -1) {
		what = "rename";
		saved = errno;
	}
	if (what != NULL) {
		xasprintf(cause, "%s: %s: %s", path, what, strerror(saved));
		unlink(tmp);
		free(tmp);
		free(dir);
		return -1;
	}
	/* The rename itself must reach the disk too. */
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		fsync(dfd);
		close(dfd);
	}
	free(tmp);
	free(dir);
	return 0;
}
