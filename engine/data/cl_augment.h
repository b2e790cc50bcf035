/* Per-view augmentations of one grey image, drawn from the caller's stream. */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "engine/base/cl_rng.h"

typedef struct
{
  float crop_min_area; /* random resized crop: area fraction in [crop_min_area, 1], aspect in [3/4, 4/3] */
  float flip;          /* probability of a horizontal flip */
  float jitter;        /* brightness/contrast jitter strength in [0, 1] */
  float noise;         /* std of additive Gaussian noise (image in [0, 1]) */
  float blur;          /* probability of a Gaussian blur (SimCLR's 0.5); 0 when zero-initialised */
} ClAugParams;

/* src: h*w uint8. dst: h*w float, the augmented view (values in [0,1] before noise).
 * Draws from rng in a fixed order whatever the parameter values, so that changing
 * one knob does not change the draws of another.
 *
 * Exact semantics (SimCLR data_util.py where it applies to grey images):
 *  1. Random resized crop as torchvision: up to 10 attempts, area fraction uniform in
 *     [crop_min_area, 1], aspect log-uniform in [3/4, 4/3], integer box placed uniformly;
 *     if no attempt fits, the whole image. crop_min_area >= 1 always means the whole image.
 *     Bilinear resize back to h x w with half-pixel centres (align_corners=False),
 *     clamped at the crop's edges. No allocation, no size limit.
 *  2. Horizontal flip with probability flip.
 *  3. With probability CL_AUG_JITTER_PROB (SimCLR's 0.8), brightness and contrast jitter in
 *     random order (each order with probability 1/2), clamping to [0,1] after each:
 *     brightness multiplies by b ~ U[1-0.8s, 1+0.8s] (SimCLR v2 style, so a black background
 *     stays black); contrast maps x -> (x - mean) * c + mean with c ~ U[1-0.8s, 1+0.8s] and the
 *     image mean. Factors are floored at 0.
 *  4. With probability blur, SimCLR's Gaussian blur (cl_augment_blur) with sigma ~ U[0.1, 2.0] px.
 *     Its two uniforms come from a private stream keyed by the noise seed (cl_augment_blur_draw),
 *     so the layout below is the same with or without blur.
 *  5. Additive Gaussian noise N(0, noise^2) on every pixel, NOT clamped afterwards.
 * With crop_min_area = 1, flip = 0, jitter = 0, noise = 0 the view equals cl_image_to_float
 * bit for bit. Each call consumes exactly CL_AUG_U32_PER_VIEW values of rng: the noise is
 * drawn from a private stream seeded by two of them, so its cost is paid only when noise > 0. */
#define CL_AUG_JITTER_PROB 0.8
#define CL_AUG_U32_PER_VIEW 92

void cl_augment_view (const uint8_t *src, int h, int w, const ClAugParams *p, ClRng *rng, float *dst);

/* The two geometric steps of cl_augment_view, public for tests and for showing crops. */
typedef struct
{
  int top, left, height, width;
} ClCropBox;

/* Step 1 alone: draws exactly CL_AUG_CROP_U32 values of rng whatever min_area. */
#define CL_AUG_CROP_U32 80
ClCropBox cl_augment_sample_crop (int h, int w, float min_area, ClRng *rng);

/* Bilinear resize of box (inside the h x w image src) to h x w, mirrored if flip; dst in [0,1]. */
void cl_augment_resize_crop (const uint8_t *src, int h, int w, ClCropBox box, int flip, float *dst);

/* The draws of one view, in their fixed order (shared by cl_augment_view and the colour variant):
 * exactly CL_AUG_U32_PER_VIEW values of rng whatever the parameters. */
typedef struct
{
  ClCropBox box;
  double flip_u, jitter_apply_u, jitter_order_u, brightness_u, contrast_u;
  uint64_t noise_seed;
} ClAugDraws;
void cl_augment_draw (int h, int w, float crop_min_area, ClRng *rng, ClAugDraws *draws);
/* Jitter factor max(0, 1 + 0.8 s (2u - 1)) of a uniform draw u at strength s. */
float cl_augment_jitter_factor (float strength, double u);
/* Gaussian noise N(0, std^2) added to n values from a private stream seeded by noise_seed. */
void cl_augment_add_noise (float *img, size_t n, float std, uint64_t noise_seed);

/* SimCLR's random blur (data_util.random_blur): sigma uniform in [CL_AUG_BLUR_SIGMA_MIN,
 * CL_AUG_BLUR_SIGMA_MAX] px, a separable Gaussian kernel of radius cl_augment_blur_radius (h) =
 * (h / 10) / 2 px (SimCLR's kernel_size = image_size // 10; 3 px at 64, 1 px at 28; at most
 * CL_AUG_BLUR_STACK / 20; none below 20 px), truncated and
 * normalised to sum 1. Borders are reflected without repeating the edge pixel (torchvision's
 * GaussianBlur; SimCLR's TF code pads with zeros, which would darken the border). */
#define CL_AUG_BLUR_SIGMA_MIN 0.1
#define CL_AUG_BLUR_SIGMA_MAX 2.0
int cl_augment_blur_radius (int h);
/* Blurs each of the c planes (h*w floats each) in place with the kernel above (radius from h).
 * Allocates only for images wider or taller than CL_AUG_BLUR_STACK px. */
#define CL_AUG_BLUR_STACK 512
void cl_augment_blur (float *img, int c, int h, int w, float sigma);
/* The blur draws of a view: whether it is blurred (apply_u < blur) and its sigma, from a stream of
 * their own keyed by noise_seed (the crop/jitter/noise draws stay exactly as without blur). */
void cl_augment_blur_draw (uint64_t noise_seed, double *apply_u, float *sigma);

/* Un-augmented conversion to [0,1] float, as used for evaluation. */
void cl_image_to_float (const uint8_t *src, int h, int w, float *dst);
