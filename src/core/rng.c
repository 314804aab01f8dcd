/* rng: xoshiro256** seeded by SplitMix64, plus MT19937 for numpy-compatible
 * permutations. See rng.h for the contract.
 *
 * Exact derivations (stored trials are reproduced from them, so never change
 * them):
 *
 *   splitmix64(state):  state += 0x9E3779B97F4A7C15;
 *                       z = state;
 *                       z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
 *                       z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
 *                       return z ^ (z >> 31);
 *
 *   rng_seed(seed):     sm = seed; s[0..3] = splitmix64(sm) four times, in
 *                       order (the seeding Vigna recommends for xoshiro).
 *
 *   rng_stream(seed, purpose):
 *                       k  = seed ^ (purpose * 0x9E3779B97F4A7C15)  (mod 2^64)
 *                       sm = k; k2 = splitmix64(sm)   (one SplitMix64 round)
 *                       rng_seed(k2)
 *     The extra round decorrelates streams whose keys differ in few bits
 *     (seed 1 purpose 2 vs seed 2 purpose 1 etc.); the odd multiplier makes
 *     purpose -> key injective for every fixed seed.
 *
 *   rng_substream(seed, purpose, index):
 *                       k  = seed ^ (purpose * 0x9E3779B97F4A7C15)
 *                       sm = k; b = splitmix64(sm)        (rng_stream's key)
 *                       j  = b ^ (index * 0xD1B54A32D192ED03)
 *                       sm = j; rng_seed(splitmix64(sm))
 *     The odd multiplier makes index -> j injective for every (seed,
 *     purpose); the SplitMix64 round decorrelates neighbouring indices.
 *
 *   rng_uniform:        (rng_next >> 11) * 2^-53, in [0, 1).
 *
 *   rng_normal:         Box-Muller on u1 = 1 - uniform (in (0, 1], so the log
 *                       is finite) and u2 = uniform: rad = sqrt(-2 ln u1),
 *                       returns rad * cos(2 pi u2) and keeps rad * sin(2 pi u2)
 *                       as the spare for the next call.
 *
 *   rng_shuffle_u32:    Fisher-Yates on 32-bit words, two per output, see
 *                       the comment above it. (Until issue 2's speed work it
 *                       drew one 64-bit below() per step; trials stored
 *                       before that replay with different batch orders.)
 */
#include "rng.h"

#include <math.h>

#define RNG_GOLDEN UINT64_C(0x9E3779B97F4A7C15)

