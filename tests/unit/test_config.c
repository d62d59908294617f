#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* cmocka.h needs the standard headers above. */
#include <cmocka.h>

#include "config.h"
#include "date.h"
#include "testutil.h"
#include "xmalloc.h"

/* Configuration: every bad line is reported with its file and line. */

struct fixture {
	char dir[64];
	char path[128];
};

static int
setup(void **state)
{
	struct fixture *fx = xcalloc(1, sizeof *fx);

	testutil_tmpdir(fx->dir, sizeof fx->dir, "config");
	snprintf(fx->path, sizeof fx->path, "%s/feedwatch.conf", fx->dir);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	testutil_rmtree(fx->dir);
	free(fx);
	return 0;
}

/* Load text as a configuration; return the error text or NULL. */
static char *
load(struct fixture *fx, const char *text, struct config **cfgp)
{
	struct config *cfg;
	char *cause = NULL;

	testutil_write_file(fx->path, text, 0644);
	cfg = config_load(fx->path, &cause);
	if (cfgp != NULL)
		*cfgp = cfg;
	else
		config_free(cfg);
	return cfg == NULL ? cause : NULL;
}

struct bad_case {
	const char *text;
	int line;
	const char *message;
};

static const struct bad_case bad_cases[] = {
	{ "[daemon]\ndatabase = x.db\nbogus = 1\n", 3,
	    "unknown key \"bogus\" in [daemon]" },
	{ "[daemon]\n[frobnicate]\nx = 1\n", 2,
	    "unknown section [frobnicate]" },
	{ "[feed nbc]\nurl = http://a/\n", 1, "expected [feed \"NAME\"]" },
	{ "[feed \"\"]\nurl = http://a/\n", 1, "expected [feed \"NAME\"]" },
	{ "[feed \"a\"]\nurl = http://a/\n[feed \"a\"]\nurl = http://b/\n", 3,
	    "feed \"a\" is defined twice" },
	{ "[daemon]\ninterval = soon\n", 2,
	    "interval: \"soon\" is not a duration" },
	{ "[daemon]\ninterval = 0\n", 2, "interval: \"0\" is not a duration" },
	{ "[daemon]\ninterval = 30s\n", 2,
	    "interval 30s is outside min_interval..max_interval (60s..21600s)" },
	{ "[daemon]\nmin_interval = 2h\nmax_interval = 1h\n", 3,
	    "min_interval is above max_interval" },
	{ "[daemon]\nmin_interval = 10m\n[feed \"a\"]\nurl = http://a/\n"
	  "interval = 5m\n",
	    3, "feed \"a\": interval 300s is outside min_interval" },
	{ "[daemon]\nmax_per_host = 0\n", 2,
	    "max_per_host: \"0\" is not a number from 1 to 1024" },
	{ "[daemon]\nproxy = proxy:3128\n", 2,
	    "proxy: \"proxy:3128\" is not a proxy URL" },
	{ "[daemon]\nadaptive = often\n", 2,
	    "adaptive: \"often\" is not yes or no" },
	{ "[daemon]\nhealth_hooks = pager\n", 2,
	    "health_hooks: no [hook \"pager\"]" },
	{ "[feed \"a\"]\nurl = http://a/\nca_file = /no/such.pem\n", 3,
	    "ca_file: /no/such.pem: No such file or directory" },
	{ "[feed \"a\"]\nurl = http://a/\nlow_speed_time = 0\n", 3,
	    "low_speed_time: \"0\" is not a duration" },
	{ "[daemon]\nmax_fetches = 0\n", 2,
	    "max_fetches: \"0\" is not a number from 1 to 1024" },
	{ "[daemon]\nmax_body = 12Q\n", 2, "max_body: \"12Q\" is not a size" },
	{ "[daemon]\njunk line\n", 2, "expected \"key = value\"" },
	{ "database = x.db\n", 1, "database: key outside any section" },
	{ "[feed \"a\"]\ninterval = 5m\n", 1, "feed \"a\" has no url" },
	{ "[feed \"a\"]\nurl = http://a/\ncolour = red\n", 3,
	    "unknown key \"colour\" in [feed]" },
	{ "[watchlist \"w\"]\nfeeds = all\n", 1,
	    "watchlist \"w\" has no query" },
	{ "[watchlist \"w\"]\n\nquery = \"open phrase\n", 3,
	    "watchlist \"w\": query: column 1: unterminated phrase" },
	{ "[watchlist \"w\"]\nquery = NOT war\n", 2,
	    "the query would match stories for what they lack" },
	{ "[watchlist \"w\"]\nquery = x\nhooks = nope\n", 3,
	    "watchlist \"w\": no [hook \"nope\"]" },
	{ "[feed \"a\"]\nurl = http://a/\n[watchlist \"w\"]\nquery = x\n"
	  "feeds = a, b\n",
	    5, "watchlist \"w\": no [feed \"b\"]" },
	{ "[watchlist \"w\"]\nquery = x\nlanguage = klingon\n", 3,
	    "language: no stemmer for \"klingon\"" },
	{ "[watchlist \"w\"]\nquery = x\naccents = maybe\n", 3,
	    "accents: \"maybe\" is not fold or keep" },
	{ "[watchlist \"w\"]\nquery = a NEAR/0 b\n", 2,
	    "query: column 3: NEAR/N needs a distance from 1 to 100" },
	{ "[hook \"h\"]\ntimeout = 5s\n", 1, "hook \"h\" has no command" },
	{ "[hook \"h\"]\ncommand = ./no-such-hook --flag\n", 2,
	    "no-such-hook: No such file or directory" },
	{ "[hook \"h\"]\ncommand = feedwatch-no-such-hook --flag\n", 2,
	    "command: feedwatch-no-such-hook: not found in PATH" },
	{ "[hook \"h\"]\ncommand = /\n", 2, "/: not a regular file" },
	{ "[hook \"h\"]\ncommand = ./feedwatch.conf\n", 2,
	    "feedwatch.conf: Permission denied" },
	{ "[hook \"h\"]\ncommand = 'unterminated\n", 2,
	    "command: unterminated ' quote" },
	{ "[hook \"h\"]\ncommand = true\nretries = many\n", 3,
	    "retries: \"many\" is not a number" },
	{ "[daemon]\nmax_hooks = 0\n", 2,
	    "max_hooks: \"0\" is not a number from 1 to 256" },
	{ "[hook \"h\"]\ncommand = true\nconcurrency = 65\n", 3,
	    "concurrency: \"65\" is not a number from 1 to 64" },
	{ "[hook \"h\"]\ncommand = true\nrate = 30\n", 3,
	    "rate: \"30\" is not N/UNIT" },
	{ "[hook \"h\"]\ncommand = true\nrate = 30/w\n", 3,
	    "rate: \"30/w\" is not N/UNIT" },
	{ "[hook \"h\"]\ncommand = true\nrate = 0/h\n", 3,
	    "rate: \"0/h\" is not N/UNIT" },
	{ "[hook \"h\"]\ncommand = true\nrate = 5/8d\n", 3,
	    "rate: \"5/8d\" is not N/UNIT" },
	{ "[hook \"h\"]\ncommand = true\nmode = batch\n", 3,
	    "mode: \"batch\" is not each or digest" },
	{ "[hook \"h\"]\ncommand = true\nmode = digest\n", 1,
	    "hook \"h\": mode = digest needs every" },
	{ "[hook \"h\"]\ncommand = true\nevery = 1h\n", 1,
	    "hook \"h\": every and at need mode = digest" },
	{ "[hook \"h\"]\ncommand = true\nmode = digest\nevery = 1h\n"
	  "at = 08:00\n",
	    1, "hook \"h\": give every or at, not both" },
	{ "[hook \"h\"]\ncommand = true\nmode = digest\nevery = 1h\n"
	  "rate = 2/h\n",
	    1, "concurrency and rate are for mode = each" },
	{ "[hook \"h\"]\ncommand = true\nmode = digest\nat = 8\n", 4,
	    "at: \"8\" is not a time of day" },
	{ "[hook \"h\"]\ncommand = true\nmode = digest\nat = 24:00\n", 4,
	    "at: \"24:00\" is not a time of day" },
	{ "[hook \"h\"]\ncommand = true\nmode = digest\nat = 8:5\n", 4,
	    "at: \"8:5\" is not a time of day" },
	{ "[hook \"h\"]\ncommand = true\nmode = digest\nat = ,\n", 4,
	    "at: no time given" },
	{ "[daemon]\ndatabase = a.db\n  more = 1\n", 3,
	    "only query may continue" },
	{ "[feeds]\nurl = http://a/\n", 2, "unknown key \"url\" in [feeds]" },
	{ "[feeds \"x\"]\nopml = a.opml\n", 1,
	    "unknown section [feeds \"x\"]" },
	{ "[feeds]\nopml = a.opml\nopml = a.opml\n", 3,
	    "/a.opml is named at line 2 already" },
	/* A file saved as Latin-1: names and queries go into JSON. */
	{ "[feed \"caf\xe9\"]\nurl = http://a/\n", 1,
	    "column 11: not UTF-8 (byte 0xe9); save the file as UTF-8" },
	{ "[watchlist \"w\"]\nquery = \"M\xfcnchen\" OR Zurich\n", 2,
	    "column 11: not UTF-8 (byte 0xfc)" },
	{ "[watchlist \"w\"]\nquery = \xd0\xbc\xd0\n", 2,
	    "column 11: not UTF-8 (byte 0xd0)" },
};

