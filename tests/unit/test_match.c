#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* cmocka.h needs the standard headers above. */
#include <cmocka.h>
#include <libstemmer.h>

#include "match.h"
#include "text.h"
#include "url.h"
#include "xmalloc.h"

/*
 * Watchlist queries: tables of (query, title, text, expected) by feature,
 * sets of many queries, the seed article, matched terms and snippets, and
 * the parser's errors with their columns.
 */

/* What a row runs with besides its title and text; NULL means none. */
struct match_ctx {
	const char *language; /* Snowball stemmer, NULL = none */
	int flags;	      /* MATCH_* */
	const char *feed;     /* NULL = "news" */
	const char *url;      /* may be NULL */
	const char *const *tags;
};

struct match_case {
	const char *query;
	const char *title;
	const char *text;
	int expected; /* 1 = the query matches the story */
	const struct match_ctx *ctx;
};

/* One callback as match_set_run gave it, copied: it only lends. */
#define MATCH_TEST_CALLS 8
#define MATCH_TEST_TERMS 16

struct match_call {
	void *arg;
	size_t nmatched;
	char *matched[MATCH_TEST_TERMS];
	char *snippet; /* NULL if the matcher gave none */
};

struct match_calls {
	size_t n; /* callbacks seen; only the first MATCH_TEST_CALLS kept */
	struct match_call call[MATCH_TEST_CALLS];
};

static const char *const tags_world_politics[] = { "world", "politics", NULL };
static const char *const tags_world[] = { "world", NULL };

static const struct match_ctx ctx_english = { "english", 0, NULL, NULL, NULL };
static const struct match_ctx ctx_russian = { "russian", 0, NULL, NULL, NULL };
static const struct match_ctx ctx_keep = { NULL, MATCH_KEEP_ACCENTS, NULL, NULL,
	NULL };
static const struct match_ctx ctx_forumdaily = { NULL, 0, "forumdaily",
	"https://www.forumdaily.com/en/amerikancy/", tags_world_politics };
static const struct match_ctx ctx_bare = { NULL, 0, "forumdaily",
	"https://forumdaily.com/", tags_world };
static const struct match_ctx ctx_upper = { NULL, 0, "forumdaily",
	"HTTPS://WWW.ForumDaily.COM/en/", NULL };
static const struct match_ctx ctx_port = { NULL, 0, "forumdaily",
	"http://www.forumdaily.com:8080/x", NULL };
static const struct match_ctx ctx_not = { NULL, 0, "notforumdaily",
	"https://notforumdaily.com/", NULL };
static const struct match_ctx ctx_evil = { NULL, 0, "evil",
	"https://forumdaily.com.evil.example/", NULL };
static const struct match_ctx ctx_ref = { NULL, 0, "example",
	"https://example.com/?ref=forumdaily.com", NULL };
static const struct match_ctx ctx_nourl = { NULL, 0, "forumdaily", NULL, NULL };
static const struct match_ctx ctx_nbc = { NULL, 0, "nbcnews",
	"https://www.nbcnews.com/politics/x", NULL };

/* Whole words: case-insensitive, never part of a longer token. */
static const struct match_case match_word_cases[] = {
	{ "Lavrov", "", "LAVROV spoke", 1, NULL },
	{ "lavrov", "", "Sergei Lavrov.", 1, NULL },
	{ "LAVROV", "", "Sergei Lavrov spoke", 1, NULL },
	{ "Lavrov", "", "Lavrova spoke", 0, NULL },
	{ "Lavrov", "", "two Lavrovs", 0, NULL },
	{ "Lavrov", "", "Lavrov2 spoke", 0, NULL },
	{ "Lavrov", "", "", 0, NULL },
	{ "two", "", "twofold", 0, NULL },
	{ "fold", "", "twofold", 0, NULL },
	{ "2024", "", "in 2024, talks", 1, NULL },
	{ "2024", "", "since 20245", 0, NULL },
	{ "Lavrov", "", "Sergei\tLavrov\nspoke", 1, NULL },
	{ "war", "", "warfare and wartime", 0, NULL },
};

/* Apostrophes split tokens: Lavrov's is lavrov s. */
static const struct match_case match_apostrophe_cases[] = {
	{ "Lavrov", "", "Lavrov's view", 1, NULL },
	{ "Lavrov", "", "Lavrov’s view", 1, NULL },
	{ "Lavrov", "", "LAVROV'S VIEW", 1, NULL },
	{ "Lavrov's", "", "Lavrov’s view", 1, NULL },
	{ "Lavrov’s", "", "Lavrov's view", 1, NULL },
	{ "Lavrov's", "", "Lavrov said", 0, NULL },
	{ "s", "", "Lavrov's", 1, NULL },
	{ "Russians", "", "the Russians' view", 1, NULL },
	{ "Russian", "", "the Russians' view", 0, NULL },
	{ "Brien", "", "O'Brien said", 1, NULL },
	{ "O'Brien", "", "O’Brien said", 1, NULL },
	{ "OBrien", "", "O'Brien said", 0, NULL },
	{ "don't", "", "I don’t know", 1, NULL },
	{ "dont", "", "I don't know", 0, NULL },
	{ "Kyiv", "", "Kyiv's counter-offensive", 1, NULL },
};

/* Dashes, quotes and line breaks between a phrase's words are ignored. */
static const struct match_case match_hyphen_quote_cases[] = {
	{ "\"track two diplomacy\"", "", "known as track two diplomacy", 1,
	    NULL },
	{ "\"track two diplomacy\"", "", "known as “Track-Two diplomacy”", 1,
	    NULL },
	{ "\"track two diplomacy\"", "", "TRACK TWO DIPLOMACY.", 1, NULL },
	{ "\"track two diplomacy\"", "", "track—two\ndiplomacy", 1, NULL },
	{ "\"track two diplomacy\"", "", "track–two diplomacy", 1, NULL },
	{ "\"track two diplomacy\"", "", "track‐two diplomacy", 1, NULL },
	{ "\"track two diplomacy\"", "", "track - two - diplomacy", 1, NULL },
	{ "\"track two diplomacy\"", "", "«track» ‘two’ (diplomacy)", 1, NULL },
	{ "\"track two diplomacy\"", "", "„Track two diplomacy“", 1, NULL },
	{ "\"track two diplomacy\"", "", "'track two diplomacy'", 1, NULL },
	{ "\"track two diplomacy\"", "", "track/two/diplomacy", 1, NULL },
	{ "\"track two diplomacy\"", "", "track\r\ntwo\r\ndiplomacy", 1, NULL },
	{ "\"track two diplomacy\"", "", "track twofold diplomacy", 0, NULL },
	{ "\"track two diplomacy\"", "", "track two diplomatic", 0, NULL },
	{ "\"track two diplomacy\"", "", "two track diplomacy", 0, NULL },
	{ "\"track two diplomacy\"", "", "track, two, and diplomacy", 0, NULL },
	{ "\"track two diplomacy\"", "", "Track XNUMX diplomacy", 0, NULL },
	{ "\"Track-Two diplomacy\"", "", "track two diplomacy", 1, NULL },
	{ "\"“track two” diplomacy\"", "", "track two diplomacy", 1, NULL },
	/* A hyphen inside a query word does not negate: it is a phrase. */
	{ "Track-Two", "", "on Track Two", 1, NULL },
	{ "Track-Two", "", "two-track", 0, NULL },
	{ "counter-offensive", "", "the counter–offensive", 1, NULL },
	{ "counter-offensive", "", "the counteroffensive", 0, NULL },
	{ "counteroffensive", "", "the counter-offensive", 0, NULL },
};

/* Case folding and accents: NFKD, case fold, marks stripped. */
static const struct match_case match_unicode_cases[] = {
	{ "Переговоры", "", "тайные ПЕРЕГОВОРЫ с Россией", 1, NULL },
	{ "переговоры", "", "переговор", 0, NULL },
	{ "Россией", "", "с россией", 1, NULL },
	{ "ёлка", "", "ЁЛКА", 1, NULL },
	{ "елка", "", "Ёлка", 1, NULL },
	{ "ЁЛКА", "", "елка", 1, NULL },
	{ "ёлка", "", "ЁЛКА", 1, &ctx_keep },
	{ "елка", "", "Ёлка", 0, &ctx_keep },
	{ "Київ", "", "КИЇВ", 1, NULL },
	{ "straße", "", "STRASSE", 1, NULL },
	{ "STRASSE", "", "Straße", 1, NULL },
	{ "strasse", "", "straße", 1, &ctx_keep },
	{ "Zürich", "", "ZURICH", 1, NULL },
	{ "zurich", "", "Zürich", 1, NULL },
	{ "Zürich", "", "zurich", 0, &ctx_keep },
	{ "Zürich", "", "ZÜRICH", 1, &ctx_keep },
	{ "café", "", "CAFÉ crème", 1, NULL },
	{ "cafe", "", "Café", 1, NULL },
	/* "e" and a combining acute accent: the same word once decomposed */
	{ "café", "",
	    "cafe\xcc\x81"
	    " au lait",
	    1, NULL },
	{ "café", "",
	    "cafe\xcc\x81"
	    " au lait",
	    1, &ctx_keep },
	{ "café", "", "cafe", 0, &ctx_keep },
	{ "İstanbul", "", "istanbul talks", 1, NULL },
	{ "istanbul", "", "İSTANBUL", 1, NULL },
	{ "\"İstanbul talks\"", "", "ISTANBUL TALKS", 1, NULL },
	{ "ﬁnance", "", "finance", 1, NULL },
	{ "finance", "", "ﬁnance", 1, NULL },
	{ "usa", "", "ＵＳＡ", 1, NULL },
	{ "σοφια", "", "Σοφία", 1, NULL },
	{ "λόγος", "", "ΛΟΓΟΣ", 1, NULL },
	{ "Łódź", "", "ŁÓDŹ", 1, NULL },
	{ "日本", "", "日本 news", 1, NULL },
	{ "日本", "", "日本語", 0, NULL },
};

/* Tokens glued by punctuation are still separate tokens. */
static const struct match_case match_glued_cases[] = {
	{ "Russia", "", "U.S.-Russia talks", 1, NULL },
	{ "\"U.S.\"", "", "the U.S. officials", 1, NULL },
	{ "U.S.", "", "the U.S. officials", 1, NULL },
	{ "U.S.", "", "U.S.-Russia talks", 1, NULL },
	{ "US", "", "U.S. officials", 0, NULL },
	{ "U.S.", "", "US officials", 0, NULL },
	{ "\"U.S. Russia\"", "", "U.S.-Russia talks", 1, NULL },
	{ "U.S.-Russia", "", "U.S.–Russia talks", 1, NULL },
	{ "U.S.-Russia", "", "Russia-U.S. talks", 0, NULL },
	{ "talks", "", "U.S.-Russia/talks", 1, NULL },
	{ "Kyiv", "", "Moscow,Kyiv;Washington", 1, NULL },
	{ "Ukraine", "", "#Ukraine", 1, NULL },
	{ "forumdaily", "", "see www.forumdaily.com/en", 1, NULL },
	{ "forumdaily.com", "", "see www.forumdaily.com/en", 1, NULL },
	{ "co", "", "co-operation", 1, NULL },
	{ "cooperation", "", "co-operation", 0, NULL },
	{ "word", "", "word_17", 1, NULL },
};

