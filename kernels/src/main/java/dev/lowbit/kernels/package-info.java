/** lowbit kernels. */
package dev.lowbit.kernels;
