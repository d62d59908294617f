#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "charset.h"
#include "xmalloc.h"

/*
 * Character encodings: charset_sniff lists the encodings a document may be
 * in (RFC 7303 with feedparser's fallbacks), charset_guess_cyrillic tells
 * which Cyrillic one an undeclared document is in; charset_conv turns it
 * into UTF-8, through iconv or, for UTF-8 and US-ASCII, a validating copy.
 */

#define CHARSET_NAME_MAX 48	/* bytes, = sizeof candidate name */
#define CHARSET_DECL_MAX 512	/* characters of the head read as ASCII */
#define CHARSET_CONV_PENDING 16 /* bytes: more than any cut sequence */
#define CHARSET_WIDER_MAX 4	/* candidates; no superset after more */
#define CHARSET_ASCII_MASK 0x8080808080808080ULL

/*
 * charset_guess_cyrillic scores each byte above 0x7f in centinats (1/100
 * of a natural logarithm): a Russian letter by its share of Russian
 * text, another Cyrillic letter (Ukrainian's і, ї, є, ...) at 0.5%,
 * punctuation and other symbols at 1%, and what no Cyrillic text holds
 * (C1 controls, box drawing, undefined bytes) at 0.05%. A no-break
 * space does not count.
 */
#define CHARSET_CYR_OTHER (-530)    /* centinats: ln 0.005 */
#define CHARSET_CYR_SYMBOL (-460)   /* centinats: ln 0.01 */
#define CHARSET_CYR_BAD (-760)	    /* centinats: ln 0.0005 */
#define CHARSET_CYR_SKIP 1	    /* a byte that does not count */
#define CHARSET_CYR_FLIP (-700)	    /* centinats: "аБ", see the scoring */
#define CHARSET_CYR_MIN_LETTERS 6   /* fewer tell nothing */
#define CHARSET_CYR_MIN_MEAN (-380) /* centinats per byte; Russian: -310 */
#define CHARSET_CYR_MIN_LEAD 500    /* centinats over the runner-up */

/* A name an encoding goes by, and what iconv calls it. */
struct charset_alias {
	const char *key;   /* lower case, letters and digits only */
	const char *name;  /* iconv's name */
	const char *wider; /* a superset to try next, or NULL */
};

/*
 * Sorted by key, for bsearch. Names declared for CJK encodings are often
 * the vendor's superset in practice (glibc's SHIFT_JIS refuses NEC's
 * circled digits that every Japanese site uses): the superset is tried
 * next. GB2312 is read as GB18030 (as feedparser does) and EUC-KR as CP949
 * (as browsers do), as glibc's EUC-KR silently turns UHC bytes into C1
 * controls.
 */
