#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* cmocka.h needs the standard headers above. */
#include <cmocka.h>

#include <utf8proc.h>

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
	/* C1 references are WINDOWS-1252's, as in a browser. */
	{ "don&#146;t &#x93;quote&#X94; &#0150;", "don’t “quote” –" },
	{ "a&#160;&#128;&#1000;", "a €Ϩ" },
	/*
	 * Text inside skipped elements, however deep, is not the story's;
	 * a skipped element still parts the words around it.
	 */
	{ "<object><p>in <script>x</script>object</p></object>after", "after" },
	{ "<noscript><noscript>a</noscript>b</noscript>c<title>t</title>d",
	    "c d" },
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

/*
 * The tokenizer against a slow reference: every character through
 * utf8proc, one at a time, on random text made of ASCII, Latin, Cyrillic
 * and CJK letters, combining marks, compatibility forms, punctuation,
 * emoji and invalid or cut UTF-8. Tokens, folded forms and offsets must
 * be the same, with accents folded and kept.
 */

#define TOKREF_ROUNDS 4000

static const char *const tokref_pieces[] = { "Negotiations",
	"abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
	"0123456789", "@[`{", "/:", "\x7f", "\x01", "a", "Z", "q", "7", "0",
	" ", " ", ",", ".", "-", "'", "\n", "\t", "_", "é", "É", "ß", "Ё", "ё",
	"İ", "ı", "ﬁ", "２", "\xcc\x81", "e\xcc\x81", "“", "”", "—", "«", "»",
	"’", "\xc2\xa0", "\xff", "\xc3", "\xe2\x80", "中", "ǅ", "µ", "²", "ª",
	"😀", "\xed\xa0\x80", "\xf4\x90\x80\x80", "ﷺ", "Ω", "ά", "Ǆ", "ŉ",
	"\xc0\xaf", "\xe0\x80\xaf", "٣", "ⅷ", "Ⅻ", "ｶ", "\xef\xbf\xbf", "€",
	"‿", "ⁱ", "\xe2\x83\x9d", "™", "\xe2\x82", "\xdf\xbf", "\xc2", "ΐ" };

static uint64_t tokref_seed;

static size_t
tokref_rand(size_t n)
{
	tokref_seed ^= tokref_seed >> 12;
	tokref_seed ^= tokref_seed << 25;
	tokref_seed ^= tokref_seed >> 27;
	return (size_t)((tokref_seed * 0x2545f4914f6cdd1dULL) >> 33) % n;
}

/* As the tokenizer has it: a letter, a digit or a combining mark. */
static int
tokref_is_word(utf8proc_int32_t c)
{
	if (c < 0x80)
		return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9');
	switch (utf8proc_category(c)) {
	case UTF8PROC_CATEGORY_LU:
	case UTF8PROC_CATEGORY_LL:
	case UTF8PROC_CATEGORY_LT:
	case UTF8PROC_CATEGORY_LM:
	case UTF8PROC_CATEGORY_LO:
	case UTF8PROC_CATEGORY_MN:
	case UTF8PROC_CATEGORY_MC:
	case UTF8PROC_CATEGORY_ME:
	case UTF8PROC_CATEGORY_ND:
	case UTF8PROC_CATEGORY_NL:
	case UTF8PROC_CATEGORY_NO:
		return 1;
	default:
		return 0;
	}
}

/* Append c folded (NFKD, case folded, marks stripped unless kept). */
static size_t
tokref_fold(char *out, utf8proc_int32_t c, int flags)
{
	utf8proc_int32_t dst[32];
	utf8proc_ssize_t n;
	int bound = UTF8PROC_BOUNDCLASS_START;
	int opts = UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD |
	    UTF8PROC_IGNORE;
	size_t len = 0;

	if (c < 0x80) {
		out[0] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
		return 1;
	}
	if (!(flags & TEXT_KEEP_ACCENTS))
		opts |= UTF8PROC_STRIPMARK;
	n = utf8proc_decompose_char(c, dst, 32, opts, &bound);
	for (utf8proc_ssize_t i = 0; n > 0 && n <= 32 && i < n; i++)
		len += (size_t)utf8proc_encode_char(
		    dst[i], (utf8proc_uint8_t *)out + len);
	return len;
}

