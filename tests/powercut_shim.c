/*
 * powercut_shim.c - an LD_PRELOAD library that records, for the files
 * under one directory, every call that decides what a power cut leaves on
 * disk, so tests/powercut.py can rebuild the directory as it would be after
 * a cut at any point of the run.
 *
 * Environment:
 *   POWERCUT_ROOT   the directory watched (an absolute path, no symlinks)
 *   POWERCUT_TRACE  the trace file, appended to (O_APPEND)
 * Without both the library does nothing but pass the calls on.
 *
 * The trace, one event per line, each written with one write(2) so that
 * the lines of several processes appending to it (the server, offline
 * commands, the crash driver's acknowledgements, "0 M ...") interleave in
 * the order the events happened:
 *   PID O FD FLAGS PATH     open/openat/creat succeeded (FLAGS hex: c
 *                           O_CREAT, t O_TRUNC, a O_APPEND, d O_DIRECTORY,
 *                           x O_EXCL, - none); PATH absolute, as the fd
 *                           names it in /proc/self/fd
 *   PID C FD                close
 *   PID W FD OFF LEN        write/pwrite/writev of LEN bytes at OFF;
 *                           the LEN bytes follow the newline
 *   PID T FD LEN            ftruncate
 *   PID S FD                fsync (of a file or a directory)
 *   PID D FD                fdatasync
 *   PID R OLD NEW           rename/renameat/renameat2 (both absolute)
 *   PID U PATH              unlink/unlinkat
 *   PID X PATH              rmdir (or unlinkat with AT_REMOVEDIR)
 *   PID M PATH              mkdir/mkdirat
 * An event is logged after the call succeeded and before it returns, so a
 * sync logged before a marker line happened before it.  Failed calls are
 * not logged; a short write logs the bytes written.  dup(2) and mmap(2)
 * writes are not followed: the server uses neither on its data files.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SHIM_MAX_FD	65536

static int trace_fd = -2;		/* -2: not set up yet, -1: off */
static char root[PATH_MAX];
static size_t root_len;
static unsigned char tracked[SHIM_MAX_FD];

static int (*real_open)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_close)(int);
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static int (*real_ftruncate)(int, off_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_rename)(const char *, const char *);
static int (*real_renameat)(int, const char *, int, const char *);
static int (*real_renameat2)(int, const char *, int, const char *,
    unsigned);
static int (*real_unlink)(const char *);
static int (*real_unlinkat)(int, const char *, int);
static int (*real_rmdir)(const char *);
static int (*real_mkdir)(const char *, mode_t);
static int (*real_mkdirat)(int, const char *, mode_t);

static void
setup(void)
{
	const char *r, *t;

	if (trace_fd != -2) {
		return;
	}
	real_open = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
	real_openat = (int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT,
	    "openat");
	real_close = (int (*)(int))dlsym(RTLD_NEXT, "close");
	real_write = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT,
	    "write");
	real_pwrite = (ssize_t (*)(int, const void *, size_t, off_t))dlsym(
	    RTLD_NEXT, "pwrite");
	real_writev = (ssize_t (*)(int, const struct iovec *, int))dlsym(
	    RTLD_NEXT, "writev");
	real_ftruncate = (int (*)(int, off_t))dlsym(RTLD_NEXT, "ftruncate");
	real_fsync = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	real_fdatasync = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
	real_rename = (int (*)(const char *, const char *))dlsym(RTLD_NEXT,
	    "rename");
	real_renameat = (int (*)(int, const char *, int, const char *))dlsym(
	    RTLD_NEXT, "renameat");
	real_renameat2 = (int (*)(int, const char *, int, const char *,
	    unsigned))dlsym(RTLD_NEXT, "renameat2");
	real_unlink = (int (*)(const char *))dlsym(RTLD_NEXT, "unlink");
	real_unlinkat = (int (*)(int, const char *, int))dlsym(RTLD_NEXT,
	    "unlinkat");
	real_rmdir = (int (*)(const char *))dlsym(RTLD_NEXT, "rmdir");
	real_mkdir = (int (*)(const char *, mode_t))dlsym(RTLD_NEXT, "mkdir");
	real_mkdirat = (int (*)(int, const char *, mode_t))dlsym(RTLD_NEXT,
	    "mkdirat");
	trace_fd = -1;
	r = getenv("POWERCUT_ROOT");
	t = getenv("POWERCUT_TRACE");
	if (r == NULL || t == NULL || strlen(r) + 1 >= sizeof(root)) {
		return;
	}
	snprintf(root, sizeof(root), "%s", r);
	root_len = strlen(root);
	while (root_len > 1 && root[root_len - 1] == '/') {
		root[--root_len] = '\0';
	}
	trace_fd = real_open(t, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0600);
	if (trace_fd >= 0 && trace_fd < SHIM_MAX_FD) {
		tracked[trace_fd] = 0;
	}
}

