/* fuzz_common: the position check and the temporary directory shared by the
 * harnesses (see fuzz.h). */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Length of the line break starting at s[i] (0 = none). LF only, or every
 * break libyaml knows. */
static size_t break_len(const unsigned char *s, size_t len, size_t i, int yaml)
{
    if (s[i] == '\n')
        return 1;
    if (!yaml)
        return 0;
    if (s[i] == '\r')
        return (i + 1 < len && s[i + 1] == '\n') ? 2 : 1;
    if (s[i] == 0xC2 && i + 1 < len && s[i + 1] == 0x85)
        return 2;
    if (s[i] == 0xE2 && i + 2 < len && s[i + 1] == 0x80 && (s[i + 2] == 0xA8 || s[i + 2] == 0xA9))
        return 3;
    return 0;
}

/* Width of 1-based line `line` in characters (or bytes); -1 when the text
 * has fewer lines. The text after the last break is a (possibly empty)
 * line. */
static long line_width(const unsigned char *s, size_t len, unsigned line, int yaml, int bytes)
{
    unsigned l = 1;
    long w = 0;
    size_t i = 0;
    while (i < len) {
        size_t b = break_len(s, len, i, yaml);
        if (b) {
            if (l == line)
                return w;
            l++;
            w = 0;
            i += b;
            continue;
        }
        if (bytes || (s[i] & 0xC0) != 0x80)
            w++;
        i++;
    }
    return l == line ? w : -1;
}

int fuzz_position_ok(const char *text, size_t len, unsigned line, unsigned column, int bytes)
{
    const unsigned char *s = (const unsigned char *)text;
    if (line == 0)
        return column == 0;
    if (column == 0)
        return line_width(s, len, line, 1, bytes) >= 0 || line_width(s, len, line, 0, bytes) >= 0;
    for (int yaml = 0; yaml <= 1; yaml++) {
        long w = line_width(s, len, line, yaml, bytes);
        if (w >= 0 && (long)column <= w + 1)
            return 1;
    }
    return 0;
}

static char temp_dir[256];

static void remove_temp_dir(void)
{
    /* Only the files the harnesses make live here (see fuzz_spec.c and
     * fuzz_csv.c); a small fixed walk is enough. */
    static const char *const names[] = {"input.csv", "d.csv", "data/blobs.csv", "bad.csv", "data"};
    char p[512];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", temp_dir, names[i]);
        if (unlink(p) != 0)
            rmdir(p);
    }
    rmdir(temp_dir);
}

const char *fuzz_temp_dir(void)
{
    if (temp_dir[0])
        return temp_dir;
    /* A tmpfs when there is one: the CSV harness writes a file per input. */
    const char *bases[] = {"/dev/shm", getenv("TMPDIR"), "/tmp"};
    for (size_t i = 0; i < sizeof bases / sizeof bases[0]; i++) {
        if (!bases[i] || access(bases[i], W_OK) != 0)
            continue;
        snprintf(temp_dir, sizeof temp_dir, "%s/runexp-fuzz-XXXXXX", bases[i]);
        if (mkdtemp(temp_dir)) {
            atexit(remove_temp_dir);
            return temp_dir;
        }
    }
    temp_dir[0] = '\0';
    return NULL;
}
