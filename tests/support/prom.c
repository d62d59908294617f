#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* cmocka.h needs the standard headers above. */
#include <cmocka.h>

#include "prom.h"
#include "xmalloc.h"

/* The Prometheus text format, read strictly (see prom.h). */

static int
prom_is_name(const char *s, size_t len, int colons)
{
	if (len == 0)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!(c == '_' || (c >= 'a' && c <= 'z') ||
			(c >= 'A' && c <= 'Z') ||
			(i > 0 && c >= '0' && c <= '9') ||
			(colons && c == ':')))
			return 0;
	}
	return 1;
}

int
prom_family_find(const struct prom *p, const char *name)
{
	for (int i = 0; i < p->nfamilies; i++) {
		if (strcmp(p->families[i].name, name) == 0)
			return i;
	}
	return -1;
}

/* "# HELP name text" or "# TYPE name type". */
static void
prom_comment(struct prom *p, const char *line)
{
	static const char *types[] = { "counter", "gauge", "histogram",
		"summary", "untyped" };
	const char *name = line + 7, *end;
	struct prom_family *f;
	char *n;
	int i, is_help = strncmp(line, "# HELP ", 7) == 0;

	if (!is_help && strncmp(line, "# TYPE ", 7) != 0)
		fail_msg("not HELP or TYPE: %s", line);
	end = name + strcspn(name, " ");
	if (*end != ' ' || !prom_is_name(name, (size_t)(end - name), 1))
		fail_msg("bad metric name: %s", line);
	n = xstrndup(name, (size_t)(end - name));
	if ((i = prom_family_find(p, n)) == -1) {
		assert_true(p->nfamilies < PROM_MAX_FAMILIES);
		i = p->nfamilies++;
		p->families[i].name = n;
	} else
		free(n);
	f = &p->families[i];
	if (f->has_samples)
		fail_msg("%s after the family's samples", line);
	if (is_help) {
		if (f->has_help++)
			fail_msg("second HELP: %s", line);
	} else {
		if (f->type != NULL)
			fail_msg("second TYPE: %s", line);
		for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
			if (strcmp(end + 1, types[t]) == 0)
				f->type = xstrdup(types[t]);
		}
		if (f->type == NULL)
			fail_msg("unknown type: %s", line);
	}
	p->current = i;
}

/* Read label values in quotes with \\, \" and \n; return past them. */
static const char *
prom_label_value(const char *s, char **out, const char *line)
{
	char *v = xmalloc(strlen(s) + 1);
	size_t o = 0;

	if (*s++ != '"')
		fail_msg("label value without quotes: %s", line);
	for (; *s != '"'; s++) {
		if (*s == '\0' || *s == '\n')
			fail_msg("unterminated label value: %s", line);
		if (*s != '\\') {
			v[o++] = *s;
			continue;
		}
		s++;
		if (*s == 'n')
			v[o++] = '\n';
		else if (*s == '\\' || *s == '"')
			v[o++] = *s;
		else
			fail_msg("bad escape in label value: %s", line);
	}
	v[o] = '\0';
	*out = v;
	return s + 1;
}

static const char *
prom_labels(struct prom_sample *x, const char *s, const char *line)
{
	const char *eq;

	while (*s != '}') {
		eq = strchr(s, '=');
		if (eq == NULL || !prom_is_name(s, (size_t)(eq - s), 0))
			fail_msg("bad label name: %s", line);
		assert_true(x->nlabels < PROM_MAX_LABELS);
		x->keys[x->nlabels] = xstrndup(s, (size_t)(eq - s));
		for (int i = 0; i < x->nlabels; i++) {
			if (strcmp(x->keys[i], x->keys[x->nlabels]) == 0)
				fail_msg("label twice: %s", line);
		}
		s = prom_label_value(eq + 1, &x->values[x->nlabels++], line);
		if (*s == ',')
			s++;
		else if (*s != '}')
			fail_msg("expected , or }: %s", line);
	}
	return s + 1;
}