/* Compare text_tokenize with the reference on s; fail on a difference. */
static void
tokref_check(const char *s, size_t len, int flags)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	struct text_tokens t;
	utf8proc_int32_t c;
	utf8proc_ssize_t n;
	char fold[1024];
	size_t i = 0, k = 0, start = 0, flen = 0;
	int in_word = 0, end;

	memset(&t, 0, sizeof t);
	text_tokenize(&t, s, len, flags);
	while (i <= len) {
		c = -1;
		n = 1;
		if (i < len &&
		    (n = utf8proc_iterate(
			 p + i, (utf8proc_ssize_t)(len - i), &c)) < 1) {
			c = -1;
			n = 1;
		}
		end = i == len || c == -1 || !tokref_is_word(c);
		if (end && in_word && flen > 0) {
			if (k >= t.n || t.v[k].start != start ||
			    t.v[k].end != i || t.v[k].foldlen != flen ||
			    memcmp(text_token_str(&t, k), fold, flen) != 0)
				fail_msg("token %zu of \"%s\" (flags %d): "
					 "\"%.*s\" at %zu-%zu, want \"%.*s\" "
					 "at %zu-%zu",
				    k, s, flags,
				    k < t.n ? (int)t.v[k].foldlen : 0,
				    k < t.n ? text_token_str(&t, k) : "",
				    k < t.n ? t.v[k].start : 0,
				    k < t.n ? t.v[k].end : 0, (int)flen, fold,
				    start, i);
			k++;
		}
		if (end) {
			in_word = 0;
		} else {
			if (!in_word) {
				in_word = 1;
				start = i;
				flen = 0;
			}
			flen += tokref_fold(fold + flen, c, flags);
		}
		i += (size_t)n;
	}
	if (k != t.n)
		fail_msg("\"%s\" (flags %d): %zu tokens, want %zu", s, flags,
		    t.n, k);
	text_tokens_clear(&t);
}

static void
test_text_tokens_reference(void **state)
{
	char s[512];
	size_t len, pieces;

	(void)state;
	tokref_seed = 0x853c49e6748fea9bULL;
	for (int r = 0; r < TOKREF_ROUNDS; r++) {
		len = 0;
		pieces = tokref_rand(40);
		for (size_t i = 0; i < pieces; i++) {
			const char *piece = tokref_pieces[tokref_rand(
			    sizeof tokref_pieces / sizeof tokref_pieces[0])];

			memcpy(s + len, piece, strlen(piece));
			len += strlen(piece);
		}
		s[len] = '\0';
		tokref_check(s, len, 0);
		tokref_check(s, len, TEXT_KEEP_ACCENTS);
	}
}

/*
 * Correct text in many languages: none of it may change. Several hold
 * exactly the shapes the repair looks for: Ukrainian capitals before І
 * ("СІРІ", "ДІДІ" are valid UTF-8 once in WINDOWS-1251), Portuguese
 * capitals before a closing quote ("IRMÃ»"), a no-break space after a
 * Russian one-letter word ("В 2020").
 */
