/* Control probes for the suppression experiments (paper section 3): the paper's metric reads a
 * target off the frozen encoder on the training distribution's images, where the competing
 * feature is present. A drop there can be suppression (the encoder did not learn the target) or
 * occlusion (the competing feature hides the target in the probe image). The controls probe the
 * same target on images with the competing feature taken out or made uninformative:
 *   overlay:     background_clean (no overlay), background_fixed (glyph 0 on every image);
 *   two-objects: small_alone (the large item taken out).
 * Same labels, encoder, training images and probe fit as the main probes (a control fitted on
 * fewer images than its metric reads lower for that alone: on 2500 instead of 5000 training
 * images overlay's controls fell by 0.009-0.038 in two runs), scored on the first
 * probe.control_test_images of the probe's held-out images (0 = all of them; the probe images are
 * a random draw, so their first N are one too: unbiased, noisier). The untrained encoder's value
 * is the step-0 row. Rendered at each probe rather than kept: each control costs one more
 * embedding of its images (rendering is ~2% of that). overlay-pool scores its two controls on
 * 2500 of the 5000 held-out images: on all of them they were 63% of its analysis time, 10.6% of
 * the run (issue 13's budget: 10%). */
#include "engine/train/cl_trainer_private.h"

#include <math.h>
#include <string.h>

#include "engine/analysis/cl_probe.h"

/* Share of the commonest label among the first n (the control's chance level). */
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

/* Held-out images the controls are scored on: probe.control_test_images, at most the probe's. */
static int
control_test_images (const ClTrainer *t)
{
  const int want = t->cfg.probe_control_test_images;
  return want > 0 ? MIN (want, t->probe_n_test) : t->probe_n_test;
}

typedef struct
{
  int kind;               /* ClSceneKind */
  ClSceneVariant variant; /* how the probe images are rendered */
  ClSceneTarget target;   /* whose labels are read */
  const char *name;       /* probes.csv target */
} ControlProbe;

static const ControlProbe control_probes[] = {
  { CL_SCENE_OVERLAY, CL_SCENE_CLEAN, CL_TARGET_BACKGROUND, "background_clean" },
  { CL_SCENE_OVERLAY, CL_SCENE_FIXED_OVERLAY, CL_TARGET_BACKGROUND, "background_fixed" },
  { CL_SCENE_TWO_OBJECTS, CL_SCENE_CLEAN, CL_TARGET_SMALL, "small_alone" },
};

/* The control variant of each probe image of the split, through the frozen encoder. */
static void
embed_variant (ClTrainer *t, int split, const uint32_t *idx, int n, ClSceneVariant variant, float *features)
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
          cl_scenes_render_variant (t->scenes, split, id, variant, t->scene_buf, NULL, NULL);
          for (int j = 0; j < n_px; j++)
            dst[j] = t->scene_buf[j] * (1.0f / 255.0f);
          cl_batch_write_bit_planes (t, dst, cl_batch_image_code ((uint64_t) t->cfg.train_seed, split, id));
        }
      cl_model_forward (t->model, t->x, m, FALSE);
      memcpy (features + (size_t) start * dim, cl_model_representation (t->model), sizeof (float) * (size_t) m * dim);
    }
}

void
cl_trainer_run_control_probes (ClTrainer *t)
{
  gint64 t0 = g_get_monotonic_time ();
  const int kind = cl_scenes_params (t->scenes)->kind, dim = cl_model_rep_dim (t->model);
  float *train_f = NULL, *test_f = NULL;
  const int n_train = t->probe_n_train, n_test = control_test_images (t);
  for (size_t c = 0; c < G_N_ELEMENTS (control_probes); c++)
    {
      const ControlProbe *cp = &control_probes[c];
      int k = 0;
      while (k < t->n_targets && t->targets[k] != cp->target)
        k++;
      if (cp->kind != kind || k == t->n_targets || t->n_probes >= MAX_PROBE_ROWS)
        continue;
      if (!train_f)
        {
          train_f = g_new (float, (size_t) n_train *dim);
          test_f = g_new (float, (size_t) n_test *dim);
        }
      embed_variant (t, 0, t->probe_train_idx, n_train, cp->variant, train_f);
      embed_variant (t, 1, t->probe_test_idx, n_test, cp->variant, test_f);
      const uint8_t *train_y[1] = { t->probe_train_y[k] }, *test_y[1] = { t->probe_test_y[k] };
      int classes[1] = { t->target_classes[k] };
      double acc[1];
      /* The same fit as the main probes (probe.kind), so metric and control compare. */
      int fitted;
      if (t->cfg.probe_kind == CL_PROBE_RIDGE)
        fitted = cl_probe_ridge_multi (train_f, n_train, test_f, n_test, dim, 1, train_y, test_y, classes,
                                       PROBE_RIDGE_ALPHA, t->probe_ws, acc);
      else
        fitted = cl_probe_logistic_multi (train_f, n_train, test_f, n_test, dim, 1, train_y, test_y, classes,
                                          CL_PROBE_LOGISTIC_L2, acc, NULL);
      if (!fitted)
        acc[0] = NAN;
      ClProbeRow *r = &t->hist->probes[t->n_probes++];
      r->step = t->step;
      g_strlcpy (r->target, cp->name, sizeof r->target);
      r->accuracy = (float) acc[0];
      r->chance = n_test == t->probe_n_test ? t->probe_target_chance[k] : majority_share (test_y[0], n_test);
    }
  g_free (train_f);
  g_free (test_f);
  t->probe_seconds += (g_get_monotonic_time () - t0) / 1e6;
}
