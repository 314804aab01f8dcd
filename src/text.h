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
