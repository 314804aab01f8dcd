/* model_export: protobuf varints and NPY headers against hand-computed
 * bytes, the zip's CRC-32 fields against zlib and the standard check value,
 * and a whole ONNX model against the bytes the onnx package serialises for
 * the same model (fixtures/model_tiny.onnx, gen_model_fixtures.py). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <cmocka.h>

#include "model_export.h"

static void varint_is(uint64_t v, const unsigned char *want, size_t n)
{
    unsigned char got[10];
    size_t k = model_pb_varint(v, got);
    assert_int_equal(k, n);
    assert_memory_equal(got, want, n);
}

static void test_varint(void **state)
{
    (void)state;
    varint_is(0, (const unsigned char *)"\x00", 1);
    varint_is(1, (const unsigned char *)"\x01", 1);
    varint_is(127, (const unsigned char *)"\x7f", 1);
    varint_is(128, (const unsigned char *)"\x80\x01", 2);
    /* 300 = 0b10_0101100: low 7 bits 0x2c with the continuation bit, then 2 */
    varint_is(300, (const unsigned char *)"\xac\x02", 2);
    varint_is(16384, (const unsigned char *)"\x80\x80\x01", 3);
    varint_is(UINT32_MAX, (const unsigned char *)"\xff\xff\xff\xff\x0f", 5);
    /* int64 -1: ten bytes, nine 0xff and 0x01 */
    varint_is(UINT64_MAX, (const unsigned char *)"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 10);
}

/* The header numpy.save writes: dict, spaces, '\n', 128 bytes in all. */
static void npy_is(const char *descr, const size_t *shape, size_t ndim, const char *dict)
{
    unsigned char got[256], want[128];
    size_t n = model_npy_header(descr, shape, ndim, got, sizeof got);
    assert_int_equal(n, 128);
    memcpy(want, "\x93NUMPY\x01\x00\x76\x00", 10); /* 118 = 128 - 10 */
    memset(want + 10, ' ', 117);
    memcpy(want + 10, dict, strlen(dict));
    want[127] = '\n';
    assert_memory_equal(got, want, 128);
}

