#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <jansson.h>
#include <libxml/parser.h>

#include "config.h"
#include "date.h"
#include "discover.h"
#include "feed.h"
#include "fetch.h"
#include "log.h"
#include "match.h"
#include "opml.h"
#include "parse.h"
#include "pipeline.h"
#include "store.h"
#include "text.h"
#include "url.h"
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
static int cmd_match(int, char **);
static int cmd_stories(int, char **);
static int cmd_alerts(int, char **);
static int cmd_feeds(int, char **);
static int cmd_status(int, char **);
static int cmd_feeds_dispatch(int, char **);

static const struct cmd cmd_table[] = {
	{ "alerts", cmd_alerts,
	    "alerts [-c FILE] [--pending|--failed|--delivered] [--limit N] "
	    "[--json]\n"
	    "                 alerts [-c FILE] retry ID|--failed" },
	{ "check-config", cmd_check_config, "check-config [-c FILE]" },
	{ "feeds", cmd_feeds_dispatch,
	    "feeds [-c FILE] [list] [--json]\n"
	    "                 feeds [-c FILE] add [--name NAME] [--tags TAGS] "
	    "[--pick N] URL\n"
	    "                 feeds [-c FILE] import FILE.opml\n"
	    "                 feeds [-c FILE] export" },
	{ "match", cmd_match,
	    "match [-c FILE] [--watchlist NAME] [--feed NAME] [--text] "
	    "[--json] FILE|URL\n"
	    "                 match --query QUERY [--language LANG] "
	    "[--accents keep] [--text] [--json] FILE|URL" },
	{ "stories", cmd_stories,
	    "stories [-c FILE] [--since 2d] [--feed NAME] [--watchlist NAME] "
	    "[--search QUERY] [--limit N] [--json]\n"
	    "                 stories [-c FILE] show ID [--json]" },
	{ "status", cmd_status, "status [-c FILE] [--json]" },
	{ "parse", cmd_parse,
	    "parse [--base URL] [--content-type TYPE] "
	    "[--encoding CHARSET] FILE" },
};

/*
 * Load the configuration at path and open its story log. Return 0, or
 * -1 after saying why on stderr (nothing is left open).
 */
static int
cli_open_log(const char *path, struct config **cfg, struct store **st)
{
	char *cause;

	*st = NULL;
	if ((*cfg = config_load(path, &cause)) == NULL ||
	    (*st = store_open((*cfg)->database, &cause)) == NULL) {
		fprintf(stderr, "%s\n", cause);
		free(cause);
		config_free(*cfg);
		*cfg = NULL;
		return -1;
	}
	return 0;
}

static int
match_cli_has_watchlist(const struct config *cfg, const char *name)
{
	struct config_watchlist *w;

	TAILQ_FOREACH(w, &cfg->watchlists, entry) {
		if (strcmp(w->name, name) == 0)
			return 1;
	}
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: feedwatch COMMAND [ARGS]\n");
	for (size_t i = 0; i < sizeof cmd_table / sizeof cmd_table[0]; i++)
		fprintf(stderr, "       feedwatch %s\n", cmd_table[i].usage);
	exit(2);
}

/*
 * The value of --limit: a whole number, 0 for all, or the usage with
 * what was wrong.
 */
static int
cli_limit(const char *arg)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(arg, &end, 10);
	if (*arg == '\0' || *end != '\0' || errno != 0 || n < 0 ||
	    n > INT_MAX) {
		fprintf(stderr,
		    "feedwatch: bad --limit \"%s\": a number, 0 for all\n",
		    arg);
		usage();
	}
	return (int)n;
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
	/* A file named without -c would leave the default checked. */
	if (optind != argc)
		usage();
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

/*
 * An entry is written straight to stdout, not built as a jansson tree:
 * the same compact JSON that json_dumpf(JSON_COMPACT) prints, at a
 * fraction of its cost on big documents. Its strings are valid UTF-8
 * (parse.c's contract), so only the quote, the backslash and the
 * controls need escaping.
 */
static void
parse_put_str(FILE *f, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const char *run;
	unsigned char c;

	if (s == NULL) {
		fputs("null", f);
		return;
	}
	putc('"', f);
	for (;;) {
		for (run = s;
		     (c = (unsigned char)*s) >= 0x20 && c != '"' && c != '\\';
		     s++)
			;
		fwrite(run, 1, (size_t)(s - run), f);
		if (c == '\0')
			break;
		putc('\\', f);
		switch (c) {
		case '"':
		case '\\':
			putc(c, f);
			break;
		case '\b':
			putc('b', f);
			break;
		case '\f':
			putc('f', f);
			break;
		case '\n':
			putc('n', f);
			break;
		case '\r':
			putc('r', f);
			break;
		case '\t':
			putc('t', f);
			break;
		default:
			fputs("u00", f);
			putc(hex[c >> 4], f);
			putc(hex[c & 0xf], f);
			break;
		}
		s++;
	}
	putc('"', f);
}

static void
parse_put_date(FILE *f, time_t t)
{
	char buf[32];

	if (t == -1) {
		fputs("null", f);
		return;
	}
	date_format(t, buf, sizeof buf);
	parse_put_str(f, buf);
}

/* "name": value, with the comma before it unless it is the first. */
static void
parse_put_key(FILE *f, const char *name, int is_first)
{
	fputs(is_first ? "{\"" : ",\"", f);
	fputs(name, f);
	fputs("\":", f);
}

static void
parse_put_member(FILE *f, const char *name, const char *value, int is_first)
{
	parse_put_key(f, name, is_first);
	parse_put_str(f, value);
}

static void
parse_put_entry(FILE *f, const struct entry *e)
{
	const struct enclosure *enc;

	parse_put_member(f, "id", e->id, 1);
	parse_put_member(f, "title", e->title, 0);
	parse_put_member(f, "link", e->link, 0);
	parse_put_member(f, "summary", e->summary, 0);
	parse_put_member(f, "content", e->content, 0);
	parse_put_member(f, "author", e->author, 0);
	parse_put_key(f, "published", 0);
	parse_put_date(f, e->published);
	parse_put_key(f, "updated", 0);
	parse_put_date(f, e->updated);
	parse_put_key(f, "categories", 0);
	putc('[', f);
	for (size_t i = 0; i < e->ncategories; i++) {
		if (i > 0)
			putc(',', f);
		parse_put_str(f, e->categories[i]);
	}
	putc(']', f);
	parse_put_key(f, "enclosures", 0);
	putc('[', f);
	for (size_t i = 0; i < e->nenclosures; i++) {
		enc = &e->enclosures[i];
		if (i > 0)
			putc(',', f);
		parse_put_member(f, "url", enc->url, 1);
		parse_put_member(f, "type", enc->type, 0);
		parse_put_key(f, "length", 0);
		if (enc->length == -1)
			fputs("null", f);
		else
			fprintf(f, "%lld", (long long)enc->length);
		putc('}', f);
	}
	fputs("]}", f);
}

