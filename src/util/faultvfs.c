/*
 * faultvfs.c - an SQLite VFS shim that counts writes, syncs and truncates and
 * fails the armed one (see faultvfs.h).
 *
 * The shim wraps the default VFS: each file it opens holds the real file
 * right after its own header, and every method forwards to it.  Only xWrite,
 * xSync and xTruncate consult the counter; reads, locks and the WAL index
 * (xShm*) pass straight through, so a fault looks to SQLite exactly like a
 * failing disk.  The VFS is registered (not as the default) the first time a
 * store opens while faults are possible: when EVIDENT_FAULT is set or a test
 * armed the counter before opening.
 */
#include "util/faultvfs.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static _Atomic uint64_t count;
static _Atomic uint64_t nth;  /* 0: disarmed */
static _Atomic int persist;
static _Atomic int enabled;   /* the VFS is registered */
static _Atomic int wanted;    /* a test armed faults before the first open */
static pthread_once_t once = PTHREAD_ONCE_INIT;
static sqlite3_vfs *real_vfs;
static sqlite3_vfs fault_vfs;

struct ffile {
	sqlite3_file base;
	sqlite3_file *real; /* follows this struct in the same allocation */
};

int
ev_fault_hit(void)
{
	uint64_t n = atomic_load(&nth), c;

	if (n == 0)
		return 0;
	c = atomic_fetch_add(&count, 1) + 1;
	return c == n || (atomic_load(&persist) && c > n);
}

uint64_t
ev_fault_count(void)
{
	return atomic_load(&count);
}

static int
f_close(sqlite3_file *f)
{
	struct ffile *p = (struct ffile *)f;
	int rc = p->real->pMethods ? p->real->pMethods->xClose(p->real) : SQLITE_OK;

	return rc;
}

static int
f_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off)
{
	struct ffile *p = (struct ffile *)f;

	return p->real->pMethods->xRead(p->real, buf, n, off);
}

static int
f_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
	struct ffile *p = (struct ffile *)f;

	if (ev_fault_hit())
		return SQLITE_IOERR_WRITE;
	return p->real->pMethods->xWrite(p->real, buf, n, off);
}

static int
f_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	struct ffile *p = (struct ffile *)f;

	if (ev_fault_hit())
		return SQLITE_IOERR_TRUNCATE;
	return p->real->pMethods->xTruncate(p->real, size);
}

static int
f_sync(sqlite3_file *f, int flags)
{
	struct ffile *p = (struct ffile *)f;

	if (ev_fault_hit())
		return SQLITE_IOERR_FSYNC;
	return p->real->pMethods->xSync(p->real, flags);
}

static int
f_size(sqlite3_file *f, sqlite3_int64 *size)
{
	struct ffile *p = (struct ffile *)f;

	return p->real->pMethods->xFileSize(p->real, size);
}

static int
f_lock(sqlite3_file *f, int l)
{
	struct ffile *p = (struct ffile *)f;

	return p->real->pMethods->xLock(p->real, l);
}

static int
f_unlock(sqlite3_file *f, int l)
{
	struct ffile *p = (struct ffile *)f;

	return p->real->pMethods->xUnlock(p->real, l);
}

static int
f_check(sqlite3_file *f, int *out)
{
	struct ffile *p = (struct ffile *)f;

	return p->real->pMethods->xCheckReservedLock(p->real, out);
}

static int
f_fcntl(sqlite3_file *f, int op, void *arg)
{
	struct ffile *p = (struct ffile *)f;

	return p->real->pMethods->xFileControl(p->real, op, arg);
}

static int
f_sector(sqlite3_file *f)
{
	struct ffile *p = (struct ffile *)f;

	return p->real->pMethods->xSectorSize(p->real);
}

static int
f_dev(sqlite3_file *f)
{
	struct ffile *p = (struct ffile *)f;

	return p->real->pMethods->xDeviceCharacteristics(p->real);
}

static int
f_shm_map(sqlite3_file *f, int pg, int sz, int ext, void volatile **pp)
{
	struct ffile *p = (struct ffile *)f;

	return p->real->pMethods->xShmMap(p->real, pg, sz, ext, pp);
}

static int
f_shm_lock(sqlite3_file *f, int off, int n, int flags)
{
	struct ffile *p = (struct ffile *)f;

	return p->real->pMethods->xShmLock(p->real, off, n, flags);
}

static void
f_shm_barrier(sqlite3_file *f)
{
	struct ffile *p = (struct ffile *)f;

	p->real->pMethods->xShmBarrier(p->real);
}

static int
f_shm_unmap(sqlite3_file *f, int del)
{
	struct ffile *p = (struct ffile *)f;

	return p->real->pMethods->xShmUnmap(p->real, del);
}

static int
f_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **pp)
{
	struct ffile *p = (struct ffile *)f;

	return p->real->pMethods->xFetch(p->real, off, n, pp);
}

