/* The window core: the template, the run lifecycle (start_run), the frame tick that hands the
 * latest snapshot to the figures, the sidebar built from the parameter table, and config loading.
 * The rest of the window is in the files cl_window_private.h lists. */
#include "app/cl_window_private.h"
#include "engine/base/cl_file.h"

#include <math.h>
#include <string.h>

#include "cl_config.h"
#include "app/cl_export.h"
#include "engine/store/cl_preset_events.h"
#include "engine/store/cl_runs.h"
#include "ui/cl_figure_view.h"

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

static void
update_pending (ClWindow *self)
{
  int n = 0, n_params;
  const ClParam *params = cl_params (&n_params);
  /* Rows that do nothing for the next run's data.kind or loss.kind are dimmed (the table says which). */
  for (int i = 0; i < n_params; i++)
    {
      ClParamRow *row = g_hash_table_lookup (self->rows, params[i].key);
      gboolean pending =
          !(params[i].flags & CL_PARAM_LIVE) && !cl_config_value_equal (&self->config, &self->run_config, &params[i]);
      n += pending;
      if (row)
        {
          cl_param_row_set_pending (row, pending);
          g_autofree char *why = cl_param_why_unused (&params[i], &self->config);
          cl_param_row_set_unused (row, why);
        }
    }
  /* Pinned below the scrolled list, so a waiting change is never scrolled out of view. */
  gtk_widget_set_visible (self->restart_button, n > 0);
  if (n > 0)
    {
      g_autofree char *label =
          g_strdup_printf (n == 1 ? "Restart to apply %d change" : "Restart to apply %d changes", n);
      gtk_button_set_label (GTK_BUTTON (self->restart_button), label);
    }
}

void
cl_window_start_run (ClWindow *self)
{
  cl_window_record_run (self, TRUE);
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
  self->events_seen = 0;
  self->trainer = cl_trainer_new (&self->config, &error);
  /* The loaded file's live changes are replayed by the run it starts (not by later resets). */
  if (self->trainer && self->n_replay > 0 && !cl_trainer_replay (self->trainer, self->replay, self->n_replay, &error))
    {
      g_prefix_error (&error, "The recorded live changes are not replayed: ");
      cl_trainer_free (self->trainer);
      self->trainer = NULL;
    }
  g_clear_pointer (&self->replay, g_free);
  self->n_replay = 0;
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
      cl_window_record_begin (self);
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

/* Runs once per frame: only pointer swaps and a label update happen here. */
static void on_visible_figure (ClWindow *self);

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
      cl_window_status_update_probe_bar (self, now, FALSE);
      return G_SOURCE_CONTINUE;
    }
  g_clear_pointer (&self->shown, cl_snapshot_unref);
  self->shown = s;
  for (int i = 0; i < CL_N_FIGURES && !self->show_a; i++)
    cl_figure_view_set_snapshot (self->figure_views[i], s);
  if (!self->show_a)
    gtk_widget_queue_draw (GTK_WIDGET (self->dashboard_area));
  /* Replayed changes move the sliders as they apply (the user's own already have). */
  for (; self->events_seen < s->n_events; self->events_seen++)
    {
      const ClEvent *e = &s->events[self->events_seen];
      ClParamRow *row = g_hash_table_lookup (self->rows, e->key);
      if (cl_config_set (&self->config, e->key, e->new_value, NULL) && row)
        cl_param_row_set_value (row, e->new_value);
    }
  cl_window_status_update (self, s);
  cl_window_status_update_probe_bar (self, now, TRUE);
  if (s->n_probes != self->caption_probes && !cl_window_dashboard_shown (self))
    on_visible_figure (self); /* a new probe round can change what the caption says */
  if (!self->show_a)
    cl_window_replicates_check (self); /* a string compare unless the configuration changed */
  if (s->error)
    cl_window_show_error (self, s->error);
  self->tick_work_max_us = MAX (self->tick_work_max_us, g_get_monotonic_time () - now);
  return G_SOURCE_CONTINUE;
}

