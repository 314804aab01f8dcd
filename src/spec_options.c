/* spec_options: the one declarative table of spec options, and what it
 * drives besides validation: the help text and the JSON Schema.
 *
 * Like redis's config table, an option is described once: its path in the
 * document, type, bounds, default (as YAML text, so a default goes through
 * the very checker a written value does), allowed names and help. The
 * validator in spec.c looks options up here for every key it meets (unknown
 * keys and their "did you mean" come from the children of a path), and
 * `runexp schema` walks the same paths to build the nested JSON Schema.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec_internal.h"

const char *const spec_activation_names[] = {"linear", "relu", "sigmoid", "tanh", "softmax",
                                             NULL};
const char *const spec_init_names[] = {"glorot_uniform", "glorot_normal", "he_uniform",
                                       "he_normal", "zeros", NULL};
const char *const spec_loss_names[] = {"categorical_crossentropy", "binary_crossentropy",
                                       "mean_squared_error", NULL};
const char *const spec_optimizer_names[] = {"adam", "sgd", "rmsprop", NULL};
const char *const spec_scale_names[] = {"none", "standard", "minmax", NULL};
static const char *const source_names[] = {"xor", "digits", NULL};
static const char *const layer_type_names[] = {"dense", NULL};
static const char *const metric_names[] = {"accuracy", NULL};
static const char *const split_names[] = {"train", "validation", "test", NULL};

#define ADAM (1u << NN_OPT_ADAM)
#define SGD (1u << NN_OPT_SGD)
#define RMSPROP (1u << NN_OPT_RMSPROP)
#define BIG_INT 9007199254740991.0 /* 2^53 - 1: exact in a double */

