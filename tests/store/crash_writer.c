/*
 * The kill -9 test's subject (kill9.py drives it). Two modes:
 *   crash_writer write DIR FROM_MS  writes one minute of 10 s intervals for 5 services per
 *     transaction from FROM_MS on, forever, rolling up every 10 minutes, and after each committed
 *     sw_store_put prints "acked END_MS" (everything before END_MS is stored), flushed;
 *   crash_writer check DIR T0_MS END_MS  reopens the store, runs PRAGMA integrity_check and checks
 *     that [T0_MS, END_MS) holds every interval, by request count, read both the finest and the
 *     coarsest way (so a rollup is either complete or absent, never half done).
 * Exit status 0 when all is well; the reason otherwise on stderr.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slawatch/store.h"

#define BASE_MS INT64_C(10000)
#define SERVICES 5
#define PER_BATCH 6 /* intervals per service per transaction: one minute */

static const char *const services[SERVICES] = {"api", "auth", "cart", "db", "web"};

/* Requests of an interval: a function of its start, so the checker knows what to expect. */
static uint64_t
requests_at(int64_t start_ms)
{
    return (uint64_t)(start_ms / BASE_MS % 7) + 1;
}

static int
fail(const char *what, const sw_err *err)
{
    fprintf(stderr, "crash_writer: %s: %s\n", what, err->msg);
    return 1;
}

static void
fill(sw_sli_interval *iv, int64_t start_ms)
{
    iv->start_ms = start_ms;
    iv->length_ms = BASE_MS;
    iv->requests = requests_at(start_ms);
    iv->errors = 0;
    iv->has_data = true;
    sw_health_record(&iv->health, start_ms % 3 != 0);
    sw_hdr_reset(iv->latency);
    for (int64_t v = 0; v < 50; v++)
        sw_hdr_record(iv->latency, 1000 + (start_ms / BASE_MS * 37 + v * 101) % 50000);
}

static int
write_forever(sw_store *st, int64_t t)
{
    sw_sli_interval ivs[SERVICES * PER_BATCH] = {0};
    sw_store_row rows[SERVICES * PER_BATCH];
    sw_err err = {0};
    for (size_t i = 0; i < SERVICES * PER_BATCH; i++)
        if (sw_hdr_new(&sw_hdr_latency_config, &ivs[i].latency, &err) != SW_OK)
            return fail("hdr", &err);
    for (unsigned batch = 1;; batch++) {
        for (size_t i = 0; i < SERVICES * PER_BATCH; i++) {
            memset(&ivs[i].health, 0, sizeof ivs[i].health);
            fill(&ivs[i], t + (int64_t)(i % PER_BATCH) * BASE_MS);
            rows[i] = (sw_store_row){services[i / PER_BATCH], NULL, &ivs[i]};
        }
        if (sw_store_put(st, rows, SERVICES * PER_BATCH, &err) != SW_OK)
            return fail("put", &err);
        t += PER_BATCH * BASE_MS;
        printf("acked %" PRId64 "\n", t);
        fflush(stdout);
        if (batch % 10 == 0 && sw_store_rollup(st, t, &err) != SW_OK)
            return fail("rollup", &err);
    }
}

static sw_status
count(void *ctx, const char *service, const char *env, const sw_sli_interval *iv, sw_err *err)
{
    (void)service;
    (void)env;
    (void)err;
    *(uint64_t *)ctx += iv->requests;
    return SW_OK;
}

static int
check(sw_store *st, int64_t t0, int64_t end)
{
    sw_err err = {0};
    uint64_t expected = 0, finest = 0, coarsest = 0;
    for (int64_t t = t0; t < end; t += BASE_MS)
        expected += SERVICES * requests_at(t);
    if (sw_store_integrity_check(st, &err) != SW_OK)
        return fail("integrity", &err);
    if (sw_store_scan(st, NULL, t0, end, t0, count, &finest, &err) != SW_OK ||
        sw_store_scan(st, NULL, t0, end, end, count, &coarsest, &err) != SW_OK)
        return fail("scan", &err);
    if (finest != expected || coarsest != expected) {
        fprintf(stderr,
                "crash_writer: requests in [%" PRId64 ", %" PRId64 "): expected %" PRIu64
                ", finest scan %" PRIu64 ", coarsest scan %" PRIu64 "\n",
                t0, end, expected, finest, coarsest);
        return 1;
    }
    printf("ok %" PRIu64 " requests\n", expected);
    return 0;
}

int
main(int argc, char **argv)
{
    sw_store *st = NULL;
    sw_err err = {0};
    bool writing = argc == 4 && strcmp(argv[1], "write") == 0;
    if (!writing && !(argc == 5 && strcmp(argv[1], "check") == 0)) {
        fprintf(stderr, "usage: crash_writer write DIR FROM_MS | check DIR T0_MS END_MS\n");
        return 2;
    }
    if (sw_store_open(argv[2], NULL, &st, &err) != SW_OK)
        return fail("open", &err);
    int rc = writing ? write_forever(st, strtoll(argv[3], NULL, 10))
                     : check(st, strtoll(argv[3], NULL, 10), strtoll(argv[4], NULL, 10));
    sw_store_close(st);
    return rc;
}
