/*
 * Unit tests for exporters/report_mail: the tally read from a report's JSON (written here by
 * hand in the documented schema), the webhook body read back with cJSON, and the MIME message's
 * form (RFC 5322 / 2045: CRLF line ends, lines within 78 characters, the boundaries, every part
 * decoding back to its input).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <string.h>

#include "slawatch/base64.h"
#include "slawatch/report_mail.h"

static const char REPORT_JSON[] =
    "{\"month\":\"2026-10\",\"time_zone\":\"Europe/Berlin\",\"summary\":{},"
    "\"services\":["
    "{\"name\":\"api\",\"objectives\":[{\"name\":\"availability\",\"met\":true},"
    "{\"name\":\"latency-p99\",\"met\":false},{\"name\":\"error-rate\",\"met\":false},"
    "{\"name\":\"throughput\",\"met\":null}]},"
    "{\"name\":\"web \\\"beta\\\"\",\"objectives\":[{\"name\":\"availability\",\"met\":null}]}]}";

static void
read_summary(sw_report_summary *s)
{
    sw_err err = {0};
    assert_int_equal(
        sw_report_summary_read((const uint8_t *)REPORT_JSON, strlen(REPORT_JSON), s, &err), SW_OK);
}

static void
test_summary(void **state)
{
    (void)state;
    sw_report_summary s;
    read_summary(&s);
    assert_string_equal(s.month, "2026-10");
    assert_string_equal(s.time_zone, "Europe/Berlin");
    assert_int_equal(s.n_services, 2);
    assert_int_equal(s.met, 1);
    assert_int_equal(s.missed, 2);
    assert_int_equal(s.no_verdict, 2);
    assert_string_equal(s.services[0].name, "api");
    assert_string_equal(s.services[0].missed_names, "latency-p99, error-rate");
    assert_string_equal(s.services[1].name, "web \"beta\"");
    assert_int_equal(s.services[1].no_verdict, 1);
    assert_string_equal(s.services[1].missed_names, "");
    sw_buf line;
    sw_buf_init(&line, 1024);
    assert_int_equal(sw_report_summary_line(&s, &line, NULL), SW_OK);
    assert_string_equal(sw_buf_cstr(&line, NULL),
                        "SLA report 2026-10 (Europe/Berlin): 1 met, 2 missed, 2 without a verdict");
    sw_buf_fini(&line);
    sw_report_summary_fini(&s);
}

static void
test_summary_refuses_other_json(void **state)
{
    (void)state;
    static const char empty_objective[] = "{\"month\":\"2026-10\",\"time_zone\":\"UTC\","
                                          "\"services\":[{\"name\":\"a\",\"objectives\":[{}]}]}";
    static const char *const bad[] = {"{\"month\":\"2026-10\"}", "[1,2]", "{", empty_objective};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sw_report_summary s;
        sw_err err = {0};
        assert_int_equal(sw_report_summary_read((const uint8_t *)bad[i], strlen(bad[i]), &s, &err),
                         SW_E_PARSE);
        assert_int_equal(s.n_services, 0);
    }
}

static void
test_webhook_body(void **state)
{
    (void)state;
    sw_report_summary s;
    read_summary(&s);
    sw_buf out;
    sw_buf_init(&out, 1 << 20);
    assert_int_equal(sw_report_webhook_body(&s, "https://sla.example.com/reports", &out, NULL),
                     SW_OK);
    cJSON *doc = cJSON_ParseWithLength((const char *)out.data, out.len);
    assert_non_null(doc);
    assert_string_equal(cJSON_GetObjectItem(doc, "text")->valuestring,
                        "SLA report 2026-10 (Europe/Berlin): 1 met, 2 missed, 2 without a verdict\n"
                        "api: 1 met, 2 missed (latency-p99, error-rate), 1 without a verdict\n"
                        "web \"beta\": 0 met, 0 missed, 1 without a verdict\n"
                        "https://sla.example.com/reports");
    assert_string_equal(cJSON_GetObjectItem(doc, "url")->valuestring,
                        "https://sla.example.com/reports");
    assert_int_equal(cJSON_GetObjectItem(doc, "missed")->valueint, 2);
    const cJSON *web = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "services"), 1);
    assert_string_equal(cJSON_GetObjectItem(web, "name")->valuestring, "web \"beta\"");
    assert_int_equal(cJSON_GetObjectItem(web, "no_verdict")->valueint, 1);
    cJSON_Delete(doc);
    sw_buf_fini(&out);
    sw_report_summary_fini(&s);
}

/* The base64 lines after the part header naming content_type, up to the next boundary. */
static void
part_body(const char *msg, const char *content_type, sw_buf *out)
{
    const char *p = strstr(msg, content_type);
    assert_non_null(p);
    p = strstr(p, "\r\n\r\n");
    assert_non_null(p);
    p += 4;
    const char *end = strstr(p, "\r\n--");
    assert_non_null(end);
    sw_buf b64;
    sw_buf_init(&b64, 1 << 24);
    for (const char *q = p; q < end; q++)
        if (*q != '\r' && *q != '\n')
            assert_int_equal(sw_buf_append(&b64, q, 1, NULL), SW_OK);
    assert_int_equal(sw_base64_decode((const char *)b64.data, b64.len, out, NULL), SW_OK);
    sw_buf_fini(&b64);
}

