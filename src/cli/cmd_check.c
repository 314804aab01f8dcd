/* cmd_check: `runexp check SPEC...` and `runexp schema`.
 *
 * check validates every spec given (all of them, even after one fails, so a
 * single run lists every problem) and prints each plan and its memory
 * estimate; nothing is trained.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "cmd.h"
#include "plan_memory.h"
#include "spec.h"
#include "sweep.h"

static void check_usage(FILE *f)
{
    fputs("usage: runexp check [-j N] [--max-memory SIZE] [--help-spec] SPEC.yaml...\n"
          "  validate each spec and print its trial plan and memory estimate (nothing is run)\n"
          "  -j N, --jobs N     trials at once in the estimate (default: as `runexp run`)\n"
          "  --max-memory SIZE  the budget `runexp run` would be given (default: the memory\n"
          "                     available); SIZE in bytes or with K, M, G, T (1024-based)\n"
          "  --help-spec        print the reference of every spec option\n",
          f);
}

/* The value of option a (argv[*i]) given as "A VALUE", "A=VALUE" or, for a
 * short option, "-jVALUE"; NULL when a is not that option. */
static const char *option_value(int argc, char **argv, int *i, const char *lng, const char *shrt,
                                int *missing)
{
    const char *a = argv[*i];
    size_t n = strlen(lng);
    *missing = 0;
    if (!strcmp(a, lng) || (shrt && !strcmp(a, shrt))) {
        if (*i + 1 >= argc) {
            *missing = 1;
            return NULL;
        }
        return argv[++*i];
    }
    if (!strncmp(a, lng, n) && a[n] == '=')
        return a + n + 1;
    if (shrt && !strncmp(a, shrt, strlen(shrt)) && a[strlen(shrt)])
        return a + strlen(shrt);
    return NULL;
}

int cmd_check(int argc, char **argv)
{
    int n_specs = 0, failed = 0;
    long jobs = 0;
    uint64_t max_memory = 0;
    char **specs = calloc((size_t)(argc > 0 ? argc : 1), sizeof *specs);
    if (!specs) {
        fputs("runexp check: out of memory\n", stderr);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        const char *v;
        int missing;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            check_usage(stdout);
            free(specs);
            return 0;
        }
        if (!strcmp(argv[i], "--help-spec")) {
            spec_help_print(stdout);
            free(specs);
            return 0;
        }
        if ((v = option_value(argc, argv, &i, "--jobs", "-j", &missing)) || missing) {
            char *end;
            errno = 0;
            jobs = v && *v ? strtol(v, &end, 10) : 0;
            if (!v || !*v || errno || *end || jobs <= 0 || jobs > 4096) {
                fprintf(stderr, "runexp check: -j needs a number of threads between 1 and 4096,"
                                " got '%s'\n", v ? v : "");
                goto usage;
            }
            continue;
        }
        if ((v = option_value(argc, argv, &i, "--max-memory", NULL, &missing)) || missing) {
            if (!v || plan_memory_parse_size(v, &max_memory)) {
                fprintf(stderr, "runexp check: --max-memory needs a size such as 512M, 4G, 1.5G "
                                "or a number of bytes, got '%s'\n", v ? v : "");
                goto usage;
            }
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "runexp check: unknown option '%s'\n", argv[i]);
            goto usage;
        }
        specs[n_specs++] = argv[i];
    }
    if (n_specs == 0)
        goto usage;
    /* omp_get_max_threads() is OMP_NUM_THREADS when set, else the cores,
     * as for `runexp run`. */
    size_t at_once = jobs > 0 ? (size_t)jobs : (size_t)omp_get_max_threads();
    for (int i = 0; i < n_specs; i++) {
        spec_diagnostics d;
        spec_diagnostics_init(&d);
        spec_document *doc = spec_document_load(specs[i], &d);
        sweep_plan plan;
        int ok = doc && sweep_plan_build(doc, &plan, &d) == 0;
        if (ok) {
            printf("%s: ", specs[i]);
            sweep_plan_print(&plan, stdout);
            plan_memory pm;
            if (plan_memory_estimate(&plan, at_once, &pm) == 0) {
                plan_memory_print(&pm, stdout);
                uint64_t budget = max_memory;
                char src[64] = "--max-memory", b[32];
                if (!budget && plan_memory_available(&budget, src, sizeof src)) {
                    puts("  memory available: unknown (run will not check it)");
                } else {
                    plan_memory_format(budget, b, sizeof b);
                    printf("  %s: %s (%s)%s\n", max_memory ? "budget" : "memory available", b,
                           src, pm.total > budget ? "; run would refuse this plan" : "");
                }
            }
            /* After the plan and the estimate, which scripts read by line. */
            sweep_models models;
            if (sweep_plan_models(&plan, &models) == 0) {
                sweep_models_print(&plan, &models, stdout);
                sweep_models_free(&models);
            }
            sweep_plan_free(&plan);
        } else {
            spec_diagnostics_print(&d, stderr);
            failed = 1;
        }
        fflush(stdout);
        spec_document_free(doc);
        spec_diagnostics_free(&d);
    }
    free(specs);
    return failed ? 2 : 0;
usage:
    check_usage(stderr);
    free(specs);
    return 2;
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
