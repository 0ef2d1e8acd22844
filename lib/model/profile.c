/* Recording a layer's time and counters (profile.h). */
#include "profile.h"

void igq__prof_add(igq_prof *p, double t0, const char *what, int32_t block, int32_t kind,
                   int64_t s0, int64_t s1, int64_t s2, double ops, double bytes)
{
    igq_prof_entry *e;
    double          t1;
    if (p == NULL) return;
    t1 = igq__prof_now();
    if (p->cur >= p->cap) {
        p->overflow = 1;
        return;
    }
    e = &p->e[p->cur];
    if (p->cur >= p->n) {
        e->what     = what;
        e->block    = block;
        e->kind     = kind;
        e->shape[0] = s0;
        e->shape[1] = s1;
        e->shape[2] = s2;
        e->calls    = 0;
        e->ops = e->bytes = e->ns = 0.0;
        p->n                      = p->cur + 1;
    }
    e->calls++;
    e->ops += ops;
    e->bytes += bytes;
    e->ns += t1 - t0;
    p->cur++;
}
