#include "engine/base/cl_params.h"

#include "engine/base/cl_file.h"
#include "engine/base/cl_text.h"

#include "cl_config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

G_DEFINE_QUARK (cl - config - error - quark, cl_config_error)

/* Same order as ClSceneKind in cl_scenes.h. */
static const char *const data_kinds[] = { "randbits", "overlay", "two-objects", "multi-objects", NULL };
/* Same order as ClOverlayLayout in cl_scenes.h. */
static const char *const overlay_layouts[] = { "glyphs-3x3", "code-tiled", NULL };
/* Same order as ClLossKind in cl_loss.h. */
static const char *const loss_kinds[] = { "ntxent", "decoupled", "swd-normal", "swd-cube", "swd-sphere", NULL };
static const char *const archs[] = { "convn", "convn-same", "convn-deep", NULL };
static const char *const optimizers[] = { "adam", "sgd", "lars", NULL };
/* Same order as ClProbeKind in cl_probe.h. */
static const char *const probe_kinds[] = { "logistic", "ridge", NULL };

/* data_kinds indices (ClSceneKind's order), for CL_PARAM_FOR_KIND in the table. */
enum
{
  KIND_RANDBITS,
  KIND_OVERLAY,
  KIND_TWO_OBJECTS,
  KIND_MULTI_OBJECTS
};
#define ONLY(name) CL_PARAM_FOR_KIND (KIND_##name)
/* loss_kinds indices (ClLossKind's order), for CL_PARAM_FOR_LOSS. */
enum
{
  LOSS_NTXENT,
  LOSS_DECOUPLED,
  LOSS_SWD_NORMAL,
  LOSS_SWD_CUBE,
  LOSS_SWD_SPHERE
};
#define FOR_LOSS(name) CL_PARAM_FOR_LOSS (LOSS_##name)
#define OFF(field) offsetof (ClConfig, field)
#define SZ(field) sizeof (((ClConfig *) 0)->field)