/* prefix* against whole words. */
static const struct match_case match_prefix_cases[] = {
	{ "negotiat*", "", "secret negotiations", 1, NULL },
	{ "negotiat*", "", "they negotiated", 1, NULL },
	{ "negotiat*", "", "negotiat", 1, NULL },
	{ "negotiat*", "", "renegotiation", 0, NULL },
	{ "negotiat*", "", "negotia", 0, NULL },
	{ "Negotiat*", "", "NEGOTIATIONS", 1, NULL },
	{ "negotiation", "", "negotiations", 0, NULL },
	{ "two*", "", "twofold", 1, NULL },
	{ "kreml*", "", "the Kremlin's line", 1, NULL },
	{ "перегов*", "", "ПЕРЕГОВОРАХ", 1, NULL },
	{ "zur*", "", "Zürich", 1, NULL },
	{ "Lavrov*", "", "Lavrova", 1, NULL },
	{ "Lavrov*", "", "Lavrov's", 1, NULL },
	{ "diplom* track", "", "track two diplomacy", 1, NULL },
	/* Tokens shorter than the prefix, and than its 8-byte anchor. */
	{ "neg*", "", "ne g n e", 0, NULL },
	{ "internationa*", "", "internat internation", 0, NULL },
	{ "internationa*", "", "a b internationally", 1, NULL },
};

/* Phrases: tokens in a row, never from the title into the text. */
static const struct match_case match_phrase_cases[] = {
	{ "\"New York\"", "", "in New York in April", 1, NULL },
	{ "\"New York\"", "", "York, New", 0, NULL },
	{ "\"New York\"", "", "New Delhi and York", 0, NULL },
	{ "\"New York\"", "", "Lavrov in NEW-YORK", 1, NULL },
	{ "\"new york times\"", "", "new york", 0, NULL },
	{ "\"bye bye love\"", "", "bye bye bye love", 1, NULL },
	{ "\"Lavrov\"", "", "Lavrov's", 1, NULL },
	{ "\"New York\" Lavrov", "", "Lavrov in New York", 1, NULL },
	{ "\"track two diplomacy\"", "Talks on track two", "diplomacy resumed",
	    0, NULL },
	{ "\"track two diplomacy\"", "On track two diplomacy", "", 1, NULL },
	{ "\"track two diplomacy\"", "On track", "two diplomacy", 0, NULL },
};

/* Implicit AND, AND, OR, NOT, -, parentheses; AND binds tighter. */
static const struct match_case match_boolean_cases[] = {
	{ "Lavrov Kupchan", "", "Lavrov met Kupchan", 1, NULL },
	{ "Lavrov Kupchan", "", "Lavrov met Haas", 0, NULL },
	{ "Lavrov AND Kupchan", "", "Kupchan, then Lavrov", 1, NULL },
	{ "Lavrov AND Kupchan", "", "Kupchan alone", 0, NULL },
	{ "Lavrov OR Kupchan", "", "Kupchan alone", 1, NULL },
	{ "Lavrov OR Kupchan", "", "Haas alone", 0, NULL },
	{ "Lavrov Haas OR Kupchan", "", "Kupchan alone", 1, NULL },
	{ "Lavrov Haas OR Kupchan", "", "Haas alone", 0, NULL },
	{ "Lavrov Haas OR Kupchan", "", "Haas and Lavrov", 1, NULL },
	{ "Lavrov OR Haas Kupchan", "", "Haas alone", 0, NULL },
	{ "Lavrov OR Haas AND Kupchan", "", "Kupchan and Haas", 1, NULL },
	{ "Lavrov OR Haas AND Kupchan", "", "Lavrov alone", 1, NULL },
	{ "Lavrov (Haas OR Kupchan)", "", "Kupchan alone", 0, NULL },
	{ "Lavrov (Haas OR Kupchan)", "", "Lavrov and Haas", 1, NULL },
	{ "(Lavrov OR Haas) (Kupchan OR Graham)", "", "Haas and Graham", 1,
	    NULL },
	{ "(Lavrov OR Haas) (Kupchan OR Graham)", "", "Haas and Lavrov", 0,
	    NULL },
	{ "((Lavrov))", "", "Lavrov", 1, NULL },
	{ "Lavrov -Haas", "", "Lavrov and Haas", 0, NULL },
	{ "Lavrov -Haas", "", "Lavrov and Kupchan", 1, NULL },
	{ "Lavrov NOT Haas", "", "Lavrov and Haas", 0, NULL },
	{ "-Haas Lavrov", "", "Lavrov alone", 1, NULL },
	{ "Lavrov -Haas -Kupchan", "", "Lavrov and Graham", 1, NULL },
	{ "Lavrov -\"track two\"", "", "Lavrov on track two", 0, NULL },
	{ "Lavrov -\"track two\"", "", "Lavrov on two tracks", 1, NULL },
	{ "Lavrov NOT (Haas OR Kupchan)", "", "Lavrov and Kupchan", 0, NULL },
	{ "Lavrov NOT (Haas OR Kupchan)", "", "Lavrov and Graham", 1, NULL },
	/* NOT inside OR */
	{ "Lavrov OR (Haas -Kupchan)", "", "Haas and Kupchan", 0, NULL },
	{ "Lavrov OR (Haas -Kupchan)", "", "Haas alone", 1, NULL },
	{ "Lavrov OR (Haas -Kupchan)", "", "Lavrov, Haas and Kupchan", 1,
	    NULL },
	{ "Lavrov (Haas OR NOT Kupchan)", "", "Lavrov alone", 1, NULL },
	{ "Lavrov (Haas OR NOT Kupchan)", "", "Lavrov and Kupchan", 0, NULL },
	{ "Lavrov (Haas OR NOT Kupchan)", "", "Lavrov, Kupchan and Haas", 1,
	    NULL },
	{ "(Haas -Kupchan) OR (Kupchan -Haas)", "", "Haas and Kupchan", 0,
	    NULL },
	{ "(Haas -Kupchan) OR (Kupchan -Haas)", "", "Kupchan alone", 1, NULL },
	{ "\"track two\" -diplomacy", "", "track two diplomacy", 0, NULL },
	{ "\"track two\" -diplomacy", "", "on track two", 1, NULL },
};

/* 10 tokens between Lavrov and "New York". */
#define MATCH_NEAR_10 \
	"Lavrov spoke for several hours with members of the group in New York"
/* 11 tokens between them. */
#define MATCH_NEAR_11                                                      \
	"Lavrov spoke for several hours with all members of the group in " \
	"New York"
/* "New York" first, 5 tokens before Lavrov. */
#define MATCH_NEAR_5 "In New York, the talks were held with Lavrov"

/* a NEAR/N b: at most N tokens between them, either order. */
static const struct match_case match_near_cases[] = {
	{ "Lavrov NEAR/10 \"New York\"", "", MATCH_NEAR_10, 1, NULL },
	{ "Lavrov NEAR/9 \"New York\"", "", MATCH_NEAR_10, 0, NULL },
	{ "\"New York\" NEAR/10 Lavrov", "", MATCH_NEAR_10, 1, NULL },
	{ "\"New York\" NEAR/9 Lavrov", "", MATCH_NEAR_10, 0, NULL },
	{ "Lavrov NEAR \"New York\"", "", MATCH_NEAR_10, 1, NULL },
	{ "Lavrov NEAR \"New York\"", "", MATCH_NEAR_11, 0, NULL },
	{ "Lavrov NEAR/11 \"New York\"", "", MATCH_NEAR_11, 1, NULL },
	{ "Lavrov NEAR/5 \"New York\"", "", MATCH_NEAR_5, 1, NULL },
	{ "Lavrov NEAR/4 \"New York\"", "", MATCH_NEAR_5, 0, NULL },
	{ "\"New York\" NEAR/5 Lavrov", "", MATCH_NEAR_5, 1, NULL },
	{ "\"New York\" NEAR/4 Lavrov", "", MATCH_NEAR_5, 0, NULL },
	{ "Lavrov NEAR/1 Haas", "", "Lavrov Haas", 1, NULL },
	{ "Lavrov NEAR/1 Haas", "", "Haas, Lavrov", 1, NULL },
	{ "Lavrov NEAR/1 Haas", "", "Lavrov met Haas", 1, NULL },
	{ "Lavrov NEAR/1 Haas", "", "Lavrov then met Haas", 0, NULL },
	{ "Haas NEAR/1 Lavrov", "", "Lavrov then met Haas", 0, NULL },
	{ "Lavrov NEAR/3 Haas", "", "Lavrov", 0, NULL },
	/* the possessive s is a token between them */
	{ "Lavrov NEAR/2 Haas", "", "Lavrov's talks with Haas", 0, NULL },
	{ "Lavrov NEAR/3 Haas", "", "Lavrov's talks with Haas", 1, NULL },
	/* the nearest pair counts, not the first */
	{ "Lavrov NEAR/2 Haas", "", "Lavrov spoke at length to Haas", 0, NULL },
	{ "Lavrov NEAR/2 Haas", "",
	    "Lavrov spoke at length to Haas, then Lavrov left", 1, NULL },
	{ "negotiat* NEAR/2 Ukraine", "", "negotiations over Ukraine", 1,
	    NULL },
	{ "negotiat* NEAR/2 Ukraine", "",
	    "Ukraine has long avoided any negotiations", 0, NULL },
	{ "\"track two\" NEAR/2 \"New York\"", "",
	    "track two talks in New York", 1, NULL },
	{ "\"track two\" NEAR/1 \"New York\"", "",
	    "track two talks in New York", 0, NULL },
	{ "\"New York\" NEAR/2 \"track two\"", "",
	    "track two talks in New York", 1, NULL },
	/* NEAR takes terms, so this is (Lavrov NEAR/1 Haas) AND Kupchan */
	{ "Lavrov NEAR/1 Haas Kupchan", "", "Lavrov Haas", 0, NULL },
	{ "Lavrov NEAR/1 Haas Kupchan", "", "Kupchan saw Lavrov greet Haas", 1,
	    NULL },
};

