/* The host platform (written by tinyptq): no instruction counter. */
#include "tinyptq_platform.h"

void platform_init(void) {
}

int platform_counts_instructions(void) {
    return 0;
}

uint64_t platform_instructions(void) {
    return 0;
}
