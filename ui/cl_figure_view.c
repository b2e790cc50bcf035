#include "ui/cl_figure_view.h"

#include <math.h>

struct _ClFigureView
{
  GtkWidget parent_instance;
  ClFigureKind kind;
  ClSnapshot *snap;
  ClFigureOptions options;
  double hover_step; /* the crosshair's step (NaN: none); drawn on screen only */
  double smoothing;  /* the loss' EMA (options.view.ema follows it) */
  /* a drag zoom in progress: the box from (drag_x0, drag_y0) to (drag_x1, drag_y1) */
  gboolean dragging;
  double drag_x0, drag_y0, drag_x1, drag_y1;
  /* the toolbar in the top-right corner, in a strip of its own above the chart (over the chart
   * it covered the title and the legend's last entries in a 1024 px window) */
  GtkWidget *toolbar, *log_button, *fit_button, *smooth_scale, *smooth_label, *reset_button;
  gboolean show_toolbar;
  gboolean syncing;    /* toolbar widgets being set from the properties */
  gint64 described_us; /* when the accessible description was last brought up to date */
  int natural_h;       /* the natural height last asked for (the figure's export height for its snapshot) */
};

G_DEFINE_FINAL_TYPE (ClFigureView, cl_figure_view, GTK_TYPE_WIDGET)

/* Draw-time statistics of all figure views (GUI thread only), for the frame-budget report. */
static gint64 draw_count, draw_total_us, draw_max_us;

void
cl_figure_view_draw_stats (gint64 *count, double *mean_ms, double *max_ms)
{
  *count = draw_count;
  *mean_ms = draw_count ? draw_total_us / 1000.0 / draw_count : 0;
  *max_ms = draw_max_us / 1000.0;
}

enum
{
  PROP_0,
  PROP_KIND,
  PROP_LOG_Y,
  PROP_FIT_Y,
  PROP_SMOOTHING,
  PROP_ZOOMED,
  PROP_SHOW_TOOLBAR,
  N_PROPS
};
static GParamSpec *props[N_PROPS];

static void toolbar_update (ClFigureView *self);

static gboolean
is_chart (const ClFigureView *self)
{
  return self->kind == CL_FIGURE_LOSS || self->kind == CL_FIGURE_PROBES;
}

/* The height of the toolbar's strip above the figure (0 when the toolbar is hidden). */
static int
chart_top (ClFigureView *self)
{
  if (!self->toolbar || !gtk_widget_get_visible (self->toolbar))
    return 0;
  int min_h, nat_h;
  gtk_widget_measure (self->toolbar, GTK_ORIENTATION_VERTICAL, -1, &min_h, &nat_h, NULL, NULL);
  return nat_h + 4;
}

/* The figure's size under the strip. */
static double
figure_height (ClFigureView *self)
{
  return MAX (gtk_widget_get_height (GTK_WIDGET (self)) - chart_top (self), 1);
}

/* The chart area for these options, in the widget's coordinates (the figure is drawn under the
 * toolbar's strip). */
static gboolean
chart_area_with (ClFigureView *self, const ClFigureOptions *options, ClFigureChartArea *area)
{
  if (!is_chart (self) || !cl_figure_chart_area (self->kind, gtk_widget_get_width (GTK_WIDGET (self)),
                                                 figure_height (self), self->snap, options, area))
    return FALSE;
  int top = chart_top (self);
  area->plot.y += top;
  area->y.p0 += top;
  area->y.p1 += top;
  return TRUE;
}

static gboolean
chart_area (ClFigureView *self, ClFigureChartArea *area)
{
  return chart_area_with (self, &self->options, area);
}

gboolean
cl_figure_view_chart_area (ClFigureView *self, ClFigureChartArea *area)
{
  g_return_val_if_fail (CL_IS_FIGURE_VIEW (self), FALSE);
  return chart_area (self, area);
}