/* title:, summary:, feed:, site:, tag:, and words that only look so. */
static const struct match_case match_field_cases[] = {
	{ "title:Lavrov", "Lavrov in New York", "", 1, NULL },
	{ "title:Lavrov", "Talks in New York", "Lavrov spoke", 0, NULL },
	{ "title:LAVROV", "lavrov's trip", "", 1, NULL },
	{ "title:Lavrov", "", "title: Lavrov", 0, NULL },
	{ "summary:Lavrov", "Lavrov in New York", "Talks", 0, NULL },
	{ "summary:Lavrov", "Talks", "Lavrov spoke", 1, NULL },
	{ "Lavrov", "Lavrov in New York", "", 1, NULL },
	{ "title:\"New York\"", "Talks in New York", "", 1, NULL },
	{ "title:\"New York\"", "Talks", "in New York", 0, NULL },
	{ "title:negotiat*", "Secret negotiations", "", 1, NULL },
	{ "title:negotiat*", "Secret talks", "negotiations", 0, NULL },
	{ "title:(Lavrov OR Haas)", "Haas speaks", "Lavrov", 1, NULL },
	{ "title:(Lavrov OR Haas)", "Talks", "Lavrov and Haas", 0, NULL },
	{ "title:Lavrov summary:Haas", "Lavrov", "Haas", 1, NULL },
	{ "title:Lavrov summary:Haas", "Haas", "Lavrov", 0, NULL },
	{ "title:Lavrov -summary:Lavrov", "Lavrov", "Haas", 1, NULL },
	{ "title:Lavrov -summary:Lavrov", "Lavrov", "Lavrov again", 0, NULL },
	{ "feed:forumdaily", "", "", 1, &ctx_forumdaily },
	{ "feed:forumdaily", "", "", 0, &ctx_nbc },
	{ "feed:ForumDaily", "", "", 0, &ctx_forumdaily },
	{ "feed:forum", "", "", 0, &ctx_forumdaily },
	{ "site:forumdaily.com", "", "", 1, &ctx_forumdaily },
	{ "site:forumdaily.com", "", "", 1, &ctx_bare },
	{ "site:forumdaily.com", "", "", 1, &ctx_upper },
	{ "site:FORUMDAILY.com", "", "", 1, &ctx_forumdaily },
	{ "site:forumdaily.com", "", "", 1, &ctx_port },
	{ "site:forumdaily.com", "", "", 0, &ctx_not },
	{ "site:forumdaily.com", "", "", 0, &ctx_evil },
	{ "site:forumdaily.com", "", "", 0, &ctx_ref },
	{ "site:forumdaily.com", "", "", 0, &ctx_nourl },
	{ "site:www.forumdaily.com", "", "", 0, &ctx_bare },
	{ "site:nbcnews.com", "", "", 0, &ctx_forumdaily },
	{ "site:forumdaily.com OR site:nbcnews.com", "", "", 1, &ctx_nbc },
	{ "tag:politics", "", "", 1, &ctx_forumdaily },
	{ "tag:politics", "", "", 0, &ctx_nbc },
	{ "tag:politics", "", "", 0, &ctx_bare },
	{ "tag:politics Lavrov", "", "Lavrov", 1, &ctx_forumdaily },
	{ "tag:politics Lavrov", "", "Haas", 0, &ctx_forumdaily },
	{ "Lavrov -site:nbcnews.com", "", "Lavrov", 0, &ctx_nbc },
	{ "Lavrov -site:nbcnews.com", "", "Lavrov", 1, &ctx_forumdaily },
	/* not a field name: the word's text, a phrase */
	{ "10:30", "", "at 10:30 GMT", 1, NULL },
	{ "10:30", "", "at 10 30", 1, NULL },
	{ "10:30", "", "at 1030", 0, NULL },
	{ "note:Lavrov", "", "note: Lavrov", 1, NULL },
	{ "note:Lavrov", "", "Lavrov", 0, NULL },
};

/* Snowball stemming, per query, of its words and the story's tokens. */
static const struct match_case match_stem_cases[] = {
	{ "negotiation", "", "negotiations", 0, NULL },
	{ "negotiation", "", "negotiations", 1, &ctx_english },
	{ "negotiation", "", "they negotiated", 1, &ctx_english },
	{ "negotiations", "", "a negotiation", 1, &ctx_english },
	{ "negotiated", "", "negotiating", 1, &ctx_english },
	{ "\"peace negotiation\"", "", "peace negotiations", 1, &ctx_english },
	{ "\"peace negotiation\"", "", "peace negotiations", 0, NULL },
	{ "\"peace negotiation\"", "", "negotiations for peace", 0,
	    &ctx_english },
	/* a prefix is not stemmed, and sees the story's words unstemmed */
	{ "negotiation*", "", "negotiations", 1, &ctx_english },
	{ "negotiations*", "", "negotiation", 0, &ctx_english },
	{ "diplomacy", "", "diplomatic", 0, &ctx_english },
	{ "Russian", "", "the Russians' view", 1, &ctx_english },
	{ "running", "", "he runs", 1, &ctx_english },
	{ "Lavrov", "", "Lavrov's", 1, &ctx_english },
	{ "title:negotiation", "Negotiations resume", "", 1, &ctx_english },
	{ "negotiation NEAR/2 Ukraine", "", "negotiated over Ukraine", 1,
	    &ctx_english },
	{ "переговоры", "", "в переговорах", 1, &ctx_russian },
	{ "переговоры", "", "в переговорах", 0, NULL },
	{ "переговоры", "", "переговор", 1, &ctx_russian },
	{ "Переговоры", "", "ПЕРЕГОВОРАМИ", 1, &ctx_russian },
};

/* Free what match_test_cb copied and zero the record. */
static void
match_calls_clear(struct match_calls *c)
{
	size_t i, j;

	for (i = 0; i < c->n && i < MATCH_TEST_CALLS; i++) {
		for (j = 0; j < c->call[i].nmatched && j < MATCH_TEST_TERMS;
		     j++)
			free(c->call[i].matched[j]);
		free(c->call[i].snippet);
	}
	memset(c, 0, sizeof *c);
}

/*
 * Copy one callback's arguments: the result is only lent. Ask for the
 * terms first, or the snippet first (and then again, which must give
 * the same).
 */
static void
match_call_copy(struct match_calls *c, void *arg, const struct match_result *r,
    int is_snippet_first)
{
	struct match_call *mc;
	const char *const *matched;
	const char *snippet = NULL;
	size_t i;

	if (c->n++ >= MATCH_TEST_CALLS)
		return;
	mc = &c->call[c->n - 1];
	mc->arg = arg;
	if (is_snippet_first)
		snippet = match_result_snippet(r);
	matched = match_result_matched(r, &mc->nmatched);
	for (i = 0; i < mc->nmatched && i < MATCH_TEST_TERMS; i++)
		mc->matched[i] = xstrdup(matched[i]);
	if (is_snippet_first)
		assert_string_equal(match_result_snippet(r), snippet);
	snippet = match_result_snippet(r);
	mc->snippet = snippet == NULL ? NULL : xstrdup(snippet);
}

static void
match_test_cb(void *arg, const struct match_result *r, void *cbarg)
{
	match_call_copy(cbarg, arg, r, 0);
}

/*
 * Run one query over one story: 1 when it matches (got holds the copied
 * callback), 0 when it does not, -1 when it does not compile.
 */
static int
match_text(const char *query, const char *language, int flags,
    const char *title, const char *text, const char *feed, const char *url,
    const char *const *tags, struct match_calls *got)
{
	struct match_story story;
	struct match_query *q;
	struct match_set *s;
	char *cause = NULL;
	int n;

	memset(got, 0, sizeof *got);
	if ((q = match_query_new(query, language, flags, &cause)) == NULL) {
		print_error("query %s: %s\n", query,
		    cause != NULL ? cause : "(no cause)");
		free(cause);
		return -1;
	}
	story.title = title != NULL ? title : "";
	story.text = text != NULL ? text : "";
	story.feed = feed != NULL ? feed : "news";
	story.url = url;
	story.tags = tags;
	s = match_set_new();
	match_set_add(s, q, NULL);
	n = match_set_run(s, &story, match_test_cb, got);
	match_set_free(s);
	if (n < 0 || (size_t)n != got->n)
		fail_msg("query %s: match_set_run said %d, callbacks %zu",
		    query, n, got->n);
	if (got->n > 1)
		fail_msg("query %s: one query, %zu callbacks", query, got->n);
	return n;
}

/* match_text with a row's context. */
static int
match_case_run(const struct match_case *c, struct match_calls *got)
{
	static const struct match_ctx none;
	const struct match_ctx *x = c->ctx != NULL ? c->ctx : &none;

	return match_text(c->query, x->language, x->flags, c->title, c->text,
	    x->feed, x->url, x->tags, got);
}

/* Run a table, saying which rows fail (by index), then fail if any did. */
static void
match_table(const char *name, const struct match_case *cases, size_t n)
{
	const struct match_case *c;
	struct match_calls got;
	size_t i, nfailed = 0, first = 0;
	int rc;

	for (i = 0; i < n; i++) {
		c = &cases[i];
		rc = match_case_run(c, &got);
		match_calls_clear(&got);
		if (rc == c->expected)
			continue;
		print_error("%s case %zu: %s on title \"%s\" text \"%s\" "
			    "(%s): got %d, want %d\n",
		    name, i, c->query, c->title, c->text,
		    c->ctx != NULL && c->ctx->language != NULL ?
			c->ctx->language :
			"-",
		    rc, c->expected);
		if (nfailed++ == 0)
			first = i;
	}
	if (nfailed > 0)
		fail_msg("%s: %zu of %zu cases failed, the first is case %zu",
		    name, nfailed, n, first);
}

#define MATCH_TABLE(t) match_table(#t, t, sizeof t / sizeof t[0])

static void
test_match_words(void **state)
{
	(void)state;
	MATCH_TABLE(match_word_cases);
}

static void
test_match_apostrophes(void **state)
{
	(void)state;
	MATCH_TABLE(match_apostrophe_cases);
}

static void
test_match_hyphens_quotes(void **state)
{
	(void)state;
	MATCH_TABLE(match_hyphen_quote_cases);
}

static void
test_match_unicode(void **state)
{
	(void)state;
	MATCH_TABLE(match_unicode_cases);
}

static void
test_match_glued(void **state)
{
	(void)state;
	MATCH_TABLE(match_glued_cases);
}

static void
test_match_prefix(void **state)
{
	(void)state;
	MATCH_TABLE(match_prefix_cases);
}

static void
test_match_phrase(void **state)
{
	(void)state;
	MATCH_TABLE(match_phrase_cases);
}

static void
test_match_boolean(void **state)
{
	(void)state;
	MATCH_TABLE(match_boolean_cases);
}

static void
test_match_near(void **state)
{
	(void)state;
	MATCH_TABLE(match_near_cases);
}

static void
test_match_fields(void **state)
{
	(void)state;
	MATCH_TABLE(match_field_cases);
}

static void
test_match_stemming(void **state)
{
	(void)state;
	MATCH_TABLE(match_stem_cases);
}

/* The tables hold the 110 cases the issue asks for, and more. */
static void
test_match_table_size(void **state)
{
#define N(t) (sizeof t / sizeof t[0])
	size_t n = N(match_word_cases) + N(match_apostrophe_cases) +
	    N(match_hyphen_quote_cases) + N(match_unicode_cases) +
	    N(match_glued_cases) + N(match_prefix_cases) +
	    N(match_phrase_cases) + N(match_boolean_cases) +
	    N(match_near_cases) + N(match_field_cases) + N(match_stem_cases);
#undef N

	(void)state;
	assert_true(n >= 110);
}

