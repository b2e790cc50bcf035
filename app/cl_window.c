#include "app/cl_window_private.h"

#include "cl_config.h"
#include "app/cl_export.h"

#include <math.h>
#include <string.h>
#include "app/cl_sweep_window.h"
#include "engine/store/cl_runs.h"
#include "ui/cl_figure_view.h"

typedef struct _ClRunEntry ClRunEntry;

struct _ClWindow {
  GtkApplicationWindow parent_instance;

  GtkButton *play_button;
  GtkBox *params_box;
  GtkStack *figure_stack;
  ClFigureView *figure_views[CL_N_FIGURES];
  GtkLabel *caption_label;
  GtkDropDown *sim_order;
  /* Frame budget: intervals between frame-clock ticks and time spent in the tick callback. */
  gint64 last_tick_us, ticks, ticks_over_16ms, tick_work_max_us, interval_max_us;
  GtkLabel *status_label;
  GtkLabel *notice_label;
  guint notice_id;
  /* Probes run inside a training step and publish nothing while they run: a snapshot that
   * stops changing at a step where a probe is due means "probing", shown with a progress bar
   * whose estimate is the previous probe's duration. */
  GtkProgressBar *probe_bar;
  gint64 last_snapshot_us;   /* when the shown snapshot arrived */
  gint64 probe_bar_update_us;
  gboolean probing;
  double probe_seconds_before; /* the snapshot's probe_seconds when the probe began */
  double last_probe_duration;  /* seconds, 0 until one probe was seen whole */
  int exports_running;
  gboolean disposed; /* a worker may finish after the window went */
  GtkRevealer *error_revealer;
  GtkLabel *error_label;
  GtkWidget *restart_button;

  GMenu *presets_menu;
  GSettings *settings; /* NULL when the schema is not installed (running from a build tree) */
  ClConfig config;     /* what the next run starts with, and what live changes requested */
  ClConfig run_config; /* what the current run was started with */
  ClTrainer *trainer;
  ClSnapshot *shown;   /* last snapshot given to the views */
  GHashTable *rows;    /* key -> ClParamRow (borrowed) */
  guint tick_id;
  gboolean paused;

  /* Runs: every live run is recorded in the store; the list holds those and opened ones. */
  GtkStack *sidebar_stack;
  GtkListView *runs_view;
  GtkDropDown *run_a, *run_b;
  GListStore *runs;          /* ClRunEntry: opened runs first, then the window's, newest first */
  GHashTable *entries;       /* key -> ClRunEntry (borrowed from runs) */
  ClRunStore *store;         /* NULL when the run history cannot be kept (message shown) */
  guint record_id;
  gboolean run_end_recorded; /* the current run's end is in the store */
  gint64 record_count, record_total_us, record_max_us; /* GUI-thread time spent writing runs */
  GMutex store_lock;         /* the store is used by the GUI thread and the recording worker */
  GThreadPool *record_pool;  /* one thread: the periodic writes */
  int record_generation;     /* bumped when a run begins or ends: older queued writes are dropped */
  char *current_id;          /* the run being recorded (copy of the store's), or NULL */
  gboolean record_error_shown;
  GPtrArray *choice_keys;    /* keys behind run_a/run_b items 1.. (item 0: live / none) */
  gboolean syncing_choices;
  ClRunEntry *show_a;        /* shown instead of the live run (ref), or NULL */
  ClRunEntry *show_b;        /* compared against A (ref), or NULL */
  guint n_opened;            /* opened runs at the top of the list */
  /* What the loss and probe views' options point at (kept alive here). */
  GPtrArray *overlay_snaps;  /* ClSnapshot refs */
  GPtrArray *overlay_labels; /* char * */
  char *label_a, *label_b;
};

/* ------------------------------------------------------------- run entries */

/* One row of the run list: a run kept by this window's store, or read from an opened folder. */
#define CL_TYPE_RUN_ENTRY (cl_run_entry_get_type ())
G_DECLARE_FINAL_TYPE (ClRunEntry, cl_run_entry, CL, RUN_ENTRY, GObject)

struct _ClRunEntry {
  GObject parent_instance;
  ClRunInfo *info;
  char *key;          /* store id, or the folder path of an opened run */
  gboolean from_store;
  gboolean recording; /* the live run being recorded now: drawn live, not from its files */
  gboolean overlay;
  ClSnapshot *snap;   /* read from its folder on first use */
  double class_read;  /* final class probe read from probes.csv when the info has none */
  char *title, *summary, *detail;
};

enum { ENTRY_PROP_0, ENTRY_PROP_TITLE, ENTRY_PROP_SUMMARY, ENTRY_PROP_DETAIL, ENTRY_PROP_OVERLAY,
       ENTRY_PROP_CAN_OVERLAY, ENTRY_N_PROPS };
static GParamSpec *entry_props[ENTRY_N_PROPS];

G_DEFINE_FINAL_TYPE (ClRunEntry, cl_run_entry, G_TYPE_OBJECT)

static void
cl_run_entry_finalize (GObject *object)
{
  ClRunEntry *e = CL_RUN_ENTRY (object);
  g_clear_pointer (&e->info, cl_run_info_free);
  g_clear_pointer (&e->snap, cl_snapshot_unref);
  g_free (e->key);
  g_free (e->title);
  g_free (e->summary);
  g_free (e->detail);
  G_OBJECT_CLASS (cl_run_entry_parent_class)->finalize (object);
}

