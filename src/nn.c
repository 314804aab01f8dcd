/* nn: sequential dense networks with Keras-equivalent semantics.
 *
 * Layout. Inside a step, activations and deltas are stored feature-major:
 * a (units x ld) matrix whose row u holds unit u for every row of the batch,
 * ld = batch rows rounded up to a multiple of 16. The lab models have 1..64
 * units but batches of 32..128 rows, so putting the batch in the innermost,
 * contiguous dimension is what lets the compiler vectorise every kernel
 * (forward product, softmax across units, input deltas) with full vectors.
 * Columns past the batch's real rows are padding: they are computed on (it is
 * cheaper than masking) but never enter a reduction over rows, so they cannot
 * change a result. Parameters stay in Keras's layout: per layer the kernel
 * (in x out, row-major) then the bias, all in one flat buffer.
 *
 * Arithmetic. float32 throughout, as Keras; per-sample losses are summed in
 * double. Products are summed in the order of the reduction index (input
 * unit, or batch row for the kernel gradient), whatever the register
 * blocking, so a result does not depend on the blocking. When the target has
 * FMA (-march=native on any recent x86) the multiply-adds of the matrix
 * products use fmaf explicitly: it is one instruction instead of two, which
 * is what the W3 speed target needs; a build without FMA uses a*b + c and
 * gives slightly different (equally valid) bits. Same binary + same CPU =>
 * same bits either way.
 *
 * exp and log in the loss and the softmax/sigmoid use the small Cephes
 * polynomials below (about 1 ulp in float) instead of libm so that the loops
 * vectorise; TF's Eigen kernels use polynomials of the same kind.
 */
#include "nn.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <xmmintrin.h>
#define NN_HAVE_MXCSR 1
#endif

#if defined(__FMA__)
#define NN_MADD(a, b, c) fmaf((a), (b), (c))
#else
#define NN_MADD(a, b, c) ((a) * (b) + (c))
#endif

#define NN_LANES 16 /* batch padding and matrix-product column block */

enum { NN_PATH_GENERAL = 0, NN_PATH_TINY, NN_PATH_WIDE };
#define NN_T 16                   /* tiny path: rows per chunk */
#define NN_TINY_MAX 16            /* tiny path: widest layer it takes */
#define TILE (NN_TINY_MAX * NN_T) /* tiny path: floats of one (units x 16) tile */

struct nn_model {
    nn_model_config cfg;
    size_t n_layers;
    size_t dims[NN_MAX_LAYERS + 1]; /* dims[0] = inputs, dims[l+1] = units of layer l */
    size_t koff[NN_MAX_LAYERS], boff[NN_MAX_LAYERS];
    size_t n_params;
    size_t max_batch, ld_max, max_units, max_units_pad;
    int in_rows; /* act[0] holds the input batch-major (rows), see gather() */

    float *params, *grads, *s1, *s2; /* s1: adam m / sgd velocity / rmsprop s; s2: adam v */
    uint64_t step;                   /* optimizer iterations done */
    double b1_pow, b2_pow;           /* beta_1^step, beta_2^step (Adam) */

    float *act[NN_MAX_LAYERS + 1]; /* act[0]: input batch; act[l+1]: layer l output */
    float *logits;                 /* output layer before its activation */
    float *ybuf;                   /* targets of the batch, feature-major */
    float *da, *db;                /* delta ping-pong buffers (max_units x ld_max) */
    float *dzt;                    /* delta transposed (ld_max x max_units_pad) */
    float *dwpad;                  /* kernel gradient, padded columns */
    float *mx, *sm, *li, *tmp;     /* per-row scratch (ld_max each) */
    float *arena;

    int path;                    /* NN_PATH_*: how nn_fit and nn_evaluate run */
    float *gacc;                 /* tiny path: 16 lane sums per parameter */
    float *tact, *tlog, *ty, *tp, *td0, *td1; /* tiny path: (units x 16) tiles */
    size_t wld[NN_MAX_LAYERS + 1];  /* wide path: row stride of each boundary */
    float *wrow[NN_MAX_LAYERS + 1]; /* wide path: rows x wld[l] (input, hidden, logits) */
    float *wp[NN_MAX_LAYERS];       /* wide path: zero-padded kernel copy, or NULL */
    float *wt[NN_MAX_LAYERS];       /* wide path: transposed kernel copy, or NULL */
    float *dh[2], *gwt, *gbacc;     /* wide path: deltas, gradient scratch */

    uint32_t *order; /* epoch order, grown by nn_fit before its first step */
    size_t order_cap;
};

static int tiny_path_ok(const nn_model *m);
static int wide_path_ok(const nn_model *m);

/* ---- small helpers -------------------------------------------------------- */

static int mul_ok(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a)
        return 0;
    *out = a * b;
    return 1;
}

static int add_ok(size_t a, size_t b, size_t *out)
{
    if (b > SIZE_MAX - a)
        return 0;
    *out = a + b;
    return 1;
}

static size_t round_up(size_t v, size_t to)
{
    return (v + to - 1) / to * to;
}

