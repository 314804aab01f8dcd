/* run_data: the datasets a plan trains on, each distinct source loaded once
 * and shared read-only by every trial. See run_internal.h. */
#include "run_internal.h"

#include <stdlib.h>
#include <string.h>

int run_source_load(const spec_experiment *e, data_set *out, FILE *err)
{
    data_error derr;
    memset(&derr, 0, sizeof derr);
    memset(out, 0, sizeof *out);
    int rc;
    switch (e->data.source) {
    case SPEC_SOURCE_XOR:
        rc = data_source_xor(out);
        break;
    case SPEC_SOURCE_DIGITS:
        rc = data_source_digits(out, &derr);
        break;
    default:
        rc = data_source_csv(e->data.csv_path, e->data.csv_label, out, &derr);
        break;
    }
    if (rc == 0)
        return 0;
    char msg[1200];
    if (derr.file[0] && derr.line)
        snprintf(msg, sizeof msg, "%s:%u:%u: error: %s", derr.file, derr.line, derr.column,
                 derr.message);
    else if (derr.file[0])
        snprintf(msg, sizeof msg, "%s: error: %s", derr.file, derr.message);
    else
        snprintf(msg, sizeof msg, "error: cannot load the dataset: %s",
                 derr.message[0] ? derr.message : "out of memory");
    run_say(err, "", msg);
    return -1;
}

static int same_source(const spec_experiment *a, const spec_experiment *b)
{
    if (a->data.source != b->data.source)
        return 0;
    if (a->data.source != SPEC_SOURCE_CSV)
        return 1;
    const char *la = a->data.csv_label ? a->data.csv_label : "";
    const char *lb = b->data.csv_label ? b->data.csv_label : "";
    return a->data.csv_path && b->data.csv_path && !strcmp(a->data.csv_path, b->data.csv_path) &&
           !strcmp(la, lb);
}

void run_datasets_free(run_datasets *ds)
{
    for (size_t i = 0; i < ds->n; i++)
        data_set_free(&ds->sets[i]);
    free(ds->sets);
    free(ds->of_point);
    memset(ds, 0, sizeof *ds);
}

int run_datasets_load(const sweep_plan *p, run_datasets *ds, FILE *err)
{
    memset(ds, 0, sizeof *ds);
    size_t np = p->n_points ? p->n_points : 1;
    size_t *first = calloc(np, sizeof *first); /* point that introduced each set */
    ds->sets = calloc(np, sizeof *ds->sets);
    ds->of_point = calloc(np, sizeof *ds->of_point);
    if (!first || !ds->sets || !ds->of_point) {
        fputs("runexp: out of memory\n", err);
        goto fail;
    }
    for (size_t i = 0; i < p->n_points; i++) {
        size_t j = 0;
        while (j < ds->n && !same_source(&p->points[first[j]].spec, &p->points[i].spec))
            j++;
        if (j == ds->n) {
            if (run_source_load(&p->points[i].spec, &ds->sets[j], err))
                goto fail;
            first[j] = i;
            ds->n++;
        }
        ds->of_point[i] = j;
    }
    free(first);
    return 0;
fail:
    free(first);
    run_datasets_free(ds);
    return -1;
}