/* clang-format off */
const spec_option spec_options[] = {
    {"name", OPT_STR, 0, 0, 0, NULL, NULL, 0, {0},
     "Experiment name, the key of the experiment in the database: 1 to 128 bytes of printable text, no control or invisible characters, no space at either end. The report goes to results/NAME/ with each byte outside A-Z a-z 0-9 . _ - written as _ (default: the file name without .yaml, made to fit)."},
    {"description", OPT_STR, 0, 0, 0, NULL, NULL, 0, {0},
     "Free text shown in reports."},
    {"data", OPT_MAP, OPT_REQUIRED, 0, 0, NULL, NULL, 0, {0},
     "The dataset pipeline: source -> augment -> split -> scale -> one-hot."},
    {"data.source", OPT_SOURCE, OPT_REQUIRED, 0, 0, NULL, source_names, 0, {0},
     "xor (the 4-point truth table, 2 classes), digits (scikit-learn load_digits, 1797 x 64, 10 classes), or {csv: PATH, label: COLUMN}."},
    {"data.source.csv", OPT_STR, OPT_REQUIRED, 0, 0, NULL, NULL, 0, {0},
     "Path of a CSV file with a header row, relative to the spec file; numeric feature columns."},
    {"data.source.label", OPT_STR, 0, 0, 0, NULL, NULL, 0, {0},
     "Name of the label column (default: the last column)."},
    {"data.augment", OPT_MAP, 0, 0, 0, NULL, NULL, 0, {0},
     "Augmentation applied to the whole source before splitting."},
    {"data.augment.repeat", OPT_INT, 0, 1, 100000, "1", NULL, 0, {0},
     "numpy.tile the rows this many times."},
    {"data.augment.noise", OPT_REAL, 0, 0, 1000, "0", NULL, 0, {0},
     "Add noise * N(0,1) to every feature of every row."},
    {"data.split", OPT_MAP, 0, 0, 0, NULL, NULL, 0, {0},
     "train_test_split twice: the test set from all rows, then the validation set from what is left. An integer is a row count, a real a fraction in (0, 1)."},
    {"data.split.test", OPT_SIZE, 0, 1, 1e9, "0.25", NULL, 0, {0},
     "Test set size (scikit-learn test_size: fraction -> ceil(f * n) rows)."},
    {"data.split.validation", OPT_SIZE, 0, 1, 1e9, NULL, NULL, 0, {0},
     "Validation set size, taken from the rows left after the test split (default: no validation set)."},
    {"data.split.shuffle", OPT_BOOL, 0, 0, 0, "true", NULL, 0, {0},
     "Shuffle before splitting (train_test_split shuffle)."},
    {"data.split.stratify", OPT_BOOL, 0, 0, 0, "false", NULL, 0, {0},
     "Keep the class proportions in every split (StratifiedShuffleSplit)."},
    {"data.scale", OPT_ENUM, 0, 0, 0, "none", spec_scale_names, 0, {0},
     "Feature scaling fitted on the training rows: none, standard (StandardScaler), minmax (MinMaxScaler)."},
    {"data.seed", OPT_INT, 0, 0, BIG_INT, NULL, NULL, 0, {0},
     "Pin the data (noise and splits) to this seed while the model seeds vary (default: the trial's seed)."},
    {"model", OPT_MAP, OPT_REQUIRED, 0, 0, NULL, NULL, 0, {0},
     "A sequential network."},
    {"model.layers", OPT_LAYERS, OPT_REQUIRED, 1, NN_MAX_LAYERS, NULL, NULL, 0, {0},
     "The layers, input side first."},
    {"model.layers[].type", OPT_ENUM, 0, 0, 0, "dense", layer_type_names, 0, {0},
     "Layer type (only dense)."},
    {"model.layers[].units", OPT_UNITS, OPT_REQUIRED, 1, 65536, NULL, NULL, 0, {0},
     "Number of neurons, or `classes` for the number of classes of the dataset. The output layer must have one unit per class."},
    {"model.layers[].activation", OPT_ENUM, 0, 0, 0, "linear", spec_activation_names, 0, {0},
     "Activation function."},
    {"model.layers[].kernel_initializer", OPT_ENUM, 0, 0, 0, "glorot_uniform", spec_init_names, 0, {0},
     "Kernel initializer."},
    {"model.layers[].bias_initializer", OPT_ENUM, 0, 0, 0, "zeros", spec_init_names, 0, {0},
     "Bias initializer."},
    {"training", OPT_MAP, OPT_REQUIRED, 0, 0, NULL, NULL, 0, {0},
     "model.compile and model.fit settings."},
    {"training.loss", OPT_ENUM, OPT_REQUIRED, 0, 0, NULL, spec_loss_names, 0, {0},
     "Loss; categorical_crossentropy needs a softmax output, binary_crossentropy a sigmoid output (one unit per class, one-hot targets)."},
    {"training.optimizer", OPT_NAME_MAP, 0, 0, 0, "adam", spec_optimizer_names, 0, {0},
     "An optimizer name, or a mapping {name: NAME, PARAMETER: VALUE, ...}; Keras defaults for what is left out."},
    {"training.optimizer.name", OPT_ENUM, OPT_REQUIRED, 0, 0, NULL, spec_optimizer_names, 0, {0},
     "Optimizer."},
    {"training.optimizer.learning_rate", OPT_REAL, OPT_EXCL_MIN, 0, 10, NULL, NULL, ADAM | SGD | RMSPROP,
     {"0.001", "0.01", "0.001"}, "Learning rate (adam 0.001, sgd 0.01, rmsprop 0.001)."},
    {"training.optimizer.beta_1", OPT_REAL, OPT_EXCL_MAX, 0, 1, "0.9", NULL, ADAM, {0},
     "Adam: decay of the first moment."},
    {"training.optimizer.beta_2", OPT_REAL, OPT_EXCL_MAX, 0, 1, "0.999", NULL, ADAM, {0},
     "Adam: decay of the second moment."},
    {"training.optimizer.epsilon", OPT_REAL, OPT_EXCL_MIN, 0, 1, "1e-07", NULL, ADAM | RMSPROP, {0},
     "Adam, rmsprop: epsilon."},
    {"training.optimizer.momentum", OPT_REAL, 0, 0, 1, "0", NULL, SGD, {0},
     "SGD: momentum."},
    {"training.optimizer.nesterov", OPT_BOOL, 0, 0, 0, "false", NULL, SGD, {0},
     "SGD: Nesterov momentum."},
    {"training.optimizer.rho", OPT_REAL, OPT_EXCL_MAX, 0, 1, "0.9", NULL, RMSPROP, {0},
     "RMSprop: decay of the squared-gradient average."},
    {"training.epochs", OPT_INT, OPT_REQUIRED, 1, 1000000, NULL, NULL, 0, {0},
     "Number of epochs."},
    {"training.batch_size", OPT_INT, 0, 1, 1048576, "32", NULL, 0, {0},
     "Rows per gradient step."},
    {"training.shuffle", OPT_BOOL, 0, 0, 0, "true", NULL, 0, {0},
     "A fresh permutation of the training rows every epoch."},
    {"training.metrics", OPT_ENUM_LIST, 0, 0, 1, "accuracy", metric_names, 0, {0},
     "Metrics besides the loss (only accuracy is supported)."},
    {"seeds", OPT_SEEDS, 0, 1, 100000, "1", NULL, 0, {0},
     "A count N (seeds 0..N-1) or a list of distinct non-negative integers; every sweep point runs once per seed."},
    {"sweep", OPT_SWEEP, 0, 0, 0, NULL, NULL, 0, {0},
     "Named sweep entries; several entries form a grid (first entry outermost, seeds innermost). The entry name is the parameter's name in the database."},
    {"sweep.*.path", OPT_STR, 0, 0, 0, NULL, NULL, 0, {0},
     "The swept value's path in the spec, e.g. model.layers[0].units or training.optimizer.learning_rate."},
    {"sweep.*.values", OPT_VALUES, 0, 1, 100000, NULL, NULL, 0, {0},
     "A list of values, or a range {from, to, step} (integers, inclusive) or {from, to, num, log} (reals, numpy.linspace / geomspace, inclusive)."},
    {"sweep.*.zip", OPT_ZIP, 0, 1, 16, NULL, NULL, 0, {0},
     "Several paths varied together: a list of {path, values, name}; all value lists have the same length."},
    {"sweep.*.zip[].path", OPT_STR, OPT_REQUIRED, 0, 0, NULL, NULL, 0, {0},
     "The swept value's path in the spec."},
    {"sweep.*.zip[].values", OPT_VALUES, OPT_REQUIRED, 1, 100000, NULL, NULL, 0, {0},
     "A list of values or a range."},
    {"sweep.*.zip[].name", OPT_STR, 0, 0, 0, NULL, NULL, 0, {0},
     "Name of this value in the database (default: ENTRY.LASTKEY, e.g. arch.units)."},
    {"sweep.*.values.from", OPT_REAL, OPT_REQUIRED, 0, 0, NULL, NULL, 0, {0},
     "First value (inclusive)."},
    {"sweep.*.values.to", OPT_REAL, OPT_REQUIRED, 0, 0, NULL, NULL, 0, {0},
     "Last value (inclusive)."},
    {"sweep.*.values.step", OPT_INT, 0, 0, 0, NULL, NULL, 0, {0},
     "Integer step (default 1, or -1 when from > to)."},
    {"sweep.*.values.num", OPT_INT, 0, 1, 100000, NULL, NULL, 0, {0},
     "Number of real values, evenly spaced (numpy.linspace)."},
    {"sweep.*.values.log", OPT_BOOL, 0, 0, 0, "false", NULL, 0, {0},
     "Space the num values evenly on a log scale (numpy.geomspace); from and to must be > 0."},
    {"record", OPT_MAP, 0, 0, 0, NULL, NULL, 0, {0},
     "What to keep per trial besides the history."},
    {"record.history", OPT_BOOL, 0, 0, 0, "true", NULL, 0, {0},
     "Per-epoch loss and accuracy; always recorded (false is an error)."},
    {"record.confusion", OPT_ENUM_LIST, 0, 0, 3, "validation, test", split_names, 0, {0},
     "Splits whose confusion matrix is stored (default: validation when there is one, and test)."},
    {"record.weights", OPT_BOOL, 0, 0, 0, "true", NULL, 0, {0},
     "Store the final weights."},
    {"record.grid", OPT_GRID, 0, 0, 0, NULL, NULL, 0, {0},
     "Prediction grid over the input plane for 2-feature data: false, true, or {range, resolution} (default: on for 2-feature data)."},
    {"record.grid.range", OPT_RANGE2, 0, 0, 0, "[[-1, 2], [-1, 2]]", NULL, 0, {0},
     "[[x0 min, x0 max], [x1 min, x1 max]]."},
    {"record.grid.resolution", OPT_INT, 0, 2, 1000, "100", NULL, 0, {0},
     "Grid points per axis."},
};
/* clang-format on */

