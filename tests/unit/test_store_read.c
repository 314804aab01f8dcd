/* Unit tests of the store's reading API (store_read.c): a database filled
 * by hand with SQL (rows chosen so that ids, seeds and sweep points are out
 * of order, with holes, NULLs, damaged rows and other splits mixed in), read
 * back through store.h and compared with the values worked out in the
 * comments. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store.h"

static void near(double got, double want, double eps, int line)
{
    if (!(fabs(got - want) <= eps)) {
        print_error("line %d: got %.17g, want %.17g (+- %g)\n", line, got, want, eps);
        fail();
    }
}
#define assert_double_equal(a, b, e) near((a), (b), (e), __LINE__)

static char tmpdir[256];
static char dbpath[300];

static void exec(store *s, const char *sql)
{
    store_error err;
    if (store_exec(s, sql, &err)) {
        print_error("SQL failed: %s\n  in: %.300s\n", err.message, sql);
        fail();
    }
}

/* Experiments:
 *   1 exp_a  spec_file specs/a.yaml, specs row with base_dir /abs/dir,
 *            sweep_dims ["lr", "hid\"den"], classes 0 cat, 2 dog
 *   2 exp_a  (newer) spec_file b.yaml, no specs row, sweep_dims not JSON
 *   3 "2"    spec_file x/y/z.yaml, no specs row, no trials
 * Trials of 1 (id: point, seed, status): 40: 1, 5, done; 7: 0, 7, done;
 * 22: 0, 2, failed; 3: 1, 1, done. */
static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_store_read.XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    snprintf(dbpath, sizeof dbpath, "%s/t.db", tmpdir);
    store_error err;
    store *s = store_open(dbpath, &err);
    if (!s)
        return -1;
    exec(s, "BEGIN");
    exec(s, "INSERT INTO specs VALUES ('h1', 'name: exp_a\n', 'specs/a.yaml', '/abs/dir')");
    exec(s, "INSERT INTO experiments(id, name, spec, spec_file, spec_hash, created_at,"
            " sweep_dims) VALUES"
            " (1, 'exp_a', 'name: exp_a\n', 'specs/a.yaml', 'h1', '2024-01-01T00:00:00Z',"
            "  '[\"lr\", \"hid\\\"den\"]'),"
            " (2, 'exp_a', 'name: exp_a # 2\n', 'b.yaml', 'h2', '2024-01-02T00:00:00Z', 'lr'),"
            " (3, '2', 'name: \"2\"\n', 'x/y/z.yaml', 'h3', '2024-01-03T00:00:00Z', '[]')");
    exec(s, "INSERT INTO classes VALUES (1, 0, 'cat'), (1, 2, 'dog')");
    exec(s, "INSERT INTO trials(id, experiment_id, trial_key, trial_index, point_index, seed,"
            " params, status, test_accuracy, test_loss, best_epoch, overfit_gap) VALUES"
            " (40, 1, 'k40', 3, 1, 5, '{\"lr\": 0.1}', 'done', 0.75, 0.5, 3, NULL),"
            " (7, 1, 'k7', 1, 0, 7, '{\"lr\": \"x\"}', 'done', 0.5, 0.9, NULL, 0.25),"
            " (22, 1, 'k22', 0, 0, 2, '{\"lr\": \"x\"}', 'failed', NULL, NULL, NULL, NULL),"
            " (3, 1, 'k3', 2, 1, 1, '{\"lr\": 0.1}', 'done', 0.25, 1.5, 2, 0.125)");
    exec(s, "INSERT INTO trial_params VALUES (40, 'lr', 0.1), (40, 'hid\"den', 4),"
            " (7, 'lr', 'x')");
    /* Epochs 1 and 3 of trial 40 (2 missing); 0 and 2000000 are out of range. */
    exec(s, "INSERT INTO epochs(trial_id, epoch, loss, accuracy, val_loss, val_accuracy) VALUES (40, 1, 1.0, 0.5, 1.1, 0.4), (40, 3, 0.5, NULL, 0.6, 0.7),"
            " (40, 0, 9, 9, 9, 9), (40, 2000000, 9, 9, 9, 9), (7, 1, 2.0, 0.25, 2.5, 0.125)");
    /* Test confusion of trial 40 (class 3 makes 4 classes; a cell of class 4
     * would be a fifth and is dropped when reading with 4); a validation
     * cell that a test read must not see. */
    exec(s, "INSERT INTO confusion VALUES (40, 'test', 0, 0, 5), (40, 'test', 0, 1, 2),"
            " (40, 'test', 3, 3, 1), (40, 'validation', 1, 1, 100)");
    exec(s, "INSERT INTO grids VALUES (40, -1, 1, -2, 2, 2, x'00010100'),"
            " (7, 0, 1, 0, 1, 3, x'00010100')"); /* 7: 4 bytes for 3 x 3, damaged */
    exec(s, "INSERT INTO metrics VALUES (40, 'test', 'recall_0', NULL),"
            " (40, 'test', 'precision_0', 0.5), (40, 'validation', 'loss', 1.0)");
    exec(s, "COMMIT");
    store_close(s);
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

