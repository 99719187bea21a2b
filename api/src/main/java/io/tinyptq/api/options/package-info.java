/** Typed plugin options: records whose components carry {@link io.tinyptq.api.options.Option} rules. */
package io.tinyptq.api.options;
