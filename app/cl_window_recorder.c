/* The window's side of recording: its ClRunRecorder (app/cl_run_recorder.c, GLib only) begins a
 * run when one starts, is given the trainer's snapshot every few seconds (written on its worker
 * thread), and ends the run when it stops; its "changed" signal updates the run list. */
#include "app/cl_window_private.h"

#include "app/cl_run_recorder.h"

/* Shown once per run: the run list is a convenience, training goes on without it. */
static void
report_store_error (ClWindow *self, const char *what, const GError *error)
{
  if (!self->record_error_shown)
    {
      g_autofree char *msg = g_strdup_printf ("%s: %s", what, error->message);
      cl_window_show_error (self, msg);
      self->record_error_shown = TRUE;
    }
}

static void
on_recorder_changed (ClRunRecorder *recorder, GPtrArray *list, const char *current, ClWindow *self)
{
  (void) recorder;
  if (!self->disposed && self->runs)
    cl_window_runs_apply_store_list (self, g_ptr_array_ref (list), g_strdup (current));
}

static void
on_recorder_write_failed (ClRunRecorder *recorder, const GError *error, ClWindow *self)
{
  (void) recorder;
  if (!self->disposed)
    report_store_error (self, "Could not keep this run in the run list", error);
}

/* The run list is off (NULL recorder) when the store cannot be opened; error says why. */
gboolean
cl_window_recorder_init (ClWindow *self, GError **error)
{
  self->recorder = cl_run_recorder_new (NULL, error);
  if (!self->recorder)
    return FALSE;
  g_signal_connect (self->recorder, "changed", G_CALLBACK (on_recorder_changed), self);
  g_signal_connect (self->recorder, "write-failed", G_CALLBACK (on_recorder_write_failed), self);
  return TRUE;
}

void
cl_window_recorder_dispose (ClWindow *self)
{
  if (!self->recorder)
    return;
  g_signal_handlers_disconnect_by_data (self->recorder, self);
  g_clear_object (&self->recorder); /* waits for queued writes, closes the store */
}

void
cl_window_record_begin (ClWindow *self)
{
  if (!self->recorder || !self->trainer)
    return;
  self->record_error_shown = FALSE;
  ClSnapshot *s = cl_trainer_get_snapshot (self->trainer);
  GError *error = NULL;
  if (!cl_run_recorder_begin (self->recorder, s, self->preset_name, &error))
    {
      report_store_error (self, "This run is not kept in the run list", error);
      g_error_free (error);
    }
  cl_snapshot_unref (s);
}

/* Writes what the trainer has that the store does not, and ends the run there once it is
 * finished (or when end is TRUE: a reset, a restart, closing the window). Periodic writes go
 * to the recorder's worker unless now is TRUE. */
static void
record_run_full (ClWindow *self, gboolean end, gboolean now)
{
  if (!self->recorder || !self->trainer || !cl_run_recorder_is_recording (self->recorder))
    return;
  ClSnapshot *s = cl_trainer_get_snapshot (self->trainer);
  cl_run_recorder_record (self->recorder, s, end ? CL_RECORD_END : now ? CL_RECORD_NOW : CL_RECORD_QUEUE);
  cl_snapshot_unref (s);
}

void
cl_window_record_run (ClWindow *self, gboolean end)
{
  record_run_full (self, end, FALSE);
}

gboolean
cl_window_on_record_timer (gpointer data)
{
  cl_window_record_run (data, FALSE);
  return G_SOURCE_CONTINUE;
}

void
cl_window_record_runs_now (ClWindow *self)
{
  record_run_full (self, FALSE, TRUE);
}

GPtrArray *
cl_window_list_kept_runs (ClWindow *self)
{
  return self->recorder ? cl_run_recorder_list (self->recorder, NULL) : NULL;
}

guint
cl_window_get_n_runs (ClWindow *self)
{
  return g_list_model_get_n_items (G_LIST_MODEL (self->runs));
}