static store *open_ro(void)
{
    store_error err;
    store *s = store_open_readonly(dbpath, &err);
    if (!s)
        print_error("%s\n", err.message);
    assert_non_null(s);
    return s;
}

static void test_find(void **state)
{
    (void)state;
    store *s = open_ro();
    store_error err;
    int64_t id = -1;
    assert_int_equal(store_experiment_find(s, "exp_a", &id, &err), 0);
    assert_int_equal(id, 2); /* the newest of the name */
    assert_int_equal(store_experiment_find(s, "1", &id, &err), 0);
    assert_int_equal(id, 1); /* no experiment is named "1": the id */
    assert_int_equal(store_experiment_find(s, "2", &id, &err), 0);
    assert_int_equal(id, 3); /* the name "2" wins over id 2 */
    assert_int_equal(store_experiment_find(s, NULL, &id, &err), 0);
    assert_int_equal(id, 3);
    assert_int_equal(store_experiment_find(s, "", &id, &err), 0);
    assert_int_equal(id, 3);
    assert_int_equal(store_experiment_find(s, "nope", &id, &err), 1);
    assert_non_null(strstr(err.message, "nope"));
    assert_int_equal(store_experiment_find(s, "99", &id, &err), 1);
    assert_int_equal(store_trial_experiment(s, 40, &id, &err), 0);
    assert_int_equal(id, 1);
    assert_int_equal(store_trial_experiment(s, 999, &id, &err), 1);
    assert_non_null(strstr(err.message, "999"));
    store_close(s);
}

static void test_experiment(void **state)
{
    (void)state;
    store *s = open_ro();
    store_error err;
    store_experiment_record r;
    assert_int_equal(store_experiment_load(s, 1, &r, &err), 0);
    assert_string_equal(r.name, "exp_a");
    assert_string_equal(r.spec, "name: exp_a\n");
    assert_string_equal(r.spec_file, "specs/a.yaml");
    assert_string_equal(r.base_dir, "/abs/dir"); /* the stored one, not specs/ */
    assert_string_equal(r.created_at, "2024-01-01T00:00:00Z");
    assert_int_equal(r.n_dims, 2);
    assert_string_equal(r.dims[0], "lr");
    assert_string_equal(r.dims[1], "hid\"den");
    assert_int_equal(r.n_classes, 4); /* confusion class 3 */
    assert_int_equal(r.n_class_names, 2);
    assert_int_equal(r.class_names[0].index, 0);
    assert_string_equal(r.class_names[0].name, "cat");
    assert_int_equal(r.class_names[1].index, 2);
    assert_string_equal(r.class_names[1].name, "dog");
    store_experiment_record_free(&r);
    store_experiment_record_free(&r); /* harmless twice */

    /* No specs row: the spec file's directory, "." without one. */
    assert_int_equal(store_experiment_load(s, 2, &r, &err), 0);
    assert_string_equal(r.base_dir, ".");
    assert_int_equal(r.n_dims, 0); /* "lr" is not a JSON array */
    assert_int_equal(r.n_classes, 0);
    store_experiment_record_free(&r);
    assert_int_equal(store_experiment_load(s, 3, &r, &err), 0);
    assert_string_equal(r.base_dir, "x/y");
    store_experiment_record_free(&r);
    assert_int_equal(store_experiment_load(s, 4, &r, &err), 1);
    store_experiment_record_free(&r);
    store_close(s);
}

