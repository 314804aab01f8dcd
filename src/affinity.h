/* affinity: one CPU for each thread of the trial loop.
 *
 * Some kernels place a new or woken thread on the CPU of the thread that
 * created or woke it, even with another CPU idle (VMs that pack vCPUs do so
 * on purpose). The trial loop's worker then starts on the main thread's CPU,
 * and both threads share it until the scheduler spreads them. When a run has
 * exactly as many trial threads as CPUs it may use, runexp gives each thread
 * its own CPU for the length of the loop: the main thread keeps the CPU it is
 * on, the others move at once to the rest.
 *
 * Pinning only happens when it cannot crowd a CPU: every CPU the process may
 * use gets exactly one of its threads. A run with fewer threads than CPUs
 * (-j 1 on two cores), or more, is left to the scheduler, and so is any run
 * where the user chose a policy with OMP_PROC_BIND or OMP_PLACES (libgomp
 * applies theirs). Linux only; elsewhere the plan is never active.
 *
 * Pinning needs the worker to reach the loop first, and libgomp holds it
 * back at the team's start barrier until the main thread arrives there too.
 * Sharing the main thread's CPU, the worker spins at that barrier for up to a
 * scheduler slice while the main thread, which it preempted, cannot arrive:
 * up to 8 thread-ms lost per run on such a VM (runexp --timings, "idle at
 * the start"). libgomp spins only briefly, then sleeps, when its team has
 * more threads than the process has CPUs; so an active plan asks OpenMP for
 * one spare thread (affinity_team_size), which takes no trial and sleeps
 * until the loop ends. The worker then gives way at once, the main thread
 * arrives, and both are in the loop within about 0.3 ms. */
#ifndef RUNEXP_AFFINITY_H
#define RUNEXP_AFFINITY_H

/* Largest CPU count pinned (beyond it the plan stays inactive). */
#define AFFINITY_MAX_CPUS 256

typedef struct affinity_plan {
    int active;                 /* 1: pin thread i to cpu[i] */
    int n_cpus;                 /* CPUs this process may run on (0: unknown) */
    int cpu[AFFINITY_MAX_CPUS]; /* cpu[0]: the main thread's, then the others ascending */
    unsigned long allowed[16];  /* the process's CPU mask, to restore */
} affinity_plan;

/* Fills a for a team of `threads` threads, from the calling thread: the
 * team's thread 0, whose current CPU becomes cpu[0]. omp_proc_bind and
 * omp_places are the values of OMP_PROC_BIND and OMP_PLACES (NULL when
 * unset): either set means the user's policy applies, and the plan is
 * inactive. */
void affinity_plan_make(affinity_plan *a, int threads, const char *omp_proc_bind,
                        const char *omp_places);

/* The number of threads to ask OpenMP for, for a loop run by `threads`
 * threads: threads + 1 when the plan is active (the spare thread, number
 * `threads` of the team, takes no trial), else threads. */
int affinity_team_size(const affinity_plan *a, int threads);

/* Pins the calling thread, thread `thread` of the team, to cpu[thread].
 * Returns 0 when pinned, -1 when the plan is inactive, thread is out of range
 * or the system refused (the thread then runs wherever it ran). */
int affinity_pin(const affinity_plan *a, int thread);

/* Lets the calling thread run on every CPU of the mask read by
 * affinity_plan_make again. Returns 0, or -1 (inactive plan or refused). */
int affinity_unpin(const affinity_plan *a);

#endif
