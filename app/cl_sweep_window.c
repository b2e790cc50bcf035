#include "app/cl_sweep_window.h"
#include "engine/base/cl_file.h"

#include <math.h>
#include <string.h>

#include "engine/base/cl_format.h"
#include "engine/data/cl_scenes.h"
#include "ui/plots/cl_sweep_plot.h"

/* How often the window reads the sweep's progress and rows (the runner never waits on it). */
#define POLL_MS 250

struct _ClSweepWindow
{
  GtkWindow parent_instance;

  GtkEntry *sweep_entry;
  GtkEntry *set_entry;
  GtkDropDown *target_dropdown;
  GtkStringList *targets;
  GtkButton *start_button;
  GtkButton *cancel_button;
  GtkButton *export_png_button;
  GtkButton *export_csv_button;
  GtkProgressBar *progress_bar;
  GtkDrawingArea *figure_area;
  GtkLabel *status_label;
  GtkSpinButton *steps_spin;
  GtkLabel *plan_label;

  ClConfig base;
  double samples_per_second; /* the main window's live training speed (steps/s x batch), 0: unknown */
  ClSweep *sweep;
  ClSweepRow *rows; /* latest copy, n_rows long */
  int n_rows;
  int running_point;
  guint poll_id;
};

G_DEFINE_FINAL_TYPE (ClSweepWindow, cl_sweep_window, GTK_TYPE_WINDOW)

static void update_plan (ClSweepWindow *self);

/* Sweeps being freed in the background (cl_sweep_window_wait_discarded). */
static gint discarded_pending;

/* Freeing a sweep joins its thread, which may be mid-step or mid-probe: never on the GUI thread. */
static gpointer
free_sweep_thread (gpointer data)
{
  cl_sweep_free (data);
  g_atomic_int_dec_and_test (&discarded_pending);
  return NULL;
}

gboolean
cl_sweep_window_wait_discarded (double timeout_s)
{
  const gint64 end = g_get_monotonic_time () + (gint64) (timeout_s * G_USEC_PER_SEC);
  while (g_atomic_int_get (&discarded_pending) > 0)
    {
      if (g_get_monotonic_time () >= end)
        return FALSE;
      g_usleep (5000);
    }
  return TRUE;
}

static void
discard_sweep (ClSweepWindow *self)
{
  if (!self->sweep)
    return;
  ClSweepProgress pr;
  cl_sweep_get_progress (self->sweep, &pr);
  if (pr.finished || !pr.started)
    cl_sweep_free (self->sweep);
  else
    {
      cl_sweep_cancel (self->sweep);
      g_atomic_int_inc (&discarded_pending);
      g_thread_unref (g_thread_new ("cl-sweep-free", free_sweep_thread, self->sweep));
    }
  self->sweep = NULL;
}

/* NULL for "auto" (see cl_sweep_plot_data_new). */
static const char *
current_target (ClSweepWindow *self)
{
  GObject *item = gtk_drop_down_get_selected_item (self->target_dropdown);
  const char *t = item ? gtk_string_object_get_string (GTK_STRING_OBJECT (item)) : NULL;
  return t && strcmp (t, "auto") != 0 ? t : NULL;
}

void
cl_sweep_window_draw_figure (ClSweepWindow *self, cairo_t *cr, double width, double height)
{
  if (!self->sweep)
    {
      cl_sweep_plot_draw (cr, width, height, NULL);
      return;
    }
  g_autoptr (ClSweepPlotData) d = cl_sweep_plot_data_new (cl_sweep_get_grid (self->sweep), self->rows, self->n_rows,
                                                          current_target (self), self->running_point);
  cl_sweep_plot_draw (cr, width, height, d);
}

static void
draw_figure (GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer data)
{
  (void) area;
  cl_sweep_window_draw_figure (CL_SWEEP_WINDOW (data), cr, width, height);
}

