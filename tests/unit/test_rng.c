/* Unit tests for src/core/rng.c.
 *
 * Reference numbers come from outside rng.c:
 *  - xoshiro256** from state {1,2,3,4} -> 11520, 0, 1509978240,
 *    1215971899390074240, ... and SplitMix64 from state 0 -> 0xe220a8397b1dcdaf,
 *    ... are the published test vectors of the reference C code (Blackman &
 *    Vigna, prng.di.unimi.it; also in rand_xoshiro's tests), re-derived by the
 *    independent Python implementation in tests/fixtures/gen_rng_reference.py.
 *  - rng_seed / rng_stream / uniform / normal / below / shuffle values come from
 *    that same Python script (big-integer arithmetic, shares no code with C).
 *  - MT19937 outputs and RandomState.permutation values come from numpy
 *    (/usr/bin/python3, numpy's legacy RandomState), printed by the script.
 *    The 10000th output of MT19937 seeded 5489 is 4123659995: the value the
 *    C++ standard requires of std::mt19937 ([rand.predef]).
 * Regenerate: /usr/bin/python3 tests/fixtures/gen_rng_reference.py
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rng.h"

/* SplitMix64 is private to rng.c; its first output is observable through
 * rng_seed: s[0] after rng_seed(seed) is splitmix64's first output from seed. */
static void test_splitmix64_reference(void **state)
{
    rng_state r;
    (void)state;
    rng_seed(&r, 0);
    assert_true(r.s[0] == UINT64_C(0xe220a8397b1dcdaf));
    assert_true(r.s[1] == UINT64_C(0x6e789e6aa1b965f4));
    assert_true(r.s[2] == UINT64_C(0x06c45d188009454f));
    assert_true(r.s[3] == UINT64_C(0xf88bb8a8724c81ec));
    assert_int_equal(r.has_spare, 0);
}

static void test_xoshiro_reference(void **state)
{
    static const uint64_t expect[6] = {
        UINT64_C(11520), UINT64_C(0), UINT64_C(1509978240),
        UINT64_C(1215971899390074240), UINT64_C(1216172134540287360),
        UINT64_C(607988272756665600)};
    rng_state r;
    int i;
    (void)state;
    memset(&r, 0, sizeof r);
    r.s[0] = 1;
    r.s[1] = 2;
    r.s[2] = 3;
    r.s[3] = 4;
    for (i = 0; i < 6; i++)
        assert_true(rng_next(&r) == expect[i]);
}

static void test_seed_and_stream_reference(void **state)
{
    static const uint64_t seed42[4] = {
        UINT64_C(0x15780b2e0c2ec716), UINT64_C(0x6104d9866d113a7e),
        UINT64_C(0xae17533239e499a1), UINT64_C(0xecb8ad4703b360a1)};
    static const uint64_t stream42_split[4] = {
        UINT64_C(0x74ec10a039ab1445), UINT64_C(0x4a877a324d42a80a),
        UINT64_C(0xe1da9bfa268b2c37), UINT64_C(0xa4b730a04bf44d15)};
    rng_state r;
    int i;
    (void)state;
    rng_seed(&r, 42);
    for (i = 0; i < 4; i++)
        assert_true(rng_next(&r) == seed42[i]);
    rng_stream(&r, 42, RNG_PURPOSE_SPLIT);
    for (i = 0; i < 4; i++)
        assert_true(rng_next(&r) == stream42_split[i]);
    rng_stream(&r, 7, RNG_PURPOSE_INIT);
    assert_true(rng_next(&r) == UINT64_C(0x01800b4b961fa208));
    assert_true(rng_next(&r) == UINT64_C(0x5ab5e90200cdfa68));
}

static void test_uniform_normal_reference(void **state)
{
    static const double u[3] = {0.08386297105988216, 0.3789802506626686,
                                0.6800434110281394};
    static const double g[4] = {-0.303263064678738, 0.28846173882942383,
                                1.3438117634372806, -0.6879751798977497};
    rng_state r;
    int i;
    (void)state;
    rng_seed(&r, 42);
    for (i = 0; i < 3; i++)
        assert_true(rng_uniform(&r) == u[i]); /* exact: 53 bits * 2^-53 */
    rng_seed(&r, 42);
    for (i = 0; i < 4; i++)
        assert_true(fabs(rng_normal(&r) - g[i]) < 1e-12);
    /* the spare is consumed: after 4 normals (2 pairs) no spare is pending */
    assert_int_equal(r.has_spare, 0);
}

