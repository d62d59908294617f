#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "match.h"
#include "xmalloc.h"

/*
 * The matcher's benchmark harness, built and run by scripts/bench/match:
 * compile the watchlists into one set, load every story, then time
 * match_set_run (tokenising included) over all of them.
 *
 *	match_bench [-n RUNS] [-o HITS] QUERIES STORIES
 *
 * QUERIES holds one query a line; STORIES one story a line, "title TAB
 * text". The output is "key value" lines for the script to read; HITS
 * gets each query's number of matches over the timed runs, one a line.
 * A run is timed twice: wall clock (seconds) and the CPU time of the
 * process (cpu_seconds), which leaves out the time others had the CPU.
 * Exit status: 0, or 2 on error (a query that does not compile, say).
 */

#define MATCH_BENCH_FEED "bench" /* every story's feed name */

struct match_bench {
	struct match_set *set;
	size_t nqueries;
	char *buf; /* the stories file, split in place */
	struct match_story *stories;
	size_t nstories;
	size_t bytes;	 /* of all titles and texts */
	size_t *hits;	 /* per query, in the order added */
	size_t matches;	 /* callbacks, over the timed runs */
	size_t returned; /* sum of match_set_run's results, likewise */
};

static void match_bench_usage(void) __attribute__((__noreturn__));
static void match_bench_die(const char *, ...)
    __attribute__((__noreturn__, __format__(__printf__, 1, 2)));
static void match_bench_queries(struct match_bench *, const char *);
static void match_bench_stories(struct match_bench *, const char *);
static char *match_bench_slurp(const char *, size_t *);
static double match_bench_run(struct match_bench *, double *);
static void match_bench_cb(void *, const struct match_result *, void *);
static void match_bench_hits(const struct match_bench *, const char *);
static double match_bench_now(clockid_t);

int
main(int argc, char **argv)
{
	struct match_bench mb;
	const char *hits = NULL;
	double t0, setup, secs, cpu;
	long long runs = 1;
	int ch, i;

	while ((ch = getopt(argc, argv, "n:o:")) != -1) {
		switch (ch) {
		case 'n':
			runs = strtoll(optarg, NULL, 10);
			if (runs < 1 || runs > 1000)
				match_bench_usage();
			break;
		case 'o':
			hits = optarg;
			break;
		default:
			match_bench_usage();
		}
	}
	if (argc - optind != 2)
		match_bench_usage();
	memset(&mb, 0, sizeof mb);

	/* Loading and compiling are outside the timed runs. */
	match_bench_stories(&mb, argv[optind + 1]);
	if (mb.nstories == 0)
		match_bench_die("%s: no stories", argv[optind + 1]);
	t0 = match_bench_now(CLOCK_MONOTONIC);
	match_bench_queries(&mb, argv[optind]);
	/*
	 * The first match_set_run may finish building the set: run it on
	 * one story, counted as setup.
	 */
	match_set_run(mb.set, &mb.stories[0], match_bench_cb, &mb);
	setup = match_bench_now(CLOCK_MONOTONIC) - t0;
	memset(mb.hits, 0, mb.nqueries * sizeof *mb.hits);
	mb.matches = mb.returned = 0;

	printf("queries %zu\nstories %zu\nbytes %zu\nsetup_seconds %.6f\n",
	    mb.nqueries, mb.nstories, mb.bytes, setup);
	for (i = 1; i <= runs; i++) {
		mb.matches = mb.returned = 0;
		secs = match_bench_run(&mb, &cpu);
		printf("run %d seconds %.6f cpu_seconds %.6f matches %zu "
		       "returned %zu\n",
		    i, secs, cpu, mb.matches, mb.returned);
		fflush(stdout);
	}
	if (hits != NULL)
		match_bench_hits(&mb, hits);

	match_set_free(mb.set);
	free(mb.hits);
	free(mb.stories);
	free(mb.buf);
	return 0;
}

static void
match_bench_usage(void)
{
	fputs(
	    "usage: match_bench [-n runs] [-o hits] queries stories\n", stderr);
	exit(2);
}

