/* Tests for the strict JSON parser (lib/io/json.c).
 * Every parse goes through parse_exact(), which copies the text into a heap block of exactly
 * len bytes (no terminator), so ASan/valgrind catch any read past the end. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "io/json.h"
#include "support/testutil.h"

static igq_status parse_exact(const char *text, size_t len, igq_json **out)
{
    char      *copy = (char *)malloc(len ? len : 1);
    igq_status s;
    assert_non_null(copy);
    if (len) memcpy(copy, text, len);
    s = igq__json_parse(copy, len, out);
    free(copy);
    return s;
}

static igq_json *parse_ok(const char *text)
{
    igq_json  *j = NULL;
    igq_status s = parse_exact(text, strlen(text), &j);
    if (s != IGQ_OK) fail_msg("parse of '%s' failed: %s", text, igq_last_error());
    assert_non_null(j);
    return j;
}

/* Requires IGQ_ERR_FORMAT, out set to NULL and a "JSON: ... at byte N" message. */
static void expect_bad(const char *text, size_t len, const char *needle)
{
    igq_json  *j = (igq_json *)&j; /* must be overwritten with NULL */
    igq_status s = parse_exact(text, len, &j);
    const char *msg = igq_last_error();
    if (s != IGQ_ERR_FORMAT)
        fail_msg("'%.*s' (len %zu): expected IGQ_ERR_FORMAT, got %d", (int)len, text, len,
                 (int)s);
    assert_null(j);
    if (strncmp(msg, "JSON: ", 6) != 0 || strstr(msg, " at byte ") == NULL)
        fail_msg("'%.*s': bad message '%s'", (int)len, text, msg);
    if (needle != NULL && strstr(msg, needle) == NULL)
        fail_msg("'%.*s': message '%s' lacks '%s'", (int)len, text, msg, needle);
}

/* ---- valid documents ---------------------------------------------------------------------- */

static void test_scalars(void **state)
{
    igq_json *j;
    (void)state;
    j = parse_ok("null");
    assert_int_equal(j->type, IGQ_JSON_NULL);
    igq__json_free(j);
    j = parse_ok(" \t\r\ntrue\n");
    assert_int_equal(j->type, IGQ_JSON_TRUE);
    igq__json_free(j);
    j = parse_ok("false");
    assert_int_equal(j->type, IGQ_JSON_FALSE);
    igq__json_free(j);
    j = parse_ok("\"\"");
    assert_int_equal(j->type, IGQ_JSON_STRING);
    assert_int_equal(j->string_len, 0);
    assert_string_equal(j->string, "");
    igq__json_free(j);
    j = parse_ok("7");
    assert_int_equal(j->type, IGQ_JSON_NUMBER);
    assert_true(j->is_integer);
    assert_int_equal(j->integer, 7);
    igq__json_free(j);
    igq__json_free(NULL);
}

static void test_empty_containers(void **state)
{
    igq_json *j;
    (void)state;
    j = parse_ok("{}");
    assert_int_equal(j->type, IGQ_JSON_OBJECT);
    assert_int_equal(j->count, 0);
    assert_null(igq__json_get(j, "a"));
    igq__json_free(j);
    j = parse_ok(" [ ] ");
    assert_int_equal(j->type, IGQ_JSON_ARRAY);
    assert_int_equal(j->count, 0);
    igq__json_free(j);
    j = parse_ok("[{},[],{ },[ [ ] ]]");
    assert_int_equal(j->count, 4);
    assert_int_equal(j->items[3].count, 1);
    assert_int_equal(j->items[3].items[0].type, IGQ_JSON_ARRAY);
    igq__json_free(j);
}

