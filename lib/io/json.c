/* Strict RFC 8259 JSON parser (see json.h).
 *
 * - Only text[0..len) is ever read; the input need not be NUL-terminated.
 * - Recursion is bounded by IGQ_JSON_MAX_DEPTH (a few dozen small frames), so hostile nesting
 *   is an error, never a stack overflow.
 * - The tree is kept consistent at every step (each container's count covers exactly the
 *   children that were allocated and zero-initialized), so a partial tree is freed with the
 *   ordinary free routine on any failure.
 * - Object keys are exposed as plain C strings (json.h has no key lengths), so a key holding
 *   \u0000 is rejected: it could not be looked up or compared correctly. String values may
 *   hold \u0000 (string_len covers it).
 * - Numbers: integers that fit int64 are exact; other values use an exactly rounded fast path
 *   (Clinger) or strtod under the "C" locale, so the caller's LC_NUMERIC does not matter.
 *   Numbers whose magnitude overflows a double are rejected. */
#include "json.h"

#include <float.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/error.h"

typedef struct parser {
    const char *s;
    size_t      len;
    size_t      pos;
} parser;

/* Longest key shown in a message. */
#define KEY_SHOWN 200

static igq_status fail(size_t at, const char *what)
{
    return igq__set_error(IGQ_ERR_FORMAT, "JSON: %s at byte %zu", what, at);
}

static igq_status fail_nomem(size_t at)
{
    return igq__set_error(IGQ_ERR_NO_MEMORY, "JSON: out of memory at byte %zu", at);
}

static igq_status fail_char(const parser *p)
{
    unsigned char c = (unsigned char)p->s[p->pos];
    if (c >= 0x21 && c < 0x7F)
        return igq__set_error(IGQ_ERR_FORMAT, "JSON: unexpected character '%c' at byte %zu",
                              (char)c, p->pos);
    return igq__set_error(IGQ_ERR_FORMAT, "JSON: unexpected byte 0x%02x at byte %zu",
                          (unsigned)c, p->pos);
}

static void skip_ws(parser *p)
{
    while (p->pos < p->len) {
        char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        p->pos++;
    }
}

/* ---- freeing ------------------------------------------------------------------------------ */

static void free_contents(igq_json *v)
{
    size_t i;
    if (v->type == IGQ_JSON_STRING) {
        igq__free(v->string);
    } else if (v->type == IGQ_JSON_ARRAY || v->type == IGQ_JSON_OBJECT) {
        for (i = 0; i < v->count; i++) free_contents(&v->items[i]);
        if (v->keys != NULL)
            for (i = 0; i < v->count; i++) igq__free(v->keys[i]);
        igq__free(v->items);
        igq__free(v->keys);
    }
}

void igq__json_free(igq_json *root)
{
    if (root == NULL) return;
    free_contents(root);
    igq__free(root);
}

/* ---- strings ------------------------------------------------------------------------------ */

static int hex4(const char *s, unsigned *out)
{
    unsigned v = 0;
    int      i;
    for (i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return 0;
    }
    *out = v;
    return 1;
}

