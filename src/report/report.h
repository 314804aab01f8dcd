/* report: figures and an offline HTML page drawn from the results database.
 *
 * `runexp report` reads one experiment (or one trial) from the SQLite results
 * database (schemas/results.sql) and writes, into one directory:
 *   curves_accuracy.EXT, curves_loss.EXT  training curves, one panel per sweep
 *                                         point shown: every seed thin, their
 *                                         mean and a +-1 std band
 *   sweep.EXT                             test accuracy of every sweep point
 *                                         (the overview of a large sweep)
 *   confusion_P.EXT                       test confusion matrix of sweep point
 *                                         P: its median trial and the sum
 *                                         over its seeds
 *   boundary.EXT                          predicted-class regions (2-D data)
 *   dataset.EXT                           the data: 2-D scatter or digit images
 *   misclassified.EXT                     image data: the misclassified test
 *                                         images of the median trial of the
 *                                         best point (its stored predictions)
 *   index.html                            the page: spec, tables, every figure
 *                                         embedded (data: URIs), so it is
 *                                         complete on its own
 * The panels show at most REPORT_MAX_PANELS sweep points: all of them when
 * there are that few, else the best by mean test accuracy (report_data.shown).
 * With two or more sweep dimensions the panels are small multiples: one row
 * per value of the first dimension, one column per combination of the rest.
 * EXT is png (default), svg or pdf. Figures are drawn with PLplot's cairo
 * driver, one plstream per figure; an error PLplot reports while drawing
 * makes report_generate fail with its message. Same database => same files (PNG and SVG;
 * cairo's PDF carries a creation date), from whatever directory the report
 * is run: the database is read through the store's reading API (store.h),
 * and the data figures rebuild the data from the stored spec text with the
 * stored base directory, as `runexp reproduce` does.
 */
#ifndef RUNEXP_REPORT_H
#define RUNEXP_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "data.h"
#include "store.h"

/* The most sweep points drawn as panels (curves, boundary, confusion). */
#define REPORT_MAX_PANELS 16
/* The most misclassified test images drawn (misclassified.EXT). */
#define REPORT_MAX_MISCLASSIFIED 30

typedef enum {
    REPORT_FORMAT_PNG = 0,
    REPORT_FORMAT_SVG,
    REPORT_FORMAT_PDF
} report_format;

/* Figure settings handed to each drawing function. */
typedef struct report_plot_cfg {
    report_format format;
    int width, height;
} report_plot_cfg;

/* Parses "png", "svg" or "pdf"; returns 0, or -1 for anything else. */
int report_format_parse(const char *s, report_format *out);
/* "png", "svg" or "pdf". */
const char *report_format_ext(report_format f);

typedef struct report_error {
    int input;            /* 1: the input is at fault (no database, unknown
                             experiment or trial): the CLI exits 2 */
    char message[1024];
} report_error;

typedef struct report_options {
    const char *db_path;    /* required */
    const char *experiment; /* name (the latest of that name) or id; NULL =
                               the most recent experiment */
    long long trial_id;     /* > 0: figures of that one trial only */
    const char *out_dir;    /* NULL: results/<experiment>/ (with --trial:
                               results/<experiment>/trial_<id>/) */
    report_format format;
    int width, height;      /* pixels of raster figures; default 1000 x 700 */
} report_options;

/* Defaults: PNG, 1000 x 700, everything else NULL / 0. */
void report_options_init(report_options *o);

/* What report_generate wrote. */
typedef struct report_output {
    char *out_dir;          /* the directory written */
    char *experiment;       /* experiment name */
    long long experiment_id;
    size_t n_files;
    char **files;           /* names inside out_dir, figures then index.html */
    char *note;             /* why the data figures could not be drawn (the
                               data could not be rebuilt), or NULL */
} report_output;

/* Writes the report. Returns 0, or -1 with err filled (err->input set when
 * the database, experiment or trial does not exist). out may be NULL; else
 * the caller frees it with report_output_free. */
int report_generate(const report_options *o, report_output *out,
                    report_error *err);
void report_output_free(report_output *out);

/* ---- pieces exposed for tests ------------------------------------------- */

/* The trial a figure shows for a sweep point: the median by test accuracy.
 * Sorts (acc, seed) ascending and takes element (n - 1) / 2 (the lower
 * median for even n; ties broken by the smaller seed). Returns its index in
 * the input arrays; n > 0. */
size_t report_median_index(const double *acc, const long long *seed, size_t n);

/* HTML-escapes s (& < > " '). The caller frees the result. NULL when out of
 * memory. */
char *report_html_escape(const char *s);

/* text_fmt_round (text.h: SQLite's round(v, decimals), so 0.62625 gives
 * "0.6263") into buf, returned for use inside a format call. Every number
 * the report prints with a fixed number of decimals goes through it. */
char *report_fmt_round(char *buf, size_t size, double v, int decimals);

/* Draws one empty panel in the viewport x0..x1 (NDC) as given: the error
 * path every figure shares, exposed so a test can make PLplot refuse an
 * operation (x0 >= x1: "plvpor: Invalid limits", then the box has no
 * window). Returns 1, or -1 with err naming path and PLplot's message (the
 * last one when there are several). */
int report_plot_probe(const report_plot_cfg *c, const char *path, double x0, double x1,
                      report_error *err);

/* ---- shared between report_*.c (not for other modules) ------------------ */

