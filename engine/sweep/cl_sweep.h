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

typedef enum {
  CL_SWEEP_POINT_PENDING,
  CL_SWEEP_POINT_RUNNING,
  CL_SWEEP_POINT_DONE,      /* trained to the end; accuracies are the final probes */
  CL_SWEEP_POINT_FAILED,    /* the run stopped with an error (error[]); accuracies are its last probes */
  CL_SWEEP_POINT_CANCELLED, /* stopped by cl_sweep_cancel; no accuracies */
} ClSweepPointState;

/* One grid point's outcome. Plain data: copy with '='. */
typedef struct {
  int point;
  ClSweepPointState state;
  int64_t steps;          /* steps completed */
  double seconds;         /* wall time of the point: model build, training and probes */
  int n_targets;          /* probe targets, in order of first appearance in the run's probes */
  char target[CL_SWEEP_MAX_TARGETS][16];
  float accuracy[CL_SWEEP_MAX_TARGETS]; /* the last probe of each target */
  float chance[CL_SWEEP_MAX_TARGETS];
  char error[256];        /* FAILED: the run's message */
} ClSweepRow;

/* Accuracy of target in row, NaN when the row has none. */
double cl_sweep_row_accuracy (const ClSweepRow *row, const char *target);
double cl_sweep_row_chance (const ClSweepRow *row, const char *target);

typedef struct {
  int n_points;
  int points_done;          /* points that ended: done, failed or cancelled */
  int current_point;        /* -1 when no point is running */
  int64_t current_step;     /* of the running point */
  int64_t current_total_steps;
  int64_t steps_done;       /* over the whole sweep; never decreases */
  int64_t steps_total;      /* planned; shrinks when a point stops early */
  double elapsed_seconds;   /* since cl_sweep_start */
  double steps_per_second;  /* measured over the sweep so far, model builds and probes included */
  double eta_seconds;       /* remaining steps at that rate; < 0 while unknown */
  gboolean started;
  gboolean finished;        /* the thread ended: all points ran, or cancelled, or an error stopped it */
  gboolean cancelled;
  gboolean failed;          /* stopped by an error: cl_sweep_get_error */
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
 * has no value. C locale, 5 decimals. */
char *cl_sweep_csv (const ClSweepGrid *grid, const ClSweepRow *rows, int n_rows);
