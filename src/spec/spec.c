/* spec: document tree -> typed, validated experiment.
 *
 * Validation is a compiler pass, not a gate: every problem in the file is
 * reported in one run, each at the mark of the node that caused it. To keep
 * one mistake from producing a cascade, a section whose own values failed is
 * left out of the cross-field checks that need it.
 *
 * Conversion walks the option table in spec_options.c, not the file: for
 * every row under a mapping it takes the written value or the row's
 * default, runs the checker of the row's type (integer, real, boolean,
 * name, size, ...) and stores the value at the row's destination, or hands
 * it to the row's setter for the few structured options. An absent key
 * with a default is checked as if its default had been written, so the
 * table's defaults cannot drift out of their own bounds, and no value has a
 * second, C-side default. Rules between sections (splits against the data,
 * the output layer against the classes and the loss, record against the
 * data) are the explicit checks after the walk.
 *
 * Decisions worth knowing (also in the help text / schema):
 * - Without data.split the test set is scikit-learn's default 0.25 and there
 *   is no validation set. An integer split size is a row count, a real one a
 *   fraction in (0, 1); `1.0` is a real and therefore out of range.
 * - The output layer always has one unit per class and targets are always
 *   one-hot; binary_crossentropy means k sigmoid units for k classes (2 for
 *   XOR), and accuracy is always argmax accuracy.
 * - categorical_crossentropy needs a softmax output, binary_crossentropy a
 *   sigmoid output; mean_squared_error takes any output.
 * - seeds defaults to 1 (seed 0 only).
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "spec_internal.h"
#include "rng.h"
#include "text.h"

struct spec_document {
    char *text;
    size_t len;
    char *file;
    char *base_dir;
    sn *root;
    spec_experiment base;
    uint64_t *seeds;
    size_t n_seeds;
    spec_sweep_entry *sweep;
    size_t n_sweep;
    spec_inputs *inputs; /* every data source read, each once */
};

#define N_DIGITS_ROWS 1797u

struct spec_conv {
    const char *file;
    const char *base_dir;
    spec_diagnostics *d;
    int failed;
    size_t sweep_values; /* values of the sweep block so far (lists and ranges) */
    uint64_t **seeds;    /* where the seed list goes (NULL: checked only) */
    size_t *n_seeds;
    int have_shape;      /* data.source gave the dataset's shape ... */
    size_t base_rows;    /* ... and its rows before augmentation */
    spec_inputs *inputs; /* where data.source is read (once per distinct source) */
    char *const *class_names; /* a CSV source's class names (NULL: "0".."k-1") */
};
typedef struct spec_conv cv;

/* All sweep values together, ranges expanded: each is a tree node kept for
 * the document's life, and a few short ranges must not allocate millions. */
#define SPEC_MAX_SWEEP_VALUES 100000u

