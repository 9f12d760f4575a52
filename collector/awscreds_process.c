/*
 * credential_process: the profile names a command that prints credentials as JSON. As the SDKs
 * do, the command line is split into words without a shell and run directly; its stdout is the
 * answer (capped), its stderr's first line goes into the error when it fails. A command that
 * does not finish within the timeout is killed, so a hung helper cannot stall the poller.
 */
#include "collector/awscreds_int.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "slawatch/json.h"

#define STDERR_KEEP 256
#define COMMAND_MAX 4096

extern char **environ;

/* ------------------------------------------------------------------ words */

typedef struct splitter {
    const char *s;
    char *out, *end;
    char **argv;
    size_t argc;
    bool in_word;
} splitter;

/* Start a word here unless one is open (quotes open a word even when empty: '' is a word). */
static bool
open_word(splitter *sp)
{
    if (sp->in_word)
        return true;
    if (sp->argc >= SW_AWSCREDS_PROCESS_MAX_ARGS)
        return false;
    sp->argv[sp->argc++] = sp->out;
    sp->in_word = true;
    return true;
}

static bool
put(splitter *sp, char c)
{
    if (!open_word(sp) || sp->out >= sp->end)
        return false;
    *sp->out++ = c;
    return true;
}

static bool
end_word(splitter *sp)
{
    if (!sp->in_word)
        return true;
    sp->in_word = false;
    if (sp->out >= sp->end)
        return false;
    *sp->out++ = '\0';
    return true;
}

/* Inside "...": only \ before \ " $ ` or a newline escapes. */
static bool
double_quoted(splitter *sp, bool *ret_closed)
{
    for (sp->s++; *sp->s != '\0'; sp->s++) {
        if (*sp->s == '"') {
            *ret_closed = true;
            return true;
        }
        if (*sp->s == '\\' && sp->s[1] != '\0' && strchr("\\\"$`\n", sp->s[1]) != NULL)
            sp->s++;
        if (!put(sp, *sp->s))
            return false;
    }
    *ret_closed = false;
    return true;
}

sw_status
sw_awscreds_split_command(const char *cmd, char *buf, size_t cap, char **argv, sw_err *err)
{
    splitter sp = {.s = cmd, .out = buf, .end = buf + cap, .argv = argv};
    bool ok = true, closed = true;
    for (; ok && closed && *sp.s != '\0'; sp.s++) {
        char c = *sp.s;
        if (c == ' ' || c == '\t' || c == '\n') {
            ok = end_word(&sp);
        } else if (c == '\'') {
            const char *close = strchr(sp.s + 1, '\'');
            closed = close != NULL;
            ok = open_word(&sp);
            for (const char *q = sp.s + 1; ok && closed && q < close; q++)
                ok = put(&sp, *q);
            if (closed)
                sp.s = close;
        } else if (c == '"') {
            ok = open_word(&sp) && double_quoted(&sp, &closed);
        } else if (c == '\\' && sp.s[1] != '\0') {
            ok = put(&sp, *++sp.s);
        } else {
            ok = put(&sp, c);
        }
    }
    ok = ok && end_word(&sp);
    argv[ok ? sp.argc : 0] = NULL;
    if (!closed)
        return sw_err_set(err, SW_E_PARSE, "credential_process: unterminated quote");
    if (!ok)
        return sw_err_set(err, SW_E_PARSE, "credential_process: more than %d words or %zu bytes",
                          SW_AWSCREDS_PROCESS_MAX_ARGS, cap);
    if (sp.argc == 0)
        return sw_err_set(err, SW_E_PARSE, "credential_process: empty command");
    return SW_OK;
}

/* ------------------------------------------------------------------ the answer */

static sw_status
fill(const cJSON *root, const char *where, sw_awscreds *c, sw_err *err)
{
    const cJSON *version = cJSON_GetObjectItemCaseSensitive(root, "Version");
    if (!cJSON_IsNumber(version) || version->valuedouble != 1)
        return sw_err_set(err, SW_E_PARSE, "%s: the output's Version must be 1", where);
    sw_status st = sw_awscreds_fill_json(root, "SessionToken", where, c, err);
    if (st != SW_OK)
        return st;
    c->source = "credential-process";
    return SW_OK;
}

sw_status
sw_awscreds_process_parse(const uint8_t *out, size_t len, const char *where, sw_awscreds *ret,
                          sw_err *err)
{
    cJSON *root = NULL;
    sw_err local = {0};
    if (sw_json_parse(out, len, SW_AWSCREDS_PROCESS_OUTPUT_MAX, 4, &root, &local) != SW_OK)
        return sw_err_set(err, SW_E_PARSE, "%s: the output is not JSON", where);
    sw_awscreds c = {0};
    sw_status st = cJSON_IsObject(root)
                       ? fill(root, where, &c, err)
                       : sw_err_set(err, SW_E_PARSE, "%s: the output is not a JSON object", where);
    if (st == SW_OK)
        *ret = c;
    sw_awscreds_wipe(&c);
    cJSON_Delete(root);
    return st;
}

/* ------------------------------------------------------------------ running it */

typedef struct child {
    pid_t pid;
    int out_fd, err_fd;
    uint8_t *out;
    size_t out_len;
    char errtext[STDERR_KEEP];
    size_t err_len;
    bool too_big;
} child;

