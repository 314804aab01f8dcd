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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
