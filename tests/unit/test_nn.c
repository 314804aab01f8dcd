/* test_nn: gradients against finite differences, optimizer steps against the
 * formulas evaluated here in double, initializer limits, the Keras summary
 * text, fit-history semantics on a case worked out by hand, reproducibility,
 * divergence, and the lab accuracy figures over 10 seeds. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "data.h"
#include "nn.h"
#include "nn_internal.h" /* sizeof(struct nn_model), for the arena counted by hand */

/* cmocka 1.1 has no floating-point assertion */
#define assert_near(a, b, tol) \
    check_near((double)(a), (double)(b), (double)(tol), #a, __FILE__, __LINE__)
static void check_near(double a, double b, double tol, const char *what,
                       const char *file, int line)
{
    if (!(fabs(a - b) <= tol) && !(a == b)) {
        print_error("%s = %.17g, expected %.17g (tolerance %g)\n", what, a, b, tol);
        _fail(file, line);
    }
}

static const char *act_names[] = {"linear", "relu", "sigmoid", "tanh", "softmax"};
static const char *loss_names[] = {"cce", "bce", "mse"};

static void layer(nn_model_config *c, size_t units, nn_activation a)
{
    nn_layer_config *l = &c->layers[c->n_layers++];
    l->units = units;
    l->activation = a;
    l->kernel_init = NN_INIT_GLOROT_UNIFORM;
    l->bias_init = NN_INIT_ZEROS;
}

/* ---- finite-difference gradient check ------------------------------------ */

/* Central differences of the batch-mean loss, params perturbed by +-h. */
static int grad_check(nn_activation hidden, nn_activation out, nn_loss loss,
                      size_t n_hidden_layers, uint64_t seed)
{
    const size_t nin = 3, K = 3, n = 7;
    nn_model_config c;
    memset(&c, 0, sizeof c);
    c.n_inputs = nin;
    for (size_t l = 0; l < n_hidden_layers; l++)
        layer(&c, l == 0 ? 5 : 4, hidden);
    layer(&c, K, out);
    c.loss = loss;
    nn_optimizer_defaults(&c.optimizer, NN_OPT_SGD);
    nn_model *m = nn_model_new(&c, 8);
    assert_non_null(m);
    rng_state r;
    rng_seed(&r, seed);
    nn_model_init(m, &r);
    float *p = nn_model_params(m);
    size_t np = nn_model_param_count(m);
    /* non-zero biases so that every unit is exercised */
    /* (positive ones for relu layers, so that not every unit is dead) */
    for (size_t l = 0; l < c.n_layers; l++)
        for (size_t o = 0; o < c.layers[l].units; o++)
            p[nn_model_bias_offset(m, l) + o] =
                c.layers[l].activation == NN_ACT_RELU
                    ? (float)rng_uniform_range(&r, 0.2, 0.5)
                    : (float)rng_uniform_range(&r, -0.3, 0.3);
    /* The probability paths of CCE and BCE (outputs other than softmax /
     * sigmoid) need outputs in (0, 1), as Keras clips them there: a small
     * output kernel and bias 0.5 keep linear/relu/tanh outputs inside. */
    size_t L = c.n_layers - 1;
    if ((loss == NN_LOSS_CATEGORICAL_CROSSENTROPY && out != NN_ACT_SOFTMAX) ||
        (loss == NN_LOSS_BINARY_CROSSENTROPY && out != NN_ACT_SIGMOID &&
         out != NN_ACT_SOFTMAX)) {
        for (size_t i = 0; i < nn_model_layer_inputs(m, L) * K; i++)
            p[nn_model_kernel_offset(m, L) + i] *= 0.2f;
        for (size_t o = 0; o < K; o++)
            p[nn_model_bias_offset(m, L) + o] = 0.5f + 0.05f * (float)o;
    }
    float x[7 * 3], y[7 * 3];
    for (size_t i = 0; i < n * nin; i++)
        x[i] = (float)rng_uniform_range(&r, -1.0, 1.0);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < K; k++) {
            if (loss == NN_LOSS_CATEGORICAL_CROSSENTROPY)
                y[i * K + k] = k == i % K ? 1.0f : 0.0f;
            else if (loss == NN_LOSS_BINARY_CROSSENTROPY)
                y[i * K + k] = (i + k) % 2 ? 1.0f : 0.0f;
            else
                y[i * K + k] = (float)rng_uniform_range(&r, -0.5, 1.0);
        }
    float *g = NULL;
    double l0 = nn_model_loss_grad(m, x, y, n, &g);
    assert_true(isfinite(l0));
    double *ga = malloc(np * sizeof *ga), *gn = malloc(np * sizeof *gn);
    assert_non_null(ga);
    assert_non_null(gn);
    for (size_t i = 0; i < np; i++)
        ga[i] = g[i];
    /* A relu kink within h of a pre-activation makes the central difference
     * meaningless for that parameter: it shows as a disagreement between
     * steps h and h/4, and such parameters (at most 10%) are left out. */
    size_t skipped = 0;
    for (size_t i = 0; i < np; i++) {
        float keep = p[i];
        double fd[2];
        for (int k = 0; k < 2; k++) {
            float hh = k ? 2.5e-4f : 1e-3f;
            p[i] = keep + hh;
            double lp = nn_model_loss_grad(m, x, y, n, NULL);
            p[i] = keep - hh;
            double lm = nn_model_loss_grad(m, x, y, n, NULL);
            fd[k] = (lp - lm) / ((double)(keep + hh) - (double)(keep - hh));
        }
        p[i] = keep;
        gn[i] = fd[0];
        if (fabs(fd[0] - fd[1]) > 0.05 * fabs(fd[0]) + 2e-3) {
            gn[i] = ga[i] = 0.0;
            skipped++;
        }
    }
    if (skipped * 10 > np) {
        print_error("gradient check %s -> %s, %s: %zu of %zu parameters not smooth\n",
                    act_names[hidden], act_names[out], loss_names[loss], skipped, np);
        nn_model_free(m);
        free(ga);
        free(gn);
        return 0;
    }
    double num = 0.0, na = 0.0, nn2 = 0.0;
    for (size_t i = 0; i < np; i++) {
        num += (ga[i] - gn[i]) * (ga[i] - gn[i]);
        na += ga[i] * ga[i];
        nn2 += gn[i] * gn[i];
    }
    double rel = sqrt(num) / fmax(sqrt(fmax(na, nn2)), 1e-12);
    int ok = sqrt(na) > 1e-4 && rel < 2e-2;
    if (!ok)
        print_error("gradient check %s hidden x%zu -> %s, loss %s: |g| = %.3g, "
                    "relative error %.3g\n",
                    act_names[hidden], n_hidden_layers, act_names[out], loss_names[loss],
                    sqrt(na), rel);
    free(ga);
    free(gn);
    nn_model_free(m);
    return ok;
}

static void test_gradients(void **state)
{
    (void)state;
    int failures = 0, checked = 0;
    for (int loss = 0; loss <= (int)NN_LOSS_MEAN_SQUARED_ERROR; loss++)
        for (int out = 0; out <= (int)NN_ACT_SOFTMAX; out++)
            for (int hid = 0; hid <= (int)NN_ACT_SOFTMAX; hid++)
                for (size_t depth = 1; depth <= 2; depth++) {
                    uint64_t seed = 1000u + (uint64_t)(loss * 100 + out * 10 + hid) * 3u + depth;
                    failures += !grad_check((nn_activation)hid, (nn_activation)out,
                                            (nn_loss)loss, depth, seed);
                    checked++;
                }
    printf("# %d gradient checks (3 losses x 5 output x 5 hidden activations x "
           "2 or 3 layers), %d failed\n", checked, failures);
    assert_int_equal(failures, 0);
}

/* ---- optimizers: first three steps against the formulas ------------------- */

static nn_model *tiny_model(nn_optimizer_kind kind)
{
    nn_model_config c;
    memset(&c, 0, sizeof c);
    c.n_inputs = 1;
    layer(&c, 1, NN_ACT_LINEAR); /* params: w, b */
    c.loss = NN_LOSS_MEAN_SQUARED_ERROR;
    nn_optimizer_defaults(&c.optimizer, kind);
    nn_model *m = nn_model_new(&c, 4);
    assert_non_null(m);
    rng_state r;
    rng_seed(&r, 1);
    nn_model_init(m, &r);
    nn_model_params(m)[0] = 0.5f;
    nn_model_params(m)[1] = -0.3f;
    return m;
}

static const float grads3[3][2] = {{0.1f, -0.2f}, {0.3f, 0.05f}, {-0.15f, 0.4f}};

static void test_adam(void **state)
{
    (void)state;
    nn_model *m = tiny_model(NN_OPT_ADAM);
    /* step 1 by hand: m = 0.1 g, v = 0.001 g^2, alpha_1 = lr sqrt(0.001) / 0.1,
     * so the step is lr * sign(g) * |g| sqrt(0.001) / (|g| sqrt(0.001) + eps) */
    nn_model_apply_gradient(m, grads3[0]);
    double s = sqrt(0.001);
    assert_near(nn_model_params(m)[0], 0.5 - 0.001 * (0.1 * s) / (0.1 * s + 1e-7), 1e-7);
    assert_near(nn_model_params(m)[1], -0.3 + 0.001 * (0.2 * s) / (0.2 * s + 1e-7), 1e-7);
    nn_model_free(m);

    m = tiny_model(NN_OPT_ADAM);
    double th[2] = {0.5, -0.3}, mm[2] = {0, 0}, vv[2] = {0, 0};
    for (int t = 1; t <= 3; t++) {
        nn_model_apply_gradient(m, grads3[t - 1]);
        double alpha = 0.001 * sqrt(1.0 - pow(0.999, t)) / (1.0 - pow(0.9, t));
        for (int i = 0; i < 2; i++) {
            double g = grads3[t - 1][i];
            mm[i] += (g - mm[i]) * (1.0 - 0.9);
            vv[i] += (g * g - vv[i]) * (1.0 - 0.999);
            th[i] -= alpha * mm[i] / (sqrt(vv[i]) + 1e-7);
            assert_near(nn_model_params(m)[i], th[i], 2e-7);
        }
    }
    nn_model_free(m);
}

/* Where epsilon goes. With a gradient of 1e-6, epsilon (1e-7) dominates the
 * first step, so the two placements are far apart:
 *   Keras (eps on the uncorrected sqrt(v)):
 *     step = alpha_1 m / (sqrt(v) + eps) = lr sqrt(.001) g / (sqrt(.001)|g| + eps) = 2.40e-4
 *   PyTorch (eps after bias correction):
 *     step = lr m_hat / (sqrt(v_hat) + eps) = lr g / (|g| + eps)                      = 9.09e-4
 * float32 resolves 6e-8 at 0.5, so a 1e-6 tolerance tells them apart. */
static void test_adam_epsilon_placement(void **state)
{
    (void)state;
    nn_model *m = tiny_model(NN_OPT_ADAM);
    const float g[2] = {1e-6f, -1e-6f};
    nn_model_apply_gradient(m, g);
    double s = sqrt(0.001), keras[2], torch[2];
    for (int i = 0; i < 2; i++) {
        double gi = g[i], th0 = i ? -0.3 : 0.5;
        keras[i] = th0 - 0.001 * s * gi / (s * fabs(gi) + 1e-7);
        torch[i] = th0 - 0.001 * gi / (fabs(gi) + 1e-7);
        assert_near(nn_model_params(m)[i], keras[i], 1e-6);
        assert_true(fabs(nn_model_params(m)[i] - torch[i]) > 5e-4);
    }
    nn_model_free(m);
}

