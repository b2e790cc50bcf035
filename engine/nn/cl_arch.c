#include "engine/nn/cl_arch.h"

#include <string.h>

/* convn: the paper's RandBits ConvN (three 3x3 stride-2 valid convs).
 * convn-same: the same convs padded, so a 64x64 canvas keeps 32/16/8 maps to cluster; their
 *   receptive fields are 3, 7 and 15 px, smaller than the 16-32 px items of multi-objects.
 * convn-deep: a stride-1 conv after each stride-2 one (maps 32/32/16/16/8/8): the last conv of
 *   each resolution sees 7, 19 and 43 px, so the 8x8 map's positions cover whole items, as the
 *   paper's ResNet block groups do on 448x448 inputs (paper section 2). */
static const ClArchSpec arch_table[] = {
  { "convn", 0, 3, { { 32, 2 }, { 64, 2 }, { 64, 2 } } },
  { "convn-same", 1, 3, { { 32, 2 }, { 64, 2 }, { 64, 2 } } },
  { "convn-deep", 1, 6, { { 32, 2 }, { 32, 1 }, { 64, 2 }, { 64, 1 }, { 64, 2 }, { 64, 1 } } },
};

const char *const cl_arch_names[] = { "convn", "convn-same", "convn-deep", NULL };

G_STATIC_ASSERT (G_N_ELEMENTS (arch_table) + 1 == G_N_ELEMENTS (cl_arch_names));

const ClArchSpec *
cl_arch_find (const char *name)
{
  if (!name)
    return NULL;
  for (size_t i = 0; i < G_N_ELEMENTS (arch_table); i++)
    if (strcmp (arch_table[i].name, name) == 0)
      return &arch_table[i];
  return NULL;
}

void
cl_arch_receptive_field (const ClArchSpec *arch, int l, int *field, int *jump)
{
  int r = 1, j = 1;
  for (int i = 0; i <= l && i < arch->n_conv; i++)
    {
      r += 2 * j;
      j *= arch->conv[i].stride;
    }
  if (field)
    *field = r;
  if (jump)
    *jump = j;
}