/* Three queries, two match: two callbacks, in the order of adding. */
static void
test_match_set_order(void **state)
{
	static const char *const queries[] = { "Lavrov", "Haas", "Kupchan" };
	struct match_story story = { "", "Kupchan met Lavrov", "news", NULL,
		NULL };
	struct match_calls got;
	struct match_set *s;
	struct match_query *q;
	char *cause = NULL;
	int args[3], n;
	size_t i;

	(void)state;
	s = match_set_new();
	for (i = 0; i < 3; i++) {
		q = match_query_new(queries[i], NULL, 0, &cause);
		assert_non_null(q);
		match_set_add(s, q, &args[i]);
	}
	memset(&got, 0, sizeof got);
	n = match_set_run(s, &story, match_test_cb, &got);
	assert_int_equal(n, 2);
	assert_int_equal(got.n, 2);
	assert_ptr_equal(got.call[0].arg, &args[0]);
	assert_int_equal(got.call[0].nmatched, 1);
	assert_string_equal(got.call[0].matched[0], "Lavrov");
	assert_string_equal(got.call[0].snippet, "Kupchan met «Lavrov»");
	assert_ptr_equal(got.call[1].arg, &args[2]);
	assert_int_equal(got.call[1].nmatched, 1);
	assert_string_equal(got.call[1].matched[0], "Kupchan");
	assert_string_equal(got.call[1].snippet, "«Kupchan» met Lavrov");
	match_calls_clear(&got);

	/* The same set, another story. */
	story.text = "Haas spoke";
	assert_int_equal(match_set_run(s, &story, match_test_cb, &got), 1);
	assert_int_equal(got.n, 1);
	assert_ptr_equal(got.call[0].arg, &args[1]);
	match_calls_clear(&got);

	story.text = "Graham spoke";
	assert_int_equal(match_set_run(s, &story, match_test_cb, &got), 0);
	assert_int_equal(got.n, 0);
	match_set_free(s);
}

/* A set of n one-word queries, prefix0 to prefix(n-1), with ids. */
static struct match_set *
match_set_words(const char *prefix, int *ids, int n)
{
	struct match_set *s = match_set_new();
	struct match_query *q;
	char *cause = NULL, query[32];

	for (int i = 0; i < n; i++) {
		ids[i] = i;
		snprintf(query, sizeof query, "%s%d", prefix, i);
		q = match_query_new(query, NULL, 0, &cause);
		if (q == NULL)
			fail_msg("query %s: %s", query, cause);
		match_set_add(s, q, &ids[i]);
	}
	return s;
}

/* A thousand queries in one set: only the two present fire. */
static void
test_match_set_thousand(void **state)
{
	struct match_story story = { "Word count",
		"Reports on word_17 and word_500 today", "news", NULL, NULL };
	struct match_calls got;
	struct match_set *s;
	static int ids[1000];

	(void)state;
	s = match_set_words("word_", ids, 1000);
	memset(&got, 0, sizeof got);
	assert_int_equal(match_set_run(s, &story, match_test_cb, &got), 2);
	assert_int_equal(got.n, 2);
	assert_ptr_equal(got.call[0].arg, &ids[17]);
	assert_string_equal(got.call[0].matched[0], "word_17");
	assert_ptr_equal(got.call[1].arg, &ids[500]);
	assert_string_equal(got.call[1].matched[0], "word_500");
	match_calls_clear(&got);

	story.text = "word_999";
	assert_int_equal(match_set_run(s, &story, match_test_cb, &got), 1);
	assert_ptr_equal(got.call[0].arg, &ids[999]);
	match_calls_clear(&got);
	match_set_free(s);
}

/* Each query stems (or not) by its own language, in the same set. */
static void
test_match_set_languages(void **state)
{
	struct match_story story = { "", "secret negotiations", "news", NULL,
		NULL };
	struct match_calls got;
	struct match_set *s;
	struct match_query *q;
	char *cause = NULL;
	int plain, english;

	(void)state;
	s = match_set_new();
	q = match_query_new("negotiation", NULL, 0, &cause);
	assert_non_null(q);
	match_set_add(s, q, &plain);
	q = match_query_new("negotiation", "english", 0, &cause);
	assert_non_null(q);
	match_set_add(s, q, &english);
	memset(&got, 0, sizeof got);
	assert_int_equal(match_set_run(s, &story, match_test_cb, &got), 1);
	assert_ptr_equal(got.call[0].arg, &english);
	match_calls_clear(&got);
	match_set_free(s);
}

/* Count the callbacks, and check that they come in the order added. */
static void
match_count_cb(void *arg, const struct match_result *r, void *cbarg)
{
	int *next = cbarg;

	(void)r;
	assert_true(*(int *)arg >= *next);
	*next = *(int *)arg + 1;
}

/*
 * A story that touches many queries of two clauses at once: each becomes
 * a candidate when both its sides had a hit, and the next story starts
 * with no clause counted.
 */
static void
test_match_set_many_pairs(void **state)
{
	struct match_story story = { "", NULL, "news", NULL, NULL };
	struct match_set *s;
	struct match_query *q;
	static int ids[600];
	char *text, *p, query[64], *cause = NULL;
	int i, next = 0;

	(void)state;
	s = match_set_new();
	p = text = xmalloc(600 * 32);
	for (i = 0; i < 600; i++) {
		ids[i] = i;
		snprintf(query, sizeof query, "a%d NEAR/1 b%d", i, i);
		q = match_query_new(query, NULL, 0, &cause);
		assert_non_null(q);
		match_set_add(s, q, &ids[i]);
		/* Every third pair too far apart. */
		p += sprintf(p, i % 3 == 0 ? "a%d x y b%d " : "a%d b%d ", i, i);
	}
	story.text = text;
	assert_int_equal(match_set_run(s, &story, match_count_cb, &next), 400);
	assert_int_equal(next, 600);
	/* And the next story starts from an empty table. */
	story.text = "b1 a2";
	next = 0;
	assert_int_equal(match_set_run(s, &story, match_count_cb, &next), 0);
	free(text);
	match_set_free(s);
}

/*
 * Candidates come out in the order added however the story meets them:
 * here from the last query back, a few far apart or many, over more
 * than one word of the summary of candidates (4,096 queries each).
 */
static void
test_match_set_order_backwards(void **state)
{
	static const int steps[] = { 500, 37, 3 };
	struct match_story story = { "", NULL, "news", NULL, NULL };
	struct match_set *s;
	static int ids[9000];
	char *text, *p;
	int i, k, next;

	(void)state;
	s = match_set_words("w", ids, 9000);
	text = xmalloc(9000 * 8);
	for (k = 0; k < (int)(sizeof steps / sizeof steps[0]); k++) {
		p = text;
		*p = '\0';
		for (i = 8999; i >= 0; i -= steps[k])
			p += sprintf(p, "w%d ", i);
		story.text = text;
		next = 0;
		assert_int_equal(
		    match_set_run(s, &story, match_count_cb, &next),
		    (8999 / steps[k]) + 1);
	}
	free(text);
	match_set_free(s);
}

/*
 * A mark alone is a token only where accents are kept: with queries of
 * both kinds in a set, each counts the title's tokens its own way.
 */
static void
test_match_title_by_accents(void **state)
{
	struct match_story story = { "Headline \xcc\x81 here", "first words",
		"news", NULL, NULL };
	struct match_calls got;
	struct match_set *s;
	struct match_query *q;
	char *cause = NULL;
	int folded, kept;

	(void)state;
	s = match_set_new();
	q = match_query_new("title:first", NULL, 0, &cause);
	assert_non_null(q);
	match_set_add(s, q, &folded);
	q = match_query_new("title:here", NULL, MATCH_KEEP_ACCENTS, &cause);
	assert_non_null(q);
	match_set_add(s, q, &kept);
	memset(&got, 0, sizeof got);
	assert_int_equal(match_set_run(s, &story, match_test_cb, &got), 1);
	assert_ptr_equal(got.call[0].arg, &kept);
	assert_string_equal(got.call[0].snippet, "Headline \xcc\x81 «here»");
	match_calls_clear(&got);
	match_set_free(s);
}

static void
test_match_set_empty(void **state)
{
	struct match_story story = { "Title", "text", "news", NULL, NULL };
	struct match_calls got;
	struct match_set *s;

	(void)state;
	memset(&got, 0, sizeof got);
	s = match_set_new();
	assert_non_null(s);
	assert_int_equal(match_set_run(s, &story, match_test_cb, &got), 0);
	assert_int_equal(got.n, 0);
	match_set_free(s);
	match_set_free(NULL);
}

static void
test_match_languages(void **state)
{
	char *cause = NULL;

	(void)state;
	assert_int_equal(match_language_is_known("english"), 1);
	assert_int_equal(match_language_is_known("russian"), 1);
	assert_int_equal(match_language_is_known("klingon"), 0);
	assert_null(match_query_new("war", "klingon", 0, &cause));
	assert_non_null(cause);
	if (strncmp(cause, "unknown language \"klingon\"",
		strlen("unknown language \"klingon\"")) != 0)
		fail_msg("klingon: got '%s'", cause);
	free(cause);
}

/* The article of the issue, as its text; the caller frees it. */
static char *
match_seed_read(void)
{
	FILE *f;
	char *buf;
	size_t n;

	f = fopen(FEEDWATCH_TEST_DATA "/seed-article.txt", "rb");
	if (f == NULL)
		fail_msg(
		    "%s: cannot open", FEEDWATCH_TEST_DATA "/seed-article.txt");
	buf = xmalloc(1 << 16);
	n = fread(buf, 1, (1 << 16) - 1, f);
	fclose(f);
	assert_true(n > 0 && n < (1 << 16) - 1);
	buf[n] = '\0';
	return buf;
}

#define MATCH_SEED_TITLE                                                     \
	"The Americans are in secret negotiations with the Russians to end " \
	"the war in Ukraine - ForumDaily"
#define MATCH_SEED_URL "https://www.forumdaily.com/en/amerikancy/"

static void
test_match_seed_article(void **state)
{
	static const struct {
		const char *query;
		int expected;
	} cases[] = {
		{ "\"track two diplomacy\"", 1 },
		{ "Lavrov NEAR/10 \"New York\"", 1 },
		{ "site:forumdaily.com", 1 },
		{ "\"Track XNUMX\"", 1 },
		{ "feed:forumdaily", 1 },
		{ "\"track two\" -diplomacy", 0 },
		{ "site:nbcnews.com", 0 },
	};
	struct match_calls got;
	char *text;
	size_t i, nfailed = 0;
	int rc;

	(void)state;
	text = match_seed_read();
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		rc = match_text(cases[i].query, NULL, 0, MATCH_SEED_TITLE, text,
		    "forumdaily", MATCH_SEED_URL, NULL, &got);
		match_calls_clear(&got);
		if (rc != cases[i].expected) {
			print_error("seed case %zu: %s: got %d, want %d\n", i,
			    cases[i].query, rc, cases[i].expected);
			nfailed++;
		}
	}
	if (nfailed > 0) {
		free(text);
		fail_msg("seed article: %zu cases failed", nfailed);
	}

	assert_int_equal(
	    match_text("\"track two diplomacy\"", NULL, 0, MATCH_SEED_TITLE,
		text, "forumdaily", MATCH_SEED_URL, NULL, &got),
	    1);
	assert_int_equal(got.call[0].nmatched, 1);
	assert_string_equal(got.call[0].matched[0], "track two diplomacy");
	assert_non_null(got.call[0].snippet);
	if (strstr(got.call[0].snippet, "“«track two diplomacy»”") == NULL)
		fail_msg("seed snippet: %s", got.call[0].snippet);
	match_calls_clear(&got);

	assert_int_equal(
	    match_text("Lavrov NEAR/10 \"New York\"", NULL, 0, MATCH_SEED_TITLE,
		text, "forumdaily", MATCH_SEED_URL, NULL, &got),
	    1);
	assert_int_equal(got.call[0].nmatched, 2);
	assert_string_equal(got.call[0].matched[0], "Lavrov");
	assert_string_equal(got.call[0].matched[1], "New York");
	match_calls_clear(&got);
	free(text);
}

