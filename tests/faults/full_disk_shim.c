// A full filesystem, without privileges (issue 20): an LD_PRELOAD shim that
// makes every write growing a file named data.mdb fail with ENOSPC while
// the file $KASSA_FAULT_FULL exists. Writes within a file's current size go
// through, as on a real full disk (LMDB reuses its freed pages there); so do
// writes to every other file. Removing the trigger file is "space freed".
//
// Written by hand because no library fakes a full disk for one process:
// a loop device or a small tmpfs would need root or a mount.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

// Whether a write of `len` bytes to `fd` at `offset` (-1: the file position)
// must fail now: the disk is "full" and the write would grow data.mdb.
static int disk_full_for(int fd, off_t offset, size_t len) {
  const char* trigger = getenv("KASSA_FAULT_FULL");
  if (trigger == NULL || access(trigger, F_OK) != 0) return 0;
  char link[64];
  char target[PATH_MAX];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  const ssize_t n = readlink(link, target, sizeof target - 1);
  if (n < 0) return 0;
  target[n] = '\0';
  const size_t name_len = strlen("/data.mdb");
  if ((size_t)n < name_len || strcmp(target + n - name_len, "/data.mdb") != 0) return 0;
  struct stat st;
  if (fstat(fd, &st) != 0) return 0;
  if (offset < 0) offset = lseek(fd, 0, SEEK_CUR);
  return offset < 0 || (off_t)(offset + (off_t)len) > st.st_size;
}

static size_t iov_bytes(const struct iovec* iov, int n) {
  size_t total = 0;
  for (int i = 0; i < n; ++i) total += iov[i].iov_len;
  return total;
}

#define NEXT(name) ((__typeof__(&name))dlsym(RTLD_NEXT, #name))

ssize_t write(int fd, const void* buf, size_t len) {
  if (disk_full_for(fd, -1, len)) return errno = ENOSPC, -1;
  return NEXT(write)(fd, buf, len);
}

ssize_t pwrite(int fd, const void* buf, size_t len, off_t offset) {
  if (disk_full_for(fd, offset, len)) return errno = ENOSPC, -1;
  return NEXT(pwrite)(fd, buf, len, offset);
}

ssize_t pwrite64(int fd, const void* buf, size_t len, off64_t offset) {
  if (disk_full_for(fd, (off_t)offset, len)) return errno = ENOSPC, -1;
  return NEXT(pwrite64)(fd, buf, len, offset);
}

ssize_t writev(int fd, const struct iovec* iov, int n) {
  if (disk_full_for(fd, -1, iov_bytes(iov, n))) return errno = ENOSPC, -1;
  return NEXT(writev)(fd, iov, n);
}

ssize_t pwritev(int fd, const struct iovec* iov, int n, off_t offset) {
  if (disk_full_for(fd, offset, iov_bytes(iov, n))) return errno = ENOSPC, -1;
  return NEXT(pwritev)(fd, iov, n, offset);
}
