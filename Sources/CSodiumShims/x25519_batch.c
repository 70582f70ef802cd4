/* X25519 (RFC 7748 §5) of one scalar with many u-coordinates, eight at a time in AVX-512 IFMA lanes.

   A client agrees keys with every neighbour using the same private key, and the server recomputes a dropped
   client's masks with its reconstructed key and every surviving neighbour: many scalar multiplications
   share one scalar. Here each 64-bit lane of a 512-bit register holds one computation; field elements of
   GF(2^255 - 19) are five limbs in radix 2^51, multiplied with the 52-bit multiply-accumulate
   instructions (vpmadd52luq/huq). The Montgomery ladder's conditional swaps depend only on the shared
   scalar, so every lane swaps alike, through masks (no branch or index depends on secret data).

   Written from RFC 7748 for this project. Used only when the CPU has AVX-512F and AVX-512 IFMA and a
   start-up self-test reproduces libsodium's crypto_scalarmult; otherwise callers use libsodium. Outputs
   are the canonical 32-byte u-coordinates, all-zero for low-order inputs (the caller rejects those, as
   it does libsodium's failure). */
#include "CSodiumShims.h"
#include <sodium.h>
#include <string.h>

#if defined(__x86_64__) && defined(__linux__) && (defined(__clang__) || defined(__GNUC__))
#define X25519_IFMA 1
#include <immintrin.h>
#include <pthread.h>
#endif

#define LANES 8

#ifdef X25519_IFMA

#define MASK51 ((((uint64_t)1) << 51) - 1)
#define TARGET __attribute__((target("avx512f,avx512ifma"), always_inline)) static inline

/* Bounds (per limb, in every lane) are noted as "tight" (<= 2^51) or "loose" (< 2^52). The multiply-
   accumulate instructions read only the low 52 bits of their inputs, so every multiplication input must
   be loose; sums and differences are weakly carried back to loose before they are multiplied. */
typedef struct {
    __m512i v[5];
} fe8;

TARGET __m512i times19(__m512i x) {
    return _mm512_add_epi64(_mm512_add_epi64(_mm512_slli_epi64(x, 4), _mm512_slli_epi64(x, 1)), x);
}

/* a + b, no carry (tight + tight <= 2^52: carry before multiplying). */
TARGET fe8 fe_add(fe8 a, fe8 b) {
    fe8 r;
    for (int k = 0; k < 5; k++) r.v[k] = _mm512_add_epi64(a.v[k], b.v[k]);
    return r;
}

/* a + 4p - b for loose b (4p's limbs, 2^53 - 76 and 2^53 - 4, exceed any loose limb): < 2^54, no carry. */
TARGET fe8 fe_sub(fe8 a, fe8 b) {
    const __m512i p0 = _mm512_set1_epi64((long long)((((uint64_t)1) << 53) - 76));
    const __m512i pk = _mm512_set1_epi64((long long)((((uint64_t)1) << 53) - 4));
    fe8 r;
    r.v[0] = _mm512_sub_epi64(_mm512_add_epi64(a.v[0], p0), b.v[0]);
    for (int k = 1; k < 5; k++) r.v[k] = _mm512_sub_epi64(_mm512_add_epi64(a.v[k], pk), b.v[k]);
    return r;
}

/* Weak carry of limbs < 2^58: every limb becomes (limb mod 2^51) + the carry of the limb below (19 times
   the top carry for limb 0, as 2^255 = 19 mod p): < 2^51 + 19 * 2^7 < 2^52, loose. */
TARGET fe8 fe_carry(fe8 a) {
    const __m512i m = _mm512_set1_epi64((long long)MASK51);
    __m512i c[5];
    for (int k = 0; k < 5; k++) c[k] = _mm512_srli_epi64(a.v[k], 51);
    fe8 r;
    r.v[0] = _mm512_add_epi64(_mm512_and_si512(a.v[0], m), times19(c[4]));
    for (int k = 1; k < 5; k++) r.v[k] = _mm512_add_epi64(_mm512_and_si512(a.v[k], m), c[k - 1]);
    return r;
}

