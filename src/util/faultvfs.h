/*
 * faultvfs.h - injected I/O faults, SQLite's way (its test_vfs / ioerr tests).
 *
 * Every write, sync and truncate SQLite makes, and every write, fsync and
 * rename evident makes itself on ledger files, passes one counter.  When a
 * fault is armed, the Nth such operation fails (and, in persistent mode,
 * every one after it, as a full disk does).  Tests arm it either through the
 * API or with the environment variable
 *
 *   EVIDENT_FAULT=N[:persist]     fail the Nth operation (from process start)
 *
 * Unarmed, SQLite opens with its default VFS and the counter costs nothing.
 */
#ifndef EV_UTIL_FAULTVFS_H
#define EV_UTIL_FAULTVFS_H

#include <stdint.h>

/* The VFS name to open databases with: NULL (the default) unless faults are possible. */
const char *ev_faultvfs_name(void);
/* Arm: the nth operation from now fails (n >= 1); persist: and all after it. 0 disarms. */
void ev_fault_arm(uint64_t nth, int persist);
/* Operations counted since the last arm. */
uint64_t ev_fault_count(void);
/* Count one operation of evident's own; 1 when it must fail (the caller sets errno EIO). */
int ev_fault_hit(void);

#endif
