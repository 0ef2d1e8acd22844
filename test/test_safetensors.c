/* Tests for the safetensors reader (lib/io/safetensors.c) and fp16/bf16 conversion.
 * Files are assembled in memory (8-byte little-endian header length + JSON + data); the
 * file-path cases write them into a private temporary directory. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/fp16.h"
#include "io/safetensors.h"
#include "support/testutil.h"

#define BAD "bad.safetensors"

/* ---- helpers ------------------------------------------------------------------------------ */

static void put_u64le(unsigned char *p, uint64_t v)
{
    int i;
    for (i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* Assembles a file whose header-length field says hlen (normally strlen(header)). */
static unsigned char *build_raw(uint64_t hlen, const char *header, const void *data,
                                size_t ndata, size_t *size)
{
    size_t         h = strlen(header), n = 8 + h + ndata;
    unsigned char *buf = (unsigned char *)malloc(n ? n : 1);
    assert_non_null(buf);
    put_u64le(buf, hlen);
    memcpy(buf + 8, header, h);
    if (ndata) memcpy(buf + 8 + h, data, ndata);
    *size = n;
    return buf;
}

static unsigned char *build(const char *header, const void *data, size_t ndata, size_t *size)
{
    return build_raw(strlen(header), header, data, ndata, size);
}

/* Parses from an exact-size heap copy (so ASan sees any over-read of the input). */
static igq_status parse_mem(const unsigned char *buf, size_t n, const char *name,
                            igq_safetensors **out)
{
    unsigned char *copy = (unsigned char *)malloc(n ? n : 1);
    igq_status     s;
    assert_non_null(copy);
    if (n) memcpy(copy, buf, n);
    s = igq__st_parse(copy, n, name, out);
    free(copy);
    return s;
}

static igq_safetensors *parse_good(const char *header, const void *data, size_t ndata)
{
    size_t           n;
    unsigned char   *buf = build(header, data, ndata, &n);
    igq_safetensors *st  = NULL;
    igq_status       s   = parse_mem(buf, n, "good.safetensors", &st);
    free(buf);
    if (s != IGQ_OK) fail_msg("expected OK, got %d: %s", (int)s, igq_last_error());
    assert_non_null(st);
    return st;
}

static void check_msg(const char *n1, const char *n2, const char *n3)
{
    const char *msg = igq_last_error();
    if (strncmp(msg, BAD ": ", strlen(BAD ": ")) != 0)
        fail_msg("message does not start with the file name: '%s'", msg);
    if (n1 != NULL && strstr(msg, n1) == NULL) fail_msg("message '%s' lacks '%s'", msg, n1);
    if (n2 != NULL && strstr(msg, n2) == NULL) fail_msg("message '%s' lacks '%s'", msg, n2);
    if (n3 != NULL && strstr(msg, n3) == NULL) fail_msg("message '%s' lacks '%s'", msg, n3);
}

/* Parses buf[0..n) named BAD and requires status want plus up to three message fragments. */
static void expect_buf(const unsigned char *buf, size_t n, igq_status want, const char *n1,
                       const char *n2, const char *n3)
{
    igq_safetensors *st = (igq_safetensors *)&st;
    igq_status       s  = parse_mem(buf, n, BAD, &st);
    if (s != want)
        fail_msg("expected status %d, got %d: %s", (int)want, (int)s, igq_last_error());
    assert_null(st);
    check_msg(n1, n2, n3);
}

/* As expect_buf for a file made of header + ndata bytes of data. */
static void expect_bad(const char *header, size_t ndata, const char *n1, const char *n2,
                       const char *n3)
{
    size_t         n;
    unsigned char *data = (unsigned char *)calloc(1, ndata ? ndata : 1);
    unsigned char *buf;
    assert_non_null(data);
    buf = build(header, data, ndata, &n);
    expect_buf(buf, n, IGQ_ERR_FORMAT, n1, n2, n3);
    free(buf);
    free(data);
}

static void put_f32(unsigned char *p, float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    p[0] = (unsigned char)u;
    p[1] = (unsigned char)(u >> 8);
    p[2] = (unsigned char)(u >> 16);
    p[3] = (unsigned char)(u >> 24);
}

static void put_u16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

static int same_bits(float a, float b) { return memcmp(&a, &b, sizeof a) == 0; }

/* ---- fp16 / bf16 -------------------------------------------------------------------------- */

/* Reference binary16 decoding with ldexp (exact in double, then exactly representable). */
static float ref_f16(uint16_t h)
{
    int    sign = h >> 15, e = (h >> 10) & 31, m = h & 1023;
    double v;
    if (e == 31) {
        if (m == 0) return sign ? -INFINITY : INFINITY;
        return NAN;
    }
    v = e == 0 ? ldexp((double)m, -24) : ldexp((double)(m + 1024), e - 25);
    return (float)(sign ? -v : v);
}

static void test_f16_exhaustive(void **state)
{
    uint32_t h;
    (void)state;
    for (h = 0; h < 65536; h++) {
        float got = igq__f16_to_f32((uint16_t)h), want = ref_f16((uint16_t)h);
        if (isnan(want)) {
            uint32_t u;
            assert_true(isnan(got));
            memcpy(&u, &got, 4);
            /* sign and payload preserved */
            assert_int_equal(u >> 31, h >> 15);
            assert_int_equal((u >> 13) & 1023, h & 1023);
        } else if (!same_bits(got, want)) {
            fail_msg("f16 0x%04x: got %.9g, want %.9g", (unsigned)h, got, want);
        }
    }
    assert_true(igq__f16_to_f32(0x3C00) == 1.0f);
    assert_true(igq__f16_to_f32(0xC000) == -2.0f);
    assert_true(igq__f16_to_f32(0x7BFF) == 65504.0f);
    assert_true(igq__f16_to_f32(0x0001) == ldexpf(1.0f, -24));
    assert_true(igq__f16_to_f32(0x03FF) == ldexpf(1023.0f, -24));
    assert_true(igq__f16_to_f32(0x0400) == ldexpf(1.0f, -14));
    assert_true(igq__f16_to_f32(0x3555) == 0.333251953125f);
    assert_true(same_bits(igq__f16_to_f32(0x8000), -0.0f));
    assert_true(igq__f16_to_f32(0xFC00) == -INFINITY);
}

static void test_bf16(void **state)
{
    uint32_t h;
    (void)state;
    for (h = 0; h < 65536; h++) {
        uint32_t bits = h << 16, u;
        float    got  = igq__bf16_to_f32((uint16_t)h);
        memcpy(&u, &got, 4);
        assert_int_equal(u, bits);
    }
    assert_true(igq__bf16_to_f32(0x3F80) == 1.0f);
    assert_true(igq__bf16_to_f32(0xC049) == -3.140625f);
    assert_true(igq__bf16_to_f32(0x0001) == ldexpf(1.0f, -133));
    assert_true(igq__bf16_to_f32(0x7F80) == INFINITY);
    assert_true(isnan(igq__bf16_to_f32(0x7FC0)));
}

/* ---- valid files -------------------------------------------------------------------------- */

static void test_f32_file(void **state)
{
    const float      vals[6] = {1.0f, -2.5f, 3.14159274f, -0.0f, 1e-40f, 65504.0f};
    unsigned char    data[24];
    float            out[6];
    size_t           n, i;
    unsigned char   *buf;
    char            *dir, *path;
    igq_safetensors *st = NULL;
    const igq_st_tensor *t;
    (void)state;
    for (i = 0; i < 6; i++) put_f32(data + 4 * i, vals[i]);
    buf = build("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}}", data, 24,
                &n);
    dir  = tu_make_tmpdir();
    path = tu_write_file(dir, "model.safetensors", buf, n);
    assert_int_equal(igq__st_open(path, &st), IGQ_OK);
    assert_non_null(st);
    assert_string_equal(st->path, path);
    assert_int_equal(st->size, n);
    assert_int_equal(st->count, 1);
    assert_null(st->metadata);
    t = igq__st_find(st, "w");
    assert_non_null(t);
    assert_string_equal(t->name, "w");
    assert_int_equal(t->dtype, IGQ_ST_F32);
    assert_int_equal(t->ndim, 2);
    assert_int_equal(t->shape[0], 2);
    assert_int_equal(t->shape[1], 3);
    assert_int_equal(t->numel, 6);
    assert_int_equal(t->begin, 0);
    assert_int_equal(t->end, 24);
    assert_null(igq__st_find(st, "x"));
    assert_null(igq__st_find(st, ""));
    assert_null(igq__st_metadata(st, "format"));
    assert_int_equal(igq__st_read_f32(st, t, out, 6), IGQ_OK);
    for (i = 0; i < 6; i++) assert_true(same_bits(out[i], vals[i]));
    /* wrong count: no read */
    assert_int_equal(igq__st_read_f32(st, t, out, 5), IGQ_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(igq_last_error(), "'w'"));
    assert_int_equal(igq__st_read_f32(st, t, out, 7), IGQ_ERR_INVALID_ARGUMENT);
    igq__st_close(st);
    igq__st_close(NULL);
    free(path);
    tu_rmdir_r(dir);
    free(dir);
    free(buf);
}

static void test_f16_bf16_file(void **state)
{
    static const uint16_t h16[5] = {0x3C00, 0xC000, 0x0001, 0x7C00, 0x3555};
    static const uint16_t b16[3] = {0x3F80, 0xC049, 0x0001};
    unsigned char         data[16];
    float                 out[5];
    size_t                i;
    igq_safetensors      *st;
    (void)state;
    for (i = 0; i < 5; i++) put_u16(data + 2 * i, h16[i]);
    for (i = 0; i < 3; i++) put_u16(data + 10 + 2 * i, b16[i]);
    st = parse_good("{\"h\":{\"dtype\":\"F16\",\"shape\":[5],\"data_offsets\":[0,10]},"
                    "\"b\":{\"dtype\":\"BF16\",\"shape\":[3,1],\"data_offsets\":[10,16]}}",
                    data, 16);
    assert_int_equal(igq__st_read_f32(st, igq__st_find(st, "h"), out, 5), IGQ_OK);
    assert_true(out[0] == 1.0f && out[1] == -2.0f && out[2] == ldexpf(1.0f, -24));
    assert_true(out[3] == INFINITY && out[4] == 0.333251953125f);
    assert_int_equal(igq__st_read_f32(st, igq__st_find(st, "b"), out, 3), IGQ_OK);
    assert_true(out[0] == 1.0f && out[1] == -3.140625f && out[2] == ldexpf(1.0f, -133));
    assert_int_equal(igq__st_find(st, "b")->dtype, IGQ_ST_BF16);
    igq__st_close(st);
}

static void test_scalar_and_empty(void **state)
{
    unsigned char        data[8];
    float                out[2] = {7, 7};
    igq_safetensors     *st;
    const igq_st_tensor *t;
    (void)state;
    put_f32(data, 42.5f);
    put_f32(data + 4, -1.0f);
    st = parse_good("{\"e0\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]},"
                    "\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]},"
                    "\"e1\":{\"dtype\":\"F16\",\"shape\":[3,0,2],\"data_offsets\":[4,4]},"
                    "\"v\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]},"
                    "\"e2\":{\"dtype\":\"I64\",\"shape\":[0,4611686018427387904,1],"
                    "\"data_offsets\":[8,8]}}",
                    data, 8);
    assert_int_equal(st->count, 5);
    t = igq__st_find(st, "s");
    assert_non_null(t);
    assert_int_equal(t->ndim, 0);
    assert_int_equal(t->numel, 1);
    assert_int_equal(igq__st_read_f32(st, t, out, 1), IGQ_OK);
    assert_true(out[0] == 42.5f);
    t = igq__st_find(st, "e1");
    assert_non_null(t);
    assert_int_equal(t->ndim, 3);
    assert_int_equal(t->numel, 0);
    assert_int_equal(t->begin, t->end);
    assert_int_equal(igq__st_read_f32(st, t, out, 0), IGQ_OK);
    assert_int_equal(igq__st_read_f32(st, t, NULL, 0), IGQ_OK);
    assert_int_equal(igq__st_find(st, "e2")->numel, 0);
    assert_int_equal(igq__st_find(st, "e0")->numel, 0);
    assert_int_equal(igq__st_read_f32(st, igq__st_find(st, "v"), out, 1), IGQ_OK);
    assert_true(out[0] == -1.0f);
    /* sorted by begin (ties by end, then name) */
    assert_string_equal(st->tensors[0].name, "e0");
    assert_string_equal(st->tensors[1].name, "s");
    assert_string_equal(st->tensors[2].name, "e1");
    assert_string_equal(st->tensors[3].name, "v");
    assert_string_equal(st->tensors[4].name, "e2");
    igq__st_close(st);

    /* no tensors at all */
    st = parse_good("{}", NULL, 0);
    assert_int_equal(st->count, 0);
    assert_null(igq__st_find(st, "a"));
    igq__st_close(st);
    st = parse_good("{\"__metadata__\":{}}", NULL, 0);
    assert_int_equal(st->count, 0);
    assert_non_null(st->metadata);
    assert_null(igq__st_metadata(st, "a"));
    igq__st_close(st);
}

static void test_metadata(void **state)
{
    unsigned char    data[4] = {0, 0, 0x80, 0x3F};
    igq_safetensors *st;
    (void)state;
    st = parse_good("{\"__metadata__\":{\"format\":\"pt\",\"num_heads\":\"3\",\"mean\":"
                    "\"[0.485, 0.456, 0.406]\",\"\\u00e9\":\"\\u20ac\"},"
                    "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
                    data, 4);
    assert_int_equal(st->count, 1);
    assert_string_equal(igq__st_metadata(st, "format"), "pt");
    assert_string_equal(igq__st_metadata(st, "num_heads"), "3");
    assert_string_equal(igq__st_metadata(st, "mean"), "[0.485, 0.456, 0.406]");
    assert_string_equal(igq__st_metadata(st, "\xC3\xA9"), "\xE2\x82\xAC");
    assert_null(igq__st_metadata(st, "missing"));
    assert_null(igq__st_metadata(NULL, "format"));
    assert_null(igq__st_find(st, "__metadata__"));
    igq__st_close(st);
}

static void test_padded_header(void **state)
{
    unsigned char    data[4];
    igq_safetensors *st;
    float            f;
    const char      *h = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}"
                         "          ";
    (void)state;
    put_f32(data, 0.5f);
    st = parse_good(h, data, 4);
    assert_int_equal(st->data_start, 8 + strlen(h));
    assert_int_equal(igq__st_read_f32(st, &st->tensors[0], &f, 1), IGQ_OK);
    assert_true(f == 0.5f);
    igq__st_close(st);
    /* leading and mixed JSON whitespace too */
    st = parse_good("\n {\"a\" :\t{\"dtype\": \"F32\", \"shape\": [ 1 ], \"data_offsets\": [0, 4]}}"
                    " \r\n  ",
                    data, 4);
    igq__st_close(st);
}

static void test_unaligned(void **state)
{
    /* data starts at an odd file offset and the F32/F16 tensors start at odd offsets */
    unsigned char        data[3 + 12 + 6 + 1];
    float                out[3];
    igq_safetensors     *st;
    const char          *h = "{\"u\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[0,3]},"
                             "\"f\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[3,15]},"
                             "\"g\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[15,21]},"
                             "\"b\":{\"dtype\":\"BOOL\",\"shape\":[1],\"data_offsets\":[21,22]}} ";
    (void)state;
    assert_true(strlen(h) % 2 == 1);
    memset(data, 0xAB, sizeof data);
    put_f32(data + 3, 1.5f);
    put_f32(data + 7, -7.25f);
    put_f32(data + 11, 1e30f);
    put_u16(data + 15, 0x3C00);
    put_u16(data + 17, 0x0200);
    put_u16(data + 19, 0xFBFF);
    st = parse_good(h, data, sizeof data);
    assert_int_equal(igq__st_read_f32(st, igq__st_find(st, "f"), out, 3), IGQ_OK);
    assert_true(out[0] == 1.5f && out[1] == -7.25f && out[2] == 1e30f);
    assert_int_equal(igq__st_read_f32(st, igq__st_find(st, "g"), out, 3), IGQ_OK);
    assert_true(out[0] == 1.0f && out[1] == ldexpf(1.0f, -15) && out[2] == -65504.0f);
    assert_int_equal(igq__st_read_f32(st, igq__st_find(st, "u"), out, 3), IGQ_ERR_UNSUPPORTED);
    igq__st_close(st);
}

static void test_all_dtypes(void **state)
{
    static const struct {
        const char *name;
        int         bits;
        const char *shape;
        int         bytes;
    } k[] = {
        {"BOOL", 8, "[3]", 3},        {"U8", 8, "[3]", 3},          {"I8", 8, "[3]", 3},
        {"I16", 16, "[3]", 6},        {"U16", 16, "[3]", 6},        {"F16", 16, "[3]", 6},
        {"BF16", 16, "[3]", 6},       {"I32", 32, "[3]", 12},       {"U32", 32, "[3]", 12},
        {"F32", 32, "[3]", 12},       {"I64", 64, "[3]", 24},       {"U64", 64, "[3]", 24},
        {"F64", 64, "[3]", 24},       {"C64", 64, "[3]", 24},       {"F8_E4M3", 8, "[3]", 3},
        {"F8_E5M2", 8, "[3]", 3},     {"F8_E4M3FNUZ", 8, "[3]", 3}, {"F8_E5M2FNUZ", 8, "[3]", 3},
        {"F8_E8M0", 8, "[3]", 3},     {"F4", 4, "[2,3]", 3},        {"F6_E2M3", 6, "[4]", 3},
        {"F6_E3M2", 6, "[2,2,1]", 3},
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof k / sizeof k[0]; i++) {
        char             h[256];
        unsigned char    data[24] = {0};
        igq_safetensors *st;
        const igq_st_tensor *t;
        snprintf(h, sizeof h, "{\"t\":{\"dtype\":\"%s\",\"shape\":%s,\"data_offsets\":[0,%d]}}",
                 k[i].name, k[i].shape, k[i].bytes);
        st = parse_good(h, data, (size_t)k[i].bytes);
        t  = igq__st_find(st, "t");
        assert_non_null(t);
        assert_string_equal(igq__st_dtype_name(t->dtype), k[i].name);
        assert_int_equal(igq__st_dtype_bits(t->dtype), k[i].bits);
        igq__st_close(st);
    }
    assert_string_equal(igq__st_dtype_name((igq_st_dtype)999), "?");
    assert_int_equal(igq__st_dtype_bits((igq_st_dtype)999), 0);
}

/* 300 tensors listed in a scrambled order: sorted by begin, all findable by name. */
static void test_many_tensors(void **state)
{
    enum { NT = 300 };
    size_t           cap = 64 * 1024, n = 0, i;
    char            *h   = (char *)malloc(cap);
    float           *data = (float *)calloc(NT * 2, sizeof(float));
    unsigned char   *bytes = (unsigned char *)malloc(NT * 8);
    igq_safetensors *st;
    (void)state;
    assert_non_null(h);
    assert_non_null(data);
    assert_non_null(bytes);
    for (i = 0; i < NT * 2; i++) put_f32(bytes + 4 * i, (float)i);
    n += (size_t)snprintf(h + n, cap - n, "{");
    for (i = 0; i < NT; i++) {
        size_t k = (i * 7919) % NT; /* a permutation of 0..NT-1 */
        n += (size_t)snprintf(h + n, cap - n,
                              "%s\"blocks.%zu.w\":{\"dtype\":\"F32\",\"shape\":[2],"
                              "\"data_offsets\":[%zu,%zu]}",
                              i ? "," : "", k, 8 * k, 8 * k + 8);
    }
    n += (size_t)snprintf(h + n, cap - n, "}");
    assert_true(n < cap);
    st = parse_good(h, bytes, NT * 8);
    assert_int_equal(st->count, NT);
    for (i = 0; i < NT; i++) {
        char                 name[32];
        float                v[2];
        const igq_st_tensor *t;
        assert_int_equal(st->tensors[i].begin, 8 * i);
        snprintf(name, sizeof name, "blocks.%zu.w", i);
        t = igq__st_find(st, name);
        assert_non_null(t);
        assert_string_equal(t->name, name);
        assert_int_equal(igq__st_read_f32(st, t, v, 2), IGQ_OK);
        assert_true(v[0] == (float)(2 * i) && v[1] == (float)(2 * i + 1));
    }
    assert_null(igq__st_find(st, "blocks.300.w"));
    assert_null(igq__st_find(st, "blocks.0.w "));
    igq__st_close(st);
    free(h);
    free(data);
    free(bytes);
}

/* ---- malformed files ---------------------------------------------------------------------- */

static void test_io_errors(void **state)
{
    igq_safetensors *st = (igq_safetensors *)&st;
    char            *dir = tu_make_tmpdir(), *path, *missing;
    size_t           len;
    (void)state;
    len     = strlen(dir) + 32;
    missing = (char *)malloc(len);
    assert_non_null(missing);
    snprintf(missing, len, "%s/nope.safetensors", dir);
    assert_int_equal(igq__st_open(missing, &st), IGQ_ERR_IO);
    assert_null(st);
    assert_non_null(strstr(igq_last_error(), missing));
    assert_non_null(strstr(igq_last_error(), "cannot open"));

    /* a directory is not a file */
    st = (igq_safetensors *)&st;
    assert_int_equal(igq__st_open(dir, &st), IGQ_ERR_IO);
    assert_null(st);
    assert_non_null(strstr(igq_last_error(), dir));

    /* empty file */
    path = tu_write_file(dir, "empty.safetensors", "", 0);
    st   = (igq_safetensors *)&st;
    assert_int_equal(igq__st_open(path, &st), IGQ_ERR_FORMAT);
    assert_null(st);
    assert_true(strncmp(igq_last_error(), path, strlen(path)) == 0);
    assert_non_null(strstr(igq_last_error(), "too short"));
    free(path);

    /* 5 bytes */
    path = tu_write_file(dir, "short.safetensors", "\x02\0\0\0\0", 5);
    assert_int_equal(igq__st_open(path, &st), IGQ_ERR_FORMAT);
    assert_true(strncmp(igq_last_error(), path, strlen(path)) == 0);
    free(path);

    assert_int_equal(igq__st_open(NULL, &st), IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq__st_open("x", NULL), IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq__st_parse(NULL, 8, "x", &st), IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq__st_parse("", 0, NULL, &st), IGQ_ERR_FORMAT);
    assert_non_null(strstr(igq_last_error(), "<memory>"));
    free(missing);
    tu_rmdir_r(dir);
    free(dir);
}

static const char k_good_header[] =
    "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
    "\"b\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[8,20]}}";

static void test_truncated(void **state)
{
    unsigned char  data[20] = {0};
    unsigned char *buf;
    size_t         n, i;
    (void)state;
    buf = build(k_good_header, data, 20, &n);
    expect_buf(buf, 0, IGQ_ERR_FORMAT, "too short", NULL, NULL);
    for (i = 1; i < 8; i++) expect_buf(buf, i, IGQ_ERR_FORMAT, "too short", NULL, NULL);
    /* header cut short */
    expect_buf(buf, 8 + strlen(k_good_header) - 1, IGQ_ERR_FORMAT, "header length",
               "past the end of the file", NULL);
    /* data cut short */
    expect_buf(buf, n - 4, IGQ_ERR_FORMAT, "'b'", "past the end", NULL);
    expect_buf(buf, n - 12, IGQ_ERR_FORMAT, "'b'", "past the end", NULL);
    expect_buf(buf, n - 20, IGQ_ERR_FORMAT, "'a'", "past the end", NULL);
    /* every truncation fails cleanly */
    for (i = 0; i < n; i++) {
        igq_safetensors *st;
        assert_int_equal(parse_mem(buf, i, BAD, &st), IGQ_ERR_FORMAT);
        check_msg(NULL, NULL, NULL);
    }
    free(buf);
}

static void test_header_length(void **state)
{
    unsigned char  data[20] = {0};
    unsigned char *buf;
    size_t         n;
    (void)state;
    buf = build_raw(1000, k_good_header, data, 20, &n);
    expect_buf(buf, n, IGQ_ERR_FORMAT, "header length 1000", "past the end", NULL);
    free(buf);
    buf = build_raw((uint64_t)1 << 63, k_good_header, data, 20, &n);
    expect_buf(buf, n, IGQ_ERR_FORMAT, "9223372036854775808", "limit", NULL);
    free(buf);
    buf = build_raw(UINT64_MAX, k_good_header, data, 20, &n);
    expect_buf(buf, n, IGQ_ERR_FORMAT, "18446744073709551615", "limit", NULL);
    free(buf);
    buf = build_raw((uint64_t)IGQ_ST_MAX_HEADER + 1, k_good_header, data, 20, &n);
    expect_buf(buf, n, IGQ_ERR_FORMAT, "limit", NULL, NULL);
    free(buf);
    /* header length 0: empty JSON */
    buf = build_raw(0, "", NULL, 0, &n);
    expect_buf(buf, n, IGQ_ERR_FORMAT, "JSON", NULL, NULL);
    free(buf);
    /* header length too small: JSON cut, rest looks like data */
    buf = build_raw(strlen(k_good_header) - 3, k_good_header, data, 20, &n);
    expect_buf(buf, n, IGQ_ERR_FORMAT, "JSON", NULL, NULL);
    free(buf);
}

static void test_bad_json(void **state)
{
    (void)state;
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}", 4, "JSON",
               "at byte", NULL);
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1,],\"data_offsets\":[0,4]}}", 4, "JSON",
               NULL, NULL);
    expect_bad("not json at all", 0, "JSON", NULL, NULL);
    expect_bad("{\"a\":1} garbage", 0, "JSON", "after the value", NULL);
    expect_bad("[]", 0, "not a JSON object", NULL, NULL);
    expect_bad("[{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}]", 4,
               "not a JSON object", NULL, NULL);
    expect_bad("\"x\"", 0, "not a JSON object", NULL, NULL);
    expect_bad("null", 0, "not a JSON object", NULL, NULL);
}

