/* Control probes of the suppression experiments and the local-feature layers of each encoder. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "engine/analysis/cl_probe.h"
#include "engine/data/cl_data.h"
#include "engine/data/cl_scenes.h"
#include "engine/train/cl_trainer_private.h"

static ClTrainer *
probed_trainer (int kind, int pool, int arch)
{
  ClConfig cfg;
  cl_config_init (&cfg);
  cfg.data_kind = kind;
  cfg.data_pool = pool;
  cfg.data_bits = 0;
  cfg.model_arch = arch;
  cfg.train_batch = 16;
  cfg.train_steps = 1;
  cfg.train_threads = 1;
  cfg.probe_images = 200;
  cfg.probe_cluster_images = 2;
  GError *error = NULL;
  ClTrainer *t = cl_trainer_new (&cfg, &error);
  g_assert_no_error (error);
  cl_trainer_step (t);
  cl_trainer_publish (t);
  return t;
}

/* The accuracy of target at step 0 (the untrained encoder); NAN when there is no such row. */
static double
step0_accuracy (const ClSnapshot *s, const char *target)
{
  for (int i = 0; i < s->n_probes; i++)
    if (s->probes[i].step == 0 && strcmp (s->probes[i].target, target) == 0)
      return s->probes[i].accuracy;
  return NAN;
}

/* Overlay: background_clean and background_fixed beside background. With a pool of one glyph
 * the fixed-overlay images are the training images, so that control must equal the paper's
 * metric exactly (same images, labels and fit); the clean images differ from both. */
static void
test_overlay_controls (void)
{
  ClTrainer *t = probed_trainer (CL_SCENE_OVERLAY, 1, CL_ARCH_CONVN);
  ClSnapshot *s = cl_trainer_get_snapshot (t);
  double bg = step0_accuracy (s, "background"), clean = step0_accuracy (s, "background_clean"),
         fixed = step0_accuracy (s, "background_fixed");
  g_test_message ("untrained, pool 1: background %.3f, clean %.3f, fixed %.3f", bg, clean, fixed);
  g_assert_true (isfinite (bg) && isfinite (clean) && isfinite (fixed));
  g_assert_cmpfloat (fixed, ==, bg);
  g_assert_cmpfloat (clean, >, 0.2); /* far above chance (0.1) for 10 classes */
  g_assert_true (isnan (step0_accuracy (s, "small_alone")));
  /* Rows after the last step too. */
  g_assert_cmpint (s->probes[s->n_probes - 1].step, ==, 1);
  cl_snapshot_unref (s);
  cl_trainer_free (t);

  /* With a pool of many glyphs the fixed overlay is a different image from the drawn one. */
  t = probed_trainer (CL_SCENE_OVERLAY, 4096, CL_ARCH_CONVN);
  s = cl_trainer_get_snapshot (t);
  g_assert_cmpfloat (step0_accuracy (s, "background_fixed"), !=, step0_accuracy (s, "background"));
  cl_snapshot_unref (s);
  cl_trainer_free (t);
}

/* The accuracy and chance of target at step; NAN when there is no such row. */
static double
row_at (const ClTrainer *t, int64_t step, const char *target, float *chance)
{
  *chance = NAN;
  for (int i = 0; i < t->n_probes; i++)
    if (t->hist->probes[i].step == step && strcmp (t->hist->probes[i].target, target) == 0)
      {
        *chance = t->hist->probes[i].chance;
        return t->hist->probes[i].accuracy;
      }
  return NAN;
}

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

/* probe.control_test_images: the controls are fitted on every probe training image and scored on
 * the first N held-out ones. With one glyph in the pool the fixed-overlay images are the drawn
 * ones, so background_fixed after the last step must be the background classifier of the last
 * probe's features (all 200 training images) scored on their first 96 held-out images, with the
 * chance level of those 96 (96 = three whole embedding chunks of 2 x batch, as the trainer's). */
