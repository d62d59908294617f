#include <sys/types.h>
#include <sys/wait.h>

#include <limits.h>
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

#include <jansson.h>

#include "store.h"
#include "testutil.h"

/*
 * feedwatch status against a story log the test writes through
 * store.h: known feeds, failures, stories, alerts; every line of the
 * screen is checked, and the JSON.
 */

static const char *feedwatch_path;

/* A configured feed and what its fetches were. */
struct feed_case {
	const char *name;
	int failures;	   /* failed fetches in a row, -1 = never polled */
	int ok_days_ago;   /* a success before the failures, 0 = none */
	const char *error; /* of the failures */
};

static const struct feed_case feed_cases[] = {
	{ "ok-feed", 0, 0, NULL },
	{ "f-one", 1, 0, "HTTP status 503" },
	{ "f-three", 3, 3, "HTTP status 503" },
	{ "f-seven", 7, 0, "line one\nline two" },
	{ "f-two", 2, 0, "HTTP status 503" },
	{ "f-nine", 9, 0, "HTTP status 503" },
	{ "f-five", 5, 0, NULL }, /* a long error, made in the test */
	{ "fresh", -1, 0, NULL },
};

#define NFEEDS (sizeof feed_cases / sizeof feed_cases[0])

struct fixture {
	char dir[64];
	char conf[128];
	char db[128];
	time_t now;
	time_t ok_at;	 /* ok-feed's success */
	time_t three_ok; /* f-three's success */
	char long_error[160];
};

static void
write_config(struct fixture *fx)
{
	FILE *f;

	assert_non_null(f = fopen(fx->conf, "we"));
	fprintf(f, "[daemon]\ndatabase = feedwatch.db\n\n");
	for (size_t i = 0; i < NFEEDS; i++)
		fprintf(f, "[feed \"%s\"]\nurl = http://127.0.0.1:1/%s.xml\n\n",
		    feed_cases[i].name, feed_cases[i].name);
	/* Never in the story log at all: new too. */
	fprintf(f, "[feed \"fresh-too\"]\nurl = http://127.0.0.1:1/x.xml\n");
	assert_int_equal(fclose(f), 0);
}

static void
fetched(struct store *st, int64_t id, time_t when, const char *error)
{
	struct store_fetch sf;
	char *cause = NULL;

	memset(&sf, 0, sizeof sf);
	sf.when = when;
	/* "HTTP status 503" came with an answer; other errors without. */
	if (error == NULL)
		sf.http_status = 200;
	else if (strncmp(error, "HTTP", 4) == 0)
		sf.http_status = 503;
	sf.error = error;
	sf.next_poll = when + 900;
	sf.items = error == NULL ? 3 : -1;
	if (store_feed_fetched(st, id, &sf, &cause) == -1)
		fail_msg("store_feed_fetched: %s", cause);
}

/* Each feed's fetches, as feed_cases says. */
static void
write_feeds(struct fixture *fx, struct store *st, int64_t *ok_id)
{
	const struct feed_case *c;
	struct store_feed f;
	char *cause = NULL;

	for (size_t i = 0; i < NFEEDS; i++) {
		c = &feed_cases[i];
		if (store_feed_get(
			st, c->name, "http://127.0.0.1:1/", &f, &cause) == -1)
			fail_msg("store_feed_get: %s", cause);
		if (c->failures == 0) {
			fetched(st, f.id, fx->ok_at, NULL);
			*ok_id = f.id;
		}
		if (c->ok_days_ago > 0)
			fetched(st, f.id, fx->three_ok, NULL);
		for (int j = 0; j < c->failures; j++)
			fetched(st, f.id, fx->now - 60 + j,
			    c->error != NULL ? c->error : fx->long_error);
		store_feed_clear(&f);
	}
	/* A feed no longer configured is not on the screen. */
	assert_int_equal(
	    store_feed_get(st, "gone", "http://g/", &f, &cause), 0);
	for (int j = 0; j < 50; j++)
		fetched(st, f.id, fx->now - 10, "HTTP status 410");
	store_feed_clear(&f);
}

