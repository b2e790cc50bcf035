#include "ui/cl_param_row.h"

#include <math.h>
#include <string.h>

/* Dragging a slider produces dozens of values a second; the engine records each applied
 * change as an event on the charts, so only the value the user settles on is sent. */
#define DEBOUNCE_MS 150

struct _ClParamRow
{
  GtkBox parent_instance;
  const ClParam *param;
  GtkLabel *name_label;
  GtkLabel *value_label;
  GtkStack *value_stack;
  GtkButton *value_button;
  GtkEntry *value_entry;
  GtkScale *scale;
  GtkSpinButton *spin;
  GtkDropDown *dropdown;
  gboolean updating;
  gboolean dragging; /* a mouse button is down on the control: send the value on release */
  char *sent;        /* the value last shown or sent: a click that moves nothing sends nothing */
  guint debounce_id;
  gboolean not_applicable; /* does nothing for the next run's data.kind or loss.kind (dimmed) */
};

G_DEFINE_FINAL_TYPE (ClParamRow, cl_param_row, GTK_TYPE_BOX)

enum
{
  SIGNAL_VALUE_CHANGED,
  N_SIGNALS
};
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

/* The value that means "choose automatically", shown and typed as "auto". */
static gboolean
is_auto_value (const ClParam *p, double v)
{
  return (is_auto (p) && v < 0) || ((p->flags & CL_PARAM_ZERO_IS_AUTO) && v == 0);
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
  if (self->param->type != CL_PARAM_ENUM && is_auto_value (self->param, g_ascii_strtod (text, NULL)))
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
  g_free (self->sent);
  self->sent = g_strdup (text);
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
  self->debounce_id = 0;
  if (self->dragging)
    return; /* one drag, one change: sent when the button is released */
  if (self->param->type == CL_PARAM_ENUM)
    emit_now (self);
  else
    self->debounce_id = g_timeout_add (DEBOUNCE_MS, emit_now, self);
}

static gboolean
control_has_focus (ClParamRow *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkWidget *focus = root ? gtk_root_get_focus (root) : NULL;
  GtkWidget *control = cl_param_row_get_control (self);
  return focus && (focus == control || gtk_widget_is_ancestor (focus, control));
}

/* Scrolled settings panels, the GNOME way: the wheel over a control that has not been clicked or
 * focused scrolls the panel, and never changes the value (an unnoticed change would corrupt the
 * experiment: it is applied and recorded as a live event). A focused control takes the wheel. */
static gboolean
on_scroll (GtkEventControllerScroll *controller, double dx, double dy, ClParamRow *self)
{
  (void) dx;
  if (control_has_focus (self))
    return FALSE;
  GtkWidget *sw = gtk_widget_get_ancestor (GTK_WIDGET (self), GTK_TYPE_SCROLLED_WINDOW);
  if (sw)
    {
      GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (sw));
      double page = gtk_adjustment_get_page_size (adj);
      /* GtkScrolledWindow's own step for a wheel notch; smooth deltas are pixels. */
      double step =
          gtk_event_controller_scroll_get_unit (controller) == GDK_SCROLL_UNIT_WHEEL ? pow (page, 2.0 / 3.0) : 1.0;
      double top = gtk_adjustment_get_upper (adj) - page;
      gtk_adjustment_set_value (adj, CLAMP (gtk_adjustment_get_value (adj) + dy * step, gtk_adjustment_get_lower (adj),
                                            MAX (top, gtk_adjustment_get_lower (adj))));
    }
  return TRUE;
}

/* Sees every button press and release on the control before the control does, without taking
 * part in its gestures (which would cancel a GtkGesture here). */
static gboolean
on_control_event (GtkEventControllerLegacy *controller, GdkEvent *event, ClParamRow *self)
{
  (void) controller;
  GdkEventType type = gdk_event_get_event_type (event);
  if (type == GDK_BUTTON_PRESS)
    {
      /* A click focuses the control, so the wheel may adjust it from now on. */
      if (!control_has_focus (self))
        gtk_widget_grab_focus (cl_param_row_get_control (self));
      if (uses_scale (self->param))
        self->dragging = TRUE;
    }
  else if (type == GDK_BUTTON_RELEASE && self->dragging)
    {
      self->dragging = FALSE;
      g_autofree char *text = current_text (self);
      if (g_strcmp0 (text, self->sent) != 0)
        emit_now (self);
    }
  return FALSE;
}

/* Parses what the user typed: a number in range ("auto" where the table has one), an integer for
 * integer parameters. Returns the value as C-locale text, or NULL with a reason. */
