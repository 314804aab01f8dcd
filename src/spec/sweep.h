/* sweep: a parsed spec + its sweep block -> the trial plan.
 *
 * Sweep entries form a grid (Cartesian product, first entry outermost); a
 * zip group varies several paths together; the seed list is always the
 * innermost dimension. Every sweep point is a fully resolved, re-validated
 * experiment. A trial key is the hex SHA-256 of the trial's canonical
 * resolved spec (see README, "Trial keys") followed by its seed. The plan
 * also holds the datasets its points train on, each distinct source once
 * (a CSV read, hashed and parsed once; see spec.h, spec_input).
 */
#ifndef RUNEXP_SWEEP_H
#define RUNEXP_SWEEP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "spec.h"

typedef enum { SWEEP_INT = 0, SWEEP_REAL, SWEEP_TEXT } sweep_type;

/* One swept value of a sweep point, by the sweep entry's name. name and s
 * point into the plan (its dim_names and its own copies of text values):
 * valid until sweep_plan_free. */
typedef struct sweep_value {
    const char *name;
    sweep_type type;
    long long i;
    double r;
    const char *s;
} sweep_value;

/* One sweep point: a resolved experiment and the values that made it.
 * spec.name and spec.description are NULL: they are the document's
 * (spec_document_base), not copied once per point. */
typedef struct sweep_point {
    spec_experiment spec;
    size_t n_values;
    sweep_value *values;
    char *params_json;   /* {"hidden": 4}; "{}" without sweeps */
    char *canonical;     /* canonical resolved spec text the keys hash */
    size_t source;       /* its dataset: index into plan.sources */
} sweep_point;

typedef struct sweep_trial {
    size_t index;        /* 0-based position in the plan */
    size_t point;        /* index into plan.points */
    uint64_t seed;
    char key[65];        /* hex SHA-256 */
} sweep_trial;

/* The plan's data: each distinct input its points read (spec.h's
 * spec_input: a built-in, or a CSV read, hashed and parsed once; the hash
 * in each CSV point's key is the sha256 of the input its data came from).
 * The plan holds one reference to each; sweep_plan_free releases them. */
typedef struct sweep_plan {
    size_t n_points;
    sweep_point *points;
    size_t n_sources;
    spec_input **sources;
    size_t n_trials;
    sweep_trial *trials;
    size_t n_dims;       /* sweep entry names, in declaration order */
    char **dim_names;
    char *dims_json;     /* the same as a JSON array, ["hidden"]; "[]" without sweeps */
    spec_search search;  /* the document's search block (spec.h): random draws, pruning */
} sweep_plan;

/* Expands doc into plan. Problems (a path that does not exist, a value of
 * the wrong type, a point that fails validation) go to diags with the mark
 * of the offending sweep value; returns 0 on success, -1 otherwise.
 * The plan owns copies of everything it holds: it may outlive doc. The
 * caller frees it with sweep_plan_free; a failed build leaves the plan
 * empty, so freeing it then is a harmless no-op. */
int sweep_plan_build(const spec_document *doc, sweep_plan *plan,
                     spec_diagnostics *diags);

void sweep_plan_free(sweep_plan *plan);

/* Loads what the plan's sources do not hold yet: a CSV source is loaded
 * by sweep_plan_build (validation needs its data), a built-in one (xor,
 * the embedded digits) here, once per plan. Needed before training, not
 * for `runexp check`. Returns 0, or -1 with a diagnostic. */
int sweep_plan_load_sources(sweep_plan *plan, spec_diagnostics *diags);

/* The dataset of sweep point `point` (shared by every point with the same
 * source; read-only, may be read from many threads), or NULL while its
 * source is a built-in not yet loaded by sweep_plan_load_sources. Valid
 * until sweep_plan_free. */
const data_set *sweep_plan_dataset(const sweep_plan *plan, size_t point);

/* The data seed of trial tr: its point's data.seed when given, else the
 * trial's seed. */
uint64_t sweep_trial_data_seed(const sweep_plan *plan, const sweep_trial *tr);

/* Which of the plan's trials build the same data splits: trials[0..n)
 * (plan trial indices; NULL: trials 0..n-1) get pipeline ids id[0..n),
 * equal exactly when the trials have the same source, the same pipeline
 * (data_pipeline_config_cmp) and, when the pipeline uses one
 * (data_pipeline_uses_seed), the same data seed. *n_ids distinct ids, 0
 * to *n_ids - 1 (in an order of their own). 0, or -1 when out of memory. */
int sweep_plan_pipelines(const sweep_plan *plan, const size_t *trials, size_t n, size_t *id,
                         size_t *n_ids);

/* Moves the dataset of plan.sources[source] into *out, which the caller
 * then owns (free it with data_set_free): for a runner whose trials are the
 * plan's last use of it. Afterwards sweep_plan_dataset of the points that
 * read it is NULL. 0, or -1 when that source is not loaded. */
int sweep_plan_source_take(sweep_plan *plan, size_t source, data_set *out);

/* Prints the plan as `runexp check` shows it: the trial count, what the
 * search does (random draws, pruning rungs), then a table of trial index,
 * seed, sweep values and trial key. */
void sweep_plan_print(const sweep_plan *plan, FILE *f);

/* ---- pruning rungs (search.prune) ---------------------------------------- */

#define SWEEP_MAX_RUNGS 64

/* The rungs of a pruned plan: epochs[k] = min_epochs * eta^k while below
 * training.epochs, then training.epochs itself (the last rung, where the
 * survivors finish). Returns the number of rungs (0 without pruning). */
size_t sweep_plan_rungs(const sweep_plan *plan, size_t epochs[SWEEP_MAX_RUNGS]);
/* The distinct models of a plan: model.summary() (nn_model_summary, Keras
 * 2.x layout) of each point's network, each different text once, in the
 * order of the first point that has it; model_of[i] is point i's. */
typedef struct sweep_models {
    size_t n;
    char **summary;
    size_t *model_of; /* n_points entries */
} sweep_models;

/* Returns 0, or -1 when out of memory (out is then empty). Free with
 * sweep_models_free. */
int sweep_plan_models(const sweep_plan *plan, sweep_models *out);
void sweep_models_free(sweep_models *m);

/* Writes each distinct model: "model:\n" and its summary for one, else
 * "model of POINT PARAMS; ...:\n" per model (the points' params JSON). */
void sweep_models_print(const sweep_plan *plan, const sweep_models *m, FILE *f);

#endif
