#include "cl_loss_view.h"

#include "plots/cl_loss_plot.h"

struct _ClLossView {
  GtkWidget parent_instance;
  ClSnapshot *snap;
};

G_DEFINE_FINAL_TYPE (ClLossView, cl_loss_view, GTK_TYPE_WIDGET)

static void
cl_loss_view_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  ClLossView *self = CL_LOSS_VIEW (widget);
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  if (w <= 0 || h <= 0)
    return;
  cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
  ClLossPlotStyle style;
  cl_loss_plot_style_init (&style);
  style.title = "Contrastive loss";
  if (self->snap)
    cl_loss_plot_draw (cr, w, h, self->snap->rows, self->snap->n_rows, self->snap->events, self->snap->n_events,
                       &style);
  else
    cl_loss_plot_draw (cr, w, h, NULL, 0, NULL, 0, &style);
  cairo_destroy (cr);
}

static void
cl_loss_view_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum, int *natural,
                      int *minimum_baseline, int *natural_baseline)
{
  (void) widget;
  (void) for_size;
  *minimum = orientation == GTK_ORIENTATION_HORIZONTAL ? 320 : 220;
  *natural = orientation == GTK_ORIENTATION_HORIZONTAL ? 900 : 500;
  *minimum_baseline = *natural_baseline = -1;
}

static void
cl_loss_view_dispose (GObject *object)
{
  ClLossView *self = CL_LOSS_VIEW (object);
  g_clear_pointer (&self->snap, cl_snapshot_unref);
  G_OBJECT_CLASS (cl_loss_view_parent_class)->dispose (object);
}

static void
cl_loss_view_class_init (ClLossViewClass *klass)
{
  GTK_WIDGET_CLASS (klass)->snapshot = cl_loss_view_snapshot;
  GTK_WIDGET_CLASS (klass)->measure = cl_loss_view_measure;
  G_OBJECT_CLASS (klass)->dispose = cl_loss_view_dispose;
  gtk_widget_class_set_accessible_role (GTK_WIDGET_CLASS (klass), GTK_ACCESSIBLE_ROLE_IMG);
  gtk_widget_class_set_css_name (GTK_WIDGET_CLASS (klass), "cl-loss-view");
}

static void
cl_loss_view_init (ClLossView *self)
{
  gtk_widget_set_hexpand (GTK_WIDGET (self), TRUE);
  gtk_widget_set_vexpand (GTK_WIDGET (self), TRUE);
}

GtkWidget *
cl_loss_view_new (void)
{
  return g_object_new (CL_TYPE_LOSS_VIEW, NULL);
}

void
cl_loss_view_set_snapshot (ClLossView *self, ClSnapshot *snap)
{
  g_return_if_fail (CL_IS_LOSS_VIEW (self));
  if (snap)
    cl_snapshot_ref (snap);
  g_clear_pointer (&self->snap, cl_snapshot_unref);
  self->snap = snap;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}