/* Replaces the whole configuration (a preset, an opened file, a dropped PNG) and restarts. */
/* "randbits" for a preset, "figure" for figure.png, the folder's name for a run folder's run.ini. */
static void
set_preset_name (ClWindow *self, const char *name_or_file)
{
  g_autofree char *base = g_path_get_basename (name_or_file ? name_or_file : "default");
  if (strcmp (base, "run.ini") == 0)
    {
      g_autofree char *dir = g_path_get_dirname (name_or_file);
      g_free (base);
      base = g_path_get_basename (dir);
    }
  char *dot = strrchr (base, '.');
  if (dot && dot != base && (g_ascii_strcasecmp (dot, ".ini") == 0 || g_ascii_strcasecmp (dot, ".png") == 0))
    *dot = '\0';
  g_free (self->preset_name);
  /* A preset by name (or the file of one in the presets folder) is "current" in the presets popover. */
  g_clear_pointer (&self->current_preset, g_free);
  const char *src = name_or_file ? name_or_file : "default";
  gboolean by_name = !strchr (src, '/') && !g_str_has_suffix (src, ".ini") && !g_str_has_suffix (src, ".png");
  g_autofree char *resolved = by_name || g_str_has_suffix (src, ".ini") ? cl_preset_resolve (base, NULL) : NULL;
  if (resolved && by_name)
    self->current_preset = g_strdup (base);
  else if (resolved)
    {
      g_autoptr (GFile) a = g_file_new_for_path (resolved);
      g_autoptr (GFile) b = g_file_new_for_path (src);
      if (g_file_equal (a, b))
        self->current_preset = g_strdup (base);
    }
  self->preset_name = g_steal_pointer (&base);
}

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
  cl_window_start_run (self);
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
  int n_events = 0;
  GError *events_error = NULL;
  ClEvent *events = cl_preset_read_events (name_or_file, &n_events, &events_error);
  if (!events_error && events)
    cl_events_initial_config (&cfg, events, n_events, &events_error);
  if (events_error)
    {
      g_free (events);
      g_propagate_error (error, events_error);
      return FALSE;
    }
  g_free (self->replay);
  self->replay = events;
  self->n_replay = n_events;
  set_preset_name (self, name_or_file);
  cl_window_presets_update (self);
  g_autofree char *base = g_path_get_basename (name_or_file);
  apply_config (self, &cfg, base);
  if (self->settings && !strchr (name_or_file, '/'))
    g_settings_set_string (self->settings, "last-preset", name_or_file);
  return TRUE;
}

void
cl_window_load_or_complain (ClWindow *self, const char *name_or_file)
{
  cl_window_request_load (self, name_or_file);
}

gboolean
cl_window_save_config (ClWindow *self, const char *path, GError **error)
{
  g_autofree char *ini = cl_config_to_ini (&self->config);
  /* the one atomic write: a temp beside the target, fsync, rename */
  return cl_file_replace (path, ini, -1, CL_FILE_REPLACE_DEFAULT, error);
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
  cl_window_load_or_complain (self, path);
  return TRUE;
}

static void
on_restart_clicked (GtkButton *button, ClWindow *self)
{
  (void) button;
  cl_window_start_run (self);
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
  gint64 draws, count = 0, total_us = 0, max_us = 0;
  double mean_ms, max_ms;
  cl_figure_view_draw_stats (&draws, &mean_ms, &max_ms);
  if (self->recorder)
    cl_run_recorder_get_stats (self->recorder, &count, &total_us, &max_us);
  g_printerr ("contrastlab: frames: %" G_GINT64_FORMAT " ticks, %" G_GINT64_FORMAT
              " intervals over 18.7 ms, longest interval %.1f ms; tick callback at most %.2f ms; "
              "%" G_GINT64_FORMAT " figure draws, mean %.2f ms, longest %.2f ms; "
              "%" G_GINT64_FORMAT " run-list writes on the GUI thread, mean %.2f ms, longest %.2f ms\n",
              self->ticks, self->ticks_over_16ms, self->interval_max_us / 1000.0, self->tick_work_max_us / 1000.0,
              draws, mean_ms, max_ms, count, count ? total_us / 1000.0 / count : 0.0, max_us / 1000.0);
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
      /* On close the process may exit right after; wait for the thread here, and keep the
       * run's last rows in the run list. */
      cl_trainer_request_stop (self->trainer);
      cl_trainer_wait (self->trainer);
      if (self->runs)
        cl_window_record_run (self, TRUE);
      cl_trainer_free (self->trainer);
      self->trainer = NULL;
    }
  if (self->runs)
    cl_window_runs_dispose (self);
  cl_window_recorder_dispose (self);
  g_clear_pointer (&self->current_id, g_free);
  g_clear_pointer (&self->preset_name, g_free);
  g_clear_pointer (&self->current_preset, g_free);
  cl_window_presets_dispose (self);
  g_clear_pointer (&self->replay, g_free);
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
  G_OBJECT_CLASS (cl_window_parent_class)->finalize (object);
}

int
cl_window_sidebar_width_for (int width)
{
  return CLAMP (width / 4, 300, 440);
}

