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
/* 1 when SECAGG_PRG_BACKEND=libsodium or set_disabled(1) turned the faster paths off. */
int CSodiumShims_fast_chacha20_is_disabled(void);
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

/* Fused keystream and addition (chacha20_add.c): target[i] = (target[i] ± word_i) & mask, word_i the i-th
   little-endian word (wordByteCount 4 or 8) of the ChaCha20 keystream from block `counter`. Level 2:
   AVX-512F, groups of 16 blocks (the only level so far). Processes whole groups only, never past block
   2^32 − 1, and returns how many elements it did (a prefix of `count`; 0 when the level is unavailable). */
int CSodiumShims_chacha20_add_level_available(int level);
/* The level masks use by default: the best available one, 0 when the faster paths are off
   (SECAGG_PRG_BACKEND=libsodium or openssl, or set_disabled). */
int CSodiumShims_chacha20_add_default_level(void);
size_t CSodiumShims_chacha20_add(int level, uint64_t *target, size_t count, int wordByteCount, const void *key32,
                                 const void *nonce12, uint32_t counter, uint64_t mask, int subtract);

/* X25519 of one scalar with `count` u-coordinates (x25519_batch.c): out[i] (32 bytes each) = X25519(scalar,
   points[i]), eight at a time with AVX-512 IFMA; all-zero for low-order points (callers reject it).
   Returns 0, or -1 without writing when unavailable (no IFMA, failed self-test, other platform): then use
   crypto_scalarmult per point. Preferred (the default) only in optimized builds and unless
   SECAGG_X25519_BACKEND=libsodium. */
int CSodiumShims_x25519_batch_available(void);
int CSodiumShims_x25519_batch_preferred(void);
int CSodiumShims_x25519_batch(void *out, const void *scalar32, const void *points, size_t count);

/* The swap-or-not shuffle of the v3 Harary ring (swap_or_not.c, SPEC.md §10.2) over [0, n), n ≤ 2^24, with
   `rounds` round keys K_j < n and a 16-byte SipHash-2-4 key. Public data only: not constant time.
   CSodiumShims_swap_or_not: E(x), or E^−1(x) when `inverse` is non-zero. _forward_range: out[i] = E(first + i)
   for i < count. */
uint32_t CSodiumShims_swap_or_not(uint32_t n, uint32_t rounds, const uint32_t *round_keys,
                                  const unsigned char sip_key[16], uint32_t x, int inverse);
void CSodiumShims_swap_or_not_forward_range(uint32_t n, uint32_t rounds, const uint32_t *round_keys,
                                            const unsigned char sip_key[16], uint32_t first, size_t count,
                                            uint32_t *out);
/* SipHash-2-4 (= crypto_shorthash_siphash24) of the 8-byte message LE64(message), as a little-endian u64; and a
   comparison of it with libsodium on 64 inputs (1 when equal). */
uint64_t CSodiumShims_siphash24_8(const unsigned char key[16], uint64_t message);
int CSodiumShims_siphash24_self_test(void);

#endif
