/* Unit tests of the spec module: the two lab specs parse to exactly the
 * values of the lab notebooks (keras-semantics.md) with Keras defaults for
 * what they leave out, and every spec in tests/specs/bad fails with exactly
 * the diagnostic lines in its .expected file (written by hand from the
 * file's line and column; the test chdirs into that directory so the file
 * name in each line is just "NAME.yaml"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spec.h"
#include "spec_internal.h" /* the option table, for test_table_layout */
#include "sweep.h"

static spec_document *load(const char *rel, spec_diagnostics *d)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", RUNEXP_SOURCE_DIR, rel);
    spec_diagnostics_init(d);
    spec_document *doc = spec_document_load(path, d);
    if (!doc)
        spec_diagnostics_print(d, stderr);
    return doc;
}

static spec_document *parse(const char *text, spec_diagnostics *d)
{
    spec_diagnostics_init(d);
    return spec_document_parse(text, strlen(text), "t.yaml", "", d);
}

/* Diagnostics of parsing text, as printed. Caller frees. */
static char *diag_text(const char *text)
{
    spec_diagnostics d;
    spec_document *doc = parse(text, &d);
    sweep_plan plan;
    if (doc && sweep_plan_build(doc, &plan, &d) == 0)
        sweep_plan_free(&plan);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    spec_diagnostics_print(&d, f);
    fclose(f);
    spec_document_free(doc);
    spec_diagnostics_free(&d);
    return buf;
}

static void assert_adam_defaults(const nn_optimizer_config *o)
{
    assert_int_equal(o->kind, NN_OPT_ADAM);
    assert_true(o->learning_rate == 0.001);
    assert_true(o->beta_1 == 0.9);
    assert_true(o->beta_2 == 0.999);
    assert_true(o->epsilon == 1e-7);
}

static void test_lab_xor(void **state)
{
    (void)state;
    spec_diagnostics d;
    spec_document *doc = load("experiments/xor_sweep.yaml", &d);
    assert_non_null(doc);
    const spec_experiment *e = spec_document_base(doc);
    assert_string_equal(e->name, "xor_sweep");
    assert_string_equal(e->description,
                        "Noisy XOR with one hidden layer. How many hidden neurons does it take?");
    assert_int_equal(e->data.source, SPEC_SOURCE_XOR);
    assert_null(e->data.csv_path);
    assert_int_equal(e->data.n_classes, 2);
    assert_int_equal(e->data.n_features, 2);
    assert_int_equal(e->data.has_seed, 0);
    const data_pipeline_config *p = &e->data.pipeline;
    assert_int_equal(p->repeat, 200);
    assert_true(p->noise == 0.3);
    assert_int_equal(p->test.test.given, 1);
    assert_int_equal(p->test.test.is_count, 0);
    assert_true(p->test.test.value == 0.2);
    assert_int_equal(p->test.train.given, 0);
    assert_int_equal(p->test.shuffle, 1);
    assert_int_equal(p->test.stratify, 0);
    assert_int_equal(p->validation.test.given, 1);
    assert_int_equal(p->validation.test.is_count, 1);
    assert_true(p->validation.test.value == 20);
    assert_int_equal(p->validation.train.given, 0);
    assert_int_equal(p->validation.shuffle, 1);
    assert_int_equal(p->scale, DATA_SCALE_NONE);
    /* model: Dense(6, relu) -> Dense(2, softmax) on 2 inputs */
    assert_int_equal(e->model.n_inputs, 2);
    assert_int_equal(e->model.n_layers, 2);
    assert_int_equal(e->model.layers[0].units, 6);
    assert_int_equal(e->model.layers[0].activation, NN_ACT_RELU);
    assert_int_equal(e->model.layers[1].units, 2);
    assert_int_equal(e->model.layers[1].activation, NN_ACT_SOFTMAX);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(e->model.layers[i].kernel_init, NN_INIT_GLOROT_UNIFORM);
        assert_int_equal(e->model.layers[i].bias_init, NN_INIT_ZEROS);
        assert_int_equal(e->layers[i].units_classes, 0);
        assert_int_equal(e->layers[i].layer.units, e->model.layers[i].units);
    }
    assert_int_equal(e->model.loss, NN_LOSS_CATEGORICAL_CROSSENTROPY);
    assert_adam_defaults(&e->model.optimizer);
    assert_int_equal(e->training.epochs, 200);
    assert_int_equal(e->training.batch_size, 32);
    assert_int_equal(e->training.shuffle, 1);
    /* record defaults: confusion for validation and test, weights, and the
     * grid because XOR has 2 features */
    assert_int_equal(e->record.confusion_train, 0);
    assert_int_equal(e->record.confusion_validation, 1);
    assert_int_equal(e->record.confusion_test, 1);
    assert_int_equal(e->record.weights, 1);
    assert_int_equal(e->record.grid, 1);
    assert_true(e->record.grid_x0[0] == -1 && e->record.grid_x0[1] == 2);
    assert_true(e->record.grid_x1[0] == -1 && e->record.grid_x1[1] == 2);
    assert_int_equal(e->record.grid_resolution, 100);
    const uint64_t *seeds;
    size_t n = spec_document_seeds(doc, &seeds);
    assert_int_equal(n, 10);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(seeds[i], i);
    spec_document_free(doc);
    spec_diagnostics_free(&d);
}

