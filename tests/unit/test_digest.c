/* Unit tests for digest (SHA-256).
 *
 * Expected values are independent of this code: the FIPS 180-4 examples
 * (NIST's "SHA256.pdf" worked examples: "abc", the 448-bit two-block message,
 * one million 'a') and, for the padding boundaries, Python's hashlib on the
 * byte pattern msg[i] = (7i + 3) mod 256, computed once with
 *   python3 -c 'import hashlib; print(hashlib.sha256(bytes((i*7+3) & 255
 *               for i in range(N))).hexdigest())'
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "digest.h"

static void pattern(unsigned char *m, size_t n)
{
    for (size_t i = 0; i < n; i++)
        m[i] = (unsigned char)((i * 7 + 3) & 0xff);
}

static void test_fips_examples(void **state)
{
    (void)state;
    char hex[65];
    digest_sha256_hex("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    digest_sha256_hex("", 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    static const char two[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    digest_sha256_hex(two, strlen(two), hex);
    assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_million_a_in_uneven_pieces(void **state)
{
    (void)state;
    char a[997];
    memset(a, 'a', sizeof a);
    digest_sha256 c;
    digest_sha256_init(&c);
    size_t left = 1000000, k = 0;
    while (left) {
        size_t n = 1 + (k++ * 131) % sizeof a; /* 1..997 bytes, never aligned for long */
        n = n < left ? n : left;
        digest_sha256_update(&c, a, n);
        left -= n;
    }
    unsigned char md[DIGEST_SHA256_LEN];
    digest_sha256_final(&c, md);
    char hex[65];
    digest_hex(md, sizeof md, hex);
    assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* Lengths around the padding boundaries: 55 bytes is the longest message
 * whose length fits in its last block, 56..63 need an extra block. */
static const struct {
    size_t n;
    const char *hex;
} boundaries[] = {
    {1, "084fed08b978af4d7d196a7446a86b58009e636b611db16211b65a9aadff29c5"},
    {55, "e7313d333c272e639f790978283f9eb392e843d0f29b7016828bb1daa4aac70b"},
    {56, "4324d65f3c103567f5589c710bc08f8523f929a9272e3af36fc968e52abc6c27"},
    {57, "35df609437dcfea3279283ab79fd554e2bf78f8f7ae2de532d8ee300b09e8f73"},
    {63, "81c80242132f230c3bd41b3e63bbcff16107339549214a99614ff26664625055"},
    {64, "39e3d7b6b5d075d37d053ad89b24b41bef4f3c29760c84447cab3f3be1882241"},
    {65, "aacca6ff74fdbb296d165a45cecfa04e5127bc008770fbbdd48006f2d2fae95e"},
    {119, "9ce7368e4daf32341631b492e80359dc9f594b48453cd0dd5bf0b19279cc177e"},
    {120, "7836b787757e95e58b3ca5aec90b1b004e8deba1e50e9675af9cabf1a13a04b5"},
    {127, "a8d23e75d936f303d248888d9b165ee543f4cbafcad3c9dd2a79bd84faa11d07"},
    {128, "d2742f1f4ac6bb7ca2b239ee18402ba8b3f9f8e652d2a72973c2b9ba11c08cf6"},
    {129, "307f8fc2c1622b92762e818d39a185d4d667ad49a4b07ceae1f4afa008a93ec4"},
    {1000, "1e9bc38cbf860b9ec31918b065f9b52476c549a782e0e7990bed8ce3868d2371"},
};

static void test_padding_boundaries(void **state)
{
    (void)state;
    unsigned char m[1000];
    pattern(m, sizeof m);
    for (size_t i = 0; i < sizeof boundaries / sizeof boundaries[0]; i++) {
        char hex[65];
        digest_sha256_hex(m, boundaries[i].n, hex);
        assert_string_equal(hex, boundaries[i].hex);
    }
}

/* Every split of a 129-byte message into two updates gives the one-shot
 * digest: the partial-block bookkeeping is right at every offset. */
static void test_every_split_point(void **state)
{
    (void)state;
    unsigned char m[129];
    pattern(m, sizeof m);
    for (size_t cut = 0; cut <= sizeof m; cut++) {
        digest_sha256 c;
        digest_sha256_init(&c);
        digest_sha256_update(&c, m, cut);
        digest_sha256_update(&c, m + cut, sizeof m - cut);
        unsigned char md[DIGEST_SHA256_LEN];
        digest_sha256_final(&c, md);
        char hex[65];
        digest_hex(md, sizeof md, hex);
        assert_string_equal(hex, boundaries[11].hex);
    }
}

/* The portable code and the one in use (the SHA instructions when built
 * with __SHA__) agree with the FIPS examples and the boundary digests, and
 * with each other on every length up to 4 KiB (many blocks per update), fed
 * whole and in uneven pieces. */
static void test_portable_and_accelerated(void **state)
{
    (void)state;
    char hex[65], ref[65];
    int accel = digest_sha256_portable_hex("abc", 3, hex);
    print_message("SHA-256 in use: %s\n", accel ? "SHA instructions" : "portable C");
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    static unsigned char m[4096];
    pattern(m, 1000);
    for (size_t i = 0; i < sizeof boundaries / sizeof boundaries[0]; i++) {
        digest_sha256_portable_hex(m, boundaries[i].n, hex);
        assert_string_equal(hex, boundaries[i].hex);
    }
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof m; i++) {
        x = x * 1103515245u + 12345u;
        m[i] = (unsigned char)(x >> 24);
    }
    for (size_t n = 0; n <= sizeof m; n += 1 + n / 64) {
        digest_sha256_portable_hex(m, n, ref);
        digest_sha256_hex(m, n, hex);
        assert_string_equal(hex, ref);
        digest_sha256 c;
        digest_sha256_init(&c);
        for (size_t at = 0, k = 0; at < n; k++) {
            size_t piece = 1 + (k * 977) % 700;
            piece = piece < n - at ? piece : n - at;
            digest_sha256_update(&c, m + at, piece);
            at += piece;
        }
        unsigned char md[DIGEST_SHA256_LEN];
        digest_sha256_final(&c, md);
        digest_hex(md, sizeof md, hex);
        assert_string_equal(hex, ref);
    }
}

static void test_file(void **state)
{
    (void)state;
    char path[] = "/tmp/runexp_test_digest_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unsigned char m[1000];
    pattern(m, sizeof m);
    assert_int_equal(write(fd, m, sizeof m), (ssize_t)sizeof m);
    close(fd);
    char hex[65];
    assert_int_equal(digest_file_sha256_hex(path, hex), 0);
    assert_string_equal(hex, boundaries[12].hex);
    unlink(path);
    assert_int_equal(digest_file_sha256_hex(path, hex), -1);
    assert_string_equal(hex, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fips_examples),
        cmocka_unit_test(test_million_a_in_uneven_pieces),
        cmocka_unit_test(test_padding_boundaries),
        cmocka_unit_test(test_every_split_point),
        cmocka_unit_test(test_portable_and_accelerated),
        cmocka_unit_test(test_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
