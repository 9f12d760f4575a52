/*
 * Unit tests for exporters/report_cache: hits within the TTL only, exact keys, copies that
 * outlive the entry, eviction of the least recently used entry by count and by bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "slawatch/report_cache.h"

static const char *
get(sw_report_cache *c, const char *key, int64_t now, sw_buf *out)
{
    const char *type = NULL;
    if (!sw_report_cache_get(c, key, now, out, &type))
        return NULL;
    assert_non_null(type);
    return sw_buf_cstr(out, NULL);
}

static void
test_hit_miss_expiry(void **state)
{
    (void)state;
    sw_report_cache *c = sw_report_cache_new(4, 1 << 20, 1000);
    assert_non_null(c);
    sw_buf out;
    sw_buf_init(&out, 1 << 20);
    assert_null(get(c, "2026-10|0|UTC|1|a,", 0, &out));
    sw_report_cache_put(c, "2026-10|0|UTC|1|a,", 100, "<html>", 6, "text/html");
    assert_string_equal(get(c, "2026-10|0|UTC|1|a,", 1099, &out), "<html>");
    assert_null(get(c, "2026-10|0|UTC|2|a,", 500, &out)); /* another rules version */
    assert_null(get(c, "2026-10|0|UTC|1|a", 500, &out));  /* a key is matched whole */
    assert_null(get(c, "2026-10|0|UTC|1|a,", 1100, &out)); /* TTL passed */
    assert_null(get(c, "2026-10|0|UTC|1|a,", 500, &out));  /* and the entry is gone */
    /* A replaced entry serves the new document. */
    sw_report_cache_put(c, "k", 0, "one", 3, "text/plain");
    sw_report_cache_put(c, "k", 10, "two", 3, "text/plain");
    assert_string_equal(get(c, "k", 20, &out), "two");
    sw_buf_fini(&out);
    sw_report_cache_free(c);
}

static void
test_eviction(void **state)
{
    (void)state;
    sw_report_cache *c = sw_report_cache_new(2, 400, 1000000);
    sw_buf out;
    sw_buf_init(&out, 1 << 20);
    sw_report_cache_put(c, "a", 0, "A", 1, "t");
    sw_report_cache_put(c, "b", 0, "B", 1, "t");
    assert_non_null(get(c, "a", 1, &out)); /* a is now the more recent */
    sw_report_cache_put(c, "c", 2, "C", 1, "t");
    assert_null(get(c, "b", 3, &out));
    assert_string_equal(get(c, "a", 3, &out), "A");
    assert_string_equal(get(c, "c", 3, &out), "C");

    char big[100];
    memset(big, 'x', sizeof big);
    sw_report_cache_put(c, "big", 4, big, sizeof big, "t"); /* evicts the older of a, c */
    assert_null(get(c, "a", 5, &out));
    assert_int_equal(strlen(get(c, "big", 5, &out)), 100);
    char huge[101];
    memset(huge, 'y', sizeof huge);
    sw_report_cache_put(c, "huge", 6, huge, sizeof huge, "t"); /* over a quarter: not kept */
    assert_null(get(c, "huge", 7, &out));
    assert_string_equal(get(c, "c", 7, &out), "C");
    sw_buf_fini(&out);
    sw_report_cache_free(c);
    sw_report_cache_free(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hit_miss_expiry),
        cmocka_unit_test(test_eviction),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
