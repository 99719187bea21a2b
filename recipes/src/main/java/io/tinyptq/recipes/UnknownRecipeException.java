package io.tinyptq.recipes;

/** A recipe name that no bundled recipe has; the message lists the bundled names. */
public final class UnknownRecipeException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public UnknownRecipeException(String message) {
        super(message);
    }
}
