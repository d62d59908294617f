#include <sys/stat.h>

#include <setjmp.h>
#include <signal.h>
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

#include <event2/event.h>

#include "alert.h"
#include "config.h"
#include "store.h"
#include "testutil.h"
#include "xmalloc.h"

/*
 * The dispatcher on its own event loop, against a real story log and
 * hook scripts in a mkdtemp directory: a configuration swapped while a
 * hook runs.
 */

#define TEST_WATCHDOG 30 /* seconds before a hung test fails */

struct fixture {
	char dir[64];
	char db[128];
	struct event_base *base;
	struct store *st;
	int64_t feed;
	int stories;
};

/* What the loop waits for: alerts in each state. */
struct until {
	struct fixture *fx;
	int delivered;
	int failed;
	int is_timed_out;
};

static void
write_file(
    const struct fixture *fx, const char *name, const char *text, mode_t mode)
{
	char path[160];

	testutil_path(path, sizeof path, fx->dir, name);
	testutil_write_file(path, text, mode);
}

static char *
read_text(const struct fixture *fx, const char *name)
{
	char path[160];

	testutil_path(path, sizeof path, fx->dir, name);
	return testutil_read_file(path);
}

static int
exists(const struct fixture *fx, const char *name)
{
	char path[160];

	testutil_path(path, sizeof path, fx->dir, name);
	return access(path, F_OK) == 0;
}

static struct config *
load(struct fixture *fx, const char *name, const char *text)
{
	struct config *cfg;
	char path[160], *cause = NULL;

	write_file(fx, name, text, 0644);
	testutil_path(path, sizeof path, fx->dir, name);
	if ((cfg = config_load(path, &cause)) == NULL)
		fail_msg("%s", cause);
	return cfg;
}

/* Queue an alert of a new story for hook; return its alert_id. */
static char *
queue(struct fixture *fx, const char *hook)
{
	struct store_story s;
	struct store_alert *a;
	char key[32], *cause = NULL, *id;
	int64_t sid;
	int is_new, n;

	memset(&s, 0, sizeof s);
	snprintf(key, sizeof key, "story-%d", ++fx->stories);
	s.key = key;
	s.title = key;
	s.published = -1;
	assert_int_equal(
	    store_story_add(fx->st, fx->feed, &s, &sid, &is_new, &cause), 0);
	assert_int_equal(
	    store_alert_add(fx->st, sid, "w", hook, time(NULL), &cause), 0);
	a = store_alerts_due(fx->st, 0, 0, 100, &n, &cause);
	assert_true(n > 0);
	id = xstrdup(a[n - 1].alert_id);
	store_alerts_free(a, n);
	return id;
}

static int
setup(void **state)
{
	struct fixture *fx = xcalloc(1, sizeof *fx);
	struct store_feed f;
	char *cause = NULL;

	testutil_tmpdir(fx->dir, sizeof fx->dir, "alert");
	snprintf(fx->db, sizeof fx->db, "%s/feedwatch.db", fx->dir);
	assert_non_null(fx->st = store_open(fx->db, &cause));
	assert_int_equal(
	    store_feed_get(fx->st, "f", "file:///dev/null", &f, &cause), 0);
	fx->feed = f.id;
	store_feed_clear(&f);
	assert_non_null(fx->base = event_base_new());
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	store_close(fx->st);
	event_base_free(fx->base);
	assert_int_equal(testutil_rmtree(fx->dir), 0);
	free(fx);
	return 0;
}

static void
idle_cb(void *arg)
{
	(void)arg;
}

static void
check_cb(evutil_socket_t fd, short what, void *arg)
{
	struct until *u = arg;
	char *cause = NULL;

	(void)fd;
	(void)what;
	if (store_alert_count(u->fx->st, STORE_ALERT_DELIVERED, &cause) >=
		u->delivered &&
	    store_alert_count(u->fx->st, STORE_ALERT_FAILED, &cause) >=
		u->failed)
		event_base_loopbreak(u->fx->base);
}

static void
watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	struct until *u = arg;

	(void)fd;
	(void)what;
	u->is_timed_out = 1;
	event_base_loopbreak(u->fx->base);
}

/* Run the loop until the outbox holds that many delivered and failed. */
static void
run_until(struct fixture *fx, int delivered, int failed)
{
	struct until u = { fx, delivered, failed, 0 };
	struct timeval tick = { 0, 20000 }, limit = { TEST_WATCHDOG, 0 };
	struct event *check, *watchdog;

	check = event_new(fx->base, -1, EV_PERSIST, check_cb, &u);
	watchdog = evtimer_new(fx->base, watchdog_cb, &u);
	assert_int_equal(event_add(check, &tick), 0);
	assert_int_equal(evtimer_add(watchdog, &limit), 0);
	assert_int_not_equal(event_base_dispatch(fx->base), -1);
	event_free(check);
	event_free(watchdog);
	if (u.is_timed_out)
		fail_msg("no %d delivered and %d failed alerts after %ds",
		    delivered, failed, TEST_WATCHDOG);
}

