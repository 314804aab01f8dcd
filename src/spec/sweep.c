/* sweep: a parsed spec + its sweep block -> the trial plan.
 *
 * A sweep point is made the simplest way that is also the most honest:
 * copy the document tree, write each swept value into the copy at its path
 * (the value node keeps its own mark, so any problem with it is reported at
 * the sweep value), and run the same typed conversion and validation as the
 * base spec. Nothing about a point is computed by a second code path.
 *
 * Order: sweep entries form a grid in declaration order, the first entry
 * outermost; a zip entry is one dimension; the seed list is innermost.
 *
 * Trial keys: key = hex SHA-256 of CANONICAL + "\nseed=" + SEED + "\n",
 * where CANONICAL is the point's canonical resolved spec, written from the
 * option table by spec_canonical_write (the format is documented there, in
 * spec_options.c, and in the README).
 */
#include <stdlib.h>
#include <string.h>

#include "spec_internal.h"
#include "sweep.h"
#include "digest.h"
#include "text.h"

/* Larger plans are surely a mistake in the spec (and would not fit the
 * database comfortably). */
#define SWEEP_MAX_TRIALS 1000000u
/* A point is a whole re-validated spec (tens of microseconds, a few kB): a
 * ten-byte range must not be able to ask for a million of them. */
#define SWEEP_MAX_POINTS 100000u
#define SWEEP_MAX_DIAGS 50u

/* ---- applying a value at a path --------------------------------------------- */

typedef struct applier {
    const char *file;
    spec_diagnostics *d;
} applier;

/* A real in params_json: the canonical text, but an integral value gets
 * ".0" so the JSON reads back as a real (0.0, 2.0), as trial_params stores
 * it; "1e-05" already has its exponent. The canonical form is not changed:
 * that would change every trial key. */
static void json_param_real(FILE *f, double x)
{
    char b[48];
    spec_format_real(b, sizeof b - 2, x);
    if (!strpbrk(b, ".eE"))
        strcat(b, ".0");
    fputs(b, f);
}

static void node_json(FILE *f, const sn *n)
{
    if (n->kind == SN_MAP) {
        fputc('{', f);
        for (size_t i = 0; i < n->n; i++) {
            if (i)
                fputs(", ", f);
            spec_json_string(f, n->keys[i]->text);
            fputs(": ", f);
            node_json(f, n->items[i]);
        }
        fputc('}', f);
        return;
    }
    if (n->kind == SN_SEQ) {
        fputc('[', f);
        for (size_t i = 0; i < n->n; i++) {
            if (i)
                fputs(", ", f);
            node_json(f, n->items[i]);
        }
        fputc(']', f);
        return;
    }
    sv v = sn_value(n);
    switch (v.type) {
    case SV_NULL: fputs("null", f); break;
    case SV_BOOL: fputs(v.b ? "true" : "false", f); break;
    case SV_INT: fprintf(f, "%lld", v.i); break;
    case SV_REAL:
        if (v.r == v.r && v.r - v.r == 0)
            json_param_real(f, v.r);
        else
            spec_json_string(f, n->text);
        break;
    case SV_STR: spec_json_string(f, n->text); break;
    }
}

static int apply(const applier *a, sn *root, const spec_sweep_target *t, const sn *value)
{
    return spec_sweep_apply(a->file, a->d, root, t, value);
}

/* ---- the plan ----------------------------------------------------------------- */

/* The document tree a sweep point starts from: a copy without what a point
 * never reads and no path may sweep (the seed list and the sweep block are
 * the document's; name and description only label it). Copying them would
 * make the plan's cost the product of the file's size and the number of
 * points: a 100,000-value list of seeds or sweep values, or a 1 MB
 * description, copied once per point. */
