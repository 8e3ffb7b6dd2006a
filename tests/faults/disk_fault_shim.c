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
// Written by hand because no library fakes a failing disk for one process:
// a loop device, a small tmpfs or dm-flakey would need root or a mount.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
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

ssize_t write(int fd, const void* buf, size_t len) {
  if (disk_full_for(fd, -1, len)) return errno = ENOSPC, -1;
  if (io_error_for(fd, kWrite)) return errno = EIO, -1;
  return NEXT(write)(fd, buf, len);
}

ssize_t pwrite(int fd, const void* buf, size_t len, off_t offset) {
  if (disk_full_for(fd, offset, len)) return errno = ENOSPC, -1;
  if (io_error_for(fd, write_kind(offset))) return errno = EIO, -1;
  return NEXT(pwrite)(fd, buf, len, offset);
}

ssize_t pwrite64(int fd, const void* buf, size_t len, off64_t offset) {
  if (disk_full_for(fd, (off_t)offset, len)) return errno = ENOSPC, -1;
  if (io_error_for(fd, write_kind((off_t)offset))) return errno = EIO, -1;
  return NEXT(pwrite64)(fd, buf, len, offset);
}

ssize_t writev(int fd, const struct iovec* iov, int n) {
  if (disk_full_for(fd, -1, iov_bytes(iov, n))) return errno = ENOSPC, -1;
  if (io_error_for(fd, kWrite)) return errno = EIO, -1;
  return NEXT(writev)(fd, iov, n);
}

ssize_t pwritev(int fd, const struct iovec* iov, int n, off_t offset) {
  if (disk_full_for(fd, offset, iov_bytes(iov, n))) return errno = ENOSPC, -1;
  if (io_error_for(fd, write_kind(offset))) return errno = EIO, -1;
  return NEXT(pwritev)(fd, iov, n, offset);
}

int fsync(int fd) {
  if (io_error_for(fd, kSync)) return errno = EIO, -1;
  return NEXT(fsync)(fd);
}

int fdatasync(int fd) {
  if (io_error_for(fd, kSync)) return errno = EIO, -1;
  return NEXT(fdatasync)(fd);
}
