/* nn_gemm.c: the cache-blocked matrix product of the nn module, for the
 * products of wide layers (see nn_internal.h for when it runs).
 *
 * The loops are those of BLIS (Van Zee and van de Geijn, "BLIS: A Framework
 * for Rapidly Instantiating BLAS Functionality", 2015): B is copied, KC rows
 * by up to NC columns at a time, into column panels NR wide ("packed"), A in
 * MC-row blocks of MR-row panels; a micro-kernel keeps an MR x NR tile of C
 * in registers while it runs over the KC rows of one A panel and one B
 * panel. The B panel (KC x NR) stays in L1 while every A panel of the block
 * streams past it from L2; the packed B block is read from L3. Packing turns
 * the strided walks of the plain kernel (one B row per page for a 4096-wide
 * layer) into sequential reads, which is what keeps the speed once a weight
 * matrix outgrows L2.
 *
 * Summation order. Every element of C is summed over p in order, from 0.0f,
 * with the same multiply-add as nn_kernels.c (fmaf where the target has FMA):
 * between KC blocks the running sum is stored in C as a float and loaded
 * again, which changes no bit; the bias is added after the last block, as
 * the plain kernel does. So the blocked product gives exactly the bits of
 * the plain one, for every shape and blocking (tests/unit/test_nn_gemm.c
 * compares them bit for bit), and switching between the two is a speed
 * decision only. */
#include "checked.h"
#include "nn_internal.h"

/* Zen 5 / Sapphire Rapids class cores (48 KB L1d, 1-2 MB L2): the B panel
 * KC x NR is 32 KB, an A block MC x KC 144 KB, a B block KC x NC 4 MB. */
#if defined(__AVX512F__)
#define GEMM_MR 12 /* 12 x 32: 24 of the 32 vector registers accumulate */
#else
#define GEMM_MR 4 /* 16 vector registers (or fewer): 4 x 32 as nn_kernels.c */
#endif
#define GEMM_NR 32
#define GEMM_KC 256
#define GEMM_MC (12 * GEMM_MR)
#define GEMM_NC 4096

/* nn_gemm_dense_backward's block of the kernel: FB_K rows (a multiple of
 * GEMM_MR and of GEMM_NR) by FB_O columns (a multiple of GEMM_NR). Its
 * weights (96 KB) stay in L2 from the dX product to the update, and its
 * gradient block as well; the update then runs over the whole band of
 * FB_K rows (its gradient kept in a band buffer). */
#define FB_K 96
#define FB_O 256

static size_t pack_nc(size_t max_n)
{
    return max_n < GEMM_NC ? round_up(max_n, GEMM_NR) : GEMM_NC;
}

/* Rows of pk->da: D's A panels (batch rounded up to GEMM_MR), or for small
 * batches D^T's B panels (batch rounded up to 16). */
static size_t da_rows(size_t fuse_batch)
{
    const size_t a = round_up(fuse_batch, GEMM_MR), b = round_up(fuse_batch, 16);
    return a > b ? a : b;
}

size_t nn_gemm_pack_floats(size_t max_n, size_t fuse_batch)
{
    if (max_n > SIZE_MAX / 2 || fuse_batch > SIZE_MAX / 2)
        return SIZE_MAX;
    size_t t = (size_t)GEMM_MC * GEMM_KC + (size_t)GEMM_KC * pack_nc(max_n), a, b, c;
    if (fuse_batch) {
        const size_t w = round_up(max_n, GEMM_NR);
        if (!checked_mul(da_rows(fuse_batch), w, &a) ||
            !checked_mul(fuse_batch, w, &b) || !checked_mul(FB_K, fuse_batch, &c) ||
            !checked_add(t, a, &t) || !checked_add(t, b, &t) || !checked_add(t, c, &t) ||
            !checked_add(t, (size_t)FB_K * w, &t))
            return SIZE_MAX;
    }
    return t;
}

