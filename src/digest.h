/* digest: SHA-256 (OpenSSL libcrypto) as lowercase hex, the one form every
 * hash runexp stores or prints takes: trial keys, spec hashes, result hashes,
 * CSV contents. Anyone can recompute them with sha256sum or hashlib. */
#ifndef RUNEXP_DIGEST_H
#define RUNEXP_DIGEST_H

#include <stddef.h>

/* out = the n bytes of md as lowercase hex; out holds 2n + 1 chars. */
void digest_hex(const unsigned char *md, size_t n, char *out);

/* out = hex SHA-256 of data[0..len). Returns 0, or -1 (out = "") when
 * libcrypto fails. */
int digest_sha256_hex(const void *data, size_t len, char out[65]);

/* out = hex SHA-256 of the file's bytes. Returns 0, or -1 (out = "") when
 * the file cannot be read. */
int digest_file_sha256_hex(const char *path, char out[65]);

#endif