static void test_bad_entries(void **state)
{
    (void)state;
    /* dtype */
    expect_bad("{\"t.w\":{\"dtype\":\"F128\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
               "'t.w'", "unknown dtype 'F128'", NULL);
    expect_bad("{\"t.w\":{\"dtype\":\"f32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "'t.w'",
               "unknown dtype", NULL);
    expect_bad("{\"t.w\":{\"dtype\":\"F32\\u0000\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
               "'t.w'", "unknown dtype", NULL);
    expect_bad("{\"t.w\":{\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "'t.w'",
               "dtype is not a string", NULL);
    /* shape */
    expect_bad("{\"t.w\":{\"dtype\":\"F32\",\"shape\":[-1,2],\"data_offsets\":[0,4]}}", 4,
               "'t.w'", "shape entry 0", "non-negative integer");
    expect_bad("{\"t.w\":{\"dtype\":\"F32\",\"shape\":[2,1.5],\"data_offsets\":[0,4]}}", 4,
               "'t.w'", "shape entry 1", NULL);
    expect_bad("{\"t.w\":{\"dtype\":\"F32\",\"shape\":[1e0],\"data_offsets\":[0,4]}}", 4,
               "'t.w'", "shape entry 0", NULL);
    expect_bad("{\"t.w\":{\"dtype\":\"F32\",\"shape\":[\"1\"],\"data_offsets\":[0,4]}}", 4,
               "'t.w'", "shape entry 0", NULL);
    expect_bad("{\"t.w\":{\"dtype\":\"F32\",\"shape\":[null],\"data_offsets\":[0,4]}}", 4,
               "'t.w'", "shape entry 0", NULL);
    expect_bad("{\"t.w\":{\"dtype\":\"F32\",\"shape\":[18446744073709551616],"
               "\"data_offsets\":[0,4]}}",
               4, "'t.w'", "shape entry 0", NULL);
    expect_bad("{\"t.w\":{\"dtype\":\"F32\",\"shape\":4,\"data_offsets\":[0,4]}}", 4, "'t.w'",
               "shape is not an array", NULL);
    expect_bad("{\"t.w\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],"
               "\"data_offsets\":[0,4]}}",
               4, "'t.w'", "9 dimensions", NULL);
    expect_bad("{\"t.w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],"
               "\"data_offsets\":[0,4]}}",
               4, "'t.w'", "overflows", NULL);
    expect_bad("{\"t.w\":{\"dtype\":\"F64\",\"shape\":[4611686018427387904],"
               "\"data_offsets\":[0,4]}}",
               4, "'t.w'", "overflows", NULL);
    expect_bad("{\"t.w\":{\"dtype\":\"F4\",\"shape\":[3],\"data_offsets\":[0,2]}}", 2, "'t.w'",
               "whole number of bytes", NULL);
    expect_bad("{\"t.w\":{\"dtype\":\"F6_E2M3\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2,
               "'t.w'", "whole number of bytes", NULL);
    /* keys */
    expect_bad("{\"t.w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}", 4,
               "'t.w'", "unexpected key 'x'", NULL);
    expect_bad("{\"t.w\":{\"dtype\":\"F32\",\"shape\":[1],\"offsets\":[0,4]}}", 4, "'t.w'",
               "unexpected key 'offsets'", NULL);
    expect_bad("{\"t.w\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, "'t.w'", "missing 'data_offsets'",
               NULL);
    expect_bad("{\"t.w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "'t.w'", "missing 'dtype'",
               NULL);
    expect_bad("{\"t.w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4, "'t.w'",
               "missing 'shape'", NULL);
    expect_bad("{\"t.w\":{}}", 0, "'t.w'", "missing", NULL);
    expect_bad("{\"t.w\":[1,2]}", 0, "'t.w'", "not a JSON object", NULL);
    expect_bad("{\"t.w\":\"F32\"}", 0, "'t.w'", "not a JSON object", NULL);
    /* data_offsets shape */
    expect_bad("{\"t.w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 8, "'t.w'",
               "data_offsets", NULL);
    expect_bad("{\"t.w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4]}}", 4, "'t.w'",
               "data_offsets", NULL);
    expect_bad("{\"t.w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":{\"a\":0}}}", 4,
               "'t.w'", "data_offsets", NULL);
    expect_bad("{\"t.w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", 4, "'t.w'",
               "non-negative integers", NULL);
    expect_bad("{\"t.w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4.0]}}", 4, "'t.w'",
               "non-negative integers", NULL);
    expect_bad("{\"t.w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,0]}}", 4, "'t.w'",
               "end before", NULL);
}

static void test_size_mismatch(void **state)
{
    unsigned char  data[100] = {0};
    unsigned char *buf;
    size_t         n;
    igq_safetensors *st;
    (void)state;
    buf = build("{\"blocks.0.attn.qkv.weight\":{\"dtype\":\"F32\",\"shape\":[3, 4],"
                "\"data_offsets\":[0, 100]}}",
                data, 100, &n);
    assert_int_equal(parse_mem(buf, n, "model.safetensors", &st), IGQ_ERR_FORMAT);
    assert_string_equal(igq_last_error(),
                        "model.safetensors: tensor 'blocks.0.attn.qkv.weight': data_offsets "
                        "[0, 100] hold 100 bytes, shape [3, 4] of F32 needs 48");
    free(buf);
    expect_bad("{\"t\":{\"dtype\":\"F16\",\"shape\":[],\"data_offsets\":[0,4]}}", 4, "'t'",
               "shape [] of F16 needs 2", NULL);
    expect_bad("{\"t\":{\"dtype\":\"BF16\",\"shape\":[0],\"data_offsets\":[0,2]}}", 2, "'t'",
               "needs 0", NULL);
}

static void test_layout_errors(void **state)
{
    (void)state;
    /* overlap */
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
               "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
               12, "'a'", "'b'", "overlap");
    /* same range twice */
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
               "\"b\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
               8, "'a'", "'b'", "overlap");
    /* listed out of order, with a gap of 4 bytes */
    expect_bad("{\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]},"
               "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
               20, "'a'", "'b'", "gap of 4 bytes");
    /* first tensor does not start at 0 */
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "'a'",
               "gap of 4 bytes at the start", NULL);
    /* past the end of the file */
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
               "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}",
               12, "'b'", "past the end", "[8, 16]");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 0, "'a'",
               "past the end", NULL);
    expect_bad("{\"a\":{\"dtype\":\"U8\",\"shape\":[9223372036854775807],"
               "\"data_offsets\":[0,9223372036854775807]}}",
               0, "'a'", "past the end", NULL);
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1000000],"
               "\"data_offsets\":[0,4000000]}}",
               8, "'a'", "past the end", "holds 8 bytes");
    /* trailing bytes after the last tensor */
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
               "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}",
               17, "'b'", "1 trailing bytes", NULL);
    expect_bad("{}", 3, "3 trailing bytes", NULL, NULL);
    expect_bad("{\"__metadata__\":{\"a\":\"b\"}}", 1, "1 trailing bytes", NULL, NULL);
}