static void test_lab_digits(void **state)
{
    (void)state;
    spec_diagnostics d;
    spec_document *doc = load("experiments/digits_perceptron.yaml", &d);
    assert_non_null(doc);
    const spec_experiment *e = spec_document_base(doc);
    assert_string_equal(e->name, "digits_perceptron");
    assert_int_equal(e->data.source, SPEC_SOURCE_DIGITS);
    assert_int_equal(e->data.n_classes, 10);
    assert_int_equal(e->data.n_features, 64);
    const data_pipeline_config *p = &e->data.pipeline;
    assert_int_equal(p->repeat, 1);
    assert_true(p->noise == 0);
    assert_int_equal(p->test.test.given, 1);
    assert_int_equal(p->test.test.is_count, 0);
    assert_true(p->test.test.value == 0.25);
    assert_int_equal(p->validation.test.given, 1);
    assert_int_equal(p->validation.test.is_count, 0);
    assert_true(p->validation.test.value == 0.25);
    assert_int_equal(p->scale, DATA_SCALE_NONE);
    assert_int_equal(e->model.n_inputs, 64);
    assert_int_equal(e->model.n_layers, 1);
    assert_int_equal(e->model.layers[0].units, 10);
    assert_int_equal(e->model.layers[0].activation, NN_ACT_SOFTMAX);
    assert_int_equal(e->model.layers[0].kernel_init, NN_INIT_GLOROT_UNIFORM);
    assert_int_equal(e->model.layers[0].bias_init, NN_INIT_ZEROS);
    assert_int_equal(e->model.loss, NN_LOSS_CATEGORICAL_CROSSENTROPY);
    assert_adam_defaults(&e->model.optimizer);
    assert_int_equal(e->training.epochs, 100);
    assert_int_equal(e->training.batch_size, 128);
    assert_int_equal(e->training.shuffle, 1);
    assert_int_equal(e->record.grid, 0); /* 64 features: no grid */
    assert_int_equal(e->record.confusion_validation, 1);
    const uint64_t *seeds;
    assert_int_equal(spec_document_seeds(doc, &seeds), 10);
    assert_int_equal(seeds[9], 9);
    spec_document_free(doc);
    spec_diagnostics_free(&d);
}

/* The smallest spec: everything else is a default. */
static void test_defaults(void **state)
{
    (void)state;
    spec_diagnostics d;
    spec_document *doc = parse("data: {source: xor}\n"
                               "model:\n  layers: [{units: classes, activation: softmax}]\n"
                               "training: {loss: categorical_crossentropy, epochs: 3}\n",
                               &d);
    assert_non_null(doc);
    const spec_experiment *e = spec_document_base(doc);
    assert_string_equal(e->name, "t"); /* the file name without .yaml */
    assert_null(e->description);
    const data_pipeline_config *p = &e->data.pipeline;
    assert_int_equal(p->repeat, 1);
    assert_true(p->noise == 0);
    /* no split: scikit-learn's default test 0.25, no validation set */
    assert_int_equal(p->test.test.given, 1);
    assert_int_equal(p->test.test.is_count, 0);
    assert_true(p->test.test.value == 0.25);
    assert_int_equal(p->validation.test.given, 0);
    assert_int_equal(p->test.shuffle, 1);
    assert_int_equal(p->test.stratify, 0);
    assert_int_equal(e->layers[0].units_classes, 1);
    assert_int_equal(e->model.layers[0].units, 2);
    assert_int_equal(e->layers[0].layer.units, 2);
    assert_int_equal(e->model.layers[0].kernel_init, NN_INIT_GLOROT_UNIFORM);
    assert_int_equal(e->model.layers[0].bias_init, NN_INIT_ZEROS);
    assert_adam_defaults(&e->model.optimizer);
    assert_int_equal(e->training.batch_size, 32);
    assert_int_equal(e->training.shuffle, 1);
    /* no validation set: its confusion matrix is not asked for */
    assert_int_equal(e->record.confusion_validation, 0);
    assert_int_equal(e->record.confusion_test, 1);
    const uint64_t *seeds;
    assert_int_equal(spec_document_seeds(doc, &seeds), 1);
    assert_int_equal(seeds[0], 0);
    spec_document_free(doc);
    spec_diagnostics_free(&d);
}

