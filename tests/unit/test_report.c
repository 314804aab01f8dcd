/* Unit tests of the report module (cmocka).
 *
 * A fixture generator below writes a small results database with plain SQL
 * following schemas/results.sql (the schema file itself is executed first):
 *   experiment 1 "xor_fixture": the lab's XOR spec with a sweep of hidden =
 *     1, 2, 4, three seeds per point (test accuracies chosen by hand below),
 *     one failed trial, test confusion matrices, per-class metrics and a
 *     20 x 20 prediction grid per trial;
 *   experiment 2 "digits_fixture": the digits spec, no sweep, two seeds,
 *     ten classes, no grid (the most recent experiment).
 * The tests then generate reports and check the files: every expected file
 * exists, PNGs have the PNG signature, an IHDR of the requested size and
 * non-zero pixel variance (decoded here with zlib, independently of PLplot
 * and cairo), index.html references exactly the files written, and the
 * summary numbers on the page equal the ones computed by hand from the
 * fixture.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "report.h"

/* ---- helpers ---------------------------------------------------------------- */

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    size_t r;
    while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            char *nb = realloc(buf, cap * 2 + 1);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf)
        buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

static void exec_sql(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fprintf(stderr, "SQL error: %s\n  in: %.200s\n", msg ? msg : "?", sql);
    sqlite3_free(msg);
    assert_int_equal(rc, SQLITE_OK);
}

/* sqlite3_vmprintf: %Q quotes a string literal for SQL. */
static void exec_fmt(sqlite3 *db, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *sql = sqlite3_vmprintf(fmt, ap);
    va_end(ap);
    assert_non_null(sql);
    exec_sql(db, sql);
    sqlite3_free(sql);
}

static const char xor_spec[] =
    "name: xor_fixture\n"
    "description: Noisy XOR with one hidden layer.\n"
    "data:\n"
    "  source: xor\n"
    "  augment:\n"
    "    repeat: 200\n"
    "    noise: 0.3\n"
    "  split:\n"
    "    test: 0.2\n"
    "    validation: 20\n"
    "model:\n"
    "  layers:\n"
    "    - {type: dense, units: 6, activation: relu}\n"
    "    - {type: dense, units: 2, activation: softmax}\n"
    "training:\n"
    "  loss: categorical_crossentropy\n"
    "  optimizer: adam\n"
    "  epochs: 20\n"
    "  batch_size: 32\n"
    "  metrics: [accuracy]\n"
    "seeds: 3\n"
    "sweep:\n"
    "  hidden:\n"
    "    path: model.layers[0].units\n"
    "    values: [1, 2, 4]\n";

static const char digits_spec[] =
    "name: digits_fixture\n"
    "description: One-layer softmax perceptron on the 8x8 digits <&>.\n"
    "data:\n"
    "  source: digits\n"
    "  split: {test: 0.25, validation: 0.25}\n"
    "model:\n"
    "  layers:\n"
    "    - {type: dense, units: 10, activation: softmax}\n"
    "training:\n"
    "  loss: categorical_crossentropy\n"
    "  optimizer: adam\n"
    "  epochs: 15\n"
    "  batch_size: 128\n"
    "  metrics: [accuracy]\n"
    "seeds: 2\n";

/* Test accuracies of the XOR fixture, [point][seed], chosen by hand:
 * point 0 mean 0.65 std 0.05, point 1 mean 0.85 std 0.05, point 2 mean 0.91
 * std 0.01 (sample standard deviation). */
static const int hidden_values[3] = {1, 2, 4};
static const double xor_acc[3][3] = {{0.70, 0.60, 0.65}, {0.80, 0.90, 0.85},
                                     {0.92, 0.90, 0.91}};
/* precision_0 per trial, point 0: 0.6, 0.7, 0.8 -> mean 0.700, std 0.100 */
static const double xor_prec0[3] = {0.6, 0.7, 0.8};

