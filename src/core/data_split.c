/* data (part 2): train/test splits with scikit-learn 1.2.1 semantics,
 * feature scaling, one-hot targets and the per-trial pipeline.
 *
 * The split code follows sklearn/model_selection/_split.py of 1.2.1 line by
 * line (_validate_shuffle_split, ShuffleSplit._iter_indices,
 * StratifiedShuffleSplit._iter_indices and utils._approximate_mode), with
 * numpy's legacy RandomState (MT19937) behind random_state=int, so that the
 * same seed picks the same rows as train_test_split(..., random_state=seed).
 */
#include "data.h"

#include "checked.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void set_error(data_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_error(data_error *err, const char *fmt, ...)
{
    va_list ap;
    if (!err)
        return;
    err->file[0] = '\0';
    err->line = 0;
    err->column = 0;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}

/* How sklearn prints the size in its messages: ints bare, floats as Python
 * repr would for the usual values. */
static void size_text(const data_size *s, char *buf, size_t cap)
{
    if (!s->given)
        snprintf(buf, cap, "None");
    else if (s->is_count)
        snprintf(buf, cap, "%.0f", s->value);
    else
        snprintf(buf, cap, "%.17g", s->value);
    /* %.17g prints 0.2 as 0.20000000000000001; retry shorter forms that
     * read back to the same double, as Python's repr does. */
    if (s->given && !s->is_count) {
        int prec;
        for (prec = 1; prec <= 17; prec++) {
            char t[32];
            snprintf(t, sizeof t, "%.*g", prec, s->value);
            if (strtod(t, NULL) == s->value) {
                /* Python writes a float with no fraction as 1.0 */
                snprintf(buf, cap, "%s%s", t, strpbrk(t, ".eni") ? "" : ".0");
                break;
            }
        }
    }
}

/* One side's own check (the first two ValueErrors of
 * _validate_shuffle_split): an int must be in [1, n-1], a float in (0, 1). */
static int check_side(const char *name, const data_size *s, size_t n,
                      data_error *err)
{
    char t[64];
    if (!s->given)
        return 0;
    if (s->is_count) {
        if (s->value != floor(s->value) || s->value <= 0 ||
            s->value >= (double)n)
            goto bad;
    } else if (!(s->value > 0 && s->value < 1)) { /* also rejects NaN */
        goto bad;
    }
    return 0;
bad:
    size_text(s, t, sizeof t);
    set_error(err,
              "%s=%s should be either positive and smaller than the number "
              "of samples %zu or a float in the (0, 1) range",
              name, t, n);
    return -1;
}

int data_split_sizes(size_t n, const data_split_config *c, size_t *n_train,
                     size_t *n_test, data_error *err)
{
    data_size test = c->test, train = c->train;
    double dtest = 0, dtrain = 0;
    char a[64], b[64];
    if (!test.given && !train.given) {
        test.given = 1; /* train_test_split's default_test_size */
        test.is_count = 0;
        test.value = 0.25;
    }
    if (check_side("test_size", &test, n, err) != 0 ||
        check_side("train_size", &train, n, err) != 0)
        return -1;
    if (test.given && train.given && !test.is_count && !train.is_count &&
        train.value + test.value > 1) {
        data_size sum = {1, 0, 0.0};
        sum.value = train.value + test.value;
        size_text(&sum, a, sizeof a);
        set_error(err,
                  "The sum of test_size and train_size = %s, should be "
                  "in the (0, 1) range. Reduce test_size and/or train_size.",
                  a);
        return -1;
    }
    /* The products are the same IEEE doubles Python computes. */
    if (test.given)
        dtest = test.is_count ? test.value : ceil(test.value * (double)n);
    if (train.given)
        dtrain = train.is_count ? train.value : floor(train.value * (double)n);
    if (!train.given)
        dtrain = (double)n - dtest;
    else if (!test.given)
        dtest = (double)n - dtrain;
    if (dtrain + dtest > (double)n) {
        set_error(err,
                  "The sum of train_size and test_size = %.0f, should be "
                  "smaller than the number of samples %zu. Reduce test_size "
                  "and/or train_size.",
                  dtrain + dtest, n);
        return -1;
    }
    if (dtrain == 0) {
        size_text(&test, a, sizeof a);
        size_text(&train, b, sizeof b);
        set_error(err,
                  "With n_samples=%zu, test_size=%s and train_size=%s, the "
                  "resulting train set will be empty. Adjust any of the "
                  "aforementioned parameters.",
                  n, a, b);
        return -1;
    }
    *n_train = (size_t)dtrain;
    *n_test = (size_t)dtest;
    return 0;
}

