/* The run recorder: see cl_run_recorder.h. */
#include "app/cl_run_recorder.h"

struct _ClRunRecorder
{
  GObject parent_instance;
  ClRunStore *store;
  GMutex lock;        /* guards store and generation: the calling thread and the worker use them */
  GThreadPool *pool;  /* one thread: the queued writes */
  int generation;     /* bumped when a run begins or ends: writes queued before are dropped */
  gboolean recording; /* a run begun and not ended (calling thread only) */
  GMainContext *context;
  /* Shared with the results on their way to the main context: NULL once the recorder is gone. */
  ClRunRecorder **alive;
  GMutex hold_lock;
  GCond hold_cond;
  gboolean held;
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

/* A queued write's outcome, handed to the main context. */
typedef struct
{
  ClRunRecorder **alive; /* atomic rc box */
  GPtrArray *list;
  char *current;
  GError *error;
} Result;

static void
emit_changed (ClRunRecorder *self, GPtrArray *list, const char *current)
{
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0, list, current);
}

/* Main context: the recorder may have gone meanwhile (it then drops the result). */
static gboolean
result_apply (gpointer data)
{
  Result *r = data;
  ClRunRecorder *self = *r->alive;
  if (self)
    {
      g_object_ref (self);
      if (r->error)
        g_signal_emit (self, signals[SIGNAL_WRITE_FAILED], 0, r->error);
      emit_changed (self, r->list, r->current);
      g_object_unref (self);
    }
  g_atomic_rc_box_release (r->alive);
  g_ptr_array_unref (r->list);
  g_free (r->current);
  g_clear_error (&r->error);
  g_free (r);
  return G_SOURCE_REMOVE;
}

/* Worker thread. The recorder outlives its jobs: its dispose waits for the pool. */
static void
worker (gpointer data, gpointer user_data)
{
  Job *job = data;
  ClRunRecorder *self = user_data;
  g_mutex_lock (&self->hold_lock);
  while (self->held)
    g_cond_wait (&self->hold_cond, &self->hold_lock);
  g_mutex_unlock (&self->hold_lock);

  Result *r = g_new0 (Result, 1);
  g_mutex_lock (&self->lock);
  if (job->generation == self->generation && cl_run_store_current (self->store))
    cl_run_store_record (self->store, job->snap, &r->error);
  r->list = cl_run_store_list (self->store);
  r->current = g_strdup (cl_run_store_current (self->store));
  g_mutex_unlock (&self->lock);
  r->alive = g_atomic_rc_box_acquire (self->alive);
  GSource *source = g_idle_source_new ();
  g_source_set_callback (source, result_apply, r, NULL);
  g_source_attach (source, self->context);
  g_source_unref (source);
  cl_snapshot_unref (job->snap);
  g_free (job);
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
  g_mutex_lock (&self->lock);
  self->generation++;
  gboolean ok = cl_run_store_begin (self->store, snap, label, error) != NULL;
  g_mutex_unlock (&self->lock);
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
      g_thread_pool_push (self->pool, job, NULL);
      return;
    }
  gint64 t0 = g_get_monotonic_time ();
  GError *error = NULL;
  g_mutex_lock (&self->lock);
  if (end)
    self->generation++;
  gboolean ok = end ? cl_run_store_finish (self->store, snap, &error) : cl_run_store_record (self->store, snap, &error);
  g_mutex_unlock (&self->lock);
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
  g_mutex_lock (&self->lock);
  GPtrArray *list = cl_run_store_list (self->store);
  if (current)
    *current = g_strdup (cl_run_store_current (self->store));
  g_mutex_unlock (&self->lock);
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
  g_mutex_lock (&self->lock);
  gboolean ok = cl_run_store_set_label (self->store, id, label, error);
  g_mutex_unlock (&self->lock);
  return ok;
}

gboolean
cl_run_recorder_delete (ClRunRecorder *self, const char *id, GError **error)
{
  g_mutex_lock (&self->lock);
  gboolean ok = cl_run_store_delete (self->store, id, error);
  g_mutex_unlock (&self->lock);
  return ok;
}

ClSnapshot *
cl_run_recorder_load (ClRunRecorder *self, const char *id, GError **error)
{
  g_mutex_lock (&self->lock);
  ClSnapshot *snap = cl_run_store_load (self->store, id, error);
  g_mutex_unlock (&self->lock);
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
  g_mutex_lock (&self->hold_lock);
  self->held = hold;
  g_cond_broadcast (&self->hold_cond);
  g_mutex_unlock (&self->hold_lock);
}

static void
cl_run_recorder_dispose (GObject *object)
{
  ClRunRecorder *self = CL_RUN_RECORDER (object);
  if (self->pool)
    {
      /* Queued writes finish first: they never take a reference, the recorder waits for them. */
      cl_run_recorder_hold_writes (self, FALSE);
      g_thread_pool_free (self->pool, FALSE, TRUE);
      self->pool = NULL;
    }
  if (self->alive)
    {
      *self->alive = NULL; /* results still on their way find nobody */
      g_atomic_rc_box_release (self->alive);
      self->alive = NULL;
    }
  g_clear_pointer (&self->store, cl_run_store_close);
  G_OBJECT_CLASS (cl_run_recorder_parent_class)->dispose (object);
}

static void
cl_run_recorder_finalize (GObject *object)
{
  ClRunRecorder *self = CL_RUN_RECORDER (object);
  g_mutex_clear (&self->lock);
  g_mutex_clear (&self->hold_lock);
  g_cond_clear (&self->hold_cond);
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
  g_mutex_init (&self->lock);
  g_mutex_init (&self->hold_lock);
  g_cond_init (&self->hold_cond);
  self->context = g_main_context_ref_thread_default ();
  self->alive = g_atomic_rc_box_new (ClRunRecorder *);
  *self->alive = self;
  self->pool = g_thread_pool_new (worker, self, 1, FALSE, NULL);
}
