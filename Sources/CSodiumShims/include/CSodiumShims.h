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

/* Optional faster keystream (OpenSSL libcrypto, loaded at run time, self-tested against libsodium).
   Contexts are per thread; NULL (backend unavailable) makes the _with call use libsodium. */
int CSodiumShims_fast_chacha20_available(void);
void CSodiumShims_fast_chacha20_set_disabled(int disabled);
void *CSodiumShims_fast_chacha20_context_new(void);
void CSodiumShims_fast_chacha20_context_free(void *context);
int CSodiumShims_chacha20_ietf_keystream_with(void *context, void *out, size_t byteCount, const void *nonce12,
                                              uint32_t initialCounter, const void *key32);
/* Benchmark: the same as CSodiumShims_chacha20_ietf_stream through the context's backend. */
int CSodiumShims_fast_chacha20_stream(void *context, void *out, size_t byteCount);

/* target[i] = (target[i] ± words[i]) & mask for i < count (little-endian words, as the keystream is). */
void CSodiumShims_mask_add_words32(uint64_t *target, const uint32_t *words, size_t count, uint64_t mask,
                                   int subtract);
void CSodiumShims_mask_add_words64(uint64_t *target, const uint64_t *words, size_t count, uint64_t mask,
                                   int subtract);

#endif
