/* Constant-time check of the two hand-written SIMD kernels with MemorySanitizer taint.

   The secret inputs are marked uninitialised (__msan_poison) before the real kernels run: MSan then
   reports any conditional branch, memory address (table index) or libc/libsodium argument that depends
   on them, which is what a constant-time violation is at the source level. Arithmetic on secrets is
   allowed and propagates the taint bit-exactly, so afterwards the outputs must still be poisoned (the
   harness checks that: it shows the taint really went through the kernels), and once unpoisoned they
   must equal libsodium's results computed from unpoisoned copies of the same inputs.

     x25519_batch.c  secret: the scalar; public: the peer points and the count.
     chacha20_add.c  secret: the 32-byte key and the target vector (a client's private input);
                     public: nonce, counter, count, word size, mask, subtract flag.

   The kernel sources are #included unchanged, so their static functions and start-up self-tests are the
   real ones. libsodium is not MSan-instrumented: the few libsodium functions the kernel files call are
   renamed to wrappers here that require initialised (public) inputs and unpoison what libsodium wrote.

   Built by .ci/constant-time with clang -fsanitize=memory, plain and with -DCT_CONSERVATIVE (lane-widened
   taint), and as a negative control with -DCT_NEGATIVE_CONTROL: macro hooks on intrinsics the kernels
   call with secret operands then branch on, or index a table with, a secret inside the real ladder /
   round function, and MSan must report it. See the hooks below and Tests/ConstantTime/README.md. */
#include <sanitizer/msan_interface.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if !defined(__x86_64__) || !defined(__linux__)
#error "the SIMD kernels exist only on x86-64 Linux"
#endif
#include <immintrin.h>

/* ---- The libsodium boundary. ---- */

/* Inputs handed to uninstrumented code must be public: a secret there would be used unseen. */
static void ct_require_public(const void *p, size_t n) {
    if (n > 0) __msan_check_mem_is_initialized(p, n);
}

static int ct_sodium_init(void) {
    int r = sodium_init();
    __msan_unpoison(&r, sizeof r);
    return r;
}

/* Zeroing a secret is fine (libsodium does not read it); the zeros are public. */
static void ct_sodium_memzero(void *p, size_t n) {
    sodium_memzero(p, n);
    __msan_unpoison(p, n);
}

static int ct_crypto_hash_sha256(unsigned char *out, const unsigned char *in, unsigned long long n) {
    ct_require_public(in, (size_t)n);
    int r = crypto_hash_sha256(out, in, n);
    __msan_unpoison(out, crypto_hash_sha256_BYTES);
    __msan_unpoison(&r, sizeof r);
    return r;
}

static int ct_crypto_scalarmult(unsigned char *q, const unsigned char *n, const unsigned char *p) {
    ct_require_public(n, 32);
    ct_require_public(p, 32);
    int r = crypto_scalarmult(q, n, p);
    __msan_unpoison(q, 32);
    __msan_unpoison(&r, sizeof r);
    return r;
}

#define sodium_init ct_sodium_init
#define sodium_memzero ct_sodium_memzero
#define crypto_hash_sha256 ct_crypto_hash_sha256
#define crypto_scalarmult ct_crypto_scalarmult

/* shims.c's keystream (used by chacha20_add.c's self-test), through libsodium on public inputs. */
int CSodiumShims_chacha20_ietf_keystream(void *out, size_t byteCount, const void *nonce12, uint32_t initialCounter,
                                         const void *key32) {
    ct_require_public(nonce12, 12);
    ct_require_public(key32, 32);
    unsigned char *zeroes = calloc(byteCount ? byteCount : 1, 1);
    if (zeroes == NULL) return -1;
    int r = crypto_stream_chacha20_ietf_xor_ic(out, zeroes, byteCount, nonce12, initialCounter, key32);
    free(zeroes);
    __msan_unpoison(out, byteCount);
    __msan_unpoison(&r, sizeof r);
    return r;
}

