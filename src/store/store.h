/* store: the SQLite results database (schemas/results.sql).
 *
 * One store = one connection. The runner keeps exactly one store open and
 * writes each finished trial in a single transaction. A store may be used
 * from several threads, but by one at a time (the caller serialises). The schema is embedded
 * in the binary and versioned with PRAGMA user_version; store_open applies
 * forward migrations and refuses, without writing to them (not even their
 * journal mode), paths that are not regular files, files that are not SQLite
 * databases, other programs' SQLite files and files a newer runexp wrote.
 * Connections use WAL (readers
 * such as the sqlite3 CLI never block the writer), foreign_keys ON and a
 * 5-second busy timeout.
 *
 * Knows nothing of the spec, the network or OpenMP: results arrive as plain
 * arrays in store_trial_result.
 */
#ifndef RUNEXP_STORE_H
#define RUNEXP_STORE_H

#include <stddef.h>
#include <stdint.h>

#define STORE_SCHEMA_VERSION 4
#define STORE_BUSY_TIMEOUT_MS 5000

typedef struct store_error {
    int code;           /* SQLite result code, 0 when not from SQLite */
    int busy;           /* 1 when another runexp (writer lock) or another connection
                         * (SQLite's lock) held the database */
    char message[1024];
} store_error;

typedef struct store store; /* opaque */

typedef enum {
    STORE_QUEUED = 0,
    STORE_RUNNING,
    STORE_DONE,
    STORE_FAILED,
    STORE_DIVERGED,
    STORE_INTERRUPTED,
    STORE_PRUNED      /* stopped at a search rung (trials.pruned_rung) */
} store_status;
#define STORE_N_STATUSES 7

/* "queued", "running", ... */
const char *store_status_name(store_status s);
/* Inverse of store_status_name; -1 for an unknown name. */
int store_status_parse(const char *name);

/* A NUL-terminated copy of the embedded schemas/results.sql (the current schema);
 * the caller frees it with free(). NULL when out of memory. */
char *store_schema_sql(void);

/* Opens (creating if missing) the database at path (":memory:" works) and
 * migrates it to STORE_SCHEMA_VERSION. Refuses, without writing, a path that
 * is not a regular file, a file that is not an SQLite database, an SQLite
 * file that is not runexp's (tables but user_version 0, or a known version
 * without runexp's tables) and one whose user_version is newer. Returns NULL
 * with err filled on failure. Close with store_close. */
store *store_open(const char *path, store_error *err);
void store_close(store *s);

/* Opens an existing database read-only, for readers that must not change
 * it (`runexp reproduce`): no journal-mode change, no migration, no write.
 * Any schema version from 1 to STORE_SCHEMA_VERSION is read as it is
 * (migrations only add); version 0, a newer version and files refused by
 * store_open are refused with a message saying which. NULL with err filled
 * on failure. */
store *store_open_readonly(const char *path, store_error *err);

/* The writer lock of a database: an exclusive POSIX record lock (fcntl
 * F_SETLK) on the sidecar file "<real path>.lock", created if missing,
 * holding the holder's pid. The real path is db_path resolved the way SQLite
 * resolves it (symbolic links, also a dangling one, "." and ".."; for a new
 * file its directory's real path plus its name), so every path to one file
 * finds one lock. A file with several hard links is refused (no path leads
 * from one name to the other), as is a path that names anything but a
 * regular file; nothing is created then. The database file itself is never
 * locked this way: that would break SQLite's own fcntl locks on it. The lock
 * lasts until store_writer_unlock or the process ends (exit, crash, kill
 * -9). Readers take no lock. Returns the lock's file descriptor (>= 0), or
 * -1 with err filled: err->busy = 1 and "another runexp (pid N) is writing
 * DB[ (REAL PATH)]; wait for it or use another --db" when another process
 * holds it. */
int store_writer_lock(const char *db_path, store_error *err);
void store_writer_unlock(int fd);

/* The schema version found in the file before migrating (0 for new). */
int store_version_found(const store *s);

