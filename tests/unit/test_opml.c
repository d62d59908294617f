#include <sys/stat.h>

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* cmocka.h needs the standard headers above. */
#include <cmocka.h>

#include "opml.h"
#include "xmalloc.h"

/*
 * OPML: feeds, names and tags from nested outlines; errors that name
 * the file and line; hostile files refused quickly; what opml_add and
 * opml_save write reads back the same.
 */

#define DATA FEEDWATCH_TEST_DATA "/opml/"

/* A feed as the tests expect it; tags joined by spaces. */
struct want_feed {
	const char *name;
	const char *url;
	const char *tags;
};

static void
tags_join(char **tags, char *buf, size_t len)
{
	buf[0] = '\0';
	for (size_t i = 0; tags[i] != NULL; i++) {
		if (i > 0)
			strncat(buf, " ", len - strlen(buf) - 1);
		strncat(buf, tags[i], len - strlen(buf) - 1);
	}
}

static void
assert_feeds(const struct opml *o, const struct want_feed *want, size_t n)
{
	char tags[512];

	if (o->nfeeds != n)
		fail_msg("%zu feeds, want %zu", o->nfeeds, n);
	for (size_t i = 0; i < n; i++) {
		tags_join(o->feeds[i].tags, tags, sizeof tags);
		if (strcmp(o->feeds[i].name, want[i].name) != 0 ||
		    strcmp(o->feeds[i].url, want[i].url) != 0 ||
		    strcmp(tags, want[i].tags) != 0)
			fail_msg("feed %zu: got \"%s\" <%s> [%s], want \"%s\" "
				 "<%s> [%s]",
			    i, o->feeds[i].name, o->feeds[i].url, tags,
			    want[i].name, want[i].url, want[i].tags);
	}
}

static void
test_opml_nested_categories(void **state)
{
	static const struct want_feed want[] = {
		{ "NBC News: World",
		    "https://feeds.nbcnews.com/nbcnews/public/world",
		    "World-News" },
		{ "Meduza", "https://meduza.io/rss/en/all",
		    "World-News Europe Russia Exile independent" },
		{ "Ars", "https://feeds.arstechnica.com/arstechnica/index",
		    "Tech-Science" },
		{ "blog.example.org", "https://blog.example.org/feed.atom",
		    "" },
		{ "other.example.net", "https://Other.Example.NET/rss",
		    "tech" },
	};
	struct opml *o;
	char *cause = NULL;

	(void)state;
	o = opml_load(DATA "nested.opml", &cause);
	if (o == NULL)
		fail_msg("%s", cause);
	assert_feeds(o, want, sizeof want / sizeof want[0]);
	opml_free(o);
}

static void
test_opml_attributes(void **state)
{
	struct opml *o;
	char *cause = NULL;

	(void)state;
	assert_non_null(o = opml_load(DATA "nested.opml", &cause));
	/* title before text; htmlUrl kept; where its start tag ends. */
	assert_string_equal(
	    o->feeds[0].html_url, "https://www.nbcnews.com/world");
	assert_int_equal(o->feeds[0].line, 11);
	assert_null(o->feeds[1].html_url);
	assert_int_equal(o->feeds[1].line, 14);
	assert_non_null(opml_find(o, "Ars"));
	assert_null(opml_find(o, "not a feed"));
	assert_null(opml_find(o, "Empty folder"));
	opml_free(o);
}

static void
test_opml_duplicate_names(void **state)
{
	static const struct want_feed want[] = {
		{ "Caf\xc3\xa9 Babel", "http://www.cafebabel.com/rss.xml", "" },
		{ "Blog", "http://one.example.com/rss", "" },
		{ "Blog-2", "http://two.example.com/rss", "" },
		{ "Blog-2-2", "http://three.example.com/rss", "" },
		{ "Blog-3", "http://four.example.com/rss", "" },
		{ "Gr\xc3\xbcn", "http://gruen.example.com/rss", "" },
	};
	struct opml *o;
	char *cause = NULL;

	(void)state;
	o = opml_load(DATA "opml1.opml", &cause);
	if (o == NULL)
		fail_msg("%s", cause);
	assert_feeds(o, want, sizeof want / sizeof want[0]);
	opml_free(o);
}

