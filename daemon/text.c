#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/HTMLparser.h>
#include <utf8proc.h>

#include "html.h"
#include "repair.h"
#include "text.h"
#include "xmalloc.h"

/*
 * Text: HTML becomes plain text through libxml2's HTML parser; plain
 * text becomes tokens folded by utf8proc, each remembering where it
 * stands so that snippets can be cut from the original; mojibake
 * ("РєР°РЅР°Р»") is turned back into the text it was.
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
 * What the parser's callbacks gather: the text, and how deep the parser
 * is in elements whose text is not the story's. Every element boundary
 * adds a space, a skipped element's too: inline elements inside a word
 * are rare in feeds, while block elements that run words together
 * ("end.</p><p>Next") are common. The parser builds no tree: it calls these as
 * it reads, which costs about half as much.
 */
struct text_sax {
	struct text_buf b;
	int skip;
};

static struct text_sax *
text_sax_of(void *ctx)
{
	return ((htmlParserCtxtPtr)ctx)->_private;
}

static void
text_sax_start(void *ctx, const xmlChar *name, const xmlChar **atts)
{
	struct text_sax *t = text_sax_of(ctx);

	(void)atts;
	if (t->skip == 0)
		text_buf_add(&t->b, " ", 1);
	if (t->skip > 0 || text_is_skipped((const char *)name))
		t->skip++;
}

static void
text_sax_end(void *ctx, const xmlChar *name)
{
	struct text_sax *t = text_sax_of(ctx);

	(void)name;
	if (t->skip > 0)
		t->skip--;
	if (t->skip == 0)
		text_buf_add(&t->b, " ", 1);
}

static void
text_sax_text(void *ctx, const xmlChar *s, int len)
{
	struct text_sax *t = text_sax_of(ctx);

	if (t->skip == 0 && len > 0)
		text_buf_add(&t->b, (const char *)s, (size_t)len);
}

static const htmlSAXHandler text_sax_handler = {
	.startElement = text_sax_start,
	.endElement = text_sax_end,
	.characters = text_sax_text,
	.cdataBlock = text_sax_text,
	.initialized = 1,
};

