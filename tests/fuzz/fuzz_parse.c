#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <libxml/parser.h>
#include <utf8proc.h>

#include "feed.h"
#include "log.h"
#include "parse.h"
#include "text.h"

/*
 * libFuzzer target for parse_buffer(): each input is parsed twice, once
 * into a struct feed_doc (HTML sanitized) and once streamed entry by
 * entry, under small limits, as the daemon reads it (HTML left as the
 * feed wrote it, then made plain text by text_from_html), and what comes
 * out is checked against the contracts of feed.h and text.h.
 */

#define FUZZ_MAX_ENTRIES 50
#define FUZZ_MAX_DEPTH 32	    /* element nesting */
#define FUZZ_MAX_SIZE (1024 * 1024) /* bytes */
#define FUZZ_MAX_SIZE_SMALL 4096    /* bytes, below one 64 KiB piece */
#define FUZZ_STOP_AFTER 3	    /* entries, when the callback stops early */
#define FUZZ_BASE "https://example.com/news/feed.xml"

/*
 * The first input byte chooses how the document is presented; it stays
 * part of the document, so a seed that starts with '<' or '{' is still
 * whole. Bits 0-5 (modulo the table's size) pick the Content-Type, bit 6
 * drops the base URL and bit 7 makes the callback stop the parse early.
 */
static const char *fuzz_content_types[] = {
	NULL,
	"text/xml",
	"application/rss+xml; charset=windows-1251",
	"text/plain",
	"application/json",
};
#define FUZZ_TYPE_BITS 0x3f
#define FUZZ_NO_BASE 0x40
#define FUZZ_STOP 0x80

struct fuzz_stream {
	size_t n;	   /* entries seen */
	size_t stop_after; /* entries, 0 = never stop */
};

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* A string the parser hands out must be NULL or valid UTF-8. */
static void
fuzz_check_str(const char *s)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	utf8proc_ssize_t len, n;
	utf8proc_int32_t cp;

	if (s == NULL)
		return;
	len = (utf8proc_ssize_t)strlen(s);
	while (len > 0) {
		if ((n = utf8proc_iterate(p, len, &cp)) < 0)
			abort();
		p += n;
		len -= n;
	}
}

static void
fuzz_check_entry(const struct entry *e)
{
	size_t i;

	fuzz_check_str(e->id);
	fuzz_check_str(e->title);
	fuzz_check_str(e->link);
	fuzz_check_str(e->summary);
	fuzz_check_str(e->content);
	fuzz_check_str(e->author);
	if (e->categories == NULL || e->categories[e->ncategories] != NULL)
		abort();
	for (i = 0; i < e->ncategories; i++)
		fuzz_check_str(e->categories[i]);
	for (i = 0; i < e->nenclosures; i++) {
		if (e->enclosures[i].url == NULL)
			abort();
		fuzz_check_str(e->enclosures[i].url);
		fuzz_check_str(e->enclosures[i].type);
	}
}

/*
 * Check a document and its entries. The error messages are not held to
 * UTF-8: they may quote the bytes that were wrong.
 */
static void
fuzz_check_doc(const struct feed_doc *d)
{
	size_t i;

	if (d->nentries > FUZZ_MAX_ENTRIES)
		abort();
	if (d->nerrors > 0 && d->errors[d->nerrors] != NULL)
		abort();
	fuzz_check_str(d->title);
	fuzz_check_str(d->link);
	fuzz_check_str(d->description);
	fuzz_check_str(d->language);
	for (i = 0; i < d->nentries; i++)
		fuzz_check_entry(d->entries[i]);
}

/* The plain text of a field, as watchlists read it: UTF-8 too. */
static void
fuzz_check_text(const char *html)
{
	char *plain;

	if (html == NULL)
		return;
	if ((plain = text_from_html(html)) == NULL)
		abort();
	fuzz_check_str(plain);
	free(plain);
}

/* Take each streamed entry over and free it; maybe stop the parse. */
static int
fuzz_entry_cb(struct entry *e, void *arg)
{
	struct fuzz_stream *st = arg;

	fuzz_check_entry(e);
	fuzz_check_text(e->title);
	fuzz_check_text(e->summary);
	fuzz_check_text(e->content);
	feed_entry_free(e);
	if (++st->n > FUZZ_MAX_ENTRIES)
		abort();
	if (st->stop_after != 0 && st->n >= st->stop_after)
		return -1;
	return 0;
}

/* Parse once and free what came back, whichever way it came. */
static void
fuzz_parse_once(const uint8_t *data, size_t size, const struct parse_opts *opts,
    parse_entry_cb cb, void *arg)
{
	struct feed_doc *d;
	char *cause = NULL;

	d = parse_buffer((const char *)data, size, opts, cb, arg, &cause);
	if (d == NULL) {
		/* Not a feed: the reason must be there. */
		if (cause == NULL)
			abort();
		free(cause);
		return;
	}
	fuzz_check_doc(d);
	feed_doc_free(d);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct parse_opts opts;
	struct fuzz_stream st;
	uint8_t sel = size > 0 ? data[0] : 0;
	size_t ntypes = sizeof fuzz_content_types / sizeof *fuzz_content_types;

	memset(&opts, 0, sizeof opts);
	opts.base = (sel & FUZZ_NO_BASE) ? NULL : FUZZ_BASE;
	opts.content_type = fuzz_content_types[(sel & FUZZ_TYPE_BITS) % ntypes];
	opts.max_entries = FUZZ_MAX_ENTRIES;
	opts.max_depth = FUZZ_MAX_DEPTH;
	opts.max_size = FUZZ_MAX_SIZE;
	fuzz_parse_once(data, size, &opts, NULL, NULL);

	/* Inputs are at most -max_len bytes: a small size limit trips. */
	memset(&st, 0, sizeof st);
	st.stop_after = (sel & FUZZ_STOP) ? FUZZ_STOP_AFTER : 0;
	opts.max_size = FUZZ_MAX_SIZE_SMALL;
	opts.is_text_only = 1;
	fuzz_parse_once(data, size, &opts, fuzz_entry_cb, &st);
	return 0;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz_parse", 0);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		abort();
	xmlInitParser();
	return 0;
}
