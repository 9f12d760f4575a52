/*
 * Writes the store test_export.py exports (the test computes what it expects from this
 * description, not from slawatch): from T0 = 2026-10-01T00:00:00Z, 10 s base rows.
 *   api, env blue, k = 0..11 and env green, k = 0..10: requests 100 + k, errors k % 3, two
 *     health probes of which k % 2 failed (the first), latency 90 values of (k + 1) ms and
 *     k % 4 + 1 values of 250 ms (green: values doubled); green's k = 5 has no latency.
 *   web (no env), k = 0..2: requests 10, errors 0, latency 10 values of 5 ms.
 * usage: export_fixture DIR
 */
#include "slawatch/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 INT64_C(1790812800000)
#define BASE_MS INT64_C(10000)

static sw_hdr *
latency(int k, int64_t scale)
{
    sw_hdr *h = NULL;
    if (sw_hdr_new(&sw_hdr_latency_config, &h, NULL) != SW_OK)
        exit(2);
    sw_hdr_record_n(h, (k + 1) * 1000 * scale, 90);
    sw_hdr_record_n(h, 250000 * scale, k % 4 + 1);
    return h;
}

static void
put(sw_store *st, const char *service, const char *env, sw_sli_interval *iv)
{
    sw_err err = {0};
    sw_store_row row = {service, env, iv};
    if (sw_store_put(st, &row, 1, &err) != SW_OK) {
        fprintf(stderr, "export_fixture: %s\n", err.msg);
        exit(1);
    }
    sw_sli_interval_fini(iv);
}

static void
api_row(sw_store *st, const char *env, int k)
{
    bool green = strcmp(env, "green") == 0;
    sw_sli_interval iv = {.start_ms = T0 + k * BASE_MS,
                          .length_ms = BASE_MS,
                          .requests = 100 + (uint64_t)k,
                          .errors = (uint64_t)(k % 3),
                          .has_data = true};
    sw_health_record(&iv.health, k % 2 == 0);
    sw_health_record(&iv.health, true);
    if (!(green && k == 5))
        iv.latency = latency(k, green ? 2 : 1);
    put(st, "api", env, &iv);
}

int
main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: export_fixture DIR\n");
        return 2;
    }
    sw_store *st = NULL;
    sw_err err = {0};
    if (sw_store_open(argv[1], NULL, &st, &err) != SW_OK) {
        fprintf(stderr, "export_fixture: %s\n", err.msg);
        return 1;
    }
    for (int k = 0; k < 12; k++)
        api_row(st, "blue", k);
    for (int k = 0; k < 11; k++)
        api_row(st, "green", k);
    for (int k = 0; k < 3; k++) {
        sw_sli_interval iv = {
            .start_ms = T0 + k * BASE_MS, .length_ms = BASE_MS, .requests = 10, .has_data = true};
        if (sw_hdr_new(&sw_hdr_latency_config, &iv.latency, NULL) != SW_OK)
            return 2;
        sw_hdr_record_n(iv.latency, 5000, 10);
        put(st, "web", NULL, &iv);
    }
    sw_store_close(st);
    return 0;
}
