/* nn_fast.c: the tiny and wide fast paths of nn_fit / nn_evaluate (see
 * nn_internal.h and the comments of each path below). nn.c picks a path in
 * nn_model_new; the general path in nn.c is the reference these are tested
 * against (test_fast_paths in tests/unit/test_nn.c).
 *
 * Alignment: the aligned AVX-512 loads and stores (_mm512_load_ps,
 * _mm512_store_ps) touch only arena blocks (64-byte aligned, each a
 * multiple of 16 floats, see nn_model_new) at offsets that are multiples of
 * 16 floats, and _Alignas(64) locals; every other vector access (the
 * caller's rows, kernels read in place, lane counters) is loadu / storeu. */
#include "nn_internal.h"

#include <stdlib.h>

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
int nn_tiny_path_ok(const nn_model *m)
{
    if (!fused_softmax_cce(m) || !nn_plain_model(m))
        return 0;
    for (size_t l = 0; l <= m->n_layers; l++)
        if (m->dims[l] > NN_TINY_MAX)
            return 0;
    for (size_t l = 0; l + 1 < m->n_layers; l++)
        if (m->cfg.layers[l].activation == NN_ACT_SOFTMAX)
            return 0;
    return 1;
}

/* Units of layer boundary l (0 = inputs, L = outputs) in the tiny path: the
 * shape arguments are compile-time constants in the specialised copies (H is
 * the hidden width of a two-layer model there, 0 otherwise). */
static inline size_t tiny_dim(const nn_model *m, size_t l, size_t L, size_t nin, size_t H,
                              size_t K)
{
    return l == 0 ? nin : l == L ? K : H ? H : m->dims[l];
}

/* Rows idx[0..nv) (or start.. when idx is NULL) into the input tile, lane j
 * = row j, their targets into the target tile and their classes into lab
 * (-1 in the empty lanes j >= nv, which never count as correct).
 *
 * The empty lanes repeat the last row instead of holding zeros: every lane
 * then takes the same branch-free loads, and an empty lane's values are
 * finite exactly when a real row's are. Their targets are zero and the loss
 * gives them a zero delta, so they add nothing to any sum.
 *
 * With one-hot targets (m->ylab, set by nn_fit) the targets are rebuilt from
 * the row classes, the same 0/1 values without reading K floats of every
 * randomly ordered row; otherwise they are copied and the class is the first
 * maximum of the target row (Keras's categorical_accuracy). */
static inline void tiny_gather(nn_model *m, const float *restrict x,
                                        const float *restrict y, const uint32_t *idx,
                                        size_t start, size_t nv, size_t nin, size_t K,
                                        int32_t *restrict lab)
{
    float *restrict a0 = m->tact;
    float *restrict yb = m->ty;
#if defined(__AVX512F__)
    /* The same loads as the loops below, as hardware gathers: 16 scalar
     * stores followed by a 16-lane load of the tile cannot be forwarded,
     * and that stall was most of the time of a chunk. */
    if (m->tgather && (m->ylab || !y)) {
        const __mmask16 live = (__mmask16)(nv >= NN_T ? 0xFFFFu : (1u << nv) - 1u);
        const __m512i iota = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3,
                                              2, 1, 0);
        __m512i r;
        if (idx)
            r = _mm512_mask_loadu_epi32(_mm512_set1_epi32((int32_t)idx[nv - 1]), live, idx);
        else
            r = _mm512_add_epi32(_mm512_set1_epi32((int32_t)start),
                                 _mm512_min_epi32(iota, _mm512_set1_epi32((int32_t)nv - 1)));
        const __m512i off = _mm512_mullo_epi32(r, _mm512_set1_epi32((int32_t)nin));
        for (size_t k = 0; k < nin; k++) {
            const __m512i at = _mm512_add_epi32(off, _mm512_set1_epi32((int32_t)k));
            _mm512_store_ps(a0 + k * NN_T, _mm512_i32gather_ps(at, x, 4));
        }
        if (m->ylab) {
            const __m512i c = _mm512_mask_i32gather_epi32(_mm512_set1_epi32(-1), live, r,
                                                          m->ylab, 4);
            _mm512_storeu_si512(lab, c);
            for (size_t k = 0; k < K; k++)
                _mm512_store_ps(yb + k * NN_T,
                                _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(
                                                        c, _mm512_set1_epi32((int32_t)k)),
                                                    _mm512_set1_ps(1.0f)));
        }
        return;
    }
