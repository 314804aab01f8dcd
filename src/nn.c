/* nn: sequential dense networks with Keras-equivalent semantics.
 *
 * Files. nn.c: the public API (build, init, summary, the fit loop, evaluate
 * and predict), the general per-batch path (gather, forward, loss, backward)
 * and the optimizers. nn_kernels.c: the register-blocked matrix product and
 * the choice of product; nn_gemm.c: the cache-blocked (packed) product for
 * wide layers, same bits. nn_fast.c: the tiny and wide fast paths.
 * nn_internal.h: the model struct and the small element-wise kernels (exp,
 * log, softmax, activations) they share.
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
 * polynomials of nn_internal.h (about 1 ulp in float) instead of libm so that the loops
 * vectorise; TF's Eigen kernels use polynomials of the same kind.
 */
#include "checked.h"
#include "nn_internal.h"

#include <stdlib.h>

#if defined(__SSE2__)
#include <xmmintrin.h>
#define NN_HAVE_MXCSR 1
#endif

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

/* The arena's layout: every buffer's size in floats, in the order
 * nn_model_new hands them out. Filled from the config alone (shape fields of
 * m: dims, offsets, path, wide strides), so nn_model_bytes_for can tell a
 * model's size without building it. */
typedef struct arena_plan {
    size_t blocks[5 * NN_MAX_LAYERS + 32];
    size_t n;          /* blocks used */
    size_t wide_first; /* index of the first wide-path block */
    size_t pack_at;    /* index of the blocked product's buffers, or n */
    size_t floats;     /* total, each block rounded up to NN_LANES floats */
} arena_plan;

/* Wide path: whether layer l's input delta (rows x in) = delta (rows x out)
 * times the kernel's transpose reads the kernel in place through the
 * blocked product (no transposed copy wt[l]; see nn_gemm_blocked_bt). */
static int wide_dx_blocked(const nn_model *m, size_t l)
{
    return l > 0 && nn_gemm_use_blocked(m->ld_max, m->wld[l], m->dims[l + 1]);
}

/* Every size here is linear in the model: parameters (and copies of them
 * with padded columns) or one batch of activations of one layer. A scratch
 * buffer sized by the widest boundary squared, inputs included, is what a
 * 20 000-feature CSV turned into 1.6 GB. Returns 0, or -1 when a size would
 * overflow. */
