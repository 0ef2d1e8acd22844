/* igq info MODEL: what a model is, how its images are prepared, what it was quantized with.
 * SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

static const char info_usage[] = "igq info MODEL";

static const char info_help[] =
    "usage: igq info MODEL\n\n"
    "Prints the architecture, the evaluation image transform (resize, interpolation, crop,\n"
    "mean/std), the class labels, the quantizer of every site (bits, granularity, groups) of a\n"
    "quantized model with the options it was made with, the file size, the parameter count\n"
    "and, for a .igq file, its provenance record.\n";

static const uint8_t igq_magic[8] = {0x89, 'I', 'G', 'Q', 0x0D, 0x0A, 0x1A, 0x0A};

static uint64_t le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    int      i;
    for (i = n - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

/* The PROV section of a .igq file (a JSON object, informative), printed as is; nothing if
 * absent. The file has been checked whole by igq_model_load; the bounds are checked again. */
static void print_provenance(FILE *f, long fsize)
{
    uint8_t  hdr[64], ent[32];
    uint64_t table, count, k;
    if (fseek(f, 0, SEEK_SET) != 0 || fread(hdr, 1, 64, f) != 64) return;
    table = le(hdr + 24, 8);
    count = le(hdr + 32, 4);
    if (count > 256 || table > (uint64_t)fsize) return;
    for (k = 0; k < count; k++) {
        uint64_t off, size;
        if (fseek(f, (long)(table + 32 * k), SEEK_SET) != 0 || fread(ent, 1, 32, f) != 32) return;
        if (memcmp(ent, "PROV", 4) != 0) continue;
        off  = le(ent + 8, 8);
        size = le(ent + 16, 8);
        if (off > (uint64_t)fsize || size > (uint64_t)fsize - off || size > 65536) return;
        {
            char    *buf = (char *)malloc((size_t)size + 1);
            uint64_t i;
            if (buf == NULL) return;
            if (fseek(f, (long)off, SEEK_SET) == 0 && fread(buf, 1, (size_t)size, f) == size) {
                printf("provenance:\n  ");
                for (i = 0; i < size && buf[i] != '\0'; i++)
                    putchar(buf[i] >= 0x20 && buf[i] < 0x7f ? buf[i] : ' ');
                putchar('\n');
            }
            free(buf);
        }
        return;
    }
}

static int64_t prop(const igq_model *m, igq_model_prop p)
{
    int64_t v = -1;
    igq_model_info(m, p, &v);
    return v;
}

/* One row of the quantizer table: a site over all blocks (block -1: an edge site). */
static void print_site_row(const igq_model *m, igq_site site, int64_t depth, int edge)
{
    int64_t b, first = edge ? -1 : 0, last = edge ? -1 : depth - 1;
    int32_t bits[4096], groups[4096];
    int     gran = -2, same_bits = 1, same_groups = 1, n = 0;
    for (b = first; b <= last && n < 4096; b++, n++) {
        const igq_quantizer *q = NULL;
        if (igq_model_quantizer(m, (int32_t)b, site, &q) != IGQ_OK) return; /* not quantized */
        bits[n]   = igq_quantizer_bits(q);
        groups[n] = igq_quantizer_num_groups(q);
        if (gran == -2) gran = (int)igq_quantizer_granularity(q);
        if (n > 0 && bits[n] != bits[0]) same_bits = 0;
        if (n > 0 && groups[n] != groups[0]) same_groups = 0;
    }
    printf("  %-17s", site_name(site));
    if (same_bits)
        printf(" %4d", (int)bits[0]);
    else
        printf("  mix");
    printf("  %-11s", granularity_name((igq_granularity)gran));
    if (same_groups) {
        if (gran == IGQ_GRANULARITY_CHANNEL && groups[0] == 0)
            printf(" dynamic (one per channel of each image)");
        else
            printf(" %d", (int)groups[0]);
        if (!edge && same_bits) printf("%s", depth > 1 ? " (every block)" : "");
    } else {
        int i;
        for (i = 0; i < n; i++) printf(" %d", (int)groups[i]);
    }
    if (!same_bits) {
        int i;
        printf("  bits:");
        for (i = 0; i < n; i++) printf(" %d", (int)bits[i]);
    }
    putchar('\n');
}