/* out[i] = a[perm[i]] where perm = RandomState.permutation(k): the same as
 * RandomState.permutation(a) / shuffle(a), which swap in the same order. */
static int mt_permute(rng_mt19937 *m, uint32_t *a, size_t k)
{
    uint32_t *perm, *tmp;
    size_t i;
    if (k < 2)
        return 0; /* numpy draws nothing for 0 or 1 element */
    perm = malloc(k * sizeof *perm);
    tmp = malloc(k * sizeof *tmp);
    if (!perm || !tmp) {
        free(perm);
        free(tmp);
        return -1;
    }
    rng_mt19937_permutation(m, perm, k);
    for (i = 0; i < k; i++)
        tmp[i] = a[perm[i]];
    memcpy(a, tmp, k * sizeof *a);
    free(perm);
    free(tmp);
    return 0;
}

static int cmp_double_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

/* sklearn.utils._approximate_mode(class_counts, n_draws, rng): floor of the
 * proportional allocation, then the remaining draws go to the largest
 * remainders; among equal remainders rng.choice(inds, add_now,
 * replace=False), which numpy's legacy RandomState implements as
 * permutation(len(inds))[:add_now] -- drawn even when all of them are
 * taken. */
static int approximate_mode(const size_t *counts, size_t k, size_t n_draws,
                            rng_mt19937 *m, size_t *out)
{
    double *cont = NULL, *rem = NULL, *vals = NULL, total = 0, floored_sum = 0;
    uint32_t *inds = NULL;
    size_t i, nv = 0, need;
    int rc = -1;
    cont = malloc(k * sizeof *cont);
    rem = malloc(k * sizeof *rem);
    vals = malloc(k * sizeof *vals);
    inds = malloc(k * sizeof *inds);
    if (!cont || !rem || !vals || !inds)
        goto done;
    for (i = 0; i < k; i++)
        total += (double)counts[i];
    for (i = 0; i < k; i++) {
        /* class_counts / class_counts.sum() * n_draws, in that order */
        cont[i] = (double)counts[i] / total * (double)n_draws;
        out[i] = (size_t)floor(cont[i]);
        floored_sum += floor(cont[i]);
        rem[i] = cont[i] - floor(cont[i]);
    }
    need = (size_t)((double)n_draws - floored_sum);
    if ((double)n_draws - floored_sum > 0) {
        memcpy(vals, rem, k * sizeof *vals);
        qsort(vals, k, sizeof *vals, cmp_double_desc);
        for (i = 0; i < k; i++) /* np.unique */
            if (nv == 0 || vals[nv - 1] != vals[i])
                vals[nv++] = vals[i];
        for (i = 0; i < nv && need > 0; i++) {
            size_t n_inds = 0, j, add_now;
            for (j = 0; j < k; j++)
                if (rem[j] == vals[i])
                    inds[n_inds++] = (uint32_t)j;
            add_now = n_inds < need ? n_inds : need;
            if (mt_permute(m, inds, n_inds) != 0)
                goto done;
            for (j = 0; j < add_now; j++)
                out[inds[j]]++;
            need -= add_now;
        }
    }
    rc = 0;
done:
    free(cont);
    free(rem);
    free(vals);
    free(inds);
    return rc;
}