static void test_npy_header(void **state)
{
    (void)state;
    size_t s2[2] = {2, 6}, s1[1] = {6};
    npy_is("<f4", s2, 2, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 6), }");
    npy_is("<f4", s1, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }");
    npy_is("<U2", NULL, 0, "{'descr': '<U2', 'fortran_order': False, 'shape': (), }");
    /* A dict of 117 characters: 10 + 118 = 128 is a multiple of 64, so
     * numpy pads a whole 64 more (at least one space before the '\n'). */
    size_t big[3] = {1000000000000ull, 1000000000000ull, 100000000000ull};
    unsigned char got[256];
    size_t n = model_npy_header("<f8", big, 3, got, sizeof got);
    const char *d = "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000, "
                    "1000000000000, 100000000000), }";
    size_t dl = strlen(d);
    assert_int_equal(n, ((10 + dl + 1) / 64 + 1) * 64);
    assert_int_equal(got[8] | got[9] << 8, n - 10);
    assert_memory_equal(got + 10, d, dl);
    assert_int_equal(got[n - 1], '\n');
    assert_int_equal(got[n - 2], ' ');
    /* too small a buffer */
    assert_int_equal(model_npy_header("<f4", s2, 2, got, 127), 0);
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static unsigned le16(const unsigned char *p)
{
    return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static void test_zip_crc(void **state)
{
    (void)state;
    model_buf out = {0};
    model_zip z;
    model_zip_begin(&z, &out);
    model_zip_add(&z, "check.txt", "1234", 4, "56789", 5);
    static const unsigned char bin[] = {0, 1, 2, 250, 251, 252, 253, 254, 255};
    model_zip_add(&z, "b.bin", bin, sizeof bin, NULL, 0);
    model_zip_finish(&z);
    assert_false(out.failed);
    const unsigned char *p = out.data;
    /* entry 1: local header, then name, then data */
    assert_int_equal(le32(p), 0x04034b50u);
    assert_int_equal(le16(p + 8), 0); /* stored */
    /* CRC-32 of "123456789" is the standard check value 0xCBF43926 */
    assert_int_equal(le32(p + 14), 0xCBF43926u);
    assert_int_equal(le32(p + 18), 9);
    assert_int_equal(le32(p + 22), 9);
    assert_int_equal(le16(p + 26), 9);
    assert_memory_equal(p + 30, "check.txt", 9);
    assert_memory_equal(p + 39, "123456789", 9);
    /* entry 2 */
    const unsigned char *q = p + 48;
    assert_int_equal(le32(q), 0x04034b50u);
    assert_int_equal(le32(q + 14), (uint32_t)crc32(0L, bin, sizeof bin));
    assert_memory_equal(q + 30 + 5, bin, sizeof bin);
    /* central directory and end record */
    size_t dir = (size_t)(q + 30 + 5 + sizeof bin - p);
    const unsigned char *e = p + out.len - 22;
    assert_int_equal(le32(e), 0x06054b50u);
    assert_int_equal(le16(e + 8), 2);
    assert_int_equal(le16(e + 10), 2);
    assert_int_equal(le32(e + 16), dir);
    assert_int_equal(le32(e + 12), out.len - 22 - dir);
    const unsigned char *c = p + dir;
    assert_int_equal(le32(c), 0x02014b50u);
    assert_int_equal(le32(c + 16), 0xCBF43926u);
    assert_int_equal(le32(c + 42), 0); /* offset of entry 1 */
    c += 46 + 9;
    assert_int_equal(le32(c), 0x02014b50u);
    assert_int_equal(le32(c + 16), (uint32_t)crc32(0L, bin, sizeof bin));
    assert_int_equal(le32(c + 42), 48);
    model_buf_free(&out);
}

/* The model of gen_model_fixtures.py. */
static char *tiny_features[2] = {"a", "b"};
static char *tiny_classes[2] = {"no", "n\xc3\xa9"};
static const double tiny_shift[2] = {0.5, -1.25}, tiny_scale[2] = {2.0, 0.5};
static const float tiny_k0[6] = {1, -2, 0.5f, 0.25f, 3, -1}, tiny_b0[3] = {0.1f, 0, -0.3f};
static const float tiny_k1[6] = {1, -1, 0.5f, 2, -3, 0.125f}, tiny_b1[2] = {0, 0.75f};

static void tiny_desc(model_desc *d)
{
    memset(d, 0, sizeof *d);
    d->n_inputs = 2;
    d->feature_names = tiny_features;
    d->scale = DATA_SCALE_STANDARD;
    d->shift = tiny_shift;
    d->scale_by = tiny_scale;
    d->n_layers = 2;
    d->layers[0] = (model_layer){2, 3, NN_ACT_RELU, tiny_k0, tiny_b0};
    d->layers[1] = (model_layer){3, 2, NN_ACT_SOFTMAX, tiny_k1, tiny_b1};
    d->n_classes = 2;
    d->class_names = tiny_classes;
    d->label_name = "y";
    d->experiment = "tiny";
    d->trial_id = 7;
    d->seed = 3;
    d->params_json = "{\"hidden\": 3}";
    d->producer_version = "0.1.0";
}

static void test_onnx_fixture(void **state)
{
    (void)state;
    FILE *f = fopen(RUNEXP_FIXTURES "/model_tiny.onnx", "rb");
    assert_non_null(f);
    static unsigned char want[65536];
    size_t n = fread(want, 1, sizeof want, f);
    fclose(f);
    assert_true(n > 100 && n < sizeof want);
    model_desc d;
    tiny_desc(&d);
    model_buf out = {0};
    char msg[256];
    assert_int_equal(model_onnx_write(&d, &out, msg, sizeof msg), 0);
    assert_int_equal(out.len, n);
    assert_memory_equal(out.data, want, n);
    model_buf_free(&out);
}

static void test_desc_check(void **state)
{
    (void)state;
    model_desc d;
    char msg[256];
    model_buf out = {0};
    tiny_desc(&d);
    d.layers[1].in = 4; /* does not chain from layer 0's 3 units */
    assert_int_equal(model_onnx_write(&d, &out, msg, sizeof msg), -1);
    assert_string_equal(msg, "layer 1 is 4 x 2, expected 3 inputs");
    tiny_desc(&d);
    d.n_classes = 3;
    assert_int_equal(model_npz_write(&d, &out, msg, sizeof msg), -1);
    assert_string_equal(msg, "the output layer has 2 units for 3 classes");
    assert_int_equal(out.len, 0);
    model_buf_free(&out);
}

/* The .npz: every entry's CRC is zlib's over its bytes; the architecture
 * is a '<U' array of the JSON's characters, one 32-bit unit each. */
static void test_npz(void **state)
{
    (void)state;
    model_desc d;
    tiny_desc(&d);
    model_buf out = {0};
    char msg[256];
    assert_int_equal(model_npz_write(&d, &out, msg, sizeof msg), 0);
    const unsigned char *p = out.data, *end = out.data + out.len;
    const char *names[] = {"architecture.npy", "layer0_kernel.npy", "layer0_bias.npy",
                           "layer1_kernel.npy", "layer1_bias.npy", "scaler_mean.npy",
                           "scaler_scale.npy"};
    for (size_t i = 0; i < 7; i++) {
        assert_true(p + 30 < end);
        assert_int_equal(le32(p), 0x04034b50u);
        uint32_t size = le32(p + 18);
        unsigned nl = le16(p + 26);
        assert_int_equal(nl, strlen(names[i]));
        assert_memory_equal(p + 30, names[i], nl);
        const unsigned char *data = p + 30 + nl;
        assert_int_equal(le32(p + 14), (uint32_t)crc32(0L, data, size));
        assert_memory_equal(data, "\x93NUMPY\x01\x00", 8);
        size_t h = 10 + le16(data + 8);
        assert_int_equal(h % 64, 0);
        if (i == 2) { /* layer0_bias: 3 floats after the header */
            assert_int_equal(size, h + 12);
            float b[3];
            for (int k = 0; k < 3; k++) {
                uint32_t u = le32(data + h + 4 * k);
                memcpy(&b[k], &u, 4);
            }
            assert_memory_equal(b, tiny_b0, sizeof b);
        }
        if (i == 0) { /* starts {"format": "runexp-model" in UTF-32LE */
            const char *start = "{\"format\": \"runexp-model\"";
            for (size_t k = 0; k < strlen(start); k++)
                assert_int_equal(le32(data + h + 4 * k), (unsigned char)start[k]);
        }
        p = data + size;
    }
    assert_int_equal(le32(p), 0x02014b50u);
    model_buf_free(&out);
}

/* The architecture JSON: ASCII, with other characters as \u escapes. */
static void test_architecture_json(void **state)
{
    (void)state;
    model_desc d;
    tiny_desc(&d);
    model_buf j = {0};
    model_architecture_json(&d, &j);
    model_buf_append(&j, "", 1);
    assert_false(j.failed);
    const char *s = (const char *)j.data;
    assert_non_null(strstr(s, "\"class_names\": [\"no\", \"n\\u00e9\"]"));
    assert_non_null(strstr(s, "\"params\": {\"hidden\": 3}"));
    for (size_t i = 0; s[i]; i++)
        assert_true((unsigned char)s[i] < 0x80);
    model_buf_free(&j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_varint),
        cmocka_unit_test(test_npy_header),
        cmocka_unit_test(test_zip_crc),
        cmocka_unit_test(test_onnx_fixture),
        cmocka_unit_test(test_desc_check),
        cmocka_unit_test(test_npz),
        cmocka_unit_test(test_architecture_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