/* Fixture generator: a database in dir/fixture.db; returns its path. */
static char *make_fixture(const char *dir)
{
    char *path = malloc(strlen(dir) + 32);
    assert_non_null(path);
    sprintf(path, "%s/fixture.db", dir);
    unlink(path);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *schema = read_file(RUNEXP_SOURCE_DIR "/schemas/results.sql", NULL);
    assert_non_null(schema);
    exec_sql(db, schema);
    free(schema);
    exec_sql(db, "BEGIN");

    /* experiment 1: XOR sweep */
    exec_fmt(db, "INSERT INTO experiments(id, name, spec, spec_file, spec_hash, created_at, "
                 "sweep_dims) VALUES (1, 'xor_fixture', %Q, 'xor_fixture.yaml', 'abc', "
                 "'2024-01-01T00:00:00Z', '[\"hidden\"]')", xor_spec);
    exec_sql(db, "INSERT INTO classes VALUES (1, 0, '0'), (1, 1, '1')");
    long long tid = 0;
    for (int p = 0; p < 3; p++) {
        for (int s = 0; s < 3; s++) {
            tid++;
            double acc = xor_acc[p][s];
            exec_fmt(db, "INSERT INTO trials(id, experiment_id, trial_key, trial_index, "
                         "point_index, seed, params, status, epochs_run, best_epoch, "
                         "overfit_gap, test_loss, test_accuracy, val_accuracy) VALUES "
                         "(%lld, 1, 'k%lld', %d, %d, %d, '{\"hidden\": %d}', 'done', 20, 18, "
                         "0.01, %.17g, %.17g, %.17g)",
                     tid, tid, p * 3 + s, p, s, hidden_values[p], 1.0 - acc, acc, acc);
            exec_fmt(db, "INSERT INTO trial_params VALUES (%lld, 'hidden', %d)", tid,
                     hidden_values[p]);
            for (int e = 1; e <= 20; e++) {
                double f = (double)e / 20.0;
                double a = 0.5 + (acc - 0.5) * f + 0.01 * s;
                exec_fmt(db, "INSERT INTO epochs(trial_id, epoch, loss, accuracy, val_loss, val_accuracy) VALUES (%lld, %d, %.17g, %.17g, %.17g, %.17g)",
                         tid, e, 0.7 - 0.4 * f * (acc - 0.4), a, 0.72 - 0.4 * f * (acc - 0.4),
                         a - 0.02);
            }
            /* 160 test rows, 80 per class; the errors split between the classes. */
            int errors = (int)(160 * (1.0 - acc) + 0.5), e0 = errors / 2, e1 = errors - e0;
            exec_fmt(db, "INSERT INTO confusion VALUES (%lld, 'test', 0, 0, %d), "
                         "(%lld, 'test', 0, 1, %d), (%lld, 'test', 1, 0, %d), "
                         "(%lld, 'test', 1, 1, %d)",
                     tid, 80 - e0, tid, e0, tid, e1, tid, 80 - e1);
            exec_fmt(db, "INSERT INTO metrics VALUES (%lld, 'test', 'accuracy', %.17g), "
                         "(%lld, 'test', 'precision_0', %.17g), (%lld, 'test', 'recall_0', 0.5), "
                         "(%lld, 'test', 'f1_0', 0.5), (%lld, 'test', 'support_0', 80), "
                         "(%lld, 'test', 'precision_1', 0.9), (%lld, 'test', 'recall_1', 0.9), "
                         "(%lld, 'test', 'f1_1', 0.9), (%lld, 'test', 'support_1', 80)",
                     tid, acc, tid, p == 0 ? xor_prec0[s] : 0.75, tid, tid, tid, tid, tid,
                     tid, tid);
            /* grid 20 x 20 over [-1, 2]^2: the XOR of the two half-planes. */
            unsigned char grid[400];
            for (int iy = 0; iy < 20; iy++)
                for (int ix = 0; ix < 20; ix++) {
                    double x0 = -1 + 3.0 * ix / 19, x1 = -1 + 3.0 * iy / 19;
                    grid[iy * 20 + ix] = (unsigned char)((x0 > 0.5) != (x1 > 0.5));
                }
            sqlite3_stmt *st = NULL;
            assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO grids VALUES (?, -1, 2, -1, 2, "
                                                    "20, ?)", -1, &st, NULL), SQLITE_OK);
            sqlite3_bind_int64(st, 1, tid);
            sqlite3_bind_blob(st, 2, grid, sizeof grid, SQLITE_TRANSIENT);
            assert_int_equal(sqlite3_step(st), SQLITE_DONE);
            sqlite3_finalize(st);
        }
    }
    /* a failed trial of point 2: not in the figures, counted as not done */
    tid++;
    exec_fmt(db, "INSERT INTO trials(id, experiment_id, trial_key, trial_index, point_index, "
                 "seed, params, status, error) VALUES (%lld, 1, 'k%lld', 9, 2, 3, "
                 "'{\"hidden\": 4}', 'failed', 'boom')", tid, tid);
    exec_fmt(db, "INSERT INTO trial_params VALUES (%lld, 'hidden', 4)", tid);

    /* experiment 2: digits, no sweep, the most recent */
    exec_fmt(db, "INSERT INTO experiments(id, name, spec, spec_file, spec_hash, created_at, "
                 "sweep_dims) VALUES (2, 'digits_fixture', %Q, 'digits_fixture.yaml', 'def', "
                 "'2024-01-02T00:00:00Z', '[]')", digits_spec);
    for (int c = 0; c < 10; c++)
        exec_fmt(db, "INSERT INTO classes VALUES (2, %d, '%d')", c, c);
    for (int s = 0; s < 2; s++) {
        tid++;
        double acc = s ? 0.90 : 0.88;
        exec_fmt(db, "INSERT INTO trials(id, experiment_id, trial_key, trial_index, "
                     "point_index, seed, params, status, test_loss, test_accuracy) VALUES "
                     "(%lld, 2, 'k%lld', %d, 0, %d, '{}', 'done', 0.4, %.17g)",
                 tid, tid, s, s, acc);
        for (int e = 1; e <= 15; e++)
            exec_fmt(db, "INSERT INTO epochs(trial_id, epoch, loss, accuracy, val_loss, val_accuracy) VALUES (%lld, %d, %.17g, %.17g, %.17g, %.17g)", tid,
                     e, 3.0 / e, 0.5 + 0.4 * e / 15.0, 3.1 / e, 0.48 + 0.4 * e / 15.0);
        for (int i = 0; i < 10; i++)
            for (int j = 0; j < 10; j++) {
                int n = i == j ? 40 + i % 4 : j == (i + 1) % 10 ? 4 + s : 0;
                exec_fmt(db, "INSERT INTO confusion VALUES (%lld, 'test', %d, %d, %d)", tid, i,
                         j, n);
            }
    }
    exec_sql(db, "COMMIT");
    sqlite3_close(db);
    return path;
}