void nn_gemm_pack_init(nn_gemm_pack *pk, float *buf, size_t max_n, size_t fuse_batch)
{
    pk->a = buf;
    pk->b = buf + (size_t)GEMM_MC * GEMM_KC;
    pk->nc = pack_nc(max_n);
    pk->da = pk->db = pk->xa = pk->g = NULL;
    if (fuse_batch) {
        const size_t w = round_up(max_n, GEMM_NR);
        pk->da = pk->b + (size_t)GEMM_KC * pk->nc;
        pk->db = pk->da + da_rows(fuse_batch) * w;
        pk->xa = pk->db + fuse_batch * w;
        pk->g = pk->xa + (size_t)FB_K * fuse_batch;
    }
}

/* A block: rows [0, mc) x columns [0, kc) of a(m, p) = A[m*ams + p*aps] into
 * panels of GEMM_MR rows, panel r at ap + r*kc, ap[p*GEMM_MR + i]. The rows of
 * a partial last panel past mc are not written (the kernel does not read
 * them). */
static void pack_a(size_t mc, size_t kc, const float *restrict A, size_t ams, size_t aps,
                   float *restrict ap)
{
    for (size_t r = 0; r < mc; r += GEMM_MR) {
        const size_t mr = mc - r < GEMM_MR ? mc - r : GEMM_MR;
        float *restrict dst = ap + r * kc;
        const float *src = A + r * ams;
        if (ams == 1) { /* columns of A contiguous: one short copy per p */
            for (size_t p = 0; p < kc; p++)
                for (size_t i = 0; i < mr; i++)
                    dst[p * GEMM_MR + i] = src[p * aps + i];
        } else {
            for (size_t i = 0; i < mr; i++)
                for (size_t p = 0; p < kc; p++)
                    dst[p * GEMM_MR + i] = src[i * ams + p * aps];
        }
    }
}

/* B block: rows [0, kc) x columns [0, nc) (nc a multiple of 16) of B (row
 * stride ldb) into panels of GEMM_NR columns (the last may be 16 wide), the
 * panel of column j at bp + j*kc, bp[p*w + jj] for its width w. */
static void pack_b(size_t kc, size_t nc, const float *restrict B, size_t ldb,
                   float *restrict bp)
{
    size_t j = 0;
    for (; j + GEMM_NR <= nc; j += GEMM_NR) {
        float *restrict dst = bp + j * kc;
        for (size_t p = 0; p < kc; p++)
            for (size_t jj = 0; jj < GEMM_NR; jj++)
                dst[p * GEMM_NR + jj] = B[p * ldb + j + jj];
    }
    if (j < nc) {
        float *restrict dst = bp + j * kc;
        for (size_t p = 0; p < kc; p++)
            for (size_t jj = 0; jj < 16; jj++)
                dst[p * 16 + jj] = B[p * ldb + j + jj];
    }
}

/* The same block from B transposed: b(p, n) = B[n*ldb + p] (the products
 * with a kernel's transpose read the kernel in place instead of a copy). */
static void pack_bt(size_t kc, size_t nc, const float *restrict B, size_t ldb, size_t rows,
                    float *restrict bp)
{
    for (size_t j = 0; j < nc; j += GEMM_NR) {
        const size_t w = nc - j >= GEMM_NR ? GEMM_NR : 16;
        float *restrict dst = bp + j * kc;
        size_t p = 0;
        if (j + w > rows) { /* the zero rows of a padded transpose */
            for (size_t jj = 0; jj < w; jj++)
                for (size_t q = 0; q < kc; q++)
                    dst[q * w + jj] = j + jj < rows ? B[(j + jj) * ldb + q] : 0.0f;
            continue;
        }
#if defined(__AVX512F__)
        for (; p + 16 <= kc; p += 16)
            for (size_t h = 0; h < w; h += 16) {
                __m512 r[16];
                for (size_t i = 0; i < 16; i++)
                    r[i] = _mm512_loadu_ps(B + (j + h + i) * ldb + p);
                nn_transpose16(r);
                for (size_t i = 0; i < 16; i++)
                    _mm512_storeu_ps(dst + (p + i) * w + h, r[i]);
            }
#endif
        for (size_t jj = 0; jj < w; jj++)
            for (size_t q = p; q < kc; q++)
                dst[q * w + jj] = B[(j + jj) * ldb + q];
    }
}

