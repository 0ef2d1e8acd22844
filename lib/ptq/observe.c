/* Observation: one fp32 pass over the calibration images with a hook at every quantization
 * site, recording what the later stages calibrate from: a reservoir sample of values (for
 * per-tensor calibrators), per-image (min, max) points of channels or softmax rows (for
 * k-means group calibration), and whole views of the first images where VT-PTQ needs them. */
#include <string.h>

#include "../core/alloc.h"
#include "../core/error.h"
#include "ptq_internal.h"

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1Dull;
}

static void observe_hook(void *ctx, int64_t image, int32_t block, int32_t site, int32_t head,
                         float *x, int64_t rows, int64_t cols, int64_t ld)
{
    igq_obs      *o = (igq_obs *)ctx;
    igq_site_obs *s = igq__obs_at(o, block, site);
    int64_t       r, c;
    if (o->failed) return;
    /* Reservoir sample (deterministic: the forward visits values in a fixed order). */
    if (s->samples == NULL) {
        s->samples = (float *)igq__malloc(IGQ__PTQ_RESERVOIR * sizeof(float));
        if (s->samples == NULL) {
            o->failed = 1;
            return;
        }
    }
    for (r = 0; r < rows; r++)
        for (c = 0; c < cols; c++) {
            float v = x[r * ld + c];
            s->n_seen++;
            if (s->n_kept < IGQ__PTQ_RESERVOIR) {
                s->samples[s->n_kept++] = v;
            } else {
                uint64_t j = rng_next(&s->rng) % (uint64_t)s->n_seen;
                if (j < IGQ__PTQ_RESERVOIR) s->samples[j] = v;
            }
        }
    /* (min, max) points of channels (attention: rows). */
    if (block >= 0 && igq__ptq_is_group_site(site)) {
        int64_t need = site == IGQ__SITE_ATTN ? rows : cols;
        if (s->n_pts + need > s->cap_pts) {
            o->failed = 1;
            return;
        }
        if (site == IGQ__SITE_ATTN) {
            for (r = 0; r < rows; r++) {
                float m = x[r * ld], M = m;
                for (c = 1; c < cols; c++) {
                    m = x[r * ld + c] < m ? x[r * ld + c] : m;
                    M = x[r * ld + c] > M ? x[r * ld + c] : M;
                }
                s->pm[s->n_pts]   = m;
                s->pM[s->n_pts++] = M;
            }
        } else {
            float *pm = s->pm + s->n_pts, *pM = s->pM + s->n_pts;
            for (c = 0; c < cols; c++) pm[c] = pM[c] = x[c];
            for (r = 1; r < rows; r++)
                for (c = 0; c < cols; c++) {
                    float v = x[r * ld + c];
                    pm[c]   = v < pm[c] ? v : pm[c];
                    pM[c]   = v > pM[c] ? v : pM[c];
                }
            s->n_pts += cols;
        }
    }
    /* Keep whole views of the first images where a later stage needs them. */
    image += o->base;
    if (s->keep != NULL && image < o->n_keep && head < 0) {
        float *dst = s->keep + (size_t)image * rows * cols;
        for (r = 0; r < rows; r++) memcpy(dst + r * cols, x + r * ld, (size_t)cols * sizeof(float));
        s->keep_rows = rows;
        s->keep_cols = cols;
        if (image + 1 > s->keep_n) s->keep_n = image + 1;
    }
}

/* Buffers of one site: the sampler's seed (from IGQ_OPT_SEED and the site), room for the
 * (min, max) points of every calibration image, and the kept views. */
