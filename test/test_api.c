/* Tensors, version, status strings, the per-thread last error, and what every value-returning
 * getter answers for a NULL handle. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "igq/igq.h"
#include "support/testutil.h"

static void test_version(void **state)
{
    char buf[32];
    (void)state;
    assert_int_equal(igq_version_number(), IGQ_VERSION_NUMBER);
    snprintf(buf, sizeof buf, "%d.%d.%d", IGQ_VERSION_MAJOR, IGQ_VERSION_MINOR, IGQ_VERSION_PATCH);
    assert_string_equal(igq_version_string(), buf);
}

static void test_strerror(void **state)
{
    int s;
    (void)state;
    assert_string_equal(igq_strerror(IGQ_OK), "success");
    for (s = 1; s <= IGQ_ERR_CANCELLED; s++) {
        const char *m = igq_strerror((igq_status)s);
        assert_non_null(m);
        assert_string_not_equal(m, "unknown error");
    }
    assert_string_equal(igq_strerror((igq_status)12345), "unknown error");
    assert_string_equal(igq_strerror((igq_status)-1), "unknown error");
}

static void test_tensor_create(void **state)
{
    int64_t     shape[3] = {2, 3, 5};
    igq_tensor *t = NULL;
    float      *d;
    int64_t     i;
    (void)state;
    assert_int_equal(igq_tensor_create(IGQ_DTYPE_F32, 3, shape, &t), IGQ_OK);
    assert_int_equal(igq_tensor_ndim(t), 3);
    assert_int_equal(igq_tensor_dim(t, 2), 5);
    assert_int_equal(igq_tensor_dim(t, 3), -1);
    assert_int_equal(igq_tensor_dim(t, -1), -1);
    assert_int_equal(igq_tensor_numel(t), 30);
    assert_int_equal(igq_tensor_dtype(t), IGQ_DTYPE_F32);
    d = (float *)igq_tensor_data(t);
    assert_non_null(d);
    assert_int_equal((uintptr_t)d % 64, 0);
    for (i = 0; i < 30; i++) assert_true(d[i] == 0.0f);
    igq_tensor_free(t);
    igq_tensor_free(NULL);
    assert_null(igq_tensor_data(NULL));
}

/* ---- getters on NULL handles and out-of-range indices: -1 or a *_INVALID enum value, which
 * no valid handle ever reports ---------------------------------------------------------------- */

static void test_getter_tensor_ndim(void **state)
{
    int64_t     shape[IGQ_MAX_DIMS] = {1, 1, 1, 1, 1, 1, 1, 1};
    igq_tensor *t = NULL;
    (void)state;
    assert_int_equal(igq_tensor_ndim(NULL), -1);
    assert_int_equal(igq_tensor_create(IGQ_DTYPE_F32, IGQ_MAX_DIMS, shape, &t), IGQ_OK);
    assert_int_equal(igq_tensor_ndim(t), IGQ_MAX_DIMS);
    igq_tensor_free(t);
}

static void test_getter_tensor_dim(void **state)
{
    int64_t     shape[2] = {1, 7};
    igq_tensor *t = NULL;
    (void)state;
    assert_int_equal(igq_tensor_dim(NULL, 0), -1);
    assert_int_equal(igq_tensor_dim(NULL, -1), -1);
    assert_int_equal(igq_tensor_create(IGQ_DTYPE_F32, 2, shape, &t), IGQ_OK);
    assert_int_equal(igq_tensor_dim(t, 0), 1);
    assert_int_equal(igq_tensor_dim(t, 1), 7);
    assert_int_equal(igq_tensor_dim(t, 2), -1);
    assert_int_equal(igq_tensor_dim(t, IGQ_MAX_DIMS), -1);
    assert_int_equal(igq_tensor_dim(t, -1), -1);
    assert_int_equal(igq_tensor_dim(t, INT32_MIN), -1);
    assert_int_equal(igq_tensor_dim(t, INT32_MAX), -1);
    igq_tensor_free(t);
}

static void test_getter_tensor_dtype(void **state)
{
    int64_t     shape[1] = {3};
    igq_tensor *t = (igq_tensor *)&shape; /* must be reset to NULL */
    (void)state;
    assert_int_equal(igq_tensor_dtype(NULL), IGQ_DTYPE_INVALID);
    assert_int_equal(IGQ_DTYPE_INVALID, -1);
    /* The invalid value is never a valid argument. */
    assert_int_equal(igq_tensor_create(IGQ_DTYPE_INVALID, 1, shape, &t), IGQ_ERR_INVALID_ARGUMENT);
    assert_null(t);
    assert_int_equal(igq_tensor_create(IGQ_DTYPE_F32, 1, shape, &t), IGQ_OK);
    assert_int_equal(igq_tensor_dtype(t), IGQ_DTYPE_F32);
    igq_tensor_free(t);
}

