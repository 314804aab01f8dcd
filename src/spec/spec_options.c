/* spec_options: the one declarative table of spec options, and what it
 * drives: conversion, the help text, the JSON Schema and the canonical
 * resolved spec that trial keys hash.
 *
 * Like redis's standardConfig, an option is described once: its path in the
 * document, type, bounds, default (as YAML text, so a default goes through
 * the very checker a written value does), allowed names, destination (the
 * C type and offset of its field in spec_experiment, or a setter for the few
 * structured options), whether it is part of the trial key, and help. The
 * converter in spec.c walks this table, not the file: for every row under a
 * mapping it takes the written value or the default, checks it and stores
 * it (unknown keys and their "did you mean" come from the children of a
 * path). `runexp schema`, `runexp check --help-spec` and
 * spec_canonical_write walk the same paths.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec_internal.h"

const char *const spec_activation_names[] = {"linear", "relu", "sigmoid", "tanh", "softmax",
                                             NULL};
const char *const spec_init_names[] = {"glorot_uniform", "glorot_normal", "he_uniform",
                                       "he_normal", "zeros", NULL};
const char *const spec_loss_names[] = {"categorical_crossentropy", "binary_crossentropy",
                                       "mean_squared_error", NULL};
const char *const spec_optimizer_names[] = {"adam", "sgd", "rmsprop", NULL};
const char *const spec_scale_names[] = {"none", "standard", "minmax", NULL};
static const char *const source_names[] = {"xor", "digits", NULL};
const char *const spec_layer_type_names[] = {"dense", "dropout", "batch_normalization", NULL};
const char *const spec_schedule_names[] = {"exponential_decay", "piecewise_constant",
                                           "cosine_decay", NULL};
static const char *const monitor_names[] = {"val_loss", "loss", "accuracy", "val_accuracy", NULL};
static const char *const mode_names[] = {"auto", "min", "max", NULL};
static const char *const metric_names[] = {"accuracy", NULL};
static const char *const split_names[] = {"train", "validation", "test", NULL};
static const char *const search_names[] = {"grid", "random", NULL};
static const char *const prune_names[] = {"successive_halving", "hyperband", NULL};

#define ADAM (1u << NN_OPT_ADAM)
#define SGD (1u << NN_OPT_SGD)
#define RMSPROP (1u << NN_OPT_RMSPROP)
#define BIG_INT 9007199254740991.0 /* 2^53 - 1: exact in a double */
#define TEXT_OF(x) #x
#define NUMBER_TEXT(x) TEXT_OF(x) /* a macro's value as a string literal */
#define KEY OPT_KEY
#define REQ OPT_REQUIRED

/* A destination: the field's C type and offset, with a compile-time check
 * that the field has the size that type says (a wrong kind does not build). */
