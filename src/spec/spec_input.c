/* spec_input: the data sources of a document, each read once.
 *
 * A spec names its dataset in data.source, and every sweep point is
 * converted again from its own copy of the tree, so without a cache a CSV
 * source would be read (and hashed, and parsed) once for the document and
 * once more per point, then again by whoever trains on it. The cache keeps
 * one entry per distinct (resolved path, label column): the file is opened
 * and read once, in pieces, each piece hashed and parsed as it arrives
 * (data_source_csv_file), so the trial key's csv_sha256 names exactly the
 * bytes the data came from and the whole text is never held in memory. A failure is kept too, so
 * every point that names a bad file reports the same problem without
 * opening it again.
 *
 * Inputs are reference counted: the cache holds one reference, and each
 * plan built from the document holds one per input its points use
 * (sweep.c), so a plan can outlive its document without copying data.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "spec_internal.h"

typedef struct input_entry {
    spec_source kind;
    char *path;               /* CSV: the key ... */
    char *label;              /* ... with the label column (NULL = last) */
    spec_input *in;           /* NULL when the source cannot be read */
    spec_input_problem problem;
} input_entry;

struct spec_inputs {
    size_t n, cap;
    input_entry *items;
};

spec_inputs *spec_inputs_new(void)
{
    return calloc(1, sizeof(spec_inputs));
}

void spec_input_hold(spec_input *in)
{
    in->refs++;
}

void spec_input_release(spec_input *in)
{
    if (!in || --in->refs > 0)
        return;
    free(in->path);
    free(in->label);
    data_set_free(&in->data);
    free(in);
}

void spec_inputs_free(spec_inputs *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->items[i].path);
        free(c->items[i].label);
        spec_input_release(c->items[i].in);
    }
    free(c->items);
    free(c);
}

static int same_text(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

static input_entry *entry_find(const spec_inputs *c, spec_source kind, const char *path,
                               const char *label)
{
    for (size_t i = 0; i < c->n; i++) {
        input_entry *x = &c->items[i];
        if (x->kind == kind &&
            (kind != SPEC_SOURCE_CSV || (same_text(x->path, path) && same_text(x->label, label))))
            return x;
    }
    return NULL;
}

static char *dup_or_null(const char *s, int *oom)
{
    char *d = s ? strdup(s) : NULL;
    if (s && !d)
        *oom = 1;
    return d;
}

/* A new entry for the key, its input allocated (with the cache's one
 * reference) but not filled; NULL when out of memory. */
static input_entry *entry_add(spec_inputs *c, spec_source kind, const char *path,
                              const char *label)
{
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 4;
        input_entry *ni = realloc(c->items, nc * sizeof *ni);
        if (!ni)
            return NULL;
        c->items = ni;
        c->cap = nc;
    }
    input_entry *x = &c->items[c->n];
    memset(x, 0, sizeof *x);
    int oom = 0;
    x->kind = kind;
    x->path = dup_or_null(path, &oom);
    x->label = dup_or_null(label, &oom);
    x->in = calloc(1, sizeof *x->in);
    if (x->in) {
        x->in->kind = kind;
        x->in->refs = 1;
        x->in->path = dup_or_null(path, &oom);
        x->in->label = dup_or_null(label, &oom);
    }
    if (oom || !x->in) {
        free(x->path);
        free(x->label);
        spec_input_release(x->in);
        return NULL;
    }
    c->n++;
    return x;
}

/* Reads, hashes and parses the CSV of x; on failure keeps the problem and
 * drops the input. */
static void entry_read_csv(input_entry *x)
{
    spec_input_problem *pb = &x->problem;
    data_error de;
    memset(&de, 0, sizeof de);
    /* Not a FIFO or device: fopen would block on one (a FIFO until a
     * writer comes). data_source_csv_file checks the open file again. */
    struct stat st;
    FILE *f = NULL;
    int rc;
    if (stat(x->path, &st) == 0 && !S_ISREG(st.st_mode)) {
        snprintf(pb->reason, sizeof pb->reason, "%s",
                 S_ISDIR(st.st_mode) ? "is a directory, expected a CSV file"
                                     : "not a regular file");
        goto fail;
    }
    if (!(f = fopen(x->path, "rb"))) {
        snprintf(pb->reason, sizeof pb->reason, "%s", strerror(errno));
        goto fail;
    }
    rc = data_source_csv_file(f, x->path, x->label, 0, &x->in->data, x->in->sha256, &de);
    fclose(f);
    if (rc < 0)
        goto inside;
    x->in->loaded = 1;
    return;
inside:
    pb->inside = 1;
    pb->at = de;
fail:
    spec_input_release(x->in);
    x->in = NULL;
}

const spec_input *spec_inputs_csv(spec_inputs *c, const char *path, const char *label,
                                  const spec_input_problem **problem)
{
    *problem = NULL;
    input_entry *x = entry_find(c, SPEC_SOURCE_CSV, path, label);
    if (!x) {
        if (!(x = entry_add(c, SPEC_SOURCE_CSV, path, label)))
            return NULL;
        entry_read_csv(x);
    }
    if (!x->in)
        *problem = &x->problem;
    return x->in;
}

const spec_input *spec_inputs_builtin(spec_inputs *c, spec_source kind)
{
    input_entry *x = entry_find(c, kind, NULL, NULL);
    if (!x)
        x = entry_add(c, kind, NULL, NULL);
    return x ? x->in : NULL;
}

spec_input *spec_inputs_find(const spec_inputs *c, const spec_experiment *e)
{
    input_entry *x = entry_find(c, e->data.source, e->data.csv_path, e->data.csv_label);
    return x ? x->in : NULL;
}

int spec_input_load(spec_input *in, data_error *err)
{
    if (in->loaded)
        return 0;
    int rc;
    memset(err, 0, sizeof *err);
    switch (in->kind) {
    case SPEC_SOURCE_XOR:
        rc = data_source_xor(&in->data);
        break;
    case SPEC_SOURCE_DIGITS:
        rc = data_source_digits(&in->data, err);
        break;
    default: /* a CSV input exists only once read */
        snprintf(err->message, sizeof err->message, "the CSV input was not read");
        return -1;
    }
    if (rc) {
        data_set_free(&in->data);
        if (!err->message[0])
            snprintf(err->message, sizeof err->message, "out of memory");
        return -1;
    }
    in->loaded = 1;
    return 0;
}