static void test_trials(void **state)
{
    (void)state;
    store *s = open_ro();
    store_error err;
    store_trial_list l;
    store_trial_query q = {.experiment_id = 1,
                           .what = STORE_READ_PARAMS | STORE_READ_HISTORY |
                                   STORE_READ_CONFUSION | STORE_READ_GRID | STORE_READ_METRICS,
                           .split = "test",
                           .n_classes = 4};
    assert_int_equal(store_trials_read(s, &q, &l, &err), 0);
    /* By point, seed, id: (0, 2) 22, (0, 7) 7, (1, 1) 3, (1, 5) 40. */
    assert_int_equal(l.n, 4);
    static const int64_t ids[4] = {22, 7, 3, 40};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(l.rows[i].id, ids[i]);
    const store_trial_row *t22 = &l.rows[0], *t7 = &l.rows[1], *t3 = &l.rows[2],
                          *t40 = &l.rows[3];
    assert_int_equal(t22->status, STORE_FAILED);
    assert_true(isnan(t22->test_accuracy));
    assert_int_equal(t40->status, STORE_DONE);
    assert_int_equal(t40->point_index, 1);
    assert_int_equal(t40->trial_index, 3);
    assert_int_equal(t40->seed, 5);
    assert_string_equal(t40->params_json, "{\"lr\": 0.1}");
    assert_double_equal(t40->test_accuracy, 0.75, 0);
    assert_double_equal(t40->best_epoch, 3, 0);
    assert_true(isnan(t40->overfit_gap));
    assert_true(isnan(t7->best_epoch));
    assert_double_equal(t3->overfit_gap, 0.125, 0);

    /* params by name: 'hid"den' < 'lr' */
    assert_int_equal(t40->n_params, 2);
    assert_string_equal(t40->params[0].name, "hid\"den");
    assert_int_equal(t40->params[0].type, 0);
    assert_int_equal(t40->params[0].i, 4);
    assert_string_equal(t40->params[1].name, "lr");
    assert_int_equal(t40->params[1].type, 1);
    assert_double_equal(t40->params[1].r, 0.1, 0);
    assert_int_equal(t7->n_params, 1);
    assert_int_equal(t7->params[0].type, 2);
    assert_string_equal(t7->params[0].s, "x");
    assert_int_equal(t3->n_params, 0);

    /* history: epochs 1..3, epoch 2 a hole */
    assert_int_equal(t40->history.n_epochs, 3);
    assert_double_equal(t40->history.loss[0], 1.0, 0);
    assert_double_equal(t40->history.val_accuracy[0], 0.4, 0);
    assert_true(isnan(t40->history.loss[1]));
    assert_double_equal(t40->history.loss[2], 0.5, 0);
    assert_true(isnan(t40->history.accuracy[2]));
    assert_double_equal(t40->history.val_loss[2], 0.6, 0);
    assert_int_equal(t7->history.n_epochs, 1);
    assert_double_equal(t7->history.val_loss[0], 2.5, 0);
    assert_int_equal(t3->history.n_epochs, 0);

    /* test confusion, 4 x 4, rows true */
    assert_non_null(t40->confusion);
    uint32_t want[16] = {0};
    want[0 * 4 + 0] = 5;
    want[0 * 4 + 1] = 2;
    want[3 * 4 + 3] = 1;
    assert_memory_equal(t40->confusion, want, sizeof want);
    assert_null(t7->confusion);

    /* grids: trial 40's, not trial 7's damaged one */
    assert_int_equal(t40->has_grid, 1);
    assert_int_equal(t40->grid.resolution, 2);
    assert_double_equal(t40->grid.x0_min, -1, 0);
    assert_double_equal(t40->grid.x1_max, 2, 0);
    static const uint8_t g[4] = {0, 1, 1, 0};
    assert_memory_equal(t40->grid.classes, g, 4);
    assert_int_equal(t7->has_grid, 0);

    /* test metrics by name; the validation row is not read */
    assert_int_equal(t40->n_metrics, 2);
    assert_string_equal(t40->metrics[0].name, "precision_0");
    assert_double_equal(t40->metrics[0].value, 0.5, 0);
    assert_string_equal(t40->metrics[1].name, "recall_0");
    assert_true(isnan(t40->metrics[1].value));
    store_trial_list_free(&l);

    /* One trial; only what is asked for. */
    q.trial_id = 40;
    q.what = STORE_READ_HISTORY;
    assert_int_equal(store_trials_read(s, &q, &l, &err), 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.rows[0].id, 40);
    assert_int_equal(l.rows[0].history.n_epochs, 3);
    assert_int_equal(l.rows[0].n_params, 0);
    assert_null(l.rows[0].confusion);
    assert_int_equal(l.rows[0].has_grid, 0);
    store_trial_list_free(&l);
    /* A trial of another experiment gives nothing. */
    q.experiment_id = 2;
    assert_int_equal(store_trials_read(s, &q, &l, &err), 0);
    assert_int_equal(l.n, 0);
    store_trial_list_free(&l);

    /* Every split of the metrics with split NULL (and then no confusion). */
    q.experiment_id = 1;
    q.what = STORE_READ_METRICS | STORE_READ_CONFUSION;
    q.split = NULL;
    assert_int_equal(store_trials_read(s, &q, &l, &err), 0);
    assert_int_equal(l.rows[0].n_metrics, 3);
    assert_string_equal(l.rows[0].metrics[2].split, "validation");
    assert_null(l.rows[0].confusion);
    store_trial_list_free(&l);
    store_close(s);
}

