/* metrics: accuracy, confusion matrices, per-class figures, derived figures
 * of a history, and decision-boundary grids. scikit-learn's definitions
 * (confusion_matrix, precision_recall_fscore_support with zero_division=0)
 * and numpy.linspace's spacing are reproduced exactly. */
#include "metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

size_t metrics_argmax(const float *v, size_t k)
{
    size_t best = 0;
    for (size_t i = 1; i < k; i++)
        if (v[i] > v[best]) /* strict: ties keep the lowest index */
            best = i;
    return best;
}

double metrics_accuracy(const float *prob, const int32_t *y, size_t n, size_t k)
{
    if (n == 0)
        return NAN;
    size_t ok = 0;
    for (size_t i = 0; i < n; i++)
        ok += (int64_t)metrics_argmax(prob + i * k, k) == (int64_t)y[i];
    return (double)ok / (double)n;
}

void metrics_confusion(const float *prob, const int32_t *y, size_t n, size_t k,
                       uint32_t *cm)
{
    memset(cm, 0, k * k * sizeof *cm);
    for (size_t i = 0; i < n; i++) {
        if (y[i] < 0 || (size_t)y[i] >= k)
            continue; /* not a class of this matrix */
        cm[(size_t)y[i] * k + metrics_argmax(prob + i * k, k)]++;
    }
}

void metrics_confusion_normalize(const uint32_t *cm, size_t k,
                                 metrics_normalize how, double *out)
{
    double total = 0.0;
    for (size_t i = 0; i < k * k; i++)
        total += cm[i];
    for (size_t i = 0; i < k; i++) {
        for (size_t j = 0; j < k; j++) {
            double d = 0.0;
            if (how == METRICS_NORMALIZE_TRUE) {
                for (size_t c = 0; c < k; c++)
                    d += cm[i * k + c];
            } else if (how == METRICS_NORMALIZE_PRED) {
                for (size_t r = 0; r < k; r++)
                    d += cm[r * k + j];
            } else {
                d = total;
            }
            out[i * k + j] = d > 0.0 ? (double)cm[i * k + j] / d : 0.0;
        }
    }
}

void metrics_per_class(const uint32_t *cm, size_t k, double *precision,
                       double *recall, double *f1, uint32_t *support)
{
    for (size_t c = 0; c < k; c++) {
        double tp = cm[c * k + c], row = 0.0, col = 0.0;
        for (size_t j = 0; j < k; j++) {
            row += cm[c * k + j];
            col += cm[j * k + c];
        }
        double p = col > 0.0 ? tp / col : 0.0;
        double r = row > 0.0 ? tp / row : 0.0;
        if (precision)
            precision[c] = p;
        if (recall)
            recall[c] = r;
        if (f1)
            f1[c] = p + r > 0.0 ? 2.0 * p * r / (p + r) : 0.0;
        if (support)
            support[c] = (uint32_t)row;
    }
}

/* The gap is measured from the last finite value ("final"), so a history
 * ending in NaN still has a gap. */
void metrics_best_epoch(const double *val_loss, size_t n, size_t *best_epoch,
                        double *gap)
{
    size_t best = 0;
    double min = 0.0, last = NAN;
    for (size_t i = 0; i < n; i++) {
        if (isnan(val_loss[i]))
            continue;
        if (best == 0 || val_loss[i] < min) {
            min = val_loss[i];
            best = i + 1;
        }
        last = val_loss[i];
    }
    if (best_epoch)
        *best_epoch = best;
    if (gap)
        *gap = best ? last - min : NAN;
}

/* numpy.linspace(lo, hi, res): lo + i * ((hi - lo) / (res - 1)) in double,
 * the last point set to hi exactly. */
static double linspace_at(double lo, double hi, size_t res, size_t i)
{
    if (res < 2)
        return lo;
    if (i == res - 1)
        return hi;
    double step = (hi - lo) / (double)(res - 1);
    return (double)i * step + lo;
}

void metrics_grid_points(double x0lo, double x0hi, double x1lo, double x1hi,
                         size_t res, float *xy)
{
    for (size_t iy = 0; iy < res; iy++) {
        float x1 = (float)linspace_at(x1lo, x1hi, res, iy);
        for (size_t ix = 0; ix < res; ix++) {
            xy[(iy * res + ix) * 2] = (float)linspace_at(x0lo, x0hi, res, ix);
            xy[(iy * res + ix) * 2 + 1] = x1;
        }
    }
}

void metrics_predict_classes(nn_model *m, const float *x, size_t n, int32_t *cls,
                             float *prob)
{
    const nn_model_config *c = nn_model_get_config(m);
    size_t k = c->layers[c->n_layers - 1].units;
    size_t width = c->n_inputs;
    if (n == 0)
        return;
    /* Without a prob buffer, predict in chunks through a small one. */
    float local[512];
    float *out = prob;
    size_t chunk = n;
    if (!out) {
        chunk = k <= 512 ? 512 / k : 1;
        out = k <= 512 ? local : malloc(k * sizeof *out);
        if (!out) {
            for (size_t i = 0; i < n; i++)
                cls[i] = -1;
            return;
        }
    }
    for (size_t s = 0; s < n; s += chunk) {
        size_t nb = n - s < chunk ? n - s : chunk;
        float *o = prob ? prob + s * k : out;
        nn_predict(m, x + s * width, nb, o);
        for (size_t i = 0; i < nb; i++)
            cls[s + i] = (int32_t)nn_output_class(o + i * k, k); /* p > 0.5 for one unit */
    }
    if (!prob && out != local)
        free(out);
}

void metrics_grid_predict(nn_model *m, double x0lo, double x0hi, double x1lo,
                          double x1hi, size_t res, float *scratch,
                          int32_t *cls, float *prob)
{
    if (res == 0)
        return;
    metrics_grid_points(x0lo, x0hi, x1lo, x1hi, res, scratch);
    metrics_predict_classes(m, scratch, res * res, cls, prob);
}
