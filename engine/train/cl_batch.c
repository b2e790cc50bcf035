/* The batch builder: data order, per-image bit codes, two augmented views of each image, and the
 * helper thread that prepares the next step's batch while the current one computes. */
#include "engine/train/cl_trainer_private.h"

#include <math.h>
#include <string.h>

#include "engine/data/cl_augment_color.h"
#include "engine/nn/cl_layers.h"
#include "engine/base/cl_rng.h"

void
cl_batch_shuffle_order (ClTrainer *t, uint64_t epoch)
{
  ClRng rng;
  cl_rng_seed (&rng, (uint64_t) t->cfg.train_seed ^ (epoch * 0x9E3779B97F4A7C15ULL), CL_STREAM_ORDER);
  int n = t->ds->train.n;
  for (int i = 0; i < n; i++)
    t->order[i] = (uint32_t) i;
  for (int i = n - 1; i > 0; i--)
    {
      uint32_t j = cl_rng_below (&rng, (uint32_t) i + 1);
      uint32_t tmp = t->order[i];
      t->order[i] = t->order[j];
      t->order[j] = tmp;
    }
  t->order_pos = 0;
}

/* A fixed pseudo-random 32-bit code per image, independent of draw order; data.bits masks it. */
uint32_t
cl_batch_image_code (uint64_t seed, int split, int index)
{
  return (uint32_t) cl_hash64 (cl_hash64 (seed ^ ((uint64_t) CL_STREAM_BITS << 56)) + ((uint64_t) split << 40) +
                               (uint64_t) index);
}

void
cl_batch_fill_planes (float *dst, int plane_size, uint32_t code, int bits)
{
  for (int k = 0; k < bits; k++)
    {
      float v = (float) ((code >> k) & 1u);
      float *plane = dst + (size_t) k * plane_size;
      for (int j = 0; j < plane_size; j++)
        plane[j] = v;
    }
}

ClAugParams
cl_batch_aug_params (const ClTrainer *t)
{
  return (ClAugParams){
    .crop_min_area = (float) t->cfg.aug_crop_min_area,
    .flip = (float) t->cfg.aug_flip,
    .jitter = (float) t->cfg.aug_jitter,
    .noise = (float) t->cfg.aug_noise,
    .blur = (float) t->cfg.aug_blur,
  };
}

/* The bit planes of code after the image channels of one view. */
void
cl_batch_write_bit_planes (const ClTrainer *t, float *view, uint32_t code)
{
  int plane = t->height * t->width, bits = MIN (t->cfg.data_bits, t->max_bits);
  /* Planes beyond data.bits are left as they are: the model only reads the active ones. */
  cl_batch_fill_planes (view + (size_t) t->img_channels * plane, plane, code, bits);
}

static void
shell_sort_u32 (uint32_t *a, int n)
{
  static const int gaps[] = { 701, 301, 132, 57, 23, 10, 4, 1 };
  for (gsize g = 0; g < G_N_ELEMENTS (gaps); g++)
    for (int i = gaps[g]; i < n; i++)
      {
        uint32_t v = a[i];
        int j = i;
        for (; j >= gaps[g] && a[j - gaps[g]] > v; j -= gaps[g])
          a[j] = a[j - gaps[g]];
        a[j] = v;
      }
}

/* Fraction of images in the batch whose code another image in the batch shares: once it is
 * small, the bits alone tell every image apart and nothing pushes the encoder to learn content. */
static float
code_collision_fraction (uint32_t *codes, int n)
{
  shell_sort_u32 (codes, n);
  int shared = 0;
  for (int i = 0; i < n; i++)
    shared += (i > 0 && codes[i] == codes[i - 1]) || (i + 1 < n && codes[i] == codes[i + 1]);
  return (float) shared / (float) n;
}

/* Two independently augmented views of each batch image: view 1 in rows 0..B-1, view 2 in B..2B-1.
 * Each view has its own random stream keyed by (seed, step, row), so views do not depend on the
 * order in which they are built. Reads cfg (not t->cfg, which the main thread may change meanwhile)
 * and the run's immutable data; moves the data order. */