static void test_optimizer_forms(void **state)
{
    (void)state;
    const char *specs[] = {
        "data: {source: xor}\nmodel: {layers: [{units: 2, activation: softmax}]}\n"
        "training: {loss: categorical_crossentropy, epochs: 3, optimizer: sgd}\n",
        "data: {source: xor}\nmodel: {layers: [{units: 2, activation: softmax}]}\n"
        "training:\n  loss: categorical_crossentropy\n  epochs: 3\n"
        "  optimizer: {name: sgd, learning_rate: 0.1, momentum: 0.9, nesterov: true}\n",
        "data: {source: xor}\nmodel: {layers: [{units: 2, activation: softmax}]}\n"
        "training: {loss: categorical_crossentropy, epochs: 3, optimizer: {name: rmsprop, rho: 0.8}}\n",
    };
    spec_diagnostics d;
    for (int i = 0; i < 3; i++) {
        spec_document *doc = parse(specs[i], &d);
        if (!doc)
            spec_diagnostics_print(&d, stderr);
        assert_non_null(doc);
        const nn_optimizer_config *o = &spec_document_base(doc)->model.optimizer;
        if (i == 0) {
            assert_int_equal(o->kind, NN_OPT_SGD);
            assert_true(o->learning_rate == 0.01);
            assert_true(o->momentum == 0);
            assert_int_equal(o->nesterov, 0);
        } else if (i == 1) {
            assert_int_equal(o->kind, NN_OPT_SGD);
            assert_true(o->learning_rate == 0.1);
            assert_true(o->momentum == 0.9);
            assert_int_equal(o->nesterov, 1);
        } else {
            assert_int_equal(o->kind, NN_OPT_RMSPROP);
            assert_true(o->learning_rate == 0.001);
            assert_true(o->rho == 0.8);
            assert_true(o->epsilon == 1e-7);
        }
        spec_document_free(doc);
        spec_diagnostics_free(&d);
    }
}

/* The learning rate as each schedule and a number; class_weight as a
 * mapping (classes not listed weigh 1) and as balanced. */
