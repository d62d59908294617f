#ifndef FEEDWATCH_SCHEDULER_H
#define FEEDWATCH_SCHEDULER_H

#include <stddef.h>
#include <time.h>

/*
 * When each feed is due: one evtimer per feed, intervals with jitter so
 * that feeds added together spread out, and exponential backoff after
 * failures.
 */

struct event_base;
struct scheduler_job;

typedef void (*scheduler_due_cb)(void *);

/* Return a job that calls cb(arg) when due; free with scheduler_job_free. */
struct scheduler_job *scheduler_job_new(
    struct event_base *, scheduler_due_cb cb, void *arg);
/* Free a job, cancelling it; accepts NULL. */
void scheduler_job_free(struct scheduler_job *);
/* Make the job not due (until scheduler_job_in). */
void scheduler_job_cancel(struct scheduler_job *);
/* Make the job due in delay seconds (0 = at the next loop turn). */
void scheduler_job_in(struct scheduler_job *, int delay);
/*
 * Return the seconds until the next poll of a feed with this interval
 * (seconds) after failures consecutive failures: the interval with up
 * to 10% jitter, doubled per failure up to max_interval. Cannot fail.
 */
int scheduler_delay(int interval, int failures, int max_interval);

/* What decides when a feed is polled next. */
struct scheduler_policy {
	int interval;	  /* seconds configured (feed's or daemon's) */
	int min_interval; /* seconds */
	int max_interval; /* seconds */
	int is_adaptive;
	int feed_min;	   /* seconds the feed asks between polls, 0 = none */
	int gap;	   /* median seconds between its entries, 0 = unknown */
	int prev_interval; /* adaptive interval in effect, 0 = none */
	int failures;	   /* consecutive, this poll's included */
	int retry_after;   /* seconds the server asked for, 0 = none */
};

/*
 * Return the seconds until the next poll, and set *interval to the
 * adaptive interval now in effect (0 when not adaptive). Adaptive
 * polling moves a quarter of the way toward the feed's gap between
 * entries each time, within min_interval..max_interval and never below
 * what the feed asks for; failures back off from there; a Retry-After
 * is always honoured. Cannot fail.
 */
int scheduler_next(const struct scheduler_policy *, int *interval);
/* Return the median gap (seconds) between n dates, 0 when fewer than 2
 * distinct ones; the array is sorted in place. */
int scheduler_gap(time_t *dates, size_t n);

#endif
