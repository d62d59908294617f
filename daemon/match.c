#include <ctype.h>
#include <libstemmer.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "match.h"
#include "text.h"
#include "url.h"
#include "xmalloc.h"

/*
 * Watchlist queries. match_query_new parses a query by recursive descent
 * into a tree whose leaves are terms (word, prefix, phrase) and story
 * predicates (feed:, site:, tag:):
 *
 *	or      := and ("OR" and)*
 *	and     := unary (["AND"] unary)*
 *	unary   := ("NOT" | "-") unary | near
 *	near    := primary ("NEAR" | "NEAR/N") primary ...
 *	primary := term | "(" or ")" | field ":" ...
 *
 * A match_set compiles every query once into one structure. Its terms,
 * the same words in several queries counted once, go into a dictionary
 * per variant (accents folded or kept, stemmer or none) that maps each
 * key to the terms it can start; prefixes are found by their first
 * bytes. A story is tokenised once per variant, each token hashed a word
 * at a time and looked up once, phrases checked only where their first
 * word stands. A query becomes a candidate only when each of its
 * clauses (terms of which one must be present for it to be true) has a
 * hit, and only candidates run their code, a flat copy of their tree.
 * The cost per story is O(tokens + hits), whatever the number of
 * queries.
 */

#define MATCH_MAX_DEPTH 64
#define MATCH_NEAR_DEFAULT 10
#define MATCH_NEAR_MAX 100
#define MATCH_SNIPPET_WORDS 30
#define MATCH_SNIPPET_BEFORE 12
#define MATCH_MAX_PREFIX 63  /* bytes of a prefix term */
#define MATCH_FILTER_BITS 8  /* filter bits per dictionary key, at least */
#define MATCH_MAX_CLAUSES 32 /* of a query, used to make it a candidate */
#define MATCH_KEY_INLINE 16  /* bytes of a key in its entry: two words */
#define MATCH_CACHE_LINE 64  /* bytes */
#define MATCH_START_BITS 13  /* log2 of the entries of a table of starts */
#define MATCH_HASH_MUL 0x9e3779b97f4a7c15ULL	/* 2^64 / golden ratio */
#define MATCH_HASH_ANCHOR 0x5bd1e9955bd1e995ULL /* seeds prefix hashes */
#define MATCH_ANCHOR 8 /* bytes of a prefix that find it */

enum match_op {
	OP_TERM,
	OP_AND,
	OP_OR,
	OP_NOT,
	OP_NEAR,
	OP_FEED,
	OP_SITE,
	OP_TAG,
};

enum match_kind {
	KIND_WORD,
	KIND_PREFIX,
	KIND_PHRASE,
};

enum match_scope {
	SCOPE_ANY,
	SCOPE_TITLE,
	SCOPE_TEXT,
};

struct match_term {
	enum match_kind kind;
	enum match_scope scope;
	char *written; /* as the user wrote it */
	char **words;  /* folded (and stemmed) */
	size_t *lens;
	size_t nwords;
	struct match_query *query; /* owner */
	uint32_t id;		   /* its entry in the set */
};

struct match_node {
	enum match_op op;
	struct match_node **kids;
	size_t nkids;
	struct match_term *term; /* OP_TERM */
	int distance;		 /* OP_NEAR: tokens between, at most */
	char *value;		 /* OP_FEED, OP_SITE, OP_TAG */
	char *written;		 /* OP_FEED, OP_SITE, OP_TAG */
};

struct match_query {
	struct match_node *root;
	struct match_term **terms;
	size_t nterms;
	char *language;
	int flags;
	size_t variant; /* in its set */
	size_t index;	/* in its set */
	void *arg;
};

struct match_parser {
	const char *q;
	size_t pos;
	int depth;
	char *cause;
	struct match_query *query;
	struct sb_stemmer *stemmer;
};

/*
 * A trigger: when an entry is first hit in a story, clause bit of query
 * is true; the query is a candidate once its need clauses are.
 */
struct match_trig {
	uint32_t query;
	uint8_t bit;  /* < MATCH_MAX_CLAUSES */
	uint8_t need; /* <= MATCH_MAX_CLAUSES; 0 in an entry without one */
};

/*
 * A distinct term of a set: what the scan looks for, and where the
 * story hit it, together on one cache line. Entries that start with the
 * same key follow each other; their terms are in match_set.terms.
 */
struct match_entry {
	/* Per story: the hits, a list in match_set.hits. */
	unsigned int stamp; /* story whose hits these are */
	uint32_t head;	    /* first and last hit */
	uint32_t tail;
	/* Compiled. */
	uint32_t nkey;	 /* entries from this one on with the same key */
	uint32_t len;	 /* bytes of the first word */
	uint32_t nwords; /* of a phrase; 1 for the others */
	uint8_t kind;	 /* enum match_kind */
	uint8_t scope;	 /* enum match_scope */
	/* A phrase's second word: its length (at most 0xffff) and start. */
	uint16_t len2;
	uint32_t next; /* its first 4 bytes at most, as match_next has them */
	struct match_trig trig;	    /* the first trigger */
	uint32_t more;		    /* the others: match_set.trigs[more, */
	uint32_t nmore;		    /* more + nmore) */
	char key[MATCH_KEY_INLINE]; /* the first word, its start */
};

_Static_assert(sizeof(struct match_entry) <= MATCH_CACHE_LINE,
    "an entry is one cache line");
_Static_assert(MATCH_KEY_INLINE == 16, "match_entry_has reads two words");

/* A dictionary: hash -> the entries a key starts, open addressing. */
struct match_slot {
	uint32_t tag;	/* the hash's top half */
	uint32_t entry; /* its first entry + 1; 0 = an empty slot */
};

struct match_dict {
	struct match_slot *slots;
	size_t mask;
	/* Bit (hash >> 32) & fmask: some key may have that hash. */
	uint64_t *filter;
	size_t fmask;
};

struct match_variant {
	int flags;
	char *language;
	struct sb_stemmer *stemmer;
	struct match_dict words; /* words, and phrases' first words */
	struct match_dict prefixes;
	size_t prefix_min; /* bytes of the shortest prefix */
	size_t head;	   /* bytes of a start: prefix_min, 8 at most */
	/*
	 * By a hash of its first head bytes, the anchors a token may
	 * start: bit A - 1, a prefix with those first bytes has an
	 * anchor of A bytes (1 to 8).
	 */
	uint8_t *starts;
	/* Per story: the key of each token (stemmed, when it stems). */
	char *stems;
	size_t stemslen;
	size_t stemscap;
	size_t *keyoff;
	size_t keycap;
};

/* A node of a query's code: its tree flattened, preorder. */
struct match_code {
	uint32_t op;	     /* enum match_op */
	uint32_t size;	     /* codes in this subtree, itself included */
	uint32_t arg;	     /* OP_TERM: entry; OP_NEAR: distance */
	uint32_t span;	     /* OP_TERM: tokens a hit covers */
	const char *value;   /* OP_FEED, OP_SITE, OP_TAG */
	const char *written; /* terms and predicates: as match_result has it */
};

/* A hit: the token a term starts at, and the term's next hit. */
struct match_hit {
	size_t pos;
	uint32_t next; /* 0 = none */
};

/* A query of several clauses in a story: which of them had a hit. */
struct match_query_state {
	unsigned int stamp;
	uint32_t clauses; /* bit i: clause i */
};

/* What running a query needs, by query, so that it is not looked up. */
struct match_qinfo {
	uint32_t pc;	  /* where its code starts */
	uint32_t variant; /* in the set */
	void *arg;
};

/* What made a query true: its terms and predicates, and the first hit. */
struct match_why {
	const char **matched; /* the set's, reused */
	size_t n;
	size_t cap;
	size_t first; /* token where the first hit starts */
	size_t last;  /* and where it ends */
	int has_hit;
};

/* A match being reported: the rest is worked out when asked for. */
struct match_result {
	struct match_set *set;
	uint32_t query;
};

