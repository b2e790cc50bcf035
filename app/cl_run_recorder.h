/* The run recorder: keeps every live run in the crash-safe run store (engine/store's ClRunStore)
 * for a program whose main thread must not wait on the disk. It owns the store, the lock that
 * guards it and one worker thread: periodic writes go to the worker, the first and last writes of
 * a run are made on the calling thread. It reports through signals, emitted in the thread-default
 * main context of the thread that created it:
 *   "changed" (GPtrArray *runs, const char *current): after every write, the store's runs
 *       (ClRunInfo *, oldest first; borrowed: ref it to keep it) and the id of the run being
 *       recorded (NULL when none);
 *   "write-failed" (GError *error): a write of the current run failed (the run goes on; the
 *       caller decides how often to tell the user).
 * GLib/GObject only, no GTK: tests/app/test_run_recorder.c drives it without a display.
 *
 * Order matters: writes queued for a run are dropped once another run began or the run ended,
 * so a slow disk can never append one run's rows to the next. */
#pragma once
#include <glib-object.h>

#include "engine/store/cl_runs.h"
#include "engine/train/cl_snapshot.h"

G_BEGIN_DECLS

#define CL_TYPE_RUN_RECORDER (cl_run_recorder_get_type ())
G_DECLARE_FINAL_TYPE (ClRunRecorder, cl_run_recorder, CL, RUN_RECORDER, GObject)

/* How cl_run_recorder_record writes. */
typedef enum
{
  CL_RECORD_QUEUE, /* on the worker thread ("changed" follows from the main context) */
  CL_RECORD_NOW,   /* on this thread */
  CL_RECORD_END,   /* on this thread, and the run ends: finished if complete, else stopped */
} ClRecordMode;

/* Opens (or creates) the store in dir: NULL means cl_run_store_open's default. NULL with error
 * naming the folder when it cannot. Dropping the last reference waits for queued writes and
 * closes the store (a run still being recorded is marked stopped with what was written). */
ClRunRecorder *cl_run_recorder_new (const char *dir, GError **error);

/* Begins recording a new run (the previous one, if still current, ends as stopped). snap may
 * be NULL or have no rows yet; label NULL gives "Run N". */
gboolean cl_run_recorder_begin (ClRunRecorder *rec, const ClSnapshot *snap, const char *label, GError **error);
/* Writes what snap holds beyond what is on disk to the current run (takes no reference when
 * it returns: a queued write refs snap itself). A finished snap ends the run, on this thread,
 * whatever the mode. Does nothing when no run is being recorded (none begun, or it ended). */
void cl_run_recorder_record (ClRunRecorder *rec, ClSnapshot *snap, ClRecordMode mode);
/* TRUE from a successful begin until the run ended. */
gboolean cl_run_recorder_is_recording (ClRunRecorder *rec);

/* The store's runs (ClRunInfo *) and, in *current when not NULL, a copy of the id being recorded. */
GPtrArray *cl_run_recorder_list (ClRunRecorder *rec, char **current);
const char *cl_run_recorder_dir (ClRunRecorder *rec);
/* The store's calls, made under the recorder's lock (see cl_runs.h). */
gboolean cl_run_recorder_set_label (ClRunRecorder *rec, const char *id, const char *label, GError **error);
gboolean cl_run_recorder_delete (ClRunRecorder *rec, const char *id, GError **error);
ClSnapshot *cl_run_recorder_load (ClRunRecorder *rec, const char *id, GError **error);

/* Time spent writing on the calling thread (begin, NOW and END writes; queued ones only cost a
 * push): number of calls, total and longest, in microseconds. */
void cl_run_recorder_get_stats (ClRunRecorder *rec, gint64 *count, gint64 *total_us, gint64 *max_us);

/* For tests: while held, the worker takes no queued write (they wait, in order). */
void cl_run_recorder_hold_writes (ClRunRecorder *rec, gboolean hold);

G_END_DECLS
