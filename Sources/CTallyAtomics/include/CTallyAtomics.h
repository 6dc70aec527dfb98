// Relaxed atomics on raw, cache-line-padded memory and a per-thread stripe index.
//
// Swift has no inlinable thread-local storage, and `Synchronization.Atomic` cannot
// live in manually laid-out, padded buffers. These `static inline` functions are
// imported and inlined by the Swift compiler, so the hot recording paths of
// TallyMetrics compile to one thread-local load plus one `lock xadd`.
#ifndef C_TALLY_ATOMICS_H
#define C_TALLY_ATOMICS_H

#include <stdint.h>
#include <string.h>

#pragma clang assume_nonnull begin

extern uint32_t c_tally_next_thread_index;
extern _Thread_local uint32_t c_tally_thread_index;

/// A small integer unique to the calling thread (assigned round-robin on first use).
static inline uint32_t c_tally_thread_stripe(void) {
    uint32_t index = c_tally_thread_index;
    if (__builtin_expect(index == 0, 0)) {
        index = __atomic_add_fetch(&c_tally_next_thread_index, 1, __ATOMIC_RELAXED);
        if (index == 0) { index = 1; }
        c_tally_thread_index = index;
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

static inline int64_t c_tally_exchange_i64(int64_t *address, int64_t value) {
    return __atomic_exchange_n(address, value, __ATOMIC_RELAXED);
}

/// Adds to a double stored as its bit pattern; a compare-and-swap loop.
static inline void c_tally_add_f64(uint64_t *address, double delta) {
    uint64_t expected = __atomic_load_n(address, __ATOMIC_RELAXED);
    for (;;) {
        double current;
        memcpy(&current, &expected, sizeof current);
        double next = current + delta;
        uint64_t desired;
        memcpy(&desired, &next, sizeof desired);
        if (__atomic_compare_exchange_n(address, &expected, desired, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
            return;
        }
    }
}

static inline double c_tally_load_f64(const uint64_t *address) {
    uint64_t bits = __atomic_load_n(address, __ATOMIC_RELAXED);
    double value;
    memcpy(&value, &bits, sizeof value);
    return value;
}

static inline void c_tally_store_f64(uint64_t *address, double value) {
    uint64_t bits;
    memcpy(&bits, &value, sizeof bits);
    __atomic_store_n(address, bits, __ATOMIC_RELAXED);
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

#pragma clang assume_nonnull end

#endif
