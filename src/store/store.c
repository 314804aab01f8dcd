/* store: the SQLite results database. See store.h. */
/* realpath() is X/Open (the XSI option of POSIX), beyond _POSIX_C_SOURCE. */
#define _XOPEN_SOURCE 700
#include "store.h"
#include "store_internal.h"

#include "checked.h"
#include "digest.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <sqlite3.h>

/* Generated at build time from schemas/results.sql by cmake/embed.cmake. */
extern const unsigned char store_schema_results_sql[];
extern const unsigned long store_schema_results_sql_len;

/* The tables a trial owns rows of besides its own row (clear_sql). */
#define N_CLEAR 7
/* A trial's epochs, metrics and confusion cells go in statements of up to
 * ROWS_MAX rows each (INSERT ... VALUES (...), (...), ...): SQLite's cost
 * per statement (step, reset, opening the table's cursor) is most of a
 * small row's, and a 5-epoch XOR trial has about 25 such rows. */
#define ROWS_MAX 16

/* One table's INSERT for 1 .. ROWS_MAX rows: st[n] inserts n rows,
 * prepared when first used; row k's column c is parameter k * ncols + c + 1. */
typedef struct rows_insert {
    sqlite3_stmt *st[ROWS_MAX + 1];
} rows_insert;

struct store {
    sqlite3 *db;
    char *path;
    int version_found;
    int fresh; /* the file was absent or empty when opened */
    /* Statements reused for every trial: preparing them once keeps a
     * trial's transaction to a few hundred microseconds. */
    rows_insert ins_epoch, ins_metric, ins_confusion;
    sqlite3_stmt *ins_weight, *ins_grid, *ins_layer;
    sqlite3_stmt *upd_trial, *upd_running, *sel_figures;
    sqlite3_stmt *clear[N_CLEAR];
    sqlite3_stmt *ins_prediction;
    int batch; /* inside store_batch_begin .. store_batch_commit */
};

/* What a trial owns besides its row, cleared before it is (re)written. */
static const char *const clear_sql[N_CLEAR] = {
    "DELETE FROM epochs WHERE trial_id = ?1", "DELETE FROM metrics WHERE trial_id = ?1",
    "DELETE FROM confusion WHERE trial_id = ?1", "DELETE FROM weights WHERE trial_id = ?1",
    "DELETE FROM grids WHERE trial_id = ?1", "DELETE FROM predictions WHERE trial_id = ?1",
    "DELETE FROM layers WHERE trial_id = ?1"};

static const char *const status_names[] = {"queued", "running", "done",
                                           "failed", "diverged", "interrupted", "pruned"};

const char *store_status_name(store_status s)
{
    if ((unsigned)s >= sizeof status_names / sizeof status_names[0])
        return "?";
    return status_names[s];
}

int store_status_parse(const char *name)
{
    for (size_t i = 0; i < sizeof status_names / sizeof status_names[0]; i++)
        if (name && !strcmp(name, status_names[i]))
            return (int)i;
    return -1;
}

/* The generator writes raw bytes rather than a string literal (ISO C only
 * promises 4095-character literals), so the terminator is added here. */
char *store_schema_sql(void)
{
    size_t n = (size_t)store_schema_results_sql_len;
    char *t = malloc(n + 1);
    if (!t)
        return NULL;
    memcpy(t, store_schema_results_sql, n);
    t[n] = '\0';
    return t;
}

void store_set_err(store_error *err, int code, const char *fmt, ...)
{
    if (!err)
        return;
    err->code = code;
    err->busy = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}

/* Fills err from the connection's last error; a busy database gets the one
 * message users need to see. */
