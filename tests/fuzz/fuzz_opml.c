#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <libxml/parser.h>

#include "discover.h"
#include "log.h"
#include "opml.h"

/*
 * libFuzzer target for opml_read() and discover_links(): the input is
 * read as OPML, its feeds are written into a new document with
 * opml_add, and that document must read back with the same names and
 * URLs; the same input is searched for feed links as an HTML page.
 */

#define FUZZ_BASE "https://example.com/news/"

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* What opml_add took must read back as it was given. */
static void
fuzz_round_trip(const struct opml *o)
{
	const struct opml_feed *f, *g;
	struct opml *out = opml_new("fuzz"), *back;
	char *text, *cause;
	size_t len;
	int *added = calloc(o->nfeeds + 1, sizeof *added);

	if (added == NULL)
		abort();
	for (size_t i = 0; i < o->nfeeds; i++) {
		f = &o->feeds[i];
		added[i] =
		    opml_add(out, f->name, f->url, (const char *const *)f->tags,
			f->html_url, &cause) == 0;
		if (!added[i])
			free(cause);
	}
	text = opml_dump(out, &len);
	if ((back = opml_read(text, len, "dump", &cause)) == NULL)
		abort();
	for (size_t i = 0; i < o->nfeeds; i++) {
		f = &o->feeds[i];
		if (!added[i])
			continue;
		if ((g = opml_find(back, f->name)) == NULL ||
		    strcmp(g->url, f->url) != 0)
			abort();
	}
	opml_free(back);
	opml_free(out);
	free(text);
	free(added);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct discover_link *links;
	struct opml *o;
	char *cause;
	size_t n;

	if ((o = opml_read((const char *)data, size, "fuzz", &cause)) != NULL) {
		for (size_t i = 0; i < o->nfeeds; i++) {
			if (o->feeds[i].name == NULL ||
			    *o->feeds[i].name == '\0' ||
			    strlen(o->feeds[i].name) > OPML_MAX_NAME)
				abort();
		}
		fuzz_round_trip(o);
		opml_free(o);
	} else
		free(cause);
	n = discover_links((const char *)data, size, FUZZ_BASE, &links);
	if (n > DISCOVER_MAX_LINKS)
		abort();
	discover_free(links, n);
	return 0;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz_opml", 0);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		abort();
	xmlInitParser();
	return 0;
}
