/* plan_memory: the memory a plan's trials need, and the memory there is
 * (see plan_memory.h for what the estimate counts). */
#include "plan_memory.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data.h"
#include "nn.h"

/* ---- saturating arithmetic: an estimate too large to count is "too large" */

static uint64_t sadd(uint64_t a, uint64_t b)
{
    return b > UINT64_MAX - a ? UINT64_MAX : a + b;
}

static uint64_t smul(uint64_t a, uint64_t b)
{
    return a != 0 && b > UINT64_MAX / a ? UINT64_MAX : a * b;
}

static uint64_t smax(uint64_t a, uint64_t b)
{
    return a > b ? a : b;
}

/* ---- one trial ------------------------------------------------------------ */

/* A data_set of r rows: features (float32), labels (int32) and its copies
 * of the feature and class names. */
static uint64_t set_bytes(uint64_t r, uint64_t F, uint64_t K)
{
    return sadd(smul(r, sadd(smul(F, 4), 4)), smul(sadd(F, K), PLAN_MEMORY_NAME_BYTES));
}

uint64_t plan_memory_source(const spec_experiment *e)
{
    return set_bytes(e->data.n_rows, e->data.n_features, e->data.n_classes);
}

/* The row counts of e's splits as the pipeline computes them; should the
 * spec's sizes not split (check refuses those), everything is training. */
typedef struct split_rows {
    uint64_t N, n;                 /* source rows, augmented rows */
    uint64_t rest, train, val, test;
} split_rows;

static split_rows rows_of(const spec_experiment *e)
{
    const data_pipeline_config *pc = &e->data.pipeline;
    split_rows r;
    r.N = e->data.n_rows;
    r.n = smul(r.N, pc->repeat ? pc->repeat : 1);
    size_t n_rest = (size_t)r.n, n_test = 0, n_train, n_val = 0;
    data_error de;
    if (r.n > SIZE_MAX || data_split_sizes((size_t)r.n, &pc->test, &n_rest, &n_test, &de)) {
        n_rest = r.n > SIZE_MAX ? SIZE_MAX : (size_t)r.n;
        n_test = 0;
    }
    n_train = n_rest;
    if (pc->validation.test.given &&
        data_split_sizes(n_rest, &pc->validation, &n_train, &n_val, &de)) {
        n_train = n_rest;
        n_val = 0;
    }
    r.rest = n_rest;
    r.train = n_train;
    r.val = n_val;
    r.test = n_test;
    return r;
}

