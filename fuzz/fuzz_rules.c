/*
 * Fuzz target for the rules loader (sw_rules_load_mem: slawatch rules as YAML or JSON, and
 * OpenSLO), for OpenSLO sets (sw_rules_openslo_load_mem: an input with lines `#file` is cut
 * there into files of one set) and for sw_selector_validate on the same bytes. Besides "no
 * crash, no leak, no UB": a load yields either a rule set with no diagnostics whose every
 * reference and window is consistent, or no rule set, a status matching err, and well-formed
 * diagnostic lines.
 */
#include "fuzz.h"

#include "slawatch/rules.h"
#include "slawatch/rules_openslo.h"
#include "slawatch/selector.h"

#include <math.h>

#define MAX_LINES 1001 /* the loader's 1000 lines plus "too many errors" */
#define MAX_FILES 8
#define FILE_MARK "\n#file\n"

static void
check_condition(const sw_condition *c)
{
    FUZZ_CHECK((unsigned)c->sli <= SW_SLI_HEALTH_SUCCESS);
    FUZZ_CHECK((unsigned)c->op <= SW_OP_GE);
    FUZZ_CHECK(isfinite(c->value) && c->value >= 0);
    FUZZ_CHECK(c->sli != SW_SLI_LATENCY || (c->percentile > 0 && c->percentile <= 100));
    FUZZ_CHECK(c->pos.line >= 1 && c->pos.col >= 1 && c->pos.file != NULL);
}

/* Windows are whole numbers of base intervals; 0 only where a default of 0 exists. */
static void
check_step(const sw_rules *r, int64_t ms, bool zero_ok)
{
    FUZZ_CHECK(ms >= 0 && (ms > 0 || zero_ok));
    FUZZ_CHECK(ms % r->base_interval_ms == 0);
}

static void
check_objective(const sw_rules *r, size_t i)
{
    const sw_objective *o = &r->objectives[i];
    FUZZ_CHECK(o->name != NULL && sw_rules_objective_index(r, o->name) == (ptrdiff_t)i);
    check_condition(&o->objective);
    if (o->window.kind == SW_WINDOW_ROLLING)
        check_step(r, o->window.length_ms, false);
    if (o->budgeting == SW_BUDGET_TIMESLICES || o->objective.sli == SW_SLI_THROUGHPUT)
        check_step(r, o->slice_ms, false);
    FUZZ_CHECK(o->n_bad_when >= 1);
    for (size_t k = 0; k < o->n_bad_when; k++)
        check_condition(&o->bad_when[k]);
    FUZZ_CHECK(o->slice_target > 0 && o->slice_target <= 1);
}

static void
check_alert(const sw_rules *r, const sw_alert *a)
{
    FUZZ_CHECK(a->name != NULL);
    FUZZ_CHECK((unsigned)a->severity <= SW_SEVERITY_INFO);
    check_step(r, a->for_ms, true);
    if (a->kind == SW_ALERT_CONDITION) {
        check_condition(&a->when);
        check_step(r, a->over_ms, false);
        return;
    }
    FUZZ_CHECK(a->kind == SW_ALERT_BURN_RATE && a->objective < r->n_objectives);
    sw_sli sli = r->objectives[a->objective].objective.sli;
    FUZZ_CHECK(sli == SW_SLI_AVAILABILITY || sli == SW_SLI_ERROR_RATE);
    FUZZ_CHECK(a->burn_rate > 0 && a->short_ms < a->long_ms);
    check_step(r, a->long_ms, false);
    check_step(r, a->short_ms, false);
}

static void
check_set(const sw_rules *r)
{
    FUZZ_CHECK(r->base_interval_ms > 0 && r->min_requests > 0);
    FUZZ_CHECK(r->n_services >= 1);
    for (size_t i = 0; i < r->n_services; i++) {
        const char *name = r->services[i].name;
        FUZZ_CHECK(name != NULL && sw_rules_service_index(r, name) == (ptrdiff_t)i);
    }
    for (size_t i = 0; i < r->n_objectives; i++)
        check_objective(r, i);
    for (size_t i = 0; i < r->n_alerts; i++)
        check_alert(r, &r->alerts[i]);
    for (size_t i = 0; i < r->n_triggers; i++) {
        FUZZ_CHECK(r->triggers[i].kind == SW_ALERT_CONDITION);
        check_alert(r, &r->triggers[i]);
    }
    check_step(r, r->gate.window_ms, false);
    FUZZ_CHECK(r->gate.min_requests > 0);
    for (size_t i = 0; i < r->gate.n_checks; i++)
        check_condition(&r->gate.checks[i]);
}