/* fast_chacha20.c (OpenSSL through dlopen, uninstrumented) is not part of the check. */
int CSodiumShims_fast_chacha20_is_disabled(void) { return 0; }

/* ---- Optional hooks on intrinsics the kernels call (none in the plain build). ----

   CT_CONSERVATIVE: MSan propagates taint through add, sub and multiply bitwise (the shadow of a + b is
   shadow(a) | shadow(b): carries out of a secret bit are not followed), and through the IFMA intrinsics
   heuristically in the same way. That can leave a bit that depends on a secret marked public; the
   ladder's mask 0 - swap, for one, keeps only bit 0 tainted. This mode widens the taint of the vector
   add/sub, IFMA multiply-add and broadcast intrinsics to whole lanes (a lane is tainted in every bit if
   any input bit of that lane is): a sound over-approximation, values unchanged.

   CT_NEGATIVE_CONTROL: the broadcast and store hooks leak the first lane of their (secret) vector from
   inside the real ladder and round function: `--leak branch` branches on its bit 0, `--leak index` indexes a
   table with its low byte, `--leak high-bit` branches on its bit 5. MSan must report each (high-bit: in the
   lane-widened build; plain MSan misses it in the ladder, which is why that build exists). */

#if defined(CT_CONSERVATIVE) || defined(CT_NEGATIVE_CONTROL)
#define CT_HOOKS 1
#endif

#ifdef CT_HOOKS
#ifdef CT_NEGATIVE_CONTROL
enum { LEAK_NONE, LEAK_BRANCH, LEAK_INDEX, LEAK_HIGH_BIT };
static int ct_leak = LEAK_NONE;
static volatile uint64_t ct_sink;
static const uint8_t ct_table[256] = {1};

/* Kept as separate functions so that MSan's report names the kind of leak in its first frame. */
__attribute__((always_inline)) static inline void ct_leak_branch(uint64_t v) {
    if (v & 1) ct_sink++; /* a branch on a secret bit */
}

__attribute__((always_inline)) static inline void ct_leak_index(uint64_t v) {
    ct_sink += ct_table[v & 0xff]; /* a table lookup at a secret index */
}

/* A branch on bit 5: in the ladder's swap mask (0 or all ones) it depends on the secret as much as bit 0
   does, but plain MSan's subtraction keeps only bit 0 of 0 - swap tainted and misses this one. */
__attribute__((always_inline)) static inline void ct_leak_high_bit(uint64_t v) {
    if (v & 0x20) ct_sink++;
}

__attribute__((always_inline)) static inline void ct_leak_value(uint64_t v) {
    if (ct_leak == LEAK_BRANCH) ct_leak_branch(v);
    else if (ct_leak == LEAK_INDEX) ct_leak_index(v);
    else if (ct_leak == LEAK_HIGH_BIT) ct_leak_high_bit(v);
}
#else
#define ct_leak_value(v) ((void)(v))
#endif

/* 1 if any bit of p[0..n) is tainted. */
__attribute__((unused)) static inline int ct_tainted(const void *p, size_t n) { return __msan_test_shadow(p, n) != -1; }

#ifdef CT_CONSERVATIVE
/* lanes[0] is a result, lanes[1..3] its inputs: taints every laneBytes-wide lane of the result in full
   where an input lane has a tainted bit. Out of line, over memory (keeps compile time down; a by-value
   vector argument would itself be checked by MSan at the call). */
__attribute__((noinline)) static void ct_widen_lanes(uint8_t lanes[4][64], size_t laneBytes) {
    for (size_t l = 0; l < 64; l += laneBytes) {
        if (ct_tainted(lanes[1] + l, laneBytes) || ct_tainted(lanes[2] + l, laneBytes) ||
            ct_tainted(lanes[3] + l, laneBytes)) {
            __msan_poison(lanes[0] + l, laneBytes);
        }
    }
}

