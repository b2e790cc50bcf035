#include "engine/train/cl_trainer.h"

#include "engine/train/cl_trainer_private.h"

#include <cblas.h>
#include <pthread.h>
#include <math.h>
#include <string.h>

#include "engine/data/cl_augment.h"
#include "engine/data/cl_data.h"
#include "engine/nn/cl_loss.h"
#include "engine/analysis/cl_embedding_geometry.h"
#include "engine/analysis/cl_kmeans.h"
#include "engine/nn/cl_layers.h"
#include "engine/nn/cl_model.h"
#include "engine/analysis/cl_probe.h"
#include "engine/base/cl_rng.h"
#include "engine/data/cl_scenes.h"
#include "engine/data/cl_augment_color.h"

G_DEFINE_QUARK (cl - trainer - error - quark, cl_trainer_error)

/* pthread primitives rather than GMutex: GLib's futex-based locks are invisible to
 * ThreadSanitizer unless GLib itself is instrumented, and the thread bridge is checked with it. */
static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;

static SharedData *shared_last;

static SharedData *
shared_data_get (const char *base, const char *path, GError **error)
{
  g_autofree char *key = g_strdup_printf ("%s\n%s", base, path);
  pthread_mutex_lock (&shared_lock);
  if (shared_last && strcmp (shared_last->key, key) == 0)
    {
      g_atomic_int_inc (&shared_last->ref_count);
      SharedData *sd = shared_last;
      pthread_mutex_unlock (&shared_lock);
      return sd;
    }
  pthread_mutex_unlock (&shared_lock);

  ClDataset *ds = cl_dataset_load (base, path, error);
  if (!ds)
    return NULL;
  SharedData *sd = g_new0 (SharedData, 1);
  sd->ref_count = 2; /* caller + cache */
  sd->key = g_steal_pointer (&key);
  sd->ds = ds;
  pthread_mutex_lock (&shared_lock);
  SharedData *old = shared_last;
  shared_last = sd;
  pthread_mutex_unlock (&shared_lock);
  if (old && g_atomic_int_dec_and_test (&old->ref_count))
    {
      cl_dataset_free (old->ds);
      g_free (old->key);
      g_free (old);
    }
  return sd;
}

static void
shared_data_unref (SharedData *sd)
{
  if (sd && g_atomic_int_dec_and_test (&sd->ref_count))
    {
      cl_dataset_free (sd->ds);
      g_free (sd->key);
      g_free (sd);
    }
}