static uint64_t splitmix64_next(uint64_t *state)
{
    uint64_t z = (*state += RNG_GOLDEN);
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static uint64_t rotl64(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void rng_seed(rng_state *r, uint64_t seed)
{
    uint64_t sm = seed;
    int i;
    for (i = 0; i < 4; i++)
        r->s[i] = splitmix64_next(&sm);
    /* SplitMix64 is a bijection of a counter, so the four words are never
     * all zero (the one state xoshiro cannot leave) for distinct counters;
     * guard anyway, it costs nothing. */
    if ((r->s[0] | r->s[1] | r->s[2] | r->s[3]) == 0)
        r->s[0] = RNG_GOLDEN;
    r->spare = 0.0;
    r->has_spare = 0;
}

void rng_stream(rng_state *r, uint64_t seed, rng_purpose purpose)
{
    uint64_t k = seed ^ ((uint64_t)purpose * RNG_GOLDEN);
    rng_seed(r, splitmix64_next(&k));
}

void rng_substream(rng_state *r, uint64_t seed, rng_purpose purpose, uint64_t index)
{
    uint64_t k = seed ^ ((uint64_t)purpose * RNG_GOLDEN);
    uint64_t j = splitmix64_next(&k) ^ (index * UINT64_C(0xD1B54A32D192ED03));
    rng_seed(r, splitmix64_next(&j));
}

uint64_t rng_next(rng_state *r)
{
    uint64_t *s = r->s;
    const uint64_t result = rotl64(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl64(s[3], 45);
    return result;
}

double rng_uniform(rng_state *r)
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

double rng_uniform_range(rng_state *r, double lo, double hi)
{
    return lo + (hi - lo) * rng_uniform(r);
}

double rng_normal(rng_state *r)
{
    const double two_pi = 6.283185307179586476925286766559;
    double u1, u2, rad;
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    u1 = 1.0 - rng_uniform(r);
    u2 = rng_uniform(r);
    rad = sqrt(-2.0 * log(u1));
    r->spare = rad * sin(two_pi * u2);
    r->has_spare = 1;
    return rad * cos(two_pi * u2);
}

/* 64 x 64 -> 128-bit product in portable C (no __int128 under -Wpedantic). */
static void mul64x64(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo)
{
    uint64_t a_lo = a & 0xFFFFFFFFu, a_hi = a >> 32;
    uint64_t b_lo = b & 0xFFFFFFFFu, b_hi = b >> 32;
    uint64_t p0 = a_lo * b_lo;
    uint64_t p1 = a_lo * b_hi;
    uint64_t p2 = a_hi * b_lo;
    uint64_t p3 = a_hi * b_hi;
    uint64_t mid = (p0 >> 32) + (p1 & 0xFFFFFFFFu) + (p2 & 0xFFFFFFFFu);
    *lo = (mid << 32) | (p0 & 0xFFFFFFFFu);
    *hi = p3 + (p1 >> 32) + (p2 >> 32) + (mid >> 32);
}

/* Lemire, "Fast random integer generation in an interval" (2019): the high
 * word of x * n is uniform on [0, n) once the low words below 2^64 mod n are
 * rejected. For n < 2^32 (every shuffle) the 128-bit product needs only two
 * 32 x 32 -> 64-bit multiplies instead of four: x * n = (xh * n) 2^32 +
 * xl * n with both partial products below 2^64. Same value as the general
 * product, so the stream is unchanged; the shuffle of every epoch spends most
 * of its time here (one draw per training row). */
static inline void mul64x32(uint64_t x, uint64_t n, uint64_t *hi, uint64_t *lo)
{
    uint64_t pl = (x & 0xFFFFFFFFu) * n;   /* < 2^64 */
    uint64_t ph = (x >> 32) * n + (pl >> 32); /* < 2^64: (2^32-1)(n+1) */
    *lo = (ph << 32) | (pl & 0xFFFFFFFFu);
    *hi = ph >> 32;
}

static inline uint64_t below(rng_state *r, uint64_t n)
{
    uint64_t hi, lo;
    if (n == 0)
        return 0; /* contract says n > 0; do not divide by zero anyway */
    if (n <= 0xFFFFFFFFu) {
        mul64x32(rng_next(r), n, &hi, &lo);
        if (lo < n) {
            uint64_t t = (0 - n) % n; /* 2^64 mod n */
            while (lo < t)
                mul64x32(rng_next(r), n, &hi, &lo);
        }
        return hi;
    }
    mul64x64(rng_next(r), n, &hi, &lo);
    if (lo < n) {
        uint64_t t = (0 - n) % n;
        while (lo < t)
            mul64x64(rng_next(r), n, &hi, &lo);
    }
    return hi;
}

uint64_t rng_below(rng_state *r, uint64_t n)
{
    return below(r, n);
}

void rng_below_fill(rng_state *r, uint64_t n, uint64_t *out, size_t count)
{
    rng_state st = *r; /* a local copy stays in registers (see word_source) */
    for (size_t i = 0; i < count; i++)
        out[i] = below(&st, n);
    *r = st;
}

/* Fisher-Yates from the top: i = n-1 down to 1 swaps idx[i] with idx[j],
 * j uniform on [0, i]. For n < 2^32 (always, idx being uint32) j comes from
 * 32-bit words, two per generator output, with Lemire's 32-bit
 * multiply-and-reject (same reference as below()):
 *
 *   word stream: each rng_next output gives its low 32 bits, then its high
 *                32 bits; a shuffle starts on a fresh output, and an unused
 *                high half left at its end is dropped.
 *   j = draw(i + 1):  w = next word; p = w * (i + 1) (64-bit product);
 *                     while (p mod 2^32) < (2^32 mod (i + 1)): w = next word,
 *                     p = w * (i + 1); j = p >> 32.
 *
 * Unbiased like below(); one generator step serves two rows, which halves
 * the generator's share of the per-epoch shuffle (it was most of it). n >=
 * 2^32 falls back to one below() per step.
 *
 * The generator state is copied into a local for the loop so that it stays
 * in registers (through r it is stored and reloaded every draw, which puts a
 * store-forwarding delay on the generator's dependency chain); the draws of
 * a block of 64 steps are made before its swaps, so the generator chain and
 * the swaps' loads and stores overlap. */
typedef struct {
    rng_state st;
    uint64_t buf; /* the output whose high half is next, when have */
    int have;
} word_source;

static inline uint32_t next_word(word_source *w)
{
    if (w->have) {
        w->have = 0;
        return (uint32_t)(w->buf >> 32);
    }
    w->buf = rng_next(&w->st);
    w->have = 1;
    return (uint32_t)w->buf;
}

static inline uint32_t draw32(word_source *w, uint32_t n)
{
    uint64_t p = (uint64_t)next_word(w) * n;
    if ((uint32_t)p < n) { /* rare: at most n / 2^32 of the draws get here */
        const uint32_t t = (uint32_t)(0u - n) % n; /* 2^32 mod n */
        while ((uint32_t)p < t)
            p = (uint64_t)next_word(w) * n;
    }
    return (uint32_t)(p >> 32);
}

void rng_shuffle_u32(rng_state *r, uint32_t *idx, size_t n)
{
    uint32_t js[64];
    size_t i;
    if (n < 2)
        return;
    if (n > 0xFFFFFFFFu) { /* i + 1 does not fit in 32 bits: one at a time */
        rng_state st = *r;
        for (i = n - 1; i > 0; i--) {
            size_t j = (size_t)below(&st, (uint64_t)i + 1);
            uint32_t t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
        }
        *r = st;
        return;
    }
    word_source ws;
    ws.st = *r;
    ws.buf = 0;
    ws.have = 0;
    for (i = n - 1; i > 0;) {
        size_t cnt = i < 64 ? i : 64, k;
        for (k = 0; k < cnt; k++)
            js[k] = draw32(&ws, (uint32_t)(i - k) + 1u);
        for (k = 0; k < cnt; k++, i--) {
            uint32_t j = js[k], t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
        }
    }
    *r = ws.st;
}

/* ---- MT19937 (Matsumoto & Nishimura 1998), numpy's legacy RandomState --- */

#define MT_N 624
#define MT_M 397
#define MT_MATRIX_A 0x9908b0dfu
#define MT_UPPER 0x80000000u
#define MT_LOWER 0x7fffffffu

void rng_mt19937_seed(rng_mt19937 *m, uint32_t seed)
{
    int i;
    m->mt[0] = seed;
    for (i = 1; i < MT_N; i++) {
        uint32_t prev = m->mt[i - 1];
        m->mt[i] = (uint32_t)(1812433253u * (prev ^ (prev >> 30)) + (uint32_t)i);
    }
    m->mti = MT_N;
}

static void mt_generate(rng_mt19937 *m)
{
    static const uint32_t mag01[2] = {0u, MT_MATRIX_A};
    uint32_t *mt = m->mt;
    uint32_t y;
    int k;
    for (k = 0; k < MT_N - MT_M; k++) {
        y = (mt[k] & MT_UPPER) | (mt[k + 1] & MT_LOWER);
        mt[k] = mt[k + MT_M] ^ (y >> 1) ^ mag01[y & 1u];
    }
    for (; k < MT_N - 1; k++) {
        y = (mt[k] & MT_UPPER) | (mt[k + 1] & MT_LOWER);
        mt[k] = mt[k + (MT_M - MT_N)] ^ (y >> 1) ^ mag01[y & 1u];
    }
    y = (mt[MT_N - 1] & MT_UPPER) | (mt[0] & MT_LOWER);
    mt[MT_N - 1] = mt[MT_M - 1] ^ (y >> 1) ^ mag01[y & 1u];
    m->mti = 0;
}

uint32_t rng_mt19937_next(rng_mt19937 *m)
{
    uint32_t y;
    if (m->mti >= MT_N)
        mt_generate(m);
    y = m->mt[m->mti++];
    y ^= (y >> 11);
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= (y >> 18);
    return y;
}

/* numpy's legacy random_interval(max): mask = smallest 2^k - 1 >= max, then
 * draw 32-bit outputs & mask until <= max. (numpy switches to 64-bit draws
 * for max > 2^32 - 1; idx is uint32, so n never gets there.) */
static uint32_t mt_interval(rng_mt19937 *m, uint32_t max)
{
    uint32_t mask = max, v;
    if (max == 0)
        return 0;
    mask |= mask >> 1;
    mask |= mask >> 2;
    mask |= mask >> 4;
    mask |= mask >> 8;
    mask |= mask >> 16;
    while ((v = (rng_mt19937_next(m) & mask)) > max)
        ;
    return v;
}

void rng_mt19937_permutation(rng_mt19937 *m, uint32_t *out, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        out[i] = (uint32_t)i;
    if (n < 2)
        return;
    for (i = n - 1; i > 0; i--) {
        size_t j = mt_interval(m, (uint32_t)i);
        uint32_t t = out[i];
        out[i] = out[j];
        out[j] = t;
    }
}
