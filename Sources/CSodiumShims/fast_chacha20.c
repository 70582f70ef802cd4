/* An optional, faster ChaCha20 keystream: OpenSSL's libcrypto (AVX-512 and AVX2 code paths), loaded at
   run time with dlopen so that building needs nothing beyond libsodium. It is used only after a self-test
   shows it produces exactly the RFC 8439 keystream libsodium produces; otherwise (no libcrypto, a
   mismatch, SECAGG_PRG_BACKEND=libsodium, or a platform without dlopen) every call falls back to
   libsodium. OpenSSL's "chacha20" takes a 16-byte IV: LE32(block counter) || 12-byte nonce. */
#include "CSodiumShims.h"
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#if defined(__linux__)
#include <dlfcn.h>
#include <pthread.h>
#define FAST_CHACHA_DLOPEN 1
#endif

typedef void *(*ctx_new_fn)(void);
typedef void (*ctx_free_fn)(void *);
typedef const void *(*cipher_fn)(void);
typedef int (*init_fn)(void *ctx, const void *cipher, void *engine, const unsigned char *key,
                       const unsigned char *iv);
typedef int (*update_fn)(void *ctx, unsigned char *out, int *outl, const unsigned char *in, int inl);

static struct {
    ctx_new_fn ctx_new;
    ctx_free_fn ctx_free;
    cipher_fn chacha20;
    init_fn init;
    update_fn update;
    const void *cipher;
    int usable;   /* 1 once loaded and self-tested */
    int disabled; /* forced off (environment or tests) */
} fast;

/* One thread's OpenSSL context plus the zero block it encrypts. */
struct fast_context {
    void *ctx;
};

static const unsigned char fast_zeroes[16384];

/* Keystream through libcrypto; returns 0 on success. `byteCount` ≤ INT_MAX is guaranteed by callers
   (they go 16 KiB at a time). */
static int fast_keystream(void *ctx, unsigned char *out, size_t byteCount, const unsigned char *nonce12,
                          uint32_t counter, const unsigned char *key32) {
    unsigned char iv[16];
    iv[0] = (unsigned char)counter;
    iv[1] = (unsigned char)(counter >> 8);
    iv[2] = (unsigned char)(counter >> 16);
    iv[3] = (unsigned char)(counter >> 24);
    memcpy(iv + 4, nonce12, 12);
    /* The cipher was bound when the context was made: re-keying with a NULL cipher skips OpenSSL 3's
       per-call provider set-up (10-20% of a 16 KiB chunk). */
    if (fast.init(ctx, NULL, NULL, key32, iv) != 1) return -1;
    sodium_memzero(iv, sizeof iv);
    while (byteCount > 0) {
        size_t n = byteCount < sizeof(fast_zeroes) ? byteCount : sizeof(fast_zeroes);
        int written = 0;
        if (fast.update(ctx, out, &written, fast_zeroes, (int)n) != 1 || written != (int)n) return -1;
        out += n;
        byteCount -= n;
    }
    return 0;
}

/* A libcrypto cipher context bound to ChaCha20 (no key yet), or NULL. */
static void *fast_bound_context(void) {
    void *ctx = fast.ctx_new();
    if (ctx == NULL) return NULL;
    if (fast.init(ctx, fast.cipher, NULL, NULL, NULL) != 1) {
        fast.ctx_free(ctx);
        return NULL;
    }
    return ctx;
}

#ifdef FAST_CHACHA_DLOPEN
static pthread_once_t fast_once = PTHREAD_ONCE_INIT;

/* Compares libcrypto with libsodium on the RFC 8439 §2.4.2 key/nonce/counter and on other keys,
   counters and lengths (whole blocks, a partial block, several 16 KiB chunks). */
static int fast_self_test(void) {
    void *ctx = fast_bound_context();
    if (ctx == NULL) return 0;
    unsigned char key[32], nonce[12];
    static unsigned char a[3 * 16384 + 100], b[3 * 16384 + 100];
    const size_t lengths[] = {64, 100, 1000, 16384, 3 * 16384 + 100};
    const uint32_t counters[] = {0, 1, 7, 0xfffff000u};
    int ok = 1;
    for (int trial = 0; trial < 3 && ok; trial++) {
        for (int i = 0; i < 32; i++) key[i] = (unsigned char)(trial == 0 ? i : i * 7 + trial * 31 + 3);
        memset(nonce, 0, sizeof nonce);
        if (trial == 0) {
            nonce[7] = 0x4a;
        } else {
            for (int i = 0; i < 12; i++) nonce[i] = (unsigned char)(i * 13 + trial);
        }
        for (size_t l = 0; l < sizeof lengths / sizeof lengths[0] && ok; l++) {
            for (size_t c = 0; c < sizeof counters / sizeof counters[0] && ok; c++) {
                size_t n = lengths[l];
                memset(a, 0xa5, n);
                memset(b, 0x5a, n);
                if (fast_keystream(ctx, a, n, nonce, counters[c], key) != 0) ok = 0;
                if (CSodiumShims_chacha20_ietf_keystream(b, n, nonce, counters[c], key) != 0) ok = 0;
                if (ok && memcmp(a, b, n) != 0) ok = 0;
            }
        }
    }
    fast.ctx_free(ctx);
    sodium_memzero(a, sizeof a);
    sodium_memzero(b, sizeof b);
    return ok;
}

