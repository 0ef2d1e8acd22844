/* IGQ group calibration (ALGORITHMS.md 1.6, our reconstruction; the paper's code is not
 * public): k-means on the per-instance (min, max) points of channels (or attention rows),
 * followed by an envelope of each cluster. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/alloc.h"
#include "quant.h"

typedef struct wpoint {
    float   w;
    int64_t i;
} wpoint;

static int cmp_wpoint(const void *a, const void *b)
{
    const wpoint *x = (const wpoint *)a, *y = (const wpoint *)b;
    if (x->w != y->w) return (x->w > y->w) - (x->w < y->w);
    return (x->i > y->i) - (x->i < y->i);
}

int igq__groups_calibrate(const float *m, const float *M, int64_t n, int G, uint64_t seed,
                          float *lo, float *hi)
{
    double  *cl = (double *)igq__calloc((size_t)G, sizeof(double));
    double  *ch = (double *)igq__calloc((size_t)G, sizeof(double));
    double  *sl = (double *)igq__calloc((size_t)G, sizeof(double));
    double  *sh = (double *)igq__calloc((size_t)G, sizeof(double));
    int64_t *cnt = (int64_t *)igq__calloc((size_t)G, sizeof(int64_t));
    int     *asg = (int *)igq__calloc((size_t)(n > 0 ? n : 1), sizeof(int));
    wpoint  *wp = (wpoint *)igq__calloc((size_t)(n > G ? n : G), sizeof(wpoint)); /* G >= 1 */
    float   *olo = (float *)igq__calloc((size_t)G, sizeof(float));
    float   *ohi = (float *)igq__calloc((size_t)G, sizeof(float));
    int      iter = 0, g, changed = 1;
    int64_t  i;
    (void)seed;
    if (!cl || !ch || !sl || !sh || !cnt || !asg || !wp || !olo || !ohi || n <= 0) {
        /* Out of memory or no data: one range covering everything, repeated. */
        float a = n > 0 ? m[0] : 0.0f, b = n > 0 ? M[0] : 0.0f;
        for (i = 1; i < n; i++) {
            a = m[i] < a ? m[i] : a;
            b = M[i] > b ? M[i] : b;
        }
        for (g = 0; g < G; g++) {
            lo[g] = a;
            hi[g] = b;
        }
        iter = -1;
        goto done;
    }
    /* Init: sort by range width, G equal-count chunks, centroid = chunk mean. */
    for (i = 0; i < n; i++) {
        wp[i].w = M[i] - m[i];
        wp[i].i = i;
    }
    qsort(wp, (size_t)n, sizeof *wp, cmp_wpoint);
    for (i = 0; i < n; i++) {
        g = (int)((i * G) / n);
        asg[wp[i].i] = g;
    }
    for (iter = 0; iter < 100 && changed; iter++) {
        /* Update centroids from the current assignment. */
        memset(sl, 0, (size_t)G * sizeof(double));
        memset(sh, 0, (size_t)G * sizeof(double));
        memset(cnt, 0, (size_t)G * sizeof(int64_t));
        for (i = 0; i < n; i++) {
            sl[asg[i]] += m[i];
            sh[asg[i]] += M[i];
            cnt[asg[i]]++;
        }
        for (g = 0; g < G; g++) {
            if (cnt[g] > 0) {
                cl[g] = sl[g] / (double)cnt[g];
                ch[g] = sh[g] / (double)cnt[g];
            } else {
                /* Empty group: re-seed at the point farthest from its centroid. */
                double  far = -1.0;
                int64_t fi  = 0;
                for (i = 0; i < n; i++) {
                    int    a  = asg[i];
                    double dl = m[i] - cl[a], dh = M[i] - ch[a], d = dl * dl + dh * dh;
                    if (d > far) {
                        far = d;
                        fi  = i;
                    }
                }
                cl[g] = m[fi];
                ch[g] = M[fi];
                asg[fi] = g;
            }
        }
        /* Reassign to the nearest centroid (squared Euclidean; ties: lower index). */
        changed = 0;
        for (i = 0; i < n; i++) {
            int    best = 0;
            double bd   = INFINITY;
            for (g = 0; g < G; g++) {
                double dl = m[i] - cl[g], dh = M[i] - ch[g], d = dl * dl + dh * dh;
                if (d < bd) {
                    bd   = d;
                    best = g;
                }
            }
            if (best != asg[i]) {
                asg[i]  = best;
                changed = 1;
            }
        }
    }
    /* Envelope of each cluster; an empty cluster keeps its centroid as a point range. */
    for (g = 0; g < G; g++) {
        olo[g] = (float)cl[g];
        ohi[g] = (float)ch[g];
        cnt[g] = 0;
    }
    for (i = 0; i < n; i++) {
        g = asg[i];
        if (cnt[g]++ == 0) {
            olo[g] = m[i];
            ohi[g] = M[i];
        } else {
            olo[g] = m[i] < olo[g] ? m[i] : olo[g];
            ohi[g] = M[i] > ohi[g] ? M[i] : ohi[g];
        }
    }
    /* Sort the groups by width (the cover assignment takes the first covering group). */
    for (g = 0; g < G; g++) {
        wp[g].w = ohi[g] - olo[g];
        wp[g].i = g;
    }
    qsort(wp, (size_t)G, sizeof *wp, cmp_wpoint);
    for (g = 0; g < G; g++) {
        lo[g] = olo[wp[g].i];
        hi[g] = ohi[wp[g].i];
    }
done:
    igq__free(cl);
    igq__free(ch);
    igq__free(sl);
    igq__free(sh);
    igq__free(cnt);
    igq__free(asg);
    igq__free(wp);
    igq__free(olo);
    igq__free(ohi);
    return iter;
}
