/* One knob of the parameter table: its label, the value with unit (click it to type one), and a
 * slider (log scale where the table says so), a spin button for wide integer ranges, or a
 * drop-down for choices. Tooltip = the key and the table's help text. Emits "value-changed" with
 * the new value as text (C locale): once per drag (at release), debounced for keys.
 * The mouse wheel changes the value only once the control was clicked or focused; otherwise it
 * scrolls the enclosing GtkScrolledWindow. */
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
/* What typing text into the value and pressing Enter does: a number in range, or "auto" where the
 * table has one; sends it at once. FALSE (and why, in reason) leaves everything unchanged. */
gboolean cl_param_row_commit_text (ClParamRow *row, const char *text, char **reason);
/* Marks the row as changed-but-not-applied (a restart parameter waiting for a restart). */
void cl_param_row_set_pending (ClParamRow *row, gboolean pending);
/* Marks the row as doing nothing for the next run (why: the sentence saying so, from
 * cl_param_why_unused; NULL: it acts): dimmed, the tooltip starts with why. The value can still
 * be set, for a later switch of data or loss kind. */
void cl_param_row_set_unused (ClParamRow *row, const char *why);
/* FALSE while the row is marked as not applying. */
gboolean cl_param_row_get_applies (ClParamRow *row);
/* The interactive widget (GtkScale, GtkSpinButton or GtkDropDown), e.g. for tests and focus. */
GtkWidget *cl_param_row_get_control (ClParamRow *row);
G_END_DECLS
