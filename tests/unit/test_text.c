#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* cmocka.h needs the standard headers above. */
#include <cmocka.h>

#include "text.h"

/* Text: HTML to plain text, and plain text to folded tokens. */

static const struct {
	const char *html;
	const char *plain;
} html_cases[] = {
	{ "plain words", "plain words" },
	{ "  spaced \n\t out  ", "spaced out" },
	{ "<p>One.</p><p>Two.</p>", "One. Two." },
	{ "a<br>b", "a b" },
	{ "caf&eacute; &amp; cr&egrave;me", "café & crème" },
	{ "&ldquo;track two diplomacy&rdquo;", "“track two diplomacy”" },
	{ "x&nbsp;y", "x y" },
	{ "<script>alert(1)</script>visible", "visible" },
	{ "<style>p { color: red }</style><b>bold</b>", "bold" },
	{ "<div><ul><li>first</li><li>second</li></ul></div>", "first second" },
	{ "unclosed <b>bold", "unclosed bold" },
	{ "&#1058;&#1077;&#1082;&#1089;&#1090;", "Текст" },
	{ "", "" },
};

static void
test_text_from_html(void **state)
{
	char *got;

	(void)state;
	for (size_t i = 0; i < sizeof html_cases / sizeof html_cases[0]; i++) {
		got = text_from_html(html_cases[i].html);
		if (strcmp(got, html_cases[i].plain) != 0)
			fail_msg("case %zu: '%s' gave '%s', want '%s'", i,
			    html_cases[i].html, got, html_cases[i].plain);
		free(got);
	}
}

static void
test_text_tokens(void **state)
{
	static const struct {
		const char *text;
		const char *tokens[8];
	} cases[] = {
		{ "Track-Two diplomacy", { "track", "two", "diplomacy" } },
		{ "U.S.-Russia", { "u", "s", "russia" } },
		{ "Lavrov's", { "lavrov", "s" } },
		{ "  ", { NULL } },
		{ "ÉCOLE Straße", { "ecole", "strasse" } },
		{ "Ёлка İyi", { "елка", "iyi" } },
		{ "２０２３ ﬁle", { "2023", "file" } },
		{ "x\xff\xfey", { "x", "y" } },
	};
	struct text_tokens t;
	size_t j;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		memset(&t, 0, sizeof t);
		text_tokenize(&t, cases[i].text, strlen(cases[i].text), 0);
		for (j = 0; cases[i].tokens[j] != NULL; j++) {
			if (j >= t.n)
				fail_msg("case %zu: only %zu tokens", i, t.n);
			assert_string_equal(
			    text_token_str(&t, j), cases[i].tokens[j]);
		}
		assert_int_equal(t.n, j);
		text_tokens_clear(&t);
	}
}

static void
test_text_token_offsets(void **state)
{
	const char *s = "«Café» noir";
	struct text_tokens t;

	(void)state;
	memset(&t, 0, sizeof t);
	text_tokenize(&t, s, strlen(s), 0);
	assert_int_equal(t.n, 2);
	assert_int_equal(t.v[0].start, strlen("«"));
	assert_int_equal(t.v[0].end, strlen("«Café"));
	assert_int_equal(t.v[1].start, strlen("«Café» "));
	text_tokens_clear(&t);
}

static void
test_text_keep_accents(void **state)
{
	struct text_tokens a, b;

	(void)state;
	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	text_tokenize(&a, "Café", 5, TEXT_KEEP_ACCENTS);
	text_tokenize(&b, "cafe", 4, TEXT_KEEP_ACCENTS);
	assert_string_not_equal(text_token_str(&a, 0), text_token_str(&b, 0));
	text_tokens_clear(&a);
	text_tokenize(&a, "CAFÉ", 5, TEXT_KEEP_ACCENTS);
	text_tokens_clear(&b);
	text_tokenize(&b, "café", 5, TEXT_KEEP_ACCENTS);
	assert_string_equal(text_token_str(&a, 0), text_token_str(&b, 0));
	text_tokens_clear(&a);
	text_tokens_clear(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_from_html),
		cmocka_unit_test(test_text_tokens),
		cmocka_unit_test(test_text_token_offsets),
		cmocka_unit_test(test_text_keep_accents),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
