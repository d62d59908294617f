#ifndef FEEDWATCH_ALERT_H
#define FEEDWATCH_ALERT_H

/*
 * Alert delivery: the dispatcher takes pending alerts from the outbox
 * and runs each one's hook command (posix_spawn, no shell) with the
 * alert as JSON on stdin and FEEDWATCH_* variables in its environment.
 * Exit 0 marks it delivered; anything else is retried with backoff.
 */

struct config;
struct event_base;
struct metrics;
struct store;
struct store_alert;
struct alert;

typedef void (*alert_idle_cb)(void *);

/*
 * Return a dispatcher on base (caller frees with alert_free). With
 * once set, each pending alert is tried once whatever its backoff, and
 * idle_cb runs when nothing is left to try.
 */
struct alert *alert_new(struct event_base *, struct store *,
    const struct config *, int once, alert_idle_cb idle_cb, void *arg);
/* Count hook runs and their time in metrics (NULL: none). */
void alert_set_metrics(struct alert *, struct metrics *);
/* Kill running hooks' process groups and free; accepts NULL. */
void alert_free(struct alert *);
/* Use cfg's hooks for runs started from now on (after a reload). */
void alert_set_config(struct alert *, const struct config *cfg);
/* Look at the outbox now (after new alerts were queued). */
void alert_kick(struct alert *);
/* Return 1 while a hook runs or alerts wait to be tried. */
int alert_busy(const struct alert *);
/* Return the alert's JSON (ARCHITECTURE.md's schema). Caller frees. */
char *alert_json(const struct store_alert *);

#endif
