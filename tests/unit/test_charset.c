#include <iconv.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* cmocka.h needs the standard headers above it. */
#include <cmocka.h>

#include "charset.h"

/* charset_sniff() and charset_conv: tables of what feeds send. */

/* A byte string that may hold NULs. */
#define B(s) s, sizeof(s) - 1

#define DECL(e) "<?xml version=\"1.0\" encoding=\"" e "\"?>\n<rss/>"

struct sniff_case {
	const char *head;
	size_t len;
	const char *content_type; /* NULL: none */
	const char *override;	  /* NULL: none */
	const char *want;	  /* "NAME/s ...", s: enum order, "obhxduf" */
	size_t bom_len;
	int is_xml_type;
	const char *warning; /* a part of it, or NULL for none */
};

#define TAIL "UTF-8/u WINDOWS-1252/f ISO-8859-1/f"

static const struct sniff_case sniff_bom_cases[] = {
	{ B("\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"utf-8\"?><a/>"), NULL,
	    NULL, "UTF-8/b WINDOWS-1252/f ISO-8859-1/f", 3, 1, NULL },
	{ B("\xff\xfe<\0?\0x\0m\0l\0 \0"), NULL, NULL, "UTF-16LE/b " TAIL, 2, 1,
	    NULL },
	{ B("\xfe\xff\0<\0?\0x\0m\0l\0 "), NULL, NULL, "UTF-16BE/b " TAIL, 2, 1,
	    NULL },
	{ B("\xff\xfe\0\0<\0\0\0?\0\0\0"), NULL, NULL, "UTF-32LE/b " TAIL, 4, 1,
	    NULL },
	{ B("\0\0\xfe\xff\0\0\0<\0\0\0?"), NULL, NULL, "UTF-32BE/b " TAIL, 4, 1,
	    NULL },
	/* The declaration read through the BOM agrees with it. */
	{ B("\xff\xfe<\0?\0x\0m\0l\0 \0e\0n\0c\0o\0d\0i\0n\0g\0=\0'\0u\0t\0f\0"
	    "-\0001\0006\0'\0?\0>\0"),
	    NULL, NULL, "UTF-16LE/b " TAIL, 2, 1, NULL },
	/* A UTF-16 BOM rules out an 8-bit charset. */
	{ B("\xff\xfe<\0?\0x\0m\0l\0 \0"), "text/xml; charset=windows-1251",
	    NULL, "UTF-16LE/b " TAIL, 2, 1,
	    "the document's bytes are UTF-16LE, so windows-1251 in the HTTP "
	    "charset is ignored" },
	{ B("\xfe\xff\0<\0?\0x\0m\0l\0 "), "text/xml; charset=utf-16le", NULL,
	    "UTF-16BE/b " TAIL, 2, 1,
	    "so utf-16le in the HTTP charset is ignored" },
	/* A UTF-8 BOM wins, but the label stays a candidate. */
	{ B("\xef\xbb\xbf<rss/>"), "text/xml; charset=windows-1251", NULL,
	    "UTF-8/b WINDOWS-1251/h WINDOWS-1252/f ISO-8859-1/f", 3, 1,
	    "byte order mark says UTF-8, stronger than windows-1251 in the "
	    "HTTP charset" },
};

static const struct sniff_case sniff_detect_cases[] = {
	{ B("<\0?\0x\0m\0l\0 \0"), NULL, NULL, "UTF-16LE/d " TAIL, 0, 1, NULL },
	{ B("\0<\0?\0x\0m\0l\0 "), NULL, NULL, "UTF-16BE/d " TAIL, 0, 1, NULL },
	{ B("\0<\0r\0s\0s\0>"), NULL, NULL, "UTF-16BE/d " TAIL, 0, 1, NULL },
	{ B("<\0\0\0?\0\0\0"), NULL, NULL, "UTF-32LE/d " TAIL, 0, 1, NULL },
	{ B("\0\0\0<\0\0\0?"), NULL, NULL, "UTF-32BE/d " TAIL, 0, 1, NULL },
	{ B("{\0\"\0"), "application/feed+json", NULL, "UTF-16LE/d " TAIL, 0, 1,
	    NULL },
	/* The generic names get the endianness of the bytes. */
	{ B("\0<\0?\0x\0m\0l\0 \0v\0e\0r\0s\0i\0o\0n\0=\0\"\0001\0.\0000\0\"\0 "
	    "\0e\0n\0c\0o\0d\0i\0n\0g\0=\0\"\0u\0001\0006\0\"\0?\0>"),
	    NULL, NULL, "UTF-16BE/x " TAIL, 0, 1, NULL },
	{ B("<\0?\0x\0m\0l\0 \0e\0n\0c\0o\0d\0i\0n\0g\0=\0\"\0u\0t\0f\0-\0001\0"
	    "6\0\"\0?\0>\0"),
	    "application/xml; charset=utf-16", NULL, "UTF-16LE/h " TAIL, 0, 1,
	    NULL },
	{ B("<\0\0\0?\0\0\0x\0\0\0m\0\0\0l\0\0\0 \0\0\0e\0\0\0n\0\0\0c\0\0\0o"
	    "\0\0\0d\0\0\0i\0\0\0n\0\0\0g\0\0\0=\0\0\0'\0\0\0u\0\0\0t\0\0\0f"
	    "\0\0\0_\0\0\0003\0\0\0002\0\0\0'\0\0\0?\0\0\0>\0\0\0"),
	    NULL, NULL, "UTF-32LE/x " TAIL, 0, 1, NULL },
	/* A declared 8-bit encoding cannot be right for these bytes. */
	{ B("<\0?\0x\0m\0l\0 \0e\0n\0c\0o\0d\0i\0n\0g\0=\0\"\0k\0o\0i\0008\0-\0"
	    "r\0\"\0?\0>\0"),
	    NULL, NULL, "UTF-16LE/d " TAIL, 0, 1,
	    "UTF-16LE, so koi8-r in the XML declaration is ignored" },
	/* Nor a declared UTF-16 for plainly 8-bit bytes. */
	{ B(DECL("utf-16")), NULL, NULL, TAIL, 0, 1,
	    "not UTF-16, so utf-16 in the XML declaration is ignored" },
	{ B(DECL("UTF-32BE")), NULL, NULL, TAIL, 0, 1, "not UTF-32BE" },
	{ B("<a"), NULL, NULL, TAIL, 0, 1, NULL },
	{ "", 0, NULL, NULL, TAIL, 0, 1, NULL },
	{ NULL, 0, NULL, NULL, TAIL, 0, 1, NULL },
};