static void
zoom_changed (ClFigureView *self, gboolean was_zoomed)
{
  if (was_zoomed != cl_plot_view_zoomed (&self->options.view))
    g_object_notify_by_pspec (G_OBJECT (self), props[PROP_ZOOMED]);
  toolbar_update (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
cl_figure_view_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  ClFigureView *self = CL_FIGURE_VIEW (widget);
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  if (w <= 0 || h <= 0)
    return;
  gint64 t0 = g_get_monotonic_time ();
  cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
  ClFigureOptions shown = self->options;
  shown.view.hover_x = self->hover_step;
  int top = chart_top (self);
  cairo_save (cr);
  cairo_translate (cr, 0, top);
  cl_figure_draw_with (self->kind, cr, w, MAX (h - top, 1), self->snap, &shown);
  cairo_restore (cr);
  if (top > 0)
    {
      /* the strip under the toolbar: the figure's background */
      cairo_rectangle (cr, 0, 0, w, top);
      cl_plot_set_rgb (cr, cl_plot_color_background ());
      cairo_fill (cr);
    }
  if (self->dragging)
    {
      /* the box a drag will zoom to (screen only: it is not part of the figure) */
      double x = MIN (self->drag_x0, self->drag_x1), y = MIN (self->drag_y0, self->drag_y1);
      cairo_rectangle (cr, x + 0.5, y + 0.5, fabs (self->drag_x1 - self->drag_x0),
                       fabs (self->drag_y1 - self->drag_y0));
      cairo_set_source_rgba (cr, 0.0, 0.45, 0.70, 0.12);
      cairo_fill_preserve (cr);
      cairo_set_source_rgba (cr, 0.0, 0.45, 0.70, 0.8);
      cairo_set_line_width (cr, 1.0);
      cairo_stroke (cr);
    }
  cairo_destroy (cr);
  gint64 dt = g_get_monotonic_time () - t0;
  draw_count++;
  draw_total_us += dt;
  draw_max_us = MAX (draw_max_us, dt);
  if (self->toolbar && gtk_widget_get_visible (self->toolbar))
    gtk_widget_snapshot_child (widget, self->toolbar, snapshot);
}

static void
cl_figure_view_size_allocate (GtkWidget *widget, int width, int height, int baseline)
{
  (void) baseline;
  ClFigureView *self = CL_FIGURE_VIEW (widget);
  if (!self->toolbar || !gtk_widget_get_visible (self->toolbar))
    return;
  int min_w, nat_w, min_h, nat_h;
  gtk_widget_measure (self->toolbar, GTK_ORIENTATION_HORIZONTAL, -1, &min_w, &nat_w, NULL, NULL);
  gtk_widget_measure (self->toolbar, GTK_ORIENTATION_VERTICAL, nat_w, &min_h, &nat_h, NULL, NULL);
  int tw = MIN (nat_w, width), th = MIN (nat_h, height);
  tw = MAX (tw, MIN (min_w, width));
  gtk_widget_size_allocate (self->toolbar, &(GtkAllocation){ MAX (width - tw - 4, 0), 2, tw, th }, -1);
}

static void
cl_figure_view_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum, int *natural,
                        int *minimum_baseline, int *natural_baseline)
{
  (void) for_size;
  ClFigureView *self = CL_FIGURE_VIEW (widget);
  int w, h;
  /* the export's size for what the figure shows: the Views figure of a run without bit planes is
   * as tight on screen as in its PNG (cl_views_plot_height_for, the layout it draws with) */
  cl_figure_export_size_for (self->kind, self->snap, &w, &h);
  self->natural_h = h;
  *minimum = orientation == GTK_ORIENTATION_HORIZONTAL ? 320 : 220;
  /* the figure at its export size under the toolbar's strip */
  *natural = orientation == GTK_ORIENTATION_HORIZONTAL ? w : h + chart_top (self);
  *minimum_baseline = *natural_baseline = -1;
}

