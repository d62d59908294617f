#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* cmocka.h needs the four headers above it. */
#include <cmocka.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "opml.h"
#include "testutil.h"

/*
 * feedwatch feeds add, import and export: the command run against pages
 * and feeds served by evhttp from the test's own event_base, and what it
 * leaves in the configured OPML file.
 */

#define TEST_WATCHDOG 30 /* seconds before a hung command is killed */
#define DATA FEEDWATCH_TEST_DATA "/opml/"

/* What the fixture server answers, by path. */
struct route {
	const char *path;
	const char *file; /* in DATA */
	const char *type; /* Content-Type */
};

static const struct route routes[] = {
	{ "/news/page.html", "page-two-feeds.html",
	    "text/html; charset=utf-8" },
	{ "/plain.html", "page-no-feeds.html", "text/html" },
	{ "/a.xml", "feed-a.xml", "application/rss+xml" },
	{ "/news/feeds/b.atom", "feed-b.atom", "application/atom+xml" },
};

#define NROUTES (sizeof routes / sizeof routes[0])

struct fixture {
	char dir[64];
	char conf[128];
	char opml[128];
	char url[64]; /* http://127.0.0.1:PORT */
	struct event_base *base;
	struct evhttp *http;
	int hits[NROUTES];
	int runs;
	char *out; /* what the last run printed */
	char *err;
};

static const char *feedwatch_path;

static void
server_cb(struct evhttp_request *req, void *arg)
{
	struct fixture *fx = arg;
	struct evbuffer *buf;
	const char *path;
	char file[PATH_MAX];
	char *body;

	path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	for (size_t i = 0; path != NULL && i < NROUTES; i++) {
		if (strcmp(path, routes[i].path) != 0)
			continue;
		fx->hits[i]++;
		snprintf(file, sizeof file, "%s%s", DATA, routes[i].file);
		assert_non_null(body = testutil_read_file(file));
		assert_non_null(buf = evbuffer_new());
		evbuffer_add(buf, body, strlen(body));
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Content-Type", routes[i].type);
		evhttp_send_reply(req, 200, "OK", buf);
		evbuffer_free(buf);
		free(body);
		return;
	}
	evhttp_send_error(req, HTTP_NOTFOUND, NULL);
}

/* Serve on 127.0.0.1, at a port of the system's choice. */
static void
server_start(struct fixture *fx)
{
	int port;

	assert_non_null(fx->base = event_base_new());
	fx->http = testutil_http_start(fx->base, server_cb, fx, &port);
	snprintf(fx->url, sizeof fx->url, "http://127.0.0.1:%d", port);
}

static int
feeds_setup(void **state)
{
	struct fixture *fx;

	assert_non_null(fx = calloc(1, sizeof *fx));
	testutil_tmpdir(fx->dir, sizeof fx->dir, "feeds");
	snprintf(fx->conf, sizeof fx->conf, "%s/feedwatch.conf", fx->dir);
	snprintf(fx->opml, sizeof fx->opml, "%s/feeds.opml", fx->dir);
	testutil_write_file(fx->conf,
	    "[daemon]\ndatabase = feedwatch.db\n\n[feeds]\nopml = feeds.opml\n",
	    0644);
	server_start(fx);
	*state = fx;
	return 0;
}

static int
feeds_teardown(void **state)
{
	struct fixture *fx = *state;

	if (fx == NULL)
		return 0;
	testutil_http_free(fx->http, fx->base);
	testutil_rmtree(fx->dir);
	free(fx->out);
	free(fx->err);
	free(fx);
	return 0;
}

/*
 * Run feedwatch with args (NULL-terminated, after the program) while
 * the fixture's loop serves HTTP. Return its exit status; what it
 * printed is in fx->out and fx->err. A hang fails the test.
 */
static int
run_feedwatch(struct fixture *fx, ...)
{
	struct testutil_proc p;
	char outpath[128], errpath[128], *argv[16], **env;
	size_t argc = 0;
	va_list ap;

	argv[argc++] = (char *)feedwatch_path;
	va_start(ap, fx);
	while ((argv[argc] = va_arg(ap, char *)) != NULL)
		assert_true(++argc < sizeof argv / sizeof argv[0]);
	va_end(ap);
	fx->runs++;
	snprintf(outpath, sizeof outpath, "%s/out.%d", fx->dir, fx->runs);
	snprintf(errpath, sizeof errpath, "%s/err.%d", fx->dir, fx->runs);
	env = testutil_envp(NULL, NULL);
	memset(&p, 0, sizeof p);
	p.argv = argv;
	p.env = env;
	p.out = outpath;
	p.err = errpath;
	p.watchdog = TEST_WATCHDOG;
	testutil_proc_run(&p, fx->base);
	free(env);
	free(fx->out);
	free(fx->err);
	assert_non_null(fx->out = testutil_read_file(outpath));
	assert_non_null(fx->err = testutil_read_file(errpath));
	unlink(outpath);
	unlink(errpath);
	if (p.is_timed_out)
		fail_msg("feedwatch hung for %ds; killed. stderr:\n%s",
		    TEST_WATCHDOG, fx->err);
	if (!WIFEXITED(p.status))
		fail_msg("feedwatch died (status %d); stderr:\n%s", p.status,
		    fx->err);
	return WEXITSTATUS(p.status);
}

