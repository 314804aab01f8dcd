/* text: terminal-safe escaping (see text.h for the escapes). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

/* The code point of the well-formed UTF-8 sequence at s and its length, or
 * 0 when s does not start one (Unicode Table 3-7: no overlong forms, no
 * surrogates, nothing above U+10FFFF, no sequence cut by the NUL). */
static size_t utf8_decode(const unsigned char *s, uint32_t *cp)
{
    unsigned char c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t n;
    uint32_t v;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        v = c & 0x1Fu;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        v = c & 0x0Fu;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        v = c & 0x07u;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else {
        return 0;
    }
    for (size_t k = 1; k < n; k++) {
        unsigned char b = s[k];
        if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF))
            return 0;
        v = v << 6 | (b & 0x3Fu);
    }
    *cp = v;
    return n;
}

static int invisible(uint32_t cp)
{
    return (cp >= 0x80 && cp <= 0x9F) || cp == 0x200E || cp == 0x200F ||
           (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

/* The character at s (not NUL): sets *len to its length in bytes and
 * returns 0 when it prints as it is, or writes its escape (NUL-terminated)
 * into esc and returns the escape's length. */
static size_t unit(const unsigned char *s, size_t *len, char esc[8])
{
    static const char hex[] = "0123456789abcdef";
    uint32_t cp;
    size_t n = utf8_decode(s, &cp);
    if (n == 0) { /* a stray byte */
        *len = 1;
        cp = s[0];
    } else {
        *len = n;
        if (cp >= 0x20 && cp != 0x7F && !invisible(cp))
            return 0;
    }
    if (n == 0 || cp > 0x7F) {
        if (n == 0) {
            esc[0] = '\\';
            esc[1] = 'x';
            esc[2] = hex[cp >> 4];
            esc[3] = hex[cp & 15];
            esc[4] = '\0';
            return 4;
        }
        esc[0] = '\\';
        esc[1] = 'u';
        for (int k = 0; k < 4; k++)
            esc[2 + k] = hex[(cp >> (12 - 4 * k)) & 15];
        esc[6] = '\0';
        return 6;
    }
    static const char named[] = "\a" "a" "\b" "b" "\t" "t" "\n" "n" "\v" "v" "\f" "f" "\r" "r"
                                "\033" "e";
    for (size_t k = 0; k + 1 < sizeof named; k += 2)
        if ((unsigned char)named[k] == cp) {
            esc[0] = '\\';
            esc[1] = named[k + 1];
            esc[2] = '\0';
            return 2;
        }
    esc[0] = '\\';
    esc[1] = 'x';
    esc[2] = hex[cp >> 4];
    esc[3] = hex[cp & 15];
    esc[4] = '\0';
    return 4;
}

size_t text_escape(char *buf, size_t size, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t total = 0, used = 0;
    int cut = 0;
    while (*p) {
        char esc[8];
        size_t len, el = unit(p, &len, esc);
        const char *piece = el ? esc : (const char *)p;
        size_t pl = el ? el : len;
        if (!cut && used + pl < size) {
            memcpy(buf + used, piece, pl);
            used += pl;
        } else {
            cut = 1;
        }
        total += pl;
        p += len;
    }
    if (size)
        buf[used] = '\0';
    return total;
}

char *text_escape_dup(const char *s)
{
    if (!s)
        s = "(null)";
    char one;
    size_t n = text_escape(&one, 1, s);
    char *r = n < (size_t)-1 ? malloc(n + 1) : NULL;
    if (r)
        text_escape(r, n + 1, s);
    return r;
}

int text_fputs(const char *s, FILE *f)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        /* the plain run in one write */
        const unsigned char *q = p;
        char esc[8];
        size_t len = 0, el = 0;
        while (*q && (el = unit(q, &len, esc)) == 0)
            q += len;
        if (q > p && fwrite(p, 1, (size_t)(q - p), f) != (size_t)(q - p))
            return EOF;
        if (!*q)
            break;
        if (fputs(esc, f) == EOF)
            return EOF;
        p = q + len;
    }
    return 0;
}

size_t text_plain_span(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    char esc[8];
    size_t len;
    while (*p && unit(p, &len, esc) == 0)
        p += len;
    return (size_t)(p - (const unsigned char *)s);
}

/* ---- numbers ------------------------------------------------------------ */

