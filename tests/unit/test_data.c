/* Unit tests for src/core/data.c and src/core/data_split.c.
 *
 * Independent references:
 *  - digits: sha256 of the decompressed text, shape and class counts from
 *    shared/reference/keras-semantics.md (checked there with sha256sum and
 *    scikit-learn's load_digits);
 *  - split sizes: worked out by hand from sklearn 1.2.1's
 *    _validate_shuffle_split (ceil for a float test size, floor for train);
 *  - split indices: tests/fixtures/split_cases.txt, written by
 *    tests/fixtures/gen_split_fixtures.py from scikit-learn's own
 *    train_test_split (regenerate: /usr/bin/python3 tests/fixtures/gen_split_fixtures.py);
 *  - CSV error positions, scaler statistics: by hand, in the comments below.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "data.h"
#include "digest.h"

/* ---- helpers ------------------------------------------------------------ */

static data_size sz_none(void)
{
    data_size s = {0, 0, 0.0};
    return s;
}
static data_size sz_int(double v)
{
    data_size s = {1, 1, v};
    return s;
}
static data_size sz_float(double v)
{
    data_size s = {1, 0, v};
    return s;
}
static data_split_config split_cfg(data_size test, data_size train)
{
    data_split_config c;
    c.test = test;
    c.train = train;
    c.shuffle = 1;
    c.stratify = 0;
    return c;
}

static char tmpdir[64];

static int make_tmpdir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/runexp_test_data_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
    (void)state;
    return rmdir(tmpdir);
}

/* Writes the len bytes of text (NUL bytes included) to tmpdir/name;
 * returns the path (static buffer). */
static const char *write_csv_bytes(const char *name, const char *text, size_t len)
{
    static char path[256];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    return path;
}

/* write_csv_bytes of a NUL-terminated text. */
static const char *write_csv(const char *name, const char *text)
{
    return write_csv_bytes(name, text, strlen(text));
}

/* Loads a CSV expected to fail; checks line, column and a message part. */
static void csv_expect_error(const char *name, const char *text,
                             const char *label, unsigned line, unsigned column,
                             const char *msg_part)
{
    data_set d;
    data_error err;
    const char *path = write_csv(name, text);
    memset(&d, 0, sizeof d);
    memset(&err, 0, sizeof err);
    assert_int_equal(data_source_csv(path, label, &d, &err), -1);
    assert_string_equal(err.file, path);
    if (err.line != line || err.column != column || !strstr(err.message, msg_part))
        print_error("%s: got %u:%u '%s', want %u:%u '...%s...'\n", name,
                    err.line, err.column, err.message, line, column, msg_part);
    assert_int_equal(err.line, line);
    assert_int_equal(err.column, column);
    assert_non_null(strstr(err.message, msg_part));
    assert_null(d.x); /* nothing leaked into out */
    unlink(path);
}

/* ---- XOR, repeat, noise -------------------------------------------------- */

static void test_xor(void **state)
{
    data_set d;
    int i;
    (void)state;
    assert_int_equal(data_source_xor(&d), 0);
    assert_int_equal(d.n_rows, 4);
    assert_int_equal(d.n_features, 2);
    assert_int_equal(d.n_classes, 2);
    for (i = 0; i < 4; i++) {
        float x0 = d.x[2 * i], x1 = d.x[2 * i + 1];
        assert_true(x0 == 0.0f || x0 == 1.0f);
        assert_true(x1 == 0.0f || x1 == 1.0f);
        assert_int_equal(d.y[i], x0 != x1);
    }
    /* all four corners, in truth-table order */
    assert_true(d.x[0] == 0 && d.x[1] == 0 && d.x[2] == 0 && d.x[3] == 1 &&
                d.x[4] == 1 && d.x[5] == 0 && d.x[6] == 1 && d.x[7] == 1);
    assert_string_equal(d.class_names[0], "0");
    assert_string_equal(d.class_names[1], "1");
    assert_int_equal(d.image_w, 0);
    data_set_free(&d);
    assert_null(d.x);
    data_set_free(&d); /* safe on a zeroed set */
}

static void test_repeat_and_noise(void **state)
{
    data_set d, c;
    rng_state r, r2;
    size_t i, n;
    double s = 0, s2 = 0, mean, sd;
    (void)state;
    assert_int_equal(data_source_xor(&d), 0);
    assert_int_equal(data_augment_repeat(&d, 200), 0);
    assert_int_equal(d.n_rows, 800);
    /* numpy.tile: row i is row i % 4 of the table */
    for (i = 0; i < 800; i++) {
        assert_int_equal(d.y[i], (int32_t)((i % 4 == 1) || (i % 4 == 2)));
        assert_true(d.x[2 * i] == (float)((i % 4) >= 2));
        assert_true(d.x[2 * i + 1] == (float)((i % 4) % 2));
    }
    assert_int_equal(data_augment_repeat(&d, 0), -1);
    assert_int_equal(data_set_copy(&c, &d), 0);
    rng_stream(&r, 7, RNG_PURPOSE_DATA_NOISE);
    data_augment_noise(&d, 0.3, &r);
    /* the noise of element k is 0.3 * (k-th normal of the stream) */
    rng_stream(&r2, 7, RNG_PURPOSE_DATA_NOISE);
    n = 1600;
    for (i = 0; i < n; i++) {
        double z = rng_normal(&r2);
        double e = d.x[i] - (double)c.x[i];
        assert_true(d.x[i] == (float)((double)c.x[i] + 0.3 * z));
        s += e;
        s2 += e * e;
    }
    /* 1600 draws: sd(mean) = 0.3/40 = 0.0075, sd(std) = 0.3/sqrt(3200) = 0.0053 */
    mean = s / (double)n;
    sd = sqrt(s2 / (double)n - mean * mean);
    assert_true(fabs(mean) < 0.04);
    assert_true(fabs(sd - 0.3) < 0.03);
    data_set_free(&d);
    data_set_free(&c);
}

/* ---- digits ---------------------------------------------------------------- */

static void test_digits(void **state)
{
    static const size_t want[10] = {178, 182, 177, 183, 181, 182, 181, 179, 174, 180};
    data_set d;
    data_error err;
    size_t counts[10], i;
    float lo = 1e9f, hi = -1e9f;
    (void)state;
    memset(&err, 0, sizeof err);
    assert_int_equal(data_source_digits(&d, &err), 0);
    assert_int_equal(d.n_rows, 1797);
    assert_int_equal(d.n_features, 64);
    assert_int_equal(d.n_classes, 10);
    assert_int_equal(d.image_w, 8);
    assert_int_equal(d.image_h, 8);
    for (i = 0; i < 1797 * 64; i++) {
        assert_true(d.x[i] == floorf(d.x[i]));
        if (d.x[i] < lo) lo = d.x[i];
        if (d.x[i] > hi) hi = d.x[i];
    }
    assert_true(lo == 0.0f && hi == 16.0f);
    data_class_counts(&d, counts);
    for (i = 0; i < 10; i++) {
        char name[4];
        assert_int_equal(counts[i], want[i]);
        snprintf(name, sizeof name, "%zu", i);
        assert_string_equal(d.class_names[i], name);
    }
    /* first row of the file: 0,0,5,13,9,1,0,0,... label 0 */
    assert_true(d.x[2] == 5.0f && d.x[3] == 13.0f && d.x[4] == 9.0f);
    assert_int_equal(d.y[0], 0);
    assert_int_equal(d.y[1], 1);
    data_set_free(&d);
}

static void test_digits_sha256(void **state)
{
    static const char want[] =
        "6ebb3d2fee246a4e99363262ddf8a00a3c41bee6014c373ed9d9216ba7f651b8";
    char hex[65];
    size_t len = 0;
    data_error err;
    char *text;
    (void)state;
    text = data_digits_csv_text(&len, &err);
    assert_non_null(text);
    assert_int_equal(len, strlen(text));
    digest_sha256_hex(text, len, hex);
    assert_string_equal(hex, want);
    free(text);
}

/* ---- split sizes ------------------------------------------------------- */

static void sizes_ok(size_t n, data_size test, data_size train, size_t want_train,
                     size_t want_test)
{
    data_split_config c = split_cfg(test, train);
    data_error err;
    size_t a = 0, b = 0;
    memset(&err, 0, sizeof err);
    if (data_split_sizes(n, &c, &a, &b, &err) != 0)
        print_error("n=%zu: unexpected error '%s'\n", n, err.message);
    assert_int_equal(data_split_sizes(n, &c, &a, &b, &err), 0);
    assert_int_equal(a, want_train);
    assert_int_equal(b, want_test);
}

static void sizes_err(size_t n, data_size test, data_size train, const char *part)
{
    data_split_config c = split_cfg(test, train);
    data_error err;
    size_t a = 12345, b = 12345;
    memset(&err, 0, sizeof err);
    assert_int_equal(data_split_sizes(n, &c, &a, &b, &err), -1);
    if (!strstr(err.message, part))
        print_error("n=%zu: message '%s' lacks '%s'\n", n, err.message, part);
    assert_non_null(strstr(err.message, part));
    assert_int_equal(a, 12345); /* outputs untouched on error */
}

