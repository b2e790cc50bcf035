/* Snapshots of runs for the Views figure's tests (tests/figures/test_views_plot.c, the figure
 * widget's test_figure_view.c): a run's configuration and a preview of augmented views. */
#pragma once
#include <glib.h>
#include <math.h>

#include "engine/base/cl_params.h"
#include "engine/train/cl_snapshot.h"

/* run.ini text of the defaults with data.kind, data.bits and train.batch set. */
static inline char *
config_text (const char *kind, int bits, int batch)
{
  ClConfig cfg;
  cl_config_init (&cfg);
  GError *error = NULL;
  g_autofree char *b = g_strdup_printf ("%d", bits), *n = g_strdup_printf ("%d", batch);
  g_assert_true (cl_config_set (&cfg, "data.kind", kind, &error));
  g_assert_true (cl_config_set (&cfg, "data.bits", b, &error));
  g_assert_true (cl_config_set (&cfg, "train.batch", n, &error));
  return cl_config_to_ini (&cfg);
}

/* A snapshot of a run of data.kind with `bits` bit planes whose preview holds six 28x28 pairs. */
static inline ClSnapshot *
snapshot_with_views (const char *kind, int bits)
{
  ClSnapshot *s = cl_snapshot_new_from_rows (NULL, 0, NULL, 0, NULL, 0, NULL, 0, config_text (kind, bits, 256));
  ClViewPreview *p = &s->preview;
  p->n_pairs = CL_PREVIEW_PAIRS;
  p->channels = 1;
  p->height = p->width = 28;
  p->bits = bits;
  p->step = 30;
  size_t count = (size_t) 2 * p->n_pairs * 28 * 28;
  p->pixels = g_new (float, count);
  for (size_t i = 0; i < count; i++)
    p->pixels[i] = 0.5f + 0.4f * sinf ((float) i * 0.37f);
  for (int i = 0; i < p->n_pairs; i++)
    p->codes[i][0] = p->codes[i][1] = (uint32_t) (37u * i + 5u) & ((1u << MAX (bits, 1)) - 1u);
  return s;
}
