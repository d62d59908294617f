#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "match.h"
#include "xmalloc.h"

/*
 * Watchlist queries. match_compile parses a query into a tree by
 * recursive descent:
 *
 *	query   := or
 *	or      := and ("OR" and)*
 *	and     := unary unary*
 *	unary   := ("NOT" | "-") unary | primary
 *	primary := WORD | "PHRASE" | "(" or ")"
 *
 * match_run evaluates the tree against the story's folded tokens.
 */

#define MATCH_SNIPPET_WORDS 30
#define MATCH_SNIPPET_BEFORE 12
#define MATCH_MAX_DEPTH 64

enum match_op {
	MATCH_TERM,
	MATCH_AND,
	MATCH_OR,
	MATCH_NOT,
};

struct match_node {
	enum match_op op;
	struct match_node **kids;
	size_t nkids;
	char *written;		  /* the term as the user wrote it */
	struct text_tokens words; /* the term's folded tokens */
};

struct match {
	struct match_node *root;
};

struct match_parser {
	const char *q;
	size_t pos;
	int depth;
	char *cause;
};

/* A hit of one term: its token range in the story. */
struct match_hit {
	size_t first;
	size_t last;
};

static struct match_node *match_parse_or(struct match_parser *);

static struct match_node *
match_node_new(enum match_op op)
{
	struct match_node *n = xcalloc(1, sizeof *n);

	n->op = op;
	return n;
}

static void
match_node_free(struct match_node *n)
{
	if (n == NULL)
		return;
	for (size_t i = 0; i < n->nkids; i++)
		match_node_free(n->kids[i]);
	free(n->kids);
	free(n->written);
	text_tokens_clear(&n->words);
	free(n);
}

static void
match_node_add(struct match_node *n, struct match_node *kid)
{
	n->kids = xreallocarray(n->kids, n->nkids + 1, sizeof *n->kids);
	n->kids[n->nkids++] = kid;
}

/* Record the first error, at a 1-based column. */
static struct match_node *
match_fail(struct match_parser *p, size_t pos, const char *what)
{
	if (p->cause == NULL)
		xasprintf(&p->cause, "column %zu: %s", pos + 1, what);
	return NULL;
}

static void
match_skip_space(struct match_parser *p)
{
	while (p->q[p->pos] != '\0' && isspace((unsigned char)p->q[p->pos]))
		p->pos++;
}

/* Length of the bare word at the parser's position. */
static size_t
match_word_len(const struct match_parser *p)
{
	return strcspn(p->q + p->pos, " \t\r\n()\"");
}

/* Is the next word the operator op, standing alone? */
static int
match_is_keyword(const struct match_parser *p, const char *op)
{
	size_t len = strlen(op);

	return match_word_len(p) == len && strncmp(p->q + p->pos, op, len) == 0;
}

static struct match_node *
match_term(struct match_parser *p, size_t start, const char *s, size_t len)
{
	struct match_node *n = match_node_new(MATCH_TERM);

	n->written = xstrndup(s, len);
	text_tokenize(&n->words, s, len, 0);
	if (n->words.n == 0) {
		match_node_free(n);
		return match_fail(p, start, "a term needs a letter or digit");
	}
	return n;
}

static struct match_node *
match_parse_primary(struct match_parser *p)
{
	struct match_node *n;
	size_t start = p->pos, len;
	const char *end;

	switch (p->q[p->pos]) {
	case '\0':
		return match_fail(p, start, "expected a term");
	case ')':
		return match_fail(p, start, "unexpected ')'");
	case '"':
		if ((end = strchr(p->q + start + 1, '"')) == NULL)
			return match_fail(p, start, "unterminated phrase");
		p->pos = (size_t)(end - p->q) + 1;
		return match_term(p, start, p->q + start + 1,
		    (size_t)(end - p->q) - start - 1);
	case '(':
		p->pos++;
		if ((n = match_parse_or(p)) == NULL)
			return NULL;
		match_skip_space(p);
		if (p->q[p->pos] != ')') {
			match_node_free(n);
			return match_fail(p, p->pos, "expected ')'");
		}
		p->pos++;
		return n;
	}
	len = match_word_len(p);
	p->pos += len;
	return match_term(p, start, p->q + start, len);
}