#endif
    uint32_t rows[NN_T];
    for (size_t j = 0; j < NN_T; j++) {
        size_t jj = j < nv ? j : nv - 1;
        rows[j] = idx ? idx[jj] : (uint32_t)(start + jj);
    }
    for (size_t k = 0; k < nin; k++)
        for (size_t j = 0; j < NN_T; j++)
            a0[k * NN_T + j] = x[(size_t)rows[j] * nin + k];
    if (m->ylab) {
        for (size_t j = 0; j < NN_T; j++)
            lab[j] = j < nv ? (int32_t)m->ylab[rows[j]] : -1;
        for (size_t k = 0; k < K; k++)
            for (size_t j = 0; j < NN_T; j++)
                yb[k * NN_T + j] = lab[j] == (int32_t)k ? 1.0f : 0.0f;
        return;
    }
    for (size_t k = 0; k < K; k++)
        for (size_t j = 0; j < NN_T; j++)
            yb[k * NN_T + j] = j < nv ? y[(size_t)rows[j] * K + k] : 0.0f;
    float vy[NN_T];
    for (size_t j = 0; j < NN_T; j++) {
        lab[j] = 0;
        vy[j] = yb[j];
    }
    for (size_t k = 1; k < K; k++)
        for (size_t j = 0; j < NN_T; j++) {
            const float yk = yb[k * NN_T + j];
            lab[j] = yk > vy[j] ? (int32_t)k : lab[j];
            vy[j] = yk > vy[j] ? yk : vy[j];
        }
    for (size_t j = 0; j < NN_T; j++)
        lab[j] = j < nv ? lab[j] : -1;
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

/* Per-lane running sums of one batch (or one evaluation): the loss in
 * double, the correct predictions as counts; reduced once at the end. */
typedef struct {
    double loss[NN_T];
    int32_t ok[NN_T];
} tiny_sums;

static inline void tiny_sums_clear(tiny_sums *t)
{
    for (size_t j = 0; j < NN_T; j++) {
        t->loss[j] = 0.0;
        t->ok[j] = 0;
    }
}

/* Pairwise over the lanes; adds the correct count to *ok. */
static inline double tiny_sums_reduce(const tiny_sums *t, size_t *ok)
{
    double s8[8];
    int32_t c = 0;
    for (size_t j = 0; j < 8; j++)
        s8[j] = t->loss[j] + t->loss[j + 8];
    for (size_t j = 0; j < NN_T; j++)
        c += t->ok[j];
    *ok += (size_t)c;
    return ((s8[0] + s8[4]) + (s8[2] + s8[6])) + ((s8[1] + s8[5]) + (s8[3] + s8[7]));
}

/* Softmax + cross-entropy of the chunk's logits: adds the per-row losses and
 * correct predictions to the lane sums and writes dLoss/dlogits of the batch
 * mean (1/n = inv_n) into d when not NULL (zero in the empty lanes). Formulas
 * as nn_batch_loss, all in 16-lane vectors: no per-row scalar work. */
