/* What the trainer publishes: immutable, ref-counted views of the run.
 * Readers (GUI frame callback, headless progress, export) only ever read a snapshot;
 * the trainer never changes what a published snapshot points at. */
#pragma once
#include <glib.h>
#include <stdint.h>

/* One logged step. Columns of metrics.csv follow this order. */
typedef struct
{
  int64_t step;
  float seconds; /* wall time since the run started (pauses excluded) */
  float loss;
  float alignment;
  float distribution;
  float contrastive_acc;
  float temperature;    /* value in force at this step */
  float lr;             /* learning rate used at this step */
  float wi_alignment;   /* Wang & Isola alignment of normalised z (0 = views identical) */
  float wi_uniformity;  /* Wang & Isola uniformity (more negative = more spread out) */
  float code_collision; /* randbits: fraction of batch images whose data.bits code another batch image shares */
  float z_std; /* collapse indicator: mean per-dimension std of normalised z; ~1/sqrt(d) healthy, 0 collapsed */
} ClMetricRow;

/* One linear-probe evaluation: accuracy on held-out images of a target read off frozen y. */
typedef struct
{
  int64_t step;    /* steps completed when the probe ran (0 = untrained encoder) */
  char target[24]; /* "class", later "bits", "bit0", ..., "background_clean" */
  float accuracy;
  float chance; /* accuracy of always guessing the most common test label */
} ClProbeRow;

/* A control changed by the user (or a preset) while the run was going. */
typedef struct
{
  int64_t step; /* first step that used the new value */
  char key[40];
  char old_value[40];
  char new_value[40];
} ClEvent;

/* Pooled marginal density of the coordinates of z in the latest batch (all rows, all
 * dimensions), for comparing with the prior the loss pulls z toward. */
#define CL_ZHIST_BINS 64
typedef struct
{
  float density[CL_ZHIST_BINS]; /* integrates to 1 over [lo, hi]; values outside are clipped into the end bins */
  float lo, hi;
  int normalized; /* z was L2-normalised first (ntxent, decoupled, swd-sphere) */
  int dim;        /* d, the dimension of z */
  int loss_kind;  /* ClLossKind in force */
  int64_t step;   /* step whose batch this is (0 = none yet) */
} ClZHistogram;

/* The first few images of the latest batch as the model saw them: both augmented views and
 * the bit codes appended to each (they differ where data.bit_resample re-drew view 2's bits). */
#define CL_PREVIEW_PAIRS 6
typedef struct
{
  int n_pairs; /* 0 until the first step */
  int channels, height, width;
  int bits;      /* data.bits in force */
  float *pixels; /* [pair][view][channel][y][x], owned by the snapshot */
  uint32_t codes[CL_PREVIEW_PAIRS][2];
  int64_t step;
} ClViewPreview;

/* Cosine similarity of z for a fixed sample of m training images x 2 augmented views
 * (rows 0..m-1 view 1, m..2m-1 view 2), recomputed every few steps with the frozen model. */
typedef struct
{
  int m;          /* 0 until computed */
  float *sim;     /* [2m][2m], owned by the snapshot */
  int *label;     /* [2m] class of each row */
  uint32_t *code; /* [2m] bit code (masked to data.bits) of each row's view */
  int64_t step;
} ClSimilarity;

/* Local-feature clustering (paper section 2), measured at each probe: bisecting k-means of
 * each layer's feature map (and raw pixels), scored against the scenes' ground truth. */
typedef struct
{
  int64_t step;
  char layer[16]; /* "pixels", "conv1", "conv2", "conv3" */
  int k;
  float object_iou;   /* best union of clusters vs the foreground mask (mean over images) */
  float instance_ari; /* ARI of clusters vs instances on foreground positions (mean over images) */
} ClClusterRow;

#define CL_CLUSTER_LAYERS 4 /* pixels + the three convs */
#define CL_CLUSTER_KS 3     /* k = 2, 4, 8 */
/* Label maps of the first probe canvas for the figure; shared (ref-counted) between snapshots. */
typedef struct
{
  gint ref_count;
  int64_t step;
  int n_layers;
  const char *layer_names[CL_CLUSTER_LAYERS];
  int ks[CL_CLUSTER_KS];
  int img_c, img_h, img_w;
  float *image; /* [c][h][w] in [0, 1] */
  int grid_h[CL_CLUSTER_LAYERS], grid_w[CL_CLUSTER_LAYERS];
  int *labels[CL_CLUSTER_LAYERS * CL_CLUSTER_KS]; /* [layer * KS + col] -> [grid_h * grid_w] */
  int *parent[CL_CLUSTER_LAYERS * CL_CLUSTER_KS]; /* parent at the previous column's k, NULL in column 0 */
  double iou[CL_CLUSTER_LAYERS * CL_CLUSTER_KS], ari[CL_CLUSTER_LAYERS * CL_CLUSTER_KS]; /* means over n_images */
  /* the drawn canvas's own scores (the label maps above are of that canvas) */
  double iou_drawn[CL_CLUSTER_LAYERS * CL_CLUSTER_KS], ari_drawn[CL_CLUSTER_LAYERS * CL_CLUSTER_KS];
  int n_images; /* canvases the means are over (probe.cluster_images) */
} ClClusterMaps;

ClClusterMaps *cl_cluster_maps_ref (ClClusterMaps *maps);
void cl_cluster_maps_unref (ClClusterMaps *maps);

typedef struct ClSnapshot ClSnapshot;
struct ClSnapshot
{
  /* private */
  gint ref_count;
  gpointer history; /* ref on the shared append-only history */
  /* public, read-only */
  int64_t step;            /* steps completed */
  int64_t total_steps;     /* train.steps */
  double seconds;          /* training wall time (probes included) */
  double probe_seconds;    /* of which spent fitting and evaluating probes */
  double steps_per_second; /* recent rate */
  gboolean paused;
  gboolean finished;       /* reached total_steps, or stopped with an error */
  char *error;             /* non-NULL if the run failed */
  const ClMetricRow *rows; /* n_rows logged rows, oldest first */
  int n_rows;
  const ClEvent *events; /* n_events control changes, oldest first */
  int n_events;
  ClZHistogram zhist;
  ClViewPreview preview;
  ClSimilarity similarity;
  ClClusterMaps *clusters;          /* NULL until the first probe; shared, read-only */
  const ClClusterRow *cluster_rows; /* n_cluster_rows, oldest first */
  int n_cluster_rows;
  const ClProbeRow *probes; /* n_probes probe results, oldest first */
  int n_probes;
  char *config_ini; /* the complete run.ini text of the values in force */
};

ClSnapshot *cl_snapshot_ref (ClSnapshot *snap);
/* A finished run's snapshot built from rows read back from files (a run folder, --open DIR), so
 * the figures draw it like a live run. Takes ownership of the g_malloc'd arrays (any may be NULL)
 * and of config_ini; step/seconds/total_steps come from the last rows; finished is TRUE. */
ClSnapshot *cl_snapshot_new_from_rows (ClMetricRow *rows, int n_rows, ClEvent *events, int n_events, ClProbeRow *probes,
                                       int n_probes, ClClusterRow *clusters, int n_clusters, char *config_ini);
void cl_snapshot_unref (ClSnapshot *snap);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ClSnapshot, cl_snapshot_unref)