/* Adds probe targets seen in the rows to the Plot list (keeps the selection). */
static void
update_targets (ClSweepWindow *self)
{
  for (int r = 0; r < self->n_rows; r++)
    for (int k = 0; k < self->rows[r].n_targets; k++)
      {
        const char *t = self->rows[r].target[k];
        guint n = g_list_model_get_n_items (G_LIST_MODEL (self->targets));
        gboolean have = FALSE;
        for (guint i = 0; i < n && !have; i++)
          have = strcmp (gtk_string_list_get_string (self->targets, i), t) == 0;
        if (!have)
          gtk_string_list_append (self->targets, t);
      }
}

static void
set_running_ui (ClSweepWindow *self, gboolean running)
{
  gtk_widget_set_sensitive (GTK_WIDGET (self->start_button), !running);
  gtk_widget_set_sensitive (GTK_WIDGET (self->cancel_button), running);
  /* read-only rather than insensitive: an insensitive entry that has the focus loses its
   * focus-out event in GTK 4.8 (and warns) */
  gtk_editable_set_editable (GTK_EDITABLE (self->sweep_entry), !running);
  gtk_editable_set_editable (GTK_EDITABLE (self->set_entry), !running);
  gtk_editable_set_editable (GTK_EDITABLE (self->steps_spin), !running);
  gtk_widget_set_visible (GTK_WIDGET (self->plan_label), !running);
  if (!running)
    update_plan (self);
  gboolean have = self->sweep != NULL;
  gtk_widget_set_sensitive (GTK_WIDGET (self->export_png_button), have);
  gtk_widget_set_sensitive (GTK_WIDGET (self->export_csv_button), have);
}

/* Reads the sweep's state into the window; FALSE once it has ended (stops polling). */
static gboolean
refresh (ClSweepWindow *self)
{
  if (!self->sweep)
    return FALSE;
  ClSweepProgress pr;
  cl_sweep_get_progress (self->sweep, &pr);
  g_free (self->rows);
  self->rows = cl_sweep_get_rows (self->sweep, &self->n_rows);
  self->running_point = pr.current_point;
  update_targets (self);

  double frac = pr.steps_total > 0 ? (double) pr.steps_done / (double) pr.steps_total : 0;
  gtk_progress_bar_set_fraction (self->progress_bar, CLAMP (frac, 0, 1));
  char eta[32] = "--:--", elapsed[32];
  if (pr.eta_seconds >= 0)
    cl_format_duration (pr.eta_seconds, eta, sizeof eta);
  cl_format_duration (pr.elapsed_seconds, elapsed, sizeof elapsed);
  g_autofree char *text = NULL;
  if (!pr.finished)
    {
      if (pr.current_point >= 0)
        text = g_strdup_printf (
            "%d of %d points done · point %d: step %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT " · ETA %s", pr.points_done,
            pr.n_points, pr.current_point + 1, pr.current_step, pr.current_total_steps, eta);
      else
        text = g_strdup_printf ("%d of %d points done · ETA %s", pr.points_done, pr.n_points, eta);
      if (pr.cancelled)
        {
          g_free (text);
          text = g_strdup ("Cancelling: the current step or probe ends first…");
        }
    }
  else if (pr.failed)
    {
      GError *error = NULL;
      cl_sweep_get_error (self->sweep, &error);
      text = g_strdup_printf ("Stopped after %d of %d points", pr.points_done - 1, pr.n_points);
      g_autofree char *status = g_strdup_printf ("The sweep stopped: %s", error ? error->message : "unknown error");
      gtk_label_set_text (self->status_label, status);
      g_clear_error (&error);
    }
  else if (pr.cancelled)
    {
      int done = 0;
      for (int r = 0; r < self->n_rows; r++)
        done += self->rows[r].state == CL_SWEEP_POINT_DONE || self->rows[r].state == CL_SWEEP_POINT_FAILED;
      text = g_strdup_printf ("Cancelled after %s: %d of %d points have results", elapsed, done, pr.n_points);
    }
  else
    text = g_strdup_printf ("Done: %d points in %s", pr.n_points, elapsed);
  gtk_progress_bar_set_text (self->progress_bar, text);
  if (pr.finished && !pr.failed)
    {
      int failed = 0;
      for (int r = 0; r < self->n_rows; r++)
        failed += self->rows[r].state == CL_SWEEP_POINT_FAILED;
      g_autofree char *status =
          failed > 0 ? g_strdup_printf ("%d runs failed (their last probes are shown).", failed) : g_strdup ("");
      gtk_label_set_text (self->status_label, status);
    }
  gtk_widget_queue_draw (GTK_WIDGET (self->figure_area));
  if (pr.finished)
    {
      set_running_ui (self, FALSE);
      self->poll_id = 0;
      return FALSE;
    }
  return TRUE;
}

