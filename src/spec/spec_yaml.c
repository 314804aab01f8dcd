/* spec_yaml: diagnostics, and YAML text -> document tree (libyaml events).
 *
 * The tree keeps what validation needs and nothing more: kinds, marks,
 * scalar text and whether a scalar was quoted. Hostile input is bounded here,
 * before any tree grows large: the file size is checked by the loader, the
 * text must be valid UTF-8 (checked by us first, so the message can carry a
 * line and column), nesting depth is capped, and aliases are expanded as deep
 * copies whose total node count is capped, which defeats "billion laughs"
 * while still allowing the ordinary use of anchors for shared settings.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "spec_internal.h"
#include "text.h"

/* ---- diagnostics --------------------------------------------------------- */

void spec_diagnostics_init(spec_diagnostics *d)
{
    d->n = d->cap = 0;
    d->items = NULL;
}

void spec_diagnostics_free(spec_diagnostics *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free(d->items[i].file);
        free(d->items[i].message);
    }
    free(d->items);
    spec_diagnostics_init(d);
}

/* Copies s into out (size > 0) with control characters written as \t, \n,
 * \r or \xNN: a message quotes text from the file, and one diagnostic must
 * stay one line of output, with no terminal escape sequences from the input
 * reaching the terminal. Truncates only between whole escapes. */
static void escape_controls(char *out, size_t size, const char *s)
{
    size_t o = 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char e[5];
        if (c == '\t' || c == '\n' || c == '\r')
            snprintf(e, sizeof e, "\\%c", c == '\t' ? 't' : c == '\n' ? 'n' : 'r');
        else if (c < 0x20 || c == 0x7F)
            snprintf(e, sizeof e, "\\x%02X", c);
        else
            e[0] = (char)c, e[1] = '\0';
        size_t l = strlen(e);
        if (o + l >= size)
            break;
        memcpy(out + o, e, l);
        o += l;
    }
    out[o] = '\0';
}

void spec_diagnostics_add(spec_diagnostics *d, const char *file, unsigned line,
                          unsigned column, const char *fmt, ...)
{
    char raw[1024], buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    escape_controls(buf, sizeof buf, raw);
    /* The same problem found twice (e.g. once per sweep point, each of which
     * adds a few at most) is one problem. Only the latest diagnostics are
     * compared: against all of them a file with many errors would cost time
     * quadratic in their number. */
    for (size_t i = d->n > 128 ? d->n - 128 : 0; i < d->n; i++)
        if (d->items[i].line == line && d->items[i].column == column &&
            !strcmp(d->items[i].message, buf) && !strcmp(d->items[i].file, file ? file : ""))
            return;
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 8;
        spec_diag *p = realloc(d->items, cap * sizeof *p);
        if (!p)
            return; /* out of memory: the diagnostics list is best effort */
        d->items = p;
        d->cap = cap;
    }
    spec_diag *g = &d->items[d->n];
    g->file = strdup(file ? file : "");
    g->message = strdup(buf);
    if (!g->file || !g->message) {
        free(g->file);
        free(g->message);
        return;
    }
    g->line = line;
    g->column = column;
    d->n++;
}

/* Messages quote the spec ("unknown activation 'x'"), and a quoted YAML
 * string can hold any control character: both parts are escaped for the
 * terminal (text.h). */
void spec_diagnostics_print(const spec_diagnostics *d, FILE *f)
{
    for (size_t i = 0; i < d->n; i++) {
        const spec_diag *g = &d->items[i];
        text_fputs(g->file, f);
        if (g->line != 0 && g->column == 0)
            fprintf(f, ":%u", g->line);
        else if (g->line != 0)
            fprintf(f, ":%u:%u", g->line, g->column);
        fputs(": error: ", f);
        text_fputs(g->message, f);
        fputc('\n', f);
    }
}

/* ---- nodes ---------------------------------------------------------------- */

sn *sn_new(sn_kind kind, unsigned line, unsigned col)
{
    sn *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->kind = kind;
    n->line = line;
    n->col = col;
    return n;
}

