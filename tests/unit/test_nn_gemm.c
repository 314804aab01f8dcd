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
    float *buf = alloc_floats(nn_gemm_pack_floats(s->max_n, 0));
    fill(A, s->a_cols ? lda * s->P : lda * s->M, &r);
    fill(B, ldb * s->P, &r);
    fill(bias, s->M, &r);
    for (size_t i = 0; i < ldc * s->M; i++)
        c1[i] = c2[i] = c3[i] = -7.0f; /* columns past N must stay as they are */
    nn_gemm_pack pk;
    nn_gemm_pack_init(&pk, buf, s->max_n, 0);
    const float *bb = s->bias ? bias : NULL;
    nn_gemm_plain(s->M, s->N, s->P, A, ams, aps, B, ldb, c1, ldc, bb);
    nn_gemm_blocked(s->M, s->N, s->P, A, ams, aps, B, ldb, c2, ldc, bb, &pk);
    memset(buf, 0xff, nn_gemm_pack_floats(s->max_n, 0) * sizeof *buf); /* stale packs: NaN */
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
        /* few rows times a big B (N * P >= 2^20: B copied one panel at a
         * time): M of one, one row panel, one more, the bench's batch, the
         * largest; N ending in a 16-wide panel; P over several KC blocks
         * and not a multiple of 32; buffers narrower than N */
        {1, 1040, 1037, 0, 1, 1040},
        {12, 1040, 1037, 1, 0, 64},
        {13, 1072, 1001, 0, 0, 1072},
        {32, 2064, 515, 0, 1, 2064},
        {64, 1040, 1037, 1, 1, 1040},
        {65, 1040, 1037, 0, 1, 1040}, /* one row too many: the blocked loops */
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
    float *buf = alloc_floats(nn_gemm_pack_floats(max_n, 0));
    assert_non_null(T);
    fill(A, M * lda, &r);
    fill(W, b_rows * ldb, &r);
    for (size_t n = 0; n < b_rows; n++)
        for (size_t p = 0; p < P; p++)
            T[p * N + n] = W[n * ldb + p];
    nn_gemm_pack pk;
    nn_gemm_pack_init(&pk, buf, max_n, 0);
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

/* The fused backward + update of a dense layer against its parts run one
 * after the other: dX = D W^T through the plain product on a transposed,
 * zero-padded copy of W, the gradient X^T D through the plain product, then
 * the update over the whole kernel at once. The same bits, for W, s1, s2
 * and dX (padding columns exact zeros). */
