/* test_data_split: the pipeline's row plumbing. data_set_arrange (rows
 * permuted in place) against data_set_take; data_pipeline_build against
 * the pipeline rebuilt by hand from its public pieces (copy, augment, one
 * split, a copy of its rest, the second split), as the pipeline did before
 * it took the rows of both splits from one list of indices; and
 * data_pipeline_build_in_place against data_pipeline_build, bit for bit,
 * on random sets, stratified and not, with and without validation,
 * noise, scaling and a train_size that leaves rows out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data.h"
#include "rng.h"

/* A random set: n rows, nf features, k classes (each class at least twice
 * when n >= 2k, so that stratified splits work), names for all. */
static void random_set(data_set *d, size_t n, size_t nf, size_t k, rng_state *r)
{
    memset(d, 0, sizeof *d);
    d->n_rows = n;
    d->n_features = nf;
    d->n_classes = k;
    d->x = malloc(n * nf * sizeof *d->x + 1);
    d->y = malloc(n * sizeof *d->y + 1);
    d->class_names = calloc(k, sizeof *d->class_names);
    d->feature_names = calloc(nf + 1, sizeof *d->feature_names);
    assert_non_null(d->x);
    assert_non_null(d->y);
    assert_non_null(d->class_names);
    assert_non_null(d->feature_names);
    for (size_t i = 0; i < n * nf; i++)
        d->x[i] = (float)rng_uniform_range(r, -3.0, 5.0);
    for (size_t i = 0; i < n; i++)
        d->y[i] = (int32_t)(i < 2 * k ? i % k : rng_below(r, k));
    for (size_t c = 0; c < k; c++) {
        d->class_names[c] = malloc(24);
        assert_non_null(d->class_names[c]);
        snprintf(d->class_names[c], 24, "c%zu", c);
    }
    for (size_t j = 0; j < nf; j++) {
        d->feature_names[j] = malloc(24);
        assert_non_null(d->feature_names[j]);
        snprintf(d->feature_names[j], 24, "f%zu", j);
    }
}

static void assert_same_rows(const data_set *a, const data_set *b)
{
    assert_int_equal(a->n_rows, b->n_rows);
    assert_int_equal(a->n_features, b->n_features);
    assert_int_equal(a->n_classes, b->n_classes);
    if (a->n_rows == 0)
        return;
    if (a->n_features)
        assert_memory_equal(a->x, b->x, a->n_rows * a->n_features * sizeof *a->x);
    assert_memory_equal(a->y, b->y, a->n_rows * sizeof *a->y);
}

/* ---- data_set_arrange ------------------------------------------------------ */

static void test_arrange_against_take(void **state)
{
    (void)state;
    rng_state r;
    rng_seed(&r, 11);
    for (int round = 0; round < 200; round++) {
        size_t n = 1 + (size_t)rng_below(&r, 300), nf = (size_t)rng_below(&r, 6);
        size_t used = round % 3 == 0 ? n : (size_t)rng_below(&r, n + 1);
        data_set d, want, rest;
        random_set(&d, n, nf, 3, &r);
        uint32_t *all = malloc(n * sizeof *all), *left = malloc(n * sizeof *left + 1);
        assert_non_null(all);
        assert_non_null(left);
        for (size_t i = 0; i < n; i++)
            all[i] = (uint32_t)i;
        rng_shuffle_u32(&r, all, n);
        /* the rows not listed, in increasing order */
        char *listed = calloc(n, 1);
        assert_non_null(listed);
        for (size_t i = 0; i < used; i++)
            listed[all[i]] = 1;
        size_t nl = 0;
        for (size_t i = 0; i < n; i++)
            if (!listed[i])
                left[nl++] = (uint32_t)i;
        assert_int_equal(data_set_take(&want, &d, all, used), 0);
        assert_int_equal(data_set_take(&rest, &d, left, nl), 0);
        assert_int_equal(data_set_arrange(&d, all, used), 0);
        data_set head = d, tail = d;
        head.n_rows = used;
        tail.n_rows = nl;
        tail.x = d.x + used * nf;
        tail.y = d.y + used;
        assert_same_rows(&head, &want);
        assert_same_rows(&tail, &rest);
        data_set_free(&want);
        data_set_free(&rest);
        data_set_free(&d);
        free(all);
        free(left);
        free(listed);
    }
}

