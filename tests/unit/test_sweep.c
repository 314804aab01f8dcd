/* Unit tests of the sweep module: plan size and order (first entry
 * outermost, seeds innermost), ranges, zip, params_json, and trial keys.
 *
 * Independent references: the canonical text of the digits lab is written
 * out here by hand from the format documented in spec_options.c, and its keys were
 * computed with Python's hashlib:
 *   hashlib.sha256((canonical + "\nseed=0\n").encode()).hexdigest()
 * Range values come from numpy 1.24 (linspace) and from C/Python math.pow
 * for log ranges (numpy's vectorised power can be 1 ulp off, e.g. it gives
 * 0.09999999999999999 for 10**-1; we use the correctly rounded pow).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spec.h"
#include "spec_internal.h" /* the option table, for test_key_options */
#include "sweep.h"

static const char *XOR_HEAD =
    "data:\n  source: xor\n  augment: {repeat: 200, noise: 0.3}\n"
    "  split: {test: 0.2, validation: 20}\n"
    "model:\n  layers:\n    - {type: dense, units: 6, activation: relu}\n"
    "    - {type: dense, units: 2, activation: softmax}\n"
    "training:\n  loss: categorical_crossentropy\n  optimizer: adam\n  epochs: 200\n";

/* Builds the plan of a spec text; fails the test on any diagnostic. */
static void build(const char *text, sweep_plan *plan)
{
    spec_diagnostics d;
    spec_diagnostics_init(&d);
    spec_document *doc = spec_document_parse(text, strlen(text), "t.yaml", "", &d);
    int rc = doc ? sweep_plan_build(doc, plan, &d) : -1;
    if (rc != 0)
        spec_diagnostics_print(&d, stderr);
    assert_int_equal(rc, 0);
    spec_document_free(doc);
    spec_diagnostics_free(&d);
}

static char *with_tail(const char *head, const char *tail)
{
    size_t n = strlen(head) + strlen(tail) + 1;
    char *s = malloc(n);
    assert_non_null(s);
    snprintf(s, n, "%s%s", head, tail);
    return s;
}

