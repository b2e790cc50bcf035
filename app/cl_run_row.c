/* One row of the run list: see cl_run_row.h. */
#include "app/cl_run_row.h"

struct _ClRunRow
{
  GtkBox parent_instance;
  GtkWidget *check;
  GtkWidget *title, *summary, *detail, *note;
  GtkWidget *menu;
  ClRunEntry *entry;
  GPtrArray *bindings;
};

G_DEFINE_FINAL_TYPE (ClRunRow, cl_run_row, GTK_TYPE_BOX)

static gboolean
text_to_visible (GBinding *binding, const GValue *from, GValue *to, gpointer data)
{
  (void) binding;
  (void) data;
  const char *text = g_value_get_string (from);
  g_value_set_boolean (to, text && *text);
  return TRUE;
}

void
cl_run_row_bind (ClRunRow *self, ClRunEntry *e, GMenuModel *menu)
{
  cl_run_row_unbind (self);
  self->entry = g_object_ref (e);
  GPtrArray *b = self->bindings;
  g_ptr_array_add (b, g_object_bind_property (e, "title", self->title, "label", G_BINDING_SYNC_CREATE));
  g_ptr_array_add (b, g_object_bind_property (e, "summary", self->summary, "label", G_BINDING_SYNC_CREATE));
  g_ptr_array_add (b, g_object_bind_property (e, "detail", self->detail, "label", G_BINDING_SYNC_CREATE));
  g_ptr_array_add (b, g_object_bind_property (e, "note", self->note, "label", G_BINDING_SYNC_CREATE));
  g_ptr_array_add (b, g_object_bind_property_full (e, "note", self->note, "visible", G_BINDING_SYNC_CREATE,
                                                   text_to_visible, NULL, NULL, NULL));
  g_ptr_array_add (b, g_object_bind_property (e, "tooltip", self, "tooltip-text", G_BINDING_SYNC_CREATE));
  g_ptr_array_add (
      b, g_object_bind_property (e, "overlay", self->check, "active", G_BINDING_SYNC_CREATE | G_BINDING_BIDIRECTIONAL));
  g_ptr_array_add (b, g_object_bind_property (e, "can-overlay", self->check, "sensitive", G_BINDING_SYNC_CREATE));
  g_autofree char *name = g_strdup_printf ("Overlay %s", cl_run_entry_label (e));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->check), GTK_ACCESSIBLE_PROPERTY_LABEL, name, -1);
  gtk_menu_button_set_menu_model (GTK_MENU_BUTTON (self->menu), menu);
  g_autofree char *menu_name = g_strdup_printf ("Actions for %s", cl_run_entry_label (e));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->menu), GTK_ACCESSIBLE_PROPERTY_LABEL, menu_name, -1);
}

void
cl_run_row_unbind (ClRunRow *self)
{
  for (guint i = 0; i < self->bindings->len; i++)
    g_binding_unbind (self->bindings->pdata[i]);
  g_ptr_array_set_size (self->bindings, 0);
  g_clear_object (&self->entry);
}

GtkWidget *
cl_run_row_new (void)
{
  return g_object_new (CL_TYPE_RUN_ROW, NULL);
}

static void
cl_run_row_dispose (GObject *object)
{
  ClRunRow *self = CL_RUN_ROW (object);
  if (self->bindings)
    cl_run_row_unbind (self);
  g_clear_pointer (&self->bindings, g_ptr_array_unref);
  gtk_widget_dispose_template (GTK_WIDGET (self), CL_TYPE_RUN_ROW);
  G_OBJECT_CLASS (cl_run_row_parent_class)->dispose (object);
}

static void
cl_run_row_class_init (ClRunRowClass *klass)
{
  GtkWidgetClass *wc = GTK_WIDGET_CLASS (klass);
  G_OBJECT_CLASS (klass)->dispose = cl_run_row_dispose;
  gtk_widget_class_set_template_from_resource (wc, "/org/contrastlab/ContrastLab/cl-run-row.ui");
  gtk_widget_class_bind_template_child (wc, ClRunRow, check);
  gtk_widget_class_bind_template_child (wc, ClRunRow, title);
  gtk_widget_class_bind_template_child (wc, ClRunRow, summary);
  gtk_widget_class_bind_template_child (wc, ClRunRow, detail);
  gtk_widget_class_bind_template_child (wc, ClRunRow, note);
  gtk_widget_class_bind_template_child (wc, ClRunRow, menu);
}

static void
cl_run_row_init (ClRunRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->bindings = g_ptr_array_new ();
}
