#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* cmocka.h needs the four headers above it. */
#include <cmocka.h>

#include "date.h"

/* date_parse() and date_format(): tables of what feeds write. */

struct date_case {
	const char *in;
	const char *want; /* RFC 3339 UTC, or NULL when in must be refused */
};

static const struct date_case date_rfc822_cases[] = {
	{ "Sun, 09 Jul 2023 14:02:00 +0000", "2023-07-09T14:02:00Z" },
	{ "Sun, 9 Jul 2023 14:02:00 GMT", "2023-07-09T14:02:00Z" },
	{ "9 Jul 2023 14:02 EST", "2023-07-09T19:02:00Z" },
	{ "Thu, 01 Jan 04 19:48:21 GMT", "2004-01-01T19:48:21Z" },
	{ "Fri, 01 Jan 99 00:00:00 GMT", "1999-01-01T00:00:00Z" },
	{ "Mon, 31 Dec 2003 10:14:55 GMT+2", "2003-12-31T08:14:55Z" },
	{ "Wed, 31 Dec 2003 10:14:55 GMT-05:00", "2003-12-31T15:14:55Z" },
	{ "Wed, 31 Dec 2003 10:14:55 UTC+0530", "2003-12-31T04:44:55Z" },
	{ "Wed, 31 Dec 2003 10:14:55 +05:30", "2003-12-31T04:44:55Z" },
	{ "Wed, 31 Dec 2003 10:14:55 -0800", "2003-12-31T18:14:55Z" },
	{ "Wed, 31 Dec 2003 23:30:00 -0100", "2004-01-01T00:30:00Z" },
	{ "Tue, 10 Jun 2003 04:00:00 PDT", "2003-06-10T11:00:00Z" },
	{ "Tue, 10 Jun 2003 04:00:00 PST", "2003-06-10T12:00:00Z" },
	{ "Tue, 10 Jun 2003 04:00:00 MDT", "2003-06-10T10:00:00Z" },
	{ "Tue, 10 Jun 2003 04:00:00 MST", "2003-06-10T11:00:00Z" },
	{ "Tue, 10 Jun 2003 04:00:00 CDT", "2003-06-10T09:00:00Z" },
	{ "Tue, 10 Jun 2003 04:00:00 CST", "2003-06-10T10:00:00Z" },
	{ "Tue, 10 Jun 2003 04:00:00 EDT", "2003-06-10T08:00:00Z" },
	{ "Tue, 10 Jun 2003 04:00:00 UT", "2003-06-10T04:00:00Z" },
	{ "Tue, 10 Jun 2003 04:00:00 utc", "2003-06-10T04:00:00Z" },
	{ "Tue, 10 Jun 2003 04:00:00 Z", "2003-06-10T04:00:00Z" },
	{ "Tue, 10 Jun 2003 04:00:00", "2003-06-10T04:00:00Z" },
	{ "Tue, 10 Jun 2003", "2003-06-10T00:00:00Z" },
	{ "10 Jun 2003 GMT", "2003-06-10T00:00:00Z" },
	{ "Tuesday, 10 June 2003 04:00 GMT", "2003-06-10T04:00:00Z" },
	{ "Sun 09 Jul 2023 14:02:00 +0000", "2023-07-09T14:02:00Z" },
	{ "Blursday, 09 Jul 2023 14:02:00 +0000", "2023-07-09T14:02:00Z" },
	{ "Mon, 09 Jul 2023 14:02:00 +0000", "2023-07-09T14:02:00Z" },
	{ "sun, 09 JUL 2023 14:02:00 gmt", "2023-07-09T14:02:00Z" },
	{ "09-Jul-2023 14:02:00 +0000", "2023-07-09T14:02:00Z" },
	{ "Thu, 14 Sept 2023 9:05:00 GMT", "2023-09-14T09:05:00Z" },
	{ "Thu, 14 September 2023 9:05 +0200", "2023-09-14T07:05:00Z" },
	{ "Tue, 10 Jun 2003 04:00:00 +0000 (UTC)", "2003-06-10T04:00:00Z" },
	{ "  \t Sun, 09 Jul 2023 14:02:00 +0000 \r\n", "2023-07-09T14:02:00Z" },
	{ "Sat, 31 Dec 2016 23:59:60 GMT", "2016-12-31T23:59:59Z" },
	{ "Thu, 29 Feb 2024 12:00:00 GMT", "2024-02-29T12:00:00Z" },
	{ "Tue, 29 Feb 2000 12:00:00 GMT", "2000-02-29T12:00:00Z" },
};

