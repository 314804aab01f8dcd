/* cmd_model: `runexp export-model` and `runexp predict`: a stored trial's
 * network, with the input scaling it was trained with, as a file (ONNX,
 * .npz) or applied to the rows of a CSV.
 *
 * The weights come from the database; the architecture and the scaling are
 * rebuilt the way `runexp reproduce` rebuilds a trial: the stored spec text
 * and base directory -> spec -> sweep plan -> the trial's point (found by
 * its key) -> dataset -> the data pipeline with the trial's data seed,
 * whose scaler was fitted on the trial's training rows. Nothing is trained
 * and the database is opened read-only.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "data.h"
#include "metrics.h"
#include "model_export.h"
#include "nn.h"
#include "runner.h"
#include "spec.h"
#include "store.h"
#include "sweep.h"
#include "text.h"
#include "version.h"

/* Everything a stored trial's model is made of; trial_model_free releases it. */
typedef struct trial_model {
    store_trial_record rec;
    spec_document *doc;
    sweep_plan plan;
    int planned;
    const spec_experiment *e; /* the trial's sweep point */
    uint64_t seed;
    data_set src;
    data_splits sp;
    int built;
    char **made_names;        /* feature names made up for a source without any */
    char *const *feature_names;
    const char *label_name;   /* the column predict ignores */
    model_desc desc;
} trial_model;

static void trial_model_free(trial_model *t)
{
    if (t->made_names)
        for (size_t i = 0; i < t->src.n_features; i++)
            free(t->made_names[i]);
    free(t->made_names);
    if (t->built)
        data_splits_free(&t->sp);
    data_set_free(&t->src);
    if (t->planned)
        sweep_plan_free(&t->plan);
    if (t->doc)
        spec_document_free(t->doc);
    store_trial_record_free(&t->rec);
    memset(t, 0, sizeof *t);
}

static void say(FILE *f, const char *prefix, const char *text)
{
    fputs(prefix, f);
    text_fputs(text, f);
    fputc('\n', f);
}

static void data_error_print(const data_error *d, FILE *f)
{
    fputs("runexp: ", f);
    if (d->file[0]) {
        text_fputs(d->file, f);
        if (d->line && d->column)
            fprintf(f, ":%u:%u", d->line, d->column);
        else if (d->line)
            fprintf(f, ":%u", d->line);
        fputs(": ", f);
    }
    fputs("error: ", f);
    text_fputs(d->message[0] ? d->message : "out of memory", f);
    fputc('\n', f);
}

static int source_load(const spec_experiment *e, data_set *out, FILE *err)
{
    data_error derr;
    memset(&derr, 0, sizeof derr);
    memset(out, 0, sizeof *out);
    int rc;
    switch (e->data.source) {
    case SPEC_SOURCE_XOR:
        rc = data_source_xor(out);
        break;
    case SPEC_SOURCE_DIGITS:
        rc = data_source_digits(out, &derr);
        break;
    default:
        rc = data_source_csv(e->data.csv_path, e->data.csv_label, out, &derr);
        break;
    }
    if (rc)
        data_error_print(&derr, err);
    return rc;
}

/* The stored weight of layer l and kind, or NULL. */
static const store_weight_row *weight_of(const store_trial_record *r, size_t l, const char *kind)
{
    for (size_t i = 0; i < r->n_weights; i++)
        if (r->weights[i].layer == l && !strcmp(r->weights[i].kind, kind))
            return &r->weights[i];
    return NULL;
}

/* Feature names for a source that has none: the digits as scikit-learn's
 * load_digits names them (pixel_ROW_COL), anything else x0, x1, ... */
static int make_feature_names(trial_model *t)
{
    size_t nf = t->src.n_features;
    if (t->src.feature_names) {
        t->feature_names = t->src.feature_names;
        return 0;
    }
    t->made_names = calloc(nf ? nf : 1, sizeof *t->made_names);
    if (!t->made_names)
        return -1;
    for (size_t i = 0; i < nf; i++) {
        char buf[64];
        if (t->src.image_w && t->src.image_w * t->src.image_h == nf)
            snprintf(buf, sizeof buf, "pixel_%zu_%zu", i / t->src.image_w, i % t->src.image_w);
        else
            snprintf(buf, sizeof buf, "x%zu", i);
        if (!(t->made_names[i] = strdup(buf)))
            return -1;
    }
    t->feature_names = t->made_names;
    return 0;
}

/* Checks the rebuilt model against the stored figures: the stored weights
 * on the rebuilt test rows must give the stored test accuracy, and the
 * stored test loss within 1e-6 (bit for bit with the binary that trained
 * it; another build may sum in another order), else the scaling, the rows
 * or the weights differ from the trial's and a warning says so. */
