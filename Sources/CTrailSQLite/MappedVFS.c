// Trail's SQLite VFS: the "unix" VFS, with main database files read through a read-only mapping of the whole
// file, shared by the process's connections to it (see include/CTrailSQLite.h for why).
//
// Safety, in the terms of SQLite's own memory-mapped I/O (https://sqlite.org/mmap.html):
// - Pages are handed out only below the file's size as last seen (`visible`), and the mapping is only replaced
//   while the connection holds no page of it (`outstanding == 0`), so no pointer outlives its mapping.
// - Writes never go through the mapping (it is PROT_READ); SQLite writes the file with the "unix" VFS, and a
//   MAP_SHARED mapping sees those writes as they happen, as `pread` would. SQLite's WAL locking already keeps a
//   checkpoint from overwriting a page that an open read transaction may still need, mapped or copied.
// - The file shrinks only when SQLite truncates it (VACUUM, auto-vacuum, or a checkpoint after either). A
//   connection that truncates clamps its own `visible` (xTruncate); every other connection's pager asks for a
//   remap (xUnfetch with no page) when it sees the database changed, and the size is read again there.
// - POSIX advisory locks belong to the process and are all dropped when any descriptor of the file is closed,
//   which is why SQLite's "unix" VFS never closes a descriptor while a lock is held. The descriptor used for
//   mapping is therefore shared by every connection of the process to the same file and closed only when the
//   last of them has closed.
#include "CTrailSQLite.h"

#include <sqlite3.h>

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

// A read-only, shared mapping of a database file, from its start; replaced by a longer one when the file outgrows
// it, and unmapped once no connection uses it any more.
typedef struct Mapping {
    unsigned char *base;
    sqlite3_int64 length;         // bytes mapped: beyond the file's end, with room to grow
    int users;                    // connections reading through it
} Mapping;

// One read-only descriptor per database file (by device and inode), and the file's newest mapping, shared by the
// process's connections to it, so that a page mapped by one is mapped for all.
typedef struct SharedFile {
    dev_t device;
    ino_t inode;
    int fd;
    int users;
    Mapping *current;
    struct SharedFile *next;
} SharedFile;

static pthread_mutex_t sharedLock = PTHREAD_MUTEX_INITIALIZER;
static SharedFile *sharedFiles = NULL;

// Room mapped beyond the file's end, so that a growing store is not remapped at every checkpoint.
static _Atomic sqlite3_int64 growthRoom = 256 * 1024 * 1024;

void trail_sqlite_set_mapping_room(sqlite3_int64 bytes) { growthRoom = bytes < 0 ? 0 : bytes; }

// Whether `shared` is the file `byPath` describes. A deleted file's inode number can be given to a new file while
// a connection still holds the deleted one open, so an entry whose file has no name left is never matched.
static int sameFile(const SharedFile *shared, const struct stat *byPath) {
    if (shared->device != byPath->st_dev || shared->inode != byPath->st_ino) return 0;
    struct stat current;
    return fstat(shared->fd, &current) == 0 && current.st_nlink > 0;
}

static SharedFile *acquireSharedFile(const char *path) {
    struct stat byPath;
    if (stat(path, &byPath) != 0) return NULL;
    pthread_mutex_lock(&sharedLock);
    SharedFile *found = sharedFiles;
    while (found && !sameFile(found, &byPath)) found = found->next;
    if (found) {
        found->users += 1;
    } else {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct stat byDescriptor;
        if (fd >= 0 && fstat(fd, &byDescriptor) == 0 && byDescriptor.st_dev == byPath.st_dev
            && byDescriptor.st_ino == byPath.st_ino) {
            found = sqlite3_malloc(sizeof(SharedFile));
        }
        if (found) {
            *found = (SharedFile){byPath.st_dev, byPath.st_ino, fd, 1, NULL, sharedFiles};
            sharedFiles = found;
        } else if (fd >= 0) {
            // Not the file that was stat'ed a moment ago (the path was replaced), or no memory. The descriptor
            // names a file that no connection of this process has open through this VFS, so closing it drops no
            // lock of theirs.
            close(fd);
        }
    }
    pthread_mutex_unlock(&sharedLock);
    return found;
}

static void unmap(Mapping *mapping) {
    munmap(mapping->base, (size_t)mapping->length);
    sqlite3_free(mapping);
}

// Called with sharedLock held.
static void releaseMappingLocked(SharedFile *shared, Mapping *mapping) {
    mapping->users -= 1;
    if (mapping->users == 0 && mapping != shared->current) unmap(mapping);
}

