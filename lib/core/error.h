/* Internal error reporting: a per-thread "last error" message plus status propagation.
 * Private header: must remain private to libigq. */
#ifndef IGQ_CORE_ERROR_H
#define IGQ_CORE_ERROR_H

#include "compiler.h"

#include "igq/igq.h"

#if defined(__GNUC__) || defined(__clang__)
#define IGQ_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define IGQ_PRINTF(f, a)
#endif

/* Formats the message into this thread's last-error buffer and returns status. */
igq_status igq__set_error(igq_status status, const char *fmt, ...) IGQ_PRINTF(2, 3);

/* Prefixes the current last-error message with "prefix: " (for adding a file name). */
void igq__error_prefix(const char *prefix);

#define IGQ_CHECK(cond, status, ...)                                  \
    do {                                                              \
        if (!(cond)) return igq__set_error((status), __VA_ARGS__);    \
    } while (0)

#define IGQ_TRY(expr)                                                 \
    do {                                                              \
        igq_status igq_try_s_ = (expr);                               \
        if (igq_try_s_ != IGQ_OK) return igq_try_s_;                  \
    } while (0)

#endif