static void check_rebuild(trial_model *t, nn_model *m, FILE *err)
{
    double sl = NAN, sa = NAN;
    for (size_t i = 0; i < t->rec.n_metrics; i++) {
        const store_metric_row *r = &t->rec.metrics[i];
        if (!strcmp(r->split, "test") && !strcmp(r->name, "loss"))
            sl = r->value;
        if (!strcmp(r->split, "test") && !strcmp(r->name, "accuracy"))
            sa = r->value;
    }
    if (!t->sp.test.n_rows || isnan(sl) || isnan(sa))
        return;
    double loss, acc;
    nn_evaluate(m, t->sp.test.x, t->sp.y_test, t->sp.test.n_rows, 32, &loss, &acc);
    if (acc != sa || !(fabs(loss - sl) <= 1e-6 * fmax(1.0, fabs(sl))))
        fprintf(err,
                "runexp: warning: the rebuilt model of trial %lld gives test loss %.17g and"
                " accuracy %.17g, but the trial recorded %.17g and %.17g: its stored weights,"
                " its data or this runexp differ from the run that trained it\n",
                (long long)t->rec.id, loss, acc, sl, sa);
}

/* Loads trial id of the database at db_path and rebuilds its model.
 * Returns 0, or an exit code (2) after printing why on err. */
static int trial_model_load(const char *db_path, int64_t id, trial_model *t, FILE *err)
{
    memset(t, 0, sizeof *t);
    store_error serr;
    spec_diagnostics d;
    spec_diagnostics_init(&d);
    int code = RUNNER_EXIT_USAGE;
    store *db = NULL;
    if (access(db_path, F_OK) != 0) {
        fputs("runexp: no database ", err);
        text_fputs(db_path, err);
        fputc('\n', err);
        goto out;
    }
    if (!(db = store_open_readonly(db_path, &serr))) {
        say(err, "runexp: ", serr.message);
        goto out;
    }
    if (store_trial_load(db, id, &t->rec, &serr)) {
        say(err, "runexp: ", serr.message);
        goto out;
    }
    store_close(db);
    db = NULL;
    if (t->rec.status != STORE_DONE) {
        fprintf(err, "runexp: trial %lld has status %s; only a done trial has a trained model\n",
                (long long)id, store_status_name(t->rec.status));
        goto out;
    }
    const char *file = t->rec.spec_file ? t->rec.spec_file : "stored-spec.yaml";
    t->doc = spec_document_parse(t->rec.spec, strlen(t->rec.spec), file,
                                 t->rec.base_dir ? t->rec.base_dir : ".", &d);
    if (!t->doc || sweep_plan_build(t->doc, &t->plan, &d) != 0) {
        fprintf(err, "runexp: the stored spec of trial %lld no longer parses:\n", (long long)id);
        spec_diagnostics_print(&d, err);
        goto out;
    }
    t->planned = 1;
    const sweep_trial *tr = NULL;
    for (size_t i = 0; i < t->plan.n_trials; i++)
        if (!strcmp(t->plan.trials[i].key, t->rec.key))
            tr = &t->plan.trials[i];
    if (!tr) {
        fprintf(err, "runexp: trial %lld is not in the plan of its stored spec: its CSV file"
                     " changed since it ran, or another runexp version recorded it, so its"
                     " input scaling cannot be rebuilt\n", (long long)id);
        goto out;
    }
    t->e = &t->plan.points[tr->point].spec;
    t->seed = tr->seed;
    const nn_model_config *mc = &t->e->model;
    if (t->rec.n_weights == 0) {
        fprintf(err, "runexp: trial %lld has no stored weights%s\n", (long long)id,
                t->e->record.weights ? ""
                                     : " (its spec says record: {weights: false}; run it again"
                                       " with weights recorded)");
        goto out;
    }
    if (source_load(t->e, &t->src, err))
        goto out;
    data_error derr;
    memset(&derr, 0, sizeof derr);
    uint64_t data_seed = t->e->data.has_seed ? t->e->data.seed : t->seed;
    if (data_pipeline_build(&t->src, &t->e->data.pipeline, data_seed, &t->sp, &derr)) {
        data_error_print(&derr, err);
        goto out;
    }
    t->built = 1;
    if (make_feature_names(t)) {
        fputs("runexp: out of memory\n", err);
        goto out;
    }
    t->label_name = t->src.label_name ? t->src.label_name : "label";

    model_desc *md = &t->desc;
    md->n_inputs = t->src.n_features;
    md->feature_names = t->feature_names;
    md->scale = t->sp.scaler.kind;
    md->shift = t->sp.scaler.shift;
    md->scale_by = t->sp.scaler.scale;
    md->n_layers = mc->n_layers;
    md->n_classes = t->src.n_classes;
    md->class_names = t->src.class_names;
    md->label_name = t->src.label_name;
    md->experiment = spec_document_base(t->doc)->name;
    md->trial_id = id;
    md->seed = t->seed;
    md->params_json = t->rec.params;
    md->producer_version = RUNEXP_VERSION;
    for (size_t l = 0; l < mc->n_layers && l < NN_MAX_LAYERS; l++)
        if (mc->layers[l].kind != NN_LAYER_DENSE) {
            fprintf(err, "runexp: trial %lld has a %s layer (model.layers[%zu]); predict and"
                         " export handle dense layers only\n", (long long)id,
                    mc->layers[l].kind == NN_LAYER_DROPOUT ? "dropout" : "batch_normalization",
                    l);
            goto out;
        }
    size_t in = mc->n_inputs;
    for (size_t l = 0; l < mc->n_layers && l < NN_MAX_LAYERS; l++) {
        size_t out = mc->layers[l].units;
        const store_weight_row *k = weight_of(&t->rec, l, "kernel");
        const store_weight_row *b = weight_of(&t->rec, l, "bias");
        if (!k || !b || k->rows != in || k->cols != out || b->rows * b->cols != out) {
            fprintf(err, "runexp: the stored weights of trial %lld do not fit its architecture"
                         " (layer %zu: %zu x %zu expected)\n", (long long)id, l, in, out);
            goto out;
        }
        md->layers[l] = (model_layer){in, out, mc->layers[l].activation, k->data, b->data};
        in = out;
    }
    char msg[256];
    if (model_desc_check(md, msg, sizeof msg)) {
        fprintf(err, "runexp: trial %lld: %s\n", (long long)id, msg);
        goto out;
    }
    code = 0;
out:
    store_close(db);
    spec_diagnostics_free(&d);
    if (code)
        trial_model_free(t);
    return code;
}

