/* Data -> user-unit scales: running ranges, linear scales, nice 1-2-5 ticks (linear and log)
 * and the tick/number formatting rules.
 * Part of the plot primitives (ui/plots/cl_plot_common.h includes them all); pure cairo,
 * user units. */
#pragma once
#include <glib.h>
#include <stddef.h>

/* ------------------------------------------------------ ranges and scales */

typedef struct
{
  double x, y, w, h;
} ClPlotRect;

/* Running min/max that ignores NaN and infinities, so one diverged step cannot break an axis. */
typedef struct
{
  double lo, hi;
  long n; /* finite values seen */
} ClPlotRange;

void cl_plot_range_init (ClPlotRange *range);
void cl_plot_range_add (ClPlotRange *range, double v);

/* Linear map from data [d0, d1] to user units [p0, p1] (p1 < p0 for a y axis growing upward). */
typedef struct
{
  double d0, d1, p0, p1;
} ClPlotScale;

void cl_plot_scale_init (ClPlotScale *scale, double d0, double d1, double p0, double p1);
double cl_plot_scale_map (const ClPlotScale *scale, double v);
double cl_plot_scale_invert (const ClPlotScale *scale, double p);

/* ------------------------------------------------------------------ ticks */

#define CL_PLOT_MAX_TICKS 24

typedef struct
{
  double lo, hi; /* the axis range (widened to tick multiples when asked) */
  double step;   /* 1, 2 or 5 times a power of ten */
  int n;         /* ticks in v[], all within [lo, hi] */
  double v[CL_PLOT_MAX_TICKS];
  int decimals;   /* digits after the point that distinguish neighbouring ticks */
  int si_power;   /* 0, 3 or 6: labels are divided by 10^si_power and get a "k"/"M"
                   * suffix, used when every tick is such a multiple and the values are large */
  gboolean log10; /* v[], lo and hi are log10 of the values (a log axis): labels print 10^v */
} ClPlotTicks;

/* The 1-2-5 step that gives about target_ticks intervals over span (span > 0). */
double cl_plot_nice_step (double span, int target_ticks);

/* Ticks for [lo, hi]. Non-finite or reversed bounds are repaired; an empty span (lo == hi) is
 * widened around the value. With extend, lo/hi move outward to the nearest tick multiples so
 * the data fill the axis and the ends are labelled. integer_steps forbids steps below 1 (for
 * step counts, epochs, bins). */
void cl_plot_ticks_compute (ClPlotTicks *ticks, double lo, double hi, int target_ticks, gboolean extend,
                            gboolean integer_steps);

/* Tick label: fixed decimals, C-locale point, a true minus sign (U+2212), never "-0",
 * "k"/"M" suffix per ticks->si_power. Writes a NUL-terminated UTF-8 string of at most size bytes. */
void cl_plot_ticks_format (const ClPlotTicks *ticks, double v, char *buf, size_t size);

/* The same formatting rules for any value with a given number of decimals. */
void cl_plot_format_number (double v, int decimals, char *buf, size_t size);
