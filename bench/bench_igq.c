/* bench_igq: what a .igq file saves at deployment. For the bundled Fashion-MNIST ViT and for
 * random-weight DeiT-S and ViT-B/16 (timm layout, written as F32 safetensors into a temporary
 * directory), it prints
 *   - file sizes: fp32 safetensors, fp32 / W8A8 / W4A4 .igq, and their ratios;
 *   - the time and peak RSS of what a process does at start without .igq files (load the
 *     safetensors and quantize W8A8 IGQ G=8 on 8 calibration images) against loading the
 *     W8A8 / W4A4 .igq (warm page cache; every section checksum verified).
 * Each measurement runs in a fresh process (this program re-executed with --child), so the
 * peak RSS (getrusage of the child) is that of the measured work alone; load times are the
 * median of 5 such processes.
 *   bench_igq [DIR]   DIR holds fmnist_vit.safetensors (default examples/data) */
#define _GNU_SOURCE 1 /* wait4 */
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "igq/igq.h"
#include "random_vit.h"

extern char **environ;

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

static void check(igq_status s, const char *what)
{
    if (s != IGQ_OK) {
        fprintf(stderr, "bench_igq: %s: %s (%s)\n", what, igq_strerror(s), igq_last_error());
        exit(1);
    }
}

static long long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/* ---- a timm-named F32 safetensors file of a model built in memory ----------------------- */

typedef struct st_out {
    FILE  *f;
    char  *hdr;
    size_t hn, hcap;
    size_t off;
} st_out;

static void hdr_add(st_out *o, const char *s)
{
    const size_t n = strlen(s);
    if (o->hn + n + 1 > o->hcap) {
        o->hcap = 2 * (o->hn + n + 1);
        o->hdr  = (char *)realloc(o->hdr, o->hcap);
        if (o->hdr == NULL) exit(1);
    }
    memcpy(o->hdr + o->hn, s, n + 1);
    o->hn += n;
}

/* Pass 0 writes the header entries, pass 1 the data, in the same order. */
static void put(st_out *o, int pass, const char *name, int nd, const int64_t *shape,
                const float *v, int transpose_in)
{
    int64_t n = 1;
    int     i;
    for (i = 0; i < nd; i++) n *= shape[i];
    if (pass == 0) {
        char e[256];
        snprintf(e, sizeof e, "%s\"%s\":{\"dtype\":\"F32\",\"shape\":[", o->hn > 1 ? "," : "",
                 name);
        hdr_add(o, e);
        for (i = 0; i < nd; i++) {
            snprintf(e, sizeof e, "%s%lld", i ? "," : "", (long long)shape[i]);
            hdr_add(o, e);
        }
        snprintf(e, sizeof e, "],\"data_offsets\":[%zu,%zu]}", o->off, o->off + (size_t)n * 4);
        hdr_add(o, e);
        o->off += (size_t)n * 4;
    } else if (transpose_in > 0) { /* wt [in][out] -> [out][in] */
        const int64_t in = transpose_in, out = n / in;
        int64_t       r, c;
        for (r = 0; r < out; r++)
            for (c = 0; c < in; c++) fwrite(&v[c * out + r], 4, 1, o->f);
    } else {
        fwrite(v, 4, (size_t)n, o->f);
    }
}

static void put_linear(st_out *o, int pass, const char *w, const char *b, const igq_linear *l)
{
    const int64_t sw[2] = {l->out, l->in}, sb[1] = {l->out};
    put(o, pass, w, 2, sw, l->wt, l->in);
    put(o, pass, b, 1, sb, l->b, 0);
}