static void
cl_run_entry_get_property (GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
  ClRunEntry *e = CL_RUN_ENTRY (object);
  switch (id)
    {
    case ENTRY_PROP_TITLE: g_value_set_string (value, e->title); break;
    case ENTRY_PROP_SUMMARY: g_value_set_string (value, e->summary); break;
    case ENTRY_PROP_DETAIL: g_value_set_string (value, e->detail); break;
    case ENTRY_PROP_OVERLAY: g_value_set_boolean (value, e->overlay); break;
    case ENTRY_PROP_CAN_OVERLAY: g_value_set_boolean (value, !e->recording); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
cl_run_entry_set_property (GObject *object, guint id, const GValue *value, GParamSpec *pspec)
{
  ClRunEntry *e = CL_RUN_ENTRY (object);
  switch (id)
    {
    case ENTRY_PROP_OVERLAY:
      if (e->overlay != g_value_get_boolean (value))
        {
          e->overlay = g_value_get_boolean (value);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
cl_run_entry_class_init (ClRunEntryClass *klass)
{
  GObjectClass *oc = G_OBJECT_CLASS (klass);
  oc->finalize = cl_run_entry_finalize;
  oc->get_property = cl_run_entry_get_property;
  oc->set_property = cl_run_entry_set_property;
  entry_props[ENTRY_PROP_TITLE] = g_param_spec_string ("title", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  entry_props[ENTRY_PROP_SUMMARY] = g_param_spec_string ("summary", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  entry_props[ENTRY_PROP_DETAIL] = g_param_spec_string ("detail", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  entry_props[ENTRY_PROP_OVERLAY] = g_param_spec_boolean ("overlay", NULL, NULL, FALSE,
                                                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  entry_props[ENTRY_PROP_CAN_OVERLAY] = g_param_spec_boolean ("can-overlay", NULL, NULL, TRUE,
                                                              G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (oc, ENTRY_N_PROPS, entry_props);
}

static void
cl_run_entry_init (ClRunEntry *e)
{
  e->class_read = NAN;
}

static void
format_duration (char *buf, gsize size, double seconds)
{
  int s = (int) seconds;
  if (s >= 3600)
    g_snprintf (buf, size, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
  else
    g_snprintf (buf, size, "%d:%02d", s / 60, s % 60);
}

static const char *
entry_label (const ClRunEntry *e)
{
  return e->info->label ? e->info->label : e->key;
}

/* Takes info. Updates the texts the list shows, notifying only what changed. */
static void
entry_set_info (ClRunEntry *e, ClRunInfo *info, gboolean recording)
{
  g_clear_pointer (&e->info, cl_run_info_free);
  e->info = info;
  gboolean was_recording = e->recording;
  e->recording = recording;

  GString *title = g_string_new (entry_label (e));
  if (recording)
    g_string_append (title, " · recording now");
  else if (info->status != CL_RUN_STATUS_UNKNOWN && info->status != CL_RUN_STATUS_FINISHED)
    g_string_append_printf (title, " · %s", cl_run_status_name (info->status));

  GString *detail = g_string_new (NULL);
  double cls = cl_run_info_final (info, "class");
  if (!isfinite (cls))
    cls = e->class_read;
  if (isfinite (cls))
    g_string_append_printf (detail, "class %.3f", cls);
  else
    g_string_append (detail, "class —");
  if (info->seed >= 0)
    g_string_append_printf (detail, " · seed %d", info->seed);
  if (isfinite (info->duration))
    {
      char d[32];
      format_duration (d, sizeof d, info->duration);
      g_string_append_printf (detail, "%s%s", detail->len ? " · " : "", d);
    }
  if (info->steps >= 0)
    {
      g_string_append_printf (detail, "%s%" G_GINT64_FORMAT, detail->len ? " · " : "", info->steps);
      if (info->total_steps > 0 && info->total_steps != info->steps)
        g_string_append_printf (detail, "/%" G_GINT64_FORMAT, info->total_steps);
      g_string_append (detail, " steps");
    }

  char *texts[] = { g_string_free (title, FALSE), g_strdup (info->summary ? info->summary : ""),
                    g_string_free (detail, FALSE) };
  char **fields[] = { &e->title, &e->summary, &e->detail };
  int props[] = { ENTRY_PROP_TITLE, ENTRY_PROP_SUMMARY, ENTRY_PROP_DETAIL };
  for (int i = 0; i < 3; i++)
    {
      if (g_strcmp0 (*fields[i], texts[i]) == 0)
        {
          g_free (texts[i]);
          continue;
        }
      g_free (*fields[i]);
      *fields[i] = texts[i];
      g_object_notify_by_pspec (G_OBJECT (e), entry_props[props[i]]);
    }
  if (was_recording != recording)
    g_object_notify_by_pspec (G_OBJECT (e), entry_props[ENTRY_PROP_CAN_OVERLAY]);
}

static ClRunEntry *
entry_new (ClRunInfo *info, const char *key, gboolean from_store, gboolean recording)
{
  ClRunEntry *e = g_object_new (CL_TYPE_RUN_ENTRY, NULL);
  e->key = g_strdup (key);
  e->from_store = from_store;
  entry_set_info (e, info, recording);
  return e;
}

/* The run as a finished snapshot, read from its folder once (a finished run does not change). */
static ClSnapshot *
entry_snapshot (ClRunEntry *e, GError **error)
{
  if (!e->snap)
    e->snap = cl_run_load (e->info->path, error);
  return e->snap;
}

G_DEFINE_FINAL_TYPE (ClWindow, cl_window, GTK_TYPE_APPLICATION_WINDOW)

/* Freeing a trainer joins its thread, which may be mid-step: do it off the GUI thread. */
static gpointer
free_trainer_thread (gpointer data)
{
  cl_trainer_free (data);
  return NULL;
}

static void
discard_trainer (ClWindow *self)
{
  if (!self->trainer)
    return;
  cl_trainer_request_stop (self->trainer);
  g_thread_unref (g_thread_new ("cl-trainer-free", free_trainer_thread, self->trainer));
  self->trainer = NULL;
}

void
cl_window_show_error (ClWindow *self, const char *message)
{
  gtk_label_set_text (self->error_label, message);
  gtk_revealer_set_reveal_child (self->error_revealer, TRUE);
}


/* -------------------------------------------------------------------- runs */

static void apply_comparison (ClWindow *self);
static void update_status (ClWindow *self, const ClSnapshot *s);
static void show_notice (ClWindow *self, const char *text);
static void present_message (ClWindow *self, GtkMessageType type, const char *primary, const char *secondary);

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

static void
on_entry_overlay (ClRunEntry *e, GParamSpec *pspec, ClWindow *self)
{
  (void) pspec;
  GError *error = NULL;
  if (e->overlay && !entry_snapshot (e, &error))
    {
      g_autofree char *msg = g_strdup_printf ("Cannot draw “%s”: %s", entry_label (e), error->message);
      cl_window_show_error (self, msg);
      g_error_free (error);
      g_object_set (e, "overlay", FALSE, NULL); /* comes back here with FALSE */
      return;
    }
  apply_comparison (self);
}

static ClRunEntry *
add_entry (ClWindow *self, ClRunInfo *info, const char *key, gboolean from_store, gboolean recording, guint position)
{
  ClRunEntry *e = entry_new (info, key, from_store, recording);
  g_signal_connect (e, "notify::overlay", G_CALLBACK (on_entry_overlay), self);
  g_list_store_insert (self->runs, position, e);
  g_hash_table_insert (self->entries, e->key, e);
  g_object_unref (e);
  return e;
}

static ClRunEntry *
find_entry_by_path (ClWindow *self, const char *path)
{
  GHashTableIter it;
  gpointer key, value;
  g_hash_table_iter_init (&it, self->entries);
  while (g_hash_table_iter_next (&it, &key, &value))
    if (g_strcmp0 (CL_RUN_ENTRY (value)->info->path, path) == 0)
      return value;
  return NULL;
}

/* The drop-downs list the runs in list order after "live" / "nothing". Rebuilt only when
 * runs come or go, so that an open drop-down is not pulled from under the user every few seconds. */
static void
rebuild_choices (ClWindow *self)
{
  self->syncing_choices = TRUE;
  GtkStringList *a = gtk_string_list_new (NULL), *b = gtk_string_list_new (NULL);
  gtk_string_list_append (a, "Live run (training now)");
  gtk_string_list_append (b, "Nothing (no comparison)");
  g_ptr_array_set_size (self->choice_keys, 0);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->runs)), sel_a = 0, sel_b = 0;
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (ClRunEntry) e = g_list_model_get_item (G_LIST_MODEL (self->runs), i);
      g_autofree char *text = g_strdup_printf ("%s%s · %s", entry_label (e), e->recording ? " (live)" : "",
                                               e->info->summary ? e->info->summary : "");
      gtk_string_list_append (a, text);
      gtk_string_list_append (b, text);
      g_ptr_array_add (self->choice_keys, g_strdup (e->key));
      if (e == self->show_a)
        sel_a = i + 1;
      if (e == self->show_b)
        sel_b = i + 1;
    }
  gtk_drop_down_set_model (self->run_a, G_LIST_MODEL (a));
  gtk_drop_down_set_model (self->run_b, G_LIST_MODEL (b));
  gtk_drop_down_set_selected (self->run_a, sel_a);
  gtk_drop_down_set_selected (self->run_b, sel_b);
  g_object_unref (a);
  g_object_unref (b);
  self->syncing_choices = FALSE;
}

/* Brings the list up to date with a listing of the store (new runs, the recording run's
 * progress). Takes list and current. */
static void
apply_store_list (ClWindow *self, GPtrArray *list, char *current)
{
  g_free (self->current_id);
  self->current_id = current;
  gboolean added = FALSE;
  for (guint i = 0; i < list->len; i++)
    {
      const ClRunInfo *info = list->pdata[i];
      gboolean recording = current && strcmp (current, info->id) == 0;
      ClRunEntry *e = g_hash_table_lookup (self->entries, info->id);
      if (e)
        {
          /* A run that stopped recording is read again when next drawn. */
          if (e->recording && !recording)
            g_clear_pointer (&e->snap, cl_snapshot_unref);
          entry_set_info (e, cl_run_info_copy (info), recording);
        }
      else
        {
          add_entry (self, cl_run_info_copy (info), info->id, TRUE, recording, self->n_opened);
          added = TRUE;
        }
    }
  g_ptr_array_unref (list);
  if (added)
    rebuild_choices (self);
}

/* The store is used by the GUI thread and by the one recording worker, one at a time. */
static void
refresh_store_runs (ClWindow *self)
{
  if (!self->store)
    return;
  g_mutex_lock (&self->store_lock);
  GPtrArray *list = cl_run_store_list (self->store);
  char *current = g_strdup (cl_run_store_current (self->store));
  g_mutex_unlock (&self->store_lock);
  apply_store_list (self, list, current);
}

static void
record_begin (ClWindow *self)
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
  gboolean ok = cl_run_store_begin (self->store, s, NULL, &error) != NULL;
  g_mutex_unlock (&self->store_lock);
  if (!ok)
    report_store_error (self, "This run is not kept in the run list", error);
  cl_snapshot_unref (s);
  refresh_store_runs (self);
}

/* The periodic writes run on a worker thread: appending rows can take a few milliseconds
 * (longer on a busy disk), which the frame clock cannot spare. */
typedef struct {
  GWeakRef window;
  ClSnapshot *snap;
  int generation;
} RecordJob;

typedef struct {
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
      apply_store_list (self, r->list, r->current);
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
static void
record_worker (gpointer data, gpointer user_data)
{
  RecordJob *job = data;
  ClWindow *self = user_data;
  RecordResult *r = g_new0 (RecordResult, 1);
  GError *error = NULL;
  g_mutex_lock (&self->store_lock);
  if (job->generation == self->record_generation && cl_run_store_current (self->store)
      && !cl_run_store_record (self->store, job->snap, &error))
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
      gboolean ok = finish ? cl_run_store_finish (self->store, s, &error) : cl_run_store_record (self->store, s, &error);
      g_mutex_unlock (&self->store_lock);
      if (!ok)
        report_store_error (self, "Could not keep this run in the run list", error);
      self->run_end_recorded = finish;
      cl_snapshot_unref (s);
      refresh_store_runs (self);
    }
  gint64 dt = g_get_monotonic_time () - t0;
  self->record_count++;
  self->record_total_us += dt;
  self->record_max_us = MAX (self->record_max_us, dt);
}

static void
record_run (ClWindow *self, gboolean end)
{
  record_run_full (self, end, FALSE);
}

static gboolean
on_record_timer (gpointer data)
{
  record_run (data, FALSE);
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

/* Points the views' options at the ticked runs and at B (the arrays live in the window until
 * the next call), and gives the views A's snapshot when A is not the live run. */
static void
apply_comparison (ClWindow *self)
{
  GPtrArray *snaps = g_ptr_array_new_with_free_func ((GDestroyNotify) cl_snapshot_unref);
  GPtrArray *labels = g_ptr_array_new_with_free_func (g_free);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->runs));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (ClRunEntry) e = g_list_model_get_item (G_LIST_MODEL (self->runs), i);
      if (e->overlay && !e->recording && e->snap && e != self->show_a)
        {
          g_ptr_array_add (snaps, cl_snapshot_ref (e->snap));
          g_ptr_array_add (labels, g_strdup (entry_label (e)));
        }
    }
  char *label_a = NULL;
  if (self->show_a)
    label_a = g_strdup (entry_label (self->show_a));
  else
    {
      ClRunEntry *live = self->current_id ? g_hash_table_lookup (self->entries, self->current_id) : NULL;
      label_a = g_strdup_printf ("%s (live)", live ? entry_label (live) : "this run");
    }
  char *label_b = self->show_b ? g_strdup (entry_label (self->show_b)) : NULL;
  const ClSnapshot *compare = self->show_b ? self->show_b->snap : NULL;
  for (int k = 0; k < CL_N_FIGURES; k++)
    {
      cl_figure_view_set_comparison (CL_FIGURE_VIEW (self->figure_views[k]),
                                     (const ClSnapshot *const *) snaps->pdata, (const char *const *) labels->pdata,
                                     (int) snaps->len, compare, label_a, label_b);
      if (self->show_a)
        cl_figure_view_set_snapshot (self->figure_views[k], self->show_a->snap);
      else
        cl_figure_view_set_snapshot (self->figure_views[k], self->shown);
    }
  g_clear_pointer (&self->overlay_snaps, g_ptr_array_unref);
  g_clear_pointer (&self->overlay_labels, g_ptr_array_unref);
  g_free (self->label_a);
  g_free (self->label_b);
  self->overlay_snaps = snaps;
  self->overlay_labels = labels;
  self->label_a = label_a;
  self->label_b = label_b;
  if (self->shown)
    update_status (self, self->shown);
}

/* index 0 = live / nothing, else the run behind choice_keys[index - 1]. NULL with error when
 * that run cannot be read. */
static gboolean
choose_run (ClWindow *self, guint index, ClRunEntry **slot, GError **error)
{
  ClRunEntry *e = NULL;
  if (index > 0 && index <= self->choice_keys->len)
    e = g_hash_table_lookup (self->entries, self->choice_keys->pdata[index - 1]);
  if (e && slot == &self->show_a && e->recording)
    e = NULL; /* the recording run is the live run */
  if (e && e->recording && !e->snap)
    {
      g_mutex_lock (&self->store_lock);
      e->snap = cl_run_store_load (self->store, e->key, error);
      g_mutex_unlock (&self->store_lock);
    }
  if (e && !(e->recording ? e->snap : entry_snapshot (e, error)))
    return FALSE;
  g_set_object (slot, e);
  apply_comparison (self);
  return TRUE;
}

static void
on_choice_selected (GtkDropDown *dropdown, GParamSpec *pspec, ClWindow *self)
{
  (void) pspec;
  if (self->syncing_choices)
    return;
  ClRunEntry **slot = dropdown == self->run_a ? &self->show_a : &self->show_b;
  GError *error = NULL;
  if (!choose_run (self, gtk_drop_down_get_selected (dropdown), slot, &error))
    {
      cl_window_show_error (self, error->message);
      g_error_free (error);
      self->syncing_choices = TRUE;
      gtk_drop_down_set_selected (dropdown, 0);
      self->syncing_choices = FALSE;
      g_clear_object (slot);
      apply_comparison (self);
    }
}

static gboolean
select_choice (ClWindow *self, GtkDropDown *dropdown, const char *key, GError **error)
{
  guint index = 0;
  if (key)
    {
      for (guint i = 0; i < self->choice_keys->len && index == 0; i++)
        if (strcmp (self->choice_keys->pdata[i], key) == 0)
          index = i + 1;
      if (index == 0)
        {
          g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT, "No run “%s” in the run list", key);
          return FALSE;
        }
    }
  self->syncing_choices = TRUE;
  gtk_drop_down_set_selected (dropdown, index);
  self->syncing_choices = FALSE;
  if (!choose_run (self, index, dropdown == self->run_a ? &self->show_a : &self->show_b, error))
    {
      self->syncing_choices = TRUE;
      gtk_drop_down_set_selected (dropdown, 0);
      self->syncing_choices = FALSE;
      return FALSE;
    }
  return TRUE;
}

gboolean
cl_window_compare_runs (ClWindow *self, const char *key_a, const char *key_b, GError **error)
{
  return select_choice (self, self->run_a, key_a, error) && select_choice (self, self->run_b, key_b, error);
}

gboolean
cl_window_set_run_overlay (ClWindow *self, const char *key, gboolean on, GError **error)
{
  ClRunEntry *e = g_hash_table_lookup (self->entries, key);
  if (!e)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT, "No run “%s” in the run list", key);
      return FALSE;
    }
  g_object_set (e, "overlay", on, NULL);
  return e->overlay == on;
}

/* A folder scan reads only run.ini (fast for thousands of runs); the final class probe of runs
 * whose folder does not state it comes from their probes.csv, read on a worker thread. */
typedef struct {
  char *key, *path;
  double cls;
} FinalProbe;

static void
final_probe_free (gpointer data)
{
  FinalProbe *f = data;
  g_free (f->key);
  g_free (f->path);
  g_free (f);
}

static void
final_probes_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  (void) source;
  (void) cancellable;
  GPtrArray *items = data;
  for (guint i = 0; i < items->len; i++)
    {
      FinalProbe *f = items->pdata[i];
      g_autofree char *csv = g_build_filename (f->path, "probes.csv", NULL);
      int n = 0;
      ClProbeRow *rows = g_file_test (csv, G_FILE_TEST_EXISTS) ? cl_runs_read_probes (csv, &n, NULL) : NULL;
      gint64 best_step = -1;
      for (int r = 0; r < n; r++)
        if (strcmp (rows[r].target, "class") == 0 && rows[r].step >= best_step)
          {
            best_step = rows[r].step;
            f->cls = rows[r].accuracy;
          }
      g_free (rows);
    }
  g_task_return_boolean (task, TRUE);
}

static void
final_probes_done (GObject *source, GAsyncResult *result, gpointer data)
{
  (void) source;
  GWeakRef *window = data;
  g_autoptr (ClWindow) self = g_weak_ref_get (window);
  g_weak_ref_clear (window);
  g_free (window);
  GPtrArray *items = g_task_get_task_data (G_TASK (result));
  g_task_propagate_boolean (G_TASK (result), NULL);
  if (!self || self->disposed)
    return;
  for (guint i = 0; i < items->len; i++)
    {
      FinalProbe *f = items->pdata[i];
      ClRunEntry *e = g_hash_table_lookup (self->entries, f->key);
      if (e && isfinite (f->cls))
        {
          e->class_read = f->cls;
          entry_set_info (e, cl_run_info_copy (e->info), e->recording);
        }
    }
}

gboolean
cl_window_open_runs_folder (ClWindow *self, const char *dir, GError **error)
{
  GPtrArray *infos = cl_runs_scan_dir (dir, error);
  if (!infos)
    return FALSE;
  g_autofree char *display = g_filename_display_name (dir);
  if (infos->len == 0)
    {
      g_set_error (error, CL_RUNS_ERROR, CL_RUNS_ERROR_MISSING,
                   "“%s” holds no runs (a run is a folder with run.ini and metrics.csv)", display);
      g_ptr_array_unref (infos);
      return FALSE;
    }
  guint added = 0;
  GPtrArray *missing = g_ptr_array_new_with_free_func (final_probe_free);
  for (guint i = 0; i < infos->len; i++)
    {
      const ClRunInfo *info = infos->pdata[i];
      if (find_entry_by_path (self, info->path))
        continue; /* opened before, or one of this window's own runs */
      add_entry (self, cl_run_info_copy (info), info->path, FALSE, FALSE, self->n_opened++);
      added++;
      if (!isfinite (cl_run_info_final (info, "class")))
        {
          FinalProbe *f = g_new0 (FinalProbe, 1);
          f->key = g_strdup (info->path);
          f->path = g_strdup (info->path);
          f->cls = NAN;
          g_ptr_array_add (missing, f);
        }
    }
  g_ptr_array_unref (infos);
  if (missing->len)
    {
      /* Held weakly: closing the window does not wait for this. */
      GWeakRef *window = g_new0 (GWeakRef, 1);
      g_weak_ref_init (window, self);
      GTask *task = g_task_new (NULL, NULL, final_probes_done, window);
      g_task_set_task_data (task, missing, (GDestroyNotify) g_ptr_array_unref);
      g_task_run_in_thread (task, final_probes_thread);
      g_object_unref (task);
    }
  else
    g_ptr_array_unref (missing);
  /* New runs went in at the top, where the list does not look by itself (it keeps the row
   * that was first in view). */
  if (added)
    gtk_widget_activate_action (GTK_WIDGET (self->runs_view), "list.scroll-to-item", "u", 0);
  rebuild_choices (self);
  gtk_stack_set_visible_child_name (self->sidebar_stack, "runs");
  g_autofree char *text = added ? g_strdup_printf (added == 1 ? "Opened %u run from %s" : "Opened %u runs from %s",
                                                   added, display)
                                : g_strdup_printf ("The runs in %s are already in the list", display);
  show_notice (self, text);
  return TRUE;
}

static void
on_open_runs_response (GtkNativeDialog *dialog, int response, ClWindow *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *dir = file ? g_file_get_path (file) : NULL;
      GError *error = NULL;
      if (dir && !cl_window_open_runs_folder (self, dir, &error))
        {
          present_message (self, GTK_MESSAGE_ERROR, "Could not open the runs", error->message);
          g_error_free (error);
        }
    }
  g_object_unref (dialog);
}