static struct match_node *
match_parse_unary(struct match_parser *p)
{
	struct match_node *n, *kid;

	match_skip_space(p);
	if (match_is_keyword(p, "NOT") || p->q[p->pos] == '-') {
		p->pos += p->q[p->pos] == '-' ? 1 : 3;
		if (++p->depth > MATCH_MAX_DEPTH)
			return match_fail(p, p->pos, "query nested too deeply");
		kid = match_parse_unary(p);
		p->depth--;
		if (kid == NULL)
			return NULL;
		n = match_node_new(MATCH_NOT);
		match_node_add(n, kid);
		return n;
	}
	if (match_is_keyword(p, "OR") || match_is_keyword(p, "AND"))
		return match_fail(p, p->pos,
		    "expected a term before this "
		    "operator");
	return match_parse_primary(p);
}

/* Does the and-list go on at the parser's position? */
static int
match_and_continues(struct match_parser *p)
{
	match_skip_space(p);
	if (p->q[p->pos] == '\0' || p->q[p->pos] == ')' ||
	    match_is_keyword(p, "OR"))
		return 0;
	if (match_is_keyword(p, "AND"))
		p->pos += 3;
	return 1;
}

static struct match_node *
match_parse_and(struct match_parser *p)
{
	struct match_node *n, *kid;

	if ((kid = match_parse_unary(p)) == NULL)
		return NULL;
	if (!match_and_continues(p))
		return kid;
	n = match_node_new(MATCH_AND);
	match_node_add(n, kid);
	do {
		if ((kid = match_parse_unary(p)) == NULL) {
			match_node_free(n);
			return NULL;
		}
		match_node_add(n, kid);
	} while (match_and_continues(p));
	return n;
}

static struct match_node *
match_parse_or(struct match_parser *p)
{
	struct match_node *n, *kid;

	if (++p->depth > MATCH_MAX_DEPTH)
		return match_fail(p, p->pos, "query nested too deeply");
	if ((kid = match_parse_and(p)) == NULL)
		return NULL;
	n = kid;
	while (match_is_keyword(p, "OR")) {
		p->pos += 2;
		if (n == kid) {
			n = match_node_new(MATCH_OR);
			match_node_add(n, kid);
		}
		if ((kid = match_parse_and(p)) == NULL) {
			match_node_free(n);
			return NULL;
		}
		match_node_add(n, kid);
	}
	p->depth--;
	return n;
}

/* Can the tree match a story? A lone NOT would match nearly all. */
static int
match_is_positive(const struct match_node *n)
{
	switch (n->op) {
	case MATCH_TERM:
		return 1;
	case MATCH_NOT:
		return 0;
	case MATCH_AND:
		for (size_t i = 0; i < n->nkids; i++) {
			if (match_is_positive(n->kids[i]))
				return 1;
		}
		return 0;
	case MATCH_OR:
		for (size_t i = 0; i < n->nkids; i++) {
			if (!match_is_positive(n->kids[i]))
				return 0;
		}
		return 1;
	}
	return 0;
}

struct match *
match_compile(const char *query, char **cause)
{
	struct match_parser p = { query, 0, 0, NULL };
	struct match_node *root;
	struct match *m;

	match_skip_space(&p);
	if (query[p.pos] == '\0') {
		xasprintf(cause, "column 1: empty query");
		return NULL;
	}
	root = match_parse_or(&p);
	if (root != NULL && query[p.pos] != '\0') {
		match_node_free(root);
		root = match_fail(&p, p.pos, "unexpected ')'");
	}
	if (root != NULL && !match_is_positive(root)) {
		match_node_free(root);
		root = match_fail(&p, 0,
		    "the query would match stories for "
		    "what they lack; it needs a term that must be present");
	}
	if (root == NULL) {
		*cause = p.cause;
		return NULL;
	}
	m = xcalloc(1, sizeof *m);
	m->root = root;
	return m;
}

void
match_free(struct match *m)
{
	if (m == NULL)
		return;
	match_node_free(m->root);
	free(m);
}

struct match_story *
match_story_new(const char *title, const char *text)
{
	struct match_story *s = xcalloc(1, sizeof *s);
	size_t tlen = strlen(title);

	xasprintf(&s->plain, "%s\n%s", title, text);
	text_tokenize(&s->tokens, s->plain, tlen, 0);
	s->ntitle = s->tokens.n;
	text_tokenize(&s->tokens, s->plain + tlen + 1, strlen(text), 0);
	for (size_t i = s->ntitle; i < s->tokens.n; i++) {
		s->tokens.v[i].start += tlen + 1;
		s->tokens.v[i].end += tlen + 1;
	}
	return s;
}

void
match_story_free(struct match_story *s)
{
	if (s == NULL)
		return;
	free(s->plain);
	text_tokens_clear(&s->tokens);
	free(s);
}

/* Find the first place the term's words stand in a row in the story. */
static int
match_term_find(const struct match_node *n, const struct match_story *s,
    struct match_hit *hit)
{
	const struct text_tokens *w = &n->words;
	const struct text_tokens *t = &s->tokens;
	size_t i, j;

