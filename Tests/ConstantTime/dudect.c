/* dudect-style timing test of the two SIMD kernels (after Reparaz, Balasch and Verbauwhede, "Dude, is my
   code constant time?", DATE 2017; written for this project).

   For each kernel and secret input, measurements alternate at random between two classes of secret
   values, fixed (all zero) and random, with every public input drawn the same way for both; each call is
   timed with the time-stamp counter. Welch's t statistic between the classes is kept online (Welford
   means and variances) for the raw timings, for the timings cropped at 100 increasing percentiles (to
   cut off interrupts and other noise, as dudect does) and for a second-order test (squared distance from
   the mean). The result per kernel is the largest |t| over the tests that have enough measurements;
   |t| >= 4.5 is evidence that the timing depends on the secret.

     x25519_batch   secret: the scalar (fixed: 32 zero bytes; random: fresh bytes); 8 random peer points
     chacha20_add   secret: the key (target random in both classes), and separately the target vector
                    (key random in both classes); 1024 elements of 32-bit words, random nonce and counter
     control        an early-exit comparison of 512 secret bytes with zero, which must be flagged
                    (|t| >= 4.5): evidence that the measurement can see a leak at all

   The kernels are the package's own C files compiled at -O2 (as in a release build) and linked in:
   .ci/timing-test builds and runs this. Usage: dudect [measurements per test] [--only NAME]. */
#include "CSodiumShims.h"
#include <math.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <x86intrin.h>

enum { PERCENTILES = 100, TESTS = 2 + PERCENTILES, BATCH = 2000, ENOUGH = 10000 };
static const double THRESHOLD = 4.5;

/* ---- Welch's t-test, online. ---- */

typedef struct {
    double n[2], mean[2], m2[2];
} ttest;

static void ttest_push(ttest *t, double x, int cls) {
    t->n[cls] += 1;
    double delta = x - t->mean[cls];
    t->mean[cls] += delta / t->n[cls];
    t->m2[cls] += delta * (x - t->mean[cls]);
}

static double ttest_value(const ttest *t) {
    if (t->n[0] < 2 || t->n[1] < 2) return 0;
    double v0 = t->m2[0] / (t->n[0] - 1), v1 = t->m2[1] / (t->n[1] - 1);
    double se = sqrt(v0 / t->n[0] + v1 / t->n[1]);
    return se > 0 ? (t->mean[0] - t->mean[1]) / se : 0;
}

/* ---- One timing experiment. ---- */

typedef struct experiment experiment;
struct experiment {
    const char *name;    /* kernel */
    const char *secret;  /* what differs between the classes */
    size_t inputBytes;   /* per measurement: the secret input (class-dependent) and the public one */
    size_t publicBytes;
    void (*setup)(experiment *);
    /* Copies measurement i's inputs into the working buffers (untimed), then runs the kernel (timed). */
    void (*prepare)(experiment *, const uint8_t *secret, const uint8_t *publicInput);
    void (*run)(experiment *);
    void *state;
};

static inline uint64_t cycles(void) {
    _mm_lfence();
    uint64_t t = __rdtsc();
    _mm_lfence();
    return t;
}

static int compare_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

typedef struct {
    double maxT;
    const char *test;
    int percentile;
    double n;
    double meanCycles;  /* raw, both classes */
    double resolution;  /* smallest mean difference (cycles) that would reach the threshold, best first-order test */
} result;

static double ttest_se(const ttest *t) {
    if (t->n[0] < 2 || t->n[1] < 2) return INFINITY;
    return sqrt(t->m2[0] / (t->n[0] - 1) / t->n[0] + t->m2[1] / (t->n[1] - 1) / t->n[1]);
}