static float bits_to_float(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static uint32_t float_to_bits(float f)
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

/* C[m][n] = bias[m] + sum_p a(m, p) * B[p][n] for m < M and n < N, where
 * a(m, p) = A[m*ams + p*aps] and N is a multiple of NN_LANES. Sums run over p
 * in order. Blocks of 4 rows x 32 columns (8 x 16 when N is 16) keep eight
 * vector accumulators live (enough independent FMA chains to fill both FMA
 * ports); each B row loaded serves four or eight broadcasts. Edges use 4x16,
 * 1x32 and 1x16 blocks with the same summation order. */
static inline void gemm_4x32(size_t m, size_t n, size_t P, const float *restrict A,
                               size_t ams, size_t aps, const float *restrict B, size_t ldb,
                               float *restrict C, size_t ldc, const float *restrict bias)
{
    const float *a0 = A + m * ams;
    float c0[32];
    float c1[32];
    float c2[32];
    float c3[32];
    for (size_t j = 0; j < 32; j++)
        c0[j] = c1[j] = c2[j] = c3[j] = 0.0f;
    for (size_t p = 0; p < P; p++) {
        const float *b = B + p * ldb + n;
        const float w0 = a0[0 * ams + p * aps];
        const float w1 = a0[1 * ams + p * aps];
        const float w2 = a0[2 * ams + p * aps];
        const float w3 = a0[3 * ams + p * aps];
        for (size_t j = 0; j < 32; j++) {
            c0[j] = NN_MADD(w0, b[j], c0[j]);
            c1[j] = NN_MADD(w1, b[j], c1[j]);
            c2[j] = NN_MADD(w2, b[j], c2[j]);
            c3[j] = NN_MADD(w3, b[j], c3[j]);
        }
    }
    {
        const float bb = bias ? bias[m + 0] : 0.0f;
        float *c = C + (m + 0) * ldc + n;
        for (size_t j = 0; j < 32; j++)
            c[j] = c0[j] + bb;
    }
    {
        const float bb = bias ? bias[m + 1] : 0.0f;
        float *c = C + (m + 1) * ldc + n;
        for (size_t j = 0; j < 32; j++)
            c[j] = c1[j] + bb;
    }
    {
        const float bb = bias ? bias[m + 2] : 0.0f;
        float *c = C + (m + 2) * ldc + n;
        for (size_t j = 0; j < 32; j++)
            c[j] = c2[j] + bb;
    }
    {
        const float bb = bias ? bias[m + 3] : 0.0f;
        float *c = C + (m + 3) * ldc + n;
        for (size_t j = 0; j < 32; j++)
            c[j] = c3[j] + bb;
    }
}

#if defined(__AVX512F__)
/* With 32 vector registers: 4 rows x 64 columns, sixteen accumulators. */
static inline void gemm_4x64(size_t m, size_t n, size_t P, const float *restrict A,
                               size_t ams, size_t aps, const float *restrict B, size_t ldb,
                               float *restrict C, size_t ldc, const float *restrict bias)
{
    const float *a0 = A + m * ams;
    float c0[64];
    float c1[64];
    float c2[64];
    float c3[64];
    for (size_t j = 0; j < 64; j++)
        c0[j] = c1[j] = c2[j] = c3[j] = 0.0f;
    for (size_t p = 0; p < P; p++) {
        const float *b = B + p * ldb + n;
        const float w0 = a0[0 * ams + p * aps];
        const float w1 = a0[1 * ams + p * aps];
        const float w2 = a0[2 * ams + p * aps];
        const float w3 = a0[3 * ams + p * aps];
        for (size_t j = 0; j < 64; j++) {
            c0[j] = NN_MADD(w0, b[j], c0[j]);
            c1[j] = NN_MADD(w1, b[j], c1[j]);
            c2[j] = NN_MADD(w2, b[j], c2[j]);
            c3[j] = NN_MADD(w3, b[j], c3[j]);
        }
    }
    {
        const float bb = bias ? bias[m + 0] : 0.0f;
        float *c = C + (m + 0) * ldc + n;
        for (size_t j = 0; j < 64; j++)
            c[j] = c0[j] + bb;
    }
    {
        const float bb = bias ? bias[m + 1] : 0.0f;
        float *c = C + (m + 1) * ldc + n;
        for (size_t j = 0; j < 64; j++)
            c[j] = c1[j] + bb;
    }
    {
        const float bb = bias ? bias[m + 2] : 0.0f;
        float *c = C + (m + 2) * ldc + n;
        for (size_t j = 0; j < 64; j++)
            c[j] = c2[j] + bb;
    }
    {
        const float bb = bias ? bias[m + 3] : 0.0f;
        float *c = C + (m + 3) * ldc + n;
        for (size_t j = 0; j < 64; j++)
            c[j] = c3[j] + bb;
    }
}
#endif

static inline void gemm_4x16(size_t m, size_t n, size_t P, const float *restrict A,
                               size_t ams, size_t aps, const float *restrict B, size_t ldb,
                               float *restrict C, size_t ldc, const float *restrict bias)
{
    const float *a0 = A + m * ams;
    float c0[16];
    float c1[16];
    float c2[16];
    float c3[16];
    for (size_t j = 0; j < 16; j++)
        c0[j] = c1[j] = c2[j] = c3[j] = 0.0f;
    for (size_t p = 0; p < P; p++) {
        const float *b = B + p * ldb + n;
        const float w0 = a0[0 * ams + p * aps];
        const float w1 = a0[1 * ams + p * aps];
        const float w2 = a0[2 * ams + p * aps];
        const float w3 = a0[3 * ams + p * aps];
        for (size_t j = 0; j < 16; j++) {
            c0[j] = NN_MADD(w0, b[j], c0[j]);
            c1[j] = NN_MADD(w1, b[j], c1[j]);
            c2[j] = NN_MADD(w2, b[j], c2[j]);
            c3[j] = NN_MADD(w3, b[j], c3[j]);
        }
    }
    {
        const float bb = bias ? bias[m + 0] : 0.0f;
        float *c = C + (m + 0) * ldc + n;
        for (size_t j = 0; j < 16; j++)
            c[j] = c0[j] + bb;
    }
    {
        const float bb = bias ? bias[m + 1] : 0.0f;
        float *c = C + (m + 1) * ldc + n;
        for (size_t j = 0; j < 16; j++)
            c[j] = c1[j] + bb;
    }
    {
        const float bb = bias ? bias[m + 2] : 0.0f;
        float *c = C + (m + 2) * ldc + n;
        for (size_t j = 0; j < 16; j++)
            c[j] = c2[j] + bb;
    }
    {
        const float bb = bias ? bias[m + 3] : 0.0f;
        float *c = C + (m + 3) * ldc + n;
        for (size_t j = 0; j < 16; j++)
            c[j] = c3[j] + bb;
    }
}

static inline void gemm_1x32(size_t m, size_t n, size_t P, const float *restrict A,
                               size_t ams, size_t aps, const float *restrict B, size_t ldb,
                               float *restrict C, size_t ldc, const float *restrict bias)
{
    const float *a0 = A + m * ams;
    float c0[32];
    for (size_t j = 0; j < 32; j++)
        c0[j] = 0.0f;
    for (size_t p = 0; p < P; p++) {
        const float *b = B + p * ldb + n;
        const float w0 = a0[0 * ams + p * aps];
        for (size_t j = 0; j < 32; j++) {
            c0[j] = NN_MADD(w0, b[j], c0[j]);
        }
    }
    {
        const float bb = bias ? bias[m + 0] : 0.0f;
        float *c = C + (m + 0) * ldc + n;
        for (size_t j = 0; j < 32; j++)
            c[j] = c0[j] + bb;
    }
}

static inline void gemm_1x16(size_t m, size_t n, size_t P, const float *restrict A,
                               size_t ams, size_t aps, const float *restrict B, size_t ldb,
                               float *restrict C, size_t ldc, const float *restrict bias)
{
    const float *a0 = A + m * ams;
    float c0[16];
    for (size_t j = 0; j < 16; j++)
        c0[j] = 0.0f;
    for (size_t p = 0; p < P; p++) {
        const float *b = B + p * ldb + n;
        const float w0 = a0[0 * ams + p * aps];
        for (size_t j = 0; j < 16; j++) {
            c0[j] = NN_MADD(w0, b[j], c0[j]);
        }
    }
    {
        const float bb = bias ? bias[m + 0] : 0.0f;
        float *c = C + (m + 0) * ldc + n;
        for (size_t j = 0; j < 16; j++)
            c[j] = c0[j] + bb;
    }
}

static inline void gemm_8x16(size_t m, size_t n, size_t P, const float *restrict A,
                               size_t ams, size_t aps, const float *restrict B, size_t ldb,
                               float *restrict C, size_t ldc, const float *restrict bias)
{
    const float *a0 = A + m * ams;
    float c0[16];
    float c1[16];
    float c2[16];
    float c3[16];
    float c4[16];
    float c5[16];
    float c6[16];
    float c7[16];
    for (size_t j = 0; j < 16; j++)
        c0[j] = c1[j] = c2[j] = c3[j] = c4[j] = c5[j] = c6[j] = c7[j] = 0.0f;
    for (size_t p = 0; p < P; p++) {
        const float *b = B + p * ldb + n;
        const float w0 = a0[0 * ams + p * aps];
        const float w1 = a0[1 * ams + p * aps];
        const float w2 = a0[2 * ams + p * aps];
        const float w3 = a0[3 * ams + p * aps];
        const float w4 = a0[4 * ams + p * aps];
        const float w5 = a0[5 * ams + p * aps];
        const float w6 = a0[6 * ams + p * aps];
        const float w7 = a0[7 * ams + p * aps];
        for (size_t j = 0; j < 16; j++) {
            c0[j] = NN_MADD(w0, b[j], c0[j]);
            c1[j] = NN_MADD(w1, b[j], c1[j]);
            c2[j] = NN_MADD(w2, b[j], c2[j]);
            c3[j] = NN_MADD(w3, b[j], c3[j]);
            c4[j] = NN_MADD(w4, b[j], c4[j]);
            c5[j] = NN_MADD(w5, b[j], c5[j]);
            c6[j] = NN_MADD(w6, b[j], c6[j]);
            c7[j] = NN_MADD(w7, b[j], c7[j]);
        }
    }
    {
        const float bb = bias ? bias[m + 0] : 0.0f;
        float *c = C + (m + 0) * ldc + n;
        for (size_t j = 0; j < 16; j++)
            c[j] = c0[j] + bb;
    }
    {
        const float bb = bias ? bias[m + 1] : 0.0f;
        float *c = C + (m + 1) * ldc + n;
        for (size_t j = 0; j < 16; j++)
            c[j] = c1[j] + bb;
    }
    {
        const float bb = bias ? bias[m + 2] : 0.0f;
        float *c = C + (m + 2) * ldc + n;
        for (size_t j = 0; j < 16; j++)
            c[j] = c2[j] + bb;
    }
    {
        const float bb = bias ? bias[m + 3] : 0.0f;
        float *c = C + (m + 3) * ldc + n;
        for (size_t j = 0; j < 16; j++)
            c[j] = c3[j] + bb;
    }
    {
        const float bb = bias ? bias[m + 4] : 0.0f;
        float *c = C + (m + 4) * ldc + n;
        for (size_t j = 0; j < 16; j++)
            c[j] = c4[j] + bb;
    }
    {
        const float bb = bias ? bias[m + 5] : 0.0f;
        float *c = C + (m + 5) * ldc + n;
        for (size_t j = 0; j < 16; j++)
            c[j] = c5[j] + bb;
    }
    {
        const float bb = bias ? bias[m + 6] : 0.0f;
        float *c = C + (m + 6) * ldc + n;
        for (size_t j = 0; j < 16; j++)
            c[j] = c6[j] + bb;
    }
    {
        const float bb = bias ? bias[m + 7] : 0.0f;
        float *c = C + (m + 7) * ldc + n;
        for (size_t j = 0; j < 16; j++)
            c[j] = c7[j] + bb;
    }
}

static void gemm(size_t M, size_t N, size_t P, const float *restrict A,
                 size_t ams, size_t aps, const float *restrict B, size_t ldb,
                 float *restrict C, size_t ldc, const float *restrict bias)
{
    size_t m = 0;
    if (N == 16) /* narrow: eight rows for enough independent FMA chains */
        for (; m + 8 <= M; m += 8)
            gemm_8x16(m, 0, P, A, ams, aps, B, ldb, C, ldc, bias);
    for (; m + 4 <= M; m += 4) {
        size_t n = 0;
#if defined(__AVX512F__)
        for (; n + 64 <= N; n += 64)
            gemm_4x64(m, n, P, A, ams, aps, B, ldb, C, ldc, bias);
#endif
        for (; n + 32 <= N; n += 32)
            gemm_4x32(m, n, P, A, ams, aps, B, ldb, C, ldc, bias);
        for (; n < N; n += 16)
            gemm_4x16(m, n, P, A, ams, aps, B, ldb, C, ldc, bias);
    }
    for (; m < M; m++) {
        size_t n = 0;
        for (; n + 32 <= N; n += 32)
            gemm_1x32(m, n, P, A, ams, aps, B, ldb, C, ldc, bias);
        for (; n < N; n += 16)
            gemm_1x16(m, n, P, A, ams, aps, B, ldb, C, ldc, bias);
    }
}

/* Column-wise softmax of z (units x ld) into p; leaves the column max in mx
 * and the sum of exponentials in sm (the loss needs both). */
static void softmax_cols(const float *restrict z, float *restrict p,
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
    for (size_t k = 0; k < units; k++) {
        float *pk = p + k * ld;
        for (size_t i = 0; i < ld; i++)
            pk[i] = pk[i] / sm[i];
    }
}

/* y = act(z) elementwise (or column-wise for softmax); z may equal y except
 * for softmax. */
static void activate(nn_model *m, nn_activation a, const float *z, float *y,
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
static void activation_backward(nn_activation a, const float *restrict y,
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

/* ---- construction ---------------------------------------------------------- */

void nn_optimizer_defaults(nn_optimizer_config *c, nn_optimizer_kind kind)
{
    memset(c, 0, sizeof *c);
    c->kind = kind;
    c->beta_1 = 0.9;
    c->beta_2 = 0.999;
    c->epsilon = 1e-7;
    c->momentum = 0.0;
    c->nesterov = 0;
    c->rho = 0.9;
    c->learning_rate = kind == NN_OPT_SGD ? 0.01 : 0.001;
}

static int config_valid(const nn_model_config *c)
{
    if (c->n_inputs == 0 || c->n_layers == 0 || c->n_layers > NN_MAX_LAYERS)
        return 0;
    if ((unsigned)c->loss > (unsigned)NN_LOSS_MEAN_SQUARED_ERROR)
        return 0;
    if ((unsigned)c->optimizer.kind > (unsigned)NN_OPT_RMSPROP)
        return 0;
    for (size_t l = 0; l < c->n_layers; l++) {
        const nn_layer_config *lc = &c->layers[l];
        if (lc->units == 0 || (unsigned)lc->activation > (unsigned)NN_ACT_SOFTMAX ||
            (unsigned)lc->kernel_init > (unsigned)NN_INIT_ZEROS ||
            (unsigned)lc->bias_init > (unsigned)NN_INIT_ZEROS)
            return 0;
    }
    return 1;
}

nn_model *nn_model_new(const nn_model_config *c, size_t max_batch)
{
    if (!c || max_batch == 0 || !config_valid(c))
        return NULL;
    nn_model *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->cfg = *c;
    m->n_layers = c->n_layers;
    m->max_batch = max_batch;
    m->dims[0] = c->n_inputs;
    m->max_units = c->n_inputs;
    size_t np = 0;
    for (size_t l = 0; l < c->n_layers; l++) {
        size_t in = m->dims[l], out = c->layers[l].units, kw, tot;
        m->dims[l + 1] = out;
        if (out > m->max_units)
            m->max_units = out;
        if (!mul_ok(in, out, &kw) || !add_ok(kw, out, &tot))
            goto fail;
        m->koff[l] = np;
        m->boff[l] = np + kw;
        if (!add_ok(np, tot, &np))
            goto fail;
    }
    m->n_params = np;
    m->b1_pow = m->b2_pow = 1.0;
    if (max_batch > SIZE_MAX - NN_LANES || m->max_units > SIZE_MAX - NN_LANES)
        goto fail;
    m->ld_max = round_up(max_batch, NN_LANES);
    m->in_rows = c->n_inputs >= NN_LANES;
    m->max_units_pad = round_up(m->max_units, NN_LANES);

    /* One arena, every block 64-byte aligned (16 floats). */
    size_t blocks[5 * NN_MAX_LAYERS + 32], nb = 0, total = 0, out_units = m->dims[m->n_layers];
    size_t uld, pld, tmp;
    if (!mul_ok(m->max_units, m->ld_max, &uld) || !mul_ok(m->max_units_pad, m->ld_max, &pld) ||
        !mul_ok(m->max_units, m->max_units_pad, &tmp))
        goto fail;
    blocks[nb++] = np; /* params */
    blocks[nb++] = np; /* grads */
    blocks[nb++] = np; /* s1 */
    blocks[nb++] = np; /* s2 */
    for (size_t l = 0; l <= m->n_layers; l++)
        blocks[nb++] = m->dims[l] * m->ld_max; /* <= uld, no overflow */
    blocks[nb++] = out_units * m->ld_max;      /* logits */
    blocks[nb++] = out_units * m->ld_max;      /* ybuf */
    blocks[nb++] = uld;                        /* da */
    blocks[nb++] = uld;                        /* db */
    blocks[nb++] = pld;                        /* dzt */
    blocks[nb++] = tmp;                        /* dwpad */
    for (int i = 0; i < 4; i++)
        blocks[nb++] = m->ld_max; /* mx, sm, li, tmp */
    m->path = tiny_path_ok(m) ? NN_PATH_TINY : wide_path_ok(m) ? NN_PATH_WIDE : NN_PATH_GENERAL;
    size_t wide_first = nb;
    if (m->path == NN_PATH_WIDE) {
        size_t maxld = 0, scratch = 0, v;
        for (size_t l = 0; l <= m->n_layers; l++)
            m->wld[l] = round_up(m->dims[l], NN_LANES); /* dims <= max_units: fits */
        for (size_t l = 0; l <= m->n_layers; l++) {
            if (!mul_ok(max_batch, m->wld[l], &v))
                goto fail;
            blocks[nb++] = v; /* wrow[l] */
            if (l > 0 && l < m->n_layers && m->wld[l] > maxld)
                maxld = m->wld[l];
        }
        for (size_t l = 0; l < m->n_layers; l++) {
            size_t in = m->dims[l], out = m->dims[l + 1], a = 0, b = 0;
            if (l + 1 < m->n_layers && out != m->wld[l + 1] && !mul_ok(in, m->wld[l + 1], &a))
                goto fail;
            if (l > 0 && !mul_ok(out, m->wld[l], &b))
                goto fail;
            blocks[nb++] = a; /* wp[l] (0: none) */
            blocks[nb++] = b; /* wt[l] (0: none) */
            if (a > scratch)
                scratch = a;
        }
        if (!mul_ok(m->dims[m->n_layers], m->wld[m->n_layers - 1], &v))
            goto fail;
        if (v > scratch)
            scratch = v;
        if (!mul_ok(max_batch, maxld ? maxld : 1, &v))
            goto fail;
        blocks[nb++] = v;       /* dh[0] */
        blocks[nb++] = v;       /* dh[1] */
        blocks[nb++] = scratch; /* gwt */
        blocks[nb++] = m->max_units_pad; /* gbacc */
    }
    if (m->path == NN_PATH_TINY) {
        /* np <= 16 layers x (16 x 16 + 16): no overflow */
        blocks[nb++] = round_up(np, 16) * NN_T;          /* gacc */
        blocks[nb++] = (m->n_layers + 1) * TILE;         /* tact */
        for (int i = 0; i < 5; i++)
            blocks[nb++] = TILE;                         /* tlog, ty, tp, td0, td1 */
    }
    for (size_t i = 0; i < nb; i++) {
        if (blocks[i] > SIZE_MAX - NN_LANES)
            goto fail;
        blocks[i] = round_up(blocks[i] ? blocks[i] : 1, NN_LANES);
        if (!add_ok(total, blocks[i], &total))
            goto fail;
    }
    size_t bytes;
    if (!mul_ok(total, sizeof(float), &bytes))
        goto fail;
    m->arena = aligned_alloc(64, bytes);
    if (!m->arena)
        goto fail;
    memset(m->arena, 0, bytes);
    float *p = m->arena;
    size_t bi = 0;
    m->params = p, p += blocks[bi++];
    m->grads = p, p += blocks[bi++];
    m->s1 = p, p += blocks[bi++];
    m->s2 = p, p += blocks[bi++];
    for (size_t l = 0; l <= m->n_layers; l++)
        m->act[l] = p, p += blocks[bi++];
    m->logits = p, p += blocks[bi++];
    m->ybuf = p, p += blocks[bi++];
    m->da = p, p += blocks[bi++];
    m->db = p, p += blocks[bi++];
    m->dzt = p, p += blocks[bi++];
    m->dwpad = p, p += blocks[bi++];
    m->mx = p, p += blocks[bi++];
    m->sm = p, p += blocks[bi++];
    m->li = p, p += blocks[bi++];
    m->tmp = p, p += blocks[bi++];
    if (m->path == NN_PATH_TINY) {
        m->gacc = p, p += blocks[bi++];
        m->tact = p, p += blocks[bi++];
        m->tlog = p, p += blocks[bi++];
        m->ty = p, p += blocks[bi++];
        m->tp = p, p += blocks[bi++];
        m->td0 = p, p += blocks[bi++];
        m->td1 = p, p += blocks[bi++];
    }
    if (m->path == NN_PATH_WIDE) {
        bi = wide_first;
        for (size_t l = 0; l <= m->n_layers; l++)
            m->wrow[l] = p, p += blocks[bi++];
        for (size_t l = 0; l < m->n_layers; l++) {
            int has_wp = l + 1 < m->n_layers && m->dims[l + 1] != m->wld[l + 1];
            int has_wt = l > 0;
            m->wp[l] = has_wp ? p : NULL, p += blocks[bi++];
            m->wt[l] = has_wt ? p : NULL, p += blocks[bi++];
        }
        m->dh[0] = p, p += blocks[bi++];
        m->dh[1] = p, p += blocks[bi++];
        m->gwt = p, p += blocks[bi++];
        m->gbacc = p, p += blocks[bi++];
    }
    return m;
fail:
    nn_model_free(m);
    return NULL;
}

void nn_model_free(nn_model *m)
{
    if (!m)
        return;
    free(m->arena);
    free(m->order);
    free(m);
}

const nn_model_config *nn_model_get_config(const nn_model *m)
{
    return &m->cfg;
}

size_t nn_model_param_count(const nn_model *m)
{
    return m->n_params;
}

float *nn_model_params(nn_model *m)
{
    return m->params;
}

const float *nn_model_params_const(const nn_model *m)
{
    return m->params;
}

float *nn_model_grads(nn_model *m)
{
    return m->grads;
}

size_t nn_model_kernel_offset(const nn_model *m, size_t layer)
{
    return m->koff[layer];
}

size_t nn_model_bias_offset(const nn_model *m, size_t layer)
{
    return m->boff[layer];
}

size_t nn_model_layer_inputs(const nn_model *m, size_t layer)
{
    return m->dims[layer];
}

/* Keras VarianceScaling: fan_in/fan_out of a (in, out) kernel are in/out; of
 * a bias (out,) both are out. Normal variants draw a normal truncated at two
 * standard deviations (redraw outside) with the stddev divided by
 * 0.87962566103423978, the stddev of a standard normal truncated to [-2, 2],
 * so the drawn values have the intended variance. */
static void init_fill(float *w, size_t cnt, nn_init how, size_t fan_in,
                      size_t fan_out, rng_state *r)
{
    double scale, fan;
    switch (how) {
    case NN_INIT_ZEROS:
        memset(w, 0, cnt * sizeof *w);
        return;
    case NN_INIT_GLOROT_UNIFORM:
    case NN_INIT_GLOROT_NORMAL:
        scale = 1.0;
        fan = ((double)fan_in + (double)fan_out) / 2.0;
        break;
    default: /* he */
        scale = 2.0;
        fan = (double)fan_in;
        break;
    }
    if (fan < 1.0)
        fan = 1.0;
    if (how == NN_INIT_GLOROT_UNIFORM || how == NN_INIT_HE_UNIFORM) {
        double limit = sqrt(3.0 * scale / fan);
        for (size_t i = 0; i < cnt; i++)
            w[i] = (float)rng_uniform_range(r, -limit, limit);
    } else {
        double sd = sqrt(scale / fan) / 0.87962566103423978;
        for (size_t i = 0; i < cnt; i++) {
            double z;
            do
                z = rng_normal(r);
            while (fabs(z) > 2.0);
            w[i] = (float)(z * sd);
        }
    }
}

void nn_model_init(nn_model *m, rng_state *r)
{
    for (size_t l = 0; l < m->n_layers; l++) {
        size_t in = m->dims[l], out = m->dims[l + 1];
        init_fill(m->params + m->koff[l], in * out, m->cfg.layers[l].kernel_init,
                  in, out, r);
        init_fill(m->params + m->boff[l], out, m->cfg.layers[l].bias_init, out,
                  out, r);
    }
    memset(m->s1, 0, m->n_params * sizeof *m->s1);
    memset(m->s2, 0, m->n_params * sizeof *m->s2);
    m->step = 0;
    m->b1_pow = m->b2_pow = 1.0;
}

/* ---- summary ---------------------------------------------------------------- */

/* Python's "{:,}". */
static void fmt_thousands(char *buf, size_t cap, size_t v)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%zu", v), o = 0;
    for (int i = 0; i < n && (size_t)o + 2 < cap; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = tmp[i];
    }
    buf[o] = '\0';
}

/* Keras's print_row with positions [29, 55, 65]: column 0 starts with a
 * space, columns 0 and 1 keep two spaces of separation, every line is padded
 * to 65 characters (Keras prints the trailing spaces). */
static void summary_row(FILE *f, const char *c0, const char *c1, const char *c2)
{
    const int pos[3] = {29, 55, 65};
    const char *cols[3] = {c0, c1, c2};
    char line[128];
    int len = 0;
    for (int c = 0; c < 3; c++) {
        int start = c ? pos[c - 1] : 0;
        int space = c != 2 ? 2 : 0;
        int cutoff = pos[c] - start - space;
        if (c == 0)
            line[len++] = ' ';
        int n = (int)strlen(cols[c]);
        if (n > cutoff)
            n = cutoff;
        memcpy(line + len, cols[c], (size_t)n);
        len += n;
        for (int s = 0; s < space; s++)
            line[len++] = ' ';
        while (len < pos[c])
            line[len++] = ' ';
    }
    line[len] = '\0';
    fprintf(f, "%s\n", line);
}

void nn_model_summary(const nn_model *m, FILE *f)
{
    char rule_eq[66], rule_us[66], name[64], shape[64], count[32];
    memset(rule_eq, '=', 65);
    memset(rule_us, '_', 65);
    rule_eq[65] = rule_us[65] = '\0';
    fprintf(f, "Model: \"sequential\"\n%s\n", rule_us);
    summary_row(f, "Layer (type)", "Output Shape", "Param #");
    fprintf(f, "%s\n", rule_eq);
    for (size_t l = 0; l < m->n_layers; l++) {
        if (l == 0)
            snprintf(name, sizeof name, "dense (Dense)");
        else
            snprintf(name, sizeof name, "dense_%zu (Dense)", l);
        snprintf(shape, sizeof shape, "(None, %zu)", m->dims[l + 1]);
        snprintf(count, sizeof count, "%zu", m->dims[l] * m->dims[l + 1] + m->dims[l + 1]);
        summary_row(f, name, shape, count);
        summary_row(f, "", "", "");
    }
    fprintf(f, "%s\n", rule_eq);
    fmt_thousands(count, sizeof count, m->n_params);
    fprintf(f, "Total params: %s\nTrainable params: %s\nNon-trainable params: 0\n%s\n",
            count, count, rule_us);
}

/* ---- one batch ---------------------------------------------------------------- */

/* Rows idx[0..nb) (or start.. when idx is NULL) of x into act[0] and of y
 * into ybuf, feature-major. Wide inputs (>= 16 features, the digits) are
 * instead copied as rows (nb x inputs): transposing 64 features per row cost
 * more than the first layer's arithmetic, and the first layer reads its
 * input as the broadcast operand in both of its products, where any stride
 * is free. */
static void gather(nn_model *m, const float *restrict x, const float *restrict y,
                   const uint32_t *idx, size_t start, size_t nb, size_t ld)
{
    size_t nin = m->dims[0], nout = m->dims[m->n_layers];
    float *restrict a0 = m->act[0];
    float *restrict yb = m->ybuf;
    for (size_t i = 0; i < nb; i++) {
        size_t row = idx ? idx[i] : start + i;
        const float *xr = x + row * nin;
        if (m->in_rows) /* a loop, not memcpy: 256 bytes, inlined */
            for (size_t k = 0; k < nin; k++)
                a0[i * nin + k] = xr[k];
        else
            for (size_t k = 0; k < nin; k++)
                a0[k * ld + i] = xr[k];
        if (y) {
            const float *yr = y + row * nout;
            for (size_t k = 0; k < nout; k++)
                yb[k * ld + i] = yr[k];
        }
    }
}

/* Output-layer handling: softmax + CCE and sigmoid + BCE are computed from
 * the logits like TF does; everything else from the output values. */
static int fused_softmax_cce(const nn_model *m)
{
    return m->cfg.loss == NN_LOSS_CATEGORICAL_CROSSENTROPY &&
           m->cfg.layers[m->n_layers - 1].activation == NN_ACT_SOFTMAX;
}

static int fused_sigmoid_bce(const nn_model *m)
{
    return m->cfg.loss == NN_LOSS_BINARY_CROSSENTROPY &&
           m->cfg.layers[m->n_layers - 1].activation == NN_ACT_SIGMOID;
}

static void forward(nn_model *m, size_t nb, size_t ld)
{
    size_t L = m->n_layers;
    for (size_t l = 0; l < L; l++) {
        size_t in = m->dims[l], out = m->dims[l + 1];
        const float *w = m->params + m->koff[l], *b = m->params + m->boff[l];
        float *z = l + 1 == L ? m->logits : m->act[l + 1];
        if (l == 0 && m->in_rows) {
            /* rows x kernel into dzt (nb x outp), then transposed with the
             * bias added. The kernel is read in blocks of 16 columns, so up
             * to 15 floats past its end are read (the bias, the next block
             * of the arena): they only reach columns >= out, never used. */
            size_t outp = round_up(out, NN_LANES);
            gemm(nb, outp, in, m->act[0], in, 1, w, out, m->dzt, outp, NULL);
            for (size_t o = 0; o < out; o++)
                for (size_t i = 0; i < nb; i++)
                    z[o * ld + i] = m->dzt[i * outp + o] + b[o];
        } else {
            gemm(out, ld, in, w, 1, out, m->act[l], ld, z, ld, b);
        }
        activate(m, m->cfg.layers[l].activation, z, m->act[l + 1], out, ld);
    }
}

/* Per-sample losses of the last forward pass; returns their sum over the nb
 * real rows (double) and adds the correct predictions to *correct. When
 * delta is non-NULL it receives dLoss/dlogits of the batch-mean loss
 * (units x ld). */
static double batch_loss(nn_model *m, size_t nb, size_t ld, float *delta,
                         double *correct)
{
    const size_t K = m->dims[m->n_layers];
    const float *restrict z = m->logits;
    const float *restrict p = m->act[m->n_layers];
    const float *restrict y = m->ybuf;
    float *restrict li = m->li;
    const float eps = 1e-7f;
    const float inv_n = 1.0f / (float)nb;
    const float inv_k = 1.0f / (float)K;

    for (size_t i = 0; i < ld; i++)
        li[i] = 0.0f;
    if (fused_softmax_cce(m)) {
        /* -sum_k y_k log softmax_k = sum_k y_k (log s - (z_k - max)) */
        float *restrict ls = m->tmp;
        for (size_t i = 0; i < ld; i++)
            ls[i] = nn_logf(m->sm[i]);
        for (size_t k = 0; k < K; k++)
            for (size_t i = 0; i < ld; i++)
                li[i] += y[k * ld + i] * (ls[i] - (z[k * ld + i] - m->mx[i]));
        if (delta)
            for (size_t k = 0; k < K * ld; k++)
                delta[k] = (p[k] - y[k]) * inv_n;
    } else if (fused_sigmoid_bce(m)) {
        /* TF sigmoid_cross_entropy_with_logits, mean over units */
        for (size_t k = 0; k < K; k++)
            for (size_t i = 0; i < nb; i++) {
                float zz = z[k * ld + i], yy = y[k * ld + i];
                float l = (zz > 0.0f ? zz : 0.0f) - zz * yy + log1pf(nn_expf(-fabsf(zz)));
                li[i] += l;
            }
        for (size_t i = 0; i < ld; i++)
            li[i] = li[i] * inv_k;
        if (delta) {
            float sc = inv_k * inv_n;
            for (size_t k = 0; k < K * ld; k++)
                delta[k] = (p[k] - y[k]) * sc;
        }
    } else if (m->cfg.loss == NN_LOSS_CATEGORICAL_CROSSENTROPY) {
        /* Keras probability path: q = p / sum p, clip to [eps, 1-eps],
         * -sum y log q. Gradient zero where the clip is active. */
        float *restrict s = m->tmp;
        float *restrict gq = m->mx; /* sum_k g_k q_k */
        for (size_t i = 0; i < ld; i++)
            s[i] = 0.0f, gq[i] = 0.0f;
        for (size_t k = 0; k < K; k++)
            for (size_t i = 0; i < ld; i++)
                s[i] += p[k * ld + i];
        for (size_t k = 0; k < K; k++)
            for (size_t i = 0; i < nb; i++) {
                float q = p[k * ld + i] / s[i];
                int in = !(q < eps) && !(q > 1.0f - eps);
                float c = q < eps ? eps : (q > 1.0f - eps ? 1.0f - eps : q);
                float yy = y[k * ld + i];
                li[i] -= yy * nn_logf(c);
                if (delta) {
                    float g = in ? -yy / c : 0.0f;
                    delta[k * ld + i] = g;
                    gq[i] += g * q;
                }
            }
        if (delta) {
            for (size_t k = 0; k < K; k++)
                for (size_t i = 0; i < ld; i++)
                    delta[k * ld + i] = i < nb ? (delta[k * ld + i] - gq[i]) / s[i] * inv_n : 0.0f;
            activation_backward(m->cfg.layers[m->n_layers - 1].activation, p, delta, K, ld, m->tmp);
        }
    } else if (m->cfg.loss == NN_LOSS_BINARY_CROSSENTROPY) {
        /* Keras backend binary_crossentropy on probabilities */
        for (size_t k = 0; k < K; k++)
            for (size_t i = 0; i < nb; i++) {
                float pp = p[k * ld + i], yy = y[k * ld + i];
                int in = !(pp < eps) && !(pp > 1.0f - eps);
                float c = pp < eps ? eps : (pp > 1.0f - eps ? 1.0f - eps : pp);
                float l = yy * nn_logf(c + eps) + (1.0f - yy) * nn_logf(1.0f - c + eps);
                li[i] -= l;
                if (delta)
                    delta[k * ld + i] = in ? -(yy / (c + eps) - (1.0f - yy) / (1.0f - c + eps)) * inv_k * inv_n : 0.0f;
            }
        for (size_t i = 0; i < ld; i++)
            li[i] = li[i] * inv_k;
        if (delta) {
            for (size_t k = 0; k < K; k++)
                for (size_t i = nb; i < ld; i++)
                    delta[k * ld + i] = 0.0f;
            activation_backward(m->cfg.layers[m->n_layers - 1].activation, p, delta, K, ld, m->tmp);
        }
    } else { /* mean squared error, mean over units */
        for (size_t k = 0; k < K; k++)
            for (size_t i = 0; i < ld; i++) {
                float d = p[k * ld + i] - y[k * ld + i];
                li[i] += d * d;
                if (delta)
                    delta[k * ld + i] = i < nb ? 2.0f * d * inv_k * inv_n : 0.0f;
            }
        for (size_t i = 0; i < ld; i++)
            li[i] = li[i] * inv_k;
        if (delta)
            activation_backward(m->cfg.layers[m->n_layers - 1].activation, p, delta, K, ld, m->tmp);
    }
    if (delta) /* padding columns must not feed any reduction */
        for (size_t k = 0; k < K; k++)
            for (size_t i = nb; i < ld; i++)
                delta[k * ld + i] = 0.0f;

    double sum = 0.0;
    for (size_t i = 0; i < nb; i++)
        sum += (double)li[i];

    /* Keras "accuracy": binary_accuracy (threshold 0.5) for one output unit,
     * categorical_accuracy (argmax, first maximum) otherwise. */
    size_t ok = 0;
    if (K == 1) {
        for (size_t i = 0; i < nb; i++)
            ok += (p[i] > 0.5f ? 1.0f : 0.0f) == y[i];
    } else {
        /* first maximum of each column, all rows at once, for p then y
         * (the loss scratch is free again: v = value, bp / by = class) */
        float *restrict v = m->mx, *restrict bp = m->sm, *restrict by = m->tmp;
        for (int pass = 0; pass < 2; pass++) {
            const float *restrict q = pass ? y : p;
            float *restrict b = pass ? by : bp;
            for (size_t i = 0; i < ld; i++) {
                v[i] = q[i];
                b[i] = 0.0f;
            }
            for (size_t k = 1; k < K; k++) {
                const float fk = (float)k, *restrict qk = q + k * ld;
                for (size_t i = 0; i < ld; i++) {
                    b[i] = qk[i] > v[i] ? fk : b[i];
                    v[i] = qk[i] > v[i] ? qk[i] : v[i];
                }
            }
        }
        for (size_t i = 0; i < nb; i++)
            ok += bp[i] == by[i];
    }
    *correct += (double)ok;
    return sum;
}

/* Gradient of the batch-mean loss into m->grads, from the delta of the
 * output logits (in m->da). The first layer's input delta is not needed. */
static void backward(nn_model *m, size_t nb, size_t ld)
{
    float *d = m->da, *dn = m->db;
    for (size_t l = m->n_layers; l-- > 0;) {
        size_t in = m->dims[l], out = m->dims[l + 1];
        size_t outp = round_up(out, NN_LANES);
        float *gw = m->grads + m->koff[l], *gb = m->grads + m->boff[l];

        for (size_t o = 0; o < out; o++) {
            const float *dr = d + o * ld;
            float acc[NN_LANES] = {0};
            for (size_t i0 = 0; i0 < ld; i0 += NN_LANES)
                for (size_t j = 0; j < NN_LANES; j++)
                    acc[j] += dr[i0 + j]; /* padding columns hold 0 */
            float s = 0.0f;
            for (size_t j = 0; j < NN_LANES; j++)
                s += acc[j];
            gb[o] = s;
        }
        /* dW[k][o] = sum_i act[k][i] * d[o][i], with d transposed so that
         * the product's inner loop runs over contiguous output units. */
        float *restrict dzt = m->dzt;
        for (size_t i = 0; i < nb; i++)
            for (size_t o = 0; o < out; o++)
                dzt[i * outp + o] = d[o * ld + i];
        size_t ams = ld, aps = 1; /* a(k, i) = act[l][k][i] */
        if (l == 0 && m->in_rows)
            ams = 1, aps = in;    /* input kept as rows */
        if (out == outp) {
            gemm(in, outp, nb, m->act[l], ams, aps, dzt, outp, gw, out, NULL);
        } else {
            gemm(in, outp, nb, m->act[l], ams, aps, dzt, outp, m->dwpad, outp, NULL);
            for (size_t k = 0; k < in; k++)
                memcpy(gw + k * out, m->dwpad + k * outp, out * sizeof *gw);
        }
        if (l > 0) {
            const float *w = m->params + m->koff[l];
            gemm(in, ld, out, w, out, 1, d, ld, dn, ld, NULL);
            activation_backward(m->cfg.layers[l - 1].activation, m->act[l], dn, in, ld, m->tmp);
            float *t = d;
            d = dn;
            dn = t;
        }
    }
}

/* One optimizer step with m->grads, Keras's update formulas in float32.
 * Adam's alpha_t = lr sqrt(1 - b2^t) / (1 - b1^t) is formed from float32
 * factors as TF does (b^t kept as a running product in double of the float
 * base, rounded to float: the same value as TF's float pow up to rounding in
 * the last place, at rare steps). */
static void apply_update(nn_model *m)
{
    const nn_optimizer_config *c = &m->cfg.optimizer;
    const size_t n = m->n_params;
    float *restrict th = m->params;
    const float *restrict g = m->grads;
    float *restrict s1 = m->s1;
    float *restrict s2 = m->s2;
    const float lr = (float)c->learning_rate;
    m->step++;
    switch (c->kind) {
    case NN_OPT_ADAM: {
        const float b1 = (float)c->beta_1, b2 = (float)c->beta_2, eps = (float)c->epsilon;
        m->b1_pow *= (double)b1; /* running products: pow() per step costs */
        m->b2_pow *= (double)b2; /* more than Adam itself on the XOR model */
        const float b1p = (float)m->b1_pow, b2p = (float)m->b2_pow;
        const float alpha = lr * sqrtf(1.0f - b2p) / (1.0f - b1p);
        const float o1 = 1.0f - b1, o2 = 1.0f - b2;
        for (size_t i = 0; i < n; i++) {
            float gi = g[i];
            float mi = s1[i] + (gi - s1[i]) * o1;
            float vi = s2[i] + (gi * gi - s2[i]) * o2;
            s1[i] = mi;
            s2[i] = vi;
            th[i] = th[i] - (mi * alpha) / (sqrtf(vi) + eps);
        }
        break;
    }
    case NN_OPT_SGD: {
        const float mu = (float)c->momentum;
        if (c->momentum == 0.0) {
            for (size_t i = 0; i < n; i++)
                th[i] = th[i] - g[i] * lr;
        } else if (!c->nesterov) {
            for (size_t i = 0; i < n; i++) {
                float v = s1[i] * mu - g[i] * lr;
                s1[i] = v;
                th[i] = th[i] + v;
            }
        } else {
            for (size_t i = 0; i < n; i++) {
                float v = s1[i] * mu - g[i] * lr;
                s1[i] = v;
                th[i] = th[i] + (v * mu - g[i] * lr);
            }
        }
        break;
    }
    case NN_OPT_RMSPROP: {
        const float rho = (float)c->rho, eps = (float)c->epsilon, orho = 1.0f - rho;
        for (size_t i = 0; i < n; i++) {
            float s = rho * s1[i] + orho * (g[i] * g[i]);
            s1[i] = s;
            th[i] = th[i] - lr * g[i] / sqrtf(s + eps);
        }
        break;
    }
    }
}

void nn_model_apply_gradient(nn_model *m, const float *grad)
{
    if (grad != m->grads)
        memcpy(m->grads, grad, m->n_params * sizeof *grad);
    apply_update(m);
}

double nn_model_loss_grad(nn_model *m, const float *x, const float *y, size_t n,
                          float **grad_out)
{
    if (grad_out)
        *grad_out = m->grads;
    if (n == 0 || n > m->max_batch)
        return NAN;
    size_t ld = round_up(n, NN_LANES);
    double correct = 0.0;
    gather(m, x, y, NULL, 0, n, ld);
    forward(m, n, ld);
    double sum = batch_loss(m, n, ld, m->da, &correct);
    backward(m, n, ld);
    return sum / (double)n;
}

/* ---- fast path 1: tiny networks (the XOR lab model) -------------------------
 *
 * When every layer (and the input) has at most NN_TINY_MAX units and the
 * output is softmax + categorical cross-entropy, nn_fit and nn_evaluate run
 * the whole network on chunks of NN_T = 16 rows at a time: all activations
 * and deltas of a chunk live in small fixed (units x 16) tiles in the arena
 * (a few KB, always in L1), every inner loop is one 16-lane vector
 * operation, and there is no per-layer matrix-product dispatch, padding to
 * clear or transpose. The kernel gradient is accumulated per lane over the
 * chunks of a batch (gacc: 16 partial sums per parameter) and reduced once
 * per batch. For Dense(6, relu) -> Dense(2, softmax) a batch of 32 is about
 * a hundred vector instructions per chunk; the general path spent most of
 * its time on call overhead and on loops over padding.
 *
 * Same arithmetic as the general path (forward sums in input-unit order,
 * then + bias; the same softmax / loss / delta formulas); only the order in
 * which the batch's rows are summed into the gradient and the loss differs,
 * i.e. results agree to float rounding (test_nn checks it). */
static int tiny_path_ok(const nn_model *m)
{
    if (!fused_softmax_cce(m))
        return 0;
    for (size_t l = 0; l <= m->n_layers; l++)
        if (m->dims[l] > NN_TINY_MAX)
            return 0;
    for (size_t l = 0; l + 1 < m->n_layers; l++)
        if (m->cfg.layers[l].activation == NN_ACT_SOFTMAX)
            return 0;
    return 1;
}

/* Rows idx[0..nv) (or start.. when idx is NULL) into the input tile and the
 * target tile, lane j = row j; lanes >= nv are zero. */
/* Units of layer boundary l (0 = inputs, L = outputs) in the tiny path: the
 * shape arguments are compile-time constants in the specialised copies (H is
 * the hidden width of a two-layer model there, 0 otherwise). */
static inline size_t tiny_dim(const nn_model *m, size_t l, size_t L, size_t nin, size_t H,
                              size_t K)
{
    return l == 0 ? nin : l == L ? K : H ? H : m->dims[l];
}

static inline void tiny_gather(nn_model *m, const float *restrict x, const float *restrict y,
                               const uint32_t *idx, size_t start, size_t nv, size_t nin,
                               size_t K)
{
    float *restrict a0 = m->tact;
    float *restrict yb = m->ty;
    for (size_t j = 0; j < NN_T; j++) {
        if (j < nv) {
            size_t row = idx ? idx[j] : start + j;
            for (size_t k = 0; k < nin; k++)
                a0[k * NN_T + j] = x[row * nin + k];
            if (y)
                for (size_t k = 0; k < K; k++)
                    yb[k * NN_T + j] = y[row * K + k];
        } else {
            for (size_t k = 0; k < nin; k++)
                a0[k * NN_T + j] = 0.0f;
            for (size_t k = 0; k < K; k++)
                yb[k * NN_T + j] = 0.0f;
        }
    }
}

static inline void tiny_forward(nn_model *m, size_t L, size_t nin, size_t H, size_t K)
{
    for (size_t l = 0; l < L; l++) {
        const size_t in = tiny_dim(m, l, L, nin, H, K), out = tiny_dim(m, l + 1, L, nin, H, K);
        const float *restrict w = m->params + m->koff[l];
        const float *restrict b = m->params + m->boff[l];
        const float *restrict a = m->tact + l * TILE;
        float *restrict z = l + 1 == L ? m->tlog : m->tact + (l + 1) * TILE;
        for (size_t o = 0; o < out; o++) {
            float acc[NN_T];
            for (size_t j = 0; j < NN_T; j++)
                acc[j] = 0.0f;
            for (size_t k = 0; k < in; k++) {
                const float wk = w[k * out + o];
                for (size_t j = 0; j < NN_T; j++)
                    acc[j] = NN_MADD(wk, a[k * NN_T + j], acc[j]);
            }
            const float bo = b[o];
            for (size_t j = 0; j < NN_T; j++)
                z[o * NN_T + j] = acc[j] + bo;
        }
        if (l + 1 < L)
            activate(m, m->cfg.layers[l].activation, z, z, out, NN_T);
    }
}

/* Softmax + cross-entropy of the chunk's logits (lanes < nv are rows):
 * returns the sum of the per-row losses, counts correct rows into *ok, and
 * writes dLoss/dlogits of the batch mean (1/n = inv_n) into d when not NULL
 * (zero in the empty lanes). Formulas as batch_loss. */
static inline double tiny_loss(nn_model *m, size_t nv, float inv_n, float *restrict d,
                               size_t *ok, size_t K)
{
    const float *restrict z = m->tlog;
    const float *restrict y = m->ty;
    float *restrict p = m->tp;
    float mx[NN_T], sm[NN_T], li[NN_T], ls[NN_T];
    softmax_cols(z, p, K, NN_T, mx, sm);
    for (size_t j = 0; j < NN_T; j++) {
        ls[j] = nn_logf(sm[j]);
        li[j] = 0.0f;
    }
    for (size_t k = 0; k < K; k++)
        for (size_t j = 0; j < NN_T; j++)
            li[j] += y[k * NN_T + j] * (ls[j] - (z[k * NN_T + j] - mx[j]));
    if (d)
        for (size_t k = 0; k < K; k++)
            for (size_t j = 0; j < NN_T; j++)
                d[k * NN_T + j] = j < nv ? (p[k * NN_T + j] - y[k * NN_T + j]) * inv_n : 0.0f;
    /* per-row sums in double, pairwise over the lanes */
    double s8[8];
    for (size_t j = 0; j < 8; j++)
        s8[j] = (j < nv ? (double)li[j] : 0.0) + (j + 8 < nv ? (double)li[j + 8] : 0.0);
    double sum = ((s8[0] + s8[4]) + (s8[2] + s8[6])) + ((s8[1] + s8[5]) + (s8[3] + s8[7]));
    /* Keras accuracy as batch_loss: threshold for one unit, first argmax */
    size_t good = 0;
    if (K == 1) {
        for (size_t j = 0; j < nv; j++)
            good += (p[j] > 0.5f ? 1.0f : 0.0f) == y[j];
    } else {
        int bp[NN_T], by[NN_T];
        float vp[NN_T], vy[NN_T];
        for (size_t j = 0; j < NN_T; j++) {
            bp[j] = by[j] = 0;
            vp[j] = p[j];
            vy[j] = y[j];
        }
        for (size_t k = 1; k < K; k++)
            for (size_t j = 0; j < NN_T; j++) {
                const float pk = p[k * NN_T + j], yk = y[k * NN_T + j];
                bp[j] = pk > vp[j] ? (int)k : bp[j];
                vp[j] = pk > vp[j] ? pk : vp[j];
                by[j] = yk > vy[j] ? (int)k : by[j];
                vy[j] = yk > vy[j] ? yk : vy[j];
            }
        for (size_t j = 0; j < nv; j++)
            good += bp[j] == by[j];
    }
    *ok += good;
    return sum;
}

/* Adds the chunk's gradient (output delta in d) to the per-lane sums gacc. */
static inline void tiny_backward(nn_model *m, float *d, size_t L, size_t nin, size_t H,
                                 size_t K)
{
    float *dn = d == m->td0 ? m->td1 : m->td0;
    for (size_t l = L; l-- > 0;) {
        const size_t in = tiny_dim(m, l, L, nin, H, K), out = tiny_dim(m, l + 1, L, nin, H, K);
        const float *restrict a = m->tact + l * TILE;
        float *restrict gw = m->gacc + m->koff[l] * NN_T;
        float *restrict gb = m->gacc + m->boff[l] * NN_T;
        const float *restrict dd = d;
        for (size_t o = 0; o < out; o++)
            for (size_t j = 0; j < NN_T; j++)
                gb[o * NN_T + j] += dd[o * NN_T + j];
        for (size_t k = 0; k < in; k++)
            for (size_t o = 0; o < out; o++) {
                float *restrict g = gw + (k * out + o) * NN_T;
                for (size_t j = 0; j < NN_T; j++)
                    g[j] = NN_MADD(a[k * NN_T + j], dd[o * NN_T + j], g[j]);
            }
        if (l > 0) {
            const float *restrict w = m->params + m->koff[l];
            float *restrict dp = dn;
            for (size_t k = 0; k < in; k++) {
                float acc[NN_T];
                for (size_t j = 0; j < NN_T; j++)
                    acc[j] = 0.0f;
                for (size_t o = 0; o < out; o++) {
                    const float wk = w[k * out + o];
                    for (size_t j = 0; j < NN_T; j++)
                        acc[j] = NN_MADD(wk, dd[o * NN_T + j], acc[j]);
                }
                for (size_t j = 0; j < NN_T; j++)
                    dp[k * NN_T + j] = acc[j];
            }
            activation_backward(m->cfg.layers[l - 1].activation, a, dp, in, NN_T, m->tp);
            float *t = d;
            d = dn;
            dn = t;
        }
    }
}

/* grads = the lane sums of gacc, gacc cleared for the next batch. gacc has
 * room for a multiple of 16 parameters (the extra rows stay zero). With
 * AVX-512, sixteen parameters are reduced at once by a transposing add tree
 * (45 instructions instead of ~35 per parameter); otherwise pairwise. */
#if defined(__AVX512F__)
#include <immintrin.h>
static void tiny_reduce16(float *restrict g, float *restrict out)
{
    __m512 v[16];
    for (int i = 0; i < 16; i++) {
        v[i] = _mm512_load_ps(g + 16 * i);
        _mm512_store_ps(g + 16 * i, _mm512_setzero_ps());
    }
    /* level 1: 256-bit halves. u[i] = [v2i.lo + v2i.hi | v2i+1.lo + v2i+1.hi] */
    __m512 u[8];
    for (int i = 0; i < 8; i++) {
        __m512 a = _mm512_shuffle_f32x4(v[2 * i], v[2 * i + 1], 0x44); /* a.lo, b.lo */
        __m512 b = _mm512_shuffle_f32x4(v[2 * i], v[2 * i + 1], 0xEE); /* a.hi, b.hi */
        u[i] = _mm512_add_ps(a, b);
    }
    /* level 2: 128-bit quarters */
    __m512 w[4];
    for (int i = 0; i < 4; i++) {
        __m512 a = _mm512_shuffle_f32x4(u[2 * i], u[2 * i + 1], 0x88); /* q0 q2 of each */
        __m512 b = _mm512_shuffle_f32x4(u[2 * i], u[2 * i + 1], 0xDD); /* q1 q3 of each */
        w[i] = _mm512_add_ps(a, b);
    }
    /* level 3 and 4: within 128-bit lanes */
    __m512 x0 = _mm512_add_ps(_mm512_unpacklo_ps(w[0], w[1]), _mm512_unpackhi_ps(w[0], w[1]));
    __m512 x1 = _mm512_add_ps(_mm512_unpacklo_ps(w[2], w[3]), _mm512_unpackhi_ps(w[2], w[3]));
    __m512 y = _mm512_add_ps(
        _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(x0), _mm512_castps_pd(x1))),
        _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(x0), _mm512_castps_pd(x1))));
    _mm512_store_ps(out, y);
}
#endif