static void test_lab_xor_plan(void **state)
{
    (void)state;
    char path[1024];
    snprintf(path, sizeof path, "%s/experiments/xor_sweep.yaml", RUNEXP_SOURCE_DIR);
    spec_diagnostics d;
    spec_diagnostics_init(&d);
    spec_document *doc = spec_document_load(path, &d);
    assert_non_null(doc);
    sweep_plan plan;
    assert_int_equal(sweep_plan_build(doc, &plan, &d), 0);
    assert_int_equal(plan.n_points, 6);
    assert_int_equal(plan.n_trials, 60);
    assert_int_equal(plan.n_dims, 1);
    assert_string_equal(plan.dim_names[0], "hidden");
    for (size_t p = 0; p < 6; p++) {
        const sweep_point *pt = &plan.points[p];
        assert_int_equal(pt->spec.model.layers[0].units, p + 1);
        assert_int_equal(pt->spec.model.layers[1].units, 2);
        assert_int_equal(pt->n_values, 1);
        assert_int_equal(pt->values[0].type, SWEEP_INT);
        assert_int_equal(pt->values[0].i, (long long)p + 1);
        assert_string_equal(pt->values[0].name, "hidden");
        char want[32];
        snprintf(want, sizeof want, "{\"hidden\": %zu}", p + 1);
        assert_string_equal(pt->params_json, want);
    }
    /* seeds innermost: trial t is point t / 10 with seed t % 10 */
    for (size_t t = 0; t < 60; t++) {
        assert_int_equal(plan.trials[t].index, t);
        assert_int_equal(plan.trials[t].point, t / 10);
        assert_int_equal(plan.trials[t].seed, t % 10);
        assert_int_equal(strlen(plan.trials[t].key), 64);
        for (size_t u = 0; u < t; u++)
            assert_string_not_equal(plan.trials[t].key, plan.trials[u].key);
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    sweep_plan_print(&plan, f);
    fclose(f);
    assert_memory_equal(buf, "60 trials (6 sweep points x 10 seeds)\ntrial  seed  hidden  key\n", 62);
    free(buf);
    sweep_plan_free(&plan);
    spec_document_free(doc);
    spec_diagnostics_free(&d);
}

static void test_digits_keys(void **state)
{
    (void)state;
    char path[1024];
    snprintf(path, sizeof path, "%s/experiments/digits_perceptron.yaml", RUNEXP_SOURCE_DIR);
    spec_diagnostics d;
    spec_diagnostics_init(&d);
    spec_document *doc = spec_document_load(path, &d);
    assert_non_null(doc);
    sweep_plan plan;
    assert_int_equal(sweep_plan_build(doc, &plan, &d), 0);
    assert_int_equal(plan.n_points, 1);
    assert_int_equal(plan.n_trials, 10);
    assert_int_equal(plan.n_dims, 0);
    assert_string_equal(plan.points[0].params_json, "{}");
    assert_string_equal(
        plan.points[0].canonical,
        "{\"data\":{\"augment\":{\"noise\":0,\"repeat\":1},\"scale\":\"none\",\"seed\":null,"
        "\"source\":{\"kind\":\"digits\"},\"split\":{\"shuffle\":true,\"stratify\":false,"
        "\"test\":{\"fraction\":0.25},\"validation\":{\"fraction\":0.25}}},\"format\":1,"
        "\"model\":{\"inputs\":64,\"layers\":[{\"activation\":\"softmax\","
        "\"bias_initializer\":\"zeros\",\"kernel_initializer\":\"glorot_uniform\","
        "\"units\":10}]},\"training\":{\"batch_size\":128,\"epochs\":100,"
        "\"loss\":\"categorical_crossentropy\",\"optimizer\":{\"beta_1\":0.9,"
        "\"beta_2\":0.999,\"epsilon\":1e-07,\"learning_rate\":0.001,\"name\":\"adam\"},"
        "\"shuffle\":true}}");
    assert_string_equal(plan.trials[0].key,
                        "0942c5a44e4e7694af60b9fa2b09e97352cd1eec3a341b4b77c75c9c1be3eddc");
    assert_string_equal(plan.trials[9].key,
                        "d479ced4eeafd327d9b2f653fcafd4b67b9f62eebc27342c7a019a982ee339a8");
    sweep_plan_free(&plan);
    spec_document_free(doc);
    spec_diagnostics_free(&d);
}

/* Two entries: 3 x 2 points, first entry outermost. */
static void test_grid_order(void **state)
{
    (void)state;
    char *text = with_tail(XOR_HEAD, "seeds: [5, 3]\n"
                                     "sweep:\n"
                                     "  hidden:\n    path: model.layers[0].units\n"
                                     "    values: [2, 4, 8]\n"
                                     "  lr:\n    path: training.optimizer.learning_rate\n"
                                     "    values: [0.01, 0.1]\n");
    sweep_plan plan;
    build(text, &plan);
    assert_int_equal(plan.n_points, 6);
    assert_int_equal(plan.n_trials, 12);
    const int units[6] = {2, 2, 4, 4, 8, 8};
    const double lr[6] = {0.01, 0.1, 0.01, 0.1, 0.01, 0.1};
    const char *params[6] = {"{\"hidden\": 2, \"lr\": 0.01}", "{\"hidden\": 2, \"lr\": 0.1}",
                             "{\"hidden\": 4, \"lr\": 0.01}", "{\"hidden\": 4, \"lr\": 0.1}",
                             "{\"hidden\": 8, \"lr\": 0.01}", "{\"hidden\": 8, \"lr\": 0.1}"};
    for (size_t p = 0; p < 6; p++) {
        const sweep_point *pt = &plan.points[p];
        assert_int_equal(pt->spec.model.layers[0].units, units[p]);
        /* `optimizer: adam` became {name: adam, learning_rate: ...}, the
         * other Adam parameters keep their defaults */
        assert_int_equal(pt->spec.model.optimizer.kind, NN_OPT_ADAM);
        assert_true(pt->spec.model.optimizer.learning_rate == lr[p]);
        assert_true(pt->spec.model.optimizer.beta_2 == 0.999);
        assert_int_equal(pt->values[1].type, SWEEP_REAL);
        assert_true(pt->values[1].r == lr[p]);
        assert_string_equal(pt->params_json, params[p]);
    }
    /* seeds innermost, in the order listed */
    for (size_t t = 0; t < 12; t++) {
        assert_int_equal(plan.trials[t].point, t / 2);
        assert_int_equal(plan.trials[t].seed, t % 2 ? 3 : 5);
    }
    sweep_plan_free(&plan);
    free(text);
}

static void expect_values(const char *values, const double *want, size_t n, int is_int)
{
    char tail[400];
    snprintf(tail, sizeof tail,
             "sweep:\n  v:\n    path: %s\n    values: %s\n",
             is_int ? "training.epochs" : "training.optimizer.learning_rate", values);
    char *text = with_tail(XOR_HEAD, tail);
    sweep_plan plan;
    build(text, &plan);
    assert_int_equal(plan.n_points, n);
    for (size_t i = 0; i < n; i++) {
        const sweep_value *v = &plan.points[i].values[0];
        if (is_int) {
            assert_int_equal(v->type, SWEEP_INT);
            assert_int_equal(v->i, (long long)want[i]);
            assert_int_equal(plan.points[i].spec.training.epochs, (size_t)want[i]);
        } else {
            assert_int_equal(v->type, SWEEP_REAL);
            if (fabs(v->r - want[i]) > 4e-16 * fabs(want[i])) {
                fprintf(stderr, "%s value %zu: got %.17g want %.17g\n", values, i, v->r, want[i]);
                fail();
            }
            assert_true(plan.points[i].spec.model.optimizer.learning_rate == v->r);
        }
    }
    sweep_plan_free(&plan);
    free(text);
}

static void test_ranges(void **state)
{
    (void)state;
    const double a[] = {1, 2, 3, 4, 5, 6};
    expect_values("{from: 1, to: 6}", a, 6, 1);
    const double b[] = {2, 6, 10};
    expect_values("{from: 2, to: 10, step: 4}", b, 3, 1);
    const double c[] = {2, 6};
    expect_values("{from: 2, to: 9, step: 4}", c, 2, 1);
    const double dd[] = {6, 4, 2};
    expect_values("{from: 6, to: 1, step: -2}", dd, 3, 1);
    /* numpy.linspace(0.1, 0.7, 7) */
    const double e[] = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7};
    expect_values("{from: 0.1, to: 0.7, num: 7}", e, 7, 0);
    /* both ends inclusive and exact: 1e-4, 1e-3, 1e-2, 1e-1 */
    const double f[] = {1e-4, 1e-3, 1e-2, 1e-1};
    expect_values("{from: 1e-4, to: 1e-1, num: 4, log: true}", f, 4, 0);
    const double g[] = {0.001, 0.0031622776601683794, 0.01, 0.03162277660168379, 0.1,
                        0.31622776601683794, 1.0};
    expect_values("{from: 0.001, to: 1, num: 7, log: true}", g, 7, 0);
    const double h[] = {0.5};
    expect_values("{from: 0.5, to: 0.9, num: 1}", h, 1, 0);
}

static void test_zip(void **state)
{
    (void)state;
    char *text = with_tail(XOR_HEAD, "seeds: 2\n"
                                     "sweep:\n"
                                     "  arch:\n    zip:\n"
                                     "      - {path: \"model.layers[0].units\", values: [2, 3, 4]}\n"
                                     "      - {path: training.epochs, values: [10, 20, 30]}\n"
                                     "      - {path: training.batch_size, values: [8, 16, 64], "
                                     "name: bs}\n"
                                     "  act:\n    path: model.layers[0].activation\n"
                                     "    values: [tanh, sigmoid]\n"
                                     "  sh:\n    path: training.shuffle\n    values: [false]\n");
    sweep_plan plan;
    build(text, &plan);
    assert_int_equal(plan.n_points, 6);
    assert_int_equal(plan.n_trials, 12);
    assert_int_equal(plan.n_dims, 5);
    const char *names[5] = {"arch.units", "arch.epochs", "bs", "act", "sh"};
    for (size_t k = 0; k < 5; k++)
        assert_string_equal(plan.dim_names[k], names[k]);
    for (size_t p = 0; p < 6; p++) {
        const spec_experiment *e = &plan.points[p].spec;
        size_t z = p / 2;
        assert_int_equal(e->model.layers[0].units, 2 + z);
        assert_int_equal(e->training.epochs, 10 * (z + 1));
        assert_int_equal(e->training.batch_size, z == 0 ? 8 : z == 1 ? 16 : 64);
        assert_int_equal(e->model.layers[0].activation, p % 2 ? NN_ACT_SIGMOID : NN_ACT_TANH);
        assert_int_equal(e->training.shuffle, 0);
        assert_int_equal(plan.points[p].values[3].type, SWEEP_TEXT);
        assert_string_equal(plan.points[p].values[3].s, p % 2 ? "sigmoid" : "tanh");
    }
    assert_string_equal(plan.points[3].params_json,
                        "{\"arch.units\": 3, \"arch.epochs\": 20, \"bs\": 16, \"act\": "
                        "\"sigmoid\", \"sh\": false}");
    sweep_plan_free(&plan);
    free(text);
}

