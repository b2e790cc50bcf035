/* Run history curation, as TensorBoard and W&B users expect: rename a kept run, add a note to
 * any run, delete a kept run to the trash with an undo bar, filter the list by preset
 * (preset:NAME, the name runs are given), words (name, parameters, note) or a parameter's value
 * (key=value against run.ini, numbers compared as numbers).
 *
 * The note is note.txt in the run's folder (UTF-8, replaced atomically): an optional file
 * beside run.ini, so run.ini and every other file of the run folder contract are unchanged.
 * A rename is the store's label (info.ini, cl_run_store_set_label). A delete takes the run out
 * of the list at once and moves its folder to the trash (g_file_trash) when the undo bar closes:
 * until then Undo only puts it back, and nothing on disk has changed. */
#include "app/cl_window_private.h"
#include "app/cl_run_entry.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "engine/base/cl_file.h"
#include "engine/store/cl_runs.h"

#define UNDO_SECONDS 10

static ClRunEntry *
find_entry (ClWindow *self, const char *key, GError **error)
{
  ClRunEntry *e = key ? g_hash_table_lookup (self->entries, key) : NULL;
  if (!e)
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT, "No run “%s” in the run list", key ? key : "(none)");
  return e;
}

gboolean
cl_window_rename_run (ClWindow *self, const char *key, const char *label, GError **error)
{
  ClRunEntry *e = find_entry (self, key, error);
  if (!e)
    return FALSE;
  if (!e->from_store || !self->recorder)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_PERM,
                   "“%s” was opened from a folder and is named by it; only this window's runs can be renamed",
                   cl_run_entry_label (e));
      return FALSE;
    }
  g_autofree char *clean = g_strstrip (g_strdup (label ? label : ""));
  if (!*clean)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "A run's name cannot be empty");
      return FALSE;
    }
  gboolean ok = cl_run_recorder_set_label (self->recorder, e->key, clean, error);
  if (ok)
    {
      cl_window_runs_refresh (self);          /* the list and the drop-downs follow */
      cl_window_runs_apply_comparison (self); /* and the legends */
    }
  return ok;
}

gboolean
cl_window_set_run_note (ClWindow *self, const char *key, const char *note, GError **error)
{
  ClRunEntry *e = find_entry (self, key, error);
  if (!e)
    return FALSE;
  g_autofree char *path = g_build_filename (e->info->path, CL_RUN_NOTE_FILE, NULL);
  g_autofree char *clean = g_strstrip (g_strdup (note ? note : ""));
  if (!*clean)
    {
      if (g_unlink (path) != 0 && errno != ENOENT)
        {
          int err = errno;
          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (err), "%s: cannot remove the note: %s", path,
                       g_strerror (err));
          return FALSE;
        }
    }
  else
    {
      g_autofree char *text = g_strconcat (clean, "\n", NULL);
      if (!cl_file_replace (path, text, -1, CL_FILE_REPLACE_DEFAULT, error))
        return FALSE;
    }
  cl_run_entry_set_note (e, clean);
  gtk_filter_changed (GTK_FILTER (self->filter), GTK_FILTER_CHANGE_DIFFERENT);
  return TRUE;
}

/* ------------------------------------------------------------------ trash with undo */

gboolean
cl_window_history_trash_pending (ClWindow *self, const char *id)
{
  return self->trash_entry && g_strcmp0 (self->trash_entry->key, id) == 0;
}

static void
hide_undo_bar (ClWindow *self)
{
  if (self->trash_timer)
    {
      g_source_remove (self->trash_timer);
      self->trash_timer = 0;
    }
  if (self->undo_bar)
    gtk_widget_set_visible (self->undo_bar, FALSE);
}

static void
put_back (ClWindow *self, ClRunEntry *e, guint position)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->runs));
  self->syncing_choices = TRUE;
  g_list_store_insert (self->runs, MIN (position, n), e);
  self->syncing_choices = FALSE;
  g_hash_table_insert (self->entries, e->key, e);
  cl_window_runs_sync_choices (self);
}

void
cl_window_undo_trash (ClWindow *self)
{
  ClRunEntry *e = g_steal_pointer (&self->trash_entry);
  hide_undo_bar (self);
  if (!e)
    return;
  put_back (self, e, self->trash_position);
  g_object_unref (e);
  g_autofree char *text = g_strdup_printf ("“%s” is back in the list", cl_run_entry_label (e));
  cl_window_show_notice (self, text);
}

