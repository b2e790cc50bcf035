/* Guidance from the presets: the presets popover (each preset with its expected time and the
 * one-line description of its [preset] group, the current one ticked, interactive presets and
 * sweeps apart), the question before a load discards unapplied edits, and the preset's
 * dismissible "Try this" note (its [preset] try= line, which docs/guide.md quotes word for word;
 * tests/app/test_gui_presets.c checks that they agree). */
#include "app/cl_window_private.h"

#include <string.h>

#include "app/cl_app_state.h"
#include "engine/base/cl_params.h"

/* ------------------------------------------------------------------ preset metadata */

gboolean
cl_preset_info (const char *name, ClPresetInfo *info)
{
  memset (info, 0, sizeof *info);
  g_autofree char *path = cl_preset_resolve (name, NULL);
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  if (!path || !g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, NULL))
    return FALSE;
  info->description = g_key_file_get_string (kf, "preset", "description", NULL);
  info->minutes = g_key_file_get_double (kf, "preset", "minutes", NULL);
  info->try_this = g_key_file_get_string (kf, "preset", "try", NULL);
  g_autofree char *sweep = g_key_file_get_string (kf, "preset", "sweep", NULL);
  info->is_sweep = sweep && *g_strstrip (sweep);
  return TRUE;
}

void
cl_preset_info_clear (ClPresetInfo *info)
{
  g_clear_pointer (&info->description, g_free);
  g_clear_pointer (&info->try_this, g_free);
}

/* `code` in the preset's text is shown in monospace; the rest is escaped. */
static char *
note_markup (const char *text)
{
  GString *out = g_string_new ("<b>Try this:</b> ");
  gboolean code = FALSE;
  for (const char *p = text; *p;)
    {
      const char *tick = strchr (p, '`');
      gsize n = tick ? (gsize) (tick - p) : strlen (p);
      g_autofree char *part = g_markup_escape_text (p, (gssize) n);
      g_string_append (out, part);
      if (!tick)
        break;
      g_string_append (out, code ? "</tt>" : "<tt>");
      code = !code;
      p = tick + 1;
    }
  if (code)
    g_string_append (out, "</tt>");
  return g_string_free (out, FALSE);
}

/* ------------------------------------------------------------------ the "Try this" note */

static gboolean
note_dismissed (ClWindow *self, const char *name)
{
  if (g_hash_table_contains (self->try_dismissed, name))
    return TRUE;
  g_autofree char *saved = cl_app_state_get ("dismissed-notes", name);
  return saved != NULL;
}

static void
update_try_note (ClWindow *self)
{
  const char *name = self->current_preset;
  ClPresetInfo info;
  gboolean show = name && cl_preset_info (name, &info) && info.try_this && *info.try_this;
  if (show && note_dismissed (self, name))
    show = FALSE;
  if (show)
    {
      g_autofree char *markup = note_markup (info.try_this);
      gtk_label_set_markup (self->try_label, markup);
      g_autofree char *plain = g_strdup_printf ("Try this: %s", info.try_this);
      gtk_accessible_update_property (GTK_ACCESSIBLE (self->try_label), GTK_ACCESSIBLE_PROPERTY_LABEL, plain, -1);
    }
  if (name)
    cl_preset_info_clear (&info);
  gtk_widget_set_visible (self->try_note, show);
}

static void
action_dismiss_try (GtkWidget *widget, const char *action, GVariant *param)
{
  (void) action;
  (void) param;
  ClWindow *self = CL_WINDOW (widget);
  if (!self->current_preset)
    return;
  g_hash_table_add (self->try_dismissed, g_strdup (self->current_preset));
  /* Remembered across sessions too; if that fails it is still remembered for this one. */
  GError *error = NULL;
  if (!cl_app_state_set ("dismissed-notes", self->current_preset, "true", &error))
    {
      g_message ("contrastlab: the dismissed note is not remembered: %s", error->message);
      g_error_free (error);
    }
  update_try_note (self);
}

/* ------------------------------------------------------------------ the popover */

static void
load_now (ClWindow *self, const char *name_or_file)
{
  GError *error = NULL;
  if (!cl_window_load (self, name_or_file, &error))
    {
      cl_window_show_error (self, error->message);
      g_error_free (error);
    }
}

/* The run-setup values changed in the sidebar and not applied yet ("Restart to apply"). */
static GString *
pending_changes (ClWindow *self, int *n_out)
{
  GString *list = g_string_new (NULL);
  int n_params, n = 0;
  const ClParam *params = cl_params (&n_params);
  for (int i = 0; i < n_params; i++)
    {
      const ClParam *p = &params[i];
      if ((p->flags & CL_PARAM_LIVE) || cl_config_value_equal (&self->config, &self->run_config, p))
        continue;
      g_autofree char *was = cl_config_get (&self->run_config, p);
      g_autofree char *now = cl_config_get (&self->config, p);
      if (n++ < 8)
        g_string_append_printf (list, "\n• %s: %s → %s", p->label, was, now);
    }
  if (n > 8)
    g_string_append_printf (list, "\n• and %d more", n - 8);
  *n_out = n;
  return list;
}