static void test_nested(void **state)
{
    const char *doc = "{\"a\": [1, 2.5, {\"b\": null, \"c\": [true, false]}],\n"
                      " \"d\": {\"e\": {\"f\": \"g\"}}, \"h\": -3}";
    igq_json       *j;
    const igq_json *a, *o, *f;
    (void)state;
    j = parse_ok(doc);
    assert_int_equal(j->type, IGQ_JSON_OBJECT);
    assert_int_equal(j->count, 3);
    assert_string_equal(j->keys[0], "a");
    assert_string_equal(j->keys[1], "d");
    assert_string_equal(j->keys[2], "h");
    a = igq__json_get(j, "a");
    assert_non_null(a);
    assert_int_equal(a->type, IGQ_JSON_ARRAY);
    assert_int_equal(a->count, 3);
    assert_true(a->items[0].is_integer);
    assert_int_equal(a->items[0].integer, 1);
    assert_false(a->items[1].is_integer);
    assert_true(a->items[1].number == 2.5);
    o = &a->items[2];
    assert_int_equal(igq__json_get(o, "b")->type, IGQ_JSON_NULL);
    assert_int_equal(igq__json_get(o, "c")->items[0].type, IGQ_JSON_TRUE);
    assert_int_equal(igq__json_get(o, "c")->items[1].type, IGQ_JSON_FALSE);
    f = igq__json_get(igq__json_get(igq__json_get(j, "d"), "e"), "f");
    assert_non_null(f);
    assert_string_equal(f->string, "g");
    assert_int_equal(igq__json_get(j, "h")->integer, -3);
    assert_null(igq__json_get(j, "x"));
    assert_null(igq__json_get(a, "a")); /* not an object */
    assert_null(igq__json_get(NULL, "a"));
    igq__json_free(j);
}

static void test_escapes(void **state)
{
    igq_json *j;
    (void)state;
    j = parse_ok("\"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t\"");
    assert_string_equal(j->string, "q\" b\\ s/ \b\f\n\r\t");
    assert_int_equal(j->string_len, strlen("q\" b\\ s/ \b\f\n\r\t"));
    igq__json_free(j);

    /* \u escapes: 1, 2, 3 and 4-byte UTF-8, mixed-case hex */
    j = parse_ok("\"\\u0041\\u00e9\\u20AC\\uD83D\\uDE00\\udbff\\udfff\"");
    assert_string_equal(j->string, "A\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xF4\x8F\xBF\xBF");
    igq__json_free(j);

    /* \u0000 inside a string value is kept; string_len covers it */
    j = parse_ok("\"a\\u0000b\"");
    assert_int_equal(j->string_len, 3);
    assert_memory_equal(j->string, "a\0b", 4);
    igq__json_free(j);

    /* raw UTF-8 and DEL pass through */
    j = parse_ok("\"\xE6\x97\xA5\xE6\x9C\xAC \x7F\"");
    assert_string_equal(j->string, "\xE6\x97\xA5\xE6\x9C\xAC \x7F");
    igq__json_free(j);

    /* escaped keys */
    j = parse_ok("{\"k\\u00e9y\": 1, \"\\\"\": 2}");
    assert_non_null(igq__json_get(j, "k\xC3\xA9y"));
    assert_int_equal(igq__json_get(j, "\"")->integer, 2);
    igq__json_free(j);
}

static void check_number(const char *text, double expect, int is_int, int64_t ival)
{
    igq_json *j = parse_ok(text);
    assert_int_equal(j->type, IGQ_JSON_NUMBER);
    if (j->number != expect || (expect == 0 && signbit(j->number) != signbit(expect)))
        fail_msg("'%s': got %.17g, expected %.17g", text, j->number, expect);
    if (j->is_integer != is_int) fail_msg("'%s': is_integer %d", text, j->is_integer);
    if (is_int && j->integer != ival) fail_msg("'%s': integer %lld", text, (long long)j->integer);
    igq__json_free(j);
}

/* The value must equal the C library's correctly rounded conversion. */
static void check_like_strtod(const char *text)
{
    check_number(text, strtod(text, NULL), 0, 0);
}

