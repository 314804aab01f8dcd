/* text_fmt_round against SQLite itself: for each value, the text must equal
 * what SQLite prints for printf('%.Nf', round(x, N)), computed by the
 * sqlite3 library (an independent implementation of the rule). The values
 * are the ones that tell rounding rules apart: decimal halves (0.62625,
 * 0.00005, 2.5e-5), the doubles a few ulps either side of them, negative
 * values, zero, and random values over many magnitudes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "text.h"

typedef struct ref {
    sqlite3 *db;
    sqlite3_stmt *st;
} ref;

static int ref_setup(void **state)
{
    static ref r;
    if (sqlite3_open(":memory:", &r.db) != SQLITE_OK)
        return -1;
    if (sqlite3_prepare_v2(r.db, "SELECT printf('%.*f', ?2, round(?1, ?2))", -1, &r.st, NULL) !=
        SQLITE_OK)
        return -1;
    *state = &r;
    return 0;
}

static int ref_teardown(void **state)
{
    ref *r = *state;
    sqlite3_finalize(r->st);
    sqlite3_close(r->db);
    return 0;
}

static size_t n_failed;

static void check(ref *r, double x, int decimals)
{
    sqlite3_reset(r->st);
    sqlite3_bind_double(r->st, 1, x);
    sqlite3_bind_int(r->st, 2, decimals);
    assert_int_equal(sqlite3_step(r->st), SQLITE_ROW);
    const char *want = (const char *)sqlite3_column_text(r->st, 0);
    char got[512];
    text_fmt_round(got, sizeof got, x, decimals);
    if (strcmp(got, want)) {
        if (n_failed++ < 20)
            fprintf(stderr, "x = %.17g, %d decimals: got %s, SQLite %s\n", x, decimals, got,
                    want);
    }
}

/* x and the doubles 1..3 ulps below and above it. */
static void check_around(ref *r, double x, int decimals)
{
    double lo = x, hi = x;
    check(r, x, decimals);
    for (int k = 0; k < 3; k++) {
        lo = nextafter(lo, -INFINITY);
        hi = nextafter(hi, INFINITY);
        check(r, lo, decimals);
        check(r, hi, decimals);
    }
}

static void test_known_values(void **state)
{
    ref *r = *state;
    char buf[64];
    /* By hand: 0.62625 is stored just below the half and still rounds up
     * (C's printf says 0.6262); 2.5e-5 is below the half at 4 decimals. */
    text_fmt_round(buf, sizeof buf, 0.62625, 4);
    assert_string_equal(buf, "0.6263");
    text_fmt_round(buf, sizeof buf, -0.62625, 4);
    assert_string_equal(buf, "-0.6263");
    text_fmt_round(buf, sizeof buf, 0.00005, 4);
    assert_string_equal(buf, "0.0001");
    text_fmt_round(buf, sizeof buf, 2.5e-5, 4);
    assert_string_equal(buf, "0.0000");
    text_fmt_round(buf, sizeof buf, -0.00001, 4);
    assert_string_equal(buf, "0.0000");
    text_fmt_round(buf, sizeof buf, 1.0, 4);
    assert_string_equal(buf, "1.0000");
    text_fmt_round(buf, sizeof buf, 0.15, 1);
    assert_string_equal(buf, "0.2");
    text_fmt_round(buf, sizeof buf, NAN, 4);
    assert_string_equal(buf, "NaN");
    text_fmt_round(buf, sizeof buf, -INFINITY, 4);
    assert_string_equal(buf, "-Inf");
    assert_int_equal(text_fmt_round(buf, 3, 12.34567, 4), 7);
    assert_string_equal(buf, "12");

    n_failed = 0;
    const double v[] = {0.62625, 0.00005, 2.5e-5, 0.5, 0.15, 0.25, 1.00005, 0.99995,
                        0.6262499999999999, 0.626249999999999, 12345.62625, 8589934592.00005,
                        0.0, 1e-300, 5e-324, 123456789.12345, 1e15 + 0.3, 4503599627370497.0,
                        1e20, 0.87185, 0.91165, 2.675, 1.005};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        for (int d = 0; d <= 6; d++) {
            check_around(r, v[i], d);
            check_around(r, -v[i], d);
        }
    assert_int_equal(n_failed, 0);
}

/* Every decimal half k/10^4 + 0.5/10^4 for k < 20000 and a few ulps
 * around it, and the same at 2 and 6 decimals. */
static void test_decimal_halves(void **state)
{
    ref *r = *state;
    n_failed = 0;
    for (int k = 0; k < 20000; k++) {
        check_around(r, (k + 0.5) / 1e4, 4);
        check_around(r, -(k + 0.5) / 1e4, 4);
        if (k < 2000)
            check_around(r, (k + 0.5) / 1e2, 2);
        check_around(r, (k + 0.5) / 1e6, 6);
    }
    assert_int_equal(n_failed, 0);
}

/* Pseudo-random values (a fixed LCG, no rand()) from 1e-6 to 1e12. */
static void test_random_values(void **state)
{
    ref *r = *state;
    n_failed = 0;
    uint64_t s = 0x9E3779B97F4A7C15u;
    for (int i = 0; i < 100000; i++) {
        s = s * 6364136223846793005u + 1442695040888963407u;
        double u = (double)(s >> 11) / 9007199254740992.0;
        s = s * 6364136223846793005u + 1442695040888963407u;
        double mag = pow(10.0, (double)(s >> 11) / 9007199254740992.0 * 18.0 - 6.0);
        double x = (i & 1 ? -u : u) * mag;
        check(r, x, 4);
        check(r, x, (int)(s >> 60) % 8);
    }
    assert_int_equal(n_failed, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_values),
        cmocka_unit_test(test_decimal_halves),
        cmocka_unit_test(test_random_values),
    };
    return cmocka_run_group_tests(tests, ref_setup, ref_teardown);
}