/* ---- experiments ------------------------------------------------------ */

typedef struct store_experiment_info {
    const char *name;
    const char *spec;       /* spec text as given */
    const char *spec_file;  /* path as given */
    const char *base_dir;   /* directory CSV paths resolve against */
    const char *created_at; /* ISO-8601 UTC */
    const char *runexp_version, *git_revision, *compiler, *build_flags;
    const char *host, *cpu_model;
    int threads;
    const char *sweep_dims; /* JSON array; NULL = [] */
    size_t n_classes;
    const char *const *class_names;
    /* The new plan's sweep points: params JSON and canonical resolved spec
     * of each (store_trial_plan.params_json and .resolved_spec), used to
     * decide whether the plan extends an existing experiment. */
    size_t n_points;
    const char *const *point_params;
    const char *const *point_canonical;
} store_experiment_info;

/* What store_experiment_begin did with the newest experiment of the name. */
typedef struct store_experiment_outcome {
    int64_t previous;           /* its id; 0 = none (or fresh) */
    int resumed;                /* 1: previous is the experiment used */
    int dims_changed;           /* not resumed: the sweep dimension names differ */
    char previous_dims[256];    /* ... they were (JSON array, maybe cut short) */
    char differing_params[256]; /* else: a point whose resolved spec differs */
} store_experiment_outcome;

/* Finds the most recent experiment named info->name (unless fresh) and, when
 * the new plan extends it, updates it to describe this run; otherwise inserts
 * a new one. The plan extends an experiment when the sweep dimension names
 * are the same and every stored trial whose params equal a point of the plan
 * was run from that point's canonical resolved spec: added seeds or sweep
 * values resume, an edited setting (epochs 20 -> 40) starts a new record so
 * that no experiment mixes two specs (the old one is left as it is). Records
 * the spec text in `specs` and the class names. One transaction. *id set;
 * outcome (may be NULL) says what happened to the previous experiment. */
int store_experiment_begin(store *s, const store_experiment_info *info,
                           int fresh, int64_t *id, store_experiment_outcome *outcome,
                           store_error *err);

/* ---- trials ----------------------------------------------------------- */

typedef struct store_param {
    const char *name;
    int type;        /* 0 integer, 1 real, 2 text (sweep_type's order) */
    long long i;
    double r;
    const char *s;
} store_param;

typedef struct store_trial_plan {
    const char *key;        /* hex trial key */
    size_t trial_index, point_index;
    uint64_t seed;
    const char *params_json;
    size_t n_params;
    const store_param *params;
    const char *resolved_spec;
    const char *spec_hash;
} store_trial_plan;

/* What store_trials_prepare decided for one trial. */
typedef enum {
    STORE_PLAN_RUN = 0,     /* new, or left queued/running by an earlier run */
    STORE_PLAN_RETRY,       /* failed/diverged/interrupted and retry was asked */
    STORE_PLAN_SKIP_DONE,   /* already done */
    STORE_PLAN_SKIP_FAILED, /* failed/diverged/interrupted, retry not asked */
    STORE_PLAN_SKIP_PRUNED  /* pruned by a search: kept as it is (a run
                               without pruning runs it in full) */
} store_plan_action;

/* In one transaction and in plan order: inserts a queued row for each trial
 * key not yet in experiment exp (so trial ids follow the plan), refreshes the
 * plan position of existing ones, and decides for each whether it runs. A
 * trial that will run again loses what an earlier attempt left (epochs,
 * metrics, confusion, weights, grid, predictions, result columns) and is
 * queued.
 * ids[i] and actions[i] are filled for plan[i]. */
int store_trials_prepare(store *s, int64_t exp, size_t n,
                         const store_trial_plan *plan, int retry,
                         int64_t *ids, store_plan_action *actions,
                         store_error *err);

/* Marks a trial running (status and started_at only: one small commit, or
 * part of the open batch). */
int store_trial_start(store *s, int64_t id, const char *started_at,
                      store_error *err);

