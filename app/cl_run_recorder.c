/* The run recorder: see cl_run_recorder.h. */
#include "app/cl_run_recorder.h"

#include <pthread.h>

/* Every lock here is a pthread one, and the worker is a plain thread with its own queue, so
 * ThreadSanitizer sees each hand-off (GLib's futex-based GMutex and GAsyncQueue it cannot). */
struct _ClRunRecorder
{
  GObject parent_instance;
  ClRunStore *store;
  pthread_mutex_t lock; /* guards store and generation: the calling thread and the worker use them */
  int generation;       /* bumped when a run begins or ends: writes queued before are dropped */
  gboolean recording;   /* a run begun and not ended (calling thread only) */
  GMainContext *context;
  GSource *wake; /* made ready by the worker when results wait (created and destroyed here) */
  /* The worker: one thread taking queued writes in order. */
  GThread *thread;
  pthread_mutex_t queue_lock;
  pthread_cond_t queue_cond;
  GQueue jobs;
  GQueue results; /* Result *, the worker's, for the main context */
  gboolean held, quit;
  gint64 count, total_us, max_us;
};

G_DEFINE_FINAL_TYPE (ClRunRecorder, cl_run_recorder, G_TYPE_OBJECT)

enum
{
  SIGNAL_CHANGED,
  SIGNAL_WRITE_FAILED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

typedef struct
{
  ClSnapshot *snap;
  int generation;
} Job;

/* A queued write's outcome, for the main context. */
typedef struct
{
  GPtrArray *list;
  char *current;
  GError *error;
} Result;

static void
result_free (gpointer data)
{
  Result *r = data;
  g_ptr_array_unref (r->list);
  g_free (r->current);
  g_clear_error (&r->error);
  g_free (r);
}

static void
emit_changed (ClRunRecorder *self, GPtrArray *list, const char *current)
{
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0, list, current);
}

typedef struct
{
  GSource base;
  ClRunRecorder *rec;
} WakeSource;

/* Main context: "changed" (and "write-failed") for each result the worker left. The source is
 * destroyed in dispose, after the worker was joined, so it never runs for a recorder gone. */
