/* spec: YAML experiment spec -> validated, typed experiment spec.
 *
 * Parsing reads the YAML with libyaml into a document tree that keeps every
 * node's mark (line, column); conversion walks that tree against one
 * declarative option table (path, type, bounds, default, destination, help),
 * which converts and stores every value, fills the defaults, and also
 * drives the help text, `runexp schema` and the canonical resolved spec the
 * trial keys hash. Every problem is collected in one pass as a diagnostic
 * "file:line:col: error: ...".
 */
#ifndef RUNEXP_SPEC_H
#define RUNEXP_SPEC_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "data.h"
#include "nn.h"

/* ---- diagnostics ------------------------------------------------------ */

typedef struct spec_diag {
    char *file;
    unsigned line;   /* 1-based; 0 = whole file */
    unsigned column; /* 1-based; 0 = unknown */
    char *message;   /* "what was found, what was expected" */
} spec_diag;

typedef struct spec_diagnostics {
    size_t n, cap;
    spec_diag *items;
} spec_diagnostics;

void spec_diagnostics_init(spec_diagnostics *d);
void spec_diagnostics_free(spec_diagnostics *d);
/* Appends one diagnostic (printf-style message). */
void spec_diagnostics_add(spec_diagnostics *d, const char *file, unsigned line,
                          unsigned column, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Prints each as "file:line:col: error: message\n" in the order found. */
void spec_diagnostics_print(const spec_diagnostics *d, FILE *f);

/* ---- the typed experiment --------------------------------------------- */

/* An experiment's name: 1 to SPEC_NAME_MAX bytes of printable text (see
 * README, "Writing a spec"); without `name`, the spec file's name without
 * .yaml/.yml, made to fit the same rule. */
#define SPEC_NAME_MAX 128u

typedef enum {
    SPEC_SOURCE_XOR = 0,
    SPEC_SOURCE_DIGITS,
    SPEC_SOURCE_CSV
} spec_source;

typedef struct spec_layer {
    int units_classes; /* 1 = `units: classes`, resolved into units */
    nn_layer_config layer;
} spec_layer;

typedef struct spec_record {
    int confusion_train, confusion_validation, confusion_test; /* default 0, 1, 1 */
    int weights;                                               /* default 1 */
    int grid;            /* prediction grid for 2-D data, default 1 when 2 features */
    double grid_x0[2];   /* default [-1, 2] */
    double grid_x1[2];   /* default [-1, 2] */
    size_t grid_resolution; /* default 100; SPEC_GRID_LARGE_RESOLUTION in a large plan */
    int grid_resolution_auto; /* 1: record.grid.resolution not written (sweep.c may lower it) */
    int predictions;     /* per-row test predictions, default 1 (0 in a large plan) */
    int predictions_auto; /* 1: record.predictions not written (sweep.c may turn it off) */
} spec_record;

/* The decision grid of a plan of more than SPEC_GRID_FULL_TRIALS trials is
 * recorded, unless record.grid.resolution is written, at
 * SPEC_GRID_LARGE_RESOLUTION points per axis (625 bytes a trial instead of
 * 10 000): at 50 000 trials the full grid would be 80 % of the database.
 * The per-row test predictions of such a plan are not recorded unless
 * record.predictions is written (160 rows a trial for the XOR lab). Neither
 * is in the trial key or the result hash. */
#define SPEC_GRID_FULL_TRIALS 1000
#define SPEC_GRID_LARGE_RESOLUTION 25


/* The `search` block (see README, "Search"): how the sweep's points are
 * chosen and whether they are pruned. Not part of the trial keys: a trial is
 * the same trial whether a search picked it or a grid did. */
typedef enum { SPEC_SEARCH_GRID = 0, SPEC_SEARCH_RANDOM } spec_search_method;
typedef enum { SPEC_PRUNE_SUCCESSIVE_HALVING = 0, SPEC_PRUNE_HYPERBAND } spec_prune_method;

typedef struct spec_search {
    int method;         /* spec_search_method, default grid */
    size_t trials;      /* random: the number of draws (0 = not given) */
    size_t seed;        /* random: draw i from rng_substream(seed, RNG_PURPOSE_SEARCH, i) */
    struct {
        int enabled;    /* search.prune given */
        int method;     /* spec_prune_method */
        int metric;     /* nn_monitor: val_loss (default), loss, accuracy, val_accuracy */
        size_t min_epochs, eta; /* rungs at min_epochs * eta^k epochs; eta default 3 */
    } prune;
} spec_search;

/* One fully resolved experiment: defaults filled, the dataset's shape known
 * (validation reads a CSV source once), `units: classes` resolved. */
typedef struct spec_experiment {
    char *name;
    char *description;
    struct {
        spec_source source;
        char *csv_path;     /* resolved against the spec file's directory */
        char *csv_label;    /* NULL = last column */
        int csv_labels_numeric; /* the CSV's labels are numbers, not all
                                   integers (data_set.labels_numeric) */
        data_pipeline_config pipeline; /* augment, splits, scaling */
        int has_seed;       /* data.seed given: data noise and splits use it */
        uint64_t seed;
        size_t n_classes;   /* of the dataset: xor 2, digits 10, CSV as read */
        size_t n_features;  /* xor 2, digits 64, CSV as read */
        size_t n_rows;      /* of the source, before augment: xor 4, digits 1797, CSV as read */
    } data;
    nn_model_config model;  /* n_inputs and units resolved */
    spec_layer layers[NN_MAX_LAYERS]; /* as written (units_classes flags) */
    struct {
        size_t epochs;      /* required */
        size_t batch_size;  /* default 32 */
        int shuffle;        /* default 1 */
        nn_early_stopping early_stopping; /* enabled when given */
        nn_reduce_lr reduce_lr;           /* enabled when given */
        /* training.class_weight: `balanced`, or a mapping class name ->
         * weight resolved to one weight per class of the dataset (1 for a
         * class not listed; owned); neither when absent */
        int class_weight_balanced;
        size_t n_class_weight;            /* = data.n_classes when given */
        double *class_weight;
    } training;
    spec_record record;
    spec_search search;     /* the document's; zero (grid, no pruning) in sweep points */
} spec_experiment;

/* One distinct data source a spec reads: a built-in dataset, or a CSV file
 * with its label column. A CSV file is read from disk once per document;
 * its SHA-256 (the trial keys' csv_sha256) is computed from the same bytes
 * its data is parsed from, and that data is what validation checked and
 * what trials train on. Read-only once built; shared by the document that
 * read it and every plan built from the document, each holding a
 * reference (the last one released frees it; not from two threads at
 * once). */
typedef struct spec_input {
    spec_source kind;
    char *path;        /* CSV: the resolved path read; NULL for built-ins */
    char *label;       /* CSV: the label column; NULL = the last column */
    char sha256[65];   /* CSV: hex SHA-256 of the bytes parsed; "" for built-ins */
    int loaded;        /* data is filled: a CSV always, a built-in once
                          loaded (sweep_plan_load_sources) */
    data_set data;
    size_t refs;       /* holders; managed by the spec and sweep modules */
} spec_input;

/* A parsed spec file: the document tree plus its typed base experiment
 * (before sweeps). Opaque; see sweep.h for the trial plan. */
typedef struct spec_document spec_document;

/* Reads, parses and validates a spec file. Returns the document, or NULL
 * with every problem in diags (also for I/O errors). Free with
 * spec_document_free. */
spec_document *spec_document_load(const char *path, spec_diagnostics *diags);

/* The same from text already in memory; file names the text in diagnostics,
 * base_dir resolves relative CSV paths. */
spec_document *spec_document_parse(const char *text, size_t len,
                                   const char *file, const char *base_dir,
                                   spec_diagnostics *diags);

void spec_document_free(spec_document *doc);

/* The spec text exactly as given, and the file name used in diagnostics. */
const char *spec_document_text(const spec_document *doc);
const char *spec_document_file(const spec_document *doc);

/* The experiment without sweeps applied. */
const spec_experiment *spec_document_base(const spec_document *doc);

/* Seeds of the spec (`seeds: N` -> 0..N-1, or the list). */
size_t spec_document_seeds(const spec_document *doc, const uint64_t **seeds);

/* Frees the strings an experiment owns (not the struct itself). */
void spec_experiment_free(spec_experiment *e);

/* Writes the canonical resolved spec of e, the text a trial key hashes: one
 * line of JSON generated from the option table (the format is documented in
 * spec_options.c and the README). csv_sha is the hex SHA-256 of a CSV
 * source's bytes ("" for the built-in sources). */
void spec_canonical_write(FILE *f, const spec_experiment *e, const char *csv_sha);

/* Writes the JSON Schema of the spec, generated from the option table. */
void spec_schema_print(FILE *f);

/* Writes the option reference (name, type, default, bounds, help) as text. */
void spec_help_print(FILE *f);

#endif