/* Errors name the file and, when libxml2 knows it, the line. */
static void
test_opml_errors(void **state)
{
	static const struct {
		const char *text;
		const char *want;
	} cases[] = {
		{ "<opml><body><outline text='a'></body></opml>",
		    "t.opml:1: Opening and ending tag mismatch: outline" },
		{ "", "t.opml:1: Document is empty" },
		{ "<html><body/></html>",
		    "t.opml: not OPML: the document is <html>" },
		{ "<opml version='2.0'><head/></opml>",
		    "t.opml: not OPML: no <body>" },
		{ "<opml><body><outline text='&nbsp;'/></body></opml>",
		    "t.opml:1: Entity 'nbsp' not defined" },
		{ "<rss><channel/></rss>", "the document is <rss>" },
	};
	char *cause;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		cause = NULL;
		if (opml_read(cases[i].text, strlen(cases[i].text), "t.opml",
			&cause) != NULL)
			fail_msg("case %zu: no error", i);
		if (strstr(cause, cases[i].want) == NULL)
			fail_msg("case %zu: want \"%s\", got \"%s\"", i,
			    cases[i].want, cause);
		free(cause);
	}
}

static void
test_opml_malformed_file(void **state)
{
	char *cause = NULL;

	(void)state;
	assert_null(opml_load(DATA "malformed.opml", &cause));
	assert_non_null(strstr(cause, "malformed.opml:5: "));
	assert_non_null(strstr(cause, "Opening and ending tag mismatch"));
	free(cause);
	assert_null(opml_load(DATA "no-such.opml", &cause));
	assert_non_null(
	    strstr(cause, "no-such.opml: No such file or directory"));
	free(cause);
	assert_null(opml_load(FEEDWATCH_TEST_DATA, &cause));
	assert_non_null(strstr(cause, "not a regular file"));
	free(cause);
}

/* Entities are refused at their declaration: nothing can expand. */
static void
test_opml_hostile_entities(void **state)
{
	static const char *files[] = { "billion-laughs.opml", "xxe.opml" };
	char path[512], *cause;
	clock_t start = clock();

	(void)state;
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		cause = NULL;
		snprintf(path, sizeof path, "%s%s", DATA, files[i]);
		assert_null(opml_load(path, &cause));
		if (strstr(cause, ":3: entity declarations are refused") ==
		    NULL)
			fail_msg("%s: %s", files[i], cause);
		free(cause);
	}
	assert_true((clock() - start) / CLOCKS_PER_SEC < 2);
}

/* depth outlines, each in the one before; caller frees. */
static char *
nested(int depth)
{
	size_t cap = (size_t)depth * 40 + 128, len = 0;
	char *s = xmalloc(cap);

	len += (size_t)snprintf(s + len, cap - len, "<opml><body>");
	for (int i = 0; i < depth - 1; i++)
		len += (size_t)snprintf(
		    s + len, cap - len, "<outline text='f%d'>", i);
	len += (size_t)snprintf(
	    s + len, cap - len, "<outline text='deep' xmlUrl='http://d/'/>");
	for (int i = 0; i < depth - 1; i++)
		len += (size_t)snprintf(s + len, cap - len, "</outline>");
	snprintf(s + len, cap - len, "</body></opml>");
	return s;
}

static void
test_opml_deep_nesting(void **state)
{
	struct opml *o;
	char *s, *cause = NULL;

	(void)state;
	/* As deep as allowed: 31 folders, each a tag, and the feed. */
	s = nested(OPML_MAX_DEPTH);
	assert_non_null(o = opml_read(s, strlen(s), "deep.opml", &cause));
	assert_int_equal(o->nfeeds, 1);
	assert_string_equal(o->feeds[0].tags[0], "f0");
	assert_string_equal(o->feeds[0].tags[OPML_MAX_DEPTH - 2], "f30");
	assert_null(o->feeds[0].tags[OPML_MAX_DEPTH - 1]);
	opml_free(o);
	free(s);
	s = nested(OPML_MAX_DEPTH + 1);
	assert_null(opml_read(s, strlen(s), "deep.opml", &cause));
	assert_non_null(strstr(cause, "deep.opml:1: outlines nested more"));
	free(cause);
	free(s);
	/* Far deeper: libxml2's own limit stops it, without recursion. */
	s = nested(100000);
	assert_null(opml_read(s, strlen(s), "deep.opml", &cause));
	assert_non_null(strstr(cause, "deep.opml:1: "));
	free(cause);
	free(s);
}

static void
test_opml_too_large(void **state)
{
	char *cause = NULL;

	(void)state;
	assert_null(
	    opml_read("", (size_t)OPML_MAX_SIZE + 1, "big.opml", &cause));
	assert_string_equal(cause, "big.opml: larger than 16777216 bytes");
	free(cause);
}