/* A query's matched terms and snippet, as the alert will carry them. */
struct match_explain_case {
	const char *query;
	const char *title;
	const char *text;
	const struct match_ctx *ctx;
	const char *matched[4]; /* NULL-terminated */
	const char *snippet;	/* NULL: not checked */
};

static const struct match_explain_case match_explain_cases[] = {
	{ "Haas OR \"track two diplomacy\" OR -nothing Zelensky",
	    "Secret talks",
	    "The discussions are known in diplomatic jargon as “track two "
	    "diplomacy”—a form of informal interaction. Haas was there.",
	    NULL, { "Haas", "track two diplomacy", NULL },
	    "The discussions are known in diplomatic jargon as “«track two "
	    "diplomacy»”—a form of informal interaction. Haas was there." },
	/* the order of the query, not of the story */
	{ "Kupchan Lavrov", "", "Lavrov met Kupchan", NULL,
	    { "Kupchan", "Lavrov", NULL }, "«Lavrov» met Kupchan" },
	{ "title:Lavrov OR summary:Haas", "Lavrov in New York", "Haas spoke",
	    NULL, { "title:Lavrov", "summary:Haas", NULL },
	    "«Lavrov» in New York" },
	/* never a term under NOT */
	{ "Lavrov -Haas", "", "Lavrov and Kupchan", NULL, { "Lavrov", NULL },
	    "«Lavrov» and Kupchan" },
	{ "Lavrov (Haas OR NOT Kupchan)", "", "Lavrov alone", NULL,
	    { "Lavrov", NULL }, "«Lavrov» alone" },
	{ "Lavrov OR (Haas -Kupchan)", "", "Kupchan and Lavrov", NULL,
	    { "Lavrov", NULL }, "Kupchan and «Lavrov»" },
	/* Lavrov is there, but its branch did not make the query true */
	{ "(Lavrov Kupchan) OR Haas", "", "Lavrov met Haas", NULL,
	    { "Haas", NULL }, "Lavrov met «Haas»" },
	{ "negotiat*", "", "secret negotiations", NULL, { "negotiat*", NULL },
	    "secret «negotiations»" },
	/* once, as the user wrote it */
	{ "LAVROV", "", "Lavrov, Lavrov and Lavrov", NULL, { "LAVROV", NULL },
	    "«Lavrov», Lavrov and Lavrov" },
	{ "Zürich", "", "ZURICH talks", NULL, { "Zürich", NULL },
	    "«ZURICH» talks" },
	{ "site:forumdaily.com Lavrov", "", "Lavrov", &ctx_forumdaily,
	    { "site:forumdaily.com", "Lavrov", NULL }, "«Lavrov»" },
	{ "feed:forumdaily", "", "Anything", &ctx_forumdaily,
	    { "feed:forumdaily", NULL }, NULL },
	{ "tag:politics", "", "Anything", &ctx_forumdaily,
	    { "tag:politics", NULL }, NULL },
	{ "negotiation", "", "secret negotiations", &ctx_english,
	    { "negotiation", NULL }, "secret «negotiations»" },
	{ "Lavrov NEAR/3 \"New York\"", "", "Lavrov in New York", NULL,
	    { "Lavrov", "New York", NULL }, NULL },
	/* the hit is marked as the story has it, punctuation and all */
	{ "\"track two diplomacy\"", "", "known as “Track-Two diplomacy”.",
	    NULL, { "track two diplomacy", NULL },
	    "known as “«Track-Two diplomacy»”." },
	{ "переговоры", "", "тайные ПЕРЕГОВОРЫ с Россией", NULL,
	    { "переговоры", NULL }, "тайные «ПЕРЕГОВОРЫ» с Россией" },
	/* the title comes first, and a snippet stays in title or text */
	{ "Lavrov", "Talks with Lavrov", "Lavrov spoke", NULL,
	    { "Lavrov", NULL }, "Talks with «Lavrov»" },
	{ "Lavrov", "Talks", "Sergei Lavrov spoke.", NULL, { "Lavrov", NULL },
	    "Sergei «Lavrov» spoke." },
	{ "Haas OR Lavrov", "", "Lavrov then Haas", NULL,
	    { "Haas", "Lavrov", NULL }, "«Lavrov» then Haas" },
};

#define MATCH_NEXPLAIN \
	(sizeof match_explain_cases / sizeof match_explain_cases[0])

static void
test_match_explain(void **state)
{
	const struct match_explain_case *c;
	const struct match_ctx *x;
	static const struct match_ctx none;
	struct match_calls got;
	size_t i, j, nfailed = 0;
	int bad;

	(void)state;
	for (i = 0; i < MATCH_NEXPLAIN; i++) {
		c = &match_explain_cases[i];
		x = c->ctx != NULL ? c->ctx : &none;
		if (match_text(c->query, x->language, x->flags, c->title,
			c->text, x->feed, x->url, x->tags, &got) != 1) {
			print_error(
			    "explain case %zu: %s: no match\n", i, c->query);
			nfailed++;
			continue;
		}
		bad = 0;
		for (j = 0; c->matched[j] != NULL; j++)
			if (j >= got.call[0].nmatched ||
			    strcmp(got.call[0].matched[j], c->matched[j]) != 0)
				bad = 1;
		if (j != got.call[0].nmatched)
			bad = 1;
		if (bad) {
			print_error("explain case %zu: %s: %zu terms, the "
				    "first \"%s\"; want \"%s\"...\n",
			    i, c->query, got.call[0].nmatched,
			    got.call[0].nmatched > 0 ? got.call[0].matched[0] :
						       "",
			    c->matched[0]);
		}
		if (c->snippet != NULL &&
		    (got.call[0].snippet == NULL ||
			strcmp(got.call[0].snippet, c->snippet) != 0)) {
			print_error("explain case %zu: %s: snippet \"%s\", "
				    "want \"%s\"\n",
			    i, c->query,
			    got.call[0].snippet ? got.call[0].snippet :
						  "(null)",
			    c->snippet);
			bad = 1;
		}
		nfailed += bad;
		match_calls_clear(&got);
	}
	if (nfailed > 0)
		fail_msg("explain: %zu cases failed", nfailed);
}

/*
 * How a callback asks for a result: not at all, the snippet before the
 * terms (and the snippet again), or the terms first as match_test_cb.
 */
enum match_ask {
	MATCH_ASK_NOTHING,
	MATCH_ASK_SNIPPET_FIRST,
	MATCH_ASK_TERMS_FIRST
};

static void
match_lazy_cb(void *arg, const struct match_result *r, void *cbarg)
{
	enum match_ask ask = *(const enum match_ask *)arg;

	if (ask != MATCH_ASK_NOTHING)
		match_call_copy(cbarg, arg, r, ask == MATCH_ASK_SNIPPET_FIRST);
}

/*
 * The terms and snippet are worked out only when asked for: in any
 * order, after a match that asked for nothing, they are those of the
 * explain cases.
 */
static void
test_match_result_lazy(void **state)
{
	static const enum match_ask asks[] = { MATCH_ASK_NOTHING,
		MATCH_ASK_SNIPPET_FIRST, MATCH_ASK_NOTHING,
		MATCH_ASK_TERMS_FIRST };
	static const struct match_ctx none;
	const struct match_explain_case *c;
	const struct match_ctx *x;
	struct match_story story;
	struct match_set *s;
	struct match_query *q;
	struct match_calls got;
	char *cause = NULL;
	size_t i, j, k;

	(void)state;
	for (i = 0; i < MATCH_NEXPLAIN; i++) {
		c = &match_explain_cases[i];
		x = c->ctx != NULL ? c->ctx : &none;
		s = match_set_new();
		for (k = 0; k < sizeof asks / sizeof asks[0]; k++) {
			q = match_query_new(
			    c->query, x->language, x->flags, &cause);
			assert_non_null(q);
			match_set_add(s, q, (void *)&asks[k]);
		}
		story.title = c->title;
		story.text = c->text;
		story.feed = x->feed != NULL ? x->feed : "news";
		story.url = x->url;
		story.tags = x->tags;
		memset(&got, 0, sizeof got);
		assert_int_equal(match_set_run(s, &story, match_lazy_cb, &got),
		    (int)(sizeof asks / sizeof asks[0]));
		assert_int_equal(got.n, 2);
		for (k = 0; k < 2; k++) {
			for (j = 0; c->matched[j] != NULL; j++) {
				assert_true(j < got.call[k].nmatched);
				assert_string_equal(
				    got.call[k].matched[j], c->matched[j]);
			}
			assert_int_equal(got.call[k].nmatched, j);
			if (c->snippet != NULL)
				assert_string_equal(
				    got.call[k].snippet, c->snippet);
		}
		assert_string_equal(got.call[0].snippet, got.call[1].snippet);
		match_calls_clear(&got);
		match_set_free(s);
	}
}

/* The words of a snippet, not counting the … marks. */
static size_t
match_snippet_words(const char *snippet)
{
	const char *p = snippet;
	size_t n = 0, len;

	while (*p != '\0') {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		len = strcspn(p, " ");
		if (!(len == 3 && memcmp(p, "…", 3) == 0))
			n++;
		p += len;
	}
	return n;
}

