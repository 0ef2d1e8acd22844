/* igq report: per-layer profile of a model on this machine with its roofline (the survey's
 * roofline analysis of ViTs), time per stage and the groups IGQ chose per site, as a table on
 * stdout and an SVG picture. Uses the public profiling API (igq_session_set_profiling,
 * igq_session_profile, igq_session_profile_layer, igq_measure_machine).
 * SPDX-License-Identifier: MIT */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#ifdef IGQ_CLI_NO_REPORT
int cmd_report(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "igq report: not available in this build (built with IGQ_CLI_NO_REPORT)\n");
    return EXIT_FAIL;
}
#else

static const char report_usage[] =
    "igq report MODEL [--image IMAGE] [--svg OUT.svg] [--threads T] [--batch B] [--runs R]";

static const char report_help[] =
    "usage: igq report MODEL [options]\n\n"
    "Profiles the model layer by layer on this machine and prints one row per layer of the\n"
    "executor's last run:\n"
    "  layer      the layer's name in the checkpoint's terms (blocks.3.attn.qkv, ...)\n"
    "  kind       patch_embed, layernorm, quantize, linear, attention, gelu, residual, head\n"
    "  shape      a GEMM's M x N x K; other layers rows x columns (attention: tokens x tokens\n"
    "             x head dim, per head)\n"
    "  MOP        operations over the run, in millions (2 per multiply-add; estimates per\n"
    "             element for the others, see doc/profiling.md)\n"
    "  KB         bytes the layer must move at least (inputs, outputs, weights), in 1000 bytes\n"
    "  op/B       arithmetic intensity = operations / bytes\n"
    "  us         time over the run in microseconds (the fastest of --runs profiled runs)\n"
    "  GOP/s      operations / time\n"
    "  roof       the roofline's attainable GOP/s = min(compute peak, op/B x bandwidth)\n"
    "  %roof      GOP/s as a percentage of roof\n"
    "  bound      compute if op/B is at or above the ridge point (peak / bandwidth), else memory\n"
    "The compute peak is igq_measure_machine's int8 peak (integer executor) or fp32 FMA peak\n"
    "(fp32 and simulated executors) of one thread times --threads; the bandwidth is its\n"
    "memory read bandwidth. For a quantized model with group quantizers it also prints the\n"
    "groups chosen for the image at every IGQ site (igq_groups_compute: members per group).\n\n"
    "  --image IMAGE       the image to run (default: a deterministic synthetic image)\n"
    "  --svg OUT.svg       also draw the roofline (one point per layer, colored by kind), the\n"
    "                      time per kind and per block, and the groups per site\n"
    "  --threads T         threads of the session's pool, 1..256 (default 1)\n"
    "  --batch B           images per run, 1..4096 (default 1: the image repeated)\n"
    "  --runs R            profiled runs, the fastest time of each layer is kept, 1..1000\n"
    "                      (default 5)\n"
    "  --machine-seconds S time for igq_measure_machine, 0.05..10 (default 0.5)\n";

typedef struct layer {
    char          *name;
    igq_layer_kind kind;
    int64_t        shape[3], calls;
    double         ops, bytes, seconds;
} layer;

typedef struct site_groups {
    int32_t  block;
    igq_site site;
    int32_t  ngroups;
    int64_t  count;
    int64_t *sizes;
} site_groups;

#define NKINDS 8

static const char *const kind_color[NKINDS] = {"#8c564b", "#9467bd", "#ff7f0e", "#1f77b4",
                                               "#d62728", "#2ca02c", "#7f7f7f", "#17becf"};

static int kind_index(igq_layer_kind k)
{
    return (int)k >= 0 && (int)k < NKINDS ? (int)k : 0;
}

static void xml_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default:
            if ((unsigned char)*s >= 0x20 || *s == '\t') fputc(*s, f);
        }
    }
}

