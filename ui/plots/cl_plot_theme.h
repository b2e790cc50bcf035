/* The one look of every figure: spacing, the type scale and the widths of marks, scaled
 * together by one factor (1.0 on screen at 1x and in exports; smaller at narrow widths, so a
 * figure's text keeps its proportion to the figure). Colours are in cl_plot_common.h.
 * Every renderer takes its sizes from here, so exported figures look like one family. */
#pragma once
#include "ui/plots/cl_plot_common.h"

typedef struct
{
  double scale;         /* the factor the sizes below were multiplied by */
  double pad;           /* 8: margin around a figure, between its title, legend and plot */
  double gap;           /* 10: between sub-figures, cells and cards */
  ClPlotAxisStyle axis; /* tick labels 11, axis titles 12 */
  /* the type scale */
  double title_font;        /* 14: a figure's title */
  double panel_title_font;  /* 13: the title of a sub-figure or of a dense figure */
  double heading_font;      /* 12: the title of an enlarged card */
  double header_font;       /* 11.5: column headers of a grid */
  double legend_font;       /* 11 */
  double label_font;        /* 11: group and row labels, a note under a title */
  double panel_legend_font; /* 10.5: legends and labels of sub-figures */
  double small_font;        /* 10: event labels, values on bars, captions, reference labels */
  double tiny_font;         /* 9.5: metrics under cells, event labels of sub-figures */
  double note_font;         /* 13: "waiting for the first step" */
  double panel_note_font;   /* 12.5: the same in a sub-figure */
  /* marks (not scaled: a line stays a line) */
  double line_width;          /* 1.8: a data series */
  double raw_width;           /* 1.0: the unsmoothed series under a smoothed one */
  double point_radius;        /* 3.2: a measurement on a line */
  double sparse_line_width;   /* 2.0: lines through a few measured points (sweeps) */
  double sparse_point_radius; /* 3.6: their points */
  double reference_width;     /* 1.2: chance levels and other reference lines */
  double overlay_alpha;       /* 0.3: earlier runs drawn faded under the current one */
  double overlay_width;       /* 1.0: their lines */
  double band_alpha;          /* 0.22: a mean +- std band */
} ClPlotTheme;

/* The theme at scale (1.0 = on screen at 1x; non-finite or <= 0 is taken as 1.0, and the scale
 * is kept within [0.25, 8]). */
ClPlotTheme cl_plot_theme (double scale);

/* The text scale of a figure drawn width wide whose layout was made for design_width: 1 at
 * design width and above, down to 0.72 at about 0.6 of it, so text keeps its proportion to the
 * plot in a narrow window without becoming unreadable. */
double cl_plot_theme_fit_scale (double width, double design_width);
