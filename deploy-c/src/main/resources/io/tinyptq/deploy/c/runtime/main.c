/* Test harness written by tinyptq: reads input tensors (int8 codes, one byte per element) back to back from stdin,
 * runs the model on each and writes its output tensor (int8 codes) to stdout. Where the platform counts executed
 * instructions, one line "tinyptq-instructions N" per inference goes to stderr. */
#include <stdint.h>
#include <stdio.h>
#include "model.h"
#include "tinyptq_platform.h"

static int8_t input[TINYPTQ_INPUT_SIZE];
static int8_t output[TINYPTQ_OUTPUT_SIZE];

int main(void) {
    platform_init();
    while (fread(input, 1, sizeof input, stdin) == sizeof input) {
        uint64_t start = platform_instructions();
        tinyptq_model_run(input, output);
        uint64_t end = platform_instructions();
        if (fwrite(output, 1, sizeof output, stdout) != sizeof output) {
            return 1;
        }
        if (platform_counts_instructions()) {
            fprintf(stderr, "tinyptq-instructions %lu\n", (unsigned long) (end - start));
        }
    }
    fflush(stdout);
    return 0;
}