static void test_schedules_and_class_weight(void **state)
{
    (void)state;
    const char *head = "data: {source: digits}\nmodel: {layers: [{units: classes, activation: softmax}]}\n"
                       "training:\n  loss: categorical_crossentropy\n  epochs: 3\n";
    const char *tails[] = {
        "  optimizer: {name: sgd, learning_rate: {schedule: exponential_decay, "
        "initial_learning_rate: 0.5, decay_steps: 7, decay_rate: 0.25, staircase: true}}\n"
        "  class_weight: {3: 2.5, \"9\": 0}\n",
        "  optimizer: {name: adam, learning_rate: {schedule: piecewise_constant, "
        "boundaries: [5, 50], values: [0.1, 0.01, 0.001]}}\n  class_weight: balanced\n",
        "  optimizer: {name: rmsprop, learning_rate: {schedule: cosine_decay, "
        "initial_learning_rate: 0.02, decay_steps: 100}}\n",
        "  optimizer: {name: adam, learning_rate: 0.03}\n",
    };
    for (int i = 0; i < 4; i++) {
        char text[1024];
        snprintf(text, sizeof text, "%s%s", head, tails[i]);
        spec_diagnostics d;
        spec_document *doc = parse(text, &d);
        if (!doc)
            spec_diagnostics_print(&d, stderr);
        assert_non_null(doc);
        const spec_experiment *e = spec_document_base(doc);
        const nn_lr_schedule *sc = &e->model.optimizer.schedule;
        if (i == 0) {
            assert_int_equal(sc->kind, NN_LR_EXPONENTIAL_DECAY);
            assert_true(sc->initial_learning_rate == 0.5 && sc->decay_steps == 7 &&
                        sc->decay_rate == 0.25 && sc->staircase == 1);
            assert_int_equal(e->training.n_class_weight, 10);
            for (size_t k = 0; k < 10; k++)
                assert_true(e->training.class_weight[k] == (k == 3 ? 2.5 : k == 9 ? 0.0 : 1.0));
            assert_int_equal(e->training.class_weight_balanced, 0);
        } else if (i == 1) {
            assert_int_equal(sc->kind, NN_LR_PIECEWISE_CONSTANT);
            assert_int_equal(sc->n_boundaries, 2);
            assert_true(sc->boundaries[0] == 5 && sc->boundaries[1] == 50);
            assert_true(sc->values[0] == 0.1 && sc->values[1] == 0.01 && sc->values[2] == 0.001);
            assert_int_equal(e->training.class_weight_balanced, 1);
            assert_null(e->training.class_weight);
        } else if (i == 2) {
            assert_int_equal(sc->kind, NN_LR_COSINE_DECAY);
            assert_true(sc->initial_learning_rate == 0.02 && sc->decay_steps == 100 &&
                        sc->alpha == 0);
            assert_null(e->training.class_weight);
        } else {
            assert_int_equal(sc->kind, NN_LR_CONSTANT);
            assert_true(e->model.optimizer.learning_rate == 0.03);
        }
        /* the canonical form: the schedule's own keys, sorted; the rate alone */
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        assert_non_null(f);
        spec_canonical_write(f, e, "");
        fclose(f);
        const char *want[] = {
            "\"learning_rate\":{\"decay_rate\":0.25,\"decay_steps\":7,\"initial_learning_rate\":0.5,"
            "\"schedule\":\"exponential_decay\",\"staircase\":true}",
            "\"learning_rate\":{\"boundaries\":[5,50],\"schedule\":\"piecewise_constant\","
            "\"values\":[0.1,0.01,0.001]}",
            "\"learning_rate\":{\"alpha\":0,\"decay_steps\":100,\"initial_learning_rate\":0.02,"
            "\"schedule\":\"cosine_decay\"}",
            "\"learning_rate\":0.03,",
        };
        const char *cw[] = {"\"class_weight\":[1,1,1,2.5,1,1,1,1,1,0]", "\"class_weight\":\"balanced\"",
                            NULL, NULL};
        if (!strstr(buf, want[i]))
            fail_msg("%s not in %s", want[i], buf);
        if (cw[i] ? !strstr(buf, cw[i]) : strstr(buf, "class_weight") != NULL)
            fail_msg("class_weight: %s", buf);
        free(buf);
        spec_document_free(doc);
        spec_diagnostics_free(&d);
    }
}

static void test_csv_source(void **state)
{
    (void)state;
    spec_diagnostics d;
    spec_document *doc = load("experiments/blobs_csv.yaml", &d);
    assert_non_null(doc);
    const spec_experiment *e = spec_document_base(doc);
    assert_int_equal(e->data.source, SPEC_SOURCE_CSV);
    /* resolved against the spec's directory */
    assert_string_equal(e->data.csv_path, RUNEXP_SOURCE_DIR "/experiments/data/blobs.csv");
    assert_string_equal(e->data.csv_label, "shape");
    assert_int_equal(e->data.n_features, 2);
    assert_int_equal(e->data.n_classes, 3);
    assert_int_equal(e->model.layers[1].units, 3); /* units: classes */
    assert_int_equal(e->data.has_seed, 1);
    assert_int_equal(e->data.seed, 42);
    assert_int_equal(e->data.pipeline.scale, DATA_SCALE_STANDARD);
    assert_int_equal(e->data.pipeline.test.stratify, 1);
    assert_int_equal(e->record.grid, 1);
    assert_true(e->record.grid_x0[0] == -6 && e->record.grid_x0[1] == 6);
    assert_true(e->record.grid_x1[0] == -4 && e->record.grid_x1[1] == 8);
    assert_int_equal(e->record.grid_resolution, 60);
    const uint64_t *seeds;
    assert_int_equal(spec_document_seeds(doc, &seeds), 5);
    assert_int_equal(seeds[4], 4);
    spec_document_free(doc);
    spec_diagnostics_free(&d);

    /* 150 rows: a test split of 0.9 leaves 15, a validation count of 15 none */
    char text[512];
    snprintf(text, sizeof text,
             "data:\n  source: {csv: %s/experiments/data/blobs.csv}\n"
             "  split: {test: 0.9, validation: 15}\n"
             "model: {layers: [{units: 3, activation: softmax}]}\n"
             "training: {loss: categorical_crossentropy, epochs: 3}\n",
             RUNEXP_SOURCE_DIR);
    char *got = diag_text(text);
    assert_string_equal(got, "t.yaml:3:34: error: data.split.validation takes 15 of the 15 "
                             "rows left after the test split (150 rows, 135 for test), "
                             "leaving no training rows\n");
    free(got);
}