static void fast_load(void) {
    const char *choice = getenv("SECAGG_PRG_BACKEND");
    if (choice != NULL && strcmp(choice, "libsodium") == 0) {
        fast.disabled = 1;
        return;
    }
    const char *names[] = {"libcrypto.so.3", "libcrypto.so.1.1", "libcrypto.so"};
    void *handle = NULL;
    for (size_t i = 0; i < sizeof names / sizeof names[0] && handle == NULL; i++) {
        handle = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    }
    if (handle == NULL) return;
    fast.ctx_new = (ctx_new_fn)dlsym(handle, "EVP_CIPHER_CTX_new");
    fast.ctx_free = (ctx_free_fn)dlsym(handle, "EVP_CIPHER_CTX_free");
    fast.chacha20 = (cipher_fn)dlsym(handle, "EVP_chacha20");
    fast.init = (init_fn)dlsym(handle, "EVP_EncryptInit_ex");
    fast.update = (update_fn)dlsym(handle, "EVP_EncryptUpdate");
    if (!fast.ctx_new || !fast.ctx_free || !fast.chacha20 || !fast.init || !fast.update) return;
    fast.cipher = fast.chacha20();
    if (fast.cipher == NULL) return;
    if (sodium_init() < 0) return;
    fast.usable = fast_self_test();
}
#endif

int CSodiumShims_fast_chacha20_available(void) {
#ifdef FAST_CHACHA_DLOPEN
    pthread_once(&fast_once, fast_load);
    return fast.usable && !__atomic_load_n(&fast.disabled, __ATOMIC_RELAXED);
#else
    return 0;
#endif
}

void CSodiumShims_fast_chacha20_set_disabled(int disabled) {
#ifdef FAST_CHACHA_DLOPEN
    pthread_once(&fast_once, fast_load);
#endif
    __atomic_store_n(&fast.disabled, disabled, __ATOMIC_RELAXED);
}

int CSodiumShims_fast_chacha20_is_disabled(void) {
#ifdef FAST_CHACHA_DLOPEN
    pthread_once(&fast_once, fast_load);
    return __atomic_load_n(&fast.disabled, __ATOMIC_RELAXED);
#else
    return 0;
#endif
}

void *CSodiumShims_fast_chacha20_context_new(void) {
    if (!CSodiumShims_fast_chacha20_available()) return NULL;
    struct fast_context *c = calloc(1, sizeof *c);
    if (c == NULL) return NULL;
    c->ctx = fast_bound_context();
    if (c->ctx == NULL) {
        free(c);
        return NULL;
    }
    return c;
}

void CSodiumShims_fast_chacha20_context_free(void *context) {
    struct fast_context *c = context;
    if (c == NULL) return;
    fast.ctx_free(c->ctx); /* EVP_CIPHER_CTX_free cleanses the key schedule */
    free(c);
}

int CSodiumShims_chacha20_ietf_keystream_with(void *context, void *out, size_t byteCount, const void *nonce12,
                                              uint32_t initialCounter, const void *key32) {
    struct fast_context *c = context;
    /* Fast path only when the 32-bit block counter cannot wrap within the request (libcrypto would carry
       into the nonce) and the backend is on. */
    uint64_t blocks = ((uint64_t)byteCount + 63) / 64;
    if (c != NULL && !__atomic_load_n(&fast.disabled, __ATOMIC_RELAXED) && (uint64_t)initialCounter + blocks <= ((uint64_t)1 << 32)) {
        if (fast_keystream(c->ctx, out, byteCount, nonce12, initialCounter, key32) == 0) return 0;
    }
    return CSodiumShims_chacha20_ietf_keystream(out, byteCount, nonce12, initialCounter, key32);
}

int CSodiumShims_fast_chacha20_stream(void *context, void *out, size_t byteCount) {
    static const unsigned char key[32];
    static const unsigned char nonce[12];
    return CSodiumShims_chacha20_ietf_keystream_with(context, out, byteCount, nonce, 0, key);
}