/* SQLite's round(x, N) (func.c, roundFunc, 3.40) formats |x| with its own
 * printf "%.Nf" and reads the digits back; printf('%.Nf', ...) then formats
 * that double the same way. That printf works in long double: it adds
 * 0.5e-N, plus |x| * 3e-16 when N + e/3 < 15 (e = the binary exponent of
 * x) so that a decimal half stored a hair low still rounds up, brings the
 * sum into [1, 10) by powers of ten, and takes one digit at a time, at most
 * 16 significant ones (later digits are 0). The same arithmetic is done
 * here, step by step, so the digits are the same ones. round(x, 0) is a
 * separate path in SQLite, (double)(long long)(|x| + 0.5), and values
 * beyond 2^52 have no fraction and are returned as they are. */
static const double half_ulp10[10] = {5.0e-01, 5.0e-02, 5.0e-03, 5.0e-04, 5.0e-05,
                                      5.0e-06, 5.0e-07, 5.0e-08, 5.0e-09, 5.0e-10};

/* SQLite's "%.Nf" of x >= 0 (finite), N = decimals, into out (room for
 * 400 + decimals bytes). */
static void printf_digits(double x, int decimals, char *out)
{
    long double v = x;
    int exp10 = 0;
    char *p = out;
    double rounder = half_ulp10[decimals % 10];
    for (int k = decimals; k >= 10; k -= 10)
        rounder *= 1.0e-10;
    int e2;
    frexp(x, &e2);
    int ex = x == 0.0 || !isnormal(x) ? -1023 : e2 - 1;
    if (decimals + ex / 3 < 15)
        rounder = (double)((long double)rounder + v * (long double)3e-16);
    v += rounder;
    if (v > 0) {
        long double scale = 1.0L;
        while (v >= 1e100 * scale && exp10 <= 350) {
            scale *= 1e100;
            exp10 += 100;
        }
        while (v >= 1e10 * scale && exp10 <= 350) {
            scale *= 1e10;
            exp10 += 10;
        }
        while (v >= 10.0 * scale && exp10 <= 350) {
            scale *= 10.0;
            exp10++;
        }
        v /= scale;
        while (v < 1e-8) {
            v *= 1e8;
            exp10 -= 8;
        }
        while (v < 1.0) {
            v *= 10.0;
            exp10--;
        }
    }
    int left = 16; /* significant digits still to take */
    int prec = decimals;
    if (exp10 < 0) {
        *p++ = '0';
    } else {
        for (int e = exp10; e >= 0; e--) {
            int d = left-- > 0 ? (int)v : 0;
            *p++ = (char)('0' + d);
            v = (v - d) * 10.0;
        }
    }
    if (prec > 0)
        *p++ = '.';
    for (int e = exp10 + 1; e < 0 && prec > 0; e++, prec--)
        *p++ = '0';
    while (prec-- > 0) {
        int d = left-- > 0 ? (int)v : 0;
        *p++ = (char)('0' + d);
        v = (v - d) * 10.0;
    }
    *p = '\0';
}

/* SQLite's round(x, decimals) for x >= 0 (finite). */
static double sqlite_round(double x, int decimals)
{
    if (x > 4503599627370496.0)
        return x;
    if (decimals == 0)
        return (double)(long long)(x + 0.5);
    char digits[440];
    printf_digits(x, decimals, digits);
    return strtod(digits, NULL);
}

size_t text_fmt_round(char *buf, size_t size, double x, int decimals)
{
    if (isnan(x))
        return (size_t)snprintf(buf, size, "NaN");
    if (isinf(x))
        return (size_t)snprintf(buf, size, x < 0 ? "-Inf" : "Inf");
    if (decimals < 0)
        decimals = 0;
    if (decimals > 15)
        decimals = 15;
    char digits[440];
    printf_digits(sqlite_round(fabs(x), decimals), decimals, digits);
    int zero = 1;
    for (const char *c = digits; *c; c++)
        if (*c >= '1' && *c <= '9')
            zero = 0;
    return (size_t)snprintf(buf, size, "%s%s", x < 0 && !zero ? "-" : "", digits);
}

size_t text_fmt_real(char *buf, size_t size, double x)
{
    if (!isfinite(x))
        return (size_t)snprintf(buf, size, "null");
    char tmp[40];
    int prec = 15;
    for (; prec < 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, x);
        if (strtod(tmp, NULL) == x)
            break;
    }
    if (prec == 17)
        snprintf(tmp, sizeof tmp, "%.17g", x);
    return (size_t)snprintf(buf, size, "%s%s", tmp, strpbrk(tmp, ".e") ? "" : ".0");
}

