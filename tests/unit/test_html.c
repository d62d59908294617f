#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* cmocka.h needs the standard headers above. */
#include <cmocka.h>

#include <libxml/parser.h>

#include "html.h"

/* html_sanitize(): tables of what feeds send, and what comes out. */

#define BASE "http://example.com/d/p.html"

struct html_case {
	const char *in;
	const char *want; /* NULL: nothing is left */
};

/* Check each case against BASE; print every mismatch, then fail. */
static void
html_run(const struct html_case *cases, size_t n, const char *base)
{
	char *got;
	int failed = 0;

	for (size_t i = 0; i < n; i++) {
		got = html_sanitize(cases[i].in, base);
		if ((got == NULL) != (cases[i].want == NULL) ||
		    (got != NULL && strcmp(got, cases[i].want) != 0)) {
			print_error("in:   %s\nwant: %s\ngot:  %s\n",
			    cases[i].in,
			    cases[i].want ? cases[i].want : "(null)",
			    got ? got : "(null)");
			failed++;
		}
		free(got);
	}
	assert_int_equal(failed, 0);
}

#define RUN(cases) html_run(cases, sizeof cases / sizeof cases[0], BASE)

/* What can run code, or change the page around it, goes. */
static const struct html_case html_unsafe_cases[] = {
	{ "<p>a<script>alert(1)</script>b</p>", "<p>ab</p>" },
	{ "<SCRIPT>x = '<a href=\"x\">';</SCRIPTS></SCRIPT ><b>y</b>",
	    "<b>y</b>" },
	{ "<style>p { color: red }</style>x", "x" },
	{ "<applet code=\"x\">a</applet>b", "b" },
	{ "<script>document.write('<a href=\"x\">')</script>", NULL },
	{ "safe<script type=\"text/javascript\">location.href='http:/'+"
	  "'/example.com/';</script> description",
	    "safe description" },
	{ "<a href=\"http://e/\" onclick=\"x()\" onmouseover=\"y\" ONLOAD=z>"
	  "t</a>",
	    "<a href=\"http://e/\">t</a>" },
	{ "<body onload=\"x()\"><p>hi</p></body>", "<p>hi</p>" },
	{ "<img src=x onerror=alert(1)//",
	    "<img src=\"http://example.com/d/x\" />" },
	{ "<iframe src=\"http://evil/\">x</iframe><object data=\"x\">"
	  "fallback</object><embed src=\"x\">",
	    "xfallback" },
	{ "<base href=\"http://evil/\"><meta http-equiv=\"refresh\" "
	  "content=\"0;url=http://evil/\"><link rel=stylesheet href=x>",
	    NULL },
	{ "<!-- comment --><!DOCTYPE html><?php echo 1; ?>x", "x" },
	/* A prefixed element is none of the list's, whatever its name ends in.
	 */
	{ "<p>Word<o:p></o:p> in <st1:place>Geneva</st1:place></p>",
	    "<p>Word in Geneva</p>" },
	{ "x<!-- a -->&amp;<!-- b -->y", "x&amp;y" },
	{ "<scr<script>ipt>alert(1)</script>", "ipt>alert(1)" },
	{ "<div notRealAttribute=\"value\n\"onmouseover=\"\nexecuteMe();\n\""
	  "foo=\"bar\">d</div>",
	    "<div>d</div>" },
};

