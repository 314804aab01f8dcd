/* cmd_run: `runexp [run] SPEC...` and `runexp reproduce TRIAL_ID`. */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "plan_memory.h"
#include "runner.h"

/* The one piece of process-wide mutable state in runexp. A signal handler
 * can communicate with the program only through an object with static
 * storage of type volatile sig_atomic_t or of a lock-free atomic type (C11
 * 7.14.1.1), so the flag cannot live in a caller-owned struct like
 * everything else. The worker threads read it too, which only an atomic
 * makes well-defined. The handler only sets it; the runner polls it after
 * every epoch (through runner_options.stop) and stops cleanly. */
static atomic_int stop_requested;

#if ATOMIC_INT_LOCK_FREE != 2
#error "the stop flag needs a lock-free atomic_int to be set from a signal handler"
#endif

static void on_signal(int sig)
{
    if (atomic_load(&stop_requested)) {
        /* A second Ctrl-C: the user wants out now. */
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    atomic_store(&stop_requested, 1);
}

static void run_usage(FILE *f)
{
    fputs("usage: runexp [run] [-j N] [--db FILE] [--fresh] [--retry] [-q] [--timings]\n"
          "                    [--max-memory SIZE] [--shard K/N|auto] SPEC.yaml...\n"
          "       runexp reproduce [--db FILE] TRIAL_ID\n"
          "Exit status: 0 all trials done, 1 some failed or diverged,\n"
          "2 usage, spec or database errors, 130 interrupted (SIGINT/SIGTERM).\n",
          f);
}

/* Reads a decimal integer in [1, max] that fills all of s[0..n); 0 on junk. */
static size_t parse_count(const char *s, size_t n, size_t max)
{
    size_t v = 0;
    if (n == 0 || n > 9)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (size_t)(s[i] - '0');
    }
    return v <= max ? v : 0;
}

/* A Slurm array variable: a non-negative decimal integer; -1 when unset,
 * -2 when not a number. */
static long slurm_var(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return -1;
    size_t n = strlen(v);
    if (n > 9 || strspn(v, "0123456789") != n)
        return -2;
    return strtol(v, NULL, 10);
}

/* --shard auto: K and N of this task of a Slurm job array. */
static int shard_from_slurm(size_t *k, size_t *n)
{
    static const char *const names[3] = {"SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_MIN",
                                         "SLURM_ARRAY_TASK_COUNT"};
    long v[3];
    for (int i = 0; i < 3; i++) {
        v[i] = slurm_var(names[i]);
        if (v[i] == -1) {
            fprintf(stderr, "runexp: --shard auto needs a Slurm job array (sbatch --array),"
                            " but %s is not set; outside an array use --shard K/N\n",
                    names[i]);
            return -1;
        }
        if (v[i] == -2) {
            fprintf(stderr, "runexp: --shard auto: %s is not a number: '%s'\n", names[i],
                    getenv(names[i]));
            return -1;
        }
    }
    /* --array=0-30:10 steps the ids; a list such as 1,5,7 cannot be
     * numbered 1..N from the id alone. */
    long step = slurm_var("SLURM_ARRAY_TASK_STEP");
    step = step > 0 ? step : 1;
    if (v[2] < 1 || v[0] < v[1] || (v[0] - v[1]) % step || (v[0] - v[1]) / step >= v[2]) {
        fprintf(stderr, "runexp: --shard auto: task %ld of an array from %ld with %ld tasks"
                        " (step %ld) is not one of tasks 1..%ld; give --array a range such"
                        " as 1-%ld, or use --shard K/N\n",
                v[0], v[1], v[2], step, v[2], v[2]);
        return -1;
    }
    *k = (size_t)((v[0] - v[1]) / step + 1);
    *n = (size_t)v[2];
    return 0;
}

/* --shard K/N (1 <= K <= N <= 1000000) or --shard auto. */
static int parse_shard(const char *val, runner_options *o)
{
    if (!strcmp(val, "auto"))
        return shard_from_slurm(&o->shard_k, &o->shard_n);
    const char *slash = strchr(val, '/');
    size_t n = slash ? parse_count(slash + 1, strlen(slash + 1), 1000000) : 0;
    size_t k = slash ? parse_count(val, (size_t)(slash - val), 1000000) : 0;
    if (!k || !n || k > n) {
        fprintf(stderr, "runexp: --shard needs K/N with 1 <= K <= N <= 1000000 (e.g. 2/8),"
                        " or auto (from a Slurm job array), got '%s'\n", val);
        return -1;
    }
    o->shard_k = k;
    o->shard_n = n;
    return 0;
}

