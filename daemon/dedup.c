#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dedup.h"
#include "text.h"
#include "xmalloc.h"

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
static uint64_t dedup_fnv(uint64_t, const char *);
static uint64_t dedup_fmix(uint64_t);

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
	uint64_t h = DEDUP_FNV_BASIS;

	for (size_t j = i; j < i + k; j++)
		h = dedup_fnv(h, text_token_str(t, j));
	return dedup_fmix(h);
}

/* FNV-1a over s and its terminating NUL, from h. */
static uint64_t
dedup_fnv(uint64_t h, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	do {
		h ^= *p;
		h *= DEDUP_FNV_PRIME;
	} while (*p++ != '\0');
	return h;
}

/* murmur3's fmix64: every bit of the result depends on every bit of h. */
static uint64_t
dedup_fmix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

int64_t
dedup_url_key(const char *url)
{
	return (int64_t)dedup_fmix(dedup_fnv(DEDUP_FNV_BASIS, url));
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

/*
 * The window's index. Entries are numbered from 1 as they are added;
 * each block table's head is the newest entry with that block value,
 * and each entry links to the one before it with the same value, so a
 * chain runs newest first. Entries live in chunks; expiry frees whole
 * chunks from the oldest end, and a chain ends at the first entry
 * below lo. A look-up reads one entry of 32 bytes, one cache line, per
 * candidate, and walks its four chains side by side, so that the
 * memory can fetch four at once: with a million stories in the window
 * a look-up reads about 60 candidates.
 */
#define DEDUP_INDEX_BLOCKS 4
#define DEDUP_INDEX_VALUES 65536 /* values of a 16-bit block */
#define DEDUP_INDEX_CHUNK 4096	 /* entries per chunk */
#define DEDUP_INDEX_LINE 64	 /* bytes of a cache line */

struct dedup_index_entry {
	uint64_t simhash;
	int64_t cluster;
	uint32_t next[DEDUP_INDEX_BLOCKS]; /* 0 = none */
};

_Static_assert(DEDUP_INDEX_LINE % sizeof(struct dedup_index_entry) == 0,
    "an entry is within one cache line");

struct dedup_index_chunk {
	struct dedup_index_entry entry[DEDUP_INDEX_CHUNK]; /* line-aligned */
	uint32_t seen[DEDUP_INDEX_CHUNK]; /* first seen, UTC seconds */
	void *raw;			  /* what was allocated */
};

struct dedup_index {
	uint32_t head[DEDUP_INDEX_BLOCKS][DEDUP_INDEX_VALUES]; /* 0 = none */
	struct dedup_index_chunk **chunks; /* chunks[0] is chunk number base */
	size_t nchunks;
	uint32_t base;
	uint32_t lo; /* the oldest entry kept */
	uint32_t hi; /* the next entry's number */
};

static struct dedup_index_chunk *dedup_index_chunk(
    const struct dedup_index *, uint32_t, size_t *);
static void *dedup_aligned(size_t, void **);
static uint32_t dedup_index_seconds(time_t);
static void dedup_index_clear(struct dedup_index *);
static void dedup_index_renumber(struct dedup_index *);

struct dedup_index *
dedup_index_new(void)
{
	struct dedup_index *ix;

	ix = xcalloc(1, sizeof *ix);
	ix->lo = ix->hi = 1;
	return ix;
}

void
dedup_index_free(struct dedup_index *ix)
{
	if (ix == NULL)
		return;
	dedup_index_clear(ix);
	free(ix);
}

/* Forget every entry. */
static void
dedup_index_clear(struct dedup_index *ix)
{
	for (size_t i = 0; i < ix->nchunks; i++)
		free(ix->chunks[i]->raw);
	free(ix->chunks);
	ix->chunks = NULL;
	ix->nchunks = 0;
	ix->base = 0;
	memset(ix->head, 0, sizeof ix->head);
	ix->lo = ix->hi = 1;
}

/*
 * Number the entries kept from 1 again, in their order: numbers run out
 * after 4 billion additions, which an index that is never read again
 * (a daemon alone on its log) may reach. Emptying it would lose the
 * window's stories while its owner still trusts it. Cannot fail.
 */
static void
dedup_index_renumber(struct dedup_index *ix)
{
	struct dedup_index_entry *kept = NULL;
	const struct dedup_index_chunk *c;
	uint32_t *seen = NULL;
	size_t n = ix->hi - ix->lo, slot;

	if (n > 0) {
		kept = xreallocarray(NULL, n, sizeof *kept);
		seen = xreallocarray(NULL, n, sizeof *seen);
	}
	for (size_t i = 0; i < n; i++) {
		c = dedup_index_chunk(ix, ix->lo + (uint32_t)i, &slot);
		kept[i] = c->entry[slot];
		seen[i] = c->seen[slot];
	}
	dedup_index_clear(ix);
	for (size_t i = 0; i < n; i++)
		dedup_index_add(
		    ix, kept[i].simhash, kept[i].cluster, (time_t)seen[i]);
	free(kept);
	free(seen);
}

/* The chunk of entry e, and e's slot in it. */
static struct dedup_index_chunk *
dedup_index_chunk(const struct dedup_index *ix, uint32_t e, size_t *slot)
{
	*slot = e % DEDUP_INDEX_CHUNK;
	return ix->chunks[e / DEDUP_INDEX_CHUNK - ix->base];
}

/*
 * Allocate bytes (zeroed) starting on a cache line, which malloc does
 * not promise; *raw is what to free. Cannot fail.
 */
static void *
dedup_aligned(size_t bytes, void **raw)
{
	*raw = xcalloc(1, bytes + DEDUP_INDEX_LINE - 1);
	return (void *)(((uintptr_t)*raw + DEDUP_INDEX_LINE - 1) &
	    ~(uintptr_t)(DEDUP_INDEX_LINE - 1));
}

/* Seconds as an entry keeps them: clamped to 1970..2106. */
static uint32_t
dedup_index_seconds(time_t t)
{
	if (t < 0)
		return 0;
	if ((uint64_t)t > UINT32_MAX)
		return UINT32_MAX;
	return (uint32_t)t;
}

void
dedup_index_add(struct dedup_index *ix, uint64_t simhash, int64_t cluster,
    time_t first_seen)
{
	struct dedup_index_entry *en;
	struct dedup_index_chunk *c;
	unsigned int b;
	uint32_t e;
	size_t slot;
	void *raw;

	if (ix->hi == UINT32_MAX)
		dedup_index_renumber(ix);
	e = ix->hi++;
	if (e / DEDUP_INDEX_CHUNK - ix->base >= ix->nchunks) {
		if (ix->nchunks == 0)
			ix->base = e / DEDUP_INDEX_CHUNK;
		ix->chunks = xreallocarray(
		    ix->chunks, ix->nchunks + 1, sizeof *ix->chunks);
		c = dedup_aligned(sizeof *c, &raw);
		c->raw = raw;
		ix->chunks[ix->nchunks++] = c;
	}
	c = dedup_index_chunk(ix, e, &slot);
	en = &c->entry[slot];
	en->simhash = simhash;
	en->cluster = cluster;
	c->seen[slot] = dedup_index_seconds(first_seen);
	for (int i = 0; i < DEDUP_INDEX_BLOCKS; i++) {
		b = dedup_block(simhash, i);
		en->next[i] = ix->head[i][b];
		ix->head[i][b] = e;
	}
}

void
dedup_index_expire(struct dedup_index *ix, time_t before)
{
	struct dedup_index_chunk *c;
	size_t slot, gone;

	while (ix->lo < ix->hi) {
		c = dedup_index_chunk(ix, ix->lo, &slot);
		if ((time_t)c->seen[slot] >= before)
			break;
		ix->lo++;
	}
	/* Free the chunks wholly below lo; chains stop there. */
	gone = ix->lo / DEDUP_INDEX_CHUNK - ix->base;
	if (gone == 0 || ix->nchunks == 0)
		return;
	if (gone > ix->nchunks)
		gone = ix->nchunks;
	for (size_t i = 0; i < gone; i++)
		free(ix->chunks[i]->raw);
	memmove(ix->chunks, ix->chunks + gone,
	    (ix->nchunks - gone) * sizeof *ix->chunks);
	ix->nchunks -= gone;
	ix->base += (uint32_t)gone;
}

size_t
dedup_index_count(const struct dedup_index *ix)
{
	return ix->hi - ix->lo;
}

int
dedup_index_find(const struct dedup_index *ix, uint64_t simhash,
    int max_distance, time_t since, int64_t *cluster, int *distance)
{
	const struct dedup_index_chunk *c;
	const struct dedup_index_entry *en;
	uint32_t e[DEDUP_INDEX_BLOCKS];
	size_t slot;
	int d, live;

	*cluster = 0;
	*distance = -1;
	for (int i = 0; i < DEDUP_INDEX_BLOCKS; i++)
		e[i] = ix->head[i][dedup_block(simhash, i)];
	do {
		live = 0;
		for (int i = 0; i < DEDUP_INDEX_BLOCKS; i++) {
			if (e[i] < ix->lo)
				continue;
			live = 1;
			c = dedup_index_chunk(ix, e[i], &slot);
			en = &c->entry[slot];
			e[i] = en->next[i];
			d = __builtin_popcountll(simhash ^ en->simhash);
			if (d > max_distance || (time_t)c->seen[slot] < since)
				continue;
			if (*distance == -1 || d < *distance ||
			    (d == *distance && en->cluster < *cluster)) {
				*distance = d;
				*cluster = en->cluster;
			}
		}
	} while (live);
	return *distance != -1;
}

/*
 * The filter: each key sets DEDUP_FILTER_PROBES bits of one 512-bit
 * block, one cache line, chosen by bits of the key (already mixed by
 * fmix64). With 8 bits of filter a key at capacity, about 3% false
 * "maybe"s; with 16 (half full), about 0.1%.
 */
#define DEDUP_FILTER_WORDS 8  /* 64-bit words in a block */
#define DEDUP_FILTER_PROBES 6 /* bits a key sets */
#define DEDUP_FILTER_BITS 8   /* bits of filter a key of capacity */

struct dedup_filter {
	uint64_t (*block)[DEDUP_FILTER_WORDS];
	size_t nblocks;
	size_t n, capacity; /* keys added, and how many it is for */
	void *raw;	    /* what was allocated for the blocks */
};

static uint64_t *dedup_filter_block(const struct dedup_filter *, int64_t);

struct dedup_filter *
dedup_filter_new(size_t capacity)
{
	struct dedup_filter *f;

	f = xcalloc(1, sizeof *f);
	f->capacity = capacity;
	f->nblocks =
	    capacity * DEDUP_FILTER_BITS / (DEDUP_FILTER_WORDS * 64) + 1;
	f->block = dedup_aligned(f->nblocks * sizeof *f->block, &f->raw);
	return f;
}

void
dedup_filter_free(struct dedup_filter *f)
{
	if (f == NULL)
		return;
	free(f->raw);
	free(f);
}

/* The key's block; its bits are taken from the key mixed again. */
static uint64_t *
dedup_filter_block(const struct dedup_filter *f, int64_t key)
{
	return f->block[(uint64_t)key % f->nblocks];
}

int
dedup_filter_add(struct dedup_filter *f, int64_t key)
{
	uint64_t *b = dedup_filter_block(f, key);
	uint64_t h = dedup_fmix((uint64_t)key);

	if (f->n >= f->capacity)
		return -1;
	for (int i = 0; i < DEDUP_FILTER_PROBES; i++, h >>= 9)
		b[(h >> 6) & 7] |= 1ULL << (h & 63);
	f->n++;
	return 0;
}

int
dedup_filter_has(const struct dedup_filter *f, int64_t key)
{
	const uint64_t *b = dedup_filter_block(f, key);
	uint64_t h = dedup_fmix((uint64_t)key);

	for (int i = 0; i < DEDUP_FILTER_PROBES; i++, h >>= 9) {
		if ((b[(h >> 6) & 7] & (1ULL << (h & 63))) == 0)
			return 0;
	}
	return 1;
}
