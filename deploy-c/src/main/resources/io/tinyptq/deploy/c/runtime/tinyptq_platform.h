/* What the harness needs from a platform (written by tinyptq). */
#ifndef TINYPTQ_PLATFORM_H
#define TINYPTQ_PLATFORM_H
#include <stdint.h>

/* Prepares the platform (counters, FPU off: the integer path needs none). */
void platform_init(void);
/* Whether platform_instructions() counts executed instructions. */
int platform_counts_instructions(void);
/* Instructions executed so far (monotonic); 0 where the platform does not count them. */
uint64_t platform_instructions(void);

#endif