static void test_arrange_refuses(void **state)
{
    (void)state;
    rng_state r;
    rng_seed(&r, 5);
    data_set d, before;
    random_set(&d, 10, 2, 2, &r);
    assert_int_equal(data_set_copy(&before, &d), 0);
    const uint32_t twice[3] = {4, 1, 4}, beyond[2] = {3, 10}, too_many[11] = {0};
    assert_int_equal(data_set_arrange(&d, twice, 3), -1);
    assert_int_equal(data_set_arrange(&d, beyond, 2), -1);
    assert_int_equal(data_set_arrange(&d, too_many, 11), -1);
    assert_same_rows(&d, &before); /* unchanged */
    /* a swap of the first two, the rest in order */
    const uint32_t swap[2] = {1, 0};
    assert_int_equal(data_set_arrange(&d, swap, 2), 0);
    assert_memory_equal(d.x, before.x + 2, 2 * sizeof *d.x);
    assert_memory_equal(d.x + 2, before.x, 2 * sizeof *d.x);
    assert_memory_equal(d.x + 4, before.x + 4, 16 * sizeof *d.x);
    assert_int_equal(d.y[0], before.y[1]);
    assert_int_equal(d.y[1], before.y[0]);
    data_set_free(&d);
    data_set_free(&before);
}

/* ---- pipelines ----------------------------------------------------------------- */

static data_size count_of(double v)
{
    return (data_size){1, 1, v};
}

static data_size frac_of(double v)
{
    return (data_size){1, 0, v};
}

/* The configurations tried: every combination of the cases below. */
static data_pipeline_config config_case(int i)
{
    data_pipeline_config c;
    memset(&c, 0, sizeof c);
    c.repeat = 1;
    c.test.test = frac_of(0.25);
    c.test.shuffle = 1;
    c.test.stratify = i & 1;
    if (i & 2) { /* a validation split, stratified when the first is */
        c.validation.test = count_of(7);
        c.validation.shuffle = 1;
        c.validation.stratify = i & 1;
    }
    if (i & 4) /* a train_size leaving rows out */
        c.test.train = frac_of(0.5);
    if (i & 8)
        c.noise = 0.5;
    c.scale = (data_scale)((i >> 4) % 3);
    if (i & 64) {
        c.has_random_state = 1;
        c.random_state = 1234;
    }
    if (i & 128) { /* no shuffling (not stratifiable) */
        c.test.shuffle = c.validation.shuffle = 0;
        c.test.stratify = c.validation.stratify = 0;
    }
    return c;
}
#define N_CASES 256

static void assert_same_splits(const data_splits *a, const data_splits *b)
{
    const data_set *sa[3] = {&a->train, &a->validation, &a->test};
    const data_set *sb[3] = {&b->train, &b->validation, &b->test};
    const float *ya[3] = {a->y_train, a->y_validation, a->y_test};
    const float *yb[3] = {b->y_train, b->y_validation, b->y_test};
    const uint32_t *ra[3] = {a->rows_train, a->rows_validation, a->rows_test};
    const uint32_t *rb[3] = {b->rows_train, b->rows_validation, b->rows_test};
    for (int s = 0; s < 3; s++) {
        assert_same_rows(sa[s], sb[s]);
        size_t n = sa[s]->n_rows;
        if (n) {
            assert_memory_equal(ya[s], yb[s], n * sa[s]->n_classes * sizeof(float));
            assert_memory_equal(ra[s], rb[s], n * sizeof(uint32_t));
        }
        for (size_t c = 0; c < sa[s]->n_classes; c++)
            assert_string_equal(sa[s]->class_names[c], sb[s]->class_names[c]);
    }
    assert_int_equal(a->n_source_rows, b->n_source_rows);
    assert_int_equal(a->scaler.kind, b->scaler.kind);
    if (a->scaler.shift) {
        assert_memory_equal(a->scaler.shift, b->scaler.shift,
                            a->scaler.n_features * sizeof(double));
        assert_memory_equal(a->scaler.scale, b->scaler.scale,
                            a->scaler.n_features * sizeof(double));
    }
}

/* The pipeline by hand, as it was built before: a working copy (repeated,
 * noise), split 1 into rest and test copies, rest split again into train
 * and validation copies; provenance composed the same way. */
