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