uint64_t plan_memory_trial(const spec_experiment *e)
{
    const uint64_t K = e->data.n_classes;
    const uint64_t epochs = e->training.epochs;
    const split_rows r = rows_of(e);
    const uint64_t n_split = sadd(sadd(r.train, r.val), r.test);
    const uint64_t history = smul(epochs, sizeof(nn_epoch_log));

    /* Training and evaluation: the model (nn_model_bytes_for: parameters,
     * gradients, optimizer state, activations and scratch for one batch),
     * the epoch order and row classes, one sigmoid unit's targets. */
    size_t bs = e->training.batch_size ? e->training.batch_size : 32;
    size_t max_batch = bs > 32 ? bs : 32; /* as the trial builds it */
    size_t mb = nn_model_bytes_for(&e->model, max_batch);
    uint64_t model = mb == SIZE_MAX ? UINT64_MAX : (uint64_t)mb;
    model = sadd(model, smul(4, r.train));             /* epoch order */
    model = sadd(model, smul(4, sadd(r.train, r.val))); /* row classes */
    size_t nl = e->model.n_layers;
    if (nl && e->model.layers[nl - 1].units == 1 && K == 2)
        model = sadd(model, smul(4, n_split)); /* the class as a float target */

    /* The parameter count, as nn counts it. */
    uint64_t np = 0, in = e->model.n_inputs;
    for (size_t l = 0; l < e->model.n_layers; l++) {
        uint64_t out = e->model.layers[l].units;
        np = sadd(np, sadd(smul(in, out), out));
        in = out;
    }
    const uint64_t cm = smul(smul(K, K), 4);
    const int rec[3] = {e->record.confusion_train, e->record.confusion_validation,
                        e->record.confusion_test};
    const uint64_t rows[3] = {r.train, r.val, r.test};
    uint64_t result = sadd(smul(np, 4), history); /* final weights */
    for (int s = 0; s < 3; s++)
        if (rec[s] && rows[s])
            result = sadd(result, cm);
    result = sadd(result, smul(K, 3 * 8 + 4)); /* precision, recall, F1, support */
    /* record.predictions: per test row two row indices, two classes and K
     * probabilities; the writer's text buffer for one row's JSON. */
    uint64_t pred_text = 0;
    if (e->record.predictions && r.test) {
        result = sadd(result, smul(r.test, sadd(16, smul(K, 4))));
        pred_text = sadd(smul(K, 24), 3);
    }

    uint64_t max_rows = smax(1, smax(r.train, smax(r.val, r.test)));
    uint64_t eval = sadd(smul(smul(max_rows, K), 4), cm); /* predictions, test matrix */
    eval = sadd(eval, smul(epochs, 8));                     /* validation losses */

    uint64_t grid = 0;
    size_t res = e->record.grid_resolution;
    if (e->record.grid && e->model.n_inputs == 2 && res >= 2 && res <= 4096 && K <= 255) {
        uint64_t pts = smul(res, res);
        result = sadd(result, pts);                  /* the grid kept: a byte a point */
        grid = smul(pts, sadd(8 + 4, smul(K, 4)));   /* points, classes, scores */
    }
    uint64_t train_eval = sadd(model, sadd(result, sadd(eval, grid)));
    /* Then the result alone, and the weights blob the writer builds from it. */
    uint64_t store = sadd(sadd(result, smul(np, 4)), pred_text);
    return sadd(smax(train_eval, store), PLAN_MEMORY_TRIAL_SLACK);
}

uint64_t plan_memory_pipeline(const spec_experiment *e, int in_place, uint64_t *held)
{
    const data_pipeline_config *pc = &e->data.pipeline;
    const uint64_t F = e->data.n_features, K = e->data.n_classes;
    const split_rows r = rows_of(e);
    const uint64_t n_split = sadd(sadd(r.train, r.val), r.test);
    const uint64_t names = smul(sadd(F, K), PLAN_MEMORY_NAME_BYTES);
    /* One-hot targets, scaler, the rows' provenance. */
    uint64_t extras = sadd(smul(smul(n_split, K), 4), smul(F, 16));
    extras = sadd(extras, smul(n_split, 4));
    /* Choosing the rows: two lists of every row and a permutation (or,
     * stratified, a permutation and a by-class order), 16 bytes a row;
     * with a validation split the rest's labels, two lists and their
     * permutations, 20 bytes a rest row. */
    uint64_t pick = smul(r.n, 16);
    if (pc->validation.test.given)
        pick = sadd(pick, smul(r.rest, 20));
    if (in_place) {
        /* The rows are the source's: the order of all rows, each split
         * row's place and a bit a row, then the extras. */
        uint64_t arrange = sadd(smul(r.N, 4), sadd(smul(n_split, 8), r.N / 8 + 1));
        arrange = sadd(arrange, smul(F, 4));
        *held = extras;
        return smax(pick, smax(arrange, extras));
    }
    /* A copy: the three sets (their own names each) and the extras. They
     * are taken from the augmented rows when augmenting (the source copy
     * and the tiled rows while tiling), else from the source itself; the
     * augmented rows are freed before the one-hot targets and the scaler
     * are made. */
    uint64_t sets = sadd(set_bytes(n_split, F, K), smul(names, 2));
    *held = sadd(sets, extras);
    int augmented = pc->repeat != 1 || pc->noise > 0;
    uint64_t work = augmented ? set_bytes(r.n, F, K) : 0;
    uint64_t tiling = augmented && pc->repeat != 1 ? sadd(set_bytes(r.N, F, K), work) : work;
    uint64_t taking = sadd(work, smax(pick, sadd(sets, smul(n_split, 4))));
    return smax(tiling, smax(taking, *held));
}

