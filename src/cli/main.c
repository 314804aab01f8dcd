/* runexp: the command line. Dispatches to the subcommands in cmd_*.c;
 * `report` runs the separate runexp-report program (main_report.c). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "text.h"
#include "version.h"

static void usage(FILE *f)
{
    fputs("usage: runexp [run] [options] SPEC.yaml...   train every trial, record them\n"
          "       runexp check SPEC.yaml...             validate and print the trial plan\n"
          "       runexp reproduce [--db FILE] TRIAL_ID re-run one stored trial, compare bits\n"
          "       runexp report [EXPERIMENT] [options]  plots and an HTML page from the database\n"
          "       runexp compare EXP [EXP_B] [options]  per-point statistics, paired tests\n"
          "       runexp ls [--db FILE] [--json]        the experiments of the database\n"
          "       runexp show [EXPERIMENT] [--db FILE] [--json]\n"
          "                                             summary per sweep point, model, problems\n"
          "       runexp show --trial ID [--db FILE] [--json]\n"
          "                                             one trial: metrics, history, confusion\n"
          "       runexp export [EXPERIMENT] [--format csv|json] [--table TABLE] [--out FILE]\n"
          "                     [--db FILE]             a table as CSV or JSON\n"
          "       runexp merge --db OUT.db IN.db...     join shard databases by trial key\n"
          "       runexp schema                         print the spec's JSON Schema\n"
          "       runexp export-model TRIAL_ID --out FILE [--format onnx|npz] [--db FILE]\n"
          "                                             the trial's network as ONNX or .npz\n"
          "       runexp predict TRIAL_ID DATA.csv [--out FILE] [--db FILE]\n"
          "                                             class probabilities for new rows\n"
          "       runexp help | --help | --version\n"
          "\n"
          "run options:\n"
          "  -j N, --jobs N   trials in parallel (default: OMP_NUM_THREADS or all cores)\n"
          "  --db FILE        results database (default: $RUNEXP_DB or results/runexp.db)\n"
          "  --fresh          start a new experiment record instead of resuming\n"
          "  --retry          rerun failed, diverged and interrupted trials\n"
          "  -q, --quiet      no progress on stderr\n"
          "  --timings        where the time went, by phase, on stderr (or RUNEXP_TIMINGS=1)\n"
          "  --max-memory SIZE  memory budget (default: the memory available): a plan whose\n"
          "                   estimate exceeds it is refused before anything runs (exit 2);\n"
          "                   SIZE in bytes or with K, M, G, T (1024-based): 512M, 1.5G\n"
          "  --shard K/N      only shard K of N of the plan (by expected cost), e.g. one task\n"
          "                   of a job array; auto: K and N from Slurm's SLURM_ARRAY_TASK_*\n"
          "One runexp writes a database at a time: a second one on the same --db\n"
          "exits 2 at once (see DB.lock); an edited spec starts a new experiment record.\n"
          "\n"
          "`runexp COMMAND --help` describes each command.\n"
          "See README.md for the spec reference and an SQL cookbook.\n",
          f);
}

#ifdef RUNEXP_HAVE_REPORT
/* `runexp report ARGS`: executes runexp-report with ARGS. It sits next to
 * this program in a build tree, and in RUNEXP_REPORT_DIR (relative to this
 * program's directory: ../libexec/runexp) once installed. This program is
 * found through /proc/self/exe, or else argv[0] when it names a path.
 * Returns only when neither could be executed. */
static int run_report(char *argv0, char **argv)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0)
        self[n] = '\0';
    else if (strchr(argv0, '/') && strlen(argv0) < sizeof self)
        strcpy(self, argv0);
    else
        self[0] = '\0';
    char *slash = strrchr(self, '/');
    if (!slash) {
        fputs("runexp: cannot tell where runexp is, so not where runexp-report is\n", stderr);
        return 2;
    }
    *slash = '\0';
    char tried[2][PATH_MAX + 64];
    snprintf(tried[0], sizeof tried[0], "%s/runexp-report", self);
    snprintf(tried[1], sizeof tried[1], "%s/%s/runexp-report", self, RUNEXP_REPORT_DIR);
    int errs[2];
    for (int i = 0; i < 2; i++) {
        execv(tried[i], argv);
        errs[i] = errno;
    }
    fprintf(stderr, "runexp: cannot run the report program: %s: %s; %s: %s\n", tried[0],
            strerror(errs[0]), tried[1], strerror(errs[1]));
    return 2;
}
#endif