static size_t put_utf8(char *dst, unsigned long cp)
{
    if (cp < 0x80) {
        dst[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        dst[0] = (char)(0xC0 | (cp >> 6));
        dst[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        dst[0] = (char)(0xE0 | (cp >> 12));
        dst[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        dst[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    dst[0] = (char)(0xF0 | (cp >> 18));
    dst[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    dst[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    dst[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Validates the string at p->pos (the opening quote) and decodes it. Decoded bytes go to
 * dst while fewer than cap were written (dst may be NULL with cap 0: validate only); *n_out gets
 * the whole decoded length and *has_nul whether it holds U+0000. On success p->pos is just past
 * the closing quote. Decoding never grows the text: \uXXXX (6 bytes) gives at most 3, a pair
 * (12) gives 4, so end - start bytes always hold the whole string plus a terminator. */
static igq_status scan_string(parser *p, char *dst, size_t cap, size_t *n_out, int *has_nul)
{
    const char *s     = p->s;
    size_t      start = p->pos;
    size_t      end   = start + 1;
    size_t      i, n = 0, k;
    int         nul = 0;
    char        utf8[4];

    /* Find the closing quote: an escape always consumes the byte after the backslash, so the
     * quote found here is never escaped and every escape below lies wholly before it. */
    while (end < p->len && s[end] != '"') end += (s[end] == '\\') ? 2 : 1;
    if (end >= p->len) return fail(start, "unterminated string");

    i = start + 1;
    while (i < end) {
        unsigned char c = (unsigned char)s[i];
        char          e;
        if (c < 0x20) return fail(i, "control character in string");
        if (c != '\\') {
            if (n < cap) dst[n] = (char)c; /* bytes >= 0x80 pass through unchecked */
            n++;
            i++;
            continue;
        }
        switch (s[i + 1]) {
        case '"': e = '"'; break;
        case '\\': e = '\\'; break;
        case '/': e = '/'; break;
        case 'b': e = '\b'; break;
        case 'f': e = '\f'; break;
        case 'n': e = '\n'; break;
        case 'r': e = '\r'; break;
        case 't': e = '\t'; break;
        case 'u': {
            unsigned      hi, lo;
            unsigned long cp;
            size_t        m;
            if (end - i < 6 || !hex4(s + i + 2, &hi)) return fail(i, "invalid \\u escape");
            cp = hi;
            if (hi >= 0xDC00 && hi <= 0xDFFF) return fail(i, "lone low surrogate");
            if (hi >= 0xD800 && hi <= 0xDBFF) {
                if (end - i < 12 || s[i + 6] != '\\' || s[i + 7] != 'u' ||
                    !hex4(s + i + 8, &lo) || lo < 0xDC00 || lo > 0xDFFF)
                    return fail(i, "lone high surrogate");
                cp = 0x10000ul + (((unsigned long)hi - 0xD800) << 10) + (lo - 0xDC00);
                i += 6;
            }
            if (cp == 0) nul = 1;
            m = put_utf8(utf8, cp);
            for (k = 0; k < m; k++, n++)
                if (n < cap) dst[n] = utf8[k];
            i += 6;
            continue;
        }
        default: return fail(i, "invalid escape");
        }
        if (n < cap) dst[n] = e;
        n++;
        i += 2;
    }
    *n_out = n;
    if (has_nul != NULL) *has_nul = nul;
    p->pos = end + 1;
    return IGQ_OK;
}

/* p->pos is at the opening quote. On success *out is a new NUL-terminated buffer, p->pos is
 * just past the closing quote. */
static igq_status parse_string(parser *p, char **out, size_t *out_len, int *has_nul)
{
    const size_t start = p->pos;
    size_t       end   = start + 1, n;
    char        *buf;
    igq_status   st;

    *out = NULL;
    while (end < p->len && p->s[end] != '"') end += (p->s[end] == '\\') ? 2 : 1;
    if (end >= p->len) return fail(start, "unterminated string");
    buf = (char *)igq__malloc(end - start);
    if (buf == NULL) return fail_nomem(start);
    st = scan_string(p, buf, end - start, &n, has_nul);
    if (st != IGQ_OK) {
        igq__free(buf);
        return st;
    }
    buf[n]   = '\0';
    *out     = buf;
    *out_len = n;
    return IGQ_OK;
}

igq_status igq__json_string(const char *text, size_t len, size_t *pos, char *dst, size_t cap,
                            size_t *out_len, int *has_nul)
{
    parser     p;
    igq_status st;
    p.s   = text;
    p.len = len;
    p.pos = *pos;
    if (p.pos >= len || text[p.pos] != '"') return fail(p.pos, "expected a string");
    st = scan_string(&p, dst, dst != NULL ? cap : 0, out_len, has_nul);
    if (st == IGQ_OK) *pos = p.pos;
    return st;
}

/* ---- numbers ------------------------------------------------------------------------------ */

static pthread_once_t g_locale_once = PTHREAD_ONCE_INIT;
static locale_t       g_c_locale;

static void c_locale_init(void) { g_c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0); }

/* strtod of text[0..n) (known to match the JSON number grammar) under the "C" locale. */
static igq_status slow_strtod(const char *text, size_t n, size_t at, double *out)
{
    char     small[64];
    char    *buf = small;
    locale_t old;
    if (n >= sizeof small) {
        buf = (char *)igq__malloc(n + 1);
        if (buf == NULL) return fail_nomem(at);
    }
    memcpy(buf, text, n);
    buf[n] = '\0';
    pthread_once(&g_locale_once, c_locale_init);
    if (g_c_locale != (locale_t)0) {
        old  = uselocale(g_c_locale);
        *out = strtod(buf, NULL);
        uselocale(old);
    } else {
        *out = strtod(buf, NULL);
    }
    if (buf != small) igq__free(buf);
    return IGQ_OK;
}

double igq__strtod_c(const char *s, char **end)
{
    locale_t old;
    double   v;
    pthread_once(&g_locale_once, c_locale_init);
    if (g_c_locale == (locale_t)0) return strtod(s, end);
    old = uselocale(g_c_locale);
    v   = strtod(s, end);
    uselocale(old);
    return v;
}

static const double k_pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                 1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static int is_digit(char c) { return c >= '0' && c <= '9'; }

static igq_status parse_number(parser *p, igq_json *v)
{
    const char *s        = p->s;
    size_t      start    = p->pos, i = p->pos;
    int         negative = 0, has_frac = 0, has_exp = 0, exp_negative = 0;
    uint64_t    mant     = 0; /* all digits (integer and fraction), while they fit */
    int         mant_overflow = 0, saturated = 0;
    long        frac_digits = 0, exp_value = 0;
    uint64_t    int_value = 0; /* integer part, while it fits */
    int         int_overflow = 0;

    if (s[i] == '-') {
        negative = 1;
        i++;
    }
    if (i >= p->len || !is_digit(s[i])) return fail(start, "invalid number");
    if (s[i] == '0') {
        i++;
        if (i < p->len && is_digit(s[i])) return fail(start, "leading zero in number");
    } else {
        while (i < p->len && is_digit(s[i])) {
            unsigned d = (unsigned)(s[i] - '0');
            if (int_value > (UINT64_MAX - d) / 10)
                int_overflow = 1;
            else
                int_value = int_value * 10 + d;
            i++;
        }
    }
    mant = int_value;
    if (int_overflow) mant_overflow = 1;
    if (i < p->len && s[i] == '.') {
        has_frac = 1;
        i++;
        if (i >= p->len || !is_digit(s[i])) return fail(i, "digit expected after '.'");
        while (i < p->len && is_digit(s[i])) {
            unsigned d = (unsigned)(s[i] - '0');
            if (!mant_overflow) {
                if (mant > (UINT64_MAX - d) / 10)
                    mant_overflow = 1;
                else
                    mant = mant * 10 + d;
            }
            if (frac_digits < 1000000L)
                frac_digits++;
            else
                saturated = 1;
            i++;
        }
    }
    if (i < p->len && (s[i] == 'e' || s[i] == 'E')) {
        has_exp = 1;
        i++;
        if (i < p->len && (s[i] == '+' || s[i] == '-')) {
            exp_negative = s[i] == '-';
            i++;
        }
        if (i >= p->len || !is_digit(s[i])) return fail(i, "digit expected in exponent");
        while (i < p->len && is_digit(s[i])) {
            if (exp_value < 1000000L)
                exp_value = exp_value * 10 + (s[i] - '0');
            else
                saturated = 1;
            i++;
        }
    }
    p->pos  = i;
    v->type = IGQ_JSON_NUMBER;

    if (!has_frac && !has_exp && !int_overflow &&
        int_value <= (negative ? (uint64_t)INT64_MAX + 1u : (uint64_t)INT64_MAX)) {
        v->is_integer = 1;
        if (negative)
            v->integer = int_value == 0 ? 0 : -(int64_t)(int_value - 1u) - 1;
        else
            v->integer = (int64_t)int_value;
        v->number = (double)v->integer;
        if (negative && int_value == 0) v->number = -0.0;
        return IGQ_OK;
    }
    {
        long   e10 = (exp_negative ? -exp_value : exp_value) - frac_digits;
        double d   = 0.0;
        /* Clinger's fast path: both factors exact, one correctly rounded operation. Needs
         * plain double evaluation (no x87 extended precision). */
        if (FLT_EVAL_METHOD == 0 && !mant_overflow && !saturated &&
            mant <= ((uint64_t)1 << 53) && e10 >= -22 && e10 <= 22) {
            d = (double)mant;
            d = e10 >= 0 ? d * k_pow10[e10] : d / k_pow10[-e10];
        } else {
            IGQ_TRY(slow_strtod(s + start, i - start, start, &d));
            d = fabs(d);
        }
        if (!(d <= DBL_MAX)) return fail(start, "number out of range");
        v->number = negative ? -d : d;
    }
    return IGQ_OK;
}

/* ---- literals and values ------------------------------------------------------------------ */

static igq_status parse_literal(parser *p, igq_json *v, const char *word, igq_json_type type)
{
    size_t n = strlen(word);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
        return fail(p->pos, "invalid literal");
    p->pos += n;
    v->type = type;
    return IGQ_OK;
}

/* Grows v->items (and v->keys when with_keys) to at least need slots. */
static igq_status grow(igq_json *v, size_t *cap, size_t need, int with_keys, size_t at)
{
    size_t    ncap = *cap ? *cap : 4, bytes;
    igq_json *items;
    char    **keys = NULL;
    if (need <= *cap) return IGQ_OK;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2) return fail_nomem(at);
        ncap *= 2;
    }
    if (!igq__mul_size(ncap, sizeof *items, &bytes)) return fail_nomem(at);
    items = (igq_json *)igq__malloc(bytes);
    if (items == NULL) return fail_nomem(at);
    if (with_keys) {
        if (!igq__mul_size(ncap, sizeof *keys, &bytes) ||
            (keys = (char **)igq__malloc(bytes)) == NULL) {
            igq__free(items);
            return fail_nomem(at);
        }
        if (v->count) memcpy(keys, v->keys, v->count * sizeof *keys);
        igq__free(v->keys);
        v->keys = keys;
    }
    if (v->count) memcpy(items, v->items, v->count * sizeof *items);
    igq__free(v->items);
    v->items = items;
    *cap     = ncap;
    return IGQ_OK;
}

static int cmp_key(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static igq_status check_duplicates(const igq_json *v, size_t at)
{
    char  *small[16];
    char **sorted = small;
    size_t i;
    if (v->count < 2) return IGQ_OK;
    if (v->count > sizeof small / sizeof small[0]) {
        size_t bytes;
        if (!igq__mul_size(v->count, sizeof *sorted, &bytes) ||
            (sorted = (char **)igq__malloc(bytes)) == NULL)
            return fail_nomem(at);
    }
    memcpy(sorted, v->keys, v->count * sizeof *sorted);
    qsort(sorted, v->count, sizeof *sorted, cmp_key);
    for (i = 1; i < v->count; i++) {
        if (strcmp(sorted[i - 1], sorted[i]) == 0) {
            igq_status st = igq__set_error(
                IGQ_ERR_FORMAT, "JSON: duplicate key '%.*s' in the object starting at byte %zu",
                KEY_SHOWN, sorted[i], at);
            if (sorted != small) igq__free(sorted);
            return st;
        }
    }
    if (sorted != small) igq__free(sorted);
    return IGQ_OK;
}

static igq_status parse_value(parser *p, igq_json *v, int depth);

/* Reads the next member's key and ':' when the container is an object, and appends a zeroed
 * member to v (NULL in check mode: nothing is built). The key belongs to the tree once
 * appended and is freed here on failure before. */
static igq_status add_member(parser *p, igq_json *v, int is_object, size_t *cap)
{
    char      *key     = NULL;
    size_t     key_len = 0, at = p->pos;
    int        has_nul = 0;
    igq_status st;
    if (is_object) {
        skip_ws(p);
        if (p->pos >= p->len) return fail(p->pos, "unexpected end of input in object");
        if (p->s[p->pos] != '"') return fail(p->pos, "expected a string key");
        at = p->pos;
        if (v != NULL)
            IGQ_TRY(parse_string(p, &key, &key_len, &has_nul));
        else
            IGQ_TRY(scan_string(p, NULL, 0, &key_len, &has_nul));
        if (has_nul) {
            igq__free(key);
            return fail(at, "NUL character in object key");
        }
    }
    if (v != NULL) {
        st = grow(v, cap, v->count + 1, is_object, at);
        if (st != IGQ_OK) {
            igq__free(key);
            return st;
        }
        if (is_object) v->keys[v->count] = key;
        memset(&v->items[v->count], 0, sizeof v->items[0]);
        v->count++;
    }
    if (is_object) {
        skip_ws(p);
        if (p->pos >= p->len) return fail(p->pos, "unexpected end of input in object");
        if (p->s[p->pos] != ':') return fail(p->pos, "expected ':'");
        p->pos++;
    }
    return IGQ_OK;
}

/* An array or an object: members separated by ',' up to the closing bracket. v is NULL in
 * check mode. */
static igq_status parse_container(parser *p, igq_json *v, int depth)
{
    const size_t start     = p->pos;
    const int    is_object = p->s[start] == '{';
    const char   close     = is_object ? '}' : ']';
    size_t       cap       = 0;
    if (v != NULL) v->type = is_object ? IGQ_JSON_OBJECT : IGQ_JSON_ARRAY;
    p->pos++;
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == close) {
        p->pos++;
        return IGQ_OK;
    }
    for (;;) {
        IGQ_TRY(add_member(p, v, is_object, &cap));
        IGQ_TRY(parse_value(p, v != NULL ? &v->items[v->count - 1] : NULL, depth + 1));
        skip_ws(p);
        if (p->pos >= p->len)
            return igq__set_error(IGQ_ERR_FORMAT, "JSON: unexpected end of input in %s at byte %zu",
                                  is_object ? "object" : "array", p->pos);
        if (p->s[p->pos] == close) {
            p->pos++;
            return is_object && v != NULL ? check_duplicates(v, start) : IGQ_OK;
        }
        if (p->s[p->pos] != ',')
            return igq__set_error(IGQ_ERR_FORMAT, "JSON: expected ',' or '%c' at byte %zu", close,
                                  p->pos);
        p->pos++;
    }
}

/* One value into v; v NULL is check mode: the same checks and messages, nothing allocated
 * (but a transient copy of a number too long for the fast path, see slow_strtod). */
static igq_status parse_value(parser *p, igq_json *v, int depth)
{
    igq_json scratch;
    skip_ws(p);
    if (p->pos >= p->len) return fail(p->pos, "unexpected end of input");
    switch (p->s[p->pos]) {
    case '{':
    case '[':
        if (depth >= IGQ_JSON_MAX_DEPTH)
            return igq__set_error(IGQ_ERR_FORMAT, "JSON: nesting deeper than %d at byte %zu",
                                  IGQ_JSON_MAX_DEPTH, p->pos);
        return parse_container(p, v, depth);
    case '"':
        if (v == NULL) {
            size_t n;
            return scan_string(p, NULL, 0, &n, NULL);
        }
        v->type = IGQ_JSON_STRING;
        return parse_string(p, &v->string, &v->string_len, NULL);
    default: break;
    }
    if (v == NULL) v = &scratch;
    switch (p->s[p->pos]) {
    case 't': return parse_literal(p, v, "true", IGQ_JSON_TRUE);
    case 'f': return parse_literal(p, v, "false", IGQ_JSON_FALSE);
    case 'n': return parse_literal(p, v, "null", IGQ_JSON_NULL);
    default:
        if (p->s[p->pos] == '-' || is_digit(p->s[p->pos])) return parse_number(p, v);
        return fail_char(p);
    }
}

/* The whole text as one value (surrounding whitespace allowed) into root (NULL: check). */
static igq_status parse_text(const char *text, size_t len, igq_json *root)
{
    parser     p;
    igq_status st;
    p.s   = text;
    p.len = len;
    p.pos = 0;
    st    = parse_value(&p, root, 0);
    if (st == IGQ_OK) {
        skip_ws(&p);
        if (p.pos < p.len) st = fail(p.pos, "unexpected data after the value");
    }
    return st;
}

igq_status igq__json_parse(const char *text, size_t len, igq_json **out)
{
    igq_json  *root;
    igq_status st;
    IGQ_CHECK(out != NULL, IGQ_ERR_INVALID_ARGUMENT, "JSON: out is NULL");
    *out = NULL;
    IGQ_CHECK(text != NULL || len == 0, IGQ_ERR_INVALID_ARGUMENT, "JSON: text is NULL");
    root = (igq_json *)igq__calloc(1, sizeof *root);
    if (root == NULL) return fail_nomem(0);
    root->type = IGQ_JSON_NULL;
    st         = parse_text(text, len, root);
    if (st != IGQ_OK) {
        igq__json_free(root);
        return st;
    }
    *out = root;
    return IGQ_OK;
}

igq_status igq__json_check(const char *text, size_t len)
{
    IGQ_CHECK(text != NULL || len == 0, IGQ_ERR_INVALID_ARGUMENT, "JSON: text is NULL");
    return parse_text(text, len, NULL);
}

igq_status igq__json_number(const char *text, size_t len, size_t *pos, igq_json *out)
{
    parser     p;
    igq_status st;
    memset(out, 0, sizeof *out);
    out->type = IGQ_JSON_NULL;
    p.s       = text;
    p.len     = len;
    p.pos     = *pos;
    if (p.pos >= len || (text[p.pos] != '-' && !is_digit(text[p.pos])))
        return fail(p.pos, "invalid number");
    st = parse_number(&p, out);
    if (st == IGQ_OK) *pos = p.pos;
    return st;
}

const igq_json *igq__json_get(const igq_json *obj, const char *key)
{
    size_t i;
    if (obj == NULL || key == NULL || obj->type != IGQ_JSON_OBJECT) return NULL;
    for (i = 0; i < obj->count; i++)
        if (strcmp(obj->keys[i], key) == 0) return &obj->items[i];
    return NULL;
}
