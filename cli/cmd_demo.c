/*
 * slawatch demo: the daemon on simulated blue-green traffic, with the embedded rules
 * (rules/demo.yaml), so it runs with no setup. Simulated time runs --speed times faster than
 * the wall clock; the script (green degrading ten minutes after its deployment) plays out in
 * about two minutes by default. The tick hook narrates gate verdicts, triggers and alerts.
 */
#include "cli.h"

#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "slawatch/daemon.h"
#include "slawatch/log.h"
#include "slawatch/units.h"

extern const char sw_demo_rules[];

#define DEMO_SPEED 10.0
#define SCRIPT_MS (18 * 60000) /* the scripted part, in simulated time */

typedef struct demo {
    double speed;
    int64_t real_start_ms, sim_start_ms;
    int64_t exit_after_ms; /* real time; 0: run until interrupted */
    volatile sig_atomic_t *stop;
    sw_verdict last_verdict;
    bool verdict_known, script_done;
    char **announced; /* alert and trigger names already narrated */
    size_t n_announced;
} demo;

static int64_t
wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t
demo_clock(void *ctx)
{
    const demo *d = ctx;
    return d->sim_start_ms + (int64_t)((double)(wall_ms() - d->real_start_ms) * d->speed);
}

static void
say(const demo *d, int64_t at_ms, const char *fmt, const char *a, const char *b)
{
    int64_t s = (at_ms - d->sim_start_ms) / 1000;
    printf("[+%02lld:%02lld] ", (long long)(s / 60), (long long)(s % 60));
    printf(fmt, a, b);
    printf("\n");
    fflush(stdout);
}

static bool
announce_once(demo *d, const char *key)
{
    for (size_t i = 0; i < d->n_announced; i++)
        if (strcmp(d->announced[i], key) == 0)
            return false;
    char **grown = realloc(d->announced, (d->n_announced + 1) * sizeof *grown);
    if (grown == NULL)
        return false;
    d->announced = grown;
    d->announced[d->n_announced] = strdup(key);
    return d->announced[d->n_announced++] != NULL;
}

static void
narrate_gate(demo *d, const sw_snapshot *s)
{
    const char *json;
    size_t len;
    sw_verdict v;
    if (sw_snapshot_gate(s, "api", "green", 0, &json, &len, &v) != SW_SNAPSHOT_FOUND ||
        (d->verdict_known && v == d->last_verdict))
        return;
    cJSON *gate = cJSON_ParseWithLength(json, len);
    const cJSON *reason = cJSON_GetObjectItemCaseSensitive(gate, "reason");
    say(d, sw_snapshot_time(s), "gate for api/green: %s (%s)", sw_eval_verdict_str(v),
        cJSON_IsString(reason) ? reason->valuestring : "");
    cJSON_Delete(gate);
    d->last_verdict = v;
    d->verdict_known = true;
}

/* Triggers latched and alerts firing on green, each told once. */
static void
narrate_states(demo *d, const sw_snapshot *s)
{
    const sw_buf *status = sw_snapshot_status(s);
    cJSON *root = cJSON_ParseWithLength((const char *)status->data, status->len);
    const cJSON *svc;
    cJSON_ArrayForEach(svc, cJSON_GetObjectItemCaseSensitive(root, "services"))
    {
        const cJSON *env = cJSON_GetObjectItemCaseSensitive(svc, "env"), *item;
        if (!cJSON_IsString(env) || strcmp(env->valuestring, "green") != 0)
            continue;
        cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(svc, "triggers"))
        {
            const cJSON *name = cJSON_GetObjectItemCaseSensitive(item, "name");
            if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(item, "fired")) &&
                cJSON_IsString(name) && announce_once(d, name->valuestring))
                say(d, sw_snapshot_time(s), "rollback trigger %s fired on api/%s: roll back",
                    name->valuestring, "green");
        }
        cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(svc, "alerts"))
        {
            const cJSON *name = cJSON_GetObjectItemCaseSensitive(item, "name");
            const cJSON *state = cJSON_GetObjectItemCaseSensitive(item, "state");
            char key[300];
            if (!cJSON_IsString(name) || !cJSON_IsString(state) ||
                strcmp(state->valuestring, "firing") != 0)
                continue;
            snprintf(key, sizeof key, "alert:%s", name->valuestring);
            if (announce_once(d, key))
                say(d, sw_snapshot_time(s), "alert %s is firing on api/%s", name->valuestring,
                    "green");
        }
    }
    cJSON_Delete(root);
}

static void
on_tick(void *ctx, const sw_snapshot *s)
{
    demo *d = ctx;
    narrate_gate(d, s);
    narrate_states(d, s);
    if (!d->script_done && sw_snapshot_time(s) - d->sim_start_ms >= SCRIPT_MS) {
        d->script_done = true;
        say(d, sw_snapshot_time(s), "%s%s", "scenario complete; still serving until interrupted",
            d->exit_after_ms ? " (or --exit-after)" : " (Ctrl-C to stop)");
    }
    if (d->exit_after_ms > 0 && wall_ms() - d->real_start_ms >= d->exit_after_ms)
        *d->stop = 1;
}

