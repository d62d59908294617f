#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* cmocka.h needs the standard headers above. */
#include <cmocka.h>

#include "dedup.h"
#include "text.h"
#include "xmalloc.h"

/*
 * Near-duplicates: one story as twenty feeds carry it stays within
 * DEDUP_MAX_DISTANCE; different stories, even on one topic or under one
 * headline template, stay far apart. The distances are printed.
 */

#define SEED_PATH FEEDWATCH_TEST_DATA "/seed-article.txt"
#define SEED_HEADLINE                                                          \
	"The Americans are in secret negotiations with the Russians over the " \
	"end of the war in Ukraine"
#define DIFFERENT_MIN 10 /* bits between different stories, at least */

/* The seed article's lead: its first three paragraphs, 127 words. */
struct seed {
	char *buf;
	const char *para[3];
};

static const char *seed_starts[] = {
	"A group of former top US national security officials",
	"For example, Russian Foreign Minister Sergei Lavrov",
	"On the agenda of the April meeting",
};

/* How a feed carries the seed's text. */
enum seed_body {
	BODY_PLAIN,	   /* paragraphs apart */
	BODY_SPACES,	   /* runs of spaces, tabs, CRLF */
	BODY_ONE_PARA,	   /* paragraphs run together */
	BODY_CURLY,	   /* ’ for ' */
	BODY_HTML_NAMED,   /* <p>, &rsquo;, through text_from_html */
	BODY_HTML_NUMERIC, /* &#39;, &nbsp;, &#8209;, through text_from_html */
	BODY_DROP_LAST,	   /* the last sentence, 49 words, cut */
};

/* The seed as twenty feeds carry it. */
static const struct {
	const char *what;
	const char *title;
	enum seed_body body;
	const char *trailer; /* boilerplate after the text, or NULL */
} variants[] = {
	{ "white space", SEED_HEADLINE, BODY_SPACES, NULL },
	{ "\"Exclusive:\"", "Exclusive: " SEED_HEADLINE, BODY_PLAIN, NULL },
	{ "\" - ForumDaily\"", SEED_HEADLINE " - ForumDaily", BODY_PLAIN,
	    NULL },
	{ "the page's own title",
	    "The Americans are in secret negotiations with the Russians to "
	    "end the war in Ukraine - ForumDaily",
	    BODY_PLAIN, NULL },
	{ "Title Case",
	    "The Americans Are in Secret Negotiations With the Russians Over "
	    "the End of the War in Ukraine",
	    BODY_PLAIN, NULL },
	{ "a word changed",
	    "The Americans are in secret talks with the Russians over the end "
	    "of the war in Ukraine",
	    BODY_PLAIN, NULL },
	{ "curly quotes",
	    "The Americans are in \u201csecret negotiations\u201d with the "
	    "Russians over the end of the war in Ukraine",
	    BODY_CURLY, NULL },
	{ "upper case",
	    "THE AMERICANS ARE IN SECRET NEGOTIATIONS WITH THE RUSSIANS OVER "
	    "THE END OF THE WAR IN UKRAINE",
	    BODY_PLAIN, NULL },
	{ "\"Read more\"", SEED_HEADLINE, BODY_PLAIN,
	    "Read more at NBC News." },
	{ "newsletter", SEED_HEADLINE, BODY_PLAIN,
	    "Subscribe to our newsletter" },
	{ "copyright", SEED_HEADLINE, BODY_PLAIN,
	    "\u00a9 2023 ForumDaily. All rights reserved." },
	{ "last sentence dropped", SEED_HEADLINE, BODY_DROP_LAST, NULL },
	{ "&rsquo;", SEED_HEADLINE, BODY_HTML_NAMED, NULL },
	{ "&#39;, &nbsp;, &#8209;", SEED_HEADLINE, BODY_HTML_NUMERIC, NULL },
	{ "suffix, HTML, Google News", SEED_HEADLINE " - ForumDaily",
	    BODY_HTML_NAMED, "Subscribe to ForumDaily on Google News" },
	{ "\"Exclusive:\", \"Read more\"", "Exclusive: " SEED_HEADLINE,
	    BODY_PLAIN, "Read more at NBC News." },
	{ "\" | NBC News\", one paragraph", SEED_HEADLINE " | NBC News",
	    BODY_ONE_PARA, NULL },
	{ "Title Case, spaces, copyright",
	    "The Americans Are in Secret Negotiations With the Russians Over "
	    "the End of the War in Ukraine",
	    BODY_SPACES, "\u00a9 2023 ForumDaily. All rights reserved." },
	{ "word changed, curly, newsletter",
	    "The Americans are in secret talks with the Russians over the end "
	    "of the war in Ukraine",
	    BODY_CURLY, "Subscribe to our newsletter" },
	{ "suffix, dropped, \"Read more\"", SEED_HEADLINE " - ForumDaily",
	    BODY_DROP_LAST, "Read more at NBC News." },
};