static void test_split_sizes(void **state)
{
    (void)state;
    /* the two labs */
    sizes_ok(800, sz_float(0.2), sz_none(), 640, 160);
    sizes_ok(640, sz_int(20), sz_none(), 620, 20);
    sizes_ok(1797, sz_none(), sz_none(), 1347, 450);  /* ceil(449.25) = 450 */
    sizes_ok(1347, sz_none(), sz_none(), 1010, 337);  /* ceil(336.75) = 337 */
    /* int vs float: 20 rows vs 20 % */
    sizes_ok(640, sz_float(0.2), sz_none(), 512, 128);
    sizes_ok(10, sz_float(0.25), sz_none(), 7, 3);    /* ceil(2.5) = 3 */
    sizes_ok(7, sz_none(), sz_float(0.5), 3, 4);      /* floor(3.5) = 3 */
    sizes_ok(10, sz_none(), sz_int(4), 4, 6);
    sizes_ok(100, sz_float(0.3), sz_float(0.5), 50, 30);
    sizes_ok(100, sz_float(0.5), sz_float(0.5), 50, 50); /* sum 1 is allowed */
    sizes_ok(10, sz_int(3), sz_int(5), 5, 3);
    sizes_ok(10, sz_int(9), sz_none(), 1, 9);
    /* errors, with sklearn's wording */
    sizes_err(10, sz_int(0), sz_none(), "test_size=0 should be either positive");
    sizes_err(10, sz_int(10), sz_none(), "smaller than the number of samples 10");
    sizes_err(10, sz_float(0.0), sz_none(), "test_size=0.0 should be either positive and smaller than the number of samples 10 or a float in the (0, 1) range");
    sizes_err(10, sz_float(1.0), sz_none(), "test_size=1.0 should be");
    sizes_err(10, sz_float(1.5), sz_none(), "test_size=1.5 should be");
    sizes_err(10, sz_int(2.5), sz_none(), "test_size=");
    sizes_err(10, sz_none(), sz_int(10), "train_size=10 should be");
    sizes_err(10, sz_none(), sz_float(1.0), "train_size=1.0 should be");
    sizes_err(10, sz_float(0.6), sz_float(0.6), "The sum of test_size and train_size = 1.2, should be in the (0, 1) range. Reduce test_size and/or train_size.");
    sizes_err(10, sz_int(6), sz_int(5), "The sum of train_size and test_size = 11, should be smaller than the number of samples 10. Reduce test_size and/or train_size.");
    sizes_err(10, sz_float(0.99), sz_none(), "With n_samples=10, test_size=0.99 and train_size=None, the resulting train set will be empty. Adjust any of the aforementioned parameters.");
    sizes_err(1, sz_none(), sz_none(), "With n_samples=1, test_size=0.25 and train_size=None");
    sizes_err(0, sz_none(), sz_none(), "train set will be empty");
}

/* ---- split indices against scikit-learn ---------------------------------- */

static int parse_size_token(const char *tok, data_size *s)
{
    if (strcmp(tok, "none") == 0) {
        *s = sz_none();
        return 0;
    }
    if (tok[0] == 'i' && tok[1] == ':') {
        *s = sz_int(strtod(tok + 2, NULL));
        return 0;
    }
    if (tok[0] == 'f' && tok[1] == ':') {
        *s = sz_float(strtod(tok + 2, NULL));
        return 0;
    }
    return -1;
}

/* Reads "KEY COUNT v0 v1 ..." into a new array. */
static uint32_t *parse_list(char *line, const char *key, size_t *count)
{
    char *tok, *save = NULL;
    uint32_t *v;
    size_t i = 0;
    tok = strtok_r(line, " \n", &save);
    assert_non_null(tok);
    assert_string_equal(tok, key);
    tok = strtok_r(NULL, " \n", &save);
    assert_non_null(tok);
    *count = (size_t)strtoul(tok, NULL, 10);
    v = malloc((*count + 1) * sizeof *v);
    assert_non_null(v);
    while ((tok = strtok_r(NULL, " \n", &save)) != NULL) {
        assert_true(i < *count);
        v[i++] = (uint32_t)strtoul(tok, NULL, 10);
    }
    assert_int_equal(i, *count);
    return v;
}

static void test_split_indices_sklearn(void **state)
{
    const char *dir = getenv("RUNEXP_FIXTURES");
    char path[512], name[64], tt[64], tr[64];
    char *line = NULL;
    size_t cap = 0, n_cases = 0, n_strat = 0;
    FILE *f;
    (void)state;
    snprintf(path, sizeof path, "%s/split_cases.txt", dir ? dir : RUNEXP_FIXTURES);
    f = fopen(path, "r");
    if (!f)
        print_error("cannot open %s\n", path);
    assert_non_null(f);
    while (getline(&line, &cap, f) > 0) {
        unsigned long n, seed;
        int strat;
        data_split_config c;
        int32_t *y = NULL;
        uint32_t *want_tr, *want_te, *got_tr, *got_te;
        size_t n_wtr, n_wte, n_gtr = 0, n_gte = 0, n_classes = 0, i;
        data_error err;
        assert_int_equal(sscanf(line, "case %63s n=%lu test=%63s train=%63s stratify=%d seed=%lu",
                                name, &n, tt, tr, &strat, &seed), 6);
        c.shuffle = 1;
        c.stratify = strat;
        assert_int_equal(parse_size_token(tt, &c.test), 0);
        assert_int_equal(parse_size_token(tr, &c.train), 0);
        if (strat) {
            size_t ny;
            uint32_t *yy;
            assert_true(getline(&line, &cap, f) > 0);
            yy = parse_list(line, "y", &ny);
            assert_int_equal(ny, n);
            y = malloc(n * sizeof *y);
            assert_non_null(y);
            for (i = 0; i < n; i++) {
                y[i] = (int32_t)yy[i];
                if ((size_t)y[i] + 1 > n_classes)
                    n_classes = (size_t)y[i] + 1;
            }
            free(yy);
        }
        assert_true(getline(&line, &cap, f) > 0);
        want_tr = parse_list(line, "train", &n_wtr);
        assert_true(getline(&line, &cap, f) > 0);
        want_te = parse_list(line, "test", &n_wte);
        got_tr = malloc(n * sizeof *got_tr);
        got_te = malloc(n * sizeof *got_te);
        assert_non_null(got_tr);
        assert_non_null(got_te);
        memset(&err, 0, sizeof err);
        if (data_split_indices(n, y, n_classes, &c, (uint32_t)seed, got_tr, &n_gtr,
                               got_te, &n_gte, &err) != 0)
            print_error("%s: %s\n", name, err.message);
        assert_int_equal(data_split_indices(n, y, n_classes, &c, (uint32_t)seed, got_tr,
                                            &n_gtr, got_te, &n_gte, &err), 0);
        if (n_gtr != n_wtr || n_gte != n_wte ||
            memcmp(got_tr, want_tr, n_wtr * sizeof *got_tr) != 0 ||
            memcmp(got_te, want_te, n_wte * sizeof *got_te) != 0)
            print_error("case %s differs from scikit-learn\n", name);
        assert_int_equal(n_gtr, n_wtr);
        assert_int_equal(n_gte, n_wte);
        assert_memory_equal(got_tr, want_tr, n_wtr * sizeof *got_tr);
        assert_memory_equal(got_te, want_te, n_wte * sizeof *got_te);
        free(y);
        free(want_tr);
        free(want_te);
        free(got_tr);
        free(got_te);
        n_cases++;
        n_strat += (size_t)strat;
    }
    free(line);
    fclose(f);
    assert_int_equal(n_cases, 18);
    assert_int_equal(n_strat, 6);
}

static void test_split_noshuffle_and_stratify(void **state)
{
    data_set d;
    data_error err;
    data_split_config c = split_cfg(sz_float(0.2), sz_none());
    uint32_t tr[1797], te[1797];
    size_t ntr = 0, nte = 0, i, k, all[10], ctr[10], cte[10];
    (void)state;
    /* shuffle = false: train is the first rows, test follows */
    c.shuffle = 0;
    assert_int_equal(data_split_indices(10, NULL, 0, &c, 1, tr, &ntr, te, &nte, &err), 0);
    assert_int_equal(ntr, 8);
    assert_int_equal(nte, 2);
    for (i = 0; i < 8; i++)
        assert_int_equal(tr[i], i);
    assert_int_equal(te[0], 8);
    assert_int_equal(te[1], 9);
    c.stratify = 1;
    assert_int_equal(data_split_indices(10, NULL, 0, &c, 1, tr, &ntr, te, &nte, &err), -1);
    assert_non_null(strstr(err.message, "not implemented for shuffle=False"));

    /* stratified digits split: every class within one row of its share */
    assert_int_equal(data_source_digits(&d, &err), 0);
    data_class_counts(&d, all);
    c = split_cfg(sz_none(), sz_none());
    c.stratify = 1;
    for (k = 0; k < 3; k++) {
        assert_int_equal(data_split_indices(d.n_rows, d.y, 10, &c, (uint32_t)k, tr, &ntr,
                                            te, &nte, &err), 0);
        assert_int_equal(ntr, 1347);
        assert_int_equal(nte, 450);
        memset(ctr, 0, sizeof ctr);
        memset(cte, 0, sizeof cte);
        for (i = 0; i < ntr; i++)
            ctr[d.y[tr[i]]]++;
        for (i = 0; i < nte; i++)
            cte[d.y[te[i]]]++;
        for (i = 0; i < 10; i++) {
            double share = (double)all[i] / 1797.0;
            assert_true(fabs((double)cte[i] - share * 450.0) <= 1.0);
            assert_true(fabs((double)ctr[i] - share * 1347.0) <= 1.0);
            assert_int_equal(ctr[i] + cte[i], all[i]);
        }
    }
    /* stratify errors: a class with one member; fewer test rows than classes */
    {
        int32_t y1[6] = {0, 0, 0, 1, 1, 2};
        int32_t y2[20] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2};
        c = split_cfg(sz_int(3), sz_none());
        c.stratify = 1;
        assert_int_equal(data_split_indices(6, y1, 3, &c, 0, tr, &ntr, te, &nte, &err), -1);
        assert_non_null(strstr(err.message, "least populated class in y has only 1 member"));
        c.test = sz_int(2);
        assert_int_equal(data_split_indices(20, y2, 3, &c, 0, tr, &ntr, te, &nte, &err), -1);
        assert_non_null(strstr(err.message, "The test_size = 2 should be greater or equal to the number of classes = 3"));
        c.test = sz_int(18);
        assert_int_equal(data_split_indices(20, y2, 3, &c, 0, tr, &ntr, te, &nte, &err), -1);
        assert_non_null(strstr(err.message, "The train_size = 2 should be greater"));
    }
    data_set_free(&d);
}

