/* The mask PRG's inner loops over 64-bit storage: target[i] = (target[i] ± word[i]) & mask. Compiled for
   several instruction sets and picked at load time (GCC/Clang function multi-versioning), because the
   package itself is built for baseline x86-64, where these loops run at a fraction of the keystream's
   speed. Plain C elsewhere. */
#include "CSodiumShims.h"

#if defined(__x86_64__) && defined(__linux__) && (defined(__clang__) || defined(__GNUC__))
#define MASK_ADD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define MASK_ADD_CLONES
#endif

MASK_ADD_CLONES
void CSodiumShims_mask_add_words32(uint64_t *restrict target, const uint32_t *restrict words, size_t count,
                                   uint64_t mask, int subtract) {
    if (subtract) {
        for (size_t i = 0; i < count; i++) target[i] = (target[i] - (uint64_t)words[i]) & mask;
    } else {
        for (size_t i = 0; i < count; i++) target[i] = (target[i] + (uint64_t)words[i]) & mask;
    }
}

MASK_ADD_CLONES
void CSodiumShims_mask_add_words64(uint64_t *restrict target, const uint64_t *restrict words, size_t count,
                                   uint64_t mask, int subtract) {
    if (subtract) {
        for (size_t i = 0; i < count; i++) target[i] = (target[i] - words[i]) & mask;
    } else {
        for (size_t i = 0; i < count; i++) target[i] = (target[i] + words[i]) & mask;
    }
}