static const struct date_case date_iso8601_cases[] = {
	{ "2003-12-31T10:14:55Z", "2003-12-31T10:14:55Z" },
	{ "2003-12-31T10:14:55.123+01:00", "2003-12-31T09:14:55Z" },
	{ "2003-12-31T10:14:55,5Z", "2003-12-31T10:14:55Z" },
	{ "2003-12-31T10:14", "2003-12-31T10:14:00Z" },
	{ "2003-12-31T10:14Z", "2003-12-31T10:14:00Z" },
	{ "2003-12-31 10:14:55", "2003-12-31T10:14:55Z" },
	{ "2003-12-31", "2003-12-31T00:00:00Z" },
	{ "2003-12", "2003-12-01T00:00:00Z" },
	{ "2003", "2003-01-01T00:00:00Z" },
	{ "20031231T101455Z", "2003-12-31T10:14:55Z" },
	{ "20031231T1014", "2003-12-31T10:14:00Z" },
	{ "20031231", "2003-12-31T00:00:00Z" },
	{ "2003-12-31T10:14:55-0800", "2003-12-31T18:14:55Z" },
	{ "2003-12-31T10:14:55-08", "2003-12-31T18:14:55Z" },
	{ "2003-12-31t10:14:55z", "2003-12-31T10:14:55Z" },
	{ "2003-12-31T10:14:55 +01:00", "2003-12-31T09:14:55Z" },
	{ "2003-12-31T10:14:55+05:45", "2003-12-31T04:29:55Z" },
	{ "2003-12-31T24:00:00Z", "2004-01-01T00:00:00Z" },
	{ "2016-12-31T23:59:60Z", "2016-12-31T23:59:59Z" },
	{ " 2003-12-31T10:14:55Z\n", "2003-12-31T10:14:55Z" },
	{ "1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z" },
	{ "1000-01-01T00:00:00Z", "1000-01-01T00:00:00Z" },
	{ "9999-12-31T23:59:59Z", "9999-12-31T23:59:59Z" },
	{ "1900-03-01", "1900-03-01T00:00:00Z" },
	{ "2038-01-19T03:14:08Z", "2038-01-19T03:14:08Z" },
};

static const struct date_case date_reject_cases[] = {
	{ "", NULL },
	{ "   ", NULL },
	{ "yesterday", NULL },
	{ "12:00", NULL },
	{ "2003-02-30", NULL },
	{ "2003-02-29", NULL },
	{ "1900-02-29", NULL },
	{ "2003-13-01", NULL },
	{ "2003-00-10", NULL },
	{ "2003-12-00", NULL },
	{ "2003-12-32", NULL },
	{ "2003-1-5", NULL },
	{ "2003-12-31T", NULL },
	{ "2003-12-31T25:00:00Z", NULL },
	{ "2003-12-31T24:00:01Z", NULL },
	{ "2003-12-31T10:60:00Z", NULL },
	{ "2003-12-31T10:14:61Z", NULL },
	{ "2003-12-31T10Z", NULL },
	{ "2003-12-31T10:14:55+25:00", NULL },
	{ "2003-12-31T10:14:55+01:60", NULL },
	{ "2003-12-31T10:14:55+1", NULL },
	{ "2003-12-31T10:14:55Zjunk", NULL },
	{ "2003-12-31T10:14:55 foo", NULL },
	{ "2003-12-31T10:14:55Z (unclosed", NULL },
	{ "2003-12T10:14", NULL },
	{ "200312", NULL },
	{ "20031", NULL },
	{ "0001-01-01T00:00:00Z", NULL },
	{ "10000-01-01", NULL },
	{ "-2003-12-31", NULL },
	{ "2003-W01-1", NULL },
	{ "Foo, 32 Jan 2003", NULL },
	{ "Tue, 10 Foo 2003 04:00:00 GMT", NULL },
	{ "Tue, 10 Ju 2003 04:00:00 GMT", NULL },
	{ "Tue, 10 Jun 203 04:00:00 GMT", NULL },
	{ "Tue, 10 Jun 2003 04:00:00 XYZ", NULL },
	{ "Tue, 10 Jun 2003 04:00:00 A", NULL },
	{ "Tue, 10 Jun 2003 04:00:00 EST+1", NULL },
	{ "Tue, 10 Jun 2003 4 GMT", NULL },
	{ "Tue, 10 Jun 2003 04:0 GMT", NULL },
	{ "Tue, 10 Jun 2003 123:00 GMT", NULL },
	{ "Tue, 10 Jun 2003 04:00:00 GMT garbage", NULL },
	{ "Tue, 10 Jun 2003GMT", NULL },
	{ "Tue, 100 Jun 2003", NULL },
	{ "Thu, 29 Feb 2023 12:00:00 GMT", NULL },
	{ "Sun Jul  9 14:02:00 2023", NULL },
	{ "Jul 9, 2023", NULL },
	{ "1688911320", NULL },
};

