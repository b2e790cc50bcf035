/* Runs on disk: reading run folders (written by `contrastlab --headless --out DIR` or by the
 * run store), finding them under a folder, and the run store that keeps every live run of the
 * window (each reset or restart included) in the user's data dir.
 *
 * One folder format serves all of them (see DESIGN.md "Files"):
 *   DIR/run.ini        the complete configuration (GKeyFile; comments allowed)
 *   DIR/metrics.csv    step,seconds,loss,... one row per logged step (required)
 *   DIR/probes.csv     step,target,accuracy,chance (optional)
 *   DIR/clusters.csv   step,layer,k,object_iou,instance_ari (optional)
 *   DIR/events.csv     step,key,old_value,new_value: control changes (optional; the store
 *                      writes it, headless runs have none)
 *   DIR/info.ini       run-store metadata, group [run] (only in store folders)
 * A folder is a run when it holds run.ini and metrics.csv.
 *
 * CSV reading is tolerant where files legitimately vary and strict where they are wrong:
 * columns are found by header name (unknown columns are ignored, missing optional columns
 * read as NaN), an empty field is NaN, fields may be "quoted", and an unterminated last line
 * that does not parse (a write cut short by a crash) is dropped. A bad value anywhere else is
 * a CL_RUNS_ERROR naming the file, line and column.
 *
 * Pure C + GLib + POSIX: no GTK, no cairo. Not thread-safe per object: use one ClRunStore from
 * one thread at a time (the functions reading folders are safe from any thread). */
#pragma once
#include <glib.h>
#include "engine/train/cl_snapshot.h"

/* Where things are: CSV reading/writing cl_csv.c; config diff and summary cl_run_ini.c;
 * ClRunInfo cl_run_info.c; loading/saving one folder cl_run_folder.c; scanning cl_run_scan.c;
 * the run store cl_run_store.c; writing one run as it trains cl_run_writer.h. */

#define CL_RUNS_ERROR (cl_runs_error_quark ())
GQuark cl_runs_error_quark (void);
typedef enum
{
  CL_RUNS_ERROR_MISSING, /* a required file or run does not exist */
  CL_RUNS_ERROR_PARSE,   /* a file exists but its content is not what was expected */
  CL_RUNS_ERROR_IO,      /* reading or writing failed (permissions, disk full, ...) */
  CL_RUNS_ERROR_BUSY,    /* the run is being recorded and cannot be deleted */
} ClRunsError;

/* ------------------------------------------------------------ reading one folder */

/* Reads the run folder dir into a finished snapshot that the figures draw like a live run
 * (rows, probes, clusters, events and config_ini = the text of run.ini). run.ini and
 * metrics.csv are required; the other files are optional. Rows are returned in step order.
 * NULL with error set on any problem; never aborts on bad files. */
ClSnapshot *cl_run_load (const char *dir, GError **error);

/* The readers behind cl_run_load, for callers holding one file. Each returns a g_malloc'd
 * array (NULL with *n = 0 for a file with a header and no rows); path names the file in
 * error messages. */
ClMetricRow *cl_runs_read_metrics (const char *path, int *n_rows, GError **error);
ClProbeRow *cl_runs_read_probes (const char *path, int *n_rows, GError **error);
ClClusterRow *cl_runs_read_clusters (const char *path, int *n_rows, GError **error);
ClEvent *cl_runs_read_events (const char *path, int *n_events, GError **error);

/* The CSV texts of a snapshot in the folder format (C locale; the same formats the headless
 * CLI writes; events.csv quotes fields that need it). */
char *cl_runs_metrics_csv (const ClSnapshot *snap);
char *cl_runs_probes_csv (const ClSnapshot *snap);
char *cl_runs_clusters_csv (const ClSnapshot *snap);
char *cl_runs_events_csv (const ClSnapshot *snap);

/* Writes snap as a complete run folder (run.ini, metrics.csv, probes.csv, clusters.csv,
 * events.csv; every file atomically). header_comment, if not NULL, is written as a '#'
 * comment line at the top of run.ini. Creates dir if needed. */
gboolean cl_run_save (const char *dir, const ClSnapshot *snap, const char *header_comment, GError **error);

/* ---------------------------------------------------------- listing runs cheaply */