/* A spec file given without `run`: a path (with a '/'), a .yaml/.yml name,
 * or an existing file. */
static int looks_like_spec(const char *a)
{
    size_t l = strlen(a);
    struct stat sb;
    return strchr(a, '/') || (l > 5 && !strcmp(a + l - 5, ".yaml")) ||
           (l > 4 && !strcmp(a + l - 4, ".yml")) || stat(a, &sb) == 0;
}

/* The subcommands, for dispatch and for "did you mean". `report` and `help`
 * are handled in main (report runs another program). */
typedef struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
} command;

static const command commands[] = {
    {"run", cmd_run},         {"check", cmd_check},
    {"reproduce", cmd_reproduce}, {"schema", cmd_schema},
    {"ls", cmd_ls},           {"show", cmd_show},
    {"export", cmd_export},   {"compare", cmd_compare},
    {"export-model", cmd_export_model}, {"predict", cmd_predict},
    {"merge", cmd_merge},
    {"report", NULL},         {"help", NULL},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

/* The command a mistyped one most likely meant, or NULL. */
static const char *suggest(const char *c)
{
    static const char *const aliases[][2] = {
        {"list", "ls"}, {"dir", "ls"}, {"experiments", "ls"}, {"view", "show"},
        {"info", "show"}, {"summary", "show"}, {"trial", "show"}, {"dump", "export"},
        {"csv", "export"}, {"json", "export"}, {"train", "run"}, {"validate", "check"},
        {"plot", "report"}, {"rerun", "reproduce"}, {"stats", "compare"},
        {"onnx", "export-model"}, {"infer", "predict"}};
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (!strcmp(c, aliases[i][0]))
            return aliases[i][1];
    const char *best = NULL;
    size_t bd = 3; /* at most 2 edits */
    for (size_t i = 0; i < N_COMMANDS; i++) {
        size_t d = text_edit_distance(c, commands[i].name);
        if (d < bd && d < strlen(commands[i].name)) {
            bd = d;
            best = commands[i].name;
        }
    }
    return best;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *c = argv[1];
    if (!strcmp(c, "help") || !strcmp(c, "--help") || !strcmp(c, "-h")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(c, "--version")) {
        printf("runexp %s (%s)\n", RUNEXP_VERSION, RUNEXP_GIT_REVISION);
        return 0;
    }
    if (!strcmp(c, "report")) {
#ifdef RUNEXP_HAVE_REPORT
        return run_report(argv[0], argv + 1);
#else
        fputs("runexp: this build has no report support (configured with RUNEXP_REPORT=OFF)\n",
              stderr);
        return 2;
#endif
    }
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (commands[i].fn && !strcmp(c, commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    /* `runexp SPEC...` (or `runexp -j 4 SPEC...`) is `runexp run ...`:
     * cmd_run sees argv[0] as its name. Anything else is a mistyped command. */
    if (c[0] == '-' || looks_like_spec(c))
        return cmd_run(argc, argv);
    fputs("runexp: unknown command '", stderr);
    text_fputs(c, stderr);
    const char *hint = suggest(c);
    if (hint)
        fprintf(stderr, "'; did you mean '%s'?\n", hint);
    else {
        fputs("'; commands:", stderr);
        for (size_t i = 0; i < N_COMMANDS; i++)
            fprintf(stderr, "%s %s", i ? "," : "", commands[i].name);
        fputs(" (or give a spec file)\n", stderr);
    }
    return 2;
}