static void
action_open_runs (GtkWidget *widget, const char *name, GVariant *param)
{
  (void) name;
  (void) param;
  ClWindow *self = CL_WINDOW (widget);
  GtkFileChooserNative *dialog = gtk_file_chooser_native_new ("Open Runs Folder", GTK_WINDOW (self),
                                                              GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, "_Open",
                                                              "_Cancel");
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (dialog), TRUE);
  g_signal_connect (dialog, "response", G_CALLBACK (on_open_runs_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

/* The sweep runs its grid in the background from the configuration the sliders show now. */
static void
action_sweep (GtkWidget *widget, const char *name, GVariant *param)
{
  (void) name;
  (void) param;
  ClWindow *self = CL_WINDOW (widget);
  cl_sweep_window_present (GTK_WINDOW (self), &self->config);
}

static void
action_clear_overlays (GtkWidget *widget, const char *name, GVariant *param)
{
  (void) name;
  (void) param;
  ClWindow *self = CL_WINDOW (widget);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->runs));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (ClRunEntry) e = g_list_model_get_item (G_LIST_MODEL (self->runs), i);
      g_object_set (e, "overlay", FALSE, NULL);
    }
}

/* The list rows: [tick] title / parameters / seed, duration, steps, final class probe. */
static void
setup_run_row (GtkSignalListItemFactory *factory, GtkListItem *item, gpointer data)
{
  (void) factory;
  (void) data;
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  gtk_widget_add_css_class (row, "run-row");
  GtkWidget *check = gtk_check_button_new ();
  gtk_widget_set_valign (check, GTK_ALIGN_CENTER);
  gtk_widget_set_tooltip_text (check, "Draw this run as a faded trace on the loss and probe charts");
  gtk_box_append (GTK_BOX (row), check);
  GtkWidget *texts = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_widget_set_hexpand (texts, TRUE);
  const char *classes[] = { "run-title", "run-summary", "run-detail" };
  for (int i = 0; i < 3; i++)
    {
      GtkWidget *label = gtk_label_new (NULL);
      gtk_label_set_xalign (GTK_LABEL (label), 0);
      /* Titles of opened runs are paths whose end tells them apart ("sweep/runs/loss.kind=..."). */
      gtk_label_set_ellipsize (GTK_LABEL (label), i == 0 ? PANGO_ELLIPSIZE_MIDDLE : PANGO_ELLIPSIZE_END);
      if (i == 1)
        {
          gtk_label_set_wrap (GTK_LABEL (label), TRUE);
          gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
          gtk_label_set_lines (GTK_LABEL (label), 2);
        }
      gtk_widget_add_css_class (label, classes[i]);
      gtk_box_append (GTK_BOX (texts), label);
    }
  gtk_box_append (GTK_BOX (row), texts);
  gtk_list_item_set_child (item, row);
}

