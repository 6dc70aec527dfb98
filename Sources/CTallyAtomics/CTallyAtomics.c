#include "CTallyAtomics.h"

#include <pthread.h>
#include <time.h>

_Thread_local uint64_t c_tally_thread_random_state = 0;

/// Distinguishes threads seeded within the same clock tick.
static uint64_t random_seed_counter = 0;

uint64_t c_tally_seed_thread_random(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    uint64_t z = ((uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec)
        ^ (uint64_t)(uintptr_t)&c_tally_thread_random_state
        ^ (__atomic_fetch_add(&random_seed_counter, 1, __ATOMIC_RELAXED) * 0x9E3779B97F4A7C15ULL);
    // SplitMix64 finaliser, so neighbouring seeds give unrelated states.
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    if (z == 0) z = 0x9E3779B97F4A7C15ULL;
    c_tally_thread_random_state = z;
    return z;
}

_Thread_local uint32_t c_tally_thread_slot_plus_one = 0;

/// Bit i set: exclusive slot i is held by a live thread.
static uint32_t slots_in_use = 0;
static pthread_key_t release_key;
static pthread_once_t release_key_once = PTHREAD_ONCE_INIT;

/// Runs at thread exit for threads that hold an exclusive slot; the release
/// ordering publishes the thread's last plain stores to the slot's next owner.
static void release_slot(void *value) {
    uint32_t slot = (uint32_t)(uintptr_t)value - 1;
    __atomic_fetch_and(&slots_in_use, ~(1u << slot), __ATOMIC_RELEASE);
}

static void make_release_key(void) {
    pthread_key_create(&release_key, release_slot);
}

uint32_t c_tally_claim_slot(void) {
    pthread_once(&release_key_once, make_release_key);
    uint32_t in_use = __atomic_load_n(&slots_in_use, __ATOMIC_ACQUIRE);
    for (;;) {
        uint32_t slot = 0;
        while (slot < C_TALLY_SHARED_SLOT && (in_use & (1u << slot))) {
            slot++;
        }
        if (slot == C_TALLY_SHARED_SLOT) {
            c_tally_thread_slot_plus_one = C_TALLY_SHARED_SLOT + 1;
            return C_TALLY_SHARED_SLOT + 1;
        }
        if (__atomic_compare_exchange_n(&slots_in_use, &in_use, in_use | (1u << slot), 0,
                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            c_tally_thread_slot_plus_one = slot + 1;
            pthread_setspecific(release_key, (void *)(uintptr_t)(slot + 1));
            return slot + 1;
        }
    }
}
