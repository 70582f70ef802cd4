#include "CSodiumShims.h"
#include <sodium.h>
#include <string.h>

/* A zero block the keystream is XORed onto: libsodium 1.0.18 only exposes a counter-taking
   ChaCha20-IETF entry point in its _xor_ic form. Kept at 16 KiB so it stays in L1/L2. */
static const unsigned char zeroes[16384];

int CSodiumShims_chacha20_ietf_keystream(void *out, size_t byteCount, const void *nonce12,
                                         uint32_t initialCounter, const void *key32) {
    unsigned char *o = (unsigned char *)out;
    uint32_t counter = initialCounter;
    while (byteCount > 0) {
        size_t n = byteCount < sizeof(zeroes) ? byteCount : sizeof(zeroes);
        if (crypto_stream_chacha20_ietf_xor_ic(o, zeroes, (unsigned long long)n,
                                               (const unsigned char *)nonce12, counter,
                                               (const unsigned char *)key32) != 0) {
            return -1;
        }
        o += n;
        byteCount -= n;
        counter += (uint32_t)(n / 64);
    }
    return 0;
}

int CSodiumShims_chacha20_ietf_stream(void *out, size_t byteCount) {
    static const unsigned char key[32];
    static const unsigned char nonce[12];
    return crypto_stream_chacha20_ietf((unsigned char *)out, (unsigned long long)byteCount, nonce, key);
}

void CSodiumShims_memzero(void *pointer, size_t byteCount) { sodium_memzero(pointer, byteCount); }

int CSodiumShims_memcmp(const void *a, const void *b, size_t byteCount) {
    return sodium_memcmp(a, b, byteCount);
}

void CSodiumShims_randombytes(void *out, size_t byteCount) { randombytes_buf(out, byteCount); }