/* What opml_add writes reads back with the same names, URLs and tags. */
static void
test_opml_round_trip(void **state)
{
	static const struct {
		const char *name;
		const char *url;
		const char *tags[4];
		const char *want_tags;
	} feeds[] = {
		{ "nbc-world", "https://feeds.nbcnews.com/nbcnews/public/world",
		    { "world", "us" }, "world us" },
		{ "A \"quoted\" <name> & more", "https://x.example/?a=1&b=<2>",
		    { NULL }, "" },
		{ "\xd0\x9c\xd0\xb5\xd0\xb4\xd1\x83\xd0\xb7\xd0\xb0",
		    "https://meduza.io/rss/all", { "world", "ru", "exile" },
		    "world ru exile" },
		{ "local", "file:///srv/feeds/local.xml",
		    { "Tech News", "a/b", "tech news" },
		    "Tech-News a-b tech-news" },
	};
	const struct opml_feed *f;
	struct opml *o, *back;
	char *text, *cause = NULL, tags[256];
	size_t len;

	(void)state;
	o = opml_new("feedwatch feeds");
	for (size_t i = 0; i < sizeof feeds / sizeof feeds[0]; i++)
		assert_int_equal(opml_add(o, feeds[i].name, feeds[i].url,
				     feeds[i].tags, NULL, &cause),
		    0);
	text = opml_dump(o, &len);
	assert_int_equal(strlen(text), len);
	assert_non_null(strstr(text, "<opml version=\"2.0\">"));
	back = opml_read(text, len, "dump", &cause);
	if (back == NULL)
		fail_msg("%s\n%s", cause, text);
	assert_int_equal(back->nfeeds, sizeof feeds / sizeof feeds[0]);
	for (size_t i = 0; i < sizeof feeds / sizeof feeds[0]; i++) {
		if ((f = opml_find(back, feeds[i].name)) == NULL)
			fail_msg("\"%s\" is lost:\n%s", feeds[i].name, text);
		assert_string_equal(f->url, feeds[i].url);
		tags_join(f->tags, tags, sizeof tags);
		assert_string_equal(tags, feeds[i].want_tags);
		tags_join(o->feeds[i].tags, tags, sizeof tags);
		assert_string_equal(tags, feeds[i].want_tags);
	}
	free(text);
	opml_free(back);
	opml_free(o);
}

/* A feed added to a file a person wrote: the rest of it stays. */
static void
test_opml_add_to_file(void **state)
{
	static const char *tags[] = { "World-News", "extra", NULL };
	static const char *other[] = { "new folder", NULL };
	struct opml *o, *back;
	char *text, *cause = NULL;
	size_t len;

	(void)state;
	assert_non_null(o = opml_load(DATA "nested.opml", &cause));
	assert_int_equal(opml_add(o, "BBC", "https://feeds.bbci.co.uk/rss",
			     tags, "https://bbc.co.uk/", &cause),
	    0);
	assert_int_equal(opml_add(o, "Other", "https://other.example/rss",
			     other, NULL, &cause),
	    0);
	assert_int_equal(o->nfeeds, 7);
	text = opml_dump(o, &len);
	assert_non_null(strstr(text, "<!-- A reader's export"));
	assert_non_null(strstr(text, "<outline text=\"Empty folder\"/>"));
	assert_non_null(
	    strstr(text, "<outline text=\"new-folder\" title=\"new-folder\">"));
	assert_non_null(back = opml_read(text, len, "dump", &cause));
	assert_int_equal(back->nfeeds, 7);
	/* Into the existing folder, before the feeds that follow it. */
	assert_string_equal(back->feeds[2].name, "BBC");
	assert_string_equal(back->feeds[2].tags[0], "World-News");
	assert_string_equal(back->feeds[2].tags[1], "extra");
	assert_null(back->feeds[2].tags[2]);
	assert_string_equal(back->feeds[2].html_url, "https://bbc.co.uk/");
	assert_string_equal(back->feeds[6].name, "Other");
	assert_string_equal(back->feeds[6].tags[0], "new-folder");
	assert_string_equal(back->feeds[1].name, "Meduza");
	free(text);
	opml_free(back);
	opml_free(o);
}

