/* Replicates: the other seeds of the shown run's configuration among the loaded runs. The probe
 * chart draws the mean over the shown run and these with a +- std band (ui/plots), so a finding
 * read off the chart carries its spread across seeds. A replicate is a run of the list (kept or
 * opened; not the one being recorded) whose run.ini differs from the shown run's only in
 * train.seed (and train.threads, which changes speed, not results). */
#include "app/cl_window_private.h"

#include <string.h>

#include "engine/store/cl_runs.h"

/* TRUE when the two configurations differ in train.seed and in nothing else that matters. */
static gboolean
same_but_seed (const char *ini_a, const char *ini_b)
{
  if (!ini_a || !ini_b || !*ini_a || !*ini_b)
    return FALSE;
  g_auto (GStrv) diff = cl_config_ini_diff (ini_a, ini_b, NULL, NULL, NULL);
  if (!diff)
    return FALSE;
  gboolean seed = FALSE;
  for (char **k = diff; *k; k++)
    {
      if (strcmp (*k, "train.seed") == 0)
        seed = TRUE;
      else if (strcmp (*k, "train.threads") != 0)
        return FALSE;
    }
  return seed;
}

/* Fills snaps (ClSnapshot refs) with the replicates of the shown run, whose run.ini is shown_ini. */
static void
find_replicates (ClWindow *self, const char *shown_ini, GPtrArray *snaps)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->runs));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (ClRunEntry) e = g_list_model_get_item (G_LIST_MODEL (self->runs), i);
      if (e == self->show_a || e->recording || !e->info)
        continue;
      if (!same_but_seed (shown_ini, cl_run_entry_ini (e)))
        continue;
      if (!e->snap)
        e->snap = cl_run_load (e->info->path, NULL); /* unreadable: not a replicate */
      if (e->snap)
        g_ptr_array_add (snaps, cl_snapshot_ref (e->snap));
    }
}

void
cl_window_replicates_update (ClWindow *self)
{
  const ClSnapshot *shown = cl_window_shown_snapshot (self);
  GPtrArray *snaps = g_ptr_array_new_with_free_func ((GDestroyNotify) cl_snapshot_unref);
  if (shown && shown->config_ini)
    find_replicates (self, shown->config_ini, snaps);
  /* The views point at the new array before the old one goes. */
  cl_figure_view_set_replicates (self->figure_views[CL_FIGURE_PROBES], (const ClSnapshot *const *) snaps->pdata,
                                 (int) snaps->len);
  g_clear_pointer (&self->replicate_snaps, g_ptr_array_unref);
  self->replicate_snaps = snaps;
  g_free (self->replicates_of);
  self->replicates_of = g_strdup (shown ? shown->config_ini : NULL);
  gtk_widget_queue_draw (GTK_WIDGET (self->dashboard_area));
}

void
cl_window_replicates_check (ClWindow *self)
{
  /* The live run's configuration changes (a restart, a live change): look again. */
  const ClSnapshot *shown = cl_window_shown_snapshot (self);
  if (g_strcmp0 (shown ? shown->config_ini : NULL, self->replicates_of) != 0)
    cl_window_replicates_update (self);
}

int
cl_window_get_n_replicates (ClWindow *self)
{
  return self->replicate_snaps ? (int) self->replicate_snaps->len : 0;
}

void
cl_window_replicates_dispose (ClWindow *self)
{
  if (self->figure_views[CL_FIGURE_PROBES])
    cl_figure_view_set_replicates (self->figure_views[CL_FIGURE_PROBES], NULL, 0);
  g_clear_pointer (&self->replicate_snaps, g_ptr_array_unref);
  g_clear_pointer (&self->replicates_of, g_free);
}