/* The micro-kernel: C[i][j] (i < mr, j < nr, nr = 32 or 16) = (first ? 0 :
 * C[i][j]) + sum_p a(i, p) * b(p, j), in p order; then + bias[i] when bias
 * is not NULL. a(i, p) = ap[i*ais + p*aps] (a packed panel: ais = 1, aps =
 * GEMM_MR; rows of a row-major matrix read in place: ais = its row length,
 * aps = 1) and b(p, j) = bp[p*ldb + j] (a packed panel: ldb = nr; rows of
 * B read in place: B's row length). With copy, row p of b is also stored at
 * copy[p*nr] (a packed panel for later calls), and with pf the same row of
 * the next panel is prefetched, so that memory reads overlap the
 * arithmetic (AVX-512 only; the plain build packs first). Inlined with
 * constant shapes and strides through the wrappers below. */
#if defined(__AVX512F__)
static NN_FORCE_INLINE void ukr_gen(size_t mr, size_t nr, size_t kc, const float *restrict ap,
                                    size_t ais, size_t aps, const float *restrict bp,
                                    size_t ldb, float *restrict copy, const float *pf,
                                    float *restrict C, size_t ldc, int first,
                                    const float *restrict bias)
{
    __m512 c0[GEMM_MR], c1[GEMM_MR];
    const int two = nr == 32;
    for (size_t i = 0; i < mr; i++) {
        if (first) {
            c0[i] = _mm512_setzero_ps();
            c1[i] = _mm512_setzero_ps();
        } else {
            c0[i] = _mm512_loadu_ps(C + i * ldc);
            if (two)
                c1[i] = _mm512_loadu_ps(C + i * ldc + 16);
        }
    }
    for (size_t p = 0; p < kc; p++) {
        const __m512 b0 = _mm512_loadu_ps(bp + p * ldb);
        const __m512 b1 = two ? _mm512_loadu_ps(bp + p * ldb + 16) : b0;
        if (pf) {
            _mm_prefetch((const char *)(pf + p * ldb), _MM_HINT_T1);
            _mm_prefetch((const char *)(pf + p * ldb + 16), _MM_HINT_T1);
        }
        if (copy) {
            _mm512_storeu_ps(copy + p * nr, b0);
            if (two)
                _mm512_storeu_ps(copy + p * nr + 16, b1);
        }
        for (size_t i = 0; i < mr; i++) {
            const __m512 ai = _mm512_set1_ps(ap[i * ais + p * aps]);
            c0[i] = _mm512_fmadd_ps(ai, b0, c0[i]);
            if (two)
                c1[i] = _mm512_fmadd_ps(ai, b1, c1[i]);
        }
    }
    for (size_t i = 0; i < mr; i++) {
        if (bias) {
            const __m512 bb = _mm512_set1_ps(bias[i]);
            c0[i] = _mm512_add_ps(c0[i], bb);
            if (two)
                c1[i] = _mm512_add_ps(c1[i], bb);
        }
        _mm512_storeu_ps(C + i * ldc, c0[i]);
        if (two)
            _mm512_storeu_ps(C + i * ldc + 16, c1[i]);
    }
}
#else
static NN_FORCE_INLINE void ukr_gen(size_t mr, size_t nr, size_t kc, const float *restrict ap,
                                    size_t ais, size_t aps, const float *restrict bp,
                                    size_t ldb, float *restrict copy, const float *pf,
                                    float *restrict C, size_t ldc, int first,
                                    const float *restrict bias)
{
    float c[GEMM_MR][GEMM_NR];
    (void)pf;
    for (size_t i = 0; i < mr; i++)
        for (size_t j = 0; j < nr; j++)
            c[i][j] = first ? 0.0f : C[i * ldc + j];
    for (size_t p = 0; p < kc; p++) {
        const float *b = bp + p * ldb;
        if (copy)
            for (size_t j = 0; j < nr; j++)
                copy[p * nr + j] = b[j];
        for (size_t i = 0; i < mr; i++)
            for (size_t j = 0; j < nr; j++)
                c[i][j] = NN_MADD(ap[i * ais + p * aps], b[j], c[i][j]);
    }
    for (size_t i = 0; i < mr; i++) {
        const float bb = bias ? bias[i] : 0.0f;
        for (size_t j = 0; j < nr; j++)
            C[i * ldc + j] = bias ? c[i][j] + bb : c[i][j];
    }
}
#endif