gboolean
cl_window_flush_trash (ClWindow *self, GError **error)
{
  ClRunEntry *e = g_steal_pointer (&self->trash_entry);
  hide_undo_bar (self);
  if (!e)
    return TRUE;
  g_autoptr (GFile) folder = g_file_new_for_path (e->info->path);
  GError *local = NULL;
  gboolean ok = g_file_trash (folder, NULL, &local);
  if (ok)
    {
      /* The folder is in the trash: the store forgets the run (its folder is gone already). */
      ok = !self->recorder || cl_run_recorder_delete (self->recorder, e->key, &local);
    }
  if (!ok)
    {
      g_set_error (error, local->domain, local->code, "“%s” was not moved to the trash (it is kept): %s",
                   cl_run_entry_label (e), local->message);
      g_error_free (local);
      if (!self->disposed && self->runs && g_file_query_exists (folder, NULL))
        put_back (self, e, self->trash_position);
    }
  g_object_unref (e);
  return ok;
}

static void
flush_or_complain (ClWindow *self)
{
  GError *error = NULL;
  if (!cl_window_flush_trash (self, &error))
    {
      if (!self->disposed)
        cl_window_show_error (self, error->message);
      else
        g_printerr ("contrastlab: %s\n", error->message);
      g_error_free (error);
    }
}

static gboolean
on_trash_timer (gpointer data)
{
  ClWindow *self = data;
  self->trash_timer = 0;
  flush_or_complain (self);
  return G_SOURCE_REMOVE;
}

gboolean
cl_window_trash_run (ClWindow *self, const char *key, GError **error)
{
  ClRunEntry *e = find_entry (self, key, error);
  if (!e)
    return FALSE;
  if (!e->from_store)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_PERM,
                   "“%s” was opened from a folder; only this window's own runs are deleted from here",
                   cl_run_entry_label (e));
      return FALSE;
    }
  if (e->recording)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_PERM,
                   "“%s” is being recorded; reset or load another preset first, then delete it",
                   cl_run_entry_label (e));
      return FALSE;
    }
  flush_or_complain (self); /* one undo at a time: an earlier delete goes to the trash now */
  guint position = 0;
  if (!g_list_store_find (self->runs, e, &position))
    return FALSE;
  g_object_ref (e);
  /* Out of the A/B choices first, so that the drop-downs do not pick a neighbour instead. */
  gboolean shown = self->show_a == e || self->show_b == e;
  if (self->show_a == e)
    g_clear_object (&self->show_a);
  if (self->show_b == e)
    g_clear_object (&self->show_b);
  g_object_set (e, "overlay", FALSE, NULL); /* redraws when it was ticked */
  g_hash_table_remove (self->entries, e->key);
  /* The drop-downs would select a neighbour of the removed item: they are set back from the slots. */
  self->syncing_choices = TRUE;
  g_list_store_remove (self->runs, position);
  self->syncing_choices = FALSE;
  cl_window_runs_sync_choices (self);
  if (shown)
    cl_window_runs_apply_comparison (self);
  self->trash_entry = e;
  self->trash_position = position;
  g_autofree char *text = g_strdup_printf ("“%s” deleted (to the trash in 10 s)", cl_run_entry_label (e));
  gtk_label_set_text (self->undo_label, text);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->undo_label), text);
  gtk_widget_set_visible (self->undo_bar, TRUE);
  self->trash_timer = g_timeout_add_seconds (UNDO_SECONDS, on_trash_timer, self);
  return TRUE;
}

/* ------------------------------------------------------------------ the filter */

static gboolean
same_value (const char *a, const char *b)
{
  if (g_ascii_strcasecmp (a, b) == 0)
    return TRUE;
  char *ea = NULL, *eb = NULL;
  double va = g_ascii_strtod (a, &ea), vb = g_ascii_strtod (b, &eb);
  return ea != a && *ea == '\0' && eb != b && *eb == '\0' && va == vb;
}

/* key=value against the run's run.ini ("data.bits=12": group data, key bits). */
static gboolean
matches_param (ClRunEntry *e, const char *term)
{
  const char *eq = strchr (term, '=');
  g_autofree char *key = g_strndup (term, (gsize) (eq - term));
  const char *dot = strchr (key, '.');
  if (!dot)
    return FALSE;
  g_autofree char *group = g_strndup (key, (gsize) (dot - key));
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  if (!g_key_file_load_from_data (kf, cl_run_entry_ini (e), (gsize) -1, G_KEY_FILE_NONE, NULL))
    return FALSE;
  g_autofree char *value = g_key_file_get_string (kf, group, dot + 1, NULL);
  return value && same_value (g_strstrip (value), eq + 1);
}

