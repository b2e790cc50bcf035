#include "engine/nn/cl_model.h"

#include <math.h>
#include <string.h>

#include "engine/nn/cl_arch.h"
#include "engine/nn/cl_const_planes.h"
#include "engine/nn/cl_layers.h"
#include "engine/base/cl_rng.h"

#ifdef CL_MODEL_PROFILE
/* Benchmarks compile this file with CL_MODEL_PROFILE to time each block. */
#include <time.h>
static double cl_prof_fwd[32][2], cl_prof_bwd[32][2]; /* [CL_MODEL_MAX_BLOCKS]: layout changes */
static double
cl_prof_now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}
#define PROF_START() double prof_t0_ = cl_prof_now ()
#define PROF_LAP(table, b, part)                                                                                       \
  do                                                                                                                   \
    {                                                                                                                  \
      double prof_t1_ = cl_prof_now ();                                                                                \
      table[b][part] += prof_t1_ - prof_t0_;                                                                           \
      prof_t0_ = prof_t1_;                                                                                             \
    }                                                                                                                  \
  while (0)
#else
#define PROF_START()
#define PROF_LAP(table, b, part)
#endif

#define CL_MODEL_MAX_HEAD_LAYERS 12
/* Conv maps of at least this many pixels per view are normalised from per-view moments the conv
 * gathers (cl_conv2d_forward_nhwc_train); smaller ones (convn's 2x2 conv3) the usual way. */
#define CL_MODEL_VIEW_MOMENTS_MIN_PIXELS 16
#define CL_MODEL_MAX_BLOCKS (CL_ARCH_MAX_CONV + 1 + CL_MODEL_MAX_HEAD_LAYERS)

/* One block: a kernel op (conv or dense, no bias), then optionally BN + ReLU.
 * Conv blocks run channels-last (NHWC, see cl_layers.h): pre and act are [n][H][W][C], BatchNorm
 * sees them as [n*H*W][C] rows, and the kernel is used in the permuted order wp. The parameter
 * arena keeps the [out][in][k][k] order, so wp is refreshed at each forward and dwp folded back
 * after each backward (a few thousand floats). The last conv's act is also kept NCHW (flat), which
 * is the flatten order of the representation dense. */
typedef struct
{
  gboolean is_conv;
  ClConv2d conv;  /* the layer's shape, in_c = every input channel */
  ClConv2d convx; /* what runs: conv1 with in_c = its active channels (x_copy holds only those) */
  ClDense dense;
  gboolean has_bn;
  ClBatchNorm bn;           /* spatial 1: conv maps are normalised as rows of channels */
  int rows_per_view;        /* H*W for a conv block, 1 for dense */
  size_t in_size, out_size; /* floats per view */
  size_t w_off, w_count;    /* into params */
  size_t gamma_off, beta_off;
  size_t run_mean_off, run_var_off; /* into buffers */
  float *pre;                       /* kernel output [max_views][out_size] */
  float *act;                       /* BN + ReLU output, == pre without BN */
  float *bn_mean, *bn_invstd;
  float *bn_gb;    /* gamma, beta [2][channels] as the last training forward used them */
  float *wp, *dwp; /* conv: the kernel and its gradient in [out][k][k][in] order */
  /* A conv BatchNorm whose consumer is a conv: the training forward leaves act unwritten and the
   * consumer normalises pre block by block (ClConvInputBn), forward and backward. */
  gboolean act_deferred;
} ClBlock;

/* NCHW copies of the conv maps, made on request (cl_model_conv_activation). Reached through a
 * pointer so the const accessors may fill them. */
typedef struct
{
  float *nchw[CL_MODEL_MAX_BLOCKS];
  size_t cap[CL_MODEL_MAX_BLOCKS];
  gboolean act_stale[CL_MODEL_MAX_BLOCKS]; /* the last forward left this conv block's act unwritten */
} ClModelViews;

struct ClModel
{
  ClModelSpec spec;
  char arch[16];
  int n_conv; /* the arch's conv blocks come first */
  int n_blocks;
  int rep_block; /* index of the block whose act is y */
  ClBlock blocks[CL_MODEL_MAX_BLOCKS];

  size_t n_params, n_decay, n_buffers;
  float *params, *grads, *buffers;