static void tiny_reduce(nn_model *m)
{
    float *restrict g = m->gacc;
    float *restrict out = m->grads;
    size_t q = 0;
#if defined(__AVX512F__)
    /* after the tree, parameter i of the block is in lane 4 (i % 4) + i / 4 */
    static const int perm[16] = {0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15};
    for (; q < m->n_params; q += 16, g += 16 * NN_T) {
        float tmp[16];
        tiny_reduce16(g, tmp);
        size_t cnt = m->n_params - q < 16 ? m->n_params - q : 16;
        for (size_t i = 0; i < cnt; i++)
            out[q + i] = tmp[perm[i]];
    }
#endif
    for (; q < m->n_params; q++, g += NN_T) {
        float s8[8];
        for (size_t j = 0; j < 8; j++)
            s8[j] = g[j] + g[j + 8];
        out[q] = ((s8[0] + s8[4]) + (s8[2] + s8[6])) + ((s8[1] + s8[5]) + (s8[3] + s8[7]));
        for (size_t j = 0; j < NN_T; j++)
            g[j] = 0.0f;
    }
}

/* One training batch, rows idx[0..nb): returns the sum of the rows' losses
 * (before the update) and leaves the batch-mean gradient in m->grads. */
static inline double tiny_batch_shape(nn_model *m, const float *x, const float *y,
                                      const uint32_t *idx, size_t nb, size_t *ok,
                                      size_t nin, size_t H, size_t K, size_t L)
{
    const float inv_n = 1.0f / (float)nb;
    double sum = 0.0;
    for (size_t c = 0; c < nb; c += NN_T) {
        size_t nv = nb - c < NN_T ? nb - c : NN_T;
        tiny_gather(m, x, y, idx + c, 0, nv, nin, K);
        tiny_forward(m, L, nin, H, K);
        sum += tiny_loss(m, nv, inv_n, m->td0, ok, K);
        tiny_backward(m, m->td0, L, nin, H, K);
    }
    tiny_reduce(m);
    return sum;
}

