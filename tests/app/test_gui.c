/* The window, in-process under Xvfb: it trains, its live changes reach the engine and the charts, it
 * exports (every format, the dashboard, PNGs that replay), shows probes in progress, opens Sweep…. */
#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "app/cl_sweep_window.h"
#include "app/cl_window_private.h"
#include "engine/store/cl_runs.h"
#include "tests/app/gui_test_util.h"
#include "ui/cl_png.h"

static gboolean
has_two_events (gpointer data)
{
  ClSnapshot *s = cl_trainer_get_snapshot (cl_window_get_trainer (data));
  gboolean ok = s->n_events >= 2 && s->rows[s->n_rows - 1].step > s->events[s->n_events - 1].step + 1;
  cl_snapshot_unref (s);
  return ok;
}

static gboolean
is_pending (gpointer row)
{
  return gtk_widget_has_css_class (GTK_WIDGET (row), "pending");
}

static void
move_slider (ClWindow *win, const char *key, double position)
{
  ClParamRow *row = cl_window_get_param_row (win, key);
  g_assert_nonnull (row);
  GtkWidget *control = cl_param_row_get_control (row);
  g_assert_true (GTK_IS_SCALE (control));
  /* The tooltip comes from the parameter table. */
  const char *tip = gtk_widget_get_tooltip_text (GTK_WIDGET (row));
  g_assert_nonnull (tip);
  g_assert_nonnull (strstr (tip, cl_param_row_get_param (row)->help));
  gtk_range_set_value (GTK_RANGE (control), position);
}

static gboolean
exports_done (gpointer win)
{
  return !cl_window_exports_running (win);
}

static gboolean
file_has_prefix (const char *path, const char *prefix)
{
  char *text = NULL;
  gsize len = 0;
  if (!g_file_get_contents (path, &text, &len, NULL))
    return FALSE;
  gboolean ok = len >= strlen (prefix) && memcmp (text, prefix, strlen (prefix)) == 0;
  g_free (text);
  return ok;
}

