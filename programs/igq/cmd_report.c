/* igq report: per-layer profile, roofline and group assignment of a model (table + SVG).
 * SPDX-License-Identifier: MIT */
#include "cli.h"

#ifdef IGQ_CLI_NO_REPORT
int cmd_report(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "igq report: not available in this build (built with IGQ_CLI_NO_REPORT)\n");
    return EXIT_FAIL;
}
#endif
