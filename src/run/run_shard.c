/* run_shard: `runexp run --shard K/N`: the trials of a plan split into N
 * shards of about equal expected cost, so a job array's tasks end at about
 * the same time. The split is a function of the plan alone: shards are
 * disjoint, together they are the plan, and a rerun of a shard (resume)
 * gets the same trials. See run_internal.h. */
#include "run_internal.h"

#include <stdlib.h>
#include <string.h>

int run_shard_assign(const sweep_plan *p, size_t n_shards, size_t *shard)
{
    size_t n = p->n_trials;
    size_t *order = malloc((n ? n : 1) * sizeof *order);
    double *load = calloc(n_shards ? n_shards : 1, sizeof *load);
    if (!order || !load) {
        free(order);
        free(load);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    /* The order the run layer starts trials in (costliest first, then plan
     * order), so "balanced by cost" uses the one estimate of run_loop.c. */
    if (run_order_by_cost(p, order, n)) {
        free(order);
        free(load);
        return -1;
    }
    /* Greedy LPT: each trial to the shard with the least cost so far. A
     * linear scan per trial: N is a job array's size (tens to thousands). */
    for (size_t i = 0; i < n; i++) {
        size_t best = 0;
        for (size_t s = 1; s < n_shards; s++)
            if (load[s] < load[best])
                best = s;
        shard[order[i]] = best;
        load[best] += run_trial_cost(p, order[i]);
    }
    free(order);
    free(load);
    return 0;
}

int run_shard_filter(const sweep_plan *p, size_t k, size_t n_shards, run_record *r,
                     size_t **map)
{
    size_t n = r->n_trials;
    size_t *shard = malloc((n ? n : 1) * sizeof *shard);
    size_t *m = malloc((n ? n : 1) * sizeof *m);
    if (!shard || !m || run_shard_assign(p, n_shards, shard)) {
        free(shard);
        free(m);
        return -1;
    }
    size_t kept = 0;
    for (size_t i = 0; i < n; i++)
        if (shard[i] == k - 1) {
            r->trials[kept] = r->trials[i];
            m[kept++] = i;
        }
    r->n_trials = kept;
    free(shard);
    *map = m;
    return 0;
}

void run_shard_scatter(const size_t *map, size_t n_kept, size_t n_trials, int64_t *ids,
                       store_plan_action *act)
{
    /* map is increasing and map[i] >= i: moving from the end never
     * overwrites a row still to be moved. */
    size_t next = n_trials;
    for (size_t i = n_kept; i-- > 0;) {
        for (size_t j = map[i] + 1; j < next; j++) {
            ids[j] = 0;
            act[j] = STORE_PLAN_SKIP_DONE;
        }
        ids[map[i]] = ids[i];
        act[map[i]] = act[i];
        next = map[i];
    }
    for (size_t j = 0; j < next; j++) {
        ids[j] = 0;
        act[j] = STORE_PLAN_SKIP_DONE;
    }
}
