-- runexp results database, schema version 2 (PRAGMA user_version = 2).
--
-- The table and column names below are a contract: columns may be added by
-- later versions (with a forward migration), never renamed or removed.
-- Times are ISO-8601 UTC text; weights are float32 little-endian BLOBs.
--
-- This file is always the current schema. runexp embeds it in the binary and
-- runs it inside one transaction to create a new database; an older database
-- is brought up to date by the forward migrations in src/store.c (version 2:
-- only non-zero confusion cells, the confusion_full view). Each connection
-- turns on foreign_keys, WAL and a busy timeout itself (those are
-- per-connection or cannot change inside a transaction, so they do not
-- belong here). `sqlite3 new.db < schemas/results.sql` also gives a valid
-- version-2 database.
-- The many-small-rows tables are WITHOUT ROWID: stored once, in primary-key
-- order, instead of as a rowid table plus an index holding the same key.

CREATE TABLE IF NOT EXISTS experiments (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL,
    spec            TEXT NOT NULL,          -- the spec file's text as given
    spec_file       TEXT,                   -- path as given on the command line
    spec_hash       TEXT NOT NULL,          -- hex SHA-256 of the spec text
    created_at      TEXT NOT NULL,
    runexp_version  TEXT,
    git_revision    TEXT,
    compiler        TEXT,                   -- compiler id and version
    build_flags     TEXT,
    host            TEXT,
    cpu_model       TEXT,
    threads         INTEGER,
    sweep_dims      TEXT                    -- JSON array of sweep names in order
);
-- An experiment is reused by later runs of a spec with the same name (unless
-- --fresh); its row then describes the latest run. Every spec text a trial
-- was ever run from is kept here, so `runexp reproduce` re-parses exactly the
-- spec that produced the trial even after the file was edited.
CREATE TABLE IF NOT EXISTS specs (
    spec_hash       TEXT PRIMARY KEY,       -- hex SHA-256 of the text
    spec            TEXT NOT NULL,
    spec_file       TEXT,                   -- path as given on the command line
    base_dir        TEXT                    -- directory relative CSV paths resolve against
);

CREATE TABLE IF NOT EXISTS trials (
    id              INTEGER PRIMARY KEY,
    experiment_id   INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
    trial_key       TEXT NOT NULL,          -- hex SHA-256 of canonical spec + seed
    trial_index     INTEGER NOT NULL,       -- position in the plan
    point_index     INTEGER NOT NULL,       -- sweep point
    seed            INTEGER NOT NULL,
    params          TEXT NOT NULL,          -- JSON object of sweep values by name
    resolved_spec   TEXT,                   -- canonical resolved spec of the trial
    spec_hash       TEXT REFERENCES specs(spec_hash), -- the spec text it last ran from
    status          TEXT NOT NULL CHECK (status IN
                      ('queued','running','done','failed','diverged','interrupted')),
    n_params        INTEGER,
    epochs_run      INTEGER,
    diverged_epoch  INTEGER,
    best_epoch      INTEGER,                -- epoch of minimum val_loss (1-based)
    overfit_gap     REAL,                   -- final val_loss - minimum val_loss
    train_loss      REAL,
    train_accuracy  REAL,
    val_loss        REAL,
    val_accuracy    REAL,
    test_loss       REAL,
    test_accuracy   REAL,
    result_hash     TEXT,                   -- hex SHA-256 of final weights + metrics bits
    started_at      TEXT,
    finished_at     TEXT,
    wall_ms         REAL,
    error           TEXT,
    -- A trial key is unique within one experiment record, not across the
    -- database: `--fresh` starts a new experiment whose trials have the very
    -- same keys (same spec, same seeds). Resume looks keys up per experiment.
    UNIQUE (experiment_id, trial_key)
);
CREATE INDEX IF NOT EXISTS trials_experiment ON trials(experiment_id, point_index, seed);