static void test_duplicates_and_metadata(void **state)
{
    (void)state;
    expect_bad("{\"blocks.0.w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
               "\"blocks.0.w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
               8, "duplicate", "'blocks.0.w'", NULL);
    expect_bad("{\"__metadata__\":{\"format\":\"pt\",\"num_heads\":3},"
               "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
               4, "__metadata__", "'num_heads'", "not a string");
    expect_bad("{\"__metadata__\":{\"m\":[\"a\"]}}", 0, "'m'", "not a string", NULL);
    expect_bad("{\"__metadata__\":{\"m\":null}}", 0, "'m'", "not a string", NULL);
    expect_bad("{\"__metadata__\":[\"a\"]}", 0, "__metadata__", "not a JSON object", NULL);
    expect_bad("{\"__metadata__\":\"x\"}", 0, "__metadata__", "not a JSON object", NULL);
    expect_bad("{\"__metadata__\":{},\"__metadata__\":{}}", 0, "duplicate", NULL, NULL);
    /* the header is never a JSON tree: duplicates are found by the reader, with the same words */
    expect_bad("{\"__metadata__\":{\"a\":\"1\",\"b\":\"2\",\"a\":\"3\"}}", 0,
               "JSON: duplicate key 'a' in the object starting at byte 16", NULL, NULL);
    expect_bad("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"dtype\":\"F32\","
               "\"data_offsets\":[0,4]}}",
               4, "JSON: duplicate key 'dtype' in the object starting at byte 5", NULL, NULL);
    expect_bad(" {\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
               "\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]},"
               "\"b\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]}}",
               4, "JSON: duplicate key 'b' in the object starting at byte 1", NULL, NULL);
    /* a key holding U+0000 is refused by the syntax check */
    expect_bad("{\"__metadata__\":{\"a\\u0000\":\"1\"}}", 0, "NUL character in object key",
               NULL, NULL);
    expect_bad("{\"t\\u0000\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}", 0,
               "NUL character in object key", NULL, NULL);
}

