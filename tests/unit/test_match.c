#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* cmocka.h needs the standard headers above. */
#include <cmocka.h>

#include "match.h"
#include "xmalloc.h"

/* Watchlist queries: phrases, words and boolean operators. */

struct match_case {
	const char *query;
	const char *text;
	int expected;
};

static const struct match_case match_cases[] = {
	/* The phrase of the seed article, and what must not match it. */
	{ "\"track two diplomacy\"", "known as track two diplomacy", 1 },
	{ "\"track two diplomacy\"", "known as “Track-Two diplomacy”", 1 },
	{ "\"track two diplomacy\"", "TRACK TWO DIPLOMACY.", 1 },
	{ "\"track two diplomacy\"", "track—two\ndiplomacy", 1 },
	{ "\"track two diplomacy\"", "«track» ‘two’ (diplomacy)", 1 },
	{ "\"track two diplomacy\"", "track twofold diplomacy", 0 },
	{ "\"track two diplomacy\"", "track two diplomatic", 0 },
	{ "\"track two diplomacy\"", "two track diplomacy", 0 },
	{ "\"track two diplomacy\"", "track, two, and diplomacy", 0 },
	{ "\"track two diplomacy\"", "Track XNUMX diplomacy", 0 },
	{ "\"track two diplomacy\"", "", 0 },
	{ "\"Track-Two diplomacy\"", "track two diplomacy", 1 },
	/* Whole words, case-insensitively. */
	{ "Lavrov", "LAVROV spoke", 1 },
	{ "Lavrov", "Lavrov's view", 1 },
	{ "Lavrov", "Lavrov’s view", 1 },
	{ "Lavrov", "Lavrova spoke", 0 },
	{ "two", "twofold", 0 },
	{ "US", "U.S. officials", 0 },
	{ "\"U.S.\"", "the U.S. officials", 1 },
	{ "\"U.S.\"", "U.S.-Russia talks", 1 },
	{ "Russia", "U.S.-Russia talks", 1 },
	/* Beyond ASCII: case folding and accents. */
	{ "Переговоры", "тайные ПЕРЕГОВОРЫ с Россией", 1 },
	{ "переговоры", "переговор", 0 },
	{ "ёлка", "ЁЛКА", 1 },
	{ "елка", "Ёлка", 1 },
	{ "straße", "STRASSE", 1 },
	{ "Zürich", "ZURICH", 1 },
	{ "zurich", "Zürich", 1 },
	{ "café", "CAFÉ crème", 1 },
	{ "\"İstanbul talks\"", "istanbul talks", 1 },
	{ "ﬁnance", "finance", 1 },
	{ "日本", "日本 news", 1 },
	/* Implicit AND, OR, NOT, parentheses. */
	{ "Lavrov Kupchan", "Lavrov met Kupchan", 1 },
	{ "Lavrov Kupchan", "Lavrov met Haas", 0 },
	{ "Lavrov AND Kupchan", "Kupchan, then Lavrov", 1 },
	{ "Lavrov OR Kupchan", "Kupchan alone", 1 },
	{ "Lavrov OR Kupchan", "Haas alone", 0 },
	{ "Lavrov Haas OR Kupchan", "Kupchan alone", 1 },
	{ "Lavrov Haas OR Kupchan", "Haas alone", 0 },
	{ "Lavrov (Haas OR Kupchan)", "Kupchan alone", 0 },
	{ "Lavrov (Haas OR Kupchan)", "Lavrov and Haas", 1 },
	{ "Lavrov -Haas", "Lavrov and Haas", 0 },
	{ "Lavrov -Haas", "Lavrov and Kupchan", 1 },
	{ "Lavrov NOT Haas", "Lavrov and Haas", 0 },
	{ "\"track two\" -diplomacy", "track two diplomacy", 0 },
	{ "\"track two\" -diplomacy", "on track two", 1 },
};

static int
run(const char *query, const char *title, const char *text,
    struct match_result *r)
{
	struct match *m;
	struct match_story *s;
	char *cause = NULL;
	int rc;

	m = match_compile(query, &cause);
	if (m == NULL)
		fail_msg("query %s: %s", query, cause);
	s = match_story_new(title, text);
	rc = match_run(m, s, r);
	match_story_free(s);
	match_free(m);
	return rc;
}

