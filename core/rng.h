/*
 * core/rng.h — the one random number generator of tcat.
 *
 * xoshiro256** seeded through splitmix64 (Blackman & Vigna 2018): fast,
 * good enough for shuffles and initialisations, and identical on every
 * machine, so the same seed gives the same model byte for byte. Each user
 * keeps its own state (no global generator).
 */
#ifndef TCAT_CORE_RNG_H
#define TCAT_CORE_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct tcat_rng {
    uint64_t s[4];
} tcat_rng;

static inline uint64_t tcat_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Seeds r from seed (any value, 0 included). */
static inline void tcat_rng_seed(tcat_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = tcat_splitmix64(&seed);
}

static inline uint64_t tcat_rng_next(tcat_rng *r)
{
    uint64_t *s = r->s;
    uint64_t x = s[1] * 5;
    uint64_t result = ((x << 7) | (x >> 57)) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = (s[3] << 45) | (s[3] >> 19);
    return result;
}

/* Uniform in [0, n) for n > 0 (Lemire's multiply-shift, tiny bias
 * irrelevant for n far below 2^64). */
static inline uint64_t tcat_rng_below(tcat_rng *r, uint64_t n)
{
    return (uint64_t)(((unsigned __int128)tcat_rng_next(r) * n) >> 64);
}

/* Uniform in [0, 1). */
static inline double tcat_rng_uniform(tcat_rng *r)
{
    return (double)(tcat_rng_next(r) >> 11) * 0x1.0p-53;
}

/* Fisher-Yates shuffle of n size_t values. */
static inline void tcat_rng_shuffle(tcat_rng *r, size_t *v, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)tcat_rng_below(r, i);
        size_t t = v[i - 1];
        v[i - 1] = v[j];
        v[j] = t;
    }
}

#endif