  float *workspace;      /* 64-byte aligned, inside workspace_block */
  void *workspace_block; /* as allocated */
  float *x_copy;         /* the input NHWC, active channels only */
  float *flat;           /* the last conv's act in NCHW order: the representation dense's input */
  float *grad_buf[2];
  float *scratch;  /* conv column blocks and kernel-gradient lanes */
  float *bn_k;     /* a conv BatchNorm's backward coefficients k0, k1, k2 [3][channels] */
  double *moments; /* a conv BatchNorm's per-view moments [max_views][3][channels] (cl_batchnorm.h) */
  ClModelViews *views;

  int last_n;
  gboolean backward_ready;
  int active_in; /* requested; conv1 takes it at the next forward, so backward matches its forward */

  /* Constant input planes (cl_model_set_constant_input_planes): channels const_from .. active - 1
   * are folded out of conv1 as a per-view bias (cl_const_planes.h). */
  int const_from;           /* 0: none */
  int const_planes;         /* folded in the last forward (backward matches it) */
  ClConstPlanes cp;         /* conv1's border classes */
  float *cp_values;         /* [max_views][in_channels] the planes' values */
  float *cp_bias, *cp_sums; /* [max_views][classes][conv1 out_c]: forward bias, backward dy sums */
};

G_DEFINE_QUARK (cl - model - error - quark, cl_model_error)

void
cl_model_spec_init (ClModelSpec *spec)
{
  memset (spec, 0, sizeof *spec);
  spec->arch = "convn";
  spec->in_channels = 1;
  spec->height = 28;
  spec->width = 28;
  spec->width_mult = 1.0;
  spec->head_layers = 2;
  spec->rep_dim = 128;
  spec->head_hidden = 256;
  spec->out_dim = 64;
  spec->max_views = 512;
}

static int
scaled_channels (int base, double mult)
{
  double c = floor (base * mult + 0.5);
  return c < 1.0 ? 1 : (int) c;
}

static gboolean
validate_spec (const ClModelSpec *spec, GError **error)
{
  const char *arch = spec->arch ? spec->arch : "convn";
  if (!cl_arch_find (arch))
    {
      g_autofree char *names = g_strjoinv ("', '", (char **) cl_arch_names);
      g_set_error (error, CL_MODEL_ERROR, CL_MODEL_ERROR_BAD_SPEC,
                   "model.arch: unknown architecture '%s' (expected one of '%s')", arch, names);
      return FALSE;
    }
#define CHECK(cond, ...)                                                                                               \
  if (!(cond))                                                                                                         \
    {                                                                                                                  \
      g_set_error (error, CL_MODEL_ERROR, CL_MODEL_ERROR_BAD_SPEC, __VA_ARGS__);                                       \
      return FALSE;                                                                                                    \
    }
  CHECK (spec->in_channels >= 1 && spec->in_channels <= 4096, "model: in_channels must be in 1..4096 (got %d)",
         spec->in_channels);
  CHECK (isfinite (spec->width_mult) && spec->width_mult > 0.0 && spec->width_mult <= 64.0,
         "model.width must be in (0, 64] (got %g)", spec->width_mult);
  CHECK (spec->head_layers >= 0 && spec->head_layers <= CL_MODEL_MAX_HEAD_LAYERS,
         "model.head_layers must be in 0..%d (got %d)", CL_MODEL_MAX_HEAD_LAYERS, spec->head_layers);
  CHECK (spec->rep_dim >= 1 && spec->rep_dim <= 65536, "model: rep_dim must be in 1..65536 (got %d)", spec->rep_dim);
  CHECK (spec->head_layers < 2 || (spec->head_hidden >= 1 && spec->head_hidden <= 65536),
         "model: head_hidden must be in 1..65536 (got %d)", spec->head_hidden);
  CHECK (spec->head_layers < 1 || (spec->out_dim >= 1 && spec->out_dim <= 65536),
         "model: out_dim must be in 1..65536 (got %d)", spec->out_dim);
  CHECK (spec->max_views >= 1 && spec->max_views <= 1000000, "model: max_views must be in 1..1000000 (got %d)",
         spec->max_views);
  CHECK (spec->height >= 1 && spec->width >= 1 && spec->height <= 16384 && spec->width <= 16384,
         "model: input size %dx%d is out of range", spec->height, spec->width);
#undef CHECK
  return TRUE;
}

static size_t
glorot_fill (float *w, size_t count, double fan_in, double fan_out, ClRng *rng)
{
  const double limit = sqrt (6.0 / (fan_in + fan_out));
  for (size_t i = 0; i < count; i++)
    w[i] = (float) ((2.0 * cl_rng_uniform (rng) - 1.0) * limit);
  return count;
}

