/** lowbit quantizers. */
package dev.lowbit.quantizers;