/* ---- CSV ------------------------------------------------------------------ */

static void test_csv_ok(void **state)
{
    data_set d;
    data_error err;
    const char *path;
    (void)state;
    memset(&err, 0, sizeof err);
    /* CRLF, a blank line, trailing newline, spaces around cells, string
     * labels sorted by strcmp ("cat" < "dog" < "emu") */
    path = write_csv("ok1.csv", "a,b,label\r\n1,2.5,dog\r\n\r\n -3 ,4e1,cat\r\n0.5,-0,emu\r\n7,8,dog\r\n");
    assert_int_equal(data_source_csv(path, NULL, &d, &err), 0);
    assert_int_equal(d.n_rows, 4);
    assert_int_equal(d.n_features, 2);
    assert_int_equal(d.n_classes, 3);
    assert_string_equal(d.class_names[0], "cat");
    assert_string_equal(d.class_names[1], "dog");
    assert_string_equal(d.class_names[2], "emu");
    assert_string_equal(d.feature_names[0], "a");
    assert_string_equal(d.feature_names[1], "b");
    assert_true(d.x[0] == 1.0f && d.x[1] == 2.5f && d.x[2] == -3.0f && d.x[3] == 40.0f);
    assert_true(d.x[4] == 0.5f && d.x[5] == 0.0f && d.x[6] == 7.0f && d.x[7] == 8.0f);
    assert_int_equal(d.y[0], 1);
    assert_int_equal(d.y[1], 0);
    assert_int_equal(d.y[2], 2);
    assert_int_equal(d.y[3], 1);
    data_set_free(&d);
    unlink(path);

    /* label column by name in the middle; integer labels sorted numerically
     * (2 < 9 < 10, where strcmp would put "10" first); no final newline */
    path = write_csv("ok2.csv", "x,cls,z\n1,10,2\n3,9,4\n5,2,6\n7,09,8");
    assert_int_equal(data_source_csv(path, "cls", &d, &err), 0);
    assert_int_equal(d.n_rows, 4);
    assert_int_equal(d.n_features, 2);
    assert_int_equal(d.n_classes, 3);
    assert_string_equal(d.class_names[0], "2");
    assert_string_equal(d.class_names[1], "9");
    assert_string_equal(d.class_names[2], "10");
    assert_int_equal(d.y[0], 2);
    assert_int_equal(d.y[1], 1);
    assert_int_equal(d.y[2], 0);
    assert_int_equal(d.y[3], 1); /* "09" is the integer 9 */
    assert_string_equal(d.feature_names[0], "x");
    assert_string_equal(d.feature_names[1], "z");
    assert_true(d.x[0] == 1.0f && d.x[1] == 2.0f && d.x[6] == 7.0f && d.x[7] == 8.0f);
    data_set_free(&d);
    unlink(path);

    /* quoted fields: a comma and a doubled quote inside quotes */
    path = write_csv("ok3.csv", "\"a,1\",b,label\n1,2,\"x,y\"\n3,\"4\",\"say \"\"hi\"\"\"\n");
    assert_int_equal(data_source_csv(path, NULL, &d, &err), 0);
    assert_int_equal(d.n_rows, 2);
    assert_string_equal(d.feature_names[0], "a,1");
    assert_string_equal(d.class_names[0], "say \"hi\"");
    assert_string_equal(d.class_names[1], "x,y");
    assert_true(d.x[3] == 4.0f);
    assert_int_equal(d.y[0], 1);
    data_set_free(&d);
    unlink(path);
}

/* data_features_csv: the named features in the model's order, whatever the
 * file's; the label column skipped; wrong column sets named. And the label
 * column's name kept by data_source_csv (and by copies of the set). */
static void test_features_csv(void **state)
{
    data_set d, c;
    data_error err;
    const char *path;
    char *feat[2] = {"a", "b"};
    (void)state;
    memset(&err, 0, sizeof err);
    path = write_csv("feat1.csv", "kind,b,a\ncat,2,1\n\nnot a number,4.5,-3\n");
    assert_int_equal(data_features_csv(path, feat, 2, "kind", &d, &err), 0);
    assert_int_equal(d.n_rows, 2);
    assert_int_equal(d.n_features, 2);
    assert_null(d.y);
    assert_true(d.x[0] == 1.0f && d.x[1] == 2.0f && d.x[2] == -3.0f && d.x[3] == 4.5f);
    assert_string_equal(d.feature_names[1], "b");
    data_set_free(&d);
    /* without the label allowed, kind is an unknown column (field 1) */
    assert_int_equal(data_features_csv(path, feat, 2, NULL, &d, &err), -1);
    assert_int_equal(err.line, 1);
    assert_int_equal(err.column, 1);
    assert_string_equal(err.message, "the columns do not match the model's 2 features: unknown"
                                     " 'kind'; expected 'a', 'b'");
    unlink(path);
    path = write_csv("feat2.csv", "a,c\n1,2\n");
    assert_int_equal(data_features_csv(path, feat, 2, "y", &d, &err), -1);
    assert_int_equal(err.column, 3);
    assert_string_equal(err.message, "the columns do not match the model's 2 features: missing"
                                     " 'b'; unknown 'c'; expected 'a', 'b' (and optionally the"
                                     " label column 'y')");
    unlink(path);
    path = write_csv("feat3.csv", "b,a\n1\n");
    assert_int_equal(data_features_csv(path, feat, 2, NULL, &d, &err), -1);
    assert_int_equal(err.line, 2);
    assert_int_equal(err.column, 2);
    assert_string_equal(err.message, "ragged row: 1 fields, the header has 2");
    unlink(path);

    path = write_csv("feat4.csv", "a,kind,b\n1,x,2\n3,y,4\n");
    assert_int_equal(data_source_csv(path, "kind", &d, &err), 0);
    assert_string_equal(d.label_name, "kind");
    assert_int_equal(data_set_copy(&c, &d), 0);
    assert_string_equal(c.label_name, "kind");
    data_set_free(&c);
    data_set_free(&d);
    unlink(path);
}

/* The parse of text in memory: only text[0..len) is read (the bytes after
 * it, and no NUL at its end, change nothing), the text is left as given
 * (a caller hashes the same buffer), errors carry the name given, and a
 * CR-only line end at the very end of the text is one line end. */
static void test_csv_buffer(void **state)
{
    static const char text[] = "a, \"b\" ,label\r\n1,2,\"x\"\r\n3,4,y\rGARBAGE,,,";
    size_t len = sizeof text - 1 - strlen("GARBAGE,,,");
    char *copy = malloc(sizeof text);
    data_set d;
    data_error err;
    (void)state;
    memset(&err, 0, sizeof err);
    assert_non_null(copy);
    memcpy(copy, text, sizeof text);
    assert_int_equal(data_source_csv_buffer(copy, len, "mem.csv", NULL, &d, &err), 0);
    assert_memory_equal(copy, text, sizeof text);
    assert_int_equal(d.n_rows, 2);
    assert_int_equal(d.n_features, 2);
    assert_string_equal(d.feature_names[1], "b");
    assert_string_equal(d.class_names[0], "x");
    assert_true(d.x[0] == 1.0f && d.x[3] == 4.0f);
    assert_int_equal(d.y[1], 1);
    data_set_free(&d);
    /* the whole text: the garbage line is ragged, named by the name given */
    assert_int_equal(data_source_csv_buffer(copy, sizeof text - 1, "mem.csv", NULL, &d, &err), -1);
    assert_string_equal(err.file, "mem.csv");
    assert_int_equal(err.line, 4);
    assert_non_null(strstr(err.message, "ragged row: 4 fields"));
    assert_memory_equal(copy, text, sizeof text);
    free(copy);
    /* empty text, even without a buffer */
    assert_int_equal(data_source_csv_buffer(NULL, 0, "none.csv", NULL, &d, &err), -1);
    assert_non_null(strstr(err.message, "empty file"));
}