/* Every variant means the same experiment: the keys must not move. */
static const char *SAME[] = {
    /* the reference */
    "name: a\ndata:\n  source: xor\n  augment: {repeat: 200, noise: 0.3}\n"
    "  split: {test: 0.2, validation: 20}\n"
    "model:\n  layers:\n    - {type: dense, units: 6, activation: relu}\n"
    "    - {type: dense, units: 2, activation: softmax}\n"
    "training:\n  loss: categorical_crossentropy\n  optimizer: adam\n  epochs: 200\n"
    "  batch_size: 32\n  metrics: [accuracy]\nseeds: 3\n",
    /* reordered keys, block style, comments, other name and description */
    "# a comment\nseeds: 3   # three\ntraining:\n  epochs: 200\n  loss: categorical_crossentropy\n"
    "model:\n  layers:\n  - activation: relu\n    units: 6\n  - units: 2\n    activation: softmax\n"
    "data:\n  split:\n    validation: 20\n    test: 0.2\n  augment:\n    noise: 0.30\n"
    "    repeat: 200\n  source: xor\nname: b\ndescription: another text\n",
    /* defaults written out, units: classes, other number spellings, record options */
    "data:\n  source: xor\n  augment: {repeat: 0xC8, noise: 3e-1}\n"
    "  split: {test: 0.20, validation: 20, shuffle: true, stratify: false}\n  scale: none\n"
    "model:\n  layers:\n    - {units: 6, activation: relu, kernel_initializer: glorot_uniform,"
    " bias_initializer: zeros}\n    - {units: classes, activation: softmax}\n"
    "training:\n  loss: categorical_crossentropy\n"
    "  optimizer: {name: adam, learning_rate: 1e-3, beta_1: 0.9, beta_2: 0.999, epsilon: 1e-7}\n"
    "  epochs: 200\n  shuffle: true\nseeds: [0, 1, 2]\nrecord: {weights: false, grid: false}\n",
};

static const char *DIFFERENT[] = {
    "epochs: 200", "epochs: 201",
    "noise: 0.3}", "noise: 0.31}",
    "optimizer: adam", "optimizer: {name: adam, learning_rate: 0.002}",
    "test: 0.2,", "test: 160,",
    "units: 6,", "units: 7,",
    "activation: relu}", "activation: tanh}",
    "batch_size: 32", "batch_size: 16",
    "source: xor", "source: xor\n  seed: 1",
};

static void keys_of(const char *text, char keys[][65], size_t n)
{
    sweep_plan plan;
    build(text, &plan);
    assert_int_equal(plan.n_trials, n);
    for (size_t i = 0; i < n; i++)
        memcpy(keys[i], plan.trials[i].key, 65);
    sweep_plan_free(&plan);
}

static char *replace(const char *s, const char *from, const char *to)
{
    const char *p = strstr(s, from);
    assert_non_null(p);
    size_t n = strlen(s) - strlen(from) + strlen(to) + 1;
    char *r = malloc(n);
    assert_non_null(r);
    snprintf(r, n, "%.*s%s%s", (int)(p - s), s, to, p + strlen(from));
    return r;
}

static void test_key_stability(void **state)
{
    (void)state;
    char ref[3][65], k[3][65];
    keys_of(SAME[0], ref, 3);
    /* seeds change keys */
    assert_string_not_equal(ref[0], ref[1]);
    assert_string_not_equal(ref[1], ref[2]);
    for (size_t v = 1; v < sizeof SAME / sizeof SAME[0]; v++) {
        keys_of(SAME[v], k, 3);
        for (int i = 0; i < 3; i++)
            assert_string_equal(k[i], ref[i]);
    }
    for (size_t c = 0; c < sizeof DIFFERENT / sizeof DIFFERENT[0]; c += 2) {
        char *t = replace(SAME[0], DIFFERENT[c], DIFFERENT[c + 1]);
        keys_of(t, k, 3);
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
                assert_string_not_equal(k[i], ref[j]);
        free(t);
    }
}

/* A swept point and a spec written with that value are the same trial. */
static void test_key_sweep_equals_written(void **state)
{
    (void)state;
    char *swept = with_tail(SAME[0], "sweep:\n  hidden:\n    path: model.layers[0].units\n"
                                     "    values: [4, 6]\n");
    sweep_plan plan;
    build(swept, &plan);
    char ref[3][65];
    keys_of(SAME[0], ref, 3);
    for (int i = 0; i < 3; i++)
        assert_string_equal(plan.trials[3 + i].key, ref[i]); /* point 1 is units 6 */
    sweep_plan_free(&plan);
    free(swept);
}

/* A swept key absent from the spec is created (batch_size defaults to 32). */
static void test_sweep_absent_key(void **state)
{
    (void)state;
    char *text = with_tail(XOR_HEAD, "sweep:\n  bs:\n    path: training.batch_size\n"
                                     "    values: [16, 64]\n"
                                     "  rho:\n    path: data.split.stratify\n    values: [true]\n");
    sweep_plan plan;
    build(text, &plan);
    assert_int_equal(plan.n_points, 2);
    assert_int_equal(plan.points[0].spec.training.batch_size, 16);
    assert_int_equal(plan.points[1].spec.training.batch_size, 64);
    assert_int_equal(plan.points[1].spec.data.pipeline.test.stratify, 1);
    assert_string_equal(plan.points[1].params_json, "{\"bs\": 64, \"rho\": true}");
    sweep_plan_free(&plan);
    free(text);
}

/* Values that are different doubles, or resolve differently, are not
 * duplicates however close they look (the duplicates themselves are in
 * tests/specs/bad/sweep_duplicate_*). */
static void test_close_values_not_duplicates(void **state)
{
    (void)state;
    char *text = with_tail(XOR_HEAD, "seeds: 2\n"
                                     "sweep:\n  lr:\n    path: training.optimizer.learning_rate\n"
                                     "    values: [0.001, 0.0010000000000000002]\n"
                                     "  out:\n    path: model.layers[0].units\n"
                                     "    values: [classes, 3]\n");
    sweep_plan plan;
    build(text, &plan);
    assert_int_equal(plan.n_points, 4);
    assert_int_equal(plan.n_trials, 8);
    for (size_t t = 0; t < 8; t++)
        for (size_t u = 0; u < t; u++)
            assert_string_not_equal(plan.trials[t].key, plan.trials[u].key);
    assert_true(plan.points[2].spec.model.optimizer.learning_rate >
                plan.points[0].spec.model.optimizer.learning_rate);
    assert_int_equal(plan.points[0].spec.model.layers[0].units, 2); /* classes */
    sweep_plan_free(&plan);
    free(text);
}