const size_t spec_n_options = sizeof spec_options / sizeof spec_options[0];

const spec_option *spec_option_find(const char *path)
{
    for (size_t i = 0; i < spec_n_options; i++)
        if (!strcmp(spec_options[i].path, path))
            return &spec_options[i];
    return NULL;
}

size_t spec_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return (size_t)-1; /* not a typo of a key */
    size_t row[65];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            if (up + 1 < best)
                best = up + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

const char *spec_suggest(const char *word, const char *const *names, size_t n)
{
    size_t lw = strlen(word), limit = lw / 3 > 2 ? lw / 3 : 2;
    const char *best = NULL;
    size_t bd = (size_t)-1;
    for (size_t i = 0; i < n; i++) {
        size_t dd = spec_edit_distance(word, names[i]);
        if (dd < bd) {
            bd = dd;
            best = names[i];
        }
    }
    if (best && bd <= limit && bd < lw)
        return best;
    return NULL;
}

void spec_format_real(char *buf, size_t size, double x)
{
    if (!buf || size == 0)
        return;
    /* Whole numbers of a sane size print as integers ("1000000", not
     * "1e+06"), which reads better in messages and is just as canonical. */
    if (x == floor(x) && fabs(x) < 1e15) {
        snprintf(buf, size, "%.0f", x == 0 ? 0.0 : x);
        return;
    }
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, size, "%.*g", p, x);
        if (strtod(buf, NULL) == x)
            return;
    }
}

