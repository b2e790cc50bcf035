#include "ui/cl_figure_view.h"

struct _ClFigureView {
  GtkWidget parent_instance;
  ClFigureKind kind;
  ClSnapshot *snap;
  ClFigureOptions options;
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

enum { PROP_0, PROP_KIND, N_PROPS };
static GParamSpec *props[N_PROPS];

static void
cl_figure_view_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  ClFigureView *self = CL_FIGURE_VIEW (widget);
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  if (w <= 0 || h <= 0)
    return;
  gint64 t0 = g_get_monotonic_time ();
  cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
  cl_figure_draw_with (self->kind, cr, w, h, self->snap, &self->options);
  cairo_destroy (cr);
  gint64 dt = g_get_monotonic_time () - t0;
  draw_count++;
  draw_total_us += dt;
  draw_max_us = MAX (draw_max_us, dt);
}

static void
cl_figure_view_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum, int *natural,
                        int *minimum_baseline, int *natural_baseline)
{
  (void) for_size;
  int w, h;
  cl_figure_export_size (CL_FIGURE_VIEW (widget)->kind, &w, &h);
  *minimum = orientation == GTK_ORIENTATION_HORIZONTAL ? 320 : 220;
  *natural = orientation == GTK_ORIENTATION_HORIZONTAL ? w : h;
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
                                      cl_figure_title (self->kind), -1);
      gtk_widget_queue_resize (GTK_WIDGET (self));
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
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
cl_figure_view_dispose (GObject *object)
{
  ClFigureView *self = CL_FIGURE_VIEW (object);
  g_clear_pointer (&self->snap, cl_snapshot_unref);
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
  props[PROP_KIND] = g_param_spec_int ("kind", NULL, NULL, 0, CL_N_FIGURES - 1, 0,
                                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (oc, N_PROPS, props);
  gtk_widget_class_set_accessible_role (wc, GTK_ACCESSIBLE_ROLE_IMG);
  gtk_widget_class_set_css_name (wc, "cl-figure-view");
}

/* Hovering the similarity heatmap outlines the cell and names both images and the value. */
static void
on_motion (GtkEventControllerMotion *motion, double x, double y, ClFigureView *self)
{
  (void) motion;
  if (self->kind == CL_FIGURE_CLUSTERS)
    {
      /* Hovering a local-features cell draws it enlarged with its metrics. */
      int cell = cl_figure_clusters_hit (gtk_widget_get_width (GTK_WIDGET (self)),
                                         gtk_widget_get_height (GTK_WIDGET (self)), self->snap, &self->options, x, y);
      if (cell != self->options.cluster_highlight)
        {
          self->options.cluster_highlight = cell;
          gtk_widget_queue_draw (GTK_WIDGET (self));
        }
      return;
    }
  int row = -1, col = -1;
  if (self->kind != CL_FIGURE_SIMILARITY || !self->snap
      || !cl_figure_similarity_hit (gtk_widget_get_width (GTK_WIDGET (self)), gtk_widget_get_height (GTK_WIDGET (self)),
                                    self->snap, &self->options, x, y, &row, &col))
    row = col = -1;
  if (row == self->options.sim_highlight_row && col == self->options.sim_highlight_col)
    return;
  self->options.sim_highlight_row = row;
  self->options.sim_highlight_col = col;
  if (row >= 0)
    {
      const ClSimilarity *s = &self->snap->similarity;
      int m = s->m;
      g_autofree char *tip = g_strdup_printf ("image %d view %d (class %d) vs image %d view %d (class %d): %.3f",
                                              row % m, row / m + 1, s->label[row], col % m, col / m + 1,
                                              s->label[col], s->sim[(size_t) row * 2 * m + col]);
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

static void
cl_figure_view_init (ClFigureView *self)
{
  cl_figure_options_init (&self->options);
  GtkEventController *motion = gtk_event_controller_motion_new ();
  g_signal_connect (motion, "motion", G_CALLBACK (on_motion), self);
  g_signal_connect (motion, "leave", G_CALLBACK (on_leave), self);
  gtk_widget_add_controller (GTK_WIDGET (self), motion);
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
  if (gtk_widget_get_mapped (GTK_WIDGET (self)))
    gtk_widget_queue_draw (GTK_WIDGET (self));
}