static void
demo_usage(FILE *f)
{
    fprintf(f,
            "usage: slawatch demo [--listen ADDR:PORT] [--data DIR] [--speed N]\n"
            "                     [--exit-after DURATION]\n\n"
            "Run slawatch on simulated traffic: service api in a blue environment that meets\n"
            "the SLA and a green one, deployed at the start, whose error rate and latency go\n"
            "bad after ten simulated minutes. Watch the deploy gate flip from pass to fail and\n"
            "the rollback triggers fire; afterwards it keeps serving until interrupted.\n\n"
            "  --listen ADDR:PORT     where to listen (default %s)\n"
            "  --data DIR             data directory (default: a new temporary directory)\n"
            "  --speed N              simulated seconds per real second (default %g: the\n"
            "                         script takes about two minutes)\n"
            "  --exit-after DURATION  stop after this much real time (e.g. 90s), for scripts\n"
            "  --help, --version\n",
            SW_CONFIG_DEFAULT_LISTEN, DEMO_SPEED);
}

typedef struct demo_opts {
    const char *listen, *data;
    double speed;
    int64_t exit_after_ms;
} demo_opts;

static int
parse_demo_opts(int argc, char **argv, demo_opts *o)
{
    static const struct option longopts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"data", required_argument, NULL, 'd'},
        {"speed", required_argument, NULL, 's'},
        {"exit-after", required_argument, NULL, 'x'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int c;
    char *end;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'l':
            o->listen = optarg;
            break;
        case 'd':
            o->data = optarg;
            break;
        case 's':
            o->speed = strtod(optarg, &end);
            if (*end != '\0' || !(o->speed >= 0.1 && o->speed <= 1000)) {
                fprintf(stderr, "slawatch demo: --speed takes a number from 0.1 to 1000\n");
                return SW_EXIT_USAGE;
            }
            break;
        case 'x':
            if (!sw_units_parse_duration_ms(optarg, strlen(optarg), &o->exit_after_ms)) {
                fprintf(stderr, "slawatch demo: --exit-after takes a duration such as 90s\n");
                return SW_EXIT_USAGE;
            }
            break;
        case 'h':
            demo_usage(stdout);
            return -1;
        case 'V':
            sw_cli_version(stdout);
            return -1;
        default:
            demo_usage(stderr);
            return SW_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        demo_usage(stderr);
        return SW_EXIT_USAGE;
    }
    return SW_EXIT_OK;
}

static void
print_intro(const char *listen, uint16_t port, const char *data, double speed)
{
    char host[300];
    snprintf(host, sizeof host, "%.*s", (int)(strrchr(listen, ':') - listen), listen);
    if (host[0] == '\0' || strcmp(host, "0.0.0.0") == 0)
        snprintf(host, sizeof host, "127.0.0.1");
    printf("listening on http://%s:%u (data in %s, simulated time x%g)\n\n", host, (unsigned)port,
           data, speed);
    printf("  metrics        http://%s:%u/metrics\n", host, (unsigned)port);
    printf("  deploy gate    http://%s:%u/api/v1/gate?service=api&env=green\n", host,
           (unsigned)port);
    printf("  status         http://%s:%u/api/v1/status\n", host, (unsigned)port);
    printf("  from a shell   slawatch gate --server http://%s:%u --service api --env green\n\n",
           host, (unsigned)port);
    printf("green was deployed at +00:00; its errors and latency go bad at +10:00.\n");
    fflush(stdout);
}

static int
run_demo(const demo_opts *o, const char *data_dir)
{
    demo d = {.speed = o->speed, .exit_after_ms = o->exit_after_ms};
    sw_config *cfg = sw_config_defaults();
    if (cfg == NULL)
        return SW_EXIT_USAGE;
    cfg->listen = o->listen != NULL ? o->listen : SW_CONFIG_DEFAULT_LISTEN;
    cfg->data_dir = data_dir;
    const char *listen = cfg->listen;
    d.real_start_ms = wall_ms();
    d.sim_start_ms = d.real_start_ms - d.real_start_ms % 10000;
    sw_sim_scenario sc = sw_sim_default(d.sim_start_ms);
    volatile sig_atomic_t *reload;
    sw_cli_signals(&d.stop, &reload);
    sw_daemon_options opts = {.config = cfg,
                              .rules_text = sw_demo_rules,
                              .clock = demo_clock,
                              .clock_ctx = &d,
                              .speed = d.speed,
                              .simulate = &sc,
                              .on_tick = on_tick,
                              .hook_ctx = &d};
    sw_daemon *daemon;
    sw_err err = {0};
    if (sw_daemon_new(&opts, &daemon, &err) != SW_OK) {
        fprintf(stderr, "slawatch demo: %s\n", err.msg);
        return SW_EXIT_USAGE;
    }
    if (sw_daemon_mark_deployment(daemon, "api", "green", d.sim_start_ms, "slawatch demo", &err) !=
        SW_OK)
        fprintf(stderr, "slawatch demo: %s\n", err.msg);
    print_intro(listen, sw_daemon_port(daemon), data_dir, d.speed);
    sw_daemon_run(daemon, d.stop, reload);
    sw_daemon_free(daemon);
    for (size_t i = 0; i < d.n_announced; i++)
        free(d.announced[i]);
    free(d.announced);
    return SW_EXIT_OK;
}

int
sw_cli_demo(int argc, char **argv)
{
    demo_opts o = {.speed = DEMO_SPEED};
    int rc = parse_demo_opts(argc, argv, &o);
    if (rc != SW_EXIT_OK)
        return rc < 0 ? SW_EXIT_OK : rc;
    /* The demo's own log lines would repeat the narration: errors only. */
    sw_log_setup(SW_LOG_ERROR, NULL);
    char tmp[] = "/tmp/slawatch-demo-XXXXXX";
    const char *data = o.data;
    if (data == NULL && (data = mkdtemp(tmp)) == NULL) {
        perror("slawatch demo: cannot create a temporary data directory");
        return SW_EXIT_USAGE;
    }
    return run_demo(&o, data);
}
