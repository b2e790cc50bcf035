/* The window, in-process under Xvfb: it trains, its sliders reach the engine, it exports. */
#include <gtk/gtk.h>
#include <math.h>
#include <string.h>

#include "app/cl_window.h"
#include "ui/cl_png.h"

static gboolean
spin_until (gboolean (*cond) (gpointer), gpointer data, double timeout_s)
{
  gint64 end = g_get_monotonic_time () + (gint64) (timeout_s * G_USEC_PER_SEC);
  while (g_get_monotonic_time () < end)
    {
      if (cond (data))
        return TRUE;
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  return cond (data);
}

static gint64 wanted_step;
static gboolean
reached_step (gpointer data)
{
  ClSnapshot *s = cl_trainer_get_snapshot (cl_window_get_trainer (data));
  gboolean ok = s->step >= wanted_step;
  cl_snapshot_unref (s);
  return ok;
}

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

static void
test_window_trains_and_exports (void)
{
  ClConfig cfg;
  cl_config_init (&cfg);
  cfg.train_batch = 32;
  cfg.train_steps = 100000;
  ClWindow *win = cl_window_new (NULL, &cfg);
  gtk_window_present (GTK_WINDOW (win));
  g_assert_nonnull (cl_window_get_trainer (win));

  wanted_step = 3;
  g_assert_true (spin_until (reached_step, win, 60));

  /* The temperature slider is log-scale: position log10(0.25). */
  move_slider (win, "loss.temperature", log10 (0.25));
  move_slider (win, "aug.jitter", 0.8);
  g_assert_true (spin_until (has_two_events, win, 30));

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
  g_assert_true (cl_window_load (win, png, &error));
  g_assert_no_error (error);
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
  g_assert_true (spin_until (is_pending, head, 5));
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
  wanted_step = 2;
  g_assert_true (spin_until (reached_step, win, 60));

  gtk_window_destroy (GTK_WINDOW (win));
}

int
main (int argc, char **argv)
{
  gtk_test_init (&argc, &argv, NULL);
  g_test_add_func ("/gui/window-trains-and-exports", test_window_trains_and_exports);
  return g_test_run ();
}
