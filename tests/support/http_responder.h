/*
 * A loopback HTTP/1.1 stand-in for unit tests: listens on 127.0.0.1 on a free port and serves
 * each connection on its own thread, then closes it. Paths:
 *   /status/NNN   status NNN, body "status NNN"
 *   /big/N        200 with N bytes of 'x'
 *   /hang/MS      nothing for MS milliseconds (or until stopped), then close
 *   /echo[/...]   200 with the request (line, headers, body) as the body
 * The last request seen is kept for inspection.
 */
#ifndef SW_TEST_HTTP_RESPONDER_H
#define SW_TEST_HTTP_RESPONDER_H

#include <stddef.h>

typedef struct http_responder http_responder;

/* NULL on failure (the test should fail). */
http_responder *http_responder_start(void);

/* Stop accepting, wake hanging handlers, wait for every handler to finish, free. */
void http_responder_stop(http_responder *r);

int http_responder_port(const http_responder *r);

/* "http://127.0.0.1:PORT" + path into out. */
void http_responder_url(const http_responder *r, const char *path, char *out, size_t cap);

/* Copy of the last request's text (line, headers, body) into out, NUL-terminated. */
void http_responder_last_request(http_responder *r, char *out, size_t cap);

/* The most /hang/MS requests waiting at once with their clients connected (a client that gives
 * up ends its wait), since the start. */
int http_responder_most_hanging(http_responder *r);

#endif
