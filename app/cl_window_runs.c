/* The run list panel: every run of this window and of opened folders, A/B choice and overlays. */
#include "app/cl_window_private.h"
#include "app/cl_run_entry.h"
#include "app/cl_run_row.h"
#include "app/cl_sweep_follow.h"

#include <math.h>
#include <string.h>

#include "cl_config.h"
#include "engine/base/cl_format.h"
#include "engine/store/cl_runs.h"
#include "ui/cl_figure_view.h"

static void apply_comparison (ClWindow *self);

static void
on_entry_overlay (ClRunEntry *e, GParamSpec *pspec, ClWindow *self)
{
  (void) pspec;
  GError *error = NULL;
  if (e->overlay && !cl_run_entry_snapshot (e, &error))
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
  ClRunEntry *e = cl_run_entry_new (info, key, from_store, recording);
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

/* TRUE when the run list shows its first row whole (it is scrolled to the top). */
static gboolean
runs_list_at_top (ClWindow *self)
{
  GtkAdjustment *v = gtk_scrollable_get_vadjustment (GTK_SCROLLABLE (self->runs_view));
  return v == NULL || gtk_adjustment_get_value (v) < 1.0;
}

/* Brings the list up to date with a listing of the store (new runs, the recording run's
 * progress). Takes list and current. */
void
cl_window_runs_apply_store_list (ClWindow *self, GPtrArray *list, char *current)
{
  g_free (self->current_id);
  self->current_id = current;
  gboolean added = FALSE, at_top = runs_list_at_top (self);
  for (guint i = 0; i < list->len; i++)
    {
      const ClRunInfo *info = list->pdata[i];
      gboolean recording = current && strcmp (current, info->id) == 0;
      ClRunEntry *e = g_hash_table_lookup (self->entries, info->id);
      if (!e && cl_window_history_trash_pending (self, info->id))
        continue; /* deleted, the undo bar still open */
      if (e)
        {
          /* A run that stopped recording is read again when next drawn. */
          if (e->recording && !recording)
            g_clear_pointer (&e->snap, cl_snapshot_unref);
          cl_run_entry_set_info (e, cl_run_info_copy (info), recording);
        }
      else
        {
          add_entry (self, cl_run_info_copy (info), info->id, TRUE, recording, self->n_opened);
          added = TRUE;
        }
    }
  g_ptr_array_unref (list);
  /* A new run goes in at the top: a list that showed its top keeps showing it (the list view
   * would otherwise keep the row that was first in place and push the new one out of sight). */
  if (added && at_top && g_list_model_get_n_items (G_LIST_MODEL (self->runs_filtered)) > 0)
    gtk_widget_activate_action (GTK_WIDGET (self->runs_view), "list.scroll-to-item", "u", 0u);
  if (added)
    cl_window_replicates_update (self); /* a new run may be another seed of the shown one */
}

/* The list brought up to date with the store's own listing. */
void
cl_window_runs_refresh (ClWindow *self)
{
  if (!self->recorder)
    return;
  char *current = NULL;
  GPtrArray *list = cl_run_recorder_list (self->recorder, &current);
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
  cl_window_replicates_update (self);
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

/* A run of the list (NULL: the live run / nothing) shown as A or compared as B. FALSE with error
 * when that run cannot be read. */
static gboolean
choose_run (ClWindow *self, ClRunEntry *e, ClRunEntry **slot, GError **error)
{
  if (e && !e->info)
    e = NULL; /* the first item: live / nothing */
  if (e && slot == &self->show_a && e->recording)
    e = NULL; /* the recording run is the live run */
  if (e && e->recording && !e->snap)
    {
      e->snap = cl_run_recorder_load (self->recorder, e->key, error);
    }
  if (e && !(e->recording ? e->snap : cl_run_entry_snapshot (e, error)))
    return FALSE;
  if (*slot == e)
    return TRUE; /* the same run moved in the list (runs came in above it) */
  g_set_object (slot, e);
  apply_comparison (self);
  return TRUE;
}

/* The drop-downs' items: the first (live / nothing), then the run list in its order. */
static guint
choice_position (GtkDropDown *dropdown, ClRunEntry *e)
{
  GListModel *model = gtk_drop_down_get_model (dropdown);
  guint n = g_list_model_get_n_items (model);
  for (guint i = 1; e && i < n; i++)
    {
      g_autoptr (ClRunEntry) item = g_list_model_get_item (model, i);
      if (item == e)
        return i;
    }
  return 0;
}

static void
set_choice (ClWindow *self, GtkDropDown *dropdown, guint position)
{
  self->syncing_choices = TRUE;
  gtk_drop_down_set_selected (dropdown, position);
  self->syncing_choices = FALSE;
}

static void
on_choice_selected (GtkDropDown *dropdown, GParamSpec *pspec, ClWindow *self)
{
  (void) pspec;
  if (self->syncing_choices)
    return;
  ClRunEntry **slot = dropdown == self->run_a ? &self->show_a : &self->show_b;
  ClRunEntry *e = gtk_drop_down_get_selected_item (dropdown);
  GError *error = NULL;
  if (!choose_run (self, e, slot, &error))
    {
      cl_window_show_error (self, error->message);
      g_error_free (error);
      set_choice (self, dropdown, 0);
      g_clear_object (slot);
      apply_comparison (self);
    }
}

void
cl_window_runs_apply_comparison (ClWindow *self)
{
  apply_comparison (self);
}

/* Shows the choices a slot holds (after a run left the list, the slot is emptied). */
void
cl_window_runs_sync_choices (ClWindow *self)
{
  ClRunEntry **slots[] = { &self->show_a, &self->show_b };
  GtkDropDown *dropdowns[] = { self->run_a, self->run_b };
  gboolean changed = FALSE;
  for (int i = 0; i < 2; i++)
    {
      guint position = choice_position (dropdowns[i], *slots[i]);
      if (*slots[i] && position == 0)
        {
          g_clear_object (slots[i]);
          changed = TRUE;
        }
      if (gtk_drop_down_get_selected (dropdowns[i]) != position)
        set_choice (self, dropdowns[i], position);
    }
  if (changed)
    apply_comparison (self);
}

static gboolean
select_choice (ClWindow *self, GtkDropDown *dropdown, const char *key, GError **error)
{
  ClRunEntry *e = NULL;
  if (key)
    {
      e = g_hash_table_lookup (self->entries, key);
      if (!e || choice_position (dropdown, e) == 0)
        {
          g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT, "No run “%s” in the run list", key);
          return FALSE;
        }
    }
  set_choice (self, dropdown, choice_position (dropdown, e));
  if (!choose_run (self, e, dropdown == self->run_a ? &self->show_a : &self->show_b, error))
    {
      set_choice (self, dropdown, 0);
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
          cl_run_entry_set_info (e, cl_run_info_copy (e->info), e->recording);
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
  gtk_stack_set_visible_child_name (self->sidebar_stack, "runs");
  if (added)
    cl_window_replicates_update (self);
  g_autofree char *text =
      added ? g_strdup_printf (added == 1 ? "Opened %u run from %s" : "Opened %u runs from %s", added, display)
            : g_strdup_printf ("The runs in %s are already in the list", display);
  cl_window_show_notice (self, text);
  return TRUE;
}

/* The list rows: the template resources/cl-run-row.ui (app/cl_run_row.c). */
static void
setup_run_row (GtkSignalListItemFactory *factory, GtkListItem *item, gpointer data)
{
  (void) factory;
  (void) data;
  gtk_list_item_set_child (item, cl_run_row_new ());
}

static void
bind_run_row (GtkSignalListItemFactory *factory, GtkListItem *item, gpointer data)
{
  (void) factory;
  (void) data;
  ClRunEntry *e = gtk_list_item_get_item (item);
  g_autoptr (GMenuModel) model = cl_window_history_row_menu (e);
  cl_run_row_bind (CL_RUN_ROW (gtk_list_item_get_child (item)), e, model);
}

static void
unbind_run_row (GtkSignalListItemFactory *factory, GtkListItem *item, gpointer data)
{
  (void) factory;
  (void) data;
  cl_run_row_unbind (CL_RUN_ROW (gtk_list_item_get_child (item)));
}

static void
unbind_choice_label (GtkSignalListItemFactory *factory, GtkListItem *item, gpointer data)
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
  g_autoptr (ClRunEntry) e = g_list_model_get_item (G_LIST_MODEL (gtk_list_view_get_model (view)), position);
  GError *error = NULL;
  if (e && !select_choice (self, self->run_a, e->recording ? NULL : e->key, &error))
    {
      cl_window_show_error (self, error->message);
      g_error_free (error);
    }
}

/* Drop-down items. The button shows the run's title ("default · stopped"), ellipsized in the
 * middle so that its start and its state stay when the sidebar is narrow, with the whole choice
 * (title and parameters) as its tooltip; the popup list shows the title and, under it, the
 * parameters and the detail line (class probe, seed, time, steps), wrapped rather than cut (a long run summary must not
 * widen the sidebar nor run off the popover). */
static void
setup_choice_label (GtkSignalListItemFactory *factory, GtkListItem *item, gpointer button)
{
  (void) factory;
  if (button)
    {
      GtkWidget *label = gtk_label_new (NULL);
      gtk_label_set_xalign (GTK_LABEL (label), 0);
      gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_MIDDLE);
      gtk_label_set_width_chars (GTK_LABEL (label), 12);
      gtk_list_item_set_child (item, label);
      return;
    }
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 1);
  /* the popover is as wide as its list asks at least (else the button's width: a 200 px column
   * of two-line names at 1024 px) */
  gtk_widget_set_size_request (box, 320, -1);
  for (int i = 0; i < 3; i++)
    {
      GtkWidget *label = gtk_label_new (NULL);
      gtk_label_set_xalign (GTK_LABEL (label), 0);
      gtk_label_set_wrap (GTK_LABEL (label), TRUE);
      gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
      gtk_label_set_max_width_chars (GTK_LABEL (label), 44);
      if (i > 0)
        gtk_widget_add_css_class (label, "run-detail");
      gtk_box_append (GTK_BOX (box), label);
    }
  gtk_list_item_set_child (item, box);
}