static double
prom_number(const char *s, const char *line)
{
	char *end;
	double v;

	if (strcmp(s, "+Inf") == 0)
		return INFINITY;
	if (strcmp(s, "-Inf") == 0)
		return -INFINITY;
	if (strcmp(s, "NaN") == 0)
		return NAN;
	v = strtod(s, &end);
	if (end == s || *end != '\0')
		fail_msg("bad value \"%s\": %s", s, line);
	return v;
}

/* The family a sample belongs to: a histogram's _bucket, _sum, _count. */
static int
prom_sample_family(const struct prom *p, const char *name)
{
	static const char *suffixes[] = { "_bucket", "_sum", "_count" };
	size_t len = strlen(name), slen;
	const struct prom_family *f;
	int i;

	if ((i = prom_family_find(p, name)) != -1)
		return i;
	for (size_t j = 0; j < sizeof suffixes / sizeof suffixes[0]; j++) {
		slen = strlen(suffixes[j]);
		if (len <= slen || strcmp(name + len - slen, suffixes[j]) != 0)
			continue;
		for (i = 0; i < p->nfamilies; i++) {
			f = &p->families[i];
			if (strlen(f->name) == len - slen &&
			    strncmp(f->name, name, len - slen) == 0 &&
			    f->type != NULL &&
			    strcmp(f->type, "histogram") == 0)
				return i;
		}
	}
	return -1;
}

static void
prom_sample(struct prom *p, const char *line)
{
	struct prom_sample *x;
	struct prom_family *f;
	const char *s = line;
	size_t len = strcspn(line, "{ ");

	if (!prom_is_name(line, len, 1))
		fail_msg("bad sample name: %s", line);
	p->samples = xreallocarray(p->samples, p->n + 1, sizeof *p->samples);
	x = &p->samples[p->n++];
	memset(x, 0, sizeof *x);
	x->name = xstrndup(line, len);
	s += len;
	if (*s == '{')
		s = prom_labels(x, s + 1, line);
	if (*s++ != ' ')
		fail_msg("no value: %s", line);
	if (strchr(s, ' ') != NULL)
		fail_msg("a timestamp or junk after the value: %s", line);
	x->value = prom_number(s, line);
	if ((x->family = prom_sample_family(p, x->name)) == -1)
		fail_msg("sample before its HELP and TYPE: %s", line);
	f = &p->families[x->family];
	if (!f->has_help || f->type == NULL)
		fail_msg("family without HELP or TYPE: %s", line);
	if (x->family != p->current)
		fail_msg("the family's samples are not together: %s", line);
	if (strcmp(f->type, "counter") == 0 &&
	    (strlen(f->name) < 6 ||
		strcmp(f->name + strlen(f->name) - 6, "_total") != 0))
		fail_msg("a counter not named _total: %s", line);
	f->has_samples = 1;
}

/* The labels of x but le, in one string, for grouping and look-ups. */
static char *
prom_key(const struct prom_sample *x)
{
	char *k = xstrdup(""), *t;

	for (int i = 0; i < x->nlabels; i++) {
		if (strcmp(x->keys[i], "le") == 0)
			continue;
		xasprintf(&t, "%s%s=\"%s\",", k, x->keys[i], x->values[i]);
		free(k);
		k = t;
	}
	return k;
}

static const char *
prom_label(const struct prom_sample *x, const char *key)
{
	for (int i = 0; i < x->nlabels; i++) {
		if (strcmp(x->keys[i], key) == 0)
			return x->values[i];
	}
	return NULL;
}

/* One series of a histogram: buckets rise to +Inf, which is _count. */
static void
prom_check_series(
    const struct prom *p, const struct prom_family *f, const char *key)
{
	char bucket[128], sum[128], count[128], *k;
	double le = -INFINITY, last = 0, n = -1;
	int has_sum = 0, nbuckets = 0;
	const struct prom_sample *x;

	snprintf(bucket, sizeof bucket, "%s_bucket", f->name);
	snprintf(sum, sizeof sum, "%s_sum", f->name);
	snprintf(count, sizeof count, "%s_count", f->name);
	for (size_t i = 0; i < p->n; i++) {
		x = &p->samples[i];
		k = prom_key(x);
		if (strcmp(k, key) != 0 || &p->families[x->family] != f) {
			free(k);
			continue;
		}
		free(k);
		if (strcmp(x->name, bucket) == 0) {
			const char *v = prom_label(x, "le");
			double b;

			assert_non_null(v);
			b = prom_number(v, x->name);
			if (b <= le || x->value < last)
				fail_msg("%s{%s}: buckets not cumulative",
				    f->name, key);
			le = b;
			last = x->value;
			nbuckets++;
		} else if (strcmp(x->name, sum) == 0) {
			assert_null(prom_label(x, "le"));
			has_sum++;
		} else if (strcmp(x->name, count) == 0) {
			assert_null(prom_label(x, "le"));
			n = x->value;
		} else
			fail_msg("%s in histogram %s", x->name, f->name);
	}
	if (nbuckets < 2 || !isinf(le) || has_sum != 1 || n != last)
		fail_msg("%s{%s}: %d buckets, last le %g (%g) vs _count %g, "
			 "%d _sum",
		    f->name, key, nbuckets, le, last, n, has_sum);
}

