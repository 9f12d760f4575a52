/*
 * HTML to PDF through headless Chromium (report_pdf.h). Chromium runs in a process group of its
 * own (it starts helpers: the timeout kills them all), waited for through a pidfd so the
 * deadline needs no polling loop (a 50 ms waitpid loop where pidfds are missing), with its
 * output kept in the temporary directory for the error message. No network: every host resolves
 * to nothing and any connection goes to a closed proxy port, so a report that referred to
 * something outside would print without it.
 */
#define _GNU_SOURCE
#include "slawatch/report_pdf.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "slawatch/durable.h"

extern char **environ;

#define PDF_MAX_BYTES ((size_t)1 << 30)

static const char *const browsers[] = {"chromium", "chromium-browser", "google-chrome"};

/* The first browser on PATH, its full path into out; false when none is. */
static bool
find_browser(char *out, size_t cap)
{
    const char *path = getenv("PATH");
    for (size_t b = 0; path != NULL && b < sizeof browsers / sizeof browsers[0]; b++) {
        for (const char *p = path; *p;) {
            size_t n = strcspn(p, ":");
            if (n > 0 && (size_t)snprintf(out, cap, "%.*s/%s", (int)n, p, browsers[b]) < cap &&
                access(out, X_OK) == 0)
                return true;
            p += n + (p[n] == ':');
        }
    }
    return false;
}

static int
remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void
remove_tree(const char *dir)
{
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static sw_status
write_file(const char *path, const char *data, size_t len, sw_err *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return sw_err_sys(err, SW_E_IO, "cannot write %s", path);
    sw_status rc = sw_durable_write_all(fd, (const uint8_t *)data, len, path, err);
    close(fd);
    return rc;
}

/* The last non-empty line of Chromium's output, for the error message. */
static void
last_line(const char *log_path, char *out, size_t cap)
{
    out[0] = '\0';
    FILE *f = fopen(log_path, "r");
    char line[512];
    while (f != NULL && fgets(line, sizeof line, f) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0])
            snprintf(out, cap, "%.*s", (int)(cap - 1), line);
    }
    if (f != NULL)
        fclose(f);
}

static sw_status
spawn(const char *const *argv, const char *log_path, pid_t *ret_pid, sw_err *err)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
    /* posix_spawn's argv is not const only for historical reasons: it is not written */
    int rc = posix_spawn(ret_pid, argv[0], &fa, &attr, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
        errno = rc;
        return sw_err_sys(err, SW_E_IO, "cannot run %s", argv[0]);
    }
    return SW_OK;
}

/* Without pidfds (kernels before 5.3, valgrind): waitpid every 50 ms up to the deadline. */
static bool
exited_by(pid_t pid, int timeout_s, int *status)
{
    struct timespec step = {0, 50 * 1000 * 1000};
    for (long waited_ms = 0; waited_ms < timeout_s * 1000L; waited_ms += 50) {
        if (waitpid(pid, status, WNOHANG) == pid)
            return true;
        nanosleep(&step, NULL);
    }
    return false;
}

/* Wait for pid up to timeout_s (past it the whole group is killed); its wait status. */
static int
wait_for(pid_t pid, int timeout_s, bool *ret_timed_out)
{
    int fd = (int)syscall(SYS_pidfd_open, pid, 0), status = 0;
    *ret_timed_out = false;
    if (fd >= 0) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int rc;
        do
            rc = poll(&p, 1, timeout_s * 1000);
        while (rc < 0 && errno == EINTR);
        close(fd);
        *ret_timed_out = rc == 0;
    } else if (exited_by(pid, timeout_s, &status)) {
        kill(-pid, SIGKILL); /* helpers a browser that exited left behind */
        return status;
    } else {
        *ret_timed_out = true;
    }
    if (*ret_timed_out)
        kill(-pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    kill(-pid, SIGKILL); /* helpers a browser that exited left behind */
    return status;
}

static sw_status
read_pdf(const char *path, sw_buf *out, sw_err *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return sw_err_set(err, SW_E_IO, "chromium wrote no PDF");
    char chunk[65536];
    size_t n, total = 0;
    sw_status rc = SW_OK;
    while (rc == SW_OK && (n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        total += n;
        rc = total > PDF_MAX_BYTES ? sw_err_set(err, SW_E_TOOBIG, "the PDF exceeds 1 GiB")
                                   : sw_buf_append(out, chunk, n, err);
    }
    fclose(f);
    if (rc == SW_OK && total < 5)
        rc = sw_err_set(err, SW_E_IO, "chromium wrote an empty PDF");
    return rc;
}

static sw_status
print_in(const char *dir, const char *browser, const char *html, size_t len, int timeout_s,
         sw_buf *out, sw_err *err)
{
    char page[4200], pdf[4200], log[4200], profile[4200], url[4300], to_pdf[4300], data[4300];
    snprintf(page, sizeof page, "%s/report.html", dir);
    snprintf(pdf, sizeof pdf, "%s/report.pdf", dir);
    snprintf(log, sizeof log, "%s/chromium.log", dir);
    snprintf(profile, sizeof profile, "%s/profile", dir);
    snprintf(url, sizeof url, "file://%s", page);
    snprintf(to_pdf, sizeof to_pdf, "--print-to-pdf=%s", pdf);
    snprintf(data, sizeof data, "--user-data-dir=%s", profile);
    sw_status rc = write_file(page, html, len, err);
    if (rc != SW_OK)
        return rc;
    const char *argv[] = {browser, "--headless", "--disable-gpu", "--no-first-run",
                          "--no-default-browser-check", "--disable-extensions", "--disable-sync",
                          "--disable-background-networking", "--disable-component-update",
                          "--disable-dev-shm-usage", "--host-resolver-rules=MAP * ~NOTFOUND",
                          "--proxy-server=127.0.0.1:9", "--no-pdf-header-footer", data, to_pdf,
                          /* root cannot use the sandbox (and the report is our own page) */
                          geteuid() == 0 ? "--no-sandbox" : "--disable-breakpad", url, NULL};
    pid_t pid;
    if ((rc = spawn(argv, log, &pid, err)) != SW_OK)
        return rc;
    bool timed_out;
    int status = wait_for(pid, timeout_s, &timed_out);
    char why[300];
    if (timed_out)
        return sw_err_set(err, SW_E_IO, "%s did not print the PDF within %d s (killed)", browser,
                          timeout_s);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        last_line(log, why, sizeof why);
        return sw_err_set(err, SW_E_IO, "%s failed printing the PDF (%s %d)%s%s", browser,
                          WIFEXITED(status) ? "exit status" : "signal",
                          WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
                          why[0] ? ": " : "", why);
    }
    return read_pdf(pdf, out, err);
}

sw_status
sw_report_pdf_render(const char *html, size_t len, int timeout_s, sw_buf *out, sw_err *err)
{
    char browser[4096];
    if (!find_browser(browser, sizeof browser))
        return sw_err_set(err, SW_E_UNSUPPORTED,
                          "PDF needs headless Chromium and none is on PATH (chromium, "
                          "chromium-browser or google-chrome; Debian: apt-get install chromium); "
                          "or write --format html and print it from a browser");
    const char *tmp = getenv("TMPDIR");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/slawatch-pdf-XXXXXX", tmp != NULL && tmp[0] ? tmp : "/tmp");
    if (mkdtemp(dir) == NULL)
        return sw_err_sys(err, SW_E_IO, "cannot make a temporary directory in %s",
                          tmp != NULL && tmp[0] ? tmp : "/tmp");
    sw_status rc = print_in(dir, browser, html, len, timeout_s, out, err);
    remove_tree(dir);
    return rc;
}