static int arena_layout(nn_model *m, const nn_model_config *c, size_t max_batch, arena_plan *ap)
{
    size_t *blocks = ap->blocks, nb = 0, total = 0;
    m->cfg = *c;
    m->n_layers = c->n_layers;
    m->max_batch = max_batch;
    m->dims[0] = c->n_inputs;
    m->max_units = 1; /* the widest layer (not the input: the deltas and
                       * transposed deltas below are of layer outputs) */
    size_t np = 0, dw = 0; /* dw: the largest kernel with padded columns */
    for (size_t l = 0; l < c->n_layers; l++) {
        size_t in = m->dims[l], out = c->layers[l].units, kw, tot, kp;
        m->dims[l + 1] = out;
        if (out > m->max_units)
            m->max_units = out;
        if (out > SIZE_MAX - NN_LANES || !checked_mul(in, out, &kw) ||
            !checked_add(kw, out, &tot) || !checked_mul(in, round_up(out, NN_LANES), &kp))
            return -1;
        if (out % NN_LANES && kp > dw) /* only such layers go through dwpad */
            dw = kp;
        m->koff[l] = np;
        m->boff[l] = np + kw;
        if (!checked_add(np, tot, &np))
            return -1;
    }
    m->n_params = np;
    if (max_batch > SIZE_MAX - NN_LANES || c->n_inputs > SIZE_MAX - NN_LANES)
        return -1;
    m->ld_max = round_up(max_batch, NN_LANES);
    m->in_rows = c->n_inputs >= NN_LANES;
    m->max_units_pad = round_up(m->max_units, NN_LANES);

    size_t out_units = m->dims[m->n_layers], uld, pld, v;
    if (!checked_mul(m->max_units, m->ld_max, &uld) ||
        !checked_mul(m->max_units_pad, m->ld_max, &pld))
        return -1;
    blocks[nb++] = np; /* params */
    blocks[nb++] = np; /* grads */
    blocks[nb++] = np; /* s1 */
    blocks[nb++] = np; /* s2 */
    for (size_t l = 0; l <= m->n_layers; l++) {
        if (!checked_mul(m->dims[l], m->ld_max, &v))
            return -1;
        blocks[nb++] = v;                      /* act[l] */
    }
    blocks[nb++] = out_units * m->ld_max;      /* logits (<= uld) */
    blocks[nb++] = out_units * m->ld_max;      /* ybuf */
    blocks[nb++] = uld;                        /* da: deltas of layer outputs */
    blocks[nb++] = uld;                        /* db */
    blocks[nb++] = pld;                        /* dzt: a delta transposed (rows x units) */
    size_t dw_at = nb;
    blocks[nb++] = dw;                         /* dwpad: one kernel gradient, padded */
    for (int i = 0; i < 4; i++)
        blocks[nb++] = m->ld_max; /* mx, sm, li, tmp */
    m->path = nn_tiny_path_ok(m) ? NN_PATH_TINY : nn_wide_path_ok(m) ? NN_PATH_WIDE : NN_PATH_GENERAL;
    ap->wide_first = nb;
    if (m->path == NN_PATH_WIDE) {
        size_t maxld = 0, scratch = 0;
        for (size_t l = 0; l <= m->n_layers; l++)
            m->wld[l] = round_up(m->dims[l], NN_LANES); /* dims < SIZE_MAX - 16: fits */
        for (size_t l = 0; l <= m->n_layers; l++) {
            if (!checked_mul(max_batch, m->wld[l], &v))
                return -1;
            blocks[nb++] = v; /* wrow[l] */
            if (l > 0 && l < m->n_layers && m->wld[l] > maxld)
                maxld = m->wld[l];
        }
        for (size_t l = 0; l < m->n_layers; l++) {
            size_t in = m->dims[l], out = m->dims[l + 1], a = 0, b = 0;
            if (l + 1 < m->n_layers && out != m->wld[l + 1] && !checked_mul(in, m->wld[l + 1], &a))
                return -1;
            if (l > 0 && !wide_dx_blocked(m, l) && !checked_mul(out, m->wld[l], &b))
                return -1;
            blocks[nb++] = a; /* wp[l] (0: none) */
            blocks[nb++] = b; /* wt[l] (0: none) */
            if (a > scratch)
                scratch = a;
        }
        if (!checked_mul(m->dims[m->n_layers], m->wld[m->n_layers - 1], &v))
            return -1;
        if (v > scratch)
            scratch = v;
        if (!checked_mul(max_batch, maxld ? maxld : 1, &v))
            return -1;
        blocks[nb++] = v;       /* dh[0] */
        blocks[nb++] = v;       /* dh[1] */
        blocks[nb++] = m->max_units_pad; /* gbacc */
        /* gwt is dwpad: the wide path's kernel-gradient scratch and the
         * general path's are never in use at the same time */
        if (scratch > blocks[dw_at])
            blocks[dw_at] = scratch;
    }
    if (m->path == NN_PATH_TINY) {
        /* np <= 16 layers x (16 x 16 + 16): no overflow */
        blocks[nb++] = round_up(np, 16) * NN_T;          /* gacc */
        blocks[nb++] = (m->n_layers + 1) * TILE;         /* tact */
        for (int i = 0; i < 5; i++)
            blocks[nb++] = TILE;                         /* tlog, ty, tp, td0, td1 */
    }
    /* The blocked product's packing buffers, when one of the model's
     * products is large enough to take it (nn_gemm_use_blocked is monotone
     * in each size, so the largest batch decides): fixed-size blocks, a few
     * hundred KB to 4.2 MB, not linear in anything. */
    ap->pack_at = nb;
    m->gpack.nc = 0;
    if (m->path != NN_PATH_TINY) {
        size_t maxn = m->ld_max, want = 0;
        for (size_t l = 0; l < m->n_layers; l++) {
            const size_t in = m->dims[l], out = round_up(m->dims[l + 1], NN_LANES);
            const size_t inp = round_up(in, NN_LANES), b = m->ld_max;
            maxn = inp > maxn ? inp : maxn;
            maxn = out > maxn ? out : maxn;
            want |= (size_t)(nn_gemm_use_blocked(b, out, in) || nn_gemm_use_blocked(in, out, b) ||
                             nn_gemm_use_blocked(b, inp, out) || nn_gemm_use_blocked(out, b, in) ||
                             nn_gemm_use_blocked(in, b, out));
        }
        if (want) {
            blocks[nb++] = nn_gemm_pack_floats(maxn);
            m->gpack.nc = maxn; /* nn_model_new points the buffers */
        }
    }
    for (size_t i = 0; i < nb; i++) {
        if (blocks[i] > SIZE_MAX - NN_LANES)
            return -1;
        blocks[i] = round_up(blocks[i] ? blocks[i] : 1, NN_LANES);
        if (!checked_add(total, blocks[i], &total))
            return -1;
    }
    if (total > SIZE_MAX / sizeof(float))
        return -1;
    ap->n = nb;
    ap->floats = total;
    return 0;
}