static const struct sniff_case sniff_decl_cases[] = {
	{ B(DECL("windows-1251")), NULL, NULL,
	    "WINDOWS-1251/x UTF-8/u WINDOWS-1252/f ISO-8859-1/f", 0, 1, NULL },
	{ B("<?xml version='1.0' encoding='koi8-r'?><rss/>"), NULL, NULL,
	    "KOI8-R/x " TAIL, 0, 1, NULL },
	{ B("<?xml   version = \"1.0\"\n\tencoding =  'ISO-8859-5'  ?>"), NULL,
	    NULL, "ISO-8859-5/x " TAIL, 0, 1, NULL },
	{ B("<?xml version=\"1.0\" standalone=\"yes\" encoding=\"latin1\"?>"),
	    NULL, NULL, "ISO-8859-1/x UTF-8/u WINDOWS-1252/f", 0, 1, NULL },
	{ B("\r\n  <?xml version=\"1.0\" encoding=\"windows-1252\"?>"), NULL,
	    NULL, "WINDOWS-1252/x UTF-8/u ISO-8859-1/f", 0, 1, NULL },
	{ B("<?xml version=\"1.0\"?><rss encoding=\"koi8-r\"/>"), NULL, NULL,
	    TAIL, 0, 1, NULL },
	{ B("<?xml version=\"1.0\" encoding=\"koi8-r\""), NULL, NULL,
	    "KOI8-R/x " TAIL, 0, 1, NULL },
	{ B("<?xml version=\"1.0\" encoding=\"koi8-r"), NULL, NULL, TAIL, 0, 1,
	    NULL },
	{ B("<?xml version=\"1.0\" encoding=koi8-r?>"), NULL, NULL, TAIL, 0, 1,
	    NULL },
	{ B("<?xmlfoo encoding=\"koi8-r\"?>"), NULL, NULL, TAIL, 0, 1, NULL },
	{ B("<rss><?xml version=\"1.0\" encoding=\"koi8-r\"?>"), NULL, NULL,
	    TAIL, 0, 1, NULL },
	{ B(DECL("utf-8")), NULL, NULL, "UTF-8/x WINDOWS-1252/f ISO-8859-1/f",
	    0, 1, NULL },
	{ B(DECL("us-ascii")), NULL, NULL, "US-ASCII/x " TAIL, 0, 1, NULL },
	/* feedparser reads gb2312 as its superset gb18030. */
	{ B(DECL("gb2312")), NULL, NULL, "GB18030/x " TAIL, 0, 1, NULL },
	{ B(DECL("Shift_JIS")), NULL, NULL, "SHIFT_JIS/x CP932/x " TAIL, 0, 1,
	    NULL },
	{ B(DECL("euc-kr")), NULL, NULL, "CP949/x " TAIL, 0, 1, NULL },
	{ B(DECL("big5")), NULL, NULL, "BIG5/x BIG5-HKSCS/x " TAIL, 0, 1,
	    NULL },
	{ B(DECL("x-bogus-enc")), NULL, NULL, TAIL, 0, 1,
	    "unknown encoding x-bogus-enc in the XML declaration, ignored" },
	{ B(DECL("utf-8//IGNORE")), NULL, NULL, TAIL, 0, 1,
	    "unknown encoding utf-8//IGNORE" },
	{ B(DECL("utf-8\x01")), NULL, NULL, TAIL, 0, 1,
	    "unknown encoding utf-8?" },
};