static int
match_starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int
match_ends(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Run "lavrov" over text and return the snippet (caller frees). */
static char *
match_snippet_of(const char *title, const char *text)
{
	struct match_calls got;
	char *snippet;

	assert_int_equal(
	    match_text("lavrov", NULL, 0, title, text, NULL, NULL, NULL, &got),
	    1);
	assert_non_null(got.call[0].snippet);
	snippet = got.call[0].snippet;
	got.call[0].snippet = NULL;
	match_calls_clear(&got);
	return snippet;
}

/*
 * Is the snippet about 30 words, with the shape wanted? Else say why and
 * fail; the snippet is freed either way.
 */
static void
match_snippet_check(const char *what, char *snippet, int is_shaped)
{
	size_t words = match_snippet_words(snippet);

	if (is_shaped && words >= 20 && words <= 40) {
		free(snippet);
		return;
	}
	print_error("%s (%zu words): %s\n", what, words, snippet);
	free(snippet);
	fail();
}

static void
test_match_snippet_cut(void **state)
{
	char text[2048], *snippet;
	int i;

	(void)state;
	/* Cut on both sides. */
	text[0] = '\0';
	for (i = 0; i < 40; i++)
		strcat(text, "lorem ");
	strcat(text, "Lavrov spoke.");
	for (i = 0; i < 40; i++)
		strcat(text, " ipsum");
	snippet = match_snippet_of("Title", text);
	match_snippet_check("both cut", snippet,
	    match_starts(snippet, "… lorem ") &&
		match_ends(snippet, " ipsum …") &&
		strstr(snippet, " «Lavrov» spoke. ") != NULL);

	/* The hit opens the text: nothing cut before it. */
	strcpy(text, "Lavrov spoke.");
	for (i = 0; i < 40; i++)
		strcat(text, " ipsum");
	snippet = match_snippet_of("Title", text);
	match_snippet_check("end cut", snippet,
	    match_starts(snippet, "«Lavrov» spoke. ipsum") &&
		match_ends(snippet, " ipsum …"));

	/* The hit closes the text: nothing cut after it. */
	text[0] = '\0';
	for (i = 0; i < 40; i++)
		strcat(text, "lorem ");
	strcat(text, "Lavrov");
	snippet = match_snippet_of("Title", text);
	match_snippet_check("start cut", snippet,
	    match_starts(snippet, "… lorem ") &&
		match_ends(snippet, "lorem «Lavrov»"));

	/* A hit in the title: the snippet is the title's, whatever the text. */
	snippet = match_snippet_of("Lavrov in New York", text);
	assert_string_equal(snippet, "«Lavrov» in New York");
	free(snippet);
}

/* Malformed queries: the cause, with the column of the problem. */
struct match_error_case {
	const char *query;
	const char *cause;
};

#define MATCH_LACK                                                           \
	"the query would match stories for what they lack; it needs a term " \
	"that must be present"

static const struct match_error_case match_error_cases[] = {
	{ "", "column 1: empty query" },
	{ "   ", "column 1: empty query" },
	{ "\"track two", "column 1: unterminated phrase" },
	{ "Lavrov \"track two", "column 8: unterminated phrase" },
	{ "war \"\"", "column 5: a term needs a letter or digit" },
	{ "war \"!!\"", "column 5: a term needs a letter or digit" },
	{ "!!!", "column 1: a term needs a letter or digit" },
	{ "*", "column 1: a term needs a letter or digit" },
	{ "war *", "column 5: a term needs a letter or digit" },
	{ "war OR", "column 7: expected a term" },
	{ "war AND", "column 8: expected a term" },
	{ "war NOT", "column 8: expected a term" },
	{ "war -", "column 6: expected a term" },
	{ "war ---", "column 8: expected a term" },
	{ "(war OR peace", "column 14: expected ')'" },
	{ "((war)", "column 7: expected ')'" },
	{ "war)", "column 4: unexpected ')'" },
	{ "()", "column 2: unexpected ')'" },
	{ "war ()", "column 6: unexpected ')'" },
	{ "OR war", "column 1: expected a term before this operator" },
	{ "AND war", "column 1: expected a term before this operator" },
	{ "war AND OR peace",
	    "column 9: expected a term before this operator" },
	{ "(OR war)", "column 2: expected a term before this operator" },
	{ "(a OR b) NEAR/3 c",
	    "column 10: NEAR needs a word, prefix or phrase on each side" },
	{ "a NEAR/3 (b)",
	    "column 3: NEAR needs a word, prefix or phrase on each side" },
	{ "a NEAR/3 -b",
	    "column 3: NEAR needs a word, prefix or phrase on each side" },
	{ "a NEAR/0 b", "column 3: NEAR/N needs a distance from 1 to 100" },
	{ "a NEAR/x b", "column 3: NEAR/N needs a distance from 1 to 100" },
	{ "a NEAR/101 b", "column 3: NEAR/N needs a distance from 1 to 100" },
	{ "U.S* x", "column 1: a prefix is one word followed by *" },
	{ "war U.S*", "column 5: a prefix is one word followed by *" },
	{ "Lavrov's*", "column 1: a prefix is one word followed by *" },
	{ "feed:", "column 1: feed: needs a value" },
	{ "war site:", "column 5: site: needs a value" },
	{ "tag:", "column 1: tag: needs a value" },
	{ "NOT war", "column 1: " MATCH_LACK },
	{ "-war -peace", "column 1: " MATCH_LACK },
	{ "a OR NOT b", "column 1: " MATCH_LACK },
	{ "Lavrov OR NOT Haas", "column 1: " MATCH_LACK },
	{ "(NOT war)", "column 1: " MATCH_LACK },
};

static void
test_match_errors(void **state)
{
	const struct match_error_case *c;
	struct match_query *q;
	size_t i, nfailed = 0;
	char *cause;

	(void)state;
	for (i = 0; i < sizeof match_error_cases / sizeof match_error_cases[0];
	     i++) {
		c = &match_error_cases[i];
		cause = NULL;
		q = match_query_new(c->query, NULL, 0, &cause);
		if (q != NULL) {
			print_error(
			    "error case %zu: '%s' compiles\n", i, c->query);
			match_query_free(q);
			nfailed++;
		} else if (cause == NULL || strcmp(cause, c->cause) != 0) {
			print_error("error case %zu: '%s': got '%s', want "
				    "'%s'\n",
			    i, c->query, cause ? cause : "(null)", c->cause);
			nfailed++;
		}
		free(cause);
	}
	if (nfailed > 0)
		fail_msg("errors: %zu of %zu cases failed", nfailed, i);
}

/* Queries at the edges of the grammar that must compile. */
static const char *const match_valid_queries[] = {
	"a NEAR/100 b",
	"a NEAR b",
	"a NEAR/1 b",
	"title:(a OR b)",
	"title:a NEAR/2 title:b",
	"10:30",
	"-a b",
	"NOT a b",
	"a -(b OR c)",
	"a (b OR NOT c)",
	"U.S.",
	"negotiat*",
	"\"a\"",
	"feed:x",
	"site:example.com",
	"tag:t",
	"a AND b OR c",
	"\"track two\" NEAR/5 \"New York\"",
};

static void
test_match_compiles(void **state)
{
	struct match_query *q;
	size_t i, nfailed = 0;
	char *cause;

	(void)state;
	for (i = 0;
	     i < sizeof match_valid_queries / sizeof match_valid_queries[0];
	     i++) {
		cause = NULL;
		q = match_query_new(match_valid_queries[i], NULL, 0, &cause);
		if (q == NULL) {
			print_error("valid case %zu: '%s': %s\n", i,
			    match_valid_queries[i], cause ? cause : "(null)");
			nfailed++;
		}
		match_query_free(q);
		free(cause);
	}
	if (nfailed > 0)
		fail_msg("valid: %zu queries do not compile", nfailed);
}

/* 64 parentheses deep is fine; the 65th is one too many. */
static void
test_match_nesting(void **state)
{
	struct match_query *q;
	char query[256], *p, *cause = NULL;
	int i;

	(void)state;
	p = query;
	for (i = 0; i < 64; i++)
		*p++ = '(';
	memcpy(p, "war", 3);
	p += 3;
	for (i = 0; i < 64; i++)
		*p++ = ')';
	*p = '\0';
	q = match_query_new(query, NULL, 0, &cause);
	if (q == NULL) {
		print_error("64 deep: %s\n", cause);
		free(cause);
		fail();
	}
	match_query_free(q);

	p = query;
	for (i = 0; i < 65; i++)
		*p++ = '(';
	memcpy(p, "war", 3);
	p += 3;
	for (i = 0; i < 65; i++)
		*p++ = ')';
	*p = '\0';
	assert_null(match_query_new(query, NULL, 0, &cause));
	assert_non_null(cause);
	assert_string_equal(cause, "column 65: query nested too deeply");
	free(cause);
}

/*
 * A query of more clauses than the set counts to make it a candidate
 * (32): the others are still checked when it runs.
 */
static void
test_match_many_clauses(void **state)
{
	struct match_calls got;
	char query[512], all[512], some[512];
	size_t q = 0, a = 0, o = 0;

	(void)state;
	for (int i = 0; i < 40; i++) {
		q += (size_t)snprintf(
		    query + q, sizeof query - q, "%sw%d", i == 0 ? "" : " ", i);
		a += (size_t)snprintf(
		    all + a, sizeof all - a, "w%d and ", 39 - i);
		if (i != 35)
			o += (size_t)snprintf(
			    some + o, sizeof some - o, "w%d ", i);
	}
	assert_int_equal(
	    match_text(query, NULL, 0, "", all, NULL, NULL, NULL, &got), 1);
	assert_int_equal(got.call[0].nmatched, 40);
	match_calls_clear(&got);
	assert_int_equal(
	    match_text(query, NULL, 0, "", some, NULL, NULL, NULL, &got), 0);
	match_calls_clear(&got);
}

/*
 * The differential test: random queries and stories, each query also
 * built here as a tree and evaluated the slow way over the tokens of
 * text.h, and the two answers compared: which queries fire, in what
 * order, with which matched terms and which words marked in the
 * snippet.
 */

#define REF_ROUNDS 150
#define REF_QUERIES 48
#define REF_STORIES 24
#define REF_MAX_KIDS 3
#define REF_MAX_TOKENS 96

enum ref_op {
	REF_WORD,
	REF_PREFIX,
	REF_PHRASE,
	REF_AND,
	REF_OR,
	REF_NOT,
	REF_NEAR,
	REF_FEED,
	REF_SITE,
	REF_TAG,
};

struct ref_node {
	enum ref_op op;
	int scope; /* 0 any, 1 title:, 2 summary: */
	const char *words[REF_MAX_KIDS];
	size_t nwords;
	struct ref_node *kids[REF_MAX_KIDS];
	size_t nkids;
	int distance; /* REF_NEAR */
	const char *value;
	char written[128]; /* as match_result names it */
};

/* One query's tree and how the set runs it. */
struct ref_query {
	struct ref_node *root;
	const char *language;
	int flags;
	char text[1024];
};

/* A field's tokens, folded (and stemmed) as a variant sees them. */
struct ref_tokens {
	struct text_tokens t;
	const char *keys[REF_MAX_TOKENS]; /* stem, or folded */
	char *stems[REF_MAX_TOKENS];
	size_t n;
};

/* A story's tokens: title, then text, as one run of positions. */
struct ref_story {
	struct match_story ms;
	struct ref_tokens title;
	struct ref_tokens text;
};

struct ref_why {
	const char *matched[64];
	size_t n;
	size_t first, last;
	int has_hit;
};

/* What a set run gave: each callback's query and matched terms. */
struct ref_got {
	size_t n;
	size_t query[REF_QUERIES];
	char *matched[REF_QUERIES][16];
	size_t nmatched[REF_QUERIES];
	char *snippet[REF_QUERIES];
};

static const char *const ref_vocab[] = { "peace", "talks", "Talks", "bank",
	"central", "Café", "cafe", "cafés", "negotiations", "negotiate", "Kyiv",
	"ceasefire", "переговоры", "Переговорах", "Zürich", "zurich", "2024",
	"g7", "the", "of" };
static const char *const ref_prefixes[] = { "negot", "cea", "пере", "Zür",
	"ban", "ta", "caf", "café", "20", "negotiat", "negotiati", "negotiatio",
	"переговор", "переговорах" };
static const char *const ref_seps[] = { " ", " ", " ", ", ", ". ", " — ", " (",
	") ", "-", " “", "” ", "’", " \xcc\x81 " };
static const char *const ref_feeds[] = { "news", "wire" };
static const char *const ref_urls[] = { "https://www.example.com/a",
	"https://example.org/", "http://news.example.com:8080/x", NULL };
static const char *const ref_tags_a[] = { "world", NULL };
static const char *const ref_tags_b[] = { "world", "politics", NULL };

static uint64_t ref_seed;

/* xorshift64*: the same sequence on every run. */
static size_t
ref_rand(size_t n)
{
	ref_seed ^= ref_seed >> 12;
	ref_seed ^= ref_seed << 25;
	ref_seed ^= ref_seed >> 27;
	return (size_t)((ref_seed * 0x2545f4914f6cdd1dULL) >> 33) % n;
}

#define REF_PICK(a) ((a)[ref_rand(sizeof(a) / sizeof((a)[0]))])

static struct ref_node *
ref_node_new(enum ref_op op)
{
	struct ref_node *n = xcalloc(1, sizeof *n);

	n->op = op;
	return n;
}

static void
ref_node_free(struct ref_node *n)
{
	if (n == NULL)
		return;
	for (size_t i = 0; i < n->nkids; i++)
		ref_node_free(n->kids[i]);
	free(n);
}

/* Give the terms below n a scope, as match_scope does: inner wins. */
static void
ref_scope(struct ref_node *n, int scope)
{
	char w[sizeof n->written];
	int len;

	if (n->op <= REF_PHRASE && n->scope == 0) {
		n->scope = scope;
		len = snprintf(w, sizeof w, "%s:%s",
		    scope == 1 ? "title" : "summary", n->written);
		assert_true(len > 0 && (size_t)len < sizeof w);
		memcpy(n->written, w, (size_t)len + 1);
	}
	for (size_t i = 0; i < n->nkids; i++)
		ref_scope(n->kids[i], scope);
}

/* Now and then, put a term or a group under title: or summary:. */
static void
ref_maybe_scope(struct ref_node *n, char *out, size_t len)
{
	char in[1024];
	int scope, w;

	if (ref_rand(8) != 0)
		return;
	scope = 1 + (int)ref_rand(2);
	snprintf(in, sizeof in, "%s", out);
	ref_scope(n, scope);
	w = snprintf(out, len, "%s:%s", scope == 1 ? "title" : "summary", in);
	assert_true(w > 0 && (size_t)w < len);
}

/* A word, prefix or phrase; its text goes to out. */
static struct ref_node *
ref_gen_term(char *out, size_t len)
{
	struct ref_node *n;
	size_t r = ref_rand(10);

	if (r < 6) {
		n = ref_node_new(REF_WORD);
		n->words[n->nwords++] = REF_PICK(ref_vocab);
		snprintf(n->written, sizeof n->written, "%s", n->words[0]);
		snprintf(out, len, "%s", n->written);
	} else if (r < 8) {
		n = ref_node_new(REF_PREFIX);
		n->words[n->nwords++] = REF_PICK(ref_prefixes);
		snprintf(n->written, sizeof n->written, "%s*", n->words[0]);
		snprintf(out, len, "%s", n->written);
	} else {
		n = ref_node_new(REF_PHRASE);
		n->nwords = 2 + ref_rand(2);
		for (size_t i = 0; i < n->nwords; i++)
			n->words[i] = REF_PICK(ref_vocab);
		snprintf(n->written, sizeof n->written, "%s %s%s%s",
		    n->words[0], n->words[1], n->nwords > 2 ? " " : "",
		    n->nwords > 2 ? n->words[2] : "");
		snprintf(out, len, "\"%s\"", n->written);
	}
	ref_maybe_scope(n, out, len);
	return n;
}

/* A random query tree, depth levels at most; its text goes to out. */
static struct ref_node *
ref_gen(int depth, char *out, size_t len)
{
	struct ref_node *n;
	char kid[512];
	size_t r = depth > 0 ? ref_rand(16) : ref_rand(8), k, o;

	if (r < 6)
		return ref_gen_term(out, len);
	if (r == 6) {
		static const char *const what[] = { "feed", "site", "tag" };
		static const char *const values[] = { "news", "example.com",
			"world", "politics", "wire", "news.example.com" };
		size_t w = ref_rand(3);

		n = ref_node_new(REF_FEED + (enum ref_op)w);
		n->value = REF_PICK(values);
		snprintf(
		    n->written, sizeof n->written, "%s:%s", what[w], n->value);
		snprintf(out, len, "%s", n->written);
		return n;
	}
	if (r == 7) {
		char a[256], b[256];

		n = ref_node_new(REF_NEAR);
		n->kids[n->nkids++] = ref_gen_term(a, sizeof a);
		n->kids[n->nkids++] = ref_gen_term(b, sizeof b);
		if (ref_rand(3) == 0) {
			n->distance = 10;
			snprintf(out, len, "(%s NEAR %s)", a, b);
		} else {
			n->distance = 1 + (int)ref_rand(5);
			snprintf(
			    out, len, "(%s NEAR/%d %s)", a, n->distance, b);
		}
		return n;
	}
	if (r < 10) {
		n = ref_node_new(REF_NOT);
		n->kids[n->nkids++] = ref_gen(depth - 1, kid, sizeof kid);
		snprintf(out, len, "%s%s", ref_rand(2) ? "-" : "NOT ", kid);
		return n;
	}
	n = ref_node_new(r < 13 ? REF_AND : REF_OR);
	o = (size_t)snprintf(out, len, "(");
	k = 2 + ref_rand(2);
	for (size_t i = 0; i < k; i++) {
		n->kids[n->nkids++] = ref_gen(depth - 1, kid, sizeof kid);
		o += (size_t)snprintf(out + o, len - o, "%s%s",
		    i == 0		? "" :
			n->op == REF_OR ? " OR " :
			ref_rand(2)	? " AND " :
					  " ",
		    kid);
	}
	snprintf(out + o, len - o, ")");
	ref_maybe_scope(n, out, len);
	return n;
}

/* As match_is_positive: true only through something a story has? */
static int
ref_is_positive(const struct ref_node *n)
{
	switch (n->op) {
	case REF_NOT:
		return 0;
	case REF_AND:
		for (size_t i = 0; i < n->nkids; i++)
			if (ref_is_positive(n->kids[i]))
				return 1;
		return 0;
	case REF_OR:
		for (size_t i = 0; i < n->nkids; i++)
			if (!ref_is_positive(n->kids[i]))
				return 0;
		return 1;
	default:
		return 1;
	}
}

/* The variant a query is seen in: accents kept or not, stems or not. */
static size_t
ref_variant(const struct ref_query *q)
{
	return (q->flags & MATCH_KEEP_ACCENTS ? 1 : 0) +
	    (q->language != NULL ? 2 : 0);
}

/* Fold (and stem) one word as a query in variant v would; caller frees. */
static char *
ref_key(const char *word, size_t v, int is_prefix)
{
	struct text_tokens t;
	struct sb_stemmer *st;
	const sb_symbol *stem;
	char *key;

	memset(&t, 0, sizeof t);
	text_tokenize(&t, word, strlen(word), v & 1 ? TEXT_KEEP_ACCENTS : 0);
	assert_int_equal(t.n, 1);
	key = xstrdup(text_token_str(&t, 0));
	text_tokens_clear(&t);
	if (!(v & 2) || is_prefix)
		return key;
	st = sb_stemmer_new("english", "UTF_8");
	stem = sb_stemmer_stem(st, (const sb_symbol *)key, (int)strlen(key));
	free(key);
	key = xstrndup((const char *)stem, (size_t)sb_stemmer_length(st));
	sb_stemmer_delete(st);
	return key;
}

/* Tokenise one field for variant v. */
static void
ref_tokens_load(struct ref_tokens *r, const char *s, size_t v)
{
	struct sb_stemmer *st = NULL;
	const sb_symbol *stem;

	memset(r, 0, sizeof *r);
	text_tokenize(&r->t, s, strlen(s), v & 1 ? TEXT_KEEP_ACCENTS : 0);
	assert_true(r->t.n <= REF_MAX_TOKENS);
	r->n = r->t.n;
	if (v & 2)
		st = sb_stemmer_new("english", "UTF_8");
	for (size_t i = 0; i < r->n; i++) {
		r->keys[i] = text_token_str(&r->t, i);
		if (st == NULL)
			continue;
		stem = sb_stemmer_stem(
		    st, (const sb_symbol *)r->keys[i], (int)strlen(r->keys[i]));
		r->stems[i] =
		    xstrndup((const char *)stem, (size_t)sb_stemmer_length(st));
		r->keys[i] = r->stems[i];
	}
	if (st != NULL)
		sb_stemmer_delete(st);
}

static void
ref_tokens_clear(struct ref_tokens *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->stems[i]);
	text_tokens_clear(&r->t);
}

