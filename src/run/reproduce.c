/* reproduce: `runexp reproduce TRIAL_ID`: re-runs a stored trial from the
 * spec text, base directory and seed it ran from, with the same trial
 * function as `run`, and compares the result with what is stored. See
 * runner.h. */
#include "run_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "text.h"

static int same_double(double a, double b)
{
    if (isnan(a) && isnan(b))
        return 1;
    return memcmp(&a, &b, sizeof a) == 0;
}

/* Prints where a recomputed trial first differs from the stored rows and
 * returns 1, or returns 0 when weights, metrics and history all agree. */
static void diff_print(FILE *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void diff_print(FILE *out, const char *fmt, ...)
{
    if (!out)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(out, fmt, ap);
    va_end(ap);
}

static int first_difference(const trial_result *t, const store_trial_record *r, FILE *out)
{
    for (size_t l = 0; l < t->n_layers; l++) {
        trial_tensor tt[4];
        size_t ntt = trial_layer_tensors(t, l, tt);
        for (size_t kb = 0; kb < ntt; kb++) {
            const char *kind = tt[kb].kind;
            size_t n = tt[kb].rows * tt[kb].cols, off = tt[kb].offset;
            const store_weight_row *w = NULL;
            for (size_t i = 0; i < r->n_weights; i++)
                if (r->weights[i].layer == l && !strcmp(r->weights[i].kind, kind))
                    w = &r->weights[i];
            if (!w && r->n_weights) {
                diff_print(out, "first difference: layer %zu %s is not stored\n", l, kind);
                return 1;
            }
            if (w) {
                size_t sn = w->rows * w->cols;
                if (sn != n) {
                    diff_print(out, "first difference: layer %zu %s has %zu values stored,"
                                    " %zu recomputed\n", l, kind, sn, n);
                    return 1;
                }
                for (size_t i = 0; i < n; i++) {
                    if (memcmp(&w->data[i], &t->params[off + i], sizeof(float))) {
                        diff_print(out,
                                "first difference: layer %zu %s[%zu] (parameter %zu):"
                                " stored %.9g, recomputed %.9g\n",
                                l, kind, i, off + i, (double)w->data[i],
                                (double)t->params[off + i]);
                        return 1;
                    }
                }
            }
        }
    }
    for (size_t i = 0; i < r->n_metrics; i++) {
        const store_metric_row *m = &r->metrics[i];
        int s;
        for (s = 0; s < 3; s++)
            if (!strcmp(m->split, trial_split_names[s]))
                break;
        double v = NAN;
        int known = 1;
        size_t k = 0;
        if (s == 3)
            known = 0;
        else if (!strcmp(m->name, "loss"))
            v = t->loss[s];
        else if (!strcmp(m->name, "accuracy"))
            v = t->accuracy[s];
        else if (s == 2 && sscanf(m->name, "precision_%zu", &k) == 1 && k < t->n_classes)
            v = t->precision[k];
        else if (s == 2 && sscanf(m->name, "recall_%zu", &k) == 1 && k < t->n_classes)
            v = t->recall[k];
        else if (s == 2 && sscanf(m->name, "f1_%zu", &k) == 1 && k < t->n_classes)
            v = t->f1[k];
        else if (s == 2 && sscanf(m->name, "support_%zu", &k) == 1 && k < t->n_classes)
            v = (double)t->support[k];
        else
            known = 0;
        if (known && !same_double(v, m->value)) {
            diff_print(out, "first difference: metric %s %s: stored %.17g, recomputed %.17g\n",
                    m->split, m->name, m->value, v);
            return 1;
        }
    }
    if (r->n_epochs != t->n_history) {
        diff_print(out, "first difference: %zu epochs stored, %zu recomputed\n", r->n_epochs,
                t->n_history);
        return 1;
    }
    static const char *const hn[4] = {"loss", "accuracy", "val_loss", "val_accuracy"};
    for (size_t e = 0; e < t->n_history; e++) {
        const nn_epoch_log *h = &t->history[e];
        double v[4] = {h->loss, h->accuracy, h->val_loss, h->val_accuracy};
        for (int j = 0; j < 4; j++)
            if (!same_double(v[j], r->history[e * 4 + (size_t)j])) {
                diff_print(out, "first difference: epoch %zu %s: stored %.17g, recomputed %.17g\n",
                        e + 1, hn[j], r->history[e * 4 + (size_t)j], v[j]);
                return 1;
            }
    }
    return 0;
}

/* The "csv_sha256" of a canonical resolved spec (sweep.c's form): 1 with the
 * hex digest in hex, 0 when there is none. */
static int csv_hash_of(const char *canonical, char hex[65])
{
    static const char tag[] = "\"csv_sha256\":\"";
    const char *p = canonical ? strstr(canonical, tag) : NULL;
    if (!p)
        return 0;
    p += sizeof tag - 1;
    size_t n = strcspn(p, "\"");
    if (n == 0 || n > 64 || p[n] != '"')
        return 0;
    memcpy(hex, p, n);
    hex[n] = '\0';
    return 1;
}

/* Why the stored trial is not in the plan of its stored spec: its CSV file
 * changed (the point is there, with another CSV hash), or the keys changed. */
static void say_not_in_plan(const store_trial_record *rec, const sweep_plan *plan,
                            int64_t trial_id, FILE *err)
{
    char was[65], now[65];
    const sweep_point *same = NULL;
    for (size_t i = 0; rec->params && i < plan->n_points; i++)
        if (!strcmp(plan->points[i].params_json, rec->params))
            same = &plan->points[i];
    if (same && same->spec.data.source == SPEC_SOURCE_CSV &&
        csv_hash_of(rec->resolved_spec, was) && csv_hash_of(same->canonical, now) &&
        strcmp(was, now)) {
        fprintf(err, "runexp: trial %lld cannot be reproduced: the content of its CSV file ",
                (long long)trial_id);
        text_fputs(same->spec.data.csv_path ? same->spec.data.csv_path : "(unknown)", err);
        fprintf(err,
                " changed since it ran (SHA-256 %.16s..., now %.16s...); restore the"
                " original file to reproduce it\n",
                was, now);
    } else {
        char key[13]; /* the first 12 characters */
        size_t kl = strnlen(rec->key, 12);
        memcpy(key, rec->key, kl);
        key[kl] = '\0';
        fprintf(err, "runexp: trial %lld (key ", (long long)trial_id);
        text_fputs(key, err);
        fputs(") is not in the plan of its stored spec (was it produced by another runexp"
              " version?)\n",
              err);
    }
}

/* Compares the recomputed trial t with the stored rec: the exit code, with
 * the verdict (and the first difference) on out. */
static int compare(const trial_result *t, const store_trial_record *rec, const sweep_plan *plan,
                   const sweep_trial *tr, int64_t trial_id, FILE *out)
{
    /* The stored result is the hash and the rows it summarises: both must
     * equal the recomputation (a row edited after the fact leaves the
     * hash intact but is not what the trial produced). */
    int same_hash = !strcmp(t->hash, rec->result_hash);
    if (same_hash && !first_difference(t, rec, NULL)) {
        fprintf(out, "trial %lld: result hash matches bit for bit (%s, seed %llu, ",
                (long long)trial_id, t->hash, (unsigned long long)tr->seed);
        text_fputs(plan->points[tr->point].params_json, out);
        fputs(")\n", out);
        return RUNNER_EXIT_OK;
    }
    if (same_hash) {
        fprintf(out, "trial %lld: MISMATCH: the result hash matches (%s) but the stored"
                     " rows differ from the recomputation\n", (long long)trial_id, t->hash);
    } else {
        fprintf(out, "trial %lld: MISMATCH: stored hash ", (long long)trial_id);
        text_fputs(rec->result_hash, out);
        fprintf(out, ", recomputed %s\n", t->hash);
    }
    if (!first_difference(t, rec, out))
        fprintf(out, "weights, metrics and history equal the stored rows: the stored"
                     " result_hash itself differs\n");
    return RUNNER_EXIT_FAILED;
}

int runner_reproduce(const char *db_path_given, int64_t trial_id, FILE *out, FILE *err)
{
    const char *path = run_db_path(db_path_given);
    int code = RUNNER_EXIT_USAGE;
    store *db = NULL;
    spec_document *doc = NULL;
    sweep_plan plan;
    int planned = 0;
    trial_result t;
    memset(&t, 0, sizeof t);
    store_trial_record rec;
    memset(&rec, 0, sizeof rec);
    spec_diagnostics d;
    spec_diagnostics_init(&d);
    store_error serr;

    /* Reproducing never creates, migrates or writes to a database: it only
     * reads, like sqlite3 would, and takes no writer lock. */
    if (access(path, F_OK) != 0) {
        fprintf(err, "runexp: no database %s\n", path);
        goto out;
    }
    db = store_open_readonly(path, &serr);
    if (!db) {
        run_say(err, "runexp: ", serr.message);
        goto out;
    }
    int lr = store_trial_load(db, trial_id, &rec, &serr);
    if (lr) {
        run_say(err, "runexp: ", serr.message);
        goto out;
    }
    if (rec.status != STORE_DONE || !rec.result_hash) {
        fprintf(err, "runexp: trial %lld has status %s; only done trials have a result hash\n",
                (long long)trial_id, store_status_name(rec.status));
        goto out;
    }
    const char *file = rec.spec_file ? rec.spec_file : "stored-spec.yaml";
    doc = spec_document_parse(rec.spec, strlen(rec.spec), file,
                              rec.base_dir ? rec.base_dir : ".", &d);
    if (!doc || sweep_plan_build(doc, &plan, &d) != 0) {
        fprintf(err, "runexp: the stored spec of trial %lld no longer parses:\n",
                (long long)trial_id);
        spec_diagnostics_print(&d, err);
        goto out;
    }
    planned = 1;
    const sweep_trial *tr = NULL;
    for (size_t i = 0; i < plan.n_trials; i++)
        if (!strcmp(plan.trials[i].key, rec.key))
            tr = &plan.trials[i];
    if (!tr) {
        say_not_in_plan(&rec, &plan, trial_id, err);
        goto out;
    }
    const spec_experiment *e = &plan.points[tr->point].spec;
    if (run_plan_load_data(&plan, err))
        goto out;
    if (trial_run(e, tr->seed, sweep_plan_dataset(&plan, tr->point), NULL, &t)) {
        fputs("runexp: out of memory\n", err);
        goto out;
    }
    if (t.status != TRIAL_DONE) {
        fprintf(out, "trial %lld: MISMATCH: stored status done, recomputed %s (",
                (long long)trial_id, trial_status_name(t.status));
        text_fputs(t.error, out);
        fputs(")\n", out);
        code = RUNNER_EXIT_FAILED;
        goto out;
    }
    code = compare(&t, &rec, &plan, tr, trial_id, out);
out:
    trial_result_free(&t);
    if (planned)
        sweep_plan_free(&plan);
    if (doc)
        spec_document_free(doc);
    spec_diagnostics_free(&d);
    store_trial_record_free(&rec);
    store_close(db);
    return code;
}
