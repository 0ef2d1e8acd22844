/* igq command-line tool: argument parsing, error reporting, progress display, image sources.
 * SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

/* ---- argument parsing --------------------------------------------------------------------- */

int cli_init(cli_args *a, const char *cmd, const char *usage, int argc, char **argv)
{
    memset(a, 0, sizeof *a);
    a->cmd   = cmd;
    a->usage = usage;
    a->argc  = argc;
    a->argv  = argv;
    a->i     = 1; /* argv[0] is the subcommand */
    a->pos   = (const char **)calloc((size_t)(argc > 0 ? argc : 1), sizeof *a->pos);
    if (a->pos == NULL) return cli_error(cmd, "out of memory");
    return 0;
}

void cli_free(cli_args *a)
{
    free((void *)a->pos);
    a->pos = NULL;
}

int cli_next(cli_args *a)
{
    while (a->i < a->argc) {
        const char *s = a->argv[a->i++];
        if (a->only_pos || s[0] != '-' || s[1] == '\0') { /* "-" alone is a positional */
            a->pos[a->npos++] = s;
            continue;
        }
        if (strcmp(s, "--") == 0) {
            a->only_pos = 1;
            continue;
        }
        a->inline_val = NULL;
        if (s[1] == '-') {
            const char *eq = strchr(s + 2, '=');
            static char name[64];
            size_t      n = eq != NULL ? (size_t)(eq - (s + 2)) : strlen(s + 2);
            if (n >= sizeof name) n = sizeof name - 1;
            memcpy(name, s + 2, n);
            name[n] = '\0';
            a->opt = name;
            if (eq != NULL) a->inline_val = eq + 1;
        } else {
            static char shortname[3];
            shortname[0] = s[1];
            shortname[1] = '\0';
            a->opt = shortname;
            if (s[2] != '\0') a->inline_val = s + 2; /* -oFILE */
            if (strcmp(shortname, "h") == 0 && s[2] == '\0') a->opt = "help";
        }
        return 1;
    }
    return 0;
}

int cli_is(const cli_args *a, const char *name)
{
    return strcmp(a->opt, name) == 0;
}

static void print_usage_tail(const cli_args *a)
{
    fprintf(stderr, "usage: %s\nTry 'igq %s --help'.\n", a->usage, a->cmd);
}

int cli_usage_error(const cli_args *a, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "igq %s: ", a->cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    print_usage_tail(a);
    return EXIT_USAGE;
}

static const char *dashes(const cli_args *a)
{
    return strlen(a->opt) == 1 ? "-" : "--";
}

int cli_unknown(const cli_args *a)
{
    return cli_usage_error(a, "unknown option '%s%s'", dashes(a), a->opt);
}

const char *cli_value(cli_args *a)
{
    if (a->inline_val != NULL) return a->inline_val;
    if (a->i < a->argc) return a->argv[a->i++];
    cli_usage_error(a, "option '%s%s' needs a value", dashes(a), a->opt);
    return NULL;
}

int cli_flag(cli_args *a)
{
    if (a->inline_val != NULL)
        return cli_usage_error(a, "option '%s%s' takes no value", dashes(a), a->opt);
    return 0;
}

int cli_int(cli_args *a, int64_t lo, int64_t hi, int64_t *out)
{
    const char *v = cli_value(a);
    char       *end = NULL;
    long long   x;
    if (v == NULL) return EXIT_USAGE;
    errno = 0;
    x = strtoll(v, &end, 10);
    if (v[0] == '\0' || isspace((unsigned char)v[0]) || *end != '\0' || errno != 0)
        return cli_usage_error(a, "option '%s%s': '%s' is not an integer", dashes(a), a->opt, v);
    if (x < lo || x > hi)
        return cli_usage_error(a, "option '%s%s': %lld is outside %lld..%lld", dashes(a), a->opt,
                               x, (long long)lo, (long long)hi);
    *out = (int64_t)x;
    return 0;
}

