#include "cl_figures.h"

#include "cl_geometry_plot.h"
#include "cl_loss_plot.h"
#include "cl_probe_plot.h"
#include "cl_views_plot.h"

typedef struct {
  const char *title;
  const char *slug;
  int width, height;
  const char *caption;
} FigureInfo;

static const FigureInfo figures[CL_N_FIGURES] = {
  [CL_FIGURE_LOSS] = { "Contrastive loss", "loss", 900, 500,
                       "What to look for: the total loss (= alignment + distribution) falls as the two views of each "
                       "image are pulled together (alignment goes down) while all images are pushed apart "
                       "(distribution). Contrastive accuracy is how often an image's most similar other view is its "
                       "own partner. Dashed lines mark where you changed a control." },
  [CL_FIGURE_PROBES] = { "Linear-probe accuracy", "probes", 900, 500,
                         "What to look for: a linear classifier fitted on the frozen representation y of held-out "
                         "images. Rising above the untrained encoder (step 0) and far above chance (dashed) means "
                         "the contrastive objective taught the encoder the class, though it never saw a label." },
  [CL_FIGURE_GEOMETRY] = { "Geometry of z", "geometry", 1200, 400,
                           "What to look for: the distribution term pushes z toward its prior (left: histogram of "
                           "z's coordinates against the prior's density). Alignment falls as views agree; uniformity "
                           "falls as z spreads. If the collapse indicator drops toward 0, every image maps to the "
                           "same point (try loss.lambda = 0 with decoupled or swd-*)." },
  [CL_FIGURE_VIEWS] = { "Augmented views", "views", 900, 420,
                        "What to look for: each column is one image of the current batch, and the two rows are the "
                        "two augmented views the loss must match. Whatever survives augmentation in both views (here, "
                        "the bit strip unless data.bit_resample re-draws it) is a shortcut the encoder can use instead "
                        "of the image content." },
};

const char *
cl_figure_title (ClFigureKind kind)
{
  return figures[kind].title;
}

const char *
cl_figure_slug (ClFigureKind kind)
{
  return figures[kind].slug;
}

const char *
cl_figure_caption (ClFigureKind kind)
{
  return figures[kind].caption;
}

void
cl_figure_export_size (ClFigureKind kind, int *width, int *height)
{
  *width = figures[kind].width;
  *height = figures[kind].height;
}

void
cl_figure_draw (ClFigureKind kind, cairo_t *cr, double w, double h, const ClSnapshot *s)
{
  switch (kind)
    {
    case CL_FIGURE_LOSS:
      {
        ClLossPlotStyle style;
        cl_loss_plot_style_init (&style);
        style.title = figures[kind].title;
        if (s)
          cl_loss_plot_draw (cr, w, h, s->rows, s->n_rows, s->events, s->n_events, &style);
        else
          cl_loss_plot_draw (cr, w, h, NULL, 0, NULL, 0, &style);
      }
      break;
    case CL_FIGURE_PROBES:
      cl_probe_plot_draw (cr, w, h, s ? s->probes : NULL, s ? s->n_probes : 0, s ? s->events : NULL,
                          s ? s->n_events : 0, figures[kind].title);
      break;
    case CL_FIGURE_GEOMETRY:
      {
        static const ClZHistogram empty;
        cl_geometry_plot_draw (cr, w, h, s ? s->rows : NULL, s ? s->n_rows : 0, s ? &s->zhist : &empty,
                               s ? s->events : NULL, s ? s->n_events : 0);
      }
      break;
    case CL_FIGURE_VIEWS:
      cl_views_plot_draw (cr, w, h, s ? &s->preview : NULL);
      break;
    case CL_N_FIGURES:
      break;
    }
}
