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
 * 'w'/'a' weight or activation quantizer), name, and float arrays; then the SHA-256 of all that, checked on restore.
 *
 * <p>Checkpoints are only valid for the run that wrote them, so they live in a folder named by a digest of
 * everything a unit's result depends on ({@link #forRun}): the plugin and its options, the seed, the calibration
 * samples, and the model and quantizers as the stage received them. A run with other options or data (a changed
 * recipe, another bit-width) in the same run directory starts afresh beside the old checkpoints, which stay for
 * a run that matches them, instead of silently resuming from units fitted to something else.
 */
final class Checkpoints {
    private static final int MAGIC = 0x74707132; // "tpq2": tpq1 had no checksum
    private static final int DIGEST_BYTES = 32;
    /** Larger than any unit's weights and quantizers: a size beyond it is damage, not a checkpoint. */
    private static final long MAX_BYTES = 1L << 30;

    private final Path dir;

    Checkpoints(Path dir) {
        this.dir = dir;
    }

    /** The checkpoints of this exact run under {@code root}/{@code plugin}: see the class comment. */
    static Checkpoints forRun(
            Path root, String plugin, String options, long seed, CalibrationSet calib, QuantizedModel qm) {
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
            return s.filter(Files::isDirectory)
                    .filter(d -> !d.equals(dir))
                    .sorted()
                    .toList();
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
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            try (DataOutputStream out = new DataOutputStream(bytes)) {
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
                out.write(sha256(bytes.toByteArray(), bytes.size()));
            }
            Path tmp = Files.createTempFile(dir, "unit-", ".tmp");
            try (var ch = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE)) {
                ch.write(ByteBuffer.wrap(bytes.toByteArray()));
                ch.force(true);
            }
            Files.move(tmp, file(index), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new TinyPtqException("cannot write checkpoint " + file(index) + ": " + e.getMessage(), e);
        }
    }

    /**
     * Loads the checkpoint of unit {@code index} into {@code qm}; false when there is none. A checkpoint whose
     * SHA-256 trailer does not match its content (a flipped bit, an edit, a truncated copy), that belongs to another
     * unit, or whose entries do not fit the unit's tensors throws {@link Damaged} naming the file, before anything
     * is restored: the caller fits that unit again.
     */
    boolean restore(int index, Unit unit, QuantizedModel qm) {
        Path f = file(index);
        if (!Files.exists(f)) {
            return false;
        }
        try {
            long size = Files.size(f);
            if (size < Integer.BYTES + DIGEST_BYTES || size > MAX_BYTES) {
                throw new Damaged("checkpoint " + f + " is " + size + " bytes, too "
                        + (size > MAX_BYTES ? "large" : "short") + " for a checkpoint (empty or truncated?)");
            }
            byte[] bytes = Files.readAllBytes(f);
            int content = bytes.length - DIGEST_BYTES;
            if (!java.util.Arrays.equals(sha256(bytes, content), 0, DIGEST_BYTES, bytes, content, bytes.length)) {
                throw new Damaged("checkpoint " + f + " does not match its SHA-256 checksum (changed or"
                        + " damaged after it was written, or written by a tinyptq without checksums)");
            }
            DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(bytes, 0, content));
            if (in.readInt() != MAGIC || !in.readUTF().equals(unit.name())) {
                throw new Damaged("checkpoint " + f + " is not a checkpoint of unit '" + unit.name() + "'");
            }
            int count = in.readInt();
            Model.Builder b = qm.model().toBuilder();
            List<Runnable> quantizers = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                char kind = in.readChar();
                String name = in.readUTF();
                switch (kind) {
                    case 'c' -> {
                        Tensor t = qm.model().constants().get(name);
                        if (t == null) {
                            throw new Damaged("checkpoint " + f + " holds constant '" + name + "', which"
                                    + " the model does not have");
                        }
                        b.constant(
                                name, new Tensor(t.shape(), read(in, t.shape().size(), f, name)));
                    }
                    case 'w', 'a' -> {
                        Quantizer q = (kind == 'w' ? qm.weightQuantizers() : qm.activationQuantizers()).get(name);
                        if (q == null) {
                            throw new Damaged("checkpoint " + f + " holds a quantizer of '" + name + "',"
                                    + " which the model does not have");
                        }
                        int channels = q.params().channels();
                        QuantParams p = new QuantParams(read(in, channels, f, name), read(in, channels, f, name));
                        quantizers.add(() -> q.setParams(p));
                    }
                    default -> throw new Damaged("checkpoint " + f + " is corrupt (entry kind " + kind + ")");
                }
            }
            qm.setModel(b.build());
            quantizers.forEach(Runnable::run);
            return true;
        } catch (IOException | RuntimeException e) {
            if (e instanceof Damaged d) {
                throw d;
            }
            throw new Damaged("cannot read checkpoint " + f + ": " + e, e);
        }
    }

    static byte[] sha256(byte[] bytes, int length) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(bytes, 0, length);
            return md.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
        }
    }

    private static void write(DataOutputStream out, float[] v) throws IOException {
        out.writeInt(v.length);
        for (float x : v) {
            out.writeFloat(x);
        }
    }

    /** A float array of exactly {@code expected} values: a length field is never trusted to size an allocation. */
    private static float[] read(DataInputStream in, int expected, Path f, String name) throws IOException {
        int length = in.readInt();
        if (length != expected) {
            throw new Damaged(
                    "checkpoint " + f + " holds " + length + " values for '" + name + "', which" + " has " + expected);
        }
        float[] v = new float[length];
        for (int i = 0; i < v.length; i++) {
            v[i] = in.readFloat();
        }
        return v;
    }

    /** A checkpoint that cannot be resumed from; the message names the file and why. */
    static final class Damaged extends TinyPtqException {
        Damaged(String message) {
            super(message);
        }

        Damaged(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
