/* Exporting figures, the dashboard and CSV data: on worker threads, through choosers that
 * never replace a file without asking. */
#include "app/cl_window_private.h"
#include "app/cl_app_state.h"

#include <math.h>
#include <string.h>

#include "cl_config.h"
#include "engine/base/cl_format.h"
#include "engine/store/cl_runs.h"
#include "ui/cl_figure_view.h"

/* Everything an export needs, copied, so that it can run on a worker thread while the
 * window moves on (the snapshot is immutable; the options' pointers are kept alive here). */
typedef struct
{
  GWeakRef window; /* closing the window does not wait for its exports */
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
      return cl_export_panels (job->path, job->format, job->snap, options, job->scale, job->flags, error);
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
      cl_window_show_notice (self, text);
      g_autofree char *folder = g_path_get_dirname (job->path);
      cl_app_state_remember_export_folder ("figure", folder);
    }
  else
    {
      g_autofree char *primary = g_strdup_printf ("Could not export “%s”", name);
      g_autofree char *secondary = g_strdup_printf ("%s\n\nNothing was written.", error->message);
      cl_window_present_message (self, GTK_MESSAGE_ERROR, primary, secondary);
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
      cl_window_present_message (self, GTK_MESSAGE_ERROR, primary, error->message);
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
static const struct
{
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
      cl_window_export_async (self, path, dashboard, scale, confirmed ? CL_EXPORT_OVERWRITE : CL_EXPORT_FLAGS_NONE);
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
      gboolean dashboard =
          GPOINTER_TO_INT (g_object_get_data (G_OBJECT (dialog), "dashboard")) || g_strcmp0 (what, "dashboard") == 0;
      double s = g_strcmp0 (scale, "2") == 0 ? 2.0 : 1.0;
      if (!path)
        cl_window_present_message (self, GTK_MESSAGE_ERROR, "Could not export",
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

void
cl_window_open_export_chooser (ClWindow *self, gboolean dashboard)
{
  GtkFileChooserNative *dialog =
      gtk_file_chooser_native_new (dashboard ? "Export Dashboard" : "Export Figure", GTK_WINDOW (self),
                                   GTK_FILE_CHOOSER_ACTION_SAVE, "_Export", "_Cancel");
  GtkFileChooser *chooser = GTK_FILE_CHOOSER (dialog);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (dialog), TRUE);
  int step = self->shown ? (int) self->shown->step : 0;
  ClFigureKind kind = cl_window_get_visible_figure (self);
  gboolean as_dashboard = dashboard || cl_window_dashboard_shown (self);
  g_autofree char *suggested =
      g_strdup_printf ("contrastlab-%s-step%d.png", as_dashboard ? "dashboard" : cl_figure_slug (kind), step);
  gtk_file_chooser_set_current_name (chooser, suggested);
  /* The last folder used, else Pictures (never the working folder the app was started in). */
  g_autofree char *folder = cl_app_state_export_folder ("figure");
  g_autoptr (GFile) dir = g_file_new_for_path (folder);
  gtk_file_chooser_set_current_folder (chooser, dir, NULL);
  for (int f = 0; f < CL_N_EXPORT_FORMATS; f++)
    {
      GtkFileFilter *filter = gtk_file_filter_new ();
      gtk_file_filter_set_name (filter, export_filters[f].name);
      gtk_file_filter_add_mime_type (filter, export_filters[f].mime);
      gtk_file_filter_add_suffix (filter, export_filters[f].suffix);
      gtk_file_chooser_add_filter (chooser, filter);
      g_object_unref (filter);
    }
  /* "Export Dashboard…" always writes the dashboard (no choice that could say otherwise);
   * "Export…" offers both, starting from what the window shows. */
  g_object_set_data (G_OBJECT (dialog), "dashboard", GINT_TO_POINTER (dashboard));
  if (!dashboard)
    {
      g_autofree char *figure_label = g_strdup_printf ("One figure (%s)", cl_figure_title (kind));
      const char *dash_label = "The dashboard (loss, probes, views, similarity)";
      /* The shown view first: it is the default even where set_choice is not honoured. */
      gboolean first_dash = cl_window_dashboard_shown (self);
      const char *what_ids[] = { first_dash ? "dashboard" : "figure", first_dash ? "figure" : "dashboard", NULL };
      const char *what_labels[] = { first_dash ? dash_label : figure_label, first_dash ? figure_label : dash_label,
                                    NULL };
      gtk_file_chooser_add_choice (chooser, "what", "Export", what_ids, what_labels);
      gtk_file_chooser_set_choice (chooser, "what", what_ids[0]);
    }
  const char *scale_ids[] = { "1", "2", NULL };
  const char *scale_labels[] = { "1× (as laid out)", "2× (sharper, for slides and print)", NULL };
  gtk_file_chooser_add_choice (chooser, "scale", "PNG scale", scale_ids, scale_labels);
  g_autofree char *scale = self->settings ? g_settings_get_string (self->settings, "export-scale") : NULL;
  gtk_file_chooser_set_choice (chooser, "scale", g_strcmp0 (scale, "2") == 0 ? "2" : "1");
  g_signal_connect (dialog, "response", G_CALLBACK (on_export_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
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
      cl_window_show_notice (self, text);
      cl_app_state_remember_export_folder ("csv", folder);
    }
  else
    {
      g_autofree char *secondary = g_strdup_printf ("%s\n\nNone of the four files was written.", error->message);
      cl_window_present_message (self, GTK_MESSAGE_ERROR, "Could not export the CSV files", secondary);
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

void
cl_window_on_export_csv_response (GtkNativeDialog *dialog, int response, ClWindow *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *folder = file ? g_file_get_path (file) : NULL;
      if (!folder)
        cl_window_present_message (self, GTK_MESSAGE_ERROR, "Could not export the CSV files",
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
              GtkWidget *ask = gtk_message_dialog_new (
                  GTK_WINDOW (self), GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT, GTK_MESSAGE_QUESTION,
                  GTK_BUTTONS_NONE, n == 1 ? "Replace %u file in “%s”?" : "Replace %u files in “%s”?", n, display);
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