static void test_summary(void **state)
{
    (void)state;
    store *s = open_ro();
    store_error err;
    store_summary sum;
    assert_int_equal(store_summary_read(s, 1, &sum, &err), 0);
    /* Done trials by params: {"lr": "x"} (point 0): 7 alone; {"lr": 0.1}
     * (point 1): 3 and 40, accuracies 0.25 and 0.75: mean 0.5, sample std
     * sqrt(2 * 0.25^2 / 1) = 0.35355339; loss 1.5 and 0.5: mean 1. */
    assert_int_equal(sum.n, 2);
    assert_int_equal(sum.rows[0].point_index, 0);
    assert_string_equal(sum.rows[0].params, "{\"lr\": \"x\"}");
    assert_int_equal(sum.rows[0].n, 1);
    assert_double_equal(sum.rows[0].test_accuracy_mean, 0.5, 1e-15);
    assert_true(isnan(sum.rows[0].test_accuracy_std));
    assert_true(isnan(sum.rows[0].best_epoch_mean));
    assert_int_equal(sum.rows[1].point_index, 1);
    assert_int_equal(sum.rows[1].n, 2);
    assert_double_equal(sum.rows[1].test_accuracy_mean, 0.5, 1e-15);
    assert_double_equal(sum.rows[1].test_accuracy_std, 0.35355339059327379, 1e-15);
    assert_double_equal(sum.rows[1].test_accuracy_min, 0.25, 0);
    assert_double_equal(sum.rows[1].test_accuracy_max, 0.75, 0);
    assert_double_equal(sum.rows[1].test_loss_mean, 1.0, 1e-15);
    assert_double_equal(sum.rows[1].best_epoch_mean, 2.5, 1e-15);
    assert_double_equal(sum.rows[1].overfit_gap_mean, 0.125, 1e-15);
    store_summary_free(&sum);
    assert_int_equal(store_summary_read(s, 3, &sum, &err), 0);
    assert_int_equal(sum.n, 0);
    store_summary_free(&sum);
    store_close(s);
}

/* store_experiments_list: counts by status, and the best point by mean test
 * accuracy with ties going to the lower point index: {"lr": 0.1} (trials
 * 40, 3: mean 0.5, point 1) ties {"lr": "x"} (trial 7: 0.5, point 0). */
static void test_list(void **state)
{
    (void)state;
    store *s = open_ro();
    store_experiment_list l;
    store_error err;
    assert_int_equal(store_experiments_list(s, &l, &err), 0);
    assert_int_equal(l.n, 3);
    assert_int_equal(l.rows[0].id, 1);
    assert_string_equal(l.rows[0].name, "exp_a");
    assert_int_equal(l.rows[0].n_trials, 4);
    assert_int_equal(l.rows[0].status_counts[STORE_DONE], 3);
    assert_int_equal(l.rows[0].status_counts[STORE_FAILED], 1);
    assert_string_equal(l.rows[0].best_params, "{\"lr\": \"x\"}");
    assert_int_equal(l.rows[0].best_n, 1);
    assert_true(l.rows[0].best_test_accuracy == 0.5);
    assert_int_equal(l.rows[2].n_trials, 0);
    assert_null(l.rows[2].best_params);
    assert_true(isnan(l.rows[2].best_test_accuracy));
    store_experiment_list_free(&l);

    store_trial_notes n;
    assert_int_equal(store_trial_notes_read(s, 1, 0, &n, &err), 0);
    assert_int_equal(n.n, 4);
    assert_int_equal(n.rows[0].id, 3); /* by id */
    const store_trial_note *t22 = store_trial_note_find(&n, 22);
    assert_non_null(t22);
    assert_int_equal(t22->status, STORE_FAILED);
    assert_null(t22->error);
    assert_null(store_trial_note_find(&n, 5));
    store_trial_notes_free(&n);

    size_t nl, in[4], units[4];
    assert_int_equal(store_trial_layer_shapes(s, 40, 4, &nl, in, units, &err), 1);
    store_close(s);
}

