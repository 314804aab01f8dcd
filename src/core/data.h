/* data: dataset sources, augmentation, splits, scaling and one-hot targets.
 *
 * The pipeline of a trial: source -> augment -> split -> scale -> one-hot.
 * Knows nothing of YAML, SQLite or the command line. Every random draw comes
 * from an rng_state the caller passes in.
 */
#ifndef RUNEXP_DATA_H
#define RUNEXP_DATA_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rng.h"

/* One problem in an input file: file, 1-based line and column (0 = unknown)
 * and what was found / expected. */
typedef struct data_error {
    char file[512];
    unsigned line;
    unsigned column;
    char message[512];
} data_error;

/* A labelled dataset: x is n_rows x n_features, row-major, float32; y holds
 * class indices 0..n_classes-1. class_names[k] is the label text of class k
 * ("0".."9" for digits). image_w/image_h are set (8 x 8) for image data whose
 * features are pixels in row-major order, 0 otherwise. */
typedef struct data_set {
    size_t n_rows;
    size_t n_features;
    size_t n_classes;
    float *x;
    int32_t *y;
    char **class_names;
    char **feature_names; /* may be NULL */
    char *label_name;     /* CSV: the label column's name; NULL otherwise */
    size_t image_w, image_h;
    int labels_numeric; /* CSV: every label a number, not all integers
                           (classes by value, see data_source_csv) */
} data_set;

/* Frees everything a data_set owns and zeroes it. Safe on a zeroed set. */
void data_set_free(data_set *d);

/* Deep copy. Returns 0 on success, -1 when out of memory. */
int data_set_copy(data_set *dst, const data_set *src);

/* The XOR truth table: 4 rows {0,1}^2, label = x0 != x1, 2 classes. */
int data_source_xor(data_set *out);

/* scikit-learn's load_digits, built into the binary: 1797 x 64 pixels 0..16,
 * labels 0..9, image 8 x 8. */
int data_source_digits(data_set *out, data_error *err);

/* The embedded digits.csv (decompressed text) for checks; *len set. The
 * caller frees the result with free(). */
char *data_digits_csv_text(size_t *len, data_error *err);

/* A user CSV: a header row of unique, non-empty names, numeric feature
 * columns, one label column chosen by name (NULL = the last column). Lines
 * end in "\n", "\r\n" or a lone "\r". Classes are the distinct labels in
 * ascending order: when every label is a number, by numeric value ("1",
 * "01" and "1.0" are one class named "1"; integers compared exactly, other
 * numbers as doubles, named by their shortest text), otherwise as text by
 * strcmp. Errors name the file, line and column: empty file, UTF-16 text, NUL byte,
 * empty or repeated column name, ragged row, non-numeric cell, unknown label
 * column, fewer than two classes; a directory or other non-regular file. */
int data_source_csv(const char *path, const char *label_column, data_set *out,
                    data_error *err);

/* The same parse of CSV text already in memory: text[0..len) as read from
 * a file (not modified; it need not be NUL-terminated), name naming it in
 * errors. */
int data_source_csv_buffer(const char *text, size_t len, const char *name,
                           const char *label_column, data_set *out, data_error *err);

/* Bytes per read of data_source_csv_file when chunk is 0. */
#define DATA_CSV_CHUNK ((size_t)1 << 20)

/* The same parse of the open file f, read from its position to its end in
 * pieces of chunk bytes (0 = DATA_CSV_CHUNK); each piece is hashed and
 * parsed as it arrives, so memory holds the dataset, one piece and the
 * longest line, never the whole text. f must be a regular file (checked).
 * sha256 (may be NULL) receives the hex SHA-256 of every byte read, as
 * sha256sum prints it, on success ("" on failure). The dataset, the hash
 * and every error are the same whatever the chunk size and the same as
 * data_source_csv_buffer on the file's bytes. data_source_csv opens the
 * file (refusing a directory, FIFO or device before opening it) and reads
 * it with this. */
int data_source_csv_file(FILE *f, const char *name, const char *label_column, size_t chunk,
                         data_set *out, char sha256[65], data_error *err);