/* ---- PNG checks, independent of PLplot and cairo ---------------------------- */

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int paeth(int a, int b, int c)
{
    int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
    return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/* Decodes an 8-bit RGB / RGBA / grey PNG and returns the variance of its
 * luminance (alpha composited over white), 0..255 scale. Checks the
 * signature and that IHDR says w x h. Fails the test on anything else. */
static double png_variance(const char *path, unsigned want_w, unsigned want_h)
{
    size_t len = 0;
    unsigned char *buf = (unsigned char *)read_file(path, &len);
    assert_non_null(buf);
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    assert_true(len > 33);
    assert_memory_equal(buf, sig, 8);
    assert_memory_equal(buf + 12, "IHDR", 4);
    unsigned w = be32(buf + 16), h = be32(buf + 20);
    assert_int_equal(w, want_w);
    assert_int_equal(h, want_h);
    int depth = buf[24], ctype = buf[25], interlace = buf[28];
    assert_int_equal(depth, 8);
    assert_int_equal(interlace, 0);
    int ch = ctype == 6 ? 4 : ctype == 2 ? 3 : ctype == 0 ? 1 : ctype == 4 ? 2 : 0;
    assert_true(ch > 0);
    /* gather IDAT */
    unsigned char *z = malloc(len);
    assert_non_null(z);
    size_t zn = 0, pos = 8;
    int seen_iend = 0;
    while (pos + 12 <= len) {
        uint32_t clen = be32(buf + pos);
        assert_true(pos + 12 + clen <= len);
        if (!memcmp(buf + pos + 4, "IDAT", 4)) {
            memcpy(z + zn, buf + pos + 8, clen);
            zn += clen;
        }
        if (!memcmp(buf + pos + 4, "IEND", 4))
            seen_iend = 1;
        pos += 12 + clen;
    }
    assert_true(seen_iend);
    size_t stride = (size_t)w * (size_t)ch;
    uLongf rawn = (uLongf)((stride + 1) * h);
    unsigned char *raw = malloc(rawn);
    assert_non_null(raw);
    assert_int_equal(uncompress(raw, &rawn, z, (uLong)zn), Z_OK);
    assert_int_equal(rawn, (stride + 1) * h);
    /* unfilter in place */
    for (size_t y = 0; y < h; y++) {
        unsigned char *row = raw + y * (stride + 1);
        unsigned char ft = row[0], *cur = row + 1;
        const unsigned char *prev = y ? raw + (y - 1) * (stride + 1) + 1 : NULL;
        assert_true(ft <= 4);
        for (size_t i = 0; i < stride; i++) {
            int a = i >= (size_t)ch ? cur[i - (size_t)ch] : 0;
            int b = prev ? prev[i] : 0;
            int c = prev && i >= (size_t)ch ? prev[i - (size_t)ch] : 0;
            int v = cur[i];
            switch (ft) {
            case 1: v += a; break;
            case 2: v += b; break;
            case 3: v += (a + b) / 2; break;
            case 4: v += paeth(a, b, c); break;
            default: break;
            }
            cur[i] = (unsigned char)v;
        }
    }
    double s = 0, s2 = 0;
    for (size_t y = 0; y < h; y++) {
        const unsigned char *px = raw + y * (stride + 1) + 1;
        for (size_t x = 0; x < w; x++, px += ch) {
            double l = ch >= 3 ? 0.299 * px[0] + 0.587 * px[1] + 0.114 * px[2] : px[0];
            double alpha = ch == 4 ? px[3] / 255.0 : ch == 2 ? px[1] / 255.0 : 1.0;
            l = l * alpha + 255.0 * (1 - alpha);
            s += l;
            s2 += l * l;
        }
    }
    double n = (double)w * h, mean = s / n;
    free(raw);
    free(z);
    free(buf);
    return s2 / n - mean * mean;
}

/* Writes a w x h RGB PNG (filter 0 on every row) whose left half is black
 * and right half white, or all white. */
static void write_png(const char *path, unsigned w, unsigned h, int half_black)
{
    size_t stride = (size_t)w * 3, rawn = (stride + 1) * h;
    unsigned char *raw = calloc(rawn, 1);
    assert_non_null(raw);
    for (size_t y = 0; y < h; y++)
        for (size_t x = 0; x < w; x++)
            memset(raw + y * (stride + 1) + 1 + x * 3, half_black && x < w / 2 ? 0 : 255, 3);
    uLongf zn = compressBound((uLong)rawn);
    unsigned char *z = malloc(zn);
    assert_non_null(z);
    assert_int_equal(compress(z, &zn, raw, (uLong)rawn), Z_OK);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    fwrite(sig, 1, 8, f);
    unsigned char ihdr[13] = {0, 0, 0, 0, 0, 0, 0, 0, 8, 2, 0, 0, 0};
    for (int i = 0; i < 4; i++) {
        ihdr[i] = (unsigned char)(w >> (24 - 8 * i));
        ihdr[4 + i] = (unsigned char)(h >> (24 - 8 * i));
    }
    const struct { const char *type; const unsigned char *data; size_t n; } chunks[3] = {
        {"IHDR", ihdr, 13}, {"IDAT", z, zn}, {"IEND", NULL, 0}};
    for (int c = 0; c < 3; c++) {
        unsigned char len[4] = {(unsigned char)(chunks[c].n >> 24), (unsigned char)(chunks[c].n >> 16),
                                (unsigned char)(chunks[c].n >> 8), (unsigned char)chunks[c].n};
        fwrite(len, 1, 4, f);
        fwrite(chunks[c].type, 1, 4, f);
        if (chunks[c].n)
            fwrite(chunks[c].data, 1, chunks[c].n, f);
        uLong crc = crc32(0, (const Bytef *)chunks[c].type, 4);
        if (chunks[c].n)
            crc = crc32(crc, chunks[c].data, (uInt)chunks[c].n);
        unsigned char cb[4] = {(unsigned char)(crc >> 24), (unsigned char)(crc >> 16),
                               (unsigned char)(crc >> 8), (unsigned char)crc};
        fwrite(cb, 1, 4, f);
    }
    fclose(f);
    free(z);
    free(raw);
}

/* The checker itself: a blank page has variance 0, half black / half white
 * has 127.5^2 = 16256.25. */
static void test_png_checker(void **state)
{
    (void)state;
    char path[] = "/tmp/test_report_png_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    write_png(path, 40, 30, 0);
    assert_true(png_variance(path, 40, 30) < 1e-9);
    write_png(path, 40, 30, 1);
    double v = png_variance(path, 40, 30);
    assert_true(fabs(v - 16256.25) < 1e-6);
    unlink(path);
}

/* ---- index.html checks -------------------------------------------------------- */

/* Decodes base64 up to the closing quote (RFC 4648 alphabet, '=' padding). */
static unsigned char *b64_decode(const char *s, size_t *len)
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *e = strchr(s, '"');
    if (!e || (e - s) % 4)
        return NULL;
    size_t n = (size_t)(e - s);
    unsigned char *out = malloc(n / 4 * 3 + 1);
    size_t o = 0;
    for (size_t i = 0; out && i < n; i += 4) {
        unsigned v = 0;
        int pad = 0;
        for (int j = 0; j < 4; j++) {
            char c = s[i + (size_t)j];
            const char *q = c == '=' ? NULL : strchr(al, c);
            if (c == '=')
                pad++;
            else if (!q || !c) {
                free(out);
                return NULL;
            }
            v = v << 6 | (unsigned)(q ? q - al : 0);
        }
        out[o++] = (unsigned char)(v >> 16);
        if (pad < 2)
            out[o++] = (unsigned char)(v >> 8);
        if (pad < 1)
            out[o++] = (unsigned char)v;
    }
    *len = o;
    return out;
}