static void write_safetensors(const struct igq_model *m, const char *path)
{
    const igq_vit_dims *d = &m->d;
    const int64_t       D = d->dim, vD[1] = {D}, s1[3] = {1, 1, D};
    const int64_t       sp[3] = {1, d->n_tokens, D};
    const int64_t       spw[4] = {D, d->in_chans, d->patch, d->patch};
    st_out              o;
    int                 pass, b;
    char                n1[96], n2[96], meta[128];
    memset(&o, 0, sizeof o);
    o.f = fopen(path, "wb");
    if (o.f == NULL) exit(1);
    snprintf(meta, sizeof meta, "{\"__metadata__\":{\"num_heads\":\"%d\"}", (int)d->heads);
    hdr_add(&o, meta);
    for (pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            uint64_t n;
            hdr_add(&o, "}");
            while (o.hn % 8) hdr_add(&o, " ");
            n = o.hn;
            fwrite(&n, 8, 1, o.f);
            fwrite(o.hdr, 1, o.hn, o.f);
        }
        {
            igq_linear pl = m->patch; /* conv weight [D][C][P][P] = [out][in] */
            put(&o, pass, "patch_embed.proj.weight", 4, spw, pl.wt, pl.in);
            put(&o, pass, "patch_embed.proj.bias", 1, vD, pl.b, 0);
        }
        put(&o, pass, "cls_token", 3, s1, m->prefix, 0);
        put(&o, pass, "pos_embed", 3, sp, m->pos, 0);
        for (b = 0; b < d->depth; b++) {
            const igq_block *k = &m->blocks[b];
#define NM(s) (snprintf(n1, sizeof n1, "blocks.%d.%s", b, s), n1)
#define NM2(s) (snprintf(n2, sizeof n2, "blocks.%d.%s", b, s), n2)
            put(&o, pass, NM("norm1.weight"), 1, vD, k->ln1_w, 0);
            put(&o, pass, NM("norm1.bias"), 1, vD, k->ln1_b, 0);
            put_linear(&o, pass, NM("attn.qkv.weight"), NM2("attn.qkv.bias"), &k->qkv);
            put_linear(&o, pass, NM("attn.proj.weight"), NM2("attn.proj.bias"), &k->proj);
            put(&o, pass, NM("norm2.weight"), 1, vD, k->ln2_w, 0);
            put(&o, pass, NM("norm2.bias"), 1, vD, k->ln2_b, 0);
            put_linear(&o, pass, NM("mlp.fc1.weight"), NM2("mlp.fc1.bias"), &k->fc1);
            put_linear(&o, pass, NM("mlp.fc2.weight"), NM2("mlp.fc2.bias"), &k->fc2);
#undef NM
#undef NM2
        }
        put(&o, pass, "norm.weight", 1, vD, m->norm_w, 0);
        put(&o, pass, "norm.bias", 1, vD, m->norm_b, 0);
        put_linear(&o, pass, "head.weight", "head.bias", &m->head);
    }
    fclose(o.f);
    free(o.hdr);
}

/* ---- the measured work (child processes) -------------------------------------------------- */

static igq_tensor *calib_images(const igq_model *m, int64_t n)
{
    int64_t     c, h, w, shape[4], i;
    igq_tensor *t = NULL;
    igq_model_info(m, IGQ_PROP_IN_CHANNELS, &c);
    igq_model_info(m, IGQ_PROP_IMAGE_HEIGHT, &h);
    igq_model_info(m, IGQ_PROP_IMAGE_WIDTH, &w);
    shape[0] = n, shape[1] = c, shape[2] = h, shape[3] = w;
    check(igq_tensor_create(IGQ_DTYPE_F32, 4, shape, &t), "tensor");
    for (i = 0; i < igq_tensor_numel(t); i++) ((float *)igq_tensor_data(t))[i] = randn();
    return t;
}

static igq_model *quantize(const igq_model *fp, int bits)
{
    igq_config *c  = NULL;
    igq_model  *q  = NULL;
    igq_tensor *im = calib_images(fp, 8);
    check(igq_config_create(&c), "config");
    check(igq_config_set(c, IGQ_OPT_WEIGHT_BITS, bits), "config");
    check(igq_config_set(c, IGQ_OPT_ACT_BITS, bits), "config");
    check(igq_quantize_model(fp, im, c, &q), "quantize");
    igq_config_free(c);
    igq_tensor_free(im);
    return q;
}

