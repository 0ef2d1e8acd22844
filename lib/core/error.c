/* Per-thread last-error storage (pthread key created once) and status strings. */
#include "error.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IGQ_ERROR_CAP 1024

static pthread_key_t  g_key;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static int            g_key_ok;

static void key_init(void) { g_key_ok = pthread_key_create(&g_key, free) == 0; }

/* The thread's buffer, created on first use; NULL only if malloc fails. */
static char *thread_buffer(int create)
{
    char *buf;
    pthread_once(&g_once, key_init);
    if (!g_key_ok) return NULL;
    buf = (char *)pthread_getspecific(g_key);
    if (buf == NULL && create) {
        buf = (char *)calloc(1, IGQ_ERROR_CAP);
        if (buf == NULL) return NULL;
        if (pthread_setspecific(g_key, buf) != 0) {
            free(buf);
            return NULL;
        }
    }
    return buf;
}

igq_status igq__set_error(igq_status status, const char *fmt, ...)
{
    char *buf = thread_buffer(1);
    if (buf != NULL) {
        /* formatted aside first: an argument may be the current message (igq_last_error()),
         * and vsnprintf must not write the buffer it reads */
        char    tmp[IGQ_ERROR_CAP];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(tmp, sizeof tmp, fmt, ap);
        va_end(ap);
        memcpy(buf, tmp, IGQ_ERROR_CAP);
    }
    return status;
}

void igq__error_prefix(const char *prefix)
{
    char *buf = thread_buffer(1);
    char tmp[IGQ_ERROR_CAP];
    if (buf == NULL || prefix == NULL) return;
    snprintf(tmp, sizeof tmp, "%s: %s", prefix, buf);
    memcpy(buf, tmp, IGQ_ERROR_CAP);
}

const char *igq_last_error(void)
{
    const char *buf = thread_buffer(0);
    return buf != NULL ? buf : "";
}

const char *igq_strerror(igq_status status)
{
    switch (status) {
    case IGQ_OK: return "success";
    case IGQ_ERR_INVALID_ARGUMENT: return "invalid argument";
    case IGQ_ERR_OUT_OF_RANGE: return "value out of range";
    case IGQ_ERR_NO_MEMORY: return "out of memory";
    case IGQ_ERR_IO: return "input/output error";
    case IGQ_ERR_FORMAT: return "malformed or unsupported file format";
    case IGQ_ERR_SHAPE: return "tensor shape mismatch";
    case IGQ_ERR_UNSUPPORTED: return "unsupported";
    case IGQ_ERR_BAD_STATE: return "bad state";
    case IGQ_ERR_BUFFER_TOO_SMALL: return "buffer too small";
    case IGQ_ERR_THREAD: return "thread error";
    case IGQ_ERR_INTERNAL: return "internal error";
    case IGQ_ERR_NOT_FOUND: return "not found";
    case IGQ_ERR_CANCELLED: return "cancelled";
    case IGQ_STATUS_FORCE32:
    default: return "unknown error";
    }
}