/* params_json keeps each value's YAML type: a real stays a real even when
 * integral (0.0 and 2.0, not 0 and 2; 1e-05 has its exponent), an integer
 * stays an integer, a boolean is a JSON boolean. The texts below are written
 * by hand from the values in the spec. */
static void test_params_json_types(void **state)
{
    (void)state;
    char *text = with_tail(XOR_HEAD, "sweep:\n  noise:\n    path: data.augment.noise\n"
                                     "    values: [0.0, 2.0, 1e-5, 0.25]\n"
                                     "  rep:\n    path: data.augment.repeat\n    values: [50]\n"
                                     "  st:\n    path: data.split.stratify\n"
                                     "    values: [false]\n");
    sweep_plan plan;
    build(text, &plan);
    assert_int_equal(plan.n_points, 4);
    const char *want[4] = {"{\"noise\": 0.0, \"rep\": 50, \"st\": false}",
                           "{\"noise\": 2.0, \"rep\": 50, \"st\": false}",
                           "{\"noise\": 1e-05, \"rep\": 50, \"st\": false}",
                           "{\"noise\": 0.25, \"rep\": 50, \"st\": false}"};
    const double noise[4] = {0.0, 2.0, 1e-5, 0.25};
    for (size_t p = 0; p < 4; p++) {
        assert_string_equal(plan.points[p].params_json, want[p]);
        assert_int_equal(plan.points[p].values[0].type, SWEEP_REAL);
        assert_true(plan.points[p].values[0].r == noise[p]);
        assert_int_equal(plan.points[p].values[1].type, SWEEP_INT);
        assert_true(plan.points[p].spec.data.pipeline.noise == noise[p]);
    }
    sweep_plan_free(&plan);
    free(text);
}

/* The canonical source of a CSV: its labels' rule is marked only when the
 * labels are numbers and not all integers (classes by value, which older
 * versions ordered as text), so integer and text labels keep their keys.
 * The SHA-256 of each text is from Python's hashlib. */
static void test_csv_label_rule_in_key(void **state)
{
    (void)state;
    static const struct {
        const char *csv, *source;
    } cases[] = {
        {"x,y\n0,0.5\n1,1.5\n2,0.5\n3,1.5\n",
         "\"source\":{\"csv_sha256\":\"571cfd6d1e959821b23cd66dfe14e042da37117ffaf4de88aee92230fd9501dd\","
         "\"kind\":\"csv\",\"label\":null,\"labels\":\"numeric\"}"},
        {"x,y\n0,0\n1,1\n2,0\n3,1.0\n",
         "\"source\":{\"csv_sha256\":\"1f97bc8f0f939c8ab254dc9bf011e89d7ac586e79722a7ba80792b1357468036\","
         "\"kind\":\"csv\",\"label\":null,\"labels\":\"numeric\"}"},
        {"x,y\n0,0\n1,1\n2,0\n3,1\n",
         "\"source\":{\"csv_sha256\":\"478d0b30a502101f16768677a4cd230355f6de01e9b03e6bad517d468bacd3a7\","
         "\"kind\":\"csv\",\"label\":null}"},
    };
    char dir[] = "/tmp/runexp_test_sweep_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64], spec[512];
    snprintf(path, sizeof path, "%s/d.csv", dir);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fputs(cases[i].csv, f) >= 0, 1);
        assert_int_equal(fclose(f), 0);
        snprintf(spec, sizeof spec,
                 "data: {source: {csv: %s}}\n"
                 "model: {layers: [{units: 2, activation: softmax}]}\n"
                 "training: {loss: categorical_crossentropy, epochs: 1}\n",
                 path);
        sweep_plan plan;
        build(spec, &plan);
        if (!strstr(plan.points[0].canonical, cases[i].source))
            fprintf(stderr, "case %zu: %s\nwant %s\n", i, plan.points[0].canonical,
                    cases[i].source);
        assert_non_null(strstr(plan.points[0].canonical, cases[i].source));
        sweep_plan_free(&plan);
    }
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(dir), 0);
}

/* The plan holds each distinct data source once. A 3-point sweep over a
 * CSV experiment: one source, whose sha256 is the file's (computed with
 * Python: hashlib.sha256(text.encode()).hexdigest()), whose data every
 * point shares, and which outlives the document (build frees it). */