static gboolean
results_dispatch (GSource *source, GSourceFunc callback, gpointer data)
{
  (void) callback;
  (void) data;
  ClRunRecorder *self = ((WakeSource *) source)->rec;
  g_source_set_ready_time (source, -1);
  pthread_mutex_lock (&self->queue_lock);
  GQueue results = self->results;
  g_queue_init (&self->results);
  pthread_mutex_unlock (&self->queue_lock);
  g_object_ref (self);
  for (GList *l = results.head; l; l = l->next)
    {
      Result *r = l->data;
      if (r->error)
        g_signal_emit (self, signals[SIGNAL_WRITE_FAILED], 0, r->error);
      emit_changed (self, r->list, r->current);
    }
  g_object_unref (self);
  g_queue_clear_full (&results, result_free);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs results_funcs = { NULL, NULL, results_dispatch, NULL, NULL, NULL };

static void
write_job (ClRunRecorder *self, Job *job)
{
  Result *r = g_new0 (Result, 1);
  pthread_mutex_lock (&self->lock);
  if (job->generation == self->generation && cl_run_store_current (self->store))
    cl_run_store_record (self->store, job->snap, &r->error);
  r->list = cl_run_store_list (self->store);
  r->current = g_strdup (cl_run_store_current (self->store));
  pthread_mutex_unlock (&self->lock);
  pthread_mutex_lock (&self->queue_lock);
  g_queue_push_tail (&self->results, r);
  pthread_mutex_unlock (&self->queue_lock);
  /* No allocation crosses threads here (a GSource attached from this thread would). */
  g_source_set_ready_time (self->wake, 0);
  cl_snapshot_unref (job->snap);
  g_free (job);
}

/* The worker thread. The recorder outlives it: its dispose joins it after the queue is empty. */
static gpointer
worker_main (gpointer data)
{
  ClRunRecorder *self = data;
  for (;;)
    {
      pthread_mutex_lock (&self->queue_lock);
      while ((self->held || g_queue_is_empty (&self->jobs)) && !self->quit)
        pthread_cond_wait (&self->queue_cond, &self->queue_lock);
      Job *job = g_queue_pop_head (&self->jobs);
      pthread_mutex_unlock (&self->queue_lock);
      if (!job)
        return NULL; /* quit, and nothing left */
      write_job (self, job);
    }
}

ClRunRecorder *
cl_run_recorder_new (const char *dir, GError **error)
{
  ClRunStore *store = cl_run_store_open (dir, error);
  if (!store)
    return NULL;
  ClRunRecorder *self = g_object_new (CL_TYPE_RUN_RECORDER, NULL);
  self->store = store;
  return self;
}

static void
add_time (ClRunRecorder *self, gint64 t0)
{
  gint64 dt = g_get_monotonic_time () - t0;
  self->count++;
  self->total_us += dt;
  self->max_us = MAX (self->max_us, dt);
}

/* Runs on the calling thread: the store's listing after the write, then "changed". */
static void
changed_now (ClRunRecorder *self)
{
  char *current = NULL;
  GPtrArray *list = cl_run_recorder_list (self, &current);
  emit_changed (self, list, current);
  g_ptr_array_unref (list);
  g_free (current);
}

gboolean
cl_run_recorder_begin (ClRunRecorder *self, const ClSnapshot *snap, const char *label, GError **error)
{
  g_return_val_if_fail (CL_IS_RUN_RECORDER (self), FALSE);
  gint64 t0 = g_get_monotonic_time ();
  pthread_mutex_lock (&self->lock);
  self->generation++;
  gboolean ok = cl_run_store_begin (self->store, snap, label, error) != NULL;
  pthread_mutex_unlock (&self->lock);
  self->recording = ok;
  add_time (self, t0);
  changed_now (self);
  return ok;
}

void
cl_run_recorder_record (ClRunRecorder *self, ClSnapshot *snap, ClRecordMode mode)
{
  g_return_if_fail (CL_IS_RUN_RECORDER (self) && snap != NULL);
  if (!self->recording)
    return;
  gboolean end = mode == CL_RECORD_END || snap->finished;
  if (!end && mode == CL_RECORD_QUEUE)
    {
      Job *job = g_new0 (Job, 1);
      job->snap = cl_snapshot_ref (snap);
      job->generation = self->generation;
      pthread_mutex_lock (&self->queue_lock);
      g_queue_push_tail (&self->jobs, job);
      pthread_cond_signal (&self->queue_cond);
      pthread_mutex_unlock (&self->queue_lock);
      return;
    }
  gint64 t0 = g_get_monotonic_time ();
  GError *error = NULL;
  pthread_mutex_lock (&self->lock);
  if (end)
    self->generation++;
  gboolean ok = end ? cl_run_store_finish (self->store, snap, &error) : cl_run_store_record (self->store, snap, &error);
  pthread_mutex_unlock (&self->lock);
  if (end)
    self->recording = FALSE;
  add_time (self, t0);
  if (!ok)
    {
      g_signal_emit (self, signals[SIGNAL_WRITE_FAILED], 0, error);
      g_error_free (error);
    }
  changed_now (self);
}

gboolean
cl_run_recorder_is_recording (ClRunRecorder *self)
{
  return self->recording;
}

GPtrArray *
cl_run_recorder_list (ClRunRecorder *self, char **current)
{
  pthread_mutex_lock (&self->lock);
  GPtrArray *list = cl_run_store_list (self->store);
  if (current)
    *current = g_strdup (cl_run_store_current (self->store));
  pthread_mutex_unlock (&self->lock);
  return list;
}

const char *
cl_run_recorder_dir (ClRunRecorder *self)
{
  return cl_run_store_dir (self->store);
}

gboolean
cl_run_recorder_set_label (ClRunRecorder *self, const char *id, const char *label, GError **error)
{
  pthread_mutex_lock (&self->lock);
  gboolean ok = cl_run_store_set_label (self->store, id, label, error);
  pthread_mutex_unlock (&self->lock);
  return ok;
}

gboolean
cl_run_recorder_delete (ClRunRecorder *self, const char *id, GError **error)
{
  pthread_mutex_lock (&self->lock);
  gboolean ok = cl_run_store_delete (self->store, id, error);
  pthread_mutex_unlock (&self->lock);
  return ok;
}

ClSnapshot *
cl_run_recorder_load (ClRunRecorder *self, const char *id, GError **error)
{
  pthread_mutex_lock (&self->lock);
  ClSnapshot *snap = cl_run_store_load (self->store, id, error);
  pthread_mutex_unlock (&self->lock);
  return snap;
}

void
cl_run_recorder_get_stats (ClRunRecorder *self, gint64 *count, gint64 *total_us, gint64 *max_us)
{
  *count = self->count;
  *total_us = self->total_us;
  *max_us = self->max_us;
}

void
cl_run_recorder_hold_writes (ClRunRecorder *self, gboolean hold)
{
  pthread_mutex_lock (&self->queue_lock);
  self->held = hold;
  pthread_cond_broadcast (&self->queue_cond);
  pthread_mutex_unlock (&self->queue_lock);
}

static void
cl_run_recorder_dispose (GObject *object)
{
  ClRunRecorder *self = CL_RUN_RECORDER (object);
  if (self->thread)
    {
      /* Queued writes finish first: they never take a reference, the recorder waits for them. */
      pthread_mutex_lock (&self->queue_lock);
      self->held = FALSE;
      self->quit = TRUE;
      pthread_cond_broadcast (&self->queue_cond);
      pthread_mutex_unlock (&self->queue_lock);
      g_thread_join (self->thread);
      self->thread = NULL;
    }
  if (self->wake)
    {
      g_source_destroy (self->wake); /* results not yet handed over are dropped */
      g_clear_pointer (&self->wake, g_source_unref);
    }
  g_queue_clear_full (&self->results, result_free);
  g_clear_pointer (&self->store, cl_run_store_close);
  G_OBJECT_CLASS (cl_run_recorder_parent_class)->dispose (object);
}

static void
cl_run_recorder_finalize (GObject *object)
{
  ClRunRecorder *self = CL_RUN_RECORDER (object);
  pthread_mutex_destroy (&self->lock);
  pthread_mutex_destroy (&self->queue_lock);
  pthread_cond_destroy (&self->queue_cond);
  g_main_context_unref (self->context);
  G_OBJECT_CLASS (cl_run_recorder_parent_class)->finalize (object);
}

static void
cl_run_recorder_class_init (ClRunRecorderClass *klass)
{
  GObjectClass *oc = G_OBJECT_CLASS (klass);
  oc->dispose = cl_run_recorder_dispose;
  oc->finalize = cl_run_recorder_finalize;
  signals[SIGNAL_CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                          G_TYPE_NONE, 2, G_TYPE_PTR_ARRAY, G_TYPE_STRING);
  signals[SIGNAL_WRITE_FAILED] = g_signal_new ("write-failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                               NULL, NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);
}

static void
cl_run_recorder_init (ClRunRecorder *self)
{
  pthread_mutex_init (&self->lock, NULL);
  pthread_mutex_init (&self->queue_lock, NULL);
  pthread_cond_init (&self->queue_cond, NULL);
  g_queue_init (&self->jobs);
  self->context = g_main_context_ref_thread_default ();
  g_queue_init (&self->results);
  self->wake = g_source_new (&results_funcs, sizeof (WakeSource));
  ((WakeSource *) self->wake)->rec = self;
  g_source_set_ready_time (self->wake, -1);
  g_source_set_name (self->wake, "cl-run-recorder results");
  g_source_attach (self->wake, self->context);
  self->thread = g_thread_new ("cl-run-recorder", worker_main, self);
}
