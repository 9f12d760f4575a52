/*
 * slawatch serve: run the daemon from a configuration file until SIGTERM or SIGINT (exit 0
 * after flushing); SIGHUP reloads the configuration and rules.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "slawatch/daemon.h"
#include "slawatch/log.h"

static volatile sig_atomic_t stop_flag, reload_flag;
/* The daemon's wake-up descriptor once it runs (-1 before): the flag alone would be seen only
 * when the tick thread next looks, up to seconds later when the signal came just before its
 * wait or to another thread. */
static volatile sig_atomic_t wake_fd = -1;

static void
wake_daemon(void)
{
    int saved = errno;
    uint64_t one = 1;
    if (wake_fd >= 0)
        (void)!write(wake_fd, &one, sizeof one);
    errno = saved;
}

static void
on_stop(int sig)
{
    (void)sig;
    stop_flag = 1;
    wake_daemon();
}

static void
on_hup(int sig)
{
    (void)sig;
    reload_flag = 1;
    wake_daemon();
}

void
sw_cli_signals(volatile sig_atomic_t **ret_stop, volatile sig_atomic_t **ret_reload)
{
    struct sigaction sa = {.sa_handler = on_stop};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_hup;
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    *ret_stop = &stop_flag;
    *ret_reload = &reload_flag;
}

void
sw_cli_run_daemon(sw_daemon *d, volatile sig_atomic_t *stop, volatile sig_atomic_t *reload)
{
    wake_fd = sw_daemon_signal_fd(d);
    sw_daemon_run(d, stop, reload);
    wake_fd = -1;
}

static void
serve_usage(FILE *f)
{
    fprintf(f,
            "usage: slawatch serve --config FILE [--listen ADDR:PORT] [--data DIR]\n\n"
            "Run the daemon: evaluate the rules every base interval, keep the history in\n"
            "DIR/slawatch.db, serve /metrics, the deploy gate and the API (docs/api.md).\n"
            "The configuration is documented in docs/configuration.md; flags override it.\n"
            "SIGHUP or POST /-/reload reloads it; SIGTERM stops after flushing.\n\n"
            "  --config FILE        the configuration (required)\n"
            "  --listen ADDR:PORT   where to listen (default from the file, else %s)\n"
            "  --data DIR           the data directory (default from the file)\n"
            "  --log-level LEVEL    debug, info, warn or error (default from the file)\n"
            "  -h, --help, --version\n",
            SW_CONFIG_DEFAULT_LISTEN);
}

typedef struct serve_opts {
    const char *config, *listen, *data, *log_level;
} serve_opts;

static int
parse_opts(int argc, char **argv, serve_opts *o)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"listen", required_argument, NULL, 'l'},
        {"data", required_argument, NULL, 'd'},
        {"log-level", required_argument, NULL, 'L'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            o->config = optarg;
            break;
        case 'l':
            o->listen = optarg;
            break;
        case 'd':
            o->data = optarg;
            break;
        case 'L':
            o->log_level = optarg;
            break;
        case 'h':
            serve_usage(stdout);
            return -1;
        case 'V':
            sw_cli_version(stdout);
            return -1;
        default:
            serve_usage(stderr);
            return SW_EXIT_USAGE;
        }
    }
    if (o->config == NULL || optind != argc) {
        fprintf(stderr, "slawatch serve: %s\n",
                o->config == NULL ? "--config FILE is required" : "unexpected argument");
        serve_usage(stderr);
        return SW_EXIT_USAGE;
    }
    return SW_EXIT_OK;
}

/* A start-up failure is one line: the first problem, and how to see any others. */
static int
load_config(const serve_opts *o, sw_config **ret)
{
    sw_rules_diag *diag = sw_rules_diag_new();
    sw_err err = {0};
    sw_status st = sw_config_load(o->config, ret, diag, &err);
    size_t n = diag != NULL ? sw_rules_diag_count(diag) : 0;
    if (st != SW_OK) /* err: the first problem in file order, and how many more */
        fprintf(stderr, "slawatch serve: %s%s%s%s\n", err.msg, n > 1 ? "; `slawatch check " : "",
                n > 1 ? o->config : "", n > 1 ? "` lists them all" : "");
    sw_rules_diag_free(diag);
    if (st != SW_OK)
        return SW_EXIT_INPUT;
    if (o->listen != NULL)
        (*ret)->listen = o->listen;
    if (o->data != NULL)
        (*ret)->data_dir = o->data;
    return SW_EXIT_OK;
}

int
sw_cli_serve(int argc, char **argv)
{
    serve_opts o = {0};
    int rc = parse_opts(argc, argv, &o);
    if (rc != SW_EXIT_OK)
        return rc < 0 ? SW_EXIT_OK : rc;
    sw_config *cfg;
    if ((rc = load_config(&o, &cfg)) != SW_EXIT_OK)
        return rc;
    const char *level = o.log_level != NULL ? o.log_level : cfg->log_level;
    if (sw_log_level_parse(level) < 0) {
        fprintf(stderr, "slawatch serve: unknown log level '%s'\n", level);
        sw_config_free(cfg);
        return o.log_level != NULL ? SW_EXIT_USAGE : SW_EXIT_INPUT;
    }
    sw_log_setup((sw_log_level)sw_log_level_parse(level), NULL);
    volatile sig_atomic_t *stop, *reload;
    sw_cli_signals(&stop, &reload);
    sw_daemon *d;
    sw_err err = {0};
    if (sw_daemon_new(&(sw_daemon_options){.config = cfg}, &d, &err) != SW_OK) {
        fprintf(stderr, "slawatch serve: %s\n", err.msg);
        return SW_EXIT_INPUT;
    }
    sw_cli_run_daemon(d, stop, reload);
    sw_daemon_free(d);
    return SW_EXIT_OK;
}