void store_db_err(store *s, store_error *err, int rc, const char *what)
{
    if (!err)
        return;
    int prim = rc & 0xff;
    if (prim == SQLITE_BUSY || prim == SQLITE_LOCKED) {
        /* Not another runexp: a second runexp stops at the writer lock
         * (store_writer_lock) before it opens the database. Whatever holds
         * SQLite's lock is some other connection (an sqlite3 shell inside a
         * transaction, a script), and SQLite does not say which. */
        store_set_err(err, rc,
                "%s is locked by another connection, not a runexp (for example an sqlite3 "
                "shell inside a transaction); runexp cannot tell which program holds it. "
                "Gave up after waiting %d s: end that transaction and run again",
                s->path, STORE_BUSY_TIMEOUT_MS / 1000);
        err->busy = 1;
        return;
    }
    if (prim == SQLITE_NOTADB) {
        store_set_err(err, rc, "%s is not an SQLite database; refusing to touch it", s->path);
        return;
    }
    store_set_err(err, rc, "%s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
}

int store_exec(store *s, const char *sql, store_error *err)
{
    char *msg = NULL;
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        store_db_err(s, err, rc, msg ? msg : "exec");
        if (err && msg && (rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_NOTADB)
            store_set_err(err, rc, "%s: %s", s->path, msg);
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

/* Write transactions start IMMEDIATE: the write lock is taken (or waited
 * for, up to the busy timeout) at BEGIN, never half-way through. */
static int tx_begin(store *s, store_error *err)
{
    return store_exec(s, "BEGIN IMMEDIATE", err);
}

static int tx_commit(store *s, store_error *err)
{
    return store_exec(s, "COMMIT", err);
}

static void tx_rollback(store *s)
{
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

int store_prep(store *s, const char *sql, sqlite3_stmt **st, store_error *err)
{
    int rc = sqlite3_prepare_v2(s->db, sql, -1, st, NULL);
    if (rc != SQLITE_OK) {
        store_db_err(s, err, rc, "prepare");
        *st = NULL;
        return -1;
    }
    return 0;
}

/* A statement kept for the life of the store, prepared on first use. */
static int prep_keep(store *s, const char *sql, sqlite3_stmt **st, store_error *err)
{
    if (*st)
        return 0;
    int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);
    if (rc != SQLITE_OK) {
        store_db_err(s, err, rc, "prepare");
        *st = NULL;
        return -1;
    }
    return 0;
}

static int step_done(store *s, sqlite3_stmt *st, store_error *err)
{
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        store_db_err(s, err, rc, "write");
        sqlite3_reset(st);
        return -1;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return 0;
}

static int clear_trial_rows(store *s, int64_t id, store_error *err)
{
    for (int i = 0; i < N_CLEAR; i++) {
        if (prep_keep(s, clear_sql[i], &s->clear[i], err))
            return -1;
        sqlite3_bind_int64(s->clear[i], 1, id);
        if (step_done(s, s->clear[i], err))
            return -1;
    }
    return 0;
}

/* ri's statement for n rows (1 <= n <= ROWS_MAX): head ("INSERT INTO
 * t(a, b)") then n groups of ncols parameters. */
static sqlite3_stmt *rows_stmt(store *s, rows_insert *ri, const char *head, int ncols,
                               size_t n, store_error *err)
{
    if (ri->st[n])
        return ri->st[n];
    char sql[1024];
    int len = snprintf(sql, sizeof sql, "%s VALUES ", head);
    for (size_t k = 0; k < n && len > 0 && (size_t)len < sizeof sql; k++)
        for (int c = 0; c < ncols && (size_t)len < sizeof sql; c++)
            len += snprintf(sql + len, sizeof sql - (size_t)len, "%s%s%s",
                            c ? "" : (k ? ", (" : "("), c ? ", ?" : "?",
                            c + 1 == ncols ? ")" : "");
    if (len <= 0 || (size_t)len >= sizeof sql) { /* a programming error */
        store_set_err(err, 0, "statement too long");
        return NULL;
    }
    return prep_keep(s, sql, &ri->st[n], err) ? NULL : ri->st[n];
}

static void bind_text(sqlite3_stmt *st, int i, const char *t)
{
    if (t)
        sqlite3_bind_text(st, i, t, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

double store_col_real(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

static char *col_strdup(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    if (!t)
        return NULL;
    size_t n = strlen((const char *)t);
    char *c = malloc(n + 1);
    if (c)
        memcpy(c, t, n + 1);
    return c;
}

/* SQLite's file header starts with these 16 bytes. A file that exists, is
 * not empty and does not start with them is not ours to open: SQLite would
 * only fail later, possibly after we asked it to change journal modes.
 * *fresh = 1 when there is no file yet, or an empty one. */
static int check_header(const char *path, int *fresh, store_error *err)
{
    *fresh = 1;
    if (!strcmp(path, ":memory:") || path[0] == '\0')
        return 0;
    /* A device, a FIFO or a directory is no database: /dev/null would read
     * as an empty file (a new database) and a FIFO would block the open. */
    struct stat sb;
    if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
        store_set_err(err, 0, "%s is not a regular file; a database must be a file", path);
        return -1;
    }
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno == ENOENT ? 0 : (store_set_err(err, 0, "cannot open %s: %s", path,
                                              strerror(errno)), -1);
    char head[16];
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    if (n == 0)
        return 0;
    *fresh = 0;
    if (n < sizeof head || memcmp(head, "SQLite format 3", 16) != 0) {
        store_set_err(err, SQLITE_NOTADB, "%s is not an SQLite database; refusing to touch it",
                path);
        return -1;
    }
    return 0;
}

/* The integer a PRAGMA such as "PRAGMA user_version" returns. */
static int pragma_int(store *s, const char *pragma, int *v, store_error *err)
{
    sqlite3_stmt *st;
    if (store_prep(s, pragma, &st, err))
        return -1;
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        store_db_err(s, err, rc, pragma);
        sqlite3_finalize(st);
        return -1;
    }
    *v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return 0;
}

/* Forward migrations. A new database gets the embedded schemas/results.sql,
 * which is always the current schema (it sets user_version itself); a
 * database of version v (1 <= v < STORE_SCHEMA_VERSION) runs migrations[v],
 * migrations[v+1], ... in one transaction. A later version appends its
 * ALTER/CREATE statements here and updates results.sql to match; never edit
 * an old entry. test_store checks that a migrated version-1 database has
 * exactly the schema of a new one. */
static const char *const migrations[STORE_SCHEMA_VERSION] = {
    NULL, /* 0 -> current: schemas/results.sql */
    /* 1 -> 2: only the non-zero confusion cells are stored; confusion_full
     * gives the whole matrix again and confusion_normalized reads it. */
    "DROP VIEW IF EXISTS confusion_normalized;\n"
    "CREATE VIEW IF NOT EXISTS confusion_full AS\n"
    "SELECT s.trial_id, s.split, a.class_index AS true_class, b.class_index AS predicted_class,\n"
    "       COALESCE(c.count, 0) AS count\n"
    "FROM (SELECT DISTINCT trial_id, split FROM confusion) s\n"
    "JOIN trials t ON t.id = s.trial_id\n"
    "JOIN classes a ON a.experiment_id = t.experiment_id\n"
    "JOIN classes b ON b.experiment_id = t.experiment_id\n"
    "LEFT JOIN confusion c ON c.trial_id = s.trial_id AND c.split = s.split\n"
    "     AND c.true_class = a.class_index AND c.predicted_class = b.class_index;\n"
    "CREATE VIEW IF NOT EXISTS confusion_normalized AS\n"
    "SELECT c.trial_id, c.split, c.true_class, c.predicted_class, c.count,\n"
    "       CASE WHEN r.total > 0 THEN CAST(c.count AS REAL) / r.total ELSE 0.0 END AS fraction\n"
    "FROM confusion_full c\n"
    "LEFT JOIN (SELECT trial_id, split, true_class, SUM(count) AS total\n"
    "           FROM confusion GROUP BY trial_id, split, true_class) r\n"
    "  ON r.trial_id = c.trial_id AND r.split = c.split AND r.true_class = c.true_class;\n",
    /* 2 -> 3: the statistics written at the end of a run (analysis.h) and
     * the smallest_sufficient_point view. */
    "CREATE TABLE IF NOT EXISTS point_stats (\n"
    "    experiment_id   INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,\n"
    "    metric          TEXT NOT NULL,\n"
    "    point_index     INTEGER NOT NULL,\n"
    "    params          TEXT NOT NULL,\n"
    "    point_rank      INTEGER NOT NULL,\n"
    "    is_best         INTEGER NOT NULL,\n"
    "    n               INTEGER NOT NULL,\n"
    "    mean REAL, std REAL, min REAL, max REAL, median REAL, iqm REAL,\n"
    "    ci_lo REAL, ci_hi REAL,\n"
    "    PRIMARY KEY (experiment_id, metric, point_index)\n"
    ") WITHOUT ROWID;\n"
    "CREATE TABLE IF NOT EXISTS point_comparisons (\n"
    "    experiment_id   INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,\n"
    "    metric          TEXT NOT NULL,\n"
    "    point_index     INTEGER NOT NULL,\n"
    "    best_point_index INTEGER NOT NULL,\n"
    "    n_pairs         INTEGER NOT NULL,\n"
    "    mean_diff REAL, ci_lo REAL, ci_hi REAL,\n"
    "    t REAL, p_t REAL, p_t_holm REAL,\n"
    "    w REAL, p_w REAL, p_w_holm REAL,\n"
    "    PRIMARY KEY (experiment_id, metric, point_index)\n"
    ") WITHOUT ROWID;\n"
    "CREATE TABLE IF NOT EXISTS point_training (\n"
    "    experiment_id   INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,\n"
    "    point_index     INTEGER NOT NULL,\n"
    "    params          TEXT NOT NULL,\n"
    "    curve           TEXT CHECK (curve IN ('val_loss', 'loss')),\n"
    "    curve_epochs    INTEGER,\n"
    "    converged_epoch INTEGER,\n"
    "    converged       INTEGER,\n"
    "    gap_n           INTEGER NOT NULL,\n"
    "    gap_mean REAL, gap_ci_lo REAL, gap_ci_hi REAL,\n"
    "    PRIMARY KEY (experiment_id, point_index)\n"
    ") WITHOUT ROWID;\n"
    "CREATE VIEW IF NOT EXISTS smallest_sufficient_point AS\n"
    "WITH c AS (\n"
    "  SELECT s.experiment_id, s.metric, s.point_index, s.params, s.n, s.mean,\n"
    "         p.n_pairs, p.mean_diff, p.ci_lo AS diff_ci_lo, p.ci_hi AS diff_ci_hi, p.p_w_holm,\n"
    "         ROW_NUMBER() OVER (PARTITION BY s.experiment_id, s.metric\n"
    "                            ORDER BY s.point_rank, s.point_index) AS k\n"
    "  FROM point_stats s\n"
    "  LEFT JOIN point_comparisons p ON p.experiment_id = s.experiment_id\n"
    "       AND p.metric = s.metric AND p.point_index = s.point_index\n"
    "  WHERE s.is_best = 1 OR p.p_w_holm >= 0.05\n"
    ")\n"
    "SELECT c.experiment_id, e.name AS experiment, c.metric, c.point_index, c.params, c.n,\n"
    "       c.mean, b.point_index AS best_point_index, b.params AS best_params,\n"
    "       b.mean AS best_mean, c.n_pairs, c.mean_diff, c.diff_ci_lo, c.diff_ci_hi, c.p_w_holm\n"
    "FROM c JOIN experiments e ON e.id = c.experiment_id\n"
    "JOIN point_stats b ON b.experiment_id = c.experiment_id AND b.metric = c.metric\n"
    "     AND b.is_best = 1\n"
    "WHERE c.k = 1;\n",
    /* 3 -> 4. Each feature of version 4 adds its own block. */
    /* per-sample predictions (record.predictions) */
    "CREATE TABLE IF NOT EXISTS predictions (\n"
    "    trial_id        INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,\n"
    "    split           TEXT NOT NULL,\n"
    "    split_row       INTEGER NOT NULL,\n"
    "    source_row      INTEGER NOT NULL,\n"
    "    augmented_row   INTEGER NOT NULL,\n"
    "    true_class      INTEGER NOT NULL,\n"
    "    predicted_class INTEGER NOT NULL,\n"
    "    probabilities   TEXT NOT NULL,\n"
    "    PRIMARY KEY (trial_id, split, split_row)\n"
    ") WITHOUT ROWID;\n"
    /* end of per-sample predictions */
    /* keras training extras: the learning rate per epoch, each trial's
     * layer table (early stopping's columns of trials are in the rebuild of
     * migration_4) */
    "ALTER TABLE epochs ADD COLUMN learning_rate REAL;\n"
    "CREATE TABLE IF NOT EXISTS layers (\n"
    "    trial_id        INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,\n"
    "    layer_index     INTEGER NOT NULL,       -- 0-based, input side first\n"
    "    name            TEXT NOT NULL,\n"
    "    type            TEXT NOT NULL,\n"
    "    output_shape    TEXT NOT NULL,\n"
    "    params          INTEGER NOT NULL,\n"
    "    trainable_params INTEGER NOT NULL,\n"
    "    PRIMARY KEY (trial_id, layer_index)\n"
    ") WITHOUT ROWID;\n"
    /* end of keras training extras */
    "",
};

/* Migrations given as several statements (a literal may hold at most
 * 4095 bytes in ISO C): run in order after migrations[v]; a block of a
 * version appends its own strings. */
static const char *const migration_4[] = {
    /* 3 -> 4. Block "search (pruning)": the 'pruned' status and
     * trials.pruned_rung, the trial_rungs and prune_decisions tables. The
     * statuses are a CHECK constraint, so trials is rebuilt as SQLite's
     * ALTER TABLE page says ("Making Other Kinds Of Table Schema Changes"):
     * migrate() turns foreign_keys off around it (a DROP would otherwise
     * delete every trial's rows in the other tables) and checks them before
     * the commit; legacy_alter_table keeps the rename from rewriting the
     * other tables' REFERENCES trials(id); the views that read trials are
     * dropped first and made again. The rebuild copies the version-3
     * columns by name: other blocks that ADD COLUMN to trials go after it. */
    "DROP VIEW IF EXISTS confusion_normalized;\n"
    "DROP VIEW IF EXISTS confusion_full;\n"
    "DROP VIEW IF EXISTS sweep_summary;\n"
    "DROP VIEW IF EXISTS trial_summary;\n"
    "PRAGMA legacy_alter_table = ON;\n"
    "ALTER TABLE trials RENAME TO trials_v3;\n"
    "CREATE TABLE IF NOT EXISTS trials (\n"
    "    id              INTEGER PRIMARY KEY,\n"
    "    experiment_id   INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,\n"
    "    trial_key       TEXT NOT NULL,          -- hex SHA-256 of canonical spec + seed\n"
    "    trial_index     INTEGER NOT NULL,       -- position in the plan\n"
    "    point_index     INTEGER NOT NULL,       -- sweep point\n"
    "    seed            INTEGER NOT NULL,\n"
    "    params          TEXT NOT NULL,          -- JSON object of sweep values by name\n"
    "    resolved_spec   TEXT,                   -- canonical resolved spec of the trial\n"
    "    spec_hash       TEXT REFERENCES specs(spec_hash), -- the spec text it last ran from\n"
    "    status          TEXT NOT NULL CHECK (status IN\n"
    "                      ('queued','running','done','failed','diverged','interrupted','pruned')),\n"
    "    n_params        INTEGER,\n"
    "    epochs_run      INTEGER,\n"
    "    diverged_epoch  INTEGER,\n"
    "    best_epoch      INTEGER,                -- epoch of minimum val_loss (1-based)\n"
    "    overfit_gap     REAL,                   -- final val_loss - minimum val_loss\n"
    "    train_loss      REAL,\n"
    "    train_accuracy  REAL,\n"
    "    val_loss        REAL,\n"
    "    val_accuracy    REAL,\n"
    "    test_loss       REAL,\n"
    "    test_accuracy   REAL,\n"
    "    result_hash     TEXT,                   -- hex SHA-256 of final weights + metrics bits\n"
    "    started_at      TEXT,\n"
    "    finished_at     TEXT,\n"
    "    wall_ms         REAL,\n"
    "    error           TEXT,\n"
    "    pruned_rung     INTEGER,                -- search: the rung (0-based) a pruned trial stopped at\n"
    "    stopped_epoch   INTEGER,                -- early stopping fired after this epoch\n"
    "    restored_best   INTEGER,                -- 1: best weights restored (restore_best_weights)\n"
    "    early_stopping_best_epoch INTEGER,      -- early stopping's best epoch (1-based)\n"
    "    -- A trial key is unique within one experiment record, not across the\n"
    "    -- database: `--fresh` starts a new experiment whose trials have the very\n"
    "    -- same keys (same spec, same seeds). Resume looks keys up per experiment.\n"
    "    UNIQUE (experiment_id, trial_key)\n"
    ");\n"
    "INSERT INTO trials (id, experiment_id, trial_key, trial_index, point_index, seed, params, resolved_spec, spec_hash, status, n_params, epochs_run, diverged_epoch, best_epoch, overfit_gap, train_loss, train_accuracy, val_loss, val_accuracy, test_loss, test_accuracy, result_hash, started_at, finished_at, wall_ms, error)\n"
    "  SELECT id, experiment_id, trial_key, trial_index, point_index, seed, params, resolved_spec, spec_hash, status, n_params, epochs_run, diverged_epoch, best_epoch, overfit_gap, train_loss, train_accuracy, val_loss, val_accuracy, test_loss, test_accuracy, result_hash, started_at, finished_at, wall_ms, error FROM trials_v3;\n"
    "DROP TABLE trials_v3;\n",
    "PRAGMA legacy_alter_table = OFF;\n"
    "CREATE INDEX IF NOT EXISTS trials_experiment ON trials(experiment_id, point_index, seed);\n"
    "CREATE VIEW IF NOT EXISTS trial_summary AS\n"
    "SELECT t.id AS trial_id, e.id AS experiment_id, e.name AS experiment,\n"
    "       t.point_index, t.params, t.seed, t.status, t.n_params, t.epochs_run,\n"
    "       t.diverged_epoch, t.best_epoch, t.overfit_gap, t.train_loss, t.train_accuracy,\n"
    "       t.val_loss, t.val_accuracy, t.test_loss, t.test_accuracy, t.wall_ms,\n"
    "       t.result_hash, t.trial_key, t.error\n"
    "FROM trials t JOIN experiments e ON e.id = t.experiment_id;\n"
    "CREATE VIEW IF NOT EXISTS sweep_summary AS\n"
    "WITH d AS (\n"
    "  SELECT t.*,\n"
    "         AVG(t.test_accuracy) OVER w AS acc_avg,\n"
    "         AVG(t.test_loss) OVER w AS loss_avg\n"
    "  FROM trials t\n"
    "  WHERE t.status = 'done'\n"
    "  WINDOW w AS (PARTITION BY t.experiment_id, t.params)\n"
    ")\n"
    "SELECT e.id AS experiment_id, e.name AS experiment,\n"
    "       MIN(d.point_index) AS point_index, d.params,\n"
    "       COUNT(*) AS n,\n"
    "       AVG(d.test_accuracy) AS test_accuracy_mean,\n"
    "       CASE WHEN COUNT(*) > 1 THEN\n"
    "         sqrt(SUM((d.test_accuracy - d.acc_avg) * (d.test_accuracy - d.acc_avg))\n"
    "              / (COUNT(*) - 1))\n"
    "       END AS test_accuracy_std,\n"
    "       MIN(d.test_accuracy) AS test_accuracy_min,\n"
    "       MAX(d.test_accuracy) AS test_accuracy_max,\n"
    "       AVG(d.test_loss) AS test_loss_mean,\n"
    "       CASE WHEN COUNT(*) > 1 THEN\n"
    "         sqrt(SUM((d.test_loss - d.loss_avg) * (d.test_loss - d.loss_avg))\n"
    "              / (COUNT(*) - 1))\n"
    "       END AS test_loss_std,\n"
    "       MIN(d.test_loss) AS test_loss_min,\n"
    "       MAX(d.test_loss) AS test_loss_max,\n"
    "       AVG(d.val_accuracy) AS val_accuracy_mean,\n"
    "       AVG(d.best_epoch) AS best_epoch_mean,\n"
    "       AVG(d.overfit_gap) AS overfit_gap_mean\n"
    "FROM d JOIN experiments e ON e.id = d.experiment_id\n"
    "GROUP BY e.id, d.params;\n"
    "CREATE VIEW IF NOT EXISTS confusion_full AS\n"
    "SELECT s.trial_id, s.split, a.class_index AS true_class, b.class_index AS predicted_class,\n"
    "       COALESCE(c.count, 0) AS count\n"
    "FROM (SELECT DISTINCT trial_id, split FROM confusion) s\n"
    "JOIN trials t ON t.id = s.trial_id\n"
    "JOIN classes a ON a.experiment_id = t.experiment_id\n"
    "JOIN classes b ON b.experiment_id = t.experiment_id\n"
    "LEFT JOIN confusion c ON c.trial_id = s.trial_id AND c.split = s.split\n"
    "     AND c.true_class = a.class_index AND c.predicted_class = b.class_index;\n",
    "CREATE VIEW IF NOT EXISTS confusion_normalized AS\n"
    "SELECT c.trial_id, c.split, c.true_class, c.predicted_class, c.count,\n"
    "       CASE WHEN r.total > 0 THEN CAST(c.count AS REAL) / r.total ELSE 0.0 END AS fraction\n"
    "FROM confusion_full c\n"
    "LEFT JOIN (SELECT trial_id, split, true_class, SUM(count) AS total\n"
    "           FROM confusion GROUP BY trial_id, split, true_class) r\n"
    "  ON r.trial_id = c.trial_id AND r.split = c.split AND r.true_class = c.true_class;\n"
    "CREATE TABLE IF NOT EXISTS trial_rungs (\n"
    "    trial_id        INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,\n"
    "    rung            INTEGER NOT NULL,\n"
    "    epoch           INTEGER NOT NULL,\n"
    "    metric          TEXT NOT NULL,\n"
    "    value           REAL,\n"
    "    PRIMARY KEY (trial_id, rung)\n"
    ") WITHOUT ROWID;\n"
    "CREATE TABLE IF NOT EXISTS prune_decisions (\n"
    "    experiment_id   INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,\n"
    "    bracket         INTEGER NOT NULL,\n"
    "    rung            INTEGER NOT NULL,\n"
    "    epoch           INTEGER NOT NULL,\n"
    "    point_index     INTEGER NOT NULL,\n"
    "    params          TEXT NOT NULL,\n"
    "    metric          TEXT NOT NULL,\n"
    "    n               INTEGER NOT NULL,\n"
    "    value           REAL,\n"
    "    place           INTEGER NOT NULL,\n"
    "    promoted        INTEGER NOT NULL,\n"
    "    PRIMARY KEY (experiment_id, bracket, rung, point_index)\n"
    ") WITHOUT ROWID;\n",
    NULL,
};

static const char *const *const migration_parts[STORE_SCHEMA_VERSION] = {
    NULL, NULL, NULL, migration_4,
};

static int migrate_tx(store *s, store_error *err);

static int migrate(store *s, store_error *err)
{
    int v;
    if (pragma_int(s, "PRAGMA user_version", &v, err))
        return -1;
    if (v >= STORE_SCHEMA_VERSION)
        return 0;
    /* A migration that rebuilds a table (3 -> 4) needs foreign keys off,
     * which cannot change inside a transaction: off for every migration, on
     * again after it, whatever happened. */
    if (store_exec(s, "PRAGMA foreign_keys = OFF", err))
        return -1;
    int rc = migrate_tx(s, err);
    store_error e2;
    if (store_exec(s, "PRAGMA foreign_keys = ON", rc ? &e2 : err))
        rc = -1;
    return rc;
}

/* migrate's transaction (foreign keys off). */
static int migrate_tx(store *s, store_error *err)
{
    int v;
    if (tx_begin(s, err))
        return -1;
    /* Read again under the write lock: another runexp may have migrated. */
    if (pragma_int(s, "PRAGMA user_version", &v, err))
        goto fail;
    if (v == 0) {
        char *sql = store_schema_sql();
        if (!sql) {
            store_set_err(err, 0, "out of memory");
            goto fail;
        }
        int r = store_exec(s, sql, err);
        free(sql);
        if (r)
            goto fail;
    } else {
        for (; v < STORE_SCHEMA_VERSION; v++) {
            if (migrations[v] && store_exec(s, migrations[v], err))
                goto fail;
            for (const char *const *m = migration_parts[v]; m && *m; m++)
                if (store_exec(s, *m, err))
                    goto fail;
        }
        /* What the rebuild did must leave every reference whole. */
        int broken;
        if (pragma_int(s, "SELECT COUNT(*) FROM pragma_foreign_key_check", &broken, err))
            goto fail;
        if (broken) {
            store_set_err(err, 0, "%s: the migration would break %d foreign key%s; nothing changed",
                    s->path, broken, broken == 1 ? "" : "s");
            goto fail;
        }
    }
    char pragma[64];
    snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", STORE_SCHEMA_VERSION);
    if (store_exec(s, pragma, err) || tx_commit(s, err))
        goto fail;
    return 0;
fail:
    tx_rollback(s);
    return -1;
}

/* Whether an existing file is runexp's own, decided by reading only, before
 * anything could write to it (journal mode included). A database without a
 * schema version must hold no tables yet (then runexp creates its schema);
 * one with a version runexp knows must have runexp's tables, with the
 * columns trials are found by. Anything else belongs to another program. */
static int check_ours(store *s, store_error *err)
{
    if (s->fresh || s->version_found > STORE_SCHEMA_VERSION)
        return 0;
    static const char q0[] = "SELECT COUNT(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'";
    static const char q1[] =
        "SELECT (SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN"
        " ('experiments','specs','trials','trial_params','epochs','metrics','confusion',"
        "'weights','classes','grids')) = 10"
        " AND (SELECT COUNT(*) FROM pragma_table_info('trials') WHERE name IN"
        " ('id','experiment_id','trial_key','seed','status','result_hash')) = 6"
        " AND (SELECT COUNT(*) FROM pragma_table_info('experiments') WHERE name IN"
        " ('id','name','spec','spec_hash')) = 4";
    int n;
    if (pragma_int(s, s->version_found == 0 ? q0 : q1, &n, err))
        return -1;
    if (s->version_found == 0 && n > 0) {
        store_set_err(err, 0,
                "%s is an SQLite database of another program (it has tables but no runexp "
                "schema version); refusing to touch it",
                s->path);
        return -1;
    }
    if (s->version_found > 0 && !n) {
        store_set_err(err, 0,
                "%s is an SQLite database of another program (user_version %d, but not "
                "runexp's tables); refusing to touch it",
                s->path, s->version_found);
        return -1;
    }
    return 0;
}

/* What both ways of opening share: the file is checked to be an SQLite
 * database (or absent/empty) before SQLite touches it, the connection is
 * opened with flags, and the schema version is read. NOMUTEX: the runner
 * guarantees that one thread at a time uses the connection (its writer
 * lock), so SQLite's per-call mutex is only overhead; see run_loop.c. */
static store *open_connection(const char *path, int flags, store_error *err)
{
    if (err)
        memset(err, 0, sizeof *err);
    int fresh;
    if (check_header(path, &fresh, err))
        return NULL;
    store *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path))) {
        store_set_err(err, 0, "out of memory");
        goto fail;
    }
    s->fresh = fresh;
    int rc = sqlite3_open_v2(path, &s->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        if (s->db)
            store_set_err(err, rc, "cannot open %s: %s", path, sqlite3_errmsg(s->db));
        else
            store_set_err(err, rc, "cannot open %s", path);
        goto fail;
    }
    sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS);
    sqlite3_extended_result_codes(s->db, 1);
    if (pragma_int(s, "PRAGMA user_version", &s->version_found, err) || check_ours(s, err))
        goto fail;
    return s;
fail:
    store_close(s);
    return NULL;
}