/* Links with a scheme that is not a safe one lose it, however written. */
static const struct html_case html_scheme_cases[] = {
	{ "<a href=\"javascript:alert(1)\">t</a>", "<a>t</a>" },
	{ "<a href=\"JaVaScRiPt:alert(1)\">t</a>", "<a>t</a>" },
	{ "<a href=\" javascript:alert(1)\">t</a>", "<a>t</a>" },
	{ "<a href=\"\tjavascript:alert(1)\">t</a>", "<a>t</a>" },
	{ "<a href=\"java\nscript:alert(1)\">t</a>", "<a>t</a>" },
	{ "<a href=\"java&#09;script:alert(1)\">t</a>", "<a>t</a>" },
	{ "<a href=\"&#106;avascript:alert(1)\">t</a>", "<a>t</a>" },
	{ "<a href=\"&#x6A;avascript&#x3A;alert(1)\">t</a>", "<a>t</a>" },
	{ "<a href=\"vbscript:x\">t</a>", "<a>t</a>" },
	{ "<img src=\"javascript:x\"><img src=\"data:image/png;base64,AAA\">",
	    "<img /><img />" },
	{ "<form action=\"javascript:x\"><button>go</button></form>",
	    "<form><button>go</button></form>" },
	{ "<svg><a xlink:href=\"javascript:alert(1)\"><text>t</text></a></svg>",
	    "<svg xmlns=\"http://www.w3.org/2000/svg\"><a><text>t</text></a>"
	    "</svg>" },
	/* An animation must not make a link javascript: either. */
	{ "<svg><a><set attributeName=\"xlink:HREF \" to=\"javascript:x\"/>"
	  "<animate attributeName=\"onclick\" to=\"x\"/>"
	  "<animate attributeName=\"width\" to=\"9\"/></a></svg>",
	    "<svg xmlns=\"http://www.w3.org/2000/svg\"><a><set to=\"javascript:"
	    "x\"></set><animate to=\"x\"></animate><animate "
	    "attributeName=\"width\" to=\"9\"></animate></a></svg>" },
	/* A name HTML 4 does not know stays text: "&colon;", not ':'. */
	{ "<a href=\"javascript&colon;alert(1)\">t</a>",
	    "<a href=\"http://example.com/d/javascript&amp;colon;alert(1)\">t"
	    "</a>" },
	/* The safe ones stay. */
	{ "<a href=\"mailto:me@example.com\">m</a><a href=\"tel:+1555\">t</a>"
	  "<a href=\"https://other.org/x\">o</a>",
	    "<a href=\"mailto:me@example.com\">m</a><a>t</a>"
	    "<a href=\"https://other.org/x\">o</a>" },
};

/* Text keeps its references as written; markup characters are escaped. */
static const struct html_case html_escape_cases[] = {
	{ "AT&T < 3 &amp; &eacute; &#150; &#X41; &bogus; &#38;",
	    "AT&amp;T &lt; 3 &amp; &eacute; &#x2013; &#x41; &bogus; &#38;" },
	{ "1 < 2 and 3 > 2 <", "1 &lt; 2 and 3 > 2 &lt;" },
	{ "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>",
	    "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>" },
	{ "<code>&lt;br /></code>", "<code>&lt;br /></code>" },
	{ "<!' <b>x</b>", "&lt;!' <b>x</b>" },
	{ "<![CDATA[<b>x</b>]]>", "&lt;![CDATA[<b>x</b>]]>" },
	{ "< a href=\"x\">", "&lt; a href=\"x\">" },
	{ "<3 <b>x</b>", "&lt;3 <b>x</b>" },
	/* Attribute values: decoded, then escaped. */
	{ "<a title='say \"hi\" & <bye>'>t</a>",
	    "<a title=\"say &quot;hi&quot; &amp; &lt;bye&gt;\">t</a>" },
	{ "<img src=\"http://example.com/cat-dog.jpg\" alt=\"cat<br />dog\">",
	    "<img alt=\"cat&lt;br /&gt;dog\" "
	    "src=\"http://example.com/cat-dog.jpg\" />" },
	{ "<a href=http://example.com/\">example</a>",
	    "<a href=\"http://example.com/&quot;\">example</a>" },
	{ "<a title=\"&#38;&amp;&#x26;\">&#38;</a>",
	    "<a title=\"&amp;&amp;&amp;\">&#38;</a>" },
	{ "<a href=\"http://example.com/?a=1&b=2\">q</a>",
	    "<a href=\"http://example.com/?a=1&amp;b=2\">q</a>" },
};