static char *
parse_typed (const ClParam *p, const char *typed, char **reason)
{
  g_autofree char *t = g_strstrip (g_strdup (typed));
  double v;
  if (g_ascii_strcasecmp (t, "auto") == 0 && (p->flags & (CL_PARAM_NEGATIVE_IS_AUTO | CL_PARAM_ZERO_IS_AUTO)))
    v = is_auto (p) ? -1 : 0;
  else
    {
      /* A comma as decimal separator is what many people type. */
      g_strdelimit (t, ",", '.');
      char *end = NULL;
      v = g_ascii_strtod (t, &end);
      if (!*t || end == t || *end || !isfinite (v))
        {
          *reason = g_strdup_printf ("“%s” is not a number", typed);
          return NULL;
        }
      if (p->type == CL_PARAM_INT && v != floor (v))
        {
          *reason = g_strdup ("a whole number is expected");
          return NULL;
        }
      if (v < p->min || v > p->max)
        {
          char lo[32], hi[32];
          g_ascii_formatd (lo, sizeof lo, "%g", is_auto (p) ? 0 : p->min);
          g_ascii_formatd (hi, sizeof hi, "%g", p->max);
          *reason = g_strdup_printf ("expected %s to %s%s", lo, hi, is_auto (p) ? ", or auto" : "");
          return NULL;
        }
      if (is_auto (p) && v < 0)
        v = -1;
    }
  char buf[32];
  if (p->type == CL_PARAM_INT)
    g_snprintf (buf, sizeof buf, "%d", (int) v);
  else
    g_ascii_formatd (buf, sizeof buf, "%.6g", v);
  return g_strdup (buf);
}

static void
stop_editing (ClParamRow *self)
{
  gtk_widget_remove_css_class (GTK_WIDGET (self->value_entry), "error");
  gtk_stack_set_visible_child_name (self->value_stack, "show");
}

static void
on_value_clicked (ClParamRow *self)
{
  g_autofree char *text = current_text (self);
  const char *shown = gtk_label_get_text (self->value_label);
  gtk_editable_set_text (GTK_EDITABLE (self->value_entry), strcmp (shown, "auto") == 0 ? "auto" : text);
  gtk_stack_set_visible_child_name (self->value_stack, "edit");
  gtk_widget_grab_focus (GTK_WIDGET (self->value_entry));
  gtk_editable_select_region (GTK_EDITABLE (self->value_entry), 0, -1);
}

static void
on_entry_activate (ClParamRow *self)
{
  g_autofree char *reason = NULL;
  if (!cl_param_row_commit_text (self, gtk_editable_get_text (GTK_EDITABLE (self->value_entry)), &reason))
    {
      gtk_widget_add_css_class (GTK_WIDGET (self->value_entry), "error");
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->value_entry), reason);
    }
}

gboolean
cl_param_row_commit_text (ClParamRow *self, const char *typed, char **reason)
{
  g_return_val_if_fail (self->param->type != CL_PARAM_ENUM, FALSE);
  g_autofree char *why = NULL;
  g_autofree char *value = parse_typed (self->param, typed, &why);
  if (!value)
    {
      if (reason)
        *reason = g_steal_pointer (&why);
      return FALSE;
    }
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->value_entry), NULL);
  stop_editing (self);
  gtk_widget_grab_focus (cl_param_row_get_control (self));
  if (self->debounce_id)
    g_source_remove (self->debounce_id);
  self->debounce_id = 0;
  cl_param_row_set_value (self, value);
  /* The typed value is sent as typed (the slider may only come near it). */
  g_free (self->sent);
  self->sent = g_strdup (value);
  g_signal_emit (self, signals[SIGNAL_VALUE_CHANGED], 0, value);
  return TRUE;
}

static gboolean
on_entry_key (GtkEventControllerKey *controller, guint keyval, guint keycode, GdkModifierType state, ClParamRow *self)
{
  (void) controller, (void) keycode, (void) state;
  if (keyval != GDK_KEY_Escape)
    return FALSE;
  stop_editing (self);
  gtk_widget_grab_focus (GTK_WIDGET (self->value_button));
  return TRUE;
}

