#include <sys/resource.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "dedup.h"
#include "store.h"
#include "url.h"
#include "xmalloc.h"

/*
 * The near-duplicate benchmark harness, built and run by
 * scripts/bench/dedup: generate stories, about a tenth of them edited
 * copies of recent ones, and put each through what the pipeline does
 * with a new item (store_story_known, url_canonical, store_story_seen,
 * dedup_simhash, store_cluster_find, store_story_add), 100 to a
 * transaction, into a fresh database.
 *
 *	dedup_bench [-n STORIES] [-s SEGMENT] [-l LOOKUPS] [-c AT,...]
 *	    [-t SECONDS] DIR
 *
 * Every SEGMENT stories it prints the segment's time; at each AT it
 * also times LOOKUPS calls of store_cluster_find alone. With -t, story
 * i is first seen SECONDS after story i - 1, as if the log had grown
 * over that time, rather than now. DIR gets the database. The output is "key
 *value" lines for the script to read. Exit status: 0, or 2 on error.
 */

#define DEDUP_BENCH_FEEDS 200	    /* feeds the stories come from */
#define DEDUP_BENCH_BATCH 100	    /* stories per transaction */
#define DEDUP_BENCH_VOCABULARY 4000 /* distinct words */
#define DEDUP_BENCH_COPY_SHARE 10   /* percent of stories that copy one */
#define DEDUP_BENCH_RECENT 5000	    /* a copy's source: a recent original */
#define DEDUP_BENCH_WINDOW 604800   /* seconds, dedup_window's default */
#define DEDUP_BENCH_TITLE_WORDS 8   /* to 14 */
#define DEDUP_BENCH_TEXT_WORDS 60   /* to 120 */
#define DEDUP_BENCH_MAX_WORDS 128   /* of a title or text */
#define DEDUP_BENCH_PAIRS 100000    /* unrelated pairs sampled */
#define DEDUP_BENCH_SHOW 10	    /* false joins shown */
#define DEDUP_BENCH_LOOKUP_URL "https://lookup.example/q/"
#define DEDUP_BENCH_PUBLISHED 1735689600 /* UTC seconds of the first */
#define DEDUP_BENCH_SEED 0x6665656477617463ULL
#define DEDUP_BENCH_BLOCKS 65536 /* values of a fingerprint's 16-bit block */

/* What a story is, by the generator: an original or a kind of copy. */
enum dedup_bench_kind {
	DEDUP_BENCH_ORIGINAL,
	DEDUP_BENCH_SAME_URL, /* the source's link with tracking parameters */
	DEDUP_BENCH_NEW_URL,  /* another link, title and end edited */
	DEDUP_BENCH_LEAD,     /* likewise, and a word of the lead changed */
	DEDUP_BENCH_NKINDS
};

static const char *const dedup_bench_kind_names[DEDUP_BENCH_NKINDS] = {
	"original", "same-url", "new-url", "lead-edit"
};

/* Of the copies, in percent: same-url, new-url, lead-edit. */
static const int dedup_bench_kind_share[DEDUP_BENCH_NKINDS] = { 0, 40, 40, 20 };

/* The commonest words, first by rank; the rest are made up. */
static const char *const dedup_bench_stopwords[] = { "the", "of", "and", "to",
	"a", "in", "that", "is", "for", "on", "said", "with", "was", "as", "it",
	"by", "at", "from", "he", "his", "be", "have", "has", "are", "but",
	"not", "an", "this", "they", "who", "were", "been", "had", "will",
	"its", "their", "which", "would", "also", "more", "after", "one",
	"about", "we", "new", "two", "up", "there", "than", "or", "first",
	"over", "into", "last", "year", "can", "when", "out", "all", "years",
	"could", "other", "people", "she", "her", "some", "no", "what", "time",
	"only", "just", "most", "government", "minister", "police", "court",
	"market", "election", "president", "city", "country", "week", "report",
	"officials", "company", "percent", "million", "billion" };

static const char *const dedup_bench_onset[] = { "b", "br", "c", "ch", "cl",
	"cr", "d", "dr", "f", "fl", "fr", "g", "gr", "h", "j", "k", "l", "m",
	"n", "p", "pl", "pr", "r", "s", "sh", "sl", "sp", "st", "str", "t",
	"th", "tr", "v", "w", "wh", "z", "", "", "" };
static const char *const dedup_bench_vowel[] = { "a", "e", "i", "o", "u", "ea",
	"ou", "ai", "io", "y" };
static const char *const dedup_bench_coda[] = { "n", "r", "s", "t", "l", "m",
	"nd", "nt", "st", "ck", "rt", "ng", "", "", "", "", "" };
static const char *const dedup_bench_suffix[] = { "s", "ed", "ing", "er", "ers",
	"tion", "ment", "ity", "al", "ist", "ive", "ly", "ness", "", "", "", "",
	"", "", "", "", "", "", "" };

/* The steps of a story through the pipeline, timed apart. */
enum dedup_bench_step {
	DEDUP_BENCH_KNOWN,     /* content hash, store_story_known */
	DEDUP_BENCH_CANONICAL, /* url_canonical */
	DEDUP_BENCH_SEEN,      /* store_story_seen */
	DEDUP_BENCH_SIMHASH,   /* dedup_simhash */
	DEDUP_BENCH_FIND,      /* store_cluster_find */
	DEDUP_BENCH_ADD,       /* store_story_add */
	DEDUP_BENCH_COMMIT,    /* store_begin and store_commit */
	DEDUP_BENCH_NSTEPS
};

static const char *const dedup_bench_step_names[DEDUP_BENCH_NSTEPS] = { "known",
	"canonical", "seen", "simhash", "cluster_find", "add", "begin_commit" };