/* Print each entry as it is read: the document's JSON is streamed. */
static int
parse_print_cb(struct entry *e, void *arg)
{
	size_t *n = arg;

	fputs((*n)++ == 0 ? "{\"entries\": [\n  " : ",\n  ", stdout);
	parse_put_entry(stdout, e);
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

/* A document fetched once by a command: `match` URL, `feeds add`. */
struct cli_page {
	char *body;
	size_t len;
	char *content_type;
	char *url; /* after redirects */
	char *error;
};

static void
cli_fetched_cb(const struct fetch_result *r, void *arg)
{
	struct cli_page *p = arg;

	if (r->error != NULL) {
		p->error = xstrdup(r->error);
		return;
	}
	p->body = xmalloc(r->len + 1);
	memcpy(p->body, r->body != NULL ? r->body : "", r->len);
	p->body[r->len] = '\0';
	p->len = r->len;
	if (r->content_type != NULL)
		p->content_type = xstrdup(r->content_type);
	if (r->effective_url != NULL) {
		free(p->url);
		p->url = xstrdup(r->effective_url);
	}
}

/*
 * Fetch url once, as the daemon would with cfg's user agent and fetch
 * settings (libcurl's defaults and PARSE_MAX_SIZE when cfg is NULL),
 * redirects to http(s) only. Return 0, or -1 with p->error.
 */
static int
cli_fetch(const struct config *cfg, const char *url, struct cli_page *p)
{
	struct fetch_opts fo = { cfg != NULL ? cfg->user_agent : NULL, 1, 1 };
	struct fetch_req req;
	struct event_base *base;
	struct fetch *f;

	memset(&req, 0, sizeof req);
	req.url = url;
	req.timeout = cfg != NULL ? cfg->fetch.timeout : 60;
	req.connect_timeout = cfg != NULL ? cfg->fetch.connect_timeout : 20;
	req.low_speed_limit = cfg != NULL ? cfg->fetch.low_speed_limit : 64;
	req.low_speed_time = cfg != NULL ? cfg->fetch.low_speed_time : 30;
	req.max_body = cfg != NULL ? cfg->fetch.max_body : PARSE_MAX_SIZE;
	if (cfg != NULL) {
		req.ca_file = cfg->fetch.ca_file;
		req.proxy = cfg->fetch.proxy;
	}
	memset(p, 0, sizeof *p);
	p->url = xstrdup(url);
	if ((base = event_base_new()) == NULL ||
	    (f = fetch_new(base, &fo)) == NULL)
		fatalx("cannot set up libevent and libcurl");
	fetch_start(f, &req, cli_fetched_cb, p);
	event_base_dispatch(base);
	fetch_free(f);
	event_base_free(base);
	return p->error != NULL ? -1 : 0;
}

static int
match_load_file(struct cli_page *in, const char *path)
{
	FILE *fp;
	size_t n, cap = 65536;

	if ((fp = fopen(path, "rbe")) == NULL) {
		in->error = xstrdup(strerror(errno));
		return -1;
	}
	in->body = xmalloc(cap);
	while ((n = fread(in->body + in->len, 1, cap - in->len - 1, fp)) > 0) {
		in->len += n;
		if (in->len + 1 == cap) {
			if (cap > PARSE_MAX_SIZE) {
				fclose(fp);
				in->error = xstrdup("file larger than 64 MiB");
				return -1;
			}
			cap *= 2;
			in->body = xreallocarray(in->body, cap, 1);
		}
	}
	in->body[in->len] = '\0';
	if (ferror(fp))
		in->error = xstrdup(strerror(errno));
	fclose(fp);
	return in->error != NULL ? -1 : 0;
}

/* One story to match: an entry of a feed, or the whole text. */
struct match_cli {
	struct match_set *set;
	const char *only;		/* --watchlist NAME, or NULL */
	const struct config_feed *feed; /* when known */
	int is_json;
	int is_query;	 /* --query: no configuration */
	size_t n;	 /* stories looked at */
	size_t nmatched; /* stories that matched */
	json_t *hits;	 /* this story's, for --json */
	const char *title;
	const char *link;
	int printed;
};

static void
match_cli_cb(void *arg, const struct match_result *r, void *cbarg)
{
	const struct config_watchlist *w = arg;
	struct match_cli *c = cbarg;
	const char *name = c->is_query ? "query" : w->name;
	const char *const *matched;
	json_t *terms;
	size_t n;

	if (c->only != NULL && strcmp(c->only, name) != 0)
		return;
	if (!c->is_query && c->feed != NULL &&
	    !config_watchlist_wants(w, c->feed))
		return;
	matched = match_result_matched(r, &n);
	if (c->is_json) {
		terms = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(terms, json_string(matched[i]));
		json_array_append_new(c->hits,
		    json_pack("{s:s, s:o, s:s}", "watchlist", name, "matched",
			terms, "snippet", match_result_snippet(r)));
		return;
	}
	if (!c->printed++)
		printf("%zu. %s%s%s%s\n", c->n, *c->title ? c->title : "(text)",
		    c->link ? " <" : "", c->link ? c->link : "",
		    c->link ? ">" : "");
	printf("   %s: ", name);
	for (size_t i = 0; i < n; i++)
		printf("%s%s", i ? ", " : "", matched[i]);
	printf("\n      %s\n", match_result_snippet(r));
}

static void
match_cli_story(
    struct match_cli *c, const char *title, const char *text, const char *link)
{
	struct match_story st;

	c->n++;
	c->printed = 0;
	c->title = title;
	c->link = link;
	c->hits = json_array();
	st.title = title;
	st.text = text;
	st.feed = c->feed != NULL ? c->feed->name : NULL;
	st.url = link;
	st.tags = c->feed != NULL ? (const char *const *)c->feed->tags : NULL;
	match_set_run(c->set, &st, match_cli_cb, c);
	if (c->is_json ? json_array_size(c->hits) > 0 : c->printed > 0)
		c->nmatched++;
	if (c->is_json) {
		json_t *o = json_pack("{s:I, s:s, s:o, s:O}", "entry",
		    (json_int_t)c->n, "title", title, "link",
		    link != NULL ? json_string(link) : json_null(), "matches",
		    c->hits);

		json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(o);
	}
	json_decref(c->hits);
}

static int
match_cli_entry_cb(struct entry *e, void *arg)
{
	char *title = pipeline_entry_title(e);
	char *text = pipeline_entry_text(e);

	match_cli_story(arg, title, text, e->link);
	free(text);
	free(title);
	feed_entry_free(e);
	return 0;
}

/* Match each entry of a feed, or, when it is none, the input as text. */
static void
match_cli_input(struct match_cli *c, const struct cli_page *in, int is_text)
{
	struct parse_opts opts;
	struct feed_doc *doc = NULL;
	char *cause = NULL, *text;

	memset(&opts, 0, sizeof opts);
	opts.base = in->url;
	opts.content_type = in->content_type;
	opts.encoding = c->feed != NULL ? c->feed->encoding : NULL;
	opts.is_text_only = 1; /* as the daemon reads it */
	if (!is_text)
		doc = parse_buffer(
		    in->body, in->len, &opts, match_cli_entry_cb, c, &cause);
	if (doc != NULL) {
		for (size_t i = 0; i < doc->nerrors; i++)
			fprintf(stderr, "feedwatch: %s\n", doc->errors[i]);
		feed_doc_free(doc);
		return;
	}
	free(cause);
	text = text_from_html(in->body);
	match_cli_story(c, "", text, in->url);
	free(text);
}

/* The configured feed an input comes from, by URL or by --feed. */
static const struct config_feed *
match_cli_feed(const struct config *cfg, const char *name, const char *url)
{
	struct config_feed *f;

	TAILQ_FOREACH(f, &cfg->feeds, entry) {
		if ((name != NULL && strcmp(f->name, name) == 0) ||
		    (name == NULL && url != NULL && strcmp(f->url, url) == 0))
			return f;
	}
	return NULL;
}

static int
cmd_match(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "watchlist", required_argument, NULL, 'w' },
		{ "feed", required_argument, NULL, 'f' },
		{ "query", required_argument, NULL, 'q' },
		{ "language", required_argument, NULL, 'l' },
		{ "accents", required_argument, NULL, 'a' },
		{ "text", no_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = DEFAULT_CONFIG, *query = NULL, *language = NULL;
	const char *feed = NULL;
	struct cli_page in;
	struct match_cli c;
	struct match_query *q;
	struct config *cfg = NULL;
	char *cause;
	int ch, flags = 0, is_text = 0, rc;

	memset(&c, 0, sizeof c);
	memset(&in, 0, sizeof in);
	while ((ch = getopt_long(
		    argc, argv, "c:w:f:q:l:a:tj", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'w':
			c.only = optarg;
			break;
		case 'f':
			feed = optarg;
			break;
		case 'q':
			query = optarg;
			break;
		case 'l':
			language = optarg;
			break;
		case 'a':
			if (strcmp(optarg, "keep") == 0)
				flags |= MATCH_KEEP_ACCENTS;
			else if (strcmp(optarg, "fold") != 0)
				usage();
			break;
		case 't':
			is_text = 1;
			break;
		case 'j':
			c.is_json = 1;
			break;
		default:
			usage();
		}
	}
	/* --query tries one query: no configuration, none of its names. */
	if (optind + 1 != argc ||
	    (query != NULL && (c.only != NULL || feed != NULL)))
		usage();
	if (query != NULL) {
		if ((q = match_query_new(query, language, flags, &cause)) ==
		    NULL) {
			fprintf(stderr, "feedwatch: query: %s\n", cause);
			free(cause);
			return 2;
		}
		c.is_query = 1;
		c.set = match_set_new();
		match_set_add(c.set, q, NULL);
	} else {
		if ((cfg = config_load(path, &cause)) == NULL) {
			fprintf(stderr, "%s\n", cause);
			free(cause);
			return 2;
		}
		if ((c.set = cfg->matcher) == NULL) {
			fprintf(
			    stderr, "feedwatch: %s has no watchlist\n", path);
			config_free(cfg);
			return 2;
		}
		if (c.only != NULL && !match_cli_has_watchlist(cfg, c.only)) {
			fprintf(stderr,
			    "feedwatch: no watchlist \"%s\" in %s\n", c.only,
			    path);
			config_free(cfg);
			return 2;
		}
		if (feed != NULL && match_cli_feed(cfg, feed, NULL) == NULL) {
			fprintf(stderr, "feedwatch: no feed \"%s\" in %s\n",
			    feed, path);
			config_free(cfg);
			return 2;
		}
	}
	if (strstr(argv[optind], "://") != NULL)
		rc = cli_fetch(cfg, argv[optind], &in);
	else
		rc = match_load_file(&in, argv[optind]);
	if (rc == -1) {
		fprintf(stderr, "feedwatch: %s: %s\n", argv[optind], in.error);
		rc = 2;
	} else {
		/* The url as given: where it redirects is not in the file. */
		if (cfg != NULL)
			c.feed = match_cli_feed(cfg, feed, argv[optind]);
		match_cli_input(&c, &in, is_text);
		if (!c.is_json)
			printf("%zu of %zu %s matched\n", c.nmatched, c.n,
			    c.n == 1 ? "story" : "stories");
		rc = c.nmatched > 0 ? 0 : 1;
	}
	free(in.body);
	free(in.content_type);
	free(in.url);
	free(in.error);
	if (c.is_query)
		match_set_free(c.set);
	config_free(cfg);
	return rc;
}

/* `feedwatch stories`: the story log, by cluster. */
struct stories_cli {
	struct store *st;
	int is_json;
	json_t *list; /* rows gathered by stories_collect_cb */
};

static json_t *
stories_story_json(const struct store_row *r)
{
	json_t *o = json_pack("{s:I, s:s?, s:s?, s:o, s:{s:s?, s:s?}, s:s?}",
	    "id", (json_int_t)r->id, "title", r->title, "url", r->url,
	    "published", json_date(r->published), "feed", "name", r->feed_name,
	    "url", r->feed_url, "summary", r->summary);

	if (o == NULL)
		fatalx("json_pack failed");
	return o;
}

static void
stories_collect_cb(const struct store_row *r, void *arg)
{
	struct stories_cli *c = arg;
	json_t *o = stories_story_json(r);

	json_object_set_new(o, "joined",
	    r->joined != NULL ? json_string(r->joined) : json_null());
	json_array_append_new(c->list, o);
}

static void
stories_watchlist_cb(const char *name, void *arg)
{
	json_array_append_new(arg, json_string(name));
}

/* A cluster as JSON: its first story, the others as sources. */
static json_t *
stories_cluster_json(struct stories_cli *c, int64_t id, char **cause)
{
	json_t *story, *sources = json_array(), *src, *wl = json_array();
	size_t i;

	c->list = json_array();
	if (store_cluster(c->st, id, stories_collect_cb, c, cause) <= 0 ||
	    store_cluster_watchlists(
		c->st, id, stories_watchlist_cb, wl, cause) == -1) {
		json_decref(c->list);
		json_decref(sources);
		json_decref(wl);
		return NULL;
	}
	story = json_incref(json_array_get(c->list, 0));
	json_object_del(story, "joined");
	json_array_foreach(c->list, i, src)
	{
		if (i > 0)
			json_array_append_new(sources,
			    json_pack("{s:O, s:O, "
				      "s:O}",
				"feed",
				json_object_get(
				    json_object_get(src, "feed"), "name"),
				"url", json_object_get(src, "url"), "joined",
				json_object_get(src, "joined")));
	}
	json_decref(c->list);
	json_object_set_new(story, "sources", sources);
	return json_pack("{s:o, s:o}", "story", story, "watchlists", wl);
}

static void
stories_print(json_t *o, int is_json, int is_show)
{
	json_t *story = json_object_get(o, "story"), *src, *w;
	const char *date =
	    json_string_value(json_object_get(story, "published"));
	const char *title = json_string_value(json_object_get(story, "title"));
	size_t i, n = json_array_size(json_object_get(story, "sources"));

	if (is_json) {
		json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
		putchar('\n');
		return;
	}
	printf("%lld  %.10s  %s: %s\n    %s\n",
	    (long long)json_integer_value(json_object_get(story, "id")),
	    date != NULL ? date : "(no date)",
	    json_string_value(
		json_object_get(json_object_get(story, "feed"), "name")),
	    title != NULL ? title : "(pruned)",
	    json_string_value(json_object_get(story, "url")) ?
		json_string_value(json_object_get(story, "url")) :
		"(no link)");
	if (json_array_size(json_object_get(o, "watchlists")) > 0) {
		printf("    watchlists:");
		json_array_foreach(json_object_get(o, "watchlists"), i, w)
		    printf(" %s", json_string_value(w));
		putchar('\n');
	}
	if (!is_show) {
		if (n > 0)
			printf("    and %zu more source%s (feedwatch stories "
			       "show %lld)\n",
			    n, n == 1 ? "" : "s",
			    (long long)json_integer_value(
				json_object_get(story, "id")));
		return;
	}
	printf("    sources: %zu more\n", n);
	json_array_foreach(json_object_get(story, "sources"), i, src)
	    printf("      %s  %s  (%s)\n",
		json_string_value(json_object_get(src, "feed")),
		json_string_value(json_object_get(src, "url")) ?
		    json_string_value(json_object_get(src, "url")) :
		    "(no link)",
		json_string_value(json_object_get(src, "joined")));
}

static void
stories_head_cb(const struct store_row *r, void *arg)
{
	json_array_append_new(arg, json_integer(r->id));
}

static int
stories_list(struct stories_cli *c, const struct store_filter *f)
{
	json_t *ids = json_array(), *id, *o;
	char *cause = NULL;
	size_t i;

	if (store_stories(c->st, f, stories_head_cb, ids, &cause) == -1) {
		fprintf(stderr, "feedwatch: %s\n", cause);
		free(cause);
		json_decref(ids);
		return 2;
	}
	json_array_foreach(ids, i, id)
	{
		if ((o = stories_cluster_json(
			 c, json_integer_value(id), &cause)) == NULL)
			break;
		stories_print(o, c->is_json, 0);
		json_decref(o);
	}
	if (!c->is_json)
		printf("%zu stor%s\n", json_array_size(ids),
		    json_array_size(ids) == 1 ? "y" : "ies");
	json_decref(ids);
	if (cause != NULL) {
		fprintf(stderr, "feedwatch: %s\n", cause);
		free(cause);
		return 2;
	}
	return 0;
}

static int
stories_show(struct stories_cli *c, const char *arg)
{
	char *end, *cause = NULL;
	long long id = strtoll(arg, &end, 10);
	json_t *o;

	if (*arg == '\0' || *end != '\0' || id < 1) {
		fprintf(stderr, "feedwatch: %s is not a story id\n", arg);
		return 2;
	}
	if ((o = stories_cluster_json(c, id, &cause)) == NULL) {
		fprintf(stderr, "feedwatch: %s\n",
		    cause != NULL ? cause : "no such story");
		free(cause);
		return cause != NULL ? 2 : 1;
	}
	stories_print(o, c->is_json, 1);
	json_decref(o);
	return 0;
}

static int
cmd_stories(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "since", required_argument, NULL, 's' },
		{ "feed", required_argument, NULL, 'f' },
		{ "watchlist", required_argument, NULL, 'w' },
		{ "search", required_argument, NULL, 'q' },
		{ "limit", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = DEFAULT_CONFIG;
	struct store_filter f = { 0, NULL, NULL, NULL, 50 };
	struct stories_cli c = { NULL, 0, NULL };
	struct config *cfg;
	int ch, secs, rc;

	while ((ch = getopt_long(
		    argc, argv, "c:s:f:w:q:n:j", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 's':
			if (config_duration(optarg, &secs) == -1) {
				fprintf(stderr,
				    "feedwatch: bad --since \"%s\": a "
				    "duration such as 2d or 12h\n",
				    optarg);
				usage();
			}
			f.since = time(NULL) - secs;
			break;
		case 'f':
			f.feed = optarg;
			break;
		case 'w':
			f.watchlist = optarg;
			break;
		case 'q':
			f.search = optarg;
			break;
		case 'n':
			f.limit = cli_limit(optarg);
			break;
		case 'j':
			c.is_json = 1;
			break;
		default:
			usage();
		}
	}
	if (optind < argc &&
	    (strcmp(argv[optind], "show") != 0 || optind + 2 != argc))
		usage();
	if (cli_open_log(path, &cfg, &c.st) == -1)
		return 2;
	if (optind < argc)
		rc = stories_show(&c, argv[optind + 1]);
	else
		rc = stories_list(&c, &f);
	store_close(c.st);
	config_free(cfg);
	return rc;
}

/* `feedwatch alerts`: the outbox. */
static void
alerts_print_cb(const struct store_alert_row *r, void *arg)
{
	const int *is_json = arg;
	char created[32], next[32];
	json_t *o;

	date_format(r->created, created, sizeof created);
	date_format(r->next_attempt, next, sizeof next);
	if (*is_json) {
		o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:i, s:s?, s:s, s:s?, "
			      "s:I, s:s?}",
		    "id", (json_int_t)r->id, "alert_id", r->alert_id,
		    "watchlist", r->watchlist, "hook", r->hook, "state",
		    r->state, "attempts", r->attempts, "last_error",
		    r->last_error, "created", created, "next_attempt",
		    strcmp(r->state, "pending") == 0 && r->next_attempt > 0 ?
			next :
			NULL,
		    "story_id", (json_int_t)r->story_id, "title", r->title);
		json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(o);
		return;
	}
	printf("%lld  %-9s %d attempt%s  %s -> %s  %s\n", (long long)r->id,
	    r->state, r->attempts, r->attempts == 1 ? "" : "s", r->watchlist,
	    r->hook, r->title != NULL ? r->title : "(pruned)");
	if (r->last_error != NULL && strcmp(r->state, "delivered") != 0)
		printf("    last error: %s%s%s\n", r->last_error,
		    strcmp(r->state, "pending") == 0 && r->next_attempt > 0 ?
			"; next try " :
			"",
		    strcmp(r->state, "pending") == 0 && r->next_attempt > 0 ?
			next :
			"");
}

static int
alerts_retry(struct store *st, const char *what)
{
	char *end, *cause;
	long long id = 0;
	int n;

	if (strcmp(what, "--failed") != 0) {
		id = strtoll(what, &end, 10);
		if (*what == '\0' || *end != '\0' || id < 1) {
			fprintf(
			    stderr, "feedwatch: %s is not an alert id\n", what);
			return 2;
		}
	}
	if ((n = store_alert_retry(st, id, &cause)) == -1) {
		fprintf(stderr, "feedwatch: %s\n", cause);
		free(cause);
		return 2;
	}
	printf("%d alert%s back to pending\n", n, n == 1 ? "" : "s");
	return n > 0 || id == 0 ? 0 : 1;
}

static int
cmd_alerts(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "pending", no_argument, NULL, 'p' },
		{ "failed", no_argument, NULL, 'f' },
		{ "delivered", no_argument, NULL, 'd' },
		{ "limit", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = DEFAULT_CONFIG, *state = NULL;
	struct config *cfg;
	struct store *st = NULL;
	char *cause;
	int ch, limit = 50, is_json = 0, is_retry, rc = 0;

	/* "retry --failed": --failed names what to retry, not a filter. */
	is_retry = argc > 1 && strcmp(argv[argc - 2], "retry") == 0;
	while (!is_retry &&
	    (ch = getopt_long(argc, argv, "c:pfdn:j", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'p':
			state = STORE_ALERT_PENDING;
			break;
		case 'f':
			state = STORE_ALERT_FAILED;
			break;
		case 'd':
			state = STORE_ALERT_DELIVERED;
			break;
		case 'n':
			limit = cli_limit(optarg);
			break;
		case 'j':
			is_json = 1;
			break;
		default:
			usage();
		}
	}
	if (is_retry) {
		for (optind = 1; optind < argc - 2; optind++) {
			if (strcmp(argv[optind], "-c") == 0 &&
			    optind + 1 < argc - 2)
				path = argv[++optind];
			else
				usage();
		}
	} else if (optind != argc)
		usage();
	if (cli_open_log(path, &cfg, &st) == -1)
		return 2;
	if (is_retry)
		rc = alerts_retry(st, argv[argc - 1]);
	else if (store_alert_list(st, state, limit, alerts_print_cb, &is_json,
		     &cause) == -1) {
		fprintf(stderr, "feedwatch: %s\n", cause);
		free(cause);
		rc = 2;
	}
	store_close(st);
	config_free(cfg);
	return rc;
}

/*
 * `feedwatch feeds add|import|export`: the feed list kept in OPML. add
 * and import write into the first opml file of [feeds], creating it;
 * export prints every configured feed as OPML 2.0.
 */

#define FEEDS_OPML_TITLE "feedwatch feeds"

/* Where new feeds go: the configuration and its first OPML file. */
struct feeds_target {
	struct config *cfg;
	const char *path; /* the OPML file, borrowed from cfg */
	struct opml *opml;
	int is_new; /* the file does not exist yet */
};

/* A document fetched once by `feeds add`. */
/* What `feeds add` was told. */
struct feeds_add_opts {
	const char *name; /* --name, or NULL */
	char **tags;	  /* --tags, NULL-terminated */
	int pick;	  /* --pick, 0 = none */
};

/*
 * The first word of argv that is not an option or an option's value:
 * the subcommand of `feeds`, which options may come before.
 */
static const char *
feeds_word(int argc, char **argv)
{
	static const char *valued[] = { "config", "name", "tags", "pick" };
	const char *a;
	size_t len;

	for (int i = 1; i < argc; i++) {
		a = argv[i];
		if (strcmp(a, "--") == 0)
			return i + 1 < argc ? argv[i + 1] : NULL;
		if (a[0] != '-' || a[1] == '\0')
			return a;
		if (a[1] != '-') {
			if (strchr("cntp", a[1]) != NULL && a[2] == '\0')
				i++;
			continue;
		}
		if (strchr(a, '=') != NULL)
			continue;
		len = strlen(a + 2);
		for (size_t j = 0; j < sizeof valued / sizeof valued[0]; j++) {
			if (strncmp(valued[j], a + 2, len) == 0) {
				i++;
				break;
			}
		}
	}
	return NULL;
}

/* Load the configuration and the OPML file new feeds go to. */
static int
feeds_target_open(const char *path, struct feeds_target *t)
{
	struct config_opml *c;
	char *cause;

	memset(t, 0, sizeof *t);
	t->cfg = config_load_flags(path, CONFIG_OPML_MAY_BE_MISSING, &cause);
	if (t->cfg == NULL) {
		fprintf(stderr, "%s\n", cause);
		free(cause);
		return 2;
	}
	if ((c = TAILQ_FIRST(&t->cfg->opml)) == NULL) {
		fprintf(stderr,
		    "feedwatch: %s names no OPML file to keep feeds in; "
		    "add one to it:\n\n[feeds]\nopml = feeds.opml\n",
		    path);
		config_free(t->cfg);
		return 2;
	}
	t->path = c->path;
	if (access(t->path, F_OK) == -1 && errno == ENOENT) {
		t->is_new = 1;
		t->opml = opml_new(FEEDS_OPML_TITLE);
	} else if ((t->opml = opml_load(t->path, &cause)) == NULL) {
		fprintf(stderr, "feedwatch: %s\n", cause);
		free(cause);
		config_free(t->cfg);
		return 2;
	}
	return 0;
}

static void
feeds_target_close(struct feeds_target *t)
{
	opml_free(t->opml);
	config_free(t->cfg);
}

static int
feeds_target_save(struct feeds_target *t)
{
	char *cause;

	if (opml_save(t->opml, t->path, &cause) == -1) {
		fprintf(stderr, "feedwatch: %s\n", cause);
		free(cause);
		return 2;
	}
	return 0;
}

/* Two URLs of one feed: the same, or the same once canonical. */
static int
feeds_same_url(const char *a, const char *b)
{
	char *ca, *cb;
	int is_same;

	if (strcmp(a, b) == 0)
		return 1;
	ca = url_canonical(a, NULL);
	cb = url_canonical(b, NULL);
	is_same = ca != NULL && cb != NULL && strcmp(ca, cb) == 0;
	free(ca);
	free(cb);
	return is_same;
}

/* The name of the feed configured with this URL, or NULL. */
static const char *
feeds_url_owner(const struct feeds_target *t, const char *url)
{
	struct config_feed *f;

	TAILQ_FOREACH(f, &t->cfg->feeds, entry) {
		if (feeds_same_url(f->url, url))
			return f->name;
	}
	for (size_t i = 0; i < t->opml->nfeeds; i++) {
		if (feeds_same_url(t->opml->feeds[i].url, url))
			return t->opml->feeds[i].name;
	}
	return NULL;
}

static int
feeds_name_is_taken(const struct feeds_target *t, const char *name)
{
	struct config_feed *f;

	TAILQ_FOREACH(f, &t->cfg->feeds, entry) {
		if (strcmp(f->name, name) == 0)
			return 1;
	}
	return opml_find(t->opml, name) != NULL;
}

/* The length of s cut to at most max bytes, not inside a character. */
static size_t
feeds_cut(const char *s, size_t max)
{
	size_t len = strlen(s);

	if (len <= max)
		return len;
	for (len = max; len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80;)
		len--;
	return len;
}

/* name, or name-2, name-3, ... as the configuration reads OPML. */
static char *
feeds_name_unique(const struct feeds_target *t, const char *name)
{
	char *s = xstrdup(name);
	int len = (int)feeds_cut(name, OPML_MAX_NAME - 12);

	for (int i = 2; feeds_name_is_taken(t, s); i++) {
		free(s);
		xasprintf(&s, "%.*s-%d", len, name, i);
	}
	return s;
}

/*
 * A name from a feed's title (which may hold markup): plain text without
 * control characters, cut to OPML_MAX_NAME bytes. NULL when empty.
 */
static char *
feeds_name_from(const char *title)
{
	char *text, *out;
	size_t len = 0;

	if (title == NULL)
		return NULL;
	text = text_from_html(title);
	out = xmalloc(strlen(text) + 1);
	for (const char *s = text; *s != '\0'; s++) {
		if ((unsigned char)*s >= 0x20 && *s != 0x7f)
			out[len++] = *s;
	}
	free(text);
	out[len] = '\0';
	len = feeds_cut(out, OPML_MAX_NAME);
	while (len > 0 && out[len - 1] == ' ')
		len--;
	out[len] = '\0';
	if (len == 0) {
		free(out);
		return NULL;
	}
	return out;
}

static void
feeds_page_clear(struct cli_page *p)
{
	free(p->body);
	free(p->content_type);
	free(p->url);
	free(p->error);
}

static int
feeds_entry_cb(struct entry *e, void *arg)
{
	(void)arg;
	feed_entry_free(e);
	return 0;
}

/* The page read as a feed, or NULL with *cause. */
static struct feed_doc *
feeds_parse(const struct cli_page *p, char **cause)
{
	struct parse_opts opts;

	memset(&opts, 0, sizeof opts);
	opts.base = p->url;
	opts.content_type = p->content_type;
	return parse_buffer(
	    p->body, p->len, &opts, feeds_entry_cb, NULL, cause);
}

/* Say so when url is configured already; return 1 then, else 0. */
static int
feeds_is_known(const struct feeds_target *t, const char *url)
{
	const char *owner;

	if ((owner = feeds_url_owner(t, url)) == NULL)
		return 0;
	fprintf(stderr, "feedwatch: %s is configured already, as feed \"%s\"\n",
	    url, owner);
	return 1;
}

/* The name a feed gets when --name does not give one. */
static char *
feeds_name_default(const struct feeds_target *t, const char *url,
    const struct feed_doc *doc, const char *title)
{
	const char *slash = strrchr(url, '/');
	char *base, *name;

	if ((base = feeds_name_from(doc->title)) == NULL &&
	    (base = feeds_name_from(title)) == NULL &&
	    ((base = url_host(url)) == NULL || *base == '\0')) {
		free(base);
		/* file:///srv/feeds/local.xml has no host: local.xml */
		if (slash == NULL ||
		    (base = feeds_name_from(slash + 1)) == NULL)
			base = xstrdup("feed");
	}
	name = feeds_name_unique(t, base);
	free(base);
	return name;
}

/* Append a feed that was read to the OPML file; return an exit status. */
static int
feeds_add_doc(struct feeds_target *t, const char *url,
    const struct feed_doc *doc, const char *title,
    const struct feeds_add_opts *o)
{
	const char *const *tags = (const char *const *)o->tags;
	char *name = NULL, *cause;
	const char *use = o->name;
	int rc;

	if (o->name != NULL && feeds_name_is_taken(t, o->name)) {
		fprintf(stderr,
		    "feedwatch: a feed is called \"%s\" already; choose "
		    "another --name\n",
		    o->name);
		return 1;
	}
	if (use == NULL)
		use = name = feeds_name_default(t, url, doc, title);
	rc = opml_add(t->opml, use, url, tags, doc->link, &cause);
	if (rc == -1 && doc->link != NULL) {
		/* A site link that XML cannot hold is left out, not the feed.
		 */
		free(cause);
		rc = opml_add(t->opml, use, url, tags, NULL, &cause);
	}
	if (rc == -1) {
		fprintf(stderr, "feedwatch: %s\n", cause);
		free(cause);
		free(name);
		return 2;
	}
	if ((rc = feeds_target_save(t)) == 0)
		printf("added \"%s\" <%s> to %s%s\n", use, url, t->path,
		    t->is_new ? " (created)" : "");
	free(name);
	return rc;
}

/* Fetch a feed a page links to and add it; return an exit status. */
static int
feeds_add_link(struct feeds_target *t, const struct discover_link *l,
    const struct feeds_add_opts *o)
{
	struct cli_page page;
	struct feed_doc *doc;
	char *cause;
	int rc;

	if (feeds_is_known(t, l->url))
		return 1;
	if (cli_fetch(t->cfg, l->url, &page) == -1) {
		fprintf(stderr, "feedwatch: %s: %s\n", l->url, page.error);
		feeds_page_clear(&page);
		return 2;
	}
	if ((doc = feeds_parse(&page, &cause)) == NULL) {
		fprintf(stderr, "feedwatch: %s: %s\n", l->url, cause);
		free(cause);
		feeds_page_clear(&page);
		return 1;
	}
	rc = feeds_add_doc(t, l->url, doc, l->title, o);
	feed_doc_free(doc);
	feeds_page_clear(&page);
	return rc;
}

/* One line of the feeds a page links to, for --pick. */
static void
feeds_print_link(
    const struct feeds_target *t, size_t i, const struct discover_link *l)
{
	const char *owner = feeds_url_owner(t, l->url);

	printf("%zu. %s <%s> (%s)", i,
	    l->title != NULL ? l->title : "(no title)", l->url, l->type);
	if (owner != NULL)
		printf(", configured already as \"%s\"", owner);
	putchar('\n');
}

/*
 * A page that is not a feed: add the feed it links to, or the one
 * --pick chooses; list them when it links to several and none is
 * chosen. Return an exit status.
 */
static int
feeds_add_page(struct feeds_target *t, const char *url,
    const struct cli_page *page, const char *why,
    const struct feeds_add_opts *o)
{
	struct discover_link *links;
	size_t n;
	int rc;

	n = discover_links(page->body, page->len, page->url, &links);
	if (n == 0) {
		fprintf(stderr, "feedwatch: %s: %s, and it links to no feed\n",
		    url, why);
		rc = 1;
	} else if (o->pick > 0 && (size_t)o->pick > n) {
		fprintf(stderr,
		    "feedwatch: %s links to %zu feed%s: --pick %d is not "
		    "one\n",
		    url, n, n == 1 ? "" : "s", o->pick);
		rc = 2;
	} else if (n > 1 && o->pick == 0) {
		for (size_t i = 0; i < n; i++)
			feeds_print_link(t, i + 1, &links[i]);
		fprintf(stderr,
		    "feedwatch: %s links to %zu feeds; add one with "
		    "--pick N\n",
		    url, n);
		rc = 1;
	} else
		rc =
		    feeds_add_link(t, &links[o->pick > 0 ? o->pick - 1 : 0], o);
	discover_free(links, n);
	return rc;
}

/* `feeds add URL`: a feed, or a page that links to one. */
static int
feeds_add_url(
    struct feeds_target *t, const char *url, const struct feeds_add_opts *o)
{
	struct cli_page page;
	struct feed_doc *doc;
	char *cause;
	int rc;

	if (feeds_is_known(t, url))
		return 1;
	if (cli_fetch(t->cfg, url, &page) == -1) {
		fprintf(stderr, "feedwatch: %s: %s\n", url, page.error);
		feeds_page_clear(&page);
		return 2;
	}
	if ((doc = feeds_parse(&page, &cause)) != NULL) {
		rc = feeds_add_doc(t, url, doc, NULL, o);
		feed_doc_free(doc);
	} else {
		rc = feeds_add_page(t, url, &page, cause, o);
		free(cause);
	}
	feeds_page_clear(&page);
	return rc;
}

static int
feeds_add(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "name", required_argument, NULL, 'n' },
		{ "tags", required_argument, NULL, 't' },
		{ "pick", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = DEFAULT_CONFIG, *tags = NULL, *url;
	struct feeds_add_opts o = { NULL, NULL, 0 };
	struct feeds_target t;
	char *end;
	long n;
	int ch, rc;

	while (
	    (ch = getopt_long(argc, argv, "c:n:t:p:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'n':
			o.name = optarg;
			break;
		case 't':
			tags = optarg;
			break;
		case 'p':
			n = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || n < 1 ||
			    n > DISCOVER_MAX_LINKS)
				usage();
			o.pick = (int)n;
			break;
		default:
			usage();
		}
	}
	if (optind + 2 != argc)
		usage();
	url = argv[optind + 1];
	if (strstr(url, "://") == NULL) {
		fprintf(stderr,
		    "feedwatch: %s is not a URL (http://, https:// or "
		    "file://)\n",
		    url);
		return 2;
	}
	if ((rc = feeds_target_open(path, &t)) != 0)
		return rc;
	o.tags = config_list(tags);
	rc = feeds_add_url(&t, url, &o);
	config_list_free(o.tags);
	feeds_target_close(&t);
	return rc;
}

/* A feed URL of an imported file: a path is relative to that file. */
static char *
feeds_import_url(const char *file, const char *url)
{
	const char *slash = strrchr(file, '/');
	char *dir, *abs, *out, *path;

	if (strstr(url, "://") != NULL)
		return xstrdup(url);
	if (url[0] == '/')
		return url_from_path(url);
	dir = slash != NULL ? xstrndup(file, (size_t)(slash - file) + 1) :
			      xstrdup(".");
	if ((abs = realpath(dir, NULL)) == NULL)
		abs = xstrdup(dir);
	xasprintf(
	    &path, "%s%s%s", abs, abs[strlen(abs) - 1] == '/' ? "" : "/", url);
	out = url_from_path(path);
	free(path);
	free(abs);
	free(dir);
	return out;
}

/* One feed of an imported file; count it as added or skipped. */
static void
feeds_import_feed(struct feeds_target *t, const char *file,
    const struct opml_feed *f, size_t *added, size_t *skipped)
{
	const char *owner;
	char *url, *name, *cause;

	url = feeds_import_url(file, f->url);
	if ((owner = feeds_url_owner(t, url)) != NULL) {
		printf("skipped \"%s\" <%s>: configured already, as \"%s\"\n",
		    f->name, url, owner);
		(*skipped)++;
		free(url);
		return;
	}
	name = feeds_name_unique(t, f->name);
	if (opml_add(t->opml, name, url, (const char *const *)f->tags,
		f->html_url, &cause) == -1) {
		printf("skipped \"%s\" <%s>: %s:%d: %s\n", f->name, url, file,
		    f->line, cause);
		free(cause);
		(*skipped)++;
	} else {
		printf("added \"%s\" <%s>", name, url);
		if (strcmp(name, f->name) != 0)
			printf(" (\"%s\" is taken)", f->name);
		putchar('\n');
		(*added)++;
	}
	free(name);
	free(url);
}

static int
feeds_import(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = DEFAULT_CONFIG, *file;
	struct feeds_target t;
	struct opml *src;
	char *cause;
	size_t added = 0, skipped = 0;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "c:", longopts, NULL)) != -1) {
		if (ch != 'c')
			usage();
		path = optarg;
	}
	if (optind + 2 != argc)
		usage();
	file = argv[optind + 1];
	if ((src = opml_load(file, &cause)) == NULL) {
		fprintf(stderr, "feedwatch: %s\n", cause);
		free(cause);
		return 2;
	}
	if ((rc = feeds_target_open(path, &t)) != 0) {
		opml_free(src);
		return rc;
	}
	for (size_t i = 0; i < src->nfeeds; i++)
		feeds_import_feed(&t, file, &src->feeds[i], &added, &skipped);
	if (added > 0)
		rc = feeds_target_save(&t);
	if (rc == 0)
		printf("%s: %zu feed%s added, %zu skipped%s\n", t.path, added,
		    added == 1 ? "" : "s", skipped,
		    t.is_new && added > 0 ? " (created)" : "");
	feeds_target_close(&t);
	opml_free(src);
	return rc;
}

