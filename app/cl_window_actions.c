/* Every win.* action of the window, and the dialogs they open. */
#include "app/cl_window_private.h"

#include <math.h>
#include <string.h>

#include "cl_config.h"
#include "engine/base/cl_format.h"
#include "engine/store/cl_runs.h"
#include "app/cl_app_state.h"
#include "app/cl_sweep_window.h"
#include "ui/cl_figure_view.h"

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
          cl_window_present_message (self, GTK_MESSAGE_ERROR, "Could not open the runs", error->message);
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
  GtkFileChooserNative *dialog = gtk_file_chooser_native_new (
      "Open Runs Folder", GTK_WINDOW (self), GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, "_Open", "_Cancel");
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
  /* The live run's speed lets the Sweep window estimate the sweep's time before it starts. */
  double speed = self->shown && !self->shown->paused ? self->shown->steps_per_second * self->run_config.train_batch : 0;
  cl_sweep_window_present (GTK_WINDOW (self), &self->config, speed);
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
  cl_window_start_run (CL_WINDOW (widget));
}

static void
action_dismiss_error (GtkWidget *widget, const char *name, GVariant *param)
{
  (void) name;
  (void) param;
  gtk_revealer_set_reveal_child (CL_WINDOW (widget)->error_revealer, FALSE);
}

static void
action_export (GtkWidget *widget, const char *name, GVariant *param)
{
  (void) name;
  (void) param;
  cl_window_open_export_chooser (CL_WINDOW (widget), FALSE);
}

static void
action_export_dashboard (GtkWidget *widget, const char *name, GVariant *param)
{
  (void) name;
  (void) param;
  cl_window_open_export_chooser (CL_WINDOW (widget), TRUE);
}

static void
action_export_csv (GtkWidget *widget, const char *name, GVariant *param)
{
  (void) name;
  (void) param;
  ClWindow *self = CL_WINDOW (widget);
  GtkFileChooserNative *dialog =
      gtk_file_chooser_native_new ("Export Data as CSV (metrics, probes, clusters, similarity)", GTK_WINDOW (self),
                                   GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, "_Export Here", "_Cancel");
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (dialog), TRUE);
  g_autofree char *folder = cl_app_state_export_folder ("csv");
  g_autoptr (GFile) dir = g_file_new_for_path (folder);
  gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (dialog), dir, NULL);
  g_signal_connect (dialog, "response", G_CALLBACK (cl_window_on_export_csv_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

static void
on_open_response (GtkNativeDialog *dialog, int response, ClWindow *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);
      if (path)
        cl_window_load_or_complain (self, path);
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

void
cl_window_actions_init (GtkWidgetClass *wc)
{
  gtk_widget_class_install_action (wc, "win.play-pause", NULL, action_play_pause);
  gtk_widget_class_install_action (wc, "win.reset", NULL, action_reset);
  gtk_widget_class_install_action (wc, "win.export", NULL, action_export);
  gtk_widget_class_install_action (wc, "win.export-dashboard", NULL, action_export_dashboard);
  gtk_widget_class_install_action (wc, "win.export-csv", NULL, action_export_csv);
  gtk_widget_class_install_action (wc, "win.open-runs", NULL, action_open_runs);
  gtk_widget_class_install_action (wc, "win.sweep", NULL, action_sweep);
  gtk_widget_class_install_action (wc, "win.clear-overlays", NULL, action_clear_overlays);
  gtk_widget_class_install_action (wc, "win.dismiss-error", NULL, action_dismiss_error);
  gtk_widget_class_install_action (wc, "win.open-config", NULL, action_open_config);
  gtk_widget_class_install_action (wc, "win.save-config", NULL, action_save_config);
}
