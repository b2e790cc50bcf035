/* The trainer's probes: which fit each probe row comes from. The reported probes (the untrained
 * encoder's at step 0 and the one after the last step) are fitted to the full tolerance
 * CL_PROBE_LOGISTIC_TOL; the intermediate ones (every probe.every steps) to
 * CL_PROBE_LOGISTIC_TOL_INTERMEDIATE. Each row is checked against a refit of the features the
 * trainer probed, read through engine/train/cl_trainer_private.h; probe.kind (logistic by default,
 * or ridge) is the fit of every target. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "engine/analysis/cl_probe.h"
#include "engine/train/cl_trainer_private.h"

/* The accuracy of target name at step in the trainer's probe rows, or -1. */
static double
row_accuracy (const ClTrainer *t, int64_t step, const char *name)
{
  for (int i = 0; i < t->n_probes; i++)
    if (t->hist->probes[i].step == step && strcmp (t->hist->probes[i].target, name) == 0)
      return t->hist->probes[i].accuracy;
  return -1;
}

/* Refits the class and each bit on the trainer's current probe features to tol and checks the
 * rows at the current step against it; returns the largest |gradient entry| over the fits. */
static double
check_rows (ClTrainer *t, double tol)
{
  const int dim = cl_model_rep_dim (t->model), bits = t->cfg.data_bits;
  double grad_max = 0;
  for (int k = -1; k < bits; k++)
    {
      const uint8_t *ytr = k < 0 ? t->probe_train_y[0] : t->probe_train_bits + (size_t) k * t->probe_n_train;
      const uint8_t *yte = k < 0 ? t->probe_test_y[0] : t->probe_test_bits + (size_t) k * t->probe_n_test;
      const int classes = k < 0 ? t->target_classes[0] : 2;
      double acc;
      ClProbeFitInfo info;
      g_assert_true (cl_probe_logistic_multi_tol (t->probe_train_f, t->probe_n_train, t->probe_test_f, t->probe_n_test,
                                                  dim, 1, &ytr, &yte, &classes, CL_PROBE_LOGISTIC_L2, tol, &acc,
                                                  &info));
      g_assert_true (info.converged);
      grad_max = MAX (grad_max, info.grad_max);
      char name[16];
      if (k < 0)
        g_strlcpy (name, "class", sizeof name);
      else
        g_snprintf (name, sizeof name, "bit%d", k);
      g_assert_cmpfloat (row_accuracy (t, t->last_probe_step, name), ==, (float) acc);
    }
  return grad_max;
}

static void
test_probe_tolerances (void)
{
  ClConfig cfg;
  cl_config_init (&cfg);
  cfg.train_batch = 32;
  cfg.train_steps = 6;
  cfg.train_threads = 1;
  cfg.data_bits = 2;
  cfg.probe_images = 400;
  cfg.probe_every = 3;
  GError *error = NULL;
  ClTrainer *t = cl_trainer_new (&cfg, &error);
  g_assert_no_error (error);
  int checked[3] = { 0 };
  int n_probes = 0;
  for (;;)
    {
      gboolean more = cl_trainer_step (t);
      if (t->n_probes != n_probes)
        {
          /* A step call probes before its step (step 0) or after it (every probe.every, the last);
           * the features of that probe are still the trainer's. */
          const int64_t at = t->last_probe_step;
          const gboolean reported = at == 0 || at >= cfg.train_steps;
          const double tol = reported ? CL_PROBE_LOGISTIC_TOL : CL_PROBE_LOGISTIC_TOL_INTERMEDIATE;
          const double grad = check_rows (t, tol);
          g_test_message ("probe at step %d: trainer's fits %d iterations, largest gradient entry %.2e (refit %.2e)",
                          (int) at, t->probe_fit.iterations, t->probe_fit.grad_max, grad);
          /* The trainer's own fits reached the tolerance of their kind: a reported probe fitted to
           * the intermediate tolerance stops near 1e-4 and fails here. */
          g_assert_true (t->probe_fit.converged);
          g_assert_cmpfloat (t->probe_fit.grad_max, <=, tol);
          g_assert_cmpfloat (grad, <=, tol);
          checked[at == 0 ? 0 : at >= cfg.train_steps ? 2 : 1]++;
          n_probes = t->n_probes;
        }
      if (!more || t->step >= cfg.train_steps)
        break;
    }
  /* The untrained encoder's probe, one intermediate (step 3) and the last (step 6). */
  g_assert_cmpint (checked[0], ==, 1);
  g_assert_cmpint (checked[1], ==, 1);
  g_assert_cmpint (checked[2], ==, 1);
  cl_trainer_free (t);
}

