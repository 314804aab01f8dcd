/* run_mpi: the MPI runner: rank 0 plans and writes, the other ranks train.
 * See run_mpi.h.
 *
 * Protocol (MPI_COMM_WORLD, MPI_BYTE messages, integers little-endian):
 *   HELLO   rank r -> 0, once: u32 threads (0: it could not plan; then
 *           the text of the error follows).
 *   MSG     thread t of rank r -> 0: u32 t, u32 kind (REQUEST, RESULT,
 *           RESULT_LEAVING: its stop flag is set, give it nothing more),
 *           f64 wall ms, then a packed trial_result (trial_pack.h) for
 *           results.
 *   REPLY   0 -> thread t of rank r, tag TAG_REPLY + t: u32 kind (TASK,
 *           STOP), u64 plan trial index, 64 bytes of trial key.
 * Every training thread has one message in flight at a time: a request,
 * or the result of its trial, which is also its request for the next one.
 */
#include "run_mpi.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mpi.h>
#include <omp.h>

#include "run_internal.h"
#include "text.h"
#include "trial_pack.h"

enum { TAG_HELLO = 1, TAG_MSG = 2, TAG_REPLY = 100 };
enum { KIND_REQUEST = 0, KIND_RESULT = 1, KIND_RESULT_LEAVING = 2 };
enum { REPLY_TASK = 0, REPLY_STOP = 1 };
#define HEADER_LEN 16 /* u32 thread, u32 kind, f64 wall ms */
#define REPLY_LEN (4 + 8 + 64)
#define MAX_THREADS 4096

static void put32(uint8_t *b, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static void put64(uint8_t *b, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get64(const uint8_t *b)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)b[i] << (8 * i);
    return v;
}

static void mpi_message(int rc, char *buf, size_t n)
{
    char s[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(rc, s, &len) != MPI_SUCCESS)
        snprintf(s, sizeof s, "error %d", rc);
    snprintf(buf, n, "%s", s);
}

/* ==== rank 0 ============================================================= */

typedef enum { SLOT_UNHEARD = 0, SLOT_WAITING, SLOT_BUSY, SLOT_GONE } slot_state;

/* A training thread of a rank. */
typedef struct slot {
    int rank;
    uint32_t thread;
    slot_state state;
    size_t ti;              /* SLOT_BUSY: its trial */
    char started[RUN_ISO_LEN];
} slot;

typedef struct lead {
    int size;
    int hello_done;
    size_t n_slots;
    slot *slots;
    size_t *first;          /* per rank: its first slot */
    int mpi_failed;         /* a rank is lost: abort the job at the end */
    int ranks_stopped;      /* every training rank left (signals) */
    int no_trainers;        /* no rank could plan the specs */
    size_t messages;        /* sent and received by rank 0 */
    size_t trials;          /* results received */
    uint8_t *buf;
    size_t cap;
    FILE *err;
} lead;

static void lead_lost(lead *L, int rc, const char *doing)
{
    char m[MPI_MAX_ERROR_STRING + 1];
    mpi_message(rc, m, sizeof m);
    if (!L->mpi_failed)
        fprintf(L->err,
                "runexp-mpi: lost contact with a training rank while %s (MPI: %s); the "
                "trials committed so far are kept, those in flight stay 'running' and the "
                "next run redoes them\n",
                doing, m);
    L->mpi_failed = 1;
}

