/*
 * JSON-lines intervals reader on cJSON (the only user of cJSON so far). Each field is checked
 * for type, range and unit before anything is built; the histogram is made last so an error
 * never leaves one behind. Stateless; safe from any thread.
 */
#include "slawatch/intervals.h"

#include "slawatch/hdr_codec.h"
#include "slawatch/units.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

/* Largest integer a JSON number (a double) carries exactly. */
#define JSON_MAX_EXACT 9007199254740992.0

typedef struct line_ctx {
    const char *name;
    unsigned long line;
} line_ctx;

static sw_status
field_error(const line_ctx *c, const char *field, sw_err *err, const char *what)
{
    return sw_err_set(err, SW_E_PARSE, "%s:%lu: \"%s\": %s", c->name, c->line, field, what);
}

static const char *const known_fields[] = {"service", "env",        "start",       "length_s",
                                           "requests", "errors",    "latency_us", "latency_hdr",
                                           "health"};

static sw_status
check_fields(const line_ctx *c, const cJSON *obj, sw_err *err)
{
    for (const cJSON *f = obj->child; f != NULL; f = f->next) {
        bool known = false;
        for (size_t i = 0; i < sizeof known_fields / sizeof known_fields[0]; i++)
            known = known || strcmp(f->string, known_fields[i]) == 0;
        if (!known)
            return field_error(c, f->string, err, "unknown field; expected one of service, env, "
                               "start, length_s, requests, errors, latency_us, latency_hdr, health");
        for (const cJSON *g = f->next; g != NULL; g = g->next)
            if (strcmp(f->string, g->string) == 0)
                return field_error(c, f->string, err, "field appears twice");
    }
    return SW_OK;
}

/* A non-negative integer that a double holds exactly. */
static bool
json_count(const cJSON *v, uint64_t *ret)
{
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > JSON_MAX_EXACT ||
        v->valuedouble != floor(v->valuedouble))
        return false;
    *ret = (uint64_t)v->valuedouble;
    return true;
}

static sw_status
copy_name(const line_ctx *c, const cJSON *obj, const char *field, bool required, char *out,
          sw_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, field);
    out[0] = '\0';
    if (v == NULL)
        return required ? field_error(c, field, err, "missing (a name is required)") : SW_OK;
    size_t n = cJSON_IsString(v) ? strlen(v->valuestring) : 0;
    if (n == 0 || n >= SW_INTERVALS_MAX_NAME)
        return field_error(c, field, err, "expected a non-empty string of at most 127 bytes");
    memcpy(out, v->valuestring, n + 1);
    return SW_OK;
}

static sw_status
parse_times(const line_ctx *c, const cJSON *obj, int64_t base_ms, sw_sli_interval *iv,
            sw_err *err)
{
    const cJSON *start = cJSON_GetObjectItemCaseSensitive(obj, "start");
    if (!cJSON_IsString(start) ||
        !sw_units_parse_time_ms(start->valuestring, strlen(start->valuestring), &iv->start_ms))
        return field_error(c, "start", err, "expected an RFC 3339 time such as "
                                            "\"2026-10-01T00:00:00Z\"");
    if (iv->start_ms % base_ms != 0)
        return field_error(c, "start", err, "not aligned to the base interval");
    uint64_t length_s;
    const cJSON *length = cJSON_GetObjectItemCaseSensitive(obj, "length_s");
    if (!json_count(length, &length_s) || length_s == 0 || length_s > 366u * 86400 ||
        (int64_t)length_s * 1000 % base_ms != 0)
        return field_error(c, "length_s", err,
                           "expected a positive whole number of seconds, a multiple of the base "
                           "interval");
    iv->length_ms = (int64_t)length_s * 1000;
    return SW_OK;
}

static sw_status
parse_counts(const line_ctx *c, const cJSON *obj, sw_sli_interval *iv, sw_err *err)
{
    static const char *const fields[] = {"requests", "errors"};
    uint64_t *out[] = {&iv->requests, &iv->errors};
    for (int i = 0; i < 2; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, fields[i]);
        *out[i] = 0;
        if (v != NULL && !json_count(v, out[i]))
            return field_error(c, fields[i], err, "expected a non-negative integer");
    }
    if (iv->errors > iv->requests)
        return field_error(c, "errors", err, "more errors than requests");
    return SW_OK;
}