static void test_csv_errors(void **state)
{
    data_set d;
    data_error err;
    (void)state;
    memset(&d, 0, sizeof d);
    assert_int_equal(data_source_csv("/nonexistent/runexp.csv", NULL, &d, &err), -1);
    assert_string_equal(err.file, "/nonexistent/runexp.csv");
    assert_int_equal(err.line, 0);
    assert_non_null(strstr(err.message, "cannot open"));

    csv_expect_error("empty.csv", "", NULL, 1, 0, "empty file");
    csv_expect_error("blank.csv", "\n  \n", NULL, 1, 0, "empty file");
    csv_expect_error("header_only.csv", "a,b,label\n", NULL, 2, 0, "no data rows");
    csv_expect_error("one_col.csv", "label\nx\n", NULL, 1, 1, "at least one feature");
    /* "3,4,y,5": the extra 4th cell starts at column 7 */
    csv_expect_error("ragged_long.csv", "a,b,label\n1,2,x\n3,4,y,5\n", NULL, 3, 7,
                     "ragged row: 4 fields, the header has 3");
    /* "3,4": the missing cell would start after column 3, at column 4 */
    csv_expect_error("ragged_short.csv", "a,b,label\n1,2,x\n3,4\n", NULL, 3, 4,
                     "ragged row: 2 fields, the header has 3");
    /* "3,abc,y": the bad cell starts at column 3 */
    csv_expect_error("nonnum.csv", "a,b,label\n1,2,x\n3,abc,y\n", NULL, 3, 3,
                     "column 'b': 'abc' is not a finite number");
    csv_expect_error("trailing.csv", "a,b,label\n1,2,x\n10,1.5x,y\n", NULL, 3, 4, "'1.5x'");
    csv_expect_error("empty_cell.csv", "a,b,label\n1,2,x\n3,,y\n", NULL, 3, 3, "'' is not");
    csv_expect_error("nan.csv", "a,b,label\n1,nan,x\n3,4,y\n", NULL, 2, 3, "'nan'");
    csv_expect_error("inf.csv", "a,b,label\n1,2,x\n1e999,4,y\n", NULL, 3, 1, "'1e999'");
    csv_expect_error("hex.csv", "a,b,label\n0x10,2,x\n3,4,y\n", NULL, 2, 1, "'0x10'");
    /* CRLF does not shift the columns: "1,zz,y" -> column 3 of line 3 */
    csv_expect_error("crlf.csv", "a,b,label\r\n1,2,x\r\n1,zz,y\r\n", NULL, 3, 3, "'zz'");
    /* line numbers count blank lines */
    csv_expect_error("blank_lines.csv", "a,b,label\n\n1,2,x\n\n3,q,y\n", NULL, 5, 3, "'q'");
    csv_expect_error("unknown_label.csv", "a,b,label\n1,2,x\n3,4,y\n", "target", 1, 1,
                     "no label column named 'target'; the header has: 'a', 'b', 'label'");
    /* one class: points at the label column's header cell, column 3 */
    csv_expect_error("one_class.csv", "a,label\n1,x\n2,x\n", NULL, 1, 3,
                     "label column 'label' has 1 class ('x'); need at least two");
    csv_expect_error("empty_label.csv", "a,label\n1,x\n2,\n", NULL, 3, 3, "empty label");
    csv_expect_error("unterminated.csv", "a,label\n1,\"x\n2,y\n", NULL, 2, 3, "unterminated quoted");
}

/* Names, bytes, line ends and labels the reader used to take for something
 * else. Positions are counted by hand from the texts. */
static void test_csv_header_names(void **state)
{
    (void)state;
    /* "a,a,y": the second 'a' is header field 2, at byte column 3; with
     * label: a it used to become the label column silently */
    csv_expect_error("dup.csv", "a,a,y\n1,2,3\n4,5,6\n", "a", 1, 3,
                     "header field 2 repeats the column name 'a' of field 1");
    csv_expect_error("dup_nolabel.csv", "a,a,y\n1,2,3\n4,5,6\n", NULL, 1, 3,
                     "column names must be unique");
    /* the first repeat in the line: "bb" at field 3 (column 6), not "a" at 4 */
    csv_expect_error("dup_two.csv", "a,bb,bb,a,y\n1,2,3,4,x\n1,2,3,4,z\n", NULL, 1, 6,
                     "header field 3 repeats the column name 'bb' of field 2");
    /* quoted and bare spellings of one name are one name */
    csv_expect_error("dup_quoted.csv", "x, \"x\" ,y\n1,2,3\n4,5,6\n", NULL, 1, 3,
                     "header field 2 repeats the column name 'x' of field 1");
    /* an empty header name (pandas' index column) is no column name */
    csv_expect_error("empty_name.csv", ",a,y\n0,1,x\n1,2,z\n", NULL, 1, 1,
                     "header field 1 is empty");
    csv_expect_error("empty_name2.csv", "a, ,y\n0,1,x\n1,2,z\n", NULL, 1, 3,
                     "header field 2 is empty");
}

static void test_csv_nul_byte(void **state)
{
    data_set d;
    data_error err;
    static const char nul_text[] = "a,b,y\n1,2,x\n3\0,4,z\n";
    (void)state;
    /* A NUL byte at line 3, column 2 (after "3"); it used to be a "ragged
     * row". Written with its length: strlen would stop at the NUL. */
    {
        FILE *f;
        char p[256];
        snprintf(p, sizeof p, "%s/nul.csv", tmpdir);
        f = fopen(p, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(nul_text, 1, sizeof nul_text - 1, f), sizeof nul_text - 1);
        assert_int_equal(fclose(f), 0);
        memset(&err, 0, sizeof err);
        assert_int_equal(data_source_csv(p, NULL, &d, &err), -1);
        assert_int_equal(err.line, 3);
        assert_int_equal(err.column, 2);
        assert_non_null(strstr(err.message, "NUL byte"));
        assert_null(strstr(err.message, "ragged"));
        /* a NUL in the header of a CRLF file with a BOM: line 2 of the
         * text, column 3 counted after the BOM only on line 1 */
        f = fopen(p, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite("\xEF\xBB\xBF" "a,b\r\n1\r\n", 1, 11, f), 11);
        assert_int_equal(fwrite("1,\0\r\n", 1, 5, f), 5);
        assert_int_equal(fclose(f), 0);
        memset(&err, 0, sizeof err);
        assert_int_equal(data_source_csv(p, NULL, &d, &err), -1);
        assert_int_equal(err.line, 3);
        assert_int_equal(err.column, 3);
        assert_non_null(strstr(err.message, "NUL byte"));
        /* UTF-16 (little-endian, with its byte order mark): "a,y\n" */
        f = fopen(p, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite("\xFF\xFE" "a\0,\0y\0\n\0", 1, 10, f), 10);
        assert_int_equal(fclose(f), 0);
        memset(&err, 0, sizeof err);
        assert_int_equal(data_source_csv(p, NULL, &d, &err), -1);
        assert_int_equal(err.line, 1);
        assert_int_equal(err.column, 1);
        assert_non_null(strstr(err.message, "UTF-16"));
        unlink(p);
    }
}

static void test_csv_cr_line_ends(void **state)
{
    data_set d;
    data_error err;
    const char *path;
    (void)state;
    /* CR-only line ends (old Mac files) are line ends: 3 rows, not a
     * header holding the whole file */
    memset(&err, 0, sizeof err);
    path = write_csv("cr.csv", "a,b,y\r1,2,x\r\r3,4,z\r5,6,x");
    assert_int_equal(data_source_csv(path, NULL, &d, &err), 0);
    assert_int_equal(d.n_rows, 3);
    assert_int_equal(d.n_features, 2);
    assert_int_equal(d.n_classes, 2);
    assert_string_equal(d.feature_names[1], "b");
    assert_true(d.x[0] == 1.0f && d.x[3] == 4.0f && d.x[4] == 5.0f && d.x[5] == 6.0f);
    assert_int_equal(d.y[0], 0);
    assert_int_equal(d.y[1], 1);
    assert_int_equal(d.y[2], 0);
    data_set_free(&d);
    unlink(path);
    /* ... and count as lines in errors: "5,q,x" is line 5 ("\r\r" is a
     * blank line, "\r\n" one line end) */
    csv_expect_error("cr_err.csv", "a,b,y\r1,2,x\r\r3,4,z\r\n5,q,x\r", NULL, 5, 3, "'q'");
}

static void test_csv_numeric_labels(void **state)
{
    data_set d;
    data_error err;
    const char *path;
    (void)state;

    /* Numeric labels are classes by value: "1", "1.0", "01" and "1e0" are
     * one class named "1"; classes in numeric order (0.5 < 1 < 2 < 10,
     * where strcmp would put "10" before "2"), named by the shortest text
     * of the value ("0.50" -> "0.5", "-0" -> "0") */
    memset(&err, 0, sizeof err);
    path = write_csv("num.csv", "a,y\n1,1\n2,1.0\n3,10\n4,0.50\n5,01\n6,2\n7,1e0\n8,-0\n9,.5\n");
    assert_int_equal(data_source_csv(path, NULL, &d, &err), 0);
    assert_int_equal(d.n_rows, 9);
    assert_int_equal(d.n_classes, 5);
    assert_string_equal(d.class_names[0], "0");
    assert_string_equal(d.class_names[1], "0.5");
    assert_string_equal(d.class_names[2], "1");
    assert_string_equal(d.class_names[3], "2");
    assert_string_equal(d.class_names[4], "10");
    {
        static const int32_t want[9] = {2, 2, 4, 1, 2, 3, 2, 0, 1};
        for (size_t i = 0; i < 9; i++)
            assert_int_equal(d.y[i], want[i]);
    }
    data_set_free(&d);
    unlink(path);
    /* one non-number makes every label text: "1" and "1.0" stay two
     * classes, in strcmp order */
    memset(&err, 0, sizeof err);
    path = write_csv("mixed.csv", "a,y\n1,1\n2,1.0\n3,cat\n");
    assert_int_equal(data_source_csv(path, NULL, &d, &err), 0);
    assert_int_equal(d.n_classes, 3);
    assert_string_equal(d.class_names[0], "1");
    assert_string_equal(d.class_names[1], "1.0");
    assert_string_equal(d.class_names[2], "cat");
    data_set_free(&d);
    unlink(path);
    /* "1" and "1.0" only: one class, an error like any single class */
    csv_expect_error("one_numeric.csv", "a,y\n1,1\n2,1.0\n", NULL, 1, 3,
                     "has 1 class");
}