/* Packed A and B panels. */
static NN_FORCE_INLINE void ukr(size_t mr, size_t nr, size_t kc, const float *restrict ap,
                                const float *restrict bp, float *restrict C, size_t ldc,
                                int first, const float *restrict bias)
{
    ukr_gen(mr, nr, kc, ap, 1, GEMM_MR, bp, nr, NULL, NULL, C, ldc, first, bias);
}

/* A read in place: a(i, p) = ap[i*ars + p] (rows of a row-major matrix);
 * B a packed panel. */
static NN_FORCE_INLINE void ukr_ad(size_t mr, size_t nr, size_t kc, const float *restrict ap,
                                   size_t ars, const float *restrict bp, float *restrict C,
                                   size_t ldc, int first)
{
    ukr_gen(mr, nr, kc, ap, ars, 1, bp, nr, NULL, NULL, C, ldc, first, NULL);
}

/* C (mc x nc) = (first ? 0 : C) + A B over kc, with a(i, p) = A[i*ars + p]
 * read in place and B in panels packed b_ld rows long, from row b_p0. */
static void macro_kernel_ad(size_t mc, size_t nc, size_t kc, const float *restrict A,
                            size_t ars, const float *restrict bp, size_t b_ld, size_t b_p0,
                            float *restrict C, size_t ldc, int first)
{
    for (size_t j = 0; j < nc; j += GEMM_NR) {
        const size_t nr = nc - j >= GEMM_NR ? GEMM_NR : 16;
        const float *bj = bp + j * b_ld + b_p0 * nr;
        for (size_t r = 0; r < mc; r += GEMM_MR) {
            const size_t mr = mc - r < GEMM_MR ? mc - r : GEMM_MR;
            const float *ar = A + r * ars;
            float *c = C + r * ldc + j;
            if (nr == GEMM_NR && mr == GEMM_MR)
                ukr_ad(GEMM_MR, GEMM_NR, kc, ar, ars, bj, c, ldc, first);
            else if (nr == GEMM_NR)
                ukr_ad(mr, GEMM_NR, kc, ar, ars, bj, c, ldc, first);
            else if (mr == GEMM_MR)
                ukr_ad(GEMM_MR, 16, kc, ar, ars, bj, c, ldc, first);
            else
                ukr_ad(mr, 16, kc, ar, ars, bj, c, ldc, first);
        }
    }
}

/* One packed A block times one packed B block into C, over kc rows of
 * panels packed a_ld (A) and b_ld (B) rows long: A's from ap on, B's from
 * row b_p0 (a_ld = b_ld = kc and b_p0 = 0 for blocks packed for this call
 * alone). */
