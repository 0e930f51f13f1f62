/** lowbit validate. */
package dev.lowbit.validate;