static int reference_build(const data_set *source, const data_pipeline_config *c, uint64_t seed,
                           data_splits *out)
{
    data_set work, rest;
    data_error err;
    rng_state r;
    uint32_t *a = malloc(source->n_rows * c->repeat * 4 + 4);
    uint32_t *b = malloc(source->n_rows * c->repeat * 4 + 4);
    uint32_t *a2 = malloc(source->n_rows * c->repeat * 4 + 4);
    uint32_t *b2 = malloc(source->n_rows * c->repeat * 4 + 4);
    size_t na, nb, na2 = 0, nb2 = 0;
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(a2);
    assert_non_null(b2);
    memset(out, 0, sizeof *out);
    assert_int_equal(data_set_copy(&work, source), 0);
    assert_int_equal(data_augment_repeat(&work, c->repeat), 0);
    if (c->noise > 0) {
        rng_stream(&r, seed, RNG_PURPOSE_DATA_NOISE);
        data_augment_noise(&work, c->noise, &r);
    }
    rng_stream(&r, seed, RNG_PURPOSE_SPLIT);
    uint32_t s1 = (uint32_t)(rng_next(&r) >> 32), s2 = (uint32_t)(rng_next(&r) >> 32);
    if (c->has_random_state)
        s1 = s2 = (uint32_t)c->random_state;
    if (data_split_indices(work.n_rows, work.y, work.n_classes, &c->test, s1, a, &na, b, &nb,
                           &err) != 0) {
        data_set_free(&work);
        free(a), free(b), free(a2), free(b2);
        return -1;
    }
    assert_int_equal(data_set_take(&rest, &work, a, na), 0);
    assert_int_equal(data_set_take(&out->test, &work, b, nb), 0);
    out->rows_test = b;
    if (c->validation.test.given) {
        if (data_split_indices(rest.n_rows, rest.y, rest.n_classes, &c->validation, s2, a2,
                               &na2, b2, &nb2, &err) != 0) {
            data_set_free(&work);
            data_set_free(&rest);
            data_splits_free(out);
            free(a), free(a2), free(b2);
            return -1;
        }
        assert_int_equal(data_set_take(&out->train, &rest, a2, na2), 0);
        assert_int_equal(data_set_take(&out->validation, &rest, b2, nb2), 0);
        for (size_t i = 0; i < na2; i++)
            a2[i] = a[a2[i]];
        for (size_t i = 0; i < nb2; i++)
            b2[i] = a[b2[i]];
        out->rows_train = a2;
        out->rows_validation = b2;
        free(a);
        data_set_free(&rest);
    } else {
        out->train = rest;
        out->rows_train = a;
        assert_int_equal(data_set_take(&out->validation, &rest, NULL, 0), 0);
        out->rows_validation = b2;
        free(a2);
    }
    data_set_free(&work);
    out->n_source_rows = source->n_rows;
    assert_int_equal(data_scaler_fit(&out->scaler, c->scale, &out->train), 0);
    data_set *sets[3] = {&out->train, &out->validation, &out->test};
    float **ys[3] = {&out->y_train, &out->y_validation, &out->y_test};
    for (int s = 0; s < 3; s++) {
        data_scaler_apply(&out->scaler, sets[s]);
        size_t n = sets[s]->n_rows, k = sets[s]->n_classes;
        *ys[s] = n ? malloc(n * k * sizeof(float)) : NULL;
        if (n) {
            assert_non_null(*ys[s]);
            data_one_hot(sets[s]->y, n, k, *ys[s]);
        }
    }
    return 0;
}

static void test_build_against_reference(void **state)
{
    (void)state;
    rng_state r;
    rng_seed(&r, 21);
    size_t built = 0;
    for (int i = 0; i < N_CASES; i++) {
        data_pipeline_config c = config_case(i);
        c.repeat = (size_t)1 + (size_t)(i % 3 == 2); /* and tiled twice */
        data_set src;
        random_set(&src, 40 + (size_t)rng_below(&r, 80), 3, 3, &r);
        uint64_t seed = rng_next(&r);
        data_splits got, want;
        data_error err;
        int rw = reference_build(&src, &c, seed, &want);
        int rg = data_pipeline_build(&src, &c, seed, &got, &err);
        assert_int_equal(rg, rw);
        if (rg == 0) {
            assert_false(got.views);
            assert_same_splits(&got, &want);
            data_splits_free(&got);
            data_splits_free(&want);
            built++;
        }
        data_set_free(&src);
    }
    assert_true(built > N_CASES / 2);
}