static void test_below_shuffle_reference(void **state)
{
    static const uint64_t b10[12] = {0, 3, 6, 9, 9, 7, 7, 8, 7, 5, 6, 2};
    static const uint64_t bbig[3] = {UINT64_C(3495475846482276229),
                                     UINT64_C(6272293381124287899),
                                     UINT64_C(8528787054591073511)};
    static const uint32_t shuf[10] = {4, 5, 6, 8, 7, 1, 2, 3, 9, 0};
    static const uint32_t shuf11[11] = {5, 6, 2, 7, 9, 4, 1, 8, 3, 10, 0};
    uint32_t a[11];
    rng_state r;
    int i;
    (void)state;
    rng_seed(&r, 42);
    for (i = 0; i < 12; i++)
        assert_true(rng_below(&r, 10) == b10[i]);
    rng_seed(&r, 42);
    for (i = 0; i < 3; i++)
        assert_true(rng_below(&r, (UINT64_C(1) << 63) + 12345) == bbig[i]);
    for (i = 0; i < 10; i++)
        a[i] = (uint32_t)i;
    rng_seed(&r, 42);
    rng_shuffle_u32(&r, a, 10);
    assert_memory_equal(a, shuf, sizeof shuf);
    /* 9 words = 5 outputs, the last high half dropped: the generator is
     * where 10 words (n = 11) also leave it */
    assert_true(rng_next(&r) == UINT64_C(0xc50da53101795238));
    for (i = 0; i < 11; i++)
        a[i] = (uint32_t)i;
    rng_seed(&r, 42);
    rng_shuffle_u32(&r, a, 11);
    assert_memory_equal(a, shuf11, sizeof shuf11);
    assert_true(rng_next(&r) == UINT64_C(0xc50da53101795238));
    /* n = 0 and 1 do not draw */
    rng_seed(&r, 42);
    rng_shuffle_u32(&r, a, 1);
    rng_shuffle_u32(&r, NULL, 0);
    assert_true(rng_next(&r) == UINT64_C(0x15780b2e0c2ec716));
    /* n = 1 always gives 0 */
    for (i = 0; i < 5; i++)
        assert_true(rng_below(&r, 1) == 0);
}

/* A million rows: 64 of the draws are rejected and redrawn (the reference
 * counts them), so the rejection path and the word order after it are
 * checked against the Python reference too. */
static void test_shuffle_big_reference(void **state)
{
    enum { N = 1000000 };
    static const uint32_t head[4] = {724103, 426995, 255166, 621829};
    uint32_t *a = malloc(N * sizeof *a);
    uint64_t chk = 0;
    rng_state r;
    size_t i;
    (void)state;
    assert_non_null(a);
    for (i = 0; i < N; i++)
        a[i] = (uint32_t)i;
    rng_seed(&r, 9);
    rng_shuffle_u32(&r, a, N);
    assert_memory_equal(a, head, sizeof head);
    for (i = 0; i < N; i++)
        chk += (uint64_t)(i + 1) * a[i];
    assert_true(chk == UINT64_C(249917797100717788));
    assert_true(rng_next(&r) == UINT64_C(0xb8950dcfc135fbbd));
    free(a);
}

/* All 24 orders of 4 rows equally likely: chi-square over 240000 shuffles
 * of one stream, df = 23, P(chi2 > 70) < 1e-6. */
static void test_shuffle_distribution(void **state)
{
    enum { N = 240000 };
    size_t cnt[256] = {0};
    rng_state r;
    double chi = 0.0;
    size_t i, seen = 0;
    (void)state;
    rng_seed(&r, 2024);
    for (i = 0; i < N; i++) {
        uint32_t a[4] = {0, 1, 2, 3};
        rng_shuffle_u32(&r, a, 4);
        cnt[a[0] * 64 + a[1] * 16 + a[2] * 4 + a[3]]++;
    }
    for (i = 0; i < 256; i++)
        if (cnt[i]) {
            double d = (double)cnt[i] - N / 24.0;
            chi += d * d / (N / 24.0);
            seen++;
        }
    assert_int_equal(seen, 24);
    assert_true(chi < 70.0);
}

static void test_below_distribution(void **state)
{
    /* chi-square over 7 buckets, 700000 draws: df = 6, P(chi2 > 30) < 4e-5 */
    enum { K = 7, N = 700000 };
    size_t cnt[K] = {0};
    rng_state r;
    double chi = 0.0;
    int i;
    (void)state;
    rng_seed(&r, 2024);
    for (i = 0; i < N; i++) {
        uint64_t v = rng_below(&r, K);
        assert_true(v < K);
        cnt[v]++;
    }
    for (i = 0; i < K; i++) {
        double e = (double)N / K, d = (double)cnt[i] - e;
        chi += d * d / e;
    }
    assert_true(chi < 30.0);
}