struct story {
	const char *title;
	const char *text;
};

/* Different stories, about 100 words each, that must not merge. */
static const struct {
	const char *what;
	struct story a, b;
} different[] = {
	{ "\"Live updates:\", different events",
	    { "Live updates: Earthquake strikes off the coast of Japan",
		"A magnitude 7.1 earthquake struck off the coast of southern "
		"Japan on Thursday evening, the Japan Meteorological Agency "
		"said, prompting a tsunami advisory for parts of Kyushu and "
		"Shikoku. Waves of up to one metre were expected. There were "
		"no immediate reports of serious damage, though bullet train "
		"services were suspended while tracks were inspected. "
		"Officials at the nearby nuclear power plant said they had "
		"found no abnormalities. Here's what we know so far. The "
		"agency warned that strong aftershocks were possible over the "
		"coming week and urged residents to stay away from the "
		"coast." },
	    { "Live updates: Wildfires force thousands to evacuate in Los "
	      "Angeles",
		"Fast-moving wildfires driven by powerful Santa Ana winds "
		"forced tens of thousands of people to leave their homes in "
		"Los Angeles County on Wednesday. Firefighters struggled to "
		"contain the blazes as gusts reached 80 miles per hour, "
		"grounding water-dropping aircraft for hours. Hundreds of "
		"structures have been destroyed, officials said. Here's what "
		"we know so far. Schools across the region were closed and "
		"the governor declared a state of emergency, freeing up state "
		"resources. Forecasters expect the winds to ease by Friday, "
		"but humidity will remain low." } },
	{ "\"Live updates:\", one headline, two days of a war",
	    { "Live updates: Russia's war in Ukraine",
		"Russia launched one of its largest drone attacks of the war "
		"on Kyiv overnight, Ukrainian officials said, killing at "
		"least four people and damaging apartment buildings in "
		"several districts. Air defence units shot down most of the "
		"more than three hundred drones and several cruise missiles, "
		"the air force said. Mayor Vitali Klitschko said fires broke "
		"out in the Solomianskyi and Obolon districts and that "
		"rescuers were searching the rubble. Here's the latest. "
		"President Volodymyr Zelensky urged allies to send more "
		"Patriot systems, saying Russia was trying to exhaust "
		"Ukraine's air defences before winter." },
	    { "Live updates: Russia's war in Ukraine",
		"Ukraine and Russia carried out their largest prisoner "
		"exchange of the war on Friday, with each side releasing "
		"several hundred soldiers and civilians, officials in both "
		"countries said. The swap, mediated by the United Arab "
		"Emirates, followed weeks of negotiations. Families gathered "
		"at a hospital in the Chernihiv region to greet returning "
		"prisoners, many of whom had been held since the early months "
		"of the invasion. Here's the latest. Ukraine's coordination "
		"headquarters for prisoners of war said more exchanges were "
		"planned and that it was working to identify those still "
		"missing." } },
	{ "Ukraine ceasefire talks",
	    { "Ukraine and Russia agree to new round of ceasefire talks in "
	      "Istanbul",
		"Delegations from Ukraine and Russia will meet in Istanbul "
		"next week for a second round of talks on a ceasefire, "
		"Turkish officials said on Monday. The first round, held in "
		"the same city last month, ended after two hours with an "
		"agreement to exchange prisoners but no progress on a truce. "
		"Kyiv has insisted that any ceasefire must be unconditional "
		"and last at least thirty days, while Moscow wants Ukraine to "
		"withdraw from four regions first. Turkish Foreign Minister "
		"Hakan Fidan said both sides had submitted written proposals "
		"and that Ankara was ready to host further meetings." },
	    { "Zelensky says Russia is stalling on ceasefire as envoys "
	      "prepare to meet",
		"President Volodymyr Zelensky accused the Kremlin on Tuesday "
		"of dragging out negotiations on a ceasefire while its troops "
		"press forward in the east. Speaking in Kyiv alongside the "
		"Finnish president, he said Russia had not yet presented the "
		"memorandum it promised and called on Western partners to "
		"tighten sanctions on Russian oil. The Kremlin spokesman, "
		"Dmitry Peskov, said the document was being prepared and that "
		"a quick truce was unrealistic. European leaders meeting in "
		"Brussels discussed a new sanctions package and a plan to use "
		"frozen Russian assets to fund Ukraine's defence." } },
	{ "the Fed's rates",
	    { "Federal Reserve holds interest rates steady, signals two cuts "
	      "this year",
		"The Federal Reserve left its benchmark interest rate "
		"unchanged on Wednesday, keeping it in a range of 4.25 to 4.5 "
		"percent for a fourth straight meeting. Policymakers said "
		"inflation remained somewhat elevated and that uncertainty "
		"about the economic outlook had increased. Their new "
		"projections still point to two quarter-point cuts before the "
		"end of the year, although several officials now expect none. "
		"Fed Chair Jerome Powell told reporters that tariffs were "
		"likely to push prices higher over the summer and that the "
		"central bank was well positioned to wait for more clarity "
		"before moving." },
	    { "Powell faces pressure from White House as Fed weighs rate cut",
		"President Donald Trump renewed his attacks on Jerome Powell "
		"on Thursday, calling the Federal Reserve chair too slow and "
		"demanding that interest rates be cut by a full percentage "
		"point. Economists said the criticism was unlikely to sway "
		"the committee, which sets rates by majority vote and has "
		"stressed its independence. Markets now price a roughly sixty "
		"percent chance of a cut in September after a weak jobs "
		"report showed employers added fewer workers than expected. "
		"Treasury yields fell and the dollar weakened against the "
		"euro and the yen as investors bet on lower borrowing "
		"costs." } },
	{ "ceasefire talks, in Russian",
	    { "Переговоры о прекращении огня продолжатся в Стамбуле",
		"Делегации России и Украины встретятся в Стамбуле на "
		"следующей неделе, сообщили в министерстве иностранных дел "
		"Турции. Первый раунд переговоров завершился обменом "
		"пленными, но договориться о перемирии стороны не смогли. "
		"Киев настаивает на безоговорочном прекращении огня сроком не "
		"менее тридцати дней. Москва требует сначала обсудить условия "
		"долгосрочного урегулирования. Турецкая сторона заявила, что "
		"готова принимать делегации столько раз, сколько "
		"потребуется." },
	    { "В Кремле назвали преждевременными разговоры о скором "
	      "перемирии",
		"Пресс-секретарь президента России Дмитрий Песков заявил "
		"журналистам, что говорить о быстром прекращении огня пока "
		"рано. По его словам, меморандум с российскими предложениями "
		"ещё готовится, а сроки его передачи украинской стороне не "
		"определены. Песков также прокомментировал новые европейские "
		"санкции, назвав их незаконными. Ранее президент Украины "
		"Владимир Зеленский обвинил Москву в затягивании переговоров "
		"и призвал западных партнёров усилить давление на Россию." } },
};