static const char *mojibake_correct[] = {
	"Работа в России",
	"Ёлка и ёж",
	"Р. Ш. Иванов",
	"«Привет», — сказал он.",
	"№ 5, 25 °C, 30 °F",
	"В\u00a02020 году",
	"Встреча в\u00a0Москве и\u00a0Киеве",
	"Ті, хто знає",
	"Ні, дії уряду",
	"Київ, Україна, ґанок, її, Їжак, Європа",
	"СІРІ ХМАРИ, ТІНІ, МІНІ, ДІДІ",
	"ҚАЗАҚ ТІЛІ, ТІРІ",
	"Bu məqalə Google Translate servisi vasitəsi ilə avtomatik olaraq rus dilindən azərbaycan dilinə tərcümə olunmuşdur.",
	"Azərbaycan Respublikası, Ölkə, Şəki",
	"L’été à Paris\u00a0: «\u00a0déjà vu\u00a0»\u00a0!",
	"«CAFÉ» et «CRÈME»",
	"Œuvre, cœur, Ça va\u00a0?",
	"Größe, Straße, „Zitat“, ÄÖÜ, Ä",
	"KLICKA PÅ”",
	"SÃO PAULO",
	"A IRMÃ… E O IRMÃO, «MINHA IRMÃ»",
	"não, são, coração, ações",
	"¿Qué pasó? ¡Año nuevo! ACCIÓN «SE ACABÓ»",
	"Zażółć gęślą jaźń",
	"İstanbul'da güzel bir gün, Şişli, Iğdır",
	"Καλημέρα κόσμε",
	"日本語のテキスト、東京。",
	"👍🏽 ❤️ 😀 👨\u200d👩\u200d👧",
	"“Hello” — ‘world’… • ™ © ®",
	"10 km/h × 2 ÷ 3 ± 0,5 µm, ½ ¼",
	"Æble, Ørsted, Åse",
	"Příliš žluťoučký kůň",
	"Știință și ROMÂNIA, ÂME",
	"Ђорђе Јовановић, Љубљана, Њујорк, Џон",
	"„GUÐ“ og ÞÚ",
	"Ваш №\u00a01 — «ВТБ»",
	"naïve façade, coöperate, Noël",
	"Ñandú, ESPAÑA, AÑO",
	"price: 5 € / £3 / ¥100 / ¢",
	"Ёлка",
	"Р. Ш.",
	"L’été dernier",
	"Ein schönes Mädchen",
};

/* Mojibake and the text it was: WINDOWS-1251, WINDOWS-1252, ISO-8859-1. */
static const struct {
	const char *broken;
	const char *text;
} mojibake_cases[] = {
	{ "РєР°РЅР°Р»", "канал" },
	{ "Р\u00a0Р°Р±РѕС‚Р° РІ Р\u00a0РѕСЃСЃРёРё", "Работа в России" },
	{ "РЈРєСЂР°С—РЅР° вЂ” С†Рµ Р„РІСЂРѕРїР°, Р° РљРёС—РІ вЂ” С—С— СЃС‚РѕР»РёС†СЏ",
	    "Україна — це Європа, а Київ — її столиця" },
	{ "РџСЂРёРІРµС‚, РјРёСЂ!", "Привет, мир!" },
	{ "РќРѕРјРµСЂ в„– 5 вЂ” РёС‚РѕРі", "Номер № 5 — итог" },
	{ "Р\xc2\x98РІР°РЅ Р\xc2\x98РІР°РЅРѕРІРёС‡", "Иван Иванович" },
	{ "donâ€™t", "don’t" },
	{ "Ã©tÃ©", "été" },
	{ "â€œQuoteâ€\xc2\x9d", "“Quote”" },
	{ "donâ\xc2\x80\xc2\x99t", "don’t" },
	{ "25Â°C", "25°C" },
	{ "Ã\u00a0 la carte", "à la carte" },
	{ "Ð¿Ñ€Ð¸Ð²ÐµÑ‚", "привет" },
	{ "GrÃ¶ÃŸe", "Größe" },
	{ "ZaÅ¼Ã³Å‚Ä‡", "Zażółć" },
	{ "mÉ™qalÉ™", "məqalə" },
	{ "æ—¥æœ¬èªž", "日本語" },
	{ "â€˜singleâ€™ and â€“ dash", "‘single’ and – dash" },
	{ "ACCIÃ“N", "ACCIÓN" },
	{ "aÃ±o", "año" },
	{ "Ä°stanbul", "İstanbul" },
	{ "ðŸ‘\xc2\x8d", "👍" },
	{ "cafÃ©", "café" },
	{ "Ã\xc2\x89lysÃ©e", "Élysée" },
	{ "Ã‡a va ? TrÃ¨s bien, Ã\u00a0 bientÃ´t.",
	    "Ça va ? Très bien, à bientôt." },
	{ "Ãœber die BrÃ¼cke", "Über die Brücke" },
	{ "Р”С–СЏ вЂ” С†Рµ РґРµСЂР¶Р°РІР° Сѓ СЃРјР°СЂС‚С„РѕРЅС–",
	    "Дія — це держава у смартфоні" },
	{ "Р’ РњРѕСЃРєРІРµ", "В Москве" },
	/* Encoded twice. */
	{ "ÃƒÂ©tÃƒÂ©", "été" },
};