typedef enum
{
  CL_RUN_STATUS_UNKNOWN,     /* a folder without store metadata (e.g. headless): assumed complete */
  CL_RUN_STATUS_RUNNING,     /* being recorded now (by this or another process) */
  CL_RUN_STATUS_FINISHED,    /* reached train.steps */
  CL_RUN_STATUS_STOPPED,     /* ended early: reset, restart, quit, or the run failed */
  CL_RUN_STATUS_INTERRUPTED, /* the recording process died (crash, power loss); rows up to
                              * the last complete line are kept */
  CL_RUN_STATUS_DAMAGED,     /* run.ini or metrics.csv is there but cannot be read (not a regular
                              * file, too large, not text), or info.ini is junk: listed, with
                              * ClRunInfo.problem saying why, so that it is not silently hidden */
} ClRunStatus;

const char *cl_run_status_name (ClRunStatus status); /* "running", "finished", ... */

/* What a list shows about one run, read without parsing its CSV files. */
typedef struct
{
  char *id;           /* store: folder name (sorts chronologically); scan: path relative to
                       * the scanned folder, '/'-separated ("sweep/runs/loss.kind=decoupled") */
  char *path;         /* the run folder */
  char *label;        /* for people: store label, or the id for scanned folders */
  char *summary;      /* one line of the main parameters ("randbits · ntxent τ=0.1 · batch 256") */
  int seed;           /* train.seed, -1 if unknown */
  gint64 started;     /* unix time (s) the run started, 0 if unknown */
  double duration;    /* training seconds (probes included), NaN if unknown */
  gint64 steps;       /* steps completed, -1 if unknown */
  gint64 total_steps; /* train.steps, -1 if unknown */
  ClRunStatus status;
  int n_final;            /* final probe accuracies, one per target (per-bit targets left out) */
  char **final_targets;   /* n_final names, NULL-terminated */
  double *final_accuracy; /* n_final values */
  char *problem;          /* status damaged: what is wrong, one line naming the file; else NULL */
} ClRunInfo;

void cl_run_info_free (ClRunInfo *info);
ClRunInfo *cl_run_info_copy (const ClRunInfo *info);
/* Final accuracy of target ("class", "bits", ...), NaN if not recorded. */
double cl_run_info_final (const ClRunInfo *info, const char *target);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ClRunInfo, cl_run_info_free)

/* Every run folder under dir (dir itself included), recursively, as ClRunInfo* (free the
 * array with g_ptr_array_unref), sorted by id in natural order ("run2" before "run10").
 * Reads only run.ini (and info.ini, and a sweep's sweep.csv for the final accuracies of its
 * points); does not descend into run folders or hidden folders, nor follow more than 16
 * levels. A missing or unreadable dir is an error; unreadable sub-folders are skipped.
 * Only regular files are read, each with a size cap; a folder holding run.ini and
 * metrics.csv that cannot be read is listed with status damaged. A run whose info.ini says
 * "running" but whose writer is gone (its lock is free) is listed as interrupted. */
GPtrArray *cl_runs_scan_dir (const char *dir, GError **error);

/* ------------------------------------------------------------- comparing configs */

/* The parameters whose values differ between two run.ini texts (keys present in only one
 * count, with NULL as the missing value), as "group.key" names in the order of a then b.
 * values_a/values_b (optional) get the matching values (NULL-terminated arrays of the same
 * length; missing values are ""; free with g_strfreev). Comments and formatting are
 * ignored. Returns a NULL-terminated array (empty when the configurations are the same;
 * free with g_strfreev), or NULL with error set when a text is not a valid key file. */
char **cl_config_ini_diff (const char *ini_a, const char *ini_b, char ***values_a, char ***values_b, GError **error);

/* The one-line parameter summary that ClRunInfo.summary holds, from a run.ini text. */
char *cl_config_ini_summary (const char *ini);

/* ------------------------------------------------------------------ the run store */