ClTrainer *
cl_trainer_new (const ClConfig *config, GError **error)
{
  ClTrainer *t = g_new0 (ClTrainer, 1);
  pthread_mutex_init (&t->lock, NULL);
  pthread_cond_init (&t->cond, NULL);
  pthread_mutex_init (&t->prep_lock, NULL);
  pthread_cond_init (&t->prep_cond, NULL);
  t->cfg = *config;
  t->requested = *config;

  t->data = shared_data_get (config->data_base, config->data_path, error);
  if (!t->data)
    {
      cl_trainer_free (t);
      return NULL;
    }
  t->ds = t->data->ds;
  /* A batch needs that many distinct training images (a smaller dataset crashed with SIGFPE in
   * the similarity images' draw, issue 16 #1; and a batch holding an image twice would make it
   * its own negative). */
  if (t->ds->train.n < config->train_batch)
    {
      g_set_error (error, CL_CONFIG_ERROR, CL_CONFIG_ERROR_BAD_VALUE,
                   "train.batch: %d is more than the %d training images of the dataset in %s; expected at most %d",
                   config->train_batch, t->ds->train.n, t->ds->dir ? t->ds->dir : "data.path", t->ds->train.n);
      cl_trainer_free (t);
      return NULL;
    }

  t->threads = config->train_threads > 0 ? config->train_threads : (int) g_get_num_processors ();
  cl_layers_use_threads (t->threads);

  ClSceneParams scene = {
    .kind = config->data_kind,
    .pool = config->data_pool,
    .overlay_layout = config->data_overlay_layout,
    .big_size = config->data_big_size,
    .tint = config->data_tint,
    .seed = (uint64_t) config->train_seed,
  };
  t->scenes = cl_scenes_new (&scene, t->ds, error);
  if (!t->scenes)
    {
      cl_trainer_free (t);
      return NULL;
    }
  cl_scene_geometry (&scene, t->ds, &t->img_channels, &t->height, &t->width);
  t->scene_buf = g_new (uint8_t, (size_t) t->img_channels * t->height * t->width);
  t->n_targets = cl_scene_targets (&scene, t->ds, t->targets, t->target_classes);
  /* randbits builds conv1 for every possible bit plane so data.bits can change live: only the
   * active planes are computed (cl_model_set_active_input_channels). Other kinds keep the run's
   * bit count, whose larger canvases would make 24 spare planes costly in memory. */
  t->max_bits = config->data_kind == CL_SCENE_RANDBITS ? CL_MAX_BITS : config->data_bits;
  t->in_channels = t->img_channels + t->max_bits;
  t->batch = config->train_batch;

  ClModelSpec spec;
  cl_model_spec_init (&spec);
  spec.in_channels = t->in_channels;
  spec.height = t->height;
  spec.width = t->width;
  spec.width_mult = config->model_width;
  spec.arch = config->model_arch == CL_ARCH_CONVN_DEEP   ? "convn-deep"
              : config->model_arch == CL_ARCH_CONVN_SAME ? "convn-same"
                                                         : "convn";
  spec.head_layers = config->model_head_layers;
  spec.max_views = 2 * t->batch;
  t->model = cl_model_new (&spec, (uint64_t) config->train_seed, error);
  if (!t->model)
    {
      cl_trainer_free (t);
      return NULL;
    }
  t->out_dim = cl_model_out_dim (t->model);
  cl_model_set_active_input_channels (t->model, t->img_channels + MIN (config->data_bits, t->max_bits));
  /* The bit planes after the image are constant over each view: conv1 folds them into a bias. */
  cl_model_set_constant_input_planes (t->model, t->img_channels);
  t->opt = cl_optimizer_new ((ClOptimizerKind) config->train_optimizer, cl_model_num_params (t->model),
                             cl_model_num_decay_params (t->model));
  size_t starts[32], counts[32];
  int n_layers = cl_model_kernel_ranges (t->model, starts, counts, 32);
  cl_optimizer_set_layers (t->opt, n_layers, starts, counts);

  size_t view = (size_t) t->in_channels * spec.height * spec.width;
  t->x = g_new (float, view * 2 * t->batch);
  t->dz = g_new (float, (size_t) 2 * t->batch * t->out_dim);
  t->loss_ws = g_new (float, cl_loss_workspace_floats_max (t->batch, t->out_dim));
  t->geometry_ws = g_new (float, cl_geometry_workspace_floats (t->batch, t->out_dim));

  t->train_codes = g_new (uint32_t, t->ds->train.n);
  for (int i = 0; i < t->ds->train.n; i++)
    t->train_codes[i] = cl_batch_image_code ((uint64_t) config->train_seed, 0, i);
  t->order = g_new (uint32_t, t->ds->train.n);
  const size_t preview_floats = (size_t) CL_PREVIEW_PAIRS * 2 * t->img_channels * spec.height * spec.width;
  t->preview.channels = t->img_channels;
  t->preview.height = spec.height;
  t->preview.width = spec.width;
  t->preview_pixels = g_new0 (float, preview_floats);
  t->views.x = g_new (float, view * 2 * t->batch);
  t->views.scene_buf = g_new (uint8_t, (size_t) t->img_channels * t->height * t->width);
  t->views.codes = g_new (uint32_t, t->batch);
  t->views.preview = t->preview;
  t->views.preview_pixels = g_new0 (float, preview_floats);
  /* With one core the helper would only take turns with the step. */
  t->prep_enabled = g_get_num_processors () > 1;
  cl_batch_shuffle_order (t, 0);

  cl_trainer_setup_probes (t);
  t->last_probe_step = -1;
  t->sim_m = MIN (MIN (config->probe_sim_images, t->batch), t->ds->train.n);
  t->sim_idx = g_new (uint32_t, t->sim_m);
  cl_pick_subset ((uint64_t) config->train_seed, 2, t->ds->train.n, t->sim_m, t->sim_idx);
  t->sim = g_new0 (float, (size_t) 4 * t->sim_m * t->sim_m);
  t->sim_label = g_new0 (int, 2 * t->sim_m);
  t->sim_code = g_new0 (uint32_t, 2 * t->sim_m);
  t->sim_step = -1;
  t->hist = cl_history_new (config->train_steps);
  t->config_ini = cl_config_to_ini (&t->cfg);
  t->timer = g_timer_new ();
  g_timer_stop (t->timer);
  cl_trainer_publish (t);
  return t;
}