static void test_anchors_and_tags(void **state)
{
    (void)state;
    spec_diagnostics d;
    spec_document *doc = parse("hidden: &h {units: 4, activation: tanh}\n", &d);
    assert_null(doc); /* 'hidden' is not a key: anchors live inside keys we know */
    spec_diagnostics_free(&d);
    doc = parse("data: {source: xor}\n"
                "model:\n  layers:\n    - &h {units: 4, activation: tanh}\n    - *h\n"
                "    - {units: 2, activation: softmax}\n"
                "training: {loss: categorical_crossentropy, epochs: 3}\n"
                "description: !!str 12\n",
                &d);
    if (!doc)
        spec_diagnostics_print(&d, stderr);
    assert_non_null(doc);
    const spec_experiment *e = spec_document_base(doc);
    assert_int_equal(e->model.n_layers, 3);
    assert_int_equal(e->model.layers[1].units, 4);
    assert_int_equal(e->model.layers[1].activation, NN_ACT_TANH);
    assert_string_equal(e->description, "12");
    spec_document_free(doc);
    spec_diagnostics_free(&d);
}

static void test_file_size_limit(void **state)
{
    (void)state;
    size_t n = 1024 * 1024 + 1;
    char *big = malloc(n + 1);
    assert_non_null(big);
    memset(big, ' ', n);
    big[0] = '#';
    big[n] = '\0';
    spec_diagnostics d;
    spec_diagnostics_init(&d);
    assert_null(spec_document_parse(big, n, "big.yaml", "", &d));
    assert_int_equal(d.n, 1);
    assert_string_equal(d.items[0].message,
                        "the spec is 1048577 bytes; specs are limited to 1048576 bytes");
    spec_diagnostics_free(&d);
    free(big);
}

static void test_missing_file(void **state)
{
    (void)state;
    spec_diagnostics d;
    spec_diagnostics_init(&d);
    assert_null(spec_document_load("/nonexistent/dir/x.yaml", &d));
    assert_int_equal(d.n, 1);
    assert_int_equal(d.items[0].line, 0);
    assert_string_equal(d.items[0].message, "cannot open the spec: No such file or directory");
    spec_diagnostics_free(&d);
}

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    int c;
    while ((c = fgetc(f)) != EOF)
        fputc(c, m);
    fclose(m);
    fclose(f);
    return buf;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void test_bad_corpus(void **state)
{
    (void)state;
    char old[4096];
    assert_non_null(getcwd(old, sizeof old));
    assert_int_equal(chdir(RUNEXP_SOURCE_DIR "/tests/specs/bad"), 0);
    DIR *dir = opendir(".");
    assert_non_null(dir);
    char *names[256];
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(dir)) != NULL && n < 256) {
        size_t l = strlen(de->d_name);
        if (l > 5 && !strcmp(de->d_name + l - 5, ".yaml"))
            names[n++] = strdup(de->d_name);
    }
    closedir(dir);
    qsort(names, n, sizeof names[0], cmp_str);
    assert_true(n >= 30);
    int failures = 0;
    for (size_t i = 0; i < n; i++) {
        char exp_path[300];
        snprintf(exp_path, sizeof exp_path, "%.*s.expected", (int)(strlen(names[i]) - 5),
                 names[i]);
        char *expected = read_all(exp_path);
        spec_diagnostics d;
        spec_diagnostics_init(&d);
        spec_document *doc = spec_document_load(names[i], &d);
        sweep_plan plan;
        int ok = doc && sweep_plan_build(doc, &plan, &d) == 0;
        if (ok)
            sweep_plan_free(&plan);
        char *got = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&got, &len);
        spec_diagnostics_print(&d, m);
        fclose(m);
        if (ok || !expected || strcmp(got, expected) || d.n == 0) {
            fprintf(stderr, "%s: %s\n--- expected\n%s--- got\n%s", names[i],
                    ok ? "accepted, should fail" : "diagnostics differ",
                    expected ? expected : "(no .expected file)\n", got);
            failures++;
        }
        free(got);
        free(expected);
        spec_document_free(doc);
        spec_diagnostics_free(&d);
        free(names[i]);
    }
    assert_int_equal(chdir(old), 0);
    assert_int_equal(failures, 0);
}

