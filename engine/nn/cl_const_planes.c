/* Constant input planes folded out of a conv: see cl_const_planes.h. */
#include "engine/nn/cl_const_planes.h"

#include <string.h>

#include "engine/nn/cl_layers_private.h"

/* Which of the k patch rows (or columns) of output position `o` fall inside a size-long axis. */
static guint64
axis_mask (int o, int k, int stride, int pad, int size)
{
  guint64 m = 0;
  for (int t = 0; t < k; t++)
    {
      const int i = o * stride - pad + t;
      if (i >= 0 && i < size)
        m |= (guint64) 1 << t;
    }
  return m;
}

/* Distinct masks along one axis: class[o] indexes masks[]; returns how many. */
static int
axis_classes (int out, int k, int stride, int pad, int size, int *cls, guint64 *masks)
{
  int n = 0;
  for (int o = 0; o < out; o++)
    {
      const guint64 m = axis_mask (o, k, stride, pad, size);
      int c = 0;
      while (c < n && masks[c] != m)
        c++;
      if (c == n)
        masks[n++] = m;
      cls[o] = c;
    }
  return n;
}

void
cl_const_planes_init (ClConstPlanes *cp, const ClConv2d *conv, int max_planes)
{
  g_return_if_fail (conv->k <= 64);
  memset (cp, 0, sizeof *cp);
  cp->k = conv->k;
  cp->out_h = conv->out_h;
  cp->out_w = conv->out_w;
  cp->out_c = conv->out_c;
  int *rc = g_new (int, conv->out_h), *cc = g_new (int, conv->out_w);
  cp->row_mask = g_new (guint64, conv->out_h);
  cp->col_mask = g_new (guint64, conv->out_w);
  cp->n_row = axis_classes (conv->out_h, conv->k, conv->stride, conv->pad, conv->in_h, rc, cp->row_mask);
  cp->n_col = axis_classes (conv->out_w, conv->k, conv->stride, conv->pad, conv->in_w, cc, cp->col_mask);
  cp->pixel_class = g_new (int, (size_t) conv->out_h * conv->out_w);
  for (int oh = 0; oh < conv->out_h; oh++)
    for (int ow = 0; ow < conv->out_w; ow++)
      cp->pixel_class[oh * conv->out_w + ow] = rc[oh] * cp->n_col + cc[ow];
  g_free (rc);
  g_free (cc);
  cp->max_planes = MAX (max_planes, 1);
  const size_t scratch = (size_t) cl_const_planes_classes (cp) * cp->out_c * cp->max_planes;
  cp->tap_sums = g_new (float, scratch);
  cp->grad_sums = g_new (double, scratch);
}

void
cl_const_planes_clear (ClConstPlanes *cp)
{
  g_free (cp->pixel_class);
  g_free (cp->row_mask);
  g_free (cp->col_mask);
  g_free (cp->tap_sums);
  g_free (cp->grad_sums);
  memset (cp, 0, sizeof *cp);
}

/* S [classes][planes][out_c]: the sum of each plane's kernel taps inside each class's patch. */
static void
tap_sums (const ClConstPlanes *cp, const float *w, int w_in_c, int first, int planes, float *S)
{
  const int k = cp->k, O = cp->out_c;
  for (int r = 0; r < cp->n_row; r++)
    for (int c = 0; c < cp->n_col; c++)
      for (int o = 0; o < O; o++)
        for (int pl = 0; pl < planes; pl++)
          {
            const float *wk = w + ((size_t) o * w_in_c + first + pl) * k * k;
            float s = 0.0f;
            for (int ki = 0; ki < k; ki++)
              if (cp->row_mask[r] >> ki & 1)
                for (int kj = 0; kj < k; kj++)
                  if (cp->col_mask[c] >> kj & 1)
                    s += wk[ki * k + kj];
            S[(((size_t) r * cp->n_col + c) * planes + pl) * O + o] = s;
          }
}

#define CL_CONST_VIEWS 16 /* views per team item */