void
cl_trainer_free (ClTrainer *t)
{
  if (!t)
    return;
  cl_trainer_request_stop (t);
  cl_trainer_wait (t);
  if (t->prep_started)
    {
      pthread_mutex_lock (&t->prep_lock);
      t->prep_quit = TRUE;
      pthread_cond_broadcast (&t->prep_cond);
      pthread_mutex_unlock (&t->prep_lock);
      pthread_join (t->prep_thread, NULL);
    }
  g_free (t->views.x);
  g_free (t->views.scene_buf);
  g_free (t->views.codes);
  g_free (t->views.preview_pixels);
  cl_model_free (t->model);
  if (t->opt)
    cl_optimizer_free (t->opt);
  g_free (t->x);
  g_free (t->dz);
  g_free (t->loss_ws);
  g_free (t->geometry_ws);
  g_free (t->train_codes);
  g_free (t->order);
  g_free (t->preview_pixels);
  g_free (t->probe_train_idx);
  g_free (t->probe_test_idx);
  g_free (t->probe_pixels[0]);
  g_free (t->probe_pixels[1]);
  for (int k = 0; k < CL_N_SCENE_TARGETS; k++)
    {
      g_free (t->probe_train_y[k]);
      g_free (t->probe_test_y[k]);
    }
  if (t->scenes)
    cl_scenes_free (t->scenes);
  g_free (t->scene_buf);
  g_free (t->probe_train_f);
  g_free (t->probe_test_f);
  g_free (t->probe_ws);
  cl_cluster_maps_unref (t->cluster_maps);
  g_free (t->sim_idx);
  g_free (t->sim);
  g_free (t->sim_label);
  g_free (t->sim_code);
  g_free (t->probe_train_bits);
  g_free (t->probe_test_bits);
  cl_history_unref (t->hist);
  g_free (t->config_ini);
  g_free (t->replay);
  g_free (t->error);
  if (t->timer)
    g_timer_destroy (t->timer);
  if (t->latest)
    cl_snapshot_unref (t->latest);
  shared_data_unref (t->data);
  pthread_mutex_destroy (&t->lock);
  pthread_cond_destroy (&t->cond);
  pthread_mutex_destroy (&t->prep_lock);
  pthread_cond_destroy (&t->prep_cond);
  g_free (t);
}

int
cl_trainer_threads (const ClTrainer *t)
{
  return t->threads;
}

/* Apply control changes made since the last step, recording each as an event. TRUE when a
 * new version of the controls was applied. */
static gboolean
apply_controls (ClTrainer *t)
{
  pthread_mutex_lock (&t->lock);
  if (t->requested_version == t->applied_version)
    {
      pthread_mutex_unlock (&t->lock);
      return FALSE;
    }
  ClConfig next = t->requested;
  t->applied_version = t->requested_version;
  pthread_mutex_unlock (&t->lock);

  int n_params;
  const ClParam *params = cl_params (&n_params);
  for (int i = 0; i < n_params; i++)
    {
      const ClParam *p = &params[i];
      if (cl_config_value_equal (&t->cfg, &next, p))
        continue;
      if (t->n_events < MAX_EVENTS)
        {
          ClEvent *ev = &t->hist->events[t->n_events++];
          ev->step = t->step + 1;
          g_strlcpy (ev->key, p->key, sizeof ev->key);
          g_autofree char *old_v = cl_config_get (&t->cfg, p);
          g_autofree char *new_v = cl_config_get (&next, p);
          g_strlcpy (ev->old_value, old_v, sizeof ev->old_value);
          g_strlcpy (ev->new_value, new_v, sizeof ev->new_value);
        }
    }
  t->cfg = next;
  cl_model_set_active_input_channels (t->model, t->img_channels + MIN (t->cfg.data_bits, t->max_bits));
  g_free (t->config_ini);
  t->config_ini = cl_config_to_ini (&t->cfg);
  return TRUE;
}

