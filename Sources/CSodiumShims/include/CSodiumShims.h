#ifndef CSODIUM_SHIMS_H
#define CSODIUM_SHIMS_H

#include <stddef.h>
#include <stdint.h>

/* Thin void* wrappers so Swift can hand typed buffers ([UInt32], [UInt64]) to libsodium
   without rebinding their memory to UInt8. */

int CSodiumShims_chacha20_ietf_keystream(void *out, size_t byteCount, const void *nonce12,
                                         uint32_t initialCounter, const void *key32);

/* Benchmark baseline: crypto_stream_chacha20_ietf with an all-zero key and nonce. */
int CSodiumShims_chacha20_ietf_stream(void *out, size_t byteCount);

void CSodiumShims_memzero(void *pointer, size_t byteCount);

int CSodiumShims_memcmp(const void *a, const void *b, size_t byteCount);

void CSodiumShims_randombytes(void *out, size_t byteCount);

#endif
