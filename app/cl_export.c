#include "cl_export.h"

#include <math.h>
#include <string.h>

#include "cl_config.h"
#include "ui/cl_png.h"
#include "ui/plots/cl_figures.h"

typedef struct {
  ClFigureKind kind;
  const ClSnapshot *snap;
  const ClFigureOptions *options;
} FigureJob;

static void
draw_figure (cairo_t *cr, double w, double h, gpointer data)
{
  const FigureJob *job = data;
  cl_figure_draw_with (job->kind, cr, w, h, job->snap, job->options);
}

gboolean
cl_export_figure_png (const char *path, ClFigureKind kind, const ClSnapshot *snap, double scale, GError **error)
{
  return cl_export_figure_png_with (path, kind, snap, NULL, scale, error);
}

gboolean
cl_export_figure_png_with (const char *path, ClFigureKind kind, const ClSnapshot *snap, const ClFigureOptions *options,
                           double scale, GError **error)
{
  g_autofree char *step = g_strdup_printf ("%" G_GINT64_FORMAT, snap->step);
  const ClPngText texts[] = {
    { "Software", "ContrastLab " CL_VERSION },
    { "Title", cl_figure_title (kind) },
    { "contrastlab:config", snap->config_ini ? snap->config_ini : "" },
    { "contrastlab:step", step },
  };
  int width, height;
  cl_figure_export_size (kind, &width, &height);
  FigureJob job = { kind, snap, options };
  return cl_png_export_figure (path, width, height, scale, draw_figure, &job, texts, G_N_ELEMENTS (texts), error);
}

gboolean
cl_config_apply_preset (ClConfig *cfg, const char *name_or_file, GError **error)
{
  g_autofree char *path = cl_preset_resolve (name_or_file, error);
  if (!path)
    return FALSE;
  if (g_str_has_suffix (path, ".png") || g_str_has_suffix (path, ".PNG"))
    {
      GHashTable *texts = NULL;
      if (!cl_png_read_text (path, &texts, error))
        return FALSE;
      const char *ini = g_hash_table_lookup (texts, "contrastlab:config");
      gboolean ok;
      if (!ini)
        {
          g_set_error (error, CL_CONFIG_ERROR, CL_CONFIG_ERROR_FILE,
                       "%s: this PNG has no contrastlab:config text chunk (was it exported by ContrastLab?)", path);
          ok = FALSE;
        }
      else
        ok = cl_config_load_data (cfg, ini, path, error);
      g_hash_table_unref (texts);
      return ok;
    }
  return cl_config_load_file (cfg, path, error);
}

char *
cl_export_metrics_csv (const ClSnapshot *snap)
{
  GString *out = g_string_new ("step,seconds,loss,alignment,distribution,contrastive_acc,temperature,lr,wi_alignment,wi_uniformity,z_std,code_collision\n");
  char a[G_ASCII_DTOSTR_BUF_SIZE];
  for (int i = 0; i < snap->n_rows; i++)
    {
      const ClMetricRow *r = &snap->rows[i];
      g_string_append_printf (out, "%" G_GINT64_FORMAT, r->step);
      const float values[] = { r->seconds, r->loss, r->alignment, r->distribution, r->contrastive_acc,
                               r->temperature, r->lr, r->wi_alignment, r->wi_uniformity, r->z_std, r->code_collision };
      for (gsize k = 0; k < G_N_ELEMENTS (values); k++)
        {
          g_string_append_c (out, ',');
          /* Not applicable (e.g. code_collision without bits) is an empty field, not "nan". */
          if (isfinite (values[k]))
            g_string_append (out, g_ascii_formatd (a, sizeof a, "%.7g", values[k]));
        }
      g_string_append_c (out, '\n');
    }
  return g_string_free (out, FALSE);
}

char *
cl_export_probes_csv (const ClSnapshot *snap)
{
  GString *out = g_string_new ("step,target,accuracy,chance\n");
  char a[G_ASCII_DTOSTR_BUF_SIZE], b[G_ASCII_DTOSTR_BUF_SIZE];
  for (int i = 0; i < snap->n_probes; i++)
    {
      const ClProbeRow *p = &snap->probes[i];
      g_ascii_formatd (a, sizeof a, "%.5f", p->accuracy);
      g_ascii_formatd (b, sizeof b, "%.5f", p->chance);
      g_string_append_printf (out, "%" G_GINT64_FORMAT ",%s,%s,%s\n", p->step, p->target, a, b);
    }
  return g_string_free (out, FALSE);
}

char *
cl_export_clusters_csv (const ClSnapshot *snap)
{
  GString *out = g_string_new ("step,layer,k,object_iou,instance_ari\n");
  char a[G_ASCII_DTOSTR_BUF_SIZE], b[G_ASCII_DTOSTR_BUF_SIZE];
  for (int i = 0; i < snap->n_cluster_rows; i++)
    {
      const ClClusterRow *r = &snap->cluster_rows[i];
      g_string_append_printf (out, "%" G_GINT64_FORMAT ",%s,%d,%s,%s\n", r->step, r->layer, r->k,
                              isfinite (r->object_iou) ? g_ascii_formatd (a, sizeof a, "%.5f", r->object_iou) : "",
                              isfinite (r->instance_ari) ? g_ascii_formatd (b, sizeof b, "%.5f", r->instance_ari) : "");
    }
  return g_string_free (out, FALSE);
}