static void err(cv *c, const sn *at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void err(cv *c, const sn *at, const char *fmt, ...)
{
    char buf[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    spec_diagnostics_add(c->d, c->file, at ? at->line : 0, at ? at->col : 0, "%s", buf);
    c->failed = 1;
}

/* A short quote of a node for messages: 'text' for scalars. */
static void quote(char *buf, size_t size, const sn *n)
{
    if (n->kind != SN_SCALAR) {
        snprintf(buf, size, "%s", sn_describe(n));
        return;
    }
    if (n->len > 40)
        snprintf(buf, size, "%s ('%.37s...')", sn_describe(n), n->text);
    else
        snprintf(buf, size, "%s ('%s')", sn_describe(n), n->text);
}

static void type_error(cv *c, const sn *n, const char *disp, const char *expected)
{
    char q[100];
    quote(q, sizeof q, n);
    err(c, n, "%s must be %s, got %s", disp, expected, q);
}

static void join_names(char *buf, size_t size, const char *const *names, size_t n)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && used < size; i++) {
        int w = snprintf(buf + used, size - used, "%s%s", i ? ", " : "", names[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

static size_t count_names(const char *const *names)
{
    size_t n = 0;
    while (names[n])
        n++;
    return n;
}

/* ---- leaf checkers -------------------------------------------------------- */

static void fmt_num(char *b, size_t size, double x)
{
    spec_format_real(b, size, x);
}

/* The one range message: "X must be between A and B, got V". */
static int check_range(cv *c, const sn *n, const char *disp, const spec_option *o, double v)
{
    int lo_ok = (o->flags & OPT_EXCL_MIN) ? v > o->min : v >= o->min;
    int hi_ok = (o->flags & OPT_EXCL_MAX) ? v < o->max : v <= o->max;
    if (lo_ok && hi_ok)
        return 0;
    char a[40], b[40], g[40];
    fmt_num(a, sizeof a, o->min);
    fmt_num(b, sizeof b, o->max);
    fmt_num(g, sizeof g, v);
    if (!(o->flags & (OPT_EXCL_MIN | OPT_EXCL_MAX)))
        err(c, n, "%s must be between %s and %s, got %s", disp, a, b, g);
    else
        err(c, n, "%s must be %s %s and %s %s, got %s", disp,
            (o->flags & OPT_EXCL_MIN) ? "greater than" : "at least", a,
            (o->flags & OPT_EXCL_MAX) ? "less than" : "at most", b, g);
    return -1;
}

static int get_int(cv *c, const sn *n, const char *disp, const spec_option *o, long long *out)
{
    sv v = sn_value(n);
    if (n->kind != SN_SCALAR || v.type != SV_INT) {
        if (n->kind == SN_SCALAR && v.type == SV_REAL && isfinite(v.r) && v.r == floor(v.r) &&
            fabs(v.r) > 9e15) {
            check_range(c, n, disp, o, v.r);
            return -1;
        }
        type_error(c, n, disp, "an integer");
        return -1;
    }
    if ((o->min != 0 || o->max != 0) && check_range(c, n, disp, o, (double)v.i) < 0)
        return -1;
    *out = v.i;
    return 0;
}

static int get_real(cv *c, const sn *n, const char *disp, const spec_option *o, double *out)
{
    sv v = sn_value(n);
    if (n->kind != SN_SCALAR || (v.type != SV_INT && v.type != SV_REAL)) {
        type_error(c, n, disp, "a number");
        return -1;
    }
    if (!isfinite(v.r)) {
        err(c, n, "%s must be a finite number, got %s", disp, n->text);
        return -1;
    }
    if ((o->min != 0 || o->max != 0) && check_range(c, n, disp, o, v.r) < 0)
        return -1;
    *out = v.r;
    return 0;
}

static int get_bool(cv *c, const sn *n, const char *disp, int *out)
{
    sv v = sn_value(n);
    if (n->kind != SN_SCALAR || v.type != SV_BOOL) {
        type_error(c, n, disp, "true or false");
        return -1;
    }
    *out = v.b;
    return 0;
}

static int get_str(cv *c, const sn *n, const char *disp, const char **out)
{
    if (n->kind != SN_SCALAR || sn_value(n).type != SV_STR) {
        type_error(c, n, disp, "a string");
        return -1;
    }
    *out = n->text;
    return 0;
}

/* What a name option names, for "unknown activation 'x'". */
static const char *enum_kind(const char *path)
{
    const char *k = strrchr(path, '.');
    k = k ? k + 1 : path;
    if (strstr(k, "initializer"))
        return "initializer";
    if (!strcmp(k, "name") || !strcmp(k, "optimizer"))
        return "optimizer";
    if (!strcmp(k, "source"))
        return "data source";
    if (!strcmp(k, "type"))
        return "layer type";
    if (!strcmp(k, "scale"))
        return "scaling";
    return k;
}

/* Looks a name up; "unknown loss 'x' in training; did you mean 'y'? valid: ...". */
static int lookup_name(cv *c, const sn *n, const char *disp, const char *where,
                       const spec_option *o, int *out)
{
    const char *s;
    if (get_str(c, n, disp, &s) < 0)
        return -1;
    size_t k = count_names(o->names);
    for (size_t i = 0; i < k; i++)
        if (!strcmp(s, o->names[i])) {
            *out = (int)i;
            return 0;
        }
    char valid[400];
    join_names(valid, sizeof valid, o->names, k);
    const char *sug = spec_suggest(s, o->names, k);
    if (sug)
        err(c, n, "unknown %s '%s' in %s; did you mean '%s'? valid: %s", enum_kind(o->path), s,
            where, sug, valid);
    else
        err(c, n, "unknown %s '%s' in %s; valid: %s", enum_kind(o->path), s, where, valid);
    return -1;
}

/* ---- mappings --------------------------------------------------------------- */

/* Every key of map m must be a child option of gpath (generic path, "" for
 * the top level); optimizer parameters must also belong to the optimizer
 * (opt_kind >= 0). where names the mapping in messages. */
static void check_keys(cv *c, const sn *m, const char *gpath, const char *where, int opt_kind)
{
    const char *names[32];
    size_t nn = spec_option_children(gpath, names, 32);
    for (size_t i = 0; i < m->n; i++) {
        const char *key = m->keys[i]->text;
        char full[256];
        snprintf(full, sizeof full, "%s%s%s", gpath, *gpath ? "." : "", key);
        const spec_option *o = spec_option_find(full);
        if (o && opt_kind >= 0 && o->optimizers && !(o->optimizers & (1u << opt_kind))) {
            const char *own[16];
            size_t no = 0;
            for (size_t j = 0; j < nn; j++) {
                char p2[256];
                snprintf(p2, sizeof p2, "%s.%s", gpath, names[j]);
                const spec_option *o2 = spec_option_find(p2);
                if (o2 && (o2->optimizers & (1u << opt_kind)))
                    own[no++] = names[j];
            }
            char valid[300];
            join_names(valid, sizeof valid, own, no);
            err(c, m->keys[i], "'%s' is not a parameter of %s; %s takes %s", key,
                spec_optimizer_names[opt_kind], spec_optimizer_names[opt_kind], valid);
            continue;
        }
        if (o)
            continue;
        const char *sug = spec_suggest(key, names, nn);
        char in[300];
        if (*where)
            snprintf(in, sizeof in, "in %s", where);
        else
            snprintf(in, sizeof in, "at the top level");
        if (sug) {
            err(c, m->keys[i], "unknown key '%s' %s; did you mean '%s'?", key, in, sug);
        } else {
            char valid[400];
            join_names(valid, sizeof valid, names, nn);
            err(c, m->keys[i], "unknown key '%s' %s; valid keys: %s", key, in, valid);
        }
    }
}

/* The value of key in m, or its default (a scalar made from the table's YAML
 * text, marked at the mapping), or NULL when absent without a default;
 * reports a missing required key. tmp holds a made-up default. */
static const sn *member(cv *c, const sn *m, const char *key, const char *where,
                        const spec_option *o, sn *tmp, const char *def)
{
    const sn *v = m ? sn_map_get(m, key, NULL) : NULL;
    if (v)
        return v;
    if (!def)
        def = o ? o->def : NULL;
    if (o && (o->flags & OPT_REQUIRED) && !def) {
        if (m)
            err(c, m, "missing required key '%s' in %s", key, where);
        return NULL;
    }
    if (!def)
        return NULL;
    memset(tmp, 0, sizeof *tmp);
    tmp->kind = SN_SCALAR;
    tmp->text = (char *)def;
    tmp->len = strlen(def);
    tmp->line = m ? m->line : 0;
    tmp->col = m ? m->col : 0;
    return tmp;
}

static const spec_option *opt(const char *path)
{
    const spec_option *o = spec_option_find(path);
    /* Every path used below is in the table; a miss is a programming error
     * that the unit tests catch through the missing checks. */
    return o;
}

/* ---- the table applies values ----------------------------------------------- */

static const char *last_key(const char *path)
{
    const char *d = strrchr(path, '.');
    return d ? d + 1 : path;
}

static void *field_at(void *base, size_t off)
{
    return (char *)base + off;
}

/* The mapping a display path is in: "data" for "data.source". */
static void parent_disp(char *buf, size_t size, const char *disp)
{
    const char *dot = strrchr(disp, '.');
    snprintf(buf, size, "%.*s", dot ? (int)(dot - disp) : 8, dot ? disp : "the spec");
}

/* A list default written as YAML flow text ("validation, test",
 * "[[-1, 2], [-1, 2]]") as a tree marked at (line, col), so that it goes
 * through the checker a written list does. The table's list defaults are
 * lists of plain scalars: nothing more is read. */
static sn *flow_item(const char **s, unsigned line, unsigned col);

static sn *flow_list(const char **s, char close, unsigned line, unsigned col)
{
    sn *q = sn_new(SN_SEQ, line, col);
    while (q && **s && **s != close) {
        const char *at = *s;
        sn *it = flow_item(s, line, col);
        if (!it || sn_append(q, NULL, it) < 0) {
            sn_free(it);
            sn_free(q);
            return NULL;
        }
        while (**s == ' ' || **s == ',')
            (*s)++;
        if (*s == at)
            break;
    }
    if (close && **s == close)
        (*s)++;
    return q;
}

static sn *flow_item(const char **s, unsigned line, unsigned col)
{
    while (**s == ' ')
        (*s)++;
    if (**s == '[') {
        (*s)++;
        return flow_list(s, ']', line, col);
    }
    size_t n = strcspn(*s, ",]");
    sn *v = sn_new_scalar(*s, n, 0, line, col);
    *s += n;
    return v;
}

/* A split size: int = count, real = fraction in (0, 1). */
static int get_size(cv *c, const sn *n, const char *disp, const spec_option *o, data_size *out)
{
    sv v = sn_value(n);
    out->given = 0;
    if (n->kind == SN_SCALAR && v.type == SV_INT) {
        if (check_range(c, n, disp, o, (double)v.i) < 0)
            return -1;
        out->given = 1;
        out->is_count = 1;
        out->value = (double)v.i;
        return 0;
    }
    if (n->kind == SN_SCALAR && v.type == SV_REAL) {
        if (!(v.r > 0 && v.r < 1)) {
            err(c, n,
                "%s must be a fraction between 0 and 1 (exclusive) or a row count (an integer), got %s",
                disp, n->text);
            return -1;
        }
        out->given = 1;
        out->is_count = 0;
        out->value = v.r;
        return 0;
    }
    type_error(c, n, disp, "a row count (integer) or a fraction (real)");
    return -1;
}

/* [[x0 min, x0 max], [x1 min, x1 max]], min < max on both axes. */
static void get_range2(cv *c, const sn *rg, const char *disp, double *x0, double *x1)
{
    double x[2][2] = {{0, 0}, {0, 0}};
    int ok = rg->kind == SN_SEQ && rg->n == 2;
    for (size_t i = 0; ok && i < 2; i++) {
        const sn *p = rg->items[i];
        if (p->kind != SN_SEQ || p->n != 2) {
            ok = 0;
            break;
        }
        for (size_t j = 0; j < 2; j++) {
            sv v = sn_value(p->items[j]);
            if (p->items[j]->kind != SN_SCALAR || (v.type != SV_INT && v.type != SV_REAL) ||
                !isfinite(v.r))
                ok = 0;
            else
                x[i][j] = v.r;
        }
    }
    if (!ok) {
        type_error(c, rg, disp, "[[x0 min, x0 max], [x1 min, x1 max]] numbers");
    } else if (!(x[0][0] < x[0][1]) || !(x[1][0] < x[1][1])) {
        err(c, rg, "%s must have min < max on both axes", disp);
    } else if (x0) {
        memcpy(x0, x[0], sizeof x[0]);
        memcpy(x1, x[1], sizeof x[1]);
    }
}

/* A value of a scalar type (and the grid range): the checker of its type,
 * then the store into the option's field in base. base NULL (or a row
 * without a field) only checks, as for swept values. where names the
 * mapping the value is in. */
static void conv_leaf(cv *c, const spec_option *o, const sn *v, const char *disp,
                      const char *where, void *base)
{
    void *to = base && o->field != FIELD_NONE ? field_at(base, o->off) : NULL;
    long long i;
    double r;
    int b;
    const char *s;
    data_size ds;
    switch (o->type) {
    case OPT_INT:
        if (get_int(c, v, disp, o, &i) < 0 || !to)
            return;
        if (o->field == FIELD_U64_OPT) {
            *(uint64_t *)to = (uint64_t)i;
            *(int *)field_at(base, o->aux) = 1;
        } else {
            *(size_t *)to = (size_t)i;
        }
        return;
    case OPT_REAL:
        if (get_real(c, v, disp, o, &r) == 0 && to)
            *(double *)to = r;
        return;
    case OPT_BOOL:
        if (get_bool(c, v, disp, &b) == 0 && to)
            *(int *)to = b;
        return;
    case OPT_ENUM:
        if (lookup_name(c, v, disp, *where ? where : "the spec", o, &b) == 0 && to)
            *(int *)to = b;
        return;
    case OPT_STR:
        if (get_str(c, v, disp, &s) == 0 && to && !(*(char **)to = strdup(s)))
            err(c, v, "out of memory");
        return;
    case OPT_SIZE:
        if (get_size(c, v, disp, o, &ds) == 0 && to)
            *(data_size *)to = ds;
        return;
    case OPT_UNITS:
        if (v->kind == SN_SCALAR && sn_value(v).type == SV_STR && !strcmp(v->text, "classes")) {
            if (to)
                *(int *)field_at(base, o->aux) = 1;
        } else if (v->kind == SN_SCALAR && sn_value(v).type == SV_INT) {
            if (get_int(c, v, disp, o, &i) == 0 && to)
                *(size_t *)to = (size_t)i;
        } else {
            type_error(c, v, disp, "an integer or 'classes'");
        }
        return;
    case OPT_RANGE2:
        get_range2(c, v, disp, to, to ? field_at(base, o->aux) : NULL);
        return;
    case OPT_RATE: /* a number here; a schedule is checked by its setter */
        if (v->kind == SN_SCALAR && get_real(c, v, disp, o, &r) == 0 && to)
            *(double *)to = r;
        return;
    default: /* structured: the option's setter does it */
        return;
    }
}

static void conv_members(cv *c, const sn *m, const spec_option *parent, const char *gpath,
                         const char *where, void *base, int kind);

/* A mapping of the child options. A name map (the optimizer) also takes a
 * bare name, `adam` = {name: adam}; its name picks the children it accepts
 * and their defaults. Every child gets its default, the optimizer's own or
 * not, so the struct is fully defined. */
static void conv_map(cv *c, const spec_option *o, const sn *v, const char *disp,
                     const char *where, void *base)
{
    if (o->type == OPT_MAP) {
        if (v && v->kind != SN_MAP)
            type_error(c, v, disp, "a mapping");
        else
            conv_members(c, v, o, o->path, disp, base, -1);
        return;
    }
    char np[160], dn[300];
    snprintf(np, sizeof np, "%s.name", o->path);
    snprintf(dn, sizeof dn, "%s.name", disp);
    const spec_option *no = spec_option_find(np);
    int kind = 0;
    const sn *m = NULL;
    sn tmp;
    if (!v)
        return;
    if (v->kind == SN_SCALAR) {
        if (lookup_name(c, v, disp, *where ? where : "the spec", o, &kind) < 0)
            return;
    } else if (v->kind == SN_MAP) {
        m = v;
        const sn *nn = member(c, m, "name", disp, no, &tmp, NULL);
        if (!nn || lookup_name(c, nn, dn, disp, no, &kind) < 0) {
            check_keys(c, m, o->path, disp, -1);
            return;
        }
    } else {
        type_error(c, v, disp, "an optimizer name or a mapping {name: NAME, ...}");
        return;
    }
    *(int *)field_at(base, no->off) = kind;
    conv_members(c, m, o, o->path, disp, base, kind);
}

/* One option in mapping m (NULL: the mapping is absent): the written value
 * or the default, through the option's setter, its children, or the checker
 * of its type. kind >= 0 is the optimizer whose defaults apply. */
static void conv_option(cv *c, const sn *m, const spec_option *o, const char *where, void *base,
                        int kind)
{
    const char *key = last_key(o->path);
    char disp[256];
    /* where.key, without printf: this runs for every option of every point. */
    size_t lw = strlen(where), lk = strlen(key);
    if (lw > 200)
        lw = 200;
    if (lk > 50)
        lk = 50;
    memcpy(disp, where, lw);
    if (lw)
        disp[lw++] = '.';
    memcpy(disp + lw, key, lk);
    disp[lw + lk] = '\0';
    const char *def = kind >= 0 && o->def_by_opt[kind] ? o->def_by_opt[kind] : o->def;
    sn tmp, *made = NULL;
    const sn *v = m ? sn_map_get(m, key, NULL) : NULL;
    if (!v && def && (o->type == OPT_ENUM_LIST || o->type == OPT_RANGE2)) {
        const char *s = def;
        unsigned line = m ? m->line : 0, col = m ? m->col : 0;
        v = made = o->type == OPT_ENUM_LIST ? flow_list(&s, '\0', line, col)
                                            : flow_item(&s, line, col);
        if (!made) {
            err(c, m, "out of memory");
            return;
        }
    } else if (!v) {
        v = member(c, m, key, *where ? where : "the spec", o, &tmp, def);
    }
    if (o->set)
        o->set(c, o, v, disp, base);
    else if (o->type == OPT_MAP || o->type == OPT_NAME_MAP)
        conv_map(c, o, v, disp, where, base);
    else if (v)
        conv_leaf(c, o, v, disp, where, base);
    sn_free(made);
}

/* Every child option of gpath (the row parent, or the list items of it)
 * from mapping m (NULL: absent, so every default applies): the table drives
 * the walk, so nothing is left without its default. Keys of m the table
 * does not know are errors. */
static void conv_members(cv *c, const sn *m, const spec_option *parent, const char *gpath,
                         const char *where, void *base, int kind)
{
    if (m)
        check_keys(c, m, gpath, where, kind);
    size_t first, end;
    spec_option_block(parent, &first, &end);
    for (size_t i = first; i < end; i++)
        if (spec_option_is_child(&spec_options[i], gpath))
            conv_option(c, m, &spec_options[i], where, base, kind);
}

/* ---- the setters of the structured options ---------------------------------- */

static char *path_join(const char *dir, const char *path)
{
    size_t ld = strlen(dir), lp = strlen(path);
    if (path[0] == '/' || ld == 0 || !strcmp(dir, ".")) {
        char *s = malloc(lp + 1);
        if (s)
            memcpy(s, path, lp + 1);
        return s;
    }
    char *s = malloc(ld + lp + 2);
    if (!s)
        return NULL;
    memcpy(s, dir, ld);
    s[ld] = '/';
    memcpy(s + ld + 1, path, lp + 1);
    return s;
}

/* The shape of a CSV source, from the document's input cache: the file is
 * read, hashed and parsed once however many sweep points name it. */
static int read_csv_shape(cv *c, const sn *at, const char *written, const char *resolved,
                          const char *label, spec_experiment *e, size_t *rows)
{
    const spec_input_problem *pb;
    const spec_input *in = spec_inputs_csv(c->inputs, resolved, label, &pb);
    if (!in && !pb) {
        err(c, at, "out of memory");
        return -1;
    }
    if (!in && !pb->inside) {
        err(c, at, "cannot read CSV '%s': %s", written, pb->reason);
        return -1;
    }
    if (!in) {
        /* The problem is inside the CSV: report it first in the CSV's own
         * coordinates (the resolved path, so it opens from the working
         * directory like the spec's own name),
         * then point at the spec's source entry. */
        spec_diagnostics_add(c->d, resolved, pb->at.line,
                             pb->at.line ? pb->at.column : 0, "%s", pb->at.message);
        err(c, at, "cannot read CSV '%s' (see above)", written);
        return -1;
    }
    e->data.n_features = in->data.n_features;
    e->data.n_classes = in->data.n_classes;
    e->data.csv_labels_numeric = in->data.labels_numeric;
    c->class_names = in->data.class_names;
    *rows = in->data.n_rows;
    return 0;
}

/* data.source: a built-in name, or {csv, label}; either way the dataset's
 * shape (classes, features, rows) is known afterwards. */
void spec_set_source(cv *c, const spec_option *o, const sn *v, const char *disp, void *base)
{
    spec_experiment *e = base;
    char where[256];
    parent_disp(where, sizeof where, disp);
    if (!v)
        return;
    if (v->kind == SN_SCALAR) {
        int k;
        if (lookup_name(c, v, disp, where, o, &k) == 0) {
            e->data.source = k == 0 ? SPEC_SOURCE_XOR : SPEC_SOURCE_DIGITS;
            e->data.n_classes = k == 0 ? 2 : 10;
            e->data.n_features = k == 0 ? 2 : 64;
            c->base_rows = k == 0 ? 4 : N_DIGITS_ROWS;
            /* Known without loading it: loaded once per plan when trained on. */
            if (!spec_inputs_builtin(c->inputs, e->data.source))
                err(c, v, "out of memory");
            else
                c->have_shape = 1;
        }
    } else if (v->kind == SN_MAP) {
        sn tmp;
        char dc[300], dl[300];
        snprintf(dc, sizeof dc, "%s.csv", disp);
        snprintf(dl, sizeof dl, "%s.label", disp);
        check_keys(c, v, o->path, disp, -1);
        const sn *p = member(c, v, "csv", disp, opt("data.source.csv"), &tmp, NULL);
        const sn *l = sn_map_get(v, "label", NULL);
        const char *path = NULL, *label = NULL;
        int ok = p && get_str(c, p, dc, &path) == 0;
        if (l && get_str(c, l, dl, &label) < 0)
            ok = 0;
        if (ok) {
            e->data.source = SPEC_SOURCE_CSV;
            e->data.csv_path = path_join(c->base_dir, path);
            e->data.csv_label = label ? strdup(label) : NULL;
            if (!e->data.csv_path || (label && !e->data.csv_label))
                err(c, v, "out of memory");
            else if (read_csv_shape(c, p, path, e->data.csv_path, label, e, &c->base_rows) == 0)
                c->have_shape = 1;
        }
    } else {
        type_error(c, v, disp, "xor, digits or a mapping {csv: PATH, label: COLUMN}");
    }
}

/* model.layers: each item a mapping of the layer options, into e->layers. */
/* One layer's keys against its type: a dense layer needs units, a
 * dropout its rate; a key of another type's is an error; the last layer
 * is the dense output layer. */
static void check_layer(cv *c, const sn *l, const char *items, const char *where,
                        spec_layer *sl, int last)
{
    nn_layer_kind k = sl->layer.kind;
    const char *tn = spec_layer_type_names[k];
    for (size_t j = 0; j < l->n; j++) {
        char full[256];
        snprintf(full, sizeof full, "%s.%s", items, l->keys[j]->text);
        const spec_option *ko = spec_option_find(full);
        if (ko && ko->layer_types && !(ko->layer_types & (1u << k)))
            err(c, l->keys[j], "'%s' is not an option of a %s layer (%s)", l->keys[j]->text, tn,
                where);
    }
    if (k == NN_LAYER_DENSE && !sn_map_get(l, "units", NULL))
        err(c, l, "missing required key 'units' in %s", where);
    if (k == NN_LAYER_DROPOUT && !sn_map_get(l, "rate", NULL))
        err(c, l, "missing required key 'rate' in %s (a dropout layer)", where);
    if (last && k != NN_LAYER_DENSE)
        err(c, l, "the last layer %s is a %s layer; the output layer must be dense", where, tn);
}

/* training.early_stopping and training.reduce_lr_on_plateau: on when the
 * mapping is given ({} = every default), off otherwise; the defaults are
 * filled either way. The baseline is an optional number. */
void spec_set_callback(cv *c, const spec_option *o, const sn *v, const char *disp, void *base)
{
    int *enabled = field_at(base, o->off);
    if (v && v->kind != SN_MAP) {
        type_error(c, v, disp, "a mapping of its parameters ({} for the defaults)");
        return;
    }
    conv_members(c, v, o, o->path, disp, base, -1);
    *enabled = v != NULL;
    spec_experiment *e = base;
    char bp[200];
    snprintf(bp, sizeof bp, "%s.baseline", o->path);
    const spec_option *bo = spec_option_find(bp);
    const sn *b = v && bo ? sn_map_get(v, "baseline", NULL) : NULL;
    if (b) {
        char bd[300];
        double x;
        snprintf(bd, sizeof bd, "%s.baseline", disp);
        if (get_real(c, b, bd, bo, &x) == 0) {
            e->training.early_stopping.has_baseline = 1;
            e->training.early_stopping.baseline = x;
        }
    }
}

/* A list of numbers of o's length bounds, each checked against item's
 * bounds (min, max, exclusive flags). Returns the count, or -1. */
static int get_real_list(cv *c, const sn *v, const char *disp, const spec_option *o,
                         const spec_option *item, double *out)
{
    if (v->kind != SN_SEQ) {
        type_error(c, v, disp, "a list of numbers");
        return -1;
    }
    if (v->n < (size_t)o->min || v->n > (size_t)o->max) {
        err(c, v, "%s must have between %.0f and %.0f numbers, got %zu", disp, o->min, o->max,
            v->n);
        return -1;
    }
    int ok = 0;
    for (size_t i = 0; i < v->n; i++) {
        char d[340];
        snprintf(d, sizeof d, "%s[%zu]", disp, i);
        ok |= get_real(c, v->items[i], d, item, &out[i]);
    }
    return ok ? -1 : (int)v->n;
}

/* training.optimizer.learning_rate: a number (the table's checks), or a
 * schedule mapping whose `schedule` picks the parameters it takes and
 * needs. */
void spec_set_learning_rate(cv *c, const spec_option *o, const sn *v, const char *disp,
                            void *base)
{
    spec_experiment *e = base;
    nn_lr_schedule *sc = &e->model.optimizer.schedule;
    memset(sc, 0, sizeof *sc);
    if (!v)
        return;
    if (v->kind == SN_SCALAR) {
        conv_leaf(c, o, v, disp, "", base);
        return;
    }
    if (v->kind != SN_MAP) {
        type_error(c, v, disp,
                   "a number or a schedule mapping {schedule: exponential_decay, ...}");
        return;
    }
    check_keys(c, v, o->path, disp, -1);
    char sp[200], sd[300];
    snprintf(sp, sizeof sp, "%s.schedule", o->path);
    snprintf(sd, sizeof sd, "%s.schedule", disp);
    const spec_option *so = opt(sp);
    sn tmp;
    int k;
    const sn *sv_ = member(c, v, "schedule", disp, so, &tmp, NULL);
    if (!sv_ || lookup_name(c, sv_, sd, disp, so, &k) < 0)
        return;
    nn_lr_schedule_kind kind = (nn_lr_schedule_kind)(k + 1);
    const char *kname = spec_schedule_names[k];
    size_t first, end, n_values = 0;
    spec_option_block(o, &first, &end);
    int ok = 1;
    for (size_t i = first; i < end; i++) {
        const spec_option *p = &spec_options[i];
        const char *key = last_key(p->path);
        if (p == so)
            continue;
        char pd[300];
        snprintf(pd, sizeof pd, "%s.%s", disp, key);
        const sn *pv = sn_map_get(v, key, NULL);
        if (!(p->schedules & (1u << kind))) {
            if (pv) {
                char own[200] = "";
                for (size_t j = first; j < end; j++)
                    if (&spec_options[j] != so && (spec_options[j].schedules & (1u << kind))) {
                        size_t l = strlen(own);
                        snprintf(own + l, sizeof own - l, "%s%s", l ? ", " : "",
                                 last_key(spec_options[j].path));
                    }
                size_t ki = 0;
                sn_map_get(v, key, &ki);
                err(c, v->keys[ki], "'%s' is not a parameter of %s; %s takes %s", key, kname,
                    kname, own);
                ok = 0;
            }
            continue;
        }
        if (!pv && (p->schedules_required & (1u << kind))) {
            err(c, v, "missing required key '%s' in %s (%s)", key, disp, kname);
            ok = 0;
            continue;
        }
        if (p->type == OPT_REAL_LIST) {
            int bnd = !strcmp(key, "boundaries");
            spec_option item = {.min = 0, .max = bnd ? 1e15 : 10,
                                .flags = bnd ? 0u : OPT_EXCL_MIN};
            int n = get_real_list(c, pv, pd, p, &item, bnd ? sc->boundaries : sc->values);
            if (n < 0) {
                ok = 0;
                continue;
            }
            if (bnd) {
                sc->n_boundaries = (size_t)n;
                for (int j = 1; j < n; j++)
                    if (!(sc->boundaries[j] > sc->boundaries[j - 1])) {
                        err(c, pv->items[j], "%s must be increasing, but item %d (%g) is not "
                            "greater than item %d (%g)", pd, j, sc->boundaries[j], j - 1,
                            sc->boundaries[j - 1]);
                        ok = 0;
                        break;
                    }
            } else {
                n_values = (size_t)n;
            }
            continue;
        }
        sn t2;
        const sn *val = pv ? pv : member(c, NULL, key, disp, p, &t2, p->def);
        if (val) {
            int before = c->failed;
            c->failed = 0;
            conv_leaf(c, p, val, pd, disp, base);
            ok = ok && !c->failed;
            c->failed = c->failed || before;
        }
    }
    if (!ok || c->failed)
        return;
    if (kind == NN_LR_PIECEWISE_CONSTANT) {
        size_t nv = n_values;
        if (nv != sc->n_boundaries + 1) {
            const sn *vn = sn_map_get(v, "values", NULL);
            err(c, vn, "%s.values must have one more number than %s.boundaries (%zu), got %zu",
                disp, disp, sc->n_boundaries + 1, nv);
            return;
        }
        e->model.optimizer.learning_rate = sc->values[0];
    } else {
        e->model.optimizer.learning_rate = sc->initial_learning_rate;
    }
    sc->kind = kind;
}

/* training.class_weight: `balanced`, or a mapping of the dataset's class
 * names to weights, resolved to one weight per class. */
void spec_set_class_weight(cv *c, const spec_option *o, const sn *v, const char *disp,
                           void *base)
{
    spec_experiment *e = base;
    if (!v)
        return;
    if (v->kind == SN_SCALAR && sn_value(v).type == SV_STR && !strcmp(v->text, "balanced")) {
        e->training.class_weight_balanced = 1;
        return;
    }
    if (v->kind == SN_SCALAR && sn_value(v).type == SV_STR) {
        static const char *const words[] = {"balanced"};
        if (spec_suggest(v->text, words, 1)) {
            err(c, v, "%s must be balanced or a mapping class -> weight, got '%s'; did you "
                "mean 'balanced'?", disp, v->text);
            return;
        }
    }
    if (v->kind != SN_MAP || v->n == 0) {
        type_error(c, v, disp, "balanced or a mapping class -> weight");
        return;
    }
    size_t k = e->data.n_classes;
    if (!c->have_shape || k == 0)
        return; /* the data source has its own error */
    double *w = malloc(k * sizeof *w);
    if (!w) {
        err(c, v, "out of memory");
        return;
    }
    for (size_t i = 0; i < k; i++)
        w[i] = 1.0;
    int ok = 1;
    for (size_t j = 0; j < v->n; j++) {
        const char *name = v->keys[j]->text ? v->keys[j]->text : "";
        size_t cls = k;
        char num[32];
        for (size_t i = 0; i < k && cls == k; i++) {
            const char *cn = c->class_names ? c->class_names[i] : num;
            if (!c->class_names)
                snprintf(num, sizeof num, "%zu", i);
            if (!strcmp(name, cn))
                cls = i;
        }
        if (cls == k) {
            char valid[400] = "";
            for (size_t i = 0; i < k; i++) {
                size_t l = strlen(valid);
                if (l + 40 >= sizeof valid) {
                    snprintf(valid + l, sizeof valid - l, ", ...");
                    break;
                }
                if (c->class_names)
                    snprintf(valid + l, sizeof valid - l, "%s%s", i ? ", " : "",
                             c->class_names[i]);
                else
                    snprintf(valid + l, sizeof valid - l, "%s%zu", i ? ", " : "", i);
            }
            err(c, v->keys[j], "%s names class '%s', but the dataset has no such class; its "
                "classes are %s", disp, name, valid);
            ok = 0;
            continue;
        }
        char d[300];
        snprintf(d, sizeof d, "%s.%s", disp, name);
        if (get_real(c, v->items[j], d, o, &w[cls]) < 0)
            ok = 0;
    }
    if (!ok) {
        free(w);
        return;
    }
    free(e->training.class_weight);
    e->training.class_weight = w;
    e->training.n_class_weight = k;
}

void spec_set_layers(cv *c, const spec_option *o, const sn *v, const char *disp, void *base)
{
    spec_experiment *e = base;
    if (!v)
        return;
    if (v->kind != SN_SEQ) {
        type_error(c, v, disp, "a list of layers");
        return;
    }
    if (v->n < (size_t)o->min || v->n > (size_t)o->max) {
        err(c, v, "%s must have between %.0f and %.0f layers, got %zu", disp, o->min, o->max,
            v->n);
        return;
    }
    char items[160];
    snprintf(items, sizeof items, "%s[]", o->path);
    e->model.n_layers = v->n;
    for (size_t i = 0; i < v->n; i++) {
        const sn *l = v->items[i];
        char where[300];
        snprintf(where, sizeof where, "%s[%zu]", disp, i);
        if (l->kind != SN_MAP) {
            type_error(c, l, where, "a mapping {type: dense, units: N, activation: NAME}");
            continue;
        }
        int before = c->failed;
        c->failed = 0;
        conv_members(c, l, o, items, where, &e->layers[i], -1);
        if (!c->failed)
            check_layer(c, l, items, where, &e->layers[i], i + 1 == v->n);
        c->failed = c->failed || before;
    }
}

/* A list of distinct names from o->names; flags[i] = 1 for each given. */
static int get_name_list(cv *c, const sn *n, const char *disp, const char *where,
                         const spec_option *o, int *flags, const sn **item_nodes)
{
    if (n->kind != SN_SEQ) {
        type_error(c, n, disp, "a list");
        return -1;
    }
    int bad = 0;
    for (size_t i = 0; i < n->n; i++) {
        int k;
        if (lookup_name(c, n->items[i], disp, where, o, &k) < 0) {
            bad = 1;
            continue;
        }
        if (flags[k]) {
            err(c, n->items[i], "'%s' appears twice in %s", o->names[k], disp);
            bad = 1;
            continue;
        }
        flags[k] = 1;
        if (item_nodes)
            item_nodes[k] = n->items[i];
    }
    return bad ? -1 : 0;
}

/* training.metrics: checked only (accuracy is always computed). */
void spec_set_metrics(cv *c, const spec_option *o, const sn *v, const char *disp, void *base)
{
    (void)base;
    char where[256];
    parent_disp(where, sizeof where, disp);
    if (!v)
        return;
    if (v->kind != SN_SEQ) {
        type_error(c, v, disp, "a list such as [accuracy]");
        return;
    }
    /* Only accuracy: say so rather than "unknown metric" alone. */
    int bad = 0;
    for (size_t i = 0; i < v->n; i++) {
        const sn *it = v->items[i];
        if (it->kind == SN_SCALAR && sn_value(it).type == SV_STR && strcmp(it->text, "accuracy")) {
            err(c, it, "unknown metric '%s' in %s; only accuracy is supported", it->text, disp);
            bad = 1;
        }
    }
    if (!bad) {
        int flags[1] = {0};
        get_name_list(c, v, disp, where, o, flags, NULL);
    }
}

typedef struct seed_at {
    long long v;
    size_t i;
} seed_at;

static int cmp_seed_at(const void *a, const void *b)
{
    const seed_at *x = a, *y = b;
    if (x->v != y->v)
        return (x->v > y->v) - (x->v < y->v);
    return (x->i > y->i) - (x->i < y->i);
}

/* seeds: a count or a list of distinct seeds, into the conversion's seed
 * list (when the caller asked for one). */
void spec_set_seeds(cv *c, const spec_option *o, const sn *s, const char *disp, void *base)
{
    (void)base;
    uint64_t *out = NULL;
    size_t n = 0;
    if (!s)
        return;
    if (s->kind == SN_SCALAR && sn_value(s).type == SV_INT) {
        long long k;
        if (get_int(c, s, disp, o, &k) < 0)
            return;
        n = (size_t)k;
    } else if (s->kind == SN_SEQ) {
        if (s->n < 1 || s->n > (size_t)o->max) {
            err(c, s, "%s must list between 1 and %.0f seeds, got %zu", disp, o->max, s->n);
            return;
        }
        spec_option item = *o;
        item.min = 0;
        item.max = 9007199254740991.0;
        /* Duplicates are found by sorting (value, position) pairs: a pairwise
         * check would be quadratic in a list that may hold 10^5 seeds. */
        seed_at *sorted = malloc(s->n * sizeof *sorted);
        unsigned char *dup = calloc(s->n, 1);
        if (c->seeds)
            out = malloc(s->n * sizeof *out);
        if (!sorted || !dup || (c->seeds && !out)) {
            free(sorted);
            free(dup);
            free(out);
            err(c, s, "out of memory");
            return;
        }
        size_t ns = 0;
        for (size_t i = 0; i < s->n; i++) {
            long long v;
            char di[300];
            snprintf(di, sizeof di, "%s[%zu]", disp, i);
            if (get_int(c, s->items[i], di, &item, &v) < 0)
                continue;
            sorted[ns].v = v;
            sorted[ns++].i = i;
            if (out)
                out[i] = (uint64_t)v;
        }
        qsort(sorted, ns, sizeof *sorted, cmp_seed_at);
        for (size_t k = 1; k < ns; k++)
            if (sorted[k].v == sorted[k - 1].v)
                dup[sorted[k].i] = 1;
        for (size_t i = 0; i < s->n; i++)
            if (dup[i])
                err(c, s->items[i], "seed %lld appears twice in %s", sn_value(s->items[i]).i,
                    disp);
        free(sorted);
        free(dup);
        if (c->seeds) {
            *c->seeds = out;
            *c->n_seeds = s->n;
        }
        return;
    } else {
        type_error(c, s, disp, "a count or a list of seeds");
        return;
    }
    if (c->seeds) {
        out = malloc(n * sizeof *out);
        if (!out) {
            err(c, s, "out of memory");
            return;
        }
        for (size_t i = 0; i < n; i++)
            out[i] = i;
        *c->seeds = out;
        *c->n_seeds = n;
    }
}

/* record.history: always recorded, so only true is valid. */
void spec_set_history(cv *c, const spec_option *o, const sn *v, const char *disp, void *base)
{
    (void)o;
    (void)base;
    int b;
    if (v && get_bool(c, v, disp, &b) == 0 && !b)
        err(c, v, "%s cannot be false: the per-epoch history is always recorded", disp);
}

/* record.confusion: the splits listed, as three flags. The default lists
 * validation "when there is one": the cross-field check drops it. */
void spec_set_confusion(cv *c, const spec_option *o, const sn *v, const char *disp, void *base)
{
    spec_record *r = &((spec_experiment *)base)->record;
    int flags[3] = {0, 0, 0};
    char where[256];
    parent_disp(where, sizeof where, disp);
    if (v && get_name_list(c, v, disp, where, o, flags, NULL) == 0) {
        r->confusion_train = flags[0];
        r->confusion_validation = flags[1];
        r->confusion_test = flags[2];
    }
}

/* record.grid: false, true or {range, resolution}; absent, it is decided
 * once the data's shape is known (-1). The children get their defaults in
 * every case. */
void spec_set_grid(cv *c, const spec_option *o, const sn *v, const char *disp, void *base)
{
    spec_experiment *e = base;
    const sn *m = NULL;
    if (!v) {
        e->record.grid = -1;
    } else if (v->kind == SN_SCALAR && sn_value(v).type == SV_BOOL) {
        e->record.grid = sn_value(v).b;
    } else if (v->kind == SN_MAP) {
        e->record.grid = 1;
        m = v;
    } else {
        type_error(c, v, disp, "true, false or a mapping {range, resolution}");
        return;
    }
    conv_members(c, m, o, o->path, disp, base, -1);
}

/* ---- cross-field checks ----------------------------------------------------- */

/* The node at a concrete path ("model.layers[1].units") or, where part of it
 * is absent, the deepest node on the way: the mark of a default. *exact
 * tells which. */
static const sn *node_at(const sn *root, const char *path, int *exact)
{
    const sn *n = root;
    const char *p = path;
    *exact = 0;
    while (*p) {
        const sn *next = NULL;
        if (*p == '[') {
            char *end;
            unsigned long i = strtoul(p + 1, &end, 10);
            p = *end == ']' ? end + 1 : end;
            if (n->kind == SN_SEQ && i < n->n)
                next = n->items[i];
        } else {
            if (*p == '.')
                p++;
            size_t kl = strcspn(p, ".[");
            char key[128];
            snprintf(key, sizeof key, "%.*s", (int)kl, p);
            p += kl;
            if (n->kind == SN_MAP)
                next = sn_map_get(n, key, NULL);
        }
        if (!next)
            return n;
        n = next;
    }
    *exact = 1;
    return n;
}

static size_t split_take(size_t n, const data_size *s)
{
    if (!s->given)
        return (size_t)ceil(0.25 * (double)n);
    return s->is_count ? (size_t)s->value : (size_t)ceil(s->value * (double)n);
}

static void check_splits(cv *c, spec_experiment *e, const sn *root)
{
    int x;
    size_t rep = e->data.pipeline.repeat;
    if (rep && c->base_rows > SIZE_MAX / rep) {
        err(c, node_at(root, "data", &x), "data.augment.repeat makes too many rows");
        return;
    }
    size_t n = c->base_rows * rep;
    data_error de;
    size_t n_rest = 0, n_test = 0, n_train = 0, n_val = 0;
    const data_split_config *t = &e->data.pipeline.test, *v = &e->data.pipeline.validation;
    if (data_split_sizes(n, t, &n_rest, &n_test, &de) < 0 || n_rest == 0) {
        size_t k = split_take(n, &t->test);
        err(c, node_at(root, "data.split.test", &x),
            "data.split.test takes %zu of the %zu rows, leaving no training rows", k, n);
        return;
    }
    n_train = n_rest;
    if (v->test.given) {
        if (data_split_sizes(n_rest, v, &n_train, &n_val, &de) < 0 || n_train == 0) {
            size_t k = split_take(n_rest, &v->test);
            err(c, node_at(root, "data.split.validation", &x),
                "data.split.validation takes %zu of the %zu rows left after the test split "
                "(%zu rows, %zu for test), leaving no training rows",
                k, n_rest, n, n_test);
            return;
        }
    }
    if (e->data.pipeline.has_random_state && !t->shuffle)
        err(c, node_at(root, "data.split.random_state", &x),
            "data.split.random_state has no effect with data.split.shuffle: false "
            "(the rows are not shuffled); remove one of them");
    if (t->stratify) {
        size_t k = e->data.n_classes;
        if (n_test < k || n_rest < k || (v->test.given && (n_val < k || n_train < k)))
            err(c, node_at(root, "data.split", &x),
                "data.split.stratify needs at least one row per class (%zu classes) in every "
                "split; the sizes are %zu train, %zu validation, %zu test",
                k, n_train, n_val, n_test);
    }
}

/* `units: classes` resolved, the output layer against the classes, and the
 * loss against the output activation (when training converted cleanly). */
static void check_model(cv *c, spec_experiment *e, const sn *root, int loss_ok)
{
    int x;
    size_t k = e->data.n_classes;
    size_t last = e->model.n_layers - 1;
    size_t width = e->data.n_features;
    for (size_t i = 0; i < e->model.n_layers; i++) {
        if (e->layers[i].units_classes)
            e->layers[i].layer.units = k;
        /* dropout and batch normalization keep their input's width */
        if (e->layers[i].layer.kind != NN_LAYER_DENSE)
            e->layers[i].layer.units = width;
        width = e->layers[i].layer.units;
        e->model.layers[i] = e->layers[i].layer;
    }
    e->model.n_inputs = e->data.n_features;
    if (e->model.layers[last].kind != NN_LAYER_DENSE)
        return; /* reported by the layer's own check */
    size_t u = e->model.layers[last].units;
    nn_activation a = e->model.layers[last].activation;
    char up[64];
    snprintf(up, sizeof up, "model.layers[%zu].units", last);
    /* one sigmoid unit with binary_crossentropy for 2 classes: targets 0/1 */
    int binary = u == 1 && k == 2 && a == NN_ACT_SIGMOID && loss_ok &&
                 e->model.loss == NN_LOSS_BINARY_CROSSENTROPY;
    if (u != k && !binary)
        err(c, node_at(root, up, &x),
            "the output layer model.layers[%zu] has %zu units but the dataset has %zu classes; "
            "use units: %zu or units: classes%s",
            last, u, k, k, k == 2 ? " (or units: 1, activation: sigmoid with binary_crossentropy)" : "");
    if (!loss_ok)
        return;
    const sn *loss_node = node_at(root, "training.loss", &x);
    if (e->model.loss == NN_LOSS_CATEGORICAL_CROSSENTROPY && a != NN_ACT_SOFTMAX)
        err(c, loss_node,
            "categorical_crossentropy needs a softmax output layer, but model.layers[%zu] has "
            "activation %s",
            last, spec_activation_names[a]);
    if (e->model.loss == NN_LOSS_BINARY_CROSSENTROPY && a != NN_ACT_SIGMOID)
        err(c, loss_node,
            "binary_crossentropy needs a sigmoid output layer, but model.layers[%zu] has "
            "activation %s",
            last, spec_activation_names[a]);
}

/* A callback watching a validation value needs a validation set (Keras
 * would warn and never act). */
static void check_callbacks(cv *c, spec_experiment *e, const sn *root)
{
    int x;
    const int has_val = e->data.pipeline.validation.test.given;
    const struct {
        int on;
        nn_monitor mon;
        const char *path;
    } cb[2] = {
        {e->training.early_stopping.enabled, e->training.early_stopping.monitor,
         "training.early_stopping"},
        {e->training.reduce_lr.enabled, e->training.reduce_lr.monitor,
         "training.reduce_lr_on_plateau"},
    };
    if (e->training.reduce_lr.enabled &&
        e->model.optimizer.schedule.kind != NN_LR_CONSTANT)
        err(c, node_at(root, "training.reduce_lr_on_plateau", &x),
            "training.reduce_lr_on_plateau cannot change a learning-rate schedule; give "
            "training.optimizer.learning_rate as a number or drop reduce_lr_on_plateau");
    static const char *const mon[] = {"val_loss", "loss", "accuracy", "val_accuracy"};
    for (int i = 0; i < 2; i++) {
        if (!cb[i].on || has_val ||
            (cb[i].mon != NN_MONITOR_VAL_LOSS && cb[i].mon != NN_MONITOR_VAL_ACCURACY))
            continue;
        char p[80];
        snprintf(p, sizeof p, "%s.monitor", cb[i].path);
        err(c, node_at(root, p, &x),
            "%s monitors %s, but data.split has no validation set; add data.split.validation "
            "or monitor loss or accuracy",
            cb[i].path, mon[cb[i].mon]);
    }
}

/* The search block against itself and the training: trials belong to a
 * random search (and it needs them), the first rung must come before the
 * last epoch, a val_* metric needs a validation set. */
static void check_search(cv *c, spec_experiment *e, const sn *root)
{
    int x;
    const spec_search *s = &e->search;
    if (s->method == SPEC_SEARCH_GRID && s->trials)
        err(c, node_at(root, "search.trials", &x),
            "search.trials is for method random; a grid search runs every sweep point");
    if (s->method == SPEC_SEARCH_RANDOM && !s->trials)
        err(c, node_at(root, "search", &x),
            "missing required key 'trials' in search (method random draws that many points)");
    if (!s->prune.enabled)
        return;
    if (s->prune.min_epochs >= e->training.epochs)
        err(c, node_at(root, "search.prune.min_epochs", &x),
            "search.prune.min_epochs must be less than training.epochs (%zu), got %zu",
            e->training.epochs, s->prune.min_epochs);
    if (!e->data.pipeline.validation.test.given &&
        (s->prune.metric == NN_MONITOR_VAL_LOSS || s->prune.metric == NN_MONITOR_VAL_ACCURACY))
        err(c, node_at(root, "search.prune", &x),
            "search.prune compares %s, but data.split has no validation set; add "
            "data.split.validation or set metric to loss or accuracy",
            s->prune.metric == NN_MONITOR_VAL_LOSS ? "val_loss" : "val_accuracy");
}

/* What record asks for against the data: a validation confusion matrix
 * needs a validation set (the default asks only when there is one), and the
 * grid needs 2-feature data (on by default for it). */
static void check_record(cv *c, spec_experiment *e, const sn *root)
{
    spec_record *r = &e->record;
    int written;
    if (r->confusion_validation && !e->data.pipeline.validation.test.given) {
        const sn *cn = node_at(root, "record.confusion", &written);
        const sn *at = NULL;
        for (size_t i = 0; written && i < cn->n; i++)
            if (!strcmp(cn->items[i]->text ? cn->items[i]->text : "", "validation"))
                at = cn->items[i];
        if (at)
            err(c, at, "record.confusion lists validation, but data.split has no validation set");
        r->confusion_validation = 0;
    }
    int given;
    (void)node_at(root, "record.grid.resolution", &given);
    r->grid_resolution_auto = !given;
    (void)node_at(root, "record.predictions", &given);
    r->predictions_auto = !given;
    if (r->grid == -1)
        r->grid = e->data.n_features == 2;
    else if (r->grid && e->data.n_features != 2)
        err(c, node_at(root, "record.grid", &written),
            "record.grid needs 2-feature data, but the data has %zu features",
            e->data.n_features);
}

/* ---- the experiment's name ------------------------------------------------ */

/* A name is printed, stored, matched on the command line and turned into
 * the report's directory (results/NAME/, each byte outside [A-Za-z0-9._-]
 * written as '_', see report.c): 1 to SPEC_NAME_MAX bytes of text that
 * prints as it is (nothing text_escape would change: no control, invisible
 * or ill-formed characters), not beginning or ending with a space. So the
 * directory name is never empty, ".", ".." or too long, and a name shows on
 * a terminal as written. */
static int check_name(cv *c, const sn *n)
{
    const char *s = n->text;
    size_t len = n->len;
    if (len == 0) {
        err(c, n, "name is empty; a name is 1 to %u bytes of printable text", SPEC_NAME_MAX);
        return -1;
    }
    if (len > SPEC_NAME_MAX) {
        err(c, n, "name is %zu bytes long; a name is 1 to %u bytes of printable text", len,
            SPEC_NAME_MAX);
        return -1;
    }
    if (text_plain_span(s) == len) {
        if (s[0] != ' ' && s[len - 1] != ' ')
            return 0;
        err(c, n, "name '%s' begins or ends with a space", s);
        return -1;
    }
    /* The name escaped, NULs included (a byte takes at most 4 characters). */
    char shown[4 * SPEC_NAME_MAX + 1];
    size_t k = 0;
    for (size_t i = 0; i < len;) {
        size_t seg = strlen(s + i);
        k += text_escape(shown + k, sizeof shown - k, s + i);
        i += seg;
        if (i < len) {
            memcpy(shown + k, "\\x00", 5);
            k += 4;
            i++;
        }
    }
    err(c, n, "name '%s' has characters that do not print; a name is 1 to %u bytes of printable "
        "text (no control or invisible characters)", shown, SPEC_NAME_MAX);
    return -1;
}

/* The name of a spec without one: the file's name without its directory
 * and without .yaml or .yml, made a valid name the same way the report
 * makes a directory name valid: each byte of a character that does not
 * print becomes '_', and so does a space at either end; it is cut to
 * SPEC_NAME_MAX bytes (at a character's start); "experiment" when nothing
 * is left. */
static char *default_name(const char *file)
{
    const char *b = strrchr(file, '/');
    b = b ? b + 1 : file;
    size_t n = strlen(b);
    if (n > 5 && !strcmp(b + n - 5, ".yaml"))
        n -= 5;
    else if (n > 4 && !strcmp(b + n - 4, ".yml"))
        n -= 4;
    char *s = malloc(n + 1), *w = s;
    if (!s)
        return NULL;
    memcpy(s, b, n);
    s[n] = '\0';
    for (const char *p = s; *p && (size_t)(w - s) < SPEC_NAME_MAX;) {
        size_t plain = text_plain_span(p);
        if (plain == 0) { /* one byte that does not print (or a piece of one) */
            *w++ = '_';
            p++;
            continue;
        }
        if (plain > SPEC_NAME_MAX - (size_t)(w - s)) {
            plain = SPEC_NAME_MAX - (size_t)(w - s);
            while (plain && ((unsigned char)p[plain] & 0xC0) == 0x80)
                plain--; /* not inside a character */
            if (!plain)
                break;
        }
        memmove(w, p, plain);
        w += plain;
        p += plain;
    }
    *w = '\0';
    if (!*s) {
        free(s);
        return strdup("experiment");
    }
    if (s[0] == ' ')
        s[0] = '_';
    if (w[-1] == ' ')
        w[-1] = '_';
    return s;
}

/* e->name: the name given (checked), or the file's. */
/* ---- the whole tree --------------------------------------------------------- */

int spec_experiment_from_tree(const sn *root, const char *file, const char *base_dir,
                              spec_experiment *e, uint64_t **seeds, size_t *n_seeds,
                              spec_inputs *inputs, spec_diagnostics *d)
{
    cv c = {.file = file, .base_dir = base_dir ? base_dir : "", .d = d, .seeds = seeds,
            .n_seeds = n_seeds, .inputs = inputs};
    spec_inputs *own = NULL;
    memset(e, 0, sizeof *e);
    if (seeds) {
        *seeds = NULL;
        *n_seeds = 0;
    }
    if (!inputs && !(c.inputs = own = spec_inputs_new())) {
        spec_diagnostics_add(d, file, 0, 0, "out of memory");
        return -1;
    }
    if (root->kind != SN_MAP) {
        err(&c, root, "the spec must be a mapping with data, model and training, got %s",
            sn_describe(root));
        spec_inputs_free(own);
        return -1;
    }
    check_keys(&c, root, "", "", -1);
    /* The table walks the top-level options in order, each with its
     * defaults; which sections converted cleanly decides the cross-field
     * checks below, so one mistake does not cascade. */
    int data_ok = 0, model_ok = 0, training_ok = 0;
    for (size_t i = 0; i < spec_n_options; i++) {
        const spec_option *o = &spec_options[i];
        if (o->type == OPT_SWEEP || !spec_option_is_child(o, ""))
            continue;
        int before = c.failed;
        c.failed = 0;
        conv_option(&c, root, o, "", e, -1);
        if (!strcmp(o->path, "data")) {
            data_ok = !c.failed && c.have_shape;
            if (c.have_shape)
                e->data.n_rows = c.base_rows;
        }
        else if (!strcmp(o->path, "model"))
            model_ok = !c.failed;
        else if (!strcmp(o->path, "training"))
            training_ok = !c.failed;
        c.failed = c.failed || before;
    }
    /* The name: checked when written, else the file's stem made to fit. */
    const sn *name_node = sn_map_get(root, "name", NULL);
    if (!name_node) {
        e->name = default_name(file);
        if (!e->name)
            err(&c, root, "out of memory");
    } else if (e->name) {
        check_name(&c, name_node);
    }
    /* One data.split setting drives both train_test_split calls. */
    e->data.pipeline.validation.shuffle = e->data.pipeline.test.shuffle;
    e->data.pipeline.validation.stratify = e->data.pipeline.test.stratify;

    /* Cross-field checks, each only when the sections it needs are sound. */
    if (data_ok)
        check_splits(&c, e, root);
    if (data_ok && model_ok)
        check_model(&c, e, root, training_ok);
    if (data_ok)
        check_record(&c, e, root);
    if (data_ok && training_ok)
        check_callbacks(&c, e, root);
    if (data_ok && training_ok && !c.failed)
        check_search(&c, e, root);
    if (e->record.grid == -1)
        e->record.grid = 0;

    spec_inputs_free(own);
    if (c.failed) {
        spec_experiment_free(e);
        if (seeds) {
            free(*seeds);
            *seeds = NULL;
            *n_seeds = 0;
        }
        return -1;
    }
    return 0;
}

void spec_experiment_free(spec_experiment *e)
{
    if (!e)
        return;
    free(e->name);
    free(e->description);
    free(e->data.csv_path);
    free(e->data.csv_label);
    free(e->training.class_weight);
    e->name = e->description = e->data.csv_path = e->data.csv_label = NULL;
    e->training.class_weight = NULL;
    e->training.n_class_weight = 0;
}

/* ---- the sweep block -------------------------------------------------------- */

static int is_word(const char *s, int allow_dot)
{
    if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
        return 0;
    for (s++; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || (allow_dot && *s == '.')))
            return 0;
    return 1;
}

/* key(.key|[N])* */
static int path_syntax_ok(const char *p)
{
    int need_key = 1;
    while (*p) {
        if (need_key) {
            if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || *p == '_'))
                return 0;
            while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                   (*p >= '0' && *p <= '9') || *p == '_')
                p++;
            need_key = 0;
        } else if (*p == '.') {
            p++;
            need_key = 1;
            if (!*p)
                return 0;
        } else if (*p == '[') {
            p++;
            if (!(*p >= '0' && *p <= '9'))
                return 0;
            while (*p >= '0' && *p <= '9')
                p++;
            if (*p != ']')
                return 0;
            p++;
        } else {
            return 0;
        }
    }
    return !need_key;
}