static void test_csv_directory(void **state)
{
    data_set d;
    data_error err;
    (void)state;
    /* a directory is not a CSV file, and says so */
    memset(&err, 0, sizeof err);
    assert_int_equal(data_source_csv(tmpdir, NULL, &d, &err), -1);
    assert_int_equal(err.line, 0);
    assert_non_null(strstr(err.message, "is a directory"));
}

/* ---- the fast path for numbers, the reader in pieces --------------------- */

/* Bits of a double, so -0 and 0 differ and nothing compares by value. */
static uint64_t dbits(double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    return u;
}

/* s read by data_decimal_fast and by strtod: when the fast path takes it,
 * the same end and the same double, bit for bit. Returns whether it did. */
static int fast_matches_strtod(const char *s)
{
    double fast = 0, ref;
    char *end;
    const char *q = data_decimal_fast(s, &fast);
    if (!q)
        return 0;
    ref = strtod(s, &end);
    if (q != end || dbits(fast) != dbits(ref))
        print_error("'%s': fast %.17g (end %td), strtod %.17g (end %td)\n", s, fast,
                    q - s, ref, end - s);
    assert_ptr_equal(q, end);
    assert_true(dbits(fast) == dbits(ref));
    return 1;
}

static void test_decimal_fast(void **state)
{
    /* On the fast path (m <= 2^53, |k| <= 22) or not, as worked out by hand;
     * each one taken is compared with strtod. */
    static const char *const taken[] = {
        "0", "-0", "+0", "00", "0.0", "-0.000", ".5", "5.", "-.5", "+5.e1", "1e5", "1E+05",
        "1e-5", "0012.5000", "255", "0.501961", "3.14159", "1e22", "1e-22", "-1e22",
        "9007199254740992",         /* 2^53 */
        "9007199254740.992",
        "0.000000000000000000001",  /* k = -21 */
        "1234567890123456e6",       /* 16 digits, k = 6 */
    };
    static const char *const refused[] = {
        "", "-", "+", ".", "-.", "e5", ".e5", "1e", "1e+", "1e-", "x", "nan", "inf",
        "9007199254740993",         /* 2^53 + 1 */
        "12345678901234567890",     /* 20 digits */
        "1234567890123456789012",   /* 22 digits */
        "1e23", "1e-23", "0.00000000000000000000001", "1e00023", "1e99999",
        "100000000000000000000",    /* 21 digits: m = 1e20 > 2^53 */
    };
    size_t i, n_taken = 0;
    (void)state;
    for (i = 0; i < sizeof taken / sizeof taken[0]; i++)
        assert_true(fast_matches_strtod(taken[i]));
    for (i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        double v;
        assert_null(data_decimal_fast(refused[i], &v));
    }
    {
        double v = 1;
        assert_non_null(data_decimal_fast("-0", &v));
        assert_true(v == 0 && signbit(v));
        /* the end: what follows the number is the caller's */
        assert_string_equal(data_decimal_fast("12.5 ,x", &v), " ,x");
        assert_string_equal(data_decimal_fast("1e5e5", &v), "e5");
        assert_string_equal(data_decimal_fast("1.5.5", &v), ".5");
    }
    /* Generated: 1..22 digits with the point anywhere (or none), leading
     * zeros, a sign, an exponent -30..30 or none; every one the fast path
     * takes must be strtod's double, and most small ones are taken. */
    {
        uint64_t x = 0x9E3779B97F4A7C15u;
        for (i = 0; i < 200000; i++) {
            char s[64];
            size_t n = 0, nd, k, point;
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            if (x & 1)
                s[n++] = (x & 2) ? '-' : '+';
            nd = 1 + (x >> 8) % 22;
            point = (x >> 16) % (nd + 2); /* nd + 1: no point */
            for (k = 0; k < (x >> 24) % 3; k++)
                s[n++] = '0';
            for (k = 0; k < nd; k++) {
                if (k == point)
                    s[n++] = '.';
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                s[n++] = (char)('0' + x % 10);
            }
            if (point == nd)
                s[n++] = '.';
            if ((x >> 32) % 3 == 0)
                n += (size_t)snprintf(s + n, sizeof s - n, "%c%d", (x >> 40) & 1 ? 'e' : 'E',
                                      (int)((x >> 44) % 61) - 30);
            s[n] = '\0';
            n_taken += (size_t)fast_matches_strtod(s);
        }
        /* 1..15 digits and |k| <= 22: well over half */
        assert_true(n_taken > 100000);
    }
    /* 2^53 +- small, every decimal exponent -23..23 on a few significands */
    {
        static const char *const m[] = {"9007199254740991", "9007199254740992", "1",
                                        "123456789", "4503599627370497", "7"};
        int e;
        for (i = 0; i < sizeof m / sizeof m[0]; i++)
            for (e = -23; e <= 23; e++) {
                char s[64];
                snprintf(s, sizeof s, "%se%d", m[i], e);
                assert_int_equal(fast_matches_strtod(s), e >= -22 && e <= 22);
            }
    }
}

/* The cell as the reader sees it: blanks and quotes stripped. */
static void strip_cell(const char *c, char *buf)
{
    size_t k = 0;
    for (; *c; c++)
        if (*c != ' ' && *c != '\t' && *c != '"')
            buf[k++] = *c;
    buf[k] = '\0';
}

/* Cells through the whole CSV reader: each float is (float)strtod of the
 * cell, bit for bit, whichever way the row went. Rows 1-2 hold every cell
 * (the quoted and long ones send them the general way); rows 3-4 only the
 * cells data_decimal_fast takes (with their blanks), "1" for the others, so
 * the fast path reads them whole. */
static void test_csv_cells_like_strtod(void **state)
{
    static const char *const cells[] = {
        "0", "-0", ".5", "5.", "1e5", "1E-5", " 1.25", "2.5 ", "\t-3", " 7 ", "\"8.5\"",
        "0.501961", "0.1", "0.2", "0.3", "16777217", "16777216.5", "3.4028234e38",
        "1.17549435e-38", "1e-45", "9007199254740993", "123456789012345678901234",
        "1e23", "1e-23", "0.00000000000000000000000001", "+12.000000000000000000001",
        "0.000001", "-99999.99", "3.4028234663852886e38", "1.00000005960464477539",
    };
    size_t n = sizeof cells / sizeof cells[0], i, r, n_fast = 0;
    char text[4096], buf[64];
    size_t used = 0;
    data_set d;
    data_error err;
    double v;
    (void)state;
    for (i = 0; i < n; i++)
        used += (size_t)snprintf(text + used, sizeof text - used, "x%zu,", i);
    used += (size_t)snprintf(text + used, sizeof text - used, "y\n");
    for (r = 0; r < 4; r++) {
        for (i = 0; i < n; i++) {
            const char *c = cells[i];
            strip_cell(c, buf);
            if (r >= 2 && (strchr(c, '"') || !data_decimal_fast(buf, &v) ||
                           *data_decimal_fast(buf, &v)))
                c = "1";
            n_fast += r >= 2 && c != cells[i] ? 0 : r >= 2;
            used += (size_t)snprintf(text + used, sizeof text - used, "%s,", c);
        }
        used += (size_t)snprintf(text + used, sizeof text - used, "%zu%s", r % 2,
                                 r == 3 ? "\r\n" : "\n");
    }
    assert_true(used < sizeof text - 1);
    assert_true(n_fast > 30); /* 2 rows x most cells */
    memset(&err, 0, sizeof err);
    assert_int_equal(data_source_csv_buffer(text, used, "cells.csv", NULL, &d, &err), 0);
    assert_int_equal(d.n_rows, 4);
    assert_int_equal(d.n_features, n);
    for (r = 0; r < 4; r++)
        for (i = 0; i < n; i++) {
            float want, got = d.x[r * n + i];
            strip_cell(cells[i], buf);
            if (r >= 2 && (strchr(cells[i], '"') || !data_decimal_fast(buf, &v) ||
                           *data_decimal_fast(buf, &v)))
                strcpy(buf, "1");
            want = (float)strtod(buf, NULL);
            if (memcmp(&want, &got, sizeof want) != 0)
                print_error("row %zu cell '%s': %a, want %a\n", r, cells[i], got, want);
            assert_memory_equal(&want, &got, sizeof want);
        }
    data_set_free(&d);
}

