#include <stdint.h>
#include <string.h>

#include "dedup.h"
#include "text.h"

/*
 * Near-duplicates: Charikar's SimHash over 2-word shingles of a story's
 * title and the lead of its text, with FNV-1a and murmur3's finaliser.
 */

/*
 * Why the lead, and why the title weighs little. A SimHash bit differs
 * between two stories with a probability of about theta / pi, theta the
 * angle between their weighted shingle sets: to stay within 3 of 64
 * bits, well under 1% of the weight may change. Syndication changes a
 * story at its edges: its headline gets "Exclusive:", a " - Site"
 * suffix or a word changed, its text gets boilerplate at the end or
 * loses its last sentences. Over the whole text of a 120-word story,
 * one line of boilerplate costs 3 to 4 bits and a dropped sentence 8 to
 * 12. So only the lead counts: the first DEDUP_LEAD_TOKENS tokens, about
 * a paragraph, what a feed's summary carries. A title shingle weighs an
 * eighth of a text shingle. A full lead makes 63 shingles, an odd
 * number, so it leaves no bit even and the title seldom moves one: the
 * same lead under another headline is the same story. A shorter text
 * may leave bits even, and those the title settles; a story with no
 * text is its title alone. 2-word shingles cost an edited word 2
 * shingles where 3-word ones cost 3, and separate different stories as
 * well. Stopwords are kept: dropping them did not widen the gap
 * between different stories.
 */

#define DEDUP_SHINGLE 2	       /* tokens per shingle */
#define DEDUP_LEAD_TOKENS 64   /* tokens of a title or text that count */
#define DEDUP_MAX_BYTES 8192   /* bytes of a title or text tokenised */
#define DEDUP_FIRST_BYTES 1024 /* tried first: the lead is usually in it */
#define DEDUP_TITLE_WEIGHT 1   /* per shingle */
#define DEDUP_TEXT_WEIGHT 8    /* per shingle */
#define DEDUP_FNV_BASIS 0xcbf29ce484222325ULL
#define DEDUP_FNV_PRIME 0x100000001b3ULL

_Static_assert(DEDUP_LEAD_TOKENS < 256, "a shingle count fits in a byte");

static int dedup_add(int *, const char *, int);
static uint64_t dedup_spread(uint64_t);
static size_t dedup_prefix(const char *);
static uint64_t dedup_hash(const struct text_tokens *, size_t, size_t);

uint64_t
dedup_simhash(const char *title, const char *text)
{
	int set[64] = { 0 }, total = 0;
	uint64_t fp = 0;
	int b;

	total += dedup_add(set, title, DEDUP_TITLE_WEIGHT);
	total += dedup_add(set, text, DEDUP_TEXT_WEIGHT);
	/* Bit b's sum of +w and -w: twice what its set bits weigh, less all. */
	for (b = 0; b < 64; b++) {
		if (2 * set[b] - total > 0)
			fp |= 1ULL << b;
	}
	return fp;
}

/*
 * Add the shingles of the lead of s, each weighing w, to the weights of
 * the bits they set; return their weight in all. Counting only set bits
 * needs no branch on a bit, which a random hash would mispredict half of
 * the time, and counts eight bits with one addition.
 */
static int
dedup_add(int *set, const char *s, int w)
{
	struct text_tokens t;
	size_t i, j, n, k = DEDUP_SHINGLE, len, cut;
	uint64_t h, lanes[8] = { 0 };
	int b, total = 0;

	if (s == NULL)
		return 0;
	memset(&t, 0, sizeof t);
	/*
	 * Tokenise a first kilobyte, cut at white space so that its tokens
	 * are the text's own first ones; the rest only when the lead is
	 * not in it.
	 */
	len = dedup_prefix(s);
	cut = len;
	if (len > DEDUP_FIRST_BYTES) {
		cut = DEDUP_FIRST_BYTES;
		while (cut > 0 && s[cut] != ' ' && s[cut] != '\n' &&
		    s[cut] != '\t')
			cut--;
	}
	if (cut > 0 && cut < len) {
		text_tokenize(&t, s, cut, 0);
		if (t.n < DEDUP_LEAD_TOKENS) {
			text_tokens_clear(&t);
			cut = 0;
		}
	}
	if (cut == 0 || cut == len)
		text_tokenize(&t, s, len, 0);
	n = t.n < DEDUP_LEAD_TOKENS ? t.n : DEDUP_LEAD_TOKENS;
	/* Too few words for one shingle: each word is one. */
	if (n < k)
		k = 1;
	for (i = 0; i + k <= n; i++) {
		h = dedup_hash(&t, i, k);
		for (j = 0; j < 8; j++)
			lanes[j] += dedup_spread(h >> (8 * j) & 0xff);
		total += w;
	}
	text_tokens_clear(&t);
	for (j = 0; j < 8; j++) {
		for (b = 0; b < 8; b++)
			set[8 * j + 7 - b] +=
			    w * (int)(lanes[j] >> (8 * b) & 0xff);
	}
	return total;
}

/*
 * Spread the 8 bits of x over the 8 bytes of the result, bit 7 - b to
 * byte b: the product puts a copy of x every 9 bits, and the mask keeps
 * bit 7 - b of the b-th copy. Adding spread bytes counts 8 bits at
 * once; a byte holds DEDUP_LEAD_TOKENS shingles without overflowing.
 */
static uint64_t
dedup_spread(uint64_t x)
{
	return (x * 0x8040201008040201ULL & 0x8080808080808080ULL) >> 7;
}

/* How much of s to tokenise: at most DEDUP_MAX_BYTES, whole characters. */
static size_t
dedup_prefix(const char *s)
{
	size_t len;

	len = strnlen(s, DEDUP_MAX_BYTES + 1);
	if (len <= DEDUP_MAX_BYTES)
		return len;
	len = DEDUP_MAX_BYTES;
	while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
		len--;
	return len;
}

/*
 * Hash tokens i .. i + k - 1, each with its NUL so that "ab c" and
 * "a bc" differ. FNV-1a alone leaves its high bits poorly mixed, and a
 * SimHash needs every bit to be a fair coin: fmix64 finishes it.
 */
static uint64_t
dedup_hash(const struct text_tokens *t, size_t i, size_t k)
{
	const unsigned char *p;
	uint64_t h = DEDUP_FNV_BASIS;
	size_t j;

	for (j = i; j < i + k; j++) {
		p = (const unsigned char *)text_token_str(t, j);
		do {
			h ^= *p;
			h *= DEDUP_FNV_PRIME;
		} while (*p++ != '\0');
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

int
dedup_distance(uint64_t a, uint64_t b)
{
	uint64_t x = a ^ b;
	int n;

	for (n = 0; x != 0; n++)
		x &= x - 1;
	return n;
}

unsigned int
dedup_block(uint64_t fp, int i)
{
	if (i < 0 || i > 3)
		return 0;
	return (unsigned int)(fp >> (16 * i)) & 0xffff;
}