static const struct sniff_case sniff_http_cases[] = {
	{ B(DECL("iso-8859-1")), "text/xml; charset=windows-1252", NULL,
	    "WINDOWS-1252/h ISO-8859-1/x UTF-8/u", 0, 1,
	    "HTTP charset windows-1252 overrides the XML declaration's "
	    "iso-8859-1" },
	{ B(DECL("iso-8859-1")), "application/atom+xml; charset='us-ascii'",
	    NULL, "US-ASCII/h ISO-8859-1/x UTF-8/u WINDOWS-1252/f", 0, 1,
	    "overrides" },
	{ B("<rss/>"), "application/rss+xml;charset= 'us-ascii'", NULL,
	    "US-ASCII/h " TAIL, 0, 1, NULL },
	{ B("<rss/>"), "application/xml;charset = us-ascii", NULL,
	    "US-ASCII/h " TAIL, 0, 1, NULL },
	{ B("<rss/>"), "application/xml-dtd; charset=\"us-ascii\"", NULL,
	    "US-ASCII/h " TAIL, 0, 1, NULL },
	{ B("<rss/>"), "APPLICATION/RSS+XML; Charset=\"UTF-8\"", NULL,
	    "UTF-8/h WINDOWS-1252/f ISO-8859-1/f", 0, 1, NULL },
	{ B("<rss/>"), "text/xml; format=flowed; CHARSET=koi8-r; x=y", NULL,
	    "KOI8-R/h " TAIL, 0, 1, NULL },
	{ B("<rss/>"), "text/xml; a=\"b;charset=koi8-u\"; charset=koi8-r", NULL,
	    "KOI8-R/h " TAIL, 0, 1, NULL },
	{ B("<rss/>"), "text/xml; charset=koi8-r; charset=koi8-u", NULL,
	    "KOI8-R/h " TAIL, 0, 1, NULL },
	/* RFC 7303: no us-ascii default for text/xml (RFC 3023 had one). */
	{ B("<rss/>"), "text/xml", NULL, TAIL, 0, 1, NULL },
	{ B(DECL("iso-8859-1")), "text/atom+xml", NULL,
	    "ISO-8859-1/x UTF-8/u WINDOWS-1252/f", 0, 1, NULL },
	{ B("<rss/>"), "text/xml; charset:iso-8859-1", NULL, TAIL, 0, 1, NULL },
	{ B("<rss/>"), "text/xml; ;; =x; charset=", NULL, TAIL, 0, 1, NULL },
	{ B("<rss/>"), "text/xml; charset=\"", NULL, TAIL, 0, 1, NULL },
	{ B("<rss/>"), "text/xml; charset=x-nope", NULL, TAIL, 0, 1,
	    "unknown encoding x-nope in the HTTP charset, ignored" },
	/* Aliases are one encoding: no duplicate, no disagreement. */
	{ B(DECL("UTF-8")), "text/xml; charset=utf8", NULL,
	    "UTF-8/h WINDOWS-1252/f ISO-8859-1/f", 0, 1, NULL },
	{ B(DECL("ISO-8859-1")), "text/xml; charset=latin1", NULL,
	    "ISO-8859-1/h UTF-8/u WINDOWS-1252/f", 0, 1, NULL },
	{ B(DECL("cp1251")), "text/xml; charset=Windows-1251", NULL,
	    "WINDOWS-1251/h " TAIL, 0, 1, NULL },
	{ B(DECL("windows-1252")), "text/xml; charset=x-nope", NULL,
	    "WINDOWS-1252/x UTF-8/u ISO-8859-1/f", 0, 1, "x-nope" },
};

static const struct sniff_case sniff_type_cases[] = {
	{ B("<rss/>"), "text/plain", NULL, TAIL, 0, 0, NULL },
	{ B("<rss/>"), "text/html; charset=utf-8", NULL,
	    "UTF-8/h WINDOWS-1252/f ISO-8859-1/f", 0, 0, NULL },
	{ B("<rss/>"), "application/octet-stream", NULL, TAIL, 0, 0, NULL },
	{ B("<rss/>"), "text/xml-external-parsed-entity", NULL, TAIL, 0, 1,
	    NULL },
	{ B("<rss/>"), "application/xml-external-parsed-entity", NULL, TAIL, 0,
	    1, NULL },
	{ B("<rss/>"), "application/rdf+xml", NULL, TAIL, 0, 1, NULL },
	{ B("<rss/>"), "  text/rss+xml ;charset=utf-8", NULL,
	    "UTF-8/h WINDOWS-1252/f ISO-8859-1/f", 0, 1, NULL },
	{ B("{}"), "application/json", NULL, TAIL, 0, 1, NULL },
	{ B("{}"), "application/feed+json", NULL, TAIL, 0, 1, NULL },
	{ B("<rss/>"), "image/svg+xml", NULL, TAIL, 0, 0, NULL },
	{ B("<rss/>"), "", NULL, TAIL, 0, 1, NULL },
	{ B("<rss/>"), "xml", NULL, TAIL, 0, 0, NULL },
};

static const struct sniff_case sniff_override_cases[] = {
	{ B(DECL("utf-8")), "text/xml; charset=koi8-r", "windows-1251",
	    "WINDOWS-1251/o KOI8-R/h UTF-8/x WINDOWS-1252/f ISO-8859-1/f", 0, 1,
	    "HTTP charset koi8-r overrides the XML declaration's utf-8" },
	{ B(DECL("koi8-r")), NULL, "nope", "KOI8-R/x " TAIL, 0, 1,
	    "unknown encoding nope in the override, ignored" },
	{ B(DECL("koi8-r")), NULL, "", "KOI8-R/x " TAIL, 0, 1, NULL },
	{ B(DECL("koi8-r")), NULL, "UTF8",
	    "UTF-8/o KOI8-R/x WINDOWS-1252/f "
	    "ISO-8859-1/f",
	    0, 1, NULL },
	{ B(DECL("utf-8")), NULL, "utf-8",
	    "UTF-8/o WINDOWS-1252/f "
	    "ISO-8859-1/f",
	    0, 1, NULL },
	/* The user's word holds even against the bytes. */
	{ B("\xff\xfe<\0?\0x\0m\0l\0 \0"), NULL, "latin1",
	    "ISO-8859-1/o UTF-16LE/b UTF-8/u WINDOWS-1252/f", 2, 1, NULL },
	/* As many candidates as fit. */
	{ B(DECL("big5")), "text/xml; charset=euc-jp", "shift_jis",
	    "SHIFT_JIS/o CP932/o EUC-JP/h EUC-JP-MS/h BIG5/x " TAIL, 0, 1,
	    "overrides" },
	{ B("\xef\xbb\xbf" DECL("big5")), "text/xml; charset=euc-jp",
	    "shift_jis",
	    "SHIFT_JIS/o CP932/o UTF-8/b EUC-JP/h EUC-JP-MS/h BIG5/x "
	    "WINDOWS-1252/f ISO-8859-1/f",
	    3, 1, "overrides" },
};