typedef struct store_metric {
    const char *split; /* train, validation, test */
    char name[32];
    double value;
} store_metric;

typedef struct store_confusion {
    const char *split;
    size_t k;
    const uint32_t *counts; /* k x k, rows true, columns predicted; only the
                             * non-zero cells are stored */
} store_confusion;

typedef struct store_weight {
    size_t layer;
    const char *kind; /* kernel, bias */
    size_t rows, cols;
    const float *data;
} store_weight;

typedef struct store_grid {
    double x0_min, x0_max, x1_min, x1_max;
    size_t resolution;
    const uint8_t *classes; /* res*res */
} store_grid;

/* Per-row predictions of one split (table predictions): row i of the
 * split came from source row source_row[i] (augmented-set row
 * augmented_row[i]); its true and predicted class and k probabilities at
 * probabilities + i * k. */
typedef struct store_predictions {
    const char *split; /* test */
    size_t n, k;
    const uint32_t *source_row, *augmented_row;
    const int32_t *true_class, *predicted_class;
    const float *probabilities;
} store_predictions;

/* NaN doubles are stored as NULL. */
/* One row of a trial's layer table (model.summary()). */
typedef struct store_layer {
    const char *name;         /* dense, dense_1, dropout, ... */
    const char *type;         /* Dense, Dropout, BatchNormalization */
    const char *output_shape; /* "(None, 64)" */
    size_t params, trainable_params;
} store_layer;

typedef struct store_trial_result {
    store_status status;
    size_t n_params, epochs_run, diverged_epoch, best_epoch;
    double overfit_gap;
    double train_loss, train_accuracy, val_loss, val_accuracy;
    double test_loss, test_accuracy;
    const char *result_hash; /* NULL when none */
    const char *error;       /* NULL when none */
    const char *started_at;  /* NULL keeps the stored one */
    const char *finished_at;
    double wall_ms;
    size_t n_epochs;         /* history rows: epochs 1..n_epochs */
    const double *loss, *accuracy, *val_loss_h, *val_accuracy_h;
    size_t n_metrics;
    const store_metric *metrics;
    size_t n_confusion;
    const store_confusion *confusion;
    size_t n_weights;
    const store_weight *weights;
    const store_grid *grid;  /* NULL when none */
    const store_predictions *predictions; /* NULL when none */
    const double *learning_rate_h; /* per epoch, NULL = none stored */
    size_t stopped_epoch;    /* early stopping fired after it; 0 = NULL */
    int restore_asked;       /* restore_best_weights was on; else restored_best is NULL */
    int restored_best;       /* 0 / 1 */
    size_t early_stopping_best_epoch; /* 0 = NULL */
    size_t n_layers;         /* the layer table */
    const store_layer *layers;
} store_trial_result;

/* Writes everything of one finished (or stopped) trial in one transaction,
 * replacing any rows the trial already had. */
int store_trial_finish(store *s, int64_t id, const store_trial_result *r,
                       store_error *err);

/* ---- search rungs and pruning decisions (search.prune) ------------------ */

/* A trial's metric at a rung (trial_rungs). */
typedef struct store_rung_row {
    int64_t trial_id;
    size_t rung, epoch;
    double value;   /* NaN is stored as NULL */
    int pruned;     /* the trial stops here: trials.pruned_rung = rung */
} store_rung_row;

/* One sweep point's decision at a rung (prune_decisions). */
typedef struct store_prune_decision {
    size_t bracket, rung, epoch, point_index;
    const char *params;
    size_t n;       /* seeds with a value */
    double value;   /* their mean; NaN when a seed has none */
    size_t place;   /* 1 = best of the bracket's points at the rung */
    int promoted;
} store_prune_decision;

/* Deletes experiment exp's decisions (a search run writes them afresh). */
int store_prune_clear(store *s, int64_t exp, store_error *err);

/* In one transaction: the rung rows (replacing a trial's row of the same
 * rung; a pruned one also sets trials.pruned_rung) and the decisions of exp
 * (replacing the same bracket, rung and point). metric names the epochs
 * column compared: loss, accuracy, val_loss or val_accuracy. */