/* The next region of count floats, rounded up to whole 64-byte lines; NULL while only sizing. */
static float *
carve (float *base, size_t *off, size_t count)
{
  float *p = base ? base + *off : NULL;
  *off += (count + 15) & ~(size_t) 15;
  return p;
}

ClModel *
cl_model_new (const ClModelSpec *spec, uint64_t seed, GError **error)
{
  g_return_val_if_fail (spec != NULL, NULL);
  if (!validate_spec (spec, error))
    return NULL;

  ClModel *model = g_new0 (ClModel, 1);
  model->spec = *spec;
  const ClArchSpec *arch = cl_arch_find (spec->arch ? spec->arch : "convn");
  gboolean same = arch->pad > 0;
  g_strlcpy (model->arch, arch->name, sizeof model->arch);
  model->n_conv = arch->n_conv;
  model->spec.arch = model->arch;
  if (spec->head_layers == 0)
    model->spec.out_dim = spec->rep_dim;

  /* ---- shapes */
  int c = spec->in_channels, h = spec->height, w = spec->width;
  int nb = 0;
  for (int l = 0; l < arch->n_conv; l++)
    {
      ClBlock *b = &model->blocks[nb++];
      int oc = scaled_channels (arch->conv[l].channels, spec->width_mult);
      b->is_conv = TRUE;
      /* convn-same pads by 1, so each layer halves the map (rounding up): a 64x64 canvas gives
       * 32x32 / 16x16 / 8x8 maps, large enough to cluster, for about the cost of convn. */
      if (!cl_conv2d_init (&b->conv, c, oc, 3, arch->conv[l].stride, arch->pad, h, w))
        {
          g_set_error (error, CL_MODEL_ERROR, CL_MODEL_ERROR_BAD_SPEC,
                       "model: input %dx%d is too small for %s (conv layer %d gets %dx%d; its 3x3 "
                       "%s convolutions need at least %s)",
                       spec->height, spec->width, model->arch, l + 1, h, w, same ? "padded" : "valid",
                       same ? "2x2" : "15x15");
          g_free (model);
          return NULL;
        }
      b->in_size = (size_t) c * h * w;
      c = oc;
      h = b->conv.out_h;
      w = b->conv.out_w;
      b->out_size = (size_t) c * h * w;
      b->w_count = cl_conv2d_num_weights (&b->conv);
      b->convx = b->conv;
      b->has_bn = TRUE;
      b->bn = (ClBatchNorm){ c, 1 };
      b->rows_per_view = h * w;
    }
  int features = c * h * w;
  /* Representation: Dense rep_dim + BN + ReLU. Head: (k-1) x [Dense hidden + BN + ReLU], Dense out_dim. */
  int n_dense = 1 + spec->head_layers;
  for (int d = 0; d < n_dense; d++)
    {
      ClBlock *b = &model->blocks[nb++];
      gboolean last = d == n_dense - 1 && d > 0;
      int out = d == 0 ? spec->rep_dim : last ? spec->out_dim : spec->head_hidden;
      b->dense = (ClDense){ features, out };
      b->in_size = (size_t) features;
      b->out_size = (size_t) out;
      b->w_count = (size_t) features * out;
      b->has_bn = !last;
      b->bn = (ClBatchNorm){ out, 1 };
      b->rows_per_view = 1;
      features = out;
    }
  model->n_blocks = nb;
  model->active_in = spec->in_channels;
  model->rep_block = model->n_conv;

  /* ---- parameter layout: kernels first (decayed), then gamma/beta per BN */
  size_t off = 0;
  for (int i = 0; i < nb; i++)
    {
      model->blocks[i].w_off = off;
      off += model->blocks[i].w_count;
    }
  model->n_decay = off;
  size_t boff = 0;
  for (int i = 0; i < nb; i++)
    {
      ClBlock *b = &model->blocks[i];
      if (!b->has_bn)
        continue;
      b->gamma_off = off;
      b->beta_off = off + b->bn.channels;
      off += 2 * (size_t) b->bn.channels;
      b->run_mean_off = boff;
      b->run_var_off = boff + b->bn.channels;
      boff += 2 * (size_t) b->bn.channels;
    }
  model->n_params = off;
  model->n_buffers = boff;
  model->params = g_new (float, model->n_params);
  model->grads = g_new0 (float, model->n_params);
  model->buffers = g_new (float, model->n_buffers);

  /* ---- init */
  ClRng rng;
  cl_rng_seed (&rng, seed, CL_STREAM_INIT);
  for (int i = 0; i < nb; i++)
    {
      ClBlock *b = &model->blocks[i];
      double fan_in, fan_out;
      if (b->is_conv)
        {
          double kk = (double) b->conv.k * b->conv.k;
          fan_in = b->conv.in_c * kk;
          fan_out = b->conv.out_c * kk;
        }
      else
        {
          fan_in = b->dense.in;
          fan_out = b->dense.out;
        }
      glorot_fill (model->params + b->w_off, b->w_count, fan_in, fan_out, &rng);
      if (b->has_bn)
        for (int ch = 0; ch < b->bn.channels; ch++)
          {
            model->params[b->gamma_off + ch] = 1.0f;
            model->params[b->beta_off + ch] = 0.0f;
            model->buffers[b->run_mean_off + ch] = 0.0f;
            model->buffers[b->run_var_off + ch] = 1.0f;
          }
    }

  /* ---- workspace, one block of memory. Every region starts on a 64-byte line, so per-thread
   * pieces of it never share a cache line and vector loads stay within lines. */
  const size_t mv = (size_t) spec->max_views;
  size_t max_out = 0, scratch = 0, max_conv_c = 0;
  for (int i = 0; i < nb; i++)
    {
      ClBlock *b = &model->blocks[i];
      max_out = MAX (max_out, b->out_size);
      if (!b->is_conv)
        continue;
      max_conv_c = MAX (max_conv_c, (size_t) b->conv.out_c);
      /* conv1 runs with any active channel count, and its blocks grow as that shrinks. */
      for (int a = b->conv.in_c; a >= (i == 0 ? 1 : b->conv.in_c); a--)
        {
          ClConv2d cx;
          cl_conv2d_init (&cx, a, b->conv.out_c, b->conv.k, b->conv.stride, b->conv.pad, b->conv.in_h, b->conv.in_w);
          scratch = MAX (scratch, cl_conv2d_nhwc_scratch_floats (&cx));
        }
    }
  cl_const_planes_init (&model->cp, &model->blocks[0].conv, spec->in_channels);
  /* Two passes over the same carving: sizes first (base NULL), then pointers. */
  size_t total = 0;
  for (int pass = 0; pass < 2; pass++)
    {
      float *base = pass == 0 ? NULL : model->workspace;
      size_t off = 0;
      model->x_copy = carve (base, &off, mv * model->blocks[0].in_size);
      for (int i = 0; i < nb; i++)
        {
          ClBlock *b = &model->blocks[i];
          b->pre = carve (base, &off, mv * b->out_size);
          b->act = b->has_bn ? carve (base, &off, mv * b->out_size) : b->pre;
          b->bn_mean = b->has_bn ? carve (base, &off, (size_t) b->bn.channels) : NULL;
          b->bn_invstd = b->has_bn ? carve (base, &off, (size_t) b->bn.channels) : NULL;
          b->bn_gb = b->has_bn ? carve (base, &off, 2 * (size_t) b->bn.channels) : NULL;
          b->wp = b->is_conv ? carve (base, &off, b->w_count) : NULL;
          b->dwp = b->is_conv ? carve (base, &off, b->w_count) : NULL;
        }
      model->flat = carve (base, &off, mv * model->blocks[model->n_conv - 1].out_size);
      model->grad_buf[0] = carve (base, &off, mv * max_out);
      model->grad_buf[1] = carve (base, &off, mv * max_out);
      model->scratch = carve (base, &off, scratch);
      model->bn_k = carve (base, &off, 3 * max_conv_c);
      model->moments = (double *) carve (base, &off, 2 * (mv * 3 * max_conv_c)); /* doubles, 64-byte aligned */
      const size_t cp_floats = mv * cl_const_planes_classes (&model->cp) * model->blocks[0].conv.out_c;
      model->cp_values = carve (base, &off, mv * spec->in_channels);
      model->cp_bias = carve (base, &off, cp_floats);
      model->cp_sums = carve (base, &off, cp_floats);
      if (pass == 1)
        break;
      total = off;
      model->workspace = g_try_malloc (sizeof (float) * total + 64);
      if (!model->workspace)
        {
          g_set_error (error, CL_MODEL_ERROR, CL_MODEL_ERROR_NO_MEMORY,
                       "model: cannot allocate %.0f MiB of workspace for max_views %d", total * 4.0 / 1048576.0,
                       spec->max_views);
          cl_model_free (model);
          return NULL;
        }
      model->workspace_block = model->workspace;
      model->workspace = (float *) (((uintptr_t) model->workspace + 63) & ~(uintptr_t) 63);
    }
  model->views = g_new0 (ClModelViews, 1);
  for (int i = 0; i + 1 < model->n_conv; i++)
    model->blocks[i].act_deferred =
        model->blocks[i].has_bn && model->blocks[i].rows_per_view >= CL_MODEL_VIEW_MOMENTS_MIN_PIXELS;
  return model;
}

