#ifndef FEEDWATCH_ALERT_H
#define FEEDWATCH_ALERT_H

/*
 * Alert delivery: the dispatcher takes pending alerts from the outbox
 * and runs each one's hook command (posix_spawn, no shell) with the
 * alert as JSON on stdin and FEEDWATCH_* variables in its environment;
 * a digest hook gets all its pending alerts at once, once per period.
 * Exit 0 marks them delivered; anything else is retried with backoff.
 */

struct config;
struct event_base;
struct metrics;
struct store;
struct store_alert;
struct alert;

typedef void (*alert_idle_cb)(void *);

/*
 * Return a dispatcher on base (caller frees with alert_free). The
 * process must ignore SIGPIPE: a hook may close its stdin early. With
 * once set, each pending alert is tried once whatever its backoff, and
 * idle_cb runs when nothing is left to try; digests wait for the first
 * alert_busy call.
 */
struct alert *alert_new(struct event_base *, struct store *,
    const struct config *, int once, alert_idle_cb idle_cb, void *arg);
/* Count hook runs and their time in metrics (NULL: none). */
void alert_set_metrics(struct alert *, struct metrics *);
/* Kill running hooks' process groups and free; accepts NULL. */
void alert_free(struct alert *);
/*
 * Use cfg for hooks from now on (a configuration reloaded). Runs going
 * on keep what they copied of the old one, which the caller may free
 * once this returns; pending alerts of hooks cfg no longer has are kept
 * as failed. Cannot fail.
 */
void alert_set_config(struct alert *, const struct config *);
/*
 * Start no more hooks (shutting down): the running ones go on until
 * they end or their timeout kills them; what is pending stays so.
 */
void alert_stop(struct alert *);
/* Return how many hooks run. */
int alert_running(const struct alert *);
/* Look at the outbox now (after new alerts were queued). */
void alert_kick(struct alert *);
/*
 * Return 1 while a hook runs or alerts wait to be tried. With once,
 * the caller asks only when it will queue no more alerts: digest hooks
 * then send what is pending (each digest tried once), and this returns
 * 1 until they are done.
 */
int alert_busy(struct alert *);
/* Return the alert's JSON (ARCHITECTURE.md's schema). Caller frees. */
char *alert_json(const struct store_alert *);

#endif