sn *sn_new_scalar(const char *text, size_t len, int quoted, unsigned line,
                  unsigned col)
{
    sn *n = sn_new(SN_SCALAR, line, col);
    if (!n)
        return NULL;
    n->text = malloc(len + 1);
    if (!n->text) {
        free(n);
        return NULL;
    }
    memcpy(n->text, text, len);
    n->text[len] = '\0';
    n->len = len;
    n->quoted = quoted;
    return n;
}

void sn_free(sn *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n; i++) {
        if (n->keys)
            sn_free(n->keys[i]);
        sn_free(n->items[i]);
    }
    free(n->keys);
    free(n->items);
    free(n->text);
    free(n);
}

int sn_append(sn *p, sn *key, sn *val)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 4;
        sn **items = realloc(p->items, cap * sizeof *items);
        if (!items)
            return -1;
        p->items = items;
        if (p->kind == SN_MAP) {
            sn **keys = realloc(p->keys, cap * sizeof *keys);
            if (!keys)
                return -1;
            p->keys = keys;
        }
        p->cap = cap;
    }
    if (p->kind == SN_MAP)
        p->keys[p->n] = key;
    p->items[p->n++] = val;
    return 0;
}

sn *sn_copy(const sn *n)
{
    sn *c = n->kind == SN_SCALAR
                ? sn_new_scalar(n->text, n->len, n->quoted, n->line, n->col)
                : sn_new(n->kind, n->line, n->col);
    if (!c)
        return NULL;
    for (size_t i = 0; i < n->n; i++) {
        sn *k = n->kind == SN_MAP ? sn_copy(n->keys[i]) : NULL;
        sn *v = sn_copy(n->items[i]);
        if ((n->kind == SN_MAP && !k) || !v || sn_append(c, k, v) < 0) {
            sn_free(k);
            sn_free(v);
            sn_free(c);
            return NULL;
        }
    }
    return c;
}

sn *sn_map_get(const sn *m, const char *key, size_t *index)
{
    if (!m || m->kind != SN_MAP)
        return NULL;
    for (size_t i = 0; i < m->n; i++)
        if (!strcmp(m->keys[i]->text, key)) {
            if (index)
                *index = i;
            return m->items[i];
        }
    return NULL;
}

static int all_in(const char *s, size_t from, const char *set)
{
    if (!s[from])
        return 0;
    for (size_t i = from; s[i]; i++)
        if (!strchr(set, s[i]))
            return 0;
    return 1;
}

/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static int is_float_text(const char *s)
{
    size_t i = 0, digits = 0;
    if (s[i] == '-' || s[i] == '+')
        i++;
    while (s[i] >= '0' && s[i] <= '9')
        i++, digits++;
    if (s[i] == '.') {
        i++;
        while (s[i] >= '0' && s[i] <= '9')
            i++, digits++;
    }
    if (!digits)
        return 0;
    if (s[i] == 'e' || s[i] == 'E') {
        i++;
        if (s[i] == '-' || s[i] == '+')
            i++;
        if (!(s[i] >= '0' && s[i] <= '9'))
            return 0;
        while (s[i] >= '0' && s[i] <= '9')
            i++;
    }
    return s[i] == '\0';
}

