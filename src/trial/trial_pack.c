/* trial_pack: a trial_result as bytes and back. See trial_pack.h. */
#include "trial_pack.h"

#include <stdlib.h>
#include <string.h>

#include "checked.h"

#define PACK_MAGIC "RXTR"
#define PACK_VERSION 2u

/* ---- writing: one pass counts the bytes (buf NULL), a second fills them - */

typedef struct writer {
    uint8_t *buf; /* NULL: only count */
    size_t len;
    int overflow;
} writer;

static void put_bytes(writer *w, const void *p, size_t n)
{
    size_t end;
    if (w->overflow || !checked_add(w->len, n, &end)) {
        w->overflow = 1;
        return;
    }
    if (w->buf && n)
        memcpy(w->buf + w->len, p, n);
    w->len = end;
}

static void put_u64(writer *w, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    put_bytes(w, b, 8);
}

static void put_u32(writer *w, uint32_t v)
{
    uint8_t b[4];
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    put_bytes(w, b, 4);
}

static void put_f64(writer *w, double d)
{
    uint64_t v;
    memcpy(&v, &d, 8);
    put_u64(w, v);
}

static void put_f32(writer *w, float f)
{
    uint32_t v;
    memcpy(&v, &f, 4);
    put_u32(w, v);
}

/* An optional array: presence flag, then n elements of one kind. */
static void put_f64s(writer *w, const double *a, size_t n)
{
    put_u64(w, a != NULL);
    for (size_t i = 0; a && i < n; i++)
        put_f64(w, a[i]);
}

static void put_u32s(writer *w, const uint32_t *a, size_t n)
{
    put_u64(w, a != NULL);
    for (size_t i = 0; a && i < n; i++)
        put_u32(w, a[i]);
}

static void put_all(writer *w, const trial_result *r)
{
    size_t K = r->n_classes, kk = 0, gg = 0;
    if (!checked_mul(K, K, &kk) || !checked_mul(r->grid_res, r->grid_res, &gg))
        w->overflow = 1;
    put_bytes(w, PACK_MAGIC, 4);
    put_u32(w, PACK_VERSION);
    put_u32(w, (uint32_t)r->status);
    size_t el = strnlen(r->error, sizeof r->error - 1);
    put_u64(w, el);
    put_bytes(w, r->error, el);
    put_u64(w, K);
    put_u64(w, r->n_layers);
    for (size_t l = 0; l < NN_MAX_LAYERS; l++) {
        put_u64(w, r->layer_in[l]);
        put_u64(w, r->layer_out[l]);
    }
    put_u64(w, r->n_params);
    put_u64(w, r->params != NULL);
    for (size_t i = 0; r->params && i < r->n_params; i++)
        put_f32(w, r->params[i]);
    put_u64(w, r->epochs_run);
    put_u64(w, r->diverged_epoch);
    put_u64(w, r->n_history);
    for (size_t i = 0; r->history && i < r->n_history; i++) {
        const nn_epoch_log *h = &r->history[i];
        put_u64(w, h->epoch);
        put_f64(w, h->loss);
        put_f64(w, h->accuracy);
        put_f64(w, h->val_loss);
        put_f64(w, h->val_accuracy);
        put_f64(w, h->learning_rate);
    }
    put_u64(w, r->best_epoch);
    put_f64(w, r->overfit_gap);
    for (int s = 0; s < 3; s++) {
        put_f64(w, r->loss[s]);
        put_f64(w, r->accuracy[s]);
    }
    for (int s = 0; s < 3; s++)
        put_u32s(w, r->confusion[s], kk);
    put_f64s(w, r->precision, K);
    put_f64s(w, r->recall, K);
    put_f64s(w, r->f1, K);
    put_u32s(w, r->support, K);
    put_u64(w, r->grid_res);
    for (int i = 0; i < 2; i++) {
        put_f64(w, r->grid_x0[i]);
        put_f64(w, r->grid_x1[i]);
    }
    put_u64(w, r->grid != NULL);
    if (r->grid)
        put_bytes(w, r->grid, gg);
    size_t hl = strnlen(r->hash, sizeof r->hash - 1);
    put_u64(w, hl);
    put_bytes(w, r->hash, hl);
    /* The layers as built (plain data: every rank runs the same binary), the
     * early-stopping figures and the per-row test predictions. */
    for (size_t l = 0; l < NN_MAX_LAYERS; l++) {
        put_bytes(w, &r->layer[l], sizeof r->layer[l]);
        put_u64(w, r->layer_params[l]);
        put_u64(w, r->layer_trainable[l]);
    }
    put_u64(w, r->stopped_epoch);
    put_u64(w, r->es_best_epoch);
    put_u64(w, (uint64_t)(r->restored_best + 1));
    size_t np = r->pred_rows ? r->n_predictions : 0, npk = 0;
    put_u64(w, np);
    if (np) {
        put_u32s(w, r->pred_rows, np);
        put_u32s(w, r->pred_source_rows, np);
        put_u32s(w, (const uint32_t *)r->pred_true, np);
        put_u32s(w, (const uint32_t *)r->pred_class, np);
        npk = np * K; /* fits: the arrays exist */
        put_u64(w, r->pred_prob != NULL);
        for (size_t i = 0; r->pred_prob && i < npk; i++)
            put_f32(w, r->pred_prob[i]);
    }
}