static void releaseSharedFile(SharedFile *shared) {
    pthread_mutex_lock(&sharedLock);
    shared->users -= 1;
    if (shared->users == 0) {
        SharedFile **link = &sharedFiles;
        while (*link != shared) link = &(*link)->next;
        *link = shared->next;
        if (shared->current) unmap(shared->current);
        close(shared->fd);
        sqlite3_free(shared);
    }
    pthread_mutex_unlock(&sharedLock);
}

typedef struct MappedFile {
    sqlite3_file base;            // must come first: SQLite sees this
    sqlite3_file *real;           // the "unix" VFS's file, in the same allocation after this struct
    SharedFile *shared;           // main database files only; NULL for journals, WAL, temporary files
    sqlite3_int64 limit;          // this connection's PRAGMA mmap_size: above zero, pages are mapped
    int outstanding;              // pages handed out and not yet released
    Mapping *mapping;             // what this connection reads through, or NULL
    sqlite3_int64 visible;        // bytes that may be handed out: the file's size when last read
} MappedFile;

static sqlite3_vfs *unixVFS = NULL;
static sqlite3_vfs mappedVFS;
static const sqlite3_io_methods mappedMethods;

#define REAL(file) (((MappedFile *)(file))->real)

static void dropMapping(MappedFile *file) {
    if (!file->mapping) return;
    pthread_mutex_lock(&sharedLock);
    releaseMappingLocked(file->shared, file->mapping);
    pthread_mutex_unlock(&sharedLock);
    file->mapping = NULL;
    file->visible = 0;
}

// Reads the file's size again; moves to a longer mapping (only with no page outstanding) when it no longer fits.
static void refreshMapping(MappedFile *file) {
    struct stat status;
    if (fstat(file->shared->fd, &status) != 0) {
        if (file->outstanding == 0) dropMapping(file);
        return;
    }
    sqlite3_int64 size = status.st_size;
    if (file->mapping && size <= file->mapping->length) {
        file->visible = size;
        return;
    }
    if (file->outstanding > 0) {
        if (size < file->visible) file->visible = size;
        return;
    }
    SharedFile *shared = file->shared;
    pthread_mutex_lock(&sharedLock);
    if (file->mapping) releaseMappingLocked(shared, file->mapping);
    file->mapping = NULL;
    file->visible = 0;
    if (!shared->current || shared->current->length < size) {
        Mapping *longer = sqlite3_malloc(sizeof(Mapping));
        sqlite3_int64 length = size + growthRoom;
        void *base = longer ? mmap(NULL, (size_t)length, PROT_READ, MAP_SHARED, shared->fd, 0) : MAP_FAILED;
        if (base != MAP_FAILED) {
            *longer = (Mapping){base, length, 0};
            if (shared->current && shared->current->users == 0) unmap(shared->current);
            shared->current = longer;
        } else {
            sqlite3_free(longer);  // pages are then read with xRead, as without this VFS
        }
    }
    if (shared->current && size <= shared->current->length) {
        shared->current->users += 1;
        file->mapping = shared->current;
        file->visible = size;
    }
    pthread_mutex_unlock(&sharedLock);
}

static int mappedClose(sqlite3_file *handle) {
    MappedFile *file = (MappedFile *)handle;
    dropMapping(file);
    int rc = file->real->pMethods->xClose(file->real);
    if (file->shared) releaseSharedFile(file->shared);
    file->shared = NULL;
    return rc;
}

static int mappedRead(sqlite3_file *f, void *buffer, int amount, sqlite3_int64 offset) {
    return REAL(f)->pMethods->xRead(REAL(f), buffer, amount, offset);
}
static int mappedWrite(sqlite3_file *f, const void *buffer, int amount, sqlite3_int64 offset) {
    return REAL(f)->pMethods->xWrite(REAL(f), buffer, amount, offset);
}
static int mappedTruncate(sqlite3_file *handle, sqlite3_int64 size) {
    MappedFile *file = (MappedFile *)handle;
    int rc = file->real->pMethods->xTruncate(file->real, size);
    if (size < file->visible) file->visible = size;
    return rc;
}
static int mappedSync(sqlite3_file *f, int flags) { return REAL(f)->pMethods->xSync(REAL(f), flags); }
static int mappedFileSize(sqlite3_file *f, sqlite3_int64 *size) {
    return REAL(f)->pMethods->xFileSize(REAL(f), size);
}
static int mappedLock(sqlite3_file *f, int lock) { return REAL(f)->pMethods->xLock(REAL(f), lock); }
static int mappedUnlock(sqlite3_file *f, int lock) { return REAL(f)->pMethods->xUnlock(REAL(f), lock); }
static int mappedCheckReservedLock(sqlite3_file *f, int *out) {
    return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}

