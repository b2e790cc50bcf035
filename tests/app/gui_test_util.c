#include "tests/app/gui_test_util.h"

gboolean
gui_spin_until (gboolean (*cond) (gpointer), gpointer data, double timeout_s)
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

void
gui_spin (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

void
gui_spin_ms (int ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;
  while (g_get_monotonic_time () < end)
    {
      gui_spin ();
      g_usleep (2000);
    }
}

typedef struct
{
  ClWindow *win;
  gint64 step;
} StepWait;

static gboolean
reached_step (gpointer data)
{
  StepWait *w = data;
  ClSnapshot *s = cl_trainer_get_snapshot (cl_window_get_trainer (w->win));
  gboolean ok = s->step >= w->step;
  cl_snapshot_unref (s);
  return ok;
}

gboolean
gui_wait_for_step (ClWindow *win, gint64 step, double timeout_s)
{
  StepWait w = { win, step };
  return gui_spin_until (reached_step, &w, timeout_s);
}

gboolean
gui_has_rows (gpointer win)
{
  ClSnapshot *s = cl_trainer_get_snapshot (cl_window_get_trainer (win));
  gboolean ok = s->n_rows >= 2;
  cl_snapshot_unref (s);
  return ok;
}

void
gui_test_config (ClConfig *cfg, int batch, int steps)
{
  cl_config_init (cfg);
  cfg->train_batch = batch;
  if (steps > 0)
    cfg->train_steps = steps;
}

ClWindow *
gui_present_window (const ClConfig *cfg, gint64 step)
{
  ClWindow *win = cl_window_new (NULL, cfg);
  gtk_window_present (GTK_WINDOW (win));
  if (step >= 0)
    g_assert_true (gui_wait_for_step (win, step, 60));
  return win;
}

ClWindow *
gui_new_small_window (ClConfig *cfg)
{
  gui_test_config (cfg, 16, 100000);
  cfg->probe_every = 0;
  ClWindow *win = gui_present_window (cfg, -1);
  g_assert_true (gui_spin_until (gui_has_rows, win, 120));
  return win;
}

GtkMessageDialog *
gui_find_message_dialog (void)
{
  GList *tops = gtk_window_list_toplevels ();
  GtkMessageDialog *found = NULL;
  for (GList *l = tops; l; l = l->next)
    if (GTK_IS_MESSAGE_DIALOG (l->data) && gtk_widget_get_visible (l->data))
      found = l->data;
  g_list_free (tops);
  return found;
}

gboolean
gui_message_dialog_shown (gpointer data)
{
  (void) data;
  return gui_find_message_dialog () != NULL;
}