struct match_set {
	struct match_query **queries;
	size_t nqueries;
	struct match_variant *variants;
	size_t nvariants;
	int is_built;
	unsigned int stamp;
	/* Compiled. */
	struct match_entry *entries;	 /* every variant's, by id */
	const struct match_term **terms; /* by entry: one it stands for */
	size_t nentries;
	void *entries_mem;	  /* what entries was cut from */
	struct match_trig *trigs; /* by entry */
	struct match_code *code;
	size_t ncode;
	struct match_qinfo *qinfo; /* by query */
	uint32_t *always;	   /* queries that need no clause */
	size_t nalways;
	/* Per story. */
	const struct match_story *story;
	char *plain; /* title "\n" text */
	size_t plaincap;
	struct text_tokens tokens[2]; /* by MATCH_KEEP_ACCENTS */
	size_t ntitle[2];  /* tokens of the title, by MATCH_KEEP_ACCENTS */
	size_t text_start; /* byte where the text starts */
	struct match_query_state *query_states;
	struct match_hit *hits;
	size_t nhits;
	size_t caphits;
	uint64_t *cands; /* bit i: query i may match */
	size_t ncandwords;
	uint64_t *candsum; /* bit w: word w of cands has a bit set */
	/* The match being reported: what was asked of it so far. */
	struct match_why why;
	int has_why;
	const char *snippet_done; /* NULL until asked */
	char *snippet;
	size_t capsnippet;
	char *host;
	int has_host;
};

static struct match_node *match_parse_or(struct match_parser *);
/* Not inlined, so that the loop over tokens keeps its registers. */
static void match_hit_key(struct match_set *, const struct match_variant *,
    struct match_entry *, size_t) __attribute__((__noinline__));

/* Parsing. */

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
	free(n->value);
	free(n->written);
	free(n);
}

static void
match_node_add(struct match_node *n, struct match_node *kid)
{
	n->kids = xreallocarray(n->kids, n->nkids + 1, sizeof *n->kids);
	n->kids[n->nkids++] = kid;
}

static void
match_term_free(struct match_term *t)
{
	for (size_t i = 0; i < t->nwords; i++)
		free(t->words[i]);
	free(t->words);
	free(t->lens);
	free(t->written);
	free(t);
}

/* Record the first error, at a 1-based column; return NULL. */
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

/* Is the next word NEAR or NEAR/something? */
static int
match_is_near(const struct match_parser *p)
{
	size_t len = match_word_len(p);

	return (len == 4 && strncmp(p->q + p->pos, "NEAR", 4) == 0) ||
	    (len > 4 && strncmp(p->q + p->pos, "NEAR/", 5) == 0);
}

/* Fold (and stem) the words of s into the term. */
static void
match_term_words(
    struct match_parser *p, struct match_term *t, const char *s, size_t len)
{
	struct text_tokens tok;
	const sb_symbol *stem;
	const char *w;

	memset(&tok, 0, sizeof tok);
	text_tokenize(&tok, s, len,
	    p->query->flags & MATCH_KEEP_ACCENTS ? TEXT_KEEP_ACCENTS : 0);
	t->words = xcalloc(tok.n + 1, sizeof *t->words);
	t->lens = xcalloc(tok.n + 1, sizeof *t->lens);
	for (size_t i = 0; i < tok.n; i++) {
		w = text_token_str(&tok, i);
		if (p->stemmer != NULL && t->kind != KIND_PREFIX &&
		    (stem = sb_stemmer_stem(p->stemmer, (const sb_symbol *)w,
			 (int)tok.v[i].foldlen)) != NULL)
			t->words[i] = xstrndup((const char *)stem,
			    (size_t)sb_stemmer_length(p->stemmer));
		else
			t->words[i] = xstrdup(w);
		t->lens[i] = strlen(t->words[i]);
	}
	t->nwords = tok.n;
	text_tokens_clear(&tok);
}

/* Make a term node of the text at [start, start + len) of the query. */
static struct match_node *
match_term(struct match_parser *p, size_t start, size_t len, int is_phrase)
{
	const char *s = p->q + start;
	struct match_query *q = p->query;
	struct match_term *t = xcalloc(1, sizeof *t);
	struct match_node *n;
	int is_prefix = !is_phrase && len > 0 && s[len - 1] == '*';

	t->kind = is_prefix ? KIND_PREFIX : KIND_WORD;
	t->written = xstrndup(s, len);
	t->query = q;
	match_term_words(p, t, s, is_prefix ? len - 1 : len);
	if (t->nwords == 0) {
		match_term_free(t);
		return match_fail(p, is_phrase ? start - 1 : start,
		    "a term needs a letter or digit");
	}
	if (is_prefix && (t->nwords > 1 || t->lens[0] > MATCH_MAX_PREFIX)) {
		match_term_free(t);
		return match_fail(p, start,
		    "a prefix is one word followed "
		    "by *");
	}
	if (t->nwords > 1)
		t->kind = KIND_PHRASE;
	q->terms = xreallocarray(q->terms, q->nterms + 1, sizeof *q->terms);
	q->terms[q->nterms++] = t;
	n = match_node_new(OP_TERM);
	n->term = t;
	return n;
}

/* Give the terms below n a scope, and say so in how they are written. */
static void
match_scope(struct match_node *n, enum match_scope scope, const char *field)
{
	char *w;

	if (n->op == OP_TERM && n->term->scope == SCOPE_ANY) {
		n->term->scope = scope;
		xasprintf(&w, "%s:%s", field, n->term->written);
		free(n->term->written);
		n->term->written = w;
	}
	for (size_t i = 0; i < n->nkids; i++)
		match_scope(n->kids[i], scope, field);
}

/* feed:NAME, site:HOST or tag:TAG: the value up to a space or ')'. */
static struct match_node *
match_predicate(struct match_parser *p, enum match_op op, size_t start)
{
	struct match_node *n;
	size_t len;
	char what[32];

	snprintf(what, sizeof what, "%.*s needs a value", (int)(p->pos - start),
	    p->q + start);
	if (p->q[p->pos] == '"') {
		const char *end = strchr(p->q + p->pos + 1, '"');

		if (end == NULL)
			return match_fail(p, p->pos, "unterminated phrase");
		len = (size_t)(end - p->q) - p->pos - 1;
		n = match_node_new(op);
		n->value = xstrndup(p->q + p->pos + 1, len);
		p->pos = (size_t)(end - p->q) + 1;
	} else {
		len = strcspn(p->q + p->pos, " \t\r\n()");
		if (len == 0)
			return match_fail(p, start, what);
		n = match_node_new(op);
		n->value = xstrndup(p->q + p->pos, len);
		p->pos += len;
	}
	if (*n->value == '\0') {
		match_node_free(n);
		return match_fail(p, start, what);
	}
	n->written = xstrndup(p->q + start, p->pos - start);
	return n;
}

static const struct {
	const char *name;
	enum match_op op; /* OP_TERM for a scope */
	enum match_scope scope;
} match_fields[] = {
	{ "feed", OP_FEED, SCOPE_ANY },
	{ "site", OP_SITE, SCOPE_ANY },
	{ "summary", OP_TERM, SCOPE_TEXT },
	{ "tag", OP_TAG, SCOPE_ANY },
	{ "title", OP_TERM, SCOPE_TITLE },
};

static struct match_node *match_parse_primary(struct match_parser *);

/* A field name and ':' at the parser's position, or NULL. */
static struct match_node *
match_parse_field(struct match_parser *p, int *is_field)
{
	size_t start = p->pos, len, i;
	struct match_node *n;

	*is_field = 0;
	for (len = 0; islower((unsigned char)p->q[start + len]); len++)
		;
	if (p->q[start + len] != ':')
		return NULL;
	for (i = 0; i < sizeof match_fields / sizeof match_fields[0]; i++) {
		if (strlen(match_fields[i].name) == len &&
		    strncmp(match_fields[i].name, p->q + start, len) == 0)
			break;
	}
	if (i == sizeof match_fields / sizeof match_fields[0])
		return NULL;
	*is_field = 1;
	p->pos += len + 1;
	if (match_fields[i].op != OP_TERM)
		return match_predicate(p, match_fields[i].op, start);
	if (p->q[p->pos] == '\0' || isspace((unsigned char)p->q[p->pos]))
		return match_fail(p, p->pos, "expected a term");
	if ((n = match_parse_primary(p)) != NULL)
		match_scope(n, match_fields[i].scope, match_fields[i].name);
	return n;
}