static void target_free(spec_sweep_target *t)
{
    free(t->name);
    free(t->path);
    for (size_t i = 0; i < t->n_values; i++)
        sn_free(t->values[i]);
    free(t->values);
}

static void sweep_free_entry(spec_sweep_entry *e)
{
    for (size_t j = 0; j < e->n_targets; j++)
        target_free(&e->targets[j]);
    free(e->targets);
    free(e->name);
    memset(e, 0, sizeof *e);
}

static void sweep_free(spec_sweep_entry *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sweep_free_entry(&s[i]);
    free(s);
}

static int push_value(spec_sweep_target *t, sn *v)
{
    if (!v)
        return -1;
    /* Geometric growth: a range of 10^5 values grown one slot at a time
     * copies the array 10^5 times (seconds and gigabytes under ASan, whose
     * realloc always moves). */
    if (t->n_values == t->cap_values) {
        size_t cap = t->cap_values ? t->cap_values * 2 : 8;
        sn **p = realloc(t->values, cap * sizeof *p);
        if (!p) {
            sn_free(v);
            return -1;
        }
        t->values = p;
        t->cap_values = cap;
    }
    t->values[t->n_values++] = v;
    return 0;
}

/* Counts n more sweep values against the limit; -1 (reported at at) when
 * they do not fit. */