/* One spelling: balanced, lower case, sorted, "<br />". */
static const struct html_case html_canonical_cases[] = {
	{ "<BR><br/><IMG SRC=x ALT=y><b>bold",
	    "<br /><br /><img alt=\"y\" src=\"http://example.com/d/x\" />"
	    "<b>bold</b>" },
	{ "article title<br /><br /> article byline<br/><br/>text",
	    "article title<br /><br /> article byline<br /><br />text" },
	{ "<p>a<p>b", "<p>a</p><p>b</p>" },
	{ "<a title=\"t\"href=\"x\"class=c>y</a>",
	    "<a class=\"c\" href=\"http://example.com/d/x\" title=\"t\">y</a>" },
	{ "<div id=\"a\" ID=\"b\">d</div>", "<div id=\"a\">d</div>" },
	{ "<a href=\"x\" rel=\"NoFollow\" type=\"Text/HTML\">y</a>",
	    "<a href=\"http://example.com/d/x\" rel=\"nofollow\" "
	    "type=\"text/html\">y</a>" },
	/* A boolean attribute's value is its name, as feedparser has it. */
	{ "<input type=checkbox checked>",
	    "<input checked=\"checked\" type=\"checkbox\" />" },
	{ "<table><tr><td>a</td></tr></table><td>b",
	    "<table><tr><td>a</td></tr></table><td>b</td>" },
	{ "<pre>  a\n  b</pre>\n", "<pre>  a\n  b</pre>" },
	{ "  <p>x</p>  ", "<p>x</p>" },
	{ "<title>t</title>x", "tx" },
	{ "", NULL },
	{ " \n ", NULL },
};

/* Links are made absolute, as url_resolve_html_attr() says. */
static const struct html_case html_link_cases[] = {
	{ "<a href=\"\">self</a><a href=\"#top\">top</a>",
	    "<a href=\"http://example.com/d/p.html\">self</a>"
	    "<a href=\"http://example.com/d/p.html#top\">top</a>" },
	{ "<a href=\"/x?a=1&amp;b=2\">x</a>",
	    "<a href=\"http://example.com/x?a=1&amp;b=2\">x</a>" },
	{ "<a href=\" \n x.html\n\t\">x</a>",
	    "<a href=\"http://example.com/d/x.html\">x</a>" },
	{ "<a href=\"caf&#xE9;.html\">c</a>",
	    "<a href=\"http://example.com/d/caf%c3%a9.html\">c</a>" },
	{ "<img src=\"a.png\" longdesc=\"d.html\" usemap=\"#m\">",
	    "<img longdesc=\"http://example.com/d/d.html\" "
	    "src=\"http://example.com/d/a.png\" "
	    "usemap=\"http://example.com/d/p.html#m\" />" },
	{ "<video poster=\"p.jpg\" src=\"v.mp4\"><source src=\"v.webm\">"
	  "</video>",
	    "<video poster=\"http://example.com/d/p.jpg\" "
	    "src=\"http://example.com/d/v.mp4\">"
	    "<source src=\"http://example.com/d/v.webm\" /></video>" },
	{ "<form action=\"/post\"><input name=\"q\" onfocus=\"x\"></form>",
	    "<form action=\"http://example.com/post\"><input name=\"q\" />"
	    "</form>" },
	/* Only the attributes that are links. */
	{ "<span href=\"x\">s</span><a src=\"y\">t</a>",
	    "<span href=\"x\">s</span><a src=\"y\">t</a>" },
};

