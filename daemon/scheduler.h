#ifndef FEEDWATCH_SCHEDULER_H
#define FEEDWATCH_SCHEDULER_H

#include <time.h>

/*
 * When each feed is due: one evtimer per feed, intervals with jitter so
 * that feeds added together spread out, and exponential backoff after
 * failures.
 */

#define SCHEDULER_MAX_BACKOFF (6 * 3600) /* seconds between failing polls */

struct event_base;
struct scheduler_job;

typedef void (*scheduler_due_cb)(void *);

/* Return a job that calls cb(arg) when due; free with scheduler_job_free. */
struct scheduler_job *scheduler_job_new(
    struct event_base *, scheduler_due_cb cb, void *arg);
/* Free a job, cancelling it; accepts NULL. */
void scheduler_job_free(struct scheduler_job *);
/* Make the job due in delay seconds (0 = at the next loop turn). */
void scheduler_job_in(struct scheduler_job *, int delay);
/*
 * Return the seconds until the next poll of a feed with this interval
 * (seconds) after failures consecutive failures: the interval with up
 * to 10% jitter, doubled per failure up to max_interval. Cannot fail.
 */
int scheduler_delay(int interval, int failures, int max_interval);

#endif
