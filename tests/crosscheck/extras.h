/* The cross-checked Keras training extras, shared by
 * tests/crosscheck/export_extras.c (which writes their inputs for
 * torch_extras.py) and tests/unit/test_crosscheck_extras.c (which re-trains
 * them and compares with the fixtures). All on the XOR lab data of setup.h
 * (seed CROSSCHECK_SEED, 620 training and 20 validation rows), batch 32:
 *   dropout   Dense(8, relu) -> Dropout(0.5) -> Dense(2, softmax), Adam
 *   l2        Dense(8, relu, kernel L2 0.01) -> Dense(2, softmax, kernel L2 0.01), Adam
 *   batchnorm Dense(8, relu) -> BatchNormalization() -> Dense(2, softmax), Adam
 *   es        Dense(6, relu) -> Dense(2, softmax), Adam lr 0.05, EarlyStopping(
 *             monitor val_loss, patience 2, restore_best_weights), up to 60 epochs
 *   expdecay  Dense(6, relu) -> Dense(2, softmax), SGD with ExponentialDecay(0.5,
 *             decay_steps 40, decay_rate 0.5)
 * Changing anything here means regenerating the fixtures (README.md). */
#ifndef RUNEXP_CROSSCHECK_EXTRAS_H
#define RUNEXP_CROSSCHECK_EXTRAS_H

#include "setup.h"

#define EXTRAS_N 5
#define EXTRAS_MAX_EPOCHS 60

typedef struct extras_case {
    crosscheck_case base; /* data, pipeline, batch */
    const char *name;
    size_t epochs;
    nn_early_stopping es;
} extras_case;

static const char *const extras_names[EXTRAS_N] = {"dropout", "l2", "batchnorm", "es",
                                                   "expdecay"};

static int extras_case_make(extras_case *c, int which)
{
    memset(c, 0, sizeof *c);
    if (crosscheck_case_make(&c->base, 0) != 0)
        return -1;
    c->name = extras_names[which];
    c->epochs = 20;
    nn_model_config *m = &c->base.model;
    memset(m->layers, 0, sizeof m->layers);
    m->n_inputs = 2;
    m->loss = NN_LOSS_CATEGORICAL_CROSSENTROPY;
    nn_optimizer_defaults(&m->optimizer, NN_OPT_ADAM);
    size_t hidden = which >= 3 ? 6 : 8;
    nn_layer_config *l = m->layers;
    l[0].units = hidden;
    l[0].activation = NN_ACT_RELU;
    m->n_layers = 2;
    if (which == 0 || which == 2) {
        m->n_layers = 3;
        if (which == 0) {
            l[1].kind = NN_LAYER_DROPOUT;
            l[1].rate = 0.5;
        } else {
            nn_layer_batch_norm_defaults(&l[1]);
        }
        l[1].units = hidden;
    }
    nn_layer_config *out = &l[m->n_layers - 1];
    out->units = 2;
    out->activation = NN_ACT_SOFTMAX;
    if (which == 1) {
        l[0].kernel_regularizer.l2 = 0.01;
        out->kernel_regularizer.l2 = 0.01;
    }
    if (which == 3) {
        m->optimizer.learning_rate = 0.05;
        nn_early_stopping_defaults(&c->es);
        c->es.patience = 2;
        c->es.restore_best_weights = 1;
        c->epochs = EXTRAS_MAX_EPOCHS;
    }
    if (which == 4) {
        nn_optimizer_defaults(&m->optimizer, NN_OPT_SGD);
        m->optimizer.schedule.kind = NN_LR_EXPONENTIAL_DECAY;
        m->optimizer.schedule.initial_learning_rate = 0.5;
        m->optimizer.schedule.decay_steps = 40;
        m->optimizer.schedule.decay_rate = 0.5;
        m->optimizer.learning_rate = 0.5;
    }
    return 0;
}

/* The dropout stream of the trial: rng_stream(seed, DROPOUT), as trial.c. */
static void extras_dropout_stream(rng_state *r)
{
    rng_stream(r, CROSSCHECK_SEED, RNG_PURPOSE_DROPOUT);
}

#endif
