#include "cl_trainer.h"

#include <cblas.h>
#include <pthread.h>
#include <math.h>
#include <string.h>

#include "cl_augment.h"
#include "cl_data.h"
#include "cl_loss.h"
#include "cl_metrics.h"
#include "cl_kmeans.h"
#include "cl_layers.h"
#include "cl_model.h"
#include "cl_probe.h"
#include "cl_rng.h"
#include "cl_scenes.h"
#include "cl_augment_color.h"

G_DEFINE_QUARK (cl-trainer-error-quark, cl_trainer_error)

#define MAX_EVENTS 4096
#define MAX_PROBE_ROWS 8192
/* Probe sizes are probe.images per split: the default 5000 gives a stable accuracy (+-0.7% at
 * 5000 test images) while probing every 100 steps costs a few percent of training time. */
#define PROBE_RIDGE_ALPHA 1e-3
#define SIMILARITY_EVERY 10
/* Local-feature clustering: probe.cluster_images fixed held-out canvases, bisecting k-means up to 8 clusters. */
#define CLUSTER_KMAX 8
/* Snapshots are published at most this often while training runs at full speed. */
#define PUBLISH_INTERVAL_S 0.05

/* Append-only: published snapshots point into these arrays, and entries below a
 * published count are never written again. Sized at the start of the run. */
typedef struct {
  gint ref_count;
  ClMetricRow *rows;
  int row_capacity;
  ClEvent *events;
  ClProbeRow *probes;
  ClClusterRow *clusters;
} ClHistory;

static ClHistory *
history_new (int rows)
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

static void
history_unref (ClHistory *h)
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
      history_unref (snap->history);
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

/* ---- dataset sharing: a reset must not reload 60k images ---- */

typedef struct {
  gint ref_count;
  char *key;
  ClDataset *ds;
} SharedData;

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

/* ---- the run ---- */

/* The two views of every image of one step, and what building them learnt. */
typedef struct {
  float *x;           /* [2 batch][in_channels][h][w]: view 1 in rows 0..B-1, view 2 in B..2B-1 */
  uint8_t *scene_buf; /* one rendered scene (the builder's own, so probes can render meanwhile) */
  uint32_t *codes;    /* scratch: the batch's masked codes, sorted to count collisions */
  float code_collision;
  ClViewPreview preview; /* pixels point into preview_pixels */
  float *preview_pixels;
  int64_t step; /* the 0-based step the views are for */
} ClBatch;

struct ClTrainer {
  /* Shared with other threads: guarded by lock. */
  pthread_mutex_t lock;
  pthread_cond_t cond;
  ClConfig requested;
  guint requested_version;
  gboolean paused;
  gboolean stop;
  ClSnapshot *latest;

