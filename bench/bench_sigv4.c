/*
 * SigV4 signing cost for a GetMetricData request (POST, 3 signed headers plus X-Amz-Date and a
 * session token, a ~600-byte JSON body hashed each time), with the derived key cached (the
 * steady state) and with the key derived on every call (a new day or secret each time).
 * Prints "key value unit" lines, in thread CPU time. Run: ninja -C build bench-sigv4
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "slawatch/sigv4.h"

#define ROUNDS 200000

/* CPU time of this thread: the figure stays meaningful on a machine shared with other work. */
static double
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static const char body[] =
    "{\"MetricDataQueries\":[{\"Id\":\"q1\",\"MetricStat\":{\"Metric\":{\"Namespace\":"
    "\"AWS/ApplicationELB\",\"MetricName\":\"RequestCount\",\"Dimensions\":[{\"Name\":"
    "\"LoadBalancer\",\"Value\":\"app/checkout/50dc6c495c0c9188\"}]},\"Period\":60,\"Stat\":"
    "\"Sum\"}},{\"Id\":\"q2\",\"MetricStat\":{\"Metric\":{\"Namespace\":\"AWS/ApplicationELB\","
    "\"MetricName\":\"TargetResponseTime\",\"Dimensions\":[{\"Name\":\"LoadBalancer\",\"Value\":"
    "\"app/checkout/50dc6c495c0c9188\"}]},\"Period\":60,\"Stat\":\"p99\"}},{\"Id\":\"q3\","
    "\"MetricStat\":{\"Metric\":{\"Namespace\":\"AWS/ApplicationELB\",\"MetricName\":"
    "\"HTTPCode_Target_5XX_Count\",\"Dimensions\":[{\"Name\":\"LoadBalancer\",\"Value\":"
    "\"app/checkout/50dc6c495c0c9188\"}]},\"Period\":60,\"Stat\":\"Sum\"}}],"
    "\"StartTime\":1763805600,\"EndTime\":1763805900,\"ScanBy\":\"TimestampAscending\"}";

static double
run(sw_sigv4_signer *s, sw_awscreds *creds, int64_t day_step, unsigned rounds)
{
    static const sw_sigv4_header headers[] = {
        {"Host", "monitoring.eu-west-1.amazonaws.com"},
        {"Content-Type", "application/x-amz-json-1.0"},
        {"X-Amz-Target", "GraniteServiceVersion20100801.GetMetricData"},
    };
    sw_sigv4_request rq = {.method = "POST", .path = "/", .headers = headers, .n_headers = 3,
                           .payload = body, .payload_len = sizeof body - 1,
                           .now_unix_s = 1763805960};
    sw_sigv4_result r;
    sw_sigv4_result_init(&r);
    size_t checksum = 0;
    double start = now_ns();
    for (unsigned i = 0; i < rounds; i++) {
        rq.now_unix_s += day_step;
        if (sw_sigv4_sign(s, creds, &rq, &r, NULL) != SW_OK)
            return -1;
        checksum += (unsigned char)r.added[r.n_added - 1].value[100];
    }
    double per = (now_ns() - start) / rounds;
    sw_sigv4_result_fini(&r);
    return checksum > 0 ? per : -1;
}

int
main(void)
{
    static sw_awscreds creds;
    strcpy(creds.access_key_id, "ASIAEXAMPLEEXAMPLE01");
    strcpy(creds.secret_access_key, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    memset(creds.session_token, 'T', 1000); /* STS tokens are about this long */
    sw_sigv4_signer *s = NULL;
    if (sw_sigv4_signer_new("eu-west-1", "monitoring", &s, NULL) != SW_OK)
        return 1;
    run(s, &creds, 0, ROUNDS / 10); /* warm up: buffers grown, key cached */
    double cached = run(s, &creds, 1, ROUNDS);
    double derived = run(s, &creds, 86400, ROUNDS / 10);
    sw_sigv4_signer_free(s);
    if (cached < 0 || derived < 0)
        return 1;
    printf("sigv4_sign_cached_key %.0f ns_cpu/request\n", cached);
    printf("sigv4_sign_derived_key %.0f ns_cpu/request\n", derived);
    printf("sigv4_body_bytes %zu bytes\n", sizeof body - 1);
    return 0;
}
