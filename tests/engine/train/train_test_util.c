#include "tests/engine/train/train_test_util.h"

void
train_test_config (ClConfig *cfg, int batch, int steps, int threads)
{
  cl_config_init (cfg);
  cfg->train_batch = batch;
  cfg->train_steps = steps;
  cfg->train_threads = threads;
}

ClTrainer *
train_test_new (const ClConfig *cfg)
{
  GError *error = NULL;
  ClTrainer *t = cl_trainer_new (cfg, &error);
  g_assert_no_error (error);
  g_assert_nonnull (t);
  return t;
}

ClTrainer *
train_test_run_to_end (const ClConfig *cfg)
{
  ClTrainer *t = train_test_new (cfg);
  while (cl_trainer_step (t))
    ;
  cl_trainer_publish (t);
  return t;
}