/* Keep the keys in DESIGN.md's contract spelled exactly; extend, never rename. */
static const ClParam params[] = {
  { "data.base", "Base dataset", CL_PARAM_STRING, OFF (data_base), SZ (data_base), 0, 0, 0, "fashion-mnist", NULL, "",
    "Base image dataset: fashion-mnist (Debian package dataset-fashion-mnist)", 0 },
  { "data.path", "Dataset folder", CL_PARAM_STRING, OFF (data_path), SZ (data_path), 0, 0, 0, "", NULL, "",
    "Folder of MNIST-format IDX files ({train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]); overrides data.base's "
    "folder",
    0 },
  { "data.kind", "Dataset", CL_PARAM_ENUM, OFF (data_kind), 0, 0, 0, 0, NULL, data_kinds, "",
    "Dataset construction: randbits = the images (plus data.bits random-bit planes); overlay = a pattern from a pool "
    "of "
    "data.pool replicated 3x3 over an upscaled image (DigitOnImageNet); two-objects = a small and a large item "
    "(MultiDigits object size); multi-objects = 2-4 items on a textured 64x64 canvas",
    0 },
  { "data.pool", "Overlay patterns", CL_PARAM_INT, OFF (data_pool), 0, 1, 4096, 16, NULL, NULL, "patterns",
    "overlay: number of unique patterns stamped on the images (more patterns = more competing information)",
    ONLY (OVERLAY) },
  { "data.big_size", "Large item size", CL_PARAM_INT, OFF (data_big_size), 0, 14, 56, 28, NULL, NULL, "px",
    "two-objects: side of the large item (the small one is 14 px)", ONLY (TWO_OBJECTS) },
  { "data.tint", "Colour tint per image", CL_PARAM_INT, OFF (data_tint), 0, 0, 1, 0, NULL, NULL, "",
    "1 = give each image a fixed random colour tint (a competing feature; aug.jitter's hue/saturation can remove it)",
    0 },
  { "data.bits", "Random bits per image", CL_PARAM_INT, OFF (data_bits), 0, 0, 24, 0, NULL, NULL, "bits",
    "Competing random bits: constant input planes carrying a fixed per-image code, identical in both views "
    "(live with data.kind=randbits)",
    CL_PARAM_LIVE },
  { "data.bit_resample", "Bit resampling probability", CL_PARAM_FLOAT, OFF (data_bit_resample), 0, 0, 1, 0, NULL, NULL,
    "",
    "Probability that one view's bits are re-drawn at random (an augmentation of the bits; an extension, not in the "
    "paper)",
    CL_PARAM_LIVE },
  { "data.bg_per_view", "Background re-drawn per view", CL_PARAM_INT, OFF (data_bg_per_view), 0, 0, 1, 0, NULL, NULL,
    "",
    "multi-objects: 1 = each augmented view gets a freshly drawn background texture (same items in the same places), "
    "so the background no longer tells images apart; 0 = both views share the scene's background",
    CL_PARAM_LIVE | ONLY (MULTI_OBJECTS) },
  { "data.overlay_layout", "Overlay layout", CL_PARAM_ENUM, OFF (data_overlay_layout), 0, 0, 0, 0, NULL,
    overlay_layouts, "",
    "overlay: glyphs-3x3 = the pool's stroke glyph stamped on a 3x3 grid (the paper's construction); code-tiled = a "
    "binary code (12-px tiles) repeated over the whole image at full contrast, so every crop carries several intact "
    "copies: a near-perfect instance identifier (with aug.flip=0), as the random bits are",
    ONLY (OVERLAY) },
  { "aug.crop_min_area", "Smallest crop area", CL_PARAM_FLOAT, OFF (aug_crop_min_area), 0, 0.08, 1, 0.5, NULL, NULL, "",
    "Random resized crop: smallest kept fraction of the image area (1 = no crop)", CL_PARAM_LIVE },
  { "aug.flip", "Flip probability", CL_PARAM_FLOAT, OFF (aug_flip), 0, 0, 1, 0.5, NULL, NULL, "",
    "Probability of a horizontal flip", CL_PARAM_LIVE },
  { "aug.jitter", "Colour jitter strength", CL_PARAM_FLOAT, OFF (aug_jitter), 0, 0, 1, 0.4, NULL, NULL, "",
    "Brightness/contrast jitter strength s (factors drawn in [1-0.8s, 1+0.8s])", CL_PARAM_LIVE },
  { "aug.noise", "Pixel noise (std)", CL_PARAM_FLOAT, OFF (aug_noise), 0, 0, 0.5, 0, NULL, NULL, "",
    "Standard deviation of additive Gaussian pixel noise (pixels in [0, 1])", CL_PARAM_LIVE },
  { "aug.blur", "Blur probability", CL_PARAM_FLOAT, OFF (aug_blur), 0, 0, 1, 0, NULL, NULL, "",
    "Probability of SimCLR's Gaussian blur of a view (sigma 0.1-2 px, kernel a tenth of the image side; SimCLR "
    "uses 0.5 on ImageNet)",
    CL_PARAM_LIVE },
  { "loss.kind", "Loss", CL_PARAM_ENUM, OFF (loss_kind), 0, 0, 0, 0, NULL, loss_kinds, "",
    "Contrastive loss: ntxent (SimCLR, 2B-2 negatives), decoupled (alignment + lambda x log-sum-exp over all 2B rows, "
    "self and positive kept, as the official code), swd-normal / swd-cube / swd-sphere (alignment + lambda x sliced "
    "Wasserstein distance to N(0,I), U(-1,1)^d, or the uniform sphere)",
    CL_PARAM_LIVE },
  { "loss.lambda", "Distribution weight λ", CL_PARAM_FLOAT, OFF (loss_lambda), 0, -1, 100, -1, NULL, NULL, "",
    "Weight of the distribution term for decoupled and swd-* (-1 = auto: tau/d for decoupled, which matches NT-Xent, "
    "and " G_STRINGIFY (CL_SWD_AUTO_LAMBDA) " for swd-*; 0 = alignment only, which collapses); ntxent ignores it",
    CL_PARAM_LIVE | CL_PARAM_LOG_SCALE | CL_PARAM_NEGATIVE_IS_AUTO | FOR_LOSS (DECOUPLED) | FOR_LOSS (SWD_NORMAL) |
        FOR_LOSS (SWD_CUBE) | FOR_LOSS (SWD_SPHERE) },
  { "loss.temperature", "Temperature τ", CL_PARAM_FLOAT, OFF (loss_temperature), 0, 0.01, 10, 0.1, NULL, NULL, "",
    "Softmax temperature tau of the similarity logits (lower = harder negatives weigh more)",
    CL_PARAM_LIVE | CL_PARAM_LOG_SCALE | FOR_LOSS (NTXENT) | FOR_LOSS (DECOUPLED) },
  { "model.arch", "Encoder", CL_PARAM_ENUM, OFF (model_arch), 0, 0, 0, CL_ARCH_CONVN, NULL, archs, "",
    "Encoder: convn = three 3x3 stride-2 valid convs (32/64/64) + dense 128, as in the paper's RandBits colab; "
    "convn-same = the same convs padded, so maps halve (64x64 -> 32/16/8) and stay large enough to cluster; "
    "convn-deep = convn-same with a padded stride-1 conv after each (32/64/64 channels), so the clustered 8x8 map "
    "sees 43 px, whole items",
    0 },
  { "model.width", "Encoder width", CL_PARAM_FLOAT, OFF (model_width), 0, 0.25, 4, 1, NULL, NULL, "x",
    "Channel multiplier of the encoder's conv layers", 0 },
  { "model.head_layers", "Projection head depth", CL_PARAM_INT, OFF (model_head_layers), 0, 0, 3, 2, NULL, NULL,
    "layers",
    "Projection head depth: 0 = loss on y directly, 1 = linear, k = k-1 hidden (dense 256+BN+ReLU) layers then dense "
    "64",
    0 },
  { "train.batch", "Batch size", CL_PARAM_INT, OFF (train_batch), 0, 4, 2048, 256, NULL, NULL, "images",
    "Images per step (each gives two views, so 2B rows in the loss)", 0 },
  { "train.lr", "Learning rate", CL_PARAM_FLOAT, OFF (train_lr), 0, 1e-6, 10, 1e-3, NULL, NULL, "",
    "Peak learning rate (decay schedule: see train.optimizer)", CL_PARAM_LIVE | CL_PARAM_LOG_SCALE },
  { "train.optimizer", "Optimizer", CL_PARAM_ENUM, OFF (train_optimizer), 0, 0, 0, 0 /* adam */, NULL, optimizers, "",
    "Optimizer: adam (linear decay to 0), sgd with momentum 0.9 (linear decay), or lars as in SimCLR (momentum 0.9, "
    "trust 0.001, BatchNorm excluded; 10% linear warm-up then cosine decay; SimCLR uses lr = 0.3 x batch/256)",
    0 },
  { "train.steps", "Training steps", CL_PARAM_INT, OFF (train_steps), 0, 1, 1000000, 1000, NULL, NULL, "steps",
    "Length of the run (sets the learning-rate decay)", 0 },
  { "train.seed", "Random seed", CL_PARAM_INT, OFF (train_seed), 0, 0, 2147483647, 1, NULL, NULL, "",
    "Seed of every random stream (init, data order, augmentation, bits); same seed, same numbers", 0 },
  { "train.threads", "Compute threads", CL_PARAM_INT, OFF (train_threads), 0, 0, 64, 0, NULL, NULL, "threads",
    "Compute threads (0 = all cores); results are reproducible for a fixed thread count", CL_PARAM_ZERO_IS_AUTO },
  { "train.weight_decay", "Weight decay", CL_PARAM_FLOAT, OFF (train_weight_decay), 0, 0, 0.1, 1e-4, NULL, NULL, "",
    "L2 weight decay on conv and dense kernels (not on BatchNorm)", CL_PARAM_LIVE },
  { "probe.sim_images", "Similarity heatmap images", CL_PARAM_INT, OFF (probe_sim_images), 0, 2, 128, 32, NULL, NULL,
    "images", "Fixed training images (x 2 views) whose cosine similarities the batch-similarity heatmap shows", 0 },
  { "probe.cluster_images", "Clustered scenes", CL_PARAM_INT, OFF (probe_cluster_images), 0, 1, 64, 4, NULL, NULL,
    "images",
    "Held-out scenes whose local feature maps are clustered at each probe (object_iou/instance_ari are their mean; "
    "at most 2 x train.batch are used)",
    0 },
  { "probe.every", "Probe interval", CL_PARAM_INT, OFF (probe_every), 0, 0, 1000000, 100, NULL, NULL, "steps",
    "Fit and evaluate the linear probes every N steps (0 = only at the end); these intermediate logistic probes stop "
    "at a looser tolerance (max |gradient| 1e-4, accuracy within 0.001), the untrained (step 0) and final ones "
    "converge fully (1e-6)",
    CL_PARAM_LIVE },
  { "probe.images", "Probe images per split", CL_PARAM_INT, OFF (probe_images), 0, 100, 10000, 5000, NULL, NULL,
    "images",
    "Images per probe split: the probes fit on this many un-augmented training images and score on as "
    "many held-out ones (fewer: cheaper probes, noisier accuracies)",
    0 },
  { "probe.control_test_images", "Control probe test images", CL_PARAM_INT, OFF (probe_control_test_images), 0, 0,
    10000, 0, NULL, NULL, "images",
    "Held-out images the control probes are scored on (overlay: background_clean, background_fixed; two-objects: "
    "small_alone): the first N of the probe's held-out images (0 = all of them); they are fitted on all probe.images "
    "training images like the probes they control, so fewer only make them cheaper and noisier, not lower",
    CL_PARAM_ZERO_IS_AUTO },
  { "probe.kind", "Linear probe", CL_PARAM_ENUM, OFF (probe_kind), 0, 0, 0, 0, NULL, probe_kinds, "",
    "Linear probe on frozen y: logistic = multinomial logistic regression (binary per bit), L2 1e-4, fitted to "
    "convergence by Newton-CG (the paper's and SimCLR's linear-evaluation protocol); ridge = closed-form least squares "
    "to one-hot targets (cheaper; reads lower where features are partly suppressed, see docs/agreement.md)",
    CL_PARAM_LIVE },
};