int trial_result_pack(const trial_result *r, uint8_t **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    if (r->history == NULL && r->n_history)
        return -1;
    writer w = {NULL, 0, 0};
    put_all(&w, r);
    if (w.overflow)
        return -1;
    uint8_t *b = malloc(w.len ? w.len : 1);
    if (!b)
        return -1;
    writer f = {b, 0, 0};
    put_all(&f, r);
    *buf = b;
    *len = f.len;
    return 0;
}

/* ---- reading: every read checks the bytes left ------------------------- */

typedef struct reader {
    const uint8_t *p;
    size_t left;
    int bad;
} reader;

static const uint8_t *take(reader *r, size_t n)
{
    if (r->bad || n > r->left) {
        r->bad = 1;
        return NULL;
    }
    const uint8_t *p = r->p;
    r->p += n;
    r->left -= n;
    return p;
}

static uint64_t get_u64(reader *r)
{
    const uint8_t *b = take(r, 8);
    uint64_t v = 0;
    for (int i = 0; b && i < 8; i++)
        v |= (uint64_t)b[i] << (8 * i);
    return v;
}

static uint32_t get_u32(reader *r)
{
    const uint8_t *b = take(r, 4);
    uint32_t v = 0;
    for (int i = 0; b && i < 4; i++)
        v |= (uint32_t)b[i] << (8 * i);
    return v;
}

static double get_f64(reader *r)
{
    uint64_t v = get_u64(r);
    double d;
    memcpy(&d, &v, 8);
    return d;
}

static float get_f32(reader *r)
{
    uint32_t v = get_u32(r);
    float f;
    memcpy(&f, &v, 4);
    return f;
}

/* A size that must fit in size_t and in the bytes left at `each` bytes per
 * element (so a corrupt count cannot ask for a huge allocation). */
static size_t get_count(reader *r, size_t each)
{
    uint64_t v = get_u64(r);
    if (r->bad || v > SIZE_MAX || (each && v > r->left / each)) {
        r->bad = 1;
        return 0;
    }
    return (size_t)v;
}

/* An array of n elements of `size` bytes; NULL (and bad) when out of memory. */
static void *alloc_n(reader *r, size_t n, size_t size)
{
    void *p = r->bad ? NULL : calloc(n ? n : 1, size);
    if (!p)
        r->bad = 1;
    return p;
}

static double *get_f64s(reader *r, size_t n)
{
    uint64_t present = get_u64(r);
    if (r->bad || !present)
        return NULL;
    if (present != 1 || n > r->left / 8) {
        r->bad = 1;
        return NULL;
    }
    double *a = alloc_n(r, n, sizeof *a);
    for (size_t i = 0; a && i < n; i++)
        a[i] = get_f64(r);
    return a;
}

static uint32_t *get_u32s(reader *r, size_t n)
{
    uint64_t present = get_u64(r);
    if (r->bad || !present)
        return NULL;
    if (present != 1 || n > r->left / 4) {
        r->bad = 1;
        return NULL;
    }
    uint32_t *a = alloc_n(r, n, sizeof *a);
    for (size_t i = 0; a && i < n; i++)
        a[i] = get_u32(r);
    return a;
}