/* CSS: plain declarations of harmless properties only. */
static const struct html_case html_css_cases[] = {
	{ "<span style=\"color: red; position: fixed; "
	  "background: url(http://evil/)\">s</span>",
	    "<span style=\"color: red;\">s</span>" },
	{ "<span style=\"width: expression(alert(1))\">s</span>",
	    "<span>s</span>" },
	{ "<span style=\"font-family: 'Lucida Console';\">s</span>",
	    "<span style=\"font-family: 'Lucida Console';\">s</span>" },
	{ "<div style=\"background-color: #fff; border: 1px solid black; "
	  "margin: 0 auto; padding: javascript\">d</div>",
	    "<div style=\"background-color: #fff; border: 1px solid black; "
	    "margin: 0 auto;\">d</div>" },
	{ "<p style=\"color: red; }</style><script>\">x</p>", "<p>x</p>" },
};

/* SVG and MathML, inside <svg> and <math> only. */
static const struct html_case html_svg_cases[] = {
	{ "<svg viewBox=\"0 0 10 10\"><circle r=\"5\" onload=\"x\"/></svg>",
	    "<svg viewBox=\"0 0 10 10\" xmlns=\"http://www.w3.org/2000/svg\">"
	    "<circle r=\"5\"></circle></svg>" },
	{ "<svg><a xlink:href=\"http://e/\"><linearGradient x1=\"0\"/></a>"
	  "</svg>",
	    "<svg xmlns=\"http://www.w3.org/2000/svg\"><a xlink:href=\"http://"
	    "e/\" xmlns:xlink=\"http://www.w3.org/1999/xlink\">"
	    "<linearGradient x1=\"0\"></linearGradient></a></svg>" },
	{ "<circle r=\"5\">x</circle>", "x" },
	{ "<math><mi>x</mi><script>y</script></math>",
	    "<math xmlns=\"http://www.w3.org/1998/Math/MathML\"><mi>x</mi>"
	    "</math>" },
};

static void
test_html_unsafe_removed(void **state)
{
	(void)state;
	RUN(html_unsafe_cases);
}

static void
test_html_unsafe_schemes(void **state)
{
	(void)state;
	RUN(html_scheme_cases);
}

static void
test_html_escapes(void **state)
{
	(void)state;
	RUN(html_escape_cases);
}

static void
test_html_canonical(void **state)
{
	(void)state;
	RUN(html_canonical_cases);
}

static void
test_html_links(void **state)
{
	static const struct html_case no_base[] = {
		{ "<a href=\"x\">y</a>", "<a href=\"x\">y</a>" },
		{ "<a href=\"javascript:x\">y</a>", "<a>y</a>" },
	};
	static const struct html_case unsafe_base[] = {
		{ "<a href=\"test.html\">t</a>",
		    "<a href=\"test.html\">t</a>" },
	};

	(void)state;
	RUN(html_link_cases);
	html_run(no_base, sizeof no_base / sizeof no_base[0], NULL);
	/* No link comes of a javascript: base. */
	html_run(unsafe_base, sizeof unsafe_base / sizeof unsafe_base[0],
	    "javascript:alert('unsafe')");
	html_run(unsafe_base, sizeof unsafe_base / sizeof unsafe_base[0],
	    "javascript://%0aalert(1)/");
}

static void
test_html_css(void **state)
{
	(void)state;
	RUN(html_css_cases);
}

static void
test_html_svg(void **state)
{
	(void)state;
	RUN(html_svg_cases);
}

/* What comes out goes through again unchanged. */
static void
test_html_is_idempotent(void **state)
{
	static const struct {
		const struct html_case *v;
		size_t n;
	} tables[] = {
		{ html_unsafe_cases,
		    sizeof html_unsafe_cases / sizeof html_unsafe_cases[0] },
		{ html_scheme_cases,
		    sizeof html_scheme_cases / sizeof html_scheme_cases[0] },
		{ html_escape_cases,
		    sizeof html_escape_cases / sizeof html_escape_cases[0] },
		{ html_canonical_cases,
		    sizeof html_canonical_cases /
			sizeof html_canonical_cases[0] },
		{ html_link_cases,
		    sizeof html_link_cases / sizeof html_link_cases[0] },
		{ html_css_cases,
		    sizeof html_css_cases / sizeof html_css_cases[0] },
		{ html_svg_cases,
		    sizeof html_svg_cases / sizeof html_svg_cases[0] },
	};
	char *again;

	(void)state;
	for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++) {
		for (size_t i = 0; i < tables[t].n; i++) {
			if (tables[t].v[i].want == NULL)
				continue;
			again = html_sanitize(tables[t].v[i].want, BASE);
			assert_non_null(again);
			assert_string_equal(again, tables[t].v[i].want);
			free(again);
		}
	}
}