static void
test_config_bad_line_names_file_and_line(void **state)
{
	struct fixture *fx = *state;
	char want[512], *cause;

	for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
		const struct bad_case *c = &bad_cases[i];

		cause = load(fx, c->text, NULL);
		if (cause == NULL)
			fail_msg("case %zu: no error for:\n%s", i, c->text);
		snprintf(want, sizeof want, "%s:%d: ", fx->path, c->line);
		if (strstr(cause, want) == NULL ||
		    strstr(cause, c->message) == NULL)
			fail_msg("case %zu: want \"%s%s\", got \"%s\"", i, want,
			    c->message, cause);
		free(cause);
	}
}

static void
test_config_missing_file(void **state)
{
	struct fixture *fx = *state;
	char *cause = NULL;

	assert_null(config_load(fx->path, &cause));
	assert_non_null(strstr(cause, "No such file or directory"));
	free(cause);
}

static void
test_config_every_error_reported(void **state)
{
	struct fixture *fx = *state;
	char *cause;

	cause = load(fx,
	    "[daemon]\nbogus = 1\ninterval = x\n[feed \"a\"]\n"
	    "what = 2\n",
	    NULL);
	assert_non_null(cause);
	assert_non_null(strstr(cause, "feedwatch.conf:2: unknown key"));
	assert_non_null(strstr(cause, "feedwatch.conf:3: interval:"));
	assert_non_null(strstr(cause, "feedwatch.conf:5: unknown key"));
	free(cause);
}

