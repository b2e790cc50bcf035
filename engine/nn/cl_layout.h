/* Layout changes between NCHW ([n][C][H*W], the model's input and the flatten order of the last conv)
 * and channels-last NHWC ([n][H*W][C], what the convs run on). */
#pragma once

/* Layout changes: src [n][c_src][P] (its first c planes) -> dst [n][P][c]; and back, dst [n][c][P]. */
void cl_nchw_to_nhwc (const float *src, int n, int c_src, int c, int P, float *dst);
void cl_nhwc_to_nchw (const float *src, int n, int c, int P, float *dst);
