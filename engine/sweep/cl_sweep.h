/* Sweeps: a grid of configurations ("data.bits=0,5,10 loss.temperature=0.05,0.1") run one
 * point after another with ClTrainer, on a background thread, with progress, ETA, cancel and
 * the final probe accuracies of each point readable as rows while it runs. The headless CLI
 * (--sweep, preset sweeps) and the window's Sweep dialog both drive this one runner.
 *
 * Grid order: the last key varies fastest, so with "data.bits=0,5 loss.temperature=0.05,0.1"
 * the points are (0, 0.05), (0, 0.1), (5, 0.05), (5, 0.1). */
#pragma once
#include <glib.h>
#include <stdint.h>
#include "engine/base/cl_params.h"
#include "engine/train/cl_snapshot.h"

/* Larger grids are refused: a typo such as a 1..1000 list should not queue days of training. */
#define CL_SWEEP_MAX_POINTS 10000
/* Probe targets kept per point: class, bits, bit0..bit23 and the scene targets fit. */
#define CL_SWEEP_MAX_TARGETS 40

/* ---------------------------------------------------------------- the grid */

typedef struct ClSweepGrid ClSweepGrid;

/* specs: NULL-terminated "KEY=V1,V2,..." strings (values are stripped of blanks). Every key
 * must be in the parameter table and every value must be accepted by it (checked on a copy of
 * base); a key may appear once. Errors are CL_CONFIG_ERROR with one line naming the spec and
 * the key or value at fault. The grid keeps its own copy of base. */
ClSweepGrid *cl_sweep_grid_new (const ClConfig *base, const char *const *specs, GError **error);
/* The same from one text of blank-separated specs, as in a preset's "[preset] sweep=" line. */
ClSweepGrid *cl_sweep_grid_new_from_text (const ClConfig *base, const char *text, GError **error);
void cl_sweep_grid_free (ClSweepGrid *grid);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ClSweepGrid, cl_sweep_grid_free)

const ClConfig *cl_sweep_grid_base (const ClSweepGrid *grid);
int cl_sweep_grid_n_axes (const ClSweepGrid *grid);
int cl_sweep_grid_n_points (const ClSweepGrid *grid);
const ClParam *cl_sweep_grid_param (const ClSweepGrid *grid, int axis);
int cl_sweep_grid_n_values (const ClSweepGrid *grid, int axis);
/* The value as the user wrote it (stripped); it is what sweep.csv and point names show. */
const char *cl_sweep_grid_value (const ClSweepGrid *grid, int axis, int value);
/* Which of axis' values point uses. */
int cl_sweep_grid_value_index (const ClSweepGrid *grid, int point, int axis);
/* base with point's values applied. */
void cl_sweep_grid_config (const ClSweepGrid *grid, int point, ClConfig *out);
/* "KEY=V,KEY=V" (the CLI's run folder name). */
char *cl_sweep_grid_point_name (const ClSweepGrid *grid, int point);
/* The specs joined by blanks, as given. */
char *cl_sweep_grid_describe (const ClSweepGrid *grid);

/* A preset's sweep: the "[preset] sweep=" text of an .ini file, or NULL when it has none. */
char *cl_sweep_preset_spec (const char *preset_path);

/* ------------------------------------------------------------- the runner */

typedef enum
{
  CL_SWEEP_POINT_PENDING,
  CL_SWEEP_POINT_RUNNING,
  CL_SWEEP_POINT_DONE,      /* trained to the end; accuracies are the final probes */
  CL_SWEEP_POINT_FAILED,    /* the run stopped with an error (error[]); accuracies are its last probes */
  CL_SWEEP_POINT_CANCELLED, /* stopped by cl_sweep_cancel; no accuracies */
} ClSweepPointState;

/* One grid point's outcome. Plain data: copy with '='. */
typedef struct
{
  int point;
  ClSweepPointState state;
  int64_t steps;  /* steps completed */
  double seconds; /* wall time of the point: model build, training and probes */
  int n_targets;  /* probe targets, in order of first appearance in the run's probes */
  char target[CL_SWEEP_MAX_TARGETS][24];
  float accuracy[CL_SWEEP_MAX_TARGETS]; /* the last probe of each target */
  float chance[CL_SWEEP_MAX_TARGETS];
  char error[256]; /* FAILED: the run's message */
} ClSweepRow;