static void test_getter_tensor_numel(void **state)
{
    int64_t     shape[3] = {1, 1, 1};
    igq_tensor *t = NULL;
    (void)state;
    assert_int_equal(igq_tensor_numel(NULL), -1);
    assert_int_equal(igq_tensor_create(IGQ_DTYPE_F32, 3, shape, &t), IGQ_OK);
    assert_int_equal(igq_tensor_numel(t), 1);
    igq_tensor_free(t);
}

static void test_getter_threadpool_size(void **state)
{
    igq_threadpool *pool = NULL;
    (void)state;
    assert_int_equal(igq_threadpool_size(NULL), -1);
    assert_int_equal(igq_threadpool_create(1, &pool), IGQ_OK);
    assert_int_equal(igq_threadpool_size(pool), 1);
    igq_threadpool_free(pool);
}

static void test_getter_model_is_quantized(void **state)
{
    (void)state;
    assert_int_equal(igq_model_is_quantized(NULL), -1);
}

static void test_getter_quantizer_bits(void **state)
{
    (void)state;
    assert_int_equal(igq_quantizer_bits(NULL), -1);
}

static void test_getter_quantizer_granularity(void **state)
{
    igq_config *c = NULL;
    (void)state;
    assert_int_equal(igq_quantizer_granularity(NULL), IGQ_GRANULARITY_INVALID);
    assert_int_equal(IGQ_GRANULARITY_INVALID, -1);
    /* The invalid value is never a valid option value. */
    assert_int_equal(igq_config_create(&c), IGQ_OK);
    assert_int_not_equal(igq_config_set(c, IGQ_OPT_ACT_GRANULARITY, IGQ_GRANULARITY_INVALID),
                         IGQ_OK);
    igq_config_free(c);
}

static void test_getter_quantizer_num_groups(void **state)
{
    (void)state;
    assert_int_equal(igq_quantizer_num_groups(NULL), -1);
}

static void test_getter_groups_count(void **state)
{
    (void)state;
    assert_int_equal(igq_groups_count(NULL), -1);
}

static void test_getter_groups_num_groups(void **state)
{
    (void)state;
    assert_int_equal(igq_groups_num_groups(NULL), -1);
}

static void test_tensor_errors(void **state)
{
    int64_t     shape[2] = {4, 4}, zero[2] = {4, 0}, neg[2] = {-1, 3};
    int64_t     huge[3] = {INT64_MAX / 2, 4, 4};
    igq_tensor *t = (igq_tensor *)&shape; /* must be reset to NULL */
    (void)state;
    assert_int_equal(igq_tensor_create(IGQ_DTYPE_F32, 2, shape, NULL), IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq_tensor_create(IGQ_DTYPE_F32, 0, shape, &t), IGQ_ERR_INVALID_ARGUMENT);
    assert_null(t);
    assert_int_equal(igq_tensor_create(IGQ_DTYPE_F32, IGQ_MAX_DIMS + 1, shape, &t),
                     IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq_tensor_create(IGQ_DTYPE_F32, 2, NULL, &t), IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq_tensor_create(IGQ_DTYPE_F32, 2, zero, &t), IGQ_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(igq_last_error(), "dimension 1"));
    assert_int_equal(igq_tensor_create(IGQ_DTYPE_F32, 2, neg, &t), IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq_tensor_create(IGQ_DTYPE_F32, 3, huge, &t), IGQ_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(igq_last_error(), "overflow"));
    assert_int_equal(igq_tensor_create((igq_dtype)7, 2, shape, &t), IGQ_ERR_INVALID_ARGUMENT);
    assert_null(t);
}

static void test_tensor_wrap(void **state)
{
    float       buf[17];
    int64_t     shape[2] = {4, 4};
    igq_tensor *t = NULL;
    (void)state;
    assert_int_equal(igq_tensor_wrap(IGQ_DTYPE_F32, 2, shape, buf, sizeof buf, &t), IGQ_OK);
    assert_ptr_equal(igq_tensor_data(t), buf);
    igq_tensor_free(t); /* must not free buf */
    assert_int_equal(igq_tensor_wrap(IGQ_DTYPE_F32, 2, shape, buf, 15 * sizeof(float), &t),
                     IGQ_ERR_BUFFER_TOO_SMALL);
    assert_null(t);
    assert_int_equal(igq_tensor_wrap(IGQ_DTYPE_F32, 2, shape, NULL, sizeof buf, &t),
                     IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq_tensor_wrap(IGQ_DTYPE_F32, 2, shape, (char *)buf + 1, sizeof buf - 4, &t),
                     IGQ_ERR_INVALID_ARGUMENT);
}

