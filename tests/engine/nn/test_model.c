/* The ConvN model: whole-model gradient checks against a double-precision twin, determinism,
 * shapes, active input channels, thread counts. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "engine/nn/cl_model.h"
#include "engine/nn/cl_optimizer.h"
#include "tests/engine/nn/nn_test_util.h"

static ClModelSpec
small_spec (int in_channels, int h, int w, int head_layers, int max_views)
{
  ClModelSpec spec;
  cl_model_spec_init (&spec);
  spec.in_channels = in_channels;
  spec.height = h;
  spec.width = w;
  spec.width_mult = 0.25;
  spec.head_layers = head_layers;
  spec.rep_dim = 12;
  spec.head_hidden = 10;
  spec.out_dim = 6;
  spec.max_views = max_views;
  return spec;
}

static float *
random_views (ClRng *rng, const ClModelSpec *spec, int n)
{
  size_t count = (size_t) n * spec->in_channels * spec->height * spec->width;
  float *x = g_new (float, count);
  size_t plane = (size_t) spec->height * spec->width;
  for (int i = 0; i < n; i++)
    for (int c = 0; c < spec->in_channels; c++)
      {
        float *p = x + ((size_t) i * spec->in_channels + c) * plane;
        if (c == 0)
          fill_uniform (rng, p, plane, 0.0, 1.0);
        else
          {
            /* Constant bit planes, as RandBit feeds them. */
            float bit = (float) cl_rng_below (rng, 2);
            for (size_t j = 0; j < plane; j++)
              p[j] = bit;
          }
      }
  return x;
}

/* The whole-model gradient check. ReLU makes the model piecewise smooth, and with thousands of
 * units coupled by batch statistics, some kink lies within any float-usable step of nearly every
 * conv1 weight, so finite differences of the float model measure an average slope over several
 * pieces. The derivative at p is that of the piece containing p. So the numeric side is an
 * independent double-precision rebuild of ConvN (naive loops, written from the spec, not from
 * cl_layers) with the ReLU on/off pattern of the float model at p frozen: the same function on that
 * piece (checked against the float forward at p), smooth around it, and accurate enough for a small
 * central step. The parameter layout is the documented one: kernels in layer order, then gamma and
 * beta per BN layer. */
#define DN_MAX_LAYERS 16

typedef struct
{
  int n, layers;
  double *params; /* double copy of the model's parameters; the one perturbed */
  size_t w_off[DN_MAX_LAYERS], bn_off[DN_MAX_LAYERS];
  gboolean is_conv[DN_MAX_LAYERS];
  int in_c[DN_MAX_LAYERS], out_c[DN_MAX_LAYERS], in_h[DN_MAX_LAYERS], in_w[DN_MAX_LAYERS];
  int out_h[DN_MAX_LAYERS], out_w[DN_MAX_LAYERS], pad[DN_MAX_LAYERS], stride[DN_MAX_LAYERS];
  size_t in_size[DN_MAX_LAYERS], out_size[DN_MAX_LAYERS];
  guint8 *mask[DN_MAX_LAYERS]; /* NULL: no BN/ReLU (the last head layer) */
  double *x, *r;
  double *pre[DN_MAX_LAYERS], *act[DN_MAX_LAYERS];     /* at the base point */
  double *pre_s[DN_MAX_LAYERS], *act_s[DN_MAX_LAYERS]; /* scratch for perturbed evaluations */
  int from_layer;                                      /* evaluations recompute from this layer... */
  gboolean from_bn;                                    /* ...starting at its BN (a gamma/beta was perturbed) */
  int only_channel; /* ...or, if >= 0, from that output channel of its kernel (a weight was perturbed) */
} DoubleNet;

/* Output channel `only` (all when -1) of layer l's kernel. */
static void
dn_kernel (const DoubleNet *dn, int l, const double *in, double *out, int only)
{
  const double *w = dn->params + dn->w_off[l];
  const int n = dn->n;
  if (dn->is_conv[l])
    {
      const int ic = dn->in_c[l], oc = dn->out_c[l], ih = dn->in_h[l], iw = dn->in_w[l];
      const int oh = dn->out_h[l], ow = dn->out_w[l], pad = dn->pad[l], st = dn->stride[l];
      for (int s = 0; s < n; s++)
        for (int o = only < 0 ? 0 : only; o < (only < 0 ? oc : only + 1); o++)
          for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++)
              {
                double acc = 0.0;
                for (int c = 0; c < ic; c++)
                  for (int ky = 0; ky < 3; ky++)
                    for (int kx = 0; kx < 3; kx++)
                      {
                        const int iy = st * y + ky - pad, ix = st * x + kx - pad;
                        if (iy < 0 || iy >= ih || ix < 0 || ix >= iw)
                          continue; /* zero padding */
                        acc += w[((o * ic + c) * 3 + ky) * 3 + kx] * in[(((size_t) s * ic + c) * ih + iy) * iw + ix];
                      }
                out[(((size_t) s * oc + o) * oh + y) * ow + x] = acc;
              }
    }
  else
    {
      const size_t fin = dn->in_size[l], fout = dn->out_size[l];
      for (int s = 0; s < n; s++)
        for (size_t o = only < 0 ? 0 : (size_t) only; o < (only < 0 ? fout : (size_t) only + 1); o++)
          {
            double acc = 0.0;
            for (size_t k = 0; k < fin; k++)
              acc += w[o * fin + k] * in[s * fin + k];
            out[s * fout + o] = acc;
          }
    }
}

/* Training-mode BN (biased batch variance, eps 1e-5), then the frozen ReLU pattern. */
static void
dn_bn_relu (const DoubleNet *dn, int l, const double *pre, double *act)
{
  const int n = dn->n, c = dn->out_c[l];
  const size_t plane = dn->out_size[l] / c;
  const double *gamma = dn->params + dn->bn_off[l], *beta = gamma + c;
  for (int ch = 0; ch < c; ch++)
    {
      double sum = 0.0, sq = 0.0;
      for (int s = 0; s < n; s++)
        for (size_t j = 0; j < plane; j++)
          sum += pre[((size_t) s * c + ch) * plane + j];
      const double mean = sum / (n * plane);
      for (int s = 0; s < n; s++)
        for (size_t j = 0; j < plane; j++)
          {
            double dev = pre[((size_t) s * c + ch) * plane + j] - mean;
            sq += dev * dev;
          }
      const double inv = 1.0 / sqrt (sq / (n * plane) + 1e-5);
      for (int s = 0; s < n; s++)
        for (size_t j = 0; j < plane; j++)
          {
            size_t idx = ((size_t) s * c + ch) * plane + j;
            act[idx] = dn->mask[l][idx] ? gamma[ch] * (pre[idx] - mean) * inv + beta[ch] : 0.0;
          }
    }
}

