package io.tinyptq.backend.cpu.engine;

import java.util.List;

/** Updates parameters in place from their gradients. */
public sealed interface Optimizer permits Sgd, Adam {

    /** One update of every parameter from its current gradient (which is left as is). */
    void step();

    /** The parameters updated. */
    List<Param> params();
}