static void
fill(sw_buf *b, const char *s, size_t times)
{
    sw_buf_init(b, 1 << 24);
    for (size_t i = 0; i < times; i++)
        assert_int_equal(sw_buf_append(b, s, strlen(s), NULL), SW_OK);
}

static void
test_message(void **state)
{
    (void)state;
    sw_report_summary s;
    read_summary(&s);
    sw_buf html, md, csv, msg;
    fill(&html, "<p>Europe \xc3\xa9t\xc3\xa9</p>\n", 300);
    fill(&md, "# SLA report\n\n. a line that starts with a dot\n", 200);
    fill(&csv, "\"api\",2026-10-01,1440\r\n", 31);
    sw_buf_init(&msg, 1 << 24);
    const char *to[] = {"a@example.com", "b@example.com"};
    sw_report_mail m = {"slawatch@example.com",
                        to,
                        2,
                        INT64_C(1793512800000),
                        "https://sla.example.com/reports",
                        &s,
                        &html,
                        &md,
                        &csv};
    assert_int_equal(sw_report_mail_build(&m, &msg, NULL), SW_OK);
    const char *text = sw_buf_cstr(&msg, NULL);
    /* 2026-11-01T06:00:00Z was a Sunday. */
    assert_non_null(strstr(text, "\r\nDate: Sun, 01 Nov 2026 06:00:00 +0000\r\n"));
    assert_non_null(strstr(text, "To: <a@example.com>,\r\n <b@example.com>\r\n"));
    /* Folded after the zone: unfolded, the summary line (RFC 5322 2.2.3). */
    assert_non_null(strstr(text,
                           "Subject: SLA report 2026-10 (Europe/Berlin):\r\n 1 met, 2 missed, "
                           "2 without a verdict\r\n"));
    size_t col = 0;
    for (size_t i = 0; i < msg.len; i++) {
        if (text[i] == '\n') {
            assert_true(i > 0 && text[i - 1] == '\r'); /* CRLF only */
            col = 0;
        } else if (text[i] != '\r') {
            assert_true(++col <= 78);
        }
    }
    sw_buf got;
    sw_buf_init(&got, 1 << 24);
    part_body(text, "Content-Type: text/csv", &got);
    assert_int_equal(got.len, csv.len);
    assert_memory_equal(got.data, csv.data, csv.len);
    sw_buf_reset(&got);
    part_body(text, "Content-Type: text/html", &got);
    assert_memory_equal(got.data, html.data, html.len);
    sw_buf_reset(&got);
    part_body(text, "Content-Type: text/plain", &got);
    assert_memory_equal(got.data, md.data, md.len); /* the Markdown, then the link */
    assert_non_null(strstr(sw_buf_cstr(&got, NULL), "https://sla.example.com/reports"));
    assert_non_null(strstr(text, "filename=\"sla-report-2026-10.csv\""));
    sw_buf *bufs[] = {&html, &md, &csv, &msg, &got};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        sw_buf_fini(bufs[i]);
    sw_report_summary_fini(&s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_summary),
        cmocka_unit_test(test_summary_refuses_other_json),
        cmocka_unit_test(test_webhook_body),
        cmocka_unit_test(test_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
