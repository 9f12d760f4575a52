/*
 * slawatch demo: the daemon on simulated blue-green traffic, with the embedded rules
 * (rules/demo.yaml), so it runs with no setup. Simulated time runs --speed times faster than
 * the wall clock; the script (green degrading ten minutes after its deployment) plays out in
 * about two minutes by default. The tick hook narrates gate verdicts, triggers and alerts.
 */
#include "cli.h"

#include <cjson/cJSON.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "slawatch/daemon.h"
#include "slawatch/log.h"
#include "slawatch/rules.h"
#include "slawatch/units.h"

extern const char sw_demo_rules[];

#define DEMO_SPEED 10.0
#define SCRIPT_MS (18 * 60000) /* the scripted part, in simulated time */

typedef struct demo {
    double speed;
    int64_t real_start_ms, sim_start_ms;
    int64_t exit_after_ms; /* real time; 0: run until interrupted */
    volatile sig_atomic_t *stop, *reload;
    bool live; /* the intro is out: narrate from here on */
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
    const sw_buf *status;
    if (sw_snapshot_status(s, &status) != SW_SNAPSHOT_FOUND)
        return;
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
    if (!d->live)
        return;
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
            "Before going live it writes the previous calendar month of api/blue, with an\n"
            "incident, into the store, so the monthly report has a month to show.\n\n"
            "  --listen ADDR:PORT     where to listen (default %s)\n"
            "  --data DIR             keep the store in DIR (new, empty or a previous demo's,\n"
            "                         which is replaced); default: a temporary directory\n"
            "                         removed on exit\n"
            "  --speed N              simulated seconds per real second (default %g: the\n"
            "                         script takes about two minutes)\n"
            "  --exit-after DURATION  stop after this much real time (e.g. 90s), for scripts\n"
            "  -h, --help, --version\n",
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
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
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

/* This executable's absolute path, so printed command lines work when pasted anywhere. */
static void
self_path(char *buf, size_t size)
{
    ssize_t n = readlink("/proc/self/exe", buf, size - 1);
    if (n <= 0)
        snprintf(buf, size, "slawatch");
    else
        buf[n] = '\0';
}

static void
month_name(int64_t ms, char out[8])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 8, "%Y-%m", &tm);
}

static void
print_intro(const char *listen, uint16_t port, const sw_demo_dir *dd, const sw_demo_history *h,
            double speed)
{
    char host[300], exe[PATH_MAX], month[8], url[400];
    snprintf(host, sizeof host, "%.*s", (int)(strrchr(listen, ':') - listen), listen);
    if (host[0] == '\0' || strcmp(host, "0.0.0.0") == 0)
        snprintf(host, sizeof host, "127.0.0.1");
    snprintf(url, sizeof url, "http://%s:%u", host, (unsigned)port);
    self_path(exe, sizeof exe);
    month_name(h->from_ms, month);
    time_t incident = (time_t)(h->incident_ms / 1000);
    struct tm tm;
    char when[40];
    gmtime_r(&incident, &tm);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", &tm);
    printf("web UI: %s/\n", url);
    printf("listening on %s (simulated time x%g)\n", url, speed);
    printf("data in %s (%s)\n", dd->path,
           dd->temporary  ? "removed on exit"
           : dd->replaced ? "the previous demo's store replaced: a fresh story"
                          : "kept on exit");
    printf("history: api/blue through %s, with a 90-minute incident at %s\n\n", month, when);
    printf("  deploy gate    %s/api/v1/gate?service=api&env=green\n", url);
    printf("  SLA report     %s/api/v1/report?month=%s\n", url, month);
    printf("  status         %s/api/v1/status\n", url);
    printf("  metrics        %s/metrics\n\n", url);
    printf("  %s gate --server %s --service api --env green\n", exe, url);
    printf("  %s report --data %s --month %s -o report.html\n\n", exe, dd->path, month);
    printf("green was deployed at +00:00; its errors and latency go bad at +10:00.\n");
    fflush(stdout);
}

