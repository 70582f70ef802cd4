/* The mask PRG's hot path for power-of-two rings in 64-bit storage, fused:
       target[i] = (target[i] ± word_i) & mask
   where word_i is the i-th little-endian 32-bit (or 64-bit) word of the RFC 8439 ChaCha20 keystream that
   starts at block `counter` (SPEC.md §4). Instead of writing keystream to memory and adding it in a second
   pass, 16 blocks are computed side by side in AVX-512 lanes, transposed in registers and added straight
   into the target. (An AVX2 version with 8 lanes was measured no faster than libsodium's keystream plus a
   separate addition on the reference machine, so there is none.)

   Written from RFC 8439 §2.1-2.3 for this project. A level is used only when the CPU supports it and it
   passed a start-up self-test against libsodium's keystream; callers do the rest (partial groups, other
   CPUs and platforms) with keystream-then-add, which produces the same values. */
#include "CSodiumShims.h"
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && defined(__linux__) && (defined(__clang__) || defined(__GNUC__))
#define CHACHA_ADD_X86 1
#include <immintrin.h>
#include <pthread.h>
#endif

#define LEVEL_AVX512 2

/* "expand 32-byte k" */
#define SIGMA0 0x61707865u
#define SIGMA1 0x3320646eu
#define SIGMA2 0x79622d32u
#define SIGMA3 0x6b206574u

