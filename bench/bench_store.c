/* bench_store: the store's write path on synthetic trials, no training:
 *   plan     store_experiment_begin + store_trials_prepare of a new plan of
 *            N trials (one sweep point per 1000 seeds, rows like the XOR
 *            lab's: a 600-byte resolved spec, one sweep value)
 *   resume   the same two calls again once every trial is done (what a
 *            rerun with nothing to do pays before it finds that out)
 *   write    store_trial_finish of N small results (5 epochs, 14 metrics, a
 *            2x2 confusion, 4 weight matrices of a 2-h-2 network), one
 *            transaction each, then in batches of 64 (store_batch_begin)
 * Prints microseconds per trial for each N, so a cost that grows with N
 * shows as a per-trial figure that grows.
 *
 * usage: bench_store DIR [N ...]   (default N: 1000 10000 50000; DIR must
 * exist; bench_store writes DIR/bench_store.db and removes it). With
 * BENCH_CPU=1 in the environment it times the process's CPU time instead of
 * the wall time (steadier on a machine shared with other jobs).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "digest.h"
#include "store.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(getenv("BENCH_CPU") ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void die(const char *what, const store_error *err)
{
    fprintf(stderr, "bench_store: %s: %s\n", what, err ? err->message : "out of memory");
    exit(1);
}

static void remove_db(const char *path)
{
    char p[4096];
    remove(path);
    snprintf(p, sizeof p, "%s-wal", path);
    remove(p);
    snprintf(p, sizeof p, "%s-shm", path);
    remove(p);
}

/* The spec text every trial row refers to (specs.spec_hash). */
#define BENCH_SPEC "name: bench_store\n"

typedef struct synth {
    size_t n, n_points;
    char (*keys)[65];
    char **point_params, **point_canonical;
    store_param *params;
    store_trial_plan *plan;
    char spec_hash[65];
} synth;

static void synth_make(synth *y, size_t n)
{
    memset(y, 0, sizeof *y);
    y->n = n;
    y->n_points = (n + 999) / 1000;
    y->keys = calloc(n, sizeof *y->keys);
    y->point_params = calloc(y->n_points, sizeof *y->point_params);
    y->point_canonical = calloc(y->n_points, sizeof *y->point_canonical);
    y->params = calloc(y->n_points, sizeof *y->params);
    y->plan = calloc(n, sizeof *y->plan);
    if (!y->keys || !y->point_params || !y->point_canonical || !y->params || !y->plan)
        die("synthetic plan", NULL);
    digest_sha256_hex(BENCH_SPEC, strlen(BENCH_SPEC), y->spec_hash);
    for (size_t p = 0; p < y->n_points; p++) {
        y->point_params[p] = malloc(48);
        y->point_canonical[p] = malloc(640);
        if (!y->point_params[p] || !y->point_canonical[p])
            die("synthetic plan", NULL);
        snprintf(y->point_params[p], 48, "{\"hidden\": %zu}", p + 1);
        int w = snprintf(y->point_canonical[p], 640, "{\"model\":{\"units\":%zu}", p + 1);
        memset(y->point_canonical[p] + w, 'x', 600 - (size_t)w);
        y->point_canonical[p][600] = '\0';
        y->params[p] = (store_param){"hidden", 0, (long long)p + 1, 0, NULL};
    }
    for (size_t i = 0; i < n; i++) {
        char text[64];
        int len = snprintf(text, sizeof text, "trial %zu", i);
        digest_sha256_hex(text, (size_t)len, y->keys[i]);
        size_t p = i / 1000;
        y->plan[i] = (store_trial_plan){y->keys[i], i, p, (uint64_t)(i % 1000),
                                        y->point_params[p], 1, &y->params[p],
                                        y->point_canonical[p], y->spec_hash};
    }
}

static void synth_free(synth *y)
{
    for (size_t p = 0; p < y->n_points; p++) {
        free(y->point_params[p]);
        free(y->point_canonical[p]);
    }
    free(y->point_params);
    free(y->point_canonical);
    free(y->params);
    free(y->plan);
    free(y->keys);
}

/* begin + prepare; returns ms. */
static double plan_once(store *s, const synth *y, int64_t *ids, store_plan_action *act)
{
    store_error err;
    const char *names[2] = {"0", "1"};
    store_experiment_info in = {
        .name = "bench_store", .spec = BENCH_SPEC, .spec_file = "bench.yaml",
        .base_dir = ".", .created_at = "2026-01-01T00:00:00.000Z", .threads = 1,
        .sweep_dims = "[\"hidden\"]", .n_classes = 2, .class_names = names,
        .n_points = y->n_points, .point_params = (const char *const *)y->point_params,
        .point_canonical = (const char *const *)y->point_canonical};
    int64_t exp;
    double t0 = now_ms();
    if (store_experiment_begin(s, &in, 0, &exp, NULL, &err))
        die("store_experiment_begin", &err);
    if (store_trials_prepare(s, exp, y->n, y->plan, 0, ids, act, &err))
        die("store_trials_prepare", &err);
    return now_ms() - t0;
}