/* The candidates as "NAME/s ...". */
static void
sniff_format(const struct charset_guess *g, char *buf, size_t size)
{
	static const char src[] = "obhxduf";
	size_t n = 0;

	buf[0] = '\0';
	for (int i = 0; i < g->n; i++) {
		n += (size_t)snprintf(buf + n, size - n, "%s%s/%c",
		    i > 0 ? " " : "", g->v[i].name, src[g->v[i].source]);
		assert_true(n < size);
	}
}

static int
sniff_has(const struct charset_guess *g, const char *name)
{
	for (int i = 0; i < g->n; i++) {
		if (strcmp(g->v[i].name, name) == 0)
			return 1;
	}
	return 0;
}

static void
sniff_run(const struct sniff_case *cases, size_t n)
{
	struct charset_guess g;
	char got[512];

	for (size_t i = 0; i < n; i++) {
		const struct sniff_case *c = &cases[i];

		charset_sniff(
		    c->head, c->len, c->content_type, c->override, &g);
		sniff_format(&g, got, sizeof got);
		if (strcmp(got, c->want) != 0)
			print_error("case %zu: %s\n", i, c->want);
		assert_string_equal(got, c->want);
		assert_int_equal(g.bom_len, c->bom_len);
		assert_int_equal(g.is_xml_type, c->is_xml_type);
		if (c->warning == NULL && g.warning != NULL)
			print_error("case %zu: warning %s\n", i, g.warning);
		if (c->warning == NULL)
			assert_null(g.warning);
		else {
			assert_non_null(g.warning);
			if (strstr(g.warning, c->warning) == NULL)
				print_error("case %zu: %s\n", i, g.warning);
			assert_non_null(strstr(g.warning, c->warning));
		}
		assert_true(g.n <= CHARSET_MAX_CANDIDATES);
		assert_true(sniff_has(&g, "ISO-8859-1"));
		charset_guess_clear(&g);
		assert_null(g.warning);
	}
}

#define RUN(t) sniff_run(t, sizeof t / sizeof t[0])

static void
test_charset_sniff_bom(void **state)
{
	(void)state;
	RUN(sniff_bom_cases);
}

static void
test_charset_sniff_detect(void **state)
{
	(void)state;
	RUN(sniff_detect_cases);
}

static void
test_charset_sniff_declaration(void **state)
{
	(void)state;
	RUN(sniff_decl_cases);
}

static void
test_charset_sniff_http(void **state)
{
	(void)state;
	RUN(sniff_http_cases);
}

static void
test_charset_sniff_type(void **state)
{
	(void)state;
	RUN(sniff_type_cases);
}

static void
test_charset_sniff_override(void **state)
{
	(void)state;
	RUN(sniff_override_cases);
}

/* A head longer than CHARSET_SNIFF_BYTES is read no further. */
static void
test_charset_sniff_long(void **state)
{
	struct charset_guess g;
	char *head = malloc(CHARSET_SNIFF_BYTES * 4);

	(void)state;
	assert_non_null(head);
	memset(head, ' ', CHARSET_SNIFF_BYTES * 4);
	memcpy(
	    head + CHARSET_SNIFF_BYTES * 4 - 20, "<?xml encoding='koi8-r'", 20);
	charset_sniff(head, CHARSET_SNIFF_BYTES * 4, NULL, NULL, &g);
	assert_string_equal(g.v[0].name, "UTF-8");
	charset_guess_clear(&g);
	free(head);
}

struct known_case {
	const char *name;
	const char *canon; /* NULL: unknown */
};

static const struct known_case known_cases[] = {
	{ "utf-8", "UTF-8" },
	{ "UTF_8", "UTF-8" },
	{ " utf8 ", "UTF-8" },
	{ "us-ascii", "US-ASCII" },
	{ "ANSI_X3.4-1968", "US-ASCII" },
	{ "ascii", "US-ASCII" },
	{ "latin1", "ISO-8859-1" },
	{ "ISO_8859-1:1987", "ISO-8859-1" },
	{ "iso-8859-2", "ISO-8859-2" },
	{ "latin9", "ISO-8859-15" },
	{ "iso-8859-15", "ISO-8859-15" },
	{ "cp1251", "WINDOWS-1251" },
	{ "x-cp1251", "WINDOWS-1251" },
	{ "windows-1252", "WINDOWS-1252" },
	{ "koi8-r", "KOI8-R" },
	{ "KOI8-U", "KOI8-U" },
	{ "shift_jis", "SHIFT_JIS" },
	{ "x-sjis", "SHIFT_JIS" },
	{ "windows-31j", "CP932" },
	{ "euc-jp", "EUC-JP" },
	{ "iso-2022-jp", "ISO-2022-JP" },
	{ "gb2312", "GB18030" },
	{ "GBK", "GBK" },
	{ "gb18030", "GB18030" },
	{ "big5", "BIG5" },
	{ "euc-kr", "CP949" },
	{ "ks_c_5601-1987", "CP949" },
	{ "utf-16", "UTF-16" },
	{ "UTF-16LE", "UTF-16LE" },
	{ "utf-32be", "UTF-32BE" },
	{ "tis-620", "TIS-620" },
	{ "macintosh", "MACINTOSH" },
	{ "IBM866", "CP866" },
	{ "iso-8859-8-i", "ISO-8859-8" },
	{ "cp850", "CP850" }, /* not in the table; iconv knows it */
	{ "x-nope", NULL },
	{ "", NULL },
	{ "   ", NULL },
	{ "utf-8//IGNORE", NULL },
	{ "utf-8//TRANSLIT", NULL },
	{ "utf 8", NULL },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    NULL },
	{ NULL, NULL },
};