__attribute__((target("avx512f"), always_inline)) static inline __m512i ct_widen(__m512i r, __m512i a, __m512i b,
                                                                                __m512i c, size_t laneBytes) {
    uint8_t lanes[4][64];
    _mm512_storeu_si512((void *)lanes[0], r);
    _mm512_storeu_si512((void *)lanes[1], a);
    _mm512_storeu_si512((void *)lanes[2], b);
    _mm512_storeu_si512((void *)lanes[3], c);
    ct_widen_lanes(lanes, laneBytes);
    return _mm512_loadu_si512((const void *)lanes[0]);
}
#endif

/* x25519_batch.c broadcasts the ladder's swap mask (secret) with _mm512_set1_epi64. */
__attribute__((target("avx512f"))) static inline __m512i ct_hook_set1_epi64(long long v) {
    __m512i r = _mm512_set1_epi64(v);
#ifdef CT_CONSERVATIVE
    if (ct_tainted(&v, sizeof v)) __msan_poison(&r, sizeof r);
#endif
    ct_leak_value((uint64_t)_mm_cvtsi128_si64(_mm512_castsi512_si128(r)));
    return r;
}

/* chacha20_add.c broadcasts the key words (secret) with _mm512_set1_epi32 ... */
__attribute__((target("avx512f"))) static inline __m512i ct_hook_set1_epi32(int v) {
    __m512i r = _mm512_set1_epi32(v);
#ifdef CT_CONSERVATIVE
    if (ct_tainted(&v, sizeof v)) __msan_poison(&r, sizeof r);
#endif
    ct_leak_value((uint32_t)_mm_cvtsi128_si32(_mm512_castsi512_si128(r)));
    return r;
}

/* ... and stores target ± keystream (secret) with _mm512_storeu_si512. */
__attribute__((target("avx512f"))) static inline void ct_hook_storeu_si512(void *p, __m512i v) {
    ct_leak_value((uint64_t)_mm_cvtsi128_si64(_mm512_castsi512_si128(v)));
    _mm512_storeu_si512(p, v);
}

#ifdef CT_CONSERVATIVE
__attribute__((target("avx512f"))) static inline __m512i ct_hook_add_epi64(__m512i a, __m512i b) {
    return ct_widen(_mm512_add_epi64(a, b), a, b, a, 8);
}
__attribute__((target("avx512f"))) static inline __m512i ct_hook_sub_epi64(__m512i a, __m512i b) {
    return ct_widen(_mm512_sub_epi64(a, b), a, b, a, 8);
}
__attribute__((target("avx512f"))) static inline __m512i ct_hook_add_epi32(__m512i a, __m512i b) {
    return ct_widen(_mm512_add_epi32(a, b), a, b, a, 4);
}
__attribute__((target("avx512f,avx512ifma"))) static inline __m512i ct_hook_madd52lo(__m512i c, __m512i a, __m512i b) {
    return ct_widen(_mm512_madd52lo_epu64(c, a, b), a, b, c, 8);
}
__attribute__((target("avx512f,avx512ifma"))) static inline __m512i ct_hook_madd52hi(__m512i c, __m512i a, __m512i b) {
    return ct_widen(_mm512_madd52hi_epu64(c, a, b), a, b, c, 8);
}
#define _mm512_add_epi64(a, b) ct_hook_add_epi64(a, b)
#define _mm512_sub_epi64(a, b) ct_hook_sub_epi64(a, b)
#define _mm512_add_epi32(a, b) ct_hook_add_epi32(a, b)
#define _mm512_madd52lo_epu64(c, a, b) ct_hook_madd52lo(c, a, b)
#define _mm512_madd52hi_epu64(c, a, b) ct_hook_madd52hi(c, a, b)
#endif

#define _mm512_set1_epi64(v) ct_hook_set1_epi64(v)
#define _mm512_set1_epi32(v) ct_hook_set1_epi32(v)
#define _mm512_storeu_si512(p, v) ct_hook_storeu_si512(p, v)
#endif /* CT_HOOKS */

