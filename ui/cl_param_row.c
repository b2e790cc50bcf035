#include "ui/cl_param_row.h"

#include <math.h>
#include <string.h>

/* Dragging a slider produces dozens of values a second; the engine records each applied
 * change as an event on the charts, so only the value the user settles on is sent. */
#define DEBOUNCE_MS 150

struct _ClParamRow {
  GtkBox parent_instance;
  const ClParam *param;
  GtkLabel *name_label;
  GtkLabel *value_label;
  GtkScale *scale;
  GtkSpinButton *spin;
  GtkDropDown *dropdown;
  gboolean updating;
  guint debounce_id;
};

G_DEFINE_FINAL_TYPE (ClParamRow, cl_param_row, GTK_TYPE_BOX)

enum { SIGNAL_VALUE_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

static gboolean
uses_scale (const ClParam *p)
{
  return p->type == CL_PARAM_FLOAT || (p->type == CL_PARAM_INT && p->max - p->min <= 64);
}

/* "Negative = auto" log sliders have two notches below the floor: auto, then a real 0. */
#define NOTCH 0.25

static gboolean
is_auto (const ClParam *p)
{
  return (p->flags & CL_PARAM_NEGATIVE_IS_AUTO) != 0;
}

static double
log_lower (const ClParam *p)
{
  return is_auto (p) ? log10 (CL_PARAM_LOG_FLOOR) - 2 * NOTCH : log10 (p->min);
}

static double
to_position (const ClParam *p, double v)
{
  if (!(p->flags & CL_PARAM_LOG_SCALE))
    return v;
  if (is_auto (p) && v < 0)
    return log_lower (p);
  if (is_auto (p) && v == 0)
    return log_lower (p) + NOTCH;
  return log10 (MAX (v, is_auto (p) ? CL_PARAM_LOG_FLOOR : p->min));
}

static double
from_position (const ClParam *p, double pos)
{
  if (is_auto (p) && (p->flags & CL_PARAM_LOG_SCALE))
    {
      if (pos < log_lower (p) + NOTCH / 2)
        return -1;
      if (pos < log_lower (p) + 1.5 * NOTCH)
        return 0;
    }
  double v = (p->flags & CL_PARAM_LOG_SCALE) ? pow (10.0, pos) : pos;
  if (p->type == CL_PARAM_INT)
    v = round (v);
  else
    {
      /* Three significant digits: values a person can read, type into a preset and reproduce. */
      char buf[32];
      g_ascii_formatd (buf, sizeof buf, "%.3g", v);
      v = g_ascii_strtod (buf, NULL);
    }
  return CLAMP (v, p->min, p->max);
}

static char *
format_value (const ClParam *p, double v)
{
  char buf[32];
  if (p->type == CL_PARAM_INT)
    g_snprintf (buf, sizeof buf, "%d", (int) v);
  else
    g_ascii_formatd (buf, sizeof buf, "%.3g", v);
  return g_strdup (buf);
}

static void
show_value (ClParamRow *self, const char *text)
{
  if (is_auto (self->param) && g_ascii_strtod (text, NULL) < 0)
    gtk_label_set_text (self->value_label, "auto");
  else if (*self->param->unit)
    {
      g_autofree char *s = g_strdup_printf ("%s %s", text, self->param->unit);
      gtk_label_set_text (self->value_label, s);
    }
  else
    gtk_label_set_text (self->value_label, text);
}

static char *
current_text (ClParamRow *self)
{
  const ClParam *p = self->param;
  if (p->type == CL_PARAM_ENUM)
    return g_strdup (p->choices[gtk_drop_down_get_selected (self->dropdown)]);
  if (uses_scale (p))
    return format_value (p, from_position (p, gtk_range_get_value (GTK_RANGE (self->scale))));
  return format_value (p, gtk_spin_button_get_value (self->spin));
}

static gboolean
emit_now (gpointer data)
{
  ClParamRow *self = data;
  self->debounce_id = 0;
  g_autofree char *text = current_text (self);
  g_signal_emit (self, signals[SIGNAL_VALUE_CHANGED], 0, text);
  return G_SOURCE_REMOVE;
}

static void
on_control_changed (ClParamRow *self)
{
  g_autofree char *text = current_text (self);
  show_value (self, text);
  if (self->updating)
    return;
  if (self->debounce_id)
    g_source_remove (self->debounce_id);
  if (self->param->type == CL_PARAM_ENUM)
    emit_now (self);
  else
    self->debounce_id = g_timeout_add (DEBOUNCE_MS, emit_now, self);
}

static void
cl_param_row_dispose (GObject *object)
{
  ClParamRow *self = CL_PARAM_ROW (object);
  if (self->debounce_id)
    {
      g_source_remove (self->debounce_id);
      self->debounce_id = 0;
    }
  gtk_widget_dispose_template (GTK_WIDGET (self), CL_TYPE_PARAM_ROW);
  G_OBJECT_CLASS (cl_param_row_parent_class)->dispose (object);
}

static void
cl_param_row_class_init (ClParamRowClass *klass)
{
  GtkWidgetClass *wc = GTK_WIDGET_CLASS (klass);
  G_OBJECT_CLASS (klass)->dispose = cl_param_row_dispose;
  gtk_widget_class_set_template_from_resource (wc, "/org/contrastlab/ContrastLab/cl-param-row.ui");
  gtk_widget_class_bind_template_child (wc, ClParamRow, name_label);
  gtk_widget_class_bind_template_child (wc, ClParamRow, value_label);
  gtk_widget_class_bind_template_child (wc, ClParamRow, scale);
  gtk_widget_class_bind_template_child (wc, ClParamRow, spin);
  gtk_widget_class_bind_template_child (wc, ClParamRow, dropdown);
  signals[SIGNAL_VALUE_CHANGED] = g_signal_new ("value-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                                NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
cl_param_row_init (ClParamRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
cl_param_row_new (const ClParam *p, const char *value)
{
  ClParamRow *self = g_object_new (CL_TYPE_PARAM_ROW, NULL);
  self->param = p;
  gtk_label_set_text (self->name_label, p->label);
  /* The key stays one hover away: it is what presets, --set and run.ini spell. */
  g_autofree char *tip = g_strdup_printf ("%s\n%s%s", p->key, p->help,
                                          (p->flags & CL_PARAM_LIVE) ? "" : "\n(Changing it restarts the run.)");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self), tip);
  self->updating = TRUE;
  GtkWidget *control;
  if (p->type == CL_PARAM_ENUM)
    {
      GtkStringList *list = gtk_string_list_new ((const char *const *) p->choices);
      gtk_drop_down_set_model (self->dropdown, G_LIST_MODEL (list));
      g_object_unref (list);
      control = GTK_WIDGET (self->dropdown);
      g_signal_connect_swapped (self->dropdown, "notify::selected", G_CALLBACK (on_control_changed), self);
    }
  else if (uses_scale (p))
    {
      double lo = (p->flags & CL_PARAM_LOG_SCALE) ? log_lower (p) : p->min, hi = to_position (p, p->max);
      double step = p->type == CL_PARAM_INT ? 1.0 : (hi - lo) / 200.0;
      GtkAdjustment *adj = gtk_adjustment_new (lo, lo, hi, step, step * 10, 0);
      gtk_range_set_adjustment (GTK_RANGE (self->scale), adj);
      if (p->type == CL_PARAM_INT)
        gtk_range_set_round_digits (GTK_RANGE (self->scale), 0);
      control = GTK_WIDGET (self->scale);
      g_signal_connect_swapped (self->scale, "value-changed", G_CALLBACK (on_control_changed), self);
    }
  else
    {
      GtkAdjustment *adj = gtk_adjustment_new (p->min, p->min, p->max, 1, 10, 0);
      gtk_spin_button_configure (self->spin, adj, 1, 0);
      control = GTK_WIDGET (self->spin);
      g_signal_connect_swapped (self->spin, "value-changed", G_CALLBACK (on_control_changed), self);
    }
  gtk_widget_set_visible (control, TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (control), GTK_ACCESSIBLE_PROPERTY_LABEL, p->label,
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, p->help, -1);
  self->updating = FALSE;
  cl_param_row_set_value (self, value);
  return GTK_WIDGET (self);
}

const ClParam *
cl_param_row_get_param (ClParamRow *self)
{
  return self->param;
}

GtkWidget *
cl_param_row_get_control (ClParamRow *self)
{
  const ClParam *p = self->param;
  if (p->type == CL_PARAM_ENUM)
    return GTK_WIDGET (self->dropdown);
  return uses_scale (p) ? GTK_WIDGET (self->scale) : GTK_WIDGET (self->spin);
}

void
cl_param_row_set_value (ClParamRow *self, const char *value)
{
  const ClParam *p = self->param;
  self->updating = TRUE;
  if (p->type == CL_PARAM_ENUM)
    {
      for (guint i = 0; p->choices[i]; i++)
        if (strcmp (p->choices[i], value) == 0)
          gtk_drop_down_set_selected (self->dropdown, i);
    }
  else
    {
      double v = g_ascii_strtod (value, NULL);
      if (uses_scale (p))
        gtk_range_set_value (GTK_RANGE (self->scale), to_position (p, v));
      else
        gtk_spin_button_set_value (self->spin, v);
    }
  self->updating = FALSE;
  show_value (self, value);
}

void
cl_param_row_set_pending (ClParamRow *self, gboolean pending)
{
  if (pending)
    gtk_widget_add_css_class (GTK_WIDGET (self), "pending");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self), "pending");
}
