#ifndef FEEDWATCH_MATCH_H
#define FEEDWATCH_MATCH_H

#include <stddef.h>

#include "text.h"

/*
 * Watchlist queries: compile once, match many stories. A query holds
 * terms, each a word or a "quoted phrase", joined by implicit AND, OR
 * (AND binds tighter), NOT or -, and parentheses. Terms match whole
 * tokens, case- and accent-insensitively; punctuation between the words
 * of a phrase is ignored.
 */

struct match;

/* A story prepared once for every watchlist. */
struct match_story {
	char *plain; /* title, then text: what snippets are cut from */
	struct text_tokens tokens;
	size_t ntitle; /* tokens[0 .. ntitle) are the title's */
};

/* Why a query matched. */
struct match_result {
	char **matched; /* the terms that made it true, as written */
	size_t nmatched;
	size_t hit_start; /* byte range of the first hit in story->plain */
	size_t hit_end;
};

/*
 * Compile a query. Return it (caller frees with match_free), or NULL
 * with *cause set to "column N: what was expected" (caller frees).
 */
struct match *match_compile(const char *query, char **cause);
void match_free(struct match *);
/* Prepare a story from its plain-text title and body. Cannot fail. */
struct match_story *match_story_new(const char *title, const char *text);
void match_story_free(struct match_story *);
/*
 * Return 1 and fill *r (clear it with match_result_clear) when the
 * query matches the story, 0 when it does not.
 */
int match_run(
    const struct match *, const struct match_story *, struct match_result *r);
void match_result_clear(struct match_result *);
/*
 * Return about 30 words of the story around the first hit, the hit
 * marked with « », "…" where text was cut. Caller frees.
 */
char *match_snippet(const struct match_story *, const struct match_result *);

#endif
