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

int data_set_arrange(data_set *d, const uint32_t *order, size_t n)
{
    size_t N = d->n_rows, nf = d->n_features, i, j;
    if (n > N)
        return -1;
    if (N < 2)
        return n == 0 || order[0] == 0 ? 0 : -1;
    uint32_t *perm = malloc(N * sizeof *perm);
    unsigned char *seen = calloc(N / 8 + 1, 1);
    float *row = malloc(nf * sizeof *row + 1);
    int rc = -1;
    if (!perm || !seen || !row)
        goto done;
    /* perm: new row i is old row perm[i]; the rows order does not name
     * go last, in increasing order. seen marks the listed rows first. */
    for (i = 0; i < n; i++) {
        uint32_t r = order[i];
        if (r >= N || (seen[r / 8] >> (r % 8) & 1))
            goto done;
        seen[r / 8] |= (unsigned char)(1u << (r % 8));
        perm[i] = r;
    }
    for (i = 0, j = n; i < N; i++)
        if (!(seen[i / 8] >> (i % 8) & 1))
            perm[j++] = (uint32_t)i;
    memset(seen, 0, N / 8 + 1); /* from here: the new rows already in place */
    /* Each cycle s -> perm[s] -> perm[perm[s]] -> ... -> s: row s waits in
     * the scratch row, every other row of the cycle moves once. */
    for (size_t s0 = 0; s0 < N; s0++) {
        if (seen[s0 / 8] >> (s0 % 8) & 1)
            continue;
        seen[s0 / 8] |= (unsigned char)(1u << (s0 % 8));
        if (perm[s0] == s0)
            continue;
        int32_t y0 = d->y[s0];
        if (nf)
            memcpy(row, d->x + s0 * nf, nf * sizeof *row);
        size_t at = s0;
        for (;;) {
            size_t from = perm[at];
            if (from == s0) {
                if (nf)
                    memcpy(d->x + at * nf, row, nf * sizeof *row);
                d->y[at] = y0;
                break;
            }
            if (nf)
                memcpy(d->x + at * nf, d->x + from * nf, nf * sizeof *row);
            d->y[at] = d->y[from];
            seen[from / 8] |= (unsigned char)(1u << (from % 8));
            at = from;
        }
    }
    rc = 0;
done:
    free(perm);
    free(seen);
    free(row);
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

/* p (malloc'd) shortened to n entries; p itself when that fails. */
static uint32_t *shrink_rows(uint32_t *p, size_t n)
{
    uint32_t *q = realloc(p, n * sizeof *p + 1);
    return q ? q : p;
}

/* The rows of each split of the augmented set work: s->rows_test,
 * rows_train and rows_validation (indices into work, which are the row
 * provenance), with the row counts in s->test.n_rows and so on. Split 1
 * divides work into rest and test, split 2 divides rest into train and
 * validation; split 2's indices are positions in rest, mapped back through
 * rest's rows: the same rows, in the same order, as splitting a copy of
 * rest gives. */
static int pipeline_rows(const data_set *work, const data_pipeline_config *c,
                         uint64_t data_seed, data_splits *s, data_error *err)
{
    size_t n = work->n_rows, n_rest = 0, n_test = 0, n_train = 0, n_val = 0, i;
    uint32_t seed1, seed2, *rest = NULL, *test = NULL, *a = NULL, *b = NULL;
    int32_t *y_rest = NULL;
    rng_state r;
    /* Both split seeds are drawn up front so split 1's seed does not depend
     * on whether a validation split follows. */
    rng_stream(&r, data_seed, RNG_PURPOSE_SPLIT);
    seed1 = (uint32_t)(rng_next(&r) >> 32);
    seed2 = (uint32_t)(rng_next(&r) >> 32);
    /* random_state: the notebook's train_test_split(..., random_state=N),
     * both calls with the same N, whatever the data seed. */
    if (c->has_random_state)
        seed1 = seed2 = (uint32_t)c->random_state;
    if (n > UINT32_MAX) {
        set_error(err, "%zu rows: splits support at most 2^32 - 1", n);
        return -1;
    }
    rest = malloc(n * sizeof *rest + 1);
    test = malloc(n * sizeof *test + 1);
    if (!rest || !test)
        goto oom;
    if (data_split_indices(n, work->y, work->n_classes, &c->test, seed1, rest, &n_rest, test,
                           &n_test, err) != 0)
        goto fail;
    if (c->validation.test.given) {
        y_rest = malloc(n_rest * sizeof *y_rest + 1);
        a = malloc(n_rest * sizeof *a + 1);
        b = malloc(n_rest * sizeof *b + 1);
        if (!y_rest || !a || !b)
            goto oom;
        for (i = 0; i < n_rest; i++)
            y_rest[i] = work->y[rest[i]];
        if (data_split_indices(n_rest, y_rest, work->n_classes, &c->validation, seed2, a,
                               &n_train, b, &n_val, err) != 0)
            goto fail;
        for (i = 0; i < n_train; i++)
            a[i] = rest[a[i]];
        for (i = 0; i < n_val; i++)
            b[i] = rest[b[i]];
        free(rest);
        free(y_rest);
    } else {
        a = rest;
        n_train = n_rest;
        if (!(b = malloc(1))) {
            rest = NULL;
            goto oom;
        }
    }
    /* Each list as long as its split (they live as long as the splits). */
    s->rows_train = shrink_rows(a, n_train);
    s->rows_validation = shrink_rows(b, n_val);
    s->rows_test = shrink_rows(test, n_test);
    s->train.n_rows = n_train;
    s->validation.n_rows = n_val;
    s->test.n_rows = n_test;
    return 0;
oom:
    set_error(err, "out of memory");
fail:
    if (rest != a)
        free(rest);
    free(test);
    free(y_rest);
    free(a);
    free(b);
    return -1;
}

/* The scaler fitted on the training rows and applied to every split, then
 * the one-hot targets. 0, or -1 when out of memory. */
static int pipeline_finish(data_splits *s, const data_pipeline_config *c)
{
    int ok;
    if (data_scaler_fit(&s->scaler, c->scale, &s->train) != 0)
        return -1;
    data_scaler_apply(&s->scaler, &s->train);
    data_scaler_apply(&s->scaler, &s->validation);
    data_scaler_apply(&s->scaler, &s->test);
    s->y_train = one_hot_alloc(&s->train, &ok);
    if (!ok)
        return -1;
    s->y_validation = one_hot_alloc(&s->validation, &ok);
    if (!ok)
        return -1;
    s->y_test = one_hot_alloc(&s->test, &ok);
    return ok ? 0 : -1;
}

int data_pipeline_build(const data_set *source, const data_pipeline_config *c,
                        uint64_t data_seed, data_splits *out, data_error *err)
{
    data_set copy;
    const data_set *work = source;
    data_splits s;
    rng_state r;
    size_t n_train, n_val, n_test;
    memset(&copy, 0, sizeof copy);
    memset(&s, 0, sizeof s);
    s.n_source_rows = source->n_rows;
    /* Augmenting changes the rows: they are then a working copy; else the
     * splits take their rows from the source itself. */
    if (c->repeat != 1 || c->noise > 0) {
        if (data_set_copy(&copy, source) != 0)
            goto oom;
        if (c->repeat != 1 && data_augment_repeat(&copy, c->repeat) != 0) {
            set_error(err, c->repeat == 0 ? "repeat must be at least 1, got 0"
                                          : "out of memory repeating the data");
            goto fail;
        }
        if (c->noise > 0) {
            rng_stream(&r, data_seed, RNG_PURPOSE_DATA_NOISE);
            data_augment_noise(&copy, c->noise, &r);
        }
        work = &copy;
    }
    if (pipeline_rows(work, c, data_seed, &s, err) != 0)
        goto fail;
    n_train = s.train.n_rows;
    n_val = s.validation.n_rows;
    n_test = s.test.n_rows;
    s.train.n_rows = s.validation.n_rows = s.test.n_rows = 0;
    if (data_set_take(&s.test, work, s.rows_test, n_test) != 0 ||
        data_set_take(&s.train, work, s.rows_train, n_train) != 0 ||
        data_set_take(&s.validation, work, s.rows_validation, n_val) != 0)
        goto oom;
    data_set_free(&copy);
    if (pipeline_finish(&s, c) != 0)
        goto oom;
    *out = s;
    return 0;
oom:
    set_error(err, "out of memory");
fail:
    data_set_free(&copy);
    data_splits_free(&s);
    return -1;
}

/* Rows [first, first + n) of block as a set that owns nothing. */
static data_set view_of(const data_set *block, size_t first, size_t n)
{
    data_set v = *block;
    v.n_rows = n;
    v.x = n ? block->x + first * block->n_features : NULL;
    v.y = n ? block->y + first : NULL;
    return v;
}

int data_pipeline_build_in_place(data_set *source, const data_pipeline_config *c,
                                 uint64_t data_seed, data_splits *out, int *source_kept,
                                 data_error *err)
{
    data_splits s;
    rng_state r;
    uint32_t *order = NULL;
    size_t n_train, n_val, n_test, n_used, nf = source->n_features;
    memset(&s, 0, sizeof s);
    *source_kept = 1;
    if (c->repeat != 1) {
        set_error(err, "an in-place pipeline cannot repeat the rows");
        return -1;
    }
    s.n_source_rows = source->n_rows;
    if (pipeline_rows(source, c, data_seed, &s, err) != 0)
        return -1;
    n_train = s.train.n_rows;
    n_val = s.validation.n_rows;
    n_test = s.test.n_rows;
    s.train.n_rows = s.validation.n_rows = s.test.n_rows = 0;
    n_used = n_train + n_val + n_test;
    order = malloc(n_used * sizeof *order + 1);
    if (!order)
        goto oom;
    memcpy(order, s.rows_train, n_train * sizeof *order);
    memcpy(order + n_train, s.rows_validation, n_val * sizeof *order);
    memcpy(order + n_train + n_val, s.rows_test, n_test * sizeof *order);
    /* Noise over the whole set in row-major order, as on a copy. */
    if (c->noise > 0) {
        *source_kept = 0; /* the rows change from here on */
        rng_stream(&r, data_seed, RNG_PURPOSE_DATA_NOISE);
        data_augment_noise(source, c->noise, &r);
    }
    /* (unchanged when it fails) */
    if (data_set_arrange(source, order, n_used) != 0)
        goto oom;
    *source_kept = 0;
    free(order);
    order = NULL;
    s.block = *source;
    memset(source, 0, sizeof *source);
    s.views = 1;
    /* The rows of no split are dropped: shrinking keeps the block where it
     * is or moves it once. */
    if (n_used < s.block.n_rows && n_used > 0) {
        float *x = nf ? realloc(s.block.x, n_used * nf * sizeof *x) : s.block.x;
        if (x)
            s.block.x = x;
        int32_t *y = realloc(s.block.y, n_used * sizeof *y);
        if (y)
            s.block.y = y;
    }
    s.block.n_rows = n_used;
    s.train = view_of(&s.block, 0, n_train);
    s.validation = view_of(&s.block, n_train, n_val);
    s.test = view_of(&s.block, n_train + n_val, n_test);
    if (pipeline_finish(&s, c) != 0)
        goto oom;
    *out = s;
    return 0;
oom:
    set_error(err, "out of memory");
    free(order);
    if (!*source_kept)
        data_set_free(source);
    data_splits_free(&s);
    return -1;
}

void data_splits_free(data_splits *s)
{
    if (!s)
        return;
    if (s->views) {
        data_set_free(&s->block);
    } else {
        data_set_free(&s->train);
        data_set_free(&s->validation);
        data_set_free(&s->test);
    }
    free(s->y_train);
    free(s->y_validation);
    free(s->y_test);
    free(s->rows_train);
    free(s->rows_validation);
    free(s->rows_test);
    data_scaler_free(&s->scaler);
    memset(s, 0, sizeof *s);
}

int data_pipeline_uses_seed(const data_pipeline_config *c)
{
    if (c->noise > 0)
        return 1;
    if (c->has_random_state)
        return 0;
    return c->test.shuffle || (c->validation.test.given && c->validation.shuffle);
}

/* -1, 0 or 1 as a sorts before, with or after b. */
static int cmp_num(double a, double b)
{
    return (a > b) - (a < b);
}

static int cmp_u64(uint64_t a, uint64_t b)
{
    return (a > b) - (a < b);
}

static int size_cmp(const data_size *a, const data_size *b)
{
    if (a->given != b->given || !a->given)
        return a->given - b->given;
    if (a->is_count != b->is_count)
        return a->is_count - b->is_count;
    return cmp_num(a->value, b->value);
}

static int split_cmp(const data_split_config *a, const data_split_config *b)
{
    int r = size_cmp(&a->test, &b->test);
    if (!r)
        r = size_cmp(&a->train, &b->train);
    if (!r)
        r = (a->shuffle != 0) - (b->shuffle != 0);
    if (!r)
        r = (a->stratify != 0) - (b->stratify != 0);
    return r;
}

int data_pipeline_config_cmp(const data_pipeline_config *a, const data_pipeline_config *b)
{
    int r = cmp_u64(a->repeat, b->repeat);
    if (!r)
        r = cmp_num(a->noise, b->noise);
    if (!r)
        r = (int)a->scale - (int)b->scale;
    if (!r)
        r = split_cmp(&a->test, &b->test);
    if (!r)
        r = (a->validation.test.given != 0) - (b->validation.test.given != 0);
    if (!r && a->validation.test.given)
        r = split_cmp(&a->validation, &b->validation);
    if (!r)
        r = (a->has_random_state != 0) - (b->has_random_state != 0);
    if (!r && a->has_random_state)
        r = cmp_u64(a->random_state, b->random_state);
    return r;
}
