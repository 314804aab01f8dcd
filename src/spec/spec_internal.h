/* spec_internal: what the spec module's files (spec.c, spec_yaml.c,
 * spec_options.c) and sweep.c share beyond the public spec.h. Not for other
 * modules: the runner uses spec.h and sweep.h only.
 *
 * The document tree: every YAML node with its 1-based start mark. Scalars
 * keep their text and whether they were quoted, so "6" is a string and 6 an
 * integer. Mappings keep their keys in document order (keys[i] -> items[i]).
 */
#ifndef RUNEXP_SPEC_INTERNAL_H
#define RUNEXP_SPEC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "spec.h"

/* Hostile-input limits (see spec_yaml.c). */
#define SPEC_MAX_FILE_BYTES (1024u * 1024u)
#define SPEC_MAX_DEPTH 64
#define SPEC_MAX_NODES 100000u

typedef enum { SN_SCALAR = 0, SN_MAP, SN_SEQ } sn_kind;

typedef struct sn {
    sn_kind kind;
    unsigned line, col;  /* 1-based */
    char *text;          /* scalar text, NUL-terminated */
    size_t len;
    int quoted;          /* 1 = not plain (quoted, literal, folded, or !!str) */
    size_t n, cap;
    struct sn **keys;    /* mapping keys (scalars); NULL for sequences */
    struct sn **items;   /* mapping values or sequence items */
} sn;

/* The type a scalar resolves to (YAML 1.2 core schema; quoted = string). */
typedef enum { SV_NULL = 0, SV_BOOL, SV_INT, SV_REAL, SV_STR } sv_type;

typedef struct sv {
    sv_type type;
    int b;
    long long i;
    double r; /* also set for SV_INT */
} sv;

sn *sn_new(sn_kind kind, unsigned line, unsigned col);
sn *sn_new_scalar(const char *text, size_t len, int quoted, unsigned line,
                  unsigned col);
void sn_free(sn *n);
/* Deep copy; NULL when out of memory. */
sn *sn_copy(const sn *n);
/* Appends to a sequence (key NULL) or mapping. Takes ownership of key/val
 * on success; returns -1 when out of memory. */
int sn_append(sn *parent, sn *key, sn *val);
/* Value of key in a mapping, or NULL; *index set when found and index != NULL. */
sn *sn_map_get(const sn *m, const char *key, size_t *index);
/* Resolves a scalar's type. */
sv sn_value(const sn *n);
/* "a mapping", "a list", "an integer", "a string", ... for messages. */
const char *sn_describe(const sn *n);

/* Parses YAML text into a tree. Returns NULL with diagnostics on any
 * syntax error, limit hit, or non-UTF-8 input. */
sn *spec_tree_parse(const char *text, size_t len, const char *file,
                    spec_diagnostics *d);

/* ---- the option table --------------------------------------------------- */

typedef enum {
    OPT_MAP = 0,   /* a mapping of the child options */
    OPT_INT,
    OPT_REAL,
    OPT_BOOL,
    OPT_STR,
    OPT_ENUM,      /* one of names */
    OPT_ENUM_LIST, /* a list of distinct names */
    OPT_SIZE,      /* int = count >= 1, float = fraction in (0, 1) */
    OPT_UNITS,     /* int or the word `classes` */
    OPT_SOURCE,    /* one of names, or a mapping of the children */
    OPT_NAME_MAP,  /* one of names, or a mapping with `name` + children */
    OPT_LAYERS,    /* a list of mappings of the children (path "x[].child") */
    OPT_SEEDS,     /* a count, or a list of distinct non-negative ints */
    OPT_GRID,      /* false, true, or a mapping of the children */
    OPT_RANGE2,    /* [[x0 lo, x0 hi], [x1 lo, x1 hi]] */
    OPT_SWEEP,     /* name -> sweep entry (parsed in spec.c, applied in sweep.c) */
    OPT_VALUES,    /* a list, or a range mapping of the children */
    OPT_ZIP,       /* a list of mappings of the children */
    OPT_LIST,      /* a list of min..max values (a sweep entry's distribution) */
    OPT_RATE,      /* a number, or a schedule mapping of the children */
    OPT_REAL_LIST, /* a list of numbers (list lengths in min, max) */
    OPT_CLASS_WEIGHT /* `balanced`, or a mapping class name -> weight */
} opt_type;

#define OPT_REQUIRED 1u
#define OPT_EXCL_MIN 2u /* minimum is exclusive */
#define OPT_EXCL_MAX 4u
#define OPT_KEY 8u      /* part of the canonical resolved spec (the trial key) */

/* Where a converted value goes, and its C type: a field of the typed
 * experiment, or for the children of model.layers of one spec_layer. */
