/* plan_memory: the memory a plan's trials need, and the memory there is.
 *
 * The estimate is a function of the resolved experiments and their
 * datasets' sizes (e->data.n_rows, n_features, n_classes): it follows what
 * a run allocates and takes each part at its peak:
 *   1. the datasets, each distinct source once (loaded for the whole run);
 *   2. the trials' data splits (run_pipelines.c), each distinct (source,
 *      pipeline, data seed where the pipeline uses one) built once and
 *      shared: a source read by one pipeline only (no repeat; not a pruned
 *      search) holds that pipeline in its own rows, which adds the one-hot
 *      targets, the scaler and the rows' provenance, and while it is built
 *      the lists that choose and order the rows; any other pipeline is a
 *      copy (the three sets with their names, the same extras; while it is
 *      built the lists that choose the rows and, when augmenting, the
 *      augmented rows), of which at most one per trial at once is held,
 *      or more while they hold PLAN_MEMORY_SPLITS_KEPT at most;
 *      what a build needs beyond what it keeps counts where it exceeds the
 *      trial of the worker building it (which starts only afterwards);
 *   3. per trial: the model (nn_model_bytes_for: parameters, gradients,
 *      optimizer state, activations and scratch for one batch), the epoch
 *      order and row classes, one sigmoid unit's targets, the result kept
 *      for the store (final weights, history, confusion matrices,
 *      per-class figures, predictions, grid) and the evaluation buffers
 *      (predictions of the largest split, a confusion matrix, the grid's
 *      points and scores), or later the result alone with the weights
 *      blob the writer makes of it, whichever is larger.
 * Label and feature names are counted at 64 bytes each per copy of a set,
 * plus 1 MiB per trial for its thread's stack and the allocator; runexp
 * itself (code, libraries, SQLite's page cache) is counted as 8 MiB.
 * Nothing here reads YAML or opens a database.
 */
#ifndef RUNEXP_PLAN_MEMORY_H
#define RUNEXP_PLAN_MEMORY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "spec.h"
#include "sweep.h"

/* Constants of the estimate (see above). */
#define PLAN_MEMORY_NAME_BYTES 64u
#define PLAN_MEMORY_TRIAL_SLACK ((uint64_t)1 << 20)
#define PLAN_MEMORY_PROGRAM ((uint64_t)8 << 20)
/* The data splits a trial loop keeps for later trials beyond one copy per
 * worker, at most (run_pipelines.c): small splits (a noisy XOR of 800 rows,
 * one per seed, needed again at every sweep point) are built once per run
 * instead of once per trial. */
#define PLAN_MEMORY_SPLITS_KEPT ((uint64_t)64 << 20)

/* Peak bytes of one trial of e (saturates at UINT64_MAX). */
uint64_t plan_memory_trial(const spec_experiment *e);

/* Bytes of e's dataset as loaded once for the run (features, labels, names). */
uint64_t plan_memory_source(const spec_experiment *e);

/* Peak bytes of one data pipeline of e (2. above): in the source's own
 * memory (in_place) or a copy; *held is what it holds once built. */
uint64_t plan_memory_pipeline(const spec_experiment *e, int in_place, uint64_t *held);

typedef struct plan_memory {
    size_t n_trials;           /* trials of the plan */
    uint64_t trial_min, trial_max; /* one trial: the smallest and the largest */
    size_t at_once;            /* trials run at once: min(jobs, n_trials) */
    uint64_t trials;           /* the at_once largest trials together */
    uint64_t sources;          /* each distinct dataset once */
    uint64_t pipelines;        /* the data splits held at once, at their peak */
    size_t n_pipelines, n_in_place; /* distinct pipelines; of which in place */
    uint64_t shared;           /* sources + pipelines + runexp itself */
    uint64_t total;            /* trials + shared */
} plan_memory;

/* The estimate of plan p run with jobs trials in parallel. Every trial of
 * the plan counts as pending (an upper bound on a resumed run). Returns 0,
 * or -1 when out of memory. */
int plan_memory_estimate(const sweep_plan *p, size_t jobs, plan_memory *out);

/* Memory available to this process: MemAvailable of /proc/meminfo, lowered
 * to the cgroup v2 memory.max of this process's cgroup or of any cgroup
 * above it when one is set and lower. Returns 0 with *bytes set and what
 * (may be NULL) naming the source of the figure, or -1 when neither could
 * be read. */
int plan_memory_available(uint64_t *bytes, char *what, size_t what_len);

/* The same from given files (tests): meminfo (NULL: none), the
 * /proc/self/cgroup text file (NULL: none) and the cgroup v2 mount point. */
int plan_memory_available_from(const char *meminfo, const char *self_cgroup,
                               const char *cgroup_root, uint64_t *bytes, char *what,
                               size_t what_len);

/* A size for --max-memory: a number of bytes, or a number (decimals
 * allowed) with a suffix K, M, G or T (powers of 1024; optionally followed
 * by B or iB, any case): "1048576", "512M", "1.5G", "4GiB". Must be at
 * least 1 byte. Returns 0 with *out set, -1 when s is not such a size. */
int plan_memory_parse_size(const char *s, uint64_t *out);

/* "512 B", "3.2 KiB", "14.4 GiB" into buf. */
void plan_memory_format(uint64_t bytes, char *buf, size_t n);

/* Prints the estimate as `runexp check` shows it (one line each: per trial,
 * at once and shared, the data splits, total). */
void plan_memory_print(const plan_memory *pm, FILE *f);

/* The budget check of `runexp run` for plans run one after the other (all
 * their datasets loaded at the start): the datasets of all plans plus the
 * largest plan's trials at once and data splits, against max_memory, or when it is 0
 * against plan_memory_available(). Returns 0 to go on (also when the
 * available memory cannot be read: a note on err says so), 1 when the plans
 * do not fit (the message on err gives the estimate, the memory available
 * and how to raise the budget), -1 when out of memory. */
int plan_memory_guard(const sweep_plan *plans, size_t n_plans, size_t jobs, uint64_t max_memory,
                      FILE *err);

#endif