/* z of both augmented views of the fixed similarity images, through the model in evaluation
 * mode (so the sample does not disturb BatchNorm statistics), and their cosine similarities. */
static void
update_similarity (ClTrainer *t)
{
  int m = t->sim_m, h = t->height, w = t->width, plane = h * w, c = t->img_channels;
  size_t view_size = (size_t) t->in_channels * plane;
  int bits = MIN (t->cfg.data_bits, t->max_bits);
  ClAugParams aug = cl_batch_aug_params (t);
  uint64_t key = cl_hash64 ((uint64_t) t->cfg.train_seed ^ cl_hash64 ((uint64_t) t->step) ^ 0x5157ULL);
  for (int i = 0; i < m; i++)
    {
      int idx = (int) t->sim_idx[i];
      uint8_t labels[CL_N_SCENE_TARGETS];
      cl_scenes_render (t->scenes, 0, idx, t->scene_buf, labels, NULL);
      uint32_t code = t->train_codes[idx] & (bits >= 32 ? ~0u : (1u << bits) - 1u);
      for (int v = 0; v < 2; v++)
        {
          float *dst = t->x + (size_t) (v * m + i) * view_size;
          ClRng rng;
          cl_rng_seed (&rng, key, ((uint64_t) CL_STREAM_AUG << 32) | (uint64_t) (2 * i + v));
          cl_augment_view_color (t->scene_buf, c, h, w, &aug, &rng, dst);
          cl_batch_write_bit_planes (t, dst, code);
          t->sim_label[v * m + i] = labels[CL_TARGET_CLASS];
          t->sim_code[v * m + i] = code;
        }
    }
  const float *z = cl_model_forward (t->model, t->x, 2 * m, FALSE);
  int d = t->out_dim, rows = 2 * m;
  float *zn = t->dz; /* scratch: dz is only needed between a training forward and its backward */
  for (int r = 0; r < rows; r++)
    {
      double s = 0;
      for (int k = 0; k < d; k++)
        s += (double) z[(size_t) r * d + k] * z[(size_t) r * d + k];
      float inv = (float) (1.0 / fmax (sqrt (s), 1e-12));
      for (int k = 0; k < d; k++)
        zn[(size_t) r * d + k] = z[(size_t) r * d + k] * inv;
    }
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, rows, rows, d, 1.0f, zn, d, zn, d, 0.0f, t->sim, rows);
  t->sim_step = t->step;
}

/* Pooled marginal of z's coordinates, in the space the loss sees them (normalised or raw). */
static void
update_zhist (ClTrainer *t, const float *z)
{
  ClZHistogram *h = &t->zhist;
  ClLossKind kind = (ClLossKind) t->cfg.loss_kind;
  int rows = 2 * t->batch, d = t->out_dim;
  h->normalized = kind != CL_LOSS_SWD_NORMAL && kind != CL_LOSS_SWD_CUBE;
  h->lo = h->normalized ? -1.0f : -4.0f;
  h->hi = -h->lo;
  h->dim = d;
  h->loss_kind = kind;
  h->step = t->step + 1;
  double counts[CL_ZHIST_BINS] = { 0 };
  double scale = CL_ZHIST_BINS / (double) (h->hi - h->lo);
  for (int i = 0; i < rows; i++)
    {
      const float *zi = z + (size_t) i * d;
      double inv = 1.0;
      if (h->normalized)
        {
          double s = 0;
          for (int k = 0; k < d; k++)
            s += (double) zi[k] * zi[k];
          inv = 1.0 / fmax (sqrt (s), 1e-12);
        }
      for (int k = 0; k < d; k++)
        {
          int b = (int) floor ((zi[k] * inv - h->lo) * scale);
          counts[CLAMP (b, 0, CL_ZHIST_BINS - 1)] += 1;
        }
    }
  double norm = scale / ((double) rows * d);
  for (int b = 0; b < CL_ZHIST_BINS; b++)
    h->density[b] = (float) (counts[b] * norm);
}