static void test_uniform_moments(void **state)
{
    /* n = 1e6: sd(mean) = sqrt(1/12/n) = 2.9e-4; sd(var) =
     * sqrt((1/80 - 1/144)/n) = 7.5e-5. Bounds at ~5 sd. */
    enum { N = 1000000 };
    rng_state r;
    double s = 0, s2 = 0, mean, var, lo = 1, hi = 0;
    int i;
    (void)state;
    rng_stream(&r, 1, RNG_PURPOSE_DATA_NOISE);
    for (i = 0; i < N; i++) {
        double u = rng_uniform(&r);
        s += u;
        s2 += u * u;
        if (u < lo) lo = u;
        if (u > hi) hi = u;
    }
    mean = s / N;
    var = s2 / N - mean * mean;
    assert_true(fabs(mean - 0.5) < 1.5e-3);
    assert_true(fabs(var - 1.0 / 12.0) < 4e-4);
    assert_true(lo >= 0.0 && hi < 1.0);
    assert_true(lo < 1e-4 && hi > 1 - 1e-4);
    for (i = 0; i < 1000; i++) {
        double v = rng_uniform_range(&r, -2.0, 3.0);
        assert_true(v >= -2.0 && v < 3.0);
    }
}

static void test_normal_moments(void **state)
{
    /* n = 1e6: sd(mean) = 1e-3, sd(var) = 1.4e-3, sd(skew) = 2.4e-3,
     * sd(excess kurtosis) = 4.9e-3. Bounds at ~5 sd. */
    enum { N = 1000000 };
    rng_state r;
    double s1 = 0, s2 = 0, s3 = 0, s4 = 0, m, v, skew, kurt;
    int i;
    (void)state;
    rng_stream(&r, 99, RNG_PURPOSE_INIT);
    for (i = 0; i < N; i++) {
        double g = rng_normal(&r);
        s1 += g;
        s2 += g * g;
        s3 += g * g * g;
        s4 += g * g * g * g;
    }
    m = s1 / N;
    v = s2 / N - m * m;
    skew = (s3 / N - 3 * m * s2 / N + 2 * m * m * m) / pow(v, 1.5);
    kurt = (s4 / N - 4 * m * s3 / N + 6 * m * m * s2 / N - 3 * m * m * m * m) / (v * v) - 3.0;
    assert_true(fabs(m) < 5e-3);
    assert_true(fabs(v - 1.0) < 7e-3);
    assert_true(fabs(skew) < 1.25e-2);
    assert_true(fabs(kurt) < 2.5e-2);
}

static void test_streams_independent(void **state)
{
    rng_state a, b;
    uint64_t va[8], vb[8];
    int i, p, q, same;
    (void)state;
    /* same (seed, purpose) -> same sequence */
    rng_stream(&a, 123, RNG_PURPOSE_SHUFFLE);
    rng_stream(&b, 123, RNG_PURPOSE_SHUFFLE);
    for (i = 0; i < 100; i++)
        assert_true(rng_next(&a) == rng_next(&b));
    rng_seed(&a, 5);
    rng_seed(&b, 5);
    for (i = 0; i < 100; i++)
        assert_true(rng_normal(&a) == rng_normal(&b));
    /* different purposes of one seed, and one purpose of different seeds,
     * share no word among their first 8 */
    for (p = RNG_PURPOSE_DATA_NOISE; p <= RNG_PURPOSE_SHUFFLE; p++) {
        for (q = p + 1; q <= RNG_PURPOSE_SHUFFLE; q++) {
            int k, l;
            rng_stream(&a, 1, (rng_purpose)p);
            rng_stream(&b, 1, (rng_purpose)q);
            for (k = 0; k < 8; k++) {
                va[k] = rng_next(&a);
                vb[k] = rng_next(&b);
            }
            for (k = 0; k < 8; k++)
                for (l = 0; l < 8; l++)
                    assert_true(va[k] != vb[l]);
        }
    }
    /* seeds 1/2 with purposes 2/1: the swap must not collide */
    rng_stream(&a, 1, RNG_PURPOSE_SPLIT);
    rng_stream(&b, 2, RNG_PURPOSE_DATA_NOISE);
    same = 0;
    for (i = 0; i < 8; i++)
        same += rng_next(&a) == rng_next(&b);
    assert_int_equal(same, 0);
    for (i = 0; i < 50; i++) {
        rng_stream(&a, (uint64_t)i, RNG_PURPOSE_INIT);
        rng_stream(&b, (uint64_t)i + 1, RNG_PURPOSE_INIT);
        assert_true(rng_next(&a) != rng_next(&b));
    }
    /* a stream is not the plain seed */
    rng_seed(&a, 42);
    rng_stream(&b, 42, RNG_PURPOSE_SPLIT);
    assert_true(rng_next(&a) != rng_next(&b));
}