sv sn_value(const sn *n)
{
    sv v = {SV_STR, 0, 0, 0.0};
    if (!n || n->kind != SN_SCALAR || n->quoted)
        return v;
    const char *s = n->text;
    if (!*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
        !strcmp(s, "NULL")) {
        v.type = SV_NULL;
        return v;
    }
    if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE")) {
        v.type = SV_BOOL;
        v.b = 1;
        return v;
    }
    if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE")) {
        v.type = SV_BOOL;
        return v;
    }
    size_t sign = (s[0] == '-' || s[0] == '+') ? 1 : 0;
    int base = 0;
    const char *digits = s;
    if (all_in(s, sign, "0123456789"))
        base = 10;
    else if (!sign && s[0] == '0' && s[1] == 'x' && all_in(s, 2, "0123456789abcdefABCDEF"))
        base = 16, digits = s + 2;
    else if (!sign && s[0] == '0' && s[1] == 'o' && all_in(s, 2, "01234567"))
        base = 8, digits = s + 2;
    if (base) {
        errno = 0;
        long long i = strtoll(digits, NULL, base);
        if (errno == ERANGE) {
            /* Too large for an integer: keep the magnitude as a real so
             * range messages can still show it. */
            v.type = SV_REAL;
            v.r = strtod(s, NULL);
            return v;
        }
        v.type = SV_INT;
        v.i = i;
        v.r = (double)i;
        return v;
    }
    if (is_float_text(s)) {
        v.type = SV_REAL;
        v.r = strtod(s, NULL);
        return v;
    }
    const char *t = s + sign;
    if (!strcmp(t, ".inf") || !strcmp(t, ".Inf") || !strcmp(t, ".INF")) {
        v.type = SV_REAL;
        v.r = s[0] == '-' ? -HUGE_VAL : HUGE_VAL;
        return v;
    }
    if (!sign && (!strcmp(s, ".nan") || !strcmp(s, ".NaN") || !strcmp(s, ".NAN"))) {
        v.type = SV_REAL;
        v.r = NAN;
        return v;
    }
    return v;
}

const char *sn_describe(const sn *n)
{
    if (!n)
        return "nothing";
    if (n->kind == SN_MAP)
        return "a mapping";
    if (n->kind == SN_SEQ)
        return "a list";
    switch (sn_value(n).type) {
    case SV_NULL: return "null";
    case SV_BOOL: return "a boolean";
    case SV_INT: return "an integer";
    case SV_REAL: return "a real number";
    case SV_STR: break;
    }
    return "a string";
}

/* ---- parsing ------------------------------------------------------------- */

/* Length of the line break at s[i], 0 when there is none. libyaml ends a
 * line at LF, CR, CRLF, NEL, LS and PS; every position we compute ourselves
 * counts lines the same way, so all diagnostics of a file agree. */
static size_t break_at(const unsigned char *s, size_t len, size_t i)
{
    if (s[i] == '\n')
        return 1;
    if (s[i] == '\r')
        return i + 1 < len && s[i + 1] == '\n' ? 2 : 1;
    if (s[i] == 0xC2 && i + 1 < len && s[i + 1] == 0x85)
        return 2;
    if (s[i] == 0xE2 && i + 2 < len && s[i + 1] == 0x80 && (s[i + 2] == 0xA8 || s[i + 2] == 0xA9))
        return 3;
    return 0;
}

/* 1-based line and column (in characters, like libyaml's marks) of byte
 * offset off (at most len: len is just past the last character). */
static void text_position(const char *text, size_t len, size_t off, unsigned *line,
                          unsigned *col)
{
    const unsigned char *s = (const unsigned char *)text;
    unsigned l = 1, c = 1;
    size_t i = 0;
    if (off > len)
        off = len;
    /* libyaml skips a byte order mark without counting it. */
    if (len >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF && off >= 3)
        i = 3;
    while (i < off) {
        size_t b = break_at(s, len, i);
        if (b) {
            l++, c = 1;
            i += b;
            continue;
        }
        if ((s[i] & 0xC0) != 0x80)
            c++;
        i++;
    }
    *line = l;
    *col = c;
}

/* Offset of the first byte of an invalid UTF-8 sequence, or len when the
 * text is valid. */
static size_t utf8_check(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char b = s[i];
        size_t need;
        uint32_t cp, min;
        if (b < 0x80) {
            i++;
            continue;
        } else if ((b & 0xE0) == 0xC0) {
            need = 1, cp = b & 0x1F, min = 0x80;
        } else if ((b & 0xF0) == 0xE0) {
            need = 2, cp = b & 0x0F, min = 0x800;
        } else if ((b & 0xF8) == 0xF0) {
            need = 3, cp = b & 0x07, min = 0x10000;
        } else {
            return i;
        }
        for (size_t k = 1; k <= need; k++) {
            if (i + k >= len || (s[i + k] & 0xC0) != 0x80)
                return i;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return i;
        i += need + 1;
    }
    return len;
}