/* Writes every trial of ids as done, in batches of `batch` (1: one
 * transaction each); returns ms. */
static double write_all(store *s, const int64_t *ids, size_t n, size_t batch)
{
    double h[4 * 5];
    for (int i = 0; i < 20; i++)
        h[i] = 0.5 + 0.01 * i;
    store_metric mt[14];
    for (int i = 0; i < 14; i++) {
        mt[i].split = i < 6 ? (i < 2 ? "train" : i < 4 ? "validation" : "test") : "test";
        snprintf(mt[i].name, sizeof mt[i].name, "m%d", i);
        mt[i].value = 0.25 * i;
    }
    uint32_t cells[4] = {70, 10, 8, 72};
    store_confusion cm = {"test", 2, cells};
    float wdata[2 * 16];
    for (int i = 0; i < 32; i++)
        wdata[i] = 0.1f * (float)i;
    store_weight wt[4] = {{0, "kernel", 2, 16, wdata}, {0, "bias", 1, 16, wdata},
                          {1, "kernel", 16, 2, wdata}, {1, "bias", 1, 2, wdata}};
    store_trial_result r = {
        .status = STORE_DONE, .n_params = 82, .epochs_run = 5, .best_epoch = 5,
        .overfit_gap = 0, .train_loss = 0.5, .train_accuracy = 0.8, .val_loss = 0.5,
        .val_accuracy = 0.8, .test_loss = 0.5, .test_accuracy = 0.8,
        .result_hash = "0000000000000000000000000000000000000000000000000000000000000000",
        .started_at = "2026-01-01T00:00:00.000Z", .finished_at = "2026-01-01T00:00:00.001Z",
        .wall_ms = 1, .n_epochs = 5, .loss = h, .accuracy = h + 5, .val_loss_h = h + 10,
        .val_accuracy_h = h + 15, .n_metrics = 14, .metrics = mt, .n_confusion = 1,
        .confusion = &cm, .n_weights = 4, .weights = wt};
    store_error err;
    double t0 = now_ms();
    for (size_t i = 0; i < n; i += batch) {
        size_t m = n - i < batch ? n - i : batch;
        if (m > 1 && store_batch_begin(s, &err))
            die("store_batch_begin", &err);
        for (size_t k = 0; k < m; k++)
            if (store_trial_finish(s, ids[i + k], &r, &err))
                die("store_trial_finish", &err);
        if (m > 1 && store_batch_commit(s, &err))
            die("store_batch_commit", &err);
    }
    return now_ms() - t0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs("usage: bench_store DIR [N ...]\n", stderr);
        return 2;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/bench_store.db", argv[1]);
    size_t def[] = {1000, 10000, 50000};
    size_t nn = argc > 2 ? (size_t)(argc - 2) : 3;
    printf("%8s  %12s  %12s  %12s  %14s  %14s\n", "trials", "plan us/tr", "plan WAL MB",
           "resume us/tr", "write 1 us/tr", "write 64 us/tr");
    for (size_t a = 0; a < nn; a++) {
        size_t n = argc > 2 ? (size_t)strtoull(argv[a + 2], NULL, 10) : def[a];
        if (n == 0)
            continue;
        synth y;
        synth_make(&y, n);
        int64_t *ids = calloc(n, sizeof *ids);
        store_plan_action *act = calloc(n, sizeof *act);
        if (!ids || !act)
            die("ids", NULL);
        store_error err;
        /* Plan, then results one transaction each for the first half and in
         * batches for the second, then a resume with everything done. */
        remove_db(path);
        store *s = store_open(path, &err);
        if (!s)
            die("store_open", &err);
        double plan = plan_once(s, &y, ids, act);
        char wal[4200];
        struct stat sb;
        snprintf(wal, sizeof wal, "%s-wal", path);
        double wal_mb = stat(wal, &sb) == 0 ? (double)sb.st_size / 1048576.0 : 0;
        double w1 = write_all(s, ids, n / 2, 1);
        double w64 = write_all(s, ids + n / 2, n - n / 2, 64);
        store_close(s);
        s = store_open(path, &err);
        if (!s)
            die("store_open", &err);
        double resume = plan_once(s, &y, ids, act);
        for (size_t i = 0; i < n; i++)
            if (act[i] != STORE_PLAN_SKIP_DONE) {
                fprintf(stderr, "bench_store: trial %zu is not done after the writes\n", i);
                return 1;
            }
        store_close(s);
        remove_db(path);
        printf("%8zu  %12.2f  %12.1f  %12.2f  %14.2f  %14.2f\n", n, 1e3 * plan / (double)n,
               wal_mb, 1e3 * resume / (double)n, 1e3 * w1 / (double)(n / 2 ? n / 2 : 1),
               1e3 * w64 / (double)(n - n / 2));
        fflush(stdout);
        free(ids);
        free(act);
        synth_free(&y);
    }
    return 0;
}