CREATE TABLE IF NOT EXISTS trial_params (
    trial_id        INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    value,                                  -- INTEGER, REAL or TEXT as swept
    PRIMARY KEY (trial_id, name)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS epochs (
    trial_id        INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
    epoch           INTEGER NOT NULL,       -- 1-based
    loss            REAL,
    accuracy        REAL,
    val_loss        REAL,
    val_accuracy    REAL,
    PRIMARY KEY (trial_id, epoch)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS metrics (
    trial_id        INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
    split           TEXT NOT NULL,          -- train, validation, test
    name            TEXT NOT NULL,          -- loss, accuracy, precision_3, recall_3, f1_3, support_3, ...
    value           REAL,
    PRIMARY KEY (trial_id, split, name)
) WITHOUT ROWID;

-- Only the cells with a non-zero count (from version 2; version-1 databases
-- also hold the zeros): storage follows what was observed, not k * k. The
-- confusion_full view below gives every cell, zeros included.
CREATE TABLE IF NOT EXISTS confusion (
    trial_id        INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
    split           TEXT NOT NULL,
    true_class      INTEGER NOT NULL,
    predicted_class INTEGER NOT NULL,
    count           INTEGER NOT NULL,
    PRIMARY KEY (trial_id, split, true_class, predicted_class)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS weights (
    trial_id        INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
    layer           INTEGER NOT NULL,       -- 0-based
    kind            TEXT NOT NULL,          -- kernel (rows = inputs, cols = units) or bias (rows = 1)
    rows            INTEGER NOT NULL,
    cols            INTEGER NOT NULL,
    data            BLOB NOT NULL,          -- rows*cols float32, little-endian, row-major
    PRIMARY KEY (trial_id, layer, kind)
);

-- Dataset facts needed by reports: class names and, for 2-D data, the grid.
CREATE TABLE IF NOT EXISTS classes (
    experiment_id   INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
    class_index     INTEGER NOT NULL,
    name            TEXT NOT NULL,
    PRIMARY KEY (experiment_id, class_index)
) WITHOUT ROWID;

-- Predicted class on the decision-boundary grid (record.grid), row-major:
-- cell (ix, iy) at x0 = x0_min + ix*(x0_max-x0_min)/(res-1), likewise x1.
CREATE TABLE IF NOT EXISTS grids (
    trial_id        INTEGER PRIMARY KEY REFERENCES trials(id) ON DELETE CASCADE,
    x0_min REAL NOT NULL, x0_max REAL NOT NULL,
    x1_min REAL NOT NULL, x1_max REAL NOT NULL,
    resolution      INTEGER NOT NULL,
    classes         BLOB NOT NULL           -- res*res uint8 predicted classes, iy-major
);

-- One row per trial with the experiment's name and the key figures.
CREATE VIEW IF NOT EXISTS trial_summary AS
SELECT t.id AS trial_id, e.id AS experiment_id, e.name AS experiment,
       t.point_index, t.params, t.seed, t.status, t.n_params, t.epochs_run,
       t.diverged_epoch, t.best_epoch, t.overfit_gap, t.train_loss, t.train_accuracy,
       t.val_loss, t.val_accuracy, t.test_loss, t.test_accuracy, t.wall_ms,
       t.result_hash, t.trial_key, t.error
FROM trials t JOIN experiments e ON e.id = t.experiment_id;

-- Per experiment and sweep point (grouped by the params JSON, which, unlike
-- point_index, stays the same when sweep values are added to the spec), over
-- trials with status 'done': n, mean / sample standard deviation (n - 1;
-- NULL for n = 1) / min / max of test accuracy and test loss, mean
-- validation accuracy, best epoch and overfitting gap. The standard
-- deviation is computed in two passes (deviations from the window mean),
-- which does not cancel catastrophically the way sum(x^2) - n*mean^2 does.
CREATE VIEW IF NOT EXISTS sweep_summary AS
WITH d AS (
  SELECT t.*,
         AVG(t.test_accuracy) OVER w AS acc_avg,
         AVG(t.test_loss) OVER w AS loss_avg
  FROM trials t
  WHERE t.status = 'done'
  WINDOW w AS (PARTITION BY t.experiment_id, t.params)
)
SELECT e.id AS experiment_id, e.name AS experiment,
       MIN(d.point_index) AS point_index, d.params,
       COUNT(*) AS n,
       AVG(d.test_accuracy) AS test_accuracy_mean,
       CASE WHEN COUNT(*) > 1 THEN
         sqrt(SUM((d.test_accuracy - d.acc_avg) * (d.test_accuracy - d.acc_avg))
              / (COUNT(*) - 1))
       END AS test_accuracy_std,
       MIN(d.test_accuracy) AS test_accuracy_min,
       MAX(d.test_accuracy) AS test_accuracy_max,
       AVG(d.test_loss) AS test_loss_mean,
       CASE WHEN COUNT(*) > 1 THEN
         sqrt(SUM((d.test_loss - d.loss_avg) * (d.test_loss - d.loss_avg))
              / (COUNT(*) - 1))
       END AS test_loss_std,
       MIN(d.test_loss) AS test_loss_min,
       MAX(d.test_loss) AS test_loss_max,
       AVG(d.val_accuracy) AS val_accuracy_mean,
       AVG(d.best_epoch) AS best_epoch_mean,
       AVG(d.overfit_gap) AS overfit_gap_mean
FROM d JOIN experiments e ON e.id = d.experiment_id
GROUP BY e.id, d.params;

-- Every cell of each recorded confusion matrix, zeros included: one row per
-- (trial, split) that has a matrix and per pair of the experiment's classes.
CREATE VIEW IF NOT EXISTS confusion_full AS
SELECT s.trial_id, s.split, a.class_index AS true_class, b.class_index AS predicted_class,
       COALESCE(c.count, 0) AS count
FROM (SELECT DISTINCT trial_id, split FROM confusion) s
JOIN trials t ON t.id = s.trial_id
JOIN classes a ON a.experiment_id = t.experiment_id
JOIN classes b ON b.experiment_id = t.experiment_id
LEFT JOIN confusion c ON c.trial_id = s.trial_id AND c.split = s.split
     AND c.true_class = a.class_index AND c.predicted_class = b.class_index;

-- confusion_full with each row divided by its true-class total (0 when the
-- class has no rows), as scikit-learn's confusion_matrix(normalize='true').
CREATE VIEW IF NOT EXISTS confusion_normalized AS
SELECT c.trial_id, c.split, c.true_class, c.predicted_class, c.count,
       CASE WHEN r.total > 0 THEN CAST(c.count AS REAL) / r.total ELSE 0.0 END AS fraction
FROM confusion_full c
LEFT JOIN (SELECT trial_id, split, true_class, SUM(count) AS total
           FROM confusion GROUP BY trial_id, split, true_class) r
  ON r.trial_id = c.trial_id AND r.split = c.split AND r.true_class = c.true_class;

PRAGMA user_version = 2;
