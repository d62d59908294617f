#ifndef FEEDWATCH_TEXT_H
#define FEEDWATCH_TEXT_H

#include <stddef.h>

/*
 * Text for matching: HTML to plain text (libxml2's HTML parser), plain
 * text to normalised, case-folded tokens (utf8proc), and mojibake back
 * to the text it was.
 */

/* A token of plain text: its folded form and where it stands. */
struct text_token {
	size_t fold; /* offset of the folded token in text_tokens.folded */
	size_t foldlen;
	size_t start; /* byte offsets in the plain text */
	size_t end;
};

/*
 * Past foldedlen, folded always holds TEXT_FOLDED_PAD more bytes, set
 * but of no meaning: a token can be read a word at a time.
 */
#define TEXT_FOLDED_PAD 8 /* bytes */

struct text_tokens {
	struct text_token *v;
	size_t n;
	size_t cap;
	char *folded; /* the folded tokens, each NUL-terminated */
	size_t foldedlen;
	size_t foldedcap;
};

/* Options for text_tokenize(). */
#define TEXT_KEEP_ACCENTS 0x1

/*
 * Turn HTML (or text that may hold markup and entities) into plain text
 * with single spaces; scripts and styles are dropped and block elements
 * become spaces; a numeric reference to the C1 range (&#146;) is the
 * WINDOWS-1252 character a browser shows. Return a new string the caller
 * frees. Cannot fail.
 */
char *text_from_html(const char *html);
/* Collapse runs of white space to one space and trim. Caller frees. */
char *text_squeeze(const char *s);
/*
 * Split UTF-8 text into tokens (runs of letters, digits and marks),
 * each NFKD-normalised and case-folded, accents stripped unless
 * TEXT_KEEP_ACCENTS. Appends to t; invalid UTF-8 separates tokens.
 */
void text_tokenize(struct text_tokens *t, const char *s, size_t len, int flags);
/* Folded form of token i, NUL-terminated; inline, for the matcher's loop. */
static inline const char *
text_token_str(const struct text_tokens *t, size_t i)
{
	return t->folded + t->v[i].fold;
}
/* Release what a text_tokens holds and zero it; accepts an empty one. */
void text_tokens_clear(struct text_tokens *t);
/*
 * Repair classic mojibake in UTF-8 text: UTF-8 that was decoded as
 * WINDOWS-1251, WINDOWS-1252 or ISO-8859-1 and encoded again
 * ("РєР°РЅР°Р»" for "канал", "Ã©tÃ©" for "été", "â€™" for "’").
 * Return a new string with each repairable run fixed, or NULL when
 * nothing was repaired (the text is then left as it is). Correct text is
 * never changed.
 */
char *text_repair_mojibake(const char *s);

/*
 * Map each C1 control of s (U+0080 to U+009F) to the windows-1252
 * character of that byte ("\u0093" to a left double quote). They are
 * windows-1252 text read as ISO-8859-1, the label such feeds declare.
 * The five bytes windows-1252 leaves undefined stay as they are.
 * Return a new string, or NULL when s holds none to map.
 */
char *text_map_c1(const char *s);

#endif
