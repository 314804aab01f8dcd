/* nn: sequential dense networks with Keras-equivalent semantics.
 *
 * See ../shared/reference/keras-semantics.md. float32 weights and activations;
 * reported sums (loss, accuracy) accumulate in double. A model allocates all
 * it needs in nn_model_new (flat parameter and gradient buffers, optimizer
 * state, activations for the largest batch); nothing is allocated while
 * training. No OpenMP inside: trials are the parallel unit.
 */
#ifndef RUNEXP_NN_H
#define RUNEXP_NN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rng.h"

#define NN_MAX_LAYERS 16

typedef enum {
    NN_ACT_LINEAR = 0, /* y = x */
    NN_ACT_RELU,       /* y = max(0, x) */
    NN_ACT_SIGMOID,    /* y = 1 / (1 + exp(-x)) */
    NN_ACT_TANH,       /* y = tanh(x) */
    NN_ACT_SOFTMAX     /* y_i = exp(x_i - max x) / sum_j exp(x_j - max x) */
} nn_activation;

typedef enum {
    NN_INIT_GLOROT_UNIFORM = 0, /* U(-l, l), l = sqrt(6 / (fan_in + fan_out)) */
    NN_INIT_GLOROT_NORMAL,      /* truncated N(0, 2 / (fan_in + fan_out)) as Keras */
    NN_INIT_HE_UNIFORM,         /* U(-l, l), l = sqrt(6 / fan_in) */
    NN_INIT_HE_NORMAL,          /* truncated N(0, 2 / fan_in) as Keras */
    NN_INIT_ZEROS
} nn_init;

typedef enum {
    NN_LOSS_CATEGORICAL_CROSSENTROPY = 0,
    NN_LOSS_BINARY_CROSSENTROPY,
    NN_LOSS_MEAN_SQUARED_ERROR
} nn_loss;

typedef enum { NN_OPT_ADAM = 0, NN_OPT_SGD, NN_OPT_RMSPROP } nn_optimizer_kind;

/* Optimizer settings; nn_optimizer_defaults fills Keras's defaults. */
typedef struct nn_optimizer_config {
    nn_optimizer_kind kind;
    double learning_rate; /* adam 0.001, sgd 0.01, rmsprop 0.001 */
    double beta_1;        /* adam 0.9 */
    double beta_2;        /* adam 0.999 */
    double epsilon;       /* adam, rmsprop 1e-7 */
    double momentum;      /* sgd 0 */
    int nesterov;         /* sgd 0 */
    double rho;           /* rmsprop 0.9 */
} nn_optimizer_config;

void nn_optimizer_defaults(nn_optimizer_config *c, nn_optimizer_kind kind);

typedef struct nn_layer_config {
    size_t units;
    nn_activation activation;
    nn_init kernel_init; /* default glorot_uniform */
    nn_init bias_init;   /* default zeros */
} nn_layer_config;

typedef struct nn_model_config {
    size_t n_inputs;
    size_t n_layers;
    nn_layer_config layers[NN_MAX_LAYERS];
    nn_loss loss;
    nn_optimizer_config optimizer;
} nn_model_config;

typedef struct nn_model nn_model; /* opaque */

/* Builds a model able to process batches of up to max_batch rows. Weights
 * are zero until nn_model_init. Returns NULL when out of memory or when the
 * config is invalid (no layers, zero units). Free with nn_model_free. */
nn_model *nn_model_new(const nn_model_config *c, size_t max_batch);
void nn_model_free(nn_model *m);

/* Bytes a model holds: the struct, its arena (parameters, gradients,
 * optimizer state, activations and scratch for max_batch rows, all linear in
 * the parameter count and in max_batch x the widest layer or input) and the
 * buffers nn_fit grew (epoch order, row classes: 4 bytes per row each). */
size_t nn_model_bytes(const nn_model *m);

/* What nn_model_new(c, max_batch) would allocate, without building it
 * (struct + arena; nn_fit adds 8 bytes per training and validation row).
 * 0 for an invalid config, SIZE_MAX when the sizes overflow. */
size_t nn_model_bytes_for(const nn_model_config *c, size_t max_batch);

const nn_model_config *nn_model_get_config(const nn_model *m);

/* Draws kernels from r with each layer's initializer, layer by layer, the
 * kernel in row-major (in, out) order; biases by their initializer. Resets
 * the optimizer state (step counter 0, moments 0). */