/* A model of the trial's network holding its stored weights, with batches
 * as the run used them (nn_predict and nn_evaluate work in rows of 32). */
static nn_model *trial_network(const trial_model *t)
{
    size_t bs = t->e->training.batch_size ? t->e->training.batch_size : 32;
    nn_model *m = nn_model_new(&t->e->model, bs > 32 ? bs : 32);
    if (!m)
        return NULL;
    float *p = nn_model_params(m);
    for (size_t l = 0; l < t->desc.n_layers; l++) {
        const model_layer *L = &t->desc.layers[l];
        memcpy(p + nn_model_kernel_offset(m, l), L->kernel, L->in * L->out * sizeof *p);
        memcpy(p + nn_model_bias_offset(m, l), L->bias, L->out * sizeof *p);
    }
    return m;
}

/* Writes len bytes to path through a temporary file in the same directory
 * renamed over it, so a failure leaves no partial file (and an existing
 * file as it was). 0, or -1 after printing why. */
static int write_file_atomic(const char *path, const void *data, size_t len, FILE *err)
{
    size_t pl = strlen(path);
    char *tmp = malloc(pl + 32);
    int fd = -1;
    if (!tmp) {
        fputs("runexp: out of memory\n", err);
        return -1;
    }
    for (int i = 0; i < 100 && fd < 0; i++) {
        snprintf(tmp, pl + 32, "%s.tmp%ld.%d", path, (long)getpid(), i);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0666);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0) {
        int e = errno;
        fputs("runexp: cannot write ", err);
        text_fputs(path, err);
        fprintf(err, ": %s\n", strerror(e));
        free(tmp);
        return -1;
    }
    const unsigned char *p = data;
    size_t done = 0;
    int e = 0;
    while (done < len) {
        ssize_t w = write(fd, p + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            e = w < 0 ? errno : EIO;
            break;
        }
        done += (size_t)w;
    }
    if (!e && fsync(fd) != 0 && errno != EINVAL)
        e = errno;
    if (close(fd) != 0 && !e)
        e = errno;
    if (!e && rename(tmp, path) != 0)
        e = errno;
    if (e) {
        unlink(tmp);
        fputs("runexp: cannot write ", err);
        text_fputs(path, err);
        fprintf(err, ": %s\n", strerror(e));
        free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}

/* ---- argument parsing ---------------------------------------------------- */

