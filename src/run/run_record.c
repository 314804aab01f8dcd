/* run_record: what a run writes besides the trials' training: the
 * experiment's provenance (host, CPU, build, base directory), the plan's
 * rows, and each trial_result converted into the store's plain arrays.
 * See run_internal.h. */
#include "run_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "checked.h"
#include "digest.h"
#include "version.h"

static void cpu_model(char *buf, size_t n)
{
    snprintf(buf, n, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10))
            continue;
        char *c = strchr(line, ':');
        if (!c)
            continue;
        c++;
        while (*c == ' ' || *c == '\t')
            c++;
        c[strcspn(c, "\n")] = '\0';
        snprintf(buf, n, "%s", c);
        break;
    }
    fclose(f);
}

static void host_name(char *buf, size_t n)
{
    struct utsname un;
    if (uname(&un) == 0)
        snprintf(buf, n, "%s %s %s %s", un.nodename, un.sysname, un.release, un.machine);
    else
        snprintf(buf, n, "unknown");
}

/* The spec file's directory, absolute, so `reproduce` and `report` find
 * CSV files from any directory. */
static void base_dir_of(const char *file, char *buf, size_t n)
{
    char dir[PATH_MAX + 1];
    snprintf(dir, sizeof dir, "%s", file);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    char cwd[PATH_MAX + 1];
    if (dir[0] != '/' && getcwd(cwd, sizeof cwd))
        snprintf(buf, n, "%s/%s", cwd, dir);
    else
        snprintf(buf, n, "%s", dir);
}

void run_record_free(run_record *r)
{
    if (r->params)
        for (size_t i = 0; i < r->n_points; i++)
            free(r->params[i]);
    free(r->params);
    free(r->point_params);
    free(r->point_canonical);
    free(r->trials);
    memset(r, 0, sizeof *r);
}

/* Every trial row refers to its point's sweep values and canonical spec. */
static int record_rows(run_record *r, const sweep_plan *p)
{
    for (size_t pi = 0; pi < p->n_points; pi++) {
        const sweep_point *pt = &p->points[pi];
        r->point_params[pi] = pt->params_json;
        r->point_canonical[pi] = pt->canonical;
        r->params[pi] = calloc(pt->n_values ? pt->n_values : 1, sizeof **r->params);
        if (!r->params[pi])
            return -1;
        for (size_t v = 0; v < pt->n_values; v++)
            r->params[pi][v] = (store_param){pt->values[v].name, (int)pt->values[v].type,
                                             pt->values[v].i, pt->values[v].r, pt->values[v].s};
    }
    for (size_t i = 0; i < p->n_trials; i++) {
        const sweep_trial *tr = &p->trials[i];
        const sweep_point *pt = &p->points[tr->point];
        r->trials[i] = (store_trial_plan){tr->key, tr->index, tr->point, tr->seed,
                                          pt->params_json, pt->n_values, r->params[tr->point],
                                          pt->canonical, r->spec_hash};
    }
    return 0;
}

int run_record_make(run_record *r, const spec_document *doc, const sweep_plan *p,
                    const data_set *src0, int threads)
{
    memset(r, 0, sizeof *r);
    size_t np = p->n_points ? p->n_points : 1;
    r->n_points = p->n_points;
    r->n_trials = p->n_trials;
    r->trials = calloc(p->n_trials ? p->n_trials : 1, sizeof *r->trials);
    r->params = calloc(np, sizeof *r->params);
    r->point_params = calloc(np, sizeof *r->point_params);
    r->point_canonical = calloc(np, sizeof *r->point_canonical);
    if (!r->trials || !r->params || !r->point_params || !r->point_canonical)
        goto fail;
    const spec_experiment *base = spec_document_base(doc);
    const char *spec_text = spec_document_text(doc);
    const char *file = spec_document_file(doc);
    run_now_iso(r->created_at);
    host_name(r->host, sizeof r->host);
    cpu_model(r->cpu_model, sizeof r->cpu_model);
    base_dir_of(file, r->base_dir, sizeof r->base_dir);
    digest_sha256_hex(spec_text, strlen(spec_text), r->spec_hash);
    if (record_rows(r, p))
        goto fail;
    r->info = (store_experiment_info){
        .name = base->name && base->name[0] ? base->name : file, .spec = spec_text,
        .spec_file = file, .base_dir = r->base_dir, .created_at = r->created_at,
        .runexp_version = RUNEXP_VERSION, .git_revision = RUNEXP_GIT_REVISION,
        .compiler = RUNEXP_COMPILER, .build_flags = RUNEXP_BUILD_FLAGS, .host = r->host,
        .cpu_model = r->cpu_model, .threads = threads, .sweep_dims = p->dims_json,
        .n_classes = src0->n_classes, .class_names = (const char *const *)src0->class_names,
        .n_points = p->n_points, .point_params = r->point_params,
        .point_canonical = r->point_canonical};
    return 0;
fail:
    run_record_free(r);
    return -1;
}

/* ---- a trial's result, as the store's plain arrays ---------------------- */

/* The split figures (loss, accuracy) and, with a test set, the per-class
 * ones; mt has room for 6 + 4 K. Returns how many were filled. */
