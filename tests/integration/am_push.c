/*
 * Driver for test_alertmanager.py: feeds an Alertmanager tracker one alert and pushes it.
 *   am_push URL firing   observe HighErrorRate on api/green firing since now - 1 min, push
 *   am_push URL resolved the same alert firing, pushed, then resolved now, pushed again
 * Exit 0 when every push succeeded; errors on stderr.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "slawatch/alertmanager.h"
#include "slawatch/http_client.h"

static sw_status
observe(sw_am *am, bool firing, int64_t since_ms, int64_t now_ms, sw_err *err)
{
    sw_am_observation o = {.service = "api",
                           .env = "green",
                           .kind = SW_AM_ALERT,
                           .name = "HighErrorRate",
                           .severity = "critical",
                           .firing = firing,
                           .since_ms = since_ms,
                           .summary = "error_rate is 2.3% (> 1% over 5m)",
                           .description =
                               "More than 1% of requests to api/green failed for 5 minutes.",
                           .runbook_url = "https://runbooks.example/api/high-error-rate"};
    return sw_am_observe(am, &o, now_ms, err);
}

static sw_status
run(const char *url, bool resolve, sw_err *err)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    sw_am_config cfg = {.generator_url = "http://127.0.0.1:9464/api/v1/status"};
    sw_am *am;
    size_t sent = 0;
    sw_status st = sw_am_new(&cfg, &am, err);
    if (st != SW_OK)
        return st;
    st = observe(am, true, now - 60000, now, err);
    if (st == SW_OK)
        st = sw_am_push(am, url, now, &sent, err);
    if (st == SW_OK && sent != 1)
        st = sw_err_set(err, SW_E_IO, "firing push delivered %zu alerts, expected 1", sent);
    if (st == SW_OK && resolve)
        st = observe(am, false, now, now, err);
    if (st == SW_OK && resolve)
        st = sw_am_push(am, url, now, &sent, err);
    if (st == SW_OK && resolve && sent != 1)
        st = sw_err_set(err, SW_E_IO, "resolved push delivered %zu alerts, expected 1", sent);
    sw_am_free(am);
    return st;
}

int
main(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[2], "firing") != 0 && strcmp(argv[2], "resolved") != 0)) {
        fprintf(stderr, "usage: am_push URL firing|resolved\n");
        return 2;
    }
    sw_err err = {0};
    if (sw_http_client_global_init(&err) != SW_OK ||
        run(argv[1], strcmp(argv[2], "resolved") == 0, &err) != SW_OK) {
        fprintf(stderr, "am_push: %s\n", err.msg);
        return 1;
    }
    sw_http_client_global_cleanup();
    return 0;
}