/* Another story about the seed's people: Lavrov in New York. */
static const struct story lavrov_un = {
	"Lavrov chairs UN Security Council meeting in New York",
	"Russian Foreign Minister Sergei Lavrov presided over a meeting of "
	"the United Nations Security Council in New York on Monday, using the "
	"session to accuse the West of undermining the international order. "
	"Russia holds the rotating presidency of the council this month. "
	"Diplomats from Ukraine and its allies walked out in protest, and the "
	"United States said it had issued visas to the Russian delegation "
	"only because of its obligations as host country. Lavrov did not meet "
	"American officials during the trip, the State Department said, and "
	"no talks on Ukraine were planned."
};

/* Read the seed article and find its lead paragraphs. */
static int
dedup_seed_setup(void **state)
{
	struct seed *s;
	FILE *f;
	size_t n, i;
	char *p, *from;

	s = xcalloc(1, sizeof *s);
	f = fopen(SEED_PATH, "rb");
	if (f == NULL)
		fail_msg("%s: cannot open", SEED_PATH);
	s->buf = xmalloc(1 << 16);
	n = fread(s->buf, 1, (1 << 16) - 1, f);
	fclose(f);
	assert_true(n > 0 && n < (1 << 16) - 1);
	s->buf[n] = '\0';
	assert_non_null(strstr(s->buf, SEED_HEADLINE "\n"));
	from = s->buf;
	for (i = 0; i < 3; i++) {
		p = strstr(from, seed_starts[i]);
		if (p == NULL)
			fail_msg("seed: no paragraph \"%s\"", seed_starts[i]);
		s->para[i] = p;
		from = p + strcspn(p, "\n");
		*from++ = '\0';
	}
	*state = s;
	return 0;
}

