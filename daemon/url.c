#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "log.h"
#include "url.h"
#include "xmalloc.h"

/*
 * URLs through libcurl's URL API: resolving the links a feed gives against
 * the feed's own URL, in its elements and inside its HTML, naming a URL's
 * host, and the canonical form that tells two links to one story apart.
 */

/* Any scheme with "//"; spaces and non-ASCII in path and query encoded. */
#define URL_SET_FLAGS (CURLU_NON_SUPPORT_SCHEME | CURLU_URLENCODE)

/* bytes of link url_canonical() reads at most: longer is no story's */
#define URL_CANON_MAX (64 * 1024)

/* A query parameter as a span of the query, and its place there. */
struct url_param {
	const char *s;
	size_t len;	/* bytes, without the '&' */
	size_t namelen; /* bytes before the '=', len when there is none */
	size_t index;	/* 0 for the first parameter */
};

/*
 * Query parameters that track the reader or ask for AMP, besides utm_*:
 * lower case, sorted byte for byte for bsearch. Names match with ASCII
 * case folded.
 */
static const char *const url_canon_drop[] = {
	"_ga",
	"amp",
	"at_campaign",
	"at_medium",
	"cmp",
	"cmpid",
	"dclid",
	"fbclid",
	"gclid",
	"igshid",
	"mc_cid",
	"mc_eid",
	"msclkid",
	"ncid",
	"ocid",
	"ref",
	"ref_src",
	"s_cid",
	"spm",
	"yclid",
};

static CURLU *url_handle(void);
static char *url_clean(const char *);
static void url_lower(char *);
static int url_set_fragment(CURLU *, const char *);
static int url_lower_host(CURLU *);
static int url_set_ref(CURLU *, const char *, const char *);
static char *url_get(CURLU *);
static int url_canon_scheme(CURLU *);
static int url_canon_host(CURLU *);
static int url_canon_hex(char);
static int url_canon_is_unreserved(int);
static void url_canon_pct(char *);
static int url_canon_path(CURLU *);
static int url_param_drop_cmp(const void *, const void *);
static int url_param_is_dropped(const struct url_param *, const char *const *);
static int url_param_cmp(const void *, const void *);
static struct url_param *url_params(
    const char *, const char *const *, size_t *);
static int url_canon_query(CURLU *, const char *const *);

/* An attribute that holds a URI, by element (lower case). */
struct url_html_uri {
	const char *tag;
	const char *attr;
};

/* feedparser's RelativeURIResolver.relative_uris, sorted for bsearch. */
static const struct url_html_uri url_html_uris[] = {
	{ "a", "href" },
	{ "applet", "codebase" },
	{ "area", "href" },
	{ "audio", "src" },
	{ "blockquote", "cite" },
	{ "body", "background" },
	{ "del", "cite" },
	{ "form", "action" },
	{ "frame", "longdesc" },
	{ "frame", "src" },
	{ "head", "profile" },
	{ "iframe", "longdesc" },
	{ "iframe", "src" },
	{ "img", "longdesc" },
	{ "img", "src" },
	{ "img", "usemap" },
	{ "input", "src" },
	{ "input", "usemap" },
	{ "ins", "cite" },
	{ "link", "href" },
	{ "object", "classid" },
	{ "object", "codebase" },
	{ "object", "data" },
	{ "object", "usemap" },
	{ "q", "cite" },
	{ "script", "src" },
	{ "source", "src" },
	{ "video", "poster" },
	{ "video", "src" },
};

/* A bsearch key for url_html_uris: tag, and attribute unless NULL. */
struct url_html_key {
	const char *tag;
	size_t taglen;
	const char *attr; /* NULL: any attribute of tag */
	size_t attrlen;
};

static int url_html_is_alpha(char);
static int url_html_span_cmp(const char *, size_t, const char *);
static int url_html_key_cmp(const void *, const void *);
static int url_html_is_uri(const char *, size_t, const char *, size_t);
static int url_html_is_empty(const char *);
static int url_html_has_scheme(const char *);

static CURLU *
url_handle(void)
{
	CURLU *h;

	if ((h = curl_url()) == NULL)
		fatalx("curl_url: out of memory");
	return h;
}

