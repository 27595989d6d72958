/* bookbuild's read recorder, preloaded (LD_PRELOAD) into every chapter kernel.
 *
 * Python's audit hook sees only the files Python code opens; pyarrow, polars, GDAL, HDF5 and
 * any program a cell starts open theirs in native code. This library wraps libc's open
 * functions and appends one line per regular file opened read-only to the chapter's record:
 *
 *     R <mtime_ns> <size> <inode> <ctime_ns> <open_time_ns>\t<absolute path>\n
 *
 * one `W\t<path>` line per file opened for writing (the chapter's own files: a file it wrote
 * and read back was not changed behind its back) and one `D\t<path>` line per folder listed. Each line is one write() to a file
 * opened O_APPEND, so forked workers and other processes can share the record.
 *
 * Recording starts when the kernel calls bookbuild_reads_to(fd) and, in a program a cell
 * starts, when BOOKBUILD_READS names the record at load time; exec and posix_spawn put both
 * variables back into an environment a cell built itself. Built by bookbuild/native.py.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int record_fd = -1;  /* -1: not recording */
static dev_t record_dev;    /* what record_fd must still be before each write: a cell that */
static ino_t record_ino;    /* closed it may have reused its number for a file of its own */

/* Paths this process recorded already (64-bit FNV-1a hashes, open addressing): a file read
 * 10,000 times costs one line. A full table only stops the deduplication. */
#define SLOTS 8192
static uint64_t seen[SLOTS];

typedef int (*open_fn)(const char *, int, ...);
typedef int (*openat_fn)(int, const char *, int, ...);
typedef FILE *(*fopen_fn)(const char *, const char *);
typedef FILE *(*freopen_fn)(const char *, const char *, FILE *);

static void *real(const char *name) {
    return dlsym(RTLD_NEXT, name);
}

