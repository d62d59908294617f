#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/HTMLparser.h>

#include "repair.h"
#include "xmalloc.h"

/*
 * The repair pass: a small state machine over the document's bytes.
 *
 *	TEXT --'<'--> TAG | COMMENT | CDATA | PI | DOCTYPE --> TEXT
 *
 * Entity references are looked at in TEXT and in quoted attribute
 * values; comments, CDATA and processing instructions pass unchanged;
 * the DOCTYPE is held back, read for <!ENTITY name "value"> and dropped.
 * A construct cut at the end of a piece waits in carry for the next.
 */

#define REPAIR_AMP "&#38;" /* a bare "&": see repair_named */
#define REPAIR_NEED_MORE SIZE_MAX
#define REPAIR_LOOKAHEAD 48 /* bytes of "&name;" looked at */
#define REPAIR_MAX_ENTITIES 64
#define REPAIR_MAX_VALUE 4096		   /* bytes of one entity's value */
#define REPAIR_MAX_DOCTYPE (64 * 1024)	   /* bytes of DOCTYPE read */
#define REPAIR_MAX_EXPANSION (1024 * 1024) /* bytes entities may add */

enum repair_state {
	REPAIR_TEXT,
	REPAIR_TAG,
	REPAIR_COMMENT,
	REPAIR_CDATA,
	REPAIR_PI,
	REPAIR_DOCTYPE,
};

struct repair_entity {
	char *name;
	char *value;
	size_t len;
};

struct repair_out {
	char **s;
	size_t *len;
	size_t *cap;
};

struct repair {
	enum repair_state state;
	char quote;   /* inside TAG or DOCTYPE: the open quote */
	int after_eq; /* inside TAG: '=' was the last non-space */
	int is_void;  /* inside TAG: an HTML void element's start tag */
	int slash;    /* inside TAG: '/' was the last non-space */
	int bracket;  /* DOCTYPE internal subset depth */
	int seen_root;
	char *carry;
	size_t ncarry;
	char *doctype;
	size_t doctypelen;
	struct repair_entity ents[REPAIR_MAX_ENTITIES];
	int nents;
	size_t expanded;
	/* What was repaired. */
	size_t n_html;
	size_t n_internal;
	size_t n_undefined;
	size_t n_bare_amp;
	size_t n_bare_lt;
	size_t n_c1;
	size_t n_bad_ref;
	size_t n_control; /* C0 controls XML does not allow, removed */
	int has_doctype;
	char first_undefined[REPAIR_LOOKAHEAD];
};

/* What WINDOWS-1252 means by bytes 0x80-0x9f; 0 where it means nothing. */
static const uint16_t repair_cp1252_table[32] = {
	0x20ac,
	0,
	0x201a,
	0x0192,
	0x201e,
	0x2026,
	0x2020,
	0x2021,
	0x02c6,
	0x2030,
	0x0160,
	0x2039,
	0x0152,
	0,
	0x017d,
	0,
	0,
	0x2018,
	0x2019,
	0x201c,
	0x201d,
	0x2022,
	0x2013,
	0x2014,
	0x02dc,
	0x2122,
	0x0161,
	0x203a,
	0x0153,
	0,
	0x017e,
	0x0178,
};

unsigned int
repair_cp1252(unsigned long cp)
{
	if (cp < 0x80 || cp > 0x9f)
		return 0;
	return repair_cp1252_table[cp - 0x80];
}

struct repair *
repair_new(void)
{
	return xcalloc(1, sizeof(struct repair));
}

void
repair_free(struct repair *r)
{
	if (r == NULL)
		return;
	for (int i = 0; i < r->nents; i++) {
		free(r->ents[i].name);
		free(r->ents[i].value);
	}
	free(r->carry);
	free(r->doctype);
	free(r);
}

static void
repair_emit(const struct repair_out *o, const char *s, size_t n)
{
	if (*o->len + n + 1 > *o->cap) {
		*o->cap = (*o->len + n + 1) * 2;
		*o->s = xreallocarray(*o->s, *o->cap, 1);
	}
	memcpy(*o->s + *o->len, s, n);
	*o->len += n;
}

