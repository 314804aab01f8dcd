/* checked: size arithmetic that reports overflow instead of wrapping.
 * Used wherever a buffer size is computed from input (rows x columns, ...). */
#ifndef RUNEXP_CHECKED_H
#define RUNEXP_CHECKED_H

#include <stddef.h>

/* *out = a * b; returns 1, or 0 (and leaves *out alone) when it would wrap. */
static inline int checked_mul(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > (size_t)-1 / a)
        return 0;
    *out = a * b;
    return 1;
}

/* *out = a + b; returns 1, or 0 (and leaves *out alone) when it would wrap. */
static inline int checked_add(size_t a, size_t b, size_t *out)
{
    if (b > (size_t)-1 - a)
        return 0;
    *out = a + b;
    return 1;
}

#endif
