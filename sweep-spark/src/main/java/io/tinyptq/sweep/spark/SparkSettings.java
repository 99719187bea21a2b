package io.tinyptq.sweep.spark;

import java.net.URI;
import java.util.List;
import java.util.Map;
import org.apache.spark.SparkConf;

/**
 * The Spark configuration of a sweep: the user's settings ({@code --master}, {@code --conf}) over those
 * {@code spark-submit} passed as system properties, over tinyptq's defaults.
 */
final class SparkSettings {
    /** Embedded Spark, one task per core of this machine. */
    static final String DEFAULT_MASTER = "local[*]";

    /**
     * What executor JVMs need on Java 25: the Vector API module the cpu backend computes with, native access for the
     * native libraries Spark loads, and the JDK internals Spark reaches into (TOOLCHAIN-NOTES, Apache Spark).
     */
    static final List<String> EXECUTOR_JAVA_OPTIONS = List.of(
            "--add-modules=jdk.incubator.vector",
            "--enable-native-access=ALL-UNNAMED",
            "--add-opens=java.base/java.lang=ALL-UNNAMED",
            "--add-opens=java.base/java.nio=ALL-UNNAMED",
            "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
            "--add-opens=java.base/java.util=ALL-UNNAMED",
            "--add-opens=java.base/java.lang.invoke=ALL-UNNAMED");

    private SparkSettings() {}

    static SparkConf conf(Map<String, String> given) {
        SparkConf conf = new SparkConf(true);
        given.forEach(conf::set);
        conf.setIfMissing("spark.master", DEFAULT_MASTER);
        conf.setIfMissing("spark.app.name", "tinyptq sweep");
        if (onThisMachine(conf.get("spark.master"))) {
            // The loopback address: a machine's own name need not resolve, and nothing outside has to reach us.
            conf.setIfMissing("spark.driver.host", "127.0.0.1");
        }
        String own = String.join(" ", EXECUTOR_JAVA_OPTIONS);
        conf.set(
                "spark.executor.extraJavaOptions",
                conf.contains("spark.executor.extraJavaOptions")
                        ? own + " " + conf.get("spark.executor.extraJavaOptions")
                        : own);
        return conf;
    }

    /** Embedded, or a standalone master on the loopback address. */
    static boolean onThisMachine(String master) {
        if (master.startsWith("local")) {
            return true;
        }
        String host = standaloneHost(master);
        return host != null && (host.equals("127.0.0.1") || host.equals("localhost"));
    }

    /** The host of {@code spark://HOST:PORT}, or null for another kind of master. */
    static String standaloneHost(String master) {
        if (!master.startsWith("spark://")) {
            return null;
        }
        return URI.create(master.split(",")[0]).getHost();
    }

    /** The port of {@code spark://HOST:PORT} (7077 when not given). */
    static int standalonePort(String master) {
        int port = URI.create(master.split(",")[0]).getPort();
        return port < 0 ? 7077 : port;
    }
}
