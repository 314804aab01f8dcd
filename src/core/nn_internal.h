/* nn_internal.h: private to the nn module. Only src/nn*.c include it.
 *
 * The model struct shared by nn.c (public API: build, init, summary, the fit
 * loop, evaluate / predict, the general per-batch path and the optimizer),
 * nn_kernels.c (the blocked matrix product) and nn_fast.c (the tiny and wide
 * fast paths), and the small element-wise kernels all three use. Those are
 * static inline here on purpose: the fast paths call them with compile-time
 * shapes (16-row tiles, 2 classes) and rely on them being inlined and
 * specialised; a call into another file would cost more than the work.
 */
#ifndef RUNEXP_NN_INTERNAL_H
#define RUNEXP_NN_INTERNAL_H

#include "nn.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#if defined(__FMA__)
#define NN_MADD(a, b, c) fmaf((a), (b), (c))
#else
#define NN_MADD(a, b, c) ((a) * (b) + (c))
#endif

/* For the few functions whose per-shape copies must be inlined into their
 * dispatcher (GCC's heuristics judge the calls cold once the dispatcher is
 * an external function): an attribute, ignored by other compilers. */
#if defined(__GNUC__)
#define NN_FORCE_INLINE __attribute__((always_inline)) inline
#else
#define NN_FORCE_INLINE inline
#endif

#define NN_LANES 16 /* batch padding and matrix-product column block */

enum { NN_PATH_GENERAL = 0, NN_PATH_TINY, NN_PATH_WIDE };
#define NN_T 16                   /* tiny path: rows per chunk */
#define NN_TINY_MAX 16            /* tiny path: widest layer it takes */
#define TILE (NN_TINY_MAX * NN_T) /* tiny path: floats of one (units x 16) tile */

/* A layer other than dense, applied to the input of dense layer `at` (the
 * output of dense layer at - 1 after its activation, or the data for at =
 * 0), in layer order: dropout and batch normalization. Buffers
 * feature-major (width x ld), like the activations. */
typedef struct nn_op {
    nn_layer_kind kind;
    size_t layer;         /* index in the configured layers */
    size_t at, width;
    float rate, keep_scale;        /* dropout: rate, 1 / (1 - rate) */
    float momentum, eps;           /* batch norm */
    size_t goff, beoff, mmoff, mvoff; /* batch norm params (SIZE_MAX: no gamma / beta) */
    const float *in;      /* the op's input (width x ld) */
    float *out;           /* its output */
    float *mask;          /* dropout: 1 / (1 - rate) where kept, 0 where dropped */
    float *mean, *rstd;   /* batch norm: the batch statistics of the last
                           * training forward (width each) */
} nn_op;

/* Packing buffers of the blocked product (nn_gemm.c): one A block and one B
 * block, allocated with the model's arena (nn_gemm_pack_floats floats) when
 * the model has a layer wide enough for the blocked product to pay. */
typedef struct nn_gemm_pack {
    float *a, *b;
    size_t nc; /* columns of the B block */
    /* nn_gemm_dense_backward's buffers (NULL when the model has no layer
     * it runs for): the output delta packed as A panels (da) and as B
     * panels (db), the layer input's block transposed (xa), one block of the
     * kernel gradient (g) */
    float *da, *db, *xa, *g;
} nn_gemm_pack;

/* The constants of one optimizer step (nn_update_prepare). */
typedef struct nn_update {
    int kind; /* nn_optimizer_kind */
    float lr, alpha, o1, o2, eps; /* adam: alpha_t, 1 - beta_1, 1 - beta_2 */
    float mu;                     /* sgd momentum */
    int momentum, nesterov;
    float rho, orho;              /* rmsprop */
} nn_update;

struct nn_model {
    nn_model_config cfg; /* the dense layers only (what the fast paths see) */
    nn_model_config ucfg; /* the layers as configured */
    size_t n_layers;     /* dense layers */
    size_t dims[NN_MAX_LAYERS + 1]; /* dims[0] = inputs, dims[l+1] = units of layer l */
    size_t koff[NN_MAX_LAYERS], boff[NN_MAX_LAYERS];
    size_t n_params;
    size_t max_batch, ld_max;
    size_t max_units, max_units_pad; /* widest layer (inputs not counted), padded */
    int in_rows; /* act[0] holds the input batch-major (rows), see gather() */