static void
cl_window_size_allocate (GtkWidget *widget, int width, int height, int baseline)
{
  ClWindow *self = CL_WINDOW (widget);
  /* Set before the paned is allocated, so it is laid out once, at the new width. */
  if (width != self->sidebar_for_width && !self->sidebar_moved && self->main_paned)
    {
      self->sidebar_for_width = width;
      self->allocating = TRUE;
      gtk_paned_set_position (self->main_paned, cl_window_sidebar_width_for (width));
      self->allocating = FALSE;
    }
  self->allocating = TRUE;
  GTK_WIDGET_CLASS (cl_window_parent_class)->size_allocate (widget, width, height, baseline);
  self->allocating = FALSE;
}

/* The paned moves its handle itself only while it is allocated: any other move is the user's
 * (a drag, or the keyboard), and the sidebar then keeps that width. */
static void
on_paned_position (ClWindow *self)
{
  if (!self->allocating)
    self->sidebar_moved = TRUE;
}

static void
cl_window_class_init (ClWindowClass *klass)
{
  GtkWidgetClass *wc = GTK_WIDGET_CLASS (klass);
  G_OBJECT_CLASS (klass)->dispose = cl_window_dispose;
  G_OBJECT_CLASS (klass)->finalize = cl_window_finalize;
  wc->size_allocate = cl_window_size_allocate;
  g_type_ensure (CL_TYPE_FIGURE_VIEW);
  gtk_widget_class_set_template_from_resource (wc, "/org/contrastlab/ContrastLab/cl-window.ui");
  gtk_widget_class_bind_template_child (wc, ClWindow, play_button);
  gtk_widget_class_bind_template_child (wc, ClWindow, params_box);
  gtk_widget_class_bind_template_child (wc, ClWindow, figure_stack);
  gtk_widget_class_bind_template_child (wc, ClWindow, caption_label);
  gtk_widget_class_bind_template_child_full (wc, "loss_view", FALSE,
                                             G_STRUCT_OFFSET (ClWindow, figure_views[CL_FIGURE_LOSS]));
  gtk_widget_class_bind_template_child_full (wc, "probes_view", FALSE,
                                             G_STRUCT_OFFSET (ClWindow, figure_views[CL_FIGURE_PROBES]));
  gtk_widget_class_bind_template_child_full (wc, "geometry_view", FALSE,
                                             G_STRUCT_OFFSET (ClWindow, figure_views[CL_FIGURE_GEOMETRY]));
  gtk_widget_class_bind_template_child_full (wc, "views_view", FALSE,
                                             G_STRUCT_OFFSET (ClWindow, figure_views[CL_FIGURE_VIEWS]));
  gtk_widget_class_bind_template_child_full (wc, "similarity_view", FALSE,
                                             G_STRUCT_OFFSET (ClWindow, figure_views[CL_FIGURE_SIMILARITY]));
  gtk_widget_class_bind_template_child (wc, ClWindow, sim_order);
  gtk_widget_class_bind_template_child (wc, ClWindow, dashboard_area);
  gtk_widget_class_bind_template_child_full (wc, "clusters_view", FALSE,
                                             G_STRUCT_OFFSET (ClWindow, figure_views[CL_FIGURE_CLUSTERS]));
  gtk_widget_class_bind_template_child (wc, ClWindow, status_label);
  gtk_widget_class_bind_template_child (wc, ClWindow, notice_label);
  gtk_widget_class_bind_template_child (wc, ClWindow, probe_bar);
  gtk_widget_class_bind_template_child (wc, ClWindow, sidebar_stack);
  gtk_widget_class_bind_template_child (wc, ClWindow, main_paned);
  gtk_widget_class_bind_template_child (wc, ClWindow, runs_view);
  gtk_widget_class_bind_template_child (wc, ClWindow, run_a);
  gtk_widget_class_bind_template_child (wc, ClWindow, run_b);
  gtk_widget_class_bind_template_child (wc, ClWindow, error_revealer);
  gtk_widget_class_bind_template_child (wc, ClWindow, error_label);
  gtk_widget_class_bind_template_child (wc, ClWindow, restart_button);
  gtk_widget_class_bind_template_callback (wc, on_restart_clicked);
  cl_window_presets_class_init (wc);
  cl_window_history_class_init (wc);
  cl_window_actions_init (wc);
}

static void
on_visible_figure (ClWindow *self)
{
  if (cl_window_dashboard_shown (self))
    gtk_label_set_text (self->caption_label,
                        "The run at a glance: loss, linear probes, the augmented views and batch similarity, updated "
                        "live. Click a figure for its tab: hover values, zoom, log scale, smoothing.");
  else
    {
      /* Fitted to what the shown run did (the class probe rose, fell or stayed level). */
      const ClSnapshot *snap = cl_window_shown_snapshot (self);
      g_autofree char *caption = cl_figure_caption_for (cl_window_get_visible_figure (self), snap);
      gtk_label_set_text (self->caption_label, caption);
      self->caption_probes = snap ? snap->n_probes : -1;
    }
}