static void test_sgd(void **state)
{
    (void)state;
    for (int variant = 0; variant < 3; variant++) {
        nn_model *m = tiny_model(NN_OPT_SGD);
        nn_model_config *c = (nn_model_config *)nn_model_get_config(m);
        double lr = 0.01, mu = variant ? 0.9 : 0.0;
        c->optimizer.momentum = mu;
        c->optimizer.nesterov = variant == 2;
        double th[2] = {0.5, -0.3}, v[2] = {0, 0};
        for (int t = 0; t < 3; t++) {
            nn_model_apply_gradient(m, grads3[t]);
            for (int i = 0; i < 2; i++) {
                double g = grads3[t][i];
                if (variant == 0) {
                    th[i] -= lr * g;
                } else {
                    v[i] = mu * v[i] - lr * g;
                    th[i] += variant == 2 ? mu * v[i] - lr * g : v[i];
                }
                assert_near(nn_model_params(m)[i], th[i], 1e-7);
            }
        }
        /* by hand, plain SGD after 3 steps: 0.5 - 0.01 (0.1 + 0.3 - 0.15) */
        if (variant == 0)
            assert_near(nn_model_params(m)[0], 0.4975, 1e-7);
        /* momentum step 2: v = 0.9 (-0.001) - 0.003 = -0.0039 ->
         * theta = 0.5 - 0.001 - 0.0039 = 0.4951 */
        nn_model_free(m);
    }
}

static void test_rmsprop(void **state)
{
    (void)state;
    nn_model *m = tiny_model(NN_OPT_RMSPROP);
    double th[2] = {0.5, -0.3}, s[2] = {0, 0};
    nn_model_apply_gradient(m, grads3[0]);
    /* step 1 by hand: s = 0.1 g^2, step = lr g / sqrt(0.1 g^2 + eps) */
    assert_near(nn_model_params(m)[0], 0.5 - 0.001 * 0.1 / sqrt(0.001 + 1e-7), 1e-7);
    nn_model_free(m);
    m = tiny_model(NN_OPT_RMSPROP);
    for (int t = 0; t < 3; t++) {
        nn_model_apply_gradient(m, grads3[t]);
        for (int i = 0; i < 2; i++) {
            double g = grads3[t][i];
            s[i] = 0.9 * s[i] + 0.1 * g * g;
            th[i] -= 0.001 * g / sqrt(s[i] + 1e-7);
            assert_near(nn_model_params(m)[i], th[i], 2e-7);
        }
    }
    nn_model_free(m);
}

/* ---- initializers ----------------------------------------------------------- */

static void check_uniform(const float *w, size_t n, double limit)
{
    double sum = 0.0, sq = 0.0, mx = 0.0;
    size_t quart[4] = {0, 0, 0, 0};
    for (size_t i = 0; i < n; i++) {
        assert_true(fabs(w[i]) <= limit);
        sum += w[i];
        sq += (double)w[i] * w[i];
        mx = fmax(mx, fabs(w[i]));
        int q = (int)((w[i] + limit) / (2.0 * limit) * 4.0);
        quart[q > 3 ? 3 : q]++;
    }
    double mean = sum / (double)n, var = sq / (double)n - mean * mean;
    /* U(-l, l): mean 0, variance l^2 / 3, a quarter of the values per quarter */
    assert_true(fabs(mean) < 0.1 * limit);
    assert_true(fabs(var / (limit * limit / 3.0) - 1.0) < 0.2);
    assert_true(mx > 0.9 * limit);
    for (int q = 0; q < 4; q++)
        assert_true(fabs((double)quart[q] / (double)n - 0.25) < 0.08);
}

static void test_glorot(void **state)
{
    (void)state;
    /* XOR: l = sqrt(6 / (2 + 6)) = sqrt(6 / (6 + 2)) = 0.8660 for both layers */
    nn_model_config c;
    memset(&c, 0, sizeof c);
    c.n_inputs = 2;
    layer(&c, 6, NN_ACT_RELU);
    layer(&c, 2, NN_ACT_SOFTMAX);
    nn_optimizer_defaults(&c.optimizer, NN_OPT_ADAM);
    nn_model *m = nn_model_new(&c, 32);
    assert_non_null(m);
    float all[12 * 40];
    size_t na = 0;
    for (uint64_t seed = 1; seed <= 40; seed++) {
        rng_state r;
        rng_stream(&r, seed, RNG_PURPOSE_INIT);
        nn_model_init(m, &r);
        const float *p = nn_model_params_const(m);
        for (size_t i = 0; i < 12; i++) {
            assert_true(fabs(p[i]) <= 0.8660254);
            all[na++] = p[i];
        }
        for (size_t i = 12; i < 18; i++)
            assert_true(p[i] == 0.0f);
        for (size_t i = 18; i < 30; i++)
            assert_true(fabs(p[i]) <= 0.8660254);
        for (size_t i = 30; i < 32; i++)
            assert_true(p[i] == 0.0f);
    }
    check_uniform(all, na, sqrt(6.0 / 8.0));
    nn_model_free(m);

    /* digits: l = sqrt(6 / 74) = 0.28475 */
    memset(&c, 0, sizeof c);
    c.n_inputs = 64;
    layer(&c, 10, NN_ACT_SOFTMAX);
    nn_optimizer_defaults(&c.optimizer, NN_OPT_ADAM);
    m = nn_model_new(&c, 128);
    assert_non_null(m);
    rng_state r;
    rng_stream(&r, 3, RNG_PURPOSE_INIT);
    nn_model_init(m, &r);
    check_uniform(nn_model_params_const(m), 640, 0.28475);
    for (size_t i = 640; i < 650; i++)
        assert_true(nn_model_params_const(m)[i] == 0.0f);
    nn_model_free(m);

    /* he_uniform l = sqrt(6 / 64); he_normal / glorot_normal: truncated at
     * 2 sd, sd = sqrt(2 / fan) after Keras's 0.8796 correction */
    const nn_init inits[3] = {NN_INIT_HE_UNIFORM, NN_INIT_HE_NORMAL, NN_INIT_GLOROT_NORMAL};
    for (int k = 0; k < 3; k++) {
        memset(&c, 0, sizeof c);
        c.n_inputs = 64;
        layer(&c, 64, NN_ACT_RELU);
        c.layers[0].kernel_init = inits[k];
        nn_optimizer_defaults(&c.optimizer, NN_OPT_ADAM);
        m = nn_model_new(&c, 8);
        assert_non_null(m);
        rng_stream(&r, 5, RNG_PURPOSE_INIT);
        nn_model_init(m, &r);
        const float *p = nn_model_params_const(m);
        if (inits[k] == NN_INIT_HE_UNIFORM) {
            check_uniform(p, 4096, sqrt(6.0 / 64.0));
        } else {
            /* he: 2 / fan_in; glorot: 2 / (fan_in + fan_out) */
            double target = inits[k] == NN_INIT_HE_NORMAL ? sqrt(2.0 / 64.0) : sqrt(2.0 / 128.0);
            double sd = target / 0.87962566103423978, sq = 0.0;
            for (size_t i = 0; i < 4096; i++) {
                assert_true(fabs(p[i]) <= 2.0 * sd + 1e-7);
                sq += (double)p[i] * p[i];
            }
            assert_true(fabs(sqrt(sq / 4096.0) / target - 1.0) < 0.05);
        }
        nn_model_free(m);
    }
}

/* ---- summary ------------------------------------------------------------------ */

