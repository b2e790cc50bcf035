/* Per-view augmentation of multi-channel (planar) images, for tinted scenes: the crop and flip of
 * cl_augment_view shared by all channels, then, for RGB, SimCLR's colour distortion, which is
 * what removes a per-image tint as a feature shared by the two views. */
#pragma once
#include <stdint.h>

#include "engine/data/cl_augment.h"
#include "engine/base/cl_rng.h"

/* Draws after the CL_AUG_U32_PER_VIEW ones of the grey layout: saturation, hue, greyscale. */
#define CL_AUG_COLOR_EXTRA_U32 6
#define CL_AUG_COLOR_U32_PER_VIEW (CL_AUG_U32_PER_VIEW + CL_AUG_COLOR_EXTRA_U32)
/* Random greyscale probability at jitter strength 1 (SimCLR's 0.2); it scales with the strength
 * so that jitter = 0 keeps the colours, and so the tint, shared by both views. */
#define CL_AUG_GREY_PROB 0.2

/* src: c planes of h*w uint8 (planar). dst: c*h*w float, planar, in [0,1] before noise.
 *
 * Semantics (s = p->jitter):
 *  1. The draws: first exactly cl_augment_view's CL_AUG_U32_PER_VIEW values in its order (crop,
 *     flip, jitter-apply, order, brightness, contrast, a 64-bit noise seed), then three uniforms
 *     (saturation, hue, greyscale). Every call consumes CL_AUG_COLOR_U32_PER_VIEW values whatever
 *     c and the parameters.
 *  2. c == 1: exactly cl_augment_view (bit for bit; the three extra draws are unused).
 *  3. One random resized crop and one flip decision for all planes (cl_augment_sample_crop,
 *     cl_augment_resize_crop).
 *  4. With probability CL_AUG_JITTER_PROB (when s > 0), SimCLR's colour jitter:
 *     c == 3: brightness (x * b, b ~ U[1-0.8s, 1+0.8s]), contrast (per channel, as TF's
 *     adjust_contrast: (x - channel mean) * k + channel mean, k ~ U[1-0.8s, 1+0.8s]), saturation
 *     (HSV S * f, f ~ U[1-0.8s, 1+0.8s], S clipped to [0,1], as TF's adjust_saturation) and hue
 *     (HSV H + d, d ~ U[-0.2s, 0.2s], wrapping), in one of the 24 orders chosen by the order
 *     draw (SimCLR's random order), clamping to [0,1] after each; factors are floored at 0.
 *     Other c: brightness and contrast on every plane with shared factors, in the order of
 *     cl_augment_view.
 *  5. c == 3: greyscale with probability CL_AUG_GREY_PROB * s (drawn independently of step 4):
 *     every channel becomes 0.2989 R + 0.5870 G + 0.1140 B (TF's rgb_to_grayscale).
 *  6. With probability p->blur, the Gaussian blur of cl_augment_view on every plane (one sigma).
 *  7. Gaussian noise N(0, noise^2) on all c*h*w values from the private stream seeded by the
 *     noise seed, in planar order (so plane 0 gets the same noise as a grey view would), not
 *     clamped.
 * No allocation. */
void cl_augment_view_color (const uint8_t *src, int c, int h, int w, const ClAugParams *p, ClRng *rng, float *dst);