static int take_values(cv *c, const sn *at, const char *disp, unsigned long long n)
{
    if (n > SPEC_MAX_SWEEP_VALUES - c->sweep_values) {
        err(c, at, "%s: the sweep has more than %u values in all (lists and ranges together); "
            "split the experiment", disp, SPEC_MAX_SWEEP_VALUES);
        return -1;
    }
    c->sweep_values += (size_t)n;
    return 0;
}

/* values: a list (copied) or a range, expanded here into plain scalars. */
static int parse_values(cv *c, const sn *vn, const char *disp, spec_sweep_target *t)
{
    const spec_option *vo = opt("sweep.*.values");
    if (vn->kind == SN_SEQ) {
        if (vn->n < 1 || vn->n > (size_t)vo->max) {
            err(c, vn, "%s must list between 1 and %.0f values, got %zu", disp, vo->max, vn->n);
            return -1;
        }
        if (take_values(c, vn, disp, vn->n) < 0)
            return -1;
        for (size_t i = 0; i < vn->n; i++)
            if (push_value(t, sn_copy(vn->items[i])) < 0) {
                err(c, vn, "out of memory");
                return -1;
            }
        return 0;
    }
    if (vn->kind != SN_MAP) {
        type_error(c, vn, disp, "a list of values or a range {from, to, ...}");
        return -1;
    }
    int bad = c->failed;
    c->failed = 0;
    check_keys(c, vn, "sweep.*.values", disp, -1);
    sn tmp;
    const sn *fn = member(c, vn, "from", disp, opt("sweep.*.values.from"), &tmp, NULL);
    const sn *tn = member(c, vn, "to", disp, opt("sweep.*.values.to"), &tmp, NULL);
    const sn *stn = sn_map_get(vn, "step", NULL);
    const sn *nn = sn_map_get(vn, "num", NULL);
    char dfrom[320], dto[320];
    snprintf(dfrom, sizeof dfrom, "%s.from", disp);
    snprintf(dto, sizeof dto, "%s.to", disp);
    double from = 0, to = 0;
    if (fn)
        get_real(c, fn, dfrom, opt("sweep.*.values.from"), &from);
    if (tn)
        get_real(c, tn, dto, opt("sweep.*.values.to"), &to);
    int lg = 0;
    char dlog[320];
    snprintf(dlog, sizeof dlog, "%s.log", disp);
    const sn *ln = member(c, vn, "log", disp, opt("sweep.*.values.log"), &tmp, NULL);
    if (ln)
        get_bool(c, ln, dlog, &lg);
    if (c->failed || !fn || !tn) {
        c->failed = 1;
        return -1;
    }
    c->failed = bad;
    int ints = sn_value(fn).type == SV_INT && sn_value(tn).type == SV_INT;
    char buf[64];
    if (!nn) {
        if (!ints || lg) {
            err(c, vn, "%s: a range of real numbers (or a log range) needs num, the number of values",
                disp);
            return -1;
        }
        long long a = sn_value(fn).i, b = sn_value(tn).i, step = a <= b ? 1 : -1;
        if (stn) {
            spec_option so = *opt("sweep.*.values.step");
            char ds[320];
            snprintf(ds, sizeof ds, "%s.step", disp);
            if (get_int(c, stn, ds, &so, &step) < 0)
                return -1;
            if (step == 0 || (step > 0 && a > b) || (step < 0 && a < b)) {
                err(c, stn, "%s.step %lld never goes from %lld to %lld", disp, step, a, b);
                return -1;
            }
        }
        /* count without overflow: |b - a| / |step| + 1 in unsigned */
        unsigned long long span = a <= b ? (unsigned long long)b - (unsigned long long)a
                                         : (unsigned long long)a - (unsigned long long)b;
        unsigned long long as = step > 0 ? (unsigned long long)step : 0ull - (unsigned long long)step;
        /* span / as + 1 wraps to 0 for the full long long range: compare
         * before adding one. */
        unsigned long long count = span / as;
        if (count >= (unsigned long long)vo->max) {
            err(c, vn, "%s has more than %.0f values; at most %.0f are allowed", disp, vo->max,
                vo->max);
            return -1;
        }
        count++;
        if (count > (unsigned long long)vo->max) {
            err(c, vn, "%s has %llu values; at most %.0f are allowed", disp, count, vo->max);
            return -1;
        }
        if (take_values(c, vn, disp, count) < 0)
            return -1;
        for (unsigned long long k = 0; k < count; k++) {
            long long v = a + (long long)k * step;
            snprintf(buf, sizeof buf, "%lld", v);
            if (push_value(t, sn_new_scalar(buf, strlen(buf), 0, vn->line, vn->col)) < 0) {
                err(c, vn, "out of memory");
                return -1;
            }
        }
        return 0;
    }
    if (stn) {
        err(c, stn, "%s: give either step (integers) or num (reals), not both", disp);
        return -1;
    }
    long long num;
    char dn[320];
    snprintf(dn, sizeof dn, "%s.num", disp);
    if (get_int(c, nn, dn, opt("sweep.*.values.num"), &num) < 0 ||
        take_values(c, nn, disp, (unsigned long long)num) < 0)
        return -1;
    if (lg && !(from > 0 && to > 0)) {
        err(c, vn, "%s: a log range needs from and to greater than 0", disp);
        return -1;
    }
    /* numpy.linspace: start + k * ((stop - start) / (num - 1)), the last
     * value exactly stop; numpy.geomspace: 10 ** linspace(log10 start,
     * log10 stop), both ends exactly start and stop. */
    double a = lg ? log10(from) : from, b = lg ? log10(to) : to;
    double step = num > 1 ? (b - a) / (double)(num - 1) : 0;
    for (long long k = 0; k < num; k++) {
        double x = (double)k * step + a;
        if (lg)
            x = pow(10.0, x);
        if (k == 0 && lg)
            x = from;
        if (k == num - 1 && num > 1)
            x = to;
        spec_format_real(buf, sizeof buf - 2, x);
        if (!strpbrk(buf, ".eEni"))
            strcat(buf, ".0"); /* stays a real when read back */
        if (push_value(t, sn_new_scalar(buf, strlen(buf), 0, vn->line, vn->col)) < 0) {
            err(c, vn, "out of memory");
            return -1;
        }
    }
    return 0;
}

