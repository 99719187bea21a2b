package io.tinyptq.realdata;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyptq.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/** {@code tinyptq info} and {@code tinyptq eval} end to end on a real model, descriptor names and data root. */
class CommandLineRealDataTest {

    static String[] run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        var cl = Main.commandLine();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        assertEquals(0, code, err.toString());
        return new String[] {out.toString(), err.toString()};
    }

    @Test
    void evalAndInfoOnMobileNet() {
        String model = Shared.root().resolve("models/vww_96_float.tflite").toString();
        String data = Shared.root().resolve("data").toString();
        String json = run(
                "eval",
                "--model",
                model,
                "--data",
                "vww01",
                "--datasets",
                Shared.DATASETS.toString(),
                "--data-root",
                data,
                "--json",
                "--no-progress")[0];
        assertTrue(json.contains("\"samples\":1000,\"correct\":853,\"accuracy\":85.3,"), json);
        String info = run("info", "--model", model, "--json")[0];
        assertTrue(info.contains("\"macs_table1\":7723776,\"params\":210850,"), info);
    }
}
