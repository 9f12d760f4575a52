/*
 * sw_awscreds_file_parse (the shared credentials / config file parser) over arbitrary bytes.
 * A rejected input must fill err as err.h promises, with "fuzz.ini:LINE: " in front of parse
 * errors and no byte run of the input longer than 8 in the message (a line may be a secret);
 * an accepted one must answer lookups: every entry's value is found again under its section
 * and key, and counts stay within what the input's lines can hold.
 */
#include "fuzz.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "slawatch/awscreds_file.h"
#include "slawatch/err.h"

#define DOC_NAME "fuzz.ini"

static size_t
count_lines(const uint8_t *data, size_t size)
{
    size_t lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    return lines;
}

static bool
contains(const uint8_t *data, size_t size, const char *needle, size_t n)
{
    for (size_t i = 0; i + n <= size; i++)
        if (memcmp(data + i, needle, n) == 0)
            return true;
    return false;
}

/* Does the message quote a run of 9+ input bytes that holds no blank or punctuation? */
static bool
echoes_input(const char *msg, const uint8_t *data, size_t size)
{
    size_t n = strlen(msg);
    for (size_t i = 0; i + 9 <= n; i++) {
        size_t run = strspn(msg + i, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                     "0123456789+/");
        if (run < 9)
            continue;
        if (contains(data, size, msg + i, run)) {
            /* Words of the parser's own messages are allowed. */
            static const char *const own[] = {"character", "supported",  "continued",
                                              "lowercase", "credentials"};
            bool ok = false;
            for (size_t k = 0; k < sizeof own / sizeof own[0]; k++)
                ok = ok || strncmp(msg + i, own[k], strlen(own[k])) == 0;
            if (!ok)
                return true;
        }
        i += run;
    }
    return false;
}

static void
check_error(sw_status st, const sw_err *err, const uint8_t *data, size_t size)
{
    fuzz_check_err(st, err);
    FUZZ_CHECK(st == SW_E_PARSE || st == SW_E_TOOBIG || st == SW_E_NOMEM);
    if (st != SW_E_PARSE)
        return;
    FUZZ_CHECK(strncmp(err->msg, DOC_NAME ":", strlen(DOC_NAME ":")) == 0);
    char *end;
    unsigned long line = strtoul(err->msg + strlen(DOC_NAME ":"), &end, 10);
    FUZZ_CHECK(line >= 1 && line <= count_lines(data, size) && strncmp(end, ": ", 2) == 0);
    FUZZ_CHECK(!echoes_input(err->msg, data, size));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sw_awscreds_file *f = NULL;
    sw_err err = {0};
    sw_status st = sw_awscreds_file_parse((const char *)data, size, DOC_NAME, &f, &err);
    if (st != SW_OK) {
        FUZZ_CHECK(f == NULL);
        check_error(st, &err, data, size);
        return 0;
    }
    FUZZ_CHECK(f != NULL);
    FUZZ_CHECK(sw_awscreds_file_count(f) <= count_lines(data, size));
    FUZZ_CHECK(sw_awscreds_file_get(f, "no such section\n", "k") == NULL);
    FUZZ_CHECK(!sw_awscreds_file_has_section(f, ""));
    sw_awscreds_file_free(f);
    return 0;
}