static void
cl_figure_view_set_property (GObject *object, guint id, const GValue *value, GParamSpec *pspec)
{
  ClFigureView *self = CL_FIGURE_VIEW (object);
  switch (id)
    {
    case PROP_KIND:
      self->kind = (ClFigureKind) g_value_get_int (value);
      gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      cl_figure_title (self->kind), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                      cl_figure_caption (self->kind), -1);
      toolbar_update (self);
      gtk_widget_queue_resize (GTK_WIDGET (self));
      break;
    case PROP_LOG_Y:
      cl_figure_view_set_log_y (self, g_value_get_boolean (value));
      break;
    case PROP_FIT_Y:
      cl_figure_view_set_fit_y (self, g_value_get_boolean (value));
      break;
    case PROP_SMOOTHING:
      cl_figure_view_set_smoothing (self, g_value_get_double (value));
      break;
    case PROP_SHOW_TOOLBAR:
      self->show_toolbar = g_value_get_boolean (value);
      toolbar_update (self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
cl_figure_view_get_property (GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
  ClFigureView *self = CL_FIGURE_VIEW (object);
  switch (id)
    {
    case PROP_KIND:
      g_value_set_int (value, (int) self->kind);
      break;
    case PROP_LOG_Y:
      g_value_set_boolean (value, self->options.view.log_y);
      break;
    case PROP_FIT_Y:
      g_value_set_boolean (value, self->options.view.fit_y);
      break;
    case PROP_SMOOTHING:
      g_value_set_double (value, self->smoothing);
      break;
    case PROP_ZOOMED:
      g_value_set_boolean (value, cl_plot_view_zoomed (&self->options.view));
      break;
    case PROP_SHOW_TOOLBAR:
      g_value_set_boolean (value, self->show_toolbar);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
cl_figure_view_dispose (GObject *object)
{
  ClFigureView *self = CL_FIGURE_VIEW (object);
  g_clear_pointer (&self->snap, cl_snapshot_unref);
  g_clear_pointer (&self->toolbar, gtk_widget_unparent);
  G_OBJECT_CLASS (cl_figure_view_parent_class)->dispose (object);
}

static void
cl_figure_view_class_init (ClFigureViewClass *klass)
{
  GObjectClass *oc = G_OBJECT_CLASS (klass);
  GtkWidgetClass *wc = GTK_WIDGET_CLASS (klass);
  oc->dispose = cl_figure_view_dispose;
  oc->set_property = cl_figure_view_set_property;
  oc->get_property = cl_figure_view_get_property;
  wc->snapshot = cl_figure_view_snapshot;
  wc->measure = cl_figure_view_measure;
  wc->size_allocate = cl_figure_view_size_allocate;
  props[PROP_KIND] = g_param_spec_int ("kind", NULL, NULL, 0, CL_N_FIGURES - 1, 0,
                                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  props[PROP_LOG_Y] = g_param_spec_boolean ("log-y", NULL, "The loss on a log axis", FALSE,
                                            G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  props[PROP_FIT_Y] = g_param_spec_boolean ("fit-y", NULL, "Probe axis fitted to the data instead of 0..1", FALSE,
                                            G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  props[PROP_SMOOTHING] = g_param_spec_double ("smoothing", NULL, "EMA smoothing of the loss curves", 0.0, 0.99, 0.9,
                                               G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  props[PROP_ZOOMED] =
      g_param_spec_boolean ("zoomed", NULL, "A zoom window is set", FALSE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  props[PROP_SHOW_TOOLBAR] =
      g_param_spec_boolean ("show-toolbar", NULL, "The view toggles in the corner", TRUE,
                            G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (oc, N_PROPS, props);
  gtk_widget_class_set_accessible_role (wc, GTK_ACCESSIBLE_ROLE_IMG);
  gtk_widget_class_set_css_name (wc, "cl-figure-view");
}

/* Hovering the similarity heatmap outlines the cell and names both images and the value. */
static void
on_motion (GtkEventControllerMotion *motion, double x, double y, ClFigureView *self)
{
  (void) motion;
  if (is_chart (self))
    {
      ClFigureChartArea area;
      double step = NAN;
      if (x >= 0 && chart_area (self, &area) && x >= area.plot.x && x <= area.plot.x + area.plot.w &&
          y >= area.plot.y && y <= area.plot.y + area.plot.h)
        step = cl_plot_scale_invert (&area.x, x);
      cl_figure_view_set_hover_step (self, step);
      return;
    }
  if (self->kind == CL_FIGURE_CLUSTERS)
    {
      /* Hovering a local-features cell draws it enlarged with its metrics. */
      int cell = cl_figure_clusters_hit (gtk_widget_get_width (GTK_WIDGET (self)), figure_height (self), self->snap,
                                         &self->options, x, y - chart_top (self));
      if (cell != self->options.cluster_highlight)
        {
          self->options.cluster_highlight = cell;
          gtk_widget_queue_draw (GTK_WIDGET (self));
        }
      return;
    }
  int row = -1, col = -1;
  if (self->kind != CL_FIGURE_SIMILARITY || !self->snap ||
      !cl_figure_similarity_hit (gtk_widget_get_width (GTK_WIDGET (self)), figure_height (self), self->snap,
                                 &self->options, x, y - chart_top (self), &row, &col))
    row = col = -1;
  if (row == self->options.sim_highlight_row && col == self->options.sim_highlight_col)
    return;
  self->options.sim_highlight_row = row;
  self->options.sim_highlight_col = col;
  if (row >= 0)
    {
      g_autofree char *tip = cl_figure_similarity_tooltip (self->snap, row, col); /* with the class names */
      gtk_widget_set_tooltip_text (GTK_WIDGET (self), tip);
    }
  else
    gtk_widget_set_tooltip_text (GTK_WIDGET (self), NULL);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
on_leave (GtkEventControllerMotion *motion, ClFigureView *self)
{
  on_motion (motion, -1, -1, self);
}

/* The wheel zooms the step axis around the pointer, and stops there: it must never reach a
 * scrolled panel or a control behind the chart. */
static gboolean
on_scroll (GtkEventControllerScroll *scroll, double dx, double dy, ClFigureView *self)
{
  (void) dx;
  ClFigureChartArea area;
  if (!chart_area (self, &area) || dy == 0.0)
    return is_chart (self);
  double px = NAN, py = NAN;
  GdkEvent *event = gtk_event_controller_get_current_event (GTK_EVENT_CONTROLLER (scroll));
  if (event == NULL || !gdk_event_get_position (event, &px, &py))
    px = area.plot.x + 0.5 * area.plot.w;
  else
    {
      /* the event is in surface coordinates: bring it to the widget's */
      GtkNative *native = gtk_widget_get_native (GTK_WIDGET (self));
      double nx = 0, ny = 0;
      gtk_native_get_surface_transform (native, &nx, &ny);
      graphene_point_t in = GRAPHENE_POINT_INIT ((float) (px - nx), (float) (py - ny)), out;
      if (gtk_widget_compute_point (GTK_WIDGET (native), GTK_WIDGET (self), &in, &out))
        px = out.x;
    }
  px = CLAMP (px, area.plot.x, area.plot.x + area.plot.w);
  double centre = cl_plot_scale_invert (&area.x, px);
  double factor = pow (0.8, -CLAMP (dy, -5.0, 5.0)); /* wheel up (dy < 0) zooms in */
  double lo = centre + (area.x.d0 - centre) * factor, hi = centre + (area.x.d1 - centre) * factor;
  /* zoomed out as far as the whole run: back to the whole run */
  ClFigureOptions whole = self->options;
  cl_plot_view_init (&whole.view);
  whole.view.log_y = self->options.view.log_y;
  whole.view.fit_y = self->options.view.fit_y;
  ClFigureChartArea full;
  if (chart_area_with (self, &whole, &full) && hi - lo >= full.x.d1 - full.x.d0)
    cl_figure_view_reset_zoom (self);
  else if (hi - lo >= 1e-6)
    cl_figure_view_zoom (self, lo, hi, self->options.view.y_lo, self->options.view.y_hi);
  return TRUE;
}

static void
on_drag_begin (GtkGestureDrag *drag, double x, double y, ClFigureView *self)
{
  ClFigureChartArea area;
  if (!chart_area (self, &area) || x < area.plot.x || x > area.plot.x + area.plot.w || y < area.plot.y ||
      y > area.plot.y + area.plot.h)
    {
      gtk_gesture_set_state (GTK_GESTURE (drag), GTK_EVENT_SEQUENCE_DENIED);
      return;
    }
  self->dragging = TRUE;
  self->drag_x0 = self->drag_x1 = x;
  self->drag_y0 = self->drag_y1 = y;
}

static void
on_drag_update (GtkGestureDrag *drag, double ox, double oy, ClFigureView *self)
{
  (void) drag;
  if (!self->dragging)
    return;
  self->drag_x1 = self->drag_x0 + ox;
  self->drag_y1 = self->drag_y0 + oy;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* A box zooms to its steps, and to its values too when it is more than a sliver tall. */
static void
on_drag_end (GtkGestureDrag *drag, double ox, double oy, ClFigureView *self)
{
  (void) drag;
  if (!self->dragging)
    return;
  self->dragging = FALSE;
  ClFigureChartArea area;
  if (fabs (ox) >= 5.0 && chart_area (self, &area))
    {
      double x0 = CLAMP (MIN (self->drag_x0, self->drag_x0 + ox), area.plot.x, area.plot.x + area.plot.w);
      double x1 = CLAMP (MAX (self->drag_x0, self->drag_x0 + ox), area.plot.x, area.plot.x + area.plot.w);
      double y_lo = self->options.view.y_lo, y_hi = self->options.view.y_hi;
      if (fabs (oy) >= 12.0)
        {
          double y0 = CLAMP (MAX (self->drag_y0, self->drag_y0 + oy), area.plot.y, area.plot.y + area.plot.h);
          double y1 = CLAMP (MIN (self->drag_y0, self->drag_y0 + oy), area.plot.y, area.plot.y + area.plot.h);
          y_lo = cl_plot_scale_invert (&area.y, y0);
          y_hi = cl_plot_scale_invert (&area.y, y1);
        }
      cl_figure_view_zoom (self, cl_plot_scale_invert (&area.x, x0), cl_plot_scale_invert (&area.x, x1), y_lo, y_hi);
    }
  /* the crosshair follows the pointer on the new axes, not the step the drag began at */
  on_motion (NULL, self->drag_x0 + ox, self->drag_y0 + oy, self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
on_pressed (GtkGestureClick *click, int n_press, double x, double y, ClFigureView *self)
{
  (void) click;
  if (n_press == 2 && is_chart (self))
    {
      cl_figure_view_reset_zoom (self);
      on_motion (NULL, x, y, self); /* the crosshair at the pointer on the whole run */
    }
}

/* ---------------------------------------------------------------- toolbar */

static void
on_log_toggled (GtkToggleButton *button, ClFigureView *self)
{
  if (!self->syncing)
    cl_figure_view_set_log_y (self, gtk_toggle_button_get_active (button));
}

static void
on_fit_toggled (GtkToggleButton *button, ClFigureView *self)
{
  if (!self->syncing)
    cl_figure_view_set_fit_y (self, gtk_toggle_button_get_active (button));
}

static void
on_smooth_changed (GtkRange *range, ClFigureView *self)
{
  if (!self->syncing)
    cl_figure_view_set_smoothing (self, gtk_range_get_value (range));
}

static void
on_reset_clicked (GtkButton *button, ClFigureView *self)
{
  (void) button;
  cl_figure_view_reset_zoom (self);
}

static GtkWidget *
small_toggle (const char *label, const char *tooltip)
{
  GtkWidget *b = gtk_toggle_button_new_with_label (label);
  gtk_widget_set_tooltip_text (b, tooltip);
  gtk_widget_add_css_class (b, "flat");
  gtk_widget_set_focus_on_click (b, FALSE);
  return b;
}

static void
toolbar_build (ClFigureView *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 2);
  gtk_widget_add_css_class (box, "cl-figure-toolbar");
  gtk_widget_set_halign (box, GTK_ALIGN_END);
  gtk_widget_set_valign (box, GTK_ALIGN_START);
  self->smooth_label = gtk_label_new ("smooth");
  gtk_widget_add_css_class (self->smooth_label, "dim-label");
  self->smooth_scale = gtk_scale_new_with_range (GTK_ORIENTATION_HORIZONTAL, 0.0, 0.99, 0.01);
  gtk_scale_set_draw_value (GTK_SCALE (self->smooth_scale), FALSE);
  gtk_widget_set_size_request (self->smooth_scale, 80, -1);
  gtk_widget_set_tooltip_text (self->smooth_scale,
                               "Smoothing of the loss curves: an exponential moving average, as TensorBoard's slider "
                               "(0 = raw)");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->smooth_scale), GTK_ACCESSIBLE_PROPERTY_LABEL, "Smoothing", -1);
  gtk_range_set_value (GTK_RANGE (self->smooth_scale), self->smoothing);
  self->log_button = small_toggle ("log y", "The loss on a logarithmic axis");
  self->fit_button = small_toggle ("fit y", "Fit the accuracy axis to the data instead of 0 to 1, so small gains show");
  self->reset_button = gtk_button_new_with_label ("reset zoom");
  gtk_widget_add_css_class (self->reset_button, "flat");
  gtk_widget_set_tooltip_text (self->reset_button, "Show the whole run (or double-click the chart). Wheel: zoom the "
                                                   "steps; drag a box: zoom to it");
  gtk_box_append (GTK_BOX (box), self->smooth_label);
  gtk_box_append (GTK_BOX (box), self->smooth_scale);
  gtk_box_append (GTK_BOX (box), self->log_button);
  gtk_box_append (GTK_BOX (box), self->fit_button);
  gtk_box_append (GTK_BOX (box), self->reset_button);
  g_signal_connect (self->log_button, "toggled", G_CALLBACK (on_log_toggled), self);
  g_signal_connect (self->fit_button, "toggled", G_CALLBACK (on_fit_toggled), self);
  g_signal_connect (self->smooth_scale, "value-changed", G_CALLBACK (on_smooth_changed), self);
  g_signal_connect (self->reset_button, "clicked", G_CALLBACK (on_reset_clicked), self);
  self->toolbar = box;
  gtk_widget_set_parent (box, GTK_WIDGET (self));
}

/* The toolbar shows the toggles that mean something for this figure, in their current state. */
static void
toolbar_update (ClFigureView *self)
{
  if (!self->toolbar)
    return;
  gboolean loss = self->kind == CL_FIGURE_LOSS, probes = self->kind == CL_FIGURE_PROBES;
  gtk_widget_set_visible (self->toolbar, self->show_toolbar && (loss || probes));
  gtk_widget_set_visible (self->smooth_label, loss);
  gtk_widget_set_visible (self->smooth_scale, loss);
  gtk_widget_set_visible (self->log_button, loss);
  gtk_widget_set_visible (self->fit_button, probes);
  gtk_widget_set_visible (self->reset_button, cl_plot_view_zoomed (&self->options.view));
  self->syncing = TRUE;
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (self->log_button), self->options.view.log_y);
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (self->fit_button), self->options.view.fit_y);
  if (fabs (gtk_range_get_value (GTK_RANGE (self->smooth_scale)) - self->smoothing) > 1e-9)
    gtk_range_set_value (GTK_RANGE (self->smooth_scale), self->smoothing);
  self->syncing = FALSE;
  gtk_widget_queue_allocate (GTK_WIDGET (self));
}

static void
cl_figure_view_init (ClFigureView *self)
{
  self->smoothing = 0.9;
  self->show_toolbar = TRUE;
  self->hover_step = NAN;
  cl_figure_options_init (&self->options);
  GtkEventController *motion = gtk_event_controller_motion_new ();
  g_signal_connect (motion, "motion", G_CALLBACK (on_motion), self);
  g_signal_connect (motion, "leave", G_CALLBACK (on_leave), self);
  gtk_widget_add_controller (GTK_WIDGET (self), motion);
  self->options.view.ema = self->smoothing;

  GtkEventController *scroll =
      gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_VERTICAL | GTK_EVENT_CONTROLLER_SCROLL_DISCRETE);
  g_signal_connect (scroll, "scroll", G_CALLBACK (on_scroll), self);
  gtk_widget_add_controller (GTK_WIDGET (self), scroll);
  GtkGesture *drag = gtk_gesture_drag_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (drag), GDK_BUTTON_PRIMARY);
  g_signal_connect (drag, "drag-begin", G_CALLBACK (on_drag_begin), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (on_drag_update), self);
  g_signal_connect (drag, "drag-end", G_CALLBACK (on_drag_end), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drag));
  GtkGesture *click = gtk_gesture_click_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (click), GDK_BUTTON_PRIMARY);
  g_signal_connect (click, "pressed", G_CALLBACK (on_pressed), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (click));
  toolbar_build (self);
  gtk_widget_set_hexpand (GTK_WIDGET (self), TRUE);
  gtk_widget_set_vexpand (GTK_WIDGET (self), TRUE);
}

GtkWidget *
cl_figure_view_new (ClFigureKind kind)
{
  return g_object_new (CL_TYPE_FIGURE_VIEW, "kind", (int) kind, NULL);
}

void
cl_figure_view_set_sim_order (ClFigureView *self, ClSimOrder order)
{
  self->options.sim_order = order;
  self->options.sim_highlight_row = self->options.sim_highlight_col = -1;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
cl_figure_view_set_comparison (ClFigureView *self, const ClSnapshot *const *overlays, const char *const *overlay_labels,
                               int n_overlays, const ClSnapshot *compare, const char *label_a, const char *label_b)
{
  g_return_if_fail (CL_IS_FIGURE_VIEW (self));
  self->options.overlays = n_overlays > 0 ? overlays : NULL;
  self->options.overlay_labels = n_overlays > 0 ? overlay_labels : NULL;
  self->options.n_overlays = MAX (n_overlays, 0);
  self->options.compare = compare;
  self->options.label_a = compare ? label_a : NULL;
  self->options.label_b = compare ? label_b : NULL;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

const ClFigureOptions *
cl_figure_view_get_options (ClFigureView *self)
{
  /* what the figure shows, less the crosshair that follows the pointer (kept apart) */
  return &self->options;
}

ClFigureKind
cl_figure_view_get_kind (ClFigureView *self)
{
  return self->kind;
}

void
cl_figure_view_set_snapshot (ClFigureView *self, ClSnapshot *snap)
{
  g_return_if_fail (CL_IS_FIGURE_VIEW (self));
  if (snap == self->snap)
    return;
  if (snap)
    cl_snapshot_ref (snap);
  g_clear_pointer (&self->snap, cl_snapshot_unref);
  self->snap = snap;
  int w, h;
  cl_figure_export_size_for (self->kind, snap, &w, &h);
  if (h != self->natural_h)
    {
      self->natural_h = h;
      gtk_widget_queue_resize (GTK_WIDGET (self)); /* bit planes came or went: measure again */
    }
  else if (gtk_widget_get_mapped (GTK_WIDGET (self)))
    gtk_widget_queue_draw (GTK_WIDGET (self));
  /* A screen reader hears what the figure shows now, at most once a second (not every frame). */
  gint64 now = g_get_monotonic_time ();
  if (!snap || now - self->described_us >= G_USEC_PER_SEC)
    {
      self->described_us = now;
      g_autofree char *text = cl_figure_view_describe (self);
      gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, text, -1);
    }
}

char *
cl_figure_view_describe (ClFigureView *self)
{
  g_return_val_if_fail (CL_IS_FIGURE_VIEW (self), NULL);
  const ClSnapshot *s = self->snap;
  g_autofree char *caption = cl_figure_caption_for (self->kind, s);
  GString *text = g_string_new (caption);
  if (!s || s->n_rows == 0)
    return g_string_free (text, FALSE);
  const ClMetricRow *r = &s->rows[s->n_rows - 1];
  g_string_append_printf (text, " Now at step %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT ".", s->step, s->total_steps);
  if (self->kind == CL_FIGURE_LOSS)
    g_string_append_printf (text, " Loss %.3f (alignment %.3f, distribution %.3f), contrastive accuracy %.3f.", r->loss,
                            r->alignment, r->distribution, r->contrastive_acc);
  else if (self->kind == CL_FIGURE_PROBES && s->n_probes > 0)
    {
      /* the latest probe round: class and the other named targets (per-bit targets left out) */
      int64_t last = s->probes[s->n_probes - 1].step;
      g_string_append_printf (text, " Probes at step %" G_GINT64_FORMAT ":", last);
      int n = 0;
      for (int i = 0; i < s->n_probes; i++)
        {
          const ClProbeRow *p = &s->probes[i];
          if (p->step != last || (g_str_has_prefix (p->target, "bit") && g_ascii_isdigit (p->target[3])))
            continue;
          g_string_append_printf (text, "%s %s %.3f (chance %.3f)", n++ ? "," : "", p->target, p->accuracy, p->chance);
        }
      g_string_append_c (text, '.');
    }
  return g_string_free (text, FALSE);
}

void
cl_figure_view_set_replicates (ClFigureView *self, const ClSnapshot *const *replicates, int n)
{
  g_return_if_fail (CL_IS_FIGURE_VIEW (self));
  self->options.replicates = n > 0 ? replicates : NULL;
  self->options.n_replicates = MAX (n, 0);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
cl_figure_view_set_log_y (ClFigureView *self, gboolean log_y)
{
  g_return_if_fail (CL_IS_FIGURE_VIEW (self));
  log_y = !!log_y;
  if (self->options.view.log_y == log_y)
    return;
  gboolean was = cl_plot_view_zoomed (&self->options.view);
  self->options.view.log_y = log_y;
  /* a value window of the other axis means nothing on this one */
  self->options.view.y_lo = self->options.view.y_hi = NAN;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_LOG_Y]);
  zoom_changed (self, was);
}

gboolean
cl_figure_view_get_log_y (ClFigureView *self)
{
  return self->options.view.log_y;
}

void
cl_figure_view_set_fit_y (ClFigureView *self, gboolean fit_y)
{
  g_return_if_fail (CL_IS_FIGURE_VIEW (self));
  fit_y = !!fit_y;
  if (self->options.view.fit_y == fit_y)
    return;
  gboolean was = cl_plot_view_zoomed (&self->options.view);
  self->options.view.fit_y = fit_y;
  self->options.view.y_lo = self->options.view.y_hi = NAN;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_FIT_Y]);
  zoom_changed (self, was);
}

gboolean
cl_figure_view_get_fit_y (ClFigureView *self)
{
  return self->options.view.fit_y;
}

void
cl_figure_view_set_smoothing (ClFigureView *self, double smoothing)
{
  g_return_if_fail (CL_IS_FIGURE_VIEW (self));
  smoothing = isfinite (smoothing) ? CLAMP (smoothing, 0.0, 0.99) : 0.9;
  if (fabs (self->smoothing - smoothing) < 1e-12)
    return;
  self->smoothing = smoothing;
  self->options.view.ema = smoothing;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_SMOOTHING]);
  toolbar_update (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

double
cl_figure_view_get_smoothing (ClFigureView *self)
{
  return self->smoothing;
}

void
cl_figure_view_zoom (ClFigureView *self, double x_lo, double x_hi, double y_lo, double y_hi)
{
  g_return_if_fail (CL_IS_FIGURE_VIEW (self));
  gboolean was = cl_plot_view_zoomed (&self->options.view);
  gboolean x_ok = isfinite (x_lo) && isfinite (x_hi) && x_lo < x_hi;
  gboolean y_ok = isfinite (y_lo) && isfinite (y_hi) && y_lo != y_hi;
  self->options.view.x_lo = x_ok ? x_lo : NAN;
  self->options.view.x_hi = x_ok ? x_hi : NAN;
  self->options.view.y_lo = y_ok ? MIN (y_lo, y_hi) : NAN;
  self->options.view.y_hi = y_ok ? MAX (y_lo, y_hi) : NAN;
  zoom_changed (self, was);
}

void
cl_figure_view_reset_zoom (ClFigureView *self)
{
  cl_figure_view_zoom (self, NAN, NAN, NAN, NAN);
}

gboolean
cl_figure_view_get_zoomed (ClFigureView *self)
{
  return cl_plot_view_zoomed (&self->options.view);
}

void
cl_figure_view_set_hover_step (ClFigureView *self, double step)
{
  g_return_if_fail (CL_IS_FIGURE_VIEW (self));
  double old = self->hover_step;
  if ((isnan (old) && isnan (step)) || old == step)
    return;
  self->hover_step = step;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

double
cl_figure_view_get_hover_step (ClFigureView *self)
{
  return self->hover_step;
}
