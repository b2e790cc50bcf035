/* Linear probes: fixed probe images from each split, their frozen features, one classifier per
 * target. Run on the trainer thread between steps. */
#include "engine/train/cl_trainer_private.h"

#include <math.h>
#include <string.h>

#include "engine/analysis/cl_probe.h"
#include "engine/base/cl_rng.h"

static float
majority_share (const uint8_t *labels, int n)
{
  int counts[256] = { 0 }, most = 0;
  for (int i = 0; i < n; i++)
    {
      int c = ++counts[labels[i]];
      most = MAX (most, c);
    }
  return (float) most / (float) n;
}

void
cl_pick_subset (uint64_t seed, int split, int n_total, int n_pick, uint32_t *out)
{
  uint32_t *all = g_new (uint32_t, n_total);
  for (int i = 0; i < n_total; i++)
    all[i] = (uint32_t) i;
  ClRng rng;
  cl_rng_seed (&rng, seed ^ ((uint64_t) split << 32), CL_STREAM_PROBE);
  for (int i = 0; i < n_pick; i++)
    {
      uint32_t j = (uint32_t) i + cl_rng_below (&rng, (uint32_t) (n_total - i));
      uint32_t tmp = all[i];
      all[i] = all[j];
      all[j] = tmp;
    }
  memcpy (out, all, sizeof (uint32_t) * n_pick);
  g_free (all);
}

void
cl_trainer_setup_probes (ClTrainer *t)
{
  const ClDataset *ds = t->ds;
  int dim = cl_model_rep_dim (t->model);
  t->probe_n_train = MIN (t->cfg.probe_images, ds->train.n);
  t->probe_n_test = MIN (t->cfg.probe_images, ds->test.n);
  t->probe_train_idx = g_new (uint32_t, t->probe_n_train);
  t->probe_test_idx = g_new (uint32_t, t->probe_n_test);
  cl_pick_subset ((uint64_t) t->cfg.train_seed, 0, ds->train.n, t->probe_n_train, t->probe_train_idx);
  cl_pick_subset ((uint64_t) t->cfg.train_seed, 1, ds->test.n, t->probe_n_test, t->probe_test_idx);

  /* Labels of every target, read off each probe scene once. */
  int n_split[2] = { t->probe_n_train, t->probe_n_test };
  const uint32_t *idx_split[2] = { t->probe_train_idx, t->probe_test_idx };
  int total_classes = 0;
  for (int k = 0; k < t->n_targets; k++)
    {
      t->probe_train_y[k] = g_new (uint8_t, t->probe_n_train);
      t->probe_test_y[k] = g_new (uint8_t, t->probe_n_test);
      total_classes += t->target_classes[k];
    }
  const size_t scene_bytes = (size_t) t->img_channels * t->height * t->width;
  for (int split = 0; split < 2; split++)
    {
      t->probe_pixels[split] = g_new (uint8_t, (size_t) n_split[split] * scene_bytes);
      for (int i = 0; i < n_split[split]; i++)
        {
          uint8_t labels[CL_N_SCENE_TARGETS];
          cl_scenes_render (t->scenes, split, (int) idx_split[split][i], t->probe_pixels[split] + i * scene_bytes,
                            labels, NULL);
          for (int k = 0; k < t->n_targets; k++)
            (split == 0 ? t->probe_train_y : t->probe_test_y)[k][i] = labels[t->targets[k]];
        }
    }
  for (int k = 0; k < t->n_targets; k++)
    t->probe_target_chance[k] = majority_share (t->probe_test_y[k], t->probe_n_test);

  t->probe_train_f = g_new (float, (size_t) t->probe_n_train *dim);
  t->probe_test_f = g_new (float, (size_t) t->probe_n_test *dim);
  t->probe_ws = g_new (double, cl_probe_workspace_doubles (dim, total_classes + 2 * CL_MAX_BITS));
  t->probe_train_bits = g_new (uint8_t, (size_t) CL_MAX_BITS * t->probe_n_train);
  t->probe_test_bits = g_new (uint8_t, (size_t) CL_MAX_BITS * t->probe_n_test);
  for (int k = 0; k < CL_MAX_BITS; k++)
    {
      for (int i = 0; i < t->probe_n_train; i++)
        t->probe_train_bits[(size_t) k * t->probe_n_train + i] =
            (cl_batch_image_code ((uint64_t) t->cfg.train_seed, 0, (int) t->probe_train_idx[i]) >> k) & 1u;
      for (int i = 0; i < t->probe_n_test; i++)
        t->probe_test_bits[(size_t) k * t->probe_n_test + i] =
            (cl_batch_image_code ((uint64_t) t->cfg.train_seed, 1, (int) t->probe_test_idx[i]) >> k) & 1u;
    }
}