static void
test_charset_known(void **state)
{
	struct charset_guess g;

	(void)state;
	for (size_t i = 0; i < sizeof known_cases / sizeof known_cases[0];
	     i++) {
		const struct known_case *c = &known_cases[i];

		assert_int_equal(charset_is_known(c->name), c->canon != NULL);
		if (c->canon == NULL)
			continue;
		charset_sniff(NULL, 0, NULL, c->name, &g);
		assert_int_equal(g.v[0].source, CHARSET_OVERRIDE);
		assert_string_equal(g.v[0].name, c->canon);
		charset_guess_clear(&g);
	}
}

struct conv_case {
	const char *encoding;
	const char *in;
	size_t len;
	const char *want; /* UTF-8 */
};

static const struct conv_case conv_cases[] = {
	{ "windows-1251", B("\xcf\xf0\xe8\xe2\xe5\xf2, \xec\xe8\xf0!"),
	    "Привет, мир!" },
	{ "koi8-r", B("\xf0\xd2\xc9\xd7\xc5\xd4"), "Привет" },
	{ "iso-8859-5", B("\xbf\xe0\xd8\xd2\xd5\xe2"), "Привет" },
	{ "windows-1252", B("\x93quoted\x94 \x80 caf\xe9"),
	    "\u201cquoted\u201d \u20ac café" },
	{ "iso-8859-1", B("caf\xe9 \x81"), "café \xc2\x81" },
	{ "iso-8859-2", B("\xb1\xe6\xea\xb3\xf1"), "ąćęłń" },
	{ "shift_jis", B("\x93\xfa\x96\x7b\x8c\xea<a>"), "日本語<a>" },
	{ "CP932", B("\x87\x40"), "①" },
	{ "euc-jp", B("\xc6\xfc\xcb\xdc\xb8\xec"), "日本語" },
	{ "iso-2022-jp", B("\x1b$BF|K\\\x1b(B!"), "日本!" },
	{ "gb2312", B("\xd6\xd0\xce\xc4"), "中文" },
	{ "gbk", B("\xd6\xd0\xce\xc4"), "中文" },
	{ "big5", B("\xa4\xa4\xa4\xe5"), "中文" },
	{ "euc-kr", B("\xc7\xd1\xb1\xb9\xbe\xee"), "한국어" },
	{ "euc-kr", B("\x81\x41"), "갂" }, /* UHC, read as CP949 */
	{ "utf-16le", B("<\0\xe5\x65,\x67=\xd8\x00\xde"), "<日本😀" },
	{ "utf-16be", B("\0<\x65\xe5\x67,\xd8=\xde\0"), "<日本😀" },
	{ "utf-32le", B("<\0\0\0\0\xf6\x01\0"), "<😀" },
	{ "utf-32be", B("\0\0\0<\0\x01\xf6\0"), "<😀" },
	{ "utf-8",
	    B("<a>\xd0\x9f\xe6\x97\xa5\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf"
	      "</a>"),
	    "<a>П日😀\U0010FFFF</a>" },
	{ "utf-8", B("\xef\xbf\xbd\xee\x80\x80\xed\x9f\xbf"),
	    "\uFFFD\uE000\uD7FF" },
	{ "us-ascii", B("<rss>plain</rss>"), "<rss>plain</rss>" },
	{ "utf-8", B(""), "" },
	{ "windows-1251", B(""), "" },
};

/* Convert in pieces of step bytes (0: whole); return what came out. */
static int
conv_run(const char *encoding, const char *in, size_t len, size_t step,
    char **out, size_t *outlen)
{
	struct charset_conv *cv;
	size_t off = 0, n, outcap = 0;
	int rc = 0;

	*out = NULL;
	*outlen = 0;
	assert_non_null(cv = charset_conv_new(encoding));
	do {
		n = step == 0 || len - off < step ? len - off : step;
		rc = charset_conv_push(
		    cv, in + off, n, off + n == len, out, outlen, &outcap);
		off += n;
	} while (rc == 0 && off < len);
	charset_conv_free(cv);
	return rc;
}

static void
test_charset_conv(void **state)
{
	char *out;
	size_t outlen;
	static const size_t steps[] = { 0, 1, 2, 3, 5 };

	(void)state;
	for (size_t i = 0; i < sizeof conv_cases / sizeof conv_cases[0]; i++) {
		const struct conv_case *c = &conv_cases[i];

		for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++) {
			assert_int_equal(conv_run(c->encoding, c->in, c->len,
					     steps[s], &out, &outlen),
			    0);
			assert_int_equal(outlen, strlen(c->want));
			if (outlen > 0)
				assert_memory_equal(out, c->want, outlen);
			free(out);
		}
	}
}

