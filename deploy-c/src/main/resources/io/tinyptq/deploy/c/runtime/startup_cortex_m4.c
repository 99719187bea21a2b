/* Start-up code written by tinyptq for the Cortex-M4 of QEMU's mps2-an386 board (linker script cortex_m4.ld).
 * The vector table sits at address 0: initial stack pointer (top of RAM), reset handler, and a handler for the
 * faults and exceptions that ends the run with status 99 (no interrupt is enabled). The reset handler copies .data
 * from its load address in flash to RAM, zeroes .bss, opens the semihosting console (newlib's rdimon: stdin,
 * stdout, stderr) and calls exit(main()), which ends QEMU through the semihosting exit call. */
#include <stdint.h>
#include <stdlib.h>

extern uint32_t __stack_top;
extern uint32_t __data_start, __data_end, __data_load;
extern uint32_t __bss_start__, __bss_end__;

int main(void);
void initialise_monitor_handles(void);
void tinyptq_reset_handler(void);

/* A fault ends the run through semihosting with a nonzero status instead of spinning forever. */
static void tinyptq_fault_handler(void) {
    exit(99);
}

__attribute__((section(".vectors"), used))
static void (*const tinyptq_vectors[16])(void) = {
    (void (*)(void)) (uintptr_t) &__stack_top,
    tinyptq_reset_handler,
    tinyptq_fault_handler, /* NMI */
    tinyptq_fault_handler, /* HardFault */
    tinyptq_fault_handler, /* MemManage */
    tinyptq_fault_handler, /* BusFault */
    tinyptq_fault_handler, /* UsageFault */
    0, 0, 0, 0,
    tinyptq_fault_handler, /* SVCall */
    tinyptq_fault_handler, /* DebugMonitor */
    0,
    tinyptq_fault_handler, /* PendSV */
    tinyptq_fault_handler, /* SysTick */
};

void tinyptq_reset_handler(void) {
    uint32_t *dst = &__data_start;
    const uint32_t *src = &__data_load;
    while (dst < &__data_end) {
        *dst++ = *src++;
    }
    for (dst = &__bss_start__; dst < &__bss_end__; dst++) {
        *dst = 0;
    }
    initialise_monitor_handles();
    exit(main());
}
