-- runexp results database, schema version 4 (PRAGMA user_version = 4).
--
-- The table and column names below are a contract: columns may be added by
-- later versions (with a forward migration), never renamed or removed.
-- Times are ISO-8601 UTC text; weights are float32 little-endian BLOBs.
--
-- This file is always the current schema. runexp embeds it in the binary and
-- runs it inside one transaction to create a new database; an older database
-- is brought up to date by the forward migrations in src/store/store.c (version 2:
-- only non-zero confusion cells, the confusion_full view; version 3: the
-- point_stats, point_comparisons and point_training tables and the
-- smallest_sufficient_point view; version 4: see the blocks marked
-- "version 4"). Each connection
-- turns on foreign_keys, WAL and a busy timeout itself (those are
-- per-connection or cannot change inside a transaction, so they do not
-- belong here). `sqlite3 new.db < schemas/results.sql` also gives a valid
-- version-4 database.
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
                      ('queued','running','done','failed','diverged','interrupted','pruned')),
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
    pruned_rung     INTEGER,                -- search: the rung (0-based) a pruned trial stopped at
    stopped_epoch   INTEGER,                -- early stopping fired after this epoch
    restored_best   INTEGER,                -- 1: best weights restored (restore_best_weights)
    early_stopping_best_epoch INTEGER,      -- early stopping's best epoch (1-based)
    -- A trial key is unique within one experiment record, not across the
    -- database: `--fresh` starts a new experiment whose trials have the very
    -- same keys (same spec, same seeds). Resume looks keys up per experiment.
    UNIQUE (experiment_id, trial_key)
);
CREATE INDEX IF NOT EXISTS trials_experiment ON trials(experiment_id, point_index, seed);

-- Keras training extras (version 4; epochs.learning_rate is added by ALTER
-- TABLE, hence on one line below, the trials columns by the rebuild of
-- trials for the 'pruned' status): trials.stopped_epoch is the 1-based epoch after which
-- early stopping ended training (NULL when it did not fire or was off);
-- trials.restored_best is 1 when restore_best_weights put the weights of
-- early stopping's best epoch back at the end (the test metrics are then
-- those weights'), 0 when it asked to but had none, NULL without it;
-- trials.early_stopping_best_epoch is that best epoch (NULL without early
-- stopping). epochs.learning_rate is the rate of the epoch's last update.
-- The layers table below is each trial's model.summary().

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
    val_accuracy    REAL, learning_rate REAL,
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

-- Keras training extras (version 4): each trial's layer table, the rows of
-- model.summary(): name as Keras numbers them (dense, dense_1, dropout, ...),
-- type (Dense, Dropout, BatchNormalization), output_shape ("(None, 64)"),
-- params and, of those, trainable_params (batch normalization's moving
-- statistics are not trainable).
CREATE TABLE IF NOT EXISTS layers (
    trial_id        INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
    layer_index     INTEGER NOT NULL,       -- 0-based, input side first
    name            TEXT NOT NULL,
    type            TEXT NOT NULL,
    output_shape    TEXT NOT NULL,
    params          INTEGER NOT NULL,
    trainable_params INTEGER NOT NULL,
    PRIMARY KEY (trial_id, layer_index)
) WITHOUT ROWID;

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

-- Statistics written at the end of a run (src/analysis/analysis.h; from version 3).
-- `runexp compare` computes the same figures afresh from the trials, so it
-- works on databases written before. Each run replaces its experiment's rows.
-- point_stats: per experiment, metric (test_accuracy, test_loss,
-- val_accuracy, val_loss, train_accuracy, train_loss) and sweep point, over
-- its done trials: n, mean, sample std (NULL for n = 1), min, max, median,
-- iqm (interquartile mean), ci_lo/ci_hi (95 % percentile bootstrap CI of the
-- mean, 10000 resamples, bootstrap seed 0); point_rank is the point's place
-- in the "smallest first" order (ascending value of a single numeric sweep
-- dimension, else point_index); is_best marks the best mean (highest for
-- accuracies, lowest for losses; a tie goes to the lower point_index).
CREATE TABLE IF NOT EXISTS point_stats (
    experiment_id   INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
    metric          TEXT NOT NULL,
    point_index     INTEGER NOT NULL,
    params          TEXT NOT NULL,
    point_rank      INTEGER NOT NULL,
    is_best         INTEGER NOT NULL,
    n               INTEGER NOT NULL,
    mean REAL, std REAL, min REAL, max REAL, median REAL, iqm REAL,
    ci_lo REAL, ci_hi REAL,
    PRIMARY KEY (experiment_id, metric, point_index)
) WITHOUT ROWID;

-- point_comparisons: each point other than the best, minus the best, over
-- their common seeds (done in both): n_pairs, mean_diff with its bootstrap CI
-- (ci_lo, ci_hi), paired t-test (t, two-sided p_t) and exact Wilcoxon
-- signed-rank test (w = min(W+, W-), two-sided exact p_w); the *_holm columns
-- are Holm-adjusted across the experiment's comparisons of that metric, one
-- family per test. Points without a common seed have no row.
CREATE TABLE IF NOT EXISTS point_comparisons (
    experiment_id   INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
    metric          TEXT NOT NULL,
    point_index     INTEGER NOT NULL,
    best_point_index INTEGER NOT NULL,
    n_pairs         INTEGER NOT NULL,
    mean_diff REAL, ci_lo REAL, ci_hi REAL,
    t REAL, p_t REAL, p_t_holm REAL,
    w REAL, p_w REAL, p_w_holm REAL,
    PRIMARY KEY (experiment_id, metric, point_index)
) WITHOUT ROWID;

