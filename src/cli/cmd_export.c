/* cmd_export: `runexp export`, one table of the results database as CSV or
 * JSON, one row per record, the sweep values as typed columns.
 *
 *   runexp export [EXPERIMENT] [--format csv|json] [--table TABLE]
 *                 [--out FILE] [--db FILE]
 *
 * CSV (RFC 4180): a header row, lines ending in CRLF, text always in double
 * quotes (quotes doubled), numbers bare, NULL an empty field. JSON: an array
 * of objects, numbers as numbers, NULL (and NaN) as null. Reals are written
 * in their shortest exact form, with ".0" when they are whole, so a REAL
 * sweep value stays a real (text_fmt_real). --out writes a temporary file beside FILE and
 * renames it into place, so FILE is either the whole export or untouched.
 * The data are written byte for byte, except on a terminal, where the
 * characters a terminal acts on are escaped as `runexp show` escapes them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "store.h"
#include "text.h"

static void export_usage(FILE *f)
{
    fputs("usage: runexp export [EXPERIMENT] [--format csv|json] [--table TABLE] [--out FILE]"
          " [--db FILE]\n"
          "  EXPERIMENT      name (its newest record) or id (default: the newest experiment;\n"
          "                  for --table experiments: every experiment)\n"
          "  --format F      csv (default; RFC 4180, text quoted, NULL empty) or json (an\n"
          "                  array of objects, NULL as null); default json when FILE ends\n"
          "                  in .json\n"
          "  --table TABLE   trials (default; one row per trial, the sweep values as\n"
          "                  columns), epochs, metrics, confusion (the non-zero cells, with\n"
          "                  class names), classes or experiments\n"
          "  --out FILE      write FILE (replaced whole, or left as it was on an error)\n"
          "                  instead of stdout\n"
          "  --db FILE       results database (default: $RUNEXP_DB or results/runexp.db)\n",
          f);
}

typedef struct sink_state {
    FILE *f;
    int json;
    int tty;        /* escape text for the terminal */
    size_t n_rows;
    size_t n_cols;
    const char **names; /* copies of the header names, for the JSON keys */
} sink_state;

/* A text value: escaped on a terminal, else as it is. */
static int put_text(sink_state *st, const char *s)
{
    char *esc = NULL;
    if (st->tty && text_plain_span(s) != strlen(s)) {
        esc = text_escape_dup(s);
        if (esc)
            s = esc;
    }
    int rc = st->json ? text_json_fputs(s, st->f) : text_csv_fputs(s, st->f);
    free(esc);
    return rc;
}

/* A CSV header field: bare unless it needs quotes. */
static int csv_header_field(sink_state *st, const char *s)
{
    int quote = !*s || s[0] == ' ' || s[strlen(s) - 1] == ' ' || strpbrk(s, ",\"\r\n");
    if (quote)
        return put_text(st, s);
    if (st->tty)
        return text_fputs(s, st->f);
    return fputs(s, st->f) == EOF ? EOF : 0;
}

static int on_header(void *user, size_t n, const char *const *names)
{
    sink_state *st = user;
    st->n_cols = n;
    st->names = calloc(n ? n : 1, sizeof *st->names);
    if (!st->names)
        return 1;
    for (size_t i = 0; i < n; i++)
        if (!(st->names[i] = strdup(names[i])))
            return 1;
    if (st->json)
        return fputc('[', st->f) == EOF;
    for (size_t i = 0; i < n; i++) {
        if (i && fputc(',', st->f) == EOF)
            return 1;
        if (csv_header_field(st, names[i]))
            return 1;
    }
    return fputs("\r\n", st->f) == EOF;
}

static void put_real(FILE *f, double r, int json)
{
    char buf[64];
    text_fmt_real(buf, sizeof buf, r);
    if (json || strcmp(buf, "null"))
        fputs(buf, f); /* CSV: NaN is an empty field */
}

static int on_row(void *user, size_t n, const store_value *v)
{
    sink_state *st = user;
    FILE *f = st->f;
    if (st->json) {
        fputs(st->n_rows ? ",\n{" : "\n{", f);
        for (size_t i = 0; i < n; i++) {
            if (i)
                fputs(", ", f);
            put_text(st, st->names[i]);
            fputs(": ", f);
            switch (v[i].type) {
            case STORE_INTEGER:
                fprintf(f, "%lld", v[i].i);
                break;
            case STORE_REAL:
                put_real(f, v[i].r, 1);
                break;
            case STORE_TEXT:
                put_text(st, v[i].s);
                break;
            default:
                fputs("null", f);
            }
        }
        fputc('}', f);
    } else {
        for (size_t i = 0; i < n; i++) {
            if (i)
                fputc(',', f);
            switch (v[i].type) {
            case STORE_INTEGER:
                fprintf(f, "%lld", v[i].i);
                break;
            case STORE_REAL:
                put_real(f, v[i].r, 0);
                break;
            case STORE_TEXT:
                put_text(st, v[i].s);
                break;
            default:
                break;
            }
        }
        fputs("\r\n", f);
    }
    st->n_rows++;
    return ferror(f) != 0;
}

/* Opens a new temporary file beside path (same directory, so the rename is
 * atomic), mode 0666 less the umask like any new file. Writes its name into
 * tmp. NULL with errno set on failure. */
