/* ClWindow's insides, shared by the files the window is made of (and its tests); not public API.
 *   cl_window.c          core: the template, the run lifecycle (start_run), the frame tick, the sidebar
 *   cl_window_actions.c  every win.* action handler, and the dialogs they open
 *   cl_window_export.c   figure, dashboard and CSV export (worker threads, choosers)
 *   cl_window_runs.c     the run list panel: its rows, A/B choice, overlays, opened folders
 *   cl_run_entry.c       ClRunEntry, one row of the run list (GLib only)
 *   cl_window_recorder.c the window's side of recording the live run (app/cl_run_recorder.c, GLib only)
 *   cl_window_status.c   the status line, probe progress bar, notices and messages
 *   cl_window_history.c  run history curation: rename, note, trash with undo, the list filter
 *   cl_window_replicates.c other seeds of the shown run, fed to the probe chart
 *   cl_window_presets.c  the presets popover, the question before edits are discarded, "Try this" */
#pragma once
#include "app/cl_window.h"
#include "app/cl_run_entry.h"
#include "app/cl_run_recorder.h"
#include "ui/cl_figure_view.h"

G_BEGIN_DECLS

struct _ClWindow
{
  GtkApplicationWindow parent_instance;

  GtkButton *play_button;
  GtkBox *params_box;
  GtkStack *figure_stack;
  ClFigureView *figure_views[CL_N_FIGURES];
  GtkDrawingArea *dashboard_area; /* the default view: several figures at once */
  GtkLabel *caption_label;
  int caption_probes; /* the shown snapshot's probe rounds when the caption was last written */
  GtkDropDown *sim_order;
  /* Frame budget: intervals between frame-clock ticks and time spent in the tick callback. */
  gint64 last_tick_us, ticks, ticks_over_16ms, tick_work_max_us, interval_max_us;
  GtkLabel *status_label;
  GtkLabel *notice_label;
  guint notice_id;
  /* Probes run inside a training step and publish nothing while they run: a snapshot that
   * stops changing at a step where a probe is due means "probing", shown with a progress bar
   * whose estimate is the previous probe's duration. */
  GtkProgressBar *probe_bar;
  gint64 last_snapshot_us; /* when the shown snapshot arrived */
  gint64 probe_bar_update_us;
  gboolean probing;
  double probe_seconds_before; /* the snapshot's probe_seconds when the probe began */
  double last_probe_duration;  /* seconds, 0 until one probe was seen whole */
  int exports_running;
  gboolean disposed; /* a worker may finish after the window went */
  GtkRevealer *error_revealer;
  GtkLabel *error_label;
  GtkWidget *restart_button;

  /* Presets (cl_window_presets.c). */
  GtkMenuButton *preset_button; /* names the current preset; its popover lists them all */
  GtkWidget *presets_popover;
  GPtrArray *preset_rows; /* GtkListBoxRow, data "preset" (name), "mark", "group" (0 interactive, 1 sweep) */
  GtkWidget *try_note;    /* the preset's "Try this" note */
  GtkLabel *try_label;
  GHashTable *try_dismissed; /* preset names whose note was dismissed in this session */
  GtkWidget *confirm_dialog; /* "Discard N unapplied changes?" while it asks, else NULL */
  char *current_preset;      /* the preset (a name in the presets folder) last loaded, or NULL for a file */
  GSettings *settings;       /* NULL when the schema is not installed (running from a build tree) */
  ClConfig config;           /* what the next run starts with, and what live changes requested */
  ClConfig run_config;       /* what the current run was started with */
  char *preset_name;         /* runs are named after it ("randbits", "run-3", "figure") */
  ClEvent *replay;           /* live changes the next run replays (from the loaded preset), or NULL */
  int n_replay;
  int events_seen; /* events of the live run already reflected in the sidebar */
  ClTrainer *trainer;
  ClSnapshot *shown; /* last snapshot given to the views */
  GHashTable *rows;  /* key -> ClParamRow (borrowed) */
  guint tick_id;
  gboolean paused;