static void model_usage(FILE *f)
{
    fputs("usage: runexp export-model TRIAL_ID --out FILE [--format onnx|npz] [--db FILE]\n"
          "       runexp predict TRIAL_ID DATA.csv [--out FILE] [--db FILE]\n"
          "export-model writes the trial's network with its input scaling as an ONNX model\n"
          "or a NumPy .npz (the format defaults to the --out file's extension). predict\n"
          "applies them to DATA.csv (the trial's feature columns by name, in any order; its\n"
          "label column may be there and is ignored) and writes one CSV row per data row:\n"
          "row,prob_<class>...,predicted. Exit status 0, or 2 on any error.\n",
          f);
}

typedef struct model_args {
    const char *db, *out, *format;
    const char *pos[2];
    int n_pos;
} model_args;

/* Parses [--db FILE] [--out FILE] [--format F] and up to max_pos positional
 * arguments; 0, 1 for --help (usage printed), or 2 (error printed). */
static int parse_args(int argc, char **argv, int max_pos, int with_format, model_args *a)
{
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        const char **slot = NULL, *opt = NULL;
        if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
            model_usage(stdout);
            return 1;
        }
        if (!strncmp(s, "--db", 4) && (s[4] == '\0' || s[4] == '='))
            slot = &a->db, opt = "--db";
        else if (!strncmp(s, "--out", 5) && (s[5] == '\0' || s[5] == '='))
            slot = &a->out, opt = "--out";
        else if (with_format && !strncmp(s, "--format", 8) && (s[8] == '\0' || s[8] == '='))
            slot = &a->format, opt = "--format";
        if (slot) {
            size_t ol = strlen(opt);
            const char *v = s[ol] == '=' ? s + ol + 1 : (i + 1 < argc ? argv[++i] : NULL);
            if (!v || !*v) {
                fprintf(stderr, "runexp: %s needs a value\n", opt);
                model_usage(stderr);
                return 2;
            }
            *slot = v;
        } else if (!strcmp(s, "--")) {
            for (i++; i < argc; i++) {
                if (a->n_pos == max_pos)
                    goto too_many;
                a->pos[a->n_pos++] = argv[i];
            }
        } else if (s[0] == '-' && s[1]) {
            fputs("runexp: unknown option '", stderr);
            text_fputs(s, stderr);
            fputs("'\n", stderr);
            model_usage(stderr);
            return 2;
        } else {
            if (a->n_pos == max_pos)
                goto too_many;
            a->pos[a->n_pos++] = s;
        }
    }
    if (!a->db || !*a->db) {
        const char *env = getenv("RUNEXP_DB");
        a->db = env && *env ? env : RUNNER_DEFAULT_DB;
    }
    return 0;
too_many:
    fprintf(stderr, "runexp: %s takes %s\n", argv[0],
            max_pos == 1 ? "one TRIAL_ID" : "a TRIAL_ID and a DATA.csv");
    model_usage(stderr);
    return 2;
}

static int64_t trial_id_arg(const char *cmd, const char *s)
{
    long id = cmd_parse_positive(s);
    if (id <= 0) {
        fprintf(stderr, "runexp: %s needs a trial id (a positive integer), got '", cmd);
        text_fputs(s ? s : "", stderr);
        fputs("'\n", stderr);
        model_usage(stderr);
    }
    return id;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

int cmd_export_model(int argc, char **argv)
{
    model_args a;
    int pr = parse_args(argc, argv, 1, 1, &a);
    if (pr)
        return pr == 1 ? 0 : RUNNER_EXIT_USAGE;
    int64_t id = trial_id_arg("export-model", a.n_pos ? a.pos[0] : NULL);
    if (id <= 0)
        return RUNNER_EXIT_USAGE;
    if (!a.out) {
        fputs("runexp: export-model needs --out FILE\n", stderr);
        model_usage(stderr);
        return RUNNER_EXIT_USAGE;
    }
    const char *fmt = a.format;
    if (!fmt)
        fmt = ends_with(a.out, ".onnx") ? "onnx" : ends_with(a.out, ".npz") ? "npz" : NULL;
    if (!fmt) {
        fputs("runexp: export-model needs --format onnx|npz (the --out name ends in neither"
              " .onnx nor .npz)\n", stderr);
        return RUNNER_EXIT_USAGE;
    }
    int onnx = !strcmp(fmt, "onnx");
    if (!onnx && strcmp(fmt, "npz")) {
        fputs("runexp: unknown model format '", stderr);
        text_fputs(fmt, stderr);
        fputs("'; expected onnx or npz\n", stderr);
        return RUNNER_EXIT_USAGE;
    }
    trial_model t;
    int code = trial_model_load(a.db, id, &t, stderr);
    if (code)
        return code;
    code = RUNNER_EXIT_USAGE;
    model_buf b = {0};
    char msg[256];
    nn_model *m = trial_network(&t);
    if (!m) {
        fputs("runexp: cannot build the network (out of memory)\n", stderr);
        goto out;
    }
    check_rebuild(&t, m, stderr);
    if ((onnx ? model_onnx_write(&t.desc, &b, msg, sizeof msg)
              : model_npz_write(&t.desc, &b, msg, sizeof msg))) {
        fprintf(stderr, "runexp: %s\n", msg);
        goto out;
    }
    if (write_file_atomic(a.out, b.data, b.len, stderr))
        goto out;
    code = RUNNER_EXIT_OK;
out:
    if (m)
        nn_model_free(m);
    model_buf_free(&b);
    trial_model_free(&t);
    return code;
}

/* A CSV field: quoted when it holds a comma, a quote or a line end. */
static void csv_field(model_buf *b, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        model_buf_append(b, s, strlen(s));
        return;
    }
    model_buf_append(b, "\"", 1);
    for (; *s; s++) {
        if (*s == '"')
            model_buf_append(b, "\"", 1);
        model_buf_append(b, s, 1);
    }
    model_buf_append(b, "\"", 1);
}