/* Two loads are the same set: shape, every float's bits, labels, names. */
static void assert_same_set(const data_set *a, const data_set *b)
{
    size_t i;
    assert_int_equal(a->n_rows, b->n_rows);
    assert_int_equal(a->n_features, b->n_features);
    assert_int_equal(a->n_classes, b->n_classes);
    assert_int_equal(a->labels_numeric, b->labels_numeric);
    assert_memory_equal(a->x, b->x, a->n_rows * a->n_features * sizeof *a->x);
    assert_memory_equal(a->y, b->y, a->n_rows * sizeof *a->y);
    for (i = 0; i < a->n_classes; i++)
        assert_string_equal(a->class_names[i], b->class_names[i]);
    for (i = 0; i < a->n_features; i++)
        assert_string_equal(a->feature_names[i], b->feature_names[i]);
    assert_string_equal(a->label_name, b->label_name);
}

/* text[0..len) written to a file and read by data_source_csv_file in
 * pieces of 1, 2, 7, 64 bytes and the default: the same set, or the same
 * error, as data_source_csv_buffer, and the file's SHA-256. */
static void stream_vs_buffer(const char *text, size_t len, const char *label)
{
    static const size_t chunks[] = {1, 2, 7, 64, 0};
    char path[256], want_sha[65];
    data_set ref;
    data_error ref_err;
    int ref_rc;
    size_t c;
    FILE *f;
    snprintf(path, sizeof path, "%s", write_csv_bytes("stream.csv", text, len));
    digest_sha256_hex(text, len, want_sha);
    memset(&ref_err, 0, sizeof ref_err);
    ref_rc = data_source_csv_buffer(text, len, path, label, &ref, &ref_err);
    for (c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
        data_set d;
        data_error err;
        char sha[65];
        int rc;
        memset(&err, 0, sizeof err);
        f = fopen(path, "rb");
        assert_non_null(f);
        rc = data_source_csv_file(f, path, label, chunks[c], &d, sha, &err);
        fclose(f);
        if (rc != ref_rc || (rc && (err.line != ref_err.line || err.column != ref_err.column ||
                                    strcmp(err.message, ref_err.message))))
            print_error("chunk %zu: rc %d %u:%u '%s', buffer rc %d %u:%u '%s'\n", chunks[c], rc,
                        err.line, err.column, err.message, ref_rc, ref_err.line,
                        ref_err.column, ref_err.message);
        assert_int_equal(rc, ref_rc);
        if (rc == 0) {
            assert_string_equal(sha, want_sha);
            assert_same_set(&d, &ref);
            data_set_free(&d);
        } else {
            assert_string_equal(sha, "");
            assert_string_equal(err.file, ref_err.file);
            assert_int_equal(err.line, ref_err.line);
            assert_int_equal(err.column, ref_err.column);
            assert_string_equal(err.message, ref_err.message);
        }
    }
    if (ref_rc == 0)
        data_set_free(&ref);
    unlink(path);
}

#define STREAM_CASE(lit, label) stream_vs_buffer(lit, sizeof lit - 1, label)

static void test_csv_stream_pieces(void **state)
{
    (void)state;
    /* line ends of every kind, a "\r\n" that any piece size cuts somewhere */
    STREAM_CASE("a,b,y\r\n1,2,x\r\n\r\n3,4,z\r5,6,x\n7,8,z", NULL);
    STREAM_CASE("a,b,y\r1,2,x\r3,4,z\r", NULL);
    STREAM_CASE("\xEF\xBB\xBF" "a,b,y\n1,2,x\n3,4,z\n", NULL);
    STREAM_CASE("\xEF\xBB\xBF", NULL);
    STREAM_CASE("\xEF\xBB", NULL);
    STREAM_CASE("", NULL);
    STREAM_CASE("\n\n  \n", NULL);
    STREAM_CASE("a,b,y\n", NULL);
    /* quoted cells, blanks, numeric labels by value, the label in front */
    STREAM_CASE("y, \"b\" ,c\n\"1\", 2 ,\t3\n1.0,\"4\",5\n2,6,7e-1\n", NULL);
    STREAM_CASE("p,q,cls\n0.501961,1e5,cat\n.5,5.,\"a,b\"\n-0,+3, cat \n", "cls");
    /* errors: the same line, column and message at any piece size */
    STREAM_CASE("a,b,y\n1,2,x\n3,4,y,5\n", NULL);
    STREAM_CASE("a,b,y\n1,2,x\n3,4\n", NULL);
    STREAM_CASE("a,b,y\n1,2,x\r\n1,zz,y\r\n", NULL);
    STREAM_CASE("a,label\n1,\"x\n2,y\n", NULL);
    STREAM_CASE("a,label\n1,x\n2,\n", NULL);
    STREAM_CASE("a,label\n1,x\n2,x\n", NULL);
    STREAM_CASE("a,a,y\n1,2,3\n", NULL);
    STREAM_CASE("a,b,y\n1,2,x\n", "target");
    STREAM_CASE("\xFF\xFE" "a\0,\0y\0\n\0", NULL);
    STREAM_CASE("a,b,y\n1,2,x\n3\0,4,z\n", NULL);
    STREAM_CASE("\xEF\xBB\xBF" "a,b\r\n1\r\n1,\0\r\n", NULL);
    /* a NUL after an earlier problem is the one reported (the whole file
     * is looked at first): line 4, column 2, past the 'zz' of line 2 */
    STREAM_CASE("a,b,y\n1,zz,x\n3,4,z\n5\0,6,x\n", NULL);
    STREAM_CASE("a,b,y\r\n1,zz,x\r\r\n\r\0", NULL);
    {
        /* ... as counted by hand: "\r\n" is one line end, a lone "\r" one */
        static const char t1[] = "a,b,y\n1,zz,x\n3,4,z\n5\0,6,x\n";
        static const char t2[] = "a,b,y\r\n1,zz,x\r\r\n\r\0";
        data_set d;
        data_error err;
        assert_int_equal(data_source_csv_buffer(t1, sizeof t1 - 1, "t1", NULL, &d, &err), -1);
        assert_int_equal(err.line, 4);
        assert_int_equal(err.column, 2);
        assert_non_null(strstr(err.message, "NUL byte"));
        assert_int_equal(data_source_csv_buffer(t2, sizeof t2 - 1, "t2", NULL, &d, &err), -1);
        assert_int_equal(err.line, 5);
        assert_int_equal(err.column, 1);
        assert_non_null(strstr(err.message, "NUL byte"));
    }
    STREAM_CASE("only\n\0", NULL);
    /* many rows, and lines far longer than any piece: 300 columns */
    {
        static char text[60000];
        size_t n = 0, i, j;
        n += (size_t)snprintf(text + n, sizeof text - n, "a,b,y\n");
        for (i = 0; i < 1000; i++)
            n += (size_t)snprintf(text + n, sizeof text - n, "%zu.%zu,-%zue-3,%zu\r\n", i, i % 7,
                                  i, i % 3);
        stream_vs_buffer(text, n, NULL);
        n = 0;
        for (j = 0; j < 300; j++)
            n += (size_t)snprintf(text + n, sizeof text - n, "c%zu,", j);
        n += (size_t)snprintf(text + n, sizeof text - n, "y\n");
        for (i = 0; i < 20; i++) {
            for (j = 0; j < 300; j++)
                n += (size_t)snprintf(text + n, sizeof text - n, "%zu.%03zu,", i, j);
            n += (size_t)snprintf(text + n, sizeof text - n, "%zu\n", i % 2);
        }
        assert_true(n < sizeof text - 1);
        stream_vs_buffer(text, n, NULL);
        text[n - 700] = 'x'; /* an error in the last row */
        stream_vs_buffer(text, n, NULL);
    }
    {
        /* the reader's hash is the file's SHA-256 (sha256sum of the text,
         * computed outside): */
        static const char text[] = "a,y\n1,0\n2,1\n";
        char path[256], sha[65];
        data_set d;
        data_error err;
        FILE *f;
        snprintf(path, sizeof path, "%s", write_csv_bytes("sha.csv", text, sizeof text - 1));
        f = fopen(path, "rb");
        assert_non_null(f);
        assert_int_equal(data_source_csv_file(f, path, NULL, 3, &d, sha, &err), 0);
        fclose(f);
        assert_string_equal(sha, "2e3781e3c32f67fc45f7b528a7c0d9a995a0f1956970d89c473fd199e7ce85f1");
        data_set_free(&d);
        unlink(path);
    }
}

/* ---- scaling, one-hot --------------------------------------------------- */

