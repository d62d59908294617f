#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "log.h"

/* The log: the program's only global state. */

static const char *log_progname = "feedwatch";
static int log_level_verbose;
static int log_is_journal;

static void log_vlog(int, const char *, const char *, va_list)
    __attribute__((__format__(__printf__, 2, 0)));

void
log_init(const char *progname, int verbose)
{
	log_progname = progname;
	log_level_verbose = verbose;
	log_is_journal = getenv("JOURNAL_STREAM") != NULL;
}

int
log_verbose(void)
{
	return log_level_verbose;
}

/* Write one line, escaping control characters so a line stays a line. */
static void
log_vlog(int pri, const char *fmt, const char *suffix, va_list ap)
{
	char msg[4096], out[4096 * 4 + 64];
	size_t o = 0;
	unsigned char c;
	int n, saved = errno;

	n = vsnprintf(msg, sizeof msg, fmt, ap);
	if (n < 0)
		snprintf(msg, sizeof msg, "(unprintable log message)");
	for (size_t i = 0; msg[i] != '\0'; i++) {
		c = (unsigned char)msg[i];
		if (c < 0x20 || c == 0x7f)
			o += (size_t)sprintf(out + o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
	if (log_is_journal)
		fprintf(stderr, "<%d>%s%s%s\n", pri, out, suffix ? ": " : "",
		    suffix ? suffix : "");
	else
		fprintf(stderr, "%s: %s%s%s\n", log_progname, out,
		    suffix ? ": " : "", suffix ? suffix : "");
	fflush(stderr);
	errno = saved;
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;
	const char *err = strerror(errno);

	va_start(ap, fmt);
	log_vlog(LOG_WARNING, fmt, err, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vlog(LOG_WARNING, fmt, NULL, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vlog(LOG_INFO, fmt, NULL, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_level_verbose)
		return;
	va_start(ap, fmt);
	log_vlog(LOG_DEBUG, fmt, NULL, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;
	const char *err = strerror(errno);

	va_start(ap, fmt);
	log_vlog(LOG_CRIT, fmt, err, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vlog(LOG_CRIT, fmt, NULL, ap);
	va_end(ap);
	exit(1);
}