int store_prune_write(store *s, int64_t exp, const char *metric, size_t n_rows,
                      const store_rung_row *rows, size_t n_decisions,
                      const store_prune_decision *decisions, store_error *err);

/* Trial id's value of metric at rung `rung` (trained to `epoch` epochs),
 * when the database already knows it: its trial_rungs row of that rung,
 * epoch and metric; else, for a trial whose training is over (done,
 * diverged, failed) or pruned at or after that epoch, its epochs row at
 * `epoch` (a done trial that stopped sooner: its last epoch; a diverged or
 * failed one that did not reach it: NaN). *known = 0 when the trial must be
 * trained to find it out. *status: the trial's stored status. */
int store_rung_value(store *s, int64_t id, size_t rung, size_t epoch, const char *metric,
                     double *value, int *known, store_status *status, store_error *err);

/* The decisions of experiment exp as stored, by bracket, rung and place
 * (store_read.c; params owned by the list, metric too). */
typedef struct store_prune_list {
    size_t n;
    store_prune_decision *rows;
    char *metric;   /* NULL when there are none */
    char **owned;   /* the rows' params */
} store_prune_list;

int store_prune_read(store *s, int64_t exp, store_prune_list *out, store_error *err);
void store_prune_list_free(store_prune_list *l);

/* A batch: between store_batch_begin and store_batch_commit, the
 * store_trial_start and store_trial_finish calls write into one transaction
 * instead of one each, so a writer with several trials waiting appends the
 * pages they share (table roots, the last leaf of each table) to the WAL
 * once instead of once per trial. Readers see a batch, and a crash keeps
 * it, whole or not at all: nothing of an uncommitted batch is in the
 * database. A write that fails inside a batch rolls the whole batch back at
 * once (the store is then outside any batch: do not commit it). 0 or -1
 * with err; store_batch_rollback is safe outside a batch. */
int store_batch_begin(store *s, store_error *err);
int store_batch_commit(store *s, store_error *err);
void store_batch_rollback(store *s);

/* Figures of one trial for the end-of-run summary. */
typedef struct store_trial_figures {
    store_status status;
    double test_accuracy, val_accuracy, overfit_gap; /* NaN when NULL */
    double best_epoch;                               /* NaN when NULL */
} store_trial_figures;

int store_trial_figures_get(store *s, int64_t id, store_trial_figures *f,
                            store_error *err);

/* ---- reading a trial back (reproduce) ---------------------------------- */

typedef struct store_weight_row {
    size_t layer;
    char kind[16];
    size_t rows, cols;
    float *data;
} store_weight_row;

typedef struct store_metric_row {
    char split[16];
    char name[32];
    double value; /* NaN for NULL */
} store_metric_row;

typedef struct store_trial_record {
    int64_t id, experiment_id;
    char key[65];
    uint64_t seed;
    store_status status;
    char *result_hash;   /* NULL when none */
    char *params;        /* params JSON */
    char *resolved_spec; /* canonical resolved spec it ran from (NULL if none) */
    char *spec;          /* the spec text the trial ran from */
    char *spec_file;
    char *base_dir;
    size_t n_weights;
    store_weight_row *weights; /* ordered by layer, kernel before bias */
    size_t n_metrics;
    store_metric_row *metrics; /* ordered by split, name */
    size_t n_epochs;
    double *history; /* n_epochs x 4: loss, accuracy, val_loss, val_accuracy */
} store_trial_record;

/* Loads trial id with its spec, weights, metrics and history. Returns 0, 1
 * when there is no such trial (err says so), -1 on errors. Free with
 * store_trial_record_free. */
int store_trial_load(store *s, int64_t id, store_trial_record *out,
                     store_error *err);
void store_trial_record_free(store_trial_record *r);

/* Runs SQL on the connection (tests and tools). */
int store_exec(store *s, const char *sql, store_error *err);

