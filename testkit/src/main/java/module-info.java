/**
 * Test support shared by every module: tiny models built in code, a plain-loop reference backend that serves
 * as an independent oracle, recording fakes, and conformance suites that plugin tests extend.
 */
module io.tinyptq.testkit {
    requires transitive io.tinyptq.api;
    requires transitive org.junit.jupiter.api;

    exports io.tinyptq.testkit;
}
