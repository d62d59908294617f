#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/HTMLparser.h>
#include <libxml/HTMLtree.h>
#include <libxml/tree.h>

#include "html.h"
#include "repair.h"
#include "url.h"
#include "xmalloc.h"

/*
 * Sanitizing HTML: the fragment goes through libxml2's HTML parser
 * (which balances it), and what it reads is written out again, element
 * by element as the parser reports them (SAX: no tree is built),
 * through feedparser's allow-lists. Character references in
 * text are kept as the feed wrote them, as feedparser keeps them: every
 * '&' is escaped before parsing, so the parser hands them back as text.
 */

#define HTML_ATTRS_MAX 64  /* attributes written per element */
#define HTML_SCHEME_MAX 16 /* bytes of a URI scheme we look up */
#define HTML_ENTITY_MAX 32 /* bytes of an entity name we look up */

/* What an element becomes, kept on a stack while it is open. */
enum html_kind {
	HTML_DROP = 1, /* goes, with its content */
	HTML_UNWRAP,   /* its tags go, its content stays */
	HTML_KEEP,     /* written, with what it holds */
	HTML_VOID,     /* written, with no end tag: <br /> */
	HTML_SVG,      /* <svg>, which lets SVG's elements in */
	HTML_MATH,     /* <math>, which lets MathML's in */
};

/* The allow-lists an element is checked against. */
enum html_vocab {
	HTML_VOCAB_HTML,
	HTML_VOCAB_SVG,
	HTML_VOCAB_MATH,
};

struct html_out {
	char *s;
	size_t len;
	size_t cap;
	const char *base; /* may be NULL */
	int nsvg;	  /* <svg> elements open */
	int nmath;	  /* <math> elements open */
};

/* One attribute on its way out. */
struct html_attr {
	const char *name; /* the allow-list's spelling */
	char *value;	  /* decoded */
};

/*
 * feedparser's allow-lists (its sanitizer.py), sorted for bsearch; SVG's
 * by their lower case, as libxml2 gives names in lower case and SVG
 * writes some in camel case.
 */
static const char *const html_elements[] = { "a", "abbr", "acronym", "address",
	"area", "article", "aside", "audio", "b", "big", "blockquote", "br",
	"button", "canvas", "caption", "center", "cite", "code", "col",
	"colgroup", "command", "datagrid", "datalist", "dd", "del", "details",
	"dfn", "dialog", "dir", "div", "dl", "dt", "em", "event-source",
	"fieldset", "figcaption", "figure", "font", "footer", "form", "h1",
	"h2", "h3", "h4", "h5", "h6", "header", "hr", "i", "img", "input",
	"ins", "kbd", "keygen", "label", "legend", "li", "m", "map", "menu",
	"meter", "multicol", "nav", "nextid", "noscript", "ol", "optgroup",
	"option", "output", "p", "pre", "progress", "q", "rp", "rt", "ruby",
	"s", "samp", "section", "select", "small", "sound", "source", "spacer",
	"span", "strike", "strong", "sub", "sup", "table", "tbody", "td",
	"textarea", "tfoot", "th", "thead", "time", "tr", "tt", "u", "ul",
	"var", "video" };

static const char *const html_attributes[] = { "abbr", "accept",
	"accept-charset", "accesskey", "action", "align", "alt", "autocomplete",
	"autofocus", "axis", "background", "balance", "bgcolor", "bgproperties",
	"border", "bordercolor", "bordercolordark", "bordercolorlight",
	"bottompadding", "cellpadding", "cellspacing", "ch", "challenge",
	"char", "charoff", "charset", "checked", "choff", "cite", "class",
	"clear", "color", "cols", "colspan", "compact", "contenteditable",
	"controls", "coords", "data", "datafld", "datapagesize", "datasrc",
	"datetime", "default", "delay", "dir", "disabled", "draggable",
	"dynsrc", "enctype", "end", "face", "for", "form", "frame",
	"galleryimg", "gutter", "headers", "height", "hidden", "hidefocus",
	"high", "href", "hreflang", "hspace", "icon", "id", "inputmode",
	"ismap", "keytype", "label", "lang", "leftspacing", "list", "longdesc",
	"loop", "loopcount", "loopend", "loopstart", "low", "lowsrc", "max",
	"maxlength", "media", "method", "min", "multiple", "name", "nohref",
	"noshade", "nowrap", "open", "optimum", "pattern", "ping", "point-size",
	"poster", "pqg", "preload", "prompt", "radiogroup", "readonly", "rel",
	"repeat-max", "repeat-min", "replace", "required", "rev",
	"rightspacing", "rows", "rowspan", "rules", "scope", "selected",
	"shape", "size", "span", "src", "start", "step", "style", "summary",
	"suppress", "tabindex", "target", "template", "title", "toppadding",
	"type", "unselectable", "urn", "usemap", "valign", "value", "variable",
	"volume", "vrml", "vspace", "width", "wrap", "xml:lang" };

/* Elements written without an end tag (feedparser's list). */
static const char *const html_void[] = { "area", "base", "basefont", "br",
	"col", "command", "embed", "frame", "hr", "img", "input", "isindex",
	"keygen", "link", "meta", "param", "source", "track", "wbr" };

