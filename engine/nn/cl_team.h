/* The thread team of the layers: a few threads that sleep between jobs and claim work items one by
 * one (a thread that loses its core to another process just claims fewer), and the priority of the
 * engine's compute threads. Every layer cuts its work into items whose results depend only on the
 * item, never on the thread that runs it, so results do not depend on the thread count. */
#pragma once
#include <glib.h>

#define CL_LAYERS_MAX_THREADS 4
/* Threads for the layers' own loops, process-wide, clamped to 1..CL_LAYERS_MAX_THREADS; default 1.
 * Call between steps, not while a forward or backward runs. The extra threads live until exit. */
void cl_layers_set_threads (int threads);
int cl_layers_get_threads (void);
/* The engine's thread setting, what the trainer and the benchmark use: the team gets `threads` and
 * OpenBLAS runs single-threaded inside it (each team thread calls its own sgemm; an idle OpenBLAS
 * worker spinning beside the team's loops slows them). Process-wide, between steps. */
void cl_layers_use_threads (int threads);

/* Niceness (0..19) of the engine's compute threads: the team's workers, the trainer thread, the
 * batch-preparation helper and the sweep runner each apply it when they start
 * (cl_layers_apply_compute_nice), so set it before the first trainer. 0 (the default) keeps the
 * process' own. The window sets it so that on a machine whose cores the training fills, the GUI
 * thread and the display server still get the CPU when a frame is due. Linux threads only;
 * elsewhere it does nothing. */
void cl_layers_set_compute_nice (int nice);
void cl_layers_apply_compute_nice (void);
