#include <sys/mman.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dedup.h"
#include "log.h"
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
 * The window's index. Entries are numbered from 1 as they are added.
 * Most of them are settled: laid out in four tables, one per block,
 * each grouping its entries by that block's value, so that the entries
 * sharing a block with a look-up's fingerprint are consecutive. The
 * newest, added since the tables were last laid out, are recent: each
 * links to the one before it with the same block value modulo
 * DEDUP_INDEX_HEADS, on four chains a table of heads starts, newest
 * first (there are few recent entries: short chains need few heads). Once the
 * recent entries number more than DEDUP_INDEX_RECENT and a DEDUP_INDEX_SHARE-th
 * of the settled, they settle: the tables are laid out again, in place, with
 * them and without what the window has passed.
 *
 * Table 0 holds a settled entry's other 48 bits and its number, 10
 * bytes; tables 1 to 3 hold 32 bits of its fingerprint, its block 0 and
 * one other block, 4 bytes. Those 32 bits tell a story within 3 bits
 * from nearly every other (a random 32 bits come within 3 bits of a
 * given 32 about once in 800,000), and the few left are read in full in
 * table 0, under their block 0. So a look-up reads four runs of
 * consecutive memory, a few cache lines each even with a million
 * stories in the window, where a chain costs a cache line a story.
 * Each entry's cluster and first-seen time live apart, by number, in
 * chunks that expiry frees from the oldest end; the tables keep an
 * expired entry until they are next laid out, and a look-up passes
 * over it. About 34 bytes a settled story, 24 more a recent one, and
 * 1.25 MiB of start and head tables.
 */
#define DEDUP_INDEX_BLOCKS 4
#define DEDUP_INDEX_VALUES 65536 /* values of a 16-bit block */
#define DEDUP_INDEX_HEADS 16384	 /* chains of recent entries per block */
#define DEDUP_INDEX_CHUNK 4096	 /* entries per chunk */
#define DEDUP_INDEX_RECENT 8192	 /* recent entries that settle, at least */
#define DEDUP_INDEX_SHARE 32	 /* and at least one per this many settled */
#define DEDUP_INDEX_MAP 65536 /* bytes a table's mapping grows by, at least */

/* An entry of table 0: bits 16 to 63 of the fingerprint, the number. */
struct dedup_wide {
	uint16_t rest[3];
	uint16_t number[2];
};

_Static_assert(sizeof(struct dedup_wide) == 10, "a wide entry is 10 bytes");

/* A recent entry: its fingerprint, and the next on each block's chain. */
struct dedup_recent {
	uint64_t simhash;
	uint32_t next[DEDUP_INDEX_BLOCKS]; /* below split: none */
};

struct dedup_index_chunk {
	int64_t cluster[DEDUP_INDEX_CHUNK];
	uint32_t seen[DEDUP_INDEX_CHUNK]; /* first seen, UTC seconds */
};

struct dedup_index {
	/* Table i's entries of block value v: [start[i][v], start[i][v+1]). */
	uint32_t start[DEDUP_INDEX_BLOCKS][DEDUP_INDEX_VALUES + 1];
	struct dedup_wide *wide;		  /* table 0 */
	uint32_t *narrow[DEDUP_INDEX_BLOCKS - 1]; /* tables 1 to 3 */
	size_t wide_bytes, narrow_bytes[DEDUP_INDEX_BLOCKS - 1]; /* mapped */
	size_t nsettled;
	uint32_t settled_lo; /* lo when the tables were laid out */

	struct dedup_recent *recent; /* entry split + k */
	size_t recent_room;
	uint32_t split; /* the first recent entry */
	/*
	 * The newest recent entry of each block value, modulo
	 * DEDUP_INDEX_HEADS (a chain may hold other values: a walk checks);
	 * below split: none.
	 */
	uint32_t head[DEDUP_INDEX_BLOCKS][DEDUP_INDEX_HEADS];

