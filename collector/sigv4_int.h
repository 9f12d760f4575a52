/*
 * The intermediate strings of the last signature in a result, for the conformance tests that
 * compare them with the published suite. Not for logs: the canonical request holds the session
 * token when it is signed.
 */
#ifndef SLAWATCH_SIGV4_INT_H
#define SLAWATCH_SIGV4_INT_H

#include "slawatch/sigv4.h"

/* The canonical request of the last successful sw_sigv4_sign() into r. */
const char *sw_sigv4_result_canonical_request(const sw_sigv4_result *r);

/* Its string to sign. */
const char *sw_sigv4_result_string_to_sign(const sw_sigv4_result *r);

#endif