static void
test_opml_add_refused(void **state)
{
	static const char *bad_tag[] = { "ok", "\xff\xfe", NULL };
	struct opml *o = opml_new("t");
	char *cause = NULL;

	(void)state;
	assert_int_equal(opml_add(o, "", "http://a/", NULL, NULL, &cause), -1);
	free(cause);
	assert_int_equal(
	    opml_add(o, "a\x01", "http://a/", NULL, NULL, &cause), -1);
	assert_non_null(strstr(cause, "control characters"));
	free(cause);
	assert_int_equal(
	    opml_add(o, "a", "http://a/\xc3", NULL, NULL, &cause), -1);
	free(cause);
	assert_int_equal(
	    opml_add(o, "a", "http://a/", bad_tag, NULL, &cause), -1);
	assert_string_equal(cause, "tag is not UTF-8");
	free(cause);
	assert_int_equal(o->nfeeds, 0);
	opml_free(o);
}

static void
test_opml_save(void **state)
{
	static const char *tags[] = { "world", NULL };
	char dir[] = "/tmp/feedwatch-opml-XXXXXX", path[64], *text, *cause;
	struct opml *o = opml_new("t"), *back;
	struct dirent *de;
	struct stat sb;
	size_t n = 0;
	DIR *d;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/feeds.opml", dir);
	assert_int_equal(opml_add(o, "a", "http://a/", tags, NULL, &cause), 0);
	assert_int_equal(opml_save(o, path, &cause), 0);
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(opml_add(o, "b", "http://b/", NULL, NULL, &cause), 0);
	assert_int_equal(opml_save(o, path, &cause), 0);
	/* The mode is kept, and no temporary file is left. */
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0640);
	assert_non_null(d = opendir(dir));
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.' || strlen(de->d_name) > 2;
	closedir(d);
	assert_int_equal(n, 1);
	assert_non_null(back = opml_load(path, &cause));
	assert_int_equal(back->nfeeds, 2);
	text = opml_dump(o, NULL);
	opml_free(back);
	free(text);
	/* A directory that does not exist: an error, nothing written. */
	snprintf(path, sizeof path, "%s/no/feeds.opml", dir);
	assert_int_equal(opml_save(o, path, &cause), -1);
	assert_non_null(strstr(cause, "No such file or directory"));
	free(cause);
	snprintf(path, sizeof path, "%s/feeds.opml", dir);
	unlink(path);
	rmdir(dir);
	opml_free(o);
}

/*
 * A name cut at OPML_MAX_NAME just after a space loses the space: read
 * again after being written, it must be the same name (found by fuzzing).
 */
static void
test_opml_long_name_round_trip(void **state)
{
	struct opml *o, *out, *back;
	char text[1024], title[OPML_MAX_NAME + 8], *dump, *cause = NULL;
	size_t len;

	(void)state;
	memset(title, 'a', OPML_MAX_NAME - 1);
	strcpy(title + OPML_MAX_NAME - 1, " bc");
	snprintf(text, sizeof text,
	    "<opml version=\"2.0\"><body><outline title=\"%s\" "
	    "xmlUrl=\"http://a.example/\"/></body></opml>",
	    title);
	o = opml_read(text, strlen(text), "t.opml", &cause);
	assert_non_null(o);
	assert_int_equal(o->nfeeds, 1);
	assert_int_equal(strlen(o->feeds[0].name), OPML_MAX_NAME - 1);
	out = opml_new("t");
	assert_int_equal(opml_add(out, o->feeds[0].name, o->feeds[0].url, NULL,
			     NULL, &cause),
	    0);
	dump = opml_dump(out, &len);
	back = opml_read(dump, len, "dump", &cause);
	assert_non_null(back);
	assert_non_null(opml_find(back, o->feeds[0].name));
	opml_free(back);
	free(dump);
	opml_free(out);
	opml_free(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_opml_nested_categories),
		cmocka_unit_test(test_opml_long_name_round_trip),
		cmocka_unit_test(test_opml_attributes),
		cmocka_unit_test(test_opml_duplicate_names),
		cmocka_unit_test(test_opml_errors),
		cmocka_unit_test(test_opml_malformed_file),
		cmocka_unit_test(test_opml_hostile_entities),
		cmocka_unit_test(test_opml_deep_nesting),
		cmocka_unit_test(test_opml_too_large),
		cmocka_unit_test(test_opml_round_trip),
		cmocka_unit_test(test_opml_add_to_file),
		cmocka_unit_test(test_opml_add_refused),
		cmocka_unit_test(test_opml_save),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