static void test_scaler(void **state)
{
    /* train column 0: 1, 2, 3, 6 -> mean 3, population variance
     * (4 + 1 + 0 + 9) / 4 = 3.5, min 1, range 5; column 1 constant 10 */
    float xtr[8] = {1, 10, 2, 10, 3, 10, 6, 10};
    float xte[2] = {5, 12};
    int32_t ytr[4] = {0, 1, 0, 1}, yte[1] = {1};
    data_set tr, te;
    data_scaler s;
    (void)state;
    memset(&tr, 0, sizeof tr);
    memset(&te, 0, sizeof te);
    tr.n_rows = 4;
    tr.n_features = 2;
    tr.n_classes = 2;
    tr.x = xtr;
    tr.y = ytr;
    te = tr;
    te.n_rows = 1;
    te.x = xte;
    te.y = yte;

    assert_int_equal(data_scaler_fit(&s, DATA_SCALE_STANDARD, &tr), 0);
    assert_true(fabs(s.shift[0] - 3.0) < 1e-12);
    assert_true(fabs(s.scale[0] - sqrt(3.5)) < 1e-12);
    assert_true(s.shift[1] == 10.0 && s.scale[1] == 1.0);
    data_scaler_apply(&s, &te);
    assert_true(fabs(xte[0] - 2.0 / sqrt(3.5)) < 1e-6); /* 1.0690450 */
    assert_true(xte[1] == 2.0f);
    data_scaler_apply(&s, &tr);
    assert_true(fabs(xtr[0] - (-2.0 / sqrt(3.5))) < 1e-6);
    assert_true(fabs(xtr[6] - (3.0 / sqrt(3.5))) < 1e-6);
    assert_true(xtr[1] == 0.0f);
    data_scaler_free(&s);
    assert_null(s.shift);

    xtr[0] = 1; xtr[2] = 2; xtr[4] = 3; xtr[6] = 6;
    xtr[1] = xtr[3] = xtr[5] = xtr[7] = 10;
    xte[0] = 5;
    xte[1] = 12;
    assert_int_equal(data_scaler_fit(&s, DATA_SCALE_MINMAX, &tr), 0);
    assert_true(s.shift[0] == 1.0 && s.scale[0] == 5.0);
    assert_true(s.shift[1] == 10.0 && s.scale[1] == 1.0); /* range 0 -> 1 */
    data_scaler_apply(&s, &te);
    assert_true(fabs(xte[0] - 0.8) < 1e-7);
    assert_true(xte[1] == 2.0f);
    data_scaler_free(&s);

    assert_int_equal(data_scaler_fit(&s, DATA_SCALE_NONE, &tr), 0);
    data_scaler_apply(&s, &te);
    assert_true(fabs(xte[0] - 0.8) < 1e-7); /* unchanged */
    data_scaler_free(&s);
}

static void test_one_hot_and_counts(void **state)
{
    int32_t y[5] = {2, 0, 1, 2, 2};
    float out[15];
    size_t counts[3];
    data_set d;
    int i, k;
    (void)state;
    data_one_hot(y, 5, 3, out);
    for (i = 0; i < 5; i++)
        for (k = 0; k < 3; k++)
            assert_true(out[i * 3 + k] == (k == y[i] ? 1.0f : 0.0f));
    memset(&d, 0, sizeof d);
    d.n_rows = 5;
    d.n_classes = 3;
    d.y = y;
    data_class_counts(&d, counts);
    assert_int_equal(counts[0], 1);
    assert_int_equal(counts[1], 1);
    assert_int_equal(counts[2], 3);
}

static void test_take(void **state)
{
    data_set d, t;
    uint32_t idx[3] = {3, 0, 3};
    (void)state;
    assert_int_equal(data_source_xor(&d), 0);
    assert_int_equal(data_set_take(&t, &d, idx, 3), 0);
    assert_int_equal(t.n_rows, 3);
    assert_true(t.x[0] == 1 && t.x[1] == 1 && t.x[2] == 0 && t.x[3] == 0);
    assert_int_equal(t.y[0], 0);
    assert_int_equal(t.y[2], 0);
    assert_string_equal(t.class_names[1], "1");
    data_set_free(&t);
    data_set_free(&d);
}

/* ---- pipeline --------------------------------------------------------------- */

static data_pipeline_config xor_lab(void)
{
    data_pipeline_config c;
    memset(&c, 0, sizeof c);
    c.repeat = 200;
    c.noise = 0.3;
    c.test = split_cfg(sz_float(0.2), sz_none());
    c.validation = split_cfg(sz_int(20), sz_none());
    c.scale = DATA_SCALE_NONE;
    return c;
}

static int same_bits(const data_splits *a, const data_splits *b)
{
    return a->train.n_rows == b->train.n_rows && a->test.n_rows == b->test.n_rows &&
           a->validation.n_rows == b->validation.n_rows &&
           memcmp(a->train.x, b->train.x, a->train.n_rows * a->train.n_features * 4) == 0 &&
           memcmp(a->test.x, b->test.x, a->test.n_rows * a->test.n_features * 4) == 0 &&
           memcmp(a->validation.x, b->validation.x,
                  a->validation.n_rows * a->validation.n_features * 4) == 0 &&
           memcmp(a->train.y, b->train.y, a->train.n_rows * 4) == 0;
}

static void test_pipeline_xor(void **state)
{
    data_pipeline_config c = xor_lab();
    data_set src, manual;
    data_splits s, s2;
    data_error err;
    rng_state r;
    uint32_t seed1, seed2, *tr, *te, *tr2, *te2;
    size_t ntr, nte, ntr2, nte2, i, j;
    (void)state;
    assert_int_equal(data_source_xor(&src), 0);
    assert_int_equal(data_pipeline_build(&src, &c, 42, &s, &err), 0);
    assert_int_equal(s.train.n_rows, 620);
    assert_int_equal(s.validation.n_rows, 20);
    assert_int_equal(s.test.n_rows, 160);
    assert_int_equal(s.train.n_classes, 2);
    for (i = 0; i < s.train.n_rows; i++) {
        assert_true(s.y_train[2 * i + (size_t)s.train.y[i]] == 1.0f);
        assert_true(s.y_train[2 * i + 1 - (size_t)s.train.y[i]] == 0.0f);
    }
    for (i = 0; i < 20; i++)
        assert_true(s.y_validation[2 * i + (size_t)s.validation.y[i]] == 1.0f);

    /* Rebuild by hand from the documented seeds: noise from
     * rng_stream(42, DATA_NOISE) over the tiled table, split seeds the top
     * 32 bits of the first two draws of rng_stream(42, SPLIT). */
    assert_int_equal(data_set_copy(&manual, &src), 0);
    assert_int_equal(data_augment_repeat(&manual, 200), 0);
    rng_stream(&r, 42, RNG_PURPOSE_DATA_NOISE);
    data_augment_noise(&manual, 0.3, &r);
    rng_stream(&r, 42, RNG_PURPOSE_SPLIT);
    seed1 = (uint32_t)(rng_next(&r) >> 32);
    seed2 = (uint32_t)(rng_next(&r) >> 32);
    tr = malloc(800 * sizeof *tr);
    te = malloc(800 * sizeof *te);
    tr2 = malloc(800 * sizeof *tr2);
    te2 = malloc(800 * sizeof *te2);
    assert_non_null(tr);
    assert_non_null(te);
    assert_non_null(tr2);
    assert_non_null(te2);
    assert_int_equal(data_split_indices(800, NULL, 0, &c.test, seed1, tr, &ntr, te, &nte, &err), 0);
    assert_int_equal(data_split_indices(640, NULL, 0, &c.validation, seed2, tr2, &ntr2, te2,
                                        &nte2, &err), 0);
    for (i = 0; i < 160; i++) {
        assert_memory_equal(&s.test.x[2 * i], &manual.x[2 * te[i]], 2 * sizeof(float));
        assert_int_equal(s.test.y[i], manual.y[te[i]]);
    }
    for (i = 0; i < 620; i++)
        assert_memory_equal(&s.train.x[2 * i], &manual.x[2 * tr[tr2[i]]], 2 * sizeof(float));
    for (i = 0; i < 20; i++)
        assert_memory_equal(&s.validation.x[2 * i], &manual.x[2 * tr[te2[i]]], 2 * sizeof(float));
    /* no row is in two splits */
    {
        char *used = calloc(800, 1);
        assert_non_null(used);
        for (i = 0; i < 160; i++)
            used[te[i]]++;
        for (i = 0; i < 640; i++)
            used[tr[i]]++;
        for (i = 0; i < 800; i++)
            assert_int_equal(used[i], 1);
        free(used);
    }

    /* same seed: same bits; other seeds: different noise and split */
    assert_int_equal(data_pipeline_build(&src, &c, 42, &s2, &err), 0);
    assert_true(same_bits(&s, &s2));
    data_splits_free(&s2);
    for (j = 43; j < 46; j++) {
        assert_int_equal(data_pipeline_build(&src, &c, j, &s2, &err), 0);
        assert_false(same_bits(&s, &s2));
        assert_true(memcmp(s.test.x, s2.test.x, 160 * 2 * sizeof(float)) != 0);
        data_splits_free(&s2);
    }
    /* no validation split: train keeps all 640 rows */
    c.validation.test.given = 0;
    assert_int_equal(data_pipeline_build(&src, &c, 42, &s2, &err), 0);
    assert_int_equal(s2.train.n_rows, 640);
    assert_int_equal(s2.validation.n_rows, 0);
    assert_null(s2.y_validation);
    assert_memory_equal(s2.test.x, s.test.x, 160 * 2 * sizeof(float));
    data_splits_free(&s2);
    /* an impossible split is reported, nothing leaks */
    c.test.test = sz_int(800);
    assert_int_equal(data_pipeline_build(&src, &c, 42, &s2, &err), -1);
    assert_non_null(strstr(err.message, "test_size=800 should be"));

    free(tr);
    free(te);
    free(tr2);
    free(te2);
    data_set_free(&manual);
    data_splits_free(&s);
    data_splits_free(&s);
    data_set_free(&src);
}