/* The figures the page shows, in order: each <img> names its file in
 * data-file="..." and carries it as a data: URI (the page is complete on
 * its own: no src may be a relative path), each PDF is an href="...". */
static size_t html_refs(const char *html, char refs[][128], size_t max)
{
    size_t n = 0;
    const char *p = html;
    while (*p && n < max) {
        const char *a = strstr(p, "data-file=\""), *b = strstr(p, "href=\"");
        const char *q = !a ? b : !b ? a : a < b ? a : b;
        if (!q)
            break;
        q = strchr(q, '"') + 1;
        const char *e = strchr(q, '"');
        assert_non_null(e);
        assert_true((size_t)(e - q) < 128);
        memcpy(refs[n], q, (size_t)(e - q));
        refs[n][e - q] = '\0';
        n++;
        p = e + 1;
    }
    size_t n_src = 0;
    for (p = html; (p = strstr(p, " src=\"")); p++, n_src++)
        assert_true(!strncmp(p + 6, "data:image/png;base64,", 22) ||
                    !strncmp(p + 6, "data:image/svg+xml,", 19));
    assert_null(strstr(html, "<img src="));
    (void)n_src;
    return n;
}

static int in_list(const char *s, char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(s, list[i]))
            return 1;
    return 0;
}

/* The page references exactly the figures written (each once), every one of
 * them exists, and the directory holds nothing else. */