static inline void tiny_loss(nn_model *m, size_t nv, float inv_n, float *restrict d,
                                      const int32_t *restrict lab, tiny_sums *ts, size_t K)
{
    const float *restrict z = m->tlog;
    const float *restrict y = m->ty;
    float *restrict p = m->tp;
#if defined(__AVX512F__)
    /* The loops below as 16-lane intrinsics, operation for operation (GCC
     * unrolled those loops completely and then left the max and the sums
     * partly scalar, with stalls on their stores). */
    {
        const __mmask16 live = (__mmask16)(nv >= NN_T ? 0xFFFFu : (1u << nv) - 1u);
        __m512 mxv = _mm512_load_ps(z), smv = _mm512_setzero_ps();
        for (size_t k = 1; k < K; k++)
            mxv = _mm512_max_ps(_mm512_load_ps(z + k * NN_T), mxv); /* zk > mx ? zk : mx */
        for (size_t k = 0; k < K; k++) {
            const __m512 e = nn_expf16(_mm512_sub_ps(_mm512_load_ps(z + k * NN_T), mxv));
            _mm512_store_ps(p + k * NN_T, e);
            smv = _mm512_add_ps(smv, e);
        }
        const __m512 inv = _mm512_div_ps(_mm512_set1_ps(1.0f), smv);
        const __m512 ls = nn_logf16(smv), wn = _mm512_maskz_mov_ps(live, _mm512_set1_ps(inv_n));
        __m512 li = _mm512_setzero_ps(), best = _mm512_setzero_ps();
        __m512i bp = _mm512_setzero_si512();
        for (size_t k = 0; k < K; k++) {
            const __m512 pk = _mm512_mul_ps(_mm512_load_ps(p + k * NN_T), inv);
            const __m512 yk = _mm512_load_ps(y + k * NN_T);
            const __m512 zk = _mm512_sub_ps(_mm512_load_ps(z + k * NN_T), mxv);
            li = _mm512_add_ps(li, _mm512_mul_ps(yk, _mm512_sub_ps(ls, zk)));
            _mm512_store_ps(p + k * NN_T, pk);
            if (d)
                _mm512_store_ps(d + k * NN_T, _mm512_mul_ps(_mm512_sub_ps(pk, yk), wn));
            /* first maximum: class k only where p_k > the best so far */
            const __mmask16 gt = k ? _mm512_cmp_ps_mask(pk, best, _CMP_GT_OQ) : (__mmask16)0xFFFFu;
            best = _mm512_mask_mov_ps(best, gt, pk);
            bp = _mm512_mask_mov_epi32(bp, gt, _mm512_set1_epi32((int32_t)k));
        }
        _mm512_storeu_pd(ts->loss, _mm512_add_pd(_mm512_loadu_pd(ts->loss),
                                                 _mm512_cvtps_pd(_mm512_castps512_ps256(li))));
        _mm512_storeu_pd(ts->loss + 8,
                         _mm512_add_pd(_mm512_loadu_pd(ts->loss + 8),
                                       _mm512_cvtps_pd(_mm512_extractf32x8_ps(li, 1))));
        if (K == 1) {
            const __mmask16 hit = _mm512_cmp_ps_mask(
                _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(_mm512_load_ps(p), _mm512_set1_ps(0.5f),
                                                       _CMP_GT_OQ),
                                    _mm512_set1_ps(1.0f)),
                _mm512_load_ps(y), _CMP_EQ_OQ);
            bp = _mm512_maskz_mov_epi32(hit & live, _mm512_set1_epi32(1));
        } else {
            bp = _mm512_maskz_mov_epi32(_mm512_cmpeq_epi32_mask(bp, _mm512_loadu_si512(lab)),
                                        _mm512_set1_epi32(1));
        }
        _mm512_storeu_si512(ts->ok, _mm512_add_epi32(_mm512_loadu_si512(ts->ok), bp));
        return;
    }
#endif
    float mx[NN_T], sm[NN_T], li[NN_T];
    softmax_cols(z, p, K, NN_T, mx, sm);
    for (size_t j = 0; j < NN_T; j++) {
        const float ls = nn_logf(sm[j]);
        float acc = 0.0f;
        for (size_t k = 0; k < K; k++)
            acc += y[k * NN_T + j] * (ls - (z[k * NN_T + j] - mx[j]));
        li[j] = acc;
    }
    if (d) {
        float wn[NN_T]; /* the empty lanes get a zero delta */
        for (size_t j = 0; j < NN_T; j++)
            wn[j] = j < nv ? inv_n : 0.0f;
        for (size_t k = 0; k < K; k++)
            for (size_t j = 0; j < NN_T; j++)
                d[k * NN_T + j] = (p[k * NN_T + j] - y[k * NN_T + j]) * wn[j];
    }
    /* the empty lanes' targets are zero, so their losses are zero too */
    for (size_t j = 0; j < NN_T; j++)
        ts->loss[j] += (double)li[j];
    /* Keras accuracy as nn_batch_loss: threshold for one unit, first argmax */
    if (K == 1) {
        for (size_t j = 0; j < NN_T; j++)
            ts->ok[j] += lab[j] >= 0 && (p[j] > 0.5f ? 1.0f : 0.0f) == y[j];
        return;
    }
    int32_t bp[NN_T];
    float vp[NN_T];
    for (size_t j = 0; j < NN_T; j++) {
        bp[j] = 0;
        vp[j] = p[j];
    }
    for (size_t k = 1; k < K; k++)
        for (size_t j = 0; j < NN_T; j++) {
            const float pk = p[k * NN_T + j];
            bp[j] = pk > vp[j] ? (int32_t)k : bp[j];
            vp[j] = pk > vp[j] ? pk : vp[j];
        }
    for (size_t j = 0; j < NN_T; j++)
        ts->ok[j] += bp[j] == lab[j];
}

