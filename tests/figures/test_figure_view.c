/* The figure widget as an instrument, in-process under Xvfb: the wheel over a chart zooms it and
 * is consumed (it must never reach a control behind the chart), a dragged box zooms to it, a
 * double click resets, hovering sets the crosshair, and the corner toolbar shows the toggles of
 * each chart and drives the view options that export draws with. */
#include <gtk/gtk.h>
#include <math.h>
#include <string.h>

#include "ui/cl_figure_view.h"
#include "tests/figures/views_snapshot.h"

#define N_ROWS 200

static ClSnapshot *
make_snapshot (void)
{
  ClMetricRow *rows = g_new0 (ClMetricRow, N_ROWS);
  for (int i = 0; i < N_ROWS; i++)
    {
      rows[i].step = i + 1;
      rows[i].loss = (float) (5.0 * exp (-i / 50.0) + 0.1);
      rows[i].alignment = 0.5f;
      rows[i].distribution = 4.0f;
      rows[i].contrastive_acc = 0.5f;
    }
  ClProbeRow *probes = g_new0 (ClProbeRow, 5);
  for (int i = 0; i < 5; i++)
    {
      probes[i].step = i * 50;
      g_strlcpy (probes[i].target, "class", sizeof probes[i].target);
      probes[i].accuracy = (float) (0.745 + 0.01 * i);
      probes[i].chance = 0.1f;
    }
  return cl_snapshot_new_from_rows (rows, N_ROWS, NULL, 0, probes, 5, NULL, 0, g_strdup ("[train]\nseed=1\n"));
}

static void
gui_spin (int ms)
{
  gint64 end = g_get_monotonic_time () + ms * 1000;
  while (g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE);
}

static gboolean
allocated (gpointer widget)
{
  return gtk_widget_get_width (widget) > 100 && gtk_widget_get_mapped (widget);
}

static void
spin_until (gboolean (*cond) (gpointer), gpointer data)
{
  gint64 end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (!cond (data) && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE);
  g_assert_true (cond (data));
}

static GtkEventController *
find_controller (GtkWidget *w, GType type)
{
  GListModel *list = gtk_widget_observe_controllers (w);
  GtkEventController *found = NULL;
  for (guint i = 0; i < g_list_model_get_n_items (list) && !found; i++)
    {
      GtkEventController *c = g_list_model_get_item (list, i);
      if (G_TYPE_CHECK_INSTANCE_TYPE (c, type))
        found = c;
      g_object_unref (c);
    }
  g_object_unref (list);
  return found;
}

/* The toolbar's button with this label, or NULL. */
static GtkWidget *
find_button (GtkWidget *root, const char *label)
{
  for (GtkWidget *c = gtk_widget_get_first_child (root); c; c = gtk_widget_get_next_sibling (c))
    {
      if (GTK_IS_BUTTON (c) && g_strcmp0 (gtk_button_get_label (GTK_BUTTON (c)), label) == 0)
        return c;
      GtkWidget *inner = find_button (c, label);
      if (inner)
        return inner;
    }
  return NULL;
}

static GtkWidget *
show_view (ClFigureKind kind, ClSnapshot *snap, GtkWidget **window)
{
  *window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (*window), 900, 500);
  GtkWidget *view = cl_figure_view_new (kind);
  cl_figure_view_set_snapshot (CL_FIGURE_VIEW (view), snap);
  gtk_window_set_child (GTK_WINDOW (*window), view);
  gtk_window_present (GTK_WINDOW (*window));
  spin_until (allocated, view);
  return view;
}