/* ---- a plan ---------------------------------------------------------------- */

/* The runner loads each distinct source once (runner.c same_source). */
static int same_source(const spec_experiment *a, const spec_experiment *b)
{
    if (a->data.source != b->data.source)
        return 0;
    if (a->data.source != SPEC_SOURCE_CSV)
        return 1;
    const char *la = a->data.csv_label ? a->data.csv_label : "";
    const char *lb = b->data.csv_label ? b->data.csv_label : "";
    return a->data.csv_path && b->data.csv_path && !strcmp(a->data.csv_path, b->data.csv_path) &&
           !strcmp(la, lb);
}

typedef struct point_cost {
    uint64_t bytes;
    size_t trials;
} point_cost;

static int cost_desc(const void *a, const void *b)
{
    const point_cost *x = a, *y = b;
    return x->bytes < y->bytes ? 1 : x->bytes > y->bytes ? -1 : 0;
}

static int u64_desc(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* The data pipelines of plan p run with jobs workers (run_pipelines.c):
 * each distinct one is built once; a source read by one pipeline only
 * (no repeat, not a search) holds it in its own memory; of the copies,
 * at most jobs at once, or more within PLAN_MEMORY_SPLITS_KEPT. trial[0..jobs) are the trials that run at once,
 * the largest first. */
static int plan_pipelines(const sweep_plan *p, size_t jobs, const uint64_t *trial,
                          plan_memory *out)
{
    size_t n_ids = 0, nt = p->n_trials;
    size_t *id = calloc(nt ? nt : 1, sizeof *id);
    if (!id || sweep_plan_pipelines(p, NULL, nt, id, &n_ids)) {
        free(id);
        return -1;
    }
    size_t *rep = malloc((n_ids ? n_ids : 1) * sizeof *rep);
    size_t *per_source = calloc(p->n_sources ? p->n_sources : 1, sizeof *per_source);
    uint64_t *copy = calloc(n_ids ? n_ids : 1, sizeof *copy);
    if (!rep || !per_source || !copy) {
        free(id);
        free(rep);
        free(per_source);
        free(copy);
        return -1;
    }
    for (size_t i = 0; i < n_ids; i++)
        rep[i] = SIZE_MAX;
    for (size_t t = nt; t-- > 0;) /* each pipeline's first trial */
        rep[id[t]] = t;
    for (size_t i = 0; i < n_ids; i++) {
        size_t src = p->points[p->trials[rep[i]].point].source;
        if (src < p->n_sources)
            per_source[src]++;
    }
    size_t n_copies = 0;
    uint64_t building = 0; /* the most a build needs beyond what it keeps */
    for (size_t i = 0; i < n_ids; i++) {
        const sweep_point *pt = &p->points[p->trials[rep[i]].point];
        int in_place = !p->search.prune.enabled && pt->source < p->n_sources &&
                       per_source[pt->source] == 1 && pt->spec.data.pipeline.repeat == 1;
        uint64_t held, peak = plan_memory_pipeline(&pt->spec, in_place, &held);
        building = smax(building, peak - held);
        if (in_place) {
            out->pipelines = sadd(out->pipelines, held);
            out->n_in_place++;
        } else {
            copy[n_copies++] = held;
        }
    }
    /* The copies held at once: one per worker (the largest), or more
     * while they hold at most PLAN_MEMORY_SPLITS_KEPT in all. */
    qsort(copy, n_copies, sizeof *copy, u64_desc);
    uint64_t per_worker = 0, all = 0;
    for (size_t i = 0; i < n_copies; i++) {
        if (i < (jobs ? jobs : 1))
            per_worker = sadd(per_worker, copy[i]);
        all = sadd(all, copy[i]);
    }
    out->pipelines = sadd(out->pipelines,
                          smax(per_worker, all < PLAN_MEMORY_SPLITS_KEPT ? all
                                                                         : PLAN_MEMORY_SPLITS_KEPT));
    /* A worker builds before its trial starts: what a build needs beyond
     * what it keeps counts where it is more than that worker's trial
     * (trial[0..jobs), the largest first). */
    for (size_t i = 0; i < jobs; i++)
        if (building > trial[i])
            out->pipelines = sadd(out->pipelines, building - trial[i]);
    out->n_pipelines = n_ids;
    free(id);
    free(rep);
    free(per_source);
    free(copy);
    return 0;
}

int plan_memory_estimate(const sweep_plan *p, size_t jobs, plan_memory *out)
{
    memset(out, 0, sizeof *out);
    out->n_trials = p->n_trials;
    out->shared = PLAN_MEMORY_PROGRAM;
    if (p->n_points == 0 || p->n_trials == 0) {
        out->total = out->shared;
        return 0;
    }
    point_cost *pc = calloc(p->n_points, sizeof *pc);
    if (!pc)
        return -1;
    for (size_t i = 0; i < p->n_points; i++) {
        const spec_experiment *e = &p->points[i].spec;
        pc[i].bytes = plan_memory_trial(e);
        size_t j = 0;
        while (j < i && !same_source(&p->points[j].spec, e))
            j++;
        if (j == i)
            out->sources = sadd(out->sources, plan_memory_source(e));
    }
    for (size_t t = 0; t < p->n_trials; t++)
        if (p->trials[t].point < p->n_points)
            pc[p->trials[t].point].trials++;
    out->trial_min = UINT64_MAX;
    for (size_t i = 0; i < p->n_points; i++)
        if (pc[i].trials) {
            out->trial_min = pc[i].bytes < out->trial_min ? pc[i].bytes : out->trial_min;
            out->trial_max = smax(out->trial_max, pc[i].bytes);
        }
    if (out->trial_min == UINT64_MAX)
        out->trial_min = 0;
    /* The at_once largest trials: points by size, each as many times as it
     * has trials. */
    qsort(pc, p->n_points, sizeof *pc, cost_desc);
    out->at_once = jobs < p->n_trials ? jobs : p->n_trials;
    if (out->at_once == 0)
        out->at_once = 1;
    size_t left = out->at_once, n_at = 0;
    uint64_t *at = calloc(out->at_once, sizeof *at);
    if (!at) {
        free(pc);
        return -1;
    }
    for (size_t i = 0; i < p->n_points && left; i++) {
        size_t k = pc[i].trials < left ? pc[i].trials : left;
        out->trials = sadd(out->trials, smul(pc[i].bytes, k));
        for (size_t j = 0; j < k; j++)
            at[n_at++] = pc[i].bytes;
        left -= k;
    }
    free(pc);
    int rc = plan_pipelines(p, out->at_once, at, out);
    free(at);
    if (rc)
        return -1;
    out->shared = sadd(sadd(out->shared, out->sources), out->pipelines);
    out->total = sadd(out->trials, out->shared);
    return 0;
}

/* ---- what there is ---------------------------------------------------------- */

/* "MemAvailable:   24007732 kB" */
static int read_meminfo(const char *path, uint64_t *bytes)
{
    FILE *f = path ? fopen(path, "r") : NULL;
    if (!f)
        return -1;
    char line[256];
    int rc = -1;
    while (fgets(line, sizeof line, f)) {
        unsigned long long kb;
        char unit[8];
        if (sscanf(line, "MemAvailable: %llu %7s", &kb, unit) == 2 && !strcmp(unit, "kB")) {
            *bytes = smul(kb, 1024);
            rc = 0;
            break;
        }
    }
    fclose(f);
    return rc;
}

/* A memory.max file: a byte count, or "max" (no limit: -1). */
static int read_limit(const char *path, uint64_t *bytes)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char buf[64];
    int rc = -1;
    if (fgets(buf, sizeof buf, f)) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(buf, &end, 10);
        if (end != buf && !errno && (*end == '\n' || *end == '\0')) {
            *bytes = v;
            rc = 0;
        }
    }
    fclose(f);
    return rc;
}