/* ---- JSON and CSV ------------------------------------------------------- */

int text_json_fputs(const char *s, FILE *f)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    if (fputc('"', f) == EOF)
        return EOF;
    while (*p) {
        uint32_t cp;
        size_t n = utf8_decode(p, &cp);
        char esc[8];
        const char *out = NULL;
        if (n == 0) {
            out = "\\ufffd";
            n = 1;
        } else if (cp == '"') {
            out = "\\\"";
        } else if (cp == '\\') {
            out = "\\\\";
        } else if (cp == '\n') {
            out = "\\n";
        } else if (cp == '\t') {
            out = "\\t";
        } else if (cp == '\r') {
            out = "\\r";
        } else if (cp < 0x20 || cp == 0x7F || invisible(cp)) {
            esc[0] = '\\';
            esc[1] = 'u';
            for (int k = 0; k < 4; k++)
                esc[2 + k] = hex[(cp >> (12 - 4 * k)) & 15];
            esc[6] = '\0';
            out = esc;
        }
        if (out ? fputs(out, f) == EOF : fwrite(p, 1, n, f) != n)
            return EOF;
        p += n;
    }
    return fputc('"', f) == EOF ? EOF : 0;
}

int text_csv_fputs(const char *s, FILE *f)
{
    if (fputc('"', f) == EOF)
        return EOF;
    for (const char *p = s; *p; p++) {
        if (*p == '"' && fputc('"', f) == EOF)
            return EOF;
        if (fputc(*p, f) == EOF)
            return EOF;
    }
    return fputc('"', f) == EOF ? EOF : 0;
}

/* ---- terminal layout ---------------------------------------------------- */

static int names_utf8(const char *v)
{
    const char *dot = strchr(v, '.');
    if (!dot)
        return 0;
    const char *c = dot + 1;
    char norm[8];
    size_t k = 0;
    for (; *c && *c != '@' && k < sizeof norm - 1; c++)
        if (*c != '-')
            norm[k++] = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
    norm[k] = '\0';
    return (!*c || *c == '@') && !strcmp(norm, "utf8");
}

int text_locale_utf8(const char *lc_all, const char *lc_ctype, const char *lang)
{
    const char *v = lc_all && *lc_all ? lc_all : lc_ctype && *lc_ctype ? lc_ctype : lang;
    return v && *v && names_utf8(v);
}

size_t text_sparkline(char *buf, size_t size, const double *v, size_t n, double lo,
                      double hi, size_t width)
{
    size_t cols = n < width ? n : width, used = 0, copied = 0;
    for (size_t c = 0; c < cols; c++) {
        size_t a = c * n / cols, b = (c + 1) * n / cols;
        double sum = 0;
        size_t k = 0;
        for (size_t i = a; i < b; i++)
            if (!isnan(v[i])) {
                sum += v[i];
                k++;
            }
        char cell[4] = " ";
        size_t cl = 1;
        if (k) {
            double t = hi > lo ? (sum / (double)k - lo) / (hi - lo) : 0.5;
            int level = isnan(t) ? 0 : (int)floor(t * 8.0);
            level = level < 0 ? 0 : level > 7 ? 7 : level;
            cell[0] = (char)0xE2;
            cell[1] = (char)0x96;
            cell[2] = (char)(0x81 + level);
            cl = 3;
        }
        if (copied == used && used + cl < size) {
            memcpy(buf + used, cell, cl);
            copied += cl;
        }
        used += cl;
    }
    if (size)
        buf[copied] = '\0';
    return used;
}

size_t text_row_count(size_t n, size_t step)
{
    if (step <= 1 || n <= 1)
        return n;
    return 1 + n / step + (n % step != 0);
}

size_t text_row_step(size_t n, size_t max_rows)
{
    if (n <= max_rows)
        return 1;
    static const size_t mult[4] = {10, 20, 25, 50};
    if (text_row_count(n, 2) <= max_rows)
        return 2;
    if (text_row_count(n, 5) <= max_rows)
        return 5;
    for (size_t d = 1; d <= SIZE_MAX / 100; d *= 10)
        for (int k = 0; k < 4; k++)
            if (text_row_count(n, mult[k] * d) <= max_rows)
                return mult[k] * d;
    return n;
}

size_t text_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return 64 + (la > lb ? la - lb : lb - la);
    size_t row[65];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}