/* Adds the chunk's gradient (output delta in d) to the per-lane sums gacc. */
static inline void tiny_backward(nn_model *m, float *d, size_t L, size_t nin,
                                          size_t H, size_t K)
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
/* g (16 x 16 lane sums, a gacc block) and out must be 64-byte aligned. */
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
        /* tiny_reduce16 stores one 64-byte vector with an aligned store:
         * a plain float[16] on the stack is only 4-byte aligned (at -O0 it
         * is not 64-byte aligned at all and the store faults) */
        _Alignas(64) float tmp[16];
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
static NN_FORCE_INLINE double tiny_batch_shape(nn_model *m, const float *x, const float *y,
                                               const uint32_t *idx, size_t nb, size_t *ok,
                                               size_t nin, size_t H, size_t K, size_t L)
{
    const float inv_n = 1.0f / (float)nb;
    tiny_sums ts;
    int32_t lab[NN_T];
    tiny_sums_clear(&ts);
    for (size_t c = 0; c < nb; c += NN_T) {
        size_t nv = nb - c < NN_T ? nb - c : NN_T;
        tiny_gather(m, x, y, idx + c, 0, nv, nin, K, lab);
        tiny_forward(m, L, nin, H, K);
        tiny_loss(m, nv, inv_n, m->td0, lab, &ts, K);
        tiny_backward(m, m->td0, L, nin, H, K);
    }
    tiny_reduce(m);
    return tiny_sums_reduce(&ts, ok);
}

