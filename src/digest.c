/* digest: SHA-256 as hex; see digest.h. */
#include "digest.h"

#include <stdio.h>

#include <openssl/evp.h>

void digest_hex(const unsigned char *md, size_t n, char *out)
{
    static const char xd[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = xd[md[i] >> 4];
        out[2 * i + 1] = xd[md[i] & 15];
    }
    out[2 * n] = '\0';
}

int digest_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    out[0] = '\0';
    if (!EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) || n != 32)
        return -1;
    digest_hex(md, 32, out);
    return 0;
}

int digest_file_sha256_hex(const char *path, char out[65])
{
    out[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    unsigned char buf[16384];
    size_t n;
    while (ok && (n = fread(buf, 1, sizeof buf, f)) > 0)
        ok = EVP_DigestUpdate(ctx, buf, n);
    ok = ok && !ferror(f);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    ok = ok && EVP_DigestFinal_ex(ctx, md, &len) && len == 32;
    EVP_MD_CTX_free(ctx);
    fclose(f);
    if (!ok)
        return -1;
    digest_hex(md, 32, out);
    return 0;
}