/* What syndication adds to the end of a story. */
static const char *const dedup_bench_boilerplate[] = {
	"Read more at Host News.",
	"This article was first published by our partners.",
	"Follow us on social media for the latest updates.",
	"Copyright 2025 The Associated Wire. All rights reserved.",
	"Sign up for our newsletter to get the top stories every morning.",
	"Additional reporting by the news desk.",
	"This story has been updated with new information.",
	"The post appeared first on the publisher's website.",
};

/* What syndication does to a headline. */
enum dedup_bench_retitle {
	DEDUP_BENCH_EXCLUSIVE, /* "Exclusive: " before it */
	DEDUP_BENCH_SITE,      /* " - HostN News" after it */
	DEDUP_BENCH_UPDATE,    /* "Update:" before it */
	DEDUP_BENCH_WORD,      /* one word changed */
	DEDUP_BENCH_NRETITLES
};

/* Tracking parameters a copy's link carries. */
static const char *const dedup_bench_tracking[] = {
	"?utm_source=rss&utm_medium=feed&utm_campaign=c%u",
	"?fbclid=IwAR%u",
	"?ref=aggregator&utm_source=feed%u",
};

/* A story as the benchmark knows it: the truth and what the store said. */
struct dedup_bench_story {
	uint64_t simhash;
	int64_t id;	 /* in the store, 0 = not added (seen in its feed) */
	int64_t cluster; /* joined, 0 = none */
	int32_t source;	 /* index of the story copied, -1 = none */
	uint8_t feed;
	uint8_t kind;	 /* enum dedup_bench_kind */
	int8_t distance; /* as store_cluster_find said, -1 = by URL */
};

/* A title or text as word ranks and what follows each word. */
struct dedup_bench_words {
	uint16_t w[DEDUP_BENCH_MAX_WORDS];
	char after[DEDUP_BENCH_MAX_WORDS]; /* '\0', ',' or '.' */
	int n;
};

struct dedup_bench_buf {
	char *s;
	size_t len;
	size_t cap;
};

/* One story of a batch, rendered. */
struct dedup_bench_item {
	struct dedup_bench_buf title;
	struct dedup_bench_buf text;
	struct dedup_bench_buf link;
	struct dedup_bench_buf key; /* "id:" and the guid */
	int feed;
};

struct dedup_bench {
	struct store *st;
	uint32_t n;	  /* stories to insert */
	uint32_t segment; /* stories per row */
	uint32_t *at;	  /* look-up points, in stored stories */
	uint32_t nat;
	int nlookups;	/* per point */
	time_t spacing; /* seconds between stories first seen, 0 = all now */
	int64_t feed_ids[DEDUP_BENCH_FEEDS];
	const char *words[DEDUP_BENCH_VOCABULARY];
	char *pool; /* the made-up words */
	double cum[DEDUP_BENCH_VOCABULARY];
	struct dedup_bench_story *stories;
	uint32_t nstories;			/* generated so far */
	uint32_t recent[DEDUP_BENCH_RECENT];	/* ring of originals */
	uint32_t nrecent;			/* originals, ever */
	uint32_t (*blocks)[DEDUP_BENCH_BLOCKS]; /* stored, by block */
	struct dedup_bench_item batch[DEDUP_BENCH_BATCH];
	uint64_t reissued; /* seen in its feed */
	uint64_t joined;   /* joined a cluster */
	uint64_t by_url;
	uint64_t by_distance[DEDUP_MAX_DISTANCE + 1];
	double step[DEDUP_BENCH_NSTEPS]; /* seconds in each */
	double insert_seconds;		 /* in transactions, all told */
	double insert_cpu;		 /* of this thread, in them */
	double gen_seconds;		 /* making stories, outside them */
};

static const char *dedup_bench_options(struct dedup_bench *, int, char **);
static void dedup_bench_run(struct dedup_bench *);
static double dedup_bench_batch(struct dedup_bench *, uint32_t, uint32_t);
static void dedup_bench_results(const struct dedup_bench *);
static void dedup_bench_free(struct dedup_bench *);
static void dedup_bench_usage(void) __attribute__((__noreturn__));
static void dedup_bench_die(const char *, ...)
    __attribute__((__noreturn__, __format__(__printf__, 1, 2)));
static uint64_t dedup_bench_rand(uint64_t *);
static uint32_t dedup_bench_below(uint64_t *, uint32_t);
static void dedup_bench_puts(struct dedup_bench_buf *, const char *);
static void dedup_bench_printf(struct dedup_bench_buf *, const char *, ...)
    __attribute__((__format__(__printf__, 2, 3)));
static void dedup_bench_vocabulary(struct dedup_bench *);
static uint16_t dedup_bench_word(const struct dedup_bench *, uint64_t *);
static void dedup_bench_draw(const struct dedup_bench *, uint64_t *,
    struct dedup_bench_words *, int, int, int);
static void dedup_bench_render(const struct dedup_bench *,
    struct dedup_bench_buf *, const struct dedup_bench_words *);
static void dedup_bench_feeds(struct dedup_bench *);
static void dedup_bench_make(
    struct dedup_bench *, uint32_t, struct dedup_bench_item *);
static void dedup_bench_compose(const struct dedup_bench *, uint32_t,
    struct dedup_bench_words *, struct dedup_bench_words *, int *);
static void dedup_bench_copy(
    struct dedup_bench *, uint32_t, uint64_t *, struct dedup_bench_item *);
static void dedup_bench_retitle(const struct dedup_bench *, uint64_t *,
    struct dedup_bench_item *, struct dedup_bench_words *);
static void dedup_bench_pipeline(
    struct dedup_bench *, uint32_t, struct dedup_bench_item *, double *);
static uint64_t dedup_bench_hash(const char *, const char *);
static void dedup_bench_lap(struct dedup_bench *, int, double *);
static void dedup_bench_record(
    struct dedup_bench *, uint32_t, uint64_t, int64_t, int64_t, int);
static void dedup_bench_lookups(struct dedup_bench *, int);
static uint64_t dedup_bench_probes(
    const struct dedup_bench *, int, uint64_t *, char **);