/* The lowest memory.max from this process's cgroup (the "0::PATH" line of
 * self_cgroup) up to the mount point's root. */
static int read_cgroup_limit(const char *self_cgroup, const char *root, uint64_t *bytes)
{
    FILE *f = self_cgroup ? fopen(self_cgroup, "r") : NULL;
    if (!f)
        return -1;
    char line[4096], path[4096 + 256];
    int found = -1;
    int have_line = 0;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "0::", 3)) {
            have_line = 1;
            break;
        }
    fclose(f);
    if (!have_line)
        return -1;
    char *rel = line + 3;
    rel[strcspn(rel, "\n")] = '\0';
    for (;;) {
        uint64_t v;
        snprintf(path, sizeof path, "%s%s%s/memory.max", root, rel[0] == '/' ? "" : "/", rel);
        if (read_limit(path, &v) == 0 && (found < 0 || v < *bytes)) {
            *bytes = v;
            found = 0;
        }
        char *slash = strrchr(rel, '/');
        if (!slash || rel[0] == '\0')
            break;
        *slash = '\0'; /* "/a/b" -> "/a" -> "" (the root) */
    }
    return found;
}

int plan_memory_available_from(const char *meminfo, const char *self_cgroup,
                               const char *cgroup_root, uint64_t *bytes, char *what,
                               size_t what_len)
{
    uint64_t avail = 0, limit = 0;
    int have_avail = read_meminfo(meminfo, &avail) == 0;
    int have_limit = cgroup_root && read_cgroup_limit(self_cgroup, cgroup_root, &limit) == 0;
    if (!have_avail && !have_limit)
        return -1;
    const char *src;
    if (have_limit && (!have_avail || limit < avail)) {
        *bytes = limit;
        src = "the cgroup's memory.max";
    } else {
        *bytes = avail;
        src = "MemAvailable in /proc/meminfo";
    }
    if (what && what_len)
        snprintf(what, what_len, "%s", src);
    return 0;
}

