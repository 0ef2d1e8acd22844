/* The igq_quantize_model pipeline and its option table, as the API layer sees them. Private
 * header. */
#ifndef IGQ_PTQ_PTQ_H
#define IGQ_PTQ_PTQ_H

#include "../model/qmodel.h"

struct igq_config {
    int64_t         v[IGQ__N_OPTIONS];
    igq_progress_fn progress;
    void           *user;
};

/* One row of the option table (options.h). */
typedef struct igq_option_info {
    const char *name;   /* "IGQ_OPT_<NAME>" */
    int64_t     lo, hi; /* every value in [lo, hi] is accepted: igq_option_bounds */
    int64_t     def;
    int         zero;   /* 1: 0 is accepted too (below lo): the option's unset value */
} igq_option_info;

/* The table row of a public option, or NULL if the option is unknown. */
const igq_option_info *igq__option_info(int option);
/* 1 if the option of row o accepts value (igq_config_set's validation). */
int  igq__option_accepts(const igq_option_info *o, int64_t value);
void igq__config_defaults(struct igq_config *c);

igq_status igq__quantize(const struct igq_model *fp, const float *calib, int64_t n_calib,
                         const struct igq_config *cfg, struct igq_model **out);

/* Group candidates tried by the allocation; exported for tests. */
extern const int igq__group_candidates[];
extern const int igq__n_group_candidates;

#endif