const ClParam *
cl_params (int *n_params)
{
  if (n_params)
    *n_params = G_N_ELEMENTS (params);
  return params;
}

const ClParam *
cl_param_lookup (const char *key)
{
  for (gsize i = 0; i < G_N_ELEMENTS (params); i++)
    if (strcmp (params[i].key, key) == 0)
      return &params[i];
  return NULL;
}

/* The bits of a parameter's flags for one of the choice lists it may be limited to. */
static guint
limit_bits (const ClParam *param, int shift)
{
  return (param->flags >> shift) & 0xffu;
}

static gboolean
limit_allows (guint bits, int value)
{
  return bits == 0 || value < 0 || value >= 8 || (bits & (1u << value)) != 0;
}

static char *
limit_text (guint bits, const char *const *names)
{
  if (bits == 0)
    return NULL;
  GString *text = g_string_new (NULL);
  int n = 0, total = 0;
  for (int k = 0; names[k]; k++)
    total += (bits & (1u << k)) != 0;
  for (int k = 0; names[k]; k++)
    if (bits & (1u << k))
      {
        n++;
        g_string_append_printf (text, "%s%s", n == 1 ? "" : n == total ? " or " : ", ", names[k]);
      }
  return g_string_free (text, FALSE);
}

gboolean
cl_param_applies_to_kind (const ClParam *param, int data_kind)
{
  return limit_allows (limit_bits (param, CL_PARAM_KINDS_SHIFT), data_kind);
}

