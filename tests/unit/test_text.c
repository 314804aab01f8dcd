/* Unit tests of the text module: terminal-safe escaping. The expected texts
 * are written by hand from the escapes listed in text.h and the UTF-8
 * well-formedness rules of Unicode Table 3-7. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

static void expect(const char *in, const char *want)
{
    char buf[256];
    size_t n = text_escape(buf, sizeof buf, in);
    if (strcmp(buf, want) != 0)
        fprintf(stderr, "got \"%s\", want \"%s\"\n", buf, want);
    assert_string_equal(buf, want);
    assert_int_equal(n, strlen(want));
    char *d = text_escape_dup(in);
    assert_non_null(d);
    assert_string_equal(d, want);
    free(d);
    char *m = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&m, &len);
    assert_non_null(f);
    assert_int_equal(text_fputs(in, f), 0);
    assert_int_equal(fclose(f), 0);
    assert_string_equal(m, want);
    free(m);
    /* plain exactly when nothing changes */
    assert_int_equal(text_plain_span(in) == strlen(in), strcmp(in, want) == 0);
}

static void test_plain_text_unchanged(void **state)
{
    (void)state;
    expect("", "");
    expect("xor_sweep", "xor_sweep");
    expect("a b, (c) \\n 'q' \"d\" ~", "a b, (c) \\n 'q' \"d\" ~");
    /* é (2 bytes), ✓ U+2713 (3), 日本 (3 + 3), 😀 U+1F600 (4), U+00A0 */
    expect("h\xc3\xa9llo \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80 \xc2\xa0.",
           "h\xc3\xa9llo \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80 \xc2\xa0.");
    /* the last code points before and after the escaped ranges */
    expect("\xc2\xa0\xe2\x80\x8d\xe2\x80\xaf\xe2\x81\xa5\xe2\x81\xaa\xf4\x8f\xbf\xbf",
           "\xc2\xa0\xe2\x80\x8d\xe2\x80\xaf\xe2\x81\xa5\xe2\x81\xaa\xf4\x8f\xbf\xbf");
}

static void test_c0_and_del(void **state)
{
    (void)state;
    expect("\a\b\t\n\v\f\r\033", "\\a\\b\\t\\n\\v\\f\\r\\e");
    expect("a\033[31mred\033[0m", "a\\e[31mred\\e[0m");
    expect("\001x\002\037\177", "\\x01x\\x02\\x1f\\x7f");
    expect("line1\r\nline2", "line1\\r\\nline2");
}

static void test_c1_and_invisible(void **state)
{
    (void)state;
    /* U+0080, U+009B (CSI), U+009F */
    expect("\xc2\x80" "a\xc2\x9b" "31m\xc2\x9f", "\\u0080a\\u009b31m\\u009f");
    /* U+200E, U+200F, U+2028, U+2029, U+202A, U+202E, U+2066, U+2069 */
    expect("\xe2\x80\x8e\xe2\x80\x8f\xe2\x80\xa8\xe2\x80\xa9\xe2\x80\xaa\xe2\x80\xae"
           "\xe2\x81\xa6\xe2\x81\xa9",
           "\\u200e\\u200f\\u2028\\u2029\\u202a\\u202e\\u2066\\u2069");
}

static void test_ill_formed_utf8(void **state)
{
    (void)state;
    expect("\xff", "\\xff");
    expect("a\x80z", "a\\x80z");             /* a lone continuation byte */
    expect("\xc0\xaf", "\\xc0\\xaf");         /* overlong '/' */
    expect("\xe0\x80\xaf", "\\xe0\\x80\\xaf"); /* overlong, 3 bytes */
    expect("\xed\xa0\x80", "\\xed\\xa0\\x80"); /* a surrogate, U+D800 */
    expect("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"); /* above U+10FFFF */
    expect("\xe2\x82", "\\xe2\\x82");         /* cut by the end */
    expect("\xe2\x82z", "\\xe2\\x82z");
    expect("\xc3(", "\\xc3(");
}

static void test_cut_and_span(void **state)
{
    (void)state;
    char buf[8];
    /* "ab\e" + "cd": with room for 3 bytes + NUL the escape does not fit
     * whole, so it is left out, and nothing after it is written. */
    assert_int_equal(text_escape(buf, 4, "ab\033cd"), 6);
    assert_string_equal(buf, "ab");
    assert_int_equal(text_escape(buf, 5, "ab\033cd"), 6);
    assert_string_equal(buf, "ab\\e");
    assert_int_equal(text_escape(buf, 1, "abc"), 3);
    assert_string_equal(buf, "");
    assert_int_equal(text_escape(NULL, 0, "a\n"), 3);
    /* a multi-byte character is not split either */
    assert_int_equal(text_escape(buf, 3, "a\xc3\xa9"), 3);
    assert_string_equal(buf, "a");

    assert_int_equal(text_plain_span(""), 0);
    assert_int_equal(text_plain_span("abc"), 3);
    assert_int_equal(text_plain_span("abc\033d"), 3);
    assert_int_equal(text_plain_span("h\xc3\xa9\r"), 3);
    assert_int_equal(text_plain_span("\xc2\x9b"), 0);
    assert_int_equal(text_plain_span("ok\xe2\x80\xae"), 2);

    char *d = text_escape_dup(NULL);
    assert_string_equal(d, "(null)");
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_text_unchanged),
        cmocka_unit_test(test_c0_and_del),
        cmocka_unit_test(test_c1_and_invisible),
        cmocka_unit_test(test_ill_formed_utf8),
        cmocka_unit_test(test_cut_and_span),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