/* Token i of the story (title first), its key and its folded form. */
static const char *
ref_token(const struct ref_tokens *f, size_t i, const char **folded)
{
	const struct ref_tokens *r = &f[0];

	if (i >= f[0].n) {
		r = &f[1];
		i -= f[0].n;
	}
	*folded = text_token_str(&r->t, i);
	return r->keys[i];
}

/*
 * Where term n starts in the story: fields[0] and [1] are the title's and
 * the text's tokens in its variant. Return how many, positions in hits.
 */
static size_t
ref_hits(const struct ref_node *n, const struct ref_tokens *fields, size_t v,
    size_t *hits)
{
	size_t nt = fields[0].n, all = nt + fields[1].n, nh = 0, i, j;
	char *keys[REF_MAX_KIDS];
	const char *key, *folded;
	int ok;

	for (j = 0; j < n->nwords; j++)
		keys[j] = ref_key(n->words[j], v, n->op == REF_PREFIX);
	for (i = 0; i < all; i++) {
		if ((n->scope == 1 && i >= nt) || (n->scope == 2 && i < nt))
			continue;
		if (i < nt ? i + n->nwords > nt : i + n->nwords > all)
			continue;
		ok = 1;
		for (j = 0; j < n->nwords && ok; j++) {
			key = ref_token(fields, i + j, &folded);
			if (n->op == REF_PREFIX)
				ok = strncmp(
					 folded, keys[0], strlen(keys[0])) == 0;
			else
				ok = strcmp(key, keys[j]) == 0;
		}
		if (ok)
			hits[nh++] = i;
	}
	for (j = 0; j < n->nwords; j++)
		free(keys[j]);
	return nh;
}

/* Is the story's host the value, or a subdomain of it? */
static int
ref_site(const char *url, const char *value)
{
	char *host = url != NULL ? url_host(url) : NULL;
	size_t hl, vl = strlen(value);
	int ok = 0;

	if (host != NULL) {
		hl = strlen(host);
		ok = strcasecmp(host, value) == 0 ||
		    (hl > vl && host[hl - vl - 1] == '.' &&
			strcasecmp(host + hl - vl, value) == 0);
	}
	free(host);
	return ok;
}