/* The CSV reader's fast path for one number (exposed for its tests): when
 * s starts with a plain decimal [+-] digits [. digits] [(e|E) [+-] digits]
 * whose digits, leading zeros aside, fit in 2^53 and whose decimal exponent
 * is within +-22, returns the end of the number with *out the double strtod
 * reads from the same text (Clinger's fast path; bit for bit); NULL for
 * anything else. */
const char *data_decimal_fast(const char *s, double *out);

/* Reads the rest of the open file f into a new buffer with a NUL appended
 * (not counted in *len); name names it in errors. f must be a regular file
 * (checked: a device such as /dev/zero would never end). Returns NULL with
 * err set on failure; the caller frees the result with free() and closes f. */
char *data_file_slurp(FILE *f, const char *name, size_t *len, data_error *err);

/* Feature rows of a CSV for prediction: the header must name every one of
 * features[0..nf) once, in any order; a column named ignore (may be NULL) is
 * skipped whatever it holds; any other column is an error, and so is a
 * missing feature (the message names the missing and the unknown columns
 * and lists the expected ones). out->x holds the rows with the columns in
 * features' order; out->y is NULL, n_classes 0, feature_names a copy of
 * features. The same text rules and file:line:col errors as
 * data_source_csv. */
int data_features_csv(const char *path, char *const *features, size_t nf,
                      const char *ignore, data_set *out, data_error *err);

/* numpy.tile(x, (times, 1)) on rows (and labels). */
int data_augment_repeat(data_set *d, size_t times);

/* x += sigma * N(0, 1) on every feature of every row, row-major order. */
void data_augment_noise(data_set *d, double sigma, rng_state *r);

/* A split size as train_test_split reads it. */
typedef struct data_size {
    int given;     /* 0 = not given */
    int is_count;  /* 1 = absolute row count (int), 0 = fraction (float) */
    double value;
} data_size;

typedef struct data_split_config {
    data_size test;  /* train_test_split's test_size */
    data_size train; /* train_test_split's train_size */
    int shuffle;     /* default 1 */
    int stratify;    /* 0 = no */
} data_split_config;

/* Row counts exactly as train_test_split computes them: default test 0.25;
 * float test -> ceil(f * n), float train -> floor(f * n), int -> the count;
 * a missing side is the complement. Errors as scikit-learn's. */
int data_split_sizes(size_t n, const data_split_config *c, size_t *n_train,
                     size_t *n_test, data_error *err);

/* Indices of one split of n rows (y needed only when stratifying).
 * Shuffled: perm = RandomState(seed32).permutation(n); test = perm[:n_test],
 * train = perm[n_test : n_test + n_train] (scikit-learn's ShuffleSplit).
 * Not shuffled: train = first n_train rows, test follows. Stratified:
 * StratifiedShuffleSplit's allocation, class proportions kept.
 * train_idx and test_idx must hold n entries. */
int data_split_indices(size_t n, const int32_t *y, size_t n_classes,
                       const data_split_config *c, uint32_t seed32,
                       uint32_t *train_idx, size_t *n_train,
                       uint32_t *test_idx, size_t *n_test, data_error *err);

/* Copies rows idx[0..n) of src into a new set dst (class names kept). */
int data_set_take(data_set *dst, const data_set *src, const uint32_t *idx,
                  size_t n);

typedef enum {
    DATA_SCALE_NONE = 0,
    DATA_SCALE_STANDARD, /* (x - mean) / std, std 0 -> 1 (sklearn StandardScaler) */
    DATA_SCALE_MINMAX    /* (x - min) / (max - min), range 0 -> 1 (MinMaxScaler) */
} data_scale;

/* A scaler fitted on training rows only, applied to every split. */
typedef struct data_scaler {
    data_scale kind;
    size_t n_features;
    double *shift; /* subtracted */
    double *scale; /* divided by */
} data_scaler;

int data_scaler_fit(data_scaler *s, data_scale kind, const data_set *train);
void data_scaler_apply(const data_scaler *s, data_set *d);
void data_scaler_free(data_scaler *s);

/* to_categorical: out is n_rows x n_classes float32, 1 at the class. */
void data_one_hot(const int32_t *y, size_t n_rows, size_t n_classes, float *out);