    float *params, *grads, *s1, *s2; /* s1: adam m / sgd velocity / rmsprop s; s2: adam v */
    uint64_t step;                   /* optimizer iterations done */
    double b1_pow, b2_pow;           /* beta_1^step, beta_2^step (Adam) */

    float *act[NN_MAX_LAYERS + 1]; /* act[0]: input batch; act[l+1]: layer l output */
    float *logits;                 /* output layer before its activation */
    float *ybuf;                   /* targets of the batch, feature-major */
    float *da, *db;                /* delta ping-pong buffers (max_units x ld_max) */
    float *dzt;                    /* delta transposed (ld_max x max_units_pad) */
    float *dwpad;                  /* kernel gradient, padded columns (largest in x out_pad) */
    float *mx, *sm, *li, *tmp;     /* per-row scratch (ld_max each) */
    float *arena;
    size_t arena_bytes;

    int path;                    /* NN_PATH_*: how nn_fit and nn_evaluate run */
    float *gacc;                 /* tiny path: 16 lane sums per parameter */
    float *tact, *tlog, *ty, *tp, *td0, *td1; /* tiny path: (units x 16) tiles */
    size_t wld[NN_MAX_LAYERS + 1];  /* wide path: row stride of each boundary */
    float *wrow[NN_MAX_LAYERS + 1]; /* wide path: rows x wld[l] (input, hidden, logits) */
    float *wp[NN_MAX_LAYERS];       /* wide path: zero-padded kernel copy, or NULL */
    float *wt[NN_MAX_LAYERS];       /* wide path: transposed kernel copy, or NULL */
    float *dh[2], *gwt, *gbacc;     /* wide path: deltas, gradient scratch (gwt = dwpad) */
    int wdirect;                    /* wide path: input rows read in place */
    const float *win;               /* wide path, direct: the batch's input rows, */
    const uint32_t *win_map;        /* through this map (NULL: consecutive) */
    const int32_t *ylab;            /* fast paths: class of each row of the y being read,
                                     * when y is one-hot (set by nn_fit), else NULL */

    int32_t *labels; /* nn_fit: classes of the training then validation rows */
    int tgather;     /* tiny path: row offsets (row * inputs) of the data being
                      * read fit in an int32 (for AVX-512 gathers) */
    size_t labels_cap;

    nn_gemm_pack gpack;       /* blocked product's buffers (in the arena) */
    int wfuse;                /* wide path: some layer's backward is fused with its update */
    unsigned char fused[NN_MAX_LAYERS]; /* kernel l updated in this step's backward
                                         * (set by nn_wide_batch, cleared by the update) */
    const nn_gemm_pack *pk;   /* &gpack when the model has them, else NULL */

    uint32_t *order; /* epoch order, grown by nn_fit before its first step */
    size_t order_cap;

    /* the other layer types, regularizers, class weights, schedules */
    nn_op ops[NN_MAX_LAYERS];
    size_t n_ops;
    size_t op_first[NN_MAX_LAYERS + 1], op_n[NN_MAX_LAYERS + 1]; /* ops at each boundary */
    const float *xin[NN_MAX_LAYERS + 1]; /* input of dense layer l (act[l] or an op's out) */
    size_t dense_of[NN_MAX_LAYERS];      /* configured layer -> dense index (dense ones) */
    size_t uoff[NN_MAX_LAYERS], ucount[NN_MAX_LAYERS]; /* params of each configured layer */
    size_t n_trainable;
    float *d0;           /* delta of the input when boundary 0 has batch norm (bn0) */
    int bn0;
    int has_reg;         /* some regularizer is non-zero */
    int has_dropout;     /* some dropout has rate > 0 */
    float lr_var;        /* learning rate without a schedule (ReduceLROnPlateau sets it) */
    float *wbuf;         /* class weight of each row of the batch (ld_max) */
    const float *cw;     /* nn_fit: class weights in use, or NULL */
    size_t n_cw;
    rng_state *drng;     /* nn_fit: the dropout stream */
    float *best;         /* early stopping's snapshot, grown by nn_fit */
    size_t best_cap;
};