/* ==== reading experiments and trials (store_read.c) =====================
 *
 * For readers such as `runexp report`: what the database holds, as plain C
 * structs and arrays the caller owns and frees with the matching *_free
 * (safe on a zeroed or failed struct). Each function returns 0, 1 when what
 * was asked for does not exist (err says what), or -1 on an error (err
 * filled). Doubles are NaN where the database has NULL. Every query has an
 * ORDER BY, so the same database gives the same arrays. Nothing here writes;
 * open the store with store_open_readonly to be sure of that. */

/* The experiment named by name_or_id: the newest experiment of that name,
 * else, when it is all digits, the experiment with that id; NULL or "" =
 * the newest experiment of the database. */
int store_experiment_find(store *s, const char *name_or_id, int64_t *id,
                          store_error *err);

/* The experiment trial trial_id belongs to. */
int store_trial_experiment(store *s, int64_t trial_id, int64_t *experiment_id,
                           store_error *err);

typedef struct store_class_row {
    size_t index;
    char *name;
} store_class_row;

typedef struct store_experiment_record {
    int64_t id;
    char *name;
    char *spec;             /* the spec text of its latest run */
    char *spec_file;        /* path as given on that run's command line; "" if none */
    char *spec_hash;
    /* The directory relative CSV paths of spec resolve against, as `runexp
     * reproduce` resolves them: the base_dir recorded with that spec text
     * (absolute: the run made it so); for a database without one, the
     * directory of spec_file, "." when it has none. Never NULL. */
    char *base_dir;
    char *created_at;
    size_t n_dims;          /* sweep names in order (experiments.sweep_dims); */
    char **dims;            /* 0 when absent or not a JSON array of strings */
    /* 1 + the largest class index in its classes rows or in any confusion
     * cell of its trials; 0 when there is none. class_names are the classes
     * rows, by index (an index may be missing). */
    size_t n_classes;
    size_t n_class_names;
    store_class_row *class_names;
} store_experiment_record;

int store_experiment_load(store *s, int64_t id, store_experiment_record *out,
                          store_error *err);
void store_experiment_record_free(store_experiment_record *r);

/* One trial_params row: the swept value with its SQLite type. */
typedef struct store_param_value {
    char *name;
    int type;               /* 0 integer, 1 real, 2 text (store_param's) */
    long long i;
    double r;
    char *s;                /* type 2 only */
} store_param_value;

/* Per-epoch history: epoch e (1-based) at index e - 1; n_epochs is the
 * largest epoch stored; NaN where a row or a value is missing. */
typedef struct store_history {
    size_t n_epochs;
    double *loss, *accuracy, *val_loss, *val_accuracy;
} store_history;

typedef struct store_grid_row {
    double x0_min, x0_max, x1_min, x1_max;
    size_t resolution;
    uint8_t *classes;       /* resolution^2, iy-major */
} store_grid_row;

/* What store_trials_read loads besides each trial's row. */
enum {
    STORE_READ_PARAMS    = 1u << 0, /* trial_params rows, by name */
    STORE_READ_HISTORY   = 1u << 1, /* epochs */
    STORE_READ_CONFUSION = 1u << 2, /* the confusion matrix of query.split */
    STORE_READ_GRID      = 1u << 3, /* the decision-boundary grid */
    STORE_READ_METRICS   = 1u << 4  /* metrics rows of query.split */
};

typedef struct store_trial_query {
    int64_t experiment_id;
    int64_t trial_id;       /* > 0: only that trial (if it is the experiment's) */
    unsigned what;          /* STORE_READ_* bits */
    const char *split;      /* confusion and metrics of this split ("test");
                               NULL: metrics of every split, no confusion */
    size_t n_classes;       /* confusion matrices are n_classes^2; cells with
                               a class outside [0, n_classes) are dropped */
} store_trial_query;