/* The name of a spec without `name` (parsed under file), or NULL when the
 * spec (with name_line, e.g. "name: x\n", prepended) fails. Caller frees. */
static char *name_of(const char *file, const char *name_line)
{
    const char *body = "data: {source: xor}\n"
                       "model: {layers: [{units: 2, activation: softmax}]}\n"
                       "training: {loss: categorical_crossentropy, epochs: 3}\n";
    char text[1024];
    snprintf(text, sizeof text, "%s%s", name_line, body);
    spec_diagnostics d;
    spec_diagnostics_init(&d);
    spec_document *doc = spec_document_parse(text, strlen(text), file, "", &d);
    char *r = doc ? strdup(spec_document_base(doc)->name) : NULL;
    spec_document_free(doc);
    spec_diagnostics_free(&d);
    return r;
}

static void expect_default_name(const char *file, const char *want)
{
    char *got = name_of(file, "");
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

/* Names: 1 to 128 bytes of printable text, no space at either end; without
 * `name`, the file's stem, made to fit the same rule. */
static void test_names(void **state)
{
    (void)state;
    expect_default_name("dir/xor_sweep.yaml", "xor_sweep");
    expect_default_name("/a/b/lab.yml", "lab");
    expect_default_name("my spec.yaml", "my spec");
    expect_default_name("notes.txt", "notes.txt");
    expect_default_name(".yaml", ".yaml");        /* a hidden file, not an extension */
    expect_default_name("dir/", "experiment");
    expect_default_name("a\033[31mb\r.yaml", "a_[31mb_");
    expect_default_name(" x .yaml", "_x_");
    expect_default_name("\xe2\x80\xae" "evil.yaml", "___evil");
    expect_default_name("caf\xc3\xa9.yaml", "caf\xc3\xa9");
    char file[400], want[200];
    memset(file, 'f', 300);
    memcpy(file + 300, ".yaml", 6);
    memset(want, 'f', 128);
    want[128] = '\0';
    expect_default_name(file, want);
    /* 'a' + 100 x e-acute: cut before the character that would pass 128 bytes */
    file[0] = 'a';
    for (int i = 0; i < 100; i++)
        memcpy(file + 1 + 2 * i, "\xc3\xa9", 2);
    memcpy(file + 201, ".yaml", 6);
    want[0] = 'a';
    for (int i = 0; i < 63; i++)
        memcpy(want + 1 + 2 * i, "\xc3\xa9", 2);
    want[127] = '\0';
    expect_default_name(file, want);

    /* given names: 128 bytes pass, 129 do not */
    char line[300];
    snprintf(line, sizeof line, "name: %.128s\n", "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
                                                  "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn");
    char *got = name_of("t.yaml", line);
    assert_non_null(got);
    assert_int_equal(strlen(got), 128);
    free(got);
    snprintf(line, sizeof line, "name: n%.128s\n", "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
                                                   "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn");
    assert_null(name_of("t.yaml", line));
    const char *ok[] = {"name: XOR sweep (6 widths), v2\n", "name: \"r\xc3\xa9seau \xe6\x97\xa5\"\n",
                        "name: a\n", "name: \"..\"\n", "name: \"-x\"\n"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        got = name_of("t.yaml", ok[i]);
        assert_non_null(got);
        free(got);
    }
    const char *bad[] = {"name: \"\"\n", "name: \" x\"\n", "name: \"x \"\n", "name: \"a\\tb\"\n",
                         "name: \"a\\0b\"\n", "name: \"\\x7f\"\n", "name: \"a\\u009bb\"\n",
                         "name: \"a\\u2066b\"\n", "name: \"\\e[2J\"\n", "name: 12\n", "name: [a]\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        got = name_of("t.yaml", bad[i]);
        if (got)
            fprintf(stderr, "accepted: %s", bad[i]);
        assert_null(got);
    }
}

/* Messages that the corpus does not pin down by file. */
static void test_messages(void **state)
{
    (void)state;
    const char *base = "data: {source: xor}\n"
                       "model: {layers: [{units: 2, activation: softmax}]}\n";
    struct {
        const char *tail, *want;
    } cases[] = {
        {"training: {loss: categorical_crossentropy, epochs: 3, batch_size: 0}\n",
         "t.yaml:3:67: error: training.batch_size must be between 1 and 1048576, got 0\n"},
        {"training: {loss: categorical_crossentropy, epochs: 3, shuffle: yes}\n",
         "t.yaml:3:64: error: training.shuffle must be true or false, got a string ('yes')\n"},
        {"training: {loss: categorical_crossentropy, epochs: 3}\nseeds: [-1]\n",
         "t.yaml:4:9: error: seeds[0] must be between 0 and 9007199254740991, got -1\n"},
        {"training: {loss: mean_squared_error, epochs: 3, optimizer: {learning_rate: 0.1}}\n",
         "t.yaml:3:60: error: missing required key 'name' in training.optimizer\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[600];
        snprintf(text, sizeof text, "%s%s", base, cases[i].tail);
        char *got = diag_text(text);
        assert_string_equal(got, cases[i].want);
        free(got);
    }
}

static void test_help_and_schema(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    spec_help_print(f);
    fclose(f);
    assert_non_null(strstr(buf, "training.batch_size  (integer, [1, 1048576], default 32)"));
    assert_non_null(strstr(buf, "one of: linear relu sigmoid tanh softmax"));
    free(buf);
    buf = NULL;
    f = open_memstream(&buf, &len);
    spec_schema_print(f);
    fclose(f);
    assert_non_null(strstr(buf, "\"$schema\": \"https://json-schema.org/draft/2020-12/schema\""));
    assert_non_null(strstr(buf, "\"enum\": [\"adam\", \"sgd\", \"rmsprop\"]"));
    assert_non_null(strstr(buf, "\"maximum\": 1048576"));
    /* balanced braces and brackets outside strings */
    int depth = 0, in_str = 0, min_depth = 0;
    for (const char *p = buf; *p; p++) {
        if (in_str) {
            if (*p == '\\')
                p++;
            else if (*p == '"')
                in_str = 0;
        } else if (*p == '"') {
            in_str = 1;
        } else if (*p == '{' || *p == '[') {
            depth++;
        } else if (*p == '}' || *p == ']') {
            depth--;
            if (depth < min_depth)
                min_depth = depth;
        }
    }
    assert_int_equal(depth, 0);
    assert_int_equal(min_depth, 0);
    free(buf);
}

/* The walks over the table (conversion, canonical form) look for an
 * option's children only in the block of rows right after it: every
 * descendant of a row must be inside that block, and every row of the block
 * a descendant. */
static void test_table_layout(void **state)
{
    (void)state;
    for (size_t p = 0; p < spec_n_options; p++) {
        const char *pp = spec_options[p].path;
        size_t lp = strlen(pp), first, end;
        spec_option_block(&spec_options[p], &first, &end);
        assert_int_equal(first, p + 1);
        for (size_t q = 0; q < spec_n_options; q++) {
            const char *qp = spec_options[q].path;
            int below = !strncmp(qp, pp, lp) && (qp[lp] == '.' || qp[lp] == '[');
            if (below != (q >= first && q < end))
                fail_msg("%s is %s the block of %s", qp, below ? "outside" : "inside", pp);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lab_xor),
        cmocka_unit_test(test_lab_digits),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_optimizer_forms),
        cmocka_unit_test(test_schedules_and_class_weight),
        cmocka_unit_test(test_csv_source),
        cmocka_unit_test(test_anchors_and_tags),
        cmocka_unit_test(test_file_size_limit),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_bad_corpus),
        cmocka_unit_test(test_messages),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_help_and_schema),
        cmocka_unit_test(test_table_layout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