static void test_mt19937_outputs(void **state)
{
    static const uint32_t s5489[5] = {3499211612u, 581869302u, 3890346734u,
                                      3586334585u, 545404204u};
    static const uint32_t s0[5] = {2357136044u, 2546248239u, 3071714933u,
                                   3626093760u, 2588848963u};
    static const uint32_t s42[5] = {1608637542u, 3421126067u, 4083286876u,
                                    787846414u, 3143890026u};
    rng_mt19937 m;
    uint32_t v = 0;
    int i;
    (void)state;
    rng_mt19937_seed(&m, 5489);
    for (i = 0; i < 5; i++)
        assert_int_equal(rng_mt19937_next(&m), s5489[i]);
    rng_mt19937_seed(&m, 0);
    for (i = 0; i < 5; i++)
        assert_int_equal(rng_mt19937_next(&m), s0[i]);
    rng_mt19937_seed(&m, 42);
    for (i = 0; i < 5; i++)
        assert_int_equal(rng_mt19937_next(&m), s42[i]);
    rng_mt19937_seed(&m, 5489);
    for (i = 0; i < 10000; i++)
        v = rng_mt19937_next(&m);
    assert_int_equal(v, 4123659995u);
}

struct perm_case {
    uint32_t seed;
    size_t n;
    uint32_t head[8];
    uint32_t tail[4];
    uint64_t checksum; /* sum over i of (i + 1) * p[i] */
};

static void test_mt19937_permutation(void **state)
{
    static const struct perm_case cases[] = {
        {0, 10, {2, 8, 4, 9, 1, 6, 7, 3}, {7, 3, 0, 5}, 230},
        {42, 800, {696, 667, 63, 533, 66, 621, 346, 490}, {106, 270, 435, 102}, 128297331},
        {1, 1797, {1227, 1576, 202, 1184, 428, 941, 598, 267}, {1791, 1096, 235, 1061}, 1460074074},
        {123, 5, {1, 3, 4, 0, 2}, {3, 4, 0, 2}, 29},
        {7, 1, {0}, {0}, 0},
        {3, 2, {1, 0}, {1, 0}, 1},
        {4294967295u, 640, {369, 2, 108, 609, 66, 19, 121, 619}, {71, 12, 290, 419}, 66410994},
    };
    size_t c;
    (void)state;
    for (c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const struct perm_case *pc = &cases[c];
        rng_mt19937 m;
        uint32_t *p = malloc(pc->n * sizeof *p);
        char *seen = calloc(pc->n, 1);
        uint64_t chk = 0;
        size_t i, nh = pc->n < 8 ? pc->n : 8, nt = pc->n < 4 ? pc->n : 4;
        assert_non_null(p);
        assert_non_null(seen);
        rng_mt19937_seed(&m, pc->seed);
        rng_mt19937_permutation(&m, p, pc->n);
        for (i = 0; i < pc->n; i++) {
            assert_true(p[i] < pc->n);
            assert_int_equal(seen[p[i]], 0);
            seen[p[i]] = 1;
            chk += (uint64_t)(i + 1) * p[i];
        }
        for (i = 0; i < nh; i++)
            assert_int_equal(p[i], pc->head[i]);
        for (i = 0; i < nt; i++)
            assert_int_equal(p[pc->n - nt + i], pc->tail[i]);
        assert_true(chk == pc->checksum);
        free(p);
        free(seen);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_splitmix64_reference),
        cmocka_unit_test(test_xoshiro_reference),
        cmocka_unit_test(test_seed_and_stream_reference),
        cmocka_unit_test(test_uniform_normal_reference),
        cmocka_unit_test(test_below_shuffle_reference),
        cmocka_unit_test(test_shuffle_big_reference),
        cmocka_unit_test(test_shuffle_distribution),
        cmocka_unit_test(test_below_distribution),
        cmocka_unit_test(test_uniform_moments),
        cmocka_unit_test(test_normal_moments),
        cmocka_unit_test(test_streams_independent),
        cmocka_unit_test(test_mt19937_outputs),
        cmocka_unit_test(test_mt19937_permutation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