static sn *point_tree(const sn *root)
{
    static const char *const skip[] = {"seeds", "sweep", "search", "name", "description"};
    if (root->kind != SN_MAP)
        return sn_copy(root);
    sn *c = sn_new(SN_MAP, root->line, root->col);
    if (!c)
        return NULL;
    for (size_t i = 0; i < root->n; i++) {
        size_t k = 0;
        while (k < sizeof skip / sizeof skip[0] && strcmp(root->keys[i]->text, skip[k]) != 0)
            k++;
        if (k < sizeof skip / sizeof skip[0])
            continue;
        sn *key = sn_copy(root->keys[i]);
        sn *val = sn_copy(root->items[i]);
        if (!key || !val || sn_append(c, key, val) < 0) {
            sn_free(key);
            sn_free(val);
            sn_free(c);
            return NULL;
        }
    }
    return c;
}

static void point_free(sweep_point *p)
{
    spec_experiment_free(&p->spec);
    for (size_t i = 0; i < p->n_values; i++)
        if (p->values[i].type == SWEEP_TEXT)
            free((char *)p->values[i].s);
    free(p->values);
    free(p->params_json);
    free(p->canonical);
}

void sweep_plan_free(sweep_plan *plan)
{
    for (size_t i = 0; i < plan->n_points; i++)
        point_free(&plan->points[i]);
    free(plan->points);
    free(plan->trials);
    for (size_t i = 0; i < plan->n_dims; i++)
        free(plan->dim_names[i]);
    free(plan->dim_names);
    free(plan->dims_json);
    for (size_t i = 0; i < plan->n_sources; i++)
        spec_input_release(plan->sources[i]);
    free(plan->sources);
    memset(plan, 0, sizeof *plan);
}

int sweep_plan_load_sources(sweep_plan *plan, spec_diagnostics *diags)
{
    for (size_t i = 0; i < plan->n_sources; i++) {
        data_error de;
        if (spec_input_load(plan->sources[i], &de) < 0) {
            spec_diagnostics_add(diags, de.file[0] ? de.file : "<data>", de.line, de.column,
                                 "cannot load the dataset: %s", de.message);
            return -1;
        }
    }
    return 0;
}

const data_set *sweep_plan_dataset(const sweep_plan *plan, size_t point)
{
    if (point >= plan->n_points || plan->points[point].source >= plan->n_sources)
        return NULL;
    const spec_input *in = plan->sources[plan->points[point].source];
    return in->loaded ? &in->data : NULL;
}

uint64_t sweep_trial_data_seed(const sweep_plan *plan, const sweep_trial *tr)
{
    const spec_experiment *e = &plan->points[tr->point].spec;
    return e->data.has_seed ? e->data.seed : tr->seed;
}

typedef struct point_key {
    size_t source;
    const data_pipeline_config *c;
    size_t point;
} point_key;

static int point_key_cmp(const void *a, const void *b)
{
    const point_key *x = a, *y = b;
    if (x->source != y->source)
        return x->source < y->source ? -1 : 1;
    int r = data_pipeline_config_cmp(x->c, y->c);
    if (r)
        return r;
    return (x->point > y->point) - (x->point < y->point);
}

typedef struct trial_key {
    size_t pipe; /* its point's pipeline */
    uint64_t seed;
    size_t i;
} trial_key;