#define FIELD_BYTES_INT sizeof(int)
#define FIELD_BYTES_SIZE sizeof(size_t)
#define FIELD_BYTES_DOUBLE sizeof(double)
#define FIELD_BYTES_STR sizeof(char *)
#define FIELD_BYTES_DSIZE sizeof(data_size)
#define FIELD_BYTES_U64_OPT sizeof(uint64_t)
#define FIELD_BYTES_RANGE (2 * sizeof(double))
#define AT(T, kind, m)                                                                             \
    .field = FIELD_##kind,                                                                         \
    .off = offsetof(T, m) + 0 * sizeof(char[sizeof(((T *)0)->m) == FIELD_BYTES_##kind ? 1 : -1])
#define E(kind, m) AT(spec_experiment, kind, m)   /* a field of the experiment */
#define L(kind, m) AT(spec_layer, kind, m)        /* a field of one layer */
#define AUX(m) .aux = offsetof(spec_experiment, m)

#define DENSE_ONLY .layer_types = 1u << NN_LAYER_DENSE
#define DROPOUT_ONLY .layer_types = 1u << NN_LAYER_DROPOUT
#define BN_ONLY .layer_types = 1u << NN_LAYER_BATCH_NORM
#define SCH_EXP (1u << NN_LR_EXPONENTIAL_DECAY)
#define SCH_PW (1u << NN_LR_PIECEWISE_CONSTANT)
#define SCH_COS (1u << NN_LR_COSINE_DECAY)

/* Canonical-form omissions (see spec_internal.h): each returns 1 when the
 * value is the one every spec had before the option existed. */
static int omit_dense(const spec_option *o, const void *base)
{
    (void)o;
    return ((const spec_layer *)base)->layer.kind == NN_LAYER_DENSE;
}

static int omit_kernel_reg(const spec_option *o, const void *base)
{
    (void)o;
    const nn_regularizer *r = &((const spec_layer *)base)->layer.kernel_regularizer;
    return r->l1 == 0.0 && r->l2 == 0.0;
}

static int omit_bias_reg(const spec_option *o, const void *base)
{
    (void)o;
    const nn_regularizer *r = &((const spec_layer *)base)->layer.bias_regularizer;
    return r->l1 == 0.0 && r->l2 == 0.0;
}

static int omit_disabled(const spec_option *o, const void *base)
{
    return !*(const int *)((const char *)base + o->off);
}

/* An optional value not given: left out, so keys from before it stay. */
static int omit_unset(const spec_option *o, const void *base)
{
    return !*(const int *)((const char *)base + o->aux);
}

static int omit_class_weight(const spec_option *o, const void *base)
{
    (void)o;
    const spec_experiment *e = base;
    return !e->training.class_weight_balanced && !e->training.class_weight;
}

static void put_source(FILE *f, const spec_option *o, const spec_experiment *e, const void *base,
                       const char *csv_sha);
static void put_baseline(FILE *f, const spec_option *o, const spec_experiment *e,
                         const void *base, const char *csv_sha);
static void put_layers(FILE *f, const spec_option *o, const spec_experiment *e, const void *base,
                       const char *csv_sha);
static void put_learning_rate(FILE *f, const spec_option *o, const spec_experiment *e,
                              const void *base, const char *csv_sha);
static void put_class_weight(FILE *f, const spec_option *o, const spec_experiment *e,
                             const void *base, const char *csv_sha);

/* The table. Row order is the order of the help text, the schema's
 * properties and the conversion (so of the diagnostics); canonical JSON
 * sorts keys itself. KEY marks what the trial key hashes; a row without KEY
 * never changes a key, so a new option left out of KEY (or omitted from the
 * canonical form at its old behaviour) keeps every existing key. */
/* clang-format off */
const spec_option spec_options[] = {
    {"name", OPT_STR, 0, 0, 0, NULL, E(STR, name),
     .help = "Experiment name, the key of the experiment in the database: 1 to 128 bytes of printable text, no control or invisible characters, no space at either end. The report goes to results/NAME/ with each byte outside A-Z a-z 0-9 . _ - written as _ (default: the file name without .yaml, made to fit)."},
    {"description", OPT_STR, 0, 0, 0, NULL, E(STR, description),
     .help = "Free text shown in reports."},
    {"data", OPT_MAP, REQ | KEY, 0, 0, NULL,
     .help = "The dataset pipeline: source -> augment -> split -> scale -> one-hot."},
    {"data.source", OPT_SOURCE, REQ | KEY, 0, 0, NULL, .names = source_names,
     .set = spec_set_source, .put = put_source,
     .help = "xor (the 4-point truth table, 2 classes), digits (scikit-learn load_digits, 1797 x 64, 10 classes), or {csv: PATH, label: COLUMN}."},
    {"data.source.csv", OPT_STR, REQ, 0, 0, NULL,
     .help = "Path of a CSV file with a header row, relative to the spec file; numeric feature columns."},
    {"data.source.label", OPT_STR, 0, 0, 0, NULL,
     .help = "Name of the label column (default: the last column)."},
    {"data.augment", OPT_MAP, KEY, 0, 0, NULL,
     .help = "Augmentation applied to the whole source before splitting."},
    {"data.augment.repeat", OPT_INT, KEY, 1, 100000, "1", E(SIZE, data.pipeline.repeat),
     .help = "numpy.tile the rows this many times."},
    {"data.augment.noise", OPT_REAL, KEY, 0, 1000, "0", E(DOUBLE, data.pipeline.noise),
     .help = "Add noise * N(0,1) to every feature of every row."},
    {"data.split", OPT_MAP, KEY, 0, 0, NULL,
     .help = "train_test_split twice: the test set from all rows, then the validation set from what is left. An integer is a row count, a real a fraction in (0, 1)."},
    {"data.split.test", OPT_SIZE, KEY, 1, 1e9, "0.25", E(DSIZE, data.pipeline.test.test),
     .help = "Test set size (scikit-learn test_size: fraction -> ceil(f * n) rows)."},
    {"data.split.validation", OPT_SIZE, KEY, 1, 1e9, NULL, E(DSIZE, data.pipeline.validation.test),
     .help = "Validation set size, taken from the rows left after the test split (default: no validation set)."},
    {"data.split.shuffle", OPT_BOOL, KEY, 0, 0, "true", E(INT, data.pipeline.test.shuffle),
     .help = "Shuffle before splitting (train_test_split shuffle)."},
    {"data.split.stratify", OPT_BOOL, KEY, 0, 0, "false", E(INT, data.pipeline.test.stratify),
     .help = "Keep the class proportions in every split (StratifiedShuffleSplit)."},
    {"data.split.random_state", OPT_INT, KEY, 0, 4294967295.0, NULL,
     E(U64_OPT, data.pipeline.random_state), AUX(data.pipeline.has_random_state), .omit = omit_unset,
     .help = "Split exactly as train_test_split(..., random_state=N) does, in both splits, whatever the seed (default: split seeds drawn from the data seed)."},
    {"data.scale", OPT_ENUM, KEY, 0, 0, "none", .names = spec_scale_names, E(INT, data.pipeline.scale),
     .help = "Feature scaling fitted on the training rows: none, standard (StandardScaler), minmax (MinMaxScaler)."},
    {"data.seed", OPT_INT, KEY, 0, BIG_INT, NULL, E(U64_OPT, data.seed), AUX(data.has_seed),
     .help = "Pin the data (noise and splits) to this seed while the model seeds vary (default: the trial's seed)."},
    {"model", OPT_MAP, REQ | KEY, 0, 0, NULL,
     .help = "A sequential network."},
    {"model.layers", OPT_LAYERS, REQ | KEY, 1, NN_MAX_LAYERS, NULL, .set = spec_set_layers, .put = put_layers,
     .help = "The layers, input side first."},
    {"model.layers[].type", OPT_ENUM, KEY, 0, 0, "dense", .names = spec_layer_type_names,
     L(INT, layer.kind), .omit = omit_dense,
     .help = "Layer type: dense (Dense: units, activation, initializers, regularizers), dropout (Dropout: rate) or batch_normalization (BatchNormalization: momentum, epsilon, center, scale). The last layer is dense."},
    {"model.layers[].units", OPT_UNITS, KEY, 1, 65536, NULL, L(SIZE, layer.units),
     .aux = offsetof(spec_layer, units_classes), DENSE_ONLY,
     .help = "Dense, required: number of neurons, or `classes` for the number of classes of the dataset. The output layer has one unit per class, or one sigmoid unit with binary_crossentropy for 2 classes."},
    {"model.layers[].activation", OPT_ENUM, KEY, 0, 0, "linear", .names = spec_activation_names,
     L(INT, layer.activation), DENSE_ONLY,
     .help = "Dense: activation function."},
    {"model.layers[].kernel_initializer", OPT_ENUM, KEY, 0, 0, "glorot_uniform", .names = spec_init_names,
     L(INT, layer.kernel_init), DENSE_ONLY,
     .help = "Dense: kernel initializer."},
    {"model.layers[].bias_initializer", OPT_ENUM, KEY, 0, 0, "zeros", .names = spec_init_names,
     L(INT, layer.bias_init), DENSE_ONLY,
     .help = "Dense: bias initializer."},
    {"model.layers[].kernel_regularizer", OPT_MAP, KEY, 0, 0, NULL, DENSE_ONLY, .omit = omit_kernel_reg,
     .help = "Dense: {l2: X}, {l1: X} or {l1: X, l2: Y}: the penalty l1 sum |W| + l2 sum W^2 (Keras L1L2, no 1/2) is added once per batch to the loss, and to val_loss and the test loss."},
    {"model.layers[].kernel_regularizer.l1", OPT_REAL, KEY, 0, 1000, "0",
     L(DOUBLE, layer.kernel_regularizer.l1), DENSE_ONLY,
     .help = "L1 factor of the kernel penalty."},
    {"model.layers[].kernel_regularizer.l2", OPT_REAL, KEY, 0, 1000, "0",
     L(DOUBLE, layer.kernel_regularizer.l2), DENSE_ONLY,
     .help = "L2 factor of the kernel penalty."},
    {"model.layers[].bias_regularizer", OPT_MAP, KEY, 0, 0, NULL, DENSE_ONLY, .omit = omit_bias_reg,
     .help = "Dense: the same penalty on the bias."},
    {"model.layers[].bias_regularizer.l1", OPT_REAL, KEY, 0, 1000, "0",
     L(DOUBLE, layer.bias_regularizer.l1), DENSE_ONLY,
     .help = "L1 factor of the bias penalty."},
    {"model.layers[].bias_regularizer.l2", OPT_REAL, KEY, 0, 1000, "0",
     L(DOUBLE, layer.bias_regularizer.l2), DENSE_ONLY,
     .help = "L2 factor of the bias penalty."},
    {"model.layers[].rate", OPT_REAL, OPT_EXCL_MAX | KEY, 0, 1, NULL, L(DOUBLE, layer.rate), DROPOUT_ONLY,
     .help = "Dropout, required: the fraction of units dropped at training time, 0 <= rate < 1; kept units are scaled by 1 / (1 - rate); identity in evaluation and prediction."},
    {"model.layers[].momentum", OPT_REAL, KEY, 0, 1, "0.99", L(DOUBLE, layer.momentum), BN_ONLY,
     .help = "Batch normalization: moving = moving * momentum + batch * (1 - momentum), for the mean and the (biased) variance."},
    {"model.layers[].epsilon", OPT_REAL, OPT_EXCL_MIN | KEY, 0, 1, "0.001", L(DOUBLE, layer.epsilon), BN_ONLY,
     .help = "Batch normalization: added to the variance."},
    {"model.layers[].center", OPT_BOOL, KEY, 0, 0, "true", L(INT, layer.center), BN_ONLY,
     .help = "Batch normalization: learn an offset beta."},
    {"model.layers[].scale", OPT_BOOL, KEY, 0, 0, "true", L(INT, layer.scale), BN_ONLY,
     .help = "Batch normalization: learn a factor gamma."},
    {"training", OPT_MAP, REQ | KEY, 0, 0, NULL,
     .help = "model.compile and model.fit settings."},
    {"training.loss", OPT_ENUM, REQ | KEY, 0, 0, NULL, .names = spec_loss_names, E(INT, model.loss),
     .help = "Loss; categorical_crossentropy needs a softmax output, binary_crossentropy a sigmoid output (one unit per class, one-hot targets)."},
    {"training.optimizer", OPT_NAME_MAP, KEY, 0, 0, "adam", .names = spec_optimizer_names,
     .help = "An optimizer name, or a mapping {name: NAME, PARAMETER: VALUE, ...}; Keras defaults for what is left out."},
    {"training.optimizer.name", OPT_ENUM, REQ | KEY, 0, 0, NULL, .names = spec_optimizer_names,
     E(INT, model.optimizer.kind),
     .help = "Optimizer."},
    {"training.optimizer.learning_rate", OPT_RATE, OPT_EXCL_MIN | KEY, 0, 10, NULL,
     .optimizers = ADAM | SGD | RMSPROP, .def_by_opt = {"0.001", "0.01", "0.001"},
     E(DOUBLE, model.optimizer.learning_rate), .set = spec_set_learning_rate, .put = put_learning_rate,
     .help = "Learning rate (adam 0.001, sgd 0.01, rmsprop 0.001), or a Keras LearningRateSchedule evaluated at every optimizer step (0 for the first batch): {schedule: exponential_decay, initial_learning_rate, decay_steps, decay_rate, staircase}, {schedule: piecewise_constant, boundaries, values} or {schedule: cosine_decay, initial_learning_rate, decay_steps, alpha}."},
    {"training.optimizer.learning_rate.schedule", OPT_ENUM, REQ | KEY, 0, 0, NULL, .names = spec_schedule_names,
     .schedules = SCH_EXP | SCH_PW | SCH_COS,
     .help = "exponential_decay: initial * decay_rate^(step / decay_steps); piecewise_constant: values[i] while step <= boundaries[i]; cosine_decay: initial * ((1 - alpha) * 0.5 * (1 + cos(pi * min(step, decay_steps) / decay_steps)) + alpha)."},
    {"training.optimizer.learning_rate.initial_learning_rate", OPT_REAL, OPT_EXCL_MIN | KEY, 0, 10, NULL,
     E(DOUBLE, model.optimizer.schedule.initial_learning_rate),
     .schedules = SCH_EXP | SCH_COS, .schedules_required = SCH_EXP | SCH_COS,
     .help = "The rate at step 0 (exponential_decay, cosine_decay; required)."},
    {"training.optimizer.learning_rate.decay_steps", OPT_REAL, OPT_EXCL_MIN | KEY, 0, 1e12, NULL,
     E(DOUBLE, model.optimizer.schedule.decay_steps),
     .schedules = SCH_EXP | SCH_COS, .schedules_required = SCH_EXP | SCH_COS,
     .help = "Steps over which the rate decays, > 0 (exponential_decay, cosine_decay; required). An epoch is ceil(training rows / batch_size) steps."},
    {"training.optimizer.learning_rate.decay_rate", OPT_REAL, OPT_EXCL_MIN | KEY, 0, 1000, NULL,
     E(DOUBLE, model.optimizer.schedule.decay_rate),
     .schedules = SCH_EXP, .schedules_required = SCH_EXP,
     .help = "Factor per decay_steps steps (exponential_decay; required)."},
    {"training.optimizer.learning_rate.staircase", OPT_BOOL, KEY, 0, 0, "false",
     E(INT, model.optimizer.schedule.staircase), .schedules = SCH_EXP,
     .help = "Decay in steps: floor(step / decay_steps) (exponential_decay)."},
    {"training.optimizer.learning_rate.alpha", OPT_REAL, KEY, 0, 1, "0",
     E(DOUBLE, model.optimizer.schedule.alpha), .schedules = SCH_COS,
     .help = "The final rate as a fraction of the initial one (cosine_decay)."},
    {"training.optimizer.learning_rate.boundaries", OPT_REAL_LIST, KEY, 1, NN_MAX_BOUNDARIES, NULL,
     .schedules = SCH_PW, .schedules_required = SCH_PW,
     .help = "Increasing step numbers >= 0 (piecewise_constant; required)."},
    {"training.optimizer.learning_rate.values", OPT_REAL_LIST, KEY, 2, NN_MAX_BOUNDARIES + 1, NULL,
     .schedules = SCH_PW, .schedules_required = SCH_PW,
     .help = "The rates, one more than boundaries, each in (0, 10] (piecewise_constant; required)."},
    {"training.optimizer.beta_1", OPT_REAL, OPT_EXCL_MAX | KEY, 0, 1, "0.9", .optimizers = ADAM,
     E(DOUBLE, model.optimizer.beta_1),
     .help = "Adam: decay of the first moment."},
    {"training.optimizer.beta_2", OPT_REAL, OPT_EXCL_MAX | KEY, 0, 1, "0.999", .optimizers = ADAM,
     E(DOUBLE, model.optimizer.beta_2),
     .help = "Adam: decay of the second moment."},
    {"training.optimizer.epsilon", OPT_REAL, OPT_EXCL_MIN | KEY, 0, 1, "1e-07", .optimizers = ADAM | RMSPROP,
     E(DOUBLE, model.optimizer.epsilon),
     .help = "Adam, rmsprop: epsilon."},
    {"training.optimizer.momentum", OPT_REAL, KEY, 0, 1, "0", .optimizers = SGD,
     E(DOUBLE, model.optimizer.momentum),
     .help = "SGD: momentum."},
    {"training.optimizer.nesterov", OPT_BOOL, KEY, 0, 0, "false", .optimizers = SGD,
     E(INT, model.optimizer.nesterov),
     .help = "SGD: Nesterov momentum."},
    {"training.optimizer.rho", OPT_REAL, OPT_EXCL_MAX | KEY, 0, 1, "0.9", .optimizers = RMSPROP,
     E(DOUBLE, model.optimizer.rho),
     .help = "RMSprop: decay of the squared-gradient average."},
    {"training.epochs", OPT_INT, REQ | KEY, 1, 1000000, NULL, E(SIZE, training.epochs),
     .help = "Number of epochs."},
    {"training.batch_size", OPT_INT, KEY, 1, 1048576, "32", E(SIZE, training.batch_size),
     .help = "Rows per gradient step."},
    {"training.shuffle", OPT_BOOL, KEY, 0, 0, "true", E(INT, training.shuffle),
     .help = "A fresh permutation of the training rows every epoch."},
    {"training.early_stopping", OPT_MAP, KEY, 0, 0, NULL, E(INT, training.early_stopping.enabled),
     .set = spec_set_callback, .omit = omit_disabled,
     .help = "keras.callbacks.EarlyStopping (Keras 3 semantics): stop when the monitored value has not improved for `patience` epochs. Off unless given; {} takes every default."},
    {"training.early_stopping.monitor", OPT_ENUM, KEY, 0, 0, "val_loss", .names = monitor_names,
     E(INT, training.early_stopping.monitor),
     .help = "The history entry watched (val_* need a validation split)."},
    {"training.early_stopping.min_delta", OPT_REAL, KEY, 0, 1e9, "0", E(DOUBLE, training.early_stopping.min_delta),
     .help = "Smallest change that counts as an improvement."},
    {"training.early_stopping.patience", OPT_INT, KEY, 0, 1000000, "0", E(SIZE, training.early_stopping.patience),
     .help = "Epochs without improvement before stopping."},
    {"training.early_stopping.mode", OPT_ENUM, KEY, 0, 0, "auto", .names = mode_names,
     E(INT, training.early_stopping.mode),
     .help = "min, max, or auto (min for a loss, max for an accuracy)."},
    {"training.early_stopping.baseline", OPT_REAL, KEY, -1e9, 1e9, NULL, .put = put_baseline,
     .help = "A value to beat: epochs that improve without beating it do not reset the patience count (default: none)."},
    {"training.early_stopping.restore_best_weights", OPT_BOOL, KEY, 0, 0, "false",
     E(INT, training.early_stopping.restore_best_weights),
     .help = "At the end of training, go back to the weights of the best epoch (Keras 3: also when stopping did not fire); test metrics are those of these weights."},
    {"training.early_stopping.start_from_epoch", OPT_INT, KEY, 0, 1000000, "0",
     E(SIZE, training.early_stopping.start_from_epoch),
     .help = "Epochs (from 0) not looked at, for a warm-up."},
    {"training.reduce_lr_on_plateau", OPT_MAP, KEY, 0, 0, NULL, E(INT, training.reduce_lr.enabled),
     .set = spec_set_callback, .omit = omit_disabled,
     .help = "keras.callbacks.ReduceLROnPlateau: multiply the learning rate by `factor` when the monitored value has not improved for `patience` epochs; the new rate applies from the next epoch. Off unless given; not with a learning-rate schedule."},
    {"training.reduce_lr_on_plateau.monitor", OPT_ENUM, KEY, 0, 0, "val_loss", .names = monitor_names,
     E(INT, training.reduce_lr.monitor),
     .help = "The history entry watched (val_* need a validation split)."},
    {"training.reduce_lr_on_plateau.factor", OPT_REAL, OPT_EXCL_MIN | OPT_EXCL_MAX | KEY, 0, 1, "0.1",
     E(DOUBLE, training.reduce_lr.factor),
     .help = "new rate = rate * factor, 0 < factor < 1."},
    {"training.reduce_lr_on_plateau.patience", OPT_INT, KEY, 0, 1000000, "10", E(SIZE, training.reduce_lr.patience),
     .help = "Epochs without improvement before reducing."},
    {"training.reduce_lr_on_plateau.mode", OPT_ENUM, KEY, 0, 0, "auto", .names = mode_names,
     E(INT, training.reduce_lr.mode),
     .help = "min, max, or auto (min for a loss, max for an accuracy)."},
    {"training.reduce_lr_on_plateau.min_delta", OPT_REAL, KEY, 0, 1e9, "0.0001", E(DOUBLE, training.reduce_lr.min_delta),
     .help = "Smallest change that counts as an improvement."},
    {"training.reduce_lr_on_plateau.cooldown", OPT_INT, KEY, 0, 1000000, "0", E(SIZE, training.reduce_lr.cooldown),
     .help = "Epochs after a reduction during which waiting does not count."},
    {"training.reduce_lr_on_plateau.min_lr", OPT_REAL, KEY, 0, 10, "0", E(DOUBLE, training.reduce_lr.min_lr),
     .help = "Lower bound of the learning rate."},
    {"training.class_weight", OPT_CLASS_WEIGHT, KEY, 0, 1e6, NULL, .set = spec_set_class_weight,
     .put = put_class_weight, .omit = omit_class_weight,
     .help = "Keras fit class_weight: a mapping class -> weight (class names as the dataset names them: 0 and 1 for xor, 0 to 9 for digits, the label texts of a CSV; a class not listed weighs 1; weights in [0, 1000000]), or balanced (scikit-learn: n_samples / (n_classes * count) over the training rows). Each training row's loss is multiplied by its class's weight, the batch loss divided by the batch size; validation and test are unweighted."},
    {"training.metrics", OPT_ENUM_LIST, 0, 0, 1, "accuracy", .names = metric_names, .set = spec_set_metrics,
     .help = "Metrics besides the loss (only accuracy is supported)."},
    {"seeds", OPT_SEEDS, 0, 1, 100000, "1", .set = spec_set_seeds,
     .help = "A count N (seeds 0..N-1) or a list of distinct non-negative integers; every sweep point runs once per seed."},
    {"sweep", OPT_SWEEP, 0, 0, 0, NULL,
     .help = "Named sweep entries; several entries form a grid (first entry outermost, seeds innermost). The entry name is the parameter's name in the database."},
    {"sweep.*.path", OPT_STR, 0, 0, 0, NULL,
     .help = "The swept value's path in the spec, e.g. model.layers[0].units or training.optimizer.learning_rate."},
    {"sweep.*.values", OPT_VALUES, 0, 1, 100000, NULL,
     .help = "A list of values, or a range {from, to, step} (integers, inclusive) or {from, to, num, log} (reals, numpy.linspace / geomspace, inclusive)."},
    {"sweep.*.values.from", OPT_REAL, REQ, 0, 0, NULL,
     .help = "First value (inclusive)."},
    {"sweep.*.values.to", OPT_REAL, REQ, 0, 0, NULL,
     .help = "Last value (inclusive)."},
    {"sweep.*.values.step", OPT_INT, 0, 0, 0, NULL,
     .help = "Integer step (default 1, or -1 when from > to)."},
    {"sweep.*.values.num", OPT_INT, 0, 1, 100000, NULL,
     .help = "Number of real values, evenly spaced (numpy.linspace)."},
    {"sweep.*.values.log", OPT_BOOL, 0, 0, 0, "false",
     .help = "Space the num values evenly on a log scale (numpy.geomspace); from and to must be > 0."},
    {"sweep.*.uniform", OPT_LIST, 0, 2, 2, NULL,
     .help = "Random search: [a, b], a < b: real values drawn uniformly from [a, b)."},
    {"sweep.*.log_uniform", OPT_LIST, 0, 2, 2, NULL,
     .help = "Random search: [a, b], 0 < a < b: exp of a value drawn uniformly from [log a, log b)."},
    {"sweep.*.int_uniform", OPT_LIST, 0, 2, 2, NULL,
     .help = "Random search: [a, b] integers, a <= b: each integer of a..b (inclusive) equally likely."},
    {"sweep.*.choice", OPT_LIST, 0, 1, 100000, NULL,
     .help = "Random search: a list of values, each equally likely."},
    {"sweep.*.zip", OPT_ZIP, 0, 1, 16, NULL,
     .help = "Several paths varied together: a list of {path, values, name}; all value lists have the same length."},
    {"sweep.*.zip[].path", OPT_STR, REQ, 0, 0, NULL,
     .help = "The swept value's path in the spec."},
    {"sweep.*.zip[].values", OPT_VALUES, REQ, 1, 100000, NULL,
     .help = "A list of values or a range."},
    {"sweep.*.zip[].name", OPT_STR, 0, 0, 0, NULL,
     .help = "Name of this value in the database (default: ENTRY.LASTKEY, e.g. arch.units)."},
    {"search", OPT_MAP, 0, 0, 0, NULL,
     .help = "How the sweep's points are chosen and trained: method grid (every combination of the sweep's values) or random: `trials` draws from the sweep's distributions, times the grid of its value lists;, and prune: successive halving or Hyperband. Not part of the trial keys."},
    {"search.method", OPT_ENUM, 0, 0, 0, "grid", .names = search_names, E(INT, search.method),
     .help = "grid, or random, which needs trials and at least one distribution in sweep."},
    {"search.trials", OPT_INT, 0, 1, 100000, NULL, E(SIZE, search.trials),
     .help = "Random search: the number of draws; a draw equal to an earlier one is dropped. Raising it keeps the earlier draws."},
    {"search.seed", OPT_INT, 0, 0, BIG_INT, "0", E(SIZE, search.seed),
     .help = "Random search: draw i comes from its own stream of (seed, i), not from the trial seeds."},
    {"search.prune", OPT_MAP, 0, 0, 0, NULL, E(INT, search.prune.enabled), .set = spec_set_callback,
     .help = "Train all points to min_epochs, keep the best ceil(n / eta) by the mean over their seeds of metric at that epoch, train those to min_epochs * eta, and so on up to training.epochs; the others are stored as pruned."},
    {"search.prune.method", OPT_ENUM, REQ, 0, 0, NULL, .names = prune_names, E(INT, search.prune.method),
     .help = "successive_halving (one bracket) or hyperband (brackets starting at every rung)."},
    {"search.prune.metric", OPT_ENUM, 0, 0, 0, "val_loss", .names = monitor_names,
     E(INT, search.prune.metric),
     .help = "The history entry the rungs compare: losses lower is better, accuracies higher (val_* need a validation split)."},
    {"search.prune.min_epochs", OPT_INT, REQ, 1, 1000000, NULL, E(SIZE, search.prune.min_epochs),
     .help = "Epochs of the first rung; less than training.epochs."},
    {"search.prune.eta", OPT_INT, 0, 2, 100, "3", E(SIZE, search.prune.eta),
     .help = "Rung growth and reduction factor."},
    {"record", OPT_MAP, 0, 0, 0, NULL,
     .help = "What to keep per trial besides the history."},
    {"record.history", OPT_BOOL, 0, 0, 0, "true", .set = spec_set_history,
     .help = "Per-epoch loss and accuracy; always recorded (false is an error)."},
    {"record.confusion", OPT_ENUM_LIST, 0, 0, 3, "validation, test", .names = split_names,
     .set = spec_set_confusion,
     .help = "Splits whose confusion matrix is stored (default: validation when there is one, and test)."},
    {"record.weights", OPT_BOOL, 0, 0, 0, "true", E(INT, record.weights),
     .help = "Store the final weights."},
    {"record.predictions", OPT_BOOL, 0, 0, 0, "true", E(INT, record.predictions),
     .help = "Store each test row's predicted class and class probabilities (table predictions; about 30 + 12 x classes bytes per test row and trial; default off in a plan of more than " NUMBER_TEXT(SPEC_GRID_FULL_TRIALS) " trials)."},
    {"record.grid", OPT_GRID, 0, 0, 0, NULL, .set = spec_set_grid,
     .help = "Prediction grid over the input plane for 2-feature data: false, true, or {range, resolution} (default: on for 2-feature data; coarser in a plan of more than " NUMBER_TEXT(SPEC_GRID_FULL_TRIALS) " trials, see resolution)."},
    {"record.grid.range", OPT_RANGE2, 0, 0, 0, "[[-1, 2], [-1, 2]]", E(RANGE, record.grid_x0),
     AUX(record.grid_x1),
     .help = "[[x0 min, x0 max], [x1 min, x1 max]]."},
    {"record.grid.resolution", OPT_INT, 0, 2, 1000, "100", E(SIZE, record.grid_resolution),
     .help = "Grid points per axis (default 100; " NUMBER_TEXT(SPEC_GRID_LARGE_RESOLUTION) " when the plan has more than " NUMBER_TEXT(SPEC_GRID_FULL_TRIALS) " trials and this is not written)."},
};
/* clang-format on */

const size_t spec_n_options = sizeof spec_options / sizeof spec_options[0];

const spec_option *spec_option_find(const char *path)
{
    for (size_t i = 0; i < spec_n_options; i++)
        if (!strcmp(spec_options[i].path, path))
            return &spec_options[i];
    return NULL;
}

size_t spec_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return (size_t)-1; /* not a typo of a key */
    size_t row[65];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            if (up + 1 < best)
                best = up + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

const char *spec_suggest(const char *word, const char *const *names, size_t n)
{
    size_t lw = strlen(word), limit = lw / 3 > 2 ? lw / 3 : 2;
    const char *best = NULL;
    size_t bd = (size_t)-1;
    for (size_t i = 0; i < n; i++) {
        size_t dd = spec_edit_distance(word, names[i]);
        if (dd < bd) {
            bd = dd;
            best = names[i];
        }
    }
    if (best && bd <= limit && bd < lw)
        return best;
    return NULL;
}

void spec_format_real(char *buf, size_t size, double x)
{
    if (!buf || size == 0)
        return;
    /* Whole numbers of a sane size print as integers ("1000000", not
     * "1e+06"), which reads better in messages and is just as canonical. */
    if (x == floor(x) && fabs(x) < 1e15) {
        snprintf(buf, size, "%.0f", x == 0 ? 0.0 : x);
        return;
    }
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, size, "%.*g", p, x);
        if (strtod(buf, NULL) == x)
            return;
    }
}

