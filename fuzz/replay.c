/*
 * main() for fuzz targets built without libFuzzer: runs LLVMFuzzerTestOneInput() once over
 * every file named on the command line or found (recursively, in name order, dot files
 * skipped) in a directory named there. Each input is passed in an allocation of exactly its
 * size, so an overread trips ASan as under libFuzzer. A crash or sanitizer report fails the
 * run; so does an unreadable path or finding no input at all (a misplaced corpus).
 *
 *     replay_<target> CORPUS_DIR|FILE...
 */
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static unsigned long replayed;

static int replay_path(const char *path);

static int
replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        fclose(f);
        return -1;
    }
    size_t size = (size_t)st.st_size;
    uint8_t *data = malloc(size > 0 ? size : 1);
    if (data == NULL) {
        fprintf(stderr, "replay: %s: out of memory\n", path);
        fclose(f);
        return -1;
    }
    size_t got = fread(data, 1, size, f);
    int rc = ferror(f) || got != size || fgetc(f) != EOF ? -1 : 0;
    fclose(f);
    if (rc != 0) {
        fprintf(stderr, "replay: %s: short read or file changed size\n", path);
        free(data);
        return -1;
    }

    /* Name the input first, so a crash report below it says which one. */
    fprintf(stderr, "replay: %s (%zu bytes)\n", path, size);
    LLVMFuzzerTestOneInput(data, size);
    free(data);
    replayed++;
    return 0;
}

static int
skip_entry(const struct dirent *e)
{
    return e->d_name[0] != '.';
}

static int
replay_dir(const char *path)
{
    struct dirent **names;
    int n = scandir(path, &names, skip_entry, alphasort);
    if (n < 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < n; i++) {
        size_t len = strlen(path) + 1 + strlen(names[i]->d_name) + 1;
        char *child = malloc(len);
        if (child == NULL) {
            fprintf(stderr, "replay: out of memory\n");
            rc = -1;
        } else {
            snprintf(child, len, "%s/%s", path, names[i]->d_name);
            if (replay_path(child) != 0)
                rc = -1;
            free(child);
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

static int
replay_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (S_ISDIR(st.st_mode))
        return replay_dir(path);
    if (S_ISREG(st.st_mode))
        return replay_file(path);
    fprintf(stderr, "replay: %s: neither a file nor a directory\n", path);
    return -1;
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR|FILE...\n", argv[0]);
        return 2;
    }
    int rc = 0;
    for (int i = 1; i < argc; i++)
        if (replay_path(argv[i]) != 0)
            rc = 1;
    printf("replayed %lu inputs\n", replayed);
    if (replayed == 0) {
        fprintf(stderr, "replay: no inputs found\n");
        rc = 1;
    }
    return rc;
}
