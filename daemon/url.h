#ifndef FEEDWATCH_URL_H
#define FEEDWATCH_URL_H

/* URLs through libcurl's URL API (CURLU). */

/*
 * Resolve ref against base (either may be NULL). Return a new absolute
 * URL the caller frees, or NULL when no absolute URL results. A ref
 * that is absolute already comes back as written, only trimmed.
 */
char *url_resolve(const char *base, const char *ref);
/* Return the lower-cased host of an absolute URL (caller frees), or NULL. */
char *url_host(const char *url);
/*
 * Resolve the value of attribute attr of HTML element tag (its
 * references decoded) against base, when it is one that holds a link (a
 * href, img src, ...: feedparser's list): "" is base itself without its
 * fragment, and a URI with a scheme stays as written. Return a new
 * string the caller frees, or NULL when the value stays as it is (or
 * base is NULL). Cannot fail otherwise.
 */
char *url_resolve_html_attr(
    const char *tag, const char *attr, const char *value, const char *base);
/*
 * Return the canonical form of an absolute http(s) URL, for telling that
 * two links are the same story (caller frees), or NULL when url is not
 * one, or is longer than 64 KiB. extra is a NULL-terminated list of more
 * query parameters to drop (may be NULL).
 */
char *url_canonical(const char *url, const char *const *extra);
/*
 * The file:// URL of an absolute path, its bytes that a URL cannot
 * hold as they are (a space, '#', '?', '%', non-ASCII) percent-encoded
 * (caller frees). Cannot fail.
 */
char *url_from_path(const char *path);

#endif
