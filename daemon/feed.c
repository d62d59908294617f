#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

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

static void
feed_entry_free(struct entry *e)
{
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
feed_doc_add_entry(struct feed_doc *d)
{
	struct entry *e;

	e = xcalloc(1, sizeof *e);
	e->published = -1;
	e->updated = -1;
	d->entries =
	    xreallocarray(d->entries, d->nentries + 1, sizeof *d->entries);
	d->entries[d->nentries++] = e;
	return e;
}

const char *
feed_format_name(enum feed_format f)
{
	if ((size_t)f >= sizeof feed_format_names / sizeof *feed_format_names)
		return "unknown";
	return feed_format_names[f];
}
