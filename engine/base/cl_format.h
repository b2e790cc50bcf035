/* Text for people: one way to write a duration (progress bars, ETAs, run lists). */
#pragma once
#include <stddef.h>

/* Writes seconds as "m:ss", or "h:mm:ss" from an hour on, rounded to the nearest second;
 * "--:--" when unknown (negative, NaN or infinite). Always NUL-terminates buf. */
void cl_format_duration (double seconds, char *buf, size_t size);