static void test_in_place_against_copy(void **state)
{
    (void)state;
    rng_state r;
    rng_seed(&r, 31);
    size_t built = 0;
    for (int i = 0; i < N_CASES; i++) {
        data_pipeline_config c = config_case(i);
        size_t n = 30 + (size_t)rng_below(&r, 200), nf = (size_t)rng_below(&r, 5);
        data_set src, keep;
        random_set(&src, n, nf, 1 + (size_t)rng_below(&r, 4), &r);
        assert_int_equal(data_set_copy(&keep, &src), 0);
        uint64_t seed = rng_next(&r);
        data_splits got, want;
        data_error e1, e2;
        int kept = -1;
        int rw = data_pipeline_build(&src, &c, seed, &want, &e1);
        int rg = data_pipeline_build_in_place(&src, &c, seed, &got, &kept, &e2);
        assert_int_equal(rg, rw);
        if (rg == 0) {
            /* the source is the splits' now: one block, three views */
            assert_null(src.x);
            assert_int_equal(src.n_rows, 0);
            assert_true(got.views);
            size_t used = got.train.n_rows + got.validation.n_rows + got.test.n_rows;
            assert_int_equal(got.block.n_rows, used);
            if (got.train.n_rows && nf)
                assert_ptr_equal(got.train.x, got.block.x);
            if (got.test.n_rows && nf)
                assert_ptr_equal(got.test.x, got.block.x + (used - got.test.n_rows) * nf);
            assert_same_splits(&got, &want);
            if (c.test.train.given)
                assert_true(used < n); /* train_size left rows out */
            data_splits_free(&got);
            data_splits_free(&want);
            built++;
        } else {
            /* the split's own error, before any row moved */
            assert_string_equal(e1.message, e2.message);
            assert_int_equal(kept, 1);
            assert_same_rows(&src, &keep);
            data_set_free(&src);
        }
        data_set_free(&keep);
    }
    assert_true(built > N_CASES / 2);
}

static void test_in_place_refuses_repeat(void **state)
{
    (void)state;
    rng_state r;
    rng_seed(&r, 3);
    data_set src;
    random_set(&src, 20, 2, 2, &r);
    data_pipeline_config c = config_case(0);
    c.repeat = 3;
    data_splits s;
    data_error err;
    int kept = 0;
    assert_int_equal(data_pipeline_build_in_place(&src, &c, 1, &s, &kept, &err), -1);
    assert_int_equal(kept, 1);
    assert_non_null(src.x);
    data_set_free(&src);
}

static void test_seed_use_and_order(void **state)
{
    (void)state;
    data_pipeline_config a = config_case(0), b;
    assert_true(data_pipeline_uses_seed(&a)); /* a shuffled split */
    a.has_random_state = 1;
    assert_false(data_pipeline_uses_seed(&a));
    a.noise = 0.1;
    assert_true(data_pipeline_uses_seed(&a));
    a = config_case(128); /* no shuffling */
    assert_false(data_pipeline_uses_seed(&a));
    a = config_case(2);
    b = a;
    assert_int_equal(data_pipeline_config_cmp(&a, &b), 0);
    b.validation.test = count_of(8);
    assert_true(data_pipeline_config_cmp(&a, &b) < 0);
    assert_true(data_pipeline_config_cmp(&b, &a) > 0);
    /* a validation config that is not used makes no difference */
    a = config_case(0);
    b = a;
    b.validation.shuffle = 1;
    b.validation.test.value = 3;
    assert_int_equal(data_pipeline_config_cmp(&a, &b), 0);
    /* nor does random_state's value when it is not given */
    b = a;
    b.random_state = 9;
    assert_int_equal(data_pipeline_config_cmp(&a, &b), 0);
    b.has_random_state = 1;
    assert_true(data_pipeline_config_cmp(&a, &b) != 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arrange_against_take),
        cmocka_unit_test(test_arrange_refuses),
        cmocka_unit_test(test_build_against_reference),
        cmocka_unit_test(test_in_place_against_copy),
        cmocka_unit_test(test_in_place_refuses_repeat),
        cmocka_unit_test(test_seed_use_and_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