static uint32_t load32_le(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

#ifdef CHACHA_ADD_X86

/* ---- AVX-512F: 16 blocks per group, lane b = block b, register k = state word k. ---- */

#define QR512(a, b, c, d)                                                                                     \
    a = _mm512_add_epi32(a, b);                                                                                \
    d = _mm512_rol_epi32(_mm512_xor_si512(d, a), 16);                                                          \
    c = _mm512_add_epi32(c, d);                                                                                \
    b = _mm512_rol_epi32(_mm512_xor_si512(b, c), 12);                                                          \
    a = _mm512_add_epi32(a, b);                                                                                \
    d = _mm512_rol_epi32(_mm512_xor_si512(d, a), 8);                                                           \
    c = _mm512_add_epi32(c, d);                                                                                \
    b = _mm512_rol_epi32(_mm512_xor_si512(b, c), 7);

__attribute__((target("avx512f"))) static void add_avx512(uint64_t *target, size_t groups, const uint32_t key[8],
                                                          const uint32_t nonce[3], uint32_t counter, uint64_t mask,
                                                          int subtract, int wide) {
    const __m512i lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i m = _mm512_set1_epi64((long long)mask);
    const size_t elementsPerGroup = wide ? 128 : 256;
    for (size_t g = 0; g < groups; g++) {
        __m512i s[16];
        s[0] = _mm512_set1_epi32((int)SIGMA0);
        s[1] = _mm512_set1_epi32((int)SIGMA1);
        s[2] = _mm512_set1_epi32((int)SIGMA2);
        s[3] = _mm512_set1_epi32((int)SIGMA3);
        for (int i = 0; i < 8; i++) s[4 + i] = _mm512_set1_epi32((int)key[i]);
        /* No wrap: the caller keeps counter + 16 * groups <= 2^32. */
        s[12] = _mm512_add_epi32(_mm512_set1_epi32((int)(counter + 16u * (uint32_t)g)), lanes);
        s[13] = _mm512_set1_epi32((int)nonce[0]);
        s[14] = _mm512_set1_epi32((int)nonce[1]);
        s[15] = _mm512_set1_epi32((int)nonce[2]);
        __m512i x0 = s[0], x1 = s[1], x2 = s[2], x3 = s[3], x4 = s[4], x5 = s[5], x6 = s[6], x7 = s[7];
        __m512i x8 = s[8], x9 = s[9], x10 = s[10], x11 = s[11], x12 = s[12], x13 = s[13], x14 = s[14], x15 = s[15];
        /* Fully unrolled: measured about 15% faster than a loop over double rounds. */
#if defined(__clang__)
#pragma clang loop unroll(full)
#elif defined(__GNUC__)
#pragma GCC unroll 10
#endif
        for (int r = 0; r < 10; r++) {
            QR512(x0, x4, x8, x12)
            QR512(x1, x5, x9, x13)
            QR512(x2, x6, x10, x14)
            QR512(x3, x7, x11, x15)
            QR512(x0, x5, x10, x15)
            QR512(x1, x6, x11, x12)
            QR512(x2, x7, x8, x13)
            QR512(x3, x4, x9, x14)
        }
        __m512i x[16] = {x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14, x15};
        for (int i = 0; i < 16; i++) x[i] = _mm512_add_epi32(x[i], s[i]);
        /* Transpose the 16 x 16 words so that row b holds block b's 16 words in order. */
        __m512i a[16], b[16];
        for (int i = 0; i < 16; i += 2) {
            a[i] = _mm512_unpacklo_epi32(x[i], x[i + 1]);
            a[i + 1] = _mm512_unpackhi_epi32(x[i], x[i + 1]);
        }
        for (int i = 0; i < 16; i += 4) {
            b[i] = _mm512_unpacklo_epi64(a[i], a[i + 2]);
            b[i + 1] = _mm512_unpackhi_epi64(a[i], a[i + 2]);
            b[i + 2] = _mm512_unpacklo_epi64(a[i + 1], a[i + 3]);
            b[i + 3] = _mm512_unpackhi_epi64(a[i + 1], a[i + 3]);
        }
        for (int i = 0; i < 4; i++) {
            __m512i c0 = _mm512_shuffle_i32x4(b[i], b[4 + i], 0x88);
            __m512i c1 = _mm512_shuffle_i32x4(b[i], b[4 + i], 0xdd);
            __m512i c2 = _mm512_shuffle_i32x4(b[8 + i], b[12 + i], 0x88);
            __m512i c3 = _mm512_shuffle_i32x4(b[8 + i], b[12 + i], 0xdd);
            a[i] = _mm512_shuffle_i32x4(c0, c2, 0x88);
            a[4 + i] = _mm512_shuffle_i32x4(c1, c3, 0x88);
            a[8 + i] = _mm512_shuffle_i32x4(c0, c2, 0xdd);
            a[12 + i] = _mm512_shuffle_i32x4(c1, c3, 0xdd);
        }
        uint64_t *t = target + elementsPerGroup * g;
        for (int blk = 0; blk < 16; blk++) {
            if (wide) {
                /* Block b's 64 bytes are its eight 64-bit words (little-endian). */
                __m512i t0 = _mm512_loadu_si512((const void *)(t + 8 * blk));
                t0 = subtract ? _mm512_sub_epi64(t0, a[blk]) : _mm512_add_epi64(t0, a[blk]);
                _mm512_storeu_si512((void *)(t + 8 * blk), _mm512_and_si512(t0, m));
            } else {
                __m512i lo = _mm512_cvtepu32_epi64(_mm512_castsi512_si256(a[blk]));
                __m512i hi = _mm512_cvtepu32_epi64(_mm512_extracti64x4_epi64(a[blk], 1));
                __m512i t0 = _mm512_loadu_si512((const void *)(t + 16 * blk));
                __m512i t1 = _mm512_loadu_si512((const void *)(t + 16 * blk + 8));
                if (subtract) {
                    t0 = _mm512_sub_epi64(t0, lo);
                    t1 = _mm512_sub_epi64(t1, hi);
                } else {
                    t0 = _mm512_add_epi64(t0, lo);
                    t1 = _mm512_add_epi64(t1, hi);
                }
                _mm512_storeu_si512((void *)(t + 16 * blk), _mm512_and_si512(t0, m));
                _mm512_storeu_si512((void *)(t + 16 * blk + 8), _mm512_and_si512(t1, m));
            }
        }
    }
}

/* ---- Selection and self-test. ---- */

static pthread_once_t add_once = PTHREAD_ONCE_INIT;
static int level_usable[3]; /* indexed by level; [0] and [1] unused (1 is reserved for an AVX2 level) */
static int level_off;       /* SECAGG_PRG_BACKEND=openssl or libsodium */

static size_t run_level(int level, uint64_t *target, size_t count, int wordByteCount, const uint8_t *key32,
                        const uint8_t *nonce12, uint32_t counter, uint64_t mask, int subtract) {
    const int wide = wordByteCount == 8;
    const size_t blocksPerGroup = 16;
    const size_t elementsPerGroup = blocksPerGroup * (wide ? 8 : 16);
    size_t groups = count / elementsPerGroup;
    /* Keep the 32-bit block counter from wrapping inside the request (RFC 8439 has no carry). */
    const uint64_t room = (((uint64_t)1 << 32) - (uint64_t)counter) / blocksPerGroup;
    if ((uint64_t)groups > room) groups = (size_t)room;
    if (groups == 0) return 0;
    uint32_t key[8], nonce[3];
    for (int i = 0; i < 8; i++) key[i] = load32_le(key32 + 4 * i);
    for (int i = 0; i < 3; i++) nonce[i] = load32_le(nonce12 + 4 * i);
    (void)level;
    add_avx512(target, groups, key, nonce, counter, mask, subtract, wide);
    sodium_memzero(key, sizeof key);
    sodium_memzero(nonce, sizeof nonce);
    return groups * elementsPerGroup;
}

/* The same operation through libsodium's keystream and a scalar loop. */
static int reference_add(uint64_t *target, size_t count, int wordByteCount, const uint8_t *key32,
                         const uint8_t *nonce12, uint32_t counter, uint64_t mask, int subtract) {
    size_t bytes = count * (size_t)wordByteCount;
    uint8_t *stream = malloc(bytes);
    if (stream == NULL) return -1;
    if (CSodiumShims_chacha20_ietf_keystream(stream, bytes, nonce12, counter, key32) != 0) {
        free(stream);
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        uint64_t w = load32_le(stream + (size_t)wordByteCount * i);
        if (wordByteCount == 8) w |= (uint64_t)load32_le(stream + 8 * i + 4) << 32;
        target[i] = (subtract ? target[i] - w : target[i] + w) & mask;
    }
    sodium_memzero(stream, bytes);
    free(stream);
    return 0;
}

static int self_test(int level) {
    enum { maxCount = 3 * 256 };
    static uint64_t a[maxCount], b[maxCount];
    uint8_t key[32], nonce[12];
    const uint32_t counters[] = {0, 1, 7, 0xfffffff0u - 16u * 2u};
    const uint64_t masks[] = {0xffffffffu, 0xffu, 1u, ~(uint64_t)0, ((uint64_t)1 << 48) - 1};
    const size_t blocksPerGroup = 16;
    int ok = 1;
    for (int trial = 0; trial < 3 && ok; trial++) {
        for (int i = 0; i < 32; i++) key[i] = (uint8_t)(trial == 0 ? i : i * 29 + trial * 71 + 5);
        for (int i = 0; i < 12; i++) nonce[i] = (uint8_t)(trial == 0 ? (i == 7 ? 0x4a : 0) : i * 17 + trial);
        for (int wordByteCount = 4; wordByteCount <= 8 && ok; wordByteCount += 4) {
            for (size_t c = 0; c < sizeof counters / sizeof counters[0] && ok; c++) {
                for (size_t k = 0; k < sizeof masks / sizeof masks[0] && ok; k++) {
                    const uint64_t mask = wordByteCount == 4 ? masks[k] & 0xffffffffu : masks[k];
                    const size_t groups = 1 + (size_t)((trial + c + k) % 3);
                    const size_t count = groups * blocksPerGroup * (size_t)(64 / wordByteCount);
                    const int subtract = (int)((c + k) & 1);
                    for (size_t i = 0; i < count; i++) a[i] = b[i] = (i * 0x9e3779b97f4a7c15ull + (uint64_t)trial) & mask;
                    if (run_level(level, a, count, wordByteCount, key, nonce, counters[c], mask, subtract) != count) ok = 0;
                    if (reference_add(b, count, wordByteCount, key, nonce, counters[c], mask, subtract) != 0) ok = 0;
                    if (ok && memcmp(a, b, count * sizeof a[0]) != 0) ok = 0;
                }
            }
        }
    }
    /* The counter guard: a request that would cross 2^32 stops before it. */
    if (ok) {
        size_t count = 4 * blocksPerGroup * 16;
        uint32_t counter = 0xffffffffu - (uint32_t)blocksPerGroup; /* room for one group only */
        if (run_level(level, a, count, 4, key, nonce, counter, 0xffffffffu, 0) != blocksPerGroup * 16) ok = 0;
    }
    sodium_memzero(a, sizeof a);
    sodium_memzero(b, sizeof b);
    return ok;
}

static void add_load(void) {
    const char *choice = getenv("SECAGG_PRG_BACKEND");
    if (choice != NULL && (strcmp(choice, "openssl") == 0 || strcmp(choice, "libsodium") == 0)) level_off = 1;
    if (sodium_init() < 0) return;
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) level_usable[LEVEL_AVX512] = self_test(LEVEL_AVX512);
}