void spec_json_string(FILE *f, const char *s)
{
    const unsigned char *q = (const unsigned char *)s;
    while (*q >= 0x20 && *q != '"' && *q != '\\')
        q++;
    if (!*q) { /* nothing to escape: the common case, keys and names */
        fputc('"', f);
        fputs(s, f);
        fputc('"', f);
        return;
    }
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", f);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

/* ---- walking the table by path ------------------------------------------- */

/* Is o a direct child of parent? "a.b" of "a"; "a[].b" of "a" (list items). */
int spec_option_is_child(const spec_option *o, const char *parent)
{
    size_t lp = strlen(parent);
    const char *rest;
    if (lp == 0) {
        rest = o->path;
    } else {
        if (strncmp(o->path, parent, lp))
            return 0;
        rest = o->path + lp;
        if (!strncmp(rest, "[].", 3))
            rest += 3;
        else if (*rest == '.')
            rest += 1;
        else
            return 0;
    }
    return *rest && !strchr(rest, '.');
}

void spec_option_block(const spec_option *parent, size_t *first, size_t *end)
{
    size_t i = parent ? (size_t)(parent - spec_options) + 1 : 0, n = spec_n_options;
    *first = i;
    if (parent) {
        size_t lp = strlen(parent->path);
        while (i < n && !strncmp(spec_options[i].path, parent->path, lp) &&
               (spec_options[i].path[lp] == '.' || spec_options[i].path[lp] == '['))
            i++;
        n = i;
    }
    *end = n;
}

size_t spec_option_children(const char *path, const char **names, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < spec_n_options && n < max; i++)
        if (spec_option_is_child(&spec_options[i], path)) {
            const char *d = strrchr(spec_options[i].path, '.');
            names[n++] = d ? d + 1 : spec_options[i].path;
        }
    return n;
}