static void
test_match_table(void **state)
{
	struct match_result r;
	int got;

	(void)state;
	for (size_t i = 0; i < sizeof match_cases / sizeof match_cases[0];
	     i++) {
		const struct match_case *c = &match_cases[i];

		got = run(c->query, "", c->text, &r);
		if (got != c->expected)
			fail_msg("case %zu: %s on \"%s\": got %d", i, c->query,
			    c->text, got);
		match_result_clear(&r);
	}
}

static void
test_match_phrase_not_across_title(void **state)
{
	struct match_result r;

	(void)state;
	assert_int_equal(run("\"track two diplomacy\"", "Talks on track two",
			     "diplomacy resumed", &r),
	    0);
	assert_int_equal(run("\"track two diplomacy\"",
			     "On track two "
			     "diplomacy",
			     "", &r),
	    1);
	match_result_clear(&r);
}

static void
test_match_explains(void **state)
{
	struct match_result r;
	struct match_story *s;
	struct match *m;
	char *cause, *snippet;

	(void)state;
	m = match_compile(
	    "Haas OR \"track two diplomacy\" OR -nothing Zelensky", &cause);
	assert_non_null(m);
	s = match_story_new("Secret talks",
	    "The discussions are known in diplomatic jargon as “track two "
	    "diplomacy”—a form of informal interaction. Haas was there.");
	assert_int_equal(match_run(m, s, &r), 1);
	assert_int_equal(r.nmatched, 2);
	assert_string_equal(r.matched[0], "Haas");
	assert_string_equal(r.matched[1], "track two diplomacy");
	snippet = match_snippet(s, &r);
	assert_string_equal(snippet,
	    "The discussions are known in diplomatic "
	    "jargon as “«track two diplomacy»”—a form of informal "
	    "interaction. Haas was there.");
	free(snippet);
	match_result_clear(&r);
	match_story_free(s);
	match_free(m);
}

static void
test_match_snippet_cut(void **state)
{
	struct match_result r;
	struct match_story *s;
	struct match *m;
	char *cause, *snippet, text[2048] = "";

	(void)state;
	for (int i = 0; i < 40; i++)
		strcat(text, "lorem ");
	strcat(text, "Lavrov spoke.");
	for (int i = 0; i < 40; i++)
		strcat(text, " ipsum");
	m = match_compile("lavrov", &cause);
	s = match_story_new("Title", text);
	assert_int_equal(match_run(m, s, &r), 1);
	snippet = match_snippet(s, &r);
	assert_string_equal(snippet,
	    "… lorem lorem lorem lorem lorem lorem "
	    "lorem lorem lorem lorem lorem lorem «Lavrov» spoke. ipsum ipsum "
	    "ipsum ipsum ipsum ipsum ipsum ipsum ipsum ipsum ipsum ipsum "
	    "ipsum ipsum ipsum ipsum …");
	free(snippet);
	match_result_clear(&r);
	match_story_free(s);
	match_free(m);
}

struct error_case {
	const char *query;
	const char *cause;
};

static const struct error_case error_cases[] = {
	{ "", "column 1: empty query" },
	{ "   ", "column 1: empty query" },
	{ "\"track two", "column 1: unterminated phrase" },
	{ "war \"\"", "column 5: a term needs a letter or digit" },
	{ "war ---", "column 8: expected a term" },
	{ "(war OR peace", "column 14: expected ')'" },
	{ "war)", "column 4: unexpected ')'" },
	{ "OR war", "column 1: expected a term before this operator" },
	{ "war OR", "column 7: expected a term" },
	{ "war AND OR peace",
	    "column 9: expected a term before this operator" },
	{ "NOT war", "column 1: the query would match stories for what" },
	{ "-war -peace", "column 1: the query would match stories for what" },
	{ "Lavrov OR NOT Haas", "column 1: the query would match stories" },
	{ "()", "column 2: unexpected ')'" },
	{ "!!!", "column 1: a term needs a letter or digit" },
};

static void
test_match_errors(void **state)
{
	char *cause;

	(void)state;
	for (size_t i = 0; i < sizeof error_cases / sizeof error_cases[0];
	     i++) {
		cause = NULL;
		assert_null(match_compile(error_cases[i].query, &cause));
		assert_non_null(cause);
		if (strncmp(cause, error_cases[i].cause,
			strlen(error_cases[i].cause)) != 0)
			fail_msg("query '%s': want '%s', got '%s'",
			    error_cases[i].query, error_cases[i].cause, cause);
		free(cause);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match_table),
		cmocka_unit_test(test_match_phrase_not_across_title),
		cmocka_unit_test(test_match_explains),
		cmocka_unit_test(test_match_snippet_cut),
		cmocka_unit_test(test_match_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