int cli_double(cli_args *a, double lo, double hi, double *out)
{
    const char *v = cli_value(a);
    char       *end = NULL;
    double      x;
    if (v == NULL) return EXIT_USAGE;
    errno = 0;
    x = strtod(v, &end);
    if (v[0] == '\0' || isspace((unsigned char)v[0]) || *end != '\0' || errno != 0 || x != x)
        return cli_usage_error(a, "option '%s%s': '%s' is not a number", dashes(a), a->opt, v);
    if (x < lo || x > hi)
        return cli_usage_error(a, "option '%s%s': %g is outside %g..%g", dashes(a), a->opt, x, lo,
                               hi);
    *out = x;
    return 0;
}

/* ---- errors ------------------------------------------------------------------------------- */

int cli_lib_error(const char *cmd, const char *what, igq_status s)
{
    const char *detail = igq_last_error();
    fprintf(stderr, "igq %s: %s: %s%s%s\n", cmd, what, igq_strerror(s),
            detail[0] != '\0' ? ": " : "", detail);
    return EXIT_FAIL;
}

int cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "igq %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return EXIT_FAIL;
}

double cli_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int cli_load_model(const char *cmd, const char *path, igq_model **out)
{
    igq_status s = igq_model_load(path, out);
    if (s != IGQ_OK) {
        char what[1100];
        snprintf(what, sizeof what, "cannot load model '%s'", path);
        return cli_lib_error(cmd, what, s);
    }
    return 0;
}

/* ---- progress ----------------------------------------------------------------------------- */

void cli_progress_init(cli_progress *p, int quiet)
{
    memset(p, 0, sizeof *p);
    p->quiet     = quiet;
    p->tty       = isatty(STDERR_FILENO);
    p->last_step = -1;
}

static void fmt_duration(char *buf, size_t n, double s)
{
    long t = s < 0 ? 0 : (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, n, "%ld:%02ld", t / 60, t % 60);
}

void cli_progress_update(cli_progress *p, const char *stage, double fraction)
{
    double now = cli_now();
    int    step;
    if (p->quiet) return;
    if (fraction < 0) fraction = 0;
    if (fraction > 1) fraction = 1;
    if (strncmp(stage, p->stage, sizeof p->stage - 1) != 0) {
        if (p->open_line) fputc('\n', stderr);
        p->open_line = 0;
        snprintf(p->stage, sizeof p->stage, "%s", stage);
        p->stage_t0  = now;
        p->last_step = -1;
        p->last_draw = 0;
    }
    if (p->tty) {
        char   bar[31], eta[48] = "", el[24];
        int    i, fill = (int)(fraction * 30.0);
        double elapsed = now - p->stage_t0;
        if (now - p->last_draw < 0.1 && fraction < 1.0) return;
        p->last_draw = now;
        for (i = 0; i < 30; i++) bar[i] = i < fill ? '#' : '.';
        bar[30] = '\0';
        fmt_duration(el, sizeof el, elapsed);
        if (fraction >= 1.0)
            snprintf(eta, sizeof eta, "done in %s", el);
        else if (fraction > 0.0 && elapsed > 0.2) {
            char r[20];
            fmt_duration(r, sizeof r, elapsed * (1.0 - fraction) / fraction);
            snprintf(eta, sizeof eta, "ETA %s", r);
        }
        fprintf(stderr, "\r%-16s [%s] %3d%%  %-16s", p->stage, bar, (int)(fraction * 100.0), eta);
        p->open_line = 1;
        fflush(stderr);
    } else {
        /* a line when the stage starts, at most one a second while it runs, one at its end */
        step = (int)(fraction * 100.0 + 1e-9);
        if (step == p->last_step) return;
        if (p->last_step >= 0 && fraction < 1.0 && now - p->last_draw < 1.0) return;
        p->last_step = step;
        p->last_draw = now;
        fprintf(stderr, "%s: %d%%\n", p->stage, step);
    }
}

void cli_progress_end(cli_progress *p)
{
    if (p->open_line) fputc('\n', stderr);
    p->open_line = 0;
    p->stage[0]  = '\0';
    fflush(stderr);
}