void
cl_model_free (ClModel *model)
{
  if (!model)
    return;
  g_free (model->params);
  g_free (model->grads);
  g_free (model->buffers);
  g_free (model->workspace_block);
  if (model->views)
    for (int i = 0; i < CL_MODEL_MAX_BLOCKS; i++)
      g_free (model->views->nchw[i]);
  g_free (model->views);
  cl_const_planes_clear (&model->cp);
  g_free (model);
}

const ClModelSpec *
cl_model_spec (const ClModel *model)
{
  return &model->spec;
}

int
cl_model_rep_dim (const ClModel *model)
{
  return model->spec.rep_dim;
}

int
cl_model_out_dim (const ClModel *model)
{
  return (int) model->blocks[model->n_blocks - 1].out_size;
}

const float *
cl_model_forward (ClModel *model, const float *x, int n, gboolean training)
{
  g_return_val_if_fail (n >= 1 && n <= model->spec.max_views, NULL);
  PROF_START ();
  /* The input goes channels-last into our own buffer (conv1's kernel gradient needs it, and the
   * caller may reuse x). Inactive planes are never read, so they are not copied either. */
  ClBlock *b0 = &model->blocks[0];
  /* Constant planes are not convolved: conv1 runs on the planes before them and adds their bias. */
  const int image_in =
      model->const_from > 0 && model->const_from < model->active_in ? model->const_from : model->active_in;
  model->const_planes = model->active_in - image_in;
  if (b0->convx.in_c != image_in)
    cl_conv2d_init (&b0->convx, image_in, b0->conv.out_c, b0->conv.k, b0->conv.stride, b0->conv.pad, b0->conv.in_h,
                    b0->conv.in_w);
  b0->conv.active_c = model->active_in;
  cl_nchw_to_nhwc (x, n, model->spec.in_channels, image_in, b0->conv.in_h * b0->conv.in_w, model->x_copy);
  if (model->const_planes > 0)
    {
      cl_const_planes_values_bias (&model->cp, model->params + b0->w_off, b0->conv.in_c, x, model->spec.in_channels,
                                   (size_t) b0->conv.in_h * b0->conv.in_w, image_in, model->const_planes, n,
                                   model->cp_values, model->cp_bias);
    }
  PROF_LAP (cl_prof_fwd, CL_MODEL_MAX_BLOCKS, 0);
  const float *in = model->x_copy;
  ClConvInputBn inbn_store;
  const ClConvInputBn *inbn = NULL; /* in is the pre of a block whose act was deferred */
  for (int i = 0; i < model->n_blocks; i++)
    {
      ClBlock *b = &model->blocks[i];
      const float *w = model->params + b->w_off;
      const gboolean with_bias = i == 0 && model->const_planes > 0;
      const gboolean fused = b->is_conv && !training && !with_bias;
      gboolean moments = FALSE;
      if (fused)
        {
          /* Evaluation: the BatchNorm + ReLU is applied as the conv stores its output. */
          cl_conv2d_weights_to_nhwc (&b->convx, w, b->conv.in_c, b->wp);
          cl_conv2d_forward_nhwc_eval_bn_relu (&b->convx, b->wp, in, n, model->params + b->gamma_off,
                                               model->params + b->beta_off, model->buffers + b->run_mean_off,
                                               model->buffers + b->run_var_off, b->act, model->scratch);
        }
      else if (b->is_conv && training && b->rows_per_view >= CL_MODEL_VIEW_MOMENTS_MIN_PIXELS)
        {
          /* The conv adds the planes' bias and gathers the BatchNorm's per-view moments as it
           * stores each view: no pass over pre for either. */
          cl_conv2d_weights_to_nhwc (&b->convx, w, b->conv.in_c, b->wp);
          const ClConvTrainEpilogue tep = { with_bias ? model->cp_bias : NULL, model->cp.pixel_class,
                                            cl_const_planes_classes (&model->cp), model->moments };
          cl_conv2d_forward_nhwc_in (&b->convx, b->wp, in, inbn, n, b->pre, model->scratch, &tep);
          moments = TRUE;
        }
      else if (b->is_conv)
        {
          cl_conv2d_weights_to_nhwc (&b->convx, w, b->conv.in_c, b->wp);
          cl_conv2d_forward_nhwc_in (&b->convx, b->wp, in, inbn, n, b->pre, model->scratch, NULL);
          if (with_bias)
            cl_const_planes_add_bias (&model->cp, model->cp_bias, n, b->pre);
        }
      else
        cl_dense_forward (&b->dense, w, in, n, b->pre);
      PROF_LAP (cl_prof_fwd, i, 0);
      const int rows = n * b->rows_per_view;
      const gboolean defer = moments && b->act_deferred;
      model->views->act_stale[i] = defer;
      if (b->has_bn && !fused)
        {
          const float *gamma = model->params + b->gamma_off, *beta = model->params + b->beta_off;
          float *rm = model->buffers + b->run_mean_off, *rv = model->buffers + b->run_var_off;
          if (moments)
            cl_batchnorm_forward_train_moments (&b->bn, b->pre, n, b->rows_per_view, gamma, beta, defer ? NULL : b->act,
                                                b->bn_mean, b->bn_invstd, rm, rv, model->moments);
          else if (training)
            cl_batchnorm_forward_train (&b->bn, b->pre, rows, gamma, beta, b->act, b->bn_mean, b->bn_invstd, rm, rv,
                                        TRUE);
          else
            cl_batchnorm_forward_eval (&b->bn, b->pre, rows, gamma, beta, rm, rv, b->act, TRUE);
        }
      in = b->act;
      inbn = NULL;
      if (defer)
        {
          /* The next conv normalises pre as it goes; gamma and beta as used here, for the backward
           * and for an act asked for after the optimizer's step. */
          const int C = b->bn.channels;
          memcpy (b->bn_gb, model->params + b->gamma_off, sizeof (float) * C);
          memcpy (b->bn_gb + C, model->params + b->beta_off, sizeof (float) * C);
          inbn_store = (ClConvInputBn){ b->bn_mean, b->bn_gb, b->bn_invstd, b->bn_gb + C };
          inbn = &inbn_store;
          in = b->pre;
        }
      if (i == model->n_conv - 1)
        {
          cl_nhwc_to_nchw (b->act, n, b->conv.out_c, b->rows_per_view, model->flat);
          in = model->flat;
        }
      PROF_LAP (cl_prof_fwd, i, 1);
    }
  model->last_n = n;
  model->backward_ready = training;
  return model->spec.head_layers == 0 ? model->blocks[model->rep_block].act : model->blocks[model->n_blocks - 1].act;
}