static inline void tiny_evaluate_shape(nn_model *m, const float *x, const float *y,
                                       size_t n, double *sum, size_t *ok, size_t nin,
                                       size_t H, size_t K, size_t L)
{
    for (size_t s = 0; s < n; s += NN_T) {
        size_t nv = n - s < NN_T ? n - s : NN_T;
        tiny_gather(m, x, y, NULL, s, nv, nin, K);
        tiny_forward(m, L, nin, H, K);
        *sum += tiny_loss(m, nv, 1.0f, NULL, ok, K);
    }
}

/* The XOR lab shape (2 inputs, one hidden layer, 2 classes) gets its own
 * copy with the shape known at compile time: the loops over inputs, classes
 * and layers unroll, which halves its time. */
static int tiny_is_xor(const nn_model *m)
{
    return m->n_layers == 2 && m->dims[0] == 2 && m->dims[2] == 2;
}

#define TINY_XOR(H)                                                                \
    case H:                                                                        \
        return tiny_batch_shape(m, x, y, idx, nb, ok, 2, H, 2, 2)

static double tiny_batch(nn_model *m, const float *x, const float *y,
                         const uint32_t *idx, size_t nb, size_t *ok)
{
    if (tiny_is_xor(m))
        switch (m->dims[1]) {
            TINY_XOR(1);
            TINY_XOR(2);
            TINY_XOR(3);
            TINY_XOR(4);
            TINY_XOR(5);
            TINY_XOR(6);
            TINY_XOR(7);
            TINY_XOR(8);
        default:
            return tiny_batch_shape(m, x, y, idx, nb, ok, 2, 0, 2, 2);
        }
    return tiny_batch_shape(m, x, y, idx, nb, ok, m->dims[0], 0, m->dims[m->n_layers],
                            m->n_layers);
}
#undef TINY_XOR

