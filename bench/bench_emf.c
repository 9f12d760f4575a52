/*
 * EMF ingestion speed on one core: a 4 MB body of push-convention lines, 100 latency values
 * each (the spec's most per metric), parsed into a batch and recorded into a histogram.
 * Prints values per second of thread CPU time. Run: ninja -C build bench-emf.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "slawatch/buf.h"
#include "slawatch/emf.h"
#include "slawatch/hdr.h"
#include "slawatch/rng.h"

static const char rules_text[] = "version: 1\nservices:\n  - name: api\n    sli:\n"
                                 "      requests: {push: true}\n      latency: {push: true}\n";

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int
main(void)
{
    sw_rules *rules = NULL;
    sw_emf_map *map = NULL;
    sw_hdr *h = NULL;
    if (sw_rules_load_mem(rules_text, strlen(rules_text), "b", &rules, NULL, NULL) != SW_OK ||
        sw_emf_map_new(rules, &map, NULL) != SW_OK ||
        sw_hdr_new(&sw_hdr_latency_config, &h, NULL) != SW_OK)
        return 1;
    sw_buf body;
    sw_buf_init(&body, (size_t)8 << 20);
    sw_rng r = {1};
    while (body.len < ((size_t)4 << 20)) {
        sw_buf_printf(&body, NULL,
                      "{\"_aws\":{\"Timestamp\":1790812803000,\"CloudWatchMetrics\":[{"
                      "\"Namespace\":\"App\",\"Dimensions\":[[\"Service\"]],\"Metrics\":[{\"Name\":"
                      "\"Latency\",\"Unit\":\"Milliseconds\"},{\"Name\":\"Requests\"}]}]},"
                      "\"Service\":\"api\",\"Requests\":100,\"Latency\":[");
        for (int i = 0; i < 100; i++)
            sw_buf_printf(&body, NULL, "%s%.3f", i ? "," : "",
                          (double)sw_rng_lognormal_us(&r, 120000, 0.5) / 1000.0);
        sw_buf_printf(&body, NULL, "]}\n");
    }
    sw_emf_batch b = {0};
    size_t values = 0;
    int rounds = 5;
    double t0 = now_s();
    for (int i = 0; i < rounds; i++) {
        if (sw_emf_parse(map, (const uint8_t *)body.data, body.len, &b, NULL) != SW_OK)
            return 1;
        for (size_t v = 0; v < b.n_values; v++)
            sw_hdr_record(h, b.values_us[v]);
        values += b.n_values;
    }
    double s = now_s() - t0;
    printf("emf_ingest_values_per_s %.0f values/s\n", (double)values / s);
    printf("emf_ingest_mb_per_s %.1f MB/s\n", (double)body.len * rounds / s / 1e6);
    sw_emf_batch_fini(&b);
    sw_buf_fini(&body);
    sw_hdr_free(h);
    sw_emf_map_free(map);
    sw_rules_free(rules);
    return 0;
}