static void
match_bench_die(const char *fmt, ...)
{
	va_list ap;

	fputs("match_bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* Compile each line of path into mb->set; a query that fails ends it. */
static void
match_bench_queries(struct match_bench *mb, const char *path)
{
	struct match_query *q;
	FILE *f;
	char *line = NULL, *cause;
	size_t cap = 0, lineno = 0;
	ssize_t n;

	if ((f = fopen(path, "r")) == NULL)
		match_bench_die("%s: %s", path, strerror(errno));
	mb->set = match_set_new();
	while ((n = getline(&line, &cap, f)) != -1) {
		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n == 0)
			continue;
		if ((q = match_query_new(line, NULL, 0, &cause)) == NULL)
			match_bench_die("%s:%zu: query '%s': %s", path, lineno,
			    line, cause);
		match_set_add(mb->set, q, (void *)(uintptr_t)mb->nqueries);
		mb->nqueries++;
	}
	if (ferror(f))
		match_bench_die("%s: %s", path, strerror(errno));
	fclose(f);
	free(line);
	mb->hits =
	    xcalloc(mb->nqueries == 0 ? 1 : mb->nqueries, sizeof *mb->hits);
}

/* Read path whole and split it into mb->stories, in place. */
static void
match_bench_stories(struct match_bench *mb, const char *path)
{
	struct match_story *ms;
	size_t len, cap = 0;
	char *p, *end, *nl, *tab;

	mb->buf = match_bench_slurp(path, &len);
	for (p = mb->buf, end = mb->buf + len; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', end - p)) == NULL)
			nl = end;
		*nl = '\0';
		if (nl == p)
			continue;
		if ((tab = memchr(p, '\t', nl - p)) == NULL)
			match_bench_die(
			    "%s: story %zu: no tab", path, mb->nstories + 1);
		*tab = '\0';
		if (mb->nstories == cap) {
			cap = cap == 0 ? 4096 : cap * 2;
			mb->stories = xreallocarray(
			    mb->stories, cap, sizeof *mb->stories);
		}
		ms = &mb->stories[mb->nstories++];
		memset(ms, 0, sizeof *ms);
		ms->title = p;
		ms->text = tab + 1;
		ms->feed = MATCH_BENCH_FEED;
		mb->bytes += (size_t)(nl - p) - 1;
	}
}

/* Return the contents of path, NUL-terminated; *len excludes the NUL. */
static char *
match_bench_slurp(const char *path, size_t *len)
{
	struct stat sb;
	char *buf;
	ssize_t n;
	size_t off = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &sb) == -1)
		match_bench_die("%s: %s", path, strerror(errno));
	buf = xmalloc((size_t)sb.st_size + 1);
	while (off < (size_t)sb.st_size) {
		n = read(fd, buf + off, (size_t)sb.st_size - off);
		if (n == -1)
			match_bench_die("%s: %s", path, strerror(errno));
		if (n == 0)
			break;
		off += (size_t)n;
	}
	close(fd);
	buf[off] = '\0';
	*len = off;
	return buf;
}

/*
 * Match every story once; return the seconds it took, and the CPU
 * seconds in *cpu.
 */
static double
match_bench_run(struct match_bench *mb, double *cpu)
{
	double t0, c0;
	size_t i;

	c0 = match_bench_now(CLOCK_PROCESS_CPUTIME_ID);
	t0 = match_bench_now(CLOCK_MONOTONIC);
	for (i = 0; i < mb->nstories; i++) {
		mb->returned += (size_t)match_set_run(
		    mb->set, &mb->stories[i], match_bench_cb, mb);
	}
	*cpu = match_bench_now(CLOCK_PROCESS_CPUTIME_ID) - c0;
	return match_bench_now(CLOCK_MONOTONIC) - t0;
}

static void
match_bench_cb(void *arg, const struct match_result *mr, void *cbarg)
{
	struct match_bench *mb = cbarg;

	(void)mr;
	mb->hits[(uintptr_t)arg]++;
	mb->matches++;
}

static void
match_bench_hits(const struct match_bench *mb, const char *path)
{
	FILE *f;
	size_t i;

	if ((f = fopen(path, "w")) == NULL)
		match_bench_die("%s: %s", path, strerror(errno));
	for (i = 0; i < mb->nqueries; i++)
		fprintf(f, "%zu\n", mb->hits[i]);
	if (fclose(f) == EOF)
		match_bench_die("%s: %s", path, strerror(errno));
}

/* Seconds on a clock. */
static double
match_bench_now(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
