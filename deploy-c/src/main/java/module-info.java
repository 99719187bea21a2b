/**
 * The {@code c} code generator: a fully-integer model as a self-contained C99 project (straight-line model code,
 * weights and activations packed at their bit-width, one statically planned arena, a runtime written by this
 * project), built for the host with gcc or for a Cortex-M4 with arm-none-eabi-gcc and run under QEMU.
 */
module io.tinyptq.deploy.c {
    requires io.tinyptq.api;

    exports io.tinyptq.deploy.c;
    exports io.tinyptq.deploy.c.memory;

    provides io.tinyptq.api.spi.CodeGenerator with
            io.tinyptq.deploy.c.CCodeGenerator;
}