/* A comment may be in any encoding: nothing reads it. */
static void
test_config_comment_not_utf8(void **state)
{
	struct fixture *fx = *state;
	struct config *cfg;

	assert_null(load(fx,
	    "; Caf\xe9 du Monde\n"
	    "[watchlist \"w\"]\n"
	    "   # M\xfcnchen desk\n"
	    "query = \"M\xc3\xbcnchen\"\n",
	    &cfg));
	assert_string_equal(
	    TAILQ_FIRST(&cfg->watchlists)->query, "\"M\xc3\xbcnchen\"");
	config_free(cfg);
}

static void
test_config_long_line(void **state)
{
	struct fixture *fx = *state;
	char text[600], *cause;

	snprintf(text, sizeof text, "[watchlist \"w\"]\nquery = %0400d\n", 7);
	cause = load(fx, text, NULL);
	assert_non_null(cause);
	assert_non_null(strstr(cause, "feedwatch.conf:2: line longer than"));
	free(cause);
}

static void
test_config_valid(void **state)
{
	struct fixture *fx = *state;
	struct config *cfg;
	struct config_feed *f;
	struct config_watchlist *w;
	struct config_hook *h;
	char hook[160];

	snprintf(hook, sizeof hook, "%s/hook.sh", fx->dir);
	testutil_write_file(hook, "#!/bin/sh\nexit 0\n", 0755);
	assert_null(load(fx,
	    "; a comment\n"
	    "[daemon]\n"
	    "database = state/feedwatch.db\n"
	    "interval = 1h30m\n"
	    "max_body = 2M\n"
	    "\n"
	    "[feed \"world\"]\n"
	    "url = https://example.org/world.xml\n"
	    "tags = world, news\n"
	    "interval = 5m\n"
	    "[feed \"local\"]\n"
	    "url = feeds/local.xml\n"
	    "[hook \"h\"]\n"
	    "command = ./hook.sh --to 'desk one' \"two\"\n"
	    "timeout = 30s\n"
	    "[watchlist \"w\"]\n"
	    "query = \"track two diplomacy\" OR\n"
	    "  \"track II diplomacy\"\n"
	    "feeds = tag:news\n"
	    "hooks = h\n",
	    &cfg));
	assert_non_null(cfg);
	assert_non_null(strstr(cfg->database, "/state/feedwatch.db"));
	assert_int_equal(cfg->interval, 5400);
	assert_int_equal(cfg->fetch.max_body, 2 * 1024 * 1024);
	f = TAILQ_FIRST(&cfg->feeds);
	assert_string_equal(f->name, "world");
	assert_int_equal(f->interval, 300);
	assert_string_equal(f->tags[0], "world");
	assert_string_equal(f->tags[1], "news");
	assert_null(f->tags[2]);
	f = TAILQ_NEXT(f, entry);
	assert_true(strncmp(f->url, "file:///", 8) == 0);
	assert_non_null(strstr(f->url, "/feeds/local.xml"));
	h = config_hook_find(cfg, "h");
	assert_non_null(h);
	assert_int_equal(h->timeout, 30);
	assert_string_equal(h->argv[1], "--to");
	assert_string_equal(h->argv[2], "desk one");
	assert_string_equal(h->argv[3], "two");
	assert_null(h->argv[4]);
	assert_true(h->argv[0][0] == '/');
	w = TAILQ_FIRST(&cfg->watchlists);
	assert_string_equal(
	    w->query, "\"track two diplomacy\" OR \"track II diplomacy\"");
	assert_non_null(cfg->matcher);
	assert_false(config_watchlist_wants(w, TAILQ_FIRST(&cfg->feeds)) == 0);
	assert_int_equal(config_watchlist_wants(w, f), 0);
	config_free(cfg);
}