store *store_open(const char *path, store_error *err)
{
    /* Reading the version is the first thing that touches the file; a newer
     * schema is refused before any PRAGMA that could write to it. */
    store *s = open_connection(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, err);
    if (!s)
        return NULL;
    if (s->version_found > STORE_SCHEMA_VERSION) {
        store_set_err(err, 0,
                "%s has schema version %d, newer than this runexp knows (%d); "
                "refusing to touch it (use a newer runexp)",
                path, s->version_found, STORE_SCHEMA_VERSION);
        goto fail;
    }
    /* WAL lets sqlite3 read while a sweep writes. synchronous=NORMAL is safe
     * with WAL (a crash never corrupts; at worst the last commits before a
     * power cut are lost) and keeps a commit free of fsync. SQLite's own
     * auto-checkpoint (1000 frames, 4 MB) keeps the WAL short; it runs in
     * whichever worker commits past it, while the other workers train. The
     * run loop's batches keep a small run under it (xor_sweep: about 550
     * frames, where one commit per trial and per running mark wrote 1 100);
     * a larger WAL that the close checkpoints in one go measured slower with
     * -j 2 on the 300-trial sweep (the close is serial, a mid-run checkpoint
     * is not). */
    if (store_exec(s, "PRAGMA foreign_keys = ON", err) ||
        store_exec(s, "PRAGMA synchronous = NORMAL", err) ||
        store_exec(s, "PRAGMA journal_mode = WAL", err) || migrate(s, err))
        goto fail;
    return s;
fail:
    store_close(s);
    return NULL;
}

