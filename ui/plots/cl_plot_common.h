/* The plot primitives, shared by every figure renderer (loss curves, similarity heatmap,
 * probe-accuracy chart, histograms, bar charts): colours, nice ticks, data->pixel scales,
 * text placement, axes, gridlines, legends, label placement, EMA smoothing and a
 * streaming polyline decimator.
 *
 * Everything here is pure cairo and works in user units: callers that export at 2x apply
 * cairo_scale() first and get the same layout, only sharper. Call cl_plot_text_setup()
 * once per cairo_t so that text metrics do not depend on the device scale. */
#pragma once
#include "ui/plots/cl_plot_color.h"
#include "ui/plots/cl_plot_scale.h"
#include "ui/plots/cl_plot_text.h"
#include "ui/plots/cl_plot_axis.h"
#include "ui/plots/cl_plot_legend.h"
#include "ui/plots/cl_plot_labels.h"
#include "ui/plots/cl_plot_line.h"