static void
test_control_test_images (void)
{
  ClConfig cfg;
  cl_config_init (&cfg);
  g_assert_cmpint (cfg.probe_control_test_images, ==, 0); /* default: every held-out image */
  cfg.data_kind = CL_SCENE_OVERLAY;
  cfg.data_pool = 1;
  cfg.data_bits = 0;
  cfg.train_batch = 16;
  cfg.train_steps = 1;
  cfg.train_threads = 1;
  cfg.probe_images = 200;
  cfg.probe_control_test_images = 96;
  cfg.probe_cluster_images = 2;
  GError *error = NULL;
  ClTrainer *t = cl_trainer_new (&cfg, &error);
  g_assert_no_error (error);
  cl_trainer_step (t);
  int k = 0;
  while (k < t->n_targets && t->targets[k] != CL_TARGET_BACKGROUND)
    k++;
  g_assert_cmpint (k, <, t->n_targets);
  const uint8_t *train_y[1] = { t->probe_train_y[k] }, *test_y[1] = { t->probe_test_y[k] };
  int classes[1] = { t->target_classes[k] };
  double want[1];
  g_assert_true (cl_probe_logistic_multi (t->probe_train_f, 200, t->probe_test_f, 96, cl_model_rep_dim (t->model), 1,
                                          train_y, test_y, classes, CL_PROBE_LOGISTIC_L2, want, NULL));
  float c_fixed, c_clean, c_bg;
  double fixed = row_at (t, 1, "background_fixed", &c_fixed), clean = row_at (t, 1, "background_clean", &c_clean);
  double bg = row_at (t, 1, "background", &c_bg);
  g_test_message ("pool 1, after the step: background_fixed %.4f (refit on 200, scored on 96: %.4f), background on "
                  "200 held-out %.4f, background_clean %.4f",
                  fixed, want[0], bg, clean);
  g_assert_cmpfloat (fixed, ==, (float) want[0]);
  g_assert_cmpfloat (c_fixed, ==, majority_share (t->probe_test_y[k], 96));
  g_assert_cmpfloat (c_clean, ==, c_fixed);
  g_assert_true (isfinite (clean));
  /* The main probes keep all 200 held-out images (their chance is that of the 200). */
  g_assert_cmpfloat (c_bg, ==, majority_share (t->probe_test_y[k], 200));
  g_assert_cmpfloat (c_bg, !=, c_fixed);
  cl_trainer_free (t);
}

/* Two-objects: small_alone beside small; multi-objects has nothing to take out. */
static void
test_object_controls (void)
{
  ClTrainer *t = probed_trainer (CL_SCENE_TWO_OBJECTS, 1, CL_ARCH_CONVN);
  ClSnapshot *s = cl_trainer_get_snapshot (t);
  double small = step0_accuracy (s, "small"), alone = step0_accuracy (s, "small_alone");
  g_test_message ("untrained: small %.3f, small alone %.3f", small, alone);
  g_assert_true (isfinite (small) && isfinite (alone));
  g_assert_cmpfloat (alone, !=, small);
  g_assert_true (isnan (step0_accuracy (s, "background_clean")));
  cl_snapshot_unref (s);
  cl_trainer_free (t);

  t = probed_trainer (CL_SCENE_MULTI_OBJECTS, 1, CL_ARCH_CONVN_SAME);
  s = cl_trainer_get_snapshot (t);
  for (int i = 0; i < s->n_probes; i++)
    g_assert_cmpstr (s->probes[i].target, ==, "class");
  cl_snapshot_unref (s);
  cl_trainer_free (t);
}

/* Local features: convn-same clusters its three convs; convn-deep the last conv of each map size
 * (conv2, conv4, conv6: 32, 16 and 8 px grids, receptive fields 7, 19 and 43 px). */
static void
test_cluster_layers (void)
{
  static const struct
  {
    int arch;
    const char *names[4];
    int grid[4];
  } cases[] = {
    { CL_ARCH_CONVN_SAME, { "pixels", "conv1", "conv2", "conv3" }, { 64, 32, 16, 8 } },
    { CL_ARCH_CONVN_DEEP, { "pixels", "conv2", "conv4", "conv6" }, { 64, 32, 16, 8 } },
  };
  for (size_t c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      ClTrainer *t = probed_trainer (CL_SCENE_MULTI_OBJECTS, 1, cases[c].arch);
      ClSnapshot *s = cl_trainer_get_snapshot (t);
      g_assert_nonnull (s->clusters);
      g_assert_cmpint (s->clusters->n_layers, ==, 4);
      for (int l = 0; l < 4; l++)
        {
          g_assert_cmpstr (s->clusters->layer_names[l], ==, cases[c].names[l]);
          g_assert_cmpint (s->clusters->grid_h[l], ==, cases[c].grid[l]);
          g_assert_cmpint (s->clusters->grid_w[l], ==, cases[c].grid[l]);
        }
      /* the drawn canvas's own scores beside the means over the 2 canvases: scores, and not the
       * means everywhere (two canvases do not score alike in every cell) */
      g_assert_cmpint (s->clusters->n_images, ==, 2);
      int differ = 0;
      for (int cell = 0; cell < 4 * CL_CLUSTER_KS; cell++)
        {
          g_assert_true (s->clusters->iou_drawn[cell] >= 0.0 && s->clusters->iou_drawn[cell] <= 1.0);
          g_assert_true (s->clusters->ari_drawn[cell] >= -1.0 && s->clusters->ari_drawn[cell] <= 1.0);
          differ += s->clusters->iou_drawn[cell] != s->clusters->iou[cell];
        }
      g_assert_cmpint (differ, >, 0);
      /* clusters.csv rows carry the same names: 4 layers x 3 ks at steps 0 and 1. */
      g_assert_cmpint (s->n_cluster_rows, ==, 2 * 4 * 3);
      for (int i = 0; i < s->n_cluster_rows; i++)
        g_assert_cmpstr (s->cluster_rows[i].layer, ==, cases[c].names[(i / 3) % 4]);
      cl_snapshot_unref (s);
      cl_trainer_free (t);
    }
}