/* The train and test indices of fixture case `name` (split_cases.txt). */
static void fixture_case(const char *name, uint32_t **train, size_t *n_train, uint32_t **test,
                         size_t *n_test)
{
    const char *dir = getenv("RUNEXP_FIXTURES");
    char path[512], want[80];
    char *line = NULL;
    size_t cap = 0;
    int found = 0;
    snprintf(path, sizeof path, "%s/split_cases.txt", dir ? dir : RUNEXP_FIXTURES);
    snprintf(want, sizeof want, "case %s ", name);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    while (!found && getline(&line, &cap, f) > 0) {
        if (strncmp(line, want, strlen(want)))
            continue;
        assert_true(getline(&line, &cap, f) > 0);
        *train = parse_list(line, "train", n_train);
        assert_true(getline(&line, &cap, f) > 0);
        *test = parse_list(line, "test", n_test);
        found = 1;
    }
    free(line);
    fclose(f);
    if (!found)
        print_error("no case %s in %s\n", name, path);
    assert_true(found);
}

/* data.split.random_state = 42 gives the labs' notebook splits exactly:
 * train_test_split(X, random_state=42) for the test rows, then
 * train_test_split(rest, random_state=42) for validation, whatever the data
 * seed; the provenance (rows_*) names each split row's row of the
 * augmented set, and test/train/validation x are those rows. */
static void check_lab_split(const data_set *src, data_pipeline_config *c, const char *case1,
                            const char *case2)
{
    uint32_t *tr1, *te1, *tr2, *te2;
    size_t ntr1, nte1, ntr2, nte2, i;
    data_splits s, s2;
    data_set aug;
    data_error err;
    fixture_case(case1, &tr1, &ntr1, &te1, &nte1);
    fixture_case(case2, &tr2, &ntr2, &te2, &nte2);
    c->has_random_state = 1;
    c->random_state = 42;
    assert_int_equal(data_pipeline_build(src, c, 7, &s, &err), 0);
    assert_int_equal(s.n_source_rows, src->n_rows);
    assert_int_equal(s.test.n_rows, nte1);
    assert_int_equal(s.validation.n_rows, nte2);
    assert_int_equal(s.train.n_rows, ntr2);
    assert_int_equal(ntr1, ntr2 + nte2);
    assert_memory_equal(s.rows_test, te1, nte1 * sizeof *te1);
    for (i = 0; i < nte2; i++)
        assert_int_equal(s.rows_validation[i], tr1[te2[i]]);
    for (i = 0; i < ntr2; i++)
        assert_int_equal(s.rows_train[i], tr1[tr2[i]]);
    /* The rows themselves: labels of the tiled source at those indices. */
    assert_int_equal(data_set_copy(&aug, src), 0);
    assert_int_equal(data_augment_repeat(&aug, c->repeat), 0);
    for (i = 0; i < nte1; i++) {
        assert_int_equal(s.test.y[i], aug.y[te1[i]]);
        assert_int_equal(s.test.y[i], src->y[te1[i] % src->n_rows]);
    }
    if (c->noise == 0)
        for (i = 0; i < nte1; i++)
            assert_memory_equal(&s.test.x[i * src->n_features], &aug.x[te1[i] * src->n_features],
                                src->n_features * sizeof(float));
    /* Another data seed: the same rows; noise, when there is any, differs. */
    assert_int_equal(data_pipeline_build(src, c, 8, &s2, &err), 0);
    assert_memory_equal(s2.rows_test, s.rows_test, nte1 * sizeof *te1);
    assert_memory_equal(s2.rows_train, s.rows_train, ntr2 * sizeof *te1);
    assert_memory_equal(s2.rows_validation, s.rows_validation, nte2 * sizeof *te1);
    assert_true((memcmp(s2.test.x, s.test.x, nte1 * src->n_features * sizeof(float)) != 0) ==
                (c->noise > 0));
    data_splits_free(&s2);
    /* Without random_state the split follows the data seed. */
    c->has_random_state = 0;
    assert_int_equal(data_pipeline_build(src, c, 7, &s2, &err), 0);
    assert_true(memcmp(s2.rows_test, te1, nte1 * sizeof *te1) != 0);
    data_splits_free(&s2);
    data_set_free(&aug);
    data_splits_free(&s);
    free(tr1);
    free(te1);
    free(tr2);
    free(te2);
}

static void test_pipeline_random_state_labs(void **state)
{
    (void)state;
    data_set src;
    data_error err;
    data_pipeline_config c = xor_lab();
    assert_int_equal(data_source_xor(&src), 0);
    check_lab_split(&src, &c, "xor_split1", "lab_xor_split2");
    data_set_free(&src);
    memset(&c, 0, sizeof c);
    c.repeat = 1;
    c.test = split_cfg(sz_none(), sz_none());
    c.validation = split_cfg(sz_float(0.25), sz_none());
    assert_int_equal(data_source_digits(&src, &err), 0);
    check_lab_split(&src, &c, "lab_digits_split1", "lab_digits_split2");
    data_set_free(&src);
}

/* Provenance without random_state: every augmented row is in exactly one
 * split, and each split row's features are those of its augmented row
 * (no noise), its label that of source row index % n. */
static void test_pipeline_provenance(void **state)
{
    (void)state;
    data_set src, aug;
    data_splits s;
    data_error err;
    data_pipeline_config c = xor_lab();
    c.noise = 0;
    assert_int_equal(data_source_xor(&src), 0);
    assert_int_equal(data_pipeline_build(&src, &c, 3, &s, &err), 0);
    assert_int_equal(data_set_copy(&aug, &src), 0);
    assert_int_equal(data_augment_repeat(&aug, 200), 0);
    char used[800] = {0};
    const data_set *sets[3] = {&s.train, &s.validation, &s.test};
    const uint32_t *rows[3] = {s.rows_train, s.rows_validation, s.rows_test};
    for (int k = 0; k < 3; k++)
        for (size_t i = 0; i < sets[k]->n_rows; i++) {
            uint32_t a = rows[k][i];
            assert_true(a < 800);
            used[a]++;
            assert_memory_equal(&sets[k]->x[2 * i], &aug.x[2 * a], 2 * sizeof(float));
            assert_int_equal(sets[k]->y[i], src.y[a % 4]);
        }
    for (size_t i = 0; i < 800; i++)
        assert_int_equal(used[i], 1);
    data_splits_free(&s);
    /* No validation split: still a provenance for every row. */
    c.validation.test.given = 0;
    assert_int_equal(data_pipeline_build(&src, &c, 3, &s, &err), 0);
    assert_int_equal(s.train.n_rows, 640);
    assert_non_null(s.rows_train);
    assert_non_null(s.rows_validation);
    for (size_t i = 0; i < 640; i++)
        assert_int_equal(s.train.y[i], src.y[s.rows_train[i] % 4]);
    data_splits_free(&s);
    data_set_free(&aug);
    data_set_free(&src);
}

static void test_pipeline_digits(void **state)
{
    data_pipeline_config c;
    data_set src;
    data_splits s;
    data_error err;
    size_t j, i;
    (void)state;
    memset(&c, 0, sizeof c);
    c.repeat = 1;
    c.test = split_cfg(sz_none(), sz_none());
    c.validation = split_cfg(sz_float(0.25), sz_none());
    c.scale = DATA_SCALE_STANDARD;
    assert_int_equal(data_source_digits(&src, &err), 0);
    assert_int_equal(data_pipeline_build(&src, &c, 1, &s, &err), 0);
    assert_int_equal(s.train.n_rows, 1010);
    assert_int_equal(s.validation.n_rows, 337);
    assert_int_equal(s.test.n_rows, 450);
    assert_int_equal(s.train.image_w, 8);
    /* fitted on the training rows: each train column has mean 0 and
     * population std 1, or is all zeros (constant column, scale 1) */
    for (j = 0; j < 64; j++) {
        double m = 0, v = 0;
        for (i = 0; i < 1010; i++)
            m += s.train.x[i * 64 + j];
        m /= 1010;
        for (i = 0; i < 1010; i++)
            v += (s.train.x[i * 64 + j] - m) * (s.train.x[i * 64 + j] - m);
        v /= 1010;
        assert_true(fabs(m) < 1e-5);
        assert_true(fabs(v - 1.0) < 1e-4 || v == 0.0);
    }
    data_splits_free(&s);
    data_set_free(&src);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xor),
        cmocka_unit_test(test_repeat_and_noise),
        cmocka_unit_test(test_digits),
        cmocka_unit_test(test_digits_sha256),
        cmocka_unit_test(test_split_sizes),
        cmocka_unit_test(test_split_indices_sklearn),
        cmocka_unit_test(test_split_noshuffle_and_stratify),
        cmocka_unit_test(test_pipeline_random_state_labs),
        cmocka_unit_test(test_pipeline_provenance),
        cmocka_unit_test(test_csv_ok),
        cmocka_unit_test(test_csv_buffer),
        cmocka_unit_test(test_csv_errors),
        cmocka_unit_test(test_csv_header_names),
        cmocka_unit_test(test_csv_nul_byte),
        cmocka_unit_test(test_csv_cr_line_ends),
        cmocka_unit_test(test_csv_numeric_labels),
        cmocka_unit_test(test_csv_directory),
        cmocka_unit_test(test_decimal_fast),
        cmocka_unit_test(test_csv_cells_like_strtod),
        cmocka_unit_test(test_csv_stream_pieces),
        cmocka_unit_test(test_scaler),
        cmocka_unit_test(test_one_hot_and_counts),
        cmocka_unit_test(test_take),
        cmocka_unit_test(test_features_csv),
        cmocka_unit_test(test_pipeline_xor),
        cmocka_unit_test(test_pipeline_digits),
    };
    return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