/* Full carry of limbs < 2^61, sequential: the result is tight (limb 1 may reach 2^51, the others stay
   below it). */
TARGET fe8 fe_carry_full(__m512i r0, __m512i r1, __m512i r2, __m512i r3, __m512i r4) {
    const __m512i m = _mm512_set1_epi64((long long)MASK51);
    __m512i c;
    c = _mm512_srli_epi64(r0, 51), r0 = _mm512_and_si512(r0, m), r1 = _mm512_add_epi64(r1, c);
    c = _mm512_srli_epi64(r1, 51), r1 = _mm512_and_si512(r1, m), r2 = _mm512_add_epi64(r2, c);
    c = _mm512_srli_epi64(r2, 51), r2 = _mm512_and_si512(r2, m), r3 = _mm512_add_epi64(r3, c);
    c = _mm512_srli_epi64(r3, 51), r3 = _mm512_and_si512(r3, m), r4 = _mm512_add_epi64(r4, c);
    c = _mm512_srli_epi64(r4, 51), r4 = _mm512_and_si512(r4, m), r0 = _mm512_add_epi64(r0, times19(c));
    c = _mm512_srli_epi64(r0, 51), r0 = _mm512_and_si512(r0, m), r1 = _mm512_add_epi64(r1, c);
    fe8 r = {{r0, r1, r2, r3, r4}};
    return r;
}

/* The tight element with column sums lo_k, hi_k (k = 0..8, each < 5 * 2^52) of a 5 x 5 limb product:
   z_k = lo_k + 2 hi_{k-1} < 2^56, then z_{k+5} * 19 folded into z_k (2^255 = 19 mod p) stays below 2^61. */
TARGET fe8 fe_from_columns(const __m512i lo[9], const __m512i hi[9]) {
    __m512i z[10];
    z[0] = lo[0];
    for (int k = 1; k < 9; k++) z[k] = _mm512_add_epi64(lo[k], _mm512_slli_epi64(hi[k - 1], 1));
    z[9] = _mm512_slli_epi64(hi[8], 1);
    return fe_carry_full(_mm512_add_epi64(z[0], times19(z[5])), _mm512_add_epi64(z[1], times19(z[6])),
                         _mm512_add_epi64(z[2], times19(z[7])), _mm512_add_epi64(z[3], times19(z[8])),
                         _mm512_add_epi64(z[4], times19(z[9])));
}

/* a * b for loose a, b; tight result. Product limb a_i b_j (< 2^104) has its low 52 bits at weight
   2^(51(i+j)) and its high 52 bits at 2^(51(i+j) + 52) = 2 * 2^(51(i+j+1)); at most five products share a
   column, so the column sums stay below 5 * 2^52. */
TARGET fe8 fe_mul(fe8 a, fe8 b) {
    const __m512i zero = _mm512_setzero_si512();
    __m512i lo[9], hi[9];
    for (int k = 0; k < 9; k++) lo[k] = hi[k] = zero;
    for (int i = 0; i < 5; i++) {
        for (int j = 0; j < 5; j++) {
            lo[i + j] = _mm512_madd52lo_epu64(lo[i + j], a.v[i], b.v[j]);
            hi[i + j] = _mm512_madd52hi_epu64(hi[i + j], a.v[i], b.v[j]);
        }
    }
    return fe_from_columns(lo, hi);
}

