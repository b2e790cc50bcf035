/* The encoders' conv stacks, one table row per model.arch value. cl_model builds the conv blocks
 * of a row, then the representation dense and the head; everything else (BN + ReLU after every
 * conv, Glorot init, channels-last kernels) is the same for every row. */
#pragma once
#include <glib.h>

#define CL_ARCH_MAX_CONV 8

typedef struct
{
  int channels; /* before model.width scales it */
  int stride;   /* 1 or 2 */
} ClArchConv;

typedef struct
{
  const char *name; /* model.arch spelling */
  int pad;          /* every conv is 3x3; 0 = valid, 1 = padded */
  int n_conv;
  ClArchConv conv[CL_ARCH_MAX_CONV];
} ClArchSpec;

/* NULL when name is not an architecture. */
const ClArchSpec *cl_arch_find (const char *name);
/* "convn", "convn-same", "convn-deep", then NULL. */
extern const char *const cl_arch_names[];
/* Receptive field (px) and spacing of conv layer l's positions (0-based) on the input. */
void cl_arch_receptive_field (const ClArchSpec *arch, int l, int *field, int *jump);