/* An OPML file in the fixture's directory. */
static void
write_opml(struct fixture *fx, const char *name, const char *body)
{
	char path[160], *text;

	snprintf(path, sizeof path, "%s/%s", fx->dir, name);
	xasprintf(&text,
	    "<?xml version=\"1.0\"?>\n<opml version=\"2.0\">\n<body>\n%s"
	    "</body>\n</opml>\n",
	    body);
	testutil_write_file(path, text, 0644);
	free(text);
}

static void
test_config_opml(void **state)
{
	struct fixture *fx = *state;
	struct config *cfg;
	struct config_feed *f;
	struct config_opml *o;
	char want[256];

	write_opml(fx, "feeds.opml",
	    "<outline text=\"World News\">\n"
	    "  <outline text=\"NBC\" xmlUrl=\"https://nbc.example/world\"\n"
	    "      category=\"/us,breaking\"/>\n"
	    "</outline>\n"
	    "<outline text=\"local\" xmlUrl=\"local.xml\"/>\n");
	write_opml(fx, "more.opml",
	    "<outline title=\"More\" xmlUrl=\"https://more.example/\"/>\n");
	assert_null(load(fx,
	    "[feed \"a\"]\n"
	    "url = http://a.example/\n"
	    "[feeds]\n"
	    "opml = feeds.opml\n"
	    "opml = more.opml\n"
	    "[watchlist \"w\"]\n"
	    "query = x\n"
	    "feeds = tag:World-News, More\n",
	    &cfg));
	assert_non_null(cfg);
	o = TAILQ_FIRST(&cfg->opml);
	snprintf(want, sizeof want, "%s/feeds.opml", fx->dir);
	assert_string_equal(o->path, want);
	assert_int_equal(o->line, 4);
	assert_int_equal(TAILQ_NEXT(o, entry)->line, 5);
	f = TAILQ_FIRST(&cfg->feeds);
	assert_string_equal(f->name, "a");
	assert_null(f->opml);
	f = TAILQ_NEXT(f, entry);
	assert_string_equal(f->name, "NBC");
	assert_string_equal(f->url, "https://nbc.example/world");
	assert_string_equal(f->tags[0], "World-News");
	assert_string_equal(f->tags[1], "us");
	assert_string_equal(f->tags[2], "breaking");
	assert_null(f->tags[3]);
	assert_int_equal(f->line, 4);
	assert_string_equal(f->opml, want);
	assert_int_equal(f->opml_line, 6);
	assert_int_equal(
	    config_watchlist_wants(TAILQ_FIRST(&cfg->watchlists), f), 1);
	/* A path in OPML is relative to the OPML file. */
	f = TAILQ_NEXT(f, entry);
	snprintf(want, sizeof want, "file://%s/local.xml", fx->dir);
	assert_string_equal(f->url, want);
	assert_null(f->tags[0]);
	f = TAILQ_NEXT(f, entry);
	assert_string_equal(f->name, "More");
	assert_int_equal(f->line, 5);
	assert_null(TAILQ_NEXT(f, entry));
	config_free(cfg);
}