/* StratifiedShuffleSplit(n_splits=1, test_size=n_test, train_size=n_train,
 * random_state=seed32)._iter_indices, first split. */
static int stratified_indices(size_t n, const int32_t *y, size_t n_classes,
                              size_t n_train, size_t n_test, rng_mt19937 *m,
                              uint32_t *train_idx, uint32_t *test_idx,
                              data_error *err)
{
    size_t *all_counts = NULL, *counts = NULL, *start = NULL, *fill = NULL;
    size_t *n_i = NULL, *rest = NULL, *t_i = NULL;
    uint32_t *by_class = NULL, *perm = NULL;
    size_t i, k = 0, c, nt = 0, ns = 0, min_count = (size_t)-1;
    int rc = -1;
    if (!y || n_classes == 0) {
        set_error(err, "stratified split needs class labels");
        return -1;
    }
    all_counts = calloc(n_classes, sizeof *all_counts);
    if (!all_counts)
        goto oom;
    for (i = 0; i < n; i++) {
        if (y[i] < 0 || (size_t)y[i] >= n_classes) {
            set_error(err, "label %ld of row %zu is not a class index below %zu",
                      (long)y[i], i, n_classes);
            goto done;
        }
        all_counts[y[i]]++;
    }
    /* np.unique(y): only the classes present, in increasing order. */
    counts = malloc(n_classes * sizeof *counts);
    start = malloc(n_classes * sizeof *start);
    fill = malloc(n_classes * sizeof *fill);
    n_i = calloc(n_classes, sizeof *n_i);
    rest = calloc(n_classes, sizeof *rest); /* calloc: gcc cannot see k <= n_classes */
    t_i = calloc(n_classes, sizeof *t_i);
    by_class = malloc(n * sizeof *by_class + 1);
    perm = malloc(n * sizeof *perm + 1);
    if (!counts || !start || !fill || !n_i || !rest || !t_i || !by_class || !perm)
        goto oom;
    for (c = 0; c < n_classes; c++) {
        if (all_counts[c] == 0)
            continue;
        counts[k] = all_counts[c];
        if (counts[k] < min_count)
            min_count = counts[k];
        k++;
    }
    if (min_count < 2) {
        set_error(err, "The least populated class in y has only 1 member, "
                       "which is too few. The minimum number of groups for "
                       "any class cannot be less than 2.");
        goto done;
    }
    if (n_train < k) {
        set_error(err, "The train_size = %zu should be greater or equal to "
                       "the number of classes = %zu", n_train, k);
        goto done;
    }
    if (n_test < k) {
        set_error(err, "The test_size = %zu should be greater or equal to "
                       "the number of classes = %zu", n_test, k);
        goto done;
    }
    /* class_indices: argsort(y_indices, kind="mergesort") is stable, so each
     * class lists its rows in increasing order. */
    for (c = 0, i = 0; c < k; c++) {
        start[c] = i;
        fill[c] = i;
        i += counts[c];
    }
    {
        size_t *dense = all_counts; /* reuse: class id -> dense index */
        for (c = 0, i = 0; c < n_classes; c++)
            dense[c] = all_counts[c] ? i++ : 0;
        for (i = 0; i < n; i++)
            by_class[fill[dense[y[i]]]++] = (uint32_t)i;
    }
    if (approximate_mode(counts, k, n_train, m, n_i) != 0)
        goto oom;
    for (c = 0; c < k; c++)
        rest[c] = counts[c] - n_i[c];
    if (approximate_mode(rest, k, n_test, m, t_i) != 0)
        goto oom;
    for (c = 0; c < k; c++) {
        uint32_t *cls = by_class + start[c];
        rng_mt19937_permutation(m, perm, counts[c]);
        for (i = 0; i < n_i[c]; i++)
            train_idx[nt++] = cls[perm[i]];
        for (; i < n_i[c] + t_i[c]; i++)
            test_idx[ns++] = cls[perm[i]];
    }
    if (mt_permute(m, train_idx, nt) != 0 || mt_permute(m, test_idx, ns) != 0)
        goto oom;
    rc = 0;
    goto done;
oom:
    set_error(err, "out of memory");
done:
    free(all_counts);
    free(counts);
    free(start);
    free(fill);
    free(n_i);
    free(rest);
    free(t_i);
    free(by_class);
    free(perm);
    return rc;
}