static struct match_node *
match_parse_primary(struct match_parser *p)
{
	struct match_node *n;
	size_t start = p->pos, len;
	const char *end;
	int is_field;

	switch (p->q[p->pos]) {
	case '\0':
		return match_fail(p, start, "expected a term");
	case ')':
		return match_fail(p, start, "unexpected ')'");
	case '"':
		if ((end = strchr(p->q + start + 1, '"')) == NULL)
			return match_fail(p, start, "unterminated phrase");
		p->pos = (size_t)(end - p->q) + 1;
		return match_term(
		    p, start + 1, (size_t)(end - p->q) - start - 1, 1);
	case '(':
		if (++p->depth > MATCH_MAX_DEPTH)
			return match_fail(p, p->pos, "query nested too deeply");
		p->pos++;
		if ((n = match_parse_or(p)) == NULL)
			return NULL;
		p->depth--;
		match_skip_space(p);
		if (p->q[p->pos] != ')') {
			match_node_free(n);
			return match_fail(p, p->pos, "expected ')'");
		}
		p->pos++;
		return n;
	}
	if ((n = match_parse_field(p, &is_field)) != NULL || is_field)
		return n;
	len = match_word_len(p);
	p->pos += len;
	return match_term(p, start, len, 0);
}

/* The N of NEAR/N (NEAR alone means MATCH_NEAR_DEFAULT), or -1. */
static int
match_near_distance(struct match_parser *p)
{
	size_t len = match_word_len(p);
	long d = MATCH_NEAR_DEFAULT;
	char *end;

	if (len > 4) {
		d = strtol(p->q + p->pos + 5, &end, 10);
		if (end != p->q + p->pos + len || len == 5 || d < 1 ||
		    d > MATCH_NEAR_MAX)
			return -1;
	}
	p->pos += len;
	return (int)d;
}

/* A NEAR operand: a term, not a group, a predicate or a NOT. */
static struct match_node *
match_parse_near_operand(struct match_parser *p, size_t at)
{
	struct match_node *n;
	int is_group = p->q[p->pos] == '(';

	if (match_is_keyword(p, "OR") || match_is_keyword(p, "AND") ||
	    match_is_keyword(p, "NOT") || match_is_near(p) ||
	    p->q[p->pos] == '-')
		return match_fail(p, at,
		    "NEAR needs a word, prefix or phrase "
		    "on each side");
	if ((n = match_parse_primary(p)) == NULL)
		return NULL;
	if (is_group || n->op != OP_TERM) {
		match_node_free(n);
		return match_fail(p, at,
		    "NEAR needs a word, prefix or phrase "
		    "on each side");
	}
	return n;
}

static struct match_node *
match_parse_near(struct match_parser *p)
{
	struct match_node *n, *left, *right;
	size_t at;
	int d, is_group;

	match_skip_space(p);
	is_group = p->q[p->pos] == '(';
	if ((left = match_parse_primary(p)) == NULL)
		return NULL;
	match_skip_space(p);
	if (!match_is_near(p))
		return left;
	at = p->pos;
	if (is_group || left->op != OP_TERM) {
		match_node_free(left);
		return match_fail(p, at,
		    "NEAR needs a word, prefix or phrase "
		    "on each side");
	}
	if ((d = match_near_distance(p)) == -1) {
		match_node_free(left);
		return match_fail(p, at,
		    "NEAR/N needs a distance from 1 to "
		    "100");
	}
	match_skip_space(p);
	if ((right = match_parse_near_operand(p, at)) == NULL) {
		match_node_free(left);
		return NULL;
	}
	n = match_node_new(OP_NEAR);
	n->distance = d;
	match_node_add(n, left);
	match_node_add(n, right);
	match_skip_space(p);
	if (match_is_near(p)) {
		match_node_free(n);
		return match_fail(p, p->pos,
		    "NEAR needs a word, prefix or "
		    "phrase on each side");
	}
	return n;
}

static struct match_node *
match_parse_unary(struct match_parser *p)
{
	struct match_node *n, *kid;

	match_skip_space(p);
	if (match_is_keyword(p, "NOT") ||
	    (p->q[p->pos] == '-' &&
		!isspace((unsigned char)p->q[p->pos + 1]))) {
		p->pos += p->q[p->pos] == '-' ? 1 : 3;
		if (++p->depth > MATCH_MAX_DEPTH)
			return match_fail(p, p->pos, "query nested too deeply");
		kid = match_parse_unary(p);
		p->depth--;
		if (kid == NULL)
			return NULL;
		n = match_node_new(OP_NOT);
		match_node_add(n, kid);
		return n;
	}
	if (match_is_keyword(p, "OR") || match_is_keyword(p, "AND") ||
	    match_is_near(p))
		return match_fail(p, p->pos,
		    "expected a term before this "
		    "operator");
	return match_parse_near(p);
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
	n = match_node_new(OP_AND);
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

	if ((kid = match_parse_and(p)) == NULL)
		return NULL;
	n = kid;
	while (match_is_keyword(p, "OR")) {
		p->pos += 2;
		if (n == kid) {
			n = match_node_new(OP_OR);
			match_node_add(n, kid);
		}
		if ((kid = match_parse_and(p)) == NULL) {
			match_node_free(n);
			return NULL;
		}
		match_node_add(n, kid);
	}
	return n;
}

/* Can the tree be true only through something a story has? */
static int
match_is_positive(const struct match_node *n)
{
	switch (n->op) {
	case OP_NOT:
		return 0;
	case OP_AND:
		for (size_t i = 0; i < n->nkids; i++) {
			if (match_is_positive(n->kids[i]))
				return 1;
		}
		return 0;
	case OP_OR:
		for (size_t i = 0; i < n->nkids; i++) {
			if (!match_is_positive(n->kids[i]))
				return 0;
		}
		return 1;
	default:
		return 1;
	}
}

int
match_language_is_known(const char *language)
{
	for (const char **l = sb_stemmer_list(); *l != NULL; l++) {
		if (strcmp(*l, language) == 0)
			return 1;
	}
	return 0;
}

void
match_query_free(struct match_query *q)
{
	if (q == NULL)
		return;
	match_node_free(q->root);
	for (size_t i = 0; i < q->nterms; i++)
		match_term_free(q->terms[i]);
	free(q->terms);
	free(q->language);
	free(q);
}

struct match_query *
match_query_new(
    const char *query, const char *language, int flags, char **cause)
{
	struct match_parser p;
	struct match_query *q;

	if (language != NULL && !match_language_is_known(language)) {
		xasprintf(cause, "unknown language \"%s\"", language);
		return NULL;
	}
	memset(&p, 0, sizeof p);
	p.q = query;
	p.query = q = xcalloc(1, sizeof *q);
	q->flags = flags;
	q->language = language != NULL ? xstrdup(language) : NULL;
	if (language != NULL)
		p.stemmer = sb_stemmer_new(language, "UTF_8");
	match_skip_space(&p);
	if (query[p.pos] == '\0')
		match_fail(&p, 0, "empty query");
	else if ((q->root = match_parse_or(&p)) != NULL && query[p.pos] != '\0')
		match_fail(&p, p.pos, "unexpected ')'");
	else if (q->root != NULL && !match_is_positive(q->root))
		match_fail(&p, 0,
		    "the query would match stories for what they "
		    "lack; it needs a term that must be present");
	if (p.stemmer != NULL)
		sb_stemmer_delete(p.stemmer);
	if (p.cause != NULL) {
		*cause = p.cause;
		match_query_free(q);
		return NULL;
	}
	return q;
}

/* The set: dictionaries. */

/*
 * Keys hash 8 bytes at a time. A key in a token buffer (text.h's
 * TEXT_FOLDED_PAD) can be read past its end, the extra bytes masked
 * off; match_hash copies instead, for keys of queries.
 */

/* The first n bytes (n <= 8) of w, read from memory; the rest zero. */
static uint64_t
match_tail(uint64_t w, size_t n)
{
	/* By n: the bytes that come first in memory, set. */
	static const uint64_t masks[9] = {
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
		0,
		0xff00000000000000ULL,
		0xffff000000000000ULL,
		0xffffff0000000000ULL,
		0xffffffff00000000ULL,
		0xffffffffff000000ULL,
		0xffffffffffff0000ULL,
		0xffffffffffffff00ULL,
		0xffffffffffffffffULL,
#else
		0,
		0xffULL,
		0xffffULL,
		0xffffffULL,
		0xffffffffULL,
		0xffffffffffULL,
		0xffffffffffffULL,
		0xffffffffffffffULL,
		0xffffffffffffffffULL,
#endif
	};

	return w & masks[n < 8 ? n : 8];
}

static uint64_t
match_mix(uint64_t h, uint64_t w)
{
	h = (h ^ w) * MATCH_HASH_MUL;
	return h ^ (h >> 29);
}

static uint64_t
match_load(const char *s)
{
	uint64_t w;

	memcpy(&w, s, sizeof w);
	return w;
}

/* Hash a key that may be read 8 bytes past its end. */
static uint64_t
match_hash_padded(const char *s, size_t len)
{
	uint64_t h = len;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8)
		h = match_mix(h, match_load(s + i));
	return match_mix(h, match_tail(match_load(s + i), len - i));
}