static void
test_text_mojibake_keeps_correct_text(void **state)
{
	const char *s;
	char *got;

	(void)state;
	for (size_t i = 0;
	     i < sizeof mojibake_correct / sizeof mojibake_correct[0]; i++) {
		s = mojibake_correct[i];
		if ((got = text_repair_mojibake(s)) != NULL)
			fail_msg("case %zu: '%s' became '%s'", i, s, got);
	}
}

static void
test_text_mojibake_repairs_broken_text(void **state)
{
	char *got;

	(void)state;
	for (size_t i = 0; i < sizeof mojibake_cases / sizeof mojibake_cases[0];
	     i++) {
		got = text_repair_mojibake(mojibake_cases[i].broken);
		if (got == NULL)
			fail_msg("case %zu: '%s' not repaired", i,
			    mojibake_cases[i].broken);
		if (strcmp(got, mojibake_cases[i].text) != 0)
			fail_msg("case %zu: '%s' gave '%s', want '%s'", i,
			    mojibake_cases[i].broken, got,
			    mojibake_cases[i].text);
		free(got);
		/* What was repaired is correct text, and stays. */
		assert_null(text_repair_mojibake(mojibake_cases[i].text));
	}
}

static void
test_text_mojibake_repairs_only_broken_runs(void **state)
{
	static const struct {
		const char *broken;
		const char *text;
	} cases[] = {
		{ "Привет, РєР°РЅР°Р»!", "Привет, канал!" },
		{ "Новости: РєР°РЅР°Р» РІ Telegram",
		    "Новости: канал в Telegram" },
		{ "Café ok, but cafÃ© broken", "Café ok, but café broken" },
		{ "«Ёлка» и â€œQuoteâ€\xc2\x9d", "«Ёлка» и “Quote”" },
		{ "Ölkə: donâ€™t", "Ölkə: don’t" },
		/* Correct punctuation around mojibake stays. */
		{ "L’Ã©tÃ© dernier", "L’été dernier" },
		{ "«РєР°РЅР°Р»» — “donâ€™t”", "«канал» — “don’t”" },
		/* "Ó»" is valid UTF-8 ("ӻ"), but not beside ASCII letters. */
		{ "«SE ACABÓ» Ã©tÃ©", "«SE ACABÓ» été" },
		/* A word that mixes both is left as it is. */
		{ "étÃ© Ã©tÃ©", "étÃ© été" },
		/* So are bytes that are not UTF-8. */
		{ "Ã©t\xff Ã©", "ét\xff é" },
		/*
		 * NBSP turned into a space cuts "Р" (0xd0 0xa0) in two: the
		 * lone "Р" cannot be decoded and is kept, the rest is.
		 */
		{ "Р Р°Р±РѕС‚Р°", "Р абота" },
	};
	char *got;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		got = text_repair_mojibake(cases[i].broken);
		if (got == NULL)
			fail_msg(
			    "case %zu: '%s' not repaired", i, cases[i].broken);
		if (strcmp(got, cases[i].text) != 0)
			fail_msg("case %zu: '%s' gave '%s', want '%s'", i,
			    cases[i].broken, got, cases[i].text);
		free(got);
	}
}

