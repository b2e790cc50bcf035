/* Linear probes on frozen features: closed-form ridge regression to one-hot targets
 * (deterministic, no iterations to tune), evaluated on held-out data. */
#pragma once
#include <stddef.h>
#include <stdint.h>

/* Workspace needed, in doubles, for dim features and n_classes classes. */
size_t cl_probe_workspace_doubles (int dim, int n_classes);

/* Fits W, b minimising ||X W + b - onehot(y)||^2 + alpha * n_train * ||W||^2 on standardised
 * features of the training set, then returns the accuracy of argmax(X W + b) on the test set.
 * Labels must be < n_classes. ws: cl_probe_workspace_doubles() doubles. Returns -1 if the
 * system cannot be solved (it is positive definite for alpha > 0, so only on non-finite input). */
/* Several targets read off the same features at once (the Gram matrix is shared):
 * target t has n_classes[t] classes and labels train_y[t][i], test_y[t][i]; accuracy[t] receives
 * its held-out accuracy. ws: cl_probe_workspace_doubles (dim, sum of n_classes) doubles.
 * Returns FALSE if the system cannot be solved. */
int cl_probe_ridge_multi (const float *train_x, int n_train, const float *test_x, int n_test, int dim, int n_targets,
                          const uint8_t *const *train_y, const uint8_t *const *test_y, const int *n_classes,
                          double alpha, double *ws, double *accuracy);

double cl_probe_ridge (const float *train_x, const uint8_t *train_y, int n_train, const float *test_x,
                       const uint8_t *test_y, int n_test, int dim, int n_classes, double alpha, double *ws);