/* Hash any key: the same value as match_hash_padded. */
static uint64_t
match_hash(const char *s, size_t len)
{
	uint64_t h = len, w = 0;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8)
		h = match_mix(h, match_load(s + i));
	memcpy(&w, s + i, len - i);
	return match_mix(h, w);
}

/* Hash the anchor of a prefix: its first a bytes (a <= 8), in w. */
static uint64_t
match_hash_anchor(uint64_t w, size_t a)
{
	return match_mix(MATCH_HASH_ANCHOR + a, match_tail(w, a));
}

/* The bytes of a prefix that find it: the first MATCH_ANCHOR at most. */
static size_t
match_anchor_len(size_t len)
{
	return len < MATCH_ANCHOR ? len : MATCH_ANCHOR;
}

/*
 * May some key of d hash to h? The filter is small enough to stay in
 * the cache, so that most tokens, in no query, cost no probe.
 */
static int
match_dict_may(const struct match_dict *d, uint64_t h)
{
	size_t b = (size_t)(h >> 32) & d->fmask;

	return (int)((d->filter[b / 64] >> (b % 64)) & 1);
}

/* Keys are short: a loop beats a call to memcmp. */
static int
match_same(const char *a, const char *b, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (a[i] != b[i])
			return 0;
	}
	return 1;
}

/*
 * Are the first n bytes of key, which can be read past its end, those
 * of entry e? The entry holds MATCH_KEY_INLINE of them, zero after the
 * end: compare a word at a time, and the rest, if any, byte by byte.
 */
static int
match_entry_has(const struct match_set *s, const struct match_entry *e,
    const char *key, size_t n)
{
	if (n <= 8)
		return match_tail(match_load(key), n) == match_load(e->key);
	if (match_load(key) != match_load(e->key))
		return 0;
	if (n <= 16)
		return match_tail(match_load(key + 8), n - 8) ==
		    match_load(e->key + 8);
	return match_load(key + 8) == match_load(e->key + 8) &&
	    match_same(
		s->terms[e - s->entries]->words[0] + 16, key + 16, n - 16);
}

/* Is key (len bytes, readable past its end) the first word of entry e? */
static int
match_entry_is(const struct match_set *s, const struct match_entry *e,
    const char *key, size_t len)
{
	return e->len == len && match_entry_has(s, e, key, len);
}

/* Does prefix entry e begin key (len bytes, readable past its end)? */
static int
match_entry_begins(const struct match_set *s, const struct match_entry *e,
    const char *key, size_t len)
{
	return e->len <= len && match_entry_has(s, e, key, e->len);
}

/*
 * The first entry of a dictionary of words whose key is key, or of one
 * of prefixes whose anchor is key (len bytes), by its hash h.
 */
static struct match_entry *
match_dict_find(struct match_set *s, const struct match_dict *d,
    const char *key, size_t len, uint64_t h, int is_anchor)
{
	uint32_t tag = (uint32_t)(h >> 32);
	struct match_entry *e;

	for (size_t i = h & d->mask; d->slots[i].entry != 0;
	     i = (i + 1) & d->mask) {
		if (d->slots[i].tag != tag)
			continue;
		e = &s->entries[d->slots[i].entry - 1];
		if (is_anchor ? match_anchor_len(e->len) == len &&
			    match_same(e->key, key, len) :
				match_entry_is(s, e, key, len))
			return e;
	}
	return NULL;
}

/* Order terms by their words, then kind and scope: equal ones are one. */
static int
match_term_cmp(const void *a, const void *b)
{
	const struct match_term *x = *(struct match_term *const *)a;
	const struct match_term *y = *(struct match_term *const *)b;
	size_t i, n;
	int c;

	for (i = 0; i < x->nwords && i < y->nwords; i++) {
		n = x->lens[i] < y->lens[i] ? x->lens[i] : y->lens[i];
		if ((c = memcmp(x->words[i], y->words[i], n)) != 0)
			return c;
		if (x->lens[i] != y->lens[i])
			return x->lens[i] < y->lens[i] ? -1 : 1;
	}
	if (x->nwords != y->nwords)
		return x->nwords < y->nwords ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->scope != y->scope)
		return x->scope < y->scope ? -1 : 1;
	return 0;
}

static void
match_entry_init(struct match_entry *e, const struct match_term *t)
{
	memset(e, 0, sizeof *e);
	e->kind = (uint8_t)t->kind;
	e->scope = (uint8_t)t->scope;
	e->len = (uint32_t)t->lens[0];
	e->nwords = (uint32_t)t->nwords;
	memcpy(e->key, t->words[0],
	    e->len < sizeof e->key ? e->len : sizeof e->key);
	if (t->kind != KIND_PHRASE)
		return;
	e->len2 = (uint16_t)(t->lens[1] < 0xffff ? t->lens[1] : 0xffff);
	memcpy(&e->next, t->words[1],
	    t->lens[1] < sizeof e->next ? t->lens[1] : sizeof e->next);
}

/* Append an entry for each distinct term (sorted here); return the first. */
static size_t
match_entries_add(struct match_set *s, struct match_term **terms, size_t n)
{
	size_t first = s->nentries;
	struct match_entry *e = NULL;

	qsort(terms, n, sizeof *terms, match_term_cmp);
	s->entries =
	    xreallocarray(s->entries, s->nentries + n + 1, sizeof *s->entries);
	s->terms =
	    xreallocarray(s->terms, s->nentries + n + 1, sizeof *s->terms);
	for (size_t i = 0; i < n; i++) {
		if (i == 0 || match_term_cmp(&terms[i - 1], &terms[i]) != 0) {
			s->terms[s->nentries] = terms[i];
			e = &s->entries[s->nentries++];
			match_entry_init(e, terms[i]);
		}
		terms[i]->id = (uint32_t)(s->nentries - 1);
	}
	return first;
}

/*
 * Entries from i on that share the first word of entry i, or its anchor:
 * sorted, they follow each other.
 */
static size_t
match_dict_group(const struct match_set *s, size_t i, int is_anchor)
{
	const struct match_entry *e = &s->entries[i], *x;
	size_t j, len = is_anchor ? match_anchor_len(e->len) : e->len;

	for (j = i + 1; j < s->nentries; j++) {
		x = &s->entries[j];
		if ((is_anchor ? match_anchor_len(x->len) : x->len) != len ||
		    memcmp(s->terms[j]->words[0], s->terms[i]->words[0], len) !=
			0)
			break;
	}
	return j - i;
}

/*
 * Build a dictionary of terms (sorted here): a slot per first word, or
 * per anchor for prefixes.
 */
static void
match_dict_build(struct match_set *s, struct match_dict *d,
    struct match_term **terms, size_t n, int is_anchor)
{
	struct match_entry *e;
	size_t first = s->nentries, cap = 16, bits = 64, i, j;
	uint64_t h;

	if (n > 0)
		first = match_entries_add(s, terms, n);
	while (cap < (s->nentries - first) * 2)
		cap *= 2;
	while (bits < (s->nentries - first) * MATCH_FILTER_BITS)
		bits *= 2;
	d->slots = xcalloc(cap, sizeof *d->slots);
	d->mask = cap - 1;
	d->filter = xcalloc(bits / 64, sizeof *d->filter);
	d->fmask = bits - 1;
	for (i = first; i < s->nentries; i += e->nkey) {
		e = &s->entries[i];
		e->nkey = (uint32_t)match_dict_group(s, i, is_anchor);
		h = is_anchor ? match_hash_anchor(match_load(e->key),
				    match_anchor_len(e->len)) :
				match_hash(s->terms[i]->words[0], e->len);
		for (j = h & d->mask; d->slots[j].entry != 0;
		     j = (j + 1) & d->mask)
			;
		d->slots[j].tag = (uint32_t)(h >> 32);
		d->slots[j].entry = (uint32_t)i + 1;
		d->filter[((h >> 32) & d->fmask) / 64] |= 1ULL
		    << (((h >> 32) & d->fmask) % 64);
	}
}

static void
match_dict_clear(struct match_dict *d)
{
	free(d->slots);
	free(d->filter);
	memset(d, 0, sizeof *d);
}

struct match_set *
match_set_new(void)
{
	return xcalloc(1, sizeof(struct match_set));
}

