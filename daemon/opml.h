#ifndef FEEDWATCH_OPML_H
#define FEEDWATCH_OPML_H

#include <stddef.h>

/*
 * OPML 1.0 and 2.0 feed lists through libxml2: read with no network, no
 * entity declarations and bounded size and nesting; edited in place, so
 * that what a person wrote in a file (folders, comments, attributes we
 * do not know) survives an added feed; written back atomically.
 *
 * An <outline> with an xmlUrl is a feed. Its name is its title, else its
 * text, else the host of its URL. Its tags are the names of the outlines
 * it is nested in (its folders, outermost first), then the parts of its
 * category attribute ("/News/World,tech" gives News, World and tech).
 * In a tag, runs of white space and commas become one '-', so that a tag
 * is a word that tag: and a watchlist's feeds key can name. When two
 * feeds of one file have the same name, the later ones get a suffix:
 * "name-2", "name-3", ... in document order.
 */

#define OPML_MAX_SIZE (16 * 1024 * 1024) /* bytes of a file */
#define OPML_MAX_DEPTH 32		 /* outlines nested in outlines */
#define OPML_MAX_FEEDS 100000
#define OPML_MAX_NAME 255 /* bytes of a name, as of a [feed] section */
#define OPML_MAX_TAGS 32  /* of one feed; more are dropped */

struct opml_feed {
	char *name;
	char *url;	/* xmlUrl as written */
	char *html_url; /* htmlUrl, NULL = none */
	char **tags;	/* NULL-terminated, never NULL */
	int line;	/* of its <outline>, 0 = added since it was read */
};

struct opml {
	struct opml_feed *feeds;
	size_t nfeeds;
	void *doc; /* the libxml2 document, for editing */
};

/*
 * Read an OPML document from memory; name is what errors call it.
 * Return it (free with opml_free), or NULL with *cause (caller frees),
 * "NAME:LINE: libxml2's message" when it is not well-formed.
 */
struct opml *opml_read(
    const char *buf, size_t len, const char *name, char **cause);
/* The same for a file, at most OPML_MAX_SIZE bytes. */
struct opml *opml_load(const char *path, char **cause);
/* Return an empty OPML 2.0 document with this title. Cannot fail. */
struct opml *opml_new(const char *title);
void opml_free(struct opml *);
/* Return the feed with this name, or NULL. */
const struct opml_feed *opml_find(const struct opml *, const char *name);
/*
 * Append a feed: into the top-level folder named as its first tag
 * (created at the end of the body when there is none), with its other
 * tags in its category attribute, so that reading it back gives the
 * same name, URL and tags. html_url may be NULL. The name is used as
 * given; the caller keeps names unique. Return 0, or -1 with *cause
 * when a string cannot go into XML (invalid UTF-8, control characters)
 * or the name or URL is empty.
 */
int opml_add(struct opml *, const char *name, const char *url,
    const char *const *tags, const char *html_url, char **cause);
/* Return the document as UTF-8 text (caller frees). Cannot fail. */
char *opml_dump(const struct opml *, size_t *len);
/*
 * Write the document to path atomically: a temporary file in the same
 * directory, flushed, then renamed over path (keeping its mode). Return
 * 0, or -1 with *cause.
 */
int opml_save(const struct opml *, const char *path, char **cause);

#endif