static const char *last_key(const char *path)
{
    const char *d = strrchr(path, '.');
    return d ? d + 1 : path;
}

static void print_number(FILE *f, double x)
{
    char b[40];
    spec_format_real(b, sizeof b, x);
    fputs(b, f);
}

/* ---- help ----------------------------------------------------------------- */

static const char *type_text(const spec_option *o)
{
    switch (o->type) {
    case OPT_MAP: return "mapping";
    case OPT_INT: return "integer";
    case OPT_REAL: return "number";
    case OPT_BOOL: return "boolean";
    case OPT_STR: return "string";
    case OPT_ENUM: return "name";
    case OPT_ENUM_LIST: return "list of names";
    case OPT_SIZE: return "count or fraction";
    case OPT_UNITS: return "integer or `classes`";
    case OPT_SOURCE: return "name or mapping";
    case OPT_NAME_MAP: return "name or mapping";
    case OPT_LAYERS: return "list of mappings";
    case OPT_SEEDS: return "count or list of integers";
    case OPT_GRID: return "boolean or mapping";
    case OPT_RANGE2: return "[[min, max], [min, max]]";
    case OPT_SWEEP: return "mapping of name -> entry";
    case OPT_VALUES: return "list or range";
    case OPT_ZIP: return "list of mappings";
    case OPT_LIST: return "list";
    case OPT_RATE: return "number or schedule mapping";
    case OPT_REAL_LIST: return "list of numbers";
    case OPT_CLASS_WEIGHT: return "`balanced` or mapping class -> weight";
    }
    return "?";
}

