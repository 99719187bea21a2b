/** Exceptions shared by every tinyptq module. */
package io.tinyptq.api;
