#ifndef FEEDWATCH_PARSE_H
#define FEEDWATCH_PARSE_H

#include <stddef.h>

/*
 * Feed documents to struct feed_doc: RSS 0.9x/2.0, RSS 1.0 (RDF) and
 * Atom through libxml2's streaming reader, one entry's tree at a time.
 * No I/O and no clock: dates come out UTC, links absolute.
 */

struct feed_doc;

#define PARSE_MAX_ENTRIES 10000

/*
 * Parse a document fetched from base (may be NULL). Return the feed,
 * owned by the caller; errors that still let entries through are in
 * its errors, with is_bozo set when the XML was not well-formed.
 * Return NULL with *cause when the body is not a feed at all.
 */
struct feed_doc *parse_feed(
    const char *body, size_t len, const char *base, char **cause);

#endif