const float *
cl_model_representation (const ClModel *model)
{
  return model->blocks[model->rep_block].act;
}

/* Conv block i's input in the last forward: x, the act below, or (deferred) the pre below with ib
 * filled in to normalise it. */
static const float *
conv_input (const ClModel *model, int i, ClConvInputBn *store, const ClConvInputBn **inbn)
{
  *inbn = NULL;
  if (i == 0)
    return model->x_copy;
  const ClBlock *p = &model->blocks[i - 1];
  if (!model->views->act_stale[i - 1])
    return p->act;
  *store = (ClConvInputBn){ p->bn_mean, p->bn_gb, p->bn_invstd, p->bn_gb + p->bn.channels };
  *inbn = store;
  return p->pre;
}

void
cl_model_backward (ClModel *model, const float *dz)
{
  g_return_if_fail (model->backward_ready);
  const int n = model->last_n;
  const float *g = dz;
  int cur = -1; /* grad_buf[cur] holds g; -1 while g is dz, which is never written */
  for (int i = model->n_blocks - 1; i >= 0; i--)
    {
      ClBlock *b = &model->blocks[i];
      PROF_START ();
      if (b->is_conv && b->has_bn && cur >= 0)
        {
          /* The BatchNorm's first pass gives its coefficients; the conv forms each block's dy from
           * them as it goes, so the pre-BN gradient never goes through memory. */
          const int C = b->bn.channels;
          float *k0 = model->bn_k, *k1 = k0 + C, *k2 = k1 + C;
          /* The ReLU's mask is recomputed from pre (same bits as reading act: one stream less). */
          cl_batchnorm_backward_coefficients_pre (&b->bn, b->pre, model->params + b->beta_off, g, n * b->rows_per_view,
                                                  model->params + b->gamma_off, b->bn_mean, b->bn_invstd,
                                                  model->grads + b->gamma_off, model->grads + b->beta_off, k0, k1, k2);
          PROF_LAP (cl_prof_bwd, i, 1);
          const gboolean planes = i == 0 && model->const_planes > 0;
          const ClBnReluGrad bng = { g,
                                     NULL,
                                     b->pre,
                                     b->bn_mean,
                                     k0,
                                     k1,
                                     k2,
                                     model->cp.pixel_class,
                                     cl_const_planes_classes (&model->cp),
                                     planes ? model->cp_sums : NULL,
                                     model->params + b->beta_off };
          const int other = cur ^ 1;
          float *dx = i == 0 ? NULL : model->grad_buf[other];
          ClConvInputBn store;
          const ClConvInputBn *inbn;
          const float *in = conv_input (model, i, &store, &inbn);
          cl_conv2d_backward_nhwc_in (&b->convx, b->wp, in, inbn, &bng, NULL, n, b->dwp, dx, model->scratch);
          cl_conv2d_weights_from_nhwc (&b->convx, b->dwp, b->conv.in_c, model->grads + b->w_off);
          if (planes)
            cl_const_planes_dw (&model->cp, model->cp_sums, model->cp_values, n, b->convx.in_c, model->const_planes,
                                b->conv.in_c, model->grads + b->w_off);
          PROF_LAP (cl_prof_bwd, i, 0);
          if (dx)
            {
              g = dx;
              cur = other;
            }
          continue;
        }
      if (b->has_bn)
        {
          if (cur < 0)
            cur = 0;
          float *dpre = model->grad_buf[cur]; /* in place when g is already ours */
          cl_batchnorm_backward_pre (&b->bn, b->pre, model->params + b->beta_off, g, n * b->rows_per_view,
                                     model->params + b->gamma_off, b->bn_mean, b->bn_invstd, dpre,
                                     model->grads + b->gamma_off, model->grads + b->beta_off);
          g = dpre;
        }
      PROF_LAP (cl_prof_bwd, i, 1);
      const int other = cur < 0 ? 0 : cur ^ 1;
      float *dx = i == 0 ? NULL : model->grad_buf[other];
      float *dw = model->grads + b->w_off;
      if (b->is_conv)
        {
          ClConvInputBn store;
          const ClConvInputBn *inbn;
          const float *in = conv_input (model, i, &store, &inbn);
          cl_conv2d_backward_nhwc_in (&b->convx, b->wp, in, inbn, NULL, g, n, b->dwp, dx, model->scratch);
          cl_conv2d_weights_from_nhwc (&b->convx, b->dwp, b->conv.in_c, dw);
          if (i == 0 && model->const_planes > 0)
            {
              cl_const_planes_dy_sums (&model->cp, g, n, model->cp_sums);
              cl_const_planes_dw (&model->cp, model->cp_sums, model->cp_values, n, b->convx.in_c, model->const_planes,
                                  b->conv.in_c, dw);
            }
        }
      else
        {
          const float *in = i == model->n_conv ? model->flat : model->blocks[i - 1].act;
          cl_dense_backward (&b->dense, model->params + b->w_off, in, g, n, dw, dx);
        }
      PROF_LAP (cl_prof_bwd, i, 0);
      if (!dx)
        continue;
      if (i == model->n_conv)
        {
          /* dx is in the flatten (NCHW) order; the conv below wants NHWC. g is spent, so its buffer
           * takes it, unless g was dz. */
          const ClBlock *c3 = &model->blocks[model->n_conv - 1];
          const int dst = cur < 0 ? other ^ 1 : cur;
          cl_nchw_to_nhwc (dx, n, c3->conv.out_c, c3->conv.out_c, c3->rows_per_view, model->grad_buf[dst]);
          g = model->grad_buf[dst];
          cur = dst;
          PROF_LAP (cl_prof_bwd, CL_MODEL_MAX_BLOCKS, 0);
        }
      else
        {
          g = dx;
          cur = other;
        }
    }
}