static void test_numbers(void **state)
{
    static const char *const floats[] = {
        "0.1", "-0.1", "1.5", "2.5e-3", "1E+2", "1e3", "1.0", "0.0", "1e-12", "6.02214076e23",
        "0.485", "0.229", "3.141592653589793", "123456789012345678901234567890",
        "-9223372036854775809", "18446744073709551616", "2.2250738585072014e-308",
        "4.9e-324", "1e-400", "1.7976931348623157e308", "0.30000000000000004",
        "9007199254740993.0", "1.00000000000000011102230246251565404236316680908203125",
        "0.000000000000000000000000000000000000000000000001", "1e0000000000000000000001",
        "123.456e-7", "1E22", "1e23", "8.98846567431158e307"};
    size_t i;
    (void)state;
    check_number("0", 0.0, 1, 0);
    check_number("-0", -0.0, 1, 0);
    check_number("-0.0", -0.0, 0, 0);
    check_number("42", 42.0, 1, 42);
    check_number("-42", -42.0, 1, -42);
    check_number("9223372036854775807", 9223372036854775807.0, 1, INT64_MAX);
    check_number("-9223372036854775808", -9223372036854775808.0, 1, INT64_MIN);
    check_number("9223372036854775808", 9223372036854775808.0, 0, 0);
    check_number("9007199254740993", 9007199254740992.0, 1, 9007199254740993LL);
    check_number("1e2", 100.0, 0, 0); /* exponent: not an integer per json.h */
    for (i = 0; i < sizeof floats / sizeof floats[0]; i++) check_like_strtod(floats[i]);
    /* a very long number (heap copy in the slow path) */
    {
        char   buf[700];
        size_t n = 0;
        buf[n++] = '1';
        buf[n++] = '.';
        while (n < sizeof buf - 1) buf[n++] = '5';
        buf[n] = '\0';
        check_like_strtod(buf);
    }
}

static void test_numbers_in_containers(void **state)
{
    igq_json *j;
    (void)state;
    j = parse_ok("[0,-1,2e1,3.5]");
    assert_int_equal(j->count, 4);
    assert_int_equal(j->items[1].integer, -1);
    assert_true(j->items[2].number == 20.0);
    assert_true(j->items[3].number == 3.5);
    igq__json_free(j);
    j = parse_ok("{\"a\":0}");
    assert_int_equal(igq__json_get(j, "a")->integer, 0);
    igq__json_free(j);
}

static void test_large_document(void **state)
{
    /* an array of 2000 items and an object with 300 keys (exercises growth and the sorted
     * duplicate check) */
    size_t cap = 64 * 1024, n = 0, i;
    char  *buf = (char *)malloc(cap);
    igq_json *j;
    (void)state;
    assert_non_null(buf);
    n += (size_t)snprintf(buf + n, cap - n, "{\"arr\":[");
    for (i = 0; i < 2000; i++) n += (size_t)snprintf(buf + n, cap - n, "%s%zu", i ? "," : "", i);
    n += (size_t)snprintf(buf + n, cap - n, "],\"obj\":{");
    for (i = 0; i < 300; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s\"blocks.%zu.w\":%zu", i ? "," : "", i, i);
    n += (size_t)snprintf(buf + n, cap - n, "}}");
    assert_true(n < cap);
    assert_int_equal(parse_exact(buf, n, &j), IGQ_OK);
    assert_int_equal(igq__json_get(j, "arr")->count, 2000);
    assert_int_equal(igq__json_get(j, "arr")->items[1999].integer, 1999);
    for (i = 0; i < 300; i++) {
        char key[32];
        snprintf(key, sizeof key, "blocks.%zu.w", i);
        assert_int_equal(igq__json_get(igq__json_get(j, "obj"), key)->integer, (int64_t)i);
    }
    igq__json_free(j);

    /* the same object with one duplicate among 300 keys */
    n = 0;
    n += (size_t)snprintf(buf + n, cap - n, "{");
    for (i = 0; i < 300; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s\"k%zu\":0", i ? "," : "", i == 250 ? 17 : i);
    n += (size_t)snprintf(buf + n, cap - n, "}");
    expect_bad(buf, n, "duplicate key 'k17'");
    free(buf);
}

static void test_depth_limit(void **state)
{
    enum { BIG = 200000 };
    char     *buf = (char *)malloc(2 * BIG + 16);
    igq_json *j;
    size_t    i, n;
    (void)state;
    assert_non_null(buf);
    /* exactly IGQ_JSON_MAX_DEPTH levels: fine */
    for (i = 0; i < IGQ_JSON_MAX_DEPTH; i++) buf[i] = '[';
    for (i = 0; i < IGQ_JSON_MAX_DEPTH; i++) buf[IGQ_JSON_MAX_DEPTH + i] = ']';
    assert_int_equal(parse_exact(buf, 2 * IGQ_JSON_MAX_DEPTH, &j), IGQ_OK);
    igq__json_free(j);
    /* one more: error */
    for (i = 0; i <= IGQ_JSON_MAX_DEPTH; i++) buf[i] = '[';
    for (i = 0; i <= IGQ_JSON_MAX_DEPTH; i++) buf[IGQ_JSON_MAX_DEPTH + 1 + i] = ']';
    expect_bad(buf, 2 * (IGQ_JSON_MAX_DEPTH + 1), "nesting");
    /* hostile depth: no stack overflow */
    for (i = 0; i < BIG; i++) buf[i] = '[';
    expect_bad(buf, BIG, "nesting");
    /* deep objects */
    n = 0;
    for (i = 0; i < 1000; i++) {
        memcpy(buf + n, "{\"a\":", 5);
        n += 5;
    }
    expect_bad(buf, n, "nesting");
    free(buf);
}