static void
repair_emit_ref(const struct repair_out *o, unsigned long cp)
{
	char ref[16];
	int n;

	n = snprintf(ref, sizeof ref, "&#%lu;", cp);
	repair_emit(o, ref, (size_t)n);
}

static int
repair_is_name_char(unsigned char c, int first)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	    c == ':' || c >= 0x80)
		return 1;
	return !first && ((c >= '0' && c <= '9') || c == '.' || c == '-');
}

/* May an XML 1.0 document hold this code point? */
static int
repair_is_xml_char(unsigned long c)
{
	return c == 0x9 || c == 0xa || c == 0xd || (c >= 0x20 && c <= 0xd7ff) ||
	    (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff);
}

/* A character reference "&#...;" of len bytes: keep, map or replace. */
static void
repair_numeric(
    struct repair *r, const char *s, size_t len, const struct repair_out *o)
{
	int hex = s[2] == 'x' || s[2] == 'X';
	size_t i = hex ? 3 : 2;
	unsigned long cp = 0;

	for (; i < len - 1; i++) {
		char c = s[i];
		int d = c >= '0' && c <= '9'	? c - '0' :
		    hex && c >= 'a' && c <= 'f' ? c - 'a' + 10 :
		    hex && c >= 'A' && c <= 'F' ? c - 'A' + 10 :
						  -1;

		if (d == -1 || cp > 0x10ffff)
			break;
		cp = cp * (hex ? 16 : 10) + (unsigned long)d;
	}
	if (i < len - 1 || len - 1 == (hex ? 3u : 2u)) {
		r->n_bad_ref++;
		repair_emit(o, REPAIR_AMP, sizeof REPAIR_AMP - 1);
		repair_emit(o, s + 1, len - 1);
	} else if (repair_cp1252(cp) != 0) {
		r->n_c1++;
		repair_emit_ref(o, repair_cp1252(cp));
	} else if (!repair_is_xml_char(cp)) {
		r->n_bad_ref++;
		repair_emit(o, "\xef\xbf\xbd", 3);
	} else if (s[2] == 'X') {
		/* XML spells hexadecimal references with a small x only. */
		repair_emit(o, "&#x", 3);
		repair_emit(o, s + 3, len - 3);
	} else
		repair_emit(o, s, len);
}

/* A named reference "&name;": predefined, internal, HTML or unknown. */
static void
repair_named(
    struct repair *r, const char *s, size_t len, const struct repair_out *o)
{
	/*
	 * Numeric, not named: once a document is not well-formed, libxml2's
	 * recovery drops the named references that follow, predefined ones
	 * too ("Tom &amp; Jerry" became "Tom  Jerry", and a link lost its
	 * "&"); character references it keeps.
	 */
	static const struct {
		const char *name, *ref;
	} predefined[] = { { "amp", "&#38;" }, { "lt", "&#60;" },
		{ "gt", "&#62;" }, { "quot", "&#34;" }, { "apos", "&#39;" } };
	const htmlEntityDesc *html;
	char name[REPAIR_LOOKAHEAD];

	memcpy(name, s + 1, len - 2);
	name[len - 2] = '\0';
	for (size_t i = 0; i < sizeof predefined / sizeof predefined[0]; i++) {
		if (strcmp(name, predefined[i].name) == 0) {
			repair_emit(o, predefined[i].ref, 5);
			return;
		}
	}
	for (int i = 0; i < r->nents; i++) {
		if (strcmp(name, r->ents[i].name) == 0 &&
		    r->expanded + r->ents[i].len <= REPAIR_MAX_EXPANSION) {
			r->n_internal++;
			r->expanded += r->ents[i].len;
			repair_emit(o, r->ents[i].value, r->ents[i].len);
			return;
		}
	}
	if ((html = htmlEntityLookup((const xmlChar *)name)) != NULL) {
		r->n_html++;
		repair_emit_ref(o, html->value);
		return;
	}
	if (r->n_undefined++ == 0)
		snprintf(
		    r->first_undefined, sizeof r->first_undefined, "%s", name);
	repair_emit(o, REPAIR_AMP, sizeof REPAIR_AMP - 1);
	repair_emit(o, s + 1, len - 1);
}