static const char *const html_mathml_elements[] = { "annotation",
	"annotation-xml", "maction", "maligngroup", "malignmark", "math",
	"menclose", "merror", "mfenced", "mfrac", "mglyph", "mi", "mlabeledtr",
	"mlongdiv", "mmultiscripts", "mn", "mo", "mover", "mpadded", "mphantom",
	"mprescripts", "mroot", "mrow", "ms", "mscarries", "mscarry", "msgroup",
	"msline", "mspace", "msqrt", "msrow", "mstack", "mstyle", "msub",
	"msubsup", "msup", "mtable", "mtd", "mtext", "mtr", "munder",
	"munderover", "none", "semantics" };

static const char *const html_mathml_attributes[] = { "accent", "accentunder",
	"actiontype", "align", "alignmentscope", "altimg", "altimg-height",
	"altimg-valign", "altimg-width", "alttext", "bevelled", "charalign",
	"close", "columnalign", "columnlines", "columnspacing", "columnspan",
	"columnwidth", "crossout", "decimalpoint", "denomalign", "depth", "dir",
	"display", "displaystyle", "edge", "encoding", "equalcolumns",
	"equalrows", "fence", "fontstyle", "fontweight", "form", "frame",
	"framespacing", "groupalign", "height", "href", "id", "indentalign",
	"indentalignfirst", "indentalignlast", "indentshift",
	"indentshiftfirst", "indentshiftlast", "indenttarget",
	"infixlinebreakstyle", "largeop", "length", "linebreak",
	"linebreakmultchar", "linebreakstyle", "lineleading", "linethickness",
	"location", "longdivstyle", "lquote", "lspace", "mathbackground",
	"mathcolor", "mathsize", "mathvariant", "maxsize", "minlabelspacing",
	"minsize", "movablelimits", "notation", "numalign", "open", "other",
	"overflow", "position", "rowalign", "rowlines", "rowspacing", "rowspan",
	"rquote", "rspace", "scriptlevel", "scriptminsize",
	"scriptsizemultiplier", "selection", "separator", "separators", "shift",
	"side", "src", "stackalign", "stretchy", "subscriptshift",
	"superscriptshift", "symmetric", "voffset", "width", "xlink:href",
	"xlink:show", "xlink:type", "xmlns", "xmlns:xlink" };

static const char *const html_svg_elements[] = { "a", "animate", "animateColor",
	"animateMotion", "animateTransform", "circle", "defs", "desc",
	"ellipse", "font-face", "font-face-name", "font-face-src",
	"foreignObject", "g", "glyph", "hkern", "line", "linearGradient",
	"marker", "metadata", "missing-glyph", "mpath", "path", "polygon",
	"polyline", "radialGradient", "rect", "set", "stop", "svg", "switch",
	"text", "title", "tspan", "use" };

static const char *const html_svg_attributes[] = { "accent-height",
	"accumulate", "additive", "alphabetic", "arabic-form", "ascent",
	"attributeName", "attributeType", "baseProfile", "bbox", "begin", "by",
	"calcMode", "cap-height", "class", "color", "color-rendering",
	"content", "cx", "cy", "d", "descent", "display", "dur", "dx", "dy",
	"end", "fill", "fill-opacity", "fill-rule", "font-family", "font-size",
	"font-stretch", "font-style", "font-variant", "font-weight", "from",
	"fx", "fy", "g1", "g2", "glyph-name", "gradientUnits", "hanging",
	"height", "horiz-adv-x", "horiz-origin-x", "id", "ideographic", "k",
	"keyPoints", "keySplines", "keyTimes", "lang", "marker-end",
	"marker-mid", "marker-start", "markerHeight", "markerUnits",
	"markerWidth", "mathematical", "max", "min", "name", "offset",
	"opacity", "orient", "origin", "overline-position",
	"overline-thickness", "panose-1", "path", "pathLength", "points",
	"preserveAspectRatio", "r", "refX", "refY", "repeatCount", "repeatDur",
	"requiredExtensions", "requiredFeatures", "restart", "rotate", "rx",
	"ry", "slope", "stemh", "stemv", "stop-color", "stop-opacity",
	"strikethrough-position", "strikethrough-thickness", "stroke",
	"stroke-dasharray", "stroke-dashoffset", "stroke-linecap",
	"stroke-linejoin", "stroke-miterlimit", "stroke-opacity",
	"stroke-width", "systemLanguage", "target", "text-anchor", "to",
	"transform", "type", "u1", "u2", "underline-position",
	"underline-thickness", "unicode", "unicode-range", "units-per-em",
	"values", "version", "viewBox", "visibility", "width", "widths", "x",
	"x-height", "x1", "x2", "xlink:actuate", "xlink:arcrole", "xlink:href",
	"xlink:role", "xlink:show", "xlink:title", "xlink:type", "xml:base",
	"xml:lang", "xml:space", "xmlns", "xmlns:xlink", "y", "y1", "y2",
	"zoomAndPan" };

/* CSS: the properties and keywords a style attribute may keep. */
static const char *const html_css_properties[] = { "azimuth",
	"background-color", "border-bottom-color", "border-collapse",
	"border-color", "border-left-color", "border-right-color",
	"border-top-color", "clear", "color", "cursor", "direction", "display",
	"elevation", "float", "font", "font-family", "font-size", "font-style",
	"font-variant", "font-weight", "height", "letter-spacing",
	"line-height", "overflow", "pause", "pause-after", "pause-before",
	"pitch", "pitch-range", "richness", "speak", "speak-header",
	"speak-numeral", "speak-punctuation", "speech-rate", "stress",
	"text-align", "text-decoration", "text-indent", "unicode-bidi",
	"vertical-align", "voice-family", "volume", "white-space", "width" };

