/* Model lifetime: destroy and deep copy. */
#include <stdint.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/error.h"
#include "../io/file.h"
#include "qmodel.h"
#include "vit.h"

static void linear_free(igq_linear *l)
{
    igq__free(l->wt);
    igq__free(l->b);
}

void igq__model_destroy(struct igq_model *m)
{
    int32_t i;
    if (m == NULL) return;
    if (m->backing == NULL) { /* arrays of a loaded .igq live in its mapping */
        linear_free(&m->patch);
        igq__free(m->prefix);
        igq__free(m->pos);
        for (i = 0; m->blocks != NULL && i < m->d.depth; i++) {
            igq_block *b = &m->blocks[i];
            igq__free(b->ln1_w);
            igq__free(b->ln1_b);
            linear_free(&b->qkv);
            linear_free(&b->proj);
            igq__free(b->ls1);
            igq__free(b->ln2_w);
            igq__free(b->ln2_b);
            linear_free(&b->fc1);
            linear_free(&b->fc2);
            igq__free(b->ls2);
        }
        igq__free(m->norm_w);
        igq__free(m->norm_b);
        igq__free(m->fc_norm_w);
        igq__free(m->fc_norm_b);
        linear_free(&m->head);
        linear_free(&m->head_dist);
        igq__free(m->mean);
        igq__free(m->std);
    }
    igq__free(m->blocks);
    igq__qstate_free(m->q); /* before the mapping: the executor's packed weights are in it */
    if (m->backing != NULL) {
        igq__map_release(m->backing);
        igq__free(m->backing);
    }
    igq__free(m->src_name);
    igq__free((void *)(uintptr_t)m->labels);
    igq__free(m->label_blob);
    igq__free(m);
}

int igq__model_set_labels(struct igq_model *m, const char *const *names, int32_t n)
{
    size_t  total = 0, at = 0;
    int32_t i;
    char   *blob;
    const char **ptr;
    for (i = 0; i < n; i++) total += strlen(names[i]) + 1;
    ptr  = (const char **)igq__malloc((size_t)(n > 0 ? n : 1) * sizeof *ptr);
    blob = (char *)igq__malloc(total > 0 ? total : 1);
    if (ptr == NULL || blob == NULL) {
        igq__free((void *)(uintptr_t)ptr);
        igq__free(blob);
        return 0;
    }
    for (i = 0; i < n; i++) {
        const size_t k = strlen(names[i]) + 1;
        memcpy(blob + at, names[i], k);
        ptr[i] = blob + at;
        at += k;
    }
    igq__free((void *)(uintptr_t)m->labels);
    igq__free(m->label_blob);
    m->labels     = ptr;
    m->label_blob = blob;
    m->n_labels   = n;
    return 1;
}

/* Copies n floats (NULL stays NULL); returns 0 on allocation failure. */
static int dup_floats(float **dst, const float *src, size_t n)
{
    *dst = NULL;
    if (src == NULL) return 1;
    *dst = (float *)igq__malloc(n * sizeof(float));
    if (*dst == NULL) return 0;
    memcpy(*dst, src, n * sizeof(float));
    return 1;
}

static int dup_linear(igq_linear *dst, const igq_linear *src)
{
    *dst    = *src;
    dst->wt = NULL;
    dst->b  = NULL;
    return dup_floats(&dst->wt, src->wt, (size_t)src->in * src->out) &&
           dup_floats(&dst->b, src->b, (size_t)src->out);
}

igq_status igq__model_clone(const struct igq_model *src, struct igq_model **out)
{
    struct igq_model   *m = (struct igq_model *)igq__calloc(1, sizeof *m);
    const igq_vit_dims *d = &src->d;
    const size_t        D = (size_t)d->dim;
    int                 ok;
    int32_t             i;
    *out = NULL;
    IGQ_CHECK(m != NULL, IGQ_ERR_NO_MEMORY, "out of memory");
    m->d              = src->d;
    m->has_norm_stats = src->has_norm_stats;
    m->has_preproc    = src->has_preproc;
    m->preproc        = src->preproc;
    m->src_size       = src->src_size;
    if (src->src_name != NULL) {
        const size_t n = strlen(src->src_name) + 1;
        m->src_name    = (char *)igq__malloc(n);
        if (m->src_name == NULL) {
            igq__free(m);
            return igq__set_error(IGQ_ERR_NO_MEMORY, "out of memory while copying the model");
        }
        memcpy(m->src_name, src->src_name, n);
    }
    if (src->n_labels > 0 && !igq__model_set_labels(m, src->labels, src->n_labels)) {
        igq__free(m->src_name);
        igq__free(m);
        return igq__set_error(IGQ_ERR_NO_MEMORY, "out of memory while copying the model");
    }
    m->blocks         = (igq_block *)igq__calloc((size_t)d->depth, sizeof(igq_block));
    /* Record the depth only once blocks exist, so a partial copy frees cleanly. */
    ok = m->blocks != NULL;
    if (!ok) m->d.depth = 0;
    ok = ok && dup_linear(&m->patch, &src->patch) &&
         dup_floats(&m->prefix, src->prefix, (size_t)d->n_prefix * D) &&
         dup_floats(&m->pos, src->pos,
                    (size_t)(d->pos_has_prefix ? d->n_tokens : d->n_patches) * D) &&
         dup_floats(&m->norm_w, src->norm_w, D) && dup_floats(&m->norm_b, src->norm_b, D) &&
         dup_floats(&m->fc_norm_w, src->fc_norm_w, D) &&
         dup_floats(&m->fc_norm_b, src->fc_norm_b, D) && dup_linear(&m->head, &src->head) &&
         dup_linear(&m->head_dist, &src->head_dist) &&
         dup_floats(&m->mean, src->mean, (size_t)d->in_chans) &&
         dup_floats(&m->std, src->std, (size_t)d->in_chans);
    for (i = 0; ok && i < d->depth; i++) {
        const igq_block *s = &src->blocks[i];
        igq_block       *b = &m->blocks[i];
        ok = dup_floats(&b->ln1_w, s->ln1_w, D) && dup_floats(&b->ln1_b, s->ln1_b, D) &&
             dup_linear(&b->qkv, &s->qkv) && dup_linear(&b->proj, &s->proj) &&
             dup_floats(&b->ls1, s->ls1, D) && dup_floats(&b->ln2_w, s->ln2_w, D) &&
             dup_floats(&b->ln2_b, s->ln2_b, D) && dup_linear(&b->fc1, &s->fc1) &&
             dup_linear(&b->fc2, &s->fc2) && dup_floats(&b->ls2, s->ls2, D);
    }
    if (!ok) {
        igq__model_destroy(m);
        return igq__set_error(IGQ_ERR_NO_MEMORY, "out of memory while copying the model");
    }
    *out = m;
    return IGQ_OK;
}