/* a^2 for loose a; tight result. The cross products a_i a_j (i < j) are summed once and doubled. */
TARGET fe8 fe_sq(fe8 a) {
    const __m512i zero = _mm512_setzero_si512();
    __m512i dlo[9], dhi[9], clo[9], chi[9]; /* diagonal and cross terms */
    for (int k = 0; k < 9; k++) dlo[k] = dhi[k] = clo[k] = chi[k] = zero;
    for (int i = 0; i < 5; i++) {
        dlo[2 * i] = _mm512_madd52lo_epu64(dlo[2 * i], a.v[i], a.v[i]);
        dhi[2 * i] = _mm512_madd52hi_epu64(dhi[2 * i], a.v[i], a.v[i]);
        for (int j = i + 1; j < 5; j++) {
            clo[i + j] = _mm512_madd52lo_epu64(clo[i + j], a.v[i], a.v[j]);
            chi[i + j] = _mm512_madd52hi_epu64(chi[i + j], a.v[i], a.v[j]);
        }
    }
    /* lo_k = dlo_k + 2 clo_k, hi_k = dhi_k + 2 chi_k: the same column sums as fe_mul (< 5 * 2^52). */
    __m512i lo[9], hi[9];
    for (int k = 0; k < 9; k++) {
        lo[k] = _mm512_add_epi64(dlo[k], _mm512_slli_epi64(clo[k], 1));
        hi[k] = _mm512_add_epi64(dhi[k], _mm512_slli_epi64(chi[k], 1));
    }
    return fe_from_columns(lo, hi);
}

/* a * 121665 ((A - 2) / 4, RFC 7748) for loose a: lo_k + 2 hi_{k-1} with hi_4 folded as 2 * 19;
   < 2^52 + 2^23, so the caller carries it (with what it is added to) before multiplying. */
TARGET fe8 fe_mul_a24(fe8 a) {
    const __m512i zero = _mm512_setzero_si512();
    const __m512i a24 = _mm512_set1_epi64(121665);
    __m512i lo[5], hi[5];
    for (int k = 0; k < 5; k++) {
        lo[k] = _mm512_madd52lo_epu64(zero, a.v[k], a24);
        hi[k] = _mm512_madd52hi_epu64(zero, a.v[k], a24);
    }
    fe8 r;
    r.v[0] = _mm512_add_epi64(lo[0], _mm512_slli_epi64(times19(hi[4]), 1));
    for (int k = 1; k < 5; k++) r.v[k] = _mm512_add_epi64(lo[k], _mm512_slli_epi64(hi[k - 1], 1));
    return r;
}

TARGET fe8 fe_sq_n(fe8 a, int n) {
    for (int i = 0; i < n; i++) a = fe_sq(a);
    return a;
}

/* z^(p - 2) = z^(2^255 - 21): 254 squarings and 11 multiplications. */
TARGET fe8 fe_invert(fe8 z) {
    fe8 z2 = fe_sq(z);
    fe8 z9 = fe_mul(fe_sq_n(z2, 2), z);
    fe8 z11 = fe_mul(z9, z2);
    fe8 z_5_0 = fe_mul(fe_sq(z11), z9);                 /* z^(2^5 - 1) */
    fe8 z_10_0 = fe_mul(fe_sq_n(z_5_0, 5), z_5_0);      /* z^(2^10 - 1) */
    fe8 z_20_0 = fe_mul(fe_sq_n(z_10_0, 10), z_10_0);   /* z^(2^20 - 1) */
    fe8 z_40_0 = fe_mul(fe_sq_n(z_20_0, 20), z_20_0);   /* z^(2^40 - 1) */
    fe8 z_50_0 = fe_mul(fe_sq_n(z_40_0, 10), z_10_0);   /* z^(2^50 - 1) */
    fe8 z_100_0 = fe_mul(fe_sq_n(z_50_0, 50), z_50_0);  /* z^(2^100 - 1) */
    fe8 z_200_0 = fe_mul(fe_sq_n(z_100_0, 100), z_100_0); /* z^(2^200 - 1) */
    fe8 z_250_0 = fe_mul(fe_sq_n(z_200_0, 50), z_50_0); /* z^(2^250 - 1) */
    return fe_mul(fe_sq_n(z_250_0, 5), z11);            /* z^(2^255 - 32 + 11) */
}