/* ---- hostile headers: memory bounded by the header's size ---------------------------------- */

/* About 2 MB of header each: fast even under sanitizers, yet far above any constant. */
#define HOSTILE 2000000u

/* Header text assembled by the tests (room for HOSTILE plus one entry). */
typedef struct text {
    char  *p;
    size_t n, cap;
} text;

static void text_init(text *t)
{
    t->cap = HOSTILE + 4096;
    t->n   = 0;
    t->p   = (char *)malloc(t->cap);
    assert_non_null(t->p);
}

static void text_put(text *t, const char *s)
{
    size_t k = strlen(s);
    assert_true(t->n + k < t->cap);
    memcpy(t->p + t->n, s, k + 1);
    t->n += k;
}

/* A short distinct name for index i: printable bytes other than '"' and '\\'. */
static const char *short_name(size_t i, char *buf)
{
    size_t k = 0;
    do {
        char c = (char)('#' + i % 57); /* '#'..'[': no quote, no backslash */
        buf[k++] = c;
        i /= 57;
    } while (i > 0);
    buf[k] = '\0';
    return buf;
}

/* Parses header + ndata zero bytes, named BAD, counting what the library allocates: *extra
 * gets the peak beyond the copy of the file igq__st_parse keeps (the file's usable size). */
static igq_status parse_counted(const text *h, size_t ndata, size_t *extra, igq_safetensors **out)
{
    size_t         n   = 8 + h->n + ndata, peak;
    unsigned char *buf = (unsigned char *)calloc(1, n);
    igq_status     s;
    assert_non_null(buf);
    put_u64le(buf, h->n);
    memcpy(buf + 8, h->p, h->n);
    *out = NULL;
    igq__alloc_track(1);
    s    = igq__st_parse(buf, n, BAD, out);
    peak = igq__alloc_peak_bytes();
    igq__alloc_track(0);
    free(buf);
    assert_true(peak >= n);
    *extra = peak - n;
    return s;
}

