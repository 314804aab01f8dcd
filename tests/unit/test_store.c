/* Unit tests of the results store: schema creation and versioning, refusal
 * of foreign or newer files, one trial's transaction, resume decisions and
 * the views, against numbers worked out by hand in the comments. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "digest.h"
#include "store.h"

/* cmocka 1.1.5 has no assert_double_equal. */
static void near(double got, double want, double eps, int line)
{
    if (!(fabs(got - want) <= eps)) {
        print_error("line %d: got %.17g, want %.17g (+- %g)\n", line, got, want, eps);
        fail();
    }
}
#define assert_double_equal(a, b, e) near((a), (b), (e), __LINE__)

/* A fresh path in a private temporary directory. */
static char tmpdir[256];
static char dbpath[300];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_store.XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    snprintf(dbpath, sizeof dbpath, "%s/t.db", tmpdir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    const char *suffix[] = {"", "-wal", "-shm", "-journal", ".lock"};
    for (size_t i = 0; i < 5; i++) {
        char p[320];
        snprintf(p, sizeof p, "%s%s", dbpath, suffix[i]);
        unlink(p);
    }
    rmdir(tmpdir);
    return 0;
}

/* One integer (or real) from a query on a separate plain connection. */
static double query_num(const char *path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    double v = sqlite3_column_type(st, 0) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static char *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = malloc(1 << 16);
    assert_non_null(buf);
    *n = fread(buf, 1, 1 << 16, f);
    fclose(f);
    return buf;
}

static void test_schema_created(void **state)
{
    (void)state;
    store_error err;
    store *s = store_open(dbpath, &err);
    assert_non_null(s);
    assert_int_equal(store_version_found(s), 0);
    /* A new file is created with synchronous=OFF; the connection must be
     * back at NORMAL (1) before any result is written. abs(INT64_MIN) makes
     * the statement fail otherwise. */
    static const char is_normal[] =
        "SELECT CASE WHEN (SELECT synchronous FROM pragma_synchronous) = 1 THEN 1"
        " ELSE abs(-9223372036854775808) END";
    assert_int_equal(store_exec(s, is_normal, &err), 0);
    store_close(s);
    assert_int_equal((int)query_num(dbpath, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
    /* 10 tables and 4 views of the contract. */
    assert_int_equal((int)query_num(dbpath,
                                     "SELECT COUNT(*) FROM sqlite_master WHERE type='table'"
                                     " AND name IN ('experiments','specs','trials',"
                                     "'trial_params','epochs','metrics','confusion',"
                                     "'weights','classes','grids')"),
                     10);
    assert_int_equal((int)query_num(dbpath,
                                     "SELECT COUNT(*) FROM sqlite_master WHERE type='view'"
                                     " AND name IN ('trial_summary','sweep_summary',"
                                     "'confusion_normalized','confusion_full')"),
                     4);
    /* WAL is a property of the file and sticks. */
    sqlite3 *db;
    sqlite3_stmt *st;
    sqlite3_open(dbpath, &db);
    sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    sqlite3_close(db);
    /* Opening again migrates nothing. */
    s = store_open(dbpath, &err);
    assert_non_null(s);
    assert_int_equal(store_version_found(s), STORE_SCHEMA_VERSION);
    assert_int_equal(store_exec(s, is_normal, &err), 0);
    store_close(s);
}

static void test_refuses_newer_version(void **state)
{
    (void)state;
    sqlite3 *db;
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE x(a); PRAGMA user_version = 7",
                                  NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    size_t n0, n1;
    char *before = read_file(dbpath, &n0);
    store_error err;
    store *s = store_open(dbpath, &err);
    assert_null(s);
    assert_non_null(strstr(err.message, "schema version 7"));
    char *after = read_file(dbpath, &n1);
    assert_int_equal(n0, n1);
    assert_memory_equal(before, after, n0);
    free(before);
    free(after);
}

static void test_refuses_non_database(void **state)
{
    (void)state;
    FILE *f = fopen(dbpath, "wb");
    assert_non_null(f);
    fputs("name,value\nnot,a database at all but long enough\n", f);
    fclose(f);
    size_t n0, n1;
    char *before = read_file(dbpath, &n0);
    store_error err;
    assert_null(store_open(dbpath, &err));
    assert_non_null(strstr(err.message, "not an SQLite database"));
    char *after = read_file(dbpath, &n1);
    assert_int_equal(n0, n1);
    assert_memory_equal(before, after, n0);
    free(before);
    free(after);
}

static const char *const class_names[] = {"0", "1"};

static int64_t begin_experiment(store *s, const char *name, int fresh)
{
    store_experiment_info info = {
        .name = name, .spec = "name: x\n", .spec_file = "x.yaml", .base_dir = ".",
        .created_at = "2024-01-01T00:00:00Z", .runexp_version = "0.1.0",
        .threads = 2, .sweep_dims = "[\"hidden\"]", .n_classes = 2,
        .class_names = class_names};
    int64_t id = 0;
    store_error err;
    assert_int_equal(store_experiment_begin(s, &info, fresh, &id, NULL, &err), 0);
    return id;
}

/* A large plan (more than 2000 trials) is inserted with a cache it fits
 * in and without the checkpoint its commit would make: the main file stays
 * as it was until the next commit, which checkpoints (the auto-checkpoint
 * is back on), and every row is there in plan order. */
static off_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : -1;
}

static void test_big_plan_checkpoint_deferred(void **state)
{
    (void)state;
    enum { N = 6000 };
    store_error err;
    store *s = store_open(dbpath, &err);
    assert_non_null(s);
    int64_t exp = begin_experiment(s, "big", 0);
    char spec[601];
    memset(spec, 'x', 600);
    spec[600] = '\0';
    store_param p = {.name = "hidden", .type = 0, .i = 4};
    store_trial_plan *plan = calloc(N, sizeof *plan);
    char (*keys)[24] = calloc(N, sizeof *keys);
    int64_t *ids = calloc(N, sizeof *ids);
    store_plan_action *act = calloc(N, sizeof *act);
    assert_true(plan && keys && ids && act);
    for (size_t i = 0; i < N; i++) {
        snprintf(keys[i], sizeof keys[i], "key%zu", i * 7919 % N);
        plan[i] = (store_trial_plan){.key = keys[i], .trial_index = i, .point_index = i / 1000,
                                     .seed = i % 1000, .params_json = "{\"hidden\": 4}",
                                     .n_params = 1, .params = &p, .resolved_spec = spec};
    }
    off_t before = file_size(dbpath);
    assert_int_equal(store_trials_prepare(s, exp, N, plan, 0, ids, act, &err), 0);
    /* about 1300 pages in the WAL, none of them in the main file yet */
    assert_true(file_size(dbpath) == before);
    for (size_t i = 1; i < N; i++)
        assert_true(ids[i] == ids[i - 1] + 1 && act[i] == STORE_PLAN_RUN);
    assert_int_equal(store_trial_start(s, ids[0], "2024-01-01T00:00:01Z", &err), 0);
    assert_true(file_size(dbpath) > before + (off_t)N * 600);
    store_close(s);
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM trials WHERE experiment_id = %lld",
             (long long)exp);
    assert_int_equal((int)query_num(dbpath, sql), N);
    free(plan);
    free(keys);
    free(ids);
    free(act);
}