static double
dn_objective (void *ctx)
{
  DoubleNet *dn = ctx;
  const double *in = dn->from_layer == 0 ? dn->x : dn->act[dn->from_layer - 1];
  for (int l = dn->from_layer; l < dn->layers; l++)
    {
      const double *pre = dn->pre[l];
      if (l == dn->from_layer && dn->only_channel >= 0)
        {
          memcpy (dn->pre_s[l], dn->pre[l], sizeof (double) * dn->out_size[l] * dn->n);
          dn_kernel (dn, l, in, dn->pre_s[l], dn->only_channel);
          pre = dn->pre_s[l];
        }
      else if (!(l == dn->from_layer && dn->from_bn))
        {
          dn_kernel (dn, l, in, dn->pre_s[l], -1);
          pre = dn->pre_s[l];
        }
      if (dn->mask[l])
        {
          dn_bn_relu (dn, l, pre, dn->act_s[l]);
          in = dn->act_s[l];
        }
      else
        in = pre;
    }
  double sum = 0.0;
  const size_t count = dn->out_size[dn->layers - 1] * dn->n;
  for (size_t i = 0; i < count; i++)
    sum += in[i] * dn->r[i];
  return sum;
}

static void
dn_init (DoubleNet *dn, ClModel *model, const float *x, const float *r, int n)
{
  const ClModelSpec *spec = cl_model_spec (model);
  memset (dn, 0, sizeof *dn);
  dn->n = n;
  dn->layers = cl_model_num_layers (model);
  g_assert_cmpint (dn->layers, <=, DN_MAX_LAYERS);
  const size_t np = cl_model_num_params (model);
  dn->params = g_new (double, np);
  for (size_t i = 0; i < np; i++)
    dn->params[i] = cl_model_params (model)[i];

  /* 3x3 convs, stride 2, valid (convn) or padded by 1 (convn-same); convn-deep adds a padded
   * stride-1 conv after each: written out here rather than taken from the model. */
  static const int deep_strides[] = { 2, 1, 2, 1, 2, 1 }, plain_strides[] = { 2, 2, 2 };
  const gboolean deep = strcmp (spec->arch, "convn-deep") == 0;
  const int n_conv = deep ? 6 : 3;
  const int *strides = deep ? deep_strides : plain_strides;
  g_assert_cmpint (cl_model_num_conv_layers (model), ==, n_conv);
  int c = spec->in_channels, h = spec->height, w = spec->width;
  size_t w_off = 0;
  for (int l = 0; l < dn->layers; l++)
    {
      size_t size;
      const float *out = cl_model_layer_output (model, l, &size);
      dn->out_size[l] = size;
      dn->w_off[l] = w_off;
      if (l < n_conv)
        {
          dn->is_conv[l] = TRUE;
          dn->pad[l] = strcmp (spec->arch, "convn") != 0 ? 1 : 0;
          dn->stride[l] = strides[l];
          dn->in_c[l] = c;
          dn->in_h[l] = h;
          dn->in_w[l] = w;
          dn->in_size[l] = (size_t) c * h * w;
          dn->out_h[l] = (h + 2 * dn->pad[l] - 3) / dn->stride[l] + 1;
          dn->out_w[l] = (w + 2 * dn->pad[l] - 3) / dn->stride[l] + 1;
          g_assert_cmpuint (size % ((size_t) dn->out_h[l] * dn->out_w[l]), ==, 0);
          dn->out_c[l] = (int) (size / ((size_t) dn->out_h[l] * dn->out_w[l]));
          w_off += (size_t) dn->out_c[l] * c * 9;
          c = dn->out_c[l];
          h = dn->out_h[l];
          w = dn->out_w[l];
        }
      else
        {
          dn->in_size[l] = dn->out_size[l - 1];
          dn->out_c[l] = (int) size;
          w_off += dn->in_size[l] * size;
        }
      if (!(l == dn->layers - 1 && spec->head_layers > 0))
        {
          dn->mask[l] = g_new (guint8, size * n);
          for (size_t i = 0; i < size * n; i++)
            dn->mask[l][i] = out[i] > 0.0f;
        }
      dn->pre[l] = g_new (double, size *n);
      dn->act[l] = g_new (double, size *n);
      dn->pre_s[l] = g_new (double, size *n);
      dn->act_s[l] = g_new (double, size *n);
    }
  g_assert_cmpuint (w_off, ==, cl_model_num_decay_params (model));
  size_t bn_off = w_off;
  for (int l = 0; l < dn->layers; l++)
    if (dn->mask[l])
      {
        dn->bn_off[l] = bn_off;
        bn_off += 2 * (size_t) dn->out_c[l];
      }
  g_assert_cmpuint (bn_off, ==, np);

  const size_t nx = dn->in_size[0] * n, nr = dn->out_size[dn->layers - 1] * n;
  dn->x = g_new (double, nx);
  dn->r = g_new (double, nr);
  for (size_t i = 0; i < nx; i++)
    dn->x[i] = x[i];
  for (size_t i = 0; i < nr; i++)
    dn->r[i] = r[i];

  /* Base-point activations, reused by every evaluation upstream of the perturbed parameter. */
  const double *in = dn->x;
  for (int l = 0; l < dn->layers; l++)
    {
      dn_kernel (dn, l, in, dn->pre[l], -1);
      if (dn->mask[l])
        dn_bn_relu (dn, l, dn->pre[l], dn->act[l]);
      else
        memcpy (dn->act[l], dn->pre[l], sizeof (double) * dn->out_size[l] * n);
      in = dn->act[l];
    }
}

static void
dn_free (DoubleNet *dn)
{
  for (int l = 0; l < dn->layers; l++)
    {
      g_free (dn->mask[l]);
      g_free (dn->pre[l]);
      g_free (dn->act[l]);
      g_free (dn->pre_s[l]);
      g_free (dn->act_s[l]);
    }
  g_free (dn->params);
  g_free (dn->x);
  g_free (dn->r);
}

/* Central differences in double of count parameters starting at offset off. per_channel > 0: the
 * parameters are a kernel with that many weights per output channel. */
static void
dn_numeric_grad (DoubleNet *dn, size_t off, size_t count, size_t per_channel, double h, double *out)
{
  for (size_t i = off; i < off + count; i++)
    {
      dn->only_channel = per_channel ? (int) ((i - off) / per_channel) : -1;
      const double saved = dn->params[i];
      dn->params[i] = saved + h;
      double lp = dn_objective (dn);
      dn->params[i] = saved - h;
      double lm = dn_objective (dn);
      dn->params[i] = saved;
      out[i - off] = (lp - lm) / (2 * h);
    }
}

/* Sets the input planes from `active` on to zero (zero_value FALSE: to NaN, which the model must not read). */
static void
fill_inactive (float *x, const ClModelSpec *spec, int n, int active, gboolean zero_value)
{
  const size_t plane = (size_t) spec->height * spec->width;
  for (int i = 0; i < n; i++)
    for (int c = active; c < spec->in_channels; c++)
      for (size_t j = 0; j < plane; j++)
        x[((size_t) i * spec->in_channels + c) * plane + j] = zero_value ? 0.0f : NAN;
}

/* active < in_channels: the model runs with that many active input channels on an x whose other
 * planes are NaN; the double rebuild sees them as zeros. */
