/* digest: SHA-256 (FIPS 180-4) as lowercase hex, the one form every hash
 * runexp stores or prints takes: trial keys, spec hashes, result hashes, CSV
 * contents. Anyone can recompute them with sha256sum or Python's hashlib.
 *
 * Written here rather than taken from OpenSSL: libcrypto costs a run about
 * 1.7 ms before its first hash (0.7 ms to load the library, 1 ms for
 * OpenSSL 3 to read its configuration and load providers), which was a third
 * of `runexp check` and a tenth of the serial part of a sweep. */
#ifndef RUNEXP_DIGEST_H
#define RUNEXP_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#define DIGEST_SHA256_LEN 32

/* A SHA-256 computation in progress: init, update any number of times,
 * final. Plain data, no allocation; copy it to fork a computation. */
typedef struct digest_sha256 {
    uint32_t h[8];
    uint64_t n_bytes;      /* message length so far */
    unsigned char buf[64]; /* the partial block */
    size_t n_buf;
} digest_sha256;

void digest_sha256_init(digest_sha256 *c);
void digest_sha256_update(digest_sha256 *c, const void *data, size_t len);
/* Pads, writes the 32-byte digest to md; c must be initialised again
 * before reuse. */
void digest_sha256_final(digest_sha256 *c, unsigned char md[DIGEST_SHA256_LEN]);

/* out = the n bytes of md as lowercase hex; out holds 2n + 1 chars. */
void digest_hex(const unsigned char *md, size_t n, char *out);

/* out = hex SHA-256 of data[0..len). */
void digest_sha256_hex(const void *data, size_t len, char out[65]);

/* out = hex SHA-256 of data[0..len) by the portable C code, also where
 * digest_sha256_update uses the CPU's SHA instructions (built with __SHA__),
 * so tests can compare the two. Returns 1 when the SHA instructions are the
 * ones in use, 0 when the portable code is. */
int digest_sha256_portable_hex(const void *data, size_t len, char out[65]);

/* out = hex SHA-256 of the file's bytes. Returns 0, or -1 (out = "") when
 * the file cannot be read. */
int digest_file_sha256_hex(const char *path, char out[65]);

#endif