/* Every rank's HELLO: its thread count, the slots. */
static int lead_hello(lead *L)
{
    if (L->hello_done)
        return L->mpi_failed ? -1 : 0;
    L->hello_done = 1;
    L->first = calloc((size_t)L->size + 1, sizeof *L->first);
    uint32_t *th = calloc((size_t)L->size, sizeof *th);
    if (!L->first || !th) {
        free(th);
        fputs("runexp-mpi: out of memory\n", L->err);
        L->mpi_failed = 1;
        return -1;
    }
    for (int r = 1; r < L->size; r++) {
        uint8_t msg[4 + 1024];
        MPI_Status st;
        int rc = MPI_Recv(msg, (int)sizeof msg, MPI_BYTE, r, TAG_HELLO, MPI_COMM_WORLD, &st);
        int n = 0;
        if (rc == MPI_SUCCESS)
            rc = MPI_Get_count(&st, MPI_BYTE, &n);
        if (rc != MPI_SUCCESS || n < 4) {
            lead_lost(L, rc, "starting");
            free(th);
            return -1;
        }
        L->messages++;
        th[r] = get32(msg);
        if (th[r] == 0 || th[r] > MAX_THREADS) {
            msg[n < (int)sizeof msg ? n : (int)sizeof msg - 1] = '\0';
            fprintf(L->err, "runexp-mpi: rank %d cannot train: ", r);
            text_fputs((const char *)msg + 4, L->err);
            fputc('\n', L->err);
            th[r] = 0;
        }
        L->first[r + 1] = L->first[r] + th[r];
    }
    L->n_slots = L->first[L->size];
    L->slots = calloc(L->n_slots ? L->n_slots : 1, sizeof *L->slots);
    if (!L->slots) {
        free(th);
        fputs("runexp-mpi: out of memory\n", L->err);
        L->mpi_failed = 1;
        return -1;
    }
    for (int r = 1; r < L->size; r++)
        for (uint32_t t = 0; t < th[r]; t++)
            L->slots[L->first[r] + t] = (slot){.rank = r, .thread = t};
    free(th);
    return 0;
}

static int lead_reply(lead *L, slot *s, uint32_t kind, size_t ti, const char *key)
{
    uint8_t m[REPLY_LEN];
    memset(m, 0, sizeof m);
    put32(m, kind);
    put64(m + 4, ti);
    if (key)
        memcpy(m + 12, key, 64);
    int rc = MPI_Send(m, (int)sizeof m, MPI_BYTE, s->rank, TAG_REPLY + (int)s->thread,
                      MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS) {
        lead_lost(L, rc, "handing out a trial");
        return -1;
    }
    L->messages++;
    return 0;
}

/* One message from any rank, waited for by polling (so a signal's stop
 * flag is seen, and rank 0 does not spin a core while the others train).
 * Returns its slot (state updated: WAITING or GONE; *result filled for a
 * result, whose trial was slot->ti), NULL on an MPI failure or when stop
 * turns non-zero while give_up_on_stop. */