typedef struct collected {
    size_t n_cols, n_rows;
    char names[16][32];
    store_value_type types[8][16];
    char text[8][16][16];
    double r[8][16];
    long long i[8][16];
} collected;

static int col_header(void *user, size_t n, const char *const *names)
{
    collected *c = user;
    c->n_cols = n;
    for (size_t k = 0; k < n && k < 16; k++)
        snprintf(c->names[k], sizeof c->names[k], "%s", names[k]);
    return 0;
}

static int col_row(void *user, size_t n, const store_value *v)
{
    collected *c = user;
    if (c->n_rows < 8)
        for (size_t k = 0; k < n && k < 16; k++) {
            c->types[c->n_rows][k] = v[k].type;
            c->i[c->n_rows][k] = v[k].i;
            c->r[c->n_rows][k] = v[k].r;
            if (v[k].type == STORE_TEXT)
                snprintf(c->text[c->n_rows][k], 16, "%s", v[k].s);
        }
    c->n_rows++;
    return 0;
}

static int stop_row(void *user, size_t n, const store_value *v)
{
    (void)n;
    (void)v;
    return ++((collected *)user)->n_rows == 2;
}

/* store_export: sweep values as typed columns (a name that clashes with a
 * fixed column gets "param_"), rows by point, seed, id; a sink that stops. */
static void test_export(void **state)
{
    (void)state;
    store *s = open_ro();
    store_error err;
    static collected c;
    memset(&c, 0, sizeof c);
    const char *dims[3] = {"lr", "hid\"den", "seed"};
    store_export_sink sink = {col_header, col_row, &c};
    assert_int_equal(store_export(s, STORE_TABLE_TRIALS, 1, 3, dims, &sink, &err), 0);
    assert_int_equal(c.n_rows, 4);
    assert_string_equal(c.names[4], "seed");
    assert_string_equal(c.names[5], "lr");
    assert_string_equal(c.names[6], "hid\"den");
    assert_string_equal(c.names[7], "param_seed");
    assert_string_equal(c.names[8], "status");
    /* rows: 22 (point 0, seed 2), 7 (0, 7), 3 (1, 1), 40 (1, 5) */
    const long long ids[4] = {22, 7, 3, 40};
    for (int r = 0; r < 4; r++)
        assert_int_equal(c.i[r][1], ids[r]);
    assert_int_equal(c.types[0][5], STORE_NULL);
    assert_int_equal(c.types[1][5], STORE_TEXT);
    assert_string_equal(c.text[1][5], "x");
    assert_int_equal(c.types[3][5], STORE_REAL);
    assert_true(c.r[3][5] == 0.1);
    assert_int_equal(c.types[3][6], STORE_INTEGER);
    assert_int_equal(c.i[3][6], 4);
    assert_int_equal(c.types[3][7], STORE_NULL);
    assert_string_equal(c.text[3][8], "done");

    memset(&c, 0, sizeof c);
    store_export_sink stop = {NULL, stop_row, &c};
    assert_int_equal(store_export(s, STORE_TABLE_EPOCHS, 1, 1, dims, &stop, &err), 2);
    assert_int_equal(c.n_rows, 2);

    memset(&c, 0, sizeof c);
    assert_int_equal(store_export(s, STORE_TABLE_EXPERIMENTS, 0, 1, dims, &sink, &err), 0);
    assert_int_equal(c.n_rows, 3);
    assert_string_equal(c.names[0], "experiment_id");
    assert_int_equal(store_table_parse("confusion"), STORE_TABLE_CONFUSION);
    assert_int_equal(store_table_parse("weights"), -1);
    store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_find, setup, teardown),
        cmocka_unit_test_setup_teardown(test_experiment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trials, setup, teardown),
        cmocka_unit_test_setup_teardown(test_summary, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_export, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
