#ifndef FEEDWATCH_REPAIR_H
#define FEEDWATCH_REPAIR_H

#include <stddef.h>

/*
 * Repairing what real feeds get wrong before libxml2 reads them: a
 * streaming pass over UTF-8 that turns HTML named entities (&nbsp;) into
 * character references, escapes a bare & or <, maps references to the
 * C1 range (&#150;) to the characters WINDOWS-1252 means by them, and
 * removes the DOCTYPE, keeping only simple internal entities. libxml2
 * therefore never loads a DTD or expands an entity: a billion-laughs
 * document costs its own size and no more.
 */

struct repair;

/*
 * Return the character WINDOWS-1252 means by code point cp in 0x80-0x9f
 * (what &#150; means in a feed), or 0 when it means none.
 */
unsigned int repair_cp1252(unsigned long cp);
/* Return a repairer, owned by the caller. Cannot fail. */
struct repair *repair_new(void);
void repair_free(struct repair *);
/*
 * Repair len bytes of a document (a piece of it; last set for the final
 * one) and append the result to *out (grown with xreallocarray; *outlen
 * and *outcap track it). A construct cut at the end of a piece is kept
 * for the next. Cannot fail.
 */
void repair_push(struct repair *, const char *in, size_t len, int last,
    char **out, size_t *outlen, size_t *outcap);
/*
 * Return what was repaired, as a message for the document's errors
 * (caller frees), or NULL when nothing was. *is_bozo is set when the
 * document was not well-formed.
 */
char *repair_report(const struct repair *, int *is_bozo);

#endif
