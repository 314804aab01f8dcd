/* run_pipelines: the data splits of a trial loop, each distinct (source,
 * pipeline, data seed) built once and shared read-only by the trials that
 * use it. See run_internal.h.
 *
 * A slot per distinct pipeline among the loop's pending trials. The data
 * seed is part of the key only when the pipeline uses it (noise, or a
 * shuffled split without random_state): with a fixed data seed or
 * random_state, every trial of a point, whatever its seed, shares one
 * slot. A slot is built by the first worker that needs it (the others
 * that need it meanwhile wait on the slot's lock), counts the pending
 * trials that still need it and is freed when the last of them is done.
 * Building is deterministic, so which worker builds, and how often, never
 * changes a bit of a result.
 *
 * Memory: at most max_resident copies are kept at once, or more while
 * they hold at most keep_bytes in all (each counted as plan_memory_pipeline
 * says); a worker that must build one more beyond both bounds evicts the
 * idle copy whose next trial comes last in the loop's order (it is rebuilt
 * when that trial comes). When the loop may
 * take the plan's datasets over (owner), a source read by exactly one
 * slot is that slot's memory (data_pipeline_build_in_place: one copy of
 * the rows in all), and any other source is freed once every trial that
 * reads it has its splits.
 */
#include "run_internal.h"

#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "plan_memory.h"

enum { SLOT_EMPTY = 0, SLOT_BUILDING, SLOT_READY, SLOT_FAILED };

typedef struct pipe_slot {
    size_t source;    /* index into the plan's sources */
    size_t point;     /* the first point with this pipeline */
    uint64_t data_seed;
    int state;        /* SLOT_* */
    int in_place;     /* built in the source's own memory: never evicted */
    size_t refs;      /* pending trials that have not released it */
    size_t in_use;    /* trials running on it now */
    size_t acquired;  /* trials that got it so far */
    size_t first, count; /* its trials' positions: order[first .. first + count) */
    uint64_t bytes;      /* what a copy holds (plan_memory_pipeline) */
    size_t prev, next;   /* the list of resident copies (SIZE_MAX: none) */
    data_splits *sp;
    char *error;      /* SLOT_FAILED: why (NULL: out of memory) */
    omp_lock_t build; /* held by the worker building it */
} pipe_slot;

typedef struct pipe_source {
    data_set own;         /* taken from the plan (owner given) */
    const data_set *data; /* what builds read; NULL once freed or consumed */
    int taken;
    size_t n_slots;       /* distinct pipelines that read it */
    size_t need;          /* pending trials that have not got their splits yet */
    size_t n_classes;
} pipe_source;

struct run_pipelines {
    const sweep_plan *p;
    size_t n_pending;
    size_t *slot_of; /* per position in pending */
    size_t *order;   /* positions, grouped by slot, increasing within a slot */
    size_t n_slots;
    pipe_slot *slots;
    size_t n_sources;
    pipe_source *src;
    size_t max_resident, resident, resident_head;
    uint64_t keep_bytes, resident_bytes;
    run_pipelines_stats st;
    omp_lock_t lock;
};

/* ---- the table ------------------------------------------------------------ */

void run_pipelines_free(run_pipelines *c)
{
    if (!c)
        return;
    for (size_t i = 0; c->slots && i < c->n_slots; i++) {
        pipe_slot *s = &c->slots[i];
        if (s->sp) {
            data_splits_free(s->sp);
            free(s->sp);
        }
        free(s->error);
        omp_destroy_lock(&s->build);
    }
    for (size_t i = 0; i < c->n_sources; i++)
        data_set_free(&c->src[i].own);
    if (c->slots)
        omp_destroy_lock(&c->lock);
    free(c->slots);
    free(c->src);
    free(c->slot_of);
    free(c->order);
    free(c);
}