static void
model_gradcheck_planes (const ClModelSpec *spec, int n, double tol, int active, int const_from, const char *name)
{
  GError *error = NULL;
  ClModel *model = cl_model_new (spec, 5, &error);
  g_assert_no_error (error);
  cl_model_set_constant_input_planes (model, const_from);
  ClRng rng;
  cl_rng_seed (&rng, 41, TEST_STREAM);
  float *x = random_views (&rng, spec, n);
  float *x_model = g_memdup2 (x, sizeof (float) * n * spec->in_channels * spec->height * spec->width);
  if (active < spec->in_channels)
    {
      cl_model_set_active_input_channels (model, active);
      fill_inactive (x, spec, n, active, TRUE);
      fill_inactive (x_model, spec, n, active, FALSE);
    }
  const int d = cl_model_out_dim (model);
  float *r = g_new (float, (size_t) n *d);
  fill_uniform (&rng, r, (size_t) n * d, -1, 1);

  /* BN parameters away from their init so their gradients are generic. */
  float *params = cl_model_params (model);
  const size_t np = cl_model_num_params (model);
  for (size_t i = cl_model_num_decay_params (model); i < np; i++)
    params[i] += (float) (0.2 * cl_rng_normal (&rng));

  const float *z = cl_model_forward (model, x_model, n, TRUE);
  cl_model_backward (model, r);
  const float *grads = cl_model_grads (model);

  DoubleNet dn;
  dn_init (&dn, model, x, r, n);
  /* At p the double rebuild is the float model, up to float rounding. */
  const double *zd = dn.act[dn.layers - 1];
  double zdiff = 0.0, zmax = 0.0;
  for (size_t i = 0; i < (size_t) n * d; i++)
    {
      zdiff = MAX (zdiff, fabs (zd[i] - z[i]));
      zmax = MAX (zmax, fabs (zd[i]));
    }
  g_assert_cmpfloat (zdiff, <=, 1e-4 * (1.0 + zmax));
  /* Both ReLU states occur in every rectified layer, or freezing them would prove little. */
  for (int l = 0; l < dn.layers; l++)
    if (dn.mask[l])
      {
        size_t on = 0, total = dn.out_size[l] * n;
        for (size_t i = 0; i < total; i++)
          on += dn.mask[l][i];
        g_assert_cmpuint (on, >, 0);
        g_assert_cmpuint (on, <, total);
      }

  /* Each layer's kernel, gamma and beta against its own scale, so a small-gradient layer cannot hide. */
  double *num = g_new (double, np);
  for (int l = 0; l < dn.layers; l++)
    for (int part = 0; part < 3; part++)
      {
        if (part > 0 && !dn.mask[l])
          continue;
        size_t off = part == 0 ? dn.w_off[l] : dn.bn_off[l] + (part == 2 ? dn.out_c[l] : 0);
        size_t count = part == 0 ? dn.in_size[l] / (dn.is_conv[l] ? (size_t) dn.in_h[l] * dn.in_w[l] : 1) *
                                       dn.out_c[l] * (dn.is_conv[l] ? 9 : 1)
                                 : (size_t) dn.out_c[l];
        dn.from_layer = l;
        dn.from_bn = part > 0;
        dn_numeric_grad (&dn, off, count, part == 0 ? count / dn.out_c[l] : 0, 1e-4, num + off);
        static const char *const part_names[3] = { "kernel", "gamma", "beta" };
        char *what = g_strdup_printf ("%s layer %d %s", name, l, part_names[part]);
        assert_grad (what, grads + off, num + off, count, tol);
        g_free (what);
      }

  dn_free (&dn);
  g_free (num);
  g_free (x);
  g_free (x_model);
  g_free (r);
  cl_model_free (model);
}

static void
model_gradcheck (const ClModelSpec *spec, int n, double tol, int active, const char *name)
{
  model_gradcheck_planes (spec, n, tol, active, 0, name);
}

/* Constant bit planes folded out of conv1 (cl_model_set_constant_input_planes): the same
 * finite-difference check, conv1's kernel of the bit planes included. */
static void
test_model_grad_constant_planes (void)
{
  ClModelSpec spec = small_spec (25, 28, 28, 2, 16);
  model_gradcheck_planes (&spec, 6, 1e-4, 9, 1, "convn 28x28x25 head 2, active 9, planes from 1");
  ClModelSpec same = small_spec (5, 19, 16, 2, 8);
  same.arch = "convn-same";
  model_gradcheck_planes (&same, 6, 1e-4, 5, 1, "convn-same 19x16x5 head 2, planes from 1");
}

static void
test_model_grad (void)
{
  /* The RandBit shape: one image plane + 8 constant bit planes, 28x28, head 2. */
  ClModelSpec spec = small_spec (9, 28, 28, 2, 16);
  model_gradcheck (&spec, 6, 1e-4, 9, "convn 28x28x9 head 2");
}

static void
test_model_grad_heads (void)
{
  ClModelSpec spec = small_spec (2, 17, 23, 0, 8);
  model_gradcheck (&spec, 6, 1e-4, 2, "convn 17x23 head 0");
  spec = small_spec (1, 16, 15, 1, 8);
  model_gradcheck (&spec, 6, 1e-4, 1, "convn 16x15 head 1");
  spec = small_spec (4, 20, 20, 3, 8);
  model_gradcheck (&spec, 6, 1e-4, 4, "convn 20x20 head 3");
}

static void
test_model_grad_same (void)
{
  /* The padded variant on an odd-sized input (the padding matters at both borders). */
  ClModelSpec spec = small_spec (3, 19, 16, 2, 8);
  spec.arch = "convn-same";
  model_gradcheck (&spec, 6, 1e-4, 3, "convn-same 19x16x3 head 2");
}

static void
test_model_grad_deep (void)
{
  /* convn-deep: stride-1 convs between the stride-2 ones, on an odd-sized input. */
  ClModelSpec spec = small_spec (2, 13, 11, 2, 8);
  spec.arch = "convn-deep";
  model_gradcheck (&spec, 6, 1e-4, 2, "convn-deep 13x11x2 head 2");
}