static char *check_page(const report_output *out)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/index.html", out->out_dir);
    char *html = read_file(path, NULL);
    assert_non_null(html);
    assert_non_null(strstr(html, "<!DOCTYPE html>"));
    /* no network: nothing fetched from elsewhere */
    assert_null(strstr(html, "src=\"http"));
    assert_null(strstr(html, "href=\"http"));
    static char refs[64][128];
    size_t n = html_refs(html, refs, 64);
    assert_int_equal(n, out->n_files - 1);
    for (size_t i = 0; i < n; i++) {
        assert_true(in_list(refs[i], out->files, out->n_files - 1));
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(refs[i], refs[j]);
    }
    assert_string_equal(out->files[out->n_files - 1], "index.html");
    /* each embedded PNG decodes to the bytes of its file */
    for (size_t i = 0; i < n; i++) {
        char key[300], fpath[2048];
        snprintf(key, sizeof key, "data-file=\"%.128s\"", refs[i]);
        const char *at = strstr(html, key);
        if (!at || !strstr(refs[i], ".png"))
            continue;
        const char *b64 = strstr(at, " src=\"data:image/png;base64,");
        assert_non_null(b64);
        b64 += strlen(" src=\"data:image/png;base64,");
        size_t flen;
        snprintf(fpath, sizeof fpath, "%.1024s/%.128s", out->out_dir, refs[i]);
        char *want = read_file(fpath, &flen);
        assert_non_null(want);
        size_t got_len;
        unsigned char *got = b64_decode(b64, &got_len);
        assert_non_null(got);
        assert_int_equal(got_len, flen);
        assert_memory_equal(got, want, flen);
        free(got);
        free(want);
    }
    DIR *dir = opendir(out->out_dir);
    assert_non_null(dir);
    struct dirent *de;
    size_t n_dir = 0;
    while ((de = readdir(dir))) {
        if (de->d_name[0] == '.')
            continue;
        assert_true(in_list(de->d_name, out->files, out->n_files));
        n_dir++;
    }
    closedir(dir);
    assert_int_equal(n_dir, out->n_files);
    return html;
}

/* ---- fixtures ----------------------------------------------------------------- */

typedef struct env {
    char dir[256];
    char *db;
} env;

static int setup(void **state)
{
    env *e = calloc(1, sizeof *e);
    if (!e)
        return -1;
    snprintf(e->dir, sizeof e->dir, "/tmp/test_report_XXXXXX");
    if (!mkdtemp(e->dir)) {
        free(e);
        return -1;
    }
    e->db = make_fixture(e->dir);
    *state = e;
    return 0;
}

static void rm_rf(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d))) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                continue;
            char sub[1024];
            snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
            rm_rf(sub);
        }
        closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static int teardown(void **state)
{
    env *e = *state;
    /* RUNEXP_TEST_KEEP=1 keeps the files to look at. */
    const char *keep = getenv("RUNEXP_TEST_KEEP");
    if (keep && *keep == '1')
        fprintf(stderr, "kept %s\n", e->dir);
    else
        rm_rf(e->dir);
    free(e->db);
    free(e);
    return 0;
}

static void gen(env *e, const char *exp, long long trial, const char *sub,
                report_format fmt, report_output *out)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/%s", e->dir, sub);
    report_options o;
    report_options_init(&o);
    o.db_path = e->db;
    o.experiment = exp;
    o.trial_id = trial;
    o.out_dir = dir;
    o.format = fmt;
    report_error err;
    int rc = report_generate(&o, out, &err);
    if (rc)
        fprintf(stderr, "report_generate: %s\n", err.message);
    assert_int_equal(rc, 0);
}

static void check_pngs(const report_output *out)
{
    for (size_t i = 0; i + 1 < out->n_files; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", out->out_dir, out->files[i]);
        double var = png_variance(path, 1000, 700);
        /* A blank page has variance 0; a figure with text, lines and fills
         * has a few hundred at least. */
        if (var < 100)
            fprintf(stderr, "%s: variance %g\n", out->files[i], var);
        assert_true(var > 100);
    }
}

/* ---- tests -------------------------------------------------------------------- */

static void test_median(void **state)
{
    (void)state;
    const double a[3] = {0.7, 0.6, 0.65};
    const long long s[3] = {0, 1, 2};
    assert_int_equal(report_median_index(a, s, 3), 2); /* 0.6 0.65 0.7 */
    const double b[4] = {0.5, 0.9, 0.7, 0.6};
    const long long sb[4] = {0, 1, 2, 3};
    assert_int_equal(report_median_index(b, sb, 4), 3); /* lower median 0.6 */
    const double c[3] = {0.8, 0.8, 0.8};
    const long long sc[3] = {5, 3, 4};
    assert_int_equal(report_median_index(c, sc, 3), 2); /* tie: middle seed 4 */
    const double one[1] = {0.1};
    assert_int_equal(report_median_index(one, s, 1), 0);
}

static void test_escape(void **state)
{
    (void)state;
    char *e = report_html_escape("<a href='x'>&\"");
    assert_string_equal(e, "&lt;a href=&#39;x&#39;&gt;&amp;&quot;");
    free(e);
    e = report_html_escape("plain");
    assert_string_equal(e, "plain");
    free(e);
}