typedef struct
{
  const ClConstPlanes *cp;
  const float *x; /* NULL: v is given */
  int x_c, first, planes, n;
  size_t P;
  float *v_out;   /* the values gathered from x (when x is given) */
  const float *v; /* the values read (v_out when gathered) */
  float *bias;
} BiasJob;

/* Views item * CL_CONST_VIEWS ..: their values (when x is given), then their bias. Each bias
 * element is 0 + v[0] * S[0] + v[1] * S[1] + ... in plane order with one rounding per operation
 * (ISO C: no contraction), as one scalar sum per element gives: the channels only run side by side. */
static void
bias_item (void *arg, int item, int thread)
{
  (void) thread;
  const BiasJob *job = arg;
  const ClConstPlanes *cp = job->cp;
  const int O = cp->out_c, classes = cl_const_planes_classes (cp), planes = job->planes;
  const int s0 = item * CL_CONST_VIEWS, s1 = MIN (job->n, s0 + CL_CONST_VIEWS);
  if (job->x)
    for (int s = s0; s < s1; s++)
      for (int c = 0; c < planes; c++)
        job->v_out[(size_t) s * planes + c] = job->x[((size_t) s * job->x_c + job->first + c) * job->P];
  for (int s = s0; s < s1; s++)
    for (int cl = 0; cl < classes; cl++)
      {
        float *restrict b = job->bias + ((size_t) s * classes + cl) * O;
        const float *vs = job->v + (size_t) s * planes;
        for (int o = 0; o < O; o++)
          b[o] = 0.0f;
        for (int pl = 0; pl < planes; pl++)
          {
            const float vp = vs[pl];
            const float *restrict sp = cp->tap_sums + ((size_t) cl * planes + pl) * O;
            for (int o = 0; o < O; o++)
              b[o] += vp * sp[o];
          }
      }
}

static void
values_bias (const ClConstPlanes *cp, const float *w, int w_in_c, int first, int planes, const float *x, int x_c,
             size_t P, int n, float *v_out, const float *v, float *bias)
{
  g_return_if_fail (planes <= cp->max_planes);
  tap_sums (cp, w, w_in_c, first, planes, cp->tap_sums);
  BiasJob job = { cp, x, x_c, first, planes, n, P, v_out, v, bias };
  cl_team_for (bias_item, &job, (n + CL_CONST_VIEWS - 1) / CL_CONST_VIEWS);
}

void
cl_const_planes_values (const float *x, int n, int x_c, size_t P, int first, int planes, float *v)
{
  for (int s = 0; s < n; s++)
    for (int c = 0; c < planes; c++)
      v[(size_t) s * planes + c] = x[((size_t) s * x_c + first + c) * P];
}

void
cl_const_planes_bias (const ClConstPlanes *cp, const float *w, int w_in_c, int first, int planes, const float *v, int n,
                      float *bias)
{
  values_bias (cp, w, w_in_c, first, planes, NULL, 0, 0, n, NULL, v, bias);
}

void
cl_const_planes_values_bias (const ClConstPlanes *cp, const float *w, int w_in_c, const float *x, int x_c, size_t P,
                             int first, int planes, int n, float *v, float *bias)
{
  values_bias (cp, w, w_in_c, first, planes, x, x_c, P, n, v, v, bias);
}

typedef struct
{
  const ClConstPlanes *cp;
  const float *bias;
  int n;
  float *y;
} AddJob;

static void
add_bias_item (void *arg, int item, int thread)
{
  (void) thread;
  const AddJob *job = arg;
  const ClConstPlanes *cp = job->cp;
  const int O = cp->out_c, classes = cl_const_planes_classes (cp);
  const size_t P = (size_t) cp->out_h * cp->out_w;
  const int s_end = MIN (job->n, (item + 1) * CL_CONST_VIEWS);
  for (int s = item * CL_CONST_VIEWS; s < s_end; s++)
    for (size_t p = 0; p < P; p++)
      {
        const float *b = job->bias + ((size_t) s * classes + cp->pixel_class[p]) * O;
        float *yr = job->y + ((size_t) s * P + p) * O;
        for (int o = 0; o < O; o++)
          yr[o] += b[o];
      }
}

