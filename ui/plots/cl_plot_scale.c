#include "ui/plots/cl_plot_scale.h"
#include "ui/plots/cl_plot_common.h"

#include <math.h>
#include <string.h>

/* ------------------------------------------------------ ranges and scales */

void
cl_plot_range_init (ClPlotRange *range)
{
  range->lo = INFINITY;
  range->hi = -INFINITY;
  range->n = 0;
}

void
cl_plot_range_add (ClPlotRange *range, double v)
{
  if (!isfinite (v))
    return;
  if (v < range->lo)
    range->lo = v;
  if (v > range->hi)
    range->hi = v;
  range->n++;
}

void
cl_plot_scale_init (ClPlotScale *scale, double d0, double d1, double p0, double p1)
{
  scale->d0 = d0;
  scale->d1 = d1;
  scale->p0 = p0;
  scale->p1 = p1;
}

double
cl_plot_scale_map (const ClPlotScale *scale, double v)
{
  double span = scale->d1 - scale->d0;
  if (span == 0.0 || !isfinite (span))
    return 0.5 * (scale->p0 + scale->p1);
  return scale->p0 + (v - scale->d0) / span * (scale->p1 - scale->p0);
}

double
cl_plot_scale_invert (const ClPlotScale *scale, double p)
{
  double span = scale->p1 - scale->p0;
  if (span == 0.0)
    return 0.5 * (scale->d0 + scale->d1);
  return scale->d0 + (p - scale->p0) / span * (scale->d1 - scale->d0);
}

/* ------------------------------------------------------------------ ticks */

double
cl_plot_nice_step (double span, int target_ticks)
{
  if (!(span > 0.0) || !isfinite (span))
    return 1.0;
  if (target_ticks < 1)
    target_ticks = 1;
  double raw = span / target_ticks;
  double mag = pow (10.0, floor (log10 (raw)));
  double norm = raw / mag;
  /* the smallest nice step not below raw, so there are at most target_ticks intervals */
  double nice = norm <= 1.0 + 1e-9 ? 1.0 : norm <= 2.0 + 1e-9 ? 2.0 : norm <= 5.0 + 1e-9 ? 5.0 : 10.0;
  return nice * mag;
}

void
cl_plot_ticks_compute (ClPlotTicks *ticks, double lo, double hi, int target_ticks, gboolean extend,
                       gboolean integer_steps)
{
  memset (ticks, 0, sizeof *ticks);
  if (!isfinite (lo) && !isfinite (hi))
    {
      lo = 0.0;
      hi = 1.0;
    }
  else if (!isfinite (lo))
    lo = hi;
  else if (!isfinite (hi))
    hi = lo;
  if (lo > hi)
    {
      double t = lo;
      lo = hi;
      hi = t;
    }
  target_ticks = CLAMP (target_ticks, 1, CL_PLOT_MAX_TICKS - 4);

  /* a span lost in the rounding of its own magnitude cannot be ticked: treat it as a point */
  double mid = 0.5 * (lo + hi);
  if (hi - lo <= fabs (mid) * 1e-12)
    {
      double half = mid == 0.0 ? 1.0 : fabs (mid) * 0.1;
      if (integer_steps && half < 1.0)
        half = 1.0;
      lo = mid - half;
      hi = mid + half;
    }

  double step = cl_plot_nice_step (hi - lo, target_ticks);
  if (integer_steps && step < 1.0)
    step = 1.0;

  /* 1e-9 forgives data that sit a rounding error past a tick */
  double first = ceil (lo / step - 1e-9);
  double last = floor (hi / step + 1e-9);
  if (extend)
    {
      first = floor (lo / step + 1e-9);
      last = ceil (hi / step - 1e-9);
      if (last <= first)
        last = first + 1;
      lo = first * step;
      hi = last * step;
    }
  ticks->lo = lo;
  ticks->hi = hi;
  ticks->step = step;

  for (double k = first; k <= last && ticks->n < CL_PLOT_MAX_TICKS; k += 1.0)
    {
      double v = k * step;
      if (fabs (v) < step * 1e-9)
        v = 0.0; /* no "-0" from k = -0 or rounding */
      ticks->v[ticks->n++] = v;
    }

  int exponent = (int) floor (log10 (step) + 1e-9);
  ticks->decimals = exponent < 0 ? MIN (-exponent, 12) : 0;

  double biggest = MAX (fabs (lo), fabs (hi));
  if (exponent >= 6 && biggest >= 1e7)
    ticks->si_power = 6;
  else if (exponent >= 3 && biggest >= 1e4)
    ticks->si_power = 3;
}

void
cl_plot_format_number (double v, int decimals, char *buf, size_t size)
{
  if (size == 0)
    return;
  if (isnan (v))
    {
      g_strlcpy (buf, "nan", size);
      return;
    }
  if (isinf (v))
    {
      g_strlcpy (buf, v > 0 ? "\xE2\x88\x9E" : "\xE2\x88\x92\xE2\x88\x9E", size);
      return;
    }
  decimals = CLAMP (decimals, 0, 12);
  char format[16];
  char digits[G_ASCII_DTOSTR_BUF_SIZE];
  g_snprintf (format, sizeof format, "%%.%df", decimals);
  /* C locale: figures must not switch to decimal commas with the user's locale */
  g_ascii_formatd (digits, sizeof digits, format, v);
  const char *body = digits;
  gboolean negative = FALSE;
  if (digits[0] == '-')
    {
      body = digits + 1;
      negative = strspn (body, "0.") != strlen (body); /* "-0.00" is zero */
    }
  g_snprintf (buf, size, "%s%s", negative ? "\xE2\x88\x92" : "", body);
}

void
cl_plot_ticks_format (const ClPlotTicks *ticks, double v, char *buf, size_t size)
{
  if (ticks->log10)
    {
      /* a value of a log axis: as many decimals as its own magnitude needs (0.05, 0.2, 3, 20) */
      double value = pow (10.0, v);
      int exponent = (int) floor (v + 1e-9);
      cl_plot_format_number (value, exponent < 0 ? MIN (-exponent, 12) : 0, buf, size);
      return;
    }
  if (ticks->si_power > 0)
    {
      char number[64];
      double divided = v / pow (10.0, ticks->si_power);
      double step = ticks->step / pow (10.0, ticks->si_power);
      int exponent = (int) floor (log10 (step) + 1e-9);
      cl_plot_format_number (divided, exponent < 0 ? -exponent : 0, number, sizeof number);
      g_snprintf (buf, size, "%s%s", number, divided == 0.0 ? "" : ticks->si_power == 6 ? "M" : "k");
      return;
    }
  cl_plot_format_number (v, ticks->decimals, buf, size);
}