-- point_training: per sweep point, "converged by epoch N" and the overfit
-- gap. curve is the loss the convergence is read from (val_loss, or loss when
-- a done trial has no validation loss), curve_epochs its length (the fewest
-- epochs of the point's done trials); converged_epoch is the first epoch
-- after which the mean curve never again falls more than 1 % below its value
-- there; converged = 0 when that is the last epoch. gap_*: the trials'
-- overfit_gap, n, mean and 95 % bootstrap CI.
CREATE TABLE IF NOT EXISTS point_training (
    experiment_id   INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
    point_index     INTEGER NOT NULL,
    params          TEXT NOT NULL,
    curve           TEXT CHECK (curve IN ('val_loss', 'loss')),
    curve_epochs    INTEGER,
    converged_epoch INTEGER,
    converged       INTEGER,
    gap_n           INTEGER NOT NULL,
    gap_mean REAL, gap_ci_lo REAL, gap_ci_hi REAL,
    PRIMARY KEY (experiment_id, point_index)
) WITHOUT ROWID;

-- The lab's "smallest point not significantly worse than the best", per
-- experiment and metric: the first point by point_rank that is the best or
-- whose Holm-adjusted exact Wilcoxon p against the best is >= 0.05. Fewer
-- than 6 common seeds can never give p < 0.05, so then it is the first point.
CREATE VIEW IF NOT EXISTS smallest_sufficient_point AS
WITH c AS (
  SELECT s.experiment_id, s.metric, s.point_index, s.params, s.n, s.mean,
         p.n_pairs, p.mean_diff, p.ci_lo AS diff_ci_lo, p.ci_hi AS diff_ci_hi, p.p_w_holm,
         ROW_NUMBER() OVER (PARTITION BY s.experiment_id, s.metric
                            ORDER BY s.point_rank, s.point_index) AS k
  FROM point_stats s
  LEFT JOIN point_comparisons p ON p.experiment_id = s.experiment_id
       AND p.metric = s.metric AND p.point_index = s.point_index
  WHERE s.is_best = 1 OR p.p_w_holm >= 0.05
)
SELECT c.experiment_id, e.name AS experiment, c.metric, c.point_index, c.params, c.n,
       c.mean, b.point_index AS best_point_index, b.params AS best_params,
       b.mean AS best_mean, c.n_pairs, c.mean_diff, c.diff_ci_lo, c.diff_ci_hi, c.p_w_holm
FROM c JOIN experiments e ON e.id = c.experiment_id
JOIN point_stats b ON b.experiment_id = c.experiment_id AND b.metric = c.metric
     AND b.is_best = 1
WHERE c.k = 1;

-- ---- version 4: per-sample predictions (record.predictions) ----------------
-- One row per row of a done trial's test split (split = 'test'), in split
-- order (split_row 0, 1, ...): the row's index in the source data
-- (source_row: the CSV's data row counting from 0 without the header, the
-- digits' load_digits index, the XOR corner), its index in the augmented set
-- (augmented_row: the source tiled data.augment.repeat times, so
-- source_row = augmented_row % source rows; the same as source_row without
-- repeat), the true and the predicted class (the argmax the confusion
-- matrix counts) and the probabilities: a JSON array of the K float32
-- class probabilities, each with 9 significant digits (enough to read back
-- the same float32), e.g. json_extract(probabilities, '$[3]'). Derived data:
-- not part of result_hash. The misclassified test rows of trial 7:
--   SELECT source_row, true_class, predicted_class FROM predictions
--   WHERE trial_id = 7 AND true_class <> predicted_class;
CREATE TABLE IF NOT EXISTS predictions (
    trial_id        INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
    split           TEXT NOT NULL,
    split_row       INTEGER NOT NULL,
    source_row      INTEGER NOT NULL,
    augmented_row   INTEGER NOT NULL,
    true_class      INTEGER NOT NULL,
    predicted_class INTEGER NOT NULL,
    probabilities   TEXT NOT NULL,
    PRIMARY KEY (trial_id, split, split_row)
) WITHOUT ROWID;
-- ---- end of version 4: per-sample predictions ------------------------------
-- ---- version 4, search (pruning): rungs and decisions --------------------
-- A pruned trial (status 'pruned', pruned_rung) keeps its history and
-- weights up to its rung's epoch; it has no test figures (see README,
-- "Search").
-- trial_rungs: the metric of a trial at each rung it was trained to before
-- the last (rung k, 0-based, at `epoch` epochs; the value at that epoch, or
-- at its last epoch when early stopping ended it sooner; NULL when it has
-- none: diverged or failed before).
CREATE TABLE IF NOT EXISTS trial_rungs (
    trial_id        INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
    rung            INTEGER NOT NULL,
    epoch           INTEGER NOT NULL,
    metric          TEXT NOT NULL,
    value           REAL,
    PRIMARY KEY (trial_id, rung)
) WITHOUT ROWID;
-- prune_decisions: per experiment, bracket (0 for successive halving),
-- rung and sweep point: n seeds with a value, their mean of the metric at
-- the rung's epoch (NULL when a seed has none), the point's place among
-- the bracket's points at that rung (1 = best) and whether it went on.
-- Each run of the experiment replaces its rows.
CREATE TABLE IF NOT EXISTS prune_decisions (
    experiment_id   INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
    bracket         INTEGER NOT NULL,
    rung            INTEGER NOT NULL,
    epoch           INTEGER NOT NULL,
    point_index     INTEGER NOT NULL,
    params          TEXT NOT NULL,
    metric          TEXT NOT NULL,
    n               INTEGER NOT NULL,
    value           REAL,
    place           INTEGER NOT NULL,
    promoted        INTEGER NOT NULL,
    PRIMARY KEY (experiment_id, bracket, rung, point_index)
) WITHOUT ROWID;
-- ---- end of version 4, search -----------------------------------------------

PRAGMA user_version = 4;
