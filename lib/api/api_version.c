#include "igq/igq.h"

#define IGQ_STR2(x) #x
#define IGQ_STR(x) IGQ_STR2(x)

unsigned igq_version_number(void) { return IGQ_VERSION_NUMBER; }

const char *igq_version_string(void)
{
    return IGQ_STR(IGQ_VERSION_MAJOR) "." IGQ_STR(IGQ_VERSION_MINOR) "." IGQ_STR(IGQ_VERSION_PATCH);
}