static void
bind_run_row (GtkSignalListItemFactory *factory, GtkListItem *item, gpointer data)
{
  (void) factory;
  (void) data;
  ClRunEntry *e = gtk_list_item_get_item (item);
  GtkWidget *row = gtk_list_item_get_child (item);
  GtkWidget *check = gtk_widget_get_first_child (row);
  GtkWidget *title = gtk_widget_get_first_child (gtk_widget_get_next_sibling (check));
  GtkWidget *summary = gtk_widget_get_next_sibling (title);
  GtkWidget *detail = gtk_widget_get_next_sibling (summary);
  GPtrArray *bindings = g_ptr_array_new ();
  g_ptr_array_add (bindings, g_object_bind_property (e, "title", title, "label", G_BINDING_SYNC_CREATE));
  g_ptr_array_add (bindings, g_object_bind_property (e, "summary", summary, "label", G_BINDING_SYNC_CREATE));
  g_ptr_array_add (bindings, g_object_bind_property (e, "detail", detail, "label", G_BINDING_SYNC_CREATE));
  g_ptr_array_add (bindings, g_object_bind_property (e, "overlay", check, "active",
                                                     G_BINDING_SYNC_CREATE | G_BINDING_BIDIRECTIONAL));
  g_ptr_array_add (bindings, g_object_bind_property (e, "can-overlay", check, "sensitive", G_BINDING_SYNC_CREATE));
  g_object_set_data_full (G_OBJECT (item), "bindings", bindings, (GDestroyNotify) g_ptr_array_unref);
  g_autofree char *tip = g_strdup_printf ("%s\n%s\n%s (final class probe accuracy first)\n%s", e->title, e->summary,
                                         e->detail, e->info->path);
  gtk_widget_set_tooltip_text (row, tip);
  g_autofree char *name = g_strdup_printf ("Overlay %s", entry_label (e));
  gtk_accessible_update_property (GTK_ACCESSIBLE (check), GTK_ACCESSIBLE_PROPERTY_LABEL, name, -1);
}

static void
unbind_run_row (GtkSignalListItemFactory *factory, GtkListItem *item, gpointer data)
{
  (void) factory;
  (void) data;
  GPtrArray *bindings = g_object_get_data (G_OBJECT (item), "bindings");
  for (guint i = 0; bindings && i < bindings->len; i++)
    g_binding_unbind (bindings->pdata[i]);
  g_object_set_data (G_OBJECT (item), "bindings", NULL);
}

/* Enter or a double click on a row shows that run (as A). */
static void
on_run_activate (GtkListView *view, guint position, ClWindow *self)
{
  (void) view;
  g_autoptr (ClRunEntry) e = g_list_model_get_item (G_LIST_MODEL (self->runs), position);
  GError *error = NULL;
  if (e && !select_choice (self, self->run_a, e->recording ? NULL : e->key, &error))
    {
      cl_window_show_error (self, error->message);
      g_error_free (error);
    }
}

/* Drop-down items: the button ellipsizes its label (a long run summary must not widen the
 * sidebar), the popup list shows it whole. */
static void
setup_choice_label (GtkSignalListItemFactory *factory, GtkListItem *item, gpointer ellipsize)
{
  (void) factory;
  GtkWidget *label = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  if (ellipsize)
    {
      gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
      gtk_label_set_width_chars (GTK_LABEL (label), 12);
    }
  gtk_list_item_set_child (item, label);
}

static void
bind_choice_label (GtkSignalListItemFactory *factory, GtkListItem *item, gpointer data)
{
  (void) factory;
  (void) data;
  GtkWidget *label = gtk_list_item_get_child (item);
  const char *text = gtk_string_object_get_string (gtk_list_item_get_item (item));
  gtk_label_set_text (GTK_LABEL (label), text);
  gtk_widget_set_tooltip_text (label, text);
}

static GtkListItemFactory *
choice_factory (gboolean ellipsize)
{
  GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (setup_choice_label), GINT_TO_POINTER (ellipsize));
  g_signal_connect (factory, "bind", G_CALLBACK (bind_choice_label), NULL);
  return factory;
}

static void
init_runs (ClWindow *self)
{
  self->runs = g_list_store_new (CL_TYPE_RUN_ENTRY);
  self->entries = g_hash_table_new (g_str_hash, g_str_equal);
  self->choice_keys = g_ptr_array_new_with_free_func (g_free);
  GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (setup_run_row), NULL);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_run_row), NULL);
  g_signal_connect (factory, "unbind", G_CALLBACK (unbind_run_row), NULL);
  gtk_list_view_set_factory (self->runs_view, factory);
  g_object_unref (factory);
  GtkNoSelection *selection = gtk_no_selection_new (G_LIST_MODEL (g_object_ref (self->runs)));
  gtk_list_view_set_model (self->runs_view, GTK_SELECTION_MODEL (selection));
  g_object_unref (selection);
  g_signal_connect (self->runs_view, "activate", G_CALLBACK (on_run_activate), self);
  GtkExpression *expr = gtk_property_expression_new (GTK_TYPE_STRING_OBJECT, NULL, "string");
  gtk_drop_down_set_expression (self->run_a, expr);
  gtk_drop_down_set_expression (self->run_b, expr);
  gtk_expression_unref (expr);
  gtk_drop_down_set_enable_search (self->run_a, TRUE);
  gtk_drop_down_set_enable_search (self->run_b, TRUE);
  GtkDropDown *dropdowns[] = { self->run_a, self->run_b };
  for (int i = 0; i < 2; i++)
    {
      GtkListItemFactory *button = choice_factory (TRUE), *list = choice_factory (FALSE);
      gtk_drop_down_set_factory (dropdowns[i], button);
      gtk_drop_down_set_list_factory (dropdowns[i], list);
      g_object_unref (button);
      g_object_unref (list);
    }
  rebuild_choices (self);
  g_signal_connect (self->run_a, "notify::selected", G_CALLBACK (on_choice_selected), self);
  g_signal_connect (self->run_b, "notify::selected", G_CALLBACK (on_choice_selected), self);
}

static void
dispose_runs (ClWindow *self)
{
  if (self->record_id)
    {
      g_source_remove (self->record_id);
      self->record_id = 0;
    }
  if (self->entries)
    {
      GHashTableIter it;
      gpointer key, value;
      g_hash_table_iter_init (&it, self->entries);
      while (g_hash_table_iter_next (&it, &key, &value))
        g_signal_handlers_disconnect_by_data (value, self);
    }
  for (int k = 0; k < CL_N_FIGURES; k++)
    if (self->figure_views[k])
      {
        cl_figure_view_set_comparison (CL_FIGURE_VIEW (self->figure_views[k]), NULL, NULL, 0, NULL, NULL, NULL);
      }
  g_clear_object (&self->show_a);
  g_clear_object (&self->show_b);
  g_clear_pointer (&self->overlay_snaps, g_ptr_array_unref);
  g_clear_pointer (&self->overlay_labels, g_ptr_array_unref);
  g_clear_pointer (&self->label_a, g_free);
  g_clear_pointer (&self->label_b, g_free);
  g_clear_pointer (&self->choice_keys, g_ptr_array_unref);
  g_clear_pointer (&self->entries, g_hash_table_unref);
  g_clear_object (&self->runs);
}

static void
update_pending (ClWindow *self)
{
  int n = 0, n_params;
  const ClParam *params = cl_params (&n_params);
  for (int i = 0; i < n_params; i++)
    {
      ClParamRow *row = g_hash_table_lookup (self->rows, params[i].key);
      gboolean pending = !(params[i].flags & CL_PARAM_LIVE)
                         && !cl_config_value_equal (&self->config, &self->run_config, &params[i]);
      n += pending;
      if (row)
        cl_param_row_set_pending (row, pending);
    }
  /* Pinned below the scrolled list, so a waiting change is never scrolled out of view. */
  gtk_widget_set_visible (self->restart_button, n > 0);
  if (n > 0)
    {
      g_autofree char *label = g_strdup_printf (n == 1 ? "Restart to apply %d change" : "Restart to apply %d changes", n);
      gtk_button_set_label (GTK_BUTTON (self->restart_button), label);
    }
}

static void
start_run (ClWindow *self)
{
  record_run (self, TRUE);
  discard_trainer (self);
  g_clear_pointer (&self->shown, cl_snapshot_unref);
  self->probing = FALSE;
  self->last_snapshot_us = g_get_monotonic_time ();
  gtk_widget_set_visible (GTK_WIDGET (self->probe_bar), FALSE);
  for (int i = 0; i < CL_N_FIGURES; i++)
    if (!self->show_a)
      cl_figure_view_set_snapshot (self->figure_views[i], NULL);
  GError *error = NULL;
  self->run_config = self->config;
  self->trainer = cl_trainer_new (&self->config, &error);
  if (!self->trainer)
    {
      cl_window_show_error (self, error->message);
      gtk_label_set_text (self->status_label, "Not running: fix the problem above, then reset (Ctrl+R).");
      g_error_free (error);
    }
  else
    {
      gtk_revealer_set_reveal_child (self->error_revealer, FALSE);
      cl_trainer_start (self->trainer, self->paused);
      record_begin (self);
    }
  update_pending (self);
}

static void
on_param_changed (ClParamRow *row, const char *value, ClWindow *self)
{
  const ClParam *p = cl_param_row_get_param (row);
  GError *error = NULL;
  if (!cl_config_set (&self->config, p->key, value, &error))
    {
      cl_window_show_error (self, error->message);
      g_error_free (error);
      return;
    }
  if ((p->flags & CL_PARAM_LIVE) && self->trainer)
    {
      if (!cl_trainer_set (self->trainer, p->key, value, &error))
        {
          cl_window_show_error (self, error->message);
          g_error_free (error);
        }
      cl_config_set (&self->run_config, p->key, value, NULL);
    }
  update_pending (self);
}