char *
text_from_html(const char *html)
{
	struct text_sax t = { { NULL, 0, 0 }, 0 };
	char *plain, *fixed;
	size_t len = strlen(html);

	if (strpbrk(html, "<&") == NULL)
		return text_squeeze(html);
	if (len > INT32_MAX)
		return xstrdup("");
	if ((fixed = html_c1_refs(html)) != NULL) {
		html = fixed;
		len = strlen(fixed);
	}
	if (html_read_sax(html, len, &text_sax_handler, &t, 0) == -1) {
		free(t.b.s);
		plain = text_squeeze(html);
		free(fixed);
		return plain;
	}
	free(fixed);
	if (t.b.s == NULL)
		return xstrdup("");
	plain = text_squeeze(t.b.s);
	free(t.b.s);
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
		/* ASCII, most of any text, without asking utf8proc. */
		if (*p < 0x80) {
			if (text_is_space(*p))
				space = 1;
			else {
				if (space && o > 0)
					out[o++] = ' ';
				space = 0;
				out[o++] = (char)*p;
			}
			p++;
			continue;
		}
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

/* Room for more bytes and the pad; new memory is zeroed, so it is set. */
static void
text_fold_reserve(struct text_tokens *t, size_t more)
{
	size_t cap;

	if (t->foldedlen + more + TEXT_FOLDED_PAD <= t->foldedcap)
		return;
	cap = (t->foldedlen + more + TEXT_FOLDED_PAD) * 2;
	t->folded = xreallocarray(t->folded, cap, 1);
	memset(t->folded + t->foldedcap, 0, cap - t->foldedcap);
	t->foldedcap = cap;
}

/* Append the folded form of c, not ASCII, to the folded buffer. */
static void
text_fold_char(struct text_tokens *t, utf8proc_int32_t c, int flags)
{
	utf8proc_int32_t dst[32];
	utf8proc_ssize_t n;
	int boundclass = UTF8PROC_BOUNDCLASS_START;
	int opts = UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD |
	    UTF8PROC_IGNORE;

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
	/* The room kept for the input holds the NUL (text_tokenize). */
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

#define TEXT_SWAR_ONES 0x0101010101010101ULL
#define TEXT_SWAR_LOW 0x7f7f7f7f7f7f7f7fULL
#define TEXT_SWAR_HIGH 0x8080808080808080ULL

/* ASCII letters and digits folded to lower case; 0 for the rest. */
static const char text_ascii_fold[256] = {
	['0'] = '0',
	['1'] = '1',
	['2'] = '2',
	['3'] = '3',
	['4'] = '4',
	['5'] = '5',
	['6'] = '6',
	['7'] = '7',
	['8'] = '8',
	['9'] = '9',
	['A'] = 'a',
	['B'] = 'b',
	['C'] = 'c',
	['D'] = 'd',
	['E'] = 'e',
	['F'] = 'f',
	['G'] = 'g',
	['H'] = 'h',
	['I'] = 'i',
	['J'] = 'j',
	['K'] = 'k',
	['L'] = 'l',
	['M'] = 'm',
	['N'] = 'n',
	['O'] = 'o',
	['P'] = 'p',
	['Q'] = 'q',
	['R'] = 'r',
	['S'] = 's',
	['T'] = 't',
	['U'] = 'u',
	['V'] = 'v',
	['W'] = 'w',
	['X'] = 'x',
	['Y'] = 'y',
	['Z'] = 'z',
	['a'] = 'a',
	['b'] = 'b',
	['c'] = 'c',
	['d'] = 'd',
	['e'] = 'e',
	['f'] = 'f',
	['g'] = 'g',
	['h'] = 'h',
	['i'] = 'i',
	['j'] = 'j',
	['k'] = 'k',
	['l'] = 'l',
	['m'] = 'm',
	['n'] = 'n',
	['o'] = 'o',
	['p'] = 'p',
	['q'] = 'q',
	['r'] = 'r',
	['s'] = 's',
	['t'] = 't',
	['u'] = 'u',
	['v'] = 'v',
	['w'] = 'w',
	['x'] = 'x',
	['y'] = 'y',
	['z'] = 'z',
};

/*
 * What the commonest characters past ASCII fold to, worked out once by
 * accent mode: all of two UTF-8 bytes (Latin, Greek, Cyrillic, ...) and
 * U+2000 to U+20FF (dashes, quotes, currency signs), the punctuation of
 * news. A character that folds to more bytes than fit is marked long
 * and goes through utf8proc each time.
 */
#define TEXT_FOLD_INLINE 6 /* bytes */
#define TEXT_FOLD_LONG 0xff

struct text_fold {
	uint8_t is_word;
	uint8_t len; /* bytes in s, or TEXT_FOLD_LONG */
	char s[TEXT_FOLD_INLINE];
};

static struct text_fold text_fold2[2][0x800 - 0x80]; /* U+0080-U+07FF */
static struct text_fold text_fold3[2][0x100];	     /* U+2000-U+20FF */
static pthread_once_t text_fold_once = PTHREAD_ONCE_INIT;

static void
text_fold_fill(struct text_fold *f, utf8proc_int32_t c, int flags)
{
	struct text_tokens t;

	memset(&t, 0, sizeof t);
	f->is_word = (uint8_t)text_is_word(c);
	if (!f->is_word)
		return;
	text_fold_char(&t, c, flags);
	if (t.foldedlen > TEXT_FOLD_INLINE)
		f->len = TEXT_FOLD_LONG;
	else if (t.foldedlen > 0) {
		f->len = (uint8_t)t.foldedlen;
		memcpy(f->s, t.folded, t.foldedlen);
	}
	text_tokens_clear(&t);
}

static void
text_fold_init(void)
{
	for (int m = 0; m < 2; m++) {
		for (utf8proc_int32_t c = 0x80; c < 0x800; c++)
			text_fold_fill(&text_fold2[m][c - 0x80], c,
			    m ? TEXT_KEEP_ACCENTS : 0);
		for (utf8proc_int32_t c = 0x2000; c < 0x2100; c++)
			text_fold_fill(&text_fold3[m][c - 0x2000], c,
			    m ? TEXT_KEEP_ACCENTS : 0);
	}
}

/*
 * The table entry of the character at p[i] (not ASCII) and its length
 * in *n, or NULL when it has none: it is in neither range, or is not
 * valid UTF-8 (as utf8proc_iterate decides: no overlong forms).
 */
static const struct text_fold *
text_fold_of(const unsigned char *p, size_t i, size_t len, int flags, int *n)
{
	int m = flags & TEXT_KEEP_ACCENTS ? 1 : 0;

	if (p[i] >= 0xc2 && p[i] <= 0xdf && i + 1 < len &&
	    (p[i + 1] & 0xc0) == 0x80) {
		*n = 2;
		return &text_fold2[m]
				  [(((p[i] & 0x1f) << 6) | (p[i + 1] & 0x3f)) -
				      0x80];
	}
	if (p[i] == 0xe2 && i + 2 < len && p[i + 1] >= 0x80 &&
	    p[i + 1] <= 0x83 && (p[i + 2] & 0xc0) == 0x80) {
		*n = 3;
		return &text_fold3[m][((p[i + 1] & 0x3f) << 6) |
		    (p[i + 2] & 0x3f)];
	}
	return NULL;
}

/*
 * Eight bytes at a time: bit 7 of each byte of the result is set when
 * that byte of x, a byte of 7 bits, is in [lo, hi] (ASCII): sums of
 * such bytes never carry into the next.
 */
static uint64_t
text_swar_in(uint64_t x, unsigned char lo, unsigned char hi)
{
	uint64_t ge, gt;

	ge = x + TEXT_SWAR_ONES * (unsigned char)(0x80 - lo);
	gt = x + TEXT_SWAR_ONES * (unsigned char)(0x7f - hi);
	return ge & ~gt;
}

/* How many bytes of m come before the first whose bit 7 is clear. */
static size_t
text_swar_leading(uint64_t m)
{
	m = ~m & TEXT_SWAR_HIGH;
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	return (size_t)__builtin_clzll(m) / 8;
#else
	return (size_t)__builtin_ctzll(m) / 8;
#endif
}

/*
 * Fold the run of ASCII letters and digits at p (n bytes left, the
 * first of the run) to out; return its length. Eight bytes at a time
 * while they last: out has room for n bytes (text_tokenize), and what is
 * written past the run is of no meaning.
 */
static size_t
text_ascii_run(const unsigned char *p, size_t n, char *out)
{
	uint64_t w, x, ascii, letter, word;
	size_t k = 0;
	char f;

	for (; k + 8 <= n; k += 8) {
		memcpy(&w, p + k, sizeof w);
		/* Bytes past ASCII are no letter: their bit 7 is taken off. */
		x = w & TEXT_SWAR_LOW;
		ascii = ~w & TEXT_SWAR_HIGH;
		/* A letter has bit 5 set in lower case: 'A' | 0x20 is 'a'. */
		letter =
		    text_swar_in(x | TEXT_SWAR_ONES * 0x20, 'a', 'z') & ascii;
		word = letter | (text_swar_in(x, '0', '9') & ascii);
		w |= letter >> 2; /* 0x80 >> 2 is 0x20 */
		memcpy(out + k, &w, sizeof w);
		if (word != TEXT_SWAR_HIGH)
			return k + text_swar_leading(word);
	}
	while (k < n && (f = text_ascii_fold[p[k]]) != 0)
		out[k++] = f;
	return k;
}

void
text_tokenize(struct text_tokens *t, const char *s, size_t len, int flags)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	utf8proc_int32_t c;
	utf8proc_ssize_t n;
	size_t i = 0, start = 0, fold = 0;
	char f;
	const struct text_fold *f2;
	int in_word = 0, n2;

	pthread_once(&text_fold_once, text_fold_init);
	/*
	 * Keep room for the rest of the input and a NUL: ASCII folds to one
	 * byte a byte, so that its loop need not check for room.
	 */
	text_fold_reserve(t, len + 1);
	while (i < len) {
		if (p[i] < 0x80) {
			if ((f = text_ascii_fold[p[i]]) == 0) {
				if (in_word) {
					in_word = 0;
					text_token_end(t, fold, start, i);
				}
				i++;
				continue;
			}
			if (!in_word) {
				in_word = 1;
				start = i;
				fold = t->foldedlen;
			}
			/* The common case: a run of ASCII letters and digits.
			 */
			n = (utf8proc_ssize_t)text_ascii_run(
			    p + i, len - i, t->folded + t->foldedlen);
			t->foldedlen += (size_t)n;
			i += (size_t)n;
			/* An ASCII byte after the run ends the token: skip it.
			 */
			if (i < len && p[i] < 0x80) {
				in_word = 0;
				text_token_end(t, fold, start, i);
				i++;
			}
			continue;
		}
		if ((f2 = text_fold_of(p, i, len, flags, &n2)) != NULL &&
		    f2->len != TEXT_FOLD_LONG) {
			if (f2->is_word) {
				if (!in_word) {
					in_word = 1;
					start = i;
					fold = t->foldedlen;
				}
				text_fold_reserve(t, f2->len + len - i);
				memcpy(
				    t->folded + t->foldedlen, f2->s, f2->len);
				t->foldedlen += f2->len;
			} else if (in_word) {
				in_word = 0;
				text_token_end(t, fold, start, i);
			}
			i += (size_t)n2;
			continue;
		}
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
		text_fold_reserve(t, len - i + 1);
	}
	if (in_word)
		text_token_end(t, fold, start, i);
}

void
text_tokens_clear(struct text_tokens *t)
{
	free(t->v);
	free(t->folded);
	memset(t, 0, sizeof *t);
}

/*
 * Mojibake: UTF-8 that was decoded as a single-byte encoding and encoded
 * again, so that each byte of a multi-byte sequence became a character.
 * Each encoding is undone word by word. A word is a run of ASCII letters
 * and digits and of characters the encoding can represent; a UTF-8
 * sequence holds no ASCII byte, so spaces and ASCII punctuation never
 * cut one. In each run of a word beyond ASCII, the characters' bytes in
 * the encoding must be valid UTF-8 made of plausible characters, except
 * for punctuation at either end that no sequence can hold ("’" in
 * "L’Ã©tÃ©", the second "»" in "Р»»"), which is kept as it is. The word
 * is repaired when the decoding is clearly one ("strong": two multi-byte
 * characters or more, or one of the shapes mojibake leaves, such as
 * "â€™"), or when it is plausible ("weak") and only ASCII punctuation
 * separates it from a repaired word.
 */

enum text_mj_enc {
	TEXT_MJ_CP1252, /* and ISO-8859-1 */
	TEXT_MJ_CP1251,
	TEXT_MJ_NENC
};

#define TEXT_MJ_ROUNDS 3 /* repairs of text that was mangled repeatedly */

enum text_mj_verdict {
	TEXT_MJ_BAD,	/* nothing to decode, not UTF-8, or implausible */
	TEXT_MJ_WEAK,	/* a plausible decoding, too short to be sure */
	TEXT_MJ_STRONG, /* clearly mojibake: repair it */
};

/* The text of one pass, one character at each index. */
struct text_mj_text {
	const char *s;
	size_t n;	      /* characters; a byte that is not UTF-8 is one */
	utf8proc_int32_t *cp; /* each, -1 for such a byte; cp[n] is -1 */
	size_t *off;	      /* where each starts in s; off[n] = strlen(s) */
	utf8proc_uint8_t *byte; /* each in the encoding, 0 for none */
	char *keep;		/* 1: left as it is in a repaired word */
};

struct text_mj_word {
	size_t start; /* character indices */
	size_t end;
	int linked; /* only ASCII punctuation since the previous word */
	enum text_mj_verdict verdict;
};

/* What the decoded runs of a word hold. */
struct text_mj_tally {
	int ascii_letters;     /* the word has some */
	int script;	       /* of its letters beyond ASCII, 0 = none yet */
	size_t decoded;	       /* multi-byte characters */
	size_t evidence;       /* those that are evidence of mojibake */
	utf8proc_int32_t last; /* the last decoded, ending at last_end */
	size_t last_end;
	utf8proc_int32_t c;	 /* the last piece of evidence, */
	size_t at;		 /* the index of its first character */
	utf8proc_ssize_t nbytes; /* and its length in UTF-8 */
};

/* WINDOWS-1252 and WINDOWS-1251, 0x80 to 0xff, as WHATWG maps them. */
static const uint16_t text_cp1252[128] = {
	0x20ac, 0x0081, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, /* 80 */
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008d, 0x017d, 0x008f, /* 88 */
	0x0090, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, /* 90 */
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x009d, 0x017e, 0x0178, /* 98 */
	0x00a0, 0x00a1, 0x00a2, 0x00a3, 0x00a4, 0x00a5, 0x00a6, 0x00a7, /* a0 */
	0x00a8, 0x00a9, 0x00aa, 0x00ab, 0x00ac, 0x00ad, 0x00ae, 0x00af, /* a8 */
	0x00b0, 0x00b1, 0x00b2, 0x00b3, 0x00b4, 0x00b5, 0x00b6, 0x00b7, /* b0 */
	0x00b8, 0x00b9, 0x00ba, 0x00bb, 0x00bc, 0x00bd, 0x00be, 0x00bf, /* b8 */
	0x00c0, 0x00c1, 0x00c2, 0x00c3, 0x00c4, 0x00c5, 0x00c6, 0x00c7, /* c0 */
	0x00c8, 0x00c9, 0x00ca, 0x00cb, 0x00cc, 0x00cd, 0x00ce, 0x00cf, /* c8 */
	0x00d0, 0x00d1, 0x00d2, 0x00d3, 0x00d4, 0x00d5, 0x00d6, 0x00d7, /* d0 */
	0x00d8, 0x00d9, 0x00da, 0x00db, 0x00dc, 0x00dd, 0x00de, 0x00df, /* d8 */
	0x00e0, 0x00e1, 0x00e2, 0x00e3, 0x00e4, 0x00e5, 0x00e6, 0x00e7, /* e0 */
	0x00e8, 0x00e9, 0x00ea, 0x00eb, 0x00ec, 0x00ed, 0x00ee, 0x00ef, /* e8 */
	0x00f0, 0x00f1, 0x00f2, 0x00f3, 0x00f4, 0x00f5, 0x00f6, 0x00f7, /* f0 */
	0x00f8, 0x00f9, 0x00fa, 0x00fb, 0x00fc, 0x00fd, 0x00fe, 0x00ff, /* f8 */
};

static const uint16_t text_cp1251[128] = {
	0x0402, 0x0403, 0x201a, 0x0453, 0x201e, 0x2026, 0x2020, 0x2021, /* 80 */
	0x20ac, 0x2030, 0x0409, 0x2039, 0x040a, 0x040c, 0x040b, 0x040f, /* 88 */
	0x0452, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, /* 90 */
	0x0098, 0x2122, 0x0459, 0x203a, 0x045a, 0x045c, 0x045b, 0x045f, /* 98 */
	0x00a0, 0x040e, 0x045e, 0x0408, 0x00a4, 0x0490, 0x00a6, 0x00a7, /* a0 */
	0x0401, 0x00a9, 0x0404, 0x00ab, 0x00ac, 0x00ad, 0x00ae, 0x0407, /* a8 */
	0x00b0, 0x00b1, 0x0406, 0x0456, 0x0491, 0x00b5, 0x00b6, 0x00b7, /* b0 */
	0x0451, 0x2116, 0x0454, 0x00bb, 0x0458, 0x0405, 0x0455, 0x0457, /* b8 */
	0x0410, 0x0411, 0x0412, 0x0413, 0x0414, 0x0415, 0x0416, 0x0417, /* c0 */
	0x0418, 0x0419, 0x041a, 0x041b, 0x041c, 0x041d, 0x041e, 0x041f, /* c8 */
	0x0420, 0x0421, 0x0422, 0x0423, 0x0424, 0x0425, 0x0426, 0x0427, /* d0 */
	0x0428, 0x0429, 0x042a, 0x042b, 0x042c, 0x042d, 0x042e, 0x042f, /* d8 */
	0x0430, 0x0431, 0x0432, 0x0433, 0x0434, 0x0435, 0x0436, 0x0437, /* e0 */
	0x0438, 0x0439, 0x043a, 0x043b, 0x043c, 0x043d, 0x043e, 0x043f, /* e8 */
	0x0440, 0x0441, 0x0442, 0x0443, 0x0444, 0x0445, 0x0446, 0x0447, /* f0 */
	0x0448, 0x0449, 0x044a, 0x044b, 0x044c, 0x044d, 0x044e, 0x044f, /* f8 */
};

/*
 * Characters that may follow a word: after a word that ends in an
 * accented capital ("IRMÃ»", "PÅ”") they are text, not half of a
 * sequence. Sorted for bsearch.
 */
static const uint16_t text_mj_trailers[] = {
	0x00a0, /* no-break space */
	0x00ab, /* « */
	0x00ae, /* ® */
	0x00b0, /* ° */
	0x00bb, /* » */
	0x2013, /* – */
	0x2014, /* — */
	0x2018, /* ‘ */
	0x2019, /* ’ */
	0x201c, /* “ */
	0x201d, /* ” */
	0x201e, /* „ */
	0x2022, /* • */
	0x2026, /* … */
	0x2039, /* ‹ */
	0x203a, /* › */
	0x2122, /* ™ */
};

/*
 * Scripts that span several blocks of 128 characters, sorted; the letters
 * of one word must share a script, and outside these each such block is
 * taken to be one. Latin is 1.
 */
static const struct text_mj_range {
	utf8proc_int32_t first;
	utf8proc_int32_t last;
	int script;
} text_mj_scripts[] = {
	{ 0x0000, 0x036f, 1 }, /* Latin */
	{ 0x0370, 0x03ff, 2 }, /* Greek */
	{ 0x0400, 0x052f, 3 }, /* Cyrillic */
	{ 0x0600, 0x06ff, 4 }, /* Arabic */
	{ 0x0750, 0x077f, 4 },
	{ 0x08a0, 0x08ff, 4 },
	{ 0x0f00, 0x0fff, 5 }, /* Tibetan */
	{ 0x1000, 0x109f, 6 }, /* Myanmar */
	{ 0x1100, 0x11ff, 7 }, /* Hangul */
	{ 0x1200, 0x139f, 8 }, /* Ethiopic */
	{ 0x1400, 0x167f, 9 }, /* Canadian syllabics */
	{ 0x1e00, 0x1eff, 1 },
	{ 0x1f00, 0x1fff, 2 },
	{ 0x2d80, 0x2ddf, 8 },
	{ 0x3040, 0x30ff, 10 }, /* Chinese and Japanese */
	{ 0x3130, 0x318f, 7 },
	{ 0x3400, 0x9fff, 10 },
	{ 0xa000, 0xa4cf, 11 }, /* Yi */
	{ 0xac00, 0xd7af, 7 },
	{ 0xf900, 0xfaff, 10 },
	{ 0xfb50, 0xfdff, 4 },
	{ 0xfe70, 0xfeff, 4 },
	{ 0xff00, 0xffef, 10 },
	{ 0x20000, 0x3ffff, 10 },
};

/*
 * The byte for c in encoding e, or -1 when e has none. WINDOWS-1252 and
 * ISO-8859-1 differ only in 0x80-0x9f, where one has punctuation and the
 * other C1 controls, so one table serves both and a word may mix them.
 */
static int
text_mj_byte(int e, utf8proc_int32_t c)
{
	const uint16_t *t;
	int n;

	if (c < 0x80)
		return c;
	if (e == TEXT_MJ_CP1252) {
		if (c <= 0xff)
			return c;
		t = text_cp1252;
		n = 32;
	} else {
		if (c >= 0x410 && c <= 0x44f)
			return c - 0x410 + 0xc0;
		t = text_cp1251;
		n = 64;
	}
	if (c > 0x2122)
		return -1;
	for (int i = 0; i < n; i++)
		if (t[i] == c)
			return 0x80 + i;
	return -1;
}

/*
 * Could s hold mojibake at all? Only where a character that encodes to a
 * UTF-8 lead byte is followed by one that encodes to a continuation byte,
 * in one of the encodings. ASCII text costs a loop over its bytes.
 */
/*
 * A byte-level look at s before text_mj_suspect's: a character that
 * encodes to a lead byte (UTF-8 C3 82-B4 for the Latin encodings, D0 92
 * to D1 84 for WINDOWS-1251) directly followed by one whose UTF-8 starts
 * as a character encoding to a continuation byte can (C2, C5, C6, CB,
 * D0 80-8F, D1 90-9F, D2, E2). It accepts all text_mj_suspect accepts,
 * and correct Russian or French text passes it at memory speed.
 */
static int
text_mj_maybe(const char *s)
{
	const unsigned char *p = (const unsigned char *)s, *q;

	for (; *p != '\0'; p++) {
		if (p[0] < 0xc3 ||
		    !((p[0] == 0xc3 && p[1] >= 0x82 && p[1] <= 0xb4) ||
			(p[0] == 0xd0 && p[1] >= 0x92) ||
			(p[0] == 0xd1 && p[1] <= 0x84)))
			continue;
		q = p + 2;
		if (q[0] == 0xc2 || q[0] == 0xc5 || q[0] == 0xc6 ||
		    q[0] == 0xcb || q[0] == 0xd2 || q[0] == 0xe2 ||
		    (q[0] == 0xd0 && q[1] >= 0x80 && q[1] <= 0x8f) ||
		    (q[0] == 0xd1 && q[1] >= 0x90 && q[1] <= 0x9f))
			return 1;
	}
	return 0;
}

static int
text_mj_suspect(const char *s)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	utf8proc_int32_t c;
	utf8proc_ssize_t n;
	int lead = 0, next, b;

	while (*p != '\0') {
		if (*p < 0x80) {
			lead = 0;
			p++;
			continue;
		}
		if ((n = utf8proc_iterate(p, -1, &c)) < 1) {
			lead = 0;
			p++;
			continue;
		}
		next = 0;
		for (int e = 0; e < TEXT_MJ_NENC; e++) {
			b = text_mj_byte(e, c);
			if ((lead & (1 << e)) && b >= 0x80 && b <= 0xbf)
				return 1;
			if (b >= 0xc2 && b <= 0xf4)
				next |= 1 << e;
		}
		lead = next;
		p += n;
	}
	return 0;
}