static gboolean
filter_run (gpointer item, gpointer data)
{
  ClWindow *self = data;
  ClRunEntry *e = item;
  if (!self->filter_terms)
    return TRUE;
  g_autofree char *text = g_strdup_printf ("%s\n%s\n%s\n%s", e->title ? e->title : "", e->summary ? e->summary : "",
                                           e->note ? e->note : "", e->key ? e->key : "");
  g_autofree char *folded = g_utf8_casefold (text, -1);
  for (char **t = self->filter_terms; *t; t++)
    {
      if (g_str_has_prefix (*t, "preset:"))
        {
          /* Runs are named after their preset (a renamed run answers to its new name). */
          g_autofree char *label = g_utf8_casefold (e->info ? cl_run_entry_label (e) : "", -1);
          if (strcmp (label, *t + strlen ("preset:")) != 0)
            return FALSE;
        }
      else if (strchr (*t, '=') && strchr (*t, '=') != *t)
        {
          if (!matches_param (e, *t))
            return FALSE;
        }
      else if (!strstr (folded, *t))
        return FALSE;
    }
  return TRUE;
}

static void on_filter_changed (GtkSearchEntry *entry, ClWindow *self);

void
cl_window_set_run_filter (ClWindow *self, const char *text)
{
  g_clear_pointer (&self->filter_terms, g_strfreev);
  g_autofree char *folded = g_utf8_casefold (text ? text : "", -1);
  g_auto (GStrv) words = g_strsplit_set (folded, " \t", -1);
  GPtrArray *terms = g_ptr_array_new ();
  for (char **w = words; *w; w++)
    if (**w)
      g_ptr_array_add (terms, g_strdup (*w));
  g_ptr_array_add (terms, NULL);
  char **strv = (char **) g_ptr_array_free (terms, FALSE);
  if (strv[0])
    self->filter_terms = strv;
  else
    g_strfreev (strv);
  if (g_strcmp0 (gtk_editable_get_text (GTK_EDITABLE (self->run_filter)), text ? text : "") != 0)
    {
      /* Setting the text passes through "" (a search-changed at once): not a filter to apply. */
      g_signal_handlers_block_by_func (self->run_filter, on_filter_changed, self);
      gtk_editable_set_text (GTK_EDITABLE (self->run_filter), text ? text : "");
      g_signal_handlers_unblock_by_func (self->run_filter, on_filter_changed, self);
    }
  gtk_filter_changed (GTK_FILTER (self->filter), GTK_FILTER_CHANGE_DIFFERENT);
}

static void
on_filter_changed (GtkSearchEntry *entry, ClWindow *self)
{
  cl_window_set_run_filter (self, gtk_editable_get_text (GTK_EDITABLE (entry)));
}

GPtrArray *
cl_window_shown_runs (ClWindow *self)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_object_unref);
  GListModel *model = G_LIST_MODEL (self->runs_filtered);
  guint n = g_list_model_get_n_items (model);
  for (guint i = 0; i < n; i++)
    g_ptr_array_add (out, g_list_model_get_item (model, i));
  return out;
}

/* ------------------------------------------------------------------ the row menu and its dialogs */

GMenuModel *
cl_window_history_row_menu (ClRunEntry *e)
{
  GMenu *menu = g_menu_new ();
  if (!e->info)
    return G_MENU_MODEL (menu);
  if (e->from_store)
    {
      GMenuItem *item = g_menu_item_new ("_Rename…", NULL);
      g_menu_item_set_action_and_target (item, "win.run-rename", "s", e->key);
      g_menu_append_item (menu, item);
      g_object_unref (item);
    }
  GMenuItem *note = g_menu_item_new (e->note ? "Edit _Note…" : "Add a _Note…", NULL);
  g_menu_item_set_action_and_target (note, "win.run-note", "s", e->key);
  g_menu_append_item (menu, note);
  g_object_unref (note);
  if (e->from_store)
    {
      GMenuItem *item = g_menu_item_new ("Move to _Trash", NULL);
      g_menu_item_set_action_and_target (item, "win.run-trash", "s", e->key);
      g_menu_append_item (menu, item);
      g_object_unref (item);
    }
  return G_MENU_MODEL (menu);
}

static void
on_text_dialog_response (GtkDialog *dialog, int response, ClWindow *self)
{
  const char *key = g_object_get_data (G_OBJECT (dialog), "key");
  gboolean is_note = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (dialog), "is-note"));
  GtkEditable *entry = g_object_get_data (G_OBJECT (dialog), "entry");
  if (response == GTK_RESPONSE_ACCEPT)
    {
      GError *error = NULL;
      const char *text = gtk_editable_get_text (entry);
      gboolean ok =
          is_note ? cl_window_set_run_note (self, key, text, &error) : cl_window_rename_run (self, key, text, &error);
      if (!ok)
        {
          cl_window_show_error (self, error->message);
          g_error_free (error);
        }
    }
  gtk_window_destroy (GTK_WINDOW (dialog));
}