int data_split_indices(size_t n, const int32_t *y, size_t n_classes,
                       const data_split_config *c, uint32_t seed32,
                       uint32_t *train_idx, size_t *n_train,
                       uint32_t *test_idx, size_t *n_test, data_error *err)
{
    size_t ntr, nte, i;
    rng_mt19937 m;
    if (n > UINT32_MAX) {
        set_error(err, "%zu rows: splits support at most 2^32 - 1", n);
        return -1;
    }
    if (data_split_sizes(n, c, &ntr, &nte, err) != 0)
        return -1;
    if (!c->shuffle) {
        if (c->stratify) {
            set_error(err, "Stratified train/test split is not implemented "
                           "for shuffle=False");
            return -1;
        }
        for (i = 0; i < ntr; i++)
            train_idx[i] = (uint32_t)i;
        for (i = 0; i < nte; i++)
            test_idx[i] = (uint32_t)(ntr + i);
    } else {
        rng_mt19937_seed(&m, seed32);
        if (c->stratify) {
            if (stratified_indices(n, y, n_classes, ntr, nte, &m, train_idx,
                                   test_idx, err) != 0)
                return -1;
        } else {
            uint32_t *perm = malloc(n * sizeof *perm);
            if (!perm) {
                set_error(err, "out of memory");
                return -1;
            }
            rng_mt19937_permutation(&m, perm, n);
            memcpy(test_idx, perm, nte * sizeof *perm);
            memcpy(train_idx, perm + nte, ntr * sizeof *perm);
            free(perm);
        }
    }
    *n_train = ntr;
    *n_test = nte;
    return 0;
}

/* ---- rows, scaling, one-hot --------------------------------------------- */

int data_scaler_fit(data_scaler *s, data_scale kind, const data_set *train)
{
    size_t nf = train->n_features, n = train->n_rows, i, j;
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->n_features = nf;
    if (nf == 0)
        return 0;
    s->shift = malloc(nf * sizeof *s->shift);
    s->scale = malloc(nf * sizeof *s->scale);
    if (!s->shift || !s->scale)
        goto fail;
    for (j = 0; j < nf; j++) {
        s->shift[j] = 0.0;
        s->scale[j] = 1.0;
    }
    if (kind == DATA_SCALE_NONE || n == 0)
        return 0;
    for (j = 0; j < nf; j++) {
        double lo = train->x[j], hi = train->x[j];
        for (i = 1; i < n; i++) {
            double v = train->x[i * nf + j];
            if (v < lo) lo = v;
            if (v > hi) hi = v;
        }
        if (kind == DATA_SCALE_MINMAX) {
            s->shift[j] = lo;
            s->scale[j] = hi > lo ? hi - lo : 1.0; /* constant -> 1 */
        } else {
            /* StandardScaler: population variance (ddof = 0), two passes in
             * double. A constant column gets scale 1, as sklearn's
             * _handle_zeros_in_scale does; testing lo == hi rather than
             * std == 0 keeps rounding noise out of the decision. */
            double sum = 0, ss = 0, mean;
            for (i = 0; i < n; i++)
                sum += train->x[i * nf + j];
            mean = sum / (double)n;
            for (i = 0; i < n; i++) {
                double d = train->x[i * nf + j] - mean;
                ss += d * d;
            }
            s->shift[j] = mean;
            s->scale[j] = hi > lo ? sqrt(ss / (double)n) : 1.0;
        }
    }
    return 0;
fail:
    data_scaler_free(s);
    return -1;
}