static void test_plan_csv_source_once(void **state)
{
    (void)state;
    static const char csv[] = "a,b,cls\n0.5,1,x\n1.5,2,y\n2.5,3,x\n3.5,4,y\n";
    static const char sha[] = "8dda4e5ee2bb096c020ad42e19c60d41be076eca7be2ec0f9c78be795a8a3207";
    char dir[] = "/tmp/runexp_test_sweep_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64], spec[512];
    snprintf(path, sizeof path, "%s/d.csv", dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fputs(csv, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    snprintf(spec, sizeof spec,
             "data: {source: {csv: %s, label: cls}}\n"
             "model: {layers: [{units: classes, activation: softmax}]}\n"
             "training: {loss: categorical_crossentropy, epochs: 1}\n"
             "seeds: 2\n"
             "sweep: {e: {path: training.epochs, values: [1, 2, 3]}}\n",
             path);
    sweep_plan plan;
    build(spec, &plan);
    /* the file is no longer needed: the plan holds its data */
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(dir), 0);
    assert_int_equal(plan.n_points, 3);
    assert_int_equal(plan.n_sources, 1);
    const spec_input *in = plan.sources[0];
    assert_int_equal(in->kind, SPEC_SOURCE_CSV);
    assert_string_equal(in->sha256, sha);
    assert_string_equal(in->path, path);
    assert_string_equal(in->label, "cls");
    assert_int_equal(in->loaded, 1);
    assert_int_equal(in->data.n_rows, 4);
    assert_int_equal(in->data.n_features, 2);
    assert_int_equal(in->data.n_classes, 2);
    assert_string_equal(in->data.class_names[1], "y");
    assert_true(in->data.x[2] == 1.5f && in->data.y[3] == 1);
    char want[128];
    snprintf(want, sizeof want, "\"csv_sha256\":\"%s\"", sha);
    for (size_t p = 0; p < 3; p++) {
        assert_int_equal(plan.points[p].source, 0);
        assert_ptr_equal(sweep_plan_dataset(&plan, p), &in->data);
        assert_non_null(strstr(plan.points[p].canonical, want));
    }
    assert_null(sweep_plan_dataset(&plan, 3));
    spec_diagnostics d;
    spec_diagnostics_init(&d);
    assert_int_equal(sweep_plan_load_sources(&plan, &d), 0); /* nothing left to load */
    assert_int_equal(d.n, 0);
    assert_ptr_equal(sweep_plan_dataset(&plan, 0), &in->data);
    spec_diagnostics_free(&d);
    sweep_plan_free(&plan);
}

/* Built-in sources: one per distinct kind, in the order the points first
 * use them, loaded by sweep_plan_load_sources (not by the build). */
static void test_plan_builtin_sources(void **state)
{
    (void)state;
    sweep_plan plan;
    build("data: {source: xor, split: {test: 1}}\n"
          "model: {layers: [{units: classes, activation: softmax}]}\n"
          "training: {loss: categorical_crossentropy, epochs: 1}\n"
          "record: {grid: false}\n"
          "sweep: {s: {path: data.source, values: [digits, xor]},\n"
          "        e: {path: training.epochs, values: [1, 2]}}\n",
          &plan);
    assert_int_equal(plan.n_points, 4);
    assert_int_equal(plan.n_sources, 2);
    assert_int_equal(plan.sources[0]->kind, SPEC_SOURCE_DIGITS);
    assert_int_equal(plan.sources[1]->kind, SPEC_SOURCE_XOR);
    assert_string_equal(plan.sources[0]->sha256, "");
    assert_int_equal(plan.points[0].source, 0);
    assert_int_equal(plan.points[1].source, 0);
    assert_int_equal(plan.points[2].source, 1);
    assert_int_equal(plan.points[3].source, 1);
    assert_null(sweep_plan_dataset(&plan, 0));
    assert_null(sweep_plan_dataset(&plan, 2));
    spec_diagnostics d;
    spec_diagnostics_init(&d);
    assert_int_equal(sweep_plan_load_sources(&plan, &d), 0);
    spec_diagnostics_free(&d);
    const data_set *a = sweep_plan_dataset(&plan, 0), *b = sweep_plan_dataset(&plan, 2);
    assert_non_null(a);
    assert_non_null(b);
    assert_ptr_equal(sweep_plan_dataset(&plan, 1), a);
    assert_ptr_equal(sweep_plan_dataset(&plan, 3), b);
    assert_int_equal(a->n_rows, 1797);
    assert_int_equal(a->n_features, 64);
    assert_int_equal(b->n_rows, 4);
    assert_int_equal(b->n_classes, 2);
    sweep_plan_free(&plan);
}

/* Which options the trial key depends on: each value is written by a
 * one-value sweep at its path, and the canonical text of the two variants
 * must differ exactly for the options that change what is trained. The
 * rows of the option table marked KEY must all be listed here as changing
 * the key, and the ones listed as not changing it must not be marked, so a
 * row whose flag is wrong, or a new KEY option without a case, fails. */
static const struct key_case {
    const char *path, *opt, *a, *b;
    int changes;
    const char *layer0; /* the first layer (NULL: {units: 3, activation: relu}) */
    int whole;          /* 1: a and b are the whole first layer, 2: the whole
                         * optimizer; no sweep */
} KEY_CASES[] = {
    {"data.augment.repeat", "adam", "10", "11", 1, NULL, 0},
    {"data.augment.noise", "adam", "0", "0.1", 1, NULL, 0},
    {"data.split.test", "adam", "0.25", "0.3", 1, NULL, 0},
    {"data.split.validation", "adam", "2", "3", 1, NULL, 0},
    {"data.split.shuffle", "adam", "true", "false", 1, NULL, 0},
    {"data.split.stratify", "adam", "false", "true", 1, NULL, 0},
    {"data.split.random_state", "adam", "1", "2", 1, NULL, 0},
    {"data.scale", "adam", "none", "standard", 1, NULL, 0},
    {"data.seed", "adam", "1", "2", 1, NULL, 0},
    {"model.layers[0].units", "adam", "4", "5", 1, NULL, 0},
    {"model.layers[0].activation", "adam", "relu", "tanh", 1, NULL, 0},
    {"model.layers[0].kernel_initializer", "adam", "glorot_uniform", "he_normal", 1, NULL, 0},
    {"model.layers[0].bias_initializer", "adam", "zeros", "he_uniform", 1, NULL, 0},
    {"training.loss", "adam", "categorical_crossentropy", "mean_squared_error", 1, NULL, 0},
    {"training.optimizer.name", "adam", "adam", "rmsprop", 1, NULL, 0},
    {"training.optimizer.learning_rate", "adam", "0.01", "0.02", 1, NULL, 0},
    {"training.optimizer.beta_1", "adam", "0.9", "0.8", 1, NULL, 0},
    {"training.optimizer.beta_2", "adam", "0.999", "0.99", 1, NULL, 0},
    {"training.optimizer.epsilon", "rmsprop", "1e-07", "1e-06", 1, NULL, 0},
    {"training.optimizer.momentum", "sgd", "0", "0.5", 1, NULL, 0},
    {"training.optimizer.nesterov", "sgd", "false", "true", 1, NULL, 0},
    {"training.optimizer.rho", "rmsprop", "0.9", "0.8", 1, NULL, 0},
    {"training.epochs", "adam", "1", "2", 1, NULL, 0},
    {"training.batch_size", "adam", "8", "16", 1, NULL, 0},
    {"training.shuffle", "adam", "true", "false", 1, NULL, 0},
    {"model.layers[0].type", "adam", "{units: 3, activation: relu}", "{type: batch_normalization}", 1,
     NULL, 1},
    {"model.layers[0].kernel_regularizer.l1", "adam", "0", "0.01", 1, NULL, 0},
    {"model.layers[0].kernel_regularizer.l2", "adam", "0", "0.01", 1, NULL, 0},
    {"model.layers[0].bias_regularizer.l1", "adam", "0", "0.01", 1, NULL, 0},
    {"model.layers[0].bias_regularizer.l2", "adam", "0", "0.01", 1, NULL, 0},
    {"model.layers[0].rate", "adam", "0.5", "0.25", 1, "{type: dropout, rate: 0.1}", 0},
    {"model.layers[0].momentum", "adam", "0.99", "0.9", 1, "{type: batch_normalization}", 0},
    {"model.layers[0].epsilon", "adam", "0.001", "0.01", 1, "{type: batch_normalization}", 0},
    {"model.layers[0].center", "adam", "true", "false", 1, "{type: batch_normalization}", 0},
    {"model.layers[0].scale", "adam", "true", "false", 1, "{type: batch_normalization}", 0},
    {"training.early_stopping.monitor", "adam", "val_loss", "loss", 1, NULL, 0},
    {"training.early_stopping.min_delta", "adam", "0", "0.1", 1, NULL, 0},
    {"training.early_stopping.patience", "adam", "0", "3", 1, NULL, 0},
    {"training.early_stopping.mode", "adam", "auto", "min", 1, NULL, 0},
    {"training.early_stopping.baseline", "adam", "0.5", "0.6", 1, NULL, 0},
    {"training.early_stopping.restore_best_weights", "adam", "false", "true", 1, NULL, 0},
    {"training.early_stopping.start_from_epoch", "adam", "0", "2", 1, NULL, 0},
    {"training.reduce_lr_on_plateau.monitor", "adam", "val_loss", "loss", 1, NULL, 0},
    {"training.reduce_lr_on_plateau.factor", "adam", "0.1", "0.5", 1, NULL, 0},
    {"training.reduce_lr_on_plateau.patience", "adam", "10", "3", 1, NULL, 0},
    {"training.reduce_lr_on_plateau.mode", "adam", "auto", "max", 1, NULL, 0},
    {"training.reduce_lr_on_plateau.min_delta", "adam", "0.0001", "0.01", 1, NULL, 0},
    {"training.reduce_lr_on_plateau.cooldown", "adam", "0", "2", 1, NULL, 0},
    {"training.reduce_lr_on_plateau.min_lr", "adam", "0", "0.0001", 1, NULL, 0},
    {"training.optimizer.learning_rate.schedule", "adam",
     "{name: adam, learning_rate: {schedule: exponential_decay, initial_learning_rate: 0.01, decay_steps: 10, decay_rate: 0.5}}",
     "{name: adam, learning_rate: {schedule: cosine_decay, initial_learning_rate: 0.01, decay_steps: 10}}",
     1, NULL, 2},
#define EXP_LR "{name: sgd, learning_rate: {schedule: exponential_decay, initial_learning_rate: 0.01, decay_steps: 10, decay_rate: 0.5}}"
#define COS_LR "{name: sgd, learning_rate: {schedule: cosine_decay, initial_learning_rate: 0.01, decay_steps: 10}}"
#define PW_LR "{name: sgd, learning_rate: {schedule: piecewise_constant, boundaries: [10], values: [0.1, 0.01]}}"
    {"training.optimizer.learning_rate.initial_learning_rate", EXP_LR, "0.01", "0.02", 1, NULL, 0},
    {"training.optimizer.learning_rate.decay_steps", EXP_LR, "10", "20", 1, NULL, 0},
    {"training.optimizer.learning_rate.decay_rate", EXP_LR, "0.5", "0.9", 1, NULL, 0},
    {"training.optimizer.learning_rate.staircase", EXP_LR, "false", "true", 1, NULL, 0},
    {"training.optimizer.learning_rate.alpha", COS_LR, "0", "0.1", 1, NULL, 0},
    {"training.optimizer.learning_rate.boundaries", PW_LR, "[10]", "[20]", 1, NULL, 0},
    {"training.optimizer.learning_rate.values", PW_LR, "[0.1, 0.01]", "[0.1, 0.02]", 1, NULL, 0},
    {"training.class_weight", "adam", "balanced", "{1: 2}", 1, NULL, 0},
    {"training.metrics", "adam", "[accuracy]", "[]", 0, NULL, 0},
    {"record.history", "adam", "true", "true", 0, NULL, 0},
    {"record.confusion", "adam", "[test]", "[train, validation]", 0, NULL, 0},
    {"record.weights", "adam", "true", "false", 0, NULL, 0},
    {"record.predictions", "adam", "true", "false", 0, NULL, 0},
    {"record.grid", "adam", "true", "false", 0, NULL, 0},
    {"record.grid.resolution", "adam", "10", "20", 0, NULL, 0},
    {"record.grid.range", "adam", "[[0, 1], [0, 1]]", "[[-5, 5], [-2, 3]]", 0, NULL, 0},
};

static char *canonical_with(const struct key_case *k, const char *value)
{
    char text[2048];
    const char *l0 = k->whole == 1 ? value : k->layer0 ? k->layer0 : "{units: 3, activation: relu}";
    int n = snprintf(text, sizeof text,
                     "data:\n  source: xor\n  augment: {repeat: 10}\n  split: {validation: 2}\n"
                     "model:\n  layers:\n    - %s\n"
                     "    - {units: 2, activation: softmax}\n"
                     "training:\n  loss: categorical_crossentropy\n  optimizer: %s\n  epochs: 3\n",
                     l0, k->whole == 2 ? value : k->opt);
    if (!k->whole)
        snprintf(text + n, sizeof text - (size_t)n,
                 "sweep:\n  v:\n    path: %s\n    values: [%s]\n", k->path, value);
    sweep_plan plan;
    build(text, &plan);
    assert_int_equal(plan.n_points, 1);
    char *c = strdup(plan.points[0].canonical);
    assert_non_null(c);
    sweep_plan_free(&plan);
    return c;
}

static void test_key_options(void **state)
{
    (void)state;
    size_t n = sizeof KEY_CASES / sizeof KEY_CASES[0];
    for (size_t i = 0; i < n; i++) {
        const struct key_case *k = &KEY_CASES[i];
        char *a = canonical_with(k, k->a), *b = canonical_with(k, k->b);
        if ((strcmp(a, b) != 0) != k->changes)
            fail_msg("%s: %s -> %s %s the canonical form, expected the opposite\n%s\n%s",
                     k->path, k->a, k->b, k->changes ? "does not change" : "changes", a, b);
        free(a);
        free(b);
    }
    /* The table agrees: its KEY leaves are exactly the changing cases. */
    for (size_t r = 0; r < spec_n_options; r++) {
        const spec_option *o = &spec_options[r];
        if (o->type == OPT_MAP || o->type == OPT_NAME_MAP || o->type == OPT_LAYERS ||
            o->type == OPT_SOURCE)
            continue;
        int listed = -1;
        for (size_t i = 0; i < n; i++) {
            char g[128];
            size_t gl = 0;
            for (const char *p = KEY_CASES[i].path; *p && gl + 1 < sizeof g; p++) {
                g[gl++] = *p;
                if (*p == '[')
                    while (p[1] && p[1] != ']')
                        p++;
            }
            g[gl] = '\0';
            if (!strcmp(g, o->path))
                listed = KEY_CASES[i].changes;
        }
        if ((o->flags & OPT_KEY) && listed != 1)
            fail_msg("KEY option %s has no case that shows it changes the key", o->path);
        if (!(o->flags & OPT_KEY) && listed == 1)
            fail_msg("option %s changes the key but is not marked KEY", o->path);
    }
}

/* data.split.random_state: stored for the pipeline, in the key when given
 * (a different value, a different key), left out of the canonical form when
 * absent so the keys of specs without it stay as they were. */
static void test_random_state_key(void **state)
{
    (void)state;
    const char *extra[3] = {"", ", random_state: 42", ", random_state: 0"};
    char *canon[3];
    for (int i = 0; i < 3; i++) {
        char text[512];
        snprintf(text, sizeof text,
                 "data:\n  source: digits\n  split: {test: 0.25, validation: 0.25%s}\n"
                 "model:\n  layers:\n    - {units: classes, activation: softmax}\n"
                 "training: {loss: categorical_crossentropy, epochs: 1}\n",
                 extra[i]);
        sweep_plan p;
        build(text, &p);
        const data_pipeline_config *c = &p.points[0].spec.data.pipeline;
        assert_int_equal(c->has_random_state, i > 0);
        assert_int_equal(c->random_state, i == 1 ? 42 : 0);
        canon[i] = strdup(p.points[0].canonical);
        assert_non_null(canon[i]);
        sweep_plan_free(&p);
    }
    assert_null(strstr(canon[0], "random_state"));
    assert_non_null(strstr(canon[1], "\"random_state\":42"));
    assert_non_null(strstr(canon[2], "\"random_state\":0"));
    assert_string_not_equal(canon[1], canon[2]);
    for (int i = 0; i < 3; i++)
        free(canon[i]);
}

/* ---- random search ------------------------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Kolmogorov-Smirnov statistic of x[0..n) (sorted here) against the
 * uniform distribution on [0, 1]: max over i of |i/n - x| and |(i+1)/n - x|. */
static double ks_uniform(double *x, size_t n)
{
    qsort(x, n, sizeof *x, cmp_double);
    double d = 0;
    for (size_t i = 0; i < n; i++) {
        double lo = x[i] - (double)i / (double)n, hi = (double)(i + 1) / (double)n - x[i];
        d = lo > d ? lo : d;
        d = hi > d ? hi : d;
    }
    return d;
}

/* log_uniform draws: within [a, b], and uniform in log space by the
 * Kolmogorov-Smirnov test: with n = 4000 draws of a fixed search seed the
 * statistic must stay below the 0.1 % critical value sqrt(ln(2 / 0.001) / 2)
 * / sqrt(n) = 0.0308 (the asymptotic Kolmogorov distribution); the same
 * draws are far from uniform in linear space (so the test can fail). */
static void test_random_log_uniform(void **state)
{
    (void)state;
    char *t = with_tail(XOR_HEAD, "search: {method: random, trials: 4000, seed: 7}\n"
                                  "sweep:\n  lr:\n    path: training.optimizer.learning_rate\n"
                                  "    log_uniform: [0.0001, 0.1]\n");
    sweep_plan p;
    build(t, &p);
    free(t);
    size_t n = p.n_points;
    assert_int_equal(n, 4000);
    double *y = malloc(n * sizeof *y), *z = malloc(n * sizeof *z);
    assert_non_null(y);
    assert_non_null(z);
    const double la = log(1e-4), lb = log(0.1);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(p.points[i].values[0].type, SWEEP_REAL);
        double x = p.points[i].values[0].r;
        assert_true(x >= 1e-4 && x <= 0.1);
        /* the value the point trains with is the drawn one */
        assert_true(p.points[i].spec.model.optimizer.learning_rate == x);
        y[i] = (log(x) - la) / (lb - la);
        z[i] = (x - 1e-4) / (0.1 - 1e-4);
    }
    double crit = sqrt(log(2.0 / 0.001) / 2.0) / sqrt((double)n);
    double d_log = ks_uniform(y, n), d_lin = ks_uniform(z, n);
    assert_true(d_log < crit);
    assert_true(d_lin > 0.5);
    free(y);
    free(z);
    sweep_plan_free(&p);
}

