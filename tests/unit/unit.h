/*
 * unit.h - the smallest test harness that does the job: each CHECK prints a
 * TAP line ("ok N - what" / "not ok N - what"), and UNIT_END exits non-zero
 * when anything failed.  tests/run counts the lines.
 */
#ifndef EV_TESTS_UNIT_H
#define EV_TESTS_UNIT_H

#include <stdio.h>
#include <stdlib.h>

static int unit_n, unit_failed;

#define CHECK(cond, ...)                                                        \
	do {                                                                    \
		int ok_ = !!(cond);                                             \
		unit_n++;                                                       \
		if (!ok_)                                                       \
			unit_failed++;                                          \
		printf("%sok %d - ", ok_ ? "" : "not ", unit_n);                \
		printf(__VA_ARGS__);                                            \
		if (!ok_)                                                       \
			printf("  [%s:%d: %s]", __FILE__, __LINE__, #cond);     \
		putchar('\n');                                                  \
	} while (0)

#define UNIT_END() return unit_failed ? 1 : 0

/* The shared fixtures directory: $EVIDENT_FIXTURES or ../shared/fixtures. */
static inline const char *
unit_fixtures(void)
{
	const char *f = getenv("EVIDENT_FIXTURES");
	return f ? f : "../shared/fixtures";
}

#endif