static void test_tensor_alloc_failure(void **state)
{
    int64_t     shape[1] = {10};
    igq_tensor *t = NULL;
    (void)state;
    igq__alloc_fail_after(0);
    assert_int_equal(igq_tensor_create(IGQ_DTYPE_F32, 1, shape, &t), IGQ_ERR_NO_MEMORY);
    igq__alloc_fail_after(1);
    assert_int_equal(igq_tensor_create(IGQ_DTYPE_F32, 1, shape, &t), IGQ_ERR_NO_MEMORY);
    igq__alloc_fail_after(-1);
    assert_null(t);
}

/* The last error is per thread: a failure in one thread does not change another's. */
static void *other_thread(void *arg)
{
    igq_tensor *t = NULL;
    (void)arg;
    if (strcmp(igq_last_error(), "") != 0) return (void *)1;
    igq_tensor_create(IGQ_DTYPE_F32, 0, NULL, &t);
    return strstr(igq_last_error(), "ndim") != NULL ? NULL : (void *)1;
}

/* A message that quotes the current one (igq_last_error() as an argument) is formatted from a
 * copy, not from the buffer being written (issue 15: overlapping vsnprintf). */
static void test_error_quotes_itself(void **state)
{
    char long_msg[900];
    (void)state;
    igq__set_error(IGQ_ERR_FORMAT, "inner %d", 42);
    assert_int_equal(igq__set_error(IGQ_ERR_FORMAT, "outer: %s", igq_last_error()),
                     IGQ_ERR_FORMAT);
    assert_string_equal(igq_last_error(), "outer: inner 42");
    assert_int_equal(igq__set_error(IGQ_ERR_IO, "%s / %s", igq_last_error(), igq_last_error()),
                     IGQ_ERR_IO);
    assert_string_equal(igq_last_error(), "outer: inner 42 / outer: inner 42");
    memset(long_msg, 'x', sizeof long_msg - 1);
    long_msg[sizeof long_msg - 1] = 0;
    igq__set_error(IGQ_ERR_IO, "%s", long_msg);
    igq__set_error(IGQ_ERR_IO, "a: %s", igq_last_error()); /* truncated at the cap, not garbled */
    assert_int_equal(strncmp(igq_last_error(), "a: xxxx", 7), 0);
    assert_int_equal(strspn(igq_last_error() + 3, "x"), strlen(igq_last_error()) - 3);
}

static void test_last_error_per_thread(void **state)
{
    pthread_t th;
    void     *ret = (void *)1;
    (void)state;
    igq__set_error(IGQ_ERR_IO, "main thread message %d", 42);
    assert_int_equal(pthread_create(&th, NULL, other_thread, NULL), 0);
    assert_int_equal(pthread_join(th, &ret), 0);
    assert_null(ret);
    assert_string_equal(igq_last_error(), "main thread message 42");
    /* A success leaves the message alone. */
    {
        int64_t     shape[1] = {1};
        igq_tensor *t = NULL;
        assert_int_equal(igq_tensor_create(IGQ_DTYPE_F32, 1, shape, &t), IGQ_OK);
        igq_tensor_free(t);
        assert_string_equal(igq_last_error(), "main thread message 42");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_strerror),
        cmocka_unit_test(test_tensor_create),
        cmocka_unit_test(test_tensor_errors),
        cmocka_unit_test(test_getter_tensor_ndim),
        cmocka_unit_test(test_getter_tensor_dim),
        cmocka_unit_test(test_getter_tensor_dtype),
        cmocka_unit_test(test_getter_tensor_numel),
        cmocka_unit_test(test_getter_threadpool_size),
        cmocka_unit_test(test_getter_model_is_quantized),
        cmocka_unit_test(test_getter_quantizer_bits),
        cmocka_unit_test(test_getter_quantizer_granularity),
        cmocka_unit_test(test_getter_quantizer_num_groups),
        cmocka_unit_test(test_getter_groups_count),
        cmocka_unit_test(test_getter_groups_num_groups),
        cmocka_unit_test(test_tensor_wrap),
        cmocka_unit_test(test_tensor_alloc_failure),
        cmocka_unit_test(test_error_quotes_itself),
        cmocka_unit_test(test_last_error_per_thread),
    };
    return cmocka_run_group_tests_name("api", tests, NULL, NULL);
}