/* ---- invalid documents -------------------------------------------------------------------- */

typedef struct bad_case {
    const char *text;
    size_t      len; /* 0: strlen(text) */
    const char *needle;
} bad_case;

static const bad_case k_bad[] = {
    {"", 0, "end of input"},
    {"   ", 0, "end of input"},
    {"{", 0, NULL},
    {"[", 0, NULL},
    {"[1,]", 0, NULL},
    {"[1,,2]", 0, NULL},
    {"[1 2]", 0, "expected ',' or ']'"},
    {"{\"a\":1,}", 0, "expected a string key"},
    {"{\"a\" 1}", 0, "expected ':'"},
    {"{\"a\":}", 0, NULL},
    {"{:1}", 0, "expected a string key"},
    {"{a:1}", 0, "expected a string key"},
    {"{'a':1}", 0, NULL},
    {"{\"a\":1 \"b\":2}", 0, "expected ',' or '}'"},
    {"{1:2}", 0, NULL},
    {"{\"a\":1,\"a\":2}", 0, "duplicate key 'a'"},
    {"{\"b\":{\"x\":1},\"c\":[],\"b\":0}", 0, "duplicate key 'b'"},
    {"{\"a\\u0000\":1}", 0, "NUL character in object key"},
    /* numbers */
    {"01", 0, "leading zero"},
    {"-01", 0, "leading zero"},
    {"00", 0, "leading zero"},
    {"+1", 0, "unexpected character '+'"},
    {".5", 0, "unexpected character '.'"},
    {"1.", 0, "digit expected after '.'"},
    {"1.e3", 0, "digit expected after '.'"},
    {"1e", 0, "exponent"},
    {"1e+", 0, "exponent"},
    {"1E-x", 0, "exponent"},
    {"-", 0, "invalid number"},
    {"--1", 0, "invalid number"},
    {"-a", 0, "invalid number"},
    {"NaN", 0, NULL},
    {"nan", 0, NULL},
    {"Infinity", 0, NULL},
    {"-Infinity", 0, "invalid number"},
    {"0x10", 0, "after the value"},
    {"1e400", 0, "out of range"},
    {"-1e400", 0, "out of range"},
    {"[1e99999999999999999]", 0, "out of range"},
    /* literals */
    {"nul", 0, "invalid literal"},
    {"tru", 0, "invalid literal"},
    {"True", 0, NULL},
    {"nulll", 0, "after the value"},
    {"falsey", 0, "after the value"},
    /* strings */
    {"\"abc", 0, "unterminated string"},
    {"\"abc\\\"", 0, "unterminated string"},
    {"\"\\", 0, "unterminated string"},
    {"'abc'", 0, NULL},
    {"\"\\x\"", 0, "invalid escape"},
    {"\"\\U0041\"", 0, "invalid escape"},
    {"\"\\u12\"", 0, "invalid \\u escape"},
    {"\"\\u12G4\"", 0, "invalid \\u escape"},
    {"\"\\u\"", 0, "invalid \\u escape"},
    {"\"\\uD800\"", 0, "lone high surrogate"},
    {"\"\\uDBFFx\"", 0, "lone high surrogate"},
    {"\"\\uD800\\u0041\"", 0, "lone high surrogate"},
    {"\"\\uD800\\uD800\"", 0, "lone high surrogate"},
    {"\"\\uD800\\n\"", 0, "lone high surrogate"},
    {"\"\\uD800\\uDC0", 0, "unterminated string"},
    {"\"\\uD800\\uDC0\"", 0, "lone high surrogate"},
    {"\"\\uDC00\"", 0, "lone low surrogate"},
    {"\"\\uDFFF\\uD800\"", 0, "lone low surrogate"},
    {"\"a\tb\"", 0, "control character"},
    {"\"a\nb\"", 0, "control character"},
    {"\"\x01\"", 0, "control character"},
    {"\"\x1f\"", 0, "control character"},
    {"\"a\0b\"", 5, "control character"},
    /* trailing garbage and stray bytes */
    {"[1] x", 0, "after the value"},
    {"{} {}", 0, "after the value"},
    {"1 2", 0, "after the value"},
    {"1\0", 2, "after the value"},
    {"\0", 1, "unexpected byte 0x00"},
    {"[1,\0 2]", 7, "unexpected byte 0x00"},
    {"{\"a\":1\0}", 8, NULL},
    {"[1]]", 0, "after the value"},
    {"]", 0, NULL},
    {"}", 0, NULL},
    {"/* c */ 1", 0, NULL},
    {"\xEF\xBB\xBF{}", 0, "unexpected byte 0xef"},
    {"[\x0b]", 0, "unexpected byte 0x0b"},
    {"\f1", 0, NULL},
};

