/* cmd_merge: `runexp merge --db OUT.db IN.db...`: the databases of a job
 * array's shards (or of runs on other machines) joined by trial key
 * (store_merge in src/store/store_merge.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "store.h"
#include "text.h"

static void merge_usage(FILE *f)
{
    fputs("usage: runexp merge --db OUT.db IN.db...\n"
          "Copies every experiment and trial of the IN databases into OUT (created if\n"
          "missing), matching experiments by name and spec and trials by trial key:\n"
          "merging again, or merging overlapping shards, changes nothing. The IN files\n"
          "are only read. The same trial with other results in two files is a\n"
          "reproducibility violation: nothing is written.\n"
          "Exit status: 0 merged, 1 reproducibility violation (OUT unchanged),\n"
          "2 usage or database errors (OUT unchanged).\n",
          f);
}

static void say(const char *text)
{
    fputs("runexp merge: ", stderr);
    text_fputs(text, stderr);
    fputc('\n', stderr);
}

/* Removes a database file merge created and could not fill. */
static void remove_created(const char *path)
{
    static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
        size_t n = strlen(path) + strlen(suffix[i]) + 1;
        char *p = malloc(n);
        if (!p)
            return;
        snprintf(p, n, "%s%s", path, suffix[i]);
        unlink(p);
        free(p);
    }
}

int cmd_merge(int argc, char **argv)
{
    const char *out_path = NULL;
    const char **in = calloc((size_t)(argc > 0 ? argc : 1), sizeof *in);
    size_t n_in = 0;
    if (!in) {
        fputs("runexp merge: out of memory\n", stderr);
        return 2;
    }
    int code = 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            merge_usage(stdout);
            free(in);
            return 0;
        } else if ((v = cmd_opt_value(argc, argv, &i, "--db"))) {
            if (!*v) {
                fputs("runexp merge: --db needs a file name\n", stderr);
                goto usage;
            }
            out_path = v;
        } else if (!strcmp(a, "--")) {
            for (i++; i < argc; i++)
                in[n_in++] = argv[i];
        } else if (a[0] == '-' && a[1]) {
            fputs("runexp merge: unknown option '", stderr);
            text_fputs(a, stderr);
            fputs("'\n", stderr);
            goto usage;
        } else {
            in[n_in++] = a;
        }
    }
    if (!out_path) {
        fputs("runexp merge: --db OUT.db is required (the database to merge into)\n", stderr);
        goto usage;
    }
    if (n_in == 0) {
        fputs("runexp merge: no input database given\n", stderr);
        goto usage;
    }
    /* Every input must be there before the output is created. */
    for (size_t i = 0; i < n_in; i++) {
        struct stat sb;
        if (stat(in[i], &sb) != 0 || !S_ISREG(sb.st_mode)) {
            fputs("runexp merge: ", stderr);
            text_fputs(in[i], stderr);
            fputs(": no such database file\n", stderr);
            free(in);
            return 2;
        }
    }
    struct stat ob;
    int created = stat(out_path, &ob) != 0;
    store_error err;
    int lock = store_writer_lock(out_path, &err);
    if (lock < 0) {
        say(err.message);
        free(in);
        return 2;
    }
    store *db = store_open(out_path, &err);
    if (!db) {
        say(err.message);
        store_writer_unlock(lock);
        if (created)
            remove_created(out_path);
        free(in);
        return 2;
    }
    store_merge_counts c;
    int rc = store_merge(db, n_in, in, &c, &err);
    store_close(db);
    if (rc != 0 && created)
        remove_created(out_path);
    store_writer_unlock(lock);
    if (rc == 1) {
        say(err.message);
        fputs("runexp merge: nothing was merged; ", stderr);
        text_fputs(out_path, stderr);
        fputs(created ? " was not created\n" : " is unchanged\n", stderr);
        code = 1;
    } else if (rc != 0) {
        say(err.message);
        fputs("runexp merge: nothing was merged\n", stderr);
        code = 2;
    } else {
        fprintf(stderr,
                "runexp merge: %zu file%s into ", n_in, n_in == 1 ? "" : "s");
        text_fputs(out_path, stderr);
        fprintf(stderr,
                ": %zu experiment%s added, %zu matched; %zu trial%s added, %zu replacing"
                " unfinished ones, %zu already there, %zu unfinished left as they were\n",
                c.experiments_added, c.experiments_added == 1 ? "" : "s",
                c.experiments_matched, c.trials_added, c.trials_added == 1 ? "" : "s",
                c.trials_replaced, c.trials_same, c.trials_kept);
        code = 0;
    }
    free(in);
    return code;
usage:
    merge_usage(stderr);
    free(in);
    return 2;
}