/* Checking only (out NULL) gives the same answer, pieces or not. */
static void
test_charset_conv_check_only(void **state)
{
	struct charset_conv *cv;

	(void)state;
	for (size_t i = 0; i < sizeof conv_cases / sizeof conv_cases[0]; i++) {
		const struct conv_case *c = &conv_cases[i];
		int rc = 0;

		assert_non_null(cv = charset_conv_new(c->encoding));
		for (size_t off = 0; off < c->len && rc == 0; off++)
			rc = charset_conv_push(cv, c->in + off, 1,
			    off + 1 == c->len, NULL, NULL, NULL);
		assert_int_equal(rc, 0);
		charset_conv_free(cv);
	}
}

struct bad_case {
	const char *encoding;
	const char *in;
	size_t len;
};

static const struct bad_case bad_cases[] = {
	{ "utf-8", B("a\xc0\xafz") },	      /* overlong "/" */
	{ "utf-8", B("a\xc1\xbf") },	      /* overlong */
	{ "utf-8", B("a\xe0\x80\xafz") },     /* overlong */
	{ "utf-8", B("a\xe0\x9f\xbfz") },     /* overlong */
	{ "utf-8", B("a\xf0\x80\x80\xafz") }, /* overlong */
	{ "utf-8", B("a\xf0\x8f\xbf\xbfz") }, /* overlong */
	{ "utf-8", B("a\xed\xa0\x80z") },     /* surrogate D800 */
	{ "utf-8", B("a\xed\xbf\xbfz") },     /* surrogate DFFF */
	{ "utf-8", B("a\xf4\x90\x80\x80z") }, /* U+110000 */
	{ "utf-8", B("a\xf5\x80\x80\x80z") }, /* beyond */
	{ "utf-8", B("a\xff") },
	{ "utf-8", B("a\x80z") }, /* lone continuation */
	{ "utf-8", B("a\xc3z") }, /* cut, then more */
	{ "utf-8", B("a\xe2\x82z") },
	{ "utf-8", B("abc\xe2\x82") }, /* cut at the end */
	{ "utf-8", B("abc\xf0\x9f\x98") },
	{ "utf-8", B("abc\xc3") },
	{ "utf-8", B("0123456789abcdef0123456789abcdef\xc3\x28") },
	{ "us-ascii", B("caf\xc3\xa9") },
	{ "us-ascii", B("0123456789abcdef0123456789abcdef\xe9") },
	{ "ascii", B("\x80") },
	{ "windows-1252", B("a\x81") },
	{ "shift_jis", B("\x93\xfa\x96") }, /* cut at the end */
	{ "shift_jis", B("\x87\x40") },	    /* NEC, not in SHIFT_JIS */
	{ "euc-jp", B("\xc6") },
	{ "utf-16le", B("<\0<") },	   /* odd length */
	{ "utf-16le", B("<\0\0\xd8<\0") }, /* lone high surrogate */
	{ "utf-16le", B("<\0\0\xdc<\0") }, /* lone low surrogate */
	{ "utf-16be", B("\xd8\x3d") },	   /* cut pair */
	{ "utf-32le", B("\0\0\x11\0") },   /* U+110000 */
	{ "utf-32be", B("\0\0\0<\0\0") },
	{ "gb18030", B("\x81\x30\x81") },
};

static void
test_charset_conv_invalid(void **state)
{
	char *out;
	size_t outlen;
	static const size_t steps[] = { 0, 1, 2, 3 };
	int rc;

	(void)state;
	for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
		const struct bad_case *c = &bad_cases[i];

		for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++) {
			rc = conv_run(c->encoding, c->in, c->len, steps[s],
			    &out, &outlen);
			free(out);
			if (rc != -1)
				print_error("case %zu step %zu\n", i, steps[s]);
			assert_int_equal(rc, -1);
		}
	}
}

struct utf8_case {
	const char *in;
	size_t len;
	int want;
};

static const struct utf8_case utf8_cases[] = {
	{ B(""), 1 },
	{ B("plain ASCII, long enough to take the 16-byte path"), 1 },
	{ B("\xc2\x80\xdf\xbf"), 1 },		      /* U+0080, U+07FF */
	{ B("\xe0\xa0\x80\xef\xbf\xbf"), 1 },	      /* U+0800, U+FFFF */
	{ B("\xed\x9f\xbf\xee\x80\x80"), 1 },	      /* around surrogates */
	{ B("\xf0\x90\x80\x80\xf4\x8f\xbf\xbf"), 1 }, /* U+10000.. */
	{ B("0123456789abcdef\xd0\x9f"
	    "0123456789abcdef"),
	    1 },
	{ B("\0"), 1 }, /* NUL is UTF-8; what a parser makes of it is its own */
	{ B("\xc0\x80"), 0 },
	{ B("\xc2"), 0 },
	{ B("\xc2\xc0"), 0 },
	{ B("\xe0\x9f\xbf"), 0 },
	{ B("\xed\xa0\x80"), 0 },
	{ B("\xef\xbf"), 0 },
	{ B("\xf0\x8f\xbf\xbf"), 0 },
	{ B("\xf4\x90\x80\x80"), 0 },
	{ B("\xf8\x88\x80\x80\x80"), 0 },
	{ B("\xfe"), 0 },
	{ B("0123456789abcdef0123456789abcde\x80"), 0 },
};