	for (i = 0; i + w->n <= t->n; i++) {
		/* A phrase does not run from the title into the text. */
		if (i < s->ntitle && i + w->n > s->ntitle)
			continue;
		for (j = 0; j < w->n; j++) {
			if (t->v[i + j].foldlen != w->v[j].foldlen ||
			    memcmp(text_token_str(t, i + j),
				text_token_str(w, j), w->v[j].foldlen) != 0)
				break;
		}
		if (j == w->n) {
			hit->first = i;
			hit->last = i + w->n - 1;
			return 1;
		}
	}
	return 0;
}

static void
match_result_add(struct match_result *r, const struct match_node *n,
    const struct match_story *s, const struct match_hit *hit)
{
	const struct text_token *a = &s->tokens.v[hit->first];
	const struct text_token *b = &s->tokens.v[hit->last];

	for (size_t i = 0; i < r->nmatched; i++) {
		if (strcmp(r->matched[i], n->written) == 0)
			return;
	}
	r->matched =
	    xreallocarray(r->matched, r->nmatched + 1, sizeof *r->matched);
	r->matched[r->nmatched++] = xstrdup(n->written);
	if (r->nmatched == 1 || a->start < r->hit_start) {
		r->hit_start = a->start;
		r->hit_end = b->end;
	}
}

/*
 * Evaluate a node; when collect is set, record the terms that made it
 * true (NOT collects nothing: an absent term explains nothing).
 */
static int
match_eval(const struct match_node *n, const struct match_story *s,
    struct match_result *r, int collect)
{
	struct match_hit hit;
	int any = 0;

	switch (n->op) {
	case MATCH_TERM:
		if (!match_term_find(n, s, &hit))
			return 0;
		if (collect)
			match_result_add(r, n, s, &hit);
		return 1;
	case MATCH_NOT:
		return !match_eval(n->kids[0], s, r, 0);
	case MATCH_AND:
		for (size_t i = 0; i < n->nkids; i++) {
			if (!match_eval(n->kids[i], s, r, 0))
				return 0;
		}
		for (size_t i = 0; collect && i < n->nkids; i++)
			match_eval(n->kids[i], s, r, 1);
		return 1;
	case MATCH_OR:
		for (size_t i = 0; i < n->nkids; i++)
			any |= match_eval(n->kids[i], s, r, collect);
		return any;
	}
	return 0;
}

int
match_run(
    const struct match *m, const struct match_story *s, struct match_result *r)
{
	memset(r, 0, sizeof *r);
	if (!match_eval(m->root, s, r, 1)) {
		match_result_clear(r);
		return 0;
	}
	return 1;
}

void
match_result_clear(struct match_result *r)
{
	for (size_t i = 0; i < r->nmatched; i++)
		free(r->matched[i]);
	free(r->matched);
	memset(r, 0, sizeof *r);
}

char *
match_snippet(const struct match_story *s, const struct match_result *r)
{
	const struct text_tokens *t = &s->tokens;
	size_t hit = 0, first, last, lo, hi, from, to;
	char *out;

	if (t->n == 0 || r->nmatched == 0)
		return xstrdup("");
	while (hit + 1 < t->n && t->v[hit].start < r->hit_start)
		hit++;
	/* Stay within the title or within the text. */
	lo = hit < s->ntitle ? 0 : s->ntitle;
	hi = hit < s->ntitle ? s->ntitle : t->n;
	first =
	    hit > lo + MATCH_SNIPPET_BEFORE ? hit - MATCH_SNIPPET_BEFORE : lo;
	last = first + MATCH_SNIPPET_WORDS - 1;
	if (last >= hi)
		last = hi - 1;
	from = first == lo ? (lo == 0 ? 0 : t->v[lo].start) : t->v[first].start;
	to = t->v[last].end;
	/* Keep what clings to the last word: a quote, a full stop. */
	for (size_t lim = to + 8; s->plain[to] != '\0' &&
	     !isspace((unsigned char)s->plain[to]) &&
	     (to < lim || ((unsigned char)s->plain[to] & 0xc0) == 0x80);)
		to++;
	if (to < r->hit_end)
		to = r->hit_end;
	xasprintf(&out, "%s%.*s«%.*s»%.*s%s", first > lo ? "… " : "",
	    (int)(r->hit_start - from), s->plain + from,
	    (int)(r->hit_end - r->hit_start), s->plain + r->hit_start,
	    (int)(to - r->hit_end), s->plain + r->hit_end,
	    last + 1 < hi ? " …" : "");
	return out;
}
