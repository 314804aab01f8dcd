/* cmd_check: `runexp check SPEC...` and `runexp schema`.
 *
 * check validates every spec given (all of them, even after one fails, so a
 * single run lists every problem) and prints each plan; nothing is trained.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "spec.h"
#include "sweep.h"

static void check_usage(FILE *f)
{
    fputs("usage: runexp check [--help-spec] SPEC.yaml...\n"
          "  validate each spec and print its trial plan (nothing is run)\n"
          "  --help-spec  print the reference of every spec option\n",
          f);
}

int cmd_check(int argc, char **argv)
{
    int n_specs = 0, failed = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            check_usage(stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--help-spec")) {
            spec_help_print(stdout);
            return 0;
        }
        if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "runexp check: unknown option '%s'\n", argv[i]);
            check_usage(stderr);
            return 2;
        }
        n_specs++;
    }
    if (n_specs == 0) {
        check_usage(stderr);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        spec_diagnostics d;
        spec_diagnostics_init(&d);
        spec_document *doc = spec_document_load(argv[i], &d);
        sweep_plan plan;
        int ok = doc && sweep_plan_build(doc, &plan, &d) == 0;
        if (ok) {
            printf("%s: ", argv[i]);
            sweep_plan_print(&plan, stdout);
            sweep_plan_free(&plan);
        } else {
            spec_diagnostics_print(&d, stderr);
            failed = 1;
        }
        fflush(stdout);
        spec_document_free(doc);
        spec_diagnostics_free(&d);
    }
    return failed ? 2 : 0;
}

int cmd_schema(int argc, char **argv)
{
    (void)argv;
    if (argc > 1) {
        fputs("usage: runexp schema   (prints the spec's JSON Schema)\n", stderr);
        return 2;
    }
    spec_schema_print(stdout);
    return fflush(stdout) == 0 ? 0 : 1;
}