/* The path (and value name) of a sweep target; 0, or -1 reported. */
static int parse_path(cv *c, const sn *m, const char *entry, const char *disp,
                      const char *name, spec_sweep_target *t)
{
    sn tmp;
    int ok = 1;
    const sn *pn = member(c, m, "path", disp, opt("sweep.*.zip[].path"), &tmp, NULL);
    if (!pn)
        return -1;
    char dp[256];
    snprintf(dp, sizeof dp, "%s.path", disp);
    const char *p;
    if (get_str(c, pn, dp, &p) < 0) {
        ok = 0;
    } else if (!path_syntax_ok(p)) {
        err(c, pn, "%s '%s' is not a path like model.layers[0].units", dp, p);
        ok = 0;
    } else {
        const char *top[] = {"name", "description", "seeds", "sweep", "search"};
        for (size_t i = 0; i < 5; i++) {
            size_t l = strlen(top[i]);
            if (!strncmp(p, top[i], l) && (p[l] == '\0' || p[l] == '.' || p[l] == '[')) {
                err(c, pn, "%s '%s' cannot be swept%s", dp, p,
                    i == 2 ? ": the seeds are always the innermost dimension" : "");
                ok = 0;
            }
        }
    }
    t->path_node = pn;
    if (ok) {
        t->path = strdup(p);
        if (name) {
            t->name = strdup(name);
        } else {
            /* ENTRY.LASTKEY for zip members */
            const char *lk = strrchr(p, '.');
            lk = lk ? lk + 1 : p;
            size_t n = strcspn(lk, "[");
            size_t le = strlen(entry);
            t->name = malloc(le + n + 2);
            if (t->name)
                snprintf(t->name, le + n + 2, "%s.%.*s", entry, (int)n, lk);
        }
        if (!t->path || !t->name) {
            err(c, m, "out of memory");
            ok = 0;
        }
    }
    return ok ? 0 : -1;
}

