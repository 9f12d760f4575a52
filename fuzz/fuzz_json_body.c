/*
 * sw_json_parse on hostile bodies. The first byte picks the depth cap (0-15), the rest is the
 * body, parsed under a size cap a little below and at its length. Checks: the sw_err contract
 * on failure, SW_E_TOOBIG exactly when the cap is below the length, and an accepted body is
 * a tree cJSON can print and that reparses (printing preserves values, so nesting stays within
 * the cap).
 */
#include "fuzz.h"

#include <cjson/cJSON.h>

#include "slawatch/json.h"

static void
check_one(const uint8_t *body, size_t n, size_t max_bytes, unsigned depth)
{
    cJSON *tree = NULL;
    sw_err err = {0};
    sw_status st = sw_json_parse(body, n, max_bytes, depth, &tree, &err);
    if (st != SW_OK) {
        fuzz_check_err(st, &err);
        FUZZ_CHECK(tree == NULL);
        FUZZ_CHECK((st == SW_E_TOOBIG) == (n > max_bytes));
        return;
    }
    FUZZ_CHECK(tree != NULL && n <= max_bytes);
    char *printed = cJSON_PrintUnformatted(tree);
    if (printed != NULL) {
        cJSON *again = NULL;
        sw_err err2 = {0};
        size_t pn = strlen(printed);
        FUZZ_CHECK(sw_json_parse((const uint8_t *)printed, pn, pn, depth, &again, &err2) == SW_OK);
        cJSON_Delete(again);
        cJSON_free(printed);
    }
    cJSON_Delete(tree);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    unsigned depth = data[0] % 16;
    const uint8_t *body = data + 1;
    size_t n = size - 1;
    check_one(body, n, n, depth);
    if (n > 0)
        check_one(body, n, n - 1, depth);
    return 0;
}