static void print_config(const igq_model *m)
{
    igq_config *c = NULL;
    int64_t     wb = 0, ab = 0, atb = 0, eb = 0, gran = 0, g = 0, budget = 0, cal = 0, wcal = 0,
            seed = 0, ex = 0, rank = 0, mp = 0, assign = 0;
    if (igq_model_config(m, &c) != IGQ_OK) return;
    igq_config_get(c, IGQ_OPT_WEIGHT_BITS, &wb);
    igq_config_get(c, IGQ_OPT_ACT_BITS, &ab);
    igq_config_get(c, IGQ_OPT_ATTN_BITS, &atb);
    igq_config_get(c, IGQ_OPT_EDGE_BITS, &eb);
    igq_config_get(c, IGQ_OPT_ACT_GRANULARITY, &gran);
    igq_config_get(c, IGQ_OPT_GROUPS, &g);
    igq_config_get(c, IGQ_OPT_GROUP_BUDGET, &budget);
    igq_config_get(c, IGQ_OPT_CALIBRATOR, &cal);
    igq_config_get(c, IGQ_OPT_WEIGHT_CALIBRATOR, &wcal);
    igq_config_get(c, IGQ_OPT_SEED, &seed);
    igq_config_get(c, IGQ_OPT_EXECUTOR, &ex);
    igq_config_get(c, IGQ_OPT_ATTN_RANKING, &rank);
    igq_config_get(c, IGQ_OPT_MIXED_PRECISION_BUDGET, &mp);
    igq_config_get(c, IGQ_OPT_GROUP_ASSIGNMENT, &assign);
    igq_config_free(c);
    printf("quantization: W%lldA%lld", (long long)wb, (long long)ab);
    if (atb != 0 && atb != ab) printf(" (softmax %lld bits)", (long long)atb);
    printf(", %s granularity", granularity_name((igq_granularity)gran));
    if (gran == IGQ_GRANULARITY_GROUP) {
        if (budget > 0)
            printf(", group budget %lld (G allocated per site)", (long long)budget);
        else
            printf(", G = %lld", (long long)g);
    }
    printf(", %s executor\n", ex == IGQ_EXECUTOR_INT ? "integer" : "simulated");
    printf("  options      edge bits %lld, calibrator %s, weight calibrator %s, seed %lld, "
           "assignment %s%s",
           (long long)eb, calibrator_name(cal), calibrator_name(wcal), (long long)seed,
           assign == IGQ_ASSIGN_NEAREST ? "nearest" : "cover", rank ? ", attention ranking" : "");
    if (mp > 0) printf(", mixed precision %.2f bits", (double)mp / 100.0);
    putchar('\n');
}

