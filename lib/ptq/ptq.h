/* The igq_quantize_model pipeline. Private header. */
#ifndef IGQ_PTQ_PTQ_H
#define IGQ_PTQ_PTQ_H

#include "../model/qmodel.h"

struct igq_config {
    int64_t         v[IGQ__N_OPTIONS];
    igq_progress_fn progress;
    void           *user;
};

/* Bounds and default of an option; 0 if the option is unknown. */
int  igq__option_info(int option, int64_t *lo, int64_t *hi, int64_t *def);
void igq__config_defaults(struct igq_config *c);

igq_status igq__quantize(const struct igq_model *fp, const float *calib, int64_t n_calib,
                         const struct igq_config *cfg, struct igq_model **out);

/* Group candidates tried by the allocation; exported for tests. */
extern const int igq__group_candidates[];
extern const int igq__n_group_candidates;

#endif