/* Requires IGQ_ERR_FORMAT with the fragments, and at most max_extra bytes beyond the file. */
static void expect_hostile(const text *h, size_t ndata, size_t max_extra, const char *n1,
                           const char *n2)
{
    igq_safetensors *st;
    size_t           extra;
    igq_status       s = parse_counted(h, ndata, &extra, &st);
    if (s != IGQ_ERR_FORMAT)
        fail_msg("expected IGQ_ERR_FORMAT, got %d: %s", (int)s, igq_last_error());
    assert_null(st);
    check_msg(n1, n2, NULL);
    if (extra > max_extra)
        fail_msg("'%s': %zu bytes allocated beyond the file for a %zu-byte header, at most %zu",
                 igq_last_error(), extra, h->n, max_extra);
}

/* The documented bound: less than 3 times the header, plus a constant. */
static size_t bound(const text *h) { return 3 * h->n + 4096; }

/* The three headers of issue 15 (a long array of zeros, a shape of a million entries, very many
 * empty tensors) and their relatives cost a bounded multiple of their size (the JSON tree they
 * used to become took about 50 times), and the refusals that need no tables allocate nothing
 * but the file's copy. */
static void test_hostile_headers(void **state)
{
    text             h;
    char             name[16], entry[160], want[64];
    size_t           i, count, extra;
    igq_safetensors *st;
    (void)state;
    text_init(&h);

    /* [0,0,...]: not an object, refused after the syntax check */
    text_put(&h, "[0");
    while (h.n < HOSTILE) text_put(&h, ",0");
    text_put(&h, "]");
    expect_hostile(&h, 0, 4096, "header is not a JSON object", NULL);

    /* a shape (or data_offsets) of a million entries: counted, never stored */
    h.n = 0;
    text_put(&h, "{\"t\":{\"dtype\":\"F32\",\"data_offsets\":[0,0],\"shape\":[0");
    for (count = 1; h.n < HOSTILE; count++) text_put(&h, ",0");
    text_put(&h, "]}}");
    snprintf(want, sizeof want, "shape has %zu dimensions", count);
    expect_hostile(&h, 0, 4096, "'t'", want);
    h.n = 0;
    text_put(&h, "{\"t\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0");
    while (h.n < HOSTILE) text_put(&h, ",0");
    text_put(&h, "]}}");
    expect_hostile(&h, 0, 4096, "'t'", "data_offsets is not an array");

    /* nesting past the JSON limit, and an object of non-entries */
    h.n = 0;
    text_put(&h, "{\"a\":");
    for (i = 0; i < 1000; i++) text_put(&h, "[");
    expect_hostile(&h, 0, 4096, "JSON", "nesting");
    h.n = 0;
    text_put(&h, "{\"a\":0");
    for (i = 0; h.n < HOSTILE; i++) {
        snprintf(entry, sizeof entry, ",\"%s\":0", short_name(i, name));
        text_put(&h, entry);
    }
    text_put(&h, "}");
    expect_hostile(&h, 0, 4096, "'a'", "not a JSON object");

    /* very many empty tensors with the shortest names: a valid file, then one refused at the
     * end (both with the tables allocated: the worst case) */
    h.n = 0;
    text_put(&h, "{");
    for (count = 0; h.n < HOSTILE; count++) {
        snprintf(entry, sizeof entry, "%s\"%s\":{\"dtype\":\"U8\",\"shape\":[0],"
                 "\"data_offsets\":[0,0]}", count ? "," : "", short_name(count, name));
        text_put(&h, entry);
    }
    text_put(&h, "}");
    assert_int_equal(parse_counted(&h, 0, &extra, &st), IGQ_OK);
    print_message("  %zu empty tensors: %zu bytes beyond the file for a %zu-byte header (%.2fx)\n",
                  count, extra, h.n, (double)extra / (double)h.n);
    assert_true(extra <= bound(&h));
    assert_int_equal(st->count, count);
    assert_non_null(igq__st_find(st, short_name(count - 1, name)));
    assert_non_null(igq__st_find(st, short_name(count / 2, name)));
    assert_null(igq__st_find(st, "nope"));
    igq__st_close(st);
    expect_hostile(&h, 1, bound(&h), "1 trailing bytes", NULL);

    /* tensors holding data cannot outnumber the data buffer's bytes: refused before the tables */
    h.n = 0;
    text_put(&h, "{");
    for (count = 0; h.n < HOSTILE; count++) {
        snprintf(entry, sizeof entry, "%s\"%s\":{\"dtype\":\"U8\",\"shape\":[1],"
                 "\"data_offsets\":[0,1]}", count ? "," : "", short_name(count, name));
        text_put(&h, entry);
    }
    text_put(&h, "}");
    snprintf(want, sizeof want, "%zu tensors hold data", count);
    expect_hostile(&h, 1, 4096, want, "has only 1 bytes");
    expect_hostile(&h, count - 1, 4096, want, "has only");
    expect_hostile(&h, count, bound(&h), "overlap", NULL); /* enough bytes: laid out wrong */

    /* __metadata__ of very many short strings */
    h.n = 0;
    text_put(&h, "{\"__metadata__\":{");
    for (count = 0; h.n < HOSTILE; count++) {
        snprintf(entry, sizeof entry, "%s\"%s\":\"\"", count ? "," : "", short_name(count, name));
        text_put(&h, entry);
    }
    text_put(&h, "}}");
    assert_int_equal(parse_counted(&h, 0, &extra, &st), IGQ_OK);
    print_message("  %zu metadata entries: %zu bytes beyond the file for a %zu-byte header "
                  "(%.2fx)\n", count, extra, h.n, (double)extra / (double)h.n);
    assert_true(extra <= bound(&h));
    assert_int_equal(st->meta_count, count);
    assert_string_equal(igq__st_metadata(st, short_name(count / 3, name)), "");
    assert_null(igq__st_metadata(st, "nope"));
    igq__st_close(st);
    expect_hostile(&h, 1, bound(&h), "1 trailing bytes", NULL);
    free(h.p);
}

