#include <stdio.h>
#include <string.h>
#include <time.h>

#include "date.h"

/*
 * Feed dates to UTC seconds: a hand-written, locale-free parser for
 * RFC 822/2822 and ISO 8601 / RFC 3339, and an RFC 3339 formatter.
 */

/* A date as written, before it becomes seconds. */
struct date_fields {
	int year; /* 1000-9999 */
	int mon;  /* 1-12 */
	int mday; /* 1-31 */
	int hour; /* 0-24 (24 only as 24:00:00) */
	int min;
	int sec;  /* 0-60, 60 is clamped to 59 */
	long off; /* seconds east of UTC */
};

struct date_month {
	const char *name; /* lower case; its first 3 letters also match */
	int mon;
};

struct date_zone {
	const char *name; /* lower case */
	long off;	  /* seconds east of UTC */
	int takes_offset; /* "GMT+2", "UTC-05:00" */
};

static const struct date_month date_months[] = {
	{ "january", 1 },
	{ "february", 2 },
	{ "march", 3 },
	{ "april", 4 },
	{ "may", 5 },
	{ "june", 6 },
	{ "july", 7 },
	{ "august", 8 },
	{ "september", 9 },
	{ "sept", 9 },
	{ "october", 10 },
	{ "november", 11 },
	{ "december", 12 },
};

/* RFC 2822 section 4.3, and ISO 8601's Z. */
static const struct date_zone date_zones[] = {
	{ "gmt", 0, 1 },
	{ "ut", 0, 1 },
	{ "utc", 0, 1 },
	{ "z", 0, 0 },
	{ "est", -5 * 3600, 0 },
	{ "edt", -4 * 3600, 0 },
	{ "cst", -6 * 3600, 0 },
	{ "cdt", -5 * 3600, 0 },
	{ "mst", -7 * 3600, 0 },
	{ "mdt", -6 * 3600, 0 },
	{ "pst", -8 * 3600, 0 },
	{ "pdt", -7 * 3600, 0 },
};

#define DATE_NITEMS(a) (sizeof(a) / sizeof((a)[0]))

static int date_is_digit(int);
static int date_is_alpha(int);
static int date_lower(int);
static const char *date_skip_space(const char *);
static size_t date_run(const char *, int (*)(int));
static int date_word_prefix(const char *, size_t, const char *);
static int date_num(const char **, size_t, int *);
static int date_opt2(const char **, int, int *);
static int date_month(const char **, int *);
static int date_offset(const char **, long *, int);
static int date_zone(const char **, long *);
static int date_time(const char **, struct date_fields *, int);
static int date_rfc_sep(const char **);
static int date_rfc(const char **, struct date_fields *);
static int date_iso_date(const char **, struct date_fields *);
static int date_iso(const char **, struct date_fields *);
static int date_tail(const char **, struct date_fields *);
static int date_days_in_month(int, int);
static int date_check(struct date_fields *);
static time_t date_to_time(const struct date_fields *);

/* ASCII only: <ctype.h> answers by locale. */
static int
date_is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
date_is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
date_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static const char *
date_skip_space(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' ||
	    *p == '\f' || *p == '\v')
		p++;
	return p;
}

/* Length of the run of characters at p that is() accepts. */
static size_t
date_run(const char *p, int (*is)(int))
{
	size_t n = 0;

	while (is((unsigned char)p[n]))
		n++;
	return n;
}

/* Do the n letters at w begin the lower-case name, ignoring case? */
static int
date_word_prefix(const char *w, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (name[i] == '\0' ||
		    date_lower((unsigned char)w[i]) != name[i])
			return 0;
	}
	return 1;
}

/* Read exactly n digits; what follows is the caller's to judge. */
static int
date_num(const char **pp, size_t n, int *v)
{
	const char *p = *pp;

	*v = 0;
	for (; n > 0; n--, p++) {
		if (!date_is_digit((unsigned char)*p))
			return -1;
		*v = *v * 10 + (*p - '0');
	}
	*pp = p;
	return 0;
}

/* An optional field: sep and exactly two digits, or nothing at all. */
static int
date_opt2(const char **pp, int sep, int *v)
{
	const char *p = *pp;

	if (*p != sep)
		return 0;
	p++;
	if (date_num(&p, 2, v) == -1)
		return -1;
	*pp = p;
	return 0;
}

/* An English month name, in full or its first three letters. */
static int
date_month(const char **pp, int *mon)
{
	size_t i, n = date_run(*pp, date_is_alpha);
	const char *name;

	for (i = 0; i < DATE_NITEMS(date_months); i++) {
		name = date_months[i].name;
		if ((n == 3 || n == strlen(name)) &&
		    date_word_prefix(*pp, n, name)) {
			*mon = date_months[i].mon;
			*pp += n;
			return 0;
		}
	}
	return -1;
}

