#include "file.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "../core/alloc.h"
#include "../core/error.h"

/* strerror is not thread-safe; the XSI strerror_r (POSIX 2008) is. */
static const char *errtext(int e, char *buf, size_t cap)
{
    if (strerror_r(e, buf, cap) != 0) snprintf(buf, cap, "error %d", e);
    return buf;
}

igq_status igq__read_file(const char *path, unsigned char **buf, size_t *size)
{
    FILE          *f;
    struct stat    st;
    unsigned char *p;
    size_t         n;
    char           ebuf[128];
    *buf  = NULL;
    *size = 0;
    f     = fopen(path, "rb");
    IGQ_CHECK(f != NULL, IGQ_ERR_IO, "cannot open '%s': %s", path,
              errtext(errno, ebuf, sizeof ebuf));
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return igq__set_error(IGQ_ERR_IO, "cannot read '%s': not a regular file", path);
    }
    n = (size_t)st.st_size;
    p = (unsigned char *)igq__malloc(n + 1);
    if (p == NULL) {
        fclose(f);
        return igq__set_error(IGQ_ERR_NO_MEMORY, "'%s': cannot allocate %zu bytes", path, n);
    }
    if (n > 0 && fread(p, 1, n, f) != n) {
        int e = ferror(f) ? errno : 0;
        fclose(f);
        igq__free(p);
        return igq__set_error(IGQ_ERR_IO, "cannot read '%s': %s", path,
                              e ? errtext(e, ebuf, sizeof ebuf) : "file shrank while reading");
    }
    fclose(f);
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