static const struct charset_alias charset_aliases[] = {
	{ "ansix341968", "US-ASCII", NULL },
	{ "ascii", "US-ASCII", NULL },
	{ "big5", "BIG5", "BIG5-HKSCS" },
	{ "big5hkscs", "BIG5-HKSCS", NULL },
	{ "cnbig5", "BIG5", "BIG5-HKSCS" },
	{ "cp1250", "WINDOWS-1250", NULL },
	{ "cp1251", "WINDOWS-1251", NULL },
	{ "cp1252", "WINDOWS-1252", NULL },
	{ "cp1253", "WINDOWS-1253", NULL },
	{ "cp1254", "WINDOWS-1254", NULL },
	{ "cp1255", "WINDOWS-1255", NULL },
	{ "cp1256", "WINDOWS-1256", NULL },
	{ "cp1257", "WINDOWS-1257", NULL },
	{ "cp1258", "WINDOWS-1258", NULL },
	{ "cp367", "US-ASCII", NULL },
	{ "cp819", "ISO-8859-1", NULL },
	{ "cp866", "CP866", NULL },
	{ "cp874", "CP874", NULL },
	{ "cp932", "CP932", NULL },
	{ "cp936", "GBK", "GB18030" },
	{ "cp949", "CP949", NULL },
	{ "cp950", "CP950", NULL },
	{ "csascii", "US-ASCII", NULL },
	{ "csbig5", "BIG5", "BIG5-HKSCS" },
	{ "cseuckr", "CP949", NULL },
	{ "cseucpkdfmtjapanese", "EUC-JP", "EUC-JP-MS" },
	{ "csgb2312", "GB18030", NULL },
	{ "csibm866", "CP866", NULL },
	{ "csiso2022jp", "ISO-2022-JP", NULL },
	{ "csisolatin1", "ISO-8859-1", NULL },
	{ "cskoi8r", "KOI8-R", NULL },
	{ "csshiftjis", "SHIFT_JIS", "CP932" },
	{ "csucs4", "UTF-32", NULL },
	{ "csunicode", "UTF-16", NULL },
	{ "cyrillic", "ISO-8859-5", NULL },
	{ "euccn", "GB18030", NULL },
	{ "eucjp", "EUC-JP", "EUC-JP-MS" },
	{ "euckr", "CP949", NULL },
	{ "gb18030", "GB18030", NULL },
	{ "gb2312", "GB18030", NULL },
	{ "gb231280", "GB18030", NULL },
	{ "gbk", "GBK", "GB18030" },
	{ "greek", "ISO-8859-7", NULL },
	{ "hebrew", "ISO-8859-8", NULL },
	{ "ibm367", "US-ASCII", NULL },
	{ "ibm819", "ISO-8859-1", NULL },
	{ "ibm866", "CP866", NULL },
	{ "iso10646ucs2", "UTF-16", NULL },
	{ "iso10646ucs4", "UTF-32", NULL },
	{ "iso2022jp", "ISO-2022-JP", NULL },
	{ "iso646us", "US-ASCII", NULL },
	{ "iso88591", "ISO-8859-1", NULL },
	{ "iso885910", "ISO-8859-10", NULL },
	{ "iso885911", "ISO-8859-11", NULL },
	{ "iso885911987", "ISO-8859-1", NULL },
	{ "iso885913", "ISO-8859-13", NULL },
	{ "iso885914", "ISO-8859-14", NULL },
	{ "iso885915", "ISO-8859-15", NULL },
	{ "iso885916", "ISO-8859-16", NULL },
	{ "iso88592", "ISO-8859-2", NULL },
	{ "iso88593", "ISO-8859-3", NULL },
	{ "iso88594", "ISO-8859-4", NULL },
	{ "iso88595", "ISO-8859-5", NULL },
	{ "iso88596", "ISO-8859-6", NULL },
	{ "iso88597", "ISO-8859-7", NULL },
	{ "iso88598", "ISO-8859-8", NULL },
	{ "iso88598i", "ISO-8859-8", NULL },
	{ "iso88599", "ISO-8859-9", NULL },
	{ "koi8", "KOI8-R", NULL },
	{ "koi8r", "KOI8-R", NULL },
	{ "koi8ru", "KOI8-RU", NULL },
	{ "koi8u", "KOI8-U", NULL },
	{ "korean", "CP949", NULL },
	{ "ksc5601", "CP949", NULL },
	{ "ksc56011987", "CP949", NULL },
	{ "l1", "ISO-8859-1", NULL },
	{ "l2", "ISO-8859-2", NULL },
	{ "l3", "ISO-8859-3", NULL },
	{ "l4", "ISO-8859-4", NULL },
	{ "l5", "ISO-8859-9", NULL },
	{ "l6", "ISO-8859-10", NULL },
	{ "l9", "ISO-8859-15", NULL },
	{ "latin1", "ISO-8859-1", NULL },
	{ "latin10", "ISO-8859-16", NULL },
	{ "latin2", "ISO-8859-2", NULL },
	{ "latin3", "ISO-8859-3", NULL },
	{ "latin4", "ISO-8859-4", NULL },
	{ "latin5", "ISO-8859-9", NULL },
	{ "latin6", "ISO-8859-10", NULL },
	{ "latin7", "ISO-8859-13", NULL },
	{ "latin8", "ISO-8859-14", NULL },
	{ "latin9", "ISO-8859-15", NULL },
	{ "mac", "MACINTOSH", NULL },
	{ "macintosh", "MACINTOSH", NULL },
	{ "macroman", "MACINTOSH", NULL },
	{ "mskanji", "SHIFT_JIS", "CP932" },
	{ "shiftjis", "SHIFT_JIS", "CP932" },
	{ "sjis", "SHIFT_JIS", "CP932" },
	{ "tis620", "TIS-620", NULL },
	{ "u16", "UTF-16", NULL },
	{ "u32", "UTF-32", NULL },
	{ "ucs2", "UTF-16", NULL },
	{ "ucs4", "UTF-32", NULL },
	{ "uhc", "CP949", NULL },
	{ "unicode11utf8", "UTF-8", NULL },
	{ "usascii", "US-ASCII", NULL },
	{ "utf16", "UTF-16", NULL },
	{ "utf16be", "UTF-16BE", NULL },
	{ "utf16le", "UTF-16LE", NULL },
	{ "utf32", "UTF-32", NULL },
	{ "utf32be", "UTF-32BE", NULL },
	{ "utf32le", "UTF-32LE", NULL },
	{ "utf8", "UTF-8", NULL },
	{ "windows1250", "WINDOWS-1250", NULL },
	{ "windows1251", "WINDOWS-1251", NULL },
	{ "windows1252", "WINDOWS-1252", NULL },
	{ "windows1253", "WINDOWS-1253", NULL },
	{ "windows1254", "WINDOWS-1254", NULL },
	{ "windows1255", "WINDOWS-1255", NULL },
	{ "windows1256", "WINDOWS-1256", NULL },
	{ "windows1257", "WINDOWS-1257", NULL },
	{ "windows1258", "WINDOWS-1258", NULL },
	{ "windows31j", "CP932", NULL },
	{ "windows874", "CP874", NULL },
	{ "windows936", "GBK", "GB18030" },
	{ "windows949", "CP949", NULL },
	{ "xcp1250", "WINDOWS-1250", NULL },
	{ "xcp1251", "WINDOWS-1251", NULL },
	{ "xcp1252", "WINDOWS-1252", NULL },
	{ "xcp1253", "WINDOWS-1253", NULL },
	{ "xcp1254", "WINDOWS-1254", NULL },
	{ "xcp1255", "WINDOWS-1255", NULL },
	{ "xcp1256", "WINDOWS-1256", NULL },
	{ "xcp1257", "WINDOWS-1257", NULL },
	{ "xcp1258", "WINDOWS-1258", NULL },
	{ "xeucjp", "EUC-JP", "EUC-JP-MS" },
	{ "xgbk", "GBK", "GB18030" },
	{ "xmacroman", "MACINTOSH", NULL },
	{ "xsjis", "SHIFT_JIS", "CP932" },
	{ "xxbig5", "BIG5", "BIG5-HKSCS" },
};

/*
 * ln of each letter's share of Russian text, in centinats, а to я then
 * ё (per cent: о 10.97, е 8.45, а 8.01, и 7.35, н 6.70, т 6.26, с 5.47,
 * р 4.73, в 4.54, л 4.40, к 3.49, м 3.21, д 2.98, п 2.81, у 2.62, я 2.01,
 * ы 1.90, ь 1.74, г 1.70, з 1.65, б 1.59, ч 1.44, й 1.21, х 0.97, ж 0.94,
 * ш 0.73, ю 0.64, ц 0.48, щ 0.36, э 0.32, ф 0.26, ъ and ё 0.04).
 */
static const short charset_ru_letters[33] = { -252, -414, -309, -407, -351,
	-247, -467, -410, -261, -441, -336, -312, -344, -270, -221, -357, -305,
	-291, -277, -364, -595, -464, -534, -424, -492, -563, -782, -396, -405,
	-574, -505, -391, -782 };

/* The encodings charset_guess_cyrillic weighs, by iconv's names. */
static const char *const charset_cyrillic[] = {
	"KOI8-R",
	"WINDOWS-1251",
	"ISO-8859-5",
	"CP866",
};

/* How one encoding reads one byte (charset_guess_cyrillic). */
struct charset_cyr_byte {
	short weight;		 /* centinats, or CHARSET_CYR_SKIP */
	unsigned char is_letter; /* Cyrillic */
	unsigned char is_upper;
};

/* How one encoding's reading of text scores (charset_guess_cyrillic). */
struct charset_cyr_score {
	long sum; /* centinats */
	size_t n; /* bytes that count */
	size_t nletters;
	size_t nmixed; /* letters next to a Latin one, as in "cafщ" */
};

/* Byte order marks, UTF-32LE's before UTF-16LE's, which it starts with. */
static const struct charset_bom {
	const char *bytes;
	size_t len;
	const char *name;
	int width; /* bytes per ASCII character */
	int is_big_endian;
} charset_boms[] = {
	{ "\x00\x00\xfe\xff", 4, "UTF-32BE", 4, 1 },
	{ "\xff\xfe\x00\x00", 4, "UTF-32LE", 4, 0 },
	{ "\xef\xbb\xbf", 3, "UTF-8", 1, 0 },
	{ "\xfe\xff", 2, "UTF-16BE", 2, 1 },
	{ "\xff\xfe", 2, "UTF-16LE", 2, 0 },
};

