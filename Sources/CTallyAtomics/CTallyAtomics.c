#include "CTallyAtomics.h"

uint32_t c_tally_next_thread_index = 0;
_Thread_local uint32_t c_tally_thread_index = 0;