/* A name in OPML that a section or another file has: both places. */
static void
test_config_opml_clash(void **state)
{
	struct fixture *fx = *state;
	char want[512], *cause;

	write_opml(fx, "feeds.opml",
	    "<outline text=\"x\" xmlUrl=\"https://x.example/\"/>\n"
	    "<outline text=\"nbc\" xmlUrl=\"https://nbc.example/\"/>\n");
	write_opml(fx, "more.opml",
	    "\n<outline text=\"x\" xmlUrl=\"https://x2.example/\"/>\n");
	cause = load(fx,
	    "[feeds]\n"
	    "opml = feeds.opml\n"
	    "\n"
	    "[feed \"nbc\"]\n"
	    "url = http://nbc.example/\n"
	    "[feeds]\n"
	    "opml = more.opml\n",
	    NULL);
	assert_non_null(cause);
	snprintf(want, sizeof want,
	    "%s:2: opml: %s/feeds.opml:5: feed \"nbc\" is also [feed \"nbc\"] "
	    "at line 4",
	    fx->path, fx->dir);
	if (strstr(cause, want) == NULL)
		fail_msg("want \"%s\" in \"%s\"", want, cause);
	snprintf(want, sizeof want,
	    "%s:7: opml: %s/more.opml:5: feed \"x\" is also in "
	    "%s/feeds.opml:4 (opml at line 2)",
	    fx->path, fx->dir, fx->dir);
	if (strstr(cause, want) == NULL)
		fail_msg("want \"%s\" in \"%s\"", want, cause);
	free(cause);
}