/* Media types that carry XML (or JSON Feed), besides any +xml. Sorted. */
static const char *charset_xml_types[] = {
	"application/feed+json",
	"application/json",
	"application/xml",
	"application/xml-dtd",
	"application/xml-external-parsed-entity",
	"text/xml",
	"text/xml-external-parsed-entity",
};

/* What the first bytes of a document say about its encoding. */
struct charset_head {
	const char *name; /* from a BOM or the bytes, or NULL */
	enum charset_source source;
	size_t bom_len;
	int width; /* bytes per ASCII character: 1, 2 or 4 */
	int is_big_endian;
	int is_8bit; /* its first bytes hold no NUL: not UTF-16/32 */
};

/* An encoding named by the HTTP header or the XML declaration. */
struct charset_declared {
	char raw[CHARSET_NAME_MAX];  /* as written, for messages */
	char name[CHARSET_NAME_MAX]; /* iconv's name */
	const char *wider;	     /* a superset to try next, or NULL */
	int is_kept;		     /* made it into the candidates */
};

enum charset_conv_kind {
	CHARSET_CONV_ICONV,
	CHARSET_CONV_UTF8,  /* validated and copied */
	CHARSET_CONV_ASCII, /* validated and copied */
};

struct charset_conv {
	enum charset_conv_kind kind;
	iconv_t cd; /* CHARSET_CONV_ICONV only */
	unsigned char pending[CHARSET_CONV_PENDING];
	size_t npending; /* bytes of a sequence cut at a piece's end */
	char *scratch;	 /* output of a check that keeps none */
	size_t scratchcap;
};

static void charset_warn(struct charset_guess *, const char *, ...)
    __attribute__((__format__(__printf__, 2, 3)));
static const struct charset_alias *charset_alias_find(const char *);
static int charset_canon(const char *, char *, size_t, const char **);
static int charset_iconv_has(const char *);
static int charset_family(const char *);
static void charset_add(
    struct charset_guess *, const char *, enum charset_source);
static void charset_add_wider(
    struct charset_guess *, const char *, const char *, enum charset_source);
static void charset_sniff_head(
    const unsigned char *, size_t, struct charset_head *);
static int charset_is_start(unsigned char);
static void charset_copy_raw(char *, size_t, const char *, size_t);
static int charset_is_xml_type(const char *, size_t);
static const char *charset_param_value(const char *, char *, size_t);
static void charset_content_type(const char *, int *, char *, size_t);
static size_t charset_head_ascii(
    const unsigned char *, size_t, const struct charset_head *, char *, size_t);
static void charset_xml_decl(
    const unsigned char *, size_t, const struct charset_head *, char *, size_t);
static void charset_declare(struct charset_guess *, const struct charset_head *,
    struct charset_declared *, enum charset_source, const char *);
static const unsigned char *charset_utf8_scan(
    const unsigned char *, const unsigned char *);
static size_t charset_utf8_len(unsigned char);
static int charset_utf8_is_prefix(const unsigned char *, size_t);
static void charset_reserve(char **, size_t *, size_t *, size_t);
static void charset_emit(
    const unsigned char *, size_t, char **, size_t *, size_t *);
static int charset_push_utf8(struct charset_conv *, const unsigned char *,
    size_t, int, char **, size_t *, size_t *);
static int charset_push_ascii(
    const unsigned char *, size_t, char **, size_t *, size_t *);
static int charset_iconv_run(
    struct charset_conv *, char **, size_t *, char **, size_t *, size_t *);
static int charset_push_iconv(struct charset_conv *, const char *, size_t, int,
    char **, size_t *, size_t *);
static void charset_conv_reset(struct charset_conv *);
static void charset_cyr_weigh(
    iconv_t, unsigned char, struct charset_cyr_byte *);
static void charset_cyr_table(const char *, struct charset_cyr_byte *);
static void charset_cyr_score(const unsigned char *, size_t,
    const struct charset_cyr_byte *, struct charset_cyr_score *);

/*
 * Sniffing, the order of the candidates:
 *
 *	override	the user knows best; skipped if iconv does not know it
 *	BOM		RFC 7303 section 3: stronger than any label
 *	HTTP charset	RFC 7303: stronger than the XML declaration
 *	XML declaration
 *	detected	UTF-16/32 told by the bytes of "<" without a BOM
 *	UTF-8		the XML default
 *	WINDOWS-1252, ISO-8859-1
 *			what mislabelled feeds most often are; ISO-8859-1
 *			decodes anything, so some candidate always wins
 *
 * RFC 3023 made us-ascii the default of text/xml without a charset, and
 * feedparser still does; RFC 7303 dropped that, and so do we: such a
 * document is read by its XML declaration, then as UTF-8.
 */
void
charset_sniff(const char *head, size_t len, const char *content_type,
    const char *override, struct charset_guess *g)
{
	const unsigned char *p = (const unsigned char *)head;
	struct charset_head h;
	struct charset_declared http, xml;
	char name[CHARSET_NAME_MAX], cs[CHARSET_NAME_MAX] = "";
	const char *wider;
	char decl[CHARSET_NAME_MAX] = "";

	memset(g, 0, sizeof *g);
	memset(&http, 0, sizeof http);
	memset(&xml, 0, sizeof xml);
	if (len == 0)
		p = (const unsigned char *)"";
	charset_sniff_head(p, len, &h);
	g->bom_len = h.bom_len;
	charset_content_type(content_type, &g->is_xml_type, cs, sizeof cs);
	charset_xml_decl(p + h.bom_len, len - h.bom_len, &h, decl, sizeof decl);

	if (override != NULL && *override != '\0') {
		if (charset_canon(override, name, sizeof name, &wider) == -1)
			charset_warn(g,
			    "unknown encoding %s in the override, ignored",
			    override);
		else
			charset_add_wider(g, name, wider, CHARSET_OVERRIDE);
	}
	if (h.name != NULL && h.source == CHARSET_BOM)
		charset_add(g, h.name, CHARSET_BOM);
	charset_copy_raw(http.raw, sizeof http.raw, cs, strlen(cs));
	charset_declare(g, &h, &http, CHARSET_HTTP, "the HTTP charset");
	charset_copy_raw(xml.raw, sizeof xml.raw, decl, strlen(decl));
	charset_declare(g, &h, &xml, CHARSET_XML_DECL, "the XML declaration");
	if (http.is_kept && xml.is_kept && strcmp(http.name, xml.name) != 0)
		charset_warn(g,
		    "HTTP charset %s overrides the XML declaration's %s",
		    http.raw, xml.raw);
	if (h.name != NULL && h.source == CHARSET_DETECTED)
		charset_add(g, h.name, CHARSET_DETECTED);
	charset_add(g, "UTF-8", CHARSET_DEFAULT);
	charset_add(g, "WINDOWS-1252", CHARSET_FALLBACK);
	charset_add(g, "ISO-8859-1", CHARSET_FALLBACK);
}