/* A summary label is shown only when there is a summary. */
static gboolean
text_to_visible (GBinding *binding, const GValue *from, GValue *to, gpointer data)
{
  (void) binding;
  (void) data;
  const char *text = g_value_get_string (from);
  g_value_set_boolean (to, text != NULL && *text != '\0');
  return TRUE;
}

static void
bind_choice_label (GtkSignalListItemFactory *factory, GtkListItem *item, gpointer button)
{
  (void) factory;
  GtkWidget *child = gtk_list_item_get_child (item);
  ClRunEntry *e = gtk_list_item_get_item (item);
  GPtrArray *bindings = g_ptr_array_new ();
  if (button)
    {
      g_ptr_array_add (bindings, g_object_bind_property (e, "title", child, "label", G_BINDING_SYNC_CREATE));
      g_ptr_array_add (bindings, g_object_bind_property (e, "choice", child, "tooltip-text", G_BINDING_SYNC_CREATE));
    }
  else
    {
      GtkWidget *title = gtk_widget_get_first_child (child), *summary = gtk_widget_get_next_sibling (title);
      GtkWidget *detail = gtk_widget_get_next_sibling (summary);
      g_ptr_array_add (bindings, g_object_bind_property (e, "title", title, "label", G_BINDING_SYNC_CREATE));
      g_ptr_array_add (bindings, g_object_bind_property (e, "summary", summary, "label", G_BINDING_SYNC_CREATE));
      g_ptr_array_add (bindings, g_object_bind_property_full (e, "summary", summary, "visible", G_BINDING_SYNC_CREATE,
                                                              text_to_visible, NULL, NULL, NULL));
      /* runs of one preset read alike: their class probe, seed, time and steps tell them apart */
      g_ptr_array_add (bindings, g_object_bind_property (e, "detail", detail, "label", G_BINDING_SYNC_CREATE));
      g_ptr_array_add (bindings, g_object_bind_property_full (e, "detail", detail, "visible", G_BINDING_SYNC_CREATE,
                                                              text_to_visible, NULL, NULL, NULL));
    }
  g_object_set_data_full (G_OBJECT (item), "bindings", bindings, (GDestroyNotify) g_ptr_array_unref);
}