store *store_open_readonly(const char *path, store_error *err)
{
    /* Without SQLITE_OPEN_CREATE a missing file is an error, not a new
     * database; read-only, SQLite writes nothing to the main file (a WAL
     * reader may still need the -shm index next to it). */
    store *s = open_connection(path, SQLITE_OPEN_READONLY, err);
    if (!s)
        return NULL;
    /* Every version up to this runexp's can be read: migrations only add
     * (columns, tables, views), and readers use what version 1 had. */
    if (s->version_found == 0 || s->version_found > STORE_SCHEMA_VERSION) {
        if (s->version_found == 0)
            store_set_err(err, 0, "%s has no runexp results (schema version 0); nothing to read",
                    path);
        else
            store_set_err(err, 0,
                    "%s has schema version %d, newer than this runexp knows (%d); "
                    "refusing to read it (use a newer runexp)",
                    path, s->version_found, STORE_SCHEMA_VERSION);
        goto fail;
    }
    return s;
fail:
    store_close(s);
    return NULL;
}

/* The pid a lock holder wrote into the lock file; 0 when unreadable. */
static long lock_file_pid(int fd)
{
    char buf[32];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    return strtol(buf, NULL, 10);
}

/* A malloc'ed copy of a followed by b. */
static char *str_cat(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    char *c = malloc(na + nb + 1);
    if (c) {
        memcpy(c, a, na);
        memcpy(c + na, b, nb + 1);
    }
    return c;
}

/* The file a database path names, as an absolute path without symbolic
 * links: what SQLite opens (it follows links too, and keeps its -wal and
 * -shm files beside the real file). For a file that does not exist yet, the
 * real path of its directory plus its name; a dangling link is followed to
 * where the file would be created. An existing file must be a regular file
 * with a single name (see store_writer_lock). Returns a malloc'ed path, or
 * NULL with err filled. */
static char *resolve_db_path(const char *path, store_error *err)
{
    char *cur = strdup(path);
    if (!cur)
        goto oom;
    for (int hops = 0; hops < 40; hops++) {
        struct stat sb;
        if (stat(cur, &sb) == 0) {
            if (!S_ISREG(sb.st_mode)) {
                store_set_err(err, 0, "%s is not a regular file; a database must be a file", path);
                free(cur);
                return NULL;
            }
            /* Hard links are names of one file that no path resolution can
             * bring together: a lock beside each name would not exclude the
             * other, and SQLite names its WAL after the name used, so two
             * writers (or a crash recovered through the other name) could
             * corrupt it. */
            if (sb.st_nlink > 1) {
                store_set_err(err, 0,
                        "%s has %lu hard links (names); runexp writes only a database with "
                        "one name (SQLite keeps its WAL beside the name used, and runexp's "
                        "writer lock is per file name): copy it to a file of its own",
                        path, (unsigned long)sb.st_nlink);
                free(cur);
                return NULL;
            }
            char *real = realpath(cur, NULL);
            if (!real)
                store_set_err(err, 0, "cannot resolve %s: %s", path, strerror(errno));
            free(cur);
            return real;
        }
        if (errno != ENOENT) {
            store_set_err(err, 0, "cannot create the database %s: %s", path, strerror(errno));
            free(cur);
            return NULL;
        }
        char *slash = strrchr(cur, '/');
        struct stat lb;
        if (lstat(cur, &lb) == 0 && S_ISLNK(lb.st_mode)) {
            /* A dangling link: continue from its target. */
            char target[PATH_MAX];
            ssize_t n = readlink(cur, target, sizeof target - 1);
            if (n < 0) {
                store_set_err(err, 0, "cannot read the link %s: %s", cur, strerror(errno));
                free(cur);
                return NULL;
            }
            target[n] = '\0';
            char *next;
            if (target[0] == '/' || !slash) {
                next = strdup(target);
            } else {
                slash[1] = '\0';
                next = str_cat(cur, target);
            }
            free(cur);
            cur = next;
            if (!cur)
                goto oom;
            continue;
        }
        /* A new file: its directory must exist (runexp creates the default
         * results/ before it gets here). */
        const char *base = slash ? slash + 1 : cur;
        if (!*base || !strcmp(base, ".") || !strcmp(base, "..")) {
            store_set_err(err, 0, "%s does not name a database file", path);
            free(cur);
            return NULL;
        }
        char *dir = slash ? (slash == cur ? strdup("/") : strndup(cur, (size_t)(slash - cur)))
                          : strdup(".");
        if (!dir)
            goto oom;
        char *rdir = realpath(dir, NULL);
        if (!rdir) {
            store_set_err(err, 0, "cannot create the database %s: directory %s: %s", path, dir,
                    strerror(errno));
            free(dir);
            free(cur);
            return NULL;
        }
        free(dir);
        char *withslash = strcmp(rdir, "/") ? str_cat(rdir, "/") : strdup("/");
        char *real = withslash ? str_cat(withslash, base) : NULL;
        free(withslash);
        free(rdir);
        free(cur);
        if (!real)
            goto oom;
        return real;
    }
    store_set_err(err, 0, "cannot resolve %s: too many levels of symbolic links", path);
    free(cur);
    return NULL;
oom:
    free(cur);
    store_set_err(err, 0, "out of memory");
    return NULL;
}

int store_writer_lock(const char *db_path, store_error *err)
{
    if (err)
        memset(err, 0, sizeof *err);
    /* The lock is taken on the file, not on the path given: --db c.db and
     * --db link-to-c.db, or dir/../c.db, find the same lock file. */
    char *real = resolve_db_path(db_path, err);
    if (!real)
        return -1;
    /* Named in messages when it is not simply the path given. */
    char shown[2 * PATH_MAX + 16] = "";
    if (strcmp(real, db_path))
        snprintf(shown, sizeof shown, " (%s)", real);
    char *lp = str_cat(real, ".lock");
    free(real);
    if (!lp) {
        store_set_err(err, 0, "out of memory");
        return -1;
    }
    int fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        store_set_err(err, 0, "cannot create the lock file %s: %s", lp, strerror(errno));
        free(lp);
        return -1;
    }
    /* F_SETLK fails at once when another process holds the lock; F_GETLK
     * then names it. If the holder let go in between, try again. */
    for (int attempt = 0; attempt < 5; attempt++) {
        struct flock fl;
        memset(&fl, 0, sizeof fl);
        fl.l_type = F_WRLCK;
        fl.l_whence = SEEK_SET;
        if (fcntl(fd, F_SETLK, &fl) == 0) {
            char pid[32];
            int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
            /* The pid is for people (and a message when F_GETLK cannot
             * name the holder); failing to write it does not matter. */
            if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)len, 0) != len) {
                /* ignored */
            }
            free(lp);
            return fd;
        }
        if (errno != EACCES && errno != EAGAIN) {
            store_set_err(err, 0, "cannot lock %s: %s", lp, strerror(errno));
            free(lp);
            close(fd);
            return -1;
        }
        memset(&fl, 0, sizeof fl);
        fl.l_type = F_WRLCK;
        fl.l_whence = SEEK_SET;
        if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type == F_UNLCK)
            continue;
        long holder = fl.l_type != F_UNLCK && fl.l_pid > 0 ? (long)fl.l_pid : lock_file_pid(fd);
        store_set_err(err, 0,
                "another runexp (pid %ld) is writing %s%s; wait for it or use another --db",
                holder, db_path, shown);
        if (err)
            err->busy = 1;
        free(lp);
        close(fd);
        return -1;
    }
    store_set_err(err, 0, "another runexp is writing %s%s; wait for it or use another --db", db_path,
            shown);
    if (err)
        err->busy = 1;
    free(lp);
    close(fd);
    return -1;
}

void store_writer_unlock(int fd)
{
    /* Closing releases the lock. The file stays: removing it would let a
     * process that opened it just before lock an inode nobody else sees. */
    if (fd >= 0)
        close(fd);
}

void store_close(store *s)
{
    if (!s)
        return;
    for (int n = 0; n <= ROWS_MAX; n++) {
        sqlite3_finalize(s->ins_epoch.st[n]);
        sqlite3_finalize(s->ins_metric.st[n]);
        sqlite3_finalize(s->ins_confusion.st[n]);
    }
    sqlite3_finalize(s->ins_weight);
    sqlite3_finalize(s->ins_grid);
    sqlite3_finalize(s->ins_layer);
    sqlite3_finalize(s->upd_trial);
    sqlite3_finalize(s->upd_running);
    sqlite3_finalize(s->sel_figures);
    for (int i = 0; i < N_CLEAR; i++)
        sqlite3_finalize(s->clear[i]);
    sqlite3_finalize(s->ins_prediction);
    if (s->db)
        sqlite3_close(s->db);
    free(s->path);
    free(s);
}

int store_version_found(const store *s)
{
    return s->version_found;
}

/* ---- experiments ------------------------------------------------------ */

/* A sweep point of the new plan, sorted by params for lookups. */
typedef struct point_ref {
    const char *params, *canonical;
} point_ref;

static int point_ref_cmp(const void *a, const void *b)
{
    return strcmp(((const point_ref *)a)->params, ((const point_ref *)b)->params);
}

/* Whether the plan in `in` extends experiment exp (see store.h): *ok = 1,
 * or 0 with the reason in oc. Read-only; runs inside the caller's
 * transaction. */
static int plan_extends(store *s, int64_t exp, const store_experiment_info *in, int *ok,
                        store_experiment_outcome *oc, store_error *err)
{
    sqlite3_stmt *st = NULL;
    point_ref *pts = NULL;
    *ok = 1;
    if (store_prep(s, "SELECT COALESCE(sweep_dims, '[]') FROM experiments WHERE id = ?1", &st, err))
        return -1;
    sqlite3_bind_int64(st, 1, exp);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        store_db_err(s, err, rc, "looking up the experiment");
        goto fail;
    }
    const char *old_dims = (const char *)sqlite3_column_text(st, 0);
    const char *new_dims = in->sweep_dims ? in->sweep_dims : "[]";
    if (strcmp(old_dims ? old_dims : "[]", new_dims)) {
        *ok = 0;
        oc->dims_changed = 1;
        snprintf(oc->previous_dims, sizeof oc->previous_dims, "%s", old_dims ? old_dims : "[]");
        sqlite3_finalize(st);
        return 0;
    }
    sqlite3_finalize(st);
    st = NULL;
    size_t np = in->n_points;
    pts = malloc((np ? np : 1) * sizeof *pts);
    if (!pts) {
        store_set_err(err, 0, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < np; i++)
        pts[i] = (point_ref){in->point_params[i], in->point_canonical[i]};
    qsort(pts, np, sizeof *pts, point_ref_cmp);
    /* One row per distinct (params, spec) stored: a point that ran from two
     * specs shows up twice and the one that differs is found. */
    if (store_prep(s, "SELECT DISTINCT params, resolved_spec FROM trials WHERE experiment_id = ?1"
                " ORDER BY params", &st, err))
        goto fail;
    sqlite3_bind_int64(st, 1, exp);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *params = (const char *)sqlite3_column_text(st, 0);
        const char *spec = (const char *)sqlite3_column_text(st, 1);
        if (!params)
            continue;
        point_ref key = {params, NULL};
        const point_ref *p = np ? bsearch(&key, pts, np, sizeof *pts, point_ref_cmp) : NULL;
        if (p && (!spec || !p->canonical || strcmp(spec, p->canonical))) {
            *ok = 0;
            snprintf(oc->differing_params, sizeof oc->differing_params, "%s", params);
            break;
        }
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        store_db_err(s, err, rc, "comparing the plan with the experiment");
        goto fail;
    }
    sqlite3_finalize(st);
    free(pts);
    return 0;
fail:
    sqlite3_finalize(st);
    free(pts);
    return -1;
}

