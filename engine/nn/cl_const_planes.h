/* Input planes that are constant over each image (the random bit planes), folded out of a conv.
 *
 * A plane that holds one value v everywhere contributes to output pixel p of channel o
 *   v * sum over the taps (ki, kj) of p's patch that fall inside the image of w[o][c][ki][kj],
 * so conv (image ++ constant planes) = conv (image) + a per-image, per-channel bias, which for a
 * valid conv is the same at every pixel, and for a padded one depends only on which taps of the
 * patch are inside (a few "classes" of border pixels). The backward is as cheap:
 *   dw[o][c][ki][kj] = sum over images of v[c] * sum over the pixels whose patch has (ki, kj)
 *   inside of dy[p][o],
 * which only needs the per-image, per-class sums of dy. Exact up to float rounding; the planes' x
 * gradient is not computed (the model does not need conv1's input gradient).
 *
 * Shapes: values v [n][planes]; bias and dy sums [n][classes][out_c]; the conv output NHWC
 * [n][out_h*out_w][out_c]; w [out_c][w_in_c][k][k] with the constant planes at channels
 * first .. first + planes - 1. */
#pragma once
#include <glib.h>
#include <stddef.h>

#include "engine/nn/cl_conv.h"

typedef struct
{
  int k, out_h, out_w, out_c;
  int n_row, n_col;  /* distinct row and column masks */
  int *pixel_class;  /* [out_h*out_w]: row class * n_col + column class */
  guint64 *row_mask; /* [n_row]: bit ki set when patch row ki is inside the image */
  guint64 *col_mask; /* [n_col] */
  int max_planes;
  float *tap_sums;   /* scratch [classes][max_planes][out_c] */
  double *grad_sums; /* scratch [classes][out_c][max_planes] */
} ClConstPlanes;

/* Classes from the conv's geometry (k <= 64), scratch for up to max_planes planes, so the calls
 * below allocate nothing. Free with cl_const_planes_clear. */
void cl_const_planes_init (ClConstPlanes *cp, const ClConv2d *conv, int max_planes);
void cl_const_planes_clear (ClConstPlanes *cp);
static inline int
cl_const_planes_classes (const ClConstPlanes *cp)
{
  return cp->n_row * cp->n_col;
}

/* v [n][planes] = x [n][x_c][P] at pixel 0 of channels first .. first + planes - 1. */
void cl_const_planes_values (const float *x, int n, int x_c, size_t P, int first, int planes, float *v);

/* bias [n][classes][out_c] of the planes' values v [n][planes] through w (see above). */
void cl_const_planes_bias (const ClConstPlanes *cp, const float *w, int w_in_c, int first, int planes, const float *v,
                           int n, float *bias);
/* Both of the above in one pass over the views, shared by the layers' thread team (each view's
 * values and bias are its own: the same bits as the two calls). */
void cl_const_planes_values_bias (const ClConstPlanes *cp, const float *w, int w_in_c, const float *x, int x_c,
                                  size_t P, int first, int planes, int n, float *v, float *bias);
/* y [n][P][out_c] += bias [n][class of p][out_c]. */
void cl_const_planes_add_bias (const ClConstPlanes *cp, const float *bias, int n, float *y);

/* sums [n][classes][out_c] of dy [n][P][out_c] over each class's pixels (pixels in order). */
void cl_const_planes_dy_sums (const ClConstPlanes *cp, const float *dy, int n, float *sums);
/* The constant planes' kernel gradient: dw[o][first + c][ki][kj] (overwritten, for c < planes) from
 * the dy sums and the values; other channels of dw are not touched. */
void cl_const_planes_dw (const ClConstPlanes *cp, const float *sums, const float *v, int n, int first, int planes,
                         int w_in_c, float *dw);
