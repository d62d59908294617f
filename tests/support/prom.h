#ifndef FEEDWATCH_TEST_PROM_H
#define FEEDWATCH_TEST_PROM_H

#include <stddef.h>

/*
 * A strict reader of the Prometheus text format (0.0.4) for the tests:
 * every line a comment (# HELP, # TYPE) or a sample; every family's
 * HELP and TYPE before its samples, once, and its samples together;
 * counters named _total; histograms' buckets cumulative up to +Inf,
 * which is _count; no sample twice. A page that breaks a rule fails
 * the running cmocka test with the line.
 */

#define PROM_MAX_LABELS 8
#define PROM_MAX_FAMILIES 64

struct prom_sample {
	char *name;
	char *keys[PROM_MAX_LABELS];
	char *values[PROM_MAX_LABELS]; /* unescaped */
	int nlabels;
	double value;
	int family;
};

struct prom_family {
	char *name;
	char *type;
	int has_help;
	int has_samples;
};

struct prom {
	struct prom_sample *samples;
	size_t n;
	struct prom_family families[PROM_MAX_FAMILIES];
	int nfamilies;
	int current; /* the family whose samples may follow */
};

/* Parse text into *p (free with prom_free), failing the test on an error. */
void prom_parse(struct prom *p, const char *text);
void prom_free(struct prom *p);
/* Return the index of the family name, or -1. */
int prom_family_find(const struct prom *p, const char *name);
/*
 * Find the sample name whose labels are exactly the key, value pairs
 * that follow, up to NULL: set *v and return 1, or return 0.
 */
int prom_find(const struct prom *p, double *v, const char *name, ...);

/* The sample must be there with the value want. */
#define assert_sample(p, want, ...)                                    \
	do {                                                           \
		double v_;                                             \
		if (!prom_find(p, &v_, __VA_ARGS__, NULL))             \
			fail_msg("no sample %s", #__VA_ARGS__);        \
		if (v_ != (double)(want))                              \
			fail_msg("%s is %g, not %g", #__VA_ARGS__, v_, \
			    (double)(want));                           \
	} while (0)

#endif