/* Every format, the dashboard, refusal to overwrite, and the message dialog of a failed export. */
static void
test_window_export_formats (void)
{
  ClConfig cfg;
  gui_test_config (&cfg, 32, 100000);
  ClWindow *win = gui_present_window (&cfg, 2);

  GError *error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("contrastlab-gui-XXXXXX", &error);
  g_assert_no_error (error);
  cl_window_show_figure (win, CL_FIGURE_GEOMETRY);
  g_autofree char *svg = g_build_filename (dir, "geometry.svg", NULL);
  g_autofree char *pdf = g_build_filename (dir, "geometry.pdf", NULL);
  g_autofree char *dash = g_build_filename (dir, "dashboard.png", NULL);
  g_assert_true (cl_window_export (win, svg, FALSE, 1.0, CL_EXPORT_FLAGS_NONE, &error));
  g_assert_no_error (error);
  g_assert_true (cl_window_export (win, pdf, FALSE, 1.0, CL_EXPORT_FLAGS_NONE, &error));
  g_assert_no_error (error);
  g_assert_true (cl_window_export (win, dash, TRUE, 2.0, CL_EXPORT_FLAGS_NONE, &error));
  g_assert_no_error (error);
  g_assert_true (file_has_prefix (svg, "<?xml"));
  g_assert_true (file_has_prefix (pdf, "%PDF-"));
  int dw, dh;
  cl_export_panels_size (&dw, &dh);
  cairo_surface_t *img = cairo_image_surface_create_from_png (dash);
  g_assert_cmpint (cairo_image_surface_get_width (img), ==, 2 * dw);
  g_assert_cmpint (cairo_image_surface_get_height (img), ==, 2 * dh);
  cairo_surface_destroy (img);
  /* The figure export is the shown figure: its title is in the SVG. */
  char *text = NULL;
  g_assert_true (g_file_get_contents (svg, &text, NULL, NULL));
  g_assert_nonnull (strstr (text, "<title>Geometry of z, step"));
  g_free (text);

  /* Programmatic exports never replace a file unless told to. */
  g_assert_false (cl_window_export_png (win, dash, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_EXIST);
  g_clear_error (&error);
  g_autofree char *noext = g_build_filename (dir, "figure.jpeg", NULL);
  g_assert_false (cl_window_export (win, noext, FALSE, 1.0, CL_EXPORT_FLAGS_NONE, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL);
  g_clear_error (&error);

  /* What the dialog does: a good path is written on a worker thread... */
  g_autofree char *async_png = g_build_filename (dir, "async.png", NULL);
  cl_window_export_async (win, async_png, FALSE, 1.0, CL_EXPORT_FLAGS_NONE);
  g_assert_true (gui_spin_until (exports_done, win, 30));
  g_assert_true (file_has_prefix (async_png, "\x89PNG"));
  g_assert_null (gui_find_message_dialog ());
  /* ...and an unwritable folder gives a message dialog that names the file, and no file.
   * (sysfs is read-only even for root.) */
  const char *bad = "/sys/contrastlab-gui-test.pdf";
  cl_window_export_async (win, bad, TRUE, 1.0, CL_EXPORT_FLAGS_NONE);
  g_assert_true (gui_spin_until (gui_message_dialog_shown, NULL, 30));
  GtkMessageDialog *msg = gui_find_message_dialog ();
  g_autofree char *primary = NULL, *secondary = NULL;
  g_object_get (msg, "text", &primary, "secondary-text", &secondary, NULL);
  g_assert_nonnull (strstr (primary, "contrastlab-gui-test.pdf"));
  g_assert_nonnull (strstr (secondary, bad));
  g_assert_nonnull (strstr (secondary, "Nothing was written"));
  g_assert_true (gtk_window_get_transient_for (GTK_WINDOW (msg)) == GTK_WINDOW (win));
  g_assert_false (g_file_test (bad, G_FILE_TEST_EXISTS));
  gtk_window_destroy (GTK_WINDOW (msg));

  /* CSV: the four files of the run, and a second export into the same folder is refused. */
  g_assert_true (cl_window_export_csv (win, dir, CL_EXPORT_FLAGS_NONE, &error));
  g_assert_no_error (error);
  g_autofree char *sim_csv = g_build_filename (dir, "similarity.csv", NULL);
  g_autofree char *metrics_csv = g_build_filename (dir, "metrics.csv", NULL);
  g_assert_true (file_has_prefix (sim_csv, "label,image,view,class,code,i0.v1,"));
  g_assert_true (file_has_prefix (metrics_csv, "step,seconds,loss,alignment,distribution,contrastive_acc"));
  g_assert_false (cl_window_export_csv (win, dir, CL_EXPORT_FLAGS_NONE, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_EXIST);
  g_clear_error (&error);
  g_assert_true (cl_window_export_csv (win, dir, CL_EXPORT_OVERWRITE, &error));
  g_assert_no_error (error);

  const char *names[] = { "async.png",   "dashboard.png", "geometry.pdf", "geometry.svg",
                          "metrics.csv", "probes.csv",    "clusters.csv", "similarity.csv" };
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *p = g_build_filename (dir, names[i], NULL);
      g_assert_cmpint (g_remove (p), ==, 0);
    }
  g_assert_cmpint (g_rmdir (dir), ==, 0); /* nothing else (no temp file) was left */
  gtk_window_destroy (GTK_WINDOW (win));
}

/* Mean absolute difference per channel between a w x h region of a (at x, y) and all of b. */
static double
region_difference (cairo_surface_t *a, int x, int y, cairo_surface_t *b)
{
  int w = cairo_image_surface_get_width (b), h = cairo_image_surface_get_height (b);
  const guint8 *pa = cairo_image_surface_get_data (a), *pb = cairo_image_surface_get_data (b);
  int sa = cairo_image_surface_get_stride (a), sb = cairo_image_surface_get_stride (b);
  double sum = 0;
  for (int r = 0; r < h; r++)
    for (int c = 0; c < w; c++)
      for (int ch = 0; ch < 3; ch++)
        sum += fabs ((double) pa[(y + r) * sa + 4 * (x + c) + ch] - pb[r * sb + 4 * c + ch]);
  return sum / (3.0 * w * h);
}

static cairo_surface_t *
render_figure (ClFigureKind kind, int w, int h, const ClSnapshot *s, const ClFigureOptions *o)
{
  cairo_surface_t *surf = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, w, h);
  cairo_t *cr = cairo_create (surf);
  cl_figure_draw_with (kind, cr, w, h, s, o);
  cairo_destroy (cr);
  cairo_surface_flush (surf);
  return surf;
}

static gboolean
snapshot_still (gpointer win)
{
  static ClSnapshot *last;
  ClSnapshot *s = cl_trainer_get_snapshot (cl_window_get_trainer (win));
  gboolean same = s == last;
  last = s;
  cl_snapshot_unref (s);
  g_usleep (200000);
  return same;
}

/* The window opens on the live dashboard; "Export Dashboard…" writes what it shows: the same
 * panels in the same places, each drawn by its figure's renderer at the export cell size. */
static void
test_live_dashboard (void)
{
  ClConfig cfg;
  gui_test_config (&cfg, 32, 100000);
  ClWindow *win = gui_present_window (&cfg, -1);
  g_assert_true (cl_window_dashboard_shown (win));
  g_assert_true (gui_wait_for_step (win, 5, 60));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (win), "win.play-pause", NULL));
  g_assert_true (gui_spin_until (snapshot_still, win, 30));
  gui_spin_until (gui_message_dialog_shown, NULL, 0.3); /* a tick hands the snapshot to the views */

  GError *error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("contrastlab-dash-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "dashboard.png", NULL);
  g_assert_true (cl_window_export (win, path, TRUE, 1.0, CL_EXPORT_FLAGS_NONE, &error));
  g_assert_no_error (error);
  cairo_surface_t *img = cairo_image_surface_create_from_png (path);
  g_assert_cmpint (cairo_surface_status (img), ==, CAIRO_STATUS_SUCCESS);
  int dw, dh;
  cl_export_panels_size (&dw, &dh);
  g_assert_cmpint (cairo_image_surface_get_width (img), ==, dw);
  g_assert_cmpint (cairo_image_surface_get_height (img), ==, dh);
  ClSnapshot *s = cl_trainer_get_snapshot (cl_window_get_trainer (win));
  for (int i = 0; i < CL_DASHBOARD_N_PANELS; i++)
    {
      ClFigureKind kind = cl_dashboard_panels[i], other = cl_dashboard_panels[(i + 1) % CL_DASHBOARD_N_PANELS];
      double x, y, w, h;
      cl_export_panel_rect (dw, dh, i, &x, &y, &w, &h);
      int fw, fh;
      cl_figure_export_size (kind, &fw, &fh);
      g_assert_cmpfloat (w, ==, 900);
      g_assert_cmpfloat (h, ==, 560);
      cairo_surface_t *same = render_figure (kind, (int) w, (int) h, s, cl_window_get_figure_options (win, kind));
      cairo_surface_t *diff = render_figure (other, (int) w, (int) h, s, cl_window_get_figure_options (win, other));
      double d_same = region_difference (img, (int) x, (int) y, same);
      double d_other = region_difference (img, (int) x, (int) y, diff);
      g_test_message ("panel %d (%s): %.3f from its renderer, %.3f from %s's", i, cl_figure_slug (kind), d_same,
                      d_other, cl_figure_slug (other));
      g_assert_cmpfloat (d_same, <, 0.5);
      g_assert_cmpfloat (d_other, >, 5 * MAX (d_same, 0.2));
      /* A click on the panel opens that figure's tab. */
      g_assert_cmpint (cl_export_panel_hit (dw, dh, x + w / 2, y + h / 2), ==, kind);
      cairo_surface_destroy (same);
      cairo_surface_destroy (diff);
    }
  g_assert_cmpint (cl_export_panel_hit (dw, dh, 2, 2), ==, -1);
  cl_snapshot_unref (s);
  cairo_surface_destroy (img);
  g_assert_cmpint (g_remove (path), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
  cl_window_show_figure (win, CL_FIGURE_PROBES);
  g_assert_false (cl_window_dashboard_shown (win));
  gtk_window_destroy (GTK_WINDOW (win));
}

static gboolean
run_finished (gpointer win)
{
  ClSnapshot *s = cl_trainer_get_snapshot (cl_window_get_trainer (win));
  gboolean done = s->finished;
  cl_snapshot_unref (s);
  return done;
}

/* metrics.csv without its wall-clock column (seconds), which no two runs share. */
static char *
metrics_without_seconds (const char *csv)
{
  g_auto (GStrv) lines = g_strsplit (csv, "\n", -1);
  GString *out = g_string_new (NULL);
  for (int i = 0; lines[i]; i++)
    {
      g_auto (GStrv) cells = g_strsplit (lines[i], ",", -1);
      for (int c = 0; cells[c]; c++)
        if (c != 1)
          g_string_append_printf (out, "%s%s", c ? "," : "", cells[c]);
      g_string_append_c (out, '\n');
    }
  return g_string_free (out, FALSE);
}

/* Honest records: a run with a live change, exported as PNG, carries the change in its
 * contrastlab:events chunk; `contrastlab --headless --preset FIG.png` replays it at the same step
 * and writes the same metrics.csv (all but the wall-clock seconds). */
static void
test_png_replays_live_changes (void)
{
  ClConfig cfg;
  /* Batch 64, not 16: the change must land between steps 6 and 40, and at batch 16 a window
   * whose first frames are slow under load (2 cores, load ~10) could miss that (seen 1 in 3). */
  gui_test_config (&cfg, 64, 40);
  cfg.train_threads = 1;
  cfg.data_bits = 3;
  cfg.probe_every = 0;
  cfg.probe_images = 200;
  ClWindow *win = gui_present_window (&cfg, 6);
  g_assert_true (cl_param_row_commit_text (cl_window_get_param_row (win, "loss.temperature"), "0.3", NULL));
  g_assert_true (gui_spin_until (run_finished, win, 120));
  ClSnapshot *s = cl_trainer_get_snapshot (cl_window_get_trainer (win));
  g_assert_cmpint (s->n_events, ==, 1);
  g_assert_cmpint (s->events[0].step, >, 6);
  g_assert_cmpint (s->events[0].step, <, 40);

  GError *error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("contrastlab-replay-XXXXXX", &error);
  g_autofree char *png = g_build_filename (dir, "figure.png", NULL);
  g_assert_true (cl_window_export (win, png, FALSE, 1.0, CL_EXPORT_FLAGS_NONE, &error));
  g_assert_no_error (error);
  GHashTable *texts = NULL;
  g_assert_true (cl_png_read_text (png, &texts, &error));
  g_assert_no_error (error);
  g_autofree char *events_csv = cl_runs_events_csv (s);
  g_assert_cmpstr (g_hash_table_lookup (texts, "contrastlab:events"), ==, events_csv);
  g_hash_table_unref (texts);

  g_autofree char *out = g_build_filename (dir, "rerun", NULL);
  const char *argv[] = { g_getenv ("CONTRASTLAB_BIN"), "--headless", "--preset", png, "--out", out, NULL };
  g_assert_nonnull (argv[0]);
  int status = -1;
  g_autofree char *err_text = NULL;
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, &err_text,
                               &status, &error));
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("the re-run failed: %s", err_text);
  g_autofree char *metrics_path = g_build_filename (out, "metrics.csv", NULL);
  g_autofree char *events_path = g_build_filename (out, "events.csv", NULL);
  g_autofree char *rerun_metrics = NULL, *rerun_events = NULL;
  g_assert_true (g_file_get_contents (metrics_path, &rerun_metrics, NULL, &error));
  g_assert_true (g_file_get_contents (events_path, &rerun_events, NULL, &error));
  g_autofree char *live_metrics = cl_runs_metrics_csv (s);
  g_autofree char *a = metrics_without_seconds (live_metrics), *b = metrics_without_seconds (rerun_metrics);
  g_assert_cmpstr (a, ==, b);
  g_assert_cmpstr (rerun_events, ==, events_csv);
  cl_snapshot_unref (s);
  gtk_window_destroy (GTK_WINDOW (win));
  g_autofree char *rm = g_strdup_printf ("rm -rf '%s'", dir);
  g_assert_cmpint (system (rm), ==, 0);
}