/* ---- The code under test, unchanged. ---- */

#include "../../Sources/CSodiumShims/x25519_batch.c"
#include "../../Sources/CSodiumShims/chacha20_add.c"

#ifdef CT_HOOKS
#undef _mm512_set1_epi64
#undef _mm512_set1_epi32
#undef _mm512_storeu_si512
#undef _mm512_add_epi64
#undef _mm512_sub_epi64
#undef _mm512_add_epi32
#undef _mm512_madd52lo_epu64
#undef _mm512_madd52hi_epu64
#endif
#undef sodium_init
#undef sodium_memzero
#undef crypto_hash_sha256
#undef crypto_scalarmult

/* ---- Harness. ---- */

static uint64_t rng_state = 0x5eca99c0ffee1234ull;

static uint64_t rng_next(void) { /* splitmix64: deterministic, public test data */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void rng_bytes(uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) p[i] = (uint8_t)rng_next();
}

static int failures;

static void fail(const char *kernel, const char *what) {
    if (failures < 20) fprintf(stderr, "FAIL %s: %s\n", kernel, what);
    failures++;
}

/* Bits of p[0..n) whose shadow is set (AND with a one-bit constant keeps exactly that bit's shadow). */
static size_t tainted_bits(const uint8_t *p, size_t n) {
    size_t bits = 0;
    for (size_t i = 0; i < n; i++) {
        for (int b = 0; b < 8; b++) {
            uint8_t bit = p[i] & (uint8_t)(1u << b);
            bits += __msan_test_shadow(&bit, 1) != -1;
        }
    }
    return bits;
}

/* 1 when every byte of p[0..n) has a tainted bit. */
static int every_byte_tainted(const void *p, size_t n) {
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        if (__msan_test_shadow(b + i, 1) == -1) return 0;
    }
    return 1;
}

struct coverage {
    size_t tainted, total;
};

/* X25519: scalars (all-zero, all-one bits, random) with batches of public points of several sizes,
   including the RFC 7748 edge u-coordinates and low-order points (all-zero output). */
static void check_x25519(int *cases, struct coverage *cov) {
    static const size_t counts[] = {1, 2, 3, 7, 8, 9, 15, 16, 17, 29};
    enum { maxCount = 29 };
    uint8_t points[maxCount][32], out[maxCount][32], want[32], scalar[32], publicScalar[32];
    for (int s = 0; s < 5; s++) {
        if (s == 0) memset(publicScalar, 0, 32);
        else if (s == 1) memset(publicScalar, 0xff, 32);
        else rng_bytes(publicScalar, 32);
        for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
            const size_t count = counts[c];
            rng_bytes(points[0], sizeof points);
            if (count > 6) { /* 0, 1, p - 1, p, p + 1, 2^255 - 1 */
                memset(points[0], 0, 32);
                memset(points[1], 0, 32);
                points[1][0] = 1;
                for (int i = 2; i < 6; i++) {
                    memset(points[i], 0xff, 32);
                    points[i][31] = 0x7f;
                }
                points[2][0] = 0xec;
                points[3][0] = 0xed;
                points[4][0] = 0xee;
                points[5][31] = 0xff;
            }
            memcpy(scalar, publicScalar, 32);
            __msan_poison(scalar, 32); /* secret from here on */
            memset(out, 0xa5, sizeof out);
            if (CSodiumShims_x25519_batch(out, scalar, points, count) != 0) {
                fail("x25519_batch", "kernel unavailable");
                return;
            }
            if (!every_byte_tainted(out, 32 * count)) fail("x25519_batch", "taint lost: an output byte does not depend on the scalar");
            cov->tainted += tainted_bits(out[0], 32 * count);
            cov->total += 8 * 32 * count;
            __msan_unpoison(out, 32 * count);
            for (size_t i = 0; i < count; i++) {
                if (ct_crypto_scalarmult(want, publicScalar, points[i]) != 0) memset(want, 0, 32);
                if (memcmp(out[i], want, 32) != 0) fail("x25519_batch", "output differs from libsodium");
            }
            (*cases)++;
        }
    }
}