static void macro_kernel(size_t mc, size_t nc, size_t kc, const float *restrict ap,
                         size_t a_ld, const float *restrict bp, size_t b_ld, size_t b_p0,
                         float *restrict C, size_t ldc, int first, const float *restrict bias)
{
    for (size_t j = 0; j < nc; j += GEMM_NR) {
        const size_t nr = nc - j >= GEMM_NR ? GEMM_NR : 16;
        const float *bj = bp + j * b_ld + b_p0 * nr;
        for (size_t r = 0; r < mc; r += GEMM_MR) {
            const size_t mr = mc - r < GEMM_MR ? mc - r : GEMM_MR;
            const float *ar = ap + r * a_ld;
            float *c = C + r * ldc + j;
            const float *bb = bias ? bias + r : NULL;
            /* constant shapes for the common cases, so the tile stays in
             * registers; the rest through the same code with loop bounds */
            if (nr == GEMM_NR && mr == GEMM_MR)
                ukr(GEMM_MR, GEMM_NR, kc, ar, bj, c, ldc, first, bb);
            else if (nr == GEMM_NR)
                switch (mr) {
#if GEMM_MR > 4
                case 11: ukr(11, GEMM_NR, kc, ar, bj, c, ldc, first, bb); break;
                case 10: ukr(10, GEMM_NR, kc, ar, bj, c, ldc, first, bb); break;
                case 9: ukr(9, GEMM_NR, kc, ar, bj, c, ldc, first, bb); break;
                case 8: ukr(8, GEMM_NR, kc, ar, bj, c, ldc, first, bb); break;
                case 7: ukr(7, GEMM_NR, kc, ar, bj, c, ldc, first, bb); break;
                case 6: ukr(6, GEMM_NR, kc, ar, bj, c, ldc, first, bb); break;
                case 5: ukr(5, GEMM_NR, kc, ar, bj, c, ldc, first, bb); break;
                case 4: ukr(4, GEMM_NR, kc, ar, bj, c, ldc, first, bb); break;
#endif
                case 3: ukr(3, GEMM_NR, kc, ar, bj, c, ldc, first, bb); break;
                case 2: ukr(2, GEMM_NR, kc, ar, bj, c, ldc, first, bb); break;
                default: ukr(1, GEMM_NR, kc, ar, bj, c, ldc, first, bb); break;
                }
            else
                switch (mr) {
                case GEMM_MR: ukr(GEMM_MR, 16, kc, ar, bj, c, ldc, first, bb); break;
#if GEMM_MR > 4
                case 8: ukr(8, 16, kc, ar, bj, c, ldc, first, bb); break;
                case 4: ukr(4, 16, kc, ar, bj, c, ldc, first, bb); break;
#endif
                default: ukr(mr, 16, kc, ar, bj, c, ldc, first, bb); break;
                }
        }
    }
}

/* Products with few rows (a small batch times a big kernel, B): each B
 * value is used at most GEMM_SMALL_M times, so copying B into a block of
 * panels (4 MB, written to L3 and read back) before the arithmetic costs
 * about as much as the arithmetic, all of it waiting for memory. Here the
 * first row panel's micro-kernel (ukr_bd) reads each B panel (kc x 32) in
 * place from B's rows and copies it into a buffer that stays in L1 for the
 * other row panels, and prefetches the next panel meanwhile: the reads from
 * memory overlap the multiply-adds. A (at most GEMM_SMALL_M x kc, within one
 * A block) is packed once per kc block. The same sums in the same order:
 * the same bits. */
#define GEMM_SMALL_M (GEMM_MC < 64 ? GEMM_MC : 64)
#define GEMM_SMALL_NP ((size_t)1 << 20)

static int gemm_small_m(size_t M, size_t N, size_t P)
{
    return M <= GEMM_SMALL_M && N * P >= GEMM_SMALL_NP;
}

/* The first row panel of a B panel read in place (b(p, j) = B[p*ldb + j]):
 * A a packed panel; the rows of B also stored into bp (bp[p*nr + j]) for
 * the other row panels, and row p of the next panel prefetched (pf, NULL:
 * none). */
static NN_FORCE_INLINE void ukr_bd(size_t mr, size_t nr, size_t kc, const float *restrict ap,
                                   const float *restrict B, size_t ldb, float *restrict bp,
                                   const float *pf, float *restrict C, size_t ldc, int first,
                                   const float *restrict bias)
{
    ukr_gen(mr, nr, kc, ap, 1, GEMM_MR, B, ldb, bp, pf, C, ldc, first, bias);
}