/* A libyaml mark as 1-based line and column. At the end of a file without a
 * final line break libyaml moves its mark to the start of a line that does
 * not exist; such a mark is put at (end_line, end_col), just past the last
 * character, instead. */
static void mark_position(const yaml_mark_t *m, unsigned end_line, unsigned end_col,
                          unsigned *line, unsigned *col)
{
    *line = (unsigned)m->line + 1;
    *col = (unsigned)m->column + 1;
    if (*line > end_line || (*line == end_line && *col > end_col)) {
        *line = end_line;
        *col = end_col;
    }
}

typedef struct anchor {
    char *name;
    sn *node;
    int complete;
} anchor;

typedef struct frame {
    sn *node;
    sn *key;       /* pending mapping key */
    int skip_value; /* the pending key was a duplicate: drop its value */
    size_t anchor; /* 1 + index of the node's anchor, 0 = none */
} frame;

/* A hash table from (owner, text) to an index: mapping keys by (mapping,
 * key) -> index of the key, and anchors by (NULL, name) -> index of the
 * newest anchor of that name. Looking either up by a scan would make a
 * mapping of many keys, or a file of many anchors and aliases, quadratic
 * in the size of the file. The table does not own the texts. */
typedef struct hslot {
    const void *owner;
    const char *text; /* NULL = empty slot */
    size_t value;
} hslot;

typedef struct htab {
    hslot *slots;
    size_t cap, n; /* cap is 0 or a power of two */
} htab;

static size_t hash_of(const void *owner, const char *text)
{
    /* FNV-1a over the text, then the owner's address mixed in. */
    uint64_t h = 1469598103934665603ull;
    for (const unsigned char *c = (const unsigned char *)text; *c; c++)
        h = (h ^ *c) * 1099511628211ull;
    h ^= (uint64_t)(uintptr_t)owner;
    h *= 0x9E3779B97F4A7C15ull;
    return (size_t)(h ^ (h >> 29));
}

static hslot *htab_find(const htab *t, const void *owner, const char *text)
{
    if (!t->cap)
        return NULL;
    for (size_t i = hash_of(owner, text) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
        hslot *s = &t->slots[i];
        if (!s->text || (s->owner == owner && !strcmp(s->text, text)))
            return s;
    }
}

/* Sets (owner, text) -> value, replacing an earlier value; -1 when out of
 * memory. */
static int htab_put(htab *t, const void *owner, const char *text, size_t value)
{
    if (2 * (t->n + 1) > t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        hslot *slots = calloc(cap, sizeof *slots);
        if (!slots)
            return -1;
        htab old = *t;
        t->slots = slots;
        t->cap = cap;
        for (size_t i = 0; i < old.cap; i++)
            if (old.slots[i].text)
                *htab_find(t, old.slots[i].owner, old.slots[i].text) = old.slots[i];
        free(old.slots);
    }
    hslot *s = htab_find(t, owner, text);
    if (!s->text)
        t->n++;
    s->owner = owner;
    s->text = text;
    s->value = value;
    return 0;
}

typedef struct parse_ctx {
    const char *file;
    spec_diagnostics *d;
    frame stack[SPEC_MAX_DEPTH + 1];
    size_t depth;
    size_t n_nodes;
    anchor *anchors;
    size_t n_anchors, cap_anchors;
    sn **dropped;  /* duplicate keys and their values, freed at the end */
    size_t n_dropped, cap_dropped;
    htab keys;     /* (mapping, key) -> index of the key in the mapping */
    htab anchor_names; /* (NULL, name) -> index into anchors */
    sn *root;
    int failed;
} parse_ctx;