static int
feeds_export(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = DEFAULT_CONFIG;
	struct config *cfg;
	struct config_feed *f;
	struct opml *o;
	char *cause, *text;
	size_t len;
	int ch, rc = 0;

	while ((ch = getopt_long(argc, argv, "c:", longopts, NULL)) != -1) {
		if (ch != 'c')
			usage();
		path = optarg;
	}
	if (optind + 1 != argc)
		usage();
	if ((cfg = config_load(path, &cause)) == NULL) {
		fprintf(stderr, "%s\n", cause);
		free(cause);
		return 2;
	}
	o = opml_new(FEEDS_OPML_TITLE);
	TAILQ_FOREACH(f, &cfg->feeds, entry) {
		if (opml_add(o, f->name, f->url, (const char *const *)f->tags,
			NULL, &cause) == -1) {
			fprintf(stderr, "feedwatch: %s; left out\n", cause);
			free(cause);
			rc = 1;
		}
	}
	text = opml_dump(o, &len);
	if (fwrite(text, 1, len, stdout) != len || fflush(stdout) == EOF) {
		fprintf(stderr, "feedwatch: stdout: %s\n", strerror(errno));
		rc = 2;
	}
	free(text);
	opml_free(o);
	config_free(cfg);
	return rc;
}

/* `feedwatch feeds`: add, import and export here, the list below. */
static int
cmd_feeds_dispatch(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(int, char **);
	} subs[] = {
		{ "add", feeds_add },
		{ "export", feeds_export },
		{ "import", feeds_import },
	};
	const char *word = feeds_word(argc, argv);

	for (size_t i = 0; word != NULL && i < sizeof subs / sizeof subs[0];
	     i++) {
		if (strcmp(word, subs[i].name) == 0)
			return subs[i].run(argc, argv);
	}
	return cmd_feeds(argc, argv);
}