static void
started_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fixture *fx = arg;

	(void)fd;
	(void)what;
	if (exists(fx, "started"))
		event_base_loopbreak(fx->base);
}

/* A dispatcher on cfg, run until its hook wrote $DIR/started. */
static struct alert *
start_until_started(struct fixture *fx, const struct config *cfg)
{
	struct timeval tick = { 0, 20000 };
	struct event *started;
	struct alert *al;

	al = alert_new(fx->base, fx->st, cfg, 0, idle_cb, NULL);
	alert_kick(al);
	started = event_new(fx->base, -1, EV_PERSIST, started_cb, fx);
	assert_int_equal(event_add(started, &tick), 0);
	assert_int_not_equal(event_base_dispatch(fx->base), -1);
	event_free(started);
	return al;
}

/*
 * alert_set_config while a hook runs: the run ends as the old
 * configuration said (which is freed at once), the next alert of that
 * hook runs the new command, and an alert of a hook the new
 * configuration dropped is kept as failed.
 */
static void
test_alert_set_config(void **state)
{
	struct fixture *fx = *state;
	struct config *old, *new;
	struct alert *al;
	char *a1, *a2, *a3, *text, *want, *cause = NULL;

	assert_true(asprintf(&text,
			"#!/bin/sh\n"
			"touch '%s/started'\n"
			"sleep 1\n"
			"echo \"$FEEDWATCH_ALERT_ID $FEEDWATCH_HOOK\" "
			">>'%s/slow.ids'\n",
			fx->dir, fx->dir) > 0);
	write_file(fx, "slow.sh", text, 0755);
	free(text);
	assert_true(asprintf(&text,
			"#!/bin/sh\n"
			"echo \"$FEEDWATCH_ALERT_ID $FEEDWATCH_HOOK\" "
			">>'%s/fast.ids'\n",
			fx->dir) > 0);
	write_file(fx, "fast.sh", text, 0755);
	free(text);
	old = load(fx, "old.conf",
	    "[hook \"h\"]\ncommand = ./slow.sh\ntimeout = 20s\n"
	    "[hook \"gone\"]\ncommand = ./fast.sh\n");
	new = load(fx, "new.conf",
	    "[daemon]\nmax_hooks = 2\n"
	    "[hook \"h\"]\ncommand = ./fast.sh\n");

	a1 = queue(fx, "h");
	al = start_until_started(fx, old);

	/* h runs slow.sh for a1; swap, and free the old at once. */
	a2 = queue(fx, "h");
	alert_set_config(al, new);
	config_free(old);
	a3 = queue(fx, "gone");
	run_until(fx, 2, 1);

	assert_non_null(text = read_text(fx, "slow.ids"));
	assert_true(asprintf(&want, "%s h\n", a1) > 0);
	assert_string_equal(text, want);
	free(text);
	free(want);
	assert_non_null(text = read_text(fx, "fast.ids"));
	assert_true(asprintf(&want, "%s h\n", a2) > 0);
	assert_string_equal(text, want);
	free(text);
	free(want);
	assert_int_equal(
	    store_alert_count(fx->st, STORE_ALERT_FAILED, &cause), 1);
	alert_free(al);
	config_free(new);
	free(a1);
	free(a2);
	free(a3);
}

/*
 * A hook removed by a reload while it runs, and its run fails: the
 * alert, pending again, is kept as failed ("its hook is no longer
 * configured"), not left pending for a hook that will never run it.
 */
static void
test_alert_removed_hook_run_fails(void **state)
{
	struct fixture *fx = *state;
	struct config *old, *new;
	struct alert *al;
	char *a1, *text, *cause = NULL;
	struct store_alert *a;
	int n;

	assert_true(
	    asprintf(&text, "#!/bin/sh\ntouch '%s/started'\nsleep 1\nexit 1\n",
		fx->dir) > 0);
	write_file(fx, "fail.sh", text, 0755);
	free(text);
	old = load(fx, "old.conf",
	    "[hook \"gone\"]\ncommand = ./fail.sh\nretries = 5\n");
	new = load(fx, "new.conf", "[daemon]\nmax_hooks = 2\n");

	a1 = queue(fx, "gone");
	al = start_until_started(fx, old);
	alert_set_config(al, new);
	config_free(old);
	run_until(fx, 0, 1);

	assert_int_equal(
	    store_alert_count(fx->st, STORE_ALERT_PENDING, &cause), 0);
	a = store_hook_alerts_due(fx->st, "gone", 0, 0, 10, &n, &cause);
	assert_int_equal(n, 0);
	store_alerts_free(a, n);
	alert_free(al);
	config_free(new);
	free(a1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_alert_set_config, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_alert_removed_hook_run_fails, setup, teardown),
	};

	/* As feedwatchd does: a hook that closes its stdin early costs a
	 * write error, not the process. */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
