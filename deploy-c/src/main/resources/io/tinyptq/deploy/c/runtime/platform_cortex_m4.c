/* The Cortex-M4 platform (written by tinyptq) for QEMU's mps2-an386 board run with -icount shift=0: every guest
 * instruction advances QEMU's virtual clock by exactly 1 ns, so an exact instruction count is a reading of virtual
 * time at a 1 ns resolution.
 *
 * No timer of the board reads that directly: SysTick (clock source = CPU clock), the CMSDK APB timers and the
 * FPGAIO counter all tick at the board's 25 MHz system clock, one tick per 40 instructions. This file uses CMSDK
 * timer 0 (0x40000000, a 32-bit down-counter from 0xFFFFFFFF, no interrupt: it wraps once per 2^32 ticks, about
 * 1.7e11 instructions, which the wrap check below extends to 64 bits) and recovers the instruction within the
 * 40-instruction tick with a vernier, written in assembly so that its own instruction count is known exactly:
 *   1. a 4-instruction loop (ldr, adds, cmp, beq) polls the counter until it changes; the read that sees the new
 *      value N (instruction R) is 0 to 3 instructions after the tick edge E;
 *   2. 33 nops, then three single-instruction reads at R+37, R+38, R+39: the next edge comes at E+40, so the
 *      number of those reads still seeing N (0..3) is E - (R-3). That gives the virtual time of R exactly:
 *      40 * ticks(N) + 3 - count.
 * platform_instructions() returns the virtual time of its entry less every instruction spent inside earlier calls
 * to itself (the variable wait of step 1 included), so the difference of two calls counts the instructions
 * executed between them, plus a constant of the calls' own C code.
 *
 * Verified by QemuCortexM4Test.instructionCountsAreExact (deploy-c tests): between two calls, loops of n
 * iterations of "subs; bne" (2n instructions) and of "subs; nop; bne" (3n) measure 2n + c2 and 3n + c3 for every
 * n from 0 to 400, c2 and c3 constants, after delays that put the timer at every phase; dropping the vernier's
 * fine term (3 - count) makes the same measurements scatter over 14 values. Read raw, SysTick and timer 0 moved
 * by about n / 20 ticks for the 2n-instruction loop, in steps of one tick: 40 instructions. */
#include <stdint.h>
#include "tinyptq_platform.h"

#define TIMER0_CTRL (*(volatile uint32_t *) 0x40000000u)
#define TIMER0_VALUE (*(volatile uint32_t *) 0x40000004u)
#define TIMER0_RELOAD (*(volatile uint32_t *) 0x40000008u)

#define INSTRUCTIONS_PER_TICK 40u
/* Instructions of the vernier from its first instruction to the read R, less 4 per extra loop iteration. */
#define VERNIER_TO_READ 3u
/* Instructions of the vernier from R to its last instruction (included). */
#define VERNIER_FROM_READ 45u

static uint32_t last_value = 0xFFFFFFFFu;
static uint32_t wraps;
static uint64_t spent_inside;

struct vernier {
    uint32_t value;      /* N: the counter just after the edge */
    uint32_t iterations; /* iterations of the polling loop */
    uint32_t late_sum;   /* sum of the three late reads */
};

/* Straight-line except for the polling loop: the instruction count is VERNIER_TO_READ + 4 * (iterations - 1)
 * to the read R, then VERNIER_FROM_READ to the end. */
static void __attribute__((noinline)) vernier(volatile uint32_t *counter, struct vernier *out) {
    uint32_t first, value, iterations, a, b, c;
    __asm volatile(
        "ldr %[first], [%[counter]]\n\t"
        "movs %[iterations], #0\n\t"
        "1:\n\t"
        "ldr %[value], [%[counter]]\n\t" /* R on the last iteration */
        "adds %[iterations], %[iterations], #1\n\t"
        "cmp %[value], %[first]\n\t"
        "beq 1b\n\t"
        ".rept 33\n\t"
        "nop\n\t"
        ".endr\n\t"
        "ldr %[a], [%[counter]]\n\t" /* R+37 */
        "ldr %[b], [%[counter]]\n\t" /* R+38 */
        "ldr %[c], [%[counter]]\n\t" /* R+39 */
        "adds %[a], %[a], %[b]\n\t"
        "adds %[a], %[a], %[c]\n\t"
        "str %[value], [%[out], #0]\n\t"
        "str %[iterations], [%[out], #4]\n\t"
        "str %[a], [%[out], #8]\n\t" /* R+44 */
        : [first] "=&r"(first), [value] "=&r"(value), [iterations] "=&r"(iterations), [a] "=&r"(a), [b] "=&r"(b),
          [c] "=&r"(c)
        : [counter] "r"(counter), [out] "r"(out)
        : "cc", "memory");
}

void platform_init(void) {
    TIMER0_CTRL = 0;
    TIMER0_RELOAD = 0xFFFFFFFFu;
    TIMER0_VALUE = 0xFFFFFFFFu;
    TIMER0_CTRL = 1; /* enable, system clock, no interrupt */
}

int platform_counts_instructions(void) {
    return 1;
}

uint64_t platform_instructions(void) {
    struct vernier v;
    vernier(&TIMER0_VALUE, &v);
    if (v.value > last_value) {
        wraps++;
    }
    last_value = v.value;
    uint64_t ticks = ((uint64_t) wraps << 32) | (uint32_t) ~v.value;
    /* The three late reads are each N or N - 1: N - 1 + (count of reads still at N), so count = sum - 3 (N - 1). */
    uint32_t still = v.late_sum - 3u * (v.value - 1u);
    uint64_t at_read = ticks * INSTRUCTIONS_PER_TICK + 3u - still;
    uint64_t to_read = VERNIER_TO_READ + 4u * (uint64_t) (v.iterations - 1u);
    uint64_t entry = at_read - to_read;
    uint64_t result = entry - spent_inside;
    spent_inside += to_read + VERNIER_FROM_READ;
    return result;
}