/* Group g of n as an RGB color: hues around the circle, full saturation, medium lightness. */
static void group_color(int g, int n, char *out)
{
    double h = 6.0 * (double)g / (double)(n > 0 ? n : 1), x = 1.0 - fabs(fmod(h, 2.0) - 1.0);
    double r = 0, gr = 0, b = 0;
    int    sector = (int)h;
    switch (sector) {
    case 0: r = 1, gr = x; break;
    case 1: r = x, gr = 1; break;
    case 2: gr = 1, b = x; break;
    case 3: gr = x, b = 1; break;
    case 4: r = x, b = 1; break;
    default: r = 1, b = x; break;
    }
    sprintf(out, "#%02x%02x%02x", (int)(40 + 180 * r), (int)(40 + 180 * gr), (int)(40 + 180 * b));
}

static int block_of(const char *name)
{
    const char *p = strstr(name, "blocks.");
    if (p == NULL) return -1;
    return atoi(p + 7);
}

typedef struct plot {
    double x0, y0, w, h, lx0, lx1, ly0, ly1; /* pixel box and log10 ranges */
} plot;

static double px(const plot *p, double v)
{
    return p->x0 + p->w * (log10(v) - p->lx0) / (p->lx1 - p->lx0);
}
static double py(const plot *p, double v)
{
    return p->y0 + p->h - p->h * (log10(v) - p->ly0) / (p->ly1 - p->ly0);
}

