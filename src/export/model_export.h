/* model_export: a trained network as a file other tools load: ONNX
 * (protobuf, written directly) and NumPy's .npz (a zip of .npy arrays).
 *
 * Pure C: knows nothing of SQLite, YAML or the command line. The caller
 * describes the model (input scaling, dense layers, classes) in a
 * model_desc whose arrays it owns; the writers build the whole file in
 * memory (a model_buf) so that the caller can write it in one go (and to a
 * temporary file renamed into place). See README "Using a trained model".
 */
#ifndef RUNEXP_MODEL_EXPORT_H
#define RUNEXP_MODEL_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "data.h"
#include "nn.h"

/* A growable byte buffer. After a failed append (out of memory, size
 * overflow) failed is 1 and later appends do nothing. Zero it to start;
 * free with model_buf_free. */
typedef struct model_buf {
    unsigned char *data;
    size_t len, cap;
    int failed;
} model_buf;

void model_buf_free(model_buf *b);
void model_buf_append(model_buf *b, const void *p, size_t n);

/* One dense layer: y = act(x W + b), W in x out row-major (nn.h's layout). */
typedef struct model_layer {
    size_t in, out;
    nn_activation activation;
    const float *kernel; /* in * out */
    const float *bias;   /* out */
} model_layer;

typedef struct model_desc {
    size_t n_inputs;
    char *const *feature_names; /* n_inputs names */
    /* The input scaling runexp applies before the first layer, in double:
     * x' = (float)(((double)x - shift) / scale); none: shift/scale unused. */
    data_scale scale;
    const double *shift, *scale_by; /* n_inputs each */
    size_t n_layers;
    model_layer layers[NN_MAX_LAYERS];
    size_t n_classes;           /* = the last layer's units */
    char *const *class_names;   /* n_classes names */
    const char *label_name;     /* the label column of a CSV dataset, or NULL */
    /* Provenance, written into the file's metadata (any may be NULL/0). */
    const char *experiment;
    int64_t trial_id;
    uint64_t seed;
    const char *params_json;
    const char *producer_version;
} model_desc;

/* Checks d (layer shapes chain from n_inputs, the last layer has n_classes
 * units, arrays present). 0 when usable, else -1 with msg filled. */
int model_desc_check(const model_desc *d, char *msg, size_t n);

/* The ONNX model (IR version 7, opset 13): input "input" float [N,
 * n_inputs]; scaling as Cast(double) -> Sub -> Div -> Cast(float), the
 * operations runexp applies, with the shift and scale as double
 * initializers; per layer Gemm then Relu / Sigmoid / Tanh / Softmax(axis 1)
 * (none for linear); outputs "probabilities" float [N, n_classes] and
 * "class_index" int64 [N] (ArgMax, first maximum). Initializers hold raw
 * little-endian data. Metadata: runexp.class_names, runexp.feature_names
 * (JSON arrays), runexp.label_column, runexp.experiment, runexp.trial_id,
 * runexp.params. 0, or -1 with msg filled; out is appended to. */
int model_onnx_write(const model_desc *d, model_buf *out, char *msg, size_t n);

/* The .npz: a zip (stored, no compression) of NPY 1.0 arrays:
 * layer<L>_kernel ('<f4', in x out), layer<L>_bias ('<f4', out), with
 * standard scaling scaler_mean and scaler_scale, with min-max scaling
 * scaler_min and scaler_range ('<f8', n_inputs: runexp scales in double),
 * and architecture, a 0-d '<U' array holding the JSON description (ASCII:
 * other characters are \u escapes), for json.loads(str(z["architecture"])).
 * 0, or -1 with msg filled. */
int model_npz_write(const model_desc *d, model_buf *out, char *msg, size_t n);

/* The JSON description of the model stored in the .npz (and used in the
 * ONNX doc string): NUL-terminated ASCII appended to out. */
void model_architecture_json(const model_desc *d, model_buf *out);

/* ---- building blocks (exposed for the tests) ---------------------------- */

/* Protobuf base-128 varint of v into out; returns its length (1..10). A
 * negative int64 is passed as its two's complement (10 bytes). */
size_t model_pb_varint(uint64_t v, unsigned char out[10]);

/* The NPY 1.0 header for an array of dtype descr ("<f4") and shape
 * shape[0..ndim) (ndim 0: a scalar), C order, written as numpy.save writes
 * it: magic, version 1.0, little-endian header length, the dict padded with
 * spaces and ended by '\n' so the data starts at a multiple of 64. Returns
 * the header's length, or 0 when it does not fit cap bytes. */
size_t model_npy_header(const char *descr, const size_t *shape, size_t ndim,
                        unsigned char *out, size_t cap);

/* A zip archive being written: entries are stored (method 0) with their
 * CRC-32 (zlib's crc32), a fixed date (1980-01-01 00:00) so the same model
 * gives the same bytes. model_zip_finish appends the central directory and
 * the end record. Entries and the archive must stay below 4 GiB (no zip64):
 * larger ones fail the buffer. */
typedef struct model_zip {
    model_buf *out;
    model_buf dir; /* central directory, built as entries are added */
    size_t n_entries;
} model_zip;

void model_zip_begin(model_zip *z, model_buf *out);
/* Adds one entry: name, then the parts' bytes concatenated (header and data
 * of a .npy without copying them together). */
void model_zip_add(model_zip *z, const char *name, const void *part1, size_t len1,
                   const void *part2, size_t len2);
void model_zip_finish(model_zip *z);

#endif