/* --child load FILE | --child quantize FILE: prints the milliseconds of the work. */
static int child(const char *mode, const char *path)
{
    igq_model *m = NULL, *q = NULL;
    double     t0 = now_ms(), t1;
    check(igq_model_load(path, &m), path);
    if (strcmp(mode, "quantize") == 0) q = quantize(m, 8);
    t1 = now_ms();
    {
        /* VmHWM: peak RSS of this process image (getrusage's ru_maxrss would also count the
         * parent's pages when the spawn shares its memory until exec) */
        FILE *f  = fopen("/proc/self/status", "r");
        char  line[256];
        long  hwm = -1;
        while (f != NULL && fgets(line, sizeof line, f) != NULL)
            if (strncmp(line, "VmHWM:", 6) == 0) hwm = atol(line + 6);
        if (f != NULL) fclose(f);
        printf("%.3f %ld\n", t1 - t0, hwm);
    }
    igq_model_free(q);
    igq_model_free(m);
    return 0;
}

typedef struct run {
    double ms, rss_mb;
} run;

/* Runs this program with --child mode path; returns its time and peak RSS. */
static run spawn_child(const char *self, const char *mode, const char *path)
{
    char         *argv[5];
    int           pipefd[2], status;
    pid_t         pid;
    struct rusage ru;
    char          buf[64] = {0};
    ssize_t       got;
    run           r = {-1.0, -1.0};
    posix_spawn_file_actions_t fa;
    argv[0] = (char *)(uintptr_t)self;
    argv[1] = (char *)(uintptr_t)"--child";
    argv[2] = (char *)(uintptr_t)mode;
    argv[3] = (char *)(uintptr_t)path;
    argv[4] = NULL;
    if (pipe(pipefd) != 0) exit(1);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
    posix_spawn_file_actions_addclose(&fa, pipefd[0]);
    if (posix_spawn(&pid, self, &fa, NULL, argv, environ) != 0) exit(1);
    posix_spawn_file_actions_destroy(&fa);
    close(pipefd[1]);
    got = read(pipefd[0], buf, sizeof buf - 1);
    close(pipefd[0]);
    if (wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
        got <= 0) {
        fprintf(stderr, "bench_igq: child %s %s failed\n", mode, path);
        exit(1);
    }
    {
        char *end;
        r.ms     = strtod(buf, &end);
        r.rss_mb = strtod(end, NULL) / 1024.0;
    }
    return r;
}

static int cmp_run(const void *a, const void *b)
{
    const double x = ((const run *)a)->ms, y = ((const run *)b)->ms;
    return x < y ? -1 : x > y;
}

/* Median time (and the largest peak RSS) of n child runs. */
static run measure(const char *self, const char *mode, const char *path, int n)
{
    run r[9], out;
    int i;
    double rss = 0.0;
    for (i = 0; i < n; i++) {
        r[i] = spawn_child(self, mode, path);
        if (r[i].rss_mb > rss) rss = r[i].rss_mb;
    }
    qsort(r, (size_t)n, sizeof r[0], cmp_run);
    out        = r[n / 2];
    out.rss_mb = rss;
    return out;
}

/* ---- one model ---------------------------------------------------------------------------- */

