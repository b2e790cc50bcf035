/* The live changes a preset file carries, for replaying them (cl_trainer_replay): a PNG exported
 * by ContrastLab holds them in its contrastlab:events chunk, a run folder's run.ini has them in
 * events.csv beside it. A preset NAME, an .ini without events.csv beside it, or a PNG without the
 * chunk carry none. */
#pragma once
#include <glib.h>

#include "engine/base/cl_params.h"
#include "engine/train/cl_snapshot.h"

/* Text of events.csv (header step,key,old_value,new_value) as events in step order; source names
 * it in messages. *n_events = 0 and NULL for no rows. Errors: CL_CONFIG_ERROR, naming source. */
ClEvent *cl_events_parse (const char *text, const char *source, int *n_events, GError **error);
/* A run's files hold its configuration as it ended (run.ini and contrastlab:config are rewritten
 * when a live value changes); the run started with each changed key at its first event's old
 * value. Sets those in cfg. FALSE (error naming the event) when an old value does not parse. */
gboolean cl_events_initial_config (ClConfig *cfg, const ClEvent *events, int n_events, GError **error);
/* The events of name_or_file (see above). NULL with *n_events = 0 when there are none; NULL
 * with error set (CL_CONFIG_ERROR, naming the file) when they cannot be read. */
ClEvent *cl_preset_read_events (const char *name_or_file, int *n_events, GError **error);