static void check_dense_backward(size_t nb, size_t in, size_t out, nn_optimizer_kind kind,
                                 int want_dx)
{
    rng_state r;
    rng_stream(&r, 9 + nb * 5 + in * 3 + out, RNG_PURPOSE_INIT);
    const size_t ldx = round_up(in, 16) + 16, ldd = round_up(out, 16), lddx = round_up(in, 16);
    const size_t nw = in * out, max_n = (in > out ? in : out) + 40;
    float *X = alloc_floats(nb * ldx), *D = alloc_floats(nb * ldd);
    float *W1 = alloc_floats(nw), *W2 = alloc_floats(nw);
    float *m1 = alloc_floats(nw), *m2 = alloc_floats(nw), *v1 = alloc_floats(nw),
          *v2 = alloc_floats(nw);
    float *T = calloc(out * lddx, sizeof *T), *G = alloc_floats(in * ldd), *g = alloc_floats(nw);
    float *dx1 = alloc_floats(nb * lddx), *dx2 = alloc_floats(nb * lddx);
    const size_t nbuf = nn_gemm_pack_floats(max_n, nb + 3);
    float *buf = alloc_floats(nbuf);
    assert_non_null(T);
    fill(X, nb * ldx, &r);
    fill(D, nb * ldd, &r);
    for (size_t i = 0; i < nb; i++)
        for (size_t o = out; o < ldd; o++)
            D[i * ldd + o] = 0.0f; /* as the wide path's deltas */
    fill(W1, nw, &r);
    fill(m1, nw, &r);
    fill(v1, nw, &r);
    for (size_t i = 0; i < nw; i++) {
        v1[i] = v1[i] * v1[i]; /* a second moment is not negative */
        W2[i] = W1[i], m2[i] = m1[i], v2[i] = v1[i];
    }
    for (size_t i = 0; i < nb * lddx; i++)
        dx2[i] = 5.0f; /* every column is written */
    nn_update u;
    memset(&u, 0, sizeof u);
    u.kind = (int)kind;
    u.lr = 0.01f, u.alpha = 0.0123f, u.o1 = 0.1f, u.o2 = 0.001f, u.eps = 1e-7f;
    u.mu = 0.9f, u.momentum = 1, u.nesterov = 1, u.rho = 0.9f, u.orho = 0.1f;
    /* the parts */
    for (size_t k = 0; k < in; k++)
        for (size_t o = 0; o < out; o++)
            T[o * lddx + k] = W1[k * out + o];
    nn_gemm_plain(nb, lddx, out, D, ldd, 1, T, lddx, dx1, lddx, NULL);
    nn_gemm_plain(in, ldd, nb, X, 1, ldx, D, ldd, G, ldd, NULL);
    for (size_t k = 0; k < in; k++)
        for (size_t o = 0; o < out; o++)
            g[k * out + o] = G[k * ldd + o];
    nn_update_range(&u, W1, g, m1, v1, nw);
    /* fused, with stale buffers */
    for (size_t i = 0; i < nbuf; i++)
        buf[i] = NAN;
    nn_gemm_pack pk;
    nn_gemm_pack_init(&pk, buf, max_n, nb + 3);
    nn_gemm_dense_backward(nb, in, out, X, ldx, D, ldd, want_dx ? dx2 : NULL, lddx, W2, m2, v2,
                           &u, &pk);
    assert_memory_equal(W1, W2, nw * sizeof *W1);
    assert_memory_equal(m1, m2, nw * sizeof *m1);
    assert_memory_equal(v1, v2, nw * sizeof *v1);
    if (want_dx) {
        assert_memory_equal(dx1, dx2, nb * lddx * sizeof *dx1);
        for (size_t i = 0; i < nb; i++)
            for (size_t k = in; k < lddx; k++)
                assert_true(dx2[i * lddx + k] == 0.0f && !signbit(dx2[i * lddx + k]));
    }
    /* the comparison is between non-trivial results */
    double gmax = 0.0, dmax = 0.0;
    for (size_t i = 0; i < nw; i++)
        gmax = fmax(gmax, fabs((double)g[i]));
    for (size_t i = 0; i < nb * lddx; i++)
        dmax = fmax(dmax, fabs((double)dx1[i]));
    assert_true(gmax > 0.1 && dmax > 0.1);
    free(X), free(D), free(W1), free(W2), free(m1), free(m2), free(v1), free(v2);
    free(T), free(G), free(g), free(dx1), free(dx2), free(buf);
}

static void test_dense_backward(void **state)
{
    (void)state;
    /* kernel rows past one 96-row block and ending in a partial one, columns
     * past one 256-column block and not a multiple of 16, batches with a
     * partial row panel and over one 256-row piece */
    check_dense_backward(32, 512, 512, NN_OPT_ADAM, 1);
    check_dense_backward(13, 200, 300, NN_OPT_ADAM, 1);
    check_dense_backward(300, 100, 270, NN_OPT_ADAM, 1);
    check_dense_backward(7, 40, 20, NN_OPT_SGD, 1);
    check_dense_backward(33, 97, 513, NN_OPT_RMSPROP, 0);
    /* small batches (dX^T = W D^T, W read in place): one row, one row panel,
     * one more, the largest, one too many; in and out not multiples of 32 */
    check_dense_backward(1, 97, 70, NN_OPT_ADAM, 1);
    check_dense_backward(12, 200, 48, NN_OPT_ADAM, 1);
    check_dense_backward(13, 130, 530, NN_OPT_SGD, 1);
    check_dense_backward(64, 290, 300, NN_OPT_ADAM, 1);
    check_dense_backward(65, 100, 270, NN_OPT_ADAM, 1);
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
                    (nn_gemm_pack_floats(520, 32) + 4 * nn_model_param_count(a)) * sizeof(float));
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
        cmocka_unit_test(test_dense_backward),
        cmocka_unit_test(test_model_bits_unchanged),
        cmocka_unit_test(test_small_models_unchanged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