static void test_one_trial_roundtrip(void **state)
{
    (void)state;
    store_error err;
    store *s = store_open(dbpath, &err);
    assert_non_null(s);
    int64_t exp = begin_experiment(s, "xor", 0);
    store_param p = {.name = "hidden", .type = 0, .i = 4};
    store_trial_plan plan[2] = {
        {.key = "k0", .trial_index = 0, .point_index = 0, .seed = 0,
         .params_json = "{\"hidden\": 4}", .n_params = 1, .params = &p},
        {.key = "k1", .trial_index = 1, .point_index = 0, .seed = 1,
         .params_json = "{\"hidden\": 4}", .n_params = 1, .params = &p}};
    int64_t ids[2];
    store_plan_action act[2];
    assert_int_equal(store_trials_prepare(s, exp, 2, plan, 0, ids, act, &err), 0);
    assert_int_equal(act[0], STORE_PLAN_RUN);
    assert_int_equal(act[1], STORE_PLAN_RUN);
    assert_true(ids[0] < ids[1]); /* ids follow the plan */

    assert_int_equal(store_trial_start(s, ids[0], "2024-01-01T00:00:01Z", &err), 0);
    double loss[3] = {0.7, 0.5, 0.4}, acc[3] = {0.5, 0.75, 1.0};
    double vl[3] = {0.6, NAN, 0.65}, va[3] = {0.5, 0.5, 1.0};
    store_metric m[2] = {{.split = "test", .name = "loss", .value = 0.25},
                         {.split = "test", .name = "accuracy", .value = 0.875}};
    uint32_t cm[4] = {3, 1, 0, 4};
    store_confusion c = {.split = "test", .k = 2, .counts = cm};
    float kern[6] = {1.0f, -2.5f, 0.125f, 3.0f, -0.0f, 1e-8f}, bias[3] = {0.5f, 0, -1};
    store_weight w[2] = {{.layer = 0, .kind = "kernel", .rows = 2, .cols = 3, .data = kern},
                         {.layer = 0, .kind = "bias", .rows = 1, .cols = 3, .data = bias}};
    uint8_t gc[4] = {0, 1, 1, 0};
    store_grid g = {-1, 2, -1, 2, 2, gc};
    store_trial_result r = {
        .status = STORE_DONE, .n_params = 9, .epochs_run = 3, .best_epoch = 1,
        .overfit_gap = 0.05, .train_loss = 0.3, .train_accuracy = 0.9, .val_loss = 0.65,
        .val_accuracy = 1.0, .test_loss = 0.25, .test_accuracy = 0.875,
        .result_hash = "abc", .finished_at = "2024-01-01T00:00:02Z", .wall_ms = 3.5,
        .n_epochs = 3, .loss = loss, .accuracy = acc, .val_loss_h = vl, .val_accuracy_h = va,
        .n_metrics = 2, .metrics = m, .n_confusion = 1, .confusion = &c,
        .n_weights = 2, .weights = w, .grid = &g};
    assert_int_equal(store_trial_finish(s, ids[0], &r, &err), 0);
    store_close(s);

    assert_int_equal((int)query_num(dbpath, "SELECT COUNT(*) FROM epochs"), 3);
    assert_true(isnan(query_num(dbpath, "SELECT val_loss FROM epochs WHERE epoch=2")));
    /* Only the non-zero cells are stored; confusion_full has all four. */
    assert_int_equal((int)query_num(dbpath, "SELECT COUNT(*) FROM confusion"), 3);
    assert_int_equal((int)query_num(dbpath, "SELECT COUNT(*) FROM confusion"
                                             " WHERE true_class=1 AND predicted_class=0"), 0);
    assert_int_equal((int)query_num(dbpath, "SELECT COUNT(*) FROM confusion_full"), 4);
    /* Cells as decimal digits (0,0)(0,1)(1,0)(1,1): 3, 1, 0, 4. */
    assert_int_equal((int)query_num(dbpath, "SELECT SUM(count * CASE 2 * true_class +"
                                             " predicted_class WHEN 0 THEN 1000 WHEN 1 THEN 100"
                                             " WHEN 2 THEN 10 ELSE 1 END) FROM confusion_full"
                                             " WHERE split = 'test'"),
                     3104);
    assert_int_equal((int)query_num(dbpath, "SELECT COUNT(*) FROM confusion_full"
                                             " WHERE count = 0"), 1);
    assert_int_equal((int)query_num(dbpath, "SELECT COUNT(*) FROM trial_params"
                                             " WHERE name='hidden' AND value=4"
                                             " AND typeof(value)='integer'"), 2);
    assert_int_equal((int)query_num(dbpath, "SELECT length(data) FROM weights"
                                             " WHERE kind='kernel'"), 24);
    /* 1.0f is 0x3f800000: little-endian bytes 00 00 80 3f. */
    assert_int_equal((int)query_num(dbpath, "SELECT hex(substr(data,1,4))='0000803F'"
                                             " FROM weights WHERE kind='kernel'"), 1);
    assert_int_equal((int)query_num(dbpath, "SELECT COUNT(*) FROM trials"
                                             " WHERE status='done'"), 1);
    assert_int_equal((int)query_num(dbpath, "SELECT COUNT(*) FROM trials"
                                             " WHERE status='queued'"), 1);
    assert_int_equal((int)query_num(dbpath, "SELECT length(classes) FROM grids"), 4);

    /* Read it back: weights bit for bit, metrics and history. */
    s = store_open(dbpath, &err);
    assert_non_null(s);
    store_trial_record rec;
    assert_int_equal(store_trial_load(s, ids[0], &rec, &err), 0);
    assert_string_equal(rec.key, "k0");
    assert_string_equal(rec.result_hash, "abc");
    assert_string_equal(rec.spec, "name: x\n");
    assert_int_equal(rec.n_weights, 2);
    assert_string_equal(rec.weights[0].kind, "kernel");
    assert_memory_equal(rec.weights[0].data, kern, sizeof kern);
    assert_memory_equal(rec.weights[1].data, bias, sizeof bias);
    assert_int_equal(rec.n_metrics, 2);
    assert_string_equal(rec.metrics[0].name, "accuracy"); /* ordered by name */
    assert_true(rec.metrics[0].value == 0.875);
    assert_int_equal(rec.n_epochs, 3);
    assert_true(rec.history[2 * 4 + 3] == 1.0);
    store_trial_record_free(&rec);
    assert_int_equal(store_trial_load(s, 999, &rec, &err), 1);

    /* Resume: k0 is done and skipped, k1 (queued) runs again. */
    int64_t ids2[2];
    assert_int_equal(store_experiment_begin(s, &(store_experiment_info){
        .name = "xor", .spec = "name: x\n", .created_at = "t", .n_classes = 0,
        .sweep_dims = "[\"hidden\"]"},
        0, &exp, NULL, &err), 0);
    assert_int_equal(store_trials_prepare(s, exp, 2, plan, 0, ids2, act, &err), 0);
    assert_int_equal(act[0], STORE_PLAN_SKIP_DONE);
    assert_int_equal(act[1], STORE_PLAN_RUN);
    assert_true(ids2[0] == ids[0] && ids2[1] == ids[1]);

    /* Failed: skipped without retry, rerun with it; a rerun starts from a
     * clean slate (its old rows go when it is queued again). */
    r.status = STORE_DIVERGED;
    r.n_metrics = 0;
    r.n_confusion = r.n_weights = 0;
    r.grid = NULL;
    r.n_epochs = 1;
    assert_int_equal(store_trial_start(s, ids[1], "t", &err), 0);
    assert_int_equal(store_trial_finish(s, ids[1], &r, &err), 0);
    assert_int_equal(store_trials_prepare(s, exp, 2, plan, 0, ids2, act, &err), 0);
    assert_int_equal(act[1], STORE_PLAN_SKIP_FAILED);
    store_close(s);
    assert_int_equal((int)query_num(dbpath, "SELECT COUNT(*) FROM epochs"), 4);
    assert_int_equal((int)query_num(dbpath, "SELECT COUNT(*) FROM trials WHERE status="
                                             "'diverged' AND error IS NULL"), 1);
    s = store_open(dbpath, &err);
    assert_int_equal(store_trials_prepare(s, exp, 2, plan, 1, ids2, act, &err), 0);
    assert_int_equal(act[0], STORE_PLAN_SKIP_DONE);
    assert_int_equal(act[1], STORE_PLAN_RETRY);
    store_close(s);
    assert_int_equal((int)query_num(dbpath, "SELECT COUNT(*) FROM epochs"), 3);
    assert_int_equal((int)query_num(dbpath, "SELECT COUNT(*) FROM trials WHERE status='queued'"
                                             " AND epochs_run IS NULL AND started_at IS NULL"),
                     1);
    /* Writing a trial again replaces its rows. */
    s = store_open(dbpath, &err);
    assert_int_equal(store_trial_finish(s, ids[0], &r, &err), 0);
    store_close(s);
    assert_int_equal((int)query_num(dbpath, "SELECT COUNT(*) FROM epochs"), 1);
    assert_int_equal((int)query_num(dbpath, "SELECT COUNT(*) FROM weights"), 0);
    assert_int_equal((int)query_num(dbpath, "SELECT COUNT(*) FROM grids"), 0);
    assert_int_equal((int)query_num(dbpath, "SELECT COUNT(*) FROM metrics"), 0);

    /* --fresh: a new experiment with the same trial keys is allowed. */
    s = store_open(dbpath, &err);
    int64_t exp2 = begin_experiment(s, "xor", 1);
    assert_true(exp2 != exp);
    assert_int_equal(store_trials_prepare(s, exp2, 2, plan, 0, ids2, act, &err), 0);
    assert_int_equal(act[0], STORE_PLAN_RUN);
    assert_true(ids2[0] != ids[0]);
    /* Without --fresh the most recent one is reused. */
    assert_true(begin_experiment(s, "xor", 0) == exp2);
    store_close(s);
    assert_int_equal((int)query_num(dbpath, "SELECT COUNT(*) FROM trials"), 4);
}

/* Inserts a trial row directly with the given figures. */
static void add_trial(sqlite3 *db, int exp, const char *key, const char *params,
                      const char *status, double acc, double loss)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "INSERT INTO trials(experiment_id, trial_key, trial_index, point_index, seed,"
             " params, status, test_accuracy, test_loss, best_epoch, val_accuracy)"
             " VALUES (%d, '%s', 0, 0, 0, '%s', '%s', %.17g, %.17g, 10, 0.5)",
             exp, key, params, status, acc, loss);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
}

