/*
 * stream.c - appends on a writer thread of the ledger's own (see ledger.h).
 *
 * Intake is two kinds of work: parsing lines and matching rules, which must
 * run in order and know each entry's seq; and building leaves, hashing them
 * into the tree, compressing bundles, running projectors and committing,
 * which can run beside it.  A stream lets the first run on the caller's
 * thread while the second runs here, batch after batch.
 *
 * Numbering ahead of the commit is safe because the stream holds the append
 * lease (DATA/ledger.lock) for as long as it numbers: from the first
 * ev_stream_begin until nothing is in flight and nothing is being built.
 * While it holds it, no other appender (another process, a web worker, the
 * scheduler) can move the tree size; they wait on the lease.  So that they
 * are not starved under a continuous load, ev_stream_begin lets go of the
 * lease for a moment after holding it EV_STREAM_YIELD_MS.
 *
 * The writer has its own ledger handle (its own SQLite connection).  The
 * producer touches that handle only to read the tree size, and only while
 * the queue is empty and the producer is marked as building, when the
 * writer does not touch it: the mutex orders the two.
 */
#include "ledger/ledger_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define EV_STREAM_YIELD_MS 200

struct ev_stream {
	struct ev_ledger *w;
	pthread_t th;
	int started;
	pthread_mutex_t mu;
	pthread_cond_t cv;   /* the writer waits for work */
	pthread_cond_t done; /* the producer waits for batches */
	struct ev_stream_batch *q[EV_STREAM_QUEUE];
	size_t qh, qn;
	int busy;      /* the writer is working on q[qh] */
	int stop;
	int lease;     /* the writer handle holds the lease */
	int building;  /* the producer is between begin and submit */
	int failed;    /* a batch failed: drop the rest, report once */
	int fail_rc;
	struct ev_err fail_err;
	uint64_t next; /* seq of the next entry the producer will number */
	int64_t lease_since;
	int efd;
};

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
notify(struct ev_stream *s)
{
	uint64_t one = 1;

	if (s->efd >= 0 && write(s->efd, &one, sizeof(one)) < 0 && errno != EAGAIN) {
		/* nothing to do: the fd is only a wake-up */
	}
}

/* Drop the lease when nothing is queued, in progress or being built (mu held). */
static void
maybe_release(struct ev_stream *s)
{
	if (s->lease && s->qn == 0 && !s->busy && !s->building) {
		s->w->lease_external = 0;
		ev_lease_release(s->w);
		s->lease = 0;
	}
}

static int
write_batch(struct ev_stream *s, struct ev_stream_batch *b)
{
	uint64_t last = 0;
	int rc;

	ev_err_clear(&b->err);
	s->w->bodies_checked = b->bodies_checked;
	rc = ev_ledger_append(s->w, b->in, b->n, &last, &b->err);
	s->w->bodies_checked = 0;
	if (rc == EV_OK && last != b->first_seq + b->n - 1)
		rc = ev_errf(&b->err, EV_EIO,
		    "internal: batch numbered from %llu was committed as %llu..%llu",
		    (unsigned long long)b->first_seq, (unsigned long long)(last - b->n + 1),
		    (unsigned long long)last);
	b->last_seq = last;
	return rc;
}

static void *
writer(void *arg)
{
	struct ev_stream *s = arg;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		struct ev_stream_batch *b;
		int drop, rc;

		while (s->qn == 0 && !s->stop) {
			maybe_release(s);
			pthread_cond_wait(&s->cv, &s->mu);
		}
		if (s->qn == 0)
			break;
		b = s->q[s->qh];
		drop = s->failed;
		s->busy = 1;
		pthread_mutex_unlock(&s->mu);
		if (drop)
			rc = ev_errf(&b->err, EV_ESTATE, "not recorded: an earlier batch failed");
		else
			rc = write_batch(s, b);
		pthread_mutex_lock(&s->mu);
		s->busy = 0;
		s->qh = (s->qh + 1) % EV_STREAM_QUEUE;
		s->qn--;
		b->rc = rc;
		if (rc != EV_OK && !drop) {
			s->failed = 1;
			s->fail_rc = rc;
			s->fail_err = b->err;
		}
		b->done = 1;
		maybe_release(s);
		pthread_cond_broadcast(&s->done);
		notify(s);
	}
	maybe_release(s);
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