int store_experiment_begin(store *s, const store_experiment_info *in, int fresh,
                           int64_t *id, store_experiment_outcome *outcome, store_error *err)
{
    sqlite3_stmt *st = NULL;
    char hash[65];
    store_experiment_outcome oc_local;
    store_experiment_outcome *oc = outcome ? outcome : &oc_local;
    memset(oc, 0, sizeof *oc);
    digest_sha256_hex(in->spec, strlen(in->spec), hash);
    if (tx_begin(s, err))
        return -1;
    int64_t found = 0;
    if (!fresh) {
        if (store_prep(s, "SELECT id FROM experiments WHERE name = ?1 ORDER BY id DESC LIMIT 1",
                 &st, err))
            goto fail;
        bind_text(st, 1, in->name);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            found = sqlite3_column_int64(st, 0);
        else if (rc != SQLITE_DONE) {
            store_db_err(s, err, rc, "looking up the experiment");
            goto fail;
        }
        sqlite3_finalize(st);
        st = NULL;
        /* Resuming by name alone would let an edited spec (epochs 20 -> 40)
         * add its trials to the old experiment: sweep_summary would then
         * average two different trainings per point. */
        if (found) {
            int ok;
            oc->previous = found;
            if (plan_extends(s, found, in, &ok, oc, err))
                goto fail;
            oc->resumed = ok;
            if (!ok)
                found = 0;
        }
    }
    if (store_prep(s,
             found ? "UPDATE experiments SET name=?1, spec=?2, spec_file=?3, spec_hash=?4,"
                     " created_at=created_at, runexp_version=?6, git_revision=?7,"
                     " compiler=?8, build_flags=?9, host=?10, cpu_model=?11, threads=?12,"
                     " sweep_dims=?13 WHERE id=?14"
                   : "INSERT INTO experiments(name, spec, spec_file, spec_hash, created_at,"
                     " runexp_version, git_revision, compiler, build_flags, host, cpu_model,"
                     " threads, sweep_dims) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)",
             &st, err))
        goto fail;
    bind_text(st, 1, in->name);
    bind_text(st, 2, in->spec);
    bind_text(st, 3, in->spec_file);
    bind_text(st, 4, hash);
    if (!found)
        bind_text(st, 5, in->created_at);
    bind_text(st, 6, in->runexp_version);
    bind_text(st, 7, in->git_revision);
    bind_text(st, 8, in->compiler);
    bind_text(st, 9, in->build_flags);
    bind_text(st, 10, in->host);
    bind_text(st, 11, in->cpu_model);
    sqlite3_bind_int(st, 12, in->threads);
    bind_text(st, 13, in->sweep_dims);
    if (found)
        sqlite3_bind_int64(st, 14, found);
    if (step_done(s, st, err))
        goto fail;
    sqlite3_finalize(st);
    st = NULL;
    *id = found ? found : sqlite3_last_insert_rowid(s->db);

    if (store_prep(s, "INSERT OR IGNORE INTO specs(spec_hash, spec, spec_file, base_dir)"
                " VALUES (?1, ?2, ?3, ?4)", &st, err))
        goto fail;
    bind_text(st, 1, hash);
    bind_text(st, 2, in->spec);
    bind_text(st, 3, in->spec_file);
    bind_text(st, 4, in->base_dir);
    if (step_done(s, st, err))
        goto fail;
    sqlite3_finalize(st);
    st = NULL;

    if (store_prep(s, "INSERT OR REPLACE INTO classes(experiment_id, class_index, name)"
                " VALUES (?1, ?2, ?3)", &st, err))
        goto fail;
    for (size_t k = 0; k < in->n_classes; k++) {
        sqlite3_bind_int64(st, 1, *id);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)k);
        bind_text(st, 3, in->class_names[k]);
        if (step_done(s, st, err))
            goto fail;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (tx_commit(s, err))
        goto fail;
    return 0;
fail:
    sqlite3_finalize(st);
    tx_rollback(s);
    return -1;
}

/* ---- trials ----------------------------------------------------------- */

/* A plan trial found in the database. */
typedef struct plan_found {
    int64_t id;
    int status;    /* store_status */
    int same_text; /* last ran (or was queued) from this spec text */
    int moved;     /* its trial_index or point_index differ from the plan's */
    int new_params; /* its params differ from the plan's */
} plan_found;

/* Plan indices sorted by trial key, for finding stored rows by key. */
typedef struct key_order {
    const store_trial_plan *plan;
    size_t *idx;
} key_order;

static int plan_key_cmp(const void *a, const void *b, const store_trial_plan *plan)
{
    return strcmp(plan[*(const size_t *)a].key, plan[*(const size_t *)b].key);
}

/* qsort has no context argument in C11: a merge sort of the indices. */
static void sort_by_key(size_t *v, size_t *tmp, size_t n, const store_trial_plan *plan)
{
    if (n < 2)
        return;
    size_t h = n / 2;
    sort_by_key(v, tmp, h, plan);
    sort_by_key(v + h, tmp, n - h, plan);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        tmp[k++] = plan_key_cmp(&v[j], &v[i], plan) < 0 ? v[j++] : v[i++];
    while (i < h)
        tmp[k++] = v[i++];
    while (j < n)
        tmp[k++] = v[j++];
    memcpy(v, tmp, n * sizeof *v);
}