char *
cl_param_kinds_text (const ClParam *param)
{
  return limit_text (limit_bits (param, CL_PARAM_KINDS_SHIFT), data_kinds);
}

gboolean
cl_param_applies_to_loss (const ClParam *param, int loss_kind)
{
  return limit_allows (limit_bits (param, CL_PARAM_LOSSES_SHIFT), loss_kind);
}

char *
cl_param_losses_text (const ClParam *param)
{
  return limit_text (limit_bits (param, CL_PARAM_LOSSES_SHIFT), loss_kinds);
}

char *
cl_param_why_unused (const ClParam *param, const ClConfig *cfg)
{
  if (!cl_param_applies_to_kind (param, cfg->data_kind))
    {
      g_autofree char *kinds = cl_param_kinds_text (param);
      return g_strdup_printf ("Not used with %s data: only %s %s it (data.kind).", data_kinds[cfg->data_kind], kinds,
                              strstr (kinds, " or ") ? "use" : "uses");
    }
  if (!cl_param_applies_to_loss (param, cfg->loss_kind))
    {
      g_autofree char *losses = cl_param_losses_text (param);
      return g_strdup_printf ("Not used with the %s loss: only %s %s it (loss.kind).", loss_kinds[cfg->loss_kind],
                              losses, strstr (losses, " or ") ? "use" : "uses");
    }
  return NULL;
}

