#include "cl_window.h"

#include "cl_config.h"
#include "cl_export.h"

#include <string.h>
#include "ui/cl_figure_view.h"

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
};

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
  discard_trainer (self);
  g_clear_pointer (&self->shown, cl_snapshot_unref);
  for (int i = 0; i < CL_N_FIGURES; i++)
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
format_duration (char *buf, gsize size, double seconds)
{
  int s = (int) seconds;
  if (s >= 3600)
    g_snprintf (buf, size, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
  else
    g_snprintf (buf, size, "%d:%02d", s / 60, s % 60);
}

static void
update_status (ClWindow *self, const ClSnapshot *s)
{
  char elapsed[32];
  format_duration (elapsed, sizeof elapsed, s->seconds);
  GString *text = g_string_new (NULL);
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
      return G_SOURCE_CONTINUE;
    }
  g_clear_pointer (&self->shown, cl_snapshot_unref);
  self->shown = s;
  for (int i = 0; i < CL_N_FIGURES; i++)
    cl_figure_view_set_snapshot (self->figure_views[i], s);
  update_status (self, s);
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

gboolean
cl_window_export_png (ClWindow *self, const char *path, GError **error)
{
  ClSnapshot *s = self->trainer ? cl_trainer_get_snapshot (self->trainer) : NULL;
  if (!s)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "nothing to export: no run is going");
      return FALSE;
    }
  ClFigureKind kind = cl_window_get_visible_figure (self);
  gboolean ok = cl_export_figure_png_with (path, kind, s, cl_figure_view_get_options (self->figure_views[kind]), 1.0,
                                           error);
  cl_snapshot_unref (s);
  return ok;
}

static void
on_export_response (GtkNativeDialog *dialog, int response, ClWindow *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);
      GError *error = NULL;
      if (!path)
        cl_window_show_error (self, "Export needs a local file; choose a folder on this computer.");
      else if (cl_window_export_png (self, path, &error))
        {
          if (self->settings)
            {
              g_autofree char *folder = g_path_get_dirname (path);
              g_settings_set_string (self->settings, "last-export-folder", folder);
            }
        }
      else
        {
          GtkWidget *msg = gtk_message_dialog_new (GTK_WINDOW (self), GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                                                   GTK_MESSAGE_ERROR, GTK_BUTTONS_CLOSE, "Could not export the chart");
          gtk_message_dialog_format_secondary_text (GTK_MESSAGE_DIALOG (msg), "%s", error->message);
          g_signal_connect (msg, "response", G_CALLBACK (gtk_window_destroy), NULL);
          gtk_window_present (GTK_WINDOW (msg));
          g_error_free (error);
        }
    }
  g_object_unref (dialog);
}

static void
action_export (GtkWidget *widget, const char *name, GVariant *param)
{
  (void) name;
  (void) param;
  ClWindow *self = CL_WINDOW (widget);
  GtkFileChooserNative *dialog = gtk_file_chooser_native_new ("Export Figure", GTK_WINDOW (self),
                                                              GTK_FILE_CHOOSER_ACTION_SAVE, "_Export", "_Cancel");
  int step = self->shown ? (int) self->shown->step : 0;
  g_autofree char *suggested = g_strdup_printf ("contrastlab-%s-step%d.png",
                                                cl_figure_slug (cl_window_get_visible_figure (self)), step);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (dialog), suggested);
  g_autofree char *folder = self->settings ? g_settings_get_string (self->settings, "last-export-folder") : NULL;
  if (folder && *folder)
    {
      g_autoptr (GFile) dir = g_file_new_for_path (folder);
      gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (dialog), dir, NULL);
    }
  GtkFileFilter *filter = gtk_file_filter_new ();
  gtk_file_filter_set_name (filter, "PNG images");
  gtk_file_filter_add_mime_type (filter, "image/png");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (dialog), filter);
  g_object_unref (filter);
  g_signal_connect (dialog, "response", G_CALLBACK (on_export_response), self);
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
        {
          add_section (self, "Run setup", "Changing these restarts the run.");
          self->restart_button = gtk_button_new_with_label ("Restart to apply");
          gtk_widget_add_css_class (self->restart_button, "suggested-action");
          gtk_widget_set_visible (self->restart_button, FALSE);
          g_signal_connect (self->restart_button, "clicked", G_CALLBACK (on_restart_clicked), self);
          gtk_box_append (self->params_box, self->restart_button);
        }
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
              "%" G_GINT64_FORMAT " figure draws, mean %.2f ms, longest %.2f ms\n",
              self->ticks, self->ticks_over_16ms, self->interval_max_us / 1000.0, self->tick_work_max_us / 1000.0,
              draws, mean_ms, max_ms);
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
  if (self->trainer)
    {
      /* On close the process may exit right after; wait for the thread here. */
      cl_trainer_free (self->trainer);
      self->trainer = NULL;
    }
  g_clear_pointer (&self->shown, cl_snapshot_unref);
  g_clear_pointer (&self->rows, g_hash_table_unref);
  g_clear_object (&self->settings);
  gtk_widget_dispose_template (GTK_WIDGET (self), CL_TYPE_WINDOW);
  G_OBJECT_CLASS (cl_window_parent_class)->dispose (object);
}

static void
cl_window_class_init (ClWindowClass *klass)
{
  GtkWidgetClass *wc = GTK_WIDGET_CLASS (klass);
  G_OBJECT_CLASS (klass)->dispose = cl_window_dispose;
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
  gtk_widget_class_bind_template_child (wc, ClWindow, error_revealer);
  gtk_widget_class_bind_template_child (wc, ClWindow, error_label);
  gtk_widget_class_install_action (wc, "win.play-pause", NULL, action_play_pause);
  gtk_widget_class_install_action (wc, "win.reset", NULL, action_reset);
  gtk_widget_class_install_action (wc, "win.export", NULL, action_export);
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
  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect_swapped (self->figure_stack, "notify::visible-child", G_CALLBACK (on_visible_figure), self);
  on_visible_figure (self);
  build_presets_menu (self);
  g_signal_connect_swapped (self->sim_order, "notify::selected", G_CALLBACK (on_sim_order), self);
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
}

ClWindow *
cl_window_new (GtkApplication *app, const ClConfig *config)
{
  ClWindow *self = g_object_new (CL_TYPE_WINDOW, "application", app, NULL);
  self->config = *config;
  self->run_config = *config;
  build_param_rows (self);
  start_run (self);
  self->tick_id = gtk_widget_add_tick_callback (GTK_WIDGET (self), on_tick, NULL, NULL);
  return self;
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