static gboolean
poll_cb (gpointer data)
{
  return refresh (CL_SWEEP_WINDOW (data)) ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

/* The grid Start runs: the base configuration, the steps field, Also set, then the swept keys. */
static ClSweepGrid *
build_grid (ClSweepWindow *self, GError **error)
{
  ClConfig cfg = self->base;
  cfg.train_steps = (gint64) gtk_spin_button_get_value (self->steps_spin);
  const char *set_text = gtk_editable_get_text (GTK_EDITABLE (self->set_entry));
  g_auto (GStrv) sets = g_regex_split_simple ("\\s+", set_text, 0, 0);
  for (int i = 0; sets[i]; i++)
    if (*sets[i])
      {
        GError *local = NULL;
        if (!cl_config_set_assignment (&cfg, sets[i], &local))
          {
            g_set_error (error, local->domain, local->code, "Also set: %s", local->message);
            g_error_free (local);
            return NULL;
          }
      }
  return cl_sweep_grid_new_from_text (&cfg, gtk_editable_get_text (GTK_EDITABLE (self->sweep_entry)), error);
}

/* Training samples the sweep will process (steps x batch over its points): its cost, roughly. */
static double
grid_samples (const ClSweepGrid *grid, gint64 *steps_out)
{
  double samples = 0;
  gint64 steps = 0;
  for (int p = 0; p < cl_sweep_grid_n_points (grid); p++)
    {
      ClConfig c;
      cl_sweep_grid_config (grid, p, &c);
      steps += c.train_steps;
      samples += (double) c.train_steps * (double) c.train_batch;
    }
  if (steps_out)
    *steps_out = steps;
  return samples;
}

/* Before Start: how many runs, how many steps, and about how long. The time is estimated from
 * the main window's live run: its speed in samples per second (steps/s x batch), applied to every
 * run's steps x batch. Probes and the cost of more input planes are not counted, and the sweep
 * shares the processor with the live run while both train: a rough lower bound. */
static void
update_plan (ClSweepWindow *self)
{
  if (self->sweep)
    {
      ClSweepProgress pr;
      cl_sweep_get_progress (self->sweep, &pr);
      if (!pr.finished)
        return; /* the progress bar says it now */
    }
  GError *error = NULL;
  g_autoptr (ClSweepGrid) grid = build_grid (self, &error);
  if (!grid)
    {
      g_autofree char *text = g_strdup_printf ("Not ready: %s", error->message);
      gtk_label_set_text (self->plan_label, text);
      g_error_free (error);
      return;
    }
  int n = cl_sweep_grid_n_points (grid);
  gint64 steps = 0;
  double samples = grid_samples (grid, &steps);
  GString *text = g_string_new (NULL);
  g_string_append_printf (text, n == 1 ? "%d run" : "%d runs", n);
  g_string_append_printf (text, ", %" G_GINT64_FORMAT " training steps in all", steps);
  if (self->samples_per_second > 0)
    {
      char t[32];
      cl_format_duration (samples / self->samples_per_second, t, sizeof t);
      g_string_append_printf (text,
                              " · about %s, estimated from the live run's speed (%.0f images/s; probes not counted, "
                              "and the sweep shares the processor with the live run)",
                              t, self->samples_per_second);
    }
  else
    g_string_append (text, " · time estimate once the main window's run has trained a few steps");
  gtk_label_set_text (self->plan_label, text->str);
  g_string_free (text, TRUE);
}

void
cl_sweep_window_set_speed (ClSweepWindow *self, double samples_per_second)
{
  self->samples_per_second = samples_per_second > 0 && isfinite (samples_per_second) ? samples_per_second : 0;
  update_plan (self);
}

const char *
cl_sweep_window_get_plan (ClSweepWindow *self)
{
  return gtk_label_get_text (self->plan_label);
}

gboolean
cl_sweep_window_start (ClSweepWindow *self, GError **error)
{
  if (self->sweep)
    {
      ClSweepProgress pr;
      cl_sweep_get_progress (self->sweep, &pr);
      if (!pr.finished)
        {
          g_set_error (error, CL_CONFIG_ERROR, CL_CONFIG_ERROR_BAD_VALUE, "a sweep is already running");
          return FALSE;
        }
    }
  ClSweepGrid *grid = build_grid (self, error);
  if (!grid)
    return FALSE;
  discard_sweep (self);
  g_clear_pointer (&self->rows, g_free);
  self->n_rows = 0;
  /* the new sweep's targets replace the old ones ("auto" stays first) */
  gtk_drop_down_set_selected (self->target_dropdown, 0);
  guint n_items = g_list_model_get_n_items (G_LIST_MODEL (self->targets));
  if (n_items > 1)
    gtk_string_list_splice (self->targets, 1, n_items - 1, NULL);
  self->sweep = cl_sweep_new (grid);
  cl_sweep_start (self->sweep);
  gtk_label_set_text (self->status_label, "");
  set_running_ui (self, TRUE);
  refresh (self);
  if (!self->poll_id)
    self->poll_id = g_timeout_add (POLL_MS, poll_cb, self);
  return TRUE;
}

void
cl_sweep_window_cancel (ClSweepWindow *self)
{
  if (self->sweep)
    cl_sweep_cancel (self->sweep);
  refresh (self);
}

ClSweep *
cl_sweep_window_get_sweep (ClSweepWindow *self)
{
  return self->sweep;
}

static void
show_error (ClSweepWindow *self, const char *message)
{
  g_autofree char *text = g_strdup_printf ("%s", message);
  gtk_label_set_text (self->status_label, text);
}

static void
on_start (GtkButton *button, ClSweepWindow *self)
{
  (void) button;
  GError *error = NULL;
  if (!cl_sweep_window_start (self, &error))
    {
      show_error (self, error->message);
      g_error_free (error);
    }
}

static void
on_cancel (GtkButton *button, ClSweepWindow *self)
{
  (void) button;
  cl_sweep_window_cancel (self);
}

gboolean
cl_sweep_window_export_png (ClSweepWindow *self, const char *path, GError **error)
{
  if (!self->sweep)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: no sweep to export yet", path);
      return FALSE;
    }
  refresh (self);
  return cl_sweep_plot_export_png (path, cl_sweep_get_grid (self->sweep), self->rows, self->n_rows,
                                   current_target (self), 1.0, error);
}