/* Accuracy of target in row, NaN when the row has none. */
double cl_sweep_row_accuracy (const ClSweepRow *row, const char *target);
double cl_sweep_row_chance (const ClSweepRow *row, const char *target);

typedef struct
{
  int n_points;
  int points_done;      /* points that ended: done, failed or cancelled */
  int current_point;    /* -1 when no point is running */
  int64_t current_step; /* of the running point */
  int64_t current_total_steps;
  int64_t steps_done;      /* over the whole sweep; never decreases */
  int64_t steps_total;     /* planned; shrinks when a point stops early */
  double elapsed_seconds;  /* since cl_sweep_start */
  double steps_per_second; /* measured over the sweep so far, model builds and probes included */
  double eta_seconds;      /* remaining steps at that rate; < 0 while unknown */
  gboolean started;
  gboolean finished; /* the thread ended: all points ran, or cancelled, or an error stopped it */
  gboolean cancelled;
  gboolean failed; /* stopped by an error: cl_sweep_get_error */
} ClSweepProgress;

typedef struct ClSweep ClSweep;

/* Takes ownership of grid. Nothing runs until cl_sweep_start. */
ClSweep *cl_sweep_new (ClSweepGrid *grid);
/* Cancels if running, waits for the thread, frees everything (kept snapshots too). */
void cl_sweep_free (ClSweep *sweep);
const ClSweepGrid *cl_sweep_get_grid (const ClSweep *sweep);

/* Keep each point's final snapshot until cl_sweep_take_snapshot (the CLI writes every run's
 * files from it). Call before cl_sweep_start. */
void cl_sweep_set_keep_snapshots (ClSweep *sweep, gboolean keep);
/* Starts the thread. */
void cl_sweep_start (ClSweep *sweep);
/* Asks the sweep to stop: the running point stops after its current step (or probe), and no
 * further point starts. Returns at once. */
void cl_sweep_cancel (ClSweep *sweep);
/* Waits for the thread to end. */
void cl_sweep_wait (ClSweep *sweep);

/* Thread-safe readers; none waits on training. */
void cl_sweep_get_progress (ClSweep *sweep, ClSweepProgress *out);
void cl_sweep_get_row (ClSweep *sweep, int point, ClSweepRow *out);
/* A copy of every point's row (pending ones included), n_points long; g_free it. */
ClSweepRow *cl_sweep_get_rows (ClSweep *sweep, int *n_rows);
/* The running point's latest snapshot (a new reference), or NULL between points. */
ClSnapshot *cl_sweep_get_current_snapshot (ClSweep *sweep);
/* With keep_snapshots: the final snapshot of an ended point, handed over once; else NULL. */
ClSnapshot *cl_sweep_take_snapshot (ClSweep *sweep, int point);
/* FALSE with the error when an error stopped the sweep (a point whose trainer could not be
 * built: missing data, bad configuration). */
gboolean cl_sweep_get_error (ClSweep *sweep, GError **error);

/* sweep.csv: the swept keys, then the final accuracy of each probe target (in order of first
 * appearance over the rows, in grid order); one line per grid point, empty cells where a point
 * has no value. C locale, 5 decimals. With train.seed swept, then <target>_mean and
 * <target>_std for each target and seeds (cl_sweep_seed_stats) on every line. */
char *cl_sweep_csv (const ClSweepGrid *grid, const ClSweepRow *rows, int n_rows);

/* Mean, sample standard deviation (n - 1) and count of target's accuracy over the seeds of
 * point's combination of the other keys, when train.seed is swept (only DONE rows count; a
 * missing row counts as not done). FALSE when train.seed is not swept. std is NaN below 2
 * seeds, mean NaN with none. target NULL: n_seeds counts the group's DONE rows.
 * sweep.csv then adds, after the targets, <target>_mean,<target>_std per target and seeds. */
gboolean cl_sweep_seed_stats (const ClSweepGrid *grid, const ClSweepRow *rows, int n_rows, int point,
                              const char *target, double *mean, double *std, int *n_seeds);

