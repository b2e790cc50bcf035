/* A training run on its own thread. The GUI (or the headless CLI) talks to it through
 * three things only: versioned controls (cl_trainer_set), pause/stop, and the latest
 * immutable snapshot. No lock is held across a training step. */
#pragma once
#include <glib.h>
#include "engine/base/cl_params.h"
#include "engine/train/cl_snapshot.h"

typedef struct ClTrainer ClTrainer;

#define CL_TRAINER_ERROR (cl_trainer_error_quark ())
GQuark cl_trainer_error_quark (void);
typedef enum
{
  CL_TRAINER_ERROR_NEEDS_RESTART, /* the key is not live: start a new run to change it */
  CL_TRAINER_ERROR_FAILED,
} ClTrainerError;

/* Loads the data (shared with other runs of the same data.base/data.path) and builds the
 * model. Fails with a clear message on missing or corrupt data. Does not start training. */
ClTrainer *cl_trainer_new (const ClConfig *config, GError **error);
/* Stops the thread if running, waits for it, frees everything. */
void cl_trainer_free (ClTrainer *trainer);

/* Starts the training thread (paused runs wait for cl_trainer_set_paused (FALSE)). */
void cl_trainer_start (ClTrainer *trainer, gboolean paused);
void cl_trainer_set_paused (ClTrainer *trainer, gboolean paused);
gboolean cl_trainer_get_paused (ClTrainer *trainer);
/* Waits for the thread to end (it ends when the run is finished or stopped). */
void cl_trainer_wait (ClTrainer *trainer);
/* Asks the thread to stop after the current step; returns at once. */
void cl_trainer_request_stop (ClTrainer *trainer);

/* Changes a live parameter; it applies from the next step and is recorded as an event.
 * Non-live keys fail with CL_TRAINER_ERROR_NEEDS_RESTART; bad values with CL_CONFIG_ERROR. */
gboolean cl_trainer_set (ClTrainer *trainer, const char *key, const char *value, GError **error);
/* Replays a run's recorded live changes (events.csv, a PNG's contrastlab:events): each event's
 * new value is requested just before the step it was first used by (ClEvent.step), exactly as
 * the original change was, so the same configuration and events give the same numbers. Call
 * before cl_trainer_start. Fails, changing nothing, on an unknown or non-live key, a bad value or
 * steps out of order, naming the event. */
gboolean cl_trainer_replay (ClTrainer *trainer, const ClEvent *events, int n_events, GError **error);
/* The configuration as last requested (including changes not yet applied). */
void cl_trainer_get_config (ClTrainer *trainer, ClConfig *out);

/* The latest published snapshot, with a new reference. Never blocks on training. */
ClSnapshot *cl_trainer_get_snapshot (ClTrainer *trainer);
/* TRUE while the trainer thread is between two steps running the linear probes and the
 * local-feature clustering (training waits meanwhile), so a window can say so instead of guessing
 * from a snapshot that stops changing. Any thread may ask; it never blocks. */
gboolean cl_trainer_is_probing (ClTrainer *trainer);

/* One synchronous step on the calling thread (for tests and benchmarks; not while the thread runs).
 * Returns FALSE when the run is finished. */
gboolean cl_trainer_step (ClTrainer *trainer);
/* Publishes a snapshot of the current state now (for callers of cl_trainer_step). */
void cl_trainer_publish (ClTrainer *trainer);

/* Learning rate of step (0-based) under cfg's optimizer schedule. */
double cl_trainer_lr_at (const ClConfig *cfg, int64_t step);

/* loss.lambda in force: the configured value, or the automatic one when it is negative. */
double cl_trainer_effective_lambda (const ClConfig *cfg, int out_dim);

/* Number of compute threads in use, after train.threads = 0 is resolved. */
int cl_trainer_threads (const ClTrainer *trainer);

/* Whether the batch of step t + 1 is built on a helper thread while step t computes (default: on
 * when the machine has more than one core). The batches, and so every number of the run, are the
 * same either way; tests switch it off to check that. Call before the first step. */
void cl_trainer_set_prefetch (ClTrainer *trainer, gboolean enabled);