typedef struct store_trial_row {
    int64_t id;
    size_t trial_index, point_index;
    uint64_t seed;
    store_status status;
    char *params_json;
    double train_loss, train_accuracy, val_loss, val_accuracy;
    double test_loss, test_accuracy;
    double best_epoch, overfit_gap;
    size_t n_params;
    store_param_value *params;   /* STORE_READ_PARAMS */
    store_history history;       /* STORE_READ_HISTORY */
    uint32_t *confusion;         /* STORE_READ_CONFUSION: n_classes^2, rows
                                    true; NULL when the trial has none */
    int has_grid;                /* STORE_READ_GRID: 1 when a well-formed */
    store_grid_row grid;         /* grid is stored (2 <= res <= 4096) */
    size_t n_metrics;
    store_metric_row *metrics;   /* STORE_READ_METRICS: by split, name */
} store_trial_row;

typedef struct store_trial_list {
    size_t n;
    store_trial_row *rows;       /* by point_index, seed, id */
} store_trial_list;

/* Every trial of q->experiment_id (whatever its status), with what q->what
 * asks for. One query per table, so the cost is linear in what is read. */
int store_trials_read(store *s, const store_trial_query *q, store_trial_list *out,
                      store_error *err);
void store_trial_list_free(store_trial_list *l);

/* One row of the sweep_summary view (schemas/results.sql): the done trials
 * of one sweep point. */
typedef struct store_summary_row {
    size_t point_index;
    char *params;
    size_t n;
    double test_accuracy_mean, test_accuracy_std, test_accuracy_min, test_accuracy_max;
    double test_loss_mean, test_loss_std, test_loss_min, test_loss_max;
    double val_accuracy_mean, best_epoch_mean, overfit_gap_mean;
} store_summary_row;

typedef struct store_summary {
    size_t n;
    store_summary_row *rows;     /* by point_index */
} store_summary;

int store_summary_read(store *s, int64_t experiment_id, store_summary *out,
                       store_error *err);
void store_summary_free(store_summary *sum);

/* ---- listing, notes and exports (runexp ls / show / export) ----------- */

/* One experiment for `runexp ls`. */
typedef struct store_experiment_row {
    int64_t id;
    char *name, *created_at, *spec_file; /* "" when NULL */
    size_t n_trials;
    size_t status_counts[STORE_N_STATUSES]; /* trials per store_status */
    char *best_params;         /* the sweep point with the highest mean test
                                  accuracy over its done trials (ties: the
                                  lower point index); NULL when none is done */
    size_t best_n;             /* its done trials */
    double best_test_accuracy; /* its mean test accuracy; NaN when none */
} store_experiment_row;

typedef struct store_experiment_list {
    size_t n;
    store_experiment_row *rows; /* by id */
} store_experiment_list;

int store_experiments_list(store *s, store_experiment_list *out, store_error *err);
void store_experiment_list_free(store_experiment_list *l);

/* What a trial's row says beyond its figures: why it stopped and what it
 * cost. */
typedef struct store_trial_note {
    int64_t id;
    size_t point_index;
    uint64_t seed;
    store_status status;
    size_t epochs_run;       /* 0 when NULL */
    size_t diverged_epoch;   /* 0 when NULL */
    size_t n_params;         /* 0 when NULL */
    double wall_ms;          /* NaN when NULL */
    char *error;             /* NULL when none */
    char *started_at, *finished_at; /* "" when NULL */
} store_trial_note;

typedef struct store_trial_notes {
    size_t n;
    store_trial_note *rows;  /* by id */
} store_trial_notes;

/* The notes of every trial of experiment_id, or of trial_id alone when it is
 * > 0 (and the experiment's). */
int store_trial_notes_read(store *s, int64_t experiment_id, int64_t trial_id,
                           store_trial_notes *out, store_error *err);
void store_trial_notes_free(store_trial_notes *n);
/* The note of trial id in n (a binary search); NULL when absent. */
const store_trial_note *store_trial_note_find(const store_trial_notes *n, int64_t id);

