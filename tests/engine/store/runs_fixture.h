/* The synthetic run and folder helpers shared by the store's tests: every value is a function
 * of the step, so any prefix of a run can be checked after a crash. */
#pragma once
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "engine/store/cl_runs.h"
#include "engine/store/cl_runs_private.h"

/* ------------------------------------------------------------------ helpers */

G_GNUC_UNUSED static char *
tmp_dir (void)
{
  GError *error = NULL;
  char *d = g_dir_make_tmp ("contrastlab-runs-XXXXXX", &error);
  g_assert_no_error (error);
  return d;
}

/* The store's own recursive delete (cl_runs_private.h): cleaning up a test folder is not what
 * these tests check. */
G_GNUC_UNUSED static void
remove_tree (const char *path)
{
  cl_runs_remove_tree (path);
}

G_GNUC_UNUSED static void
put (const char *dir, const char *name, const char *text)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *parent = g_path_get_dirname (path);
  g_assert_cmpint (g_mkdir_with_parents (parent, 0755), ==, 0);
  GError *error = NULL;
  g_assert_true (g_file_set_contents (path, text, -1, &error));
  g_assert_no_error (error);
}

G_GNUC_UNUSED static void
put_bytes (const char *dir, const char *name, const char *bytes, gssize len)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  GError *error = NULL;
  g_assert_true (g_file_set_contents (path, bytes, len, &error));
  g_assert_no_error (error);
}

G_GNUC_UNUSED static const char config_a[] =
    "# ContrastLab run configuration\n\n[data]\nbase=fashion-mnist\nkind=randbits\nbits=8\n"
    "tint=0\n\n[loss]\nkind=ntxent\nlambda=-1\ntemperature=0.1\n\n"
    "[train]\nbatch=64\nsteps=1000\nseed=3\n";

/* The synthetic run: every value is a function of the step, so any prefix can be checked. */
G_GNUC_UNUSED static float
metric_value (int64_t step, int k)
{
  return (float) (5.0 / (1.0 + 0.01 * (double) step) + 0.37 * k + 1e-3 * (double) ((step * 7 + k) % 13));
}

G_GNUC_UNUSED static ClMetricRow
metric_row (int64_t step)
{
  ClMetricRow r = { 0 };
  r.step = step;
  r.seconds = (float) step * 0.0625f;
  r.loss = metric_value (step, 0);
  r.alignment = -metric_value (step, 1);
  r.distribution = metric_value (step, 2) * 1e-3f;
  r.contrastive_acc = (float) ((step % 100) / 100.0);
  r.temperature = 0.1f;
  r.lr = 1e-3f / (float) (1 + step);
  r.wi_alignment = metric_value (step, 3);
  r.wi_uniformity = -metric_value (step, 4);
  r.z_std = 0.088f;
  r.code_collision = step % 3 == 0 ? NAN : (float) (step % 5) / 5.0f;
  return r;
}

G_GNUC_UNUSED static const char *const probe_targets[] = { "class", "bits", "bit0" };

G_GNUC_UNUSED static ClProbeRow
probe_row (int i)
{
  ClProbeRow p = { 0 };
  p.step = (i / 3) * 10;
  g_strlcpy (p.target, probe_targets[i % 3], sizeof p.target);
  p.accuracy = (float) (0.1 + 0.8 * (1.0 - exp (-0.05 * (double) p.step)) - 0.01 * (i % 3));
  p.chance = i % 3 == 0 ? 0.1f : 0.5f;
  return p;
}

G_GNUC_UNUSED static ClClusterRow
cluster_row (int i)
{
  static const char *const layers[] = { "pixels", "conv1", "conv2", "conv3" };
  ClClusterRow c = { 0 };
  c.step = (i / 4) * 10;
  g_strlcpy (c.layer, layers[i % 4], sizeof c.layer);
  c.k = 2 << (i % 3);
  c.object_iou = (float) (0.5 + 0.01 * i);
  c.instance_ari = i % 5 == 0 ? NAN : (float) (0.02 * i);
  return c;
}

G_GNUC_UNUSED static ClEvent
event_row (int i)
{
  ClEvent e = { 0 };
  e.step = 5 + 7 * i;
  g_strlcpy (e.key, i % 2 ? "loss.temperature" : "data.path", sizeof e.key);
  g_snprintf (e.old_value, sizeof e.old_value, "%d", i);
  /* separators and quotes must survive the CSV */
  g_snprintf (e.new_value, sizeof e.new_value, i % 2 ? "0.%d" : "/d, \"q\" %d", i + 1);
  return e;
}