static void
test_wheel_zooms_and_is_consumed (void)
{
  g_autoptr (ClSnapshot) snap = make_snapshot ();
  GtkWidget *window;
  GtkWidget *view = show_view (CL_FIGURE_LOSS, snap, &window);
  ClFigureView *fv = CL_FIGURE_VIEW (view);
  g_assert_false (cl_figure_view_get_zoomed (fv));
  GtkEventController *scroll = find_controller (view, GTK_TYPE_EVENT_CONTROLLER_SCROLL);
  g_assert_nonnull (scroll);
  gboolean handled = FALSE;
  g_signal_emit_by_name (scroll, "scroll", 0.0, -1.0, &handled);
  g_assert_true (handled); /* consumed: no scrolled panel or control behind gets it */
  g_assert_true (cl_figure_view_get_zoomed (fv));
  const ClFigureOptions *o = cl_figure_view_get_options (fv);
  double span = o->view.x_hi - o->view.x_lo;
  g_assert_cmpfloat (span, <, 200.0 * 0.85);
  g_assert_cmpfloat (span, >, 200.0 * 0.7);
  /* zooming back out past the whole run returns to it */
  for (int i = 0; i < 4; i++)
    g_signal_emit_by_name (scroll, "scroll", 0.0, 1.0, &handled);
  g_assert_true (handled);
  g_assert_false (cl_figure_view_get_zoomed (fv));

  /* a figure that is not a step chart lets the wheel go on (to scroll its page) */
  cl_figure_view_set_snapshot (fv, NULL);
  GtkWidget *window2;
  GtkWidget *views = show_view (CL_FIGURE_VIEWS, snap, &window2);
  GtkEventController *scroll2 = find_controller (views, GTK_TYPE_EVENT_CONTROLLER_SCROLL);
  handled = TRUE;
  g_signal_emit_by_name (scroll2, "scroll", 0.0, -1.0, &handled);
  g_assert_false (handled);
  gtk_window_destroy (GTK_WINDOW (window2));
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_drag_box_and_double_click (void)
{
  g_autoptr (ClSnapshot) snap = make_snapshot ();
  GtkWidget *window;
  GtkWidget *view = show_view (CL_FIGURE_LOSS, snap, &window);
  ClFigureView *fv = CL_FIGURE_VIEW (view);
  ClFigureChartArea area;
  g_assert_true (cl_figure_view_chart_area (fv, &area));
  double x0 = cl_plot_scale_map (&area.x, 50.0), x1 = cl_plot_scale_map (&area.x, 100.0);
  double y = area.plot.y + 0.5 * area.plot.h;
  GtkEventController *drag = find_controller (view, GTK_TYPE_GESTURE_DRAG);
  g_assert_nonnull (drag);
  g_signal_emit_by_name (drag, "drag-begin", x0, y);
  g_signal_emit_by_name (drag, "drag-update", x1 - x0, 2.0);
  g_signal_emit_by_name (drag, "drag-end", x1 - x0, 2.0);
  const ClFigureOptions *o = cl_figure_view_get_options (fv);
  /* a box a few pixels tall zooms the steps only */
  g_assert_cmpfloat (fabs (o->view.x_lo - 50.0), <, 0.5);
  g_assert_cmpfloat (fabs (o->view.x_hi - 100.0), <, 0.5);
  g_assert_true (isnan (o->view.y_lo));
  /* the crosshair is at the pointer (the box's end) on the zoomed axes, not at the step the drag
   * began at */
  ClFigureChartArea zoomed;
  g_assert_true (cl_figure_view_chart_area (fv, &zoomed));
  double at_end = cl_plot_scale_invert (&zoomed.x, x1);
  g_assert_cmpfloat (at_end, >, 50.0);
  g_assert_cmpfloat (fabs (cl_figure_view_get_hover_step (fv) - at_end), <, 0.01);
  /* the reset button shows while zoomed */
  GtkWidget *reset = find_button (view, "reset zoom");
  g_assert_nonnull (reset);
  g_assert_true (gtk_widget_get_visible (reset));
  /* the toolbar (now at its widest) lies above the figure's title and legend, not over them (it
   * covered the title and the legend's last entry in a 1024 px window): the figure is drawn
   * from y = top, where top is the offset at which the plot sits as in the figure drawn alone at
   * the height left, and the toolbar ends above it */
  for (int width = 640; width <= 900; width += 260)
    {
      gtk_window_set_default_size (GTK_WINDOW (window), width, 500);
      gui_spin (300);
      ClFigureChartArea in_view, alone;
      g_assert_true (cl_figure_view_chart_area (fv, &in_view));
      int top = -1, W = gtk_widget_get_width (view), H = gtk_widget_get_height (view);
      for (int t = 0; t <= 100 && top < 0; t++)
        if (cl_figure_chart_area (CL_FIGURE_LOSS, W, H - t, snap, o, &alone) &&
            fabs (in_view.plot.y - t - alone.plot.y) < 0.5 && fabs (in_view.plot.h - alone.plot.h) < 0.5)
          top = t;
      graphene_rect_t bar;
      g_assert_true (gtk_widget_compute_bounds (gtk_widget_get_parent (reset), view, &bar));
      g_test_message ("%d px: toolbar y %.0f..%.0f, the figure from y %d", W, bar.origin.y,
                      bar.origin.y + bar.size.height, top);
      g_assert_cmpint (top, >=, 0);
      g_assert_cmpfloat (bar.origin.y + bar.size.height, <=, top);
    }
  /* a double click resets */
  GtkEventController *click = find_controller (view, GTK_TYPE_GESTURE_CLICK);
  g_assert_nonnull (click);
  g_signal_emit_by_name (click, "pressed", 2, x0, y);
  g_assert_false (cl_figure_view_get_zoomed (fv));
  /* on the whole run again the crosshair is at the pointer's step there (x0: step 50) */
  g_assert_cmpfloat (fabs (cl_figure_view_get_hover_step (fv) - 50.0), <, 1.0);
  g_assert_false (gtk_widget_get_visible (reset));
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_hover_and_toolbar (void)
{
  g_autoptr (ClSnapshot) snap = make_snapshot ();
  GtkWidget *window;
  GtkWidget *view = show_view (CL_FIGURE_LOSS, snap, &window);
  ClFigureView *fv = CL_FIGURE_VIEW (view);
  ClFigureChartArea area;
  g_assert_true (cl_figure_view_chart_area (fv, &area));
  GtkEventController *motion = find_controller (view, GTK_TYPE_EVENT_CONTROLLER_MOTION);
  g_signal_emit_by_name (motion, "motion", cl_plot_scale_map (&area.x, 120.0), area.plot.y + 10.0);
  g_assert_cmpfloat (fabs (cl_figure_view_get_hover_step (fv) - 120.0), <, 0.5);
  /* the crosshair is not part of what export draws */
  g_assert_true (isnan (cl_figure_view_get_options (fv)->view.hover_x));
  g_signal_emit_by_name (motion, "leave");
  g_assert_true (isnan (cl_figure_view_get_hover_step (fv)));

  /* the loss' toolbar: log y and smoothing; no fit y */
  GtkWidget *log = find_button (view, "log y"), *fit = find_button (view, "fit y");
  g_assert_true (gtk_widget_get_visible (log));
  g_assert_false (gtk_widget_get_visible (fit));
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (log), TRUE);
  g_assert_true (cl_figure_view_get_log_y (fv));
  g_assert_true (cl_figure_view_get_options (fv)->view.log_y);
  gboolean prop = FALSE;
  g_object_get (view, "log-y", &prop, NULL);
  g_assert_true (prop);
  /* a property set from outside moves the toggle */
  g_object_set (view, "log-y", FALSE, NULL);
  g_assert_false (gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (log)));
  g_object_set (view, "smoothing", 0.5, NULL);
  g_assert_cmpfloat (cl_figure_view_get_options (fv)->view.ema, ==, 0.5);
  g_object_set (view, "show-toolbar", FALSE, NULL);
  g_assert_false (gtk_widget_get_visible (gtk_widget_get_parent (log)));
  gtk_window_destroy (GTK_WINDOW (window));

  /* the probes' toolbar: fit y */
  GtkWidget *window2;
  GtkWidget *probes = show_view (CL_FIGURE_PROBES, snap, &window2);
  GtkWidget *fit2 = find_button (probes, "fit y");
  g_assert_true (gtk_widget_get_visible (fit2));
  g_assert_false (gtk_widget_get_visible (find_button (probes, "log y")));
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (fit2), TRUE);
  g_assert_true (cl_figure_view_get_fit_y (CL_FIGURE_VIEW (probes)));
  gtk_window_destroy (GTK_WINDOW (window2));
}

