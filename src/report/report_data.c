/* report_data: rebuild the datasets the data figures draw.
 *
 * The database keeps no data rows, only the spec text (with the directory
 * its relative CSV paths resolve against) and each trial's seed, and the
 * data pipeline is deterministic in (spec, data seed): so the report parses
 * the stored spec, expands its sweep and runs the same source -> augment ->
 * split pipeline the runner ran. That happens once per report: the spec is
 * parsed and expanded once and each data source read once; only the cheap
 * pipeline runs again for each trial shown. A trial's sweep point is found
 * by its stored params, as `runexp reproduce` finds it. The data seed is the
 * spec's data.seed when given, else the trial's seed (as the runner does).
 * Anything that fails here only removes the data points from the figures,
 * and the reason goes to report_data.data_note.
 */
#include "report.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec.h"
#include "sweep.h"

void report_dataset_free(report_dataset *ds)
{
    if (!ds)
        return;
    data_set_free(&ds->source);
    data_splits_free(&ds->splits);
    memset(ds, 0, sizeof *ds);
}

/* The parsed spec, its plan and the data sources read so far. */
typedef struct rebuild {
    char note[256];          /* why nothing can be rebuilt; "" when fine */
    spec_document *doc;
    sweep_plan plan;
    data_set *sources;       /* per plan point; read on first use */
    size_t *source_of;       /* the point whose sources[] entry it uses;
                                SIZE_MAX while unread */
} rebuild;

static void rebuild_open(rebuild *rb, const char *spec_text, const char *spec_file,
                         const char *base_dir)
{
    spec_diagnostics diags;
    memset(rb, 0, sizeof *rb);
    spec_diagnostics_init(&diags);
    const char *file = spec_file && *spec_file ? spec_file : "spec.yaml";
    rb->doc = spec_document_parse(spec_text, strlen(spec_text), file,
                                  base_dir && *base_dir ? base_dir : ".", &diags);
    if (!rb->doc) {
        snprintf(rb->note, sizeof rb->note, "the stored spec no longer validates%s%.200s",
                 diags.n ? ": " : "", diags.n ? diags.items[0].message : "");
    } else if (sweep_plan_build(rb->doc, &rb->plan, &diags)) {
        snprintf(rb->note, sizeof rb->note, "the stored spec's sweep does not expand%s%.200s",
                 diags.n ? ": " : "", diags.n ? diags.items[0].message : "");
    } else {
        size_t n = rb->plan.n_points ? rb->plan.n_points : 1;
        rb->sources = calloc(n, sizeof *rb->sources);
        rb->source_of = malloc(n * sizeof *rb->source_of);
        if (!rb->sources || !rb->source_of)
            snprintf(rb->note, sizeof rb->note, "out of memory");
        else
            for (size_t i = 0; i < n; i++)
                rb->source_of[i] = SIZE_MAX;
    }
    spec_diagnostics_free(&diags);
}

static void rebuild_close(rebuild *rb)
{
    for (size_t i = 0; rb->sources && i < rb->plan.n_points; i++)
        data_set_free(&rb->sources[i]);
    free(rb->sources);
    free(rb->source_of);
    sweep_plan_free(&rb->plan);
    spec_document_free(rb->doc);
    memset(rb, 0, sizeof *rb);
}

static int same_source(const spec_experiment *a, const spec_experiment *b)
{
    if (a->data.source != b->data.source)
        return 0;
    if (a->data.source != SPEC_SOURCE_CSV)
        return 1;
    const char *pa = a->data.csv_path ? a->data.csv_path : "";
    const char *pb = b->data.csv_path ? b->data.csv_path : "";
    const char *la = a->data.csv_label ? a->data.csv_label : "";
    const char *lb = b->data.csv_label ? b->data.csv_label : "";
    return !strcmp(pa, pb) && !strcmp(la, lb) && !a->data.csv_label == !b->data.csv_label;
}

