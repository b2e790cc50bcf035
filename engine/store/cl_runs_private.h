/* Shared inside engine/store only: the pieces the CSV, run-info, folder, scan, writer and
 * store files use from one another. Not installed, not included from outside engine/store. */
#pragma once
#include <glib.h>
#include <stddef.h>
#include <sys/types.h>

#include "engine/store/cl_runs.h"

#define RUN_INI "run.ini"
#define METRICS_CSV "metrics.csv"
#define PROBES_CSV "probes.csv"
#define CLUSTERS_CSV "clusters.csv"
#define EVENTS_CSV "events.csv"
#define INFO_INI "info.ini"
#define INDEX_INI "index.ini"
#define SWEEP_CSV "sweep.csv"
#define LOCK_FILE ".contrastlab.lock" /* the same name the CLI used before the writer */

/* Size caps for what a run folder may hold (a hostile or broken folder must not make a reader
 * allocate without bound): text files of configuration, and CSV files of rows. */
#define CL_RUNS_MAX_INI_BYTES (4u * 1024u * 1024u)
#define CL_RUNS_MAX_CSV_BYTES (512u * 1024u * 1024u)

/* ---- CSV (cl_csv.c) ---- */

typedef enum
{
  COL_INT64,
  COL_INT,
  COL_FLOAT,
  COL_TEXT,
  COL_TEXT_CLIPPED
} ColKind;

typedef struct
{
  const char *name;
  ColKind kind;
  size_t offset;
  size_t size; /* text buffers */
  gboolean required;
} ColSpec;

extern const ColSpec cl_metric_cols[12];
extern const ColSpec cl_probe_cols[4];
extern const ColSpec cl_cluster_cols[5];
extern const ColSpec cl_event_cols[4];
extern const char cl_metrics_header[];
extern const char cl_probes_header[];
extern const char cl_clusters_header[];
extern const char cl_events_header[];

/* Reads one CSV text (NUL-terminated at data[len], writable) into rows of row_size bytes
 * following cols (see cl_runs.h for the rules). NULL with error set on bad input. */
GArray *cl_csv_read_buffer (char *data, gsize len, const char *path, const ColSpec *cols, int n_cols, size_t row_size,
                            GError **error);
/* A whole file (a regular file of at most CL_RUNS_MAX_CSV_BYTES), rows in step order. */
gpointer cl_csv_read_file (const char *path, const ColSpec *cols, int n_cols, size_t row_size, int *n_rows,
                           GError **error);
void cl_csv_append_metric_rows (GString *out, const ClMetricRow *rows, int from, int to);
void cl_csv_append_probe_rows (GString *out, const ClProbeRow *rows, int from, int to);
void cl_csv_append_cluster_rows (GString *out, const ClClusterRow *rows, int from, int to);
void cl_csv_append_event_rows (GString *out, const ClEvent *events, int from, int to);

/* A regular file of at most max bytes, NUL-terminated (CL_RUNS_ERROR_MISSING when absent,
 * CL_RUNS_ERROR_PARSE when not a regular file or too large, CL_RUNS_ERROR_IO otherwise). */
gboolean cl_runs_read_text (const char *path, gsize max, char **data, gsize *len, GError **error);

/* ---- run.ini (cl_run_ini.c) ---- */

GKeyFile *cl_runs_keyfile_from_text (const char *text, const char *source, GError **error);
void cl_kf_int (GKeyFile *kf, const char *group, const char *key, int *out);
void cl_kf_int64 (GKeyFile *kf, const char *group, const char *key, gint64 *out);
void cl_kf_double (GKeyFile *kf, const char *group, const char *key, double *out);
char *cl_runs_summary_from_keyfile (GKeyFile *kf);

/* ---- ClRunInfo (cl_run_info.c) ---- */

ClRunInfo *cl_run_info_new_empty (void);
ClRunStatus cl_run_status_from_name (const char *name);
void cl_run_info_set_finals (ClRunInfo *info, char **targets, double *accuracy, int n);
gboolean cl_runs_is_per_bit_target (const char *t);
gboolean cl_run_info_update_finals (ClRunInfo *info, const ClProbeRow *probes, int n_probes);
void cl_run_info_from_run_ini (ClRunInfo *info, const char *text);
void cl_run_info_to_keyfile (GKeyFile *kf, const char *group, const ClRunInfo *info);
gboolean cl_run_info_from_keyfile (GKeyFile *kf, const char *group, ClRunInfo *info);
char *cl_run_info_text (const ClRunInfo *info);
/* Fills info from dir/info.ini. FALSE when it is missing, not a regular file, or not a run's
 * metadata (damaged). */
gboolean cl_run_info_read_meta (ClRunInfo *info, const char *dir);
/* The step and time of the last whole metric row of a crashed run, read from the file's end. */
void cl_run_info_repair_from_tail (ClRunInfo *info);

/* ---- files (cl_run_folder.c) ---- */

gboolean cl_runs_make_dir (const char *dir, GError **error);
/* dir/name replaced atomically (cl_file_replace; durable: fsync). CL_RUNS_ERROR_IO on failure. */
gboolean cl_runs_replace_file (const char *dir, const char *name, const char *text, gboolean durable, GError **error);
void cl_runs_remove_tree (const char *path);