/* Free what charset_sniff allocated in *g. Cannot fail. */
void
charset_guess_clear(struct charset_guess *g)
{
	free(g->warning);
	g->warning = NULL;
}

/* Return 1 when iconv knows the name (or an alias of it), 0 when not. */
int
charset_is_known(const char *name)
{
	char canon[CHARSET_NAME_MAX];

	return charset_canon(name, canon, sizeof canon, NULL) == 0;
}

/*
 * Return 1 when the len bytes are valid UTF-8 (no overlong forms, no
 * surrogates, nothing above U+10FFFF), 0 when not. Cannot fail.
 */
int
charset_is_utf8(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;

	if (len == 0)
		return 1;
	return charset_utf8_scan(p, p + len) == p + len;
}

size_t
charset_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;

	return (size_t)(charset_utf8_scan(p, p + len) - p);
}

size_t
charset_utf8_copy(char *dst, size_t size, const char *src)
{
	const unsigned char *p = (const unsigned char *)src, *end, *ok;
	size_t n = 0, run;

	end = p + strlen(src);
	while (p < end && n + 1 < size) {
		ok = charset_utf8_scan(p, end);
		run = (size_t)(ok - p);
		if (run > size - 1 - n) {
			/* Cut before the first byte of a character. */
			run = size - 1 - n;
			while (run > 0 && (p[run] & 0xc0) == 0x80)
				run--;
			memmove(dst + n, p, run);
			n += run;
			break;
		}
		memmove(dst + n, p, run);
		n += run;
		p = ok;
		if (p < end && n + 1 < size) {
			dst[n++] = '?';
			p++;
		}
	}
	dst[n] = '\0';
	return n;
}

/*
 * Weigh each candidate's reading of the high bytes and keep the best,
 * when it is Cyrillic enough (mean score, letters, few Latin
 * neighbours) and far enough ahead of the next: a KOI8-R text read as
 * WINDOWS-1251 is Cyrillic too, but its letters are the wrong ones.
 */
const char *
charset_guess_cyrillic(const char *s, size_t len)
{
	const size_t ncand =
	    sizeof charset_cyrillic / sizeof charset_cyrillic[0];
	struct charset_cyr_score
	    sc[sizeof charset_cyrillic / sizeof charset_cyrillic[0]];
	struct charset_cyr_byte table[128];
	size_t best = 0, next = 1;

	if (len > CHARSET_GUESS_BYTES)
		len = CHARSET_GUESS_BYTES;
	for (size_t i = 0; i < ncand; i++) {
		charset_cyr_table(charset_cyrillic[i], table);
		charset_cyr_score((const unsigned char *)s, len, table, &sc[i]);
		/* A reading in which no byte counts says nothing. */
		if (sc[i].n == 0)
			sc[i].sum = LONG_MIN / 2;
	}
	for (size_t i = 1; i < ncand; i++) {
		if (sc[i].sum > sc[best].sum) {
			next = best;
			best = i;
		} else if (i != next && sc[i].sum > sc[next].sum)
			next = i;
	}
	if (sc[best].nletters < CHARSET_CYR_MIN_LETTERS ||
	    sc[best].nmixed * 10 > sc[best].nletters ||
	    sc[best].sum < CHARSET_CYR_MIN_MEAN * (long)sc[best].n ||
	    sc[best].sum - sc[next].sum < CHARSET_CYR_MIN_LEAD)
		return NULL;
	return charset_cyrillic[best];
}

/*
 * Return a converter from encoding (any name charset_is_known takes) to
 * UTF-8, to be freed with charset_conv_free, or NULL when the name is
 * unknown.
 */
struct charset_conv *
charset_conv_new(const char *encoding)
{
	struct charset_conv *cv;
	char name[CHARSET_NAME_MAX];
	iconv_t cd = (iconv_t)-1;

	if (charset_canon(encoding, name, sizeof name, NULL) == -1)
		return NULL;
	cv = xcalloc(1, sizeof *cv);
	if (strcmp(name, "UTF-8") == 0)
		cv->kind = CHARSET_CONV_UTF8;
	else if (strcmp(name, "US-ASCII") == 0)
		cv->kind = CHARSET_CONV_ASCII;
	else if ((cd = iconv_open("UTF-8", name)) == (iconv_t)-1) {
		free(cv);
		return NULL;
	} else
		cv->kind = CHARSET_CONV_ICONV;
	cv->cd = cd;
	return cv;
}

/* Free a converter; NULL is allowed. Cannot fail. */
void
charset_conv_free(struct charset_conv *cv)
{
	if (cv == NULL)
		return;
	if (cv->kind == CHARSET_CONV_ICONV)
		iconv_close(cv->cd);
	free(cv->scratch);
	free(cv);
}

/*
 * Convert a piece of the document, as charset.h says. out may be NULL to
 * only check the text (outlen and outcap are then unused). On -1, *out
 * holds what was converted before the bad sequence. After the last piece
 * or an error, the converter is ready for a new document.
 */
int
charset_conv_push(struct charset_conv *cv, const char *in, size_t len, int last,
    char **out, size_t *outlen, size_t *outcap)
{
	const unsigned char *p = (const unsigned char *)in;
	int rc;

	if (len == 0)
		p = (const unsigned char *)"";
	switch (cv->kind) {
	case CHARSET_CONV_UTF8:
		rc = charset_push_utf8(cv, p, len, last, out, outlen, outcap);
		break;
	case CHARSET_CONV_ASCII:
		rc = charset_push_ascii(p, len, out, outlen, outcap);
		break;
	default:
		rc = charset_push_iconv(
		    cv, (const char *)p, len, last, out, outlen, outcap);
		break;
	}
	if (rc == -1 || last)
		charset_conv_reset(cv);
	return rc;
}