void spec_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", f);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

/* ---- walking the table by path ------------------------------------------- */

/* Is o a direct child of parent? "a.b" of "a"; "a[].b" of "a" (list items). */
static int is_child(const spec_option *o, const char *parent)
{
    size_t lp = strlen(parent);
    const char *rest;
    if (lp == 0) {
        rest = o->path;
    } else {
        if (strncmp(o->path, parent, lp))
            return 0;
        rest = o->path + lp;
        if (!strncmp(rest, "[].", 3))
            rest += 3;
        else if (*rest == '.')
            rest += 1;
        else
            return 0;
    }
    return *rest && !strchr(rest, '.');
}

size_t spec_option_children(const char *path, const char **names, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < spec_n_options && n < max; i++)
        if (is_child(&spec_options[i], path)) {
            const char *d = strrchr(spec_options[i].path, '.');
            names[n++] = d ? d + 1 : spec_options[i].path;
        }
    return n;
}

static const char *last_key(const char *path)
{
    const char *d = strrchr(path, '.');
    return d ? d + 1 : path;
}

static void print_number(FILE *f, double x)
{
    char b[40];
    spec_format_real(b, sizeof b, x);
    fputs(b, f);
}

/* ---- help ----------------------------------------------------------------- */

static const char *type_text(const spec_option *o)
{
    switch (o->type) {
    case OPT_MAP: return "mapping";
    case OPT_INT: return "integer";
    case OPT_REAL: return "number";
    case OPT_BOOL: return "boolean";
    case OPT_STR: return "string";
    case OPT_ENUM: return "name";
    case OPT_ENUM_LIST: return "list of names";
    case OPT_SIZE: return "count or fraction";
    case OPT_UNITS: return "integer or `classes`";
    case OPT_SOURCE: return "name or mapping";
    case OPT_NAME_MAP: return "name or mapping";
    case OPT_LAYERS: return "list of mappings";
    case OPT_SEEDS: return "count or list of integers";
    case OPT_GRID: return "boolean or mapping";
    case OPT_RANGE2: return "[[min, max], [min, max]]";
    case OPT_SWEEP: return "mapping of name -> entry";
    case OPT_VALUES: return "list or range";
    case OPT_ZIP: return "list of mappings";
    }
    return "?";
}