  /* Trainer thread only. */
  ClConfig cfg;
  guint applied_version;
  SharedData *data;
  const ClDataset *ds;
  uint32_t *train_codes;
  ClScenes *scenes;
  int img_channels, height, width; /* of the rendered scene; bit planes follow its channels */
  uint8_t *scene_buf;              /* one rendered scene */
  int n_targets;                   /* scene targets (class first), probed besides the bits */
  ClSceneTarget targets[CL_N_SCENE_TARGETS];
  int target_classes[CL_N_SCENE_TARGETS];
  int in_channels;
  int max_bits;
  ClModel *model;
  ClOptimizer *opt;
  int batch;
  int out_dim;
  float *x;
  float *dz;
  float *loss_ws;
  float *geometry_ws;
  ClZHistogram zhist;
  uint32_t *order;
  float code_collision;  /* of the batch the last step trained on */
  ClViewPreview preview; /* of that batch; pixels point into preview_pixels */
  float *preview_pixels;
  int order_pos; /* the data order: only the batch builder moves it */
  uint64_t epoch;
  /* Batch preparation: while step t computes, a helper thread builds the batch of step t + 1 into
   * `views` with the configuration then in force. A control change at the start of step t + 1
   * throws it away and rewinds the data order, so every batch is exactly the one a sequential run
   * builds: same views, same numbers. The helper owns views, order and order_pos/epoch from
   * prep_launch to prep_wait; t->x stays the main thread's scratch for probes and similarity. */
  ClBatch views;
  gboolean views_valid; /* views holds the batch of views.step */
  gboolean prep_enabled;
  pthread_t prep_thread;
  gboolean prep_started;
  pthread_mutex_t prep_lock;
  pthread_cond_t prep_cond;
  gboolean prep_requested, prep_busy, prep_quit; /* guarded by prep_lock */
  ClConfig prep_cfg;                             /* the helper's copy, set before each request */
  int64_t prep_step;
  int prep_order_pos; /* data order before the prefetched batch, to rewind to */
  uint64_t prep_epoch;
  int64_t step;
  ClHistory *hist;
  int n_rows;
  int n_events;
  int n_probes;
  int64_t last_probe_step;
  double probe_seconds; /* wall time spent in probes, to keep their cost visible */
  /* The similarity sample: fixed images, their matrix, recomputed every SIMILARITY_EVERY steps. */
  int sim_m;
  uint32_t *sim_idx;
  float *sim;
  int *sim_label;
  uint32_t *sim_code;
  int64_t sim_step;
  int n_cluster_rows;
  ClClusterMaps *cluster_maps;
  /* Probe sets: fixed images from each split, their features and labels. */
  int probe_n_train, probe_n_test;
  uint32_t *probe_train_idx, *probe_test_idx;
  uint8_t *probe_train_y[CL_N_SCENE_TARGETS], *probe_test_y[CL_N_SCENE_TARGETS];
  float probe_target_chance[CL_N_SCENE_TARGETS];
  uint8_t *probe_train_bits, *probe_test_bits; /* [bit][image]: bit k of each probe image's code */
  float *probe_train_f, *probe_test_f;
  /* Each split's probe scenes as rendered once at the start ([i][channels][h][w] bytes): rendering
   * them again at every probe cost an eighth of the probe on 64x64 canvases. */
  uint8_t *probe_pixels[2];
  double *probe_ws;
  char *config_ini;
  GTimer *timer; /* runs only while training */
  double last_publish;
  double rate_t0;
  int64_t rate_step0;
  double steps_per_second;
  char *error;
  int threads;
  GThread *thread;
};

static void
shuffle_order (ClTrainer *t, uint64_t epoch)
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
static uint32_t
image_code (uint64_t seed, int split, int index)
{
  return (uint32_t) cl_hash64 (cl_hash64 (seed ^ ((uint64_t) CL_STREAM_BITS << 56)) + ((uint64_t) split << 40) + (uint64_t) index);
}

