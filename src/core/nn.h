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
/* Keras LearningRateSchedule, evaluated per optimizer step (the number of
 * updates already applied: 0 for the first batch) in float32:
 *   exponential_decay: initial * decay_rate^(step / decay_steps), the
 *     exponent floored when staircase;
 *   piecewise_constant: values[i] while step <= boundaries[i] (i < n),
 *     values[n] after the last boundary;
 *   cosine_decay: p = min(step, decay_steps) / decay_steps,
 *     initial * ((1 - alpha) * 0.5 * (1 + cos(pi p)) + alpha). */
typedef enum {
    NN_LR_CONSTANT = 0, /* learning_rate */
    NN_LR_EXPONENTIAL_DECAY,
    NN_LR_PIECEWISE_CONSTANT,
    NN_LR_COSINE_DECAY
} nn_lr_schedule_kind;

#define NN_MAX_BOUNDARIES 16

typedef struct nn_lr_schedule {
    nn_lr_schedule_kind kind;
    double initial_learning_rate; /* exponential, cosine */
    double decay_steps;           /* exponential, cosine: > 0 */
    double decay_rate;            /* exponential */
    int staircase;                /* exponential */
    double alpha;                 /* cosine: 0 */
    size_t n_boundaries;          /* piecewise: boundaries[n], values[n + 1] */
    double boundaries[NN_MAX_BOUNDARIES];
    double values[NN_MAX_BOUNDARIES + 1];
} nn_lr_schedule;

/* The rate a schedule gives at optimizer step `step` (float32, as Keras). */
float nn_lr_schedule_at(const nn_lr_schedule *s, uint64_t step);

typedef struct nn_optimizer_config {
    nn_optimizer_kind kind;
    double learning_rate; /* adam 0.001, sgd 0.01, rmsprop 0.001; ignored
                           * when schedule.kind != NN_LR_CONSTANT */
    nn_lr_schedule schedule; /* zeroed: a constant learning_rate */
    double beta_1;        /* adam 0.9 */
    double beta_2;        /* adam 0.999 */
    double epsilon;       /* adam, rmsprop 1e-7 */
    double momentum;      /* sgd 0 */
    int nesterov;         /* sgd 0 */
    double rho;           /* rmsprop 0.9 */
} nn_optimizer_config;

void nn_optimizer_defaults(nn_optimizer_config *c, nn_optimizer_kind kind);

typedef enum {
    NN_LAYER_DENSE = 0,   /* y = act(x W + b) */
    NN_LAYER_DROPOUT,     /* training: y = keep ? x / (1 - rate) : 0; inference: y = x */
    NN_LAYER_BATCH_NORM   /* y = gamma (x - mean) / sqrt(var + epsilon) + beta */
} nn_layer_kind;

/* Keras L1L2: penalty l1 sum |w| + l2 sum w^2 (no 1/2), added once per
 * batch to the mean batch loss. Zero = none. */
typedef struct nn_regularizer {
    double l1, l2;
} nn_regularizer;

/* One layer. A zeroed struct with units set is a dense layer with linear
 * activation, glorot_uniform kernel, zeros bias, no regularizer. Dropout and
 * batch normalization keep the width of their input (units is ignored;
 * the spec fills in the input width) and may not be the last layer. A
 * dropout of rate 0 is the identity and changes nothing, not even the bits
 * of a result. */
typedef struct nn_layer_config {
    size_t units;
    nn_activation activation;
    nn_init kernel_init; /* default glorot_uniform */
    nn_init bias_init;   /* default zeros */
    nn_layer_kind kind;  /* default dense */
    nn_regularizer kernel_regularizer, bias_regularizer; /* dense */
    double rate;         /* dropout: 0 <= rate < 1 */
    double momentum;     /* batch norm: 0.99 (moving = moving m + batch (1 - m)) */
    double epsilon;      /* batch norm: 0.001, > 0 */
    int center, scale;   /* batch norm: 1, 1 (beta, gamma exist) */
} nn_layer_config;

/* Fills l as Keras's BatchNormalization() with its defaults. */
void nn_layer_batch_norm_defaults(nn_layer_config *l);

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
 * kernel in row-major (in, out) order; biases by their initializer (batch
 * normalization draws nothing: gamma 1, beta 0, moving mean 0, moving
 * variance 1). Resets the optimizer state (step counter 0, moments 0, the
 * learning rate to the configured one). */
void nn_model_init(nn_model *m, rng_state *r);

/* Flat parameter buffer, layer by layer in Keras's get_weights() order: a
 * dense layer's kernel (in x out, row-major) then its bias (out); a batch
 * normalization's gamma (if scale), beta (if center), moving mean, moving
 * variance (width each); dropout has none. nn_model_param_count values,
 * nn_model_trainable_count of them trainable (all but the moving
 * statistics, whose gradient is always 0, so no optimizer moves them). */
