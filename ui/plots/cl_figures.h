/* Every figure of a run, drawn from one snapshot: the single drawing path used by the
 * window, by export (PNG/SVG/PDF surfaces) and by the headless CLI. */
#pragma once
#include <cairo.h>
#include "engine/cl_snapshot.h"

typedef enum {
  CL_FIGURE_LOSS,
  CL_FIGURE_PROBES,
  CL_FIGURE_GEOMETRY,
  CL_FIGURE_VIEWS,
  CL_N_FIGURES
} ClFigureKind;

/* Human title ("Contrastive loss"), file stem ("loss"), and the size exports use. */
const char *cl_figure_title (ClFigureKind kind);
const char *cl_figure_slug (ClFigureKind kind);
void cl_figure_export_size (ClFigureKind kind, int *width, int *height);
/* A short 'what to look for' caption for students. */
const char *cl_figure_caption (ClFigureKind kind);

void cl_figure_draw (ClFigureKind kind, cairo_t *cr, double width, double height, const ClSnapshot *snap);
