/* bench_wide: training speed of wide models against the CPU's measured FMA
 * peak, one thread.
 *
 *   bench_wide peak
 *       the single-core peak in GFLOP/s: a loop of independent 512-bit (or,
 *       without AVX-512, 256/128-bit as the compiler vectorises) fused
 *       multiply-adds, best of 5 runs of 0.2 s
 *   bench_wide H BATCH EPOCHS [RUNS]
 *       digits (all 1797 rows, pixels / 16), 64 -> H relu -> H relu -> 10
 *       softmax, categorical cross-entropy, Adam (Keras defaults), no
 *       validation; prints one line per run: seconds per epoch and GFLOP/s
 *       of the model's matrix products (2 flops per multiply-add: forward,
 *       weight gradients and the input deltas of layers 2 and 3).
 *
 * bench/bench_torch.py trains the same model in PyTorch and prints the same
 * lines; bench/bench_wide.sh runs both alternately and prints medians.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "data.h"
#include "nn.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 24 independent accumulator chains: more than FMA latency x FMA ports on
 * any current core, so the loop runs at the FMA throughput. */
static double fma_peak(void)
{
    double best = 0.0;
    for (int rep = 0; rep < 5; rep++) {
        const long iters = 20000000;
        double t0 = now_s(), flops;
        float sum = 0.0f;
#if defined(__AVX512F__)
        /* 24 named accumulators: an array invites GCC to interchange the
         * loops and keep the chains in memory */
        const __m512 x = _mm512_set1_ps(0.999999f), y = _mm512_set1_ps(1e-7f);
#define ACC(i) __m512 a##i = _mm512_set1_ps((float)(i))
#define STEP(i) a##i = _mm512_fmadd_ps(a##i, x, y)
#define SUM(i) sum += _mm512_reduce_add_ps(a##i)
#define ALL(F) F(0); F(1); F(2); F(3); F(4); F(5); F(6); F(7); F(8); F(9); F(10); F(11); \
    F(12); F(13); F(14); F(15); F(16); F(17); F(18); F(19); F(20); F(21); F(22); F(23)
        ALL(ACC);
        for (long k = 0; k < iters; k++) {
            ALL(STEP);
        }
        ALL(SUM);
#undef ACC
#undef STEP
#undef SUM
#undef ALL
        flops = (double)iters * 24 * 16 * 2;
#else
        float a[24][8];
        for (int i = 0; i < 24; i++)
            for (int j = 0; j < 8; j++)
                a[i][j] = (float)(i + j);
        for (long k = 0; k < iters; k++)
            for (int i = 0; i < 24; i++)
                for (int j = 0; j < 8; j++)
                    a[i][j] = a[i][j] * 0.999999f + 1e-7f;
        for (int i = 0; i < 24; i++)
            for (int j = 0; j < 8; j++)
                sum += a[i][j];
        flops = (double)iters * 24 * 8 * 2;
#endif
        double t = now_s() - t0;
        if (sum == 12345.0f) /* keeps the loop */
            printf(" ");
        if (flops / t / 1e9 > best)
            best = flops / t / 1e9;
    }
    return best;
}

static void dense(nn_model_config *c, size_t units, nn_activation a)
{
    nn_layer_config *l = &c->layers[c->n_layers++];
    l->units = units;
    l->activation = a;
    l->kernel_init = NN_INIT_GLOROT_UNIFORM;
    l->bias_init = NN_INIT_ZEROS;
}

int main(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "peak")) {
        printf("peak %.1f GFLOP/s\n", fma_peak());
        return 0;
    }
    if (argc < 4) {
        fprintf(stderr, "usage: bench_wide peak | bench_wide H BATCH EPOCHS [RUNS]\n");
        return 2;
    }
    /* a bench tool: bad numbers fall back to the defaults */
    size_t H = (size_t)strtoul(argv[1], NULL, 10), bs = (size_t)strtoul(argv[2], NULL, 10);
    size_t epochs = (size_t)strtoul(argv[3], NULL, 10);
    int runs = argc > 4 ? atoi(argv[4]) : 1;
    if (H < 1 || bs < 1 || epochs < 1 || runs < 1) {
        fprintf(stderr, "bench_wide: H, BATCH, EPOCHS and RUNS must be positive\n");
        return 2;
    }
    data_set digits;
    data_error err;
    memset(&digits, 0, sizeof digits);
    if (data_source_digits(&digits, &err) != 0) {
        fprintf(stderr, "bench_wide: cannot load the digits\n");
        return 1;
    }
    const size_t n = digits.n_rows, nin = 64, K = 10;
    float *x = malloc(n * nin * sizeof *x), *y = calloc(n * K, sizeof *y);
    if (!x || !y) {
        fprintf(stderr, "bench_wide: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < n * nin; i++)
        x[i] = digits.x[i] / 16.0f;
    for (size_t i = 0; i < n; i++)
        y[i * K + (size_t)digits.y[i]] = 1.0f;

    nn_model_config c;
    memset(&c, 0, sizeof c);
    c.n_inputs = nin;
    dense(&c, H, NN_ACT_RELU);
    dense(&c, H, NN_ACT_RELU);
    dense(&c, K, NN_ACT_SOFTMAX);
    c.loss = NN_LOSS_CATEGORICAL_CROSSENTROPY;
    nn_optimizer_defaults(&c.optimizer, NN_OPT_ADAM);
    nn_model *m = nn_model_new(&c, bs);
    if (!m) {
        fprintf(stderr, "bench_wide: cannot build the model\n");
        return 1;
    }
    const double h = (double)H;
    const double macs = 2.0 * (nin * h + h * h + h * K) + h * h + h * K;
    const double gflop = 2.0 * macs * (double)n * (double)epochs / 1e9;
    nn_fit_config fc = {.epochs = epochs, .batch_size = bs, .shuffle = 1};
    for (int k = 0; k < runs; k++) {
        rng_state ri, rs;
        rng_stream(&ri, (uint64_t)k + 1, RNG_PURPOSE_INIT);
        rng_stream(&rs, (uint64_t)k + 1, RNG_PURPOSE_SHUFFLE);
        nn_model_init(m, &ri);
        double t0 = now_s();
        nn_fit_result r = nn_fit(m, x, y, n, NULL, NULL, 0, &fc, &rs);
        double t = now_s() - t0;
        if (r.status != NN_FIT_DONE)
            fprintf(stderr, "bench_wide: fit status %d\n", (int)r.status);
        double loss, acc;
        nn_evaluate(m, x, y, n, 256, &loss, &acc);
        printf("runexp H %zu batch %zu epochs %zu: %.4f s/epoch %.1f GFLOP/s (train acc %.3f)\n",
               H, bs, epochs, t / (double)epochs, gflop / t, acc);
    }
    nn_model_free(m);
    free(x);
    free(y);
    data_set_free(&digits);
    return 0;
}
