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

void
cl_const_planes_values (const float *x, int n, int x_c, size_t P, int first, int planes, float *v)
{
  for (int s = 0; s < n; s++)
    for (int c = 0; c < planes; c++)
      v[(size_t) s * planes + c] = x[((size_t) s * x_c + first + c) * P];
}

/* S [classes][out_c][planes]: the sum of each plane's kernel taps inside each class's patch. */
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
            S[(((size_t) r * cp->n_col + c) * O + o) * planes + pl] = s;
          }
}

void
cl_const_planes_bias (const ClConstPlanes *cp, const float *w, int w_in_c, int first, int planes, const float *v, int n,
                      float *bias)
{
  const int O = cp->out_c, classes = cl_const_planes_classes (cp);
  g_return_if_fail (planes <= cp->max_planes);
  float *S = cp->tap_sums;
  tap_sums (cp, w, w_in_c, first, planes, S);
  for (int s = 0; s < n; s++)
    for (int cl = 0; cl < classes; cl++)
      for (int o = 0; o < O; o++)
        {
          const float *sv = S + ((size_t) cl * O + o) * planes, *vs = v + (size_t) s * planes;
          float b = 0.0f;
          for (int pl = 0; pl < planes; pl++)
            b += vs[pl] * sv[pl];
          bias[((size_t) s * classes + cl) * O + o] = b;
        }
}

typedef struct
{
  const ClConstPlanes *cp;
  const float *bias;
  int n;
  float *y;
} AddJob;

#define CL_CONST_VIEWS 16 /* views per team item */

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

void
cl_const_planes_dw (const ClConstPlanes *cp, const float *sums, const float *v, int n, int first, int planes,
                    int w_in_c, float *dw)
{
  const int k = cp->k, O = cp->out_c, classes = cl_const_planes_classes (cp);
  /* T [classes][o][planes] = sum over images of v * sums, in double, images in order. */
  g_return_if_fail (planes <= cp->max_planes);
  double *T = cp->grad_sums;
  memset (T, 0, sizeof (double) * (size_t) classes * O * planes);
  for (int s = 0; s < n; s++)
    for (int cl = 0; cl < classes; cl++)
      for (int o = 0; o < O; o++)
        {
          const double d = sums[((size_t) s * classes + cl) * O + o];
          double *t = T + ((size_t) cl * O + o) * planes;
          const float *vs = v + (size_t) s * planes;
          for (int pl = 0; pl < planes; pl++)
            t[pl] += d * vs[pl];
        }
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