/* Leaving the entry without Enter keeps the old value: nothing changes by accident. */
static void
on_entry_leave (ClParamRow *self)
{
  if (strcmp (gtk_stack_get_visible_child_name (self->value_stack), "edit") == 0)
    stop_editing (self);
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
  g_clear_pointer (&self->sent, g_free);
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
  gtk_widget_class_bind_template_child (wc, ClParamRow, value_stack);
  gtk_widget_class_bind_template_child (wc, ClParamRow, value_button);
  gtk_widget_class_bind_template_child (wc, ClParamRow, value_entry);
  gtk_widget_class_bind_template_child (wc, ClParamRow, scale);
  gtk_widget_class_bind_template_child (wc, ClParamRow, spin);
  gtk_widget_class_bind_template_child (wc, ClParamRow, dropdown);
  signals[SIGNAL_VALUE_CHANGED] = g_signal_new ("value-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                                NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
cl_param_row_init (ClParamRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect_swapped (self->value_button, "clicked", G_CALLBACK (on_value_clicked), self);
  g_signal_connect_swapped (self->value_entry, "activate", G_CALLBACK (on_entry_activate), self);
  GtkEventController *keys = gtk_event_controller_key_new ();
  g_signal_connect (keys, "key-pressed", G_CALLBACK (on_entry_key), self);
  gtk_widget_add_controller (GTK_WIDGET (self->value_entry), keys);
  GtkEventController *focus = gtk_event_controller_focus_new ();
  g_signal_connect_swapped (focus, "leave", G_CALLBACK (on_entry_leave), self);
  gtk_widget_add_controller (GTK_WIDGET (self->value_entry), focus);
}

/* GTK 4.8 does not wrap a tooltip's text: a parameter's one-line help ran off the screen's edge.
 * The tooltip shows the row's tooltip text in a wrapping label instead. */
static gboolean
on_query_tooltip (GtkWidget *widget, int x, int y, gboolean keyboard, GtkTooltip *tooltip, gpointer data)
{
  (void) x;
  (void) y;
  (void) keyboard;
  (void) data;
  const char *text = gtk_widget_get_tooltip_text (widget);
  if (!text)
    return FALSE;
  GtkWidget *label = gtk_label_new (text);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_max_width_chars (GTK_LABEL (label), 72);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_tooltip_set_custom (tooltip, label);
  return TRUE;
}

/* The key stays one hover away: it is what presets, --set and run.ini spell. A row that does
 * nothing for the next run's data.kind says so first. */
static void
update_tooltip (ClParamRow *self, const char *why)
{
  const ClParam *p = self->param;
  g_autofree char *tip = g_strdup_printf ("%s%s%s\n%s%s", why ? why : "", why ? "\n\n" : "", p->key, p->help,
                                          (p->flags & CL_PARAM_LIVE) ? "" : "\n(Changing it restarts the run.)");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self), tip);
}

GtkWidget *
cl_param_row_new (const ClParam *p, const char *value)
{
  ClParamRow *self = g_object_new (CL_TYPE_PARAM_ROW, NULL);
  self->param = p;
  g_signal_connect (self, "query-tooltip", G_CALLBACK (on_query_tooltip), NULL);
  gtk_label_set_text (self->name_label, p->label);
  update_tooltip (self, NULL);
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
  /* Choices are picked from the drop-down; numbers can also be typed. */
  if (p->type == CL_PARAM_ENUM)
    gtk_widget_set_visible (GTK_WIDGET (self->value_stack), FALSE);
  else
    {
      g_autofree char *name = g_strdup_printf ("Type a value for %s", p->label);
      gtk_accessible_update_property (GTK_ACCESSIBLE (self->value_button), GTK_ACCESSIBLE_PROPERTY_LABEL, name, -1);
    }
  GtkEventController *scroll = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_BOTH_AXES);
  gtk_event_controller_set_propagation_phase (scroll, GTK_PHASE_CAPTURE);
  g_signal_connect (scroll, "scroll", G_CALLBACK (on_scroll), self);
  gtk_widget_add_controller (GTK_WIDGET (self), scroll);
  GtkEventController *legacy = gtk_event_controller_legacy_new ();
  gtk_event_controller_set_propagation_phase (legacy, GTK_PHASE_CAPTURE);
  g_signal_connect (legacy, "event", G_CALLBACK (on_control_event), self);
  gtk_widget_add_controller (control, legacy);
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
  g_free (self->sent);
  self->sent = current_text (self);
  show_value (self, value);
}

void
cl_param_row_set_unused (ClParamRow *self, const char *why)
{
  self->not_applicable = why != NULL;
  if (why)
    gtk_widget_add_css_class (GTK_WIDGET (self), "not-applicable");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self), "not-applicable");
  update_tooltip (self, why);
  GtkWidget *control = cl_param_row_get_control (self);
  g_autofree char *description = why ? g_strdup_printf ("%s %s", why, self->param->help) : g_strdup (self->param->help);
  gtk_accessible_update_property (GTK_ACCESSIBLE (control), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, description, -1);
}

gboolean
cl_param_row_get_applies (ClParamRow *self)
{
  return !self->not_applicable;
}

void
cl_param_row_set_pending (ClParamRow *self, gboolean pending)
{
  if (pending)
    gtk_widget_add_css_class (GTK_WIDGET (self), "pending");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self), "pending");
}