size_t nn_model_param_count(const nn_model *m);
size_t nn_model_trainable_count(const nn_model *m);
int nn_model_param_trainable(const nn_model *m, size_t i);
float *nn_model_params(nn_model *m);
const float *nn_model_params_const(const nn_model *m);
/* Offset of layer l's kernel and bias inside the flat buffer (layer
 * indices as in the config; for a layer other than dense, both are the
 * offset of its first parameter). The input width of layer l and its
 * parameter count. */
size_t nn_model_kernel_offset(const nn_model *m, size_t layer);
size_t nn_model_bias_offset(const nn_model *m, size_t layer);
size_t nn_model_layer_inputs(const nn_model *m, size_t layer);
size_t nn_model_layer_params(const nn_model *m, size_t layer);

/* Writes model.summary() in the Keras 2.7-2.12 layout (see the reference
 * page) to f. */
void nn_model_summary(const nn_model *m, FILE *f);
/* The same summary from the configuration alone, without building the
 * model (so without allocating it): 0, or -1 for an invalid configuration. */
int nn_config_summary(const nn_model_config *c, FILE *f);

/* One epoch's history, as Keras records it. */
typedef struct nn_epoch_log {
    size_t epoch;         /* 1-based */
    double loss;          /* sample-weighted mean of batch losses, before each update */
    double accuracy;      /* correct / seen over the epoch, before each update */
    double val_loss;      /* after the epoch's last update; NAN without validation */
    double val_accuracy;
    double learning_rate; /* the rate of the epoch's last update (constant
                           * through an epoch unless a schedule is set) */
} nn_epoch_log;

/* Called after every epoch. Return 0 to go on, non-zero to stop training. */
typedef int (*nn_epoch_fn)(void *user, const nn_epoch_log *log);

/* Called at the start of every epoch with the row order of that epoch
 * (order[0..n) indices into the training rows). For exports and checks;
 * may be NULL. */
typedef void (*nn_order_fn)(void *user, size_t epoch, const uint32_t *order,
                            size_t n);

/* What a callback watches: an entry of the epoch's history. */
typedef enum {
    NN_MONITOR_VAL_LOSS = 0,
    NN_MONITOR_LOSS,
    NN_MONITOR_ACCURACY,
    NN_MONITOR_VAL_ACCURACY
} nn_monitor;

/* auto: minimise a loss, maximise an accuracy. */
typedef enum { NN_MODE_AUTO = 0, NN_MODE_MIN, NN_MODE_MAX } nn_monitor_mode;

/* keras.callbacks.EarlyStopping (Keras 3 semantics, see
 * ../shared/reference/keras-training.md); nn_early_stopping_defaults gives
 * Keras's defaults (enabled). */
typedef struct nn_early_stopping {
    int enabled;
    nn_monitor monitor;       /* val_loss */
    double min_delta;         /* 0 (its absolute value is used) */
    size_t patience;          /* 0 */
    nn_monitor_mode mode;     /* auto */
    int has_baseline;         /* 0 */
    double baseline;
    int restore_best_weights; /* 0 */
    size_t start_from_epoch;  /* 0 */
} nn_early_stopping;

/* keras.callbacks.ReduceLROnPlateau; nn_reduce_lr_defaults gives Keras's
 * defaults (enabled). Not with a learning-rate schedule. */
typedef struct nn_reduce_lr {
    int enabled;
    nn_monitor monitor;   /* val_loss */
    double factor;        /* 0.1, < 1 */
    size_t patience;      /* 10 */
    nn_monitor_mode mode; /* auto */
    double min_delta;     /* 1e-4 */
    size_t cooldown;      /* 0 */
    double min_lr;        /* 0 */
} nn_reduce_lr;

void nn_early_stopping_defaults(nn_early_stopping *c);
void nn_reduce_lr_defaults(nn_reduce_lr *c);

/* The callbacks' state between epochs (epoch indices 0-based, as Keras). */
typedef struct nn_early_stopping_state {
    double best;
    size_t wait, best_epoch;
    int have_best;      /* a snapshot is (to be) held: restore_best_weights */
    size_t stopped_epoch; /* 0-based epoch where it fired + 1, 0 = not fired */
} nn_early_stopping_state;

typedef struct nn_reduce_lr_state {
    double best;
    size_t wait, cooldown_counter;
} nn_reduce_lr_state;

void nn_early_stopping_begin(const nn_early_stopping *c, nn_early_stopping_state *s);
/* One on_epoch_end with the monitored value (NaN = missing). Returns a
 * bit set: NN_ES_STOP (stop training after this epoch), NN_ES_SNAPSHOT
 * (keep the current weights as the best). */
#define NN_ES_STOP 1
#define NN_ES_SNAPSHOT 2
int nn_early_stopping_epoch(const nn_early_stopping *c, nn_early_stopping_state *s,
                            size_t epoch, double current);

void nn_reduce_lr_begin(const nn_reduce_lr *c, nn_reduce_lr_state *s);
/* One on_epoch_end: returns the learning rate for the next epoch given the
 * one used in this epoch (lr, float32 as Keras's variable). */
float nn_reduce_lr_epoch(const nn_reduce_lr *c, nn_reduce_lr_state *s, double current,
                         float lr);

