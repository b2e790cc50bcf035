#include "ui/plots/cl_probe_plot_private.h"

#include <math.h>
#include <string.h>

/* -------------------------------------------- occlusion vs suppression */

static const struct
{
  const char *metric, *control, *occlusion_label;
} splits[] = {
  { "background", "background_clean", "occlusion: background_clean \xE2\x88\x92 background (probe-time overlay)" },
  { "small", "small_alone", "probe-time interference: small_alone \xE2\x88\x92 small (large item present)" },
};

/* The index of target name, as it is stored (a name longer than the rows' field is cut). */
static int
target_index (const ClProbePlotLayout *g, const char *name)
{
  size_t field = sizeof ((ClProbeRow *) 0)->target;
  for (int k = 0; k < g->n_targets; k++)
    {
      size_t len = strlen (g->targets[k]);
      /* whole, or cut at the field's size (with or without its terminating NUL) */
      if (len > 0 && strncmp (g->targets[k], name, len) == 0 && (name[len] == '\0' || len + 1 >= field))
        return k;
    }
  return -1;
}

ClRgb
cl_probe_occlusion_color (void)
{
  return cl_plot_color_muted ();
}

ClRgb
cl_probe_suppression_color (void)
{
  return cl_plot_okabe_ito (CL_PLOT_OI_VERMILLION);
}

/* The pairs present in the main run. */
void
cl_probe_find_splits (ClProbePlotLayout *g, const Runs *r)
{
  g->n_splits = 0;
  for (gsize i = 0; i < G_N_ELEMENTS (splits); i++)
    {
      int m = target_index (g, splits[i].metric), c = target_index (g, splits[i].control);
      if (m < 0 || c < 0 || m >= r->runs[0].ts.n || c >= r->runs[0].ts.n || r->runs[0].ts.t[m].points == NULL ||
          r->runs[0].ts.t[c].points == NULL)
        continue;
      g->split[g->n_splits].metric = m;
      g->split[g->n_splits].control = c;
      g->split[g->n_splits].occlusion = g->split[g->n_splits].suppression = NAN;
      g->n_splits++;
    }
}

/* Hatches the region between two curves given at the same xs (user units). */
static void
fill_between (cairo_t *cr, const double *xs, const double *ya, const double *yb, int n, ClRgb color, double alpha,
              gboolean hatch)
{
  if (n < 2)
    return;
  cairo_save (cr);
  cairo_new_path (cr);
  for (int i = 0; i < n; i++)
    cairo_line_to (cr, xs[i], ya[i]);
  for (int i = n - 1; i >= 0; i--)
    cairo_line_to (cr, xs[i], yb[i]);
  cairo_close_path (cr);
  cl_plot_set_rgba (cr, color, alpha);
  if (!hatch)
    {
      cairo_fill (cr);
      cairo_restore (cr);
      return;
    }
  cairo_fill_preserve (cr);
  cairo_clip (cr);
  double x0, y0, x1, y1;
  cairo_clip_extents (cr, &x0, &y0, &x1, &y1);
  cl_plot_set_rgba (cr, color, MIN (1.0, 3.0 * alpha));
  cairo_set_line_width (cr, 1.0);
  for (double x = x0 - (y1 - y0); x < x1; x += 6.0)
    {
      cairo_move_to (cr, x, y1);
      cairo_line_to (cr, x + (y1 - y0), y0);
    }
  cairo_stroke (cr);
  cairo_restore (cr);
}

