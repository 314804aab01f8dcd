/* metrics: accuracy, confusion matrices, per-class figures, derived figures
 * of a history, and decision-boundary grids.
 *
 * Nothing here allocates: every output array is the caller's, sized as each
 * function says (k = number of classes). */
#ifndef RUNEXP_METRICS_H
#define RUNEXP_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "nn.h"

/* Index of the largest of v[0..k); ties go to the lowest index. */
size_t metrics_argmax(const float *v, size_t k);

/* Fraction of rows whose argmax(prob) equals y (class indices). */
double metrics_accuracy(const float *prob, const int32_t *y, size_t n, size_t k);

/* cm[i * k + j] = rows with true class i predicted as j (k x k, zeroed first). */
void metrics_confusion(const float *prob, const int32_t *y, size_t n, size_t k,
                       uint32_t *cm);

typedef enum {
    METRICS_NORMALIZE_TRUE = 0, /* by row sums */
    METRICS_NORMALIZE_PRED,     /* by column sums */
    METRICS_NORMALIZE_ALL       /* by the total */
} metrics_normalize;

/* out = cm normalised; 0/0 -> 0 (scikit-learn's confusion_matrix normalize). */
void metrics_confusion_normalize(const uint32_t *cm, size_t k,
                                 metrics_normalize how, double *out);

/* Per-class precision, recall, F1 and support from a confusion matrix
 * (0/0 -> 0, as scikit-learn with zero_division=0). */
void metrics_per_class(const uint32_t *cm, size_t k, double *precision,
                       double *recall, double *f1, uint32_t *support);

/* Derived figures of a validation-loss history: the 1-based epoch of the
 * minimum (first on ties) and final - minimum (the overfitting gap).
 * NaN entries are skipped; with none finite, best = 0 and gap = NaN. */
void metrics_best_epoch(const double *val_loss, size_t n, size_t *best_epoch,
                        double *gap);

/* Predicted class on a res x res grid over [x0lo, x0hi] x [x1lo, x1hi]
 * (inclusive, numpy.linspace); cls[iy * res + ix] for x0 = grid[ix],
 * x1 = grid[iy]. prob (res*res x k) may be NULL. The model must have 2 inputs.
 * scratch must hold res*res*2 floats. Equivalent to metrics_grid_points into
 * scratch followed by metrics_predict_classes on it. */
void metrics_grid_predict(nn_model *m, double x0lo, double x0hi, double x1lo,
                          double x1hi, size_t res, float *scratch,
                          int32_t *cls, float *prob);

/* The points of that grid as res*res rows of 2 features (xy holds
 * res*res*2 floats): row iy * res + ix is (linspace(x0lo, x0hi, res)[ix],
 * linspace(x1lo, x1hi, res)[iy]), computed in double, stored as float. A
 * caller whose model expects transformed inputs (e.g. scaled features)
 * transforms these rows before metrics_predict_classes. */
void metrics_grid_points(double x0lo, double x0hi, double x1lo, double x1hi,
                         size_t res, float *xy);

/* cls[i] = argmax (ties: lowest) of the model's output for row i of x, or
 * for one sigmoid unit output > 0.5 (nn_output_class)
 * (n rows of the model's input width). prob (n x k) may be NULL; without
 * it the rows are predicted in small chunks (a k > 512 output allocates one
 * row of scratch; if that fails every cls is -1). */
void metrics_predict_classes(nn_model *m, const float *x, size_t n, int32_t *cls,
                             float *prob);

#endif