static int
ref_eval(const struct ref_node *n, const struct ref_story *s,
    const struct ref_tokens *fields, size_t v)
{
	size_t a[REF_MAX_TOKENS], b[REF_MAX_TOKENS], na, nb, la, lb;

	switch (n->op) {
	case REF_WORD:
	case REF_PREFIX:
	case REF_PHRASE:
		return ref_hits(n, fields, v, a) > 0;
	case REF_NOT:
		return !ref_eval(n->kids[0], s, fields, v);
	case REF_AND:
		for (size_t i = 0; i < n->nkids; i++)
			if (!ref_eval(n->kids[i], s, fields, v))
				return 0;
		return 1;
	case REF_OR:
		for (size_t i = 0; i < n->nkids; i++)
			if (ref_eval(n->kids[i], s, fields, v))
				return 1;
		return 0;
	case REF_NEAR:
		na = ref_hits(n->kids[0], fields, v, a);
		nb = ref_hits(n->kids[1], fields, v, b);
		la = n->kids[0]->op == REF_PHRASE ? n->kids[0]->nwords : 1;
		lb = n->kids[1]->op == REF_PHRASE ? n->kids[1]->nwords : 1;
		for (size_t i = 0; i < na; i++)
			for (size_t j = 0; j < nb; j++)
				if (a[i] <= b[j] ? b[j] < a[i] + la ||
					    b[j] - (a[i] + la) <=
						(size_t)n->distance :
						   a[i] < b[j] + lb ||
					    a[i] - (b[j] + lb) <=
						(size_t)n->distance)
					return 1;
		return 0;
	case REF_FEED:
		return strcmp(s->ms.feed, n->value) == 0;
	case REF_SITE:
		return ref_site(s->ms.url, n->value);
	case REF_TAG:
		for (size_t i = 0; s->ms.tags != NULL && s->ms.tags[i] != NULL;
		     i++)
			if (strcmp(s->ms.tags[i], n->value) == 0)
				return 1;
		return 0;
	}
	return 0;
}

static void
ref_why_add(struct ref_why *w, const char *written)
{
	for (size_t i = 0; i < w->n; i++)
		if (strcmp(w->matched[i], written) == 0)
			return;
	assert_true(w->n < sizeof w->matched / sizeof w->matched[0]);
	w->matched[w->n++] = written;
}

static void
ref_why_term(struct ref_why *w, const struct ref_node *n,
    const struct ref_tokens *fields, size_t v)
{
	size_t hits[REF_MAX_TOKENS];

	ref_why_add(w, n->written);
	assert_true(ref_hits(n, fields, v, hits) > 0);
	if (!w->has_hit || hits[0] < w->first) {
		w->has_hit = 1;
		w->first = hits[0];
		w->last = hits[0] + (n->op == REF_PHRASE ? n->nwords : 1) - 1;
	}
}

/* What made a true node true, in the order match_result gives it. */
static void
ref_collect(const struct ref_node *n, const struct ref_story *s,
    const struct ref_tokens *fields, size_t v, struct ref_why *w)
{
	switch (n->op) {
	case REF_WORD:
	case REF_PREFIX:
	case REF_PHRASE:
		ref_why_term(w, n, fields, v);
		break;
	case REF_NEAR:
		ref_why_term(w, n->kids[0], fields, v);
		ref_why_term(w, n->kids[1], fields, v);
		break;
	case REF_AND:
	case REF_OR:
		for (size_t i = 0; i < n->nkids; i++)
			if (ref_eval(n->kids[i], s, fields, v))
				ref_collect(n->kids[i], s, fields, v, w);
		break;
	case REF_FEED:
	case REF_SITE:
	case REF_TAG:
		ref_why_add(w, n->written);
		break;
	case REF_NOT:
		break;
	}
}

/* Random words and separators, a few Unicode ones among them. */
static void
ref_gen_text(char *out, size_t len, size_t words)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < words && o + 64 < len; i++)
		o += (size_t)snprintf(out + o, len - o, "%s%s",
		    i == 0 ? "" : REF_PICK(ref_seps), REF_PICK(ref_vocab));
}

static void
ref_got_cb(void *arg, const struct match_result *r, void *cbarg)
{
	struct ref_got *g = cbarg;
	size_t k = g->n++, n;
	const char *const *matched = match_result_matched(r, &n);

	assert_true(k < REF_QUERIES && n <= 16);
	g->query[k] = (size_t)(uintptr_t)arg;
	g->nmatched[k] = n;
	for (size_t i = 0; i < n; i++)
		g->matched[k][i] = xstrdup(matched[i]);
	g->snippet[k] = xstrdup(match_result_snippet(r));
}

static void
ref_got_clear(struct ref_got *g)
{
	for (size_t k = 0; k < g->n; k++) {
		for (size_t i = 0; i < g->nmatched[k]; i++)
			free(g->matched[k][i]);
		free(g->snippet[k]);
	}
	memset(g, 0, sizeof *g);
}

/* The words the snippet should mark, «like this». */
static void
ref_marked(const struct ref_story *s, const struct ref_tokens *fields,
    const struct ref_why *w, char *out, size_t len)
{
	const struct ref_tokens *f = &fields[0];
	const char *plain = s->ms.title;
	size_t first = w->first, last = w->last;

	if (first >= fields[0].n) {
		f = &fields[1];
		plain = s->ms.text;
		first -= fields[0].n;
		last -= fields[0].n;
	}
	snprintf(out, len, "«%.*s»",
	    (int)(f->t.v[last].end - f->t.v[first].start),
	    plain + f->t.v[first].start);
}

/* Compare one story's run with the reference; count what differs. */
static size_t
ref_check(const struct ref_query *qs, const size_t *index, size_t nq,
    struct ref_story *s, const struct ref_tokens (*fields)[2],
    const struct ref_got *g)
{
	struct ref_why w;
	size_t k = 0, bad = 0, v;
	char marked[512];

	for (size_t i = 0; i < nq; i++) {
		v = ref_variant(&qs[index[i]]);
		if (!ref_eval(qs[index[i]].root, s, fields[v], v))
			continue;
		if (k >= g->n || g->query[k] != i) {
			print_error("query %s on \"%s\" / \"%s\": the "
				    "reference matches, the matcher not\n",
			    qs[index[i]].text, s->ms.title, s->ms.text);
			return bad + 1;
		}
		memset(&w, 0, sizeof w);
		ref_collect(qs[index[i]].root, s, fields[v], v, &w);
		if (w.n != g->nmatched[k])
			bad++;
		for (size_t j = 0; j < w.n && j < g->nmatched[k]; j++)
			if (strcmp(w.matched[j], g->matched[k][j]) != 0)
				bad++;
		if (w.has_hit) {
			ref_marked(s, fields[v], &w, marked, sizeof marked);
			if (strstr(g->snippet[k], marked) == NULL)
				bad++;
		} else if (strstr(g->snippet[k], "«") != NULL)
			bad++;
		if (bad > 0) {
			print_error("query %s on \"%s\" / \"%s\": matched "
				    "%zu terms, want %zu (the first \"%s\"); "
				    "snippet %s\n",
			    qs[index[i]].text, s->ms.title, s->ms.text,
			    g->nmatched[k], w.n, w.n > 0 ? w.matched[0] : "",
			    g->snippet[k]);
			return bad;
		}
		k++;
	}
	if (k != g->n) {
		print_error("story \"%s\" / \"%s\": the matcher fired %zu "
			    "queries, the reference %zu\n",
		    s->ms.title, s->ms.text, g->n, k);
		bad++;
	}
	return bad;
}

/* One round: a set of random queries over random stories. */
static size_t
ref_round(void)
{
	static const char *const *const tags[] = { NULL, ref_tags_a,
		ref_tags_b };
	struct ref_query qs[REF_QUERIES];
	struct ref_tokens fields[4][2];
	struct ref_story s;
	struct ref_got g;
	struct match_set *set = match_set_new();
	struct match_query *mq;
	size_t index[REF_QUERIES], nq = 0, bad = 0;
	char title[512], text[2048], *cause;

	for (size_t i = 0; i < REF_QUERIES; i++) {
		qs[i].root = ref_gen(3, qs[i].text, sizeof qs[i].text);
		qs[i].language = ref_rand(6) == 0 ? "english" : NULL;
		qs[i].flags = ref_rand(6) == 0 ? MATCH_KEEP_ACCENTS : 0;
		cause = NULL;
		mq = match_query_new(
		    qs[i].text, qs[i].language, qs[i].flags, &cause);
		if ((mq == NULL) == ref_is_positive(qs[i].root)) {
			print_error("query %s: %s\n", qs[i].text,
			    cause != NULL ? cause : "compiles, but should not");
			bad++;
		}
		free(cause);
		if (mq == NULL)
			continue;
		index[nq] = i;
		match_set_add(set, mq, (void *)(uintptr_t)nq);
		nq++;
	}
	for (size_t k = 0; k < REF_STORIES && bad == 0; k++) {
		ref_gen_text(title, sizeof title, ref_rand(9));
		ref_gen_text(text, sizeof text, ref_rand(41));
		memset(&s, 0, sizeof s);
		s.ms.title = title;
		s.ms.text = text;
		s.ms.feed = REF_PICK(ref_feeds);
		s.ms.url = REF_PICK(ref_urls);
		s.ms.tags = (const char *const *)REF_PICK(tags);
		for (size_t v = 0; v < 4; v++) {
			ref_tokens_load(&fields[v][0], title, v);
			ref_tokens_load(&fields[v][1], text, v);
		}
		memset(&g, 0, sizeof g);
		if (match_set_run(set, &s.ms, ref_got_cb, &g) != (int)g.n)
			bad++;
		bad += ref_check(qs, index, nq, &s,
		    (const struct ref_tokens(*)[2])fields, &g);
		ref_got_clear(&g);
		for (size_t v = 0; v < 4; v++) {
			ref_tokens_clear(&fields[v][0]);
			ref_tokens_clear(&fields[v][1]);
		}
	}
	match_set_free(set);
	for (size_t i = 0; i < REF_QUERIES; i++)
		ref_node_free(qs[i].root);
	return bad;
}

static void
test_match_reference(void **state)
{
	size_t bad = 0;

	(void)state;
	ref_seed = 0x9e3779b97f4a7c15ULL;
	for (int r = 0; r < REF_ROUNDS && bad == 0; r++)
		bad += ref_round();
	if (bad > 0)
		fail_msg("the matcher and the reference differ");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match_words),
		cmocka_unit_test(test_match_apostrophes),
		cmocka_unit_test(test_match_hyphens_quotes),
		cmocka_unit_test(test_match_unicode),
		cmocka_unit_test(test_match_glued),
		cmocka_unit_test(test_match_prefix),
		cmocka_unit_test(test_match_phrase),
		cmocka_unit_test(test_match_boolean),
		cmocka_unit_test(test_match_near),
		cmocka_unit_test(test_match_fields),
		cmocka_unit_test(test_match_stemming),
		cmocka_unit_test(test_match_table_size),
		cmocka_unit_test(test_match_set_order),
		cmocka_unit_test(test_match_set_thousand),
		cmocka_unit_test(test_match_set_languages),
		cmocka_unit_test(test_match_set_many_pairs),
		cmocka_unit_test(test_match_set_order_backwards),
		cmocka_unit_test(test_match_title_by_accents),
		cmocka_unit_test(test_match_set_empty),
		cmocka_unit_test(test_match_languages),
		cmocka_unit_test(test_match_seed_article),
		cmocka_unit_test(test_match_explain),
		cmocka_unit_test(test_match_result_lazy),
		cmocka_unit_test(test_match_snippet_cut),
		cmocka_unit_test(test_match_errors),
		cmocka_unit_test(test_match_compiles),
		cmocka_unit_test(test_match_nesting),
		cmocka_unit_test(test_match_many_clauses),
		cmocka_unit_test(test_match_reference),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
