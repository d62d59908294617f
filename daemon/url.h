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
 * Make the relative URIs in an HTML fragment absolute against base: the
 * attributes that hold URIs (a href, img src, ...) are rewritten in
 * place, everything else is kept byte for byte. Return a new string,
 * or NULL when nothing changed (or base is NULL). Cannot fail otherwise.
 */
char *url_resolve_html(const char *html, const char *base);
/*
 * Return the canonical form of an absolute http(s) URL, for telling that
 * two links are the same story (caller frees), or NULL when url is not
 * one, or is longer than 64 KiB. extra is a NULL-terminated list of more
 * query parameters to drop (may be NULL).
 */
char *url_canonical(const char *url, const char *const *extra);

#endif