/* A numeric zone: +hh, +hhmm or +hh:mm; +h too if is_short_ok. */
static int
date_offset(const char **pp, long *off, int is_short_ok)
{
	const char *p = *pp;
	int sign, hh, mm = 0;
	size_t run;

	if (*p != '+' && *p != '-')
		return -1;
	sign = *p++ == '-' ? -1 : 1;
	run = date_run(p, date_is_digit);
	if (run == 4) {
		if (date_num(&p, 2, &hh) == -1 || date_num(&p, 2, &mm) == -1)
			return -1;
	} else if (run == 2 || (run == 1 && is_short_ok)) {
		if (date_num(&p, run, &hh) == -1)
			return -1;
		if (date_opt2(&p, ':', &mm) == -1)
			return -1;
	} else
		return -1;
	if (hh > 23 || mm > 59)
		return -1;
	*off = sign * (hh * 3600L + mm * 60L);
	*pp = p;
	return 0;
}

/*
 * A zone: numeric or a name from date_zones; GMT, UT and UTC may carry an
 * offset. Military letters other than Z are refused: RFC 2822 itself
 * says their meaning is unknown.
 */
static int
date_zone(const char **pp, long *off)
{
	const char *p = *pp;
	const struct date_zone *z = NULL;
	size_t i, n;

	if (*p == '+' || *p == '-')
		return date_offset(pp, off, 0);
	n = date_run(p, date_is_alpha);
	for (i = 0; i < DATE_NITEMS(date_zones) && z == NULL; i++) {
		if (n == strlen(date_zones[i].name) &&
		    date_word_prefix(p, n, date_zones[i].name))
			z = &date_zones[i];
	}
	if (z == NULL)
		return -1;
	p += n;
	*off = z->off;
	if (z->takes_offset && (*p == '+' || *p == '-')) {
		if (date_offset(&p, off, 1) == -1)
			return -1;
	}
	*pp = p;
	return 0;
}

/*
 * A time of day: hh:mm[:ss] (one-digit hours allowed) or, if is_iso,
 * also the basic hhmm[ss]; ISO fractions of a second are dropped.
 */
static int
date_time(const char **pp, struct date_fields *f, int is_iso)
{
	const char *p = *pp;
	size_t run = date_run(p, date_is_digit);

	if (run == 1 || run == 2) {
		if (date_num(&p, run, &f->hour) == -1 || *p++ != ':' ||
		    date_num(&p, 2, &f->min) == -1)
			return -1;
		if (date_opt2(&p, ':', &f->sec) == -1)
			return -1;
	} else if (is_iso && (run == 4 || run == 6)) {
		if (date_num(&p, 2, &f->hour) == -1 ||
		    date_num(&p, 2, &f->min) == -1 ||
		    (run == 6 && date_num(&p, 2, &f->sec) == -1))
			return -1;
	} else
		return -1;
	if (is_iso && (*p == '.' || *p == ',') &&
	    date_is_digit((unsigned char)p[1]))
		p += 1 + date_run(p + 1, date_is_digit);
	*pp = p;
	return 0;
}

/* Between RFC date fields: white space, a hyphen ("09-Jul-2023"), or both. */
static int
date_rfc_sep(const char **pp)
{
	const char *p = date_skip_space(*pp);

	if (*p == '-')
		p = date_skip_space(p + 1);
	if (p == *pp)
		return -1;
	*pp = p;
	return 0;
}

/*
 * RFC 822/2822: [day-name[,]] d[d] month yy[yy] [h[h]:mm[:ss]], the zone
 * left to date_tail(). The day name is not checked: feeds get it wrong.
 */
static int
date_rfc(const char **pp, struct date_fields *f)
{
	const char *p = *pp;
	size_t run;

	if ((run = date_run(p, date_is_alpha)) > 0) {
		p += run;
		if (*p == ',')
			p++;
		p = date_skip_space(p);
	}
	run = date_run(p, date_is_digit);
	if (run < 1 || run > 2 || date_num(&p, run, &f->mday) == -1 ||
	    date_rfc_sep(&p) == -1 || date_month(&p, &f->mon) == -1 ||
	    date_rfc_sep(&p) == -1)
		return -1;
	run = date_run(p, date_is_digit);
	if ((run != 2 && run != 4) || date_num(&p, run, &f->year) == -1)
		return -1;
	if (run == 2)
		f->year += f->year < 50 ? 2000 : 1900;
	if (*p != '\0' && date_skip_space(p) == p)
		return -1;
	p = date_skip_space(p);
	if (date_is_digit((unsigned char)*p) && date_time(&p, f, 0) == -1)
		return -1;
	*pp = p;
	return 0;
}