	struct dedup_index_chunk **chunks; /* chunks[0] is chunk number base */
	size_t nchunks;
	uint32_t base;
	uint32_t lo; /* the oldest entry kept */
	uint32_t hi; /* the next entry's number */
};

/* The best story a look-up has found so far. */
struct dedup_best {
	int64_t cluster;
	int distance; /* -1: none yet */
};

static uint32_t dedup_index_recent_first(const struct dedup_index *);
static struct dedup_index_chunk *dedup_index_chunk(
    const struct dedup_index *, uint32_t, size_t *);
static uint32_t dedup_index_seconds(time_t);
static void dedup_index_clear(struct dedup_index *);
static void dedup_index_renumber(struct dedup_index *);
static void dedup_index_settle(struct dedup_index *);
static void *dedup_map(void *, size_t *, size_t);
static void dedup_unmap(void *, size_t);
static void dedup_trim(void *, size_t *, size_t);
static uint64_t dedup_wide_fp(const struct dedup_wide *, unsigned int);
static uint32_t dedup_wide_number(const struct dedup_wide *);
static uint32_t dedup_narrow(uint64_t, int);
static void dedup_index_consider(
    const struct dedup_index *, uint32_t, int, time_t, struct dedup_best *);
static void dedup_index_scan_wide(const struct dedup_index *, uint64_t,
    unsigned int, int, int, time_t, struct dedup_best *);

struct dedup_index *
dedup_index_new(void)
{
	struct dedup_index *ix;

	ix = xcalloc(1, sizeof *ix);
	ix->lo = ix->hi = ix->split = ix->settled_lo = 1;
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
		free(ix->chunks[i]);
	free(ix->chunks);
	ix->chunks = NULL;
	ix->nchunks = 0;
	ix->base = 0;
	dedup_unmap(ix->wide, ix->wide_bytes);
	ix->wide = NULL;
	ix->wide_bytes = 0;
	for (int i = 0; i < DEDUP_INDEX_BLOCKS - 1; i++) {
		dedup_unmap(ix->narrow[i], ix->narrow_bytes[i]);
		ix->narrow[i] = NULL;
		ix->narrow_bytes[i] = 0;
	}
	ix->nsettled = 0;
	memset(ix->start, 0, sizeof ix->start);
	memset(ix->head, 0, sizeof ix->head);
	free(ix->recent);
	ix->recent = NULL;
	ix->recent_room = 0;
	ix->lo = ix->hi = ix->split = ix->settled_lo = 1;
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
	const struct dedup_index_chunk *c;
	uint64_t *fp = NULL;
	int64_t *cluster = NULL;
	uint32_t *seen = NULL, e;
	size_t n = ix->hi - ix->lo, slot;

	if (n > 0) {
		fp = xreallocarray(NULL, n, sizeof *fp);
		cluster = xreallocarray(NULL, n, sizeof *cluster);
		seen = xreallocarray(NULL, n, sizeof *seen);
	}
	for (unsigned int v = 0; v < DEDUP_INDEX_VALUES; v++) {
		for (uint32_t k = ix->start[0][v]; k < ix->start[0][v + 1];
		     k++) {
			e = dedup_wide_number(&ix->wide[k]);
			if (e >= ix->lo)
				fp[e - ix->lo] = dedup_wide_fp(&ix->wide[k], v);
		}
	}
	for (e = dedup_index_recent_first(ix); e < ix->hi; e++)
		fp[e - ix->lo] = ix->recent[e - ix->split].simhash;
	for (size_t i = 0; i < n; i++) {
		c = dedup_index_chunk(ix, ix->lo + (uint32_t)i, &slot);
		cluster[i] = c->cluster[slot];
		seen[i] = c->seen[slot];
	}
	dedup_index_clear(ix);
	for (size_t i = 0; i < n; i++)
		dedup_index_add(ix, fp[i], cluster[i], (time_t)seen[i]);
	free(fp);
	free(cluster);
	free(seen);
}

/* The first recent entry the window still holds. */
static uint32_t
dedup_index_recent_first(const struct dedup_index *ix)
{
	return ix->split > ix->lo ? ix->split : ix->lo;
}

