/* Recording the live run into the run store: begun when it starts, rows appended every few seconds
 * on a worker thread, ended when it stops. */
#include "app/cl_window_private.h"

#include <math.h>
#include <string.h>

#include "cl_config.h"
#include "engine/base/cl_format.h"
#include "engine/store/cl_runs.h"
#include "ui/cl_figure_view.h"

/* Shown once per run: the run list is a convenience, training goes on without it. */
static void
report_store_error (ClWindow *self, const char *what, GError *error)
{
  if (!self->record_error_shown)
    {
      g_autofree char *msg = g_strdup_printf ("%s: %s", what, error->message);
      cl_window_show_error (self, msg);
      self->record_error_shown = TRUE;
    }
  g_error_free (error);
}

void
cl_window_record_begin (ClWindow *self)
{
  if (!self->store || !self->trainer)
    return;
  self->record_error_shown = FALSE;
  self->run_end_recorded = FALSE;
  ClSnapshot *s = cl_trainer_get_snapshot (self->trainer);
  GError *error = NULL;
  g_mutex_lock (&self->store_lock);
  /* Writes queued for the previous run must not land in this one. */
  self->record_generation++;
  gboolean ok = cl_run_store_begin (self->store, s, self->preset_name, &error) != NULL;
  g_mutex_unlock (&self->store_lock);
  if (!ok)
    report_store_error (self, "This run is not kept in the run list", error);
  cl_snapshot_unref (s);
  cl_window_runs_refresh (self);
}

/* The periodic writes run on a worker thread: appending rows can take a few milliseconds
 * (longer on a busy disk), which the frame clock cannot spare. */
typedef struct
{
  GWeakRef window;
  ClSnapshot *snap;
  int generation;
} RecordJob;

typedef struct
{
  GWeakRef window;
  GPtrArray *list;
  char *current;
  char *error;
} RecordResult;

static gboolean
record_result_apply (gpointer data)
{
  RecordResult *r = data;
  g_autoptr (ClWindow) self = g_weak_ref_get (&r->window);
  if (self && !self->disposed)
    {
      if (r->error)
        report_store_error (self, "Could not keep this run in the run list",
                            g_error_new_literal (CL_RUNS_ERROR, CL_RUNS_ERROR_IO, r->error));
      cl_window_runs_apply_store_list (self, r->list, r->current);
      r->list = NULL;
      r->current = NULL;
    }
  g_weak_ref_clear (&r->window);
  g_clear_pointer (&r->list, g_ptr_array_unref);
  g_free (r->current);
  g_free (r->error);
  g_free (r);
  return G_SOURCE_REMOVE;
}

/* Pool thread. The window outlives its jobs: its dispose waits for the pool. */
void
cl_window_record_worker (gpointer data, gpointer user_data)
{
  RecordJob *job = data;
  ClWindow *self = user_data;
  RecordResult *r = g_new0 (RecordResult, 1);
  GError *error = NULL;
  g_mutex_lock (&self->store_lock);
  if (job->generation == self->record_generation && cl_run_store_current (self->store) &&
      !cl_run_store_record (self->store, job->snap, &error))
    {
      r->error = g_strdup (error->message);
      g_error_free (error);
    }
  r->list = cl_run_store_list (self->store);
  r->current = g_strdup (cl_run_store_current (self->store));
  g_mutex_unlock (&self->store_lock);
  g_weak_ref_init (&r->window, NULL);
  GObject *window = g_weak_ref_get (&job->window);
  g_weak_ref_set (&r->window, window);
  g_clear_object (&window);
  g_idle_add (record_result_apply, r);
  g_weak_ref_clear (&job->window);
  cl_snapshot_unref (job->snap);
  g_free (job);
}

/* Writes what the trainer has that the store does not, and ends the run there once it is
 * finished (or when end is TRUE: a reset, a restart, closing the window). Periodic writes go
 * to the worker unless now is TRUE. */
static void
record_run_full (ClWindow *self, gboolean end, gboolean now)
{
  if (!self->store || !self->trainer || self->run_end_recorded || !self->current_id)
    return;
  gint64 t0 = g_get_monotonic_time ();
  ClSnapshot *s = cl_trainer_get_snapshot (self->trainer);
  gboolean finish = end || s->finished;
  if (!finish && !now)
    {
      RecordJob *job = g_new0 (RecordJob, 1);
      g_weak_ref_init (&job->window, self);
      job->snap = s;
      job->generation = self->record_generation;
      g_thread_pool_push (self->record_pool, job, NULL);
    }
  else
    {
      GError *error = NULL;
      g_mutex_lock (&self->store_lock);
      if (finish)
        self->record_generation++;
      gboolean ok =
          finish ? cl_run_store_finish (self->store, s, &error) : cl_run_store_record (self->store, s, &error);
      g_mutex_unlock (&self->store_lock);
      if (!ok)
        report_store_error (self, "Could not keep this run in the run list", error);
      self->run_end_recorded = finish;
      cl_snapshot_unref (s);
      cl_window_runs_refresh (self);
    }
  gint64 dt = g_get_monotonic_time () - t0;
  self->record_count++;
  self->record_total_us += dt;
  self->record_max_us = MAX (self->record_max_us, dt);
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
  if (!self->store)
    return NULL;
  g_mutex_lock (&self->store_lock);
  GPtrArray *list = cl_run_store_list (self->store);
  g_mutex_unlock (&self->store_lock);
  return list;
}

guint
cl_window_get_n_runs (ClWindow *self)
{
  return g_list_model_get_n_items (G_LIST_MODEL (self->runs));
}