void spec_help_print(FILE *f)
{
    fputs("runexp spec options (YAML). Keys marked * are required.\n\n", f);
    for (size_t i = 0; i < spec_n_options; i++) {
        const spec_option *o = &spec_options[i];
        fprintf(f, "%s%s  (%s", o->path, (o->flags & OPT_REQUIRED) ? " *" : "", type_text(o));
        if (o->type == OPT_INT || o->type == OPT_REAL || o->type == OPT_UNITS) {
            if (o->min != 0 || o->max != 0) {
                fputs(", ", f);
                fputs((o->flags & OPT_EXCL_MIN) ? "(" : "[", f);
                print_number(f, o->min);
                fputs(", ", f);
                print_number(f, o->max);
                fputs((o->flags & OPT_EXCL_MAX) ? ")" : "]", f);
            }
        }
        if (o->def)
            fprintf(f, ", default %s", o->def);
        if (o->def_by_opt[0])
            fprintf(f, ", default adam %s, sgd %s, rmsprop %s", o->def_by_opt[0],
                    o->def_by_opt[1], o->def_by_opt[2]);
        if (o->optimizers && o->optimizers != (ADAM | SGD | RMSPROP)) {
            fputs(", for", f);
            for (int k = 0; k < 3; k++)
                if (o->optimizers & (1u << k))
                    fprintf(f, " %s", spec_optimizer_names[k]);
        }
        fputs(")\n", f);
        if (o->names) {
            fputs("    one of:", f);
            for (const char *const *n = o->names; *n; n++)
                fprintf(f, " %s", *n);
            fputc('\n', f);
        }
        fprintf(f, "    %s\n", o->help);
    }
}

/* ---- JSON Schema ------------------------------------------------------------ */

static void ind(FILE *f, int n)
{
    for (int i = 0; i < n; i++)
        fputs("  ", f);
}

/* The default as a JSON value, from its YAML text and the option's type. */
static void print_default(FILE *f, const spec_option *o)
{
    if (!o->def)
        return;
    switch (o->type) {
    case OPT_INT:
    case OPT_REAL:
    case OPT_SIZE:
    case OPT_SEEDS:
        print_number(f, strtod(o->def, NULL));
        break;
    case OPT_BOOL:
    case OPT_RANGE2:
        fputs(o->def, f);
        break;
    case OPT_ENUM_LIST: {
        fputc('[', f);
        const char *s = o->def;
        int first = 1;
        while (*s) {
            size_t n = strcspn(s, ", ");
            if (n) {
                fprintf(f, "%s\"%.*s\"", first ? "" : ", ", (int)n, s);
                first = 0;
            }
            s += n;
            while (*s == ',' || *s == ' ')
                s++;
        }
        fputc(']', f);
        break;
    }
    default:
        spec_json_string(f, o->def);
        break;
    }
}

static void print_names(FILE *f, const char *const *names)
{
    fputc('[', f);
    for (size_t i = 0; names[i]; i++) {
        if (i)
            fputs(", ", f);
        spec_json_string(f, names[i]);
    }
    fputc(']', f);
}

static void print_bounds(FILE *f, const spec_option *o, int d)
{
    if (o->min == 0 && o->max == 0)
        return;
    fputs(",\n", f);
    ind(f, d);
    fputs((o->flags & OPT_EXCL_MIN) ? "\"exclusiveMinimum\": " : "\"minimum\": ", f);
    print_number(f, o->min);
    fputs(",\n", f);
    ind(f, d);
    fputs((o->flags & OPT_EXCL_MAX) ? "\"exclusiveMaximum\": " : "\"maximum\": ", f);
    print_number(f, o->max);
}

static void emit_option(FILE *f, const spec_option *o, int d);

/* "properties", "required" and "additionalProperties" of a mapping whose
 * keys are the children of path. */