void data_scaler_apply(const data_scaler *s, data_set *d)
{
    size_t i, j, nf = d->n_features;
    if (s->kind == DATA_SCALE_NONE || !s->shift || nf != s->n_features)
        return;
    for (i = 0; i < d->n_rows; i++)
        for (j = 0; j < nf; j++) {
            float *v = &d->x[i * nf + j];
            *v = (float)(((double)*v - s->shift[j]) / s->scale[j]);
        }
}

void data_scaler_free(data_scaler *s)
{
    if (!s)
        return;
    free(s->shift);
    free(s->scale);
    memset(s, 0, sizeof *s);
}

void data_one_hot(const int32_t *y, size_t n_rows, size_t n_classes, float *out)
{
    size_t i;
    if (n_rows == 0 || n_classes == 0)
        return;
    memset(out, 0, n_rows * n_classes * sizeof *out);
    for (i = 0; i < n_rows; i++)
        if (y[i] >= 0 && (size_t)y[i] < n_classes)
            out[i * n_classes + (size_t)y[i]] = 1.0f;
}

void data_class_counts(const data_set *d, size_t *counts)
{
    size_t i;
    for (i = 0; i < d->n_classes; i++)
        counts[i] = 0;
    for (i = 0; i < d->n_rows; i++)
        if (d->y[i] >= 0 && (size_t)d->y[i] < d->n_classes)
            counts[d->y[i]]++;
}

/* ---- pipeline ---------------------------------------------------------- */

/* Splits src into a (train side) and b (test side). src_rows[i] is the
 * augmented-set index of src's row i; *rows_a and *rows_b receive those of
 * a's and b's rows (the caller frees them). */
static int split_into(const data_set *src, const uint32_t *src_rows,
                      const data_split_config *c, uint32_t seed32, data_set *a,
                      uint32_t **rows_a, data_set *b, uint32_t **rows_b,
                      data_error *err)
{
    uint32_t *ia = malloc(src->n_rows * sizeof *ia + 1);
    uint32_t *ib = malloc(src->n_rows * sizeof *ib + 1);
    size_t na = 0, nb = 0, i;
    int rc = -1;
    *rows_a = *rows_b = NULL;
    if (!ia || !ib) {
        set_error(err, "out of memory");
        goto done;
    }
    if (data_split_indices(src->n_rows, src->y, src->n_classes, c, seed32, ia,
                           &na, ib, &nb, err) != 0)
        goto done;
    if (data_set_take(a, src, ia, na) != 0) {
        set_error(err, "out of memory");
        goto done;
    }
    if (data_set_take(b, src, ib, nb) != 0) {
        data_set_free(a);
        set_error(err, "out of memory");
        goto done;
    }
    /* The indices are the provenance once mapped through src_rows. */
    for (i = 0; i < na; i++)
        ia[i] = src_rows[ia[i]];
    for (i = 0; i < nb; i++)
        ib[i] = src_rows[ib[i]];
    *rows_a = ia;
    *rows_b = ib;
    ia = ib = NULL;
    rc = 0;
done:
    free(ia);
    free(ib);
    return rc;
}

static float *one_hot_alloc(const data_set *d, int *ok)
{
    size_t n;
    float *o;
    *ok = 1;
    if (d->n_rows == 0)
        return NULL;
    if (!checked_mul(d->n_rows, d->n_classes, &n) || !checked_mul(n, sizeof *o, &n) ||
        !(o = malloc(n))) {
        *ok = 0;
        return NULL;
    }
    data_one_hot(d->y, d->n_rows, d->n_classes, o);
    return o;
}

