#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/HTMLparser.h>
#include <utf8proc.h>

#include "text.h"
#include "xmalloc.h"

/*
 * Text: HTML becomes plain text through libxml2's HTML parser; plain
 * text becomes tokens folded by utf8proc, each remembering where it
 * stands so that snippets can be cut from the original.
 */

/* Elements whose text is not the story's. */
static const char *text_skip_tags[] = {
	"head",
	"noscript",
	"object",
	"script",
	"style",
	"template",
	"title",
};

struct text_buf {
	char *s;
	size_t len;
	size_t cap;
};

static void
text_buf_add(struct text_buf *b, const char *s, size_t len)
{
	if (b->len + len + 1 > b->cap) {
		b->cap = (b->len + len + 1) * 2;
		b->s = xreallocarray(b->s, b->cap, 1);
	}
	memcpy(b->s + b->len, s, len);
	b->len += len;
	b->s[b->len] = '\0';
}

static int
text_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
text_is_skipped(const char *name)
{
	return bsearch(&name, text_skip_tags,
		   sizeof text_skip_tags / sizeof text_skip_tags[0],
		   sizeof text_skip_tags[0], text_cmp) != NULL;
}

/*
 * Collect the text under node. Every element boundary adds a space:
 * inline elements inside a word are rare in feeds, while block
 * elements that run words together ("end.</p><p>Next") are common.
 */
static void
text_walk(xmlNodePtr node, struct text_buf *b)
{
	for (xmlNodePtr n = node; n != NULL; n = n->next) {
		if (n->type == XML_TEXT_NODE ||
		    n->type == XML_CDATA_SECTION_NODE) {
			if (n->content != NULL)
				text_buf_add(b, (const char *)n->content,
				    strlen((const char *)n->content));
		} else if (n->type == XML_ELEMENT_NODE) {
			if (text_is_skipped((const char *)n->name))
				continue;
			text_buf_add(b, " ", 1);
			text_walk(n->children, b);
			text_buf_add(b, " ", 1);
		}
	}
}

char *
text_from_html(const char *html)
{
	struct text_buf b = { NULL, 0, 0 };
	htmlDocPtr doc;
	char *plain;
	size_t len = strlen(html);

	if (strpbrk(html, "<&") == NULL)
		return text_squeeze(html);
	if (len > INT32_MAX)
		return xstrdup("");
	doc = htmlReadMemory(html, (int)len, NULL, "UTF-8",
	    HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
		HTML_PARSE_NONET);
	if (doc == NULL)
		return text_squeeze(html);
	text_walk(doc->children, &b);
	xmlFreeDoc(doc);
	if (b.s == NULL)
		return xstrdup("");
	plain = text_squeeze(b.s);
	free(b.s);
	return plain;
}

/* Is c white space, ASCII or Unicode (NBSP and friends)? */
static int
text_is_space(utf8proc_int32_t c)
{
	utf8proc_category_t cat;

	if (c == ' ' || (c >= '\t' && c <= '\r'))
		return 1;
	if (c < 0x80)
		return 0;
	cat = utf8proc_category(c);
	return cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_ZL ||
	    cat == UTF8PROC_CATEGORY_ZP;
}

char *
text_squeeze(const char *s)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	char *out = xmalloc(strlen(s) + 1);
	utf8proc_int32_t c;
	utf8proc_ssize_t n;
	size_t o = 0;
	int space = 0;

	while (*p != '\0') {
		n = utf8proc_iterate(p, -1, &c);
		if (n < 1) {
			/* Invalid UTF-8 cannot be shown; drop the byte. */
			p++;
			continue;
		}
		if (text_is_space(c))
			space = 1;
		else {
			if (space && o > 0)
				out[o++] = ' ';
			space = 0;
			memcpy(out + o, p, (size_t)n);
			o += (size_t)n;
		}
		p += n;
	}
	out[o] = '\0';
	return out;
}