/* The fused ChaCha20 add against libsodium's keystream and a scalar loop on unpoisoned copies.
   poisonModes: bit 0 = the key secret only, bit 1 = the target only, bit 2 = both. */
static void check_chacha20_add(int *cases, int poisonModes, struct coverage *cov) {
    static const size_t counts[] = {0, 1, 127, 128, 255, 256, 257, 512, 3 * 256 + 5, 16 * 256 + 7};
    static const uint32_t counters[] = {0, 1, 7, 0xffffffffu - 16u, 0xffffffffu - 40u};
    static const uint64_t masks[] = {0xffffffffu, 0xffu, 1u, ~(uint64_t)0, ((uint64_t)1 << 48) - 1};
    enum { maxCount = 16 * 256 + 7 };
    static uint64_t target[maxCount], expected[maxCount];
    static uint8_t stream[8 * maxCount];
    uint8_t key[32], publicKey[32], nonce[12];
    int variant = 0;
    for (int wordByteCount = 4; wordByteCount <= 8; wordByteCount += 4) {
        for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
            for (size_t k = 0; k < sizeof counters / sizeof counters[0]; k++) {
                for (int mode = 0; mode < 3; mode++) {
                    if (!(poisonModes & (1 << mode))) continue;
                    const int poisonKey = mode != 1, poisonTarget = mode != 0;
                    variant++;
                    const size_t count = counts[c];
                    uint64_t mask = masks[variant % 5];
                    if (wordByteCount == 4) mask &= 0xffffffffu;
                    const int subtract = variant & 1;
                    const uint32_t counter = counters[k];
                    rng_bytes(publicKey, 32);
                    rng_bytes(nonce, 12);
                    for (size_t i = 0; i < count; i++) expected[i] = target[i] = rng_next() & mask;
                    memcpy(key, publicKey, 32);
                    if (poisonKey) __msan_poison(key, 32);
                    if (poisonTarget) __msan_poison(target, count * sizeof target[0]);
                    /* `done` must come out untainted: the comparison below is a branch on it. */
                    const size_t done = CSodiumShims_chacha20_add(LEVEL_AVX512, target, count, wordByteCount, key,
                                                                  nonce, counter, mask, subtract);
                    const size_t perGroup = 16 * (size_t)(64 / wordByteCount);
                    size_t wantDone = count / perGroup;
                    const size_t room = (size_t)((((uint64_t)1 << 32) - counter) / 16);
                    if (wantDone > room) wantDone = room;
                    wantDone *= perGroup;
                    if (done != wantDone) fail("chacha20_add", "processed count");
                    /* Every processed element depends on the secret (through the keystream when only the key
                       is secret). */
                    for (size_t i = 0; i < done; i++) {
                        if (__msan_test_shadow(&target[i], sizeof target[i]) == -1) {
                            fail("chacha20_add", "taint lost: an output element does not depend on the secret");
                            break;
                        }
                    }
                    cov->tainted += tainted_bits((const uint8_t *)target, done * sizeof target[0]);
                    for (size_t i = 0; i < done; i++) cov->total += (size_t)__builtin_popcountll(mask);
                    __msan_unpoison(target, count * sizeof target[0]);
                    if (done > 0) {
                        CSodiumShims_chacha20_ietf_keystream(stream, done * (size_t)wordByteCount, nonce, counter,
                                                             publicKey);
                        for (size_t i = 0; i < done; i++) {
                            uint64_t w = 0;
                            for (int b = wordByteCount - 1; b >= 0; b--) w = (w << 8) | stream[(size_t)wordByteCount * i + (size_t)b];
                            expected[i] = (subtract ? expected[i] - w : expected[i] + w) & mask;
                        }
                    }
                    if (count > 0 && memcmp(target, expected, count * sizeof target[0]) != 0) {
                        fail("chacha20_add", "output differs from libsodium keystream + add (or the tail was touched)");
                    }
                    (*cases)++;
                }
            }
        }
    }
}