static const char *const html_css_keywords[] = { "!important", "aqua", "auto",
	"black", "block", "blue", "bold", "both", "bottom", "brown", "center",
	"collapse", "dashed", "dotted", "fuchsia", "gray", "green", "italic",
	"left", "lime", "maroon", "medium", "navy", "none", "normal", "nowrap",
	"olive", "pointer", "purple", "red", "right", "silver", "solid", "teal",
	"top", "transparent", "underline", "white", "yellow" };

/* More properties, inside <svg>. */
static const char *const html_svg_properties[] = { "fill", "fill-opacity",
	"fill-rule", "stroke", "stroke-linecap", "stroke-linejoin",
	"stroke-opacity", "stroke-width" };

/* The URI schemes a link may have (feedparser's ACCEPTABLE_URI_SCHEMES). */
static const char *const html_schemes[] = { "aim", "callto", "cvs", "facetime",
	"feed", "file", "ftp", "git", "gopher", "gtalk", "h323", "hdl", "http",
	"https", "imap", "irc", "irc6", "ircs", "itms", "magnet", "mailto",
	"mms", "msnim", "news", "nntp", "prospero", "rsync", "rtsp", "rtspu",
	"sftp", "shttp", "sip", "sips", "skype", "smb", "snews", "ssh", "svn",
	"svn+ssh", "telnet", "wais", "ymsg" };

/* Elements that go with all they hold. */
static const char *const html_dropped[] = { "applet", "script", "style" };

/* Attributes that hold a URI, on any element: their scheme is checked. */
static const char *const html_uri_attrs[] = { "action", "background", "cite",
	"classid", "codebase", "data", "dynsrc", "href", "longdesc", "lowsrc",
	"poster", "profile", "src", "usemap", "xlink:href" };

#define HTML_NS_SVG "http://www.w3.org/2000/svg"
#define HTML_NS_MATHML "http://www.w3.org/1998/Math/MathML"
#define HTML_NS_XLINK "http://www.w3.org/1999/xlink"

#define HTML_NITEMS(a) (sizeof(a) / sizeof((a)[0]))
#define HTML_IN(name, table) \
	(html_find((name), (table), HTML_NITEMS(table), 0) != NULL)

static int
html_cmp(const void *key, const void *elem)
{
	return strcmp(key, *(const char *const *)elem);
}

static int
html_casecmp(const void *key, const void *elem)
{
	return strcasecmp(key, *(const char *const *)elem);
}

/* The entry of a sorted table that is name (in any case), or NULL. */
static const char *
html_find(const char *name, const char *const *table, size_t n, int anycase)
{
	const char *const *found;

	found = bsearch(
	    name, table, n, sizeof *table, anycase ? html_casecmp : html_cmp);
	return found != NULL ? *found : NULL;
}

static void
html_put(struct html_out *o, const char *s, size_t n)
{
	if (o->len + n + 1 > o->cap) {
		o->cap = (o->len + n + 1) * 2;
		o->s = xreallocarray(o->s, o->cap, 1);
	}
	memcpy(o->s + o->len, s, n);
	o->len += n;
	o->s[o->len] = '\0';
}

static void
html_puts(struct html_out *o, const char *s)
{
	html_put(o, s, strlen(s));
}

