/* text: terminal-safe escaping (see text.h for the escapes). */
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