/* A snapshot with the first n_rows metric rows, n_probes probe rows, ... of the synthetic run. */
G_GNUC_UNUSED static ClSnapshot *
synthetic (int n_rows, int n_probes, int n_clusters, int n_events, const char *config, int64_t total_steps)
{
  ClMetricRow *rows = n_rows ? g_new (ClMetricRow, n_rows) : NULL;
  for (int i = 0; i < n_rows; i++)
    rows[i] = metric_row (i + 1);
  ClProbeRow *probes = n_probes ? g_new (ClProbeRow, n_probes) : NULL;
  for (int i = 0; i < n_probes; i++)
    probes[i] = probe_row (i);
  ClClusterRow *clusters = n_clusters ? g_new (ClClusterRow, n_clusters) : NULL;
  for (int i = 0; i < n_clusters; i++)
    clusters[i] = cluster_row (i);
  ClEvent *events = n_events ? g_new (ClEvent, n_events) : NULL;
  for (int i = 0; i < n_events; i++)
    events[i] = event_row (i);
  ClSnapshot *s = cl_snapshot_new_from_rows (rows, n_rows, events, n_events, probes, n_probes, clusters, n_clusters,
                                             g_strdup (config));
  s->step = n_rows;
  s->seconds = n_rows * 0.0625 + 0.5;
  s->total_steps = total_steps;
  s->finished = FALSE;
  return s;
}

G_GNUC_UNUSED static void
assert_close (double got, double want, double rel, double abs_tol)
{
  if (isnan (want))
    {
      g_assert_true (isnan (got));
      return;
    }
  g_assert_cmpfloat_with_epsilon (got, want, abs_tol + rel * fabs (want));
}

/* rows[0..n) equal the synthetic run's first n rows, within the CSV's printf precision. */
G_GNUC_UNUSED static void
assert_synthetic_rows (const ClSnapshot *s, int n_rows, int n_probes, int n_clusters, int n_events)
{
  g_assert_cmpint (s->n_rows, ==, n_rows);
  for (int i = 0; i < n_rows; i++)
    {
      ClMetricRow want = metric_row (i + 1);
      const ClMetricRow *got = &s->rows[i];
      g_assert_cmpint (got->step, ==, want.step);
      /* %.7g keeps 7 significant digits */
      const float w[] = { want.seconds,       want.loss, want.alignment,    want.distribution,  want.contrastive_acc,
                          want.temperature,   want.lr,   want.wi_alignment, want.wi_uniformity, want.z_std,
                          want.code_collision };
      const float g[] = { got->seconds,       got->loss, got->alignment,    got->distribution,  got->contrastive_acc,
                          got->temperature,   got->lr,   got->wi_alignment, got->wi_uniformity, got->z_std,
                          got->code_collision };
      for (gsize k = 0; k < G_N_ELEMENTS (w); k++)
        assert_close (g[k], w[k], 1e-6, 1e-30);
    }
  g_assert_cmpint (s->n_probes, ==, n_probes);
  for (int i = 0; i < n_probes; i++)
    {
      ClProbeRow want = probe_row (i);
      g_assert_cmpint (s->probes[i].step, ==, want.step);
      g_assert_cmpstr (s->probes[i].target, ==, want.target);
      assert_close (s->probes[i].accuracy, want.accuracy, 0, 5.1e-6); /* %.5f */
      assert_close (s->probes[i].chance, want.chance, 0, 5.1e-6);
    }
  g_assert_cmpint (s->n_cluster_rows, ==, n_clusters);
  for (int i = 0; i < n_clusters; i++)
    {
      ClClusterRow want = cluster_row (i);
      g_assert_cmpint (s->cluster_rows[i].step, ==, want.step);
      g_assert_cmpstr (s->cluster_rows[i].layer, ==, want.layer);
      g_assert_cmpint (s->cluster_rows[i].k, ==, want.k);
      assert_close (s->cluster_rows[i].object_iou, want.object_iou, 0, 5.1e-6);
      assert_close (s->cluster_rows[i].instance_ari, want.instance_ari, 0, 5.1e-6);
    }
  g_assert_cmpint (s->n_events, ==, n_events);
  for (int i = 0; i < n_events; i++)
    {
      ClEvent want = event_row (i);
      g_assert_cmpint (s->events[i].step, ==, want.step);
      g_assert_cmpstr (s->events[i].key, ==, want.key);
      g_assert_cmpstr (s->events[i].old_value, ==, want.old_value);
      g_assert_cmpstr (s->events[i].new_value, ==, want.new_value);
    }
}