static int parse_target(cv *c, const sn *m, const char *entry, const char *disp,
                        const char *name, spec_sweep_target *t)
{
    sn tmp;
    int ok = parse_path(c, m, entry, disp, name, t) == 0;
    const sn *vn = member(c, m, "values", disp, opt("sweep.*.zip[].values"), &tmp, NULL);
    if (!vn)
        return -1;
    char dv[256];
    snprintf(dv, sizeof dv, "%s.values", disp);
    if (parse_values(c, vn, dv, t) < 0)
        ok = 0;
    return ok ? 0 : -1;
}

/* ---- random search: distributions ---------------------------------------- */

typedef enum { DIST_UNIFORM = 0, DIST_LOG_UNIFORM, DIST_INT_UNIFORM, DIST_CHOICE } dist_kind;
static const char *const dist_keys[] = {"uniform", "log_uniform", "int_uniform", "choice"};

typedef struct dist {
    size_t entry;    /* the sweep entry it was written as */
    dist_kind kind;
    double a, b;     /* uniform, log_uniform */
    long long ia, ib; /* int_uniform */
    const sn *node;  /* the distribution's list (mark; choice's items) */
} dist;

/* Which distribution key entry m has (-1: none); more than one, or one with
 * values, is an error (-2). */
static int dist_key(cv *c, const sn *m, const char *disp)
{
    int found = -1;
    for (int k = 0; k < 4; k++) {
        size_t i;
        if (!sn_map_get(m, dist_keys[k], &i))
            continue;
        if (found >= 0 || sn_map_get(m, "values", NULL) || sn_map_get(m, "zip", NULL)) {
            err(c, m->keys[i], "%s: give one of values, zip, uniform, log_uniform, int_uniform "
                "or choice", disp);
            return -2;
        }
        found = k;
    }
    return found;
}

/* What a distribution may be drawn for: the option at t's path (generic:
 * indices dropped) takes the values that distribution gives. Paths the
 * table does not know, or structured options, are left to each point's
 * full check. */
static void check_dist_target(cv *c, const dist *d, const spec_sweep_target *t, const char *disp)
{
    char gpath[256];
    size_t g = 0;
    for (const char *p = t->path; *p && g + 3 < sizeof gpath; p++) {
        gpath[g++] = *p;
        if (*p == '[')
            while (p[1] && p[1] != ']')
                p++;
    }
    gpath[g] = '\0';
    const spec_option *o = spec_option_find(gpath);
    if (!o || d->kind == DIST_CHOICE)
        return;
    int reals = d->kind != DIST_INT_UNIFORM;
    const char *takes = NULL;
    switch (o->type) {
    case OPT_REAL:
    case OPT_SIZE:
        return;
    case OPT_INT:
    case OPT_UNITS:
        if (!reals)
            return;
        takes = "an integer (use int_uniform or choice)";
        break;
    case OPT_BOOL: takes = "true or false (use choice)"; break;
    case OPT_ENUM:
    case OPT_STR: takes = "a name (use choice)"; break;
    default: return;
    }
    err(c, d->node, "%s.%s draws %s, but %s takes %s", disp, dist_keys[d->kind],
        reals ? "real numbers" : "integers", t->path, takes);
}

/* The distribution's list: two numbers a < b (reals; log_uniform a > 0), two
 * integers a <= b, or a choice of 1.. values. 0, or -1 reported. */
static int parse_dist(cv *c, const sn *v, dist_kind kind, const char *disp, dist *d)
{
    char dd[256];
    snprintf(dd, sizeof dd, "%s.%s", disp, dist_keys[kind]);
    char path[64];
    snprintf(path, sizeof path, "sweep.*.%s", dist_keys[kind]);
    const spec_option *o = opt(path);
    d->kind = kind;
    d->node = v;
    if (v->kind != SN_SEQ) {
        type_error(c, v, dd, kind == DIST_CHOICE ? "a list of values" : "a list [a, b]");
        return -1;
    }
    if (kind == DIST_CHOICE) {
        if (v->n < 1 || v->n > (size_t)o->max) {
            err(c, v, "%s must list between 1 and %.0f values, got %zu", dd, o->max, v->n);
            return -1;
        }
        return 0;
    }
    if (v->n != 2) {
        err(c, v, "%s must be a list [a, b] of two numbers, got %zu item%s", dd, v->n,
            v->n == 1 ? "" : "s");
        return -1;
    }
    spec_option any = {.path = path, .type = OPT_REAL};
    char da[300], db[300];
    snprintf(da, sizeof da, "%s[0]", dd);
    snprintf(db, sizeof db, "%s[1]", dd);
    if (kind == DIST_INT_UNIFORM) {
        any.type = OPT_INT;
        if (get_int(c, v->items[0], da, &any, &d->ia) < 0 ||
            get_int(c, v->items[1], db, &any, &d->ib) < 0)
            return -1;
        if (d->ia > d->ib) {
            err(c, v, "%s: a must be at most b, got [%lld, %lld]", dd, d->ia, d->ib);
            return -1;
        }
        return 0;
    }
    if (get_real(c, v->items[0], da, &any, &d->a) < 0 ||
        get_real(c, v->items[1], db, &any, &d->b) < 0)
        return -1;
    if (!(d->a < d->b)) {
        err(c, v, "%s: a must be less than b, got [%s, %s]", dd, v->items[0]->text,
            v->items[1]->text);
        return -1;
    }
    if (kind == DIST_LOG_UNIFORM && !(d->a > 0)) {
        err(c, v, "%s: a log-uniform range needs a > 0, got %s", dd, v->items[0]->text);
        return -1;
    }
    return 0;
}

/* Draw i of distribution d from r, as a scalar (or choice's item) marked at
 * the distribution. uniform: a + (b - a) u; log_uniform: exp(log a + (log b
 * - log a) u), both kept in [a, b] against rounding; int_uniform: a +
 * rng_below(b - a + 1); choice: item rng_below(n). */
static sn *dist_draw(const dist *d, rng_state *r)
{
    const sn *at = d->node;
    char buf[64];
    if (d->kind == DIST_CHOICE)
        return sn_copy(at->items[rng_below(r, at->n)]);
    if (d->kind == DIST_INT_UNIFORM) {
        uint64_t span = (uint64_t)d->ib - (uint64_t)d->ia;
        uint64_t k = span == UINT64_MAX ? rng_next(r) : rng_below(r, span + 1);
        snprintf(buf, sizeof buf, "%lld", (long long)((uint64_t)d->ia + k));
        return sn_new_scalar(buf, strlen(buf), 0, at->line, at->col);
    }
    double u = rng_uniform(r), x;
    if (d->kind == DIST_UNIFORM) {
        x = d->a + (d->b - d->a) * u;
    } else {
        double la = log(d->a), lb = log(d->b);
        x = exp(la + (lb - la) * u);
    }
    x = x < d->a ? d->a : x > d->b ? d->b : x;
    spec_format_real(buf, sizeof buf - 2, x);
    if (!strpbrk(buf, ".eEni"))
        strcat(buf, ".0"); /* stays a real when read back */
    return sn_new_scalar(buf, strlen(buf), 0, at->line, at->col);
}

typedef struct draw_ref {
    const char *key;
    size_t index;
} draw_ref;

static int cmp_draw(const void *a, const void *b)
{
    const draw_ref *x = a, *y = b;
    int r = strcmp(x->key, y->key);
    return r ? r : (x->index > y->index) - (x->index < y->index);
}

/* A drawn value as text, for finding repeated draws: a scalar's text, else
 * its items' (a choice may hold lists), with separators no text contains. */
static void draw_text(FILE *f, const sn *n)
{
    if (n->kind == SN_SCALAR) {
        fputs(n->text, f);
        return;
    }
    fputc(n->kind == SN_MAP ? '{' : '[', f);
    for (size_t i = 0; i < n->n; i++) {
        if (n->kind == SN_MAP) {
            fputs(n->keys[i]->text, f);
            fputc('\x01', f);
        }
        draw_text(f, n->items[i]);
        fputc('\x02', f);
    }
}