/* ---- image sources ------------------------------------------------------------------------ */

static uint32_t be32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

/* Reads a whole regular file; NULL with errno-based message printed on failure. */
static uint8_t *read_file(const char *cmd, const char *path, size_t *size)
{
    FILE       *f = fopen(path, "rb");
    struct stat st;
    uint8_t    *buf;
    if (f == NULL) {
        cli_error(cmd, "cannot open '%s': %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        cli_error(cmd, "'%s' is not a regular file", path);
        return NULL;
    }
    buf = (uint8_t *)malloc((size_t)st.st_size + 1);
    if (buf == NULL || fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
        free(buf);
        fclose(f);
        cli_error(cmd, "cannot read '%s'", path);
        return NULL;
    }
    fclose(f);
    *size = (size_t)st.st_size;
    return buf;
}

static int has_image_ext(const char *name)
{
    static const char *const exts[] = {".png", ".ppm", ".pgm", ".pnm", ".bmp"};
    size_t                   n = strlen(name), k, j;
    for (k = 0; k < sizeof exts / sizeof exts[0]; k++) {
        size_t e = strlen(exts[k]);
        if (n <= e) continue;
        for (j = 0; j < e; j++)
            if (tolower((unsigned char)name[n - e + j]) != exts[k][j]) break;
        if (j == e) return 1;
    }
    return 0;
}

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

typedef struct strlist {
    char **v;
    size_t n, cap;
} strlist;

static int strlist_add(strlist *l, const char *a, const char *b)
{
    char  *s;
    size_t la = strlen(a), lb = b != NULL ? strlen(b) : 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        char **v   = (char **)realloc(l->v, cap * sizeof *v);
        if (v == NULL) return 1;
        l->v   = v;
        l->cap = cap;
    }
    s = (char *)malloc(la + lb + 2);
    if (s == NULL) return 1;
    memcpy(s, a, la);
    if (b != NULL) {
        s[la] = '/';
        memcpy(s + la + 1, b, lb + 1);
    } else
        s[la] = '\0';
    l->v[l->n++] = s;
    return 0;
}

static void strlist_free(strlist *l)
{
    size_t i;
    for (i = 0; i < l->n; i++) free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Entries of a directory (no hidden ones), sorted: subdirectories into dirs (names only),
 * image files into files (full paths). */
static int list_dir(const char *cmd, const char *dir, strlist *dirs, strlist *files)
{
    DIR           *d = opendir(dir);
    struct dirent *e;
    strlist        names = {NULL, 0, 0};
    size_t         i;
    int            rc = 0;
    if (d == NULL) return cli_error(cmd, "cannot open directory '%s': %s", dir, strerror(errno));
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        if (strlist_add(&names, e->d_name, NULL)) {
            rc = cli_error(cmd, "out of memory");
            break;
        }
    }
    closedir(d);
    if (names.n > 1) qsort(names.v, names.n, sizeof *names.v, cmp_str);
    for (i = 0; rc == 0 && i < names.n; i++) {
        char *full = (char *)malloc(strlen(dir) + strlen(names.v[i]) + 2);
        if (full == NULL) {
            rc = cli_error(cmd, "out of memory");
            break;
        }
        sprintf(full, "%s/%s", dir, names.v[i]);
        if (dirs != NULL && is_dir(full)) {
            if (strlist_add(dirs, names.v[i], NULL)) rc = cli_error(cmd, "out of memory");
        } else if (has_image_ext(names.v[i])) {
            if (strlist_add(files, full, NULL)) rc = cli_error(cmd, "out of memory");
        }
        free(full);
    }
    strlist_free(&names);
    return rc;
}

