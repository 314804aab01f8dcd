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
          "                    [--max-memory SIZE] SPEC.yaml...\n"
          "       runexp reproduce [--db FILE] TRIAL_ID\n"
          "Exit status: 0 all trials done, 1 some failed or diverged,\n"
          "2 usage, spec or database errors, 130 interrupted (SIGINT/SIGTERM).\n",
          f);
}

int cmd_run(int argc, char **argv)
{
    runner_options o;
    memset(&o, 0, sizeof o);
    char **specs = calloc((size_t)(argc > 0 ? argc : 1), sizeof *specs);
    size_t n_specs = 0;
    int code = RUNNER_EXIT_USAGE;
    if (!specs) {
        fputs("runexp: out of memory\n", stderr);
        return RUNNER_EXIT_USAGE;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            run_usage(stdout);
            free(specs);
            return 0;
        } else if (!strcmp(a, "--fresh")) {
            o.fresh = 1;
        } else if (!strcmp(a, "--retry")) {
            o.retry = 1;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            o.quiet = 1;
        } else if (!strcmp(a, "--timings")) {
            o.timings = 1;
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
            o.jobs = (int)j;
        } else if (!strcmp(a, "--db") || !strncmp(a, "--db=", 5)) {
            val = a[4] == '=' ? a + 5 : (i + 1 < argc ? argv[++i] : NULL);
            if (!val || !*val) {
                fputs("runexp: --db needs a file name\n", stderr);
                goto usage;
            }
            o.db_path = val;
        } else if (!strcmp(a, "--max-memory") || !strncmp(a, "--max-memory=", 13)) {
            val = a[12] == '=' ? a + 13 : (i + 1 < argc ? argv[++i] : NULL);
            if (!val || plan_memory_parse_size(val, &o.max_memory)) {
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
        o.timings = 1;
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    atomic_store(&stop_requested, 0);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    o.stop = &stop_requested;
    code = runner_run(&o, n_specs, specs, stdout, stderr);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    free(specs);
    return code;
usage:
    run_usage(stderr);
    free(specs);
    return RUNNER_EXIT_USAGE;
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
