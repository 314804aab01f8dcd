/* affinity: one CPU for each thread of the trial loop (see affinity.h).
 *
 * sched_getaffinity, sched_setaffinity and sched_getcpu are Linux calls,
 * declared by glibc only with _GNU_SOURCE; this is the one file of src/ that
 * asks for them. */
#if defined(__linux__)
#define _GNU_SOURCE
#include <sched.h>
#endif

#include "affinity.h"

#include <string.h>

int affinity_team_size(const affinity_plan *a, int threads)
{
    return a->active ? threads + 1 : threads;
}

#if defined(__linux__)
_Static_assert(sizeof(cpu_set_t) <= sizeof(((affinity_plan *)0)->allowed),
               "affinity_plan.allowed holds a cpu_set_t");

void affinity_plan_make(affinity_plan *a, int threads, const char *omp_proc_bind,
                        const char *omp_places)
{
    memset(a, 0, sizeof *a);
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0 || CPU_COUNT(&set) > AFFINITY_MAX_CPUS)
        return;
    memcpy(a->allowed, &set, sizeof set);
    /* The main thread stays where it is; the other threads take the other
     * CPUs, so none of them stays on the main thread's. */
    int here = sched_getcpu();
    if (here < 0 || here >= CPU_SETSIZE || !CPU_ISSET(here, &set))
        return;
    int n = 0;
    a->cpu[n++] = here;
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (c != here && CPU_ISSET(c, &set))
            a->cpu[n++] = c;
    a->n_cpus = n;
    a->active = threads >= 2 && threads == n && !omp_proc_bind && !omp_places;
}

int affinity_pin(const affinity_plan *a, int thread)
{
    if (!a->active || thread < 0 || thread >= a->n_cpus)
        return -1;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(a->cpu[thread], &one);
    return sched_setaffinity(0, sizeof one, &one) == 0 ? 0 : -1;
}

int affinity_unpin(const affinity_plan *a)
{
    if (!a->active)
        return -1;
    cpu_set_t set;
    memcpy(&set, a->allowed, sizeof set);
    return sched_setaffinity(0, sizeof set, &set) == 0 ? 0 : -1;
}
#else
void affinity_plan_make(affinity_plan *a, int threads, const char *omp_proc_bind,
                        const char *omp_places)
{
    (void)threads;
    (void)omp_proc_bind;
    (void)omp_places;
    memset(a, 0, sizeof *a);
}

int affinity_pin(const affinity_plan *a, int thread)
{
    (void)a;
    (void)thread;
    return -1;
}

int affinity_unpin(const affinity_plan *a)
{
    (void)a;
    return -1;
}
#endif