static void
assert_contains(const char *text, const char *want)
{
	if (strstr(text, want) == NULL)
		fail_msg("\"%s\" not in:\n%s", want, text);
}

/* Nothing but what the test wrote is left in its directory. */
static void
assert_no_temporary(const struct fixture *fx)
{
	struct dirent *de;
	DIR *d;

	assert_non_null(d = opendir(fx->dir));
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, ".feeds.opml.", 12) == 0)
			fail_msg("%s/%s is left", fx->dir, de->d_name);
	}
	closedir(d);
}

/* A page with two feeds: listed without --pick, the second added with. */
static void
test_feeds_add_pick(void **state)
{
	struct fixture *fx = *state;
	char page[128], want[2048], *opml;

	snprintf(page, sizeof page, "%s/news/page.html", fx->url);
	assert_int_equal(
	    run_feedwatch(fx, "feeds", "add", "-c", fx->conf, page, NULL), 1);
	snprintf(want, sizeof want,
	    "1. Wire A <%s/a.xml> (application/rss+xml)\n"
	    "2. Desk B <%s/news/feeds/b.atom> (application/atom+xml)\n",
	    fx->url, fx->url);
	assert_string_equal(fx->out, want);
	assert_contains(fx->err, "links to 2 feeds; add one with --pick N");
	assert_null(testutil_read_file(fx->opml));

	/* Options before the subcommand and after the URL. */
	assert_int_equal(run_feedwatch(fx, "feeds", "-c", fx->conf, "add", page,
			     "--pick", "2", "--tags", "world, tech", NULL),
	    0);
	snprintf(want, sizeof want,
	    "added \"Desk B\" <%s/news/feeds/b.atom> to %s (created)\n",
	    fx->url, fx->opml);
	assert_string_equal(fx->out, want);
	assert_non_null(opml = testutil_read_file(fx->opml));
	snprintf(want, sizeof want,
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<opml version=\"2.0\">\n"
	    "  <head>\n"
	    "    <title>feedwatch feeds</title>\n"
	    "  </head>\n"
	    "  <body>\n"
	    "    <outline text=\"world\" title=\"world\">\n"
	    "      <outline type=\"rss\" text=\"Desk B\" title=\"Desk B\" "
	    "xmlUrl=\"%s/news/feeds/b.atom\" "
	    "htmlUrl=\"https://desk-b.example.org/\" category=\"tech\"/>\n"
	    "    </outline>\n"
	    "  </body>\n"
	    "</opml>\n",
	    fx->url);
	assert_string_equal(opml, want);
	free(opml);
	assert_int_equal(fx->hits[0], 2);
	assert_int_equal(fx->hits[2], 0); /* Wire A was never fetched */
	assert_int_equal(fx->hits[3], 1);
	assert_no_temporary(fx);

	/* The configuration reads it back: the feed and its tags. */
	assert_int_equal(
	    run_feedwatch(fx, "check-config", "-c", fx->conf, NULL), 0);
	assert_contains(fx->out, "OK: 1 feeds");
}

/* A page without feed links: exit 1, the OPML file as it was. */
static void
test_feeds_add_no_links(void **state)
{
	struct fixture *fx = *state;
	char url[128], *before, *after;

	snprintf(url, sizeof url, "%s/a.xml", fx->url);
	assert_int_equal(
	    run_feedwatch(fx, "feeds", "add", url, "-c", fx->conf, NULL), 0);
	assert_non_null(before = testutil_read_file(fx->opml));
	assert_contains(before, "text=\"Wire &amp; A\"");
	snprintf(url, sizeof url, "%s/plain.html", fx->url);
	assert_int_equal(
	    run_feedwatch(fx, "feeds", "add", url, "-c", fx->conf, NULL), 1);
	assert_string_equal(fx->out, "");
	assert_contains(fx->err,
	    "plain.html: not a feed: the document is "
	    "<html>, and it links to no feed");
	assert_non_null(after = testutil_read_file(fx->opml));
	assert_string_equal(before, after);
	assert_no_temporary(fx);
	free(before);
	free(after);
}