/* Whether the model is only dense layers without regularizers: the fast
 * paths take no other. */
static inline int nn_plain_model(const nn_model *m)
{
    return m->n_ops == 0 && !m->has_reg;
}

/* ---- small helpers -------------------------------------------------------- */

static inline size_t round_up(size_t v, size_t to)
{
    return (v + to - 1) / to * to;
}

static inline float bits_to_float(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static inline uint32_t float_to_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

/* exp(x) in float (Cephes expf). x is clamped to [-87, 88] so 2^n stays a
 * normal float; the comparisons let NaN through so a diverging model is
 * still seen. n is found with the 1.5*2^23 rounding trick and 2^n built from
 * the bits, so no float->int conversion can overflow. */
static inline float nn_expf(float x)
{
    const float magic = 12582912.0f; /* 1.5 * 2^23 */
    x = x > 88.0f ? 88.0f : x;
    x = x < -87.0f ? -87.0f : x;
    float t = x * 1.44269504088896341f + magic;
    float n = t - magic;
    float r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * (r * r) + r + 1.0f;
    uint32_t e = (float_to_bits(t) - float_to_bits(magic) + 127u) << 23;
    return p * bits_to_float(e);
}

/* log(x) in float (Cephes logf) for positive normal x; NaN and +Inf are
 * returned as they are (so divergence propagates), x <= 0 gives NaN/-Inf. */
static inline float nn_logf(float xin)
{
    uint32_t u = float_to_bits(xin);
    float e = (float)(int32_t)((u >> 23) & 0xffu) - 126.0f;
    float x = bits_to_float((u & 0x807fffffu) | 0x3f000000u); /* [0.5, 1) */
    if (x < 0.707106781186547524f) {
        e = e - 1.0f;
        x = x + x - 1.0f;
    } else {
        x = x - 1.0f;
    }
    float z = x * x;
    float y = 7.0376836292e-2f;
    y = y * x - 1.1514610310e-1f;
    y = y * x + 1.1676998740e-1f;
    y = y * x - 1.2420140846e-1f;
    y = y * x + 1.4249322787e-1f;
    y = y * x - 1.6668057665e-1f;
    y = y * x + 2.0000714765e-1f;
    y = y * x - 2.4999993993e-1f;
    y = y * x + 3.3333331174e-1f;
    y = y * x * z;
    y = y + e * -2.12194440e-4f;
    y = y - 0.5f * z;
    x = x + y;
    x = x + e * 0.693359375f;
    if (!(xin <= FLT_MAX))
        x = xin; /* NaN, +Inf */
    if (xin == 0.0f)
        x = -HUGE_VALF;
    if (xin < 0.0f)
        x = NAN;
    return x;
}

#if defined(__AVX512F__)
/* nn_expf and nn_logf on 16 lanes: the same operations in the same order
 * (no fused multiply-adds), so the same bits. For the tiny path's loss,
 * where GCC's fully unrolled 16-lane loops came out partly scalar. */
static inline __m512 nn_expf16(__m512 x)
{
    const __m512 magic = _mm512_set1_ps(12582912.0f);
    x = _mm512_min_ps(_mm512_set1_ps(88.0f), x);  /* x > 88 ? 88 : x (NaN kept) */
    x = _mm512_max_ps(_mm512_set1_ps(-87.0f), x); /* x < -87 ? -87 : x */
    __m512 t = _mm512_add_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)), magic);
    __m512 n = _mm512_sub_ps(t, magic);
    __m512 r = _mm512_sub_ps(x, _mm512_mul_ps(n, _mm512_set1_ps(0.693359375f)));
    r = _mm512_sub_ps(r, _mm512_mul_ps(n, _mm512_set1_ps(-2.12194440e-4f)));
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_add_ps(_mm512_add_ps(_mm512_mul_ps(p, _mm512_mul_ps(r, r)), r),
                      _mm512_set1_ps(1.0f));
    __m512i e = _mm512_sub_epi32(_mm512_castps_si512(t), _mm512_castps_si512(magic));
    e = _mm512_slli_epi32(_mm512_add_epi32(e, _mm512_set1_epi32(127)), 23);
    return _mm512_mul_ps(p, _mm512_castsi512_ps(e));
}