/* A small dialog with one line of text: the run's name, or its note. */
static void
ask_text (ClWindow *self, const char *key, gboolean is_note)
{
  ClRunEntry *e = find_entry (self, key, NULL);
  if (!e)
    return;
  g_autofree char *title = g_strdup_printf (is_note ? "Note for “%s”" : "Rename “%s”", cl_run_entry_label (e));
  GtkWidget *dialog = gtk_dialog_new_with_buttons (
      title, GTK_WINDOW (self), GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT, "_Cancel", GTK_RESPONSE_CANCEL,
      is_note ? "_Save" : "_Rename", GTK_RESPONSE_ACCEPT, NULL);
  gtk_dialog_set_default_response (GTK_DIALOG (dialog), GTK_RESPONSE_ACCEPT);
  GtkWidget *box = gtk_dialog_get_content_area (GTK_DIALOG (dialog));
  gtk_box_set_spacing (GTK_BOX (box), 6);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  gtk_widget_set_margin_top (box, 12);
  gtk_widget_set_margin_bottom (box, 12);
  GtkWidget *label =
      gtk_label_new_with_mnemonic (is_note ? "_Note (saved as note.txt in the run's folder)" : "_Name in the run list");
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  GtkWidget *entry = gtk_entry_new ();
  gtk_entry_set_activates_default (GTK_ENTRY (entry), TRUE);
  gtk_editable_set_width_chars (GTK_EDITABLE (entry), 40);
  gtk_editable_set_text (GTK_EDITABLE (entry), is_note ? (e->note ? e->note : "") : cl_run_entry_label (e));
  gtk_label_set_mnemonic_widget (GTK_LABEL (label), entry);
  gtk_box_append (GTK_BOX (box), label);
  gtk_box_append (GTK_BOX (box), entry);
  g_object_set_data_full (G_OBJECT (dialog), "key", g_strdup (key), g_free);
  g_object_set_data (G_OBJECT (dialog), "is-note", GINT_TO_POINTER (is_note));
  g_object_set_data (G_OBJECT (dialog), "entry", entry);
  g_signal_connect (dialog, "response", G_CALLBACK (on_text_dialog_response), self);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
action_run_rename (GtkWidget *widget, const char *action, GVariant *param)
{
  (void) action;
  ask_text (CL_WINDOW (widget), g_variant_get_string (param, NULL), FALSE);
}

static void
action_run_note (GtkWidget *widget, const char *action, GVariant *param)
{
  (void) action;
  ask_text (CL_WINDOW (widget), g_variant_get_string (param, NULL), TRUE);
}

static void
action_run_trash (GtkWidget *widget, const char *action, GVariant *param)
{
  (void) action;
  ClWindow *self = CL_WINDOW (widget);
  GError *error = NULL;
  if (!cl_window_trash_run (self, g_variant_get_string (param, NULL), &error))
    {
      cl_window_show_error (self, error->message);
      g_error_free (error);
    }
}

static void
action_undo_trash (GtkWidget *widget, const char *action, GVariant *param)
{
  (void) action;
  (void) param;
  cl_window_undo_trash (CL_WINDOW (widget));
}

void
cl_window_history_class_init (GtkWidgetClass *wc)
{
  gtk_widget_class_bind_template_child (wc, ClWindow, run_filter);
  gtk_widget_class_bind_template_child (wc, ClWindow, undo_bar);
  gtk_widget_class_bind_template_child (wc, ClWindow, undo_label);
  gtk_widget_class_install_action (wc, "win.run-rename", "s", action_run_rename);
  gtk_widget_class_install_action (wc, "win.run-note", "s", action_run_note);
  gtk_widget_class_install_action (wc, "win.run-trash", "s", action_run_trash);
  gtk_widget_class_install_action (wc, "win.undo-trash", NULL, action_undo_trash);
}

void
cl_window_history_init (ClWindow *self)
{
  self->filter = gtk_custom_filter_new (filter_run, self, NULL);
  gtk_filter_list_model_set_filter (self->runs_filtered, GTK_FILTER (self->filter));
  g_signal_connect (self->run_filter, "search-changed", G_CALLBACK (on_filter_changed), self);
}

void
cl_window_history_dispose (ClWindow *self)
{
  /* A run deleted with its undo bar still open goes to the trash now, as the bar promised. */
  flush_or_complain (self);
  if (self->runs_filtered)
    gtk_filter_list_model_set_filter (self->runs_filtered, NULL);
  g_clear_object (&self->filter);
  g_clear_pointer (&self->filter_terms, g_strfreev);
}