static void test_invalid_documents(void **state)
{
    size_t i;
    (void)state;
    for (i = 0; i < sizeof k_bad / sizeof k_bad[0]; i++) {
        size_t len = k_bad[i].len ? k_bad[i].len : strlen(k_bad[i].text);
        expect_bad(k_bad[i].text, len, k_bad[i].needle);
    }
}

static void test_error_offsets(void **state)
{
    (void)state;
    expect_bad("[1, 2, x]", 9, "at byte 7");
    expect_bad("{\"a\": \"b\\q\"}", 12, "at byte 8");
    expect_bad("  tru", 5, "at byte 2");
    expect_bad("[1] x", 5, "at byte 4");
    expect_bad("{\"a\":1,\"a\":2}", 13, "at byte 0");
}

static const char k_valid_doc[] =
    "{\"__metadata__\":{\"format\":\"pt\",\"n\\u00e9\":\"\\uD83D\\uDE00\"},"
    "\"blocks.0.attn.qkv.weight\":{\"dtype\":\"F32\",\"shape\":[3, 4],"
    "\"data_offsets\":[0,48]},\"x\":[true,false,null,-1.5e-3,0,\"s\\\\t\\/\"],"
    "\"y\":{\"z\":[[],{}]},\"big\":123456789012345678901}";

/* Every proper prefix of an object document is invalid: all must fail cleanly. */
static void test_every_prefix(void **state)
{
    size_t    n = sizeof k_valid_doc - 1, i;
    igq_json *j;
    (void)state;
    assert_int_equal(parse_exact(k_valid_doc, n, &j), IGQ_OK);
    igq__json_free(j);
    for (i = 0; i < n; i++) expect_bad(k_valid_doc, i, NULL);
}

/* Every single-byte truncation or corruption must give OK or FORMAT, never a crash. */
static void test_byte_mutations(void **state)
{
    static const char repl[] = {'\0', '"', '\\', '{', '}', '[', ']', ',', ':', '0', 'e', '-',
                                ' ', 'u', (char)0xFF, (char)0x80};
    size_t n = sizeof k_valid_doc - 1, i, r;
    char  *buf = (char *)malloc(n);
    (void)state;
    assert_non_null(buf);
    for (i = 0; i < n; i++) {
        for (r = 0; r < sizeof repl; r++) {
            igq_json  *j = NULL;
            igq_status s;
            memcpy(buf, k_valid_doc, n);
            buf[i] = repl[r];
            s      = parse_exact(buf, n, &j);
            assert_true(s == IGQ_OK || s == IGQ_ERR_FORMAT);
            assert_true((s == IGQ_OK) == (j != NULL));
            igq__json_free(j);
        }
    }
    free(buf);
}

/* ---- check mode and the readers' building blocks ------------------------------------------ */

/* igq__json_check on text[0..len) (an exact-size copy) agrees with igq__json_parse: the same
 * status and message, except that duplicate keys pass; and it allocates nothing (these texts
 * hold no number long enough to need a copy). */
