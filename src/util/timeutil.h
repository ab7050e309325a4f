/*
 * timeutil.h - UTC time as microseconds since the Unix epoch, RFC 3339 text.
 *
 * evident keeps every time in UTC.  Text output is always
 * "YYYY-MM-DDTHH:MM:SS.ffffffZ"; input accepts RFC 3339 with any fraction
 * and offset, a plain date "YYYY-MM-DD" (midnight UTC), or relative forms
 * "now", "now-24h", "now+30m" (units s, m, h, d).
 */
#ifndef EV_UTIL_TIMEUTIL_H
#define EV_UTIL_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

#define EV_TIME_STRLEN 28 /* "2026-11-24T22:30:00.123456Z" + NUL */

/* The current UTC time in microseconds (CLOCK_REALTIME). */
int64_t ev_time_now_us(void);
/* Format us as RFC 3339 UTC with microseconds into out[EV_TIME_STRLEN]. */
void ev_time_format(int64_t us, char out[EV_TIME_STRLEN]);
/* Parse the forms listed above; 0 on success, -1 on malformed input. */
int ev_time_parse(const char *s, int64_t *us);
/* Days since 1970-01-01 for a proleptic Gregorian date (no range check). */
int64_t ev_days_from_civil(int64_t y, unsigned m, unsigned d);
/* The inverse of ev_days_from_civil. */
void ev_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);

#endif