/*
 * A copy of s without leading and trailing controls and spaces, and
 * without tabs and newlines inside: what the WHATWG URL parser drops,
 * and what feeds put around (and into) wrapped links.
 */
static char *
url_clean(const char *s)
{
	size_t len, i, n = 0;
	char *out;

	while (*s != '\0' && (unsigned char)*s <= ' ')
		s++;
	len = strlen(s);
	while (len > 0 && (unsigned char)s[len - 1] <= ' ')
		len--;
	out = xmalloc(len + 1);
	for (i = 0; i < len; i++) {
		if (s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
			out[n++] = s[i];
	}
	out[n] = '\0';
	return out;
}

/* ASCII only: host names are compared byte for byte, never by locale. */
static void
url_lower(char *s)
{
	for (; *s != '\0'; s++) {
		if (*s >= 'A' && *s <= 'Z')
			*s = *s - 'A' + 'a';
	}
}

/*
 * Replace the fragment with frag ("#..." without its '#'). curl resolves
 * "#s" against the base's directory, not the base itself (RFC 3986 5.4),
 * and CURLU_URLENCODE would encode the '%' of "%20" again: encode only
 * spaces, controls and non-ASCII bytes here.
 */
static int
url_set_fragment(CURLU *h, const char *frag)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char c;
	char *enc, *p;
	CURLUcode rc;

	p = enc = xmalloc(strlen(frag) * 3 + 1);
	for (; *frag != '\0'; frag++) {
		c = (unsigned char)*frag;
		if (c > ' ' && c < 0x7f) {
			*p++ = (char)c;
			continue;
		}
		*p++ = '%';
		*p++ = hex[c >> 4];
		*p++ = hex[c & 0xf];
	}
	*p = '\0';
	rc = curl_url_set(h, CURLUPART_FRAGMENT, *enc != '\0' ? enc : NULL, 0);
	free(enc);
	return rc == CURLUE_OK ? 0 : -1;
}

/* Lower-case the host in place; IPv6 literals are left, zone id and all. */
static int
url_lower_host(CURLU *h)
{
	char *host;
	CURLUcode rc;

	rc = curl_url_get(h, CURLUPART_HOST, &host, 0);
	if (rc == CURLUE_NO_HOST)
		return 0; /* file:///path */
	if (rc != CURLUE_OK)
		return -1;
	rc = CURLUE_OK;
	if (host[0] != '[' &&
	    strpbrk(host, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != NULL) {
		url_lower(host);
		rc = curl_url_set(h, CURLUPART_HOST, host, 0);
	}
	curl_free(host);
	return rc == CURLUE_OK ? 0 : -1;
}

/* Point h at ref (clean, not empty) resolved against base, if any. */
static int
url_set_ref(CURLU *h, const char *base, const char *ref)
{
	int is_based = 0;

	if (base != NULL && *base != '\0' &&
	    curl_url_set(h, CURLUPART_URL, base, URL_SET_FLAGS) == CURLUE_OK)
		is_based = 1;
	if (ref[0] == '#') {
		if (!is_based || url_set_fragment(h, ref + 1) == -1)
			return -1;
	} else if (curl_url_set(h, CURLUPART_URL, ref, URL_SET_FLAGS) !=
	    CURLUE_OK)
		return -1; /* relative without a base, or not a URL */
	return url_lower_host(h);
}

/*
 * The URL h holds, if curl would read it back: from "file:5//a/" it
 * prints "file://5//a/", which it then refuses.
 */
static char *
url_get(CURLU *h)
{
	CURLU *check;
	char *s, *out = NULL;

	if (curl_url_get(h, CURLUPART_URL, &s, CURLU_NO_DEFAULT_PORT) !=
	    CURLUE_OK)
		return NULL;
	check = url_handle();
	if (curl_url_set(check, CURLUPART_URL, s, URL_SET_FLAGS) == CURLUE_OK)
		out = xstrdup(s);
	curl_url_cleanup(check);
	curl_free(s);
	return out;
}

/* A lower-case host name's letter, digit, dot or dash. */
static int
url_is_host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
	    c == '-';
}