static int64_t
add_story(struct store *st, int64_t feed_id, const char *key, int64_t cluster)
{
	struct store_story s;
	char *cause = NULL;
	int64_t id;
	int is_new;

	memset(&s, 0, sizeof s);
	s.key = key;
	s.title = key;
	s.published = -1;
	s.cluster = cluster;
	s.joined = cluster != 0 ? "same URL" : NULL;
	if (store_story_add(st, feed_id, &s, &id, &is_new, &cause) == -1)
		fail_msg("store_story_add: %s", cause);
	assert_true(is_new);
	return id;
}

/*
 * Five stories and a copy of the first; two of them first seen two
 * days ago. Four alerts: one delivered, one failed, two pending.
 */
static void
write_stories(struct fixture *fx, struct store *st, int64_t feed_id)
{
	static const char *keys[] = { "s1", "s2", "s3", "s4", "s5" };
	int64_t ids[5];
	char *cause = NULL;

	for (size_t i = 0; i < 5; i++)
		ids[i] = add_story(st, feed_id, keys[i], 0);
	add_story(st, feed_id, "s1-copy", ids[0]);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(
		    store_alert_add(st, ids[i], "w", "h", fx->now, &cause), 0);
	assert_int_equal(store_alert_delivered(st, 1, fx->now, &cause), 0);
	assert_int_equal(store_alert_attempt_failed(
			     st, 2, "exit status 1", fx->now, 1, 1, &cause),
	    0);
}

static void
backdate_stories(struct fixture *fx)
{
	char sql[128];

	snprintf(sql, sizeof sql,
	    "UPDATE stories SET first_seen = %lld WHERE key IN ('s4', 's5')",
	    (long long)(fx->now - 2 * 86400));
	testutil_db_exec(fx->db, sql);
}

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof *fx);
	struct store *st;
	char *cause = NULL;
	int64_t ok_id = 0;

	assert_non_null(fx);
	testutil_tmpdir(fx->dir, sizeof fx->dir, "status");
	snprintf(fx->conf, sizeof fx->conf, "%s/feedwatch.conf", fx->dir);
	snprintf(fx->db, sizeof fx->db, "%s/feedwatch.db", fx->dir);
	fx->now = time(NULL);
	fx->ok_at = fx->now - 300;
	fx->three_ok = fx->now - 3 * 86400;
	memset(fx->long_error, 'x', 150);
	write_config(fx);
	if ((st = store_open(fx->db, &cause)) == NULL)
		fail_msg("store_open: %s", cause);
	write_feeds(fx, st, &ok_id);
	write_stories(fx, st, ok_id);
	store_close(st);
	backdate_stories(fx);
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

