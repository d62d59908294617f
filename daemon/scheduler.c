#include <stdint.h>
#include <stdlib.h>

#include <event2/event.h>

#include "log.h"
#include "scheduler.h"
#include "xmalloc.h"

/* Scheduling: a timer per feed, and the arithmetic of intervals. */

struct scheduler_job {
	struct event *ev;
	scheduler_due_cb cb;
	void *arg;
};

static void
scheduler_fire_cb(evutil_socket_t fd, short what, void *arg)
{
	struct scheduler_job *j = arg;

	(void)fd;
	(void)what;
	j->cb(j->arg);
}

struct scheduler_job *
scheduler_job_new(struct event_base *base, scheduler_due_cb cb, void *arg)
{
	struct scheduler_job *j;

	j = xcalloc(1, sizeof *j);
	j->cb = cb;
	j->arg = arg;
	if ((j->ev = evtimer_new(base, scheduler_fire_cb, j)) == NULL)
		fatalx("evtimer_new failed");
	return j;
}

void
scheduler_job_free(struct scheduler_job *j)
{
	if (j == NULL)
		return;
	event_free(j->ev);
	free(j);
}

void
scheduler_job_cancel(struct scheduler_job *j)
{
	evtimer_del(j->ev);
}

void
scheduler_job_in(struct scheduler_job *j, int delay)
{
	struct timeval tv = { delay < 0 ? 0 : delay, 0 };

	evtimer_add(j->ev, &tv);
}

int
scheduler_delay(int interval, int failures, int max_interval)
{
	int64_t d = interval;
	uint32_t jitter;

	if (max_interval < interval)
		max_interval = interval;
	for (int i = 0; i < failures && d < max_interval; i++)
		d *= 2;
	if (d > max_interval)
		d = max_interval;
	/* Jitter of up to 10%, always earlier, never past max_interval. */
	jitter = (uint32_t)(d / 10);
	if (jitter > 0)
		d -= arc4random_uniform(jitter + 1);
	return d < 1 ? 1 : (int)d;
}

int
scheduler_next(const struct scheduler_policy *p, int *interval)
{
	int64_t base = p->interval, target;
	int delay;

	*interval = 0;
	if (p->is_adaptive) {
		base = p->prev_interval > 0 ? p->prev_interval : p->interval;
		if (p->gap > 0) {
			target = p->gap;
			base += (target - base) / 4;
		}
		if (base < p->feed_min)
			base = p->feed_min;
	}
	if (base < p->min_interval)
		base = p->min_interval;
	if (base > p->max_interval)
		base = p->max_interval;
	if (p->is_adaptive)
		*interval = (int)base;
	delay = scheduler_delay((int)base, p->failures, p->max_interval);
	if (p->retry_after > delay)
		delay = p->retry_after;
	return delay;
}

static int
scheduler_cmp_time(const void *a, const void *b)
{
	time_t x = *(const time_t *)a, y = *(const time_t *)b;

	return x < y ? -1 : x > y;
}

int
scheduler_gap(time_t *dates, size_t n)
{
	time_t *gaps;
	size_t ngaps = 0;
	int gap;

	if (n < 2)
		return 0;
	qsort(dates, n, sizeof *dates, scheduler_cmp_time);
	gaps = xreallocarray(NULL, n, sizeof *gaps);
	for (size_t i = 1; i < n; i++) {
		if (dates[i] != dates[i - 1])
			gaps[ngaps++] = dates[i] - dates[i - 1];
	}
	if (ngaps == 0) {
		free(gaps);
		return 0;
	}
	qsort(gaps, ngaps, sizeof *gaps, scheduler_cmp_time);
	gap = gaps[ngaps / 2] > INT32_MAX ? INT32_MAX : (int)gaps[ngaps / 2];
	free(gaps);
	return gap;
}
