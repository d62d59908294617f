#ifndef FEEDWATCH_LOG_H
#define FEEDWATCH_LOG_H

/*
 * Logging to stderr, one line per event. When stderr is the journal
 * (JOURNAL_STREAM set) each line carries a <N> syslog priority prefix.
 * Control characters in messages are escaped, so feed text cannot forge
 * log lines. Every function keeps errno.
 */

#define LOG_FMT(a, b) __attribute__((__format__(__printf__, a, b)))

/* Set the program name and verbosity (1 shows debug). Cannot fail. */
void log_init(const char *progname, int verbose);
int log_verbose(void);

void log_warn(const char *, ...) LOG_FMT(1, 2);
void log_warnx(const char *, ...) LOG_FMT(1, 2);
void log_info(const char *, ...) LOG_FMT(1, 2);
void log_debug(const char *, ...) LOG_FMT(1, 2);
void fatal(const char *, ...) LOG_FMT(1, 2) __attribute__((__noreturn__));
void fatalx(const char *, ...) LOG_FMT(1, 2) __attribute__((__noreturn__));

#endif
