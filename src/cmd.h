/* cmd: the subcommands of the runexp command line, one file each.
 *
 * Each takes the arguments after its own name (argv[0] is the subcommand)
 * and returns the process exit code: 0 success, 1 the job ran but some of it
 * failed (trials failed, hashes differ), 2 usage or input errors.
 */
#ifndef RUNEXP_CMD_H
#define RUNEXP_CMD_H

#include <stdio.h>

int cmd_check(int argc, char **argv);     /* runexp check SPEC...   (cmd_check.c) */
int cmd_schema(int argc, char **argv);    /* runexp schema          (cmd_check.c) */
int cmd_run(int argc, char **argv);       /* runexp [run] SPEC...   (cmd_run.c) */
int cmd_reproduce(int argc, char **argv); /* runexp reproduce ID    (cmd_run.c) */
int cmd_report(int argc, char **argv);    /* runexp report [EXP]    (cmd_report.c) */
int cmd_export_model(int argc, char **argv); /* runexp export-model ID (cmd_model.c) */
int cmd_predict(int argc, char **argv);      /* runexp predict ID CSV  (cmd_model.c) */
int cmd_compare(int argc, char **argv);   /* runexp compare EXP [B] (cmd_compare.c) */

#endif