#endif /* CHACHA_ADD_X86 */

int CSodiumShims_chacha20_add_level_available(int level) {
#ifdef CHACHA_ADD_X86
    if (level != LEVEL_AVX512) return 0;
    pthread_once(&add_once, add_load);
    return level_usable[level];
#else
    (void)level;
    return 0;
#endif
}

int CSodiumShims_chacha20_add_default_level(void) {
#ifdef CHACHA_ADD_X86
    pthread_once(&add_once, add_load);
    if (level_off || CSodiumShims_fast_chacha20_is_disabled()) return 0;
#if defined(__OPTIMIZE__)
    if (level_usable[LEVEL_AVX512]) return LEVEL_AVX512;
#endif
    /* Unoptimized builds (swift build's debug default) run the intrinsics about 40 times slower than
       optimized ones (0.11 GB/s, far below libsodium): there the kernel is only used when asked for. */
#endif
    return 0;
}

size_t CSodiumShims_chacha20_add(int level, uint64_t *target, size_t count, int wordByteCount, const void *key32,
                                 const void *nonce12, uint32_t counter, uint64_t mask, int subtract) {
#ifdef CHACHA_ADD_X86
    if ((wordByteCount != 4 && wordByteCount != 8) || !CSodiumShims_chacha20_add_level_available(level)) return 0;
    return run_level(level, target, count, wordByteCount, key32, nonce12, counter, mask, subtract);
#else
    (void)level, (void)target, (void)count, (void)wordByteCount, (void)key32, (void)nonce12, (void)counter;
    (void)mask, (void)subtract;
    return 0;
#endif
}
