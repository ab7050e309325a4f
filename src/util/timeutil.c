/*
 * timeutil.c - UTC microsecond clock, RFC 3339 formatting and parsing.
 *
 * Calendar arithmetic uses Howard Hinnant's days-from-civil algorithm so no
 * time zone database or locale can change a recorded time.
 */
#include "util/timeutil.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t
ev_time_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
ev_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

void
ev_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t yy = (int64_t)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = yy + (*m <= 2);
}

static void
put(char *p, unsigned v, int width)
{
	while (width-- > 0) {
		p[width] = (char)('0' + v % 10);
		v /= 10;
	}
}

void
ev_time_format(int64_t us, char out[EV_TIME_STRLEN])
{
	int64_t secs = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
	int64_t frac = us - secs * 1000000;
	int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
	int64_t sod = secs - days * 86400;
	int64_t y;
	unsigned m, d;

	ev_civil_from_days(days, &y, &m, &d);
	if (y < 0 || y > 9999)
		y = y < 0 ? 0 : 9999;
	put(out, (unsigned)y, 4);
	out[4] = '-';
	put(out + 5, m, 2);
	out[7] = '-';
	put(out + 8, d, 2);
	out[10] = 'T';
	put(out + 11, (unsigned)(sod / 3600), 2);
	out[13] = ':';
	put(out + 14, (unsigned)(sod / 60 % 60), 2);
	out[16] = ':';
	put(out + 17, (unsigned)(sod % 60), 2);
	out[19] = '.';
	put(out + 20, (unsigned)frac, 6);
	out[26] = 'Z';
	out[27] = '\0';
}

static int
digits(const char **sp, int n, unsigned *v)
{
	const char *s = *sp;
	unsigned x = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		x = x * 10 + (unsigned)(s[i] - '0');
	}
	*v = x;
	*sp = s + n;
	return 0;
}

static int
parse_relative(const char *s, int64_t *us)
{
	int64_t now = ev_time_now_us();
	char *end;
	long long n;
	int64_t unit;

	if (strcmp(s, "now") == 0) {
		*us = now;
		return 0;
	}
	if (s[3] != '+' && s[3] != '-')
		return -1;
	if (!isdigit((unsigned char)s[4]))
		return -1;
	n = strtoll(s + 4, &end, 10);
	switch (*end) {
	case 's': unit = 1000000; break;
	case 'm': unit = 60LL * 1000000; break;
	case 'h': unit = 3600LL * 1000000; break;
	case 'd': unit = 86400LL * 1000000; break;
	default: return -1;
	}
	if (end[1] != '\0' || n < 0 || n > 1000000LL * 365)
		return -1;
	*us = s[3] == '+' ? now + n * unit : now - n * unit;
	return 0;
}

int
ev_time_parse(const char *s, int64_t *us)
{
	unsigned y, mo, d, h = 0, mi = 0, se = 0, oh = 0, om = 0;
	int64_t frac = 0, off = 0;
	static const unsigned mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (s == NULL)
		return -1;
	if (strncmp(s, "now", 3) == 0)
		return parse_relative(s, us);
	if (digits(&s, 4, &y) || *s++ != '-' || digits(&s, 2, &mo) || *s++ != '-' ||
	    digits(&s, 2, &d))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1])
		return -1;
	if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return -1;
	if (*s == '\0')
		goto done;
	if (*s != 'T' && *s != 't' && *s != ' ')
		return -1;
	s++;
	if (digits(&s, 2, &h) || *s++ != ':' || digits(&s, 2, &mi) || *s++ != ':' ||
	    digits(&s, 2, &se))
		return -1;
	if (h > 23 || mi > 59 || se > 60)
		return -1;
	if (se == 60)
		se = 59; /* a leap second is recorded as the last second of its minute */
	if (*s == '.') {
		int n = 0;
		s++;
		if (!isdigit((unsigned char)*s))
			return -1;
		while (isdigit((unsigned char)*s)) {
			if (n < 6) {
				frac = frac * 10 + (*s - '0');
				n++;
			}
			s++;
		}
		while (n++ < 6)
			frac *= 10;
	}
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		int sign = *s == '-' ? -1 : 1;
		s++;
		if (digits(&s, 2, &oh) || *s++ != ':' || digits(&s, 2, &om) || oh > 23 || om > 59)
			return -1;
		off = sign * ((int64_t)oh * 3600 + om * 60);
	} else {
		return -1;
	}
	if (*s != '\0')
		return -1;
done:
	*us = ((ev_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se) - off) *
		  1000000 + frac;
	return 0;
}