typedef enum {
    FIELD_NONE = 0, /* checked only, or stored by the option's setter */
    FIELD_INT,      /* int: a boolean, or the index of a name */
    FIELD_SIZE,     /* size_t; for OPT_UNITS the int flag `classes` at aux */
    FIELD_DOUBLE,   /* double */
    FIELD_STR,      /* char *, owned (a copy) */
    FIELD_DSIZE,    /* data_size (a split size) */
    FIELD_U64_OPT,  /* uint64_t, and at aux an int set to 1 when given */
    FIELD_RANGE     /* double[2] at off (x0) and double[2] at aux (x1) */
} spec_field;

typedef struct spec_option spec_option;
typedef struct spec_conv spec_conv; /* one conversion's state (spec.c) */

/* A setter converts one structured value v (NULL when absent without a
 * default) into the experiment, reporting problems at v; base is the
 * struct the option's offsets refer to. */
typedef void (*spec_setter)(spec_conv *c, const spec_option *o, const sn *v, const char *disp,
                            void *base);
/* A putter writes the canonical JSON value of an option whose type's own
 * rule does not fit (csv_sha: the CSV source's SHA-256 in hex). */
typedef void (*spec_putter)(FILE *f, const spec_option *o, const spec_experiment *e,
                            const void *base, const char *csv_sha);

/* One row of the option table: everything about an option, said once. */
struct spec_option {
    const char *path;  /* "training.batch_size", "model.layers[].units" */
    opt_type type;
    unsigned flags;
    double min, max;   /* numbers; list lengths for lists */
    const char *def;   /* default as YAML text, NULL = none */
    const char *const *names; /* NULL-terminated, for enums */
    unsigned optimizers; /* optimizer keys: bit (1 << nn_optimizer_kind) valid for */
    const char *def_by_opt[3]; /* per-optimizer defaults (adam, sgd, rmsprop) */
    spec_field field;  /* the destination's C type ... */
    size_t off, aux;   /* ... and its offset(s) in the destination struct */
    spec_setter set;   /* structured options: converts and stores instead */
    spec_putter put;   /* canonical JSON value, when not the type's own */
    const char *help;
    unsigned layer_types; /* layer options: bit (1 << nn_layer_kind) of the
                           * layer types it belongs to (0: every type) */
    /* KEY options new since the first trial keys: left out of the canonical
     * form when this says the value reproduces the old behaviour (base: the
     * struct the offsets refer to), so old keys stay what they were */
    int (*omit)(const spec_option *o, const void *base);
    /* learning-rate schedule options: bit (1 << nn_lr_schedule_kind) of the
     * schedules it is a parameter of, and of those where it is required */
    unsigned schedules, schedules_required;
};

extern const spec_option spec_options[];
extern const size_t spec_n_options;

/* The option with this generic path ("model.layers[].units"), or NULL. */
const spec_option *spec_option_find(const char *path);
/* Is o a direct child of the generic path parent ("" = the top level)? */
int spec_option_is_child(const spec_option *o, const char *parent);
/* The rows below parent: the table keeps every option's descendants in one
 * block right after it, so [*first, *end) holds all of them (parent NULL:
 * the whole table). */
void spec_option_block(const spec_option *parent, size_t *first, size_t *end);

/* The setters of the structured options (spec.c). */
void spec_set_source(spec_conv *c, const spec_option *o, const sn *v, const char *disp,
                     void *base);
void spec_set_layers(spec_conv *c, const spec_option *o, const sn *v, const char *disp,
                     void *base);
void spec_set_metrics(spec_conv *c, const spec_option *o, const sn *v, const char *disp,
                      void *base);
void spec_set_seeds(spec_conv *c, const spec_option *o, const sn *v, const char *disp,
                    void *base);
void spec_set_history(spec_conv *c, const spec_option *o, const sn *v, const char *disp,
                      void *base);
void spec_set_confusion(spec_conv *c, const spec_option *o, const sn *v, const char *disp,
                        void *base);
void spec_set_grid(spec_conv *c, const spec_option *o, const sn *v, const char *disp,
                   void *base);
void spec_set_callback(spec_conv *c, const spec_option *o, const sn *v, const char *disp,
                       void *base);
void spec_set_learning_rate(spec_conv *c, const spec_option *o, const sn *v, const char *disp,
                            void *base);
void spec_set_class_weight(spec_conv *c, const spec_option *o, const sn *v, const char *disp,
                           void *base);

extern const char *const spec_activation_names[];  /* indexed by nn_activation */
extern const char *const spec_init_names[];        /* nn_init */
extern const char *const spec_loss_names[];        /* nn_loss */
extern const char *const spec_optimizer_names[];   /* nn_optimizer_kind */
extern const char *const spec_scale_names[];       /* data_scale */
extern const char *const spec_layer_type_names[];  /* nn_layer_kind */
extern const char *const spec_schedule_names[];    /* nn_lr_schedule_kind - 1 */

