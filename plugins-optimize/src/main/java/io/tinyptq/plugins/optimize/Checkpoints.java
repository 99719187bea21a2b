package io.tinyptq.plugins.optimize;

import io.tinyptq.api.TinyPtqException;
import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Op;
import io.tinyptq.api.model.Tensor;
import io.tinyptq.api.model.Unit;
import io.tinyptq.api.quant.QuantParams;
import io.tinyptq.api.quant.QuantizedModel;
import io.tinyptq.api.quant.Quantizer;
import io.tinyptq.api.spi.CalibrationSet;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One file per finished unit, {@code unit-NNN.ckpt}: the unit's weights, biases and quantizer parameters after
 * commit. Written to a temporary file and moved into place, so a kill leaves either a whole checkpoint or none.
 * Format (big-endian, {@link DataOutputStream}): magic, unit name, count, then per entry its kind ('c' constant,
 * 'q' quantizer), name, and float arrays.
 *
 * <p>Checkpoints are only valid for the run that wrote them, so they live in a folder named by a digest of
 * everything a unit's result depends on ({@link #forRun}): the plugin and its options, the seed, the calibration
 * samples, and the model and quantizers as the stage received them. A run with other options or data (a changed
 * recipe, another bit-width) in the same run directory starts afresh beside the old checkpoints, which stay for
 * a run that matches them, instead of silently resuming from units fitted to something else.
 */
final class Checkpoints {
    private static final int MAGIC = 0x74707131; // "tpq1"
    private final Path dir;

    Checkpoints(Path dir) {
        this.dir = dir;
    }

    /** The checkpoints of this exact run under {@code root}/{@code plugin}: see the class comment. */
    static Checkpoints forRun(Path root, String plugin, String options, long seed, CalibrationSet calib,
                              QuantizedModel qm) {
        return new Checkpoints(root.resolve(plugin).resolve(fingerprint(options, seed, calib, qm)));
    }

    /** The first 16 hex digits of a SHA-256 over the run's inputs to the stage. */
    static String fingerprint(String options, long seed, CalibrationSet calib, QuantizedModel qm) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update((options + "\n" + seed + "\n" + calib.size() + "\n" + qm.scheme() + "\n")
                    .getBytes(StandardCharsets.UTF_8));
            digest(md, calib.data());
            for (Map.Entry<String, Tensor> c : new TreeMap<>(qm.model().constants()).entrySet()) {
                md.update(c.getKey().getBytes(StandardCharsets.UTF_8));
                digest(md, c.getValue().data());
            }
            for (Map<String, Quantizer> qs : List.of(qm.weightQuantizers(), qm.activationQuantizers())) {
                for (Map.Entry<String, Quantizer> q : new TreeMap<>(qs).entrySet()) {
                    md.update((q.getKey() + q.getValue().spec()).getBytes(StandardCharsets.UTF_8));
                    if (q.getValue().initialized()) {
                        digest(md, q.getValue().params().scale());
                        digest(md, q.getValue().params().zeroPoint());
                    }
                }
            }
            return HexFormat.of().formatHex(md.digest(), 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
        }
    }

    private static void digest(MessageDigest md, float[] v) {
        ByteBuffer b = ByteBuffer.allocate(4 * 4096);
        for (int i = 0; i < v.length; i += 4096) {
            b.clear();
            b.asFloatBuffer().put(v, i, Math.min(4096, v.length - i));
            md.update(b.array(), 0, 4 * Math.min(4096, v.length - i));
        }
    }

    /** Where this run's checkpoints go. */
    Path dir() {
        return dir;
    }

    /** Sibling folders holding checkpoints of other settings or data for the same plugin. */
    List<Path> others() {
        Path parent = dir.getParent();
        if (parent == null || !Files.isDirectory(parent)) {
            return List.of();
        }
        try (var s = Files.list(parent)) {
            return s.filter(Files::isDirectory).filter(d -> !d.equals(dir)).sorted().toList();
        } catch (IOException e) {
            return List.of();
        }
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
                List<String> tensors = new ArrayList<>();
                for (Op op : unit.ops()) {
                    tensors.addAll(op.inputs());
                }
                tensors.add(unit.output()); // trained here when the unit quantizes its output
                for (String t : tensors) {
                    Quantizer q = qm.activationQuantizers().get(t);
                    if (q != null && !quantizers.contains(q)) {
                        quantizers.add(q);
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