/* ------------------------------------------------------ plans, cells, collect
 *
 * A sweep on disk (DIR is --out; any number of processes, on one machine or many sharing DIR):
 *   DIR/sweep.plan            the base configuration, the sweep specs and one line per cell
 *   DIR/runs/FOLDER/          cell N's run folder (a complete headless run)
 *   DIR/runs/FOLDER/cell.ini  written last, atomically: the cell is finished (done, or
 *                             recorded as diverged/failed); without it the cell is unfinished
 *   DIR/sweep.csv, DIR/figures/sweep.png   from the finished cells (collect)
 *
 * sweep.plan is text, one record a line, fields separated by tabs and escaped as C strings
 * (g_strescape), '#' lines are comments:
 *   contrastlab-sweep-plan <TAB> 1
 *   base <TAB> KEY <TAB> VALUE         every parameter (floats with 17 digits: exact)
 *   sweep <TAB> SPEC                   one per swept key, as given ("data.bits=0,5,10")
 *   cells <TAB> N
 *   cell <TAB> I <TAB> K=V,K=V <TAB> FOLDER   one per cell, I = 0..N-1 in order
 * The reader rebuilds the grid from base + sweep and checks every cell line against it, so a
 * corrupt or hand-edited plan is refused with FILE:LINE and what was expected. */

#define CL_SWEEP_ERROR (cl_sweep_error_quark ())
GQuark cl_sweep_error_quark (void);
typedef enum
{
  CL_SWEEP_ERROR_NO_PLAN,  /* DIR/sweep.plan is missing: not a sweep folder */
  CL_SWEEP_ERROR_BAD_PLAN, /* the plan is corrupt */
  CL_SWEEP_ERROR_BAD_CELL, /* a cell index out of range */
  CL_SWEEP_ERROR_IO,       /* reading or writing failed */
} ClSweepErrorCode;

#define CL_SWEEP_PLAN_NAME "sweep.plan"
#define CL_SWEEP_CELL_MARK "cell.ini"
#define CL_SWEEP_PLAN_MAX_BYTES (64 << 20)

/* The folder name of point under DIR/runs/: the point name with every byte outside
 * [A-Za-z0-9._,=+-] written as %XX (so "/" and ".." cannot leave runs/, and two values never
 * share a folder); a name longer than 200 bytes is cut and ends in "~" + 16 hex digits of its
 * SHA-1. */
char *cl_sweep_grid_point_folder (const ClSweepGrid *grid, int point);

/* The plan's text, and a grid from such a text (source names it in errors: "DIR/sweep.plan"). */
char *cl_sweep_plan_text (const ClSweepGrid *grid);
ClSweepGrid *cl_sweep_plan_parse (const char *text, gsize length, const char *source, GError **error);
/* Writes DIR/sweep.plan atomically (DIR must exist). */
gboolean cl_sweep_plan_write (const ClSweepGrid *grid, const char *dir, GError **error);
/* Reads DIR/sweep.plan (a regular file of at most CL_SWEEP_PLAN_MAX_BYTES). A missing plan is
 * CL_SWEEP_ERROR_NO_PLAN naming the file. */
ClSweepGrid *cl_sweep_plan_read (const char *dir, GError **error);
/* SHA-1 of the plan's text: cells record it, so a cell of another plan in the same folder is
 * not taken as finished. */
char *cl_sweep_plan_id (const ClSweepGrid *grid);

/* DIR/runs/FOLDER of point. */
char *cl_sweep_cell_dir (const ClSweepGrid *grid, const char *dir, int point);

/* How a cell ended, as cell.ini records it. */
typedef enum
{
  CL_SWEEP_CELL_DONE,
  CL_SWEEP_CELL_DIVERGED,
  CL_SWEEP_CELL_FAILED,
} ClSweepCellEnd;

/* Writes cell_dir/cell.ini atomically: the cell is finished. message may be NULL. */
gboolean cl_sweep_cell_mark (const ClSweepGrid *grid, const char *cell_dir, int point, ClSweepCellEnd end,
                             int64_t steps, double seconds, const char *message, GError **error);
/* Whether cell point of the sweep in dir is finished (its cell.ini is there, whole, for this
 * point and plan). */
gboolean cl_sweep_cell_finished (const ClSweepGrid *grid, const char *dir, int point);
/* The row of a finished cell: its end, steps and seconds from cell.ini, the last probe of each
 * target from probes.csv (a DONE cell only: a diverged or failed cell has no final accuracy).
 * An unfinished cell gives a PENDING row and TRUE; FALSE with error when a finished cell's
 * files are unreadable. */
gboolean cl_sweep_cell_row (const ClSweepGrid *grid, const char *dir, int point, ClSweepRow *row, GError **error);
