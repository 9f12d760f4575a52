/*
 * The AWS shared credentials and config files (~/.aws/credentials, ~/.aws/config): INI text
 * with `[section]` headers, `key = value` (or `key: value`) lines, `#` and `;` comment lines,
 * and indented sub-properties under a key with an empty value (`cloudwatch =` then
 * `  endpoint_url = URL`, read back as key "cloudwatch.endpoint_url"). Keys are lowercased as
 * the SDKs do; section names are kept as written. A parsed file is immutable and may be read
 * from any thread. Error messages give file:line but never a line's text (it may be a secret).
 */
#ifndef SLAWATCH_AWSCREDS_FILE_H
#define SLAWATCH_AWSCREDS_FILE_H

#include <stdbool.h>
#include <stddef.h>

#include "slawatch/err.h"

#define SW_AWSCREDS_FILE_MAX_BYTES ((size_t)1 << 20)

typedef struct sw_awscreds_file sw_awscreds_file;

/*
 * Parse text[0..len), named name in messages. SW_E_TOOBIG over SW_AWSCREDS_FILE_MAX_BYTES;
 * SW_E_PARSE "name:line: ..." for a NUL byte, an unterminated or empty section header, a key
 * before any section, or a line that is neither a comment, a section nor `key = value`.
 * Repeated keys: the last one wins.
 */
sw_status sw_awscreds_file_parse(const char *text, size_t len, const char *name,
                                 sw_awscreds_file **ret_file, sw_err *err);

/* Read and parse the file at path. A missing file is SW_E_IO with sys_errno ENOENT. */
sw_status sw_awscreds_file_load(const char *path, sw_awscreds_file **ret_file, sw_err *err);

/* sw_awscreds_file_free(NULL) does nothing; values are wiped. */
void sw_awscreds_file_free(sw_awscreds_file *f);

/* The value of key in section, or NULL; valid until the file is freed. */
const char *sw_awscreds_file_get(const sw_awscreds_file *f, const char *section,
                                 const char *key);

/* Whether a `[section]` header exists (possibly with no keys). */
bool sw_awscreds_file_has_section(const sw_awscreds_file *f, const char *section);

/* How many key/value entries the file holds (for tests and the fuzz target). */
size_t sw_awscreds_file_count(const sw_awscreds_file *f);

#endif