static void
update_status (ClWindow *self, const ClSnapshot *s)
{
  char elapsed[32];
  format_duration (elapsed, sizeof elapsed, s->seconds);
  GString *text = g_string_new (NULL);
  if (self->show_a)
    g_string_append_printf (text, "Showing %s (%" G_GINT64_FORMAT " steps; pick A = live run to go back)   ·   live: ",
                            entry_label (self->show_a), self->show_a->snap ? self->show_a->snap->step : 0);
  if (s->error)
    g_string_append_printf (text, "Stopped: %s", s->error);
  else
    {
      g_string_append_printf (text, "step %" G_GINT64_FORMAT " / %" G_GINT64_FORMAT "   ·   %.1f steps/s   ·   %s elapsed",
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

static void
update_probe_bar (ClWindow *self, gint64 now, gboolean new_snapshot)
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
      if (!running || now - self->last_snapshot_us < probe_show_after_us () || probe_step_after (self, s) < 0)
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

/* Runs once per frame: only pointer swaps and a label update happen here. */
static gboolean
on_tick (GtkWidget *widget, GdkFrameClock *clock, gpointer data)
{
  (void) widget;
  (void) clock;
  (void) data;
  ClWindow *self = CL_WINDOW (widget);
  gint64 now = g_get_monotonic_time ();
  if (self->last_tick_us)
    {
      gint64 interval = now - self->last_tick_us;
      self->ticks++;
      self->ticks_over_16ms += interval > 16667 + 2000; /* a missed 60 Hz frame, with 2 ms of slack */
      self->interval_max_us = MAX (self->interval_max_us, interval);
    }
  self->last_tick_us = now;
  if (!self->trainer)
    return G_SOURCE_CONTINUE;
  ClSnapshot *s = cl_trainer_get_snapshot (self->trainer);
  if (s == self->shown)
    {
      cl_snapshot_unref (s);
      update_probe_bar (self, now, FALSE);
      return G_SOURCE_CONTINUE;
    }
  g_clear_pointer (&self->shown, cl_snapshot_unref);
  self->shown = s;
  for (int i = 0; i < CL_N_FIGURES && !self->show_a; i++)
    cl_figure_view_set_snapshot (self->figure_views[i], s);
  update_status (self, s);
  update_probe_bar (self, now, TRUE);
  if (s->error)
    cl_window_show_error (self, s->error);
  self->tick_work_max_us = MAX (self->tick_work_max_us, g_get_monotonic_time () - now);
  return G_SOURCE_CONTINUE;
}

static void
sync_play_button (ClWindow *self)
{
  gtk_button_set_icon_name (self->play_button,
                            self->paused ? "media-playback-start-symbolic" : "media-playback-pause-symbolic");
}

static void
action_play_pause (GtkWidget *widget, const char *name, GVariant *param)
{
  (void) name;
  (void) param;
  ClWindow *self = CL_WINDOW (widget);
  self->paused = !self->paused;
  if (self->trainer)
    cl_trainer_set_paused (self->trainer, self->paused);
  sync_play_button (self);
}

static void
action_reset (GtkWidget *widget, const char *name, GVariant *param)
{
  (void) name;
  (void) param;
  start_run (CL_WINDOW (widget));
}

static void
action_dismiss_error (GtkWidget *widget, const char *name, GVariant *param)
{
  (void) name;
  (void) param;
  gtk_revealer_set_reveal_child (CL_WINDOW (widget)->error_revealer, FALSE);
}

/* ------------------------------------------------------------------ export */

static void
present_message (ClWindow *self, GtkMessageType type, const char *primary, const char *secondary)
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

static void
show_notice (ClWindow *self, const char *text)
{
  gtk_label_set_text (self->notice_label, text);
  if (self->notice_id)
    g_source_remove (self->notice_id);
  self->notice_id = g_timeout_add_seconds (8, clear_notice, self);
}

/* Everything an export needs, copied, so that it can run on a worker thread while the
 * window moves on (the snapshot is immutable; the options' pointers are kept alive here). */
typedef struct {
  GWeakRef window;  /* closing the window does not wait for its exports */
  char *path;
  ClExportFormat format;
  gboolean dashboard;
  ClFigureKind kind;
  double scale;
  ClExportFlags flags;
  ClSnapshot *snap;
  ClFigureOptions options[CL_N_FIGURES];
  /* Copies of what the options point at (the window replaces its own at any time). */
  GPtrArray *overlays;       /* ClSnapshot refs */
  GPtrArray *overlay_labels; /* char * */
  ClSnapshot *compare;
  char *label_a, *label_b;
} ExportJob;

static void
export_job_free (ExportJob *job)
{
  g_weak_ref_clear (&job->window);
  g_free (job->path);
  g_clear_pointer (&job->snap, cl_snapshot_unref);
  g_clear_pointer (&job->overlays, g_ptr_array_unref);
  g_clear_pointer (&job->overlay_labels, g_ptr_array_unref);
  g_clear_pointer (&job->compare, cl_snapshot_unref);
  g_free (job->label_a);
  g_free (job->label_b);
  g_free (job);
}

static ExportJob *
export_job_new (ClWindow *self, const char *path, ClExportFormat format, gboolean dashboard, double scale,
                ClExportFlags flags, ClSnapshot *snap)
{
  ExportJob *job = g_new0 (ExportJob, 1);
  g_weak_ref_init (&job->window, self);
  job->path = g_strdup (path);
  job->format = format;
  job->dashboard = dashboard;
  job->kind = cl_window_get_visible_figure (self);
  job->scale = scale;
  job->flags = flags;
  job->snap = snap;
  job->overlays = g_ptr_array_new_with_free_func ((GDestroyNotify) cl_snapshot_unref);
  job->overlay_labels = g_ptr_array_new_with_free_func (g_free);
  for (int k = 0; k < CL_N_FIGURES; k++)
    {
      const ClFigureOptions *o = cl_figure_view_get_options (self->figure_views[k]);
      job->options[k] = *o;
      /* The hover highlight belongs to the screen, not to the figure. */
      job->options[k].sim_highlight_row = job->options[k].sim_highlight_col = -1;
      job->options[k].cluster_highlight = -1;
      if (k == 0)
        {
          for (int i = 0; i < o->n_overlays; i++)
            {
              g_ptr_array_add (job->overlays, cl_snapshot_ref ((ClSnapshot *) o->overlays[i]));
              g_ptr_array_add (job->overlay_labels, g_strdup (o->overlay_labels ? o->overlay_labels[i] : NULL));
            }
          job->compare = o->compare ? cl_snapshot_ref ((ClSnapshot *) o->compare) : NULL;
          job->label_a = g_strdup (o->label_a);
          job->label_b = g_strdup (o->label_b);
        }
      /* Every view shares the window's comparison; point each copy at the job's. */
      job->options[k].overlays = job->overlays->len ? (const ClSnapshot *const *) job->overlays->pdata : NULL;
      job->options[k].overlay_labels = job->overlays->len ? (const char *const *) job->overlay_labels->pdata : NULL;
      job->options[k].n_overlays = (int) job->overlays->len;
      job->options[k].compare = job->compare;
      job->options[k].label_a = job->label_a;
      job->options[k].label_b = job->label_b;
    }
  return job;
}

static gboolean
export_job_run (ExportJob *job, GError **error)
{
  if (job->dashboard)
    {
      const ClFigureOptions *options[CL_N_FIGURES];
      for (int k = 0; k < CL_N_FIGURES; k++)
        options[k] = &job->options[k];
      return cl_export_dashboard (job->path, job->format, job->snap, options, job->scale, job->flags, error);
    }
  return cl_export_figure (job->path, job->format, job->kind, job->snap, &job->options[job->kind], job->scale,
                           job->flags, error);
}

/* The latest snapshot (new reference), or NULL with an error when there is nothing to export. */
static ClSnapshot *
snapshot_to_export (ClWindow *self, GError **error)
{
  /* What the figures show: a run picked as A, else the live run. */
  ClSnapshot *s = self->show_a && self->show_a->snap ? cl_snapshot_ref (self->show_a->snap)
                  : self->trainer                    ? cl_trainer_get_snapshot (self->trainer)
                                                     : NULL;
  if (!s)
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "Nothing to export: no run is going");
  return s;
}

gboolean
cl_window_export (ClWindow *self, const char *path, gboolean dashboard, double scale, ClExportFlags flags,
                  GError **error)
{
  ClExportFormat format;
  if (!cl_export_format_from_path (path, &format))
    {
      g_autofree char *display = g_filename_display_name (path);
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                   "Cannot export “%s”: the name must end in .png, .svg or .pdf", display);
      return FALSE;
    }
  ClSnapshot *s = snapshot_to_export (self, error);
  if (!s)
    return FALSE;
  ExportJob *job = export_job_new (self, path, format, dashboard, scale, flags, s);
  gboolean ok = export_job_run (job, error);
  export_job_free (job);
  return ok;
}

gboolean
cl_window_export_png (ClWindow *self, const char *path, GError **error)
{
  return cl_window_export (self, path, FALSE, 1.0, CL_EXPORT_FLAGS_NONE, error);
}

/* Exports still writing when the app quits are waited for (cl_window_wait_for_exports), so
 * that quitting never cuts a file short or leaves its temp file behind. */
static GMutex exports_lock;
static GCond exports_done_cond;
static int exports_in_flight;

void
cl_window_wait_for_exports (void)
{
  g_mutex_lock (&exports_lock);
  while (exports_in_flight > 0)
    g_cond_wait (&exports_done_cond, &exports_lock);
  g_mutex_unlock (&exports_lock);
}

static void
export_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  (void) source;
  (void) cancellable;
  GError *error = NULL;
  if (export_job_run (data, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
  g_mutex_lock (&exports_lock);
  exports_in_flight--;
  g_cond_broadcast (&exports_done_cond);
  g_mutex_unlock (&exports_lock);
}

static void
export_done (GObject *source, GAsyncResult *result, gpointer data)
{
  (void) source;
  (void) data;
  ExportJob *job = g_task_get_task_data (G_TASK (result));
  g_autoptr (ClWindow) self = g_weak_ref_get (&job->window);
  g_autofree char *name = g_filename_display_basename (job->path);
  GError *error = NULL;
  gboolean ok = g_task_propagate_boolean (G_TASK (result), &error);
  if (!self || self->disposed)
    {
      g_clear_error (&error);
      return;
    }
  self->exports_running--;
  if (ok)
    {
      g_autofree char *text = g_strdup_printf ("Exported %s", name);
      show_notice (self, text);
      if (self->settings)
        {
          g_autofree char *folder = g_path_get_dirname (job->path);
          g_settings_set_string (self->settings, "last-export-folder", folder);
        }
    }
  else
    {
      g_autofree char *primary = g_strdup_printf ("Could not export “%s”", name);
      g_autofree char *secondary = g_strdup_printf ("%s\n\nNothing was written.", error->message);
      present_message (self, GTK_MESSAGE_ERROR, primary, secondary);
      g_error_free (error);
    }
}

void
cl_window_export_async (ClWindow *self, const char *path, gboolean dashboard, double scale, ClExportFlags flags)
{
  GError *error = NULL;
  ClExportFormat format = CL_EXPORT_PNG;
  ClSnapshot *s = NULL;
  if (!cl_export_format_from_path (path, &format))
    {
      g_autofree char *display = g_filename_display_name (path);
      g_set_error (&error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "The name “%s” must end in .png, .svg or .pdf.", display);
    }
  else
    s = snapshot_to_export (self, &error);
  if (!s)
    {
      g_autofree char *name = g_filename_display_basename (path);
      g_autofree char *primary = g_strdup_printf ("Could not export “%s”", name);
      present_message (self, GTK_MESSAGE_ERROR, primary, error->message);
      g_error_free (error);
      return;
    }
  self->exports_running++;
  g_mutex_lock (&exports_lock);
  exports_in_flight++;
  g_mutex_unlock (&exports_lock);
  GTask *task = g_task_new (NULL, NULL, export_done, NULL);
  g_task_set_task_data (task, export_job_new (self, path, format, dashboard, scale, flags, s),
                        (GDestroyNotify) export_job_free);
  g_task_run_in_thread (task, export_thread);
  g_object_unref (task);
}

gboolean
cl_window_exports_running (ClWindow *self)
{
  return self->exports_running > 0;
}

/* The chooser's filters, in ClExportFormat order. */
static const struct {
  const char *name, *mime, *suffix;
} export_filters[CL_N_EXPORT_FORMATS] = {
  { "PNG image (.png)", "image/png", "png" },
  { "SVG drawing (.svg)", "image/svg+xml", "svg" },
  { "PDF document (.pdf)", "application/pdf", "pdf" },
};

static void
on_replace_response (GtkDialog *dialog, int response, ClWindow *self)
{
  ExportJob *job = g_object_get_data (G_OBJECT (dialog), "job");
  if (response == GTK_RESPONSE_ACCEPT)
    cl_window_export_async (self, job->path, job->dashboard, job->scale, CL_EXPORT_OVERWRITE);
  gtk_window_destroy (GTK_WINDOW (dialog));
}

/* The chooser confirmed replacing the name it returned; a name this window completed with an
 * extension was never shown to the user, so replacing it needs its own confirmation. */
static void
export_chosen (ClWindow *self, const char *path, gboolean dashboard, double scale, gboolean confirmed)
{
  if (confirmed || !g_file_test (path, G_FILE_TEST_EXISTS))
    {
      cl_window_export_async (self, path, dashboard, scale,
                              confirmed ? CL_EXPORT_OVERWRITE : CL_EXPORT_FLAGS_NONE);
      return;
    }
  g_autofree char *name = g_filename_display_basename (path);
  GtkWidget *ask = gtk_message_dialog_new (GTK_WINDOW (self), GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                                           GTK_MESSAGE_QUESTION, GTK_BUTTONS_NONE, "Replace “%s”?", name);
  gtk_message_dialog_format_secondary_text (GTK_MESSAGE_DIALOG (ask), "A file with this name already exists.");
  gtk_dialog_add_buttons (GTK_DIALOG (ask), "_Cancel", GTK_RESPONSE_CANCEL, "_Replace", GTK_RESPONSE_ACCEPT, NULL);
  gtk_dialog_set_default_response (GTK_DIALOG (ask), GTK_RESPONSE_CANCEL);
  ExportJob *job = g_new0 (ExportJob, 1);
  g_weak_ref_init (&job->window, NULL);
  job->path = g_strdup (path);
  job->dashboard = dashboard;
  job->scale = scale;
  g_object_set_data_full (G_OBJECT (ask), "job", job, (GDestroyNotify) export_job_free);
  g_signal_connect (ask, "response", G_CALLBACK (on_replace_response), self);
  gtk_window_present (GTK_WINDOW (ask));
}

static void
on_export_response (GtkNativeDialog *dialog, int response, ClWindow *self)
{
  GtkFileChooser *chooser = GTK_FILE_CHOOSER (dialog);
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (chooser);
      g_autofree char *path = file ? g_file_get_path (file) : NULL;
      const char *what = gtk_file_chooser_get_choice (chooser, "what");
      const char *scale = gtk_file_chooser_get_choice (chooser, "scale");
      gboolean dashboard = g_strcmp0 (what, "dashboard") == 0;
      double s = g_strcmp0 (scale, "2") == 0 ? 2.0 : 1.0;
      if (!path)
        present_message (self, GTK_MESSAGE_ERROR, "Could not export",
                         "Export needs a local file; choose a folder on this computer.");
      else
        {
          ClExportFormat format;
          gboolean confirmed = TRUE;
          if (!cl_export_format_from_path (path, &format))
            {
              /* No known extension: the chosen filter decides, and names the file. */
              GtkFileFilter *filter = gtk_file_chooser_get_filter (chooser);
              format = CL_EXPORT_PNG;
              for (int f = 0; f < CL_N_EXPORT_FORMATS; f++)
                if (filter && g_strcmp0 (gtk_file_filter_get_name (filter), export_filters[f].name) == 0)
                  format = (ClExportFormat) f;
              char *named = g_strconcat (path, ".", cl_export_format_extension (format), NULL);
              g_free (path);
              path = named;
              confirmed = FALSE;
            }
          if (self->settings)
            g_settings_set_string (self->settings, "export-scale", s == 2.0 ? "2" : "1");
          export_chosen (self, path, dashboard, s, confirmed);
        }
    }
  g_object_unref (dialog);
}

static void
open_export_chooser (ClWindow *self, gboolean dashboard)
{
  GtkFileChooserNative *dialog = gtk_file_chooser_native_new (dashboard ? "Export Dashboard" : "Export Figure",
                                                              GTK_WINDOW (self), GTK_FILE_CHOOSER_ACTION_SAVE,
                                                              "_Export", "_Cancel");
  GtkFileChooser *chooser = GTK_FILE_CHOOSER (dialog);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (dialog), TRUE);
  int step = self->shown ? (int) self->shown->step : 0;
  ClFigureKind kind = cl_window_get_visible_figure (self);
  g_autofree char *suggested = g_strdup_printf ("contrastlab-%s-step%d.png", dashboard ? "dashboard" : cl_figure_slug (kind),
                                                step);
  gtk_file_chooser_set_current_name (chooser, suggested);
  g_autofree char *folder = self->settings ? g_settings_get_string (self->settings, "last-export-folder") : NULL;
  if (folder && *folder && g_file_test (folder, G_FILE_TEST_IS_DIR))
    {
      g_autoptr (GFile) dir = g_file_new_for_path (folder);
      gtk_file_chooser_set_current_folder (chooser, dir, NULL);
    }
  for (int f = 0; f < CL_N_EXPORT_FORMATS; f++)
    {
      GtkFileFilter *filter = gtk_file_filter_new ();
      gtk_file_filter_set_name (filter, export_filters[f].name);
      gtk_file_filter_add_mime_type (filter, export_filters[f].mime);
      gtk_file_filter_add_suffix (filter, export_filters[f].suffix);
      gtk_file_chooser_add_filter (chooser, filter);
      g_object_unref (filter);
    }
  g_autofree char *figure_label = g_strdup_printf ("The shown figure (%s)", cl_figure_title (kind));
  const char *what_ids[] = { "figure", "dashboard", NULL };
  const char *what_labels[] = { figure_label, "The dashboard (all six figures)", NULL };
  gtk_file_chooser_add_choice (chooser, "what", "Export", what_ids, what_labels);
  gtk_file_chooser_set_choice (chooser, "what", dashboard ? "dashboard" : "figure");
  const char *scale_ids[] = { "1", "2", NULL };
  const char *scale_labels[] = { "1× (as laid out)", "2× (sharper, for slides and print)", NULL };
  gtk_file_chooser_add_choice (chooser, "scale", "PNG scale", scale_ids, scale_labels);
  g_autofree char *scale = self->settings ? g_settings_get_string (self->settings, "export-scale") : NULL;
  gtk_file_chooser_set_choice (chooser, "scale", g_strcmp0 (scale, "2") == 0 ? "2" : "1");
  g_signal_connect (dialog, "response", G_CALLBACK (on_export_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

static void
action_export (GtkWidget *widget, const char *name, GVariant *param)
{
  (void) name;
  (void) param;
  open_export_chooser (CL_WINDOW (widget), FALSE);
}

static void
action_export_dashboard (GtkWidget *widget, const char *name, GVariant *param)
{
  (void) name;
  (void) param;
  open_export_chooser (CL_WINDOW (widget), TRUE);
}

/* --------------------------------------------------------------------- CSV */

gboolean
cl_window_export_csv (ClWindow *self, const char *folder, ClExportFlags flags, GError **error)
{
  ClSnapshot *s = snapshot_to_export (self, error);
  if (!s)
    return FALSE;
  gboolean ok = cl_export_csv_folder (folder, s, flags, error);
  cl_snapshot_unref (s);
  return ok;
}

static void
export_csv_now (ClWindow *self, const char *folder, ClExportFlags flags)
{
  GError *error = NULL;
  g_autofree char *display = g_filename_display_name (folder);
  if (cl_window_export_csv (self, folder, flags, &error))
    {
      g_autofree char *text = g_strdup_printf ("Exported metrics, probes, clusters and similarity CSV to %s", display);
      show_notice (self, text);
      if (self->settings)
        g_settings_set_string (self->settings, "last-csv-folder", folder);
    }
  else
    {
      g_autofree char *secondary = g_strdup_printf ("%s\n\nNone of the four files was written.", error->message);
      present_message (self, GTK_MESSAGE_ERROR, "Could not export the CSV files", secondary);
      g_error_free (error);
    }
}

static void
on_replace_csv_response (GtkDialog *dialog, int response, ClWindow *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    export_csv_now (self, g_object_get_data (G_OBJECT (dialog), "folder"), CL_EXPORT_OVERWRITE);
  gtk_window_destroy (GTK_WINDOW (dialog));
}

static void
on_export_csv_response (GtkNativeDialog *dialog, int response, ClWindow *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *folder = file ? g_file_get_path (file) : NULL;
      if (!folder)
        present_message (self, GTK_MESSAGE_ERROR, "Could not export the CSV files",
                         "Export needs a local folder; choose a folder on this computer.");
      else
        {
          g_auto (GStrv) existing = cl_export_csv_existing (folder);
          if (!existing[0])
            export_csv_now (self, folder, CL_EXPORT_FLAGS_NONE);
          else
            {
              g_autofree char *display = g_filename_display_name (folder);
              g_autofree char *names = g_strjoinv (", ", existing);
              guint n = g_strv_length (existing);
              GtkWidget *ask = gtk_message_dialog_new (GTK_WINDOW (self),
                                                       GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                                                       GTK_MESSAGE_QUESTION, GTK_BUTTONS_NONE,
                                                       n == 1 ? "Replace %u file in “%s”?" : "Replace %u files in “%s”?",
                                                       n, display);
              gtk_message_dialog_format_secondary_text (GTK_MESSAGE_DIALOG (ask), "Already there: %s.", names);
              gtk_dialog_add_buttons (GTK_DIALOG (ask), "_Cancel", GTK_RESPONSE_CANCEL, "_Replace", GTK_RESPONSE_ACCEPT,
                                      NULL);
              gtk_dialog_set_default_response (GTK_DIALOG (ask), GTK_RESPONSE_CANCEL);
              g_object_set_data_full (G_OBJECT (ask), "folder", g_strdup (folder), g_free);
              g_signal_connect (ask, "response", G_CALLBACK (on_replace_csv_response), self);
              gtk_window_present (GTK_WINDOW (ask));
            }
        }
    }
  g_object_unref (dialog);
}

static void
action_export_csv (GtkWidget *widget, const char *name, GVariant *param)
{
  (void) name;
  (void) param;
  ClWindow *self = CL_WINDOW (widget);
  GtkFileChooserNative *dialog = gtk_file_chooser_native_new (
      "Export Data as CSV (metrics, probes, clusters, similarity)", GTK_WINDOW (self),
      GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, "_Export Here", "_Cancel");
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (dialog), TRUE);
  g_autofree char *folder = self->settings ? g_settings_get_string (self->settings, "last-csv-folder") : NULL;
  if (folder && *folder && g_file_test (folder, G_FILE_TEST_IS_DIR))
    {
      g_autoptr (GFile) dir = g_file_new_for_path (folder);
      gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (dialog), dir, NULL);
    }
  g_signal_connect (dialog, "response", G_CALLBACK (on_export_csv_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

/* Replaces the whole configuration (a preset, an opened file, a dropped PNG) and restarts. */
static void
apply_config (ClWindow *self, const ClConfig *cfg, const char *source)
{
  self->config = *cfg;
  GHashTableIter it;
  gpointer key, row;
  g_hash_table_iter_init (&it, self->rows);
  while (g_hash_table_iter_next (&it, &key, &row))
    {
      g_autofree char *v = cl_config_get (&self->config, cl_param_row_get_param (row));
      cl_param_row_set_value (row, v);
    }
  start_run (self);
  g_autofree char *title = g_strdup_printf ("ContrastLab — %s", source);
  gtk_window_set_title (GTK_WINDOW (self), title);
}

gboolean
cl_window_load (ClWindow *self, const char *name_or_file, GError **error)
{
  ClConfig cfg;
  cl_config_init (&cfg);
  if (!cl_config_apply_preset (&cfg, name_or_file, error))
    return FALSE;
  g_autofree char *base = g_path_get_basename (name_or_file);
  apply_config (self, &cfg, base);
  if (self->settings && !strchr (name_or_file, '/'))
    g_settings_set_string (self->settings, "last-preset", name_or_file);
  return TRUE;
}

static void
load_or_complain (ClWindow *self, const char *name_or_file)
{
  GError *error = NULL;
  if (!cl_window_load (self, name_or_file, &error))
    {
      cl_window_show_error (self, error->message);
      g_error_free (error);
    }
}

static void
action_load_preset (GtkWidget *widget, const char *name, GVariant *param)
{
  (void) name;
  load_or_complain (CL_WINDOW (widget), g_variant_get_string (param, NULL));
}

static void
on_open_response (GtkNativeDialog *dialog, int response, ClWindow *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);
      if (path)
        load_or_complain (self, path);
    }
  g_object_unref (dialog);
}

static void
action_open_config (GtkWidget *widget, const char *name, GVariant *param)
{
  (void) name;
  (void) param;
  ClWindow *self = CL_WINDOW (widget);
  GtkFileChooserNative *dialog = gtk_file_chooser_native_new ("Open Configuration", GTK_WINDOW (self),
                                                              GTK_FILE_CHOOSER_ACTION_OPEN, "_Open", "_Cancel");
  GtkFileFilter *filter = gtk_file_filter_new ();
  gtk_file_filter_set_name (filter, "ContrastLab configurations and figures (.ini, .png)");
  gtk_file_filter_add_suffix (filter, "ini");
  gtk_file_filter_add_suffix (filter, "png");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (dialog), filter);
  g_object_unref (filter);
  g_signal_connect (dialog, "response", G_CALLBACK (on_open_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

gboolean
cl_window_save_config (ClWindow *self, const char *path, GError **error)
{
  g_autofree char *ini = cl_config_to_ini (&self->config);
  /* g_file_set_contents writes a temporary file beside the target and renames it. */
  return g_file_set_contents (path, ini, -1, error);
}

static void
on_save_response (GtkNativeDialog *dialog, int response, ClWindow *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);
      GError *error = NULL;
      if (path && !cl_window_save_config (self, path, &error))
        {
          cl_window_show_error (self, error->message);
          g_error_free (error);
        }
    }
  g_object_unref (dialog);
}

static void
action_save_config (GtkWidget *widget, const char *name, GVariant *param)
{
  (void) name;
  (void) param;
  ClWindow *self = CL_WINDOW (widget);
  GtkFileChooserNative *dialog = gtk_file_chooser_native_new ("Save Configuration", GTK_WINDOW (self),
                                                              GTK_FILE_CHOOSER_ACTION_SAVE, "_Save", "_Cancel");
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (dialog), "contrastlab.ini");
  g_signal_connect (dialog, "response", G_CALLBACK (on_save_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

/* Dropping an exported PNG (or a saved .ini) restores its configuration. */
static gboolean
on_drop (GtkDropTarget *target, const GValue *value, double x, double y, ClWindow *self)
{
  (void) target;
  (void) x;
  (void) y;
  if (!G_VALUE_HOLDS (value, G_TYPE_FILE))
    return FALSE;
  g_autofree char *path = g_file_get_path (g_value_get_object (value));
  if (!path)
    return FALSE;
  load_or_complain (self, path);
  return TRUE;
}

static void
build_presets_menu (ClWindow *self)
{
  g_autoptr (GPtrArray) names = cl_preset_list ();
  for (guint i = 0; i < names->len; i++)
    {
      const char *name = names->pdata[i];
      g_autofree char *path = cl_preset_resolve (name, NULL);
      g_autofree char *desc = NULL;
      double minutes = 0;
      cl_preset_describe (path, &desc, &minutes);
      g_autofree char *label = minutes > 0 ? g_strdup_printf ("%s (~%.0f min)", name, minutes) : g_strdup (name);
      GMenuItem *item = g_menu_item_new (label, NULL);
      g_menu_item_set_action_and_target (item, "win.load-preset", "s", name);
      g_menu_append_item (self->presets_menu, item);
      g_object_unref (item);
    }
}

static void
on_restart_clicked (GtkButton *button, ClWindow *self)
{
  (void) button;
  start_run (self);
}

static void
add_section (ClWindow *self, const char *title, const char *note)
{
  GtkWidget *label = gtk_label_new (title);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_add_css_class (label, "section-title");
  gtk_box_append (self->params_box, label);
  if (note)
    {
      GtkWidget *n = gtk_label_new (note);
      gtk_label_set_xalign (GTK_LABEL (n), 0);
      gtk_label_set_wrap (GTK_LABEL (n), TRUE);
      gtk_widget_add_css_class (n, "section-note");
      gtk_box_append (self->params_box, n);
    }
}

/* The sidebar is generated from the parameter table: one row per knob, live ones first. */
static void
build_param_rows (ClWindow *self)
{
  int n;
  const ClParam *params = cl_params (&n);
  for (int pass = 0; pass < 2; pass++)
    {
      gboolean live = pass == 0;
      if (live)
        add_section (self, "Live controls", "Apply at the next step; marked on the charts.");
      else
        add_section (self, "Run setup", "Changing these restarts the run (the button below the list).");
      for (int i = 0; i < n; i++)
        {
          const ClParam *p = &params[i];
          if (!!(p->flags & CL_PARAM_LIVE) != live || p->type == CL_PARAM_STRING)
            continue;
          if (p->type == CL_PARAM_ENUM && g_strv_length ((char **) p->choices) < 2)
            continue; /* nothing to choose yet */
          g_autofree char *value = cl_config_get (&self->config, p);
          GtkWidget *row = cl_param_row_new (p, value);
          g_signal_connect (row, "value-changed", G_CALLBACK (on_param_changed), self);
          g_hash_table_insert (self->rows, (gpointer) p->key, row);
          gtk_box_append (self->params_box, row);
        }
    }
}

static void
report_frame_stats (ClWindow *self)
{
  gint64 draws;
  double mean_ms, max_ms;
  cl_figure_view_draw_stats (&draws, &mean_ms, &max_ms);
  g_printerr ("contrastlab: frames: %" G_GINT64_FORMAT " ticks, %" G_GINT64_FORMAT
              " intervals over 18.7 ms, longest interval %.1f ms; tick callback at most %.2f ms; "
              "%" G_GINT64_FORMAT " figure draws, mean %.2f ms, longest %.2f ms; "
              "%" G_GINT64_FORMAT " run-list writes, mean %.2f ms, longest %.2f ms\n",
              self->ticks, self->ticks_over_16ms, self->interval_max_us / 1000.0, self->tick_work_max_us / 1000.0,
              draws, mean_ms, max_ms, self->record_count,
              self->record_count ? self->record_total_us / 1000.0 / self->record_count : 0.0,
              self->record_max_us / 1000.0);
}

static void
cl_window_dispose (GObject *object)
{
  ClWindow *self = CL_WINDOW (object);
  if (self->tick_id && g_getenv ("CONTRASTLAB_FRAME_STATS"))
    report_frame_stats (self);
  if (self->tick_id)
    {
      gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->tick_id);
      self->tick_id = 0;
    }
  if (self->record_pool)
    {
      /* Queued writes finish first (they hold no reference: the window waits for them). */
      g_thread_pool_free (self->record_pool, FALSE, TRUE);
      self->record_pool = NULL;
    }
  if (self->trainer)
    {
      /* On close the process may exit right after; wait for the thread here, and keep the
       * run's last rows in the run list. */
      cl_trainer_request_stop (self->trainer);
      cl_trainer_wait (self->trainer);
      if (self->runs)
        record_run (self, TRUE);
      cl_trainer_free (self->trainer);
      self->trainer = NULL;
    }
  if (self->runs)
    dispose_runs (self);
  g_clear_pointer (&self->store, cl_run_store_close);
  g_clear_pointer (&self->current_id, g_free);
  self->disposed = TRUE;
  if (self->notice_id)
    {
      g_source_remove (self->notice_id);
      self->notice_id = 0;
    }
  g_clear_pointer (&self->shown, cl_snapshot_unref);
  g_clear_pointer (&self->rows, g_hash_table_unref);
  g_clear_object (&self->settings);
  gtk_widget_dispose_template (GTK_WIDGET (self), CL_TYPE_WINDOW);
  G_OBJECT_CLASS (cl_window_parent_class)->dispose (object);
}

static void
cl_window_finalize (GObject *object)
{
  g_mutex_clear (&CL_WINDOW (object)->store_lock);
  G_OBJECT_CLASS (cl_window_parent_class)->finalize (object);
}

static void
cl_window_class_init (ClWindowClass *klass)
{
  GtkWidgetClass *wc = GTK_WIDGET_CLASS (klass);
  G_OBJECT_CLASS (klass)->dispose = cl_window_dispose;
  G_OBJECT_CLASS (klass)->finalize = cl_window_finalize;
  g_type_ensure (CL_TYPE_FIGURE_VIEW);
  gtk_widget_class_set_template_from_resource (wc, "/org/contrastlab/ContrastLab/cl-window.ui");
  gtk_widget_class_bind_template_child (wc, ClWindow, play_button);
  gtk_widget_class_bind_template_child (wc, ClWindow, params_box);
  gtk_widget_class_bind_template_child (wc, ClWindow, figure_stack);
  gtk_widget_class_bind_template_child (wc, ClWindow, caption_label);
  gtk_widget_class_bind_template_child_full (wc, "loss_view", FALSE, G_STRUCT_OFFSET (ClWindow, figure_views[CL_FIGURE_LOSS]));
  gtk_widget_class_bind_template_child_full (wc, "probes_view", FALSE, G_STRUCT_OFFSET (ClWindow, figure_views[CL_FIGURE_PROBES]));
  gtk_widget_class_bind_template_child_full (wc, "geometry_view", FALSE, G_STRUCT_OFFSET (ClWindow, figure_views[CL_FIGURE_GEOMETRY]));
  gtk_widget_class_bind_template_child_full (wc, "views_view", FALSE, G_STRUCT_OFFSET (ClWindow, figure_views[CL_FIGURE_VIEWS]));
  gtk_widget_class_bind_template_child_full (wc, "similarity_view", FALSE, G_STRUCT_OFFSET (ClWindow, figure_views[CL_FIGURE_SIMILARITY]));
  gtk_widget_class_bind_template_child (wc, ClWindow, sim_order);
  gtk_widget_class_bind_template_child_full (wc, "clusters_view", FALSE, G_STRUCT_OFFSET (ClWindow, figure_views[CL_FIGURE_CLUSTERS]));
  gtk_widget_class_bind_template_child (wc, ClWindow, status_label);
  gtk_widget_class_bind_template_child (wc, ClWindow, notice_label);
  gtk_widget_class_bind_template_child (wc, ClWindow, probe_bar);
  gtk_widget_class_bind_template_child (wc, ClWindow, sidebar_stack);
  gtk_widget_class_bind_template_child (wc, ClWindow, runs_view);
  gtk_widget_class_bind_template_child (wc, ClWindow, run_a);
  gtk_widget_class_bind_template_child (wc, ClWindow, run_b);
  gtk_widget_class_bind_template_child (wc, ClWindow, error_revealer);
  gtk_widget_class_bind_template_child (wc, ClWindow, error_label);
  gtk_widget_class_bind_template_child (wc, ClWindow, restart_button);
  gtk_widget_class_bind_template_callback (wc, on_restart_clicked);
  gtk_widget_class_install_action (wc, "win.play-pause", NULL, action_play_pause);
  gtk_widget_class_install_action (wc, "win.reset", NULL, action_reset);
  gtk_widget_class_install_action (wc, "win.export", NULL, action_export);
  gtk_widget_class_install_action (wc, "win.export-dashboard", NULL, action_export_dashboard);
  gtk_widget_class_install_action (wc, "win.export-csv", NULL, action_export_csv);
  gtk_widget_class_install_action (wc, "win.open-runs", NULL, action_open_runs);
  gtk_widget_class_install_action (wc, "win.sweep", NULL, action_sweep);
  gtk_widget_class_install_action (wc, "win.clear-overlays", NULL, action_clear_overlays);
  gtk_widget_class_install_action (wc, "win.dismiss-error", NULL, action_dismiss_error);
  gtk_widget_class_install_action (wc, "win.load-preset", "s", action_load_preset);
  gtk_widget_class_install_action (wc, "win.open-config", NULL, action_open_config);
  gtk_widget_class_install_action (wc, "win.save-config", NULL, action_save_config);
  gtk_widget_class_bind_template_child (wc, ClWindow, presets_menu);
}

static void
on_visible_figure (ClWindow *self)
{
  gtk_label_set_text (self->caption_label, cl_figure_caption (cl_window_get_visible_figure (self)));
}

static void
on_sim_order (ClWindow *self)
{
  cl_figure_view_set_sim_order (self->figure_views[CL_FIGURE_SIMILARITY],
                                (ClSimOrder) gtk_drop_down_get_selected (self->sim_order));
}

static void
cl_window_init (ClWindow *self)
{
  g_mutex_init (&self->store_lock);
  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect_swapped (self->figure_stack, "notify::visible-child", G_CALLBACK (on_visible_figure), self);
  on_visible_figure (self);
  build_presets_menu (self);
  g_signal_connect_swapped (self->sim_order, "notify::selected", G_CALLBACK (on_sim_order), self);
  /* Space plays/pauses only when the focused widget does not use it itself: an application
   * accelerator would run first and keep Space from pressing a focused button, toggle or
   * drop-down, which keyboard users need. */
  GtkEventController *keys = gtk_shortcut_controller_new ();
  gtk_event_controller_set_propagation_phase (keys, GTK_PHASE_BUBBLE);
  gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (keys),
                                        gtk_shortcut_new (gtk_keyval_trigger_new (GDK_KEY_space, 0),
                                                          gtk_named_action_new ("win.play-pause")));
  gtk_widget_add_controller (GTK_WIDGET (self), keys);
  GtkDropTarget *drop = gtk_drop_target_new (G_TYPE_FILE, GDK_ACTION_COPY);
  g_signal_connect (drop, "drop", G_CALLBACK (on_drop), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drop));

  /* Window geometry persists through GSettings when the schema is installed; training
   * parameters never go there (they live in run files and presets). */
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr (GSettingsSchema) schema = source ? g_settings_schema_source_lookup (source, CL_APP_ID, TRUE) : NULL;
  if (schema)
    {
      self->settings = g_settings_new (CL_APP_ID);
      g_settings_bind (self->settings, "window-width", self, "default-width", G_SETTINGS_BIND_DEFAULT);
      g_settings_bind (self->settings, "window-height", self, "default-height", G_SETTINGS_BIND_DEFAULT);
      g_settings_bind (self->settings, "window-maximized", self, "maximized", G_SETTINGS_BIND_DEFAULT);
    }
  self->rows = g_hash_table_new (g_str_hash, g_str_equal);
  init_runs (self);
}