/* Requests the replayed changes whose first step is the coming one, as cl_trainer_set would. */
static void
request_replayed (ClTrainer *t)
{
  if (t->replay_pos >= t->n_replay || t->replay[t->replay_pos].step > t->step + 1)
    return;
  pthread_mutex_lock (&t->lock);
  for (; t->replay_pos < t->n_replay && t->replay[t->replay_pos].step <= t->step + 1; t->replay_pos++)
    cl_config_set (&t->requested, t->replay[t->replay_pos].key, t->replay[t->replay_pos].new_value, NULL);
  t->requested_version++;
  pthread_mutex_unlock (&t->lock);
}

gboolean
cl_trainer_replay (ClTrainer *t, const ClEvent *events, int n_events, GError **error)
{
  ClConfig check = t->cfg;
  for (int i = 0; i < n_events; i++)
    {
      const ClEvent *e = &events[i];
      const ClParam *p = cl_param_lookup (e->key);
      if (i > 0 && e->step < events[i - 1].step)
        {
          g_set_error (error, CL_CONFIG_ERROR, CL_CONFIG_ERROR_BAD_VALUE,
                       "event %d (%s at step %" G_GINT64_FORMAT "): steps must not go back", i + 1, e->key, e->step);
          return FALSE;
        }
      if (e->step < 1 || (p && !(p->flags & CL_PARAM_LIVE)))
        {
          g_set_error (error, CL_CONFIG_ERROR, CL_CONFIG_ERROR_BAD_VALUE,
                       "event %d (%s at step %" G_GINT64_FORMAT "): %s", i + 1, e->key, e->step,
                       e->step < 1 ? "the first step is 1" : "only live parameters change during a run");
          return FALSE;
        }
      if (!cl_config_set (&check, e->key, e->new_value, error))
        {
          g_prefix_error (error, "event %d: ", i + 1);
          return FALSE;
        }
    }
  g_free (t->replay);
  t->replay = g_memdup2 (events, sizeof *events * (gsize) n_events);
  t->n_replay = n_events;
  t->replay_pos = 0;
  return TRUE;
}

/* The probes and clustering due at this step (cl_trainer_probes.c decides), with in_probe raised
 * around them for cl_trainer_is_probing. */
static void
maybe_probe_flagged (ClTrainer *t)
{
  g_atomic_int_set (&t->in_probe, 1);
  cl_trainer_maybe_probe (t);
  g_atomic_int_set (&t->in_probe, 0);
}

gboolean
cl_trainer_step (ClTrainer *t)
{
  if (t->step >= t->cfg.train_steps || t->error)
    return FALSE;
  request_replayed (t);
  if (apply_controls (t))
    cl_batch_prep_discard (t);
  maybe_probe_flagged (t);

  const ClBatch *batch = cl_batch_prep_take (t);
  const float *z = cl_model_forward (t->model, batch->x, 2 * t->batch, TRUE);
  /* The model keeps its own copy of the views: the helper may refill the batch already. */
  cl_batch_prep_launch (t, t->step + 1);
  ClLossParams lp = {
    .kind = (ClLossKind) t->cfg.loss_kind,
    .temperature = (float) t->cfg.loss_temperature,
    .lambda = (float) cl_trainer_effective_lambda (&t->cfg, t->out_dim),
  };
  ClRng loss_rng;
  cl_rng_seed (&loss_rng, cl_hash64 ((uint64_t) t->cfg.train_seed ^ cl_hash64 ((uint64_t) t->step)), CL_STREAM_LOSS);
  ClLossResult r = cl_loss_compute (&lp, z, t->batch, t->out_dim, &loss_rng, t->dz, t->loss_ws);
  ClGeometry geo;
  cl_geometry (z, t->batch, t->out_dim, t->geometry_ws, &geo);
  /* Checked as the row stores them (float): a double loss of 1e300 is finite, its float is not,
   * and the row would have been recorded with empty cells (issue 16 #8). Nothing of this step
   * is kept: the run has t->step whole steps, which the message says. */
  if (!isfinite ((float) r.loss) || !isfinite ((float) r.alignment) || !isfinite ((float) r.distribution) ||
      !isfinite ((float) geo.alignment) || !isfinite ((float) geo.uniformity) || !isfinite ((float) geo.z_std))
    {
      t->error = g_strdup_printf ("training diverged at step %" G_GINT64_FORMAT " (the loss or the embeddings are "
                                  "not finite) after %" G_GINT64_FORMAT " whole steps; try a lower train.lr or a "
                                  "higher loss.temperature",
                                  t->step + 1, t->step);
      return FALSE;
    }
  update_zhist (t, z);
  cl_model_backward (t->model, t->dz);
  float lr = (float) cl_trainer_lr_at (&t->cfg, t->step);
  cl_optimizer_step (t->opt, cl_model_params (t->model), cl_model_grads (t->model), lr,
                     (float) t->cfg.train_weight_decay);
  t->step++;

  ClMetricRow *row = &t->hist->rows[t->n_rows++];
  row->step = t->step;
  row->seconds = (float) g_timer_elapsed (t->timer, NULL);
  row->loss = (float) r.loss;
  row->alignment = (float) r.alignment;
  row->distribution = (float) r.distribution;
  row->contrastive_acc = (float) r.accuracy;
  row->temperature = (float) t->cfg.loss_temperature;
  row->lr = lr;
  row->wi_alignment = (float) geo.alignment;
  row->wi_uniformity = (float) geo.uniformity;
  row->z_std = (float) geo.z_std;
  row->code_collision = t->code_collision;
  maybe_probe_flagged (t);
  if (t->step % SIMILARITY_EVERY == 0 || t->step == 1 || t->step >= t->cfg.train_steps)
    update_similarity (t);
  return t->step < t->cfg.train_steps;
}

