#ifndef FEEDWATCH_CHARSET_H
#define FEEDWATCH_CHARSET_H

#include <stddef.h>

/*
 * Character encodings of feed documents: which one a document is in
 * (byte order mark, HTTP charset, XML declaration, a user's override,
 * and a guess from its letters when all fail), and a streaming
 * conversion of it to UTF-8 with iconv.
 */

/* Where an encoding name came from, strongest first. */
enum charset_source {
	CHARSET_OVERRIDE, /* the user's encoding = */
	CHARSET_BOM,
	CHARSET_HTTP,	  /* charset= of the Content-Type */
	CHARSET_XML_DECL, /* <?xml ... encoding="..."?> */
	CHARSET_DETECTED, /* UTF-16/32 told by the bytes of "<?" */
	CHARSET_DEFAULT,  /* UTF-8 */
	CHARSET_FALLBACK, /* the others failed to decode */
};

#define CHARSET_MAX_CANDIDATES 8
#define CHARSET_SNIFF_BYTES 1024 /* bytes charset_sniff wants to see */

struct charset_candidate {
	char name[48]; /* iconv's name, e.g. "WINDOWS-1251" */
	enum charset_source source;
};

/* The encodings to try for a document, in order. */
struct charset_guess {
	struct charset_candidate v[CHARSET_MAX_CANDIDATES];
	int n;
	size_t bom_len;	 /* bytes of byte order mark to skip */
	int is_xml_type; /* the Content-Type is an XML one (or absent) */
	char *warning;	 /* e.g. HTTP charset and XML declaration differ */
};

struct charset_conv;

/*
 * Decide from the first bytes of a document (head, up to
 * CHARSET_SNIFF_BYTES of them), its HTTP Content-Type (may be NULL) and
 * the user's override (may be NULL) which encodings to try, in order:
 * the override, a BOM, the HTTP charset, the XML declaration, UTF-16/32
 * told by the bytes, UTF-8, then WINDOWS-1252 and ISO-8859-1 as
 * fallbacks. Fills *g; free its warning with charset_guess_clear.
 */
void charset_sniff(const char *head, size_t len, const char *content_type,
    const char *override, struct charset_guess *g);
void charset_guess_clear(struct charset_guess *g);
/* Return 1 when iconv knows the name, 0 when not. */
int charset_is_known(const char *name);
/* Return 1 when the len bytes are valid UTF-8, 0 when not. */
int charset_is_utf8(const char *s, size_t len);
/* Return how many of the len bytes of s, from its start, are. */
size_t charset_utf8_valid(const char *s, size_t len);
/*
 * Copy the string src into dst (size bytes, at least 1) as valid UTF-8:
 * each byte that starts no valid sequence becomes '?', and a character
 * that does not fit is left out whole; dst may be src. Return the
 * bytes written, the NUL left out. Cannot fail.
 */
size_t charset_utf8_copy(char *dst, size_t size, const char *src);

#define CHARSET_GUESS_BYTES 65536 /* bytes charset_guess_cyrillic reads */

/*
 * Guess the single-byte Cyrillic encoding of text that declares none
 * and is not UTF-8 (the first CHARSET_GUESS_BYTES of it are enough):
 * KOI8-R, WINDOWS-1251, ISO-8859-5 or CP866, whichever reads most like
 * Russian by its letter frequencies. Return iconv's name (static), or
 * NULL when no reading is clearly Cyrillic and clearly the best: the
 * text is then not Cyrillic, or too short to tell. Cannot fail.
 */
const char *charset_guess_cyrillic(const char *s, size_t len);

/* Return a converter from encoding to UTF-8, or NULL (unknown name). */
struct charset_conv *charset_conv_new(const char *encoding);
void charset_conv_free(struct charset_conv *);
/*
 * Convert len bytes (a piece of the document; last is set for the final
 * piece) and append the UTF-8 to *out (grown with xreallocarray; *outlen
 * and *outcap track it). A sequence cut at the end of a piece is kept
 * for the next. Return 0, or -1 at the first byte sequence that is not
 * valid in the encoding (or one left unfinished at the end). out may be
 * NULL to only check the text. After the last piece, or -1, the
 * converter is ready for another document.
 */
int charset_conv_push(struct charset_conv *, const char *in, size_t len,
    int last, char **out, size_t *outlen, size_t *outcap);

#endif