/* At '&': return the bytes used, or REPAIR_NEED_MORE. */
static size_t
repair_amp(struct repair *r, const char *s, size_t n, int last,
    const struct repair_out *o)
{
	size_t lim = n < REPAIR_LOOKAHEAD ? n : REPAIR_LOOKAHEAD, end, i;

	for (end = 1; end < lim && s[end] != ';'; end++)
		;
	if (end == lim && n < REPAIR_LOOKAHEAD && !last)
		return REPAIR_NEED_MORE;
	if (end < lim && end > 1 && s[1] == '#') {
		repair_numeric(r, s, end + 1, o);
		return end + 1;
	}
	for (i = 1; i < end && end < lim; i++) {
		if (!repair_is_name_char((unsigned char)s[i], i == 1))
			break;
	}
	if (end < lim && end > 1 && i == end) {
		repair_named(r, s, end + 1, o);
		return end + 1;
	}
	r->n_bare_amp++;
	repair_emit(o, REPAIR_AMP, sizeof REPAIR_AMP - 1);
	return 1;
}

/*
 * The length of the HTML void element's name (br, hr, img, wbr) that s
 * (n bytes) starts with, followed by the end of a name; else 0. Raw
 * HTML in a description leaves them unclosed: each then holds all
 * that follows, and sixty items nest past max_depth, which stopped the
 * parse with no entry read.
 */
static size_t
repair_void_len(const char *s, size_t n)
{
	static const char *const names[] = { "br", "hr", "img", "wbr" };
	size_t len;

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		len = strlen(names[i]);
		if (n > len && strncasecmp(s, names[i], len) == 0 &&
		    !repair_is_name_char((unsigned char)s[len], 0))
			return len;
	}
	return 0;
}

/* At '<' in text: which construct opens here? */
static size_t
repair_lt(struct repair *r, const char *s, size_t n, int last,
    const struct repair_out *o)
{
	unsigned char c = n > 1 ? (unsigned char)s[1] : 0;

	if (n < 9 && !last)
		return REPAIR_NEED_MORE;
	if (n >= 4 && memcmp(s, "<!--", 4) == 0) {
		r->state = REPAIR_COMMENT;
		repair_emit(o, s, 4);
		return 4;
	}
	if (n >= 9 && memcmp(s, "<![CDATA[", 9) == 0) {
		r->state = REPAIR_CDATA;
		repair_emit(o, s, 9);
		return 9;
	}
	if (c == '?') {
		r->state = REPAIR_PI;
		repair_emit(o, s, 2);
		return 2;
	}
	if (n >= 9 && !r->seen_root && strncasecmp(s, "<!DOCTYPE", 9) == 0) {
		r->state = REPAIR_DOCTYPE;
		r->has_doctype = 1;
		r->bracket = 0;
		r->quote = 0;
		return 9;
	}
	if (c == '/' && repair_void_len(s + 2, n - 2) != 0 &&
	    n >= 2 + repair_void_len(s + 2, n - 2) + 1 &&
	    s[2 + repair_void_len(s + 2, n - 2)] == '>') {
		/* Its start tag was closed as it was read. */
		return 2 + repair_void_len(s + 2, n - 2) + 1;
	}
	if (c == '/' || c == '!' || repair_is_name_char(c, 1)) {
		if (c != '/' && c != '!')
			r->seen_root = 1;
		r->state = REPAIR_TAG;
		r->quote = 0;
		r->after_eq = 0;
		r->slash = 0;
		r->is_void = repair_void_len(s + 1, n - 1) != 0;
		repair_emit(o, s, 1);
		return 1;
	}
	r->n_bare_lt++;
	repair_emit(o, "&lt;", 4);
	return 1;
}

/* Is c a C0 control that XML 1.0 does not allow (all but tab, LF, CR)? */
static int
repair_is_control(unsigned char c)
{
	return c < 0x20 && c != '\t' && c != '\n' && c != '\r';
}