/* Run feedwatch status ARGS; return its exit status and its output. */
static int
run_status(const char *args, char **out)
{
	char cmd[PATH_MAX * 2];
	size_t len = 0, n;
	FILE *p;
	int status;

	snprintf(cmd, sizeof cmd, "'%s' status %s 2>&1", feedwatch_path, args);
	assert_non_null(p = popen(cmd, "r"));
	assert_non_null(*out = malloc(65536));
	while ((n = fread(*out + len, 1, 65535 - len, p)) > 0)
		len += n;
	(*out)[len] = '\0';
	status = pclose(p);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void
local_time(time_t t, char *buf, size_t len)
{
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M", &tm);
}

/* The screen, line by line; the database's sizes only by their form. */
static void
test_status_screen(void **state)
{
	struct fixture *fx = *state;
	char args[160], ok[32], three[32], *out, *want, *db;

	local_time(fx->ok_at, ok, sizeof ok);
	local_time(fx->three_ok, three, sizeof three);
	assert_true(asprintf(&want,
			"feeds:         9 configured: 1 OK, 6 failing, 2 new\n"
			"  f-nine       9 failures in a row, last OK never\n"
			"               HTTP status 503\n"
			"  f-seven      7 failures in a row, last OK never\n"
			"               line one line two\n"
			"  f-five       5 failures in a row, last OK never\n"
			"               %.100s...\n"
			"  f-three      3 failures in a row, last OK %s "
			"(3 d ago)\n"
			"               HTTP status 503\n"
			"  f-two        2 failures in a row, last OK never\n"
			"               HTTP status 503\n"
			"               and 1 more failing (feedwatch feeds)\n"
			"stories:       3 first seen today, 5 in all\n"
			"alerts:        2 pending, 1 failed, 1 delivered\n"
			"database:      %s: ",
			fx->long_error, three, fx->db) > 0);
	snprintf(args, sizeof args, "-c '%s'", fx->conf);
	assert_int_equal(run_status(args, &out), 0);
	if (strncmp(out, want, strlen(want)) != 0)
		fail_msg("want:\n%s\ngot:\n%s", want, out);
	db = out + strlen(want);
	/* "12.0 KiB, WAL 4.0 MiB, search index 8.0 KiB", parts optional. */
	assert_non_null(strstr(db, " KiB"));
	db = strchr(db, '\n') + 1;
	free(want);
	assert_true(asprintf(&want, "last success:  %s (5 min ago)\n", ok) > 0);
	assert_string_equal(db, want);
	free(want);
	free(out);
}

static json_int_t
json_at(json_t *o, const char *a, const char *b)
{
	json_t *v = json_object_get(json_object_get(o, a), b);

	if (!json_is_integer(v))
		fail_msg("%s.%s is not a number", a, b);
	return json_integer_value(v);
}

static void
test_status_json(void **state)
{
	struct fixture *fx = *state;
	char args[160], *out;
	json_error_t jerr;
	json_t *o, *worst, *w;

	snprintf(args, sizeof args, "--json -c '%s'", fx->conf);
	assert_int_equal(run_status(args, &out), 0);
	if ((o = json_loads(out, 0, &jerr)) == NULL)
		fail_msg("%s: %s", jerr.text, out);
	assert_int_equal(json_at(o, "feeds", "configured"), 9);
	assert_int_equal(json_at(o, "feeds", "ok"), 1);
	assert_int_equal(json_at(o, "feeds", "failing"), 6);
	assert_int_equal(json_at(o, "feeds", "new"), 2);
	assert_int_equal(json_at(o, "stories", "today"), 3);
	assert_int_equal(json_at(o, "stories", "total"), 5);
	assert_int_equal(json_at(o, "alerts", "pending"), 2);
	assert_int_equal(json_at(o, "alerts", "failed"), 1);
	assert_int_equal(json_at(o, "alerts", "delivered"), 1);
	assert_true(json_at(o, "database", "bytes") > 0);
	/* The full-text index is a file of its own beside the log. */
	assert_true(json_at(o, "database", "search_index_bytes") > 0);
	worst = json_object_get(json_object_get(o, "feeds"), "worst");
	assert_int_equal(json_array_size(worst), 5);
	w = json_array_get(worst, 0);
	assert_string_equal(
	    json_string_value(json_object_get(w, "name")), "f-nine");
	assert_int_equal(json_integer_value(json_object_get(w, "failures")), 9);
	assert_int_equal(
	    json_integer_value(json_object_get(w, "http_status")), 503);
	assert_true(json_is_null(json_object_get(w, "last_success")));
	assert_string_equal(json_string_value(json_object_get(
				json_array_get(worst, 1), "last_error")),
	    "line one\nline two");
	assert_true(json_is_string(json_object_get(o, "last_success")));
	json_decref(o);
	free(out);
}

/* A configuration that does not load: exit 2 with its error. */
static void
test_status_bad_config(void **state)
{
	struct fixture *fx = *state;
	char args[160], *out;

	snprintf(args, sizeof args, "-c '%s/none.conf'", fx->dir);
	assert_int_equal(run_status(args, &out), 2);
	assert_non_null(strstr(out, "none.conf: No such file or directory"));
	free(out);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_status_screen, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_status_json, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_status_bad_config, setup, teardown),
	};

	if (argc != 2) {
		fprintf(stderr, "usage: %s FEEDWATCH\n", argv[0]);
		return 2;
	}
	feedwatch_path = argv[1];
	/* The screen's local times, here and in feedwatch, are in UTC. */
	setenv("TZ", "UTC", 1);
	tzset();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
