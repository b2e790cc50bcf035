/* "What the model sees": both augmented views of the first images of the latest batch,
 * with each view's appended bit code drawn as a strip of squares under it. */
#pragma once
#include <cairo.h>
#include "engine/cl_snapshot.h"

void cl_views_plot_draw (cairo_t *cr, double width, double height, const ClViewPreview *preview);
