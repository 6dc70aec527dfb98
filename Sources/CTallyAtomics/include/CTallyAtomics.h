// Per-thread recording slots and relaxed atomics on raw, padded memory.
//
// Every metric series keeps C_TALLY_SLOT_COUNT copies ("slots") of its cells.
// A thread that records claims one of the first C_TALLY_SLOT_COUNT - 1 slots
// for as long as it lives (released by a pthread key destructor when it
// exits), so it is the only writer of that slot's cells and can add with a
// plain relaxed load and store: no locked instruction on the hot path. When
// more threads record at once than there are exclusive slots, the extra ones
// share the last slot and add with atomic read-modify-write instead, so the
// totals stay exact either way. Readers sum all slots with relaxed loads.
//
// Swift has no inlinable thread-local storage, and `Synchronization.Atomic`
// cannot live in manually laid-out buffers; these `static inline` functions are
// inlined into Swift callers by the compiler.
#ifndef C_TALLY_ATOMICS_H
#define C_TALLY_ATOMICS_H

#include <stdint.h>
#include <string.h>

#pragma clang assume_nonnull begin

#define C_TALLY_SLOT_COUNT 8
#define C_TALLY_SHARED_SLOT (C_TALLY_SLOT_COUNT - 1)

/// The calling thread's slot plus one; 0 until the thread first records.
extern _Thread_local uint32_t c_tally_thread_slot_plus_one;

/// Claims a free exclusive slot for the calling thread, or the shared slot; returns slot + 1.
uint32_t c_tally_claim_slot(void);

/// The slot the calling thread records into.
static inline uint32_t c_tally_thread_slot(void) {
    uint32_t slot = c_tally_thread_slot_plus_one;
    if (__builtin_expect(slot == 0, 0)) {
        slot = c_tally_claim_slot();
    }
    return slot - 1;
}

/// Adds to an integer cell of `slot`; exclusive slots need no locked instruction.
static inline void c_tally_slot_add_i64(int64_t *address, uint32_t slot, int64_t delta) {
    if (__builtin_expect(slot != C_TALLY_SHARED_SLOT, 1)) {
        __atomic_store_n(address, __atomic_load_n(address, __ATOMIC_RELAXED) + delta, __ATOMIC_RELAXED);
    } else {
        __atomic_fetch_add(address, delta, __ATOMIC_RELAXED);
    }
}