void
cl_batch_build_into (ClTrainer *t, ClBatch *b, int64_t step, const ClConfig *cfg)
{
  const ClImageSet *set = &t->ds->train;
  int h = t->height, w = t->width, plane = h * w, c = t->img_channels;
  size_t view_size = (size_t) t->in_channels * plane;
  ClAugParams aug = {
    .crop_min_area = (float) cfg->aug_crop_min_area,
    .flip = (float) cfg->aug_flip,
    .jitter = (float) cfg->aug_jitter,
    .noise = (float) cfg->aug_noise,
    .blur = (float) cfg->aug_blur,
  };
  uint64_t step_key = cl_hash64 ((uint64_t) cfg->train_seed ^ cl_hash64 ((uint64_t) step));
  int bits = MIN (cfg->data_bits, t->max_bits);

  for (int i = 0; i < t->batch; i++)
    {
      if (t->order_pos >= set->n)
        cl_batch_shuffle_order (t, ++t->epoch);
      int idx = (int) t->order[t->order_pos++];
      cl_scenes_render (t->scenes, 0, idx, b->scene_buf, NULL, NULL);
      uint32_t code = t->train_codes[idx];
      b->codes[i] = bits >= 32 ? code : code & ((1u << bits) - 1u);

      ClRng resample;
      cl_rng_seed (&resample, step_key, ((uint64_t) CL_STREAM_RESAMPLE << 32) | (uint64_t) i);
      double u = cl_rng_uniform (&resample);
      uint32_t fresh = cl_rng_u32 (&resample);

      for (int v = 0; v < 2; v++)
        {
          float *dst = b->x + (size_t) (v * t->batch + i) * view_size;
          ClRng rng;
          cl_rng_seed (&rng, step_key, ((uint64_t) CL_STREAM_AUG << 32) | (uint64_t) (2 * i + v));
          /* data.bg_per_view: each view on a background of its own, keyed by (seed, step, row, view). */
          if (cfg->data_bg_per_view)
            cl_scenes_render_background (t->scenes, 0, idx, cl_hash64 (step_key ^ (uint64_t) (2 * i + v + 1)),
                                         b->scene_buf);
          cl_augment_view_color (b->scene_buf, c, h, w, &aug, &rng, dst);
          uint32_t view_code = (v == 1 && u < cfg->data_bit_resample) ? fresh : code;
          if (i < CL_PREVIEW_PAIRS)
            {
              memcpy (b->preview_pixels + (size_t) (2 * i + v) * c * plane, dst, sizeof (float) * c * plane);
              b->preview.codes[i][v] = view_code;
            }
          /* Planes beyond data.bits are left as they are: the model only reads the active ones. */
          cl_batch_fill_planes (dst + (size_t) c * plane, plane, view_code, bits);
        }
    }
  b->code_collision = bits > 0 ? code_collision_fraction (b->codes, t->batch) : NAN;
  b->preview.n_pairs = MIN (CL_PREVIEW_PAIRS, t->batch);
  b->preview.bits = bits;
  b->preview.step = step + 1;
  b->step = step;
}

static gpointer
prep_main (gpointer data)
{
  ClTrainer *t = data;
  cl_layers_apply_compute_nice ();
  pthread_mutex_lock (&t->prep_lock);
  for (;;)
    {
      while (!t->prep_requested && !t->prep_quit)
        pthread_cond_wait (&t->prep_cond, &t->prep_lock);
      if (t->prep_quit)
        break;
      t->prep_requested = FALSE;
      t->prep_busy = TRUE;
      pthread_mutex_unlock (&t->prep_lock);
      cl_batch_build_into (t, &t->views, t->prep_step, &t->prep_cfg);
      pthread_mutex_lock (&t->prep_lock);
      t->prep_busy = FALSE;
      pthread_cond_broadcast (&t->prep_cond);
    }
  pthread_mutex_unlock (&t->prep_lock);
  return NULL;
}

static void *
prep_thread_fn (void *data)
{
  return prep_main (data);
}

/* Waits until the helper is idle; afterwards the main thread owns views and the data order. */
void
cl_batch_prep_wait (ClTrainer *t)
{
  if (!t->prep_started)
    return;
  pthread_mutex_lock (&t->prep_lock);
  while (t->prep_requested || t->prep_busy)
    pthread_cond_wait (&t->prep_cond, &t->prep_lock);
  pthread_mutex_unlock (&t->prep_lock);
}

/* Asks the helper for the batch of `step` with the current configuration. */
void
cl_batch_prep_launch (ClTrainer *t, int64_t step)
{
  if (!t->prep_enabled || step >= t->cfg.train_steps)
    return;
  if (!t->prep_started)
    {
      if (pthread_create (&t->prep_thread, NULL, prep_thread_fn, t) != 0)
        {
          t->prep_enabled = FALSE; /* build on the main thread then; same batches */
          return;
        }
      t->prep_started = TRUE;
    }
  cl_batch_prep_wait (t);
  t->prep_order_pos = t->order_pos;
  t->prep_epoch = t->epoch;
  pthread_mutex_lock (&t->prep_lock);
  t->prep_cfg = t->cfg;
  t->prep_step = step;
  t->views_valid = TRUE; /* once the helper is idle again */
  t->prep_requested = TRUE;
  pthread_cond_broadcast (&t->prep_cond);
  pthread_mutex_unlock (&t->prep_lock);
}

/* Throws away a prefetched batch (the configuration it was built with changed) and rewinds the
 * data order to where it stood before it. */
void
cl_batch_prep_discard (ClTrainer *t)
{
  cl_batch_prep_wait (t);
  if (!t->views_valid)
    return;
  t->views_valid = FALSE;
  if (t->epoch != t->prep_epoch)
    cl_batch_shuffle_order (t, t->prep_epoch);
  t->epoch = t->prep_epoch;
  t->order_pos = t->prep_order_pos;
}

/* The batch of the current step: the prefetched one, or built now. Publishes its preview. */
const ClBatch *
cl_batch_prep_take (ClTrainer *t)
{
  cl_batch_prep_wait (t);
  if (!t->views_valid || t->views.step != t->step)
    {
      cl_batch_prep_discard (t);
      cl_batch_build_into (t, &t->views, t->step, &t->cfg);
    }
  t->views_valid = FALSE;
  const ClBatch *b = &t->views;
  float *pixels = t->preview_pixels;
  t->preview = b->preview;
  t->preview.pixels = pixels;
  memcpy (pixels, b->preview_pixels,
          sizeof (float) * (size_t) CL_PREVIEW_PAIRS * 2 * t->img_channels * t->height * t->width);
  t->code_collision = b->code_collision;
  return b;
}

void
cl_trainer_set_prefetch (ClTrainer *t, gboolean enabled)
{
  cl_batch_prep_discard (t);
  t->prep_enabled = enabled;
}