/* Add a message to g->warning, after any there already. */
static void
charset_warn(struct charset_guess *g, const char *fmt, ...)
{
	char buf[256], *old = g->warning;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (old == NULL)
		g->warning = xstrdup(buf);
	else {
		xasprintf(&g->warning, "%s; %s", old, buf);
		free(old);
	}
}

static int
charset_alias_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct charset_alias *)elem)->key);
}

/* Look a name up loosely: "UTF_8", "utf8" and "Utf-8" are one. */
static const struct charset_alias *
charset_alias_find(const char *name)
{
	char key[CHARSET_NAME_MAX];
	size_t n = 0;

	for (; *name != '\0'; name++) {
		if (!isalnum((unsigned char)*name))
			continue;
		if (n == sizeof key - 1)
			return NULL;
		key[n++] = (char)tolower((unsigned char)*name);
	}
	key[n] = '\0';
	return bsearch(key, charset_aliases,
	    sizeof charset_aliases / sizeof charset_aliases[0],
	    sizeof charset_aliases[0], charset_alias_cmp);
}

/*
 * Put iconv's name for name into canon (and its superset, if iconv has
 * it, in *wider). Return 0, or -1 when the name is not one iconv knows.
 * Names with anything but letters, digits and ".:_-+()" are refused, as
 * iconv would read "//IGNORE" and the like as options.
 */
static int
charset_canon(const char *name, char *canon, size_t size, const char **wider)
{
	const struct charset_alias *a;
	size_t i, len;

	if (wider != NULL)
		*wider = NULL;
	if (name == NULL)
		return -1;
	while (*name == ' ' || *name == '\t')
		name++;
	len = strlen(name);
	while (len > 0 && (name[len - 1] == ' ' || name[len - 1] == '\t'))
		len--;
	if (len == 0 || len >= size)
		return -1;
	for (i = 0; i < len; i++) {
		if (!isalnum((unsigned char)name[i]) &&
		    strchr(".:_-+()", name[i]) == NULL)
			return -1;
		canon[i] = (char)toupper((unsigned char)name[i]);
	}
	canon[len] = '\0';
	if ((a = charset_alias_find(canon)) != NULL) {
		snprintf(canon, size, "%s", a->name);
		if (wider != NULL && a->wider != NULL &&
		    charset_iconv_has(a->wider))
			*wider = a->wider;
	}
	return charset_iconv_has(canon) ? 0 : -1;
}

/*
 * Does iconv convert from name to UTF-8? Asked each time, as a libc may
 * lack some (musl has no CP932, a minimal image no gconv modules).
 */
static int
charset_iconv_has(const char *name)
{
	iconv_t cd;

	if (strcmp(name, "UTF-8") == 0 || strcmp(name, "US-ASCII") == 0)
		return 1;
	if ((cd = iconv_open("UTF-8", name)) == (iconv_t)-1)
		return 0;
	iconv_close(cd);
	return 1;
}

/* Bytes per ASCII character of an iconv name: 2 or 4 for UTF-16/32. */
static int
charset_family(const char *name)
{
	if (strncmp(name, "UTF-16", 6) == 0)
		return 2;
	if (strncmp(name, "UTF-32", 6) == 0)
		return 4;
	return 1;
}

/* Append a candidate unless it is there already or the list is full. */
static void
charset_add(
    struct charset_guess *g, const char *name, enum charset_source source)
{
	struct charset_candidate *c;

	for (int i = 0; i < g->n; i++) {
		if (strcasecmp(g->v[i].name, name) == 0)
			return;
	}
	if (g->n == CHARSET_MAX_CANDIDATES)
		return;
	c = &g->v[g->n++];
	snprintf(c->name, sizeof c->name, "%s", name);
	c->source = source;
}

/*
 * Append a candidate and its superset (wider may be NULL). Supersets go
 * in only while the list is short: with at most two of them before the
 * XML declaration's, every candidate still fits.
 */
static void
charset_add_wider(struct charset_guess *g, const char *name, const char *wider,
    enum charset_source source)
{
	charset_add(g, name, source);
	if (wider != NULL && g->n <= CHARSET_WIDER_MAX)
		charset_add(g, wider, source);
}

/* A character a feed can start with: "<", "{" or white space. */
static int
charset_is_start(unsigned char c)
{
	return c == '<' || c == '{' || c == ' ' || c == '\t' || c == '\n' ||
	    c == '\r';
}

/*
 * Read the BOM, or without one tell UTF-16/32 from the NULs around the
 * first character (XML 1.0 appendix F).
 */
static void
charset_sniff_head(const unsigned char *p, size_t len, struct charset_head *h)
{
	const struct charset_bom *b;
	size_t i, n;

	memset(h, 0, sizeof *h);
	h->width = 1;
	for (i = 0; i < sizeof charset_boms / sizeof charset_boms[0]; i++) {
		b = &charset_boms[i];
		if (len >= b->len && memcmp(p, b->bytes, b->len) == 0) {
			h->name = b->name;
			h->source = CHARSET_BOM;
			h->bom_len = b->len;
			h->width = b->width;
			h->is_big_endian = b->is_big_endian;
			break;
		}
	}
	p += h->bom_len;
	len -= h->bom_len;
	if (h->name == NULL && len >= 4) {
		h->source = CHARSET_DETECTED;
		if (p[0] == 0 && p[1] == 0 && p[2] == 0 &&
		    charset_is_start(p[3])) {
			h->name = "UTF-32BE";
			h->width = 4;
			h->is_big_endian = 1;
		} else if (charset_is_start(p[0]) && p[1] == 0 && p[2] == 0 &&
		    p[3] == 0) {
			h->name = "UTF-32LE";
			h->width = 4;
		} else if (p[0] == 0 && charset_is_start(p[1]) && p[2] == 0 &&
		    p[3] != 0 && p[3] < 0x80) {
			h->name = "UTF-16BE";
			h->width = 2;
			h->is_big_endian = 1;
		} else if (charset_is_start(p[0]) && p[1] == 0 && p[2] != 0 &&
		    p[2] < 0x80 && p[3] == 0) {
			h->name = "UTF-16LE";
			h->width = 2;
		}
	}
	n = len < 4 ? len : 4;
	h->is_8bit = h->width == 1 && n >= 2 && memchr(p, 0, n) == NULL;
}

