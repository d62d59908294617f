#ifndef FEEDWATCH_MATCH_H
#define FEEDWATCH_MATCH_H

#include <stddef.h>

/*
 * Watchlist queries, compiled once and matched against every story in
 * one pass, however many there are. The language:
 *
 *	word		a whole token, any case, accents folded
 *	prefix*		any token that starts with prefix
 *	"a phrase"	tokens in a row; punctuation between them ignored
 *	a b, a AND b	both; a OR b either (AND binds tighter)
 *	NOT a, -a	without a; ( ... ) grouping
 *	a NEAR/5 b	at most 5 tokens between a and b, either order
 *	title:a summary:a	a in the title, or in the text only
 *	feed:NAME site:HOST tag:TAG	the story's feed, host (and its
 *			subdomains) or feed tag
 *
 * A query may stem its words (Snowball, by language) and keep accents.
 */

struct match_query;
struct match_set;

#define MATCH_KEEP_ACCENTS 0x1 /* "café" does not match "cafe" */

/* A story as the matcher sees it; every string is borrowed. */
struct match_story {
	const char *title;	 /* plain text */
	const char *text;	 /* plain text: summary and content */
	const char *feed;	 /* the feed's name, for feed: */
	const char *url;	 /* the story's link, for site:; may be NULL */
	const char *const *tags; /* the feed's tags, NULL-terminated; may be
				    NULL */
};

/*
 * Why a query matched, lent to the callback and valid until it returns.
 * What it holds is worked out only when asked for, so that a caller that
 * drops a match pays nothing for its explanation.
 */
struct match_result;

/*
 * Compile a query. language names a Snowball stemmer ("english",
 * "russian", ...) or is NULL for none; flags are MATCH_*. Return it, or
 * NULL with *cause (caller frees) as "column N: what was expected".
 */
struct match_query *match_query_new(
    const char *query, const char *language, int flags, char **cause);
void match_query_free(struct match_query *);
/* Return 1 when language names a stemmer libstemmer has, 0 when not. */
int match_language_is_known(const char *language);

/* Return an empty set of queries. Cannot fail. */
struct match_set *match_set_new(void);
/* Free a set and the queries it holds; accepts NULL. */
void match_set_free(struct match_set *);
/*
 * Add a compiled query (the set takes it over) with the caller's arg,
 * given back when it matches. Adding after the first match_set_run is
 * not allowed.
 */
void match_set_add(struct match_set *, struct match_query *, void *arg);

/*
 * The terms that made the query true, as written (a phrase without
 * quotes), *n of them. Lent until the callback returns. Cannot fail.
 */
const char *const *match_result_matched(const struct match_result *, size_t *n);
/*
 * About 30 words around the first hit, marked with « ». Lent until the
 * callback returns. Cannot fail.
 */
const char *match_result_snippet(const struct match_result *);

/* Called for each query that matches a story. */
typedef void (*match_cb)(void *arg, const struct match_result *, void *cbarg);

/*
 * Match a story against every query of the set: cb runs once for each
 * query that matches, in the order they were added. Return how many
 * matched. Cannot fail.
 */
int match_set_run(
    struct match_set *, const struct match_story *, match_cb cb, void *cbarg);

#endif