int cmd_run_parse(int argc, char **argv, runner_options *o, char **specs, size_t *n_specs_out)
{
    size_t n_specs = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            run_usage(stdout);
            return 1;
        } else if (!strcmp(a, "--shard") || !strncmp(a, "--shard=", 8)) {
            val = a[7] == '=' ? a + 8 : (i + 1 < argc ? argv[++i] : NULL);
            if (!val || parse_shard(val, o)) {
                if (!val)
                    fputs("runexp: --shard needs K/N or auto\n", stderr);
                goto usage;
            }
        } else if (!strcmp(a, "--fresh")) {
            o->fresh = 1;
        } else if (!strcmp(a, "--retry")) {
            o->retry = 1;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            o->quiet = 1;
        } else if (!strcmp(a, "--timings")) {
            o->timings = 1;
        } else if (!strcmp(a, "-j") || !strcmp(a, "--jobs") || !strncmp(a, "--jobs=", 7) ||
                   (!strncmp(a, "-j", 2) && a[2])) {
            if (!strcmp(a, "-j") || !strcmp(a, "--jobs"))
                val = i + 1 < argc ? argv[++i] : NULL;
            else
                val = a[1] == 'j' ? a + 2 : a + 7;
            long j = cmd_parse_positive(val);
            if (j <= 0 || j > 4096) {
                fprintf(stderr, "runexp: -j needs a number of threads between 1 and 4096,"
                                " got '%s'\n", val ? val : "");
                goto usage;
            }
            o->jobs = (int)j;
        } else if (!strcmp(a, "--db") || !strncmp(a, "--db=", 5)) {
            val = a[4] == '=' ? a + 5 : (i + 1 < argc ? argv[++i] : NULL);
            if (!val || !*val) {
                fputs("runexp: --db needs a file name\n", stderr);
                goto usage;
            }
            o->db_path = val;
        } else if (!strcmp(a, "--max-memory") || !strncmp(a, "--max-memory=", 13)) {
            val = a[12] == '=' ? a + 13 : (i + 1 < argc ? argv[++i] : NULL);
            if (!val || plan_memory_parse_size(val, &o->max_memory)) {
                fprintf(stderr, "runexp: --max-memory needs a size such as 512M, 4G, 1.5G or a"
                                " number of bytes, got '%s'\n", val ? val : "");
                goto usage;
            }
        } else if (!strcmp(a, "--")) {
            for (i++; i < argc; i++)
                specs[n_specs++] = argv[i];
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "runexp: unknown option '%s'\n", a);
            goto usage;
        } else {
            specs[n_specs++] = argv[i];
        }
    }
    if (n_specs == 0) {
        fputs("runexp: no spec file given\n", stderr);
        goto usage;
    }
    /* RUNEXP_TIMINGS=1 turns the phase timings on without changing the
     * command line (handy inside scripts such as bench/bench_sweep.sh). */
    const char *tenv = getenv("RUNEXP_TIMINGS");
    if (tenv && *tenv && strcmp(tenv, "0"))
        o->timings = 1;
    *n_specs_out = n_specs;
    return 0;
usage:
    run_usage(stderr);
    return RUNNER_EXIT_USAGE;
}

const atomic_int *cmd_signals_catch(cmd_signals *saved)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    atomic_store(&stop_requested, 0);
    sigaction(SIGINT, &sa, &saved->old_int);
    sigaction(SIGTERM, &sa, &saved->old_term);
    return &stop_requested;
}

void cmd_signals_restore(const cmd_signals *saved)
{
    sigaction(SIGINT, &saved->old_int, NULL);
    sigaction(SIGTERM, &saved->old_term, NULL);
}

int cmd_run(int argc, char **argv)
{
    runner_options o;
    memset(&o, 0, sizeof o);
    char **specs = calloc((size_t)(argc > 0 ? argc : 1), sizeof *specs);
    size_t n_specs = 0;
    if (!specs) {
        fputs("runexp: out of memory\n", stderr);
        return RUNNER_EXIT_USAGE;
    }
    int pc = cmd_run_parse(argc, argv, &o, specs, &n_specs);
    if (pc) {
        free(specs);
        return pc == 1 ? 0 : pc;
    }
    cmd_signals saved;
    o.stop = cmd_signals_catch(&saved);
    int code = runner_run(&o, n_specs, specs, stdout, stderr);
    cmd_signals_restore(&saved);
    free(specs);
    return code;
}

int cmd_reproduce(int argc, char **argv)
{
    const char *db = NULL, *id_text = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            run_usage(stdout);
            return 0;
        } else if (!strcmp(a, "--db") || !strncmp(a, "--db=", 5)) {
            db = a[4] == '=' ? a + 5 : (i + 1 < argc ? argv[++i] : NULL);
            if (!db || !*db) {
                fputs("runexp: --db needs a file name\n", stderr);
                run_usage(stderr);
                return RUNNER_EXIT_USAGE;
            }
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "runexp: unknown option '%s'\n", a);
            run_usage(stderr);
            return RUNNER_EXIT_USAGE;
        } else if (id_text) {
            fputs("runexp: reproduce takes one TRIAL_ID\n", stderr);
            run_usage(stderr);
            return RUNNER_EXIT_USAGE;
        } else {
            id_text = a;
        }
    }
    long id = cmd_parse_positive(id_text);
    if (id <= 0) {
        fprintf(stderr, "runexp: reproduce needs a trial id (a positive integer), got '%s'\n",
                id_text ? id_text : "");
        run_usage(stderr);
        return RUNNER_EXIT_USAGE;
    }
    return runner_reproduce(db, (int64_t)id, stdout, stderr);
}