/* Keep a name as written, for messages: printable ASCII only. */
static void
charset_copy_raw(char *dst, size_t size, const char *src, size_t len)
{
	size_t i;

	for (i = 0; i < len && i < size - 1; i++) {
		unsigned char c = (unsigned char)src[i];

		dst[i] = c > 0x20 && c < 0x7f ? (char)c : '?';
	}
	dst[i] = '\0';
}

static int
charset_type_cmp(const void *key, const void *elem)
{
	return strcmp(key, *(const char *const *)elem);
}

/* Is the media type (len bytes, lower case) an XML one (or JSON Feed)? */
static int
charset_is_xml_type(const char *type, size_t len)
{
	char buf[64];

	if (len >= 4 && memcmp(type + len - 4, "+xml", 4) == 0 &&
	    (strncmp(type, "application/", 12) == 0 ||
		strncmp(type, "text/", 5) == 0))
		return 1;
	if (len >= sizeof buf)
		return 0;
	memcpy(buf, type, len);
	buf[len] = '\0';
	return bsearch(buf, charset_xml_types,
		   sizeof charset_xml_types / sizeof charset_xml_types[0],
		   sizeof charset_xml_types[0], charset_type_cmp) != NULL;
}

/* Read a parameter value (quoted or not) into dst; return what follows. */
static const char *
charset_param_value(const char *s, char *dst, size_t size)
{
	size_t n = 0;
	char quote = '\0';

	if (*s == '"' || *s == '\'')
		quote = *s++;
	for (; *s != '\0' && *s != quote; s++) {
		if (quote == '\0' && strchr("; \t", *s) != NULL)
			break;
		if (quote == '"' && *s == '\\' && s[1] != '\0')
			s++;
		if (dst != NULL && n < size - 1)
			dst[n++] = *s;
	}
	if (dst != NULL)
		dst[n] = '\0';
	return quote != '\0' && *s == quote ? s + 1 : s;
}

/*
 * Read a Content-Type: whether its media type is an XML one, and its
 * first charset parameter (quoted with " or ', which servers also send)
 * into cs. A parameter without "=" ("charset:utf-8") is skipped. No
 * Content-Type (or an empty one) counts as XML.
 */
static void
charset_content_type(const char *ct, int *is_xml, char *cs, size_t size)
{
	char type[128];
	size_t i, n;
	int is_charset;

	*is_xml = 1;
	if (ct == NULL)
		return;
	ct += strspn(ct, " \t");
	if ((n = strcspn(ct, "; \t")) > 0) {
		for (i = 0; i < n && i < sizeof type - 1; i++)
			type[i] = (char)tolower((unsigned char)ct[i]);
		type[i] = '\0';
		*is_xml = n < sizeof type && charset_is_xml_type(type, n);
	}
	ct += n;
	while ((ct = strchr(ct, ';')) != NULL) {
		ct++;
		ct += strspn(ct, " \t");
		n = strcspn(ct, "=; \t");
		is_charset = n == 7 && strncasecmp(ct, "charset", 7) == 0;
		ct += n;
		ct += strspn(ct, " \t");
		if (*ct != '=')
			continue;
		ct++;
		ct += strspn(ct, " \t");
		ct = charset_param_value(
		    ct, is_charset && cs[0] == '\0' ? cs : NULL, size);
	}
}

/*
 * Read the head as ASCII into buf, one character per h->width bytes,
 * up to the first ">" or anything that is not ASCII. Return its length.
 */
static size_t
charset_head_ascii(const unsigned char *p, size_t len,
    const struct charset_head *h, char *buf, size_t size)
{
	size_t n = 0, i, at = h->is_big_endian ? (size_t)h->width - 1 : 0;
	unsigned char c;

	for (; len >= (size_t)h->width && n < size - 1; p += h->width) {
		len -= h->width;
		for (i = 0; i < (size_t)h->width; i++) {
			if (i != at && p[i] != 0)
				goto done;
		}
		if ((c = p[at]) == 0 || c >= 0x80)
			break;
		buf[n++] = (char)c;
		if (c == '>')
			break;
	}
done:
	buf[n] = '\0';
	return n;
}

/*
 * Find the encoding of an XML declaration at the head, put it in enc.
 * White space before "<?xml" is allowed, as feeds written by scripts
 * often have it and the declaration still says what the author meant.
 */
static void
charset_xml_decl(const unsigned char *p, size_t len,
    const struct charset_head *h, char *enc, size_t size)
{
	char buf[CHARSET_DECL_MAX], name[16], *s, *e;
	size_t n;
	char quote;

	charset_head_ascii(p, len, h, buf, sizeof buf);
	s = buf + strspn(buf, " \t\r\n");
	if (strncmp(s, "<?xml", 5) != 0 || strchr(" \t\r\n", s[5]) == NULL)
		return;
	for (s += 5;;) {
		s += strspn(s, " \t\r\n");
		n = strcspn(s, " \t\r\n=?>");
		if (n == 0 || n >= sizeof name)
			return;
		memcpy(name, s, n);
		name[n] = '\0';
		s += n;
		s += strspn(s, " \t\r\n");
		if (*s++ != '=')
			return;
		s += strspn(s, " \t\r\n");
		if ((quote = *s++) != '"' && quote != '\'')
			return;
		if ((e = strchr(s, quote)) == NULL)
			return;
		if (strcmp(name, "encoding") == 0) {
			charset_copy_raw(enc, size, s, (size_t)(e - s));
			return;
		}
		s = e + 1;
	}
}

/*
 * Add a declared encoding to the candidates unless what the bytes say
 * rules it out: an 8-bit one when a BOM or the bytes say UTF-16/32
 * (whose generic names then get the endianness), a UTF-16/32 one when
 * the bytes are plainly 8-bit. Say why it is left out, or when it
 * loses to a UTF-8 BOM.
 */
static void
charset_declare(struct charset_guess *g, const struct charset_head *h,
    struct charset_declared *d, enum charset_source source, const char *what)
{
	int family;

