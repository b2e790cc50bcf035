/* The words around the figures that depend on what a run holds: captions fitted to the data
 * kind and to what the curves did, and class names (the dataset's, from engine/data). */
#include "ui/plots/cl_figures.h"

#include "engine/base/cl_params.h"
#include "engine/data/cl_data.h"
#include "engine/data/cl_scenes.h"

#include <math.h>
#include <string.h>

/* A change of the class probe within this much reads as "about level": the run-to-run spread
 * of a probe on a few hundred held-out images is of this size. */
#define LEVEL_TOLERANCE 0.02

/* snap's configuration; FALSE (and the defaults) when it has none or it does not parse. */
static gboolean
snap_config (const ClSnapshot *snap, ClConfig *cfg)
{
  cl_config_init (cfg);
  return snap != NULL && snap->config_ini != NULL && cl_config_load_data (cfg, snap->config_ini, "run.ini", NULL);
}

const char *
cl_figure_class_name (const ClSnapshot *snap, int label)
{
  ClConfig cfg;
  /* a data.path folder may hold any MNIST-format dataset: its labels are numbers only */
  if (!snap_config (snap, &cfg) || cfg.data_path[0] != '\0')
    return NULL;
  return cl_data_class_name (cfg.data_base, label);
}

int
cl_figure_class_names (const ClSnapshot *snap, const char **names, int max)
{
  ClConfig cfg;
  gboolean named = snap_config (snap, &cfg) && cfg.data_path[0] == '\0';
  int n = 0;
  for (int k = 0; k < max; k++)
    {
      names[k] = named ? cl_data_class_name (cfg.data_base, k) : NULL;
      n = names[k] != NULL ? k + 1 : n;
    }
  return n;
}

static void
append_class (GString *t, const ClSnapshot *snap, int label)
{
  const char *name = cl_figure_class_name (snap, label);
  if (name != NULL)
    g_string_append (t, name);
  else
    g_string_append_printf (t, "class %d", label);
}

char *
cl_figure_similarity_tooltip (const ClSnapshot *snap, int row, int col)
{
  const ClSimilarity *s = snap != NULL ? &snap->similarity : NULL;
  if (s == NULL || s->m <= 0 || row < 0 || col < 0 || row >= 2 * s->m || col >= 2 * s->m)
    return NULL;
  int m = s->m;
  GString *t = g_string_new (NULL);
  g_string_append_printf (t, "image %d view %d (", row % m, row / m + 1);
  append_class (t, snap, s->label[row]);
  g_string_append_printf (t, ") vs image %d view %d (", col % m, col / m + 1);
  append_class (t, snap, s->label[col]);
  g_string_append_printf (t, "): %.3f", s->sim[(size_t) row * 2 * m + col]);
  return g_string_free (t, FALSE);
}

/* The class probe at step 0 and at the last step after it; FALSE without both. */
static gboolean
class_probe_ends (const ClSnapshot *snap, double *untrained, double *last, gint64 *last_step)
{
  *untrained = *last = NAN;
  *last_step = -1;
  for (int i = 0; snap != NULL && i < snap->n_probes; i++)
    {
      const ClProbeRow *r = &snap->probes[i];
      if (strncmp (r->target, "class", sizeof r->target) != 0 || !isfinite (r->accuracy))
        continue;
      if (r->step == 0)
        *untrained = r->accuracy;
      else if (r->step >= *last_step)
        {
          *last = r->accuracy;
          *last_step = r->step;
        }
    }
  return isfinite (*untrained) && isfinite (*last);
}

/* What in this data kind competes with the class (an easier way to tell the images apart), for
 * the sentence on a falling class probe; NULL when nothing does. */
static const char *
competitor (const ClConfig *cfg)
{
  switch (cfg->data_kind)
    {
    case CL_SCENE_RANDBITS:
      return cfg->data_bits > 0 ? "their random bits" : NULL;
    case CL_SCENE_OVERLAY:
      return "the overlaid pattern";
    case CL_SCENE_TWO_OBJECTS:
      return "the other item";
    default:
      return NULL;
    }
}

static char *
probes_caption (const ClSnapshot *snap)
{
  GString *t = g_string_new ("What to look for: a linear classifier fitted on the frozen representation y of "
                             "held-out images, one line per target; hollow points are the untrained encoder "
                             "(step 0), dashed lines chance. ");
  ClConfig cfg;
  gboolean have_config = snap_config (snap, &cfg);
  double untrained, last;
  gint64 step;
  if (!class_probe_ends (snap, &untrained, &last, &step))
    {
      g_string_append (t, "Whether training lifts the class above the untrained encoder shows once the probes "
                          "have run after step 0.");
      if (have_config && cfg.data_kind == CL_SCENE_RANDBITS)
        g_string_append (t, " With random bits (data.bits) the class can fall instead: feature suppression.");
      return g_string_free (t, FALSE);
    }
  double change = last - untrained;
  if (change > LEVEL_TOLERANCE)
    g_string_append_printf (t,
                            "Here the class probe rose from %.2f (untrained) to %.2f at step %" G_GINT64_FORMAT
                            ": the contrastive objective taught the encoder the class, though it never saw a label.",
                            untrained, last, (gint64) step);
  else if (change < -LEVEL_TOLERANCE)
    {
      g_string_append_printf (t,
                              "Here the class probe fell from %.2f (untrained) to %.2f at step %" G_GINT64_FORMAT
                              ": training made the class harder to read off y.",
                              untrained, last, (gint64) step);
      const char *what = have_config ? competitor (&cfg) : NULL;
      if (what != NULL)
        g_string_append_printf (
            t, " The images can be told apart by %s instead, an easier feature, and the class is suppressed.", what);
      if (have_config && cfg.data_kind == CL_SCENE_RANDBITS && cfg.data_bits > 0)
        g_string_append (t, " Raise data.bit_resample to hand the class back.");
    }
  else
    g_string_append_printf (
        t, "Here the class probe stayed about level: %.2f untrained, %.2f at step %" G_GINT64_FORMAT ".", untrained,
        last, (gint64) step);
  return g_string_free (t, FALSE);
}

static char *
views_caption (const ClSnapshot *snap)
{
  ClConfig cfg;
  if (!snap_config (snap, &cfg))
    return g_strdup (cl_figure_caption (CL_FIGURE_VIEWS));
  const char *shortcut = NULL;
  if (cfg.data_kind == CL_SCENE_RANDBITS && cfg.data_bits > 0)
    shortcut = cfg.data_bit_resample > 0.0 ? " (here, the bit strip, except where data.bit_resample re-draws it)"
                                           : " (here, the bit strip: both views carry the same bits)";
  else if (cfg.data_kind == CL_SCENE_OVERLAY)
    shortcut = " (here, the overlaid pattern)";
  return g_strdup_printf ("What to look for: each column is one image of the current batch, and the two rows are the "
                          "two augmented views the loss must match. Whatever survives augmentation in both views%s "
                          "is a shortcut the encoder can use instead of the image content.",
                          shortcut != NULL ? shortcut : "");
}

char *
cl_figure_caption_for (ClFigureKind kind, const ClSnapshot *snap)
{
  if (kind < 0 || kind >= CL_N_FIGURES)
    return NULL;
  if (snap == NULL)
    return g_strdup (cl_figure_caption (kind));
  if (kind == CL_FIGURE_PROBES)
    return probes_caption (snap);
  if (kind == CL_FIGURE_VIEWS)
    return views_caption (snap);
  return g_strdup (cl_figure_caption (kind));
}