static void bench_model(const char *self, const char *label, const char *st_path,
                        const char *tmp)
{
    char        p32[512], p8[512], p4[512];
    igq_model  *fp = NULL, *q8, *q4;
    long long   s_st, s32, s8, s4;
    run         base, l8, l4, l32;
    check(igq_model_load(st_path, &fp), st_path);
    snprintf(p32, sizeof p32, "%s/fp32.igq", tmp);
    snprintf(p8, sizeof p8, "%s/w8a8.igq", tmp);
    snprintf(p4, sizeof p4, "%s/w4a4.igq", tmp);
    q8 = quantize(fp, 8);
    q4 = quantize(fp, 4);
    check(igq_model_save(fp, p32), "save");
    check(igq_model_save(q8, p8), "save");
    check(igq_model_save(q4, p4), "save");
    igq_model_free(q4);
    igq_model_free(q8);
    igq_model_free(fp);
    s_st = file_size(st_path), s32 = file_size(p32), s8 = file_size(p8), s4 = file_size(p4);
    base = measure(self, "quantize", st_path, 1);
    l32  = measure(self, "load", p32, 5);
    l8   = measure(self, "load", p8, 5);
    l4   = measure(self, "load", p4, 5);
    printf("| %-10s | %8.2f | %8.2f (%.2fx) | %8.2f (%.3fx) | %8.2f (%.3fx) |\n", label,
           (double)s_st / 1e6, (double)s32 / 1e6, (double)s32 / (double)s_st, (double)s8 / 1e6,
           (double)s8 / (double)s_st, (double)s4 / 1e6, (double)s4 / (double)s_st);
    fprintf(stderr, "%s: safetensors + W8A8 quantization %.0f ms, %.1f MB peak RSS\n", label,
            base.ms, base.rss_mb);
    printf("|            | load + quantize W8A8: %.0f ms, %.1f MB RSS | .igq fp32: %.2f ms, "
           "%.1f MB | .igq W8A8: %.2f ms (%.2f %% of it), %.1f MB RSS (%.2fx file) | .igq W4A4: "
           "%.2f ms, %.1f MB RSS (%.2fx file) |\n",
           base.ms, base.rss_mb, l32.ms, l32.rss_mb, l8.ms, 100.0 * l8.ms / base.ms, l8.rss_mb,
           l8.rss_mb / ((double)s8 / 1048576.0), l4.ms, l4.rss_mb,
           l4.rss_mb / ((double)s4 / 1048576.0));
    fflush(stdout);
    unlink(p32);
    unlink(p8);
    unlink(p4);
}

int main(int argc, char **argv)
{
    const char *data = "examples/data";
    char        tmp[] = "/tmp/bench_igq.XXXXXX", path[600], self[4096];
    ssize_t     n;
    if (argc == 4 && strcmp(argv[1], "--child") == 0) return child(argv[2], argv[3]);
    if (argc > 1) data = argv[1];
    n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return 1;
    self[n] = 0;
    if (mkdtemp(tmp) == NULL) return 1;
    printf("bench_igq: libigq %s, ISA %s; sizes in MB (10^6 bytes), ratio to the fp32 "
           "safetensors;\ntimes: median of 5 fresh processes (quantization: one), warm page "
           "cache; RSS: peak of the process (MiB), ratio to the file (MiB)\n\n",
           igq_version_string(), igq_active_isa());
    printf("| model      | safetensors | .igq fp32 | .igq W8A8 | .igq W4A4 |\n|---|---|---|---|---|\n");
    snprintf(path, sizeof path, "%s/fmnist_vit.safetensors", data);
    bench_model(self, "fmnist", path, tmp);
    {
        struct { const char *label; int32_t dim, depth, heads; } nets[2] = {
            {"DeiT-S", 384, 12, 6}, {"ViT-B/16", 768, 12, 12}};
        int i;
        for (i = 0; i < 2; i++) {
            struct igq_model *m = random_vit(nets[i].dim, nets[i].depth, nets[i].heads);
            snprintf(path, sizeof path, "%s/%s.safetensors", tmp, i ? "vitb16" : "deits");
            write_safetensors(m, path);
            igq_model_free(m);
            bench_model(self, i ? "ViT-B/16" : "DeiT-S", path, tmp);
            unlink(path);
        }
    }
    rmdir(tmp);
    return 0;
}
