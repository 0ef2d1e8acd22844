/* madvise and MADV_DONTNEED are not POSIX (posix_madvise's POSIX_MADV_DONTNEED is a no-op in
 * glibc); without them igq__map_drop does nothing. */
#define _DEFAULT_SOURCE 1

#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/alloc.h"
#include "../core/error.h"

/* strerror is not thread-safe; the XSI strerror_r (POSIX 2008) is. */
static const char *errtext(int e, char *buf, size_t cap)
{
    if (strerror_r(e, buf, cap) != 0) snprintf(buf, cap, "error %d", e);
    return buf;
}

/* Opens path for reading and checks it is a regular file (*fd open on IGQ_OK only).
 * O_NONBLOCK: opening a FIFO (or a device) must not block before the regular-file check. */
static igq_status open_regular(const char *path, int *fd, struct stat *st)
{
    char ebuf[128];
    *fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    IGQ_CHECK(*fd >= 0, IGQ_ERR_IO, "cannot open '%s': %s", path,
              errtext(errno, ebuf, sizeof ebuf));
    if (fstat(*fd, st) != 0 || !S_ISREG(st->st_mode)) {
        close(*fd);
        *fd = -1;
        return igq__set_error(IGQ_ERR_IO, "cannot read '%s': not a regular file", path);
    }
    return IGQ_OK;
}

igq_status igq__read_file(const char *path, unsigned char **buf, size_t *size)
{
    struct stat    st;
    unsigned char *p;
    size_t         n, got = 0;
    char           ebuf[128];
    int            fd;
    *buf  = NULL;
    *size = 0;
    IGQ_TRY(open_regular(path, &fd, &st));
    n = (size_t)st.st_size;
    p = (unsigned char *)igq__malloc(n + 1);
    if (p == NULL) {
        close(fd);
        return igq__set_error(IGQ_ERR_NO_MEMORY, "'%s': cannot allocate %zu bytes", path, n);
    }
    while (got < n) {
        const ssize_t r = read(fd, p + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            const int e = r < 0 ? errno : 0;
            close(fd);
            igq__free(p);
            return igq__set_error(IGQ_ERR_IO, "cannot read '%s': %s", path,
                                  e ? errtext(e, ebuf, sizeof ebuf) : "file shrank while reading");
        }
        got += (size_t)r;
    }
    close(fd);
    p[n]  = 0;
    *buf  = p;
    *size = n;
    return IGQ_OK;
}

int igq__file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

igq_status igq__map_file(const char *path, igq_map *out)
{
    static const unsigned char empty[64] = {0};
    struct stat                st;
    char                       ebuf[128];
    void                      *p;
    int                        fd;
    memset(out, 0, sizeof *out);
    IGQ_TRY(open_regular(path, &fd, &st));
    if (st.st_size == 0) {
        close(fd);
        out->data = empty;
        return IGQ_OK;
    }
    if ((uint64_t)st.st_size > (uint64_t)SIZE_MAX) {
        close(fd);
        return igq__set_error(IGQ_ERR_IO, "cannot map '%s': %lld bytes exceed the address space",
                              path, (long long)st.st_size);
    }
    p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
        const int e = errno;
        close(fd);
        return igq__set_error(e == ENOMEM ? IGQ_ERR_NO_MEMORY : IGQ_ERR_IO,
                              "cannot map '%s': %s", path, errtext(e, ebuf, sizeof ebuf));
    }
    close(fd); /* the mapping keeps the file */
    out->data       = (const unsigned char *)p;
    out->size       = (size_t)st.st_size;
    out->mapped     = p;
    out->mapped_len = (size_t)st.st_size;
    return IGQ_OK;
}

igq_status igq__map_copy(const void *data, size_t size, const char *who, igq_map *out)
{
    static const unsigned char empty[64] = {0};
    memset(out, 0, sizeof *out);
    if (size == 0) {
        out->data = empty;
        return IGQ_OK;
    }
    out->owned = igq__malloc(size);
    IGQ_CHECK(out->owned != NULL, IGQ_ERR_NO_MEMORY, "%s: cannot allocate %zu bytes", who, size);
    memcpy(out->owned, data, size);
    out->data = (const unsigned char *)out->owned;
    out->size = size;
    return IGQ_OK;
}

void igq__map_drop(const igq_map *m, size_t offset, size_t len)
{
#if defined(MADV_DONTNEED)
    const long page = sysconf(_SC_PAGESIZE);
    size_t     lo, hi;
    if (m == NULL || m->mapped == NULL || page <= 0 || offset > m->size ||
        len > m->size - offset)
        return;
    /* whole pages only: a page shared with bytes outside the range may still be in use */
    lo = (offset + (size_t)page - 1) / (size_t)page * (size_t)page;
    hi = (offset + len) / (size_t)page * (size_t)page;
    /* The mapping is read-only and never written, so no page holds private data. */
    if (lo < hi) (void)madvise((unsigned char *)m->mapped + lo, hi - lo, MADV_DONTNEED);
#else
    (void)m;
    (void)offset;
    (void)len;
#endif
}

void igq__map_release(igq_map *m)
{
    if (m == NULL) return;
    if (m->mapped != NULL) munmap(m->mapped, m->mapped_len);
    igq__free(m->owned);
    memset(m, 0, sizeof *m);
}
