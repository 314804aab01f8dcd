/* peak_rss OUT CMD [ARGS...]: runs CMD, writes its peak resident set size
 * in KiB (getrusage of the waited-for child, ru_maxrss) to the file OUT and
 * exits with CMD's exit status (128 + signal when it was killed). For the
 * memory e2e test (tests/e2e/run_memory.sh); not installed. */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fputs("usage: peak_rss OUT CMD [ARGS...]\n", stderr);
        return 2;
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("peak_rss: fork");
        return 2;
    }
    if (pid == 0) {
        execvp(argv[2], argv + 2);
        perror("peak_rss: exec");
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        ;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    getrusage(RUSAGE_CHILDREN, &ru);
    FILE *f = fopen(argv[1], "w");
    if (!f || fprintf(f, "%ld\n", (long)ru.ru_maxrss) < 0 || fclose(f) != 0) {
        perror("peak_rss: writing the result");
        return 2;
    }
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : 2;
}