void
cl_const_planes_add_bias (const ClConstPlanes *cp, const float *bias, int n, float *y)
{
  AddJob job = { cp, bias, n, y };
  cl_team_for (add_bias_item, &job, (n + CL_CONST_VIEWS - 1) / CL_CONST_VIEWS);
}

void
cl_const_planes_dy_sums (const ClConstPlanes *cp, const float *dy, int n, float *sums)
{
  const int O = cp->out_c, classes = cl_const_planes_classes (cp);
  const size_t P = (size_t) cp->out_h * cp->out_w;
  memset (sums, 0, sizeof (float) * (size_t) n * classes * O);
  for (int s = 0; s < n; s++)
    for (size_t p = 0; p < P; p++)
      {
        float *d = sums + ((size_t) s * classes + cp->pixel_class[p]) * O;
        const float *g = dy + ((size_t) s * P + p) * O;
        for (int o = 0; o < O; o++)
          d[o] += g[o];
      }
}

#define CL_CONST_DW_CHANNELS 8 /* output channels per team item of the kernel gradient */

typedef struct
{
  const ClConstPlanes *cp;
  const float *sums, *v;
  int n, planes;
} DwJob;

/* T [classes][o][planes] += v * sums over the images in order, for channels item * 8 ..: each
 * element's sum is the same whichever thread takes its channels. */
static void
dw_item (void *arg, int item, int thread)
{
  (void) thread;
  const DwJob *job = arg;
  const ClConstPlanes *cp = job->cp;
  const int O = cp->out_c, classes = cl_const_planes_classes (cp), planes = job->planes;
  const int o0 = item * CL_CONST_DW_CHANNELS, o1 = MIN (O, o0 + CL_CONST_DW_CHANNELS);
  for (int cl = 0; cl < classes; cl++)
    memset (cp->grad_sums + ((size_t) cl * O + o0) * planes, 0, sizeof (double) * (size_t) (o1 - o0) * planes);
  for (int s = 0; s < job->n; s++)
    {
      const float *vs = job->v + (size_t) s * planes;
      for (int cl = 0; cl < classes; cl++)
        for (int o = o0; o < o1; o++)
          {
            const double d = job->sums[((size_t) s * classes + cl) * O + o];
            double *restrict t = cp->grad_sums + ((size_t) cl * O + o) * planes;
            for (int pl = 0; pl < planes; pl++)
              t[pl] += d * vs[pl];
          }
    }
}

void
cl_const_planes_dw (const ClConstPlanes *cp, const float *sums, const float *v, int n, int first, int planes,
                    int w_in_c, float *dw)
{
  const int k = cp->k, O = cp->out_c;
  /* T [classes][o][planes] = sum over images of v * sums, in double, images in order. */
  g_return_if_fail (planes <= cp->max_planes);
  const double *T = cp->grad_sums;
  DwJob job = { cp, sums, v, n, planes };
  cl_team_for (dw_item, &job, (O + CL_CONST_DW_CHANNELS - 1) / CL_CONST_DW_CHANNELS);
  for (int o = 0; o < O; o++)
    for (int pl = 0; pl < planes; pl++)
      {
        float *wk = dw + ((size_t) o * w_in_c + first + pl) * k * k;
        for (int ki = 0; ki < k; ki++)
          for (int kj = 0; kj < k; kj++)
            {
              double g = 0.0;
              for (int r = 0; r < cp->n_row; r++)
                if (cp->row_mask[r] >> ki & 1)
                  for (int c = 0; c < cp->n_col; c++)
                    if (cp->col_mask[c] >> kj & 1)
                      g += T[(((size_t) r * cp->n_col + c) * O + o) * planes + pl];
              wk[ki * k + kj] = (float) g;
            }
      }
}