static int write_svg(const char *path, const char *model_name, const layer *ls, int64_t n,
                     double peak, double bw, const char *peak_what, int threads,
                     const site_groups *gs, int64_t ngs, int64_t depth, double run_seconds)
{
    FILE   *f = fopen(path, "w");
    double  ridge = peak / bw, imin = 1e300, imax = 0, pmin = 1e300, pmax = 0;
    double  kind_time[NKINDS] = {0}, total = 0, *block_time, maxt;
    int64_t i, j;
    int     k, present[NKINDS] = {0};
    plot    p;
    double  y, height;
    if (f == NULL) return cli_error("report", "cannot create '%s'", path);
    block_time = (double *)calloc((size_t)depth + 2, sizeof *block_time);
    if (block_time == NULL) {
        fclose(f);
        return cli_error("report", "out of memory");
    }
    for (i = 0; i < n; i++) {
        double in = ls[i].ops / ls[i].bytes, perf = ls[i].ops / ls[i].seconds / 1e9;
        int    b = block_of(ls[i].name);
        kind_time[kind_index(ls[i].kind)] += ls[i].seconds;
        present[kind_index(ls[i].kind)] = 1;
        total += ls[i].seconds;
        block_time[b >= 0 && b < depth ? b + 1 : 0] += ls[i].seconds;
        if (!(ls[i].ops > 0 && ls[i].bytes > 0 && ls[i].seconds > 0)) continue;
        if (in < imin) imin = in;
        if (in > imax) imax = in;
        if (perf < pmin) pmin = perf;
        if (perf > pmax) pmax = perf;
    }
    if (imax <= 0) imin = imax = ridge;
    if (pmax <= 0) pmin = pmax = peak;
    p.x0  = 90;
    p.y0  = 70;
    p.w   = 560;
    p.h   = 380;
    p.lx0 = floor(log10(fmin(imin, ridge / 4)));
    p.lx1 = ceil(log10(fmax(imax, ridge * 4)));
    p.ly1 = ceil(log10(fmax(peak, pmax) * 1.5));
    p.ly0 = floor(log10(fmin(pmin, bw * pow(10.0, p.lx0)) * 0.9));
    if (p.ly1 - p.ly0 < 2) p.ly0 = p.ly1 - 2;
    if (p.ly0 < p.ly1 - 8) p.ly0 = p.ly1 - 8;

    height = 70 + 380 + 80 + 30 + 24.0 * NKINDS + 40 + 30 + 200 + 60 +
             (ngs > 0 ? 60 + 26.0 * (double)(ngs / (depth > 0 ? depth : 1) + 1) : 40);
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"960\" height=\"%.0f\" "
               "viewBox=\"0 0 960 %.0f\" font-family=\"sans-serif\" font-size=\"12\">\n",
            height, height);
    fprintf(f, "<rect x=\"0\" y=\"0\" width=\"960\" height=\"%.0f\" fill=\"white\"/>\n", height);
    fprintf(f, "<text x=\"20\" y=\"28\" font-size=\"18\" font-weight=\"bold\">igq report: ");
    xml_text(f, model_name);
    fprintf(f, "</text>\n<text x=\"20\" y=\"48\">%s peak %.1f GOP/s (%d thread%s), memory "
               "%.1f GB/s, ridge %.2f op/B; run %.3f ms; libigq %s, ISA %s</text>\n",
            peak_what, peak, threads, threads == 1 ? "" : "s", bw, ridge, 1e3 * run_seconds,
            igq_version_string(), igq_active_isa());

    /* ---- roofline ---- */
    fprintf(f, "<g id=\"roofline\">\n<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
               "fill=\"none\" stroke=\"#000\"/>\n",
            p.x0, p.y0, p.w, p.h);
    for (k = (int)p.lx0; k <= (int)p.lx1; k++) {
        double xx = px(&p, pow(10.0, k));
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", xx,
                p.y0, xx, p.y0 + p.h);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%g</text>\n", xx,
                p.y0 + p.h + 16, pow(10.0, k));
    }
    for (k = (int)p.ly0; k <= (int)p.ly1; k++) {
        double yy = py(&p, pow(10.0, k));
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n",
                p.x0, yy, p.x0 + p.w, yy);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n", p.x0 - 6, yy + 4,
                pow(10.0, k));
    }
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">arithmetic intensity "
               "(operations / byte, log scale)</text>\n",
            p.x0 + p.w / 2, p.y0 + p.h + 36);
    fprintf(f, "<text x=\"20\" y=\"%.1f\" text-anchor=\"middle\" transform=\"rotate(-90 20 %.1f)\">"
               "GOP/s (log scale)</text>\n",
            p.y0 + p.h / 2, p.y0 + p.h / 2);
    {
        double xa = pow(10.0, p.lx0), ya = bw * xa, xb = pow(10.0, p.lx1);
        if (ya < pow(10.0, p.ly0)) {
            ya = pow(10.0, p.ly0);
            xa = ya / bw;
        }
        fprintf(f, "<polyline fill=\"none\" stroke=\"#000\" stroke-width=\"2.5\" "
                   "points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f\"/>\n",
                px(&p, xa), py(&p, ya), px(&p, ridge), py(&p, peak), px(&p, xb), py(&p, peak));
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">compute roof %.1f GOP/s</text>\n",
                p.x0 + p.w - 6, py(&p, peak) - 6, peak);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">memory roof %.1f GB/s</text>\n", px(&p, xa) + 6,
                py(&p, ya) - 8, bw);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999\" "
                   "stroke-dasharray=\"4 3\"/>\n",
                px(&p, ridge), py(&p, peak), px(&p, ridge), p.y0 + p.h);
    }
    for (i = 0; i < n; i++) {
        double in, perf;
        if (!(ls[i].ops > 0 && ls[i].bytes > 0 && ls[i].seconds > 0)) continue;
        in   = ls[i].ops / ls[i].bytes;
        perf = ls[i].ops / ls[i].seconds / 1e9;
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4.5\" fill=\"%s\" fill-opacity=\"0.8\" "
                   "stroke=\"#000\" stroke-width=\"0.5\"><title>",
                px(&p, in), py(&p, perf), kind_color[kind_index(ls[i].kind)]);
        xml_text(f, ls[i].name);
        fprintf(f, " (%s): %.3g op/B, %.3g GOP/s, %.1f us</title></circle>\n", kind_name(ls[i].kind),
                in, perf, 1e6 * ls[i].seconds);
    }
    for (k = 0, j = 0; k < NKINDS; k++) {
        if (!present[k]) continue;
        fprintf(f, "<circle cx=\"690\" cy=\"%.1f\" r=\"5\" fill=\"%s\"/><text x=\"702\" "
                   "y=\"%.1f\">%s</text>\n",
                p.y0 + 14 + 20.0 * (double)j, kind_color[k], p.y0 + 18 + 20.0 * (double)j,
                kind_name((igq_layer_kind)k));
        j++;
    }
    fprintf(f, "<text x=\"690\" y=\"%.1f\" fill=\"#555\">one point per layer</text>\n</g>\n",
            p.y0 + 18 + 20.0 * (double)j + 10);

    /* ---- time per kind ---- */
    y = p.y0 + p.h + 80;
    fprintf(f, "<g id=\"time-per-kind\">\n<text x=\"20\" y=\"%.1f\" font-size=\"15\" "
               "font-weight=\"bold\">Time per layer kind (sum over the run)</text>\n",
            y);
    y += 14;
    maxt = 0;
    for (k = 0; k < NKINDS; k++)
        if (kind_time[k] > maxt) maxt = kind_time[k];
    for (k = 0; k < NKINDS; k++) {
        double wbar = maxt > 0 ? 520.0 * kind_time[k] / maxt : 0;
        if (!present[k]) continue;
        fprintf(f, "<text x=\"150\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", y + 13,
                kind_name((igq_layer_kind)k));
        fprintf(f, "<rect x=\"160\" y=\"%.1f\" width=\"%.1f\" height=\"16\" fill=\"%s\"/>\n", y,
                wbar, kind_color[k]);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">%.3f ms (%.1f %%)</text>\n", 166 + wbar, y + 13,
                1e3 * kind_time[k], total > 0 ? 100.0 * kind_time[k] / total : 0.0);
        y += 24;
    }
    fprintf(f, "</g>\n");

    /* ---- time per block ---- */
    y += 30;
    fprintf(f, "<g id=\"time-per-block\">\n<text x=\"20\" y=\"%.1f\" font-size=\"15\" "
               "font-weight=\"bold\">Time per stage (patch embedding and head as 'other', then "
               "each block)</text>\n",
            y);
    y += 20;
    maxt = 0;
    for (i = 0; i <= depth; i++)
        if (block_time[i] > maxt) maxt = block_time[i];
    {
        double bwid = depth + 1 > 0 ? fmin(60.0, 840.0 / (double)(depth + 1)) : 60.0;
        for (i = 0; i <= depth; i++) {
            double hb = maxt > 0 ? 160.0 * block_time[i] / maxt : 0, xb = 80 + bwid * (double)i;
            fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">"
                       "<title>%s%lld: %.3f ms</title></rect>\n",
                    xb, y + 160 - hb, bwid * 0.8, hb, i == 0 ? "#bbb" : "#1f77b4",
                    i == 0 ? "other" : "block ", (long long)(i == 0 ? 0 : i - 1),
                    1e3 * block_time[i]);
            if (depth <= 32 || i % 4 == 0) {
                if (i == 0)
                    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">other</text>\n",
                            xb + bwid * 0.4, y + 176);
                else
                    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%lld</text>\n",
                            xb + bwid * 0.4, y + 176, (long long)(i - 1));
            }
        }
        fprintf(f, "<text x=\"70\" y=\"%.1f\" text-anchor=\"end\">%.3f ms</text>\n", y + 10,
                1e3 * maxt);
        fprintf(f, "<line x1=\"76\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#000\"/>\n",
                y + 160, 80 + bwid * (double)(depth + 1), y + 160);
    }
    fprintf(f, "</g>\n");
    y += 200;

    /* ---- groups per site ---- */
    y += 30;
    fprintf(f, "<g id=\"groups\">\n<text x=\"20\" y=\"%.1f\" font-size=\"15\" "
               "font-weight=\"bold\">Groups chosen for the image per site (members per group, "
               "one color per group)</text>\n",
            y);
    y += 16;
    if (ngs == 0) {
        fprintf(f, "<text x=\"20\" y=\"%.1f\">no group-quantized site (fp32 model, or tensor / "
                   "channel granularity)</text>\n",
                y + 14);
    } else {
        /* rows: sites in the order met; columns: blocks */
        igq_site rows[16];
        int      nrows = 0, r;
        double   cw    = fmin(120.0, 800.0 / (double)(depth > 0 ? depth : 1));
        for (i = 0; i < ngs; i++) {
            for (r = 0; r < nrows; r++)
                if (rows[r] == gs[i].site) break;
            if (r == nrows && nrows < 16) rows[nrows++] = gs[i].site;
        }
        for (j = 0; j < depth; j++)
            if (depth <= 32 || j % 4 == 0)
                fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">block %lld</text>\n",
                        110 + cw * ((double)j + 0.45), y + 12, (long long)j);
        y += 20;
        for (r = 0; r < nrows; r++) {
            fprintf(f, "<text x=\"100\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                    y + 26.0 * r + 14, site_name(rows[r]));
            for (i = 0; i < ngs; i++) {
                double xs = 110 + cw * gs[i].block, tot = 0, acc = 0;
                int    g;
                char   col[8];
                if (gs[i].site != rows[r]) continue;
                for (g = 0; g < gs[i].ngroups; g++) tot += (double)gs[i].sizes[g];
                for (g = 0; g < gs[i].ngroups && tot > 0; g++) {
                    double wseg = cw * 0.9 * (double)gs[i].sizes[g] / tot;
                    if (gs[i].sizes[g] == 0) continue;
                    group_color(g, gs[i].ngroups, col);
                    fprintf(f, "<rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"20\" "
                               "fill=\"%s\"><title>block %d %s: group %d of %d, %lld of %lld "
                               "members</title></rect>\n",
                            xs + acc, y + 26.0 * r, wseg, col, (int)gs[i].block,
                            site_name(gs[i].site), g, (int)gs[i].ngroups,
                            (long long)gs[i].sizes[g], (long long)gs[i].count);
                    acc += wseg;
                }
            }
        }
        fprintf(f, "<text x=\"20\" y=\"%.1f\" fill=\"#555\">each bar: the channels (attn: the "
                   "softmax rows of every head) of one site, split by the group quantizer each "
                   "was assigned to; hover for counts</text>\n",
                y + 26.0 * nrows + 14);
        { /* group colors */
            int g, ng = gs[0].ngroups;
            for (i = 1; i < ngs; i++)
                if (gs[i].ngroups > ng) ng = gs[i].ngroups;
            fprintf(f, "<text x=\"20\" y=\"%.1f\" fill=\"#555\">groups:</text>\n",
                    y + 26.0 * nrows + 36);
            for (g = 0; g < ng && g < 64; g++) {
                char col[8];
                group_color(g, ng, col);
                fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" fill=\"%s\"/>"
                           "<text x=\"%.1f\" y=\"%.1f\">%d</text>\n",
                        80.0 + 34.0 * g, y + 26.0 * nrows + 26, col, 95.0 + 34.0 * g,
                        y + 26.0 * nrows + 36, g);
            }
        }
    }
    fprintf(f, "</g>\n</svg>\n");
    free(block_time);
    if (ferror(f) | fclose(f)) return cli_error("report", "cannot write '%s'", path);
    return 0;
}