/* The plan index whose key is `key`, or -1 (by binary search in ko). */
static long find_key(const key_order *ko, size_t n, const char *key)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(ko->plan[ko->idx[mid]].key, key);
        if (!c)
            return (long)ko->idx[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* Reads every stored trial of experiment exp once, in table order (its
 * index by point and seed follows the plan order the rows were inserted
 * in, so the rows are read front to back rather than at random), and fills
 * found[i] (id 0: not stored) for the plan trials they are. */
static int plan_lookup(store *s, int64_t exp, size_t n, const store_trial_plan *plan,
                       plan_found *found, store_error *err)
{
    sqlite3_stmt *st = NULL;
    key_order ko = {plan, malloc((n ? n : 1) * sizeof *ko.idx)};
    size_t *tmp = malloc((n ? n : 1) * sizeof *tmp);
    int rc = -1;
    if (!ko.idx || !tmp) {
        store_set_err(err, 0, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        ko.idx[i] = i;
    sort_by_key(ko.idx, tmp, n, plan);
    if (store_prep(s, "SELECT id, trial_key, status, spec_hash, trial_index, point_index, params"
                " FROM trials INDEXED BY trials_experiment WHERE experiment_id = ?1",
             &st, err))
        goto out;
    sqlite3_bind_int64(st, 1, exp);
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        const char *key = (const char *)sqlite3_column_text(st, 1);
        long i = key ? find_key(&ko, n, key) : -1;
        if (i < 0)
            continue; /* a trial of the experiment this plan does not have */
        const store_trial_plan *p = &plan[i];
        const char *hash = (const char *)sqlite3_column_text(st, 3);
        const char *params = (const char *)sqlite3_column_text(st, 6);
        found[i].id = sqlite3_column_int64(st, 0);
        found[i].status = store_status_parse((const char *)sqlite3_column_text(st, 2));
        found[i].same_text = hash && p->spec_hash && !strcmp(hash, p->spec_hash);
        found[i].moved = sqlite3_column_int64(st, 4) != (sqlite3_int64)p->trial_index ||
                         sqlite3_column_int64(st, 5) != (sqlite3_int64)p->point_index;
        found[i].new_params = !params || !p->params_json || strcmp(params, p->params_json);
    }
    if (r != SQLITE_DONE) {
        store_db_err(s, err, r, "reading the stored trials");
        goto out;
    }
    rc = 0;
out:
    sqlite3_finalize(st);
    free(ko.idx);
    free(tmp);
    return rc;
}

/* The trial_params rows of trial id. */
static int write_params(store *s, sqlite3_stmt *par, int64_t id, const store_trial_plan *p,
                        store_error *err)
{
    for (size_t j = 0; j < p->n_params; j++) {
        const store_param *q = &p->params[j];
        sqlite3_bind_int64(par, 1, id);
        bind_text(par, 2, q->name);
        if (q->type == 0)
            sqlite3_bind_int64(par, 3, q->i);
        else if (q->type == 1)
            sqlite3_bind_double(par, 3, q->r);
        else
            bind_text(par, 3, q->s);
        if (step_done(s, par, err))
            return -1;
    }
    return 0;
}

/* Plans of more trials than this get a larger cache for
 * their insert (store_trials_prepare), up to this many KiB. */
#define STORE_PLAN_BIG 2000
#define STORE_PLAN_CACHE_KIB (256 * 1024)

/* The cache size and auto-checkpoint store_trials_prepare found. */
static void plan_settings_restore(store *s, int cache, int ckpt)
{
    char pragma[64];
    snprintf(pragma, sizeof pragma, "PRAGMA cache_size = %d", cache);
    sqlite3_exec(s->db, pragma, NULL, NULL, NULL);
    sqlite3_wal_autocheckpoint(s->db, ckpt);
}

int store_trials_prepare(store *s, int64_t exp, size_t n, const store_trial_plan *plan,
                         int retry, int64_t *ids, store_plan_action *actions,
                         store_error *err)
{
    sqlite3_stmt *ins = NULL, *mv = NULL, *par = NULL, *sh = NULL;
    plan_found *found = calloc(n ? n : 1, sizeof *found);
    if (!found) {
        store_set_err(err, 0, "out of memory");
        return -1;
    }
    /* A large plan touches more pages than the default cache (2 MB) holds:
     * SQLite would spill them to the WAL in mid-transaction and read some
     * back (a 50 000-trial plan writes ~45 MB). About 1 KiB a trial, so
     * the insert fits, bounded. And the checkpoint its commit would make
     * waits for the run loop's first commit, which makes it while the
     * other workers train instead of before any starts. Both as they
     * were after the commit. */
    int cache_was = 0, ckpt_was = 0;
    if (pragma_int(s, "PRAGMA cache_size", &cache_was, err) ||
        pragma_int(s, "PRAGMA wal_autocheckpoint", &ckpt_was, err)) {
        free(found);
        return -1;
    }
    if (n > STORE_PLAN_BIG) {
        char pragma[64];
        size_t kib = n + 2048;
        snprintf(pragma, sizeof pragma, "PRAGMA cache_size = -%zu",
                 kib < STORE_PLAN_CACHE_KIB ? kib : (size_t)STORE_PLAN_CACHE_KIB);
        if (store_exec(s, pragma, err)) {
            free(found);
            return -1;
        }
        sqlite3_wal_autocheckpoint(s->db, 0);
    }
    if (tx_begin(s, err)) {
        plan_settings_restore(s, cache_was, ckpt_was);
        free(found);
        return -1;
    }
    /* One pass over what the experiment holds, then one statement per new
     * trial and none for a stored one that is where the plan puts it: a
     * resume with nothing to do writes nothing, and the cost stays linear
     * in the plan (no lookup per trial through the key index, whose keys
     * are hashes and so land at random). */
    if (plan_lookup(s, exp, n, plan, found, err) ||
        store_prep(s,
             "INSERT INTO trials(experiment_id, trial_key, trial_index, point_index, seed,"
             " params, resolved_spec, spec_hash, status) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,"
             "'queued')",
             &ins, err) ||
        store_prep(s, "UPDATE trials SET trial_index=?2, point_index=?3, params=?4 WHERE id=?1", &mv,
             err) ||
        store_prep(s, "INSERT OR REPLACE INTO trial_params(trial_id, name, value) VALUES (?1,?2,?3)",
             &par, err) ||
        store_prep(s, "UPDATE trials SET spec_hash=?2, resolved_spec=?3, status='queued',"
                " started_at=NULL, finished_at=NULL, wall_ms=NULL, error=NULL, n_params=NULL,"
                " epochs_run=NULL, diverged_epoch=NULL, best_epoch=NULL, overfit_gap=NULL,"
                " train_loss=NULL, train_accuracy=NULL, val_loss=NULL, val_accuracy=NULL,"
                " test_loss=NULL, test_accuracy=NULL, result_hash=NULL, pruned_rung=NULL,"
                " stopped_epoch=NULL, restored_best=NULL, early_stopping_best_epoch=NULL"
                " WHERE id=?1",
             &sh, err))
        goto fail;
    for (size_t i = 0; i < n; i++) {
        const store_trial_plan *p = &plan[i];
        const plan_found *f = &found[i];
        if (!f->id) {
            /* New: inserted in plan order, so trial ids follow the plan. */
            sqlite3_bind_int64(ins, 1, exp);
            bind_text(ins, 2, p->key);
            sqlite3_bind_int64(ins, 3, (sqlite3_int64)p->trial_index);
            sqlite3_bind_int64(ins, 4, (sqlite3_int64)p->point_index);
            sqlite3_bind_int64(ins, 5, (sqlite3_int64)p->seed);
            bind_text(ins, 6, p->params_json);
            bind_text(ins, 7, p->resolved_spec);
            bind_text(ins, 8, p->spec_hash);
            if (step_done(s, ins, err))
                goto fail;
            ids[i] = sqlite3_last_insert_rowid(s->db);
            actions[i] = STORE_PLAN_RUN;
            if (write_params(s, par, ids[i], p, err))
                goto fail;
            continue;
        }
        ids[i] = f->id;
        /* Moved to its position in the current plan; its id, results and
         * status stay. */
        if (f->moved || f->new_params) {
            sqlite3_bind_int64(mv, 1, f->id);
            sqlite3_bind_int64(mv, 2, (sqlite3_int64)p->trial_index);
            sqlite3_bind_int64(mv, 3, (sqlite3_int64)p->point_index);
            bind_text(mv, 4, p->params_json);
            if (step_done(s, mv, err))
                goto fail;
        }
        if (f->new_params && write_params(s, par, f->id, p, err))
            goto fail;
        switch (f->status) {
        case STORE_DONE:
            actions[i] = STORE_PLAN_SKIP_DONE;
            break;
        case STORE_FAILED:
        case STORE_DIVERGED:
        case STORE_INTERRUPTED:
            actions[i] = retry ? STORE_PLAN_RETRY : STORE_PLAN_SKIP_FAILED;
            break;
        case STORE_PRUNED:
            actions[i] = STORE_PLAN_SKIP_PRUNED;
            break;
        default: /* queued or running: new, or left behind by a killed run */
            actions[i] = STORE_PLAN_RUN;
            break;
        }
        /* A row queued from this spec text has nothing to reset: results
         * and their status are committed together, and --retry clears a row
         * in the transaction that queues it again. A row queued by an
         * earlier run from other text (same trial, edited comments) takes
         * this run's. */
        if ((actions[i] == STORE_PLAN_RUN || actions[i] == STORE_PLAN_RETRY) &&
            (f->status != STORE_QUEUED || !f->same_text)) {
            sqlite3_bind_int64(sh, 1, f->id);
            bind_text(sh, 2, p->spec_hash);
            bind_text(sh, 3, p->resolved_spec);
            if (step_done(s, sh, err) || clear_trial_rows(s, f->id, err))
                goto fail;
        }
    }
    sqlite3_finalize(ins);
    sqlite3_finalize(mv);
    sqlite3_finalize(par);
    sqlite3_finalize(sh);
    ins = mv = par = sh = NULL;
    free(found);
    found = NULL;
    if (tx_commit(s, err))
        goto fail;
    plan_settings_restore(s, cache_was, ckpt_was);
    return 0;
fail:
    sqlite3_finalize(ins);
    sqlite3_finalize(mv);
    sqlite3_finalize(par);
    sqlite3_finalize(sh);
    free(found);
    tx_rollback(s);
    plan_settings_restore(s, cache_was, ckpt_was);
    return -1;
}

int store_trial_start(store *s, int64_t id, const char *started_at, store_error *err)
{
    if (prep_keep(s, "UPDATE trials SET status='running', started_at=?2 WHERE id=?1",
                  &s->upd_running, err))
        goto fail;
    if (sqlite3_bind_int64(s->upd_running, 1, id) ||
        (started_at ? sqlite3_bind_text(s->upd_running, 2, started_at, -1, SQLITE_TRANSIENT)
                    : sqlite3_bind_null(s->upd_running, 2))) {
        store_set_err(err, sqlite3_errcode(s->db), "%s: binding a running mark: %s", s->path,
                sqlite3_errmsg(s->db));
        sqlite3_reset(s->upd_running);
        sqlite3_clear_bindings(s->upd_running);
        goto fail;
    }
    /* A single statement outside BEGIN is its own transaction; inside a
     * batch it is part of the batch's. */
    if (step_done(s, s->upd_running, err))
        goto fail;
    return 0;
fail:
    if (s->batch)
        store_batch_rollback(s);
    return -1;
}

int store_batch_begin(store *s, store_error *err)
{
    if (s->batch) {
        store_set_err(err, 0, "%s: a batch is already open", s->path);
        return -1;
    }
    if (tx_begin(s, err))
        return -1;
    s->batch = 1;
    return 0;
}

int store_batch_commit(store *s, store_error *err)
{
    if (!s->batch) {
        store_set_err(err, 0, "%s: no batch is open", s->path);
        return -1;
    }
    s->batch = 0;
    if (tx_commit(s, err)) {
        tx_rollback(s);
        return -1;
    }
    return 0;
}

void store_batch_rollback(store *s)
{
    s->batch = 0;
    tx_rollback(s);
}

/* Binding helpers for store_trial_finish, which checks every bind: each
 * returns SQLite's result code (SQLITE_OK is 0), so a chain of them joined
 * with || stops at the first failure. */
static int b_i64(sqlite3_stmt *st, int i, sqlite3_int64 v)
{
    return sqlite3_bind_int64(st, i, v);
}

static int b_text(sqlite3_stmt *st, int i, const char *t)
{
    return t ? sqlite3_bind_text(st, i, t, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i);
}

static int b_real(sqlite3_stmt *st, int i, double v)
{
    return isnan(v) ? sqlite3_bind_null(st, i) : sqlite3_bind_double(st, i, v);
}

static int b_size_or_null(sqlite3_stmt *st, int i, size_t v)
{
    return v == 0 ? sqlite3_bind_null(st, i) : sqlite3_bind_int64(st, i, (sqlite3_int64)v);
}

/* A bind failed (out of memory, a value SQLite cannot take): the statement
 * is left clean for its next use and err says which. */
static void bind_failed(store *s, sqlite3_stmt *st, const char *what, store_error *err)
{
    store_set_err(err, sqlite3_errcode(s->db), "%s: binding %s: %s", s->path, what,
            sqlite3_errmsg(s->db));
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

/* The JSON array of k probabilities, 9 significant digits each (every
 * float32 reads back as itself); a value that is not finite, which no
 * done trial has, is null. buf holds 24 * k + 3 bytes. */
static void probabilities_json(const float *p, size_t k, char *buf)
{
    size_t n = 0;
    buf[n++] = '[';
    for (size_t j = 0; j < k; j++) {
        if (j)
            buf[n++] = ',';
        double v = (double)p[j];
        n += (size_t)(isfinite(v) ? snprintf(buf + n, 24, "%.9g", v) : snprintf(buf + n, 24, "null"));
    }
    buf[n++] = ']';
    buf[n] = '\0';
}

/* The predictions rows of one trial (inside store_trial_finish's
 * transaction). */
static int write_predictions(store *s, int64_t id, const store_predictions *p,
                             store_error *err)
{
    size_t cap;
    if (!checked_mul(p->k, 24, &cap) || !checked_add(cap, 3, &cap)) {
        store_set_err(err, 0, "too many classes for the predictions");
        return -1;
    }
    if (prep_keep(s, "INSERT INTO predictions(trial_id, split, split_row, source_row,"
                     " augmented_row, true_class, predicted_class, probabilities)"
                     " VALUES (?1,?2,?3,?4,?5,?6,?7,?8)", &s->ins_prediction, err))
        return -1;
    char *buf = malloc(cap);
    if (!buf) {
        store_set_err(err, 0, "out of memory");
        return -1;
    }
    sqlite3_stmt *q = s->ins_prediction;
    for (size_t i = 0; i < p->n; i++) {
        probabilities_json(p->probabilities + i * p->k, p->k, buf);
        if (b_i64(q, 1, id) || b_text(q, 2, p->split) || b_i64(q, 3, (sqlite3_int64)i) ||
            b_i64(q, 4, (sqlite3_int64)p->source_row[i]) ||
            b_i64(q, 5, (sqlite3_int64)p->augmented_row[i]) ||
            b_i64(q, 6, (sqlite3_int64)p->true_class[i]) ||
            b_i64(q, 7, (sqlite3_int64)p->predicted_class[i]) ||
            sqlite3_bind_text(q, 8, buf, -1, SQLITE_STATIC)) {
            bind_failed(s, q, "a prediction", err);
            free(buf);
            return -1;
        }
        if (step_done(s, q, err)) {
            free(buf);
            return -1;
        }
    }
    free(buf);
    return 0;
}

/* ---- search rungs and decisions ------------------------------------------ */

int store_prune_clear(store *s, int64_t exp, store_error *err)
{
    sqlite3_stmt *st;
    if (store_prep(s, "DELETE FROM prune_decisions WHERE experiment_id = ?1", &st, err))
        return -1;
    sqlite3_bind_int64(st, 1, exp);
    int rc = step_done(s, st, err);
    sqlite3_finalize(st);
    return rc;
}

int store_prune_write(store *s, int64_t exp, const char *metric, size_t n_rows,
                      const store_rung_row *rows, size_t n_decisions,
                      const store_prune_decision *d, store_error *err)
{
    sqlite3_stmt *r = NULL, *p = NULL, *dec = NULL;
    if (tx_begin(s, err))
        return -1;
    if (store_prep(s, "INSERT OR REPLACE INTO trial_rungs(trial_id, rung, epoch, metric, value)"
                " VALUES (?1,?2,?3,?4,?5)", &r, err) ||
        store_prep(s, "UPDATE trials SET pruned_rung = ?2 WHERE id = ?1 AND status = 'pruned'", &p,
             err) ||
        store_prep(s, "INSERT OR REPLACE INTO prune_decisions(experiment_id, bracket, rung, epoch,"
                " point_index, params, metric, n, value, place, promoted)"
                " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)", &dec, err))
        goto fail;
    for (size_t i = 0; i < n_rows; i++) {
        const store_rung_row *w = &rows[i];
        if (b_i64(r, 1, w->trial_id) || b_i64(r, 2, (sqlite3_int64)w->rung) ||
            b_i64(r, 3, (sqlite3_int64)w->epoch) || b_text(r, 4, metric) ||
            b_real(r, 5, w->value)) {
            bind_failed(s, r, "a rung", err);
            goto fail;
        }
        if (step_done(s, r, err))
            goto fail;
        if (!w->pruned)
            continue;
        if (b_i64(p, 1, w->trial_id) || b_i64(p, 2, (sqlite3_int64)w->rung)) {
            bind_failed(s, p, "a pruned trial", err);
            goto fail;
        }
        if (step_done(s, p, err))
            goto fail;
    }
    for (size_t i = 0; i < n_decisions; i++) {
        if (b_i64(dec, 1, exp) || b_i64(dec, 2, (sqlite3_int64)d[i].bracket) ||
            b_i64(dec, 3, (sqlite3_int64)d[i].rung) || b_i64(dec, 4, (sqlite3_int64)d[i].epoch) ||
            b_i64(dec, 5, (sqlite3_int64)d[i].point_index) || b_text(dec, 6, d[i].params) ||
            b_text(dec, 7, metric) || b_i64(dec, 8, (sqlite3_int64)d[i].n) ||
            b_real(dec, 9, d[i].value) || b_i64(dec, 10, (sqlite3_int64)d[i].place) ||
            b_i64(dec, 11, d[i].promoted ? 1 : 0)) {
            bind_failed(s, dec, "a decision", err);
            goto fail;
        }
        if (step_done(s, dec, err))
            goto fail;
    }
    sqlite3_finalize(r);
    sqlite3_finalize(p);
    sqlite3_finalize(dec);
    return tx_commit(s, err) ? (tx_rollback(s), -1) : 0;
fail:
    sqlite3_finalize(r);
    sqlite3_finalize(p);
    sqlite3_finalize(dec);
    tx_rollback(s);
    return -1;
}

int store_rung_value(store *s, int64_t id, size_t rung, size_t epoch, const char *metric,
                     double *value, int *known, store_status *status_out, store_error *err)
{
    static const char *const cols[] = {"loss", "accuracy", "val_loss", "val_accuracy"};
    size_t c = 0;
    while (c < 4 && strcmp(cols[c], metric) != 0)
        c++;
    if (c == 4) {
        store_set_err(err, 0, "unknown rung metric '%s'", metric);
        return -1;
    }
    *value = NAN;
    *known = 0;
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT t.status,"
             " (SELECT value FROM trial_rungs WHERE trial_id = t.id AND rung = ?2"
             "  AND epoch = ?3 AND metric = ?4),"
             " EXISTS (SELECT 1 FROM trial_rungs WHERE trial_id = t.id AND rung = ?2"
             "  AND epoch = ?3 AND metric = ?4),"
             " (SELECT %s FROM epochs WHERE trial_id = t.id AND epoch <= ?3"
             "  ORDER BY epoch DESC LIMIT 1),"
             " (SELECT MAX(epoch) FROM epochs WHERE trial_id = t.id)"
             " FROM trials t WHERE t.id = ?1",
             cols[c]);
    sqlite3_stmt *st;
    if (store_prep(s, sql, &st, err))
        return -1;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)rung);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)epoch);
    sqlite3_bind_text(st, 4, metric, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        if (rc == SQLITE_DONE)
            store_set_err(err, 0, "%s: no trial %lld", s->path, (long long)id);
        else
            store_db_err(s, err, rc, "reading a rung");
        sqlite3_finalize(st);
        return -1;
    }
    int status = store_status_parse((const char *)sqlite3_column_text(st, 0));
    double at = sqlite3_column_type(st, 3) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 3);
    sqlite3_int64 last = sqlite3_column_int64(st, 4); /* 0 when none */
    *status_out = status < 0 ? STORE_QUEUED : (store_status)status;
    if (sqlite3_column_int(st, 2)) {
        *known = 1;
        *value = sqlite3_column_type(st, 1) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 1);
    } else if (status == STORE_DONE) {
        *known = 1;
        *value = at;
    } else if (status == STORE_DIVERGED || status == STORE_FAILED) {
        *known = 1;
        *value = last >= (sqlite3_int64)epoch ? at : NAN;
    } else if (status == STORE_PRUNED && last >= (sqlite3_int64)epoch) {
        *known = 1;
        *value = at;
    }
    sqlite3_finalize(st);
    return 0;
}

