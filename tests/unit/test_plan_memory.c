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
    /* A set of r rows: 4 * 2 feature bytes + 4 label bytes = 12 r, plus
     * (2 feature + 2 class) names x 64 = 256. History: 5 epochs x 48 bytes
     * (epoch number + 5 doubles) = 240.
     *
     * Phase 1, the pipeline: the 40-row working set, the 30-row rest and
     * the 10-row test side, 16 bytes of index arrays per working row and 4
     * of provenance:
     *   (480 + 256) + (360 + 256) + (120 + 256) + 640 + 160 = 2528, +
     *   history 240 = 2768 (augmenting holds only (48 + 256) + (480 + 256)
     *   = 1040).
     * Phase 2: the three splits (40 rows, three name copies) 480 + 768 =
     * 1248, one-hot targets 40 x 2 x 4 = 320, scaler 2 x 16 = 32, the rows'
     * provenance 40 x 4 = 160: 1760. The
     * model M (nn_model_bytes_for, counted by hand in test_nn) + epoch
     * order 20 x 4 + row classes 30 x 4 = M + 200. The result: 17
     * parameters (2*3 + 3 + 3*2 + 2) x 4 = 68, history 240, two confusion
     * matrices 2 x 2 x 4 x 2 = 32, per-class figures 2 x (3 x 8 + 4) = 56,
     * the grid 100 bytes: 496. Evaluation: predictions of the largest
     * split 20 x 2 x 4 = 160, a confusion matrix 16, validation losses 5 x
     * 8 = 40: 216. The grid's 100 points x (2 coordinates x 4 + class 4 +
     * 2 scores x 4) = 2000. Sum: 1760 + M + 200 + 496 + 216 + 2000
     * = M + 4672.
     * Phase 3: the result 496 + a 68-byte blob = 564.
     * The peak is phase 2, plus 1 MiB of slack. */
    size_t M = nn_model_bytes_for(&e.model, 32);
    assert_true(M > 0);
    assert_int_equal(plan_memory_trial(&e), (uint64_t)M + 4672 + 1048576);
    /* record.predictions: the 10 test rows kept in the result, each two
     * row indices and two classes (16 bytes) and 2 probabilities (8). */
    e.record.predictions = 1;
    assert_int_equal(plan_memory_trial(&e), (uint64_t)M + 4672 + 240 + 1048576);
    e.record.predictions = 0;
    /* the shared source: 4 rows x 12 + 256 names */
    assert_int_equal(plan_memory_source(&e), 304);

    /* No grid without two inputs' worth of it, no matrices without
     * recording: 2000 + 100 + 32 fewer. */
    e.record.grid = 0;
    e.record.confusion_validation = e.record.confusion_test = 0;
    assert_int_equal(plan_memory_trial(&e), (uint64_t)M + 4672 - 2132 + 1048576);

    /* A larger batch builds the model for it. */
    e.training.batch_size = 100;
    assert_int_equal(plan_memory_trial(&e),
                     (uint64_t)nn_model_bytes_for(&e.model, 100) + 4672 - 2132 + 1048576);
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

static void build_plan(sweep_plan *p)
{
    spec_diagnostics d;
    spec_diagnostics_init(&d);
    spec_document *doc = spec_document_parse(plan_spec, strlen(plan_spec), "t.yaml", "", &d);
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
    build_plan(&p);
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
    /* one source (xor, 4 rows: 304 bytes, see above) and runexp itself */
    assert_int_equal(pm.shared, PLAN_MEMORY_PROGRAM + 304);
    assert_int_equal(pm.total, pm.trials + pm.shared);
    /* more jobs than trials: every trial */
    assert_int_equal(plan_memory_estimate(&p, 64, &pm), 0);
    assert_int_equal(pm.at_once, 4);
    assert_int_equal(pm.trials, 2 * big + 2 * small);
    assert_int_equal(plan_memory_estimate(&p, 1, &pm), 0);
    assert_int_equal(pm.trials, big);

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
    plan_memory_format(2 * big + PLAN_MEMORY_PROGRAM + 304, want, sizeof want);
    assert_non_null(strstr(buf, want));
    assert_non_null(strstr(buf, "1.0 KiB of the budget set with --max-memory"));
    assert_non_null(strstr(buf, "2 trials at once"));
    f = tmpfile();
    assert_non_null(f);
    assert_int_equal(plan_memory_guard(&p, 1, 2, 2 * big + PLAN_MEMORY_PROGRAM + 304, f), 0);
    assert_int_equal(ftell(f), 0); /* nothing said when it fits */
    fclose(f);
    /* two plans run one after the other: both datasets, the larger trials */
    sweep_plan two[2];
    two[0] = p;
    two[1] = p;
    f = tmpfile();
    assert_non_null(f);
    assert_int_equal(plan_memory_guard(two, 2, 2, 2 * big + PLAN_MEMORY_PROGRAM + 304, f), 1);
    assert_int_equal(plan_memory_guard(two, 2, 2, 2 * big + PLAN_MEMORY_PROGRAM + 608, f), 0);
    fclose(f);
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
        cmocka_unit_test(test_trial_by_hand), cmocka_unit_test(test_trial_huge),
        cmocka_unit_test(test_plan),          cmocka_unit_test(test_parse_size),
        cmocka_unit_test(test_format),        cmocka_unit_test(test_available),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
