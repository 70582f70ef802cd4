/* The mask PRG's inner loops over 64-bit storage: target[i] = (target[i] ± word[i]) & mask. Compiled for
   several instruction sets, because the package itself is built for baseline x86-64, where these loops run
   at a fraction of the keystream's speed; plain C elsewhere.

   The variant is picked on first use (pthread_once + __builtin_cpu_supports) and called through a switch,
   not through GCC/Clang function multi-versioning (target_clones): that resolves through an ifunc, whose
   resolver the dynamic loader runs before ThreadSanitizer's runtime is initialised, and `swift test
   --sanitize=thread` crashed before running a test. */
#include "CSodiumShims.h"

#if defined(__x86_64__) && defined(__linux__) && (defined(__clang__) || defined(__GNUC__))
#define MASK_ADD_DISPATCH 1
#include <pthread.h>
#endif

/* One loop body per word size, instantiated once per instruction set; the compiler vectorises each for
   the target it is compiled for. */
#define MASK_ADD_DEFINE(name, attributes, word_t)                                                              \
    attributes static void name(uint64_t *restrict target, const word_t *restrict words, size_t count,         \
                                uint64_t mask, int subtract) {                                                 \
        if (subtract) {                                                                                        \
            for (size_t i = 0; i < count; i++) target[i] = (target[i] - (uint64_t)words[i]) & mask;            \
        } else {                                                                                               \
            for (size_t i = 0; i < count; i++) target[i] = (target[i] + (uint64_t)words[i]) & mask;            \
        }                                                                                                      \
    }

MASK_ADD_DEFINE(add32_generic, , uint32_t)
MASK_ADD_DEFINE(add64_generic, , uint64_t)

#ifdef MASK_ADD_DISPATCH

MASK_ADD_DEFINE(add32_avx512, __attribute__((target("avx512f"))), uint32_t)
MASK_ADD_DEFINE(add64_avx512, __attribute__((target("avx512f"))), uint64_t)
MASK_ADD_DEFINE(add32_avx2, __attribute__((target("avx2"))), uint32_t)
MASK_ADD_DEFINE(add64_avx2, __attribute__((target("avx2"))), uint64_t)

enum { ISA_GENERIC = 0, ISA_AVX2 = 1, ISA_AVX512 = 2 };

static pthread_once_t isa_once = PTHREAD_ONCE_INIT;
static int isa; /* written once under isa_once, read only after pthread_once returns */

static void isa_select(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) {
        isa = ISA_AVX512;
    } else if (__builtin_cpu_supports("avx2")) {
        isa = ISA_AVX2;
    } else {
        isa = ISA_GENERIC;
    }
}

static int isa_level(void) {
    pthread_once(&isa_once, isa_select);
    return isa;
}

void CSodiumShims_mask_add_words32(uint64_t *restrict target, const uint32_t *restrict words, size_t count,
                                   uint64_t mask, int subtract) {
    switch (isa_level()) {
    case ISA_AVX512: add32_avx512(target, words, count, mask, subtract); break;
    case ISA_AVX2: add32_avx2(target, words, count, mask, subtract); break;
    default: add32_generic(target, words, count, mask, subtract); break;
    }
}

void CSodiumShims_mask_add_words64(uint64_t *restrict target, const uint64_t *restrict words, size_t count,
                                   uint64_t mask, int subtract) {
    switch (isa_level()) {
    case ISA_AVX512: add64_avx512(target, words, count, mask, subtract); break;
    case ISA_AVX2: add64_avx2(target, words, count, mask, subtract); break;
    default: add64_generic(target, words, count, mask, subtract); break;
    }
}

#else

void CSodiumShims_mask_add_words32(uint64_t *restrict target, const uint32_t *restrict words, size_t count,
                                   uint64_t mask, int subtract) {
    add32_generic(target, words, count, mask, subtract);
}

void CSodiumShims_mask_add_words64(uint64_t *restrict target, const uint64_t *restrict words, size_t count,
                                   uint64_t mask, int subtract) {
    add64_generic(target, words, count, mask, subtract);
}

#endif
