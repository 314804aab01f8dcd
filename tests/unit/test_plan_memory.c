/* test_plan_memory: the memory estimate of a trial against a count made by
 * hand, a plan's trials at once and shared data, the available memory from
 * meminfo and cgroup files, --max-memory sizes, and the budget check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nn.h"
#include "plan_memory.h"
#include "spec.h"
#include "sweep.h"

/* The experiment counted by hand below: XOR (4 rows, 2 features, 2
 * classes) repeated 10 times, 10 test rows, 10 validation rows, so 20
 * training rows; 2 -> Dense(3, tanh) -> Dense(2, sigmoid), mean squared
 * error, batch 8 (the model is built for 32 rows), 5 epochs; confusion
 * matrices of validation and test; a 10 x 10 grid. */
static void small_experiment(spec_experiment *e)
{
    memset(e, 0, sizeof *e);
    e->data.source = SPEC_SOURCE_XOR;
    e->data.n_rows = 4;
    e->data.n_features = 2;
    e->data.n_classes = 2;
    e->data.pipeline.repeat = 10;
    e->data.pipeline.test.test = (data_size){1, 1, 10};
    e->data.pipeline.test.shuffle = 1;
    e->data.pipeline.validation.test = (data_size){1, 1, 10};
    e->data.pipeline.validation.shuffle = 1;
    e->model.n_inputs = 2;
    e->model.n_layers = 2;
    e->model.layers[0] = (nn_layer_config){.units = 3, .activation = NN_ACT_TANH, .bias_init = NN_INIT_ZEROS};
    e->model.layers[1] = (nn_layer_config){.units = 2, .activation = NN_ACT_SIGMOID, .bias_init = NN_INIT_ZEROS};
    e->model.loss = NN_LOSS_MEAN_SQUARED_ERROR;
    nn_optimizer_defaults(&e->model.optimizer, NN_OPT_ADAM);
    e->training.epochs = 5;
    e->training.batch_size = 8;
    e->training.shuffle = 1;
    e->record.confusion_validation = 1;
    e->record.confusion_test = 1;
    e->record.grid = 1;
    e->record.grid_resolution = 10;
}

static void test_trial_by_hand(void **state)
{
    (void)state;
    spec_experiment e;
    small_experiment(&e);
    /* A trial no longer holds its splits (they are the run's, shared; see
     * test_pipeline_by_hand). History: 5 epochs x 48 bytes (epoch number +
     * 5 doubles) = 240.
     * Training and evaluation: the model M (nn_model_bytes_for, counted by
     * hand in test_nn) + epoch order 20 x 4 + row classes 30 x 4 = M + 200.
     * The result: 17 parameters (2*3 + 3 + 3*2 + 2) x 4 = 68, history 240,
     * two confusion matrices 2 x 2 x 4 x 2 = 32, per-class figures 2 x (3 x
     * 8 + 4) = 56, the grid 100 bytes: 496. Evaluation: predictions of the
     * largest split 20 x 2 x 4 = 160, a confusion matrix 16, validation
     * losses 5 x 8 = 40: 216. The grid's 100 points x (2 coordinates x 4 +
     * class 4 + 2 scores x 4) = 2000. Sum: M + 200 + 496 + 216 + 2000 =
     * M + 2912.
     * Then the result alone: 496 + a 68-byte blob = 564.
     * The peak is training, plus 1 MiB of slack. */
    size_t M = nn_model_bytes_for(&e.model, 32);
    assert_true(M > 0);
    assert_int_equal(plan_memory_trial(&e), (uint64_t)M + 2912 + 1048576);
    /* record.predictions: the 10 test rows kept in the result, each two
     * row indices and two classes (16 bytes) and 2 probabilities (8). */
    e.record.predictions = 1;
    assert_int_equal(plan_memory_trial(&e), (uint64_t)M + 2912 + 240 + 1048576);
    e.record.predictions = 0;
    /* the shared source: 4 rows x 12 + 256 names */
    assert_int_equal(plan_memory_source(&e), 304);

    /* No grid without two inputs' worth of it, no matrices without
     * recording: 2000 + 100 + 32 fewer. */
    e.record.grid = 0;
    e.record.confusion_validation = e.record.confusion_test = 0;
    assert_int_equal(plan_memory_trial(&e), (uint64_t)M + 2912 - 2132 + 1048576);

    /* A larger batch builds the model for it. */
    e.training.batch_size = 100;
    assert_int_equal(plan_memory_trial(&e),
                     (uint64_t)nn_model_bytes_for(&e.model, 100) + 2912 - 2132 + 1048576);

    /* One sigmoid unit: the class of each of the 40 split rows as a float
     * target, 160 bytes; the model has 4 parameters fewer (16 bytes less
     * of final weights), its own size is nn_model_bytes_for's. */
    e.model.layers[1].units = 1;
    assert_int_equal(plan_memory_trial(&e),
                     (uint64_t)nn_model_bytes_for(&e.model, 100) + 2912 - 2132 + 160 - 16 +
                         1048576);
}