  /* Runs: every live run is recorded in the store; the list holds those and opened ones. */
  GtkStack *sidebar_stack;
  GtkPaned *main_paned;   /* sidebar | figures */
  int sidebar_for_width;  /* the window width the sidebar was last fitted to */
  gboolean sidebar_moved; /* the user moved the handle: the sidebar keeps that width */
  gboolean allocating;    /* inside the window's size_allocate (the paned's own position changes) */
  GtkListView *runs_view;
  GtkDropDown *run_a, *run_b;
  GListStore *runs;        /* ClRunEntry: opened runs first, then the window's, newest first */
  GHashTable *entries;     /* key -> ClRunEntry (borrowed from runs) */
  ClRunRecorder *recorder; /* keeps every live run (cl_window_recorder.c); NULL when the store cannot be opened */
  guint record_id;
  char *current_id; /* the run being recorded (copy of the store's), or NULL */
  gboolean record_error_shown;
  GtkFilterListModel *runs_filtered; /* what the list view shows: runs through the filter */
  /* Run history curation (cl_window_history.c). */
  GtkSearchEntry *run_filter;
  GtkCustomFilter *filter;
  char **filter_terms; /* the filter's words (NULL: everything) */
  GtkWidget *undo_bar;
  GtkLabel *undo_label;
  ClRunEntry *trash_entry; /* deleted, going to the trash when the undo bar closes (ref), or NULL */
  guint trash_position;    /* where it was in runs */
  guint trash_timer;
  /* Other seeds of the shown run's configuration, drawn as a band (cl_window_replicates.c). */
  GPtrArray *replicate_snaps; /* ClSnapshot refs the probe view points at */
  char *replicates_of;        /* the config_ini they were found for */
  gboolean syncing_choices;
  ClRunEntry *show_a; /* shown instead of the live run (ref), or NULL */
  ClRunEntry *show_b; /* compared against A (ref), or NULL */
  guint n_opened;     /* opened runs at the top of the list */
  /* What the loss and probe views' options point at (kept alive here). */
  GPtrArray *overlay_snaps;  /* ClSnapshot refs */
  GPtrArray *overlay_labels; /* char * */
  char *label_a, *label_b;
};

/* ----------------------------------------------------------- for tests: what a user sees,
 * read without a display's help, and shortcuts past the file choosers */
/* The running trainer (NULL when the run could not start), e.g. for tests. */
ClTrainer *cl_window_get_trainer (ClWindow *win);
ClParamRow *cl_window_get_param_row (ClWindow *win, const char *key);
ClFigureKind cl_window_get_visible_figure (ClWindow *win);
/* Exports the shown figure of the latest snapshot as PNG (1x) without asking for a file name;
 * refuses an existing file. */
gboolean cl_window_export_png (ClWindow *win, const char *path, GError **error);
gboolean cl_window_exports_running (ClWindow *win);
/* The kept runs as ClRunInfo* (cl_run_store_list), NULL when the run list is off. */
GPtrArray *cl_window_list_kept_runs (ClWindow *win);
guint cl_window_get_n_runs (ClWindow *win);
/* Writes the live run's new rows to the store now, on this thread (the window does it every
 * 3 s on a worker thread). */
void cl_window_record_runs_now (ClWindow *win);
/* The options a figure is drawn (and exported) with, overlays and comparison included. */
const ClFigureOptions *cl_window_get_figure_options (ClWindow *win, ClFigureKind kind);
/* TRUE while the status bar shows a probe in progress (training waits for linear probes). */
gboolean cl_window_is_probing (ClWindow *win);

/* cl_window.c */
/* TRUE when the dashboard (not one figure's tab) is the shown view. */
gboolean cl_window_dashboard_shown (ClWindow *win);
/* The snapshot the figures show (run A, else the live run), or NULL. Borrowed. */
const ClSnapshot *cl_window_shown_snapshot (ClWindow *win);
void cl_window_start_run (ClWindow *self);
void cl_window_load_or_complain (ClWindow *self, const char *name_or_file);
/* The sidebar's width in a window `width` wide: 300 px up to 1200 px, a quarter of wider windows
 * up to 440 px (from 1760 px), so that a run row's detail line and the A/B choosers are whole on a
 * large screen. */
int cl_window_sidebar_width_for (int width);
/* The "Restart to apply N changes" button, pinned below the controls list (tests look at it). */
GtkWidget *cl_window_get_restart_button (ClWindow *win);

/* cl_window_actions.c: installs every win.* action on the class. */
void cl_window_actions_init (GtkWidgetClass *widget_class);

/* cl_window_runs.c */
void cl_window_runs_apply_store_list (ClWindow *self, GPtrArray *list, char *current);
void cl_window_runs_refresh (ClWindow *self);
void cl_window_runs_init (ClWindow *self);
void cl_window_runs_dispose (ClWindow *self);

