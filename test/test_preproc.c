/* Image preprocessing: the 8-bit resize + center crop against Pillow's (fixtures written by
 * tools/gen_preproc_fixtures.py), then igq_image_preprocess end to end. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "igq/igq.h"
#include "model/preproc.h"
#include "support/testutil.h"

static int32_t rd32(const unsigned char *p)
{
    return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                     (uint32_t)p[3] << 24);
}

/* Every case of cases.bin resampled as Pillow does; the equality share and largest difference
 * are printed, and the test asks for exact equality. */
static void test_pillow_fixtures(void **state)
{
    char          *path = tu_fixture_path("preproc/cases.bin");
    size_t         size = 0, off, total = 0, equal = 0;
    unsigned char *buf  = tu_read_file(path, &size);
    int32_t        n, i, maxdiff = 0;
    (void)state;
    assert_non_null(buf);
    assert_true(size >= 8 && memcmp(buf, "PPFX", 4) == 0);
    n   = rd32(buf + 4);
    off = 8;
    for (i = 0; i < n; i++) {
        const unsigned char *h = buf + off;
        int32_t w = rd32(h), hh = rd32(h + 4), ch = rd32(h + 8), rw = rd32(h + 12),
                rh = rd32(h + 16), interp = rd32(h + 20), cw = rd32(h + 24), chh = rd32(h + 28);
        size_t   in_n = (size_t)w * hh * ch, out_n = (size_t)cw * chh * ch, j;
        uint8_t *got  = (uint8_t *)malloc(out_n);
        int32_t  case_max = 0;
        size_t   case_eq  = 0;
        assert_true(off + 32 + in_n + out_n <= size);
        assert_non_null(got);
        assert_int_equal(igq__image_resize_crop_u8(h + 32, w, hh, ch, ch, (int64_t)w * ch, rw, rh,
                                                   interp, cw, chh, got),
                         IGQ_OK);
        for (j = 0; j < out_n; j++) {
            int32_t d = abs((int32_t)got[j] - (int32_t)h[32 + in_n + j]);
            case_eq += d == 0;
            if (d > case_max) case_max = d;
        }
        if (case_max != 0)
            printf("  case %d (%dx%dx%d -> %dx%d %s, crop %dx%d): %zu/%zu equal, max diff %d\n",
                   (int)i, (int)w, (int)hh, (int)ch, (int)rw, (int)rh,
                   interp == 3 ? "bicubic" : "bilinear", (int)cw, (int)chh, case_eq, out_n,
                   (int)case_max);
        if (case_max > maxdiff) maxdiff = case_max;
        total += out_n;
        equal += case_eq;
        free(got);
        off += 32 + in_n + out_n;
    }
    assert_int_equal(off, size);
    printf("  Pillow fixtures: %d cases, %zu/%zu values equal (%.4f %%), max difference %d\n",
           (int)n, equal, total, 100.0 * (double)equal / (double)total, (int)maxdiff);
    assert_int_equal(maxdiff, 0);
    free(buf);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pillow_fixtures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