/* Split s into characters, each with its byte in encoding e. */
static void
text_mj_load(struct text_mj_text *t, const char *s, int e)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	size_t len = strlen(s), i = 0;
	utf8proc_ssize_t n;
	int b;

	t->s = s;
	t->n = 0;
	t->cp = xreallocarray(NULL, len + 1, sizeof *t->cp);
	t->off = xreallocarray(NULL, len + 1, sizeof *t->off);
	t->byte = xmalloc(len + 1);
	t->keep = xcalloc(len + 1, 1);
	while (i < len) {
		n = utf8proc_iterate(
		    p + i, (utf8proc_ssize_t)(len - i), &t->cp[t->n]);
		if (n < 1) {
			t->cp[t->n] = -1;
			n = 1;
		}
		b = t->cp[t->n] == -1 ? -1 : text_mj_byte(e, t->cp[t->n]);
		t->byte[t->n] = b == -1 ? 0 : (utf8proc_uint8_t)b;
		t->off[t->n++] = i;
		i += (size_t)n;
	}
	t->cp[t->n] = -1;
	t->off[t->n] = len;
}

static void
text_mj_clear(struct text_mj_text *t)
{
	free(t->cp);
	free(t->off);
	free(t->byte);
	free(t->keep);
}

static int
text_mj_is_alnum(utf8proc_int32_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

static void
text_mj_push(struct text_mj_word **v, size_t *n, size_t *cap,
    const struct text_mj_word *w)
{
	if (*n == *cap) {
		*cap = *cap == 0 ? 16 : *cap * 2;
		*v = xreallocarray(*v, *cap, sizeof **v);
	}
	(*v)[(*n)++] = *w;
}

/*
 * Return the words of t that hold a character beyond ASCII, and set *np
 * to their number; the caller frees them. ASCII punctuation between two
 * words links them; a character the encoding lacks, a byte that is not
 * UTF-8 or a word of ASCII alone does not.
 */
static struct text_mj_word *
text_mj_words(const struct text_mj_text *t, size_t *np)
{
	struct text_mj_word *v = NULL, w = { 0 };
	size_t n = 0, cap = 0;
	int in_word = 0, high = 0, linked = 0;

	for (size_t i = 0; i <= t->n; i++) {
		if (i < t->n &&
		    (text_mj_is_alnum(t->cp[i]) || t->byte[i] >= 0x80)) {
			if (!in_word) {
				in_word = 1;
				high = 0;
				w.start = i;
			}
			high |= t->byte[i] >= 0x80;
			continue;
		}
		if (in_word) {
			in_word = 0;
			if (high) {
				w.end = i;
				w.linked = linked;
				text_mj_push(&v, &n, &cap, &w);
			}
			linked = high;
		}
		if (i == t->n || t->cp[i] < 0 || t->cp[i] >= 0x80)
			linked = 0;
	}
	*np = n;
	return v;
}

/*
 * Characters no mojibake decodes to but legitimate text encodes from:
 * capital Cyrillic and Ukrainian І give IPA, modifiers and archaic
 * letters ("ТІЛІ" gives "Ҳ˲", "СІ" gives "ѳ").
 */
static int
text_mj_is_rare(utf8proc_int32_t c)
{
	if (c >= 0x250 && c <= 0x2ff) /* IPA, spacing modifiers */
		return c != 0x259 && c != 0x2bb && c != 0x2bc; /* ə ʻ ʼ */
	return (c >= 0x370 && c <= 0x385) || /* archaic Greek */
	    (c >= 0x460 && c <= 0x48f);	     /* archaic Cyrillic */
}

static int
text_mj_range_cmp(const void *key, const void *elem)
{
	utf8proc_int32_t c = *(const utf8proc_int32_t *)key;
	const struct text_mj_range *r = elem;

	if (c < r->first)
		return -1;
	return c > r->last;
}

/* Roughly, the script of letter c: letters of one word share it. */
static int
text_mj_script(utf8proc_int32_t c)
{
	const struct text_mj_range *r;

	r = bsearch(&c, text_mj_scripts,
	    sizeof text_mj_scripts / sizeof text_mj_scripts[0],
	    sizeof text_mj_scripts[0], text_mj_range_cmp);
	return r != NULL ? r->script : 64 + (c >> 7);
}

static int
text_mj_is_letter(utf8proc_category_t cat)
{
	return cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO;
}

static int
text_mj_is_mark(utf8proc_category_t cat)
{
	return cat >= UTF8PROC_CATEGORY_MN && cat <= UTF8PROC_CATEGORY_ME;
}

static int
text_mj_is_symbol(utf8proc_category_t cat)
{
	return cat >= UTF8PROC_CATEGORY_SM && cat <= UTF8PROC_CATEGORY_SO;
}

/* Is c punctuation, a symbol or a space (beyond ASCII)? */
static int
text_mj_is_punct(utf8proc_int32_t c)
{
	utf8proc_category_t cat = utf8proc_category(c);

	return (cat >= UTF8PROC_CATEGORY_PC && cat <= UTF8PROC_CATEGORY_SO) ||
	    cat == UTF8PROC_CATEGORY_ZS;
}

/*
 * May decoded text hold c after prev? Controls, unassigned and
 * private-use characters, U+FFFD and rare letters say the decoding is
 * wrong, as does a combining mark with nothing to combine with.
 */
static int
text_mj_char_ok(utf8proc_int32_t c, utf8proc_int32_t prev)
{
	utf8proc_category_t cat = utf8proc_category(c), pcat;

	switch (cat) {
	case UTF8PROC_CATEGORY_CN:
	case UTF8PROC_CATEGORY_CC:
	case UTF8PROC_CATEGORY_CS:
	case UTF8PROC_CATEGORY_CO:
	case UTF8PROC_CATEGORY_ZL:
	case UTF8PROC_CATEGORY_ZP:
		return 0;
	default:
		break;
	}
	if (c == 0xfffd || text_mj_is_rare(c))
		return 0;
	if (!text_mj_is_mark(cat))
		return 1;
	if (prev < 0x80)
		return prev != -1 && text_mj_is_alnum(prev);
	pcat = utf8proc_category(prev);
	return text_mj_is_letter(pcat) || text_mj_is_mark(pcat) ||
	    (pcat >= UTF8PROC_CATEGORY_ND && pcat <= UTF8PROC_CATEGORY_NO) ||
	    text_mj_is_symbol(pcat);
}

static int
text_mj_cmp(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/* Can c end a word in legitimate text (a quote, a dash, a space)? */
static int
text_mj_is_trailer(utf8proc_int32_t c)
{
	uint16_t key = (uint16_t)c;

	if (c < 0 || c > 0xffff)
		return 0;
	return bsearch(&key, text_mj_trailers,
		   sizeof text_mj_trailers / sizeof text_mj_trailers[0],
		   sizeof text_mj_trailers[0], text_mj_cmp) != NULL;
}

/*
 * Is the one multi-byte character y noted a shape mojibake leaves and
 * text does not? Three and four bytes: punctuation ("â€™", "в„–") and
 * emoji ("ðŸ‘"). Two: Latin-1 letters and signs from "Â", "Ã", "Ä" and
 * "Å" ("Ã©", "Â°"), unless the second character can end a word ("IRMÃ»",
 * "PÅ”") and nothing says otherwise: a letter glued after it, or a small
 * letter or a sign with no capital before it.
 */
static int
text_mj_is_marker(
    const struct text_mj_text *t, int e, const struct text_mj_tally *y)
{
	utf8proc_category_t cat = utf8proc_category(y->c);
	utf8proc_int32_t lead = t->cp[y->at], second = t->cp[y->at + 1];
	utf8proc_int32_t prev = y->at > 0 ? t->cp[y->at - 1] : -1;
	utf8proc_int32_t next = t->cp[y->at + (size_t)y->nbytes];

	if (y->nbytes == 4)
		return text_mj_is_symbol(cat);
	if (y->nbytes == 3)
		return (text_mj_is_punct(y->c) ||
			   cat == UTF8PROC_CATEGORY_CF) &&
		    ((y->c >= 0x2000 && y->c <= 0x27bf) ||
			(y->c >= 0x2b00 && y->c <= 0x2bff) ||
			(y->c >= 0x3000 && y->c <= 0x303f) ||
			(y->c >= 0xff01 && y->c <= 0xff65));
	if (e == TEXT_MJ_CP1251 || lead < 0xc2 || lead > 0xc5)
		return 0;
	if (!text_mj_is_trailer(second))
		return 1;
	if (next > '9' && next < 0x80 && text_mj_is_alnum(next))
		return 1;
	return cat != UTF8PROC_CATEGORY_LU && !(prev >= 'A' && prev <= 'Z');
}

/*
 * Is c, two bytes that were WINDOWS-1251, evidence of mojibake? Capitals
 * before І, Ї, Є, Ё or Ў give such pairs in Ukrainian, Belarusian and
 * Kazakh ("ТІРІ" gives "Ҳв", "ВЎ" gives "¡"): only Р and С, which give
 * the common Cyrillic letters, count, and В and Г, which give Latin-1,
 * beside ASCII letters that make Latin text likely.
 */
static int
text_mj_cp1251_counts(utf8proc_int32_t c, int ascii_letters)
{
	if ((c >= 0x400 && c <= 0x45f) || c == 0x490 || c == 0x491)
		return 1;
	return ascii_letters && c >= 0xa0 && c <= 0xff;
}

/*
 * Add c, decoded from the n bytes of the characters from index i, to y.
 * Return -1 when it cannot be text.
 */
static int
text_mj_add(const struct text_mj_text *t, int e, size_t i, utf8proc_int32_t c,
    utf8proc_ssize_t n, struct text_mj_tally *y)
{
	utf8proc_int32_t prev;
	int s;

	if (y->decoded > 0 && y->last_end == i)
		prev = y->last;
	else
		prev = i > 0 ? t->cp[i - 1] : -1;
	if (!text_mj_char_ok(c, prev))
		return -1;
	if (text_mj_is_letter(utf8proc_category(c))) {
		s = text_mj_script(c);
		if (y->script != 0 && s != y->script)
			return -1;
		y->script = s;
	}
	y->decoded++;
	y->last = c;
	y->last_end = i + (size_t)n;
	if (e == TEXT_MJ_CP1251 && n == 2 &&
	    !text_mj_cp1251_counts(c, y->ascii_letters))
		return 0;
	y->evidence++;
	y->c = c;
	y->at = i;
	y->nbytes = n;
	return 0;
}

/*
 * Decode the characters i to j, a run beyond ASCII in the encoding, into
 * y. Punctuation no sequence can hold is marked to keep: continuation
 * bytes at the start, and all that is left where decoding fails. Return
 * -1 when the run is not UTF-8 otherwise, or cannot be text.
 */
static int
text_mj_run(
    struct text_mj_text *t, int e, size_t i, size_t j, struct text_mj_tally *y)
{
	utf8proc_int32_t c;
	utf8proc_ssize_t n;

	while (i < j && t->byte[i] < 0xc0 && text_mj_is_punct(t->cp[i]))
		t->keep[i++] = 1;
	for (; i < j; i += (size_t)n) {
		n = utf8proc_iterate(
		    t->byte + i, (utf8proc_ssize_t)(j - i), &c);
		if (n >= 1) {
			if (text_mj_add(t, e, i, c, n, y) == -1)
				return -1;
			continue;
		}
		for (size_t k = i; k < j; k++)
			if (!text_mj_is_punct(t->cp[k]))
				return -1;
		while (i < j)
			t->keep[i++] = 1;
		return 0;
	}
	return 0;
}

/*
 * Decode word w and judge it. Beside ASCII letters only Latin is
 * plausible; and WINDOWS-1251 gives Latin letters from Ukrainian
 * capitals ("ДІДІ" gives "ĲĲ"), so there Latin must stand beside ASCII
 * letters.
 */
static enum text_mj_verdict
text_mj_judge(struct text_mj_text *t, int e, const struct text_mj_word *w)
{
	struct text_mj_tally y = { 0 };
	size_t i, j;

	for (i = w->start; i < w->end; i++)
		if (t->cp[i] > '9' && text_mj_is_alnum(t->cp[i]))
			y.ascii_letters = 1;
	for (i = w->start; i < w->end; i = j) {
		for (j = i; j < w->end && t->byte[j] >= 0x80; j++)
			;
		if (j == i)
			j++;
		else if (text_mj_run(t, e, i, j, &y) == -1)
			return TEXT_MJ_BAD;
	}
	if (y.decoded == 0 || (y.script > 1 && y.ascii_letters) ||
	    (y.script == 1 && e == TEXT_MJ_CP1251 && !y.ascii_letters))
		return TEXT_MJ_BAD;
	if (y.evidence >= 2 || (y.evidence == 1 && text_mj_is_marker(t, e, &y)))
		return TEXT_MJ_STRONG;
	return TEXT_MJ_WEAK;
}

/*
 * Let each strong word make its weak neighbours strong, through linked
 * words and up to a bad one. Return the number of strong words.
 */
static size_t
text_mj_spread(struct text_mj_word *v, size_t n)
{
	size_t strong = 0;

	for (size_t i = 1; i < n; i++)
		if (v[i].linked && v[i].verdict == TEXT_MJ_WEAK &&
		    v[i - 1].verdict == TEXT_MJ_STRONG)
			v[i].verdict = TEXT_MJ_STRONG;
	for (size_t i = n; i-- > 1;)
		if (v[i].linked && v[i - 1].verdict == TEXT_MJ_WEAK &&
		    v[i].verdict == TEXT_MJ_STRONG)
			v[i - 1].verdict = TEXT_MJ_STRONG;
	for (size_t i = 0; i < n; i++)
		strong += v[i].verdict == TEXT_MJ_STRONG;
	return strong;
}

/* Return the text with its strong words decoded. Caller frees. */
static char *
text_mj_rebuild(
    const struct text_mj_text *t, const struct text_mj_word *v, size_t n)
{
	char *out = xmalloc(t->off[t->n] + 1);
	size_t o = 0, from = 0, len;

	for (size_t i = 0; i <= n; i++) {
		if (i < n && v[i].verdict != TEXT_MJ_STRONG)
			continue;
		len = t->off[i < n ? v[i].start : t->n] - t->off[from];
		memcpy(out + o, t->s + t->off[from], len);
		o += len;
		if (i == n)
			break;
		for (size_t k = v[i].start; k < v[i].end; k++) {
			if (t->byte[k] >= 0x80 && !t->keep[k]) {
				out[o++] = (char)t->byte[k];
				continue;
			}
			len = t->off[k + 1] - t->off[k];
			memcpy(out + o, t->s + t->off[k], len);
			o += len;
		}
		from = v[i].end;
	}
	out[o] = '\0';
	return out;
}

/* Undo encoding e in s: a new string, or NULL when nothing changed. */
static char *
text_mj_pass(const char *s, int e)
{
	struct text_mj_text t;
	struct text_mj_word *v;
	char *out = NULL;
	size_t n;

	text_mj_load(&t, s, e);
	v = text_mj_words(&t, &n);
	for (size_t i = 0; i < n; i++)
		v[i].verdict = text_mj_judge(&t, e, &v[i]);
	if (n > 0 && text_mj_spread(v, n) > 0)
		out = text_mj_rebuild(&t, v, n);
	free(v);
	text_mj_clear(&t);
	return out;
}

/* The windows-1252 character of a C1 control at p ("\xc2\x80".."\xc2\x9f"), or
 * 0. */
static unsigned int
text_c1_at(const char *p)
{
	if ((unsigned char)p[0] != 0xc2)
		return 0;
	return repair_cp1252((unsigned char)p[1]);
}

char *
text_map_c1(const char *s)
{
	const char *p, *from;
	char *out, *o;
	unsigned int cp;

	for (p = strchr(s, '\xc2'); p != NULL && text_c1_at(p) == 0;
	     p = strchr(p + 1, '\xc2'))
		;
	if (p == NULL)
		return NULL;
	/* Two bytes become at most three. */
	out = xmalloc(strlen(s) / 2 * 3 + 2);
	o = out;
	for (from = s; *p != '\0'; p++) {
		if ((cp = text_c1_at(p)) == 0)
			continue;
		memcpy(o, from, (size_t)(p - from));
		o += p - from;
		o += utf8proc_encode_char(
		    (utf8proc_int32_t)cp, (utf8proc_uint8_t *)o);
		from = ++p + 1;
	}
	strcpy(o, from);
	return out;
}

char *
text_repair_mojibake(const char *s)
{
	char *cur = NULL, *next;
	int changed;

	if (!text_mj_maybe(s))
		return NULL;
	for (int round = 0; round < TEXT_MJ_ROUNDS; round++) {
		if (!text_mj_suspect(cur != NULL ? cur : s))
			break;
		changed = 0;
		for (int e = 0; e < TEXT_MJ_NENC; e++) {
			next = text_mj_pass(cur != NULL ? cur : s, e);
			if (next != NULL) {
				free(cur);
				cur = next;
				changed = 1;
			}
		}
		if (!changed)
			break;
	}
	return cur;
}