/* The chunk of entry e, and e's slot in it. */
static struct dedup_index_chunk *
dedup_index_chunk(const struct dedup_index *ix, uint32_t e, size_t *slot)
{
	*slot = e % DEDUP_INDEX_CHUNK;
	return ix->chunks[e / DEDUP_INDEX_CHUNK - ix->base];
}

/*
 * Grow the anonymous mapping p of *bytes (NULL, 0: none yet) to at
 * least want bytes, by half again at least; pages not yet written take
 * no memory, and growing never copies. Cannot fail.
 */
static void *
dedup_map(void *p, size_t *bytes, size_t want)
{
	size_t n = *bytes;
	void *q;

	if (want <= n)
		return p;
	n += n / 2;
	if (n < want)
		n = want;
	n = (n + DEDUP_INDEX_MAP - 1) / DEDUP_INDEX_MAP * DEDUP_INDEX_MAP;
	if (p == NULL)
		q = mmap(NULL, n, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	else
		q = mremap(p, *bytes, n, MREMAP_MAYMOVE);
	if (q == MAP_FAILED)
		fatal("dedup index: mapping %zu bytes", n);
	*bytes = n;
	return q;
}

/*
 * When a mapping of *bytes holds more than twice what want bytes and
 * half as many again need, the window has shrunk: keep that much, give
 * the rest back. Shrinking in place cannot fail; if it did, all is kept.
 */
static void
dedup_trim(void *p, size_t *bytes, size_t want)
{
	size_t n = want + want / 2;

	n = (n + DEDUP_INDEX_MAP - 1) / DEDUP_INDEX_MAP * DEDUP_INDEX_MAP;
	if (p == NULL || n == 0 || *bytes <= 2 * n)
		return;
	if (mremap(p, *bytes, n, 0) != MAP_FAILED)
		*bytes = n;
}

static void
dedup_unmap(void *p, size_t bytes)
{
	if (p != NULL)
		munmap(p, bytes);
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

/* The fingerprint of a wide entry under block value v. */
static uint64_t
dedup_wide_fp(const struct dedup_wide *w, unsigned int v)
{
	return (uint64_t)w->rest[0] << 16 | (uint64_t)w->rest[1] << 32 |
	    (uint64_t)w->rest[2] << 48 | v;
}

static uint32_t
dedup_wide_number(const struct dedup_wide *w)
{
	return (uint32_t)w->number[0] | (uint32_t)w->number[1] << 16;
}

/* What table i (1..3) keeps of a fingerprint: block 0, then another. */
static uint32_t
dedup_narrow(uint64_t fp, int i)
{
	return dedup_block(fp, 0) << 16 | dedup_block(fp, i == 1 ? 2 : 1);
}

void
dedup_index_add(struct dedup_index *ix, uint64_t simhash, int64_t cluster,
    time_t first_seen)
{
	struct dedup_index_chunk *c;
	struct dedup_recent *r;
	unsigned int b;
	uint32_t e;
	size_t slot;

	if (ix->hi == UINT32_MAX)
		dedup_index_renumber(ix);
	e = ix->hi++;
	if (e / DEDUP_INDEX_CHUNK - ix->base >= ix->nchunks) {
		if (ix->nchunks == 0)
			ix->base = e / DEDUP_INDEX_CHUNK;
		ix->chunks = xreallocarray(
		    ix->chunks, ix->nchunks + 1, sizeof *ix->chunks);
		ix->chunks[ix->nchunks++] = xmalloc(sizeof *c);
	}
	c = dedup_index_chunk(ix, e, &slot);
	c->cluster[slot] = cluster;
	c->seen[slot] = dedup_index_seconds(first_seen);
	if (e - ix->split >= ix->recent_room) {
		ix->recent_room =
		    ix->recent_room == 0 ? 1024 : ix->recent_room * 2;
		ix->recent = xreallocarray(
		    ix->recent, ix->recent_room, sizeof *ix->recent);
	}
	r = &ix->recent[e - ix->split];
	r->simhash = simhash;
	for (int i = 0; i < DEDUP_INDEX_BLOCKS; i++) {
		b = dedup_block(simhash, i);
		r->next[i] = ix->head[i][b % DEDUP_INDEX_HEADS];
		ix->head[i][b % DEDUP_INDEX_HEADS] = e;
	}
	if (ix->hi - ix->split >
	    DEDUP_INDEX_RECENT + ix->nsettled / DEDUP_INDEX_SHARE)
		dedup_index_settle(ix);
}

/*
 * Lay the tables out again: table 0 drops what expired and takes the
 * recent entries in, in place, and tables 1 to 3 are written from it.
 * Cannot fail.
 */
static void
dedup_index_settle(struct dedup_index *ix)
{
	uint32_t *count, *order, prev, end, below, len, nv, e;
	size_t n = 0, nrecent = 0;
	struct dedup_wide *w;
	uint64_t fp;
	unsigned int b;

	/* Table 0 keeps its entries not yet expired. */
	prev = ix->start[0][0];
	for (unsigned int v = 0; v < DEDUP_INDEX_VALUES; v++) {
		end = ix->start[0][v + 1];
		ix->start[0][v] = (uint32_t)n;
		for (uint32_t k = prev; k < end; k++)
			if (dedup_wide_number(&ix->wide[k]) >= ix->lo)
				ix->wide[n++] = ix->wide[k];
		prev = end;
	}
	ix->start[0][DEDUP_INDEX_VALUES] = (uint32_t)n;

	/* The recent entries kept, in order of block 0. */
	count = xcalloc(DEDUP_INDEX_VALUES + 1, sizeof *count);
	for (e = dedup_index_recent_first(ix); e < ix->hi; e++) {
		count[dedup_block(ix->recent[e - ix->split].simhash, 0) + 1]++;
		nrecent++;
	}
	for (unsigned int v = 0; v < DEDUP_INDEX_VALUES; v++)
		count[v + 1] += count[v];
	order = xreallocarray(NULL, nrecent > 0 ? nrecent : 1, sizeof *order);
	for (e = dedup_index_recent_first(ix); e < ix->hi; e++)
		order[count[dedup_block(
		    ix->recent[e - ix->split].simhash, 0)]++] = e;

	/*
	 * From the last value down, each value's entries move up by the
	 * recent ones of the values below it, and its recent ones follow
	 * them: what moves never lands on what has yet to.
	 */
	ix->wide = dedup_map(
	    ix->wide, &ix->wide_bytes, (n + nrecent) * sizeof *ix->wide);
	below = (uint32_t)nrecent;
	for (unsigned int v = DEDUP_INDEX_VALUES; v-- > 0;) {
		/* count[v] is now the end of v's recent ones in order. */
		len = ix->start[0][v + 1] - ix->start[0][v];
		nv = count[v] - (v > 0 ? count[v - 1] : 0);
		below -= nv;
		memmove(&ix->wide[ix->start[0][v] + below],
		    &ix->wide[ix->start[0][v]], len * sizeof *ix->wide);
		ix->start[0][v + 1] += below + nv;
		w = &ix->wide[ix->start[0][v] + below + len];
		for (uint32_t k = below; k < count[v]; k++, w++) {
			fp = ix->recent[order[k] - ix->split].simhash;
			w->rest[0] = (uint16_t)(fp >> 16);
			w->rest[1] = (uint16_t)(fp >> 32);
			w->rest[2] = (uint16_t)(fp >> 48);
			w->number[0] = (uint16_t)order[k];
			w->number[1] = (uint16_t)(order[k] >> 16);
		}
	}
	n += nrecent;
	free(order);

	/* Tables 1 to 3, from table 0. */
	for (int i = 1; i < DEDUP_INDEX_BLOCKS; i++) {
		memset(count, 0, (DEDUP_INDEX_VALUES + 1) * sizeof *count);
		for (unsigned int v = 0; v < DEDUP_INDEX_VALUES; v++)
			for (uint32_t k = ix->start[0][v];
			     k < ix->start[0][v + 1]; k++)
				count[dedup_block(
				    dedup_wide_fp(&ix->wide[k], v), i)]++;
		ix->start[i][0] = 0;
		for (unsigned int v = 0; v < DEDUP_INDEX_VALUES; v++) {
			ix->start[i][v + 1] = ix->start[i][v] + count[v];
			count[v] = ix->start[i][v];
		}
		ix->narrow[i - 1] = dedup_map(ix->narrow[i - 1],
		    &ix->narrow_bytes[i - 1], n * sizeof *ix->narrow[i - 1]);
		for (unsigned int v = 0; v < DEDUP_INDEX_VALUES; v++) {
			for (uint32_t k = ix->start[0][v];
			     k < ix->start[0][v + 1]; k++) {
				fp = dedup_wide_fp(&ix->wide[k], v);
				b = dedup_block(fp, i);
				ix->narrow[i - 1][count[b]++] =
				    dedup_narrow(fp, i);
			}
		}
	}
	free(count);
	dedup_trim(ix->wide, &ix->wide_bytes, n * sizeof *ix->wide);
	for (int i = 0; i < DEDUP_INDEX_BLOCKS - 1; i++)
		dedup_trim(ix->narrow[i], &ix->narrow_bytes[i],
		    n * sizeof *ix->narrow[i]);
	ix->nsettled = n;
	ix->settled_lo = ix->lo;
	ix->split = ix->hi; /* every head is below it now */
}

void
dedup_index_expire(struct dedup_index *ix, time_t before)
{
	struct dedup_index_chunk *c;
	size_t slot, gone;
	uint32_t dead;

	while (ix->lo < ix->hi) {
		c = dedup_index_chunk(ix, ix->lo, &slot);
		if ((time_t)c->seen[slot] >= before)
			break;
		ix->lo++;
	}
	/* Free the chunks wholly below lo; look-ups pass below it. */
	gone = ix->lo / DEDUP_INDEX_CHUNK - ix->base;
	if (gone > ix->nchunks)
		gone = ix->nchunks;
	if (gone > 0) {
		for (size_t i = 0; i < gone; i++)
			free(ix->chunks[i]);
		memmove(ix->chunks, ix->chunks + gone,
		    (ix->nchunks - gone) * sizeof *ix->chunks);
		ix->nchunks -= gone;
		ix->base += (uint32_t)gone;
	}
	/* When half the tables have expired, lay them out again. */
	dead = (ix->lo < ix->split ? ix->lo : ix->split) - ix->settled_lo;
	if (ix->nsettled > 0 && dead > ix->nsettled / 2)
		dedup_index_settle(ix);
}

size_t
dedup_index_count(const struct dedup_index *ix)
{
	return ix->hi - ix->lo;
}

/* Entry e is d bits from the look-up: is it the best so far? */
static void
dedup_index_consider(const struct dedup_index *ix, uint32_t e, int d,
    time_t since, struct dedup_best *best)
{
	const struct dedup_index_chunk *c;
	size_t slot;

	if (e < ix->lo || e >= ix->hi)
		return;
	c = dedup_index_chunk(ix, e, &slot);
	if ((time_t)c->seen[slot] < since)
		return;
	if (best->distance == -1 || d < best->distance ||
	    (d == best->distance && c->cluster[slot] < best->cluster)) {
		best->distance = d;
		best->cluster = c->cluster[slot];
	}
}

/*
 * Read table 0's entries of block value v in full: those within
 * max_distance of simhash (and, share > 0, sharing its block share).
 */
static void
dedup_index_scan_wide(const struct dedup_index *ix, uint64_t simhash,
    unsigned int v, int share, int max_distance, time_t since,
    struct dedup_best *best)
{
	const struct dedup_wide *w;
	uint64_t fp;
	int d;

	for (uint32_t k = ix->start[0][v]; k < ix->start[0][v + 1]; k++) {
		w = &ix->wide[k];
		fp = dedup_wide_fp(w, v);
		if (share > 0 &&
		    dedup_block(fp, share) != dedup_block(simhash, share))
			continue;
		d = __builtin_popcountll(simhash ^ fp);
		if (d <= max_distance)
			dedup_index_consider(
			    ix, dedup_wide_number(w), d, since, best);
	}
}

int
dedup_index_find(const struct dedup_index *ix, uint64_t simhash,
    int max_distance, time_t since, int64_t *cluster, int *distance)
{
	struct dedup_best best = { 0, -1 };
	const uint32_t *start[DEDUP_INDEX_BLOCKS], *narrow;
	const struct dedup_recent *r;
	unsigned int v[DEDUP_INDEX_BLOCKS];
	uint32_t e[DEDUP_INDEX_BLOCKS], want;
	int live, d;

	/*
	 * Ask for every line the look-up will read before reading any, so
	 * that the memory fetches them side by side: where the four runs
	 * start and the four chains' heads, then the runs and the newest
	 * recent entries.
	 */
	for (int i = 0; i < DEDUP_INDEX_BLOCKS; i++) {
		v[i] = dedup_block(simhash, i);
		start[i] = &ix->start[i][v[i]];
		__builtin_prefetch(start[i]);
		__builtin_prefetch(&ix->head[i][v[i] % DEDUP_INDEX_HEADS]);
	}
	for (int i = 0; i < DEDUP_INDEX_BLOCKS; i++) {
		if (ix->nsettled > 0)
			__builtin_prefetch(i == 0 ?
				(const void *)&ix->wide[*start[i]] :
				(const void *)&ix->narrow[i - 1][*start[i]]);
		e[i] = ix->head[i][v[i] % DEDUP_INDEX_HEADS];
		if (e[i] >= ix->split)
			__builtin_prefetch(&ix->recent[e[i] - ix->split]);
	}

	/* The settled: table 0 in full, tables 1 to 3 by their 32 bits. */
	if (ix->nsettled > 0) {
		dedup_index_scan_wide(
		    ix, simhash, v[0], 0, max_distance, since, &best);
		for (int i = 1; i < DEDUP_INDEX_BLOCKS; i++) {
			narrow = ix->narrow[i - 1];
			want = dedup_narrow(simhash, i);
			for (uint32_t k = start[i][0]; k < start[i][1]; k++) {
				if (__builtin_popcount(narrow[k] ^ want) >
				    max_distance)
					continue;
				if (narrow[k] >> 16 != v[0])
					dedup_index_scan_wide(ix, simhash,
					    narrow[k] >> 16, i, max_distance,
					    since, &best);
			}
		}
	}
	/*
	 * The recent: four chains side by side, newest first; a chain also
	 * holds entries of other block values, which are passed over.
	 */
	do {
		live = 0;
		for (int i = 0; i < DEDUP_INDEX_BLOCKS; i++) {
			if (e[i] < ix->split)
				continue;
			live = 1;
			r = &ix->recent[e[i] - ix->split];
			if (dedup_block(r->simhash, i) == v[i] &&
			    (d = __builtin_popcountll(simhash ^ r->simhash)) <=
				max_distance)
				dedup_index_consider(ix, e[i], d, since, &best);
			e[i] = r->next[i];
		}
	} while (live);
	*cluster = best.cluster;
	*distance = best.distance;
	return best.distance != -1;
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
#define DEDUP_FILTER_LINE 64  /* bytes of a cache line */

/*
 * Allocate bytes (zeroed) starting on a cache line, which malloc does
 * not promise; *raw is what to free. Cannot fail.
 */
static void *
dedup_aligned(size_t bytes, void **raw)
{
	*raw = xcalloc(1, bytes + DEDUP_FILTER_LINE - 1);
	return (void *)(((uintptr_t)*raw + DEDUP_FILTER_LINE - 1) &
	    ~(uintptr_t)(DEDUP_FILTER_LINE - 1));
}

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