int
ev_stream_open(const char *dir, struct ev_stream **out, struct ev_err *err)
{
	struct ev_stream *s = ev_xcalloc(1, sizeof(*s));
	int rc;

	s->efd = -1;
	if ((rc = ev_ledger_open(dir, EV_LEDGER_NOKEY, &s->w, err)) != EV_OK) {
		free(s);
		return rc;
	}
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	pthread_cond_init(&s->done, NULL);
	s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (pthread_create(&s->th, NULL, writer, s) != 0) {
		ev_stream_close(s);
		return ev_errf(err, EV_EIO, "cannot start the ledger writer thread");
	}
	s->started = 1;
	*out = s;
	return EV_OK;
}

void
ev_stream_close(struct ev_stream *s)
{
	if (s == NULL)
		return;
	if (s->started) {
		pthread_mutex_lock(&s->mu);
		s->stop = 1;
		s->building = 0;
		pthread_cond_signal(&s->cv);
		pthread_mutex_unlock(&s->mu);
		pthread_join(s->th, NULL);
	}
	s->w->lease_external = 0;
	ev_lease_release(s->w);
	ev_ledger_close(s->w);
	if (s->efd >= 0)
		close(s->efd);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	pthread_cond_destroy(&s->done);
	free(s);
}

/* Wait until nothing is queued or in progress (mu held). */
static void
drain(struct ev_stream *s)
{
	while (s->qn > 0 || s->busy)
		pthread_cond_wait(&s->done, &s->mu);
}

int
ev_stream_begin(struct ev_stream *s, uint64_t *first_seq, struct ev_err *err)
{
	uint64_t size;
	int rc;

	pthread_mutex_lock(&s->mu);
	if (s->failed) {
		/* Report it once; the batches after it were dropped.  Start afresh. */
		drain(s);
		s->failed = 0;
		rc = s->fail_rc;
		if (err)
			*err = s->fail_err;
		maybe_release(s);
		pthread_mutex_unlock(&s->mu);
		return rc;
	}
	if (s->lease && mono_ms() - s->lease_since >= EV_STREAM_YIELD_MS) {
		/* Let other appenders in: drain, let go, and take it again after a pause. */
		drain(s);
		maybe_release(s);
		pthread_mutex_unlock(&s->mu);
		usleep(2000);
		pthread_mutex_lock(&s->mu);
	}
	if (!s->lease) {
		drain(s);
		s->building = 1; /* the writer stays off the handle from here on */
		pthread_mutex_unlock(&s->mu);
		rc = ev_lease_acquire(s->w, err);
		if (rc == EV_OK)
			rc = ev_ledger_size(s->w, &size, err);
		pthread_mutex_lock(&s->mu);
		if (rc != EV_OK) {
			if (s->w->lease_held)
				ev_lease_release(s->w);
			s->building = 0;
			pthread_mutex_unlock(&s->mu);
			return rc;
		}
		s->w->lease_external = 1;
		s->lease = 1;
		s->lease_since = mono_ms();
		s->next = size + 1;
	}
	s->building = 1;
	*first_seq = s->next;
	pthread_mutex_unlock(&s->mu);
	return EV_OK;
}

void
ev_stream_abort(struct ev_stream *s)
{
	pthread_mutex_lock(&s->mu);
	s->building = 0;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

int
ev_stream_submit(struct ev_stream *s, struct ev_stream_batch *b, struct ev_err *err)
{
	pthread_mutex_lock(&s->mu);
	if (!s->building || !s->lease) {
		pthread_mutex_unlock(&s->mu);
		return ev_errf(err, EV_ESTATE, "internal: submit without ev_stream_begin");
	}
	while (s->qn == EV_STREAM_QUEUE)
		pthread_cond_wait(&s->done, &s->mu);
	b->first_seq = s->next;
	b->done = 0;
	b->rc = EV_OK;
	b->last_seq = 0;
	s->q[(s->qh + s->qn) % EV_STREAM_QUEUE] = b;
	s->qn++;
	s->next += b->n;
	s->building = 0;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return EV_OK;
}

int
ev_stream_wait(struct ev_stream *s, struct ev_stream_batch *b)
{
	int rc;

	pthread_mutex_lock(&s->mu);
	while (!b->done)
		pthread_cond_wait(&s->done, &s->mu);
	rc = b->rc;
	pthread_mutex_unlock(&s->mu);
	return rc;
}

void
ev_stream_idle(struct ev_stream *s)
{
	pthread_mutex_lock(&s->mu);
	maybe_release(s);
	pthread_mutex_unlock(&s->mu);
}

int
ev_stream_fd(const struct ev_stream *s)
{
	return s->efd;
}

void
ev_stream_drain_fd(const struct ev_stream *s)
{
	uint64_t v;

	if (s->efd >= 0 && read(s->efd, &v, sizeof(v)) < 0 && errno != EAGAIN) {
		/* a wake-up only */
	}
}
