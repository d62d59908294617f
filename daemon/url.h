#ifndef FEEDWATCH_URL_H
#define FEEDWATCH_URL_H

/* URLs through libcurl's URL API (CURLU). */

/*
 * Resolve ref against base (either may be NULL). Return a new absolute
 * URL the caller frees, or NULL when no absolute URL results.
 */
char *url_resolve(const char *base, const char *ref);
/* Return the lower-cased host of an absolute URL (caller frees), or NULL. */
char *url_host(const char *url);

#endif