/* After a run left the list: the A/B choices point at what they hold (or at nothing). */
void cl_window_runs_sync_choices (ClWindow *self);
/* Points the figures at A, B and the ticked runs again (after a label changed, for the legends). */
void cl_window_runs_apply_comparison (ClWindow *self);

/* cl_window_replicates.c */
/* Finds the shown run's replicates again (after A, the list or the live run changed). */
void cl_window_replicates_update (ClWindow *self);
/* Cheap: updates only when the shown configuration changed since the last update. */
void cl_window_replicates_check (ClWindow *self);
/* How many replicates the probe chart draws now (tests). */
int cl_window_get_n_replicates (ClWindow *self);
void cl_window_replicates_dispose (ClWindow *self);

/* cl_window_history.c */
GMenuModel *cl_window_history_row_menu (ClRunEntry *e);
void cl_window_history_class_init (GtkWidgetClass *wc);
void cl_window_history_init (ClWindow *self);
void cl_window_history_dispose (ClWindow *self);
/* TRUE when the run of store id is deleted and waiting for its undo bar to close. */
gboolean cl_window_history_trash_pending (ClWindow *self, const char *id);
/* For tests, what the menu of a row and the filter entry do. */
gboolean cl_window_rename_run (ClWindow *self, const char *key, const char *label, GError **error);
gboolean cl_window_set_run_note (ClWindow *self, const char *key, const char *note, GError **error);
/* Takes the run out of the list and shows "… deleted [Undo]"; the folder goes to the trash
 * (g_file_trash) when the bar closes (10 s, another delete, the window closing). */
gboolean cl_window_trash_run (ClWindow *self, const char *key, GError **error);
void cl_window_undo_trash (ClWindow *self);
/* Moves a deleted run to the trash now. FALSE (the run back in the list) when it cannot be. */
gboolean cl_window_flush_trash (ClWindow *self, GError **error);
/* Filters the list: words match the run's name, parameters and note; key=value matches runs
 * whose run.ini has that value (data.bits=12). */
void cl_window_set_run_filter (ClWindow *self, const char *text);
/* The entries the list shows now, in order (ClRunEntry refs). */
GPtrArray *cl_window_shown_runs (ClWindow *self);

/* cl_window_recorder.c */
/* Opens the run store (FALSE with error when it cannot: the run list is then off). */
gboolean cl_window_recorder_init (ClWindow *self, GError **error);
void cl_window_recorder_dispose (ClWindow *self);
void cl_window_record_begin (ClWindow *self);
void cl_window_record_run (ClWindow *self, gboolean end);
gboolean cl_window_on_record_timer (gpointer data);

/* cl_window_status.c */
void cl_window_status_update (ClWindow *self, const ClSnapshot *s);
void cl_window_status_update_probe_bar (ClWindow *self, gint64 now, gboolean new_snapshot);
void cl_window_present_message (ClWindow *self, GtkMessageType type, const char *primary, const char *secondary);
void cl_window_show_notice (ClWindow *self, const char *text);

/* cl_window_presets.c */
typedef struct
{
  char *description, *try_this; /* [preset] description= and try= (NULL when absent) */
  double minutes;               /* [preset] minutes=, 0 when absent */
  gboolean is_sweep;            /* has a sweep= line: headless it runs a grid */
} ClPresetInfo;
/* The [preset] group of preset NAME; FALSE when it cannot be read. Clear with cl_preset_info_clear. */
gboolean cl_preset_info (const char *name, ClPresetInfo *info);
void cl_preset_info_clear (ClPresetInfo *info);
/* Loads a preset or file, asking first (discard / cancel) when run-setup changes are unapplied. */
void cl_window_request_load (ClWindow *self, const char *name_or_file);
void cl_window_presets_class_init (GtkWidgetClass *wc);
void cl_window_presets_init (ClWindow *self);
/* After the current preset changed: the button's name, the tick, the note. */
void cl_window_presets_update (ClWindow *self);
void cl_window_presets_dispose (ClWindow *self);

/* cl_window_export.c */
void cl_window_open_export_chooser (ClWindow *self, gboolean dashboard);
void cl_window_on_export_csv_response (GtkNativeDialog *dialog, int response, ClWindow *self);

G_END_DECLS