int cmd_report(int argc, char **argv)
{
    cli_args        a;
    const char     *image = NULL, *svg = NULL;
    int64_t         threads = 1, batch = 1, runs = 5, nl = 0, i, r, k = 0, depth = 0;
    double          msec = 0.5, i8 = 0, f32 = 0, bw = 0, peak, ridge, run_seconds = 0;
    double          tops = 0, tbytes = 0, tsec = 0;
    int             rc, int_exec = 0;
    igq_model      *m = NULL;
    igq_threadpool *pool = NULL;
    igq_session    *ses = NULL;
    igq_tensor     *x = NULL, *y = NULL, *one = NULL;
    layer          *ls = NULL;
    site_groups    *gs = NULL;
    int64_t         ngs = 0;
    igq_status      s;

    if ((rc = cli_init(&a, "report", report_usage, argc, argv)) != 0) return rc;
    while (cli_next(&a)) {
        rc = 0;
        if (cli_is(&a, "help")) {
            fputs(report_help, stdout);
            cli_free(&a);
            return EXIT_OK;
        } else if (cli_is(&a, "image")) {
            if ((image = cli_value(&a)) == NULL) rc = EXIT_USAGE;
        } else if (cli_is(&a, "svg")) {
            if ((svg = cli_value(&a)) == NULL) rc = EXIT_USAGE;
        } else if (cli_is(&a, "threads"))
            rc = cli_int(&a, 1, 256, &threads);
        else if (cli_is(&a, "batch"))
            rc = cli_int(&a, 1, 4096, &batch);
        else if (cli_is(&a, "runs"))
            rc = cli_int(&a, 1, 1000, &runs);
        else if (cli_is(&a, "machine-seconds"))
            rc = cli_double(&a, 0.05, 10.0, &msec);
        else
            rc = cli_unknown(&a);
        if (rc != 0) {
            cli_free(&a);
            return rc;
        }
    }
    if (a.npos != 1) {
        rc = cli_usage_error(&a, a.npos == 0 ? "missing MODEL" : "expects one MODEL");
        cli_free(&a);
        return rc;
    }
    rc = EXIT_FAIL;
    if (cli_load_model("report", a.pos[0], &m)) goto done;
    igq_model_info(m, IGQ_PROP_NUM_CLASSES, &k);
    igq_model_info(m, IGQ_PROP_DEPTH, &depth);
    if (igq_model_is_quantized(m) == 1) {
        igq_config *c  = NULL;
        int64_t     ex = IGQ_EXECUTOR_INT;
        if (igq_model_config(m, &c) == IGQ_OK) igq_config_get(c, IGQ_OPT_EXECUTOR, &ex);
        igq_config_free(c);
        int_exec = ex == IGQ_EXECUTOR_INT;
    }
    {
        int64_t ls2[2] = {batch, k};
        if ((s = model_batch(m, batch, &x)) != IGQ_OK ||
            (s = igq_tensor_create(IGQ_DTYPE_F32, 2, ls2, &y)) != IGQ_OK ||
            (s = model_batch(m, 1, &one)) != IGQ_OK ||
            (s = igq_session_create(m, &ses)) != IGQ_OK ||
            (threads > 1 && (s = igq_threadpool_create((int32_t)threads, &pool)) != IGQ_OK) ||
            (s = igq_session_set_threadpool(ses, pool)) != IGQ_OK ||
            (s = igq_session_reserve(ses, batch)) != IGQ_OK) {
            cli_lib_error("report", "setup", s);
            goto done;
        }
    }
    if (image != NULL) {
        if (image_file_preprocess("report", image, m, one, 0)) goto done;
    } else if (bench_fill_batch("report", m, one))
        goto done;
    {
        size_t bytes = (size_t)igq_tensor_numel(one) * sizeof(float);
        for (i = 0; i < batch; i++)
            memcpy((char *)igq_tensor_data(x) + (size_t)i * bytes, igq_tensor_data(one), bytes);
    }

    if ((s = igq_session_run(ses, x, y)) != IGQ_OK || /* warm-up, not profiled */
        (s = igq_session_set_profiling(ses, 1)) != IGQ_OK) {
        cli_lib_error("report", "inference", s);
        goto done;
    }
    for (r = 0; r < runs; r++) {
        int64_t n = 0, imgs = 0;
        double  secs = 0;
        if ((s = igq_session_run(ses, x, y)) != IGQ_OK ||
            (s = igq_session_profile(ses, &n, &imgs, &secs)) != IGQ_OK) {
            cli_lib_error("report", "profiled run", s);
            goto done;
        }
        if (r == 0) {
            nl = n;
            ls = (layer *)calloc((size_t)(n > 0 ? n : 1), sizeof *ls);
            if (ls == NULL) {
                cli_error("report", "out of memory");
                goto done;
            }
            run_seconds = secs;
        } else if (n != nl) {
            cli_error("report", "the profile changed its layer count between runs (%lld, %lld)",
                      (long long)nl, (long long)n);
            goto done;
        }
        if (secs < run_seconds) run_seconds = secs;
        for (i = 0; i < n; i++) {
            const char    *name = NULL;
            igq_layer_kind kind = IGQ_LAYER_INVALID;
            int64_t        shape[3] = {0, 0, 0}, calls = 0;
            double         ops = 0, bytes = 0, sec = 0;
            if ((s = igq_session_profile_layer(ses, i, &name, &kind, shape, &calls, &ops, &bytes,
                                               &sec)) != IGQ_OK) {
                cli_lib_error("report", "profile", s);
                goto done;
            }
            if (r == 0) {
                ls[i].name = (char *)malloc(strlen(name != NULL ? name : "?") + 1);
                if (ls[i].name == NULL) {
                    cli_error("report", "out of memory");
                    goto done;
                }
                strcpy(ls[i].name, name != NULL ? name : "?");
                ls[i].kind  = kind;
                memcpy(ls[i].shape, shape, sizeof shape);
                ls[i].calls   = calls;
                ls[i].ops     = ops;
                ls[i].bytes   = bytes;
                ls[i].seconds = sec;
            } else if (sec < ls[i].seconds)
                ls[i].seconds = sec;
        }
    }
    if ((s = igq_measure_machine(msec, &i8, &f32, &bw)) != IGQ_OK) {
        cli_lib_error("report", "machine measurement", s);
        goto done;
    }
    peak  = (int_exec ? i8 : f32) * (double)threads;
    ridge = bw > 0 ? peak / bw : 0;

    printf("model %s: %s, batch %lld, %lld thread%s, ISA %s, fastest of %lld profiled run%s\n",
           a.pos[0],
           igq_model_is_quantized(m) != 1 ? "fp32 executor"
           : int_exec                     ? "quantized, integer executor"
                                          : "quantized, simulated executor",
           (long long)batch, (long long)threads, threads == 1 ? "" : "s", igq_active_isa(),
           (long long)runs, runs == 1 ? "" : "s");
    printf("machine: int8 %.1f GOP/s, fp32 %.1f GFLOP/s per thread; memory %.1f GB/s; roof "
           "%.1f GOP/s (%s x %lld), ridge %.2f op/B\n",
           i8, f32, bw, peak, int_exec ? "int8" : "fp32", (long long)threads, ridge);
    printf("%3s  %-30s %-11s %-16s %10s %10s %8s %10s %8s %8s %6s  %s\n", "#", "layer", "kind",
           "shape", "MOP", "KB", "op/B", "us", "GOP/s", "roof", "%roof", "bound");
    for (i = 0; i < nl; i++) {
        const layer *l = &ls[i];
        char         shp[48];
        double       in   = l->bytes > 0 ? l->ops / l->bytes : 0;
        double       perf = l->seconds > 0 ? l->ops / l->seconds / 1e9 : 0;
        double       att  = fmin(peak, in * bw);
        if (l->shape[2] > 0)
            snprintf(shp, sizeof shp, "%lldx%lldx%lld", (long long)l->shape[0],
                     (long long)l->shape[1], (long long)l->shape[2]);
        else
            snprintf(shp, sizeof shp, "%lldx%lld", (long long)l->shape[0], (long long)l->shape[1]);
        printf("%3lld  %-30s %-11s %-16s %10.3f %10.2f %8.2f %10.1f %8.2f %8.2f %6.1f  %s\n",
               (long long)i, l->name, kind_name(l->kind), shp, l->ops / 1e6, l->bytes / 1e3, in,
               1e6 * l->seconds, perf, att, att > 0 ? 100.0 * perf / att : 0.0,
               in >= ridge ? "compute" : "memory");
        tops += l->ops;
        tbytes += l->bytes;
        tsec += l->seconds;
    }
    printf("     %-30s %-11s %-16s %10.3f %10.2f %8.2f %10.1f %8.2f\n", "total", "", "", tops / 1e6,
           tbytes / 1e3, tbytes > 0 ? tops / tbytes : 0.0, 1e6 * tsec,
           tsec > 0 ? tops / tsec / 1e9 : 0.0);
    printf("layers: %lld, run wall time %.3f ms (%.4f ms/image)\n", (long long)nl,
           1e3 * run_seconds, 1e3 * run_seconds / (double)batch);

    /* groups IGQ chose for the image at every group-quantized activation site */
    if (igq_model_is_quantized(m) == 1) {
        static const igq_site sites[] = {IGQ_SITE_QKV_IN, IGQ_SITE_Q,       IGQ_SITE_K,
                                         IGQ_SITE_ATTN,   IGQ_SITE_V,       IGQ_SITE_PROJ_IN,
                                         IGQ_SITE_FC1_IN, IGQ_SITE_FC2_IN};
        size_t                st;
        int64_t               b;
        gs = (site_groups *)calloc((size_t)(depth * 8 + 1), sizeof *gs);
        if (gs == NULL) {
            cli_error("report", "out of memory");
            goto done;
        }
        for (st = 0; st < sizeof sites / sizeof sites[0]; st++)
            for (b = 0; b < depth; b++) {
                const igq_quantizer *q = NULL;
                igq_groups          *g = NULL;
                site_groups         *e = &gs[ngs];
                if (igq_model_quantizer(m, (int32_t)b, sites[st], &q) != IGQ_OK ||
                    igq_quantizer_granularity(q) != IGQ_GRANULARITY_GROUP)
                    continue;
                if ((s = igq_groups_compute(m, one, (int32_t)b, sites[st], &g)) != IGQ_OK) {
                    cli_lib_error("report", "group assignment", s);
                    goto done;
                }
                e->block   = (int32_t)b;
                e->site    = sites[st];
                e->ngroups = igq_groups_num_groups(g);
                e->count   = igq_groups_count(g);
                e->sizes   = (int64_t *)calloc((size_t)(e->ngroups > 0 ? e->ngroups : 1),
                                               sizeof *e->sizes);
                if (e->sizes == NULL ||
                    (s = igq_groups_sizes(g, e->sizes, e->ngroups)) != IGQ_OK) {
                    igq_groups_free(g);
                    if (e->sizes == NULL)
                        cli_error("report", "out of memory");
                    else
                        cli_lib_error("report", "group sizes", s);
                    goto done;
                }
                igq_groups_free(g);
                ngs++;
            }
        if (ngs > 0) {
            printf("groups chosen for the image (members per group, group 0 first):\n");
            for (i = 0; i < ngs; i++) {
                int g;
                printf("  blocks.%d %-8s G=%-3d", (int)gs[i].block, site_name(gs[i].site),
                       (int)gs[i].ngroups);
                for (g = 0; g < gs[i].ngroups; g++) printf(" %lld", (long long)gs[i].sizes[g]);
                putchar('\n');
            }
        }
    }
    if (svg != NULL) {
        if (write_svg(svg, a.pos[0], ls, nl, peak, bw, int_exec ? "int8" : "fp32", (int)threads,
                      gs, ngs, depth, run_seconds))
            goto done;
        printf("wrote %s\n", svg);
    }
    rc = EXIT_OK;
done:
    if (ls != NULL)
        for (i = 0; i < nl; i++) free(ls[i].name);
    free(ls);
    if (gs != NULL)
        for (i = 0; i < ngs + 1 && i < depth * 8 + 1; i++) free(gs[i].sizes);
    free(gs);
    igq_tensor_free(x);
    igq_tensor_free(y);
    igq_tensor_free(one);
    igq_session_free(ses);
    igq_threadpool_free(pool);
    igq_model_free(m);
    cli_free(&a);
    return rc;
}
#endif
