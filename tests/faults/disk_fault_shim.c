// A failing disk, without privileges (issue 20): an LD_PRELOAD shim that
// makes chosen calls on the customer store's data file fail.
//
// A full filesystem: while the file $KASSA_FAULT_FULL exists, every write
// that would grow a file named data.mdb fails with ENOSPC. Writes within a
// file's current size go through, as on a real full disk (LMDB reuses its
// freed pages there); so do writes to every other file. Removing the
// trigger file is "space freed".
//
// I/O errors: while the file $KASSA_FAULT_IO exists, it says which calls on
// which file fail with EIO and how many more times: "<calls> <count>
// [<suffix>]" (the file's path ends in <suffix>, "/data.mdb" when none is
// given; ".slots" for the key slots file), where <calls> is
//   sync    fsync and fdatasync
//   write   write, pwrite, writev, pwritev (LMDB's page flush)
//   meta    a pwrite into the two meta pages (LMDB's commit point, written
//           through its O_DSYNC descriptor)
// and <count> a number of failures (the file is rewritten with what is
// left, so a test reads how many were injected) or "forever". msync is not
// shimmed: kassa never maps the data file writable (no MDB_WRITEMAP), so
// LMDB never calls it.
//
// A record of what reached the disk, for the power-cut replay (power_cut_replay.cc):
// with $KASSA_FAULT_RECORD naming a log file, every write to a file whose
// path ends in "/data.mdb" or ".slots" is appended to the log with its
// offset and bytes, and every fsync/fdatasync of one as a sync; a write
// through a descriptor opened with O_DSYNC or O_SYNC (LMDB's meta page
// writes) is logged as the write, then a sync. Record:
//   kind (1: write, 2: sync) | file (0: data.mdb, 1: key slots) |
//   offset (8, little-endian) | length (4) | bytes
//
// Written by hand because no library fakes a failing disk for one process:
// a loop device, a small tmpfs or dm-flakey would need root or a mount.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define NEXT(name) ((__typeof__(&name))dlsym(RTLD_NEXT, #name))

// Whether `fd` is open on a file whose path ends in `suffix`.
static int names_file(int fd, const char* suffix) {
  char link[64];
  char target[PATH_MAX];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  const ssize_t n = readlink(link, target, sizeof target - 1);
  if (n < 0) return 0;
  target[n] = '\0';
  const size_t suffix_len = strlen(suffix);
  return (size_t)n >= suffix_len && strcmp(target + n - suffix_len, suffix) == 0;
}

// Whether a write of `len` bytes to `fd` at `offset` (-1: the file position)
// must fail now: the disk is "full" and the write would grow data.mdb.
static int disk_full_for(int fd, off_t offset, size_t len) {
  const char* trigger = getenv("KASSA_FAULT_FULL");
  if (trigger == NULL || access(trigger, F_OK) != 0) return 0;
  if (!names_file(fd, "/data.mdb")) return 0;
  struct stat st;
  if (fstat(fd, &st) != 0) return 0;
  if (offset < 0) offset = lseek(fd, 0, SEEK_CUR);
  return offset < 0 || (off_t)(offset + (off_t)len) > st.st_size;
}

enum io_call { kSync, kWrite, kMeta };

static pthread_mutex_t io_lock = PTHREAD_MUTEX_INITIALIZER;

// Whether a call of kind `call` on `fd` must fail with EIO now, counting the
// failure off the control file.
static int io_error_for(int fd, enum io_call call) {
  const char* control = getenv("KASSA_FAULT_IO");
  // The shim's own writes of the control file come back here: let them through.
  static __thread int inside = 0;
  if (inside || control == NULL || access(control, F_OK) != 0) return 0;
  inside = 1;
  pthread_mutex_lock(&io_lock);
  int fail = 0;
  FILE* f = fopen(control, "r");
  char calls[16] = "";
  char count[24] = "";
  char suffix[64] = "/data.mdb";
  if (f != NULL) {
    if (fscanf(f, "%15s %23s %63s", calls, count, suffix) < 2) calls[0] = '\0';
    fclose(f);
  }
  static const char* const names[] = {"sync", "write", "meta"};
  if (strcmp(calls, names[call]) == 0 && names_file(fd, suffix)) {
    if (strcmp(count, "forever") == 0) {
      fail = 1;
    } else {
      const long left = strtol(count, NULL, 10);
      if (left > 0) {
        fail = 1;
        f = fopen(control, "w");
        if (f != NULL) {
          fprintf(f, "%s %ld %s\n", calls, left - 1, suffix);
          fclose(f);
        }
      }
    }
  }
  pthread_mutex_unlock(&io_lock);
  inside = 0;
  return fail;
}

// The kind of a positioned write: into a meta page (the file's first two
// pages, LMDB's page size being the system's) or a data page.
static enum io_call write_kind(off_t offset) {
  return offset >= 0 && offset < 2 * sysconf(_SC_PAGESIZE) ? kMeta : kWrite;
}

static size_t iov_bytes(const struct iovec* iov, int n) {
  size_t total = 0;
  for (int i = 0; i < n; ++i) total += iov[i].iov_len;
  return total;
}

// ---- the write recorder ----

enum { kMaxFds = 4096 };
static unsigned char synchronous_fd[kMaxFds];  // opened with O_DSYNC or O_SYNC
static pthread_mutex_t record_lock = PTHREAD_MUTEX_INITIALIZER;
static int record_fd = -1;

// Which recorded file `fd` is open on: 0 data.mdb, 1 key slots, -1 neither.
static int recorded_file(int fd) {
  if (getenv("KASSA_FAULT_RECORD") == NULL) return -1;
  if (names_file(fd, "/data.mdb")) return 0;
  if (names_file(fd, ".slots")) return 1;
  return -1;
}

