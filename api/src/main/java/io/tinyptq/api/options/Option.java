package io.tinyptq.api.options;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Describes one component of a plugin's options record: its meaning and the rules a value must satisfy.
 * The kernel reads these to bind recipe keys (the component name in snake_case), to validate values from YAML
 * and from Java alike, to print {@code tinyptq plugins} and to generate the recipe JSON Schema.
 *
 * <p>Supported component types: {@code int}, {@code long}, {@code double}, {@code float}, {@code boolean},
 * their boxed forms (boxed means optional: {@code null} when absent), {@code String}, enums (written in lower
 * case in YAML), records (nested options) and {@code List} of any of these.
 *
 * @since 0.1
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.RECORD_COMPONENT, ElementType.PARAMETER, ElementType.METHOD, ElementType.FIELD})
public @interface Option {
    /** One sentence saying what the option does and its unit. */
    String description();

    /** Inclusive lower bound for numbers (and minimum size for lists). */
    double min() default Double.NEGATIVE_INFINITY;

    /** Inclusive upper bound for numbers (and maximum size for lists). */
    double max() default Double.POSITIVE_INFINITY;

    /** Strings must match this regular expression when non-empty. */
    String pattern() default "";
}
