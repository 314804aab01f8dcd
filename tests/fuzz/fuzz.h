/* fuzz: what the libFuzzer harnesses (fuzz_spec.c, fuzz_csv.c) and the
 * corpus replay driver (replay.c) share.
 *
 * A harness is one function, LLVMFuzzerTestOneInput, which libFuzzer calls
 * with each generated input; replay.c calls the same function on the files
 * of a corpus directory, so every input the fuzzer ever kept (and every
 * crasher that was fixed) is a regression test in the ordinary gcc builds
 * and under ASan+UBSan in CI. A harness aborts (so the fuzzer reports the
 * input) when an invariant of the code under test does not hold.
 */
#ifndef RUNEXP_FUZZ_H
#define RUNEXP_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Where a diagnostic may point in text of len bytes. Lines are counted the
 * way libyaml counts them (LF, CR, CRLF, NEL, LS, PS each end a line) and,
 * alternatively, by LF only; a position is plausible when it lies inside
 * the text (or one past a line's end) under either count: line 0 = the whole
 * file (column must then be 0), column 0 = unknown. Columns are counted in
 * characters (UTF-8 lead bytes) or, for bytes, when bytes is non-zero. */
int fuzz_position_ok(const char *text, size_t len, unsigned line, unsigned column, int bytes);

/* A private temporary directory for this process (created on first use,
 * removed at exit); NULL when it cannot be made. */
const char *fuzz_temp_dir(void);

#endif