static void tiny_evaluate(nn_model *m, const float *x, const float *y, size_t n,
                          double *sum, size_t *ok)
{
    if (tiny_is_xor(m))
        tiny_evaluate_shape(m, x, y, n, sum, ok, 2, 0, 2, 2);
    else
        tiny_evaluate_shape(m, x, y, n, sum, ok, m->dims[0], 0, m->dims[m->n_layers],
                            m->n_layers);
}

/* ---- fast path 2: wide inputs (the digits models) ---------------------------
 *
 * For softmax + cross-entropy models whose input has at least 16 features,
 * nn_fit and nn_evaluate keep the hidden activations and deltas batch-major
 * (rows x units, units padded to a multiple of 16 with zeros), the layout in
 * which every product of the hidden layers is a plain row-times-kernel
 * product over Keras's (in x out) kernel: no transposes of 64-unit
 * activations, and full 16-lane vectors whenever a width is a multiple of 16.
 * Only the output layer (at most 16 classes) goes through the general path's
 * feature-major softmax / loss code: its logits (rows x 16) are transposed,
 * which is 10 values per row. Per step the kernels whose width is not a
 * multiple of 16 are copied zero-padded (wp), and the kernels needed for the
 * input deltas transposed (wt); both are small (640 values for Dense(10)).
 * Sums run in the same order as in the general path (input unit order for
 * the forward, row order for the gradients), so results agree to rounding. */