static void append_record(unsigned char kind, int file, off_t offset, const struct iovec* iov, int n) {
  pthread_mutex_lock(&record_lock);
  if (record_fd < 0) {
    record_fd = NEXT(open)(getenv("KASSA_FAULT_RECORD"), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  }
  if (record_fd >= 0) {
    uint32_t total = 0;
    for (int i = 0; i < n; ++i) total += (uint32_t)iov[i].iov_len;
    unsigned char header[14];
    header[0] = kind;
    header[1] = (unsigned char)file;
    const uint64_t at = (uint64_t)offset;
    for (int i = 0; i < 8; ++i) header[2 + i] = (unsigned char)(at >> (8 * i));
    for (int i = 0; i < 4; ++i) header[10 + i] = (unsigned char)(total >> (8 * i));
    struct iovec parts[64];
    parts[0].iov_base = header;
    parts[0].iov_len = sizeof header;
    int count = 1;
    for (int i = 0; i < n && count < 64; ++i) parts[count++] = iov[i];
    NEXT(writev)(record_fd, parts, count);
  }
  pthread_mutex_unlock(&record_lock);
}

// Logs a write of `iov` at `offset` (-1: the file position) that succeeded
// with `written` bytes (what reached the file, as a whole write).
static void record_write(int fd, off_t offset, const struct iovec* iov, int n, ssize_t written) {
  if (written <= 0) return;
  const int file = recorded_file(fd);
  if (file < 0) return;
  if (offset < 0) offset = lseek(fd, 0, SEEK_CUR) - written;
  struct iovec kept[64];
  int count = 0;
  size_t left = (size_t)written;
  for (int i = 0; i < n && left > 0 && count < 64; ++i) {
    kept[count].iov_base = iov[i].iov_base;
    kept[count].iov_len = iov[i].iov_len < left ? iov[i].iov_len : left;
    left -= kept[count].iov_len;
    ++count;
  }
  append_record(1, file, offset, kept, count);
  if (fd >= 0 && fd < kMaxFds && synchronous_fd[fd]) append_record(2, file, 0, NULL, 0);
}

static void record_sync(int fd) {
  const int file = recorded_file(fd);
  if (file >= 0) append_record(2, file, 0, NULL, 0);
}

static void note_open(int fd, int flags) {
  if (fd >= 0 && fd < kMaxFds) synchronous_fd[fd] = (flags & (O_DSYNC | O_SYNC)) != 0;
}

int open(const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  const mode_t mode = (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
  va_end(ap);
  const int fd = NEXT(open)(path, flags, mode);
  note_open(fd, flags);
  return fd;
}

int open64(const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  const mode_t mode = (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
  va_end(ap);
  const int fd = NEXT(open64)(path, flags, mode);
  note_open(fd, flags);
  return fd;
}

int openat(int dir, const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  const mode_t mode = (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
  va_end(ap);
  const int fd = NEXT(openat)(dir, path, flags, mode);
  note_open(fd, flags);
  return fd;
}

ssize_t write(int fd, const void* buf, size_t len) {
  if (disk_full_for(fd, -1, len)) return errno = ENOSPC, -1;
  if (io_error_for(fd, kWrite)) return errno = EIO, -1;
  const ssize_t n = NEXT(write)(fd, buf, len);
  const struct iovec one = {(void*)buf, len};
  record_write(fd, -1, &one, 1, n);
  return n;
}

ssize_t pwrite(int fd, const void* buf, size_t len, off_t offset) {
  if (disk_full_for(fd, offset, len)) return errno = ENOSPC, -1;
  if (io_error_for(fd, write_kind(offset))) return errno = EIO, -1;
  const ssize_t n = NEXT(pwrite)(fd, buf, len, offset);
  const struct iovec one = {(void*)buf, len};
  record_write(fd, offset, &one, 1, n);
  return n;
}

ssize_t pwrite64(int fd, const void* buf, size_t len, off64_t offset) {
  if (disk_full_for(fd, (off_t)offset, len)) return errno = ENOSPC, -1;
  if (io_error_for(fd, write_kind((off_t)offset))) return errno = EIO, -1;
  const ssize_t n = NEXT(pwrite64)(fd, buf, len, offset);
  const struct iovec one = {(void*)buf, len};
  record_write(fd, (off_t)offset, &one, 1, n);
  return n;
}

ssize_t writev(int fd, const struct iovec* iov, int n) {
  if (disk_full_for(fd, -1, iov_bytes(iov, n))) return errno = ENOSPC, -1;
  if (io_error_for(fd, kWrite)) return errno = EIO, -1;
  const ssize_t written = NEXT(writev)(fd, iov, n);
  record_write(fd, -1, iov, n, written);
  return written;
}

ssize_t pwritev(int fd, const struct iovec* iov, int n, off_t offset) {
  if (disk_full_for(fd, offset, iov_bytes(iov, n))) return errno = ENOSPC, -1;
  if (io_error_for(fd, write_kind(offset))) return errno = EIO, -1;
  const ssize_t written = NEXT(pwritev)(fd, iov, n, offset);
  record_write(fd, offset, iov, n, written);
  return written;
}

int fsync(int fd) {
  if (io_error_for(fd, kSync)) return errno = EIO, -1;
  const int rc = NEXT(fsync)(fd);
  if (rc == 0) record_sync(fd);
  return rc;
}

int fdatasync(int fd) {
  if (io_error_for(fd, kSync)) return errno = EIO, -1;
  const int rc = NEXT(fdatasync)(fd);
  if (rc == 0) record_sync(fd);
  return rc;
}
