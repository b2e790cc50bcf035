/* The Sweep window under Xvfb: prefilled for randbits, a tiny sweep runs to the end with its
 * rows and figure, exports, bad input is refused with the key named, and cancel stops it. */
#include <gtk/gtk.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "app/cl_sweep_window.h"
#include "engine/base/cl_format.h"
#include "tests/app/gui_test_util.h"
#include "ui/cl_png.h"
#include "ui/plots/cl_sweep_plot.h"

static gboolean
sweep_finished (gpointer data)
{
  ClSweep *sweep = cl_sweep_window_get_sweep (data);
  ClSweepProgress pr;
  cl_sweep_get_progress (sweep, &pr);
  return pr.finished;
}

static gboolean
first_point_running (gpointer data)
{
  ClSweepProgress pr;
  cl_sweep_get_progress (cl_sweep_window_get_sweep (data), &pr);
  return pr.points_done >= 1 && pr.current_point >= 1 && pr.current_step >= 2;
}

static GtkWidget *
find_child (GtkWidget *root, GType type)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (root, type))
    return root;
  for (GtkWidget *c = gtk_widget_get_first_child (root); c; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_child (c, type);
      if (found)
        return found;
    }
  return NULL;
}

static GtkWidget *
find_button (GtkWidget *root, const char *label)
{
  if (GTK_IS_BUTTON (root) && g_strcmp0 (gtk_button_get_label (GTK_BUTTON (root)), label) == 0)
    return root;
  for (GtkWidget *c = gtk_widget_get_first_child (root); c; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_button (c, label);
      if (found)
        return found;
    }
  return NULL;
}

static void
tiny_base (ClConfig *cfg)
{
  cl_config_init (cfg);
  cfg->train_batch = 16;
  cfg->train_steps = 3;
  cfg->probe_sim_images = 4;
  cfg->probe_cluster_images = 1;
}

/* Pixels within 2 user units of (x, y) close to c, on an ARGB32 surface at scale 1. */
static int
count_near (cairo_surface_t *s, ClRgb c, double x, double y)
{
  const unsigned char *data = cairo_image_surface_get_data (s);
  int stride = cairo_image_surface_get_stride (s), n = 0;
  for (int py = (int) y - 2; py <= (int) y + 2; py++)
    for (int px = (int) x - 2; px <= (int) x + 2; px++)
      {
        if (px < 0 || py < 0 || px >= cairo_image_surface_get_width (s) || py >= cairo_image_surface_get_height (s))
          continue;
        guint32 p = ((const guint32 *) (data + (size_t) py * stride))[px];
        double r = ((p >> 16) & 0xFF) / 255.0, g = ((p >> 8) & 0xFF) / 255.0, b = (p & 0xFF) / 255.0;
        if (sqrt ((r - c.r) * (r - c.r) + (g - c.g) * (g - c.g) + (b - c.b) * (b - c.b)) < 0.15)
          n++;
      }
  return n;
}