static void
test_config_opml_missing_or_malformed(void **state)
{
	struct fixture *fx = *state;
	struct config *cfg;
	char want[512], *cause;
	const char *text = "[daemon]\n"
			   "interval = 5m\n"
			   "[feeds]\n"
			   "opml = feeds.opml\n";

	cause = load(fx, text, NULL);
	assert_non_null(cause);
	snprintf(want, sizeof want,
	    "%s:4: opml: %s/feeds.opml: No such file or directory", fx->path,
	    fx->dir);
	assert_string_equal(cause, want);
	free(cause);
	/* The command line tool creates it: no feeds yet. */
	cause = NULL;
	cfg = config_load_flags(fx->path, CONFIG_OPML_MAY_BE_MISSING, &cause);
	assert_non_null(cfg);
	assert_true(TAILQ_EMPTY(&cfg->feeds));
	assert_non_null(TAILQ_FIRST(&cfg->opml));
	config_free(cfg);
	write_opml(fx, "feeds.opml", "<outline text=\"a\" xmlUrl=\"x\">\n");
	cause = load(fx, text, NULL);
	assert_non_null(cause);
	snprintf(want, sizeof want,
	    "%s:4: opml: %s/feeds.opml:5: Opening and ending tag mismatch: "
	    "outline line 4 and body",
	    fx->path, fx->dir);
	assert_string_equal(cause, want);
	free(cause);
}

/* How many hooks run at once, and how often each may. */
static void
test_config_hook_limits(void **state)
{
	static const struct {
		const char *rate;
		int count, period;
	} rates[] = {
		{ "30/h", 30, 3600 },
		{ "5/m", 5, 60 },
		{ "100/d", 100, 86400 },
		{ "1/s", 1, 1 },
		{ "5/10m", 5, 600 },
	};
	struct fixture *fx = *state;
	struct config *cfg;
	struct config_hook *h;
	char text[256];

	assert_null(load(fx, "[hook \"h\"]\ncommand = true\n", &cfg));
	assert_int_equal(cfg->max_hooks, 4);
	h = config_hook_find(cfg, "h");
	assert_int_equal(h->concurrency, 1);
	assert_int_equal(h->rate_count, 0);
	config_free(cfg);
	for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++) {
		snprintf(text, sizeof text,
		    "[daemon]\nmax_hooks = 9\n"
		    "[hook \"h\"]\ncommand = true\nconcurrency = 3\n"
		    "rate = %s\n",
		    rates[i].rate);
		assert_null(load(fx, text, &cfg));
		assert_int_equal(cfg->max_hooks, 9);
		h = config_hook_find(cfg, "h");
		assert_int_equal(h->concurrency, 3);
		assert_int_equal(h->rate_count, rates[i].count);
		assert_int_equal(h->rate_period, rates[i].period);
		config_free(cfg);
	}
}