static void
prom_check_histograms(const struct prom *p)
{
	const struct prom_sample *x;
	const struct prom_family *f;
	char *key;

	for (size_t i = 0; i < p->n; i++) {
		x = &p->samples[i];
		f = &p->families[x->family];
		if (strcmp(f->type, "histogram") != 0)
			continue;
		key = prom_key(x);
		prom_check_series(p, f, key);
		free(key);
	}
}

static int
prom_strcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* No two samples share a name and labels: sorted, neighbours differ. */
static void
prom_check_unique(const struct prom *p)
{
	const struct prom_sample *x;
	const char *le;
	char **all, *key;

	if (p->n == 0)
		return;
	all = xcalloc(p->n, sizeof *all);
	for (size_t i = 0; i < p->n; i++) {
		x = &p->samples[i];
		key = prom_key(x);
		le = prom_label(x, "le");
		xasprintf(
		    &all[i], "%s{%sle=%s}", x->name, key, le != NULL ? le : "");
		free(key);
	}
	qsort(all, p->n, sizeof *all, prom_strcmp);
	for (size_t i = 1; i < p->n; i++) {
		if (strcmp(all[i - 1], all[i]) == 0)
			fail_msg("%s twice", all[i]);
	}
	for (size_t i = 0; i < p->n; i++)
		free(all[i]);
	free(all);
}

void
prom_parse(struct prom *p, const char *text)
{
	const char *line = text, *end;
	char *copy;

	memset(p, 0, sizeof *p);
	p->current = -1;
	assert_true(*text != '\0');
	for (; *line != '\0'; line = end + 1) {
		if ((end = strchr(line, '\n')) == NULL)
			fail_msg("the last line has no newline");
		copy = xstrndup(line, (size_t)(end - line));
		if (*copy == '\0')
			fail_msg("an empty line");
		if (*copy == '#')
			prom_comment(p, copy);
		else
			prom_sample(p, copy);
		free(copy);
	}
	prom_check_histograms(p);
	prom_check_unique(p);
}

void
prom_free(struct prom *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->samples[i].name);
		for (int j = 0; j < p->samples[i].nlabels; j++) {
			free(p->samples[i].keys[j]);
			free(p->samples[i].values[j]);
		}
	}
	free(p->samples);
	for (int i = 0; i < p->nfamilies; i++) {
		free(p->families[i].name);
		free(p->families[i].type);
	}
}

/*
 * The sample name{labels}, labels given as key, value, ..., NULL and
 * all of its labels: found sets *v and returns 1, else returns 0.
 */
int
prom_find(const struct prom *p, double *v, const char *name, ...)
{
	const struct prom_sample *x;
	const char *key, *want, *have;
	va_list ap;
	int n, ok;

	for (size_t i = 0; i < p->n; i++) {
		x = &p->samples[i];
		if (strcmp(x->name, name) != 0)
			continue;
		ok = 1;
		n = 0;
		va_start(ap, name);
		while ((key = va_arg(ap, const char *)) != NULL) {
			want = va_arg(ap, const char *);
			have = prom_label(x, key);
			n++;
			if (have == NULL || strcmp(have, want) != 0)
				ok = 0;
		}
		va_end(ap);
		if (ok && n == x->nlabels) {
			*v = x->value;
			return 1;
		}
	}
	return 0;
}
