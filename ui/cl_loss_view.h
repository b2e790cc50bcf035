/* On-screen loss chart: a thin widget over the shared cairo renderer. */
#pragma once
#include <gtk/gtk.h>
#include "engine/cl_snapshot.h"

G_BEGIN_DECLS
#define CL_TYPE_LOSS_VIEW (cl_loss_view_get_type ())
G_DECLARE_FINAL_TYPE (ClLossView, cl_loss_view, CL, LOSS_VIEW, GtkWidget)

GtkWidget *cl_loss_view_new (void);
/* Takes a new reference; redraws. NULL shows an empty chart. */
void cl_loss_view_set_snapshot (ClLossView *view, ClSnapshot *snap);
G_END_DECLS