static void
test_charset_is_utf8(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof utf8_cases / sizeof utf8_cases[0]; i++)
		assert_int_equal(
		    charset_is_utf8(utf8_cases[i].in, utf8_cases[i].len),
		    utf8_cases[i].want);
}

/*
 * charset_utf8_copy: what a server's error text, cut to a buffer, makes
 * of the JSON an alert carries. Tried: cuts inside a 2-, 3- and 4-byte
 * character, stray and overlong bytes, a copy onto itself.
 */
static const struct {
	const char *in;
	size_t size;
	const char *want;
} utf8_copy_cases[] = {
	{ "abc", 16, "abc" },
	{ "abc", 3, "ab" },
	{ "abc", 1, "" },
	{ "\xd1\x8f\xd1\x8f", 4, "\xd1\x8f" },	       /* яя in 3 bytes */
	{ "\xd1\x8f\xd1\x8f", 5, "\xd1\x8f\xd1\x8f" }, /* in 4 */
	{ "a\xe2\x80\x94", 4, "a" },		       /* a— */
	{ "a\xf0\x9f\x93\xb0", 5, "a" },	       /* a📰 */
	{ "a\xf0\x9f\x93\xb0", 6, "a\xf0\x9f\x93\xb0" },
	{ "caf\xe9 au lait", 32, "caf? au lait" },  /* Latin-1 */
	{ "\xc0\xaf/\xed\xa0\x80", 32, "?\?/???" }, /* overlong, surrogate */
	{ "\xd1", 32, "?" },			    /* cut before */
	{ "ok \xff", 4, "ok " },
};

static void
test_charset_utf8_copy(void **state)
{
	char buf[64], self[64];
	size_t n;

	(void)state;
	for (size_t i = 0;
	     i < sizeof utf8_copy_cases / sizeof utf8_copy_cases[0]; i++) {
		memset(buf, 'x', sizeof buf);
		n = charset_utf8_copy(
		    buf, utf8_copy_cases[i].size, utf8_copy_cases[i].in);
		assert_string_equal(buf, utf8_copy_cases[i].want);
		assert_int_equal(n, strlen(utf8_copy_cases[i].want));
		assert_true(charset_is_utf8(buf, n));
	}
	/* Onto itself: the same length, the same place. */
	strcpy(self, "Ur\xe8ss \xd1\x8f\xd1");
	n = charset_utf8_copy(self, sizeof self, self);
	assert_string_equal(self, "Ur?ss \xd1\x8f?");
	assert_int_equal(n, 9);
	assert_int_equal(charset_utf8_valid("ab\xd1\x8f\xff"
					    "c",
			     6),
	    4);
	assert_int_equal(charset_utf8_valid("ab", 2), 2);
}

/* A news sentence in Russian, as feeds write them. */
#define RU_NEWS                                                                                                                   \
	"<title>Как пережить новогоднюю ночь</title><description>Наверное, "                     \
	"единственное, во что сегодня можно верить безоговорочно, так это " \
	"в то, что Новый год обязательно наступит.</description>"

static const struct {
	const char *utf8;     /* the text... */
	const char *encoding; /* ...in this encoding */
	const char *want;     /* NULL: no guess */
} cyrillic_cases[] = {
	{ RU_NEWS, "KOI8-R", "KOI8-R" },
	{ RU_NEWS, "WINDOWS-1251", "WINDOWS-1251" },
	{ RU_NEWS, "ISO-8859-5", "ISO-8859-5" },
	{ RU_NEWS, "CP866", "CP866" },
	{ "<title>Новости</title>", "KOI8-R", "KOI8-R" },
	{ "<title>Новости</title>", "WINDOWS-1251", "WINDOWS-1251" },
	/* Capitals only: KOI8-R's are WINDOWS-1251's small letters. */
	{ "<title>МОСКВА, НОВОСТИ ДНЯ</title>", "KOI8-R", "KOI8-R" },
	{ "<title>МОСКВА, НОВОСТИ ДНЯ</title>", "WINDOWS-1251",
	    "WINDOWS-1251" },
	{ "Київ, Україна: новини про їжу та ґанок і єдність.", "WINDOWS-1251",
	    "WINDOWS-1251" },
	{ "Компания Apple представила новый iPhone 15 Pro «в Купертино» — "
	  "сообщает РБК.",
	    "WINDOWS-1251", "WINDOWS-1251" },
	/* Not Cyrillic. */
	{ "Le café était très bon à Noël, où nous avons mangé des crêpes.",
	    "WINDOWS-1252", NULL },
	{ "Größere Städte müssen bis 2026 Pläne vorlegen; Übergangsfristen.",
	    "WINDOWS-1252", NULL },
	{ "Rząd przyjął we wtorek projekt ustawy o podatku; Źródło: PAP.",
	    "WINDOWS-1250", NULL },
	{ "Η κυβέρνηση ενέκρινε την Τρίτη το νομοσχέδιο για τον φόρο "
	  "ακινήτων. Οι αλλαγές αναμένεται να τεθούν σε ισχύ.",
	    "WINDOWS-1253", NULL },
	{ "\u201cquoted\u201d \u2014 and so on\u2026", "WINDOWS-1252", NULL },
	/* Too short to tell. */
	{ "<title>Да</title>", "KOI8-R", NULL },
	{ "plain ASCII", "KOI8-R", NULL },
};

