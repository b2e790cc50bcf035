/* What the in-process GUI tests (test_gui*.c, test_sweep_*.c) share: running the main loop until
 * something happens, windows on a small run, and finding the dialogs a window opens. */
#pragma once
#include <gtk/gtk.h>

#include "app/cl_window_private.h"

G_BEGIN_DECLS

/* Runs the main loop until cond (data) holds or timeout_s passed; returns the last cond. */
gboolean gui_spin_until (gboolean (*cond) (gpointer), gpointer data, double timeout_s);
/* Runs what is pending in the main loop now. */
void gui_spin (void);
/* Runs the main loop for ms milliseconds. */
void gui_spin_ms (int ms);

/* The live run of win has published a snapshot of at least `step` steps (within timeout_s). */
gboolean gui_wait_for_step (ClWindow *win, gint64 step, double timeout_s);
/* The live run of win has at least two rows (cond for gui_spin_until). */
gboolean gui_has_rows (gpointer win);
/* cfg = the defaults with train.batch = batch and train.steps = steps (0: the default's). */
void gui_test_config (ClConfig *cfg, int batch, int steps);
/* A shown window on a live run of cfg, that run past `step` steps (within 60 s; step < 0: no wait). */
ClWindow *gui_present_window (const ClConfig *cfg, gint64 step);
/* A window on a small live run of cfg's defaults (cfg is set to them: batch 16, steps 100000, no
 * probes between the ends), shown and with a few rows. */
ClWindow *gui_new_small_window (ClConfig *cfg);

/* The visible message dialog (an error, a question), or NULL. */
GtkMessageDialog *gui_find_message_dialog (void);
/* cond for gui_spin_until: a message dialog is shown (data unused). */
gboolean gui_message_dialog_shown (gpointer data);

G_END_DECLS