static int trial_key_cmp(const void *a, const void *b)
{
    const trial_key *x = a, *y = b;
    if (x->pipe != y->pipe)
        return x->pipe < y->pipe ? -1 : 1;
    if (x->seed != y->seed)
        return x->seed < y->seed ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

int sweep_plan_pipelines(const sweep_plan *plan, const size_t *trials, size_t n, size_t *id,
                         size_t *n_ids)
{
    size_t np = plan->n_points;
    point_key *pk = calloc(np ? np : 1, sizeof *pk);
    size_t *pipe_of = calloc(np ? np : 1, sizeof *pipe_of);
    trial_key *tk = calloc(n ? n : 1, sizeof *tk);
    *n_ids = 0;
    if (!pk || !pipe_of || !tk) {
        free(pk);
        free(pipe_of);
        free(tk);
        return -1;
    }
    /* Points first: the same source and pipeline, one id. */
    for (size_t i = 0; i < np; i++)
        pk[i] = (point_key){plan->points[i].source, &plan->points[i].spec.data.pipeline, i};
    qsort(pk, np, sizeof *pk, point_key_cmp);
    for (size_t i = 0, k = 0; i < np; i++) {
        if (i > 0 && (pk[i].source != pk[i - 1].source || data_pipeline_config_cmp(pk[i].c, pk[i - 1].c)))
            k++;
        pipe_of[pk[i].point] = k;
    }
    /* Then the trials: their point's pipeline and, when it uses one, the
     * data seed. */
    for (size_t i = 0; i < n; i++) {
        const sweep_trial *tr = &plan->trials[trials ? trials[i] : i];
        const data_pipeline_config *c = &plan->points[tr->point].spec.data.pipeline;
        tk[i] = (trial_key){pipe_of[tr->point],
                            data_pipeline_uses_seed(c) ? sweep_trial_data_seed(plan, tr) : 0, i};
    }
    qsort(tk, n, sizeof *tk, trial_key_cmp);
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && (tk[i].pipe != tk[i - 1].pipe || tk[i].seed != tk[i - 1].seed))
            (*n_ids)++;
        id[tk[i].i] = *n_ids;
    }
    *n_ids += n > 0;
    free(pk);
    free(pipe_of);
    free(tk);
    return 0;
}

int sweep_plan_source_take(sweep_plan *plan, size_t source, data_set *out)
{
    if (source >= plan->n_sources || !plan->sources[source]->loaded)
        return -1;
    spec_input *in = plan->sources[source];
    *out = in->data;
    memset(&in->data, 0, sizeof in->data);
    in->loaded = 0;
    return 0;
}

/* Closes an open_memstream stream and returns its text (the stream sets
 * *buf only when it is flushed or closed, hence the pointer). */
static char *mem_text(FILE *f, char **buf)
{
    if (!f)
        return NULL;
    if (fclose(f) != 0) {
        free(*buf);
        return NULL;
    }
    return *buf;
}

/* The sweep value record and its params_json rendering. */
static int set_value(sweep_value *v, const char *name, const sn *n)
{
    v->name = name;
    sv x = sn_value(n);
    if (n->kind == SN_SCALAR && x.type == SV_INT) {
        v->type = SWEEP_INT;
        v->i = x.i;
        v->r = (double)x.i;
        return 0;
    }
    if (n->kind == SN_SCALAR && x.type == SV_REAL) {
        v->type = SWEEP_REAL;
        v->r = x.r;
        return 0;
    }
    v->type = SWEEP_TEXT;
    if (n->kind == SN_SCALAR) {
        v->s = strdup(n->text);
    } else {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (f)
            node_json(f, n);
        v->s = mem_text(f, &buf);
    }
    return v->s ? 0 : -1;
}

/* ---- duplicate points ---------------------------------------------------- */

/* A sweep value as the user wrote it, for messages: the scalar's text (a
 * generated range value's text), or the JSON of a list or mapping; cut to
 * fit the buffer. */
static void value_label(char *b, size_t size, const sn *n)
{
    if (n->kind == SN_SCALAR) {
        snprintf(b, size, "%s", n->text);
        return;
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f)
        node_json(f, n);
    char *t = mem_text(f, &buf);
    snprintf(b, size, "%s", t ? t : "?");
    free(t);
}

/* The value index of every sweep entry at point pi (mixed radix, the last
 * entry fastest). */
static void point_indices(const spec_sweep_entry *es, size_t ne, size_t n_points, size_t pi,
                          size_t *vi)
{
    size_t rest = pi, stride = n_points;
    for (size_t i = 0; i < ne; i++) {
        stride /= es[i].n_values;
        vi[i] = rest / stride;
        rest %= stride;
    }
}