static GtkListItemFactory *
choice_factory (gboolean ellipsize)
{
  GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (setup_choice_label), GINT_TO_POINTER (ellipsize));
  g_signal_connect (factory, "bind", G_CALLBACK (bind_choice_label), GINT_TO_POINTER (ellipsize));
  g_signal_connect (factory, "unbind", G_CALLBACK (unbind_choice_label), NULL);
  return factory;
}

void
cl_window_runs_init (ClWindow *self)
{
  self->runs = g_list_store_new (CL_TYPE_RUN_ENTRY);
  self->entries = g_hash_table_new (g_str_hash, g_str_equal);
  GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (setup_run_row), NULL);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_run_row), NULL);
  g_signal_connect (factory, "unbind", G_CALLBACK (unbind_run_row), NULL);
  gtk_list_view_set_factory (self->runs_view, factory);
  g_object_unref (factory);
  /* The list shows the runs the filter lets through (cl_window_history.c). */
  self->runs_filtered = gtk_filter_list_model_new (G_LIST_MODEL (g_object_ref (self->runs)), NULL);
  GtkNoSelection *selection = gtk_no_selection_new (G_LIST_MODEL (g_object_ref (self->runs_filtered)));
  gtk_list_view_set_model (self->runs_view, GTK_SELECTION_MODEL (selection));
  g_object_unref (selection);
  g_signal_connect (self->runs_view, "activate", G_CALLBACK (on_run_activate), self);
  /* The drop-downs hold the list's own entries after a first item (live / nothing), so their
   * texts are the list's and follow its changes. */
  GtkExpression *expr = gtk_property_expression_new (CL_TYPE_RUN_ENTRY, NULL, "choice");
  GtkDropDown *dropdowns[] = { self->run_a, self->run_b };
  const char *firsts[] = { "Live run (training now)", "No comparison" };
  for (int i = 0; i < 2; i++)
    {
      GListStore *first = g_list_store_new (CL_TYPE_RUN_ENTRY);
      ClRunEntry *placeholder = cl_run_entry_new_placeholder (firsts[i]);
      g_list_store_append (first, placeholder);
      g_object_unref (placeholder);
      GListStore *parts = g_list_store_new (G_TYPE_LIST_MODEL);
      g_list_store_append (parts, first);
      g_list_store_append (parts, self->runs);
      g_object_unref (first);
      gtk_drop_down_set_expression (dropdowns[i], expr);
      gtk_drop_down_set_enable_search (dropdowns[i], TRUE);
      GtkListItemFactory *button = choice_factory (TRUE), *list = choice_factory (FALSE);
      gtk_drop_down_set_factory (dropdowns[i], button);
      gtk_drop_down_set_list_factory (dropdowns[i], list);
      g_object_unref (button);
      g_object_unref (list);
      GtkFlattenListModel *model = gtk_flatten_list_model_new (G_LIST_MODEL (parts));
      gtk_drop_down_set_model (dropdowns[i], G_LIST_MODEL (model));
      g_object_unref (model);
      gtk_drop_down_set_selected (dropdowns[i], 0);
    }
  gtk_expression_unref (expr);
  g_signal_connect (self->run_a, "notify::selected", G_CALLBACK (on_choice_selected), self);
  g_signal_connect (self->run_b, "notify::selected", G_CALLBACK (on_choice_selected), self);
  cl_window_history_init (self);
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
  cl_window_replicates_dispose (self);
  g_clear_object (&self->show_a);
  g_clear_object (&self->show_b);
  g_clear_pointer (&self->overlay_snaps, g_ptr_array_unref);
  g_clear_pointer (&self->overlay_labels, g_ptr_array_unref);
  g_clear_pointer (&self->label_a, g_free);
  g_clear_pointer (&self->label_b, g_free);
  cl_window_history_dispose (self);
  g_clear_object (&self->runs_filtered);
  g_clear_pointer (&self->entries, g_hash_table_unref);
  g_clear_object (&self->runs);
}
