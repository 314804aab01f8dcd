/* big_inputs: the spec parser stays (near) linear on large hostile specs.
 *
 * The fuzzers stop at 4 kB inputs, where quadratic work is invisible. Each
 * case here builds a spec of up to 1 MB (the size limit) that hit a
 * quadratic or worse path before it was fixed, and runs it through
 * spec_document_parse and, when it parses, sweep_plan_build. With the fixes
 * every case takes under 1 s in a gcc -O3 build and under 3 s with ASan;
 * the code before the fixes took 3 s to over 2 minutes per case in the -O3
 * build (table in README.md). A case fails when it takes longer than
 * LIMIT_S or when its expected outcome (valid or not) changes.
 * `fuzz_big_inputs N` runs case N only.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "spec.h"
#include "sweep.h"

#define LIMIT_S 10.0

#define BASE                                                                                  \
    "data: {source: xor}\nmodel: {layers: [{units: 2, activation: softmax}]}\n"              \
    "training: {loss: categorical_crossentropy, epochs: 1}\n"

typedef struct buf {
    char *s;
    size_t n, cap;
} buf;

static void put(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(buf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (w < 0 || (size_t)w >= sizeof tmp)
        abort();
    if (b->n + (size_t)w + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->n + (size_t)w + 1)
            cap *= 2;
        char *s = realloc(b->s, cap);
        if (!s)
            abort();
        b->s = s;
        b->cap = cap;
    }
    memcpy(b->s + b->n, tmp, (size_t)w + 1);
    b->n += (size_t)w;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Only this case (1-based) when given on the command line, 0 = all. */
static int only, seen;

/* Runs one case; expect_ok = 1 when the spec (and its plan) must be valid. */
static int run(const char *name, buf *b, int expect_ok)
{
    if (only && ++seen != only) {
        free(b->s);
        memset(b, 0, sizeof *b);
        return 0;
    }
    spec_diagnostics d;
    spec_diagnostics_init(&d);
    double t0 = now_s();
    spec_document *doc = spec_document_parse(b->s, b->n, "big.yaml", "", &d);
    int ok = doc != NULL;
    if (doc) {
        sweep_plan plan;
        if (sweep_plan_build(doc, &plan, &d) == 0)
            sweep_plan_free(&plan);
        else
            ok = 0;
    }
    double t = now_s() - t0;
    int fail = t > LIMIT_S || ok != expect_ok;
    printf("%-28s %8zu bytes  %6.2f s  %s, %zu diagnostic%s%s\n", name, b->n, t,
           ok ? "valid" : "invalid", d.n, d.n == 1 ? "" : "s", fail ? "  FAILED" : "");
    if (ok != expect_ok && d.n)
        printf("    first: %u:%u: %s\n", d.items[0].line, d.items[0].column, d.items[0].message);
    fflush(stdout);
    spec_document_free(doc);
    spec_diagnostics_free(&d);
    free(b->s);
    memset(b, 0, sizeof *b);
    return fail;
}

int main(int argc, char **argv)
{
    buf b = {NULL, 0, 0};
    int failed = 0;
    if (argc > 1)
        only = atoi(argv[1]);

    /* Duplicate-key lookups were a scan of the mapping, the diagnostics'
     * de-duplication a scan of all earlier ones. */
    put(&b, BASE "record:\n");
    for (int i = 0; i < 45000; i++) /* 90,000 nodes: under the node limit */
        put(&b, "  k%d: 1\n", i);
    failed |= run("45000 unknown keys", &b, 0);

    put(&b, BASE "x:\n");
    for (int i = 0; i < 45000; i++)
        put(&b, "  a: 1\n");
    failed |= run("45000 duplicate keys", &b, 0);

    /* Anchors were found, and marked complete, by scanning all of them. */
    put(&b, BASE "x:\n");
    for (int i = 0; i < 20000; i++)
        put(&b, "  a%d: &a%d {}\n", i, i);
    put(&b, "y:\n");
    for (int i = 0; i < 20000; i++)
        put(&b, "  b%d: *a%d\n", i, i);
    failed |= run("20000 anchors + aliases", &b, 0);

    /* Duplicate seeds were found pairwise. */
    put(&b, BASE "seeds: [0");
    for (int i = 1; i < 90000; i++)
        put(&b, ", %d", i);
    put(&b, "]\n");
    failed |= run("90000 seeds", &b, 1);

    /* ... and again for every sweep point, with the seed list copied into
     * each point's tree. */
    put(&b, BASE "seeds: [0");
    for (int i = 1; i < 20000; i++)
        put(&b, ", %d", i);
    put(&b, "]\nsweep:\n  e: {path: training.epochs, values: [1, 2, 3, 4, 5]}\n");
    failed |= run("20000 seeds x 5 points", &b, 1);

    /* The sweep block itself was copied into every point's tree. */
    put(&b, BASE "sweep:\n  e: {path: training.epochs, values: [1");
    for (int i = 2; i <= 20000; i++)
        put(&b, ", %d", i);
    put(&b, "]}\n");
    failed |= run("20000-value sweep list", &b, 1);

    /* A few short ranges expanded into millions of nodes at parse time. */
    put(&b, BASE "sweep:\n");
    for (int i = 0; i < 40; i++)
        put(&b, "  s%d: {path: training.epochs, values: {from: 1, to: 100000}}\n", i);
    failed |= run("40 ranges of 100000", &b, 0);

    /* A 250-byte spec asked for 10^6 sweep points. */
    put(&b, BASE "sweep:\n  a: {path: training.epochs, values: {from: 1, to: 1000}}\n"
                 "  b: {path: training.batch_size, values: {from: 1, to: 1000}}\n");
    failed |= run("10^6 sweep points", &b, 0);

    /* Unique names and paths were checked pairwise. */
    put(&b, BASE "sweep:\n");
    for (int i = 0; i < 6000; i++)
        put(&b, "  s%d: {zip: [{path: training.epochs, values: [1]}, "
                "{path: training.batch_size, values: [2]}]}\n", i);
    failed |= run("6000 zip entries", &b, 0);

    return failed ? 1 : 0;
}