static int wide_path_ok(const nn_model *m)
{
    if (!fused_softmax_cce(m) || m->dims[0] < NN_LANES || m->dims[m->n_layers] > NN_LANES)
        return 0;
    for (size_t l = 0; l + 1 < m->n_layers; l++)
        if (m->cfg.layers[l].activation == NN_ACT_SOFTMAX)
            return 0;
    return 1;
}

/* Padded / transposed kernel copies for the step about to run. */
static void wide_prepare(nn_model *m)
{
    const size_t L = m->n_layers;
    for (size_t l = 0; l < L; l++) {
        const size_t in = m->dims[l], out = m->dims[l + 1];
        const float *restrict w = m->params + m->koff[l];
        if (m->wp[l]) {
            const size_t ldo = m->wld[l + 1];
            float *restrict wp = m->wp[l];
            for (size_t k = 0; k < in; k++) /* padding stays zero */
                for (size_t o = 0; o < out; o++)
                    wp[k * ldo + o] = w[k * out + o];
        }
        if (m->wt[l]) { /* padding columns were zeroed with the arena */
            const size_t ldi = m->wld[l];
            float *restrict wt = m->wt[l];
            for (size_t k = 0; k < in; k++)
                for (size_t o = 0; o < out; o++)
                    wt[o * ldi + k] = w[k * out + o];
        }
    }
}