/* mode = digest, once per period: every, or at local times of day. */
static void
test_config_digest(void **state)
{
	static const struct {
		const char *tz;
		const char *since; /* UTC */
		const char *due;   /* UTC */
	} cases[] = {
		{ "UTC0", "2024-01-01T07:00:00Z", "2024-01-01T08:00:00Z" },
		{ "UTC0", "2024-01-01T08:00:00Z", "2024-01-01T17:00:00Z" },
		{ "UTC0", "2024-01-01T17:30:00Z", "2024-01-02T08:00:00Z" },
		{ "UTC0", "2023-12-31T23:59:59Z", "2024-01-01T08:00:00Z" },
		/* 08:00 in India is 02:30 UTC. */
		{ "IST-5:30", "2024-01-01T00:00:00Z", "2024-01-01T02:30:00Z" },
		/* Europe's summer time starts on 31 March 2024 at 01:00 UTC. */
		{ "CET-1CEST,M3.5.0,M10.5.0/3", "2024-03-30T17:00:00Z",
		    "2024-03-31T06:00:00Z" },
	};
	struct fixture *fx = *state;
	struct config *cfg;
	struct config_hook *h;
	char *tz = getenv("TZ") != NULL ? xstrdup(getenv("TZ")) : NULL;
	time_t since, due;

	assert_null(load(fx,
	    "[hook \"h\"]\ncommand = true\nmode = each\n"
	    "[hook \"hourly\"]\ncommand = true\nmode = digest\nevery = 1h\n"
	    "[hook \"daily\"]\ncommand = true\nmode = digest\n"
	    "at = 17:00, 8:00, 08:00\n",
	    &cfg));
	h = config_hook_find(cfg, "h");
	assert_false(h->is_digest);
	h = config_hook_find(cfg, "hourly");
	assert_true(h->is_digest);
	assert_int_equal(h->every, 3600);
	assert_int_equal(config_digest_due(h, 1000), 4600);
	h = config_hook_find(cfg, "daily");
	assert_true(h->is_digest);
	assert_int_equal(h->nat, 2);
	assert_int_equal(h->at[0], 8 * 60);
	assert_int_equal(h->at[1], 17 * 60);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		setenv("TZ", cases[i].tz, 1);
		tzset();
		assert_int_equal(date_parse(cases[i].since, &since), 0);
		assert_int_equal(date_parse(cases[i].due, &due), 0);
		if (config_digest_due(h, since) != due)
			fail_msg("case %zu: due %lld, want %lld", i,
			    (long long)config_digest_due(h, since),
			    (long long)due);
	}
	if (tz != NULL)
		setenv("TZ", tz, 1);
	else
		unsetenv("TZ");
	tzset();
	free(tz);
	config_free(cfg);
}

static void
test_config_split_argv(void **state)
{
	static const struct {
		const char *cmd;
		const char *argv[5];
	} cases[] = {
		{ "a b  c", { "a", "b", "c" } },
		{ "hook 'two words' \"x \\\"y\\\"\" z\\ w",
		    { "hook", "two words", "x \"y\"", "z w" } },
		{ "echo '$(touch /tmp/x)' `id`",
		    { "echo", "$(touch /tmp/x)", "`id`" } },
		{ "a''b \"\"", { "ab", "" } },
		{ "   ", { NULL } },
	};
	char **argv, *cause;
	size_t j;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		argv = config_split_argv(cases[i].cmd, &cause);
		assert_non_null(argv);
		for (j = 0; cases[i].argv[j] != NULL; j++)
			assert_string_equal(argv[j], cases[i].argv[j]);
		assert_null(argv[j]);
		config_argv_free(argv);
	}
	assert_null(config_split_argv("a \"b", &cause));
	assert_string_equal(cause, "unterminated \" quote");
	free(cause);
}

static void
test_config_duration(void **state)
{
	static const struct {
		const char *s;
		int secs; /* -1 = rejected */
	} cases[] = {
		{ "90", 90 },
		{ "90s", 90 },
		{ "15m", 900 },
		{ "2h", 7200 },
		{ "1d", 86400 },
		{ "1h30m", 5400 },
		{ "", -1 },
		{ "m", -1 },
		{ "5x", -1 },
		{ "-5", -1 },
		{ "99999999999", -1 },
	};
	int v;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		if (cases[i].secs == -1)
			assert_int_equal(config_duration(cases[i].s, &v), -1);
		else {
			assert_int_equal(config_duration(cases[i].s, &v), 0);
			assert_int_equal(v, cases[i].secs);
		}
	}
}