static size_t
repair_text(struct repair *r, const char *s, size_t n, int last,
    const struct repair_out *o)
{
	size_t j = 0;

	while (j < n && s[j] != '<' && s[j] != '&' &&
	    !repair_is_control((unsigned char)s[j]))
		j++;
	if (j > 0) {
		repair_emit(o, s, j);
		return j;
	}
	/* A NUL or other C0 control ended libxml2's parse: removed. */
	if (repair_is_control((unsigned char)s[0])) {
		r->n_control++;
		return 1;
	}
	if (s[0] == '&')
		return repair_amp(r, s, n, last, o);
	return repair_lt(r, s, n, last, o);
}

/* Inside a tag: up to its '>', or to an '&' in a quoted value. */
static size_t
repair_tag(struct repair *r, const char *s, size_t n, int last,
    const struct repair_out *o)
{
	size_t j;
	char c;

	for (j = 0; j < n; j++) {
		c = s[j];
		if (r->quote != 0) {
			if (c == r->quote)
				r->quote = 0;
			else if (c == '&')
				break;
		} else if ((c == '"' || c == '\'') && r->after_eq)
			r->quote = c;
		else if (c == '>' && r->is_void && !r->slash) {
			/* "<br>" as "<br/>": emitted here, '>' used. */
			repair_emit(o, s, j);
			repair_emit(o, "/>", 2);
			r->state = REPAIR_TEXT;
			return j + 1;
		} else if (c == '>') {
			j++;
			r->state = REPAIR_TEXT;
			break;
		} else if (c == '<') {
			/* An unclosed tag: libxml2 will say so. */
			r->state = REPAIR_TEXT;
			break;
		}
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
			r->after_eq = c == '=';
			r->slash = c == '/';
		}
	}
	if (j > 0 || r->state != REPAIR_TAG) {
		repair_emit(o, s, j);
		return j;
	}
	return repair_amp(r, s, n, last, o);
}

/* Pass a comment, CDATA section or PI through up to its end. */
static size_t
repair_until(struct repair *r, const char *s, size_t n, int last,
    const char *end, const struct repair_out *o)
{
	size_t elen = strlen(end), keep;

	for (size_t j = 0; j + elen <= n; j++) {
		if (s[j] == end[0] && memcmp(s + j, end, elen) == 0) {
			repair_emit(o, s, j + elen);
			r->state = REPAIR_TEXT;
			return j + elen;
		}
	}
	keep = last ? 0 : (n < elen - 1 ? n : elen - 1);
	if (n == keep)
		return REPAIR_NEED_MORE;
	repair_emit(o, s, n - keep);
	return n - keep;
}

/* Keep <!ENTITY name "value"> declarations whose value is plain text. */
static void
repair_doctype_entities(struct repair *r)
{
	char *p = r->doctype, *name, *end, quote;
	size_t nlen;

	while (p != NULL && (p = strstr(p, "<!ENTITY")) != NULL &&
	    r->nents < REPAIR_MAX_ENTITIES) {
		p += 8;
		p += strspn(p, " \t\r\n");
		name = p;
		while (repair_is_name_char((unsigned char)*p, p == name))
			p++;
		nlen = (size_t)(p - name);
		p += strspn(p, " \t\r\n");
		if (nlen == 0 || nlen >= REPAIR_LOOKAHEAD - 2 ||
		    (*p != '"' && *p != '\''))
			continue;
		quote = *p++;
		if ((end = strchr(p, quote)) == NULL)
			break;
		if ((size_t)(end - p) <= REPAIR_MAX_VALUE &&
		    memchr(p, '&', (size_t)(end - p)) == NULL &&
		    memchr(p, '<', (size_t)(end - p)) == NULL) {
			r->ents[r->nents].name = xstrndup(name, nlen);
			r->ents[r->nents].value =
			    xstrndup(p, (size_t)(end - p));
			r->ents[r->nents].len = (size_t)(end - p);
			r->nents++;
		}
		p = end + 1;
	}
}

static void
repair_doctype_add(struct repair *r, const char *s, size_t n)
{
	if (r->doctypelen + n > REPAIR_MAX_DOCTYPE)
		n = REPAIR_MAX_DOCTYPE - r->doctypelen;
	r->doctype = xreallocarray(r->doctype, r->doctypelen + n + 1, 1);
	memcpy(r->doctype + r->doctypelen, s, n);
	r->doctypelen += n;
	r->doctype[r->doctypelen] = '\0';
}