/* A trial with more epochs, metrics and confusion cells than one INSERT
 * takes (ROWS_MAX = 16 rows per statement in store.c): 37 epochs (16 + 16
 * + 5), 17 metrics, a 7-class confusion with 29 non-zero cells spread over
 * two splits. Every row comes back with its own value, once. */
static void test_many_rows_roundtrip(void **state)
{
    (void)state;
    store_error err;
    store *s = store_open(dbpath, &err);
    assert_non_null(s);
    int64_t exp = begin_experiment(s, "many", 0);
    /* the second trial is at point 0, the first at point 1: read back in
     * point order, the second comes first */
    store_trial_plan plan[2] = {{.key = "k0", .trial_index = 0, .point_index = 1,
                                 .params_json = "{}"},
                                {.key = "k1", .trial_index = 1, .point_index = 0,
                                 .params_json = "{}"}};
    int64_t ids[2];
    store_plan_action act[2];
    assert_int_equal(store_trials_prepare(s, exp, 2, plan, 0, ids, act, &err), 0);
    const int64_t id = ids[0];
    enum { E = 37, M = 17, K = 7 };
    double loss[E], acc[E], vl[E], va[E], lr[E];
    for (int e = 0; e < E; e++) {
        loss[e] = 1.0 / (e + 1);
        acc[e] = e / 64.0;
        vl[e] = e % 5 == 3 ? NAN : 2.0 + e;
        va[e] = 0.5 + e / 128.0;
        lr[e] = 1e-3 * (e + 1);
    }
    store_metric m[M];
    for (int i = 0; i < M; i++) {
        m[i].split = i % 2 ? "val" : "test";
        snprintf(m[i].name, sizeof m[i].name, "m%02d", i);
        m[i].value = i * 0.25;
    }
    /* cell c of split t: count c + 1 + 100 t when c % 3 != 1, else 0 */
    uint32_t cm[2][K * K];
    size_t nonzero = 0;
    for (int t = 0; t < 2; t++)
        for (int c = 0; c < K * K; c++) {
            cm[t][c] = c % 3 == 1 ? 0 : (uint32_t)(c + 1 + 100 * t);
            nonzero += cm[t][c] != 0;
        }
    store_confusion cf[2] = {{.split = "test", .k = K, .counts = cm[0]},
                             {.split = "val", .k = K, .counts = cm[1]}};
    store_trial_result r = {.status = STORE_DONE, .epochs_run = E, .n_epochs = E,
                            .loss = loss, .accuracy = acc, .val_loss_h = vl,
                            .val_accuracy_h = va, .learning_rate_h = lr, .n_metrics = M,
                            .metrics = m, .n_confusion = 2, .confusion = cf,
                            .finished_at = "2024-01-01T00:00:02Z"};
    assert_int_equal(store_trial_finish(s, id, &r, &err), 0);
    /* the other trial: 3 epochs, loss 10 + e, nothing else */
    double loss2[3] = {10, 11, 12};
    store_trial_result r2 = {.status = STORE_DONE, .epochs_run = 3, .n_epochs = 3,
                             .loss = loss2, .accuracy = loss2, .val_loss_h = loss2,
                             .val_accuracy_h = loss2, .finished_at = "2024-01-01T00:00:03Z"};
    assert_int_equal(store_trial_finish(s, ids[1], &r2, &err), 0);

    /* read back: each trial's history whole (37 epochs: the arrays grow
     * past their first capacity), in point order */
    store_trial_query q = {.experiment_id = exp, .what = STORE_READ_HISTORY | STORE_READ_METRICS |
                                                         STORE_READ_CONFUSION,
                           .split = "val", .n_classes = K};
    store_trial_list l;
    assert_int_equal(store_trials_read(s, &q, &l, &err), 0);
    assert_int_equal(l.n, 2);
    assert_true(l.rows[0].id == ids[1] && l.rows[1].id == id);
    const store_history *h2 = &l.rows[0].history, *h = &l.rows[1].history;
    assert_int_equal(h2->n_epochs, 3);
    for (int e = 0; e < 3; e++)
        assert_true(h2->loss[e] == 10 + e && h2->val_accuracy[e] == 10 + e);
    assert_int_equal(h->n_epochs, E);
    for (int e = 0; e < E; e++) {
        assert_true(h->loss[e] == loss[e] && h->accuracy[e] == acc[e]);
        assert_true(h->val_accuracy[e] == va[e]);
        assert_true(isnan(vl[e]) ? isnan(h->val_loss[e]) : h->val_loss[e] == vl[e]);
    }
    assert_int_equal(l.rows[0].n_metrics, 0);
    assert_int_equal(l.rows[1].n_metrics, M / 2); /* the "val" ones */
    assert_non_null(l.rows[1].confusion);
    for (int c = 0; c < K * K; c++)
        assert_int_equal(l.rows[1].confusion[c], cm[1][c]);
    store_trial_list_free(&l);
    store_close(s);

    assert_int_equal((int)query_num(dbpath, "SELECT COUNT(*) FROM epochs"), E + 3);
    assert_int_equal((int)query_num(dbpath, "SELECT COUNT(DISTINCT epoch) FROM epochs"
                                             " WHERE epoch BETWEEN 1 AND 37"), E);
    /* every column of every epoch as written (epoch is 1-based) */
    assert_int_equal((int)query_num(dbpath, "SELECT COUNT(*) FROM epochs WHERE"
                                             " abs(loss - 1.0 / epoch) < 1e-15"
                                             " AND abs(accuracy - (epoch - 1) / 64.0) < 1e-15"
                                             " AND abs(val_accuracy - (0.5 + (epoch - 1) / 128.0)) < 1e-15"
                                             " AND abs(learning_rate - 1e-3 * epoch) < 1e-15"
                                             " AND (CASE WHEN (epoch - 1) % 5 = 3"
                                             " THEN val_loss IS NULL"
                                             " ELSE abs(val_loss - (epoch + 1.0)) < 1e-15 END)"),
                     E);
    assert_int_equal((int)query_num(dbpath, "SELECT COUNT(*) FROM metrics"), M);
    assert_int_equal((int)query_num(dbpath, "SELECT COUNT(*) FROM metrics WHERE"
                                             " value = CAST(substr(name, 2) AS INTEGER) * 0.25"
                                             " AND split = CASE CAST(substr(name, 2) AS INTEGER)"
                                             " % 2 WHEN 1 THEN 'val' ELSE 'test' END"),
                     M);
    assert_int_equal((int)query_num(dbpath, "SELECT COUNT(*) FROM confusion"), (int)nonzero);
    assert_int_equal((int)query_num(dbpath, "SELECT COUNT(*) FROM confusion WHERE"
                                             " count = 7 * true_class + predicted_class + 1"
                                             " + CASE split WHEN 'val' THEN 100 ELSE 0 END"
                                             " AND (7 * true_class + predicted_class) % 3 <> 1"),
                     (int)nonzero);
    assert_int_equal((int)query_num(dbpath, "SELECT COUNT(*) FROM (SELECT DISTINCT split,"
                                             " true_class, predicted_class FROM confusion)"),
                     (int)nonzero);
}