void
match_set_free(struct match_set *s)
{
	struct match_variant *v;

	if (s == NULL)
		return;
	for (size_t i = 0; i < s->nqueries; i++)
		match_query_free(s->queries[i]);
	free(s->queries);
	for (size_t i = 0; i < s->nvariants; i++) {
		v = &s->variants[i];
		match_dict_clear(&v->words);
		match_dict_clear(&v->prefixes);
		if (v->stemmer != NULL)
			sb_stemmer_delete(v->stemmer);
		free(v->language);
		free(v->starts);
		free(v->stems);
		free(v->keyoff);
	}
	free(s->variants);
	free(s->entries_mem);
	free(s->terms);
	free(s->trigs);
	free(s->code);
	free(s->qinfo);
	free(s->always);
	free(s->plain);
	text_tokens_clear(&s->tokens[0]);
	text_tokens_clear(&s->tokens[1]);
	free(s->query_states);
	free(s->hits);
	free(s->cands);
	free(s->candsum);
	free(s->why.matched);
	free(s->snippet);
	free(s->host);
	free(s);
}

/* The variant a query's words are folded in: created on first use. */
static size_t
match_variant_of(struct match_set *s, const struct match_query *q)
{
	struct match_variant *v;
	size_t i;

	for (i = 0; i < s->nvariants; i++) {
		v = &s->variants[i];
		if (v->flags == q->flags &&
		    ((v->language == NULL && q->language == NULL) ||
			(v->language != NULL && q->language != NULL &&
			    strcmp(v->language, q->language) == 0)))
			return i;
	}
	s->variants =
	    xreallocarray(s->variants, s->nvariants + 1, sizeof *s->variants);
	v = &s->variants[s->nvariants];
	memset(v, 0, sizeof *v);
	v->flags = q->flags;
	if (q->language != NULL) {
		v->language = xstrdup(q->language);
		v->stemmer = sb_stemmer_new(q->language, "UTF_8");
	}
	return s->nvariants++;
}

void
match_set_add(struct match_set *s, struct match_query *q, void *arg)
{
	q->arg = arg;
	q->index = s->nqueries;
	q->variant = match_variant_of(s, q);
	s->queries =
	    xreallocarray(s->queries, s->nqueries + 1, sizeof *s->queries);
	s->queries[s->nqueries++] = q;
}

/* The set: compiling. */

/* Where the first head bytes of a key, in w, fall in a table of starts. */
static size_t
match_start(uint64_t w, size_t head)
{
	return (size_t)((match_tail(w, head) * MATCH_HASH_MUL) >>
	    (64 - MATCH_START_BITS));
}

/* Fill a variant's table of starts from its prefixes, if it has any. */
static void
match_starts_build(
    struct match_variant *var, struct match_term **prefixes, size_t np)
{
	uint64_t w;

	if (np == 0)
		return;
	var->head = match_anchor_len(var->prefix_min);
	var->starts =
	    xcalloc((size_t)1 << MATCH_START_BITS, sizeof *var->starts);
	for (size_t i = 0; i < np; i++) {
		w = 0;
		memcpy(&w, prefixes[i]->words[0], var->head);
		var->starts[match_start(w, var->head)] |= (uint8_t)(1U
		    << (match_anchor_len(prefixes[i]->lens[0]) - 1));
	}
}

/* Build a variant's dictionaries from its queries' terms. */
static void
match_variant_build(struct match_set *s, size_t v, struct match_term **words,
    struct match_term **prefixes)
{
	struct match_variant *var = &s->variants[v];
	struct match_term *t;
	size_t nw = 0, np = 0;

	var->prefix_min = SIZE_MAX;
	for (size_t i = 0; i < s->nqueries; i++) {
		if (s->queries[i]->variant != v)
			continue;
		for (size_t j = 0; j < s->queries[i]->nterms; j++) {
			t = s->queries[i]->terms[j];
			if (t->kind != KIND_PREFIX) {
				words[nw++] = t;
				continue;
			}
			prefixes[np++] = t;
			if (t->lens[0] < var->prefix_min)
				var->prefix_min = t->lens[0];
		}
	}
	match_starts_build(var, prefixes, np);
	match_dict_build(s, &var->words, words, nw, 0);
	match_dict_build(s, &var->prefixes, prefixes, np, 1);
}

/* Append the code of n to the set's; return where it starts. */
static size_t
match_compile(struct match_set *s, const struct match_node *n, size_t *cap)
{
	size_t pc = s->ncode++;
	struct match_code *c;

	if (pc == *cap) {
		*cap = *cap ? *cap * 2 : 256;
		s->code = xreallocarray(s->code, *cap, sizeof *s->code);
	}
	c = &s->code[pc];
	memset(c, 0, sizeof *c);
	c->op = n->op;
	c->value = n->value;
	c->written = n->op == OP_TERM ? n->term->written : n->written;
	if (n->op == OP_TERM) {
		c->arg = n->term->id;
		c->span = n->term->kind == KIND_PHRASE ?
		    (uint32_t)n->term->nwords :
		    1;
	} else if (n->op == OP_NEAR)
		c->arg = (uint32_t)n->distance;
	for (size_t i = 0; i < n->nkids; i++)
		match_compile(s, n->kids[i], cap);
	s->code[pc].size = (uint32_t)(s->ncode - pc);
	return pc;
}

/* A clause: entries, one of which has a hit when a query is true. */
struct match_clause {
	uint32_t *ids;
	size_t n;
};

struct match_clauses {
	struct match_clause *v;
	size_t n;
	size_t cap;
};

static void
match_clause_push(struct match_clauses *cs, uint32_t *ids, size_t n)
{
	if (cs->n == cs->cap) {
		cs->cap = cs->cap ? cs->cap * 2 : 4;
		cs->v = xreallocarray(cs->v, cs->cap, sizeof *cs->v);
	}
	cs->v[cs->n].ids = ids;
	cs->v[cs->n++].n = n;
}

static void
match_clause_one(struct match_clauses *cs, const struct match_term *t)
{
	uint32_t *id = xmalloc(sizeof *id);

	*id = t->id;
	match_clause_push(cs, id, 1);
}

static void
match_clauses_free(struct match_clauses *cs)
{
	for (size_t i = 0; i < cs->n; i++)
		free(cs->v[i].ids);
	free(cs->v);
	memset(cs, 0, sizeof *cs);
}

static void match_clauses_of(const struct match_node *, struct match_clauses *);

/*
 * An OR is true when a kid is: one clause, the union of a clause of
 * each kid (the shortest), or none when a kid needs no hit.
 */
static void
match_clauses_or(const struct match_node *n, struct match_clauses *cs)
{
	struct match_clauses kid;
	uint32_t *ids = NULL;
	size_t nids = 0, best;

	for (size_t i = 0; i < n->nkids; i++) {
		memset(&kid, 0, sizeof kid);
		match_clauses_of(n->kids[i], &kid);
		if (kid.n == 0) {
			free(ids);
			return;
		}
		best = 0;
		for (size_t j = 1; j < kid.n; j++) {
			if (kid.v[j].n < kid.v[best].n)
				best = j;
		}
		ids = xreallocarray(ids, nids + kid.v[best].n, sizeof *ids);
		memcpy(
		    ids + nids, kid.v[best].ids, kid.v[best].n * sizeof *ids);
		nids += kid.v[best].n;
		match_clauses_free(&kid);
	}
	match_clause_push(cs, ids, nids);
}

/*
 * The clauses of n: when n is true, each clause has a term with a hit.
 * None when n may be true without a hit (NOT and predicates say
 * nothing of which terms are present).
 */
static void
match_clauses_of(const struct match_node *n, struct match_clauses *cs)
{
	switch (n->op) {
	case OP_TERM:
		match_clause_one(cs, n->term);
		break;
	case OP_NEAR:
		match_clause_one(cs, n->kids[0]->term);
		match_clause_one(cs, n->kids[1]->term);
		break;
	case OP_AND:
		for (size_t i = 0; i < n->nkids; i++)
			match_clauses_of(n->kids[i], cs);
		break;
	case OP_OR:
		match_clauses_or(n, cs);
		break;
	default:
		break;
	}
}

/*
 * Make each entry's triggers from every query's clauses (the first
 * MATCH_MAX_CLAUSES: fewer clauses still hold when the query is true).
 * A query with none is always a candidate.
 */