void spec_help_print(FILE *f)
{
    fputs("runexp spec options (YAML). Keys marked * are required.\n\n", f);
    for (size_t i = 0; i < spec_n_options; i++) {
        const spec_option *o = &spec_options[i];
        fprintf(f, "%s%s  (%s", o->path, (o->flags & OPT_REQUIRED) ? " *" : "", type_text(o));
        if (o->type == OPT_INT || o->type == OPT_REAL || o->type == OPT_UNITS ||
            o->type == OPT_RATE || o->type == OPT_CLASS_WEIGHT) {
            if (o->min != 0 || o->max != 0) {
                fputs(", ", f);
                fputs((o->flags & OPT_EXCL_MIN) ? "(" : "[", f);
                print_number(f, o->min);
                fputs(", ", f);
                print_number(f, o->max);
                fputs((o->flags & OPT_EXCL_MAX) ? ")" : "]", f);
            }
        }
        if (o->def)
            fprintf(f, ", default %s", o->def);
        if (o->def_by_opt[0])
            fprintf(f, ", default adam %s, sgd %s, rmsprop %s", o->def_by_opt[0],
                    o->def_by_opt[1], o->def_by_opt[2]);
        if (o->optimizers && o->optimizers != (ADAM | SGD | RMSPROP)) {
            fputs(", for", f);
            for (int k = 0; k < 3; k++)
                if (o->optimizers & (1u << k))
                    fprintf(f, " %s", spec_optimizer_names[k]);
        }
        if (o->schedules && o->schedules != (SCH_EXP | SCH_PW | SCH_COS)) {
            fputs(", for", f);
            for (int k = 1; k <= 3; k++)
                if (o->schedules & (1u << k))
                    fprintf(f, " %s%s", spec_schedule_names[k - 1],
                            (o->schedules_required & (1u << k)) ? " (required)" : "");
        }
        fputs(")\n", f);
        if (o->names) {
            fputs("    one of:", f);
            for (const char *const *n = o->names; *n; n++)
                fprintf(f, " %s", *n);
            fputc('\n', f);
        }
        fprintf(f, "    %s\n", o->help);
    }
}