/* Does c belong to a token: a letter, a digit or a combining mark? */
static int
text_is_word(utf8proc_int32_t c)
{
	if (c < 0x80)
		return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9');
	switch (utf8proc_category(c)) {
	case UTF8PROC_CATEGORY_LU:
	case UTF8PROC_CATEGORY_LL:
	case UTF8PROC_CATEGORY_LT:
	case UTF8PROC_CATEGORY_LM:
	case UTF8PROC_CATEGORY_LO:
	case UTF8PROC_CATEGORY_MN:
	case UTF8PROC_CATEGORY_MC:
	case UTF8PROC_CATEGORY_ME:
	case UTF8PROC_CATEGORY_ND:
	case UTF8PROC_CATEGORY_NL:
	case UTF8PROC_CATEGORY_NO:
		return 1;
	default:
		return 0;
	}
}

static void
text_fold_reserve(struct text_tokens *t, size_t more)
{
	if (t->foldedlen + more <= t->foldedcap)
		return;
	t->foldedcap = (t->foldedlen + more) * 2;
	t->folded = xreallocarray(t->folded, t->foldedcap, 1);
}

/* Append the folded form of c to the folded buffer. */
static void
text_fold_char(struct text_tokens *t, utf8proc_int32_t c, int flags)
{
	utf8proc_int32_t dst[32];
	utf8proc_ssize_t n;
	int boundclass = UTF8PROC_BOUNDCLASS_START;
	int opts = UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD |
	    UTF8PROC_IGNORE;

	if (c < 0x80) {
		text_fold_reserve(t, 1);
		t->folded[t->foldedlen++] =
		    (c >= 'A' && c <= 'Z') ? (char)(c + 32) : (char)c;
		return;
	}
	if (!(flags & TEXT_KEEP_ACCENTS))
		opts |= UTF8PROC_STRIPMARK;
	n = utf8proc_decompose_char(c, dst, 32, opts, &boundclass);
	if (n < 0 || n > 32)
		return;
	text_fold_reserve(t, (size_t)n * 4);
	for (utf8proc_ssize_t i = 0; i < n; i++)
		t->foldedlen += (size_t)utf8proc_encode_char(
		    dst[i], (utf8proc_uint8_t *)t->folded + t->foldedlen);
}

/* Close the token that began at start, if it folded to anything. */
static void
text_token_end(struct text_tokens *t, size_t fold, size_t start, size_t end)
{
	struct text_token *tok;

	if (t->foldedlen == fold)
		return;
	text_fold_reserve(t, 1);
	t->folded[t->foldedlen++] = '\0';
	if (t->n == t->cap) {
		t->cap = t->cap == 0 ? 64 : t->cap * 2;
		t->v = xreallocarray(t->v, t->cap, sizeof *t->v);
	}
	tok = &t->v[t->n++];
	tok->fold = fold;
	tok->foldlen = t->foldedlen - fold - 1;
	tok->start = start;
	tok->end = end;
}

void
text_tokenize(struct text_tokens *t, const char *s, size_t len, int flags)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	utf8proc_int32_t c;
	utf8proc_ssize_t n;
	size_t i = 0, start = 0, fold = 0;
	int in_word = 0;

	while (i < len) {
		n = utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &c);
		if (n < 1) {
			c = -1;
			n = 1;
		}
		if (c != -1 && text_is_word(c)) {
			if (!in_word) {
				in_word = 1;
				start = i;
				fold = t->foldedlen;
			}
			text_fold_char(t, c, flags);
		} else if (in_word) {
			in_word = 0;
			text_token_end(t, fold, start, i);
		}
		i += (size_t)n;
	}
	if (in_word)
		text_token_end(t, fold, start, i);
}

const char *
text_token_str(const struct text_tokens *t, size_t i)
{
	return t->folded + t->v[i].fold;
}

void
text_tokens_clear(struct text_tokens *t)
{
	free(t->v);
	free(t->folded);
	memset(t, 0, sizeof *t);
}