nn_model *nn_model_new(const nn_model_config *c, size_t max_batch)
{
    if (!c || max_batch == 0 || !config_valid(c))
        return NULL;
    nn_model *m = calloc(1, sizeof *m);
    arena_plan ap;
    if (!m)
        return NULL;
    m->b1_pow = m->b2_pow = 1.0;
    if (arena_layout(m, c, max_batch, &ap))
        goto fail;

    /* One arena, every block 64-byte aligned (16 floats). */
    size_t bytes = ap.floats * sizeof(float);
    const size_t *blocks = ap.blocks;
    m->arena = aligned_alloc(64, bytes);
    if (!m->arena)
        goto fail;
    memset(m->arena, 0, bytes);
    m->arena_bytes = bytes;
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
        bi = ap.wide_first;
        for (size_t l = 0; l <= m->n_layers; l++)
            m->wrow[l] = p, p += blocks[bi++];
        for (size_t l = 0; l < m->n_layers; l++) {
            int has_wp = l + 1 < m->n_layers && m->dims[l + 1] != m->wld[l + 1];
            int has_wt = l > 0 && !wide_dx_blocked(m, l);
            m->wp[l] = has_wp ? p : NULL, p += blocks[bi++];
            m->wt[l] = has_wt ? p : NULL, p += blocks[bi++];
        }
        m->dh[0] = p, p += blocks[bi++];
        m->dh[1] = p, p += blocks[bi++];
        m->gbacc = p, p += blocks[bi++];
        m->gwt = m->dwpad;
#if defined(__AVX512F__)
        m->wdirect = m->n_layers == 1 && m->dims[0] % NN_LANES == 0;
#endif
    }
    if (ap.pack_at < ap.n) {
        float *q = m->arena;
        for (size_t i = 0; i < ap.pack_at; i++)
            q += blocks[i];
        nn_gemm_pack_init(&m->gpack, q, m->gpack.nc);
        m->pk = &m->gpack;
    }
    return m;
fail:
    nn_model_free(m);
    return NULL;
}

size_t nn_model_bytes_for(const nn_model_config *c, size_t max_batch)
{
    if (!c || max_batch == 0 || !config_valid(c))
        return 0;
    nn_model tmp;
    arena_plan ap;
    memset(&tmp, 0, sizeof tmp);
    if (arena_layout(&tmp, c, max_batch, &ap) ||
        ap.floats > (SIZE_MAX - sizeof tmp) / sizeof(float))
        return SIZE_MAX;
    return sizeof tmp + ap.floats * sizeof(float);
}

size_t nn_model_bytes(const nn_model *m)
{
    /* the struct, the arena, and what nn_fit grew (the epoch order and the
     * row classes) */
    return sizeof *m + m->arena_bytes + m->order_cap * sizeof *m->order +
           m->labels_cap * sizeof *m->labels;
}

