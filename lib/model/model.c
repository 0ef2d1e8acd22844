#include "../core/alloc.h"
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
    linear_free(&m->patch);
    igq__free(m->prefix);
    igq__free(m->pos);
    if (m->blocks != NULL) {
        for (i = 0; i < m->d.depth; i++) {
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
        igq__free(m->blocks);
    }
    igq__free(m->norm_w);
    igq__free(m->norm_b);
    igq__free(m->fc_norm_w);
    igq__free(m->fc_norm_b);
    linear_free(&m->head);
    linear_free(&m->head_dist);
    igq__free(m->mean);
    igq__free(m->std);
    igq__free(m);
}