static void test_unsupported_read(void **state)
{
    unsigned char        data[16] = {1};
    float                out[2];
    igq_safetensors     *st;
    const igq_st_tensor *t;
    igq_st_tensor        fake;
    (void)state;
    st = parse_good("{\"ids\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]}}", data,
                    16);
    t = igq__st_find(st, "ids");
    assert_non_null(t);
    assert_int_equal(igq__st_read_f32(st, t, out, 2), IGQ_ERR_UNSUPPORTED);
    assert_string_equal(igq_last_error(),
                        "good.safetensors: tensor 'ids': dtype I64 cannot be read as f32");
    /* a forged entry that points outside the buffer is refused, not read */
    fake       = *t;
    fake.dtype = IGQ_ST_F32;
    fake.begin = 8;
    fake.end   = 24;
    fake.numel = 4;
    assert_int_equal(igq__st_read_f32(st, &fake, out, 4), IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq__st_read_f32(st, NULL, out, 2), IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq__st_read_f32(NULL, t, out, 2), IGQ_ERR_INVALID_ARGUMENT);
    igq__st_close(st);
}

/* ---- robustness --------------------------------------------------------------------------- */

static unsigned char *fuzz_seed_file(size_t *n)
{
    static unsigned char data[12 + 6 + 4 + 16 + 3];
    size_t               i;
    for (i = 0; i < sizeof data; i++) data[i] = (unsigned char)(i * 37 + 11);
    return build("{\"__metadata__\":{\"format\":\"pt\",\"num_heads\":\"3\"},"
                 "\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]},"
                 "\"h\":{\"dtype\":\"F16\",\"shape\":[1,3],\"data_offsets\":[12,18]},"
                 "\"z\":{\"dtype\":\"F32\",\"shape\":[0,2],\"data_offsets\":[18,18]},"
                 "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[18,22]},"
                 "\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[22,26]},"
                 "\"i\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[26,34]},"
                 "\"c\":{\"dtype\":\"F4\",\"shape\":[2,3],\"data_offsets\":[34,37]},"
                 "\"d\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[37,41]}}  ",
                 data, sizeof data, n);
}

/* Random finite f32 bit patterns (no NaN: the comparison is by bits, and a copy through a
 * float register need not keep a signalling NaN's payload on every target). */
static void put_random_f32(unsigned char *p, size_t n, tu_rng *r)
{
    size_t i;
    for (i = 0; i < n; i++) {
        uint32_t u = (uint32_t)tu_rng_next(r);
        if (((u >> 23) & 0xFF) == 0xFF) u &= ~(1u << 30);
        p[4 * i]     = (unsigned char)u;
        p[4 * i + 1] = (unsigned char)(u >> 8);
        p[4 * i + 2] = (unsigned char)(u >> 16);
        p[4 * i + 3] = (unsigned char)(u >> 24);
    }
}

/* read_f32_transposed of t viewed as [rows][cols] with stride ld equals the transpose of
 * read_f32, bit for bit, and leaves the ld - rows padding rows of dst alone. */
static void check_transposed(const igq_safetensors *st, const igq_st_tensor *t, int64_t rows,
                             int64_t cols, int64_t ld)
{
    float   *ref = (float *)malloc((size_t)t->numel * sizeof(float) + 1);
    float   *dst = (float *)malloc((size_t)(cols * ld) * sizeof(float) + 1);
    int64_t  r, c;
    const float sentinel = -1234.5f;
    assert_non_null(ref);
    assert_non_null(dst);
    for (r = 0; r < cols * ld; r++) dst[r] = sentinel;
    assert_int_equal(igq__st_read_f32(st, t, ref, t->numel), IGQ_OK);
    assert_int_equal(igq__st_read_f32_transposed(st, t, rows, cols, dst, ld), IGQ_OK);
    for (c = 0; c < cols; c++) {
        for (r = 0; r < rows; r++)
            if (!same_bits(dst[c * ld + r], ref[r * cols + c]))
                fail_msg("'%s' [%lld][%lld] ld %lld: element (%lld, %lld) differs", t->name,
                         (long long)rows, (long long)cols, (long long)ld, (long long)r,
                         (long long)c);
        for (r = rows; r < ld; r++) assert_true(same_bits(dst[c * ld + r], sentinel));
    }
    free(ref);
    free(dst);
}