static void dedup_bench_truth(const struct dedup_bench *);
static uint32_t *dedup_bench_byid(const struct dedup_bench *);
static uint32_t dedup_bench_root(const struct dedup_bench *, uint32_t);
static void dedup_bench_false_join(
    const struct dedup_bench *, uint32_t, uint32_t);
static void dedup_bench_pairs(const struct dedup_bench *);
static void dedup_bench_size(const char *);
static long long dedup_bench_quantile(const int64_t *, int, int, int, int);
static int dedup_bench_cmp(const void *, const void *);
static time_t dedup_bench_clock(const struct dedup_bench *, uint32_t);
static double dedup_bench_cpu(int);
static double dedup_bench_now(void);

int
main(int argc, char **argv)
{
	struct store_checkpoints ck;
	struct dedup_bench *db;
	char *path, *cause;

	db = xcalloc(1, sizeof *db);
	xasprintf(&path, "%s/bench.db", dedup_bench_options(db, argc, argv));
	db->stories = xcalloc(db->n, sizeof *db->stories);
	db->blocks = xcalloc(4, sizeof *db->blocks);
	dedup_bench_vocabulary(db);
	if ((db->st = store_open(path, &cause)) == NULL)
		dedup_bench_die("%s", cause);
	dedup_bench_feeds(db);
	printf("stories %u\nsegment %u\nlookups %d\nfeeds %d\nbatch %d\n",
	    db->n, db->segment, db->nlookups, DEDUP_BENCH_FEEDS,
	    DEDUP_BENCH_BATCH);
	fflush(stdout);

	dedup_bench_run(db);
	dedup_bench_results(db);
	store_checkpoint_stats(db->st, &ck);
	printf("checkpoints %llu %llu %llu %.6f\n",
	    (unsigned long long)ck.by_thread, (unsigned long long)ck.finished,
	    (unsigned long long)ck.alone, ck.seconds);
	store_close(db->st);
	/* What the store's other threads (its full-text index) used. */
	printf("other_threads_cpu %.6f\nprocess_cpu %.6f\n",
	    dedup_bench_cpu(RUSAGE_SELF) - dedup_bench_cpu(RUSAGE_THREAD),
	    dedup_bench_cpu(RUSAGE_SELF));
	dedup_bench_size(path);

	dedup_bench_free(db);
	free(path);
	return 0;
}

/* Read the options into db; return the directory. */
static const char *
dedup_bench_options(struct dedup_bench *db, int argc, char **argv)
{
	char *p, *end;
	long long v;
	int ch;

	db->n = 1000000;
	db->nlookups = 2000;
	while ((ch = getopt(argc, argv, "n:s:l:c:t:")) != -1) {
		if (ch == 'c') {
			for (p = optarg; *p != '\0'; p = end + (*end == ',')) {
				v = strtoll(p, &end, 10);
				if (end == p || v < 1 || v > 100000000)
					dedup_bench_usage();
				db->at = xreallocarray(
				    db->at, db->nat + 1, sizeof *db->at);
				db->at[db->nat++] = (uint32_t)v;
			}
			continue;
		}
		if (ch != 'n' && ch != 's' && ch != 'l' && ch != 't')
			dedup_bench_usage();
		v = strtoll(optarg, &end, 10);
		if (*end != '\0' || v < 1 || v > 100000000)
			dedup_bench_usage();
		if (ch == 'n')
			db->n = (uint32_t)v;
		else if (ch == 's')
			db->segment = (uint32_t)v;
		else if (ch == 't')
			db->spacing = (time_t)v;
		else
			db->nlookups = (int)v;
	}
	if (argc - optind != 1)
		dedup_bench_usage();
	if (db->segment == 0)
		db->segment = db->n < 10 ? 1 : db->n / 10;
	return argv[optind];
}

/*
 * Insert every story, a batch at a time. At each segment's end and
 * look-up point, time the look-ups (if it is one) and print the row.
 */
static void
dedup_bench_run(struct dedup_bench *db)
{
	uint32_t i, m, j, next, seg_start = 0;
	uint64_t seg_joined = 0;
	double seg_seconds = 0;

	for (i = 0; i < db->n; i += m) {
		next = (i / db->segment + 1) * db->segment;
		for (j = 0; j < db->nat; j++) {
			if (db->at[j] > i && db->at[j] < next)
				next = db->at[j];
		}
		if (next > db->n)
			next = db->n;
		m = next - i < DEDUP_BENCH_BATCH ? next - i : DEDUP_BENCH_BATCH;
		seg_seconds += dedup_bench_batch(db, i, m);
		if (i + m != next)
			continue;
		for (j = 0; j < db->nat; j++) {
			if (db->at[j] == next)
				dedup_bench_lookups(db, db->nlookups);
		}
		printf("row %u stories %u seconds %.6f joined %llu\n", next,
		    next - seg_start, seg_seconds,
		    (unsigned long long)(db->joined - seg_joined));
		fflush(stdout);
		db->insert_seconds += seg_seconds;
		seg_seconds = 0;
		seg_start = next;
		seg_joined = db->joined;
	}
}

/*
 * Make stories i to i + m - 1, then put them through the pipeline in
 * one transaction, as one fetch; return the seconds of the latter.
 */
static double
dedup_bench_batch(struct dedup_bench *db, uint32_t i, uint32_t m)
{
	double t0, t, cpu;
	char *cause;
	uint32_t j;

	t0 = dedup_bench_now();
	for (j = 0; j < m; j++)
		dedup_bench_make(db, i + j, &db->batch[j]);
	db->gen_seconds += dedup_bench_now() - t0;

	cpu = dedup_bench_cpu(RUSAGE_THREAD);
	t = t0 = dedup_bench_now();
	if (store_begin(db->st, &cause) == -1)
		dedup_bench_die("%s", cause);
	dedup_bench_lap(db, DEDUP_BENCH_COMMIT, &t);
	for (j = 0; j < m; j++)
		dedup_bench_pipeline(db, i + j, &db->batch[j], &t);
	if (store_commit(db->st, &cause) == -1)
		dedup_bench_die("%s", cause);
	dedup_bench_lap(db, DEDUP_BENCH_COMMIT, &t);
	db->insert_cpu += dedup_bench_cpu(RUSAGE_THREAD) - cpu;
	db->nstories = i + m;
	return t - t0;
}