/* ISO 8601 calendar date: yyyy, yyyy-mm, yyyy-mm-dd or yyyymmdd. */
static int
date_iso_date(const char **pp, struct date_fields *f)
{
	const char *p = *pp;
	size_t run = date_run(p, date_is_digit);

	if (run == 8) {
		if (date_num(&p, 4, &f->year) == -1 ||
		    date_num(&p, 2, &f->mon) == -1 ||
		    date_num(&p, 2, &f->mday) == -1)
			return -1;
	} else if (run == 4) {
		if (date_num(&p, 4, &f->year) == -1)
			return -1;
		if (date_opt2(&p, '-', &f->mon) == -1 ||
		    date_opt2(&p, '-', &f->mday) == -1)
			return -1;
	} else
		return -1;
	*pp = p;
	return 0;
}

/*
 * ISO 8601 / W3C-DTF / RFC 3339: a date, then for a full date an
 * optional time after 'T' or white space; the zone is date_tail()'s.
 */
static int
date_iso(const char **pp, struct date_fields *f)
{
	const char *p = *pp, *q;
	int is_full;

	if (date_iso_date(&p, f) == -1)
		return -1;
	is_full = p - *pp == 8 || p - *pp == 10;
	q = date_skip_space(p);
	if (is_full && (*p == 'T' || *p == 't')) {
		p++;
		if (date_time(&p, f, 1) == -1)
			return -1;
	} else if (is_full && q != p && date_is_digit((unsigned char)*q)) {
		p = q;
		if (date_time(&p, f, 1) == -1)
			return -1;
	}
	*pp = p;
	return 0;
}

/* What may end a date: a zone, an RFC 2822 "(comment)", white space. */
static int
date_tail(const char **pp, struct date_fields *f)
{
	const char *p = date_skip_space(*pp);

	if (*p != '\0' && *p != '(') {
		if (date_zone(&p, &f->off) == -1)
			return -1;
		p = date_skip_space(p);
	}
	if (*p == '(') {
		if ((p = strchr(p, ')')) == NULL)
			return -1;
		p = date_skip_space(p + 1);
	}
	*pp = p;
	return *p == '\0' ? 0 : -1;
}

static int
date_days_in_month(int year, int mon)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
		31 };
	int is_leap;

	is_leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
	return mon == 2 && is_leap ? 29 : days[mon - 1];
}

/* Reject what is out of range; a leap second becomes :59. */
static int
date_check(struct date_fields *f)
{
	if (f->year < 1000 || f->year > 9999 || f->mon < 1 || f->mon > 12)
		return -1;
	if (f->mday < 1 || f->mday > date_days_in_month(f->year, f->mon))
		return -1;
	if (f->hour > 24 || f->min > 59 || f->sec > 60)
		return -1;
	if (f->hour == 24 && (f->min != 0 || f->sec != 0))
		return -1;
	if (f->sec == 60)
		f->sec = 59;
	return 0;
}

/* Days from civil (Howard Hinnant's algorithm), so no TZ is consulted. */
static time_t
date_to_time(const struct date_fields *f)
{
	long long y, era, yoe, doy, doe, days;

	y = f->year - (f->mon <= 2);
	era = y / 400; /* y >= 999, never negative */
	yoe = y - era * 400;
	doy = (153 * (f->mon > 2 ? f->mon - 3 : f->mon + 9) + 2) / 5 + f->mday -
	    1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	days = era * 146097 + doe - 719468;
	return (time_t)(days * 86400 + f->hour * 3600 + f->min * 60 + f->sec -
	    f->off);
}

int
date_parse(const char *s, time_t *out)
{
	struct date_fields f = { .mon = 1, .mday = 1 };
	const char *p;
	int r;

	if (s == NULL)
		return -1;
	p = date_skip_space(s);
	if (date_run(p, date_is_digit) >= 4)
		r = date_iso(&p, &f);
	else
		r = date_rfc(&p, &f);
	if (r == -1 || date_tail(&p, &f) == -1 || date_check(&f) == -1)
		return -1;
	*out = date_to_time(&f);
	return 0;
}

void
date_format(time_t t, char *buf, size_t len)
{
	struct tm tm;
	int n;

	if (len == 0)
		return;
	if (gmtime_r(&t, &tm) == NULL) {
		buf[0] = '\0';
		return;
	}
	n = snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec);
	if (n < 0 || (size_t)n >= len)
		buf[0] = '\0';
}