static void
fill_planes (float *dst, int plane_size, uint32_t code, int bits)
{
  for (int k = 0; k < bits; k++)
    {
      float v = (float) ((code >> k) & 1u);
      float *plane = dst + (size_t) k * plane_size;
      for (int j = 0; j < plane_size; j++)
        plane[j] = v;
    }
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

static ClAugParams
aug_params (const ClTrainer *t)
{
  return (ClAugParams) {
    .crop_min_area = (float) t->cfg.aug_crop_min_area,
    .flip = (float) t->cfg.aug_flip,
    .jitter = (float) t->cfg.aug_jitter,
    .noise = (float) t->cfg.aug_noise,
  };
}

/* The bit planes of code after the image channels of one view. */
static void
write_bit_planes (const ClTrainer *t, float *view, uint32_t code)
{
  int plane = t->height * t->width, bits = MIN (t->cfg.data_bits, t->max_bits);
  /* Planes beyond data.bits are left as they are: the model only reads the active ones. */
  fill_planes (view + (size_t) t->img_channels * plane, plane, code, bits);
}

static void
pick_subset (uint64_t seed, int split, int n_total, int n_pick, uint32_t *out)
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

static void
setup_probes (ClTrainer *t)
{
  const ClDataset *ds = t->ds;
  int dim = cl_model_rep_dim (t->model);
  t->probe_n_train = MIN (t->cfg.probe_images, ds->train.n);
  t->probe_n_test = MIN (t->cfg.probe_images, ds->test.n);
  t->probe_train_idx = g_new (uint32_t, t->probe_n_train);
  t->probe_test_idx = g_new (uint32_t, t->probe_n_test);
  pick_subset ((uint64_t) t->cfg.train_seed, 0, ds->train.n, t->probe_n_train, t->probe_train_idx);
  pick_subset ((uint64_t) t->cfg.train_seed, 1, ds->test.n, t->probe_n_test, t->probe_test_idx);

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

  t->probe_train_f = g_new (float, (size_t) t->probe_n_train * dim);
  t->probe_test_f = g_new (float, (size_t) t->probe_n_test * dim);
  t->probe_ws = g_new (double, cl_probe_workspace_doubles (dim, total_classes + 2 * CL_MAX_BITS));
  t->probe_train_bits = g_new (uint8_t, (size_t) CL_MAX_BITS * t->probe_n_train);
  t->probe_test_bits = g_new (uint8_t, (size_t) CL_MAX_BITS * t->probe_n_test);
  for (int k = 0; k < CL_MAX_BITS; k++)
    {
      for (int i = 0; i < t->probe_n_train; i++)
        t->probe_train_bits[(size_t) k * t->probe_n_train + i]
          = (image_code ((uint64_t) t->cfg.train_seed, 0, (int) t->probe_train_idx[i]) >> k) & 1u;
      for (int i = 0; i < t->probe_n_test; i++)
        t->probe_test_bits[(size_t) k * t->probe_n_test + i]
          = (image_code ((uint64_t) t->cfg.train_seed, 1, (int) t->probe_test_idx[i]) >> k) & 1u;
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
          write_bit_planes (t, dst, image_code ((uint64_t) t->cfg.train_seed, split, id));
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
 * mean as "bits". All share one ridge fit of the same features. */
static void
run_probes (ClTrainer *t)
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
  if (!cl_probe_ridge_multi (t->probe_train_f, t->probe_n_train, t->probe_test_f, t->probe_n_test, dim, nt + bits,
                             train_y, test_y, classes, PROBE_RIDGE_ALPHA, t->probe_ws, acc))
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


static const int cluster_ks[CL_CLUSTER_KS] = { 2, 4, 8 };
static const char *const cluster_layer_names[CL_CLUSTER_LAYERS] = { "pixels", "conv1", "conv2", "conv3" };

/* Scores one clustering of a grid of n cells against the canvas' instance mask on that grid. */
static void
score_clusters (const int *labels, int k, const uint8_t *grid_inst, const uint8_t *grid_fg, int n, double *iou,
                double *ari)
{
  *iou = cl_best_union_iou (labels, k, grid_fg, n);
  *ari = cl_foreground_ari (labels, grid_inst, n);
}

/* For each layer (raw pixels first) and k: bisecting k-means of the L2-normalised channel
 * vectors of each position, scored against ground truth, averaged over the fixed canvases.
 * Runs at probe time on the trainer thread (it allocates: it is not part of the step). */
static void
run_clusters (ClTrainer *t)
{
  int h = t->height, w = t->width, plane = h * w, c = t->img_channels;
  size_t view_size = (size_t) t->in_channels * plane;
  /* The canvases go through the step's input buffer and one forward: at most 2 x batch of them. */
  int n_img = MIN (MIN (t->cfg.probe_cluster_images, t->probe_n_test), 2 * t->batch);
  uint8_t *masks = g_new (uint8_t, (size_t) n_img * plane);
  for (int i = 0; i < n_img; i++)
    {
      int id = (int) t->probe_test_idx[i];
      cl_scenes_render (t->scenes, 1, id, t->scene_buf, NULL, masks + (size_t) i * plane);
      float *dst = t->x + (size_t) i * view_size;
      for (int j = 0; j < c * plane; j++)
        dst[j] = t->scene_buf[j] * (1.0f / 255.0f);
      write_bit_planes (t, dst, image_code ((uint64_t) t->cfg.train_seed, 1, id));
    }
  cl_model_forward (t->model, t->x, n_img, FALSE);

  ClClusterMaps *maps = g_new0 (ClClusterMaps, 1);
  maps->ref_count = 1;
  maps->step = t->step;
  maps->n_layers = MIN (CL_CLUSTER_LAYERS, 1 + cl_model_num_conv_layers (t->model));
  for (int l = 0; l < CL_CLUSTER_LAYERS; l++)
    maps->layer_names[l] = cluster_layer_names[l];
  for (int j = 0; j < CL_CLUSTER_KS; j++)
    maps->ks[j] = cluster_ks[j];
  maps->img_c = c;
  maps->img_h = h;
  maps->img_w = w;
  maps->image = g_memdup2 (t->x, sizeof (float) * (size_t) c * plane);

  double sum_iou[CL_CLUSTER_LAYERS * CL_CLUSTER_KS] = { 0 }, sum_ari[CL_CLUSTER_LAYERS * CL_CLUSTER_KS] = { 0 };
  int n_iou[CL_CLUSTER_LAYERS * CL_CLUSTER_KS] = { 0 }, n_ari[CL_CLUSTER_LAYERS * CL_CLUSTER_KS] = { 0 };
  for (int l = 0; l < maps->n_layers; l++)
    {
      int ch, gh, gw;
      const float *act = NULL;
      if (l == 0)
        ch = c, gh = h, gw = w;
      else
        act = cl_model_conv_activation (t->model, l - 1, &ch, &gh, &gw);
      int n = gh * gw;
      maps->grid_h[l] = gh;
      maps->grid_w[l] = gw;
      float *x = g_new (float, (size_t) n * ch);
      float *ws = g_new (float, cl_kmeans_bisect_workspace_floats (n, ch, CLUSTER_KMAX));
      int *labels = g_new (int, (size_t) (CLUSTER_KMAX - 1) * n);
      int *parents = g_new (int, (size_t) (CLUSTER_KMAX - 1) * CLUSTER_KMAX);
      uint8_t *grid_inst = g_new (uint8_t, n), *grid_fg = g_new (uint8_t, n);
      for (int i = 0; i < n_img; i++)
        {
          const float *chw = l == 0 ? t->x + (size_t) i * view_size : act + (size_t) i * ch * n;
          /* Raw pixels are clustered as they are (normalising a grey value leaves only its sign). */
          cl_kmeans_positions (chw, ch, gh, gw, l > 0, x);
          cl_kmeans_bisect (x, n, ch, CLUSTER_KMAX, 2, (uint64_t) t->cfg.train_seed + (uint64_t) i, labels, parents, ws);
          /* The mask on this layer's grid, once for every k. */
          cl_downsample_labels (masks + (size_t) i * plane, h, w, gh, gw, grid_inst);
          for (int c = 0; c < n; c++)
            grid_fg[c] = grid_inst[c] > 0;
          for (int j = 0; j < CL_CLUSTER_KS; j++)
            {
              int k = cluster_ks[j];
              const int *lk = labels + (size_t) (k - 2) * n;
              double iou, ari;
              score_clusters (lk, k, grid_inst, grid_fg, n, &iou, &ari);
              int cell = l * CL_CLUSTER_KS + j;
              if (isfinite (iou))
                sum_iou[cell] += iou, n_iou[cell]++;
              if (isfinite (ari))
                sum_ari[cell] += ari, n_ari[cell]++;
              if (i == 0)
                {
                  maps->labels[cell] = g_memdup2 (lk, sizeof (int) * n);
                  if (j > 0)
                    {
                      maps->parent[cell] = g_new (int, k);
                      cl_kmeans_bisect_ancestors (parents, CLUSTER_KMAX, cluster_ks[j - 1], k, maps->parent[cell]);
                    }
                }
            }
        }
      g_free (x);
      g_free (ws);
      g_free (labels);
      g_free (parents);
      g_free (grid_inst);
      g_free (grid_fg);
    }
  for (int l = 0; l < maps->n_layers; l++)
    for (int j = 0; j < CL_CLUSTER_KS; j++)
      {
        int cell = l * CL_CLUSTER_KS + j;
        maps->iou[cell] = n_iou[cell] ? sum_iou[cell] / n_iou[cell] : NAN;
        maps->ari[cell] = n_ari[cell] ? sum_ari[cell] / n_ari[cell] : NAN;
        if (t->n_cluster_rows < MAX_PROBE_ROWS)
          {
            ClClusterRow *r = &t->hist->clusters[t->n_cluster_rows++];
            r->step = t->step;
            g_strlcpy (r->layer, cluster_layer_names[l], sizeof r->layer);
            r->k = cluster_ks[j];
            r->object_iou = (float) maps->iou[cell];
            r->instance_ari = (float) maps->ari[cell];
          }
      }
  g_free (masks);
  ClClusterMaps *old = t->cluster_maps;
  t->cluster_maps = maps;
  cl_cluster_maps_unref (old);
}

/* Probes run before the first step (the untrained-encoder baseline), every probe.every steps,
 * and after the last step. */
static void
maybe_probe (ClTrainer *t)
{
  if (t->last_probe_step == t->step)
    return;
  gboolean due = t->step == 0 || t->step >= t->cfg.train_steps
                 || (t->cfg.probe_every > 0 && t->step % t->cfg.probe_every == 0);
  if (due)
    {
      run_probes (t);
      gint64 t0 = g_get_monotonic_time ();
      run_clusters (t);
      t->probe_seconds += (g_get_monotonic_time () - t0) / 1e6;
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

  t->threads = config->train_threads > 0 ? config->train_threads : (int) g_get_num_processors ();
  cl_layers_use_threads (t->threads);

  ClSceneParams scene = {
    .kind = config->data_kind,
    .pool = config->data_pool,
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
  spec.arch = config->model_arch == CL_ARCH_CONVN_SAME ? "convn-same" : "convn";
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
    t->train_codes[i] = image_code ((uint64_t) config->train_seed, 0, i);
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
  shuffle_order (t, 0);

  setup_probes (t);
  t->last_probe_step = -1;
  t->sim_m = MIN (config->probe_sim_images, t->batch);
  t->sim_idx = g_new (uint32_t, t->sim_m);
  pick_subset ((uint64_t) config->train_seed, 2, t->ds->train.n, t->sim_m, t->sim_idx);
  t->sim = g_new0 (float, (size_t) 4 * t->sim_m * t->sim_m);
  t->sim_label = g_new0 (int, 2 * t->sim_m);
  t->sim_code = g_new0 (uint32_t, 2 * t->sim_m);
  t->sim_step = -1;
  t->hist = history_new (config->train_steps);
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
  history_unref (t->hist);
  g_free (t->config_ini);
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
/* z of both augmented views of the fixed similarity images, through the model in evaluation
 * mode (so the sample does not disturb BatchNorm statistics), and their cosine similarities. */
static void
update_similarity (ClTrainer *t)
{
  int m = t->sim_m, h = t->height, w = t->width, plane = h * w, c = t->img_channels;
  size_t view_size = (size_t) t->in_channels * plane;
  int bits = MIN (t->cfg.data_bits, t->max_bits);
  ClAugParams aug = aug_params (t);
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
          write_bit_planes (t, dst, code);
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
static void
build_batch_into (ClTrainer *t, ClBatch *b, int64_t step, const ClConfig *cfg)
{
  const ClImageSet *set = &t->ds->train;
  int h = t->height, w = t->width, plane = h * w, c = t->img_channels;
  size_t view_size = (size_t) t->in_channels * plane;
  ClAugParams aug = {
    .crop_min_area = (float) cfg->aug_crop_min_area,
    .flip = (float) cfg->aug_flip,
    .jitter = (float) cfg->aug_jitter,
    .noise = (float) cfg->aug_noise,
  };
  uint64_t step_key = cl_hash64 ((uint64_t) cfg->train_seed ^ cl_hash64 ((uint64_t) step));
  int bits = MIN (cfg->data_bits, t->max_bits);

  for (int i = 0; i < t->batch; i++)
    {
      if (t->order_pos >= set->n)
        shuffle_order (t, ++t->epoch);
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
          cl_augment_view_color (b->scene_buf, c, h, w, &aug, &rng, dst);
          uint32_t view_code = (v == 1 && u < cfg->data_bit_resample) ? fresh : code;
          if (i < CL_PREVIEW_PAIRS)
            {
              memcpy (b->preview_pixels + (size_t) (2 * i + v) * c * plane, dst, sizeof (float) * c * plane);
              b->preview.codes[i][v] = view_code;
            }
          /* Planes beyond data.bits are left as they are: the model only reads the active ones. */
          fill_planes (dst + (size_t) c * plane, plane, view_code, bits);
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
      build_batch_into (t, &t->views, t->prep_step, &t->prep_cfg);
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
static void
prep_wait (ClTrainer *t)
{
  if (!t->prep_started)
    return;
  pthread_mutex_lock (&t->prep_lock);
  while (t->prep_requested || t->prep_busy)
    pthread_cond_wait (&t->prep_cond, &t->prep_lock);
  pthread_mutex_unlock (&t->prep_lock);
}

/* Asks the helper for the batch of `step` with the current configuration. */
static void
prep_launch (ClTrainer *t, int64_t step)
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
  prep_wait (t);
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
static void
prep_discard (ClTrainer *t)
{
  prep_wait (t);
  if (!t->views_valid)
    return;
  t->views_valid = FALSE;
  if (t->epoch != t->prep_epoch)
    shuffle_order (t, t->prep_epoch);
  t->epoch = t->prep_epoch;
  t->order_pos = t->prep_order_pos;
}

/* The batch of the current step: the prefetched one, or built now. Publishes its preview. */
static const ClBatch *
prep_take (ClTrainer *t)
{
  prep_wait (t);
  if (!t->views_valid || t->views.step != t->step)
    {
      prep_discard (t);
      build_batch_into (t, &t->views, t->step, &t->cfg);
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
  prep_discard (t);
  t->prep_enabled = enabled;
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

double
cl_trainer_lr_at (const ClConfig *cfg, int64_t step)
{
  double progress = (double) step / (double) cfg->train_steps;
  if (cfg->train_optimizer != CL_OPTIMIZER_LARS)
    return cfg->train_lr * (1.0 - progress); /* the RandBits colab's polynomial (linear) decay */
  /* SimCLR: linear warm-up, then cosine decay to 0. */
  double warmup = 0.1 * cfg->train_steps;
  if (step < warmup)
    return cfg->train_lr * (step + 1) / warmup;
  double p = (step - warmup) / MAX (1.0, cfg->train_steps - warmup);
  return cfg->train_lr * 0.5 * (1.0 + cos (M_PI * p));
}

double
cl_trainer_effective_lambda (const ClConfig *cfg, int out_dim)
{
  if (cfg->loss_lambda >= 0)
    return cfg->loss_lambda;
  if (cfg->loss_kind == CL_LOSS_DECOUPLED)
    return cfg->loss_temperature / out_dim;
  return CL_SWD_AUTO_LAMBDA;
}

gboolean
cl_trainer_step (ClTrainer *t)
{
  if (t->step >= t->cfg.train_steps || t->error)
    return FALSE;
  if (apply_controls (t))
    prep_discard (t);
  maybe_probe (t);

  const ClBatch *batch = prep_take (t);
  const float *z = cl_model_forward (t->model, batch->x, 2 * t->batch, TRUE);
  /* The model keeps its own copy of the views: the helper may refill the batch already. */
  prep_launch (t, t->step + 1);
  ClLossParams lp = {
    .kind = (ClLossKind) t->cfg.loss_kind,
    .temperature = (float) t->cfg.loss_temperature,
    .lambda = (float) cl_trainer_effective_lambda (&t->cfg, t->out_dim),
  };
  ClRng loss_rng;
  cl_rng_seed (&loss_rng, cl_hash64 ((uint64_t) t->cfg.train_seed ^ cl_hash64 ((uint64_t) t->step)), CL_STREAM_LOSS);
  ClLossResult r = cl_loss_compute (&lp, z, t->batch, t->out_dim, &loss_rng, t->dz, t->loss_ws);
  if (!isfinite (r.loss))
    {
      t->error = g_strdup_printf ("training diverged at step %" G_GINT64_FORMAT
                                  " (loss is not finite); try a lower train.lr or a higher loss.temperature",
                                  t->step + 1);
      return FALSE;
    }
  ClGeometry geo;
  cl_geometry (z, t->batch, t->out_dim, t->geometry_ws, &geo);
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
  maybe_probe (t);
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
  s->preview.pixels = g_memdup2 (t->preview_pixels, sizeof (float) * (size_t) CL_PREVIEW_PAIRS * 2
                                                        * t->preview.channels * t->preview.height * t->preview.width);
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
                   "%d bit planes)", t->max_bits, CL_MAX_BITS);
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

ClSnapshot *
cl_trainer_get_snapshot (ClTrainer *t)
{
  pthread_mutex_lock (&t->lock);
  ClSnapshot *s = cl_snapshot_ref (t->latest);
  pthread_mutex_unlock (&t->lock);
  return s;
}
