#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
	{ "parse", cmd_parse,
	    "parse [--base URL] [--content-type TYPE] "
	    "[--encoding CHARSET] FILE" },
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
	json_t *cats = json_array(), *encs = json_array(), *enc;

	for (size_t i = 0; i < e->ncategories; i++)
		json_array_append_new(cats, json_string(e->categories[i]));
	for (size_t i = 0; i < e->nenclosures; i++) {
		enc = json_pack("{s:s, s:o, s:o}", "url", e->enclosures[i].url,
		    "type", json_str(e->enclosures[i].type), "length",
		    e->enclosures[i].length == -1 ?
			json_null() :
			json_integer(e->enclosures[i].length));
		json_array_append_new(encs, enc);
	}
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
	    "id", json_str(e->id), "title", json_str(e->title), "link",
	    json_str(e->link), "summary", json_str(e->summary), "content",
	    json_str(e->content), "author", json_str(e->author), "published",
	    json_date(e->published), "updated", json_date(e->updated),
	    "categories", cats, "enclosures", encs);
}

/* Print each entry as it is read: the document's JSON is streamed. */
static int
parse_print_cb(struct entry *e, void *arg)
{
	size_t *n = arg;
	json_t *o = parse_entry_json(e);

	fputs((*n)++ == 0 ? "{\"entries\": [\n  " : ",\n  ", stdout);
	json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	feed_entry_free(e);
	return 0;
}

/* The document's own fields, after its entries. */
static void
parse_print_doc(const struct feed_doc *d)
{
	json_t *o, *errors = json_array();
	char *s;

	for (size_t i = 0; i < d->nerrors; i++)
		json_array_append_new(errors, json_string(d->errors[i]));
	o = json_pack("{s:s, s:b, s:o, s:o, s:o, s:o, s:o, s:o}", "format",
	    feed_format_name(d->format), "bozo", d->is_bozo, "errors", errors,
	    "title", json_str(d->title), "link", json_str(d->link),
	    "description", json_str(d->description), "language",
	    json_str(d->language), "updated", json_date(d->updated));
	if (o == NULL || (s = json_dumps(o, JSON_PRESERVE_ORDER)) == NULL)
		fatalx("json_dumps failed");
	/* Splice the object's members in after the entries array. */
	printf("%s,\n %s\n", "", s + 1);
	free(s);
	json_decref(o);
}

static int
cmd_parse(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "base", required_argument, NULL, 'b' },
		{ "content-type", required_argument, NULL, 't' },
		{ "encoding", required_argument, NULL, 'e' },
		{ NULL, 0, NULL, 0 },
	};
	struct parse_opts opts;
	struct feed_doc *doc;
	char *cause;
	size_t n = 0;
	int ch, fd;

	memset(&opts, 0, sizeof opts);
	while ((ch = getopt_long(argc, argv, "b:t:e:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'b':
			opts.base = optarg;
			break;
		case 't':
			opts.content_type = optarg;
			break;
		case 'e':
			opts.encoding = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind + 1 != argc)
		usage();
	if ((fd = open(argv[optind], O_RDONLY | O_CLOEXEC)) == -1) {
		fprintf(stderr, "feedwatch: %s: %s\n", argv[optind],
		    strerror(errno));
		return 2;
	}
	doc = parse_fd(fd, &opts, parse_print_cb, &n, &cause);
	close(fd);
	if (doc == NULL) {
		fprintf(stderr, "feedwatch: %s: %s\n", argv[optind], cause);
		free(cause);
		return 1;
	}
	fputs(n > 0 ? "\n ]" : "{\"entries\": []", stdout);
	parse_print_doc(doc);
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
