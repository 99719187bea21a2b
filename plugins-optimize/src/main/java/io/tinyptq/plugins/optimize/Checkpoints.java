package io.tinyptq.plugins.optimize;

import io.tinyptq.api.TinyPtqException;
import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Op;
import io.tinyptq.api.model.Tensor;
import io.tinyptq.api.model.Unit;
import io.tinyptq.api.quant.QuantParams;
import io.tinyptq.api.quant.QuantizedModel;
import io.tinyptq.api.quant.Quantizer;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * One file per finished unit, {@code unit-NNN.ckpt}: the unit's weights, biases and quantizer parameters after
 * commit. Written to a temporary file and moved into place, so a kill leaves either a whole checkpoint or none.
 * Format (big-endian, {@link DataOutputStream}): magic, unit name, count, then per entry its kind ('c' constant,
 * 'q' quantizer), name, and float arrays.
 */
final class Checkpoints {
    private static final int MAGIC = 0x74707131; // "tpq1"
    private final Path dir;

    Checkpoints(Path dir) {
        this.dir = dir;
    }

    private Path file(int index) {
        return dir.resolve(String.format("unit-%03d.ckpt", index));
    }

    void save(int index, Unit unit, QuantizedModel qm) {
        try {
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, "unit-", ".tmp");
            try (DataOutputStream out = new DataOutputStream(new java.io.BufferedOutputStream(Files.newOutputStream(tmp)))) {
                out.writeInt(MAGIC);
                out.writeUTF(unit.name());
                List<String> constants = new ArrayList<>();
                for (Op op : unit.ops()) {
                    constants.addAll(op.parameters());
                }
                List<Quantizer> quantizers = new ArrayList<>();
                for (Op.Layer l : unit.layers()) {
                    if (qm.weightQuantizers().containsKey(l.name())) {
                        quantizers.add(qm.weightQuantizers().get(l.name()));
                    }
                }
                for (Op op : unit.ops()) {
                    for (String t : op.inputs()) {
                        Quantizer q = qm.activationQuantizers().get(t);
                        if (q != null && !quantizers.contains(q)) {
                            quantizers.add(q);
                        }
                    }
                }
                out.writeInt(constants.size() + quantizers.size());
                for (String c : constants) {
                    out.writeChar('c');
                    out.writeUTF(c);
                    write(out, qm.model().constant(c).data());
                }
                for (Quantizer q : quantizers) {
                    out.writeChar(qm.weightQuantizers().containsValue(q) ? 'w' : 'a');
                    out.writeUTF(q.target());
                    write(out, q.params().scale());
                    write(out, q.params().zeroPoint());
                }
            }
            Files.move(tmp, file(index), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new TinyPtqException("cannot write checkpoint " + file(index) + ": " + e.getMessage(), e);
        }
    }

    /** Loads the checkpoint of unit {@code index} into {@code qm}; false when there is none. */
    boolean restore(int index, Unit unit, QuantizedModel qm) {
        Path f = file(index);
        if (!Files.exists(f)) {
            return false;
        }
        try (DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(Files.newInputStream(f)))) {
            if (in.readInt() != MAGIC || !in.readUTF().equals(unit.name())) {
                throw new TinyPtqException("checkpoint " + f + " is not a checkpoint of unit '" + unit.name()
                        + "'; delete the run directory's checkpoints to start over");
            }
            int count = in.readInt();
            Model.Builder b = qm.model().toBuilder();
            for (int i = 0; i < count; i++) {
                char kind = in.readChar();
                String name = in.readUTF();
                switch (kind) {
                    case 'c' -> b.constant(name, new Tensor(qm.model().constant(name).shape(), read(in)));
                    case 'w' -> qm.weightQuantizers().get(name).setParams(new QuantParams(read(in), read(in)));
                    case 'a' -> qm.activationQuantizers().get(name).setParams(new QuantParams(read(in), read(in)));
                    default -> throw new TinyPtqException("checkpoint " + f + " is corrupt (entry kind " + kind + ")");
                }
            }
            qm.setModel(b.build());
            return true;
        } catch (IOException | RuntimeException e) {
            if (e instanceof TinyPtqException t) {
                throw t;
            }
            throw new TinyPtqException("cannot read checkpoint " + f + ": " + e.getMessage(), e);
        }
    }

    private static void write(DataOutputStream out, float[] v) throws IOException {
        out.writeInt(v.length);
        for (float x : v) {
            out.writeFloat(x);
        }
    }

    private static float[] read(DataInputStream in) throws IOException {
        float[] v = new float[in.readInt()];
        for (int i = 0; i < v.length; i++) {
            v[i] = in.readFloat();
        }
        return v;
    }
}
