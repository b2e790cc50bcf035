/* Collision theory for random bit codes (the RandBits shortcut): how likely an anchor's n-bit
 * code is shared by another image of its batch when codes are uniform. Suppression of the
 * image content starts once codes rarely collide, near n = log2(batch). Pure math (libm); the
 * trainer measures the same fraction on real batches (ClMetricRow.code_collision) and the views
 * figure draws both. */
#pragma once

/* p = 1 - (1 - 2^-bits)^(batch - 1): the chance that an anchor's code is shared by at least one
 * of the other batch - 1 images. 1 for bits <= 0; 0 for batch <= 1. Accurate for large bits
 * (log1p/expm1). */
double cl_collision_theory (int bits, int batch);

/* The same for a real-valued number of bits (for drawing the curve between integers). */
double cl_collision_theory_continuous (double bits, int batch);