/* int_uniform and uniform stay in their bounds, every integer of a small
 * range is drawn, and a draw equal to an earlier one is dropped. */
static void test_random_bounds(void **state)
{
    (void)state;
    char *t = with_tail(XOR_HEAD, "seeds: 2\nsearch: {method: random, trials: 300}\n"
                                  "sweep:\n  hidden:\n    path: model.layers[0].units\n"
                                  "    int_uniform: [2, 5]\n"
                                  "  act:\n    path: model.layers[0].activation\n"
                                  "    choice: [relu, tanh]\n");
    sweep_plan p;
    build(t, &p);
    free(t);
    /* 4 x 2 possible draws: each drawn (300 tries), each once */
    assert_int_equal(p.n_points, 8);
    assert_int_equal(p.n_trials, 16);
    int seen[4][2] = {{0}};
    for (size_t i = 0; i < p.n_points; i++) {
        long long h = p.points[i].values[0].i;
        assert_true(h >= 2 && h <= 5);
        int a = !strcmp(p.points[i].values[1].s, "tanh");
        assert_int_equal(seen[h - 2][a], 0);
        seen[h - 2][a] = 1;
    }
    sweep_plan_free(&p);
    t = with_tail(XOR_HEAD, "search: {method: random, trials: 500, seed: 3}\n"
                            "sweep:\n  lr:\n    path: training.optimizer.learning_rate\n"
                            "    uniform: [0.25, 0.5]\n");
    build(t, &p);
    free(t);
    double lo = 1, hi = 0;
    for (size_t i = 0; i < p.n_points; i++) {
        double x = p.points[i].values[0].r;
        assert_true(x >= 0.25 && x <= 0.5);
        lo = x < lo ? x : lo;
        hi = x > hi ? x : hi;
    }
    assert_true(lo < 0.26 && hi > 0.49);
    sweep_plan_free(&p);
}