void
cl_trainer_publish (ClTrainer *t)
{
  ClSnapshot *s = g_new0 (ClSnapshot, 1);
  s->ref_count = 1;
  g_atomic_int_inc (&t->hist->ref_count);
  s->history = t->hist;
  s->rows = t->hist->rows;
  s->n_rows = t->n_rows;
  s->events = t->hist->events;
  s->n_events = t->n_events;
  s->zhist = t->zhist;
  s->clusters = t->cluster_maps ? cl_cluster_maps_ref (t->cluster_maps) : NULL;
  s->cluster_rows = t->hist->clusters;
  s->n_cluster_rows = t->n_cluster_rows;
  if (t->sim_step >= 0)
    {
      size_t n = (size_t) 2 * t->sim_m;
      s->similarity.m = t->sim_m;
      s->similarity.step = t->sim_step;
      s->similarity.sim = g_memdup2 (t->sim, sizeof (float) * n * n);
      s->similarity.label = g_memdup2 (t->sim_label, sizeof (int) * n);
      s->similarity.code = g_memdup2 (t->sim_code, sizeof (uint32_t) * n);
    }
  s->preview = t->preview;
  s->preview.pixels = g_memdup2 (t->preview_pixels, sizeof (float) * (size_t) CL_PREVIEW_PAIRS * 2 *
                                                        t->preview.channels * t->preview.height * t->preview.width);
  if (t->preview.n_pairs == 0)
    s->preview.n_pairs = 0;
  s->probes = t->hist->probes;
  s->n_probes = t->n_probes;
  s->step = t->step;
  s->total_steps = t->cfg.train_steps;
  s->seconds = g_timer_elapsed (t->timer, NULL);
  s->probe_seconds = t->probe_seconds;
  s->steps_per_second = t->steps_per_second;
  s->error = g_strdup (t->error);
  s->finished = t->error != NULL || t->step >= t->cfg.train_steps;
  s->config_ini = g_strdup (t->config_ini);

  pthread_mutex_lock (&t->lock);
  s->paused = t->paused;
  ClSnapshot *old = t->latest;
  t->latest = s;
  pthread_mutex_unlock (&t->lock);
  if (old)
    cl_snapshot_unref (old);
}

static void
update_rate (ClTrainer *t, double now)
{
  double dt = now - t->rate_t0;
  if (dt >= 0.5)
    {
      t->steps_per_second = (double) (t->step - t->rate_step0) / dt;
      t->rate_t0 = now;
      t->rate_step0 = t->step;
    }
}

