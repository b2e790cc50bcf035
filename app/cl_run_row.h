/* One row of the run list, from the template resources/cl-run-row.ui: the overlay tick, the
 * run's title, parameters, results and note, and its ⋮ menu. The list's factory makes one per
 * visible row and binds it to a ClRunEntry (the texts follow the entry; the tick is the entry's
 * "overlay", both ways). */
#pragma once
#include <gtk/gtk.h>

#include "app/cl_run_entry.h"

G_BEGIN_DECLS

#define CL_TYPE_RUN_ROW (cl_run_row_get_type ())
G_DECLARE_FINAL_TYPE (ClRunRow, cl_run_row, CL, RUN_ROW, GtkBox)

GtkWidget *cl_run_row_new (void);
/* Shows e (the row holds a reference until unbound); menu: the row's ⋮ menu. */
void cl_run_row_bind (ClRunRow *row, ClRunEntry *e, GMenuModel *menu);
void cl_run_row_unbind (ClRunRow *row);

G_END_DECLS