int plan_memory_available(uint64_t *bytes, char *what, size_t what_len)
{
    return plan_memory_available_from("/proc/meminfo", "/proc/self/cgroup", "/sys/fs/cgroup",
                                      bytes, what, what_len);
}

/* ---- sizes as text ---------------------------------------------------------- */

int plan_memory_parse_size(const char *s, uint64_t *out)
{
    if (!s || !isdigit((unsigned char)s[0]))
        return -1;
    const char *p = s;
    uint64_t whole = 0;
    while (isdigit((unsigned char)*p)) {
        unsigned d = (unsigned)(*p++ - '0');
        if (whole > (UINT64_MAX - d) / 10)
            return -1;
        whole = whole * 10 + d;
    }
    double frac = 0.0, scale = 0.1;
    int has_frac = 0;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return -1;
        for (; isdigit((unsigned char)*p); p++, scale /= 10)
            frac += scale * (*p - '0');
        has_frac = 1;
    }
    int shift = 0;
    switch (toupper((unsigned char)*p)) {
    case 'K': shift = 10; break;
    case 'M': shift = 20; break;
    case 'G': shift = 30; break;
    case 'T': shift = 40; break;
    case '\0': break;
    default: return -1;
    }
    if (shift) {
        p++;
        if (toupper((unsigned char)p[0]) == 'I' && toupper((unsigned char)p[1]) == 'B')
            p += 2;
        else if (toupper((unsigned char)p[0]) == 'B')
            p++;
    }
    if (*p != '\0' || (has_frac && !shift))
        return -1;
    uint64_t unit = (uint64_t)1 << shift;
    if (whole > UINT64_MAX / unit)
        return -1;
    uint64_t v = whole * unit + (uint64_t)floor(frac * (double)unit);
    if (v < whole * unit || v == 0)
        return -1;
    *out = v;
    return 0;
}