/* Printable ASCII that may stand in a URL as it is written. */
static int
url_is_plain_char(char c)
{
	return c > ' ' && c < 0x7f && strchr("\"<>\\^`{|}", c) == NULL;
}

/*
 * Is s a plain absolute http(s) URL: the scheme, "://", a host of
 * letters, digits, dots and dashes, an optional port up to 65535, then
 * only printable ASCII that may stand in a URL? Such a link is kept as
 * the feed wrote it, without asking libcurl; anything else goes through
 * libcurl, which knows the rest of RFC 3986.
 */
static int
url_is_absolute(const char *s)
{
	const char *p, *host;
	long port = 0;

	if (strncasecmp(s, "http://", 7) == 0)
		p = s + 7;
	else if (strncasecmp(s, "https://", 8) == 0)
		p = s + 8;
	else
		return 0;
	for (host = p; url_is_host_char(*p) || (*p >= 'A' && *p <= 'Z'); p++)
		;
	if (p == host)
		return 0;
	if (*p == ':') {
		while (*++p >= '0' && *p <= '9' && port <= 65535)
			port = port * 10 + (*p - '0');
		if (port == 0 || port > 65535)
			return 0;
	}
	if (*p != '\0' && *p != '/' && *p != '?' && *p != '#')
		return 0;
	for (; *p != '\0'; p++) {
		if (!url_is_plain_char(*p))
			return 0;
	}
	return 1;
}

/*
 * An absolute-path reference ("/world/1?p=2") against a plain base
 * (url_is_absolute(), with a lower-case scheme and host and no port):
 * the base's scheme and host, then ref as written. This is what libcurl
 * answers for such a pair, and the commonest link inside feed HTML, so
 * it is not worth a URL handle. Anything else (a dot segment, a byte
 * curl would encode, an empty query or fragment) returns NULL.
 */
static char *
url_resolve_path(const char *base, const char *ref)
{
	const char *host, *p;
	char *out;
	size_t n;

	if (base == NULL || ref[0] != '/' || ref[1] == '/' ||
	    !url_is_absolute(base))
		return NULL;
	if (strncmp(base, "http://", 7) == 0)
		host = base + 7;
	else if (strncmp(base, "https://", 8) == 0)
		host = base + 8;
	else
		return NULL;
	for (p = host; url_is_host_char(*p); p++)
		;
	if (p == host || (*p != '\0' && *p != '/' && *p != '?' && *p != '#'))
		return NULL;
	for (const char *q = ref; *q != '\0'; q++) {
		if (!url_is_plain_char(*q))
			return NULL;
		if (q[0] == '/' && q[1] == '.')
			return NULL;
		if ((q[0] == '?' || q[0] == '#') &&
		    (q[1] == '\0' || q[1] == '#'))
			return NULL;
	}
	n = (size_t)(p - base);
	out = xmalloc(n + strlen(ref) + 1);
	memcpy(out, base, n);
	strcpy(out + n, ref);
	return out;
}

char *
url_resolve(const char *base, const char *ref)
{
	CURLU *h;
	char *b, *r, *out = NULL;

	if (ref == NULL)
		return NULL;
	r = url_clean(ref);
	/* Most links in feeds are absolute already: no need to ask curl. */
	if (url_is_absolute(r))
		return r;
	b = base != NULL ? url_clean(base) : NULL;
	if ((out = url_resolve_path(b, r)) != NULL) {
		free(b);
		free(r);
		return out;
	}
	h = url_handle();
	if (*r != '\0' && url_set_ref(h, b, r) == 0)
		out = url_get(h);
	curl_url_cleanup(h);
	free(b);
	free(r);
	return out;
}

