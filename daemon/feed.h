#ifndef FEEDWATCH_FEED_H
#define FEEDWATCH_FEED_H

#include <stddef.h>
#include <time.h>

/*
 * The parsed model of one feed document. Strings are UTF-8 and owned by
 * the struct; a field the feed did not carry is NULL, a date it did not
 * carry (or that did not parse) is -1.
 */

enum feed_format {
	FEED_FORMAT_UNKNOWN,
	FEED_FORMAT_RSS090,
	FEED_FORMAT_RSS091,
	FEED_FORMAT_RSS092,
	FEED_FORMAT_RSS093,
	FEED_FORMAT_RSS094,
	FEED_FORMAT_RSS20,
	FEED_FORMAT_RSS10,
	FEED_FORMAT_ATOM03,
	FEED_FORMAT_ATOM10,
	FEED_FORMAT_JSONFEED,
	FEED_FORMAT_CDF, /* Microsoft's Channel Definition Format */
};

struct enclosure {
	char *url;	  /* absolute */
	char *type;	  /* MIME type, NULL = unknown */
	long long length; /* bytes, -1 = unknown */
};

struct entry {
	char *id;      /* guid or atom:id */
	char *title;   /* as the feed gives it (may hold HTML) */
	char *link;    /* absolute */
	char *summary; /* HTML or text */
	char *content; /* HTML or text */
	/*
	 * The field is plain text (an RSS title, an Atom text construct of
	 * type "text", a JSON Feed title), not HTML: "a<b" is three
	 * characters, not the start of a tag. 0: HTML, or not known.
	 */
	int is_title_plain;
	int is_summary_plain;
	int is_content_plain;
	char *author;
	time_t published;  /* UTC seconds, -1 = none */
	time_t updated;	   /* UTC seconds, -1 = none */
	char **categories; /* NULL-terminated, never NULL */
	size_t ncategories;
	struct enclosure *enclosures;
	size_t nenclosures;
};

struct feed_doc {
	enum feed_format format;
	int is_bozo;   /* the document was not well-formed */
	char **errors; /* what went wrong, NULL-terminated list */
	size_t nerrors;
	char *title;
	char *link;
	char *description;
	char *language;
	time_t updated;
	int ttl;	      /* seconds, from RSS <ttl>; 0 = none */
	int update_period;    /* seconds, from sy:updatePeriod; 0 = none */
	int update_frequency; /* times per update_period; 0 = once */
	struct entry **entries;
	size_t nentries;
};

/* Return an empty document, owned by the caller. Cannot fail. */
struct feed_doc *feed_doc_new(void);
/* Free a document and its entries; accepts NULL. */
void feed_doc_free(struct feed_doc *);
/* Append an error message to the document's list. Cannot fail. */
void feed_doc_error(struct feed_doc *, const char *, ...)
    __attribute__((__format__(__printf__, 2, 3)));
/* Append an entry to the document, which then owns it. Cannot fail. */
void feed_doc_add_entry(struct feed_doc *, struct entry *);
/* Return a new empty entry, owned by the caller. Cannot fail. */
struct entry *feed_entry_new(void);
/* Free an entry; accepts NULL. */
void feed_entry_free(struct entry *);
/* Add a category (taken over, not copied) unless the entry has it. */
void feed_entry_add_category(struct entry *, char *);
/* Add an enclosure (url and type taken over) unless its url is known. */
void feed_entry_add_enclosure(
    struct entry *, char *url, char *type, long long length);
/*
 * Return the shortest interval (seconds) the feed asks readers to wait
 * between polls, from <ttl> and sy:updatePeriod/updateFrequency; 0 when
 * it says nothing.
 */
int feed_doc_min_interval(const struct feed_doc *);
/* Name of a format as in `feedwatch parse` output ("rss20", ...). */
const char *feed_format_name(enum feed_format);

#endif
