/*
 * Status codes and the error record every fallible function fills.
 *
 * A `sw_err` lives on the caller's stack and is passed last; it may be NULL when the caller
 * only wants the status. The function that detects a failure writes the message; callers
 * propagate it or prefix context with sw_err_prefix().
 */
#ifndef SLAWATCH_ERR_H
#define SLAWATCH_ERR_H

#include <stddef.h>

/* X(name, text): the one list of status codes, so names and strings cannot drift. */
#define SW_STATUS_LIST(X)                                                                          \
    X(SW_OK, "ok")                                                                                 \
    X(SW_E_INVAL, "invalid argument")                                                              \
    X(SW_E_NOMEM, "out of memory")                                                                 \
    X(SW_E_IO, "input/output error")                                                               \
    X(SW_E_PARSE, "parse error")                                                                   \
    X(SW_E_TRUNCATED, "truncated input")                                                           \
    X(SW_E_TOOBIG, "input exceeds a size limit")                                                   \
    X(SW_E_RANGE, "value out of range")                                                            \
    X(SW_E_MISMATCH, "incompatible operands")                                                      \
    X(SW_E_UNSUPPORTED, "unsupported format")

typedef enum sw_status {
#define SW_STATUS_ENUM(name, text) name,
    SW_STATUS_LIST(SW_STATUS_ENUM)
#undef SW_STATUS_ENUM
} sw_status;

#define SW_ERR_MSG_MAX 256

typedef struct sw_err {
    sw_status code;
    int sys_errno; /* errno at the failure, 0 when not a system error */
    char msg[SW_ERR_MSG_MAX];
} sw_err;

/* Static text of a status code ("parse error"); never NULL. */
const char *sw_err_str(sw_status code);

/*
 * Record a failure in err (which may be NULL) and return code, so a failing path reads
 * `return sw_err_set(err, SW_E_PARSE, "line %d: expected ...", line);`.
 */
sw_status sw_err_set(sw_err *err, sw_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Like sw_err_set() but also records errno and appends strerror(errno). */
sw_status sw_err_sys(sw_err *err, sw_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Put "context: " in front of the message already in err (no-op for NULL). */
void sw_err_prefix(sw_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Programming mistakes, never untrusted input: abort with the failed condition. */
#define SW_REQUIRE(cond)                                                                           \
    ((cond) ? (void)0 : sw_require_failed(#cond, __FILE__, __LINE__))

_Noreturn void sw_require_failed(const char *cond, const char *file, int line);

#endif