static void test_views(void **state)
{
    (void)state;
    store_error err;
    store *s = store_open(dbpath, &err);
    assert_non_null(s);
    begin_experiment(s, "views", 0);
    store_close(s);
    sqlite3 *db;
    sqlite3_open(dbpath, &db);
    /* Point A: accuracies 0.8, 0.9, 1.0 -> mean 0.9, sample std
     * sqrt((0.01 + 0 + 0.01) / 2) = 0.1; losses 0.2, 0.4, 0.9 -> mean 0.5,
     * std sqrt((0.09 + 0.01 + 0.16) / 2) = sqrt(0.13). A failed trial with
     * accuracy 0 must not count. Point B: one trial -> std NULL. */
    add_trial(db, 1, "a1", "{\"h\": 1}", "done", 0.8, 0.2);
    add_trial(db, 1, "a2", "{\"h\": 1}", "done", 0.9, 0.4);
    add_trial(db, 1, "a3", "{\"h\": 1}", "done", 1.0, 0.9);
    add_trial(db, 1, "a4", "{\"h\": 1}", "failed", 0.0, 9.0);
    add_trial(db, 1, "b1", "{\"h\": 2}", "done", 0.7, 0.3);
    /* Confusion of trial 1 over 3 classes: [[3, 1, 0], [0, 4, 0], [0, 0, 0]]
     * (class 2 has no test rows), stored as its non-zero cells only. */
    assert_int_equal(sqlite3_exec(db,
        "INSERT INTO classes VALUES (1, 2, 'c');"
        "INSERT INTO confusion VALUES (1,'test',0,0,3),(1,'test',0,1,1),(1,'test',1,1,4)",
        NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    const char *a = " FROM sweep_summary WHERE params='{\"h\": 1}'";
    char q[256];
#define Q(col) (snprintf(q, sizeof q, "SELECT " col "%s", a), query_num(dbpath, q))
    assert_int_equal((int)Q("n"), 3);
    assert_double_equal(Q("test_accuracy_mean"), 0.9, 1e-12);
    assert_double_equal(Q("test_accuracy_std"), 0.1, 1e-12);
    assert_double_equal(Q("test_accuracy_min"), 0.8, 1e-15);
    assert_double_equal(Q("test_accuracy_max"), 1.0, 1e-15);
    assert_double_equal(Q("test_loss_mean"), 0.5, 1e-12);
    assert_double_equal(Q("test_loss_std"), sqrt(0.13), 1e-12);
    assert_double_equal(Q("best_epoch_mean"), 10.0, 1e-12);
#undef Q
    assert_true(isnan(query_num(dbpath, "SELECT test_accuracy_std FROM sweep_summary"
                                        " WHERE params='{\"h\": 2}'")));
    assert_int_equal((int)query_num(dbpath, "SELECT COUNT(*) FROM trial_summary"), 5);

    assert_double_equal(query_num(dbpath, "SELECT fraction FROM confusion_normalized"
                                          " WHERE true_class=0 AND predicted_class=0"),
                        0.75, 1e-15);
    assert_double_equal(query_num(dbpath, "SELECT fraction FROM confusion_normalized"
                                          " WHERE true_class=0 AND predicted_class=1"),
                        0.25, 1e-15);
    assert_double_equal(query_num(dbpath, "SELECT fraction FROM confusion_normalized"
                                          " WHERE true_class=1 AND predicted_class=1"),
                        1.0, 1e-15);
    assert_double_equal(query_num(dbpath, "SELECT fraction FROM confusion_normalized"
                                          " WHERE true_class=1 AND predicted_class=0"),
                        0.0, 0);
    assert_double_equal(query_num(dbpath, "SELECT SUM(fraction) FROM confusion_normalized"
                                          " WHERE true_class=2"),
                        0.0, 0);
    /* Every cell is there again: 3 x 3, of which 6 are zero. */
    assert_int_equal((int)query_num(dbpath, "SELECT COUNT(*) FROM confusion_normalized"), 9);
    assert_int_equal((int)query_num(dbpath, "SELECT COUNT(*) FROM confusion_full"
                                             " WHERE count = 0"), 6);
    assert_int_equal((int)query_num(dbpath, "SELECT SUM(count) FROM confusion_full"), 8);
}

static void test_busy_message(void **state)
{
    (void)state;
    store_error err;
    store *s = store_open(dbpath, &err);
    assert_non_null(s);
    int64_t exp = begin_experiment(s, "busy", 0);
    store_close(s);
    /* Another connection holds the write lock. */
    sqlite3 *db;
    sqlite3_open(dbpath, &db);
    assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    s = store_open(dbpath, &err);
    assert_non_null(s);
    assert_int_equal(store_exec(s, "PRAGMA busy_timeout = 50", &err), 0);
    store_trial_plan p = {.key = "k", .params_json = "{}"};
    int64_t id;
    store_plan_action act;
    assert_int_equal(store_trials_prepare(s, exp, 1, &p, 0, &id, &act, &err), -1);
    assert_int_equal(err.busy, 1);
    /* Not blamed on a runexp: the lock holder is some other connection. */
    assert_non_null(strstr(err.message, "is locked by another connection, not a runexp"));
    assert_non_null(strstr(err.message, "cannot tell which program"));
    assert_non_null(strstr(err.message, "after waiting 5 s"));
    assert_null(strstr(err.message, "another runexp"));
    store_close(s);
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(db);
}

/* Resume only extends an experiment: an edited setting starts a new record,
 * added seeds or sweep values do not. The canonical texts are stand-ins
 * for sweep.c's: only their equality matters here. */
static int64_t begin_plan(store *s, const char *dims, size_t n, const char *const *params,
                          const char *const *canon, store_experiment_outcome *oc)
{
    store_experiment_info info = {
        .name = "ext", .spec = "name: ext\n", .created_at = "t", .sweep_dims = dims,
        .n_points = n, .point_params = params, .point_canonical = canon};
    int64_t id = 0;
    store_error err;
    assert_int_equal(store_experiment_begin(s, &info, 0, &id, oc, &err), 0);
    return id;
}

static void prepare_plan(store *s, int64_t exp, size_t n, const char *const *params,
                         const char *const *canon, size_t seeds)
{
    store_trial_plan plan[16];
    int64_t ids[16];
    store_plan_action act[16];
    char keys[16][32];
    size_t nt = 0;
    assert_true(n * seeds <= 16);
    for (size_t p = 0; p < n; p++)
        for (size_t k = 0; k < seeds; k++, nt++) {
            /* key = canonical + seed, as in sweep.c */
            snprintf(keys[nt], sizeof keys[nt], "%s/%zu", canon[p], k);
            plan[nt] = (store_trial_plan){.key = keys[nt], .trial_index = nt, .point_index = p,
                                          .seed = k, .params_json = params[p],
                                          .resolved_spec = canon[p]};
        }
    store_error err;
    assert_int_equal(store_trials_prepare(s, exp, nt, plan, 0, ids, act, &err), 0);
}

static void test_resume_only_extends(void **state)
{
    (void)state;
    store_error err;
    store *s = store_open(dbpath, &err);
    assert_non_null(s);
    const char *params[3] = {"{\"hidden\": 2}", "{\"hidden\": 4}", "{\"hidden\": 8}"};
    const char *e20[3] = {"h2-e20", "h4-e20", "h8-e20"};
    const char *e40[3] = {"h2-e40", "h4-e40", "h8-e40"};
    store_experiment_outcome oc;
    int64_t e1 = begin_plan(s, "[\"hidden\"]", 2, params, e20, &oc);
    assert_int_equal(oc.previous, 0);
    prepare_plan(s, e1, 2, params, e20, 2);

    /* The same plan, one more seed, one more sweep value: resumed. */
    assert_true(begin_plan(s, "[\"hidden\"]", 2, params, e20, &oc) == e1);
    assert_true(oc.previous == e1 && oc.resumed);
    prepare_plan(s, e1, 2, params, e20, 3);
    assert_true(begin_plan(s, "[\"hidden\"]", 3, params, e20, &oc) == e1);
    prepare_plan(s, e1, 3, params, e20, 3);
    assert_int_equal((int)query_num(dbpath, "SELECT COUNT(*) FROM trials"), 9);
    /* A plan with fewer points still extends it (hidden 8 is just not run). */
    assert_true(begin_plan(s, "[\"hidden\"]", 2, params, e20, &oc) == e1);

    /* epochs 20 -> 40: every point differs; a new record, the old one kept
     * as it was. The first differing point in params order is named. */
    int64_t e2 = begin_plan(s, "[\"hidden\"]", 2, params, e40, &oc);
    assert_true(e2 != e1 && e2 > e1);
    assert_true(oc.previous == e1 && !oc.resumed && !oc.dims_changed);
    assert_string_equal(oc.differing_params, "{\"hidden\": 2}");
    prepare_plan(s, e2, 2, params, e40, 2);
    assert_int_equal((int)query_num(dbpath, "SELECT COUNT(*) FROM trials WHERE experiment_id=1"),
                     9);
    assert_int_equal((int)query_num(dbpath, "SELECT COUNT(*) FROM trials WHERE experiment_id=2"),
                     4);
    /* sweep_summary: n = seeds per point of each experiment, never mixed. */
    assert_int_equal((int)query_num(dbpath, "SELECT COUNT(*) FROM experiments"), 2);

    /* Only one point changed: still a new record, naming that point. */
    const char *mixed[2] = {"h2-e40", "h4-e20"};
    int64_t e3 = begin_plan(s, "[\"hidden\"]", 2, params, mixed, &oc);
    assert_true(e3 != e2 && oc.previous == e2 && !oc.resumed);
    assert_string_equal(oc.differing_params, "{\"hidden\": 4}");
    prepare_plan(s, e3, 2, params, mixed, 1);

    /* Other sweep dimensions: a new record too, even with no common point. */
    const char *lr[1] = {"{\"lr\": 0.1}"};
    const char *lrc[1] = {"lr"};
    int64_t e4 = begin_plan(s, "[\"lr\"]", 1, lr, lrc, &oc);
    assert_true(e4 != e3 && oc.previous == e3 && !oc.resumed && oc.dims_changed);
    assert_string_equal(oc.previous_dims, "[\"hidden\"]");
    store_close(s);
    assert_int_equal((int)query_num(dbpath, "SELECT COUNT(*) FROM experiments"), 4);
}

/* reproduce's connection: reads, never writes, refuses other versions. */
/* A queued row is left alone when the plan goes in again from the same
 * spec text, takes the new text's hash when the text changed (same trial,
 * edited comments), and a row left running by a killed run is reset. */
static void test_requeue(void **state)
{
    (void)state;
    store_error err;
    store *s = store_open(dbpath, &err);
    assert_non_null(s);
    const char *params[1] = {"{\"hidden\": 2}"};
    const char *canon[1] = {"h2"};
    static const char text_a[] = "name: ext\n", text_b[] = "name: ext  # edited\n";
    char hash_a[65], hash_b[65];
    digest_sha256_hex(text_a, strlen(text_a), hash_a);
    digest_sha256_hex(text_b, strlen(text_b), hash_b);
    store_experiment_info info = {
        .name = "ext", .spec = text_a, .created_at = "t", .sweep_dims = "[\"hidden\"]",
        .n_points = 1, .point_params = params, .point_canonical = canon};
    int64_t e, e2;
    assert_int_equal(store_experiment_begin(s, &info, 0, &e, NULL, &err), 0);
    store_trial_plan tp = {.key = "k0", .params_json = params[0], .resolved_spec = canon[0],
                           .spec_hash = hash_a};
    int64_t id, id2;
    store_plan_action act;
    assert_int_equal(store_trials_prepare(s, e, 1, &tp, 0, &id, &act, &err), 0);
    assert_int_equal(act, STORE_PLAN_RUN);
    assert_int_equal(store_trials_prepare(s, e, 1, &tp, 0, &id2, &act, &err), 0);
    assert_true(id2 == id && act == STORE_PLAN_RUN);
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT spec_hash = '%s' FROM trials", hash_a);
    assert_int_equal((int)query_num(dbpath, sql), 1);

    info.spec = text_b;
    assert_int_equal(store_experiment_begin(s, &info, 0, &e2, NULL, &err), 0);
    assert_true(e2 == e);
    tp.spec_hash = hash_b;
    assert_int_equal(store_trials_prepare(s, e, 1, &tp, 0, &id2, &act, &err), 0);
    assert_true(id2 == id && act == STORE_PLAN_RUN);
    snprintf(sql, sizeof sql, "SELECT spec_hash = '%s' FROM trials", hash_b);
    assert_int_equal((int)query_num(dbpath, sql), 1);

    assert_int_equal(store_trial_start(s, id, "2026-01-01T00:00:00.000Z", &err), 0);
    assert_int_equal((int)query_num(dbpath, "SELECT status = 'running' FROM trials"), 1);
    assert_int_equal(store_trials_prepare(s, e, 1, &tp, 0, &id2, &act, &err), 0);
    assert_true(id2 == id && act == STORE_PLAN_RUN);
    assert_int_equal((int)query_num(dbpath, "SELECT status = 'queued' AND started_at IS NULL"
                                            " FROM trials"),
                     1);
    store_close(s);
}

static void test_open_readonly(void **state)
{
    (void)state;
    store_error err;
    assert_null(store_open_readonly(dbpath, &err)); /* missing: not created */
    assert_int_equal(access(dbpath, F_OK), -1);
    store *s = store_open(dbpath, &err);
    assert_non_null(s);
    begin_experiment(s, "ro", 0);
    store_close(s);
    size_t n0, n1;
    char *before = read_file(dbpath, &n0);
    s = store_open_readonly(dbpath, &err);
    assert_non_null(s);
    assert_int_equal(store_version_found(s), STORE_SCHEMA_VERSION);
    assert_int_equal(store_exec(s, "SELECT COUNT(*) FROM experiments", &err), 0);
    assert_int_equal(store_exec(s, "DELETE FROM experiments", &err), -1);
    store_close(s);
    char *after = read_file(dbpath, &n1);
    assert_int_equal(n0, n1);
    assert_memory_equal(before, after, n0);
    free(before);
    free(after);
    assert_int_equal((int)query_num(dbpath, "SELECT COUNT(*) FROM experiments"), 1);

    /* Newer and older (here 0: an SQLite file without our schema) versions. */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 9", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_null(store_open_readonly(dbpath, &err));
    assert_non_null(strstr(err.message, "schema version 9, newer"));
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 0", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    /* Tables but no version: another program's database. */
    assert_null(store_open_readonly(dbpath, &err));
    assert_non_null(strstr(err.message, "of another program"));
    assert_int_equal((int)query_num(dbpath, "PRAGMA user_version"), 0); /* not migrated */
}

/* The writer lock: fcntl locks belong to a process, so the contender is a
 * child. */
static void test_writer_lock(void **state)
{
    (void)state;
    store_error err;
    int fd = store_writer_lock(dbpath, &err);
    assert_true(fd >= 0);
    assert_int_equal(access(dbpath, F_OK), -1); /* the database itself untouched */
    fflush(NULL);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        /* Only a child may read the lock file: closing any descriptor of a
         * file drops the closing process's fcntl locks on it. */
        char lockpath[320], text[32] = "";
        snprintf(lockpath, sizeof lockpath, "%s.lock", dbpath);
        FILE *f = fopen(lockpath, "r");
        if (!f || !fgets(text, sizeof text, f) || strtol(text, NULL, 10) != (long)getppid())
            _exit(2);
        fclose(f);
        store_error e2;
        char want[400];
        snprintf(want, sizeof want,
                 "another runexp (pid %ld) is writing %s; wait for it or use another --db",
                 (long)getppid(), dbpath);
        int r = store_writer_lock(dbpath, &e2);
        _exit(r == -1 && e2.busy && !strcmp(e2.message, want) ? 0 : 1);
    }
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    store_writer_unlock(fd);
    /* Released: a child now gets it. */
    child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        store_error e2;
        int r = store_writer_lock(dbpath, &e2);
        _exit(r >= 0 ? 0 : 1);
    }
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    /* A lock file that cannot be created is an error, not a busy lock. */
    char bad[340];
    snprintf(bad, sizeof bad, "%s/no/such/dir/x.db", tmpdir);
    assert_int_equal(store_writer_lock(bad, &err), -1);
    assert_int_equal(err.busy, 0);
    assert_non_null(strstr(err.message, "cannot create the database"));
}

