/* The two cross-checked trials, shared by tests/crosscheck/export.c (which
 * writes their inputs for torch_reference.py) and tests/unit/test_crosscheck.c
 * (which re-trains them and compares with the fixtures). Everything here must
 * stay as it was when the fixtures were generated; changing it means
 * regenerating them (tests/crosscheck/README.md). */
#ifndef RUNEXP_CROSSCHECK_SETUP_H
#define RUNEXP_CROSSCHECK_SETUP_H

#include <stdint.h>
#include <string.h>

#include "data.h"
#include "nn.h"

#define CROSSCHECK_EPOCHS 30
#define CROSSCHECK_SEED 7

typedef struct crosscheck_case {
    const char *name;        /* "xor" or "digits" */
    data_set source;
    data_pipeline_config pipeline;
    nn_model_config model;
    size_t batch;
} crosscheck_case;

/* The lab models: XOR Dense(6, relu) -> Dense(2, softmax), batch 32, data
 * tile 200 + noise 0.3, test 0.2, validation 20; digits Dense(10, softmax),
 * batch 128, test 0.25, validation 0.25. Adam with Keras defaults, CCE. */
static int crosscheck_case_make(crosscheck_case *c, int digits)
{
    data_error err;
    memset(c, 0, sizeof *c);
    c->name = digits ? "digits" : "xor";
    if ((digits ? data_source_digits(&c->source, &err) : data_source_xor(&c->source)) != 0)
        return -1;
    data_pipeline_config *p = &c->pipeline;
    p->repeat = digits ? 1 : 200;
    p->noise = digits ? 0.0 : 0.3;
    p->test.test.given = 1;
    p->test.test.is_count = 0;
    p->test.test.value = digits ? 0.25 : 0.2;
    p->test.shuffle = 1;
    p->validation.test.given = 1;
    p->validation.test.is_count = digits ? 0 : 1;
    p->validation.test.value = digits ? 0.25 : 20;
    p->validation.shuffle = 1;
    p->scale = DATA_SCALE_NONE;
    nn_model_config *m = &c->model;
    m->n_inputs = digits ? 64 : 2;
    if (digits) {
        m->n_layers = 1;
        m->layers[0].units = 10;
        m->layers[0].activation = NN_ACT_SOFTMAX;
    } else {
        m->n_layers = 2;
        m->layers[0].units = 6;
        m->layers[0].activation = NN_ACT_RELU;
        m->layers[1].units = 2;
        m->layers[1].activation = NN_ACT_SOFTMAX;
    }
    for (size_t l = 0; l < m->n_layers; l++) {
        m->layers[l].kernel_init = NN_INIT_GLOROT_UNIFORM;
        m->layers[l].bias_init = NN_INIT_ZEROS;
    }
    m->loss = NN_LOSS_CATEGORICAL_CROSSENTROPY;
    nn_optimizer_defaults(&m->optimizer, NN_OPT_ADAM);
    c->batch = digits ? 128 : 32;
    return 0;
}

/* Streams of a trial with seed s: data_seed = s for the pipeline,
 * rng_stream(s, INIT) for the weights, rng_stream(s, SHUFFLE) for fit. */
static void crosscheck_streams(uint64_t seed, rng_state *init, rng_state *shuffle)
{
    rng_stream(init, seed, RNG_PURPOSE_INIT);
    rng_stream(shuffle, seed, RNG_PURPOSE_SHUFFLE);
}

#endif