static gpointer
trainer_thread (gpointer data)
{
  ClTrainer *t = data;
  cl_layers_apply_compute_nice ();
  for (;;)
    {
      pthread_mutex_lock (&t->lock);
      gboolean was_waiting = FALSE;
      while (t->paused && !t->stop)
        {
          if (!was_waiting)
            {
              /* Publish once on entering the pause, so readers see paused and a still rate. */
              g_timer_stop (t->timer);
              was_waiting = TRUE;
              t->steps_per_second = 0;
              pthread_mutex_unlock (&t->lock);
              cl_trainer_publish (t);
              pthread_mutex_lock (&t->lock);
              continue;
            }
          pthread_cond_wait (&t->cond, &t->lock);
        }
      gboolean stop = t->stop;
      pthread_mutex_unlock (&t->lock);
      if (was_waiting)
        {
          g_timer_continue (t->timer);
          t->rate_t0 = g_timer_elapsed (t->timer, NULL);
          t->rate_step0 = t->step;
        }
      if (stop)
        break;

      gboolean more = cl_trainer_step (t);
      double now = g_timer_elapsed (t->timer, NULL);
      update_rate (t, now);
      if (!more || now - t->last_publish >= PUBLISH_INTERVAL_S)
        {
          t->last_publish = now;
          cl_trainer_publish (t);
        }
      if (!more)
        break;
    }
  g_timer_stop (t->timer);
  cl_trainer_publish (t);
  return NULL;
}

void
cl_trainer_start (ClTrainer *t, gboolean paused)
{
  g_return_if_fail (t->thread == NULL);
  t->paused = paused;
  g_timer_start (t->timer);
  if (paused)
    g_timer_stop (t->timer);
  t->thread = g_thread_new ("cl-trainer", trainer_thread, t);
}

void
cl_trainer_set_paused (ClTrainer *t, gboolean paused)
{
  pthread_mutex_lock (&t->lock);
  t->paused = paused;
  pthread_cond_broadcast (&t->cond);
  pthread_mutex_unlock (&t->lock);
}

gboolean
cl_trainer_get_paused (ClTrainer *t)
{
  pthread_mutex_lock (&t->lock);
  gboolean p = t->paused;
  pthread_mutex_unlock (&t->lock);
  return p;
}

void
cl_trainer_wait (ClTrainer *t)
{
  if (t->thread)
    {
      g_thread_join (t->thread);
      t->thread = NULL;
    }
}

void
cl_trainer_request_stop (ClTrainer *t)
{
  pthread_mutex_lock (&t->lock);
  t->stop = TRUE;
  pthread_cond_broadcast (&t->cond);
  pthread_mutex_unlock (&t->lock);
}

gboolean
cl_trainer_set (ClTrainer *t, const char *key, const char *value, GError **error)
{
  pthread_mutex_lock (&t->lock);
  ClConfig current = t->requested;
  pthread_mutex_unlock (&t->lock);
  ClConfig next = current;
  if (!cl_config_set (&next, key, value, error))
    return FALSE;
  const ClParam *p = cl_param_lookup (key);
  if (p->offset == G_STRUCT_OFFSET (ClConfig, data_bits) && next.data_bits > t->max_bits)
    {
      g_set_error (error, CL_TRAINER_ERROR, CL_TRAINER_ERROR_NEEDS_RESTART,
                   "data.bits above %d needs a restart with this data.kind (only randbits sizes its input for all "
                   "%d bit planes)",
                   t->max_bits, CL_MAX_BITS);
      return FALSE;
    }
  if (!(p->flags & CL_PARAM_LIVE))
    {
      if (cl_config_value_equal (&current, &next, p))
        return TRUE;
      g_set_error (error, CL_TRAINER_ERROR, CL_TRAINER_ERROR_NEEDS_RESTART,
                   "%s cannot change during a run; it applies when the run restarts", key);
      return FALSE;
    }
  pthread_mutex_lock (&t->lock);
  /* Set on the latest requested values so two quick changes to different keys both survive. */
  cl_config_set (&t->requested, key, value, NULL);
  t->requested_version++;
  pthread_mutex_unlock (&t->lock);
  return TRUE;
}

void
cl_trainer_get_config (ClTrainer *t, ClConfig *out)
{
  pthread_mutex_lock (&t->lock);
  *out = t->requested;
  pthread_mutex_unlock (&t->lock);
}

gboolean
cl_trainer_is_probing (ClTrainer *t)
{
  return g_atomic_int_get (&t->in_probe) != 0;
}

ClSnapshot *
cl_trainer_get_snapshot (ClTrainer *t)
{
  pthread_mutex_lock (&t->lock);
  ClSnapshot *s = cl_snapshot_ref (t->latest);
  pthread_mutex_unlock (&t->lock);
  return s;
}