/* Rows idx[0..nb) (or start..) of x into wrow[0] (rows x wld[0], padding
 * columns stay zero) and of y into ybuf (feature-major, as gather()). */
static void wide_gather(nn_model *m, const float *restrict x, const float *restrict y,
                        const uint32_t *idx, size_t start, size_t nb, size_t ld)
{
    const size_t nin = m->dims[0], K = m->dims[m->n_layers], ld0 = m->wld[0];
    float *restrict a0 = m->wrow[0];
    float *restrict yb = m->ybuf;
    for (size_t i = 0; i < nb; i++) {
        size_t row = idx ? idx[i] : start + i;
        const float *xr = x + row * nin;
        for (size_t k = 0; k < nin; k++)
            a0[i * ld0 + k] = xr[k];
        if (y) {
            const float *yr = y + row * K;
            for (size_t k = 0; k < K; k++)
                yb[k * ld + i] = yr[k];
        }
    }
}

static void wide_forward(nn_model *m, size_t nb, size_t ld)
{
    const size_t L = m->n_layers;
    for (size_t l = 0; l < L; l++) {
        const size_t in = m->dims[l], out = m->dims[l + 1];
        const size_t lda = m->wld[l], ldo = m->wld[l + 1];
        /* The output kernel is read in place with rows of 16 floats: up to
         * 15 floats past its end are read (its bias, the next arena block);
         * they only reach columns >= out of z, never read. */
        const float *w = m->wp[l] ? m->wp[l] : m->params + m->koff[l];
        const size_t ldw = m->wp[l] ? ldo : out;
        const float *restrict b = m->params + m->boff[l];
        float *restrict z = m->wrow[l + 1];
        gemm(nb, ldo, in, m->wrow[l], lda, 1, w, ldw, z, ldo, NULL);
        if (l + 1 < L) {
            for (size_t i = 0; i < nb; i++)
                for (size_t o = 0; o < out; o++)
                    z[i * ldo + o] += b[o];
            activate(m, m->cfg.layers[l].activation, z, z, nb, ldo);
        } else {
            float *restrict lg = m->logits;
            for (size_t k = 0; k < out; k++) {
                for (size_t i = 0; i < nb; i++)
                    lg[k * ld + i] = z[i * ldo + k] + b[k];
                for (size_t i = nb; i < ld; i++)
                    lg[k * ld + i] = 0.0f;
            }
            softmax_cols(lg, m->act[L], out, ld, m->mx, m->sm);
        }
    }
}

/* Gradient of the batch-mean loss into m->grads from the output delta
 * (feature-major, m->da, padding columns zero). */