const char *idx_images_check(const uint8_t *b, size_t size, int64_t *n, int64_t *rows,
                             int64_t *cols)
{
    uint64_t cnt, r, c;
    if (size < 16 || be32(b) != 0x803)
        return "is neither a directory nor an IDX file of 8-bit images (magic 0x00000803)";
    cnt = be32(b + 4);
    r   = be32(b + 8);
    c   = be32(b + 12);
    if (cnt < 1 || r < 1 || c < 1 || r > 65536 || c > 65536)
        return "IDX header: image count and sides must be at least 1, sides at most 65536";
    if ((size - 16) / (r * c) != cnt || (size - 16) % (r * c) != 0)
        return "IDX header (count x rows x columns) does not match the file size";
    *n    = (int64_t)cnt;
    *rows = (int64_t)r;
    *cols = (int64_t)c;
    return NULL;
}

static int open_idx(const char *cmd, const char *src, dataset *ds)
{
    size_t      size = 0;
    uint8_t    *b    = read_file(cmd, src, &size);
    const char *why;
    if (b == NULL) return EXIT_FAIL;
    if ((why = idx_images_check(b, size, &ds->count, &ds->rows, &ds->cols)) != NULL) {
        free(b);
        return cli_error(cmd, "'%s' %s", src, why);
    }
    ds->is_idx = 1;
    ds->raw    = b;
    ds->pixels = b + 16;
    return 0;
}

int dataset_open(const char *cmd, const char *src, dataset *ds)
{
    strlist dirs = {NULL, 0, 0}, files = {NULL, 0, 0};
    size_t  k;
    int64_t i;
    memset(ds, 0, sizeof *ds);
    if (!is_dir(src)) {
        if (open_idx(cmd, src, ds)) return EXIT_FAIL;
        ds->labels = (int64_t *)malloc((size_t)ds->count * sizeof *ds->labels);
        if (ds->labels == NULL) return cli_error(cmd, "out of memory");
        for (i = 0; i < ds->count; i++) ds->labels[i] = -1;
        return 0;
    }
    if (list_dir(cmd, src, &dirs, &files)) goto fail;
    if (dirs.n > 0) { /* one subfolder per class; loose files beside them are ignored */
        int64_t *lab = NULL;
        strlist  all = {NULL, 0, 0};
        size_t   before;
        for (k = 0; k < files.n; k++) free(files.v[k]);
        files.n = 0;
        for (k = 0; k < dirs.n; k++) {
            char *sub = (char *)malloc(strlen(src) + strlen(dirs.v[k]) + 2);
            if (sub == NULL) goto oom;
            sprintf(sub, "%s/%s", src, dirs.v[k]);
            before = all.n;
            if (list_dir(cmd, sub, NULL, &all)) {
                free(sub);
                free(lab);
                strlist_free(&all);
                goto fail;
            }
            free(sub);
            if (all.n > before) {
                int64_t *nl = (int64_t *)realloc(lab, (all.n > 0 ? all.n : 1) * sizeof *nl);
                size_t   j;
                if (nl == NULL) {
                    free(lab);
                    strlist_free(&all);
                    goto oom;
                }
                lab = nl;
                for (j = before; j < all.n; j++) lab[j] = (int64_t)k;
            }
        }
        if (all.n == 0) {
            free(lab);
            strlist_free(&all);
            cli_error(cmd, "'%s': its class folders hold no image files (.png .ppm .pgm .pnm "
                           ".bmp)", src);
            goto fail;
        }
        ds->paths      = all.v;
        ds->count      = (int64_t)all.n;
        ds->labels     = lab;
        ds->has_labels = 1;
        ds->classes    = dirs.v;
        ds->nclasses   = (int64_t)dirs.n;
        return 0;
    }
    strlist_free(&dirs);
    if (files.n == 0) {
        cli_error(cmd, "'%s' holds no image files (.png .ppm .pgm .pnm .bmp) and no class "
                       "folders", src);
        goto fail;
    }
    ds->paths  = files.v;
    ds->count  = (int64_t)files.n;
    ds->labels = (int64_t *)malloc(files.n * sizeof *ds->labels);
    if (ds->labels == NULL) goto oom;
    for (i = 0; i < ds->count; i++) ds->labels[i] = -1;
    return 0;
oom:
    cli_error(cmd, "out of memory");
fail:
    strlist_free(&dirs);
    strlist_free(&files);
    ds->paths = NULL;
    dataset_free(ds);
    return EXIT_FAIL;
}

