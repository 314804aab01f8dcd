/* Unit tests of the text module: terminal-safe escaping. The expected texts
 * are written by hand from the escapes listed in text.h and the UTF-8
 * well-formedness rules of Unicode Table 3-7. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
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

/* The text f received, via open_memstream. */
typedef struct capture {
    char *buf;
    size_t len;
    FILE *f;
} capture;

static void capture_open(capture *c)
{
    c->buf = NULL;
    c->len = 0;
    c->f = open_memstream(&c->buf, &c->len);
    assert_non_null(c->f);
}

static const char *capture_close(capture *c)
{
    fclose(c->f);
    return c->buf;
}

static void expect_json(const char *in, const char *want)
{
    capture c;
    capture_open(&c);
    assert_int_equal(text_json_fputs(in, c.f), 0);
    assert_string_equal(capture_close(&c), want);
    free(c.buf);
}

static void test_json_strings(void **state)
{
    (void)state;
    expect_json("", "\"\"");
    expect_json("hidden", "\"hidden\"");
    expect_json("a\"b\\c", "\"a\\\"b\\\\c\"");
    expect_json("l1\nl2\tx\r", "\"l1\\nl2\\tx\\r\"");
    expect_json("\033[31m\x7f", "\"\\u001b[31m\\u007f\"");
    expect_json("h\xc3\xa9 \xe2\x80\xae!", "\"h\xc3\xa9 \\u202e!\"");
    expect_json("\xc2\x9b", "\"\\u009b\"");
    expect_json("bad\xff\xc3", "\"bad\\ufffd\\ufffd\"");
}

static void test_csv_fields(void **state)
{
    (void)state;
    capture c;
    capture_open(&c);
    text_csv_fputs("plain", c.f);
    fputc(',', c.f);
    text_csv_fputs("a \"q\", b\r\nc", c.f);
    fputc(',', c.f);
    text_csv_fputs("", c.f);
    assert_string_equal(capture_close(&c), "\"plain\",\"a \"\"q\"\", b\r\nc\",\"\"");
    free(c.buf);
}

static void test_real_shortest(void **state)
{
    (void)state;
    char buf[64];
    text_fmt_real(buf, sizeof buf, 0.1);
    assert_string_equal(buf, "0.1");
    text_fmt_real(buf, sizeof buf, 0.62625);
    assert_string_equal(buf, "0.62625");
    text_fmt_real(buf, sizeof buf, 1.0 / 3.0);
    assert_string_equal(buf, "0.3333333333333333");
    text_fmt_real(buf, sizeof buf, 0.1 + 0.2);
    assert_string_equal(buf, "0.30000000000000004");
    text_fmt_real(buf, sizeof buf, -2.5e-5);
    assert_string_equal(buf, "-2.5e-05");
    text_fmt_real(buf, sizeof buf, 10.0);
    assert_string_equal(buf, "10.0");
    text_fmt_real(buf, sizeof buf, -0.0);
    assert_string_equal(buf, "-0.0");
    text_fmt_real(buf, sizeof buf, 1e300);
    assert_string_equal(buf, "1e+300");
    text_fmt_real(buf, sizeof buf, NAN);
    assert_string_equal(buf, "null");
    text_fmt_real(buf, sizeof buf, -INFINITY);
    assert_string_equal(buf, "null");
}

static void test_locale_utf8(void **state)
{
    (void)state;
    assert_true(text_locale_utf8(NULL, NULL, "C.UTF-8"));
    assert_true(text_locale_utf8(NULL, NULL, "en_US.utf8"));
    assert_true(text_locale_utf8("de_DE.UTF-8@euro", "C", "C"));
    assert_false(text_locale_utf8("C", "en_US.UTF-8", "en_US.UTF-8"));
    assert_true(text_locale_utf8("", "en_US.UTF-8", "C"));
    assert_false(text_locale_utf8(NULL, NULL, NULL));
    assert_false(text_locale_utf8(NULL, NULL, "POSIX"));
    assert_false(text_locale_utf8(NULL, NULL, "en_US.ISO-8859-1"));
    assert_false(text_locale_utf8(NULL, NULL, "en_US.UTF-16"));
}