static int
html_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
html_is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
html_is_xdigit(char c)
{
	return html_is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

static int
html_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/*
 * The length of the character reference at s ('&'), ';' included:
 * "&#38;", "&#x26;", "&amp;". 0 when s starts none ("&", "&#;", "&a").
 */
static size_t
html_ref_len(const char *s)
{
	const char *p = s + 1, *start;

	if (*p == '#') {
		if (*++p == 'x' || *p == 'X') {
			for (start = ++p; html_is_xdigit(*p); p++)
				;
		} else {
			for (start = p; html_is_digit(*p); p++)
				;
		}
	} else {
		for (start = p; html_is_alpha(*p) || html_is_digit(*p); p++)
			;
	}
	return p > start && *p == ';' ? (size_t)(p + 1 - s) : 0;
}

/* The number a numeric reference of len bytes at s names (or more than
 * 0x10ffff). */
static unsigned long
html_ref_number(const char *s, size_t len)
{
	const char *p = s + 2, *end = s + len - 1;
	unsigned long n = 0;
	int is_hex = *p == 'x' || *p == 'X';

	for (p += is_hex; p < end; p++) {
		if (n <= 0x10ffff) /* past it, no overflow */
			n = n * (is_hex ? 16 : 10) +
			    (unsigned long)(html_is_digit(*p) ?
				    *p - '0' :
				    (*p | 0x20) - 'a' + 10);
	}
	return n;
}

/*
 * The character a numeric reference names, as a browser reads it:
 * 128-159 are WINDOWS-1252's, and what is no character is U+FFFD.
 */
static unsigned long
html_ref_char(const char *s, size_t len)
{
	unsigned long cp = html_ref_number(s, len);

	if (repair_cp1252(cp) != 0)
		return repair_cp1252(cp);
	if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0xfffd;
	return cp;
}

static void
html_put_utf8(struct html_out *o, unsigned long cp)
{
	char b[4];
	size_t n;

	if (cp < 0x80) {
		b[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (char)(0xf0 | (cp >> 18));
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	html_put(o, b, n);
}

/*
 * Write a reference of len bytes at s (html_ref_len) as feedparser
 * does: as written, but "&#150;" as the "&#x2013;" it means and "&#X41;"
 * as "&#x41;".
 */
static void
html_put_ref(struct html_out *o, const char *s, size_t len)
{
	unsigned long n;
	char buf[16];

	if (s[1] != '#') {
		html_put(o, s, len);
		return;
	}
	n = html_ref_number(s, len);
	if (repair_cp1252(n) != 0) {
		snprintf(buf, sizeof buf, "&#x%x;", repair_cp1252(n));
		html_puts(o, buf);
	} else if (s[2] == 'X') {
		html_puts(o, "&#x");
		html_put(o, s + 3, len - 3);
	} else
		html_put(o, s, len);
}

/*
 * Write text as the feed wrote it (its references too, tidied); a bare
 * '&' and every '<' are escaped.
 */
static void
html_put_text(struct html_out *o, const char *s)
{
	const char *run = s;
	size_t n;

	for (; *(s += strcspn(s, "&<")) != '\0'; s++) {
		html_put(o, run, s - run);
		if (*s == '<')
			html_puts(o, "&lt;");
		else if ((n = html_ref_len(s)) == 0)
			html_puts(o, "&amp;");
		else {
			html_put_ref(o, s, n);
			s += n - 1;
		}
		run = s + 1;
	}
	html_put(o, run, s - run);
}

/*
 * Append s to o with its character references decoded: numeric ones,
 * and the names HTML 4 knows (libxml2's table); others stay as text.
 */
static void
html_put_decoded(struct html_out *o, const char *s)
{
	const htmlEntityDesc *e;
	char name[HTML_ENTITY_MAX];
	const char *run = s;
	size_t n;

	for (; *(s += strcspn(s, "&")) != '\0'; s++) {
		if ((n = html_ref_len(s)) == 0)
			continue;
		html_put(o, run, s - run);
		run = s;
		if (s[1] == '#')
			html_put_utf8(o, html_ref_char(s, n));
		else if (n - 2 < sizeof name) {
			memcpy(name, s + 1, n - 2);
			name[n - 2] = '\0';
			if ((e = htmlEntityLookup((const xmlChar *)name)) !=
			    NULL)
				html_put_utf8(o, e->value);
			else if (strcmp(name, "apos") == 0)
				html_puts(o, "'");
			else
				continue;
		} else
			continue;
		s += n - 1;
		run = s + 1;
	}
	html_put(o, run, s - run);
}

/* Write an attribute value between double quotes, escaped. */
static void
html_put_value(struct html_out *o, const char *s)
{
	const char *run = s;

	html_puts(o, "=\"");
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&':
		case '<':
		case '>':
		case '"':
			html_put(o, run, s - run);
			html_puts(o,
			    *s == '&'	  ? "&amp;" :
				*s == '<' ? "&lt;" :
				*s == '>' ? "&gt;" :
					    "&quot;");
			run = s + 1;
			break;
		default:
			break;
		}
	}
	html_put(o, run, s - run);
	html_puts(o, "\"");
}

/*
 * Is the URI safe to follow: relative, or with one of feedparser's
 * schemes? Read as a browser reads it: leading controls and spaces, and
 * tabs and newlines anywhere, do not count ("java\tscript:").
 */
static int
html_uri_is_safe(const char *s)
{
	char scheme[HTML_SCHEME_MAX];
	size_t n = 0;

	while (*s != '\0' && (unsigned char)*s <= ' ')
		s++;
	for (; *s != ':'; s++) {
		if (*s == '\t' || *s == '\n' || *s == '\r')
			continue;
		if (!html_is_alpha(*s) &&
		    (n == 0 ||
			(!html_is_digit(*s) && *s != '+' && *s != '-' &&
			    *s != '.')))
			return 1; /* no scheme: relative */
		if (n == sizeof scheme - 1)
			return 0;
		scheme[n++] = (char)(*s | 0x20);
	}
	scheme[n] = '\0';
	return HTML_IN(scheme, html_schemes);
}

/*
 * May an SVG animation (<set>, <animate>) change the attribute it names?
 * Not a link ("href", "xlink:href"), which it could make javascript:,
 * nor an event handler.
 */
static int
html_anim_is_safe(const char *attr)
{
	size_t n;

	while (html_is_space(*attr))
		attr++;
	for (n = strlen(attr); n > 0 && html_is_space(attr[n - 1]); n--)
		;
	return !(n >= 4 && strncasecmp(attr + n - 4, "href", 4) == 0) &&
	    strncasecmp(attr, "on", 2) != 0;
}

/* Is the keyword a CSS value feedparser lets through (valid_css_values)? */
static int
html_css_value_is_ok(const char *s, size_t n)
{
	static const char *const units[] = { "cm", "em", "ex", "in", "mm", "pc",
		"pt", "px", "%", ",", ")" };
	const char *end = s + n, *p = s;
	int d;

	if (*p == '#') {
		for (p++;
		     p < end && (html_is_digit(*p) || (*p >= 'a' && *p <= 'f'));
		     p++)
			;
		return p == end && n > 1;
	}
	if (n >= 4 && memcmp(p, "rgb(", 4) == 0) {
		/* rgb\(\d+%?,\d*%?,?\d*%?\)? */
		for (p += 4, d = 0; p < end && html_is_digit(*p); p++, d++)
			;
		if (d == 0)
			return 0;
		p += p < end && *p == '%';
		if (p == end || *p++ != ',')
			return 0;
		for (; p < end && html_is_digit(*p); p++)
			;
		p += p < end && *p == '%';
		p += p < end && *p == ',';
		for (; p < end && html_is_digit(*p); p++)
			;
		p += p < end && *p == '%';
		p += p < end && *p == ')';
		return p == end;
	}
	/* \d{0,2}\.?\d{0,2}(unit)? */
	for (d = 0; d < 2 && p < end && html_is_digit(*p); d++)
		p++;
	p += p < end && *p == '.';
	for (d = 0; d < 2 && p < end && html_is_digit(*p); d++)
		p++;
	if (p == end)
		return 1;
	for (size_t i = 0; i < HTML_NITEMS(units); i++) {
		if ((size_t)(end - p) == strlen(units[i]) &&
		    memcmp(p, units[i], end - p) == 0)
			return 1;
	}
	return 0;
}

/* A word character, as Python's \w: ASCII's, or any byte of UTF-8's. */
static int
html_is_word(char c)
{
	return html_is_alpha(c) || html_is_digit(c) || c == '_' ||
	    (unsigned char)c >= 0x80;
}

/*
 * Does a style pass feedparser's gauntlet: nothing but letters, digits,
 * white space and ":,;#%.!", hyphens inside words, quoted words and
 * parenthesised numbers?
 */
static int
html_css_is_plain(const char *s)
{
	const char *q;

	while (*s != '\0') {
		if (html_is_word(s[0]) && s[1] == '-' && html_is_word(s[2]))
			s += 3;
		else if (html_is_alpha(*s) || html_is_digit(*s) ||
		    html_is_space(*s) || strchr(":,;#%.!", *s) != NULL)
			s++;
		else if (*s == '\'' || *s == '"') {
			for (q = s + 1; html_is_word(*q) || html_is_space(*q);
			     q++)
				;
			if (q == s + 1 || *q != *s)
				return 0;
			s = q + 1;
		} else if (*s == '(') {
			for (q = s + 1; html_is_digit(*q) || *q == ',' ||
			     html_is_space(*q);
			     q++)
				;
			if (q == s + 1 || *q != ')')
				return 0;
			s = q + 1;
		} else
			return 0;
	}
	return 1;
}

/* Replace each url(...) in s, in place, by a space. */
static void
html_css_drop_urls(char *s)
{
	char *p = s, *q;

	while ((p = strstr(p, "url")) != NULL) {
		for (q = p + 3; html_is_space(*q); q++)
			;
		if (*q++ != '(') {
			p += 3;
			continue;
		}
		while (html_is_space(*q))
			q++;
		if (*q == ')' || *q == '\0') {
			p += 3;
			continue;
		}
		while (*q != '\0' && *q != ')' && !html_is_space(*q))
			q++;
		while (html_is_space(*q))
			q++;
		if (*q != ')') {
			p += 3;
			continue;
		}
		for (q++; html_is_space(*q); q++)
			;
		*p = ' ';
		memmove(p + 1, q, strlen(q) + 1);
		p++;
	}
}

/*
 * Read a declaration ("\s*[-\w]+\s*:\s*[^:;]*;?") at s: its property and
 * value as spans. Return where the next one starts, or NULL when s does
 * not start one.
 */
static const char *
html_css_decl(const char *s, const char **prop, size_t *proplen,
    const char **value, size_t *valuelen)
{
	while (html_is_space(*s))
		s++;
	for (*prop = s; html_is_word(*s) || *s == '-'; s++)
		;
	if ((*proplen = s - *prop) == 0)
		return NULL;
	while (html_is_space(*s))
		s++;
	if (*s++ != ':')
		return NULL;
	while (html_is_space(*s))
		s++;
	for (*value = s; *s != '\0' && *s != ':' && *s != ';'; s++)
		;
	*valuelen = s - *value;
	return *s == ';' ? s + 1 : s;
}

/* Does every word of a value pass (for background-*, border-*, ...)? */
static int
html_css_words_are_ok(const char *s, size_t n)
{
	const char *end = s + n, *w;
	char kw[32];

	while (s < end) {
		while (s < end && html_is_space(*s))
			s++;
		for (w = s; s < end && !html_is_space(*s); s++)
			;
		if (s == w)
			break;
		if ((size_t)(s - w) < sizeof kw) {
			memcpy(kw, w, s - w);
			kw[s - w] = '\0';
			if (HTML_IN(kw, html_css_keywords))
				continue;
		}
		if (!html_css_value_is_ok(w, s - w))
			return 0;
	}
	return 1;
}

/* Is the declaration prop: value one to keep? */
static int
html_css_keeps(const char *prop, size_t proplen, const char *value,
    size_t valuelen, int in_svg)
{
	static const char *const boxes[] = { "background", "border", "margin",
		"padding" };
	char name[64];
	size_t i, head;

	if (valuelen == 0 || proplen >= sizeof name)
		return 0;
	for (i = 0; i < proplen; i++)
		name[i] =
		    (char)(html_is_alpha(prop[i]) ? prop[i] | 0x20 : prop[i]);
	name[proplen] = '\0';
	if (HTML_IN(name, html_css_properties))
		return 1;
	head = strcspn(name, "-");
	for (i = 0; i < HTML_NITEMS(boxes); i++) {
		if (strlen(boxes[i]) == head &&
		    memcmp(name, boxes[i], head) == 0)
			return html_css_words_are_ok(value, valuelen);
	}
	return in_svg && HTML_IN(name, html_svg_properties);
}

/*
 * Keep what is harmless of a style attribute, as feedparser does: no
 * url(), nothing but plain declarations, and of those only the
 * properties of its lists. Return the new value (caller frees), or NULL
 * when nothing is left.
 */
static char *
html_css_clean(const char *style, int in_svg)
{
	struct html_out o = { NULL, 0, 0, NULL, 0, 0 };
	const char *p, *next, *prop, *value;
	size_t proplen, valuelen;
	char *s = xstrdup(style);

	html_css_drop_urls(s);
	if (!html_css_is_plain(s)) {
		free(s);
		return NULL;
	}
	for (p = s; *p != '\0';) {
		next = html_css_decl(p, &prop, &proplen, &value, &valuelen);
		if (next == NULL) {
			if (!html_is_space(*p)) {
				free(s);
				free(o.s);
				return NULL;
			}
			p++;
			continue;
		}
		if (html_css_keeps(prop, proplen, value, valuelen, in_svg)) {
			if (o.len > 0)
				html_puts(&o, " ");
			html_put(&o, prop, proplen);
			html_puts(&o, ": ");
			html_put(&o, value, valuelen);
			html_puts(&o, ";");
		}
		p = next;
	}
	free(s);
	return o.s;
}

/* Which allow-lists the children of the open elements are checked against. */
static enum html_vocab
html_vocab(const struct html_out *o)
{
	if (o->nmath > 0)
		return HTML_VOCAB_MATH;
	return o->nsvg > 0 ? HTML_VOCAB_SVG : HTML_VOCAB_HTML;
}

/*
 * The allow-lists of element name's attributes: SVG's or MathML's for their
 * elements inside <svg> or <math> (kind says n is one), else HTML's.
 */
static enum html_vocab
html_attr_vocab(const struct html_out *o, const char *name, enum html_kind kind)
{
	enum html_vocab v = html_vocab(o);

	if (kind == HTML_SVG)
		return HTML_VOCAB_SVG;
	if (kind == HTML_MATH)
		return HTML_VOCAB_MATH;
	if (v == HTML_VOCAB_MATH && HTML_IN(name, html_mathml_elements))
		return HTML_VOCAB_MATH;
	if (v == HTML_VOCAB_SVG &&
	    html_find(name, html_svg_elements, HTML_NITEMS(html_svg_elements),
		1) != NULL)
		return HTML_VOCAB_SVG;
	return HTML_VOCAB_HTML;
}

/* What element name (lower case) becomes, as feedparser decides it. */
static enum html_kind
html_kind(const struct html_out *o, const char *name, size_t depth)
{
	enum html_vocab v = html_vocab(o);
	enum html_kind kind = HTML_UNWRAP;

	if (HTML_IN(name, html_dropped))
		return HTML_DROP;
	if (strcmp(name, "svg") == 0)
		kind = HTML_SVG;
	else if (strcmp(name, "math") == 0)
		kind = HTML_MATH;
	else if ((v == HTML_VOCAB_SVG &&
		     html_find(name, html_svg_elements,
			 HTML_NITEMS(html_svg_elements), 1) != NULL) ||
	    (v == HTML_VOCAB_MATH && HTML_IN(name, html_mathml_elements)) ||
	    HTML_IN(name, html_elements))
		kind = HTML_IN(name, html_void) ? HTML_VOID : HTML_KEEP;
	/* html, head and body are the parser's, not the fragment's. */
	if (strcmp(name, "html") == 0 || strcmp(name, "head") == 0 ||
	    strcmp(name, "body") == 0 || depth >= HTML_MAX_DEPTH)
		kind = HTML_UNWRAP;
	return kind;
}

/* The spelling an element is written in: SVG's camel case, or its own. */
static const char *
html_tag_name(const char *name, enum html_vocab v)
{
	const char *svg;

	if (v == HTML_VOCAB_SVG &&
	    (svg = html_find(name, html_svg_elements,
		 HTML_NITEMS(html_svg_elements), 1)) != NULL)
		return svg;
	return name;
}

/* The allow-list's spelling of attribute name in vocabulary v, or NULL. */
static const char *
html_attr_name(enum html_vocab v, const char *name)
{
	switch (v) {
	case HTML_VOCAB_SVG:
		return html_find(name, html_svg_attributes,
		    HTML_NITEMS(html_svg_attributes), 1);
	case HTML_VOCAB_MATH:
		return html_find(name, html_mathml_attributes,
		    HTML_NITEMS(html_mathml_attributes), 0);
	default:
		return html_find(
		    name, html_attributes, HTML_NITEMS(html_attributes), 0);
	}
}

/*
 * The value of attribute name of element elem, as the parser read it
 * (NULL: none), as it is to be written (caller frees), or NULL when it
 * is to go: references decoded, CSS cleaned, URIs resolved against the
 * base and checked for their scheme.
 */
static char *
html_attr_value(
    struct html_out *o, const char *elem, const char *read, const char *name)
{
	struct html_out val = { NULL, 0, 0, NULL, 0, 0 };
	char *s, *abs;

	if (read != NULL)
		html_put_decoded(&val, read);
	s = val.s != NULL ? val.s : xstrdup("");
	if (strcmp(name, "style") == 0) {
		abs = html_css_clean(s, html_vocab(o) == HTML_VOCAB_SVG);
		free(s);
		return abs;
	}
	if (strcmp(name, "rel") == 0 || strcmp(name, "type") == 0) {
		for (char *p = s; *p != '\0'; p++)
			*p = (char)(html_is_alpha(*p) ? *p | 0x20 : *p);
	}
	if (strcmp(name, "attributeName") == 0 && !html_anim_is_safe(s)) {
		free(s);
		return NULL;
	}
	if (!HTML_IN(name, html_uri_attrs))
		return s;
	if ((abs = url_resolve_html_attr(elem, name, s, o->base)) != NULL) {
		free(s);
		s = abs;
	}
	if (!html_uri_is_safe(s)) {
		free(s);
		return NULL;
	}
	return s;
}

static int
html_attr_cmp(const void *a, const void *b)
{
	return strcasecmp(((const struct html_attr *)a)->name,
	    ((const struct html_attr *)b)->name);
}

/* Add attribute name="value" unless it is there, then set its value. */
static size_t
html_attr_set(
    struct html_attr *v, size_t n, const char *name, const char *value)
{
	size_t i;

	for (i = 0; i < n && strcmp(v[i].name, name) != 0; i++)
		;
	if (i == n && n == HTML_ATTRS_MAX)
		return n;
	if (i < n)
		free(v[i].value);
	v[i].name = name;
	v[i].value = xstrdup(value);
	return i == n ? n + 1 : n;
}

char *
html_c1_refs(const char *html)
{
	struct html_out o = { NULL, 0, 0, NULL, 0, 0 };
	const char *run = html, *p = html;
	unsigned int cp;
	size_t n;

	while ((p = strstr(p, "&#")) != NULL) {
		if ((n = html_ref_len(p)) == 0 ||
		    (cp = repair_cp1252(html_ref_number(p, n))) == 0) {
			p += 2;
			continue;
		}
		html_put(&o, run, (size_t)(p - run));
		html_put_utf8(&o, cp);
		run = p += n;
	}
	if (o.s != NULL)
		html_puts(&o, run);
	return o.s;
}

/*
 * Write the start tag of element elem: its allowed attributes (atts,
 * name and value in turn, as the parser gives them), sorted, and the
 * namespaces an <svg> or <math> (or an xlink: attribute) needs.
 */
static void
html_start_tag(struct html_out *o, const char *elem, const xmlChar **atts,
    enum html_kind kind)
{
	struct html_attr v[HTML_ATTRS_MAX];
	enum html_vocab voc = html_attr_vocab(o, elem, kind);
	const char *name, *read;
	char *value;
	size_t nv = 0, i;
	int has_xlink = 0;

	for (size_t a = 0;
	     atts != NULL && atts[a] != NULL && nv < HTML_ATTRS_MAX; a += 2) {
		if ((name = html_attr_name(voc, (const char *)atts[a])) == NULL)
			continue;
		/* A boolean attribute alone is its own value, as in a tree. */
		read = atts[a + 1] != NULL || !htmlIsBooleanAttr(atts[a]) ?
		    (const char *)atts[a + 1] :
		    (const char *)atts[a];
		if ((value = html_attr_value(o, elem, read, name)) == NULL)
			continue;
		nv = html_attr_set(v, nv, name, value);
		free(value);
		has_xlink |= strncmp(name, "xlink:", 6) == 0;
	}
	if (kind == HTML_SVG)
		nv = html_attr_set(v, nv, "xmlns", HTML_NS_SVG);
	else if (kind == HTML_MATH)
		nv = html_attr_set(v, nv, "xmlns", HTML_NS_MATHML);
	if (has_xlink)
		nv = html_attr_set(v, nv, "xmlns:xlink", HTML_NS_XLINK);
	qsort(v, nv, sizeof v[0], html_attr_cmp);
	html_puts(o, "<");
	html_puts(o, html_tag_name(elem, voc));
	for (i = 0; i < nv; i++) {
		html_puts(o, " ");
		html_puts(o, v[i].name);
		html_put_value(o, v[i].value);
		free(v[i].value);
	}
	html_puts(o, kind == HTML_VOID ? " />" : ">");
}

/*
 * What the parser's callbacks need: the output, the kinds of the
 * elements open (a stack, as deep as the fragment), how deep the parser
 * is in an element whose content goes (0: in none), and the text read
 * since the last tag, which the parser may hand over in pieces while
 * its references are only tidied whole.
 */
struct html_sax {
	struct html_out *o;
	unsigned char *kinds;
	size_t nkinds;
	size_t capkinds;
	size_t drop;
	struct html_out text;
};

static struct html_sax *
html_sax_of(void *ctx)
{
	return ((htmlParserCtxtPtr)ctx)->_private;
}

/* Write the text read since the last tag, comment or the like. */
static void
html_sax_flush(struct html_sax *h)
{
	if (h->text.len == 0)
		return;
	html_put_text(h->o, h->text.s);
	h->text.len = 0;
	h->text.s[0] = '\0';
}

static void
html_sax_start(void *ctx, const xmlChar *xname, const xmlChar **atts)
{
	struct html_sax *h = html_sax_of(ctx);
	const char *name = (const char *)xname;
	enum html_kind kind;

	html_sax_flush(h);
	if (h->drop > 0) {
		h->drop++;
		return;
	}
	kind = html_kind(h->o, name, h->nkinds);
	if (kind == HTML_DROP) {
		h->drop = 1;
		return;
	}
	if (kind != HTML_UNWRAP)
		html_start_tag(h->o, name, atts, kind);
	if (kind == HTML_VOID) {
		h->drop = 1; /* no content, and no end tag */
		return;
	}
	if (h->nkinds == h->capkinds) {
		h->capkinds = h->capkinds == 0 ? 16 : h->capkinds * 2;
		h->kinds = xreallocarray(h->kinds, h->capkinds, 1);
	}
	h->kinds[h->nkinds++] = (unsigned char)kind;
	h->o->nsvg += kind == HTML_SVG;
	h->o->nmath += kind == HTML_MATH;
}

static void
html_sax_end(void *ctx, const xmlChar *xname)
{
	struct html_sax *h = html_sax_of(ctx);
	enum html_kind kind;

	html_sax_flush(h);
	if (h->drop > 0) {
		h->drop--;
		return;
	}
	if (h->nkinds == 0)
		return;
	kind = (enum html_kind)h->kinds[--h->nkinds];
	h->o->nsvg -= kind == HTML_SVG;
	h->o->nmath -= kind == HTML_MATH;
	if (kind == HTML_UNWRAP)
		return;
	html_puts(h->o, "</");
	html_puts(h->o,
	    html_tag_name((const char *)xname,
		html_attr_vocab(h->o, (const char *)xname, kind)));
	html_puts(h->o, ">");
}

static void
html_sax_text(void *ctx, const xmlChar *s, int len)
{
	struct html_sax *h = html_sax_of(ctx);

	if (h->drop == 0 && len > 0)
		html_put(&h->text, (const char *)s, (size_t)len);
}

/* A CDATA block is text of its own, apart from the text around it. */
static void
html_sax_cdata(void *ctx, const xmlChar *s, int len)
{
	struct html_sax *h = html_sax_of(ctx);

	html_sax_flush(h);
	html_sax_text(ctx, s, len);
	html_sax_flush(h);
}

/* Comments and processing instructions go, but part the text around. */
static void
html_sax_comment(void *ctx, const xmlChar *s)
{
	(void)s;
	html_sax_flush(html_sax_of(ctx));
}

static void
html_sax_pi(void *ctx, const xmlChar *target, const xmlChar *data)
{
	(void)target;
	(void)data;
	html_sax_flush(html_sax_of(ctx));
}

static const htmlSAXHandler html_sax_handler = {
	.startElement = html_sax_start,
	.endElement = html_sax_end,
	.characters = html_sax_text,
	.cdataBlock = html_sax_cdata,
	.comment = html_sax_comment,
	.processingInstruction = html_sax_pi,
	.initialized = 1,
};

int
html_read_sax(const char *buf, size_t len, const htmlSAXHandler *sax, void *arg,
    int options)
{
	htmlParserCtxtPtr ctxt;

	if (len > INT_MAX || (ctxt = htmlNewParserCtxt()) == NULL)
		return -1;
	*ctxt->sax = *sax;
	ctxt->_private = arg;
	/* No tree is built: what it returns is NULL. */
	xmlFreeDoc(htmlCtxtReadMemory(ctxt, buf, (int)len, NULL, "UTF-8",
	    options | HTML_PARSE_RECOVER | HTML_PARSE_NOERROR |
		HTML_PARSE_NOWARNING | HTML_PARSE_NONET));
	htmlFreeParserCtxt(ctxt);
	return 0;
}

/*
 * Make the fragment a document libxml2 reads as we want: in a body, so
 * that text at its start gets no <p> around it; every '&' escaped, so
 * that references come back as written; and a '<' that starts no tag,
 * comment or declaration escaped, as text (libxml2 would drop it).
 */
static char *
html_prepare(const char *html, size_t *len)
{
	static const char head[] = "<html><body>";
	struct html_out o = { NULL, 0, 0, NULL, 0, 0 };
	const char *run = html, *p;

	html_put(&o, head, sizeof head - 1);
	for (p = html; *(p += strcspn(p, "&<")) != '\0'; p++) {
		if (*p == '&') {
			html_put(&o, run, p + 1 - run);
			html_puts(&o, "amp;");
			run = p + 1;
		} else if (*p == '<' && !html_is_alpha(p[1]) &&
		    !(p[1] == '/' && html_is_alpha(p[2])) && p[1] != '?' &&
		    strncmp(p + 1, "!--", 3) != 0 &&
		    strncasecmp(p + 1, "!doctype", 8) != 0) {
			html_put(&o, run, p - run);
			html_puts(&o, "&amp;lt;");
			run = p + 1;
		}
	}
	html_put(&o, run, p - run);
	*len = o.len;
	return o.s;
}

/* Trim white space at both ends of s, in place; NULL when none is left. */
static char *
html_trim(char *s)
{
	size_t lead = strspn(s, " \t\r\n"), len = strlen(s + lead);

	while (len > 0 && strchr(" \t\r\n", s[lead + len - 1]) != NULL)
		len--;
	if (len == 0) {
		free(s);
		return NULL;
	}
	memmove(s, s + lead, len);
	s[len] = '\0';
	return s;
}

char *
html_sanitize(const char *html, const char *base)
{
	struct html_out o = { NULL, 0, 0, base, 0, 0 };
	struct html_sax h;
	char *buf;
	size_t len;
	int rc;

	if (strchr(html, '<') == NULL) {
		/* Text: only its references to tidy. */
		html_put_text(&o, html);
		return o.s != NULL ? html_trim(o.s) : NULL;
	}
	buf = html_prepare(html, &len);
	if (len > INT_MAX) {
		free(buf);
		return NULL;
	}
	memset(&h, 0, sizeof h);
	h.o = &o;
	rc =
	    html_read_sax(buf, len, &html_sax_handler, &h, HTML_PARSE_NODEFDTD);
	free(buf);
	if (rc == -1)
		return NULL;
	html_sax_flush(&h);
	free(h.text.s);
	free(h.kinds);
	return o.s != NULL ? html_trim(o.s) : NULL;
}