static void gemm_small(size_t M, size_t N, size_t P, const float *restrict A, size_t ams,
                       size_t aps, const float *restrict B, size_t ldb, float *restrict C,
                       size_t ldc, const float *restrict bias, const nn_gemm_pack *pk)
{
    for (size_t pc = 0; pc < P; pc += GEMM_KC) {
        const size_t kc = P - pc < GEMM_KC ? P - pc : GEMM_KC;
        const int first = pc == 0, last = pc + kc == P;
        const float *lb = last ? bias : NULL;
        pack_a(M, kc, A + pc * aps, ams, aps, pk->a);
        const float *Bp = B + pc * ldb;
        for (size_t j = 0; j < N; j += GEMM_NR) {
            const size_t nr = N - j >= GEMM_NR ? GEMM_NR : 16;
#if defined(__AVX512F__)
            /* the next panel: to the right, or the first of the next rows */
            const float *pf = j + GEMM_NR < N ? Bp + j + GEMM_NR
                              : last        ? NULL
                                            : B + (pc + kc) * ldb;
            const size_t m0 = M < GEMM_MR ? M : GEMM_MR;
            float *c = C + j;
            if (m0 == GEMM_MR && nr == GEMM_NR)
                ukr_bd(GEMM_MR, GEMM_NR, kc, pk->a, Bp + j, ldb, pk->b, pf, c, ldc, first, lb);
            else if (m0 == GEMM_MR)
                ukr_bd(GEMM_MR, 16, kc, pk->a, Bp + j, ldb, pk->b, pf, c, ldc, first, lb);
            else
                ukr_bd(m0, nr, kc, pk->a, Bp + j, ldb, pk->b, pf, c, ldc, first, lb);
            if (M > m0)
                macro_kernel(M - m0, nr, kc, pk->a + m0 * kc, kc, pk->b, kc, 0, c + m0 * ldc,
                             ldc, first, lb ? lb + m0 : NULL);
#else
            pack_b(kc, nr, Bp + j, ldb, pk->b);
            macro_kernel(M, nr, kc, pk->a, kc, pk->b, kc, 0, C + j, ldc, first, lb);
#endif
        }
    }
}

static void gemm_blocked(size_t M, size_t N, size_t P, const float *restrict A, size_t ams,
                         size_t aps, const float *restrict B, size_t ldb, int bt, size_t rows,
                         float *restrict C, size_t ldc, const float *restrict bias,
                         const nn_gemm_pack *pk)
{
    if (!bt && gemm_small_m(M, N, P)) {
        gemm_small(M, N, P, A, ams, aps, B, ldb, C, ldc, bias, pk);
        return;
    }
    for (size_t jc = 0; jc < N; jc += pk->nc) {
        const size_t nc = N - jc < pk->nc ? N - jc : pk->nc;
        for (size_t pc = 0; pc < P; pc += GEMM_KC) {
            const size_t kc = P - pc < GEMM_KC ? P - pc : GEMM_KC;
            const int first = pc == 0, last = pc + kc == P;
            if (bt)
                pack_bt(kc, nc, B + jc * ldb + pc, ldb, rows > jc ? rows - jc : 0, pk->b);
            else
                pack_b(kc, nc, B + pc * ldb + jc, ldb, pk->b);
            for (size_t ic = 0; ic < M; ic += GEMM_MC) {
                const size_t mc = M - ic < GEMM_MC ? M - ic : GEMM_MC;
                pack_a(mc, kc, A + ic * ams + pc * aps, ams, aps, pk->a);
                macro_kernel(mc, nc, kc, pk->a, kc, pk->b, kc, 0, C + ic * ldc + jc, ldc, first,
                             last && bias ? bias + ic : NULL);
            }
        }
    }
}

void nn_gemm_blocked(size_t M, size_t N, size_t P, const float *restrict A, size_t ams,
                     size_t aps, const float *restrict B, size_t ldb, float *restrict C,
                     size_t ldc, const float *restrict bias, const nn_gemm_pack *pk)
{
    gemm_blocked(M, N, P, A, ams, aps, B, ldb, 0, N, C, ldc, bias, pk);
}

void nn_gemm_blocked_bt(size_t M, size_t N, size_t P, const float *restrict A, size_t ams,
                        size_t aps, const float *restrict B, size_t ldb, size_t b_rows,
                        float *restrict C, size_t ldc, const nn_gemm_pack *pk)
{
    gemm_blocked(M, N, P, A, ams, aps, B, ldb, 1, b_rows, C, ldc, NULL, pk);
}