static void
test_sweep_window (void)
{
  GtkWidget *parent = gtk_window_new ();
  gtk_window_present (GTK_WINDOW (parent));
  ClConfig base;
  tiny_base (&base);
  /* One window per parent: present twice, get the same one. */
  cl_sweep_window_present (GTK_WINDOW (parent), &base, 0);
  ClSweepWindow *win = g_object_get_data (G_OBJECT (parent), "cl-sweep-window");
  g_assert_nonnull (win);
  /* Before Start: the number of runs and steps; no time without a live speed. */
  g_assert_cmpstr (cl_sweep_window_get_plan (win), ==,
                   "15 runs, 45 training steps in all · time estimate once the main window's run has trained a few "
                   "steps");
  /* With the live run's speed: steps x batch of every run over images per second. */
  cl_sweep_window_present (GTK_WINDOW (parent), &base, 16.0 * 10);
  char t[32];
  cl_format_duration (15 * 3 * 16 / 160.0, t, sizeof t);
  g_autofree char *want =
      g_strdup_printf ("15 runs, 45 training steps in all · about %s, estimated from the live run's "
                       "speed (160 images/s; probes not counted, and the sweep shares the "
                       "processor with the live run)",
                       t);
  g_assert_cmpstr (cl_sweep_window_get_plan (win), ==, want);
  /* The steps field sets every run's train.steps; the plan follows the entries as they are typed. */
  GtkSpinButton *steps = GTK_SPIN_BUTTON (find_child (GTK_WIDGET (win), GTK_TYPE_SPIN_BUTTON));
  g_assert_nonnull (steps);
  g_assert_cmpfloat (gtk_spin_button_get_value (steps), ==, 3);
  gtk_spin_button_set_value (steps, 5);
  g_assert_true (g_str_has_prefix (cl_sweep_window_get_plan (win), "15 runs, 75 training steps in all · about "));
  cl_sweep_window_set_text (win, "data.bits=0,4,8", NULL);
  g_assert_true (g_str_has_prefix (cl_sweep_window_get_plan (win), "3 runs, 15 training steps in all"));
  cl_sweep_window_set_text (win, "data.bits=0,4 train.steps=10,20", NULL);
  g_assert_true (g_str_has_prefix (cl_sweep_window_get_plan (win), "4 runs, 60 training steps in all"));
  cl_sweep_window_set_text (win, "data.bitz=0,4", NULL);
  g_assert_true (g_str_has_prefix (cl_sweep_window_get_plan (win), "Not ready: "));
  g_assert_nonnull (strstr (cl_sweep_window_get_plan (win), "data.bitz"));
  /* Presenting again before any start follows the main window's configuration (steps included). */
  cl_sweep_window_present (GTK_WINDOW (parent), &base, 0);
  g_assert_cmpfloat (gtk_spin_button_get_value (steps), ==, 3);
  gtk_spin_button_set_value (steps, 5);
  g_assert_true (g_object_get_data (G_OBJECT (parent), "cl-sweep-window") == win);
  g_assert_true (gtk_window_get_transient_for (GTK_WINDOW (win)) == GTK_WINDOW (parent));
  /* randbits: the paper's grid */
  g_assert_cmpstr (cl_sweep_window_get_sweep_text (win), ==, "data.bits=0,5,10,15,20 loss.temperature=0.05,0.1,0.2");
  g_assert_cmpstr (cl_sweep_window_get_set_text (win), ==, "probe.every=0");
  g_assert_null (cl_sweep_window_get_sweep (win));

  /* Bad input is refused with the key named, and nothing starts. */
  GError *error = NULL;
  cl_sweep_window_set_text (win, "data.bitz=0,2", "probe.every=0");
  g_assert_false (cl_sweep_window_start (win, &error));
  g_assert_nonnull (strstr (error->message, "data.bitz"));
  g_clear_error (&error);
  cl_sweep_window_set_text (win, "data.bits=0,2", "train.stepz=3");
  g_assert_false (cl_sweep_window_start (win, &error));
  g_assert_nonnull (strstr (error->message, "train.stepz"));
  g_clear_error (&error);
  g_assert_null (cl_sweep_window_get_sweep (win));

  /* A tiny sweep runs to the end. */
  cl_sweep_window_set_text (win, "data.bits=0,4 loss.temperature=0.1,0.2", "probe.every=0");
  g_assert_true (cl_sweep_window_start (win, &error));
  g_assert_no_error (error);
  /* a second start while running is refused */
  g_assert_false (cl_sweep_window_start (win, &error));
  g_clear_error (&error);
  GtkProgressBar *bar = GTK_PROGRESS_BAR (find_child (GTK_WIDGET (win), GTK_TYPE_PROGRESS_BAR));
  g_assert_nonnull (bar);
  g_assert_nonnull (strstr (gtk_progress_bar_get_text (bar), "ETA"));
  ClSweep *sweep = cl_sweep_window_get_sweep (win);
  g_assert_cmpint (cl_sweep_grid_base (cl_sweep_get_grid (sweep))->train_steps, ==, 5);
  g_assert_true (gui_spin_until (sweep_finished, win, 120));
  /* let the window's poll see the end */
  gint64 until = g_get_monotonic_time () + 600000;
  while (g_get_monotonic_time () < until)
    g_main_context_iteration (NULL, FALSE);
  g_assert_true (g_str_has_prefix (gtk_progress_bar_get_text (bar), "Done: 4 points"));
  g_assert_cmpfloat (gtk_progress_bar_get_fraction (bar), ==, 1.0);

  int n = 0;
  g_autofree ClSweepRow *rows = cl_sweep_get_rows (sweep, &n);
  g_assert_cmpint (n, ==, 4);
  for (int p = 0; p < n; p++)
    {
      g_assert_cmpint (rows[p].state, ==, CL_SWEEP_POINT_DONE);
      double acc = cl_sweep_row_accuracy (&rows[p], "class");
      g_assert_cmpfloat (acc, >, 0.2);
      g_assert_cmpfloat (acc, <=, 1.0);
    }

  /* The window's figure draws every point where its value is. */
  g_autoptr (ClSweepPlotData) d = cl_sweep_plot_data_new (cl_sweep_get_grid (sweep), rows, n, "class", -1);
  cairo_surface_t *surface =
      cairo_image_surface_create (CAIRO_FORMAT_ARGB32, CL_SWEEP_PLOT_WIDTH, CL_SWEEP_PLOT_HEIGHT);
  cairo_t *cr = cairo_create (surface);
  cl_sweep_window_draw_figure (win, cr, CL_SWEEP_PLOT_WIDTH, CL_SWEEP_PLOT_HEIGHT);
  cairo_destroy (cr);
  cairo_surface_flush (surface);
  /* the same layout, measured on a scratch surface */
  cairo_surface_t *scratch =
      cairo_image_surface_create (CAIRO_FORMAT_ARGB32, CL_SWEEP_PLOT_WIDTH, CL_SWEEP_PLOT_HEIGHT);
  cr = cairo_create (scratch);
  ClSweepPlotLayout g;
  cl_sweep_plot_draw_full (cr, CL_SWEEP_PLOT_WIDTH, CL_SWEEP_PLOT_HEIGHT, d, &g);
  cairo_destroy (cr);
  cairo_surface_destroy (scratch);
  g_assert_true (g.lines);
  for (int x = 0; x < 2; x++)
    {
      double px, py, qx, qy;
      g_assert_true (cl_sweep_plot_point (&g, d, x, 0, &px, &py));
      g_assert_true (cl_sweep_plot_point (&g, d, x, 1, &qx, &qy));
      /* the later series is drawn on top when the two coincide */
      g_assert_cmpint (count_near (surface, cl_sweep_plot_series_color (1), qx, qy), >, 4);
      if (fabs (py - qy) > 8)
        g_assert_cmpint (count_near (surface, cl_sweep_plot_series_color (0), px, py), >, 4);
    }
  cairo_surface_destroy (surface);

  /* Exports: the figure with its metadata, the table with one line per point. */
  g_autofree char *dir = g_dir_make_tmp ("contrastlab-sweepwin-XXXXXX", &error);
  g_autofree char *png = g_build_filename (dir, "sweep.png", NULL);
  g_autofree char *csv_path = g_build_filename (dir, "sweep.csv", NULL);
  g_assert_true (cl_sweep_window_export_png (win, png, &error));
  g_assert_no_error (error);
  g_assert_true (cl_sweep_window_export_csv (win, csv_path, &error));
  g_assert_no_error (error);
  GHashTable *texts = NULL;
  g_assert_true (cl_png_read_text (png, &texts, &error));
  g_assert_true (g_str_has_prefix (g_hash_table_lookup (texts, "contrastlab:config"),
                                   "# sweep: data.bits=0,4 loss.temperature=0.1,0.2\n"));
  g_hash_table_unref (texts);
  g_autofree char *csv = NULL;
  g_assert_true (g_file_get_contents (csv_path, &csv, NULL, NULL));
  g_assert_true (g_str_has_prefix (csv, "data.bits,loss.temperature,class,"));
  g_auto (GStrv) lines = g_strsplit (csv, "\n", -1);
  g_assert_cmpint (g_strv_length (lines), ==, 6);
  g_assert_true (g_str_has_prefix (lines[4], "4,0.2,"));

  /* Optional: hold the finished window on screen for a screenshot. */
  const char *hold = g_getenv ("CL_SWEEP_WINDOW_HOLD_MS");
  if (hold)
    {
      gint64 end = g_get_monotonic_time () + 1000 * g_ascii_strtoll (hold, NULL, 10);
      while (g_get_monotonic_time () < end)
        {
          g_main_context_iteration (NULL, FALSE);
          g_usleep (5000);
        }
    }

  /* Cancel mid-way: the running point stops, later ones never start, earlier results stay. */
  base.train_steps = 100000;
  gtk_window_destroy (GTK_WINDOW (win));
  g_assert_null (g_object_get_data (G_OBJECT (parent), "cl-sweep-window"));
  win = cl_sweep_window_new (GTK_WINDOW (parent), &base);
  gtk_window_present (GTK_WINDOW (win));
  cl_sweep_window_set_text (win, "train.steps=4,100000,100001", "probe.every=0");
  g_assert_true (cl_sweep_window_start (win, &error));
  g_assert_true (gui_spin_until (first_point_running, win, 120));
  gint64 t0 = g_get_monotonic_time ();
  GtkWidget *cancel = find_button (GTK_WIDGET (win), "_Cancel");
  g_assert_nonnull (cancel);
  g_assert_true (gtk_widget_get_sensitive (cancel));
  g_signal_emit_by_name (cancel, "clicked");
  g_assert_true (gui_spin_until (sweep_finished, win, 30));
  g_test_message ("cancel took %.3f s", (g_get_monotonic_time () - t0) / 1e6);
  until = g_get_monotonic_time () + 600000;
  while (g_get_monotonic_time () < until)
    g_main_context_iteration (NULL, FALSE);
  g_assert_false (gtk_widget_get_sensitive (cancel));
  g_assert_true (g_str_has_prefix (
      gtk_progress_bar_get_text (GTK_PROGRESS_BAR (find_child (GTK_WIDGET (win), GTK_TYPE_PROGRESS_BAR))),
      "Cancelled after"));
  ClSweepRow row;
  sweep = cl_sweep_window_get_sweep (win);
  cl_sweep_get_row (sweep, 0, &row);
  g_assert_cmpint (row.state, ==, CL_SWEEP_POINT_DONE);
  cl_sweep_get_row (sweep, 1, &row);
  g_assert_cmpint (row.state, ==, CL_SWEEP_POINT_CANCELLED);
  g_assert_cmpint (row.steps, <, 100000);
  cl_sweep_get_row (sweep, 2, &row);
  g_assert_cmpint (row.state, ==, CL_SWEEP_POINT_PENDING);

  /* Closing a window with a running sweep does not wait for the sweep (it is freed off the GUI
   * thread). The cell trains 100000 steps, minutes even on an idle machine, so returning well
   * within that shows the window did not wait for it; the bound is wide because this is not a
   * speed test (a loaded CI machine took 1.2 s for what takes milliseconds idle). */
  cl_sweep_window_set_text (win, "train.steps=100000,100001", NULL);
  g_assert_true (cl_sweep_window_start (win, &error));
  t0 = g_get_monotonic_time ();
  gtk_window_destroy (GTK_WINDOW (win));
  g_assert_cmpfloat ((g_get_monotonic_time () - t0) / 1e6, <, 20.0);
  gtk_window_destroy (GTK_WINDOW (parent));
  /* The background free ends within a step (or a probe) of the cancel: wait for it, so the next
   * test and the process exit do not run under its thread (a fixed 2 s wait was too short on a
   * loaded machine: the process exited under a computing thread and crashed). */
  g_assert_true (cl_sweep_window_wait_discarded (120));
}