/* The daemon with the demo's rules, clock and simulated traffic on a store holding history. */
static int
run_demo(demo *d, const demo_opts *o, const sw_demo_dir *dd, const sw_demo_history *h)
{
    sw_config *cfg = sw_config_defaults();
    if (cfg == NULL)
        return SW_EXIT_INPUT;
    cfg->listen = o->listen != NULL ? o->listen : SW_CONFIG_DEFAULT_LISTEN;
    cfg->data_dir = dd->path;
    const char *listen = cfg->listen;
    sw_sim_scenario sc = sw_sim_default(d->sim_start_ms);
    sw_daemon_options opts = {.config = cfg,
                              .rules_text = sw_demo_rules,
                              .clock = demo_clock,
                              .clock_ctx = d,
                              .speed = d->speed,
                              .simulate = &sc,
                              .on_tick = on_tick,
                              .hook_ctx = d};
    sw_daemon *daemon;
    sw_err err = {0};
    if (sw_daemon_new(&opts, &daemon, &err) != SW_OK) {
        fprintf(stderr, "slawatch demo: %s\n", err.msg);
        return SW_EXIT_INPUT;
    }
    if (sw_daemon_mark_deployment(daemon, "api", "green", d->sim_start_ms, NULL, "slawatch demo",
                                  &err) != SW_OK)
        fprintf(stderr, "slawatch demo: %s\n", err.msg);
    print_intro(listen, sw_daemon_port(daemon), dd, h, d->speed);
    d->live = true;
    sw_cli_run_daemon(daemon, d->stop, d->reload);
    sw_daemon_free(daemon);
    return SW_EXIT_OK;
}

/* Whether the listen address is free, asked before the history is written (seconds of work)
 * so a busy port fails at once. The daemon's own bind still decides, and fails cleanly too. */
static sw_status
check_listen_free(const char *listen, sw_err *err)
{
    const char *colon = strrchr(listen, ':');
    if (colon == NULL)
        return SW_OK; /* the daemon says what is wrong with it */
    char host[300];
    const char *h = listen[0] == '[' ? listen + 1 : listen;
    size_t hn = (size_t)(colon - h) - (listen[0] == '[' && colon > h && colon[-1] == ']');
    snprintf(host, sizeof host, "%.*s", (int)hn, h);
    struct addrinfo hints = {.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV,
                             .ai_socktype = SOCK_STREAM};
    struct addrinfo *ai = NULL;
    if (getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, &ai) != 0 || ai == NULL)
        return SW_OK;
    int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol), on = 1;
    sw_status st = SW_OK;
    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on); /* as libmicrohttpd does */
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0)
            st = sw_err_sys(err, SW_E_IO, "cannot listen on %s (port %s)", listen, colon + 1);
        close(fd);
    }
    freeaddrinfo(ai);
    return st;
}

/* The store options the daemon will open the store with, for writing the history first. */
static sw_status
store_options(sw_store_options *so, sw_err *err)
{
    sw_rules *rules;
    sw_status st = sw_rules_load_mem(sw_demo_rules, strlen(sw_demo_rules), "embedded rules", &rules,
                                     NULL, err);
    sw_config *cfg = st == SW_OK ? sw_config_defaults() : NULL;
    if (st == SW_OK && cfg == NULL)
        st = sw_err_set(err, SW_E_NOMEM, "out of memory");
    if (st == SW_OK)
        *so = (sw_store_options){.base_interval_ms = rules->base_interval_ms,
                                 .retention_base_ms = cfg->retention_ms[0],
                                 .retention_1m_ms = cfg->retention_ms[1],
                                 .retention_1h_ms = cfg->retention_ms[2],
                                 .retention_1d_ms = cfg->retention_ms[3]};
    if (st == SW_OK)
        sw_rules_free(rules);
    sw_config_free(cfg);
    return st;
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
    demo d = {.speed = o.speed, .exit_after_ms = o.exit_after_ms};
    d.real_start_ms = wall_ms();
    d.sim_start_ms = d.real_start_ms - d.real_start_ms % 10000;
    sw_cli_signals(&d.stop, &d.reload); /* Ctrl-C while writing the history still cleans up */
    sw_demo_dir dd;
    sw_demo_history h;
    sw_store_options so;
    sw_err err = {0};
    const char *listen = o.listen != NULL ? o.listen : SW_CONFIG_DEFAULT_LISTEN;
    if (check_listen_free(listen, &err) != SW_OK || sw_demo_dir_open(o.data, &dd, &err) != SW_OK) {
        fprintf(stderr, "slawatch demo: %s\n", err.msg);
        return SW_EXIT_INPUT;
    }
    if (store_options(&so, &err) != SW_OK ||
        sw_demo_fill_history(dd.path, &so, sw_demo_rules, d.sim_start_ms, &h, &err) != SW_OK) {
        fprintf(stderr, "slawatch demo: cannot write the previous month: %s\n", err.msg);
        sw_demo_dir_close(&dd, true);
        return SW_EXIT_INPUT;
    }
    rc = *d.stop ? SW_EXIT_OK : run_demo(&d, &o, &dd, &h);
    sw_demo_dir_close(&dd, rc != SW_EXIT_OK);
    for (size_t i = 0; i < d.n_announced; i++)
        free(d.announced[i]);
    free(d.announced);
    return rc;
}