/* ---- the canonical resolved spec (trial keys) ------------------------------
 *
 * key = hex SHA-256 of  CANONICAL + "\nseed=" + SEED + "\n"   (sweep.c)
 * CANONICAL is a one-line JSON object of every KEY option, resolved (every
 * default filled in, `units: classes` replaced by the count, the optimizer
 * in mapping form with only its own parameters), keys sorted at every level,
 * no spaces. Today's options give:
 *   {"data":{"augment":{"noise":R,"repeat":I},"scale":S,"seed":I|null,
 *            "source":{"kind":"xor"|"digits"} | {"csv_sha256":H,"kind":"csv",
 *                      "label":S|null[,"labels":"numeric"]},
 *            "split":{"shuffle":B,"stratify":B,"test":SIZE,"validation":SIZE|null}},
 *    "format":1,
 *    "model":{"inputs":I,"layers":[{"activation":S,"bias_initializer":S,
 *             "kernel_initializer":S,"units":I},...]},
 *    "training":{"batch_size":I,"epochs":I,"loss":S,"optimizer":{"name":S,...},
 *                "shuffle":B}}
 *   SIZE = {"count":I} or {"fraction":R}
 * Integers print in decimal; reals as whole numbers when integral, else in
 * the shortest "%.Ng" text that reads back to the same double (so 0.001,
 * 1e-3 and 0.0010 are one value); an absent option without a default is
 * null. A CSV source is identified by the SHA-256 of its bytes, not by its
 * path, so moving a file keeps the keys and editing it changes them. Left
 * out because they do not change what is trained (no KEY flag): name,
 * description, model.layers[].type (only dense), training.metrics (always
 * accuracy), record.*, the sweep block (its values are already in the
 * resolved spec) and the seed list (the seed is appended separately).
 * "format" is bumped whenever this form changes, which deliberately changes
 * every key. */

static void put_format(FILE *f, const spec_experiment *e)
{
    (void)e;
    fputs("1", f);
}

static void put_inputs(FILE *f, const spec_experiment *e)
{
    fprintf(f, "%zu", e->model.n_inputs);
}

/* Members of the canonical form that are no option of the spec. */
static const struct {
    const char *parent, *key;
    void (*put)(FILE *f, const spec_experiment *e);
} derived[] = {
    {"", "format", put_format},       /* the version of this form */
    {"model", "inputs", put_inputs}, /* the input width, from the data */
};

static const void *cfield(const void *base, size_t off)
{
    return (const char *)base + off;
}

static void canon_value(FILE *f, const spec_option *o, const spec_experiment *e,
                        const void *base, const char *csv_sha);

/* The KEY children of gpath as a JSON object, sorted by key; for an
 * optimizer (kind >= 0) only its own parameters. */
static void canon_map(FILE *f, const spec_option *parent, const char *gpath,
                      const spec_experiment *e, const void *base, const char *csv_sha, int kind)
{
    struct {
        const char *key;
        const spec_option *o;
        void (*put)(FILE *f, const spec_experiment *e);
    } m[32], t;
    size_t n = 0, first, end;
    spec_option_block(parent, &first, &end);
    for (size_t i = first; i < end && n < 32; i++) {
        const spec_option *o = &spec_options[i];
        if (!(o->flags & OPT_KEY) || !spec_option_is_child(o, gpath))
            continue;
        if (kind >= 0 && o->optimizers && !(o->optimizers & (1u << kind)))
            continue;
        if (o->layer_types &&
            !(o->layer_types & (1u << ((const spec_layer *)base)->layer.kind)))
            continue;
        if (o->omit && o->omit(o, base))
            continue;
        m[n].key = last_key(o->path);
        m[n].o = o;
        m[n++].put = NULL;
    }
    for (size_t i = 0; i < sizeof derived / sizeof derived[0] && n < 32; i++)
        if (!strcmp(derived[i].parent, gpath)) {
            m[n].key = derived[i].key;
            m[n].o = NULL;
            m[n++].put = derived[i].put;
        }
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && strcmp(m[j - 1].key, m[j].key) > 0; j--) {
            t = m[j];
            m[j] = m[j - 1];
            m[j - 1] = t;
        }
    for (size_t i = 0; i < n; i++) {
        /* `{"key":` or `,"key":` in one write: plans write this for every
         * point, and a stream call per character shows in a large one. */
        char kb[80];
        size_t kl = strlen(m[i].key);
        if (kl + 5 > sizeof kb)
            kl = sizeof kb - 5;
        kb[0] = i ? ',' : '{';
        kb[1] = '"';
        memcpy(kb + 2, m[i].key, kl);
        memcpy(kb + 2 + kl, "\":", 3);
        fputs(kb, f);
        if (m[i].o)
            canon_value(f, m[i].o, e, base, csv_sha);
        else
            m[i].put(f, e);
    }
    fputs(n ? "}" : "{}", f);
}

static void canon_value(FILE *f, const spec_option *o, const spec_experiment *e,
                        const void *base, const char *csv_sha)
{
    if (o->put) {
        o->put(f, o, e, base, csv_sha);
        return;
    }
    const void *p = cfield(base, o->off);
    switch (o->type) {
    case OPT_MAP:
        canon_map(f, o, o->path, e, base, csv_sha, -1);
        return;
    case OPT_NAME_MAP: {
        char path[160];
        snprintf(path, sizeof path, "%s.name", o->path);
        const spec_option *name = spec_option_find(path);
        canon_map(f, o, o->path, e, base, csv_sha, *(const int *)cfield(base, name->off));
        return;
    }
    case OPT_INT:
    case OPT_UNITS:
        if (o->field != FIELD_U64_OPT)
            fprintf(f, "%zu", *(const size_t *)p);
        else if (*(const int *)cfield(base, o->aux))
            fprintf(f, "%llu", (unsigned long long)*(const uint64_t *)p);
        else
            fputs("null", f);
        return;
    case OPT_REAL:
        print_number(f, *(const double *)p);
        return;
    case OPT_BOOL:
        fputs(*(const int *)p ? "true" : "false", f);
        return;
    case OPT_ENUM:
        spec_json_string(f, o->names[*(const int *)p]);
        return;
    case OPT_SIZE: {
        const data_size *s = p;
        if (!s->given) {
            fputs("null", f);
        } else if (s->is_count) {
            fprintf(f, "{\"count\":%.0f}", s->value);
        } else {
            fputs("{\"fraction\":", f);
            print_number(f, s->value);
            fputc('}', f);
        }
        return;
    }
    default: /* no KEY option has another type without a putter */
        fputs("null", f);
        return;
    }
}

static void put_source(FILE *f, const spec_option *o, const spec_experiment *e, const void *base,
                       const char *csv_sha)
{
    (void)base;
    if (e->data.source != SPEC_SOURCE_CSV) {
        fputs("{\"kind\":", f);
        spec_json_string(f, o->names[e->data.source]);
        fputc('}', f);
        return;
    }
    fputs("{\"csv_sha256\":", f);
    spec_json_string(f, csv_sha);
    fputs(",\"kind\":\"csv\",\"label\":", f);
    if (e->data.csv_label)
        spec_json_string(f, e->data.csv_label);
    else
        fputs("null", f);
    /* Labels that are numbers but not all integers were ordered as text
     * before classes by value: marked so their keys differ from trials that
     * ordered them as text (integer and text labels keep their keys). */
    if (e->data.csv_labels_numeric)
        fputs(",\"labels\":\"numeric\"", f);
    fputc('}', f);
}

