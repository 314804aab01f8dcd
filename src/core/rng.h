/* rng: seedable random numbers with independent named streams.
 *
 * No global state: every function takes the generator it draws from. A trial
 * owns one stream per purpose, derived from (seed, purpose), so what a trial
 * draws never depends on which thread runs it or in which order.
 *
 * Generator: xoshiro256** (Blackman & Vigna 2018), its 256-bit state filled by
 * SplitMix64. Uniform doubles take the top 53 bits. Gaussian draws use the
 * Box-Muller transform; the second value of each pair is kept in the state and
 * returned by the next call.
 *
 * For scikit-learn compatible splits the module also carries MT19937 with
 * numpy's legacy seeding and numpy's RandomState.permutation algorithm.
 */
#ifndef RUNEXP_RNG_H
#define RUNEXP_RNG_H

#include <stddef.h>
#include <stdint.h>

/* What a stream is used for. The value is mixed into the stream's seed, so
 * streams of one seed are independent; never renumber these (stored trials
 * are reproduced from them). */
typedef enum {
    RNG_PURPOSE_DATA_NOISE = 1, /* augmentation noise */
    RNG_PURPOSE_SPLIT = 2,      /* train/validation/test splits */
    RNG_PURPOSE_INIT = 3,       /* weight initialisation */
    RNG_PURPOSE_SHUFFLE = 4,    /* per-epoch shuffling in fit */
    RNG_PURPOSE_BOOTSTRAP = 5,  /* resamples of stats' bootstrap CIs */
    RNG_PURPOSE_DROPOUT = 6,    /* dropout masks in fit (nn_fit_config.dropout_rng) */
    RNG_PURPOSE_SEARCH = 7      /* random search draws (rng_substream(search.seed, ., i)) */
} rng_purpose;

typedef struct rng_state {
    uint64_t s[4];
    double spare;  /* second Box-Muller value */
    int has_spare; /* 1 when spare holds an unused value */
} rng_state;

/* Seeds r from a 64-bit seed through SplitMix64. */
void rng_seed(rng_state *r, uint64_t seed);

/* Seeds r as the stream for (seed, purpose). */
void rng_stream(rng_state *r, uint64_t seed, rng_purpose purpose);

/* Seeds r as substream `index` of (seed, purpose): one stream per index,
 * so draw i does not depend on how many draws came before or after it. */
void rng_substream(rng_state *r, uint64_t seed, rng_purpose purpose, uint64_t index);

/* Next 64 raw bits. */
uint64_t rng_next(rng_state *r);

/* Uniform double in [0, 1), 53 random bits. */
double rng_uniform(rng_state *r);

/* Uniform double in [lo, hi). */
double rng_uniform_range(rng_state *r, double lo, double hi);

/* Standard normal N(0, 1) (Box-Muller). */
double rng_normal(rng_state *r);

/* Uniform integer in [0, n), unbiased (Lemire's multiply-and-reject); n > 0. */
uint64_t rng_below(rng_state *r, uint64_t n);
/* out[i] = rng_below(r, n) for i = 0..count-1, in that order: the same draws
 * as count calls, made with the generator state kept in registers. */
void rng_below_fill(rng_state *r, uint64_t n, uint64_t *out, size_t count);

/* Fisher-Yates shuffle of idx[0..n) in place. */
void rng_shuffle_u32(rng_state *r, uint32_t *idx, size_t n);

/* MT19937 with numpy's legacy seeding: numpy.random.RandomState(seed). */
typedef struct rng_mt19937 {
    uint32_t mt[624];
    int mti;
} rng_mt19937;

/* init_genrand(seed), as RandomState(seed) does for 0 <= seed < 2^32. */
void rng_mt19937_seed(rng_mt19937 *m, uint32_t seed);

/* Next 32 bits (genrand_int32). */
uint32_t rng_mt19937_next(rng_mt19937 *m);

/* out[i] = RandomState.permutation(n)[i]: out starts as 0..n-1, then a
 * Fisher-Yates from i = n-1 down to 1 with j drawn in [0, i] by masked
 * rejection sampling of 32-bit outputs (numpy's legacy random_interval). */
void rng_mt19937_permutation(rng_mt19937 *m, uint32_t *out, size_t n);

#endif
