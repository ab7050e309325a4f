/*
 * buf.c - growable buffers and allocation helpers (see buf.h).
 */
#include "util/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
ev_oom(void)
{
	fputs("evident: out of memory\n", stderr);
	abort();
}

void *
ev_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		ev_oom();
	return p;
}

void *
ev_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		ev_oom();
	return p;
}

void *
ev_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		ev_oom();
	return q;
}

char *
ev_xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = ev_xmalloc(n);

	memcpy(p, s, n);
	return p;
}

void
ev_buf_grow(struct ev_buf *b, size_t extra)
{
	size_t need;

	if (extra > SIZE_MAX - b->len - 1)
		ev_oom();
	need = b->len + extra + 1;
	if (need <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need) {
		if (cap > SIZE_MAX / 2)
			ev_oom();
		cap *= 2;
	}
	b->p = ev_xrealloc(b->p, cap);
	b->cap = cap;
}

void
ev_buf_adds(struct ev_buf *b, const char *s)
{
	ev_buf_add(b, s, strlen(s));
}

void
ev_buf_addf(struct ev_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	ev_buf_reserve(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void
ev_buf_add_u64(struct ev_buf *b, uint64_t v)
{
	char tmp[24];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	ev_buf_add(b, tmp + i, sizeof(tmp) - i);
}

void
ev_buf_add_json_str(struct ev_buf *b, const char *s, size_t n)
{
	static const char hexd[] = "0123456789abcdef";
	size_t i, run = 0;

	ev_buf_reserve(b, n + 2);
	ev_buf_addc(b, '"');
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		ev_buf_add(b, s + run, i - run);
		run = i + 1;
		switch (c) {
		case '"': ev_buf_add(b, "\\\"", 2); break;
		case '\\': ev_buf_add(b, "\\\\", 2); break;
		case '\n': ev_buf_add(b, "\\n", 2); break;
		case '\r': ev_buf_add(b, "\\r", 2); break;
		case '\t': ev_buf_add(b, "\\t", 2); break;
		case '\b': ev_buf_add(b, "\\b", 2); break;
		case '\f': ev_buf_add(b, "\\f", 2); break;
		default: {
			char u[6] = { '\\', 'u', '0', '0', hexd[c >> 4], hexd[c & 15] };
			ev_buf_add(b, u, 6);
		}
		}
	}
	ev_buf_add(b, s + run, n - run);
	ev_buf_addc(b, '"');
}

void
ev_buf_reset(struct ev_buf *b)
{
	b->len = 0;
	if (b->p)
		b->p[0] = '\0';
}

void
ev_buf_free(struct ev_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

char *
ev_buf_detach(struct ev_buf *b)
{
	char *p = b->p ? b->p : ev_xstrdup("");

	b->p = NULL;
	b->len = b->cap = 0;
	return p;
}