static void
on_confirm_response (GtkDialog *dialog, int response, ClWindow *self)
{
  char *target = g_object_steal_data (G_OBJECT (dialog), "load");
  self->confirm_dialog = NULL;
  gtk_window_destroy (GTK_WINDOW (dialog));
  if (response == GTK_RESPONSE_ACCEPT && target)
    load_now (self, target);
  g_free (target);
}

void
cl_window_request_load (ClWindow *self, const char *name_or_file)
{
  int n = 0;
  g_autoptr (GString) changes = pending_changes (self, &n);
  if (n == 0)
    {
      load_now (self, name_or_file);
      return;
    }
  if (self->confirm_dialog)
    gtk_window_destroy (GTK_WINDOW (self->confirm_dialog));
  g_autofree char *base = g_path_get_basename (name_or_file);
  GtkWidget *dialog = gtk_message_dialog_new (
      GTK_WINDOW (self), GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT, GTK_MESSAGE_QUESTION, GTK_BUTTONS_NONE,
      n == 1 ? "Discard %d unapplied change and load “%s”?" : "Discard %d unapplied changes and load “%s”?", n, base);
  gtk_message_dialog_format_secondary_text (
      GTK_MESSAGE_DIALOG (dialog), "These settings were changed but not applied (Restart to apply):%s", changes->str);
  gtk_dialog_add_button (GTK_DIALOG (dialog), "_Cancel", GTK_RESPONSE_CANCEL);
  GtkWidget *discard = gtk_dialog_add_button (GTK_DIALOG (dialog), "_Discard and Load", GTK_RESPONSE_ACCEPT);
  gtk_widget_add_css_class (discard, "destructive-action");
  gtk_dialog_set_default_response (GTK_DIALOG (dialog), GTK_RESPONSE_CANCEL);
  g_object_set_data_full (G_OBJECT (dialog), "load", g_strdup (name_or_file), g_free);
  g_signal_connect (dialog, "response", G_CALLBACK (on_confirm_response), self);
  self->confirm_dialog = dialog;
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
on_preset_row_activated (GtkListBox *box, GtkListBoxRow *row, ClWindow *self)
{
  (void) box;
  const char *name = g_object_get_data (G_OBJECT (row), "preset");
  gtk_popover_popdown (GTK_POPOVER (self->presets_popover));
  if (name)
    cl_window_request_load (self, name);
}

static GtkWidget *
preset_row (const char *name, const ClPresetInfo *info)
{
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  gtk_widget_set_margin_start (box, 6);
  gtk_widget_set_margin_end (box, 6);
  gtk_widget_set_margin_top (box, 4);
  gtk_widget_set_margin_bottom (box, 4);
  GtkWidget *mark = gtk_image_new_from_icon_name ("object-select-symbolic");
  gtk_widget_set_valign (mark, GTK_ALIGN_START);
  gtk_widget_set_opacity (mark, 0); /* keeps its room: names stay aligned */
  gtk_box_append (GTK_BOX (box), mark);
  GtkWidget *texts = gtk_box_new (GTK_ORIENTATION_VERTICAL, 1);
  g_autofree char *title =
      info->minutes > 0 ? g_strdup_printf ("%s  ·  ~%.0f min", name, info->minutes) : g_strdup (name);
  GtkWidget *label = gtk_label_new (title);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_add_css_class (label, "preset-name");
  gtk_box_append (GTK_BOX (texts), label);
  GtkWidget *desc = gtk_label_new (info->description ? info->description : "");
  gtk_label_set_xalign (GTK_LABEL (desc), 0);
  gtk_label_set_wrap (GTK_LABEL (desc), TRUE);
  gtk_label_set_max_width_chars (GTK_LABEL (desc), 56);
  gtk_label_set_width_chars (GTK_LABEL (desc), 40);
  gtk_widget_add_css_class (desc, "preset-description");
  gtk_box_append (GTK_BOX (texts), desc);
  gtk_box_append (GTK_BOX (box), texts);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  g_object_set_data_full (G_OBJECT (row), "preset", g_strdup (name), g_free);
  g_object_set_data (G_OBJECT (row), "mark", mark);
  g_object_set_data (G_OBJECT (row), "description", desc);
  g_autofree char *a11y =
      g_strdup_printf ("%s, about %.0f minutes: %s", name, info->minutes, info->description ? info->description : "");
  gtk_accessible_update_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_LABEL, a11y, -1);
  return row;
}