static igq_status site_init(igq_ptq *p, int32_t b, int32_t site)
{
    const igq_vit_dims *d = p->obs.d;
    igq_site_obs       *o = igq__obs_at(&p->obs, b, site);
    int64_t             T = d->n_tokens, view = 0;
    o->rng = 0x9E3779B97F4A7C15ull ^ ((uint64_t)p->cfg->v[IGQ_OPT_SEED] * 0x100000001B3ull) ^
             ((uint64_t)(b + 1) * 131u + (uint64_t)site);
    if (o->rng == 0) o->rng = 1;
    if (b >= 0 && igq__ptq_is_group_site(site)) {
        o->cap_pts = p->n_calib * (site == IGQ__SITE_ATTN ? (int64_t)d->heads * T
                                                          : igq__ptq_site_cin(d, site));
        o->pm      = (float *)igq__malloc((size_t)o->cap_pts * sizeof(float));
        o->pM      = (float *)igq__malloc((size_t)o->cap_pts * sizeof(float));
        IGQ_CHECK(o->pm && o->pM, IGQ_ERR_NO_MEMORY, "igq_quantize_model: out of memory");
    }
    if (b >= 0 && p->obs.keep_qk && (site == IGQ__SITE_Q || site == IGQ__SITE_K)) view = T * d->dim;
    if (b >= 0 && p->obs.keep_inputs && igq__ptq_is_linear_input(site))
        view = T * igq__ptq_site_cin(d, site);
    if (view > 0) {
        o->keep = (float *)igq__malloc((size_t)(p->obs.n_keep * view) * sizeof(float));
        IGQ_CHECK(o->keep != NULL, IGQ_ERR_NO_MEMORY, "igq_quantize_model: out of memory");
    }
    return IGQ_OK;
}

igq_status igq__ptq_observe(igq_ptq *p)
{
    const igq_vit_dims *d     = &p->fp->d;
    const int64_t       chunk = igq__forward_chunk(d, p->n_calib);
    const size_t        img   = (size_t)d->in_chans * d->img_h * d->img_w;
    igq_site_hook       hook;
    int32_t             b, site;
    int64_t             i;
    p->obs.s = (igq_site_obs *)igq__calloc((size_t)(d->depth + 1) * IGQ__N_SITES,
                                           sizeof(igq_site_obs));
    IGQ_CHECK(p->obs.s != NULL, IGQ_ERR_NO_MEMORY, "igq_quantize_model: out of memory");
    p->obs.d           = d;
    p->obs.n_keep      = p->n_calib < IGQ__PTQ_KEEP_IMAGES ? p->n_calib : IGQ__PTQ_KEEP_IMAGES;
    p->obs.keep_qk     = p->cfg->v[IGQ_OPT_ATTN_RANKING] != 0;
    p->obs.keep_inputs = p->cfg->v[IGQ_OPT_MIXED_PRECISION_BUDGET] != 0;
    for (b = -1; b < d->depth; b++)
        for (site = 0; site < IGQ__N_SITES; site++) IGQ_TRY(site_init(p, b, site));
    /* Chunk by chunk, for progress. */
    hook.fn  = observe_hook;
    hook.ctx = &p->obs;
    for (i = 0; i < p->n_calib; i += chunk) {
        int64_t n   = p->n_calib - i < chunk ? p->n_calib - i : chunk;
        p->obs.base = i; /* the hook sees indices within this call */
        igq__forward_out(p->fp, p->calib + (size_t)i * img, n,
                         p->fp_logits + (size_t)i * igq__out_width(d), p->scratch, &hook);
        IGQ_TRY(igq__ptq_progress(p, "observe", (double)(i + n) / (double)p->n_calib));
    }
    IGQ_CHECK(!p->obs.failed, IGQ_ERR_NO_MEMORY,
              "igq_quantize_model: out of memory while observing");
    return IGQ_OK;
}

void igq__ptq_obs_free(igq_obs *o, int32_t depth)
{
    size_t i;
    if (o->s == NULL) return;
    for (i = 0; i < (size_t)(depth + 1) * IGQ__N_SITES; i++) {
        igq__free(o->s[i].samples);
        igq__free(o->s[i].pm);
        igq__free(o->s[i].pM);
        igq__free(o->s[i].keep);
    }
    igq__free(o->s);
    o->s = NULL;
}
