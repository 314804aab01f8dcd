/* trial: the pure trial function.
 *
 * (resolved experiment, seed, dataset) -> trial result: the data pipeline,
 * initialisation, training, evaluation, confusion matrices, per-class
 * figures, the decision grid and the result hash, all in memory. No SQLite,
 * no threads, no globals, no clock: the same arguments give the same bits,
 * whichever thread or process calls it, so `run`, `reproduce` and any other
 * runner share it. Knows the spec's types (spec.h) and the numeric core
 * (data, nn, metrics, digest), nothing of the store.
 */
#ifndef RUNEXP_TRIAL_H
#define RUNEXP_TRIAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "data.h"
#include "nn.h"
#include "spec.h"

/* How a trial ended. Failures are a status, not an error of trial_run. */
typedef enum {
    TRIAL_DONE = 0,
    TRIAL_FAILED,      /* bad data or model, out of memory; see error */
    TRIAL_DIVERGED,    /* the loss became NaN or Inf; see diverged_epoch */
    TRIAL_INTERRUPTED, /* the stop flag was set; history up to that epoch */
    TRIAL_PRUNED       /* stopped at trial_run_until's epoch (a search rung):
                          history and parameters up to it, not evaluated */
} trial_status;

/* "done", "failed", "diverged", "interrupted", "pruned" (the store's names too). */
const char *trial_status_name(trial_status s);

/* The splits, in the order of the arrays below: "train", "validation", "test". */
extern const char *const trial_split_names[3];

/* One trial's complete result. Every pointer is owned by the result and
 * freed by trial_result_free; a field not produced is NULL / 0 / NaN. */
typedef struct trial_result {
    trial_status status;
    char error[512];         /* why it did not finish; "" when done */
    size_t n_classes, n_layers;
    size_t layer_in[NN_MAX_LAYERS], layer_out[NN_MAX_LAYERS];
    nn_layer_config layer[NN_MAX_LAYERS]; /* each layer as built */
    size_t layer_params[NN_MAX_LAYERS];    /* its parameters ... */
    size_t layer_trainable[NN_MAX_LAYERS]; /* ... of which trainable */
    size_t n_params;
    float *params;           /* final flat parameters (nn.h order); also when
                              * diverged or interrupted */
    size_t epochs_run, diverged_epoch;
    size_t stopped_epoch;    /* 1-based epoch after which early stopping ended
                              * training, 0 = it did not fire (or is off) */
    size_t es_best_epoch;    /* early stopping's best epoch (1-based), 0 = none */
    int restored_best;       /* restore_best_weights: 1 the best weights were
                              * restored (test metrics are theirs), 0 not;
                              * -1 not asked for */
    size_t n_history;
    nn_epoch_log *history;   /* one entry per epoch run */
    size_t best_epoch;       /* 1-based, 0 = no validation */
    double overfit_gap;      /* NaN without validation */
    double loss[3], accuracy[3]; /* train, validation, test; NaN when empty */
    uint32_t *confusion[3];  /* k x k per split (rows true, columns predicted),
                              * NULL when not recorded */
    double *precision, *recall, *f1; /* test, per class (done trials) */
    uint32_t *support;
    size_t grid_res;
    double grid_x0[2], grid_x1[2];
    uint8_t *grid;           /* res x res predicted classes, NULL when none */
    char hash[65];           /* result hash (trial_result_hash); "" unless done */
    /* Per-row test predictions (record.predictions, done trials): test row
     * i came from row pred_rows[i] of the augmented set, which is row
     * pred_source_rows[i] of the source (pred_rows[i] mod the source's
     * rows); its true class, predicted class (the argmax the confusion
     * matrix counts) and n_classes probabilities at pred_prob + i * K.
     * Derived data: not part of the result hash. */
    size_t n_predictions;
    uint32_t *pred_rows, *pred_source_rows;
    int32_t *pred_true, *pred_class;
    float *pred_prob;
} trial_result;

/* Runs one trial of experiment e with seed on the dataset source: data
 * pipeline (data seed = e->data.seed when given, else seed), initialisation
 * from rng_stream(seed, RNG_PURPOSE_INIT), fit with the shuffle stream
 * rng_stream(seed, RNG_PURPOSE_SHUFFLE), dropout masks from
 * rng_stream(seed, RNG_PURPOSE_DROPOUT), the spec's callbacks, schedule
 * and class weights, then evaluation (of the restored weights when early
 * stopping restored its best), confusion matrices,
 * per-class figures, grid and hash. stop (may be NULL; only read) is polled
 * after each epoch. Always fills *out (status and error included); returns
 * 0, or -1 when out of memory before anything ran (out->status is then
 * TRIAL_FAILED). The caller frees out with trial_result_free. */
int trial_run(const spec_experiment *e, uint64_t seed, const data_set *source,
              const atomic_int *stop, trial_result *out);

/* trial_run, trained for at most `until` epochs (0 or >= training.epochs:
 * all of them, trial_run itself). Stopped there, the result has status
 * TRIAL_PRUNED, its history and parameters after epoch `until`, and no
 * evaluation or hash; the epochs before are the very ones of a full run
 * (the same training, stopped), so a search rung sees what the full trial
 * would have seen at that epoch. */
int trial_run_until(const spec_experiment *e, uint64_t seed, const data_set *source,
                    const atomic_int *stop, size_t until, trial_result *out);

/* trial_run_until on splits already built: sp is what data_pipeline_build
 * (or data_pipeline_build_in_place) made of the source with e's pipeline
 * and this trial's data seed, so the result is the same, bit for bit. sp
 * is only read: many trials may share it, from many threads. */
int trial_run_splits(const spec_experiment *e, uint64_t seed, const data_splits *sp,
                     const atomic_int *stop, size_t until, trial_result *out);

/* The result trial_run gives when its data pipeline fails with message
 * (status TRIAL_FAILED, error "data: <message>"), for a runner that built
 * the splits itself. n_classes is the source's. 0, or -1 when out of
 * memory. */
int trial_data_failed(const spec_experiment *e, size_t n_classes, const char *message,
                      trial_result *out);
/* The parameter tensors of layer l of a result, in nn.h's flat order:
 * dense kernel (in x out) and bias (1 x out); batch normalization gamma
 * (if scale), beta (if center), moving_mean, moving_variance (1 x width
 * each); dropout none. Fills up to 4 and returns how many. */
typedef struct trial_tensor {
    const char *kind; /* "kernel", "bias", "gamma", "beta", "moving_mean", "moving_variance" */
    size_t rows, cols;
    size_t offset;    /* into params */
} trial_tensor;
size_t trial_layer_tensors(const trial_result *r, size_t l, trial_tensor out[4]);

/* Keras's layer type and name of layer l ("Dense", "dense_1"). */
const char *trial_layer_type(const trial_result *r, size_t l);
void trial_layer_name(const trial_result *r, size_t l, char *buf, size_t size);

/* Frees what r owns and zeroes it; NULL and a zeroed result are fine. */
void trial_result_free(trial_result *r);

/* The result hash: hex SHA-256 over, in this order and all little-endian,
 *   1. the n_params float32 final parameters (per layer: kernel row-major
 *      (in x out), then bias), 4 bytes each;
 *   2. loss and accuracy on train, validation and test, 6 doubles
 *      (NaN, e.g. no validation set, hashed as the quiet NaN 0x7ff8000000000000);
 *   3. for each test class k = 0..K-1: precision, recall, F1, support, as doubles;
 *   4. for each epoch: loss, accuracy, val_loss, val_accuracy, as doubles.
 * Only done trials have one. */
void trial_result_hash(const trial_result *r, char hex[65]);

#endif
