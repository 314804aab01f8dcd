/* plan_memory: the memory a plan's trials need, and the memory there is.
 *
 * The estimate is a function of the resolved experiment and its dataset's
 * size (e->data.n_rows, n_features, n_classes): it follows what a trial
 * allocates (runner_trial_exec and data_pipeline_build) phase by phase and
 * takes the larger phase:
 *   1. the data pipeline: the working copy of the source (augmented), the
 *      two sides of the first split and the index arrays of the split;
 *   2. training and evaluation: the splits (features, labels, one-hot
 *      targets, scaler), the model (nn_model_bytes_for: parameters,
 *      gradients, optimizer state, activations and scratch for one batch),
 *      the epoch order and row classes, the result kept for the store
 *      (final weights, history, confusion matrices, per-class figures,
 *      grid) and the evaluation buffers (predictions of the largest split,
 *      a confusion matrix, the grid's points and scores);
 *   3. the result alone with the weights blob the writer makes of it.
 * Label and feature names are counted at 64 bytes each per copy of a set,
 * plus 1 MiB per trial for its thread's stack and the allocator. Datasets
 * are loaded once per run and shared by every trial that uses them; runexp
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

/* Peak bytes of one trial of e (saturates at UINT64_MAX). */
uint64_t plan_memory_trial(const spec_experiment *e);

/* Bytes of e's dataset as loaded once for the run (features, labels, names). */
uint64_t plan_memory_source(const spec_experiment *e);

typedef struct plan_memory {
    size_t n_trials;           /* trials of the plan */
    uint64_t trial_min, trial_max; /* one trial: the smallest and the largest */
    size_t at_once;            /* trials run at once: min(jobs, n_trials) */
    uint64_t trials;           /* the at_once largest trials together */
    uint64_t shared;           /* each distinct dataset once + runexp itself */
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
 * at once, shared, total). */
void plan_memory_print(const plan_memory *pm, FILE *f);

/* The budget check of `runexp run` for plans run one after the other (all
 * their datasets loaded at the start): the datasets of all plans plus the
 * largest plan's trials at once, against max_memory, or when it is 0
 * against plan_memory_available(). Returns 0 to go on (also when the
 * available memory cannot be read: a note on err says so), 1 when the plans
 * do not fit (the message on err gives the estimate, the memory available
 * and how to raise the budget), -1 when out of memory. */
int plan_memory_guard(const sweep_plan *plans, size_t n_plans, size_t jobs, uint64_t max_memory,
                      FILE *err);

#endif