int labels_parse(uint8_t *b, size_t size, int64_t count, int64_t *labels, char *msg,
                 size_t msg_size)
{
    int64_t i;
    if (size >= 8 && be32(b) == 0x801) {
        uint64_t n = be32(b + 4);
        if (size - 8 != n) {
            snprintf(msg, msg_size, "IDX labels header (%llu labels) does not match the file "
                     "size (%llu bytes)", (unsigned long long)n, (unsigned long long)size);
            return 1;
        }
        if (n < (uint64_t)count) {
            snprintf(msg, msg_size, "has %llu labels for %lld images", (unsigned long long)n,
                     (long long)count);
            return 1;
        }
        for (i = 0; i < count; i++) labels[i] = b[8 + i];
        return 0;
    } else { /* text: one class index per line; b[size] is a NUL */
        char   *p = (char *)b, *end;
        int64_t line = 0;
        for (i = 0; i < count; i++) {
            long long v;
            while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
                if (*p == '\n') line++;
                p++;
            }
            if (*p == '\0') {
                snprintf(msg, msg_size, "has %lld labels for %lld images (an IDX labels file, "
                         "magic 0x00000801, or one class index per line)", (long long)i,
                         (long long)count);
                return 1;
            }
            errno = 0;
            v     = strtoll(p, &end, 10);
            if (end == p || errno != 0 || v < 0 ||
                (*end != '\0' && !isspace((unsigned char)*end))) {
                snprintf(msg, msg_size, "line %lld: not a class index (an IDX labels file, "
                         "magic 0x00000801, or one class index per line)", (long long)line + 1);
                return 1;
            }
            labels[i] = (int64_t)v;
            p         = end;
        }
        return 0;
    }
}

int dataset_load_labels(const char *cmd, dataset *ds, const char *path, int64_t needed)
{
    size_t   size = 0;
    uint8_t *b    = read_file(cmd, path, &size);
    char     msg[256];
    if (b == NULL) return EXIT_FAIL;
    b[size] = '\0'; /* read_file leaves a byte for it */
    if (needed < 1 || needed > ds->count) needed = ds->count;
    if (labels_parse(b, size, needed, ds->labels, msg, sizeof msg)) {
        free(b);
        return cli_error(cmd, "'%s' %s", path, msg);
    }
    free(b);
    ds->has_labels = 1;
    return 0;
}

void dataset_free(dataset *ds)
{
    int64_t i;
    free(ds->raw);
    if (ds->paths != NULL)
        for (i = 0; i < ds->count; i++) free(ds->paths[i]);
    free(ds->paths);
    if (ds->classes != NULL)
        for (i = 0; i < ds->nclasses; i++) free(ds->classes[i]);
    free(ds->classes);
    free(ds->labels);
    memset(ds, 0, sizeof *ds);
}

int image_file_preprocess(const char *cmd, const char *path, const igq_model *model,
                          igq_tensor *batch, int64_t index)
{
    uint8_t   *px = NULL;
    int32_t    w = 0, h = 0, c = 0;
    igq_status s = igq_image_load(path, &px, &w, &h, &c);
    char       what[1100];
    if (s != IGQ_OK) {
        snprintf(what, sizeof what, "cannot read image '%s'", path);
        return cli_lib_error(cmd, what, s);
    }
    s = igq_image_preprocess(model, px, w, h, c, (int64_t)w * c, batch, index);
    igq_image_free(px);
    if (s != IGQ_OK) {
        snprintf(what, sizeof what, "cannot preprocess '%s'", path);
        return cli_lib_error(cmd, what, s);
    }
    return 0;
}

int dataset_preprocess(const char *cmd, const dataset *ds, int64_t i, const igq_model *model,
                       igq_tensor *batch, int64_t index)
{
    if (ds->is_idx) {
        const uint8_t *px = ds->pixels + i * ds->rows * ds->cols;
        igq_status     s  = igq_image_preprocess(model, px, (int32_t)ds->cols, (int32_t)ds->rows, 1,
                                                 ds->cols, batch, index);
        if (s != IGQ_OK) {
            char what[64];
            snprintf(what, sizeof what, "cannot preprocess IDX image %lld", (long long)i);
            return cli_lib_error(cmd, what, s);
        }
        return 0;
    }
    return image_file_preprocess(cmd, ds->paths[i], model, batch, index);
}