/* `feedwatch feeds`: what every feed is doing. */
static void
feeds_time(time_t t, char *buf, size_t len)
{
	if (t == 0)
		snprintf(buf, len, "never");
	else
		date_format(t, buf, len);
}

static void
feeds_print_cb(const struct store_feed_row *r, void *arg)
{
	const int *is_json = arg;
	char attempt[32], ok[32], next[32], since[32], gone[32];
	const char *state = r->gone_at != 0 ? "gone" :
	    r->last_attempt == 0	    ? "new" :
	    r->failures > 0		    ? "failing" :
	    r->moved_url != NULL	    ? "moved" :
					      "ok";
	json_t *o;

	feeds_time(r->last_attempt, attempt, sizeof attempt);
	feeds_time(r->last_success, ok, sizeof ok);
	feeds_time(r->next_poll, next, sizeof next);
	feeds_time(r->failing_since, since, sizeof since);
	feeds_time(r->gone_at, gone, sizeof gone);
	if (*is_json) {
		o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:i, s:s?, s:s, "
			      "s:i, s:i, s:s?, s:o, s:o, s:o}",
		    "name", r->name, "url", r->url, "state", state,
		    "last_attempt", attempt, "last_success", ok, "http_status",
		    r->http_status ? json_integer(r->http_status) : json_null(),
		    "failures", r->failures, "last_error", r->last_error,
		    "next_poll", next, "items", r->items, "stories", r->stories,
		    "moved_to", r->moved_url, "failing_since",
		    r->failing_since ? json_string(since) : json_null(),
		    "gone_since", r->gone_at ? json_string(gone) : json_null(),
		    "interval",
		    r->poll_interval ? json_integer(r->poll_interval) :
				       json_null());
		json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(o);
		return;
	}
	printf("%-20s %-7s last ok %-20s %4d items %5d stories  next %s\n",
	    r->name, state, ok, r->items, r->stories,
	    r->gone_at != 0 ? "never (gone)" : next);
	if (r->gone_at != 0)
		printf("    gone since %s (HTTP 410): not polled until its url "
		       "changes\n",
		    gone);
	if (r->moved_url != NULL)
		printf("    moved permanently to %s: polled there; update its "
		       "url\n",
		    r->moved_url);
	if (r->failures > 0 && r->gone_at == 0)
		printf("    %d failure%s in a row since %s, HTTP %d: %s\n",
		    r->failures, r->failures == 1 ? "" : "s", since,
		    r->http_status, r->last_error != NULL ? r->last_error : "");
	if (r->poll_interval > 0)
		printf("    adaptive interval %dm\n", r->poll_interval / 60);
}