static void put_baseline(FILE *f, const spec_option *o, const spec_experiment *e,
                         const void *base, const char *csv_sha)
{
    (void)o;
    (void)base;
    (void)csv_sha;
    if (e->training.early_stopping.has_baseline)
        print_number(f, e->training.early_stopping.baseline);
    else
        fputs("null", f);
}

static void put_layers(FILE *f, const spec_option *o, const spec_experiment *e, const void *base,
                       const char *csv_sha)
{
    (void)base;
    char items[160];
    snprintf(items, sizeof items, "%s[]", o->path);
    fputc('[', f);
    for (size_t i = 0; i < e->model.n_layers; i++) {
        if (i)
            fputc(',', f);
        canon_map(f, o, items, e, &e->layers[i], csv_sha, -1);
    }
    fputc(']', f);
}

/* A number as before schedules existed (so constant rates keep their
 * keys), or the schedule's own parameters, keys sorted. */
static void put_learning_rate(FILE *f, const spec_option *o, const spec_experiment *e,
                              const void *base, const char *csv_sha)
{
    (void)base;
    (void)csv_sha;
    const nn_optimizer_config *oc = &e->model.optimizer;
    const nn_lr_schedule *sc = &oc->schedule;
    if (sc->kind == NN_LR_CONSTANT) {
        print_number(f, oc->learning_rate);
        return;
    }
    const spec_option *rows[16];
    size_t n = 0, first, end;
    spec_option_block(o, &first, &end);
    for (size_t i = first; i < end && n < 16; i++)
        if (spec_options[i].schedules & (1u << sc->kind))
            rows[n++] = &spec_options[i];
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && strcmp(last_key(rows[j - 1]->path), last_key(rows[j]->path)) > 0;
             j--) {
            const spec_option *t = rows[j];
            rows[j] = rows[j - 1];
            rows[j - 1] = t;
        }
    for (size_t i = 0; i < n; i++) {
        const char *k = last_key(rows[i]->path);
        fprintf(f, "%c\"%s\":", i ? ',' : '{', k);
        if (!strcmp(k, "schedule")) {
            spec_json_string(f, spec_schedule_names[sc->kind - 1]);
        } else if (rows[i]->type == OPT_REAL_LIST) {
            int bnd = !strcmp(k, "boundaries");
            size_t m = bnd ? sc->n_boundaries : sc->n_boundaries + 1;
            fputc('[', f);
            for (size_t j = 0; j < m; j++) {
                if (j)
                    fputc(',', f);
                print_number(f, bnd ? sc->boundaries[j] : sc->values[j]);
            }
            fputc(']', f);
        } else {
            canon_value(f, rows[i], e, e, csv_sha);
        }
    }
    fputc('}', f);
}

/* "balanced", or the weight of every class in class order. */
static void put_class_weight(FILE *f, const spec_option *o, const spec_experiment *e,
                             const void *base, const char *csv_sha)
{
    (void)o;
    (void)base;
    (void)csv_sha;
    if (e->training.class_weight_balanced) {
        fputs("\"balanced\"", f);
        return;
    }
    fputc('[', f);
    for (size_t k = 0; k < e->training.n_class_weight; k++) {
        if (k)
            fputc(',', f);
        print_number(f, e->training.class_weight[k]);
    }
    fputc(']', f);
}

void spec_canonical_write(FILE *f, const spec_experiment *e, const char *csv_sha)
{
    canon_map(f, NULL, "", e, e, csv_sha, -1);
}

/* ---- JSON Schema ------------------------------------------------------------ */

static void ind(FILE *f, int n)
{
    for (int i = 0; i < n; i++)
        fputs("  ", f);
}

/* The default as a JSON value, from its YAML text and the option's type. */
static void print_default(FILE *f, const spec_option *o)
{
    if (!o->def)
        return;
    switch (o->type) {
    case OPT_INT:
    case OPT_REAL:
    case OPT_SIZE:
    case OPT_SEEDS:
        print_number(f, strtod(o->def, NULL));
        break;
    case OPT_BOOL:
    case OPT_RANGE2:
        fputs(o->def, f);
        break;
    case OPT_ENUM_LIST: {
        fputc('[', f);
        const char *s = o->def;
        int first = 1;
        while (*s) {
            size_t n = strcspn(s, ", ");
            if (n) {
                fprintf(f, "%s\"%.*s\"", first ? "" : ", ", (int)n, s);
                first = 0;
            }
            s += n;
            while (*s == ',' || *s == ' ')
                s++;
        }
        fputc(']', f);
        break;
    }
    default:
        spec_json_string(f, o->def);
        break;
    }
}

static void print_names(FILE *f, const char *const *names)
{
    fputc('[', f);
    for (size_t i = 0; names[i]; i++) {
        if (i)
            fputs(", ", f);
        spec_json_string(f, names[i]);
    }
    fputc(']', f);
}

static void print_bounds(FILE *f, const spec_option *o, int d)
{
    if (o->min == 0 && o->max == 0)
        return;
    fputs(",\n", f);
    ind(f, d);
    fputs((o->flags & OPT_EXCL_MIN) ? "\"exclusiveMinimum\": " : "\"minimum\": ", f);
    print_number(f, o->min);
    fputs(",\n", f);
    ind(f, d);
    fputs((o->flags & OPT_EXCL_MAX) ? "\"exclusiveMaximum\": " : "\"maximum\": ", f);
    print_number(f, o->max);
}

static void emit_option(FILE *f, const spec_option *o, int d);

/* "properties", "required" and "additionalProperties" of a mapping whose
 * keys are the children of path. */
static void emit_object_members(FILE *f, const char *path, int d)
{
    ind(f, d);
    fputs("\"type\": \"object\",\n", f);
    ind(f, d);
    fputs("\"properties\": {", f);
    int first = 1;
    for (size_t i = 0; i < spec_n_options; i++) {
        const spec_option *o = &spec_options[i];
        if (!spec_option_is_child(o, path))
            continue;
        fputs(first ? "\n" : ",\n", f);
        first = 0;
        ind(f, d + 1);
        spec_json_string(f, last_key(o->path));
        fputs(": {\n", f);
        emit_option(f, o, d + 2);
        fputc('\n', f);
        ind(f, d + 1);
        fputc('}', f);
    }
    fputc('\n', f);
    ind(f, d);
    fputs("},\n", f);
    int any = 0;
    for (size_t i = 0; i < spec_n_options; i++) {
        const spec_option *o = &spec_options[i];
        if (!spec_option_is_child(o, path) || !(o->flags & OPT_REQUIRED))
            continue;
        if (!any) {
            ind(f, d);
            fputs("\"required\": [", f);
        }
        fprintf(f, "%s", any ? ", " : "");
        spec_json_string(f, last_key(o->path));
        any = 1;
    }
    if (any)
        fputs("],\n", f);
    ind(f, d);
    fputs("\"additionalProperties\": false", f);
}

static void emit_object(FILE *f, const char *path, int d)
{
    emit_object_members(f, path, d);
}

