/* nn_kernels.c: the plain register-blocked matrix product of the nn module
 * and the choice between it and the cache-blocked one of nn_gemm.c (see
 * nn_internal.h). Split from nn.c for readability; the element-wise kernels
 * (exp, log, softmax, activations) are static inline in nn_internal.h. */
#include "nn_internal.h"

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

void nn_gemm_plain(size_t M, size_t N, size_t P, const float *restrict A,
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


/* The blocked product copies both operands once per block: it pays when
 * there is enough arithmetic per copied value and the operands outgrow the
 * caches the plain kernel relies on. Measured with bench/bench_wide (see
 * README, "Speed"). */
int nn_gemm_use_blocked(size_t M, size_t N, size_t P)
{
    return M >= 16 && N >= 64 && P >= 32 && M * N * P >= ((size_t)1 << 22);
}

void nn_gemm(size_t M, size_t N, size_t P, const float *restrict A, size_t ams, size_t aps,
             const float *restrict B, size_t ldb, float *restrict C, size_t ldc,
             const float *restrict bias, const nn_gemm_pack *pk)
{
    if (pk && nn_gemm_use_blocked(M, N, P))
        nn_gemm_blocked(M, N, P, A, ams, aps, B, ldb, C, ldc, bias, pk);
    else
        nn_gemm_plain(M, N, P, A, ams, aps, B, ldb, C, ldc, bias);
}
