/* cmd_common: what the subcommands share: option values, the default
 * database, opening a database read-only, checked output, positive ids
 * (declared in cmd.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd.h"
#include "store.h"
#include "text.h"

long cmd_parse_positive(const char *s)
{
    if (!s || !*s)
        return 0;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v <= 0)
        return 0;
    return v;
}

const char *cmd_opt_value(int argc, char **argv, int *i, const char *name)
{
    size_t l = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, l))
        return NULL;
    if (a[l] == '=')
        return a + l + 1;
    if (a[l] != '\0')
        return NULL;
    if (*i + 1 >= argc)
        return "";
    return argv[++*i];
}

const char *cmd_default_db(void)
{
    const char *env = getenv("RUNEXP_DB");
    return env && *env ? env : "results/runexp.db";
}

store *cmd_open_db(const char *cmd, const char *path)
{
    struct stat sb;
    if (stat(path, &sb) != 0) {
        fprintf(stderr, "runexp %s: no database at ", cmd);
        text_fputs(path, stderr);
        if (errno == ENOENT)
            fputs(" (run a spec first, or name one with --db FILE)\n", stderr);
        else
            fprintf(stderr, ": %s\n", strerror(errno));
        return NULL;
    }
    store_error err;
    memset(&err, 0, sizeof err);
    store *s = store_open_readonly(path, &err);
    if (!s) {
        fprintf(stderr, "runexp %s: ", cmd);
        text_fputs(err.message, stderr);
        fputc('\n', stderr);
    }
    return s;
}

int cmd_output_done(const char *cmd, FILE *f)
{
    if (fflush(f) == 0 && !ferror(f))
        return 0;
    fprintf(stderr, "runexp %s: cannot write the output: %s\n", cmd, strerror(errno));
    return 1;
}