run_pipelines *run_pipelines_new(const sweep_plan *p, sweep_plan *owner, const size_t *pending,
                                 size_t n_pending, size_t max_resident, uint64_t keep_bytes)
{
    run_pipelines *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->p = p;
    c->n_pending = n_pending;
    c->max_resident = max_resident ? max_resident : 1;
    c->keep_bytes = keep_bytes;
    c->resident_head = SIZE_MAX;
    c->n_sources = p->n_sources;
    c->slot_of = calloc(n_pending ? n_pending : 1, sizeof *c->slot_of);
    c->order = calloc(n_pending ? n_pending : 1, sizeof *c->order);
    c->src = calloc(p->n_sources ? p->n_sources : 1, sizeof *c->src);
    if (!c->slot_of || !c->order || !c->src ||
        sweep_plan_pipelines(p, pending, n_pending, c->slot_of, &c->n_slots))
        goto fail;
    c->slots = calloc(c->n_slots ? c->n_slots : 1, sizeof *c->slots);
    if (!c->slots)
        goto fail;
    omp_init_lock(&c->lock);
    for (size_t i = 0; i < c->n_slots; i++)
        omp_init_lock(&c->slots[i].build);
    /* Each slot's positions, in increasing order (a counting sort). */
    for (size_t i = 0; i < n_pending; i++)
        c->slots[c->slot_of[i]].count++;
    for (size_t i = 0, first = 0; i < c->n_slots; i++) {
        c->slots[i].first = first;
        first += c->slots[i].count;
        c->slots[i].count = 0;
    }
    for (size_t i = 0; i < n_pending; i++) {
        pipe_slot *s = &c->slots[c->slot_of[i]];
        const sweep_trial *tr = &p->trials[pending[i]];
        if (s->count == 0) {
            s->point = tr->point;
            s->source = p->points[tr->point].source;
            s->data_seed = sweep_trial_data_seed(p, tr);
            s->prev = s->next = SIZE_MAX;
            c->src[s->source].n_slots++;
        }
        c->order[s->first + s->count++] = i;
        s->refs++;
        c->src[s->source].need++;
    }
    /* The sources, and which slots are built in their memory. */
    for (size_t i = 0; i < c->n_slots; i++) {
        pipe_source *ps = &c->src[c->slots[i].source];
        if (ps->data)
            continue;
        const data_set *d = sweep_plan_dataset(p, c->slots[i].point);
        if (!d)
            goto fail; /* not loaded (run_plan_load_data) */
        ps->n_classes = d->n_classes;
        ps->data = d;
        if (owner) {
            if (sweep_plan_source_take(owner, c->slots[i].source, &ps->own))
                goto fail;
            ps->data = &ps->own;
            ps->taken = 1;
        }
    }
    for (size_t i = 0; i < c->n_slots; i++) {
        pipe_slot *s = &c->slots[i];
        const pipe_source *ps = &c->src[s->source];
        s->in_place = ps->taken && ps->n_slots == 1 &&
                      p->points[s->point].spec.data.pipeline.repeat == 1;
        uint64_t held;
        (void)plan_memory_pipeline(&p->points[s->point].spec, 0, &held);
        s->bytes = held;
    }
    c->st.slots = c->n_slots;
    return c;
fail:
    /* Sources taken so far are freed with it: the run cannot go on. */
    run_pipelines_free(c);
    return NULL;
}

/* ---- building and evicting (the caller holds c->lock) ------------------- */

static void resident_add(run_pipelines *c, size_t i)
{
    pipe_slot *s = &c->slots[i];
    s->prev = SIZE_MAX;
    s->next = c->resident_head;
    if (s->next != SIZE_MAX)
        c->slots[s->next].prev = i;
    c->resident_head = i;
    c->resident_bytes += s->bytes;
    if (++c->resident > c->st.most_resident)
        c->st.most_resident = c->resident;
}

static void resident_remove(run_pipelines *c, size_t i)
{
    pipe_slot *s = &c->slots[i];
    if (s->prev != SIZE_MAX)
        c->slots[s->prev].next = s->next;
    else
        c->resident_head = s->next;
    if (s->next != SIZE_MAX)
        c->slots[s->next].prev = s->prev;
    s->prev = s->next = SIZE_MAX;
    c->resident--;
    c->resident_bytes -= s->bytes;
}

/* Frees a built slot's splits; it is empty again. */
static void slot_drop(run_pipelines *c, size_t i)
{
    pipe_slot *s = &c->slots[i];
    if (!s->in_place)
        resident_remove(c, i);
    data_splits_free(s->sp);
    free(s->sp);
    s->sp = NULL;
    s->state = SLOT_EMPTY;
}

/* Evicts idle copies while as many as allowed are resident and one more
 * of `need` bytes would hold more than keep_bytes: each time the one whose
 * next trial comes last. Copies in use stay (the bound is then exceeded
 * until they are released). */
static void make_room(run_pipelines *c, uint64_t need)
{
    while (c->resident >= c->max_resident && c->resident_bytes + need > c->keep_bytes) {
        size_t victim = SIZE_MAX, latest = 0;
        for (size_t i = c->resident_head; i != SIZE_MAX; i = c->slots[i].next) {
            const pipe_slot *s = &c->slots[i];
            if (s->state != SLOT_READY || s->in_use)
                continue;
            size_t next = s->acquired < s->count ? c->order[s->first + s->acquired] : SIZE_MAX;
            if (victim == SIZE_MAX || next >= latest) {
                victim = i;
                latest = next;
            }
        }
        if (victim == SIZE_MAX)
            return;
        slot_drop(c, victim);
        c->st.evicted++;
    }
}