static void check_agrees(const char *text, size_t len)
{
    char      *copy = (char *)malloc(len ? len : 1);
    char       msg[512];
    igq_json  *j = NULL;
    igq_status s1, s2;
    assert_non_null(copy);
    if (len) memcpy(copy, text, len);
    s1 = igq__json_parse(copy, len, &j);
    snprintf(msg, sizeof msg, "%s", igq_last_error());
    igq__json_free(j);
    igq__alloc_fail_after(0);
    s2 = igq__json_check(copy, len);
    igq__alloc_fail_after(-1);
    if (s1 == IGQ_ERR_FORMAT && strstr(msg, "duplicate key") != NULL) s1 = IGQ_OK;
    if (s1 != s2)
        fail_msg("'%.*s': parse gives %d (%s), check %d (%s)", (int)len, text, (int)s1, msg,
                 (int)s2, igq_last_error());
    if (s1 != IGQ_OK && strcmp(msg, igq_last_error()) != 0)
        fail_msg("'%.*s': parse says '%s', check '%s'", (int)len, text, msg, igq_last_error());
    free(copy);
}

static void test_check_mode(void **state)
{
    static const char repl[] = {'\0', '"', '\\', '{', '}', '[', ']', ',', ':', '0', 'e', '-',
                                ' ', 'u', (char)0xFF, (char)0x80};
    const size_t n = sizeof k_valid_doc - 1;
    char        *buf = (char *)malloc(n + 2 * IGQ_JSON_MAX_DEPTH + 2);
    size_t       i, r;
    (void)state;
    assert_non_null(buf);
    for (i = 0; i < sizeof k_bad / sizeof k_bad[0]; i++)
        check_agrees(k_bad[i].text, k_bad[i].len ? k_bad[i].len : strlen(k_bad[i].text));
    for (i = 0; i <= n; i++) check_agrees(k_valid_doc, i);
    for (i = 0; i < n; i++) {
        for (r = 0; r < sizeof repl; r++) {
            memcpy(buf, k_valid_doc, n);
            buf[i] = repl[r];
            check_agrees(buf, n);
        }
    }
    for (i = 0; i <= IGQ_JSON_MAX_DEPTH; i++) buf[i] = '[';
    for (i = 0; i <= IGQ_JSON_MAX_DEPTH; i++) buf[IGQ_JSON_MAX_DEPTH + 1 + i] = ']';
    check_agrees(buf + 1, 2 * IGQ_JSON_MAX_DEPTH);
    check_agrees(buf, 2 * IGQ_JSON_MAX_DEPTH + 2);
    check_agrees("{\"a\":1,\"a\":2}", 13);
    check_agrees("{\"x\":{\"b\":1,\"b\":2}}", 19);
    /* a number too long for the fast path: its transient copy is the one allocation */
    memset(buf, '1', 80);
    buf[80] = '.';
    buf[81] = '5';
    assert_int_equal(igq__json_check(buf, 82), IGQ_OK);
    igq__alloc_fail_after(0);
    assert_int_equal(igq__json_check(buf, 82), IGQ_ERR_NO_MEMORY);
    igq__alloc_fail_after(-1);
    assert_int_equal(igq__json_check(NULL, 0), IGQ_ERR_FORMAT);
    assert_int_equal(igq__json_check(NULL, 1), IGQ_ERR_INVALID_ARGUMENT);
    free(buf);
}

