/* Writing one run folder while the run trains, crash-safe: the one writer behind the window's
 * run store and the headless CLI (contrastlab --headless --out DIR, sweeps' DIR/runs/...).
 *
 *   ClRunWriter *w = cl_run_writer_open (dir, config_ini, "ContrastLab 0.1 headless run", NULL, &error);
 *   every few seconds:  cl_run_writer_append (w, snapshot, &error);
 *   at the end:         cl_run_writer_finish (w, final, CL_RUN_STATUS_FINISHED, comment, TRUE, &error);
 *   (figures and other whole files in between with cl_run_writer_replace or cl_file_replace)
 *
 * What is on disk at every moment (so kill -9 anywhere leaves a readable run):
 *   1. open takes DIR/.contrastlab.lock (flock; held until finish/free). A second writer, in this process or
 *      another, is refused with CL_RUNS_ERROR_BUSY and one line naming the folder and the pid.
 *   2. open removes what an earlier run left in DIR: run.ini first (so old metadata never pairs
 *      with new rows), then info.ini, the CSVs and the figures (PNG) (and their temp files).
 *   3. open writes info.ini (status running), the CSV headers, then run.ini: from here on the
 *      folder is a run. Rows are appended as whole lines (a failed append is cut back), so a
 *      kill leaves at most an unterminated last line, which readers drop.
 *   4. finish appends the last rows, replaces run.ini (with the final comment) and info.ini
 *      (final status) atomically, fsyncs, and releases the lock.
 * A folder whose info.ini says running while its lock is free lost its writer: cl_runs_scan_dir
 * and the run store list it as interrupted, with the rows up to the last whole line. Writing
 * into it again (a rerun) starts over at step 2.
 *
 * Errors: CL_RUNS_ERROR_BUSY (folder in use), CL_RUNS_ERROR_IO (cannot create or write: disk
 * full, permissions), each one line naming the file. Not thread-safe: one thread per writer. */
#pragma once
#include <glib.h>

#include "engine/store/cl_runs.h"

typedef struct ClRunWriter ClRunWriter;

/* Starts a run in dir (created with its parents when missing). config_ini: run.ini's text
 * (may be NULL: empty until the first append that has one). comment: run.ini's first line
 * without "# " (NULL: none). info: the run's metadata, borrowed and kept up to date (steps,
 * duration, status, final accuracies) when not NULL (the run store passes its entry); NULL:
 * the writer keeps its own, with id and label the folder's name. */
ClRunWriter *cl_run_writer_open (const char *dir, const char *config_ini, const char *comment, ClRunInfo *info,
                                 GError **error);

/* Appends what snap holds beyond what was already written (metric, probe, cluster and event
 * rows). Rewrites run.ini when snap's configuration text changed, and info.ini when the final
 * accuracies or the configuration changed or 10 s have passed. No fsync: cheap enough to call
 * every second. */
gboolean cl_run_writer_append (ClRunWriter *writer, const ClSnapshot *snap, GError **error);

/* TRUE when snap cannot continue what was written: fewer rows (or probes, clusters, events)
 * than written, or a first row with another step (a reset). */
gboolean cl_run_writer_is_other_run (const ClRunWriter *writer, const ClSnapshot *snap);

/* Replaces dir/name (a path relative to the run folder, e.g. "similarity.csv")
 * atomically with text. */
gboolean cl_run_writer_replace (ClRunWriter *writer, const char *name, const char *text, GError **error);

/* Ends the run: appends final's remaining rows (final may be NULL), rewrites run.ini when
 * comment is not NULL, writes info.ini with status, fsyncs the files when durable, releases the
 * lock and frees writer (also on failure). */
gboolean cl_run_writer_finish (ClRunWriter *writer, const ClSnapshot *final, ClRunStatus status, const char *comment,
                               gboolean durable, GError **error);

/* Ends an unfinished run as stopped without new rows (errors ignored) and frees writer. */
void cl_run_writer_free (ClRunWriter *writer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ClRunWriter, cl_run_writer_free)

const char *cl_run_writer_dir (const ClRunWriter *writer);
ClRunInfo *cl_run_writer_info (ClRunWriter *writer);
/* Rows written so far to metrics.csv. */
int cl_run_writer_n_rows (const ClRunWriter *writer);
/* The folder was renamed (the run store prepares runs under a hidden name): later writes go
 * to dir. The lock and open files move with it. */
void cl_run_writer_moved (ClRunWriter *writer, const char *dir);

/* TRUE when a live writer (this process or another) holds dir's lock. Never blocks. */
gboolean cl_run_folder_is_locked (const char *dir);