static int
cmd_feeds(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = DEFAULT_CONFIG;
	struct config *cfg;
	struct config_feed *f;
	struct store_feed sf;
	struct store *st = NULL;
	char *cause = NULL;
	int ch, is_json = 0, rc = 0;

	while ((ch = getopt_long(argc, argv, "c:j", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'j':
			is_json = 1;
			break;
		default:
			usage();
		}
	}
	if (optind < argc &&
	    (strcmp(argv[optind], "list") != 0 || optind + 1 != argc))
		usage();
	if (cli_open_log(path, &cfg, &st) == -1)
		return 2;
	/* Configured feeds not polled yet are listed too, as new. */
	TAILQ_FOREACH(f, &cfg->feeds, entry) {
		if (store_feed_get(st, f->name, f->url, &sf, &cause) == -1)
			break;
		store_feed_clear(&sf);
	}
	if (cause == NULL)
		store_feeds(st, feeds_print_cb, &is_json, &cause);
	if (cause != NULL) {
		fprintf(stderr, "feedwatch: %s\n", cause);
		free(cause);
		rc = 2;
	}
	store_close(st);
	config_free(cfg);
	return rc;
}

/* `feedwatch status`: one screen for a human. */
#define STATUS_WORST 5	     /* failing feeds shown */
#define STATUS_ERROR_MAX 100 /* bytes of a last error shown */

/* A configured feed's row, copied from store_feeds. */
struct status_feed {
	char *name;
	char *url;
	char *last_error;
	int failures;
	int http_status;
	time_t last_attempt; /* 0 = never */
	time_t last_success; /* 0 = never */
};

struct status_cli {
	const struct config *cfg;
	struct status_feed *feeds; /* configured feeds the log knows */
	size_t nfeeds;
	size_t configured, ok, failing, fresh;
	time_t now;
	time_t midnight;     /* local, today */
	time_t last_success; /* of any feed, 0 = never */
	int64_t today, total;
	int pending, failed, delivered;
	long long db_size, wal_size; /* bytes, -1 = no file */
	long long fts_size;	     /* the full-text index's file */
};

static void
status_feed_cb(const struct store_feed_row *r, void *arg)
{
	struct status_cli *c = arg;
	struct status_feed *f;

	if (match_cli_feed(c->cfg, r->name, NULL) == NULL)
		return;
	c->feeds = xreallocarray(c->feeds, c->nfeeds + 1, sizeof *c->feeds);
	f = &c->feeds[c->nfeeds++];
	f->name = xstrdup(r->name);
	f->url = xstrdup(r->url);
	f->last_error = r->last_error != NULL ? xstrdup(r->last_error) : NULL;
	f->failures = r->failures;
	f->http_status = r->http_status;
	f->last_attempt = r->last_attempt;
	f->last_success = r->last_success;
}

/* Failing first, most failures first, then the longest without success. */
static int
status_feed_cmp(const void *a, const void *b)
{
	const struct status_feed *x = a, *y = b;

	if (x->failures != y->failures)
		return x->failures > y->failures ? -1 : 1;
	if (x->last_success != y->last_success)
		return x->last_success < y->last_success ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Sort the configured feeds into new, OK and failing. */
static void
status_count_feeds(struct status_cli *c)
{
	struct config_feed *cf;
	struct status_feed *f;

	TAILQ_FOREACH(cf, &c->cfg->feeds, entry) {
		c->configured++;
		for (f = c->feeds; f < c->feeds + c->nfeeds; f++) {
			if (strcmp(f->name, cf->name) == 0)
				break;
		}
		if (f == c->feeds + c->nfeeds || f->last_attempt == 0)
			c->fresh++;
		else if (f->failures > 0)
			c->failing++;
		else
			c->ok++;
		if (f < c->feeds + c->nfeeds &&
		    f->last_success > c->last_success)
			c->last_success = f->last_success;
	}
	if (c->nfeeds > 0)
		qsort(c->feeds, c->nfeeds, sizeof *c->feeds, status_feed_cmp);
}

/* Local midnight at the start of today. */
static time_t
status_midnight(time_t now)
{
	struct tm tm;

	localtime_r(&now, &tm);
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	return mktime(&tm);
}

static long long
status_file_size(const char *path, const char *suffix)
{
	struct stat sb;
	char *p;
	int rc;

	xasprintf(&p, "%s%s", path, suffix);
	rc = stat(p, &sb);
	free(p);
	return rc == 0 ? (long long)sb.st_size : -1;
}

/* Read what the screen shows. Return 0, or -1 with *cause. */
static int
status_read(struct status_cli *c, struct store *st, char **cause)
{
	c->now = time(NULL);
	c->midnight = status_midnight(c->now);
	if (store_feeds(st, status_feed_cb, c, cause) == -1 ||
	    (c->today = store_story_count(st, c->midnight, cause)) == -1 ||
	    (c->total = store_story_count(st, 0, cause)) == -1 ||
	    (c->pending = store_alert_count(st, STORE_ALERT_PENDING, cause)) ==
		-1 ||
	    (c->failed = store_alert_count(st, STORE_ALERT_FAILED, cause)) ==
		-1 ||
	    (c->delivered =
		    store_alert_count(st, STORE_ALERT_DELIVERED, cause)) == -1)
		return -1;
	status_count_feeds(c);
	c->db_size = status_file_size(c->cfg->database, "");
	c->wal_size = status_file_size(c->cfg->database, "-wal");
	c->fts_size = status_file_size(c->cfg->database, ".fts");
	return 0;
}

static void
status_clear(struct status_cli *c)
{
	for (size_t i = 0; i < c->nfeeds; i++) {
		free(c->feeds[i].name);
		free(c->feeds[i].url);
		free(c->feeds[i].last_error);
	}
	free(c->feeds);
}

/* A local time and how long ago it was: "2026-11-27 14:02 (5 min ago)". */
static void
status_when(const struct status_cli *c, time_t t, char *buf, size_t len)
{
	long long ago = t < c->now ? (long long)(c->now - t) : 0;
	char date[32];
	struct tm tm;

	if (t == 0) {
		snprintf(buf, len, "never");
		return;
	}
	localtime_r(&t, &tm);
	strftime(date, sizeof date, "%Y-%m-%d %H:%M", &tm);
	if (ago < 120)
		snprintf(buf, len, "%s (%lld s ago)", date, ago);
	else if (ago < 120 * 60)
		snprintf(buf, len, "%s (%lld min ago)", date, ago / 60);
	else if (ago < 48 * 3600)
		snprintf(buf, len, "%s (%lld h ago)", date, ago / 3600);
	else
		snprintf(buf, len, "%s (%lld d ago)", date, ago / 86400);
}

static void
status_bytes(long long n, char *buf, size_t len)
{
	if (n < 1024)
		snprintf(buf, len, "%lld B", n);
	else if (n < 1024 * 1024)
		snprintf(buf, len, "%.1f KiB", (double)n / 1024);
	else if (n < 1024LL * 1024 * 1024)
		snprintf(buf, len, "%.1f MiB", (double)n / (1024 * 1024));
	else
		snprintf(
		    buf, len, "%.1f GiB", (double)n / (1024 * 1024 * 1024));
}

/* An error on one short line: control characters blanked, cut. */
static void
status_error(const char *error, char *buf, size_t len)
{
	size_t n;

	snprintf(buf, len, "%s", error != NULL ? error : "(no error kept)");
	for (char *p = buf; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	}
	if ((n = strlen(buf)) <= STATUS_ERROR_MAX)
		return;
	n = STATUS_ERROR_MAX;
	while (n > 0 && ((unsigned char)buf[n] & 0xc0) == 0x80)
		n--;
	snprintf(buf + n, len - n, "...");
}

static void
status_print_feeds(const struct status_cli *c)
{
	const struct status_feed *f;
	char when[64], error[STATUS_ERROR_MAX + 8];
	size_t i;

	printf("feeds:         %zu configured: %zu OK, %zu failing",
	    c->configured, c->ok, c->failing);
	if (c->fresh > 0)
		printf(", %zu new", c->fresh);
	putchar('\n');
	for (i = 0; i < c->nfeeds && i < STATUS_WORST; i++) {
		f = &c->feeds[i];
		if (f->failures == 0 || f->last_attempt == 0)
			break;
		status_when(c, f->last_success, when, sizeof when);
		status_error(f->last_error, error, sizeof error);
		printf("  %-12s %d failure%s in a row, last OK %s\n", f->name,
		    f->failures, f->failures == 1 ? "" : "s", when);
		printf("  %-12s %s\n", "", error);
	}
	if (i == STATUS_WORST && c->failing > STATUS_WORST)
		printf("  %-12s and %zu more failing (feedwatch feeds)\n", "",
		    c->failing - STATUS_WORST);
}

static void
status_print_text(const struct status_cli *c)
{
	char when[64], db[32], wal[32], fts[32];

	status_print_feeds(c);
	printf("stories:       %lld first seen today, %lld in all\n",
	    (long long)c->today, (long long)c->total);
	printf("alerts:        %d pending, %d failed, %d delivered\n",
	    c->pending, c->failed, c->delivered);
	status_bytes(c->db_size, db, sizeof db);
	status_bytes(c->wal_size, wal, sizeof wal);
	printf("database:      %s: %s", c->cfg->database,
	    c->db_size >= 0 ? db : "missing");
	if (c->wal_size >= 0)
		printf(", WAL %s", wal);
	status_bytes(c->fts_size, fts, sizeof fts);
	if (c->fts_size >= 0)
		printf(", search index %s", fts);
	putchar('\n');
	status_when(c, c->last_success, when, sizeof when);
	printf("last success:  %s\n", when);
}

static json_t *
status_json_time(time_t t)
{
	return t == 0 ? json_null() : json_date(t);
}

static void
status_print_json(const struct status_cli *c)
{
	json_t *worst = json_array(), *o;
	const struct status_feed *f;

	for (size_t i = 0; i < c->nfeeds && i < STATUS_WORST; i++) {
		f = &c->feeds[i];
		if (f->failures == 0 || f->last_attempt == 0)
			break;
		json_array_append_new(worst,
		    json_pack("{s:s, s:s, s:i, s:o, s:s?, s:o}", "name",
			f->name, "url", f->url, "failures", f->failures,
			"http_status",
			f->http_status ? json_integer(f->http_status) :
					 json_null(),
			"last_error", f->last_error, "last_success",
			status_json_time(f->last_success)));
	}
	o = json_pack("{s:{s:I, s:I, s:I, s:I, s:o}, s:{s:I, s:I, s:o}, "
		      "s:{s:i, s:i, s:i}, s:{s:s, s:o, s:o, s:o}, s:o}",
	    "feeds", "configured", (json_int_t)c->configured, "ok",
	    (json_int_t)c->ok, "failing", (json_int_t)c->failing, "new",
	    (json_int_t)c->fresh, "worst", worst, "stories", "today",
	    (json_int_t)c->today, "total", (json_int_t)c->total, "today_since",
	    json_date(c->midnight), "alerts", "pending", c->pending, "failed",
	    c->failed, "delivered", c->delivered, "database", "path",
	    c->cfg->database, "bytes",
	    c->db_size >= 0 ? json_integer(c->db_size) : json_null(),
	    "wal_bytes",
	    c->wal_size >= 0 ? json_integer(c->wal_size) : json_null(),
	    "search_index_bytes",
	    c->fts_size >= 0 ? json_integer(c->fts_size) : json_null(),
	    "last_success", status_json_time(c->last_success));
	if (o == NULL)
		fatalx("json_pack failed");
	json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
	putchar('\n');
	json_decref(o);
}

static int
cmd_status(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = DEFAULT_CONFIG;
	struct status_cli c;
	struct config *cfg;
	struct store *st;
	char *cause = NULL;
	int ch, is_json = 0, rc = 0;

	while ((ch = getopt_long(argc, argv, "c:j", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'j':
			is_json = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (cli_open_log(path, &cfg, &st) == -1)
		return 2;
	memset(&c, 0, sizeof c);
	c.cfg = cfg;
	if (status_read(&c, st, &cause) == -1) {
		fprintf(stderr, "feedwatch: %s\n", cause);
		free(cause);
		rc = 2;
	} else if (is_json)
		status_print_json(&c);
	else
		status_print_text(&c);
	status_clear(&c);
	store_close(st);
	config_free(cfg);
	return rc;
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