static void *
field (ClConfig *cfg, const ClParam *p)
{
  return (char *) cfg + p->offset;
}

static const void *
cfield (const ClConfig *cfg, const ClParam *p)
{
  return (const char *) cfg + p->offset;
}

void
cl_config_init (ClConfig *cfg)
{
  memset (cfg, 0, sizeof *cfg);
  for (gsize i = 0; i < G_N_ELEMENTS (params); i++)
    {
      const ClParam *p = &params[i];
      switch (p->type)
        {
        case CL_PARAM_STRING:
          g_strlcpy (field (cfg, p), p->def_str, p->size);
          break;
        case CL_PARAM_FLOAT:
          *(double *) field (cfg, p) = p->def;
          break;
        case CL_PARAM_INT:
        case CL_PARAM_ENUM:
          *(int *) field (cfg, p) = (int) p->def;
          break;
        }
    }
}

static char *
describe_range (const ClParam *p)
{
  if (p->type == CL_PARAM_ENUM)
    {
      char *joined = g_strjoinv (", ", (char **) p->choices);
      char *s = g_strdup_printf ("one of: %s", joined);
      g_free (joined);
      return s;
    }
  char lo[32], hi[32];
  g_ascii_formatd (lo, sizeof lo, "%g", p->min);
  g_ascii_formatd (hi, sizeof hi, "%g", p->max);
  return g_strdup_printf ("%s in [%s, %s]", p->type == CL_PARAM_INT ? "an integer" : "a number", lo, hi);
}

static gboolean
bad_value (const ClParam *p, const char *value, GError **error)
{
  char *range = describe_range (p);
  char *shown = cl_text_escape (value, 60); /* control bytes from a file never reach the terminal */
  g_set_error (error, CL_CONFIG_ERROR, CL_CONFIG_ERROR_BAD_VALUE, "%s: bad value '%s'; expected %s", p->key, shown,
               range);
  g_free (shown);
  g_free (range);
  return FALSE;
}

gboolean
cl_config_set_number (ClConfig *cfg, const ClParam *p, double v, GError **error)
{
  char text[64];
  g_ascii_formatd (text, sizeof text, "%.9g", v);
  if (p->type == CL_PARAM_STRING)
    return bad_value (p, text, error);
  if (p->type == CL_PARAM_ENUM)
    {
      int n = (int) g_strv_length ((char **) p->choices);
      if (!(v >= 0 && v < n && v == floor (v)))
        return bad_value (p, text, error);
      *(int *) field (cfg, p) = (int) v;
      return TRUE;
    }
  if (!isfinite (v) || v < p->min || v > p->max)
    return bad_value (p, text, error);
  if (p->type == CL_PARAM_INT)
    {
      if (v != floor (v))
        return bad_value (p, text, error);
      *(int *) field (cfg, p) = (int) v;
    }
  else
    *(double *) field (cfg, p) = v;
  return TRUE;
}

