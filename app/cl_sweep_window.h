/* The Sweep window: a grid of runs in the background (engine/sweep/cl_sweep.h), with progress, ETA,
 * cancel, and the paper's figure (final accuracy against the first key, one line per value of
 * the others) filling in as points end. It never touches the main window's live run. */
#pragma once
#include <gtk/gtk.h>
#include "engine/base/cl_params.h"
#include "engine/sweep/cl_sweep.h"

G_BEGIN_DECLS
#define CL_TYPE_SWEEP_WINDOW (cl_sweep_window_get_type ())
G_DECLARE_FINAL_TYPE (ClSweepWindow, cl_sweep_window, CL, SWEEP_WINDOW, GtkWindow)

/* Shows the parent's Sweep window (one per parent; created on first use, transient for parent),
 * its entries prefilled for base: the paper's bits x temperature grid for randbits.
 * samples_per_second: the parent's live training speed (steps/s x batch; 0 when unknown), from
 * which the window estimates how long the sweep takes before it is started. */
void cl_sweep_window_present (GtkWindow *parent, const ClConfig *base, double samples_per_second);

/* For tests and scripting. */
ClSweepWindow *cl_sweep_window_new (GtkWindow *parent, const ClConfig *base);
void cl_sweep_window_set_text (ClSweepWindow *self, const char *sweep, const char *also_set);
const char *cl_sweep_window_get_sweep_text (ClSweepWindow *self);
const char *cl_sweep_window_get_set_text (ClSweepWindow *self);
/* What the Start button does: builds the grid from the entries (errors name the key) and starts. */
gboolean cl_sweep_window_start (ClSweepWindow *self, GError **error);
void cl_sweep_window_cancel (ClSweepWindow *self);
/* A window closed while its sweep runs frees the sweep on a background thread (it may be mid-step or
 * mid-probe). Waits (at most timeout_s) until every such sweep is gone, so the process does not exit
 * under a thread still computing; TRUE when none is left. Any thread. */
gboolean cl_sweep_window_wait_discarded (double timeout_s);
/* The speed the estimate is made from (images per second, 0: unknown). */
void cl_sweep_window_set_speed (ClSweepWindow *self, double samples_per_second);
/* What Start would run: "N runs, S training steps in all · about T, estimated from ..." or why
 * the entries are not a sweep yet. */
const char *cl_sweep_window_get_plan (ClSweepWindow *self);
/* The sweep shown (NULL before the first start). */
ClSweep *cl_sweep_window_get_sweep (ClSweepWindow *self);
/* The on-screen figure's drawing, on any cairo_t. */
void cl_sweep_window_draw_figure (ClSweepWindow *self, cairo_t *cr, double width, double height);
gboolean cl_sweep_window_export_png (ClSweepWindow *self, const char *path, GError **error);
gboolean cl_sweep_window_export_csv (ClSweepWindow *self, const char *path, GError **error);
G_END_DECLS
