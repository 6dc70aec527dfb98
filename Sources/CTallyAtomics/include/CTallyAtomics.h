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

#endif