/* A feed's own URL: added under its title, once. */
static void
test_feeds_add_feed_twice(void **state)
{
	struct fixture *fx = *state;
	char url[128], want[512];

	snprintf(url, sizeof url, "%s/a.xml", fx->url);
	assert_int_equal(run_feedwatch(fx, "feeds", "add", "--name", "wire",
			     url, "-c", fx->conf, NULL),
	    0);
	snprintf(want, sizeof want, "added \"wire\" <%s> to %s (created)\n",
	    url, fx->opml);
	assert_string_equal(fx->out, want);
	assert_int_equal(
	    run_feedwatch(fx, "feeds", "add", url, "-c", fx->conf, NULL), 1);
	snprintf(want, sizeof want,
	    "%s is configured already, as feed \"wire\"", url);
	assert_contains(fx->err, want);
	/* A page that links to it says so, and --pick 1 adds nothing. */
	snprintf(url, sizeof url, "%s/news/page.html", fx->url);
	assert_int_equal(run_feedwatch(fx, "feeds", "add", "--pick", "1", url,
			     "-c", fx->conf, NULL),
	    1);
	assert_contains(fx->err, "configured already, as feed \"wire\"");
	assert_int_equal(
	    run_feedwatch(fx, "feeds", "add", url, "-c", fx->conf, NULL), 1);
	assert_contains(fx->out,
	    "(application/rss+xml), configured already as "
	    "\"wire\"\n2. Desk B");
	assert_int_equal(run_feedwatch(fx, "feeds", "add", "--pick", "3", url,
			     "-c", fx->conf, NULL),
	    2);
	assert_contains(fx->err, "links to 2 feeds: --pick 3 is not one");
}

static void
test_feeds_without_opml(void **state)
{
	struct fixture *fx = *state;
	char url[128];

	testutil_write_file(
	    fx->conf, "[feed \"a\"]\nurl = http://a.example/\n", 0644);
	snprintf(url, sizeof url, "%s/a.xml", fx->url);
	assert_int_equal(
	    run_feedwatch(fx, "feeds", "add", url, "-c", fx->conf, NULL), 2);
	assert_contains(fx->err,
	    "names no OPML file to keep feeds in; add one "
	    "to it:\n\n[feeds]\nopml = feeds.opml\n");
	assert_int_equal(fx->hits[2], 0);
	assert_int_equal(
	    run_feedwatch(fx, "feeds", "add", "a.xml", "-c", fx->conf, NULL),
	    2);
	assert_contains(fx->err, "a.xml is not a URL");
}

/* A reader's file imported, then everything exported: the same feeds. */
static void
test_feeds_import_export(void **state)
{
	struct fixture *fx = *state;
	struct opml *src, *back;
	const struct opml_feed *f;
	char *cause = NULL;

	testutil_write_file(fx->conf,
	    "[daemon]\ndatabase = feedwatch.db\n"
	    "[feed \"meduza\"]\n"
	    "url = https://meduza.io/rss/en/all\n"
	    "tags = ru exile\n"
	    "[feeds]\nopml = feeds.opml\n",
	    0644);
	assert_int_equal(run_feedwatch(fx, "feeds", "import",
			     DATA "nested.opml", "-c", fx->conf, NULL),
	    0);
	assert_contains(fx->out,
	    "skipped \"Meduza\" <https://meduza.io/rss/en/all>: configured "
	    "already, as \"meduza\"\n");
	assert_contains(fx->out,
	    "feeds.opml: 4 feeds added, 1 skipped "
	    "(created)\n");
	/* Again: every URL is known now. */
	assert_int_equal(run_feedwatch(fx, "feeds", "import",
			     DATA "nested.opml", "-c", fx->conf, NULL),
	    0);
	assert_contains(fx->out, "feeds.opml: 0 feeds added, 5 skipped\n");

	assert_int_equal(
	    run_feedwatch(fx, "feeds", "export", "-c", fx->conf, NULL), 0);
	assert_non_null(
	    back = opml_read(fx->out, strlen(fx->out), "export", &cause));
	assert_non_null(src = opml_load(DATA "nested.opml", &cause));
	assert_int_equal(back->nfeeds, 5);
	for (size_t i = 0; i < src->nfeeds; i++) {
		if (strcmp(src->feeds[i].name, "Meduza") == 0)
			continue;
		if ((f = opml_find(back, src->feeds[i].name)) == NULL)
			fail_msg("%s not exported:\n%s", src->feeds[i].name,
			    fx->out);
		assert_string_equal(f->url, src->feeds[i].url);
		for (size_t j = 0; src->feeds[i].tags[j] != NULL; j++)
			assert_string_equal(f->tags[j], src->feeds[i].tags[j]);
	}
	assert_non_null(f = opml_find(back, "meduza"));
	assert_string_equal(f->tags[0], "ru");
	assert_string_equal(f->tags[1], "exile");
	opml_free(src);
	opml_free(back);
	assert_int_equal(run_feedwatch(fx, "feeds", "import",
			     DATA "billion-laughs.opml", "-c", fx->conf, NULL),
	    2);
	assert_contains(fx->err, "entity declarations are refused");
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_feeds_add_pick, feeds_setup, feeds_teardown),
		cmocka_unit_test_setup_teardown(
		    test_feeds_add_no_links, feeds_setup, feeds_teardown),
		cmocka_unit_test_setup_teardown(
		    test_feeds_add_feed_twice, feeds_setup, feeds_teardown),
		cmocka_unit_test_setup_teardown(
		    test_feeds_without_opml, feeds_setup, feeds_teardown),
		cmocka_unit_test_setup_teardown(
		    test_feeds_import_export, feeds_setup, feeds_teardown),
	};

	if (argc != 2) {
		fprintf(stderr, "usage: %s FEEDWATCH\n", argv[0]);
		return 2;
	}
	feedwatch_path = argv[1];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