static void
test_text_mojibake_leaves_doubtful_text(void **state)
{
	/* Valid once re-encoded, but too short or too odd to be sure. */
	static const char *cases[] = {
		"РІ",	       /* "в" alone */
		"Ð²",	       /* "в" alone, through WINDOWS-1252 */
		"ВІВІ",	       /* "²²": Latin-1 from Cyrillic, no evidence */
		"Ä°",	       /* "İ", or Ä and a degree sign */
		"MINHA IRMÃ»", /* Portuguese, not "IRMû" */
		"ï»¿Title",    /* a byte order mark is no better */
		/* The last byte of ” (0x9d) was lost: no clean decoding. */
		"He said â€œhiâ€ and left",
		/* Spaces inside the mojibake, as in the seed article. */
		"РєР ° РЅР ° Р »РІ Telegram",
		"РєР°РЅР ° Р»",
	};
	char *got;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		if ((got = text_repair_mojibake(cases[i])) != NULL)
			fail_msg(
			    "case %zu: '%s' became '%s'", i, cases[i], got);
}

static void
test_text_mojibake_ascii_is_left_alone(void **state)
{
	char long_ascii[4096];

	(void)state;
	memset(long_ascii, 'a', sizeof long_ascii - 1);
	long_ascii[sizeof long_ascii - 1] = '\0';
	assert_null(text_repair_mojibake(""));
	assert_null(text_repair_mojibake("plain ASCII, 100% (really)"));
	assert_null(text_repair_mojibake(long_ascii));
	assert_null(text_repair_mojibake("\xff\xfe not UTF-8 \xc3"));
}

/*
 * Every line of the seed article is correct text but one, whose
 * "РєР ° РЅР ° Р »РІ" is "канал в" ("channel in") mangled twice: decoded as
 * WINDOWS-1251, then spaced by machine translation, which also moved a
 * space ("Р»" "РІ" became "Р »РІ"). The bytes around each inserted space
 * are cut sequences ("РєР" is 0xd0 0xba 0xd0), so no word of it decodes
 * cleanly and the line is left as it is.
 */
static void
test_text_mojibake_seed_article(void **state)
{
	FILE *f = fopen(FEEDWATCH_TEST_DATA "/seed-article.txt", "r");
	char *buf, *line, *nl, *got;
	size_t lineno = 0;
	int seen_mojibake = 0;
	long len;

	(void)state;
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	assert_true((len = ftell(f)) > 0);
	rewind(f);
	assert_non_null(buf = malloc((size_t)len + 1));
	assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
	buf[len] = '\0';
	fclose(f);
	for (line = buf; *line != '\0'; line = nl + 1) {
		lineno++;
		if ((nl = strchr(line, '\n')) == NULL)
			nl = line + strlen(line) - 1;
		else
			*nl = '\0';
		if (strstr(line, "РєР ° РЅР") != NULL)
			seen_mojibake = 1;
		if ((got = text_repair_mojibake(line)) != NULL)
			fail_msg(
			    "line %zu: '%s' became '%s'", lineno, line, got);
	}
	free(buf);
	assert_true(seen_mojibake);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_from_html),
		cmocka_unit_test(test_text_tokens),
		cmocka_unit_test(test_text_token_offsets),
		cmocka_unit_test(test_text_keep_accents),
		cmocka_unit_test(test_text_tokens_reference),
		cmocka_unit_test(test_text_mojibake_keeps_correct_text),
		cmocka_unit_test(test_text_mojibake_repairs_broken_text),
		cmocka_unit_test(test_text_mojibake_repairs_only_broken_runs),
		cmocka_unit_test(test_text_mojibake_leaves_doubtful_text),
		cmocka_unit_test(test_text_mojibake_ascii_is_left_alone),
		cmocka_unit_test(test_text_mojibake_seed_article),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