/* One finished trial as the figures need it: values and pointers into its
 * store_trial_row (report_data.rows owns them). Arrays hold NAN where the
 * database has NULL. */
typedef struct report_trial {
    long long id;
    size_t point;           /* index into report_data.points */
    long long seed;
    const char *params_json;
    double test_accuracy, test_loss;
    size_t n_epochs;
    const double *loss, *accuracy, *val_loss, *val_accuracy;
    const uint32_t *cm;     /* n_classes^2 test confusion, row = true; or NULL */
    int has_grid;
    double grid_x0[2], grid_x1[2];
    size_t grid_res;
    const uint8_t *grid;    /* res*res predicted classes, iy-major */
    const store_trial_row *row;
} report_trial;

typedef struct report_point {
    size_t index;           /* point_index in the database */
    char *label;            /* "hidden = 4", "" without a sweep */
    const char *params_json;
    int numeric;            /* exactly one swept value and it is a number */
    double value;
    size_t n_trials;        /* done trials of this point */
    size_t *trials;         /* indices into report_data.trials */
    size_t median;          /* index into report_data.trials */
    size_t n_other;         /* failed / diverged / interrupted / not run */
    double mean_acc;        /* mean test accuracy of its done trials; NaN */
    char *row_label;        /* the first sweep dimension: "width = 2" */
    char *col_label;        /* the others: "activation = relu, epochs = 50";
                               both "" with fewer than two dimensions */
    char **dim_values;      /* per sweep dimension (report_data.dim_names)
                               its value as text, "" when the point has none */
    int has_test_rows;      /* the test rows of the median trial, rebuilt */
    data_set test_rows;     /* for the boundary panel (report_data.c) */
} report_point;

/* A rebuilt dataset for the data figures. */
typedef struct report_dataset {
    int ok;                 /* 0 when it could not be rebuilt (why in note) */
    char note[256];
    long long seed;         /* the data seed used */
    data_set source;        /* before augmentation (digits: images) */
    data_splits splits;     /* after the trial's pipeline */
    double noise;           /* augmentation sigma, 0 = none */
    int is_xor;
} report_dataset;

typedef struct report_data {
    long long experiment_id;
    store_experiment_record exp; /* name, spec, spec_file, base_dir, ... */
    const char *name, *spec, *spec_file, *base_dir, *created_at; /* of exp */
    size_t n_classes;
    char **class_names;
    size_t n_dims;
    char *const *dim_names; /* exp.dims */
    size_t n_points;
    report_point *points;
    size_t n_trials;
    report_trial *trials;
    store_trial_list rows;  /* every trial of the report, whatever its status */
    store_trial_notes notes; /* the trials not done, with why (not --trial) */
    int single_trial;       /* --trial */
    report_dataset dataset; /* of the first trial shown */
    char data_note[256];    /* why a dataset could not be rebuilt; "" if none */
    char *description;      /* the spec's description, or NULL */
    /* The points drawn as panels: every point when there are at most
     * REPORT_MAX_PANELS, else the best by mean test accuracy (ties: the
     * smaller point index), in point order. */
    size_t n_shown;
    size_t shown[REPORT_MAX_PANELS];
    /* Small multiples: with facet set, shown point shown[i] goes in row
     * cell_row[i] and column cell_col[i] of an n_rows x n_cols grid whose
     * rows are labelled by row_label and columns by col_label. */
    int facet;
    size_t n_rows, n_cols;
    size_t cell_row[REPORT_MAX_PANELS], cell_col[REPORT_MAX_PANELS];
} report_data;


/* Each returns 1 when it wrote path, 0 when the figure does not apply
 * (nothing to draw), -1 on error (err filled). report_plot.c. */
int report_plot_curves(const report_data *d, int loss, const report_plot_cfg *c,
                       const char *path, report_error *err);
int report_plot_sweep(const report_data *d, const report_plot_cfg *c,
                      const char *path, report_error *err);
int report_plot_confusion(const report_data *d, size_t point,
                          const report_plot_cfg *c, const char *path,
                          report_error *err);
/* The sweep figure draws series: x = the first sweep dimension, one series
 * (colour) per combination of the others; returns their number, or 0 when
 * it draws one position per sweep point instead. */
size_t report_sweep_series(const report_data *d);
int report_plot_boundary(const report_data *d, const report_plot_cfg *c,
                         const char *path, report_error *err);
int report_plot_dataset(const report_data *d, const report_plot_cfg *c,
                        const char *path, report_error *err);
/* The images (d->dataset.source, 8 x 8 digits) of the test rows rows[0..n)
 * of trial t, each titled "true -> predicted" with its source row below, ten
 * per row of panels; n_wrong of the trial's n_test test rows are wrong. */
int report_plot_misclassified(const report_data *d, const report_trial *t,
                              const store_prediction_row *rows, size_t n, size_t n_wrong,
                              size_t n_test, const report_plot_cfg *c, const char *path,
                              report_error *err);

/* Rebuilds, from the experiment's stored spec text and base directory, the
 * dataset of the first trial shown (d->dataset) and the test rows of each
 * boundary panel's trial (report_point.test_rows), parsing the spec and
 * reading each data source once (report_data.c); also d->description.
 * Never fails hard: what
 * cannot be rebuilt is left out and d->data_note says why. */
void report_datasets_build(report_data *d);
void report_dataset_free(report_dataset *ds);

#endif
