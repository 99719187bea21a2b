/** The {@code c} code generator and the programs it builds. */
package io.tinyptq.deploy.c;