gboolean
cl_config_set (ClConfig *cfg, const char *key, const char *value, GError **error)
{
  const ClParam *p = cl_param_lookup (key);
  if (!p)
    {
      g_autofree char *shown = cl_text_escape (key, 60);
      g_set_error (error, CL_CONFIG_ERROR, CL_CONFIG_ERROR_UNKNOWN_KEY,
                   "unknown parameter '%s' (contrastlab --list-params lists them)", shown);
      return FALSE;
    }
  switch (p->type)
    {
    case CL_PARAM_STRING:
      if (strlen (value) >= p->size)
        {
          g_set_error (error, CL_CONFIG_ERROR, CL_CONFIG_ERROR_BAD_VALUE, "%s: value is longer than %zu characters",
                       key, p->size - 1);
          return FALSE;
        }
      g_strlcpy (field (cfg, p), value, p->size);
      return TRUE;
    case CL_PARAM_ENUM:
      for (int i = 0; p->choices[i]; i++)
        if (strcmp (p->choices[i], value) == 0)
          {
            *(int *) field (cfg, p) = i;
            return TRUE;
          }
      return bad_value (p, value, error);
    case CL_PARAM_INT:
    case CL_PARAM_FLOAT:
      {
        char *end = NULL;
        const char *s = value;
        while (g_ascii_isspace (*s))
          s++;
        if (*s == '\0')
          return bad_value (p, value, error);
        errno = 0;
        double v = g_ascii_strtod (s, &end);
        while (end && g_ascii_isspace (*end))
          end++;
        if (errno != 0 || !end || *end != '\0')
          return bad_value (p, value, error);
        if (!cl_config_set_number (cfg, p, v, NULL))
          return bad_value (p, value, error);
        return TRUE;
      }
    }
  return FALSE;
}

gboolean
cl_config_set_assignment (ClConfig *cfg, const char *assignment, GError **error)
{
  const char *eq = strchr (assignment, '=');
  if (!eq || eq == assignment)
    {
      g_autofree char *shown = cl_text_escape (assignment, 60);
      g_set_error (error, CL_CONFIG_ERROR, CL_CONFIG_ERROR_BAD_VALUE,
                   "'%s': expected KEY=VALUE, e.g. loss.temperature=0.2", shown);
      return FALSE;
    }
  char *key = g_strndup (assignment, eq - assignment);
  gboolean ok = cl_config_set (cfg, g_strstrip (key), eq + 1, error);
  g_free (key);
  return ok;
}

double
cl_config_get_number (const ClConfig *cfg, const ClParam *p)
{
  switch (p->type)
    {
    case CL_PARAM_FLOAT:
      return *(const double *) cfield (cfg, p);
    case CL_PARAM_INT:
    case CL_PARAM_ENUM:
      return *(const int *) cfield (cfg, p);
    case CL_PARAM_STRING:
      break;
    }
  return NAN;
}

char *
cl_config_get (const ClConfig *cfg, const ClParam *p)
{
  char buf[64];
  switch (p->type)
    {
    case CL_PARAM_STRING:
      return g_strdup (cfield (cfg, p));
    case CL_PARAM_ENUM:
      return g_strdup (p->choices[*(const int *) cfield (cfg, p)]);
    case CL_PARAM_INT:
      return g_strdup_printf ("%d", *(const int *) cfield (cfg, p));
    case CL_PARAM_FLOAT:
      {
        /* the shortest text that reads back to the same double (run.ini must reproduce the run exactly) */
        double v = *(const double *) cfield (cfg, p);
        g_ascii_formatd (buf, sizeof buf, "%.9g", v);
        if (g_ascii_strtod (buf, NULL) != v)
          g_ascii_formatd (buf, sizeof buf, "%.17g", v);
        return g_strdup (buf);
      }
    }
  return NULL;
}

gboolean
cl_config_value_equal (const ClConfig *a, const ClConfig *b, const ClParam *p)
{
  if (p->type == CL_PARAM_STRING)
    return strcmp (cfield (a, p), cfield (b, p)) == 0;
  return cl_config_get_number (a, p) == cl_config_get_number (b, p);
}

gboolean
cl_config_needs_restart (const ClConfig *a, const ClConfig *b)
{
  for (gsize i = 0; i < G_N_ELEMENTS (params); i++)
    if (!(params[i].flags & CL_PARAM_LIVE) && !cl_config_value_equal (a, b, &params[i]))
      return TRUE;
  return FALSE;
}