/* The random search's points: `trials` draws, draw i of every distribution
 * (in sweep order) from rng_substream(seed, RNG_PURPOSE_SEARCH, i), so a
 * draw never depends on the number of draws; a draw whose values all equal
 * an earlier draw's is dropped. The kept draws become the targets' value
 * lists (one dimension, like a zip). 0, or -1 reported / out of memory. */
static int draw_points(cv *c, const spec_search *search, const dist *ds, size_t nd,
                       spec_sweep_target *ts)
{
    size_t n = search->trials;
    sn **v = calloc(n * nd > 0 ? n * nd : 1, sizeof *v);
    char **keys = calloc(n ? n : 1, sizeof *keys);
    draw_ref *refs = calloc(n ? n : 1, sizeof *refs);
    unsigned char *dup = calloc(n ? n : 1, 1);
    int rc = -1;
    if (!v || !keys || !refs || !dup)
        goto out;
    for (size_t i = 0; i < n; i++) {
        rng_state r;
        rng_substream(&r, (uint64_t)search->seed, RNG_PURPOSE_SEARCH, (uint64_t)i);
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
            goto out;
        for (size_t j = 0; j < nd; j++) {
            sn *x = dist_draw(&ds[j], &r);
            v[i * nd + j] = x;
            if (x)
                draw_text(f, x);
            fputc('\x03', f);
        }
        if (fclose(f) != 0) {
            free(buf);
            goto out;
        }
        keys[i] = buf;
        for (size_t j = 0; j < nd; j++)
            if (!v[i * nd + j])
                goto out;
        refs[i] = (draw_ref){buf, i};
    }
    qsort(refs, n, sizeof *refs, cmp_draw);
    for (size_t k = 1; k < n; k++)
        if (!strcmp(refs[k].key, refs[k - 1].key))
            dup[refs[k].index] = 1;
    for (size_t i = 0; i < n; i++) {
        if (dup[i])
            continue;
        for (size_t j = 0; j < nd; j++) {
            if (push_value(&ts[j], v[i * nd + j]) < 0) {
                v[i * nd + j] = NULL; /* push_value freed it */
                goto out;
            }
            v[i * nd + j] = NULL;
        }
    }
    rc = 0;
out:
    if (rc)
        err(c, NULL, "out of memory");
    for (size_t i = 0; v && i < n * nd; i++)
        sn_free(v[i]);
    for (size_t i = 0; keys && i < n; i++)
        free(keys[i]);
    free(v);
    free(keys);
    free(refs);
    free(dup);
    return rc;
}

typedef struct target_ref {
    const spec_sweep_target *t;
    size_t order; /* position in the sweep block */
} target_ref;

static int cmp_ref_name(const void *a, const void *b)
{
    const target_ref *x = a, *y = b;
    int r = strcmp(x->t->name, y->t->name);
    return r ? r : (x->order > y->order) - (x->order < y->order);
}

static int cmp_ref_path(const void *a, const void *b)
{
    const target_ref *x = a, *y = b;
    int r = strcmp(x->t->path, y->t->path);
    return r ? r : (x->order > y->order) - (x->order < y->order);
}

/* Every value name and every path at most once: a repeated name is reported
 * at each later use, a repeated path (under another name) likewise, naming
 * the first target that sweeps it; in the order of the sweep block. */
static int check_sweep_unique(cv *c, const spec_sweep_entry *es, size_t ne)
{
    size_t n = 0;
    for (size_t i = 0; i < ne; i++)
        n += es[i].n_targets;
    if (n < 2)
        return 0;
    target_ref *r = malloc(n * sizeof *r);
    const spec_sweep_target **name_dup = calloc(n, sizeof *name_dup);
    const spec_sweep_target **path_dup = calloc(n, sizeof *path_dup);
    if (!r || !name_dup || !path_dup) {
        free(r);
        free(name_dup);
        free(path_dup);
        err(c, NULL, "out of memory");
        return -1;
    }
    for (size_t i = 0, k = 0; i < ne; i++)
        for (size_t j = 0; j < es[i].n_targets; j++, k++) {
            r[k].t = &es[i].targets[j];
            r[k].order = k;
        }
    qsort(r, n, sizeof *r, cmp_ref_name);
    for (size_t k = 1; k < n; k++)
        if (!strcmp(r[k].t->name, r[k - 1].t->name))
            name_dup[r[k].order] = r[k].t;
    qsort(r, n, sizeof *r, cmp_ref_path);
    for (size_t k = 1, first = 0; k < n; k++) {
        if (strcmp(r[k].t->path, r[first].t->path) != 0) {
            first = k;
            continue;
        }
        if (strcmp(r[k].t->name, r[first].t->name) != 0)
            path_dup[r[k].order] = r[first].t;
    }
    int bad = 0;
    for (size_t i = 0, k = 0; i < ne; i++)
        for (size_t j = 0; j < es[i].n_targets; j++, k++) {
            const spec_sweep_target *a = &es[i].targets[j];
            if (name_dup[k]) {
                err(c, a->path_node, "sweep value name '%s' is used twice", a->name);
                bad = 1;
            } else if (path_dup[k]) {
                err(c, a->path_node, "path '%s' is swept twice (also by '%s')", a->path,
                    path_dup[k]->name);
                bad = 1;
            }
        }
    free(r);
    free(name_dup);
    free(path_dup);
    return bad ? -1 : 0;
}

/* The distribution entries ds[0..nd) of es[0..*ne) as one dimension: the
 * random search's draws (draw_points), at the place of the first of them;
 * the other distribution entries are removed. search NULL (the base spec has
 * errors): nothing is drawn and the distribution entries are removed. */
static int sweep_draw(cv *c, const spec_search *search, spec_sweep_entry *es, size_t *ne,
                      const dist *ds, size_t nd)
{
    int ok = 1;
    spec_sweep_entry all;
    memset(&all, 0, sizeof all);
    if (search && search->method != SPEC_SEARCH_RANDOM) {
        err(c, ds[0].node, "sweep.%s.%s: a distribution needs search: {method: random, trials: N}",
            es[ds[0].entry].name, dist_keys[ds[0].kind]);
        ok = 0;
    }
    for (size_t j = 0; ok && search && j < nd; j++) {
        char disp[160];
        snprintf(disp, sizeof disp, "sweep.%s", es[ds[j].entry].name);
        if (take_values(c, ds[j].node, disp, search->trials) < 0)
            ok = 0;
    }
    if (ok && search) {
        all.name = strdup("search");
        all.targets = calloc(nd, sizeof *all.targets);
        if (!all.name || !all.targets) {
            err(c, NULL, "out of memory");
            ok = 0;
        }
    }
    if (ok && search) {
        for (size_t j = 0; j < nd; j++) {
            all.targets[j] = es[ds[j].entry].targets[0];
            memset(&es[ds[j].entry].targets[0], 0, sizeof all.targets[j]);
        }
        all.n_targets = nd;
        if (draw_points(c, search, ds, nd, all.targets) < 0)
            ok = 0;
        all.n_values = all.targets[0].n_values;
    }
    /* Rebuild the entry list: the draws where the first distribution was. */
    size_t w = 0;
    for (size_t i = 0, j = 0; i < *ne; i++) {
        int is_dist = j < nd && ds[j].entry == i;
        if (!is_dist) {
            es[w++] = es[i];
            continue;
        }
        int first = j == 0;
        j++;
        sweep_free_entry(&es[i]);
        if (first && ok && search)
            es[w++] = all;
    }
    if (!(ok && search))
        sweep_free_entry(&all);
    *ne = w;
    return ok ? 0 : -1;
}

static int parse_sweep(cv *c, const sn *sw, const spec_search *search, spec_sweep_entry **out,
                       size_t *n_out, size_t *n_dist)
{
    *out = NULL;
    *n_out = 0;
    *n_dist = 0;
    if (sw->kind != SN_MAP) {
        type_error(c, sw, "sweep", "a mapping of sweep names to {path, values} or {zip: [...]}");
        return -1;
    }
    spec_sweep_entry *es = calloc(sw->n ? sw->n : 1, sizeof *es);
    dist *ds = calloc(sw->n ? sw->n : 1, sizeof *ds);
    size_t nd = 0;
    if (!es || !ds) {
        free(es);
        free(ds);
        err(c, sw, "out of memory");
        return -1;
    }
    int ok = 1;
    size_t ne = 0;
    for (size_t i = 0; i < sw->n; i++) {
        const char *name = sw->keys[i]->text;
        const sn *m = sw->items[i];
        spec_sweep_entry *e = &es[ne++];
        e->name = strdup(name);
        char disp[160];
        snprintf(disp, sizeof disp, "sweep.%s", name);
        if (!is_word(name, 0)) {
            err(c, sw->keys[i],
                "sweep name '%s' must be a word of letters, digits and _ (it names a database "
                "column)",
                name);
            ok = 0;
            continue;
        }
        if (m->kind != SN_MAP) {
            type_error(c, m, disp, "a mapping {path, values} or {zip: [...]}");
            ok = 0;
            continue;
        }
        check_keys(c, m, "sweep.*", disp, -1);
        const sn *zip = sn_map_get(m, "zip", NULL);
        if (zip && (sn_map_get(m, "path", NULL) || sn_map_get(m, "values", NULL))) {
            err(c, m, "%s: give either path and values, or zip, not both", disp);
            ok = 0;
            continue;
        }
        if (!zip) {
            e->targets = calloc(1, sizeof *e->targets);
            if (!e->targets) {
                err(c, m, "out of memory");
                ok = 0;
                continue;
            }
            e->n_targets = 1;
            int dk = dist_key(c, m, disp);
            if (dk == -2) {
                ok = 0;
                continue;
            }
            if (dk >= 0) {
                ds[nd].entry = ne - 1;
                size_t d0 = c->d->n;
                if (parse_path(c, m, name, disp, name, &e->targets[0]) < 0 ||
                    parse_dist(c, sn_map_get(m, dist_keys[dk], NULL), (dist_kind)dk, disp,
                               &ds[nd]) < 0)
                    ok = 0;
                else
                    check_dist_target(c, &ds[nd], &e->targets[0], disp);
                if (c->d->n > d0)
                    ok = 0;
                nd++;
                continue;
            }
            if (parse_target(c, m, name, disp, name, &e->targets[0]) < 0)
                ok = 0;
            e->n_values = e->targets[0].n_values;
            continue;
        }
        const spec_option *zo = opt("sweep.*.zip");
        char dz[192];
        snprintf(dz, sizeof dz, "%s.zip", disp);
        if (zip->kind != SN_SEQ || zip->n < 1 || zip->n > (size_t)zo->max) {
            if (zip->kind != SN_SEQ)
                type_error(c, zip, dz, "a list of {path, values}");
            else
                err(c, zip, "%s must list between 1 and %.0f paths, got %zu", dz, zo->max, zip->n);
            ok = 0;
            continue;
        }
        e->targets = calloc(zip->n, sizeof *e->targets);
        if (!e->targets) {
            err(c, m, "out of memory");
            ok = 0;
            continue;
        }
        e->n_targets = zip->n;
        for (size_t j = 0; j < zip->n; j++) {
            const sn *z = zip->items[j];
            char dj[224];
            snprintf(dj, sizeof dj, "%s[%zu]", dz, j);
            if (z->kind != SN_MAP) {
                type_error(c, z, dj, "a mapping {path, values}");
                ok = 0;
                continue;
            }
            check_keys(c, z, "sweep.*.zip[]", dj, -1);
            const sn *zn = sn_map_get(z, "name", NULL);
            const char *zname = NULL;
            char dname[256];
            snprintf(dname, sizeof dname, "%s.name", dj);
            if (zn && get_str(c, zn, dname, &zname) == 0 && !is_word(zname, 1)) {
                err(c, zn, "%s '%s' must be a word of letters, digits, _ and .", dname, zname);
                zname = NULL;
                ok = 0;
            }
            if (parse_target(c, z, name, dj, zname, &e->targets[j]) < 0) {
                ok = 0;
                continue;
            }
            if (j > 0 && e->targets[j].n_values != e->targets[0].n_values &&
                e->targets[0].n_values) {
                const sn *vn = sn_map_get(z, "values", NULL);
                err(c, vn,
                    "%s.values has %zu values but %s[0].values has %zu; zipped lists must have "
                    "the same length",
                    dj, e->targets[j].n_values, dz, e->targets[0].n_values);
                ok = 0;
            }
        }
        e->n_values = e->targets[0].n_values;
    }
    /* Value names are database columns and paths are set once per point:
     * both must be unique across the whole sweep. Checked by sorting, as a
     * file may hold thousands of sweep entries. */
    if (ok && check_sweep_unique(c, es, ne) < 0)
        ok = 0;
    *n_dist = nd;
    if (nd && sweep_draw(c, ok ? search : NULL, es, &ne, ds, nd) < 0)
        ok = 0;
    free(ds);
    *out = es;
    *n_out = ne;
    return ok ? 0 : -1;
}

/* ---- documents -------------------------------------------------------------- */