/* Is the absolute path p the root or under it? */
static int
under_root(const char *p)
{
	return root_len > 0 && strncmp(p, root, root_len) == 0 &&
	    (p[root_len] == '\0' || p[root_len] == '/');
}

/* One event: a header line and, for writes, its data, in one write. */
static void
emit(const void *data, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
emit(const void *data, size_t n, const char *fmt, ...)
{
	char head[2 * PATH_MAX + 64], *b;
	va_list ap;
	int hl;
	int saved = errno;

	va_start(ap, fmt);
	hl = vsnprintf(head, sizeof(head), fmt, ap);
	va_end(ap);
	if (hl < 0 || (size_t)hl >= sizeof(head)) {
		abort();	/* a path too long: the trace would lie */
	}
	b = malloc((size_t)hl + n);
	if (b == NULL) {
		abort();
	}
	memcpy(b, head, (size_t)hl);
	if (n > 0) {
		memcpy(b + hl, data, n);
	}
	if (real_write(trace_fd, b, (size_t)hl + n) != (ssize_t)(hl + n)) {
		abort();	/* an incomplete trace is worse than none */
	}
	free(b);
	errno = saved;
}

/* out = a "/" b (no slash after a root "/"); 0, or -1 when too long. */
static int
join(char *out, const char *a, const char *b)
{
	size_t al = strlen(a), bl = strlen(b);
	int slash = !(al == 1 && a[0] == '/');

	if (al + bl + 2 > PATH_MAX) {
		return -1;
	}
	memmove(out, a, al);
	if (slash) {
		out[al++] = '/';
	}
	memcpy(out + al, b, bl + 1);
	return 0;
}

/* The absolute path of dirfd/path (the last component need not exist, and
 * is not resolved); 0, or -1 when it cannot be made. */
static int
abs_path(int dirfd, const char *path, char *out)
{
	char dir[PATH_MAX], link[64], tmp[PATH_MAX];
	const char *slash, *base;
	ssize_t n;

	slash = strrchr(path, '/');
	if (slash == NULL) {
		base = path;
		if (dirfd == AT_FDCWD) {
			if (getcwd(dir, sizeof(dir)) == NULL) {
				return -1;
			}
		} else {
			snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
			n = readlink(link, dir, sizeof(dir) - 1);
			if (n < 0) {
				return -1;
			}
			dir[n] = '\0';
		}
	} else {
		base = slash + 1;
		if ((size_t)(slash - path) >= sizeof(tmp)) {
			return -1;
		}
		memcpy(tmp, path, (size_t)(slash - path));
		tmp[slash - path] = '\0';
		if (tmp[0] == '\0') {
			snprintf(tmp, sizeof(tmp), "/");
		}
		if (tmp[0] != '/' && dirfd != AT_FDCWD) {
			char d2[PATH_MAX];

			snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
			n = readlink(link, d2, sizeof(d2) - 1);
			if (n < 0) {
				return -1;
			}
			d2[n] = '\0';
			if (join(dir, d2, tmp) != 0 ||
			    realpath(dir, tmp) == NULL) {
				return -1;
			}
			memcpy(dir, tmp, strlen(tmp) + 1);
		} else if (realpath(tmp, dir) == NULL) {
			return -1;
		}
	}
	if (base[0] == '\0' || strcmp(base, ".") == 0) {
		memcpy(out, dir, strlen(dir) + 1);
		return 0;
	}
	return join(out, dir, base);
}

/* After a successful open: track fd if it names a file under the root. */
static void
opened(int fd, int flags)
{
	char link[64], p[PATH_MAX], f[8];
	ssize_t n;
	int k = 0;

	if (fd < 0 || fd >= SHIM_MAX_FD || trace_fd < 0) {
		return;
	}
	tracked[fd] = 0;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, p, sizeof(p) - 1);
	if (n < 0) {
		return;
	}
	p[n] = '\0';
	if (!under_root(p)) {
		return;
	}
	tracked[fd] = 1;
	if (flags & O_CREAT) {
		f[k++] = 'c';
	}
	if (flags & O_TRUNC) {
		f[k++] = 't';
	}
	if (flags & O_APPEND) {
		f[k++] = 'a';
	}
	if (flags & O_DIRECTORY) {
		f[k++] = 'd';
	}
	if (flags & O_EXCL) {
		f[k++] = 'x';
	}
	if (k == 0) {
		f[k++] = '-';
	}
	f[k] = '\0';
	emit(NULL, 0, "%ld O %d %s %s\n", (long)getpid(), fd, f, p);
}