static FILE *open_temp(const char *path, char *tmp, size_t size)
{
    for (int k = 0; k < 100; k++) {
        int n = snprintf(tmp, size, "%s.tmp-%ld-%d", path, (long)getpid(), k);
        if (n < 0 || (size_t)n >= size) {
            errno = ENAMETOOLONG;
            return NULL;
        }
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0666);
        if (fd >= 0) {
            FILE *f = fdopen(fd, "w");
            if (!f) {
                int e = errno;
                close(fd);
                unlink(tmp);
                errno = e;
            }
            return f;
        }
        if (errno != EEXIST)
            return NULL;
    }
    return NULL;
}

static void err_path(const char *what, const char *path, int e)
{
    fprintf(stderr, "runexp export: %s ", what);
    text_fputs(path, stderr);
    fprintf(stderr, ": %s\n", strerror(e));
}

int cmd_export(int argc, char **argv)
{
    const char *db = cmd_default_db(), *experiment = NULL, *out_path = NULL;
    const char *format = NULL;
    int table = STORE_TABLE_TRIALS;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            export_usage(stdout);
            return 0;
        }
        if ((v = cmd_opt_value(argc, argv, &i, "--db"))) {
            if (!*v) {
                fputs("runexp export: --db needs a file name\n", stderr);
                return 2;
            }
            db = v;
        } else if ((v = cmd_opt_value(argc, argv, &i, "--out"))) {
            if (!*v) {
                fputs("runexp export: --out needs a file name\n", stderr);
                return 2;
            }
            out_path = v;
        } else if ((v = cmd_opt_value(argc, argv, &i, "--format"))) {
            if (strcmp(v, "csv") && strcmp(v, "json")) {
                fputs("runexp export: --format must be csv or json, got '", stderr);
                text_fputs(v, stderr);
                fputs("'\n", stderr);
                return 2;
            }
            format = v;
        } else if ((v = cmd_opt_value(argc, argv, &i, "--table"))) {
            table = store_table_parse(v);
            if (table < 0) {
                fputs("runexp export: --table must be trials, epochs, metrics, confusion, "
                      "classes or experiments, got '", stderr);
                text_fputs(v, stderr);
                fputs("'\n", stderr);
                return 2;
            }
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "runexp export: unknown option '%s'\n", a);
            export_usage(stderr);
            return 2;
        } else if (!experiment) {
            experiment = a;
        } else {
            fputs("runexp export: one experiment at a time (got '", stderr);
            text_fputs(experiment, stderr);
            fputs("' and '", stderr);
            text_fputs(a, stderr);
            fputs("')\n", stderr);
            return 2;
        }
    }
    int json;
    if (format) {
        json = !strcmp(format, "json");
    } else {
        size_t l = out_path ? strlen(out_path) : 0;
        json = l >= 5 && !strcmp(out_path + l - 5, ".json");
    }

    store *s = cmd_open_db("export", db);
    if (!s)
        return 2;
    store_error err;
    memset(&err, 0, sizeof err);
    int64_t exp = 0;
    store_experiment_record e;
    memset(&e, 0, sizeof e);
    int code = 2;
    if (experiment || table != STORE_TABLE_EXPERIMENTS) {
        if (store_experiment_find(s, experiment, &exp, &err) ||
            store_experiment_load(s, exp, &e, &err)) {
            fputs("runexp export: ", stderr);
            text_fputs(err.message, stderr);
            fputs(experiment ? " (runexp ls lists them)\n" : "\n", stderr);
            store_close(s);
            return 2;
        }
    }

    char tmp[4096];
    FILE *f = stdout;
    if (out_path) {
        f = open_temp(out_path, tmp, sizeof tmp);
        if (!f) {
            err_path("cannot write", out_path, errno);
            goto done;
        }
    }
    sink_state st = {.f = f, .json = json, .tty = !out_path && isatty(fileno(stdout))};
    store_export_sink sink = {on_header, on_row, &st};
    int rc = store_export(s, (store_table)table, exp, e.n_dims, (const char *const *)e.dims,
                          &sink, &err);
    if (rc == 0 && json)
        fputs(st.n_rows ? "\n]\n" : "]\n", f);
    for (size_t i = 0; st.names && i < st.n_cols; i++)
        free((void *)st.names[i]);
    free((void *)st.names);
    int werr = ferror(f) ? errno : 0;
    if (rc < 0) {
        fputs("runexp export: ", stderr);
        text_fputs(err.message, stderr);
        fputc('\n', stderr);
    }
    if (out_path) {
        int ce = fclose(f) ? errno : 0;
        if (rc == 0 && !werr && !ce) {
            if (rename(tmp, out_path) == 0) {
                code = 0;
            } else {
                err_path("cannot write", out_path, errno);
                unlink(tmp);
            }
        } else {
            if (rc != -1)
                err_path("cannot write", out_path, werr ? werr : ce ? ce : EIO);
            unlink(tmp);
        }
    } else if (rc == 0) {
        code = fflush(f) || ferror(f) ? 2 : 0;
        if (code)
            fprintf(stderr, "runexp export: cannot write the output: %s\n", strerror(errno));
    }
done:
    store_experiment_record_free(&e);
    store_close(s);
    return code;
}