/* Parse each case; report every mismatch, then fail if there was one. */
static void
date_run_cases(const struct date_case *cases, size_t n)
{
	char buf[32];
	time_t t;
	size_t i;
	int failed = 0, ok, r;

	for (i = 0; i < n; i++) {
		t = 12345;
		r = date_parse(cases[i].in, &t);
		if (r == 0)
			date_format(t, buf, sizeof buf);
		if (cases[i].want == NULL)
			ok = r == -1 && t == 12345; /* *out untouched */
		else
			ok = r == 0 && strcmp(buf, cases[i].want) == 0;
		if (ok)
			continue;
		print_error("\"%s\": got %s, want %s\n", cases[i].in,
		    r == 0 ? buf : "an error",
		    cases[i].want ? cases[i].want : "an error");
		failed++;
	}
	assert_int_equal(failed, 0);
}

static void
test_date_rfc822(void **state)
{
	(void)state;
	date_run_cases(date_rfc822_cases,
	    sizeof date_rfc822_cases / sizeof date_rfc822_cases[0]);
}

static void
test_date_iso8601(void **state)
{
	(void)state;
	date_run_cases(date_iso8601_cases,
	    sizeof date_iso8601_cases / sizeof date_iso8601_cases[0]);
}

static void
test_date_rejects(void **state)
{
	(void)state;
	date_run_cases(date_reject_cases,
	    sizeof date_reject_cases / sizeof date_reject_cases[0]);
}

static void
test_date_two_digit_year_pivot(void **state)
{
	static const struct date_case cases[] = {
		{ "1 Jan 00", "2000-01-01T00:00:00Z" },
		{ "1 Jan 49", "2049-01-01T00:00:00Z" },
		{ "1 Jan 50", "1950-01-01T00:00:00Z" },
		{ "1 Jan 70", "1970-01-01T00:00:00Z" },
	};

	(void)state;
	date_run_cases(cases, sizeof cases / sizeof cases[0]);
}

static void
test_date_epoch_seconds(void **state)
{
	static const struct {
		const char *in;
		time_t want;
	} cases[] = {
		{ "1970-01-01T00:00:00Z", 0 },
		{ "Sun, 09 Jul 2023 14:02:00 +0000", 1688911320 },
		{ "2000-03-01T00:00:00Z", 951868800 },
		{ "1969-12-31T00:00:00Z", -86400 },
		{ "1000-01-01", -30610224000LL },
	};
	time_t t;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(date_parse(cases[i].in, &t), 0);
		assert_int_equal(t, cases[i].want);
	}
}

static void
test_date_null_input(void **state)
{
	time_t t = 7;

	(void)state;
	assert_int_equal(date_parse(NULL, &t), -1);
	assert_int_equal(t, 7);
}

static void
test_date_format(void **state)
{
	static const struct {
		time_t in;
		const char *want;
	} cases[] = {
		{ 0, "1970-01-01T00:00:00Z" },
		{ 1688911320, "2023-07-09T14:02:00Z" },
		{ 1073012645, "2004-01-02T03:04:05Z" },
		{ -1, "1969-12-31T23:59:59Z" },
	};
	char buf[21];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		date_format(cases[i].in, buf, sizeof buf);
		assert_string_equal(buf, cases[i].want);
	}
}

static void
test_date_format_short_buffer(void **state)
{
	char buf[8] = "xxxxxxx";

	(void)state;
	date_format(0, buf, sizeof buf);
	assert_string_equal(buf, "");
	date_format(0, buf, 0);
	assert_string_equal(buf, "");
}

static void
test_date_format_round_trip(void **state)
{
	static const time_t cases[] = { 0, 1, 951782400, 1688911320, 2147483647,
		4102444800LL, 253402300799LL };
	char buf[32];
	time_t t;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		date_format(cases[i], buf, sizeof buf);
		assert_int_equal(date_parse(buf, &t), 0);
		assert_int_equal(t, cases[i]);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_date_rfc822),
		cmocka_unit_test(test_date_iso8601),
		cmocka_unit_test(test_date_rejects),
		cmocka_unit_test(test_date_two_digit_year_pivot),
		cmocka_unit_test(test_date_epoch_seconds),
		cmocka_unit_test(test_date_null_input),
		cmocka_unit_test(test_date_format),
		cmocka_unit_test(test_date_format_short_buffer),
		cmocka_unit_test(test_date_format_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
