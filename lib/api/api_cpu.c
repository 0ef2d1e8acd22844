/* Public CPU-feature functions. */
#include "igq/igq.h"

#include "../kernels/dispatch.h"

const char *igq_active_isa(void) { return igq__isa_name(igq__isa_active()); }