/* Occlusion between the metric and its control, suppression below the control's untrained value. */
void
cl_probe_draw_splits (cairo_t *cr, ClProbePlotLayout *g, const Runs *r)
{
  const ClProbeRow *rows = r->runs[0].rows;
  for (int i = 0; i < g->n_splits; i++)
    {
      const Target *tm = &r->runs[0].ts.t[g->split[i].metric], *tc = &r->runs[0].ts.t[g->split[i].control];
      int n = (int) tc->points->len;
      double *xs = g_new (double, n), *ym = g_new (double, n), *yc = g_new (double, n), *yu = g_new (double, n);
      int at, k = 0;
      double untrained = cl_probe_value_at_step (rows, tc, 0.0, &at);
      for (guint j = 0; j < tc->points->len; j++)
        {
          double step = (double) rows[g_array_index (tc->points, int, j)].step;
          double c = cl_probe_value_at_step (rows, tc, step, &at), m = cl_probe_value_at_step (rows, tm, step, &at);
          if (!isfinite (c) || !isfinite (m))
            continue;
          xs[k] = cl_plot_scale_map (&g->x, step);
          ym[k] = cl_plot_scale_map (&g->y, CLAMP (m, 0.0, 1.0));
          yc[k] = cl_plot_scale_map (&g->y, CLAMP (c, 0.0, 1.0));
          /* the suppression region reaches up to the untrained value only where the control is below it */
          yu[k] =
              isfinite (untrained) && c < untrained ? cl_plot_scale_map (&g->y, CLAMP (untrained, 0.0, 1.0)) : yc[k];
          g->split[i].occlusion = c - m;
          g->split[i].suppression = isfinite (untrained) ? untrained - c : NAN;
          k++;
        }
      fill_between (cr, xs, ym, yc, k, cl_probe_occlusion_color (), 0.18, TRUE);
      fill_between (cr, xs, yc, yu, k, cl_probe_suppression_color (), 0.28, FALSE);
      g_free (xs);
      g_free (ym);
      g_free (yc);
      g_free (yu);
    }
}

int
cl_probe_splits_legend (const ClProbePlotLayout *g, ClPlotLegendEntry *entries)
{
  int n = 0;
  for (int i = 0; i < g->n_splits; i++)
    {
      for (gsize j = 0; j < G_N_ELEMENTS (splits); j++)
        if (strcmp (g->targets[g->split[i].metric], splits[j].metric) == 0)
          entries[n++] =
              (ClPlotLegendEntry){ splits[j].occlusion_label,
                                   cl_plot_mix (cl_plot_color_background (), cl_probe_occlusion_color (), 0.5),
                                   CL_PLOT_LEGEND_SWATCH, 0.0, FALSE };
      if (i == 0)
        entries[n++] =
            (ClPlotLegendEntry){ "suppression: untrained (step 0) \xE2\x88\x92 control",
                                 cl_plot_mix (cl_plot_color_background (), cl_probe_suppression_color (), 0.28),
                                 CL_PLOT_LEGEND_SWATCH, 0.0, FALSE };
    }
  return n;
}

int
cl_probe_splits_readouts (const ClProbePlotLayout *g, const Runs *r, double best, char (*labels)[96],
                          ClPlotReadout *readouts)
{
  int n = 0;
  for (int i = 0; i < g->n_splits; i++)
    {
      const Target *tm = &r->runs[0].ts.t[g->split[i].metric], *tc = &r->runs[0].ts.t[g->split[i].control];
      int at;
      double m = cl_probe_value_at_step (r->runs[0].rows, tm, best, &at),
             c = cl_probe_value_at_step (r->runs[0].rows, tc, best, &at);
      double u = cl_probe_value_at_step (r->runs[0].rows, tc, 0.0, &at);
      g_snprintf (labels[n], sizeof labels[n], "occlusion (%s)", g->targets[g->split[i].metric]);
      readouts[n] =
          (ClPlotReadout){ labels[n], cl_plot_mix (cl_plot_color_background (), cl_probe_occlusion_color (), 0.5),
                           c - m, NAN, 3 };
      n++;
      g_snprintf (labels[n], sizeof labels[n], "suppression (%s)", g->targets[g->split[i].control]);
      readouts[n] = (ClPlotReadout){ labels[n], cl_probe_suppression_color (), u - c, NAN, 3 };
      n++;
    }
  return n;
}