static void emit_object_members(FILE *f, const char *path, int d)
{
    ind(f, d);
    fputs("\"type\": \"object\",\n", f);
    ind(f, d);
    fputs("\"properties\": {", f);
    int first = 1;
    for (size_t i = 0; i < spec_n_options; i++) {
        const spec_option *o = &spec_options[i];
        if (!is_child(o, path))
            continue;
        fputs(first ? "\n" : ",\n", f);
        first = 0;
        ind(f, d + 1);
        spec_json_string(f, last_key(o->path));
        fputs(": {\n", f);
        emit_option(f, o, d + 2);
        fputc('\n', f);
        ind(f, d + 1);
        fputc('}', f);
    }
    fputc('\n', f);
    ind(f, d);
    fputs("},\n", f);
    int any = 0;
    for (size_t i = 0; i < spec_n_options; i++) {
        const spec_option *o = &spec_options[i];
        if (!is_child(o, path) || !(o->flags & OPT_REQUIRED))
            continue;
        if (!any) {
            ind(f, d);
            fputs("\"required\": [", f);
        }
        fprintf(f, "%s", any ? ", " : "");
        spec_json_string(f, last_key(o->path));
        any = 1;
    }
    if (any)
        fputs("],\n", f);
    ind(f, d);
    fputs("\"additionalProperties\": false", f);
}

static void emit_object(FILE *f, const char *path, int d)
{
    emit_object_members(f, path, d);
}

