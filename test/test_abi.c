/* Exported symbols, checked through the dynamic loader: every name in test/abi/exported.txt
 * resolves in libigq.so and no internal igq__ symbol does. ($IGQ_SO names the library.) */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/testutil.h"

static void test_exports(void **state)
{
    const char *so = getenv("IGQ_SO");
    char       *listpath, line[256];
    void       *h;
    FILE       *f;
    int         n = 0;
    static const char *const internal[] = {"igq__set_error", "igq__malloc", "igq__st_open",
                                           "igq__json_parse", "igq__checkpoint_load",
                                           "igq__forward", "igq__f32_gemm__scalar"};
    size_t      i;
    (void)state;
    if (so == NULL) skip();
    h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) fprintf(stderr, "dlopen: %s\n", dlerror());
    assert_non_null(h);
    listpath = tu_fixture_path("../abi/exported.txt");
    f = fopen(listpath, "r");
    assert_non_null(f);
    while (fgets(line, sizeof line, f) != NULL) {
        line[strcspn(line, "\r\n")] = 0;
        if (line[0] == 0) continue;
        if (dlsym(h, line) == NULL) {
            fprintf(stderr, "listed symbol %s is not exported\n", line);
            fail();
        }
        n++;
    }
    fclose(f);
    free(listpath);
    assert_true(n > 10);
    for (i = 0; i < sizeof internal / sizeof internal[0]; i++) {
        if (dlsym(h, internal[i]) != NULL) {
            fprintf(stderr, "internal symbol %s is exported\n", internal[i]);
            fail();
        }
    }
    dlclose(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_exports)};
    return cmocka_run_group_tests_name("abi", tests, NULL, NULL);
}
