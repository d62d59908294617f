#ifndef FEEDWATCH_XMALLOC_H
#define FEEDWATCH_XMALLOC_H

#include <stddef.h>

/*
 * Allocation that never returns NULL: running out of memory ends the
 * program with a log line. Sizes that come from the network must be
 * checked against a limit before they get here.
 */

void *xmalloc(size_t);
void *xcalloc(size_t, size_t);
void *xreallocarray(void *, size_t, size_t);
char *xstrdup(const char *);
char *xstrndup(const char *, size_t);
int xasprintf(char **, const char *, ...)
    __attribute__((__format__(__printf__, 2, 3)));

#endif