void nn_model_free(nn_model *m)
{
    if (!m)
        return;
    free(m->arena);
    free(m->order);
    free(m->labels);
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
            nn_gemm(nb, outp, in, m->act[0], in, 1, w, out, m->dzt, outp, NULL, m->pk);
            for (size_t o = 0; o < out; o++)
                for (size_t i = 0; i < nb; i++)
                    z[o * ld + i] = m->dzt[i * outp + o] + b[o];
        } else {
            nn_gemm(out, ld, in, w, 1, out, m->act[l], ld, z, ld, b, m->pk);
        }
        activate(m, m->cfg.layers[l].activation, z, m->act[l + 1], out, ld);
    }
}

/* Per-sample losses of the last forward pass; returns their sum over the nb
 * real rows (double) and adds the correct predictions to *correct. When
 * delta is non-NULL it receives dLoss/dlogits of the batch-mean loss
 * (units x ld). */
double nn_batch_loss(nn_model *m, size_t nb, size_t ld, float *delta,
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
            nn_gemm(in, outp, nb, m->act[l], ams, aps, dzt, outp, gw, out, NULL, m->pk);
        } else {
            nn_gemm(in, outp, nb, m->act[l], ams, aps, dzt, outp, m->dwpad, outp, NULL, m->pk);
            for (size_t k = 0; k < in; k++)
                memcpy(gw + k * out, m->dwpad + k * outp, out * sizeof *gw);
        }
        if (l > 0) {
            const float *w = m->params + m->koff[l];
            nn_gemm(in, ld, out, w, out, 1, d, ld, dn, ld, NULL, m->pk);
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
    double sum = nn_batch_loss(m, n, ld, m->da, &correct);
    backward(m, n, ld);
    return sum / (double)n;
}

/* ---- fit / evaluate / predict ------------------------------------------------ */

/* Whether the tiny path may address n rows with 32-bit element offsets. */
static int tiny_gather_ok(const nn_model *m, size_t n)
{
    return n <= (size_t)INT32_MAX / m->dims[0];
}

void nn_evaluate(nn_model *m, const float *x, const float *y, size_t n,
                 size_t batch_size, double *loss, double *accuracy)
{
    size_t bs = batch_size ? batch_size : 32;
    if (bs > m->max_batch)
        bs = m->max_batch; /* per-sample sums: the batch size changes nothing */
    double sum = 0.0, correct = 0.0;
    if (m->path == NN_PATH_TINY) {
        size_t ok = 0;
        m->tgather = tiny_gather_ok(m, n);
        nn_tiny_evaluate(m, x, y, n, &sum, &ok);
        correct = (double)ok;
    } else if (m->path == NN_PATH_WIDE) {
        nn_wide_evaluate(m, x, y, n, &sum, &correct);
    } else {
        for (size_t s = 0; s < n; s += bs) {
            size_t nb = n - s < bs ? n - s : bs, ld = round_up(nb, NN_LANES);
            gather(m, x, y, NULL, s, nb, ld);
            forward(m, nb, ld);
            sum += nn_batch_loss(m, nb, ld, NULL, &correct);
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
    if (m->path != NN_PATH_GENERAL)
        nn_row_labels(m, y, n, yv, nv);
    m->tgather = tiny_gather_ok(m, n) && tiny_gather_ok(m, nv);
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
    m->ylab = NULL;
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
                m->ylab = m->labels;
                bl = nn_tiny_batch(m, x, y, order + s, nb, &ok);
            } else if (m->path == NN_PATH_WIDE) {
                m->ylab = m->labels;
                bl = nn_wide_batch(m, x, y, order + s, nb, &correct);
            } else {
                gather(m, x, y, order + s, 0, nb, ld);
                forward(m, nb, ld);
                bl = nn_batch_loss(m, nb, ld, m->da, &correct);
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
        if (nv > 0) {
            m->ylab = m->labels ? m->labels + n : NULL;
            nn_evaluate(m, xv, yv, nv, 32, &log.val_loss, &log.val_accuracy);
            m->ylab = NULL;
        }
        res.epochs_run = e;
        if (c->on_epoch && c->on_epoch(c->user, &log)) {
            res.status = NN_FIT_STOPPED;
            return res;
        }
    }
    res.status = NN_FIT_DONE;
    return res;
}