char *
url_host(const char *url)
{
	CURLU *h;
	char *u, *host, *out = NULL;

	if (url == NULL)
		return NULL;
	u = url_clean(url);
	h = url_handle();
	if (curl_url_set(h, CURLUPART_URL, u, URL_SET_FLAGS) == CURLUE_OK &&
	    curl_url_get(h, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		out = xstrdup(host);
		url_lower(out);
		curl_free(host);
	}
	curl_url_cleanup(h);
	free(u);
	return out;
}

static int
url_html_is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Compare the n bytes at s, ASCII case folded, with lower: strcmp's sign. */
static int
url_html_span_cmp(const char *s, size_t n, const char *lower)
{
	unsigned char c;
	size_t i;

	for (i = 0; i < n; i++) {
		if (lower[i] == '\0')
			return 1;
		c = (unsigned char)s[i];
		if (c >= 'A' && c <= 'Z')
			c = c - 'A' + 'a';
		if (c != (unsigned char)lower[i])
			return c < (unsigned char)lower[i] ? -1 : 1;
	}
	return lower[n] == '\0' ? 0 : -1;
}

static int
url_html_key_cmp(const void *key, const void *elem)
{
	const struct url_html_key *k = key;
	const struct url_html_uri *u = elem;
	int cmp;

	cmp = url_html_span_cmp(k->tag, k->taglen, u->tag);
	if (cmp != 0 || k->attr == NULL)
		return cmp;
	return url_html_span_cmp(k->attr, k->attrlen, u->attr);
}

/* Does attribute attr of tag hold a URI? With attr NULL: may any? */
static int
url_html_is_uri(
    const char *tag, size_t taglen, const char *attr, size_t attrlen)
{
	struct url_html_key k = { tag, taglen, attr, attrlen };

	return bsearch(&k, url_html_uris,
		   sizeof url_html_uris / sizeof url_html_uris[0],
		   sizeof url_html_uris[0], url_html_key_cmp) != NULL;
}

/* Is s blank, as url_clean() sees it? */
static int
url_html_is_empty(const char *s)
{
	while (*s != '\0' && (unsigned char)*s <= ' ')
		s++;
	return *s == '\0';
}

/*
 * Does s start with a scheme (RFC 3986: a letter, then letters, digits,
 * '+', '-' or '.', then ':')? Such URIs are left as written: http ones
 * are absolute already, and javascript:, mailto: or data: are for the
 * sanitizer, not for us.
 */
static int
url_html_has_scheme(const char *s)
{
	while (*s != '\0' && (unsigned char)*s <= ' ')
		s++;
	if (!url_html_is_alpha(*s))
		return 0;
	for (s++; url_html_is_alpha(*s) || (*s >= '0' && *s <= '9') ||
	     *s == '+' || *s == '-' || *s == '.';
	     s++)
		;
	return *s == ':';
}

char *
url_resolve_html_attr(
    const char *tag, const char *attr, const char *value, const char *base)
{
	char *abs;

	if (base == NULL ||
	    !url_html_is_uri(tag, strlen(tag), attr, strlen(attr)))
		return NULL;
	/* RFC 3986 5.2.2: "" is the base itself, without its fragment. */
	if (url_html_is_empty(value))
		abs = url_resolve(base, "#");
	else if (!url_html_has_scheme(value))
		abs = url_resolve(base, value);
	else
		return NULL;
	if (abs != NULL && strcmp(abs, value) == 0) {
		free(abs);
		return NULL;
	}
	return abs;
}

/*
 * Keep http and https, both as https: one story is served by both. A
 * port goes when it is 443, https's, or 80 on a link written as http.
 */
static int
url_canon_scheme(CURLU *h)
{
	char *scheme, *port;
	int is_http, is_https;
	CURLUcode rc;

	if (curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK)
		return -1;
	is_http = strcmp(scheme, "http") == 0;
	is_https = strcmp(scheme, "https") == 0;
	curl_free(scheme);
	if (!is_http && !is_https)
		return -1;
	rc = curl_url_get(h, CURLUPART_PORT, &port, 0);
	if (rc == CURLUE_NO_PORT)
		rc = CURLUE_OK;
	else if (rc == CURLUE_OK) {
		if (strcmp(port, "443") == 0 ||
		    (is_http && strcmp(port, "80") == 0))
			rc = curl_url_set(h, CURLUPART_PORT, NULL, 0);
		curl_free(port);
	}
	if (rc != CURLUE_OK)
		return -1;
	rc = curl_url_set(h, CURLUPART_SCHEME, "https", 0);
	return rc == CURLUE_OK ? 0 : -1;
}

/*
 * Lower-case the host and drop the "www." and "amp." in front of it, as
 * long as a name with a dot inside is left ("amp.dev" stays): the same
 * site under another name. IPv6 literals are left, as in url_lower_host.
 */
static int
url_canon_host(CURLU *h)
{
	char *host;
	const char *p, *dot;
	CURLUcode rc;

	if (curl_url_get(h, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		return -1;
	if (host[0] == '[') {
		curl_free(host);
		return 0;
	}
	url_lower(host);
	p = host;
	while (strncmp(p, "www.", 4) == 0 || strncmp(p, "amp.", 4) == 0) {
		if ((dot = strchr(p + 4, '.')) == NULL || dot[1] == '\0')
			break;
		p += 4;
	}
	rc = curl_url_set(h, CURLUPART_HOST, p, 0);
	curl_free(host);
	return rc == CURLUE_OK ? 0 : -1;
}

static int
url_canon_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * RFC 3986's unreserved characters, but for '.': "%2E%2E" decoded would
 * make a dot segment after curl has removed them.
 */
static int
url_canon_is_unreserved(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '~';
}

/*
 * Normalise percent-encoding in place (RFC 3986 6.2.2.2): unreserved
 * characters decoded, the rest in upper-case hex. curl offers no flag
 * for either, and 7.88 writes lower-case hex whenever a part is set.
 */
static void
url_canon_pct(char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = s;
	int hi, lo;

	while (*s != '\0') {
		if (s[0] != '%' || (hi = url_canon_hex(s[1])) == -1 ||
		    (lo = url_canon_hex(s[2])) == -1) {
			*out++ = *s++;
			continue;
		}
		if (url_canon_is_unreserved(hi << 4 | lo))
			*out++ = (char)(hi << 4 | lo);
		else {
			*out++ = '%';
			*out++ = hex[hi];
			*out++ = hex[lo];
		}
		s += 3;
	}
	*out = '\0';
}

/*
 * Drop the path's "amp" segments (AMP pages: /amp/x, /x/amp, /x/amp/)
 * and its trailing slashes, but for the root's. Case is kept: paths are
 * case-sensitive.
 */
static int
url_canon_path(CURLU *h)
{
	char *path, *p, *seg, *out;
	size_t len;
	CURLUcode rc;

	if (curl_url_get(h, CURLUPART_PATH, &path, 0) != CURLUE_OK)
		return -1;
	url_canon_pct(path);
	for (p = out = path; *p == '/'; p = seg + len) {
		seg = p + 1;
		len = strcspn(seg, "/");
		if (len == 3 && strncmp(seg, "amp", 3) == 0)
			continue;
		memmove(out, p, len + 1);
		out += len + 1;
	}
	memmove(out, p, strlen(p) + 1);
	len = strlen(path);
	while (len > 1 && path[len - 1] == '/')
		path[--len] = '\0';
	rc = curl_url_set(h, CURLUPART_PATH, len > 0 ? path : "/", 0);
	curl_free(path);
	return rc == CURLUE_OK ? 0 : -1;
}

static int
url_param_drop_cmp(const void *key, const void *elem)
{
	const struct url_param *p = key;

	return url_html_span_cmp(p->s, p->namelen, *(const char *const *)elem);
}

/* Does p track the reader, ask for AMP, or stand in extra? */
static int
url_param_is_dropped(const struct url_param *p, const char *const *extra)
{
	if (p->namelen >= 4 && strncasecmp(p->s, "utm_", 4) == 0)
		return 1;
	if (bsearch(p, url_canon_drop,
		sizeof url_canon_drop / sizeof url_canon_drop[0],
		sizeof url_canon_drop[0], url_param_drop_cmp) != NULL)
		return 1;
	if (url_html_span_cmp(p->s, p->len, "outputtype=amp") == 0)
		return 1;
	for (; extra != NULL && *extra != NULL; extra++) {
		if (strlen(*extra) == p->namelen &&
		    strncasecmp(p->s, *extra, p->namelen) == 0)
			return 1;
	}
	return 0;
}

/* By name, byte for byte, then by place: qsort made stable. */
static int
url_param_cmp(const void *a, const void *b)
{
	const struct url_param *x = a, *y = b;
	size_t n = x->namelen < y->namelen ? x->namelen : y->namelen;
	int cmp;

	if ((cmp = memcmp(x->s, y->s, n)) != 0)
		return cmp;
	if (x->namelen != y->namelen)
		return x->namelen < y->namelen ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/*
 * Split query at '&' into the parameters to keep, as spans of it, and
 * count them in *n. Empty ones go; "a" and "a=" stay as written.
 */
static struct url_param *
url_params(const char *query, const char *const *extra, size_t *n)
{
	struct url_param *params, p;
	const char *s;
	size_t count = 1, i = 0;

	for (s = query; (s = strchr(s, '&')) != NULL; s++)
		count++;
	params = xcalloc(count, sizeof *params);
	*n = 0;
	for (s = query;; s += p.len + 1) {
		p.s = s;
		p.len = strcspn(s, "&");
		p.namelen = strcspn(s, "=&");
		p.index = i++;
		if (p.len > 0 && !url_param_is_dropped(&p, extra))
			params[(*n)++] = p;
		if (s[p.len] == '\0')
			break;
	}
	return params;
}

/* Drop the parameters that make no other story, and sort the rest. */
static int
url_canon_query(CURLU *h, const char *const *extra)
{
	struct url_param *params;
	char *query, *out;
	size_t n, i, len = 0;
	CURLUcode rc;

	rc = curl_url_get(h, CURLUPART_QUERY, &query, 0);
	if (rc == CURLUE_NO_QUERY)
		return 0;
	if (rc != CURLUE_OK)
		return -1;
	url_canon_pct(query);
	params = url_params(query, extra, &n);
	qsort(params, n, sizeof *params, url_param_cmp);
	out = xmalloc(strlen(query) + 1);
	for (i = 0; i < n; i++) {
		if (i > 0)
			out[len++] = '&';
		memcpy(out + len, params[i].s, params[i].len);
		len += params[i].len;
	}
	out[len] = '\0';
	rc = curl_url_set(h, CURLUPART_QUERY, len > 0 ? out : NULL, 0);
	free(out);
	free(params);
	curl_free(query);
	return rc == CURLUE_OK ? 0 : -1;
}

char *
url_canonical(const char *url, const char *const *extra)
{
	CURLU *h;
	char *u, *s, *out = NULL;

	if (url == NULL)
		return NULL;
	u = url_clean(url);
	h = url_handle();
	if (strlen(u) <= URL_CANON_MAX &&
	    curl_url_set(h, CURLUPART_URL, u, URL_SET_FLAGS) == CURLUE_OK &&
	    url_canon_scheme(h) == 0 && url_canon_host(h) == 0 &&
	    url_canon_path(h) == 0 && url_canon_query(h, extra) == 0 &&
	    curl_url_set(h, CURLUPART_FRAGMENT, NULL, 0) == CURLUE_OK &&
	    curl_url_get(h, CURLUPART_URL, &s, 0) == CURLUE_OK) {
		out = xstrdup(s);
		curl_free(s);
		url_canon_pct(out); /* the hex curl lower-cased, as before */
	}
	curl_url_cleanup(h);
	free(u);
	return out;
}

char *
url_from_path(const char *path)
{
	static const char hex[] = "0123456789ABCDEF";
	char *url, *p;

	url = xmalloc(strlen("file://") + 3 * strlen(path) + 1);
	p = url + strlen(strcpy(url, "file://"));
	for (const unsigned char *c = (const unsigned char *)path; *c != '\0';
	     c++) {
		if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		    (*c >= '0' && *c <= '9') ||
		    strchr("/-._~!$&'()*+,;=:@", *c) != NULL)
			*p++ = (char)*c;
		else {
			*p++ = '%';
			*p++ = hex[*c >> 4];
			*p++ = hex[*c & 0xf];
		}
	}
	*p = '\0';
	return url;
}