/* The draws are a function of the spec: the same text gives the same keys,
 * raising trials keeps every earlier point (and key) in front, another
 * search seed gives other draws, the trial seeds do not change them. */
static void test_random_prefix(void **state)
{
    (void)state;
#define RANDOM_FMT                                                                                 \
    "seeds: %s\nsearch: {method: random, trials: %d, seed: %d}\n"                                   \
    "sweep:\n  lr:\n    path: training.optimizer.learning_rate\n"                                   \
    "    log_uniform: [0.0001, 0.1]\n"                                                              \
    "  hidden:\n    path: model.layers[0].units\n    int_uniform: [1, 64]\n"
    char tail[512];
    sweep_plan a, a2, b, c, d;
    snprintf(tail, sizeof tail, RANDOM_FMT, "2", 30, 0);
    char *t = with_tail(XOR_HEAD, tail);
    build(t, &a);
    build(t, &a2);
    free(t);
    snprintf(tail, sizeof tail, RANDOM_FMT, "2", 60, 0);
    t = with_tail(XOR_HEAD, tail);
    build(t, &b);
    free(t);
    snprintf(tail, sizeof tail, RANDOM_FMT, "2", 30, 1);
    t = with_tail(XOR_HEAD, tail);
    build(t, &c);
    free(t);
    snprintf(tail, sizeof tail, RANDOM_FMT, "[5, 9]", 30, 0);
    t = with_tail(XOR_HEAD, tail);
    build(t, &d);
    free(t);
    assert_true(a.n_points >= 29 && a.n_points <= 30);
    assert_true(b.n_points > a.n_points);
    size_t same_c = 0;
    for (size_t i = 0; i < a.n_points; i++) {
        assert_string_equal(a.points[i].params_json, a2.points[i].params_json);
        assert_string_equal(a.points[i].params_json, b.points[i].params_json);
        assert_string_equal(a.points[i].params_json, d.points[i].params_json);
        assert_string_equal(a.points[i].canonical, b.points[i].canonical);
        same_c += i < c.n_points && !strcmp(a.points[i].params_json, c.points[i].params_json);
    }
    for (size_t i = 0; i < a.n_trials; i++)
        assert_string_equal(a.trials[i].key, b.trials[i].key);
    assert_int_equal(same_c, 0);
    sweep_plan_free(&a);
    sweep_plan_free(&a2);
    sweep_plan_free(&b);
    sweep_plan_free(&c);
    sweep_plan_free(&d);
}

