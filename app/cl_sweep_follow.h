/* Following a sweep folder that is still filling, its cells run by Slurm, GNU parallel or other
 * processes (README, "Running a sweep on a cluster"). `--open DIR` and Ctrl+Shift+O on such a
 * folder open a small window beside the main one with done/total (and how many cells are
 * running) and the sweep figure, re-read every CL_SWEEP_FOLLOW_POLL_MS; each cell's run goes
 * into the main window's run list when it finishes. No restart, no server: the folder is
 * the state (DIR/sweep.plan and each cell's cell.ini). Polling stops when every cell is
 * finished or the window is closed. */
#pragma once
#include <gtk/gtk.h>
#include "app/cl_window.h"

#define CL_SWEEP_FOLLOW_POLL_MS 2000

/* Whether dir is a sweep (holds DIR/sweep.plan) with cells not finished yet. */
gboolean cl_sweep_follow_is_filling (const char *dir);

/* Opens the follow window of the sweep in dir for win (or presents the one already open) and
 * adds the cells finished so far to win's run list. NULL with error on a corrupt plan. */
GtkWindow *cl_sweep_follow_open (ClWindow *win, const char *dir, GError **error);

/* The follow window of dir opened for win, or NULL. */
GtkWindow *cl_sweep_follow_find (ClWindow *win, const char *dir);

/* For tests and screenshots. */
void cl_sweep_follow_poll_now (GtkWindow *follow);
void cl_sweep_follow_get_counts (GtkWindow *follow, int *finished, int *running, int *total);
const char *cl_sweep_follow_get_status (GtkWindow *follow);
gboolean cl_sweep_follow_is_polling (GtkWindow *follow);
