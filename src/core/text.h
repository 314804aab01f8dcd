/* text: making text from a spec or a database safe to print on a terminal.
 *
 * A name, a CSV label or a value read back from a database may hold bytes a
 * terminal acts on (ESC starts a control sequence, CR rewrites the line, BEL
 * rings) or characters that do not show (bidirectional overrides). Printed
 * raw, they can recolour, hide or fake output. Every such character is
 * written as a visible C-style escape instead:
 *   \a \b \t \n \v \f \r \e      for BEL, BS, TAB, LF, VT, FF, CR, ESC
 *   \xHH                         for the other C0 controls, DEL (\x7f) and
 *                                each byte that is not well-formed UTF-8
 *   \uHHHH                       for the C1 controls U+0080-U+009F, the line
 *                                and paragraph separators U+2028-U+2029 and
 *                                the bidirectional controls U+200E-U+200F,
 *                                U+202A-U+202E, U+2066-U+2069
 * Everything else, printable UTF-8 and the backslash included, is kept as it
 * is: the result is for reading, not for parsing back. The HTML report has
 * its own escaping (report.c).
 */
#ifndef RUNEXP_TEXT_H
#define RUNEXP_TEXT_H

#include <stddef.h>
#include <stdio.h>

/* Writes the escaped form of s into buf (at most size bytes, always
 * NUL-terminated when size > 0; an escape or a character that does not fit
 * is left out whole). Returns the length of the whole escaped text, like
 * snprintf: the result was cut when it is >= size. */
size_t text_escape(char *buf, size_t size, const char *s);

/* The escaped form of s in a new string the caller frees; NULL when out of
 * memory. s NULL gives "(null)". */
char *text_escape_dup(const char *s);

/* Writes the escaped form of s to f. Returns 0, or EOF on a write error. */
int text_fputs(const char *s, FILE *f);

/* The number of bytes at the start of s that print as they are: strlen(s)
 * when text_escape would leave s unchanged, otherwise the offset of the
 * first character it would escape. */
size_t text_plain_span(const char *s);

#endif

/* ---- numbers and layout for terminal output and exports ----------------
 *
 * One rounding rule everywhere a figure is shown: text_fmt_round rounds the
 * way SQLite's round(x, N) does, so a figure on the terminal equals what the
 * README's queries print. */

/* Writes x rounded to `decimals` places (clamped to 0..15) with exactly
 * that many decimals, as SQLite 3.40's printf('%.Nf', round(x, N)) shows
 * it: half away from zero, where a value less than about 3e-16 of itself
 * below the half (0.62625 is stored as 0.6262499999999999956) counts as the
 * half, so 0.62625 -> "0.6263" where C's printf("%.4f") gives "0.6262".
 * A result that is zero has no minus sign. NaN gives "NaN", infinities
 * "Inf" and "-Inf". Returns the length, like snprintf. */
size_t text_fmt_round(char *buf, size_t size, double x, int decimals);

/* Writes the shortest of "%.15g", "%.16g", "%.17g" that reads back as x
 * exactly (for exports: no figure is lost, none is padded with noise),
 * with ".0" added to a whole number so that it still reads as a real
 * ("10.0"). NaN and infinities give "null". Returns the length, like
 * snprintf. */
size_t text_fmt_real(char *buf, size_t size, double x);

/* Writes s as a JSON string, quotes included: " \ and the C0 controls
 * escaped (\n, \t, ... \u00XX), DEL, the C1 controls and the invisible
 * characters text_escape escapes as \uXXXX, each byte that is not
 * well-formed UTF-8 as \ufffd. The result is valid JSON and safe on a
 * terminal. Returns 0, or EOF on a write error. */
int text_json_fputs(const char *s, FILE *f);

/* Writes s as one CSV field (RFC 4180): in double quotes, each quote
 * doubled; the bytes as they are. Returns 0, or EOF on a write error. */
int text_csv_fputs(const char *s, FILE *f);

/* 1 when the locale the environment selects uses UTF-8: the first of
 * LC_ALL, LC_CTYPE, LANG that is set and not empty names the UTF-8 codeset
 * ("C.UTF-8", "en_US.utf8"). Pass getenv's results (NULL = unset). */
int text_locale_utf8(const char *lc_all, const char *lc_ctype, const char *lang);

/* Writes a sparkline of v[0..n) into buf: at most `width` columns, each
 * the mean of the values it covers (NaN ignored; a column of only NaN is a
 * space), drawn with the eight block characters U+2581-U+2588 scaled from
 * lo (lowest block) to hi (full block). Returns the length in bytes, like
 * snprintf (3 bytes per block). */
size_t text_sparkline(char *buf, size_t size, const double *v, size_t n, double lo,
                      double hi, size_t width);

/* The step of a table of every step-th row out of n rows (shown: the
 * first, every multiple of step, the last) that keeps it at most max_rows
 * rows (max_rows >= 3): 1 when all n fit, else the smallest of 2, 5, 10,
 * 20, 25, 50, 100, 200, 250, 500, 1000, ... that fits. */
size_t text_row_step(size_t n, size_t max_rows);

/* The number of rows text_row_step's table shows. */
size_t text_row_count(size_t n, size_t step);

/* The edit distance (insertions, deletions, substitutions of one byte)
 * between a and b, counted up to 64 bytes of each (longer strings count as
 * far apart: the result is then at least 64). For "did you mean" hints. */
size_t text_edit_distance(const char *a, const char *b);
