/* Unit tests of the trial loop's writer (run_loop.c): results committed in
 * batches are the results committed one by one, the number of results
 * waiting for the writer stays within its bound (back-pressure), and when a
 * write fails inside a batch the counts say exactly what the database
 * holds. Each test plans a small XOR sweep of short trials and runs
 * run_loop against a database in a temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "run_internal.h"

/* 48 trials of 2 epochs on 40 rows: about a millisecond each, so the
 * writer gathers their results into batches. */
static const char spec_text[] =
    "name: loop_test\n"
    "data:\n"
    "  source: xor\n"
    "  augment: {repeat: 10, noise: 0.3}\n"
    "  split: {test: 0.25}\n"
    "model:\n"
    "  layers:\n"
    "    - {units: 3, activation: relu}\n"
    "    - {units: 2, activation: softmax}\n"
    "training: {loss: categorical_crossentropy, optimizer: adam, epochs: 2, batch_size: 8}\n"
    "seeds: 24\n"
    "sweep:\n"
    "  hidden: {path: \"model.layers[0].units\", values: [2, 3]}\n";
#define N_TRIALS 48

typedef struct fixture {
    char dir[64], path[128];
    spec_document *doc;
    sweep_plan plan;
    run_record rec;
    store *db;
    int64_t ids[N_TRIALS];
    store_plan_action act[N_TRIALS];
    size_t pending[N_TRIALS];
} fixture;

static void fixture_open(fixture *f)
{
    memset(f, 0, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/test_run_loop.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/r.db", f->dir);
    spec_diagnostics d;
    spec_diagnostics_init(&d);
    f->doc = spec_document_parse(spec_text, strlen(spec_text), "loop_test.yaml", ".", &d);
    assert_non_null(f->doc);
    assert_int_equal(sweep_plan_build(f->doc, &f->plan, &d), 0);
    spec_diagnostics_free(&d);
    assert_int_equal(f->plan.n_trials, N_TRIALS);
    assert_int_equal(run_plan_load_data(&f->plan, stderr), 0);
    store_error err;
    f->db = store_open(f->path, &err);
    assert_non_null(f->db);
    assert_int_equal(run_record_make(&f->rec, f->doc, &f->plan, sweep_plan_dataset(&f->plan, 0),
                                     2),
                     0);
    int64_t exp;
    assert_int_equal(store_experiment_begin(f->db, &f->rec.info, 0, &exp, NULL, &err), 0);
    assert_int_equal(store_trials_prepare(f->db, exp, N_TRIALS, f->rec.trials, 0, f->ids, f->act,
                                          &err),
                     0);
    for (size_t i = 0; i < N_TRIALS; i++)
        f->pending[i] = i;
}

static void fixture_close(fixture *f)
{
    char p[160];
    store_close(f->db);
    run_record_free(&f->rec);
    sweep_plan_free(&f->plan);
    spec_document_free(f->doc);
    const char *tails[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", f->path, tails[i]);
        remove(p);
    }
    rmdir(f->dir);
}

/* The result hash of every trial, in plan order (NULL when not done). */
static void read_hashes(fixture *f, char hashes[N_TRIALS][65], int done[N_TRIALS])
{
    store_error err;
    for (size_t i = 0; i < N_TRIALS; i++) {
        store_trial_record r;
        memset(&r, 0, sizeof r);
        assert_int_equal(store_trial_load(f->db, f->ids[i], &r, &err), 0);
        done[i] = r.status == STORE_DONE;
        snprintf(hashes[i], 65, "%s", r.result_hash ? r.result_hash : "");
        store_trial_record_free(&r);
    }
}

static run_counts run(fixture *f, int jobs, size_t max_waiting)
{
    run_loop_job job = {.plan = &f->plan, .pending = f->pending, .n_pending = N_TRIALS,
                        .ids = f->ids, .db = f->db, .jobs = jobs, .quiet = 1, .err = stderr,
                        .max_waiting = max_waiting};
    run_counts c;
    assert_int_equal(run_loop(&job, &c), 0);
    return c;
}

/* Batches of many results, batches of at most 2, and -j 1 with one result
 * at a time give the same results, every trial done. */
static void test_batches_same_results(void **state)
{
    (void)state;
    static char h[3][N_TRIALS][65];
    int done[N_TRIALS];
    const int jobs[3] = {2, 2, 1};
    const size_t wait[3] = {0, 2, 1};
    for (int k = 0; k < 3; k++) {
        fixture f;
        fixture_open(&f);
        run_counts c = run(&f, jobs[k], wait[k]);
        assert_false(c.store_failed);
        assert_int_equal(c.finished, N_TRIALS);
        assert_int_equal(c.n_done, N_TRIALS);
        read_hashes(&f, h[k], done);
        for (size_t i = 0; i < N_TRIALS; i++) {
            assert_true(done[i]);
            assert_int_equal(strlen(h[k][i]), 64);
        }
        if (k)
            for (size_t i = 0; i < N_TRIALS; i++)
                assert_string_equal(h[k][i], h[0][i]);
        fixture_close(&f);
    }
}

/* Back-pressure: with room for 3 waiting results (fewer than a batch of
 * short trials gathers), no more than 3 ever wait, and the writer still
 * records every trial, in more than one transaction and fewer than one per
 * trial and mark. */
static void test_waiting_bounded(void **state)
{
    (void)state;
    for (int jobs = 1; jobs <= 2; jobs++) {
        fixture f;
        fixture_open(&f);
        run_counts c = run(&f, jobs, 3);
        assert_false(c.store_failed);
        assert_int_equal(c.n_done, N_TRIALS);
        assert_true(c.most_waiting >= 1);
        assert_true(c.most_waiting <= 3);
        assert_true(c.n_commits > 1);
        assert_true(c.n_commits < 2 * N_TRIALS);
        fixture_close(&f);
    }
}

/* A write that fails inside a batch (a trigger refuses trial 30's result):
 * the batch is rolled back whole, the run stops, and the counts are
 * exactly the trials the database holds as finished; trial 30 is not one. */
static void test_failed_batch_counts(void **state)
{
    (void)state;
    for (int jobs = 1; jobs <= 2; jobs++) {
        fixture f;
        fixture_open(&f);
        store_error err;
        char sql[256];
        snprintf(sql, sizeof sql,
                 "CREATE TRIGGER refuse BEFORE UPDATE OF status ON trials"
                 " WHEN NEW.status = 'done' AND NEW.id = %lld"
                 " BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
                 (long long)f.ids[30]);
        assert_int_equal(store_exec(f.db, sql, &err), 0);
        /* Trial 30 runs among the first (costliest first: the 3-unit point,
         * trials 24..47, starts before the 2-unit one). */
        run_counts c = run(&f, jobs, 0);
        assert_true(c.store_failed);
        assert_non_null(strstr(c.store_err.message, "refused by the test"));
        static char h[N_TRIALS][65];
        int done[N_TRIALS];
        read_hashes(&f, h, done);
        size_t n_done = 0;
        for (size_t i = 0; i < N_TRIALS; i++)
            n_done += (size_t)done[i];
        assert_false(done[30]);
        assert_int_equal(c.n_done, n_done);
        assert_int_equal(c.finished, n_done);
        assert_true(n_done < N_TRIALS);
        fixture_close(&f);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batches_same_results),
        cmocka_unit_test(test_waiting_bounded),
        cmocka_unit_test(test_failed_batch_counts),
    };
    return cmocka_run_group_tests_name("run_loop", tests, NULL, NULL);
}
