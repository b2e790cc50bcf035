/* One knob of the parameter table: name, value with unit, and a slider (log scale where the
 * table says so), a spin button for wide integer ranges, or a drop-down for choices.
 * Tooltip = the table's help text. Emits "value-changed" with the new value as text
 * (C locale), debounced while a slider is dragged. */
#pragma once
#include <gtk/gtk.h>
#include "engine/base/cl_params.h"

G_BEGIN_DECLS
#define CL_TYPE_PARAM_ROW (cl_param_row_get_type ())
G_DECLARE_FINAL_TYPE (ClParamRow, cl_param_row, CL, PARAM_ROW, GtkBox)

GtkWidget *cl_param_row_new (const ClParam *param, const char *value);
const ClParam *cl_param_row_get_param (ClParamRow *row);
/* Shows value without emitting "value-changed". */
void cl_param_row_set_value (ClParamRow *row, const char *value);
/* Marks the row as changed-but-not-applied (a restart parameter waiting for a restart). */
void cl_param_row_set_pending (ClParamRow *row, gboolean pending);
/* The interactive widget (GtkScale, GtkSpinButton or GtkDropDown), e.g. for tests and focus. */
GtkWidget *cl_param_row_get_control (ClParamRow *row);
G_END_DECLS
