/* test_nn_gemm: the cache-blocked matrix product (src/core/nn_gemm.c) against the
 * plain one (src/core/nn_kernels.c) and against a double-precision reference.
 * Includes the nn module's private header: these are its internal kernels. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nn_internal.h"
#include "rng.h"

static float *alloc_floats(size_t n)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    assert_non_null(p);
    return p;
}

static void fill(float *x, size_t n, rng_state *r)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (float)rng_uniform_range(r, -1.0, 1.0);
}

typedef struct shape {
    size_t M, N, P;
    int a_cols; /* 1: A stored with ams = 1 (a(m, p) = A[m + p*lda]) */
    int bias;
    size_t max_n; /* packing buffers sized for this many columns */
} shape;

/* One product through both kernels (and the blocked one twice): the same
 * bits everywhere, and within float rounding of a double sum. */
static void check_shape(const shape *s)
{
    rng_state r;
    rng_stream(&r, 7 + s->M * 131 + s->N * 17 + s->P, RNG_PURPOSE_INIT);
    const size_t ldb = s->N + 16, ldc = s->N + 32;
    const size_t lda = s->a_cols ? s->M + 3 : s->P + 5;
    const size_t ams = s->a_cols ? 1 : lda, aps = s->a_cols ? lda : 1;
    float *A = alloc_floats(s->a_cols ? lda * s->P : lda * s->M);
    float *B = alloc_floats(ldb * s->P);
    float *bias = alloc_floats(s->M);
    float *c1 = alloc_floats(ldc * s->M), *c2 = alloc_floats(ldc * s->M),
          *c3 = alloc_floats(ldc * s->M);
    float *buf = alloc_floats(nn_gemm_pack_floats(s->max_n));
    fill(A, s->a_cols ? lda * s->P : lda * s->M, &r);
    fill(B, ldb * s->P, &r);
    fill(bias, s->M, &r);
    for (size_t i = 0; i < ldc * s->M; i++)
        c1[i] = c2[i] = c3[i] = -7.0f; /* columns past N must stay as they are */
    nn_gemm_pack pk;
    nn_gemm_pack_init(&pk, buf, s->max_n);
    const float *bb = s->bias ? bias : NULL;
    nn_gemm_plain(s->M, s->N, s->P, A, ams, aps, B, ldb, c1, ldc, bb);
    nn_gemm_blocked(s->M, s->N, s->P, A, ams, aps, B, ldb, c2, ldc, bb, &pk);
    memset(buf, 0xff, nn_gemm_pack_floats(s->max_n) * sizeof *buf); /* stale packs: NaN */
    nn_gemm_blocked(s->M, s->N, s->P, A, ams, aps, B, ldb, c3, ldc, bb, &pk);
    assert_memory_equal(c1, c2, ldc * s->M * sizeof *c1);
    assert_memory_equal(c2, c3, ldc * s->M * sizeof *c2);
    double worst = 0.0;
    for (size_t m = 0; m < s->M; m++) {
        for (size_t n = 0; n < s->N; n++) {
            double ref = s->bias ? (double)bias[m] : 0.0, mag = fabs(ref);
            for (size_t p = 0; p < s->P; p++) {
                double t = (double)A[m * ams + p * aps] * (double)B[p * ldb + n];
                ref += t;
                mag += fabs(t);
            }
            double err = fabs((double)c2[m * ldc + n] - ref) / (mag + 1e-30);
            worst = err > worst ? err : worst;
        }
        for (size_t n = s->N; n < ldc; n++)
            assert_true(c2[m * ldc + n] == -7.0f);
    }
    /* sequential float summation: error below P * 2^-24 relative to sum |terms| */
    assert_true(worst < (double)(s->P + 2) * 6e-8);
    free(A), free(B), free(bias), free(c1), free(c2), free(c3), free(buf);
}

