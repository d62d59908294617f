#ifndef FEEDWATCH_PARSE_H
#define FEEDWATCH_PARSE_H

#include <stddef.h>

/*
 * Feed documents to the model of feed.h: RSS 0.90 to 2.0, RSS 1.0
 * (RDF), Atom 0.3/1.0 and CDF through libxml2's push parser, one entry's
 * tree at a time; JSON Feed 1.0/1.1 through jansson. The format is told
 * by the document, not its URL or Content-Type. No clock: dates come out
 * UTC, links absolute.
 */

struct entry;
struct feed_doc;

#define PARSE_MAX_SIZE (64 * 1024 * 1024) /* bytes of document */
#define PARSE_MAX_ENTRIES 10000
#define PARSE_MAX_DEPTH 64 /* element nesting */

struct parse_opts {
	const char *base;	  /* the document's URL, may be NULL */
	const char *content_type; /* its HTTP Content-Type, may be NULL */
	const char *encoding;	  /* the user's override, may be NULL */
	size_t max_size;	  /* bytes, 0 = PARSE_MAX_SIZE */
	size_t max_entries;	  /* 0 = PARSE_MAX_ENTRIES */
	int max_depth;		  /* 0 = PARSE_MAX_DEPTH */
	/*
	 * The caller only reads the text of summaries and contents (with
	 * text_from_html()), never shows their HTML: leave it as the feed
	 * wrote it rather than sanitize it. Sanitizing parses the HTML once
	 * more, for nothing; the daemon and `feedwatch match` set this.
	 */
	int is_text_only;
};

/*
 * Called with each entry as soon as it has been read; it takes the entry
 * over. Return 0 to go on, -1 to stop parsing.
 */
typedef int (*parse_entry_cb)(struct entry *, void *arg);

/*
 * Parse a document held in memory. With cb NULL the entries are kept in
 * the returned document, else each goes to cb. Return the document
 * (caller frees): is_bozo is set when it was not well-formed or its
 * declared encoding was wrong, the reasons are in errors, and whatever
 * could be read is there. Return NULL with *cause (caller frees) when
 * the bytes are not a feed at all.
 */
struct feed_doc *parse_buffer(const char *buf, size_t len,
    const struct parse_opts *, parse_entry_cb cb, void *arg, char **cause);
/* The same for a file descriptor that can seek, read in pieces. */
struct feed_doc *parse_fd(int fd, const struct parse_opts *, parse_entry_cb cb,
    void *arg, char **cause);

#endif