static void test_sparkline(void **state)
{
    (void)state;
    char buf[128];
    /* 0..7 over lo 0, hi 8: one of each block, lowest to full. */
    const double v[8] = {0, 1, 2, 3, 4, 5, 6, 7.99};
    assert_int_equal(text_sparkline(buf, sizeof buf, v, 8, 0, 8, 60), 24);
    assert_string_equal(buf, "\xe2\x96\x81\xe2\x96\x82\xe2\x96\x83\xe2\x96\x84"
                             "\xe2\x96\x85\xe2\x96\x86\xe2\x96\x87\xe2\x96\x88");
    /* 8 values into 2 columns: means 1.5 and 5.5 of 0..8 -> levels 1, 5;
     * a NaN column is a space. */
    assert_int_equal(text_sparkline(buf, sizeof buf, v, 8, 0, 8, 2), 6);
    assert_string_equal(buf, "\xe2\x96\x82\xe2\x96\x86");
    const double w[3] = {1, NAN, 8};
    text_sparkline(buf, sizeof buf, w, 3, 0, 8, 10);
    assert_string_equal(buf, "\xe2\x96\x82 \xe2\x96\x88");
    /* a cut buffer keeps whole characters */
    assert_int_equal(text_sparkline(buf, 5, v, 8, 0, 8, 60), 24);
    assert_string_equal(buf, "\xe2\x96\x81");
}

static void test_row_step(void **state)
{
    (void)state;
    assert_int_equal(text_row_step(20, 20), 1);
    assert_int_equal(text_row_count(20, 1), 20);
    /* 21 rows: step 2 shows 1, 2, 4, ..., 20, 21 = 12 rows */
    assert_int_equal(text_row_step(21, 20), 2);
    assert_int_equal(text_row_count(21, 2), 12);
    /* 200 epochs: 1, 10, 20, ..., 200 = 21 rows > 20, so 20: 1 + 10 = 11 */
    assert_int_equal(text_row_step(200, 20), 20);
    assert_int_equal(text_row_count(200, 20), 11);
    assert_int_equal(text_row_count(200, 10), 21);
    /* 95: step 5 gives 1 + 19 = 20 rows */
    assert_int_equal(text_row_step(95, 20), 5);
    assert_int_equal(text_row_step(1000, 20), 100);
    assert_int_equal(text_row_count(1001, 100), 12);
    assert_int_equal(text_row_step(2400, 20), 200);
    assert_int_equal(text_row_step(4750, 20), 250);
    assert_int_equal(text_row_step(5000, 20), 500);
}

static void test_edit_distance(void **state)
{
    (void)state;
    assert_int_equal(text_edit_distance("", ""), 0);
    assert_int_equal(text_edit_distance("ls", "ls"), 0);
    assert_int_equal(text_edit_distance("list", "ls"), 2);
    assert_int_equal(text_edit_distance("shwo", "show"), 2);
    assert_int_equal(text_edit_distance("exprot", "export"), 2);
    assert_int_equal(text_edit_distance("kitten", "sitting"), 3);
    assert_int_equal(text_edit_distance("", "abc"), 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_text_unchanged),
        cmocka_unit_test(test_c0_and_del),
        cmocka_unit_test(test_c1_and_invisible),
        cmocka_unit_test(test_ill_formed_utf8),
        cmocka_unit_test(test_cut_and_span),
        cmocka_unit_test(test_json_strings),
        cmocka_unit_test(test_csv_fields),
        cmocka_unit_test(test_real_shortest),
        cmocka_unit_test(test_locale_utf8),
        cmocka_unit_test(test_sparkline),
        cmocka_unit_test(test_row_step),
        cmocka_unit_test(test_edit_distance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