static int mappedFileControl(sqlite3_file *handle, int op, void *argument) {
    MappedFile *file = (MappedFile *)handle;
    if (op == SQLITE_FCNTL_MMAP_SIZE && file->shared) {
        // The pager's limit is capped at SQLITE_MAX_MMAP_SIZE; here it only switches the mapping on or off.
        sqlite3_int64 requested = *(sqlite3_int64 *)argument;
        *(sqlite3_int64 *)argument = file->limit;
        if (requested >= 0 && file->outstanding == 0) {
            file->limit = requested;
            if (requested == 0) dropMapping(file);
        }
        return SQLITE_OK;
    }
    if (op == SQLITE_FCNTL_VFSNAME && argument) {
        int rc = file->real->pMethods->xFileControl(file->real, op, argument);
        if (rc == SQLITE_OK) {
            char *inner = *(char **)argument;
            *(char **)argument = sqlite3_mprintf("%s/%z", mappedVFS.zName, inner);
        }
        return rc;
    }
    return file->real->pMethods->xFileControl(file->real, op, argument);
}

static int mappedSectorSize(sqlite3_file *f) { return REAL(f)->pMethods->xSectorSize(REAL(f)); }
static int mappedDeviceCharacteristics(sqlite3_file *f) {
    return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}
static int mappedShmMap(sqlite3_file *f, int region, int size, int extend, void volatile **pointer) {
    return REAL(f)->pMethods->xShmMap(REAL(f), region, size, extend, pointer);
}
static int mappedShmLock(sqlite3_file *f, int offset, int n, int flags) {
    return REAL(f)->pMethods->xShmLock(REAL(f), offset, n, flags);
}
static void mappedShmBarrier(sqlite3_file *f) { REAL(f)->pMethods->xShmBarrier(REAL(f)); }
static int mappedShmUnmap(sqlite3_file *f, int deleteFlag) {
    return REAL(f)->pMethods->xShmUnmap(REAL(f), deleteFlag);
}

static int mappedFetch(sqlite3_file *handle, sqlite3_int64 offset, int amount, void **pointer) {
    MappedFile *file = (MappedFile *)handle;
    *pointer = NULL;
    if (!file->shared || file->limit <= 0) return SQLITE_OK;
    if (offset + amount > file->visible) refreshMapping(file);
    if (file->mapping && offset + amount <= file->visible) {
        *pointer = file->mapping->base + offset;
        file->outstanding += 1;
    }
    return SQLITE_OK;
}

static int mappedUnfetch(sqlite3_file *handle, sqlite3_int64 offset, void *page) {
    (void)offset;
    MappedFile *file = (MappedFile *)handle;
    if (page) {
        file->outstanding -= 1;
    } else if (file->mapping) {
        // The pager asks for a remap when the database changed: the mapping stays (it shows the file as it is
        // now), but the file's size is read again, in case another connection truncated it.
        refreshMapping(file);
    }
    return SQLITE_OK;
}

static const sqlite3_io_methods mappedMethods = {
    3,
    mappedClose, mappedRead, mappedWrite, mappedTruncate, mappedSync, mappedFileSize, mappedLock, mappedUnlock,
    mappedCheckReservedLock, mappedFileControl, mappedSectorSize, mappedDeviceCharacteristics, mappedShmMap,
    mappedShmLock, mappedShmBarrier, mappedShmUnmap, mappedFetch, mappedUnfetch,
};

static int mappedOpen(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *handle, int flags, int *outFlags) {
    (void)vfs;
    MappedFile *file = (MappedFile *)handle;
    memset(file, 0, sizeof(MappedFile));
    file->real = (sqlite3_file *)(file + 1);
    int rc = unixVFS->xOpen(unixVFS, name, file->real, flags, outFlags);
    if (rc != SQLITE_OK) {
        if (file->real->pMethods) file->real->pMethods->xClose(file->real);
        file->base.pMethods = NULL;
        return rc;
    }
    if ((flags & SQLITE_OPEN_MAIN_DB) && name && file->real->pMethods->iVersion >= 3) {
        file->shared = acquireSharedFile(name);
    }
    file->base.pMethods = &mappedMethods;
    return SQLITE_OK;
}

static pthread_once_t registration = PTHREAD_ONCE_INIT;
static int registrationResult = SQLITE_ERROR;

static void registerOnce(void) {
    unixVFS = sqlite3_vfs_find("unix");
    if (!unixVFS) return;
    // Every other method is the "unix" VFS's own (they take the VFS only to read what is copied here).
    mappedVFS = *unixVFS;
    mappedVFS.pNext = NULL;
    mappedVFS.zName = "trail-mapped";
    mappedVFS.szOsFile = (int)sizeof(MappedFile) + unixVFS->szOsFile;
    mappedVFS.xOpen = mappedOpen;
    registrationResult = sqlite3_vfs_register(&mappedVFS, 1);
}

int trail_sqlite_register_mapped_vfs(void) {
    pthread_once(&registration, registerOnce);
    return registrationResult;
}