static int
natural_height (GtkWidget *w)
{
  int min_h, nat_h;
  gtk_widget_measure (w, GTK_ORIENTATION_VERTICAL, -1, &min_h, &nat_h, NULL, NULL);
  return nat_h;
}

/* The widget asks for the height its PNG has: the Views figure of a run without bit planes is
 * tight (cl_figure_export_size_for, measured with the layout it draws with), with bit planes and
 * before the first batch it keeps the nominal height; a window lays it out again when that changes. */
static void
test_natural_size_is_export_size (void)
{
  int nominal_w, nominal_h;
  cl_figure_export_size (CL_FIGURE_VIEWS, &nominal_w, &nominal_h);
  GtkWidget *window;
  GtkWidget *view = show_view (CL_FIGURE_VIEWS, NULL, &window);
  ClFigureView *fv = CL_FIGURE_VIEW (view);
  g_assert_cmpint (natural_height (view), ==, nominal_h);
  int min_w, nat_w;
  gtk_widget_measure (view, GTK_ORIENTATION_HORIZONTAL, -1, &min_w, &nat_w, NULL, NULL);
  g_assert_cmpint (nat_w, ==, nominal_w);

  ClSnapshot *overlay = snapshot_with_views ("overlay", 0);
  int w, h;
  cl_figure_export_size_for (CL_FIGURE_VIEWS, overlay, &w, &h);
  g_assert_cmpint (h, <, nominal_h - 40);
  cl_figure_view_set_snapshot (fv, overlay);
  g_assert_cmpint (natural_height (view), ==, h);

  ClSnapshot *bits = snapshot_with_views ("randbits", 8);
  cl_figure_view_set_snapshot (fv, bits);
  g_assert_cmpint (natural_height (view), ==, nominal_h);
  cl_figure_view_set_snapshot (fv, NULL);
  cl_snapshot_unref (overlay);
  cl_snapshot_unref (bits);
  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int argc, char **argv)
{
  gtk_test_init (&argc, &argv, NULL);
  g_test_add_func ("/figure-view/wheel-zooms-and-is-consumed", test_wheel_zooms_and_is_consumed);
  g_test_add_func ("/figure-view/drag-box-and-double-click", test_drag_box_and_double_click);
  g_test_add_func ("/figure-view/hover-and-toolbar", test_hover_and_toolbar);
  g_test_add_func ("/figure-view/natural-size-is-export-size", test_natural_size_is_export_size);
  return g_test_run ();
}