typedef struct canon_ref {
    const char *canonical;
    size_t point;
} canon_ref;

static int cmp_canon(const void *a, const void *b)
{
    const canon_ref *x = a, *y = b;
    int r = strcmp(x->canonical, y->canonical);
    return r ? r : (x->point > y->point) - (x->point < y->point);
}

/* Two sweep points with the same canonical text are the same trials (the
 * same keys, seed by seed): running both would train each trial twice and
 * record it once. Whatever made them alike (1e-3 and 0.001, `classes` and
 * the class count, a range whose values round to the same double, record.*
 * which is not part of a trial), the later one is an error at its value:
 * when the two points differ in one sweep entry, once per value of that
 * entry; otherwise once per point, unless each of the values that differ
 * was already reported. Sorting keeps it O(n log n) for 10^5 points. */
static int check_duplicates(const spec_sweep_entry *es, size_t ne, const sweep_plan *plan,
                            const char *file, spec_diagnostics *d, size_t before)
{
    size_t n = plan->n_points;
    if (n < 2)
        return 0;
    size_t n_flags = 0;
    for (size_t i = 0; i < ne; i++)
        n_flags += es[i].n_values;
    canon_ref *r = malloc(n * sizeof *r);
    size_t *first = malloc(n * sizeof *first);
    size_t *vi = malloc(2 * (ne ? ne : 1) * sizeof *vi);
    unsigned char *reported = calloc(n_flags ? n_flags : 1, 1);
    if (!r || !first || !vi || !reported) {
        free(r);
        free(first);
        free(vi);
        free(reported);
        return -1;
    }
    for (size_t pi = 0; pi < n; pi++) {
        r[pi].canonical = plan->points[pi].canonical;
        r[pi].point = pi;
    }
    qsort(r, n, sizeof *r, cmp_canon);
    for (size_t k = 0, g = 0; k < n; k++) {
        if (k && strcmp(r[k].canonical, r[g].canonical) != 0)
            g = k;
        first[r[k].point] = r[g].point; /* the group's smallest index */
    }
    size_t *vj = vi + (ne ? ne : 1);
    for (size_t pi = 0; pi < n && d->n - before < SWEEP_MAX_DIAGS; pi++) {
        size_t pj = first[pi];
        if (pj == pi)
            continue;
        point_indices(es, ne, n, pi, vi);
        point_indices(es, ne, n, pj, vj);
        size_t n_diff = 0, last = 0, off = 0, fresh = 0;
        for (size_t i = 0, o = 0; i < ne; o += es[i].n_values, i++)
            if (vi[i] != vj[i]) {
                n_diff++;
                last = i;
                off = o; /* where the flags of entry `last` start */
                fresh += !reported[o + vi[i]];
            }
        const spec_sweep_entry *e = &es[last];
        if (n_diff == 0 || fresh == 0)
            continue; /* cannot be (different points), or said already */
        /* the mark: the first target whose value text differs */
        const spec_sweep_target *t = &e->targets[0];
        for (size_t j = 0; j < e->n_targets; j++) {
            const sn *a = e->targets[j].values[vi[last]], *b = e->targets[j].values[vj[last]];
            if (a->kind != SN_SCALAR || b->kind != SN_SCALAR || strcmp(a->text, b->text)) {
                t = &e->targets[j];
                break;
            }
        }
        const sn *at = t->values[vi[last]];
        if (n_diff == 1) {
            reported[off + vi[last]] = 1;
            char a[96];
            if (e->n_targets == 1) {
                value_label(a, sizeof a, at);
                spec_diagnostics_add(d, file, at->line, at->col,
                                     "sweep.%s: value %s at index %zu gives the same trials as "
                                     "index %zu (duplicate)",
                                     e->name, a, vi[last], vj[last]);
            } else {
                char row[320] = "";
                for (size_t j = 0; j < e->n_targets; j++) {
                    value_label(a, sizeof a, e->targets[j].values[vi[last]]);
                    size_t l = strlen(row);
                    snprintf(row + l, sizeof row - l, "%s%s", j ? ", " : "", a);
                }
                spec_diagnostics_add(d, file, at->line, at->col,
                                     "sweep.%s: the values at index %zu (%s) give the same "
                                     "trials as index %zu (duplicate)",
                                     e->name, vi[last], row, vj[last]);
            }
        } else {
            for (size_t i = 0, o = 0; i < ne; o += es[i].n_values, i++)
                if (vi[i] != vj[i])
                    reported[o + vi[i]] = 1;
            spec_diagnostics_add(d, file, at->line, at->col,
                                 "sweep point %s gives the same trials as point %s (duplicate)",
                                 plan->points[pi].params_json, plan->points[pj].params_json);
        }
    }
    free(r);
    free(first);
    free(vi);
    free(reported);
    /* In the order of the file (found in the order of the points): an
     * insertion sort, stable, of at most SWEEP_MAX_DIAGS items. */
    for (size_t k = before + 1; k < d->n; k++) {
        spec_diag x = d->items[k];
        size_t j = k;
        for (; j > before; j--) {
            const spec_diag *y = &d->items[j - 1];
            if (y->line < x.line || (y->line == x.line && y->column <= x.column))
                break;
            d->items[j] = *y;
        }
        d->items[j] = x;
    }
    return 0;
}