/* The layer shapes of a trial's stored kernels: layer l has inputs[l] rows
 * and units[l] columns, layers 0..*n_layers-1 (at most max). Returns 1 when
 * the trial has no kernels stored (record.weights off) or they do not form
 * a chain (each layer's inputs the previous one's units). */
int store_trial_layer_shapes(store *s, int64_t trial_id, size_t max, size_t *n_layers,
                             size_t *inputs, size_t *units, store_error *err);

/* One predictions row (schema version 4), without its probabilities. */
typedef struct store_prediction_row {
    size_t split_row, source_row, augmented_row;
    size_t true_class, predicted_class;
} store_prediction_row;

typedef struct store_prediction_list {
    size_t n;
    store_prediction_row *rows;  /* by split_row */
} store_prediction_list;

/* The predictions rows of trial_id's split (NULL: "test"); misclassified:
 * only those whose predicted class is not the true one. An empty list when
 * the trial has none (record.predictions off, not done, or a database from
 * before version 4). 0 or -1. */
int store_predictions_read(store *s, int64_t trial_id, const char *split, int misclassified,
                           store_prediction_list *out, store_error *err);
void store_prediction_list_free(store_prediction_list *l);
/* One trial's Keras training extras (schema version 4; a database of an
 * older version reads as none of them): early stopping's stopped epoch
 * (0 = NULL), its best epoch (0 = NULL), restored_best (1, 0, -1 = NULL),
 * the learning rate of every epoch (n_epochs, NaN where NULL) and the
 * layer table. Free with store_trial_extras_free. */
typedef struct store_layer_row {
    char name[48], type[32], output_shape[32];
    size_t params, trainable_params;
} store_layer_row;

typedef struct store_trial_extras {
    size_t stopped_epoch, early_stopping_best_epoch;
    int restored_best;
    size_t n_epochs;
    double *learning_rate;
    size_t n_layers;
    store_layer_row *layers;
} store_trial_extras;

int store_trial_extras_read(store *s, int64_t trial_id, store_trial_extras *out,
                            store_error *err);
void store_trial_extras_free(store_trial_extras *x);

/* A value as SQLite holds it. */
typedef enum { STORE_NULL = 0, STORE_INTEGER, STORE_REAL, STORE_TEXT } store_value_type;

typedef struct store_value {
    store_value_type type;
    long long i;
    double r;
    const char *s;   /* STORE_TEXT; valid during the callback only */
} store_value;

/* The tables `runexp export` writes. */
typedef enum {
    STORE_TABLE_TRIALS = 0,
    STORE_TABLE_EPOCHS,
    STORE_TABLE_METRICS,
    STORE_TABLE_CONFUSION,
    STORE_TABLE_CLASSES,
    STORE_TABLE_EXPERIMENTS
} store_table;

/* "trials", "epochs", ...; and the inverse (-1 for an unknown name). */
const char *store_table_name(store_table t);
int store_table_parse(const char *name);

typedef struct store_export_sink {
    /* Called once before the rows with the column names. */
    int (*header)(void *user, size_t n, const char *const *names);
    /* Called per row with n values. A non-zero return stops the export. */
    int (*row)(void *user, size_t n, const store_value *values);
    void *user;
} store_export_sink;

/* Streams table t of experiment experiment_id (0: every experiment) to the
 * sink, one row per record, in a fixed order. The trials, epochs, metrics
 * and confusion rows carry the trial's sweep values as columns named by
 * dims[0..n_dims) (the experiment's sweep_dims), each value typed as it is
 * in trial_params; a dimension named like a fixed column becomes
 * "param_NAME". Returns 0, 2 when a callback stopped it, -1 on errors. */
int store_export(store *s, store_table t, int64_t experiment_id, size_t n_dims,
                 const char *const *dims, const store_export_sink *sink,
                 store_error *err);

/* ==== end of the reading API ============================================ */

/* ==== per-point statistics (store_read.c) ===============================
 *
 * What src/analysis/analysis.h computes at the end of a run, stored in the tables
 * point_stats, point_comparisons and point_training (schemas/results.sql,
 * schema version 3). Doubles may be NaN (stored as NULL); strings are
 * copied. */
