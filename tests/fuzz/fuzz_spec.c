/* fuzz_spec: libFuzzer harness of the spec parser and the sweep planner.
 *
 * Each input is a spec file's text. It goes through spec_document_parse
 * (base directory: a private temporary directory holding a few CSV files,
 * so `source: {csv: d.csv}` and `data/blobs.csv` reach the CSV reader) and,
 * when it parses, through sweep_plan_build, the trial keys and the plan
 * printout. Beyond the sanitizers' own checks it aborts when
 * - a diagnostic has an empty message, a control character in its message
 *   (one diagnostic = one line of output, and no terminal escapes from the
 *   input), a file name other than the spec's, or a line/column outside
 *   the input;
 * - parsing fails without a diagnostic, or succeeds with one;
 * - a plan is inconsistent (trial count, indices, seeds, key format).
 * Plans of more than FUZZ_MAX_TRIALS trials are validated but not built:
 * building one costs time in proportion to its size (a legitimate 10^6
 * trial plan takes seconds), which would only slow the fuzzer down.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "spec.h"
#include "spec_internal.h"
#include "sweep.h"

#define FUZZ_FILE "fuzz.yaml"
#define FUZZ_MAX_TRIALS 20000u

static void fail(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_spec: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    abort();
}

static int write_file(const char *dir, const char *name, const char *text)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    if (!f)
        return -1;
    fputs(text, f);
    return fclose(f);
}

/* The base directory with the CSV files the corpus refers to. */
static const char *base_dir(void)
{
    static const char *dir;
    static int done;
    if (done)
        return dir;
    done = 1;
    dir = fuzz_temp_dir();
    if (!dir)
        fail("cannot create a temporary directory", NULL);
    char sub[512];
    snprintf(sub, sizeof sub, "%s/data", dir);
    if (write_file(dir, "d.csv", "a,b,label\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n0.5,0.5,1\n") != 0 ||
        write_file(dir, "bad.csv", "a,b,label\n0,0,0\n1,x,1\n") != 0 || mkdir(sub, 0700) != 0 ||
        write_file(dir, "data/blobs.csv",
                   "x0,x1,shape\n3.4,1.7,square\n-0.1,1.9,circle\n0.2,-3.1,triangle\n"
                   "3.1,1.5,square\n0.3,2.2,circle\n-0.4,-2.8,triangle\n") != 0)
        fail("cannot write the CSV fixtures", dir);
    return dir;
}

static void check_diags(const spec_diagnostics *d, const char *text, size_t len)
{
    for (size_t i = 0; i < d->n; i++) {
        const spec_diag *g = &d->items[i];
        if (!g->message || !g->message[0])
            fail("empty diagnostic message", NULL);
        for (const unsigned char *c = (const unsigned char *)g->message; *c; c++)
            if (*c < 0x20 || *c == 0x7F)
                fail("control character in a diagnostic", g->message);
        if (!g->file)
            fail("diagnostic names no file", NULL);
        /* A problem inside a CSV the spec names is reported in the CSV's
         * coordinates, followed by the spec's own diagnostic. */
        if (strcmp(g->file, FUZZ_FILE) != 0) {
            if (i + 1 >= d->n || !d->items[i + 1].file ||
                strcmp(d->items[i + 1].file, FUZZ_FILE) != 0)
                fail("diagnostic names another file", g->file);
            continue;
        }
        if (!fuzz_position_ok(text, len, g->line, g->column, 0)) {
            char b[1200];
            snprintf(b, sizeof b, "%u:%u: %s", g->line, g->column, g->message);
            fail("diagnostic position outside the input", b);
        }
    }
}

static void check_plan(const sweep_plan *plan, const spec_document *doc)
{
    const uint64_t *seeds;
    size_t n_seeds = spec_document_seeds(doc, &seeds);
    if (plan->n_points == 0 || plan->n_trials != plan->n_points * n_seeds)
        fail("plan size is not points x seeds", NULL);
    for (size_t i = 0; i < plan->n_trials; i++) {
        const sweep_trial *t = &plan->trials[i];
        if (t->index != i || t->point != i / n_seeds || t->seed != seeds[i % n_seeds])
            fail("trial out of order", NULL);
        if (strlen(t->key) != 64 || strspn(t->key, "0123456789abcdef") != 64)
            fail("malformed trial key", t->key);
    }
    for (size_t p = 0; p < plan->n_points; p++) {
        const sweep_point *pt = &plan->points[p];
        if (!pt->canonical || !pt->params_json || pt->n_values != plan->n_dims)
            fail("incomplete sweep point", NULL);
        if (pt->spec.model.n_layers < 1 || pt->spec.model.n_layers > NN_MAX_LAYERS ||
            pt->spec.model.layers[pt->spec.model.n_layers - 1].units != pt->spec.data.n_classes)
            fail("sweep point is not a valid model", pt->canonical);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    spec_diagnostics d;
    spec_diagnostics_init(&d);
    spec_document *doc = spec_document_parse(text, size, FUZZ_FILE, base_dir(), &d);
    if (!doc && d.n == 0)
        fail("parse failed without a diagnostic", NULL);
    if (doc && d.n != 0)
        fail("parse succeeded with a diagnostic", d.items[0].message);
    if (doc) {
        const spec_sweep_entry *es;
        size_t ne = spec_document_sweep(doc, &es);
        const uint64_t *seeds;
        unsigned long long trials = spec_document_seeds(doc, &seeds);
        for (size_t i = 0; i < ne && trials <= FUZZ_MAX_TRIALS; i++)
            trials *= es[i].n_values;
        if (trials <= FUZZ_MAX_TRIALS) {
            sweep_plan plan;
            size_t before = d.n;
            if (sweep_plan_build(doc, &plan, &d) == 0) {
                if (d.n != before)
                    fail("plan built with a diagnostic", d.items[before].message);
                check_plan(&plan, doc);
                char *buf = NULL;
                size_t blen = 0;
                FILE *f = open_memstream(&buf, &blen);
                if (f) {
                    sweep_plan_print(&plan, f);
                    fclose(f);
                }
                free(buf);
                sweep_plan_free(&plan);
            } else if (d.n == before) {
                fail("plan failed without a diagnostic", NULL);
            }
        }
    }
    check_diags(&d, text, size);
    spec_document_free(doc);
    spec_diagnostics_free(&d);
    return 0;
}