/* Hold the DOCTYPE back up to its closing '>'; it is never emitted. */
static size_t
repair_doctype(struct repair *r, const char *s, size_t n)
{
	size_t j;
	char c;

	for (j = 0; j < n; j++) {
		c = s[j];
		if (r->quote != 0) {
			if (c == r->quote)
				r->quote = 0;
		} else if (c == '"' || c == '\'')
			r->quote = c;
		else if (c == '[')
			r->bracket++;
		else if (c == ']')
			r->bracket--;
		else if (c == '>' && r->bracket <= 0) {
			repair_doctype_add(r, s, j + 1);
			repair_doctype_entities(r);
			r->state = REPAIR_TEXT;
			return j + 1;
		}
	}
	repair_doctype_add(r, s, n);
	return n;
}

static size_t
repair_step(struct repair *r, const char *s, size_t n, int last,
    const struct repair_out *o)
{
	switch (r->state) {
	case REPAIR_TEXT:
		return repair_text(r, s, n, last, o);
	case REPAIR_TAG:
		return repair_tag(r, s, n, last, o);
	case REPAIR_COMMENT:
		return repair_until(r, s, n, last, "-->", o);
	case REPAIR_CDATA:
		return repair_until(r, s, n, last, "]]>", o);
	case REPAIR_PI:
		return repair_until(r, s, n, last, "?>", o);
	case REPAIR_DOCTYPE:
		return repair_doctype(r, s, n);
	}
	return n;
}

void
repair_push(struct repair *r, const char *in, size_t len, int last, char **out,
    size_t *outlen, size_t *outcap)
{
	struct repair_out o = { out, outlen, outcap };
	const char *s = in;
	char *joined = NULL;
	size_t n = len, i = 0, used;

	if (r->ncarry > 0) {
		joined = xmalloc(r->ncarry + len + 1);
		memcpy(joined, r->carry, r->ncarry);
		memcpy(joined + r->ncarry, in, len);
		s = joined;
		n = r->ncarry + len;
		r->ncarry = 0;
	}
	while (i < n) {
		used = repair_step(r, s + i, n - i, last, &o);
		if (used == REPAIR_NEED_MORE) {
			r->carry = xreallocarray(r->carry, n - i, 1);
			memcpy(r->carry, s + i, n - i);
			r->ncarry = n - i;
			break;
		}
		i += used;
	}
	free(joined);
}

char *
repair_report(const struct repair *r, int *is_bozo)
{
	char *msg = NULL, *t;

	/* Without a DTD, a named HTML entity is not well-formed XML. */
	*is_bozo = r->n_undefined > 0 || r->n_bare_amp > 0 ||
	    r->n_bare_lt > 0 || r->n_bad_ref > 0 || r->n_control > 0 ||
	    (r->n_html > 0 && !r->has_doctype);
	if (r->n_undefined > 0)
		xasprintf(&msg,
		    "undefined entity &%s; kept as text (%zu in "
		    "all)",
		    r->first_undefined, r->n_undefined);
	if (r->n_bare_amp > 0 || r->n_bare_lt > 0) {
		xasprintf(&t,
		    "%s%s%zu unescaped & and %zu unescaped < read as "
		    "text",
		    msg ? msg : "", msg ? "; " : "", r->n_bare_amp,
		    r->n_bare_lt);
		free(msg);
		msg = t;
	}
	if (r->n_bad_ref > 0) {
		xasprintf(&t, "%s%s%zu invalid character references",
		    msg ? msg : "", msg ? "; " : "", r->n_bad_ref);
		free(msg);
		msg = t;
	}
	if (r->n_control > 0) {
		xasprintf(&t, "%s%s%zu control characters removed",
		    msg ? msg : "", msg ? "; " : "", r->n_control);
		free(msg);
		msg = t;
	}
	if (r->n_html > 0 && !r->has_doctype) {
		xasprintf(&t,
		    "%s%s%zu HTML entities without a DTD, read as "
		    "characters",
		    msg ? msg : "", msg ? "; " : "", r->n_html);
		free(msg);
		msg = t;
	}
	return msg;
}