static int
dedup_seed_teardown(void **state)
{
	struct seed *s = *state;

	free(s->buf);
	free(s);
	return 0;
}

/* Return s with each from replaced by to; the caller frees it. */
static char *
dedup_replace(const char *s, const char *from, const char *to)
{
	size_t flen = strlen(from), tlen = strlen(to), n = 0;
	const char *p;
	char *out, *q;

	for (p = s; (p = strstr(p, from)) != NULL; p += flen)
		n++;
	out = q = xmalloc(strlen(s) + n * tlen + 1);
	while ((p = strstr(s, from)) != NULL) {
		memcpy(q, s, (size_t)(p - s));
		q += p - s;
		memcpy(q, to, tlen);
		q += tlen;
		s = p + flen;
	}
	strcpy(q, s);
	return out;
}

/* Replace *s by dedup_replace(*s, from, to). */
static void
dedup_edit(char **s, const char *from, const char *to)
{
	char *t = dedup_replace(*s, from, to);

	free(*s);
	*s = t;
}

/* The seed's lead as a feed carries it; the caller frees it. */
static char *
dedup_seed_body(const struct seed *s, enum seed_body how, const char *trailer)
{
	const char *const *p = s->para;
	char *b, *t;

	switch (how) {
	case BODY_SPACES:
		xasprintf(
		    &b, "  %s\r\n\t\r\n%s \n\n\n  %s  ", p[0], p[1], p[2]);
		dedup_edit(&b, ", ", ",   ");
		break;
	case BODY_ONE_PARA:
		xasprintf(&b, "%s %s %s", p[0], p[1], p[2]);
		break;
	case BODY_HTML_NAMED:
	case BODY_HTML_NUMERIC:
		xasprintf(
		    &b, "<p>%s</p>\n<p>%s</p>\n<p>%s</p>", p[0], p[1], p[2]);
		if (how == BODY_HTML_NAMED)
			dedup_edit(&b, "'", "&rsquo;");
		else {
			dedup_edit(&b, "'", "&#39;");
			dedup_edit(&b, "top US", "top&nbsp;US");
			dedup_edit(&b, "New York", "New&nbsp;York");
			dedup_edit(&b, "-held", "&#8209;held");
		}
		t = text_from_html(b);
		free(b);
		b = t;
		break;
	case BODY_DROP_LAST:
		xasprintf(&b, "%s\n\n%s", p[0], p[1]);
		break;
	default:
		xasprintf(&b, "%s\n\n%s\n\n%s", p[0], p[1], p[2]);
		break;
	}
	if (how == BODY_CURLY)
		dedup_edit(&b, "'", "\u2019");
	if (trailer != NULL) {
		xasprintf(&t, "%s\n\n%s", b, trailer);
		free(b);
		b = t;
	}
	return b;
}