static void test_string_and_number_readers(void **state)
{
    static const char s[] = "[\"a\\u00e9\\u0000b\\n\", -0, 12345678901234567890123, 1.5e3, x]";
    const size_t      len = sizeof s - 1;
    char              dst[16];
    size_t            pos = 1, n = 0;
    int               nul = 0;
    igq_json          v;
    (void)state;
    /* whole string: 'a', U+00E9 (2 bytes), U+0000, 'b', '\n' */
    memset(dst, 'Z', sizeof dst);
    assert_int_equal(igq__json_string(s, len, &pos, dst, sizeof dst, &n, &nul), IGQ_OK);
    assert_int_equal(n, 6);
    assert_int_equal(nul, 1);
    assert_memory_equal(dst, "a\xC3\xA9\0b\nZ", 7); /* no terminator written */
    assert_int_equal(pos, 19);
    assert_int_equal(s[pos], ',');
    /* a prefix: at most cap bytes written, the whole length reported */
    pos = 1;
    memset(dst, 'Z', sizeof dst);
    assert_int_equal(igq__json_string(s, len, &pos, dst, 2, &n, NULL), IGQ_OK);
    assert_int_equal(n, 6);
    assert_memory_equal(dst, "a\xC3Z", 3);
    pos = 1;
    assert_int_equal(igq__json_string(s, len, &pos, NULL, 99, &n, &nul), IGQ_OK);
    assert_int_equal(n, 6);
    assert_int_equal(pos, 19);
    /* not at a string, or cut short: the parser's errors, pos untouched */
    pos = 0;
    assert_int_equal(igq__json_string(s, len, &pos, dst, sizeof dst, &n, NULL), IGQ_ERR_FORMAT);
    assert_non_null(strstr(igq_last_error(), "at byte 0"));
    assert_int_equal(pos, 0);
    pos = 1;
    assert_int_equal(igq__json_string(s, 10, &pos, dst, sizeof dst, &n, NULL), IGQ_ERR_FORMAT);
    assert_non_null(strstr(igq_last_error(), "unterminated string"));
    assert_int_equal(pos, 1);
    pos = len;
    assert_int_equal(igq__json_string(s, len, &pos, dst, sizeof dst, &n, NULL), IGQ_ERR_FORMAT);

    /* numbers */
    pos = 21;
    assert_int_equal(igq__json_number(s, len, &pos, &v), IGQ_OK);
    assert_int_equal(v.type, IGQ_JSON_NUMBER);
    assert_true(v.is_integer && v.integer == 0);
    assert_int_equal(pos, 23);
    pos = 25;
    assert_int_equal(igq__json_number(s, len, &pos, &v), IGQ_OK);
    assert_false(v.is_integer);
    assert_true(v.number == 12345678901234567890123.0);
    pos = 50;
    assert_int_equal(igq__json_number(s, len, &pos, &v), IGQ_OK);
    assert_false(v.is_integer);
    assert_true(v.number == 1500.0);
    assert_int_equal(s[pos], ',');
    pos = 57;
    assert_int_equal(igq__json_number(s, len, &pos, &v), IGQ_ERR_FORMAT);
    assert_non_null(strstr(igq_last_error(), "invalid number at byte 57"));
    assert_int_equal(pos, 57);
}

/* Allocation failure at every point: IGQ_ERR_NO_MEMORY, nothing leaks (ASan/valgrind). */
static void test_alloc_failures(void **state)
{
    long n;
    int  ok = 0;
    (void)state;
    for (n = 0; n < 10000 && !ok; n++) {
        igq_json  *j = NULL;
        igq_status s;
        igq__alloc_fail_after(n);
        s = parse_exact(k_valid_doc, sizeof k_valid_doc - 1, &j);
        igq__alloc_fail_after(-1);
        if (s == IGQ_OK) {
            ok = 1;
            igq__json_free(j);
        } else {
            assert_int_equal(s, IGQ_ERR_NO_MEMORY);
            assert_null(j);
            assert_non_null(strstr(igq_last_error(), "out of memory"));
        }
    }
    assert_true(ok);
    assert_true(n > 10);
}

static void test_arguments(void **state)
{
    igq_json *j = NULL;
    (void)state;
    assert_int_equal(igq__json_parse("1", 1, NULL), IGQ_ERR_INVALID_ARGUMENT);
    assert_int_equal(igq__json_parse(NULL, 1, &j), IGQ_ERR_INVALID_ARGUMENT);
    assert_null(j);
    assert_int_equal(igq__json_parse(NULL, 0, &j), IGQ_ERR_FORMAT);
    assert_null(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scalars),
        cmocka_unit_test(test_empty_containers),
        cmocka_unit_test(test_nested),
        cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_numbers_in_containers),
        cmocka_unit_test(test_large_document),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_invalid_documents),
        cmocka_unit_test(test_error_offsets),
        cmocka_unit_test(test_every_prefix),
        cmocka_unit_test(test_byte_mutations),
        cmocka_unit_test(test_check_mode),
        cmocka_unit_test(test_string_and_number_readers),
        cmocka_unit_test(test_alloc_failures),
        cmocka_unit_test(test_arguments),
    };
    alarm(300); /* bounded runtime, even under valgrind: a hang ends the suite with SIGALRM */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