/* Levenshtein distance (for "did you mean"). */
size_t spec_edit_distance(const char *a, const char *b);
/* The closest of names within a small distance, or NULL. */
const char *spec_suggest(const char *word, const char *const *names, size_t n);

/* ---- the sweep block (parsed and checked at load, applied by sweep.c) --- */

typedef struct spec_sweep_target {
    char *name;        /* value name: the entry's name, or for zip members
                          their `name` or "<entry>.<last path key>" */
    char *path;        /* "model.layers[0].units" */
    const sn *path_node; /* mark for path errors (points into the doc tree) */
    size_t n_values, cap_values;
    sn **values;       /* owned; ranges are generated as plain scalars */
} spec_sweep_target;

typedef struct spec_sweep_entry {
    char *name;
    size_t n_targets;  /* 1, or the zip's length */
    spec_sweep_target *targets;
    size_t n_values;   /* the same for every target */
} spec_sweep_entry;

/* Writes a copy of value at t->path in root, creating absent keys the
 * option table knows. Returns -1 with a diagnostic at t->path_node when the
 * path does not exist in root (or when out of memory, without one). */
int spec_sweep_apply(const char *file, spec_diagnostics *d, sn *root,
                     const spec_sweep_target *t, const sn *value);

/* ---- data inputs, each read once (spec_input.c) ---------------------------- */

/* The inputs a document's conversions have asked for, one entry per
 * distinct source: a built-in kind, or a CSV's (resolved path, label). The
 * cache holds one reference to each input. */
typedef struct spec_inputs spec_inputs;

/* Why a CSV source cannot be used. */
typedef struct spec_input_problem {
    int inside;       /* 0: the file cannot be opened (reason); 1: its bytes (at) */
    char reason[256]; /* "No such file or directory", "is a directory, ..." */
    data_error at;    /* inside: the file, 1-based line and column, message */
} spec_input_problem;

/* NULL when out of memory. Free with spec_inputs_free (drops the cache's
 * references; inputs a plan holds live on). */
spec_inputs *spec_inputs_new(void);
void spec_inputs_free(spec_inputs *c);

/* The CSV input of (path, label), label NULL = the last column: on the
 * first request the file is opened and read once, hashed and parsed from
 * that buffer; later requests return the same input, or the same problem,
 * without touching the file. NULL with *problem set when the file cannot
 * be used, NULL with *problem NULL when out of memory. */
const spec_input *spec_inputs_csv(spec_inputs *c, const char *path, const char *label,
                                  const spec_input_problem **problem);
/* The input of a built-in source (its data not loaded); NULL when out of
 * memory. */
const spec_input *spec_inputs_builtin(spec_inputs *c, spec_source kind);
/* The input of a converted experiment's data.source, or NULL when the
 * cache has none (the source was never asked for, or failed). */
spec_input *spec_inputs_find(const spec_inputs *c, const spec_experiment *e);
/* Loads a built-in input's data when not loaded yet. Returns 0, or -1 with
 * err set. */
int spec_input_load(spec_input *in, data_error *err);
/* One more holder / one fewer (the last frees the input; NULL is a no-op). */
void spec_input_hold(spec_input *in);
void spec_input_release(spec_input *in);

/* The parsed tree, the sweep block, and the data inputs of a document. The
 * input cache is the one part of a document that changes after it is
 * parsed: building a plan converts every sweep point against it, which
 * adds any source the base spec did not name. */
const sn *spec_document_tree(const spec_document *doc);
const char *spec_document_base_dir(const spec_document *doc);
size_t spec_document_sweep(const spec_document *doc,
                           const spec_sweep_entry **entries);
spec_inputs *spec_document_inputs(const spec_document *doc);

/* Typed conversion and validation of a whole tree (the `sweep` block is
 * not looked at: spec_document_parse checks it). Fills *out (free with
 * spec_experiment_free) and, when seeds != NULL, the seed list (caller
 * frees). The data source is read through inputs (NULL: a cache of this
 * call only). Returns 0, or -1 with diagnostics. */
int spec_experiment_from_tree(const sn *root, const char *file,
                              const char *base_dir, spec_experiment *out,
                              uint64_t **seeds, size_t *n_seeds,
                              spec_inputs *inputs, spec_diagnostics *d);

/* Children option names of a generic path, for "did you mean" (at most
 * max names; returns how many). */
size_t spec_option_children(const char *path, const char **names, size_t max);

/* Shortest "%.*g" text of x that reads back as the same double (JSON-safe:
 * always contains '.', 'e', or is an integer-looking text as printed). */
void spec_format_real(char *buf, size_t size, double x);

/* Writes s as a JSON string literal. */
void spec_json_string(FILE *f, const char *s);

#endif