	if (d->raw[0] == '\0')
		return;
	if (charset_canon(d->raw, d->name, sizeof d->name, &d->wider) == -1) {
		charset_warn(
		    g, "unknown encoding %s in %s, ignored", d->raw, what);
		return;
	}
	family = charset_family(d->name);
	if (h->width > 1 && family == h->width &&
	    (strcmp(d->name, "UTF-16") == 0 || strcmp(d->name, "UTF-32") == 0))
		snprintf(d->name, sizeof d->name, "%s", h->name);
	if (h->width > 1 && strcmp(d->name, h->name) != 0) {
		charset_warn(g,
		    "the document's bytes are %s, so %s in %s is ignored",
		    h->name, d->raw, what);
		return;
	}
	if (h->is_8bit && family > 1) {
		charset_warn(g,
		    "the document's bytes are not %s, so %s in %s is ignored",
		    d->name, d->raw, what);
		return;
	}
	if (h->source == CHARSET_BOM && h->width == 1 &&
	    strcmp(d->name, h->name) != 0)
		charset_warn(g,
		    "the byte order mark says UTF-8, stronger than %s in %s",
		    d->raw, what);
	charset_add_wider(g, d->name, d->wider, source);
	d->is_kept = 1;
}

/*
 * Return where the first byte that does not start a whole, valid UTF-8
 * sequence is, or end. ASCII goes 16 bytes at a time.
 */
static const unsigned char *
charset_utf8_scan(const unsigned char *p, const unsigned char *end)
{
	uint64_t a, b;
	unsigned char c, lo, hi;

	while (p < end) {
		if (*p < 0x80) {
			while (end - p >= 16) {
				memcpy(&a, p, 8);
				memcpy(&b, p + 8, 8);
				if ((a | b) & CHARSET_ASCII_MASK)
					break;
				p += 16;
			}
			while (p < end && *p < 0x80)
				p++;
			continue;
		}
		c = *p;
		lo = 0x80;
		hi = 0xbf;
		if (c < 0xc2)
			return p;
		if (c < 0xe0) {
			if (end - p < 2 || (p[1] & 0xc0) != 0x80)
				return p;
			p += 2;
			continue;
		}
		if (c < 0xf0) {
			/* E0 80..9F is overlong, ED A0..BF a surrogate. */
			if (c == 0xe0)
				lo = 0xa0;
			else if (c == 0xed)
				hi = 0x9f;
			if (end - p < 3 || p[1] < lo || p[1] > hi ||
			    (p[2] & 0xc0) != 0x80)
				return p;
			p += 3;
			continue;
		}
		/* F0 80..8F is overlong, F4 90.. above U+10FFFF. */
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
		else if (c > 0xf4)
			return p;
		if (end - p < 4 || p[1] < lo || p[1] > hi ||
		    (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80)
			return p;
		p += 4;
	}
	return p;
}

/* Bytes of the UTF-8 sequence a lead byte starts, 0 if none. */
static size_t
charset_utf8_len(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if (c < 0xc2)
		return 0;
	if (c < 0xe0)
		return 2;
	if (c < 0xf0)
		return 3;
	if (c < 0xf5)
		return 4;
	return 0;
}

/* Are the n bytes the valid start of a longer UTF-8 sequence? */
static int
charset_utf8_is_prefix(const unsigned char *p, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;

	if (n == 0 || n >= charset_utf8_len(p[0]))
		return 0;
	if (n == 1)
		return 1;
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if (p[1] < lo || p[1] > hi)
		return 0;
	return n == 2 || (p[2] & 0xc0) == 0x80;
}

/* Grow *out to hold need more bytes. */
static void
charset_reserve(char **out, size_t *outlen, size_t *outcap, size_t need)
{
	size_t cap;

	if (*out != NULL && *outcap - *outlen >= need)
		return;
	cap = *out == NULL ? 0 : *outcap;
	cap = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
	if (cap < *outlen + need)
		cap = *outlen + need;
	if (cap < 256)
		cap = 256;
	*out = xreallocarray(*out, cap, 1);
	*outcap = cap;
}

/* Append n bytes of checked UTF-8 to *out, if the caller keeps it. */
static void
charset_emit(const unsigned char *p, size_t n, char **out, size_t *outlen,
    size_t *outcap)
{
	if (out == NULL || n == 0)
		return;
	charset_reserve(out, outlen, outcap, n);
	memcpy(*out + *outlen, p, n);
	*outlen += n;
}

/*
 * UTF-8 to UTF-8: check and copy. A sequence cut at the end of the last
 * piece is first completed from the new one.
 */
static int
charset_push_utf8(struct charset_conv *cv, const unsigned char *p, size_t len,
    int last, char **out, size_t *outlen, size_t *outcap)
{
	const unsigned char *stop, *end = p + len;
	size_t need, take;

	if (cv->npending > 0) {
		need = charset_utf8_len(cv->pending[0]) - cv->npending;
		take = need < len ? need : len;
		memcpy(cv->pending + cv->npending, p, take);
		cv->npending += take;
		p += take;
		if (take < need) {
			if (last ||
			    !charset_utf8_is_prefix(cv->pending, cv->npending))
				return -1;
			return 0;
		}
		stop =
		    charset_utf8_scan(cv->pending, cv->pending + cv->npending);
		if (stop != cv->pending + cv->npending)
			return -1;
		charset_emit(cv->pending, cv->npending, out, outlen, outcap);
		cv->npending = 0;
	}
	stop = charset_utf8_scan(p, end);
	charset_emit(p, (size_t)(stop - p), out, outlen, outcap);
	if (stop == end)
		return 0;
	if (last || !charset_utf8_is_prefix(stop, (size_t)(end - stop)))
		return -1;
	memcpy(cv->pending, stop, (size_t)(end - stop));
	cv->npending = (size_t)(end - stop);
	return 0;
}

/* US-ASCII: check that no byte has its high bit set, and copy. */
static int
charset_push_ascii(const unsigned char *p, size_t len, char **out,
    size_t *outlen, size_t *outcap)
{
	size_t i = 0;
	uint64_t a, b;

	for (; len - i >= 16; i += 16) {
		memcpy(&a, p + i, 8);
		memcpy(&b, p + i + 8, 8);
		if ((a | b) & CHARSET_ASCII_MASK)
			break;
	}
	while (i < len && p[i] < 0x80)
		i++;
	charset_emit(p, i, out, outlen, outcap);
	return i == len ? 0 : -1;
}

/*
 * Run iconv over *in until it is used up (0), ends in a cut sequence
 * (1, *in pointing at it) or meets an invalid one (-1); with in NULL,
 * return to the initial shift state. Output goes to *out, grown as
 * needed, or to the scratch buffer when out is NULL.
 */
static int
charset_iconv_run(struct charset_conv *cv, char **in, size_t *inleft,
    char **out, size_t *outlen, size_t *outcap)
{
	char *op;
	size_t oleft, r, none, want = 16;

	/*
	 * Most encodings give at most 2 bytes of UTF-8 for one byte. Room for
	 * all of it matters: glibc redoes work when the output fills up.
	 */
	if (in != NULL && *inleft < SIZE_MAX / 4)
		want += *inleft * 2;
	for (;;) {
		if (out == NULL) {
			none = 0;
			charset_reserve(
			    &cv->scratch, &none, &cv->scratchcap, want);
			op = cv->scratch;
			oleft = cv->scratchcap;
		} else {
			charset_reserve(out, outlen, outcap, want);
			op = *out + *outlen;
			oleft = *outcap - *outlen;
		}
		r = iconv(cv->cd, in, inleft, &op, &oleft);
		if (out != NULL)
			*outlen = (size_t)(op - *out);
		if (r != (size_t)-1)
			return 0;
		if (errno == E2BIG)
			continue;
		return errno == EINVAL ? 1 : -1;
	}
}

/*
 * Any encoding through iconv. A sequence cut at the end of a piece is
 * kept; with the next piece, it and the first bytes of that piece are
 * converted together until iconv gets past it.
 */
static int
charset_push_iconv(struct charset_conv *cv, const char *in, size_t len,
    int last, char **out, size_t *outlen, size_t *outcap)
{
	char tmp[CHARSET_CONV_PENDING], *p;
	size_t take, left, used, np = cv->npending;
	int r;

	if (np > 0) {
		take = len < sizeof tmp - np ? len : sizeof tmp - np;
		memcpy(tmp, cv->pending, np);
		memcpy(tmp + np, in, take);
		p = tmp;
		left = np + take;
		if (charset_iconv_run(cv, &p, &left, out, outlen, outcap) == -1)
			return -1;
		used = np + take - left;
		if (used < np) {
			/* Still cut: wait for more, if there can be more. */
			if (take < len || np + take == sizeof tmp || last)
				return -1;
			memcpy(cv->pending, p, left);
			cv->npending = left;
			return 0;
		}
		in += used - np;
		len -= used - np;
		cv->npending = 0;
	}
	p = (char *)in;
	left = len;
	if ((r = charset_iconv_run(cv, &p, &left, out, outlen, outcap)) == -1)
		return -1;
	if (r == 1) {
		if (last || left > sizeof cv->pending)
			return -1;
		memcpy(cv->pending, p, left);
		cv->npending = left;
		return 0;
	}
	if (!last)
		return 0;
	/* Let a stateful encoding (ISO-2022-JP) end in its initial state. */
	return charset_iconv_run(cv, NULL, NULL, out, outlen, outcap);
}

/*
 * How the encoding of cd reads byte c (cd is reset first): its score, a
 * Russian letter's or one of the CHARSET_CYR_* above, and its case.
 */
static void
charset_cyr_weigh(iconv_t cd, unsigned char c, struct charset_cyr_byte *b)
{
	char in[1] = { (char)c }, out[8];
	char *ip = in, *op = out;
	size_t il = 1, ol = sizeof out;
	unsigned long cp;

	memset(b, 0, sizeof *b);
	b->weight = CHARSET_CYR_SYMBOL;
	iconv(cd, NULL, NULL, NULL, NULL);
	if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1 || op == out)
		b->weight = CHARSET_CYR_BAD; /* undefined */
	else if (op - out == 3 && (unsigned char)out[0] == 0xe2 &&
	    (unsigned char)out[1] >= 0x94 && (unsigned char)out[1] <= 0x96)
		b->weight = CHARSET_CYR_BAD; /* box drawing, blocks */
	if (op - out != 2)
		return;
	cp = ((unsigned long)(out[0] & 0x1f) << 6) | (out[1] & 0x3f);
	b->is_upper = (cp >= 0x400 && cp <= 0x42f) ||
	    (cp >= 0x460 && cp <= 0x4ff && cp % 2 == 0);
	b->is_letter = cp >= 0x400 && cp <= 0x4ff;
	if (cp >= 0x410 && cp <= 0x44f)
		b->weight = charset_ru_letters[(cp - 0x410) % 32];
	else if (cp == 0x401 || cp == 0x451)
		b->weight = charset_ru_letters[32];
	else if (b->is_letter)
		b->weight = CHARSET_CYR_OTHER;
	else if (cp < 0xa0)
		b->weight = CHARSET_CYR_BAD; /* C1 controls */
	else if (cp == 0xa0)
		b->weight = CHARSET_CYR_SKIP;
}

