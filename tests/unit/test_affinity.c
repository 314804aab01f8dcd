/* Unit tests for affinity (one CPU per trial thread).
 *
 * The expected CPUs come from the kernel, read here independently with
 * sched_getaffinity and sched_getcpu: the plan must list exactly the CPUs the
 * process may use, the calling thread's first; pinning must leave the thread
 * allowed on that one CPU only, and unpinning must give back the whole mask.
 * The tests adapt to the machine's CPU count (CI may have one CPU). */
#define _GNU_SOURCE
#include <sched.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "affinity.h"

static cpu_set_t allowed_now(void)
{
    cpu_set_t s;
    CPU_ZERO(&s);
    assert_int_equal(sched_getaffinity(0, sizeof s, &s), 0);
    return s;
}

/* The plan lists every allowed CPU once, the calling thread's first, the
 * others ascending. */
static void test_plan_lists_the_allowed_cpus(void **state)
{
    (void)state;
    cpu_set_t mask = allowed_now();
    int n = CPU_COUNT(&mask);
    affinity_plan a;
    int before = sched_getcpu();
    affinity_plan_make(&a, n, NULL, NULL);
    int after = sched_getcpu();
    assert_int_equal(a.n_cpus, n);
    /* The thread may have moved between the calls; cpu[0] is where it was. */
    assert_true(a.cpu[0] == before || a.cpu[0] == after);
    cpu_set_t seen;
    CPU_ZERO(&seen);
    for (int i = 0; i < n; i++) {
        assert_true(CPU_ISSET(a.cpu[i], &mask));
        assert_false(CPU_ISSET(a.cpu[i], &seen));
        CPU_SET(a.cpu[i], &seen);
        if (i >= 2)
            assert_true(a.cpu[i] > a.cpu[i - 1]);
    }
    assert_true(CPU_EQUAL(&seen, &mask));
    assert_int_equal(a.active, n >= 2);
}

/* Active only with as many threads as CPUs, two or more, and no policy of
 * the user's. */
static void test_plan_active_only_when_it_cannot_crowd(void **state)
{
    (void)state;
    cpu_set_t mask = allowed_now();
    int n = CPU_COUNT(&mask);
    affinity_plan a;
    affinity_plan_make(&a, n + 1, NULL, NULL);
    assert_false(a.active);
    affinity_plan_make(&a, n - 1, NULL, NULL);
    assert_false(a.active);
    affinity_plan_make(&a, 1, NULL, NULL);
    assert_false(a.active);
    affinity_plan_make(&a, n, "true", NULL);
    assert_false(a.active);
    affinity_plan_make(&a, n, "false", NULL);
    assert_false(a.active);
    affinity_plan_make(&a, n, NULL, "cores");
    assert_false(a.active);
    /* An inactive plan pins nothing. */
    assert_int_equal(affinity_pin(&a, 0), -1);
    assert_int_equal(affinity_unpin(&a), -1);
    cpu_set_t still = allowed_now();
    assert_true(CPU_EQUAL(&still, &mask));
}

/* An active plan asks OpenMP for one spare thread beyond the trial
 * threads; an inactive one for the trial threads alone. */
static void test_team_size(void **state)
{
    (void)state;
    cpu_set_t mask = allowed_now();
    int n = CPU_COUNT(&mask);
    affinity_plan a;
    affinity_plan_make(&a, n, NULL, NULL);
    assert_int_equal(affinity_team_size(&a, n), n >= 2 ? n + 1 : n);
    affinity_plan_make(&a, n + 1, NULL, NULL);
    assert_int_equal(affinity_team_size(&a, n + 1), n + 1);
    affinity_plan_make(&a, 1, NULL, NULL);
    assert_int_equal(affinity_team_size(&a, 1), 1);
    affinity_plan_make(&a, n, "close", NULL);
    assert_int_equal(affinity_team_size(&a, n), n);
    a.active = 1;
    assert_int_equal(affinity_team_size(&a, 3), 4);
}

/* Pinning leaves thread i on cpu[i] only; unpinning restores the mask. Run
 * for every index, with the plan forced active so that a one-CPU machine
 * tests it too. */
static void test_pin_and_unpin(void **state)
{
    (void)state;
    cpu_set_t mask = allowed_now();
    affinity_plan a;
    affinity_plan_make(&a, CPU_COUNT(&mask), NULL, NULL);
    a.active = 1;
    for (int i = 0; i < a.n_cpus; i++) {
        assert_int_equal(affinity_pin(&a, i), 0);
        cpu_set_t one = allowed_now();
        assert_int_equal(CPU_COUNT(&one), 1);
        assert_true(CPU_ISSET(a.cpu[i], &one));
        assert_int_equal(sched_getcpu(), a.cpu[i]);
        assert_int_equal(affinity_unpin(&a), 0);
        cpu_set_t back = allowed_now();
        assert_true(CPU_EQUAL(&back, &mask));
    }
    assert_int_equal(affinity_pin(&a, -1), -1);
    assert_int_equal(affinity_pin(&a, a.n_cpus), -1);
    cpu_set_t back = allowed_now();
    assert_true(CPU_EQUAL(&back, &mask));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_lists_the_allowed_cpus),
        cmocka_unit_test(test_plan_active_only_when_it_cannot_crowd),
        cmocka_unit_test(test_team_size),
        cmocka_unit_test(test_pin_and_unpin),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
