/* The swap-or-not shuffle (Hoang, Morris, Rogaway, CRYPTO 2012) over [0, n) of the v3 Harary ring (SPEC.md §10.2):
   round j maps x to x' = (K_j + n − x) mod n when bit 0 of SipHash-2-4(sipKey, LE32(j) || LE32(max(x, x'))) is 1,
   else keeps x. Each round is an involution (x and x' give the same max), so the inverse runs the rounds backwards.

   The ring, its seed and therefore the round keys and the SipHash key are public (the seed is revealed before the
   ring is used, SPEC.md §11.2), so nothing here needs to run in constant time: the branches on the round bit are
   intentional.

   SipHash-2-4 is the function of libsodium's crypto_shorthash_siphash24 (16-byte key, 8-byte output read as a
   little-endian u64). It is written out here for the one message length used (8 bytes) with the key schedule
   hoisted out of the loop; CSodiumShims_siphash24_self_test compares it with libsodium, and the Swift tests do the
   same. Plain C, no target_clones or CPU dispatch (ThreadSanitizer cannot run ifunc resolvers, see mask_add.c). */
#include "CSodiumShims.h"
#include <sodium.h>
#include <string.h>

typedef struct {
    uint64_t v0, v1, v2, v3;
} sip_state;

static inline __attribute__((always_inline)) uint64_t rotl64(uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }

static inline __attribute__((always_inline)) uint64_t load_le64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

#define SIPROUND(s)                                                                                                    \
    do {                                                                                                               \
        (s).v0 += (s).v1; (s).v1 = rotl64((s).v1, 13); (s).v1 ^= (s).v0; (s).v0 = rotl64((s).v0, 32);                  \
        (s).v2 += (s).v3; (s).v3 = rotl64((s).v3, 16); (s).v3 ^= (s).v2;                                               \
        (s).v0 += (s).v3; (s).v3 = rotl64((s).v3, 21); (s).v3 ^= (s).v0;                                               \
        (s).v2 += (s).v1; (s).v1 = rotl64((s).v1, 17); (s).v1 ^= (s).v2; (s).v2 = rotl64((s).v2, 32);                  \
    } while (0)

static inline __attribute__((always_inline)) sip_state sip_init(const unsigned char key[16]) {
    uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);
    sip_state s = {k0 ^ 0x736f6d6570736575ULL, k1 ^ 0x646f72616e646f6dULL, k0 ^ 0x6c7967656e657261ULL,
                   k1 ^ 0x7465646279746573ULL};
    return s;
}

/* SipHash-2-4 of the 8-byte message LE64(m) under the key whose initial state is `init`. */
static inline __attribute__((always_inline)) uint64_t sip_8(sip_state init, uint64_t m) {
    sip_state s = init;
    const uint64_t b = (uint64_t)8 << 56; /* the length byte, no tail bytes */
    s.v3 ^= m;
    SIPROUND(s);
    SIPROUND(s);
    s.v0 ^= m;
    s.v3 ^= b;
    SIPROUND(s);
    SIPROUND(s);
    s.v0 ^= b;
    s.v2 ^= 0xff;
    SIPROUND(s);
    SIPROUND(s);
    SIPROUND(s);
    SIPROUND(s);
    return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

/* Branch-free: the round bit is a coin flip, so a branch on it would be mispredicted half the time. */
static inline __attribute__((always_inline)) uint32_t swap_round(uint32_t n, uint32_t j, uint32_t k, sip_state init, uint32_t x) {
    /* k < n and x < n ≤ 2^24: k + n − x is in [1, 2n), so one conditional subtraction reduces it mod n. */
    uint32_t partner = k + n - x;
    partner -= n & (uint32_t)0 - (uint32_t)(partner >= n);
    uint32_t high = x > partner ? x : partner;
    uint32_t bit = (uint32_t)(sip_8(init, (uint64_t)j | ((uint64_t)high << 32)) & 1);
    return x ^ ((x ^ partner) & ((uint32_t)0 - bit));
}

uint32_t CSodiumShims_swap_or_not(uint32_t n, uint32_t rounds, const uint32_t *round_keys,
                                  const unsigned char sip_key[16], uint32_t x, int inverse) {
    sip_state init = sip_init(sip_key);
    if (inverse) {
        for (uint32_t j = rounds; j-- > 0;) x = swap_round(n, j, round_keys[j], init, x);
    } else {
        for (uint32_t j = 0; j < rounds; j++) x = swap_round(n, j, round_keys[j], init, x);
    }
    return x;
}

/* Four independent points per pass, so that the four SipHash chains overlap in the pipeline. */
void CSodiumShims_swap_or_not_forward_range(uint32_t n, uint32_t rounds, const uint32_t *round_keys,
                                            const unsigned char sip_key[16], uint32_t first, size_t count,
                                            uint32_t *out) {
    sip_state init = sip_init(sip_key);
    size_t i = 0;
    for (; i + 4 <= count; i += 4) {
        uint32_t x0 = first + (uint32_t)i, x1 = x0 + 1, x2 = x0 + 2, x3 = x0 + 3;
        for (uint32_t j = 0; j < rounds; j++) {
            uint32_t k = round_keys[j];
            x0 = swap_round(n, j, k, init, x0);
            x1 = swap_round(n, j, k, init, x1);
            x2 = swap_round(n, j, k, init, x2);
            x3 = swap_round(n, j, k, init, x3);
        }
        out[i] = x0;
        out[i + 1] = x1;
        out[i + 2] = x2;
        out[i + 3] = x3;
    }
    for (; i < count; i++) {
        uint32_t x = first + (uint32_t)i;
        for (uint32_t j = 0; j < rounds; j++) x = swap_round(n, j, round_keys[j], init, x);
        out[i] = x;
    }
}

uint64_t CSodiumShims_siphash24_8(const unsigned char key[16], uint64_t message) {
    return sip_8(sip_init(key), message);
}

int CSodiumShims_siphash24_self_test(void) {
    unsigned char key[16], message[8], expected[8];
    for (int trial = 0; trial < 64; trial++) {
        for (int i = 0; i < 16; i++) key[i] = (unsigned char)(trial * 31 + i * 7 + 1);
        for (int i = 0; i < 8; i++) message[i] = (unsigned char)(trial * 13 + i * 29 + 3);
        crypto_shorthash_siphash24(expected, message, sizeof message, key);
        if (CSodiumShims_siphash24_8(key, load_le64(message)) != load_le64(expected)) return 0;
    }
    return 1;
}