static uint64_t fnv(const char *s, uint64_t h) {
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

/* 1 when `h` is new to this process (and is now remembered). */
static int first_time(uint64_t h) {
    if (h == 0) h = 1;
    for (unsigned i = 0; i < SLOTS; i++) {
        uint64_t *slot = &seen[(h + i) % SLOTS];
        uint64_t v = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
        if (v == h) return 0;
        if (v == 0) {
            uint64_t expected = 0;
            if (__atomic_compare_exchange_n(slot, &expected, h, 0, __ATOMIC_ACQ_REL,
                                            __ATOMIC_ACQUIRE))
                return 1;
            if (expected == h) return 0;
        }
    }
    return 1;
}

/* The folder a relative path is relative to, into `buf`; 0 when unknown. */
static int base_of(int dirfd, char *buf, size_t size) {
    if (dirfd == AT_FDCWD) return getcwd(buf, size) != NULL;
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", dirfd);
    ssize_t n = readlink(link, buf, size - 1);
    if (n <= 0) return 0;
    buf[n] = '\0';
    return 1;
}

static void note(int dirfd, const char *path, int fd, int writing) {
    if (record_fd < 0 || fd < 0 || path == NULL || path[0] == '\0') return;
    if (!strncmp(path, "/proc/", 6) || !strncmp(path, "/dev/", 5) || !strncmp(path, "/sys/", 5))
        return;
    char line[2 * PATH_MAX + 128];
    char base[PATH_MAX];
    const char *sep = "";
    base[0] = '\0';
    if (path[0] != '/') {
        if (!base_of(dirfd, base, sizeof base)) return;
        sep = "/";
    }
    uint64_t h = fnv(path, fnv(base, 14695981039346656037ULL) ^ (uint64_t)writing);
    if (!first_time(h)) return;
    int n;
    if (writing == 2) {
        n = snprintf(line, sizeof line, "D\t%s%s%s\n", base, sep, path);
    } else if (writing) {
        n = snprintf(line, sizeof line, "W\t%s%s%s\n", base, sep, path);
    } else {
        struct stat st;
        if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return;
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        n = snprintf(line, sizeof line, "R %lld %lld %llu %lld %lld\t%s%s%s\n",
                     (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec,
                     (long long)st.st_size, (unsigned long long)st.st_ino,
                     (long long)st.st_ctim.tv_sec * 1000000000LL + st.st_ctim.tv_nsec,
                     (long long)now.tv_sec * 1000000000LL + now.tv_nsec, base, sep, path);
    }
    struct stat rec;
    int fd_now = record_fd;
    if (fstat(fd_now, &rec) != 0 || rec.st_dev != record_dev || rec.st_ino != record_ino) {
        record_fd = -1;  /* not our record any more: stop rather than write into another file */
        return;
    }
    if (n > 0 && (size_t)n < sizeof line) {
        ssize_t ignored = write(fd_now, line, (size_t)n);
        (void)ignored;
    }
}

/* Record into `fd` from now on (-1: stop), remembering which file it is. */
static void record_to(int fd) {
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0) {
        record_dev = st.st_dev;
        record_ino = st.st_ino;
        record_fd = fd;
    } else {
        record_fd = -1;
    }
}

static void after_open(int dirfd, const char *path, int flags, int fd) {
    int saved = errno;
    if (!(flags & O_PATH)) note(dirfd, path, fd, (flags & O_ACCMODE) != O_RDONLY);
    errno = saved;
}

static void after_fopen(const char *path, const char *mode, FILE *f) {
    int saved = errno;
    if (f != NULL && mode != NULL)
        note(AT_FDCWD, path, fileno(f), mode[0] != 'r' || strchr(mode, '+') != NULL);
    errno = saved;
}

static mode_t mode_arg(int flags, va_list ap) {
    return (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
}

#define WRAP_OPEN(name)                                                    \
    int name(const char *path, int flags, ...) {                           \
        static open_fn next;                                               \
        va_list ap;                                                        \
        va_start(ap, flags);                                               \
        mode_t mode = mode_arg(flags, ap);                                 \
        va_end(ap);                                                        \
        if (!next) next = (open_fn)real(#name);                            \
        int fd = next(path, flags, mode);                                  \
        after_open(AT_FDCWD, path, flags, fd);                             \
        return fd;                                                         \
    }

#define WRAP_OPENAT(name)                                                  \
    int name(int dirfd, const char *path, int flags, ...) {                \
        static openat_fn next;                                             \
        va_list ap;                                                        \
        va_start(ap, flags);                                               \
        mode_t mode = mode_arg(flags, ap);                                 \
        va_end(ap);                                                        \
        if (!next) next = (openat_fn)real(#name);                          \
        int fd = next(dirfd, path, flags, mode);                           \
        after_open(dirfd, path, flags, fd);                                \
        return fd;                                                         \
    }

/* The fortified entry points (_FORTIFY_SOURCE builds call these for open without a mode). */
#define WRAP_OPEN_2(name)                                                  \
    int name(const char *path, int flags) {                                \
        static int (*next)(const char *, int);                             \
        if (!next) next = (int (*)(const char *, int))real(#name);         \
        int fd = next(path, flags);                                        \
        after_open(AT_FDCWD, path, flags, fd);                             \
        return fd;                                                         \
    }

#define WRAP_OPENAT_2(name)                                                \
    int name(int dirfd, const char *path, int flags) {                     \
        static int (*next)(int, const char *, int);                        \
        if (!next) next = (int (*)(int, const char *, int))real(#name);    \
        int fd = next(dirfd, path, flags);                                 \
        after_open(dirfd, path, flags, fd);                                \
        return fd;                                                         \
    }

#define WRAP_FOPEN(name)                                                   \
    FILE *name(const char *path, const char *mode) {                       \
        static fopen_fn next;                                              \
        if (!next) next = (fopen_fn)real(#name);                           \
        FILE *f = next(path, mode);                                        \
        after_fopen(path, mode, f);                                        \
        return f;                                                          \
    }

#define WRAP_FREOPEN(name)                                                 \
    FILE *name(const char *path, const char *mode, FILE *stream) {         \
        static freopen_fn next;                                            \
        if (!next) next = (freopen_fn)real(#name);                         \
        FILE *f = next(path, mode, stream);                                \
        after_fopen(path, mode, f);                                        \
        return f;                                                          \
    }

/* A folder listed (a glob, a dataset discovered): its entry names are an input. */
DIR *opendir(const char *path) {
    static DIR *(*next)(const char *);
    if (!next) next = (DIR * (*)(const char *)) real("opendir");
    DIR *d = next(path);
    if (d != NULL) {
        int saved = errno;
        note(AT_FDCWD, path, dirfd(d), 2);
        errno = saved;
    }
    return d;
}

WRAP_OPEN(open)
WRAP_OPEN(open64)
WRAP_OPENAT(openat)
WRAP_OPENAT(openat64)
WRAP_OPEN_2(__open_2)
WRAP_OPEN_2(__open64_2)
WRAP_OPENAT_2(__openat_2)
WRAP_OPENAT_2(__openat64_2)
WRAP_FOPEN(fopen)
WRAP_FOPEN(fopen64)
WRAP_FREOPEN(freopen)
WRAP_FREOPEN(freopen64)

/* A program started with an environment of the caller's own (`subprocess.run(..., env={...})`,
 * Rust's Command::env_clear) would lose the recorder: while recording, the environment it gets
 * is `envp` with LD_PRELOAD and BOOKBUILD_READS put back, built into `out` (room for all of
 * envp plus 3), `pre` and `rec`. Allocation-free: this runs between fork and exec. */
static char *const *with_recorder(char *const envp[], char **out, char *pre, size_t pre_size,
                                  char *rec, size_t rec_size) {
    const char *record = getenv("BOOKBUILD_READS");
    Dl_info self;
    if (record_fd < 0 || envp == NULL || record == NULL ||
        !dladdr((void *)with_recorder, &self) || self.dli_fname == NULL)
        return envp;
    const char *theirs = "";
    size_t n = 0;
    for (size_t i = 0; envp[i] != NULL; i++) {
        if (!strncmp(envp[i], "LD_PRELOAD=", 11)) {
            theirs = envp[i] + 11;
        } else if (strncmp(envp[i], "BOOKBUILD_READS=", 16)) {
            out[n++] = envp[i];
        }
    }
    if (strstr(theirs, self.dli_fname) != NULL) {
        snprintf(pre, pre_size, "LD_PRELOAD=%s", theirs);
    } else {
        snprintf(pre, pre_size, "LD_PRELOAD=%s%s%s", self.dli_fname, *theirs ? " " : "", theirs);
    }
    snprintf(rec, rec_size, "BOOKBUILD_READS=%s", record);
    out[n++] = pre;
    out[n++] = rec;
    out[n] = NULL;
    return out;
}

#define ENV_ROOM(envp)                                                     \
    size_t room_ = 3;                                                      \
    if (envp)                                                              \
        while (envp[room_ - 3]) room_++;                                   \
    char *env_[room_];                                                     \
    char pre_[2 * PATH_MAX + 32], rec_[PATH_MAX + 32];                     \
    char *const *fixed_ = with_recorder(envp, env_, pre_, sizeof pre_, rec_, sizeof rec_)

int execve(const char *path, char *const argv[], char *const envp[]) {
    static int (*next)(const char *, char *const[], char *const[]);
    if (!next) next = (int (*)(const char *, char *const[], char *const[]))real("execve");
    ENV_ROOM(envp);
    return next(path, argv, fixed_);
}

int execvpe(const char *file, char *const argv[], char *const envp[]) {
    static int (*next)(const char *, char *const[], char *const[]);
    if (!next) next = (int (*)(const char *, char *const[], char *const[]))real("execvpe");
    ENV_ROOM(envp);
    return next(file, argv, fixed_);
}

typedef int (*spawn_fn)(pid_t *, const char *, const posix_spawn_file_actions_t *,
                        const posix_spawnattr_t *, char *const[], char *const[]);

#define WRAP_SPAWN(name)                                                   \
    int name(pid_t *pid, const char *path, const posix_spawn_file_actions_t *actions, \
             const posix_spawnattr_t *attr, char *const argv[], char *const envp[]) { \
        static spawn_fn next;                                              \
        if (!next) next = (spawn_fn)real(#name);                           \
        ENV_ROOM(envp);                                                    \
        return next(pid, path, actions, attr, argv, fixed_);               \
    }

WRAP_SPAWN(posix_spawn)
WRAP_SPAWN(posix_spawnp)

/* The kernel starts its record here (ctypes); -1 stops recording. Forgets what was seen. */
void bookbuild_reads_to(int fd) {
    memset(seen, 0, sizeof seen);
    record_to(fd);
}

/* A program a cell started: record into the chapter's record when one is named. */
__attribute__((constructor)) static void start_from_environment(void) {
    const char *path = getenv("BOOKBUILD_READS");
    if (path == NULL || path[0] == '\0') return;
    open_fn next = (open_fn)real("open");
    if (next) record_to(next(path, O_WRONLY | O_APPEND | O_CLOEXEC));
}