static size_t trial_metrics(const trial_result *t, store_metric *mt)
{
    size_t nm = 0;
    for (int s = 0; s < 3; s++) {
        if (isnan(t->loss[s]))
            continue;
        mt[nm].split = trial_split_names[s];
        snprintf(mt[nm].name, sizeof mt[nm].name, "loss");
        mt[nm++].value = t->loss[s];
        mt[nm].split = trial_split_names[s];
        snprintf(mt[nm].name, sizeof mt[nm].name, "accuracy");
        mt[nm++].value = t->accuracy[s];
    }
    if (!isnan(t->loss[2]))
        for (size_t k = 0; k < t->n_classes; k++) {
            const char *nm4[4] = {"precision", "recall", "f1", "support"};
            double v4[4] = {t->precision[k], t->recall[k], t->f1[k], (double)t->support[k]};
            for (int j = 0; j < 4; j++) {
                mt[nm].split = "test";
                snprintf(mt[nm].name, sizeof mt[nm].name, "%s_%zu", nm4[j], k);
                mt[nm++].value = v4[j];
            }
        }
    return nm;
}

/* The parameter tensors of every layer (a dense kernel and bias, a batch
 * normalization's gamma, beta and moving statistics), pointing into
 * t->params; wt has room for 4 per layer. */
static size_t trial_weights(const trial_result *t, store_weight *wt)
{
    size_t nw = 0;
    for (size_t l = 0; l < t->n_layers; l++) {
        trial_tensor tt[4];
        size_t n = trial_layer_tensors(t, l, tt);
        for (size_t j = 0; j < n; j++)
            wt[nw++] = (store_weight){l, tt[j].kind, tt[j].rows, tt[j].cols,
                                      t->params + tt[j].offset};
    }
    return nw;
}

int run_record_trial(store *db, int64_t id, const spec_experiment *e, const trial_result *t,
                     const char *started_at, double wall_ms, store_error *err)
{
    size_t E = t->n_history, K = t->n_classes, nh, nmt;
    double *h = NULL;
    store_metric *mt = NULL;
    int rc = -1;
    /* 5 history columns; 6 split figures + 4 per class. */
    if (checked_mul(E ? E : 1, 5, &nh) && checked_mul(K, 4, &nmt) && checked_add(nmt, 6, &nmt)) {
        h = calloc(nh, sizeof *h);
        mt = calloc(nmt, sizeof *mt);
    }
    if (!h || !mt) {
        snprintf(err->message, sizeof err->message, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < E; i++) {
        h[i] = t->history[i].loss;
        h[E + i] = t->history[i].accuracy;
        h[2 * E + i] = t->history[i].val_loss;
        h[3 * E + i] = t->history[i].val_accuracy;
        h[4 * E + i] = t->history[i].learning_rate;
    }
    /* The layer table, as model.summary() shows it. */
    char lnames[NN_MAX_LAYERS][48], lshapes[NN_MAX_LAYERS][32];
    store_layer ly[NN_MAX_LAYERS];
    for (size_t l = 0; l < t->n_layers && l < NN_MAX_LAYERS; l++) {
        trial_layer_name(t, l, lnames[l], sizeof lnames[l]);
        snprintf(lshapes[l], sizeof lshapes[l], "(None, %zu)", t->layer_out[l]);
        ly[l] = (store_layer){lnames[l], trial_layer_type(t, l), lshapes[l], t->layer_params[l],
                              t->layer_trainable[l]};
    }
    char fin[RUN_ISO_LEN];
    run_now_iso(fin);
    store_trial_result r = {
        .status = run_store_status(t->status), .n_params = t->n_params,
        .epochs_run = t->epochs_run, .diverged_epoch = t->diverged_epoch,
        .best_epoch = t->best_epoch, .overfit_gap = t->overfit_gap,
        .train_loss = t->loss[0], .train_accuracy = t->accuracy[0],
        .val_loss = t->loss[1], .val_accuracy = t->accuracy[1],
        .test_loss = t->loss[2], .test_accuracy = t->accuracy[2],
        .result_hash = t->status == TRIAL_DONE ? t->hash : NULL,
        .error = t->error[0] ? t->error : NULL, .started_at = started_at,
        .finished_at = fin, .wall_ms = wall_ms, .n_epochs = E, .loss = h,
        .accuracy = h + E, .val_loss_h = h + 2 * E, .val_accuracy_h = h + 3 * E,
        .learning_rate_h = h + 4 * E, .stopped_epoch = t->stopped_epoch,
        .restore_asked = t->restored_best >= 0, .restored_best = t->restored_best == 1,
        .early_stopping_best_epoch = t->es_best_epoch,
        .n_layers = t->n_layers <= NN_MAX_LAYERS ? t->n_layers : 0, .layers = ly};
    store_confusion cm[3];
    store_weight wt[4 * NN_MAX_LAYERS];
    store_grid g;
    store_predictions pr;
    if (t->status == TRIAL_DONE) {
        r.n_metrics = trial_metrics(t, mt);
        r.metrics = mt;
        for (int s = 0; s < 3; s++)
            if (t->confusion[s])
                cm[r.n_confusion++] = (store_confusion){trial_split_names[s], K, t->confusion[s]};
        r.confusion = cm;
        if (e->record.weights) {
            r.n_weights = trial_weights(t, wt);
            r.weights = wt;
        }
        if (t->grid) {
            g = (store_grid){t->grid_x0[0], t->grid_x0[1], t->grid_x1[0], t->grid_x1[1],
                             t->grid_res, t->grid};
            r.grid = &g;
        }
        if (t->pred_rows) {
            pr = (store_predictions){"test", t->n_predictions, K, t->pred_source_rows,
                                     t->pred_rows, t->pred_true, t->pred_class, t->pred_prob};
            r.predictions = &pr;
        }
    }
    rc = store_trial_finish(db, id, &r, err);
out:
    free(h);
    free(mt);
    return rc;
}
