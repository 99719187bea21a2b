package io.tinyptq.deploy.c;

import io.tinyptq.api.integer.IntegerModel;
import io.tinyptq.api.model.Op;
import io.tinyptq.api.spi.CodeGenerator;
import io.tinyptq.deploy.c.memory.ArenaPlanner;

/** {@code manifest.json} of a generated project: its bytes, the bits of every tensor and the planner's layout. */
final class Manifest {
    private Manifest() {}

    /** @param arithmetic the integer runtime's arithmetic that computes what the project computes */
    static String json(IntegerModel model, ModelSource src, CodeGenerator.GeneratedCode code, String arithmetic) {
        StringBuilder s = new StringBuilder("{\n");
        s.append("  \"model\": ").append(str(model.graph().name())).append(",\n");
        s.append("  \"generator\": \"tinyptq c\",\n");
        s.append("  \"arithmetic\": ").append(str(arithmetic)).append(",\n");
        s.append("  \"constant_bytes\": ").append(code.flashBytes()).append(",\n");
        s.append("  \"arena_bytes\": ").append(code.arenaBytes()).append(",\n");
        s.append("  \"layers\": [");
        String sep = "\n";
        for (Op op : model.graph().ops()) {
            s.append(sep)
                    .append("    {\"name\": ")
                    .append(str(op.name()))
                    .append(", \"op\": ")
                    .append(str(op.type()));
            if (op instanceof Op.Layer l) {
                s.append(", \"weight_bits\": ").append(src.weightBits().get(l.name()));
            }
            s.append(", \"output_bits\": ")
                    .append(src.storage().get(op.output()).bits())
                    .append('}');
            sep = ",\n";
        }
        s.append("\n  ],\n");
        s.append("  \"planner\": {\"algorithm\": \"greedy by size\", \"alignment\": ")
                .append(ModelSource.ALIGNMENT)
                .append(", \"buffers\": [");
        sep = "\n";
        for (ArenaPlanner.Buffer b : src.buffers()) {
            ModelSource.Storage st = src.storage().get(b.name());
            s.append(sep)
                    .append("    {\"tensor\": ")
                    .append(str(b.name()))
                    .append(", \"offset\": ")
                    .append(src.plan().offsets().get(b.name()))
                    .append(", \"bytes\": ")
                    .append(b.bytes())
                    .append(", \"bits\": ")
                    .append(st.bits())
                    .append(", \"elements\": ")
                    .append(st.size())
                    .append(", \"first_step\": ")
                    .append(b.firstUse())
                    .append(", \"last_step\": ")
                    .append(b.lastUse())
                    .append('}');
            sep = ",\n";
        }
        return s.append("\n  ]}\n}\n").toString();
    }

    private static String str(String v) {
        StringBuilder s = new StringBuilder("\"");
        for (char c : v.toCharArray()) {
            switch (c) {
                case '"' -> s.append("\\\"");
                case '\\' -> s.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        s.append(String.format("\\u%04x", (int) c));
                    } else {
                        s.append(c);
                    }
                }
            }
        }
        return s.append('"').toString();
    }
}