/* The n cells of cm listed in cells (row-major indices), in one statement. */
static int insert_cells(store *s, int64_t id, const store_confusion *cm, const size_t *cells,
                        size_t n, store_error *err)
{
    sqlite3_stmt *q = rows_stmt(s, &s->ins_confusion,
                                "INSERT INTO confusion(trial_id, split, true_class,"
                                " predicted_class, count)",
                                5, n, err);
    if (!q)
        return -1;
    for (size_t k = 0; k < n; k++) {
        const int b = (int)k * 5;
        if (b_i64(q, b + 1, id) || b_text(q, b + 2, cm->split) ||
            b_i64(q, b + 3, (sqlite3_int64)(cells[k] / cm->k)) ||
            b_i64(q, b + 4, (sqlite3_int64)(cells[k] % cm->k)) ||
            b_i64(q, b + 5, (sqlite3_int64)cm->counts[cells[k]])) {
            bind_failed(s, q, "a confusion cell", err);
            return -1;
        }
    }
    return step_done(s, q, err);
}

int store_trial_finish(store *s, int64_t id, const store_trial_result *r,
                       store_error *err)
{
    sqlite3_stmt *st = NULL;
    uint8_t *blob = NULL;
    if (prep_keep(s, "INSERT INTO layers(trial_id, layer_index, name, type, output_shape,"
                     " params, trainable_params) VALUES (?1,?2,?3,?4,?5,?6,?7)",
                  &s->ins_layer, err) ||
        prep_keep(s, "INSERT INTO weights(trial_id, layer, kind, rows, cols, data)"
                     " VALUES (?1,?2,?3,?4,?5,?6)", &s->ins_weight, err) ||
        prep_keep(s, "INSERT INTO grids(trial_id, x0_min, x0_max, x1_min, x1_max,"
                     " resolution, classes) VALUES (?1,?2,?3,?4,?5,?6,?7)", &s->ins_grid, err) ||
        prep_keep(s,
                  "UPDATE trials SET status=?2, n_params=?3, epochs_run=?4, diverged_epoch=?5,"
                  " best_epoch=?6, overfit_gap=?7, train_loss=?8, train_accuracy=?9,"
                  " val_loss=?10, val_accuracy=?11, test_loss=?12, test_accuracy=?13,"
                  " result_hash=?14, error=?15, finished_at=?16, wall_ms=?17,"
                  " started_at=COALESCE(?18, started_at), pruned_rung=NULL, stopped_epoch=?19,"
                  " restored_best=?20, early_stopping_best_epoch=?21 WHERE id=?1",
                  &s->upd_trial, err))
        goto fail;
    if (!s->batch && tx_begin(s, err))
        return -1;
    if (clear_trial_rows(s, id, err))
        goto fail;
    for (size_t e0 = 0; e0 < r->n_epochs; e0 += ROWS_MAX) {
        const size_t n = r->n_epochs - e0 < ROWS_MAX ? r->n_epochs - e0 : ROWS_MAX;
        sqlite3_stmt *q = rows_stmt(s, &s->ins_epoch,
                                    "INSERT INTO epochs(trial_id, epoch, loss, accuracy,"
                                    " val_loss, val_accuracy, learning_rate)",
                                    7, n, err);
        if (!q)
            goto fail;
        for (size_t k = 0; k < n; k++) {
            const size_t e = e0 + k;
            const int b = (int)k * 7;
            if (b_i64(q, b + 1, id) || b_i64(q, b + 2, (sqlite3_int64)(e + 1)) ||
                b_real(q, b + 3, r->loss[e]) || b_real(q, b + 4, r->accuracy[e]) ||
                b_real(q, b + 5, r->val_loss_h[e]) || b_real(q, b + 6, r->val_accuracy_h[e]) ||
                b_real(q, b + 7, r->learning_rate_h ? r->learning_rate_h[e] : NAN)) {
                bind_failed(s, q, "an epoch", err);
                goto fail;
            }
        }
        if (step_done(s, q, err))
            goto fail;
    }
    for (size_t l = 0; l < r->n_layers; l++) {
        const store_layer *ly = &r->layers[l];
        sqlite3_stmt *q = s->ins_layer;
        if (b_i64(q, 1, id) || b_i64(q, 2, (sqlite3_int64)l) || b_text(q, 3, ly->name) ||
            b_text(q, 4, ly->type) || b_text(q, 5, ly->output_shape) ||
            b_i64(q, 6, (sqlite3_int64)ly->params) ||
            b_i64(q, 7, (sqlite3_int64)ly->trainable_params)) {
            bind_failed(s, q, "a layer", err);
            goto fail;
        }
        if (step_done(s, q, err))
            goto fail;
    }
    for (size_t i0 = 0; i0 < r->n_metrics; i0 += ROWS_MAX) {
        const size_t n = r->n_metrics - i0 < ROWS_MAX ? r->n_metrics - i0 : ROWS_MAX;
        sqlite3_stmt *q = rows_stmt(s, &s->ins_metric,
                                    "INSERT INTO metrics(trial_id, split, name, value)", 4, n,
                                    err);
        if (!q)
            goto fail;
        for (size_t k = 0; k < n; k++) {
            const store_metric *mt = &r->metrics[i0 + k];
            const int b = (int)k * 4;
            if (b_i64(q, b + 1, id) || b_text(q, b + 2, mt->split) ||
                b_text(q, b + 3, mt->name) || b_real(q, b + 4, mt->value)) {
                bind_failed(s, q, "a metric", err);
                goto fail;
            }
        }
        if (step_done(s, q, err))
            goto fail;
    }
    /* Only the cells that were observed: a k-class matrix has at most as
     * many non-zero cells as the split has rows, so storage grows with the
     * data, not with k * k (3000 classes would be 9 M rows per split). The
     * confusion_full view gives the zeros back. */
    for (size_t c = 0; c < r->n_confusion; c++) {
        const store_confusion *cm = &r->confusion[c];
        size_t kk;
        if (!checked_mul(cm->k, cm->k, &kk)) {
            store_set_err(err, 0, "confusion matrix too large");
            goto fail;
        }
        size_t cells[ROWS_MAX], n = 0; /* up to ROWS_MAX per statement */
        for (size_t cell = 0; cell < kk; cell++) {
            if (cm->counts[cell] == 0)
                continue;
            cells[n++] = cell;
            if (n == ROWS_MAX) {
                if (insert_cells(s, id, cm, cells, n, err))
                    goto fail;
                n = 0;
            }
        }
        if (n && insert_cells(s, id, cm, cells, n, err))
            goto fail;
    }
    for (size_t w = 0; w < r->n_weights; w++) {
        const store_weight *wt = &r->weights[w];
        size_t n, bytes;
        if (!checked_mul(wt->rows, wt->cols, &n) || !checked_mul(n, 4, &bytes) ||
            bytes == (size_t)-1) {
            store_set_err(err, 0, "weight matrix too large");
            goto fail;
        }
        /* Explicit little-endian bytes, whatever the host's byte order. */
        blob = malloc(bytes + 1);
        if (!blob) {
            store_set_err(err, 0, "out of memory");
            goto fail;
        }
        for (size_t i = 0; i < n; i++) {
            uint32_t u;
            memcpy(&u, &wt->data[i], 4);
            for (int b = 0; b < 4; b++)
                blob[4 * i + (size_t)b] = (uint8_t)(u >> (8 * b));
        }
        sqlite3_stmt *q = s->ins_weight;
        /* bind_blob64: a length that does not fit SQLite's limit is an
         * error (SQLITE_TOOBIG), not a truncated int. */
        if (b_i64(q, 1, id) || b_i64(q, 2, (sqlite3_int64)wt->layer) ||
            b_text(q, 3, wt->kind) || b_i64(q, 4, (sqlite3_int64)wt->rows) ||
            b_i64(q, 5, (sqlite3_int64)wt->cols) ||
            sqlite3_bind_blob64(q, 6, blob, (sqlite3_uint64)bytes, SQLITE_STATIC)) {
            bind_failed(s, q, "a weight matrix", err);
            goto fail;
        }
        int rc = step_done(s, q, err);
        free(blob);
        blob = NULL;
        if (rc)
            goto fail;
    }
    if (r->grid) {
        const store_grid *g = r->grid;
        size_t cells;
        if (!checked_mul(g->resolution, g->resolution, &cells)) {
            store_set_err(err, 0, "decision grid too large");
            goto fail;
        }
        st = s->ins_grid;
        if (b_i64(st, 1, id) || sqlite3_bind_double(st, 2, g->x0_min) ||
            sqlite3_bind_double(st, 3, g->x0_max) || sqlite3_bind_double(st, 4, g->x1_min) ||
            sqlite3_bind_double(st, 5, g->x1_max) ||
            b_i64(st, 6, (sqlite3_int64)g->resolution) ||
            sqlite3_bind_blob64(st, 7, g->classes, (sqlite3_uint64)cells, SQLITE_STATIC)) {
            bind_failed(s, st, "the decision grid", err);
            goto fail;
        }
        if (step_done(s, st, err))
            goto fail;
    }
    st = s->upd_trial;
    if (b_i64(st, 1, id) || b_text(st, 2, store_status_name(r->status)) ||
        b_size_or_null(st, 3, r->n_params) || b_i64(st, 4, (sqlite3_int64)r->epochs_run) ||
        b_size_or_null(st, 5, r->diverged_epoch) || b_size_or_null(st, 6, r->best_epoch) ||
        b_real(st, 7, r->overfit_gap) || b_real(st, 8, r->train_loss) ||
        b_real(st, 9, r->train_accuracy) || b_real(st, 10, r->val_loss) ||
        b_real(st, 11, r->val_accuracy) || b_real(st, 12, r->test_loss) ||
        b_real(st, 13, r->test_accuracy) || b_text(st, 14, r->result_hash) ||
        b_text(st, 15, r->error) || b_text(st, 16, r->finished_at) ||
        b_real(st, 17, r->wall_ms) || b_text(st, 18, r->started_at) ||
        b_size_or_null(st, 19, r->stopped_epoch) ||
        (r->restore_asked ? b_i64(st, 20, (sqlite3_int64)(r->restored_best != 0))
                          : sqlite3_bind_null(st, 20)) ||
        b_size_or_null(st, 21, r->early_stopping_best_epoch)) {
        bind_failed(s, st, "the trial's row", err);
        goto fail;
    }
    if (step_done(s, st, err))
        goto fail;
    if (r->predictions && write_predictions(s, id, r->predictions, err))
        goto fail;
    if (!s->batch && tx_commit(s, err))
        goto fail;
    return 0;
fail:
    free(blob);
    /* Inside a batch this rolls back the whole batch (see store.h). */
    s->batch = 0;
    tx_rollback(s);
    return -1;
}