static void
test_charset_guess_cyrillic(void **state)
{
	char in[1024], out[1024], *ip, *op;
	size_t il, ol;
	const char *got;
	iconv_t cd;

	(void)state;
	for (size_t i = 0; i < sizeof cyrillic_cases / sizeof cyrillic_cases[0];
	     i++) {
		cd = iconv_open(cyrillic_cases[i].encoding, "UTF-8");
		assert_true(cd != (iconv_t)-1);
		snprintf(in, sizeof in, "%s", cyrillic_cases[i].utf8);
		ip = in;
		op = out;
		il = strlen(in);
		ol = sizeof out;
		assert_int_not_equal(iconv(cd, &ip, &il, &op, &ol), (size_t)-1);
		iconv_close(cd);
		got = charset_guess_cyrillic(out, (size_t)(op - out));
		if ((got == NULL) != (cyrillic_cases[i].want == NULL) ||
		    (got != NULL && strcmp(got, cyrillic_cases[i].want) != 0))
			fail_msg("case %zu: %s", i, got ? got : "(none)");
	}
}

static void
test_charset_conv_unknown(void **state)
{
	(void)state;
	assert_null(charset_conv_new("x-nope"));
	assert_null(charset_conv_new("utf-8//IGNORE"));
	assert_null(charset_conv_new(""));
	assert_null(charset_conv_new(NULL));
	charset_conv_free(NULL);
}

/* After the last piece, or an error, a converter starts afresh. */
static void
test_charset_conv_reuse(void **state)
{
	static const char *encodings[] = { "utf-8", "shift_jis", "utf-16le" };
	static const char *cut[] = { "\xe6\x97", "\x93", "<" };
	struct charset_conv *cv;
	char *out = NULL;
	size_t outlen = 0, outcap = 0;

	(void)state;
	for (size_t i = 0; i < sizeof encodings / sizeof encodings[0]; i++) {
		assert_non_null(cv = charset_conv_new(encodings[i]));
		assert_int_equal(charset_conv_push(cv, cut[i], strlen(cut[i]),
				     1, &out, &outlen, &outcap),
		    -1);
		assert_int_equal(charset_conv_push(cv, cut[i], strlen(cut[i]),
				     0, &out, &outlen, &outcap),
		    0);
		assert_int_equal(
		    charset_conv_push(cv, "", 0, 1, &out, &outlen, &outcap),
		    -1);
		outlen = 0;
		assert_int_equal(charset_conv_push(cv, i == 2 ? "a\0" : "a",
				     i == 2 ? 2 : 1, 1, &out, &outlen, &outcap),
		    0);
		assert_int_equal(outlen, 1);
		assert_int_equal(out[0], 'a');
		charset_conv_free(cv);
	}
	free(out);
}

/* Output grows from NULL; pieces end anywhere, the last one empty. */
static void
test_charset_conv_grow(void **state)
{
	static const struct {
		const char *encoding;
		const char *unit; /* repeated to make the document */
		size_t len;
		const char *want;
	} cases[] = {
		{ "windows-1251", B("\xcf\xf0\xe8"), "При" },
		{ "utf-8",
		    B("\xd0\x9f\xe6\x97\xa5\xf0\x9f\x98\x80"
		      "a"),
		    "П日😀a" },
		{ "utf-16le", B("\x3d\xd8\x00\xde"), "😀" },
		{ "shift_jis", B("\x93\xfa"), "日" },
	};
	static const size_t pieces[] = { 65536, 4093, 7 };
	struct charset_conv *cv;
	char *in, *out;
	size_t n = 30001, len, wlen, off, k, outlen, outcap;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		len = cases[i].len * n;
		wlen = strlen(cases[i].want);
		assert_non_null(in = malloc(len));
		for (off = 0; off < len; off += cases[i].len)
			memcpy(in + off, cases[i].unit, cases[i].len);
		for (size_t p = 0; p < sizeof pieces / sizeof pieces[0]; p++) {
			out = NULL;
			outlen = outcap = 0;
			assert_non_null(
			    cv = charset_conv_new(cases[i].encoding));
			for (off = 0; off < len; off += k) {
				k = len - off < pieces[p] ? len - off :
							    pieces[p];
				assert_int_equal(
				    charset_conv_push(cv, in + off, k, 0, &out,
					&outlen, &outcap),
				    0);
			}
			assert_int_equal(charset_conv_push(cv, NULL, 0, 1, &out,
					     &outlen, &outcap),
			    0);
			assert_int_equal(outlen, wlen * n);
			assert_true(outcap >= outlen);
			for (off = 0; off < outlen; off += wlen)
				assert_memory_equal(
				    out + off, cases[i].want, wlen);
			charset_conv_free(cv);
			free(out);
		}
		free(in);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_charset_sniff_bom),
		cmocka_unit_test(test_charset_sniff_detect),
		cmocka_unit_test(test_charset_sniff_declaration),
		cmocka_unit_test(test_charset_sniff_http),
		cmocka_unit_test(test_charset_sniff_type),
		cmocka_unit_test(test_charset_sniff_override),
		cmocka_unit_test(test_charset_sniff_long),
		cmocka_unit_test(test_charset_known),
		cmocka_unit_test(test_charset_is_utf8),
		cmocka_unit_test(test_charset_utf8_copy),
		cmocka_unit_test(test_charset_guess_cyrillic),
		cmocka_unit_test(test_charset_conv),
		cmocka_unit_test(test_charset_conv_check_only),
		cmocka_unit_test(test_charset_conv_invalid),
		cmocka_unit_test(test_charset_conv_unknown),
		cmocka_unit_test(test_charset_conv_reuse),
		cmocka_unit_test(test_charset_conv_grow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