static int
is_tracked(int fd)
{
	setup();
	return trace_fd >= 0 && fd >= 0 && fd < SHIM_MAX_FD && tracked[fd];
}

/* A path event for dirfd/path when it is under the root. */
static void
path_event(int dirfd, const char *path, char op)
{
	char p[PATH_MAX];

	if (trace_fd < 0 || abs_path(dirfd, path, p) != 0 || !under_root(p)) {
		return;
	}
	emit(NULL, 0, "%ld %c %s\n", (long)getpid(), op, p);
}

int
open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode = 0;
	int fd;

	setup();
	if (flags & (O_CREAT | O_TMPFILE)) {
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	fd = real_open(path, flags, mode);
	opened(fd, flags);
	return fd;
}

int
open64(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode = 0;

	if (flags & (O_CREAT | O_TMPFILE)) {
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	return open(path, flags, mode);
}

int
openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode = 0;
	int fd;

	setup();
	if (flags & (O_CREAT | O_TMPFILE)) {
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	fd = real_openat(dirfd, path, flags, mode);
	opened(fd, flags);
	return fd;
}

int
openat64(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode = 0;

	if (flags & (O_CREAT | O_TMPFILE)) {
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	return openat(dirfd, path, flags, mode);
}

int
creat(const char *path, mode_t mode)
{
	return open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
}

int
creat64(const char *path, mode_t mode)
{
	return open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
}

int
close(int fd)
{
	int t = is_tracked(fd);

	if (t) {
		tracked[fd] = 0;
		emit(NULL, 0, "%ld C %d\n", (long)getpid(), fd);
	}
	return real_close(fd);
}

ssize_t
write(int fd, const void *p, size_t n)
{
	ssize_t w;
	off_t end;

	if (!is_tracked(fd)) {
		return real_write(fd, p, n);
	}
	w = real_write(fd, p, n);
	if (w > 0) {
		/* after a write the offset is just past it, O_APPEND or not */
		end = lseek(fd, 0, SEEK_CUR);
		emit(p, (size_t)w, "%ld W %d %lld %zd\n", (long)getpid(), fd,
		    (long long)(end - w), w);
	}
	return w;
}

ssize_t
pwrite(int fd, const void *p, size_t n, off_t off)
{
	ssize_t w;

	if (!is_tracked(fd)) {
		return real_pwrite(fd, p, n, off);
	}
	w = real_pwrite(fd, p, n, off);
	if (w > 0) {
		emit(p, (size_t)w, "%ld W %d %lld %zd\n", (long)getpid(), fd,
		    (long long)off, w);
	}
	return w;
}

ssize_t
pwrite64(int fd, const void *p, size_t n, off_t off)
{
	return pwrite(fd, p, n, off);
}

ssize_t
writev(int fd, const struct iovec *iov, int cnt)
{
	ssize_t w;
	off_t end;
	char *b;
	size_t done = 0, k;
	int i;

	if (!is_tracked(fd)) {
		return real_writev(fd, iov, cnt);
	}
	w = real_writev(fd, iov, cnt);
	if (w > 0) {
		end = lseek(fd, 0, SEEK_CUR);
		b = malloc((size_t)w);
		if (b == NULL) {
			abort();
		}
		for (i = 0; i < cnt && done < (size_t)w; i++) {
			k = iov[i].iov_len < (size_t)w - done ? iov[i].iov_len :
			    (size_t)w - done;
			memcpy(b + done, iov[i].iov_base, k);
			done += k;
		}
		emit(b, (size_t)w, "%ld W %d %lld %zd\n", (long)getpid(), fd,
		    (long long)(end - w), w);
		free(b);
	}
	return w;
}

int
ftruncate(int fd, off_t len)
{
	int r;

	if (!is_tracked(fd)) {
		return real_ftruncate(fd, len);
	}
	r = real_ftruncate(fd, len);
	if (r == 0) {
		emit(NULL, 0, "%ld T %d %lld\n", (long)getpid(), fd,
		    (long long)len);
	}
	return r;
}

int
ftruncate64(int fd, off_t len)
{
	return ftruncate(fd, len);
}

int
fsync(int fd)
{
	int r;

	if (!is_tracked(fd)) {
		return real_fsync(fd);
	}
	r = real_fsync(fd);
	if (r == 0) {
		emit(NULL, 0, "%ld S %d\n", (long)getpid(), fd);
	}
	return r;
}

int
fdatasync(int fd)
{
	int r;

	if (!is_tracked(fd)) {
		return real_fdatasync(fd);
	}
	r = real_fdatasync(fd);
	if (r == 0) {
		emit(NULL, 0, "%ld D %d\n", (long)getpid(), fd);
	}
	return r;
}

/* rename: both names resolved before the call (after it the old one is
 * gone and the new one may be a symlink's target). */
static int
do_rename(int ofd, const char *o, int nfd, const char *n, unsigned flags,
    int how)
{
	char po[PATH_MAX], pn[PATH_MAX];
	int r, ok;

	setup();
	ok = trace_fd >= 0 && abs_path(ofd, o, po) == 0 &&
	    abs_path(nfd, n, pn) == 0 && (under_root(po) || under_root(pn));
	if (how == 0) {
		r = real_rename(o, n);
	} else if (how == 1) {
		r = real_renameat(ofd, o, nfd, n);
	} else {
		r = real_renameat2(ofd, o, nfd, n, flags);
	}
	if (r == 0 && ok) {
		emit(NULL, 0, "%ld R %s %s\n", (long)getpid(), po, pn);
	}
	return r;
}

int
rename(const char *o, const char *n)
{
	return do_rename(AT_FDCWD, o, AT_FDCWD, n, 0, 0);
}

int
renameat(int ofd, const char *o, int nfd, const char *n)
{
	return do_rename(ofd, o, nfd, n, 0, 1);
}

int
renameat2(int ofd, const char *o, int nfd, const char *n, unsigned flags)
{
	return do_rename(ofd, o, nfd, n, flags, 2);
}

int
unlink(const char *path)
{
	char p[PATH_MAX];
	int r, ok;

	setup();
	ok = trace_fd >= 0 && abs_path(AT_FDCWD, path, p) == 0 &&
	    under_root(p);
	r = real_unlink(path);
	if (r == 0 && ok) {
		emit(NULL, 0, "%ld U %s\n", (long)getpid(), p);
	}
	return r;
}

int
unlinkat(int dirfd, const char *path, int flags)
{
	char p[PATH_MAX];
	int r, ok;

	setup();
	ok = trace_fd >= 0 && abs_path(dirfd, path, p) == 0 &&
	    under_root(p);
	r = real_unlinkat(dirfd, path, flags);
	if (r == 0 && ok) {
		emit(NULL, 0, "%ld %c %s\n", (long)getpid(),
		    (flags & AT_REMOVEDIR) ? 'X' : 'U', p);
	}
	return r;
}

int
rmdir(const char *path)
{
	char p[PATH_MAX];
	int r, ok;

	setup();
	ok = trace_fd >= 0 && abs_path(AT_FDCWD, path, p) == 0 &&
	    under_root(p);
	r = real_rmdir(path);
	if (r == 0 && ok) {
		emit(NULL, 0, "%ld X %s\n", (long)getpid(), p);
	}
	return r;
}

int
mkdir(const char *path, mode_t mode)
{
	int r;

	setup();
	r = real_mkdir(path, mode);
	if (r == 0) {
		path_event(AT_FDCWD, path, 'M');
	}
	return r;
}

int
mkdirat(int dirfd, const char *path, mode_t mode)
{
	int r;

	setup();
	r = real_mkdirat(dirfd, path, mode);
	if (r == 0) {
		path_event(dirfd, path, 'M');
	}
	return r;
}
