/* Setup shared by the trainer's tests (and the sweep's, which runs trainers): a small
 * configuration, a trainer that must start, a run to its last step. */
#pragma once
#include "engine/train/cl_trainer.h"

/* The defaults with train.batch, train.steps and train.threads set. */
void train_test_config (ClConfig *cfg, int batch, int steps, int threads);

/* A trainer for cfg; fails the test when it cannot start. */
ClTrainer *train_test_new (const ClConfig *cfg);

/* A trainer for cfg stepped to its last step and published (free it with cl_trainer_free). */
ClTrainer *train_test_run_to_end (const ClConfig *cfg);