static void
match_set_triggers(struct match_set *s)
{
	struct match_clauses *cs = xcalloc(s->nqueries + 1, sizeof *cs);
	size_t k, need, ntrigs = 0;
	uint32_t id, *off = xcalloc(s->nentries + 2, sizeof *off);
	struct match_entry *e;

	s->always = xcalloc(s->nqueries + 1, sizeof *s->always);
	for (size_t q = 0; q < s->nqueries; q++) {
		match_clauses_of(s->queries[q]->root, &cs[q]);
		if (cs[q].n == 0)
			s->always[s->nalways++] = (uint32_t)q;
		for (k = 0; k < cs[q].n && k < MATCH_MAX_CLAUSES; k++) {
			for (size_t i = 0; i < cs[q].v[k].n; i++)
				off[cs[q].v[k].ids[i] + 2]++;
			ntrigs += cs[q].v[k].n;
		}
	}
	/* Entry i's go from off[i + 1]; filled, they are [off[i], off[i + 1]).
	 */
	for (size_t i = 2; i < s->nentries + 2; i++)
		off[i] += off[i - 1];
	s->trigs = xcalloc(ntrigs + 1, sizeof *s->trigs);
	for (size_t q = 0; q < s->nqueries; q++) {
		need =
		    cs[q].n < MATCH_MAX_CLAUSES ? cs[q].n : MATCH_MAX_CLAUSES;
		for (k = 0; k < need; k++) {
			for (size_t i = 0; i < cs[q].v[k].n; i++) {
				id = cs[q].v[k].ids[i];
				s->trigs[off[id + 1]++] =
				    (struct match_trig) { (uint32_t)q,
					    (uint8_t)k, (uint8_t)need };
			}
		}
		match_clauses_free(&cs[q]);
	}
	/* The first in the entry itself, which a hit reads anyway. */
	for (size_t i = 0; i < s->nentries; i++) {
		e = &s->entries[i];
		if (off[i + 1] == off[i])
			continue;
		e->trig = s->trigs[off[i]];
		e->more = off[i] + 1;
		e->nmore = off[i + 1] - off[i] - 1;
	}
	free(off);
	free(cs);
}

/* Move the entries to memory aligned on cache lines, one per entry. */
static void
match_entries_align(struct match_set *s)
{
	size_t size = (s->nentries + 1) * sizeof *s->entries;
	uintptr_t at;

	s->entries_mem = xcalloc(1, size + MATCH_CACHE_LINE);
	at = ((uintptr_t)s->entries_mem + MATCH_CACHE_LINE - 1) &
	    ~(uintptr_t)(MATCH_CACHE_LINE - 1);
	if (s->nentries > 0)
		memcpy(
		    (void *)at, s->entries, s->nentries * sizeof *s->entries);
	free(s->entries);
	s->entries = (struct match_entry *)at;
}

/* Compile the set: dictionaries, code, triggers, per-story state. */
static void
match_set_build(struct match_set *s)
{
	struct match_term **words = NULL, **prefixes = NULL;
	size_t cap = 0;

	for (size_t i = 0; i < s->nqueries; i++)
		cap += s->queries[i]->nterms;
	words = xcalloc(cap + 1, sizeof *words);
	prefixes = xcalloc(cap + 1, sizeof *prefixes);
	for (size_t v = 0; v < s->nvariants; v++)
		match_variant_build(s, v, words, prefixes);
	free(words);
	free(prefixes);
	match_entries_align(s);
	cap = 0;
	s->qinfo = xcalloc(s->nqueries + 1, sizeof *s->qinfo);
	for (size_t i = 0; i < s->nqueries; i++) {
		s->qinfo[i].pc =
		    (uint32_t)match_compile(s, s->queries[i]->root, &cap);
		s->qinfo[i].variant = (uint32_t)s->queries[i]->variant;
		s->qinfo[i].arg = s->queries[i]->arg;
	}
	match_set_triggers(s);
	s->query_states = xcalloc(s->nqueries + 1, sizeof *s->query_states);
	s->ncandwords = (s->nqueries + 63) / 64;
	s->cands = xcalloc(s->ncandwords + 1, sizeof *s->cands);
	s->candsum = xcalloc((s->ncandwords + 63) / 64 + 1, sizeof *s->candsum);
	s->caphits = 64;
	s->hits = xcalloc(s->caphits, sizeof *s->hits);
	s->is_built = 1;
}

/* The set: a story. */

/* Lay out title "\n" text and tokenise it for each accent mode in use. */
static void
match_prepare(struct match_set *s, const struct match_story *st)
{
	const char *title = st->title != NULL ? st->title : "";
	const char *text = st->text != NULL ? st->text : "";
	size_t tlen = strlen(title), xlen = strlen(text), *nt;
	struct text_tokens *t;
	int used = 0;

	if (tlen + xlen + 2 > s->plaincap) {
		s->plaincap = (tlen + xlen + 2) * 2;
		s->plain = xreallocarray(s->plain, s->plaincap, 1);
	}
	memcpy(s->plain, title, tlen);
	s->plain[tlen] = '\n';
	memcpy(s->plain + tlen + 1, text, xlen + 1);
	for (size_t i = 0; i < s->nvariants; i++)
		used |= 1 << (s->variants[i].flags & MATCH_KEEP_ACCENTS);
	/*
	 * One pass over both: the newline parts them as tokenising each
	 * would (it is no letter, and ends a cut UTF-8 sequence).
	 */
	for (int m = 0; m < 2; m++) {
		t = &s->tokens[m];
		t->n = 0;
		t->foldedlen = 0;
		if (!(used & (1 << m)) && !(m == 0 && used == 0))
			continue;
		text_tokenize(
		    t, s->plain, tlen + 1 + xlen, m ? TEXT_KEEP_ACCENTS : 0);
		/* Per mode: a mark alone is a token only where kept. */
		nt = &s->ntitle[m];
		for (*nt = 0; *nt < t->n && t->v[*nt].start < tlen; (*nt)++)
			;
	}
	s->text_start = tlen + 1;
}

static struct text_tokens *
match_tokens(struct match_set *s, const struct match_variant *v)
{
	return &s->tokens[v->flags & MATCH_KEEP_ACCENTS];
}

/* How many of a variant's tokens are the title's. */
static size_t
match_ntitle(const struct match_set *s, const struct match_variant *v)
{
	return s->ntitle[v->flags & MATCH_KEEP_ACCENTS];
}

/* Stem every token once, for a variant that stems. */
static void
match_stem(struct match_set *s, struct match_variant *v)
{
	struct text_tokens *t = match_tokens(s, v);
	const sb_symbol *stem;
	size_t len, cap;

	if (t->n + 1 > v->keycap) {
		v->keycap = (t->n + 1) * 2;
		v->keyoff =
		    xreallocarray(v->keyoff, v->keycap, sizeof *v->keyoff);
	}
	v->stemslen = 0;
	for (size_t i = 0; i < t->n; i++) {
		stem = sb_stemmer_stem(v->stemmer,
		    (const sb_symbol *)text_token_str(t, i),
		    (int)t->v[i].foldlen);
		len = stem != NULL ? (size_t)sb_stemmer_length(v->stemmer) : 0;
		/* Keys are read a word at a time: keep a set pad after. */
		if (v->stemslen + len + 1 + MATCH_ANCHOR > v->stemscap) {
			cap = (v->stemslen + len + 1 + MATCH_ANCHOR) * 2;
			v->stems = xreallocarray(v->stems, cap, 1);
			memset(v->stems + v->stemscap, 0, cap - v->stemscap);
			v->stemscap = cap;
		}
		v->keyoff[i] = v->stemslen;
		memcpy(v->stems + v->stemslen,
		    stem != NULL ? (const char *)stem : "", len);
		v->stemslen += len;
		v->stems[v->stemslen++] = '\0';
	}
	v->keyoff[t->n] = v->stemslen;
}

/* The key of token i in a variant: its stem, or its folded form. */
static const char *
match_key(
    struct match_set *s, const struct match_variant *v, size_t i, size_t *len)
{
	const struct text_tokens *t = match_tokens(s, v);

	if (v->stemmer == NULL) {
		*len = t->v[i].foldlen;
		return text_token_str(t, i);
	}
	*len = v->keyoff[i + 1] - v->keyoff[i] - 1;
	return v->stems + v->keyoff[i];
}

/* Query q is a candidate: its bit, and its word's in the summary. */
static void
match_cand(struct match_set *s, uint32_t q)
{
	s->cands[q / 64] |= 1ULL << (q % 64);
	s->candsum[q / 4096] |= 1ULL << (q / 64 % 64);
}

/*
 * A trigger fired: its clause of its query is true. A query of one
 * clause is a candidate at once; the others when all their clauses are.
 */
