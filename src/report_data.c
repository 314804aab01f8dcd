/* report_data: rebuild a trial's dataset for the data figures.
 *
 * The database keeps no data rows, only the spec text and each trial's
 * seed, and the data pipeline is deterministic in (spec, data seed): so the
 * report re-parses the stored spec, expands its sweep, and runs the same
 * source -> augment -> split pipeline the runner ran. The data seed is the
 * spec's data.seed when given, else the trial's seed (as the runner does).
 * Anything that fails here only removes the data points from the figures.
 */
#include "report.h"

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

void report_dataset_rebuild(const char *spec_text, const char *spec_file,
                            size_t point, long long seed, report_dataset *ds)
{
    spec_diagnostics diags;
    spec_document *doc = NULL;
    sweep_plan plan;
    data_error derr;
    char *base = NULL;
    int have_plan = 0;

    memset(ds, 0, sizeof *ds);
    memset(&plan, 0, sizeof plan);
    memset(&derr, 0, sizeof derr);
    spec_diagnostics_init(&diags);

    /* Relative CSV paths resolve against the spec file's directory. */
    const char *file = spec_file && *spec_file ? spec_file : "spec.yaml";
    const char *slash = strrchr(file, '/');
    size_t blen = slash ? (size_t)(slash - file) : 1;
    base = malloc(blen + 1);
    if (!base) {
        snprintf(ds->note, sizeof ds->note, "out of memory");
        goto done;
    }
    if (slash)
        memcpy(base, file, blen);
    else
        base[0] = '.';
    base[blen] = '\0';

    doc = spec_document_parse(spec_text, strlen(spec_text), file, base, &diags);
    if (!doc) {
        snprintf(ds->note, sizeof ds->note, "the stored spec no longer validates%s%.200s",
                 diags.n ? ": " : "", diags.n ? diags.items[0].message : "");
        goto done;
    }
    if (sweep_plan_build(doc, &plan, &diags)) {
        snprintf(ds->note, sizeof ds->note, "the stored spec's sweep does not expand");
        goto done;
    }
    have_plan = 1;
    if (point >= plan.n_points) {
        snprintf(ds->note, sizeof ds->note, "sweep point %zu is not in the spec's plan", point);
        goto done;
    }
    const spec_experiment *e = &plan.points[point].spec;
    int rc;
    switch (e->data.source) {
    case SPEC_SOURCE_XOR:
        rc = data_source_xor(&ds->source);
        break;
    case SPEC_SOURCE_DIGITS:
        rc = data_source_digits(&ds->source, &derr);
        break;
    default:
        rc = data_source_csv(e->data.csv_path, e->data.csv_label, &ds->source, &derr);
        break;
    }
    if (rc) {
        snprintf(ds->note, sizeof ds->note, "the data source cannot be read: %.200s",
                 derr.message);
        goto done;
    }
    uint64_t data_seed = e->data.has_seed ? e->data.seed : (uint64_t)seed;
    if (data_pipeline_build(&ds->source, &e->data.pipeline, data_seed, &ds->splits, &derr)) {
        snprintf(ds->note, sizeof ds->note, "the data pipeline failed: %.200s", derr.message);
        goto done;
    }
    ds->seed = (long long)data_seed;
    ds->noise = e->data.pipeline.noise;
    ds->is_xor = e->data.source == SPEC_SOURCE_XOR;
    ds->ok = 1;
done:
    if (!ds->ok) {
        data_set_free(&ds->source);
        data_splits_free(&ds->splits);
    }
    if (have_plan)
        sweep_plan_free(&plan);
    spec_document_free(doc);
    spec_diagnostics_free(&diags);
    free(base);
}