/* [daemon] metrics = ADDRESS:PORT: off unless set, checked at load. */
static void
test_config_metrics(void **state)
{
	static const struct {
		const char *value;
		const char *message;
	} bad[] = {
		{ "9464", "metrics: \"9464\": no port" },
		{ "localhost:9464", "\"localhost\" is not an IPv4 address" },
		{ "::1:9464", "write an IPv6 address in brackets" },
		{ "127.0.0.1:70000", "\"70000\" is not a port" },
	};
	struct fixture *fx = *state;
	struct config *cfg;
	char text[128], want[256], *cause;

	assert_null(load(fx, "[daemon]\ndatabase = x.db\n", &cfg));
	assert_null(cfg->metrics);
	config_free(cfg);
	assert_null(load(fx, "[daemon]\nmetrics = [::1]:9464\n", &cfg));
	assert_string_equal(cfg->metrics, "[::1]:9464");
	config_free(cfg);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(text, sizeof text, "[daemon]\n\nmetrics = %s\n",
		    bad[i].value);
		assert_non_null(cause = load(fx, text, NULL));
		snprintf(want, sizeof want, "%s:3: metrics: ", fx->path);
		if (strstr(cause, want) == NULL ||
		    strstr(cause, bad[i].message) == NULL)
			fail_msg("want \"%s...%s\", got \"%s\"", want,
			    bad[i].message, cause);
		free(cause);
	}
}

/* Fetch settings: the daemon's, and a feed's own over them. */
static void
test_config_fetch_settings(void **state)
{
	struct fixture *fx = *state;
	struct config *cfg;
	struct config_feed *a, *b;
	struct config_fetch got;

	assert_null(load(fx,
	    "[daemon]\n"
	    "timeout = 2m\nconnect_timeout = 7s\nlow_speed_limit = 10\n"
	    "low_speed_time = 1m\nmax_body = 4M\nproxy = http://p:3128\n"
	    "max_per_host = 2\nmin_interval = 5m\nmax_interval = 2h\n"
	    "adaptive = yes\nunhealthy_after = 6h\nhealth_hooks = h\n"
	    "[feed \"a\"]\nurl = http://a/\n"
	    "[feed \"b\"]\nurl = http://b/\ntimeout = 5s\nmax_body = 64k\n"
	    "proxy = none\nadaptive = no\n"
	    "[hook \"h\"]\ncommand = true\n",
	    &cfg));
	assert_int_equal(cfg->max_per_host, 2);
	assert_int_equal(cfg->min_interval, 300);
	assert_int_equal(cfg->max_interval, 7200);
	assert_int_equal(cfg->unhealthy_after, 6 * 3600);
	assert_string_equal(cfg->health_hooks[0], "h");
	a = config_feed_find(cfg, "a");
	b = config_feed_find(cfg, "b");
	config_feed_fetch(cfg, a, &got);
	assert_int_equal(got.timeout, 120);
	assert_int_equal(got.connect_timeout, 7);
	assert_int_equal(got.low_speed_limit, 10);
	assert_int_equal(got.low_speed_time, 60);
	assert_int_equal(got.max_body, 4 * 1024 * 1024);
	assert_string_equal(got.proxy, "http://p:3128");
	assert_int_equal(config_feed_adaptive(cfg, a), 1);
	config_feed_fetch(cfg, b, &got);
	assert_int_equal(got.timeout, 5);
	assert_int_equal(got.connect_timeout, 7);
	assert_int_equal(got.max_body, 64 * 1024);
	assert_string_equal(got.proxy, "");
	assert_int_equal(config_feed_adaptive(cfg, b), 0);
	config_free(cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_config_fetch_settings, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_config_bad_line_names_file_and_line, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_config_missing_file, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_config_comment_not_utf8, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_config_every_error_reported, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_config_long_line, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_config_valid, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_config_opml, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_config_opml_clash, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_config_opml_missing_or_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_config_hook_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_config_digest, setup, teardown),
		cmocka_unit_test(test_config_split_argv),
		cmocka_unit_test(test_config_duration),
		cmocka_unit_test_setup_teardown(
		    test_config_metrics, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