static sw_status
parse_health(const line_ctx *c, const cJSON *obj, sw_sli_interval *iv, sw_err *err)
{
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(obj, "health");
    if (h == NULL)
        return SW_OK;
    if (!cJSON_IsArray(h))
        return field_error(c, "health", err, "expected a list of probe results (1 ok, 0 failed)");
    for (const cJSON *r = h->child; r != NULL; r = r->next) {
        if (!cJSON_IsNumber(r) || (r->valuedouble != 0 && r->valuedouble != 1))
            return field_error(c, "health", err, "probe results must be 1 (ok) or 0 (failed)");
        sw_health_record(&iv->health, r->valuedouble == 1);
    }
    return SW_OK;
}

static sw_status
latency_from_values(const line_ctx *c, const cJSON *values, sw_hdr **ret, sw_err *err)
{
    if (!cJSON_IsArray(values))
        return field_error(c, "latency_us", err, "expected a list of microsecond values");
    sw_hdr *h;
    sw_status st = sw_hdr_new(&sw_hdr_latency_config, &h, err);
    if (st != SW_OK)
        return st;
    for (const cJSON *v = values->child; v != NULL; v = v->next) {
        uint64_t us;
        if (!json_count(v, &us)) {
            sw_hdr_free(h);
            return field_error(c, "latency_us", err, "values must be non-negative integers");
        }
        sw_hdr_record(h, (int64_t)us); /* above 1 h: counted as overflow */
    }
    *ret = h;
    return SW_OK;
}

static sw_status
parse_latency(const line_ctx *c, const cJSON *obj, sw_sli_interval *iv, sw_err *err)
{
    const cJSON *values = cJSON_GetObjectItemCaseSensitive(obj, "latency_us");
    const cJSON *hdr = cJSON_GetObjectItemCaseSensitive(obj, "latency_hdr");
    if (values != NULL && hdr != NULL)
        return field_error(c, "latency_hdr", err, "give latency_us or latency_hdr, not both");
    if (values != NULL)
        return latency_from_values(c, values, &iv->latency, err);
    if (hdr == NULL)
        return SW_OK;
    if (!cJSON_IsString(hdr))
        return field_error(c, "latency_hdr", err, "expected a base64 HdrHistogram V2 encoding");
    sw_status st = sw_hdr_decode_base64(hdr->valuestring, strlen(hdr->valuestring), &iv->latency,
                                        err);
    if (st != SW_OK)
        sw_err_prefix(err, "%s:%lu: \"latency_hdr\"", c->name, c->line);
    return st;
}

static sw_status
parse_object(const line_ctx *c, const cJSON *obj, int64_t base_ms, sw_intervals_line *out,
             sw_err *err)
{
    sw_status st = check_fields(c, obj, err);
    if (st == SW_OK)
        st = copy_name(c, obj, "service", true, out->service, err);
    if (st == SW_OK)
        st = copy_name(c, obj, "env", false, out->env, err);
    if (st == SW_OK)
        st = parse_times(c, obj, base_ms, &out->iv, err);
    if (st == SW_OK)
        st = parse_counts(c, obj, &out->iv, err);
    if (st == SW_OK)
        st = parse_health(c, obj, &out->iv, err);
    if (st == SW_OK)
        st = parse_latency(c, obj, &out->iv, err);
    return st;
}

sw_status
sw_intervals_parse_line(const char *text, size_t len, int64_t base_interval_ms, const char *name,
                        unsigned long line_no, sw_intervals_line *ret, sw_err *err)
{
    line_ctx c = {.name = name, .line = line_no};
    if (len > SW_INTERVALS_MAX_LINE)
        return sw_err_set(err, SW_E_TOOBIG, "%s:%lu: line longer than %u bytes", name, line_no,
                          SW_INTERVALS_MAX_LINE);
    const char *end = NULL;
    cJSON *obj = cJSON_ParseWithLengthOpts(text, len, &end, false);
    while (obj != NULL && end < text + len && strchr(" \t\r", *end) != NULL)
        end++;
    if (obj != NULL && end != text + len) {
        cJSON_Delete(obj);
        return sw_err_set(err, SW_E_PARSE, "%s:%lu:%zu: unexpected text after the object", name,
                          line_no, (size_t)(end - text) + 1);
    }
    if (obj == NULL || !cJSON_IsObject(obj)) {
        size_t col = end && end >= text ? (size_t)(end - text) + 1 : 1;
        cJSON_Delete(obj);
        return sw_err_set(err, SW_E_PARSE, "%s:%lu:%zu: expected a JSON object", name, line_no,
                          obj ? 1 : col);
    }
    sw_intervals_line out;
    memset(&out, 0, sizeof out);
    out.iv.has_data = true;
    sw_status st = parse_object(&c, obj, base_interval_ms, &out, err);
    cJSON_Delete(obj);
    if (st != SW_OK) {
        sw_sli_interval_fini(&out.iv);
        return st;
    }
    *ret = out;
    return SW_OK;
}