typedef struct store_point_stat {
    const char *metric;      /* test_accuracy, test_loss, ... */
    size_t point_index;
    const char *params;      /* params JSON */
    size_t point_rank;       /* position in the "smallest first" order */
    int is_best;
    size_t n;
    double mean, std, min, max, median, iqm, ci_lo, ci_hi;
} store_point_stat;

/* A point minus the best point of its metric, over their common seeds. */
typedef struct store_point_comparison {
    const char *metric;
    size_t point_index, best_point_index;
    size_t n_pairs;
    double mean_diff, ci_lo, ci_hi;
    double t, p_t, p_t_holm;
    double w, p_w, p_w_holm;  /* w: min(W+, W-) */
} store_point_comparison;

typedef struct store_point_training {
    size_t point_index;
    const char *params;
    const char *curve;       /* "val_loss" or "loss"; NULL: no curve */
    size_t curve_epochs, converged_epoch; /* 0 without a curve */
    int converged;
    size_t gap_n;
    double gap_mean, gap_ci_lo, gap_ci_hi;
} store_point_training;

typedef struct store_point_stats {
    size_t n_stats;
    const store_point_stat *stats;
    size_t n_comparisons;
    const store_point_comparison *comparisons;
    size_t n_training;
    const store_point_training *training;
} store_point_stats;

/* Replaces every point_stats, point_comparisons and point_training row of
 * experiment_id with ps, in one transaction (nothing changes on failure).
 * The store must be open for writing at schema version 3 or later; no
 * transaction may be open. 0 or -1 (err filled). */
int store_point_stats_write(store *s, int64_t experiment_id, const store_point_stats *ps,
                            store_error *err);

/* 1 when the stored statistics of metric are those of the experiment's done
 * trials as they are now (rows exist and their n add up to the number of
 * done trials: a done trial never changes, so equal counts mean the same
 * set), 0 when they are missing or stale, -1 on error (err filled). */
int store_point_stats_current(store *s, int64_t experiment_id, const char *metric,
                              store_error *err);

/* The point_stats row of (experiment, metric, point): 1 and out filled
 * (metric and params NULL, NULL doubles NaN), 0 when there is none, -1 on
 * error. */
int store_point_stat_read(store *s, int64_t experiment_id, const char *metric,
                          size_t point_index, store_point_stat *out, store_error *err);

/* ==== merging databases (store_merge.c) =================================
 *
 * `runexp merge`: every experiment and trial of the databases in_paths
 * (opened read-only, never migrated or changed) into out (open for
 * writing; the caller holds its writer lock). An input experiment goes to
 * the output's newest experiment with the same name and spec_hash, else is
 * copied (with its classes); the spec texts are copied. Trials are matched
 * by trial key within the experiment: a key not in the output is copied
 * with every row of every table keyed by trial_id (the tables and columns
 * are read from the schemas, so tables added later are copied too; an
 * older input gives the columns it has); a done trial replaces an
 * unfinished one; anything else is left as it is, so merging twice or
 * merging overlapping inputs changes nothing. The same key done in both
 * with another result_hash, or with the same hash but other epochs,
 * metrics, confusion, weights or grids rows, is a reproducibility
 * violation. One transaction for the whole merge: on a violation or any
 * error nothing is written; when nothing is new, nothing is written
 * either. Returns 0, 1 on a violation (err names the trial and both
 * files), -1 on errors (err filled). No transaction may be open on out. */
typedef struct store_merge_counts {
    size_t experiments_added, experiments_matched;
    size_t trials_added;     /* new keys */
    size_t trials_replaced;  /* an unfinished trial replaced by a done one */
    size_t trials_same;      /* done in both, same results */
    size_t trials_kept;      /* the output's kept (the input's did not finish) */
} store_merge_counts;

int store_merge(store *out, size_t n_in, const char *const *in_paths, store_merge_counts *c,
                store_error *err);

#endif