static void wide_backward(nn_model *m, size_t nb, size_t ld)
{
    const size_t L = m->n_layers, K = m->dims[L];
    /* output layer */
    {
        const size_t l = L - 1, in = m->dims[l], ldi = m->wld[l];
        const float *restrict d = m->da;
        float *restrict gw = m->grads + m->koff[l], *restrict gb = m->grads + m->boff[l];
        for (size_t o = 0; o < K; o++) {
            const float *dr = d + o * ld;
            float acc[NN_LANES] = {0};
            for (size_t i0 = 0; i0 < ld; i0 += NN_LANES)
                for (size_t j = 0; j < NN_LANES; j++)
                    acc[j] += dr[i0 + j];
            float s = 0.0f;
            for (size_t j = 0; j < NN_LANES; j++)
                s += acc[j];
            gb[o] = s;
        }
        /* dW^T[o][k] = sum_i d[o][i] a[i][k], then into Keras's (in x out) */
        float *restrict gwt = m->gwt;
        gemm(K, ldi, nb, d, ld, 1, m->wrow[l], ldi, gwt, ldi, NULL);
        for (size_t k = 0; k < in; k++)
            for (size_t o = 0; o < K; o++)
                gw[k * K + o] = gwt[o * ldi + k];
        if (l > 0) {
            /* input delta (rows x ldi) = d^T W^T, then the activation's derivative */
            gemm(nb, ldi, K, d, 1, ld, m->wt[l], ldi, m->dh[0], ldi, NULL);
            activation_backward(m->cfg.layers[l - 1].activation, m->wrow[l], m->dh[0], nb, ldi,
                                m->tmp);
        }
    }
    /* hidden layers, delta batch-major in dh[c] */
    int c = 0;
    for (size_t l = L - 1; l-- > 0;) {
        const size_t in = m->dims[l], out = m->dims[l + 1];
        const size_t ldi = m->wld[l], ldo = m->wld[l + 1];
        const float *restrict d = m->dh[c];
        float *restrict gw = m->grads + m->koff[l], *restrict gb = m->grads + m->boff[l];
        {
            float *restrict acc = m->gbacc;
            for (size_t o = 0; o < ldo; o++)
                acc[o] = 0.0f;
            for (size_t i = 0; i < nb; i++)
                for (size_t o = 0; o < ldo; o++)
                    acc[o] += d[i * ldo + o];
            for (size_t o = 0; o < out; o++)
                gb[o] = acc[o];
        }
        /* dW[k][o] = sum_i a[i][k] d[i][o] */
        if (out == ldo) {
            gemm(in, ldo, nb, m->wrow[l], 1, ldi, d, ldo, gw, out, NULL);
        } else {
            gemm(in, ldo, nb, m->wrow[l], 1, ldi, d, ldo, m->gwt, ldo, NULL);
            for (size_t k = 0; k < in; k++)
                for (size_t o = 0; o < out; o++)
                    gw[k * out + o] = m->gwt[k * ldo + o];
        }
        if (l > 0) {
            gemm(nb, ldi, out, d, ldo, 1, m->wt[l], ldi, m->dh[1 - c], ldi, NULL);
            activation_backward(m->cfg.layers[l - 1].activation, m->wrow[l], m->dh[1 - c], nb,
                                ldi, m->tmp);
            c = 1 - c;
        }
    }
}

static double wide_batch(nn_model *m, const float *x, const float *y, const uint32_t *idx,
                         size_t nb, double *correct)
{
    const size_t ld = round_up(nb, NN_LANES);
    wide_prepare(m);
    wide_gather(m, x, y, idx, 0, nb, ld);
    wide_forward(m, nb, ld);
    double bl = batch_loss(m, nb, ld, m->da, correct);
    if (isfinite(bl))
        wide_backward(m, nb, ld);
    return bl;
}

static void wide_evaluate(nn_model *m, const float *x, const float *y, size_t n, double *sum,
                          double *correct)
{
    const size_t bs = m->max_batch;
    wide_prepare(m);
    for (size_t s = 0; s < n; s += bs) {
        size_t nb = n - s < bs ? n - s : bs, ld = round_up(nb, NN_LANES);
        wide_gather(m, x, y, NULL, s, nb, ld);
        wide_forward(m, nb, ld);
        *sum += batch_loss(m, nb, ld, NULL, correct);
    }
}

/* ---- fit / evaluate / predict ------------------------------------------------ */

void nn_evaluate(nn_model *m, const float *x, const float *y, size_t n,
                 size_t batch_size, double *loss, double *accuracy)
{
    size_t bs = batch_size ? batch_size : 32;
    if (bs > m->max_batch)
        bs = m->max_batch; /* per-sample sums: the batch size changes nothing */
    double sum = 0.0, correct = 0.0;
    if (m->path == NN_PATH_TINY) {
        size_t ok = 0;
        tiny_evaluate(m, x, y, n, &sum, &ok);
        correct = (double)ok;
    } else if (m->path == NN_PATH_WIDE) {
        wide_evaluate(m, x, y, n, &sum, &correct);
    } else {
        for (size_t s = 0; s < n; s += bs) {
            size_t nb = n - s < bs ? n - s : bs, ld = round_up(nb, NN_LANES);
            gather(m, x, y, NULL, s, nb, ld);
            forward(m, nb, ld);
            sum += batch_loss(m, nb, ld, NULL, &correct);
        }
    }
    if (loss)
        *loss = n ? sum / (double)n : NAN;
    if (accuracy)
        *accuracy = n ? correct / (double)n : NAN;
}

void nn_predict(nn_model *m, const float *x, size_t n, float *out)
{
    size_t bs = m->max_batch < 32 ? m->max_batch : 32, K = m->dims[m->n_layers];
    const float *p = m->act[m->n_layers];
    for (size_t s = 0; s < n; s += bs) {
        size_t nb = n - s < bs ? n - s : bs, ld = round_up(nb, NN_LANES);
        gather(m, x, NULL, NULL, s, nb, ld);
        forward(m, nb, ld);
        for (size_t i = 0; i < nb; i++)
            for (size_t k = 0; k < K; k++)
                out[(s + i) * K + k] = p[k * ld + i];
    }
}

static nn_fit_result fit_epochs(nn_model *m, const float *x, const float *y,
                                size_t n, const float *xv, const float *yv,
                                size_t nv, const nn_fit_config *c,
                                rng_state *r, size_t bs, uint32_t *order);

nn_fit_result nn_fit(nn_model *m, const float *x, const float *y, size_t n,
                     const float *xv, const float *yv, size_t nv,
                     const nn_fit_config *c, rng_state *r)
{
    nn_fit_result res = {NN_FIT_ERROR, 0, 0};
    if (!m || !x || !y || !c || n == 0 || n > UINT32_MAX)
        return res;
    size_t bs = c->batch_size ? c->batch_size : 32;
    if (bs > m->max_batch || (c->shuffle && !r) || (nv > 0 && (!xv || !yv)))
        return res;
    /* The epoch order is the one buffer sized by the data: it is allocated
     * (or grown) here, before the first step, and kept in the model for the
     * next fit. Nothing is allocated inside the epoch loop. */
    if (m->order_cap < n) {
        uint32_t *o = realloc(m->order, n * sizeof *o);
        if (!o)
            return res;
        m->order = o;
        m->order_cap = n;
    }
    uint32_t *order = m->order;
#ifdef NN_HAVE_MXCSR
    /* Denormals flushed to zero (FTZ + DAZ) while training, as TensorFlow
     * does in its CPU executor. Without it, Adam's moments of parameters whose
     * gradient is always 0 (the digits' blank border pixels) decay into
     * denormals, and every update of them takes a microcoded slow path: that
     * alone made W3 two to four times slower. This is the calling thread's
     * floating-point mode; it is restored before nn_fit returns. */
    const unsigned int mxcsr_saved = _mm_getcsr();
    _mm_setcsr(mxcsr_saved | 0x8040u);
#endif
    res = fit_epochs(m, x, y, n, xv, yv, nv, c, r, bs, order);
#ifdef NN_HAVE_MXCSR
    _mm_setcsr(mxcsr_saved);
#endif
    return res;
}

static nn_fit_result fit_epochs(nn_model *m, const float *x, const float *y,
                                size_t n, const float *xv, const float *yv,
                                size_t nv, const nn_fit_config *c,
                                rng_state *r, size_t bs, uint32_t *order)
{
    nn_fit_result res = {NN_FIT_ERROR, 0, 0};
    for (size_t e = 1; e <= c->epochs; e++) {
        /* Keras draws a fresh permutation of all rows every epoch, so the
         * order starts from the identity each time rather than from the
         * previous epoch's order. */
        for (size_t j = 0; j < n; j++)
            order[j] = (uint32_t)j;
        if (c->shuffle)
            rng_shuffle_u32(r, order, n);
        if (c->on_order)
            c->on_order(c->user, e, order, n);
        double loss_sum = 0.0, correct = 0.0;
        size_t ok = 0;
        for (size_t s = 0; s < n; s += bs) {
            size_t nb = n - s < bs ? n - s : bs, ld = round_up(nb, NN_LANES);
            double bl;
            if (m->path == NN_PATH_TINY) {
                bl = tiny_batch(m, x, y, order + s, nb, &ok);
            } else if (m->path == NN_PATH_WIDE) {
                bl = wide_batch(m, x, y, order + s, nb, &correct);
            } else {
                gather(m, x, y, order + s, 0, nb, ld);
                forward(m, nb, ld);
                bl = batch_loss(m, nb, ld, m->da, &correct);
                if (isfinite(bl))
                    backward(m, nb, ld);
            }
            if (!isfinite(bl)) {
                res.status = NN_FIT_DIVERGED;
                res.diverged_epoch = e;
                return res;
            }
            loss_sum += bl;
            apply_update(m);
        }
        correct += (double)ok;
        nn_epoch_log log;
        log.epoch = e;
        log.loss = loss_sum / (double)n;
        log.accuracy = correct / (double)n;
        log.val_loss = NAN;
        log.val_accuracy = NAN;
        if (nv > 0)
            nn_evaluate(m, xv, yv, nv, 32, &log.val_loss, &log.val_accuracy);
        res.epochs_run = e;
        if (c->on_epoch && c->on_epoch(c->user, &log)) {
            res.status = NN_FIT_STOPPED;
            return res;
        }
    }
    res.status = NN_FIT_DONE;
    return res;
}
