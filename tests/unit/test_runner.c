/* Unit tests of the run layer: the summary statistics of the per-point
 * table, and the mapping of a trial's status to the store's. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "run_internal.h"

static void near(double got, double want, double eps, int line)
{
    if (!(fabs(got - want) <= eps)) {
        print_error("line %d: got %.17g, want %.17g (+- %g)\n", line, got, want, eps);
        fail();
    }
}
#define assert_near(a, b, e) near((a), (b), (e), __LINE__)

static void test_stats(void **state)
{
    (void)state;
    /* 0.8, 0.9, 1.0: mean 0.9, sample std sqrt((0.01 + 0 + 0.01) / 2) = 0.1;
     * the NaN is skipped. */
    const double v[4] = {0.8, NAN, 0.9, 1.0};
    size_t c;
    double mean, sd, lo, hi;
    runner_stats(v, 4, &c, &mean, &sd, &lo, &hi);
    assert_int_equal(c, 3);
    assert_near(mean, 0.9, 1e-15);
    assert_near(sd, 0.1, 1e-15);
    assert_near(lo, 0.8, 0);
    assert_near(hi, 1.0, 0);
    runner_stats(v, 1, &c, &mean, &sd, &lo, &hi);
    assert_int_equal(c, 1);
    assert_true(isnan(sd));
    runner_stats(v + 1, 1, &c, &mean, &sd, &lo, &hi);
    assert_int_equal(c, 0);
    assert_true(isnan(mean));
}

/* Every trial status has the store status of the same name. */
static void test_status_map(void **state)
{
    (void)state;
    const trial_status all[4] = {TRIAL_DONE, TRIAL_FAILED, TRIAL_DIVERGED, TRIAL_INTERRUPTED};
    const char *names[4] = {"done", "failed", "diverged", "interrupted"};
    for (int i = 0; i < 4; i++) {
        assert_string_equal(trial_status_name(all[i]), names[i]);
        assert_string_equal(store_status_name(run_store_status(all[i])), names[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stats),
        cmocka_unit_test(test_status_map),
    };
    return cmocka_run_group_tests_name("runner", tests, NULL, NULL);
}