/* How encoding reads each byte 0x80..0xff, into table. */
static void
charset_cyr_table(const char *encoding, struct charset_cyr_byte *table)
{
	iconv_t cd = iconv_open("UTF-8", encoding);

	for (int c = 0x80; c <= 0xff; c++) {
		if (cd == (iconv_t)-1) {
			memset(&table[c - 0x80], 0, sizeof table[0]);
			table[c - 0x80].weight = CHARSET_CYR_BAD;
		} else
			charset_cyr_weigh(
			    cd, (unsigned char)c, &table[c - 0x80]);
	}
	if (cd != (iconv_t)-1)
		iconv_close(cd);
}

static int
charset_is_latin_letter(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/*
 * Add up the scores of the high bytes of s, as table reads them. An
 * upper-case letter straight after a lower-case one ("слОВО") is what
 * text read in the wrong encoding looks like: Greek in KOI8-R, KOI8-R in
 * WINDOWS-1251.
 */
static void
charset_cyr_score(const unsigned char *s, size_t len,
    const struct charset_cyr_byte *table, struct charset_cyr_score *sc)
{
	const struct charset_cyr_byte *b, *prev = NULL;

	memset(sc, 0, sizeof *sc);
	for (size_t i = 0; i < len; prev = s[i] < 0x80 ? NULL : b, i++) {
		if (s[i] < 0x80 ||
		    (b = &table[s[i] - 0x80])->weight == CHARSET_CYR_SKIP)
			continue;
		sc->sum += b->weight;
		sc->n++;
		if (!b->is_letter)
			continue;
		sc->nletters++;
		if (b->is_upper && prev != NULL && prev->is_letter &&
		    !prev->is_upper)
			sc->sum += CHARSET_CYR_FLIP;
		if ((i > 0 && charset_is_latin_letter(s[i - 1])) ||
		    (i + 1 < len && charset_is_latin_letter(s[i + 1])))
			sc->nmixed++;
	}
}

/* Forget the document being converted. */
static void
charset_conv_reset(struct charset_conv *cv)
{
	cv->npending = 0;
	if (cv->kind == CHARSET_CONV_ICONV)
		iconv(cv->cd, NULL, NULL, NULL, NULL);
}