ClWindow *
cl_window_new (GtkApplication *app, const ClConfig *config)
{
  ClWindow *self = g_object_new (CL_TYPE_WINDOW, "application", app, NULL);
  self->config = *config;
  self->run_config = *config;
  build_param_rows (self);
  GError *error = NULL;
  self->store = cl_run_store_open (NULL, &error);
  self->record_pool = g_thread_pool_new (record_worker, self, 1, FALSE, NULL);
  start_run (self);
  if (!self->store)
    {
      /* After start_run, which hides the error bar when the run starts. */
      g_autofree char *msg = g_strdup_printf ("The run list is off (runs are not kept): %s", error->message);
      cl_window_show_error (self, msg);
      g_error_free (error);
    }
  refresh_store_runs (self);
  self->record_id = g_timeout_add_seconds (3, on_record_timer, self);
  self->tick_id = gtk_widget_add_tick_callback (GTK_WIDGET (self), on_tick, NULL, NULL);
  return self;
}

void
cl_window_show_runs (ClWindow *self, gboolean show)
{
  gtk_stack_set_visible_child_name (self->sidebar_stack, show ? "runs" : "controls");
}

const ClFigureOptions *
cl_window_get_figure_options (ClWindow *self, ClFigureKind kind)
{
  return cl_figure_view_get_options (self->figure_views[kind]);
}

ClFigureKind
cl_window_get_visible_figure (ClWindow *self)
{
  const char *name = gtk_stack_get_visible_child_name (self->figure_stack);
  for (int k = 0; name && k < CL_N_FIGURES; k++)
    if (strcmp (name, cl_figure_slug ((ClFigureKind) k)) == 0)
      return (ClFigureKind) k;
  return CL_FIGURE_LOSS;
}

void
cl_window_show_figure (ClWindow *self, ClFigureKind kind)
{
  gtk_stack_set_visible_child_name (self->figure_stack, cl_figure_slug (kind));
}

ClTrainer *
cl_window_get_trainer (ClWindow *self)
{
  return self->trainer;
}

ClParamRow *
cl_window_get_param_row (ClWindow *self, const char *key)
{
  return g_hash_table_lookup (self->rows, key);
}

GtkWidget *
cl_window_get_restart_button (ClWindow *self)
{
  return self->restart_button;
}