static void
match_fire(struct match_set *s, const struct match_trig *t)
{
	struct match_query_state *qs;
	uint32_t all;

	if (t->need > 1) {
		qs = &s->query_states[t->query];
		if (qs->stamp != s->stamp) {
			qs->stamp = s->stamp;
			qs->clauses = 0;
		}
		qs->clauses |= 1U << t->bit;
		all = ~0U >> (32 - t->need); /* need > 1 */
		if (qs->clauses != all)
			return;
	}
	match_cand(s, t->query);
}

/* Entry e was hit for the first time in this story: fire its triggers. */
static void
match_trigger(struct match_set *s, const struct match_entry *e)
{
	if (e->trig.need == 0)
		return;
	match_fire(s, &e->trig);
	for (uint32_t k = 0; k < e->nmore; k++)
		match_fire(s, &s->trigs[e->more + k]);
}

/*
 * The length (at most 0xffff; 0 past the end) and first 4 bytes at most
 * of the key of token i, as a phrase's entry has its second word's.
 */
static uint32_t
match_next(struct match_set *s, const struct match_variant *v, size_t i,
    uint16_t *len2)
{
	const char *key;
	uint64_t w;
	uint32_t next;
	size_t len;

	*len2 = 0;
	if (i >= match_tokens(s, v)->n)
		return 0;
	key = match_key(s, v, i, &len);
	*len2 = (uint16_t)(len < 0xffff ? len : 0xffff);
	w = match_tail(match_load(key), len < 4 ? len : 4);
	memcpy(&next, &w, sizeof next); /* its first bytes, either order */
	return next;
}

/*
 * Does the phrase of entry e, its first word at token i and its second
 * word's start already seen at i + 1, go on with its other words?
 */
static int
match_phrase_at(struct match_set *s, const struct match_variant *v,
    const struct match_entry *e, size_t i)
{
	const struct match_term *t = s->terms[e - s->entries];
	size_t n = match_tokens(s, v)->n, nt = match_ntitle(s, v), len;
	const char *key;

	if (i + e->nwords > n || (i < nt && i + e->nwords > nt))
		return 0;
	for (size_t j = 1; j < t->nwords; j++) {
		key = match_key(s, v, i + j, &len);
		if (len != t->lens[j] || !match_same(key, t->words[j], len))
			return 0;
	}
	return 1;
}

/* Token i starts entry e (its first word matched): record the hit. */
static inline void
match_hit(struct match_set *s, const struct match_variant *v,
    struct match_entry *e, size_t i)
{
	size_t nt = match_ntitle(s, v);
	uint32_t h;

	if ((e->scope == SCOPE_TITLE && i >= nt) ||
	    (e->scope == SCOPE_TEXT && i < nt))
		return;
	if (e->kind == KIND_PHRASE && !match_phrase_at(s, v, e, i))
		return;
	/* Past 2^32 - 1 hits in one story, the rest are not recorded. */
	if (s->nhits == UINT32_MAX)
		return;
	if (s->nhits == s->caphits) {
		s->caphits *= 2;
		s->hits = xreallocarray(s->hits, s->caphits, sizeof *s->hits);
	}
	h = (uint32_t)s->nhits++;
	s->hits[h].pos = i;
	s->hits[h].next = 0;
	if (e->stamp == s->stamp) {
		s->hits[e->tail].next = h;
		e->tail = h;
		return;
	}
	e->stamp = s->stamp;
	e->head = e->tail = h;
	match_trigger(s, e);
}

/*
 * Token i starts the key of entry e: a hit of each of its terms. Most
 * phrases are turned away by the start of the next token, read once.
 */
static void
match_hit_key(struct match_set *s, const struct match_variant *v,
    struct match_entry *e, size_t i)
{
	uint32_t next = 0;
	uint16_t len2 = 0;
	int has_next = 0;

	for (uint32_t k = e->nkey; k > 0; k--, e++) {
		if (e->kind == KIND_PHRASE) {
			if (!has_next) {
				next = match_next(s, v, i + 1, &len2);
				has_next = 1;
			}
			if (e->len2 != len2 || e->next != next)
				continue;
		}
		match_hit(s, v, e, i);
	}
}

/*
 * Token i (key, len bytes) against the prefixes: the table of starts
 * says which anchor lengths prefixes that start like it have (most
 * often none); one look-up for each, then each prefix of that anchor.
 */
static void
match_scan_prefixes(struct match_set *s, const struct match_variant *v,
    const char *key, size_t len, size_t i)
{
	uint64_t w = match_load(key), h;
	unsigned int as = v->starts[match_start(w, v->head)] &
	    ((1U << match_anchor_len(len)) - 1);
	struct match_entry *e;
	size_t a;

	while (as != 0) {
		a = (size_t)__builtin_ctz(as) + 1;
		as &= as - 1;
		h = match_hash_anchor(w, a);
		if (!match_dict_may(&v->prefixes, h) ||
		    (e = match_dict_find(s, &v->prefixes, key, a, h, 1)) ==
			NULL)
			continue;
		for (uint32_t k = e->nkey; k > 0; k--, e++) {
			if (match_entry_begins(s, e, key, len))
				match_hit(s, v, e, i);
		}
	}
}

/*
 * Look every token of the story up once in a variant's dictionaries,
 * and in its prefixes when it is long enough for one.
 */
static void
match_scan(struct match_set *s, struct match_variant *v)
{
	const struct text_tokens *t = match_tokens(s, v);
	struct match_entry *e;
	const char *key;
	size_t len;
	uint64_t h;

	if (v->stemmer != NULL)
		match_stem(s, v);
	for (size_t i = 0; i < t->n; i++) {
		key = text_token_str(t, i);
		len = t->v[i].foldlen;
		/*
		 * Every token, however short: the anchors longer than it
		 * are masked off, and a test of its length would be a
		 * branch mispredicted at one token in three or so.
		 */
		if (v->starts != NULL)
			match_scan_prefixes(s, v, key, len, i);
		if (v->stemmer != NULL)
			key = match_key(s, v, i, &len);
		h = match_hash_padded(key, len);
		if (match_dict_may(&v->words, h) &&
		    (e = match_dict_find(s, &v->words, key, len, h, 0)) != NULL)
			match_hit_key(s, v, e, i);
	}
}

/* The set: evaluating a candidate. */

static int
match_term_is_hit(const struct match_set *s, uint32_t id)
{
	return s->entries[id].stamp == s->stamp;
}

/* The first hit of a term that has one. */
static size_t
match_first_hit(const struct match_set *s, uint32_t id)
{
	return s->hits[s->entries[id].head].pos;
}

/* At most d tokens between a hit of a and a hit of b, either order. */
static int
match_near(const struct match_set *s, const struct match_code *a,
    const struct match_code *b, size_t d)
{
	size_t i, j, x, y;

	if (!match_term_is_hit(s, a->arg) || !match_term_is_hit(s, b->arg))
		return 0;
	i = s->entries[a->arg].head;
	j = s->entries[b->arg].head;
	while (i != 0 && j != 0) {
		x = s->hits[i].pos;
		y = s->hits[j].pos;
		if (x <= y) {
			if (y < x + a->span || y - (x + a->span) <= d)
				return 1;
			i = s->hits[i].next;
		} else {
			if (x < y + b->span || x - (y + b->span) <= d)
				return 1;
			j = s->hits[j].next;
		}
	}
	return 0;
}

/* Is the story's host the value, or one of its subdomains? */
static int
match_site(struct match_set *s, const char *value)
{
	size_t hlen, vlen = strlen(value);

	if (!s->has_host) {
		free(s->host);
		s->host =
		    s->story->url != NULL ? url_host(s->story->url) : NULL;
		s->has_host = 1;
	}
	if (s->host == NULL)
		return 0;
	hlen = strlen(s->host);
	if (hlen == vlen)
		return strcasecmp(s->host, value) == 0;
	return hlen > vlen && s->host[hlen - vlen - 1] == '.' &&
	    strcasecmp(s->host + hlen - vlen, value) == 0;
}

static int
match_tag(const struct match_story *st, const char *value)
{
	for (size_t i = 0; st->tags != NULL && st->tags[i] != NULL; i++) {
		if (strcmp(st->tags[i], value) == 0)
			return 1;
	}
	return 0;
}

