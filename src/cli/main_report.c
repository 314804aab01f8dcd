/* runexp-report: `runexp report`, as a program of its own.
 *
 * The report is the one part of runexp that needs PLplot, and with it a
 * dozen shared libraries (freetype, libpng, qhull, ...). Loading them took
 * 0.6 ms of CPU at every start of runexp, for every run, check and
 * reproduce that never draws; so the report lives here, and `runexp report
 * ARGS` executes this program with the same arguments (main.c). Not meant to
 * be run by hand (it is installed under libexec/), though it works. */
#include "cmd.h"

int main(int argc, char **argv)
{
    return cmd_report(argc, argv);
}