static int usage(const char *argv0) {
    fprintf(stderr,
            "usage: %s [--kernel x25519_batch|chacha20_add] [--poison key|target|both]"
#ifdef CT_NEGATIVE_CONTROL
            " [--leak branch|index|high-bit]"
#endif
            "\n",
            argv0);
    return 2;
}

int main(int argc, char **argv) {
    int runX25519 = 1, runChacha = 1, poisonModes = 7;
    int leak = 0;
    for (int i = 1; i < argc; i += 2) {
        const char *value = i + 1 < argc ? argv[i + 1] : "";
        if (strcmp(argv[i], "--kernel") == 0) {
            runX25519 = strcmp(value, "x25519_batch") == 0;
            runChacha = strcmp(value, "chacha20_add") == 0;
            if (!runX25519 && !runChacha) return usage(argv[0]);
        } else if (strcmp(argv[i], "--poison") == 0) {
            poisonModes = strcmp(value, "key") == 0 ? 1 : strcmp(value, "target") == 0 ? 2 : strcmp(value, "both") == 0 ? 4 : 0;
            if (poisonModes == 0) return usage(argv[0]);
#ifdef CT_NEGATIVE_CONTROL
        } else if (strcmp(argv[i], "--leak") == 0) {
            leak = strcmp(value, "branch") == 0     ? LEAK_BRANCH
                   : strcmp(value, "index") == 0    ? LEAK_INDEX
                   : strcmp(value, "high-bit") == 0 ? LEAK_HIGH_BIT
                                                    : 0;
            if (leak == 0) return usage(argv[0]);
#endif
        } else {
            return usage(argv[0]);
        }
    }
    (void)leak;
    if (ct_sodium_init() < 0) return 2;
    /* The kernels' start-up self-tests (public inputs, against libsodium) run here, before anything is
       poisoned; hooks, if any, see only public values there. */
    const int haveX25519 = CSodiumShims_x25519_batch_available();
    const int haveChacha = CSodiumShims_chacha20_add_level_available(LEVEL_AVX512);
#ifdef CT_NEGATIVE_CONTROL
    ct_leak = leak;
#endif
    if (runX25519 && !haveX25519) {
        fprintf(stderr, "x25519_batch: unavailable (no AVX-512 IFMA, or its self-test failed)\n");
        return 3;
    }
    if (runChacha && !haveChacha) {
        fprintf(stderr, "chacha20_add: unavailable (no AVX-512F, or its self-test failed)\n");
        return 3;
    }
#if defined(CT_CONSERVATIVE)
    const char *mode = "lane-widened taint";
#else
    const char *mode = "plain MSan taint";
#endif
    if (runX25519) {
        int cases = 0;
        struct coverage cov = {0, 0};
        const int before = failures;
        check_x25519(&cases, &cov);
        printf("x25519_batch (%s): %d cases, secret scalar, batches of 1-29 public points: %s; %zu of %zu output bits tainted\n",
               mode, cases, failures > before ? "FAILED" : "no report, outputs equal libsodium's", cov.tainted, cov.total);
    }
    if (runChacha) {
        int cases = 0;
        struct coverage cov = {0, 0};
        const int before = failures;
        check_chacha20_add(&cases, poisonModes, &cov);
        printf("chacha20_add (%s): %d cases, secret key and/or target, 4/8-byte words, 0-4103 elements, 5 counters, "
               "5 masks, add and subtract: %s; %zu of %zu output bits under the mask tainted\n",
               mode, cases, failures > before ? "FAILED" : "no report, outputs equal libsodium's", cov.tainted, cov.total);
    }
    return failures ? 1 : 0;
}