/* data.bg_per_view, in the renderer: the same items in the same places (identical pixels under the
 * instance mask) on a background drawn from the key; the same key draws the same background; other
 * kinds ignore the key. */
static void
test_background_render (void)
{
  GError *error = NULL;
  ClDataset *ds = cl_dataset_load ("fashion-mnist", NULL, &error);
  g_assert_no_error (error);
  enum
  {
    SIDE = CL_SCENE_MAX_SIDE,
    PLANE = SIDE * SIDE
  };
  static uint8_t drawn[PLANE], mask[PLANE], a[PLANE], b[PLANE], again[PLANE];
  ClSceneParams p = { .kind = CL_SCENE_MULTI_OBJECTS, .pool = 1, .big_size = 28, .tint = 0, .seed = 7 };
  ClScenes *sc = cl_scenes_new (&p, ds, &error);
  g_assert_no_error (error);
  int background = 0, differ = 0;
  for (int index = 0; index < 8; index++)
    {
      cl_scenes_render (sc, 0, index, drawn, NULL, mask);
      cl_scenes_render_background (sc, 0, index, 11, a);
      cl_scenes_render_background (sc, 0, index, 12, b);
      cl_scenes_render_background (sc, 0, index, 11, again);
      g_assert_cmpmem (a, PLANE, again, PLANE);
      for (int i = 0; i < PLANE; i++)
        if (mask[i])
          {
            g_assert_cmpint (a[i], ==, drawn[i]);
            g_assert_cmpint (b[i], ==, drawn[i]);
          }
        else
          {
            background++;
            differ += a[i] != b[i];
          }
    }
  g_test_message ("background pixels that differ between two keys: %d of %d", differ, background);
  g_assert_cmpint (background, >, 0);
  g_assert_cmpint (differ, >, background / 2);
  cl_scenes_free (sc);

  p.kind = CL_SCENE_TWO_OBJECTS;
  sc = cl_scenes_new (&p, ds, &error);
  g_assert_no_error (error);
  cl_scenes_render (sc, 0, 3, drawn, NULL, NULL);
  cl_scenes_render_background (sc, 0, 3, 11, a);
  g_assert_cmpmem (a, 56 * 56, drawn, 56 * 56);
  cl_scenes_free (sc);
  cl_dataset_free (ds);
}

/* data.bg_per_view in training: with every augmentation off, the two views of an image are the
 * same picture; with the knob on, they differ (each on its own background). */
static void
test_background_views (void)
{
  for (int knob = 0; knob < 2; knob++)
    {
      ClConfig cfg;
      cl_config_init (&cfg);
      cfg.data_kind = CL_SCENE_MULTI_OBJECTS;
      cfg.data_bits = 0;
      cfg.data_bg_per_view = knob;
      cfg.model_arch = CL_ARCH_CONVN_SAME;
      cfg.aug_crop_min_area = 1;
      cfg.aug_flip = 0;
      cfg.aug_jitter = 0;
      cfg.aug_noise = 0;
      cfg.train_batch = 8;
      cfg.train_steps = 1;
      cfg.train_threads = 1;
      cfg.probe_every = 0;
      GError *error = NULL;
      ClTrainer *t = cl_trainer_new (&cfg, &error);
      g_assert_no_error (error);
      cl_trainer_step (t);
      cl_trainer_publish (t);
      ClSnapshot *s = cl_trainer_get_snapshot (t);
      const ClViewPreview *pv = &s->preview;
      g_assert_cmpint (pv->n_pairs, >, 0);
      size_t view = (size_t) pv->channels * pv->height * pv->width;
      int differ = 0;
      for (int pair = 0; pair < pv->n_pairs; pair++)
        for (size_t i = 0; i < view; i++)
          differ += pv->pixels[(2 * pair) * view + i] != pv->pixels[(2 * pair + 1) * view + i];
      g_test_message ("bg_per_view %d: %d of %zu preview pixels differ between the views", knob, differ,
                      (size_t) pv->n_pairs * view);
      if (knob)
        g_assert_cmpint (differ, >, (int) ((size_t) pv->n_pairs * view / 4));
      else
        g_assert_cmpint (differ, ==, 0);
      cl_snapshot_unref (s);
      cl_trainer_free (t);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/controls/overlay", test_overlay_controls);
  g_test_add_func ("/controls/control-test-images", test_control_test_images);
  g_test_add_func ("/controls/objects", test_object_controls);
  g_test_add_func ("/controls/cluster-layers", test_cluster_layers);
  g_test_add_func ("/controls/background-per-view/render", test_background_render);
  g_test_add_func ("/controls/background-per-view/views", test_background_views);
  return g_test_run ();
}