/* Un-augmented views of the split's probe images (with their bit planes) through the frozen
 * encoder, in chunks that reuse the training input buffer. */
static void
embed_split (ClTrainer *t, int split, const uint32_t *idx, int n, float *features)
{
  int plane = t->height * t->width, dim = cl_model_rep_dim (t->model);
  size_t view_size = (size_t) t->in_channels * plane;
  int chunk = 2 * t->batch;
  const int n_px = t->img_channels * plane;
  for (int start = 0; start < n; start += chunk)
    {
      int m = MIN (chunk, n - start);
      for (int i = 0; i < m; i++)
        {
          int id = (int) idx[start + i];
          float *dst = t->x + (size_t) i * view_size;
          const uint8_t *src = t->probe_pixels[split] + (size_t) (start + i) * n_px;
          for (int j = 0; j < n_px; j++)
            dst[j] = src[j] * (1.0f / 255.0f);
          cl_batch_write_bit_planes (t, dst, cl_batch_image_code ((uint64_t) t->cfg.train_seed, split, id));
        }
      cl_model_forward (t->model, t->x, m, FALSE);
      memcpy (features + (size_t) start * dim, cl_model_representation (t->model), sizeof (float) * (size_t) m * dim);
    }
}

static void
add_probe_row (ClTrainer *t, const char *target, double accuracy, float chance)
{
  if (t->n_probes >= MAX_PROBE_ROWS)
    return;
  ClProbeRow *r = &t->hist->probes[t->n_probes++];
  r->step = t->step;
  g_strlcpy (r->target, target, sizeof r->target);
  r->accuracy = (float) accuracy;
  r->chance = chance;
}

/* Targets: the class, and for randbits each bit of the image's code (target "bitK") with their
 * mean as "bits". All are read off the same frozen features by probe.kind: logistic (one Newton-CG
 * fit per target; t->probe_fit keeps the sums of the last call) or ridge (one shared Gram matrix). */