static void test_pipeline_by_hand(void **state)
{
    (void)state;
    spec_experiment e;
    small_experiment(&e);
    uint64_t held;
    /* The 40 tiled rows split 20 / 10 / 10. A set of r rows is 12 r bytes
     * plus 256 of names. Extras: one-hot targets 40 x 2 x 4 = 320, the
     * scaler 2 x 16 = 32, provenance 40 x 4 = 160: 512. A copy holds the
     * three sets, 480 + 3 x 256 = 1248, and the extras: 1760. Choosing the
     * rows: 16 x 40 = 640, and for the validation split 20 x 30 = 600:
     * 1240. Augmenting: the 40 rows (736), and while tiling the source
     * copy (48 + 256 = 304) beside them: 1040. The peak: the augmented
     * rows while the sets and the provenance are taken from them, 736 +
     * 1248 + 160 = 2144 (the one-hot targets and the scaler are made once
     * the augmented rows are freed). */
    assert_int_equal(plan_memory_pipeline(&e, 0, &held), 2144);
    assert_int_equal(held, 1760);
    /* The same 40 rows as the source itself, not repeated: no augmented
     * rows, the copy alone at its peak; in place only the extras are held,
     * and the peak is choosing the rows (1240; ordering them is 4 x 40 +
     * 8 x 40 + 40 / 8 + 1 + 2 x 4 = 494). */
    e.data.n_rows = 40;
    e.data.pipeline.repeat = 1;
    assert_int_equal(plan_memory_pipeline(&e, 0, &held), 1760);
    assert_int_equal(held, 1760);
    assert_int_equal(plan_memory_pipeline(&e, 1, &held), 1240);
    assert_int_equal(held, 512);
    /* noise makes augmented rows again: 736 + 1408 */
    e.data.pipeline.noise = 0.1;
    assert_int_equal(plan_memory_pipeline(&e, 0, &held), 2144);
}
static void test_trial_huge(void **state)
{
    (void)state;
    spec_experiment e;
    small_experiment(&e);
    /* two hidden layers of 30 000: 2*30000 + 30000 + 30000^2 + 30000 +
     * 30000*2 + 2 parameters, 16 bytes each in the model (parameters,
     * gradients, two Adam moments) + 4 for the final weights */
    e.model.n_layers = 3;
    e.model.layers[0].units = 30000;
    e.model.layers[1] = e.model.layers[0];
    e.model.layers[2] = (nn_layer_config){.units = 2, .activation = NN_ACT_SOFTMAX, .bias_init = NN_INIT_ZEROS};
    e.model.loss = NN_LOSS_CATEGORICAL_CROSSENTROPY;
    uint64_t np = 2 * 30000 + 30000 + 30000ull * 30000 + 30000 + 30000 * 2 + 2;
    uint64_t t = plan_memory_trial(&e);
    assert_true(t >= 20 * np);
    assert_true(t < 21 * np);
    /* sizes that overflow saturate */
    e.data.pipeline.repeat = 100000;
    e.data.n_rows = SIZE_MAX / 2;
    assert_int_equal(plan_memory_trial(&e), UINT64_MAX);
}