gboolean
cl_window_dashboard_shown (ClWindow *self)
{
  return g_strcmp0 (gtk_stack_get_visible_child_name (self->figure_stack), "dashboard") == 0;
}

const ClSnapshot *
cl_window_shown_snapshot (ClWindow *self)
{
  if (self->show_a && self->show_a->snap)
    return self->show_a->snap;
  return self->shown;
}

/* Drawn by the same renderers, at the same layout, as "Export Dashboard…" writes. */
static void
draw_dashboard (GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer data)
{
  (void) area;
  ClWindow *self = data;
  const ClSnapshot *snap = cl_window_shown_snapshot (self);
  if (!snap)
    return;
  const ClFigureOptions *options[CL_N_FIGURES];
  for (int k = 0; k < CL_N_FIGURES; k++)
    options[k] = cl_figure_view_get_options (self->figure_views[k]);
  cl_export_draw_panels (cr, width, height, snap, options);
}

static void
on_dashboard_click (GtkGestureClick *gesture, int n_press, double x, double y, ClWindow *self)
{
  (void) n_press;
  GtkWidget *area = gtk_event_controller_get_widget (GTK_EVENT_CONTROLLER (gesture));
  int kind = cl_export_panel_hit (gtk_widget_get_width (area), gtk_widget_get_height (area), x, y);
  if (kind >= 0)
    cl_window_show_figure (self, (ClFigureKind) kind);
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
  gtk_drawing_area_set_draw_func (self->dashboard_area, draw_dashboard, self, NULL);
  GtkGesture *click = gtk_gesture_click_new ();
  g_signal_connect (click, "released", G_CALLBACK (on_dashboard_click), self);
  gtk_widget_add_controller (GTK_WIDGET (self->dashboard_area), GTK_EVENT_CONTROLLER (click));
  on_visible_figure (self);
  g_signal_connect_swapped (self->main_paned, "notify::position", G_CALLBACK (on_paned_position), self);
  cl_window_presets_init (self);
  g_signal_connect_swapped (self->sim_order, "notify::selected", G_CALLBACK (on_sim_order), self);
  /* Space plays/pauses only when the focused widget does not use it itself: an application
   * accelerator would run first and keep Space from pressing a focused button, toggle or
   * drop-down, which keyboard users need. */
  GtkEventController *keys = gtk_shortcut_controller_new ();
  gtk_event_controller_set_propagation_phase (keys, GTK_PHASE_BUBBLE);
  gtk_shortcut_controller_add_shortcut (
      GTK_SHORTCUT_CONTROLLER (keys),
      gtk_shortcut_new (gtk_keyval_trigger_new (GDK_KEY_space, 0), gtk_named_action_new ("win.play-pause")));
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
  cl_window_runs_init (self);
}

ClWindow *
cl_window_new (GtkApplication *app, const ClConfig *config)
{
  return cl_window_new_for_preset (app, config, NULL);
}

ClWindow *
cl_window_new_for_preset (GtkApplication *app, const ClConfig *config, const char *preset)
{
  ClWindow *self = g_object_new (CL_TYPE_WINDOW, "application", app, NULL);
  set_preset_name (self, preset);
  cl_window_presets_update (self);
  GError *replay_error = NULL;
  self->replay = preset ? cl_preset_read_events (preset, &self->n_replay, &replay_error) : NULL;
  self->config = *config;
  /* The file holds the values the run ended with; the replay starts from those it began with. */
  if (self->replay && !cl_events_initial_config (&self->config, self->replay, self->n_replay, &replay_error))
    {
      self->config = *config;
      g_clear_pointer (&self->replay, g_free);
      self->n_replay = 0;
    }
  self->run_config = *config;
  build_param_rows (self);
  GError *error = NULL;
  gboolean kept = cl_window_recorder_init (self, &error);
  cl_window_start_run (self);
  if (!kept)
    {
      /* After cl_window_start_run, which hides the error bar when the run starts. */
      g_autofree char *msg = g_strdup_printf ("The run list is off (runs are not kept): %s", error->message);
      cl_window_show_error (self, msg);
      g_error_free (error);
    }
  cl_window_runs_refresh (self);
  self->record_id = g_timeout_add_seconds (3, cl_window_on_record_timer, self);
  self->tick_id = gtk_widget_add_tick_callback (GTK_WIDGET (self), on_tick, NULL, NULL);
  if (replay_error)
    {
      g_autofree char *msg = g_strdup_printf ("The recorded live changes are not replayed: %s", replay_error->message);
      cl_window_show_error (self, msg);
      g_error_free (replay_error);
    }
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