void nn_model_init(nn_model *m, rng_state *r);

/* Flat parameter buffer: for each layer, its kernel (in x out, row-major)
 * then its bias (out). nn_model_param_count values. */
size_t nn_model_param_count(const nn_model *m);
float *nn_model_params(nn_model *m);
const float *nn_model_params_const(const nn_model *m);
/* Offset of layer l's kernel and bias inside the flat buffer. */
size_t nn_model_kernel_offset(const nn_model *m, size_t layer);
size_t nn_model_bias_offset(const nn_model *m, size_t layer);
size_t nn_model_layer_inputs(const nn_model *m, size_t layer);

/* Writes model.summary() in the Keras 2.7-2.12 layout (see the reference
 * page) to f. */
void nn_model_summary(const nn_model *m, FILE *f);

/* One epoch's history, as Keras records it. */
typedef struct nn_epoch_log {
    size_t epoch;         /* 1-based */
    double loss;          /* sample-weighted mean of batch losses, before each update */
    double accuracy;      /* correct / seen over the epoch, before each update */
    double val_loss;      /* after the epoch's last update; NAN without validation */
    double val_accuracy;
} nn_epoch_log;

/* Called after every epoch. Return 0 to go on, non-zero to stop training. */
typedef int (*nn_epoch_fn)(void *user, const nn_epoch_log *log);

/* Called at the start of every epoch with the row order of that epoch
 * (order[0..n) indices into the training rows). For exports and checks;
 * may be NULL. */
typedef void (*nn_order_fn)(void *user, size_t epoch, const uint32_t *order,
                            size_t n);

typedef struct nn_fit_config {
    size_t epochs;
    size_t batch_size; /* default 32; must be <= the model's max_batch */
    int shuffle;       /* default 1: fresh permutation every epoch */
    nn_epoch_fn on_epoch;
    nn_order_fn on_order;
    void *user;
} nn_fit_config;

typedef enum {
    NN_FIT_DONE = 0,     /* all epochs ran */
    NN_FIT_STOPPED,      /* on_epoch asked to stop */
    NN_FIT_DIVERGED,     /* loss became NaN or Inf */
    NN_FIT_ERROR         /* bad arguments */
} nn_fit_status;

typedef struct nn_fit_result {
    nn_fit_status status;
    size_t epochs_run;      /* epochs completed */
    size_t diverged_epoch;  /* 1-based epoch where NaN/Inf appeared, else 0 */
} nn_fit_result;

/* Trains on (x, y) with n rows; y is one-hot (n x classes) for
 * categorical cross-entropy, targets (n x units) otherwise. xv/yv (nv rows)
 * is the validation set, or NULL/0. The shuffle stream r is used only when
 * shuffle is on. The epoch-order scratch (n indices) lives in the model: it
 * is allocated (or grown) once at the start of nn_fit, before the first step;
 * nothing is allocated inside the epoch loop. Epoch order: the identity
 * 0..n-1 shuffled afresh every epoch. A NaN/Inf batch loss stops training
 * before that batch's update (on_epoch is not called for that epoch). */
nn_fit_result nn_fit(nn_model *m, const float *x, const float *y, size_t n,
                     const float *xv, const float *yv, size_t nv,
                     const nn_fit_config *c, rng_state *r);

/* Keras evaluate: sample-weighted mean loss and accuracy over batches of
 * batch_size rows (0 -> 32), no shuffling. */
void nn_evaluate(nn_model *m, const float *x, const float *y, size_t n,
                 size_t batch_size, double *loss, double *accuracy);

/* Output probabilities (n x output units) into out, in batches. */
void nn_predict(nn_model *m, const float *x, size_t n, float *out);

/* ---- additions for tests and tools (nn owner) ---------------------------- */

/* The flat gradient buffer (same layout as the parameters). */
float *nn_model_grads(nn_model *m);

/* Forward + backward on rows x[0..n) (n <= max_batch, no shuffling, no
 * update): fills the gradient buffer with d(mean loss)/d(params) and returns
 * the batch-mean loss (per-sample float losses summed in double). *grad_out
 * (if not NULL) is set to the gradient buffer. */
double nn_model_loss_grad(nn_model *m, const float *x, const float *y, size_t n,
                          float **grad_out);

/* One optimizer step (step counter + 1) with the given gradient (copied into
 * the gradient buffer first unless it is that buffer). */
void nn_model_apply_gradient(nn_model *m, const float *grad);

#endif
