#ifndef FEEDWATCH_DATE_H
#define FEEDWATCH_DATE_H

#include <stddef.h>
#include <time.h>

/*
 * Dates as feeds write them, to UTC seconds: RFC 822/1123 (RSS) and
 * ISO 8601 / W3C-DTF / RFC 3339 (Atom, Dublin Core, JSON Feed). No
 * locale, no clock, no guessing: what does not parse is an error.
 */

/* Parse s into *out (UTC seconds). Return 0, or -1 when s is not a date. */
int date_parse(const char *s, time_t *out);
/* Format t as RFC 3339 UTC ("2004-01-02T03:04:05Z") into buf (>= 21). */
void date_format(time_t t, char *buf, size_t len);

#endif