void spec_document_free(spec_document *doc)
{
    if (!doc)
        return;
    free(doc->text);
    free(doc->file);
    free(doc->base_dir);
    sn_free(doc->root);
    spec_experiment_free(&doc->base);
    free(doc->seeds);
    sweep_free(doc->sweep, doc->n_sweep);
    spec_inputs_free(doc->inputs);
    free(doc);
}

/* ---- sweep targets -------------------------------------------------------- */

/* Writes a copy of value at path in root (used by sweep.c for every point,
 * and at load for the path check). Absent keys that the option table
 * knows are created, and an optimizer given as a bare name is first turned
 * into {name: NAME} so its parameters can be swept. */
int spec_sweep_apply(const char *file, spec_diagnostics *d, sn *root, const spec_sweep_target *t,
                     const sn *value)
{
    const char *p = t->path;
    char gpath[256] = "", disp[256] = "";
    sn **slot = &root;
    while (*p) {
        sn *cur = *slot;
        if (*p == '[') {
            char *end;
            unsigned long long idx = strtoull(p + 1, &end, 10);
            p = end + 1;
            if (cur->kind != SN_SEQ) {
                spec_diagnostics_add(d, file, t->path_node->line, t->path_node->col,
                                     "sweep path '%s' does not exist: %s is %s, not a list",
                                     t->path, disp, sn_describe(cur));
                return -1;
            }
            if (idx >= cur->n) {
                spec_diagnostics_add(d, file, t->path_node->line, t->path_node->col,
                                     "sweep path '%s' does not exist: %s has %zu item%s", t->path,
                                     disp, cur->n, cur->n == 1 ? "" : "s");
                return -1;
            }
            size_t l = strlen(disp);
            snprintf(disp + l, sizeof disp - l, "[%llu]", idx);
            l = strlen(gpath);
            snprintf(gpath + l, sizeof gpath - l, "[]");
            slot = &cur->items[idx];
            continue;
        }
        if (*p == '.')
            p++;
        size_t kl = strcspn(p, ".[");
        char key[128];
        snprintf(key, sizeof key, "%.*s", (int)kl, p);
        p += kl;
        char child[256];
        if (snprintf(child, sizeof child, "%s%s%s", gpath, *gpath ? "." : "", key) >=
            (int)sizeof child) {
            spec_diagnostics_add(d, file, t->path_node->line, t->path_node->col,
                                 "sweep path '%s' does not exist: it is too long", t->path);
            return -1;
        }
        const spec_option *parent = *gpath ? spec_option_find(gpath) : NULL;
        if (cur->kind == SN_SCALAR && parent && parent->type == OPT_NAME_MAP) {
            sn *m = sn_new(SN_MAP, cur->line, cur->col);
            sn *k = sn_new_scalar("name", 4, 0, cur->line, cur->col);
            if (!m || !k || sn_append(m, k, cur) < 0) {
                sn_free(m);
                sn_free(k);
                return -1;
            }
            *slot = m;
            cur = m;
        }
        if (cur->kind != SN_MAP) {
            spec_diagnostics_add(d, file, t->path_node->line, t->path_node->col,
                                 "sweep path '%s' does not exist: %s is %s, not a mapping",
                                 t->path, *disp ? disp : "the spec", sn_describe(cur));
            return -1;
        }
        size_t i;
        if (sn_map_get(cur, key, &i)) {
            slot = &cur->items[i];
        } else {
            const spec_option *o = spec_option_find(child);
            if (!o) {
                const char *names[32];
                size_t nn = spec_option_children(gpath, names, 32);
                const char *sug = spec_suggest(key, names, nn);
                char hint[160] = "";
                if (sug)
                    snprintf(hint, sizeof hint, "; did you mean '%s'?", sug);
                spec_diagnostics_add(d, file, t->path_node->line, t->path_node->col,
                                     "sweep path '%s' does not exist: no key '%s' in %s%s",
                                     t->path, key, *disp ? disp : "the spec", hint);
                return -1;
            }
            /* A key the spec may have but does not: create it (an optimizer
             * as {name: DEFAULT} so its parameters can be set). */
            sn *k = sn_new_scalar(key, strlen(key), 0, value->line, value->col);
            sn *v = sn_new(SN_MAP, value->line, value->col);
            if (v && o->type == OPT_NAME_MAP && o->def) {
                sn *nk = sn_new_scalar("name", 4, 0, value->line, value->col);
                sn *nv = sn_new_scalar(o->def, strlen(o->def), 0, value->line, value->col);
                if (!nk || !nv || sn_append(v, nk, nv) < 0) {
                    sn_free(nk);
                    sn_free(nv);
                    sn_free(k);
                    sn_free(v);
                    return -1;
                }
            }
            if (!k || !v || sn_append(cur, k, v) < 0) {
                sn_free(k);
                sn_free(v);
                return -1;
            }
            slot = &cur->items[cur->n - 1];
        }
        size_t l = strlen(disp);
        snprintf(disp + l, sizeof disp - l, "%s%s", l ? "." : "", key);
        snprintf(gpath, sizeof gpath, "%s", child);
    }
    sn *copy = sn_copy(value);
    if (!copy)
        return -1;
    sn_free(*slot);
    *slot = copy;
    return 0;
}

/* One swept scalar against its option: the same getters (and so the same
 * messages) as the typed conversion. Options whose values are mappings or
 * lists, or whose meaning depends on other keys (source, optimizer), are
 * left to the full check of each point. */
static void check_swept_value(cv *c, const sn *v, const char *disp, const spec_option *o)
{
    char where[256];
    parent_disp(where, sizeof where, disp);
    conv_leaf(c, o, v, disp, where, NULL);
}

/* The sweep points are only built from a valid base spec (sweep_plan_build
 * needs the document), so when the base has errors the sweep's own problems
 * would only show on the next run. Then check here, in the same pass: each
 * target's path against the base tree (applied in order to one copy, as a
 * point applies them) and each scalar value against the option table. With
 * a valid base this is not done: sweep_plan_build checks every point in full
 * and would report the same problems a second time. */
static void precheck_sweep(cv *c, const sn *root, const spec_sweep_entry *es, size_t ne)
{
    static const char *const skip[] = {"seeds", "sweep", "search", "name", "description"};
    size_t before = c->d->n;
    sn *copy;
    /* Without the parts no path may reach: copying a large seed list or
     * sweep block would cost time for nothing. */
    if (root->kind == SN_MAP) {
        copy = sn_new(SN_MAP, root->line, root->col);
        for (size_t i = 0; copy && i < root->n; i++) {
            size_t k = 0;
            while (k < sizeof skip / sizeof skip[0] && strcmp(root->keys[i]->text, skip[k]))
                k++;
            if (k < sizeof skip / sizeof skip[0])
                continue;
            sn *key = sn_copy(root->keys[i]), *val = sn_copy(root->items[i]);
            if (!key || !val || sn_append(copy, key, val) < 0) {
                sn_free(key);
                sn_free(val);
                sn_free(copy);
                copy = NULL;
            }
        }
    } else {
        copy = sn_copy(root);
    }
    if (!copy) {
        err(c, NULL, "out of memory");
        return;
    }
    for (size_t e = 0; e < ne; e++)
        for (size_t j = 0; j < es[e].n_targets; j++) {
            const spec_sweep_target *t = &es[e].targets[j];
            /* A bounded report: a long list of wrong values is one problem. */
            if (c->d->n - before >= 50 || t->n_values == 0)
                goto done;
            size_t n0 = c->d->n;
            if (spec_sweep_apply(c->file, c->d, copy, t, t->values[0]) < 0) {
                if (c->d->n == n0)
                    err(c, t->path_node, "out of memory");
                c->failed = 1;
                continue;
            }
            char gpath[256];
            size_t g = 0;
            for (const char *p = t->path; *p && g + 3 < sizeof gpath; p++) {
                gpath[g++] = *p;
                if (*p == '[') {
                    while (p[1] && p[1] != ']')
                        p++;
                }
            }
            gpath[g] = '\0';
            const spec_option *o = spec_option_find(gpath);
            for (size_t k = 0; o && k < t->n_values && c->d->n - before < 50; k++)
                check_swept_value(c, t->values[k], t->path, o);
        }
done:
    sn_free(copy);
}

spec_document *spec_document_parse(const char *text, size_t len, const char *file,
                                   const char *base_dir, spec_diagnostics *diags)
{
    size_t before = diags->n;
    spec_document *doc = calloc(1, sizeof *doc);
    if (!doc) {
        spec_diagnostics_add(diags, file, 0, 0, "out of memory");
        return NULL;
    }
    doc->text = malloc(len + 1);
    doc->file = strdup(file);
    doc->base_dir = strdup(base_dir ? base_dir : "");
    doc->inputs = spec_inputs_new();
    if (!doc->text || !doc->file || !doc->base_dir || !doc->inputs) {
        spec_diagnostics_add(diags, file, 0, 0, "out of memory");
        goto fail;
    }
    memcpy(doc->text, text, len);
    doc->text[len] = '\0';
    doc->len = len;
    if (len > SPEC_MAX_FILE_BYTES) {
        spec_diagnostics_add(diags, file, 0, 0,
                             "the spec is %zu bytes; specs are limited to %u bytes", len,
                             SPEC_MAX_FILE_BYTES);
        goto fail;
    }
    doc->root = spec_tree_parse(text, len, file, diags);
    if (!doc->root)
        goto fail;
    cv c = {.file = file, .base_dir = doc->base_dir, .d = diags, .inputs = doc->inputs};
    if (spec_experiment_from_tree(doc->root, file, doc->base_dir, &doc->base, &doc->seeds,
                                  &doc->n_seeds, doc->inputs, diags) < 0)
        c.failed = 1;
    const sn *sw = doc->root->kind == SN_MAP ? sn_map_get(doc->root, "sweep", NULL) : NULL;
    int base_failed = c.failed || diags->n > before;
    size_t n_dist = 0;
    if (sw && parse_sweep(&c, sw, base_failed ? NULL : &doc->base.search, &doc->sweep,
                          &doc->n_sweep, &n_dist) < 0)
        c.failed = 1;
    else if (base_failed && doc->n_sweep)
        precheck_sweep(&c, doc->root, doc->sweep, doc->n_sweep);
    if (!base_failed && !c.failed && doc->base.search.method == SPEC_SEARCH_RANDOM && !n_dist) {
        int x;
        err(&c, node_at(doc->root, "search.method", &x),
            "search.method random needs a distribution in sweep, e.g. {path: "
            "training.optimizer.learning_rate, log_uniform: [0.0001, 0.1]}");
    }
    if (c.failed || diags->n > before)
        goto fail;
    return doc;
fail:
    if (diags->n == before)
        spec_diagnostics_add(diags, file, 0, 0, "invalid spec");
    spec_document_free(doc);
    return NULL;
}

spec_document *spec_document_load(const char *path, spec_diagnostics *diags)
{
    /* fopen succeeds on a directory and only the read fails: say so first. */
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        spec_diagnostics_add(diags, path, 0, 0, "is a directory, expected a YAML spec file");
        return NULL;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        spec_diagnostics_add(diags, path, 0, 0, "cannot open the spec: %s", strerror(errno));
        return NULL;
    }
    /* Read at most one byte past the limit: enough to know it is too big. */
    size_t cap = SPEC_MAX_FILE_BYTES + 1;
    char *buf = malloc(cap);
    if (!buf) {
        fclose(f);
        spec_diagnostics_add(diags, path, 0, 0, "out of memory");
        return NULL;
    }
    errno = 0;
    size_t len = fread(buf, 1, cap, f);
    int rerr = ferror(f), rerrno = errno;
    fclose(f);
    if (rerr) {
        free(buf);
        spec_diagnostics_add(diags, path, 0, 0, "cannot read the spec: %s",
                             rerrno ? strerror(rerrno) : "read error");
        return NULL;
    }
    if (len > SPEC_MAX_FILE_BYTES) {
        free(buf);
        spec_diagnostics_add(diags, path, 0, 0,
                             "the spec is larger than %u bytes; refusing to read it",
                             SPEC_MAX_FILE_BYTES);
        return NULL;
    }
    const char *slash = strrchr(path, '/');
    char *dir = NULL;
    if (slash) {
        size_t n = (size_t)(slash - path);
        dir = malloc(n + 2);
        if (dir) {
            if (n == 0) /* "/x.yaml" */
                n = 1;
            memcpy(dir, path, n);
            dir[n] = '\0';
        }
    }
    spec_document *doc = spec_document_parse(buf, len, path, dir ? dir : "", diags);
    free(dir);
    free(buf);
    return doc;
}

const char *spec_document_text(const spec_document *doc) { return doc->text; }
const char *spec_document_file(const spec_document *doc) { return doc->file; }
const spec_experiment *spec_document_base(const spec_document *doc) { return &doc->base; }
const sn *spec_document_tree(const spec_document *doc) { return doc->root; }
const char *spec_document_base_dir(const spec_document *doc) { return doc->base_dir; }
spec_inputs *spec_document_inputs(const spec_document *doc) { return doc->inputs; }

size_t spec_document_seeds(const spec_document *doc, const uint64_t **seeds)
{
    *seeds = doc->seeds;
    return doc->n_seeds;
}

size_t spec_document_sweep(const spec_document *doc, const spec_sweep_entry **entries)
{
    *entries = doc->sweep;
    return doc->n_sweep;
}