static const char *plan_spec =
    "name: t\n"
    "data: {source: xor, augment: {repeat: 10}}\n"
    "model:\n"
    "  layers:\n"
    "    - {units: 3, activation: relu}\n"
    "    - {units: classes, activation: softmax}\n"
    "training: {loss: categorical_crossentropy, optimizer: adam, epochs: 2}\n"
    "seeds: 2\n"
    "sweep:\n"
    "  hidden:\n"
    "    path: model.layers[0].units\n"
    "    values: [3, 400]\n";

/* The plan of the spec text. */
static void build_plan(sweep_plan *p, const char *spec)
{
    spec_diagnostics d;
    spec_diagnostics_init(&d);
    spec_document *doc = spec_document_parse(spec, strlen(spec), "t.yaml", "", &d);
    if (!doc)
        spec_diagnostics_print(&d, stderr);
    assert_non_null(doc);
    assert_int_equal(sweep_plan_build(doc, p, &d), 0);
    spec_document_free(doc);
    spec_diagnostics_free(&d);
}

static void test_plan(void **state)
{
    (void)state;
    sweep_plan p;
    build_plan(&p, plan_spec);
    assert_int_equal(p.n_trials, 4);
    assert_int_equal(p.points[0].spec.data.n_rows, 4); /* from the spec */
    uint64_t small = plan_memory_trial(&p.points[0].spec);
    uint64_t big = plan_memory_trial(&p.points[1].spec);
    assert_true(big > small);
    plan_memory pm;
    /* 3 at once: both trials of the larger point, one of the smaller */
    assert_int_equal(plan_memory_estimate(&p, 3, &pm), 0);
    assert_int_equal(pm.n_trials, 4);
    assert_int_equal(pm.at_once, 3);
    assert_int_equal(pm.trial_min, small);
    assert_int_equal(pm.trial_max, big);
    assert_int_equal(pm.trials, 2 * big + small);
    /* One source (xor, 4 rows: 304 bytes, see above), runexp itself and
     * the data splits. The default split shuffles with seeds drawn from
     * the data seed: two pipelines (seeds 0 and 1), each shared by both
     * points, copies (two pipelines read the source). One of them: the 40
     * tiled rows split 30 / 10 (ceil(0.25 x 40)); a copy holds the sets
     * (480 + 3 x 256 names = 1248), the one-hot targets (320), the scaler
     * (32) and the provenance (160): 1760, both at once 3520. Building
     * one needs 2144 at its peak (as in test_pipeline_by_hand), 384 more
     * than it keeps: less than the trial of the worker building it (1 MiB
     * of slack alone), so it adds nothing. */
    assert_int_equal(pm.sources, 304);
    assert_int_equal(pm.n_pipelines, 2);
    assert_int_equal(pm.n_in_place, 0);
    assert_int_equal(pm.pipelines, 3520);
    assert_int_equal(pm.shared, PLAN_MEMORY_PROGRAM + 304 + 3520);
    assert_int_equal(pm.total, pm.trials + pm.shared);
    /* more jobs than trials: every trial, still two pipelines */
    assert_int_equal(plan_memory_estimate(&p, 64, &pm), 0);
    assert_int_equal(pm.at_once, 4);
    assert_int_equal(pm.trials, 2 * big + 2 * small);
    assert_int_equal(pm.pipelines, 3520);
    /* one trial at a time: one copy per worker, but both are kept (3520
     * bytes, far below PLAN_MEMORY_SPLITS_KEPT) */
    assert_int_equal(plan_memory_estimate(&p, 1, &pm), 0);
    assert_int_equal(pm.trials, big);
    assert_int_equal(pm.pipelines, 3520);

    /* The budget: refused below the estimate, with the figures. */
    char buf[4096];
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(plan_memory_guard(&p, 1, 2, 1024, f), 1);
    rewind(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    char want[64];
    plan_memory_format(2 * big + PLAN_MEMORY_PROGRAM + 304 + 3520, want, sizeof want);
    assert_non_null(strstr(buf, want));
    assert_non_null(strstr(buf, "1.0 KiB of the budget set with --max-memory"));
    assert_non_null(strstr(buf, "2 trials at once"));
    f = tmpfile();
    assert_non_null(f);
    assert_int_equal(plan_memory_guard(&p, 1, 2, 2 * big + PLAN_MEMORY_PROGRAM + 304 + 3520, f),
                     0);
    assert_int_equal(ftell(f), 0); /* nothing said when it fits */
    fclose(f);
    /* two plans run one after the other: both datasets, the larger trials
     * and data splits (one plan's at a time) */
    sweep_plan two[2];
    two[0] = p;
    two[1] = p;
    f = tmpfile();
    assert_non_null(f);
    assert_int_equal(plan_memory_guard(two, 2, 2, 2 * big + PLAN_MEMORY_PROGRAM + 304 + 3520, f),
                     1);
    assert_int_equal(plan_memory_guard(two, 2, 2, 2 * big + PLAN_MEMORY_PROGRAM + 608 + 3520, f),
                     0);
    fclose(f);
    sweep_plan_free(&p);
}

/* random_state: one pipeline for every trial of the digits, held in the
 * dataset's own rows. */
static const char shared_spec[] =
    "name: t\n"
    "data: {source: digits, split: {test: 0.25, random_state: 0}}\n"
    "model:\n"
    "  layers:\n"
    "    - {units: 3, activation: relu}\n"
    "    - {units: classes, activation: softmax}\n"
    "training: {loss: categorical_crossentropy, optimizer: adam, epochs: 2}\n"
    "seeds: 2\n"
    "sweep:\n"
    "  hidden:\n"
    "    path: model.layers[0].units\n"
    "    values: [3, 400]\n";

static void test_plan_in_place(void **state)
{
    (void)state;
    sweep_plan p;
    build_plan(&p, shared_spec);
    plan_memory pm;
    assert_int_equal(plan_memory_estimate(&p, 2, &pm), 0);
    /* 1797 rows of 64 pixels, 10 classes: the source is 1797 x (256 + 4)
     * + 74 names x 64 = 467220 + 4736 = 471956 bytes. The pipeline adds
     * one-hot targets 1797 x 10 x 4 = 71880, the scaler 64 x 16 = 1024
     * and provenance 1797 x 4 = 7188: 80092, more than choosing the rows
     * (16 x 1797 = 28752) or ordering them (4 x 1797 + 8 x 1797 + 1797 / 8
     * + 1 + 64 x 4 = 22045). */
    assert_int_equal(pm.sources, 471956);
    assert_int_equal(pm.n_pipelines, 1);
    assert_int_equal(pm.n_in_place, 1);
    assert_int_equal(pm.pipelines, 80092);
    assert_int_equal(pm.shared, PLAN_MEMORY_PROGRAM + 471956 + 80092);
    /* a pruned search reads the dataset rung after rung: a copy, the
     * three sets (1797 x 260 + 3 x 4736 = 481428) and the extras */
    p.search.prune.enabled = 1;
    assert_int_equal(plan_memory_estimate(&p, 2, &pm), 0);
    assert_int_equal(pm.n_in_place, 0);
    assert_int_equal(pm.pipelines, 481428 + 80092);
    sweep_plan_free(&p);
}

/* The digits tiled 10 times, a shuffled split per seed: two copies, each
 * built from 17 970 augmented rows. */
static const char tiled_spec[] =
    "name: t\n"
    "data: {source: digits, augment: {repeat: 10}}\n"
    "model:\n"
    "  layers:\n"
    "    - {units: 3, activation: relu}\n"
    "    - {units: classes, activation: softmax}\n"
    "training: {loss: categorical_crossentropy, optimizer: adam, epochs: 2}\n"
    "seeds: 2\n";

static void test_plan_building(void **state)
{
    (void)state;
    sweep_plan p;
    build_plan(&p, tiled_spec);
    /* 17 970 rows split 13 477 / 4 493 (ceil(0.25 x 17 970)); a set of r
     * rows is 260 r + 4736 names. A copy keeps the sets (4 672 200 + 3 x
     * 4736 = 4 686 408), one-hot targets 17 970 x 40 = 718 800, the scaler
     * 1024 and provenance 71 880: 5 478 112. Building it holds the
     * augmented rows (4 676 936) while the sets and the provenance are
     * taken from them (4 758 288): 9 435 224, that is 3 957 112 more than
     * it keeps; more than a trial here, which starts only when the build
     * is done, so the difference counts once per worker. */
    uint64_t t = plan_memory_trial(&p.points[0].spec);
    assert_true(t < 3957112);
    plan_memory pm;
    assert_int_equal(plan_memory_estimate(&p, 2, &pm), 0);
    assert_int_equal(pm.n_pipelines, 2);
    assert_int_equal(pm.trials, 2 * t);
    assert_int_equal(pm.pipelines, 2 * 5478112 + 2 * (3957112 - t));
    /* one worker: both copies still kept (2 x 5 478 112, less than
     * PLAN_MEMORY_SPLITS_KEPT), one build at a time */
    assert_true(2 * 5478112 < PLAN_MEMORY_SPLITS_KEPT);
    assert_int_equal(plan_memory_estimate(&p, 1, &pm), 0);
    assert_int_equal(pm.pipelines, 2 * 5478112 + (3957112 - t));
    assert_int_equal(pm.total, PLAN_MEMORY_PROGRAM + 471956 + 2 * 5478112 + 3957112);
    sweep_plan_free(&p);
}

static void test_parse_size(void **state)
{
    (void)state;
    uint64_t v = 0;
    assert_int_equal(plan_memory_parse_size("1048576", &v), 0);
    assert_int_equal(v, 1048576);
    assert_int_equal(plan_memory_parse_size("512M", &v), 0);
    assert_int_equal(v, 512ull << 20);
    assert_int_equal(plan_memory_parse_size("4G", &v), 0);
    assert_int_equal(v, 4ull << 30);
    assert_int_equal(plan_memory_parse_size("1.5G", &v), 0);
    assert_int_equal(v, 3ull << 29);
    assert_int_equal(plan_memory_parse_size("2k", &v), 0);
    assert_int_equal(v, 2048);
    assert_int_equal(plan_memory_parse_size("3MiB", &v), 0);
    assert_int_equal(v, 3ull << 20);
    assert_int_equal(plan_memory_parse_size("1tb", &v), 0);
    assert_int_equal(v, 1ull << 40);
    assert_int_equal(plan_memory_parse_size("0.5K", &v), 0);
    assert_int_equal(v, 512);
    const char *bad[] = {"",    "G",  "abc", "12X", "0",   "0M",  "-1",   "+1",  " 1",
                         "1 G", "1e9", "1.5", "1.G", ".5G", "1GG", "1GiBx", "18446744073709551616",
                         "16777216T"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = 7;
        if (plan_memory_parse_size(bad[i], &v) == 0)
            fail_msg("'%s' accepted as %llu", bad[i], (unsigned long long)v);
        assert_int_equal(v, 7);
    }
    assert_int_equal(plan_memory_parse_size(NULL, &v), -1);
}

static void test_format(void **state)
{
    (void)state;
    char b[32];
    plan_memory_format(512, b, sizeof b);
    assert_string_equal(b, "512 B");
    plan_memory_format(1536, b, sizeof b);
    assert_string_equal(b, "1.5 KiB");
    plan_memory_format(14ull << 30, b, sizeof b);
    assert_string_equal(b, "14.0 GiB");
    plan_memory_format(UINT64_MAX, b, sizeof b);
    assert_string_equal(b, "16.0 EiB");
}

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_available(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_plan_memory.XXXXXX", p[256], mi[256], cg[256], root[256];
    assert_non_null(mkdtemp(dir));
    snprintf(mi, sizeof mi, "%s/meminfo", dir);
    snprintf(cg, sizeof cg, "%s/cgroup", dir);
    snprintf(root, sizeof root, "%s/fs", dir);
    put(mi, "MemTotal:       32000000 kB\nMemFree:         1000 kB\n"
            "MemAvailable:    2000000 kB\nBuffers: 5 kB\n");
    uint64_t v = 0;
    char what[64];
    /* meminfo alone */
    assert_int_equal(plan_memory_available_from(mi, NULL, NULL, &v, what, sizeof what), 0);
    assert_int_equal(v, 2000000ull * 1024);
    assert_string_equal(what, "MemAvailable in /proc/meminfo");
    /* the cgroup /a/b: no limit of its own ("max"), 1 GiB on /a, none at the root */
    snprintf(p, sizeof p, "%s/fs", dir);
    assert_int_equal(mkdir(p, 0700), 0);
    snprintf(p, sizeof p, "%s/fs/a", dir);
    assert_int_equal(mkdir(p, 0700), 0);
    snprintf(p, sizeof p, "%s/fs/a/b", dir);
    assert_int_equal(mkdir(p, 0700), 0);
    snprintf(p, sizeof p, "%s/fs/a/b/memory.max", dir);
    put(p, "max\n");
    snprintf(p, sizeof p, "%s/fs/a/memory.max", dir);
    put(p, "1073741824\n");
    put(cg, "12:memory:/other\n0::/a/b\n");
    assert_int_equal(plan_memory_available_from(mi, cg, root, &v, what, sizeof what), 0);
    assert_int_equal(v, 1073741824ull);
    assert_string_equal(what, "the cgroup's memory.max");
    /* a limit above MemAvailable: MemAvailable */
    put(p, "9000000000000\n");
    assert_int_equal(plan_memory_available_from(mi, cg, root, &v, what, sizeof what), 0);
    assert_int_equal(v, 2000000ull * 1024);
    /* the lowest limit on the way up counts, the root's too (a container) */
    snprintf(p, sizeof p, "%s/fs/memory.max", dir);
    put(p, "4096\n");
    assert_int_equal(plan_memory_available_from(mi, cg, root, &v, what, sizeof what), 0);
    assert_int_equal(v, 4096);
    /* no meminfo: the cgroup alone; neither: unknown */
    snprintf(p, sizeof p, "%s/none", dir);
    assert_int_equal(plan_memory_available_from(p, cg, root, &v, what, sizeof what), 0);
    assert_int_equal(v, 4096);
    assert_int_equal(plan_memory_available_from(p, p, root, &v, what, sizeof what), -1);
    put(mi, "MemTotal: 5 kB\n"); /* no MemAvailable line */
    assert_int_equal(plan_memory_available_from(mi, NULL, NULL, &v, what, sizeof what), -1);
    /* this machine: something is known on Linux */
    assert_int_equal(plan_memory_available(&v, NULL, 0), 0);
    assert_true(v > 0);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trial_by_hand), cmocka_unit_test(test_pipeline_by_hand),
        cmocka_unit_test(test_trial_huge),
        cmocka_unit_test(test_plan),          cmocka_unit_test(test_plan_in_place),
        cmocka_unit_test(test_plan_building),          cmocka_unit_test(test_parse_size),
        cmocka_unit_test(test_format),        cmocka_unit_test(test_available),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