static void
close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* A pipe whose ends other children do not inherit (the spawn's dup2 clears it on 1 and 2). */
static bool
cloexec_pipe(int fds[2])
{
    if (pipe(fds) != 0)
        return false;
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    return true;
}

/* Start argv with stdin from /dev/null and stdout, stderr into pipes (the read ends kept). */
static sw_status
start_child(char **argv, const char *where, child *ch, sw_err *err)
{
    int out[2] = {-1, -1}, errp[2] = {-1, -1};
    sw_status st = SW_OK;
    if (!cloexec_pipe(out) || !cloexec_pipe(errp)) {
        st = sw_err_sys(err, SW_E_IO, "%s: pipe", where);
    } else {
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, out[1], 1);
        posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
        int rc = posix_spawnp(&ch->pid, argv[0], &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        if (rc != 0) {
            errno = rc;
            st = sw_err_sys(err, SW_E_IO, "%s: cannot run %s", where, argv[0]);
        }
    }
    close_fd(&out[1]);
    close_fd(&errp[1]);
    if (st != SW_OK) {
        close_fd(&out[0]);
        close_fd(&errp[0]);
    }
    ch->out_fd = out[0];
    ch->err_fd = errp[0];
    return st;
}

static sw_status
spawn(const char *cmd, const char *where, child *ch, sw_err *err)
{
    char words[COMMAND_MAX];
    char *argv[SW_AWSCREDS_PROCESS_MAX_ARGS + 1];
    sw_status st = sw_awscreds_split_command(cmd, words, sizeof words, argv, err);
    if (st != SW_OK)
        sw_err_prefix(err, "%s", where);
    else
        st = start_child(argv, where, ch, err);
    OPENSSL_cleanse(words, sizeof words);
    return st;
}

static int64_t
mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read one chunk from fd into the child's output or its kept stderr; false at end of file. */
static bool
drain(child *ch, int fd)
{
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
        return true;
    if (n <= 0)
        return false;
    if (fd == ch->err_fd) {
        size_t keep = (size_t)n < sizeof ch->errtext - 1 - ch->err_len
                          ? (size_t)n
                          : sizeof ch->errtext - 1 - ch->err_len;
        memcpy(ch->errtext + ch->err_len, buf, keep);
        ch->err_len += keep;
        ch->errtext[ch->err_len] = '\0';
    } else if (ch->out_len + (size_t)n > SW_AWSCREDS_PROCESS_OUTPUT_MAX) {
        ch->too_big = true;
    } else {
        memcpy(ch->out + ch->out_len, buf, (size_t)n);
        ch->out_len += (size_t)n;
    }
    OPENSSL_cleanse(buf, sizeof buf);
    return true;
}

/* Read both pipes to their end or the deadline; false when the deadline came first. */
static bool
collect(child *ch, int64_t timeout_ms)
{
    int64_t deadline = mono_ms() + timeout_ms;
    struct pollfd fds[2] = {{.fd = ch->out_fd, .events = POLLIN},
                            {.fd = ch->err_fd, .events = POLLIN}};
    while (fds[0].fd >= 0 || fds[1].fd >= 0) {
        int64_t left = deadline - mono_ms();
        if (left <= 0)
            return false;
        int rc = poll(fds, 2, (int)(left < 1000 ? left : 1000));
        for (int i = 0; rc > 0 && i < 2; i++)
            if (fds[i].fd >= 0 && fds[i].revents != 0 && !drain(ch, fds[i].fd))
                fds[i].fd = -1;
    }
    return true;
}

/* The first line of what the command wrote to stderr, printable ASCII only. */
static const char *
stderr_line(child *ch)
{
    char *t = ch->errtext;
    t[strcspn(t, "\r\n")] = '\0';
    for (char *c = t; *c != '\0'; c++)
        if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7E)
            *c = '?';
    return t;
}

static sw_status
judge_exit(child *ch, int status, bool in_time, const char *where, sw_err *err)
{
    if (!in_time)
        return sw_err_set(err, SW_E_IO, "%s: no answer within the timeout; killed", where);
    if (WIFSIGNALED(status))
        return sw_err_set(err, SW_E_IO, "%s: killed by signal %d", where, WTERMSIG(status));
    if (WEXITSTATUS(status) != 0)
        return sw_err_set(err, SW_E_IO, "%s: exited with status %d%s%s", where, WEXITSTATUS(status),
                          ch->err_len ? ": " : "", stderr_line(ch));
    if (ch->too_big)
        return sw_err_set(err, SW_E_TOOBIG, "%s: output larger than %zu bytes", where,
                          SW_AWSCREDS_PROCESS_OUTPUT_MAX);
    return SW_OK;
}

sw_status
sw_awscreds_run_process(const char *cmd, const char *where, int64_t timeout_ms, sw_awscreds *ret,
                        sw_err *err)
{
    child ch = {.pid = -1, .out = malloc(SW_AWSCREDS_PROCESS_OUTPUT_MAX)};
    if (ch.out == NULL)
        return sw_err_set(err, SW_E_NOMEM, "%s: out of memory", where);
    sw_status st = spawn(cmd, where, &ch, err);
    if (st == SW_OK) {
        bool in_time = collect(&ch, timeout_ms);
        if (!in_time)
            kill(ch.pid, SIGKILL);
        int status = 0;
        while (waitpid(ch.pid, &status, 0) < 0 && errno == EINTR)
            ;
        close(ch.out_fd);
        close(ch.err_fd);
        st = judge_exit(&ch, status, in_time, where, err);
    }
    if (st == SW_OK)
        st = sw_awscreds_process_parse(ch.out, ch.out_len, where, ret, err);
    OPENSSL_cleanse(ch.out, SW_AWSCREDS_PROCESS_OUTPUT_MAX);
    free(ch.out);
    return st;
}
