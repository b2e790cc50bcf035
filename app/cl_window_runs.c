/* The run list panel: every run of this window and of opened folders, A/B choice and overlays. */
#include "app/cl_window_private.h"
#include "app/cl_sweep_follow.h"

#include <math.h>
#include <string.h>

#include "cl_config.h"
#include "engine/base/cl_format.h"
#include "engine/store/cl_runs.h"
#include "ui/cl_figure_view.h"

static void apply_comparison (ClWindow *self);

/* ------------------------------------------------------------- run entries */

enum
{
  ENTRY_PROP_0,
  ENTRY_PROP_TITLE,
  ENTRY_PROP_SUMMARY,
  ENTRY_PROP_DETAIL,
  ENTRY_PROP_OVERLAY,
  ENTRY_PROP_CAN_OVERLAY,
  ENTRY_N_PROPS
};
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
    case ENTRY_PROP_TITLE:
      g_value_set_string (value, e->title);
      break;
    case ENTRY_PROP_SUMMARY:
      g_value_set_string (value, e->summary);
      break;
    case ENTRY_PROP_DETAIL:
      g_value_set_string (value, e->detail);
      break;
    case ENTRY_PROP_OVERLAY:
      g_value_set_boolean (value, e->overlay);
      break;
    case ENTRY_PROP_CAN_OVERLAY:
      g_value_set_boolean (value, !e->recording);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
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
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
cl_run_entry_class_init (ClRunEntryClass *klass)
{
  GObjectClass *oc = G_OBJECT_CLASS (klass);
  oc->finalize = cl_run_entry_finalize;
  oc->get_property = cl_run_entry_get_property;
  oc->set_property = cl_run_entry_set_property;
  entry_props[ENTRY_PROP_TITLE] =
      g_param_spec_string ("title", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  entry_props[ENTRY_PROP_SUMMARY] =
      g_param_spec_string ("summary", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  entry_props[ENTRY_PROP_DETAIL] =
      g_param_spec_string ("detail", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  entry_props[ENTRY_PROP_OVERLAY] = g_param_spec_boolean (
      "overlay", NULL, NULL, FALSE, G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  entry_props[ENTRY_PROP_CAN_OVERLAY] =
      g_param_spec_boolean ("can-overlay", NULL, NULL, TRUE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (oc, ENTRY_N_PROPS, entry_props);
}

static void
cl_run_entry_init (ClRunEntry *e)
{
  e->class_read = NAN;
}

const char *
cl_run_entry_label (const ClRunEntry *e)
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

  GString *title = g_string_new (cl_run_entry_label (e));
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
      cl_format_duration (info->duration, d, sizeof d);
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

static void
on_entry_overlay (ClRunEntry *e, GParamSpec *pspec, ClWindow *self)
{
  (void) pspec;
  GError *error = NULL;
  if (e->overlay && !entry_snapshot (e, &error))
    {
      g_autofree char *msg = g_strdup_printf ("Cannot draw “%s”: %s", cl_run_entry_label (e), error->message);
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
      g_autofree char *text = g_strdup_printf ("%s%s · %s", cl_run_entry_label (e), e->recording ? " (live)" : "",
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
void
cl_window_runs_apply_store_list (ClWindow *self, GPtrArray *list, char *current)
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
void
cl_window_runs_refresh (ClWindow *self)
{
  if (!self->store)
    return;
  g_mutex_lock (&self->store_lock);
  GPtrArray *list = cl_run_store_list (self->store);
  char *current = g_strdup (cl_run_store_current (self->store));
  g_mutex_unlock (&self->store_lock);
  cl_window_runs_apply_store_list (self, list, current);
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
          g_ptr_array_add (labels, g_strdup (cl_run_entry_label (e)));
        }
    }
  char *label_a = NULL;
  if (self->show_a)
    label_a = g_strdup (cl_run_entry_label (self->show_a));
  else
    {
      ClRunEntry *live = self->current_id ? g_hash_table_lookup (self->entries, self->current_id) : NULL;
      label_a = g_strdup_printf ("%s (live)", live ? cl_run_entry_label (live) : "this run");
    }
  char *label_b = self->show_b ? g_strdup (cl_run_entry_label (self->show_b)) : NULL;
  const ClSnapshot *compare = self->show_b ? self->show_b->snap : NULL;
  for (int k = 0; k < CL_N_FIGURES; k++)
    {
      cl_figure_view_set_comparison (CL_FIGURE_VIEW (self->figure_views[k]), (const ClSnapshot *const *) snaps->pdata,
                                     (const char *const *) labels->pdata, (int) snaps->len, compare, label_a, label_b);
      if (self->show_a)
        cl_figure_view_set_snapshot (self->figure_views[k], self->show_a->snap);
      else
        cl_figure_view_set_snapshot (self->figure_views[k], self->shown);
    }
  gtk_widget_queue_draw (GTK_WIDGET (self->dashboard_area));
  g_clear_pointer (&self->overlay_snaps, g_ptr_array_unref);
  g_clear_pointer (&self->overlay_labels, g_ptr_array_unref);
  g_free (self->label_a);
  g_free (self->label_b);
  self->overlay_snaps = snaps;
  self->overlay_labels = labels;
  self->label_a = label_a;
  self->label_b = label_b;
  if (self->shown)
    cl_window_status_update (self, self->shown);
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
typedef struct
{
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
  /* A sweep still filling (cells run elsewhere) is followed: app/cl_sweep_follow.c. */
  if (cl_sweep_follow_is_filling (dir))
    return cl_sweep_follow_open (self, dir, error) != NULL;
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
  g_autofree char *text =
      added ? g_strdup_printf (added == 1 ? "Opened %u run from %s" : "Opened %u runs from %s", added, display)
            : g_strdup_printf ("The runs in %s are already in the list", display);
  cl_window_show_notice (self, text);
  return TRUE;
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
  g_autofree char *name = g_strdup_printf ("Overlay %s", cl_run_entry_label (e));
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

void
cl_window_runs_init (ClWindow *self)
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

void
cl_window_runs_dispose (ClWindow *self)
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
