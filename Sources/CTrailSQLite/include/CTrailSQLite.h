#ifndef C_TRAIL_SQLITE_H
#define C_TRAIL_SQLITE_H

/// Registers Trail's SQLite VFS, "trail-mapped", as the process's default (once; later calls return the first
/// call's result code). It is the system's "unix" VFS with one change: a connection whose `PRAGMA mmap_size` is
/// above zero reads the pages of its main database file straight from a read-only shared mapping of the whole
/// file, whatever its size, instead of copying each page with `pread`. SQLite's own mapping stops at its
/// compile-time `SQLITE_MAX_MMAP_SIZE` (2 GB in Debian's build); beyond it every page costs a system call.
/// Everything else (locks, the WAL and its index, writes, syncs) is the "unix" VFS's own code.
int trail_sqlite_register_mapped_vfs(void);

/// How far beyond a database file's end a new mapping reaches (256 MiB unless set), so that a growing store is
/// remapped once per that much growth rather than at every checkpoint. Tests set it small to make remapping
/// happen often.
void trail_sqlite_set_mapping_room(long long bytes);

#endif
