/* cmd: the subcommands of the runexp command line, one file each.
 *
 * Each takes the arguments after its own name (argv[0] is the subcommand)
 * and returns the process exit code: 0 success, 1 the job ran but some of it
 * failed (trials failed, hashes differ), 2 usage or input errors.
 */
#ifndef RUNEXP_CMD_H
#define RUNEXP_CMD_H

#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>

int cmd_check(int argc, char **argv);     /* runexp check SPEC...   (cmd_check.c) */
int cmd_schema(int argc, char **argv);    /* runexp schema          (cmd_check.c) */
int cmd_run(int argc, char **argv);       /* runexp [run] SPEC...   (cmd_run.c) */
int cmd_reproduce(int argc, char **argv); /* runexp reproduce ID    (cmd_run.c) */
int cmd_report(int argc, char **argv);    /* runexp report [EXP]    (cmd_report.c) */
int cmd_export_model(int argc, char **argv); /* runexp export-model ID (cmd_model.c) */
int cmd_predict(int argc, char **argv);      /* runexp predict ID CSV  (cmd_model.c) */
int cmd_compare(int argc, char **argv);   /* runexp compare EXP [B] (cmd_compare.c) */
int cmd_ls(int argc, char **argv);        /* runexp ls              (cmd_show.c) */
int cmd_show(int argc, char **argv);      /* runexp show [EXP]      (cmd_show.c) */
int cmd_export(int argc, char **argv);    /* runexp export [EXP]    (cmd_export.c) */
int cmd_merge(int argc, char **argv);     /* runexp merge --db OUT IN... (cmd_merge.c) */

/* Shared by the commands (cmd_common.c). */
struct store;
/* The value of `--opt VALUE` or `--opt=VALUE` at argv[*i] (advancing *i
 * past VALUE); "" when VALUE is missing; NULL when argv[*i] is not name. */
const char *cmd_opt_value(int argc, char **argv, int *i, const char *name);
/* A strictly positive decimal integer (an id, a count); 0 on any junk. */
long cmd_parse_positive(const char *s);
/* $RUNEXP_DB, else results/runexp.db. */
const char *cmd_default_db(void);
/* Opens an existing database read-only; NULL (with the message on stderr,
 * "runexp CMD: ...") when there is no file at path or it cannot be read.
 * Never creates a file. */
struct store *cmd_open_db(const char *cmd, const char *path);
/* Flushes f: 0, or 1 with a message when writing failed. */
int cmd_output_done(const char *cmd, FILE *f);

/* ---- what `runexp run` and `runexp-mpi` share (cmd_run.c) ---- */
struct runner_options;
/* Parses the run options and spec paths of argv[1..argc) into *o (zeroed
 * by the caller) and specs (room for argc entries), *n_specs of them.
 * 0; 1 after --help was printed; 2 after a usage error (message and usage
 * on stderr). */
int cmd_run_parse(int argc, char **argv, struct runner_options *o, char **specs,
                  size_t *n_specs);

/* SIGINT and SIGTERM set the stop flag returned (a second one kills the
 * process); the previous handlers are kept in *saved for restore. */
typedef struct cmd_signals {
    struct sigaction old_int, old_term;
} cmd_signals;
const atomic_int *cmd_signals_catch(cmd_signals *saved);
void cmd_signals_restore(const cmd_signals *saved);

#endif