gboolean
cl_config_load_keyfile (ClConfig *cfg, GKeyFile *kf, const char *source, GError **error)
{
  gsize n_groups = 0;
  g_auto (GStrv) groups = g_key_file_get_groups (kf, &n_groups);
  for (gsize g = 0; g < n_groups; g++)
    {
      if (strcmp (groups[g], "preset") == 0)
        continue;
      gsize n_keys = 0;
      g_auto (GStrv) keys = g_key_file_get_keys (kf, groups[g], &n_keys, NULL);
      for (gsize k = 0; k < n_keys; k++)
        {
          g_autofree char *full = g_strdup_printf ("%s.%s", groups[g], keys[k]);
          /* group and key names come from the file: escaped wherever a message shows them */
          g_autofree char *group_shown = cl_text_escape (groups[g], 60);
          g_autofree char *key_shown = cl_text_escape (keys[k], 60);
          GError *local = NULL;
          g_autofree char *value = g_key_file_get_string (kf, groups[g], keys[k], &local);
          /* GLib returns the value and sets the error for a bad escape such as \q: the error
           * decides, for text keys as for the others */
          if (local || !value)
            {
              g_autofree char *raw = g_key_file_get_value (kf, groups[g], keys[k], NULL);
              g_autofree char *shown = cl_text_escape (raw, 60);
              if (raw && strchr (raw, '\\'))
                g_set_error (error, CL_CONFIG_ERROR, CL_CONFIG_ERROR_BAD_VALUE,
                             "%s: [%s] %s: bad escape sequence in '%s' (a backslash may only start \\s, \\n, \\t, "
                             "\\r or \\\\)",
                             source, group_shown, key_shown, shown);
              else
                g_set_error (error, CL_CONFIG_ERROR, CL_CONFIG_ERROR_BAD_VALUE,
                             "%s: [%s] %s: '%s' is not valid UTF-8 text", source, group_shown, key_shown, shown);
              g_clear_error (&local);
              return FALSE;
            }
          if (!cl_config_set (cfg, full, g_strstrip (value), &local))
            {
              g_set_error (error, CL_CONFIG_ERROR, local->code, "%s: [%s] %s", source, group_shown, local->message);
              g_error_free (local);
              return FALSE;
            }
        }
    }
  return TRUE;
}

/* GKeyFile hides keys with a locale tag ("temperature[de]=0.5") from g_key_file_get_keys: such a
 * line would be ignored without a word. Parameters have no translations: it is refused. */
static gboolean
check_no_locale_keys (const char *text, const char *source, GError **error)
{
  int line = 0;
  for (const char *p = text; p && *p; line++)
    {
      const char *eol = strchr (p, '\n');
      gsize n = eol ? (gsize) (eol - p) : strlen (p);
      g_autofree char *one = g_strndup (p, n);
      char *l = g_strstrip (one);
      char *eq = strchr (l, '=');
      if (*l != '#' && *l != '[' && eq)
        {
          *eq = '\0';
          char *key = g_strstrip (l);
          char *bracket = strchr (key, '[');
          if (bracket)
            {
              g_autofree char *shown = cl_text_escape (key, 60);
              *bracket = '\0';
              g_autofree char *bare = cl_text_escape (key, 60);
              g_set_error (error, CL_CONFIG_ERROR, CL_CONFIG_ERROR_FILE,
                           "%s: line %d: key '%s' has a locale tag; parameters have none (write '%s=')", source,
                           line + 1, shown, bare);
              return FALSE;
            }
        }
      p = eol ? eol + 1 : NULL;
    }
  return TRUE;
}

gboolean
cl_config_load_data (ClConfig *cfg, const char *text, const char *source, GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  GError *local = NULL;
  if (!g_key_file_load_from_data (kf, text, (gsize) -1, G_KEY_FILE_NONE, &local))
    {
      /* GLib quotes the offending line: escaped, so its bytes cannot drive the terminal */
      g_autofree char *shown = cl_text_escape (local->message, 200);
      g_set_error (error, CL_CONFIG_ERROR, CL_CONFIG_ERROR_FILE, "%s: not a valid .ini file: %s", source, shown);
      g_error_free (local);
      return FALSE;
    }
  if (!check_no_locale_keys (text, source, error))
    return FALSE;
  return cl_config_load_keyfile (cfg, kf, source, error);
}