gboolean
cl_sweep_window_export_csv (ClSweepWindow *self, const char *path, GError **error)
{
  if (!self->sweep)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: no sweep to export yet", path);
      return FALSE;
    }
  refresh (self);
  g_autofree char *csv = cl_sweep_csv (cl_sweep_get_grid (self->sweep), self->rows, self->n_rows);
  /* the one atomic write: a temp beside the target, fsync, rename */
  return cl_file_replace (path, csv, -1, CL_FILE_REPLACE_DEFAULT, error);
}

typedef gboolean (*ExportFunc) (ClSweepWindow *self, const char *path, GError **error);

static void
on_export_response (GtkNativeDialog *dialog, int response, ClSweepWindow *self)
{
  ExportFunc func = g_object_get_data (G_OBJECT (dialog), "export-func");
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = file ? g_file_get_path (file) : NULL;
      GError *error = NULL;
      if (!path)
        show_error (self, "Export needs a local file; choose a folder on this computer.");
      else if (!func (self, path, &error))
        {
          show_error (self, error->message);
          g_error_free (error);
        }
      else
        {
          g_autofree char *text = g_strdup_printf ("Wrote %s", path);
          gtk_label_set_text (self->status_label, text);
        }
    }
  g_object_unref (dialog);
}

static void
open_export_chooser (ClSweepWindow *self, const char *title, const char *name, ExportFunc func)
{
  GtkFileChooserNative *dialog =
      gtk_file_chooser_native_new (title, GTK_WINDOW (self), GTK_FILE_CHOOSER_ACTION_SAVE, "_Export", "_Cancel");
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (dialog), TRUE);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (dialog), name);
  g_object_set_data (G_OBJECT (dialog), "export-func", (gpointer) func);
  g_signal_connect (dialog, "response", G_CALLBACK (on_export_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

static void
on_export_png (GtkButton *button, ClSweepWindow *self)
{
  (void) button;
  open_export_chooser (self, "Export Sweep Figure", "contrastlab-sweep.png", cl_sweep_window_export_png);
}

static void
on_export_csv (GtkButton *button, ClSweepWindow *self)
{
  (void) button;
  open_export_chooser (self, "Export Sweep Table", "sweep.csv", cl_sweep_window_export_csv);
}

static void
on_target_changed (GObject *dropdown, GParamSpec *pspec, ClSweepWindow *self)
{
  (void) dropdown;
  (void) pspec;
  gtk_widget_queue_draw (GTK_WIDGET (self->figure_area));
}

void
cl_sweep_window_set_text (ClSweepWindow *self, const char *sweep, const char *also_set)
{
  if (sweep)
    gtk_editable_set_text (GTK_EDITABLE (self->sweep_entry), sweep);
  if (also_set)
    gtk_editable_set_text (GTK_EDITABLE (self->set_entry), also_set);
}

const char *
cl_sweep_window_get_sweep_text (ClSweepWindow *self)
{
  return gtk_editable_get_text (GTK_EDITABLE (self->sweep_entry));
}

const char *
cl_sweep_window_get_set_text (ClSweepWindow *self)
{
  return gtk_editable_get_text (GTK_EDITABLE (self->set_entry));
}

/* The experiment each kind's figure is about (paper section 3); probes only at the ends, which
 * is all a sweep reads. */
static void
prefill (ClSweepWindow *self)
{
  const char *sweep;
  switch (self->base.data_kind)
    {
    case CL_SCENE_RANDBITS:
      sweep = "data.bits=0,5,10,15,20 loss.temperature=0.05,0.1,0.2";
      break;
    case CL_SCENE_OVERLAY:
      sweep = "data.pool=1,4,16,64,256,1024";
      break;
    case CL_SCENE_TWO_OBJECTS:
      sweep = "data.big_size=14,28,42,56";
      break;
    default:
      sweep = "loss.temperature=0.05,0.1,0.2,0.5";
      break;
    }
  gtk_spin_button_set_value (self->steps_spin, (double) self->base.train_steps);
  cl_sweep_window_set_text (self, sweep, self->base.probe_every != 0 ? "probe.every=0" : "");
  update_plan (self);
}

static void
cl_sweep_window_dispose (GObject *object)
{
  ClSweepWindow *self = CL_SWEEP_WINDOW (object);
  if (self->poll_id)
    {
      g_source_remove (self->poll_id);
      self->poll_id = 0;
    }
  discard_sweep (self);
  g_clear_pointer (&self->rows, g_free);
  gtk_widget_dispose_template (GTK_WIDGET (self), CL_TYPE_SWEEP_WINDOW);
  G_OBJECT_CLASS (cl_sweep_window_parent_class)->dispose (object);
}

static void
cl_sweep_window_class_init (ClSweepWindowClass *klass)
{
  GObjectClass *oc = G_OBJECT_CLASS (klass);
  GtkWidgetClass *wc = GTK_WIDGET_CLASS (klass);
  oc->dispose = cl_sweep_window_dispose;
  gtk_widget_class_set_template_from_resource (wc, "/org/contrastlab/ContrastLab/cl-sweep-window.ui");
  gtk_widget_class_bind_template_child (wc, ClSweepWindow, sweep_entry);
  gtk_widget_class_bind_template_child (wc, ClSweepWindow, set_entry);
  gtk_widget_class_bind_template_child (wc, ClSweepWindow, target_dropdown);
  gtk_widget_class_bind_template_child (wc, ClSweepWindow, targets);
  gtk_widget_class_bind_template_child (wc, ClSweepWindow, start_button);
  gtk_widget_class_bind_template_child (wc, ClSweepWindow, cancel_button);
  gtk_widget_class_bind_template_child (wc, ClSweepWindow, export_png_button);
  gtk_widget_class_bind_template_child (wc, ClSweepWindow, export_csv_button);
  gtk_widget_class_bind_template_child (wc, ClSweepWindow, progress_bar);
  gtk_widget_class_bind_template_child (wc, ClSweepWindow, figure_area);
  gtk_widget_class_bind_template_child (wc, ClSweepWindow, status_label);
  gtk_widget_class_bind_template_child (wc, ClSweepWindow, steps_spin);
  gtk_widget_class_bind_template_child (wc, ClSweepWindow, plan_label);
  gtk_widget_class_add_binding_action (wc, GDK_KEY_w, GDK_CONTROL_MASK, "window.close", NULL);
  gtk_widget_class_add_binding_action (wc, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
cl_sweep_window_init (ClSweepWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->running_point = -1;
  gtk_drawing_area_set_draw_func (self->figure_area, draw_figure, self, NULL);
  g_signal_connect (self->start_button, "clicked", G_CALLBACK (on_start), self);
  g_signal_connect (self->cancel_button, "clicked", G_CALLBACK (on_cancel), self);
  g_signal_connect (self->export_png_button, "clicked", G_CALLBACK (on_export_png), self);
  g_signal_connect (self->export_csv_button, "clicked", G_CALLBACK (on_export_csv), self);
  g_signal_connect (self->sweep_entry, "activate", G_CALLBACK (on_start), self);
  g_signal_connect (self->target_dropdown, "notify::selected", G_CALLBACK (on_target_changed), self);
  g_signal_connect_swapped (self->sweep_entry, "changed", G_CALLBACK (update_plan), self);
  g_signal_connect_swapped (self->set_entry, "changed", G_CALLBACK (update_plan), self);
  g_signal_connect_swapped (self->steps_spin, "value-changed", G_CALLBACK (update_plan), self);
}

ClSweepWindow *
cl_sweep_window_new (GtkWindow *parent, const ClConfig *base)
{
  ClSweepWindow *self = g_object_new (CL_TYPE_SWEEP_WINDOW, NULL);
  self->base = *base;
  prefill (self);
  if (parent)
    {
      gtk_window_set_transient_for (GTK_WINDOW (self), parent);
      /* closing the main window ends its sweep too (the sweep is cancelled on dispose) */
      gtk_window_set_destroy_with_parent (GTK_WINDOW (self), TRUE);
      GtkApplication *app = gtk_window_get_application (parent);
      if (app)
        gtk_window_set_application (GTK_WINDOW (self), app);
    }
  return self;
}

#define PARENT_KEY "cl-sweep-window"

static void
on_sweep_window_destroy (GtkWidget *window, GtkWindow *parent)
{
  if (g_object_get_data (G_OBJECT (parent), PARENT_KEY) == window)
    g_object_set_data (G_OBJECT (parent), PARENT_KEY, NULL);
}

void
cl_sweep_window_present (GtkWindow *parent, const ClConfig *base, double samples_per_second)
{
  ClSweepWindow *self = parent ? g_object_get_data (G_OBJECT (parent), PARENT_KEY) : NULL;
  if (!self)
    {
      self = cl_sweep_window_new (parent, base);
      if (parent)
        {
          g_object_set_data (G_OBJECT (parent), PARENT_KEY, self);
          /* the window may outlive its parent's interest in it: forget it when it is closed */
          g_signal_connect_object (self, "destroy", G_CALLBACK (on_sweep_window_destroy), parent, 0);
        }
    }
  else if (!self->sweep)
    {
      /* nothing run yet: follow the configuration the main window has now */
      self->base = *base;
      prefill (self);
    }
  cl_sweep_window_set_speed (self, samples_per_second);
  gtk_window_present (GTK_WINDOW (self));
}