/* The index in plan->sources of the input point pt was converted with,
 * added (and held) on first use; SIZE_MAX when out of memory. */
static size_t plan_source(sweep_plan *plan, spec_inputs *inputs, const sweep_point *pt)
{
    spec_input *in = spec_inputs_find(inputs, &pt->spec);
    if (!in) /* a converted point's source is in the cache */
        return SIZE_MAX;
    for (size_t i = 0; i < plan->n_sources; i++)
        if (plan->sources[i] == in)
            return i;
    spec_input **ns = realloc(plan->sources, (plan->n_sources + 1) * sizeof *ns);
    if (!ns)
        return SIZE_MAX;
    plan->sources = ns;
    spec_input_hold(in);
    ns[plan->n_sources] = in;
    return plan->n_sources++;
}

int sweep_plan_build(const spec_document *doc, sweep_plan *plan, spec_diagnostics *diags)
{
    memset(plan, 0, sizeof *plan);
    const spec_sweep_entry *es;
    size_t ne = spec_document_sweep(doc, &es);
    const uint64_t *seeds;
    size_t n_seeds = spec_document_seeds(doc, &seeds);
    const char *file = spec_document_file(doc);
    size_t before = diags->n;
    spec_inputs *inputs = spec_document_inputs(doc);
    sn *tree = NULL;

    size_t n_points = 1, n_dims = 0;
    for (size_t i = 0; i < ne; i++) {
        if (es[i].n_values && n_points > SWEEP_MAX_TRIALS / es[i].n_values)
            n_points = SWEEP_MAX_TRIALS + 1;
        else
            n_points *= es[i].n_values;
        n_dims += es[i].n_targets;
    }
    if (n_points > SWEEP_MAX_POINTS && n_points <= SWEEP_MAX_TRIALS) {
        spec_diagnostics_add(diags, file, 0, 0,
                             "the sweep makes %zu sweep points, more than %u; split the experiment",
                             n_points, SWEEP_MAX_POINTS);
        return -1;
    }
    if (n_points > SWEEP_MAX_TRIALS || (n_seeds && n_points * n_seeds > SWEEP_MAX_TRIALS)) {
        spec_diagnostics_add(diags, file, 0, 0,
                             "the sweep makes more than %u trials; split the experiment",
                             SWEEP_MAX_TRIALS);
        return -1;
    }
    plan->points = calloc(n_points, sizeof *plan->points);
    plan->trials = calloc(n_points * n_seeds > 0 ? n_points * n_seeds : 1, sizeof *plan->trials);
    plan->dim_names = calloc(n_dims ? n_dims : 1, sizeof *plan->dim_names);
    if (!plan->points || !plan->trials || !plan->dim_names)
        goto oom;
    for (size_t i = 0, k = 0; i < ne; i++)
        for (size_t j = 0; j < es[i].n_targets; j++) {
            plan->dim_names[k] = strdup(es[i].targets[j].name);
            if (!plan->dim_names[k++])
                goto oom;
            plan->n_dims = k;
        }
    {
        char *dbuf = NULL;
        size_t dlen = 0;
        FILE *df = open_memstream(&dbuf, &dlen);
        if (df) {
            fputc('[', df);
            for (size_t k = 0; k < plan->n_dims; k++) {
                if (k)
                    fputc(',', df);
                spec_json_string(df, plan->dim_names[k]);
            }
            fputc(']', df);
        }
        if (!(plan->dims_json = mem_text(df, &dbuf)))
            goto oom;
    }

    applier ap = {file, diags};
    for (size_t pi = 0; pi < n_points; pi++) {
        if (diags->n - before >= SWEEP_MAX_DIAGS)
            break;
        sweep_point *pt = &plan->points[pi];
        plan->n_points = pi + 1;
        tree = point_tree(spec_document_tree(doc));
        pt->values = calloc(n_dims ? n_dims : 1, sizeof *pt->values);
        if (!tree || !pt->values)
            goto oom;
        /* Mixed radix, the last entry fastest: the first entry is outermost.
         * params_json is written from the value nodes, so booleans, lists and
         * mappings keep their JSON types. */
        char *pbuf = NULL;
        size_t plen = 0;
        FILE *pf = open_memstream(&pbuf, &plen);
        if (!pf)
            goto oom;
        fputc('{', pf);
        size_t rest = pi, stride = n_points, k = 0;
        int bad = 0;
        for (size_t i = 0; i < ne; i++) {
            stride /= es[i].n_values;
            size_t vi = rest / stride;
            rest %= stride;
            for (size_t j = 0; j < es[i].n_targets; j++, k++) {
                const spec_sweep_target *t = &es[i].targets[j];
                if (apply(&ap, tree, t, t->values[vi]) < 0)
                    bad = 1;
                if (set_value(&pt->values[k], plan->dim_names[k], t->values[vi]) < 0) {
                    free(mem_text(pf, &pbuf));
                    goto oom;
                }
                pt->n_values = k + 1;
                if (k)
                    fputs(", ", pf);
                spec_json_string(pf, plan->dim_names[k]);
                fputs(": ", pf);
                node_json(pf, t->values[vi]);
            }
        }
        fputc('}', pf);
        pt->params_json = mem_text(pf, &pbuf);
        if (!pt->params_json)
            goto oom;
        if (!bad && spec_experiment_from_tree(tree, file, spec_document_base_dir(doc), &pt->spec,
                                              NULL, NULL, inputs, diags) < 0)
            bad = 1;
        sn_free(tree);
        tree = NULL;
        if (bad)
            continue;
        /* The tree had no name (the file's name was filled in): a point's
         * name and description are the document's (spec_document_base). */
        free(pt->spec.name);
        pt->spec.name = NULL;

        /* canonical text: a CSV source by the SHA-256 of the bytes its
         * data was parsed from (read once for the whole plan) */
        if ((pt->source = plan_source(plan, inputs, pt)) == SIZE_MAX)
            goto oom;
        const char *csv_sha = plan->sources[pt->source]->sha256;
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (f)
            spec_canonical_write(f, &pt->spec, csv_sha);
        pt->canonical = mem_text(f, &buf);
        if (!pt->canonical)
            goto oom;
    }
    if (diags->n == before && check_duplicates(es, ne, plan, file, diags, before) < 0)
        goto oom;
    if (diags->n > before) {
        sweep_plan_free(plan);
        return -1;
    }

    /* trials: seeds innermost */
    for (size_t pi = 0; pi < n_points; pi++) {
        const char *canon = plan->points[pi].canonical;
        size_t cl = strlen(canon);
        char *text = malloc(cl + 48);
        if (!text)
            goto oom;
        for (size_t s = 0; s < n_seeds; s++) {
            sweep_trial *t = &plan->trials[pi * n_seeds + s];
            t->index = pi * n_seeds + s;
            t->point = pi;
            t->seed = seeds[s];
            int n = snprintf(text, cl + 48, "%s\nseed=%llu\n", canon, (unsigned long long)seeds[s]);
            digest_sha256_hex(text, (size_t)n, t->key);
        }
        free(text);
    }
    plan->n_trials = n_points * n_seeds;
    plan->search = spec_document_base(doc)->search;
    /* A large plan records a coarser decision grid unless its resolution
     * is written (spec.h). */
    if (plan->n_trials > SPEC_GRID_FULL_TRIALS)
        for (size_t pi = 0; pi < n_points; pi++) {
            spec_record *r = &plan->points[pi].spec.record;
            if (r->grid_resolution_auto && r->grid_resolution > SPEC_GRID_LARGE_RESOLUTION)
                r->grid_resolution = SPEC_GRID_LARGE_RESOLUTION;
            if (r->predictions_auto)
                r->predictions = 0;
        }
    return 0;
oom:
    sn_free(tree);
    spec_diagnostics_add(diags, file, 0, 0, "out of memory while building the trial plan");
    sweep_plan_free(plan);
    return -1;
}