/* Random draws times a grid entry: every draw with every grid value, the
 * draws where the first distribution is written; rungs of a pruned plan. */
static void test_random_grid_and_rungs(void **state)
{
    (void)state;
    char *t = with_tail(XOR_HEAD,
                        "search:\n  method: random\n  trials: 3\n"
                        "  prune: {method: successive_halving, min_epochs: 10, eta: 3}\n"
                        "sweep:\n  bs:\n    path: training.batch_size\n    values: [16, 32]\n"
                        "  lr:\n    path: training.optimizer.learning_rate\n"
                        "    uniform: [0.001, 0.01]\n");
    sweep_plan p;
    build(t, &p);
    free(t);
    assert_int_equal(p.n_points, 6);
    assert_int_equal(p.n_dims, 2);
    assert_string_equal(p.dim_names[0], "bs");
    assert_string_equal(p.dim_names[1], "lr");
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(p.points[i].values[0].i, i < 3 ? 16 : 32);
        assert_true(p.points[i].values[1].r == p.points[i % 3].values[1].r);
    }
    size_t r[SWEEP_MAX_RUNGS];
    assert_int_equal(sweep_plan_rungs(&p, r), 4);
    assert_int_equal(r[0], 10);
    assert_int_equal(r[1], 30);
    assert_int_equal(r[2], 90);
    assert_int_equal(r[3], 200);
    sweep_plan_free(&p);
}

/* The decision grid's default resolution: 100 up to SPEC_GRID_FULL_TRIALS
 * trials (1000), 25 above, unless the resolution is written; the keys do
 * not change with it. */
static void test_grid_default_large_plan(void **state)
{
    (void)state;
    /* pred: the per-row predictions, on up to 1000 trials, off above
     * unless record.predictions is written */
    static const struct {
        const char *tail;
        size_t trials, res;
        int pred;
    } cases[] = {
        {"seeds: 1000\n", 1000, 100, 1},
        {"seeds: 1001\n", 1001, 25, 0},
        {"seeds: 1001\nrecord: {grid: true}\n", 1001, 25, 0},
        {"seeds: 1001\nrecord: {grid: {resolution: 100}}\n", 1001, 100, 0},
        {"seeds: 1001\nrecord: {grid: {resolution: 40}, predictions: true}\n", 1001, 40, 1},
        {"seeds: 501\nsweep: {hidden: {path: \"model.layers[0].units\", values: [2, 3]}}\n",
         1002, 25, 0},
        {"seeds: 10\nrecord: {predictions: false}\n", 10, 100, 0},
    };
    char first_key[65] = "";
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char *text = with_tail(XOR_HEAD, cases[c].tail);
        sweep_plan plan;
        build(text, &plan);
        assert_int_equal(plan.n_trials, cases[c].trials);
        for (size_t p = 0; p < plan.n_points; p++) {
            assert_true(plan.points[p].spec.record.grid);
            assert_int_equal(plan.points[p].spec.record.grid_resolution, cases[c].res);
            assert_int_equal(plan.points[p].spec.record.predictions, cases[c].pred);
        }
        /* Trial 0 (hidden 6 or 2, seed 0) has one key whatever the grid. */
        if (c < 5) {
            if (!first_key[0])
                snprintf(first_key, sizeof first_key, "%s", plan.trials[0].key);
            assert_string_equal(plan.trials[0].key, first_key);
        }
        sweep_plan_free(&plan);
        free(text);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grid_default_large_plan),
        cmocka_unit_test(test_lab_xor_plan),
        cmocka_unit_test(test_random_state_key),
        cmocka_unit_test(test_digits_keys),
        cmocka_unit_test(test_grid_order),
        cmocka_unit_test(test_ranges),
        cmocka_unit_test(test_zip),
        cmocka_unit_test(test_key_stability),
        cmocka_unit_test(test_key_sweep_equals_written),
        cmocka_unit_test(test_sweep_absent_key),
        cmocka_unit_test(test_params_json_types),
        cmocka_unit_test(test_csv_label_rule_in_key),
        cmocka_unit_test(test_close_values_not_duplicates),
        cmocka_unit_test(test_key_options),
        cmocka_unit_test(test_plan_csv_source_once),
        cmocka_unit_test(test_plan_builtin_sources),
        cmocka_unit_test(test_random_log_uniform),
        cmocka_unit_test(test_random_bounds),
        cmocka_unit_test(test_random_prefix),
        cmocka_unit_test(test_random_grid_and_rungs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
