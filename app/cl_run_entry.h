/* ClRunEntry: one row of the run list, a run kept by the window's store or read from an opened
 * folder. Its properties are the texts a row shows ("title", "summary", "detail", "note",
 * "tooltip"), the A/B drop-downs' text ("choice") and the row's tick ("overlay", "can-overlay");
 * they notify only when they change, so bound widgets redraw only then. GLib only. */
#pragma once
#include <glib-object.h>

#include "engine/store/cl_runs.h"
#include "engine/train/cl_snapshot.h"

G_BEGIN_DECLS

#define CL_TYPE_RUN_ENTRY (cl_run_entry_get_type ())
G_DECLARE_FINAL_TYPE (ClRunEntry, cl_run_entry, CL, RUN_ENTRY, GObject)

struct _ClRunEntry
{
  GObject parent_instance;
  ClRunInfo *info;
  char *key; /* store id, or the folder path of an opened run */
  gboolean from_store;
  gboolean recording; /* the live run being recorded now: drawn live, not from its files */
  gboolean overlay;
  ClSnapshot *snap;  /* read from its folder on first use */
  double class_read; /* final class probe read from probes.csv when the info has none */
  char *title, *summary, *detail;
  char *choice;   /* the A/B drop-downs' text: title · summary (the first item: its own text, info NULL) */
  char *note;     /* the run's note (note.txt in its folder), or NULL */
  char *tooltip;  /* everything the row says, the note, a damaged run's problem, the folder */
  char *ini_text; /* run.ini, read on first use by the filter */
};

/* The optional note beside run.ini in a run folder (UTF-8, trimmed; at most this many bytes read). */
#define CL_RUN_NOTE_FILE "note.txt"
#define CL_RUN_NOTE_MAX_BYTES (64 * 1024)

/* Takes info. key: the store id, or the folder path of an opened run. Reads the run's note. */
ClRunEntry *cl_run_entry_new (ClRunInfo *info, const char *key, gboolean from_store, gboolean recording);
/* The drop-downs' first item, which is no run ("Live run", "Nothing"): info NULL, choice = text. */
ClRunEntry *cl_run_entry_new_placeholder (const char *text);
/* Takes info. Updates the texts the list shows, notifying only what changed. */
void cl_run_entry_set_info (ClRunEntry *e, ClRunInfo *info, gboolean recording);
/* The run's name: its label, else its key. */
const char *cl_run_entry_label (const ClRunEntry *e);
/* The run's note (written by cl_window_history.c), NULL for none; the tooltip follows. */
void cl_run_entry_set_note (ClRunEntry *e, const char *note);
/* The run as a finished snapshot, read from its folder once (a finished run does not change). */
ClSnapshot *cl_run_entry_snapshot (ClRunEntry *e, GError **error);
/* The run's run.ini text, read on first use ("" when unreadable). */
const char *cl_run_entry_ini (ClRunEntry *e);
/* The note of the run in folder dir (dir/note.txt), or NULL when it has none. */
char *cl_run_note_read (const char *dir);

G_END_DECLS