TARGET void fe_cswap(fe8 *a, fe8 *b, __m512i mask) {
    for (int k = 0; k < 5; k++) {
        __m512i t = _mm512_and_si512(_mm512_xor_si512(a->v[k], b->v[k]), mask);
        a->v[k] = _mm512_xor_si512(a->v[k], t);
        b->v[k] = _mm512_xor_si512(b->v[k], t);
    }
}

static uint64_t load64_le(const uint8_t *p) {
    uint64_t r = 0;
    for (int i = 7; i >= 0; i--) r = (r << 8) | p[i];
    return r;
}

static void store64_le(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* The canonical encoding of a tight element (one lane's limbs): reduce below p, pack 255 bits. */
static void fe_tobytes(uint8_t out[32], const uint64_t limbs[5]) {
    uint64_t h[5];
    for (int k = 0; k < 5; k++) h[k] = limbs[k];
    for (int pass = 0; pass < 2; pass++) { /* now every limb < 2^51: the value is below 2^255 */
        for (int k = 0; k < 4; k++) {
            h[k + 1] += h[k] >> 51;
            h[k] &= MASK51;
        }
        h[0] += 19 * (h[4] >> 51);
        h[4] &= MASK51;
    }
    /* q = 1 exactly when the value is >= p (adding 19 carries out of bit 255). */
    uint64_t q = (h[0] + 19) >> 51;
    for (int k = 1; k < 5; k++) q = (h[k] + q) >> 51;
    h[0] += 19 * q;
    for (int k = 0; k < 4; k++) {
        h[k + 1] += h[k] >> 51;
        h[k] &= MASK51;
    }
    h[4] &= MASK51; /* drops the 2^255 that stood for p */
    store64_le(out, h[0] | (h[1] << 51));
    store64_le(out + 8, (h[1] >> 13) | (h[2] << 38));
    store64_le(out + 16, (h[2] >> 26) | (h[3] << 25));
    store64_le(out + 24, (h[3] >> 39) | (h[4] << 12));
    sodium_memzero(h, sizeof h);
}

/* Eight u-coordinates (bit 255 ignored, values >= p taken as they are: RFC 7748 §5) into limbs. */
__attribute__((target("avx512f,avx512ifma"))) static fe8 fe_load8(const uint8_t *const points[LANES]) {
    uint64_t limbs[5][LANES];
    for (int lane = 0; lane < LANES; lane++) {
        const uint8_t *u = points[lane];
        uint64_t w0 = load64_le(u), w1 = load64_le(u + 8), w2 = load64_le(u + 16);
        uint64_t w3 = load64_le(u + 24) & 0x7fffffffffffffffull;
        limbs[0][lane] = w0 & MASK51;
        limbs[1][lane] = ((w0 >> 51) | (w1 << 13)) & MASK51;
        limbs[2][lane] = ((w1 >> 38) | (w2 << 26)) & MASK51;
        limbs[3][lane] = ((w2 >> 25) | (w3 << 39)) & MASK51;
        limbs[4][lane] = w3 >> 12;
    }
    fe8 r;
    for (int k = 0; k < 5; k++) r.v[k] = _mm512_loadu_si512((const void *)limbs[k]);
    return r;
}

/* out[lane] = X25519(scalar, points[lane]) for eight lanes. */
__attribute__((target("avx512f,avx512ifma"))) static void x25519_8(uint8_t *const out[LANES],
                                                                   const uint8_t scalar[32],
                                                                   const uint8_t *const points[LANES]) {
    uint8_t e[32];
    memcpy(e, scalar, 32);
    e[0] &= 248;
    e[31] &= 127;
    e[31] |= 64;
    const __m512i one = _mm512_set1_epi64(1);
    const __m512i zero = _mm512_setzero_si512();
    fe8 x1 = fe_load8(points);
    fe8 x2 = {{one, zero, zero, zero, zero}};
    fe8 z2 = {{zero, zero, zero, zero, zero}};
    fe8 x3 = x1;
    fe8 z3 = x2;
    uint64_t swap = 0;
    for (int t = 254; t >= 0; t--) {
        uint64_t bit = (uint64_t)((e[t >> 3] >> (t & 7)) & 1);
        swap ^= bit;
        const __m512i mask = _mm512_set1_epi64((long long)(0 - swap));
        fe_cswap(&x2, &x3, mask);
        fe_cswap(&z2, &z3, mask);
        swap = bit;
        /* RFC 7748 §5 ladder step; x2, z2, x3, z3 and x1 are tight on entry. */
        fe8 a = fe_carry(fe_add(x2, z2));
        fe8 b = fe_carry(fe_sub(x2, z2));
        fe8 c = fe_carry(fe_add(x3, z3));
        fe8 d = fe_carry(fe_sub(x3, z3));
        fe8 aa = fe_sq(a);
        fe8 bb = fe_sq(b);
        fe8 da = fe_mul(d, a);
        fe8 cb = fe_mul(c, b);
        fe8 e2 = fe_carry(fe_sub(aa, bb));
        x3 = fe_sq(fe_carry(fe_add(da, cb)));
        z3 = fe_mul(x1, fe_sq(fe_carry(fe_sub(da, cb))));
        x2 = fe_mul(aa, bb);
        z2 = fe_mul(e2, fe_carry(fe_add(aa, fe_mul_a24(e2))));
    }
    const __m512i mask = _mm512_set1_epi64((long long)(0 - swap));
    fe_cswap(&x2, &x3, mask);
    fe_cswap(&z2, &z3, mask);
    fe8 result = fe_mul(x2, fe_invert(z2));
    uint64_t limbs[5][LANES];
    for (int k = 0; k < 5; k++) _mm512_storeu_si512((void *)limbs[k], result.v[k]);
    for (int lane = 0; lane < LANES; lane++) {
        uint64_t h[5];
        for (int k = 0; k < 5; k++) h[k] = limbs[k][lane];
        fe_tobytes(out[lane], h);
        sodium_memzero(h, sizeof h);
    }
    sodium_memzero(limbs, sizeof limbs);
    sodium_memzero(e, sizeof e);
    sodium_memzero(&swap, sizeof swap);
}

static pthread_once_t batch_once = PTHREAD_ONCE_INIT;
static int batch_usable;
static int batch_off; /* SECAGG_X25519_BACKEND=libsodium */

static void batch_run(uint8_t *out, const uint8_t *scalar, const uint8_t *points, size_t count) {
    static const uint8_t basepoint[32] = {9};
    uint8_t spare[LANES][32];
    for (size_t start = 0; start < count; start += LANES) {
        const uint8_t *in[LANES];
        uint8_t *dst[LANES];
        for (size_t lane = 0; lane < LANES; lane++) {
            if (start + lane < count) {
                in[lane] = points + 32 * (start + lane);
                dst[lane] = out + 32 * (start + lane);
            } else { /* padding lanes: any valid point, result discarded */
                in[lane] = basepoint;
                dst[lane] = spare[lane];
            }
        }
        x25519_8(dst, scalar, in);
    }
    sodium_memzero(spare, sizeof spare);
}

/* Deterministic inputs (SHA-256 of a label and an index) plus RFC 7748 §5.2's first vector and the
   low-order and non-canonical u-coordinates: every output must equal libsodium's (all-zero where
   libsodium refuses a low-order point). */
static int batch_self_test(void) {
    enum { count = 3 * LANES + 5 };
    uint8_t points[count][32], got[count][32], want[32], scalar[32];
    static const uint8_t rfc_scalar[32] = {0xa5, 0x46, 0xe3, 0x6b, 0xf0, 0x52, 0x7c, 0x9d, 0x3b, 0x16, 0x15,
                                           0x4b, 0x82, 0x46, 0x5e, 0xdd, 0x62, 0x14, 0x4c, 0x0a, 0xc1, 0xfc,
                                           0x5a, 0x18, 0x50, 0x6a, 0x22, 0x44, 0xba, 0x44, 0x9a, 0xc4};
    static const uint8_t rfc_point[32] = {0xe6, 0xdb, 0x68, 0x67, 0x58, 0x30, 0x30, 0xdb, 0x35, 0x94, 0xc1, 0xa4, 0x24, 0xb1, 0x5f, 0x7c, 0x72, 0x66, 0x24, 0xec, 0x26, 0xb3, 0x35, 0x3b, 0x10, 0xa9, 0x03, 0xa6, 0xd0, 0xab, 0x1c, 0x4c};
    static const uint8_t rfc_out[32] = {0xc3, 0xda, 0x55, 0x37, 0x9d, 0xe9, 0xc6, 0x90, 0x8e, 0x94, 0xea, 0x4d, 0xf2, 0x8d, 0x08, 0x4f, 0x32, 0xec, 0xcf, 0x03, 0x49, 0x1c, 0x71, 0xf7, 0x54, 0xb4, 0x07, 0x55, 0x77, 0xa2, 0x85, 0x52};
    int ok = 1;
    /* RFC 7748 §5.2, first test vector, in lane 3 of a batch of 5 copies. */
    for (int i = 0; i < 5; i++) memcpy(points[i], rfc_point, 32);
    batch_run(got[0], rfc_scalar, points[0], 5);
    for (int i = 0; i < 5; i++) ok &= memcmp(got[i], rfc_out, 32) == 0;
    for (int trial = 0; trial < 3 && ok; trial++) {
        uint8_t label[8] = {'x', '2', '5', '5', '1', '9', (uint8_t)trial, 0};
        crypto_hash_sha256(scalar, label, sizeof label);
        for (int i = 0; i < count; i++) {
            label[7] = (uint8_t)(i + 1);
            crypto_hash_sha256(points[i], label, sizeof label);
        }
        /* Edge u-coordinates: 0, 1, p - 1, p, p + 1, 2^255 - 1 (bit 255 set on some). */
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
        points[6][31] |= 0x80;
        batch_run(got[0], scalar, points[0], count - (size_t)trial);
        for (int i = 0; i < count - trial; i++) {
            if (crypto_scalarmult(want, scalar, points[i]) != 0) memset(want, 0, 32);
            ok &= memcmp(got[i], want, 32) == 0;
        }
    }
    sodium_memzero(scalar, sizeof scalar);
    sodium_memzero(got, sizeof got);
    sodium_memzero(want, sizeof want);
    return ok;
}

static void batch_load(void) {
    const char *choice = getenv("SECAGG_X25519_BACKEND");
    if (choice != NULL && strcmp(choice, "libsodium") == 0) batch_off = 1;
    if (sodium_init() < 0) return;
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512ifma")) batch_usable = batch_self_test();
}

#endif /* X25519_IFMA */

int CSodiumShims_x25519_batch_available(void) {
#ifdef X25519_IFMA
    pthread_once(&batch_once, batch_load);
    return batch_usable;
#else
    return 0;
#endif
}

int CSodiumShims_x25519_batch_preferred(void) {
#if defined(X25519_IFMA) && defined(__OPTIMIZE__)
    return CSodiumShims_x25519_batch_available() && !batch_off;
#else
    /* Unoptimized builds (swift build's debug default) run the intrinsics about ten times slower than
       libsodium: there the batch path is only used when asked for explicitly. */
    return 0;
#endif
}

int CSodiumShims_x25519_batch(void *out, const void *scalar32, const void *points, size_t count) {
#ifdef X25519_IFMA
    if (!CSodiumShims_x25519_batch_available()) return -1;
    batch_run(out, scalar32, points, count);
    return 0;
#else
    (void)out, (void)scalar32, (void)points, (void)count;
    return -1;
#endif
}