int cmd_info(int argc, char **argv)
{
    cli_args    a;
    igq_model  *m = NULL;
    int         rc;
    int64_t     c, h, w, p, d, depth, heads, mlp, k, prefix, tokens, i, nparams;
    float       mean[64], stdv[64], eps = 0;
    const char *label;
    struct stat st;
    FILE       *f;
    uint8_t     magic[8] = {0};
    int         is_igq = 0;

    memset(&st, 0, sizeof st);
    if ((rc = cli_init(&a, "info", info_usage, argc, argv)) != 0) return rc;
    while (cli_next(&a)) {
        if (cli_is(&a, "help")) {
            fputs(info_help, stdout);
            cli_free(&a);
            return EXIT_OK;
        }
        rc = cli_unknown(&a);
        cli_free(&a);
        return rc;
    }
    if (a.npos != 1) {
        rc = cli_usage_error(&a, a.npos == 0 ? "missing MODEL" : "expects one MODEL");
        cli_free(&a);
        return rc;
    }
    if (cli_load_model("info", a.pos[0], &m)) {
        cli_free(&a);
        return EXIT_FAIL;
    }
    c      = prop(m, IGQ_PROP_IN_CHANNELS);
    h      = prop(m, IGQ_PROP_IMAGE_HEIGHT);
    w      = prop(m, IGQ_PROP_IMAGE_WIDTH);
    p      = prop(m, IGQ_PROP_PATCH_SIZE);
    d      = prop(m, IGQ_PROP_EMBED_DIM);
    depth  = prop(m, IGQ_PROP_DEPTH);
    heads  = prop(m, IGQ_PROP_HEADS);
    mlp    = prop(m, IGQ_PROP_MLP_DIM);
    k      = prop(m, IGQ_PROP_NUM_CLASSES);
    prefix = prop(m, IGQ_PROP_PREFIX_TOKENS);
    tokens = prop(m, IGQ_PROP_NUM_TOKENS);
    igq_model_layer_norm_eps(m, &eps);

    f = fopen(a.pos[0], "rb");
    if (f != NULL) {
        is_igq = fread(magic, 1, 8, f) == 8 && memcmp(magic, igq_magic, 8) == 0;
    }
    printf("model: %s\n", a.pos[0]);
    printf("format: %s, %s\n", is_igq ? ".igq file" : "checkpoint",
           igq_model_is_quantized(m) == 1 ? "quantized" : "fp32");
    printf("architecture: ViT\n");
    printf("  image        %lldx%lld, %lld channel%s\n", (long long)h, (long long)w, (long long)c,
           c == 1 ? "" : "s");
    printf("  patch        %lld (%lld patches + %lld prefix token%s = %lld tokens)\n", (long long)p,
           (long long)(tokens - prefix), (long long)prefix, prefix == 1 ? "" : "s",
           (long long)tokens);
    printf("  embed dim    %lld\n  depth        %lld\n  heads        %lld (head dim %lld)\n",
           (long long)d, (long long)depth, (long long)heads, (long long)(heads > 0 ? d / heads : 0));
    printf("  mlp dim      %lld\n  classes      %lld\n  layernorm eps %g\n", (long long)mlp,
           (long long)k, (double)eps);

    {
        int64_t mode = prop(m, IGQ_PROP_RESIZE_MODE), rh = prop(m, IGQ_PROP_RESIZE_HEIGHT),
                rw = prop(m, IGQ_PROP_RESIZE_WIDTH), interp = prop(m, IGQ_PROP_INTERPOLATION);
        printf("preprocessing (%s):\n", prop(m, IGQ_PROP_PREPROC_DECLARED) == 1
                                            ? "declared by the model"
                                            : "default of its naming scheme");
        printf("  resize       ");
        switch (mode) {
        case 0: printf("none\n"); break;
        case 1: printf("shorter side to %lld\n", (long long)rh); break;
        case 2: printf("to %lldx%lld\n", (long long)rh, (long long)rw); break;
        case 3: printf("keep aspect ratio, to fit %lldx%lld\n", (long long)rh, (long long)rw); break;
        default: printf("mode %lld\n", (long long)mode); break;
        }
        printf("  interpolation %s\n", interp == 2 ? "bilinear" : interp == 3 ? "bicubic" : "?");
        printf("  crop         center %lldx%lld\n", (long long)h, (long long)w);
        if (c <= 64 && igq_model_normalization(m, mean, stdv, 64) == IGQ_OK) {
            printf("  mean        ");
            for (i = 0; i < c; i++) printf(" %.4f", (double)mean[i]);
            printf("\n  std         ");
            for (i = 0; i < c; i++) printf(" %.4f", (double)stdv[i]);
            putchar('\n');
        } else
            printf("  mean/std     not declared (igq_image_preprocess uses its documented default)\n");
    }

    if (igq_model_label(m, 0, &label) == IGQ_OK) {
        printf("labels: %lld (", (long long)k);
        for (i = 0; i < k && i < 5; i++) {
            igq_model_label(m, i, &label);
            printf("%s%s", i ? ", " : "", label);
        }
        printf("%s)\n", k > 5 ? ", ..." : "");
    } else
        printf("labels: none (classes are shown as numbers)\n");

    if (igq_model_is_quantized(m) == 1) {
        static const igq_site block_sites[] = {
            IGQ_SITE_QKV_IN, IGQ_SITE_Q, IGQ_SITE_K, IGQ_SITE_ATTN, IGQ_SITE_V,
            IGQ_SITE_PROJ_IN, IGQ_SITE_FC1_IN, IGQ_SITE_FC2_IN, IGQ_SITE_QKV_WEIGHT,
            IGQ_SITE_PROJ_WEIGHT, IGQ_SITE_FC1_WEIGHT, IGQ_SITE_FC2_WEIGHT};
        static const igq_site edge_sites[] = {IGQ_SITE_PATCH_IN, IGQ_SITE_PATCH_WEIGHT,
                                              IGQ_SITE_HEAD_IN, IGQ_SITE_HEAD_WEIGHT,
                                              IGQ_SITE_HEAD_DIST_WEIGHT};
        size_t s;
        print_config(m);
        printf("  site              bits  granularity groups\n");
        for (s = 0; s < sizeof block_sites / sizeof block_sites[0]; s++)
            print_site_row(m, block_sites[s], depth, 0);
        for (s = 0; s < sizeof edge_sites / sizeof edge_sites[0]; s++)
            print_site_row(m, edge_sites[s], depth, 1);
    } else
        printf("quantization: none (fp32)\n");

    /* Parameters of the standard ViT layout: patch embedding, prefix tokens, position
     * embedding, per block 2 LayerNorms + qkv + proj + fc1 + fc2, final LayerNorm, head. */
    nparams = c * p * p * d + d + prefix * d + tokens * d +
              depth * (4 * d + 3 * d * d + 3 * d + d * d + d + d * mlp + mlp + mlp * d + d) +
              2 * d + d * k + k;
    printf("sizes:\n");
    if (f != NULL && fstat(fileno(f), &st) == 0)
        printf("  file         %lld bytes (%.2f MB)\n", (long long)st.st_size,
               (double)st.st_size / 1e6);
    printf("  parameters   %lld (standard ViT layout; %.2f MB as fp32)\n", (long long)nparams,
           4.0 * (double)nparams / 1e6);
    if (f != NULL) {
        if (is_igq) print_provenance(f, (long)st.st_size);
        fclose(f);
    }
    igq_model_free(m);
    cli_free(&a);
    return EXIT_OK;
}
