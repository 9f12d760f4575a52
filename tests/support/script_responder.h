/*
 * A loopback HTTP/1.1 stand-in that answers requests with a script: the i-th request gets the
 * i-th scripted status (with an optional extra header line and body), every later one 204.
 * Each request (headers and body) and its arrival time are kept for the test to inspect. One
 * thread serves connections one at a time and closes each after its answer.
 */
#ifndef SW_TEST_SCRIPT_RESPONDER_H
#define SW_TEST_SCRIPT_RESPONDER_H

#include <stddef.h>
#include <stdint.h>

#define SCRIPT_MAX 16

typedef struct script_step {
    int status;
    const char *header; /* "Name: value" or NULL */
    const char *body;   /* or NULL */
} script_step;

typedef struct script_request {
    char head[4096];     /* request line and headers, NUL-terminated */
    unsigned char *body; /* malloc'd */
    size_t body_len;
    int64_t at_ms; /* monotonic */
} script_request;

typedef struct script_responder script_responder;

/* Listen on 127.0.0.1 on a free port; NULL on failure. steps is copied. */
script_responder *script_responder_start(const script_step *steps, size_t n);

void script_responder_stop(script_responder *r);

/* "http://127.0.0.1:PORT/api/v1/write" into out. */
void script_responder_url(const script_responder *r, char *out, size_t cap);

/* How many requests were answered so far. */
size_t script_responder_count(script_responder *r);

/* Request i (answered); valid until stop. */
const script_request *script_responder_request(script_responder *r, size_t i);

#endif