void
cl_trainer_run_probes (ClTrainer *t)
{
  gint64 t0 = g_get_monotonic_time ();
  int dim = cl_model_rep_dim (t->model);
  embed_split (t, 0, t->probe_train_idx, t->probe_n_train, t->probe_train_f);
  embed_split (t, 1, t->probe_test_idx, t->probe_n_test, t->probe_test_f);
  int bits = MIN (t->cfg.data_bits, t->max_bits);
  int nt = t->n_targets;
  const uint8_t *train_y[CL_N_SCENE_TARGETS + CL_MAX_BITS], *test_y[CL_N_SCENE_TARGETS + CL_MAX_BITS];
  int classes[CL_N_SCENE_TARGETS + CL_MAX_BITS];
  double acc[CL_N_SCENE_TARGETS + CL_MAX_BITS];
  for (int k = 0; k < nt; k++)
    {
      train_y[k] = t->probe_train_y[k];
      test_y[k] = t->probe_test_y[k];
      classes[k] = t->target_classes[k];
    }
  for (int k = 0; k < bits; k++)
    {
      train_y[nt + k] = t->probe_train_bits + (size_t) k * t->probe_n_train;
      test_y[nt + k] = t->probe_test_bits + (size_t) k * t->probe_n_test;
      classes[nt + k] = 2;
    }
  int fitted;
  if (t->cfg.probe_kind == CL_PROBE_RIDGE)
    fitted = cl_probe_ridge_multi (t->probe_train_f, t->probe_n_train, t->probe_test_f, t->probe_n_test, dim, nt + bits,
                                   train_y, test_y, classes, PROBE_RIDGE_ALPHA, t->probe_ws, acc);
  else
    {
      /* A target with an earlier one's classes and labels (overlay's background is its class) is
       * the same problem: each target is fitted alone, so it is fitted once and its accuracy copied. */
      int same_as[CL_N_SCENE_TARGETS + CL_MAX_BITS], n_fit = 0;
      const uint8_t *fit_train_y[CL_N_SCENE_TARGETS + CL_MAX_BITS], *fit_test_y[CL_N_SCENE_TARGETS + CL_MAX_BITS];
      int fit_classes[CL_N_SCENE_TARGETS + CL_MAX_BITS], fit_of[CL_N_SCENE_TARGETS + CL_MAX_BITS];
      double fit_acc[CL_N_SCENE_TARGETS + CL_MAX_BITS];
      for (int k = 0; k < nt + bits; k++)
        {
          same_as[k] = -1;
          for (int j = 0; j < k && same_as[k] < 0; j++)
            if (same_as[j] < 0 && classes[j] == classes[k] && memcmp (train_y[j], train_y[k], t->probe_n_train) == 0 &&
                memcmp (test_y[j], test_y[k], t->probe_n_test) == 0)
              same_as[k] = j;
          if (same_as[k] < 0)
            {
              fit_of[k] = n_fit;
              fit_train_y[n_fit] = train_y[k];
              fit_test_y[n_fit] = test_y[k];
              fit_classes[n_fit++] = classes[k];
            }
        }
      /* The reported probes (the untrained encoder's and the last one) to the full tolerance, the
       * live curve's intermediate ones to the looser one (cl_probe.h says what that costs). */
      const gboolean reported = t->step == 0 || t->step >= t->cfg.train_steps;
      fitted = cl_probe_logistic_multi_tol (t->probe_train_f, t->probe_n_train, t->probe_test_f, t->probe_n_test, dim,
                                            n_fit, fit_train_y, fit_test_y, fit_classes, CL_PROBE_LOGISTIC_L2,
                                            reported ? CL_PROBE_LOGISTIC_TOL : CL_PROBE_LOGISTIC_TOL_INTERMEDIATE,
                                            fit_acc, &t->probe_fit);
      for (int k = 0; k < nt + bits; k++)
        acc[k] = fit_acc[fit_of[same_as[k] < 0 ? k : same_as[k]]];
    }
  if (!fitted)
    for (int k = 0; k < nt + bits; k++)
      acc[k] = NAN;
  for (int k = 0; k < nt; k++)
    add_probe_row (t, cl_scene_target_name (t->targets[k]), acc[k], t->probe_target_chance[k]);
  if (bits > 0)
    {
      double mean = 0, mean_chance = 0;
      float chance[CL_MAX_BITS];
      for (int k = 0; k < bits; k++)
        {
          chance[k] = majority_share (test_y[nt + k], t->probe_n_test);
          mean += acc[nt + k] / bits;
          mean_chance += chance[k] / (double) bits;
        }
      add_probe_row (t, "bits", mean, (float) mean_chance);
      for (int k = 0; k < bits; k++)
        {
          char name[16];
          g_snprintf (name, sizeof name, "bit%d", k);
          add_probe_row (t, name, acc[nt + k], chance[k]);
        }
    }
  t->last_probe_step = t->step;
  t->probe_seconds += (g_get_monotonic_time () - t0) / 1e6;
}

/* Probes run before the first step (the untrained-encoder baseline), every probe.every steps,
 * and after the last step. */
void
cl_trainer_maybe_probe (ClTrainer *t)
{
  if (t->last_probe_step == t->step)
    return;
  gboolean due =
      t->step == 0 || t->step >= t->cfg.train_steps || (t->cfg.probe_every > 0 && t->step % t->cfg.probe_every == 0);
  if (due)
    {
      cl_trainer_run_probes (t);
      cl_trainer_run_control_probes (t);
      gint64 t0 = g_get_monotonic_time ();
      cl_trainer_run_clusters (t);
      t->probe_seconds += (g_get_monotonic_time () - t0) / 1e6;
    }
}