static inline __m512 nn_logf16(__m512 xin)
{
    const __m512i u = _mm512_castps_si512(xin);
    __m512 e = _mm512_sub_ps(
        _mm512_cvtepi32_ps(_mm512_and_si512(_mm512_srli_epi32(u, 23), _mm512_set1_epi32(0xff))),
        _mm512_set1_ps(126.0f));
    const __m512i mant = _mm512_and_si512(u, _mm512_set1_epi32((int32_t)0x807fffff));
    __m512 x = _mm512_castsi512_ps(_mm512_or_si512(mant, _mm512_set1_epi32(0x3f000000)));
    const __mmask16 lo = _mm512_cmp_ps_mask(x, _mm512_set1_ps(0.707106781186547524f), _CMP_LT_OQ);
    const __m512 one = _mm512_set1_ps(1.0f);
    e = _mm512_mask_sub_ps(e, lo, e, one);
    x = _mm512_mask_sub_ps(_mm512_sub_ps(x, one), lo, _mm512_add_ps(x, x), one);
    const __m512 z = _mm512_mul_ps(x, x);
    __m512 y = _mm512_set1_ps(7.0376836292e-2f);
    y = _mm512_sub_ps(_mm512_mul_ps(y, x), _mm512_set1_ps(1.1514610310e-1f));
    y = _mm512_add_ps(_mm512_mul_ps(y, x), _mm512_set1_ps(1.1676998740e-1f));
    y = _mm512_sub_ps(_mm512_mul_ps(y, x), _mm512_set1_ps(1.2420140846e-1f));
    y = _mm512_add_ps(_mm512_mul_ps(y, x), _mm512_set1_ps(1.4249322787e-1f));
    y = _mm512_sub_ps(_mm512_mul_ps(y, x), _mm512_set1_ps(1.6668057665e-1f));
    y = _mm512_add_ps(_mm512_mul_ps(y, x), _mm512_set1_ps(2.0000714765e-1f));
    y = _mm512_sub_ps(_mm512_mul_ps(y, x), _mm512_set1_ps(2.4999993993e-1f));
    y = _mm512_add_ps(_mm512_mul_ps(y, x), _mm512_set1_ps(3.3333331174e-1f));
    y = _mm512_mul_ps(_mm512_mul_ps(y, x), z);
    y = _mm512_add_ps(y, _mm512_mul_ps(e, _mm512_set1_ps(-2.12194440e-4f)));
    y = _mm512_sub_ps(y, _mm512_mul_ps(_mm512_set1_ps(0.5f), z));
    x = _mm512_add_ps(x, y);
    x = _mm512_add_ps(x, _mm512_mul_ps(e, _mm512_set1_ps(0.693359375f)));
    /* NaN and +Inf as they are, 0 -> -Inf, negative -> NaN */
    x = _mm512_mask_mov_ps(x, _mm512_cmp_ps_mask(xin, _mm512_set1_ps(FLT_MAX), _CMP_NLE_UQ), xin);
    x = _mm512_mask_mov_ps(x, _mm512_cmp_ps_mask(xin, _mm512_setzero_ps(), _CMP_EQ_OQ),
                           _mm512_set1_ps(-HUGE_VALF));
    x = _mm512_mask_mov_ps(x, _mm512_cmp_ps_mask(xin, _mm512_setzero_ps(), _CMP_LT_OQ),
                           _mm512_set1_ps(NAN));
    return x;
}
#endif

#if defined(__AVX512F__)
/* The 16 x 16 block r (r[i] = row i) transposed in place, 64 shuffles:
 * pairs within 128-bit lanes, then quads, then the four lanes. */