typedef struct nn_fit_config {
    size_t epochs;
    size_t batch_size; /* default 32; must be <= the model's max_batch */
    int shuffle;       /* default 1: fresh permutation every epoch */
    nn_epoch_fn on_epoch;
    nn_order_fn on_order;
    void *user;
    /* Dropout masks, drawn for every training batch: for each dropout layer
     * of rate > 0 in layer order, for each row of the batch in batch order,
     * for each unit: one rng_uniform(dropout_rng), the unit kept when the
     * draw is >= rate. Required when the model has such a layer. */
    rng_state *dropout_rng;
    /* Per-class loss weights (n_class_weight = the output's classes: one
     * per unit, 2 for one sigmoid unit whose target is the class 0/1), or
     * NULL. A row's class is its target's first maximum (one-hot) or
     * target > 0.5 (one unit). The batch loss is sum w_i l_i / batch size;
     * training only. All weights 1 is the same as none (same bits). */
    const float *class_weight;
    size_t n_class_weight;
    nn_early_stopping early_stopping; /* zeroed: off */
    nn_reduce_lr reduce_lr;           /* zeroed: off */
} nn_fit_config;

typedef enum {
    NN_FIT_DONE = 0,     /* all epochs ran, or early stopping ended training */
    NN_FIT_STOPPED,      /* on_epoch asked to stop */
    NN_FIT_DIVERGED,     /* loss became NaN or Inf */
    NN_FIT_ERROR         /* bad arguments */
} nn_fit_status;

typedef struct nn_fit_result {
    nn_fit_status status;
    size_t epochs_run;      /* epochs completed */
    size_t diverged_epoch;  /* 1-based epoch where NaN/Inf appeared, else 0 */
    size_t stopped_epoch;   /* 1-based epoch after which early stopping
                             * ended training (it is in the history), else 0 */
    size_t best_epoch;      /* early stopping's best epoch (1-based), else 0 */
    int restored;           /* the best weights were restored at the end
                             * (restore_best_weights, status DONE) */
} nn_fit_result;

/* scikit-learn's compute_class_weight("balanced"): w_c = n / (k count_c)
 * over the n target rows y (encoded as for nn_fit's class_weight, units
 * columns), k = the number of classes present; absent classes get 1. */
void nn_class_weight_balanced(const float *y, size_t n, size_t units, float *w,
                              size_t n_classes);

/* The class of one output row p (units values): the first maximum, or for
 * one unit p > 0.5 (Keras's binary accuracy threshold: 0.5 itself is 0). */
size_t nn_output_class(const float *p, size_t units);

/* Trains on (x, y) with n rows; y is one-hot (n x classes) for
 * categorical cross-entropy, targets (n x units) otherwise (for one
 * sigmoid unit and binary_crossentropy: the class, 0 or 1). Epoch end, as
 * Keras: validation (inference mode) -> early stopping -> reduce-lr ->
 * on_epoch (the history); with restore_best_weights the best snapshot is
 * restored when training ends normally (the snapshot buffer is allocated
 * here, before the first step). xv/yv (nv rows)
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
 * batch_size rows (0 -> 32), no shuffling, in inference mode (no dropout,
 * batch normalization with its moving statistics); the loss includes the
 * regularization penalty. */
void nn_evaluate(nn_model *m, const float *x, const float *y, size_t n,
                 size_t batch_size, double *loss, double *accuracy);

/* Output probabilities (n x output units) into out, in batches. */
void nn_predict(nn_model *m, const float *x, size_t n, float *out);

/* ---- additions for tests and tools (nn owner) ---------------------------- */

/* The flat gradient buffer (same layout as the parameters). After nn_fit,
 * the kernels of wide hidden layers whose backward pass is fused with the
 * update (nn_gemm_dense_backward) hold no gradient there: it was consumed
 * block by block. nn_model_loss_grad always fills all of it. */
float *nn_model_grads(nn_model *m);

/* Forward + backward on rows x[0..n) (n <= max_batch, no shuffling, no
 * update): fills the gradient buffer with d(mean loss)/d(params) and returns
 * the batch-mean loss (per-sample float losses summed in double). *grad_out
 * (if not NULL) is set to the gradient buffer. */
double nn_model_loss_grad(nn_model *m, const float *x, const float *y, size_t n,
                          float **grad_out);

/* The same in training (training = 1: dropout drawn from dropout_rng,
 * required for a layer of rate > 0; batch statistics, the moving ones not
 * updated) or inference mode (0). The loss and gradient include the
 * regularization penalty; the moving statistics' gradient is 0. */
double nn_model_loss_grad_mode(nn_model *m, const float *x, const float *y, size_t n,
                               int training, rng_state *dropout_rng, float **grad_out);

/* The regularization penalty of the current weights. */
double nn_model_penalty(const nn_model *m);

/* The learning rate the next update would use. */
float nn_model_learning_rate(const nn_model *m);

/* One optimizer step (step counter + 1) with the given gradient (copied into
 * the gradient buffer first unless it is that buffer). */
void nn_model_apply_gradient(nn_model *m, const float *grad);

#endif