static void test_blocked_matches_plain(void **state)
{
    (void)state;
    const shape shapes[] = {
        /* edges in every direction: M not a multiple of the row panel, N
         * ending in a 16-wide panel, P over several KC blocks */
        {1, 16, 1, 0, 0, 16},
        {13, 48, 37, 0, 1, 48},
        {32, 512, 300, 0, 1, 512},
        {37, 80, 530, 1, 0, 80},
        {150, 96, 64, 1, 1, 96},
        {256, 272, 257, 0, 0, 272},
        /* several column blocks: buffers for 64 columns, 160 or 208 wide */
        {29, 160, 70, 0, 1, 64},
        {45, 208, 513, 1, 1, 64},
        /* the shapes of a 512-wide hidden layer at batch 32 (forward,
         * weight gradient, input delta) */
        {32, 512, 512, 0, 0, 512},
        {512, 512, 32, 1, 0, 512},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        check_shape(&shapes[i]);
}

/* The product with a transposed kernel read in place (rows >= b_rows count
 * as zeros) against the plain product on a transposed, zero-padded copy. */
static void check_bt(size_t M, size_t N, size_t P, size_t b_rows, size_t max_n)
{
    rng_state r;
    rng_stream(&r, 5 + M * 7 + N * 3 + P, RNG_PURPOSE_INIT);
    const size_t lda = P + 3, ldb = P + 1, ldc = N;
    float *A = alloc_floats(M * lda), *W = alloc_floats(b_rows * ldb);
    float *T = calloc(P * N, sizeof *T); /* T[p][n] = W[n][p], zero for n >= b_rows */
    float *c1 = alloc_floats(M * ldc), *c2 = alloc_floats(M * ldc);
    float *buf = alloc_floats(nn_gemm_pack_floats(max_n));
    assert_non_null(T);
    fill(A, M * lda, &r);
    fill(W, b_rows * ldb, &r);
    for (size_t n = 0; n < b_rows; n++)
        for (size_t p = 0; p < P; p++)
            T[p * N + n] = W[n * ldb + p];
    nn_gemm_pack pk;
    nn_gemm_pack_init(&pk, buf, max_n);
    nn_gemm_plain(M, N, P, A, lda, 1, T, N, c1, ldc, NULL);
    nn_gemm_blocked_bt(M, N, P, A, lda, 1, W, ldb, b_rows, c2, ldc, &pk);
    assert_memory_equal(c1, c2, M * ldc * sizeof *c1);
    for (size_t m = 0; m < M; m++) /* the padding columns are exact zeros */
        for (size_t n = b_rows; n < N; n++)
            assert_true(c2[m * ldc + n] == 0.0f && !signbit(c2[m * ldc + n]));
    free(A), free(W), free(T), free(c1), free(c2), free(buf);
}

static void test_blocked_transposed(void **state)
{
    (void)state;
    check_bt(32, 512, 512, 512, 512);
    check_bt(7, 48, 300, 37, 48);   /* rows past 37 padding, P tail of 12 */
    check_bt(33, 160, 275, 160, 64); /* several column blocks */
    check_bt(256, 64, 10, 64, 64);  /* P shorter than one transpose block */
}

static void dense(nn_model_config *c, size_t units, nn_activation a)
{
    nn_layer_config *l = &c->layers[c->n_layers++];
    l->units = units;
    l->activation = a;
    l->kernel_init = NN_INIT_GLOROT_UNIFORM;
    l->bias_init = NN_INIT_ZEROS;
}

/* Training a model wide enough for the blocked product, with and without
 * it (the plain product everywhere): the same parameters, bit for bit. */
static void train(nn_model *m, const float *x, const float *y, size_t n, int blocked)
{
    rng_state ri, rs;
    rng_stream(&ri, 3, RNG_PURPOSE_INIT);
    rng_stream(&rs, 3, RNG_PURPOSE_SHUFFLE);
    nn_model_init(m, &ri);
    const nn_gemm_pack *saved = m->pk;
    float *wt[NN_MAX_LAYERS] = {NULL};
    if (!blocked) {
        /* the plain product everywhere: no packing buffers, and the
         * transposed kernel copies the wide path makes for it when a layer
         * is too narrow for the blocked product (zeroed, as in the arena) */
        m->pk = NULL;
        for (size_t l = 1; m->path == NN_PATH_WIDE && l < m->n_layers; l++)
            if (!m->wt[l]) {
                wt[l] = calloc(m->dims[l + 1] * m->wld[l], sizeof(float));
                assert_non_null(wt[l]);
                m->wt[l] = wt[l];
            }
    }
    nn_fit_config fc = {.epochs = 2, .batch_size = 32, .shuffle = 1};
    nn_fit_result res = nn_fit(m, x, y, n, x, y, n, &fc, &rs);
    m->pk = saved;
    for (size_t l = 0; l < NN_MAX_LAYERS; l++)
        if (wt[l]) {
            m->wt[l] = NULL;
            free(wt[l]);
        }
    assert_int_equal(res.status, NN_FIT_DONE);
}

static void test_model_bits_unchanged(void **state)
{
    (void)state;
    const size_t n = 100, nin = 64, K = 10;
    float *x = alloc_floats(n * nin), *y = alloc_floats(n * K);
    rng_state r;
    rng_stream(&r, 11, RNG_PURPOSE_DATA_NOISE);
    fill(x, n * nin, &r);
    memset(y, 0, n * K * sizeof *y);
    for (size_t i = 0; i < n; i++)
        y[i * K + i % K] = 1.0f;
    for (int variant = 0; variant < 2; variant++) {
        nn_model_config c;
        memset(&c, 0, sizeof c);
        c.n_inputs = nin;
        dense(&c, 520, NN_ACT_RELU);
        dense(&c, 512, NN_ACT_TANH);
        dense(&c, K, NN_ACT_SOFTMAX);
        /* variant 0: the wide path (softmax + cross-entropy); 1: the general
         * path (mean squared error) */
        c.loss = variant ? NN_LOSS_MEAN_SQUARED_ERROR : NN_LOSS_CATEGORICAL_CROSSENTROPY;
        nn_optimizer_defaults(&c.optimizer, NN_OPT_ADAM);
        nn_model *a = nn_model_new(&c, 32), *b = nn_model_new(&c, 32);
        assert_non_null(a);
        assert_non_null(b);
        assert_non_null(a->pk); /* has the buffers: some product is blocked */
        /* ... counted in the model's size, which the memory budget uses */
        assert_int_equal(nn_model_bytes(a), nn_model_bytes_for(&c, 32));
        assert_true(nn_model_bytes_for(&c, 32) >=
                    (nn_gemm_pack_floats(520) + 4 * nn_model_param_count(a)) * sizeof(float));
        assert_true(nn_gemm_use_blocked(32, 512, 520));
        assert_int_equal(variant ? NN_PATH_GENERAL : NN_PATH_WIDE, a->path);
        train(a, x, y, n, 1);
        train(b, x, y, n, 0);
        assert_memory_equal(nn_model_params_const(a), nn_model_params_const(b),
                            nn_model_param_count(a) * sizeof(float));
        /* and again: the same bits as the first blocked run */
        train(b, x, y, n, 1);
        assert_memory_equal(nn_model_params_const(a), nn_model_params_const(b),
                            nn_model_param_count(a) * sizeof(float));
        nn_model_free(a);
        nn_model_free(b);
    }
    free(x);
    free(y);
}

/* The lab models take no packing buffers: their size is what it was. */
static void test_small_models_unchanged(void **state)
{
    (void)state;
    nn_model_config c;
    memset(&c, 0, sizeof c);
    c.n_inputs = 64;
    dense(&c, 64, NN_ACT_RELU);
    dense(&c, 10, NN_ACT_SOFTMAX);
    c.loss = NN_LOSS_CATEGORICAL_CROSSENTROPY;
    nn_optimizer_defaults(&c.optimizer, NN_OPT_ADAM);
    nn_model *m = nn_model_new(&c, 128);
    assert_non_null(m);
    assert_null(m->pk);
    nn_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blocked_matches_plain),
        cmocka_unit_test(test_blocked_transposed),
        cmocka_unit_test(test_model_bits_unchanged),
        cmocka_unit_test(test_small_models_unchanged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