/* Layout of a store folder (default g_get_user_data_dir()/contrastlab/runs):
 *   index.ini     group [store] (next_number) and one group per run id with the ClRunInfo
 *                 fields: the list, read at open (one file, whatever the number of runs)
 *   ID/           a run folder (format above) plus ID/info.ini, the same fields for that run
 * IDs are "YYYYMMDD-HHMMSS-NNNN" (local start time, run number): they sort oldest first and
 * are never reused, even after a delete.
 *
 * Crash safety: index.ini, info.ini and run.ini are replaced atomically (temp file NAME.XXXXXX
 * in the same folder + rename); CSV rows are appended as whole lines (a failed append is cut
 * back), so a crash can only lose rows not yet written or leave an unterminated last line,
 * which readers drop. A new run's folder is prepared under a hidden name (.new-ID) and renamed
 * into place, a deleted one is renamed to .trash-ID before removal: a half-made or half-deleted
 * run is never listed. The recorder holds an flock on the run's metrics.csv. cl_run_store_open
 * repairs what a crash left: stray temp files and hidden folders are removed, run folders the
 * index misses are re-read from their info.ini, and runs left "running" whose lock nobody
 * holds become "interrupted", with the step and time of their last whole row.
 * Cost: only close, set_label and delete fsync; begin and finish rewrite the index (a few ms
 * with hundreds of runs on a busy disk); record appends rows, plus a small info.ini when a
 * probe result arrives (measured with 300 runs: median 0.03 ms, worst 9 ms on a loaded VM). */
typedef struct ClRunStore ClRunStore;

/* dir: the store folder; NULL means $CONTRASTLAB_DATA_DIR/runs when that variable is set
 * (tests), else g_get_user_data_dir()/contrastlab/runs. Created when missing. */
ClRunStore *cl_run_store_open (const char *dir, GError **error);
/* Closes the store. A run still being recorded is marked stopped with what was written
 * (call cl_run_store_finish first to write the last rows). */
void cl_run_store_close (ClRunStore *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ClRunStore, cl_run_store_close)

const char *cl_run_store_dir (const ClRunStore *store);

/* The runs, oldest first, as ClRunInfo* copies (g_ptr_array_unref frees them). Reads no file. */
GPtrArray *cl_run_store_list (ClRunStore *store);
/* One run's info (a copy), or NULL if there is no such id. */
ClRunInfo *cl_run_store_lookup (ClRunStore *store, const char *id);

/* Starts recording a new live run and makes it the current one (finishing the previous
 * current run as stopped, if any). Call it when a run starts and after every reset or
 * restart. snap may be NULL or have no rows yet (its config_ini is used if set); label NULL
 * gives "Run N". Returns the new run's id (owned by the store, valid until it is deleted or
 * the store closed), or NULL with error set. */
const char *cl_run_store_begin (ClRunStore *store, const ClSnapshot *snap, const char *label, GError **error);

/* Appends what snap holds beyond what was already written for the current run: metric,
 * probe, cluster and event rows; rewrites run.ini when the configuration text changed, and
 * info.ini when the final accuracies or the configuration changed or 10 s have passed (the
 * list in memory is updated every call). Cheap: a few appends, no fsync; call it every few
 * seconds from the GUI thread (or from one worker thread). Without a current run it begins
 * one (label NULL). A snap with fewer rows (or probes, clusters, events) than already written,
 * or whose first row has another step, belongs to a new run (a reset the caller did not
 * report): the current one is ended as stopped and a new one begun. */
gboolean cl_run_store_record (ClRunStore *store, const ClSnapshot *snap, GError **error);

/* Records snap's remaining rows and ends the current run: status finished when
 * snap->step >= snap->total_steps and no error, else stopped. No-op without a current run.
 * Call it when the run reaches its end, and before a reset/restart (begin would otherwise end
 * the old run as stopped without its last rows). */
gboolean cl_run_store_finish (ClRunStore *store, const ClSnapshot *snap, GError **error);

/* The id of the run being recorded, or NULL. */
const char *cl_run_store_current (const ClRunStore *store);

/* Renames a run for the list. */
gboolean cl_run_store_set_label (ClRunStore *store, const char *id, const char *label, GError **error);

/* Removes a run (folder and index entry). The run being recorded cannot be deleted
 * (CL_RUNS_ERROR_BUSY). */
gboolean cl_run_store_delete (ClRunStore *store, const char *id, GError **error);

/* Reads a stored run back as a finished snapshot (cl_run_load of its folder). For the run
 * being recorded it returns what has been written so far. */
ClSnapshot *cl_run_store_load (ClRunStore *store, const char *id, GError **error);