/* Class counts into counts[0..n_classes). */
void data_class_counts(const data_set *d, size_t *counts);

/* ---- the per-trial pipeline: augment -> split -> split -> scale -> one-hot */

typedef struct data_pipeline_config {
    size_t repeat;               /* numpy.tile count; 1 = none */
    double noise;                /* sigma of added N(0,1) noise; 0 = none */
    data_split_config test;      /* split 1: the whole set -> rest / test */
    data_split_config validation;/* split 2: rest -> train / validation;
                                    validation.test.given = 0 -> no validation set */
    data_scale scale;            /* fitted on the final training rows only */
    /* data.split.random_state: when has_random_state, both splits use
     * random_state as their 32-bit seed (train_test_split(...,
     * random_state=N) twice) instead of seeds drawn from data_seed. */
    int has_random_state;
    uint64_t random_state;       /* 0 .. 2^32 - 1 */
} data_pipeline_config;

typedef struct data_splits {
    data_set train, validation, test; /* validation.n_rows = 0 when none */
    /* views = 1 (data_pipeline_build_in_place): train, validation and test
     * own nothing; they are consecutive rows of block, which owns the rows
     * (train | validation | test) and the names the three point to. */
    int views;
    data_set block;
    float *y_train, *y_validation, *y_test; /* one-hot, n_rows x n_classes */
    data_scaler scaler;
    /* Row provenance: rows_train[i] (likewise validation, test) is the
     * index of split row i in the augmented set, the source tiled
     * `repeat` times before noise; its source row is that index modulo
     * n_source_rows (numpy.tile repeats the whole block). */
    uint32_t *rows_train, *rows_validation, *rows_test;
    size_t n_source_rows;
} data_splits;

/* Runs the pipeline on a copy of source. Streams, all from data_seed:
 * noise from rng_stream(data_seed, RNG_PURPOSE_DATA_NOISE); the split seeds
 * are the top 32 bits of the first (split 1) and second (split 2) rng_next of
 * rng_stream(data_seed, RNG_PURPOSE_SPLIT), or both c->random_state when
 * c->has_random_state. Fills the row provenance of every split. Free with
 * data_splits_free. */
int data_pipeline_build(const data_set *source, const data_pipeline_config *c,
                        uint64_t data_seed, data_splits *out, data_error *err);

/* The same splits, bit for bit, built from the source's own memory: the
 * rows are permuted in place into train | validation | test order (rows of
 * no split dropped), noise added and the scaler applied in place, and the
 * three splits are views into that one buffer (out->views). Needs
 * c->repeat == 1 (else -1 with err, source untouched). On success the
 * source is taken over: *source is zeroed and belongs to *out. On failure
 * before any row moved (the split's own errors: sizes, stratification)
 * the source is untouched and *source_kept is set to 1; after (out of
 * memory only) it is freed and *source_kept is 0. Free with
 * data_splits_free. */
int data_pipeline_build_in_place(data_set *source, const data_pipeline_config *c,
                                 uint64_t data_seed, data_splits *out, int *source_kept,
                                 data_error *err);
void data_splits_free(data_splits *s);

/* Whether data_pipeline_build's result depends on its data_seed: noise is
 * added, or a split shuffles without random_state. When it does not, every
 * data seed builds the same splits. */
int data_pipeline_uses_seed(const data_pipeline_config *c);

/* A total order on pipelines: 0 when a and b are the same pipeline (equal
 * in every field that can change what data_pipeline_build makes), else
 * negative or positive as a sorts before or after b. */
int data_pipeline_config_cmp(const data_pipeline_config *a, const data_pipeline_config *b);

/* Reorders the rows of d (x and y) in place so that row i is the former
 * row order[i] for i < n; the rows order does not name follow, in
 * increasing order of their former index. order[0..n) must be distinct
 * indices below d->n_rows. Cycle following: each row moves once, with one
 * row of scratch and one bit per row. 0, or -1 when out of memory or order
 * is not such a list (d unchanged). */
int data_set_arrange(data_set *d, const uint32_t *order, size_t n);

#endif