gboolean
cl_config_load_file (ClConfig *cfg, const char *path, GError **error)
{
  g_autofree char *text = NULL;
  gsize len = 0;
  GError *local = NULL;
  /* only a regular file of a sane size (a FIFO would block, /dev/zero never end) */
  if (!cl_file_read_regular (path, 4u << 20, &text, &len, &local))
    {
      g_set_error (error, CL_CONFIG_ERROR, CL_CONFIG_ERROR_FILE, "%s", local->message);
      g_error_free (local);
      return FALSE;
    }
  /* a NUL byte would silently end the text there: the rest of the file would be ignored */
  const char *nul = memchr (text, '\0', len);
  if (nul)
    {
      int line = 1;
      for (const char *c = text; c < nul; c++)
        line += *c == '\n';
      g_set_error (error, CL_CONFIG_ERROR, CL_CONFIG_ERROR_FILE, "%s: line %d: a NUL byte (expected a text file)", path,
                   line);
      return FALSE;
    }
  return cl_config_load_data (cfg, text, path, error);
}

char *
cl_config_to_ini (const ClConfig *cfg)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  for (gsize i = 0; i < G_N_ELEMENTS (params); i++)
    {
      const ClParam *p = &params[i];
      const char *dot = strchr (p->key, '.');
      g_autofree char *group = g_strndup (p->key, (gsize) (dot - p->key));
      g_autofree char *v = cl_config_get (cfg, p);
      g_key_file_set_string (kf, group, dot + 1, v);
    }
  g_key_file_set_comment (kf, NULL, NULL,
                          " ContrastLab run configuration (every parameter; contrastlab --list-params explains them)",
                          NULL);
  return g_key_file_to_data (kf, NULL, NULL);
}

/* ---- presets ---- */

const char *
cl_presets_dir (void)
{
  static char *dir;
  if (g_once_init_enter (&dir))
    {
      char *found = NULL;
      const char *env = g_getenv ("CONTRASTLAB_PRESETS_DIR");
      if (env && *env)
        found = g_strdup (env);
#ifdef CL_INSTALLED_PRESETS_DIR
      if (!found && g_file_test (CL_INSTALLED_PRESETS_DIR, G_FILE_TEST_IS_DIR))
        found = g_strdup (CL_INSTALLED_PRESETS_DIR);
#endif
#ifdef CL_SOURCE_PRESETS_DIR
      if (!found)
        found = g_strdup (CL_SOURCE_PRESETS_DIR);
#endif
      if (!found)
        found = g_strdup ("data/presets");
      g_once_init_leave (&dir, found);
    }
  return dir;
}

char *
cl_preset_resolve (const char *name_or_file, GError **error)
{
  if (strchr (name_or_file, '/') || g_str_has_suffix (name_or_file, ".ini") || g_str_has_suffix (name_or_file, ".png"))
    {
      if (!g_file_test (name_or_file, G_FILE_TEST_IS_REGULAR))
        {
          g_set_error (error, CL_CONFIG_ERROR, CL_CONFIG_ERROR_FILE, "--preset %s: no such file", name_or_file);
          return NULL;
        }
      return g_strdup (name_or_file);
    }
  g_autofree char *file = g_strdup_printf ("%s.ini", name_or_file);
  char *path = g_build_filename (cl_presets_dir (), file, NULL);
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_autoptr (GPtrArray) names = cl_preset_list ();
      g_ptr_array_add (names, NULL);
      g_autofree char *joined = g_strjoinv (", ", (char **) names->pdata);
      g_set_error (error, CL_CONFIG_ERROR, CL_CONFIG_ERROR_FILE, "--preset %s: no such preset in %s (have: %s)",
                   name_or_file, cl_presets_dir (), joined);
      g_free (path);
      return NULL;
    }
  return path;
}

static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

GPtrArray *
cl_preset_list (void)
{
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  GDir *dir = g_dir_open (cl_presets_dir (), 0, NULL);
  if (!dir)
    return names;
  const char *entry;
  while ((entry = g_dir_read_name (dir)))
    if (g_str_has_suffix (entry, ".ini"))
      g_ptr_array_add (names, g_strndup (entry, strlen (entry) - 4));
  g_dir_close (dir);
  g_ptr_array_sort (names, compare_strings);
  return names;
}

gboolean
cl_preset_describe (const char *path, char **description, double *minutes)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  if (description)
    *description = NULL;
  if (minutes)
    *minutes = 0;
  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, NULL))
    return FALSE;
  if (description)
    *description = g_key_file_get_string (kf, "preset", "description", NULL);
  if (minutes)
    *minutes = g_key_file_get_double (kf, "preset", "minutes", NULL);
  return TRUE;
}
