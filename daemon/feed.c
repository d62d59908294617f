#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"
#include "xmalloc.h"

/* The parsed feed model: construction and destruction. */

static const char *feed_format_names[] = {
	[FEED_FORMAT_UNKNOWN] = "unknown",
	[FEED_FORMAT_RSS090] = "rss090",
	[FEED_FORMAT_RSS091] = "rss091",
	[FEED_FORMAT_RSS092] = "rss092",
	[FEED_FORMAT_RSS093] = "rss093",
	[FEED_FORMAT_RSS094] = "rss094",
	[FEED_FORMAT_RSS20] = "rss20",
	[FEED_FORMAT_RSS10] = "rss10",
	[FEED_FORMAT_ATOM03] = "atom03",
	[FEED_FORMAT_ATOM10] = "atom10",
	[FEED_FORMAT_JSONFEED] = "jsonfeed",
	[FEED_FORMAT_CDF] = "cdf",
};

struct feed_doc *
feed_doc_new(void)
{
	struct feed_doc *d;

	d = xcalloc(1, sizeof *d);
	d->updated = -1;
	d->errors = xcalloc(1, sizeof *d->errors);
	return d;
}

void
feed_entry_free(struct entry *e)
{
	if (e == NULL)
		return;
	for (size_t i = 0; i < e->ncategories; i++)
		free(e->categories[i]);
	free(e->categories);
	for (size_t i = 0; i < e->nenclosures; i++) {
		free(e->enclosures[i].url);
		free(e->enclosures[i].type);
	}
	free(e->enclosures);
	free(e->id);
	free(e->title);
	free(e->link);
	free(e->summary);
	free(e->content);
	free(e->author);
	free(e);
}

void
feed_doc_free(struct feed_doc *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->nentries; i++)
		feed_entry_free(d->entries[i]);
	free(d->entries);
	for (size_t i = 0; i < d->nerrors; i++)
		free(d->errors[i]);
	free(d->errors);
	free(d->title);
	free(d->link);
	free(d->description);
	free(d->language);
	free(d);
}

void
feed_doc_error(struct feed_doc *d, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		msg = xstrdup("(error message lost: out of memory)");
	va_end(ap);
	d->errors = xreallocarray(d->errors, d->nerrors + 2, sizeof *d->errors);
	d->errors[d->nerrors++] = msg;
	d->errors[d->nerrors] = NULL;
}

struct entry *
feed_entry_new(void)
{
	struct entry *e;

	e = xcalloc(1, sizeof *e);
	e->published = -1;
	e->updated = -1;
	e->categories = xcalloc(1, sizeof *e->categories);
	return e;
}

void
feed_doc_add_entry(struct feed_doc *d, struct entry *e)
{
	d->entries =
	    xreallocarray(d->entries, d->nentries + 1, sizeof *d->entries);
	d->entries[d->nentries++] = e;
}

void
feed_entry_add_category(struct entry *e, char *term)
{
	for (size_t i = 0; i < e->ncategories; i++) {
		if (strcmp(e->categories[i], term) == 0) {
			free(term);
			return;
		}
	}
	e->categories = xreallocarray(
	    e->categories, e->ncategories + 2, sizeof *e->categories);
	e->categories[e->ncategories++] = term;
	e->categories[e->ncategories] = NULL;
}

void
feed_entry_add_enclosure(
    struct entry *e, char *url, char *type, long long length)
{
	struct enclosure *enc;

	for (size_t i = 0; i < e->nenclosures; i++) {
		if (strcmp(e->enclosures[i].url, url) == 0) {
			free(url);
			free(type);
			return;
		}
	}
	e->enclosures = xreallocarray(
	    e->enclosures, e->nenclosures + 1, sizeof *e->enclosures);
	enc = &e->enclosures[e->nenclosures++];
	enc->url = url;
	enc->type = type;
	enc->length = length;
}

const char *
feed_format_name(enum feed_format f)
{
	if ((size_t)f >= sizeof feed_format_names / sizeof *feed_format_names)
		return "unknown";
	return feed_format_names[f];
}

int
feed_doc_min_interval(const struct feed_doc *d)
{
	int sy = 0;

	if (d->update_period > 0)
		sy = d->update_period /
		    (d->update_frequency > 0 ? d->update_frequency : 1);
	return d->ttl > sy ? d->ttl : sy;
}
