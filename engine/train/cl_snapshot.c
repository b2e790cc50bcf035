/* Snapshots: the immutable, ref-counted data the trainer publishes, and the append-only history
 * they point into. */
#include "engine/train/cl_trainer_private.h"

#include <string.h>

ClHistory *
cl_history_new (int rows)
{
  ClHistory *h = g_new0 (ClHistory, 1);
  h->ref_count = 1;
  h->row_capacity = rows;
  h->rows = g_new0 (ClMetricRow, rows);
  h->events = g_new0 (ClEvent, MAX_EVENTS);
  h->probes = g_new0 (ClProbeRow, MAX_PROBE_ROWS);
  h->clusters = g_new0 (ClClusterRow, MAX_PROBE_ROWS);
  return h;
}

void
cl_history_unref (ClHistory *h)
{
  if (h && g_atomic_int_dec_and_test (&h->ref_count))
    {
      g_free (h->rows);
      g_free (h->events);
      g_free (h->probes);
      g_free (h->clusters);
      g_free (h);
    }
}

ClSnapshot *
cl_snapshot_new_from_rows (ClMetricRow *rows, int n_rows, ClEvent *events, int n_events, ClProbeRow *probes,
                           int n_probes, ClClusterRow *clusters, int n_clusters, char *config_ini)
{
  ClHistory *h = g_new0 (ClHistory, 1);
  h->ref_count = 1;
  h->rows = rows;
  h->row_capacity = n_rows;
  h->events = events;
  h->probes = probes;
  h->clusters = clusters;
  ClSnapshot *s = g_new0 (ClSnapshot, 1);
  s->ref_count = 1;
  s->history = h;
  s->rows = rows;
  s->n_rows = rows ? n_rows : 0;
  s->events = events;
  s->n_events = events ? n_events : 0;
  s->probes = probes;
  s->n_probes = probes ? n_probes : 0;
  s->cluster_rows = clusters;
  s->n_cluster_rows = clusters ? n_clusters : 0;
  s->config_ini = config_ini;
  s->finished = TRUE;
  if (s->n_rows > 0)
    {
      s->step = rows[s->n_rows - 1].step;
      s->seconds = rows[s->n_rows - 1].seconds;
    }
  for (int i = 0; i < s->n_probes; i++)
    s->step = MAX (s->step, probes[i].step);
  s->total_steps = s->step;
  return s;
}

ClClusterMaps *
cl_cluster_maps_ref (ClClusterMaps *maps)
{
  g_atomic_int_inc (&maps->ref_count);
  return maps;
}

void
cl_cluster_maps_unref (ClClusterMaps *maps)
{
  if (maps && g_atomic_int_dec_and_test (&maps->ref_count))
    {
      for (int i = 0; i < CL_CLUSTER_LAYERS * CL_CLUSTER_KS; i++)
        {
          g_free (maps->labels[i]);
          g_free (maps->parent[i]);
        }
      g_free (maps->image);
      g_free (maps);
    }
}

ClSnapshot *
cl_snapshot_ref (ClSnapshot *snap)
{
  g_atomic_int_inc (&snap->ref_count);
  return snap;
}

void
cl_snapshot_unref (ClSnapshot *snap)
{
  if (snap && g_atomic_int_dec_and_test (&snap->ref_count))
    {
      cl_history_unref (snap->history);
      g_free (snap->error);
      g_free (snap->config_ini);
      g_free (snap->preview.pixels);
      g_free (snap->similarity.sim);
      g_free (snap->similarity.label);
      g_free (snap->similarity.code);
      cl_cluster_maps_unref (snap->clusters);
      g_free (snap);
    }
}