/* Count the times needle is in s. */
static size_t
html_count(const char *s, const char *needle)
{
	size_t n = 0;

	for (; (s = strstr(s, needle)) != NULL; s++)
		n++;
	return n;
}

/*
 * Deep nesting: at most HTML_MAX_DEPTH levels, balanced, text kept. Past
 * libxml2's own limit (256 levels) the rest of the fragment is lost.
 */
static void
test_html_depth_bounded(void **state)
{
	static const size_t depths[] = { 200, 100000 };
	char *in, *out;

	(void)state;
	for (size_t k = 0; k < sizeof depths / sizeof depths[0]; k++) {
		in = malloc(depths[k] * 5 + 2);
		assert_non_null(in);
		for (size_t i = 0; i < depths[k]; i++)
			memcpy(in + i * 5, "<div>", 5);
		memcpy(in + depths[k] * 5, "x", 2);
		out = html_sanitize(in, BASE);
		assert_non_null(out);
		if (depths[k] < 256)
			assert_non_null(strstr(out, "x"));
		assert_true(html_count(out, "<div>") < HTML_MAX_DEPTH);
		assert_int_equal(
		    html_count(out, "<div>"), html_count(out, "</div>"));
		free(out);
		free(in);
	}
}

#define HTML_LINEAR_SIZE (256 * 1024) /* bytes */

/*
 * Inputs that would make a careless parser go over the rest of the
 * fragment again and again (minutes at this size): each takes seconds
 * at most, even under the sanitizers on a busy machine.
 */
static void
test_html_linear(void **state)
{
	static const char *const patterns[] = {
		"<",
		"<a ",
		"<!",
		"<!--",
		"</",
		"<?",
		"<a x='",
		"&",
		"&#",
		"<p>",
		"<b><i>",
		"</div>",
		"<table><td>",
		"<a href=\"x\">",
		"<span style=\"color: red;",
		"<script>",
	};
	struct timespec t0, t1;
	size_t plen, len;
	char *in;
	double secs;

	(void)state;
	for (size_t i = 0; i < sizeof patterns / sizeof patterns[0]; i++) {
		plen = strlen(patterns[i]);
		in = malloc(HTML_LINEAR_SIZE + 1);
		assert_non_null(in);
		for (len = 0; len + plen <= HTML_LINEAR_SIZE; len += plen)
			memcpy(in + len, patterns[i], plen);
		in[len] = '\0';
		clock_gettime(CLOCK_MONOTONIC, &t0);
		free(html_sanitize(in, BASE));
		clock_gettime(CLOCK_MONOTONIC, &t1);
		secs =
		    (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
		print_message(
		    "html_sanitize: %s: %.0f ms\n", patterns[i], secs * 1e3);
		assert_true(secs < 10);
		free(in);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_html_unsafe_removed),
		cmocka_unit_test(test_html_unsafe_schemes),
		cmocka_unit_test(test_html_escapes),
		cmocka_unit_test(test_html_canonical),
		cmocka_unit_test(test_html_links),
		cmocka_unit_test(test_html_css),
		cmocka_unit_test(test_html_svg),
		cmocka_unit_test(test_html_is_idempotent),
		cmocka_unit_test(test_html_depth_bounded),
		cmocka_unit_test(test_html_linear),
	};
	int rc;

	xmlInitParser();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	xmlCleanupParser();
	return rc;
}