/* The point being trained is marked by a column the plot's full height (a pale band, ringed at
 * the top), not by a mark near y = 0 that reads like a zero result: the pixels that differ
 * between the figure with and without a running point span most of the height, in one narrow
 * column at the running point's x. */
static void
test_running_marker (void)
{
  ClConfig base;
  tiny_base (&base);
  GError *error = NULL;
  g_autoptr (ClSweepGrid) grid = cl_sweep_grid_new_from_text (&base, "data.bits=0,4,8", &error);
  g_assert_no_error (error);
  const int w = 900, h = 520;
  cairo_surface_t *img[2];
  for (int i = 0; i < 2; i++)
    {
      img[i] = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, w, h);
      cairo_t *cr = cairo_create (img[i]);
      g_autoptr (ClSweepPlotData) d = cl_sweep_plot_data_new (grid, NULL, 0, NULL, i == 0 ? -1 : 1);
      cl_sweep_plot_draw (cr, w, h, d);
      cairo_destroy (cr);
      cairo_surface_flush (img[i]);
    }
  int x0 = w, x1 = -1, y0 = h, y1 = -1;
  int stride = cairo_image_surface_get_stride (img[0]);
  const unsigned char *a = cairo_image_surface_get_data (img[0]), *b = cairo_image_surface_get_data (img[1]);
  /* the plot area only: the legend gains a "training now" entry at the top */
  for (int y = h / 6; y < h; y++)
    for (int x = 0; x < w; x++)
      if (memcmp (a + (size_t) y * stride + 4 * x, b + (size_t) y * stride + 4 * x, 4) != 0)
        {
          x0 = MIN (x0, x);
          x1 = MAX (x1, x);
          y0 = MIN (y0, y);
          y1 = MAX (y1, y);
        }
  g_assert_cmpint (x1, >=, 0);
  g_assert_cmpint (y1 - y0, >, h / 2);
  g_assert_cmpint (x1 - x0, <, 40);
  /* the middle of the three swept values: near the middle of the figure */
  g_assert_cmpint (abs ((x0 + x1) / 2 - w / 2), <, w / 6);
  cairo_surface_destroy (img[0]);
  cairo_surface_destroy (img[1]);
}

int
main (int argc, char **argv)
{
  gtk_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sweep-window/run-export-cancel", test_sweep_window);
  g_test_add_func ("/sweep-window/running-marker", test_running_marker);
  return g_test_run ();
}
