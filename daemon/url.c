#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "log.h"
#include "url.h"
#include "xmalloc.h"

/*
 * URLs through libcurl's URL API: resolving the links a feed gives against
 * the feed's own URL, and naming a URL's host.
 */

/* Any scheme with "//"; spaces and non-ASCII in path and query encoded. */
#define URL_SET_FLAGS (CURLU_NON_SUPPORT_SCHEME | CURLU_URLENCODE)

static CURLU *url_handle(void);
static char *url_clean(const char *);
static void url_lower(char *);
static int url_set_fragment(CURLU *, const char *);
static int url_lower_host(CURLU *);
static int url_set_ref(CURLU *, const char *, const char *);
static char *url_get(CURLU *);

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

char *
url_resolve(const char *base, const char *ref)
{
	CURLU *h;
	char *b, *r, *out = NULL;

	if (ref == NULL)
		return NULL;
	r = url_clean(ref);
	b = base != NULL ? url_clean(base) : NULL;
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