void
cl_model_embed (ClModel *model, const float *x, int n, float *y_out)
{
  const size_t in_size = model->blocks[0].in_size, rep = (size_t) model->spec.rep_dim;
  for (int n0 = 0; n0 < n; n0 += model->spec.max_views)
    {
      int m = MIN (model->spec.max_views, n - n0);
      cl_model_forward (model, x + (size_t) n0 * in_size, m, FALSE);
      memcpy (y_out + (size_t) n0 * rep, cl_model_representation (model), sizeof (float) * m * rep);
    }
}

void
cl_model_set_active_input_channels (ClModel *model, int active)
{
  model->active_in = CLAMP (active, 1, model->spec.in_channels);
}

int
cl_model_active_input_channels (const ClModel *model)
{
  return model->active_in;
}

void
cl_model_set_constant_input_planes (ClModel *model, int first)
{
  model->const_from = CLAMP (first, 0, model->spec.in_channels);
}

int
cl_model_constant_input_planes (const ClModel *model)
{
  return model->const_from;
}

size_t
cl_model_num_params (const ClModel *model)
{
  return model->n_params;
}

int
cl_model_kernel_ranges (const ClModel *model, size_t *starts, size_t *counts, int max)
{
  int n = MIN (model->n_blocks, max);
  for (int i = 0; i < n; i++)
    {
      starts[i] = model->blocks[i].w_off;
      counts[i] = model->blocks[i].w_count;
    }
  return n;
}