int store_trial_figures_get(store *s, int64_t id, store_trial_figures *f,
                            store_error *err)
{
    if (prep_keep(s, "SELECT status, test_accuracy, val_accuracy, overfit_gap, best_epoch"
                     " FROM trials WHERE id = ?1", &s->sel_figures, err))
        return -1;
    sqlite3_stmt *st = s->sel_figures;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        if (rc == SQLITE_DONE)
            store_set_err(err, 0, "no trial %lld", (long long)id);
        else
            store_db_err(s, err, rc, "reading a trial");
        sqlite3_reset(st);
        return -1;
    }
    int stat = store_status_parse((const char *)sqlite3_column_text(st, 0));
    f->status = stat < 0 ? STORE_FAILED : (store_status)stat;
    f->test_accuracy = store_col_real(st, 1);
    f->val_accuracy = store_col_real(st, 2);
    f->overfit_gap = store_col_real(st, 3);
    f->best_epoch = store_col_real(st, 4);
    sqlite3_reset(st);
    return 0;
}

/* ---- reading a trial back --------------------------------------------- */

void store_trial_record_free(store_trial_record *r)
{
    if (!r)
        return;
    free(r->result_hash);
    free(r->spec);
    free(r->spec_file);
    free(r->base_dir);
    free(r->params);
    free(r->resolved_spec);
    for (size_t i = 0; i < r->n_weights; i++)
        free(r->weights[i].data);
    free(r->weights);
    free(r->metrics);
    free(r->history);
    memset(r, 0, sizeof *r);
}

static size_t count_rows(store *s, const char *sql, int64_t id, store_error *err,
                         int *fail)
{
    sqlite3_stmt *st;
    if (store_prep(s, sql, &st, err)) {
        *fail = 1;
        return 0;
    }
    sqlite3_bind_int64(st, 1, id);
    size_t n = 0;
    if (sqlite3_step(st) == SQLITE_ROW)
        n = (size_t)sqlite3_column_int64(st, 0);
    else
        *fail = 1;
    sqlite3_finalize(st);
    return n;
}

int store_trial_load(store *s, int64_t id, store_trial_record *r, store_error *err)
{
    sqlite3_stmt *st = NULL;
    memset(r, 0, sizeof *r);
    if (store_prep(s,
             "SELECT t.id, t.experiment_id, t.trial_key, t.seed, t.status, t.result_hash,"
             " COALESCE(sp.spec, e.spec), COALESCE(sp.spec_file, e.spec_file), sp.base_dir,"
             " t.params, t.resolved_spec"
             " FROM trials t JOIN experiments e ON e.id = t.experiment_id"
             " LEFT JOIN specs sp ON sp.spec_hash = t.spec_hash WHERE t.id = ?1",
             &st, err))
        return -1;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        store_set_err(err, 0, "%s has no trial %lld", s->path, (long long)id);
        sqlite3_finalize(st);
        return 1;
    }
    if (rc != SQLITE_ROW) {
        store_db_err(s, err, rc, "reading the trial");
        goto fail;
    }
    r->id = sqlite3_column_int64(st, 0);
    r->experiment_id = sqlite3_column_int64(st, 1);
    const unsigned char *key = sqlite3_column_text(st, 2);
    snprintf(r->key, sizeof r->key, "%s", key ? (const char *)key : "");
    r->seed = (uint64_t)sqlite3_column_int64(st, 3);
    int stat = store_status_parse((const char *)sqlite3_column_text(st, 4));
    r->status = stat < 0 ? STORE_FAILED : (store_status)stat;
    r->result_hash = col_strdup(st, 5);
    r->spec = col_strdup(st, 6);
    r->spec_file = col_strdup(st, 7);
    r->base_dir = col_strdup(st, 8);
    r->params = col_strdup(st, 9);
    r->resolved_spec = col_strdup(st, 10);
    sqlite3_finalize(st);
    st = NULL;
    if (!r->spec) {
        store_set_err(err, 0, "trial %lld has no stored spec", (long long)id);
        goto fail;
    }

    int bad = 0;
    size_t nw = count_rows(s, "SELECT COUNT(*) FROM weights WHERE trial_id=?1", id, err, &bad);
    size_t nm = count_rows(s, "SELECT COUNT(*) FROM metrics WHERE trial_id=?1", id, err, &bad);
    size_t ne = count_rows(s, "SELECT COUNT(*) FROM epochs WHERE trial_id=?1", id, err, &bad);
    if (bad)
        goto fail;
    r->weights = calloc(nw ? nw : 1, sizeof *r->weights);
    r->metrics = calloc(nm ? nm : 1, sizeof *r->metrics);
    r->history = calloc(ne ? ne * 4 : 1, sizeof *r->history);
    if (!r->weights || !r->metrics || !r->history) {
        store_set_err(err, 0, "out of memory");
        goto fail;
    }
    if (store_prep(s, "SELECT layer, kind, rows, cols, data FROM weights WHERE trial_id=?1"
                " ORDER BY layer, kind DESC", &st, err))
        goto fail;
    sqlite3_bind_int64(st, 1, id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && r->n_weights < nw) {
        store_weight_row *w = &r->weights[r->n_weights];
        w->layer = (size_t)sqlite3_column_int64(st, 0);
        snprintf(w->kind, sizeof w->kind, "%s", (const char *)sqlite3_column_text(st, 1));
        w->rows = (size_t)sqlite3_column_int64(st, 2);
        w->cols = (size_t)sqlite3_column_int64(st, 3);
        const unsigned char *b = sqlite3_column_blob(st, 4);
        size_t bytes = (size_t)sqlite3_column_bytes(st, 4);
        size_t n = bytes / 4;
        w->data = malloc(n ? n * sizeof(float) : 1);
        if (!w->data) {
            store_set_err(err, 0, "out of memory");
            goto fail;
        }
        for (size_t i = 0; i < n; i++) {
            uint32_t u = 0;
            for (int k = 0; k < 4; k++)
                u |= (uint32_t)b[4 * i + (size_t)k] << (8 * k);
            memcpy(&w->data[i], &u, 4);
        }
        if (n != w->rows * w->cols)
            w->rows = n, w->cols = 1; /* a damaged blob: compare what is there */
        r->n_weights++;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (store_prep(s, "SELECT split, name, value FROM metrics WHERE trial_id=?1"
                " ORDER BY split, name", &st, err))
        goto fail;
    sqlite3_bind_int64(st, 1, id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && r->n_metrics < nm) {
        snprintf(r->metrics[r->n_metrics].split, sizeof r->metrics[0].split, "%s",
                 (const char *)sqlite3_column_text(st, 0));
        snprintf(r->metrics[r->n_metrics].name, sizeof r->metrics[0].name, "%s",
                 (const char *)sqlite3_column_text(st, 1));
        r->metrics[r->n_metrics].value = store_col_real(st, 2);
        r->n_metrics++;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (store_prep(s, "SELECT loss, accuracy, val_loss, val_accuracy FROM epochs"
                " WHERE trial_id=?1 ORDER BY epoch", &st, err))
        goto fail;
    sqlite3_bind_int64(st, 1, id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && r->n_epochs < ne) {
        for (int k = 0; k < 4; k++)
            r->history[r->n_epochs * 4 + (size_t)k] = store_col_real(st, k);
        r->n_epochs++;
    }
    sqlite3_finalize(st);
    return 0;
fail:
    sqlite3_finalize(st);
    store_trial_record_free(r);
    return -1;
}

/* ---- for the module's other files (store_internal.h) ------------------ */

sqlite3 *store_internal_db(store *s)
{
    return s->db;
}

const char *store_internal_path(const store *s)
{
    return s->path;
}