static void check_summary(const nn_model *m, const char *expected)
{
    char buf[4096];
    FILE *f = tmpfile();
    assert_non_null(f);
    nn_model_summary(m, f);
    rewind(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    assert_string_equal(buf, expected);
}

static void test_summary(void **state)
{
    (void)state;
    /* Keras 2.7-2.12 print_summary: rows padded to 65 columns (positions 29,
     * 55, 65), a blank 65-space row after every layer. */
    nn_model_config c;
    memset(&c, 0, sizeof c);
    c.n_inputs = 2;
    layer(&c, 6, NN_ACT_RELU);
    layer(&c, 2, NN_ACT_SOFTMAX);
    nn_model *m = nn_model_new(&c, 32);
    assert_non_null(m);
    assert_int_equal(nn_model_param_count(m), 32); /* 2*6 + 6 + 6*2 + 2 */
    check_summary(m,
                  "Model: \"sequential\"\n"
                  "_________________________________________________________________\n"
                  " Layer (type)                Output Shape              Param #   \n"
                  "=================================================================\n"
                  " dense (Dense)               (None, 6)                 18        \n"
                  "                                                                 \n"
                  " dense_1 (Dense)             (None, 2)                 14        \n"
                  "                                                                 \n"
                  "=================================================================\n"
                  "Total params: 32\n"
                  "Trainable params: 32\n"
                  "Non-trainable params: 0\n"
                  "_________________________________________________________________\n");
    nn_model_free(m);

    memset(&c, 0, sizeof c);
    c.n_inputs = 64;
    layer(&c, 10, NN_ACT_SOFTMAX);
    m = nn_model_new(&c, 128);
    assert_int_equal(nn_model_param_count(m), 650); /* 64*10 + 10 */
    check_summary(m,
                  "Model: \"sequential\"\n"
                  "_________________________________________________________________\n"
                  " Layer (type)                Output Shape              Param #   \n"
                  "=================================================================\n"
                  " dense (Dense)               (None, 10)                650       \n"
                  "                                                                 \n"
                  "=================================================================\n"
                  "Total params: 650\n"
                  "Trainable params: 650\n"
                  "Non-trainable params: 0\n"
                  "_________________________________________________________________\n");
    nn_model_free(m);

    /* thousands separators: 64*64+64 + 64*10+10 = 4810 -> "4,810" */
    memset(&c, 0, sizeof c);
    c.n_inputs = 64;
    layer(&c, 64, NN_ACT_RELU);
    layer(&c, 10, NN_ACT_SOFTMAX);
    m = nn_model_new(&c, 32);
    check_summary(m,
                  "Model: \"sequential\"\n"
                  "_________________________________________________________________\n"
                  " Layer (type)                Output Shape              Param #   \n"
                  "=================================================================\n"
                  " dense (Dense)               (None, 64)                4160      \n"
                  "                                                                 \n"
                  " dense_1 (Dense)             (None, 10)                650       \n"
                  "                                                                 \n"
                  "=================================================================\n"
                  "Total params: 4,810\n"
                  "Trainable params: 4,810\n"
                  "Non-trainable params: 0\n"
                  "_________________________________________________________________\n");
    nn_model_free(m);
}

/* ---- fit semantics on a case worked out by hand --------------------------------- */

typedef struct history {
    size_t n, orders;
    nn_epoch_log log[8];
    uint32_t order[8][3];
} history;

static int keep_log(void *user, const nn_epoch_log *log)
{
    history *h = user;
    if (h->n < 8)
        h->log[h->n++] = *log;
    return 0;
}

static void keep_order(void *user, size_t epoch, const uint32_t *order, size_t n)
{
    history *h = user;
    assert_int_equal(epoch, h->orders + 1);
    if (h->orders < 8 && n == 3)
        memcpy(h->order[h->orders++], order, sizeof h->order[0]);
}

static void test_fit_by_hand(void **state)
{
    (void)state;
    /* Dense(1, linear), MSE, SGD lr 0.1, no shuffle, batch 2 over 3 rows:
     * x = 1, 2, 4; y = 1, 0, 1; w = 0.5, b = 0.
     * batch 1 (rows 0, 1): p = 0.5, 1.0; e = -0.5, 1.0; L1 = (0.25 + 1) / 2
     *   = 0.625; dw = (2(-0.5)1 + 2(1)2) / 2 = 1.5, db = (-1 + 2) / 2 = 0.5
     *   -> w = 0.35, b = -0.05. accuracy (1 unit -> p > 0.5): 0/2.
     * batch 2 (row 2): p = 1.4 - 0.05 = 1.35, e = 0.35, L2 = 0.1225;
     *   dw = 2(0.35)4 = 2.8, db = 0.7 -> w = 0.07, b = -0.12. accuracy 1/1.
     * epoch loss = (2 * 0.625 + 1 * 0.1225) / 3 = 0.4575 (before updates),
     * accuracy = 1/3. validation on the same rows after the epoch:
     *   p = -0.05, 0.02, 0.16 -> ((1.05)^2 + 0.02^2 + 0.84^2) / 3 = 0.602833..,
     *   accuracy: only row 1 (y 0, p < 0.5) -> 1/3. */
    nn_model_config c;
    memset(&c, 0, sizeof c);
    c.n_inputs = 1;
    layer(&c, 1, NN_ACT_LINEAR);
    c.loss = NN_LOSS_MEAN_SQUARED_ERROR;
    nn_optimizer_defaults(&c.optimizer, NN_OPT_SGD);
    c.optimizer.learning_rate = 0.1;
    nn_model *m = nn_model_new(&c, 2);
    assert_non_null(m);
    float *p = nn_model_params(m);
    p[0] = 0.5f;
    p[1] = 0.0f;
    const float x[3] = {1, 2, 4}, y[3] = {1, 0, 1};
    history h;
    memset(&h, 0, sizeof h);
    nn_fit_config fc = {.epochs = 1, .batch_size = 2, .on_epoch = keep_log, .on_order = keep_order, .user = &h};
    nn_fit_result r = nn_fit(m, x, y, 3, x, y, 3, &fc, NULL);
    assert_int_equal(r.status, NN_FIT_DONE);
    assert_int_equal(r.epochs_run, 1);
    assert_int_equal(h.n, 1);
    assert_int_equal(h.log[0].epoch, 1);
    assert_near(h.log[0].loss, 0.4575, 1e-6);
    assert_near(h.log[0].accuracy, 1.0 / 3.0, 1e-12);
    assert_near(h.log[0].val_loss, (1.05 * 1.05 + 0.02 * 0.02 + 0.84 * 0.84) / 3.0, 1e-6);
    assert_near(h.log[0].val_accuracy, 1.0 / 3.0, 1e-12);
    assert_near(p[0], 0.07, 1e-6);
    assert_near(p[1], -0.12, 1e-6);
    assert_int_equal(h.orders, 1);
    assert_int_equal(h.order[0][0], 0);
    assert_int_equal(h.order[0][2], 2);
    /* evaluate gives the same figures as the validation pass */
    double el, ea;
    nn_evaluate(m, x, y, 3, 0, &el, &ea);
    assert_near(el, h.log[0].val_loss, 1e-12);
    assert_near(ea, 1.0 / 3.0, 1e-12);
    /* predict */
    float out[3];
    nn_predict(m, x, 3, out);
    assert_near(out[2], 0.16, 1e-6);

    /* shuffle: every epoch a permutation of 0..n-1, afresh; stop on request */
    memset(&h, 0, sizeof h);
    rng_state rs;
    rng_stream(&rs, 9, RNG_PURPOSE_SHUFFLE);
    nn_fit_config fs = {.epochs = 5, .batch_size = 2, .shuffle = 1, .on_epoch = keep_log, .on_order = keep_order, .user = &h};
    r = nn_fit(m, x, y, 3, NULL, NULL, 0, &fs, &rs);
    assert_int_equal(r.status, NN_FIT_DONE);
    assert_int_equal(h.orders, 5);
    for (size_t e = 0; e < 5; e++) {
        int seen[3] = {0, 0, 0};
        for (int i = 0; i < 3; i++)
            seen[h.order[e][i]]++;
        assert_true(seen[0] == 1 && seen[1] == 1 && seen[2] == 1);
        assert_true(isnan(h.log[e].val_loss));
    }
    nn_model_free(m);
}

static int stop_at_two(void *user, const nn_epoch_log *log)
{
    (void)user;
    return log->epoch == 2;
}

static void test_stop_and_diverge(void **state)
{
    (void)state;
    nn_model_config c;
    memset(&c, 0, sizeof c);
    c.n_inputs = 1;
    layer(&c, 1, NN_ACT_LINEAR);
    c.loss = NN_LOSS_MEAN_SQUARED_ERROR;
    nn_optimizer_defaults(&c.optimizer, NN_OPT_SGD);
    nn_model *m = nn_model_new(&c, 1);
    assert_non_null(m);
    const float x[3] = {10, 10, 10}, y[3] = {0, 0, 0};
    nn_model_params(m)[0] = 0.5f;
    nn_fit_config fc = {.epochs = 10, .batch_size = 1, .on_epoch = stop_at_two};
    nn_fit_result r = nn_fit(m, x, y, 3, NULL, NULL, 0, &fc, NULL);
    assert_int_equal(r.status, NN_FIT_STOPPED);
    assert_int_equal(r.epochs_run, 2);
    nn_model_free(m);

    /* lr 1e10, batch 1: step 1 L = 25, w -> 0.5 - 1e10 * 100 = -1e12;
     * step 2 p = -1e13, L = 1e26 (finite), w -> about 2e24;
     * step 3 p = 2e25, L = 4e50 = Inf in float -> diverged in epoch 1 */
    c.optimizer.learning_rate = 1e10;
    m = nn_model_new(&c, 1);
    nn_model_params(m)[0] = 0.5f;
    nn_model_params(m)[1] = 0.0f;
    fc.on_epoch = NULL;
    r = nn_fit(m, x, y, 3, NULL, NULL, 0, &fc, NULL);
    assert_int_equal(r.status, NN_FIT_DIVERGED);
    assert_int_equal(r.diverged_epoch, 1);
    assert_int_equal(r.epochs_run, 0);
    nn_model_free(m);

    /* bad arguments */
    m = nn_model_new(&c, 1);
    fc.batch_size = 2; /* > max_batch */
    r = nn_fit(m, x, y, 3, NULL, NULL, 0, &fc, NULL);
    assert_int_equal(r.status, NN_FIT_ERROR);
    nn_model_free(m);
    memset(&c, 0, sizeof c);
    assert_null(nn_model_new(&c, 1)); /* no layers */
}

/* ---- the lab trials: reproducibility and accuracy ----------------------------- */

typedef struct lab {
    data_set src;
    data_pipeline_config pc;
    nn_model_config mc;
    size_t epochs, batch;
} lab;

static void lab_make(lab *l, int digits, size_t hidden)
{
    data_error err;
    memset(l, 0, sizeof *l);
    assert_int_equal(digits ? data_source_digits(&l->src, &err) : data_source_xor(&l->src), 0);
    l->pc.repeat = digits ? 1 : 200;
    l->pc.noise = digits ? 0.0 : 0.3;
    l->pc.test.test = (data_size){1, 0, digits ? 0.25 : 0.2};
    l->pc.test.shuffle = 1;
    l->pc.validation.test = (data_size){1, digits ? 0 : 1, digits ? 0.25 : 20};
    l->pc.validation.shuffle = 1;
    l->mc.n_inputs = digits ? 64 : 2;
    if (!digits)
        layer(&l->mc, hidden, NN_ACT_RELU);
    layer(&l->mc, digits ? 10 : 2, NN_ACT_SOFTMAX);
    l->mc.loss = NN_LOSS_CATEGORICAL_CROSSENTROPY;
    nn_optimizer_defaults(&l->mc.optimizer, NN_OPT_ADAM);
    l->epochs = digits ? 100 : 200;
    l->batch = digits ? 128 : 32;
}

/* One trial of seed s: returns the test accuracy; params copied to out. */
static double lab_trial(const lab *l, uint64_t seed, size_t epochs, float *out)
{
    data_splits sp;
    data_error err;
    assert_int_equal(data_pipeline_build(&l->src, &l->pc, seed, &sp, &err), 0);
    nn_model *m = nn_model_new(&l->mc, l->batch);
    assert_non_null(m);
    rng_state ri, rs;
    rng_stream(&ri, seed, RNG_PURPOSE_INIT);
    rng_stream(&rs, seed, RNG_PURPOSE_SHUFFLE);
    nn_model_init(m, &ri);
    nn_fit_config fc = {.epochs = epochs, .batch_size = l->batch, .shuffle = 1};
    nn_fit_result r = nn_fit(m, sp.train.x, sp.y_train, sp.train.n_rows, sp.validation.x,
                             sp.y_validation, sp.validation.n_rows, &fc, &rs);
    assert_int_equal(r.status, NN_FIT_DONE);
    double loss, acc;
    nn_evaluate(m, sp.test.x, sp.y_test, sp.test.n_rows, 32, &loss, &acc);
    if (out)
        memcpy(out, nn_model_params_const(m), nn_model_param_count(m) * sizeof *out);
    nn_model_free(m);
    data_splits_free(&sp);
    return acc;
}

static void test_reproducible(void **state)
{
    (void)state;
    lab l;
    lab_make(&l, 0, 6);
    float a[32], b[32], c[32];
    lab_trial(&l, 11, 20, a);
    lab_trial(&l, 11, 20, b);
    lab_trial(&l, 12, 20, c);
    assert_memory_equal(a, b, sizeof a);
    assert_memory_not_equal(a, c, sizeof a);
    data_set_free(&l.src);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Test accuracies of seeds 0..9, the seeds of the shipped lab specs (sorted
 * into acc); returns the mean. */
static double mean_accuracy(int digits, size_t hidden, double *acc)
{
    lab l;
    lab_make(&l, digits, hidden);
    double sum = 0.0;
    printf("# %s, test accuracy of seeds 0..9:",
           digits ? "digits perceptron" : hidden == 6 ? "XOR hidden 6" : "XOR hidden 1");
    for (uint64_t seed = 0; seed < 10; seed++) {
        acc[seed] = lab_trial(&l, seed, l.epochs, NULL);
        printf(" %.4f", acc[seed]);
        sum += acc[seed];
    }
    qsort(acc, 10, sizeof *acc, cmp_double);
    printf("\n#   mean %.4f, median %.4f\n", sum / 10.0, (acc[4] + acc[5]) / 2.0);
    data_set_free(&l.src);
    return sum / 10.0;
}

static void test_lab_accuracy(void **state)
{
    (void)state;
    double a6[10], a1[10], ad[10];
    double h6 = mean_accuracy(0, 6, a6), h1 = mean_accuracy(0, 1, a1);
    double dg = mean_accuracy(1, 0, ad);
    /* XOR, 6 hidden units: the Bayes limit for sigma 0.3 is about 0.909, so
     * no seed may be far above it. A relu net of 6 units sometimes stays in
     * a poor optimum within 200 epochs (seed 6 here: 0.64). The thresholds
     * come from an independent run of the same lab in PyTorch with its own
     * random numbers (tests/crosscheck/xor_seeds_torch.py): over 40 seeds
     * mean 0.881, median 0.894, sd about 0.07, 2 runs stuck below 0.8. A mean
     * of 10 seeds then has a standard error of about 0.022, so it must lie
     * in 0.85..0.93 (the "about 0.88-0.93"), the median of the
     * typical runs in 0.87..0.93, and at most one seed below 0.8. */
    double med6 = (a6[4] + a6[5]) / 2.0;
    assert_true(a6[9] <= 0.96);
    assert_true(med6 >= 0.87 && med6 <= 0.93);
    assert_true(a6[1] >= 0.8);
    assert_true(h6 >= 0.85 && h6 <= 0.93);
    /* 1 hidden unit cannot separate XOR: clearly lower */
    assert_true(h1 < h6 - 0.1);
    assert_true(a1[9] < 0.75);
    /* digits perceptron: about 0.90 (PyTorch 0.904 +- 0.014) */
    assert_true(dg >= 0.87 && dg <= 0.93);
}

/* ---- fast paths against the general path ---------------------------------- */

/* nn_fit and nn_evaluate run softmax + cross-entropy models through
 * specialised kernels (all layers <= 16 units: 16-row tiles; >= 16 inputs:
 * batch-major products), while nn_model_loss_grad and
 * nn_model_apply_gradient always take the general path. Training the same
 * model both ways (no shuffling, so the batches are the first rows in order)
 * must give the same history and weights up to float rounding. Shapes cover
 * the specialised XOR copy, the generic tiny code (3 layers, partial
 * 16-row tiles), the wide path with a 10-unit output, padded hidden widths,
 * the single-layer wide kernels reading rows in place, soft targets
 * and a hidden-to-hidden input delta. */
typedef struct fast_case {
    size_t nin, n_hidden, hidden[2], K, batch;
    nn_activation act;
    int soft; /* targets 0.75 / 0.25 on two classes instead of one-hot */
} fast_case;

static int record_log(void *user, const nn_epoch_log *log)
{
    nn_epoch_log *logs = user;
    logs[log->epoch - 1] = *log;
    return 0;
}

/* Keras categorical_accuracy by hand: first maximum of the prediction and
 * of the target row agree. */
static size_t count_correct(const float *p, const float *y, size_t n, size_t K)
{
    size_t good = 0;
    for (size_t i = 0; i < n; i++) {
        size_t bp = 0, by = 0;
        for (size_t k = 1; k < K; k++) {
            if (p[i * K + k] > p[i * K + bp])
                bp = k;
            if (y[i * K + k] > y[i * K + by])
                by = k;
        }
        good += bp == by;
    }
    return good;
}

static void check_fast_case(const fast_case *fc, uint64_t seed)
{
    const size_t n = 45, nv = 19, E = 3;
    nn_model_config c;
    memset(&c, 0, sizeof c);
    c.n_inputs = fc->nin;
    for (size_t l = 0; l < fc->n_hidden; l++)
        layer(&c, fc->hidden[l], fc->act);
    layer(&c, fc->K, NN_ACT_SOFTMAX);
    c.loss = NN_LOSS_CATEGORICAL_CROSSENTROPY;
    nn_optimizer_defaults(&c.optimizer, NN_OPT_ADAM);
    c.optimizer.learning_rate = 0.01; /* weights move visibly in 3 epochs */
    nn_model *a = nn_model_new(&c, fc->batch), *b = nn_model_new(&c, fc->batch);
    float *x = malloc((n + nv) * fc->nin * sizeof *x);
    float *y = calloc((n + nv) * fc->K, sizeof *y);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(x);
    assert_non_null(y);
    rng_state r;
    rng_seed(&r, seed);
    for (size_t i = 0; i < (n + nv) * fc->nin; i++)
        x[i] = (float)rng_uniform_range(&r, -1.5, 1.5);
    for (size_t i = 0; i < n + nv; i++) {
        size_t k = (size_t)rng_below(&r, fc->K);
        y[i * fc->K + k] = fc->soft ? 0.75f : 1.0f;
        if (fc->soft)
            y[i * fc->K + (k + 1) % fc->K] += 0.25f;
    }
    rng_state ra = r, rb = r;
    nn_model_init(a, &ra);
    nn_model_init(b, &rb);

    nn_epoch_log logs[3];
    nn_fit_config f;
    memset(&f, 0, sizeof f);
    f.epochs = E;
    f.batch_size = fc->batch;
    f.shuffle = 0;
    f.on_epoch = record_log;
    f.user = logs;
    const float *xv = x + n * fc->nin, *yv = y + n * fc->K;
    nn_fit_result res = nn_fit(a, x, y, n, xv, yv, nv, &f, NULL);
    assert_int_equal(res.status, NN_FIT_DONE);

    /* the same epochs by hand through the general path */
    size_t np = nn_model_param_count(b);
    float *ga = NULL, *last = malloc(np * sizeof *last);
    double moved = 0.0, gmax = 0.0;
    assert_non_null(last);
    float *pred = malloc((n + nv) * fc->K * sizeof *pred);
    assert_non_null(pred);
    for (size_t e = 0; e < E; e++) {
        double sum = 0.0, vsum = 0.0;
        size_t good = 0, vgood = 0;
        for (size_t s = 0; s < n; s += fc->batch) {
            size_t nb = n - s < fc->batch ? n - s : fc->batch;
            /* accuracy before the update, from the general forward pass */
            nn_predict(b, x + s * fc->nin, nb, pred);
            good += count_correct(pred, y + s * fc->K, nb, fc->K);
            sum += nn_model_loss_grad(b, x + s * fc->nin, y + s * fc->K, nb, &ga) * (double)nb;
            memcpy(last, ga, np * sizeof *last);
            nn_model_apply_gradient(b, ga);
        }
        for (size_t s = 0; s < nv; s += fc->batch) {
            size_t nb = nv - s < fc->batch ? nv - s : fc->batch;
            vsum += nn_model_loss_grad(b, xv + s * fc->nin, yv + s * fc->K, nb, NULL) * (double)nb;
        }
        nn_predict(b, xv, nv, pred);
        vgood = count_correct(pred, yv, nv, fc->K);
        assert_near(logs[e].loss, sum / (double)n, 2e-6 * fabs(sum / (double)n));
        assert_true(logs[e].accuracy == (double)good / (double)n);
        assert_true(logs[e].val_accuracy == (double)vgood / (double)nv);
        assert_near(logs[e].val_loss, vsum / (double)nv, 2e-6 * fabs(vsum / (double)nv));
    }
    const float *pa = nn_model_params_const(a), *pb = nn_model_params_const(b);
    rng_state r0 = r;
    nn_model *c0 = nn_model_new(&c, fc->batch);
    assert_non_null(c0);
    nn_model_init(c0, &r0);
    for (size_t i = 0; i < np; i++) {
        assert_near(pa[i], pb[i], 2e-5 * (1.0 + fabs((double)pb[i])));
        moved = fmax(moved, fabs((double)pb[i] - (double)nn_model_params_const(c0)[i]));
    }
    assert_true(moved > 1e-3); /* the comparison is not between untrained models */
    /* the gradient of the last batch (Adam would hide a scaled gradient) */
    const float *gfa = nn_model_grads(a);
    for (size_t i = 0; i < np; i++)
        gmax = fmax(gmax, fabs((double)last[i]));
    assert_true(gmax > 0.0);
    for (size_t i = 0; i < np; i++)
        assert_near(gfa[i], last[i], 1e-4 * gmax);
    free(last);
    free(pred);
    /* nn_evaluate (fast) against the general forward, on the final weights */
    double l_fast, acc_fast, vsum = 0.0;
    nn_evaluate(a, xv, yv, nv, 0, &l_fast, &acc_fast);
    for (size_t s = 0; s < nv; s += fc->batch) {
        size_t nb = nv - s < fc->batch ? nv - s : fc->batch;
        vsum += nn_model_loss_grad(b, xv + s * fc->nin, yv + s * fc->K, nb, NULL) * (double)nb;
    }
    assert_near(l_fast, vsum / (double)nv, 2e-5 * fabs(vsum / (double)nv));
    nn_model_free(c0);
    nn_model_free(a);
    nn_model_free(b);
    free(x);
    free(y);
}

static void test_fast_paths(void **state)
{
    (void)state;
    static const fast_case cases[] = {
        {2, 1, {6, 0}, 2, 32, NN_ACT_RELU, 0},      /* XOR lab shape */
        {2, 1, {3, 0}, 2, 20, NN_ACT_RELU, 0},      /* partial 16-row tiles */
        {3, 2, {7, 5}, 4, 16, NN_ACT_TANH, 0},      /* generic tiny, 3 layers */
        {5, 1, {16, 0}, 3, 8, NN_ACT_SIGMOID, 0},   /* tiny, widest layer 16 */
        {2, 1, {6, 0}, 2, 32, NN_ACT_RELU, 1},      /* tiny, targets copied */
        {3, 1, {4, 0}, 5, 7, NN_ACT_RELU, 1},       /* generic tiny, copied, 7-row batches */
        {64, 0, {0, 0}, 10, 32, NN_ACT_RELU, 0},    /* digits perceptron shape */
        {64, 1, {64, 0}, 10, 16, NN_ACT_RELU, 0},   /* digits 64-64-10 shape */
        {20, 1, {24, 0}, 5, 16, NN_ACT_RELU, 0},    /* padded input and hidden */
        {17, 2, {33, 9}, 16, 32, NN_ACT_TANH, 0},   /* hidden-to-hidden delta */
        /* single layer on 16k inputs: rows read in place (AVX-512 builds),
         * 16 classes, and non-one-hot targets (copied, not rebuilt) */
        {32, 0, {0, 0}, 16, 16, NN_ACT_RELU, 0},
        {64, 0, {0, 0}, 10, 32, NN_ACT_RELU, 1},
        {64, 1, {64, 0}, 10, 16, NN_ACT_RELU, 1},
        /* inputs far wider than any layer: the scratch sized by layer
         * widths, not by the input width */
        {2000, 1, {4, 0}, 2, 32, NN_ACT_RELU, 0},
        {1999, 2, {5, 3}, 3, 16, NN_ACT_TANH, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_fast_case(&cases[i], 100 + i);
}

/* ---- memory ---------------------------------------------------------------- */

/* A model's memory is linear in its size: parameters, gradients and two
 * optimizer moments (4 floats per parameter) plus the activations of one
 * batch (max_batch x every layer boundary, inputs included). The bound
 * allows 4x that for padded copies and scratch. A 20 000-input model with a
 * 4-unit hidden layer (80 014 parameters) used to allocate a 20 000 x 20 000
 * scratch matrix, 1.6 GB. */
static void check_model_memory(nn_activation hidden, nn_activation out, nn_loss loss,
                               size_t K)
{
    const size_t nin = 20000, H = 4, batch = 32, n = 6, nv = 2;
    nn_model_config c;
    memset(&c, 0, sizeof c);
    c.n_inputs = nin;
    layer(&c, H, hidden);
    layer(&c, K, out);
    c.loss = loss;
    nn_optimizer_defaults(&c.optimizer, NN_OPT_ADAM);
    nn_model *m = nn_model_new(&c, batch);
    assert_non_null(m);
    const size_t np = nin * H + H + H * K + K;
    assert_int_equal(nn_model_param_count(m), np);
    const size_t size_floats = 4 * np + batch * (nin + H + K);
    const size_t bytes = nn_model_bytes(m);
    assert_true(bytes >= 4 * np * sizeof(float));
    assert_true(bytes <= 4 * size_floats * sizeof(float));
    /* the estimate without building is the same number */
    assert_int_equal(nn_model_bytes_for(&c, batch), bytes);

    /* it trains, and fitting adds only the per-row epoch order and classes */
    float *x = malloc((n + nv) * nin * sizeof *x), *y = calloc((n + nv) * K, sizeof *y);
    assert_non_null(x);
    assert_non_null(y);
    rng_state r;
    rng_seed(&r, 5);
    for (size_t i = 0; i < (n + nv) * nin; i++)
        x[i] = (float)rng_uniform_range(&r, -1.0, 1.0);
    for (size_t i = 0; i < n + nv; i++)
        y[i * K + i % K] = 1.0f;
    nn_model_init(m, &r);
    nn_fit_config f;
    memset(&f, 0, sizeof f);
    f.epochs = 2;
    f.batch_size = 4;
    f.shuffle = 1;
    nn_fit_result res = nn_fit(m, x, y, n, x + n * nin, y + n * K, nv, &f, &r);
    assert_int_equal(res.status, NN_FIT_DONE);
    size_t grown = nn_model_bytes(m) - bytes;
    assert_true(grown == n * 4 || grown == n * 4 + (n + nv) * 4);
    double loss_v = NAN, acc = NAN;
    nn_evaluate(m, x, y, n + nv, 0, &loss_v, &acc);
    assert_true(isfinite(loss_v));
    nn_model_free(m);
    free(x);
    free(y);
}

static void test_model_memory(void **state)
{
    (void)state;
    /* By hand: 2 -> Dense(3, tanh) -> Dense(2, sigmoid), MSE (the general
     * path), 32 rows (ld 32); every block rounded up to 16 floats.
     * Parameters 2*3 + 3 + 3*2 + 2 = 17 -> 32, four times (parameters,
     * gradients, two moments): 128. Activations 2, 3, 2 units x 32: 224.
     * Logits and targets 2 x 32 each: 128. Deltas (widest layer 3) x 32,
     * twice: 192. Transposed delta 32 x 16: 512. Kernel gradient with
     * padded columns, the larger of 2 x 16 and 3 x 16: 48. Four per-row
     * scratch rows of 32: 128. The class weights of a batch's rows, 32, and
     * the (absent) delta of the input, one empty block: 16. 1408 floats. */
    {
        nn_model_config c;
        memset(&c, 0, sizeof c);
        c.n_inputs = 2;
        layer(&c, 3, NN_ACT_TANH);
        layer(&c, 2, NN_ACT_SIGMOID);
        c.loss = NN_LOSS_MEAN_SQUARED_ERROR;
        nn_optimizer_defaults(&c.optimizer, NN_OPT_ADAM);
        assert_int_equal(nn_model_bytes_for(&c, 32), sizeof(struct nn_model) + 1408 * 4);
        nn_model *m = nn_model_new(&c, 32);
        assert_non_null(m);
        assert_int_equal(nn_model_bytes(m), sizeof(struct nn_model) + 1408 * 4);
        nn_model_free(m);
    }
    /* the wide fast path (softmax + cross-entropy) and the general path */
    check_model_memory(NN_ACT_RELU, NN_ACT_SOFTMAX, NN_LOSS_CATEGORICAL_CROSSENTROPY, 2);
    check_model_memory(NN_ACT_TANH, NN_ACT_SIGMOID, NN_LOSS_MEAN_SQUARED_ERROR, 1);
    /* invalid configs and sizes that overflow */
    nn_model_config c;
    memset(&c, 0, sizeof c);
    assert_int_equal(nn_model_bytes_for(&c, 32), 0);
    c.n_inputs = SIZE_MAX / 8;
    layer(&c, 65536, NN_ACT_RELU);
    layer(&c, 2, NN_ACT_SOFTMAX);
    assert_int_equal(nn_model_bytes_for(&c, 32), SIZE_MAX);
}

/* ---- dropout, batch normalization, regularizers: gradients ------------------ */

static void dropout_layer(nn_model_config *c, double rate)
{
    nn_layer_config *l = &c->layers[c->n_layers++];
    memset(l, 0, sizeof *l);
    l->kind = NN_LAYER_DROPOUT;
    l->rate = rate;
}

static void bn_layer(nn_model_config *c, int center, int scale)
{
    nn_layer_config *l = &c->layers[c->n_layers++];
    nn_layer_batch_norm_defaults(l);
    l->center = center;
    l->scale = scale;
}

/* Central differences of nn_model_loss_grad_mode over the trainable
 * parameters, the dropout mask held fixed by replaying the same stream for
 * every evaluation. Returns 1 when the analytic gradient agrees. */
static int grad_check_model(const nn_model_config *c, int training, uint64_t seed,
                            const char *what)
{
    const size_t n = 7, nin = c->n_inputs;
    nn_model *m = nn_model_new(c, 8);
    assert_non_null(m);
    rng_state r;
    rng_seed(&r, seed);
    nn_model_init(m, &r);
    float *p = nn_model_params(m);
    size_t np = nn_model_param_count(m), L = c->n_layers - 1;
    size_t K = c->layers[L].units;
    /* every parameter away from 0 and 1 (biases, gamma, beta, moving
     * statistics), so each is exercised */
    for (size_t i = 0; i < np; i++)
        if (p[i] == 0.0f || p[i] == 1.0f)
            p[i] += (float)rng_uniform_range(&r, 0.1, 0.4);
    float x[8 * 8], y[8 * 4];
    for (size_t i = 0; i < n * nin; i++)
        x[i] = (float)rng_uniform_range(&r, -1.0, 1.0);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < K; k++)
            y[i * K + k] = k == i % K ? 1.0f : 0.0f;
    rng_state dr0, dr;
    rng_seed(&dr0, seed + 7);
    dr = dr0;
    float *g = NULL;
    double l0 = nn_model_loss_grad_mode(m, x, y, n, training, &dr, &g);
    assert_true(isfinite(l0));
    double num = 0.0, na = 0.0, nn2 = 0.0;
    size_t checked = 0;
    for (size_t i = 0; i < np; i++) {
        if (!nn_model_param_trainable(m, i))
            continue;
        double ga = g[i];
        float keep = p[i], hh = 1e-3f;
        p[i] = keep + hh;
        dr = dr0;
        double lp = nn_model_loss_grad_mode(m, x, y, n, training, &dr, NULL);
        p[i] = keep - hh;
        dr = dr0;
        double lm = nn_model_loss_grad_mode(m, x, y, n, training, &dr, NULL);
        p[i] = keep;
        double gn = (lp - lm) / ((double)(keep + hh) - (double)(keep - hh));
        num += (ga - gn) * (ga - gn);
        na += ga * ga;
        nn2 += gn * gn;
        checked++;
    }
    /* the gradient buffer was overwritten by the last evaluation: recompute */
    double rel = sqrt(num) / fmax(sqrt(fmax(na, nn2)), 1e-12);
    int ok = checked > 0 && sqrt(na) > 1e-4 && rel < 2e-2;
    if (!ok)
        print_error("gradient check %s (%s mode): |g| = %.3g, relative error %.3g\n", what,
                    training ? "training" : "inference", sqrt(na), rel);
    nn_model_free(m);
    return ok;
}

static void test_layer_gradients(void **state)
{
    (void)state;
    int failures = 0, checked = 0;
    for (int variant = 0; variant < 8; variant++)
        for (int training = 0; training <= 1; training++) {
            nn_model_config c;
            memset(&c, 0, sizeof c);
            c.n_inputs = 3;
            c.loss = NN_LOSS_CATEGORICAL_CROSSENTROPY;
            nn_optimizer_defaults(&c.optimizer, NN_OPT_SGD);
            const char *what = "";
            switch (variant) {
            case 0:
                what = "dropout 0.4 between tanh layers";
                layer(&c, 5, NN_ACT_TANH);
                dropout_layer(&c, 0.4);
                break;
            case 1:
                what = "dropout 0.3 on the input";
                dropout_layer(&c, 0.3);
                layer(&c, 5, NN_ACT_SIGMOID);
                break;
            case 2:
                what = "batch normalization after tanh";
                layer(&c, 5, NN_ACT_TANH);
                bn_layer(&c, 1, 1);
                break;
            case 3:
                what = "batch normalization on the input, no center";
                bn_layer(&c, 0, 1);
                layer(&c, 4, NN_ACT_TANH);
                break;
            case 4:
                what = "batch normalization without scale, then dropout";
                layer(&c, 5, NN_ACT_SIGMOID);
                bn_layer(&c, 1, 0);
                dropout_layer(&c, 0.25);
                break;
            case 5:
                what = "kernel L2 0.05";
                layer(&c, 5, NN_ACT_TANH);
                c.layers[0].kernel_regularizer.l2 = 0.05;
                break;
            case 6:
                what = "kernel L1 0.03, bias L1L2 (0.02, 0.04)";
                layer(&c, 5, NN_ACT_TANH);
                c.layers[0].kernel_regularizer.l1 = 0.03;
                c.layers[0].bias_regularizer.l1 = 0.02;
                c.layers[0].bias_regularizer.l2 = 0.04;
                break;
            case 7:
                what = "L2 on the output layer after batch normalization";
                layer(&c, 5, NN_ACT_TANH);
                bn_layer(&c, 1, 1);
                break;
            }
            layer(&c, 3, NN_ACT_SOFTMAX);
            if (variant == 7)
                c.layers[c.n_layers - 1].kernel_regularizer.l2 = 0.1;
            failures += !grad_check_model(&c, training, 500u + (uint64_t)variant * 2u +
                                                            (uint64_t)training, what);
            checked++;
        }
    printf("# %d gradient checks of dropout / batch normalization / regularizers, %d failed\n",
           checked, failures);
    assert_int_equal(failures, 0);
}

/* ---- their forward semantics, by hand --------------------------------------- */

static void test_dropout_semantics(void **state)
{
    (void)state;
    /* 4 inputs -> Dropout(0.5) -> Dense(1, linear), kernel 1, bias 0, MSE
     * against 0: out = sum_k keep_k x_k / 0.5, the masks drawn row by row,
     * unit by unit, kept when the draw is >= 0.5. */
    nn_model_config c;
    memset(&c, 0, sizeof c);
    c.n_inputs = 4;
    dropout_layer(&c, 0.5);
    layer(&c, 1, NN_ACT_LINEAR);
    c.loss = NN_LOSS_MEAN_SQUARED_ERROR;
    nn_optimizer_defaults(&c.optimizer, NN_OPT_SGD);
    nn_model *m = nn_model_new(&c, 4);
    assert_non_null(m);
    float *p = nn_model_params(m);
    assert_int_equal(nn_model_param_count(m), 5);
    for (int i = 0; i < 4; i++)
        p[i] = 1.0f;
    p[4] = 0.0f;
    const float x[3 * 4] = {1, 2, 3, 4, -1, 0.5f, 2, 1, 0.25f, 0.25f, -3, 1};
    const float y[3] = {0, 0, 0};
    rng_state dr, copy;
    rng_seed(&dr, 99);
    copy = dr;
    double want = 0.0;
    int kept = 0;
    for (int i = 0; i < 3; i++) {
        double o = 0.0;
        for (int k = 0; k < 4; k++)
            if (rng_uniform(&copy) >= 0.5) {
                o += 2.0 * x[i * 4 + k];
                kept++;
            }
        want += o * o / 3.0;
    }
    assert_true(kept > 0 && kept < 12); /* a mask that drops some, keeps some */
    double got = nn_model_loss_grad_mode(m, x, y, 3, 1, &dr, NULL);
    assert_near(got, want, 1e-5 * want);
    /* the stream advanced by exactly 12 draws */
    assert_true(rng_next(&dr) == rng_next(&copy));
    /* inference: the identity */
    double inf = 0.0;
    for (int i = 0; i < 3; i++) {
        double o = x[i * 4] + x[i * 4 + 1] + x[i * 4 + 2] + x[i * 4 + 3];
        inf += o * o / 3.0;
    }
    assert_near(nn_model_loss_grad_mode(m, x, y, 3, 0, NULL, NULL), inf, 1e-5 * inf);
    double ev;
    nn_evaluate(m, x, y, 3, 32, &ev, NULL);
    assert_near(ev, inf, 1e-5 * inf);
    /* training without a stream is refused */
    assert_true(isnan(nn_model_loss_grad_mode(m, x, y, 3, 1, NULL, NULL)));
    nn_fit_config fc = {.epochs = 1, .batch_size = 3};
    nn_fit_result fr = nn_fit(m, x, y, 3, NULL, NULL, 0, &fc, NULL);
    assert_int_equal(fr.status, NN_FIT_ERROR);
    nn_model_free(m);
}

static void test_batch_norm_semantics(void **state)
{
    (void)state;
    /* 1 input -> BatchNormalization -> Dense(1, linear): 4 params + 2. One
     * batch x = 1, 2, 3, 4: mean 2.5, biased variance 1.25, so after one
     * step moving mean = 0 * 0.99 + 2.5 * 0.01 = 0.025 and moving
     * variance = 1 * 0.99 + 1.25 * 0.01 = 1.0025. */
    nn_model_config c;
    memset(&c, 0, sizeof c);
    c.n_inputs = 1;
    bn_layer(&c, 1, 1);
    layer(&c, 1, NN_ACT_LINEAR);
    c.loss = NN_LOSS_MEAN_SQUARED_ERROR;
    nn_optimizer_defaults(&c.optimizer, NN_OPT_SGD);
    nn_model *m = nn_model_new(&c, 4);
    assert_non_null(m);
    assert_int_equal(nn_model_param_count(m), 6);
    assert_int_equal(nn_model_trainable_count(m), 4);
    assert_int_equal(nn_model_layer_params(m, 0), 4);
    assert_int_equal(nn_model_kernel_offset(m, 1), 4);
    assert_int_equal(nn_model_bias_offset(m, 1), 5);
    rng_state r;
    rng_seed(&r, 3);
    nn_model_init(m, &r);
    float *p = nn_model_params(m);
    assert_true(p[0] == 1.0f && p[1] == 0.0f && p[2] == 0.0f && p[3] == 1.0f);
    assert_true(!nn_model_param_trainable(m, 2) && !nn_model_param_trainable(m, 3) &&
                nn_model_param_trainable(m, 1) && nn_model_param_trainable(m, 4));
    p[4] = 1.0f; /* kernel */
    p[5] = 0.0f;
    const float x[4] = {1, 2, 3, 4}, y[4] = {0, 0, 0, 0};
    /* training mode: normalized x = (x - 2.5) / sqrt(1.25 + 0.001); MSE
     * against 0 is their mean square = 1.25 / 1.251 */
    assert_near(nn_model_loss_grad_mode(m, x, y, 4, 1, NULL, NULL), 1.25 / 1.251, 1e-6);
    /* inference with the initial moving statistics: x / sqrt(1.001) */
    assert_near(nn_model_loss_grad_mode(m, x, y, 4, 0, NULL, NULL), 7.5 / 1.001, 1e-5);
    assert_true(p[2] == 0.0f && p[3] == 1.0f); /* not updated outside fit */
    nn_fit_config fc = {.epochs = 1, .batch_size = 4};
    nn_fit_result fr = nn_fit(m, x, y, 4, NULL, NULL, 0, &fc, NULL);
    assert_int_equal(fr.status, NN_FIT_DONE);
    assert_near(p[2], 0.025, 1e-7);
    assert_near(p[3], 1.0025, 1e-6);
    nn_model_free(m);
}

static void test_regularizer_loss(void **state)
{
    (void)state;
    /* Dense(1, linear) on x = 1, w = 2, b = -0.5, kernel L2 0.01, bias L1
     * 0.1: penalty 0.01 * 4 + 0.1 * 0.5 = 0.09; MSE against 0 is 1.5^2 =
     * 2.25, so loss and val_loss and evaluate are 2.34 (the penalty once,
     * not per row). Gradient: dw = 2 * 1.5 * 1 + 2 * 0.01 * 2 = 3.04, db =
     * 3 - 0.1 = 2.9. */
    nn_model_config c;
    memset(&c, 0, sizeof c);
    c.n_inputs = 1;
    layer(&c, 1, NN_ACT_LINEAR);
    c.layers[0].kernel_regularizer.l2 = 0.01;
    c.layers[0].bias_regularizer.l1 = 0.1;
    c.loss = NN_LOSS_MEAN_SQUARED_ERROR;
    nn_optimizer_defaults(&c.optimizer, NN_OPT_SGD);
    nn_model *m = nn_model_new(&c, 4);
    float *p = nn_model_params(m);
    p[0] = 2.0f;
    p[1] = -0.5f;
    const float x[2] = {1, 1}, y[2] = {0, 0};
    assert_near(nn_model_penalty(m), 0.09, 1e-7);
    float *g;
    assert_near(nn_model_loss_grad(m, x, y, 2, &g), 2.34, 1e-6);
    assert_near(g[0], 3.04, 1e-6);
    assert_near(g[1], 2.9, 1e-6);
    double ev;
    nn_evaluate(m, x, y, 2, 1, &ev, NULL);
    assert_near(ev, 2.34, 1e-6);
    history h;
    memset(&h, 0, sizeof h);
    nn_fit_config fc = {.epochs = 1, .batch_size = 2, .on_epoch = keep_log, .user = &h};
    nn_fit_result fr = nn_fit(m, x, y, 2, x, y, 2, &fc, NULL);
    assert_int_equal(fr.status, NN_FIT_DONE);
    assert_near(h.log[0].loss, 2.34, 1e-6);
    /* after the step w = 2 - 0.0304, b = -0.5 - 0.029 */
    double w = 2.0 - 0.0304, b = -0.5 - 0.029;
    assert_near(p[0], w, 1e-6);
    assert_near(h.log[0].val_loss, (w + b) * (w + b) + 0.01 * w * w + 0.1 * fabs(b), 1e-6);
    nn_model_free(m);
}

/* ---- zero-valued options change no bit ---------------------------------------- */

static void train_small(const nn_model_config *c, const float *cw, float *out, size_t np)
{
    nn_model *m = nn_model_new(c, 32);
    assert_non_null(m);
    assert_int_equal(nn_model_param_count(m), np);
    rng_state ri, rs, rd;
    rng_seed(&ri, 5);
    rng_seed(&rs, 6);
    rng_seed(&rd, 7);
    nn_model_init(m, &ri);
    float x[40 * 2], y[40 * 2];
    for (int i = 0; i < 40; i++) {
        x[i * 2] = (float)(i % 7) / 7.0f - 0.4f;
        x[i * 2 + 1] = (float)(i % 5) / 5.0f - 0.3f;
        int k = (x[i * 2] > 0) != (x[i * 2 + 1] > 0);
        y[i * 2] = k ? 0.0f : 1.0f;
        y[i * 2 + 1] = k ? 1.0f : 0.0f;
    }
    nn_fit_config fc = {.epochs = 5, .batch_size = 8, .shuffle = 1, .dropout_rng = &rd,
                        .class_weight = cw, .n_class_weight = cw ? 2 : 0};
    nn_fit_result fr = nn_fit(m, x, y, 40, x, y, 10, &fc, &rs);
    assert_int_equal(fr.status, NN_FIT_DONE);
    memcpy(out, nn_model_params(m), np * sizeof *out);
    nn_model_free(m);
}

static void test_zero_options_same_bits(void **state)
{
    (void)state;
    float base[32], other[32];
    const float ones[2] = {1.0f, 1.0f}, twos[2] = {2.0f, 1.0f};
    nn_model_config c, d;
    memset(&c, 0, sizeof c);
    c.n_inputs = 2;
    layer(&c, 6, NN_ACT_RELU);
    layer(&c, 2, NN_ACT_SOFTMAX);
    c.loss = NN_LOSS_CATEGORICAL_CROSSENTROPY;
    nn_optimizer_defaults(&c.optimizer, NN_OPT_ADAM);
    train_small(&c, NULL, base, 32);
    /* dropout 0 between the layers and on the input */
    memset(&d, 0, sizeof d);
    d.n_inputs = 2;
    dropout_layer(&d, 0.0);
    layer(&d, 6, NN_ACT_RELU);
    dropout_layer(&d, 0.0);
    layer(&d, 2, NN_ACT_SOFTMAX);
    d.loss = c.loss;
    d.optimizer = c.optimizer;
    train_small(&d, NULL, other, 32);
    assert_memory_equal(base, other, sizeof base);
    /* L2 0 and L1 0 */
    d = c;
    d.layers[0].kernel_regularizer.l2 = 0.0;
    d.layers[1].bias_regularizer.l1 = 0.0;
    train_small(&d, NULL, other, 32);
    assert_memory_equal(base, other, sizeof base);
    /* class weights all 1 */
    train_small(&c, ones, other, 32);
    assert_memory_equal(base, other, sizeof base);
    /* and the test can fail: a weight of 2, a dropout, an L2 change bits */
    train_small(&c, twos, other, 32);
    assert_true(memcmp(base, other, sizeof base) != 0);
    d = c;
    d.layers[0].kernel_regularizer.l2 = 0.01;
    train_small(&d, NULL, other, 32);
    assert_true(memcmp(base, other, sizeof base) != 0);
}

/* ---- class weights ----------------------------------------------------------- */

static void test_class_weight(void **state)
{
    (void)state;
    /* Dense(2, softmax) on 1 input with zero weights: p = (0.5, 0.5), every
     * row's loss ln 2. Rows of classes 0, 0, 1 with weights (2, 1), one
     * batch: loss (2 + 2 + 1) ln 2 / 3 (divided by the batch size, not by
     * the weights' sum). Bias gradient of class 0: (2 (0.5 - 1) * 2 +
     * 1 * 0.5) / 3 = -0.5, so SGD 0.01 moves it to +0.005. */
    nn_model_config c;
    memset(&c, 0, sizeof c);
    c.n_inputs = 1;
    layer(&c, 2, NN_ACT_SOFTMAX);
    c.layers[0].kernel_init = NN_INIT_ZEROS;
    c.loss = NN_LOSS_CATEGORICAL_CROSSENTROPY;
    nn_optimizer_defaults(&c.optimizer, NN_OPT_SGD);
    nn_model *m = nn_model_new(&c, 4);
    rng_state r;
    rng_seed(&r, 1);
    nn_model_init(m, &r);
    const float x[3] = {0.5f, -1.0f, 2.0f}, y[6] = {1, 0, 1, 0, 0, 1};
    const float w[2] = {2.0f, 1.0f};
    history h;
    memset(&h, 0, sizeof h);
    nn_fit_config fc = {.epochs = 1, .batch_size = 3, .on_epoch = keep_log, .user = &h,
                        .class_weight = w, .n_class_weight = 2};
    nn_fit_result fr = nn_fit(m, x, y, 3, x, y, 3, &fc, NULL);
    assert_int_equal(fr.status, NN_FIT_DONE);
    assert_near(h.log[0].loss, 5.0 / 3.0 * log(2.0), 1e-6);
    assert_near(nn_model_params(m)[2], 0.005, 1e-7);
    assert_near(nn_model_params(m)[3], -0.005, 1e-7);
    /* validation is unweighted: evaluate gives the same */
    double ev;
    nn_evaluate(m, x, y, 3, 32, &ev, NULL);
    assert_near(h.log[0].val_loss, ev, 1e-12);
    /* the wrong number of weights is refused */
    fc.n_class_weight = 3;
    assert_int_equal(nn_fit(m, x, y, 3, NULL, NULL, 0, &fc, NULL).status, NN_FIT_ERROR);
    nn_model_free(m);
    /* balanced: 3 rows, 2 classes, counts 2 and 1: 3 / (2 * 2), 3 / (2 * 1) */
    float b[3];
    nn_class_weight_balanced(y, 3, 2, b, 2);
    assert_near(b[0], 0.75, 1e-7);
    assert_near(b[1], 1.5, 1e-7);
    /* one sigmoid unit: the target is the class; class 2 absent -> 1 */
    const float yb[4] = {1, 1, 1, 0};
    nn_class_weight_balanced(yb, 4, 1, b, 3);
    assert_near(b[0], 4.0 / (2.0 * 1.0), 1e-7);
    assert_near(b[1], 4.0 / (2.0 * 3.0), 1e-7);
    assert_near(b[2], 1.0, 0);
    /* the class of an output: Keras's binary accuracy is p > 0.5 */
    const float half = 0.5f, above = 0.5000001f, two[2] = {0.3f, 0.3f};
    assert_int_equal(nn_output_class(&half, 1), 0);
    assert_int_equal(nn_output_class(&above, 1), 1);
    assert_int_equal(nn_output_class(two, 2), 0);
}

/* ---- learning-rate schedules -------------------------------------------------- */

static void test_lr_schedules(void **state)
{
    (void)state;
    nn_lr_schedule s;
    memset(&s, 0, sizeof s);
    s.kind = NN_LR_EXPONENTIAL_DECAY;
    s.initial_learning_rate = 0.1;
    s.decay_steps = 10;
    s.decay_rate = 0.5;
    assert_near(nn_lr_schedule_at(&s, 0), 0.1, 1e-8);
    assert_near(nn_lr_schedule_at(&s, 5), 0.1 * sqrt(0.5), 1e-8);
    assert_near(nn_lr_schedule_at(&s, 10), 0.05, 1e-8);
    assert_near(nn_lr_schedule_at(&s, 15), 0.1 * pow(0.5, 1.5), 1e-8);
    s.staircase = 1;
    assert_near(nn_lr_schedule_at(&s, 15), 0.05, 1e-8);
    assert_near(nn_lr_schedule_at(&s, 20), 0.025, 1e-8);
    memset(&s, 0, sizeof s);
    s.kind = NN_LR_PIECEWISE_CONSTANT;
    s.n_boundaries = 2;
    s.boundaries[0] = 10;
    s.boundaries[1] = 20;
    s.values[0] = 1.0;
    s.values[1] = 0.5;
    s.values[2] = 0.1;
    assert_near(nn_lr_schedule_at(&s, 0), 1.0, 0);
    assert_near(nn_lr_schedule_at(&s, 10), 1.0, 0);
    assert_near(nn_lr_schedule_at(&s, 11), 0.5, 0);
    assert_near(nn_lr_schedule_at(&s, 20), 0.5, 0);
    assert_near(nn_lr_schedule_at(&s, 21), 0.1, 1e-8);
    memset(&s, 0, sizeof s);
    s.kind = NN_LR_COSINE_DECAY;
    s.initial_learning_rate = 1.0;
    s.decay_steps = 100;
    s.alpha = 0.1;
    assert_near(nn_lr_schedule_at(&s, 0), 1.0, 1e-7);
    assert_near(nn_lr_schedule_at(&s, 50), 0.9 * 0.5 + 0.1, 1e-7);
    assert_near(nn_lr_schedule_at(&s, 25), 0.9 * 0.5 * (1 + cos(3.14159265358979323846 / 4)) + 0.1, 1e-6);
    assert_near(nn_lr_schedule_at(&s, 100), 0.1, 1e-7);
    assert_near(nn_lr_schedule_at(&s, 250), 0.1, 1e-7);

    /* per optimizer step: SGD with exponential decay 0.1 * 0.5^(t / 1) on
     * the (w, b) model, steps t = 0, 1, 2 */
    nn_model *m = tiny_model(NN_OPT_SGD);
    nn_model_config *c = (nn_model_config *)nn_model_get_config(m);
    c->optimizer.schedule.kind = NN_LR_EXPONENTIAL_DECAY;
    c->optimizer.schedule.initial_learning_rate = 0.1;
    c->optimizer.schedule.decay_steps = 1;
    c->optimizer.schedule.decay_rate = 0.5;
    double th = 0.5;
    for (int t = 0; t < 3; t++) {
        assert_near(nn_model_learning_rate(m), 0.1 * pow(0.5, t), 1e-8);
        nn_model_apply_gradient(m, grads3[t]);
        th -= 0.1 * pow(0.5, t) * grads3[t][0];
        assert_near(nn_model_params(m)[0], th, 1e-7);
    }
    nn_model_free(m);

    /* in fit: 4 rows, batch 2 -> 2 steps per epoch; the history's rate is
     * that of the epoch's last update (steps 1, 3, 5) */
    memset(&s, 0, sizeof s);
    nn_model_config mc;
    memset(&mc, 0, sizeof mc);
    mc.n_inputs = 1;
    layer(&mc, 1, NN_ACT_LINEAR);
    mc.loss = NN_LOSS_MEAN_SQUARED_ERROR;
    nn_optimizer_defaults(&mc.optimizer, NN_OPT_ADAM);
    mc.optimizer.schedule.kind = NN_LR_EXPONENTIAL_DECAY;
    mc.optimizer.schedule.initial_learning_rate = 0.01;
    mc.optimizer.schedule.decay_steps = 2;
    mc.optimizer.schedule.decay_rate = 0.25;
    m = nn_model_new(&mc, 4);
    const float x[4] = {1, 2, 3, 4}, y[4] = {1, 0, 1, 0};
    history h;
    memset(&h, 0, sizeof h);
    nn_fit_config fc = {.epochs = 3, .batch_size = 2, .on_epoch = keep_log, .user = &h};
    assert_int_equal(nn_fit(m, x, y, 4, NULL, NULL, 0, &fc, NULL).status, NN_FIT_DONE);
    for (int e = 0; e < 3; e++)
        assert_near(h.log[e].learning_rate, 0.01 * pow(0.25, (2.0 * e + 1.0) / 2.0), 1e-9);
    /* a schedule with ReduceLROnPlateau is refused (Keras cannot set it) */
    nn_reduce_lr_defaults(&fc.reduce_lr);
    assert_int_equal(nn_fit(m, x, y, 4, NULL, NULL, 0, &fc, NULL).status, NN_FIT_ERROR);
    nn_model_free(m);
}

/* ---- callbacks, epoch by epoch ------------------------------------------------- */

/* Runs EarlyStopping over values (NAN-free) and returns the number of
 * epochs in the history; *best gets the best epoch (0-based) and snaps the
 * bit set of epochs where a snapshot was taken. */
static size_t es_run(const nn_early_stopping *c, const double *v, size_t n, size_t *best,
                     unsigned *snaps)
{
    nn_early_stopping_state s;
    nn_early_stopping_begin(c, &s);
    *snaps = 0;
    for (size_t e = 0; e < n; e++) {
        int f = nn_early_stopping_epoch(c, &s, e, v[e]);
        if (f & NN_ES_SNAPSHOT)
            *snaps |= 1u << e;
        if (f & NN_ES_STOP) {
            assert_int_equal(s.stopped_epoch, e + 1);
            *best = s.best_epoch;
            return e + 1;
        }
    }
    *best = s.best_epoch;
    return n;
}

static void test_early_stopping_decisions(void **state)
{
    (void)state;
    nn_early_stopping c;
    size_t best;
    unsigned snaps;
    const double flat[10] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    /* patience 3 on a constant loss: epoch 0 improves (no best yet), then
     * wait 1, 2, 3 -> stop after epoch 3: 4 epochs */
    nn_early_stopping_defaults(&c);
    c.patience = 3;
    assert_int_equal(es_run(&c, flat, 10, &best, &snaps), 4);
    assert_int_equal(best, 0);
    /* patience 0: the first non-improving epoch after the first */
    c.patience = 0;
    assert_int_equal(es_run(&c, flat, 10, &best, &snaps), 2);
    const double down[5] = {5, 4, 3, 2, 1};
    assert_int_equal(es_run(&c, down, 5, &best, &snaps), 5);
    assert_int_equal(best, 4);
    /* min_delta 0.1, patience 2: 0.95 is no improvement on 1.0 (needs < 0.9),
     * 0.85 is (best 0.85), 0.84, 0.83 are not -> stop after epoch 4 */
    const double md[6] = {1.0, 0.95, 0.85, 0.84, 0.83, 0.5};
    c.patience = 2;
    c.min_delta = -0.1; /* its absolute value counts */
    assert_int_equal(es_run(&c, md, 6, &best, &snaps), 5);
    assert_int_equal(best, 2);
    c.patience = 1;
    assert_int_equal(es_run(&c, md, 6, &best, &snaps), 2);
    /* auto mode on an accuracy maximises: 0.6 improves, 0.6, 0.55 do not */
    nn_early_stopping_defaults(&c);
    c.monitor = NN_MONITOR_VAL_ACCURACY;
    c.patience = 2;
    const double acc[6] = {0.5, 0.6, 0.6, 0.55, 0.9, 0.9};
    assert_int_equal(es_run(&c, acc, 6, &best, &snaps), 4);
    assert_int_equal(best, 1);
    /* mode max on a loss: the first epoch is the best of a falling loss */
    c.monitor = NN_MONITOR_LOSS;
    c.mode = NN_MODE_MAX;
    assert_int_equal(es_run(&c, down, 5, &best, &snaps), 3);
    assert_int_equal(best, 0);
    /* baseline 0.5 never beaten, patience 2 (Keras 3): improving epochs
     * return before the patience test, so training stops at the first
     * epoch without improvement once wait >= 2: epoch 3 -> 4 epochs
     * (tf.keras 2.x would stop after epoch 1) */
    nn_early_stopping_defaults(&c);
    c.patience = 2;
    c.has_baseline = 1;
    c.baseline = 0.5;
    const double bl[6] = {1.0, 0.9, 0.8, 0.8, 0.8, 0.8};
    assert_int_equal(es_run(&c, bl, 6, &best, &snaps), 4);
    assert_int_equal(best, 2);
    /* a baseline that is beaten resets wait as usual */
    const double bl2[7] = {1.0, 0.4, 0.3, 0.3, 0.3, 0.3, 0.3};
    assert_int_equal(es_run(&c, bl2, 7, &best, &snaps), 5);
    /* start_from_epoch 2: epochs 0, 1 are not looked at */
    nn_early_stopping_defaults(&c);
    c.patience = 1;
    c.start_from_epoch = 2;
    assert_int_equal(es_run(&c, flat, 10, &best, &snaps), 4);
    assert_int_equal(best, 2);
    /* restore_best_weights: snapshots at the first epoch looked at and at
     * every improvement */
    nn_early_stopping_defaults(&c);
    c.patience = 2;
    c.restore_best_weights = 1;
    const double rb[6] = {1.0, 0.5, 0.7, 0.8, 0.1, 0.1};
    assert_int_equal(es_run(&c, rb, 6, &best, &snaps), 4);
    assert_int_equal(best, 1);
    assert_int_equal(snaps, 0x3u);
    /* a missing value (no validation set) is skipped */
    nn_early_stopping_state s;
    nn_early_stopping_begin(&c, &s);
    for (size_t e = 0; e < 5; e++)
        assert_int_equal(nn_early_stopping_epoch(&c, &s, e, NAN), 0);
}

static void test_reduce_lr_decisions(void **state)
{
    (void)state;
    nn_reduce_lr c;
    nn_reduce_lr_state s;
    /* factor 0.5, patience 2, cooldown 1, min_lr 0.02 from lr 0.1 on a
     * constant value: wait 1, 2 -> 0.05 (cooldown 1); the cooldown epoch
     * counts down and sets wait 0, then, no longer in cooldown, wait 1; wait
     * 2 -> 0.025; ... -> max(0.0125, 0.02) = 0.02; then lr = min_lr stays. */
    nn_reduce_lr_defaults(&c);
    c.factor = 0.5;
    c.patience = 2;
    c.cooldown = 1;
    c.min_lr = 0.02;
    nn_reduce_lr_begin(&c, &s);
    const double want[10] = {0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.02, 0.02, 0.02, 0.02};
    float lr = 0.1f;
    for (int e = 0; e < 10; e++) {
        lr = nn_reduce_lr_epoch(&c, &s, 1.0, lr);
        assert_near(lr, want[e], 1e-8);
    }
    /* without cooldown: reduced every `patience` epochs */
    c.cooldown = 0;
    c.min_lr = 0;
    nn_reduce_lr_begin(&c, &s);
    lr = 0.1f;
    const double want2[6] = {0.1, 0.1, 0.05, 0.05, 0.025, 0.025};
    for (int e = 0; e < 6; e++) {
        lr = nn_reduce_lr_epoch(&c, &s, 1.0, lr);
        assert_near(lr, want2[e], 1e-8);
    }
    /* min_delta 1e-4: 0.99995 is no improvement on 1.0, 0.9998 is */
    nn_reduce_lr_defaults(&c);
    c.patience = 1;
    nn_reduce_lr_begin(&c, &s);
    lr = 0.01f;
    lr = nn_reduce_lr_epoch(&c, &s, 1.0, lr);
    lr = nn_reduce_lr_epoch(&c, &s, 0.9998, lr);
    assert_near(lr, 0.01, 1e-9);
    lr = nn_reduce_lr_epoch(&c, &s, 0.99975, lr);
    assert_near(lr, 0.001, 1e-9);
    /* an accuracy is maximised */
    c.monitor = NN_MONITOR_ACCURACY;
    nn_reduce_lr_begin(&c, &s);
    lr = 0.01f;
    lr = nn_reduce_lr_epoch(&c, &s, 0.5, lr);
    lr = nn_reduce_lr_epoch(&c, &s, 0.7, lr);
    assert_near(lr, 0.01, 1e-9);
    lr = nn_reduce_lr_epoch(&c, &s, 0.6, lr);
    assert_near(lr, 0.001, 1e-9);
}

typedef struct param_log {
    nn_model *m;
    size_t n;
    nn_epoch_log log[16];
    float params[16][4];
} param_log;

static int keep_params(void *user, const nn_epoch_log *log)
{
    param_log *p = user;
    if (p->n < 16) {
        p->log[p->n] = *log;
        memcpy(p->params[p->n], nn_model_params(p->m), 2 * sizeof(float));
        p->n++;
    }
    return 0;
}

static void test_callbacks_in_fit(void **state)
{
    (void)state;
    /* A constant loss: Dense(1, linear) with zero weights against zero
     * targets has loss 0 and gradient 0. EarlyStopping(monitor=loss,
     * patience=3): 4 epochs in the history, stopped after epoch 4. */
    nn_model_config c;
    memset(&c, 0, sizeof c);
    c.n_inputs = 1;
    layer(&c, 1, NN_ACT_LINEAR);
    c.layers[0].kernel_init = NN_INIT_ZEROS;
    c.loss = NN_LOSS_MEAN_SQUARED_ERROR;
    nn_optimizer_defaults(&c.optimizer, NN_OPT_SGD);
    nn_model *m = nn_model_new(&c, 4);
    rng_state r;
    rng_seed(&r, 1);
    nn_model_init(m, &r);
    const float x[4] = {1, 2, 3, 4}, y0[4] = {0, 0, 0, 0}, y[4] = {1, -1, 2, 0.5f};
    param_log pl;
    memset(&pl, 0, sizeof pl);
    pl.m = m;
    nn_fit_config fc = {.epochs = 20, .batch_size = 2, .on_epoch = keep_params, .user = &pl};
    nn_early_stopping_defaults(&fc.early_stopping);
    fc.early_stopping.monitor = NN_MONITOR_LOSS;
    fc.early_stopping.patience = 3;
    nn_fit_result fr = nn_fit(m, x, y0, 4, NULL, NULL, 0, &fc, NULL);
    assert_int_equal(fr.status, NN_FIT_DONE);
    assert_int_equal(fr.epochs_run, 4);
    assert_int_equal(pl.n, 4);
    assert_int_equal(fr.stopped_epoch, 4);
    assert_int_equal(fr.best_epoch, 1);
    assert_int_equal(fr.restored, 0);
    /* the default monitor val_loss without validation data never stops */
    fc.early_stopping.monitor = NN_MONITOR_VAL_LOSS;
    memset(&pl.n, 0, sizeof pl.n);
    fc.epochs = 6;
    fr = nn_fit(m, x, y0, 4, NULL, NULL, 0, &fc, NULL);
    assert_int_equal(fr.epochs_run, 6);
    assert_int_equal(fr.stopped_epoch, 0);
    assert_int_equal(fr.best_epoch, 0);

    /* ReduceLROnPlateau(monitor=loss, factor 0.5, patience 1) on the
     * constant loss: the history has the rate used in each epoch, 0.01,
     * 0.01, 0.005, 0.0025 (reduced at the end of epochs 2 and 3) */
    pl.n = 0;
    fc.epochs = 4;
    memset(&fc.early_stopping, 0, sizeof fc.early_stopping);
    nn_reduce_lr_defaults(&fc.reduce_lr);
    fc.reduce_lr.monitor = NN_MONITOR_LOSS;
    fc.reduce_lr.factor = 0.5;
    fc.reduce_lr.patience = 1;
    nn_model_init(m, &r);
    fr = nn_fit(m, x, y0, 4, NULL, NULL, 0, &fc, NULL);
    assert_int_equal(pl.n, 4);
    const double lrs[4] = {0.01, 0.01, 0.005, 0.0025};
    for (int e = 0; e < 4; e++)
        assert_near(pl.log[e].learning_rate, lrs[e], 1e-9);
    assert_near(nn_model_learning_rate(m), 0.00125, 1e-9);
    /* nn_model_init resets the rate */
    nn_model_init(m, &r);
    assert_near(nn_model_learning_rate(m), 0.01, 1e-9);

    /* restore_best_weights with mode max on a falling loss: the best is
     * epoch 1, patience 2 stops after epoch 3, and the weights at the end
     * are those after epoch 1, bit for bit */
    memset(&fc.reduce_lr, 0, sizeof fc.reduce_lr);
    nn_early_stopping_defaults(&fc.early_stopping);
    fc.early_stopping.monitor = NN_MONITOR_LOSS;
    fc.early_stopping.mode = NN_MODE_MAX;
    fc.early_stopping.patience = 2;
    fc.early_stopping.restore_best_weights = 1;
    fc.epochs = 10;
    pl.n = 0;
    nn_model_init(m, &r);
    fr = nn_fit(m, x, y, 4, NULL, NULL, 0, &fc, NULL);
    assert_int_equal(fr.status, NN_FIT_DONE);
    assert_int_equal(pl.n, 3);
    assert_true(pl.log[1].loss < pl.log[0].loss && pl.log[2].loss < pl.log[1].loss);
    assert_int_equal(fr.stopped_epoch, 3);
    assert_int_equal(fr.best_epoch, 1);
    assert_int_equal(fr.restored, 1);
    assert_memory_equal(nn_model_params(m), pl.params[0], 2 * sizeof(float));
    assert_true(memcmp(pl.params[2], pl.params[0], 2 * sizeof(float)) != 0);
    /* restored also when it did not fire (Keras 3): 2 epochs, best 1 */
    fc.epochs = 2;
    pl.n = 0;
    nn_model_init(m, &r);
    fr = nn_fit(m, x, y, 4, NULL, NULL, 0, &fc, NULL);
    assert_int_equal(fr.stopped_epoch, 0);
    assert_int_equal(fr.restored, 1);
    assert_memory_equal(nn_model_params(m), pl.params[0], 2 * sizeof(float));
    nn_model_free(m);
}

/* ---- the summary with the new layer types ---------------------------------------- */

static void test_summary_new_layers(void **state)
{
    (void)state;
    /* Keras 2.x: a name longer than its column (27 characters after the
     * leading space) continues on the next line; BatchNormalization over 64
     * features: 4 x 64 = 256 params, 128 of them (the moving statistics)
     * non-trainable. 4160 + 256 + 0 + 650 = 5066, 4938 trainable. */
    nn_model_config c;
    memset(&c, 0, sizeof c);
    c.n_inputs = 64;
    layer(&c, 64, NN_ACT_RELU);
    bn_layer(&c, 1, 1);
    dropout_layer(&c, 0.5);
    layer(&c, 10, NN_ACT_SOFTMAX);
    nn_model *m = nn_model_new(&c, 32);
    assert_non_null(m);
    check_summary(m,
                  "Model: \"sequential\"\n"
                  "_________________________________________________________________\n"
                  " Layer (type)                Output Shape              Param #   \n"
                  "=================================================================\n"
                  " dense (Dense)               (None, 64)                4160      \n"
                  "                                                                 \n"
                  " batch_normalization (BatchN  (None, 64)               256       \n"
                  " ormalization)                                                   \n"
                  "                                                                 \n"
                  " dropout (Dropout)           (None, 64)                0         \n"
                  "                                                                 \n"
                  " dense_1 (Dense)             (None, 10)                650       \n"
                  "                                                                 \n"
                  "=================================================================\n"
                  "Total params: 5,066\n"
                  "Trainable params: 4,938\n"
                  "Non-trainable params: 128\n"
                  "_________________________________________________________________\n");
    nn_model_free(m);
    /* names count per type; a dropout of rate 0 is still a layer; batch
     * normalization without center and scale keeps only its 2 x 3 moving
     * statistics */
    memset(&c, 0, sizeof c);
    c.n_inputs = 3;
    dropout_layer(&c, 0.0);
    layer(&c, 3, NN_ACT_RELU);
    dropout_layer(&c, 0.2);
    bn_layer(&c, 0, 0);
    layer(&c, 2, NN_ACT_SOFTMAX);
    m = nn_model_new(&c, 32);
    assert_non_null(m);
    check_summary(m,
                  "Model: \"sequential\"\n"
                  "_________________________________________________________________\n"
                  " Layer (type)                Output Shape              Param #   \n"
                  "=================================================================\n"
                  " dropout (Dropout)           (None, 3)                 0         \n"
                  "                                                                 \n"
                  " dense (Dense)               (None, 3)                 12        \n"
                  "                                                                 \n"
                  " dropout_1 (Dropout)         (None, 3)                 0         \n"
                  "                                                                 \n"
                  " batch_normalization (BatchN  (None, 3)                6         \n"
                  " ormalization)                                                   \n"
                  "                                                                 \n"
                  " dense_1 (Dense)             (None, 2)                 8         \n"
                  "                                                                 \n"
                  "=================================================================\n"
                  "Total params: 26\n"
                  "Trainable params: 20\n"
                  "Non-trainable params: 6\n"
                  "_________________________________________________________________\n");
    nn_model_free(m);
    /* configs nn refuses: a last layer that is not dense, rate 1, epsilon 0 */
    memset(&c, 0, sizeof c);
    c.n_inputs = 3;
    layer(&c, 2, NN_ACT_SOFTMAX);
    dropout_layer(&c, 0.5);
    assert_null(nn_model_new(&c, 4));
    memset(&c, 0, sizeof c);
    c.n_inputs = 3;
    dropout_layer(&c, 1.0);
    layer(&c, 2, NN_ACT_SOFTMAX);
    assert_null(nn_model_new(&c, 4));
    memset(&c, 0, sizeof c);
    c.n_inputs = 3;
    bn_layer(&c, 1, 1);
    c.layers[0].epsilon = 0.0;
    layer(&c, 2, NN_ACT_SOFTMAX);
    assert_null(nn_model_new(&c, 4));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gradients),   cmocka_unit_test(test_adam),
        cmocka_unit_test(test_adam_epsilon_placement),
        cmocka_unit_test(test_sgd),         cmocka_unit_test(test_rmsprop),
        cmocka_unit_test(test_glorot),      cmocka_unit_test(test_summary),
        cmocka_unit_test(test_fit_by_hand), cmocka_unit_test(test_stop_and_diverge),
        cmocka_unit_test(test_reproducible), cmocka_unit_test(test_lab_accuracy),
        cmocka_unit_test(test_fast_paths),  cmocka_unit_test(test_model_memory),
        cmocka_unit_test(test_layer_gradients), cmocka_unit_test(test_dropout_semantics),
        cmocka_unit_test(test_batch_norm_semantics), cmocka_unit_test(test_regularizer_loss),
        cmocka_unit_test(test_zero_options_same_bits), cmocka_unit_test(test_class_weight),
        cmocka_unit_test(test_lr_schedules), cmocka_unit_test(test_early_stopping_decisions),
        cmocka_unit_test(test_reduce_lr_decisions), cmocka_unit_test(test_callbacks_in_fit),
        cmocka_unit_test(test_summary_new_layers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