/* Print the totals, the time by step and the truth. */
static void
dedup_bench_results(const struct dedup_bench *db)
{
	int k;

	printf("insert_seconds %.6f\ninsert_cpu %.6f\ngen_seconds %.6f\n"
	       "reissued %llu\njoined %llu\nby_url %llu\n",
	    db->insert_seconds, db->insert_cpu, db->gen_seconds,
	    (unsigned long long)db->reissued, (unsigned long long)db->joined,
	    (unsigned long long)db->by_url);
	for (k = 0; k <= DEDUP_MAX_DISTANCE; k++)
		printf("by_distance %d %llu\n", k,
		    (unsigned long long)db->by_distance[k]);
	for (k = 0; k < DEDUP_BENCH_NSTEPS; k++)
		printf(
		    "step %s %.6f\n", dedup_bench_step_names[k], db->step[k]);
	dedup_bench_truth(db);
	dedup_bench_pairs(db);
}

static void
dedup_bench_free(struct dedup_bench *db)
{
	for (int j = 0; j < DEDUP_BENCH_BATCH; j++) {
		free(db->batch[j].title.s);
		free(db->batch[j].text.s);
		free(db->batch[j].link.s);
		free(db->batch[j].key.s);
	}
	free(db->pool);
	free(db->blocks);
	free(db->stories);
	free(db->at);
	free(db);
}

static void
dedup_bench_usage(void)
{
	fputs("usage: dedup_bench [-n stories] [-s segment] [-l lookups] "
	      "[-c at,...] [-t seconds] dir\n",
	    stderr);
	exit(2);
}