/* Keeps a node that left the tree (a duplicate key or its value) alive
 * until parsing ends: anchors defined anywhere inside it may still be
 * aliased later in the file, and finding and clearing each of them would
 * cost a walk of the node per anchor. The file already failed (the
 * duplicate was reported), so the aliases only need to stay harmless.
 * Frees n and returns -1 when out of memory. */
static int drop(parse_ctx *p, sn *n)
{
    if (!n)
        return 0;
    if (p->n_dropped == p->cap_dropped) {
        size_t cap = p->cap_dropped ? p->cap_dropped * 2 : 8;
        sn **d = realloc(p->dropped, cap * sizeof *d);
        if (!d) {
            sn_free(n);
            return -1;
        }
        p->dropped = d;
        p->cap_dropped = cap;
    }
    p->dropped[p->n_dropped++] = n;
    return 0;
}

static size_t sn_count(const sn *n)
{
    size_t c = 1;
    for (size_t i = 0; i < n->n; i++)
        c += (n->keys ? sn_count(n->keys[i]) : 0) + sn_count(n->items[i]);
    return c;
}

static int add_anchor(parse_ctx *p, const yaml_char_t *name, sn *node, int complete)
{
    if (!name)
        return 0;
    if (p->n_anchors == p->cap_anchors) {
        size_t cap = p->cap_anchors ? p->cap_anchors * 2 : 8;
        anchor *a = realloc(p->anchors, cap * sizeof *a);
        if (!a)
            return -1;
        p->anchors = a;
        p->cap_anchors = cap;
    }
    char *s = strdup((const char *)name);
    if (!s)
        return -1;
    /* A redefined anchor shadows the earlier one (YAML): the newest wins. */
    if (htab_put(&p->anchor_names, NULL, s, p->n_anchors) < 0) {
        free(s);
        return -1;
    }
    p->anchors[p->n_anchors].name = s;
    p->anchors[p->n_anchors].node = node;
    p->anchors[p->n_anchors].complete = complete;
    p->n_anchors++;
    return 0;
}

static anchor *find_anchor(parse_ctx *p, const char *name)
{
    hslot *s = htab_find(&p->anchor_names, NULL, name);
    return s && s->text ? &p->anchors[s->value] : NULL;
}

/* Puts a finished node into its parent (or makes it the root). Takes
 * ownership of n. */
static int place(parse_ctx *p, sn *n)
{
    if (p->depth == 0) {
        p->root = n;
        return 0;
    }
    frame *f = &p->stack[p->depth - 1];
    if (f->node->kind == SN_SEQ) {
        if (sn_append(f->node, NULL, n) < 0) {
            sn_free(n);
            return -1;
        }
        return 0;
    }
    if (!f->key) {
        if (n->kind != SN_SCALAR) {
            spec_diagnostics_add(p->d, p->file, n->line, n->col,
                                 "a mapping key must be a plain word, got %s",
                                 sn_describe(n));
            sn_free(n);
            p->failed = 1;
            return -1;
        }
        f->skip_value = 0;
        hslot *s = htab_find(&p->keys, f->node, n->text);
        if (s && s->text) {
            spec_diagnostics_add(p->d, p->file, n->line, n->col,
                                 "duplicate key '%s' (first defined at line %u)",
                                 n->text, f->node->keys[s->value]->line);
            /* Not fatal to parsing: the rest of the file is still checked,
             * and the caller fails because a diagnostic was added. */
            f->skip_value = 1;
        } else if (htab_put(&p->keys, f->node, n->text, f->node->n) < 0) {
            sn_free(n);
            return -1;
        }
        f->key = n;
        return 0;
    }
    sn *key = f->key;
    f->key = NULL;
    if (f->skip_value) {
        /* Anchors on the key, the value or anything inside the value must
         * not dangle: both are kept until the end (see drop). */
        int rk = drop(p, key);
        int rv = drop(p, n);
        return rk < 0 || rv < 0 ? -1 : 0;
    }
    if (sn_append(f->node, key, n) < 0) {
        sn_free(key);
        sn_free(n);
        return -1;
    }
    return 0;
}