int trial_result_unpack(const uint8_t *buf, size_t len, trial_result *out)
{
    memset(out, 0, sizeof *out);
    reader r = {buf, len, 0};
    const uint8_t *magic = take(&r, 4);
    if (!magic || memcmp(magic, PACK_MAGIC, 4) || get_u32(&r) != PACK_VERSION)
        return -1;
    uint32_t st = get_u32(&r);
    if (st > TRIAL_PRUNED)
        r.bad = 1;
    out->status = (trial_status)st;
    size_t el = get_count(&r, 1);
    if (el >= sizeof out->error)
        r.bad = 1;
    const uint8_t *e = take(&r, el);
    if (e)
        memcpy(out->error, e, el);
    out->n_classes = get_count(&r, 0);
    out->n_layers = get_count(&r, 0);
    if (out->n_layers > NN_MAX_LAYERS)
        r.bad = 1;
    for (size_t l = 0; l < NN_MAX_LAYERS; l++) {
        out->layer_in[l] = get_count(&r, 0);
        out->layer_out[l] = get_count(&r, 0);
    }
    out->n_params = get_count(&r, 0);
    uint64_t has_params = get_u64(&r);
    if (has_params > 1 || (has_params && out->n_params > r.left / 4))
        r.bad = 1;
    if (has_params && !r.bad) {
        out->params = alloc_n(&r, out->n_params, sizeof *out->params);
        for (size_t i = 0; out->params && i < out->n_params; i++)
            out->params[i] = get_f32(&r);
    }
    out->epochs_run = get_count(&r, 0);
    out->diverged_epoch = get_count(&r, 0);
    out->n_history = get_count(&r, 48);
    if (out->n_history && !r.bad) {
        out->history = alloc_n(&r, out->n_history, sizeof *out->history);
        for (size_t i = 0; out->history && i < out->n_history; i++) {
            nn_epoch_log *h = &out->history[i];
            h->epoch = get_count(&r, 0);
            h->loss = get_f64(&r);
            h->accuracy = get_f64(&r);
            h->val_loss = get_f64(&r);
            h->val_accuracy = get_f64(&r);
            h->learning_rate = get_f64(&r);
        }
    }
    out->best_epoch = get_count(&r, 0);
    out->overfit_gap = get_f64(&r);
    for (int s = 0; s < 3; s++) {
        out->loss[s] = get_f64(&r);
        out->accuracy[s] = get_f64(&r);
    }
    size_t K = out->n_classes, kk = 0, gg = 0;
    if (!checked_mul(K, K, &kk))
        r.bad = 1;
    for (int s = 0; s < 3; s++)
        out->confusion[s] = get_u32s(&r, kk);
    out->precision = get_f64s(&r, K);
    out->recall = get_f64s(&r, K);
    out->f1 = get_f64s(&r, K);
    out->support = get_u32s(&r, K);
    out->grid_res = get_count(&r, 0);
    for (int i = 0; i < 2; i++) {
        out->grid_x0[i] = get_f64(&r);
        out->grid_x1[i] = get_f64(&r);
    }
    if (!checked_mul(out->grid_res, out->grid_res, &gg))
        r.bad = 1;
    uint64_t has_grid = get_u64(&r);
    if (has_grid > 1 || (has_grid && gg > r.left))
        r.bad = 1;
    if (has_grid && !r.bad) {
        const uint8_t *g = take(&r, gg);
        out->grid = g ? alloc_n(&r, gg, 1) : NULL;
        if (out->grid)
            memcpy(out->grid, g, gg);
    }
    size_t hl = get_count(&r, 1);
    if (hl >= sizeof out->hash)
        r.bad = 1;
    const uint8_t *h = take(&r, hl);
    if (h)
        memcpy(out->hash, h, hl);
    for (size_t l = 0; l < NN_MAX_LAYERS; l++) {
        const uint8_t *c = take(&r, sizeof out->layer[l]);
        if (c)
            memcpy(&out->layer[l], c, sizeof out->layer[l]);
        out->layer_params[l] = get_count(&r, 0);
        out->layer_trainable[l] = get_count(&r, 0);
    }
    out->stopped_epoch = get_count(&r, 0);
    out->es_best_epoch = get_count(&r, 0);
    uint64_t rb = get_u64(&r);
    if (rb > 2)
        r.bad = 1;
    out->restored_best = (int)rb - 1;
    size_t np = get_count(&r, 16);
    if (np && !r.bad) {
        size_t npk = 0;
        out->n_predictions = np;
        out->pred_rows = get_u32s(&r, np);
        out->pred_source_rows = get_u32s(&r, np);
        out->pred_true = (int32_t *)get_u32s(&r, np);
        out->pred_class = (int32_t *)get_u32s(&r, np);
        if (!checked_mul(np, K, &npk))
            r.bad = 1;
        uint64_t has_prob = get_u64(&r);
        if (has_prob > 1 || (has_prob && npk > r.left / 4))
            r.bad = 1;
        if (has_prob && !r.bad) {
            out->pred_prob = alloc_n(&r, npk, sizeof *out->pred_prob);
            for (size_t i = 0; out->pred_prob && i < npk; i++)
                out->pred_prob[i] = get_f32(&r);
        }
        if (!out->pred_rows || !out->pred_source_rows || !out->pred_true || !out->pred_class)
            r.bad = 1;
    }
    if (r.bad || r.left) {
        trial_result_free(out);
        return -1;
    }
    return 0;
}
