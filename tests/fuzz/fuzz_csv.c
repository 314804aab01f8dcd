/* fuzz_csv: libFuzzer harness of the CSV parser, data_source_csv_buffer.
 *
 * Each input is parsed where the fuzzer put it: exactly size bytes, no NUL
 * after them, so a sanitizer catches any read past the end of the text
 * (data_source_csv only adds reading the file). The label column is chosen
 * by the input's size, so the
 * fuzzer reaches the default (last column) and the by-name lookup, hit and
 * miss, without a framing byte that would keep the corpus from being
 * plain CSV files: size % 3 == 0 -> the last column, 1 -> "label",
 * 2 -> "shape".
 *
 * Beyond the sanitizers it aborts when an error has an empty message, a
 * control character in it, another file name, or a line/column outside the
 * input (columns here are bytes), and when a loaded set is inconsistent
 * (shape, finite floats, labels in range, names present, >= 2 classes).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data.h"
#include "fuzz.h"

static void fail(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_csv: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    abort();
}

static void check_set(const data_set *s)
{
    if (s->n_rows < 1 || s->n_features < 1 || s->n_classes < 2 || s->n_classes > s->n_rows)
        fail("implausible shape", NULL);
    if (!s->x || !s->y || !s->class_names || !s->feature_names)
        fail("missing array", NULL);
    for (size_t i = 0; i < s->n_rows * s->n_features; i++)
        if (!isfinite(s->x[i]))
            fail("non-finite feature", NULL);
    for (size_t i = 0; i < s->n_rows; i++)
        if (s->y[i] < 0 || (size_t)s->y[i] >= s->n_classes)
            fail("label out of range", NULL);
    for (size_t k = 0; k < s->n_classes; k++)
        if (!s->class_names[k] || !s->class_names[k][0])
            fail("missing class name", NULL);
    for (size_t k = 0; k < s->n_features; k++)
        if (!s->feature_names[k])
            fail("missing feature name", NULL);
    /* Every class is used by some row (classes are the labels seen). */
    for (size_t k = 0; k < s->n_classes; k++) {
        size_t i = 0;
        while (i < s->n_rows && (size_t)s->y[i] != k)
            i++;
        if (i == s->n_rows)
            fail("a class without rows", s->class_names[k]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const labels[3] = {NULL, "label", "shape"};
    const char *path = "input.csv";

    data_set s;
    data_error err;
    memset(&s, 0, sizeof s);
    memset(&err, 0, sizeof err);
    if (data_source_csv_buffer((const char *)data, size, path, labels[size % 3], &s, &err) ==
        0) {
        check_set(&s);
        data_set_free(&s);
        return 0;
    }
    if (!err.message[0])
        fail("error without a message", NULL);
    for (const unsigned char *c = (const unsigned char *)err.message; *c; c++)
        if (*c < 0x20 || *c == 0x7F)
            fail("control character in an error message", err.message);
    if (strcmp(err.file, path) != 0)
        fail("error names another file", err.file);
    if (!fuzz_position_ok((const char *)data, size, err.line, err.column, 1)) {
        char b[600];
        snprintf(b, sizeof b, "%u:%u: %s", err.line, err.column, err.message);
        /* "no data rows after the header" points at the line after the
         * last one: allowed when it is exactly one past the end. */
        if (!(err.column == 0 && fuzz_position_ok((const char *)data, size, err.line - 1, 0, 1)))
            fail("error position outside the input", b);
    }
    return 0;
}