/* A value as the plan table shows it; a text value escaped for the
 * terminal (it can be any string of the spec). */
static void value_text(char *b, size_t size, const sweep_value *v)
{
    if (v->type == SWEEP_INT)
        snprintf(b, size, "%lld", v->i);
    else if (v->type == SWEEP_REAL)
        spec_format_real(b, size, v->r);
    else
        text_escape(b, size, v->s);
}

size_t sweep_plan_rungs(const sweep_plan *plan, size_t epochs[SWEEP_MAX_RUNGS])
{
    const spec_search *s = &plan->search;
    if (!s->prune.enabled || plan->n_points == 0)
        return 0;
    size_t total = plan->points[0].spec.training.epochs, n = 0;
    for (size_t r = s->prune.min_epochs; r < total && n + 1 < SWEEP_MAX_RUNGS;) {
        epochs[n++] = r;
        if (r > total / s->prune.eta)
            break;
        r *= s->prune.eta;
    }
    epochs[n++] = total;
    return n;
}

void sweep_plan_print(const sweep_plan *plan, FILE *f)
{
    size_t n_seeds = plan->n_points ? plan->n_trials / plan->n_points : 0;
    fprintf(f, "%zu trial%s (%zu sweep point%s x %zu seed%s)\n", plan->n_trials,
            plan->n_trials == 1 ? "" : "s", plan->n_points, plan->n_points == 1 ? "" : "s",
            n_seeds, n_seeds == 1 ? "" : "s");
    const spec_search *s = &plan->search;
    if (s->method == SPEC_SEARCH_RANDOM)
        fprintf(f, "random search: %zu draw%s (search seed %zu)\n", s->trials,
                s->trials == 1 ? "" : "s", s->seed);
    size_t rungs[SWEEP_MAX_RUNGS], nr = sweep_plan_rungs(plan, rungs);
    if (nr) {
        fprintf(f, "pruning: %s on %s, eta %zu, rungs at",
                s->prune.method == SPEC_PRUNE_HYPERBAND ? "hyperband" : "successive halving",
                (const char *const[]){"val_loss", "loss", "accuracy", "val_accuracy"}
                    [s->prune.metric & 3],
                s->prune.eta);
        for (size_t k = 0; k < nr; k++)
            fprintf(f, "%s %zu", k ? "," : "", rungs[k]);
        fputs(" epochs\n", f);
    }
    /* column widths */
    size_t wt = strlen("trial"), ws = strlen("seed");
    size_t *wd = calloc(plan->n_dims ? plan->n_dims : 1, sizeof *wd);
    if (!wd)
        return;
    char b[128];
    for (size_t k = 0; k < plan->n_dims; k++)
        wd[k] = strlen(plan->dim_names[k]);
    for (size_t i = 0; i < plan->n_trials; i++) {
        const sweep_trial *t = &plan->trials[i];
        size_t l = (size_t)snprintf(b, sizeof b, "%zu", t->index);
        wt = l > wt ? l : wt;
        l = (size_t)snprintf(b, sizeof b, "%llu", (unsigned long long)t->seed);
        ws = l > ws ? l : ws;
        const sweep_point *p = &plan->points[t->point];
        for (size_t k = 0; k < p->n_values; k++) {
            value_text(b, sizeof b, &p->values[k]);
            l = strlen(b);
            wd[k] = l > wd[k] ? l : wd[k];
        }
    }
    fprintf(f, "%*s  %*s", (int)wt, "trial", (int)ws, "seed");
    for (size_t k = 0; k < plan->n_dims; k++)
        fprintf(f, "  %*s", (int)wd[k], plan->dim_names[k]);
    fputs("  key\n", f);
    for (size_t i = 0; i < plan->n_trials; i++) {
        const sweep_trial *t = &plan->trials[i];
        fprintf(f, "%*zu  %*llu", (int)wt, t->index, (int)ws, (unsigned long long)t->seed);
        const sweep_point *p = &plan->points[t->point];
        for (size_t k = 0; k < p->n_values; k++) {
            value_text(b, sizeof b, &p->values[k]);
            fprintf(f, "  %*s", (int)wd[k], b);
        }
        fprintf(f, "  %.16s\n", t->key);
    }
    free(wd);
}

