/* GEMM on the conv microkernels: see cl_gemm.h.
 * C = A B^T is the channels-last conv with in_c = k, out_c = n, a 1x1 kernel and 1x1 images: the m
 * rows of A are the images, B is the kernel wp [n][1][1][k]. Its backward is the conv's: dwp = dB,
 * dx = dA. */
#include "engine/nn/cl_gemm.h"

#include <cblas.h>

#include "engine/nn/cl_conv.h"
#include "engine/nn/cl_conv_kernels.h"

/* Rows of A per block (a multiple of the kernels' 12- and 6-row tiles): enough blocks to share
 * between the team's threads, and the backward's 8 lanes. */
#define CL_GEMM_ROWS 48

typedef struct
{
  float *data;
  size_t floats;
} Scratch;

static void
scratch_free (gpointer p)
{
  Scratch *s = p;
  g_free (s->data);
  g_free (s);
}

static GPrivate scratch_key = G_PRIVATE_INIT (scratch_free);

static float *
scratch_get (size_t floats)
{
  Scratch *s = g_private_get (&scratch_key);
  if (!s)
    {
      s = g_new0 (Scratch, 1);
      g_private_set (&scratch_key, s);
    }
  if (s->floats < floats)
    {
      g_free (s->data);
      s->data = g_new (float, floats);
      s->floats = floats;
    }
  return s->data;
}

gboolean
cl_gemm_uses_microkernels (void)
{
  const ClConvKernels *k = cl_conv_kernels_current ();
  return k != NULL;
}

static void
gemm_conv (ClConv2d *conv, int m, int n, int k)
{
  cl_conv2d_init (conv, k, n, 1, 1, 0, 1, 1);
  conv->chunk = MIN (m, CL_GEMM_ROWS);
}

void
cl_gemm_nt (int m, int n, int k, const float *a, const float *b, float *c)
{
  if (m < 1 || n < 1 || k < 1)
    return;
  if (!cl_gemm_uses_microkernels ())
    {
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f, a, k, b, k, 0.0f, c, n);
      return;
    }
  ClConv2d conv;
  gemm_conv (&conv, m, n, k);
  cl_conv2d_forward_nhwc (&conv, b, a, m, c, scratch_get (cl_conv2d_nhwc_scratch_floats (&conv)));
}

void
cl_gemm_nt_backward (int m, int n, int k, const float *a, const float *b, const float *dc, float *db, float *da)
{
  if (m < 1 || n < 1 || k < 1 || (!db && !da))
    return;
  if (!cl_gemm_uses_microkernels ())
    {
      if (db)
        cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, n, k, m, 1.0f, dc, n, a, k, 0.0f, db, k);
      if (da)
        cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, m, k, n, 1.0f, dc, n, b, k, 0.0f, da, k);
      return;
    }
  ClConv2d conv;
  gemm_conv (&conv, m, n, k);
  cl_conv2d_backward_nhwc (&conv, b, a, dc, m, db, da, scratch_get (cl_conv2d_nhwc_scratch_floats (&conv)));
}