static void test_formats(void **state)
{
    (void)state;
    report_format f;
    assert_int_equal(report_format_parse("svg", &f), 0);
    assert_int_equal(f, REPORT_FORMAT_SVG);
    assert_int_equal(report_format_parse("pdf", &f), 0);
    assert_int_equal(f, REPORT_FORMAT_PDF);
    assert_int_equal(report_format_parse("png", &f), 0);
    assert_int_equal(f, REPORT_FORMAT_PNG);
    assert_int_equal(report_format_parse("jpg", &f), -1);
}

static const char *const xor_required[] = {
    "curves_accuracy.png", "curves_loss.png", "sweep.png", "confusion_0.png",
    "confusion_1.png", "confusion_2.png", "boundary.png", "dataset.png"};

static void test_xor_report(void **state)
{
    env *e = *state;
    report_output out;
    gen(e, "xor_fixture", 0, "xor", REPORT_FORMAT_PNG, &out);
    assert_string_equal(out.experiment, "xor_fixture");
    assert_int_equal(out.experiment_id, 1);
    size_t nreq = sizeof xor_required / sizeof *xor_required;
    for (size_t i = 0; i < nreq; i++)
        assert_true(in_list(xor_required[i], out.files, out.n_files));
    assert_int_equal(out.n_files, nreq + 1);
    check_pngs(&out);
    char *html = check_page(&out);
    /* summary from sweep_summary: means and sample std computed by hand */
    assert_non_null(strstr(html, "<tr><td>1</td><td>3</td><td>0</td><td>0.6500 &plusmn; 0.0500"));
    assert_non_null(strstr(html, "<tr><td>2</td><td>3</td><td>0</td><td>0.8500 &plusmn; 0.0500"));
    assert_non_null(strstr(html, "<tr><td>4</td><td>3</td><td>1</td><td>0.9100 &plusmn; 0.0100"));
    /* per-class: precision of class 0 at hidden = 1 is 0.6, 0.7, 0.8 */
    assert_non_null(strstr(html, "<tr><td>1</td><td>0</td><td>0.7000 &plusmn; 0.1000</td>"));
    assert_non_null(strstr(html, "<td>80.0</td>"));
    /* the median trial of hidden = 1 is seed 2 (0.65), trial id 3 */
    assert_non_null(strstr(html, "Test split of trial 3 (seed 2, test accuracy 0.6500)"));
    /* the spec, escaped */
    assert_non_null(strstr(html, "path: model.layers[0].units"));
    /* the description, and the failed trial with its reason */
    assert_non_null(strstr(html, "<p class=\"desc\">Noisy XOR with one hidden layer.</p>"));
    assert_non_null(strstr(html, "3 sweep points, 9 finished trials, 1 failed."));
    assert_non_null(strstr(html, "<td>3</td><td>failed</td><td class=\"l\">failed: boom</td>"));
    free(html);
    report_output_free(&out);
}

static void test_digits_default_and_svg(void **state)
{
    env *e = *state;
    report_output out;
    /* no experiment given: the most recent one, digits_fixture */
    gen(e, NULL, 0, "digits_svg", REPORT_FORMAT_SVG, &out);
    assert_string_equal(out.experiment, "digits_fixture");
    assert_true(in_list("curves_accuracy.svg", out.files, out.n_files));
    assert_true(in_list("confusion_0.svg", out.files, out.n_files));
    assert_true(in_list("sweep.svg", out.files, out.n_files));
    assert_false(in_list("boundary.svg", out.files, out.n_files));
    /* the digit images, rebuilt from the spec */
    assert_true(in_list("dataset.svg", out.files, out.n_files));
    assert_int_equal(out.n_files, 6);
    for (size_t i = 0; i + 1 < out.n_files; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", out.out_dir, out.files[i]);
        char *svg = read_file(path, NULL);
        assert_non_null(svg);
        assert_non_null(strstr(svg, "<svg"));
        size_t n = 0;
        for (const char *p = svg; (p = strstr(p, "<path")); p++)
            n++;
        /* axes, ticks, text glyphs and data: far more than a blank page */
        if (n < 50)
            fprintf(stderr, "%s: %zu paths\n", out.files[i], n);
        assert_true(n >= 50);
        free(svg);
    }
    char *html = check_page(&out);
    /* the description's <&> is escaped in the spec block */
    assert_non_null(strstr(html, "digits &lt;&amp;&gt;."));
    assert_null(strstr(html, "digits <&>."));
    /* ten classes of one point, no per-class metrics stored */
    assert_non_null(strstr(html, "no per-class metrics"));
    free(html);
    report_output_free(&out);
}

