/* The model's gradients (engine/nn/cl_model.c): every parameter's and the input's gradient against
 * central differences of a double-precision re-implementation of the whole network (DoubleNet),
 * for the convn, convn-same and convn-deep encoders, with heads, with inactive and constant input
 * planes. */
#include <glib.h>
#include <math.h>
#include <string.h>
#include "engine/nn/cl_model.h"
#include "engine/nn/cl_optimizer.h"
#include "tests/engine/nn/nn_test_util.h"
#include "tests/engine/nn/model_test_util.h"

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
test_model_grad_active (void)
{
  /* RandBit with 24 planes built in, the slider at 8 and at 0 (image plane only). */
  ClModelSpec spec = small_spec (25, 28, 28, 2, 16);
  model_gradcheck (&spec, 6, 1e-4, 9, "convn 28x28x25 head 2, active 9");
  model_gradcheck (&spec, 6, 1e-4, 1, "convn 28x28x25 head 2, active 1");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/model/convn-same/grad", test_model_grad_same);
  g_test_add_func ("/nn/model/convn-deep/grad", test_model_grad_deep);
  g_test_add_func ("/nn/model/grad", test_model_grad);
  g_test_add_func ("/nn/model/grad-heads", test_model_grad_heads);
  g_test_add_func ("/nn/model/grad-active", test_model_grad_active);
  g_test_add_func ("/nn/model/grad-constant-planes", test_model_grad_constant_planes);
  return g_test_run ();
}