igq_status model_batch(const igq_model *model, int64_t n, igq_tensor **out)
{
    int64_t    shape[4] = {n, 0, 0, 0};
    igq_status s;
    *out = NULL;
    if ((s = igq_model_info(model, IGQ_PROP_IN_CHANNELS, &shape[1])) != IGQ_OK ||
        (s = igq_model_info(model, IGQ_PROP_IMAGE_HEIGHT, &shape[2])) != IGQ_OK ||
        (s = igq_model_info(model, IGQ_PROP_IMAGE_WIDTH, &shape[3])) != IGQ_OK)
        return s;
    return igq_tensor_create(IGQ_DTYPE_F32, 4, shape, out);
}

/* ---- names -------------------------------------------------------------------------------- */

const char *kind_name(igq_layer_kind k)
{
    switch (k) {
    case IGQ_LAYER_PATCH_EMBED: return "patch_embed";
    case IGQ_LAYER_LAYER_NORM: return "layernorm";
    case IGQ_LAYER_QUANTIZE: return "quantize";
    case IGQ_LAYER_LINEAR: return "linear";
    case IGQ_LAYER_ATTENTION: return "attention";
    case IGQ_LAYER_GELU: return "gelu";
    case IGQ_LAYER_RESIDUAL: return "residual";
    case IGQ_LAYER_HEAD: return "head";
    case IGQ_LAYER_INVALID: break;
    }
    return "?";
}

const char *site_name(igq_site s)
{
    switch (s) {
    case IGQ_SITE_QKV_IN: return "qkv_in";
    case IGQ_SITE_Q: return "q";
    case IGQ_SITE_K: return "k";
    case IGQ_SITE_ATTN: return "attn";
    case IGQ_SITE_V: return "v";
    case IGQ_SITE_PROJ_IN: return "proj_in";
    case IGQ_SITE_FC1_IN: return "fc1_in";
    case IGQ_SITE_FC2_IN: return "fc2_in";
    case IGQ_SITE_PATCH_IN: return "patch_in";
    case IGQ_SITE_HEAD_IN: return "head_in";
    case IGQ_SITE_QKV_WEIGHT: return "qkv_weight";
    case IGQ_SITE_PROJ_WEIGHT: return "proj_weight";
    case IGQ_SITE_FC1_WEIGHT: return "fc1_weight";
    case IGQ_SITE_FC2_WEIGHT: return "fc2_weight";
    case IGQ_SITE_PATCH_WEIGHT: return "patch_weight";
    case IGQ_SITE_HEAD_WEIGHT: return "head_weight";
    case IGQ_SITE_HEAD_DIST_WEIGHT: return "head_dist_weight";
    case IGQ_SITE_FORCE32: break;
    }
    return "?";
}

const char *granularity_name(igq_granularity g)
{
    switch (g) {
    case IGQ_GRANULARITY_TENSOR: return "tensor";
    case IGQ_GRANULARITY_GROUP: return "group";
    case IGQ_GRANULARITY_CHANNEL: return "channel";
    case IGQ_GRANULARITY_INVALID:
    case IGQ_GRANULARITY_FORCE32: break;
    }
    return "?";
}

const char *calibrator_name(int64_t c)
{
    switch (c) {
    case IGQ_CALIBRATOR_MINMAX: return "minmax";
    case IGQ_CALIBRATOR_PERCENTILE: return "percentile";
    case IGQ_CALIBRATOR_MSE: return "mse";
    case IGQ_CALIBRATOR_KL: return "kl";
    default: return "?";
    }
}

const char *executor_name(int64_t e)
{
    return e == IGQ_EXECUTOR_INT ? "int" : e == IGQ_EXECUTOR_SIM ? "sim" : "?";
}