static result measure(experiment *e, size_t measurements) {
    uint8_t *secrets = malloc(BATCH * e->inputBytes);
    uint8_t *publics = malloc(BATCH * (e->publicBytes ? e->publicBytes : 1));
    uint8_t classes[BATCH];
    uint64_t times[BATCH];
    static ttest tests[TESTS];
    memset(tests, 0, sizeof tests);
    uint64_t thresholds[PERCENTILES];
    double warmMean = 0;
    int warm = 1;
    if (secrets == NULL || publics == NULL) abort();
    e->setup(e);
    /* Inputs come from libsodium's ChaCha20 generator, freshly seeded from the system for every batch. */
    uint8_t seed[randombytes_SEEDBYTES];
    for (size_t done = 0; done < measurements + BATCH;) {
        /* Classes and inputs for a whole batch first, so that preparing them is never timed. */
        randombytes_buf(seed, sizeof seed);
        randombytes_buf_deterministic(secrets, BATCH * e->inputBytes, seed);
        seed[0] ^= 1;
        if (e->publicBytes) randombytes_buf_deterministic(publics, BATCH * e->publicBytes, seed);
        seed[0] ^= 2;
        randombytes_buf_deterministic(classes, sizeof classes, seed);
        for (size_t i = 0; i < BATCH; i++) {
            classes[i] &= 1;
            if (classes[i] == 0) memset(secrets + i * e->inputBytes, 0, e->inputBytes); /* the fixed class */
        }
        for (size_t i = 0; i < BATCH; i++) {
            e->prepare(e, secrets + i * e->inputBytes, publics + i * e->publicBytes);
            uint64_t start = cycles();
            e->run(e);
            times[i] = cycles() - start;
        }
        if (warm) { /* the first batch only sets the cropping thresholds and the mean */
            uint64_t sorted[BATCH];
            memcpy(sorted, times, sizeof sorted);
            qsort(sorted, BATCH, sizeof sorted[0], compare_u64);
            for (int k = 0; k < PERCENTILES; k++) {
                double p = 1 - pow(0.5, 10.0 * (k + 1) / PERCENTILES);
                thresholds[k] = sorted[(size_t)(p * BATCH)];
            }
            for (size_t i = 0; i < BATCH; i++) warmMean += (double)sorted[i] / BATCH;
            warm = 0;
            done += BATCH;
            continue;
        }
        for (size_t i = 0; i < BATCH && done < measurements + BATCH; i++, done++) {
            double x = (double)times[i];
            ttest_push(&tests[0], x, classes[i]);
            ttest_push(&tests[1], (x - warmMean) * (x - warmMean), classes[i]); /* second order */
            for (int k = 0; k < PERCENTILES; k++) {
                if (times[i] < thresholds[k]) ttest_push(&tests[2 + k], x, classes[i]);
            }
        }
    }
    result r = {0, "raw", -1, tests[0].n[0] + tests[0].n[1], 0, INFINITY};
    r.meanCycles = (tests[0].mean[0] * tests[0].n[0] + tests[0].mean[1] * tests[0].n[1]) / r.n;
    for (int k = 0; k < TESTS; k++) {
        double n = tests[k].n[0] + tests[k].n[1];
        if (n < ENOUGH) continue;
        if (k != 1 && THRESHOLD * ttest_se(&tests[k]) < r.resolution) r.resolution = THRESHOLD * ttest_se(&tests[k]);
        double t = fabs(ttest_value(&tests[k]));
        if (t > r.maxT) {
            r.maxT = t;
            r.test = k == 0 ? "raw" : k == 1 ? "second order" : "cropped";
            r.percentile = k >= 2 ? k - 2 : -1;
            r.n = n;
        }
    }
    free(secrets);
    free(publics);
    return r;
}

/* ---- x25519_batch: the scalar is secret, 8 peer points per call. ---- */

typedef struct {
    uint8_t scalar[32], points[8][32], out[8][32];
} x25519_state;

static void x25519_setup(experiment *e) { e->state = calloc(1, sizeof(x25519_state)); }

static void x25519_prepare(experiment *e, const uint8_t *secret, const uint8_t *publicInput) {
    x25519_state *s = e->state;
    memcpy(s->scalar, secret, 32);
    memcpy(s->points, publicInput, sizeof s->points);
    for (int i = 0; i < 8; i++) s->points[i][31] &= 0x7f;
}

static void x25519_run(experiment *e) {
    x25519_state *s = e->state;
    CSodiumShims_x25519_batch(s->out, s->scalar, s->points, 8);
}

/* ---- chacha20_add: 1024 32-bit-word elements (4 groups of 16 blocks). ---- */

enum { CHACHA_COUNT = 1024 };

typedef struct {
    uint64_t target[CHACHA_COUNT];
    uint8_t key[32], nonce[12];
    uint32_t counter;
    int secretIsKey;
} chacha_state;

static void chacha_setup_key(experiment *e) {
    chacha_state *s = calloc(1, sizeof(chacha_state));
    s->secretIsKey = 1;
    e->state = s;
}

static void chacha_setup_target(experiment *e) { e->state = calloc(1, sizeof(chacha_state)); }