void sweep_models_free(sweep_models *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++)
        free(m->summary[i]);
    free(m->summary);
    free(m->model_of);
    memset(m, 0, sizeof *m);
}

int sweep_plan_models(const sweep_plan *plan, sweep_models *out)
{
    memset(out, 0, sizeof *out);
    size_t np = plan->n_points;
    out->summary = calloc(np ? np : 1, sizeof *out->summary);
    out->model_of = calloc(np ? np : 1, sizeof *out->model_of);
    if (!out->summary || !out->model_of)
        goto oom;
    for (size_t i = 0; i < np; i++) {
        /* from the configuration: a model too large to build (run would
         * refuse it) still has its summary */
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (f) {
            int bad = nn_config_summary(&plan->points[i].spec.model, f);
            if (fclose(f) || bad) {
                free(buf);
                buf = NULL;
            }
        }
        if (!buf)
            goto oom;
        size_t k = 0;
        while (k < out->n && strcmp(out->summary[k], buf))
            k++;
        if (k < out->n)
            free(buf);
        else
            out->summary[out->n++] = buf;
        out->model_of[i] = k;
    }
    return 0;
oom:
    sweep_models_free(out);
    return -1;
}

void sweep_models_print(const sweep_plan *plan, const sweep_models *m, FILE *f)
{
    for (size_t k = 0; k < m->n; k++) {
        fputs("model", f);
        if (m->n > 1) {
            fputs(" of", f);
            int first = 1;
            for (size_t i = 0; i < plan->n_points; i++)
                if (m->model_of[i] == k) {
                    fprintf(f, "%s point %zu %s", first ? "" : ";", i, plan->points[i].params_json);
                    first = 0;
                }
        }
        fputs(":\n", f);
        fputs(m->summary[k], f);
    }
}
