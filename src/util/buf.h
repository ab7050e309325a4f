/*
 * buf.h - a growable byte buffer, always NUL-terminated.
 *
 * The owner calls ev_buf_free.  Appends abort the process on allocation
 * failure (evident does not try to run on after malloc fails: every caller
 * would have to unwind half-built records, and the store is transactional).
 */
#ifndef EV_UTIL_BUF_H
#define EV_UTIL_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct ev_buf {
	char *p;
	size_t len;
	size_t cap;
};

#define EV_BUF_INIT { NULL, 0, 0 }

/* Room for extra more bytes and the NUL (the slow path of ev_buf_reserve). */
void ev_buf_grow(struct ev_buf *b, size_t extra);

/* The appends below are inline: they run once or more per field of every log line. */
static inline void
ev_buf_reserve(struct ev_buf *b, size_t extra)
{
	if (b->cap == 0 || extra >= b->cap - b->len)
		ev_buf_grow(b, extra);
}

static inline void
ev_buf_add(struct ev_buf *b, const void *data, size_t n)
{
	ev_buf_reserve(b, n);
	if (n)
		memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static inline void
ev_buf_addc(struct ev_buf *b, char c)
{
	ev_buf_reserve(b, 1);
	b->p[b->len++] = c;
	b->p[b->len] = '\0';
}

void ev_buf_adds(struct ev_buf *b, const char *s);
void ev_buf_addf(struct ev_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void ev_buf_add_u64(struct ev_buf *b, uint64_t v);
/* Append s as a JSON string literal, quotes included (RFC 8259 escaping). */
void ev_buf_add_json_str(struct ev_buf *b, const char *s, size_t n);
void ev_buf_reset(struct ev_buf *b);
void ev_buf_free(struct ev_buf *b);
/* Hand the storage to the caller (who frees it with free()); b is reset. */
char *ev_buf_detach(struct ev_buf *b);

/* malloc/realloc/strdup that abort on failure. */
void *ev_xmalloc(size_t n);
void *ev_xcalloc(size_t n, size_t size);
void *ev_xrealloc(void *p, size_t n);
char *ev_xstrdup(const char *s);

#endif