static void test_trial_report(void **state)
{
    env *e = *state;
    report_output out;
    /* trial 5: point 1 (hidden = 2), seed 1 */
    gen(e, NULL, 5, "trial5", REPORT_FORMAT_PNG, &out);
    assert_string_equal(out.experiment, "xor_fixture");
    assert_true(in_list("curves_accuracy.png", out.files, out.n_files));
    assert_true(in_list("curves_loss.png", out.files, out.n_files));
    assert_true(in_list("confusion_1.png", out.files, out.n_files));
    assert_true(in_list("boundary.png", out.files, out.n_files));
    assert_false(in_list("sweep.png", out.files, out.n_files));
    assert_false(in_list("confusion_0.png", out.files, out.n_files));
    check_pngs(&out);
    char *html = check_page(&out);
    assert_non_null(strstr(html, "trial 5"));
    /* singular forms */
    assert_non_null(strstr(html, "1 sweep point, 1 finished trial."));
    assert_non_null(strstr(html, "<td>0.9000</td>"));
    free(html);
    report_output_free(&out);
}

static int files_equal(const char *a, const char *b)
{
    size_t la, lb;
    char *x = read_file(a, &la), *y = read_file(b, &lb);
    int eq = x && y && la == lb && !memcmp(x, y, la);
    free(x);
    free(y);
    return eq;
}

static void test_deterministic(void **state)
{
    env *e = *state;
    report_output a, b;
    gen(e, "1", 0, "det_a", REPORT_FORMAT_PNG, &a); /* by id */
    gen(e, "xor_fixture", 0, "det_b", REPORT_FORMAT_PNG, &b);
    assert_int_equal(a.n_files, b.n_files);
    for (size_t i = 0; i < a.n_files; i++) {
        char pa[1024], pb[1024];
        assert_string_equal(a.files[i], b.files[i]);
        snprintf(pa, sizeof pa, "%s/%s", a.out_dir, a.files[i]);
        snprintf(pb, sizeof pb, "%s/%s", b.out_dir, b.files[i]);
        if (!files_equal(pa, pb))
            fprintf(stderr, "differs: %s\n", a.files[i]);
        assert_true(files_equal(pa, pb));
    }
    report_output_free(&a);
    report_output_free(&b);
}

static void test_errors(void **state)
{
    env *e = *state;
    report_options o;
    report_error err;
    report_output out;
    char dir[512];
    snprintf(dir, sizeof dir, "%s/err", e->dir);
    report_options_init(&o);
    o.out_dir = dir;
    o.db_path = "/nonexistent/runexp.db";
    assert_int_equal(report_generate(&o, &out, &err), -1);
    assert_int_equal(err.input, 1);
    assert_non_null(strstr(err.message, "/nonexistent/runexp.db"));
    o.db_path = e->db;
    o.experiment = "no_such_experiment";
    assert_int_equal(report_generate(&o, &out, &err), -1);
    assert_int_equal(err.input, 1);
    assert_non_null(strstr(err.message, "no_such_experiment"));
    o.experiment = NULL;
    o.trial_id = 999;
    assert_int_equal(report_generate(&o, &out, &err), -1);
    assert_int_equal(err.input, 1);
    assert_non_null(strstr(err.message, "999"));
    /* trial 1 is not part of digits_fixture */
    o.experiment = "digits_fixture";
    o.trial_id = 1;
    assert_int_equal(report_generate(&o, &out, &err), -1);
    assert_int_equal(err.input, 1);
    /* nothing was written for the failures */
    struct stat sb;
    assert_int_not_equal(stat(dir, &sb), 0);
}

/* A database written by a real `runexp` run (RUNEXP_BIN, set by CTest):
 * the same file checks on what the runner really stores. */
static void test_real_run(void **state)
{
    env *e = *state;
    const char *bin = getenv("RUNEXP_BIN");
    if (!bin || !*bin) {
        fprintf(stderr, "RUNEXP_BIN not set: skipping the real run\n");
        skip();
    }
    char spec[512], db[512], cmd[2048];
    snprintf(spec, sizeof spec, "%s/real.yaml", e->dir);
    snprintf(db, sizeof db, "%s/real.db", e->dir);
    FILE *f = fopen(spec, "w");
    assert_non_null(f);
    fputs("name: real_xor\n"
          "data:\n  source: xor\n  augment: {repeat: 50, noise: 0.3}\n"
          "  split: {test: 0.2, validation: 20}\n"
          "model:\n  layers:\n    - {type: dense, units: 4, activation: relu}\n"
          "    - {type: dense, units: 2, activation: softmax}\n"
          "training: {loss: categorical_crossentropy, optimizer: adam, epochs: 10}\n"
          "seeds: 2\n"
          "sweep:\n  hidden:\n    path: model.layers[0].units\n    values: [2, 3]\n", f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "'%s' --db '%s' -q '%s' > /dev/null", bin, db, spec);
    assert_int_equal(system(cmd), 0);
    report_options o;
    report_options_init(&o);
    char dir[600];
    snprintf(dir, sizeof dir, "%s/real", e->dir);
    o.db_path = db;
    o.out_dir = dir;
    report_output out;
    report_error err;
    int rc = report_generate(&o, &out, &err);
    if (rc)
        fprintf(stderr, "report_generate: %s\n", err.message);
    assert_int_equal(rc, 0);
    static const char *const want[] = {"curves_accuracy.png", "curves_loss.png", "sweep.png",
                                       "confusion_0.png", "confusion_1.png", "boundary.png",
                                       "dataset.png", "index.html"};
    assert_int_equal(out.n_files, sizeof want / sizeof *want);
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        assert_true(in_list(want[i], out.files, out.n_files));
    check_pngs(&out);
    char *html = check_page(&out);
    assert_non_null(strstr(html, "<tr><td>3</td><td>2</td><td>0</td>"));
    free(html);
    report_output_free(&out);
}