static void test_read_transposed(void **state)
{
    /* one odd-sized U8 tensor first, so every float tensor starts at an odd offset; shapes are
     * not multiples of the 32 x 32 tile */
    enum { NF = 37 * 45, NH = 33 * 5, NB = 2 * 70 };
    static unsigned char data[3 + 4 * NF + 2 * NH + 2 * NB + 8];
    const char *h = "{\"u\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[0,3]},"
                    "\"f\":{\"dtype\":\"F32\",\"shape\":[37,45],\"data_offsets\":[3,6663]},"
                    "\"h\":{\"dtype\":\"F16\",\"shape\":[33,5],\"data_offsets\":[6663,6993]},"
                    "\"b\":{\"dtype\":\"BF16\",\"shape\":[2,70],\"data_offsets\":[6993,7273]},"
                    "\"z\":{\"dtype\":\"F32\",\"shape\":[0,2],\"data_offsets\":[7273,7273]},"
                    "\"i\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[7273,7281]}}";
    igq_safetensors     *st;
    const igq_st_tensor *f, *t;
    float                out[4];
    tu_rng               rng;
    size_t               i;
    (void)state;
    tu_rng_seed(&rng, 42);
    for (i = 0; i < sizeof data; i++) data[i] = (unsigned char)tu_rng_next(&rng);
    put_random_f32(data + 3, NF, &rng);
    st = parse_good(h, data, sizeof data);
    f  = igq__st_find(st, "f");
    check_transposed(st, f, 37, 45, 37);
    check_transposed(st, f, 37, 45, 40);
    check_transposed(st, f, 45, 37, 45); /* any factorization of numel is a valid view */
    check_transposed(st, f, 1, NF, 1);
    check_transposed(st, f, NF, 1, NF);
    check_transposed(st, igq__st_find(st, "h"), 33, 5, 33);
    check_transposed(st, igq__st_find(st, "h"), 5, 33, 7);
    check_transposed(st, igq__st_find(st, "b"), 2, 70, 2);
    check_transposed(st, igq__st_find(st, "b"), 70, 2, 96);
    /* empty tensor: nothing to write, dst may be NULL */
    t = igq__st_find(st, "z");
    assert_int_equal(igq__st_read_f32_transposed(st, t, 0, 2, NULL, 0), IGQ_OK);

    /* refusals: the same checks and messages as read_f32 */
    assert_int_equal(igq__st_read_f32_transposed(st, f, 37, 44, out, 37),
                     IGQ_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(igq_last_error(), "'f': has 1665 elements, the destination holds "
                                             "1628"));
    assert_int_equal(igq__st_read_f32_transposed(st, f, 37, 45, out, 36),
                     IGQ_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(igq_last_error(), "'f'"));
    assert_int_equal(igq__st_read_f32_transposed(st, f, -1, -1665, out, 0),
                     IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq__st_read_f32_transposed(st, f, INT64_MAX, 2, out, INT64_MAX),
                     IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq__st_read_f32_transposed(st, f, 37, 45, NULL, 37),
                     IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq__st_read_f32_transposed(st, igq__st_find(st, "i"), 1, 1, out, 1),
                     IGQ_ERR_UNSUPPORTED);
    assert_string_equal(igq_last_error(),
                        "good.safetensors: tensor 'i': dtype I64 cannot be read as f32");
    assert_int_equal(igq__st_read_f32_transposed(NULL, f, 37, 45, out, 37),
                     IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq__st_read_f32_transposed(st, NULL, 37, 45, out, 37),
                     IGQ_ERR_INVALID_ARGUMENT);
    igq__st_close(st);
}

/* ---- files: mapped, the same answers as from memory --------------------------------------- */

/* Everything the reader reports about a and b is the same (a from a file, b from memory). */
static void check_same_reader(const igq_safetensors *a, const igq_safetensors *b)
{
    size_t i, k;
    assert_int_equal(a->size, b->size);
    assert_memory_equal(a->buf, b->buf, a->size);
    assert_int_equal(a->data_start, b->data_start);
    assert_int_equal(a->count, b->count);
    assert_true((a->metadata == NULL) == (b->metadata == NULL));
    if (a->metadata != NULL) {
        assert_int_equal(a->meta_count, b->meta_count);
        for (k = 0; k < a->meta_count; k++)
            assert_string_equal(igq__st_metadata(a, a->metadata[k].key),
                                igq__st_metadata(b, a->metadata[k].key));
    }
    for (i = 0; i < a->count; i++) {
        const igq_st_tensor *ta = &a->tensors[i], *tb = igq__st_find(b, ta->name);
        float               *fa, *fb;
        size_t               n = (size_t)ta->numel;
        assert_non_null(tb);
        assert_ptr_equal(igq__st_find(a, ta->name), ta);
        assert_int_equal(ta->dtype, tb->dtype);
        assert_int_equal(ta->ndim, tb->ndim);
        assert_memory_equal(ta->shape, tb->shape, (size_t)ta->ndim * sizeof ta->shape[0]);
        assert_int_equal(ta->numel, tb->numel);
        assert_int_equal(ta->begin, tb->begin);
        assert_int_equal(ta->end, tb->end);
        if (ta->dtype != IGQ_ST_F32 && ta->dtype != IGQ_ST_F16 && ta->dtype != IGQ_ST_BF16)
            continue;
        fa = (float *)malloc(n * sizeof(float) + 1);
        fb = (float *)malloc(n * sizeof(float) + 1);
        assert_non_null(fa);
        assert_non_null(fb);
        assert_int_equal(igq__st_read_f32(a, ta, fa, ta->numel), IGQ_OK);
        assert_int_equal(igq__st_read_f32(b, tb, fb, tb->numel), IGQ_OK);
        assert_memory_equal(fa, fb, n * sizeof(float));
        if (ta->ndim >= 2) {
            const int64_t rows = ta->shape[0], cols = ta->numel / rows;
            assert_int_equal(igq__st_read_f32_transposed(a, ta, rows, cols, fa, rows), IGQ_OK);
            assert_int_equal(igq__st_read_f32_transposed(b, tb, rows, cols, fb, rows), IGQ_OK);
            assert_memory_equal(fa, fb, n * sizeof(float));
        }
        free(fa);
        free(fb);
    }
}

/* Checkpoints opened by path are mapped (not copied) and read exactly as the same bytes
 * parsed from memory: F32 (timm and Hugging Face), F16, BF16; also after their pages were
 * dropped (igq__st_drop). */
static void test_file_matches_memory(void **state)
{
    static const char *const fixtures[] = {"timm_vit", "hf_vit", "timm_vit_f16", "hf_vit_bf16"};
    size_t                   f, i;
    (void)state;
    for (f = 0; f < sizeof fixtures / sizeof fixtures[0]; f++) {
        char             rel[128];
        char            *path;
        unsigned char   *bytes;
        size_t           n;
        igq_safetensors *file = NULL, *mem = NULL;
        snprintf(rel, sizeof rel, "%s/model.safetensors", fixtures[f]);
        path  = tu_fixture_path(rel);
        bytes = tu_read_file(path, &n);
        assert_non_null(bytes);
        assert_int_equal(igq__st_open(path, &file), IGQ_OK);
        assert_int_equal(parse_mem(bytes, n, path, &mem), IGQ_OK);
        assert_non_null(file->map.mapped);
        assert_null(file->map.owned);
        assert_ptr_equal(file->buf, file->map.data);
        assert_null(mem->map.mapped);
        assert_non_null(mem->map.owned);
        assert_ptr_not_equal(mem->buf, bytes);
        check_same_reader(file, mem);
        /* dropped pages come back with the same bytes; dropping a copy does nothing */
        for (i = 0; i < file->count; i++) {
            igq__st_drop(file, &file->tensors[i]);
            igq__st_drop(mem, &mem->tensors[i]);
        }
        igq__map_drop(&file->map, 0, file->size);
        igq__map_drop(&file->map, file->size, 0);
        igq__map_drop(&file->map, 1, file->size); /* past the end: ignored */
        igq__map_drop(&file->map, (size_t)-1, 2);
        igq__st_drop(file, NULL);
        igq__st_drop(NULL, &file->tensors[0]);
        check_same_reader(file, mem);
        igq__st_close(file);
        igq__st_close(mem);
        free(bytes);
        free(path);
    }
}

/* A file that ends exactly on a page boundary has no readable byte after it once mapped: the
 * header parse and the reads must stay inside (a file that is all header, and one whose last
 * tensor ends the page). */