static void emit_option(FILE *f, const spec_option *o, int d)
{
    ind(f, d);
    fputs("\"description\": ", f);
    spec_json_string(f, o->help);
    if (o->def) {
        fputs(",\n", f);
        ind(f, d);
        fputs("\"default\": ", f);
        print_default(f, o);
    }
    fputs(",\n", f);
    switch (o->type) {
    case OPT_MAP:
        emit_object(f, o->path, d);
        break;
    case OPT_INT:
        ind(f, d);
        fputs("\"type\": \"integer\"", f);
        print_bounds(f, o, d);
        break;
    case OPT_REAL:
        ind(f, d);
        fputs("\"type\": \"number\"", f);
        print_bounds(f, o, d);
        break;
    case OPT_BOOL:
        ind(f, d);
        fputs("\"type\": \"boolean\"", f);
        break;
    case OPT_STR:
        ind(f, d);
        fputs("\"type\": \"string\"", f);
        break;
    case OPT_ENUM:
        ind(f, d);
        fputs("\"enum\": ", f);
        print_names(f, o->names);
        break;
    case OPT_ENUM_LIST:
        ind(f, d);
        fputs("\"type\": \"array\",\n", f);
        ind(f, d);
        fputs("\"items\": {\"enum\": ", f);
        print_names(f, o->names);
        fputs("},\n", f);
        ind(f, d);
        fputs("\"uniqueItems\": true", f);
        break;
    case OPT_SIZE:
        ind(f, d);
        fputs("\"oneOf\": [\n", f);
        ind(f, d + 1);
        fputs("{\"type\": \"integer\", \"minimum\": 1, \"description\": \"a row count\"},\n", f);
        ind(f, d + 1);
        fputs("{\"type\": \"number\", \"exclusiveMinimum\": 0, \"exclusiveMaximum\": 1, "
              "\"description\": \"a fraction of the rows\"}\n",
              f);
        ind(f, d);
        fputc(']', f);
        break;
    case OPT_UNITS:
        ind(f, d);
        fputs("\"oneOf\": [\n", f);
        ind(f, d + 1);
        fputs("{\"type\": \"integer\", \"minimum\": ", f);
        print_number(f, o->min);
        fputs(", \"maximum\": ", f);
        print_number(f, o->max);
        fputs("},\n", f);
        ind(f, d + 1);
        fputs("{\"const\": \"classes\"}\n", f);
        ind(f, d);
        fputc(']', f);
        break;
    case OPT_SOURCE:
    case OPT_NAME_MAP:
    case OPT_GRID:
        ind(f, d);
        fputs("\"oneOf\": [\n", f);
        ind(f, d + 1);
        if (o->type == OPT_GRID) {
            fputs("{\"type\": \"boolean\"},\n", f);
        } else {
            fputs("{\"enum\": ", f);
            print_names(f, o->names);
            fputs("},\n", f);
        }
        ind(f, d + 1);
        fputs("{\n", f);
        emit_object(f, o->path, d + 2);
        fputc('\n', f);
        ind(f, d + 1);
        fputs("}\n", f);
        ind(f, d);
        fputc(']', f);
        break;
    case OPT_LAYERS:
    case OPT_ZIP:
        ind(f, d);
        fputs("\"type\": \"array\",\n", f);
        ind(f, d);
        fputs("\"minItems\": ", f);
        print_number(f, o->min);
        fputs(",\n", f);
        ind(f, d);
        fputs("\"maxItems\": ", f);
        print_number(f, o->max);
        fputs(",\n", f);
        ind(f, d);
        fputs("\"items\": {\n", f);
        emit_object(f, o->path, d + 1);
        fputc('\n', f);
        ind(f, d);
        fputc('}', f);
        break;
    case OPT_SEEDS:
        ind(f, d);
        fputs("\"oneOf\": [\n", f);
        ind(f, d + 1);
        fputs("{\"type\": \"integer\", \"minimum\": ", f);
        print_number(f, o->min);
        fputs(", \"maximum\": ", f);
        print_number(f, o->max);
        fputs("},\n", f);
        ind(f, d + 1);
        fputs("{\"type\": \"array\", \"minItems\": 1, \"uniqueItems\": true, "
              "\"items\": {\"type\": \"integer\", \"minimum\": 0, \"maximum\": ",
              f);
        print_number(f, BIG_INT);
        fputs("}}\n", f);
        ind(f, d);
        fputc(']', f);
        break;
    case OPT_RANGE2:
        ind(f, d);
        fputs("\"type\": \"array\",\n", f);
        ind(f, d);
        fputs("\"minItems\": 2,\n", f);
        ind(f, d);
        fputs("\"maxItems\": 2,\n", f);
        ind(f, d);
        fputs("\"items\": {\"type\": \"array\", \"minItems\": 2, \"maxItems\": 2, "
              "\"items\": {\"type\": \"number\"}}",
              f);
        break;
    case OPT_SWEEP:
        ind(f, d);
        fputs("\"type\": \"object\",\n", f);
        ind(f, d);
        fputs("\"additionalProperties\": {\n", f);
        ind(f, d + 1);
        fputs("\"oneOf\": [{\"required\": [\"path\", \"values\"]}, {\"required\": [\"zip\"]}],\n",
              f);
        emit_object(f, "sweep.*", d + 1);
        fputc('\n', f);
        ind(f, d);
        fputc('}', f);
        break;
    case OPT_VALUES:
        ind(f, d);
        fputs("\"$ref\": \"#/$defs/values\"", f);
        break;
    }
}

void spec_schema_print(FILE *f)
{
    fputs("{\n", f);
    fputs("  \"$schema\": \"https://json-schema.org/draft/2020-12/schema\",\n", f);
    fputs("  \"$id\": \"https://runexp.invalid/schemas/experiment.schema.json\",\n", f);
    fputs("  \"title\": \"runexp experiment spec\",\n", f);
    fputs("  \"description\": \"A YAML experiment for runexp, generated by `runexp schema` "
          "from the option table in src/spec_options.c; do not edit by hand.\",\n",
          f);
    emit_object(f, "", 1);
    fputs(",\n", f);
    fputs("  \"$defs\": {\n", f);
    fputs("    \"values\": {\n", f);
    const spec_option *v = spec_option_find("sweep.*.values");
    fputs("      \"oneOf\": [\n", f);
    fputs("        {\"type\": \"array\", \"minItems\": 1, \"maxItems\": ", f);
    print_number(f, v->max);
    fputs("},\n", f);
    fputs("        {\n", f);
    emit_object(f, "sweep.*.values", 5);
    fputs("\n        }\n", f);
    fputs("      ]\n", f);
    fputs("    }\n", f);
    fputs("  }\n", f);
    fputs("}\n", f);
}