static void
build_popover (ClWindow *self)
{
  GtkWidget *popover = gtk_popover_new ();
  GtkWidget *scroll = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scroll), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_propagate_natural_height (GTK_SCROLLED_WINDOW (scroll), TRUE);
  gtk_scrolled_window_set_max_content_height (GTK_SCROLLED_WINDOW (scroll), 760);
  GtkWidget *outer = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  static const char *headings[] = { "Interactive: watch it train, change settings live",
                                    "Sweeps: a grid of runs (Sweep… in the window, or --headless)" };
  g_autoptr (GPtrArray) names = cl_preset_list ();
  for (int group = 0; group < 2; group++)
    {
      GtkWidget *heading = gtk_label_new (headings[group]);
      gtk_label_set_xalign (GTK_LABEL (heading), 0);
      gtk_widget_add_css_class (heading, "preset-group");
      gtk_box_append (GTK_BOX (outer), heading);
      GtkWidget *list = gtk_list_box_new ();
      gtk_list_box_set_selection_mode (GTK_LIST_BOX (list), GTK_SELECTION_NONE);
      gtk_list_box_set_activate_on_single_click (GTK_LIST_BOX (list), TRUE);
      gtk_widget_add_css_class (list, "rich-list");
      gtk_accessible_update_property (GTK_ACCESSIBLE (list), GTK_ACCESSIBLE_PROPERTY_LABEL, headings[group], -1);
      g_signal_connect (list, "row-activated", G_CALLBACK (on_preset_row_activated), self);
      for (guint i = 0; i < names->len; i++)
        {
          ClPresetInfo info;
          if (!cl_preset_info (names->pdata[i], &info))
            continue;
          if (info.is_sweep == (group == 1))
            {
              GtkWidget *row = preset_row (names->pdata[i], &info);
              g_object_set_data (G_OBJECT (row), "group", GINT_TO_POINTER (group));
              gtk_list_box_append (GTK_LIST_BOX (list), row);
              g_ptr_array_add (self->preset_rows, row);
            }
          cl_preset_info_clear (&info);
        }
      gtk_box_append (GTK_BOX (outer), list);
    }
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroll), outer);
  gtk_popover_set_child (GTK_POPOVER (popover), scroll);
  gtk_menu_button_set_popover (self->preset_button, popover);
  self->presets_popover = popover;
}

/* The button names the current preset and its row is ticked; the note follows it. */
void
cl_window_presets_update (ClWindow *self)
{
  const char *name = self->current_preset;
  gtk_menu_button_set_label (self->preset_button, name ? name : self->preset_name ? self->preset_name : "Presets");
  for (guint i = 0; i < self->preset_rows->len; i++)
    {
      GtkWidget *row = self->preset_rows->pdata[i];
      gboolean current = name && g_strcmp0 (g_object_get_data (G_OBJECT (row), "preset"), name) == 0;
      gtk_widget_set_opacity (g_object_get_data (G_OBJECT (row), "mark"), current ? 1 : 0);
      gtk_accessible_update_state (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_STATE_SELECTED, current, -1);
    }
  update_try_note (self);
}

static void
action_show_presets (GtkWidget *widget, const char *action, GVariant *param)
{
  (void) action;
  (void) param;
  gtk_menu_button_popup (CL_WINDOW (widget)->preset_button);
}

static void
action_load_preset (GtkWidget *widget, const char *action, GVariant *param)
{
  (void) action;
  cl_window_request_load (CL_WINDOW (widget), g_variant_get_string (param, NULL));
}

void
cl_window_presets_class_init (GtkWidgetClass *wc)
{
  gtk_widget_class_bind_template_child (wc, ClWindow, preset_button);
  gtk_widget_class_bind_template_child (wc, ClWindow, try_note);
  gtk_widget_class_bind_template_child (wc, ClWindow, try_label);
  gtk_widget_class_install_action (wc, "win.show-presets", NULL, action_show_presets);
  gtk_widget_class_install_action (wc, "win.load-preset", "s", action_load_preset);
  gtk_widget_class_install_action (wc, "win.dismiss-try", NULL, action_dismiss_try);
}

void
cl_window_presets_init (ClWindow *self)
{
  self->preset_rows = g_ptr_array_new ();
  self->try_dismissed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  build_popover (self);
}

void
cl_window_presets_dispose (ClWindow *self)
{
  if (self->confirm_dialog)
    {
      gtk_window_destroy (GTK_WINDOW (self->confirm_dialog));
      self->confirm_dialog = NULL;
    }
  g_clear_pointer (&self->preset_rows, g_ptr_array_unref);
  g_clear_pointer (&self->try_dismissed, g_hash_table_unref);
}
