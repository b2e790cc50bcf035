#include "engine/base/cl_format.h"

#include <glib.h>
#include <math.h>

void
cl_format_duration (double seconds, char *buf, size_t size)
{
  /* Past ~68 years the int below would overflow: a duration that long is as unknown as -1. */
  if (!isfinite (seconds) || seconds < 0 || seconds > 2e9)
    {
      g_strlcpy (buf, "--:--", size);
      return;
    }
  long s = lround (seconds);
  if (s >= 3600)
    g_snprintf (buf, size, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  else
    g_snprintf (buf, size, "%ld:%02ld", s / 60, s % 60);
}