static int
dedup_int_cmp(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

static void
test_dedup_syndicated(void **state)
{
	struct seed *s = *state;
	int d[sizeof variants / sizeof variants[0]];
	size_t i, n = sizeof variants / sizeof variants[0], nfar = 0;
	uint64_t fp0;
	char *b;

	b = dedup_seed_body(s, BODY_PLAIN, NULL);
	fp0 = dedup_simhash(SEED_HEADLINE, b);
	free(b);
	for (i = 0; i < n; i++) {
		b = dedup_seed_body(s, variants[i].body, variants[i].trailer);
		d[i] = dedup_distance(fp0, dedup_simhash(variants[i].title, b));
		free(b);
		print_message("syndicated %2zu %-34s distance %2d\n", i + 1,
		    variants[i].what, d[i]);
		if (d[i] > DEDUP_MAX_DISTANCE)
			nfar++;
	}
	qsort(d, n, sizeof d[0], dedup_int_cmp);
	print_message("syndicated: max %d, median %d (limit %d)\n", d[n - 1],
	    d[n / 2], DEDUP_MAX_DISTANCE);
	if (nfar > 0)
		fail_msg("%zu of %zu variants beyond %d", nfar, n,
		    DEDUP_MAX_DISTANCE);
}

/* Print and check the distance of two different stories. */
static int
dedup_different_check(
    const char *what, const struct story *a, const struct story *b)
{
	int d;

	d = dedup_distance(
	    dedup_simhash(a->title, a->text), dedup_simhash(b->title, b->text));
	print_message("different  %-50s distance %2d\n", what, d);
	return d;
}

static void
test_dedup_different(void **state)
{
	struct seed *s = *state;
	struct story seed;
	size_t i, nnear = 0;
	int d, min = 64;
	char *b;

	for (i = 0; i < sizeof different / sizeof different[0]; i++) {
		d = dedup_different_check(
		    different[i].what, &different[i].a, &different[i].b);
		if (d < min)
			min = d;
		if (d < DIFFERENT_MIN)
			nnear++;
	}
	b = dedup_seed_body(s, BODY_PLAIN, NULL);
	seed.title = SEED_HEADLINE;
	seed.text = b;
	d = dedup_different_check(
	    "the seed, Lavrov at the UN", &seed, &lavrov_un);
	free(b);
	if (d < min)
		min = d;
	if (d < DIFFERENT_MIN)
		nnear++;
	print_message(
	    "different: min %d (at least %d wanted)\n", min, DIFFERENT_MIN);
	if (nnear > 0)
		fail_msg("%zu pairs nearer than %d", nnear, DIFFERENT_MIN);
}

static void
test_dedup_distance(void **state)
{
	static const struct {
		uint64_t a, b;
		int want;
	} cases[] = {
		{ 0, 0, 0 },
		{ 0, ~0ULL, 64 },
		{ 1, 0, 1 },
		{ 0x8000000000000001ULL, 0, 2 },
		{ 0xaaaaaaaaaaaaaaaaULL, 0x5555555555555555ULL, 64 },
		{ 0x0123456789abcdefULL, 0x0123456789abcdeeULL, 1 },
		{ 0x0123456789abcdefULL, 0x0123456789abcdefULL, 0 },
		{ 0xffff000000000000ULL, 0x00000000ffff0000ULL, 32 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(
		    dedup_distance(cases[i].a, cases[i].b), cases[i].want);
		assert_int_equal(
		    dedup_distance(cases[i].b, cases[i].a), cases[i].want);
	}
}

static void
test_dedup_block(void **state)
{
	static const struct {
		uint64_t fp;
		unsigned int blocks[4];
	} cases[] = {
		{ 0x0123456789abcdefULL, { 0xcdef, 0x89ab, 0x4567, 0x0123 } },
		{ 0, { 0, 0, 0, 0 } },
		{ ~0ULL, { 0xffff, 0xffff, 0xffff, 0xffff } },
		{ 0x8000000000000001ULL, { 0x0001, 0, 0, 0x8000 } },
	};
	uint64_t fp = 0x0123456789abcdefULL, x;
	int i, j, k, b, same;

	(void)state;
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		for (b = 0; b < 4; b++)
			assert_int_equal(
			    dedup_block(cases[c].fp, b), cases[c].blocks[b]);
	}
	/* Within 3 bits, one block of 4 is always the same: the index. */
	for (i = 0; i < 64; i++) {
		for (j = i + 1; j < 64; j++) {
			for (k = j + 1; k < 64; k++) {
				x = fp ^ (1ULL << i) ^ (1ULL << j) ^
				    (1ULL << k);
				for (same = 0, b = 0; b < 4; b++)
					same += dedup_block(x, b) ==
					    dedup_block(fp, b);
				assert_true(same >= 1);
			}
		}
	}
}

/*
 * The window's index finds what a scan of every story within the window
 * would: the nearest within 3 bits, the oldest cluster of equally near
 * ones, across chunks, and nothing the window has passed.
 */
static void
test_dedup_index(void **state)
{
	struct dedup_index *ix = dedup_index_new();
	uint64_t fp[10000], seed = 42, q;
	int64_t cluster, want;
	int distance, d, best;

	(void)state;
	for (int i = 0; i < 10000; i++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		fp[i] = seed ^ (seed >> 29);
		dedup_index_add(ix, fp[i], i + 1, 1000 + i);
	}
	assert_int_equal(dedup_index_count(ix), 10000);
	/* Two stories 1 bit from a third's fingerprint: the older. */
	dedup_index_add(ix, fp[7000] ^ 0x10000, 20000, 12000);
	dedup_index_add(ix, fp[7000] ^ 0x20000, 20001, 12000);
	assert_int_equal(
	    dedup_index_find(ix, fp[7000] ^ 0x30000, 3, 0, &cluster, &distance),
	    1);
	assert_int_equal(distance, 1);
	assert_int_equal(cluster, 20000);
	dedup_index_expire(ix, 1000 + 6000);
	assert_int_equal(dedup_index_count(ix), 4002);
	for (int i = 0; i < 10000; i += 7) {
		q = fp[i] ^ (1ULL << (i % 64)) ^ (1ULL << ((i * 7) % 64));
		best = -1;
		want = 0;
		for (int j = 6000; j < 10000; j++) {
			d = dedup_distance(q, fp[j]);
			if (d <= 3 && (best == -1 || d < best)) {
				best = d;
				want = j + 1;
			}
		}
		if (i >= 6000 && i != 7000) {
			assert_int_equal(dedup_index_find(ix, q, 3, 1000 + 6000,
					     &cluster, &distance),
			    1);
			assert_int_equal(cluster, want);
			assert_int_equal(distance, best);
		} else if (i < 6000)
			assert_int_equal(dedup_index_find(ix, q, 3, 1000 + 6000,
					     &cluster, &distance),
			    best != -1);
	}
	/* A later since passes over stories still kept. */
	assert_int_equal(
	    dedup_index_find(ix, fp[6500], 3, 1000 + 7000, &cluster, &distance),
	    0);
	dedup_index_free(ix);
}

/*
 * Past 3 bits, only stories that share a block are found, recent ones
 * too, whose chains also hold other block values: a story 4 bits away,
 * one in each block (bit 15, so that every block lands on its chain),
 * is not found at distance 5; with one block shared, 3 bits away, it is.
 */
static void
test_dedup_index_shares_block(void **state)
{
	struct dedup_index *ix = dedup_index_new();
	uint64_t fp = 0x0123456789abcdefULL, all = 0x8000800080008000ULL;
	int64_t cluster;
	int distance;

	(void)state;
	dedup_index_add(ix, fp, 7, 1000);
	assert_int_equal(
	    dedup_index_find(ix, fp ^ all, 5, 0, &cluster, &distance), 0);
	assert_int_equal(dedup_index_find(ix, fp ^ (all & ~0x8000ULL), 5, 0,
			     &cluster, &distance),
	    1);
	assert_int_equal(cluster, 7);
	assert_int_equal(distance, 3);
	dedup_index_free(ix);
}

/* A small random number generator for the index tests (PCG-style). */
static uint64_t
dedup_test_next(uint64_t *seed)
{
	*seed = *seed * 6364136223846793005ULL + 1442695040888963407ULL;
	return *seed ^ (*seed >> 29);
}

/*
 * The index as its tables are laid out again and again: 60,000 stories,
 * a fifth of them copies of earlier ones 0 to 5 bits away (some exact,
 * under another cluster), a window that moves on, and at points both
 * right after a layout and between two, each look-up's answer is what a
 * scan of every story kept gives: the nearest within 3 (or 5, sharing a
 * block) bits, first seen at or after since, the oldest cluster of
 * equally near ones.
 */
static void
test_dedup_index_layout(void **state)
{
	enum { N = 60000, STEP = 7919, QUERIES = 200, GAP = 5000 };
	struct dedup_index *ix = dedup_index_new();
	uint64_t *fp = xreallocarray(NULL, N, sizeof *fp), seed = 7, q, r;
	int64_t *cl = xreallocarray(NULL, N, sizeof *cl), cluster, want;
	int distance, d, best, max, found, shares, lo = 0, checked = 0,
						   asked = 0;
	time_t since;

	(void)state;
	for (int i = 0; i < N; i++) {
		r = dedup_test_next(&seed);
		cl[i] = i + 1;
		if (i > 0 && r % 5 == 0) {
			/* A copy of an earlier story, 0 to 5 bits away. */
			fp[i] = fp[dedup_test_next(&seed) % (uint64_t)i];
			for (uint64_t k = r / 5 % 6; k > 0; k--)
				fp[i] ^= 1ULL << (dedup_test_next(&seed) % 64);
			if (r % 3 == 0)
				cl[i] = cl[i / 2];
		} else
			fp[i] = dedup_test_next(&seed);
		dedup_index_add(ix, fp[i], cl[i], 1000 + i / 2);
		if (i % 20000 == 19999) {
			/* The window moves on: stories before lo go. */
			lo = i - GAP;
			dedup_index_expire(ix, 1000 + lo / 2);
			while (lo > 0 && (1000 + (lo - 1) / 2) >= 1000 + lo / 2)
				lo--;
			assert_int_equal(
			    dedup_index_count(ix), (size_t)(i + 1 - lo));
		}
		if (i % STEP != STEP - 1 && i != 8192 && i != N - 1)
			continue;
		for (int n = 0; n < QUERIES; n++) {
			r = dedup_test_next(&seed);
			q = r % 4 == 0 ? dedup_test_next(&seed) :
					 fp[lo + r % (uint64_t)(i + 1 - lo)];
			for (uint64_t k = r / 4 % 5; k > 0; k--)
				q ^= 1ULL << (dedup_test_next(&seed) % 64);
			max = r % 7 == 0 ? 5 : 3;
			since = 1000 + lo / 2 + (time_t)(r / 32 % 3) * 1000;
			best = -1;
			want = 0;
			for (int j = lo; j <= i; j++) {
				d = dedup_distance(q, fp[j]);
				shares = 0;
				for (int b = 0; b < 4; b++)
					shares |= dedup_block(q, b) ==
					    dedup_block(fp[j], b);
				if (d > max || !shares || 1000 + j / 2 < since)
					continue;
				if (best == -1 || d < best ||
				    (d == best && cl[j] < want)) {
					best = d;
					want = cl[j];
				}
			}
			found = dedup_index_find(
			    ix, q, max, since, &cluster, &distance);
			asked++;
			assert_int_equal(found, best != -1);
			if (found) {
				assert_int_equal(distance, best);
				assert_int_equal(cluster, want);
				checked++;
			}
		}
	}
	/* Enough of the look-ups found a story for the test to mean something.
	 */
	print_message(
	    "index layout: %d of %d look-ups found a story\n", checked, asked);
	assert_true(checked > asked / 3);
	dedup_index_free(ix);
	free(fp);
	free(cl);
}

/* The URL filter never says no to a key it holds, and seldom yes. */
static void
test_dedup_filter(void **state)
{
	struct dedup_filter *f = dedup_filter_new(100000);
	char url[64];
	int yes = 0;

	(void)state;
	for (int i = 0; i < 100000; i++) {
		snprintf(url, sizeof url, "https://example.org/%d", i);
		assert_int_equal(dedup_filter_add(f, dedup_url_key(url)), 0);
	}
	assert_int_equal(dedup_filter_add(f, dedup_url_key("x")), -1);
	for (int i = 0; i < 100000; i++) {
		snprintf(url, sizeof url, "https://example.org/%d", i);
		assert_int_equal(dedup_filter_has(f, dedup_url_key(url)), 1);
		snprintf(url, sizeof url, "https://example.net/%d", i);
		yes += dedup_filter_has(f, dedup_url_key(url));
	}
	/* Full, at 8 bits a key: about 3 in 100. */
	assert_true(yes < 5000);
	assert_int_not_equal(dedup_url_key("https://example.org/a"),
	    dedup_url_key("https://example.org/b"));
	dedup_filter_free(f);
}

static void
test_dedup_empty(void **state)
{
	static const struct story cases[] = {
		{ NULL, NULL },
		{ "", "" },
		{ " \t\n ", NULL },
		{ NULL, "\u2014 \u2026 !? \u00ab\u00bb" },
		{ "\xff\xfe", "\x80" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		if (dedup_simhash(cases[i].title, cases[i].text) != 0)
			fail_msg("case %zu: not 0", i);
	}
}

static void
test_dedup_normalised(void **state)
{
	/* Each pair has the same words, once normalised. */
	static const struct {
		struct story a, b;
	} cases[] = {
		{ { NULL, "Ukraine" }, { NULL, "UKRAINE" } },
		{ { NULL, "Ukraine" }, { "Ukraine", NULL } },
		{ { NULL, "caf\u00e9 cr\u00e8me" }, { NULL, "Cafe Creme" } },
		{ { NULL, "\ufb01le \uff12\uff10\uff12\uff13" },
		    { NULL, "file 2023" } },
		{ { NULL,
		      "\u0401\u043b\u043a\u0430 \u0438 \u0439\u043e\u0433"
		      "\u0443\u0440\u0442" },
		    { NULL,
			"\u0435\u043b\u043a\u0430 \u0418 \u0438\u043e\u0433"
			"\u0443\u0440\u0442" } },
		{ { "Track-two diplomacy", "Lavrov's talks" },
		    { "track two\tdiplomacy",
			"  Lavrov\u2019s \u2014 talks." } },
	};
	uint64_t a, b;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		a = dedup_simhash(cases[i].a.title, cases[i].a.text);
		b = dedup_simhash(cases[i].b.title, cases[i].b.text);
		if (a == 0 || a != b)
			fail_msg("case %zu: %016llx and %016llx", i,
			    (unsigned long long)a, (unsigned long long)b);
	}
}

static void
test_dedup_deterministic(void **state)
{
	/*
	 * Fingerprints are stored: a change here is a change of format,
	 * and the stored ones must then be computed again.
	 */
	static const struct {
		struct story s;
		uint64_t fp;
	} cases[] = {
		{ { SEED_HEADLINE, NULL }, 0x208a000033e1c54bULL },
		{ { NULL, "Ukraine" }, 0xe86e1af1f4319402ULL },
		{ { "Live updates: Russia's war in Ukraine",
		      "Here's the latest." },
		    0xc334e4e72ff95d99ULL },
	};
	uint64_t fp;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		fp = dedup_simhash(cases[i].s.title, cases[i].s.text);
		assert_int_equal(
		    fp, dedup_simhash(cases[i].s.title, cases[i].s.text));
		if (fp != cases[i].fp)
			fail_msg("case %zu: %016llx, want %016llx", i,
			    (unsigned long long)fp,
			    (unsigned long long)cases[i].fp);
	}
}