static inline void nn_transpose16(__m512 r[16])
{
    __m512 a[16], b[16];
    for (int i = 0; i < 8; i++) {
        a[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        a[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; i++) {
        const __m512d a0 = _mm512_castps_pd(a[4 * i]), a1 = _mm512_castps_pd(a[4 * i + 1]);
        const __m512d a2 = _mm512_castps_pd(a[4 * i + 2]), a3 = _mm512_castps_pd(a[4 * i + 3]);
        b[4 * i + 0] = _mm512_castpd_ps(_mm512_unpacklo_pd(a0, a2));
        b[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a0, a2));
        b[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(a1, a3));
        b[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(a1, a3));
    }
    /* b[4i + q], 128-bit lane L: rows 4i..4i+3 of column 4L + q */
    for (int q = 0; q < 4; q++) {
        const __m512 u = _mm512_shuffle_f32x4(b[q], b[4 + q], 0x44);
        const __m512 v = _mm512_shuffle_f32x4(b[8 + q], b[12 + q], 0x44);
        const __m512 u2 = _mm512_shuffle_f32x4(b[q], b[4 + q], 0xEE);
        const __m512 v2 = _mm512_shuffle_f32x4(b[8 + q], b[12 + q], 0xEE);
        r[q] = _mm512_shuffle_f32x4(u, v, 0x88);
        r[4 + q] = _mm512_shuffle_f32x4(u, v, 0xDD);
        r[8 + q] = _mm512_shuffle_f32x4(u2, v2, 0x88);
        r[12 + q] = _mm512_shuffle_f32x4(u2, v2, 0xDD);
    }
}
#endif

/* Column-wise softmax of z (units x ld) into p; leaves the column max in mx
 * and the sum of exponentials in sm (the loss needs both). */
static inline void softmax_cols(const float *restrict z, float *restrict p,
                         size_t units, size_t ld, float *restrict mx,
                         float *restrict sm)
{
    for (size_t i = 0; i < ld; i++)
        mx[i] = z[i];
    for (size_t k = 1; k < units; k++) {
        const float *zk = z + k * ld;
        for (size_t i = 0; i < ld; i++)
            mx[i] = zk[i] > mx[i] ? zk[i] : mx[i];
    }
    for (size_t i = 0; i < ld; i++)
        sm[i] = 0.0f;
    for (size_t k = 0; k < units; k++) {
        const float *zk = z + k * ld;
        float *pk = p + k * ld;
        for (size_t i = 0; i < ld; i++) {
            pk[i] = nn_expf(zk[i] - mx[i]);
            sm[i] += pk[i];
        }
    }
    /* times 1/sum, as TensorFlow's softmax kernel does (SoftmaxEigenImpl:
     * softmax * sum.inverse()): one divide per row instead of one per unit,
     * the divide being the slowest vector instruction here */
    for (size_t i0 = 0; i0 < ld; i0 += 16) {
        const size_t cnt = ld - i0 < 16 ? ld - i0 : 16;
        float inv[16];
        for (size_t i = 0; i < cnt; i++)
            inv[i] = 1.0f / sm[i0 + i];
        for (size_t k = 0; k < units; k++) {
            float *pk = p + k * ld + i0;
            for (size_t i = 0; i < cnt; i++)
                pk[i] = pk[i] * inv[i];
        }
    }
}

/* y = act(z) elementwise (or column-wise for softmax); z may equal y except
 * for softmax. */
static inline void activate(nn_model *m, nn_activation a, const float *z, float *y,
                     size_t units, size_t ld)
{
    size_t cnt = units * ld;
    switch (a) {
    case NN_ACT_LINEAR:
        if (y != z)
            memcpy(y, z, cnt * sizeof *y);
        break;
    case NN_ACT_RELU:
        for (size_t i = 0; i < cnt; i++)
            y[i] = z[i] < 0.0f ? 0.0f : z[i]; /* NaN passes */
        break;
    case NN_ACT_SIGMOID:
        for (size_t i = 0; i < cnt; i++)
            y[i] = 1.0f / (1.0f + nn_expf(-z[i]));
        break;
    case NN_ACT_TANH:
        for (size_t i = 0; i < cnt; i++)
            y[i] = tanhf(z[i]);
        break;
    case NN_ACT_SOFTMAX:
        softmax_cols(z, y, units, ld, m->mx, m->sm);
        break;
    }
}

/* d *= act'(.) given the activation's output y (units x ld). */
static inline void activation_backward(nn_activation a, const float *restrict y,
                                float *restrict d, size_t units, size_t ld,
                                float *restrict tmp)
{
    size_t cnt = units * ld;
    switch (a) {
    case NN_ACT_LINEAR:
        break;
    case NN_ACT_RELU: /* TF's ReluGrad: gradient where the input was > 0 */
        for (size_t i = 0; i < cnt; i++)
            d[i] = y[i] > 0.0f ? d[i] : 0.0f;
        break;
    case NN_ACT_SIGMOID:
        for (size_t i = 0; i < cnt; i++)
            d[i] = d[i] * (y[i] * (1.0f - y[i]));
        break;
    case NN_ACT_TANH:
        for (size_t i = 0; i < cnt; i++)
            d[i] = d[i] * (1.0f - y[i] * y[i]);
        break;
    case NN_ACT_SOFTMAX: /* d_k = y_k (d_k - sum_j y_j d_j) */
        for (size_t i = 0; i < ld; i++)
            tmp[i] = 0.0f;
        for (size_t k = 0; k < units; k++)
            for (size_t i = 0; i < ld; i++)
                tmp[i] += y[k * ld + i] * d[k * ld + i];
        for (size_t k = 0; k < units; k++)
            for (size_t i = 0; i < ld; i++)
                d[k * ld + i] = y[k * ld + i] * (d[k * ld + i] - tmp[i]);
        break;
    }
}

/* Output-layer handling: softmax + CCE and sigmoid + BCE are computed from
 * the logits like TF does; everything else from the output values. */
static inline int fused_softmax_cce(const nn_model *m)
{
    return m->cfg.loss == NN_LOSS_CATEGORICAL_CROSSENTROPY &&
           m->cfg.layers[m->n_layers - 1].activation == NN_ACT_SOFTMAX;
}

static inline int fused_sigmoid_bce(const nn_model *m)
{
    return m->cfg.loss == NN_LOSS_BINARY_CROSSENTROPY &&
           m->cfg.layers[m->n_layers - 1].activation == NN_ACT_SIGMOID;
}


/* ---- nn_kernels.c, nn_gemm.c ------------------------------------------------ */

/* Floats of the packing buffers for products up to max_n columns wide;
 * with fuse_batch > 0, also nn_gemm_dense_backward's for batches up to
 * fuse_batch rows and layers up to max_n units wide (inputs or outputs).
 * SIZE_MAX if that would overflow. */
size_t nn_gemm_pack_floats(size_t max_n, size_t fuse_batch);
/* Points pk into buf (nn_gemm_pack_floats(max_n, fuse_batch) floats). */
void nn_gemm_pack_init(nn_gemm_pack *pk, float *buf, size_t max_n, size_t fuse_batch);

/* The backward pass of a dense layer z = x W fused with the optimizer's
 * update of W, for the wide path's hidden layers: with X the layer's input
 * rows (nb x ldx) and D = dLoss/dz (nb x ldd, ldd = out rounded up to 16,
 * padding columns zero),
 *     dX = D W^T   (nb x lddx; columns in..lddx zero; skipped if dX is NULL)
 *     G  = X^T D   (in x out, the kernel gradient, never stored whole)
 * then W, s1, s2 (in x out each) updated from G by nn_update_range(u), in
 * blocks of 96 rows x 256 columns of W: each block's dX part is done with
 * the block's old weights, then its gradient (complete: it sums over the
 * batch) updates it while it is in cache. W, s1 and s2 are read and written
 * once each. Every dX and G element is summed in the order nn_gemm sums it
 * (over o, over rows), with the same multiply-add: the same bits as
 * nn_gemm_blocked_bt, nn_gemm and a separate update. Needs pk's fused
 * buffers (nb <= their batch, in and out <= their width). */
void nn_gemm_dense_backward(size_t nb, size_t in, size_t out, const float *X, size_t ldx,
                            const float *D, size_t ldd, float *dX, size_t lddx, float *W,
                            float *s1, float *s2, const nn_update *u, const nn_gemm_pack *pk);

/* C[m][n] = bias[m] + sum_p A[m*ams + p*aps] * B[p][n] for m < M, n < N (a
 * multiple of NN_LANES); sums over p in order; bias may be NULL. Runs the
 * cache-blocked product (nn_gemm_blocked) when pk is not NULL and the shape
 * is large enough for it to be faster, else the plain one (nn_gemm_plain);
 * both give the same bits. */
void nn_gemm(size_t M, size_t N, size_t P, const float *restrict A, size_t ams, size_t aps,
             const float *restrict B, size_t ldb, float *restrict C, size_t ldc,
             const float *restrict bias, const nn_gemm_pack *pk);
/* Whether nn_gemm takes the blocked product for this shape (given buffers). */
int nn_gemm_use_blocked(size_t M, size_t N, size_t P);
/* The two products nn_gemm chooses from (exposed for the unit tests). */
void nn_gemm_plain(size_t M, size_t N, size_t P, const float *restrict A, size_t ams,
                   size_t aps, const float *restrict B, size_t ldb, float *restrict C,
                   size_t ldc, const float *restrict bias);
void nn_gemm_blocked(size_t M, size_t N, size_t P, const float *restrict A, size_t ams,
                     size_t aps, const float *restrict B, size_t ldb, float *restrict C,
                     size_t ldc, const float *restrict bias, const nn_gemm_pack *pk);

/* C[m][n] = sum_p a(m, p) * B[n*ldb + p] for n < N (a multiple of NN_LANES),
 * where rows n >= b_rows of B count as zeros (not read): the product with a
 * kernel's transpose, read in place. Always blocked; the bits of
 * nn_gemm_plain on a transposed, zero-padded copy of B. */
void nn_gemm_blocked_bt(size_t M, size_t N, size_t P, const float *restrict A, size_t ams,
                        size_t aps, const float *restrict B, size_t ldb, size_t b_rows,
                        float *restrict C, size_t ldc, const nn_gemm_pack *pk);

/* ---- nn.c --------------------------------------------------------------------- */

/* The optimizer step that follows m->step, in two parts: its constants
 * (nothing in m changes), and its element-wise update of n parameters from
 * their gradient and state (the same bits in any pieces). */
void nn_update_prepare(const nn_model *m, nn_update *u);
void nn_update_range(const nn_update *u, float *restrict th, const float *restrict g,
                     float *restrict s1, float *restrict s2, size_t n);

/* Per-sample losses of the last forward pass (logits in m->logits, outputs
 * in act[L], targets in m->ybuf, feature-major with stride ld): returns their
 * sum over the nb rows, adds the correct predictions to *correct and, when
 * delta is not NULL, writes dLoss/dlogits of the batch mean into it. */
double nn_batch_loss(nn_model *m, size_t nb, size_t ld, float *delta, double *correct);

/* ---- nn_fast.c ------------------------------------------------------------------ */

/* Whether the tiny / wide fast path can run this model (decided once, in
 * nn_model_new, before the arena is laid out). */
int nn_tiny_path_ok(const nn_model *m);
int nn_wide_path_ok(const nn_model *m);

/* One training batch, rows idx[0..nb): returns the sum of the rows' losses
 * before the update (NaN/Inf if diverged) and leaves the batch-mean gradient
 * in m->grads; correct predictions are added to *ok / *correct. */
double nn_tiny_batch(nn_model *m, const float *x, const float *y, const uint32_t *idx,
                     size_t nb, size_t *ok);
double nn_wide_batch(nn_model *m, const float *x, const float *y, const uint32_t *idx,
                     size_t nb, double *correct);

/* Loss sum and correct count over rows 0..n of (x, y), no update. */
void nn_tiny_evaluate(nn_model *m, const float *x, const float *y, size_t n, double *sum,
                      size_t *ok);
void nn_wide_evaluate(nn_model *m, const float *x, const float *y, size_t n, double *sum,
                      double *correct);

/* Row classes of one-hot targets for the fast paths (m->labels), see nn_fast.c. */
void nn_row_labels(nn_model *m, const float *y, size_t n, const float *yv, size_t nv);

#endif