/* probe.kind decides the fit of every target the trainer probes: on the step-0 features of each
 * scene kind (with the tint and the bits on randbits), every row equals a refit of the trainer's
 * targets by that kind (logistic to the reported tolerance; ridge), and the two kinds read at least
 * one target differently from the same features (the switch is not a no-op). logistic is the
 * default. */
static void
test_probe_kind_every_target (void)
{
  static const char *const data[][3] = {
    { "data.kind=randbits", "data.tint=1", "data.bits=2" },
    { "data.kind=overlay", "data.bits=0", "data.tint=0" },
    { "data.kind=two-objects", "data.bits=0", "data.tint=0" },
  };
  ClConfig def;
  cl_config_init (&def);
  g_assert_cmpint (def.probe_kind, ==, CL_PROBE_LOGISTIC);
  for (size_t d = 0; d < G_N_ELEMENTS (data); d++)
    {
      double rows[2][CL_N_SCENE_TARGETS + 1];
      int n_rows = 0;
      for (int kind = 0; kind < 2; kind++)
        {
          ClConfig cfg;
          cl_config_init (&cfg);
          GError *error = NULL;
          for (int i = 0; i < 3; i++)
            g_assert_true (cl_config_set_assignment (&cfg, data[d][i], &error));
          g_assert_true (cl_config_set_assignment (&cfg, kind ? "probe.kind=ridge" : "probe.kind=logistic", &error));
          g_assert_no_error (error);
          cfg.train_batch = 32;
          cfg.train_steps = 2;
          cfg.train_threads = 1;
          cfg.probe_images = 300;
          cfg.probe_every = 0;
          ClTrainer *t = cl_trainer_new (&cfg, &error);
          g_assert_no_error (error);
          cl_trainer_step (t); /* the step-0 probe, then one step: the features are still step 0's */
          g_assert_cmpint (t->last_probe_step, ==, 0);
          const int nt = t->n_targets, bits = MIN (t->cfg.data_bits, t->max_bits), dim = cl_model_rep_dim (t->model);
          const uint8_t *train_y[CL_N_SCENE_TARGETS + CL_MAX_BITS], *test_y[CL_N_SCENE_TARGETS + CL_MAX_BITS];
          int classes[CL_N_SCENE_TARGETS + CL_MAX_BITS], sum_classes = 0;
          double acc[CL_N_SCENE_TARGETS + CL_MAX_BITS];
          for (int k = 0; k < nt + bits; k++)
            {
              train_y[k] = k < nt ? t->probe_train_y[k] : t->probe_train_bits + (size_t) (k - nt) * t->probe_n_train;
              test_y[k] = k < nt ? t->probe_test_y[k] : t->probe_test_bits + (size_t) (k - nt) * t->probe_n_test;
              classes[k] = k < nt ? t->target_classes[k] : 2;
              sum_classes += classes[k];
            }
          if (kind)
            {
              double *ws = g_new (double, cl_probe_workspace_doubles (dim, sum_classes));
              g_assert_true (cl_probe_ridge_multi (t->probe_train_f, t->probe_n_train, t->probe_test_f, t->probe_n_test,
                                                   dim, nt + bits, train_y, test_y, classes, PROBE_RIDGE_ALPHA, ws,
                                                   acc));
              g_free (ws);
            }
          else
            g_assert_true (cl_probe_logistic_multi_tol (t->probe_train_f, t->probe_n_train, t->probe_test_f,
                                                        t->probe_n_test, dim, nt + bits, train_y, test_y, classes,
                                                        CL_PROBE_LOGISTIC_L2, CL_PROBE_LOGISTIC_TOL, acc, NULL));
          g_assert_cmpint (nt, >=, 2); /* class + tint; background + overlay; small + large */
          for (int k = 0; k < nt; k++)
            {
              const char *name = cl_scene_target_name (t->targets[k]);
              g_assert_cmpfloat (row_accuracy (t, 0, name), ==, (float) acc[k]);
              rows[kind][k] = acc[k];
            }
          if (bits > 0)
            {
              double mean = 0;
              for (int k = 0; k < bits; k++)
                mean += acc[nt + k] / bits;
              g_assert_cmpfloat (row_accuracy (t, 0, "bits"), ==, (float) mean);
              rows[kind][nt] = mean;
            }
          n_rows = nt + (bits > 0);
          cl_trainer_free (t);
        }
      int differ = 0;
      for (int k = 0; k < n_rows; k++)
        differ += rows[0][k] != rows[1][k];
      g_test_message ("%s: %d of %d targets read differently by logistic and ridge", data[d][0], differ, n_rows);
      g_assert_cmpint (differ, >, 0);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/trainer/probes/tolerances", test_probe_tolerances);
  g_test_add_func ("/trainer/probes/kind-every-target", test_probe_kind_every_target);
  return g_test_run ();
}