static void
dedup_bench_die(const char *fmt, ...)
{
	va_list ap;

	fputs("dedup_bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* splitmix64: one stream per seed, so any story can be made again. */
static uint64_t
dedup_bench_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint32_t
dedup_bench_below(uint64_t *s, uint32_t n)
{
	return (uint32_t)(dedup_bench_rand(s) % n);
}

static void
dedup_bench_puts(struct dedup_bench_buf *b, const char *s)
{
	size_t len = strlen(s);

	if (b->len + len + 1 > b->cap) {
		b->cap = (b->len + len + 1) * 2;
		b->s = xreallocarray(b->s, b->cap, 1);
	}
	memcpy(b->s + b->len, s, len + 1);
	b->len += len;
}

static void
dedup_bench_printf(struct dedup_bench_buf *b, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof tmp)
		dedup_bench_die("printf: %s: too long", fmt);
	dedup_bench_puts(b, tmp);
}

/*
 * The words, commonest first, and their cumulative weights: rank r
 * weighs 1 / (r + 2.7) (Zipf, as in scripts/bench/match). Made-up
 * words may repeat; that only makes a word commoner.
 */
static void
dedup_bench_vocabulary(struct dedup_bench *db)
{
	const size_t nstop =
	    sizeof dedup_bench_stopwords / sizeof dedup_bench_stopwords[0];
	uint64_t r = DEDUP_BENCH_SEED;
	char word[64], *p;
	double sum = 0;
	size_t i, s, nsyl;

	db->pool = p = xmalloc(DEDUP_BENCH_VOCABULARY * sizeof word);
	for (i = 0; i < DEDUP_BENCH_VOCABULARY; i++) {
		if (i < nstop) {
			db->words[i] = dedup_bench_stopwords[i];
			continue;
		}
		word[0] = '\0';
		nsyl = 1 + dedup_bench_below(&r, 3);
		for (s = 0; s < nsyl; s++) {
			strcat(word,
			    dedup_bench_onset[dedup_bench_below(&r,
				sizeof dedup_bench_onset / sizeof(char *))]);
			strcat(word,
			    dedup_bench_vowel[dedup_bench_below(&r,
				sizeof dedup_bench_vowel / sizeof(char *))]);
			strcat(word,
			    dedup_bench_coda[dedup_bench_below(
				&r, sizeof dedup_bench_coda / sizeof(char *))]);
		}
		strcat(word,
		    dedup_bench_suffix[dedup_bench_below(
			&r, sizeof dedup_bench_suffix / sizeof(char *))]);
		memcpy(p, word, strlen(word) + 1);
		db->words[i] = p;
		p += strlen(word) + 1;
	}
	for (i = 0; i < DEDUP_BENCH_VOCABULARY; i++) {
		sum += 1.0 / ((double)i + 2.7);
		db->cum[i] = sum;
	}
}

/* Draw a word's rank by its weight. */
static uint16_t
dedup_bench_word(const struct dedup_bench *db, uint64_t *r)
{
	double u;
	size_t lo = 0, hi = DEDUP_BENCH_VOCABULARY - 1, mid;

	u = (double)(dedup_bench_rand(r) >> 11) / 9007199254740992.0 *
	    db->cum[DEDUP_BENCH_VOCABULARY - 1];
	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (db->cum[mid] <= u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (uint16_t)lo;
}

/*
 * Draw lo to hi words. A text (is_text) comes in sentences of 6 to 20
 * words, with a comma in some.
 */
static void
dedup_bench_draw(const struct dedup_bench *db, uint64_t *r,
    struct dedup_bench_words *w, int lo, int hi, int is_text)
{
	int i, left = 0;

	w->n = lo + (int)dedup_bench_below(r, (uint32_t)(hi - lo + 1));
	for (i = 0; i < w->n; i++) {
		w->w[i] = dedup_bench_word(db, r);
		w->after[i] = '\0';
		if (!is_text)
			continue;
		if (left == 0)
			left = 6 + (int)dedup_bench_below(r, 15);
		if (--left == 0 || i == w->n - 1)
			w->after[i] = '.';
		else if (left > 2 && dedup_bench_below(r, 12) == 0)
			w->after[i] = ',';
	}
}

/* Append words to b: a capital after a full stop, spaces between. */
static void
dedup_bench_render(const struct dedup_bench *db, struct dedup_bench_buf *b,
    const struct dedup_bench_words *w)
{
	char word[64], punct[2] = { 0, 0 };
	int i, capital = 1;

	for (i = 0; i < w->n; i++) {
		if (i > 0 || b->len > 0)
			dedup_bench_puts(b, " ");
		snprintf(word, sizeof word, "%s", db->words[w->w[i]]);
		if (capital)
			word[0] = (char)toupper((unsigned char)word[0]);
		dedup_bench_puts(b, word);
		punct[0] = w->after[i];
		dedup_bench_puts(b, punct);
		capital = w->after[i] == '.';
	}
}

/* Create the feeds, as the daemon does when it reads its configuration. */
static void
dedup_bench_feeds(struct dedup_bench *db)
{
	struct store_feed f;
	char name[32], url[64], *cause;
	int i;

	if (store_begin(db->st, &cause) == -1)
		dedup_bench_die("%s", cause);
	for (i = 0; i < DEDUP_BENCH_FEEDS; i++) {
		snprintf(name, sizeof name, "feed%03d", i);
		snprintf(url, sizeof url, "https://host%d.example/feed.xml", i);
		if (store_feed_get(db->st, name, url, &f, &cause) == -1)
			dedup_bench_die("%s", cause);
		db->feed_ids[i] = f.id;
		store_feed_clear(&f);
	}
	if (store_commit(db->st, &cause) == -1)
		dedup_bench_die("%s", cause);
}

/*
 * Make story i: an original, or (one in DEDUP_BENCH_COPY_SHARE percent)
 * an edited copy of a recent original, with the truth recorded.
 */
static void
dedup_bench_make(
    struct dedup_bench *db, uint32_t i, struct dedup_bench_item *it)
{
	struct dedup_bench_story *s = &db->stories[i];
	struct dedup_bench_words title, text;
	uint64_t r = DEDUP_BENCH_SEED ^ ((uint64_t)i << 32 | 0x636f7079);

	it->title.len = it->text.len = it->link.len = it->key.len = 0;
	s->source = -1;
	if (db->nrecent > 0 &&
	    dedup_bench_below(&r, 100) < DEDUP_BENCH_COPY_SHARE) {
		dedup_bench_copy(db, i, &r, it);
		return;
	}
	dedup_bench_compose(db, i, &title, &text, &it->feed);
	dedup_bench_render(db, &it->title, &title);
	dedup_bench_render(db, &it->text, &text);
	dedup_bench_printf(
	    &it->link, "https://host%d.example/path/%u", it->feed, i);
	dedup_bench_printf(&it->key, "id:%s", it->link.s);
	if (dedup_bench_below(&r, 5) == 0)
		dedup_bench_puts(&it->link, "?utm_source=x");
	s->kind = DEDUP_BENCH_ORIGINAL;
	s->feed = (uint8_t)it->feed;
	db->recent[db->nrecent++ % DEDUP_BENCH_RECENT] = i;
}

/* The words and feed of original i, the same each time. */
static void
dedup_bench_compose(const struct dedup_bench *db, uint32_t i,
    struct dedup_bench_words *title, struct dedup_bench_words *text, int *feed)
{
	uint64_t r = DEDUP_BENCH_SEED ^ ((uint64_t)i << 32 | 0x6f726967);

	*feed = (int)dedup_bench_below(&r, DEDUP_BENCH_FEEDS);
	dedup_bench_draw(db, &r, title, DEDUP_BENCH_TITLE_WORDS,
	    DEDUP_BENCH_TITLE_WORDS + 6, 0);
	dedup_bench_draw(db, &r, text, DEDUP_BENCH_TEXT_WORDS,
	    2 * DEDUP_BENCH_TEXT_WORDS, 1);
}

/*
 * Make story i a copy of a recent original, as another feed carries
 * it: its headline edited, a line of boilerplate at its end, and the
 * source's link with tracking parameters or a link of its own.
 */
static void
dedup_bench_copy(struct dedup_bench *db, uint32_t i, uint64_t *r,
    struct dedup_bench_item *it)
{
	struct dedup_bench_story *s = &db->stories[i];
	struct dedup_bench_words title, text;
	uint32_t src, pick, recent;
	int feed, kind;

	recent =
	    db->nrecent < DEDUP_BENCH_RECENT ? db->nrecent : DEDUP_BENCH_RECENT;
	src = db->recent[(db->nrecent - 1 - dedup_bench_below(r, recent)) %
	    DEDUP_BENCH_RECENT];
	dedup_bench_compose(db, src, &title, &text, &feed);
	it->feed =
	    (feed + 1 + (int)dedup_bench_below(r, DEDUP_BENCH_FEEDS - 1)) %
	    DEDUP_BENCH_FEEDS;
	pick = dedup_bench_below(r, 100);
	for (kind = 1; kind < DEDUP_BENCH_NKINDS - 1; kind++) {
		if (pick < (uint32_t)dedup_bench_kind_share[kind])
			break;
		pick -= (uint32_t)dedup_bench_kind_share[kind];
	}
	if (kind == DEDUP_BENCH_LEAD) {
		/* Well inside the lead that dedup_simhash reads. */
		text.w[dedup_bench_below(r, 48)] = dedup_bench_word(db, r);
	}

	dedup_bench_retitle(db, r, it, &title);
	dedup_bench_render(db, &it->text, &text);
	dedup_bench_puts(&it->text, " ");
	dedup_bench_puts(&it->text,
	    dedup_bench_boilerplate[dedup_bench_below(
		r, sizeof dedup_bench_boilerplate / sizeof(char *))]);

	if (kind == DEDUP_BENCH_SAME_URL) {
		dedup_bench_printf(
		    &it->link, "https://host%d.example/path/%u", feed, src);
		dedup_bench_printf(&it->link,
		    dedup_bench_tracking[dedup_bench_below(
			r, sizeof dedup_bench_tracking / sizeof(char *))],
		    i);
	} else
		dedup_bench_printf(&it->link,
		    "https://host%d.example/news/2025/%u-story", it->feed, i);
	dedup_bench_printf(&it->key, "id:urn:bench:%u", i);
	s->kind = (uint8_t)kind;
	s->source = (int32_t)src;
	s->feed = (uint8_t)it->feed;
}

/* Render a copy's headline as syndication edits it. */
static void
dedup_bench_retitle(const struct dedup_bench *db, uint64_t *r,
    struct dedup_bench_item *it, struct dedup_bench_words *title)
{
	int retitle = (int)dedup_bench_below(r, DEDUP_BENCH_NRETITLES);

	if (retitle == DEDUP_BENCH_EXCLUSIVE)
		dedup_bench_puts(&it->title, "Exclusive:");
	else if (retitle == DEDUP_BENCH_UPDATE)
		dedup_bench_puts(&it->title, "Update:");
	else if (retitle == DEDUP_BENCH_WORD) {
		title->w[dedup_bench_below(r, (uint32_t)title->n)] =
		    dedup_bench_word(db, r);
	}
	dedup_bench_render(db, &it->title, title);
	if (retitle == DEDUP_BENCH_SITE)
		dedup_bench_printf(&it->title, " - Host%d News", it->feed);
}

/*
 * What pipeline_entry and pipeline_new do with a new item, less the
 * HTML to text and the matching; the caller holds the transaction. *t
 * is when the last step ended.
 */
static void
dedup_bench_pipeline(
    struct dedup_bench *db, uint32_t i, struct dedup_bench_item *it, double *t)
{
	struct store_story s;
	struct store_known k;
	int64_t feed_id = db->feed_ids[it->feed], cluster, id;
	char joined[32], *canon, *cause;
	int found, distance, is_new;

	memset(&s, 0, sizeof s);
	s.key = it->key.s;
	s.guid = it->key.s + 3;
	s.title = it->title.s;
	s.url = it->link.s;
	s.summary = it->text.s;
	s.published = DEDUP_BENCH_PUBLISHED + (time_t)i * 30;
	if (db->spacing != 0)
		s.first_seen = dedup_bench_clock(db, i);
	s.content_hash = dedup_bench_hash(s.title, s.summary);
	if (store_story_known(db->st, feed_id, s.key, &k, &found, &cause) == -1)
		dedup_bench_die("%s", cause);
	if (found)
		dedup_bench_die("story %u: key %s known", i, s.key);
	dedup_bench_lap(db, DEDUP_BENCH_KNOWN, t);
	canon = url_canonical(it->link.s, NULL);
	s.canonical_url = canon;
	dedup_bench_lap(db, DEDUP_BENCH_CANONICAL, t);
	if (store_story_seen(
		db->st, feed_id, canon, s.content_hash, &found, &cause) == -1)
		dedup_bench_die("%s", cause);
	dedup_bench_lap(db, DEDUP_BENCH_SEEN, t);
	if (found) {
		db->reissued++;
		free(canon);
		return;
	}
	s.simhash = dedup_simhash(s.title, s.summary);
	dedup_bench_lap(db, DEDUP_BENCH_SIMHASH, t);
	if (store_cluster_find(db->st, canon, s.simhash, DEDUP_MAX_DISTANCE,
		dedup_bench_clock(db, i) - DEDUP_BENCH_WINDOW, &cluster,
		&distance, &cause) == -1)
		dedup_bench_die("%s", cause);
	dedup_bench_lap(db, DEDUP_BENCH_FIND, t);
	if (cluster != 0) {
		if (distance == -1)
			snprintf(joined, sizeof joined, "same URL");
		else
			snprintf(
			    joined, sizeof joined, "distance %d", distance);
		s.cluster = cluster;
		s.joined = joined;
	}
	if (store_story_add(db->st, feed_id, &s, &id, &is_new, &cause) == -1)
		dedup_bench_die("%s", cause);
	if (!is_new)
		dedup_bench_die("story %u: not added", i);
	free(canon);
	dedup_bench_lap(db, DEDUP_BENCH_ADD, t);
	dedup_bench_record(db, i, s.simhash, id, cluster, distance);
}

/* Keep what the store made of story i, and count its fingerprint. */
static void
dedup_bench_record(struct dedup_bench *db, uint32_t i, uint64_t simhash,
    int64_t id, int64_t cluster, int distance)
{
	struct dedup_bench_story *rec = &db->stories[i];
	int b;

	rec->simhash = simhash;
	rec->id = id;
	rec->cluster = cluster;
	rec->distance = (int8_t)distance;
	if (cluster != 0) {
		db->joined++;
		if (distance == -1)
			db->by_url++;
		else
			db->by_distance[distance]++;
	}
	for (b = 0; b < 4; b++)
		db->blocks[b][dedup_block(simhash, b)]++;
}

/* pipeline_content_hash: FNV-1a over title, a newline, and text. */
static uint64_t
dedup_bench_hash(const char *title, const char *text)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (const char *p = title; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	h = (h ^ '\n') * 0x100000001b3ULL;
	for (const char *p = text; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	return h;
}

/* Add the time since *t to step, and start the next step. */
static void
dedup_bench_lap(struct dedup_bench *db, int step, double *t)
{
	double now = dedup_bench_now();

	db->step[step] += now - *t;
	*t = now;
}

/*
 * Time n calls of store_cluster_find alone, in one transaction, with
 * fresh fingerprints (dedup_bench_probes). Print the medians, and the
 * stored rows sharing a block with the fingerprints (what the four
 * indexed look-ups read).
 */
static void
dedup_bench_lookups(struct dedup_bench *db, int n)
{
	uint64_t *fp, rows;
	int64_t *ns, cluster;
	double t0;
	char **url, *cause;
	int k, distance, found = 0;

	fp = xcalloc((size_t)n, sizeof *fp);
	ns = xcalloc((size_t)n, sizeof *ns);
	url = xcalloc((size_t)n, sizeof *url);
	rows = dedup_bench_probes(db, n, fp, url);
	if (store_begin(db->st, &cause) == -1)
		dedup_bench_die("%s", cause);
	for (k = 0; k < n; k++) {
		t0 = dedup_bench_now();
		if (store_cluster_find(db->st, url[k], fp[k],
			DEDUP_MAX_DISTANCE,
			dedup_bench_clock(db, db->nstories) -
			    DEDUP_BENCH_WINDOW,
			&cluster, &distance, &cause) == -1)
			dedup_bench_die("%s", cause);
		ns[k] = (int64_t)((dedup_bench_now() - t0) * 1e9);
		if (k % 2 == 0 && cluster != 0)
			found++;
	}
	if (store_commit(db->st, &cause) == -1)
		dedup_bench_die("%s", cause);

	/* The near ones are the even ones, the far ones the odd ones. */
	printf("lookup %u n %d near_found %d rows_per_lookup %.2f"
	       " median_ns %lld p90_ns %lld near_ns %lld far_ns %lld\n",
	    db->nstories, n, found, (double)rows / n,
	    dedup_bench_quantile(ns, n, 0, 1, 50),
	    dedup_bench_quantile(ns, n, 0, 1, 90),
	    dedup_bench_quantile(ns, n, 0, 2, 50),
	    dedup_bench_quantile(ns, n, 1, 2, 50));
	fflush(stdout);
	for (k = 0; k < n; k++)
		free(url[k]);
	free(url);
	free(ns);
	free(fp);
}

/*
 * Fill fp and url with n look-ups: every other fingerprint within 1 to
 * 3 bits of a stored story drawn at random (with -t, of the dedup
 * window's), the rest random; each URL
 * fresh, so that the URL look-up misses first, as for a new story's
 * link. Return the stored rows that share a block with them, in all.
 */
static uint64_t
dedup_bench_probes(
    const struct dedup_bench *db, int n, uint64_t *fp, char **url)
{
	uint64_t r = DEDUP_BENCH_SEED ^ db->nstories, x, rows = 0;
	char buf[128];
	int k, b, flips;
	uint32_t s, span;

	/* With a clock, the near ones are near a story of the window. */
	span = db->nstories;
	if (db->spacing != 0 && DEDUP_BENCH_WINDOW / db->spacing < span)
		span = (uint32_t)(DEDUP_BENCH_WINDOW / db->spacing);
	for (k = 0; k < n; k++) {
		if (k % 2 == 0) {
			do
				s = db->nstories - 1 -
				    dedup_bench_below(&r, span);
			while (db->stories[s].id == 0);
			x = db->stories[s].simhash;
			flips =
			    1 + (int)dedup_bench_below(&r, DEDUP_MAX_DISTANCE);
			/* Distinct bits: three draws may repeat one. */
			while (
			    dedup_distance(x, db->stories[s].simhash) < flips)
				x ^= 1ULL << dedup_bench_below(&r, 64);
		} else {
			while ((x = dedup_bench_rand(&r)) == 0)
				;
		}
		fp[k] = x;
		for (b = 0; b < 4; b++)
			rows += db->blocks[b][dedup_block(x, b)];
		snprintf(buf, sizeof buf, DEDUP_BENCH_LOOKUP_URL "%u/%d",
		    db->nstories, k);
		url[k] = url_canonical(buf, NULL);
	}
	return rows;
}

/*
 * Compare the clusters with the generator's truth. A story that joined
 * a cluster is right when the cluster's first story is its source, or
 * another copy of its source (one that had missed the source, so that
 * the source's cluster is split: counted apart); any other join is a
 * false one. Print the false joins, at most DEDUP_BENCH_SHOW.
 */
static void
dedup_bench_truth(const struct dedup_bench *db)
{
	uint64_t gen[DEDUP_BENCH_NKINDS] = { 0 },
		 hit[DEDUP_BENCH_NKINDS] = { 0 };
	uint64_t near[DEDUP_BENCH_NKINDS] = { 0 }, wrong = 0, split = 0;
	const struct dedup_bench_story *s;
	uint32_t *byid, i, j;
	int k;

	byid = dedup_bench_byid(db);
	for (i = 0; i < db->nstories; i++) {
		s = &db->stories[i];
		gen[s->kind]++;
		/* What SimHash alone says, whatever the URL did. */
		if (s->id != 0 && s->source != -1 &&
		    dedup_distance(s->simhash,
			db->stories[s->source].simhash) <= DEDUP_MAX_DISTANCE)
			near[s->kind]++;
		if (s->cluster == 0)
			continue;
		j = byid[s->cluster];
		if (dedup_bench_root(db, j) != dedup_bench_root(db, i)) {
			if (wrong++ < DEDUP_BENCH_SHOW)
				dedup_bench_false_join(db, i, j);
			continue;
		}
		hit[s->kind]++;
		split += j != (uint32_t)s->source;
	}
	printf("false_joins %llu\nsplit_joins %llu\n",
	    (unsigned long long)wrong, (unsigned long long)split);
	for (k = 0; k < DEDUP_BENCH_NKINDS; k++)
		printf("kind %s generated %llu found %llu fp_near %llu\n",
		    dedup_bench_kind_names[k], (unsigned long long)gen[k],
		    (unsigned long long)hit[k], (unsigned long long)near[k]);
	free(byid);
}

/* Return the index of each stored story by its id in the store. */
static uint32_t *
dedup_bench_byid(const struct dedup_bench *db)
{
	uint32_t *byid, i;

	byid = xcalloc((size_t)db->nstories + 1, sizeof *byid);
	for (i = 0; i < db->nstories; i++) {
		if (db->stories[i].id < 0 || db->stories[i].id > db->nstories)
			dedup_bench_die("story %u: id %lld out of range", i,
			    (long long)db->stories[i].id);
		byid[db->stories[i].id] = i;
	}
	return byid;
}

/* The story that story i is, by the truth: its source, or itself. */
static uint32_t
dedup_bench_root(const struct dedup_bench *db, uint32_t i)
{
	return db->stories[i].source == -1 ? i :
					     (uint32_t)db->stories[i].source;
}

/*
 * Print story i, which joined story j's cluster when it should not
 * have: their kinds, sources and distance.
 */
static void
dedup_bench_false_join(const struct dedup_bench *db, uint32_t i, uint32_t j)
{
	const struct dedup_bench_story *s = &db->stories[i];
	const struct dedup_bench_story *c = &db->stories[j];

	printf("false_join %u kind %s source %d distance %d joined %u"
	       " joined_kind %s joined_source %d fp_distance %d\n",
	    i, dedup_bench_kind_names[s->kind], s->source, s->distance, j,
	    dedup_bench_kind_names[c->kind], c->source,
	    dedup_distance(s->simhash, c->simhash));
}

/*
 * Sample pairs of different originals and print how far apart their
 * fingerprints are, and the fullest index bucket.
 */
static void
dedup_bench_pairs(const struct dedup_bench *db)
{
	uint64_t r = DEDUP_BENCH_SEED ^ 0x70616972, sum = 0, close = 0, n = 0;
	uint32_t a, c, max = 0;
	int d, min = 64, b, v;

	for (int k = 0; k < DEDUP_BENCH_PAIRS && db->nstories > 1; k++) {
		a = dedup_bench_below(&r, db->nstories);
		c = dedup_bench_below(&r, db->nstories);
		if (a == c || db->stories[a].source != -1 ||
		    db->stories[c].source != -1 || db->stories[a].id == 0 ||
		    db->stories[c].id == 0)
			continue;
		d = dedup_distance(
		    db->stories[a].simhash, db->stories[c].simhash);
		sum += (uint64_t)d;
		close += d <= 2 * DEDUP_MAX_DISTANCE;
		if (d < min)
			min = d;
		n++;
	}
	for (b = 0; b < 4; b++) {
		for (v = 0; v < DEDUP_BENCH_BLOCKS; v++) {
			if (db->blocks[b][v] > max)
				max = db->blocks[b][v];
		}
	}
	printf("pairs %llu pair_mean %.2f pair_min %d pair_close %llu "
	       "bucket_max %u\n",
	    (unsigned long long)n, n > 0 ? (double)sum / n : 0.0, min,
	    (unsigned long long)close, max);
}

/*
 * Print the size of the log and of its full-text index once closed (the
 * last connection leaves no WAL behind), and each table's and index's
 * share by dbstat when SQLite has it.
 */
static void
dedup_bench_size(const char *path)
{
	static const char *const files[] = { "db", "fts" };
	static const char *const suffixes[] = { "", ".fts" };
	struct stat sb, wb;
	sqlite3 *sq;
	sqlite3_stmt *s;
	char *file, *wal;

	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		xasprintf(&file, "%s%s", path, suffixes[i]);
		if (stat(file, &sb) == -1)
			dedup_bench_die("%s: %s", file, strerror(errno));
		xasprintf(&wal, "%s-wal", file);
		if (stat(wal, &wb) == -1)
			wb.st_size = 0;
		free(wal);
		printf("%s_bytes %lld\n%s_wal_bytes %lld\n", files[i],
		    (long long)sb.st_size, files[i], (long long)wb.st_size);
		if (sqlite3_open_v2(file, &sq, SQLITE_OPEN_READONLY, NULL) !=
		    SQLITE_OK)
			dedup_bench_die("%s: %s", file, sqlite3_errmsg(sq));
		if (sqlite3_prepare_v2(sq,
			"SELECT name, sum(pgsize) FROM dbstat GROUP BY name"
			" ORDER BY 2 DESC",
			-1, &s, NULL) == SQLITE_OK) {
			while (sqlite3_step(s) == SQLITE_ROW)
				printf("size %s %lld\n",
				    sqlite3_column_text(s, 0),
				    (long long)sqlite3_column_int64(s, 1));
			sqlite3_finalize(s);
		}
		sqlite3_close(sq);
		free(file);
	}
	fflush(stdout);
}

/* The pct-th percentile of v[from], v[from + step], ... below v[n]. */
static long long
dedup_bench_quantile(const int64_t *v, int n, int from, int step, int pct)
{
	int64_t *w;
	long long q;
	int i, m = 0;

	w = xcalloc((size_t)n, sizeof *w);
	for (i = from; i < n; i += step)
		w[m++] = v[i];
	if (m == 0) {
		free(w);
		return 0;
	}
	qsort(w, (size_t)m, sizeof *w, dedup_bench_cmp);
	q = (long long)w[(size_t)m * (size_t)pct / 100];
	free(w);
	return q;
}

static int
dedup_bench_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* When story i is first seen: now, or -t's seconds after story i - 1. */
static time_t
dedup_bench_clock(const struct dedup_bench *db, uint32_t i)
{
	if (db->spacing == 0)
		return time(NULL);
	return DEDUP_BENCH_PUBLISHED + (time_t)i * db->spacing;
}

/* Seconds of CPU, user and system, of this thread or of the process. */
static double
dedup_bench_cpu(int who)
{
	struct rusage ru;

	if (getrusage(who, &ru) == -1)
		dedup_bench_die("getrusage: %s", strerror(errno));
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Seconds on CLOCK_MONOTONIC. */
static double
dedup_bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