static slot *lead_receive(lead *L, trial_result *result, int *has_result, double *wall_ms)
{
    *has_result = 0;
    MPI_Status st;
    int flag = 0, rc;
    long idle = 0;
    for (;;) {
        rc = MPI_Iprobe(MPI_ANY_SOURCE, TAG_MSG, MPI_COMM_WORLD, &flag, &st);
        if (rc != MPI_SUCCESS) {
            lead_lost(L, rc, "waiting for results");
            return NULL;
        }
        if (flag)
            break;
        /* A short sleep once the line has been quiet for a while: results
         * come every few milliseconds at most. */
        if (++idle > 64) {
            struct timespec ts = {0, 200000};
            nanosleep(&ts, NULL);
        }
    }
    int n = 0;
    MPI_Get_count(&st, MPI_BYTE, &n);
    if ((size_t)n > L->cap) {
        uint8_t *b = realloc(L->buf, (size_t)n);
        if (!b) {
            fputs("runexp-mpi: out of memory\n", L->err);
            L->mpi_failed = 1;
            return NULL;
        }
        L->buf = b;
        L->cap = (size_t)n;
    }
    rc = MPI_Recv(L->buf, n, MPI_BYTE, st.MPI_SOURCE, TAG_MSG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    if (rc != MPI_SUCCESS) {
        lead_lost(L, rc, "receiving a result");
        return NULL;
    }
    L->messages++;
    int r = st.MPI_SOURCE;
    uint32_t t = n >= HEADER_LEN ? get32(L->buf) : UINT32_MAX;
    if (r < 1 || r >= L->size || t >= L->first[r + 1] - L->first[r]) {
        fprintf(L->err, "runexp-mpi: a malformed message from rank %d\n", r);
        L->mpi_failed = 1;
        return NULL;
    }
    slot *s = &L->slots[L->first[r] + t];
    uint32_t kind = get32(L->buf + 4);
    uint64_t wbits = get64(L->buf + 8);
    memcpy(wall_ms, &wbits, sizeof *wall_ms);
    if (kind != KIND_REQUEST) {
        if (s->state != SLOT_BUSY ||
            trial_result_unpack(L->buf + HEADER_LEN, (size_t)n - HEADER_LEN, result)) {
            fprintf(L->err, "runexp-mpi: a malformed result from rank %d\n", r);
            L->mpi_failed = 1;
            return NULL;
        }
        *has_result = 1;
        L->trials++;
    }
    s->state = kind == KIND_RESULT_LEAVING ? SLOT_GONE : SLOT_WAITING;
    return s;
}

static void progress(const run_loop_job *j, const run_counts *c, const slot *s, int64_t id,
                     const trial_result *t, double wall_ms)
{
    if (j->quiet)
        return;
    const sweep_trial *tr = &j->plan->trials[s->ti];
    fprintf(j->err, "trial %zu/%zu (id %lld, ", c->finished, c->total, (long long)id);
    text_fputs(j->plan->points[tr->point].params_json, j->err);
    fprintf(j->err, " seed %llu): %s", (unsigned long long)tr->seed,
            trial_status_name(t->status));
    if (t->status == TRIAL_DONE)
        fprintf(j->err, ", test accuracy %.4f", t->accuracy[2]);
    else if (t->error[0]) {
        fputs(": ", j->err);
        text_fputs(t->error, j->err);
    }
    fprintf(j->err, " (%.0f ms, rank %d)\n", wall_ms, s->rank);
    fflush(j->err);
}

static void count(run_counts *c, trial_status s)
{
    c->finished++;
    switch (s) {
    case TRIAL_DONE: c->n_done++; break;
    case TRIAL_DIVERGED: c->n_diverged++; break;
    case TRIAL_INTERRUPTED: c->n_interrupted++; break;
    default: c->n_failed++; break;
    }
}

/* Hands trial job->pending[*next] to a waiting slot: its running mark,
 * then the task. */
static int hand_out(lead *L, const run_loop_job *j, run_counts *c, slot *s, size_t *next,
                    size_t *in_flight)
{
    size_t ti = j->pending[(*next)++];
    s->ti = ti;
    run_now_iso(s->started);
    /* The task first, its running mark after: the commit is then off the
     * training thread's path. */
    if (lead_reply(L, s, REPLY_TASK, ti, j->plan->trials[ti].key))
        return -1;
    s->state = SLOT_BUSY;
    (*in_flight)++;
    if (store_trial_start(j->db, j->ids[ti], s->started, &c->store_err)) {
        c->store_failed = 1;
        return -1;
    }
    return 0;
}

static int stopping(const run_loop_job *j, const run_counts *c, const lead *L)
{
    return c->store_failed || L->mpi_failed || (j->stop && atomic_load(j->stop));
}

/* The trial loop of rank 0 (runner_loop_fn): hands out the plan's pending
 * trials, costliest first, and records each result as it arrives. */
static int lead_loop(const run_loop_job *j, run_counts *c, void *ctx)
{
    lead *L = ctx;
    memset(c, 0, sizeof *c);
    c->total = j->n_pending;
    double t0 = run_mono_ms();
    if (lead_hello(L)) {
        c->seconds = (run_mono_ms() - t0) / 1e3;
        return 0;
    }
    if (L->n_slots == 0) {
        if (!L->no_trainers)
            fputs("runexp-mpi: no rank can train (see above); nothing was run\n", j->err);
        L->no_trainers = 1;
        return 0;
    }
    size_t next = 0, in_flight = 0;
    for (size_t i = 0; i < L->n_slots && next < j->n_pending && !stopping(j, c, L); i++)
        if (L->slots[i].state == SLOT_WAITING)
            hand_out(L, j, c, &L->slots[i], &next, &in_flight);
    for (;;) {
        size_t active = 0;
        for (size_t i = 0; i < L->n_slots; i++)
            active += L->slots[i].state != SLOT_GONE;
        int more = next < j->n_pending && !stopping(j, c, L) && active > 0;
        if (!more && in_flight == 0)
            break;
        if (L->mpi_failed)
            break;
        trial_result t;
        int has;
        double wall_ms;
        slot *s = lead_receive(L, &t, &has, &wall_ms);
        if (!s)
            break;
        /* The thread's next trial goes out before its result is
         * committed, so that it trains while rank 0 writes. */
        slot done = *s;
        if (has)
            in_flight--;
        if (s->state == SLOT_WAITING && next < j->n_pending && !stopping(j, c, L))
            hand_out(L, j, c, s, &next, &in_flight);
        if (has) {
            /* After a failed write nothing more is written (as run_loop). */
            if (!c->store_failed) {
                int64_t id = j->ids[done.ti];
                if (run_record_trial(j->db, id,
                                     &j->plan->points[j->plan->trials[done.ti].point].spec, &t,
                                     done.started, wall_ms, &c->store_err))
                    c->store_failed = 1;
                else {
                    count(c, t.status);
                    progress(j, c, &done, id, &t, wall_ms);
                }
            }
            trial_result_free(&t);
        }
    }
    size_t active = 0;
    for (size_t i = 0; i < L->n_slots; i++)
        active += L->slots[i].state != SLOT_GONE;
    if (next < j->n_pending && active == 0 && !stopping(j, c, L)) {
        L->ranks_stopped = 1;
        fprintf(j->err,
                "runexp-mpi: every training rank has stopped (a signal); %zu trials not"
                " started stay queued: run the same command again to run them\n",
                j->n_pending - next);
    }
    c->seconds = (run_mono_ms() - t0) / 1e3;
    return 0;
}

/* The end of the job: every training thread is told to stop, once it has
 * asked for work (a result still coming is not recorded: the run is over). */
static void lead_shutdown(lead *L)
{
    if (lead_hello(L))
        return;
    for (;;) {
        size_t left = 0;
        for (size_t i = 0; i < L->n_slots; i++) {
            slot *s = &L->slots[i];
            if (s->state == SLOT_WAITING) {
                if (lead_reply(L, s, REPLY_STOP, 0, NULL))
                    return;
                s->state = SLOT_GONE;
            }
            left += s->state != SLOT_GONE;
        }
        if (left == 0 || L->mpi_failed)
            return;
        trial_result t;
        int has;
        double wall_ms;
        if (!lead_receive(L, &t, &has, &wall_ms))
            return;
        if (has)
            trial_result_free(&t);
    }
}

int runner_mpi_lead(const runner_options *o, size_t n_specs, char *const *spec_paths,
                    FILE *out, FILE *err, int *abort_job)
{
    lead L;
    memset(&L, 0, sizeof L);
    MPI_Comm_size(MPI_COMM_WORLD, &L.size);
    L.err = err;
    runner_options lo = *o;
    lo.loop = lead_loop;
    lo.loop_ctx = &L;
    int code = runner_run(&lo, n_specs, spec_paths, out, err);
    lead_shutdown(&L);
    if (L.mpi_failed && code != RUNNER_EXIT_USAGE)
        code = RUNNER_EXIT_FAILED;
    if (L.ranks_stopped && code == RUNNER_EXIT_OK)
        code = RUNNER_EXIT_INTERRUPTED;
    if (L.no_trainers)
        code = RUNNER_EXIT_USAGE;
    if (o->timings)
        fprintf(err, "runexp-mpi: %d ranks, %zu training threads; rank 0 sent and received"
                     " %zu messages for %zu trials (%.2f per trial)\n",
                L.size, L.n_slots, L.messages, L.trials,
                L.trials ? (double)L.messages / (double)L.trials : 0.0);
    *abort_job = L.mpi_failed;
    free(L.slots);
    free(L.first);
    free(L.buf);
    return code;
}

/* ==== ranks 1..N-1 ====================================================== */

/* A trial of one of the rank's plans, found by key. */
typedef struct key_ref {
    const char *key;
    size_t spec, ti;
} key_ref;

static int key_cmp(const void *a, const void *b)
{
    return strcmp(((const key_ref *)a)->key, ((const key_ref *)b)->key);
}

typedef struct worker {
    size_t n_plans;
    sweep_plan *plans;
    spec_document **docs;
    int *planned;
    size_t n_keys;
    key_ref *keys;
    const atomic_int *stop;
    int failed;             /* an MPI call failed */
} worker;

static void worker_free(worker *w)
{
    for (size_t i = 0; i < w->n_plans; i++) {
        if (w->planned && w->planned[i])
            sweep_plan_free(&w->plans[i]);
        if (w->docs && w->docs[i])
            spec_document_free(w->docs[i]);
    }
    free(w->plans);
    free(w->docs);
    free(w->planned);
    free(w->keys);
}

/* Plans every spec and loads its data, as rank 0 does; the first problem
 * goes into why. 0 or -1. */
static int worker_plan(worker *w, size_t n, char *const *paths, char *why, size_t why_len)
{
    w->n_plans = n;
    w->plans = calloc(n ? n : 1, sizeof *w->plans);
    w->docs = calloc(n ? n : 1, sizeof *w->docs);
    w->planned = calloc(n ? n : 1, sizeof *w->planned);
    if (!w->plans || !w->docs || !w->planned) {
        snprintf(why, why_len, "out of memory");
        return -1;
    }
    size_t nk = 0;
    for (size_t i = 0; i < n; i++) {
        spec_diagnostics d;
        spec_diagnostics_init(&d);
        w->docs[i] = spec_document_load(paths[i], &d);
        if (w->docs[i] && sweep_plan_build(w->docs[i], &w->plans[i], &d) == 0)
            w->planned[i] = 1;
        spec_diagnostics_free(&d);
        if (!w->planned[i]) {
            snprintf(why, why_len, "%s: the spec does not parse or plan here", paths[i]);
            return -1;
        }
        /* The data is loaded on this rank; a file rank 0 read must be
         * readable here too. Its diagnostics go to a scratch stream. */
        FILE *sink = tmpfile();
        int bad = run_plan_load_data(&w->plans[i], sink ? sink : stderr);
        if (sink)
            fclose(sink);
        if (bad) {
            snprintf(why, why_len, "%s: its data cannot be loaded here", paths[i]);
            return -1;
        }
        nk += w->plans[i].n_trials;
    }
    w->keys = calloc(nk ? nk : 1, sizeof *w->keys);
    if (!w->keys) {
        snprintf(why, why_len, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t t = 0; t < w->plans[i].n_trials; t++)
            w->keys[w->n_keys++] = (key_ref){w->plans[i].trials[t].key, i, t};
    qsort(w->keys, w->n_keys, sizeof *w->keys, key_cmp);
    return 0;
}

/* Trains the task named in reply into *t; 0 ran (t filled). */
static void worker_train(const worker *w, const uint8_t *reply, trial_result *t, double *ms)
{
    char key[65];
    memcpy(key, reply + 12, 64);
    key[64] = '\0';
    key_ref k = {key, 0, 0};
    const key_ref *f = w->n_keys ? bsearch(&k, w->keys, w->n_keys, sizeof *w->keys, key_cmp)
                                 : NULL;
    memset(t, 0, sizeof *t);
    *ms = 0;
    if (!f) {
        t->status = TRIAL_FAILED;
        snprintf(t->error, sizeof t->error,
                 "trial %s is not in this rank's plan: do the spec and data files differ"
                 " between the nodes?", key);
        for (int s = 0; s < 3; s++)
            t->loss[s] = t->accuracy[s] = NAN;
        t->overfit_gap = NAN;
        return;
    }
    const sweep_plan *p = &w->plans[f->spec];
    const sweep_trial *tr = &p->trials[f->ti];
    double t0 = run_mono_ms();
    /* Out of memory is a failed trial, recorded like any other. */
    (void)trial_run(&p->points[tr->point].spec, tr->seed, sweep_plan_dataset(p, tr->point),
                    w->stop, t);
    *ms = run_mono_ms() - t0;
}

/* One training thread: ask, train, send the result (which asks again). */
static void worker_thread(worker *w, uint32_t thread)
{
    uint8_t head[HEADER_LEN];
    put32(head, thread);
    put32(head + 4, KIND_REQUEST);
    put64(head + 8, 0);
    uint8_t *msg = head;
    size_t len = HEADER_LEN;
    for (;;) {
        int rc = MPI_Send(msg, (int)len, MPI_BYTE, 0, TAG_MSG, MPI_COMM_WORLD);
        if (msg != head)
            free(msg);
        msg = head;
        uint8_t reply[REPLY_LEN];
        if (rc == MPI_SUCCESS)
            rc = MPI_Recv(reply, (int)sizeof reply, MPI_BYTE, 0, TAG_REPLY + (int)thread,
                          MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        if (rc != MPI_SUCCESS) {
#pragma omp atomic write
            w->failed = 1;
            return;
        }
        if (get32(reply) != REPLY_TASK)
            return;
        trial_result t;
        double ms;
        worker_train(w, reply, &t, &ms);
        uint8_t *packed = NULL;
        size_t plen = 0;
        if (trial_result_pack(&t, &packed, &plen) == 0) {
            uint8_t *m = malloc(HEADER_LEN + plen);
            if (m) {
                int leaving = w->stop && atomic_load(w->stop);
                uint64_t bits;
                memcpy(&bits, &ms, sizeof bits);
                put32(m, thread);
                put32(m + 4, leaving ? KIND_RESULT_LEAVING : KIND_RESULT);
                put64(m + 8, bits);
                memcpy(m + HEADER_LEN, packed, plen);
                msg = m;
                len = HEADER_LEN + plen;
            }
        }
        free(packed);
        trial_result_free(&t);
        if (msg == head) {
            /* Out of memory: a failed trial has to reach rank 0 anyway. */
            trial_result f;
            memset(&f, 0, sizeof f);
            f.status = TRIAL_FAILED;
            snprintf(f.error, sizeof f.error, "out of memory on the training rank");
            if (trial_result_pack(&f, &packed, &plen) == 0 &&
                (msg = malloc(HEADER_LEN + plen)) != NULL) {
                put32(msg, thread);
                put32(msg + 4, KIND_RESULT_LEAVING);
                put64(msg + 8, 0);
                memcpy(msg + HEADER_LEN, packed, plen);
                len = HEADER_LEN + plen;
            } else {
                msg = head;
            }
            free(packed);
        }
    }
}

int runner_mpi_work(const runner_options *o, size_t n_specs, char *const *spec_paths,
                    int thread_multiple, FILE *err)
{
    worker w;
    memset(&w, 0, sizeof w);
    w.stop = o->stop;
    char why[1024] = "";
    int threads = o->jobs > 0 ? o->jobs : omp_get_max_threads();
    if (threads > MAX_THREADS)
        threads = MAX_THREADS;
    if (!thread_multiple)
        threads = 1;
    if (worker_plan(&w, n_specs, spec_paths, why, sizeof why))
        threads = 0;
    uint8_t hello[4 + sizeof why];
    put32(hello, (uint32_t)threads);
    size_t wl = strlen(why);
    memcpy(hello + 4, why, wl);
    int rc = MPI_Send(hello, (int)(4 + wl), MPI_BYTE, 0, TAG_HELLO, MPI_COMM_WORLD);
    if (rc == MPI_SUCCESS && threads > 0) {
#pragma omp parallel num_threads(threads)
        worker_thread(&w, (uint32_t)omp_get_thread_num());
    }
    int failed = rc != MPI_SUCCESS || w.failed;
    worker_free(&w);
    if (failed) {
        fputs("runexp-mpi: a training rank lost contact with rank 0\n", err);
        return RUNNER_EXIT_FAILED;
    }
    return threads > 0 ? RUNNER_EXIT_OK : RUNNER_EXIT_USAGE;
}