int data_pipeline_build(const data_set *source, const data_pipeline_config *c,
                        uint64_t data_seed, data_splits *out, data_error *err)
{
    data_set work, rest;
    data_splits s;
    rng_state r;
    uint32_t seed1, seed2, *work_rows = NULL, *rest_rows = NULL;
    size_t i;
    int ok;
    memset(&work, 0, sizeof work);
    memset(&rest, 0, sizeof rest);
    memset(&s, 0, sizeof s);
    s.n_source_rows = source->n_rows;
    if (data_set_copy(&work, source) != 0)
        goto oom;
    if (c->repeat != 1 && data_augment_repeat(&work, c->repeat) != 0) {
        set_error(err, c->repeat == 0 ? "repeat must be at least 1, got 0"
                                      : "out of memory repeating the data");
        goto fail;
    }
    if (c->noise > 0) {
        rng_stream(&r, data_seed, RNG_PURPOSE_DATA_NOISE);
        data_augment_noise(&work, c->noise, &r);
    }
    /* Both split seeds are drawn up front so split 1's seed does not depend
     * on whether a validation split follows. */
    rng_stream(&r, data_seed, RNG_PURPOSE_SPLIT);
    seed1 = (uint32_t)(rng_next(&r) >> 32);
    seed2 = (uint32_t)(rng_next(&r) >> 32);
    /* random_state: the notebook's train_test_split(..., random_state=N),
     * both calls with the same N, whatever the data seed. */
    if (c->has_random_state)
        seed1 = seed2 = (uint32_t)c->random_state;
    if (work.n_rows > UINT32_MAX) {
        set_error(err, "%zu rows: splits support at most 2^32 - 1", work.n_rows);
        goto fail;
    }
    work_rows = malloc(work.n_rows * sizeof *work_rows + 1);
    if (!work_rows)
        goto oom;
    for (i = 0; i < work.n_rows; i++)
        work_rows[i] = (uint32_t)i;
    if (split_into(&work, work_rows, &c->test, seed1, &rest, &rest_rows, &s.test,
                   &s.rows_test, err) != 0)
        goto fail;
    data_set_free(&work);
    if (c->validation.test.given) {
        if (split_into(&rest, rest_rows, &c->validation, seed2, &s.train, &s.rows_train,
                       &s.validation, &s.rows_validation, err) != 0)
            goto fail;
        data_set_free(&rest);
        free(rest_rows);
        rest_rows = NULL;
    } else {
        s.train = rest; /* ownership moves */
        s.rows_train = rest_rows;
        memset(&rest, 0, sizeof rest);
        rest_rows = NULL;
        if (data_set_take(&s.validation, &s.train, NULL, 0) != 0 ||
            !(s.rows_validation = malloc(1)))
            goto oom;
    }
    free(work_rows);
    work_rows = NULL;
    if (data_scaler_fit(&s.scaler, c->scale, &s.train) != 0)
        goto oom;
    data_scaler_apply(&s.scaler, &s.train);
    data_scaler_apply(&s.scaler, &s.validation);
    data_scaler_apply(&s.scaler, &s.test);
    s.y_train = one_hot_alloc(&s.train, &ok);
    if (!ok)
        goto oom;
    s.y_validation = one_hot_alloc(&s.validation, &ok);
    if (!ok)
        goto oom;
    s.y_test = one_hot_alloc(&s.test, &ok);
    if (!ok)
        goto oom;
    *out = s;
    return 0;
oom:
    set_error(err, "out of memory");
fail:
    data_set_free(&work);
    data_set_free(&rest);
    free(work_rows);
    free(rest_rows);
    data_splits_free(&s);
    return -1;
}

void data_splits_free(data_splits *s)
{
    if (!s)
        return;
    data_set_free(&s->train);
    data_set_free(&s->validation);
    data_set_free(&s->test);
    free(s->y_train);
    free(s->y_validation);
    free(s->y_test);
    free(s->rows_train);
    free(s->rows_validation);
    free(s->rows_test);
    data_scaler_free(&s->scaler);
    memset(s, 0, sizeof *s);
}