/* publicInput: nonce (12) || counter (4) || the non-secret one of key (32) and target (8 * count). */
static void chacha_prepare(experiment *e, const uint8_t *secret, const uint8_t *publicInput) {
    chacha_state *s = e->state;
    memcpy(s->nonce, publicInput, 12);
    memcpy(&s->counter, publicInput + 12, 4);
    s->counter &= 0x0fffffffu; /* far from the 2^32 block limit: every call does all four groups */
    const uint8_t *other = publicInput + 16;
    if (s->secretIsKey) {
        memcpy(s->key, secret, 32);
        memcpy(s->target, other, sizeof s->target);
    } else {
        memcpy(s->target, secret, sizeof s->target);
        memcpy(s->key, other, 32);
    }
    for (size_t i = 0; i < CHACHA_COUNT; i++) s->target[i] &= 0xffffffffu;
}

static void chacha_run(experiment *e) {
    chacha_state *s = e->state;
    CSodiumShims_chacha20_add(2, s->target, CHACHA_COUNT, 4, s->key, s->nonce, s->counter, 0xffffffffu, 0);
}

/* ---- Control: a comparison that stops at the first differing byte, which the test must flag. ---- */

typedef struct {
    uint8_t secret[512];
    volatile int result;
} control_state;

static void control_setup(experiment *e) { e->state = calloc(1, sizeof(control_state)); }

static void control_prepare(experiment *e, const uint8_t *secret, const uint8_t *publicInput) {
    (void)publicInput;
    memcpy(((control_state *)e->state)->secret, secret, 512);
}

__attribute__((noinline)) static int leaky_is_zero(const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (p[i] != 0) return 0;
    }
    return 1;
}

static void control_run(experiment *e) {
    control_state *s = e->state;
    s->result = leaky_is_zero(s->secret, sizeof s->secret);
}

int main(int argc, char **argv) {
    size_t measurements = 200000;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
            only = argv[++i];
        } else {
            char *end;
            unsigned long long n = strtoull(argv[i], &end, 10);
            if (*end != 0 || n < 2 * ENOUGH) {
                fprintf(stderr, "usage: %s [measurements per test, >= %d] [--only x25519_batch|chacha20_add|control]\n", argv[0],
                        2 * ENOUGH);
                return 2;
            }
            measurements = (size_t)n;
        }
    }
    if (sodium_init() < 0) return 2;
    if (!CSodiumShims_x25519_batch_available() || !CSodiumShims_chacha20_add_level_available(2)) {
        fprintf(stderr, "the AVX-512 kernels are unavailable on this CPU (or failed their self-tests)\n");
        return 3;
    }
    experiment experiments[] = {
        {"x25519_batch", "scalar", 32, 8 * 32, x25519_setup, x25519_prepare, x25519_run, NULL},
        {"chacha20_add", "key", 32, 16 + 8 * CHACHA_COUNT, chacha_setup_key, chacha_prepare, chacha_run, NULL},
        {"chacha20_add", "target", 8 * CHACHA_COUNT, 16 + 32, chacha_setup_target, chacha_prepare, chacha_run, NULL},
        /* Must FAIL: shows that the measurement can see a leak at all. */
        {"control", "bytes", 512, 0, control_setup, control_prepare, control_run, NULL},
    };
    printf("dudect-style timing test: fixed (zero) vs random secret, %zu measurements per test, pass if max |t| < %.1f\n",
           measurements, THRESHOLD);
    int failed = 0;
    for (size_t i = 0; i < sizeof experiments / sizeof experiments[0]; i++) {
        experiment *e = &experiments[i];
        if (only != NULL && strcmp(only, e->name) != 0) continue;
        result r = measure(e, measurements);
        char where[64];
        if (r.percentile >= 0) snprintf(where, sizeof where, "cropped below percentile %d of 100", r.percentile);
        else snprintf(where, sizeof where, "%s", r.test);
        const int isControl = strcmp(e->name, "control") == 0;
        const int pass = isControl ? r.maxT >= THRESHOLD : r.maxT < THRESHOLD;
        failed |= !pass;
        printf("%-13s secret %-7s max |t| = %8.2f (%s, %.0f measurements)  %s\n", e->name, e->secret, r.maxT, where,
               r.n, isControl ? (pass ? "leak detected, as it must be" : "FAIL: the deliberate leak went unseen")
                              : (pass ? "pass" : "FAIL"));
        printf("%-13s   %.0f cycles per call on average; a class difference of about %.1f cycles would reach |t| = %.1f\n",
               "", r.meanCycles, r.resolution, THRESHOLD);
        fflush(stdout);
        free(e->state);
    }
    return failed ? 1 : 0;
}
