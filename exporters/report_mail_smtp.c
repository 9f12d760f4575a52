/*
 * Sending a built report message through libcurl's SMTP: the envelope from m, the message read
 * from memory, STARTTLS required when asked (CURLUSESSL_ALL: never falls back to plain text),
 * AUTH with the mechanisms the server offers. One connection per call; retries are the
 * caller's.
 */
#include "slawatch/report_mail.h"

#include <curl/curl.h>
#include <string.h>

typedef struct reader {
    const uint8_t *data;
    size_t len, off;
} reader;

static size_t
read_message(char *dst, size_t size, size_t nitems, void *arg)
{
    reader *r = arg;
    size_t n = size * nitems, left = r->len - r->off;
    if (n > left)
        n = left;
    memcpy(dst, r->data + r->off, n);
    r->off += n;
    return n;
}

static sw_status
add_recipients(const sw_report_mail *m, struct curl_slist **list, sw_err *err)
{
    for (size_t i = 0; i < m->n_to; i++) {
        char rcpt[512];
        snprintf(rcpt, sizeof rcpt, "<%s>", m->to[i]);
        struct curl_slist *next = curl_slist_append(*list, rcpt);
        if (next == NULL)
            return sw_err_set(err, SW_E_NOMEM, "out of memory for mail recipients");
        *list = next;
    }
    return SW_OK;
}

static void
set_security(CURL *c, const sw_report_smtp *o)
{
    bool smtps = strncmp(o->url, "smtps://", 8) == 0;
    if (smtps || o->starttls)
        curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
    if (o->ca_file != NULL)
        curl_easy_setopt(c, CURLOPT_CAINFO, o->ca_file);
    if (o->username != NULL) {
        curl_easy_setopt(c, CURLOPT_USERNAME, o->username);
        curl_easy_setopt(c, CURLOPT_PASSWORD, o->password != NULL ? o->password : "");
    }
}

sw_status
sw_report_mail_send(const sw_report_smtp *o, const sw_report_mail *m, const sw_buf *message,
                    sw_err *err)
{
    CURL *c = curl_easy_init();
    struct curl_slist *rcpt = NULL;
    if (c == NULL)
        return sw_err_set(err, SW_E_NOMEM, "cannot start a mail transfer");
    sw_status st = add_recipients(m, &rcpt, err);
    char from[512], why[CURL_ERROR_SIZE] = "";
    snprintf(from, sizeof from, "<%s>", m->from);
    reader r = {message->data, message->len, 0};
    curl_easy_setopt(c, CURLOPT_URL, o->url);
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_message);
    curl_easy_setopt(c, CURLOPT_READDATA, &r);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)message->len);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)o->timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, why);
    set_security(c, o);
    CURLcode rc = st == SW_OK ? curl_easy_perform(c) : CURLE_OK;
    if (st == SW_OK && rc != CURLE_OK) {
        long code = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        st = sw_err_set(err, SW_E_IO, "mail not sent: %s (server reply %ld)",
                        why[0] ? why : curl_easy_strerror(rc), code);
    }
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(c);
    return st;
}