/// Adds to a double cell (stored as its bit pattern) of `slot`.
static inline void c_tally_slot_add_f64(uint64_t *address, uint32_t slot, double delta) {
    uint64_t expected = __atomic_load_n(address, __ATOMIC_RELAXED);
    for (;;) {
        double current;
        memcpy(&current, &expected, sizeof current);
        double next = current + delta;
        uint64_t desired;
        memcpy(&desired, &next, sizeof desired);
        if (__builtin_expect(slot != C_TALLY_SHARED_SLOT, 1)) {
            __atomic_store_n(address, desired, __ATOMIC_RELAXED);
            return;
        }
        if (__atomic_compare_exchange_n(address, &expected, desired, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
            return;
        }
    }
}

/// The number of `bounds` (ascending) below `value`: the histogram bucket index.
/// Written as a count, not a search, so the compiler emits no data-dependent
/// branch; NaN compares false with every bound and lands past the last one.
static inline long c_tally_bucket_index(const double *bounds, long count, double value) {
    long index = 0;
    for (long position = 0; position < count; position++) {
        index += !(value <= bounds[position]);
    }
    return index;
}

static inline void c_tally_add_i64(int64_t *address, int64_t delta) {
    __atomic_fetch_add(address, delta, __ATOMIC_RELAXED);
}

static inline int64_t c_tally_load_i64(const int64_t *address) {
    return __atomic_load_n(address, __ATOMIC_RELAXED);
}

static inline void c_tally_store_i64(int64_t *address, int64_t value) {
    __atomic_store_n(address, value, __ATOMIC_RELAXED);
}

static inline double c_tally_load_f64(const uint64_t *address) {
    uint64_t bits = __atomic_load_n(address, __ATOMIC_RELAXED);
    double value;
    memcpy(&value, &bits, sizeof value);
    return value;
}

/// Loads a pointer published with `c_tally_publish_pointer` (acquire).
static inline void *_Nullable c_tally_load_pointer(void *_Nullable const *_Nonnull address) {
    return __atomic_load_n(address, __ATOMIC_ACQUIRE);
}

/// Publishes `desired` if the slot is still NULL; returns the pointer that is now in the slot.
static inline void *_Nullable c_tally_publish_pointer(void *_Nullable *_Nonnull address, void *_Nonnull desired) {
    void *expected = 0;
    if (__atomic_compare_exchange_n(address, &expected, desired, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        return desired;
    }
    return expected;
}


// MARK: - Per-thread random numbers (sampling decisions)

/// The calling thread's wyrand state; 0 until the thread first draws.
extern _Thread_local uint64_t c_tally_thread_random_state;

/// Seeds the calling thread's random state (from the clock, the thread and a
/// global counter, never 0) and returns it.
uint64_t c_tally_seed_thread_random(void);

/// wyrand (Wang Yi): one add and one 64×64→128 multiply per number. Each
/// thread has its own state, so drawing takes no lock and no atomic
/// instruction; not cryptographic.
static inline uint64_t c_tally_thread_random(void) {
    uint64_t state = c_tally_thread_random_state;
    if (__builtin_expect(state == 0, 0)) {
        state = c_tally_seed_thread_random();
    }
    state += 0xa0761d6478bd642fULL;
    c_tally_thread_random_state = state;
    __uint128_t product = (__uint128_t)state * (state ^ 0xe7037ed1a0b428dbULL);
    return (uint64_t)(product >> 64) ^ (uint64_t)product;
}

#pragma clang assume_nonnull end


// ---- Logarithmic bins of ratio 2^(1/64) (TallyMetrics' LogarithmicMapping, native histogram schema 6).

/// The low 52 bits (mantissa) of 2^(k/64) for k = 0…63 (as exp2 computes them; checked by the tests).
static const uint64_t c_tally_boundary_mantissas[64] = {
    0x0000000000000ull, 0x02C9A3E778061ull, 0x059B0D3158574ull, 0x0874518759BC8ull,
    0x0B5586CF9890Full, 0x0E3EC32D3D1A2ull, 0x11301D0125B51ull, 0x1429AAEA92DE0ull,
    0x172B83C7D517Bull, 0x1A35BEB6FCB75ull, 0x1D4873168B9AAull, 0x2063B88628CD6ull,
    0x2387A6E756238ull, 0x26B4565E27CDDull, 0x29E9DF51FDEE1ull, 0x2D285A6E4030Bull,
    0x306FE0A31B715ull, 0x33C08B26416FFull, 0x371A7373AA9CBull, 0x3A7DB34E59FF7ull,
    0x3DEA64C123422ull, 0x4160A21F72E2Aull, 0x44E086061892Dull, 0x486A2B5C13CD0ull,
    0x4BFDAD5362A27ull, 0x4F9B2769D2CA7ull, 0x5342B569D4F82ull, 0x56F4736B527DAull,
    0x5AB07DD485429ull, 0x5E76F15AD2148ull, 0x6247EB03A5585ull, 0x6623882552225ull,
    0x6A09E667F3BCDull, 0x6DFB23C651A2Full, 0x71F75E8EC5F74ull, 0x75FEB564267C9ull,
    0x7A11473EB0187ull, 0x7E2F336CF4E62ull, 0x82589994CCE13ull, 0x868D99B4492EDull,
    0x8ACE5422AA0DBull, 0x8F1AE99157736ull, 0x93737B0CDC5E5ull, 0x97D829FDE4E50ull,
    0x9C49182A3F090ull, 0xA0C667B5DE565ull, 0xA5503B23E255Dull, 0xA9E6B5579FDBFull,
    0xAE89F995AD3ADull, 0xB33A2B84F15FBull, 0xB7F76F2FB5E47ull, 0xBCC1E904BC1D2ull,
    0xC199BDD85529Cull, 0xC67F12E57D14Bull, 0xCB720DCEF9069ull, 0xD072D4A07897Cull,
    0xD5818DCFBA487ull, 0xDA9E603DB3285ull, 0xDFC97337B9B5Full, 0xE502EE78B3FF6ull,
    0xEA4AFA2A490DAull, 0xEFA1BEE615A27ull, 0xF50765B6E4540ull, 0xFA7C1819E90D8ull,
};

/// For each of 256 slices of the mantissa range [1, 2): how many boundaries lie below the slice's smallest mantissa.
static const uint8_t c_tally_slice_start[256] = {
    0, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 5, 6, 6, 6, 7, 7, 7, 8, 8, 8, 9, 9, 9, 10, 10, 10, 11, 11,
    11, 12, 12, 12, 13, 13, 13, 14, 14, 14, 15, 15, 15, 15, 16, 16, 16, 17, 17, 17, 18, 18, 18, 18, 19, 19, 19, 20, 20, 20, 21, 21,
    21, 21, 22, 22, 22, 23, 23, 23, 23, 24, 24, 24, 25, 25, 25, 25, 26, 26, 26, 26, 27, 27, 27, 28, 28, 28, 28, 29, 29, 29, 29, 30,
    30, 30, 30, 31, 31, 31, 31, 32, 32, 32, 32, 33, 33, 33, 34, 34, 34, 34, 35, 35, 35, 35, 36, 36, 36, 36, 36, 37, 37, 37, 37, 38,
    38, 38, 38, 39, 39, 39, 39, 40, 40, 40, 40, 41, 41, 41, 41, 41, 42, 42, 42, 42, 43, 43, 43, 43, 44, 44, 44, 44, 44, 45, 45, 45,
    45, 46, 46, 46, 46, 46, 47, 47, 47, 47, 48, 48, 48, 48, 48, 49, 49, 49, 49, 49, 50, 50, 50, 50, 51, 51, 51, 51, 51, 52, 52, 52,
    52, 52, 53, 53, 53, 53, 53, 54, 54, 54, 54, 54, 55, 55, 55, 55, 55, 56, 56, 56, 56, 56, 57, 57, 57, 57, 57, 58, 58, 58, 58, 58,
    59, 59, 59, 59, 59, 59, 60, 60, 60, 60, 60, 61, 61, 61, 61, 61, 62, 62, 62, 62, 62, 62, 63, 63, 63, 63, 63, 64, 64, 64, 64, 64,
};

/// The bin of a positive, finite, normal double: the i with 2^((i-1)/64) < value <= 2^(i/64).
static inline int64_t c_tally_log_bin_index(double value) {
    union { double value; uint64_t bits; } pun = { value };
    int64_t exponent = (int64_t)((pun.bits >> 52) & 0x7FF) - 1023;
    uint64_t mantissa = pun.bits & 0x000FFFFFFFFFFFFFull;
    int64_t k = c_tally_slice_start[mantissa >> 44];
    // k counts the boundaries strictly below the mantissa (mantissas order as the values in one octave).
    while (k < 64 && c_tally_boundary_mantissas[k] < mantissa) {
        k++;
    }
    return exponent * 64 + k;
}

#endif