/* Builds slot s from its source without holding c->lock. 0, or -1 with
 * err set (*gone = 1 when the source was lost with it). */
static int slot_build(run_pipelines *c, pipe_slot *s, pipe_source *ps, int *gone,
                      data_error *err)
{
    const spec_experiment *e = &c->p->points[s->point].spec;
    *gone = 0;
    s->sp = calloc(1, sizeof *s->sp);
    if (!s->sp) {
        snprintf(err->message, sizeof err->message, "out of memory");
        return -1;
    }
    int rc;
    if (s->in_place) {
        int kept = 1;
        rc = data_pipeline_build_in_place(&ps->own, &e->data.pipeline, s->data_seed, s->sp,
                                          &kept, err);
        *gone = !kept;
    } else {
        rc = data_pipeline_build(ps->data, &e->data.pipeline, s->data_seed, s->sp, err);
    }
    if (rc) {
        free(s->sp);
        s->sp = NULL;
    }
    return rc;
}

/* ---- the trials' side ---------------------------------------------------------- */

void run_pipelines_acquire(run_pipelines *c, size_t pos, run_pipeline_use *u)
{
    size_t si = c->slot_of[pos];
    pipe_slot *s = &c->slots[si];
    pipe_source *ps = &c->src[s->source];
    memset(u, 0, sizeof *u);
    u->n_classes = ps->n_classes;
    omp_set_lock(&c->lock);
    while (s->state != SLOT_READY && s->state != SLOT_FAILED) {
        if (s->state == SLOT_BUILDING) { /* another worker builds it: wait */
            omp_unset_lock(&c->lock);
            omp_set_lock(&s->build);
            omp_unset_lock(&s->build);
            omp_set_lock(&c->lock);
            continue;
        }
        s->state = SLOT_BUILDING;
        omp_set_lock(&s->build);
        if (!s->in_place) {
            make_room(c, s->bytes);
            resident_add(c, si);
        }
        omp_unset_lock(&c->lock);
        data_error err;
        memset(&err, 0, sizeof err);
        int gone = 0, rc = slot_build(c, s, ps, &gone, &err);
        omp_set_lock(&c->lock);
        if (rc == 0) {
            s->state = SLOT_READY;
            c->st.builds++;
            c->st.in_place += s->in_place != 0;
        } else {
            if (!s->in_place)
                resident_remove(c, si);
            /* This trial fails with the message; the next one builds
             * again, as each trial did on its own, unless the rows are
             * gone (in place, out of memory): then every trial fails. */
            snprintf(u->error, sizeof u->error, "%s", err.message);
            u->failed = 1;
            s->state = SLOT_EMPTY;
            if (gone) {
                s->state = SLOT_FAILED;
                ps->data = NULL;
                s->error = malloc(strlen(err.message) + 1);
                if (s->error)
                    memcpy(s->error, err.message, strlen(err.message) + 1);
            }
        }
        omp_unset_lock(&s->build);
        if (u->failed)
            break;
    }
    if (!u->failed && s->state == SLOT_FAILED) {
        snprintf(u->error, sizeof u->error, "%s", s->error ? s->error : "out of memory");
        u->failed = 1;
    }
    if (!u->failed) {
        u->splits = s->sp;
        if (s->in_place)
            ps->data = NULL; /* its rows are the slot's now */
    }
    s->in_use++;
    s->acquired++;
    /* Once every trial that reads a source has its splits, no copy is
     * built from it again. */
    if (--ps->need == 0 && ps->taken) {
        data_set_free(&ps->own);
        ps->data = NULL;
    }
    omp_unset_lock(&c->lock);
}

void run_pipelines_release(run_pipelines *c, size_t pos)
{
    size_t si = c->slot_of[pos];
    pipe_slot *s = &c->slots[si];
    omp_set_lock(&c->lock);
    s->in_use--;
    if (--s->refs == 0 && s->state == SLOT_READY)
        slot_drop(c, si);
    omp_unset_lock(&c->lock);
}

void run_pipelines_get_stats(run_pipelines *c, run_pipelines_stats *st)
{
    omp_set_lock(&c->lock);
    *st = c->st;
    st->resident = c->resident;
    st->held = 0;
    st->sources_held = 0;
    for (size_t i = 0; i < c->n_slots; i++)
        st->held += c->slots[i].sp != NULL;
    for (size_t i = 0; i < c->n_sources; i++)
        st->sources_held += c->src[i].data != NULL;
    omp_unset_lock(&c->lock);
}
