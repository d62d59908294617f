#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>
#include <libxml/parser.h>

#include "config.h"
#include "date.h"
#include "feed.h"
#include "log.h"
#include "parse.h"
#include "version.h"
#include "xmalloc.h"

/*
 * feedwatch: the command-line tool over the same configuration and
 * parser as the daemon. Each subcommand is a function in cmd_table.
 */

#define DEFAULT_CONFIG "/etc/feedwatch/feedwatch.conf"
#define PARSE_MAX_FILE (64 * 1024 * 1024) /* bytes */

struct cmd {
	const char *name;
	int (*run)(int, char **);
	const char *usage;
};

static int cmd_check_config(int, char **);
static int cmd_parse(int, char **);

static const struct cmd cmd_table[] = {
	{ "check-config", cmd_check_config, "check-config [-c FILE]" },
	{ "parse", cmd_parse, "parse [--base URL] FILE" },
};

static void
usage(void)
{
	fprintf(stderr, "usage: feedwatch COMMAND [ARGS]\n");
	for (size_t i = 0; i < sizeof cmd_table / sizeof cmd_table[0]; i++)
		fprintf(stderr, "       feedwatch %s\n", cmd_table[i].usage);
	exit(2);
}

static int
cmd_check_config(int argc, char **argv)
{
	const char *path = DEFAULT_CONFIG;
	struct config *cfg;
	struct config_feed *f;
	struct config_watchlist *w;
	struct config_hook *h;
	char *cause;
	size_t nf = 0, nw = 0, nh = 0;
	int ch;

	while ((ch = getopt(argc, argv, "c:")) != -1) {
		if (ch != 'c')
			usage();
		path = optarg;
	}
	if ((cfg = config_load(path, &cause)) == NULL) {
		fprintf(stderr, "%s\n", cause);
		free(cause);
		return 1;
	}
	TAILQ_FOREACH(f, &cfg->feeds, entry)
		nf++;
	TAILQ_FOREACH(w, &cfg->watchlists, entry)
		nw++;
	TAILQ_FOREACH(h, &cfg->hooks, entry)
		nh++;
	printf(
	    "%s: OK: %zu feeds, %zu watchlists, %zu hooks\n", path, nf, nw, nh);
	config_free(cfg);
	return 0;
}

/* Read a whole file, up to PARSE_MAX_FILE bytes. Caller frees. */
static char *
read_file(const char *path, size_t *len)
{
	FILE *fp;
	char *buf = NULL;
	size_t cap = 0, n;

	if ((fp = fopen(path, "rbe")) == NULL)
		return NULL;
	*len = 0;
	do {
		if (*len + 65536 > cap) {
			cap = (*len + 65536) * 2;
			buf = xreallocarray(buf, cap, 1);
		}
		n = fread(buf + *len, 1, cap - *len - 1, fp);
		*len += n;
	} while (n > 0 && *len <= PARSE_MAX_FILE);
	if (ferror(fp) || *len > PARSE_MAX_FILE) {
		if (!ferror(fp))
			errno = EFBIG;
		fclose(fp);
		free(buf);
		return NULL;
	}
	fclose(fp);
	buf[*len] = '\0';
	return buf;
}

static json_t *
json_date(time_t t)
{
	char buf[32];

	if (t == -1)
		return json_null();
	date_format(t, buf, sizeof buf);
	return json_string(buf);
}

static json_t *
json_str(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

static json_t *
parse_entry_json(const struct entry *e)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id",
	    json_str(e->id), "title", json_str(e->title), "link",
	    json_str(e->link), "summary", json_str(e->summary), "content",
	    json_str(e->content), "author", json_str(e->author), "published",
	    json_date(e->published), "updated", json_date(e->updated));
}

static json_t *
parse_doc_json(const struct feed_doc *d)
{
	json_t *o, *errors = json_array(), *entries = json_array();

	for (size_t i = 0; i < d->nerrors; i++)
		json_array_append_new(errors, json_string(d->errors[i]));
	for (size_t i = 0; i < d->nentries; i++)
		json_array_append_new(entries, parse_entry_json(d->entries[i]));
	o = json_pack("{s:s, s:b, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "format",
	    feed_format_name(d->format), "bozo", d->is_bozo, "errors", errors,
	    "title", json_str(d->title), "link", json_str(d->link),
	    "description", json_str(d->description), "language",
	    json_str(d->language), "updated", json_date(d->updated), "entries",
	    entries);
	if (o == NULL)
		fatalx("json_pack failed");
	return o;
}

static int
cmd_parse(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "base", required_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	const char *base = NULL;
	struct feed_doc *doc;
	char *body, *cause;
	size_t len;
	json_t *o;
	int ch;

	while ((ch = getopt_long(argc, argv, "b:", longopts, NULL)) != -1) {
		if (ch != 'b')
			usage();
		base = optarg;
	}
	if (optind + 1 != argc)
		usage();
	if ((body = read_file(argv[optind], &len)) == NULL) {
		fprintf(stderr, "feedwatch: %s: %s\n", argv[optind],
		    strerror(errno));
		return 2;
	}
	doc = parse_feed(body, len, base, &cause);
	free(body);
	if (doc == NULL) {
		fprintf(stderr, "feedwatch: %s: %s\n", argv[optind], cause);
		free(cause);
		return 1;
	}
	o = parse_doc_json(doc);
	json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	putchar('\n');
	json_decref(o);
	feed_doc_free(doc);
	return 0;
}

int
main(int argc, char **argv)
{
	int rc;

	log_init("feedwatch", 0);
	if (argc < 2)
		usage();
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("feedwatch %s\n", FEEDWATCH_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof cmd_table / sizeof cmd_table[0]; i++) {
		if (strcmp(argv[1], cmd_table[i].name) != 0)
			continue;
		curl_global_init(CURL_GLOBAL_DEFAULT);
		xmlInitParser();
		rc = cmd_table[i].run(argc - 1, argv + 1);
		xmlCleanupParser();
		curl_global_cleanup();
		return rc;
	}
	usage();
}