/* The source of plan point pi, read once for all points that share it. */
static const data_set *point_source(rebuild *rb, size_t pi, char *note, size_t note_size)
{
    if (rb->source_of[pi] != SIZE_MAX)
        return &rb->sources[rb->source_of[pi]];
    const spec_experiment *e = &rb->plan.points[pi].spec;
    for (size_t j = 0; j < rb->plan.n_points; j++)
        if (rb->source_of[j] == j && same_source(&rb->plan.points[j].spec, e)) {
            rb->source_of[pi] = j;
            return &rb->sources[j];
        }
    data_error derr;
    memset(&derr, 0, sizeof derr);
    int rc;
    switch (e->data.source) {
    case SPEC_SOURCE_XOR:
        rc = data_source_xor(&rb->sources[pi]);
        break;
    case SPEC_SOURCE_DIGITS:
        rc = data_source_digits(&rb->sources[pi], &derr);
        break;
    default:
        rc = data_source_csv(e->data.csv_path, e->data.csv_label, &rb->sources[pi], &derr);
        break;
    }
    if (rc) {
        data_set_free(&rb->sources[pi]);
        snprintf(note, note_size, "the data source cannot be read: %.200s", derr.message);
        return NULL;
    }
    rb->source_of[pi] = pi;
    return &rb->sources[pi];
}

/* The dataset of the trial with these params and seed. with_source: also a
 * copy of the source (the preview draws digit images from it). */
static int rebuild_dataset(rebuild *rb, const char *params_json, long long seed,
                           int with_source, report_dataset *ds)
{
    memset(ds, 0, sizeof *ds);
    if (rb->note[0]) {
        snprintf(ds->note, sizeof ds->note, "%s", rb->note);
        return -1;
    }
    size_t pi = rb->plan.n_points;
    for (size_t i = 0; i < rb->plan.n_points; i++)
        if (!strcmp(rb->plan.points[i].params_json, params_json ? params_json : "")) {
            pi = i;
            break;
        }
    if (pi == rb->plan.n_points) {
        snprintf(ds->note, sizeof ds->note, "sweep point %.200s is not in the stored spec's plan",
                 params_json ? params_json : "?");
        return -1;
    }
    const spec_experiment *e = &rb->plan.points[pi].spec;
    const data_set *src = point_source(rb, pi, ds->note, sizeof ds->note);
    if (!src)
        return -1;
    data_error derr;
    memset(&derr, 0, sizeof derr);
    uint64_t data_seed = e->data.has_seed ? e->data.seed : (uint64_t)seed;
    if (data_pipeline_build(src, &e->data.pipeline, data_seed, &ds->splits, &derr)) {
        snprintf(ds->note, sizeof ds->note, "the data pipeline failed: %.200s", derr.message);
        data_splits_free(&ds->splits);
        return -1;
    }
    if (with_source && data_set_copy(&ds->source, src)) {
        snprintf(ds->note, sizeof ds->note, "out of memory");
        report_dataset_free(ds);
        return -1;
    }
    ds->seed = (long long)data_seed;
    ds->noise = e->data.pipeline.noise;
    ds->is_xor = e->data.source == SPEC_SOURCE_XOR;
    ds->ok = 1;
    return 0;
}

void report_datasets_build(report_data *d)
{
    /* The dataset preview shows the data of the first finished trial (the
     * smallest seed of the first sweep point); each boundary panel the test
     * rows of the trial it shows. */
    const report_trial *t0 = NULL;
    for (size_t i = 0; i < d->n_points && !t0; i++)
        if (d->points[i].n_trials)
            t0 = &d->trials[d->points[i].trials[0]];
    if (!t0)
        return;
    rebuild rb;
    rebuild_open(&rb, d->spec, d->spec_file, d->base_dir);
    /* The description, as the spec gives it (the same for every point). */
    const spec_experiment *base = rb.doc ? spec_document_base(rb.doc) : NULL;
    if (base && !d->description && base->description && *base->description)
        d->description = strdup(base->description);
    if (rebuild_dataset(&rb, t0->params_json, t0->seed, 1, &d->dataset))
        snprintf(d->data_note, sizeof d->data_note, "%s", d->dataset.note);
    /* Only the points drawn as boundary panels need their test rows. */
    for (size_t s = 0; s < d->n_shown; s++) {
        report_point *p = &d->points[d->shown[s]];
        if (!p->n_trials || !d->trials[p->median].has_grid)
            continue;
        const report_trial *t = &d->trials[p->median];
        report_dataset ds;
        if (rebuild_dataset(&rb, t->params_json, t->seed, 0, &ds) == 0) {
            p->test_rows = ds.splits.test;
            memset(&ds.splits.test, 0, sizeof ds.splits.test);
            p->has_test_rows = 1;
        } else if (!d->data_note[0]) {
            snprintf(d->data_note, sizeof d->data_note, "%s", ds.note);
        }
        report_dataset_free(&ds);
    }
    rebuild_close(&rb);
}