size_t
cl_model_num_decay_params (const ClModel *model)
{
  return model->n_decay;
}

float *
cl_model_params (ClModel *model)
{
  return model->params;
}

float *
cl_model_grads (ClModel *model)
{
  return model->grads;
}

double
cl_model_flops_per_view (const ClModel *model)
{
  double macs = 0.0;
  for (int i = 0; i < model->n_blocks; i++)
    {
      const ClBlock *b = &model->blocks[i];
      macs += b->is_conv ? cl_conv2d_macs (&b->conv) : (double) b->dense.in * b->dense.out;
    }
  return macs;
}

size_t
cl_model_num_buffers (const ClModel *model)
{
  return model->n_buffers;
}

float *
cl_model_buffers (ClModel *model)
{
  return model->buffers;
}

gboolean
cl_model_copy_weights (ClModel *dst, const ClModel *src)
{
  if (dst->n_blocks != src->n_blocks || dst->n_params != src->n_params || dst->n_buffers != src->n_buffers)
    return FALSE;
  for (int i = 0; i < src->n_blocks; i++)
    if (dst->blocks[i].w_count != src->blocks[i].w_count || dst->blocks[i].in_size != src->blocks[i].in_size ||
        dst->blocks[i].out_size != src->blocks[i].out_size)
      return FALSE;
  memcpy (dst->params, src->params, sizeof (float) * src->n_params);
  memcpy (dst->buffers, src->buffers, sizeof (float) * src->n_buffers);
  return TRUE;
}