void nn_gemm_dense_backward(size_t nb, size_t in, size_t out, const float *X, size_t ldx,
                            const float *D, size_t ldd, float *dX, size_t lddx, float *W,
                            float *s1, float *s2, const nn_update *u, const nn_gemm_pack *pk)
{
    /* D once for the whole layer, both ways: A panels over all out columns
     * (dX's left operand), B panels over all nb rows (G's right one). For
     * small batches dX^T = W D^T instead: the kernel, the big operand, read
     * in place as A (GEMM_MR of its rows at a time, no transposed copy), D^T
     * packed once as B (nbp columns, in pk->da: da_rows), dX^T's band summed
     * in pk->b (FB_K x nbp <= GEMM_KC x GEMM_NR floats) and transposed into
     * dX when the band is done. The same sums over o in the same order. */
    const int small = dX && nb <= GEMM_SMALL_M;
    const size_t nbp = round_up(nb, 16);
    float *T = pk->b;
    if (small)
        pack_bt(out, nbp, D, ldd, nb, pk->da);
    else if (dX)
        pack_a(nb, out, D, ldd, 1, pk->da);
    pack_b(nb, ldd, D, ldd, pk->db);
    const size_t kend = dX ? lddx : in;
    for (size_t k0 = 0; k0 < kend; k0 += FB_K) {
        const size_t kx = kend - k0 < FB_K ? kend - k0 : FB_K; /* dX columns */
        const size_t kw = k0 < in ? (in - k0 < FB_K ? in - k0 : FB_K) : 0; /* kernel rows */
        if (kw) /* a(k, i) = X[i][k0 + k] */
            pack_a(kw, nb, X + k0, 1, ldx, pk->xa);
        for (size_t o0 = 0; o0 < out; o0 += FB_O) {
            const size_t ob = out - o0 < FB_O ? out - o0 : FB_O;
            const size_t obn = ldd - o0 < FB_O ? ldd - o0 : FB_O; /* ob rounded up to 16 */
            float *w = W + k0 * out + o0;
            if (small) { /* T[k][i] += sum_{o in block} W[k0 + k][o] D[i][o] */
                if (kw)
                    macro_kernel_ad(kw, nbp, ob, w, out, pk->da, out, o0, T, nbp, o0 == 0);
            } else if (dX) { /* dX[i][k0 + k] += sum_{o in block} D[i][o] W[k0 + k][o] */
                pack_bt(ob, kx, w, out, kw, pk->b); /* rows past in: zeros */
                macro_kernel(nb, kx, ob, pk->da + o0 * GEMM_MR, out, pk->b, ob, 0, dX + k0,
                             lddx, o0 == 0, NULL);
            }
            if (!kw)
                continue;
            /* G block[k][o] = sum_i X[i][k0 + k] D[i][o0 + o], over the batch in
             * KC-row pieces (one for batches up to 256) */
            for (size_t pc = 0; pc < nb; pc += GEMM_KC) {
                const size_t kc = nb - pc < GEMM_KC ? nb - pc : GEMM_KC;
                macro_kernel(kw, obn, kc, pk->xa + pc * GEMM_MR, nb, pk->db + o0 * nb, nb, pc,
                             pk->g + o0, ldd, pc == 0, NULL);
            }
        }
        if (small) /* columns k >= in of dX: zeros, as the padded sums give */
            for (size_t i = 0; i < nb; i++)
                for (size_t k = 0; k < kx; k++)
                    dX[i * lddx + k0 + k] = k < kw ? T[k * nbp + i] : 0.0f;
        /* the band's rows of W, s1, s2 are contiguous: one sequential sweep
         * each (the prefetchers follow those; 96 short row pieces per block
         * they did not) */
        for (size_t k = 0; k < kw; k++) {
            const size_t off = (k0 + k) * out;
            nn_update_range(u, W + off, pk->g + k * ldd, s1 + off, s2 + off, out);
        }
    }
}
