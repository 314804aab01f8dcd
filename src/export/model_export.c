/* model_export: ONNX and .npz writers (see model_export.h).
 *
 * ONNX is a protobuf message (onnx/onnx.proto, proto2). Only what a dense
 * network needs is written: varints (wire type 0) and length-delimited
 * fields (wire type 2: strings, bytes, nested messages). A nested message is
 * built in its own buffer first, since its length precedes it. Field
 * numbers are onnx.proto's; each is named where it is used.
 */
#include "model_export.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* ---- buffers ------------------------------------------------------------ */

void model_buf_free(model_buf *b)
{
    if (!b)
        return;
    free(b->data);
    memset(b, 0, sizeof *b);
}

void model_buf_append(model_buf *b, const void *p, size_t n)
{
    if (b->failed || n == 0)
        return;
    if (n > (size_t)-1 - b->len) {
        b->failed = 1;
        return;
    }
    if (b->len + n > b->cap) {
        size_t nc = b->cap ? b->cap : 256;
        while (nc < b->len + n) {
            if (nc > (size_t)-1 / 2) {
                b->failed = 1;
                return;
            }
            nc *= 2;
        }
        unsigned char *nd = realloc(b->data, nc);
        if (!nd) {
            b->failed = 1;
            return;
        }
        b->data = nd;
        b->cap = nc;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void buf_puts(model_buf *b, const char *s)
{
    model_buf_append(b, s, strlen(s));
}

static void buf_printf(model_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf_printf(model_buf *b, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (w < 0 || (size_t)w >= sizeof tmp) {
        b->failed = 1;
        return;
    }
    model_buf_append(b, tmp, (size_t)w);
}

static void put_le(model_buf *b, uint64_t v, int bytes)
{
    unsigned char t[8];
    for (int i = 0; i < bytes; i++)
        t[i] = (unsigned char)(v >> (8 * i));
    model_buf_append(b, t, (size_t)bytes);
}

static void put_f32(model_buf *b, float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    put_le(b, u, 4);
}

static void put_f64(model_buf *b, double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    put_le(b, u, 8);
}

/* ---- text: UTF-8 and JSON ----------------------------------------------- */

/* Decodes the UTF-8 sequence at s (n bytes left): its code point in *cp and
 * its length, or 1 with *cp = 0xFFFD for a byte that starts no valid
 * sequence (overlong forms, surrogates and values past U+10FFFF included). */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if ((c & 0xE0) == 0xC0) {
        len = 2, v = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3, v = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4, v = c & 0x07, min = 0x10000;
    } else {
        *cp = 0xFFFD;
        return 1;
    }
    if (len > n)
        goto bad;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            goto bad;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        goto bad;
    *cp = v;
    return len;
bad:
    *cp = 0xFFFD;
    return 1;
}

/* s as valid UTF-8: every byte that starts no valid sequence becomes U+FFFD. */
static void utf8_clean_append(model_buf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    while (n) {
        uint32_t cp;
        size_t k = utf8_next(p, n, &cp);
        if (k == 1 && p[0] >= 0x80) /* a byte of no valid sequence */
            model_buf_append(b, "\xEF\xBF\xBD", 3);
        else
            model_buf_append(b, p, k);
        p += k;
        n -= k;
    }
}

static void json_u_escape(model_buf *b, uint32_t cp)
{
    if (cp >= 0x10000) {
        cp -= 0x10000;
        buf_printf(b, "\\u%04x\\u%04x", (unsigned)(0xD800 + (cp >> 10)),
                   (unsigned)(0xDC00 + (cp & 0x3FF)));
    } else {
        buf_printf(b, "\\u%04x", (unsigned)cp);
    }
}

/* A JSON string literal of s, ASCII only: quotes, backslashes and control
 * characters escaped, other characters than ASCII as \u escapes. */
static void json_string(model_buf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t n = strlen((const char *)p);
    model_buf_append(b, "\"", 1);
    while (n) {
        uint32_t cp;
        size_t k = utf8_next(p, n, &cp);
        if (cp == '"' || cp == '\\') {
            char e[2] = {'\\', (char)cp};
            model_buf_append(b, e, 2);
        } else if (cp == '\n') {
            buf_puts(b, "\\n");
        } else if (cp < 0x20 || cp >= 0x7F) {
            json_u_escape(b, cp);
        } else {
            char c = (char)cp;
            model_buf_append(b, &c, 1);
        }
        p += k;
        n -= k;
    }
    model_buf_append(b, "\"", 1);
}

/* JSON text produced elsewhere (the params of a trial), made ASCII: outside
 * strings valid JSON is ASCII already, so every other character is inside a
 * string, where a \u escape means the same. */
static void json_raw_ascii(model_buf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    while (n) {
        uint32_t cp;
        size_t k = utf8_next(p, n, &cp);
        if (cp >= 0x80) {
            json_u_escape(b, cp);
        } else {
            char c = (char)cp;
            model_buf_append(b, &c, 1);
        }
        p += k;
        n -= k;
    }
}

static void json_names(model_buf *b, char *const *names, size_t n)
{
    model_buf_append(b, "[", 1);
    for (size_t i = 0; i < n; i++) {
        if (i)
            buf_puts(b, ", ");
        json_string(b, names[i]);
    }
    model_buf_append(b, "]", 1);
}

static const char *activation_name(nn_activation a)
{
    switch (a) {
    case NN_ACT_RELU: return "relu";
    case NN_ACT_SIGMOID: return "sigmoid";
    case NN_ACT_TANH: return "tanh";
    case NN_ACT_SOFTMAX: return "softmax";
    default: return "linear";
    }
}

/* The tensor names shared by both formats. */
static const char *shift_name(data_scale s)
{
    return s == DATA_SCALE_MINMAX ? "scaler_min" : "scaler_mean";
}

static const char *scale_name(data_scale s)
{
    return s == DATA_SCALE_MINMAX ? "scaler_range" : "scaler_scale";
}

void model_architecture_json(const model_desc *d, model_buf *b)
{
    buf_puts(b, "{\"format\": \"runexp-model\", \"format_version\": 1");
    if (d->experiment) {
        buf_puts(b, ", \"experiment\": ");
        json_string(b, d->experiment);
    }
    if (d->trial_id > 0)
        buf_printf(b, ", \"trial_id\": %lld", (long long)d->trial_id);
    buf_printf(b, ", \"seed\": %llu", (unsigned long long)d->seed);
    if (d->params_json && d->params_json[0]) {
        buf_puts(b, ", \"params\": ");
        json_raw_ascii(b, d->params_json);
    }
    buf_printf(b, ", \"n_inputs\": %zu, \"feature_names\": ", d->n_inputs);
    json_names(b, d->feature_names, d->n_inputs);
    buf_puts(b, ", \"label_column\": ");
    if (d->label_name)
        json_string(b, d->label_name);
    else
        buf_puts(b, "null");
    buf_printf(b, ", \"n_classes\": %zu, \"class_names\": ", d->n_classes);
    json_names(b, d->class_names, d->n_classes);
    if (d->scale == DATA_SCALE_NONE)
        buf_puts(b, ", \"scaling\": {\"kind\": \"none\"}");
    else
        buf_printf(b, ", \"scaling\": {\"kind\": \"%s\", \"shift\": \"%s\", \"scale\": \"%s\","
                      " \"formula\": \"float32((float64(x) - %s) / %s)\"}",
                   d->scale == DATA_SCALE_MINMAX ? "minmax" : "standard",
                   shift_name(d->scale), scale_name(d->scale), shift_name(d->scale),
                   scale_name(d->scale));
    buf_puts(b, ", \"layers\": [");
    for (size_t l = 0; l < d->n_layers; l++)
        buf_printf(b, "%s{\"type\": \"dense\", \"inputs\": %zu, \"units\": %zu, \"activation\": "
                      "\"%s\", \"kernel\": \"layer%zu_kernel\", \"bias\": \"layer%zu_bias\"}",
                   l ? ", " : "", d->layers[l].in, d->layers[l].out,
                   activation_name(d->layers[l].activation), l, l);
    buf_puts(b, "], \"output\": \"probabilities: the last layer's activations; the predicted"
                " class is the first maximum\"}");
}

int model_desc_check(const model_desc *d, char *msg, size_t n)
{
    if (d->n_inputs == 0 || !d->feature_names) {
        snprintf(msg, n, "the model has no inputs");
        return -1;
    }
    if (d->n_layers == 0 || d->n_layers > NN_MAX_LAYERS) {
        snprintf(msg, n, "the model has %zu layers (1 to %d expected)", d->n_layers,
                 NN_MAX_LAYERS);
        return -1;
    }
    if (d->scale != DATA_SCALE_NONE && (!d->shift || !d->scale_by)) {
        snprintf(msg, n, "the model's input scaling has no values");
        return -1;
    }
    size_t in = d->n_inputs;
    for (size_t l = 0; l < d->n_layers; l++) {
        const model_layer *L = &d->layers[l];
        if (L->in != in || L->out == 0 || !L->kernel || !L->bias) {
            snprintf(msg, n, "layer %zu is %zu x %zu, expected %zu inputs", l, L->in, L->out,
                     in);
            return -1;
        }
        in = L->out;
    }
    if (in != d->n_classes || !d->class_names) {
        snprintf(msg, n, "the output layer has %zu units for %zu classes", in, d->n_classes);
        return -1;
    }
    return 0;
}

/* ---- protobuf ----------------------------------------------------------- */

size_t model_pb_varint(uint64_t v, unsigned char out[10])
{
    size_t n = 0;
    do {
        unsigned char c = (unsigned char)(v & 0x7F);
        v >>= 7;
        out[n++] = (unsigned char)(c | (v ? 0x80 : 0));
    } while (v);
    return n;
}

static void pb_varint(model_buf *b, uint64_t v)
{
    unsigned char t[10];
    model_buf_append(b, t, model_pb_varint(v, t));
}

/* field with wire type 0 (varint) */
static void pb_uint(model_buf *b, unsigned field, uint64_t v)
{
    pb_varint(b, (uint64_t)field << 3);
    pb_varint(b, v);
}

/* field with wire type 2 (length-delimited) */
static void pb_bytes(model_buf *b, unsigned field, const void *p, size_t n)
{
    pb_varint(b, ((uint64_t)field << 3) | 2);
    pb_varint(b, n);
    model_buf_append(b, p, n);
}

static void pb_str(model_buf *b, unsigned field, const char *s)
{
    model_buf t = {0};
    utf8_clean_append(&t, s ? s : "");
    if (t.failed)
        b->failed = 1;
    pb_bytes(b, field, t.data, t.len);
    model_buf_free(&t);
}

/* Appends the nested message sub as field, then frees sub. */
static void pb_msg(model_buf *b, unsigned field, model_buf *sub)
{
    if (sub->failed)
        b->failed = 1;
    pb_bytes(b, field, sub->data, sub->len);
    model_buf_free(sub);
}

/* onnx.proto's TensorProto.DataType */
enum { ONNX_FLOAT = 1, ONNX_INT64 = 7, ONNX_DOUBLE = 11 };
/* AttributeProto.AttributeType */
enum { ONNX_ATTR_INT = 2 };

/* TensorProto: dims = 1, data_type = 2, name = 8, raw_data = 9. */
static void onnx_tensor(model_buf *inits, const char *name, int type, const size_t *dims,
                        size_t nd, const model_buf *raw)
{
    model_buf t = {0};
    for (size_t i = 0; i < nd; i++)
        pb_uint(&t, 1, dims[i]);
    pb_uint(&t, 2, (uint64_t)type);
    pb_str(&t, 8, name);
    if (raw->failed)
        t.failed = 1;
    pb_bytes(&t, 9, raw->data, raw->len);
    pb_msg(inits, 5, &t); /* GraphProto.initializer = 5 */
}

static void onnx_f32_tensor(model_buf *graph, const char *name, const float *v,
                            const size_t *dims, size_t nd)
{
    size_t n = 1;
    for (size_t i = 0; i < nd; i++)
        n *= dims[i];
    model_buf raw = {0};
    for (size_t i = 0; i < n; i++)
        put_f32(&raw, v[i]);
    onnx_tensor(graph, name, ONNX_FLOAT, dims, nd, &raw);
    model_buf_free(&raw);
}

static void onnx_f64_tensor(model_buf *graph, const char *name, const double *v, size_t n)
{
    model_buf raw = {0};
    for (size_t i = 0; i < n; i++)
        put_f64(&raw, v[i]);
    onnx_tensor(graph, name, ONNX_DOUBLE, &n, 1, &raw);
    model_buf_free(&raw);
}

/* NodeProto: input = 1, output = 2, name = 3, op_type = 4, attribute = 5;
 * AttributeProto: name = 1, i = 3, type = 20. attr may be NULL. */
static void onnx_node(model_buf *graph, const char *op, const char *name, const char *in0,
                      const char *in1, const char *in2, const char *out, const char *attr,
                      int64_t attr_value, const char *attr2, int64_t attr2_value)
{
    model_buf n = {0};
    const char *ins[3] = {in0, in1, in2};
    for (int i = 0; i < 3; i++)
        if (ins[i])
            pb_str(&n, 1, ins[i]);
    pb_str(&n, 2, out);
    pb_str(&n, 3, name);
    pb_str(&n, 4, op);
    const char *an[2] = {attr, attr2};
    int64_t av[2] = {attr_value, attr2_value};
    for (int i = 0; i < 2; i++) {
        if (!an[i])
            continue;
        model_buf a = {0};
        pb_str(&a, 1, an[i]);
        pb_uint(&a, 3, (uint64_t)av[i]);
        pb_uint(&a, 20, ONNX_ATTR_INT);
        pb_msg(&n, 5, &a);
    }
    pb_msg(graph, 1, &n); /* GraphProto.node = 1 */
}

/* ValueInfoProto {name = 1, type = 2}; TypeProto.tensor_type = 1;
 * Tensor {elem_type = 1, shape = 2}; TensorShapeProto.dim = 1;
 * Dimension {dim_value = 1, dim_param = 2}. Shape [N] or [N, cols]. */
static void onnx_value_info(model_buf *graph, unsigned field, const char *name, int type,
                            size_t cols)
{
    model_buf shape = {0}, dim = {0}, tensor = {0}, tp = {0}, vi = {0};
    pb_str(&dim, 2, "N");
    pb_msg(&shape, 1, &dim);
    if (cols) {
        pb_uint(&dim, 1, cols);
        pb_msg(&shape, 1, &dim);
    }
    pb_uint(&tensor, 1, (uint64_t)type);
    pb_msg(&tensor, 2, &shape);
    pb_msg(&tp, 1, &tensor);
    pb_str(&vi, 1, name);
    pb_msg(&vi, 2, &tp);
    pb_msg(graph, field, &vi);
}

/* StringStringEntryProto {key = 1, value = 2} as ModelProto.metadata_props = 14. */
static void onnx_meta(model_buf *model, const char *key, const char *value)
{
    model_buf e = {0};
    pb_str(&e, 1, key);
    pb_str(&e, 2, value);
    pb_msg(model, 14, &e);
}

static void onnx_meta_buf(model_buf *model, const char *key, model_buf *value)
{
    model_buf_append(value, "", 1);
    if (!value->failed)
        onnx_meta(model, key, (const char *)value->data);
    else
        model->failed = 1;
    model_buf_free(value);
}

int model_onnx_write(const model_desc *d, model_buf *out, char *msg, size_t n)
{
    if (model_desc_check(d, msg, n))
        return -1;
    /* Nodes and initializers are gathered apart and the graph written in
     * field-number order, as protobuf libraries serialise it. */
    model_buf g = {0}, m = {0}, init = {0};
    char cur[48], name[48];
    snprintf(cur, sizeof cur, "input");
    if (d->scale != DATA_SCALE_NONE) {
        const char *sh = shift_name(d->scale), *sc = scale_name(d->scale);
        onnx_f64_tensor(&init, sh, d->shift, d->n_inputs);
        onnx_f64_tensor(&init, sc, d->scale_by, d->n_inputs);
        /* Cast.to: TensorProto.DataType */
        onnx_node(&g, "Cast", "scale_to_double", "input", NULL, NULL, "input_double", "to",
                  ONNX_DOUBLE, NULL, 0);
        onnx_node(&g, "Sub", "scale_shift", "input_double", sh, NULL, "shifted", NULL, 0,
                  NULL, 0);
        onnx_node(&g, "Div", "scale_divide", "shifted", sc, NULL, "scaled_double", NULL, 0,
                  NULL, 0);
        onnx_node(&g, "Cast", "scale_to_float", "scaled_double", NULL, NULL, "scaled", "to",
                  ONNX_FLOAT, NULL, 0);
        snprintf(cur, sizeof cur, "scaled");
    }
    for (size_t l = 0; l < d->n_layers; l++) {
        const model_layer *L = &d->layers[l];
        int last = l + 1 == d->n_layers;
        char kname[48], bname[48];
        snprintf(kname, sizeof kname, "layer%zu_kernel", l);
        snprintf(bname, sizeof bname, "layer%zu_bias", l);
        size_t kd[2] = {L->in, L->out};
        onnx_f32_tensor(&init, kname, L->kernel, kd, 2);
        onnx_f32_tensor(&init, bname, L->bias, &L->out, 1);
        const char *op = NULL;
        switch (L->activation) {
        case NN_ACT_RELU: op = "Relu"; break;
        case NN_ACT_SIGMOID: op = "Sigmoid"; break;
        case NN_ACT_TANH: op = "Tanh"; break;
        case NN_ACT_SOFTMAX: op = "Softmax"; break;
        default: op = NULL; break;
        }
        /* Gemm -> lin, then the activation lin -> outn (or Gemm -> outn). */
        char lin[48], outn[48];
        if (last)
            snprintf(outn, sizeof outn, "probabilities");
        else
            snprintf(outn, sizeof outn, "layer%zu_output", l);
        if (op)
            snprintf(lin, sizeof lin, "layer%zu_linear", l);
        else
            snprintf(lin, sizeof lin, "%s", outn);
        snprintf(name, sizeof name, "layer%zu_gemm", l);
        onnx_node(&g, "Gemm", name, cur, kname, bname, lin, NULL, 0, NULL, 0);
        if (op) {
            snprintf(name, sizeof name, "layer%zu_%s", l, activation_name(L->activation));
            onnx_node(&g, op, name, lin, NULL, NULL, outn,
                      L->activation == NN_ACT_SOFTMAX ? "axis" : NULL, 1, NULL, 0);
        }
        snprintf(cur, sizeof cur, "%s", outn);
    }
    onnx_node(&g, "ArgMax", "predicted_class", "probabilities", NULL, NULL, "class_index",
              "axis", 1, "keepdims", 0);
    char gname[64];
    snprintf(gname, sizeof gname, "runexp_trial_%lld", (long long)d->trial_id);
    pb_str(&g, 2, gname); /* GraphProto.name */
    if (init.failed)
        g.failed = 1;
    model_buf_append(&g, init.data, init.len); /* GraphProto.initializer = 5 */
    model_buf_free(&init);
    {
        model_buf doc = {0};
        buf_puts(&doc, "runexp model; architecture: ");
        model_architecture_json(d, &doc);
        model_buf_append(&doc, "", 1);
        if (!doc.failed)
            pb_str(&g, 10, (const char *)doc.data); /* GraphProto.doc_string */
        else
            g.failed = 1;
        model_buf_free(&doc);
    }
    onnx_value_info(&g, 11, "input", ONNX_FLOAT, d->n_inputs);          /* input */
    onnx_value_info(&g, 12, "probabilities", ONNX_FLOAT, d->n_classes); /* output */
    onnx_value_info(&g, 12, "class_index", ONNX_INT64, 0);

    pb_uint(&m, 1, 7); /* ModelProto.ir_version: 7 (ONNX 1.7), enough for opset 13 */
    pb_str(&m, 2, "runexp");                                   /* producer_name */
    pb_str(&m, 3, d->producer_version ? d->producer_version : ""); /* producer_version */
    pb_str(&m, 4, "runexp");                                   /* domain */
    pb_uint(&m, 5, 1);                                         /* model_version */
    pb_str(&m, 6, "A dense network trained by runexp; input: raw features, as in the"
                  " dataset; output: class probabilities");    /* doc_string */
    pb_msg(&m, 7, &g);                                         /* graph */
    {
        model_buf os = {0};
        pb_str(&os, 1, "");   /* OperatorSetIdProto.domain: the default one */
        pb_uint(&os, 2, 13);  /* .version */
        pb_msg(&m, 8, &os);   /* ModelProto.opset_import */
    }
    model_buf v = {0};
    json_names(&v, d->class_names, d->n_classes);
    onnx_meta_buf(&m, "runexp.class_names", &v);
    json_names(&v, d->feature_names, d->n_inputs);
    onnx_meta_buf(&m, "runexp.feature_names", &v);
    if (d->label_name)
        onnx_meta(&m, "runexp.label_column", d->label_name);
    if (d->experiment)
        onnx_meta(&m, "runexp.experiment", d->experiment);
    if (d->trial_id > 0) {
        buf_printf(&v, "%lld", (long long)d->trial_id);
        onnx_meta_buf(&m, "runexp.trial_id", &v);
    }
    if (d->params_json)
        onnx_meta(&m, "runexp.params", d->params_json);
    if (m.failed) {
        snprintf(msg, n, "out of memory writing the ONNX model");
        model_buf_free(&m);
        return -1;
    }
    model_buf_append(out, m.data, m.len);
    model_buf_free(&m);
    if (out->failed) {
        snprintf(msg, n, "out of memory writing the ONNX model");
        return -1;
    }
    return 0;
}

/* ---- NPY and zip -------------------------------------------------------- */

size_t model_npy_header(const char *descr, const size_t *shape, size_t ndim,
                        unsigned char *out, size_t cap)
{
    char dict[512];
    size_t used = 0;
    int w = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (",
                     descr);
    if (w < 0 || (size_t)w >= sizeof dict)
        return 0;
    used = (size_t)w;
    for (size_t i = 0; i < ndim; i++) {
        w = snprintf(dict + used, sizeof dict - used, "%s%zu", i ? ", " : "", shape[i]);
        if (w < 0 || (size_t)w >= sizeof dict - used)
            return 0;
        used += (size_t)w;
    }
    w = snprintf(dict + used, sizeof dict - used, "%s), }", ndim == 1 ? "," : "");
    if (w < 0 || (size_t)w >= sizeof dict - used)
        return 0;
    used += (size_t)w;
    /* numpy.lib.format: the dict, then spaces and '\n' so that magic (6) +
     * version (2) + length (2) + header is a multiple of 64; at least one
     * space. */
    size_t hlen = used + 1;
    size_t pad = 64 - (10 + hlen) % 64;
    size_t total = 10 + hlen + pad;
    if (total > cap || hlen + pad > 0xFFFF)
        return 0;
    memcpy(out, "\x93NUMPY\x01\x00", 8);
    out[8] = (unsigned char)((hlen + pad) & 0xFF);
    out[9] = (unsigned char)((hlen + pad) >> 8);
    memcpy(out + 10, dict, used);
    memset(out + 10 + used, ' ', pad);
    out[total - 1] = '\n';
    return total;
}

void model_zip_begin(model_zip *z, model_buf *out)
{
    memset(z, 0, sizeof *z);
    z->out = out;
}

#define ZIP_DOS_DATE 0x0021u /* 1980-01-01: (year - 1980) << 9 | month << 5 | day */
#define ZIP_LIMIT 0xFFFFFFFFu

void model_zip_add(model_zip *z, const char *name, const void *part1, size_t len1,
                   const void *part2, size_t len2)
{
    model_buf *o = z->out;
    size_t nlen = strlen(name), size = len1 + len2;
    if (size < len1 || size >= ZIP_LIMIT || o->len >= ZIP_LIMIT || nlen > 0xFFFF ||
        z->n_entries >= 0xFFFF || len1 > 0xFFFFFFFFu || len2 > 0xFFFFFFFFu) {
        o->failed = 1;
        return;
    }
    uLong crc = crc32(0L, Z_NULL, 0);
    if (len1)
        crc = crc32(crc, part1, (uInt)len1);
    if (len2)
        crc = crc32(crc, part2, (uInt)len2);
    size_t offset = o->len;
    /* local file header */
    put_le(o, 0x04034b50u, 4);
    put_le(o, 20, 2);           /* version needed: 2.0 */
    put_le(o, 0, 2);            /* flags */
    put_le(o, 0, 2);            /* method: stored */
    put_le(o, 0, 2);            /* time 00:00 */
    put_le(o, ZIP_DOS_DATE, 2);
    put_le(o, crc, 4);
    put_le(o, size, 4);         /* compressed size */
    put_le(o, size, 4);         /* uncompressed size */
    put_le(o, nlen, 2);
    put_le(o, 0, 2);            /* extra field length */
    model_buf_append(o, name, nlen);
    model_buf_append(o, part1, len1);
    model_buf_append(o, part2, len2);
    /* its central directory entry */
    model_buf *d = &z->dir;
    put_le(d, 0x02014b50u, 4);
    put_le(d, 20, 2);           /* version made by: 2.0, MS-DOS attributes */
    put_le(d, 20, 2);
    put_le(d, 0, 2);
    put_le(d, 0, 2);
    put_le(d, 0, 2);
    put_le(d, ZIP_DOS_DATE, 2);
    put_le(d, crc, 4);
    put_le(d, size, 4);
    put_le(d, size, 4);
    put_le(d, nlen, 2);
    put_le(d, 0, 2);            /* extra */
    put_le(d, 0, 2);            /* comment */
    put_le(d, 0, 2);            /* disk number */
    put_le(d, 0, 2);            /* internal attributes */
    put_le(d, 0, 4);            /* external attributes */
    put_le(d, offset, 4);
    model_buf_append(d, name, nlen);
    if (d->failed)
        o->failed = 1;
    z->n_entries++;
}

void model_zip_finish(model_zip *z)
{
    model_buf *o = z->out;
    size_t dir_offset = o->len;
    if (z->dir.failed || dir_offset >= ZIP_LIMIT || z->dir.len >= ZIP_LIMIT)
        o->failed = 1;
    model_buf_append(o, z->dir.data, z->dir.len);
    put_le(o, 0x06054b50u, 4); /* end of central directory */
    put_le(o, 0, 2);           /* this disk */
    put_le(o, 0, 2);           /* the disk with the directory */
    put_le(o, z->n_entries, 2);
    put_le(o, z->n_entries, 2);
    put_le(o, z->dir.len, 4);
    put_le(o, dir_offset, 4);
    put_le(o, 0, 2);           /* comment length */
    if (o->len > ZIP_LIMIT)
        o->failed = 1;
    model_buf_free(&z->dir);
}

/* One array as zip entry NAME.npy. */
static void npz_array(model_zip *z, const char *name, const char *descr, const size_t *shape,
                      size_t ndim, const model_buf *data)
{
    unsigned char hdr[640];
    char entry[64];
    size_t h = model_npy_header(descr, shape, ndim, hdr, sizeof hdr);
    if (!h || data->failed || snprintf(entry, sizeof entry, "%s.npy", name) >= (int)sizeof entry) {
        z->out->failed = 1;
        return;
    }
    model_zip_add(z, entry, hdr, h, data->data, data->len);
}

int model_npz_write(const model_desc *d, model_buf *out, char *msg, size_t n)
{
    if (model_desc_check(d, msg, n))
        return -1;
    model_zip z;
    model_zip_begin(&z, out);
    model_buf v = {0};
    /* The architecture as a 0-d '<U' array: UTF-32LE code points, here all
     * ASCII (the JSON escapes everything else). */
    model_buf json = {0};
    model_architecture_json(d, &json);
    for (size_t i = 0; i < json.len; i++)
        put_le(&v, json.data[i], 4);
    char descr[32];
    snprintf(descr, sizeof descr, "<U%zu", json.len);
    if (json.failed)
        v.failed = 1;
    npz_array(&z, "architecture", descr, NULL, 0, &v);
    model_buf_free(&json);
    model_buf_free(&v);
    for (size_t l = 0; l < d->n_layers; l++) {
        const model_layer *L = &d->layers[l];
        char name[48];
        size_t kd[2] = {L->in, L->out};
        for (size_t i = 0; i < L->in * L->out; i++)
            put_f32(&v, L->kernel[i]);
        snprintf(name, sizeof name, "layer%zu_kernel", l);
        npz_array(&z, name, "<f4", kd, 2, &v);
        model_buf_free(&v);
        for (size_t i = 0; i < L->out; i++)
            put_f32(&v, L->bias[i]);
        snprintf(name, sizeof name, "layer%zu_bias", l);
        npz_array(&z, name, "<f4", &L->out, 1, &v);
        model_buf_free(&v);
    }
    if (d->scale != DATA_SCALE_NONE) {
        for (size_t i = 0; i < d->n_inputs; i++)
            put_f64(&v, d->shift[i]);
        npz_array(&z, shift_name(d->scale), "<f8", &d->n_inputs, 1, &v);
        model_buf_free(&v);
        for (size_t i = 0; i < d->n_inputs; i++)
            put_f64(&v, d->scale_by[i]);
        npz_array(&z, scale_name(d->scale), "<f8", &d->n_inputs, 1, &v);
        model_buf_free(&v);
    }
    model_zip_finish(&z);
    if (out->failed) {
        snprintf(msg, n, "out of memory (or over 4 GiB) writing the .npz file");
        return -1;
    }
    return 0;
}
