package io.tinyptq.backend.cpu.engine;

/**
 * One differentiable operation of a {@link Graph}. {@link #forward} writes {@link #out} for a batch of
 * {@code n}; {@link #backward} adds the gradient of the loss into the gradients of those inputs that need one
 * ({@link Value#requiresGrad}, resolved by the graph before each backward pass).
 */
abstract class Node {
    final Value[] inputs;
    Value out;

    Node(Value... inputs) {
        this.inputs = inputs;
    }

    abstract void forward(int n);

    abstract void backward(int n);

    static boolean needs(Value v) {
        return v != null && v.requiresGrad;
    }
}