/* The whole set, and each service's resolved set (that one service, its own entries). */
static void
check_rules(const sw_rules *r)
{
    check_set(r);
    for (size_t i = 0; i < r->n_services; i++) {
        const sw_rules *own = sw_rules_of_service(r, i);
        FUZZ_CHECK(own->n_services == 1 && own->services == &r->services[i]);
        FUZZ_CHECK(own->explain != NULL && own->base_interval_ms == r->base_interval_ms);
        check_set(own);
    }
}

/* A bundle's lines name its files; anything else is named "fuzz". */
static void
check_failure(sw_status st, const sw_err *err, const sw_rules_diag *d, size_t n_files, bool bundle)
{
    fuzz_check_err(st, err);
    FUZZ_CHECK(st == SW_E_PARSE || st == SW_E_TOOBIG || st == SW_E_NOMEM);
    FUZZ_CHECK(st != SW_E_PARSE || sw_rules_diag_count(d) >= 1);
    FUZZ_CHECK(sw_rules_diag_count(d) <= MAX_LINES * n_files);
    for (size_t i = 0; i < sw_rules_diag_count(d); i++) {
        const char *line = sw_rules_diag_line(d, i);
        FUZZ_CHECK((bundle || strncmp(line, "fuzz", 4) == 0) && strstr(line, ": error: ") != NULL);
        FUZZ_CHECK(strchr(line, '\n') == NULL);
    }
}

/* Offset of the next FILE_MARK at or after at, or size. */
static size_t
next_mark(const char *text, size_t size, size_t at)
{
    size_t mark = strlen(FILE_MARK);
    for (size_t i = at; i + mark <= size; i++)
        if (memcmp(text + i, FILE_MARK, mark) == 0)
            return i;
    return size;
}

/* The input cut at each FILE_MARK into at most MAX_FILES files (fuzz, fuzz-1, ...) of a set. */
static void
check_openslo_files(const char *text, size_t size)
{
    static const char *const names[MAX_FILES] = {"fuzz",   "fuzz-1", "fuzz-2", "fuzz-3",
                                                 "fuzz-4", "fuzz-5", "fuzz-6", "fuzz-7"};
    sw_rules_openslo_text files[MAX_FILES];
    size_t n = 0, at = 0, next;
    while (n + 1 < MAX_FILES && (next = next_mark(text, size, at)) < size) {
        files[n] = (sw_rules_openslo_text){names[n], text + at, next - at};
        n++;
        at = next + strlen(FILE_MARK);
    }
    if (n == 0)
        return;
    files[n] = (sw_rules_openslo_text){names[n], text + at, size - at};
    n++;
    sw_rules_diag *d = sw_rules_diag_new();
    FUZZ_CHECK(d != NULL);
    sw_rules *r = NULL;
    sw_err err = {0};
    sw_status st = sw_rules_openslo_load_mem(files, n, &r, d, &err);
    if (st == SW_OK) {
        FUZZ_CHECK(r != NULL && sw_rules_diag_count(d) == 0);
        check_rules(r);
    } else {
        FUZZ_CHECK(r == NULL);
        check_failure(st, &err, d, n, false);
    }
    sw_rules_free(r);
    sw_rules_diag_free(d);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    sw_rules_diag *d = sw_rules_diag_new();
    FUZZ_CHECK(d != NULL);
    sw_rules *r = NULL;
    sw_err err = {0};
    sw_status st = sw_rules_load_mem(text, size, "fuzz", &r, d, &err);
    if (st == SW_OK) {
        FUZZ_CHECK(r != NULL && sw_rules_diag_count(d) == 0);
        check_rules(r);
    } else {
        FUZZ_CHECK(r == NULL);
        static const char magic[] = "# slawatch rules bundle 1\n";
        check_failure(st, &err, d, 1,
                      size >= sizeof magic - 1 && memcmp(text, magic, sizeof magic - 1) == 0);
    }
    sw_rules_free(r);
    sw_rules_diag_free(d);
    check_openslo_files(text, size);

    size_t offset = SIZE_MAX;
    sw_err serr = {0};
    sw_status sst = sw_selector_validate(text, size, &offset, &serr);
    if (sst != SW_OK)
        fuzz_check_err(sst, &serr);
    FUZZ_CHECK(sst == SW_E_PARSE ? offset <= size : offset == SIZE_MAX);
    return 0;
}