/* The concatenated (type, name, sql) of a database's schema objects. */
static char *schema_text(const char *path)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT group_concat(type || ' ' || name || ': ' ||"
                                            " COALESCE(sql, ''), char(10)) FROM (SELECT * FROM"
                                            " sqlite_master ORDER BY type, name)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    char *t = strdup((const char *)sqlite3_column_text(st, 0));
    assert_non_null(t);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return t;
}

/* A version-1 database (tests/fixtures/results_v1.sql, the schema as
 * version 1 shipped it, with its k x k confusion rows, zeros included) is
 * readable as it is, and store_open migrates it to exactly the schema of a
 * new database; the views then give the same numbers over old and new
 * rows. */
static void test_migrate_v1(void **state)
{
    (void)state;
    size_t n;
    char *v1 = read_file(RUNEXP_FIXTURES "/results_v1.sql", &n);
    v1[n] = '\0';
    sqlite3 *db;
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, v1, NULL, NULL, NULL), SQLITE_OK);
    free(v1);
    /* Trial 1: [[3, 1], [0, 4]] with its zero cell, as version 1 wrote it. */
    assert_int_equal(sqlite3_exec(db,
        "INSERT INTO experiments(id, name, spec, spec_hash, created_at) VALUES"
        " (1, 'old', 'name: old', 'h', 't');"
        "INSERT INTO classes VALUES (1, 0, 'a'), (1, 1, 'b');"
        "INSERT INTO trials(id, experiment_id, trial_key, trial_index, point_index, seed,"
        " params, status) VALUES (1, 1, 'k', 0, 0, 0, '{}', 'done');"
        "INSERT INTO confusion VALUES (1,'test',0,0,3),(1,'test',0,1,1),"
        "(1,'test',1,0,0),(1,'test',1,1,4)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal((int)query_num(dbpath, "PRAGMA user_version"), 1);

    store_error err;
    store *s = store_open_readonly(dbpath, &err);
    assert_non_null(s); /* a reader takes the version it can read */
    assert_int_equal(store_version_found(s), 1);
    store_close(s);
    assert_int_equal((int)query_num(dbpath, "PRAGMA user_version"), 1);

    s = store_open(dbpath, &err);
    assert_non_null(s);
    assert_int_equal(store_version_found(s), 1);
    store_close(s);
    assert_int_equal((int)query_num(dbpath, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
    char *migrated = schema_text(dbpath);
    char fresh[320];
    snprintf(fresh, sizeof fresh, "%s/fresh.db", tmpdir);
    s = store_open(fresh, &err);
    assert_non_null(s);
    store_close(s);
    char *created = schema_text(fresh);
    assert_string_equal(migrated, created);
    free(migrated);
    free(created);
    const char *sfx[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        char p[340];
        snprintf(p, sizeof p, "%s%s", fresh, sfx[i]);
        unlink(p);
    }
    /* The zero row of version 1 counts once, not twice. */
    assert_int_equal((int)query_num(dbpath, "SELECT COUNT(*) FROM confusion_full"), 4);
    assert_double_equal(query_num(dbpath, "SELECT fraction FROM confusion_normalized"
                                          " WHERE true_class=0 AND predicted_class=1"),
                        0.25, 1e-15);
    assert_double_equal(query_num(dbpath, "SELECT fraction FROM confusion_normalized"
                                          " WHERE true_class=1 AND predicted_class=0"),
                        0.0, 0);
}

/* A database as an older runexp left it: tests/fixtures/NAME (that
 * version's schema) at dbpath, then the rows of the SQL text rows. */
static void old_database(const char *name, const char *rows)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", RUNEXP_FIXTURES, name);
    size_t n;
    char *schema = read_file(path, &n);
    schema[n] = '\0';
    sqlite3 *db;
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, schema, NULL, NULL, NULL), SQLITE_OK);
    free(schema);
    assert_int_equal(sqlite3_exec(db, rows, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

/* A version-2 database (tests/fixtures/results_v2.sql, the schema as version
 * 2 shipped it) is readable as it is and migrates to exactly the schema of a
 * new database, with empty statistics tables that store_point_stats_write
 * fills and the smallest_sufficient_point view reads. */
static void test_migrate_v2(void **state)
{
    (void)state;
    old_database("results_v2.sql",
        "INSERT INTO experiments(id, name, spec, spec_hash, created_at) VALUES"
        " (1, 'old', 'name: old', 'h', 't');"
        "INSERT INTO trials(id, experiment_id, trial_key, trial_index, point_index, seed,"
        " params, status, test_accuracy) VALUES (1, 1, 'k', 0, 0, 0, '{}', 'done', 0.75)");
    assert_int_equal((int)query_num(dbpath, "PRAGMA user_version"), 2);

    store_error err;
    store *s = store_open_readonly(dbpath, &err);
    assert_non_null(s);
    assert_int_equal(store_version_found(s), 2);
    store_close(s);
    assert_int_equal((int)query_num(dbpath, "PRAGMA user_version"), 2);

    s = store_open(dbpath, &err);
    assert_non_null(s);
    assert_int_equal(store_version_found(s), 2);
    store_close(s);
    assert_int_equal((int)query_num(dbpath, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
    char *migrated = schema_text(dbpath);
    char fresh[320];
    snprintf(fresh, sizeof fresh, "%s/fresh.db", tmpdir);
    s = store_open(fresh, &err);
    assert_non_null(s);
    store_close(s);
    char *created = schema_text(fresh);
    assert_string_equal(migrated, created);
    assert_non_null(strstr(created, "view smallest_sufficient_point"));
    free(migrated);
    free(created);
    const char *sfx[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        char p[340];
        snprintf(p, sizeof p, "%s%s", fresh, sfx[i]);
        unlink(p);
    }
    assert_int_equal((int)query_num(dbpath, "SELECT COUNT(*) FROM point_stats"), 0);
    assert_int_equal((int)query_num(dbpath, "SELECT COUNT(*) FROM smallest_sufficient_point"), 0);
    /* The old trials stay; statistics can be written next to them. */
    s = store_open(dbpath, &err);
    assert_non_null(s);
    store_point_stat st = {"test_accuracy", 0, "{}", 0, 1, 1, 0.75, NAN, 0.75, 0.75, 0.75,
                           0.75, 0.75, 0.75};
    store_point_training tr = {0, "{}", NULL, 0, 0, 0, 0, NAN, NAN, NAN};
    store_point_stats ps = {1, &st, 0, NULL, 1, &tr};
    assert_int_equal(store_point_stats_write(s, 1, &ps, &err), 0);
    store_close(s);
    assert_double_equal(query_num(dbpath, "SELECT mean FROM smallest_sufficient_point"
                                          " WHERE experiment = 'old'"), 0.75, 0);
    assert_int_equal((int)query_num(dbpath, "SELECT COUNT(*) FROM trials"), 1);
    assert_int_equal((int)query_num(dbpath, "SELECT std IS NULL FROM point_stats"), 1);
}

/* The journal mode of a database, read on a plain connection. */
static void expect_journal_mode(const char *path, const char *want)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), want);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* Another program's SQLite file with a `trials` table, in rollback-journal
 * mode: refused before anything is written, its journal mode included (the
 * WAL switch used to come first). Also with a user_version of its own. */
static void test_refuses_foreign(void **state)
{
    (void)state;
    const char *setups[] = {
        "CREATE TABLE trials(id INTEGER PRIMARY KEY, name TEXT);"
        "INSERT INTO trials VALUES (1, 'mine')",
        "PRAGMA user_version = 1"};
    sqlite3 *db;
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(sqlite3_exec(db, setups[i], NULL, NULL, NULL), SQLITE_OK);
        expect_journal_mode(dbpath, "delete");
        size_t n0, n1;
        char *before = read_file(dbpath, &n0);
        store_error err;
        assert_null(store_open(dbpath, &err));
        assert_non_null(strstr(err.message, "of another program"));
        assert_non_null(strstr(err.message, "refusing to touch it"));
        assert_null(store_open_readonly(dbpath, &err));
        char *after = read_file(dbpath, &n1);
        assert_int_equal(n0, n1);
        assert_memory_equal(before, after, n0);
        free(before);
        free(after);
        expect_journal_mode(dbpath, "delete");
        char wal[320];
        snprintf(wal, sizeof wal, "%s-wal", dbpath);
        assert_int_equal(access(wal, F_OK), -1);
    }
    sqlite3_close(db);
}

/* Runs store_writer_lock(path) in a child (fcntl locks belong to a
 * process); returns 0 when the child got the lock, 1 when it was refused
 * as busy with a message containing want (NULL: any), 2 otherwise. */
static int lock_in_child(const char *path, const char *want)
{
    fflush(NULL);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        store_error e2;
        int r = store_writer_lock(path, &e2);
        if (r >= 0)
            _exit(0);
        _exit(e2.busy && (!want || strstr(e2.message, want)) ? 1 : 2);
    }
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

/* The writer lock is the file's, not the path's: a symbolic link to the
 * database, a link to its directory and a dangling link to where it will
 * be created all find the lock of the real file. A second name (hard link)
 * cannot be resolved to the first, so a database with several is refused.
 * A path that is not a regular file (/dev/null, a FIFO, a directory) is
 * refused before any lock file is created. */
static void test_writer_lock_identity(void **state)
{
    (void)state;
    char slink[320], dirlink[320], via_dir[340], dangling[320], hard[320], fifo[320];
    snprintf(slink, sizeof slink, "%s/slink.db", tmpdir);
    snprintf(dirlink, sizeof dirlink, "%s/d", tmpdir);
    snprintf(via_dir, sizeof via_dir, "%s/d/t.db", tmpdir);
    snprintf(dangling, sizeof dangling, "%s/dangling.db", tmpdir);
    snprintf(hard, sizeof hard, "%s/hard.db", tmpdir);
    snprintf(fifo, sizeof fifo, "%s/fifo", tmpdir);
    store_error err;

    /* New database, locked before it exists: through a dangling link. */
    assert_int_equal(symlink("t.db", dangling), 0);
    int fd = store_writer_lock(dangling, &err);
    assert_true(fd >= 0);
    assert_int_equal(lock_in_child(dbpath, "another runexp"), 1);
    store_writer_unlock(fd);

    store *s = store_open(dbpath, &err);
    assert_non_null(s);
    store_close(s);
    assert_int_equal(symlink("t.db", slink), 0);
    assert_int_equal(symlink(".", dirlink), 0);
    fd = store_writer_lock(dbpath, &err);
    assert_true(fd >= 0);
    char want[700];
    snprintf(want, sizeof want, "is writing %s (%s);", slink, dbpath);
    assert_int_equal(lock_in_child(slink, want), 1);
    assert_int_equal(lock_in_child(via_dir, "another runexp"), 1);
    assert_int_equal(lock_in_child(dangling, "another runexp"), 1);
    store_writer_unlock(fd);
    fd = store_writer_lock(slink, &err);
    assert_true(fd >= 0);
    assert_int_equal(lock_in_child(dbpath, "another runexp"), 1);
    store_writer_unlock(fd);
    assert_int_equal(lock_in_child(slink, NULL), 0);
    /* No lock file beside the links: the one lock is the real file's. */
    char lp[340];
    snprintf(lp, sizeof lp, "%s.lock", slink);
    assert_int_equal(access(lp, F_OK), -1);

    /* A second name of the same file. */
    assert_int_equal(link(dbpath, hard), 0);
    assert_int_equal(store_writer_lock(hard, &err), -1);
    assert_int_equal(err.busy, 0);
    assert_non_null(strstr(err.message, "has 2 hard links"));
    assert_int_equal(store_writer_lock(dbpath, &err), -1);
    snprintf(lp, sizeof lp, "%s.lock", hard);
    assert_int_equal(access(lp, F_OK), -1);
    unlink(hard);

    /* Not regular files. */
    assert_int_equal(mkfifo(fifo, 0600), 0);
    const char *odd[] = {"/dev/null", fifo, tmpdir};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(store_writer_lock(odd[i], &err), -1);
        assert_non_null(strstr(err.message, "is not a regular file"));
        assert_null(store_open(odd[i], &err));
        assert_non_null(strstr(err.message, "is not a regular file"));
        snprintf(lp, sizeof lp, "%s.lock", odd[i]);
        assert_int_equal(access(lp, F_OK), -1);
    }
    unlink(fifo);
    unlink(slink);
    unlink(dirlink);
    unlink(dangling);
    snprintf(lp, sizeof lp, "%s-wal", dbpath);
    unlink(lp);
}

/* Sizes that would wrap are errors that roll the trial's transaction back,
 * not a short allocation written past its end: a weight of 2^62 floats
 * (n * 4 wraps to 0), a grid of 2^32 x 2^32 cells. The data pointers are
 * never read. */
static void test_finish_size_guards(void **state)
{
    (void)state;
    store_error err;
    store *s = store_open(dbpath, &err);
    assert_non_null(s);
    int64_t exp = begin_experiment(s, "big", 0);
    store_trial_plan p = {.key = "k", .params_json = "{}"};
    int64_t id;
    store_plan_action act;
    assert_int_equal(store_trials_prepare(s, exp, 1, &p, 0, &id, &act, &err), 0);
    double loss = 0.5;
    float dummy = 0;
    store_weight w = {.layer = 0, .kind = "kernel", .rows = (SIZE_MAX >> 2) + 1, .cols = 1,
                      .data = &dummy};
    store_trial_result r = {.status = STORE_DONE, .n_epochs = 1, .loss = &loss,
                            .accuracy = &loss, .val_loss_h = &loss, .val_accuracy_h = &loss,
                            .n_weights = 1, .weights = &w, .finished_at = "t"};
    assert_int_equal(store_trial_finish(s, id, &r, &err), -1);
    assert_non_null(strstr(err.message, "too large"));
    uint8_t cell = 0;
    store_grid g = {0, 1, 0, 1, (size_t)1 << 32, &cell};
    r.n_weights = 0;
    r.grid = &g;
    assert_int_equal(store_trial_finish(s, id, &r, &err), -1);
    assert_non_null(strstr(err.message, "too large"));
    store_close(s);
    assert_int_equal((int)query_num(dbpath, "SELECT COUNT(*) FROM epochs"), 0);
    assert_int_equal((int)query_num(dbpath, "SELECT COUNT(*) FROM trials WHERE status='queued'"),
                     1);
}

/* A version-3 database (tests/fixtures/results_v3.sql, as version 3 shipped
 * it) migrates to exactly the schema of a new one. Version 4 rebuilds the
 * trials table (its status CHECK gains 'pruned'): every row of it and of the
 * tables that reference it survives (with foreign keys on, dropping the old
 * table would have deleted them), ids and all, and foreign keys are on again
 * afterwards; it is readable as it is before (no predictions: an empty list). */
static void test_migrate_v3(void **state)
{
    (void)state;
    old_database("results_v3.sql",
        "INSERT INTO experiments(id, name, spec, spec_hash, created_at) VALUES"
        " (1, 'old', 'name: old', 'h', 't');"
        "INSERT INTO trials(id, experiment_id, trial_key, trial_index, point_index, seed,"
        " params, status, test_accuracy, result_hash) VALUES"
        " (7, 1, 'k7', 0, 0, 0, '{}', 'done', 0.75, 'abc'),"
        " (9, 1, 'k9', 1, 0, 1, '{}', 'interrupted', NULL, NULL);"
        "INSERT INTO trial_params VALUES (7, 'hidden', 3);"
        "INSERT INTO epochs VALUES (7, 1, 0.5, 0.6, 0.7, 0.8), (7, 2, 0.4, 0.7, 0.6, 0.9),"
        " (9, 1, 0.9, 0.5, NULL, NULL);"
        "INSERT INTO metrics VALUES (7, 'test', 'loss', 0.3);"
        "INSERT INTO weights VALUES (7, 0, 'bias', 1, 1, x'0000803f')");
    assert_int_equal((int)query_num(dbpath, "PRAGMA user_version"), 3);

    store_error err;
    store *s = store_open_readonly(dbpath, &err);
    assert_non_null(s);
    assert_int_equal(store_version_found(s), 3);
    store_prediction_list pl;
    assert_int_equal(store_predictions_read(s, 7, "test", 0, &pl, &err), 0);
    assert_int_equal(pl.n, 0);
    store_prediction_list_free(&pl);
    store_close(s);
    assert_int_equal((int)query_num(dbpath, "PRAGMA user_version"), 3);

    s = store_open(dbpath, &err);
    assert_non_null(s);
    assert_int_equal(store_version_found(s), 3);
    /* foreign keys are on again: a row of a missing trial is refused */
    assert_int_not_equal(store_exec(s, "INSERT INTO epochs VALUES (99, 1, 0, 0, 0, 0)", &err), 0);
    store_close(s);
    assert_int_equal((int)query_num(dbpath, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
    char *migrated = schema_text(dbpath);
    char fresh[320];
    snprintf(fresh, sizeof fresh, "%s/fresh.db", tmpdir);
    s = store_open(fresh, &err);
    assert_non_null(s);
    store_close(s);
    char *created = schema_text(fresh);
    assert_string_equal(migrated, created);
    assert_non_null(strstr(created, "table predictions"));
    assert_non_null(strstr(created, "'pruned'"));
    assert_non_null(strstr(created, "table prune_decisions"));
    assert_non_null(strstr(created, "table layers"));
    free(migrated);
    free(created);
    const char *sfx[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        char p[340];
        snprintf(p, sizeof p, "%s%s", fresh, sfx[i]);
        unlink(p);
    }
    assert_int_equal((int)query_num(dbpath, "SELECT COUNT(*) FROM trials"), 2);
    assert_int_equal((int)query_num(dbpath, "SELECT SUM(id) FROM trials"), 16);
    assert_double_equal(query_num(dbpath, "SELECT test_accuracy FROM trials WHERE id = 7"), 0.75, 0);
    assert_int_equal((int)query_num(dbpath, "SELECT COUNT(*) FROM epochs"), 3);
    assert_int_equal((int)query_num(dbpath, "SELECT COUNT(*) FROM metrics"), 1);
    assert_int_equal((int)query_num(dbpath, "SELECT COUNT(*) FROM weights"), 1);
    assert_int_equal((int)query_num(dbpath, "SELECT COUNT(*) FROM trial_params"), 1);
    assert_int_equal((int)query_num(dbpath, "SELECT COUNT(*) FROM trial_summary"), 2);
    assert_int_equal((int)query_num(dbpath, "SELECT n FROM sweep_summary"), 1);
    assert_int_equal((int)query_num(dbpath, "SELECT COUNT(*) FROM pragma_foreign_key_check"), 0);
    /* the new status and the search tables take rows */
    s = store_open(dbpath, &err);
    assert_non_null(s);
    assert_int_equal(store_exec(s, "UPDATE trials SET status = 'pruned' WHERE id = 9", &err), 0);
    store_rung_row row = {9, 0, 1, 0.9, 1};
    store_prune_decision d = {0, 0, 1, 0, "{}", 1, 0.9, 2, 0};
    assert_int_equal(store_prune_write(s, 1, "loss", 1, &row, 1, &d, &err), 0);
    double v;
    int known;
    store_status final;
    assert_int_equal(store_rung_value(s, 9, 0, 1, "loss", &v, &known, &final, &err), 0);
    assert_int_equal(known, 1);
    assert_int_equal(final, STORE_PRUNED);
    assert_double_equal(v, 0.9, 0);
    assert_int_equal(store_rung_value(s, 7, 1, 2, "val_loss", &v, &known, &final, &err), 0);
    assert_int_equal(known, 1); /* done: its history at epoch 2 */
    assert_int_equal(final, STORE_DONE);
    assert_double_equal(v, 0.6, 0);
    store_close(s);
    assert_int_equal((int)query_num(dbpath, "SELECT pruned_rung FROM trials WHERE id = 9"), 0);
    assert_int_equal((int)query_num(dbpath, "SELECT place FROM prune_decisions"), 2);
    assert_int_equal((int)query_num(dbpath, "SELECT COUNT(*) FROM predictions"), 0);
}

/* Predictions: one row per test row with its provenance, classes and the
 * probabilities as a JSON array of 9-digit float32 values; the
 * misclassified rows are one query away; a rewrite replaces them. */
static void test_predictions_roundtrip(void **state)
{
    (void)state;
    store_error err;
    store *s = store_open(dbpath, &err);
    assert_non_null(s);
    int64_t exp = begin_experiment(s, "p", 0);
    store_trial_plan plan = {.key = "k", .params_json = "{}"};
    int64_t id;
    store_plan_action act;
    assert_int_equal(store_trials_prepare(s, exp, 1, &plan, 0, &id, &act, &err), 0);
    uint32_t src[3] = {5, 0, 2}, aug[3] = {9, 4, 2};
    int32_t tc[3] = {1, 0, 1}, pc[3] = {1, 1, 0};
    /* 0.1f is 0x3dcccccd = 0.100000001490116..., 9 digits: 0.100000001. */
    float prob[6] = {0.25f, 0.75f, 0.1f, 0.9f, 1.0f, 1e-10f};
    store_predictions p = {"test", 3, 2, src, aug, tc, pc, prob};
    store_trial_result r = {.status = STORE_DONE, .finished_at = "t", .predictions = &p};
    assert_int_equal(store_trial_finish(s, id, &r, &err), 0);
    store_close(s);
    assert_int_equal((int)query_num(dbpath, "SELECT COUNT(*) FROM predictions"), 3);
    assert_int_equal((int)query_num(dbpath, "SELECT SUM(split = 'test') FROM predictions"), 3);
    /* Row 1: source row 0 of augmented row 4, true 0, predicted 1. */
    assert_int_equal((int)query_num(dbpath, "SELECT source_row * 100 + augmented_row * 10 +"
                                            " true_class * 2 + predicted_class FROM predictions"
                                            " WHERE split_row = 1"), 41);
    assert_int_equal((int)query_num(dbpath, "SELECT probabilities = '[0.100000001,0.899999976]'"
                                            " FROM predictions WHERE split_row = 1"), 1);
    assert_int_equal((int)query_num(dbpath, "SELECT probabilities = '[1,1.00000001e-10]'"
                                            " FROM predictions WHERE split_row = 2"), 1);
    assert_double_equal(query_num(dbpath, "SELECT json_extract(probabilities, '$[1]')"
                                          " FROM predictions WHERE split_row = 0"), 0.75, 0);
    /* Which rows are misclassified: the cookbook's query. */
    assert_int_equal((int)query_num(dbpath, "SELECT COUNT(*) * 100 + SUM(source_row)"
                                            " FROM predictions WHERE trial_id = 1"
                                            " AND true_class <> predicted_class"), 202);
    s = store_open_readonly(dbpath, &err);
    assert_non_null(s);
    store_prediction_list pl;
    assert_int_equal(store_predictions_read(s, id, "test", 1, &pl, &err), 0);
    assert_int_equal(pl.n, 2);
    assert_int_equal(pl.rows[0].split_row, 1);
    assert_int_equal(pl.rows[0].source_row, 0);
    assert_int_equal(pl.rows[0].augmented_row, 4);
    assert_int_equal(pl.rows[0].predicted_class, 1);
    assert_int_equal(pl.rows[1].source_row, 2);
    assert_int_equal(pl.rows[1].true_class, 1);
    store_prediction_list_free(&pl);
    assert_int_equal(store_predictions_read(s, id, NULL, 0, &pl, &err), 0);
    assert_int_equal(pl.n, 3);
    assert_int_equal(pl.rows[2].source_row, 2);
    store_prediction_list_free(&pl);
    assert_int_equal(store_predictions_read(s, id, "validation", 0, &pl, &err), 0);
    assert_int_equal(pl.n, 0);
    store_prediction_list_free(&pl);
    store_close(s);
    /* Rewritten without predictions: the old rows go. */
    s = store_open(dbpath, &err);
    r.predictions = NULL;
    assert_int_equal(store_trial_finish(s, id, &r, &err), 0);
    store_close(s);
    assert_int_equal((int)query_num(dbpath, "SELECT COUNT(*) FROM predictions"), 0);
}

/* A version-3 database (tests/fixtures/results_v3.sql, the schema as
 * version 3 shipped it) is readable as it is, with none of the training
 * extras, and migrates to exactly the schema of a new database; a trial
 * written then keeps its learning rates, early-stopping figures and layer
 * table, and reads them back. */
static void test_migrate_v3_extras(void **state)
{
    (void)state;
    old_database("results_v3.sql",
        "INSERT INTO experiments(id, name, spec, spec_hash, created_at) VALUES"
        " (1, 'old', 'name: old', 'h', 't');"
        "INSERT INTO trials(id, experiment_id, trial_key, trial_index, point_index, seed,"
        " params, status, test_accuracy) VALUES (1, 1, 'k', 0, 0, 0, '{}', 'done', 0.75);"
        "INSERT INTO epochs(trial_id, epoch, loss) VALUES (1, 1, 0.5)");
    assert_int_equal((int)query_num(dbpath, "PRAGMA user_version"), 3);

    store_error err;
    store *s = store_open_readonly(dbpath, &err);
    assert_non_null(s);
    assert_int_equal(store_version_found(s), 3);
    store_trial_extras x;
    assert_int_equal(store_trial_extras_read(s, 1, &x, &err), 0);
    assert_int_equal(x.n_layers, 0);
    assert_int_equal(x.n_epochs, 0);
    assert_int_equal(x.restored_best, -1);
    store_trial_extras_free(&x);
    store_close(s);
    assert_int_equal((int)query_num(dbpath, "PRAGMA user_version"), 3);

    s = store_open(dbpath, &err);
    assert_non_null(s);
    store_close(s);
    assert_int_equal((int)query_num(dbpath, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
    char *migrated = schema_text(dbpath);
    char fresh[320];
    snprintf(fresh, sizeof fresh, "%s/fresh.db", tmpdir);
    s = store_open(fresh, &err);
    assert_non_null(s);
    store_close(s);
    char *created = schema_text(fresh);
    assert_string_equal(migrated, created);
    assert_non_null(strstr(created, "table layers"));
    free(migrated);
    free(created);
    const char *sfx[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        char p[340];
        snprintf(p, sizeof p, "%s%s", fresh, sfx[i]);
        unlink(p);
    }
    /* The old rows: NULL where version 3 had nothing to say. */
    assert_int_equal((int)query_num(dbpath, "SELECT COUNT(*) FROM epochs WHERE learning_rate"
                                            " IS NULL"), 1);
    assert_int_equal((int)query_num(dbpath, "SELECT COUNT(*) FROM trials WHERE stopped_epoch IS"
                                            " NULL AND restored_best IS NULL"), 1);
    /* A trial written now. */
    s = store_open(dbpath, &err);
    assert_non_null(s);
    double loss[3] = {0.9, 0.8, 0.85}, lr[3] = {0.01, 0.005, 0.0025};
    store_layer ly[3] = {{"dense", "Dense", "(None, 4)", 12, 12},
                         {"batch_normalization", "BatchNormalization", "(None, 4)", 16, 8},
                         {"dense_1", "Dense", "(None, 2)", 10, 10}};
    store_trial_result r = {.status = STORE_DONE, .n_epochs = 3, .loss = loss,
                            .accuracy = loss, .val_loss_h = loss, .val_accuracy_h = loss,
                            .learning_rate_h = lr, .stopped_epoch = 3, .restore_asked = 1,
                            .restored_best = 1, .early_stopping_best_epoch = 2,
                            .n_layers = 3, .layers = ly, .test_accuracy = NAN,
                            .test_loss = NAN, .train_loss = NAN, .train_accuracy = NAN,
                            .val_loss = NAN, .val_accuracy = NAN, .overfit_gap = NAN,
                            .wall_ms = NAN};
    assert_int_equal(store_trial_finish(s, 1, &r, &err), 0);
    assert_int_equal(store_trial_extras_read(s, 1, &x, &err), 0);
    assert_int_equal(x.stopped_epoch, 3);
    assert_int_equal(x.early_stopping_best_epoch, 2);
    assert_int_equal(x.restored_best, 1);
    assert_int_equal(x.n_epochs, 3);
    assert_true(x.learning_rate[0] == 0.01 && x.learning_rate[2] == 0.0025);
    assert_int_equal(x.n_layers, 3);
    assert_string_equal(x.layers[1].name, "batch_normalization");
    assert_string_equal(x.layers[1].type, "BatchNormalization");
    assert_string_equal(x.layers[1].output_shape, "(None, 4)");
    assert_int_equal(x.layers[1].params, 16);
    assert_int_equal(x.layers[1].trainable_params, 8);
    store_trial_extras_free(&x);
    store_close(s);
    assert_int_equal((int)query_num(dbpath, "SELECT SUM(params) FROM layers WHERE trial_id = 1"),
                     38);
    assert_double_equal(query_num(dbpath, "SELECT learning_rate FROM epochs WHERE trial_id = 1"
                                          " AND epoch = 2"), 0.005, 0);
    assert_int_equal((int)query_num(dbpath, "SELECT restored_best FROM trials WHERE id = 1"), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_schema_created, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_newer_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_non_database, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_trial_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_big_plan_checkpoint_deferred, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_rows_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_views, setup, teardown),
        cmocka_unit_test_setup_teardown(test_busy_message, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resume_only_extends, setup, teardown),
        cmocka_unit_test_setup_teardown(test_requeue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_readonly, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_lock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_v1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_v2, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_v3, setup, teardown),
        cmocka_unit_test_setup_teardown(test_predictions_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_v3_extras, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_foreign, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_lock_identity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_finish_size_guards, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
