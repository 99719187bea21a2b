/** Memory layout of generated code: bit packing of sub-8-bit tensors and the arena planner. */
package io.tinyptq.deploy.c.memory;
