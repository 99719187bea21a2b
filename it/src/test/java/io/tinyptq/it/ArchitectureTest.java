package io.tinyptq.it;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.library.GeneralCodingRules;
import org.junit.jupiter.api.Test;

/**
 * The architecture as rules: the api stands alone, plugins and backends see only the api, only the kernel uses
 * Guice and Jackson, no package cycles, and general coding rules. JPMS enforces {@code requires} at compile
 * time; these rules also hold on the class path and name the offending class.
 */
class ArchitectureTest {
    static final JavaClasses PRODUCTION = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.tinyptq");
    /** Classes written to break the rules, for checking that the rules do fail. */
    static final JavaClasses VIOLATIONS =
            new ClassFileImporter().importPackages("io.tinyptq.api.archfixture", "io.tinyptq.plugins.archfixture");

    static final ArchRule API_STANDS_ALONE = classes()
            .that()
            .resideInAPackage("io.tinyptq.api..")
            .should()
            .onlyDependOnClassesThat()
            .resideInAnyPackage("io.tinyptq.api..", "java..")
            .because("plugins written against the api must not pull in tinyptq's internals or any library");

    static final ArchRule PLUGINS_SEE_ONLY_THE_API = classes()
            .that()
            .resideInAnyPackage("io.tinyptq.plugins..", "io.tinyptq.backend..", "io.tinyptq.integer..")
            .should()
            .onlyDependOnClassesThat()
            .resideInAnyPackage(
                    "io.tinyptq.api..",
                    "io.tinyptq.plugins..",
                    "io.tinyptq.backend..",
                    "io.tinyptq.integer..",
                    "java..",
                    "jdk.incubator.vector..",
                    "com.google.flatbuffers..")
            .because("a plugin or backend depends only on the api, the JDK, its own code and its own third-party"
                    + " library (flatbuffers-java reads TFLite files in plugins-formats)");

    static final ArchRule ALGORITHMS_MEET_BACKENDS_IN_THE_API = noClasses()
            .that()
            .resideInAPackage("io.tinyptq.plugins..")
            .should()
            .dependOnClassesThat()
            .resideInAPackage("io.tinyptq.backend..")
            .because("an algorithm drives a backend only through the training session and its vocabulary"
                    + " (TrainingSession, StepControl, TrainingOps), so any backend runs it");

    static final ArchRule BACKENDS_HOLD_NO_ALGORITHM = noClasses()
            .that()
            .resideInAPackage("io.tinyptq.backend..")
            .should()
            .dependOnClassesThat()
            .resideInAPackage("io.tinyptq.plugins..")
            .because("backends compute what the session's vocabulary names; schedules, searches and drivers are"
                    + " plugins");

    static final ArchRule PLUGIN_MODULES_ARE_INDEPENDENT = slices().matching("io.tinyptq.plugins.(*)..")
            .should()
            .notDependOnEachOther()
            .because("each plugin module can be left out without breaking another");

    static final ArchRule ONLY_KERNEL_USES_GUICE_AND_JACKSON = noClasses()
            .that()
            .resideOutsideOfPackages("io.tinyptq.kernel..")
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage("com.google.inject..", "com.fasterxml.jackson..")
            .because("Guice wires the kernel only and recipes are the kernel's business; plugins stay plain Java");

    static final ArchRule NO_CYCLES_BETWEEN_MODULES =
            slices().matching("io.tinyptq.(*)..").should().beFreeOfCycles();

    static final ArchRule NO_CYCLES_INSIDE_MODULES =
            slices().matching("io.tinyptq.(*).(*)..").should().beFreeOfCycles();

    static final ArchRule NO_STD_STREAMS = GeneralCodingRules.NO_CLASSES_SHOULD_ACCESS_STANDARD_STREAMS.because(
            "output goes through the CLI's writers or a ProgressListener, never straight to the console");

    static final ArchRule NO_GENERIC_EXCEPTIONS = GeneralCodingRules.NO_CLASSES_SHOULD_THROW_GENERIC_EXCEPTIONS.because(
            "errors are TinyPtqException subclasses or precise JDK exceptions with a message");

    static final ArchRule NO_FIELD_INJECTION = GeneralCodingRules.NO_CLASSES_SHOULD_USE_FIELD_INJECTION.because(
            "kernel services take their dependencies in constructors");

    @Test
    void apiDependsOnNothingInternal() {
        API_STANDS_ALONE.check(PRODUCTION);
    }

    @Test
    void pluginsAndBackendsDependOnlyOnTheApi() {
        PLUGINS_SEE_ONLY_THE_API.check(PRODUCTION);
        PLUGIN_MODULES_ARE_INDEPENDENT.check(PRODUCTION);
    }

    @Test
    void algorithmsAndBackendsMeetOnlyInTheTrainingSession() {
        ALGORITHMS_MEET_BACKENDS_IN_THE_API.check(PRODUCTION);
        BACKENDS_HOLD_NO_ALGORITHM.check(PRODUCTION);
    }

    @Test
    void onlyTheKernelUsesGuiceAndJackson() {
        ONLY_KERNEL_USES_GUICE_AND_JACKSON.check(PRODUCTION);
    }

    @Test
    void noPackageCycles() {
        NO_CYCLES_BETWEEN_MODULES.check(PRODUCTION);
        NO_CYCLES_INSIDE_MODULES.check(PRODUCTION);
    }

    @Test
    void generalCodingRules() {
        NO_STD_STREAMS.check(PRODUCTION);
        NO_GENERIC_EXCEPTIONS.check(PRODUCTION);
        NO_FIELD_INJECTION.check(PRODUCTION);
    }

    @Test
    void theRulesFailOnViolations() {
        assertTrue(API_STANDS_ALONE.evaluate(VIOLATIONS).hasViolation());
        assertTrue(PLUGINS_SEE_ONLY_THE_API.evaluate(VIOLATIONS).hasViolation());
        assertTrue(ALGORITHMS_MEET_BACKENDS_IN_THE_API.evaluate(VIOLATIONS).hasViolation());
        assertTrue(ONLY_KERNEL_USES_GUICE_AND_JACKSON.evaluate(VIOLATIONS).hasViolation());
        assertTrue(NO_STD_STREAMS.evaluate(VIOLATIONS).hasViolation());
        assertFalse(
                PRODUCTION.contain("io.tinyptq.api.archfixture.ApiReachingIntoKernel"),
                "fixtures must stay out of the production import");
    }
}