int
cl_model_num_conv_layers (const ClModel *model)
{
  return model->n_conv;
}

/* Layer l's act in NCHW order for the last forward's views. */
static const float *
conv_nchw (const ClModel *model, int l)
{
  const ClBlock *b = &model->blocks[l];
  if (l == model->n_conv - 1)
    return model->flat;
  ClModelViews *v = model->views;
  const size_t need = (size_t) MAX (model->last_n, 1) * b->out_size;
  if (v->cap[l] < need)
    {
      g_free (v->nchw[l]);
      v->nchw[l] = g_new (float, need);
      v->cap[l] = need;
    }
  if (v->act_stale[l])
    {
      /* Deferred by the training forward: normalised now, with that forward's statistics. */
      const int C = b->bn.channels;
      cl_batchnorm_relu_apply (b->pre, model->last_n * b->rows_per_view, C, b->bn_mean, b->bn_gb, b->bn_invstd,
                               b->bn_gb + C, b->act);
      v->act_stale[l] = FALSE;
    }
  cl_nhwc_to_nchw (b->act, model->last_n, b->conv.out_c, b->rows_per_view, v->nchw[l]);
  return v->nchw[l];
}

const float *
cl_model_conv_activation (const ClModel *model, int layer, int *channels, int *height, int *width)
{
  g_return_val_if_fail (layer >= 0 && layer < model->n_conv, NULL);
  const ClBlock *b = &model->blocks[layer];
  if (channels)
    *channels = b->conv.out_c;
  if (height)
    *height = b->conv.out_h;
  if (width)
    *width = b->conv.out_w;
  return conv_nchw (model, layer);
}

int
cl_model_num_layers (const ClModel *model)
{
  return model->n_blocks;
}

const float *
cl_model_layer_output (const ClModel *model, int layer, size_t *size)
{
  g_return_val_if_fail (layer >= 0 && layer < model->n_blocks, NULL);
  if (size)
    *size = model->blocks[layer].out_size;
  return layer < model->n_conv ? conv_nchw (model, layer) : model->blocks[layer].act;
}