static void
test_window_trains_and_exports (void)
{
  ClConfig cfg;
  gui_test_config (&cfg, 32, 100000);
  ClWindow *win = gui_present_window (&cfg, -1);
  g_assert_nonnull (cl_window_get_trainer (win));

  g_assert_true (gui_wait_for_step (win, 3, 60));

  /* The temperature slider is log-scale: position log10(0.25). */
  move_slider (win, "loss.temperature", log10 (0.25));
  move_slider (win, "aug.jitter", 0.8);
  g_assert_true (gui_spin_until (has_two_events, win, 30));

  ClSnapshot *s = cl_trainer_get_snapshot (cl_window_get_trainer (win));
  gint64 t_step = -1;
  for (int i = 0; i < s->n_events; i++)
    {
      const ClEvent *e = &s->events[i];
      if (strcmp (e->key, "loss.temperature") == 0)
        {
          g_assert_cmpstr (e->new_value, ==, "0.25");
          t_step = e->step;
        }
      else
        {
          g_assert_cmpstr (e->key, ==, "aug.jitter");
          g_assert_cmpstr (e->new_value, ==, "0.8");
        }
    }
  g_assert_cmpint (t_step, >, 3);
  /* The engine used the new value from the event's step on, and the old one before. */
  for (int i = 0; i < s->n_rows; i++)
    g_assert_cmpfloat (s->rows[i].temperature, ==, s->rows[i].step >= t_step ? 0.25f : 0.1f);
  cl_snapshot_unref (s);

  GError *error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("contrastlab-gui-XXXXXX", &error);
  g_autofree char *png = g_build_filename (dir, "loss.png", NULL);
  g_assert_true (cl_window_export_png (win, png, &error));
  g_assert_no_error (error);
  GHashTable *texts = NULL;
  g_assert_true (cl_png_read_text (png, &texts, &error));
  g_assert_no_error (error);
  const char *config = g_hash_table_lookup (texts, "contrastlab:config");
  g_assert_nonnull (config);
  g_assert_nonnull (strstr (config, "temperature=0.25"));
  g_assert_nonnull (strstr (config, "jitter=0.8"));
  g_assert_true (g_str_has_prefix (g_hash_table_lookup (texts, "Software"), "ContrastLab "));
  g_assert_nonnull (g_hash_table_lookup (texts, "contrastlab:step"));
  g_hash_table_unref (texts);

  /* Save the configuration, then restore another from the exported PNG: the PNG's values win. */
  g_autofree char *ini = g_build_filename (dir, "saved.ini", NULL);
  g_assert_true (cl_window_save_config (win, ini, &error));
  g_assert_no_error (error);
  ClConfig saved;
  cl_config_init (&saved);
  g_assert_true (cl_config_load_file (&saved, ini, &error));
  g_assert_cmpfloat (saved.loss_temperature, ==, 0.25);
  g_assert_true (cl_window_load (win, "default", &error));
  g_assert_no_error (error);
  ClConfig now_cfg;
  cl_trainer_get_config (cl_window_get_trainer (win), &now_cfg);
  g_assert_cmpfloat (now_cfg.loss_temperature, ==, 0.1);
  /* The PNG's run began at 0.1 and 0.4 and changed live: the restored run starts there and
   * replays the changes at their steps, so it ends at the PNG's values. */
  g_assert_true (cl_window_load (win, png, &error));
  g_assert_no_error (error);
  cl_trainer_get_config (cl_window_get_trainer (win), &now_cfg);
  g_assert_cmpfloat (now_cfg.loss_temperature, ==, 0.1);
  g_assert_cmpfloat (now_cfg.aug_jitter, ==, cfg.aug_jitter);
  g_assert_true (gui_spin_until (has_two_events, win, 60));
  gui_spin_until (gui_message_dialog_shown, NULL, 0.3); /* a tick shows the replayed values */
  ClSnapshot *rs = cl_trainer_get_snapshot (cl_window_get_trainer (win));
  for (int i = 0; i < rs->n_events; i++)
    if (strcmp (rs->events[i].key, "loss.temperature") == 0)
      g_assert_cmpint (rs->events[i].step, ==, t_step);
  cl_snapshot_unref (rs);
  cl_trainer_get_config (cl_window_get_trainer (win), &now_cfg);
  g_assert_cmpfloat (now_cfg.loss_temperature, ==, 0.25);
  g_assert_cmpfloat (now_cfg.aug_jitter, ==, 0.8);
  g_assert_cmpint (now_cfg.train_batch, ==, 32);
  /* The slider shows the restored value. */
  GtkWidget *tscale = cl_param_row_get_control (cl_window_get_param_row (win, "loss.temperature"));
  g_assert_cmpfloat (fabs (gtk_range_get_value (GTK_RANGE (tscale)) - log10 (0.25)), <, 1e-9);
  /* A file that is not a ContrastLab PNG is refused with a message, and the run goes on. */
  g_autofree char *bogus = g_build_filename (dir, "bogus.png", NULL);
  g_assert_true (g_file_set_contents (bogus, "not a png", -1, NULL));
  ClTrainer *kept = cl_window_get_trainer (win);
  g_assert_false (cl_window_load (win, bogus, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_true (cl_window_get_trainer (win) == kept);

  /* A restart key is held back until the user restarts. */
  ClParamRow *head = cl_window_get_param_row (win, "model.head_layers");
  g_assert_nonnull (head);
  ClTrainer *before = cl_window_get_trainer (win);
  gtk_range_set_value (GTK_RANGE (cl_param_row_get_control (head)), 3);
  g_assert_true (gui_spin_until (is_pending, head, 5));
  g_assert_true (gtk_widget_has_css_class (GTK_WIDGET (head), "pending"));
  g_assert_true (cl_window_get_trainer (win) == before);
  /* Reset applies it: a new run starts from step 0. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (win), "win.reset", NULL));
  g_assert_true (cl_window_get_trainer (win) != before);
  g_assert_false (gtk_widget_has_css_class (GTK_WIDGET (head), "pending"));
  ClConfig now;
  cl_trainer_get_config (cl_window_get_trainer (win), &now);
  g_assert_cmpint (now.model_head_layers, ==, 3);
  g_assert_cmpfloat (now.loss_temperature, ==, 0.25);
  g_assert_true (gui_wait_for_step (win, 2, 60));

  gtk_window_destroy (GTK_WINDOW (win));
}

static GtkWindow *
find_sweep_window (void)
{
  GList *tops = gtk_window_list_toplevels ();
  GtkWindow *found = NULL;
  for (GList *l = tops; l; l = l->next)
    if (G_TYPE_CHECK_INSTANCE_TYPE (l->data, CL_TYPE_SWEEP_WINDOW) && gtk_widget_get_visible (l->data))
      found = l->data;
  g_list_free (tops);
  return found;
}

/* "Sweep…" (Ctrl+Shift+W) opens the sweep window for this window's configuration. */
static void
test_sweep_action (void)
{
  ClConfig cfg;
  gui_test_config (&cfg, 16, 0);
  ClWindow *win = gui_present_window (&cfg, -1);
  g_assert_null (find_sweep_window ());
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (win), "win.sweep", NULL));
  GtkWindow *sweep = find_sweep_window ();
  g_assert_nonnull (sweep);
  g_assert_true (gtk_window_get_transient_for (sweep) == GTK_WINDOW (win));
  /* Prefilled from the window's configuration: the text names parameters of the table. */
  const char *grid = cl_sweep_window_get_sweep_text (CL_SWEEP_WINDOW (sweep));
  g_assert_nonnull (grid);
  g_assert_nonnull (strchr (grid, '='));
  gtk_window_destroy (sweep);
  gtk_window_destroy (GTK_WINDOW (win));
}

static gboolean
probing (gpointer win)
{
  return cl_window_is_probing (win);
}

static gboolean
not_probing (gpointer win)
{
  return !cl_window_is_probing (win);
}

/* While a probe runs (the trainer publishes nothing), the status bar says so instead of
 * looking frozen, and the probe's results arrive when it goes away. */
static void
test_probe_progress (void)
{
  ClConfig cfg;
  gui_test_config (&cfg, 16, 100000);
  cfg.probe_every = 5;
  /* The step-0 probe first, then those every 5 steps: catch one after training began. */
  ClWindow *win = gui_present_window (&cfg, 2);
  g_assert_true (gui_spin_until (not_probing, win, 60));
  ClSnapshot *before = cl_trainer_get_snapshot (cl_window_get_trainer (win));
  g_assert_true (gui_spin_until (probing, win, 60));
  g_assert_true (gui_spin_until (not_probing, win, 60));
  ClSnapshot *after = cl_trainer_get_snapshot (cl_window_get_trainer (win));
  g_assert_cmpint (after->n_probes, >, before->n_probes);
  g_assert_cmpfloat (after->probe_seconds, >, before->probe_seconds);
  g_assert_cmpint (after->probes[after->n_probes - 1].step % 5, ==, 0);
  cl_snapshot_unref (before);
  cl_snapshot_unref (after);
  /* Paused, nothing is "probing" however long the snapshot stays the same. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (win), "win.play-pause", NULL));
  g_assert_true (gui_spin_until (not_probing, win, 60));
  gint64 end = g_get_monotonic_time () + G_USEC_PER_SEC;
  while (g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_assert_false (cl_window_is_probing (win));
      g_usleep (1000);
    }
  gtk_window_destroy (GTK_WINDOW (win));
}

int
main (int argc, char **argv)
{
  gtk_test_init (&argc, &argv, NULL);
  /* Runs go to a private store, never to the user's data dir. */
  g_autofree char *data_dir = g_dir_make_tmp ("contrastlab-gui-data-XXXXXX", NULL);
  g_assert_nonnull (data_dir);
  g_setenv ("CONTRASTLAB_DATA_DIR", data_dir, TRUE);
  /* Probes can be quick here: show the probe bar after 50 ms instead of 400 (read once). */
  g_setenv ("CONTRASTLAB_PROBE_BAR_DELAY_MS", "50", TRUE);
  g_test_add_func ("/gui/window-trains-and-exports", test_window_trains_and_exports);
  g_test_add_func ("/gui/window-export-formats", test_window_export_formats);
  g_test_add_func ("/gui/live-dashboard", test_live_dashboard);
  g_test_add_func ("/gui/png-replays-live-changes", test_png_replays_live_changes);
  g_test_add_func ("/gui/sweep-action", test_sweep_action);
  g_test_add_func ("/gui/probe-progress", test_probe_progress);
  return g_test_run ();
}