/* Run the code at c: is that part of the query true for the story? */
static int
match_exec(struct match_set *s, const struct match_code *c)
{
	const struct match_code *k, *end = c + c->size;

	switch (c->op) {
	case OP_TERM:
		return match_term_is_hit(s, c->arg);
	case OP_NOT:
		return !match_exec(s, c + 1);
	case OP_AND:
		for (k = c + 1; k < end; k += k->size) {
			if (!match_exec(s, k))
				return 0;
		}
		return 1;
	case OP_OR:
		for (k = c + 1; k < end; k += k->size) {
			if (match_exec(s, k))
				return 1;
		}
		return 0;
	case OP_NEAR:
		return match_near(s, c + 1, c + 2, c->arg);
	case OP_FEED:
		return s->story->feed != NULL &&
		    strcmp(s->story->feed, c->value) == 0;
	case OP_SITE:
		return match_site(s, c->value);
	case OP_TAG:
		return match_tag(s->story, c->value);
	}
	return 0;
}

/* The set: reporting a match. */

static void
match_why_add(struct match_why *w, const char *written)
{
	for (size_t i = 0; i < w->n; i++) {
		if (w->matched[i] == written ||
		    strcmp(w->matched[i], written) == 0)
			return;
	}
	if (w->n == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 8;
		w->matched =
		    xreallocarray(w->matched, w->cap, sizeof *w->matched);
	}
	w->matched[w->n++] = written;
}

static void
match_why_term(
    const struct match_set *s, struct match_why *w, const struct match_code *c)
{
	size_t first = match_first_hit(s, c->arg);

	match_why_add(w, c->written);
	if (!w->has_hit || first < w->first) {
		w->has_hit = 1;
		w->first = first;
		w->last = first + c->span - 1;
	}
}

/* Collect from code that is true; NOT explains nothing. */
static void
match_collect(
    struct match_set *s, const struct match_code *c, struct match_why *w)
{
	const struct match_code *k, *end = c + c->size;

	switch (c->op) {
	case OP_TERM:
		match_why_term(s, w, c);
		break;
	case OP_NEAR:
		match_why_term(s, w, c + 1);
		match_why_term(s, w, c + 2);
		break;
	case OP_AND:
	case OP_OR:
		for (k = c + 1; k < end; k += k->size) {
			if (match_exec(s, k))
				match_collect(s, k, w);
		}
		break;
	case OP_FEED:
	case OP_SITE:
	case OP_TAG:
		match_why_add(w, c->written);
		break;
	case OP_NOT:
		break;
	}
}

static void
match_put(char *out, size_t *n, const char *s, size_t len)
{
	memcpy(out + *n, s, len);
	*n += len;
}

/* Put a mark ("«", "… ") when is_put: its size known, no call. */
#define MATCH_PUT_MARK(out, n, mark, is_put)                       \
	do {                                                       \
		if (is_put)                                        \
			match_put(out, n, mark, sizeof(mark) - 1); \
	} while (0)

/*
 * About 30 words around the hit (or from the start of the text when
 * there is none), marked « », within the title or within the text.
 * Return it in the set's buffer, valid until the next.
 */
static const char *
match_snippet(struct match_set *s, const struct match_variant *v,
    const struct match_why *w)
{
	const struct text_tokens *t = match_tokens(s, v);
	size_t nt = match_ntitle(s, v);
	size_t hit, lo, hi, first, last, from, to, hs, he, n;
	char *out;

	if (t->n == 0)
		return "";
	hit = w->has_hit ? w->first : (nt < t->n ? nt : 0);
	lo = hit < nt ? 0 : nt;
	hi = hit < nt ? nt : t->n;
	first =
	    hit > lo + MATCH_SNIPPET_BEFORE ? hit - MATCH_SNIPPET_BEFORE : lo;
	if (!w->has_hit)
		first = lo;
	last = first + MATCH_SNIPPET_WORDS - 1;
	if (last >= hi) {
		/* Near the end: take the words before instead. */
		last = hi - 1;
		first = last + 1 >= lo + MATCH_SNIPPET_WORDS ?
		    last + 1 - MATCH_SNIPPET_WORDS :
		    lo;
	}
	if (w->has_hit && last < w->last)
		last = w->last;
	/* From the start of the field, so that an opening quote stays. */
	from = first != lo	  ? t->v[first].start :
	    lo < nt || nt == t->n ? 0 :
				    s->text_start;
	to = t->v[last].end;
	/* Keep what clings to the last word: a quote, a full stop. */
	for (size_t lim = to + 8; s->plain[to] != '\0' &&
	     s->plain[to] != '\n' && !isspace((unsigned char)s->plain[to]) &&
	     (to < lim || ((unsigned char)s->plain[to] & 0xc0) == 0x80);)
		to++;
	hs = he = to;
	if (w->has_hit) {
		hs = t->v[w->first].start;
		he = t->v[w->last].end;
	}
	if (to - from + 16 > s->capsnippet) {
		s->capsnippet = (to - from + 16) * 2;
		s->snippet = xreallocarray(s->snippet, s->capsnippet, 1);
	}
	out = s->snippet;
	n = 0;
	MATCH_PUT_MARK(out, &n, "… ", first > lo);
	match_put(out, &n, s->plain + from, hs - from);
	MATCH_PUT_MARK(out, &n, "«", w->has_hit);
	match_put(out, &n, s->plain + hs, he - hs);
	MATCH_PUT_MARK(out, &n, "»", w->has_hit);
	match_put(out, &n, s->plain + he, to - he);
	MATCH_PUT_MARK(out, &n, " …", last + 1 < hi);
	out[n] = '\0';
	return out;
}

/* Collect what made the query of r true, once. */
static struct match_why *
match_why_of(const struct match_result *r)
{
	struct match_set *s = r->set;

	if (!s->has_why) {
		s->why.n = 0;
		s->why.has_hit = 0;
		match_collect(s, &s->code[s->qinfo[r->query].pc], &s->why);
		s->has_why = 1;
	}
	return &s->why;
}

const char *const *
match_result_matched(const struct match_result *r, size_t *n)
{
	struct match_why *w = match_why_of(r);

	*n = w->n;
	return w->matched;
}

const char *
match_result_snippet(const struct match_result *r)
{
	struct match_set *s = r->set;
	struct match_why *w = match_why_of(r);

	if (s->snippet_done == NULL)
		s->snippet_done = match_snippet(
		    s, &s->variants[s->qinfo[r->query].variant], w);
	return s->snippet_done;
}

/* Query i matched: tell the caller, who asks for what it needs. */
static void
match_report(struct match_set *s, size_t i, match_cb cb, void *cbarg)
{
	struct match_result r = { s, (uint32_t)i };

	s->has_why = 0;
	s->snippet_done = NULL;
	cb(s->qinfo[i].arg, &r, cbarg);
}

/* Run the candidates of word w of cands; return how many matched. */
static int
match_run_word(struct match_set *s, size_t w, match_cb cb, void *cbarg)
{
	size_t q;
	int n = 0;

	while (s->cands[w] != 0) {
		q = w * 64 + (size_t)__builtin_ctzll(s->cands[w]);
		s->cands[w] &= s->cands[w] - 1;
		if (match_exec(s, &s->code[s->qinfo[q].pc])) {
			match_report(s, q, cb, cbarg);
			n++;
		}
	}
	return n;
}

/* A new story number; when it wraps, forget every stamp. */
static void
match_next_stamp(struct match_set *s)
{
	if (++s->stamp != 0)
		return;
	for (size_t i = 0; i < s->nentries; i++)
		s->entries[i].stamp = 0;
	for (size_t i = 0; i < s->nqueries; i++)
		s->query_states[i].stamp = 0;
	s->stamp = 1;
}

int
match_set_run(
    struct match_set *s, const struct match_story *st, match_cb cb, void *cbarg)
{
	size_t w;
	int n = 0;

	if (!s->is_built)
		match_set_build(s);
	match_next_stamp(s);
	s->story = st;
	s->has_host = 0;
	s->nhits = 1; /* hit 0 is "none" */
	match_prepare(s, st);
	for (size_t i = 0; i < s->nalways; i++)
		match_cand(s, s->always[i]);
	for (size_t v = 0; v < s->nvariants; v++)
		match_scan(s, &s->variants[v]);
	/*
	 * Candidates are bits, so that they come out in the order added;
	 * the summary says which words of them to read, so that a story
	 * reads one word for 4,096 queries, not one for 64.
	 */
	for (size_t k = 0; k < (s->ncandwords + 63) / 64; k++) {
		while (s->candsum[k] != 0) {
			w = k * 64 + (size_t)__builtin_ctzll(s->candsum[k]);
			s->candsum[k] &= s->candsum[k] - 1;
			n += match_run_word(s, w, cb, cbarg);
		}
	}
	s->story = NULL;
	return n;
}