static void
test_model_deep_shapes (void)
{
  ClModelSpec spec;
  cl_model_spec_init (&spec);
  spec.arch = "convn-deep";
  spec.height = spec.width = 64;
  spec.max_views = 2;
  GError *error = NULL;
  ClModel *model = cl_model_new (&spec, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (cl_model_spec (model)->arch, ==, "convn-deep");
  g_assert_cmpint (cl_model_num_conv_layers (model), ==, 6);
  static const int expect_hw[6] = { 32, 32, 16, 16, 8, 8 }, expect_c[6] = { 32, 32, 64, 64, 64, 64 };
  float *x = g_new0 (float, 2 * 64 * 64);
  cl_model_forward (model, x, 2, FALSE);
  for (int l = 0; l < 6; l++)
    {
      int c, h, w;
      g_assert_nonnull (cl_model_conv_activation (model, l, &c, &h, &w));
      g_assert_cmpint (c, ==, expect_c[l]);
      g_assert_cmpint (h, ==, expect_hw[l]);
      g_assert_cmpint (w, ==, expect_hw[l]);
    }
  /* The representation dense reads the last 8x8x64 map. */
  size_t size;
  cl_model_layer_output (model, 6, &size);
  g_assert_cmpuint (size, ==, 128);
  g_free (x);
  cl_model_free (model);
  /* An unknown name lists the known ones. */
  spec.arch = "convn-wide";
  g_assert_null (cl_model_new (&spec, 1, &error));
  g_assert_error (error, CL_MODEL_ERROR, CL_MODEL_ERROR_BAD_SPEC);
  g_assert_nonnull (strstr (error->message, "convn-deep"));
  g_clear_error (&error);
}

static void
test_model_same_shapes (void)
{
  ClModelSpec spec;
  cl_model_spec_init (&spec);
  spec.arch = "convn-same";
  spec.in_channels = 3;
  spec.height = spec.width = 64;
  spec.max_views = 2;
  GError *error = NULL;
  ClModel *model = cl_model_new (&spec, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (cl_model_spec (model)->arch, ==, "convn-same");
  static const int expect_hw[3] = { 32, 16, 8 }, expect_c[3] = { 32, 64, 64 };
  float *x = g_new0 (float, 2 * 3 * 64 * 64);
  cl_model_forward (model, x, 2, FALSE);
  for (int l = 0; l < 3; l++)
    {
      int c, h, w;
      g_assert_nonnull (cl_model_conv_activation (model, l, &c, &h, &w));
      g_assert_cmpint (c, ==, expect_c[l]);
      g_assert_cmpint (h, ==, expect_hw[l]);
      g_assert_cmpint (w, ==, expect_hw[l]);
    }
  /* The plain variant on the same canvas: 31/15/7. */
  cl_model_free (model);
  spec.arch = "convn";
  model = cl_model_new (&spec, 1, &error);
  g_assert_no_error (error);
  cl_model_forward (model, x, 2, FALSE);
  int c, h, w;
  cl_model_conv_activation (model, 1, &c, &h, &w);
  g_assert_cmpint (h, ==, 15);
  cl_model_free (model);
  g_free (x);
}

static void
test_model_determinism (void)
{
  ClModelSpec spec = small_spec (9, 28, 28, 2, 12);
  ClModel *a = cl_model_new (&spec, 1234, NULL);
  ClModel *b = cl_model_new (&spec, 1234, NULL);
  ClModel *c = cl_model_new (&spec, 1235, NULL);
  g_assert_nonnull (a);
  g_assert_nonnull (b);
  g_assert_nonnull (c);
  const size_t np = cl_model_num_params (a);
  g_assert_cmpmem (cl_model_params (a), sizeof (float) * np, cl_model_params (b), sizeof (float) * np);
  g_assert_cmpfloat (max_abs_diff (cl_model_params (a), cl_model_params (c), np), >, 0.0);

  ClRng rng;
  cl_rng_seed (&rng, 51, TEST_STREAM);
  const int n = 12, d = cl_model_out_dim (a);
  float *x = random_views (&rng, &spec, n);
  float *r = g_new (float, (size_t) n *d);
  fill_uniform (&rng, r, (size_t) n * d, -1, 1);
  const float *za = cl_model_forward (a, x, n, TRUE);
  const float *zb = cl_model_forward (b, x, n, TRUE);
  g_assert_cmpmem (za, sizeof (float) * n * d, zb, sizeof (float) * n * d);
  cl_model_backward (a, r);
  cl_model_backward (b, r);
  g_assert_cmpmem (cl_model_grads (a), sizeof (float) * np, cl_model_grads (b), sizeof (float) * np);
  const size_t nbuf = cl_model_num_buffers (a);
  g_assert_cmpmem (cl_model_buffers (a), sizeof (float) * nbuf, cl_model_buffers (b), sizeof (float) * nbuf);
  /* Repeating the same step on the same model gives the same gradient bit for bit. */
  float *g1 = g_memdup2 (cl_model_grads (a), sizeof (float) * np);
  cl_model_forward (a, x, n, TRUE);
  cl_model_backward (a, r);
  g_assert_cmpmem (cl_model_grads (a), sizeof (float) * np, g1, sizeof (float) * np);

  /* A few optimizer steps keep the two in lockstep. */
  ClOptimizer *oa = cl_optimizer_new (CL_OPTIMIZER_ADAM, np, cl_model_num_decay_params (a));
  ClOptimizer *ob = cl_optimizer_new (CL_OPTIMIZER_ADAM, np, cl_model_num_decay_params (b));
  cl_optimizer_step (oa, cl_model_params (a), cl_model_grads (a), 1e-3f, 2e-4f);
  for (int step = 0; step < 3; step++)
    {
      cl_model_forward (b, x, n, TRUE);
      cl_model_backward (b, r);
      cl_optimizer_step (ob, cl_model_params (b), cl_model_grads (b), 1e-3f, 2e-4f);
      if (step < 2)
        {
          cl_model_forward (a, x, n, TRUE);
          cl_model_backward (a, r);
          cl_optimizer_step (oa, cl_model_params (a), cl_model_grads (a), 1e-3f, 2e-4f);
        }
    }
  g_assert_cmpmem (cl_model_params (a), sizeof (float) * np, cl_model_params (b), sizeof (float) * np);
  cl_optimizer_free (oa);
  cl_optimizer_free (ob);
  g_free (g1);
  g_free (x);
  g_free (r);
  cl_model_free (a);
  cl_model_free (b);
  cl_model_free (c);
}

/* The caller may overwrite its input between forward and backward. */
static void
test_model_input_copied (void)
{
  ClModelSpec spec = small_spec (2, 20, 20, 2, 6);
  ClModel *model = cl_model_new (&spec, 9, NULL);
  ClRng rng;
  cl_rng_seed (&rng, 52, TEST_STREAM);
  const int n = 6, d = cl_model_out_dim (model);
  const size_t np = cl_model_num_params (model), nx = (size_t) n * 2 * 400;
  float *x = random_views (&rng, &spec, n);
  float *r = g_new (float, (size_t) n *d);
  fill_uniform (&rng, r, (size_t) n * d, -1, 1);
  cl_model_forward (model, x, n, TRUE);
  cl_model_backward (model, r);
  float *g1 = g_memdup2 (cl_model_grads (model), sizeof (float) * np);
  cl_model_forward (model, x, n, TRUE);
  fill_uniform (&rng, x, nx, -3, 3);
  cl_model_backward (model, r);
  g_assert_cmpmem (cl_model_grads (model), sizeof (float) * np, g1, sizeof (float) * np);
  g_free (g1);
  g_free (x);
  g_free (r);
  cl_model_free (model);
}

/* Eval mode uses running statistics: embed matches eval forward, in any chunking, and leaves them alone. */
static void
test_model_eval_and_embed (void)
{
  ClModelSpec spec = small_spec (3, 28, 28, 2, 5);
  ClModel *model = cl_model_new (&spec, 77, NULL);
  ClRng rng;
  cl_rng_seed (&rng, 53, TEST_STREAM);
  const int n = 13, rep = cl_model_rep_dim (model);
  g_assert_cmpint (rep, ==, 12);
  float *x = random_views (&rng, &spec, n);
  const size_t in_size = (size_t) 3 * 28 * 28;

  /* Move the running statistics off their init first. */
  for (int i = 0; i < 4; i++)
    cl_model_forward (model, x + i * in_size, 5, TRUE);
  const size_t nb = cl_model_num_buffers (model);
  float *buffers = g_memdup2 (cl_model_buffers (model), sizeof (float) * nb);

  float *y = g_new (float, (size_t) n *rep);
  cl_model_embed (model, x, n, y);
  g_assert_cmpmem (cl_model_buffers (model), sizeof (float) * nb, buffers, sizeof (float) * nb);
  for (int i = 0; i < n; i++)
    {
      /* One view at a time: eval mode makes each view independent of the others in its batch. */
      cl_model_forward (model, x + i * in_size, 1, FALSE);
      const float *yi = cl_model_representation (model);
      g_assert_cmpfloat (max_abs_diff (yi, y + (size_t) i * rep, rep), <=, 1e-5 * (1 + max_abs (yi, rep)));
    }
  /* Training mode on the same 5 views differs (batch statistics). */
  cl_model_forward (model, x, 5, FALSE);
  float *y_eval = g_memdup2 (cl_model_representation (model), sizeof (float) * 5 * rep);
  cl_model_forward (model, x, 5, TRUE);
  g_assert_cmpfloat (max_abs_diff (y_eval, cl_model_representation (model), (size_t) 5 * rep), >, 1e-3);

  /* A frozen copy reproduces eval outputs. */
  ClModel *copy = cl_model_new (&spec, 1, NULL);
  memcpy (cl_model_buffers (model), buffers, sizeof (float) * nb);
  g_assert_true (cl_model_copy_weights (copy, model));
  float *y_copy = g_new (float, (size_t) n *rep);
  cl_model_embed (copy, x, n, y_copy);
  g_assert_cmpmem (y_copy, sizeof (float) * n * rep, y, sizeof (float) * n * rep);
  ClModelSpec other = small_spec (3, 28, 28, 1, 5);
  ClModel *different = cl_model_new (&other, 1, NULL);
  g_assert_false (cl_model_copy_weights (different, model));

  cl_model_free (different);
  cl_model_free (copy);
  g_free (y_copy);
  g_free (y_eval);
  g_free (y);
  g_free (buffers);
  g_free (x);
  cl_model_free (model);
}

static void
test_model_shapes (void)
{
  ClModelSpec spec;
  cl_model_spec_init (&spec);
  g_assert_cmpstr (spec.arch, ==, "convn");
  spec.in_channels = 9;
  spec.max_views = 4;
  GError *error = NULL;
  ClModel *model = cl_model_new (&spec, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (cl_model_rep_dim (model), ==, 128);
  g_assert_cmpint (cl_model_out_dim (model), ==, 64);
  g_assert_cmpint (cl_model_num_conv_layers (model), ==, 3);
  static const int expect[3][3] = { { 32, 13, 13 }, { 64, 6, 6 }, { 64, 2, 2 } };
  for (int l = 0; l < 3; l++)
    {
      int c, h, w;
      cl_model_conv_activation (model, l, &c, &h, &w);
      g_assert_cmpint (c, ==, expect[l][0]);
      g_assert_cmpint (h, ==, expect[l][1]);
      g_assert_cmpint (w, ==, expect[l][2]);
    }
  /* Kernels: conv 9->32, 32->64, 64->64 (3x3), dense 256->128, 128->256, 256->64. */
  size_t kernels = 32 * 9 * 9 + 64 * 32 * 9 + 64 * 64 * 9 + 256 * 128 + 128 * 256 + 256 * 64;
  size_t bn = 2 * (32 + 64 + 64 + 128 + 256);
  g_assert_cmpuint (cl_model_num_decay_params (model), ==, kernels);
  g_assert_cmpuint (cl_model_num_params (model), ==, kernels + bn);
  g_assert_cmpuint (cl_model_num_buffers (model), ==, bn);
  double macs = 32.0 * 81 * 169 + 64.0 * 288 * 36 + 64.0 * 576 * 4 + 256 * 128 + 128 * 256 + 256 * 64;
  g_assert_cmpfloat (cl_model_flops_per_view (model), ==, macs);
  /* BN starts at gamma 1, beta 0; Glorot-uniform kernels stay inside their limit and fill it. */
  const float *p = cl_model_params (model);
  size_t off = kernels;
  static const int bn_c[5] = { 32, 64, 64, 128, 256 };
  for (int b = 0; b < 5; b++)
    {
      for (int ch = 0; ch < bn_c[b]; ch++)
        {
          g_assert_cmpfloat (p[off + ch], ==, 1.0f);
          g_assert_cmpfloat (p[off + bn_c[b] + ch], ==, 0.0f);
        }
      off += 2 * (size_t) bn_c[b];
    }
  double limit = sqrt (6.0 / (9 * 9 + 32 * 9)), largest = 0.0;
  for (size_t i = 0; i < 32 * 81; i++)
    largest = MAX (largest, fabs (p[i]));
  g_assert_cmpfloat (largest, <=, limit);
  g_assert_cmpfloat (largest, >, 0.95 * limit);
  cl_model_free (model);

  /* head_layers 0: z is y. Width 0.01 rounds every conv down to one channel. */
  spec.head_layers = 0;
  spec.width_mult = 0.01;
  model = cl_model_new (&spec, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (cl_model_out_dim (model), ==, 128);
  int c;
  cl_model_conv_activation (model, 2, &c, NULL, NULL);
  g_assert_cmpint (c, ==, 1);
  cl_model_free (model);
  spec.width_mult = 0.25;
  model = cl_model_new (&spec, 1, &error);
  cl_model_conv_activation (model, 0, &c, NULL, NULL);
  g_assert_cmpint (c, ==, 8);
  cl_model_free (model);
}

static void
test_model_bad_spec (void)
{
  ClModelSpec spec;
  GError *error = NULL;
  cl_model_spec_init (&spec);
  spec.height = 14;
  g_assert_null (cl_model_new (&spec, 1, &error));
  g_assert_error (error, CL_MODEL_ERROR, CL_MODEL_ERROR_BAD_SPEC);
  g_assert_nonnull (strstr (error->message, "too small"));
  g_clear_error (&error);
  spec.height = 15;
  ClModel *model = cl_model_new (&spec, 1, &error);
  g_assert_no_error (error);
  cl_model_free (model);

  cl_model_spec_init (&spec);
  spec.arch = "resnet";
  g_assert_null (cl_model_new (&spec, 1, &error));
  g_assert_error (error, CL_MODEL_ERROR, CL_MODEL_ERROR_BAD_SPEC);
  g_assert_nonnull (strstr (error->message, "model.arch"));
  g_clear_error (&error);

  cl_model_spec_init (&spec);
  spec.width_mult = 0.0;
  g_assert_null (cl_model_new (&spec, 1, &error));
  g_assert_error (error, CL_MODEL_ERROR, CL_MODEL_ERROR_BAD_SPEC);
  g_clear_error (&error);
  cl_model_spec_init (&spec);
  spec.head_layers = -1;
  g_assert_null (cl_model_new (&spec, 1, &error));
  g_clear_error (&error);
  cl_model_spec_init (&spec);
  spec.max_views = 0;
  g_assert_null (cl_model_new (&spec, 1, &error));
  g_clear_error (&error);
}

static void
test_model_grad_active (void)
{
  /* RandBit with 24 planes built in, the slider at 8 and at 0 (image plane only). */
  ClModelSpec spec = small_spec (25, 28, 28, 2, 16);
  model_gradcheck (&spec, 6, 1e-4, 9, "convn 28x28x25 head 2, active 9");
  model_gradcheck (&spec, 6, 1e-4, 1, "convn 28x28x25 head 2, active 1");
}

/* Largest difference of a and b relative to the largest |b|, per range. */
static double
rel_diff (const float *a, const float *b, size_t count)
{
  return max_abs_diff (a, b, count) / (1e-30 + max_abs (b, count));
}

/* Two models compared step by step (a under test, b the reference), each with a LARS optimizer
 * over the same layers. */
typedef struct
{
  ClModel *a, *b;
  ClOptimizer *oa, *ob;
  size_t np, nd, nbuf;
  size_t starts[8], counts[8];
  int n_layers;
} ModelPair;

static void
model_pair_init (ModelPair *p, ClModel *a, ClModel *b)
{
  p->a = a;
  p->b = b;
  p->np = cl_model_num_params (a);
  p->nd = cl_model_num_decay_params (a);
  p->nbuf = cl_model_num_buffers (a);
  p->n_layers = cl_model_kernel_ranges (a, p->starts, p->counts, 8);
  p->oa = cl_optimizer_new (CL_OPTIMIZER_LARS, p->np, p->nd);
  p->ob = cl_optimizer_new (CL_OPTIMIZER_LARS, p->np, p->nd);
  cl_optimizer_set_layers (p->oa, p->n_layers, p->starts, p->counts);
  cl_optimizer_set_layers (p->ob, p->n_layers, p->starts, p->counts);
}

/* Every layer's gradient, the other parameters' and the buffers agree after backward. */
static void
model_pair_assert_grads (const ModelPair *p)
{
  ClModel *a = p->a, *b = p->b;
  for (int l = 0; l < p->n_layers; l++)
    g_assert_cmpfloat (rel_diff (cl_model_grads (a) + p->starts[l], cl_model_grads (b) + p->starts[l], p->counts[l]),
                       <=, 1e-4);
  g_assert_cmpfloat (rel_diff (cl_model_grads (a) + p->nd, cl_model_grads (b) + p->nd, p->np - p->nd), <=, 1e-4);
  g_assert_cmpfloat (rel_diff (cl_model_buffers (a), cl_model_buffers (b), p->nbuf), <=, 1e-5);
}

/* A LARS step of both agrees; then a takes b's state, so the next step starts from equal footing. */
static void
model_pair_step (ModelPair *p)
{
  cl_optimizer_step (p->oa, cl_model_params (p->a), cl_model_grads (p->a), 0.5f, 1e-3f);
  cl_optimizer_step (p->ob, cl_model_params (p->b), cl_model_grads (p->b), 0.5f, 1e-3f);
  g_assert_cmpfloat (rel_diff (cl_model_params (p->a), cl_model_params (p->b), p->np), <=, 1e-5);
  g_assert_true (cl_model_copy_weights (p->a, p->b));
}

/* Evaluation of a on xa agrees with b on xb. */
static void
model_pair_assert_embed (const ModelPair *p, const float *xa, const float *xb, int n, int rep_dim)
{
  float *ya = g_new (float, (size_t) n *rep_dim), *yb = g_new (float, (size_t) n *rep_dim);
  cl_model_embed (p->a, xa, n, ya);
  cl_model_embed (p->b, xb, n, yb);
  g_assert_cmpfloat (rel_diff (ya, yb, (size_t) n * rep_dim), <=, 1e-5);
  g_free (ya);
  g_free (yb);
}

static void
model_pair_clear (ModelPair *p)
{
  cl_optimizer_free (p->oa);
  cl_optimizer_free (p->ob);
  cl_model_free (p->a);
  cl_model_free (p->b);
}

/* A model with fewer active input channels follows, step by step, a full model fed zero planes (to
 * float rounding: OpenBLAS sums a shorter K in another order), while the active count changes
 * between steps. After each step a takes b's state, so every step is compared from equal footing. */
static void
test_model_active_channels (void)
{
  ClModelSpec spec = small_spec (25, 28, 28, 2, 20);
  ClModel *a = cl_model_new (&spec, 77, NULL);
  ClModel *b = cl_model_new (&spec, 77, NULL);
  g_assert_nonnull (a);
  g_assert_nonnull (b);
  g_assert_cmpint (cl_model_active_input_channels (a), ==, 25);
  cl_model_set_active_input_channels (a, 0);
  g_assert_cmpint (cl_model_active_input_channels (a), ==, 1);
  cl_model_set_active_input_channels (a, 99);
  g_assert_cmpint (cl_model_active_input_channels (a), ==, 25);

  const size_t k1 = 9 * (size_t) spec.in_channels; /* conv1 weights per output channel */
  ModelPair pair;
  model_pair_init (&pair, a, b);

  ClRng rng;
  cl_rng_seed (&rng, 61, TEST_STREAM);
  const int n = 20, d = cl_model_out_dim (a);
  float *r = g_new (float, (size_t) n *d);
  static const int schedule[] = { 1, 9, 25, 5, 1, 13 };
  for (size_t step = 0; step < G_N_ELEMENTS (schedule); step++)
    {
      const int active = schedule[step];
      float *x = random_views (&rng, &spec, n);
      float *x_nan = g_memdup2 (x, sizeof (float) * n * cl_model_spec (a)->in_channels * 28 * 28);
      fill_inactive (x, &spec, n, active, TRUE);
      fill_inactive (x_nan, &spec, n, active, FALSE);
      fill_uniform (&rng, r, (size_t) n * d, -1, 1);
      cl_model_set_active_input_channels (a, active);
      const float *za = cl_model_forward (a, x_nan, n, TRUE);
      const float *zb = cl_model_forward (b, x, n, TRUE);
      g_assert_cmpfloat (rel_diff (za, zb, (size_t) n * d), <=, 1e-5);
      /* The input copy must not be what keeps the NaN planes out. */
      memset (x_nan, 0xff, sizeof (float) * n * spec.in_channels * 28 * 28);
      cl_model_backward (a, r);
      cl_model_backward (b, r);
      model_pair_assert_grads (&pair);
      /* conv1's gradient is zero exactly on the inactive channels and not all zero on the active ones. */
      const float *g = cl_model_grads (a);
      double active_norm = 0.0;
      for (size_t o = 0; o < pair.counts[0] / k1; o++)
        for (size_t j = 0; j < k1; j++)
          {
            if (j >= 9 * (size_t) active)
              g_assert_cmpfloat (g[o * k1 + j], ==, 0.0f);
            else
              active_norm += fabs (g[o * k1 + j]);
          }
      g_assert_cmpfloat (active_norm, >, 0.0);
      model_pair_step (&pair);
      /* Evaluation reads the active planes only as well. */
      memcpy (x_nan, x, sizeof (float) * n * spec.in_channels * 28 * 28);
      fill_inactive (x_nan, &spec, n, active, FALSE);
      model_pair_assert_embed (&pair, x_nan, x, n, spec.rep_dim);
      g_free (x);
      g_free (x_nan);
    }
  g_free (r);
  model_pair_clear (&pair);
}

/* Sets every pixel but pixel 0 of the planes first .. in_channels - 1 to NaN: a model folding
 * constant planes reads only pixel 0 of them. */
static void
nan_constant_planes (float *x, const ClModelSpec *spec, int n, int first)
{
  const size_t plane = (size_t) spec->height * spec->width;
  for (int i = 0; i < n; i++)
    for (int c = first; c < spec->in_channels; c++)
      for (size_t j = 1; j < plane; j++)
        x[((size_t) i * spec->in_channels + c) * plane + j] = NAN;
}

/* Constant planes folded out of conv1 against the full convolution, step by step (forward,
 * backward, LARS, evaluation), as the active count changes, for the valid convn and the padded
 * convn-same (whose border pixels see only part of the planes). */
static void
test_model_constant_planes (void)
{
  for (int arch = 0; arch < 2; arch++)
    {
      ClModelSpec spec = arch == 0 ? small_spec (25, 28, 28, 2, 20) : small_spec (9, 21, 18, 2, 20);
      if (arch == 1)
        spec.arch = "convn-same";
      ClModel *a = cl_model_new (&spec, 78, NULL);
      ClModel *b = cl_model_new (&spec, 78, NULL);
      g_assert_nonnull (a);
      g_assert_nonnull (b);
      g_assert_cmpint (cl_model_constant_input_planes (a), ==, 0);
      cl_model_set_constant_input_planes (a, 1);
      g_assert_cmpint (cl_model_constant_input_planes (a), ==, 1);
      const size_t nx = (size_t) spec.in_channels * spec.height * spec.width;
      const size_t k1 = 9 * (size_t) spec.in_channels;
      ModelPair pair;
      model_pair_init (&pair, a, b);
      ClRng rng;
      cl_rng_seed (&rng, 62 + arch, TEST_STREAM);
      const int n = 20, d = cl_model_out_dim (a);
      float *r = g_new (float, (size_t) n *d);
      const int schedule[] = { spec.in_channels, 1, 5, spec.in_channels, 3 };
      for (size_t step = 0; step < G_N_ELEMENTS (schedule); step++)
        {
          const int active = schedule[step];
          float *x = random_views (&rng, &spec, n);
          fill_inactive (x, &spec, n, active, TRUE);
          float *x_nan = g_memdup2 (x, sizeof (float) * n * nx);
          fill_inactive (x_nan, &spec, n, active, FALSE);
          nan_constant_planes (x_nan, &spec, n, 1);
          fill_uniform (&rng, r, (size_t) n * d, -1, 1);
          cl_model_set_active_input_channels (a, active);
          cl_model_set_active_input_channels (b, active);
          const float *za = cl_model_forward (a, x_nan, n, TRUE);
          const float *zb = cl_model_forward (b, x, n, TRUE);
          g_assert_cmpfloat (rel_diff (za, zb, (size_t) n * d), <=, 1e-5);
          cl_model_backward (a, r);
          cl_model_backward (b, r);
          model_pair_assert_grads (&pair);
          /* conv1's gradient: exactly zero on the inactive channels, not all zero on the folded planes. */
          const float *g = cl_model_grads (a);
          double planes_norm = 0.0;
          for (size_t o = 0; o < pair.counts[0] / k1; o++)
            for (size_t j = 9; j < k1; j++)
              {
                if (j >= 9 * (size_t) active)
                  g_assert_cmpfloat (g[o * k1 + j], ==, 0.0f);
                else
                  planes_norm += fabs (g[o * k1 + j]);
              }
          if (active > 1)
            g_assert_cmpfloat (planes_norm, >, 0.0);
          model_pair_step (&pair);
          /* Evaluation folds the planes too. */
          model_pair_assert_embed (&pair, x_nan, x, n, spec.rep_dim);
          g_free (x);
          g_free (x_nan);
        }
      g_free (r);
      model_pair_clear (&pair);
    }
}

/* The model on 2 and 3 team threads: bit-reproducible at a given count, equal to 1 thread to float
 * rounding (the conv blocks differ, so the sums are grouped differently). */
static void
test_model_threads (void)
{
  const int saved_blas = openblas_get_num_threads ();
  openblas_set_num_threads (1);
  ClModelSpec spec = small_spec (9, 28, 28, 2, 40);
  ClRng rng;
  cl_rng_seed (&rng, 81, TEST_STREAM);
  const int n = 40;
  float *x = random_views (&rng, &spec, n);
  ClModel *ref = cl_model_new (&spec, 8, NULL);
  g_assert_nonnull (ref);
  const int d = cl_model_out_dim (ref);
  const size_t np = cl_model_num_params (ref), nd = cl_model_num_decay_params (ref);
  float *r = g_new (float, (size_t) n *d);
  fill_uniform (&rng, r, (size_t) n * d, -1, 1);
  cl_layers_set_threads (1);
  float *z1 = g_memdup2 (cl_model_forward (ref, x, n, TRUE), sizeof (float) * n * d);
  cl_model_backward (ref, r);
  size_t starts[8], counts[8];
  const int n_layers = cl_model_kernel_ranges (ref, starts, counts, 8);
  for (int threads = 2; threads <= 3; threads++)
    {
      cl_layers_set_threads (threads);
      ClModel *a = cl_model_new (&spec, 8, NULL), *b = cl_model_new (&spec, 8, NULL);
      const float *za = cl_model_forward (a, x, n, TRUE);
      cl_model_backward (a, r);
      const float *zb = cl_model_forward (b, x, n, TRUE);
      cl_model_backward (b, r);
      g_assert_cmpmem (za, sizeof (float) * n * d, zb, sizeof (float) * n * d);
      g_assert_cmpmem (cl_model_grads (a), sizeof (float) * np, cl_model_grads (b), sizeof (float) * np);
      g_assert_cmpfloat (rel_diff (za, z1, (size_t) n * d), <=, 1e-5);
      for (int l = 0; l < n_layers; l++)
        g_assert_cmpfloat (rel_diff (cl_model_grads (a) + starts[l], cl_model_grads (ref) + starts[l], counts[l]), <=,
                           1e-4);
      g_assert_cmpfloat (rel_diff (cl_model_grads (a) + nd, cl_model_grads (ref) + nd, np - nd), <=, 1e-4);
      cl_model_free (a);
      cl_model_free (b);
    }
  cl_layers_set_threads (1);
  openblas_set_num_threads (saved_blas);
  g_free (z1);
  g_free (r);
  g_free (x);
  cl_model_free (ref);
}

/* The model gives the same bits on 1 to 4 team threads (OpenBLAS on 1 thread, as the trainer runs
 * it): forward output, every gradient and the running statistics, convn and convn-same, with the
 * full width so the BatchNorms are split across threads. */
static void
test_model_threads_identical (void)
{
  const int saved_blas = openblas_get_num_threads ();
  openblas_set_num_threads (1);
  for (int same = 0; same < 2; same++)
    {
      ClModelSpec spec;
      cl_model_spec_init (&spec);
      spec.arch = same ? "convn-same" : "convn";
      spec.in_channels = same ? 2 : 9;
      spec.height = spec.width = same ? 32 : 28;
      spec.max_views = 96;
      ClRng rng;
      cl_rng_seed (&rng, 82 + same, TEST_STREAM);
      const int n = spec.max_views;
      float *x = random_views (&rng, &spec, n);
      float *z[4], *g[4], *buf[4];
      size_t np = 0, nb = 0;
      int d = 0;
      for (int t = 0; t < 4; t++)
        {
          cl_layers_use_threads (t + 1);
          ClModel *m = cl_model_new (&spec, 9, NULL);
          g_assert_nonnull (m);
          d = cl_model_out_dim (m);
          np = cl_model_num_params (m);
          nb = cl_model_num_buffers (m);
          ClRng rr;
          cl_rng_seed (&rr, 5, TEST_STREAM);
          float *r = g_new (float, (size_t) n *d);
          fill_uniform (&rr, r, (size_t) n * d, -1, 1);
          z[t] = g_memdup2 (cl_model_forward (m, x, n, TRUE), sizeof (float) * n * d);
          cl_model_backward (m, r);
          g[t] = g_memdup2 (cl_model_grads (m), sizeof (float) * np);
          buf[t] = g_memdup2 (cl_model_buffers (m), sizeof (float) * nb);
          g_free (r);
          cl_model_free (m);
        }
      for (int t = 1; t < 4; t++)
        {
          g_assert_cmpmem (z[t], sizeof (float) * n * d, z[0], sizeof (float) * n * d);
          g_assert_cmpmem (g[t], sizeof (float) * np, g[0], sizeof (float) * np);
          g_assert_cmpmem (buf[t], sizeof (float) * nb, buf[0], sizeof (float) * nb);
        }
      g_assert_cmpfloat (max_abs (g[0], np), >, 0.0);
      for (int t = 0; t < 4; t++)
        {
          g_free (z[t]);
          g_free (g[t]);
          g_free (buf[t]);
        }
      g_free (x);
    }
  cl_layers_set_threads (1);
  openblas_set_num_threads (saved_blas);
}

/* Views per second of a training step (forward + backward) at 28x28, full width, batch of 512 views. */
static double
views_per_second (int in_channels, int active)
{
  ClModelSpec spec;
  cl_model_spec_init (&spec);
  spec.in_channels = in_channels;
  spec.max_views = 512;
  ClModel *model = cl_model_new (&spec, 3, NULL);
  g_assert_nonnull (model);
  cl_model_set_active_input_channels (model, active);
  ClRng rng;
  cl_rng_seed (&rng, 71, TEST_STREAM);
  const int n = spec.max_views, d = cl_model_out_dim (model);
  float *x = random_views (&rng, &spec, n);
  float *r = g_new (float, (size_t) n *d);
  fill_uniform (&rng, r, (size_t) n * d, -1, 1);
  cl_model_forward (model, x, n, TRUE);
  cl_model_backward (model, r);
  double best = 0.0;
  for (int rep = 0; rep < 5; rep++)
    {
      gint64 t0 = g_get_monotonic_time ();
      for (int it = 0; it < 4; it++)
        {
          cl_model_forward (model, x, n, TRUE);
          cl_model_backward (model, r);
        }
      double vps = 4.0 * n / ((g_get_monotonic_time () - t0) * 1e-6);
      best = MAX (best, vps);
    }
  g_free (x);
  g_free (r);
  cl_model_free (model);
  return best;
}

/* Run with -m perf: what the unused planes cost. */
static void
test_model_active_channels_cost (void)
{
  const double full1 = views_per_second (1, 1), full9 = views_per_second (9, 9);
  const double a1 = views_per_second (25, 1), a9 = views_per_second (25, 9), a25 = views_per_second (25, 25);
  g_printerr ("\nviews/s (forward+backward, 512 views, best of 5):\n"
              "  built in_channels 1:            %8.0f\n"
              "  built in_channels 9:            %8.0f\n"
              "  built in_channels 25, active 1: %8.0f (%.2f of built 1)\n"
              "  built in_channels 25, active 9: %8.0f (%.2f of built 9)\n"
              "  built in_channels 25, active 25:%8.0f\n",
              full1, full9, a1, a1 / full1, a9, a9 / full9, a25);
  /* Loose, so a loaded machine does not fail it: skipping 24 of 25 planes must at least pay off. */
  g_assert_cmpfloat (a1, >, a25);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/model/convn-same/grad", test_model_grad_same);
  g_test_add_func ("/nn/model/convn-same/shapes", test_model_same_shapes);
  g_test_add_func ("/nn/model/convn-deep/grad", test_model_grad_deep);
  g_test_add_func ("/nn/model/convn-deep/shapes", test_model_deep_shapes);
  g_test_add_func ("/nn/model/shapes", test_model_shapes);
  g_test_add_func ("/nn/model/bad-spec", test_model_bad_spec);
  g_test_add_func ("/nn/model/grad", test_model_grad);
  g_test_add_func ("/nn/model/grad-heads", test_model_grad_heads);
  g_test_add_func ("/nn/model/determinism", test_model_determinism);
  g_test_add_func ("/nn/model/input-copied", test_model_input_copied);
  g_test_add_func ("/nn/model/grad-active", test_model_grad_active);
  g_test_add_func ("/nn/model/active-channels", test_model_active_channels);
  g_test_add_func ("/nn/model/constant-planes", test_model_constant_planes);
  g_test_add_func ("/nn/model/grad-constant-planes", test_model_grad_constant_planes);
  g_test_add_func ("/nn/model/threads", test_model_threads);
  g_test_add_func ("/nn/model/threads-identical", test_model_threads_identical);
  if (g_test_perf ())
    g_test_add_func ("/nn/model/active-channels-cost", test_model_active_channels_cost);
  g_test_add_func ("/nn/model/eval-and-embed", test_model_eval_and_embed);
  return g_test_run ();
}
