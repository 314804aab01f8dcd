/* runexp report [EXPERIMENT] [--db FILE] [--out DIR] [--format png|svg|pdf]
 *               [--trial ID]
 *
 * Figures and index.html for one experiment (default: the most recent) or
 * one trial, from the results database. Exit 0 on success (with a note on
 * stderr when the data could not be rebuilt for the data figures), 2 for
 * usage errors, a missing database or an unknown experiment / trial, 1 when
 * writing the report failed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "report.h"
#include "text.h"

static void report_usage(FILE *f)
{
    fputs("usage: runexp report [EXPERIMENT] [options]\n"
          "  EXPERIMENT            name or id (default: the most recent experiment)\n"
          "  --db FILE             results database (default: $RUNEXP_DB or results/runexp.db)\n"
          "  --out DIR             output directory (default: results/<experiment>/)\n"
          "  --format png|svg|pdf  figure format (default: png)\n"
          "  --trial ID            the figures of one trial only\n",
          f);
}

int cmd_report(int argc, char **argv)
{
    report_options o;
    report_options_init(&o);
    const char *env = getenv("RUNEXP_DB");
    o.db_path = env && *env ? env : "results/runexp.db";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            report_usage(stdout);
            return 0;
        }
        if ((v = cmd_opt_value(argc, argv, &i, "--db"))) {
            if (!*v) {
                fputs("runexp report: --db needs a file name\n", stderr);
                return 2;
            }
            o.db_path = v;
        } else if ((v = cmd_opt_value(argc, argv, &i, "--out"))) {
            if (!*v) {
                fputs("runexp report: --out needs a directory\n", stderr);
                return 2;
            }
            o.out_dir = v;
        } else if ((v = cmd_opt_value(argc, argv, &i, "--format"))) {
            if (report_format_parse(v, &o.format)) {
                fprintf(stderr, "runexp report: --format must be png, svg or pdf, got '%s'\n", v);
                return 2;
            }
        } else if ((v = cmd_opt_value(argc, argv, &i, "--trial"))) {
            char *end = NULL;
            errno = 0;
            long long id = strtoll(v, &end, 10);
            if (!*v || *end || errno || id <= 0) {
                fprintf(stderr, "runexp report: --trial must be a trial id (a positive "
                                "integer), got '%s'\n", v);
                return 2;
            }
            o.trial_id = id;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "runexp report: unknown option '%s'\n", a);
            report_usage(stderr);
            return 2;
        } else if (!o.experiment) {
            o.experiment = a;
        } else {
            fprintf(stderr, "runexp report: one experiment at a time (got '%s' and '%s')\n",
                    o.experiment, a);
            return 2;
        }
    }
    report_output out;
    report_error err;
    /* The name and the messages come from the database (or quote it): what
     * a terminal would act on is escaped (text.h). */
    if (report_generate(&o, &out, &err)) {
        fputs("runexp report: ", stderr);
        text_fputs(err.message, stderr);
        fputc('\n', stderr);
        return err.input ? 2 : 1;
    }
    printf("report of experiment %lld (", out.experiment_id);
    text_fputs(out.experiment, stdout);
    printf("): %zu files in ", out.n_files);
    text_fputs(out.out_dir, stdout);
    fputs("/\n", stdout);
    for (size_t i = 0; i < out.n_files; i++) {
        fputs("  ", stdout);
        text_fputs(out.files[i], stdout);
        fputc('\n', stdout);
    }
    if (out.note) {
        fputs("runexp report: note: the data could not be rebuilt, so the figures show no data "
              "points: ", stderr);
        text_fputs(out.note, stderr);
        fputc('\n', stderr);
    }
    report_output_free(&out);
    return 0;
}
