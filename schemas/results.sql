-- runexp results database, schema version 1 (PRAGMA user_version = 1).
--
-- The table and column names below are a contract: columns may be added by
-- later versions (with a forward migration), never renamed or removed.
-- Times are ISO-8601 UTC text; weights are float32 little-endian BLOBs.

PRAGMA foreign_keys = ON;

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

CREATE TABLE IF NOT EXISTS trials (
    id              INTEGER PRIMARY KEY,
    experiment_id   INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
    trial_key       TEXT NOT NULL UNIQUE,   -- hex SHA-256 of canonical spec + seed
    trial_index     INTEGER NOT NULL,       -- position in the plan
    point_index     INTEGER NOT NULL,       -- sweep point
    seed            INTEGER NOT NULL,
    params          TEXT NOT NULL,          -- JSON object of sweep values by name
    resolved_spec   TEXT,                   -- canonical resolved spec of the trial
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
    error           TEXT
);
CREATE INDEX IF NOT EXISTS trials_experiment ON trials(experiment_id, point_index, seed);

CREATE TABLE IF NOT EXISTS trial_params (
    trial_id        INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    value,                                  -- INTEGER, REAL or TEXT as swept
    PRIMARY KEY (trial_id, name)
);

CREATE TABLE IF NOT EXISTS epochs (
    trial_id        INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
    epoch           INTEGER NOT NULL,       -- 1-based
    loss            REAL,
    accuracy        REAL,
    val_loss        REAL,
    val_accuracy    REAL,
    PRIMARY KEY (trial_id, epoch)
);

CREATE TABLE IF NOT EXISTS metrics (
    trial_id        INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
    split           TEXT NOT NULL,          -- train, validation, test
    name            TEXT NOT NULL,          -- loss, accuracy, precision_3, recall_3, f1_3, support_3, ...
    value           REAL,
    PRIMARY KEY (trial_id, split, name)
);

CREATE TABLE IF NOT EXISTS confusion (
    trial_id        INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
    split           TEXT NOT NULL,
    true_class      INTEGER NOT NULL,
    predicted_class INTEGER NOT NULL,
    count           INTEGER NOT NULL,
    PRIMARY KEY (trial_id, split, true_class, predicted_class)
);

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
);

-- Predicted class on the decision-boundary grid (record.grid), row-major:
-- cell (ix, iy) at x0 = x0_min + ix*(x0_max-x0_min)/(res-1), likewise x1.
CREATE TABLE IF NOT EXISTS grids (
    trial_id        INTEGER PRIMARY KEY REFERENCES trials(id) ON DELETE CASCADE,
    x0_min REAL NOT NULL, x0_max REAL NOT NULL,
    x1_min REAL NOT NULL, x1_max REAL NOT NULL,
    resolution      INTEGER NOT NULL,
    classes         BLOB NOT NULL           -- res*res uint8 predicted classes, iy-major
);

CREATE VIEW IF NOT EXISTS trial_summary AS
SELECT t.id AS trial_id, e.id AS experiment_id, e.name AS experiment,
       t.point_index, t.params, t.seed, t.status, t.n_params, t.epochs_run,
       t.best_epoch, t.overfit_gap, t.train_accuracy, t.val_loss, t.val_accuracy,
       t.test_loss, t.test_accuracy, t.wall_ms, t.result_hash, t.trial_key
FROM trials t JOIN experiments e ON e.id = t.experiment_id;

CREATE VIEW IF NOT EXISTS sweep_summary AS
SELECT e.id AS experiment_id, e.name AS experiment, t.point_index, t.params,
       COUNT(*) AS n,
       AVG(t.test_accuracy) AS test_accuracy_mean,
       CASE WHEN COUNT(*) > 1 THEN
         sqrt(MAX(0, (SUM(t.test_accuracy * t.test_accuracy)
                 - SUM(t.test_accuracy) * SUM(t.test_accuracy) / COUNT(*)) / (COUNT(*) - 1)))
       END AS test_accuracy_std,
       MIN(t.test_accuracy) AS test_accuracy_min,
       MAX(t.test_accuracy) AS test_accuracy_max,
       AVG(t.test_loss) AS test_loss_mean,
       CASE WHEN COUNT(*) > 1 THEN
         sqrt(MAX(0, (SUM(t.test_loss * t.test_loss)
                 - SUM(t.test_loss) * SUM(t.test_loss) / COUNT(*)) / (COUNT(*) - 1)))
       END AS test_loss_std,
       MIN(t.test_loss) AS test_loss_min,
       MAX(t.test_loss) AS test_loss_max,
       AVG(t.val_accuracy) AS val_accuracy_mean,
       AVG(t.best_epoch) AS best_epoch_mean,
       AVG(t.overfit_gap) AS overfit_gap_mean
FROM trials t JOIN experiments e ON e.id = t.experiment_id
WHERE t.status = 'done'
GROUP BY e.id, t.point_index;

CREATE VIEW IF NOT EXISTS confusion_normalized AS
SELECT c.trial_id, c.split, c.true_class, c.predicted_class, c.count,
       CASE WHEN r.total > 0 THEN CAST(c.count AS REAL) / r.total ELSE 0.0 END AS fraction
FROM confusion c
JOIN (SELECT trial_id, split, true_class, SUM(count) AS total
      FROM confusion GROUP BY trial_id, split, true_class) r
  ON r.trial_id = c.trial_id AND r.split = c.split AND r.true_class = c.true_class;

PRAGMA user_version = 1;