void plan_memory_format(uint64_t bytes, char *buf, size_t n)
{
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    if (bytes < 1024) {
        snprintf(buf, n, "%llu B", (unsigned long long)bytes);
        return;
    }
    double v = (double)bytes / 1024.0;
    size_t u = 0;
    while (v >= 1024.0 && u + 1 < sizeof units / sizeof units[0]) {
        v /= 1024.0;
        u++;
    }
    snprintf(buf, n, "%.1f %s", v, units[u]);
}

void plan_memory_print(const plan_memory *pm, FILE *f)
{
    char a[32], b[32], c[32], d[32];
    plan_memory_format(pm->trial_min, a, sizeof a);
    plan_memory_format(pm->trial_max, b, sizeof b);
    plan_memory_format(pm->trials, c, sizeof c);
    plan_memory_format(pm->shared, d, sizeof d);
    if (!strcmp(a, b))
        fprintf(f, "memory estimate: %s per trial\n", b);
    else
        fprintf(f, "memory estimate: %s to %s per trial (largest %s)\n", a, b, b);
    fprintf(f, "  %zu trial%s at once: %s; shared data and runexp itself: %s\n", pm->at_once,
            pm->at_once == 1 ? "" : "s", c, d);
    plan_memory_format(pm->pipelines, a, sizeof a);
    fprintf(f, "  of which the trials' data splits: %s (%zu distinct, %zu in the dataset's own "
               "memory)\n",
            a, pm->n_pipelines, pm->n_in_place);
    plan_memory_format(pm->total, a, sizeof a);
    fprintf(f, "  in all: %s (%llu bytes)\n", a, (unsigned long long)pm->total);
}

int plan_memory_guard(const sweep_plan *plans, size_t n_plans, size_t jobs, uint64_t max_memory,
                      FILE *err)
{
    /* Every plan's datasets are loaded at the start; a plan's data splits
     * and trials live while it runs. */
    plan_memory worst;
    uint64_t shared = PLAN_MEMORY_PROGRAM;
    memset(&worst, 0, sizeof worst);
    for (size_t i = 0; i < n_plans; i++) {
        plan_memory pm;
        if (plan_memory_estimate(&plans[i], jobs, &pm)) {
            fputs("runexp: out of memory\n", err);
            return -1;
        }
        shared = sadd(shared, pm.sources);
        if (i == 0 || sadd(pm.trials, pm.pipelines) > sadd(worst.trials, worst.pipelines))
            worst = pm;
    }
    shared = sadd(shared, worst.pipelines);
    uint64_t total = sadd(worst.trials, shared), budget = max_memory;
    char what[96] = "the budget set with --max-memory", src[64];
    if (!max_memory && plan_memory_available(&budget, src, sizeof src)) {
        char t[32];
        plan_memory_format(total, t, sizeof t);
        fprintf(err,
                "runexp: note: cannot read the available memory (/proc/meminfo, cgroup "
                "memory.max); not checking the estimate of %s\n",
                t);
        return 0;
    }
    if (total <= budget)
        return 0;
    if (!max_memory)
        snprintf(what, sizeof what, "the memory available (%s)", src);
    char t[32], one[32], at[32], sh[32], av[32];
    plan_memory_format(total, t, sizeof t);
    plan_memory_format(worst.trial_max, one, sizeof one);
    plan_memory_format(worst.trials, at, sizeof at);
    plan_memory_format(shared, sh, sizeof sh);
    plan_memory_format(budget, av, sizeof av);
    fprintf(err,
            "runexp: error: the plan needs about %s of memory (%zu trial%s at once: %s, the "
            "largest %s; shared data and runexp itself: %s), more than the %s of %s; "
            "nothing was run. Run fewer trials at once (-j), shrink the model or the data, "
            "or set the budget with --max-memory SIZE.\n",
            t, worst.at_once, worst.at_once == 1 ? "" : "s", at, one, sh, av, what);
    return 1;
}