static void
test_dedup_long_text(void **state)
{
	struct seed *s = *state;
	size_t len = 1 << 20, off;
	char *lead, *text;
	uint64_t fp;

	/* Only the lead counts: a megabyte after it changes nothing. */
	lead = dedup_seed_body(s, BODY_PLAIN, NULL);
	text = xmalloc(len + 1);
	off = strlen(lead);
	memcpy(text, lead, off);
	while (off + 8 < len) {
		memcpy(text + off, " filler.", 8);
		off += 8;
	}
	text[off] = '\0';
	fp = dedup_simhash(SEED_HEADLINE, lead);
	assert_int_equal(
	    dedup_distance(fp, dedup_simhash(SEED_HEADLINE, text)), 0);
	free(text);
	free(lead);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dedup_syndicated,
		    dedup_seed_setup, dedup_seed_teardown),
		cmocka_unit_test_setup_teardown(test_dedup_different,
		    dedup_seed_setup, dedup_seed_teardown),
		cmocka_unit_test(test_dedup_distance),
		cmocka_unit_test(test_dedup_block),
		cmocka_unit_test(test_dedup_index),
		cmocka_unit_test(test_dedup_index_layout),
		cmocka_unit_test(test_dedup_index_shares_block),
		cmocka_unit_test(test_dedup_filter),
		cmocka_unit_test(test_dedup_empty),
		cmocka_unit_test(test_dedup_normalised),
		cmocka_unit_test(test_dedup_deterministic),
		cmocka_unit_test_setup_teardown(test_dedup_long_text,
		    dedup_seed_setup, dedup_seed_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