static void emit_option(FILE *f, const spec_option *o, int d)
{
    ind(f, d);
    fputs("\"description\": ", f);
    spec_json_string(f, o->help);
    if (o->def) {
        fputs(",\n", f);
        ind(f, d);
        fputs("\"default\": ", f);
        print_default(f, o);
    }
    fputs(",\n", f);
    switch (o->type) {
    case OPT_MAP:
        emit_object(f, o->path, d);
        break;
    case OPT_INT:
        ind(f, d);
        fputs("\"type\": \"integer\"", f);
        print_bounds(f, o, d);
        break;
    case OPT_REAL:
        ind(f, d);
        fputs("\"type\": \"number\"", f);
        print_bounds(f, o, d);
        break;
    case OPT_BOOL:
        ind(f, d);
        fputs("\"type\": \"boolean\"", f);
        break;
    case OPT_STR:
        ind(f, d);
        fputs("\"type\": \"string\"", f);
        break;
    case OPT_ENUM:
        ind(f, d);
        fputs("\"enum\": ", f);
        print_names(f, o->names);
        break;
    case OPT_ENUM_LIST:
        ind(f, d);
        fputs("\"type\": \"array\",\n", f);
        ind(f, d);
        fputs("\"items\": {\"enum\": ", f);
        print_names(f, o->names);
        fputs("},\n", f);
        ind(f, d);
        fputs("\"uniqueItems\": true", f);
        break;
    case OPT_SIZE:
        ind(f, d);
        fputs("\"oneOf\": [\n", f);
        ind(f, d + 1);
        fputs("{\"type\": \"integer\", \"minimum\": 1, \"description\": \"a row count\"},\n", f);
        ind(f, d + 1);
        fputs("{\"type\": \"number\", \"exclusiveMinimum\": 0, \"exclusiveMaximum\": 1, "
              "\"description\": \"a fraction of the rows\"}\n",
              f);
        ind(f, d);
        fputc(']', f);
        break;
    case OPT_UNITS:
        ind(f, d);
        fputs("\"oneOf\": [\n", f);
        ind(f, d + 1);
        fputs("{\"type\": \"integer\", \"minimum\": ", f);
        print_number(f, o->min);
        fputs(", \"maximum\": ", f);
        print_number(f, o->max);
        fputs("},\n", f);
        ind(f, d + 1);
        fputs("{\"const\": \"classes\"}\n", f);
        ind(f, d);
        fputc(']', f);
        break;
    case OPT_SOURCE:
    case OPT_NAME_MAP:
    case OPT_GRID:
        ind(f, d);
        fputs("\"oneOf\": [\n", f);
        ind(f, d + 1);
        if (o->type == OPT_GRID) {
            fputs("{\"type\": \"boolean\"},\n", f);
        } else {
            fputs("{\"enum\": ", f);
            print_names(f, o->names);
            fputs("},\n", f);
        }
        ind(f, d + 1);
        fputs("{\n", f);
        emit_object(f, o->path, d + 2);
        fputc('\n', f);
        ind(f, d + 1);
        fputs("}\n", f);
        ind(f, d);
        fputc(']', f);
        break;
    case OPT_LAYERS:
    case OPT_ZIP:
        ind(f, d);
        fputs("\"type\": \"array\",\n", f);
        ind(f, d);
        fputs("\"minItems\": ", f);
        print_number(f, o->min);
        fputs(",\n", f);
        ind(f, d);
        fputs("\"maxItems\": ", f);
        print_number(f, o->max);
        fputs(",\n", f);
        ind(f, d);
        fputs("\"items\": {\n", f);
        emit_object(f, o->path, d + 1);
        fputc('\n', f);
        ind(f, d);
        fputc('}', f);
        break;
    case OPT_SEEDS:
        ind(f, d);
        fputs("\"oneOf\": [\n", f);
        ind(f, d + 1);
        fputs("{\"type\": \"integer\", \"minimum\": ", f);
        print_number(f, o->min);
        fputs(", \"maximum\": ", f);
        print_number(f, o->max);
        fputs("},\n", f);
        ind(f, d + 1);
        fputs("{\"type\": \"array\", \"minItems\": 1, \"uniqueItems\": true, "
              "\"items\": {\"type\": \"integer\", \"minimum\": 0, \"maximum\": ",
              f);
        print_number(f, BIG_INT);
        fputs("}}\n", f);
        ind(f, d);
        fputc(']', f);
        break;
    case OPT_RANGE2:
        ind(f, d);
        fputs("\"type\": \"array\",\n", f);
        ind(f, d);
        fputs("\"minItems\": 2,\n", f);
        ind(f, d);
        fputs("\"maxItems\": 2,\n", f);
        ind(f, d);
        fputs("\"items\": {\"type\": \"array\", \"minItems\": 2, \"maxItems\": 2, "
              "\"items\": {\"type\": \"number\"}}",
              f);
        break;
    case OPT_SWEEP:
        ind(f, d);
        fputs("\"type\": \"object\",\n", f);
        ind(f, d);
        fputs("\"additionalProperties\": {\n", f);
        ind(f, d + 1);
        fputs("\"oneOf\": [{\"required\": [\"path\", \"values\"]}, {\"required\": [\"zip\"]},"
              " {\"required\": [\"path\", \"uniform\"]}, {\"required\": [\"path\", \"log_uniform\"]},"
              " {\"required\": [\"path\", \"int_uniform\"]}, {\"required\": [\"path\", \"choice\"]}],\n",
              f);
        emit_object(f, "sweep.*", d + 1);
        fputc('\n', f);
        ind(f, d);
        fputc('}', f);
        break;
    case OPT_VALUES:
        ind(f, d);
        fputs("\"$ref\": \"#/$defs/values\"", f);
        break;
    case OPT_RATE:
        ind(f, d);
        fputs("\"oneOf\": [\n", f);
        ind(f, d + 1);
        fputs("{\"type\": \"number\", \"exclusiveMinimum\": ", f);
        print_number(f, o->min);
        fputs(", \"maximum\": ", f);
        print_number(f, o->max);
        fputs("},\n", f);
        ind(f, d + 1);
        fputs("{\n", f);
        emit_object(f, o->path, d + 2);
        fputc('\n', f);
        ind(f, d + 1);
        fputs("}\n", f);
        ind(f, d);
        fputc(']', f);
        break;
    case OPT_LIST:
    case OPT_REAL_LIST:
        ind(f, d);
        fputs("\"type\": \"array\",\n", f);
        ind(f, d);
        fputs("\"minItems\": ", f);
        print_number(f, o->min);
        fputs(",\n", f);
        ind(f, d);
        fputs("\"maxItems\": ", f);
        print_number(f, o->max);
        if (o->type == OPT_REAL_LIST) {
            fputs(",\n", f);
            ind(f, d);
            fputs("\"items\": {\"type\": \"number\"}", f);
        }
        break;
    case OPT_CLASS_WEIGHT:
        ind(f, d);
        fputs("\"oneOf\": [\n", f);
        ind(f, d + 1);
        fputs("{\"const\": \"balanced\"},\n", f);
        ind(f, d + 1);
        fputs("{\"type\": \"object\", \"minProperties\": 1, \"additionalProperties\": "
              "{\"type\": \"number\", \"minimum\": ", f);
        print_number(f, o->min);
        fputs(", \"maximum\": ", f);
        print_number(f, o->max);
        fputs("}}\n", f);
        ind(f, d);
        fputc(']', f);
        break;
    }
}

void spec_schema_print(FILE *f)
{
    fputs("{\n", f);
    fputs("  \"$schema\": \"https://json-schema.org/draft/2020-12/schema\",\n", f);
    fputs("  \"$id\": \"https://runexp.invalid/schemas/experiment.schema.json\",\n", f);
    fputs("  \"title\": \"runexp experiment spec\",\n", f);
    fputs("  \"description\": \"A YAML experiment for runexp, generated by `runexp schema` "
          "from the option table in src/spec/spec_options.c; do not edit by hand.\",\n",
          f);
    emit_object(f, "", 1);
    fputs(",\n", f);
    fputs("  \"$defs\": {\n", f);
    fputs("    \"values\": {\n", f);
    const spec_option *v = spec_option_find("sweep.*.values");
    fputs("      \"oneOf\": [\n", f);
    fputs("        {\"type\": \"array\", \"minItems\": 1, \"maxItems\": ", f);
    print_number(f, v->max);
    fputs("},\n", f);
    fputs("        {\n", f);
    emit_object(f, "sweep.*.values", 5);
    fputs("\n        }\n", f);
    fputs("      ]\n", f);
    fputs("    }\n", f);
    fputs("  }\n", f);
    fputs("}\n", f);
}