static void test_page_sized_file(void **state)
{
    const size_t     page = (size_t)sysconf(_SC_PAGESIZE);
    char            *dir  = tu_make_tmpdir(), *path;
    unsigned char   *buf  = (unsigned char *)malloc(2 * page);
    igq_safetensors *st   = NULL;
    float            out[4];
    size_t           hlen;
    (void)state;
    assert_non_null(buf);
    /* all header: "{}" padded with spaces to the end of the page */
    memset(buf, ' ', page);
    put_u64le(buf, page - 8);
    memcpy(buf + 8, "{}", 2);
    path = tu_write_file(dir, "header.safetensors", buf, page);
    assert_int_equal(igq__st_open(path, &st), IGQ_OK);
    assert_int_equal(st->count, 0);
    igq__st_close(st);
    free(path);
    /* headers that run to the last byte of the page unfinished: an object, then a number */
    memset(buf + 8, ' ', page - 8);
    memcpy(buf + 8, "{\"a\":1", 6);
    path = tu_write_file(dir, "open.safetensors", buf, page);
    assert_int_equal(igq__st_open(path, &st), IGQ_ERR_FORMAT);
    assert_null(st);
    assert_non_null(strstr(igq_last_error(), "end of input"));
    free(path);
    memset(buf + 8, ' ', page - 8);
    memcpy(buf + 8, "{\"a\":", 5);
    memcpy(buf + page - 2, "12", 2);
    path = tu_write_file(dir, "num.safetensors", buf, page);
    assert_int_equal(igq__st_open(path, &st), IGQ_ERR_FORMAT);
    assert_null(st);
    assert_non_null(strstr(igq_last_error(), "end of input"));
    free(path);
    /* a 4-float tensor in the page's last 16 bytes */
    {
        const char *h = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}";
        memset(buf, ' ', page);
        hlen = page - 8 - 16;
        put_u64le(buf, hlen);
        memcpy(buf + 8, h, strlen(h));
        put_f32(buf + page - 16, 1.0f);
        put_f32(buf + page - 12, 2.0f);
        put_f32(buf + page - 8, 3.0f);
        put_f32(buf + page - 4, 4.0f);
        path = tu_write_file(dir, "tensor.safetensors", buf, page);
        assert_int_equal(igq__st_open(path, &st), IGQ_OK);
        assert_int_equal(igq__st_read_f32_transposed(st, igq__st_find(st, "w"), 2, 2, out, 2),
                         IGQ_OK);
        assert_true(out[0] == 1.0f && out[1] == 3.0f && out[2] == 2.0f && out[3] == 4.0f);
        igq__st_close(st);
        free(path);
    }
    tu_rmdir_r(dir);
    free(dir);
    free(buf);
}

/* Every truncation of a file on disk is refused cleanly, naming the file. */
static void test_truncated_file(void **state)
{
    size_t         n, i;
    unsigned char *buf = fuzz_seed_file(&n);
    char          *dir = tu_make_tmpdir();
    (void)state;
    for (i = 0; i < n; i++) {
        igq_safetensors *st = (igq_safetensors *)&st;
        char             name[64];
        char            *path;
        snprintf(name, sizeof name, "cut%zu.safetensors", i);
        path = tu_write_file(dir, name, buf, i);
        assert_int_equal(igq__st_open(path, &st), IGQ_ERR_FORMAT);
        assert_null(st);
        assert_true(strncmp(igq_last_error(), path, strlen(path)) == 0);
        free(path);
    }
    tu_rmdir_r(dir);
    free(dir);
    free(buf);
}

/* Reads every tensor of a successfully parsed file (bounds are checked by ASan). */
static void read_all(const igq_safetensors *st)
{
    size_t i;
    for (i = 0; i < st->count; i++) {
        const igq_st_tensor *t = &st->tensors[i];
        float               *out;
        igq_status           s;
        assert_ptr_equal(igq__st_find(st, t->name), t);
        if (t->numel > 4096) continue; /* cannot be: the buffer is small */
        out = (float *)malloc((size_t)(t->numel ? t->numel : 1) * sizeof(float));
        assert_non_null(out);
        s = igq__st_read_f32(st, t, out, t->numel);
        if (t->dtype == IGQ_ST_F32 || t->dtype == IGQ_ST_F16 || t->dtype == IGQ_ST_BF16)
            assert_int_equal(s, IGQ_OK);
        else
            assert_int_equal(s, IGQ_ERR_UNSUPPORTED);
        free(out);
    }
    (void)igq__st_metadata(st, "format");
}

static void test_fuzz_mutations(void **state)
{
    static const unsigned char interesting[] = {'"', '{', '}', '[', ']', ',', ':', '0', '9',
                                                '-', 'e', '.', ' ', '\\', 0x00, 0xFF};
    size_t           n, iter, ok = 0;
    unsigned char   *orig = fuzz_seed_file(&n), *buf = (unsigned char *)malloc(n);
    tu_rng           rng;
    igq_safetensors *st;
    (void)state;
    assert_non_null(buf);
    assert_int_equal(parse_mem(orig, n, "fuzz", &st), IGQ_OK);
    read_all(st);
    igq__st_close(st);
    tu_rng_seed(&rng, 20240611);
    for (iter = 0; iter < 2000; iter++) {
        size_t     len = n, k, flips;
        igq_status s;
        memcpy(buf, orig, n);
        flips = 1 + (size_t)(tu_rng_next(&rng) % 4);
        for (k = 0; k < flips; k++) {
            uint64_t r   = tu_rng_next(&rng);
            size_t   pos = (size_t)((r >> 8) % n);
            if ((r & 3) == 0 && n > 8) pos = (size_t)((r >> 8) % 8); /* the length field */
            switch ((r >> 2) & 3) {
            case 0: buf[pos] ^= (unsigned char)(1u << ((r >> 40) & 7)); break;
            case 1: buf[pos] = (unsigned char)(r >> 48); break;
            default: buf[pos] = interesting[(r >> 48) % sizeof interesting]; break;
            }
        }
        if (tu_rng_next(&rng) % 4 == 0) len = (size_t)(tu_rng_next(&rng) % (n + 1));
        st = NULL;
        s  = parse_mem(buf, len, "fuzz", &st);
        if (s == IGQ_OK) {
            assert_non_null(st);
            read_all(st);
            igq__st_close(st);
            ok++;
        } else {
            assert_int_equal(s, IGQ_ERR_FORMAT);
            assert_null(st);
            assert_true(strncmp(igq_last_error(), "fuzz: ", 6) == 0);
        }
    }
    /* both outcomes occur (the mutations are not all fatal, nor all harmless) */
    assert_true(ok > 0 && ok < 2000);
    free(buf);
    free(orig);
}

/* Allocation failure at every point of parse: IGQ_ERR_NO_MEMORY and no leaks. */
static void test_alloc_failures(void **state)
{
    size_t           n;
    unsigned char   *buf = fuzz_seed_file(&n);
    long             k;
    int              done = 0;
    (void)state;
    for (k = 0; k < 100000 && !done; k++) {
        igq_safetensors *st = NULL;
        igq_status       s;
        igq__alloc_fail_after(k);
        s = parse_mem(buf, n, BAD, &st);
        igq__alloc_fail_after(-1);
        if (s == IGQ_OK) {
            done = 1;
            igq__st_close(st);
        } else {
            assert_int_equal(s, IGQ_ERR_NO_MEMORY);
            assert_null(st);
            check_msg(NULL, NULL, NULL);
        }
    }
    assert_true(done);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_f16_exhaustive),
        cmocka_unit_test(test_bf16),
        cmocka_unit_test(test_f32_file),
        cmocka_unit_test(test_f16_bf16_file),
        cmocka_unit_test(test_scalar_and_empty),
        cmocka_unit_test(test_metadata),
        cmocka_unit_test(test_padded_header),
        cmocka_unit_test(test_unaligned),
        cmocka_unit_test(test_all_dtypes),
        cmocka_unit_test(test_many_tensors),
        cmocka_unit_test(test_io_errors),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_header_length),
        cmocka_unit_test(test_bad_json),
        cmocka_unit_test(test_bad_entries),
        cmocka_unit_test(test_size_mismatch),
        cmocka_unit_test(test_layout_errors),
        cmocka_unit_test(test_duplicates_and_metadata),
        cmocka_unit_test(test_hostile_headers),
        cmocka_unit_test(test_unsupported_read),
        cmocka_unit_test(test_read_transposed),
        cmocka_unit_test(test_file_matches_memory),
        cmocka_unit_test(test_page_sized_file),
        cmocka_unit_test(test_truncated_file),
        cmocka_unit_test(test_fuzz_mutations),
        cmocka_unit_test(test_alloc_failures),
    };
    alarm(300); /* bounded runtime, even under valgrind: a hang ends the suite with SIGALRM */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