static int
f_unfetch(sqlite3_file *f, sqlite3_int64 off, void *pg)
{
	struct ffile *p = (struct ffile *)f;

	return p->real->pMethods->xUnfetch(p->real, off, pg);
}

static const sqlite3_io_methods methods = {
	3, f_close, f_read, f_write, f_truncate, f_sync, f_size, f_lock, f_unlock, f_check,
	f_fcntl, f_sector, f_dev, f_shm_map, f_shm_lock, f_shm_barrier, f_shm_unmap, f_fetch,
	f_unfetch,
};

static int
v_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out)
{
	struct ffile *p = (struct ffile *)f;
	int rc;

	(void)vfs;
	p->real = (sqlite3_file *)(p + 1);
	memset(p->real, 0, (size_t)real_vfs->szOsFile);
	rc = real_vfs->xOpen(real_vfs, name, p->real, flags, out);
	p->base.pMethods = p->real->pMethods ? &methods : NULL;
	return rc;
}

static int
v_delete(sqlite3_vfs *vfs, const char *name, int sync)
{
	(void)vfs;
	return real_vfs->xDelete(real_vfs, name, sync);
}

static int
v_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	(void)vfs;
	return real_vfs->xAccess(real_vfs, name, flags, out);
}

static int
v_full(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	(void)vfs;
	return real_vfs->xFullPathname(real_vfs, name, n, out);
}

static void *
v_dlopen(sqlite3_vfs *vfs, const char *name)
{
	(void)vfs;
	return real_vfs->xDlOpen(real_vfs, name);
}

static void
v_dlerror(sqlite3_vfs *vfs, int n, char *msg)
{
	(void)vfs;
	real_vfs->xDlError(real_vfs, n, msg);
}

static void (*v_dlsym(sqlite3_vfs *vfs, void *h, const char *sym))(void)
{
	(void)vfs;
	return real_vfs->xDlSym(real_vfs, h, sym);
}

static void
v_dlclose(sqlite3_vfs *vfs, void *h)
{
	(void)vfs;
	real_vfs->xDlClose(real_vfs, h);
}

static int
v_random(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return real_vfs->xRandomness(real_vfs, n, out);
}

static int
v_sleep(sqlite3_vfs *vfs, int us)
{
	(void)vfs;
	return real_vfs->xSleep(real_vfs, us);
}

static int
v_time(sqlite3_vfs *vfs, double *out)
{
	(void)vfs;
	return real_vfs->xCurrentTime(real_vfs, out);
}

static int
v_lasterr(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return real_vfs->xGetLastError ? real_vfs->xGetLastError(real_vfs, n, out) : 0;
}

static int
v_time64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
	(void)vfs;
	return real_vfs->xCurrentTimeInt64(real_vfs, out);
}

static void
register_vfs(void)
{
	const char *env = getenv("EVIDENT_FAULT");

	if (env && *env) {
		char *end;
		unsigned long long n = strtoull(env, &end, 10);
		if (n > 0) {
			atomic_store(&persist, strcmp(end, ":persist") == 0);
			atomic_store(&count, 0);
			atomic_store(&nth, (uint64_t)n);
		}
	}
	if (atomic_load(&nth) == 0 && !atomic_load(&wanted))
		return;
	real_vfs = sqlite3_vfs_find(NULL);
	if (real_vfs == NULL)
		return;
	fault_vfs.iVersion = 2;
	fault_vfs.szOsFile = (int)sizeof(struct ffile) + real_vfs->szOsFile;
	fault_vfs.mxPathname = real_vfs->mxPathname;
	fault_vfs.zName = "evident-fault";
	fault_vfs.xOpen = v_open;
	fault_vfs.xDelete = v_delete;
	fault_vfs.xAccess = v_access;
	fault_vfs.xFullPathname = v_full;
	fault_vfs.xDlOpen = v_dlopen;
	fault_vfs.xDlError = v_dlerror;
	fault_vfs.xDlSym = v_dlsym;
	fault_vfs.xDlClose = v_dlclose;
	fault_vfs.xRandomness = v_random;
	fault_vfs.xSleep = v_sleep;
	fault_vfs.xCurrentTime = v_time;
	fault_vfs.xGetLastError = v_lasterr;
	fault_vfs.xCurrentTimeInt64 = v_time64;
	if (sqlite3_vfs_register(&fault_vfs, 0) == SQLITE_OK)
		atomic_store(&enabled, 1);
}

const char *
ev_faultvfs_name(void)
{
	pthread_once(&once, register_vfs);
	return atomic_load(&enabled) ? "evident-fault" : NULL;
}

void
ev_fault_arm(uint64_t n, int p)
{
	atomic_store(&nth, 0);
	atomic_store(&count, 0);
	atomic_store(&persist, p);
	atomic_store(&nth, n);
	/* Register now if this is the first arm (databases opened from here on use it). */
	atomic_store(&wanted, 1);
	pthread_once(&once, register_vfs);
}
