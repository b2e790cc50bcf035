/* The status line under the figures, the probe progress bar, notices and messages. */
#include "app/cl_window_private.h"

#include <math.h>
#include <string.h>

#include "cl_config.h"
#include "engine/base/cl_format.h"
#include "engine/store/cl_runs.h"
#include "ui/cl_figure_view.h"

void
cl_window_show_error (ClWindow *self, const char *message)
{
  gtk_label_set_text (self->error_label, message);
  gtk_revealer_set_reveal_child (self->error_revealer, TRUE);
}

void
cl_window_status_update (ClWindow *self, const ClSnapshot *s)
{
  char elapsed[32];
  cl_format_duration (s->seconds, elapsed, sizeof elapsed);
  GString *text = g_string_new (NULL);
  if (self->show_a)
    g_string_append_printf (text, "Showing %s (%" G_GINT64_FORMAT " steps; pick A = live run to go back)   ·   live: ",
                            cl_run_entry_label (self->show_a), self->show_a->snap ? self->show_a->snap->step : 0);
  if (s->error)
    g_string_append_printf (text, "Stopped: %s", s->error);
  else
    {
      g_string_append_printf (text,
                              "step %" G_GINT64_FORMAT " / %" G_GINT64_FORMAT "   ·   %.1f steps/s   ·   %s elapsed",
                              s->step, s->total_steps, s->paused ? 0.0 : s->steps_per_second, elapsed);
      if (s->n_rows > 0)
        {
          const ClMetricRow *r = &s->rows[s->n_rows - 1];
          g_string_append_printf (text, "   ·   loss %.4f   ·   contrastive acc %.3f", r->loss, r->contrastive_acc);
          if (r->code_collision == r->code_collision)
            g_string_append_printf (text, "   ·   codes shared in batch %.1f%%", 100.0 * r->code_collision);
        }
      if (s->finished)
        g_string_append (text, "   ·   finished");
      else if (s->paused)
        g_string_append (text, "   ·   paused");
    }
  gtk_label_set_text (self->status_label, text->str);
  g_string_free (text, TRUE);
}

/* The step whose probe may be running when the snapshot s stopped changing, or -1 if none is
 * due. The probe runs right after the step that makes step % probe.every == 0, before that
 * step is published, and snapshots are published at most every 50 ms: at r steps/s the last
 * one may be up to 0.05 r steps behind (twice that is allowed for). */
static gint64
probe_step_after (ClWindow *self, const ClSnapshot *s)
{
  gint64 every = self->run_config.probe_every, k = s->step;
  gint64 lag = MAX (1, (gint64) ceil (s->steps_per_second * 0.1));
  if (k == 0)
    return 0;
  if (k + lag >= s->total_steps)
    return s->total_steps;
  if (every <= 0)
    return -1;
  gint64 next = (k + every - 1) / every * every;
  return next - k <= lag ? next : -1;
}

/* Quick probes never flash a bar. Tests shorten the wait with CONTRASTLAB_PROBE_BAR_DELAY_MS, so
 * that they see the bar on machines where probes are fast. */
static gint64
probe_show_after_us (void)
{
  static gint64 delay = -1;
  if (delay < 0)
    {
      const char *env = g_getenv ("CONTRASTLAB_PROBE_BAR_DELAY_MS");
      delay = env ? 1000 * (gint64) g_ascii_strtoull (env, NULL, 10) : 400000;
    }
  return delay;
}

void
cl_window_status_update_probe_bar (ClWindow *self, gint64 now, gboolean new_snapshot)
{
  const ClSnapshot *s = self->shown;
  if (new_snapshot)
    {
      if (self->probing)
        {
          double took = s->probe_seconds - self->probe_seconds_before;
          if (took > 0.05)
            self->last_probe_duration = took;
          self->probing = FALSE;
          gtk_widget_set_visible (GTK_WIDGET (self->probe_bar), FALSE);
        }
      self->last_snapshot_us = now;
      return;
    }
  if (!s)
    return;
  if (!self->probing)
    {
      gboolean running = self->trainer && !self->paused && !s->paused && !s->finished && !s->error;
      /* The trainer says when it probes; the snapshot that stops changing only delays the bar, so
       * quick probes never flash it (a slow step on a busy machine is not a probe). */
      if (!running || now - self->last_snapshot_us < probe_show_after_us () || !cl_trainer_is_probing (self->trainer) ||
          probe_step_after (self, s) < 0)
        return;
      self->probing = TRUE;
      self->probe_seconds_before = s->probe_seconds;
      self->probe_bar_update_us = 0;
      gtk_widget_set_visible (GTK_WIDGET (self->probe_bar), TRUE);
    }
  if (self->paused)
    return;
  if (now - self->probe_bar_update_us < 100000)
    return;
  self->probe_bar_update_us = now;
  double elapsed = (now - self->last_snapshot_us) / 1e6;
  gint64 at = probe_step_after (self, s);
  char text[160];
  if (self->last_probe_duration > 0)
    {
      double left = self->last_probe_duration - elapsed;
      gtk_progress_bar_set_fraction (self->probe_bar, CLAMP (elapsed / self->last_probe_duration, 0.0, 0.97));
      if (left >= 1.0)
        g_snprintf (text, sizeof text, "Probing at step %" G_GINT64_FORMAT " · about %.0f s left", at, left);
      else
        g_snprintf (text, sizeof text, "Probing at step %" G_GINT64_FORMAT " · finishing…", at);
    }
  else
    {
      gtk_progress_bar_pulse (self->probe_bar);
      if (at == 0)
        g_snprintf (text, sizeof text, "Probing the untrained encoder · %.0f s", elapsed);
      else
        g_snprintf (text, sizeof text, "Probing at step %" G_GINT64_FORMAT " · %.0f s", at, elapsed);
    }
  gtk_progress_bar_set_text (self->probe_bar, text);
}

gboolean
cl_window_is_probing (ClWindow *self)
{
  return self->probing;
}

/* ---------------------------------------------------------------- messages */

void
cl_window_present_message (ClWindow *self, GtkMessageType type, const char *primary, const char *secondary)
{
  GtkWidget *msg = gtk_message_dialog_new (GTK_WINDOW (self), GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT, type,
                                           GTK_BUTTONS_CLOSE, "%s", primary);
  gtk_message_dialog_format_secondary_text (GTK_MESSAGE_DIALOG (msg), "%s", secondary);
  g_signal_connect (msg, "response", G_CALLBACK (gtk_window_destroy), NULL);
  gtk_window_present (GTK_WINDOW (msg));
}

/* A short confirmation beside the status line, gone after a few seconds. */
static gboolean
clear_notice (gpointer data)
{
  ClWindow *self = data;
  gtk_label_set_text (self->notice_label, "");
  self->notice_id = 0;
  return G_SOURCE_REMOVE;
}

void
cl_window_show_notice (ClWindow *self, const char *text)
{
  gtk_label_set_text (self->notice_label, text);
  if (self->notice_id)
    g_source_remove (self->notice_id);
  self->notice_id = g_timeout_add_seconds (8, clear_notice, self);
}
