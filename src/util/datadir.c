/*
 * datadir.c - locating evident's shipped data (see datadir.h).
 */
#include "util/datadir.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int
is_dir(const char *p)
{
	struct stat sb;

	return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

const char *
ev_data_dir(const char *given, const char *env, const char *name, char *buf, size_t n,
    int *found)
{
	const char *e = env ? getenv(env) : NULL;
	char exe[PATH_MAX];
	ssize_t len;

	if (given && *given)
		snprintf(buf, n, "%s", given);
	else if (e && *e)
		snprintf(buf, n, "%s", e);
	else {
		len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		if (len > 0) {
			char *slash;
			exe[len] = '\0';
			if ((slash = strrchr(exe, '/')) != NULL) {
				*slash = '\0';
				if ((size_t)snprintf(buf, n, "%s/../%s", exe, name) < n && is_dir(buf))
					goto out;
				if ((size_t)snprintf(buf, n, "%s/../share/evident/%s", exe, name) < n &&
				    is_dir(buf))
					goto out;
			}
		}
		snprintf(buf, n, "/usr/share/evident/%s", name);
	}
out:
	if (found)
		*found = is_dir(buf);
	return buf;
}