int cmd_predict(int argc, char **argv)
{
    model_args a;
    int pr = parse_args(argc, argv, 2, 0, &a);
    if (pr)
        return pr == 1 ? 0 : RUNNER_EXIT_USAGE;
    int64_t id = trial_id_arg("predict", a.n_pos ? a.pos[0] : NULL);
    if (id <= 0)
        return RUNNER_EXIT_USAGE;
    if (a.n_pos < 2) {
        fputs("runexp: predict needs a DATA.csv after the trial id\n", stderr);
        model_usage(stderr);
        return RUNNER_EXIT_USAGE;
    }
    trial_model t;
    int code = trial_model_load(a.db, id, &t, stderr);
    if (code)
        return code;
    code = RUNNER_EXIT_USAGE;
    data_set rows;
    memset(&rows, 0, sizeof rows);
    data_error derr;
    memset(&derr, 0, sizeof derr);
    model_buf b = {0};
    float *prob = NULL;
    nn_model *m = NULL;
    if (data_features_csv(a.pos[1], t.feature_names, t.desc.n_inputs, t.label_name, &rows,
                          &derr)) {
        data_error_print(&derr, stderr);
        goto out;
    }
    m = trial_network(&t);
    size_t K = t.desc.n_classes;
    if (!m || rows.n_rows > (size_t)-1 / sizeof *prob / K ||
        !(prob = malloc(rows.n_rows * K * sizeof *prob))) {
        fputs("runexp: out of memory\n", stderr);
        goto out;
    }
    check_rebuild(&t, m, stderr);
    data_scaler_apply(&t.sp.scaler, &rows);
    nn_predict(m, rows.x, rows.n_rows, prob);
    model_buf_append(&b, "row", 3);
    for (size_t k = 0; k < K; k++) {
        model_buf name = {0};
        model_buf_append(&name, "prob_", 5);
        model_buf_append(&name, t.desc.class_names[k], strlen(t.desc.class_names[k]) + 1);
        model_buf_append(&b, ",", 1);
        if (!name.failed)
            csv_field(&b, (const char *)name.data);
        else
            b.failed = 1;
        model_buf_free(&name);
    }
    model_buf_append(&b, ",predicted\n", 11);
    for (size_t i = 0; i < rows.n_rows; i++) {
        char num[32];
        int w = snprintf(num, sizeof num, "%zu", i);
        model_buf_append(&b, num, (size_t)w);
        for (size_t k = 0; k < K; k++) {
            /* %.9g: enough digits for every float32 to read back as
             * itself. */
            w = snprintf(num, sizeof num, ",%.9g", (double)prob[i * K + k]);
            model_buf_append(&b, num, (size_t)w);
        }
        model_buf_append(&b, ",", 1);
        csv_field(&b, t.desc.class_names[metrics_argmax(prob + i * K, K)]);
        model_buf_append(&b, "\n", 1);
    }
    if (b.failed) {
        fputs("runexp: out of memory\n", stderr);
        goto out;
    }
    if (a.out) {
        if (write_file_atomic(a.out, b.data, b.len, stderr))
            goto out;
    } else if (fwrite(b.data, 1, b.len, stdout) != b.len || fflush(stdout) != 0) {
        fprintf(stderr, "runexp: cannot write the predictions: %s\n", strerror(errno));
        goto out;
    }
    code = RUNNER_EXIT_OK;
out:
    free(prob);
    if (m)
        nn_model_free(m);
    model_buf_free(&b);
    data_set_free(&rows);
    trial_model_free(&t);
    return code;
}