static int count_node(parse_ctx *p, size_t k, unsigned line, unsigned col)
{
    if (p->n_nodes + k > SPEC_MAX_NODES) {
        spec_diagnostics_add(p->d, p->file, line, col,
                             "the spec expands to more than %u nodes (alias "
                             "expansion or a very large file); refusing to go on",
                             SPEC_MAX_NODES);
        p->failed = 1;
        return -1;
    }
    p->n_nodes += k;
    return 0;
}

/* The tag of a node: only the standard ones are accepted; !!str makes a
 * scalar a string whatever it looks like. Returns -1 on a tag we refuse. */
static int check_tag(parse_ctx *p, const yaml_char_t *tag, unsigned line, unsigned col,
                     int *quoted)
{
    if (!tag)
        return 0;
    const char *t = (const char *)tag;
    if (!strcmp(t, YAML_STR_TAG)) {
        if (quoted)
            *quoted = 1;
        return 0;
    }
    if (!strcmp(t, YAML_MAP_TAG) || !strcmp(t, YAML_SEQ_TAG))
        return 0;
    spec_diagnostics_add(p->d, p->file, line, col,
                         "YAML tag '%s' is not supported here; only !!str is", t);
    p->failed = 1;
    return -1;
}

sn *spec_tree_parse(const char *text, size_t len, const char *file,
                    spec_diagnostics *d)
{
    parse_ctx p;
    memset(&p, 0, sizeof p);
    p.file = file;
    p.d = d;

    size_t bad = utf8_check((const unsigned char *)text, len);
    if (bad < len) {
        unsigned bl, bc;
        text_position(text, len, bad, &bl, &bc);
        spec_diagnostics_add(d, file, bl, bc,
                             "the file is not valid UTF-8 (byte 0x%02X); save the spec as UTF-8",
                             (unsigned char)text[bad]);
        return NULL;
    }

    unsigned end_line, end_col;
    text_position(text, len, len, &end_line, &end_col);

    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        spec_diagnostics_add(d, file, 0, 0, "out of memory");
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);

    int documents = 0, done = 0, oom = 0;
    while (!done && !p.failed) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            if (parser.error == YAML_MEMORY_ERROR) {
                spec_diagnostics_add(d, file, 0, 0, "out of memory");
            } else if (parser.error == YAML_READER_ERROR) {
                /* Our UTF-8 check runs first, so this is a control character
                 * or similar; the reader gives a byte offset. */
                unsigned l, c;
                text_position(text, len, parser.problem_offset, &l, &c);
                spec_diagnostics_add(d, file, l, c, "cannot read the file: %s (byte 0x%02X)",
                                     parser.problem ? parser.problem : "unreadable input",
                                     (unsigned)parser.problem_value & 0xFFu);
            } else {
                unsigned pl, pc, cl, cc;
                mark_position(&parser.problem_mark, end_line, end_col, &pl, &pc);
                mark_position(&parser.context_mark, end_line, end_col, &cl, &cc);
                if (parser.context)
                    spec_diagnostics_add(d, file, pl, pc, "YAML syntax: %s (%s at line %u)",
                                         parser.problem ? parser.problem : "invalid YAML",
                                         parser.context, cl);
                else
                    spec_diagnostics_add(d, file, pl, pc, "YAML syntax: %s",
                                         parser.problem ? parser.problem : "invalid YAML");
            }
            p.failed = 1;
            break;
        }
        unsigned line, col;
        mark_position(&ev.start_mark, end_line, end_col, &line, &col);
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = 1;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (++documents > 1) {
                spec_diagnostics_add(d, file, line, col,
                                     "a second YAML document; a spec file holds exactly one");
                p.failed = 1;
            }
            break;
        case YAML_SCALAR_EVENT: {
            int quoted = ev.data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
            if (check_tag(&p, ev.data.scalar.tag, line, col, &quoted) < 0 ||
                count_node(&p, 1, line, col) < 0)
                break;
            sn *n = sn_new_scalar((const char *)ev.data.scalar.value, ev.data.scalar.length,
                                  quoted, line, col);
            if (!n || add_anchor(&p, ev.data.scalar.anchor, n, 1) < 0) {
                sn_free(n);
                oom = 1;
                break;
            }
            if (place(&p, n) < 0 && !p.failed)
                oom = 1;
            break;
        }
        case YAML_ALIAS_EVENT: {
            anchor *a = find_anchor(&p, (const char *)ev.data.alias.anchor);
            if (!a || !a->node) {
                spec_diagnostics_add(d, file, line, col, "unknown alias '*%s'",
                                     (const char *)ev.data.alias.anchor);
                p.failed = 1;
                break;
            }
            if (!a->complete) {
                spec_diagnostics_add(d, file, line, col,
                                     "alias '*%s' refers to a node that contains it "
                                     "(recursive aliases are not allowed)",
                                     (const char *)ev.data.alias.anchor);
                p.failed = 1;
                break;
            }
            if (count_node(&p, sn_count(a->node), line, col) < 0)
                break;
            sn *n = sn_copy(a->node);
            if (!n) {
                oom = 1;
                break;
            }
            if (place(&p, n) < 0 && !p.failed)
                oom = 1;
            break;
        }
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT: {
            int is_map = ev.type == YAML_MAPPING_START_EVENT;
            const yaml_char_t *tag = is_map ? ev.data.mapping_start.tag
                                            : ev.data.sequence_start.tag;
            const yaml_char_t *anc = is_map ? ev.data.mapping_start.anchor
                                            : ev.data.sequence_start.anchor;
            if (p.depth >= SPEC_MAX_DEPTH) {
                spec_diagnostics_add(d, file, line, col,
                                     "nesting deeper than %d levels; refusing to go on",
                                     SPEC_MAX_DEPTH);
                p.failed = 1;
                break;
            }
            if (check_tag(&p, tag, line, col, NULL) < 0 ||
                count_node(&p, 1, line, col) < 0)
                break;
            sn *n = sn_new(is_map ? SN_MAP : SN_SEQ, line, col);
            if (!n || add_anchor(&p, anc, n, 0) < 0) {
                sn_free(n);
                oom = 1;
                break;
            }
            p.stack[p.depth].node = n;
            p.stack[p.depth].key = NULL;
            p.stack[p.depth].skip_value = 0;
            p.stack[p.depth].anchor = anc ? p.n_anchors : 0;
            p.depth++;
            break;
        }
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT: {
            frame f = p.stack[--p.depth];
            if (f.anchor)
                p.anchors[f.anchor - 1].complete = 1;
            sn_free(f.key);
            if (place(&p, f.node) < 0 && !p.failed)
                oom = 1;
            break;
        }
        default:
            break;
        }
        yaml_event_delete(&ev);
        if (oom) {
            spec_diagnostics_add(d, file, 0, 0, "out of memory");
            p.failed = 1;
        }
    }
    yaml_parser_delete(&parser);
    while (p.depth > 0) {
        frame f = p.stack[--p.depth];
        sn_free(f.key);
        sn_free(f.node);
    }
    for (size_t i = 0; i < p.n_anchors; i++)
        free(p.anchors[i].name);
    free(p.anchors);
    for (size_t i = 0; i < p.n_dropped; i++)
        sn_free(p.dropped[i]);
    free(p.dropped);
    free(p.keys.slots);
    free(p.anchor_names.slots);
    if (p.failed) {
        sn_free(p.root);
        return NULL;
    }
    if (!p.root || (p.root->kind == SN_SCALAR && sn_value(p.root).type == SV_NULL)) {
        spec_diagnostics_add(d, file, 0, 0,
                             "the spec is empty; expected a mapping with data, model and training");
        sn_free(p.root);
        return NULL;
    }
    return p.root;
}
