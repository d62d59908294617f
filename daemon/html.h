#ifndef FEEDWATCH_HTML_H
#define FEEDWATCH_HTML_H

/*
 * HTML from feeds made safe to pass on (to mail, chat, a web page):
 * parsed with libxml2's HTML parser and written out again with only
 * what feedparser's allow-lists let through, links made absolute.
 */

#define HTML_MAX_DEPTH 64 /* elements nested; deeper ones lose their tags */

/*
 * Return a sanitized copy of an HTML fragment (caller frees), or NULL
 * when nothing is left of it. Elements and attributes outside the
 * allow-lists go (script, style and applet with their content, on*
 * attributes, comments), as do URIs whose scheme is not a safe one
 * (javascript:, data:, ...) and CSS outside a short list; the other
 * URIs are resolved against base (may be NULL). The markup comes out
 * balanced and in one spelling: lower-case names, attributes sorted and
 * double-quoted, "<br />"; character references in text are kept as
 * written. Cannot fail otherwise.
 */
char *html_sanitize(const char *html, const char *base);
/*
 * Return a copy of html whose numeric references to the C1 range
 * ("&#146;", "&#x92;") are the characters WINDOWS-1252 means by them,
 * as browsers read them (libxml2 reads controls), or NULL when it has
 * none. Caller frees. Cannot fail.
 */
char *html_c1_refs(const char *html);

struct _xmlSAXHandler;
/*
 * Read len bytes of UTF-8 HTML (len <= INT_MAX) with libxml2's HTML
 * parser, building no tree: it calls the callbacks of sax instead, with
 * the parser as their context, whose _private is arg. options are
 * HTML_PARSE_* beside the ones always set (recover, no error or
 * warning output, no network). Return 0, or -1 when the parser could
 * not be made (memory).
 */
int html_read_sax(const char *buf, size_t len, const struct _xmlSAXHandler *sax,
    void *arg, int options);

#endif