/* The rounding rule against SQLite itself: printf('%.4f', round(x, 4)) for
 * values on and next to the half-way points of the fourth decimal, means
 * of three accuracies, negatives and other decimal counts. */
static void test_round(void **state)
{
    (void)state;
    sqlite3 *db;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT printf('%.*f', ?2, round(?1, ?2))", -1, &st,
                                        NULL),
                     SQLITE_OK);
    size_t checked = 0, printf_differs = 0;
    for (int k = -2000; k <= 24000; k++) {
        double vals[3] = {k / 20000.0, k / 20000.0 + 1e-12, (k + (k % 3)) / 3.0 / 8000.0};
        for (int v = 0; v < 3; v++)
            for (int dec = 1; dec <= 4; dec += 3) {
                char mine[64], c_printf[64];
                report_fmt_round(mine, sizeof mine, vals[v], dec);
                sqlite3_bind_double(st, 1, vals[v]);
                sqlite3_bind_int(st, 2, dec);
                assert_int_equal(sqlite3_step(st), SQLITE_ROW);
                const char *want = (const char *)sqlite3_column_text(st, 0);
                /* SQLite prints -0.0000 for a negative that rounds to 0 */
                if (want[0] == '-' && strspn(want + 1, "0.") == strlen(want + 1))
                    want++;
                if (strcmp(mine, want))
                    fprintf(stderr, "%.17g at %d: %s, SQLite %s\n", vals[v], dec, mine, want);
                assert_string_equal(mine, want);
                snprintf(c_printf, sizeof c_printf, "%.*f", dec, vals[v]);
                printf_differs += strcmp(c_printf, mine) != 0;
                sqlite3_reset(st);
                checked++;
            }
    }
    /* the case that made the rule: printf says 0.6262 */
    char b[64];
    assert_string_equal(report_fmt_round(b, sizeof b, 0.62625, 4), "0.6263");
    assert_string_equal(report_fmt_round(b, sizeof b, -0.62625, 4), "-0.6263");
    assert_string_equal(report_fmt_round(b, sizeof b, 0.99995, 4), "1.0000");
    assert_string_equal(report_fmt_round(b, sizeof b, 99.95, 1), "100.0");
    assert_string_equal(report_fmt_round(b, sizeof b, 0.00004, 4), "0.0000");
    assert_string_equal(report_fmt_round(b, sizeof b, 2.5, 0), "3");
    assert_string_equal(report_fmt_round(b, sizeof b, NAN, 4), "NaN");
    /* the comparison would be empty if printf and the rule always agreed */
    assert_true(printf_differs > 100);
    assert_true(checked > 100000);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* An error PLplot reports while drawing is an error with its message, and
 * nothing reaches stderr (before, PLplot printed "*** PLPLOT ERROR ..."
 * there and the report exited 0). */
static void test_plot_error(void **state)
{
    env *e = *state;
    char path[512], errpath[512];
    snprintf(path, sizeof path, "%s/probe.png", e->dir);
    snprintf(errpath, sizeof errpath, "%s/stderr.txt", e->dir);
    report_plot_cfg c = {REPORT_FORMAT_PNG, 300, 200};
    report_error err;
    /* stderr into a file for the call */
    fflush(stderr);
    int saved = dup(2);
    FILE *ef = fopen(errpath, "w");
    assert_non_null(ef);
    dup2(fileno(ef), 2);
    int ok = report_plot_probe(&c, path, 0.1, 0.9, &err);
    int bad = report_plot_probe(&c, path, 0.5, 0.5, &err);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    fclose(ef);
    assert_int_equal(ok, 1);
    assert_int_equal(bad, -1);
    if (!strstr(err.message, "PLplot could not draw"))
        fprintf(stderr, "message: %s\n", err.message);
    assert_non_null(strstr(err.message, "PLplot could not draw"));
    assert_non_null(strstr(err.message, "probe.png"));
    /* PLplot's own words (its plabort suffix); with several, the last one */
    assert_non_null(strstr(err.message, "aborting operation"));
    size_t n;
    char *printed = read_file(errpath, &n);
    assert_non_null(printed);
    if (n)
        fprintf(stderr, "on stderr: %s\n", printed);
    assert_int_equal(n, 0);
    free(printed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_median),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_formats),
        cmocka_unit_test(test_png_checker),
        cmocka_unit_test(test_round),
        cmocka_unit_test_setup_teardown(test_plot_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_xor_report, setup, teardown),
        cmocka_unit_test_setup_teardown(test_digits_default_and_svg, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trial_report, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deterministic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_real_run, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
