/* The trainer's private parts, shared by the files of engine/train/ and by nothing else:
 * the run's state (struct ClTrainer), the batch being prepared, the history that snapshots
 * point into. The public API is cl_trainer.h; the immutable published data is cl_snapshot.h. */
#pragma once
#include "engine/train/cl_trainer.h"

#include <pthread.h>

#include "engine/data/cl_augment.h"
#include "engine/data/cl_data.h"
#include "engine/data/cl_scenes.h"
#include "engine/nn/cl_model.h"
#include "engine/nn/cl_optimizer.h"
#include "engine/analysis/cl_embedding_geometry.h"
#include "engine/analysis/cl_probe.h"

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

/* Append-only: published snapshots point into these arrays, and entries below a
 * published count are never written again. Sized at the start of the run. */
typedef struct
{
  gint ref_count;
  ClMetricRow *rows;
  int row_capacity;
  ClEvent *events;
  ClProbeRow *probes;
  ClClusterRow *clusters;
} ClHistory;

/* ---- dataset sharing: a reset must not reload 60k images ---- */

typedef struct
{
  gint ref_count;
  char *key;
  ClDataset *ds;
} SharedData;

/* ---- the run ---- */

/* The two views of every image of one step, and what building them learnt. */
typedef struct
{
  float *x;           /* [2 batch][in_channels][h][w]: view 1 in rows 0..B-1, view 2 in B..2B-1 */
  uint8_t *scene_buf; /* one rendered scene (the builder's own, so probes can render meanwhile) */
  uint32_t *codes;    /* scratch: the batch's masked codes, sorted to count collisions */
  float code_collision;
  ClViewPreview preview; /* pixels point into preview_pixels */
  float *preview_pixels;
  int64_t step; /* the 0-based step the views are for */
} ClBatch;

struct ClTrainer
{
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
  /* Replay: recorded live changes to apply again at their steps (cl_trainer_replay), by step. */
  ClEvent *replay;
  int n_replay, replay_pos;
  int n_probes;
  int64_t last_probe_step;
  gint in_probe;        /* atomic: 1 while the trainer thread is in its between-steps probes and clustering */
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
  ClProbeFitInfo probe_fit; /* the last logistic probe's fits (cl_probe_logistic_multi_tol's info) */
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

/* cl_snapshot.c */
ClHistory *cl_history_new (int rows);
void cl_history_unref (ClHistory *h);

/* cl_batch.c: the data order, bit codes and the two augmented views of each step */
void cl_batch_shuffle_order (ClTrainer *t, uint64_t epoch);
uint32_t cl_batch_image_code (uint64_t seed, int split, int index);
void cl_batch_fill_planes (float *dst, int plane_size, uint32_t code, int bits);
ClAugParams cl_batch_aug_params (const ClTrainer *t);
void cl_batch_write_bit_planes (const ClTrainer *t, float *view, uint32_t code);
void cl_batch_build_into (ClTrainer *t, ClBatch *b, int64_t step, const ClConfig *cfg);
void cl_batch_prep_wait (ClTrainer *t);
void cl_batch_prep_launch (ClTrainer *t, int64_t step);
void cl_batch_prep_discard (ClTrainer *t);
const ClBatch *cl_batch_prep_take (ClTrainer *t);

/* cl_trainer_probes.c: linear probes on frozen y, before the first step and every probe.every */
void cl_pick_subset (uint64_t seed, int split, int n_total, int n_pick, uint32_t *out);
void cl_trainer_setup_probes (ClTrainer *t);
void cl_trainer_run_probes (ClTrainer *t);
void cl_trainer_maybe_probe (ClTrainer *t);

/* cl_trainer_controls.c: control probes (the target on images without the competing feature),
 * run with the probes. */
void cl_trainer_run_control_probes (ClTrainer *t);

/* cl_trainer_clusters.c: k-means of local feature maps on fixed held-out canvases */
void cl_trainer_run_clusters (ClTrainer *t);