static NN_FORCE_INLINE void tiny_evaluate_shape(nn_model *m, const float *x, const float *y,
                                                size_t n, double *sum, size_t *ok, size_t nin,
                                                size_t H, size_t K, size_t L)
{
    tiny_sums ts;
    int32_t lab[NN_T];
    tiny_sums_clear(&ts);
    for (size_t s = 0; s < n; s += NN_T) {
        size_t nv = n - s < NN_T ? n - s : NN_T;
        tiny_gather(m, x, y, NULL, s, nv, nin, K, lab);
        tiny_forward(m, L, nin, H, K);
        tiny_loss(m, nv, 1.0f, NULL, lab, &ts, K);
    }
    *sum += tiny_sums_reduce(&ts, ok);
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

double nn_tiny_batch(nn_model *m, const float *x, const float *y,
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

void nn_tiny_evaluate(nn_model *m, const float *x, const float *y, size_t n,
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
int nn_wide_path_ok(const nn_model *m)
{
    if (!fused_softmax_cce(m) || !nn_plain_model(m) || m->dims[0] < NN_LANES ||
        m->dims[m->n_layers] > NN_LANES)
        return 0;
    for (size_t l = 0; l + 1 < m->n_layers; l++)
        if (m->cfg.layers[l].activation == NN_ACT_SOFTMAX)
            return 0;
    return 1;
}

#if defined(__AVX512F__)
/* Direct-input kernels of the wide path for single-layer models whose input
 * width is a multiple of 16 (the digits perceptron): the products read the
 * training rows in place through the epoch order (map) instead of a batch
 * copy. Copying 64 floats of each randomly ordered row into a buffer cost
 * more than the layer's forward product (every row is a fresh L2 access that
 * the copy loop cannot hide; inside a product the out-of-order core overlaps
 * them with the arithmetic). Same products, summed in the same order and
 * with the same fmaf as nn_gemm(), so the results are bit-identical to the
 * copying path. */

/* Logits of a single-layer model, feature-major: lg[o][i] = (sum_k x_i[k]
 * w[k][o]) + bias[o] for o < K <= 16 and rows i < nb, x_i = x + map[i] * ldx
 * (map NULL: i); columns nb..ld (ld = nb rounded up to 16) are zero. Rows
 * are done 8 at a time (one kernel row load serves eight broadcast
 * multiply-adds; a partial block repeats its last row), two blocks are then
 * transposed in registers. The kernel rows are read 16 floats wide at stride
 * ldw: for ldw < 16 the extra lanes (the next row, then the bias and the
 * next arena block) only reach outputs >= K, never stored. */
static inline void direct_rows8(const float *x, size_t ldx, const uint32_t *map, size_t nb,
                                size_t i0, size_t P, const float *w, size_t ldw, __m512 c[8])
{
    const float *r[8];
    for (size_t j = 0; j < 8; j++) {
        size_t i = i0 + j < nb ? i0 + j : nb - 1;
        r[j] = x + (map ? map[i] : i) * ldx;
        c[j] = _mm512_setzero_ps();
    }
    for (size_t k = 0; k < P; k++) {
        const __m512 wk = _mm512_loadu_ps(w + k * ldw);
        for (size_t j = 0; j < 8; j++)
            c[j] = _mm512_fmadd_ps(_mm512_set1_ps(r[j][k]), wk, c[j]);
    }
}

static void direct_forward(const float *x, size_t ldx, const uint32_t *map, size_t nb,
                           size_t P, const float *w, size_t ldw, const float *bias, size_t K,
                           float *lg, size_t ld)
{
    for (size_t i0 = 0; i0 < nb; i0 += 16) {
        __m512 lo[8], hi[8], c[16];
        direct_rows8(x, ldx, map, nb, i0, P, w, ldw, lo);
        direct_rows8(x, ldx, map, nb, i0 + 8, P, w, ldw, hi);
        for (size_t j = 0; j < 8; j++) {
            c[j] = lo[j];
            c[8 + j] = hi[j];
        }
        nn_transpose16(c);
        const __mmask16 live = nb - i0 >= 16 ? (__mmask16)0xFFFF
                                             : (__mmask16)((1u << (nb - i0)) - 1u);
        for (size_t o = 0; o < K; o++)
            _mm512_store_ps(lg + o * ld + i0,
                            _mm512_maskz_add_ps(live, c[o], _mm512_set1_ps(bias[o])));
    }
}

/* c[o][n] = sum_i d[o][i] x_i[n] for o < K, n < N (a multiple of 16), rows
 * i < nb in order. Blocks of 5 outputs x 64 columns (twenty accumulators,
 * each x load serves five broadcasts); a partial output block repeats its
 * last output. */
static void direct_dwt(const float *d, size_t ld, size_t K, const float *x, size_t ldx,
                       const uint32_t *map, size_t nb, size_t N, float *c, size_t ldc)
{
    for (size_t o0 = 0; o0 < K; o0 += 5) {
        const float *dr[5];
        for (size_t q = 0; q < 5; q++)
            dr[q] = d + (o0 + q < K ? o0 + q : K - 1) * ld;
        size_t n = 0;
        for (; n + 64 <= N; n += 64) {
            __m512 a[5][4];
            for (size_t q = 0; q < 5; q++)
                for (size_t t = 0; t < 4; t++)
                    a[q][t] = _mm512_setzero_ps();
            for (size_t i = 0; i < nb; i++) {
                const float *xr = x + (map ? map[i] : i) * ldx + n;
                __m512 xv[4];
                for (size_t t = 0; t < 4; t++)
                    xv[t] = _mm512_loadu_ps(xr + 16 * t);
                for (size_t q = 0; q < 5; q++) {
                    const __m512 dq = _mm512_set1_ps(dr[q][i]);
                    for (size_t t = 0; t < 4; t++)
                        a[q][t] = _mm512_fmadd_ps(dq, xv[t], a[q][t]);
                }
            }
            for (size_t q = 0; q < 5 && o0 + q < K; q++)
                for (size_t t = 0; t < 4; t++)
                    _mm512_storeu_ps(c + (o0 + q) * ldc + n + 16 * t, a[q][t]);
        }
        for (; n < N; n += 16) {
            __m512 a[5];
            for (size_t q = 0; q < 5; q++)
                a[q] = _mm512_setzero_ps();
            for (size_t i = 0; i < nb; i++) {
                const __m512 xv = _mm512_loadu_ps(x + (map ? map[i] : i) * ldx + n);
                for (size_t q = 0; q < 5; q++)
                    a[q] = _mm512_fmadd_ps(_mm512_set1_ps(dr[q][i]), xv, a[q]);
            }
            for (size_t q = 0; q < 5 && o0 + q < K; q++)
                _mm512_storeu_ps(c + (o0 + q) * ldc + n, a[q]);
        }
    }
}
#endif

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
    m->win = x + (idx ? 0 : start) * nin;
    m->win_map = idx;
    if (y && m->ylab) {
        /* one-hot targets rebuilt from the row classes: the same 0/1 values
         * without reading ten floats of every randomly ordered row */
        float *restrict cl = m->tmp;
        for (size_t i = 0; i < nb; i++)
            cl[i] = (float)m->ylab[idx ? idx[i] : start + i];
        for (size_t k = 0; k < K; k++)
            for (size_t i = 0; i < nb; i++)
                yb[k * ld + i] = cl[i] == (float)k ? 1.0f : 0.0f;
        y = NULL;
    }
    for (size_t i = 0; i < nb && (y || !m->wdirect); i++) {
        size_t row = idx ? idx[i] : start + i;
        const float *xr = x + row * nin;
        if (!m->wdirect)
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
#if defined(__AVX512F__)
        if (m->wdirect) { /* l == 0 == L - 1 */
            direct_forward(m->win, in, m->win_map, nb, in, w, ldw, b, out, m->logits, ld);
            softmax_cols(m->logits, m->act[L], out, ld, m->mx, m->sm);
            continue;
        }
#endif
        nn_gemm(nb, ldo, in, m->wrow[l], lda, 1, w, ldw, z, ldo, NULL, m->pk);
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
 * (feature-major, m->da, padding columns zero). With u (m->wfuse), the
 * hidden layers whose input delta is a blocked product instead update
 * their kernel with it in the same pass (nn_gemm_dense_backward) and are
 * marked in m->fused; their gradient is not stored. */
static void wide_backward(nn_model *m, size_t nb, size_t ld, const nn_update *u)
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
#if defined(__AVX512F__)
        if (m->wdirect) /* l == 0, ldi == in */
            direct_dwt(d, ld, K, m->win, in, m->win_map, nb, in, gwt, ldi);
        else
#endif
            nn_gemm(K, ldi, nb, d, ld, 1, m->wrow[l], ldi, gwt, ldi, NULL, m->pk);
        for (size_t k = 0; k < in; k++)
            for (size_t o = 0; o < K; o++)
                gw[k * K + o] = gwt[o * ldi + k];
        if (l > 0) {
            /* input delta (rows x ldi) = d^T W^T, then the activation's derivative */
            if (m->wt[l])
                nn_gemm(nb, ldi, K, d, 1, ld, m->wt[l], ldi, m->dh[0], ldi, NULL, m->pk);
            else /* the kernel read in place, transposed while packed */
                nn_gemm_blocked_bt(nb, ldi, K, d, 1, ld, m->params + m->koff[l], K, in,
                                   m->dh[0], ldi, m->pk);
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
        if (u && l > 0 && !m->wt[l] && m->pk) {
            const size_t off = m->koff[l];
            nn_gemm_dense_backward(nb, in, out, m->wrow[l], ldi, d, ldo, m->dh[1 - c], ldi,
                                   m->params + off, m->s1 + off, m->s2 + off, u, m->pk);
            m->fused[l] = 1;
            activation_backward(m->cfg.layers[l - 1].activation, m->wrow[l], m->dh[1 - c], nb,
                                ldi, m->tmp);
            c = 1 - c;
            continue;
        }
        /* dW[k][o] = sum_i a[i][k] d[i][o] */
        if (out == ldo) {
            nn_gemm(in, ldo, nb, m->wrow[l], 1, ldi, d, ldo, gw, out, NULL, m->pk);
        } else {
            nn_gemm(in, ldo, nb, m->wrow[l], 1, ldi, d, ldo, m->gwt, ldo, NULL, m->pk);
            for (size_t k = 0; k < in; k++)
                for (size_t o = 0; o < out; o++)
                    gw[k * out + o] = m->gwt[k * ldo + o];
        }
        if (l > 0) {
            if (m->wt[l])
                nn_gemm(nb, ldi, out, d, ldo, 1, m->wt[l], ldi, m->dh[1 - c], ldi, NULL, m->pk);
            else
                nn_gemm_blocked_bt(nb, ldi, out, d, ldo, 1, m->params + m->koff[l], out, in,
                                   m->dh[1 - c], ldi, m->pk);
            activation_backward(m->cfg.layers[l - 1].activation, m->wrow[l], m->dh[1 - c], nb,
                                ldi, m->tmp);
            c = 1 - c;
        }
    }
}

double nn_wide_batch(nn_model *m, const float *x, const float *y, const uint32_t *idx,
                         size_t nb, double *correct)
{
    const size_t ld = round_up(nb, NN_LANES);
    wide_prepare(m);
    wide_gather(m, x, y, idx, 0, nb, ld);
    wide_forward(m, nb, ld);
    double bl = nn_batch_loss(m, nb, ld, m->da, correct);
    if (isfinite(bl)) {
        /* the constants of the update nn_fit applies next (it skips the
         * kernels updated here) */
        nn_update u;
        if (m->wfuse)
            nn_update_prepare(m, &u);
        wide_backward(m, nb, ld, m->wfuse ? &u : NULL);
    }
    return bl;
}

void nn_wide_evaluate(nn_model *m, const float *x, const float *y, size_t n, double *sum,
                          double *correct)
{
    const size_t bs = m->max_batch;
    wide_prepare(m);
    for (size_t s = 0; s < n; s += bs) {
        size_t nb = n - s < bs ? n - s : bs, ld = round_up(nb, NN_LANES);
        wide_gather(m, x, y, NULL, s, nb, ld);
        wide_forward(m, nb, ld);
        *sum += nn_batch_loss(m, nb, ld, NULL, correct);
    }
}

/* Classes of the training rows then the validation rows into m->labels
 * when every target row is one-hot (exactly one 1 and zeros; at most 16
 * classes in both fast paths), for tiny_gather and wide_gather; otherwise
 * m->labels stays NULL and the targets are copied. Grown like the epoch
 * order: before the first step. */
void nn_row_labels(nn_model *m, const float *y, size_t n, const float *yv, size_t nv)
{
    const size_t K = m->dims[m->n_layers];
    size_t tot = n + nv;
    if (m->labels_cap < tot) {
        int32_t *l = tot <= SIZE_MAX / sizeof *l ? realloc(m->labels, tot * sizeof *l) : NULL;
        if (!l) { /* not needed for correctness: copy the targets instead */
            free(m->labels);
            m->labels = NULL;
            m->labels_cap = 0;
            return;
        }
        m->labels = l;
        m->labels_cap = tot;
    }
    for (size_t r = 0; r < tot; r++) {
        const float *yr = r < n ? y + r * K : yv + (r - n) * K;
        size_t ones = 0, cls = 0;
        for (size_t k = 0; k < K; k++) {
            if (yr[k] == 1.0f)
                ones++, cls = k;
            else if (yr[k] != 0.0f || signbit(yr[k]))
                ones = 2;
        }
        if (ones != 1) {
            free(m->labels);
            m->labels = NULL;
            m->labels_cap = 0;
            return;
        }
        m->labels[r] = (int32_t)cls;
    }
}

