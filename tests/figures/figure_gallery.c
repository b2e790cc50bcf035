/* Renders the figures of run folders to PNG, for looking at them and for comparing renderer
 * changes pixel by pixel (not a test: a tool). Usage:
 *   figure_gallery OUT_DIR RUN_A [RUN_B [RUN_C ...]]
 * writes, for run A: every figure at its export size and at 480 px wide; the loss and probe
 * figures with B as the A/B comparison and with B, C, ... as faded earlier runs. */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>

#include "engine/store/cl_runs.h"
#include "ui/cl_png.h"
#include "ui/plots/cl_figures.h"

typedef struct
{
  ClFigureKind kind;
  const ClSnapshot *snap;
  const ClFigureOptions *options;
} Job;

static void
draw_job (cairo_t *cr, double w, double h, gpointer data)
{
  const Job *job = data;
  cl_figure_draw_with (job->kind, cr, w, h, job->snap, job->options);
}

static void
write_figure (const char *dir, const char *name, ClFigureKind kind, int w, int h, const ClSnapshot *s,
              const ClFigureOptions *o)
{
  Job job = { kind, s, o };
  g_autofree char *path = g_build_filename (dir, name, NULL);
  GError *error = NULL;
  if (!cl_png_export_figure (path, w, h, 1.0, draw_job, &job, NULL, 0, &error))
    {
      g_printerr ("%s: %s\n", path, error->message);
      g_clear_error (&error);
    }
}

int
main (int argc, char **argv)
{
  if (argc < 3)
    {
      g_printerr ("usage: %s OUT_DIR RUN_A [RUN_B ...]\n", argv[0]);
      return 2;
    }
  const char *out = argv[1];
  g_mkdir_with_parents (out, 0755);
  int n_runs = argc - 2;
  ClSnapshot **runs = g_new0 (ClSnapshot *, n_runs);
  for (int i = 0; i < n_runs; i++)
    {
      GError *error = NULL;
      runs[i] = cl_run_load (argv[2 + i], &error);
      if (!runs[i])
        {
          g_printerr ("%s: %s\n", argv[2 + i], error->message);
          return 1;
        }
    }
  ClFigureOptions plain;
  cl_figure_options_init (&plain);
  for (int k = 0; k < CL_N_FIGURES; k++)
    {
      int w, h;
      cl_figure_export_size_for (k, runs[0], &w, &h);
      g_autofree char *name = g_strdup_printf ("%s.png", cl_figure_slug (k));
      g_autofree char *narrow = g_strdup_printf ("%s-480.png", cl_figure_slug (k));
      write_figure (out, name, k, w, h, runs[0], &plain);
      write_figure (out, narrow, k, 480, h * 480 / w + 60, runs[0], &plain);
    }
  if (n_runs > 1)
    {
      ClFigureOptions ab = plain;
      ab.compare = runs[1];
      ab.label_a = "Run A";
      ab.label_b = "Run B";
      ClFigureOptions faded = plain;
      faded.overlays = (const ClSnapshot *const *) runs + 1;
      faded.n_overlays = n_runs - 1;
      static const ClFigureKind kinds[] = { CL_FIGURE_LOSS, CL_FIGURE_PROBES };
      for (gsize i = 0; i < G_N_ELEMENTS (kinds); i++)
        {
          int w, h;
          cl_figure_export_size (kinds[i], &w, &h);
          g_autofree char *a = g_strdup_printf ("%s-ab.png", cl_figure_slug (kinds[i]));
          g_autofree char *f = g_strdup_printf ("%s-faded.png", cl_figure_slug (kinds[i]));
          write_figure (out, a, kinds[i], w, h, runs[0], &ab);
          write_figure (out, f, kinds[i], w, h, runs[0], &faded);
        }
    }
  /* the instruments: log y, fitted y, a zoom window, the hover crosshair */
  ClFigureOptions tools = plain;
  tools.view.log_y = TRUE;
  write_figure (out, "loss-log.png", CL_FIGURE_LOSS, 900, 500, runs[0], &tools);
  tools = plain;
  tools.view.hover_x = 0.4 * runs[0]->step;
  write_figure (out, "loss-hover.png", CL_FIGURE_LOSS, 900, 500, runs[0], &tools);
  tools.view.x_lo = 0.25 * runs[0]->step;
  tools.view.x_hi = 0.75 * runs[0]->step;
  write_figure (out, "loss-zoom.png", CL_FIGURE_LOSS, 900, 500, runs[0], &tools);
  tools = plain;
  tools.view.fit_y = TRUE;
  tools.view.hover_x = runs[0]->step;
  write_figure (out, "probes-fit.png", CL_FIGURE_PROBES, 900, 500, runs[0], &tools);
  if (n_runs > 1)
    {
      /* the other runs as replicates of the first (meaningful when they differ only in train.seed) */
      tools.replicates = (const ClSnapshot *const *) runs + 1;
      tools.n_replicates = n_runs - 1;
      write_figure (out, "probes-seeds.png", CL_FIGURE_PROBES, 900, 500, runs[0], &tools);
    }
  for (int i = 0; i < n_runs; i++)
    cl_snapshot_unref (runs[i]);
  g_free (runs);
  return 0;
}
