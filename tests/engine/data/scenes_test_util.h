/* Helpers shared by the scene tests (test_scenes*.c) and the colour-augmentation test: the dataset
 * they render from, and independent re-implementations that expected values come from. */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "engine/data/cl_augment.h"
#include "engine/data/cl_augment_color.h"
#include "engine/data/cl_data.h"
#include "engine/data/cl_scenes.h"

/* Fashion-MNIST, loaded by scenes_test_init. */
extern ClDataset *ds;

/* g_test_init, and the dataset loaded into ds; non-zero (after a message naming the program) when
 * it is missing: every test needs the items, so the program fails rather than skips. */
int scenes_test_init (int *argc, char ***argv, const char *name);

typedef struct
{
  int x0, y0, x1, y1, count;
} TBox;

double bilinear_at (const uint8_t *src, int sh, int sw, double sy, double sx);
void resize_ref (const uint8_t *src, int sh, int sw, double *dst, int dh, int dw);
void rgb_to_hs (double r, double g, double b, double *h, double *s);
double circular_diff (double a, double b);
void image_hs (const float *img, int n, double *h, double *s);
void image_hs_u8 (const uint8_t *img, int n, double *h, double *s);
const uint8_t *item_pixels (int split, int index);
int item_label (int split, int index);
ClScenes *scenes_new (int kind, int pool, int big, int tint, uint64_t seed);
TBox mask_box (const uint8_t *mask, int side, int id);
double correlation (const double *a, const double *b, int n);
double item_match (const uint8_t *grey, const uint8_t *mask, int side, int id, const ClSceneItem *it, int split,
                   double *ratio);
TBox resized_box (int split, int index, int side);
uint8_t *random_planes (int c, int h, int w, guint32 seed);
